"""Exercise checks: compare a student's answer with a reference and explain the difference.

Every lesson uses these the same way. A lesson-specific check (in
:mod:`course_utils.exercises`) computes the reference from the same data the
student used, then calls one of the comparators below. The comparator prints
one short verdict:

* ``✅ <name>: correct.`` and returns ``True``; or
* ``❌ <name>: ...`` saying *what* differs (type, shape, dtype, range, which
  elements and by how much) plus a hint, and returns ``False``.

Feedback never prints the reference values themselves, so it does not give
the solution away. Checks return booleans so tests can assert on them.

Example
-------
>>> import numpy as np
>>> check_array(np.zeros((2, 2)), np.zeros((2, 2)), name="mask")
✅ mask: correct.
True
>>> check_array(np.zeros((2, 3)), np.zeros((2, 2)), name="mask")
❌ mask: shape is (2, 3), expected (2, 2). Hint: Check which axis you sliced or cropped.
False
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = [
    "check_array",
    "check_scalar",
    "check_set",
    "check_table",
    "check_true",
    "call_student",
    "feedback",
]


def feedback(ok: bool, name: str, message: str = "", hint: str | None = None) -> bool:
    """Print the verdict in the course's format and return ``ok``.

    Example
    -------
    >>> feedback(True, "window")
    ✅ window: correct.
    True
    """
    if ok:
        print(f"✅ {name}: correct." + (f" {message}" if message else ""))
    else:
        text = f"❌ {name}: {message}".rstrip()
        if hint:
            text += f" Hint: {hint}"
        print(text)
    return bool(ok)


def _describe_position(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")"


def check_array(
    answer,
    expected,
    *,
    name: str = "answer",
    rtol: float = 1e-5,
    atol: float = 1e-8,
    check_dtype: bool = False,
    hint: str | None = None,
) -> bool:
    """Compare an array answer with the reference array.

    Parameters
    ----------
    answer : array_like
        The student's result.
    expected : array_like
        The reference computed from the same input.
    name : str
        What the answer is called in the feedback.
    rtol, atol : float
        Tolerances as in :func:`numpy.allclose`. Boolean and integer arrays are
        compared exactly.
    check_dtype : bool
        Also require the same dtype (e.g. when the exercise is about dtypes).
    hint : str, optional
        Printed after the description of a mismatch.

    Returns
    -------
    bool

    Example
    -------
    >>> check_array([1, 2, 4], np.array([1, 2, 3]), name="counts")
    ❌ counts: 1 of 3 elements differ (33.3%); first at position (2), largest difference 1; your values span [1, 4], which is not the expected range.
    False
    """
    expected = np.asarray(expected)
    if answer is None:
        return feedback(
            False, name, "got None. Did your function forget to `return` its result?", hint
        )
    if isinstance(answer, (str, bytes, dict)):
        return feedback(False, name, f"got a {type(answer).__name__}, expected an array.", hint)
    try:
        answer = np.asarray(answer)
    except Exception as exc:  # pragma: no cover - exotic objects
        return feedback(False, name, f"could not be turned into an array ({exc}).", hint)
    if answer.shape != expected.shape:
        return feedback(
            False,
            name,
            f"shape is {answer.shape}, expected {expected.shape}.",
            hint or "Check which axis you sliced or cropped.",
        )
    if check_dtype and answer.dtype != expected.dtype:
        return feedback(False, name, f"dtype is {answer.dtype}, expected {expected.dtype}.", hint)
    if answer.dtype == object or expected.dtype == object:
        same = answer == expected
    elif expected.dtype == bool or answer.dtype == bool:
        if not (answer.dtype == bool or np.isin(np.unique(answer), [0, 1]).all()):
            return feedback(False, name, "expected a boolean mask (True/False values only).", hint)
        same = answer.astype(bool) == expected.astype(bool)
    elif np.issubdtype(expected.dtype, np.number) and np.issubdtype(answer.dtype, np.number):
        if np.isnan(answer.astype(float)).any() and not np.isnan(expected.astype(float)).any():
            n_nan = int(np.isnan(answer.astype(float)).sum())
            return feedback(
                False, name, f"contains {n_nan} NaN value(s); the reference has none.", hint
            )
        same = np.isclose(
            answer.astype(float), expected.astype(float), rtol=rtol, atol=atol, equal_nan=True
        )
    else:
        same = answer == expected
    same = np.asarray(same, dtype=bool)
    if same.all():
        return feedback(True, name)
    n_diff = int((~same).sum())
    first = np.argwhere(~same)[0] if answer.ndim else ()
    message = f"{n_diff} of {same.size} elements differ ({100 * n_diff / same.size:.1f}%)"
    if answer.ndim:
        message += f"; first at position {_describe_position(tuple(first))}"
    if np.issubdtype(answer.dtype, np.number) and np.issubdtype(expected.dtype, np.number):
        diff = np.abs(answer.astype(float) - expected.astype(float))[~same]
        message += f", largest difference {np.nanmax(diff):.4g}"
        a_min, a_max = float(np.nanmin(answer)), float(np.nanmax(answer))
        e_min, e_max = float(np.nanmin(expected)), float(np.nanmax(expected))
        if not (
            np.isclose(a_min, e_min, rtol=rtol, atol=atol)
            and np.isclose(a_max, e_max, rtol=rtol, atol=atol)
        ):
            message += (
                f"; your values span [{a_min:.4g}, {a_max:.4g}], which is not the expected range"
            )
    return feedback(False, name, message + ".", hint)


def check_scalar(
    answer,
    expected: float,
    *,
    name: str = "answer",
    rtol: float = 1e-3,
    atol: float = 0.0,
    unit: str = "",
    hint: str | None = None,
) -> bool:
    """Compare a number with the reference within a tolerance.

    The feedback says whether the answer is too high or too low and by how
    much (relative), not what the reference is.

    Example
    -------
    >>> check_scalar(102.0, 100.0, name="area", unit="mm²", rtol=0.05)
    ✅ area: correct.
    True
    >>> check_scalar(200.0, 100.0, name="area", unit="mm²")
    ❌ area: 200 mm² is too high by 100%.
    False
    """
    if answer is None:
        return feedback(
            False, name, "got None. Did you forget to `return` or assign the result?", hint
        )
    if isinstance(answer, (bool, np.bool_)) or not np.isscalar(answer) and np.ndim(answer) != 0:
        return feedback(
            False, name, f"expected a single number, got {type(answer).__name__}.", hint
        )
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return feedback(False, name, f"expected a number, got {answer!r}.", hint)
    if np.isnan(value):
        return feedback(
            False, name, "is NaN.", hint or "Look for a division by zero or an empty selection."
        )
    if np.isclose(value, expected, rtol=rtol, atol=atol):
        return feedback(True, name)
    unit_text = f" {unit}" if unit else ""
    if expected == 0:
        return feedback(False, name, f"{value:.4g}{unit_text} should be zero.", hint)
    rel = (value - expected) / abs(expected)
    direction = "too high" if rel > 0 else "too low"
    message = f"{value:.4g}{unit_text} is {direction} by {abs(rel) * 100:.0f}%."
    if np.isclose(value, -expected, rtol=rtol, atol=atol):
        message += " The sign is wrong."
    return feedback(False, name, message, hint)


def check_set(
    answer: Iterable, expected: Iterable, *, name: str = "answer", hint: str | None = None
) -> bool:
    """Compare a collection of items (ids, labels) ignoring order.

    The feedback counts missing and unexpected items and shows up to three of
    the unexpected ones (those are the student's, so showing them reveals nothing).

    Example
    -------
    >>> check_set(["00012", "00003"], {"00003", "00012"}, name="incomplete patients")
    ✅ incomplete patients: correct.
    True
    """
    if answer is None:
        return feedback(False, name, "got None.", hint)
    if isinstance(answer, (str, bytes)):
        return feedback(False, name, "got a single string; expected a collection of items.", hint)
    answer_set, expected_set = set(answer), set(expected)
    if answer_set == expected_set:
        return feedback(True, name)
    missing = expected_set - answer_set
    extra = answer_set - expected_set
    parts = []
    if missing:
        parts.append(f"{len(missing)} expected item(s) missing")
    if extra:
        shown = ", ".join(repr(x) for x in sorted(extra, key=str)[:3])
        parts.append(f"{len(extra)} item(s) that should not be there (e.g. {shown})")
    return feedback(False, name, "; ".join(parts) + ".", hint)


def check_table(
    answer,
    expected,
    *,
    name: str = "table",
    check_order: bool = False,
    rtol: float = 1e-5,
    hint: str | None = None,
) -> bool:
    """Compare a pandas DataFrame/Series with the reference.

    Checks type, columns, index labels and values; says which differ.

    Example
    -------
    >>> import pandas as pd
    >>> check_table(pd.Series({"a": 1}), pd.Series({"a": 1}), name="counts")
    ✅ counts: correct.
    True
    """
    import pandas as pd

    if not isinstance(answer, (pd.DataFrame, pd.Series)):
        return feedback(
            False,
            name,
            f"expected a pandas {type(expected).__name__}, got {type(answer).__name__}.",
            hint,
        )
    if isinstance(expected, pd.DataFrame):
        if isinstance(answer, pd.Series):
            return feedback(False, name, "got a Series; expected a DataFrame.", hint)
        missing = [c for c in expected.columns if c not in answer.columns]
        if missing:
            return feedback(False, name, f"missing column(s) {missing}.", hint)
        answer = answer[list(expected.columns)]
    elif isinstance(answer, pd.DataFrame):
        return feedback(False, name, "got a DataFrame; expected a Series.", hint)
    if not check_order:
        try:
            answer = answer.sort_index()
            expected = expected.sort_index()
        except TypeError:
            pass
    if len(answer) != len(expected):
        return feedback(False, name, f"has {len(answer)} rows, expected {len(expected)}.", hint)
    if not answer.index.equals(expected.index):
        extra = [x for x in answer.index if x not in set(expected.index)][:3]
        return feedback(False, name, f"the row labels differ (e.g. unexpected {extra}).", hint)
    try:
        pd.testing.assert_frame_equal(
            answer.to_frame() if isinstance(answer, pd.Series) else answer,
            expected.to_frame() if isinstance(expected, pd.Series) else expected,
            check_dtype=False,
            check_names=False,
            rtol=rtol,
        )
    except AssertionError as exc:
        first_line = str(exc).strip().splitlines()[0]
        return feedback(False, name, f"values differ ({first_line}).", hint)
    return feedback(True, name)


def check_true(condition: bool, *, name: str, failure: str, hint: str | None = None) -> bool:
    """Pass when ``condition`` holds; otherwise print ``failure``.

    For checks that are a property rather than a value (e.g. "the crop contains
    the whole ROI").

    Example
    -------
    >>> check_true(3 > 2, name="ordering", failure="not increasing")
    ✅ ordering: correct.
    True
    """
    return feedback(bool(condition), name, "" if condition else failure, hint)


def call_student(function, *args, name: str = "your function", **kwargs):
    """Call a student's function, turning a missing or failing implementation into feedback.

    Returns ``(True, result)`` when the call succeeded, otherwise ``(False, None)``
    after printing what happened (not implemented yet, or which exception).
    Lesson checks use this so a stub that still raises ``NotImplementedError``
    gives a friendly message instead of a traceback.

    Example
    -------
    >>> def stub(x):
    ...     raise NotImplementedError
    >>> call_student(stub, 1, name="window")
    ❌ window: not implemented yet (it still raises NotImplementedError).
    (False, None)
    """
    if not callable(function):
        feedback(False, name, f"expected a function, got {type(function).__name__}.")
        return False, None
    try:
        return True, function(*args, **kwargs)
    except NotImplementedError:
        feedback(False, name, "not implemented yet (it still raises NotImplementedError).")
    except Exception as exc:  # the student's code failed: say how, do not crash the check
        feedback(False, name, f"raised {type(exc).__name__}: {exc}")
    return False, None
