"""Header-only DICOM scans (course_utils.scan) on crafted folders and pydicom's own files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.data import get_testdata_file

from course_utils import scan
from tests.messy_rsna import LAYOUT, build_messy_rsna


@pytest.fixture(scope="module")
def messy_root(tmp_path_factory):
    return build_messy_rsna(tmp_path_factory.mktemp("messy") / "rsna")


@pytest.fixture(scope="module")
def messy_table(messy_root):
    return scan.scan_headers(messy_root / "train", progress=False)


# --------------------------------------------------------------------------- sorting and layout
def test_natural_sort_orders_numbers_numerically():
    names = ["Image-10.dcm", "Image-2.dcm", "Image-1.dcm", "Image-100.dcm"]
    assert sorted(names) == ["Image-1.dcm", "Image-10.dcm", "Image-100.dcm", "Image-2.dcm"]
    assert scan.natural_sorted(names) == [
        "Image-1.dcm",
        "Image-2.dcm",
        "Image-10.dcm",
        "Image-100.dcm",
    ]


@given(st.lists(st.integers(min_value=0, max_value=10**6), unique=True, max_size=30))
def test_natural_sort_matches_numeric_sort(numbers):
    names = [f"train/00012/FLAIR/Image-{n}.dcm" for n in numbers]
    assert scan.natural_sorted(names) == [
        f"train/00012/FLAIR/Image-{n}.dcm" for n in sorted(numbers)
    ]


def test_natural_key_rejects_non_text():
    with pytest.raises(TypeError, match="name must be a str or path"):
        scan.natural_key(12)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (
            "train/00012/T1wCE/Image-7.dcm",
            {"patient": "00012", "sequence": "T1wCE", "file_number": 7},
        ),
        (
            "00012/FLAIR/Image-130.dcm",
            {"patient": "00012", "sequence": "FLAIR", "file_number": 130},
        ),
        ("00012/notes.txt", {"patient": "00012", "sequence": "", "file_number": None}),
        ("Thumbs.db", {"patient": "", "sequence": "", "file_number": None}),
    ],
)
def test_parse_rsna_path(relative, expected):
    assert scan.parse_rsna_path(relative) == expected


def test_list_files_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        scan.list_files(tmp_path / "nowhere")
    (tmp_path / "a.dcm").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        scan.list_files(tmp_path / "a.dcm")


def test_list_files_skips_hidden_unless_asked(tmp_path):
    (tmp_path / "Image-10.dcm").write_bytes(b"x")
    (tmp_path / "Image-9.dcm").write_bytes(b"x")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    assert [p.name for p in scan.list_files(tmp_path)] == ["Image-9.dcm", "Image-10.dcm"]
    assert len(scan.list_files(tmp_path, include_hidden=True)) == 3


# --------------------------------------------------------------------------- single files
def test_scan_file_reads_geometry_of_a_real_ct():
    row = scan.scan_file(get_testdata_file("CT_small.dcm"))
    assert row["readable"] and row["error"] == ""
    assert (row["rows"], row["columns"], row["bits_allocated"], row["pixel_representation"]) == (
        128,
        128,
        16,
        1,
    )
    assert row["plane"] == "axial"
    assert row["pixel_bytes_expected"] == row["pixel_bytes_available"] == 128 * 128 * 2
    assert row["transfer_syntax"] == "Explicit VR Little Endian" and row["compressed"] is False
    assert set(row) == set(scan.SCAN_COLUMNS)


def test_scan_file_reports_bad_files_without_raising(tmp_path):
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    text = tmp_path / "text.dcm"
    text.write_text("not a dicom file")
    source = get_testdata_file("MR_small.dcm")
    cut = tmp_path / "cut.dcm"
    data = open(source, "rb").read()
    cut.write_bytes(data[:-3000])
    rows = {path.name: scan.scan_file(path, tmp_path) for path in (empty, text, cut)}
    assert rows["empty.dcm"]["problem"] == "empty file"
    assert rows["text.dcm"]["problem"] == "not DICOM" and "DICM" in rows["text.dcm"]["error"]
    assert rows["cut.dcm"]["problem"] == "truncated"
    assert "8192" in rows["cut.dcm"]["error"]  # the declared 64 x 64 x 2 bytes
    assert not any(row["readable"] for row in rows.values())
    missing = scan.scan_file(tmp_path / "gone.dcm", tmp_path)
    assert missing["problem"] == "missing file" and not missing["readable"]


def test_scan_file_detects_truncated_compressed_fragments(tmp_path):
    source = open(get_testdata_file("emri_small_RLE.dcm"), "rb").read()
    whole, cut = tmp_path / "whole.dcm", tmp_path / "cut.dcm"
    whole.write_bytes(source)
    cut.write_bytes(source[: len(source) // 2])
    assert scan.scan_file(whole)["readable"]
    row = scan.scan_file(cut)
    assert row["problem"] == "truncated" and "fragments" in row["error"]


def test_pydicom_test_files_scan_without_exceptions():
    import pydicom.data

    folder = Path(pydicom.data.__file__).parent / "test_files"
    files = sorted(folder.glob("*.dcm"))[:60]
    table = scan.scan_headers(files, progress=False)
    assert len(table) == len(files)
    assert table["readable"].sum() > 30
    assert (table.loc[~table["readable"], "error"] != "").all()


# --------------------------------------------------------------------------- the messy folder
def test_one_row_per_file_in_natural_order(messy_root, messy_table):
    files = [p for p in (messy_root / "train").rglob("*") if p.is_file()]
    assert len(messy_table) == len(files)
    flair = messy_table[(messy_table.patient == "00000") & (messy_table.sequence == "FLAIR")]
    numbers = flair["file_number"].dropna().astype(int).tolist()
    assert numbers == sorted(numbers) and numbers[:3] == [1, 2, 3]


def test_messy_problems_are_reported(messy_table):
    bad = messy_table.set_index("path").loc[lambda t: ~t["readable"], "problem"]
    train = "train/"
    assert bad[LAYOUT["truncated_file"].removeprefix(train)] == "truncated"
    assert bad[LAYOUT["zero_byte_file"].removeprefix(train)] == "empty file"
    for stray in LAYOUT["stray_files"]:
        assert bad[stray.removeprefix(train)] == "not DICOM"
    assert len(bad) == 2 + len(LAYOUT["stray_files"])


def test_messy_compression_sign_and_plane(messy_table):
    by_series = messy_table[messy_table.readable].groupby(["patient", "sequence"])
    syntax = by_series["transfer_syntax"].first()
    assert syntax[("00000", "T2w")] == "RLE Lossless"
    assert syntax[("00002", "T1wCE")] == "JPEG-LS Lossless Image Compression"
    assert by_series["compressed"].first()[("00002", "T1wCE")]
    signed = by_series["pixel_representation"].first()
    assert signed[("00000", "T1w")] == 1 and signed[("00000", "FLAIR")] == 0
    assert by_series["plane"].first()[("00003", "T2w")] == "sagittal"
    # the scan never decodes pixels: the JPEG-LS series (no decoder installed) is fully readable
    assert by_series["readable"].all()[("00002", "T1wCE")]


def test_slice_position_sorts_like_geometry(messy_table):
    series = messy_table[(messy_table.patient == "00003") & (messy_table.sequence == "T1w")]
    ordered = series.sort_values("slice_position_mm")["instance"].astype(int).tolist()
    assert ordered == list(range(1, 13))


def test_scan_list_of_files_and_errors(messy_root):
    files = sorted((messy_root / "train" / "00000" / "T1w").glob("*.dcm"))
    table = scan.scan_headers(files, progress=False)
    assert table["path"].tolist()[:3] == ["Image-1.dcm", "Image-2.dcm", "Image-3.dcm"]
    with pytest.raises(ValueError, match="empty list"):
        scan.scan_headers([], progress=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        scan.scan_headers(messy_root / "nothing-here", progress=False)


def test_scan_does_not_modify_input(messy_root, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(messy_root, copy)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    scan.scan_headers(copy / "train", progress=False)
    assert before == {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}


def test_processes_scheduler_gives_the_same_table(messy_root, messy_table):
    table = scan.scan_headers(
        messy_root / "train", scheduler="processes", n_workers=2, progress=False
    )
    pd.testing.assert_frame_equal(table, messy_table)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_table(messy_root, messy_table):
    pytest.importorskip("distributed")
    table = scan.scan_headers(
        messy_root / "train", scheduler="dask-local", n_workers=2, progress=False
    )
    pd.testing.assert_frame_equal(table, messy_table)
