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
