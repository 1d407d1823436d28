"""Unit and property tests for course_utils.preprocess."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_utils import preprocess

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- strategies
@st.composite
def masks_with_foreground(draw, ndim=2, max_side=24):
    shape = tuple(draw(st.integers(1, max_side)) for _ in range(ndim))
    mask = draw(hnp.arrays(bool, shape, elements=st.booleans()))
    index = tuple(draw(st.integers(0, n - 1)) for n in shape)
    mask[index] = True
    return mask


@st.composite
def image_and_roi(draw):
    rows, cols = draw(st.integers(4, 60)), draw(st.integers(4, 60))
    side = min(rows, cols)
    roi_rows = draw(st.integers(1, side))
    roi_cols = draw(st.integers(1, side))
    top = draw(st.integers(0, rows - roi_rows))
    left = draw(st.integers(0, cols - roi_cols))
    roi = np.zeros((rows, cols), bool)
    roi[top : top + roi_rows, left : left + roi_cols] = True
    # punch holes so the ROI is not always a rectangle, keeping its extent
    holes = draw(hnp.arrays(bool, (rows, cols), elements=st.booleans()))
    roi &= ~holes | (np.arange(rows)[:, None] == top) | (np.arange(cols)[None, :] == left)
    roi[top + roi_rows - 1, left + roi_cols - 1] = True
    size = draw(st.one_of(st.none(), st.integers(max(roi_rows, roi_cols), side)))
    image = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    return image, roi, size


finite_images = hnp.arrays(
    np.float64,
    st.tuples(st.integers(2, 12), st.integers(2, 12)),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
).filter(lambda a: np.ptp(a) > 1e-3 * max(1.0, np.abs(a).max()))


# --------------------------------------------------------------------------- bounding_box
def test_bounding_box_exclusive_stop_and_margin_clipping():
    mask = np.zeros((6, 8), bool)
    mask[2:6, 5:8] = True  # touches the last row and column
    assert preprocess.bounding_box(mask) == (slice(2, 6), slice(5, 8))
    assert preprocess.bounding_box(mask, margin=3) == (slice(0, 6), slice(2, 8))
    assert preprocess.bounding_box(mask, margin=(1, 0)) == (slice(1, 6), slice(5, 8))


def test_bounding_box_single_pixel_and_3d():
    mask = np.zeros((3, 4, 5), bool)
    mask[1, 2, 3] = True
    box = preprocess.bounding_box(mask)
    assert box == (slice(1, 2), slice(2, 3), slice(3, 4))
    assert mask[box].shape == (1, 1, 1)


def test_bounding_box_empty_mask():
    with pytest.raises(ValueError, match="no non-zero element.*allow_empty"):
        preprocess.bounding_box(np.zeros((4, 4), bool))
    assert preprocess.bounding_box(np.zeros((4, 4), bool), allow_empty=True) is None


@pytest.mark.parametrize(
    ("mask", "margin", "match"),
    [
        (np.zeros((0, 3), bool), 0, "empty"),
        (np.ones((2, 2, 2, 2), bool), 0, "4 dimension"),
        (np.ones((3, 3), bool), -1, "margin must be a non-negative"),
        (np.ones((3, 3), bool), (1, 2, 3), "margin must be"),
        (np.array([[np.nan, 1.0]]), 0, "NaN"),
    ],
)
def test_bounding_box_bad_input(mask, margin, match):
    with pytest.raises(ValueError, match=match):
        preprocess.bounding_box(mask, margin)


@FAST
@given(masks_with_foreground(ndim=2), st.integers(0, 5))
def test_bounding_box_contains_all_foreground_and_stays_inside(mask, margin):
    box = preprocess.bounding_box(mask, margin)
    assert mask[box].sum() == mask.sum()
    for axis_slice, length in zip(box, mask.shape, strict=True):
        assert 0 <= axis_slice.start < axis_slice.stop <= length
    if margin == 0:  # tight: every border row/col of the box holds foreground
        crop = mask[box]
        assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()


@FAST
@given(masks_with_foreground(ndim=3, max_side=10))
def test_bounding_box_3d_contains_foreground(mask):
    box = preprocess.bounding_box(mask)
    assert mask[box].sum() == mask.sum()


# --------------------------------------------------------------------------- crop_to_foreground
def test_crop_to_foreground_2d_3d_and_empty():
    image = np.zeros((8, 9))
    image[2:6, 3:8] = 5.0
    assert preprocess.crop_to_foreground(image).shape == (4, 5)
    cropped, box = preprocess.crop_to_foreground(image, margin=1, return_box=True)
    assert cropped.shape == (6, 7) and box == (slice(1, 7), slice(2, 9))
    volume = np.zeros((5, 8, 8))
    volume[1:4, 2:6, 1:5] = 3.0
    assert preprocess.crop_to_foreground(volume).shape == (3, 4, 4)
    assert preprocess.crop_to_foreground(np.zeros((5, 5))).shape == (5, 5)
    assert preprocess.crop_to_foreground(np.full((5, 5), 7.0)).shape == (5, 5)


def test_crop_to_foreground_is_scale_independent_and_ignores_specks():
    rng = np.random.default_rng(0)
    image = rng.rayleigh(10.0, (64, 64))  # noisy air, never zero
    image[20:40, 10:50] += 400.0
    image[2, 60] = 300.0  # one hot pixel far from the object
    box_raw = preprocess.crop_to_foreground(image, return_box=True)[1]
    box_scaled = preprocess.crop_to_foreground(image / 65535.0, return_box=True)[1]
    assert box_raw == box_scaled == (slice(20, 40), slice(10, 50))
    assert preprocess.crop_to_foreground(image, open_iterations=0, return_box=True)[1][1].stop == 61


def test_crop_to_foreground_rejects_nan_and_wrong_ndim():
    with pytest.raises(ValueError, match="NaN"):
        preprocess.crop_to_foreground(np.array([[1.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="1 dimension"):
        preprocess.crop_to_foreground(np.arange(5.0))


@FAST
@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(3, 20), st.integers(3, 20)),
        elements=st.floats(0, 100, width=32),
    )
)
def test_crop_to_foreground_keeps_every_foreground_pixel(image):
    foreground = preprocess.foreground_mask(image)
    cropped, box = preprocess.crop_to_foreground(image, return_box=True)
    assert foreground[box].sum() == foreground.sum()
    assert cropped.shape == image[box].shape


# --------------------------------------------------------------------------- square crops
def test_square_crop_cases_tall_and_wide():
    tall_roi = np.zeros((100, 60), bool)
    tall_roi[2:6, 10:20] = True
    assert preprocess.square_box_around(tall_roi.shape, tall_roi) == (slice(0, 60), slice(0, 60))
    tall_roi[:] = False
    tall_roi[95:100, 50:60] = True
    assert preprocess.square_box_around(tall_roi.shape, tall_roi) == (slice(40, 100), slice(0, 60))
    wide_roi = np.zeros((50, 200), bool)
    wide_roi[10:20, 180:195] = True
    box = preprocess.square_box_around(wide_roi.shape, wide_roi)
    assert box == (slice(0, 50), slice(150, 200))
    image = np.arange(50 * 200).reshape(50, 200)
    image_sq, mask_sq = preprocess.square_crop_around(image, wide_roi, size=40)
    assert image_sq.shape == mask_sq.shape == (40, 40) and mask_sq.sum() == wide_roi.sum()


@pytest.mark.parametrize(
    ("size", "match"),
    [(0, "between 1 and the image's shorter side"), (61, "between 1"), (5, "ROI spans")],
)
def test_square_crop_bad_sizes(size, match):
    roi = np.zeros((100, 60), bool)
    roi[10:30, 10:20] = True
    with pytest.raises(ValueError, match=match):
        preprocess.square_box_around(roi.shape, roi, size=size)


def test_square_crop_empty_roi_and_shape_mismatch():
    with pytest.raises(ValueError, match="roi_mask is empty"):
        preprocess.square_box_around((10, 10), np.zeros((10, 10), bool))
    with pytest.raises(ValueError, match="expected the image's shape"):
        preprocess.square_crop_around(np.zeros((10, 12)), np.ones((10, 10), bool))


@FAST
@given(image_and_roi())
def test_square_crop_contains_roi_and_stays_inside(case):
    image, roi, size = case
    box = preprocess.square_box_around(image.shape, roi, size=size)
    side = min(image.shape) if size is None else size
    assert [s.stop - s.start for s in box] == [side, side]
    for axis_slice, length in zip(box, image.shape, strict=True):
        assert 0 <= axis_slice.start and axis_slice.stop <= length
    assert roi[box].sum() == roi.sum()
    image_sq, roi_sq = preprocess.square_crop_around(image, roi, size=size)
    assert image_sq.shape == (side, side) and roi_sq.sum() == roi.sum()


# --------------------------------------------------------------------------- resizing
def test_resize_argument_order_and_dtype():
    image = np.zeros((30, 10), np.uint16)
    out = preprocess.resize_image(image, (20, 50))
    assert out.shape == (20, 50) and out.dtype == np.uint16
    assert preprocess.resize_image(np.zeros((3, 30, 10), np.float32), (6, 4)).shape == (3, 6, 4)
    assert preprocess.resize_image(np.ones((8, 8), np.int64), (4, 4)).dtype == np.float64


def test_resize_area_when_shrinking_equals_block_mean():
    rng = np.random.default_rng(1)
    image = rng.random((64, 48)).astype(np.float32)
    small = preprocess.resize_image(image, (16, 12))
    np.testing.assert_allclose(small, image.reshape(16, 4, 12, 4).mean(axis=(1, 3)), rtol=1e-5)


def test_resize_bad_arguments():
    with pytest.raises(ValueError, match="kind must be"):
        preprocess.resize_image(np.zeros((4, 4)), (2, 2), kind="label")
    with pytest.raises(ValueError, match="shape_rc must be"):
        preprocess.resize_image(np.zeros((4, 4)), (2, 0))
    with pytest.raises(ValueError, match="shape_rc must be"):
        preprocess.resize_image(np.zeros((4, 4)), (2, 2, 2))
    with pytest.raises(ValueError, match="NaN"):
        preprocess.resize_image(np.full((4, 4), np.nan), (2, 2))


@FAST
@given(
    hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 30), st.integers(1, 30)),
        elements=st.sampled_from([0, 3, 7, 255]),
    ),
    st.integers(1, 45),
    st.integers(1, 45),
)
def test_resized_mask_keeps_only_original_labels(mask, rows, cols):
    out = preprocess.resize_image(mask, (rows, cols), kind="mask")
    assert out.shape == (rows, cols) and out.dtype == mask.dtype
    assert set(np.unique(out)) <= set(np.unique(mask))


def test_resized_mask_any_dtype_and_identity():
    labels = np.array([[0, 1000], [70000, 5]], dtype=np.int64)
    assert set(np.unique(preprocess.resize_image(labels, (5, 7), kind="mask"))) <= {
        0,
        5,
        1000,
        70000,
    }
    mask = np.random.default_rng(2).integers(0, 4, (9, 11)).astype(np.uint8)
    np.testing.assert_array_equal(preprocess.resize_image(mask, mask.shape, kind="mask"), mask)
    assert preprocess.resize_image(mask > 1, (20, 20), kind="mask").dtype == bool


def test_resize_with_padding_keeps_aspect():
    mask = np.zeros((100, 50), np.uint8)
    mask[40:60, 10:30] = 1  # a 20 x 20 square
    out, (scale, (top, left)) = preprocess.resize_with_padding(
        mask, (64, 64), kind="mask", return_transform=True
    )
    assert out.shape == (64, 64) and scale == pytest.approx(0.64) and top == 0 and left == 16
    rows, cols = preprocess.bounding_box(out)
    assert abs((rows.stop - rows.start) - (cols.stop - cols.start)) <= 1
    padded = preprocess.resize_with_padding(np.ones((10, 20)), (8, 8), pad_value=-1)
    assert padded[0, 0] == -1 and padded[4, 4] == pytest.approx(1.0)


# --------------------------------------------------------------------------- normalisation
@FAST
@given(finite_images)
def test_minmax_range(image):
    out = preprocess.minmax(image)
    assert out.dtype == np.float32
    assert out.min() == pytest.approx(0.0, abs=1e-6) and out.max() == pytest.approx(1.0, abs=1e-6)


@FAST
@given(finite_images)
def test_zscore_mean_and_std(image):
    out = preprocess.zscore(image)
    assert out.dtype == np.float32
    assert float(out.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(out.std()) == pytest.approx(1.0, abs=1e-4)


@FAST
@given(finite_images, st.floats(0, 20), st.floats(80, 100))
def test_percentile_clip_range(image, low, high):
    lower, upper = np.percentile(image, [low, high])
    if upper <= lower:
        with pytest.raises(ValueError, match="percentiles of x are equal"):
            preprocess.percentile_clip(image, low, high)
        return
    out = preprocess.percentile_clip(image, low, high)
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert out.max() == pytest.approx(1.0, abs=1e-6) and out.min() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "function", [preprocess.minmax, preprocess.zscore, preprocess.percentile_clip]
)
def test_normalisations_reject_constant_input(function):
    with pytest.raises(ValueError, match="constant"):
        function(np.full((4, 4), 3.0))


@pytest.mark.parametrize(
    "function", [preprocess.minmax, preprocess.zscore, preprocess.percentile_clip]
)
def test_normalisations_reject_nan_and_empty(function):
    with pytest.raises(ValueError, match="NaN"):
        function(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="empty"):
        function(np.zeros((0, 4)))


def test_zscore_per_slice_volume_mask_and_stats():
    rng = np.random.default_rng(3)
    volume = rng.normal(0, 1, (4, 6, 6)) + np.arange(4)[:, None, None] * 10
    per_slice = preprocess.zscore(volume, per="slice")
    np.testing.assert_allclose(per_slice.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(per_slice.std(axis=(1, 2)), 1, atol=1e-5)
    per_volume = preprocess.zscore(volume, per="volume")
    assert np.all(np.diff(per_volume.mean(axis=(1, 2))) > 0)  # slice order of brightness kept
    mask = np.zeros(volume.shape, bool)
    mask[:, 1:5, 1:5] = True
    masked = preprocess.zscore(volume, mask=mask)
    assert float(masked[mask].mean()) == pytest.approx(0, abs=1e-5)
    assert float(masked[mask].std()) == pytest.approx(1, abs=1e-5)
    np.testing.assert_allclose(
        preprocess.zscore(volume, stats=(5.0, 2.0)), (volume - 5) / 2, rtol=1e-6
    )


def test_zscore_constant_slice_and_bad_arguments():
    volume = np.zeros((3, 4, 4))
    volume[1] = np.arange(16).reshape(4, 4)
    with pytest.raises(ValueError, match="slice 0 is constant"):
        preprocess.zscore(volume, per="slice")
    out = preprocess.zscore(volume, per="slice", on_constant="zero")
    assert np.all(out[0] == 0) and np.all(np.isfinite(out))
    with pytest.raises(ValueError, match="per must be"):
        preprocess.zscore(volume, per="patient")
    with pytest.raises(ValueError, match="positive std"):
        preprocess.zscore(volume, stats=(0.0, 0.0))
    with pytest.raises(ValueError, match="mask selects no element"):
        preprocess.zscore(volume[1], mask=np.zeros((4, 4), bool))


def test_zscore_stats_pools_images_and_masks():
    mean, std = preprocess.zscore_stats([np.zeros(3), np.full(1, 4.0)])
    assert mean == pytest.approx(1.0) and std == pytest.approx(np.sqrt(3.0))
    images = [np.array([[1.0, 100.0]]), np.array([[3.0, -50.0]])]
    masks = [np.array([[True, False]]), np.array([[True, False]])]
    assert preprocess.zscore_stats(images, masks=masks) == pytest.approx((2.0, 1.0))
    with pytest.raises(ValueError, match="empty"):
        preprocess.zscore_stats([])
    with pytest.raises(ValueError, match="constant"):
        preprocess.zscore_stats([np.ones(3)])


def test_window():
    np.testing.assert_allclose(
        preprocess.window(np.array([-1000.0, 0.0, 40.0, 3000.0]), 40, 80), [0, 0, 0.5, 1]
    )
    with pytest.raises(ValueError, match="width must be positive"):
        preprocess.window(np.zeros(3), 0, 0)


# --------------------------------------------------------------------------- slices
def test_nonempty_slices_scale_independent():
    rng = np.random.default_rng(4)
    volume = rng.rayleigh(5.0, (8, 16, 16))
    volume[2:6, 4:12, 4:12] += 300.0
    expected = [False, False, True, True, True, True, False, False]
    for scale in (1.0, 1 / 65535, 1000.0):
        assert preprocess.nonempty_slices(volume * scale).tolist() == expected
    assert not preprocess.nonempty_slices(np.zeros((3, 4, 4))).any()
    with pytest.raises(ValueError, match="3-D"):
        preprocess.nonempty_slices(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="fraction"):
        preprocess.nonempty_slices(volume, fraction=1.5)


def test_select_central_slices():
    volume = np.arange(10)[:, None, None] * np.ones((10, 2, 2))
    assert preprocess.select_central_slices(volume, 4)[:, 0, 0].tolist() == [3, 4, 5, 6]
    keep = np.array([False, False, True, True, True, True, True, False, False, False])
    chosen, indices = preprocess.select_central_slices(volume, 3, keep=keep, return_indices=True)
    assert indices.tolist() == [3, 4, 5] and chosen.shape == (3, 2, 2)
    with pytest.raises(ValueError, match="only 5 candidate slice"):
        preprocess.select_central_slices(volume, 6, keep=keep)
    with pytest.raises(ValueError, match="one flag per slice"):
        preprocess.select_central_slices(volume, 2, keep=keep[:5])
    with pytest.raises(ValueError, match="positive integer"):
        preprocess.select_central_slices(volume, 0)


# --------------------------------------------------------------------------- pipeline
def _load(source):
    if source == "broken":
        raise OSError("truncated file")
    if source == "nan":
        return np.full((8, 8), np.nan)
    image = np.zeros((40, 30), np.float32)
    image[5:35, 3:25] = np.linspace(1, 2, 30 * 22).reshape(30, 22)
    mask = np.zeros((40, 30), bool)
    mask[10:15, 5:12] = True
    return (image, mask) if source == "with mask" else image


@pytest.mark.parametrize("crop", ["foreground", "roi", "none"])
def test_preprocess_dataset_writes_outputs_and_survives_bad_cases(tmp_path, crop):
    cases = {"a": "with mask", "b": "broken", "c": "nan", "d": "plain"}
    log = preprocess.preprocess_dataset(
        cases, tmp_path / "out", load=_load, image_size=(16, 16), crop=crop, progress=False
    )
    assert list(log["case_id"]) == ["a", "b", "c", "d"]
    status = dict(zip(log["case_id"], log["status"], strict=True))
    assert (
        status["b"] == "failed" and "truncated file" in log.set_index("case_id").loc["b", "error"]
    )
    assert status["c"] == "failed" and "NaN" in log.set_index("case_id").loc["c", "error"]
    assert status["a"] == "ok"
    assert status["d"] == ("failed" if crop == "roi" else "ok")
    with np.load(tmp_path / "out" / "a.npz") as archive:
        assert archive["image"].shape == (16, 16) and archive["image"].dtype == np.float32
        assert set(np.unique(archive["mask"])) <= {0, 1} and archive["mask"].any()
    assert (tmp_path / "out" / "a.png").is_file()
    written = pd.read_csv(tmp_path / "out" / "preprocessing_log.csv")
    assert len(written) == 4
    assert not list((tmp_path / "out").glob("*.partial"))


def test_preprocess_dataset_normalises_real_pixels_only(tmp_path):
    log = preprocess.preprocess_dataset(
        [("x", "plain")],
        tmp_path,
        load=_load,
        image_size=(32, 32),
        normalisation="minmax",
        progress=False,
    )
    assert log.loc[0, "status"] == "ok"
    image = np.load(tmp_path / "x.npz")["image"]
    assert image.min() == pytest.approx(0.0) and image.max() == pytest.approx(1.0)


def test_preprocess_dataset_volumes(tmp_path):
    volume = np.zeros((4, 20, 20), np.float32)
    volume[1:3, 5:15, 4:12] = 100.0 + np.arange(80).reshape(10, 8)
    log = preprocess.preprocess_dataset(
        {"v": volume}, tmp_path, load=lambda v: v, image_size=(8, 8), progress=False
    )
    assert log.loc[0, "output_shape"] == "2x8x8"


def test_preprocess_dataset_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="crop must be"):
        preprocess.preprocess_dataset({}, tmp_path, load=_load, crop="square")
    with pytest.raises(ValueError, match="normalisation must be"):
        preprocess.preprocess_dataset({}, tmp_path, load=_load, normalisation="l2")
    with pytest.raises(ValueError, match="image_size"):
        preprocess.preprocess_dataset({}, tmp_path, load=_load, image_size=(0, 4))
    with pytest.raises(TypeError, match="load must be a function"):
        preprocess.preprocess_dataset({}, tmp_path, load=None)
