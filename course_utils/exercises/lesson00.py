"""Checks for ``00_start_here``: a warm-up that shows how every exercise works."""

from __future__ import annotations

import sys

import numpy as np

from course_utils import checks


def check_memory_bytes(answer, image) -> bool:
    """Check the number of bytes ``image`` occupies in memory.

    The feedback names the usual mistakes (pixels instead of bytes, bits instead
    of bytes, the bits of the values instead of the bits of the dtype, a wrong
    number of bytes per pixel, ``len()`` counting rows instead of pixels) and
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
    if isinstance(answer, (str, bytes)):
        return checks.feedback(False, name, f"expected a number, got the text {answer!r}.", hint)
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
    if image.dtype.kind in "ui":
        for bits in range(3, 8 * image.itemsize):
            # bits of the values (not turned into bytes); whole-byte counts are named below
            if bits not in (4, 8, 16) and np.isclose(value, image.size * bits):
                if image.max(initial=0) < 2**bits:
                    return checks.feedback(
                        False,
                        name,
                        f"{value:g} is a number of bits, and it counts the {bits} bits the values "
                        "need rather than the bits the dtype stores; a byte holds 8 bits.",
                        "Memory holds every pixel at the full size of its dtype "
                        "(image.dtype.itemsize bytes).",
                    )
    if image.dtype.kind in "ui" and value < expected:
        for bits in range(1, 8 * image.itemsize):
            if np.isclose(value, image.size * bits / 8) and image.max(initial=0) < 2**bits:
                return checks.feedback(
                    False,
                    name,
                    f"{value:g} is too low: it counts the {bits} bits the values need, not the bits the dtype stores.",
                    "Memory holds every pixel at the full size of its dtype (image.dtype.itemsize bytes).",
                )
    if value > expected and np.isclose(value, sys.getsizeof(image)):
        return checks.feedback(
            False,
            name,
            f"{value:g} is too high: it is what sys.getsizeof reports, which adds the Python "
            "object's own header to the pixel data.",
            "Count only the pixel data: the array's nbytes, or pixels times the dtype's itemsize.",
        )
    if image.ndim > 1 and np.isclose(value, len(image) * image.itemsize):
        return checks.feedback(
            False,
            name,
            f"{value:g} is too low: len() counts the rows of an image, not its pixels.",
            "The number of pixels is image.size (rows times columns).",
        )
    for per_pixel in (1, 2, 4, 8, 16):
        if per_pixel != image.itemsize and np.isclose(value, image.size * per_pixel):
            return checks.feedback(
                False,
                name,
                f"{value:g} assumes {per_pixel} byte{'s' if per_pixel > 1 else ''} per pixel; "
                "this dtype stores a different number.",
                "Look at image.dtype: its itemsize is the bytes per pixel.",
            )
    direction = "too high" if value > expected else "too low"
    return checks.feedback(False, name, f"{value:g} is {direction}.", hint)


def _brightest_case() -> np.ndarray:
    """The check's own image: not square, its maximum off the diagonal (row 1, column 4)."""
    image = np.arange(24, dtype=float).reshape(4, 6) % 7
    image[1, 4] = 50.0
    return image


def _divided_by_rows(function, image) -> bool:
    """Whether ``function(image)`` is the flat argmax divided by the number of rows (a mistake)."""
    flat, n_rows = int(np.argmax(image)), image.shape[0]
    try:
        result = tuple(int(v) for v in function(image.copy()))
    except Exception:  # the caller reports errors of the student's function itself
        return False
    return result == (flat // n_rows, flat % n_rows)


def check_brightest_pixel(function, image) -> bool:
    """Check a function that returns the (row, column) of the brightest pixel.

    The function runs on the caller's image and on the check's own 4 x 6 image,
    whose maximum is off the diagonal, so (column, row) cannot pass by luck.
    Named mistakes: (column, row), a flat index, a flat index divided by the number of rows,
    arrays of positions (np.where, np.argwhere), a value instead of a position, the darkest
    pixel (argmin), the largest value along one axis only, a position outside the image.

    Example
    -------
    >>> image = np.zeros((3, 4)); image[1, 2] = 5
    >>> check_brightest_pixel(lambda im: np.unravel_index(np.argmax(im), im.shape), image)
    ✅ brightest pixel: correct.
    True
    """
    name = "brightest pixel"
    for case in (np.asarray(image), _brightest_case()):
        ok, result = checks.call_student(function, case.copy(), name=name)
        if not ok:
            return False
        expected = tuple(int(v) for v in np.unravel_index(np.argmax(case), case.shape))
        if isinstance(result, (int, float, np.number)) and not isinstance(result, bool):
            if np.isclose(float(result), np.argmax(case)):
                return checks.feedback(
                    False,
                    name,
                    f"you returned one number, {result!r}: the position in the flattened array, "
                    "not a (row, column) pair.",
                    "np.argmax counts positions row by row through the flattened image; convert that "
                    "count back to a row and a column using the image's shape.",
                )
            if np.isclose(float(result), case.max()):
                return checks.feedback(
                    False,
                    name,
                    "you returned the largest value itself; the exercise asks where it is.",
                )
        if result is not None and np.ndim(result) == 2 and 2 in np.shape(result):
            return checks.feedback(
                False,
                name,
                "you returned arrays (np.where and np.argwhere give every matching position, "
                "as arrays); the exercise asks for one (row, column) pair of integers.",
                "Find a single position: the one where the largest value sits.",
            )
        if result is None or np.ndim(result) != 1 or len(result) != 2:
            return checks.feedback(False, name, f"expected a (row, column) pair, got {result!r}.")
        answer = tuple(int(v) for v in result)
        if answer == expected:
            continue
        if all(_divided_by_rows(function, other) for other in (case, _brightest_case())):
            return checks.feedback(
                False,
                name,
                f"on a {case.shape[0]} x {case.shape[1]} image you turned the flat index into "
                "(row, column) by dividing by the number of rows; the flat index moves to the "
                "next row after a whole row of pixels, that is after as many pixels as there are "
                "columns.",
            )
        if answer == expected[::-1]:
            return checks.feedback(
                False,
                name,
                f"on a {case.shape[0]} x {case.shape[1]} image you returned (column, row); numpy "
                "indexes images as [row, column].",
            )
        where = f"on a {case.shape[0]} x {case.shape[1]} image "
        row, column = answer
        if not (0 <= row < case.shape[0] and 0 <= column < case.shape[1]):
            return checks.feedback(False, name, f"{where}that position lies outside the image.")
        value = case[row, column]
        if value == case.min() < case.max():
            return checks.feedback(
                False,
                name,
                f"{where}that pixel is not the brightest: it holds the smallest value, the "
                "darkest pixel (argmin instead of argmax?).",
            )
        if value == case[row, :].max() or value == case[:, column].max():
            return checks.feedback(
                False,
                name,
                f"{where}that pixel is not the brightest: it is the largest along one axis only "
                "(in its row or in its column).",
                "Look for the position of the largest value of the whole image, not the largest "
                "value along one axis.",
            )
        return checks.feedback(False, name, f"{where}that pixel is not the brightest.")
    return checks.feedback(True, name)


def _fov_case():
    """The check's own header: 6 x 8 pixels of 0.5 mm (rows) x 0.25 mm (columns)."""
    from pydicom.dataset import Dataset

    header = Dataset()
    header.Rows, header.Columns, header.PixelSpacing = 6, 8, [0.5, 0.25]
    return header


def _fov_feedback(values, dataset, where):
    """Feedback for a wrong (height, width) answer on one header."""
    name = "field of view"
    row_mm, col_mm = (float(v) for v in dataset.PixelSpacing)
    rows, cols = int(dataset.Rows), int(dataset.Columns)
    named = [
        (
            (rows, cols),
            "those are the numbers of pixels, not millimetres.",
            "Each pixel covers PixelSpacing mm: multiply.",
        ),
        (
            (rows / row_mm, cols / col_mm),
            "you divided by the spacing; PixelSpacing is mm per pixel, so multiply.",
            None,
        ),
        (
            (rows * col_mm, cols * row_mm),
            "the row and column spacings are swapped: PixelSpacing "
            "lists the spacing between rows (the height direction) first.",
            None,
        ),
        (
            (cols * col_mm, rows * row_mm),
            "you returned (width, height); the exercise asks for "
            "(height, width), in the order numpy gives the shape.",
            None,
        ),
        (
            (cols * row_mm, rows * col_mm),
            "(width, height) with the spacings swapped as well: "
            "height comes first, and it uses the spacing between rows.",
            None,
        ),
        (
            ((rows - 1) * row_mm, (cols - 1) * col_mm),
            "one pixel short in each direction: that is the distance between the centres of the "
            "first and last pixels, but every pixel covers a full spacing, so N pixels span N "
            "spacings from edge to edge.",
            None,
        ),
        (
            (rows * row_mm, cols * row_mm),
            "the same spacing used for both directions: PixelSpacing's second value is the "
            "spacing between columns (the width direction).",
            None,
        ),
        (
            (rows * col_mm, cols * col_mm),
            "the same spacing used for both directions: PixelSpacing's first value is the "
            "spacing between rows (the height direction).",
            None,
        ),
        (
            (rows * row_mm / 10, cols * col_mm / 10),
            "ten times too small: that is centimetres; PixelSpacing is in mm and the exercise asks "
            "for mm.",
            None,
        ),
    ]
    for candidate, message, hint in named:
        if np.allclose(values, candidate, rtol=1e-3):
            return checks.feedback(False, name, f"{where}{message}", hint)
    return checks.feedback(
        False,
        name,
        f"{where}the size in mm does not match the header's Rows, Columns and PixelSpacing.",
    )


def _expected_fov(dataset):
    row_mm, col_mm = (float(v) for v in dataset.PixelSpacing)
    return (dataset.Rows * row_mm, dataset.Columns * col_mm)


def check_field_of_view(answer, dataset) -> bool:
    """Check the (height, width) field of view in mm of a DICOM image.

    ``answer`` is either a function ``field_of_view(header) -> (height_mm, width_mm)``
    or the pair it returned for ``dataset``. The reference is rows x row spacing and
    columns x column spacing, from ``Rows``, ``Columns`` and ``PixelSpacing`` (row
    spacing first, as DICOM orders it). A function is also run on the check's own
    6 x 8 header with 0.5 x 0.25 mm pixels, where swapped spacings and (width, height)
    give different numbers, so they are named even when the file's pixels are square.

    Example
    -------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset(); ds.Rows, ds.Columns, ds.PixelSpacing = 4, 8, [0.5, 0.25]
    >>> check_field_of_view((2.0, 2.0), ds)
    ✅ field of view: correct.
    True
    """
    name = "field of view"
    if "PixelSpacing" not in dataset:
        raise ValueError(
            "the dataset has no PixelSpacing tag; its field of view is unknown (a projection "
            "radiograph may carry ImagerPixelSpacing instead, the spacing at the detector)"
        )
    if answer is None:
        return checks.feedback(False, name, "not done yet: your answer is still None.")
    cases = [(dataset, "")]
    if callable(answer):
        cases.append((_fov_case(), "on a 6 x 8 header with 0.5 x 0.25 mm pixels, "))
    for header, where in cases:
        if callable(answer):
            ok, values = checks.call_student(answer, header, name=name)
            if not ok:
                return False
        else:
            values = answer
        if values is None or np.ndim(values) != 1 or len(values) != 2:
            return checks.feedback(
                False, name, f"{where}expected a (height, width) pair in mm, got {values!r}."
            )
        values = tuple(float(v) for v in values)
        if not np.allclose(values, _expected_fov(header), rtol=1e-3):
            return _fov_feedback(values, header, where)
    return checks.feedback(True, name)
