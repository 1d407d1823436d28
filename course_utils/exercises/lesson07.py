"""Checks for ``07_denoising``: PSNR from scratch, the best median window, Anscombe + Gaussian denoiser.

Each check runs the student's function on test data (its own, or the
lesson's crops passed in), compares with a reference computed the same way,
prints specific feedback without revealing the expected values, and returns
a boolean.
"""

from __future__ import annotations

import numpy as np

from course_utils import checks

__all__ = ["check_psnr", "check_best_median_size", "check_anscombe_denoise"]


def _reference_psnr(reference, test, data_range) -> float:
    error = np.mean((np.asarray(reference, dtype=float) - np.asarray(test, dtype=float)) ** 2)
    return np.inf if error == 0 else float(10 * np.log10(data_range**2 / error))


def _psnr_cases():
    rng = np.random.default_rng(7)
    clean = np.clip(
        np.linspace(0.1, 0.9, 32 * 32).reshape(32, 32) + 0.05 * rng.standard_normal((32, 32)), 0, 1
    )
    noisy = np.clip(clean + 0.08 * rng.standard_normal(clean.shape), 0, 1)
    clean_8bit = np.round(clean * 255).astype(np.uint8)
    noisy_8bit = np.round(noisy * 255).astype(np.uint8)
    return [
        ("float images in [0, 1], data_range=1", clean, noisy, 1.0),
        ("8-bit images, data_range=255", clean_8bit, noisy_8bit, 255),
        ("float images, data_range=2", clean * 2, noisy * 2, 2.0),
    ]


def check_psnr(function) -> bool:
    """Check ``function(reference, test, data_range) -> float`` against the PSNR definition.

    Cases: float images in [0, 1]; 8-bit images (``uint8`` subtraction wraps
    around unless converted); a data range of 2; identical images (must give
    ``inf``).

    Example
    -------
    >>> def good(reference, test, data_range):
    ...     error = np.mean((np.asarray(reference, float) - np.asarray(test, float)) ** 2)
    ...     return np.inf if error == 0 else 10 * np.log10(data_range**2 / error)
    >>> check_psnr(good)
    ✅ PSNR: correct.
    True
    """
    name = "PSNR"
    results = {}
    for label, reference, test, data_range in _psnr_cases():
        with np.errstate(all="ignore"):
            ok, value = checks.call_student(
                function, reference.copy(), test.copy(), data_range, name=name
            )
        if not ok:
            return False
        if value is None or np.ndim(value) != 0:
            return checks.feedback(
                False,
                name,
                f"for {label} it returned {type(value).__name__}; expected one number in dB.",
            )
        results[label] = float(value)
    float_label, uint8_label, range_label = (case[0] for case in _psnr_cases())
    expected = {label: _reference_psnr(r, t, d) for label, r, t, d in _psnr_cases()}
    float_ok = np.isclose(results[float_label], expected[float_label], rtol=1e-6)
    if not float_ok:
        if np.isclose(results[float_label], 2 * expected[float_label], rtol=1e-3) or np.isclose(
            results[float_label], expected[float_label] / 2, rtol=1e-3
        ):
            return checks.feedback(
                False,
                name,
                f"for {float_label} your value is off by a factor of 2.",
                "PSNR = 10·log10(data_range² / MSE) = 20·log10(data_range / RMSE); mix the two and the factor appears.",
            )
        return checks.check_scalar(
            results[float_label],
            expected[float_label],
            name=f"{name} ({float_label})",
            rtol=1e-6,
            hint="Use the mean of the squared differences (MSE) over all pixels.",
        )
    if not np.isclose(results[uint8_label], expected[uint8_label], rtol=1e-6):
        return checks.feedback(
            False,
            name,
            f"correct for float images but not for {uint8_label}.",
            "uint8 arithmetic wraps around (np.uint8(0) - np.uint8(10) is 246): convert to float before subtracting.",
        )
    if not np.isclose(results[range_label], expected[range_label], rtol=1e-6):
        return checks.feedback(
            False,
            name,
            f"wrong for {range_label}.",
            "Use the data_range argument (squared) rather than a fixed 1 or 255.",
        )
    rng = np.random.default_rng(8)
    same = rng.random((16, 16))
    with np.errstate(all="ignore"):
        ok, value = checks.call_student(function, same, same.copy(), 1.0, name=name)
    if not ok:
        return False
    if value is None or np.ndim(value) != 0 or not np.isinf(float(value)) or float(value) < 0:
        return checks.feedback(
            False,
            name,
            f"identical images gave {value!r}; expected inf (the MSE is 0).",
            "Test for a zero MSE before dividing.",
        )
    return checks.feedback(True, name)


def _mean_median_psnr(noisy_images, clean_images, size) -> float:
    from scipy import ndimage

    return float(
        np.mean(
            [
                _reference_psnr(clean, ndimage.median_filter(noisy, size=size), 1.0)
                for noisy, clean in zip(noisy_images, clean_images, strict=True)
            ]
        )
    )


def check_best_median_size(function, noisy_sets: dict, clean_images, sizes=(3, 5, 7, 9)) -> bool:
    """Check ``function(noisy_images, clean_images, sizes) -> size`` on every noise level.

    Parameters
    ----------
    function : callable
        The student's ``best_median_size``.
    noisy_sets : dict
        Noise level -> list of noisy images (same order as ``clean_images``).
    clean_images : list of numpy.ndarray
        The references.
    sizes : sequence of int
        Candidate window sizes.

    Example
    -------
    >>> from scipy import ndimage
    >>> clean = [np.tile(np.linspace(0, 1, 32), (32, 1))]
    >>> noisy = {0.1: [np.where(np.random.default_rng(0).random((32, 32)) < 0.1, 1.0, clean[0])]}
    >>> def best(noisy_images, clean_images, sizes):
    ...     return sizes[int(np.argmax([_mean_median_psnr(noisy_images, clean_images, s) for s in sizes]))]
    >>> check_best_median_size(best, noisy, clean, sizes=[3, 5])
    ✅ best median window: correct. Best sizes by level: {0.1: 3}.
    True
    """
    name = "best median window"
    sizes = list(sizes)
    if not noisy_sets:
        raise ValueError("noisy_sets is empty; expected {noise level: list of noisy images}")
    chosen = {}
    for level, noisy_images in noisy_sets.items():
        ok, answer = checks.call_student(
            function, list(noisy_images), list(clean_images), list(sizes), name=name
        )
        if not ok:
            return False
        if isinstance(answer, (bool, np.bool_)) or np.ndim(answer) != 0 or answer not in sizes:
            return checks.feedback(
                False,
                name,
                f"for level {level} it returned {answer!r}, which is not one of the candidate sizes {sizes}.",
                "Return the window size itself, not its score or its index.",
            )
        scores = [_mean_median_psnr(noisy_images, clean_images, size) for size in sizes]
        best = sizes[int(np.argmax(scores))]
        if answer != best:
            return checks.feedback(
                False,
                name,
                f"for level {level} size {answer} is not the size with the highest mean PSNR.",
                "For each size, filter every noisy image, compute PSNR against its clean twin, average, "
                "and keep the size with the largest mean (argmax, not argmin).",
            )
        chosen[level] = int(answer)
    return checks.feedback(True, name, f"Best sizes by level: {chosen}.")


def _anscombe_test_counts(photons: float = 12.0):
    rows, cols = np.mgrid[0:64, 0:64]
    clean = 0.15 + 0.7 * (rows / 63.0)
    clean = np.where((rows - 32) ** 2 + (cols - 32) ** 2 < 15**2, 0.9, clean)
    clean_counts = clean * photons
    noisy_counts = np.random.default_rng(11).poisson(clean_counts).astype(float)
    return clean_counts, noisy_counts


def _nlm(image, sigma):
    from skimage.restoration import denoise_nl_means

    return denoise_nl_means(
        image, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=5, fast_mode=True
    )


def check_anscombe_denoise(function) -> bool:
    """Check ``function(counts, gaussian_denoiser) -> counts``: Anscombe, denoise with sigma=1, invert.

    The check first passes an identity "denoiser" that records its input: the
    input must be ``2 * sqrt(counts + 3/8)``, the noise level 1.0, and the
    round trip must give back the counts. Then it runs non-local means and
    compares with the reference pipeline.

    Example
    -------
    >>> def good(counts, gaussian_denoiser):
    ...     stabilised = 2 * np.sqrt(counts + 3 / 8)
    ...     return np.clip((gaussian_denoiser(stabilised, 1.0) / 2) ** 2 - 3 / 8, 0, None)
    >>> check_anscombe_denoise(good)
    ✅ Anscombe denoising: correct.
    True
    """
    name = "Anscombe denoising"
    _clean_counts, noisy_counts = _anscombe_test_counts()
    calls = []

    def identity(image, sigma):
        calls.append((np.array(image, dtype=float, copy=True), sigma))
        return np.asarray(image, dtype=float)

    ok, result = checks.call_student(function, noisy_counts.copy(), identity, name=name)
    if not ok:
        return False
    if len(calls) != 1:
        return checks.feedback(
            False,
            name,
            f"gaussian_denoiser was called {len(calls)} times; expected exactly once.",
            "Transform, call gaussian_denoiser(stabilised, 1.0) once, transform back.",
        )
    seen, sigma = calls[0]
    if seen.shape != noisy_counts.shape or not np.allclose(
        seen, 2 * np.sqrt(noisy_counts + 3 / 8), atol=1e-6
    ):
        return checks.feedback(
            False,
            name,
            "the image given to the denoiser is not the Anscombe transform of the counts.",
            "The forward transform is 2·sqrt(counts + 3/8), element-wise.",
        )
    if not isinstance(sigma, (int, float, np.floating, np.integer)) or not np.isclose(
        float(sigma), 1.0
    ):
        return checks.feedback(
            False,
            name,
            f"the denoiser was told the noise level is {sigma!r}; after the transform it is 1.",
            "Call gaussian_denoiser(stabilised, 1.0).",
        )
    result = np.asarray(result, dtype=float) if result is not None else None
    if result is None or result.shape != noisy_counts.shape:
        shape = None if result is None else result.shape
        return checks.feedback(
            False,
            name,
            f"returned shape {shape}, expected {noisy_counts.shape} (an image of counts).",
        )
    if not np.allclose(result, noisy_counts, atol=1e-6):
        return checks.feedback(
            False,
            name,
            "with a denoiser that changes nothing, the counts do not come back unchanged.",
            "Invert with (a / 2)² − 3/8 and clip negative values to 0.",
        )
    ok, denoised = checks.call_student(function, noisy_counts.copy(), _nlm, name=name)
    if not ok:
        return False
    expected = np.clip((_nlm(2 * np.sqrt(noisy_counts + 3 / 8), 1.0) / 2) ** 2 - 3 / 8, 0, None)
    if np.shape(denoised) != expected.shape or not np.allclose(denoised, expected, atol=1e-6):
        return checks.feedback(
            False,
            name,
            "with a real denoiser the result differs from transform -> denoise(·, 1.0) -> inverse.",
            "Pass the stabilised image itself to gaussian_denoiser and invert its output.",
        )
    return checks.feedback(True, name)
