"""The fast header scan returns the same table as the implementation it replaced.

``course_utils.scan`` now parses most headers itself (explicit VR little
endian files, values pydicom would read without a warning) and reads the
others with pydicom. This module keeps a verbatim copy of the previous
``scan_file`` (pydicom for every file, one warnings context per file) and
compares the two, row by row and as tables, on the messy RSNA-shaped folder,
on a generated brain-mri-study, on pydicom's own test files (odd syntaxes,
broken headers, big endian, deflated) and on truncated and edited copies.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.data import get_testdata_file

from course_utils import scan
from course_utils.scan import SCAN_COLUMNS, parse_rsna_path
from tests.messy_rsna import build_messy_rsna

_PIXEL_DATA_TAG = 0x7FE00010


# --------------------------------------------------------------------------- the previous implementation
def _empty_row(relative: str, file_bytes: int) -> dict:
    row = dict.fromkeys(SCAN_COLUMNS)
    row.update(parse_rsna_path(relative))
    row.update(path=relative, readable=False, problem="", error="", file_bytes=file_bytes)
    return row


def _float_or_none(value):
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if np.isfinite(result) else None


def _plane(orientation) -> str:
    """Name of the acquisition plane from ImageOrientationPatient (6 direction cosines)."""
    row_dir, col_dir = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row_dir, col_dir)
    axis = int(np.argmax(np.abs(normal)))
    if abs(normal[axis]) < 0.8:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _pixel_element(handle, offset: int, file_bytes: int, little: bool):
    """Declared length and available bytes of the PixelData element starting at ``offset``."""
    handle.seek(offset)
    header = handle.read(12)
    if len(header) < 8:
        return None, None, 0
    order = "<" if little else ">"
    group, element = struct.unpack(order + "HH", header[:4])
    if (group << 16) | element != _PIXEL_DATA_TAG:
        return None, None, 0
    # trust the bytes over the header's claim: explicit VR puts "OB"/"OW" after the tag
    implicit = header[4:6] not in (b"OB", b"OW", b"OF", b"OD", b"UN")
    if implicit:
        (length,) = struct.unpack(order + "I", header[4:8])
        header_bytes = 8
    else:
        if len(header) < 12:
            return None, None, 0
        (length,) = struct.unpack(order + "I", header[8:12])
        header_bytes = 12
    return length, file_bytes - offset - header_bytes, header_bytes


def _walk_fragments(handle, start: int, file_bytes: int, little: bool):
    """Follow the encapsulated fragments; (complete, fragment bytes present)."""
    order = "<" if little else ">"
    position, present = start, 0
    while position + 8 <= file_bytes:
        handle.seek(position)
        group, element, length = struct.unpack(order + "HHI", handle.read(8))
        if (group, element) == (0xFFFE, 0xE0DD):
            return True, present
        if (group, element) != (0xFFFE, 0xE000):
            return False, present
        present += max(0, min(length, file_bytes - position - 8))
        position += 8 + length
    return False, present


def _expected_pixel_bytes(dataset) -> int | None:
    try:
        rows, columns = int(dataset.Rows), int(dataset.Columns)
        bits = int(dataset.BitsAllocated)
        samples = int(dataset.get("SamplesPerPixel", 1) or 1)
        frames = int(dataset.get("NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError):
        return None
    total_bits = rows * columns * samples * frames * bits
    if dataset.get("PhotometricInterpretation", "") == "YBR_FULL_422":
        total_bits = total_bits * 2 // 3
    return (total_bits + 7) // 8


def _old_scan_file(path: str | os.PathLike, root: str | os.PathLike | None = None) -> dict:
    """The scan_file of commit 8b3946d (before the fast reader), verbatim."""

    path = Path(path)
    root = Path(root) if root is not None else path.parent
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    try:
        file_bytes = path.stat().st_size
    except OSError as exc:
        row = _empty_row(relative, None)
        row.update(problem="missing file", error=f"{type(exc).__name__}: {exc}")
        return row
    row = _empty_row(relative, file_bytes)
    if file_bytes == 0:
        row.update(problem="empty file", error="the file has 0 bytes")
        return row
    with warnings.catch_warnings(record=True) as caught:
        # pydicom's complaints about odd values go into the table, not onto the screen
        warnings.simplefilter("always")
        _old_fill_row(row, path, file_bytes)
    if caught:
        row["warnings"] = "; ".join(sorted({str(warning.message) for warning in caught}))
    return row


def _old_fill_row(row: dict, path: Path, file_bytes: int) -> None:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with open(path, "rb") as handle:
            dataset = pydicom.dcmread(handle, stop_before_pixels=True)
            pixel_offset = handle.tell()
            syntax = dataset.file_meta.get("TransferSyntaxUID")
            little = True if syntax is None else syntax.is_little_endian
            declared, available, header_bytes = _pixel_element(
                handle, pixel_offset, file_bytes, little
            )
            fragments_complete = None
            if declared == 0xFFFFFFFF:
                fragments_complete, available = _walk_fragments(
                    handle, pixel_offset + header_bytes, file_bytes, little
                )
    except InvalidDicomError as exc:
        row.update(problem="not DICOM", error=f"no DICOM file header ('DICM' at byte 128): {exc}")
        return
    except Exception as exc:  # any broken header: report, do not stop the scan
        row.update(problem="header unreadable", error=f"{type(exc).__name__}: {exc}")
        return

    orientation = dataset.get("ImageOrientationPatient")
    position = dataset.get("ImagePositionPatient")
    spacing = dataset.get("PixelSpacing")
    row.update(
        patient_id_tag=str(dataset.get("PatientID", "")),
        series_description=str(dataset.get("SeriesDescription", "")),
        modality=str(dataset.get("Modality", "")),
        instance=_int_or_none(dataset.get("InstanceNumber")),
        rows=_int_or_none(dataset.get("Rows")),
        columns=_int_or_none(dataset.get("Columns")),
        slice_thickness_mm=_float_or_none(dataset.get("SliceThickness")),
        frames=_int_or_none(dataset.get("NumberOfFrames", 1)),
        samples_per_pixel=_int_or_none(dataset.get("SamplesPerPixel")),
        photometric=str(dataset.get("PhotometricInterpretation", "")),
        bits_allocated=_int_or_none(dataset.get("BitsAllocated")),
        bits_stored=_int_or_none(dataset.get("BitsStored")),
        pixel_representation=_int_or_none(dataset.get("PixelRepresentation")),
        transfer_syntax=syntax.name if syntax is not None else "",
        transfer_syntax_uid=str(syntax) if syntax is not None else "",
        compressed=bool(syntax.is_compressed) if syntax is not None else None,
        pixel_bytes_expected=_expected_pixel_bytes(dataset),
        series_uid=str(dataset.get("SeriesInstanceUID", "")),
        sop_uid=str(dataset.get("SOPInstanceUID", "")),
    )
    if spacing is not None and len(spacing) == 2:
        row.update(
            pixel_spacing_row_mm=_float_or_none(spacing[0]),
            pixel_spacing_col_mm=_float_or_none(spacing[1]),
        )
    if position is not None and len(position) == 3:
        xyz = [_float_or_none(value) for value in position]
        row.update(position_x_mm=xyz[0], position_y_mm=xyz[1], position_z_mm=xyz[2])
    if orientation is not None and len(orientation) == 6:
        cosines = [_float_or_none(value) for value in orientation]
        if None not in cosines:
            row["orientation"] = " ".join(f"{value:.4g}" for value in np.round(cosines, 4) + 0.0)
            row["plane"] = _plane(cosines)
            if position is not None and None not in (row["position_x_mm"], row["position_z_mm"]):
                normal = np.cross(cosines[:3], cosines[3:])
                along = float(np.dot(normal, [float(value) for value in position]))
                row["slice_position_mm"] = round(along, 4)

    # decide whether the file is usable and why not
    if syntax is not None and syntax.is_deflated:
        declared = available = None  # the body is one deflate stream: sizes cannot be checked
    elif declared is None:
        row.update(
            problem="no pixel data",
            error="the header ends without a PixelData element (no image, or the file is cut short)",
        )
        return
    if declared is None:
        pass  # deflated: nothing to check
    elif declared == 0xFFFFFFFF:  # encapsulated (compressed) fragments
        row["pixel_bytes_available"] = available
        if not fragments_complete:
            row.update(
                problem="truncated",
                error=(
                    f"compressed PixelData stops before its end-of-fragments marker: the file "
                    f"({file_bytes} bytes) was cut short"
                ),
            )
            return
    else:
        row["pixel_bytes_available"] = min(available, declared)
        expected = row["pixel_bytes_expected"]
        if available < declared:
            row.update(
                problem="truncated",
                error=f"PixelData declares {declared} bytes but only {available} are in the file",
            )
            return
        if expected is not None and declared < expected:
            row.update(
                problem="truncated",
                error=(
                    f"PixelData holds {declared} bytes; Rows x Columns x frames x BitsAllocated "
                    f"need {expected}"
                ),
            )
            return
    missing = [name for name in ("Rows", "Columns", "BitsAllocated") if name not in dataset]
    if missing:
        row.update(problem="missing tag", error=f"required tag(s) {missing} absent")
        return
    row["readable"] = True
    return


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _old_table(files: list[Path], root: Path) -> pd.DataFrame:
    """The table the previous scan_headers built from the previous rows."""
    rows = [_old_scan_file(path, root) for path in files]
    table = pd.DataFrame(rows, columns=list(SCAN_COLUMNS))
    for column in scan._INT_COLUMNS:
        table[column] = pd.array(table[column].tolist(), dtype="Int64")
    for column in scan._FLOAT_COLUMNS:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    for column in scan._TEXT_COLUMNS:
        table[column] = table[column].fillna("").astype(str)
    table["orientation"] = table["orientation"].fillna("").astype(str)
    table["readable"] = table["readable"].astype(bool)
    table["compressed"] = table["compressed"].astype("boolean")
    return table


def _same_value(old, new) -> bool:
    if isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new):
        return True
    return old == new and type(old) is type(new)


def _assert_same_rows(files, root):
    for path in files:
        new = scan.scan_file(path, root)
        try:
            old = _old_scan_file(path, root)
        except Exception as exc:
            # the previous scan raised here (a value pydicom cannot convert) and stopped the
            # whole table; the new one reports the file instead
            assert (new["readable"], new["problem"]) == (False, "header unreadable"), path
            assert new["error"].startswith(type(exc).__name__), path
            continue
        assert list(new) == list(old), path
        differing = {k: (old[k], new[k]) for k in old if not _same_value(old[k], new[k])}
        assert not differing, f"{path}: {differing}"


@pytest.fixture(scope="module")
def messy_train(tmp_path_factory):
    return build_messy_rsna(tmp_path_factory.mktemp("messy-eq") / "rsna") / "train"


def test_messy_folder_gives_the_previous_table(messy_train):
    files = scan.list_files(messy_train)
    expected = _old_table(files, messy_train)
    pd.testing.assert_frame_equal(scan.scan_headers(messy_train, progress=False), expected)
    _assert_same_rows(files, messy_train)


def test_messy_folder_on_a_process_pool_gives_the_previous_table(messy_train):
    files = scan.list_files(messy_train)
    table = scan.scan_headers(
        messy_train, scheduler="processes", n_workers=2, batch_size=7, progress=False
    )
    pd.testing.assert_frame_equal(table, _old_table(files, messy_train))


def test_generated_study_gives_the_previous_table(tmp_path):
    from course_utils.datasets import brain_mri

    brain_mri.generate(tmp_path, n_patients=2, min_matrix=32, max_matrix=48)
    train = tmp_path / "train"
    files = scan.list_files(train)
    assert len(files) > 50
    pd.testing.assert_frame_equal(
        scan.scan_headers(train, progress=False, batch_size=16), _old_table(files, train)
    )


def test_pydicom_test_files_give_the_previous_rows():
    """Big endian, implicit VR, deflated, compressed, broken and odd files: same rows."""
    import pydicom.data

    folder = Path(pydicom.data.__file__).parent / "test_files"
    files = sorted(
        (path for path in folder.rglob("*") if path.is_file()),
        key=lambda path: scan.natural_key(path.relative_to(folder)),
    )
    assert len(files) > 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the old reader's pydicom warnings about odd files
        _assert_same_rows(files, folder)
        pd.testing.assert_frame_equal(
            scan.scan_headers(files, root=folder, progress=False), _old_table(files, folder)
        )


def test_every_cut_of_a_file_gives_the_previous_row(tmp_path):
    """Cut inside the preamble, the file meta, the header, the pixel element and the pixels."""
    for name in ("MR_small.dcm", "emri_small_RLE.dcm", "CT_small.dcm"):
        data = Path(get_testdata_file(name)).read_bytes()
        cuts = sorted({*range(0, 1600, 37), *range(len(data) - 300, len(data), 29), len(data) // 2})
        for cut in cuts:
            (tmp_path / f"{name}-{cut}.dcm").write_bytes(data[:cut])
    files = sorted(tmp_path.iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _assert_same_rows(files, tmp_path)


def _variant(tmp_path, name, **values):
    import pydicom
    from pydicom.datadict import dictionary_VR, tag_for_keyword
    from pydicom.dataelem import RawDataElement

    dataset = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    path = tmp_path / f"{name}.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, value in values.items():
            if value is None:
                delattr(dataset, keyword)
            elif isinstance(value, bytes):  # an invalid value pydicom would refuse to set
                tag = tag_for_keyword(keyword)
                vr = dictionary_VR(tag)
                dataset[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)
            else:
                setattr(dataset, keyword, value)
        dataset.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("plain", {}),
        ("no-rows", {"Rows": None}),
        ("no-bits", {"BitsAllocated": None}),
        ("no-orientation", {"ImageOrientationPatient": None}),
        ("no-position", {"ImagePositionPatient": None}),
        ("multi-id", {"PatientID": "A\\B"}),
        ("long-id", {"PatientID": "X" * 70}),
        (
            "non-ascii-name",
            {"SeriesDescription": "Kopf \u00e4\u00f6\u00fc", "SpecificCharacterSet": "ISO_IR 100"},
        ),
        ("utf8", {"SpecificCharacterSet": "ISO_IR 192", "PatientID": "plain"}),
        ("odd-charset", {"SpecificCharacterSet": "ISO_IR 999"}),
        ("lower-cs", {"Modality": "mr"}),
        ("bad-uid", {"SeriesInstanceUID": "1.2.03.x"}),
        ("empty-text", {"SeriesDescription": "", "PatientID": ""}),
        ("frames", {"NumberOfFrames": "1"}),
        ("bad-frames", {"NumberOfFrames": b"two "}),
        ("short-us", {"BitsStored": b"\x10"}),
        ("bad-ds", {"SliceThickness": b"1,5 "}),
        ("nan-ds", {"PixelSpacing": b"nan\\0.5 "}),
        ("zero-samples", {"SamplesPerPixel": 0}),
        ("ybr", {"PhotometricInterpretation": "YBR_FULL_422"}),
        ("spacing-3", {"PixelSpacing": ["0.5", "0.5", "1"]}),
        ("thickness-2", {"SliceThickness": ["1", "2"]}),
        ("long-ds", {"SliceThickness": "1.00000000000000001"}),
        ("exp-ds", {"SliceThickness": "1e1", "PixelSpacing": ["5E-1", ".5"]}),
        ("inf-ds", {"SliceThickness": "1e999"}),
        ("oblique", {"ImageOrientationPatient": ["0.70710678", "0.70710678", "0", "0", "0", "-1"]}),
        (
            "tiny-cosines",
            {"ImageOrientationPatient": ["1", "-0.00004", "0.00005", "0", "1", "-0.00015"]},
        ),
        ("sagittal", {"ImageOrientationPatient": ["0", "1", "0", "0", "0", "-1"]}),
        ("half-position", {"ImagePositionPatient": ["0.00005", "-0.00015", "1.00025"]}),
        ("huge-position", {"ImagePositionPatient": ["1e300", "0", "1e300"]}),
    ],
)
def test_edited_headers_give_the_previous_row(tmp_path, name, values):
    path = _variant(tmp_path, name, **values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _assert_same_rows([path], tmp_path)


def test_file_lists_relative_paths_and_odd_paths(messy_train, tmp_path):
    """Paths given as lists, with a root, not normalised, or outside the root."""
    files = scan.list_files(messy_train)[:20]
    table = scan.scan_headers(files, root=messy_train, progress=False)
    assert table["path"].tolist() == [p.relative_to(messy_train).as_posix() for p in files]
    odd = str(files[0]).replace("/train/", "/train/./")
    row, old = (
        scan.scan_file(odd, str(messy_train) + "/"),
        _old_scan_file(odd, str(messy_train) + "/"),
    )
    assert row == old
    elsewhere = scan.scan_file(files[0], tmp_path)
    assert elsewhere == _old_scan_file(files[0], tmp_path)
    assert elsewhere["path"] == files[0].as_posix()
    cwd = os.getcwd()
    try:
        os.chdir(files[0].parent)
        assert scan.scan_file(files[0].name) == _old_scan_file(files[0].name)
    finally:
        os.chdir(cwd)


def _old_list_files(root, *, include_hidden: bool = False) -> list[Path]:
    """The list_files of commit 8b3946d, verbatim (without its argument checks)."""
    root = Path(root)
    found = []
    for folder, subfolders, names in os.walk(root):
        if not include_hidden:
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if include_hidden or not name.startswith("."):
                found.append(Path(folder) / name)
    return sorted(found, key=lambda path: scan.natural_key(path.relative_to(root).as_posix()))


@pytest.mark.parametrize("include_hidden", [False, True])
def test_list_files_gives_the_previous_list(messy_train, include_hidden):
    (messy_train / ".hidden").mkdir(exist_ok=True)
    (messy_train / ".hidden" / "Image-1.dcm").write_bytes(b"x")
    (messy_train / "00000" / ".DS_Store").write_bytes(b"x")
    try:
        for root in (messy_train, messy_train.parent, str(messy_train) + "/"):
            new = scan.list_files(root, include_hidden=include_hidden)
            old = _old_list_files(root, include_hidden=include_hidden)
            assert [str(p) for p in new] == [str(p) for p in old]
    finally:
        (messy_train / ".hidden" / "Image-1.dcm").unlink()
        (messy_train / ".hidden").rmdir()
        (messy_train / "00000" / ".DS_Store").unlink()
