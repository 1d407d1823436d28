"""Header-only scans of DICOM folders into one pandas table.

A dataset such as RSNA-MICCAI (about 350,000 files) is explored from its
headers: :func:`scan_headers` reads every file with
``pydicom.dcmread(stop_before_pixels=True)`` (the pixel data are never
decoded) through :func:`course_utils.parallel.parallel_map`, so the same call
runs serially, in a process pool or on a dask cluster. Each file becomes one
row; a file that cannot be used (not DICOM, empty, truncated, header broken)
is a row with ``readable=False`` and the reason in ``error``, never an
exception.

Also here: natural sorting of file names (``Image-2.dcm`` before
``Image-10.dcm``) and parsing of the RSNA-MICCAI layout
``train/<5-digit id>/<FLAIR|T1w|T1wCE|T2w>/Image-<n>.dcm``.

Example
-------
>>> table = scan_headers("data/brain-mri-study/train")   # doctest: +SKIP
>>> table.groupby("sequence").rows.value_counts()        # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import struct
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = [
    "SCAN_COLUMNS",
    "SEQUENCES",
    "list_files",
    "natural_key",
    "natural_sorted",
    "parse_rsna_path",
    "scan_file",
    "scan_headers",
]

#: The four MR sequences of the RSNA-MICCAI layout, in the competition's order.
SEQUENCES = ("FLAIR", "T1w", "T1wCE", "T2w")

#: Columns of the table returned by :func:`scan_headers`, in order.
SCAN_COLUMNS = (
    "path",
    "patient",
    "sequence",
    "file_number",
    "readable",
    "problem",
    "error",
    "file_bytes",
    "patient_id_tag",
    "series_description",
    "modality",
    "instance",
    "position_x_mm",
    "position_y_mm",
    "position_z_mm",
    "slice_position_mm",
    "orientation",
    "plane",
    "rows",
    "columns",
    "pixel_spacing_row_mm",
    "pixel_spacing_col_mm",
    "slice_thickness_mm",
    "frames",
    "samples_per_pixel",
    "photometric",
    "bits_allocated",
    "bits_stored",
    "pixel_representation",
    "transfer_syntax",
    "transfer_syntax_uid",
    "compressed",
    "pixel_bytes_expected",
    "pixel_bytes_available",
    "series_uid",
    "sop_uid",
    "warnings",
)

_INT_COLUMNS = (
    "file_number",
    "file_bytes",
    "instance",
    "rows",
    "columns",
    "frames",
    "samples_per_pixel",
    "bits_allocated",
    "bits_stored",
    "pixel_representation",
    "pixel_bytes_expected",
    "pixel_bytes_available",
)
_FLOAT_COLUMNS = (
    "position_x_mm",
    "position_y_mm",
    "position_z_mm",
    "slice_position_mm",
    "pixel_spacing_row_mm",
    "pixel_spacing_col_mm",
    "slice_thickness_mm",
)
_TEXT_COLUMNS = (
    "warnings",
    "path",
    "patient",
    "sequence",
    "problem",
    "error",
    "patient_id_tag",
    "series_description",
    "modality",
    "plane",
    "photometric",
    "transfer_syntax",
    "transfer_syntax_uid",
    "series_uid",
    "sop_uid",
    "warnings",
)

_DIGITS = re.compile(r"(\d+)")
_RSNA_ID = re.compile(r"^\d{5}$")
_PIXEL_DATA_TAG = 0x7FE00010
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD), length 0, little endian


# --------------------------------------------------------------------------- sorting and layout
def natural_key(name: str | os.PathLike) -> tuple:
    """Sort key that orders the numbers inside a name numerically.

    ``sorted(["Image-10.dcm", "Image-2.dcm"])`` puts ``Image-10`` first
    because text compares character by character ("1" < "2"). This key
    splits the name into text and integer parts, so ``Image-2`` < ``Image-10``.

    Parameters
    ----------
    name : str or path
        A file name or path (the whole string is used).

    Returns
    -------
    tuple
        Alternating ``(text, number)`` pairs, comparable between any two names.

    Example
    -------
    >>> sorted(["Image-10.dcm", "Image-2.dcm", "Image-1.dcm"], key=natural_key)
    ['Image-1.dcm', 'Image-2.dcm', 'Image-10.dcm']
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"name must be a str or path, got {type(name).__name__}")
    text = os.fspath(name)
    if not isinstance(text, str):
        raise TypeError(f"name must be a str or path, got bytes {name!r}")
    parts = _DIGITS.split(text)
    # parts alternates text, digits, text, ...: make every element a (kind, value) pair
    return tuple(
        (0, int(part)) if index % 2 else (1, part.lower()) for index, part in enumerate(parts)
    )


def natural_sorted(names: Iterable) -> list:
    """Return ``names`` sorted with :func:`natural_key` (numbers compared as numbers).

    Example
    -------
    >>> natural_sorted(["b10", "b9", "a100"])
    ['a100', 'b9', 'b10']
    """
    return sorted(names, key=natural_key)


def parse_rsna_path(relative_path: str | os.PathLike) -> dict:
    """Patient, sequence and file number from an RSNA-MICCAI-style relative path.

    The layout is ``[train/]<5-digit id>/<sequence>/Image-<n>.dcm``. Parts that
    do not fit are returned as empty strings / None instead of raising, so
    stray files can still be tabulated.

    Parameters
    ----------
    relative_path : str or path
        Path relative to the dataset's ``train`` folder (or to its parent).

    Returns
    -------
    dict
        ``patient`` (the folder name, e.g. ``"00012"``; ``""`` if there is no
        patient folder), ``sequence`` (the folder name above the file, e.g.
        ``"FLAIR"``; ``""`` if none) and ``file_number`` (the last integer in
        the file name, or None).

    Example
    -------
    >>> parse_rsna_path("train/00012/T1wCE/Image-7.dcm")
    {'patient': '00012', 'sequence': 'T1wCE', 'file_number': 7}
    >>> parse_rsna_path("README.txt")
    {'patient': '', 'sequence': '', 'file_number': None}
    """
    parts = Path(relative_path).parts
    if parts and parts[0] in ("train", "test"):
        parts = parts[1:]
    numbers = _DIGITS.findall(Path(relative_path).stem) if parts else []
    file_number = int(numbers[-1]) if numbers else None
    patient = parts[0] if len(parts) >= 2 else ""
    sequence = parts[1] if len(parts) >= 3 else ""
    return {"patient": patient, "sequence": sequence, "file_number": file_number}


def list_files(root: str | os.PathLike, *, include_hidden: bool = False) -> list[Path]:
    """Every file below ``root`` (any name, any extension), naturally sorted.

    Stray non-DICOM files are listed too: the scan reports them instead of
    silently skipping them.

    Parameters
    ----------
    root : path
        A folder.
    include_hidden : bool
        Also list files and folders whose names start with ``.`` (e.g. ``.DS_Store``).

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    NotADirectoryError
        If ``root`` is a file.

    Example
    -------
    >>> files = list_files("data/brain-mri-study/train")   # doctest: +SKIP
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"root {root} does not exist; expected a folder of DICOM files")
    if not root.is_dir():
        raise NotADirectoryError(f"root {root} is a file; expected a folder of DICOM files")
    found = []
    for folder, subfolders, names in os.walk(root):
        if not include_hidden:
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if include_hidden or not name.startswith("."):
                found.append(Path(folder) / name)
    return sorted(found, key=lambda path: natural_key(path.relative_to(root).as_posix()))


# --------------------------------------------------------------------------- one file
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


def scan_file(path: str | os.PathLike, root: str | os.PathLike | None = None) -> dict:
    """Read one file's header (no pixels) into a row of the scan table.

    Never raises for a bad file: the row has ``readable=False``, a short
    ``problem`` category (``"empty file"``, ``"not DICOM"``, ``"header
    unreadable"``, ``"no pixel data"``, ``"truncated"``, ``"missing tag"``)
    and the detailed ``error`` text.

    Parameters
    ----------
    path : path
        The file.
    root : path, optional
        Folder the ``path`` column is made relative to (default: the file's folder).

    Returns
    -------
    dict
        One value per name in :data:`SCAN_COLUMNS`.

    Example
    -------
    >>> from pydicom.data import get_testdata_file
    >>> row = scan_file(get_testdata_file("CT_small.dcm"))
    >>> row["rows"], row["readable"], row["transfer_syntax"]
    (128, True, 'Explicit VR Little Endian')
    """

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
        _fill_row(row, path, file_bytes)
    if caught:
        row["warnings"] = "; ".join(sorted({str(warning.message) for warning in caught}))
    return row


def _fill_row(row: dict, path: Path, file_bytes: int) -> None:
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


def _scan_item(item: tuple[str, str]) -> dict:
    path, root = item
    return scan_file(path, root)


# --------------------------------------------------------------------------- the whole folder
def scan_headers(
    root_or_files,
    *,
    scheduler: str = "serial",
    n_workers: int | None = None,
    progress: bool | None = None,
    batch_size: int | None = None,
    root: str | os.PathLike | None = None,
):
    """Scan the headers of every file into one table (pixels are never read).

    Parameters
    ----------
    root_or_files : path or sequence of paths
        A folder (every file below it is scanned, whatever its name: stray
        files are reported, not skipped) or an explicit list of files. The
        ``path`` column is relative to the folder, or to the files' common
        parent folder.
    scheduler : str
        Where the work runs: ``"serial"``, ``"processes"``, ``"dask-local"``
        or a dask scheduler address ``"tcp://host:8786"``; see
        :func:`course_utils.parallel.parallel_map`. The table is identical
        for every scheduler.
    n_workers : int, optional
        Worker processes for the parallel schedulers.
    progress : bool, optional
        Progress bar (default: on unless ``COURSE_PROGRESS=0``).
    batch_size : int, optional
        Files per task (default: about four tasks per worker).
    root : path, optional
        With a list of files: the folder the ``path`` column is relative to
        (default: the files' common parent folder).

    Returns
    -------
    pandas.DataFrame
        One row per file, columns :data:`SCAN_COLUMNS`, in natural order of
        the paths. ``readable`` is False for files that cannot be used, with
        ``problem`` (a category) and ``error`` (the detail). Positions,
        spacings and thickness are in mm; ``slice_position_mm`` is the
        position along the slice normal (the right key to sort slices).
        ``pixel_bytes_expected`` (from Rows, Columns, frames, BitsAllocated)
        vs ``pixel_bytes_available`` (in the file) detects truncation.

    Raises
    ------
    FileNotFoundError
        If ``root_or_files`` is a folder that does not exist.
    ValueError
        If a list of files is empty.

    Example
    -------
    >>> from pydicom.data import get_testdata_file
    >>> table = scan_headers([get_testdata_file("CT_small.dcm")], progress=False)
    >>> int(table.loc[0, "rows"]), int(table.loc[0, "columns"]), table.loc[0, "photometric"]
    (128, 128, 'MONOCHROME2')
    """
    import pandas as pd

    from course_utils.parallel import parallel_map

    if isinstance(root_or_files, (str, os.PathLike)):
        root = Path(root_or_files)
        if root.is_file():
            files, root = [root], root.parent
        else:
            files = list_files(root)
    else:
        files = [Path(item) for item in root_or_files]
        if not files:
            raise ValueError("root_or_files is an empty list; expected a folder or some files")
        if root is None:
            root = Path(os.path.commonpath([str(path.resolve().parent) for path in files]))
        else:
            root = Path(root).resolve()
            outside = [path for path in files if not path.resolve().is_relative_to(root)]
            if outside:
                raise ValueError(
                    f"{len(outside)} file(s) are not below root {root}, e.g. {outside[0]}"
                )
        files = sorted(
            (path.resolve() for path in files), key=lambda p: natural_key(p.relative_to(root))
        )
    items = [(str(path), str(root)) for path in files]
    rows = parallel_map(
        _scan_item,
        items,
        scheduler=scheduler,
        n_workers=n_workers,
        batch_size=batch_size,
        progress=progress,
        desc="headers",
    )
    table = pd.DataFrame(rows, columns=list(SCAN_COLUMNS))
    for column in _INT_COLUMNS:
        table[column] = pd.array(table[column].tolist(), dtype="Int64")
    for column in _FLOAT_COLUMNS:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    for column in _TEXT_COLUMNS:
        table[column] = table[column].fillna("").astype(str)
    table["orientation"] = table["orientation"].fillna("").astype(str)
    table["readable"] = table["readable"].astype(bool)
    table["compressed"] = table["compressed"].astype("boolean")
    return table
