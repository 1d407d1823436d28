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
    "check_deidentified",
    "check_incomplete_patients",
    "check_slice_counts",
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


# --------------------------------------------------------------------------- exercise 1
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
    expected = reference_incomplete_patients(scan_table)
    if callable(answer):
        ok, answer = checks.call_student(answer, scan_table.copy(), name=name)
        if not ok:
            return False
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
    hint = None
    if expected - answer:
        hint = (
            "A sequence counts only if it has at least one readable file: check empty and missing "
            "folders and files with readable == False."
        )
    return checks.check_set(answer, expected, name=name, hint=hint)


# --------------------------------------------------------------------------- exercise 2
def reference_slice_counts(scan_table):
    """min, median and max number of readable slices per series, one row per sequence."""
    table = _scan_table(scan_table)
    usable = table[table["readable"].astype(bool) & table["sequence"].isin(_SEQUENCES)]
    per_series = usable.groupby(["sequence", "patient"]).size()
    summary = per_series.groupby(level="sequence").agg(["min", "median", "max"])
    return summary.astype(float)


def check_slice_counts(answer, scan_table) -> bool:
    """Check the slice-count distribution per sequence.

    The expected table has one row per sequence (index named ``sequence``)
    and the columns ``min``, ``median`` and ``max`` of the number of readable
    files per series (one series = one patient's folder of that sequence).

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
    ...                       "readable": [True, True, True]})
    >>> answer = pd.DataFrame({"min": [1.0], "median": [1.5], "max": [2.0]},
    ...                       index=pd.Index(["T1w"], name="sequence"))
    >>> check_slice_counts(answer, table)
    ✅ slice counts per sequence: correct.
    True
    """
    import pandas as pd

    name = "slice counts per sequence"
    expected = reference_slice_counts(scan_table)
    if callable(answer):
        ok, answer = checks.call_student(answer, scan_table.copy(), name=name)
        if not ok:
            return False
    if answer is None:
        return checks.feedback(False, name, "got None. Assign the DataFrame you built.")
    if isinstance(answer, pd.Series):
        return checks.feedback(
            False,
            name,
            "got a Series; expected a DataFrame with columns min, median, max.",
            "Count files per (sequence, patient) first, then aggregate per sequence with .agg([...]).",
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
    if np.all(answer.to_numpy() >= expected.to_numpy()) and not np.allclose(answer, expected):
        return checks.feedback(
            False,
            name,
            "some counts are too high.",
            "Count only readable files: stray and broken files are not slices.",
        )
    answer.index.name = expected.index.name
    return checks.check_table(answer, expected, name=name)


# --------------------------------------------------------------------------- exercise 3
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


def check_deidentified(function, path: str | os.PathLike) -> bool:
    """Run a student's de-identification function on one file and prove the result.

    The function receives the file's ``pydicom.Dataset`` and must return a
    de-identified Dataset. Passing requires: no original identifying value
    anywhere (:func:`course_utils.deid.find_identifiers` with the identities of
    :func:`course_utils.deid.collect_identities`, private tags and nested
    sequences included); geometry and pixel data unchanged;
    ``PatientIdentityRemoved == "YES"``; the input dataset left unmodified.

    Parameters
    ----------
    function : callable
        ``function(dataset) -> pydicom.Dataset``.
    path : path
        A DICOM file with identifying values.

    Returns
    -------
    bool

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (a bug in the notebook, not the answer).

    Example
    -------
    >>> from course_utils import deid
    >>> check_deidentified(lambda ds: deid.anonymise_dataset(ds, key="k"), path)  # doctest: +SKIP
    ✅ de-identified file: correct.
    True
    """
    import pydicom
    from pydicom.dataset import Dataset

    from course_utils import deid

    name = "de-identified file"
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path {path} does not exist; expected a DICOM file to de-identify")
    original = pydicom.dcmread(path)
    identities = deid.collect_identities(original)
    given = copy.deepcopy(original)
    ok, result = checks.call_student(function, given, name=name)
    if not ok:
        return False
    if result is None:
        return checks.feedback(
            False, name, "your function returned None; return the cleaned Dataset."
        )
    if not isinstance(result, Dataset):
        return checks.feedback(
            False, name, f"expected a pydicom Dataset, got {type(result).__name__}."
        )
    if given != original:
        return checks.feedback(
            False,
            name,
            "your function modified the dataset it was given.",
            "Work on a copy (copy.deepcopy) so the original stays available.",
        )
    findings = deid.find_identifiers(result, identities)
    if findings:
        places = sorted({finding.where for finding in findings})
        shown = "; ".join(places[:3])
        return checks.feedback(
            False,
            name,
            f"{len(findings)} identifying value(s) survive, in {len(places)} element(s), e.g. {shown}.",
            "Look inside sequences and private tags too; UIDs and dates identify as well.",
        )
    changed = [k for k in _GEOMETRY if k in original and str(result.get(k)) != str(original.get(k))]
    if changed:
        return checks.feedback(
            False,
            name,
            f"analysis needs these unchanged, but they differ: {changed}.",
            "Only identifying attributes should change.",
        )
    if "PixelData" in original and result.get("PixelData") != original.PixelData:
        return checks.feedback(False, name, "the pixel data changed or are missing.")
    if str(result.get("PatientIdentityRemoved", "")) != "YES":
        return checks.feedback(
            False,
            name,
            "no identities survive, but PatientIdentityRemoved is not 'YES'.",
            "Record what you did: set PatientIdentityRemoved (and DeidentificationMethod).",
        )
    return checks.feedback(True, name)
