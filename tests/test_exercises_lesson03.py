"""Checks of lesson 03's exercises: right and wrong answers, stubs, and bad input."""

from __future__ import annotations

import copy
import warnings

import pandas as pd
import pydicom
import pytest

from course_utils import deid
from course_utils.exercises import lesson03
from course_utils.scan import scan_headers
from tests.messy_rsna import build_messy_rsna


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return build_messy_rsna(tmp_path_factory.mktemp("messy") / "rsna")


@pytest.fixture(scope="module")
def table(messy):
    return scan_headers(messy / "train", progress=False)


def _stub(*_args):
    raise NotImplementedError


# --------------------------------------------------------------------------- exercise 1
def test_incomplete_patients_reference(table):
    # 00003's FLAIR has a zero-byte file but 12 readable ones: complete; every patient has 4 series
    assert lesson03.reference_incomplete_patients(table) == set()
    reduced = table[~((table.patient == "00002") & (table.sequence == "T1wCE"))]
    assert lesson03.reference_incomplete_patients(reduced) == {"00002"}


def test_incomplete_patients_right_and_wrong(table, capsys):
    reduced = table[~((table.patient == "00002") & (table.sequence == "T1wCE"))]
    assert lesson03.check_incomplete_patients({"00002"}, reduced)
    assert lesson03.check_incomplete_patients(lambda t: {"00002"}, reduced)
    assert not lesson03.check_incomplete_patients({2}, reduced)
    assert "leading zeros" in capsys.readouterr().out
    assert not lesson03.check_incomplete_patients(set(), reduced)
    assert "readable" in capsys.readouterr().out
    assert not lesson03.check_incomplete_patients({"00002", "00000"}, reduced)
    assert "should not be there" in capsys.readouterr().out
    assert not lesson03.check_incomplete_patients(None, reduced)
    assert not lesson03.check_incomplete_patients("00002", reduced)
    assert not lesson03.check_incomplete_patients(_stub, reduced)
    assert "not implemented" in capsys.readouterr().out


def test_incomplete_patients_counts_unreadable_series(table):
    broken = table.copy()
    broken.loc[(broken.patient == "00000") & (broken.sequence == "T2w"), "readable"] = False
    assert lesson03.reference_incomplete_patients(broken) == {"00000"}


# --------------------------------------------------------------------------- exercise 2
def _summary(table):
    readable = table[table.readable & table.sequence.isin(lesson03._SEQUENCES)]
    counts = readable.groupby(["sequence", "patient"]).size()
    return counts.groupby(level="sequence").agg(["min", "median", "max"])


def test_slice_counts_right_and_wrong(table, capsys):
    assert lesson03.check_slice_counts(_summary(table), table)
    assert lesson03.check_slice_counts(_summary, table)
    all_files = table[table.sequence != ""].groupby(["sequence", "patient"]).size()
    too_many = all_files.groupby(level="sequence").agg(["min", "median", "max"])
    assert not lesson03.check_slice_counts(too_many, table)
    assert "too high" in capsys.readouterr().out
    assert not lesson03.check_slice_counts(_summary(table)[["min", "max"]], table)
    assert "missing column" in capsys.readouterr().out
    assert not lesson03.check_slice_counts(_summary(table)["median"], table)
    assert not lesson03.check_slice_counts(_summary(table).iloc[:2], table)
    assert "one row per sequence" in capsys.readouterr().out
    assert not lesson03.check_slice_counts(None, table)
    assert not lesson03.check_slice_counts(_stub, table)


def test_checks_reject_a_table_that_is_not_a_scan():
    with pytest.raises(TypeError, match="scan_table must be the pandas DataFrame"):
        lesson03.check_slice_counts(None, [1, 2])
    with pytest.raises(ValueError, match="lacks column"):
        lesson03.check_incomplete_patients(set(), pd.DataFrame({"patient": ["1"]}))


# --------------------------------------------------------------------------- exercise 3
def test_deidentified_right_and_wrong(messy, capsys):
    path = messy / "train" / "00000" / "T1w" / "Image-3.dcm"
    assert lesson03.check_deidentified(lambda ds: deid.anonymise_dataset(ds, key="k"), path)

    def names_only(ds):
        clean = copy.deepcopy(ds)
        clean.PatientName = "ANON"
        clean.PatientIdentityRemoved = "YES"
        return clean

    assert not lesson03.check_deidentified(names_only, path)
    assert "survive" in capsys.readouterr().out

    def in_place(ds):
        ds.PatientName = "ANON"
        return deid.anonymise_dataset(ds, key="k")

    assert not lesson03.check_deidentified(in_place, path)
    assert "modified the dataset" in capsys.readouterr().out

    def geometry_lost(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        clean.PixelSpacing = [1, 1]
        return clean

    assert not lesson03.check_deidentified(geometry_lost, path)
    assert "PixelSpacing" in capsys.readouterr().out

    def unflagged(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        del clean.PatientIdentityRemoved
        return clean

    assert not lesson03.check_deidentified(unflagged, path)
    assert "PatientIdentityRemoved" in capsys.readouterr().out
    assert not lesson03.check_deidentified(lambda ds: None, path)
    assert not lesson03.check_deidentified(lambda ds: "text", path)
    assert not lesson03.check_deidentified(_stub, path)
    assert "not implemented" in capsys.readouterr().out


def test_deidentified_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lesson03.check_deidentified(lambda ds: ds, tmp_path / "nothing.dcm")


def test_pixels_changed_is_caught(messy, capsys):
    path = messy / "train" / "00000" / "T1w" / "Image-3.dcm"

    def blanked(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        clean.PixelData = bytes(len(clean.PixelData))
        return clean

    assert not lesson03.check_deidentified(blanked, path)
    assert "pixel data" in capsys.readouterr().out
    assert pydicom.dcmread(path).PatientName == "Quixote^Alonso"


# --------------------------------------------------------------------------- exercise 3 on several files
def _series_files(messy):
    return sorted((messy / "train" / "00000" / "T1w").glob("Image-*.dcm"))[:4]


def test_deidentified_requires_consistent_valid_uids_and_a_method(messy, capsys):
    from pydicom.uid import generate_uid

    files = _series_files(messy)
    assert len(files) >= 3
    assert lesson03.check_deidentified(lambda ds: deid.anonymise_dataset(ds, key="k"), files)

    def random_uids(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
            if keyword in clean:
                setattr(clean, keyword, generate_uid())
        return clean

    assert not lesson03.check_deidentified(random_uids, files)
    assert "splits the series" in capsys.readouterr().out

    def blank_uids(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        clean.SeriesInstanceUID = ""
        return clean

    assert not lesson03.check_deidentified(blank_uids, files)
    out = capsys.readouterr().out
    assert "SeriesInstanceUID is empty" in out and "do not blank them" in out

    def invalid_uids(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about the invalid value, as it should
            clean.StudyInstanceUID = "ANON.01.2"
        return clean

    assert not lesson03.check_deidentified(invalid_uids, files)
    assert "not a valid UID" in capsys.readouterr().out

    def no_method(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        del clean.DeidentificationMethod
        del clean.DeidentificationMethodCodeSequence
        return clean

    assert not lesson03.check_deidentified(no_method, files)
    assert "does not say how" in capsys.readouterr().out

    def one_sop_uid(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        clean.SOPInstanceUID = clean.file_meta.MediaStorageSOPInstanceUID = "2.25.1"
        return clean

    assert not lesson03.check_deidentified(one_sop_uid, files)
    assert "same SOPInstanceUID" in capsys.readouterr().out

    counter = iter(range(100))

    def new_patient_each_file(ds):
        clean = deid.anonymise_dataset(ds, key="k")
        clean.PatientID = f"ANON{next(counter)}"
        return clean

    assert not lesson03.check_deidentified(new_patient_each_file, files)
    assert "different PatientIDs" in capsys.readouterr().out


def test_notebook_solution_style_answer_passes(messy):
    """A hand-written answer like the lesson's (derived UIDs, emptied names) passes on several files."""
    from pydicom.uid import generate_uid

    def by_hand(dataset):
        clean = copy.deepcopy(dataset)
        clean.remove_private_tags()

        def scrub(ds, element):
            if element.VR in ("PN", "DA", "DT") or element.keyword in {
                "PatientID",
                "AccessionNumber",
                "InstitutionName",
                "InstitutionAddress",
                "StationName",
                "DeviceSerialNumber",
                "RequestedProcedureID",
                "ScheduledProcedureStepID",
                "StudyID",
                "IssuerOfPatientID",
                "OtherPatientIDs",
            }:
                element.value = ""
            elif element.VR == "UI" and element.keyword not in (
                "SOPClassUID",
                "ReferencedSOPClassUID",
            ):
                element.value = generate_uid(entropy_srcs=["secret", str(element.value)])

        clean.walk(scrub)
        clean.file_meta.MediaStorageSOPInstanceUID = clean.SOPInstanceUID
        clean.PatientID = clean.PatientName = "ANON0001"
        clean.PatientIdentityRemoved = "YES"
        clean.DeidentificationMethod = "by hand"
        return clean

    assert lesson03.check_deidentified(by_hand, _series_files(messy))


# --------------------------------------------------------------------------- header reader
def _good_reader(path):
    import os

    result = {"readable": False, "problem": "", "rows": None, "columns": None}
    result.update(series_description=None, repetition_time_ms=None)
    result.update(echo_time_ms=None, inversion_time_ms=None)
    size = os.path.getsize(path)
    if size == 0:
        return {**result, "problem": "empty"}
    try:
        with open(path, "rb") as handle:
            header = pydicom.dcmread(handle, stop_before_pixels=True)
            start = handle.tell()
    except Exception as exc:
        return {**result, "problem": type(exc).__name__}
    for key, keyword in [
        ("repetition_time_ms", "RepetitionTime"),
        ("echo_time_ms", "EchoTime"),
        ("inversion_time_ms", "InversionTime"),
    ]:
        value = header.get(keyword)
        result[key] = None if value is None else float(value)
    result.update(
        series_description=header.get("SeriesDescription"),
        rows=header.get("Rows"),
        columns=header.get("Columns"),
    )
    promised = header.Rows * header.Columns * header.BitsAllocated // 8
    if size - start - 12 < promised:
        return {**result, "problem": "truncated"}
    return {**result, "readable": True}


@pytest.fixture(scope="module")
def study_file():
    from course_utils import data

    return sorted(
        (data.dataset_path("brain-mri-study") / "train" / "00001" / "FLAIR").glob("*.dcm")
    )[0]


def test_header_reader_right_and_wrong(study_file, capsys):
    assert lesson03.check_header_reader(_good_reader, study_file)

    def no_truncation_test(path):
        result = _good_reader(path)
        if result["problem"] == "truncated":
            result.update(readable=True, problem="")
        return result

    assert not lesson03.check_header_reader(no_truncation_test, study_file)
    out = capsys.readouterr().out
    assert "truncated file is not reported" in out and "bytes left" in out

    def attribute_access(path):
        result = _good_reader(path)
        if result["readable"]:
            header = pydicom.dcmread(path, stop_before_pixels=True)
            result["repetition_time_ms"] = float(header.RepetitionTime)
        return result

    assert not lesson03.check_header_reader(attribute_access, study_file)
    assert "without SeriesDescription" in capsys.readouterr().out

    def no_try(path):
        header = pydicom.dcmread(path, stop_before_pixels=True)
        return {"readable": True, "problem": "", "rows": header.Rows}

    assert not lesson03.check_header_reader(no_try, study_file)
    assert "instead of reporting it" in capsys.readouterr().out

    def whole_file(path):
        result = _good_reader(path)
        if result["readable"]:
            pydicom.dcmread(path)
        return result

    assert not lesson03.check_header_reader(whole_file, study_file)
    assert "pixel data included" in capsys.readouterr().out

    def zero_for_missing(path):
        result = _good_reader(path)
        for key in ("repetition_time_ms", "echo_time_ms", "inversion_time_ms"):
            if result[key] is None:
                result[key] = 0.0
        return result

    assert not lesson03.check_header_reader(zero_for_missing, study_file)
    assert "absent tag is None" in capsys.readouterr().out
    assert not lesson03.check_header_reader(_stub, study_file)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError):
        lesson03.check_header_reader(_good_reader, study_file.with_name("nothing.dcm"))


# --------------------------------------------------------------------------- sequence cross-check
def test_sequence_cross_check_reference():
    held_out = lesson03.held_out_series()
    assert lesson03.reference_sequence_mismatches(held_out) == {
        ("10003", "FLAIR"),
        ("10003", "T1w"),
    }


def test_sequence_cross_check_right_and_wrong(capsys):
    table = lesson03.held_out_series()
    assert lesson03.check_sequence_mismatches(lesson03.reference_sequence_mismatches, table)

    def exact_names(t):
        return {
            (r.patient, r.sequence)
            for r in t.itertuples()
            if isinstance(r.series_description, str)
            and r.series_description
            and r.series_description != r.sequence
        }

    assert not lesson03.check_sequence_mismatches(exact_names, table)
    assert "look for the sequence's name inside the description" in capsys.readouterr().out

    def description_only(t):
        found = set()
        for r in t.itertuples():
            named = lesson03.sequence_from_description(r.series_description)
            if named is not None and named != r.sequence:
                found.add((r.patient, r.sequence))
        return found

    assert not lesson03.check_sequence_mismatches(description_only, table)
    assert "can still be checked by its TR, TE and TI" in capsys.readouterr().out

    def t1_by_timing(t):
        found = lesson03.reference_sequence_mismatches(t)
        for r in t.itertuples():
            if r.repetition_time_ms < 1000 and r.sequence == "T1wCE":
                found.add((r.patient, r.sequence))
        return found

    assert not lesson03.check_sequence_mismatches(t1_by_timing, table)
    assert "cannot tell T1w from T1wCE" in capsys.readouterr().out

    def flags_unknown(t):
        found = lesson03.reference_sequence_mismatches(t)
        return found | {("10002", "T2w")}

    assert not lesson03.check_sequence_mismatches(flags_unknown, table)
    assert "cannot check is 'unknown'" in capsys.readouterr().out

    def crashes_on_nan(t):
        return {(r.patient, r.sequence) for r in t.itertuples() if int(r.inversion_time_ms) > 0}

    assert not lesson03.check_sequence_mismatches(crashes_on_nan, table)
    assert "raised ValueError" in capsys.readouterr().out
    assert not lesson03.check_sequence_mismatches(_stub, table)
    with pytest.raises(ValueError, match="lacks column"):
        lesson03.check_sequence_mismatches(exact_names, table.drop(columns=["echo_time_ms"]))
