"""Checks for ``00_start_here``: a warm-up that shows how every exercise works."""

from __future__ import annotations

import numpy as np

from course_utils import checks


def check_memory_bytes(answer, image) -> bool:
    """Check the number of bytes ``image`` occupies in memory.

    The feedback names the usual mistakes (pixels instead of bytes, bits instead
    of bytes, the bits of the values instead of the bits of the dtype) and
    otherwise only says too high or too low, never by how much: a relative
    error would give the answer away.

    Example
    -------
    >>> check_memory_bytes(8, np.zeros(2, dtype=np.float32))
    ✅ bytes in memory: correct.
    True
    >>> check_memory_bytes(6, np.zeros(2, dtype=np.float32))
    ❌ bytes in memory: 6 is too low. Hint: Multiply the number of pixels by the bytes per pixel (the dtype's itemsize).
    False
    """
    name = "bytes in memory"
    hint = "Multiply the number of pixels by the bytes per pixel (the dtype's itemsize)."
    image = np.asarray(image)
    expected = image.size * image.itemsize
    if answer is None:
        return checks.feedback(False, name, "not done yet: `n_bytes` is still None.")
    if isinstance(answer, (bool, np.bool_)) or np.ndim(answer) != 0:
        return checks.feedback(
            False, name, f"expected one number, got {type(answer).__name__}.", hint
        )
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return checks.feedback(False, name, f"expected a number, got {answer!r}.", hint)
    if abs(value - expected) < 0.5:
        return checks.feedback(True, name)
    if np.isclose(value, image.size):
        return checks.feedback(False, name, "that is the number of pixels, not of bytes.", hint)
    if np.isclose(value, 8 * expected):
        return checks.feedback(False, name, "that is a number of bits; a byte holds 8 bits.", hint)
    if image.dtype.kind in "ui" and value < expected:
        for bits in range(1, 8 * image.itemsize):
            if np.isclose(value, image.size * bits / 8) and image.max(initial=0) < 2**bits:
                return checks.feedback(
                    False,
                    name,
                    f"{value:g} is too low: it counts the {bits} bits the values need, not the bits the dtype stores.",
                    "Memory holds every pixel at the full size of its dtype (image.dtype.itemsize bytes).",
                )
    direction = "too high" if value > expected else "too low"
    return checks.feedback(False, name, f"{value:g} is {direction}.", hint)


def check_brightest_pixel(function, image) -> bool:
    """Check a function that returns the (row, column) of the brightest pixel.

    Example
    -------
    >>> image = np.zeros((3, 4)); image[1, 2] = 5
    >>> check_brightest_pixel(lambda im: np.unravel_index(np.argmax(im), im.shape), image)
    ✅ brightest pixel: correct.
    True
    """
    ok, result = checks.call_student(function, np.asarray(image), name="brightest pixel")
    if not ok:
        return False
    expected = np.unravel_index(np.argmax(image), np.shape(image))
    if result is None or np.ndim(result) != 1 or len(result) != 2:
        return checks.feedback(
            False, "brightest pixel", f"expected a (row, column) pair, got {result!r}."
        )
    if tuple(int(v) for v in result) == tuple(int(v) for v in expected):
        return checks.feedback(True, "brightest pixel")
    if tuple(int(v) for v in result) == tuple(int(v) for v in expected[::-1]):
        return checks.feedback(
            False,
            "brightest pixel",
            "you returned (column, row); numpy indexes images as [row, column].",
        )
    return checks.feedback(
        False,
        "brightest pixel",
        "that pixel is not the brightest.",
        "np.argmax works on the flattened array; np.unravel_index turns that into (row, column).",
    )


def check_field_of_view(answer, dataset) -> bool:
    """Check the (height, width) field of view in mm of a DICOM image.

    The reference is rows x row spacing and columns x column spacing, from the file's
    ``Rows``, ``Columns`` and ``PixelSpacing`` (row spacing first, as DICOM orders it).

    Example
    -------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset(); ds.Rows, ds.Columns, ds.PixelSpacing = 4, 8, [0.5, 0.25]
    >>> check_field_of_view((2.0, 2.0), ds)
    ✅ field of view: correct.
    True
    """
    if "PixelSpacing" not in dataset:
        raise ValueError("the dataset has no PixelSpacing tag; its field of view is unknown")
    row_mm, col_mm = (float(v) for v in dataset.PixelSpacing)
    expected = (dataset.Rows * row_mm, dataset.Columns * col_mm)
    if answer is None:
        return checks.feedback(False, "field of view", "not done yet: `fov_mm` is still None.")
    if np.ndim(answer) != 1 or len(answer) != 2:
        return checks.feedback(
            False, "field of view", f"expected a (height, width) pair in mm, got {answer!r}."
        )
    values = tuple(float(v) for v in answer)
    if np.allclose(values, expected, rtol=1e-3):
        return checks.feedback(True, "field of view")
    if np.allclose(values, (dataset.Rows, dataset.Columns)):
        return checks.feedback(
            False,
            "field of view",
            "those are the numbers of pixels, not millimetres.",
            "Each pixel covers PixelSpacing mm: multiply.",
        )
    if np.allclose(values, (dataset.Rows / row_mm, dataset.Columns / col_mm), rtol=1e-3):
        return checks.feedback(
            False,
            "field of view",
            "you divided by the spacing; PixelSpacing is mm per pixel, so multiply.",
        )
    return checks.feedback(
        False,
        "field of view",
        "the size in mm does not match the file's Rows, Columns and PixelSpacing.",
    )
