"""De-identification (course_utils.deid): crafted files with hidden identities, the messy
RSNA-shaped folder, the whole generated brain-mri-study, and DICOM conformance (dciodvfy)."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from course_utils import deid
from tests.messy_rsna import IDENTITIES, build_messy_rsna, identities_of

KEY = "test-key"
UID_PATTERN = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


@pytest.fixture(scope="module")
def messy_root(tmp_path_factory):
    return build_messy_rsna(tmp_path_factory.mktemp("messy") / "rsna")


def _hashes(folder: Path) -> dict:
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _crafted() -> Dataset:
    """An MR slice with identities hidden two sequences deep and in private tags."""
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.PatientName = "Hidden^Harriet"
    ds.PatientID = "SECRET-ID-991"
    ds.PatientBirthDate = "19491231"
    ds.InstitutionName = "Clandestine Clinic"
    inner = Dataset()
    inner.PersonName = "Whisper^Walter"
    inner.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    middle = Dataset()
    middle.ContentSequence = Sequence([inner])
    middle.PatientID = "SECRET-ID-991"
    ds.ReferencedImageSequence = Sequence([middle])
    block = ds.private_block(0x0011, "HIDDEN VENDOR", create=True)
    block.add_new(0x01, "LO", "Hidden^Harriet")
    block.add_new(0x02, "SQ", Sequence([Dataset()]))
    block[0x02].value[0].add_new(0x00111003, "LO", "SECRET-ID-991")
    ds.StudyDescription = "Follow-up of Hidden Harriet"
    return ds


# --------------------------------------------------------------------------- keyed mappings
def test_remap_uid_is_consistent_keyed_and_valid():
    uid = "1.2.840.113619.2.55.3.604688119.969.1268071029.320"
    first, again = deid.remap_uid(uid, key=KEY), deid.remap_uid(uid, key=KEY)
    assert first == again != uid
    assert deid.remap_uid(uid, key="another key") != first
    assert first.startswith("2.25.") and len(first) <= 64 and UID_PATTERN.match(first)


def test_key_validation():
    with pytest.raises(ValueError, match="key must not be empty"):
        deid.remap_uid("1.2.3", key="")
    with pytest.raises(TypeError, match="key must be a str or bytes"):
        deid.pseudonym_for("x", key=42)
    with pytest.raises(ValueError, match="uid must be a non-empty string"):
        deid.remap_uid("", key=KEY)


def test_pseudonyms_are_consistent_and_distinct():
    assert deid.pseudonym_for("A1", key=KEY) == deid.pseudonym_for("A1", key=KEY)
    assert deid.pseudonym_for("A1", key=KEY) != deid.pseudonym_for("A2", key=KEY)


# --------------------------------------------------------------------------- crafted data sets
def test_hidden_identities_are_found_then_removed():
    original = _crafted()
    identities = deid.collect_identities(original)
    values = {value for _label, value in identities}
    assert {"Hidden^Harriet", "SECRET-ID-991", "Whisper^Walter", "1.2.3.4.5.6.7.8.9"} <= values
    # the checker sees them in the original, including inside sequences and private tags
    places = {finding.where for finding in deid.find_identifiers(original, identities)}
    assert any("ContentSequence" in place for place in places)
    assert any("(0011,1001)" in place for place in places)
    assert any("(0011,1002)" in place and "(0011,1003)" in place for place in places)
    clean = deid.anonymise_dataset(original, key=KEY)
    assert deid.find_identifiers(clean, identities) == []
    assert original.PatientName == "Hidden^Harriet", "the input must not be modified"


def test_what_is_kept_and_what_is_recorded():
    original = _crafted()
    clean = deid.anonymise_dataset(original, key=KEY)
    for keyword in (
        "Rows",
        "Columns",
        "PixelSpacing",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "SliceThickness",
        "EchoTime",
        "RepetitionTime",
        "PixelData",
        "SOPClassUID",
    ):
        assert clean[keyword].value == original[keyword].value, keyword
    assert clean.PatientIdentityRemoved == "YES"
    assert clean.DeidentificationMethod
    codes = [item.CodeValue for item in clean.DeidentificationMethodCodeSequence]
    assert codes[0] == "113100" and "113107" in codes
    assert clean.PatientBirthDate == "" and "PatientBirthDate" in clean  # Type 2: kept, emptied
    assert not any(element.tag.is_private for element in clean.iterall())
    assert clean.StudyDescription == f"Follow-up of {clean.PatientID}"  # Clean Descriptors Option
    assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
    inner_uid = clean.ReferencedImageSequence[0].ContentSequence[0].ReferencedSOPInstanceUID
    assert inner_uid == deid.remap_uid("1.2.3.4.5.6.7.8.9", key=KEY)


def test_dates_shift_keeps_intervals_or_are_removed():
    original = _crafted()
    original.StudyDate, original.ContentDate = "20200101", "20200111"
    shifted = deid.anonymise_dataset(original, key=KEY)
    study = np.datetime64(
        f"{shifted.StudyDate[:4]}-{shifted.StudyDate[4:6]}-{shifted.StudyDate[6:]}"
    )
    content = np.datetime64(
        f"{shifted.ContentDate[:4]}-{shifted.ContentDate[4:6]}-{shifted.ContentDate[6:]}"
    )
    assert shifted.StudyDate != "20200101" and (content - study).astype(int) == 10
    assert shifted.LongitudinalTemporalInformationModified == "MODIFIED"
    removed = deid.anonymise_dataset(original, key=KEY, dates="remove")
    assert removed.StudyDate == "" and removed.StudyTime == ""
    assert removed.LongitudinalTemporalInformationModified == "REMOVED"
    with pytest.raises(ValueError, match="dates must be"):
        deid.anonymise_dataset(original, key=KEY, dates="blur")


def test_options_change_the_recorded_method():
    original = _crafted()
    original.PatientAge, original.PatientSex = "071Y", "F"
    kept = deid.anonymise_dataset(original, key=KEY, keep_patient_characteristics=True)
    assert kept.PatientAge == "071Y" and kept.PatientSex == "F"
    assert "113108" in [item.CodeValue for item in kept.DeidentificationMethodCodeSequence]
    strict = deid.anonymise_dataset(original, key=KEY, keep_descriptions=False)
    assert "StudyDescription" not in strict and "PatientAge" not in strict
    assert (
        deid.anonymise_dataset(original, key=KEY, pseudonyms={"SECRET-ID-991": "00042"}).PatientID
        == "00042"
    )


def test_find_identifiers_searches_raw_bytes_and_handles_bad_input(tmp_path):
    path = tmp_path / "named.dcm"
    ds = _crafted()
    ds.save_as(path, enforce_file_format=True)
    findings = deid.find_identifiers(path, ["SECRET-ID-991"])
    assert findings and all("SECRET-ID-991" == finding.value for finding in findings)
    assert "SECRET" in str(findings[0])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        deid.find_identifiers(tmp_path / "missing.dcm", ["x"])
    (tmp_path / "text.dcm").write_text("plain text")
    with pytest.raises(ValueError, match="not a DICOM file"):
        deid.find_identifiers(tmp_path / "text.dcm", ["x"])
    with pytest.raises(TypeError, match="identities"):
        deid.find_identifiers(path, "SECRET-ID-991")
    with pytest.raises(TypeError, match="Dataset or a file path"):
        deid.find_identifiers(42, ["x"])
    with pytest.raises(TypeError, match="pydicom Dataset"):
        deid.anonymise_dataset({"PatientName": "x"}, key=KEY)


# --------------------------------------------------------------------------- files and trees
def test_anonymise_file_refuses_in_place_and_bad_input(tmp_path):
    source = tmp_path / "mr.dcm"
    shutil.copy(get_testdata_file("MR_small.dcm"), source)
    with pytest.raises(ValueError, match="in place"):
        deid.anonymise_file(source, source, key=KEY)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        deid.anonymise_file(tmp_path / "none.dcm", tmp_path / "out.dcm", key=KEY)
    (tmp_path / "text.dcm").write_text("plain text")
    with pytest.raises(ValueError, match="not a DICOM file"):
        deid.anonymise_file(tmp_path / "text.dcm", tmp_path / "out.dcm", key=KEY)
    info = deid.anonymise_file(source, tmp_path / "out" / "mr.dcm", key=KEY)
    assert Path(info["output"]).is_file() and not list((tmp_path / "out").glob(".*partial"))


def test_anonymise_tree_refuses_overlapping_folders(messy_root, tmp_path):
    train = messy_root / "train"
    for target in (train, train / "anon", messy_root):
        with pytest.raises(ValueError, match="overlaps"):
            deid.anonymise_tree(train, target, key=KEY, progress=False)
    with pytest.raises(FileNotFoundError, match="not an existing folder"):
        deid.anonymise_tree(tmp_path / "none", tmp_path / "out", key=KEY, progress=False)
    with pytest.raises(TypeError, match="unknown option"):
        deid.anonymise_tree(train, tmp_path / "out", key=KEY, progress=False, colour="red")


def test_messy_tree_reports_bad_files_and_leaks_nothing(messy_root, tmp_path):
    train = messy_root / "train"
    before = _hashes(messy_root)
    out = tmp_path / "anon"
    report = deid.anonymise_tree(train, out, key=KEY, progress=False)
    assert _hashes(messy_root) == before, "the input folder changed"
    failed = report[~report.written]
    assert len(failed) == 5 and (failed.error != "").all()
    assert set(failed.path) >= {"00002/T2w/Image-4.dcm", "00003/FLAIR/Image-13.dcm", "Thumbs.db"}
    written = report[report.written]
    per_patient = (
        written.assign(patient=written.path.str[:5]).groupby("patient").patient_pseudonym.nunique()
    )
    assert (per_patient == 1).all(), "one pseudonym per patient"
    assert written.groupby(written.path.str[:5]).patient_pseudonym.first().nunique() == len(
        IDENTITIES
    )
    for relative in written.path:
        patient = relative[:5]
        identities = identities_of(patient)
        identities.update(dict(deid.collect_identities(train / relative)))
        assert deid.find_identifiers(out / relative, identities) == [], relative
    # compressed pixel data are carried over untouched (still JPEG-LS, still RLE)
    assert pydicom.dcmread(
        out / "00002/T1wCE/Image-1.dcm"
    ).file_meta.TransferSyntaxUID.name.startswith("JPEG-LS")
    source = pydicom.dcmread(train / "00000/T2w/Image-3.dcm")
    result = pydicom.dcmread(out / "00000/T2w/Image-3.dcm")
    assert np.array_equal(source.pixel_array, result.pixel_array)
    # series stay series: one output SeriesInstanceUID per input series
    uids = {
        pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID
        for p in (out / "00000/T1w").glob("*.dcm")
    }
    assert len(uids) == 1


# --------------------------------------------------------------------------- conformance
def _dciodvfy_errors(path: Path) -> list[str]:
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")
    ]


@pytest.fixture(scope="module")
def dciodvfy():
    if shutil.which("dciodvfy") is None:
        pytest.skip(
            "dciodvfy (Debian package dicom3tools) is not installed; `apt-get install dicom3tools` to run the conformance tests"
        )
    return _dciodvfy_errors


def test_messy_outputs_pass_dciodvfy(messy_root, tmp_path, dciodvfy):
    out = tmp_path / "anon"
    files = [
        messy_root / "train" / rel
        for rel in ("00000/T1w/Image-1.dcm", "00000/T2w/Image-2.dcm", "00003/T2w/Image-5.dcm")
    ]
    deid.anonymise_tree(messy_root / "train", out, key=KEY, files=files, progress=False)
    for path in sorted(out.rglob("*.dcm")):
        assert dciodvfy(path) == [], path


# --------------------------------------------------------------------------- the whole generated study
@pytest.fixture(scope="module")
def study():
    from course_utils.data import dataset_path

    return dataset_path("brain-mri-study")


def _leaks(item: tuple) -> list[str]:
    """Findings for one (source, output, patient identities) triple; top level so processes can run it."""
    source, output, patient_identities = item
    identities = dict(deid.collect_identities(source))
    identities.update(patient_identities)
    return [str(finding) for finding in deid.find_identifiers(output, identities)]


@pytest.mark.slow
@pytest.mark.extended  # ~30 s on 2 processes; the messy-tree test covers the same paths in make test
def test_whole_generated_study_leaks_nothing(study, tmp_path_factory):
    from course_utils.parallel import parallel_map

    train = study / "train"
    out = tmp_path_factory.mktemp("anon-study") / "train"
    report = deid.anonymise_tree(
        train, out, key=KEY, scheduler="processes", n_workers=2, progress=False
    )
    assert report.written.sum() >= len(report) - 3, report[~report.written]
    written = report[report.written]
    first_file = written.groupby(written.path.str.split("/").str[0]).path.first()
    per_patient = {
        patient: {f"patient {k}": v for k, v in deid.collect_identities(train / path)}
        for patient, path in first_file.items()
    }
    items = [
        (str(train / path), str(out / path), per_patient[path.split("/")[0]])
        for path in written.path
    ]
    leaks = parallel_map(_leaks, items, scheduler="processes", n_workers=2, progress=False)
    leaking = {path: found for path, found in zip(written.path, leaks, strict=True) if found}
    assert not leaking, f"{len(leaking)} files leak, e.g. {next(iter(leaking.items()))}"
    pseudonyms = written.groupby(written.path.str.split("/").str[0]).patient_pseudonym
    assert (pseudonyms.nunique() == 1).all(), "one pseudonym per patient"
    assert pseudonyms.first().nunique() == len(pseudonyms.first()), (
        "different patients, different pseudonyms"
    )


@pytest.mark.slow
def test_generated_outputs_pass_dciodvfy(study, tmp_path, dciodvfy):
    train = study / "train"
    files = [
        next((train / patient.name / sequence).glob("*.dcm"))
        for patient in sorted(train.iterdir())[:2]
        for sequence in ("FLAIR", "T1wCE")
        if (train / patient.name / sequence).is_dir()
        and any((train / patient.name / sequence).glob("*.dcm"))
    ]
    deid.anonymise_tree(train, tmp_path / "anon", key=KEY, files=files, progress=False)
    outputs = sorted((tmp_path / "anon").rglob("*.dcm"))
    assert outputs
    for path in outputs:
        assert dciodvfy(path) == [], path


def test_crafted_output_keeps_pixels_bit_exact(tmp_path):
    source = tmp_path / "src.dcm"
    _crafted().save_as(source, enforce_file_format=True)
    deid.anonymise_file(source, tmp_path / "dst.dcm", key=KEY)
    original, result = pydicom.dcmread(source), pydicom.dcmread(tmp_path / "dst.dcm")
    assert np.array_equal(original.pixel_array, result.pixel_array)
    assert copy.deepcopy(result).PatientIdentityRemoved == "YES"
