"""Property-based tests (issue 13, part 2): the invariants lessons 01 and 05-07 state, checked
across the dtypes real images come in (uint8, uint16, int16, float32, float64) and across shapes.

The module tests (test_augment.py, test_preprocess.py, test_metrics.py) check most properties on
one dtype; this file checks that none of them breaks on another dtype: no integer wrap-around, no
silent dtype change, ranges kept, symmetric metrics symmetric whatever the input type.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_utils import augment, dicom, metrics, noise, preprocess

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)
INTEGER_DTYPES = (np.uint8, np.uint16, np.int16)


# --------------------------------------------------------------------------- strategies
def _elements(dtype, low=None, high=None):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(
            int(info.min if low is None else max(low, info.min)),
            int(info.max if high is None else min(high, info.max)),
        )
    return st.floats(
        -4000.0 if low is None else low,
        4000.0 if high is None else high,
        allow_nan=False,
        allow_infinity=False,
        width=32,
    )


@st.composite
def images(draw, *, dtypes=DTYPES, ndims=(2,), min_side=2, max_side=20, low=None, high=None):
    """An image of a drawn dtype and shape, values spread over the dtype's range (or [low, high])."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    ndim = draw(st.sampled_from(ndims))
    shape = tuple(draw(st.integers(min_side, max_side)) for _ in range(ndim))
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, low, high)))


def _value_range(image: np.ndarray) -> tuple[float, float]:
    """The range an image's values may take: the dtype's for integers, [-4000, 4000] for floats."""
    if image.dtype.kind in "iu":
        info = np.iinfo(image.dtype)
        return float(info.min), float(info.max)
    return -4000.0, 4000.0


def _spread(image: np.ndarray) -> float:
    return float(image.max()) - float(image.min())


# --------------------------------------------------------------------------- windowing (lesson 01)
@PROPERTY
@given(
    image=images(ndims=(1, 2, 3), max_side=12),
    centre=st.floats(-2000, 2000),
    width=st.floats(1, 5000),
)
def test_window_maps_into_unit_interval_monotonically_for_every_dtype(image, centre, width):
    shown = dicom.window_image(image, centre, width)
    assert shown.dtype == np.float32 and shown.shape == image.shape
    assert shown.min() >= 0.0 and shown.max() <= 1.0
    order = np.argsort(image.astype(np.float64), axis=None, kind="stable")
    assert np.all(np.diff(shown.ravel()[order]) >= 0), "windowing must keep the order of values"
    # the normalisation helper of lesson 05 is the same mapping
    np.testing.assert_allclose(preprocess.window(image, centre, width), shown, atol=1e-6)


@PROPERTY
@given(image=images(ndims=(2, 3), max_side=12))
def test_display_spans_black_to_white_and_monochrome1_mirrors(image):
    if _spread(image) == 0:
        with pytest.raises(ValueError, match="constant"):
            dicom.to_display(image)
        return
    normal = dicom.to_display(image, "MONOCHROME2")
    inverted = dicom.to_display(image, "MONOCHROME1")
    assert normal.min() == 0.0 and normal.max() == 1.0
    np.testing.assert_allclose(inverted, 1.0 - normal, atol=1e-6)
    # the brightest stored value is white in MONOCHROME2 and black in MONOCHROME1
    brightest = np.unravel_index(np.argmax(image), image.shape)
    assert normal[brightest] == 1.0 and inverted[brightest] == 0.0


# --------------------------------------------------------------------------- normalisations (lesson 05)
@PROPERTY
@given(image=images(ndims=(1, 2, 3), max_side=14))
def test_minmax_reaches_0_and_1_without_wrap_around(image):
    assume(_spread(image) > 0)
    scaled = preprocess.minmax(image)
    assert scaled.dtype == np.float32 and scaled.shape == image.shape
    assert scaled.min() >= 0.0 and scaled.max() <= 1.0
    assert scaled.ravel()[np.argmin(image)] == 0.0 and scaled.ravel()[np.argmax(image)] == 1.0
    exact = (image.astype(np.float64) - float(image.min())) / _spread(image)
    np.testing.assert_allclose(scaled, exact, atol=1e-5)


@PROPERTY
@given(image=images(ndims=(1, 2, 3), max_side=14))
def test_zscore_has_mean_0_and_std_1_for_every_dtype(image):
    values = image.astype(np.float64)
    assume(values.std() > 1e-3 * max(1.0, float(np.abs(values).max())))
    scored = preprocess.zscore(image)
    assert scored.dtype == np.float32 and scored.shape == image.shape
    assert float(scored.astype(np.float64).mean()) == pytest.approx(0.0, abs=1e-3)
    assert float(scored.astype(np.float64).std()) == pytest.approx(1.0, abs=1e-3)


@PROPERTY
@given(image=images(ndims=(2, 3), max_side=14), low=st.floats(0, 10), high=st.floats(90, 100))
def test_percentile_clip_stays_in_unit_interval_and_keeps_order(image, low, high):
    lower, upper = np.percentile(image.astype(np.float64), [low, high])
    assume(upper > lower)
    clipped = preprocess.percentile_clip(image, low, high)
    assert clipped.dtype == np.float32 and clipped.min() >= 0.0 and clipped.max() <= 1.0
    order = np.argsort(image.astype(np.float64), axis=None, kind="stable")
    assert np.all(np.diff(clipped.ravel()[order]) >= 0)


# --------------------------------------------------------------------------- crops and resizing (lesson 05)
@st.composite
def image_with_roi(draw):
    image = draw(images(min_side=4, max_side=30))
    rows, cols = image.shape
    top, left = draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))
    side = min(rows, cols)
    height = draw(st.integers(1, min(side, rows - top)))
    width = draw(st.integers(1, min(side, cols - left)))
    roi = np.zeros(image.shape, dtype=draw(st.sampled_from([bool, np.uint8, np.int16])))
    roi[top : top + height, left : left + width] = 1
    return image, roi


@PROPERTY
@given(case=image_with_roi())
def test_square_crop_contains_the_roi_and_keeps_dtype_and_values(case):
    image, roi = case
    box = preprocess.square_box_around(image.shape, roi)
    cropped, cropped_roi = preprocess.square_crop_around(image, roi)
    assert cropped.dtype == image.dtype, "a crop must not convert the pixels"
    assert cropped.shape[0] == cropped.shape[1]
    assert int(np.count_nonzero(cropped_roi)) == int(np.count_nonzero(roi)), "ROI pixels lost"
    np.testing.assert_array_equal(cropped, image[box])


@st.composite
def label_masks(draw):
    dtype = np.dtype(draw(st.sampled_from([np.uint8, np.uint16, np.int16])))
    shape = (draw(st.integers(2, 24)), draw(st.integers(2, 24)))
    labels = draw(
        st.lists(_elements(dtype, 0 if dtype.kind == "u" else -5, None), min_size=1, max_size=4)
    )
    choice = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, len(labels) - 1)))
    return np.asarray(labels, dtype=dtype)[choice]


@PROPERTY
@given(mask=label_masks(), rows=st.integers(1, 40), cols=st.integers(1, 40))
def test_resized_masks_keep_their_labels_and_dtype(mask, rows, cols):
    resized = preprocess.resize_image(mask, (rows, cols), kind="mask")
    assert resized.dtype == mask.dtype and resized.shape == (rows, cols)
    assert set(np.unique(resized)) <= set(np.unique(mask)), "interpolation invented a label"
    padded = preprocess.resize_with_padding(mask, (rows, cols), kind="mask")
    assert set(np.unique(padded)) <= set(np.unique(mask)) | {0}


@PROPERTY
@given(image=images(min_side=2, max_side=24), rows=st.integers(1, 40), cols=st.integers(1, 40))
def test_resized_images_keep_dtype_and_stay_within_the_input_range(image, rows, cols):
    resized = preprocess.resize_image(image, (rows, cols))
    assert resized.dtype == image.dtype and resized.shape == (rows, cols)
    tolerance = 1e-3 * max(1.0, float(np.abs(image.astype(np.float64)).max()))
    assert float(resized.min()) >= float(image.min()) - tolerance
    assert float(resized.max()) <= float(image.max()) + tolerance


# --------------------------------------------------------------------------- augmentation (lesson 06)
@PROPERTY
@given(
    image=images(max_side=16),
    seed=st.integers(0, 2**16),
    amount=st.floats(-1, 1),
)
def test_intensity_augmentations_keep_dtype_and_range(image, seed, amount):
    value_range = None if image.dtype.kind in "iu" else _value_range(image)
    low, high = _value_range(image)
    span = high - low
    rng = np.random.default_rng(seed)
    outputs = {
        "brightness": augment.adjust_brightness(image, amount * span / 4, value_range=value_range),
        "contrast": augment.adjust_contrast(image, 1.0 + amount / 2, value_range=value_range),
        "gamma": augment.adjust_gamma(image, 2.0**amount, value_range=value_range),
        "gaussian noise": augment.add_gaussian_noise(
            image, abs(amount) * span / 10, rng=rng, value_range=value_range
        ),
        "blur": augment.gaussian_blur(image, abs(amount) * 2, value_range=value_range),
    }
    for name, output in outputs.items():
        assert output.dtype == image.dtype, f"{name} changed {image.dtype} to {output.dtype}"
        assert output.shape == image.shape, name
        assert float(output.min()) >= low and float(output.max()) <= high, name


@PROPERTY
@given(
    image=images(max_side=16),
    seed=st.integers(0, 2**16),
    angle=st.floats(-45, 45),
    k=st.integers(-3, 3),
)
def test_geometric_augmentations_keep_dtype_range_and_labels(image, seed, angle, k):
    rng = np.random.default_rng(seed)
    mask = (rng.random(image.shape) > 0.7).astype(np.uint8) * 3
    outputs = {
        "rot90": augment.rot90_pair(image, mask, k),
        "flip": augment.flip_pair(image, mask, axis=0),
        "affine": augment.affine_pair(image, mask, angle_deg=angle, scale=1.1),
        "elastic": augment.elastic_pair(image, mask, alpha=3.0, sigma=2.0, rng=rng),
    }
    # interpolation may be off by rounding (a few ulp) for floats, never for integers
    ulps = 0.0 if image.dtype.kind in "iu" else 1e-6 * max(1.0, float(np.abs(image).max()))
    for name, (moved, moved_mask) in outputs.items():
        assert moved.dtype == image.dtype, f"{name} changed {image.dtype} to {moved.dtype}"
        assert moved_mask.dtype == mask.dtype, name
        assert float(moved.min()) >= float(image.min()) - ulps, f"{name} undershoots the range"
        assert float(moved.max()) <= float(image.max()) + ulps, f"{name} overshoots the range"
        assert set(np.unique(moved_mask)) <= {0, 3}, f"{name} invented a label"
    np.testing.assert_array_equal(
        np.sort(outputs["rot90"][0], axis=None), np.sort(image, axis=None)
    )


# --------------------------------------------------------------------------- metrics (lesson 07)
def _data_range(image: np.ndarray) -> float:
    """The format's range: the dtype's span for integers, 1.0 for float images in [0, 1]."""
    if image.dtype.kind in "iu":
        low, high = _value_range(image)
        return high - low
    return 1.0


@st.composite
def image_pairs(draw):
    """Two images of one dtype and shape; float images lie in [0, 1] as the lessons use them."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    high = 1.0 if dtype.kind == "f" else None
    first = draw(
        images(dtypes=(dtype,), min_side=8, max_side=16, high=high, low=0.0 if high else None)
    )
    second = draw(
        hnp.arrays(dtype, first.shape, elements=_elements(dtype, first.min(), first.max()))
    )
    return first, second


@PROPERTY
@given(pair=image_pairs())
def test_mse_and_psnr_are_symmetric_and_never_wrap_around(pair):
    first, second = pair
    exact = float(np.mean((first.astype(np.float64) - second.astype(np.float64)) ** 2))
    assert metrics.mse(first, second) == pytest.approx(exact, rel=1e-9, abs=1e-12)
    assert metrics.mse(second, first) == pytest.approx(metrics.mse(first, second))
    data_range = _data_range(first)
    forward = metrics.psnr(first, second, data_range=data_range)
    backward = metrics.psnr(second, first, data_range=data_range)
    assert forward == pytest.approx(backward)
    if exact == 0:
        assert forward == np.inf
    else:
        assert forward == pytest.approx(10 * np.log10(data_range**2 / exact))


@PROPERTY
@given(pair=image_pairs())
def test_ssim_is_symmetric_bounded_and_1_for_identical_images(pair):
    first, second = pair
    data_range = _data_range(first)
    forward = metrics.ssim(first, second, data_range=data_range)
    assert -1.0 <= forward <= 1.0
    assert forward == pytest.approx(metrics.ssim(second, first, data_range=data_range), abs=1e-9)
    assert metrics.ssim(first, first.copy(), data_range=data_range) == pytest.approx(1.0)


# --------------------------------------------------------------------------- noise models (lesson 07)
NOISE = {
    "gaussian": lambda image, rng, vr: noise.add_gaussian_noise(
        image, 0.2, rng=rng, value_range=vr
    ),
    "poisson": lambda image, rng, vr: noise.add_poisson_noise(image, 30.0, rng=rng, value_range=vr),
    "salt and pepper": lambda image, rng, vr: noise.add_salt_pepper(
        image, 0.2, rng=rng, value_range=vr
    ),
    "speckle": lambda image, rng, vr: noise.add_speckle(image, 0.3, rng=rng, value_range=vr),
}


@PROPERTY
@given(
    image=images(ndims=(2, 3), max_side=12, low=0, high=None),
    seed=st.integers(0, 2**31 - 1),
    model=st.sampled_from(sorted(NOISE)),
)
def test_noise_keeps_the_declared_range_for_every_dtype(image, seed, model):
    """Intensities are non-negative (Poisson needs it): [0, dtype max] for integers, [0, 1] floats."""
    if image.dtype.kind == "f":
        image = (image / 4000.0).astype(image.dtype)
        value_range = (0.0, 1.0)
    else:
        value_range = (0.0, float(np.iinfo(image.dtype).max))
    before = image.copy()
    noisy = NOISE[model](image, seed, value_range)
    assert noisy.shape == image.shape
    assert noisy.min() >= value_range[0] and noisy.max() <= value_range[1]
    np.testing.assert_array_equal(image, before, err_msg="noise modified its input")
    np.testing.assert_array_equal(noisy, NOISE[model](image, seed, value_range))


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_noise_on_integer_images_needs_their_range(dtype):
    image = np.full((8, 8), np.iinfo(dtype).max, dtype=dtype)
    with pytest.raises(ValueError, match="outside value_range"):
        noise.add_gaussian_noise(image, 0.1, rng=0)
