"""Checks of lesson 03's exercises: right and wrong answers, stubs, and bad input."""

from __future__ import annotations

import copy
import re
import warnings

import pandas as pd
import pydicom
import pytest

from course_utils import deid, scan
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
    assert lesson03.check_incomplete_patients(lesson03.reference_incomplete_patients, reduced)
    assert not lesson03.check_incomplete_patients(lambda t: {"00002"}, reduced)  # held-out fails
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
    counts = readable.groupby(["sequence", "patient", "series_uid"]).size()
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


def test_slice_counts_likely_wrong_functions(table, capsys):
    def ignores_readable(t):
        counts = t[t.sequence.isin(lesson03._SEQUENCES)].groupby(["sequence", "patient"]).size()
        return counts.groupby(level="sequence").agg(["min", "median", "max"])

    assert not lesson03.check_slice_counts(ignores_readable, table)
    assert "Count only readable files" in capsys.readouterr().out

    def ignores_readable_by_uid(t):
        counts = t[t.sequence.isin(lesson03._SEQUENCES)].groupby(["sequence", "series_uid"]).size()
        return counts.groupby(level="sequence").agg(["min", "median", "max"])

    assert not lesson03.check_slice_counts(ignores_readable_by_uid, table)
    assert "Count only readable files" in capsys.readouterr().out

    def per_folder(t):  # the groupby of the lesson's cell, on a table where folders hold 2 series
        readable = t[t.readable & t.sequence.isin(lesson03._SEQUENCES)]
        counts = readable.groupby(["sequence", "patient"]).size()
        return counts.groupby(level="sequence").agg(["min", "median", "max"])

    assert not lesson03.check_slice_counts(per_folder, table)
    out = capsys.readouterr().out
    assert "per folder, not per series" in out and "series_uid" in out

    def largest_instance(t):
        readable = t[t.readable & t.sequence.isin(lesson03._SEQUENCES)]
        counts = readable.groupby(["sequence", "series_uid"])["instance"].max().astype(float)
        return counts.groupby(level="sequence").agg(["min", "median", "max"])

    assert not lesson03.check_slice_counts(largest_instance, table)
    assert "labels, not counts" in capsys.readouterr().out

    def largest_instance_per_folder(t):
        readable = t[t.readable & t.sequence.isin(lesson03._SEQUENCES)]
        counts = readable.groupby(["sequence", "patient"])["instance"].max().astype(float)
        return counts.groupby(level="sequence").agg(["min", "median", "max"])

    assert not lesson03.check_slice_counts(largest_instance_per_folder, table)
    out = capsys.readouterr().out
    assert "labels, not counts" in out
    for number in ("12.0", "30.0", "36.0", "29.0"):  # the reference values are never shown
        assert number not in out

    def mean_not_median(t):
        return _summary(t).assign(median=lambda d: _counts(t).groupby(level="sequence").mean())

    assert not lesson03.check_slice_counts(mean_not_median, table)
    assert "not their mean" in capsys.readouterr().out

    def pivot_with_zeros(t):
        readable = t[t.readable & t.sequence.isin(lesson03._SEQUENCES)]
        pivot = readable.pivot_table(
            index="patient", columns="sequence", values="path", aggfunc="size", fill_value=0
        )
        summary = pivot.agg(["min", "median", "max"]).T
        summary.index.name = "sequence"
        return summary

    assert not lesson03.check_slice_counts(pivot_with_zeros, table)
    out = capsys.readouterr().out
    assert "not a series with 0 slices" in out and "DataFrame.iloc" not in out


def _counts(t):
    readable = t[t.readable & t.sequence.isin(lesson03._SEQUENCES)]
    return readable.groupby(["sequence", "patient", "series_uid"]).size()


def test_incomplete_patients_likely_wrong_functions(table, capsys):
    def ignores_readable(t):
        in_folders = t[t.patient != ""]
        have = in_folders.groupby("patient")["sequence"].agg(lambda s: set(s))
        return {p for p, s in have.items() if len(s & set(lesson03._SEQUENCES)) < 4}

    assert not lesson03.check_incomplete_patients(ignores_readable, table)
    out = capsys.readouterr().out
    assert "all broken" in out and "no readable row at all" not in out

    def includes_stray(t):
        return lesson03.reference_incomplete_patients(t) | {""}

    assert not lesson03.check_incomplete_patients(includes_stray, table)
    assert "stray files" in capsys.readouterr().out
    assert lesson03.check_incomplete_patients(lesson03.reference_incomplete_patients, table)


def test_checks_reject_a_table_that_is_not_a_scan():
    with pytest.raises(TypeError, match="scan_table must be the pandas DataFrame"):
        lesson03.check_slice_counts(None, [1, 2])
    with pytest.raises(ValueError, match="lacks column"):
        lesson03.check_incomplete_patients(set(), pd.DataFrame({"patient": ["1"]}))


# --------------------------------------------------------------------------- exercise 3
def test_deidentified_right_and_wrong(messy, capsys):
    path = messy / "train" / "00000" / "T1w" / "Image-3.dcm"
    assert lesson03.check_deidentified(lambda ds, key: deid.anonymise_dataset(ds, key=key), path)

    def names_only(ds, key):
        clean = copy.deepcopy(ds)
        clean.PatientName = "ANON"
        clean.PatientIdentityRemoved = "YES"
        return clean

    assert not lesson03.check_deidentified(names_only, path)
    assert "survive" in capsys.readouterr().out

    def in_place(ds, key):
        ds.PatientName = "ANON"
        return deid.anonymise_dataset(ds, key=key)

    assert not lesson03.check_deidentified(in_place, path)
    assert "modified the dataset" in capsys.readouterr().out

    def geometry_lost(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.PixelSpacing = [1, 1]
        return clean

    assert not lesson03.check_deidentified(geometry_lost, path)
    assert "PixelSpacing" in capsys.readouterr().out

    def unflagged(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        del clean.PatientIdentityRemoved
        return clean

    assert not lesson03.check_deidentified(unflagged, path)
    assert "PatientIdentityRemoved" in capsys.readouterr().out
    assert not lesson03.check_deidentified(lambda ds, key: None, path)
    assert not lesson03.check_deidentified(lambda ds, key: "text", path)
    assert not lesson03.check_deidentified(_stub, path)
    assert "not implemented" in capsys.readouterr().out


def test_deidentified_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lesson03.check_deidentified(lambda ds, key: ds, tmp_path / "nothing.dcm")


def test_pixels_changed_is_caught(messy, capsys):
    path = messy / "train" / "00000" / "T1w" / "Image-3.dcm"

    def blanked(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
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
    assert lesson03.check_deidentified(lambda ds, key: deid.anonymise_dataset(ds, key=key), files)

    def random_uids(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
            if keyword in clean:
                setattr(clean, keyword, generate_uid())
        return clean

    assert not lesson03.check_deidentified(random_uids, files)
    assert "splits the series" in capsys.readouterr().out

    def blank_uids(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.SeriesInstanceUID = ""
        return clean

    assert not lesson03.check_deidentified(blank_uids, files)
    out = capsys.readouterr().out
    assert "SeriesInstanceUID is empty" in out and "do not blank them" in out

    def invalid_uids(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about the invalid value, as it should
            clean.StudyInstanceUID = "ANON.01.2"
        return clean

    assert not lesson03.check_deidentified(invalid_uids, files)
    assert "not a valid UID" in capsys.readouterr().out

    def no_method(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        del clean.DeidentificationMethod
        del clean.DeidentificationMethodCodeSequence
        return clean

    assert not lesson03.check_deidentified(no_method, files)
    assert "does not say how" in capsys.readouterr().out

    def one_sop_uid(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.SOPInstanceUID = clean.file_meta.MediaStorageSOPInstanceUID = "2.25.1"
        return clean

    assert not lesson03.check_deidentified(one_sop_uid, files)
    assert "same SOPInstanceUID" in capsys.readouterr().out

    counter = iter(range(100))

    def new_patient_each_file(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.PatientID = f"ANON{next(counter)}"
        return clean

    assert not lesson03.check_deidentified(new_patient_each_file, files)
    assert "different PatientIDs" in capsys.readouterr().out

    def no_secret(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
            setattr(clean, keyword, generate_uid(entropy_srcs=[str(ds.get(keyword))]))
        clean.file_meta.MediaStorageSOPInstanceUID = clean.SOPInstanceUID
        return clean

    assert not lesson03.check_deidentified(no_secret, files)
    assert "old UID alone" in capsys.readouterr().out

    def empty_id(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.PatientID = ""
        return clean

    assert not lesson03.check_deidentified(empty_id, files)
    assert "PatientID is empty" in capsys.readouterr().out


def test_deidentified_must_use_the_key(messy, capsys):
    import hashlib

    from pydicom.uid import generate_uid

    files = _series_files(messy)[:2] + sorted((messy / "train" / "00002" / "T1w").glob("*.dcm"))[:2]

    def unkeyed_hash(ds, key):  # a hash of the old values alone: anyone can recompute it
        clean = deid.anonymise_dataset(ds, key="a secret written into the function")
        clean.PatientID = "ANON" + hashlib.sha256(str(ds.PatientID).encode()).hexdigest()[:10]
        return clean

    assert not lesson03.check_deidentified(unkeyed_hash, files)
    out = capsys.readouterr().out
    assert "two different keys" in out and "PatientID" in out

    def unkeyed_uids(ds, key):  # keyed pseudonym, but UIDs from a fixed secret
        clean = deid.anonymise_dataset(ds, key=key)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
            setattr(clean, keyword, generate_uid(entropy_srcs=["fixed", str(ds.get(keyword))]))
        clean.file_meta.MediaStorageSOPInstanceUID = clean.SOPInstanceUID
        return clean

    assert not lesson03.check_deidentified(unkeyed_uids, files)
    out = capsys.readouterr().out
    assert "two different keys" in out and "SOPInstanceUID" in out

    calls = []

    def random_each_run(ds, key):  # a fresh random salt per run over the files
        if len(calls) % len(files) == 0:
            calls.append(generate_uid())
        else:
            calls.append(calls[-1])
        return deid.anonymise_dataset(ds, key=key + calls[-1])

    assert not lesson03.check_deidentified(random_each_run, files)
    assert "same key" in capsys.readouterr().out

    assert not lesson03.check_deidentified(lambda ds: deid.anonymise_dataset(ds, key="k"), files)
    assert "two arguments" in capsys.readouterr().out


def test_deidentified_two_patients_need_two_pseudonyms(messy, capsys):
    files = _series_files(messy)[:2] + sorted((messy / "train" / "00002" / "T1w").glob("*.dcm"))[:2]
    assert lesson03.check_deidentified(lambda ds, key: deid.anonymise_dataset(ds, key=key), files)

    def constant_pseudonym(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.PatientID = "ANON0001"
        return clean

    assert not lesson03.check_deidentified(constant_pseudonym, files)
    assert "share one PatientID" in capsys.readouterr().out


def _by_hand_answer(messy):
    """A hand-written answer like the lesson's (derived UIDs, emptied names) and its files."""
    import hashlib

    from pydicom.uid import generate_uid

    def by_hand(dataset, key, remove_sequences=True):
        clean = copy.deepcopy(dataset)
        clean.remove_private_tags()
        for keyword in ("OtherPatientIDsSequence", "RequestAttributesSequence"):
            if remove_sequences and keyword in clean:
                del clean[keyword]

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
                element.value = generate_uid(entropy_srcs=[key, str(element.value)])

        clean.walk(scrub)
        clean.file_meta.MediaStorageSOPInstanceUID = clean.SOPInstanceUID
        clean.PatientID = clean.PatientName = (
            "ANON" + hashlib.sha256((key + str(dataset.PatientID)).encode()).hexdigest()[:10]
        )
        clean.PatientIdentityRemoved = "YES"
        clean.DeidentificationMethod = "by hand"
        return clean

    other = sorted((messy / "train" / "00002" / "T1w").glob("*.dcm"))[:2]
    return by_hand, _series_files(messy) + other


def test_notebook_solution_style_answer_passes(messy):
    """A hand-written answer like the lesson's passes on several files of two patients."""
    by_hand, files = _by_hand_answer(messy)
    assert lesson03.check_deidentified(by_hand, files)


def test_deidentified_output_must_stay_conformant(messy, capsys):
    """Emptying X sequences, deleting Type 2 attributes or remapping class UIDs breaks DICOM."""
    from pydicom.uid import ExplicitVRBigEndian, generate_uid

    by_hand, files = _by_hand_answer(messy)
    assert "OtherPatientIDsSequence" in pydicom.dcmread(files[0])
    capsys.readouterr()

    def emptied_sequences(ds, key):
        return by_hand(ds, key, remove_sequences=False)

    assert not lesson03.check_deidentified(emptied_sequences, files)
    out = capsys.readouterr().out
    assert "emptied attributes inside" in out and "X (remove)" in out

    def deleting(ds, key):
        clean = by_hand(ds, key)
        for keyword in ("PatientBirthDate", "StudyDate", "ReferringPhysicianName", "StudyID"):
            if keyword in clean:
                del clean[keyword]
        return clean

    assert not lesson03.check_deidentified(deleting, files)
    assert "emptied, not deleted" in capsys.readouterr().out

    def remap_every_uid(ds, key):
        clean = by_hand(ds, key)
        clean.SOPClassUID = generate_uid(entropy_srcs=[key, str(ds.SOPClassUID)])
        return clean

    assert not lesson03.check_deidentified(remap_every_uid, files)
    assert "SOPClassUID changed" in capsys.readouterr().out

    def remap_meta_class(ds, key):
        clean = by_hand(ds, key)
        meta = clean.file_meta
        meta.MediaStorageSOPClassUID = generate_uid(entropy_srcs=[key, "class"])
        return clean

    assert not lesson03.check_deidentified(remap_meta_class, files)
    assert "file meta's MediaStorageSOPClassUID changed" in capsys.readouterr().out

    def new_transfer_syntax(ds, key):
        clean = by_hand(ds, key)
        clean.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
        return clean

    assert not lesson03.check_deidentified(new_transfer_syntax, files)
    assert "TransferSyntaxUID changed" in capsys.readouterr().out


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

    def whole_file_size(path):  # compares the file size, not the bytes after the header
        result = _good_reader(path)
        if result["problem"] == "truncated":
            import os

            header = pydicom.dcmread(path, stop_before_pixels=True)
            promised = header.Rows * header.Columns * header.BitsAllocated // 8
            if os.path.getsize(path) >= promised:
                result.update(readable=True, problem="")
        return result

    assert not lesson03.check_header_reader(whole_file_size, study_file)
    out = capsys.readouterr().out
    assert "40 bytes short file" in out and "after the header" in out

    def forgets_element_header(path):  # bytes after tell(), without the 12/8-byte element header
        result = _good_reader(path)
        if result["problem"] == "truncated":
            import os

            with open(path, "rb") as handle:
                header = pydicom.dcmread(handle, stop_before_pixels=True)
                left = os.path.getsize(path) - handle.tell()
            if left >= header.Rows * header.Columns * header.BitsAllocated // 8:
                result.update(readable=True, problem="")
        return result

    assert not lesson03.check_header_reader(forgets_element_header, study_file)
    out = capsys.readouterr().out
    assert "slightly truncated file" in out and "12 bytes in explicit VR" in out
    assert "not with the file size" not in out

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
        ("10004", "T2w"),
        ("10006", "T2w"),
        ("10009", "T1w"),  # "AX T1WCE 3D": the folder name "T1w" is only a substring of it
    }
    words = lesson03.sequence_from_description
    assert words("t1_space_sag_p2_iso") == "T1w"  # "ce" inside "space" is not contrast
    assert words("sag 3D T1 sequence") == "T1w"
    assert words("AX T1 FLAIR") == words("AX T1W FLAIR") == "T1w"
    assert words("Ax T1+C") == words("t1ce") == words("T1wCE") == "T1wCE"
    assert words("AX T2 FLAIR") == "FLAIR"
    assert lesson03.sequences_from_timing(2400, 3.6, 1000) == {"T1w", "T1wCE"}  # MPRAGE
    assert lesson03.sequences_from_timing(9000, 120, 2500) == {"FLAIR"}
    # a FLAIR whose release dropped InversionTime is not called a mislabelled T2w
    assert lesson03.sequences_from_timing(9000, 120, None) == {"T2w", "FLAIR"}
    assert lesson03.sequences_from_timing(5200, 98, 0) == {"T2w"}
    for description in (None, "AX FLAIR"):
        flair = pd.DataFrame(
            [("1", "FLAIR", description, 9000.0, 120.0, float("nan"))],
            columns=list(lesson03._SERIES_COLUMNS),
        )
        assert lesson03.reference_sequence_mismatches(flair) == set()


def None_timing(tr, te, ti):
    return None


def _rules(named, timed):
    def function(t):
        found = set()
        for r in t.itertuples():
            for says in (
                named(r.series_description),
                timed(r.repetition_time_ms, r.echo_time_ms, r.inversion_time_ms),
            ):
                if says is not None and r.sequence not in (
                    says if isinstance(says, set) else {says}
                ):
                    found.add((r.patient, r.sequence))
        return found

    return function


def test_sequence_cross_check_likely_wrong_rules(capsys):
    table = lesson03.held_out_series()
    right_names, right_times = lesson03.sequence_from_description, lesson03.sequences_from_timing
    assert lesson03.check_sequence_mismatches(_rules(right_names, right_times), table)

    def absent_ti_is_no_inversion(tr, te, ti):  # the T2w rule answers T2w alone without a TI
        says = right_times(tr, te, ti)
        return {"T2w"} if says == {"T2w", "FLAIR"} else says

    assert not lesson03.check_sequence_mismatches(
        _rules(right_names, absent_ti_is_no_inversion), table
    )
    out = capsys.readouterr().out
    assert "unknown, not zero" in out and "carry no TI" in out

    def substring_names(d):  # "ce" anywhere, "flair" before "t1"
        return lesson03._substring_description(d)

    assert not lesson03.check_sequence_mismatches(_rules(substring_names, right_times), table)
    assert "T1 FLAIR" in capsys.readouterr().out

    def substring_contrast(d):
        if isinstance(d, str) and "t1" in d.lower() and "flair" not in d.lower():
            return lesson03._substring_description(d)
        return right_names(d)

    assert not lesson03.check_sequence_mismatches(_rules(substring_contrast, right_times), table)
    assert "whole words" in capsys.readouterr().out

    def ti_only(tr, te, ti):  # any TI >= 1000 ms called FLAIR
        if ti == ti and ti is not None and ti >= 1000:
            return {"FLAIR"}
        return right_times(tr, te, ti)

    assert not lesson03.check_sequence_mismatches(_rules(right_names, ti_only), table)
    assert "TI 300-1200 ms" in capsys.readouterr().out

    def t1w_only(tr, te, ti):
        says = right_times(tr, te, ti)
        return {"T1w"} if says == {"T1w", "T1wCE"} else says

    assert not lesson03.check_sequence_mismatches(_rules(right_names, t1w_only), table)
    assert "cannot tell T1w from T1wCE" in capsys.readouterr().out

    def missing_is_mismatch(d):
        return "none" if d is None or (isinstance(d, str) and not d.strip()) else right_names(d)

    assert not lesson03.check_sequence_mismatches(_rules(missing_is_mismatch, right_times), table)
    assert "not contradicted by it" in capsys.readouterr().out

    def case_sensitive(d):
        return right_names(d) if isinstance(d, str) and d == d.upper() else None

    assert not lesson03.check_sequence_mismatches(_rules(case_sensitive, right_times), table)
    assert "case-sensitive" in capsys.readouterr().out

    def lower_words_as_written(d):  # "flair" looked for in the description as written
        if not isinstance(d, str) or not d.strip():
            return None
        return lesson03._sequence_from_words(re.findall(r"[A-Za-z0-9+]+", d))

    assert not lesson03.check_sequence_mismatches(
        _rules(lower_words_as_written, right_times), table
    )
    out = capsys.readouterr().out
    assert "case-sensitive" in out and "inversion time" not in out

    def timing_only(d):
        return None

    assert not lesson03.check_sequence_mismatches(_rules(timing_only, right_times), table)
    out = capsys.readouterr().out
    assert "only the timing was used" in out and "TI 300-1200" not in out

    def t1_flair_by_substring(d):  # "flair" anywhere wins: AX T1 FLAIR (TI 800 ms) called FLAIR
        if isinstance(d, str) and "flair" in d.lower():
            return "FLAIR"
        return right_names(d)

    assert not lesson03.check_sequence_mismatches(_rules(t1_flair_by_substring, None_timing), table)
    out = capsys.readouterr().out
    assert "'T1 FLAIR' is a T1-weighted inversion recovery" in out and "TI 300-1200" not in out


def test_sequence_cross_check_substring_mistakes(capsys):
    """Matching names by substring ("T1wCE" contains "T1w") fails, and the feedback says why."""
    table = lesson03.held_out_series()
    right_times = lesson03.sequences_from_timing

    def first_substring(d):  # "t1" tested before the contrast words: every T1wCE reads T1w
        if not isinstance(d, str) or not d.strip():
            return None
        text = d.lower()
        if "flair" in text and "t1" not in text:
            return "FLAIR"
        if "t2" in text:
            return "T2w"
        return "T1w" if "t1" in text else None

    assert not lesson03.check_sequence_mismatches(_rules(first_substring, right_times), table)
    out = capsys.readouterr().out
    assert "matched by substring" in out and "'T1w' is found inside 'T1wCE'" in out
    assert "T1WCE" not in out  # the feedback names the mistake, not the series to report

    def folder_in_description(t):  # the folder name searched for inside the description
        found = set()
        for r in t.itertuples():
            d = r.series_description
            if isinstance(d, str) and d.strip() and r.sequence.lower() not in d.lower():
                found.add((r.patient, r.sequence))
        return found | {
            (r.patient, r.sequence)
            for r in t.itertuples()
            if (says := right_times(r.repetition_time_ms, r.echo_time_ms, r.inversion_time_ms))
            and r.sequence not in says
        }

    assert not lesson03.check_sequence_mismatches(folder_in_description, table)
    assert "'T1w' is inside 'T1wCE'" in capsys.readouterr().out

    def folder_substring_added(t):  # the right answer, but a folder name inside the text passes
        return {
            (p, s)
            for p, s in lesson03.reference_sequence_mismatches(t)
            if s.lower()
            not in str(
                t.set_index(["patient", "sequence"]).loc[(p, s), "series_description"]
            ).lower()
        }

    assert not lesson03.check_sequence_mismatches(folder_substring_added, table)
    out = capsys.readouterr().out
    assert "contains its folder name as a substring" in out and "Substrings mislead" in out


def test_sequence_cross_check_inversion_time_mistakes(capsys):
    """TI confused with TE, or a long TI or TR alone taken for FLAIR, fails with that feedback."""
    table = lesson03.held_out_series()
    right_names, right_times = lesson03.sequence_from_description, lesson03.sequences_from_timing

    def te_ti_exchanged(tr, te, ti):
        return right_times(tr, ti, te)

    assert not lesson03.check_sequence_mismatches(_rules(right_names, te_ti_exchanged), table)
    out = capsys.readouterr().out
    assert "echo time and inversion time were exchanged" in out and "InversionTime" in out

    def ti_or_tr(tr, te, ti):
        if ti >= 1500 or tr >= 4000:
            return {"FLAIR"}
        return right_times(tr, te, ti)

    assert not lesson03.check_sequence_mismatches(_rules(right_names, ti_or_tr), table)
    out = capsys.readouterr().out
    assert "long TR or a long TI alone" in out and "a long TI and a long TR" in out

    def any_ti_is_flair(tr, te, ti):
        return {"FLAIR"} if ti == ti and ti is not None and ti > 0 else right_times(tr, te, ti)

    assert not lesson03.check_sequence_mismatches(_rules(right_names, any_ti_is_flair), table)
    assert "An inversion time alone does not make a FLAIR" in capsys.readouterr().out


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
    out = capsys.readouterr().out
    assert "not the folder name with the description's text" in out
    assert "'T1w' is inside 'T1wCE'" in out

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


# --------------------------------------------------------------------------- voxel depth
def test_slice_step_right_and_wrong(capsys):
    import numpy as np

    def normal_of(orientation):
        return np.cross(orientation[:3], orientation[3:])

    def right(positions, orientation):
        return float(np.median(np.diff(np.sort(positions @ normal_of(orientation)))))

    assert lesson03.check_slice_step(right)

    def z_only(positions, orientation):
        return float(np.median(np.diff(np.sort(positions[:, 2]))))

    assert not lesson03.check_slice_step(z_only)
    assert "only for axial series" in capsys.readouterr().out

    def mean_step(positions, orientation):
        return float(np.mean(np.diff(np.sort(positions @ normal_of(orientation)))))

    assert not lesson03.check_slice_step(mean_step)
    assert "median step, not the mean" in capsys.readouterr().out

    def unsorted(positions, orientation):
        return float(np.median(np.diff(positions @ normal_of(orientation))))

    assert not lesson03.check_slice_step(unsorted)
    assert "not in slice order" in capsys.readouterr().out

    def thickness(positions, orientation):
        return 1.0

    assert not lesson03.check_slice_step(thickness)
    assert "Project each ImagePositionPatient" in capsys.readouterr().out
    assert not lesson03.check_slice_step(_stub)
    assert "not implemented" in capsys.readouterr().out


# --------------------------------------------------------------------------- labels vs folders
def test_id_differences_right_and_wrong(capsys):
    right = lesson03.reference_id_differences
    assert lesson03.check_id_differences(right)

    def unconverted(labels, folders):
        ids = set(labels["BraTS21ID"])
        return ids - set(folders), set(folders) - ids

    assert not lesson03.check_id_differences(unconverted)
    assert "12 never equals '00012'" in capsys.readouterr().out

    def no_padding(labels, folders):
        ids = {str(int(x)) for x in labels["BraTS21ID"].dropna()}
        names = {name.lstrip("0") for name in folders}
        return ids - names, names - ids

    assert not lesson03.check_id_differences(no_padding)
    assert "leading zeros" in capsys.readouterr().out

    def float_ids(labels, folders):
        ids = {str(x).zfill(5) for x in labels["BraTS21ID"]}
        return ids - set(folders), set(folders) - ids

    assert not lesson03.check_id_differences(float_ids)
    assert "read the ids as floats" in capsys.readouterr().out

    assert not lesson03.check_id_differences(lambda labels, folders: right(labels, folders)[::-1])
    assert "swapped" in capsys.readouterr().out
    assert not lesson03.check_id_differences(lambda labels, folders: set())
    assert not lesson03.check_id_differences(_stub)
    assert "not implemented" in capsys.readouterr().out


# --------------------------------------------------------------------------- blank end slices
def test_blank_ends_right_and_wrong(capsys):
    assert lesson03.check_blank_ends(lesson03.reference_blank_ends)

    def zeros_only(read, n):
        start = 0
        while start < n and not read(start).any():
            start += 1
        end = 0
        while end < n - start and not read(n - 1 - end).any():
            end += 1
        return start, end

    assert not lesson03.check_blank_ends(zeros_only)
    assert "not always zero" in capsys.readouterr().out

    def reads_everything(read, n):
        slices = [read(i) for i in range(n)]
        return lesson03.reference_blank_ends(lambda i: slices[i], n)

    assert not lesson03.check_blank_ends(reads_everything)
    assert "stop at the first slice" in capsys.readouterr().out

    def counts_inside(read, n):
        slices = [read(i) for i in range(n)]
        blank = [s.min() == s.max() for s in slices]
        return sum(blank[: n // 2]), sum(blank[n // 2 :])

    assert not lesson03.check_blank_ends(counts_inside)
    assert "inside the series is not an end slice" in capsys.readouterr().out

    def counted_twice(read, n):
        def blank(i):
            pixels = read(i)
            return pixels.min() == pixels.max()

        start = 0
        while start < n and blank(start):
            start += 1
        end = 0
        while end < n and blank(n - 1 - end):
            end += 1
        return start, end

    assert not lesson03.check_blank_ends(counted_twice)
    assert "more slices than the series has" in capsys.readouterr().out
    assert not lesson03.check_blank_ends(lambda read, n: "none")
    assert not lesson03.check_blank_ends(_stub)
    assert "not implemented" in capsys.readouterr().out


# --------------------------------------------------------------------------- compression history
def test_compression_history_right_and_wrong(study_file, capsys):
    right = lesson03.reference_compression_history
    assert lesson03.check_compression_history(right, study_file)

    def attribute_access(path):
        header = pydicom.dcmread(path, stop_before_pixels=True)
        return {**right(path), "lossy": header.LossyImageCompression == "01"}

    assert not lesson03.check_compression_history(attribute_access, study_file)
    assert "with a default" in capsys.readouterr().out

    def truthy_code(path):
        value = pydicom.dcmread(path, stop_before_pixels=True).get("LossyImageCompression")
        return {**right(path), "lossy": None if value is None else bool(value)}

    assert not lesson03.check_compression_history(truthy_code, study_file)
    assert "'00' means never lossy" in capsys.readouterr().out

    def raw_code(path):  # the right tag, returned as its code string
        value = pydicom.dcmread(path, stop_before_pixels=True).get("LossyImageCompression")
        return {**right(path), "lossy": value}

    assert not lesson03.check_compression_history(raw_code, study_file)
    out = capsys.readouterr().out
    assert "not its code string" in out and "transfer syntax" not in out

    def single_ratio(path):
        value = pydicom.dcmread(path, stop_before_pixels=True).get("LossyImageCompressionRatio")
        return {**right(path), "ratios": [] if value is None else [float(value)]}

    assert not lesson03.check_compression_history(single_ratio, study_file)
    assert "several values" in capsys.readouterr().out

    def first_ratio_only(path):
        value = pydicom.dcmread(path, stop_before_pixels=True).get("LossyImageCompressionRatio")
        ratios = [] if value is None else [float(lesson03.np.atleast_1d(value)[0])]
        return {**right(path), "ratios": ratios}

    assert not lesson03.check_compression_history(first_ratio_only, study_file)
    assert "keep every value" in capsys.readouterr().out

    def transfer_syntax_only(path):
        header = pydicom.dcmread(path, stop_before_pixels=True)
        return {**right(path), "lossy": header.file_meta.TransferSyntaxUID.is_compressed}

    assert not lesson03.check_compression_history(transfer_syntax_only, study_file)
    assert "how the file is stored now" in capsys.readouterr().out

    def whole_file(path):
        pydicom.dcmread(path)
        return right(path)

    assert not lesson03.check_compression_history(whole_file, study_file)
    assert "read whole files" in capsys.readouterr().out
    assert not lesson03.check_compression_history(_stub, study_file)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError):
        lesson03.check_compression_history(right, study_file.with_name("nothing.dcm"))


def test_held_out_scan_has_an_all_broken_patient_and_every_scan_column(table, capsys):
    from course_utils.scan import SCAN_COLUMNS

    held_out = lesson03.held_out_scan()
    assert list(held_out.columns) == list(SCAN_COLUMNS)
    assert "20005" in lesson03.reference_incomplete_patients(held_out)

    def only_readable_patients(t):
        readable = t[t["readable"].astype(bool)]
        have = readable.groupby("patient")["sequence"].apply(set)
        return {p for p, sequences in have.items() if len(sequences) < 4}

    assert not lesson03.check_incomplete_patients(only_readable_patients, table)
    out = capsys.readouterr().out
    assert "no readable row at all" in out and "as good as missing" not in out

    def by_series_uid(t):
        readable = t[t["readable"].astype(bool) & t["sequence"].isin(scan.SEQUENCES)]
        per_series = readable.groupby(["sequence", "series_uid"]).size()
        return per_series.groupby(level="sequence").agg(["min", "median", "max"])

    assert not lesson03.check_slice_counts(by_series_uid, table)  # 20006 copies 20004's UIDs
    out = capsys.readouterr().out
    assert "over the whole table" in out and "copied folder" in out

    def by_folder_and_uid(t):
        readable = t[t["readable"].astype(bool) & t["sequence"].isin(scan.SEQUENCES)]
        per_series = readable.groupby(["sequence", "patient", "series_uid"]).size()
        return per_series.groupby(level="sequence").agg(["min", "median", "max"])

    assert lesson03.check_slice_counts(by_folder_and_uid, table)


def test_id_differences_nan_crash_gets_the_nan_hint(capsys):
    def no_dropna(labels, folder_names):
        ids = {f"{int(value):05d}" for value in labels["BraTS21ID"]}
        folders = set(folder_names)
        return ids - folders, folders - ids

    assert not lesson03.check_id_differences(no_dropna)
    out = capsys.readouterr().out
    assert "raised ValueError" in out and "drop it first" in out


def test_deidentified_planted_identity_is_an_independent_list(monkeypatch, capsys):
    """On the generated study the check also searches the identity the generator planted,
    so a value that deid's own tables forget (simulated here) is still caught."""
    from course_utils import data

    series_dir = data.dataset_path("brain-mri-study") / "train" / "00001" / "T1w"
    path = sorted(series_dir.glob("*.dcm"))[0]
    planted = dict(lesson03._planted_identities(path))
    original = pydicom.dcmread(path, stop_before_pixels=True)
    assert planted["PatientID"] == original.PatientID
    assert planted["StationName"] == original.StationName
    assert "StudyTime" not in planted and "PatientSex" not in planted  # kept on purpose

    def keeps_station(ds, key):
        clean = deid.anonymise_dataset(ds, key=key)
        clean.StationName = ds.StationName  # a device name left behind
        return clean

    # deid's list catches it on its own ...
    assert not lesson03.check_deidentified(keeps_station, path)
    assert "StationName" in capsys.readouterr().out
    # ... and with that list incomplete (StationName forgotten), the planted identity still does
    real_collect = deid.collect_identities
    monkeypatch.setattr(
        deid,
        "collect_identities",
        lambda source: [(k, v) for k, v in real_collect(source) if k != "StationName"],
    )
    assert not lesson03.check_deidentified(keeps_station, path)
    out = capsys.readouterr().out
    assert "the generator planted" in out and "StationName" in out
    assert lesson03.check_deidentified(lambda ds, key: deid.anonymise_dataset(ds, key=key), path)


def test_planted_identities_only_for_generated_files(messy):
    assert lesson03._planted_identities(messy / "train" / "00000" / "T1w" / "Image-3.dcm") == []
