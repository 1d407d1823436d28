"""Checks for ``03_dicom_eda``.

Each check recomputes the reference from the same header-scan table (or the
same file) the student used and prints specific feedback without giving the
answer away.

Example
-------
>>> import pandas as pd
>>> table = pd.DataFrame({"patient": ["00001"] * 4, "sequence": ["FLAIR", "T1w", "T1wCE", "T2w"],
...                       "readable": [True] * 4})
>>> check_incomplete_patients(set(), table)
✅ incomplete patients: correct.
True
"""

from __future__ import annotations

import copy
import os

import numpy as np

from course_utils import checks

__all__ = [
    "check_blank_ends",
    "check_compression_history",
    "check_deidentified",
    "check_id_differences",
    "check_header_reader",
    "check_incomplete_patients",
    "check_sequence_mismatches",
    "held_out_scan",
    "held_out_series",
    "reference_sequence_mismatches",
    "check_slice_counts",
    "check_slice_step",
    "reference_blank_ends",
    "reference_compression_history",
    "reference_id_differences",
    "reference_incomplete_patients",
    "reference_slice_counts",
]

_SEQUENCES = ("FLAIR", "T1w", "T1wCE", "T2w")


def _scan_table(scan_table):
    import pandas as pd

    if not isinstance(scan_table, pd.DataFrame):
        raise TypeError(
            f"scan_table must be the pandas DataFrame from scan_headers, got {type(scan_table).__name__}"
        )
    missing = [c for c in ("patient", "sequence", "readable") if c not in scan_table.columns]
    if missing:
        raise ValueError(
            f"scan_table lacks column(s) {missing}; pass the table returned by course_utils.scan.scan_headers"
        )
    return scan_table


# --------------------------------------------------------------------------- incomplete patients
def reference_incomplete_patients(scan_table) -> set[str]:
    """Patients of the scan that lack a readable file in at least one of the four sequences.

    Only rows with a patient folder count (stray files at the top are not
    patients).
    """
    table = _scan_table(scan_table)
    in_folders = table[table["patient"].astype(str) != ""]
    usable = in_folders[in_folders["readable"].astype(bool)]
    have = usable.groupby("patient")["sequence"].apply(lambda s: set(s) & set(_SEQUENCES))
    patients = set(in_folders["patient"].astype(str))
    return {p for p in patients if len(have.get(p, set())) < len(_SEQUENCES)}


def held_out_scan():
    """A small scan table (not from the course's data) whose broken files change every answer.

    Patient 20002's T1wCE folder holds only unreadable files; 20001's T2w series
    lost three files of eight, in its middle; 20003 has no T1w folder at all;
    every file of 20005 is unreadable (the worst folder of a real download).
    20002's FLAIR folder holds two series (a repeat after the patient moved,
    numbered from 1 again), and 20004's T1w series is numbered from 101; 20006
    is a copy of 20004's folder, UIDs included. The table has every column of
    :data:`course_utils.scan.SCAN_COLUMNS`.
    """
    import pandas as pd

    from course_utils.scan import SCAN_COLUMNS

    rows = []
    layout = {  # (readable, unreadable) files per series
        "20001": {"FLAIR": (30, 0), "T1w": (24, 0), "T1wCE": (24, 0), "T2w": (5, 3)},
        "20002": {"FLAIR": (28, 0), "T1w": (26, 1), "T1wCE": (0, 4), "T2w": (30, 0)},
        "20003": {"FLAIR": (32, 0), "T1wCE": (22, 0), "T2w": (34, 0)},
        "20004": {"FLAIR": (36, 0), "T1w": (20, 0), "T1wCE": (26, 0), "T2w": (28, 0)},
        "20005": {"FLAIR": (0, 3), "T1w": (0, 2), "T1wCE": (0, 2), "T2w": (0, 3)},
    }
    broken_in_middle = {("20001", "T2w"): {2, 4, 5}}  # file indices; elsewhere at the end
    first_instance = {("20004", "T1w"): 101}
    second_series = {("20002", "FLAIR"): 12}  # readable files of a repeat in the same folder
    for patient, series in layout.items():
        for number, (sequence, (good, broken)) in enumerate(series.items(), start=1):
            n_files = good + broken
            bad = broken_in_middle.get((patient, sequence), set(range(good, n_files)))
            parts = [(f"2.25.{patient}{number}", [i not in bad for i in range(n_files)])]
            if (patient, sequence) in second_series:
                parts.append(
                    (f"2.25.{patient}{number}9", [True] * second_series[patient, sequence])
                )
            file_number = 0
            for series_uid, readable_files in parts:
                for index, readable in enumerate(readable_files):
                    file_number += 1
                    instance = first_instance.get((patient, sequence), 1) + index
                    header = {  # what scan_headers reads from a file whose header parses
                        "patient_id_tag": f"ID{patient}",
                        "series_description": sequence,
                        "modality": "MR",
                        "instance": instance,
                        "series_uid": series_uid,
                        "sop_uid": f"{series_uid}{index + 1:03d}",
                    }
                    rows.append(
                        {
                            "path": f"{patient}/{sequence}/Image-{file_number}.dcm",
                            "patient": patient,
                            "sequence": sequence,
                            "file_number": file_number,
                            "readable": readable,
                            "problem": "" if readable else "truncated",
                            "file_bytes": 14_000 if readable else 600,
                            **(header if readable else {}),
                        }
                    )
    # 20006 is a copy of 20004's folder (a folder copied by an export or by hand):
    # the same SeriesInstanceUIDs under another patient
    rows += [
        {**row, "patient": "20006", "path": row["path"].replace("20004/", "20006/", 1)}
        for row in rows
        if row["patient"] == "20004"
    ]
    rows.append(
        {
            "path": "notes.txt",
            "patient": "",
            "sequence": "",
            "readable": False,
            "problem": "not DICOM",
        }
    )
    table = pd.DataFrame(rows)
    for column in SCAN_COLUMNS:
        if column not in table:
            table[column] = np.nan if column.endswith(("_mm", "_bytes_expected")) else ""
    text = [c for c in table.columns if pd.api.types.is_string_dtype(table[c])]
    table[text] = table[text].fillna("")
    return table[list(SCAN_COLUMNS)]


def check_incomplete_patients(answer, scan_table) -> bool:
    """Check the set of patients without a usable file in each of FLAIR, T1w, T1wCE and T2w.

    Parameters
    ----------
    answer : collection of str, or a function
        Patient folder names (e.g. ``{"00012"}``), or the student's function
        that computes them from the scan table.
    scan_table : pandas.DataFrame
        The table from :func:`course_utils.scan.scan_headers` the student used.

    Returns
    -------
    bool

    Raises
    ------
    TypeError, ValueError
        If ``scan_table`` is not a scan table (a bug in the notebook, not the answer).

    Example
    -------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"patient": ["00001"] * 3, "sequence": ["FLAIR", "T1w", "T2w"],
    ...                       "readable": [True] * 3})
    >>> check_incomplete_patients(["00001"], table)
    ✅ incomplete patients: correct.
    True
    """
    name = "incomplete patients"
    if callable(answer):
        function = answer
        # the held-out table first: it has a series of broken files only
        for table, which in ((held_out_scan(), "a held-out"), (scan_table, "the lesson's")):
            ok, result = checks.call_student(function, table.copy(), name=name)
            if not ok:
                return False
            if not _incomplete_verdict(result, table, name, which):
                return False
        return checks.feedback(True, name)
    return _incomplete_verdict(answer, scan_table, name, "the")


def _incomplete_verdict(answer, table, name, which) -> bool:
    expected = reference_incomplete_patients(table)
    if answer is None:
        return checks.feedback(False, name, "got None. Assign your set of patient ids.")
    if isinstance(answer, (str, bytes)):
        return checks.feedback(False, name, "got a single string; expected a set of patient ids.")
    try:
        answer = {str(item) for item in answer}
    except TypeError:
        return checks.feedback(
            False, name, f"expected a set of patient ids, got {type(answer).__name__}."
        )
    stripped = {item.lstrip("0") for item in answer}
    if answer != expected and stripped == {item.lstrip("0") for item in expected}:
        return checks.feedback(
            False,
            name,
            "the ids lost their leading zeros.",
            "Patient folders are 5-character strings such as '00012', not integers.",
        )
    if answer == expected:
        return True if which != "the" else checks.feedback(True, name)
    hint = None
    if "" in answer:
        hint = "Rows with an empty patient are stray files at the top, not a patient."
    elif expected - answer:
        ignores_readable = reference_incomplete_patients(table.assign(readable=True))
        readable_only = reference_incomplete_patients(table[table["readable"].astype(bool)])
        if answer == ignores_readable:
            hint = (
                "A sequence counts only if it has at least one readable file: a folder whose "
                "files are all broken (readable == False) is as good as missing."
            )
        elif answer == readable_only:
            hint = (
                "A patient whose files are all broken has no readable row at all: start from "
                "every patient folder in the table, not from the readable rows."
            )
        else:
            hint = (
                "A sequence counts only if it has at least one readable file: a folder whose "
                "files are all broken (readable == False) is as good as missing, and a patient "
                "whose files are all broken has no readable row at all: start from every "
                "patient folder."
            )
    else:
        hint = "A patient is incomplete only when one of the four sequences has no readable file."
    if which != "the":
        hint = f"(checked on {which} table) {hint}"
    return checks.check_set(answer, expected, name=name, hint=hint)


# --------------------------------------------------------------------------- slice counts
def _series_key(table):
    """One key per series: the folder, and within it the SeriesInstanceUID (when read)."""
    uid = table["series_uid"] if "series_uid" in table else ""
    return [table["sequence"], table["patient"], uid]


def _per_sequence(counts):
    """min, median and max of per-series values indexed (sequence, ...), one row per sequence."""
    return counts.groupby(level=0).agg(["min", "median", "max"]).astype(float)


def reference_slice_counts(scan_table):
    """min, median and max number of readable slices per series, one row per sequence.

    A series is one SeriesInstanceUID within one patient's sequence folder: a
    folder may hold two series (a repeat), and a broken file whose header could
    not be read has no UID and counts for none.
    """
    table = _scan_table(scan_table)
    usable = table[table["readable"].astype(bool) & table["sequence"].isin(_SEQUENCES)]
    summary = _per_sequence(usable.groupby(_series_key(usable), dropna=False).size())
    summary.index.name = "sequence"
    return summary


def check_slice_counts(answer, scan_table) -> bool:
    """Check the slice-count distribution per sequence.

    The expected table has one row per sequence (index named ``sequence``)
    and the columns ``min``, ``median`` and ``max`` of the number of readable
    files per series (one series = one SeriesInstanceUID in a patient's folder
    of that sequence). A function is run on :func:`held_out_scan` (a folder
    with two series, a series numbered from 101, broken files in the middle
    of a series) and then on the lesson's table.

    Parameters
    ----------
    answer : pandas.DataFrame, or a function
        The table, or the student's function that computes it from the scan table.
    scan_table : pandas.DataFrame
        The table from :func:`course_utils.scan.scan_headers` the student used.

    Returns
    -------
    bool

    Example
    -------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"patient": ["1", "1", "2"], "sequence": ["T1w"] * 3,
    ...                       "readable": [True, True, True], "series_uid": ["1.1", "1.1", "1.2"]})
    >>> answer = pd.DataFrame({"min": [1.0], "median": [1.5], "max": [2.0]},
    ...                       index=pd.Index(["T1w"], name="sequence"))
    >>> check_slice_counts(answer, table)
    ✅ slice counts per sequence: correct.
    True
    """
    name = "slice counts per sequence"
    if callable(answer):
        function = answer
        # the held-out table first: there, each likely mistake changes min, median or max
        for table, which in ((held_out_scan(), "a held-out"), (scan_table, "the lesson's")):
            ok, result = checks.call_student(function, table.copy(), name=name)
            if not ok:
                return False
            if not _slice_count_verdict(result, table, name, which):
                return False
        return checks.feedback(True, name)
    return _slice_count_verdict(answer, scan_table, name, "the")


def _likely_slice_counts(table):
    """{mistake: (table it gives, message, hint)} for the likely wrong slice counts."""
    in_folders = table[table["sequence"].isin(_SEQUENCES)]
    readable = in_folders[in_folders["readable"].astype(bool)]
    by_series = readable.groupby(_series_key(readable), dropna=False)
    instance = readable.assign(instance=readable["instance"].replace("", np.nan).astype(float))
    numbered = instance.groupby(_series_key(instance), dropna=False)["instance"]
    folders = ["sequence", "patient"]
    return {
        "per folder": (
            _per_sequence(readable.groupby(folders).size()),
            "the counts are per folder, not per series",
            "A folder can hold more than one series (a repeat after the patient moved): "
            "count the readable files of each SeriesInstanceUID (column series_uid).",
        ),
        "per UID over the whole table": (
            _per_sequence(readable.groupby(["sequence", "series_uid"]).size()),
            "the counts are per SeriesInstanceUID over the whole table",
            "A copied folder (an export or a hand copy) repeats its UIDs under "
            "another patient: count per patient folder and series UID.",
        ),
        "largest instance number": (
            _per_sequence(numbered.max()),
            "the counts follow the instance numbers, not the files",
            "Instance numbers are labels, not counts: they may start at 101 and skip the "
            "files that could not be read. Count the readable rows of each series.",
        ),
        "largest instance number per UID": (
            _per_sequence(instance.groupby(["sequence", "series_uid"])["instance"].max()),
            "the counts follow the instance numbers, not the files",
            "Instance numbers are labels, not counts: they may start at 101 and skip the "
            "files that could not be read. Count the readable rows of each series.",
        ),
        "largest instance number per folder": (
            _per_sequence(instance.groupby(folders)["instance"].max()),
            "the counts follow the instance numbers, not the files",
            "Instance numbers are labels, not counts: they may start at 101, restart in a "
            "second series and skip broken files. Count the readable rows of each series.",
        ),
        **{
            f"broken files counted {how}": (
                _per_sequence(in_folders.groupby(keys, dropna=False).size()),
                "some counts are too high",
                "Count only readable files: stray and broken files are not slices.",
            )
            for how, keys in [
                ("per folder", folders),
                ("per series", _series_key(in_folders)),
                ("per UID", ["sequence", "series_uid"]),
            ]
        },
        "mean": (
            _per_sequence(by_series.size()).assign(
                median=by_series.size().groupby(level=0).mean().astype(float)
            ),
            "min and max are right, the middle column is not",
            "The middle column is the median of the counts per series, not their mean.",
        ),
    }


def _slice_count_verdict(answer, scan_table, name, which) -> bool:
    import pandas as pd

    expected = reference_slice_counts(scan_table)
    table = _scan_table(scan_table)
    if answer is None:
        return checks.feedback(False, name, "got None. Assign the DataFrame you built.")
    if isinstance(answer, pd.Series):
        return checks.feedback(
            False,
            name,
            "got a Series; expected a DataFrame with columns min, median, max.",
            "Count files per series first, then aggregate per sequence with .agg([...]).",
        )
    if not isinstance(answer, pd.DataFrame):
        return checks.feedback(False, name, f"expected a DataFrame, got {type(answer).__name__}.")
    missing = [c for c in ("min", "median", "max") if c not in answer.columns]
    if missing:
        return checks.feedback(False, name, f"missing column(s) {missing}.")
    answer = answer[["min", "median", "max"]].astype(float)
    if set(map(str, answer.index)) != set(map(str, expected.index)):
        return checks.feedback(
            False,
            name,
            f"rows are {sorted(map(str, answer.index))}; expected one row per sequence.",
            "Group by the sequence column and make it the index.",
        )
    answer = answer.copy()
    answer.index = answer.index.map(str)
    answer = answer.loc[list(expected.index)]
    if np.allclose(answer.to_numpy(), expected.to_numpy(), equal_nan=True):
        return True if which != "the" else checks.feedback(True, name)
    where = f" (on {which} table)"
    for wrong, message, hint in _likely_slice_counts(table).values():
        wrong = wrong.reindex(expected.index)
        if np.allclose(wrong.to_numpy(), expected.to_numpy(), equal_nan=True):
            continue  # this table cannot tell that mistake apart
        if np.allclose(answer.to_numpy(), wrong.to_numpy(), equal_nan=True):
            return checks.feedback(False, name, message + where + ".", hint)
    if (answer["min"] == 0).any() and not (expected["min"] == 0).any():
        return checks.feedback(
            False,
            name,
            "a minimum of 0 slices" + where + ".",
            "A missing series is not a series with 0 slices: count the series that exist "
            "(a pivot table filled with zeros adds series that are not there).",
        )
    if np.all(answer.to_numpy() >= expected.to_numpy()):
        return checks.feedback(
            False,
            name,
            "some counts are too high" + where + ".",
            "Count only readable files, one series at a time: stray and broken files are not "
            "slices, and a folder may hold two series.",
        )
    wrong = [c for c in ("min", "median", "max") if not np.allclose(answer[c], expected[c])]
    return checks.feedback(
        False,
        name,
        f"the column(s) {wrong} differ" + where + ".",
        "Count readable files per series, then take min, median and max per sequence.",
    )


# --------------------------------------------------------------------------- header reader
_HEADER_KEYS = (
    "readable",
    "problem",
    "rows",
    "columns",
    "series_description",
    "repetition_time_ms",
    "echo_time_ms",
    "inversion_time_ms",
)
_TIMING = {
    "repetition_time_ms": "RepetitionTime",
    "echo_time_ms": "EchoTime",
    "inversion_time_ms": "InversionTime",
}


def _header_test_files(path, folder):
    """A good copy of ``path`` and four broken or stripped variants, written to ``folder``."""
    import shutil

    import pydicom

    folder = os.fspath(folder)
    good = os.path.join(folder, "good.dcm")
    shutil.copyfile(path, good)
    dataset = pydicom.dcmread(path)
    stripped = copy.deepcopy(dataset)
    for keyword in ("SeriesDescription", *_TIMING.values()):
        if keyword in stripped:
            delattr(stripped, keyword)
    stripped_path = os.path.join(folder, "no_optional_tags.dcm")
    stripped.save_as(stripped_path, enforce_file_format=True)
    raw = open(path, "rb").read()
    pixel_bytes = len(dataset.PixelData)
    truncated = os.path.join(folder, "truncated.dcm")
    with open(truncated, "wb") as handle:
        handle.write(raw[: len(raw) - pixel_bytes // 2])  # cut inside the pixel data
    # cut by fewer bytes than the header is long: the whole file is still bigger than
    # the pixels it promises, so only "bytes after the header" finds this cut
    shortened = os.path.join(folder, "shortened.dcm")
    with open(shortened, "wb") as handle:
        handle.write(raw[: len(raw) - 40])
    # cut by fewer bytes than the pixel data element's own header (tag, VR, length: 12 bytes
    # in explicit VR, 8 in implicit): only "bytes after the element header" finds this cut
    slightly = os.path.join(folder, "slightly_truncated.dcm")
    with open(slightly, "wb") as handle:
        handle.write(raw[: len(raw) - 2])
    not_dicom = os.path.join(folder, "notes.dcm")
    with open(not_dicom, "w", encoding="utf-8") as handle:
        handle.write("scanner export log: 4 series\n")
    empty = os.path.join(folder, "empty.dcm")
    open(empty, "wb").close()
    return {
        "good": good,
        "stripped": stripped_path,
        "truncated": truncated,
        "40 bytes short": shortened,
        "slightly truncated": slightly,
        "not DICOM": not_dicom,
        "empty": empty,
    }


def _expected_header(path):
    import pydicom

    dataset = pydicom.dcmread(path, stop_before_pixels=True)

    def number(keyword):
        value = dataset.get(keyword)
        return None if value in (None, "") else float(value)

    return {
        "rows": int(dataset.Rows),
        "columns": int(dataset.Columns),
        "series_description": dataset.get("SeriesDescription"),
        **{key: number(keyword) for key, keyword in _TIMING.items()},
    }


def _same_value(given, expected) -> bool:
    missing = (None, "")
    if expected in missing:
        return given in missing or (isinstance(given, float) and np.isnan(given))
    if isinstance(expected, str):
        return str(given) == expected
    try:
        return bool(np.isclose(float(given), float(expected)))
    except (TypeError, ValueError):
        return False


def check_header_reader(function, path: str | os.PathLike) -> bool:
    """Check a one-file header reader on a good file and on broken or stripped copies of it.

    The student's ``function(path) -> dict`` must return the keys ``readable``
    (bool), ``problem`` (str, "" when readable), ``rows``, ``columns``,
    ``series_description`` and ``repetition_time_ms``, ``echo_time_ms``,
    ``inversion_time_ms`` (None when the tag is absent). It is run on a copy of
    ``path``, on a copy without SeriesDescription/TR/TE/TI, on a copy truncated
    inside the pixel data, on copies 40 and 2 bytes short, on a text file and on a
    zero-byte file, and must
    read headers only (``stop_before_pixels=True``).

    Parameters
    ----------
    function : callable
        ``function(path) -> dict``.
    path : path
        A complete DICOM file with pixel data.

    Returns
    -------
    bool

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (a bug in the notebook, not the answer).

    Example
    -------
    >>> check_header_reader(read_header, "Image-1.dcm")  # doctest: +SKIP
    ✅ header reader: correct.
    True
    """
    import tempfile
    from unittest import mock

    import pydicom

    name = "header reader"
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path {path} does not exist; expected a DICOM file")
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    real_dcmread = pydicom.dcmread
    full_reads = []

    def watched(*args, **kwargs):
        if not kwargs.get("stop_before_pixels", False):
            full_reads.append(args[0] if args else kwargs.get("fp"))
        return real_dcmread(*args, **kwargs)

    with tempfile.TemporaryDirectory() as folder:
        files = _header_test_files(path, folder)
        results = {}
        for label, file in files.items():
            try:
                with mock.patch.object(pydicom, "dcmread", watched):
                    results[label] = function(file)
            except NotImplementedError:
                return checks.feedback(
                    False, name, "not implemented yet (it still raises NotImplementedError)."
                )
            except Exception as exc:
                if label == "stripped":
                    return checks.feedback(
                        False,
                        name,
                        f"it raised {type(exc).__name__} on a file without SeriesDescription, "
                        "RepetitionTime, EchoTime and InversionTime.",
                        "Public releases drop optional tags: ask the dataset for a tag with a default "
                        "instead of reading it as an attribute.",
                    )
                return checks.feedback(
                    False,
                    name,
                    f"it raised {type(exc).__name__} on the {label} file instead of reporting it.",
                    "One bad file must not stop a scan of thousands: catch the error and return "
                    "readable=False with the problem.",
                )
            if not isinstance(results[label], dict):
                return checks.feedback(
                    False, name, f"expected a dict, got {type(results[label]).__name__}."
                )
        expected = {label: _expected_header(files[label]) for label in ("good", "stripped")}
    missing = [key for key in _HEADER_KEYS if key not in results["good"]]
    if missing:
        return checks.feedback(False, name, f"the dict lacks the key(s) {missing}.")
    if full_reads:
        return checks.feedback(
            False,
            name,
            "it read whole files, pixel data included.",
            "A survey needs the header only: tell pydicom where to stop reading.",
        )
    for label in ("good", "stripped"):
        result = results[label]
        if result.get("readable") is not True:
            return checks.feedback(
                False,
                name,
                f"the {label} file was reported as not readable ({result.get('problem')!r}).",
                "Compare what remains after the header with what the header promises, "
                "in bytes, not in elements.",
            )
        wrong = [
            key for key, value in expected[label].items() if not _same_value(result.get(key), value)
        ]
        if wrong:
            detail = (
                "An absent tag is None, not 0 or an empty string."
                if label == "stripped"
                else "Read each value from its tag and convert DS numbers to float."
            )
            return checks.feedback(
                False, name, f"wrong value(s) for {wrong} ({label} file).", detail
            )
    for label in ("truncated", "40 bytes short", "slightly truncated", "not DICOM", "empty"):
        result = results[label]
        if result.get("readable") is not False or not str(result.get("problem") or "").strip():
            if label == "truncated":
                hint = (
                    "A header-only read succeeds on a cut file: after it, the file position is "
                    "where the pixel data start; compare the bytes left with Rows x Columns x "
                    "BitsAllocated/8 (x frames x samples)."
                )
            elif label == "40 bytes short":
                hint = (
                    "A file cut by a few bytes is still longer than its pixel data: compare the "
                    "promised pixel bytes with the bytes *after the header*, not with the file size."
                )
            elif label == "slightly truncated":
                hint = (
                    "A file two bytes short passes: tell() points at the start of the PixelData "
                    "*element*, and its tag, VR and length (12 bytes in explicit VR, 8 in "
                    "implicit) come before the pixel bytes."
                )
            else:
                hint = "Catch pydicom's error and say what is wrong in 'problem'."
            return checks.feedback(
                False,
                name,
                f"the {label} file is not reported as unreadable with a problem.",
                hint,
            )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- sequence cross-check
_SERIES_COLUMNS = (
    "patient",
    "sequence",
    "series_description",
    "repetition_time_ms",
    "echo_time_ms",
    "inversion_time_ms",
)


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(np.isnan(float(value)))
    except (TypeError, ValueError):
        return str(value).strip() == ""


_CONTRAST_WORDS = ("ce", "post", "gad", "gd", "+c", "c+", "contrast")


def description_words(description) -> list[str]:
    """Lower-case words of a SeriesDescription, split at spaces, ``_``, ``-``, ``/`` and the like.

    A ``+c`` stays one word, also when written onto the previous one (``"T1+C"``).

    Example
    -------
    >>> description_words("t1_space_sag_p2_iso"), description_words("Ax T1+C")
    (['t1', 'space', 'sag', 'p2', 'iso'], ['ax', 't1', '+c'])
    """
    import re

    return re.findall(r"\+c\b|c\+|[a-z0-9]+", str(description).lower())


def sequence_from_description(description) -> str | None:
    """The sequence a SeriesDescription names (``None`` when it names none).

    Case-insensitive, on whole words (:func:`description_words`), in this
    order: "flair" without a T1 word ("t1", "t1w", "t1ce"...) -> FLAIR (a "T1 FLAIR" or
    "T1W FLAIR" is a T1-weighted
    inversion recovery); "t2" -> T2w; "t1" with one of the words "ce", "post",
    "gad", "gd", "+c", "contrast" (or one word such as "t1ce", "t1wce") ->
    T1wCE; "t1" -> T1w.

    Example
    -------
    >>> sequence_from_description("AX T1 POST GAD"), sequence_from_description("localiser")
    ('T1wCE', None)
    >>> sequence_from_description("t1_space_sag_p2_iso"), sequence_from_description("AX T1 FLAIR")
    ('T1w', 'T1w')
    """

    if _missing(description):
        return None
    return _sequence_from_words(description_words(description))


def _sequence_from_words(words) -> str | None:
    """The protocol table's description rules, applied to a list of words."""
    import re

    t1 = any(re.fullmatch(r"t1w?(ce|c|gd|post)?", word) for word in words)
    if any("flair" in word for word in words) and not t1:
        return "FLAIR"
    if any(re.fullmatch(r"t2w?", word) for word in words):
        return "T2w"
    if t1:
        joined = any(re.fullmatch(r"t1w?(ce|c|gd|post)", word) for word in words)
        if joined or any(word in _CONTRAST_WORDS for word in words):
            return "T1wCE"
        return "T1w"
    return None


def sequences_from_timing(tr_ms, te_ms, ti_ms) -> set[str] | None:
    """Sequences compatible with TR/TE/TI (``None`` when the timing is absent or ambiguous).

    TI >= 1500 ms and TR >= 4000 ms -> FLAIR; else TR >= 2000 ms and TE >= 60 ms
    -> T2w when TI is present (and < 1500 ms), T2w or FLAIR when TI is absent (a
    release that drops InversionTime makes a FLAIR look like a T2w); else
    TE < 30 ms and (TR < 1000 ms, or TI < 1500 ms: a T1 inversion recovery such
    as MPRAGE, TI 300-1200 ms) -> T1w or T1wCE (contrast does not change the
    timing).

    Example
    -------
    >>> sorted(sequences_from_timing(550, 12, None)), sorted(sequences_from_timing(2400, 3.6, 1000))
    (['T1w', 'T1wCE'], ['T1w', 'T1wCE'])
    >>> sorted(sequences_from_timing(9000, 120, None)), sorted(sequences_from_timing(4500, 100, 0))
    (['FLAIR', 'T2w'], ['T2w'])
    """
    tr = np.nan if _missing(tr_ms) else float(tr_ms)
    te = np.nan if _missing(te_ms) else float(te_ms)
    ti = np.nan if _missing(ti_ms) else float(ti_ms)
    # every comparison with NaN is False: absent timing says nothing
    if ti >= 1500 and tr >= 4000:
        return {"FLAIR"}
    if tr >= 2000 and te >= 60:
        if np.isnan(ti):  # no TI: an inversion pulse is not ruled out
            return {"T2w", "FLAIR"}
        return {"T2w"} if ti < 1500 else None
    if te < 30 and (tr < 1000 or ti < 1500):
        return {"T1w", "T1wCE"}
    return None


def _substring_description(description) -> str | None:
    """The first version of the rules (substrings, "flair" first): a likely wrong answer."""
    if _missing(description):
        return None
    text = str(description).lower()
    if "flair" in text:
        return "FLAIR"
    if "t2" in text:
        return "T2w"
    if "t1" in text:
        contrast = any(word in text for word in ("ce", "post", "gad", "+c", "contrast"))
        return "T1wCE" if contrast else "T1w"
    return None


def _case_sensitive_description(description, keywords_in="lower") -> str | None:
    """The description rules compared case-sensitively: a likely wrong answer.

    ``keywords_in="lower"`` matches the rules' lower-case words against the
    description as written (so "AX T2 FLAIR" names nothing); ``"upper"``
    matches them written in capitals (so "ax flair" names nothing).
    """
    import re

    if _missing(description):
        return None
    words = re.findall(r"\+[cC]\b|[cC]\+|[A-Za-z0-9]+", str(description))
    wanted = str.lower if keywords_in == "lower" else str.upper
    # a word counts only when it is written in the case of the keywords
    kept = [word.lower() if word == wanted(word) else "" for word in words]
    return _sequence_from_words([word for word in kept if word])


def _absent_ti_timing(tr_ms, te_ms, ti_ms) -> set[str] | None:
    """Timing rules where an absent TI means "no inversion pulse": a likely wrong answer."""
    said = sequences_from_timing(tr_ms, te_ms, ti_ms)
    return {"T2w"} if said == {"T2w", "FLAIR"} else said


def _whole_case_description(description, keywords_in="upper") -> str | None:
    """The description rules applied only to descriptions written wholly in one case."""
    if _missing(description):
        return None
    text = str(description)
    written = text.upper() if keywords_in == "upper" else text.lower()
    return sequence_from_description(text) if text == written else None


def _ti_alone_timing(tr_ms, te_ms, ti_ms) -> set[str] | None:
    """Timing rules where any inversion time of 300 ms or more means FLAIR: a likely wrong answer."""
    if not _missing(ti_ms) and float(ti_ms) >= 300:
        return {"FLAIR"}
    return sequences_from_timing(tr_ms, te_ms, ti_ms)


def _ti_te_swapped_timing(tr_ms, te_ms, ti_ms) -> set[str] | None:
    """Timing rules with the echo time and the inversion time exchanged: a likely wrong answer."""
    return sequences_from_timing(tr_ms, ti_ms, te_ms)


def _ti_or_tr_timing(tr_ms, te_ms, ti_ms) -> set[str] | None:
    """Timing rules where a long TI *or* a long TR means FLAIR: a likely wrong answer."""
    tr = np.nan if _missing(tr_ms) else float(tr_ms)
    ti = np.nan if _missing(ti_ms) else float(ti_ms)
    if ti >= 1500 or tr >= 4000:
        return {"FLAIR"}
    return sequences_from_timing(tr_ms, te_ms, ti_ms)


def _first_substring_description(description) -> str | None:
    """Sequence names found as substrings, "t1" before the contrast words: a likely wrong answer.

    "T1wCE" contains "t1w", so every post-contrast description is read as T1w.
    """
    if _missing(description):
        return None
    text = str(description).lower()
    if "flair" in text and "t1" not in text:
        return "FLAIR"
    if "t2" in text:
        return "T2w"
    if "t1" in text:
        return "T1w"
    return None


def _folder_in_description(description, folder) -> bool:
    """True when the folder name is a substring of the description, ignoring case."""
    return not _missing(description) and str(folder).lower() in str(description).lower()


_SUBSTRING_HINT = (
    "Substrings mislead: 'T1w' is found inside 'T1wCE' (and 'ce' inside 'space'). Split the "
    "description into words, as the exercise defines them, and apply the protocol table's "
    "rows in their order."
)
_TI_TE_HINT = (
    "TI is InversionTime (inversion_time_ms), the wait after the inversion pulse, often "
    "1,800-2,500 ms in a FLAIR; TE is EchoTime (echo_time_ms), tens of ms. Check which column "
    "each rule reads."
)


def _mismatches_with(table, named=None, timed=None) -> set[tuple[str, str]]:
    """Mismatches found with the given description and timing rules (``None``: not used)."""
    found = set()
    for row in table.itertuples(index=False):
        says_name = named(row.series_description) if named else None
        says_time = (
            timed(row.repetition_time_ms, row.echo_time_ms, row.inversion_time_ms)
            if timed
            else None
        )
        if (says_name is not None and says_name != row.sequence) or (
            says_time is not None and row.sequence not in says_time
        ):
            found.add((str(row.patient), str(row.sequence)))
    return found


def reference_sequence_mismatches(series_table) -> set[tuple[str, str]]:
    """(patient, sequence) of series whose description or timing contradicts the folder name."""
    table = _series_table(series_table)
    return _mismatches_with(table, sequence_from_description, sequences_from_timing)


def _diagnose_mismatches(answer, table, which):
    """(message, hint) when ``answer`` is exactly what a likely wrong rule set gives, else None."""
    expected = reference_sequence_mismatches(table)
    case_message = (
        f"your comparison of the descriptions is case-sensitive: on {which} table "
        f"{len(expected - answer)} mislabelled series are missed and "
        f"{len(answer - expected)} correct ones flagged."
    )
    case_hint = (
        "Vendors write 'AX T2 FLAIR', 'Ax T2 TSE' and 'ax flair' for the same kind of series: "
        "bring every description to one case before you compare words."
    )
    candidates = [
        (
            (lambda d: _case_sensitive_description(d, "lower"), sequences_from_timing),
            (case_message, case_hint),
        ),
        (
            (lambda d: _case_sensitive_description(d, "upper"), sequences_from_timing),
            (case_message, case_hint),
        ),
        (
            (lambda d: _whole_case_description(d, "upper"), sequences_from_timing),
            (case_message, case_hint),
        ),
        (
            (lambda d: _whole_case_description(d, "lower"), sequences_from_timing),
            (case_message, case_hint),
        ),
        (
            (None, sequences_from_timing),
            (
                f"only the timing was used: on {which} table {len(expected - answer)} series "
                "whose description names another sequence are missed.",
                "The description is evidence of its own: a series without TR/TE/TI (or with "
                "timing that fits its folder) can still be contradicted by its SeriesDescription.",
            ),
        ),
        (
            (sequence_from_description, None),
            (
                f"only the descriptions were used: on {which} table {len(expected - answer)} "
                "series whose timing contradicts the folder are missed.",
                "A series without a description can still be checked by its TR, TE and TI.",
            ),
        ),
        (
            (sequence_from_description, _absent_ti_timing),
            (
                f"{len(answer - expected)} correctly labelled FLAIR series of {which} table are "
                "flagged: their long TR and TE look like a T2w because they carry no TI.",
                "An absent InversionTime is unknown, not zero: releases drop the tag. Long TR, "
                "long TE and no TI fit a T2w or a FLAIR; only a TI that is present rules FLAIR out.",
            ),
        ),
        (
            (_first_substring_description, sequences_from_timing),
            (
                f"the descriptions were matched by substring: on {which} table "
                f"{len(expected - answer)} mislabelled series are missed and "
                f"{len(answer - expected)} correct ones flagged.",
                _SUBSTRING_HINT,
            ),
        ),
        (
            (sequence_from_description, _ti_te_swapped_timing),
            (
                f"{len(answer - expected)} correctly labelled series of {which} table are "
                "flagged as if their echo time and inversion time were exchanged.",
                _TI_TE_HINT,
            ),
        ),
        (
            (sequence_from_description, _ti_or_tr_timing),
            (
                f"{len(answer - expected)} correctly labelled series of {which} table are "
                "called FLAIR because of a long TR or a long TI alone.",
                "A T2w series also has a long TR (4,000 ms or more) and its TI, when present, is "
                "short; the FLAIR row of the protocol table asks for a long TI and a long TR.",
            ),
        ),
        (
            (sequence_from_description, _ti_alone_timing),
            (
                f"{len(answer - expected)} correctly labelled series of {which} table are "
                "flagged because of their inversion time.",
                "An inversion time alone does not make a FLAIR: T1 inversion recovery (MPRAGE, "
                "T1 FLAIR) uses TI 300-1200 ms with a short TE; FLAIR needs a long TI and a long TR.",
            ),
        ),
    ]
    for (named, timed), verdict in candidates:
        wrong = _mismatches_with(table, named, timed)
        if wrong != expected and answer == wrong:
            return verdict
    return None


def _series_table(series_table):
    import pandas as pd

    if not isinstance(series_table, pd.DataFrame):
        raise TypeError(
            f"series_table must be a pandas DataFrame, got {type(series_table).__name__}"
        )
    missing = [c for c in _SERIES_COLUMNS if c not in series_table.columns]
    if missing:
        raise ValueError(
            f"series_table lacks column(s) {missing}; expected {list(_SERIES_COLUMNS)}"
        )
    return series_table


def held_out_series():
    """Vendor-style series headers (not from the course's data) with five mislabelled series."""
    import pandas as pd

    nan = float("nan")
    rows = [
        ("10001", "FLAIR", "AX T2 FLAIR", 9000, 81, 2500),
        ("10001", "T1w", "t1_se_tra", 600, 9.5, nan),
        ("10001", "T1wCE", "AX T1 POST GAD", 600, 9.5, nan),
        ("10001", "T2w", "t2_tse_tra", 5000, 95, nan),
        ("10002", "FLAIR", None, 8500, 90, 2400),
        ("10002", "T1w", "SAG T1 MPRAGE", 2300, 2.9, 900),  # T1 inversion recovery
        ("10002", "T1wCE", "", 650, 10, nan),
        ("10002", "T2w", None, nan, nan, nan),  # nothing to check: not a mismatch
        ("10003", "FLAIR", "Ax T2 TSE", 4800, 100, nan),  # a T2w series in the FLAIR folder
        ("10003", "T1w", None, 9000, 85, 2500),  # a FLAIR series, no description
        ("10003", "T1wCE", "Ax T1 +C", 550, 12, nan),
        ("10003", "T2w", "AX T2 PROPELLER", 4000, 102, nan),
        ("10004", "FLAIR", "ax flair", nan, nan, nan),
        ("10004", "T1w", "t1_space_sag_p2_iso", 700, 10, nan),  # "ce" inside "space"
        ("10004", "T1wCE", "sag 3D T1 sequence post", 650, 9, nan),
        ("10004", "T2w", "ax flair", nan, nan, nan),  # a FLAIR series, lower case, no timing
        ("10005", "FLAIR", "Sag T2 FLAIR SPACE", 5000, 390, 1800),
        ("10005", "T1w", "AX T1 FLAIR", 2000, 10, 800),  # T1-weighted inversion recovery
        ("10005", "T1wCE", "T1 MPRAGE +C", 2400, 3.6, 1000),
        ("10005", "T2w", "T2W_TSE", 6000, 110, nan),
        ("10006", "FLAIR", "AX T2 FLAIR FS", 9000, 88, 2500),
        ("10006", "T1w", "AX T1 SE", 500, 10, nan),
        ("10006", "T1wCE", "AX T1 POST", nan, nan, nan),
        ("10006", "T2w", "AX FLAIR", nan, nan, nan),  # a FLAIR series, capitals, no timing
        ("10007", "FLAIR", None, 9000, 120, nan),  # a FLAIR whose TI the release dropped
        ("10007", "T2w", "T2 TSE AX", 5200, 98, 0),  # TI written as 0: no inversion pulse
        ("10008", "FLAIR", "AX FLAIR", 8800, 110, nan),  # the same, with its description
        ("10008", "T2w", None, 6000, 105, 0),
        ("10009", "T1w", "AX T1WCE 3D", 560, 11, nan),  # post-contrast series in the T1w folder
        ("10009", "T1wCE", "T1wCE_tra", 550, 10, nan),
    ]
    return pd.DataFrame(rows, columns=list(_SERIES_COLUMNS))


def check_sequence_mismatches(function, series_table) -> bool:
    """Check a cross-check of SeriesDescription, TR, TE and TI against the folder names.

    The function receives a table with one row per series (columns ``patient``,
    ``sequence`` (the folder name), ``series_description``,
    ``repetition_time_ms``, ``echo_time_ms``, ``inversion_time_ms``; absent
    values are None or NaN) and returns the set of ``(patient, sequence)``
    whose headers contradict the folder (see :func:`sequence_from_description`
    and :func:`sequences_from_timing` for the rules). It is run on the lesson's
    table and on a held-out table of vendor-style descriptions.

    Example
    -------
    >>> check_sequence_mismatches(reference_sequence_mismatches, held_out_series())
    ✅ sequence cross-check: correct.
    True
    """
    name = "sequence cross-check"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    for table, which in (
        (_series_table(series_table), "the lesson's"),
        (held_out_series(), "a held-out"),
    ):
        expected = reference_sequence_mismatches(table)
        ok, answer = checks.call_student(function, table.copy(), name=name)
        if not ok:
            return False
        try:
            answer = {(str(p), str(s)) for p, s in answer}
        except (TypeError, ValueError):
            return checks.feedback(False, name, "expected a set of (patient, sequence) pairs.")
        extra, missed = answer - expected, expected - answer
        if not extra and not missed:
            continue
        diagnosis = _diagnose_mismatches(answer, table, which)
        if diagnosis is not None:
            return checks.feedback(False, name, *diagnosis)
        rows = table.set_index(["patient", "sequence"])
        if extra:
            message, hint = _explain_extra(rows.loc[sorted(extra)], which)
            return checks.feedback(False, name, message, hint)
        flagged = rows.loc[sorted(missed)]
        descriptions = [d for d in flagged["series_description"] if not _missing(d)]
        substring_misses = [
            folder
            for (_, folder), d in flagged["series_description"].items()
            if _folder_in_description(d, folder) or _first_substring_description(d) == folder
        ]
        if not descriptions:
            hint = "A series without a description can still be checked by its TR, TE and TI."
        elif substring_misses:
            return checks.feedback(
                False,
                name,
                f"{len(missed)} mislabelled series of {which} table are not found; the "
                f"description of {len(substring_misses)} of them contains its folder name "
                "as a substring, but names another sequence.",
                _SUBSTRING_HINT,
            )
        elif any(
            all(
                sequence_from_description(d) != _case_sensitive_description(d, case)
                for d in descriptions
            )
            for case in ("lower", "upper")
        ):
            return checks.feedback(
                False,
                name,
                f"{len(missed)} mislabelled series of {which} table are not found, and every one "
                "of them is missed by a case-sensitive comparison of its description.",
                "Vendors write 'AX T2 FLAIR', 'Ax T2 TSE' and 'ax flair' for the same kind of "
                "series: bring every description to one case before you compare words.",
            )
        else:
            hint = "Check the description and the timing; either one can contradict the folder."
        return checks.feedback(
            False, name, f"{len(missed)} mislabelled series of {which} table are not found.", hint
        )
    return checks.feedback(True, name)


def _explain_extra(flagged, which):
    """Message and hint for correctly labelled series that a student flagged."""
    sequences = [s for _, s in flagged.index]
    descriptions = list(flagged["series_description"])
    timings = [
        sequences_from_timing(tr, te, ti)
        for tr, te, ti in flagged[
            ["repetition_time_ms", "echo_time_ms", "inversion_time_ms"]
        ].itertuples(index=False)
    ]
    message = f"{len(flagged)} correctly labelled series of {which} table are flagged."
    if all(_missing(d) and t is None for d, t in zip(descriptions, timings, strict=True)):
        return (
            "series without any description or timing are flagged.",
            "A series you cannot check is 'unknown', not a mismatch.",
        )
    if all(_missing(d) for d in descriptions):
        return (
            message,
            "A series without a description is not contradicted by it: only a description that "
            "names another sequence counts against the folder.",
        )

    # the inversion-time hint only when the timing is what flagged them: no description of
    # these series names another sequence, by the right rules or by a likely wrong reading
    def description_explains(description, sequence):
        readings = (
            sequence_from_description(description),
            _substring_description(description),
            _case_sensitive_description(description, "lower"),
            _case_sensitive_description(description, "upper"),
        )
        return any(said not in (None, sequence) for said in readings)

    timing_only = not any(
        description_explains(d, s) for d, s in zip(descriptions, sequences, strict=True)
    )
    if timing_only and all(
        not _missing(ti) and float(ti) < 1500 for ti in flagged["inversion_time_ms"]
    ):
        return (
            message,
            "An inversion time alone does not make a FLAIR: T1 inversion recovery (MPRAGE, "
            "T1 FLAIR) uses TI 300-1200 ms with a short TE; FLAIR needs a long TI and a long TR.",
        )
    swapped = [
        _ti_te_swapped_timing(tr, te, ti)
        for tr, te, ti in flagged[
            ["repetition_time_ms", "echo_time_ms", "inversion_time_ms"]
        ].itertuples(index=False)
    ]
    if timing_only and all(
        said is not None and s not in said for said, s in zip(swapped, sequences, strict=True)
    ):
        return message + " Their timing fits the folder; with TE and TI exchanged it would not.", (
            _TI_TE_HINT
        )
    if all(
        _first_substring_description(d) not in (None, s) and sequence_from_description(d) == s
        for d, s in zip(descriptions, sequences, strict=True)
    ):
        return message + " Their descriptions were read by substring.", _SUBSTRING_HINT
    if all(s == "T1wCE" and t == {"T1w", "T1wCE"} for s, t in zip(sequences, timings, strict=True)):
        return message, "TR/TE cannot tell T1w from T1wCE: contrast does not change the timing."
    wrong_words = [
        d
        for d, s in zip(descriptions, sequences, strict=True)
        if not _missing(d) and _substring_description(d) != sequence_from_description(d)
    ]
    if len(wrong_words) == len(flagged) and any("flair" in str(d).lower() for d in wrong_words):
        return (
            message,
            "'T1 FLAIR' is a T1-weighted inversion recovery: 'flair' says FLAIR only without 't1'.",
        )
    if len(wrong_words) == len(flagged):
        return (
            message,
            "Match 'ce', 'post', 'gad' as whole words: 'ce' is inside 'space' and 'sequence'.",
        )
    if all(sequence_from_description(d) == s for d, s in zip(descriptions, sequences, strict=True)):
        return (
            message,
            "Vendors write 'AX T2 FLAIR' or 't2_tse_tra', not the folder name: compare the "
            "sequence that the description's words name (the protocol table) with the folder, "
            "not the folder name with the description's text (finding the folder name inside "
            "the description proves nothing: 'T1w' is inside 'T1wCE').",
        )
    return message, "Apply the protocol table row by row; a piece of evidence may say nothing."


# --------------------------------------------------------------------------- de-identification
_GEOMETRY = (
    "Rows",
    "Columns",
    "PixelSpacing",
    "SliceThickness",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "BitsAllocated",
    "PixelRepresentation",
)


_UID_PATTERN = r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$"
#: Type 1 / Type 2 attributes of the Patient, General Study and SOP Common modules that a
#: de-identified file must keep when its original had them (PS3.15 "Z": empty, do not delete).
_KEPT_ATTRIBUTES = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
)
#: UIDs that name the kind of object or its encoding, not the patient: never remapped.
_CLASS_UIDS = (
    ("SOPClassUID", False),
    ("MediaStorageSOPClassUID", True),
    ("TransferSyntaxUID", True),
)
_SHARED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")


def _uid_problem(value) -> str:
    import re

    text = "" if value is None else str(value)
    if not text.strip():
        return "empty"
    if len(text) > 64 or not re.match(_UID_PATTERN, text):
        return f"not a valid UID ({text[:30]!r}: digits and dots, no leading zeros, 64 at most)"
    return ""


def check_deidentified(function, paths) -> bool:
    """Run a student's de-identification function on several files of one series and prove the result.

    The function receives each file's ``pydicom.Dataset`` and a secret ``key``
    (a string) and must return a de-identified Dataset. It is run on every file
    under two different keys. Passing requires, for every file: no original
    identifying value anywhere (:func:`course_utils.deid.find_identifiers`
    with the identities of :func:`course_utils.deid.collect_identities`, and,
    on the generated brain-mri-study, with the identity its generator planted, a
    list independent of ``deid``'s tables; private tags and nested sequences
    included); geometry and pixel data
    unchanged; the input dataset left unmodified; ``PatientIdentityRemoved``
    "YES" and a ``DeidentificationMethod`` or
    ``DeidentificationMethodCodeSequence`` (PS3.15 requires one of them). Across
    the files: Study, Series, SOP Instance and Frame of Reference UIDs valid,
    non-empty and new; the Study/Series/Frame of Reference UIDs the same in every
    file where they were the same before (a series must stay one series); SOP
    Instance UIDs distinct and equal to the file meta's; UIDs not derived from the
    old UID alone; one non-empty PatientID per patient, a different one for each
    patient. Across the two keys: the same key gives the same pseudonym and UIDs
    again, a different key gives different ones (an unkeyed hash, or a secret
    written into the function, fails).

    Parameters
    ----------
    function : callable
        ``function(dataset, key) -> pydicom.Dataset``.
    paths : path or list of paths
        DICOM files with identifying values, best several of one series plus
        files of a second patient.

    Returns
    -------
    bool

    Raises
    ------
    FileNotFoundError
        If a path does not exist (a bug in the notebook, not the answer).

    Example
    -------
    >>> from course_utils import deid
    >>> check_deidentified(lambda ds, key: deid.anonymise_dataset(ds, key=key), paths)  # doctest: +SKIP
    ✅ de-identified file: correct.
    True
    """

    import inspect

    name = "de-identified file"
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise ValueError("paths is empty; expected one or more DICOM files of one series")
    for path in paths:
        if not os.path.isfile(os.fspath(path)):
            raise FileNotFoundError(
                f"path {os.fspath(path)} does not exist; expected a DICOM file to de-identify"
            )
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    try:
        inspect.signature(function).bind(None, "key")
    except TypeError:
        return checks.feedback(
            False,
            name,
            "your function does not take two arguments.",
            "Define it as deidentify(dataset, key): the key is the project's secret.",
        )
    except ValueError:  # no signature available (a builtin): just call it
        pass
    keys = ("course-check-key-1", "course-check-key-2")
    runs = {}
    for key in (keys[0], keys[1], keys[0]):
        run = _deidentify_all(function, paths, key, name)
        if run is None:
            return False
        runs.setdefault(key, []).append(run)
    first, again = runs[keys[0]]
    other = runs[keys[1]][0]
    if [str(r.get("PatientID")) for r in first] != [str(r.get("PatientID")) for r in again] or [
        str(r.get("SOPInstanceUID")) for r in first
    ] != [str(r.get("SOPInstanceUID")) for r in again]:
        return checks.feedback(
            False,
            name,
            "run twice with the same key, the files got different pseudonyms or UIDs.",
            "With the same key the output must be reproducible: nothing random, everything "
            "derived from the old value and the key.",
        )
    same = [
        keyword
        for keyword in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
        if any(
            keyword in a and str(a.get(keyword)) == str(b.get(keyword))
            for a, b in zip(first, other, strict=True)
        )
    ]
    if same:
        return checks.feedback(
            False,
            name,
            f"with two different keys the files get the same {', '.join(same)}.",
            "A hash of the old value alone (or with a secret written into your function) can "
            "be recomputed by anyone who has the original file and your code: mix in the key "
            "you are given.",
        )
    return checks.feedback(True, name)


# patient characteristics and times of day: kept by the model answer and by course_utils.deid
_PLANTED_KEPT = {"PatientSex", "PatientAge", "PatientWeight", "StudyTime"}


def _planted_identities(path) -> list[tuple[str, str]]:
    """The identity the brain-mri-study generator planted in the patient of ``path``.

    A list of identities that owes nothing to ``course_utils.deid``'s action table (ground
    truth for the generated data); ``[]`` for any other file, or when the recomputed identity
    does not match the file's PatientID (a variant written with other identities).
    """
    import json
    from pathlib import Path

    import pydicom

    from course_utils.datasets import brain_mri

    path = Path(path).resolve()
    root = next((p for p in path.parents if (p / ".complete.json").is_file()), None)
    if root is None:
        return []
    try:
        info = json.loads((root / ".complete.json").read_text(encoding="utf-8"))
        seed = int(info["params"]["seed"])
        brats_id = int(path.relative_to(root / "train").parts[0])
        patient_id = pydicom.dcmread(path, stop_before_pixels=True).get("PatientID")
    except (ValueError, KeyError, TypeError, OSError):
        return []
    if info.get("name") != "brain-mri-study":
        return []
    # the generator's first draw from each patient's random generator is the identity
    planted = brain_mri._identity(np.random.default_rng([20214, seed, brats_id]), brats_id)
    if planted["PatientID"] != patient_id:
        return []
    return [
        (keyword, str(value))
        for keyword, value in planted.items()
        if keyword not in _PLANTED_KEPT and keyword not in {"field_strength", "brats_id"}
    ]


def _deidentify_all(function, paths, key, name):
    """The student's outputs for every file under one key, or None after printing feedback."""
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    from course_utils import deid

    def fail(message, hint=None):
        checks.feedback(False, name, message, hint)
        return None

    originals, results = [], []
    for path in paths:
        original = pydicom.dcmread(os.fspath(path))
        given = copy.deepcopy(original)
        ok, result = checks.call_student(function, given, key, name=name)
        if not ok:
            return None
        if result is None:
            return fail("your function returned None; return the cleaned Dataset.")
        if not isinstance(result, Dataset):
            return fail(f"expected a pydicom Dataset, got {type(result).__name__}.")
        if given != original:
            return fail(
                "your function modified the dataset it was given.",
                "Work on a copy (copy.deepcopy) so the original stays available.",
            )
        findings = deid.find_identifiers(result, deid.collect_identities(original))
        planted = deid.find_identifiers(result, _planted_identities(path))
        if planted and not findings:  # missed by the list built from deid's own tables
            places = sorted({finding.where for finding in planted})
            return fail(
                f"{len(planted)} value(s) of the identity the generator planted survive, in "
                f"{len(places)} element(s), e.g. {'; '.join(places[:3])}.",
                "Not every identifying attribute has the VR PN, DA or UI: look at each text "
                "attribute of the original and ask whether it names a person, place or device.",
            )
        if findings:
            places = sorted({finding.where for finding in findings})
            shown = "; ".join(places[:3])
            return fail(
                f"{len(findings)} identifying value(s) survive, in {len(places)} element(s), e.g. {shown}.",
                "Look inside sequences and private tags too; UIDs and dates identify as well.",
            )
        changed = [
            k for k in _GEOMETRY if k in original and str(result.get(k)) != str(original.get(k))
        ]
        if changed:
            return fail(
                f"analysis needs these unchanged, but they differ: {changed}.",
                "Only identifying attributes should change.",
            )
        if "PixelData" in original and result.get("PixelData") != original.PixelData:
            return fail("the pixel data changed or are missing.")
        problem = _conformance_problem(original, result)
        if problem:
            return fail(*problem)
        originals.append(original)
        results.append(result)
    n = len(results)
    for keyword in ("SOPInstanceUID", *_SHARED_UIDS):
        for original, result in zip(originals, results, strict=True):
            if keyword not in original:
                continue
            problem = _uid_problem(result.get(keyword))
            if problem:
                return fail(
                    f"{keyword} is {problem}.",
                    "Type 1 UIDs must stay present and valid: replace them, do not blank them.",
                )
    sop = [str(r.get("SOPInstanceUID", "")) for r in results]
    if len(set(sop)) < n:
        return fail(
            "two files got the same SOPInstanceUID.",
            "Each image keeps its own identity: derive each new UID from its old one.",
        )
    for result in results:
        meta = getattr(result, "file_meta", None)
        if meta is not None and "MediaStorageSOPInstanceUID" in meta:
            if str(meta.MediaStorageSOPInstanceUID) != str(result.get("SOPInstanceUID")):
                return fail(
                    "the file meta's MediaStorageSOPInstanceUID differs from SOPInstanceUID.",
                    "The file meta header names the same instance: update it too.",
                )
    for keyword in _SHARED_UIDS:
        pairs = {
            (str(o.get(keyword)), str(r.get(keyword)))
            for o, r in zip(originals, results, strict=True)
            if keyword in o
        }
        old = {a for a, _ in pairs}
        new = {b for _, b in pairs}
        if len(new) != len(old) or len(pairs) != len(old):
            return fail(
                f"{keyword} had {len(old)} value(s) in the {n} original files and "
                f"{len(new)} after.",
                "A random new UID per file splits the series: the same old UID must always give "
                "the same new one (derive it from the old UID and a secret).",
            )
        if old & new:
            return fail(f"{keyword} is unchanged; UIDs link back to the hospital's archive.")
    for keyword in ("SOPInstanceUID", *_SHARED_UIDS):
        for original, result in zip(originals, results, strict=True):
            if keyword in original and str(result.get(keyword)) == generate_uid(
                entropy_srcs=[str(original.get(keyword))]
            ):
                return fail(
                    f"the new {keyword} is derived from the old UID alone.",
                    "Anyone holding the original can recompute it and re-link the files: mix in a "
                    "secret that stays with the project.",
                )
    pseudonyms = {}
    for original, result in zip(originals, results, strict=True):
        new_id = str(result.get("PatientID", "") or "").strip()
        if not new_id:
            return fail(
                "PatientID is empty.",
                "Without a pseudonym the files can no longer be grouped by patient: write one "
                "derived from the original ID (with a secret).",
            )
        pseudonyms.setdefault(str(original.get("PatientID", "")), set()).add(new_id)
    if any(len(ids) > 1 for ids in pseudonyms.values()):
        return fail(
            "the files of one patient got different PatientIDs.",
            "The pseudonym must be the same in all files of a patient.",
        )
    if len({next(iter(ids)) for ids in pseudonyms.values()}) < len(pseudonyms):
        return fail(
            f"{len(pseudonyms)} patients share one PatientID.",
            "A constant pseudonym merges patients (and their labels): derive it from each "
            "original PatientID.",
        )
    for result in results:
        if str(result.get("PatientIdentityRemoved", "")) != "YES":
            return fail(
                "no identities survive, but PatientIdentityRemoved is not 'YES'.",
                "Record what you did (PS3.15 E.1.1).",
            )
        method = str(result.get("DeidentificationMethod", "") or "").strip()
        codes = result.get("DeidentificationMethodCodeSequence") or []
        if not method and not len(codes):
            return fail(
                "PatientIdentityRemoved is 'YES' but the file does not say how.",
                "PS3.15 requires DeidentificationMethod or DeidentificationMethodCodeSequence "
                "when PatientIdentityRemoved is YES.",
            )
    return results


def _empty(element) -> bool:
    value = element.value
    if value is None:
        return True
    if element.VR == "SQ":
        return len(value) == 0
    return not str(value).strip()


def _conformance_problem(original, result):
    """(message, hint) when ``result`` breaks DICOM rules its ``original`` kept, else None."""
    from course_utils import deid

    for keyword, in_meta in _CLASS_UIDS:
        source = getattr(original, "file_meta", None) if in_meta else original
        if source is None or keyword not in source:
            continue
        target = getattr(result, "file_meta", None) if in_meta else result
        after = None if target is None else target.get(keyword)
        if str(after) != str(source.get(keyword)):
            where = "the file meta's " if in_meta else ""
            return (
                f"{where}{keyword} changed (was {source.get(keyword)}, now {after}).",
                "Class and transfer syntax UIDs name the kind of object and its encoding, not "
                "the patient: keep them, or no viewer reads the file as an MR image. Remap only "
                "instance UIDs (Study, Series, SOP Instance, Frame of Reference).",
            )
    keep = list(_KEPT_ATTRIBUTES) + [k for k, action in deid.ACTIONS.items() if action == "Z"]
    deleted = [
        keyword for keyword in dict.fromkeys(keep) if keyword in original and keyword not in result
    ]
    if deleted:
        return (
            f"{len(deleted)} attribute(s) that the file must carry were deleted: "
            f"{', '.join(deleted[:6])}.",
            "PS3.15 Table E.1-1 action Z: a Type 2 attribute (a name, a date, StudyID, "
            "AccessionNumber) is emptied, not deleted; deleting it makes the file non-conformant.",
        )
    removable = {k for k, action in deid.ACTIONS.items() if action == "X"}
    for element in result.iterall():
        if element.VR != "SQ" or element.keyword not in removable:
            continue
        old = original.get(element.tag)
        if old is None or old.VR != "SQ":
            continue
        for old_item, new_item in zip(old.value, element.value, strict=False):
            emptied = [
                e.keyword or str(e.tag)
                for e in new_item
                if e.VR != "SQ" and _empty(e) and e.tag in old_item and not _empty(old_item[e.tag])
            ]
            if emptied:
                return (
                    f"{element.keyword} is kept with emptied attributes inside "
                    f"({', '.join(emptied[:3])}).",
                    "PS3.15 Table E.1-1 marks this sequence X (remove): delete the whole "
                    "sequence. An item with emptied Type 1 attributes (e.g. PatientID) is "
                    "non-conformant.",
                )
    return None


# --------------------------------------------------------------------------- voxel depth
def _held_out_geometry():
    """Two series not from the course's data: (positions in file order, orientation, true step)."""
    rng = np.random.default_rng(3)
    series = []
    # an oblique sagittal series: normal mostly along x (patient left), tilted 20 degrees
    angle = np.deg2rad(20)
    row_dir = np.array([0.0, np.cos(angle), -np.sin(angle)])
    col_dir = np.array([0.0, np.sin(angle), np.cos(angle)])
    normal = np.cross(row_dir, col_dir)
    index = np.delete(np.arange(40), 17)  # one slice missing: a gap of two steps
    positions = np.array([-30.0, -110.0, 60.0]) + np.outer(index * 1.2, normal)
    series.append((positions[rng.permutation(len(positions))], [*row_dir, *col_dir], 1.2))
    # a coronal series written feet to head in reverse file order
    row_dir, col_dir = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])
    normal = np.cross(row_dir, col_dir)
    positions = np.array([-120.0, 40.0, 90.0]) + np.outer(np.arange(30)[::-1] * 3.3, normal)
    series.append((positions, [*row_dir, *col_dir], 3.3))
    return series


def check_slice_step(function) -> bool:
    """Check a voxel-depth estimate from ImagePositionPatient and ImageOrientationPatient.

    ``function(positions, orientation)`` receives an (n, 3) array of
    ImagePositionPatient values (mm, in file order, not sorted) and the six
    direction cosines of ImageOrientationPatient, and returns the typical step
    between neighbouring slices along the slice normal, in mm (a positive
    float). It is run on two held-out series: an oblique sagittal one with a
    missing slice, in shuffled order, and a coronal one in reverse order.

    Example
    -------
    >>> def step(positions, orientation):
    ...     normal = np.cross(orientation[:3], orientation[3:])
    ...     return float(np.median(np.diff(np.sort(np.asarray(positions) @ normal))))
    >>> check_slice_step(step)
    ✅ slice step: correct.
    True
    """
    name = "slice step"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    for positions, orientation, step in _held_out_geometry():
        ok, answer = checks.call_student(function, positions.copy(), list(orientation), name=name)
        if not ok:
            return False
        try:
            answer = float(answer)
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"expected a number in mm, got {type(answer).__name__}."
            )
        if np.isclose(answer, step, atol=1e-3):
            continue
        normal = np.cross(orientation[:3], orientation[3:])
        along = positions @ normal
        z_steps = np.diff(np.sort(positions[:, 2]))
        if np.isclose(abs(answer), step, atol=1e-3):
            hint = "Sort the positions along the normal before taking differences: the step is positive."
        elif np.isclose(answer, float(np.median(z_steps)), atol=1e-3):
            hint = (
                "The z coordinate is the slice axis only for axial series: project each position "
                "on the slice normal (the cross product of the two IOP directions)."
            )
        elif np.isclose(answer, float(np.mean(np.diff(np.sort(along)))), atol=1e-3):
            hint = (
                "A missing slice makes one step twice as long: take the median step, not the mean."
            )
        elif np.isclose(abs(answer), float(np.median(np.abs(np.diff(along)))), atol=1e-3) or (
            np.isclose(answer, float(np.median(np.diff(along))), atol=1e-3)
        ):
            hint = "The files are not in slice order: sort the projected positions first."
        else:
            hint = (
                "Project each ImagePositionPatient on the slice normal, sort, and take the "
                "typical difference between neighbours."
            )
        return checks.feedback(False, name, "wrong step on a held-out series.", hint)
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- labels vs folders
def _held_out_id_pairs():
    """Two (labels table, folder names, what is special) pairs not from the course's data."""
    import io

    import pandas as pd

    first = pd.DataFrame(
        {"BraTS21ID": [3, 12, 45, 45, 101, 250, 1003], "MGMT_value": [1, 0, 1, 1, 0, 0, 1]}
    )
    first_folders = ["00003", "00012", "00101", "00777", "01003"]
    # a hand-edited export: one row lost its id, so pandas reads the id column as floats
    second = pd.read_csv(io.StringIO("BraTS21ID,MGMT_value\n7,1\n19,0\n,1\n88,0\n300,1\n"))
    second_folders = ["00007", "00088", "00300", "00512", "00620"]
    return [
        (first, first_folders, "a held-out pair (integer ids, one row twice)"),
        (second, second_folders, "a held-out pair (a row without id: the ids read as floats)"),
    ]


def reference_id_differences(labels, folder_names) -> tuple[set[str], set[str]]:
    """(ids with a label row but no folder, folders without a label row), as 5-digit strings."""
    ids = {f"{int(float(value)):05d}" for value in labels["BraTS21ID"].dropna()}
    folders = {str(name) for name in folder_names}
    return ids - folders, folders - ids


def check_id_differences(function) -> bool:
    """Check ``function(labels, folder_names) -> (labels_without_folder, folders_without_label)``.

    ``labels`` is a table as ``pandas.read_csv`` returns it (a ``BraTS21ID``
    column of numbers), ``folder_names`` the names of the patient folders
    (5-digit strings). Both answers are sets of 5-digit strings such as
    ``"00012"``. The function runs on two held-out pairs: integer ids with a
    duplicated row, and float ids with a row whose id is empty.

    Example
    -------
    >>> check_id_differences(reference_id_differences)
    ✅ labels against folders: correct.
    True
    """
    name = "labels against folders"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    nan_crash = object()

    def guarded(*args):  # a NaN id crashing int(): give the NaN hint, not only the traceback
        try:
            return function(*args)
        except ValueError as exc:
            if "nan" not in str(exc).lower():
                raise
            return nan_crash, exc

    for labels, folders, which in _held_out_id_pairs():
        expected = reference_id_differences(labels, folders)
        ok, answer = checks.call_student(guarded, labels.copy(), list(folders), name=name)
        if not ok:
            return False
        if isinstance(answer, tuple) and len(answer) == 2 and answer[0] is nan_crash:
            return checks.feedback(
                False,
                name,
                f"raised ValueError: {answer[1]} (on {which}).",
                "A row without an id made pandas read the ids as floats and the empty one as "
                "NaN, which int() cannot convert: an empty id is not a patient, drop it first.",
            )
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return checks.feedback(
                False,
                name,
                f"expected two sets (labels without a folder, folders without a label), got "
                f"{type(answer).__name__}.",
            )
        try:
            got = tuple({str(item) for item in part} for part in answer)
        except TypeError:
            return checks.feedback(False, name, "expected two sets of patient ids.")
        if got == expected:
            continue
        raw_ids = {str(value) for value in labels["BraTS21ID"]}
        every_label = {str(value) for value in labels["BraTS21ID"].dropna()}
        if got == expected[::-1]:
            hint = (
                "The two answers are swapped: the first is the ids that have a label row "
                "and no folder."
            )
        elif any(item.endswith(".0") or "nan" in item.lower() for part in got for item in part):
            hint = (
                "A row without an id made pandas read the ids as floats (12.0) and the empty "
                "one as NaN: an empty id is not a patient, and no folder is named '12.0'."
            )
        elif {i.lstrip("0") for i in got[0]} == {i.lstrip("0") for i in expected[0]} and {
            i.lstrip("0") for i in got[1]
        } == {i.lstrip("0") for i in expected[1]}:
            hint = "The ids lost their leading zeros: folders are 5-character strings ('00012')."
        elif got[0] & raw_ids or got[0] == every_label:
            hint = (
                "Every id seems to be missing on the other side: the table holds numbers "
                "and the folder names are text, and 12 never equals '00012'. Convert first."
            )
        else:
            wrong = [
                part
                for part, g, e in zip(
                    ("labels without a folder", "folders without a label"),
                    got,
                    expected,
                    strict=True,
                )
                if g != e
            ]
            hint = (
                f"{' and '.join(wrong)} differ. Bring both sides to the same form, then take the "
                "set difference in each direction."
            )
        return checks.feedback(False, name, f"wrong sets on {which}.", hint)
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- blank end slices
def _held_out_volumes():
    """Series not from the course's data: (volume in geometric order, (start, end), description)."""
    rng = np.random.default_rng(11)
    ct = rng.normal(40, 300, size=(24, 32, 32)).clip(-1000, 2000).astype(np.int16)
    ct[[0, 1, 2, 11, 22, 23]] = -2000  # padding value; slice 11 is a blank inside the series
    mr = rng.integers(20, 900, size=(16, 32, 32)).astype(np.uint16)
    mr[0] = 0
    mr[15] = 0
    mr[15, 16, 16] = 5  # one non-zero pixel: not blank
    blank = np.zeros((6, 16, 16), dtype=np.uint16)
    full = rng.integers(1, 500, size=(10, 16, 16)).astype(np.uint16)
    return [
        (ct, (3, 2), "a CT series padded with -2000, with a blank slice inside it"),
        (mr, (1, 0), "an MR series whose last slice holds a single non-zero pixel"),
        (blank, (6, 0), "a series that is blank throughout"),
        (full, (0, 0), "a series without blank slices"),
    ]


def reference_blank_ends(read, n_slices) -> tuple[int, int]:
    """Blank slices (one value everywhere) at the start and at the end, reading inwards."""

    def blank(index):
        pixels = np.asarray(read(index))
        return pixels.min() == pixels.max()

    start = 0
    while start < n_slices and blank(start):
        start += 1
    end = 0
    while end < n_slices - start and blank(n_slices - 1 - end):
        end += 1
    return start, end


def check_blank_ends(function) -> bool:
    """Check ``function(read, n_slices) -> (blank_at_start, blank_at_end)``.

    ``read(i)`` returns slice ``i`` (2-D array, slices in geometric order) and
    counts as one file read. A slice is blank when every pixel holds the same
    value (zero or a padding value); only the runs at the two ends count, and a
    series blank throughout gives ``(n_slices, 0)``. The function must read
    inwards from both ends and stop at the first slice with an image. Run on
    four held-out series (:func:`_held_out_volumes`).

    Example
    -------
    >>> check_blank_ends(reference_blank_ends)
    ✅ blank end slices: correct.
    True
    """
    name = "blank end slices"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    for volume, expected, which in _held_out_volumes():
        reads = []

        def read(index, volume=volume, reads=reads):
            reads.append(int(index))
            return volume[index].copy()

        ok, answer = checks.call_student(function, read, len(volume), name=name)
        if not ok:
            return False
        try:
            got = tuple(int(value) for value in answer)
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"expected two counts, got {type(answer).__name__}."
            )
        if len(got) != 2:
            return checks.feedback(False, name, f"expected two counts, got {len(got)} values.")
        zeros_only = reference_blank_ends(  # what "blank means all zero" finds
            lambda i, v=volume: np.array([0, int(v[i].any())]), len(volume)
        )
        blank_slices = sum(int(s.min() == s.max()) for s in volume)
        if got == expected:
            if len(reads) > sum(expected) + 2:
                return checks.feedback(
                    False,
                    name,
                    f"right counts, but {len(reads)} of {len(volume)} slices read for {which}.",
                    "Only the slices at the ends need to be looked at: read inwards from each "
                    "end and stop at the first slice that is not blank.",
                )
            continue
        if sum(got) > len(volume):
            hint = (
                "Your two counts add up to more slices than the series has: a slice counted "
                "from the start must not be counted again from the end."
            )
        elif got == zeros_only and got != expected:
            hint = (
                "A blank slice is not always zero: CT exports pad with a constant such as "
                "PixelPaddingValue. Test whether a slice holds one value only."
            )
        elif sum(got) == blank_slices:
            hint = (
                "A blank slice inside the series is not an end slice: stop counting at the "
                "first slice with an image."
            )
        else:
            hint = "Walk inwards from each end, one slice at a time, while the slice is blank."
        return checks.feedback(False, name, f"wrong counts {got} for {which}.", hint)
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- compression history
_HISTORY_TAGS = (
    "LossyImageCompression",
    "LossyImageCompressionRatio",
    "LossyImageCompressionMethod",
    "DerivationDescription",
)


def _history_test_files(path, folder):
    """Copies of ``path`` with four compression histories: {label: (file, expected dict)}."""
    import pydicom

    dataset = pydicom.dcmread(path)
    for keyword in _HISTORY_TAGS:
        if keyword in dataset:
            delattr(dataset, keyword)
    histories = {
        "two lossy steps": (
            {
                "LossyImageCompression": "01",
                "LossyImageCompressionRatio": ["10", "2.5"],
                "LossyImageCompressionMethod": ["ISO_10918_1", "ISO_15444_1"],
                "DerivationDescription": "JPEG 10:1, then JPEG 2000 2.5:1, stored uncompressed",
            },
            {
                "lossy": True,
                "ratios": [10.0, 2.5],
                "methods": ["ISO_10918_1", "ISO_15444_1"],
                "derivation": "JPEG 10:1, then JPEG 2000 2.5:1, stored uncompressed",
            },
        ),
        "one lossy step": (
            {
                "LossyImageCompression": "01",
                "LossyImageCompressionRatio": "15",
                "LossyImageCompressionMethod": "ISO_14495_1",
            },
            {"lossy": True, "ratios": [15.0], "methods": ["ISO_14495_1"], "derivation": None},
        ),
        "never lossy": (
            {"LossyImageCompression": "00"},
            {"lossy": False, "ratios": [], "methods": [], "derivation": None},
        ),
        "no history tags": ({}, {"lossy": None, "ratios": [], "methods": [], "derivation": None}),
    }
    files = {}
    for index, (label, (tags, expected)) in enumerate(histories.items()):
        variant = copy.deepcopy(dataset)
        for keyword, value in tags.items():
            setattr(variant, keyword, value)
        file = os.path.join(os.fspath(folder), f"history-{index}.dcm")
        variant.save_as(file, enforce_file_format=True)
        files[label] = (file, expected)
    return files


def reference_compression_history(path) -> dict:
    """lossy (True/False/None), ratios, methods and derivation of one file, header only."""
    import pydicom

    header = pydicom.dcmread(path, stop_before_pixels=True)
    flag = header.get("LossyImageCompression")
    flag = None if flag in (None, "") else str(flag).strip() == "01"

    def values(keyword):
        value = header.get(keyword)
        if value in (None, ""):
            return []
        return (
            list(value) if isinstance(value, (list, tuple)) or hasattr(value, "append") else [value]
        )

    return {
        "lossy": flag,
        "ratios": [float(v) for v in values("LossyImageCompressionRatio")],
        "methods": [str(v).strip() for v in values("LossyImageCompressionMethod")],
        "derivation": header.get("DerivationDescription") or None,
    }


def check_compression_history(function, path) -> bool:
    """Check ``function(path) -> dict`` that reads a file's lossy-compression history.

    The dict holds ``lossy`` (True for LossyImageCompression "01", False for
    "00", None when the tag is absent), ``ratios`` (list of floats, one per
    lossy step, ``[]`` when absent), ``methods`` (list of str) and
    ``derivation`` (DerivationDescription, None when absent). The function runs
    on copies of ``path`` with two lossy steps, one step, "never lossy" and no
    history tags, and must read headers only.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (a bug in the notebook, not the answer).

    Example
    -------
    >>> check_compression_history(reference_compression_history, "Image-1.dcm")  # doctest: +SKIP
    ✅ compression history: correct.
    True
    """
    import tempfile
    from unittest import mock

    import pydicom

    name = "compression history"
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path {path} does not exist; expected a DICOM file")
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    real_dcmread = pydicom.dcmread
    full_reads = []

    def watched(*args, **kwargs):
        if not kwargs.get("stop_before_pixels", False):
            full_reads.append(1)
        return real_dcmread(*args, **kwargs)

    with tempfile.TemporaryDirectory() as folder:
        for label, (file, expected) in _history_test_files(path, folder).items():
            try:
                with mock.patch.object(pydicom, "dcmread", watched):
                    answer = function(file)
            except NotImplementedError:
                return checks.feedback(
                    False, name, "not implemented yet (it still raises NotImplementedError)."
                )
            except Exception as exc:
                if label == "no history tags" or label == "never lossy":
                    hint = (
                        "Most files carry none of these tags: ask the header for a tag with a "
                        "default instead of reading it as an attribute."
                    )
                elif label == "two lossy steps":
                    hint = (
                        "A file compressed twice lists one ratio and one method per step: the "
                        "tag then holds several values, not one."
                    )
                else:
                    hint = "Read each tag with a default and convert the ratio to numbers."
                return checks.feedback(
                    False, name, f"it raised {type(exc).__name__} on the file with {label}.", hint
                )
            if not isinstance(answer, dict):
                return checks.feedback(
                    False, name, f"expected a dict, got {type(answer).__name__}."
                )
            missing = [key for key in expected if key not in answer]
            if missing:
                return checks.feedback(False, name, f"the dict lacks the key(s) {missing}.")
            if full_reads:
                return checks.feedback(
                    False,
                    name,
                    "it read whole files, pixel data included.",
                    "The history is in the header: tell pydicom where to stop reading.",
                )
            problem = _history_problem(answer, expected, label)
            if problem:
                return checks.feedback(False, name, *problem)
    return checks.feedback(True, name)


def _history_problem(answer, expected, label):
    """(message, hint) for the first wrong field of one answer, or None."""
    lossy = answer["lossy"]
    if isinstance(lossy, (str, bytes)) and lossy:
        return (
            f"'lossy' is the text {lossy!r} for the file with {label}, not a yes/no answer.",
            "You read the right tag; return True, False or None, not its code string ('01'/'00').",
        )
    if not (
        lossy is expected["lossy"] or (expected["lossy"] is not None and lossy == expected["lossy"])
    ):
        if expected["lossy"] is False and lossy:
            hint = (
                "LossyImageCompression is a code string: '00' means never lossy, and a "
                "non-empty string is always true."
            )
        elif expected["lossy"] is None:
            hint = (
                "A file that does not say is not known to be lossless: keep 'unknown' (None) "
                "apart from '00'."
            )
        else:
            hint = (
                "The transfer syntax says how the file is stored now, not what was done to its "
                "pixels before: the history is in LossyImageCompression ('01': lossy at some point)."
            )
        return f"wrong 'lossy' ({lossy!r}) for the file with {label}.", hint
    ratios = answer["ratios"]
    if isinstance(ratios, (str, bytes)) or not hasattr(ratios, "__len__"):
        return (
            f"'ratios' should be a list, got {type(ratios).__name__} ({label}).",
            "The tag may hold one value or several (one per lossy step): always return a list.",
        )
    try:
        numbers = [float(value) for value in ratios]
    except (TypeError, ValueError):
        return f"'ratios' holds values that are not numbers ({label}).", None
    if any(isinstance(value, str) for value in ratios):
        return (
            f"'ratios' holds text, not numbers ({label}).",
            "The ratio is a decimal string (DS): convert each value to float.",
        )
    if len(numbers) != len(expected["ratios"]) or not np.allclose(numbers, expected["ratios"]):
        hint = (
            "A file compressed twice lists one ratio per step: keep every value."
            if len(numbers) < len(expected["ratios"])
            else "An absent ratio is an empty list."
        )
        return f"wrong 'ratios' {numbers} for the file with {label}.", hint
    methods = answer["methods"]
    if isinstance(methods, str) or not hasattr(methods, "__len__"):
        return (
            f"'methods' should be a list of strings, got {type(methods).__name__} ({label}).",
            "Like the ratio, the method holds one value per lossy step.",
        )
    if [str(m).strip() for m in methods] != expected["methods"]:
        return f"wrong 'methods' for the file with {label}.", "Keep every value, in order."
    derivation = answer["derivation"]
    if expected["derivation"] is None:
        if derivation not in (None, ""):
            return f"'derivation' should be None when the tag is absent ({label}).", None
    elif str(derivation) != expected["derivation"]:
        return f"wrong 'derivation' for the file with {label}.", None
    return None
