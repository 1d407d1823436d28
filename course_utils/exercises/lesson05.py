"""Checks for ``05_cropping_and_normalisation``.

Each check runs the student's function (or compares the student's array) on
cases built here, including the edge cases the lesson warns about (foreground
touching the last row, empty masks, wide images, non-square targets), and
prints what went wrong without printing the reference.

Example
-------
>>> import numpy as np
>>> from course_utils import preprocess
>>> def helper(mask, margin=0):
...     return preprocess.bounding_box(mask, margin, allow_empty=True)
>>> check_bounding_box(helper)
✅ bounding box: correct.
True
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from course_utils import checks, preprocess

__all__ = [
    "check_bounding_box",
    "check_square_box",
    "check_occlude_roi",
    "check_resize_with_padding",
    "check_dataset_stats",
    "check_percentile_clip",
    "check_normalise_in_mask",
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
    >>> check_bounding_box(off_by_one)  # doctest: +NORMALIZE_WHITESPACE
    ❌ bounding box: on a mask with one foreground pixel the box (3:3, 4:4) misses the last row
    and the last column of the foreground. Hint: A slice's stop is excluded: stop = last index + 1.
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
                "A start below 0 counts from the end of the axis: limit the start at 0 and the stop at "
                "the axis length.",
            )
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
            got = [
                (s.start or 0, mask.shape[i] if s.stop is None else s.stop)
                for i, s in enumerate(box)
            ]
            want = [(s.start, s.stop) for s in expected]
            shown = ", ".join(f"{a}:{b}" for a, b in got)
            if got == want[::-1] and want[0] != want[1]:
                return checks.feedback(
                    False,
                    name,
                    f"on {description} the box ({shown}) has rows and columns swapped.",
                    "The first slice is for axis 0 (rows, `mask.any(axis=1)`), the second for "
                    "axis 1 (columns).",
                )
            if mask[box].sum() < mask.sum():
                short = [
                    axis
                    for axis in range(2)
                    if got[axis][0] == want[axis][0] and got[axis][1] == want[axis][1] - 1
                ]
                if short:
                    return checks.feedback(
                        False,
                        name,
                        f"on {description} the box ({shown}) misses the last "
                        f"{' and the last '.join(('row', 'column')[a] for a in short)} of the "
                        "foreground.",
                        "A slice's stop is excluded: stop = last index + 1.",
                    )
                return checks.feedback(
                    False,
                    name,
                    f"on {description} the box ({shown}) leaves out "
                    f"{int(mask.sum() - mask[box].sum())} foreground pixel(s).",
                    "Find the first and last row (and column) that hold any True pixel.",
                )
            inner = all(g[0] >= w[0] and g[1] <= w[1] for g, w in zip(got, want, strict=True))
            hint = (
                "Add the margin on each side (clipped to the image)."
                if inner
                else "The box is not the smallest one, or the margin is not clipped to the image."
            )
            return checks.feedback(
                False,
                name,
                f"on {description} the box ({shown}) holds every foreground pixel but is "
                f"{'too small' if inner else 'not the expected size'}: its crop has shape "
                f"{mask[box].shape}.",
                hint,
            )
    ok, result = checks.call_student(function, np.zeros((5, 5), bool), 0, name=name)
    if not ok:
        return checks.feedback(False, name, "an empty mask must not crash: return None for it.")
    if result is not None:
        return checks.feedback(False, name, f"for an empty mask return None, got {result!r}.")
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 2
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
    >>> def helper(shape, roi, size=None):
    ...     return preprocess.square_box_around(shape, roi, size=size)
    >>> check_square_box(helper)
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
        lengths = [stop - start for start, stop in zip(starts, stops, strict=True)]
        # the side first: a wrong side (e.g. the width of a wide image) is the cause, and the
        # box leaving the image only its consequence
        if size is None and shape[0] != shape[1] and max(shape) in lengths:
            return checks.feedback(
                False,
                name,
                f"on {description} the box is {lengths[0]} x {lengths[1]}: {max(shape)} is the "
                f"image's longer side, expected a {side} x {side} square.",
                "The side must be the shorter image side: on a wide image the width is longer "
                "than the height, so a square of the width cannot fit.",
            )
        if any(start < 0 for start in starts) or any(
            stop > n for stop, n in zip(stops, shape, strict=True)
        ):
            return checks.feedback(
                False,
                name,
                f"on {description} the box leaves the image.",
                "Keep the side, and move the start so the square fits: it cannot begin before 0 "
                "or end after the image.",
            )
        if lengths != [side, side]:
            at_edge = any(
                start == 0 or stop == n for start, stop, n in zip(starts, stops, shape, strict=True)
            )
            if at_edge and all(length <= side for length in lengths):
                return checks.feedback(
                    False,
                    name,
                    f"on {description} the box is {lengths[0]} x {lengths[1]}, expected a "
                    f"{side} x {side} square: it was cut at the image edge.",
                    "Clipping the start and the stop separately shrinks the square. Keep the "
                    "side, and move the start so the square fits.",
                )
            return checks.feedback(
                False,
                name,
                f"on {description} the box is {lengths[0]} x {lengths[1]}, "
                f"expected a {side} x {side} square.",
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


# --------------------------------------------------------------------------- exercise 3
def _occlusion_case():
    """A film-like image with an ROI near the top edge, and rectangular pixels."""
    image = np.arange(60 * 80, dtype=np.float64).reshape(60, 80) % 97 + 100.0
    roi = np.zeros(image.shape, bool)
    roi[4:12, 30:41] = True
    return image, roi, (0.2, 0.1), 1.5, 7.0  # (row mm, column mm); buffer 1.5 mm; fill


def _occluded(image, roi, margin, fill):
    out = image.copy()
    out[preprocess.bounding_box(roi, margin=margin)] = fill
    return out


def check_occlude_roi(function) -> bool:
    """Check ``function(image, roi, spacing_rc, buffer_mm, fill)`` returning an occluded copy.

    The ROI's bounding box, grown by ``buffer_mm`` converted to pixels with each
    axis's own spacing and clipped at the image border, is set to ``fill``; the
    input image is left unchanged. The check's pixels are not square and its ROI
    lies near the top edge.

    Example
    -------
    >>> def helper(image, roi, spacing_rc, buffer_mm, fill):
    ...     margin = tuple(round(buffer_mm / s) for s in spacing_rc)
    ...     out = image.copy()
    ...     out[preprocess.bounding_box(roi, margin=margin)] = fill
    ...     return out
    >>> check_occlude_roi(helper)
    ✅ occlude the ROI: correct.
    True
    """
    name = "occlude the ROI"
    image, roi, spacing_rc, buffer_mm, fill = _occlusion_case()
    given = image.copy()
    ok, result = checks.call_student(
        function, given, roi.copy(), spacing_rc, buffer_mm, fill, name=name
    )
    if not ok:
        return False
    if result is None:
        return checks.feedback(False, name, "got None. `return` the occluded copy.")
    result = np.asarray(result, dtype=np.float64)
    if result.shape != image.shape:
        return checks.feedback(False, name, f"shape is {result.shape}, expected {image.shape}.")
    if not np.array_equal(given, image):
        return checks.feedback(
            False,
            name,
            "the image you were given was changed: the caller still needs the original.",
            "Work on a copy of the image.",
        )
    margin = tuple(round(buffer_mm / s) for s in spacing_rc)
    if np.allclose(result, _occluded(image, roi, margin, fill)):
        return checks.feedback(True, name)
    wrong = {
        "the row spacing was used for the columns too: on rectangular pixels the buffer is then "
        "not the same length in mm along both axes": (margin[0], margin[0]),
        "the column spacing was used for the rows too: on rectangular pixels the buffer is then "
        "not the same length in mm along both axes": (margin[1], margin[1]),
        "the two axes' spacings are swapped": margin[::-1],
        "the buffer was used as a number of pixels, not converted from mm": (round(buffer_mm),) * 2,
        "the box has no buffer": (0, 0),
    }
    for message, wrong_margin in wrong.items():
        if np.allclose(result, _occluded(image, roi, wrong_margin, fill)):
            return checks.feedback(
                False, name, message + ".", "Convert mm to pixels once per axis, with its spacing."
            )
    if np.allclose(result, image):
        return checks.feedback(
            False,
            name,
            "no pixel was occluded. With the ROI near the top edge, a box start below 0 counts "
            "from the end of the axis and selects nothing.",
            "Limit the grown box's start at 0 and its stop at the axis length, then fill it.",
        )
    return checks.feedback(
        False,
        name,
        "the occluded pixels differ from the ROI's box grown by the buffer.",
        "Grow the ROI's bounding box by the buffer in pixels on each side, then fill it.",
    )


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


def _swapped_dsize(function, image, target, kind):
    """The error message if ``function`` fails with a transposed broadcast, else None."""
    try:
        function(image.copy(), target, kind)
    except ValueError as exc:
        shapes = re.findall(r"\(([0-9]+),\s*([0-9]+)\)", str(exc))
        if "broadcast" in str(exc) and len(shapes) >= 2 and shapes[0] == shapes[1][::-1]:
            return str(exc)
    except Exception:  # any other failure is reported by checks.call_student
        return None
    return None


def _constant_fill(result, n_padding):
    """The value that fills at least 90 % of the expected padding area, if there is one."""
    if n_padding == 0:
        return None
    values, counts = np.unique(result, return_counts=True)
    if counts.max() >= 0.9 * n_padding:
        return float(values[counts.argmax()])
    return None


def check_resize_with_padding(function) -> bool:
    """Check ``function(image, shape_rc, kind="image")``: keep the aspect, pad on the right.

    The image must be scaled by one factor (the largest that fits), placed
    against the **left** edge (the chest wall, after flipping every breast to
    the left) and centred vertically, the rest filled with 0 (as the exercise
    asks; a non-zero fill is named, with its value); a mask (``kind="mask"``)
    must keep only its own labels. The classic swap, ``cv2.resize(image,
    (rows, cols))`` inside the function, is named too.

    Example
    -------
    >>> import cv2
    >>> def distorting(image, shape_rc, kind="image"):
    ...     return cv2.resize(image, shape_rc[::-1], interpolation=cv2.INTER_AREA)
    >>> check_resize_with_padding(distorting)  # doctest: +NORMALIZE_WHITESPACE
    ❌ resize with padding: on a wide 30 x 75 image into (48, 64) no pixel is padding: the image
    was stretched to the target, so round objects become ellipses. Hint: Scale both axes by the
    same factor, the largest one that fits, then pad what is left.
    False
    """
    name = "resize with padding"
    for description, image, target, kind in _padding_cases():
        swapped = _swapped_dsize(function, image, target, kind)
        if swapped:
            return checks.feedback(
                False,
                name,
                f"on {description} your function raised ValueError: {swapped}. The resized "
                "image has rows and columns swapped, so it does not fit where it is copied: "
                "was cv2.resize given (rows, cols)?",
                "cv2.resize takes dsize=(width, height) = (cols, rows), the reverse of a numpy "
                "shape.",
            )
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
                    f"on {description} new label values appeared "
                    f"({', '.join(map(str, new_values[:3]))}).",
                    "A mask holds labels: resize it with nearest neighbour.",
                )
            # nearest neighbour has two conventions (pixel centres, or OpenCV's corners),
            # and the inner size may be rounded or truncated
            scale = min(target[0] / image.shape[0], target[1] / image.shape[1])
            agreement = float((result == expected).mean())
            for rounding in (round, int, np.ceil):
                size_rc = tuple(
                    min(t, max(1, int(rounding(n * scale))))
                    for n, t in zip(image.shape, target, strict=True)
                )
                corner = np.zeros(target, image.dtype)
                top = (target[0] - size_rc[0]) // 2
                corner[top : top + size_rc[0], : size_rc[1]] = cv2.resize(
                    image, size_rc[::-1], interpolation=cv2.INTER_NEAREST
                )
                agreement = max(agreement, float((result == corner).mean()))
            if agreement < 0.97:
                return checks.feedback(
                    False,
                    name,
                    f"on {description} the labels are not where the image's pixels go; is the "
                    "mask placed differently from the image?",
                    "Place the mask exactly like the image: against the left edge, centred in "
                    "rows.",
                )
            continue
        zero = np.isclose(result, 0)
        fill = _constant_fill(result, int(padding.sum()))
        if not zero.any() and fill is not None:
            return checks.feedback(
                False,
                name,
                f"on {description} the padding holds {fill:.4g}, expected 0. Padding with the "
                "image minimum, just below the background level (as the lesson's figure does), is a "
                "fine choice in a pipeline, but the "
                "exercise asks for 0.",
                "Start from np.zeros(shape_rc, dtype=image.dtype) and copy the resized image in.",
            )
        if not zero.any():
            return checks.feedback(
                False,
                name,
                f"on {description} no pixel is padding: the image was stretched to the target, "
                "so round objects become ellipses.",
                "Scale both axes by the same factor, the largest one that fits, then pad what "
                "is left.",
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
                "One factor for both axes: the smaller of target_rows / rows and "
                "target_cols / cols.",
            )
        if abs(content_rows[0] - want_rows[0]) > 1:
            return checks.feedback(
                False,
                name,
                f"on {description} the image is not centred vertically.",
                "Split the vertical padding between top and bottom.",
            )
        # compare with OpenCV at the student's own inner size: int() and round() of
        # rows * scale may differ by one pixel, and both are fine
        content = result[
            content_rows[0] : content_rows[-1] + 1, content_cols[0] : content_cols[-1] + 1
        ]
        own_size = (content.shape[1], content.shape[0])  # (width, height) for cv2
        by_flag = {
            flag: cv2.resize(image, own_size, interpolation=flag)
            for flag in (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_NEAREST)
        }
        if np.allclose(content, by_flag[cv2.INTER_AREA], rtol=0.02, atol=2.0):
            continue
        used = next(
            (
                label
                for flag, label in ((cv2.INTER_NEAREST, "nearest"), (cv2.INTER_LINEAR, "bilinear"))
                if np.allclose(content, by_flag[flag], rtol=0.02, atol=2.0)
            ),
            None,
        )
        if used is not None:
            return checks.feedback(
                False,
                name,
                f"on {description} the image was shrunk with {used} interpolation.",
                "Shrink images with cv2.INTER_AREA; only masks use nearest neighbour.",
            )
        return checks.feedback(
            False,
            name,
            f"on {description} the pixel values inside the image are not a resize of the input "
            "(flipped, shifted or rescaled?).",
            "Resize the whole image with cv2.resize, then copy it into the zero array unchanged.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 4
def _dataset_cases():
    """Training volumes of different sizes and gains, with head masks of different sizes."""
    rng = np.random.default_rng(4)
    volumes, masks = [], []
    for shape, radius, gain in (
        ((6, 20, 20), 8, 1.0),
        ((4, 30, 24), 5, 2.5),
        ((8, 16, 16), 7, 0.6),
    ):
        rows, cols = np.ogrid[: shape[1], : shape[2]]
        disc = (rows - shape[1] / 2) ** 2 + (cols - shape[2] / 2) ** 2 < radius**2
        mask = np.broadcast_to(disc, shape).copy()
        mask[0] = False  # a slice without head, as at the ends of a series
        volume = rng.normal(5.0, 2.0, shape)  # air: noise, not zero
        volume[mask] = gain * rng.normal(300.0, 40.0, int(mask.sum()))
        volumes.append(volume)
        masks.append(mask)
    return volumes, masks


def check_dataset_stats(function) -> bool:
    """Check ``function(volumes, masks)`` returning the (mean, std) of a training split.

    Expected: one mean and one standard deviation over the masked voxels of
    **all** volumes together (every voxel counts once), as
    :func:`course_utils.preprocess.zscore_stats` computes them. The volumes
    differ in size, head size and gain, so averaging per-volume statistics
    gives other numbers.

    Example
    -------
    >>> def mean_of_means(volumes, masks):
    ...     means = [v[m].mean() for v, m in zip(volumes, masks)]
    ...     stds = [v[m].std() for v, m in zip(volumes, masks)]
    ...     return float(np.mean(means)), float(np.mean(stds))
    >>> check_dataset_stats(mean_of_means)  # doctest: +NORMALIZE_WHITESPACE
    ❌ dataset statistics: the mean is the average of the per-volume means: a volume with a small
    head counts as much as one with a large head. Hint: Pool the masked voxels of all volumes
    first, then take one mean and one std.
    False
    """
    name = "dataset statistics"
    volumes, masks = _dataset_cases()
    ok, result = checks.call_student(
        function, [v.copy() for v in volumes], [m.copy() for m in masks], name=name
    )
    if not ok:
        return False
    if result is None:
        return checks.feedback(False, name, "got None. `return mean, std`.")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return checks.feedback(
            False,
            name,
            f"expected a pair (mean, std), got {type(result).__name__}.",
            "Return the statistics, not normalised volumes: they are applied later, also to "
            "test data.",
        )
    try:
        mean, std = (float(np.asarray(value)) for value in result)
    except (TypeError, ValueError):
        return checks.feedback(False, name, "mean and std must be single numbers.")
    pooled = np.concatenate([v[m] for v, m in zip(volumes, masks, strict=True)])
    want_mean, want_std = float(pooled.mean()), float(pooled.std())

    def close(a, b):
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))

    if close(mean, want_mean) and (close(std, want_std) or close(std, float(pooled.std(ddof=1)))):
        return checks.feedback(True, name)
    everything = np.concatenate([v.ravel() for v in volumes])
    if close(mean, float(everything.mean())):
        return checks.feedback(
            False,
            name,
            "the statistics include the air around the heads.",
            "Use only the voxels where each volume's mask is True.",
        )
    per_volume_means = [float(v[m].mean()) for v, m in zip(volumes, masks, strict=True)]
    if close(mean, float(np.mean(per_volume_means))):
        return checks.feedback(
            False,
            name,
            "the mean is the average of the per-volume means: a volume with a small head "
            "counts as much as one with a large head.",
            "Pool the masked voxels of all volumes first, then take one mean and one std.",
        )
    if any(close(mean, value) for value in per_volume_means):
        return checks.feedback(
            False,
            name,
            "the mean is that of a single volume; the statistics must cover the whole "
            "training split.",
        )
    if close(mean, want_mean):
        per_volume_stds = [float(v[m].std()) for v, m in zip(volumes, masks, strict=True)]
        if close(std, float(np.mean(per_volume_stds))):
            return checks.feedback(
                False,
                name,
                "the mean is right, but the std is the average of the per-volume stds: it "
                "misses the spread *between* volumes (their gains differ).",
                "Take the std of the pooled voxels.",
            )
        if close(std, float(pooled.var())) or close(std, float(pooled.var(ddof=1))):
            return checks.feedback(
                False,
                name,
                f"the mean is right, but {std:.4g} looks like a variance, not a standard "
                "deviation.",
                "Return the square root of the variance (np.std does it for you).",
            )
        within = float(np.sqrt(np.mean([v[m].var() for v, m in zip(volumes, masks, strict=True)])))
        if close(std, within):
            return checks.feedback(
                False,
                name,
                "the mean is right, but the std averages the within-volume spread only (the "
                "root of the mean per-volume variance): it misses the spread *between* volumes.",
                "Take the std of the pooled voxels.",
            )
        return checks.feedback(False, name, f"the mean is right, but the std {std:.4g} is not.")
    return checks.feedback(
        False,
        name,
        f"got mean {mean:.4g}, std {std:.4g}; these are not the statistics of the pooled "
        "masked voxels.",
    )


# --------------------------------------------------------------------------- exercise 5
def check_percentile_clip(function) -> bool:
    """Check ``function(image, mask, low=1, high=99)``: clip to percentiles of the masked pixels.

    Expected: the ``low`` and ``high`` percentiles of ``image[mask]`` only,
    every pixel clipped to them and mapped linearly to [0, 1].

    Example
    -------
    >>> def no_mask(image, mask, low=1, high=99):
    ...     a, b = np.percentile(image, [low, high])
    ...     return (np.clip(image, a, b) - a) / (b - a)
    >>> check_percentile_clip(no_mask)  # doctest: +NORMALIZE_WHITESPACE
    ❌ percentile clipping: the percentiles include the background outside the mask, so the
    background decides where the tissue is clipped. Hint: Take the percentiles of image[mask] only,
    then apply them to every pixel.
    False
    """
    name = "percentile clipping"
    rng = np.random.default_rng(11)
    image = rng.normal(200.0, 5.0, (60, 60))  # background
    mask = np.zeros(image.shape, bool)
    mask[10:50, 15:45] = True
    image[mask] = rng.normal(1000.0, 120.0, int(mask.sum()))
    image[20, 20] = 9000.0  # one hot pixel inside the tissue
    image[2:4, 2:6] = 5000.0  # a bright label outside the mask: it must be clipped too
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
    fractions = preprocess.percentile_clip(image, 2 / 100, 98 / 100, mask=mask)
    if np.allclose(result, fractions, atol=1e-4):
        return checks.feedback(
            False,
            name,
            "the result matches the 0.02 and 0.98 percentiles: the percentiles look like "
            "fractions, but np.percentile takes 0-100 (np.quantile takes 0-1).",
            "Pass low and high to np.percentile as they are, not divided by 100.",
        )
    for low, high in ((1, 99), (5, 95), (0.5, 99.5)):
        if np.allclose(result, preprocess.percentile_clip(image, low, high, mask=mask), atol=1e-4):
            return checks.feedback(
                False,
                name,
                f"the result matches percentiles ({low}, {high}), but the check called your "
                "function with low=2, high=98: the `low` and `high` arguments are ignored.",
                "Use the function's parameters, not fixed numbers.",
            )
    outside = ~mask
    if np.allclose(result[mask], expected[mask], atol=1e-4) and not np.allclose(
        result[outside], expected[outside], atol=1e-4
    ):
        return checks.feedback(
            False,
            name,
            "inside the mask the values are right, but the pixels outside it were not clipped "
            "and rescaled the same way.",
            "The mask only chooses where the percentiles come from; apply the clip and the "
            "rescale to every pixel.",
        )
    if result.max() > 1 + 1e-6 or result.min() < -1e-6:
        if np.allclose(result[mask].max(), np.percentile(image[mask], 98)):
            return checks.feedback(
                False,
                name,
                "values are clipped but still in the image's units.",
                "After clipping, map the low percentile to 0 and the high one to 1.",
            )
        tissue = image[mask]
        if np.allclose(result, (image - tissue.min()) / (tissue.max() - tissue.min()), atol=1e-4):
            return checks.feedback(
                False,
                name,
                "this is a min-max over the mask: no percentiles were taken and nothing was "
                "clipped, so values outside the mask leave [0, 1].",
                "Take the low and high percentiles of the masked pixels and clip to them first.",
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
        "Compare your output with the image on a few pixels: which step (percentiles, clip, "
        "rescale) changes them differently?",
    )


# --------------------------------------------------------------------------- exercise 6
def check_normalise_in_mask(function) -> bool:
    """Check ``function(image, mask, method)``: normalise every pixel with the mask's statistics.

    Expected, with statistics of ``image[mask]`` only, applied to every pixel:
    ``"zscore"`` subtracts the mean and divides by the std, ``"minmax"`` maps
    the minimum to 0 and the maximum to 1, ``"percentile"`` clips to the 1st and
    99th percentiles and maps them to 0 and 1.

    Example
    -------
    >>> def all_pixels(image, mask, method):
    ...     return (image - image.mean()) / image.std()
    >>> check_normalise_in_mask(all_pixels)  # doctest: +NORMALIZE_WHITESPACE
    ❌ normalise in mask: method 'zscore': the statistics include the pixels outside the mask
    (background, padding), so they decide the tissue's scale. Hint: Take the statistics of
    image[mask] only, then apply them to every pixel.
    False
    """
    name = "normalise in mask"
    rng = np.random.default_rng(12)
    image = rng.normal(300.0, 10.0, (64, 64))  # background and padding
    mask = np.zeros(image.shape, bool)
    mask[8:56, 4:40] = True
    image[mask] = rng.normal(1200.0, 150.0, int(mask.sum()))
    image[30, 20] = 9000.0  # a hot pixel inside the tissue
    image[60:63, 50:60] = 6000.0  # a bright label outside the mask

    def expected_for(method, values, where):
        if method == "zscore":
            return (image - values.mean()) / values.std()
        if method == "minmax":
            return (image - values.min()) / (values.max() - values.min())
        lower, upper = np.percentile(values, [1, 99])
        return (np.clip(image, lower, upper) - lower) / (upper - lower)

    results = {}
    for method in ("zscore", "minmax", "percentile"):
        ok, result = checks.call_student(function, image.copy(), mask.copy(), method, name=name)
        if not ok:
            return False
        if result is None:
            return checks.feedback(False, name, "got None. `return` the normalised image.")
        result = np.asarray(result, dtype=np.float64)
        if result.shape != image.shape:
            return checks.feedback(False, name, f"shape is {result.shape}, expected {image.shape}.")
        results[method] = result
    for method, result in results.items():
        expected = expected_for(method, image[mask], mask)
        if np.allclose(result, expected, rtol=1e-3, atol=1e-4):
            continue
        if np.allclose(result, expected_for(method, image.ravel(), None), rtol=1e-3, atol=1e-4):
            return checks.feedback(
                False,
                name,
                f"method {method!r}: the statistics include the pixels outside the mask "
                "(background, padding), so they decide the tissue's scale.",
                "Take the statistics of image[mask] only, then apply them to every pixel.",
            )
        if np.allclose(result[mask], expected[mask], rtol=1e-3, atol=1e-4):
            return checks.feedback(
                False,
                name,
                f"method {method!r}: right inside the mask, but the pixels outside it were not "
                "normalised the same way.",
                "Apply the mask's statistics to the whole image, not only to image[mask]; the "
                "model sees the background too.",
            )
        for other in ("zscore", "minmax", "percentile"):
            if other != method and np.allclose(
                result, expected_for(other, image[mask], mask), rtol=1e-3, atol=1e-4
            ):
                return checks.feedback(
                    False,
                    name,
                    f"method {method!r} gave the {other!r} result: the method argument is "
                    "not used (or the branches are swapped).",
                    'Branch on method: "zscore", "minmax" and "percentile" are different maps.',
                )
        if method == "percentile" and (result.min() < -1e-6 or result.max() > 1 + 1e-6):
            return checks.feedback(
                False,
                name,
                "method 'percentile': values lie outside [0, 1].",
                "Clip to the percentiles first, then rescale with the clip limits.",
            )
        return checks.feedback(
            False,
            name,
            f"method {method!r}: the result differs from normalising with the mask's statistics.",
            "Compute the statistics from image[mask] and check each formula on a few pixels.",
        )
    unknown = "z-score"  # a typo of "zscore": must not silently give another normalisation
    try:
        returned = function(image.copy(), mask.copy(), unknown)
    except ValueError:
        return checks.feedback(True, name)
    except Exception as exc:  # noqa: BLE001 - the student's code: say what it raised
        return checks.feedback(
            False,
            name,
            f"an unknown method ({unknown!r}, a typo) raised {type(exc).__name__}, not ValueError.",
            "After the known methods, stop with an error that names the bad setting.",
        )
    what = "None" if returned is None else "a result"
    return checks.feedback(
        False,
        name,
        f"an unknown method ({unknown!r}, a typo) returned {what} instead of raising an error, "
        "so a typo in the pipeline's setting goes unnoticed.",
        "After the known methods, stop with an error that names the bad setting.",
    )
