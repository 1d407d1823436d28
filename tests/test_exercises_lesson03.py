"""Checks of lesson 03's exercises: right and wrong answers, stubs, and bad input."""

from __future__ import annotations

import copy

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
