"""Header-only scans of DICOM folders into one pandas table.

A dataset such as RSNA-MICCAI (about 350,000 files) is explored from its
headers: :func:`scan_headers` reads the header of every file (the pixel data
are never read or decoded) through :func:`course_utils.parallel.parallel_map`,
so the same call runs serially, in a process pool or on a dask cluster. Each
file becomes one row; a file that cannot be used (not DICOM, empty,
truncated, header broken) is a row with ``readable=False`` and the reason in
``error``, never an exception.

How it reads a header: the common case (explicit VR little endian, the
values pydicom would read without a warning) is parsed directly from the
first 16 KB of the file: the wanted elements are picked out as bytes,
sequences are stepped over, and truncation is found from the file size and
the pixel element's declared length, with no second read. Everything else
(implicit VR, big endian, deflated, odd or invalid values, broken headers)
goes to ``pydicom.dcmread(stop_before_pixels=True)``, under one warnings
context per batch, so the table is the one pydicom alone would give
(``tests/test_scan_equivalence.py`` checks this) at several times the speed
of a bare pydicom header read.

Also here: natural sorting of file names (``Image-2.dcm`` before
``Image-10.dcm``) and parsing of the RSNA-MICCAI layout
``train/<5-digit id>/<FLAIR|T1w|T1wCE|T2w>/Image-<n>.dcm``.

Example
-------
>>> table = scan_headers("data/brain-mri-study/train")   # doctest: +SKIP
>>> table.groupby("sequence").rows.value_counts()        # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import re
import struct
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

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
    top = os.fspath(root)
    prefix = top if top.endswith(os.sep) else top + os.sep
    found = []  # paths relative to root, as POSIX strings (what the sort key uses)
    for folder, subfolders, names in os.walk(top):
        if not include_hidden:
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        base = "" if folder == top else folder[len(prefix) :].replace(os.sep, "/") + "/"
        for name in names:
            if include_hidden or not name.startswith("."):
                found.append(base + name)
    found.sort(key=natural_key)
    return [root / relative for relative in found]


# --------------------------------------------------------------------------- one file
def _float_or_none(value):
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _pixel_element_header(header: bytes, offset: int, file_bytes: int, little: bool):
    """Declared length and available bytes of the PixelData element whose first bytes are ``header``."""
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


def _pixel_element(handle, offset: int, file_bytes: int, little: bool):
    """Declared length and available bytes of the PixelData element starting at ``offset``."""
    handle.seek(offset)
    return _pixel_element_header(handle.read(12), offset, file_bytes, little)


def _walk_fragments(read_at, start: int, file_bytes: int, little: bool):
    """Follow the encapsulated fragments; (complete, fragment bytes present).

    ``read_at(position, size)`` returns the file's bytes at ``position``.
    """
    order = "<" if little else ">"
    position, present = start, 0
    while position + 8 <= file_bytes:
        group, element, length = struct.unpack(order + "HHI", read_at(position, 8))
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
    return _pixel_bytes(
        rows, columns, bits, samples, frames, dataset.get("PhotometricInterpretation", "")
    )


def _pixel_bytes(rows, columns, bits, samples, frames, photometric) -> int:
    total_bits = rows * columns * samples * frames * bits
    if photometric == "YBR_FULL_422":
        total_bits = total_bits * 2 // 3
    return (total_bits + 7) // 8


def _relative(path, root) -> str:
    """``path`` relative to ``root`` as a POSIX string (the whole path if it is not below root)."""
    if (
        isinstance(path, str)
        and isinstance(root, str)
        and root not in ("", ".", "/")
        and path.startswith(root)
        and path[len(root) : len(root) + 1] == "/"
        and os.path.normpath(path) == path
        and os.path.normpath(root) == root
    ):
        return path[len(root) + 1 :]  # what Path.relative_to gives, without building Paths
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _layout(relative: str) -> tuple:
    """(patient, sequence, file_number) as :func:`parse_rsna_path` gives them, from a clean relative path."""
    if relative.startswith((".", "/")) or "\\" in relative or "/." in relative or "//" in relative:
        parsed = parse_rsna_path(relative)
        return parsed["patient"], parsed["sequence"], parsed["file_number"]
    parts = relative.split("/")
    if parts and parts[0] in ("train", "test"):
        parts = parts[1:]
    if not parts:
        return "", "", None
    name = parts[-1]
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name
    numbers = _DIGITS.findall(stem)
    return (
        parts[0] if len(parts) >= 2 else "",
        parts[1] if len(parts) >= 3 else "",
        int(numbers[-1]) if numbers else None,
    )


# Row positions of the columns, for the tuples the scan builds internally.
_COLUMN_INDEX = {name: index for index, name in enumerate(SCAN_COLUMNS)}
_N_COLUMNS = len(SCAN_COLUMNS)


def _new_row(relative: str, file_bytes) -> list:
    row = [None] * _N_COLUMNS
    row[1], row[2], row[3] = _layout(relative)
    row[0], row[4], row[5], row[6], row[7] = relative, False, "", "", file_bytes
    return row


def _set(row: list, **values) -> None:
    for name, value in values.items():
        row[_COLUMN_INDEX[name]] = value


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
    root = root if root is not None else Path(path).parent
    return dict(
        zip(SCAN_COLUMNS, _scan_batch([(os.fspath(path), os.fspath(root))])[0], strict=True)
    )


def _scan_batch(items: Sequence[tuple[str, str]]) -> list[tuple]:
    """Rows (tuples in :data:`SCAN_COLUMNS` order) of ``(path, root)`` items.

    Most files take the fast path (:func:`_fast_header`), which parses the
    header bytes directly and never warns; the others are read with pydicom
    under one warnings context for the whole batch, each file's warnings
    going into its own row.
    """
    rows = []
    caught = None
    context = None
    try:
        for path, root in items:
            row = _new_row(_relative(path, root), None)
            if not _scan_fast(row, path):
                if context is None:
                    context = warnings.catch_warnings(record=True)
                    caught = context.__enter__()
                    # pydicom's complaints about odd values go into the table, not onto the screen
                    warnings.simplefilter("always")
                before = len(caught)
                row = _new_row(row[0], None)
                _scan_with_pydicom(row, Path(path))
                if len(caught) > before:
                    row[-1] = "; ".join(sorted({str(w.message) for w in caught[before:]}))
                    del caught[before:]
            rows.append(tuple(row))
    finally:
        if context is not None:
            context.__exit__(None, None, None)
    return rows


# --------------------------------------------------------------------------- the fast path
class _Fallback(Exception):
    """The fast reader met something it does not handle: read the file with pydicom."""


class _NeedMore(Exception):
    """The header continues past the bytes read so far."""

    def __init__(self, needed: int):
        self.needed = needed


_STOP_TAGS = frozenset((0x7FE00010, 0x7FE00009, 0x7FE00008))  # pydicom's stop_before_pixels
_VR_LONG = frozenset(
    (b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV")
)
_VR_SHORT = frozenset(
    (
        *(b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO"),
        *(b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"),
    )
)
# The elements the table needs: tag -> (keyword, VR)
_WANTED = {
    0x00080005: ("SpecificCharacterSet", b"CS"),
    0x00080018: ("SOPInstanceUID", b"UI"),
    0x00080060: ("Modality", b"CS"),
    0x0008103E: ("SeriesDescription", b"LO"),
    0x00100020: ("PatientID", b"LO"),
    0x00180050: ("SliceThickness", b"DS"),
    0x0020000E: ("SeriesInstanceUID", b"UI"),
    0x00200013: ("InstanceNumber", b"IS"),
    0x00200032: ("ImagePositionPatient", b"DS"),
    0x00200037: ("ImageOrientationPatient", b"DS"),
    0x00280002: ("SamplesPerPixel", b"US"),
    0x00280004: ("PhotometricInterpretation", b"CS"),
    0x00280008: ("NumberOfFrames", b"IS"),
    0x00280010: ("Rows", b"US"),
    0x00280011: ("Columns", b"US"),
    0x00280030: ("PixelSpacing", b"DS"),
    0x00280100: ("BitsAllocated", b"US"),
    0x00280101: ("BitsStored", b"US"),
    0x00280103: ("PixelRepresentation", b"US"),
}
_DS_COUNT = {
    "SliceThickness": 1,
    "PixelSpacing": 2,
    "ImagePositionPatient": 3,
    "ImageOrientationPatient": 6,
}
# Values pydicom reads without a warning (its reading validation: valuerep.VR_REGEXES, MAX_VALUE_LEN)
_CLEAN_TEXT = re.compile(rb"^[\x20-\x5b\x5d-\x7e]*$")  # printable ASCII, no backslash
_CLEAN_CS = re.compile(rb"^[A-Z0-9 _]{0,16}$")
_CLEAN_UI = re.compile(rb"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*[\x00 ]?$")
_CLEAN_IS = re.compile(rb"^ *[+\-]?\d+ *$")
_CLEAN_DS = re.compile(rb"^ *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *$")
_CHARSETS = frozenset((b"", b"ISO_IR 100", b"ISO_IR 192", b"ISO_IR 6"))
_SYNTAXES: dict[bytes, tuple | None] = {}  # transfer syntax bytes -> (uid, name, compressed)
_FIRST_READ = 16384


def _syntax(raw: bytes):
    """(uid, name, compressed) of an explicit VR little endian transfer syntax; None for others."""
    if raw not in _SYNTAXES:
        from pydicom.uid import UID

        result = None
        if _CLEAN_UI.match(raw) and len(raw) <= 64:
            uid = UID(raw.decode("ascii").rstrip("\0 "))
            if (
                uid.is_transfer_syntax
                and uid.is_little_endian
                and not uid.is_implicit_VR
                and not uid.is_deflated
            ):
                result = (str(uid), uid.name, bool(uid.is_compressed))
        _SYNTAXES[raw] = result
    return _SYNTAXES[raw]


def _walk(buf: bytes, pos: int, end: int, found: dict | None, limit: int) -> int:
    """Walk explicit VR little endian elements from ``pos``; return where the walk stopped.

    At the top level (``found`` is a dict) the walk stops at pydicom's pixel
    tags and records the wanted elements; inside sequences it stops at
    ``end`` or after an item delimiter. ``limit`` is the file size.
    """
    unpack = struct.unpack_from
    size = len(buf)
    while pos < end:
        if pos + 8 > size:
            raise _NeedMore(pos + 12)
        group, element = unpack("<HH", buf, pos)
        tag = (group << 16) | element
        if found is not None and tag in _STOP_TAGS:
            return pos
        if group == 0xFFFE:
            if found is None and element == 0xE00D and unpack("<I", buf, pos + 4)[0] == 0:
                return pos + 8  # end of an item of undefined length
            raise _Fallback
        if group == 0x0002 and found is not None:
            raise _Fallback
        vr = buf[pos + 4 : pos + 6]
        if vr in _VR_SHORT:
            (length,) = unpack("<H", buf, pos + 6)
            start = pos + 8
        elif vr in _VR_LONG:
            if pos + 12 > size:
                raise _NeedMore(pos + 12)
            if buf[pos + 6 : pos + 8] != b"\0\0":
                raise _Fallback
            (length,) = unpack("<I", buf, pos + 8)
            start = pos + 12
        else:
            raise _Fallback
        if vr == b"SQ":
            if length == 0xFFFFFFFF:
                pos = _walk_items(buf, start, None, limit)
            else:
                if start + length > limit:
                    raise _Fallback
                if _walk_items(buf, start, start + length, limit) != start + length:
                    raise _Fallback
                pos = start + length
            continue
        if length == 0xFFFFFFFF or start + length > limit:
            raise _Fallback
        if found is not None and tag in _WANTED:
            if start + length > size:
                raise _NeedMore(start + length + 12)
            if tag in found:
                raise _Fallback
            keyword, expected_vr = _WANTED[tag]
            if vr != expected_vr:
                raise _Fallback
            found[tag] = buf[start : start + length]
        pos = start + length
    if found is not None:
        raise _Fallback  # the file ends without pixel data: pydicom says why
    return pos


def _walk_items(buf: bytes, pos: int, end: int | None, limit: int) -> int:
    """Walk the items of a sequence (to ``end``, or to its delimiter when ``end`` is None)."""
    unpack = struct.unpack_from
    while end is None or pos < end:
        if pos + 8 > len(buf):
            raise _NeedMore(pos + 12)
        group, element, length = unpack("<HHI", buf, pos)
        if group != 0xFFFE:
            raise _Fallback
        if element == 0xE0DD:
            if end is not None or length != 0:
                raise _Fallback
            return pos + 8
        if element != 0xE000:
            raise _Fallback
        start = pos + 8
        if length == 0xFFFFFFFF:
            pos = _walk(buf, start, limit, None, limit)
        else:
            stop = start + length
            if stop > limit or _walk(buf, start, stop, None, limit) != stop:
                raise _Fallback
            pos = stop
    return pos


def _text(raw: bytes | None, vr: bytes) -> str:
    if raw is None:
        return ""
    if vr == b"UI":
        if len(raw) > 64 or (raw and not _CLEAN_UI.match(raw)):
            raise _Fallback
    elif vr == b"CS":
        if not _CLEAN_CS.match(raw):
            raise _Fallback
    elif len(raw) > 64 or not _CLEAN_TEXT.match(raw):
        raise _Fallback
    return raw.decode("ascii").rstrip("\0 ")


def _us(raw: bytes | None):
    if raw is None:
        return None
    if len(raw) != 2:
        raise _Fallback
    return raw[0] | (raw[1] << 8)


def _is(raw: bytes | None):
    if raw is None:
        return None
    if len(raw) > 12 or not _CLEAN_IS.match(raw):
        raise _Fallback
    return int(raw)


def _ds(raw: bytes | None, count: int):
    if raw is None:
        return None
    parts = raw.rstrip(b" \x00").split(b"\\")
    if len(parts) != count:
        raise _Fallback
    values = []
    for part in parts:
        if len(part) > 16 or not _CLEAN_DS.match(part):
            raise _Fallback
        value = float(part)
        if not math.isfinite(value):
            raise _Fallback
        values.append(value)
    return values


def _fast_header(path: str):
    """Parse the header of an explicit VR little endian DICOM file; None when pydicom must.

    Returns (file_bytes, found elements, pixel element offset, first bytes, syntax, fd).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        file_bytes = os.fstat(fd).st_size
        if file_bytes == 0:
            return file_bytes, None, None, None
        want = _FIRST_READ
        while True:
            buf = os.pread(fd, want, 0)
            try:
                parsed = _parse(buf, file_bytes)
            except _NeedMore as more:
                if len(buf) >= file_bytes:
                    return None
                want = max(2 * want, more.needed)
                continue
            if parsed is None:
                return None
            found, offset, syntax = parsed
            if offset + 12 > len(buf) and len(buf) < file_bytes:
                buf += os.pread(fd, 12, len(buf))
            declared, available, header_bytes = _pixel_element_header(
                buf[offset : offset + 12], offset, file_bytes, True
            )
            fragments = None
            if declared == 0xFFFFFFFF:
                fragments = _walk_fragments(
                    lambda position, size: os.pread(fd, size, position),
                    offset + header_bytes,
                    file_bytes,
                    True,
                )
            return file_bytes, found, syntax, (declared, available, fragments)
    except (_Fallback, OSError, struct.error):
        return None
    finally:
        os.close(fd)


def _parse(buf: bytes, file_bytes: int):
    """(wanted elements, pixel element offset, syntax) from the first bytes of a file."""
    if len(buf) < 144 or buf[128:132] != b"DICM":
        return None
    unpack = struct.unpack_from
    # file meta: (0002,0000) UL group length first, then group 2 elements up to that length
    if buf[132:138] != b"\x02\x00\x00\x00UL" or unpack("<H", buf, 138)[0] != 4:
        return None
    meta_end = 144 + unpack("<I", buf, 140)[0]
    pos, syntax = 144, None
    while pos < meta_end:
        if pos + 8 > len(buf):
            raise _NeedMore(pos + 12)
        group, element = unpack("<HH", buf, pos)
        vr = buf[pos + 4 : pos + 6]
        if group != 0x0002:
            return None
        if vr in _VR_SHORT:
            (length,) = unpack("<H", buf, pos + 6)
            start = pos + 8
        elif vr in _VR_LONG and vr != b"SQ":
            (length,) = unpack("<I", buf, pos + 8)
            start = pos + 12
        else:
            return None
        if start + length > len(buf):
            raise _NeedMore(start + length + 12)
        if element == 0x0010:
            if vr != b"UI":
                return None
            syntax = _syntax(buf[start : start + length])
            if syntax is None:
                return None
        pos = start + length
    if pos != meta_end or syntax is None:
        return None
    found: dict = {}
    offset = _walk(buf, meta_end, file_bytes, found, file_bytes)
    return found, offset, syntax


def _scan_fast(row: list, path: str) -> bool:
    """Fill ``row`` from the fast reader; False when the file needs pydicom."""
    header = _fast_header(path)
    if header is None:
        return False
    file_bytes = header[0]
    row[7] = file_bytes
    if file_bytes == 0:
        row[5], row[6] = "empty file", "the file has 0 bytes"
        return True
    _, found, syntax, (declared, available, fragments) = header
    try:
        charset = found.get(0x00080005)
        if charset is not None and charset.rstrip(b" \x00") not in _CHARSETS:
            return False
        get = found.get
        rows, columns = _us(get(0x00280010)), _us(get(0x00280011))
        samples, bits = _us(get(0x00280002)), _us(get(0x00280100))
        frames_raw = get(0x00280008)
        frames = _is(frames_raw) if frames_raw is not None else 1
        photometric = _text(get(0x00280004), b"CS")
        spacing = _ds(get(0x00280030), 2)
        thickness = _ds(get(0x00180050), 1)
        position = _ds(get(0x00200032), 3)
        orientation = _ds(get(0x00200037), 6)
        values = (
            _text(get(0x00100020), b"LO"),
            _text(get(0x0008103E), b"LO"),
            _text(get(0x00080060), b"CS"),
            _is(get(0x00200013)),
            rows,
            columns,
            thickness[0] if thickness is not None else None,
            frames,
            samples,
            photometric,
            bits,
            _us(get(0x00280101)),
            _us(get(0x00280103)),
            _text(get(0x0020000E), b"UI"),
            _text(get(0x00080018), b"UI"),
        )
    except _Fallback:
        return False
    (
        row[8],
        row[9],
        row[10],
        row[11],
        row[18],
        row[19],
        row[22],
        row[23],
        row[24],
        row[25],
        row[26],
        row[27],
        row[28],
        row[34],
        row[35],
    ) = values
    row[29], row[30], row[31] = syntax[1], syntax[0], syntax[2]
    expected = None
    if rows is not None and columns is not None and bits is not None:
        expected = _pixel_bytes(rows, columns, bits, samples or 1, frames or 1, photometric)
    row[32] = expected
    if spacing is not None:
        row[20], row[21] = spacing
    if position is not None:
        row[12], row[13], row[14] = position
    if orientation is not None:
        _geometry(row, orientation, position)
    missing = [
        name
        for name, tag in (
            ("Rows", 0x00280010),
            ("Columns", 0x00280011),
            ("BitsAllocated", 0x00280100),
        )
        if tag not in found
    ]
    _decide(row, False, declared, available, fragments, file_bytes, missing)
    return True


def _geometry(row: list, cosines: list, position) -> None:
    """Orientation text, plane and slice position from six finite direction cosines."""
    if max(abs(c) for c in cosines) < 1e15:
        # numpy's round(x, 4) is rint(x * 1e4) / 1e4; Python's round() to an int is rint
        rounded = [round(c * 10000.0) / 10000.0 + 0.0 for c in cosines]
    else:
        import numpy as np

        rounded = [float(value) for value in np.round(cosines, 4) + 0.0]
    row[16] = " ".join(f"{value:.4g}" for value in rounded)
    a0, a1, a2, b0, b1, b2 = cosines
    normal = (a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0)
    magnitudes = [abs(value) for value in normal]
    axis = magnitudes.index(max(magnitudes))
    row[17] = "oblique" if magnitudes[axis] < 0.8 else ("sagittal", "coronal", "axial")[axis]
    if position is not None and None not in (row[12], row[14]):
        along = normal[0] * position[0] + normal[1] * position[1] + normal[2] * position[2]
        scaled = along * 10000.0
        if abs(abs(scaled - math.floor(scaled)) - 0.5) < 1e-6 or not math.isfinite(along):
            # too close to a rounding boundary to trust the last bit: numpy's sum, as before
            import numpy as np

            along = float(np.dot(normal, [float(value) for value in position]))
        row[15] = round(along, 4)


def _decide(row: list, deflated: bool, declared, available, fragments, file_bytes, missing) -> None:
    """Set readable / problem / error from the pixel element's sizes and the missing tags."""
    if deflated:
        declared = available = None  # the body is one deflate stream: sizes cannot be checked
    elif declared is None:
        row[5] = "no pixel data"
        row[6] = "the header ends without a PixelData element (no image, or the file is cut short)"
        return
    if declared is None:
        pass  # deflated: nothing to check
    elif declared == 0xFFFFFFFF:  # encapsulated (compressed) fragments
        fragments_complete, row[33] = fragments
        if not fragments_complete:
            row[5] = "truncated"
            row[6] = (
                f"compressed PixelData stops before its end-of-fragments marker: the file "
                f"({file_bytes} bytes) was cut short"
            )
            return
    else:
        row[33] = min(available, declared)
        expected = row[32]
        if available < declared:
            row[5] = "truncated"
            row[6] = f"PixelData declares {declared} bytes but only {available} are in the file"
            return
        if expected is not None and declared < expected:
            row[5] = "truncated"
            row[6] = (
                f"PixelData holds {declared} bytes; Rows x Columns x frames x BitsAllocated "
                f"need {expected}"
            )
            return
    if missing:
        row[5], row[6] = "missing tag", f"required tag(s) {missing} absent"
        return
    row[4] = True


# --------------------------------------------------------------------------- the pydicom path
def _scan_with_pydicom(row: list, path: Path) -> None:
    """Fill ``row`` by reading the file with pydicom (files the fast path does not handle)."""
    try:
        file_bytes = path.stat().st_size
    except OSError as exc:
        row[5], row[6] = "missing file", f"{type(exc).__name__}: {exc}"
        return
    row[7] = file_bytes
    if file_bytes == 0:
        row[5], row[6] = "empty file", "the file has 0 bytes"
        return
    try:
        _fill_row(row, path, file_bytes)
    except Exception as exc:  # a value pydicom cannot convert (e.g. a cut US element)
        row[8:] = [None] * (_N_COLUMNS - 8)
        row[4], row[5], row[6] = False, "header unreadable", f"{type(exc).__name__}: {exc}"


def _fill_row(row: list, path: Path, file_bytes: int) -> None:
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
            fragments = None
            if declared == 0xFFFFFFFF:

                def read_at(position, size):
                    handle.seek(position)
                    return handle.read(size)

                fragments = _walk_fragments(
                    read_at, pixel_offset + header_bytes, file_bytes, little
                )
    except InvalidDicomError as exc:
        row[5] = "not DICOM"
        row[6] = f"no DICOM file header ('DICM' at byte 128): {exc}"
        return
    except Exception as exc:  # any broken header: report, do not stop the scan
        row[5], row[6] = "header unreadable", f"{type(exc).__name__}: {exc}"
        return

    orientation = dataset.get("ImageOrientationPatient")
    position = dataset.get("ImagePositionPatient")
    spacing = dataset.get("PixelSpacing")
    _set(
        row,
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
        row[20], row[21] = _float_or_none(spacing[0]), _float_or_none(spacing[1])
    if position is not None and len(position) == 3:
        row[12], row[13], row[14] = (_float_or_none(value) for value in position)
    if orientation is not None and len(orientation) == 6:
        cosines = [_float_or_none(value) for value in orientation]
        if None not in cosines:
            xyz = None
            if position is not None:
                xyz = [float(value) for value in position]
            _geometry(row, cosines, xyz)
    missing = [name for name in ("Rows", "Columns", "BitsAllocated") if name not in dataset]
    deflated = syntax is not None and syntax.is_deflated
    _decide(row, deflated, declared, available, fragments, file_bytes, missing)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
    root_text = str(root)
    items = [(str(path), root_text) for path in files]
    rows = parallel_map(
        _scan_batch,
        items,
        scheduler=scheduler,
        n_workers=n_workers,
        batch_size=batch_size,
        progress=progress,
        desc="headers",
        batched=True,
    )
    return _table(rows)


def _table(rows: list[tuple]):
    """The typed DataFrame of the row tuples, built column by column."""
    import numpy as np
    import pandas as pd

    values = list(zip(*rows, strict=True)) if rows else [()] * _N_COLUMNS
    data = {}
    for name, column in zip(SCAN_COLUMNS, values, strict=True):
        if name in _INT_COLUMNS:
            data[name] = pd.array(list(column), dtype="Int64")
        elif name in _FLOAT_COLUMNS:
            data[name] = np.array([np.nan if v is None else v for v in column], dtype=float)
        elif name in _TEXT_COLUMNS or name == "orientation":
            data[name] = pd.Series(["" if v is None else v for v in column], dtype=object).astype(
                str
            )
        elif name == "readable":
            data[name] = np.array(column, dtype=bool)
        else:  # compressed: True / False / unknown
            data[name] = pd.array(list(column), dtype="boolean")
    return pd.DataFrame(data, columns=list(SCAN_COLUMNS))
