"""Right and wrong answers for the lesson 05 exercise checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from course_utils import preprocess
from course_utils.exercises import lesson05 as ex


def _stub(*args, **kwargs):
    raise NotImplementedError


# --------------------------------------------------------------------------- bounding box
def good_box(mask, margin=0):
    return preprocess.bounding_box(mask, margin, allow_empty=True)


def off_by_one_box(mask, margin=0):
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return slice(rows.min(), rows.max()), slice(cols.min(), cols.max())


def crashing_box(mask, margin=0):
    rows, cols = np.nonzero(mask)
    return (
        slice(max(0, rows.min() - margin), min(mask.shape[0], rows.max() + 1 + margin)),
        slice(max(0, cols.min() - margin), min(mask.shape[1], cols.max() + 1 + margin)),
    )


def no_margin_box(mask, margin=0):
    return preprocess.bounding_box(mask, allow_empty=True)


def unclipped_box(mask, margin=0):
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return slice(rows.min() - margin, rows.max() + 1 + margin), slice(
        cols.min() - margin, cols.max() + 1 + margin
    )


def tuple_of_ints_box(mask, margin=0):
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return rows.min(), rows.max() + 1


def test_bounding_box_accepts_correct_answer(capsys):
    assert ex.check_bounding_box(good_box)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (off_by_one_box, "stop is excluded"),
        (crashing_box, "empty mask must not crash"),
        (no_margin_box, "Add the margin"),
        (unclipped_box, "start is negative"),
        (tuple_of_ints_box, "expected slice objects"),
        (_stub, "not implemented yet"),
        (None, "expected a function"),
    ],
)
def test_bounding_box_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_bounding_box(answer)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- square box
def good_square(shape, roi_mask, size=None):
    return preprocess.square_box_around(shape, roi_mask, size=size)


def width_based_square(shape, roi_mask, size=None):
    """The three-case recipe that assumes tall images (side = width)."""
    rows, cols = shape
    side = cols if size is None else size
    top = np.flatnonzero(roi_mask.any(axis=1))
    if top[-1] < side // 2:
        return slice(0, side), slice(0, side)
    if top[0] > rows - side // 2:
        return slice(rows - side, rows), slice(0, side)
    middle = (top[0] + top[-1]) // 2
    return slice(middle - side // 2, middle + side // 2), slice(0, side)


def unshifted_square(shape, roi_mask, size=None):
    side = min(shape) if size is None else size
    box = preprocess.bounding_box(roi_mask)
    starts = [(b.start + b.stop) // 2 - side // 2 for b in box]
    return tuple(slice(max(0, s), max(0, s) + side) for s in starts)


def test_square_accepts_correct_answer(capsys):
    assert ex.check_square_box(good_square)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (width_based_square, "on a wide image"),
        (unshifted_square, "leaves the image"),
        (_stub, "not implemented yet"),
        (lambda shape, roi, size=None: [0, 10], "expected slice objects"),
    ],
)
def test_square_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_square_box(answer)
    assert message in capsys.readouterr().out


def centred_unclipped_square(shape, roi_mask, size=None):
    """Centred on the ROI, never shifted: leaves the image near an edge."""
    side = min(shape) if size is None else size
    box = preprocess.bounding_box(roi_mask)
    starts = [(b.start + b.stop) // 2 - side // 2 for b in box]
    return tuple(slice(s, s + side) for s in starts)


def separately_clipped_square(shape, roi_mask, size=None):
    """Start and stop clipped one by one: stays inside, but is no longer square."""
    side = min(shape) if size is None else size
    box = preprocess.bounding_box(roi_mask)
    starts = [(b.start + b.stop) // 2 - side // 2 for b in box]
    return tuple(slice(max(0, s), min(n, s + side)) for s, n in zip(starts, shape, strict=True))


@pytest.mark.parametrize(
    ("answer", "message", "hint"),
    [
        # the three-case recipe of a published notebook: side = image width
        (width_based_square, "is the image's longer side", "must be the shorter image side"),
        (centred_unclipped_square, "leaves the image", "move the start so the square fits"),
        (unshifted_square, "leaves the image", "move the start so the square fits"),
        (separately_clipped_square, "cut at the image edge", "Clipping the start and the stop"),
    ],
)
def test_square_names_the_likely_mistakes(answer, message, hint, capsys):
    assert not ex.check_square_box(answer)
    out = capsys.readouterr().out
    assert message in out and hint in out
    assert "Keep the side" not in out or answer is not width_based_square  # the side is wrong


def test_square_names_the_side_not_the_bounds_for_the_width_recipe(capsys):
    assert not ex.check_square_box(width_based_square)
    out = capsys.readouterr().out
    assert "leaves the image" not in out and "Keep the side" not in out


def test_square_rejects_non_square(capsys):
    def rectangle(shape, roi_mask, size=None):
        return slice(0, shape[0]), slice(0, shape[1])

    assert not ex.check_square_box(rectangle)
    assert "expected a" in capsys.readouterr().out


def unclipped_stop_box(mask, margin=0):
    """Start clipped, stop not: numpy hides it by cutting the crop at the edge."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return slice(max(0, rows.min() - margin), rows.max() + 1 + margin), slice(
        max(0, cols.min() - margin), cols.max() + 1 + margin
    )


def test_bounding_box_names_an_unclipped_stop(capsys):
    assert not ex.check_bounding_box(unclipped_stop_box)
    out = capsys.readouterr().out
    assert "stop lies beyond the image edge" in out and "Clip the stop" in out
    assert "stop is excluded" not in out  # the old, wrong hint


def image_centred_square(shape, roi_mask, size=None):
    """Centred on the image, not on the ROI: loses ROIs near the ends."""
    side = min(shape) if size is None else size
    return tuple(slice((n - side) // 2, (n - side) // 2 + side) for n in shape)


def test_square_rejects_a_square_centred_on_the_image(capsys):
    assert not ex.check_square_box(image_centred_square)
    out = capsys.readouterr().out
    assert "ROI pixels" in out and "Centre the square on the ROI" in out


# --------------------------------------------------------------------------- resize with padding
def good_padding(image, shape_rc, kind="image"):
    return preprocess.resize_with_padding(image, shape_rc, kind=kind, anchor="left")


def hand_padding(image, shape_rc, kind="image"):
    rows, cols = image.shape
    scale = min(shape_rc[0] / rows, shape_rc[1] / cols)
    inner = (max(1, round(rows * scale)), max(1, round(cols * scale)))
    flag = cv2.INTER_NEAREST if kind == "mask" else cv2.INTER_AREA
    small = cv2.resize(image, inner[::-1], interpolation=flag)
    out = np.zeros(shape_rc, image.dtype)
    top = (shape_rc[0] - inner[0]) // 2
    out[top : top + inner[0], : inner[1]] = small
    return out


def distorting(image, shape_rc, kind="image"):
    flag = cv2.INTER_NEAREST if kind == "mask" else cv2.INTER_AREA
    return cv2.resize(image, shape_rc[::-1], interpolation=flag)


def centred_padding(image, shape_rc, kind="image"):
    return preprocess.resize_with_padding(image, shape_rc, kind=kind)


def bilinear_mask(image, shape_rc, kind="image"):
    return preprocess.resize_with_padding(image, shape_rc, kind="image", anchor="left")


def swapped_order(image, shape_rc, kind="image"):
    return good_padding(image, shape_rc, kind).T


def mask_not_anchored(image, shape_rc, kind="image"):
    anchor = "centre" if kind == "mask" else "left"
    return preprocess.resize_with_padding(image, shape_rc, kind=kind, anchor=anchor)


def min_value_padding(image, shape_rc, kind="image"):
    fill = float(image.min()) if kind == "image" else 0
    return preprocess.resize_with_padding(image, shape_rc, kind=kind, anchor="left", pad_value=fill)


def swapped_dsize(image, shape_rc, kind="image"):
    # the classic mistake inside the function: cv2.resize(image, (rows, cols))
    rows, cols = image.shape
    scale = min(shape_rc[0] / rows, shape_rc[1] / cols)
    inner = (max(1, round(rows * scale)), max(1, round(cols * scale)))
    small = cv2.resize(image, inner, interpolation=cv2.INTER_AREA)
    out = np.zeros(shape_rc, image.dtype)
    top = (shape_rc[0] - inner[0]) // 2
    out[top : top + inner[0], : inner[1]] = small
    return out


def test_padding_names_a_non_zero_fill(capsys):
    assert not ex.check_resize_with_padding(min_value_padding)
    out = capsys.readouterr().out
    assert "the padding holds 100" in out and "expected 0" in out
    assert "stretched" not in out


def test_padding_names_the_swapped_dsize_inside_the_function(capsys):
    assert not ex.check_resize_with_padding(swapped_dsize)
    out = capsys.readouterr().out
    assert "dsize=(width, height)" in out and "(rows, cols)" in out


def test_padding_accepts_the_helper_and_a_hand_written_answer(capsys):
    assert ex.check_resize_with_padding(good_padding)
    assert ex.check_resize_with_padding(hand_padding)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (distorting, "no pixel is padding"),
        (centred_padding, "padding on the left"),
        (bilinear_mask, "new label values appeared"),
        (swapped_order, "(cols, rows)"),
        (mask_not_anchored, "Place the mask exactly like the image"),
        (lambda image, shape_rc, kind="image": None, "got None"),
        (_stub, "not implemented yet"),
    ],
)
def test_padding_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_resize_with_padding(answer)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- percentile clipping
def good_clip(image, mask, low=1, high=99):
    a, b = np.percentile(image[mask], [low, high])
    return (np.clip(image, a, b) - a) / (b - a)


def unmasked_clip(image, mask, low=1, high=99):
    a, b = np.percentile(image, [low, high])
    return (np.clip(image, a, b) - a) / (b - a)


def clip_without_rescale(image, mask, low=1, high=99):
    a, b = np.percentile(image[mask], [low, high])
    return np.clip(image, a, b)


def masked_minmax(image, mask, low=1, high=99):
    a, b = image[mask].min(), image[mask].max()
    return np.clip((image - a) / (b - a), 0, 1)


def rescale_by_image_range(image, mask, low=1, high=99):
    a, b = np.percentile(image[mask], [low, high])
    clipped = np.clip(image, a, b)
    return (clipped - image.min()) / (image.max() - image.min())


def test_percentile_clip_accepts_right_answers(capsys):
    assert ex.check_percentile_clip(good_clip)
    assert ex.check_percentile_clip(
        lambda image, mask, low=1, high=99: preprocess.percentile_clip(image, low, high, mask=mask)
    )
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (unmasked_clip, "include the background"),
        (clip_without_rescale, "still in the image's units"),
        (masked_minmax, "hot pixel still sets the top"),
        (rescale_by_image_range, "not mapped to exactly 0 and 1"),
        (lambda image, mask, low=1, high=99: image[mask], "shape is"),
        (_stub, "not implemented yet"),
    ],
)
def test_percentile_clip_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_percentile_clip(answer)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- round 3 findings
def swapped_axes_box(mask, margin=0):
    """Rows from the columns' test and vice versa."""
    rows = np.flatnonzero(mask.any(axis=0))
    cols = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def test_bounding_box_names_swapped_axes_and_compares_boxes(capsys):
    assert not ex.check_bounding_box(swapped_axes_box)
    out = capsys.readouterr().out
    assert "rows and columns swapped" in out
    assert "expected (1, 1)" not in out  # boxes are compared, not crop shapes
    assert not ex.check_bounding_box(off_by_one_box)
    out = capsys.readouterr().out
    assert "misses the last row and the last column" in out and "3:3, 4:4" in out


def truncating_padding(image, shape_rc, kind="image"):
    """int() instead of round() for the inner size: a legitimate convention."""
    rows, cols = image.shape
    scale = min(shape_rc[0] / rows, shape_rc[1] / cols)
    inner = (max(1, int(rows * scale)), max(1, int(cols * scale)))
    flag = cv2.INTER_NEAREST if kind == "mask" else cv2.INTER_AREA
    out = np.zeros(shape_rc, image.dtype)
    top = (shape_rc[0] - inner[0]) // 2
    out[top : top + inner[0], : inner[1]] = cv2.resize(image, inner[::-1], interpolation=flag)
    return out


def bilinear_image_padding(image, shape_rc, kind="image"):
    rows, cols = image.shape
    scale = min(shape_rc[0] / rows, shape_rc[1] / cols)
    inner = (max(1, round(rows * scale)), max(1, round(cols * scale)))
    flag = cv2.INTER_NEAREST if kind == "mask" else cv2.INTER_LINEAR
    out = np.zeros(shape_rc, image.dtype)
    top = (shape_rc[0] - inner[0]) // 2
    out[top : top + inner[0], : inner[1]] = cv2.resize(image, inner[::-1], interpolation=flag)
    return out


def test_padding_accepts_a_truncated_inner_size(capsys):
    assert ex.check_resize_with_padding(truncating_padding)
    assert "✅" in capsys.readouterr().out


def test_padding_names_the_interpolation_actually_used(capsys):
    assert not ex.check_resize_with_padding(bilinear_image_padding)
    out = capsys.readouterr().out
    assert "shrunk with bilinear interpolation" in out and "INTER_AREA" in out


def test_padding_rejects_flipped_content(capsys):
    def flipped(image, shape_rc, kind="image"):
        out = good_padding(image, shape_rc, kind)
        inner = out[:, : np.flatnonzero(out.any(axis=0))[-1] + 1]
        inner[:] = inner[::-1].copy()
        return out

    assert not ex.check_resize_with_padding(flipped)
    assert "not a resize of the input" in capsys.readouterr().out


def inside_only_clip(image, mask, low=1, high=99):
    a, b = np.percentile(image[mask], [low, high])
    out = image.astype(np.float64).copy()
    out[mask] = (np.clip(image[mask], a, b) - a) / (b - a)
    return out


def fixed_percentiles_clip(image, mask, low=1, high=99):
    return good_clip(image, mask, 1, 99)


def test_percentile_clip_names_inside_only_and_ignored_arguments(capsys):
    assert not ex.check_percentile_clip(inside_only_clip)
    out = capsys.readouterr().out
    assert "outside it were not clipped" in out and "outside [0, 1]" not in out
    assert not ex.check_percentile_clip(fixed_percentiles_clip)
    out = capsys.readouterr().out
    assert "arguments are ignored" in out


def test_percentile_clip_generic_hint_is_not_the_recipe(capsys):
    def shifted(image, mask, low=1, high=99):
        return np.clip(good_clip(image, mask, low, high) + 0.01, 0, 1)

    assert not ex.check_percentile_clip(shifted)
    out = capsys.readouterr().out
    assert "(x - low) / (high - low)" not in out


# --------------------------------------------------------------------------- dataset statistics
def pooled_stats(volumes, masks):
    return preprocess.zscore_stats(volumes, masks=masks)


def pooled_by_hand(volumes, masks):
    values = np.concatenate([v[m] for v, m in zip(volumes, masks, strict=True)])
    return values.mean(), values.std()


def mean_of_means(volumes, masks):
    return (
        float(np.mean([v[m].mean() for v, m in zip(volumes, masks, strict=True)])),
        float(np.mean([v[m].std() for v, m in zip(volumes, masks, strict=True)])),
    )


def pooled_mean_averaged_std(volumes, masks):
    mean, _ = pooled_by_hand(volumes, masks)
    return mean, float(np.mean([v[m].std() for v, m in zip(volumes, masks, strict=True)]))


def unmasked_stats(volumes, masks):
    values = np.concatenate([v.ravel() for v in volumes])
    return values.mean(), values.std()


def first_volume_only(volumes, masks):
    return volumes[0][masks[0]].mean(), volumes[0][masks[0]].std()


def normalised_volumes(volumes, masks):
    mean, std = pooled_by_hand(volumes, masks)
    return [(v - mean) / std for v in volumes]


def pooled_variance(volumes, masks):
    values = np.concatenate([v[m] for v, m in zip(volumes, masks, strict=True)])
    return values.mean(), values.var()


def root_mean_variance(volumes, masks):
    values = np.concatenate([v[m] for v, m in zip(volumes, masks, strict=True)])
    variances = [v[m].var() for v, m in zip(volumes, masks, strict=True)]
    return values.mean(), float(np.sqrt(np.mean(variances)))


def test_dataset_stats_names_a_variance_and_the_within_volume_spread(capsys):
    assert not ex.check_dataset_stats(pooled_variance)
    assert "looks like a variance" in capsys.readouterr().out
    assert not ex.check_dataset_stats(root_mean_variance)
    assert "within-volume spread only" in capsys.readouterr().out


def test_percentile_clip_names_fractional_percentiles(capsys):
    def fractional(image, mask, low=1, high=99):
        a, b = np.percentile(image[mask], [low / 100, high / 100])
        return (np.clip(image, a, b) - a) / (b - a)

    assert not ex.check_percentile_clip(fractional)
    assert "np.percentile takes 0-100" in capsys.readouterr().out


def test_percentile_clip_names_a_label_outside_the_mask_left_unclipped(capsys):
    def inside_only(image, mask, low=1, high=99):
        a, b = np.percentile(image[mask], [low, high])
        return np.where(mask, (np.clip(image, a, b) - a) / (b - a), 0.0)

    assert not ex.check_percentile_clip(inside_only)
    assert "pixels outside it were not clipped" in capsys.readouterr().out


def test_dataset_stats_accepts_right_answers(capsys):
    assert ex.check_dataset_stats(pooled_stats)
    assert ex.check_dataset_stats(pooled_by_hand)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (mean_of_means, "average of the per-volume means"),
        (pooled_mean_averaged_std, "spread *between* volumes"),
        (unmasked_stats, "include the air"),
        (first_volume_only, "a single volume"),
        (normalised_volumes, "expected a pair (mean, std)"),
        (lambda volumes, masks: None, "got None"),
        (_stub, "not implemented yet"),
    ],
)
def test_dataset_stats_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_dataset_stats(answer)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 6
def _normalised(image, values, method):
    if method == "zscore":
        return (image - values.mean()) / values.std()
    if method == "minmax":
        return (image - values.min()) / (values.max() - values.min())
    if method == "percentile":
        lower, upper = np.percentile(values, [1, 99])
        return (np.clip(image, lower, upper) - lower) / (upper - lower)
    raise ValueError(f"unknown method {method!r}")


def good_normalise(image, mask, method):
    return _normalised(image, image[mask], method)


def helper_normalise(image, mask, method):
    if method == "zscore":
        return preprocess.zscore(image, mask=mask)
    if method == "minmax":
        return preprocess.minmax(image, mask=mask)
    if method == "percentile":
        return preprocess.percentile_clip(image, 1, 99, mask=mask)
    raise ValueError(f"unknown method {method!r}")


def percentile_fall_through(image, mask, method):
    # the likeliest mistake: the last branch catches every other method
    if method in ("zscore", "minmax"):
        return _normalised(image, image[mask], method)
    return _normalised(image, image[mask], "percentile")


def none_for_unknown(image, mask, method):
    # an if/elif chain without a final else returns None
    if method in ("zscore", "minmax", "percentile"):
        return _normalised(image, image[mask], method)
    return None


def key_error_for_unknown(image, mask, method):
    # a dict of functions: an unknown name raises KeyError, not ValueError
    return {
        m: (lambda m=m: _normalised(image, image[mask], m))
        for m in ("zscore", "minmax", "percentile")
    }[method]()


def all_pixel_normalise(image, mask, method):
    return _normalised(image, image.ravel(), method)


def inside_only_normalise(image, mask, method):
    return np.where(mask, _normalised(image, image[mask], method), 0.0)


def always_zscore(image, mask, method):
    return _normalised(image, image[mask], "zscore")


def unclipped_percentile(image, mask, method):
    if method != "percentile":
        return _normalised(image, image[mask], method)
    lower, upper = np.percentile(image[mask], [1, 99])
    return (image - lower) / (upper - lower)


def test_normalise_in_mask_accepts_right_answers(capsys):
    assert ex.check_normalise_in_mask(good_normalise)
    assert ex.check_normalise_in_mask(helper_normalise)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (all_pixel_normalise, "the statistics include the pixels outside the mask"),
        (inside_only_normalise, "pixels outside it were not normalised the same way"),
        (always_zscore, "the method argument is not used"),
        (unclipped_percentile, "values lie outside [0, 1]"),
        (lambda image, mask, method: None, "got None"),
        (_stub, "not implemented yet"),
        (percentile_fall_through, "returned a result instead of raising"),
        (none_for_unknown, "returned None instead of raising"),
        (key_error_for_unknown, "raised KeyError, not ValueError"),
    ],
)
def test_normalise_in_mask_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_normalise_in_mask(answer)
    out = capsys.readouterr().out
    assert message in out
    assert "1200" not in out and "300" not in out  # the check's own statistics stay hidden


# --------------------------------------------------------------------------- round 4 findings
def unclipped_masked_minmax(image, mask, low=1, high=99):
    tissue = image[mask]
    return (image - tissue.min()) / (tissue.max() - tissue.min())


def test_percentile_clip_names_a_min_max_without_percentiles(capsys):
    assert not ex.check_percentile_clip(unclipped_masked_minmax)
    out = capsys.readouterr().out
    assert "no percentiles were taken" in out


def unclipped_start_box(mask, margin=0):
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0] - margin, rows[-1] + 1 + margin), slice(
        cols[0] - margin, cols[-1] + 1 + margin
    )


def test_hints_give_the_idea_not_the_line(capsys):
    assert not ex.check_bounding_box(unclipped_start_box)
    out = capsys.readouterr().out
    assert "limit the start at 0" in out and "max(0, start" not in out
    assert not ex.check_normalise_in_mask(percentile_fall_through)
    out = capsys.readouterr().out
    assert "names the bad setting" in out and "raise ValueError(f" not in out


def _occlude(image, roi, margin, fill, clip=True):
    out = image.copy()
    if clip:
        out[preprocess.bounding_box(roi, margin=margin)] = fill
    else:
        rows = np.flatnonzero(roi.any(axis=1))
        cols = np.flatnonzero(roi.any(axis=0))
        out[
            rows[0] - margin[0] : rows[-1] + 1 + margin[0],
            cols[0] - margin[1] : cols[-1] + 1 + margin[1],
        ] = fill
    return out


def good_occlude(image, roi, spacing_rc, buffer_mm, fill):
    return _occlude(image, roi, tuple(round(buffer_mm / s) for s in spacing_rc), fill)


def row_spacing_only_occlude(image, roi, spacing_rc, buffer_mm, fill):
    return _occlude(image, roi, (round(buffer_mm / spacing_rc[0]),) * 2, fill)


def pixel_buffer_occlude(image, roi, spacing_rc, buffer_mm, fill):
    return _occlude(image, roi, (round(buffer_mm),) * 2, fill)


def in_place_occlude(image, roi, spacing_rc, buffer_mm, fill):
    image[preprocess.bounding_box(roi, margin=(8, 15))] = fill
    return image


def unclipped_occlude(image, roi, spacing_rc, buffer_mm, fill):
    margin = tuple(round(buffer_mm / s) for s in spacing_rc)
    return _occlude(image, roi, margin, fill, clip=False)


def test_occlude_roi_accepts_right_answer(capsys):
    assert ex.check_occlude_roi(good_occlude)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (row_spacing_only_occlude, "the row spacing was used for the columns too"),
        (pixel_buffer_occlude, "used as a number of pixels, not converted from mm"),
        (in_place_occlude, "the image you were given was changed"),
        (unclipped_occlude, "a box start below 0 counts from the end"),
        (lambda image, roi, spacing_rc, buffer_mm, fill: None, "got None"),
        (_stub, "not implemented yet"),
    ],
)
def test_occlude_roi_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_occlude_roi(answer)
    out = capsys.readouterr().out
    assert message in out
    assert "(8, 15)" not in out and "15 px" not in out  # the expected margins stay hidden
