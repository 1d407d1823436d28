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


# --------------------------------------------------------------------------- inter-slice normalisation
@pytest.fixture()
def volume_and_head():
    rng = np.random.default_rng(0)
    volume = rng.normal(20, 3, (5, 16, 16))
    head = np.zeros(volume.shape, bool)
    head[:, 3:13, 3:13] = True
    volume[head] += 400 + 50 * np.repeat(np.arange(5), 100)
    return volume, head


def test_interslice_accepts_correct_answer(volume_and_head, capsys):
    volume, head = volume_and_head
    inside = volume[head]
    assert ex.check_interslice_normalisation((volume - inside.mean()) / inside.std(), volume, head)
    assert "✅" in capsys.readouterr().out


def test_interslice_accepts_a_function_and_handles_stubs(volume_and_head, capsys):
    volume, head = volume_and_head

    def normalise(values, mask):
        return (values - values[mask].mean()) / values[mask].std()

    assert ex.check_interslice_normalisation(normalise, volume, head)
    assert not ex.check_interslice_normalisation(_stub, volume, head)
    assert "not implemented yet" in capsys.readouterr().out


def test_interslice_rejects_per_slice(volume_and_head, capsys):
    volume, head = volume_and_head
    answer = (volume - volume.mean(axis=(1, 2), keepdims=True)) / volume.std(
        axis=(1, 2), keepdims=True
    )
    assert not ex.check_interslice_normalisation(answer, volume, head)
    assert "brightness differences between slices are gone" in capsys.readouterr().out


def test_interslice_rejects_unmasked_none_nan_and_shape(volume_and_head, capsys):
    volume, head = volume_and_head
    assert not ex.check_interslice_normalisation(
        (volume - volume.mean()) / volume.std(), volume, head
    )
    assert "air around the head" in capsys.readouterr().out
    assert not ex.check_interslice_normalisation(None, volume, head)
    assert "got None" in capsys.readouterr().out
    assert not ex.check_interslice_normalisation(np.full(volume.shape, np.nan), volume, head)
    assert "NaN" in capsys.readouterr().out
    assert not ex.check_interslice_normalisation(volume[1:], volume, head)
    assert "shape is" in capsys.readouterr().out
    assert not ex.check_interslice_normalisation(volume / 1000, volume, head)
    assert "expected mean 0 and std 1" in capsys.readouterr().out


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


def test_square_rejects_non_square(capsys):
    def rectangle(shape, roi_mask, size=None):
        return slice(0, shape[0]), slice(0, shape[1])

    assert not ex.check_square_box(rectangle)
    assert "expected a" in capsys.readouterr().out


# --------------------------------------------------------------------------- resize mask
def test_resize_mask_accepts_opencv_and_helper(capsys):
    assert ex.check_resize_mask(
        lambda m, s: cv2.resize(m, (s[1], s[0]), interpolation=cv2.INTER_NEAREST)
    )
    assert ex.check_resize_mask(lambda m, s: preprocess.resize_image(m, s, kind="mask"))
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda m, s: cv2.resize(m, s, interpolation=cv2.INTER_NEAREST), "(cols, rows)"),
        (lambda m, s: cv2.resize(m, (s[1], s[0])), "new label values appeared"),
        (lambda m, s: cv2.resize(m, (s[1], s[0]), interpolation=cv2.INTER_NEAREST)[::-1], "agree"),
        (lambda m, s: m, "expected (30, 50)"),
        (lambda m, s: None, "got None"),
        (_stub, "not implemented yet"),
    ],
)
def test_resize_mask_rejects_wrong_answers(answer, message, capsys):
    assert not ex.check_resize_mask(answer)
    assert message in capsys.readouterr().out


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
