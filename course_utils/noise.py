"""Noise models for simulation: Gaussian, Poisson, X-ray transmission, salt-and-pepper, speckle.

Every function takes a float image whose values lie in ``value_range``
(default ``(0.0, 1.0)``), a noise level, and ``rng`` (a seed or a
:class:`numpy.random.Generator`; the same seed gives the same noise). The
result is a new float64 array clipped back to ``value_range`` unless
``clip=False``. Where each model arises:

* Gaussian: thermal and read-out noise of the electronics; additive, the same
  everywhere.
* Poisson: counting photons (fluorescence, raw detector counts). The variance equals the
  expected count, so relative noise falls as 1/sqrt(dose).
* X-ray transmission (:func:`add_transmission_noise`): counts ~ Poisson(N0·exp(−A))
  then −log(counts / N0); air gets the most photons, the noise grows under bone.
* Salt-and-pepper: transmission bit errors (dead or stuck detector pixels are
  fixed defects, the same pixels in every image, not random ones).
* Speckle: coherent imaging (ultrasound, OCT, SAR); multiplicative.

Example
-------
>>> import numpy as np
>>> clean = np.full((4, 4), 0.5)
>>> noisy = add_gaussian_noise(clean, 0.1, rng=0)
>>> noisy.shape, bool(noisy.min() >= 0)
((4, 4), True)
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "add_gaussian_noise",
    "add_poisson_noise",
    "add_salt_pepper",
    "add_speckle",
    "add_transmission_noise",
]


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng).__name__}")


def _prepare(image, value_range) -> tuple[np.ndarray, float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise TypeError(f"value_range must be a pair (low, high), got {value_range!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"value_range must have finite low < high, got {value_range!r}")
    array = np.asarray(image)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or array.dtype == object:
        raise TypeError(f"image must be a numeric array, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"image is empty (shape {array.shape})")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError("image contains NaN or infinite values")
    tolerance = 1e-9 * (high - low)
    if array.min() < low - tolerance or array.max() > high + tolerance:
        raise ValueError(
            f"image values span [{array.min():.4g}, {array.max():.4g}], outside value_range "
            f"[{low:g}, {high:g}]; scale the image first (e.g. divide 8-bit images by 255)"
        )
    return array, low, high


def _level(value, name: str, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (upper is not None and value > upper):
        bound = f"[0, {upper:g}]" if upper is not None else ">= 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return float(value)


def add_gaussian_noise(image, sigma: float, *, rng=None, value_range=(0.0, 1.0), clip: bool = True):
    """Add zero-mean Gaussian (white) noise of standard deviation ``sigma``.

    Parameters
    ----------
    image : array_like
        Float image with values in ``value_range``.
    sigma : float
        Standard deviation in the image's units (>= 0).
    rng : int, numpy.random.Generator or None
        Seed or generator; the same seed gives the same noise.
    value_range : (float, float)
        Range the image's values lie in; the output is clipped to it.
    clip : bool
        Clip the result to ``value_range`` (True) or keep the raw sum.

    Returns
    -------
    numpy.ndarray
        float64, same shape.

    Raises
    ------
    ValueError
        Negative ``sigma``, values outside ``value_range``, NaN, empty image.

    Example
    -------
    >>> add_gaussian_noise(np.zeros((2, 2)), 0.0, rng=1).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """
    array, low, high = _prepare(image, value_range)
    sigma = _level(sigma, "sigma")
    noisy = array + _generator(rng).normal(0.0, sigma, size=array.shape)
    return np.clip(noisy, low, high) if clip else noisy


def add_poisson_noise(
    image, photons_per_unit: float, *, rng=None, value_range=(0.0, 1.0), clip: bool = True
):
    """Photon-counting noise: counts ~ Poisson(image x photons_per_unit), returned in image units.

    ``photons_per_unit`` is the dose: the expected number of detected photons
    for an intensity of 1. The noise standard deviation at intensity ``v`` is
    ``sqrt(v / photons_per_unit)``: four times the dose halves the noise.

    Parameters
    ----------
    image : array_like
        Float image with values in ``value_range`` (low must be >= 0: counts
        cannot be negative). Intensity is taken as proportional to the
        expected photon count, as in raw detector data.
    photons_per_unit : float
        Expected photons per unit intensity (> 0).
    rng, value_range, clip
        As in :func:`add_gaussian_noise`.

    Returns
    -------
    numpy.ndarray
        float64, ``counts / photons_per_unit``.

    Raises
    ------
    ValueError
        ``photons_per_unit <= 0`` or a negative ``value_range``.

    Example
    -------
    >>> noisy = add_poisson_noise(np.full((100, 100), 0.5), 200.0, rng=0)
    >>> round(float(noisy.std()), 2)   # sqrt(0.5 / 200)
    0.05
    """
    array, low, high = _prepare(image, value_range)
    if low < 0:
        raise ValueError(
            f"Poisson noise needs non-negative intensities; value_range starts at {low}"
        )
    photons = _level(photons_per_unit, "photons_per_unit")
    if photons <= 0:
        raise ValueError(f"photons_per_unit must be > 0, got {photons_per_unit}")
    counts = _generator(rng).poisson(array * photons)
    noisy = counts / photons
    return np.clip(noisy, low, high) if clip else noisy


def add_salt_pepper(
    image, amount: float, *, salt_fraction: float = 0.5, rng=None, value_range=(0.0, 1.0)
):
    """Replace a fraction ``amount`` of pixels by the range's extremes (salt = high, pepper = low).

    Parameters
    ----------
    image : array_like
        Float image with values in ``value_range``.
    amount : float
        Fraction of pixels replaced, in [0, 1].
    salt_fraction : float
        Fraction of the replaced pixels set to ``high`` (the rest to ``low``).
    rng, value_range
        As in :func:`add_gaussian_noise`. The output stays inside the range by construction.

    Returns
    -------
    numpy.ndarray
        float64, same shape.

    Example
    -------
    >>> noisy = add_salt_pepper(np.full((10, 10), 0.5), 0.2, rng=0)
    >>> int((noisy != 0.5).sum())
    20
    """
    array, low, high = _prepare(image, value_range)
    amount = _level(amount, "amount", upper=1.0)
    salt_fraction = _level(salt_fraction, "salt_fraction", upper=1.0)
    generator = _generator(rng)
    noisy = array.copy()
    n_replaced = int(round(amount * array.size))
    chosen = generator.choice(array.size, size=n_replaced, replace=False)
    n_salt = int(round(salt_fraction * n_replaced))
    flat = noisy.reshape(-1)
    flat[chosen[:n_salt]] = high
    flat[chosen[n_salt:]] = low
    return noisy


def add_speckle(image, sigma: float, *, rng=None, value_range=(0.0, 1.0), clip: bool = True):
    """Multiplicative noise: ``image * (1 + sigma * n)`` with ``n`` standard normal.

    The same model as scikit-image's ``random_noise(mode="speckle")``; it
    imitates the granular speckle of ultrasound, where the noise grows with
    the echo strength (fully developed speckle is closer to Rayleigh-distributed
    amplitudes, but the multiplicative character is what matters for filters).

    Parameters
    ----------
    image : array_like
        Float image with values in ``value_range``.
    sigma : float
        Standard deviation of the multiplicative factor (>= 0).
    rng, value_range, clip
        As in :func:`add_gaussian_noise`.

    Returns
    -------
    numpy.ndarray
        float64, same shape.

    Example
    -------
    >>> add_speckle(np.zeros((2, 2)), 0.5, rng=0).tolist()   # no signal, no speckle
    [[0.0, 0.0], [0.0, 0.0]]
    """
    array, low, high = _prepare(image, value_range)
    sigma = _level(sigma, "sigma")
    noisy = array * (1.0 + sigma * _generator(rng).standard_normal(array.shape))
    return np.clip(noisy, low, high) if clip else noisy


def add_transmission_noise(
    attenuation, photons_in_air: float, *, rng=None, min_count: float = 0.5
) -> np.ndarray:
    """X-ray transmission noise: counts ~ Poisson(N0·exp(−A)), returned as −log(counts / N0).

    A radiograph measures how many of the ``photons_in_air`` (N0) photons aimed
    at a detector pixel get through the patient: the expected count is
    ``N0 * exp(-attenuation)`` (Beer–Lambert), the count is Poisson, and the
    processed image shows the line integral ``-log(counts / N0)``. Air gets the
    most photons and the least noise; behind bone few photons arrive, and the
    variance of the log value grows like ``exp(attenuation) / N0``. A pixel
    that counted no photon is stored as ``min_count`` (the log of 0 is infinite).

    Parameters
    ----------
    attenuation : array_like
        Non-negative line integrals of the attenuation coefficient (unitless).
    photons_in_air : float
        N0, the expected photons per pixel with nothing in the beam (> 0).
    rng : int, numpy.random.Generator or None
        Seed or generator; the same seed gives the same noise.
    min_count : float
        Count that replaces 0 before the log (> 0).

    Returns
    -------
    numpy.ndarray
        float64 noisy attenuation, same shape (not clipped).

    Raises
    ------
    ValueError
        Negative or non-finite attenuation, ``photons_in_air <= 0`` or ``min_count <= 0``.

    Example
    -------
    >>> noisy = add_transmission_noise(np.full((200, 200), 1.0), 1000.0, rng=0)
    >>> round(float(noisy.mean()), 2), round(float(noisy.std()), 3)   # sqrt(e / 1000) = 0.052
    (1.0, 0.053)
    """
    array = np.asarray(attenuation, dtype=np.float64)
    if array.size == 0:
        raise ValueError(f"attenuation is empty (shape {array.shape})")
    if not np.isfinite(array).all() or array.min() < 0:
        raise ValueError("attenuation must be finite and >= 0 (a line integral)")
    photons = _level(photons_in_air, "photons_in_air")
    if photons <= 0:
        raise ValueError(f"photons_in_air must be > 0, got {photons_in_air}")
    floor = _level(min_count, "min_count")
    if floor <= 0:
        raise ValueError(f"min_count must be > 0, got {min_count}")
    counts = _generator(rng).poisson(photons * np.exp(-array))
    return -np.log(np.maximum(counts, floor) / photons)
