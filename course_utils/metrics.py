"""Image-restoration metrics with the data range made explicit: MSE, PSNR, SSIM, noise level.

PSNR and SSIM depend on ``data_range``, the span of values the image format
can hold (255 for 8-bit, 1.0 for images scaled to [0, 1], 4095 for 12-bit
data). Libraries guess it from the dtype when it is not given, and a wrong
guess silently shifts PSNR by tens of decibels. Here ``data_range`` is a
required keyword and is checked against the reference image.

Example
-------
>>> import numpy as np
>>> clean = np.linspace(0, 1, 64).reshape(8, 8)
>>> noisy = clean + 0.1
>>> round(psnr(clean, noisy, data_range=1.0), 2)
20.0
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["mse", "psnr", "ssim", "estimate_noise_sigma"]


def _as_float_image(image, name: str) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected an image")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); metrics need finite values"
        )
    return array


def _integer_span(*images) -> float:
    """Span of the integer dtype shared by the inputs (0 if any is not an integer array)."""
    spans = []
    for image in images:
        dtype = np.asarray(image).dtype
        if not np.issubdtype(dtype, np.integer):
            return 0.0
        info = np.iinfo(dtype)
        spans.append(float(info.max) - float(info.min))
    return max(spans)


def _pair(reference, test) -> tuple[np.ndarray, np.ndarray]:
    reference = _as_float_image(reference, "reference")
    test = _as_float_image(test, "test")
    if reference.shape != test.shape:
        raise ValueError(
            f"reference has shape {reference.shape} but test has shape {test.shape}; "
            "compare images of the same shape (crop or resize first)"
        )
    return reference, test


def _check_data_range(
    data_range, reference: np.ndarray, test: np.ndarray, integer_span: float = 0.0
) -> float:
    if isinstance(data_range, (bool, np.bool_)) or not isinstance(data_range, numbers.Real):
        raise TypeError(
            f"data_range must be a number (e.g. 255 for 8-bit, 1.0 for [0, 1] floats), got {data_range!r}"
        )
    data_range = float(data_range)
    if not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a positive finite number, got {data_range}")
    span = float(reference.max() - reference.min())
    if span > data_range * (1 + 1e-6):
        raise ValueError(
            f"data_range={data_range:g} is smaller than the span of the reference image "
            f"({reference.min():.4g} to {reference.max():.4g}); use the range of the image format "
            "(255 for 8-bit, 65535 for 16-bit, 1.0 for [0, 1] floats)"
        )
    # Float images scaled to [0, 1] (or [-1, 1]) scored with an integer format's range: the
    # classic unit mix-up. The scale is judged from the reference and from the bulk of the test
    # image, so unclipped noise that strays a little outside [0, 1] does not hide the mix-up.
    # Integer images are judged by their dtype instead.
    reference_largest = float(np.abs(reference).max())
    test_bulk = float(np.percentile(np.abs(test), 99.9))
    if integer_span == 0.0 and reference_largest <= 1.0 and test_bulk <= 1.5 and data_range > 2.0:
        raise ValueError(
            f"the images look scaled to [0, 1] (reference up to {reference_largest:.4g}, "
            f"99.9 % of the test image within {test_bulk:.4g}) but data_range={data_range:g}; "
            "the images and data_range are in different units: use data_range=1.0 for [0, 1] images"
        )
    return data_range


def mse(reference, test) -> float:
    """Mean squared error between two images of the same shape.

    Computed in float64, so 8-bit inputs do not wrap around when subtracted.

    Parameters
    ----------
    reference, test : array_like
        Images of the same shape with finite values.

    Returns
    -------
    float
        In squared intensity units.

    Raises
    ------
    ValueError
        Different shapes, empty arrays, NaN or infinite values.
    TypeError
        Non-numeric input.

    Example
    -------
    >>> mse(np.zeros((2, 2)), np.ones((2, 2)))
    1.0
    """
    reference, test = _pair(reference, test)
    return float(np.mean((reference - test) ** 2))


def psnr(reference, test, *, data_range: float) -> float:
    """Peak signal-to-noise ratio in decibels: ``10 log10(data_range**2 / MSE)``.

    Parameters
    ----------
    reference : array_like
        The noise-free image.
    test : array_like
        The noisy or restored image, same shape.
    data_range : float
        Span of the image format (255 for 8-bit, 1.0 for [0, 1] floats). Required:
        there is no safe default.

    Returns
    -------
    float
        PSNR in dB; ``inf`` when the images are identical.

    Raises
    ------
    ValueError
        Different shapes, NaN/inf values, ``data_range <= 0``, smaller than the
        reference's span, or larger than 2 for float images scaled to [-1, 1] (the
        reference within [-1, 1], 99.9 % of the test image within [-1.5, 1.5], so
        unclipped noise does not hide it): a unit mix-up such as [0, 1] images with
        ``data_range=255``.
    TypeError
        ``data_range`` is not a number.

    Example
    -------
    >>> psnr(np.zeros((4, 4)), np.full((4, 4), 0.1), data_range=1.0)
    20.0
    """
    integer_span = _integer_span(reference, test)
    reference, test = _pair(reference, test)
    data_range = _check_data_range(data_range, reference, test, integer_span)
    error = float(np.mean((reference - test) ** 2))
    if error == 0.0:
        return math.inf
    return float(10.0 * np.log10(data_range**2 / error))


def ssim(reference, test, *, data_range: float, **kwargs) -> float:
    """Structural similarity index (mean SSIM) via :func:`skimage.metrics.structural_similarity`.

    Parameters
    ----------
    reference, test : array_like
        2-D (or 3-D volume) images of the same shape; each side at least 7 pixels.
    data_range : float
        Span of the image format; required and validated as in :func:`psnr`.
    **kwargs
        Passed to scikit-image (e.g. ``gaussian_weights=True``, ``win_size``).

    Returns
    -------
    float
        In [-1, 1]; 1 means identical.

    Raises
    ------
    ValueError
        As :func:`psnr`, plus images smaller than the 7 x 7 window or not 2-/3-D.

    Example
    -------
    >>> ramp = np.linspace(0, 1, 100).reshape(10, 10)
    >>> ssim(ramp, ramp, data_range=1.0)
    1.0
    """
    from skimage.metrics import structural_similarity

    integer_span = _integer_span(reference, test)
    reference, test = _pair(reference, test)
    data_range = _check_data_range(data_range, reference, test, integer_span)
    if reference.ndim not in (2, 3):
        raise ValueError(f"ssim needs a 2-D image or 3-D volume, got shape {reference.shape}")
    win_size = kwargs.get("win_size", 7)
    if min(reference.shape) < win_size:
        raise ValueError(
            f"images of shape {reference.shape} are smaller than the SSIM window ({win_size} pixels); "
            "use larger images or a smaller odd win_size"
        )
    value = structural_similarity(reference, test, data_range=data_range, **kwargs)
    return float(np.clip(value, -1.0, 1.0))


def estimate_noise_sigma(image) -> float:
    """Standard deviation of additive white noise, estimated from a single image.

    Uses the robust wavelet estimator of Donoho and Johnstone (median absolute
    deviation of the finest diagonal wavelet coefficients / 0.6745) through
    :func:`skimage.restoration.estimate_sigma`. Image content barely affects
    the finest diagonal details, so no noise-free copy is needed. For
    signal-dependent (Poisson) noise it returns an average over the image.

    Parameters
    ----------
    image : array_like
        2-D greyscale image, at least 8 x 8 pixels.

    Returns
    -------
    float
        In the image's intensity units.

    Raises
    ------
    ValueError
        Not 2-D, too small, or NaN/inf values.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> round(estimate_noise_sigma(0.5 + 0.1 * rng.standard_normal((256, 256))), 2)
    0.1
    """
    from skimage.restoration import estimate_sigma

    array = _as_float_image(image, "image")
    if array.ndim != 2:
        raise ValueError(f"image must be 2-D greyscale, got shape {array.shape}")
    if min(array.shape) < 8:
        raise ValueError(
            f"image of shape {array.shape} is too small to estimate noise; need >= 8 x 8"
        )
    return float(estimate_sigma(array, channel_axis=None))
