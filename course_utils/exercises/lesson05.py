"""Checks for ``05_cropping_and_normalisation``.

Each check runs the student's function (or compares the student's array) on
cases built here, including the edge cases the lesson warns about (foreground
touching the last row, empty masks, wide images, non-square targets), and
prints what went wrong without printing the reference.

Example
-------
>>> import numpy as np
>>> from course_utils import preprocess
>>> check_bounding_box(lambda mask, margin=0: preprocess.bounding_box(mask, margin, allow_empty=True))
✅ bounding box: correct.
True
"""

from __future__ import annotations

import cv2
import numpy as np

from course_utils import checks, preprocess

__all__ = [
    "check_bounding_box",
    "check_interslice_normalisation",
    "check_square_box",
    "check_resize_mask",
    "check_resize_with_padding",
    "check_percentile_clip",
]


def _as_box(result, ndim: int):
    """Turn a student's box into a tuple of slices, or return an error message."""
    if not isinstance(result, (tuple, list)) or len(result) != ndim:
        return (
            None,
            f"expected a tuple of {ndim} slices (one per axis), got {type(result).__name__}",
        )
    if not all(isinstance(s, slice) for s in result):
        return (
            None,
            "expected slice objects, e.g. (slice(r0, r1), slice(c0, c1)), so that image[box] crops",
        )
    if any(s.step not in (None, 1) for s in result):
        return None, "the slices should not have a step"
    return tuple(result), None


# --------------------------------------------------------------------------- exercise 1
def check_bounding_box(function) -> bool:
    """Check ``function(mask, margin=0)`` returning a tuple of slices (or None for an empty mask).

    The cases: one pixel in the middle, foreground touching the last row and
    column, a margin that would leave the image, and an all-False mask.

    Example
    -------
    >>> def off_by_one(mask, margin=0):
    ...     rows, cols = np.nonzero(mask)
    ...     return slice(rows.min(), rows.max()), slice(cols.min(), cols.max())
    >>> check_bounding_box(off_by_one)
    ❌ bounding box: on a mask with one foreground pixel the crop has shape (0, 0), expected (1, 1). Hint: A slice's stop is excluded: stop = last index + 1.
    False
    """
    name = "bounding box"
    single = np.zeros((7, 9), bool)
    single[3, 4] = True
    corner = np.zeros((6, 8), bool)
    corner[2:6, 5:8] = True  # touches the last row and the last column
    blob = np.zeros((10, 10), bool)
    blob[1:3, 6:9] = True
    cases = [
        ("a mask with one foreground pixel", single, 0),
        ("a mask whose foreground touches the last row and column", corner, 0),
        ("a margin of 3 around foreground near the top-right corner", blob, 3),
    ]
    for description, mask, margin in cases:
        ok, result = checks.call_student(function, mask.copy(), margin, name=name)
        if not ok:
            return False
        box, problem = _as_box(result, 2)
        if problem:
            return checks.feedback(False, name, f"on {description}: {problem}.")
        expected = preprocess.bounding_box(mask, margin)
        if any((s.start or 0) < 0 for s in box):
            return checks.feedback(
                False,
                name,
                f"on {description} a start is negative; negative indices count from the end.",
                "Clip the box to the image: max(0, start - margin) and min(size, stop + margin).",
            )
        crop_shape = mask[box].shape
        expected_shape = mask[expected].shape
        if any(s.stop is not None and s.stop > n for s, n in zip(box, mask.shape, strict=True)):
            return checks.feedback(
                False,
                name,
                f"on {description} a stop lies beyond the image edge. numpy quietly cuts the crop "
                "at the edge, but the box itself is wrong (drawn, padded or reused on another "
                "array it points outside).",
                "Clip the stop as well as the start: never more than the length of that axis.",
            )
        if box != expected:
            hint = "A slice's stop is excluded: stop = last index + 1."
            if mask[box].sum() == mask.sum() and crop_shape != expected_shape:
                if all(a <= b for a, b in zip(crop_shape, expected_shape, strict=True)):
                    hint = "Add the margin on each side (clipped to the image)."
                else:
                    hint = "The box is not the smallest one, or the margin is not clipped to the image."
            return checks.feedback(
                False,
                name,
                f"on {description} the crop has shape {crop_shape}, expected {expected_shape}.",
                hint,
            )
    ok, result = checks.call_student(function, np.zeros((5, 5), bool), 0, name=name)
    if not ok:
        return checks.feedback(False, name, "an empty mask must not crash: return None for it.")
    if result is not None:
        return checks.feedback(False, name, f"for an empty mask return None, got {result!r}.")
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 2
def check_interslice_normalisation(answer, volume, head_mask) -> bool:
    """Check a volume z-scored with one mean/std taken inside the head.

    ``answer`` is the normalised volume, or a function ``f(volume, head_mask)``
    returning it (called here on a copy of ``volume``).

    The expected result keeps the relative brightness of the slices (one set
    of statistics for the whole volume) and ignores the air around the head.

    Example
    -------
    >>> volume = np.random.default_rng(0).normal(100, 10, (4, 8, 8)) * np.arange(1, 5)[:, None, None]
    >>> head = np.ones(volume.shape, bool)
    >>> check_interslice_normalisation(preprocess.zscore(volume, per="slice"), volume, head)
    ❌ normalised volume: every slice has mean 0 and std 1: the brightness differences between slices are gone. Hint: Use one mean and one standard deviation for the whole volume.
    False
    """
    name = "normalised volume"
    volume = np.asarray(volume, dtype=np.float64)
    head_mask = np.asarray(head_mask, dtype=bool)
    expected = preprocess.zscore(volume, per="volume", mask=head_mask)
    if callable(answer):  # a function normalise(volume, head_mask)
        ok, answer = checks.call_student(answer, volume.copy(), head_mask.copy(), name=name)
        if not ok:
            return False
    if answer is None:
        return checks.feedback(False, name, "got None. Assign the normalised volume.")
    answer = np.asarray(answer, dtype=np.float64)
    if answer.shape != volume.shape:
        return checks.feedback(
            False, name, f"shape is {answer.shape}, expected the volume's {volume.shape}."
        )
    if not np.isfinite(answer).all():
        return checks.feedback(
            False, name, "contains NaN or infinite values.", "A constant region has std 0."
        )
    if np.allclose(answer, expected, atol=1e-3):
        return checks.feedback(True, name)
    per_slice = preprocess.zscore(volume, per="slice", on_constant="zero")
    if np.allclose(answer, per_slice, atol=1e-3):
        return checks.feedback(
            False,
            name,
            "every slice has mean 0 and std 1: the brightness differences between slices are gone.",
            "Use one mean and one standard deviation for the whole volume.",
        )
    unmasked = preprocess.zscore(volume)
    if np.allclose(answer, unmasked, atol=1e-3):
        return checks.feedback(
            False,
            name,
            "the statistics include the air around the head.",
            "Take the mean and std of volume[head_mask] only, then apply them to the whole volume.",
        )
    inside = answer[head_mask]
    return checks.feedback(
        False,
        name,
        f"inside the head your values have mean {inside.mean():.2f} and std {inside.std():.2f}; "
        "expected mean 0 and std 1 there.",
    )


# --------------------------------------------------------------------------- exercise 3
def _square_cases():
    cases = []
    for shape, roi_rows, roi_cols, size, description in (
        ((120, 70), (2, 12), (30, 40), None, "a tall image with the ROI at the top"),
        ((120, 70), (108, 119), (5, 20), None, "a tall image with the ROI at the bottom"),
        (
            (120, 70),
            (55, 70),
            (50, 69),
            None,
            "a tall image with the ROI in the middle, at the right edge",
        ),
        ((60, 140), (10, 30), (120, 139), None, "a wide image with the ROI at the right"),
        ((60, 140), (40, 59), (0, 8), None, "a wide image with the ROI at the bottom left"),
        ((120, 70), (90, 100), (10, 25), 40, "a 40-pixel square on a tall image"),
    ):
        mask = np.zeros(shape, bool)
        mask[roi_rows[0] : roi_rows[1] + 1, roi_cols[0] : roi_cols[1] + 1] = True
        cases.append((description, shape, mask, size))
    return cases


def check_square_box(function) -> bool:
    """Check ``function(shape, roi_mask, size=None)`` returning a square box that keeps the ROI.

    The box must be a square of side ``size`` (default: the image's shorter
    side), lie inside the image and contain every ROI pixel, for tall and
    wide images and ROIs anywhere.

    Example
    -------
    >>> check_square_box(lambda shape, roi, size=None: preprocess.square_box_around(shape, roi, size=size))
    ✅ square ROI crop: correct.
    True
    """
    name = "square ROI crop"
    for description, shape, mask, size in _square_cases():
        ok, result = checks.call_student(function, shape, mask.copy(), size, name=name)
        if not ok:
            return False
        box, problem = _as_box(result, 2)
        if problem:
            return checks.feedback(False, name, f"on {description}: {problem}.")
        side = min(shape) if size is None else size
        starts = [s.start or 0 for s in box]
        stops = [shape[i] if box[i].stop is None else box[i].stop for i in range(2)]
        if any(start < 0 for start in starts) or any(
            stop > n for stop, n in zip(stops, shape, strict=True)
        ):
            return checks.feedback(
                False,
                name,
                f"on {description} the box leaves the image.",
                "Shift the square back inside: start = min(max(start, 0), size_of_axis - side).",
            )
        lengths = [stop - start for start, stop in zip(starts, stops, strict=True)]
        if lengths != [side, side]:
            return checks.feedback(
                False,
                name,
                f"on {description} the box is {lengths[0]} x {lengths[1]}, expected a {side} x {side} square.",
                "The side is the shorter image side (or `size`), also for wide images.",
            )
        kept = int(mask[box].sum())
        if kept != int(mask.sum()):
            return checks.feedback(
                False,
                name,
                f"on {description} the crop keeps {kept} of {int(mask.sum())} ROI pixels.",
                "Centre the square on the ROI, then shift it inside the image.",
            )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 4
def check_resize_mask(function) -> bool:
    """Check ``function(mask, shape_rc)`` that resizes a label mask to ``(rows, cols)``.

    The output must have the requested (rows, cols) shape and hold only the
    input's label values, placed where nearest-neighbour resizing puts them.

    Example
    -------
    >>> import cv2
    >>> check_resize_mask(lambda m, s: cv2.resize(m, s[::-1], interpolation=cv2.INTER_LINEAR))
    ❌ resized mask: new label values appeared (e.g. 1, 2, 5); only [0, 4, 7] are allowed. Hint: Interpolate masks with nearest neighbour (cv2.INTER_NEAREST), never bilinear.
    False
    """
    name = "resized mask"
    mask = np.zeros((40, 64), np.uint8)
    mask[8:30, 10:30] = 4
    mask[15:35, 40:60] = 7
    target = (30, 50)  # (rows, cols): not square, not in the input's ratio
    ok, result = checks.call_student(function, mask.copy(), target, name=name)
    if not ok:
        return False
    if result is None:
        return checks.feedback(False, name, "got None. `return` the resized mask.")
    result = np.asarray(result)
    if result.shape == target[::-1]:
        return checks.feedback(
            False,
            name,
            f"shape is {result.shape}, i.e. (cols, rows).",
            "cv2.resize takes dsize=(width, height) = (cols, rows).",
        )
    if result.shape != target:
        return checks.feedback(
            False, name, f"shape is {result.shape}, expected {target} (rows, cols)."
        )
    allowed = set(np.unique(mask).tolist())
    new_values = sorted(set(np.unique(result).tolist()) - allowed)
    if new_values:
        shown = ", ".join(f"{v:g}" for v in new_values[:3])
        return checks.feedback(
            False,
            name,
            f"new label values appeared (e.g. {shown}); only {sorted(allowed)} are allowed.",
            "Interpolate masks with nearest neighbour (cv2.INTER_NEAREST), never bilinear.",
        )
    # nearest neighbour has two common conventions (pixel centres, or OpenCV's top-left corners)
    centred = preprocess.resize_image(mask, target, kind="mask")
    row_index = (np.arange(target[0]) * mask.shape[0] // target[0]).astype(int)
    col_index = (np.arange(target[1]) * mask.shape[1] // target[1]).astype(int)
    cornered = mask[np.ix_(row_index, col_index)]
    agreement = max(float((result == centred).mean()), float((result == cornered).mean()))
    if agreement < 0.97:
        return checks.feedback(
            False,
            name,
            f"only {100 * agreement:.0f}% of pixels agree with a nearest-neighbour resize; "
            "are the labels flipped or shifted?",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 3 (padding)
def _padding_cases():
    rng = np.random.default_rng(5)
    tall = rng.uniform(100, 200, (90, 40)).astype(np.float32)
    wide = rng.uniform(100, 200, (30, 75)).astype(np.float32)
    labels = np.zeros((80, 50), np.uint8)
    labels[10:50, 5:30] = 3
    labels[55:75, 20:45] = 9
    return [
        ("a wide 30 x 75 image into (48, 64)", wide, (48, 64), "image"),
        ("a tall 90 x 40 image into (60, 60)", tall, (60, 60), "image"),
        ("a label mask 80 x 50 into (40, 40)", labels, (40, 40), "mask"),
    ]


def check_resize_with_padding(function) -> bool:
    """Check ``function(image, shape_rc, kind="image")``: resize keeping the aspect, pad on the right.

    The image must be scaled by one factor (the largest that fits), placed
    against the **left** edge (the chest wall, after flipping every breast to
    the left) and centred vertically, the rest filled with 0; a mask
    (``kind="mask"``) must keep only its own labels.

    Example
    -------
    >>> import cv2
    >>> def distorting(image, shape_rc, kind="image"):
    ...     return cv2.resize(image, shape_rc[::-1], interpolation=cv2.INTER_AREA)
    >>> check_resize_with_padding(distorting)
    ❌ resize with padding: on a wide 30 x 75 image into (48, 64) no pixel is padding: the image was stretched to the target, so round objects become ellipses. Hint: Scale both axes by the same factor, the largest one that fits, then pad what is left.
    False
    """
    name = "resize with padding"
    for description, image, target, kind in _padding_cases():
        ok, result = checks.call_student(function, image.copy(), target, kind, name=name)
        if not ok:
            return False
        if result is None:
            return checks.feedback(False, name, "got None. `return` the padded image.")
        result = np.asarray(result)
        if result.shape == target[::-1] and target[0] != target[1]:
            return checks.feedback(
                False,
                name,
                f"on {description} the shape is {result.shape}, i.e. (cols, rows).",
                "cv2.resize takes dsize=(width, height) = (cols, rows).",
            )
        if result.shape != target:
            return checks.feedback(
                False, name, f"on {description} the shape is {result.shape}, expected {target}."
            )
        expected = preprocess.resize_with_padding(image, target, kind=kind, anchor="left")
        padding = expected == 0 if kind == "image" else None
        if kind == "mask":
            allowed = set(np.unique(image).tolist())
            new_values = sorted(set(np.unique(result).tolist()) - allowed)
            if new_values:
                return checks.feedback(
                    False,
                    name,
                    f"on {description} new label values appeared ({', '.join(map(str, new_values[:3]))}).",
                    "A mask holds labels: resize it with nearest neighbour.",
                )
            # nearest neighbour has two conventions (pixel centres, or OpenCV's corners)
            scale = min(target[0] / image.shape[0], target[1] / image.shape[1])
            size_rc = (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
            corner = np.zeros(target, image.dtype)
            top = (target[0] - size_rc[0]) // 2
            corner[top : top + size_rc[0], : size_rc[1]] = cv2.resize(
                image, size_rc[::-1], interpolation=cv2.INTER_NEAREST
            )
            agreement = max(float((result == expected).mean()), float((result == corner).mean()))
            if agreement < 0.97:
                return checks.feedback(
                    False,
                    name,
                    f"on {description} the labels are not where the image's pixels go; is the "
                    "mask placed differently from the image?",
                    "Place the mask exactly like the image: against the left edge, centred in rows.",
                )
            continue
        zero = np.isclose(result, 0)
        if not zero.any():
            return checks.feedback(
                False,
                name,
                f"on {description} no pixel is padding: the image was stretched to the target, "
                "so round objects become ellipses.",
                "Scale both axes by the same factor, the largest one that fits, then pad what is left.",
            )
        content_cols = np.flatnonzero(~zero.all(axis=0))
        content_rows = np.flatnonzero(~zero.all(axis=1))
        want_cols = np.flatnonzero(~padding.all(axis=0))
        want_rows = np.flatnonzero(~padding.all(axis=1))
        if content_cols.size and content_cols[0] > 0 and want_cols[0] == 0:
            return checks.feedback(
                False,
                name,
                f"on {description} there is padding on the left: the image no longer touches "
                "the left edge, where the chest wall is.",
                "Put all the horizontal padding on the right, away from the chest wall.",
            )
        spans = (content_rows[-1] - content_rows[0] + 1, content_cols[-1] - content_cols[0] + 1)
        want = (want_rows[-1] - want_rows[0] + 1, want_cols[-1] - want_cols[0] + 1)
        if any(abs(a - b) > 1 for a, b in zip(spans, want, strict=True)):
            return checks.feedback(
                False,
                name,
                f"on {description} the image fills {spans[0]} x {spans[1]} pixels; that is not "
                "the largest size with the original aspect ratio.",
                "One factor for both axes: the smaller of target_rows / rows and target_cols / cols.",
            )
        if abs(content_rows[0] - want_rows[0]) > 1:
            return checks.feedback(
                False,
                name,
                f"on {description} the image is not centred vertically.",
                "Split the vertical padding between top and bottom.",
            )
        inside = (~padding) & (~zero)
        if not np.allclose(result[inside], expected[inside], rtol=0.02, atol=2.0):
            return checks.feedback(
                False,
                name,
                f"on {description} the pixel values differ from an area-interpolated resize.",
                "Shrink images with cv2.INTER_AREA; only masks use nearest neighbour.",
            )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 5 (clipping)
def check_percentile_clip(function) -> bool:
    """Check ``function(image, mask, low=1, high=99)``: clip to percentiles of the masked pixels.

    Expected: the ``low`` and ``high`` percentiles of ``image[mask]`` only,
    every pixel clipped to them and mapped linearly to [0, 1].

    Example
    -------
    >>> def no_mask(image, mask, low=1, high=99):
    ...     a, b = np.percentile(image, [low, high])
    ...     return (np.clip(image, a, b) - a) / (b - a)
    >>> check_percentile_clip(no_mask)
    ❌ percentile clipping: the percentiles include the background outside the mask, so the background decides where the tissue is clipped. Hint: Take the percentiles of image[mask] only, then apply them to every pixel.
    False
    """
    name = "percentile clipping"
    rng = np.random.default_rng(11)
    image = rng.normal(200.0, 5.0, (60, 60))  # background
    mask = np.zeros(image.shape, bool)
    mask[10:50, 15:45] = True
    image[mask] = rng.normal(1000.0, 120.0, int(mask.sum()))
    image[20, 20] = 9000.0  # one hot pixel inside the tissue
    ok, result = checks.call_student(function, image.copy(), mask.copy(), 2, 98, name=name)
    if not ok:
        return False
    if result is None:
        return checks.feedback(False, name, "got None. `return` the clipped image.")
    result = np.asarray(result, dtype=np.float64)
    if result.shape != image.shape:
        return checks.feedback(False, name, f"shape is {result.shape}, expected {image.shape}.")
    expected = preprocess.percentile_clip(image, 2, 98, mask=mask)
    if np.allclose(result, expected, atol=1e-4):
        return checks.feedback(True, name)
    unmasked = preprocess.percentile_clip(image, 2, 98)
    if np.allclose(result, unmasked, atol=1e-4):
        return checks.feedback(
            False,
            name,
            "the percentiles include the background outside the mask, so the background decides "
            "where the tissue is clipped.",
            "Take the percentiles of image[mask] only, then apply them to every pixel.",
        )
    if result.max() > 1 + 1e-6 or result.min() < -1e-6:
        if np.allclose(result[mask].max(), np.percentile(image[mask], 98)):
            return checks.feedback(
                False,
                name,
                "values are clipped but still in the image's units.",
                "After clipping, map the low percentile to 0 and the high one to 1.",
            )
        return checks.feedback(
            False,
            name,
            "values lie outside [0, 1].",
            "Clip first, then rescale with the clip limits (not the image's min and max).",
        )
    at_top = int((result[mask] >= 1 - 1e-6).sum())
    if at_top == 0 or float(result[mask].min()) > 1e-6:
        return checks.feedback(
            False,
            name,
            "the clip limits are not mapped to exactly 0 and 1.",
            "Rescale with the clip limits themselves, not with the image's min and max.",
        )
    if at_top <= 1:
        return checks.feedback(
            False,
            name,
            "the hot pixel still sets the top of the scale: nothing (or almost nothing) was "
            "clipped at the high end.",
            "Clip to the high percentile before rescaling; a min-max over the mask is not enough.",
        )
    return checks.feedback(
        False,
        name,
        "the result differs from clipping to the masked percentiles and rescaling to [0, 1].",
        "Percentiles of image[mask]; np.clip; then (x - low) / (high - low).",
    )
