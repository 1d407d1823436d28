"""De-identified copies of real DICOM files have no dciodvfy error their originals lack.

Lesson 03 de-identifies with ``course_utils.deid``. Here it runs on every
pydicom and pydicom-data test file that holds an image (ultrasound greyscale,
RGB, palette and 30-/120-frame cines, secondary captures, enhanced MR/CT,
segmentations, radiographs...), on a sample of the course's generated MR, and
on an animal patient (where the Patient module makes ResponsiblePerson,
ResponsibleOrganization and PatientSexNeutered Type 2C). Also: the
BurnedInAnnotation report and the whole-word identifier search.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pydicom
import pydicom.data
import pytest

from course_utils import data, deid

KEY = "lesson03-real-files"

# pydicom warns about the deliberately odd values of its own test files
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _local_test_files() -> list[Path]:
    """pydicom's and pydicom-data's files on disk (never pydicom's downloader)."""
    folders = [Path(pydicom.data.__file__).parent / "test_files"]
    folders.append(data.sample_path("693_UNCI.dcm").parent)  # pydicom-data's data_store
    paths = []
    for folder in folders:
        for path in sorted(folder.rglob("*.dcm")):
            try:
                header = pydicom.dcmread(path, stop_before_pixels=True)
                header.file_meta.MediaStorageSOPClassUID  # noqa: B018 - a real Part 10 file
            except Exception:
                continue
            if "Rows" in header and (
                "PixelData" in pydicom.dcmread(path) or "FloatPixelData" in header
            ):
                paths.append(path)
    return paths


def _errors(path: Path) -> set[str]:
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=120)
    lines = (result.stdout + result.stderr).splitlines()
    return {re.sub(r"\s+", " ", line) for line in lines if line.startswith("Error")}


@pytest.fixture(scope="module")
def dciodvfy():
    if shutil.which("dciodvfy") is None:
        pytest.skip(
            "dciodvfy (Debian package dicom3tools) is not installed; "
            "`apt-get install dicom3tools` to run the conformance tests"
        )
    return _errors


def _new_errors(source: Path, output: Path, dciodvfy) -> set[str]:
    return dciodvfy(output) - dciodvfy(source)


@pytest.mark.slow
def test_real_test_files_gain_no_dciodvfy_error(tmp_path, dciodvfy):
    sources = _local_test_files()
    modalities = set()
    new, written = {}, 0
    for index, source in enumerate(sources):
        output = tmp_path / f"{index:03d}_{source.name}"
        try:
            info = deid.anonymise_file(source, output, key=KEY)
        except ValueError:
            continue  # truncated or unreadable test files are refused, by design
        written += 1
        header = pydicom.dcmread(source, stop_before_pixels=True)
        modalities.add(str(header.get("Modality", "")))
        assert isinstance(info["needs_pixel_review"], bool)
        gained = _new_errors(source, output, dciodvfy)
        if gained:
            new[source.name] = sorted(gained)
    assert written > 80, f"only {written} real files de-identified"
    assert {"US", "MR", "CT", "OT"} <= modalities
    assert not new, f"{len(new)} files gain dciodvfy errors: " + "; ".join(
        f"{name}: {errors[0]}" for name, errors in list(new.items())[:5]
    )


def test_ultrasound_rgb_and_multiframe_are_covered():
    names = {path.name for path in _local_test_files()}
    assert {"US1_UNCR.dcm", "examples_ybr_color.dcm", "emri_small.dcm"} <= names


def _animal(tmp_path: Path) -> Path:
    source = sorted(
        (data.dataset_path("brain-mri-study") / "train" / "00001" / "T1w").glob("*.dcm")
    )[0]
    dataset = pydicom.dcmread(source)
    dataset.PatientSpeciesDescription = "Canine species"
    dataset.PatientBreedDescription = "Beagle"
    dataset.PatientBreedCodeSequence = []
    dataset.BreedRegistrationSequence = []
    dataset.ResponsiblePerson = "Barker^Olivia"
    dataset.ResponsiblePersonRole = "OWNER"
    dataset.ResponsibleOrganization = "Example Kennel Club"
    dataset.PatientSexNeutered = "ALTERED"
    path = tmp_path / "animal.dcm"
    dataset.save_as(path, enforce_file_format=True)
    return path


def test_animal_patient_keeps_type_2c_attributes_empty(tmp_path):
    source = _animal(tmp_path)
    output = tmp_path / "animal_anon.dcm"
    deid.anonymise_file(source, output, key=KEY)
    clean = pydicom.dcmread(output)
    for keyword in ("ResponsiblePerson", "ResponsibleOrganization", "PatientSexNeutered"):
        assert keyword in clean, f"{keyword} deleted although the IOD requires it for an animal"
        assert not str(clean[keyword].value or ""), keyword
    assert not deid.find_identifiers(output, deid.collect_identities(source))
    # a human patient still loses them (Type 3 there)
    human = pydicom.dcmread(source)
    del human.PatientSpeciesDescription
    cleaned = deid.anonymise_dataset(human, key=KEY)
    assert "ResponsiblePerson" not in cleaned and "PatientSexNeutered" not in cleaned


def test_animal_patient_gains_no_dciodvfy_error(tmp_path, dciodvfy):
    source = _animal(tmp_path)
    output = tmp_path / "animal_anon.dcm"
    deid.anonymise_file(source, output, key=KEY)
    assert not _new_errors(source, output, dciodvfy)


def test_enhanced_objects_keep_a_dummy_device_serial_number():
    source = pydicom.data.get_testdata_file("emri_small.dcm")
    original = pydicom.dcmread(source)
    clean = deid.anonymise_dataset(original, key=KEY)
    if "DeviceSerialNumber" in original:
        assert str(clean.DeviceSerialNumber) == deid.DUMMY_VALUE


@pytest.mark.slow
def test_generated_sample_gains_no_dciodvfy_error(tmp_path, dciodvfy):
    train = data.dataset_path("brain-mri-study") / "train"
    files = [
        next((train / patient / sequence).glob("*.dcm"))
        for patient in ("00001", "00002")
        for sequence in ("FLAIR", "T1wCE")
    ]
    report = deid.anonymise_tree(train, tmp_path / "anon", key=KEY, files=files, progress=False)
    assert report["written"].all()
    for relative in report["path"]:
        assert not _new_errors(train / relative, tmp_path / "anon" / relative, dciodvfy), relative


def test_burned_in_annotation_is_reported(tmp_path):
    train = tmp_path / "train"
    source = sorted(
        (data.dataset_path("brain-mri-study") / "train" / "00001" / "T1w").glob("*.dcm")
    )[:3]
    for index, path in enumerate(source):
        dataset = pydicom.dcmread(path)
        dataset.BurnedInAnnotation = ["YES", "NO", None][index]
        if dataset.BurnedInAnnotation is None:
            del dataset.BurnedInAnnotation
            dataset.Modality = "US"
        (train / "x").mkdir(parents=True, exist_ok=True)
        dataset.save_as(train / "x" / f"{index}.dcm", enforce_file_format=True)
    report = deid.anonymise_tree(train, tmp_path / "anon", key=KEY, progress=False).set_index(
        "path"
    )
    assert report.loc["x/0.dcm", "burned_in_annotation"] == "YES"
    assert report["needs_pixel_review"].to_dict() == {
        "x/0.dcm": True,
        "x/1.dcm": False,
        "x/2.dcm": True,
    }
    assert deid.needs_pixel_review("", "MR") is False


def test_find_identifiers_matches_whole_words():
    dataset = pydicom.Dataset()
    dataset.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    dataset.PatientName = "Smith^Mary"
    dataset.StudyDescription = "Brain for MARY"
    found = deid.find_identifiers(dataset, [("PatientName part", "MARY")])
    places = {finding.where.split(" ", 1)[1] for finding in found}
    assert places == {"PatientName", "StudyDescription"}, places
    # the Clean Descriptors option replaces whole words only
    clean = deid.anonymise_dataset(dataset, key=KEY)
    assert list(clean.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert "MARY" not in str(clean.StudyDescription).upper()
