"""Checks for ``00_start_here``: a warm-up that shows how every exercise works."""

from __future__ import annotations

import numpy as np

from course_utils import checks


def check_memory_bytes(answer, image) -> bool:
    """Check the number of bytes ``image`` occupies in memory.

    Example
    -------
    >>> check_memory_bytes(8, np.zeros(2, dtype=np.float32))
    ✅ bytes in memory: correct.
    True
    """
    image = np.asarray(image)
    return checks.check_scalar(
        answer,
        image.size * image.itemsize,
        name="bytes in memory",
        rtol=0,
        atol=0.5,
        unit="bytes",
        hint="Multiply the number of pixels by the bytes per pixel (the dtype's itemsize).",
    )


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
