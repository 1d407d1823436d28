"""Metrics (MSE, PSNR, SSIM, noise estimate) and noise models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from course_utils import metrics, noise

RNG = np.random.default_rng(42)
CLEAN = np.clip(
    np.linspace(0, 1, 64 * 64).reshape(64, 64) + 0.1 * RNG.standard_normal((64, 64)), 0, 1
)
NOISY = np.clip(CLEAN + 0.05 * RNG.standard_normal(CLEAN.shape), 0, 1)

unit_images = arrays(
    np.float64,
    st.tuples(st.integers(8, 16), st.integers(8, 16)),
    elements=st.floats(0, 1, allow_nan=False, width=32),
)


# --------------------------------------------------------------------------- hand-computed values
def test_mse_by_hand():
    assert metrics.mse([[0, 0], [0, 0]], [[1, 1], [1, 3]]) == pytest.approx((1 + 1 + 1 + 9) / 4)


def test_psnr_by_hand():
    # MSE = 0.01 with data_range 1 -> 10 log10(1 / 0.01) = 20 dB
    assert metrics.psnr(np.zeros((4, 4)), np.full((4, 4), 0.1), data_range=1.0) == pytest.approx(
        20.0
    )
    # 8-bit: error of 1 grey level everywhere -> 20 log10(255) = 48.13 dB
    assert metrics.psnr(
        np.zeros((4, 4), np.uint8), np.ones((4, 4), np.uint8), data_range=255
    ) == pytest.approx(48.1308, abs=1e-4)


def test_uint8_does_not_wrap_around():
    a = np.array([[0, 10]], dtype=np.uint8)
    b = np.array([[10, 0]], dtype=np.uint8)
    assert metrics.mse(a, b) == 100.0


def test_identical_images():
    assert metrics.psnr(CLEAN, CLEAN, data_range=1.0) == math.inf
    assert metrics.ssim(CLEAN, CLEAN, data_range=1.0) == pytest.approx(1.0)


# --------------------------------------------------------------------------- against scikit-image
def test_agree_with_scikit_image():
    assert metrics.mse(CLEAN, NOISY) == pytest.approx(mean_squared_error(CLEAN, NOISY))
    assert metrics.psnr(CLEAN, NOISY, data_range=1.0) == pytest.approx(
        peak_signal_noise_ratio(CLEAN, NOISY, data_range=1.0)
    )
    assert metrics.ssim(CLEAN, NOISY, data_range=1.0) == pytest.approx(
        structural_similarity(CLEAN, NOISY, data_range=1.0)
    )
    as_8bit = (CLEAN * 255).astype(np.uint8), (NOISY * 255).astype(np.uint8)
    assert metrics.psnr(*as_8bit, data_range=255) == pytest.approx(
        peak_signal_noise_ratio(*as_8bit, data_range=255)
    )


def test_ssim_passes_options():
    value = metrics.ssim(
        CLEAN, NOISY, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    expected = structural_similarity(
        CLEAN, NOISY, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert value == pytest.approx(expected)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("function", [metrics.psnr, metrics.ssim])
def test_data_range_is_required(function):
    with pytest.raises(TypeError, match="data_range"):
        function(CLEAN, NOISY)


@pytest.mark.parametrize("function", [metrics.psnr, metrics.ssim])
@pytest.mark.parametrize(
    ("data_range", "error", "message"),
    [
        (0, ValueError, "positive"),
        (-1.0, ValueError, "positive"),
        (float("nan"), ValueError, "positive"),
        ("255", TypeError, "must be a number"),
        (0.5, ValueError, "smaller than the span"),
        (255, ValueError, "different units"),
    ],
)
def test_bad_data_range(function, data_range, error, message):
    with pytest.raises(error, match=message):
        function(CLEAN, NOISY, data_range=data_range)


@pytest.mark.parametrize("function", [metrics.psnr, metrics.ssim])
def test_unit_mix_up_caught_with_unclipped_noise(function):
    # Unclipped Gaussian noise strays outside [0, 1] (here to about -0.4 and 1.4); the guard
    # must still see that the images are [0, 1] floats and refuse data_range=255.
    unclipped = CLEAN + 0.1 * np.random.default_rng(3).standard_normal(CLEAN.shape)
    assert unclipped.min() < -0.2 and unclipped.max() > 1.2
    with pytest.raises(ValueError, match="different units"):
        function(CLEAN, unclipped, data_range=255)
    assert np.isfinite(function(CLEAN, unclipped, data_range=1.0))


def test_unit_guard_leaves_8bit_floats_alone():
    # Float images holding 0-255 values are legitimately scored with data_range=255.
    assert np.isfinite(metrics.psnr(CLEAN * 255, NOISY * 255, data_range=255))


@pytest.mark.parametrize("function", [metrics.mse, metrics.psnr, metrics.ssim])
def test_shape_mismatch_names_both_shapes(function):
    kwargs = {} if function is metrics.mse else {"data_range": 1.0}
    with pytest.raises(ValueError, match=r"\(64, 64\).*\(64, 63\)"):
        function(CLEAN, NOISY[:, :63], **kwargs)


@pytest.mark.parametrize("function", [metrics.mse, metrics.psnr, metrics.ssim])
def test_nan_is_rejected(function):
    bad = NOISY.copy()
    bad[3, 3] = np.nan
    kwargs = {} if function is metrics.mse else {"data_range": 1.0}
    with pytest.raises(ValueError, match="test contains 1 NaN"):
        function(CLEAN, bad, **kwargs)
    with pytest.raises(ValueError, match="reference contains 1 NaN"):
        function(bad, CLEAN, **kwargs)


def test_empty_and_non_numeric():
    with pytest.raises(ValueError, match="empty"):
        metrics.mse(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(TypeError, match="numeric"):
        metrics.mse(np.array([["a"]]), np.array([["b"]]))


def test_ssim_too_small_or_wrong_ndim():
    with pytest.raises(ValueError, match="smaller than the SSIM window"):
        metrics.ssim(np.zeros((5, 5)), np.zeros((5, 5)), data_range=1.0)
    with pytest.raises(ValueError, match="2-D image or 3-D volume"):
        metrics.ssim(np.zeros(64), np.zeros(64), data_range=1.0)


# --------------------------------------------------------------------------- noise estimate
@pytest.mark.parametrize("sigma", [0.02, 0.05, 0.1])
def test_estimate_noise_sigma_recovers_known_sigma(sigma):
    smooth = np.outer(np.hanning(256), np.hanning(256))
    noisy = smooth + np.random.default_rng(3).normal(0, sigma, smooth.shape)
    assert metrics.estimate_noise_sigma(noisy) == pytest.approx(sigma, rel=0.1)


def test_estimate_noise_sigma_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        metrics.estimate_noise_sigma(np.zeros((8, 8, 8)))
    with pytest.raises(ValueError, match="too small"):
        metrics.estimate_noise_sigma(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.estimate_noise_sigma(np.full((16, 16), np.nan))


# --------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(unit_images)
def test_psnr_of_identical_images_is_infinite(image):
    assert metrics.psnr(image, image.copy(), data_range=1.0) == math.inf


@settings(max_examples=40, deadline=None)
@given(unit_images, st.integers(0, 2**31 - 1))
def test_psnr_and_mse_are_symmetric(image, seed):
    other = noise.add_gaussian_noise(image, 0.1, rng=seed)
    assert metrics.mse(image, other) == pytest.approx(metrics.mse(other, image))
    assert metrics.psnr(image, other, data_range=1.0) == pytest.approx(
        metrics.psnr(other, image, data_range=1.0)
    )


@settings(max_examples=40, deadline=None)
@given(unit_images, unit_images)
def test_ssim_is_bounded(first, second):
    rows = min(first.shape[0], second.shape[0])
    cols = min(first.shape[1], second.shape[1])
    value = metrics.ssim(first[:rows, :cols], second[:rows, :cols], data_range=1.0)
    assert -1.0 <= value <= 1.0


NOISE_FUNCTIONS = [
    (noise.add_gaussian_noise, 0.2),
    (noise.add_poisson_noise, 20.0),
    (noise.add_salt_pepper, 0.2),
    (noise.add_speckle, 0.5),
]


@pytest.mark.parametrize(("function", "level"), NOISE_FUNCTIONS)
@settings(max_examples=25, deadline=None)
@given(image=unit_images, seed=st.integers(0, 2**31 - 1))
def test_noise_stays_in_range_and_is_reproducible(function, level, image, seed):
    first = function(image, level, rng=seed)
    second = function(image, level, rng=seed)
    assert first.shape == image.shape and first.dtype == np.float64
    assert first.min() >= 0.0 and first.max() <= 1.0
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(("function", "level"), NOISE_FUNCTIONS)
def test_noise_respects_other_value_ranges(function, level):
    image = np.linspace(0, 255, 400).reshape(20, 20)
    if function is noise.add_poisson_noise:
        level = level / 255
    noisy = function(image, level, rng=0, value_range=(0, 255))
    assert noisy.min() >= 0 and noisy.max() <= 255
    assert not np.array_equal(noisy, image)


def test_noise_statistics():
    flat = np.full((200, 200), 0.5)
    assert noise.add_gaussian_noise(flat, 0.1, rng=0).std() == pytest.approx(0.1, rel=0.05)
    # Poisson: variance = mean count -> sd = sqrt(0.5 / 50) = 0.1 in image units
    assert noise.add_poisson_noise(flat, 50.0, rng=0).std() == pytest.approx(0.1, rel=0.05)
    assert noise.add_poisson_noise(flat, 50.0, rng=0).mean() == pytest.approx(0.5, rel=0.02)
    salted = noise.add_salt_pepper(flat, 0.1, rng=0)
    assert np.mean(salted == 1.0) == pytest.approx(0.05, abs=1e-3)
    assert np.mean(salted == 0.0) == pytest.approx(0.05, abs=1e-3)
    assert noise.add_speckle(flat, 0.2, rng=0).std() == pytest.approx(0.1, rel=0.05)


def test_generator_argument_and_different_seeds():
    flat = np.full((16, 16), 0.5)
    generator = np.random.default_rng(5)
    a = noise.add_gaussian_noise(flat, 0.1, rng=generator)
    b = noise.add_gaussian_noise(flat, 0.1, rng=generator)
    assert not np.array_equal(a, b)
    assert not np.array_equal(
        noise.add_gaussian_noise(flat, 0.1, rng=1), noise.add_gaussian_noise(flat, 0.1, rng=2)
    )


def test_noise_bad_input():
    with pytest.raises(ValueError, match="outside value_range"):
        noise.add_gaussian_noise(np.full((4, 4), 200.0), 0.1, rng=0)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        noise.add_gaussian_noise(np.zeros((4, 4)), -0.1, rng=0)
    with pytest.raises(ValueError, match="photons_per_unit must be > 0"):
        noise.add_poisson_noise(np.zeros((4, 4)), 0.0, rng=0)
    with pytest.raises(ValueError, match="non-negative"):
        noise.add_poisson_noise(np.zeros((4, 4)), 10.0, rng=0, value_range=(-1, 1))
    with pytest.raises(ValueError, match=r"amount must be \[0, 1\]"):
        noise.add_salt_pepper(np.zeros((4, 4)), 1.5, rng=0)
    with pytest.raises(ValueError, match="NaN"):
        noise.add_speckle(np.full((4, 4), np.nan), 0.1, rng=0)
    with pytest.raises(ValueError, match="empty"):
        noise.add_speckle(np.zeros((0, 4)), 0.1, rng=0)
    with pytest.raises(TypeError, match="rng must be"):
        noise.add_gaussian_noise(np.zeros((4, 4)), 0.1, rng="seed")
    with pytest.raises(ValueError, match="low < high"):
        noise.add_gaussian_noise(np.zeros((4, 4)), 0.1, rng=0, value_range=(1, 0))
