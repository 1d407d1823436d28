"""Checks for ``07_denoising``: PSNR, transmission noise, MAD σ, least squares, median, Anscombe.

Each check runs the student's function on test data (its own, or the
lesson's crops passed in), compares with a reference computed the same way,
prints specific feedback without revealing the expected values, and returns
a boolean.
"""

from __future__ import annotations

import numpy as np

from course_utils import checks

__all__ = [
    "check_psnr",
    "check_transmission_noise",
    "check_noise_sigma",
    "check_best_median_size",
    "check_anscombe_denoise",
    "check_least_squares_filter",
]


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


def _short(value) -> str:
    """A number as a student would write it (no ``np.float64(...)`` wrapper)."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return repr(value)


def _direction(value: float, expected: float) -> str:
    return "too high" if value > expected else "too low"


def check_psnr(function) -> bool:
    """Check ``function(reference, test, data_range) -> float`` against the PSNR definition.

    Cases: float images in [0, 1]; 8-bit images (``uint8`` subtraction wraps
    around unless converted); a data range of 2; identical images (must give
    ``inf``). The feedback names the likely mistake: the image's maximum used
    as the peak, a fixed range instead of ``data_range``, uint8 wrap-around,
    10 vs 20 log10; it gives the direction of the error, never the value.

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
    cases = _psnr_cases()
    for label, reference, test, data_range in cases:
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

    def same(value, expected):
        return bool(np.isclose(value, expected, rtol=1e-6))

    for label, reference, test, data_range in cases:
        value, expected = results[label], _reference_psnr(reference, test, data_range)
        if same(value, expected):
            continue
        as_float = (np.asarray(reference, float), np.asarray(test, float))
        if same(value, _reference_psnr(*as_float, float(as_float[0].max()))) or same(
            value, _reference_psnr(*as_float, float(np.ptp(as_float[0])))
        ):
            return checks.feedback(
                False,
                name,
                f"for {label} your value is {_direction(value, expected)}: it matches a peak taken from "
                "the image's own values (its maximum or its span).",
                "PSNR's peak is the span of the image format, which the caller passes as data_range; "
                "an image rarely reaches the top of its format.",
            )
        if any(
            same(value, _reference_psnr(*as_float, fixed))
            for fixed in (1.0, 255.0)
            if fixed != data_range
        ):
            return checks.feedback(
                False,
                name,
                f"for {label} your value is {_direction(value, expected)}: it matches a fixed peak of "
                "1 or 255 instead of the data_range argument.",
                "Use the data_range argument (squared) rather than a fixed number.",
            )
        if same(value, 10 * np.log10(data_range / np.mean((as_float[0] - as_float[1]) ** 2))):
            return checks.feedback(
                False,
                name,
                f"for {label} your value is {_direction(value, expected)}: data_range is not squared.",
                "PSNR compares the squared peak with the mean squared error: data_range² / MSE.",
            )
        if np.isclose(value, 2 * expected, rtol=1e-3) or np.isclose(value, expected / 2, rtol=1e-3):
            return checks.feedback(
                False,
                name,
                f"for {label} your value is off by a factor of 2.",
                "PSNR = 10·log10(data_range² / MSE) = 20·log10(data_range / RMSE); mix the two and the factor appears.",
            )
        if reference.dtype == np.uint8:
            with np.errstate(all="ignore"):
                wrapped = np.mean((reference - test) ** 2)
                wrapped_squares = np.mean(((reference - test) ** 2).astype(float))
            if any(
                same(value, 10 * np.log10(data_range**2 / w))
                for w in (wrapped, wrapped_squares)
                if w > 0
            ):
                return checks.feedback(
                    False,
                    name,
                    f"correct for float images but not for {label}: the squared error is wrong.",
                    "uint8 arithmetic wraps around (np.uint8(0) - np.uint8(10) is 246): convert to float "
                    "before subtracting.",
                )
        return checks.feedback(
            False,
            name,
            f"for {label} your value is {_direction(value, expected)}: it differs from "
            "10·log10(data_range² / MSE).",
            "Use the mean of the squared differences (MSE) over all pixels, in floating point.",
        )
    rng = np.random.default_rng(8)
    same_image = rng.random((16, 16))
    with np.errstate(all="ignore"):
        ok, value = checks.call_student(function, same_image, same_image.copy(), 1.0, name=name)
    if not ok:
        return False
    if value is None or np.ndim(value) != 0 or not np.isinf(float(value)) or float(value) < 0:
        return checks.feedback(
            False,
            name,
            f"identical images gave {_short(value)}; expected inf (the MSE is 0).",
            "Test for a zero MSE before dividing.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- transmission noise
def _transmission_reference(attenuation, photons, seed, floor=0.5):
    counts = np.random.default_rng(seed).poisson(photons * np.exp(-attenuation))
    return counts, -np.log(np.maximum(counts, floor) / photons)


def _check_zero_counts(function, name) -> bool:
    """Second stage: material that stops nearly every photon (the count is 0 almost everywhere)."""
    photons = 50.0
    zero_case = np.full((8, 8), 12.0)  # e^-12 * 50 photons: nearly every count is 0
    ok, result = checks.call_student(
        function, zero_case, photons, np.random.default_rng(1), name=name
    )
    if not ok:
        return False
    counts, expected = _transmission_reference(zero_case, photons, 1)
    result = np.asarray(result, dtype=float)
    if result.shape != zero_case.shape:
        return checks.feedback(
            False, name, f"behind very dense material it returned shape {result.shape}."
        )
    if not np.all(np.isfinite(result)):
        return checks.feedback(
            False,
            name,
            "behind very dense material the count is 0 and your image holds infinite values.",
            "The log of 0 is infinite: a detector pixel that counted no photon is stored as if it "
            "counted 0.5 (as the course's generator does).",
        )
    zero = counts == 0
    if np.allclose(result[zero], expected[zero], rtol=1e-6, atol=1e-9):
        return checks.feedback(True, name)
    if np.allclose(result[zero], 0.0, atol=1e-6):
        return checks.feedback(
            False,
            name,
            "pixels that counted no photon come out as attenuation 0: dense metal would look like air.",
            "Replacing an infinite value by 0 (np.nan_to_num) hides the problem; store a zero count "
            "as if it were 0.5 photons before taking the log.",
        )
    return checks.feedback(
        False,
        name,
        "behind very dense material (zero counts) your values are finite but not those of a count "
        "of 0.5.",
        "Store a pixel that counted no photon as if it had counted 0.5, then take the log as usual.",
    )


def check_transmission_noise(function) -> bool:
    """Check ``function(attenuation, photons_in_air, rng) -> noisy attenuation``.

    The reference draws ``counts = rng.poisson(N0 * exp(-A))`` once with the
    given generator and returns ``-log(max(counts, 0.5) / N0)``. Named
    mistakes: photons proportional to the attenuation (brightness taken as
    counts), counts returned without the log, the sign of the log, N0 left
    out of the log, a base-10 log, a floor added to every count (``counts + 1``,
    ``counts + 0.5``), the exponent's sign flipped (``N0 * exp(+A)``), photons
    in air drawn and attenuated afterwards (``Poisson(N0) * exp(-A)``), noise
    not drawn with the given ``rng``, and zero counts
    giving infinite values or attenuation 0 (``np.nan_to_num``).

    Example
    -------
    >>> def good(attenuation, photons_in_air, rng):
    ...     counts = rng.poisson(photons_in_air * np.exp(-attenuation))
    ...     return -np.log(np.maximum(counts, 0.5) / photons_in_air)
    >>> check_transmission_noise(good)
    ✅ transmission noise: correct.
    True
    """
    name = "transmission noise"
    attenuation = np.tile(np.linspace(0.0, 3.0, 48), (32, 1))
    photons, seed = 2000.0, 123
    ok, result = checks.call_student(
        function, attenuation.copy(), photons, np.random.default_rng(seed), name=name
    )
    if not ok:
        return False
    counts, expected = _transmission_reference(attenuation, photons, seed)
    result = None if result is None else np.asarray(result, dtype=float)
    if result is None or result.shape != attenuation.shape:
        shape = None if result is None else result.shape
        return checks.feedback(
            False, name, f"returned shape {shape}; expected an image shaped like the attenuation."
        )

    def close(candidate):
        with np.errstate(all="ignore"):
            return bool(np.allclose(result, candidate, rtol=1e-6, atol=1e-9))

    if close(expected):
        return _check_zero_counts(function, name)
    brightness_counts = np.random.default_rng(seed).poisson(photons * attenuation)
    if close(brightness_counts / photons) or close(brightness_counts):
        return checks.feedback(
            False,
            name,
            "your photon counts grow with the attenuation: that is the 'brightness = counts' model.",
            "Dense tissue stops photons: the expected count behind attenuation A is N0·exp(−A) (Beer–Lambert).",
        )
    if close(counts) or close(counts / photons):
        return checks.feedback(
            False,
            name,
            "you returned the counts; a radiograph shows the attenuation computed from them.",
            "Turn the counts back into attenuation with a logarithm, relative to the photons in air.",
        )
    with np.errstate(divide="ignore"):
        if close(-expected):
            return checks.feedback(
                False,
                name,
                "the sign is wrong: air must come out as 0 and bone as positive values.",
            )
        if close(-np.log(np.maximum(counts, 0.5))) or close(np.log(np.maximum(counts, 0.5))):
            return checks.feedback(
                False,
                name,
                "the values are shifted by a constant: the log is not taken relative to N0.",
                "Air (no attenuation) receives about N0 photons and must come out near 0.",
            )
        if close(expected / np.log(10)):
            return checks.feedback(
                False,
                name,
                "every value is the right one divided by ln 10 (2.30): that is a base-10 logarithm.",
                "Attenuation is defined with the natural logarithm (Beer–Lambert: N = N0·e^−A): "
                "use np.log.",
            )
    implied = photons * np.exp(-np.clip(result, -50, 50))
    growing = np.random.default_rng(seed).poisson(photons * np.exp(attenuation))
    if np.allclose(implied, np.maximum(growing, 0.5), rtol=1e-6) or close(
        np.log(np.maximum(growing, 0.5) / photons)
    ):
        return checks.feedback(
            False,
            name,
            "your expected count grows with the attenuation: the sign in the exponent is flipped.",
            "Dense tissue stops photons: Beer–Lambert is N0·e^−A, fewer photons behind more tissue.",
        )
    in_air = implied * np.exp(attenuation)  # the count before attenuating, if scaled afterwards
    if (
        not np.allclose(implied, np.round(implied), atol=1e-6)
        and np.allclose(in_air, np.round(in_air), rtol=1e-6, atol=1e-6)
        and np.ptp(in_air) > 0
    ):
        return checks.feedback(
            False,
            name,
            "your counts are whole numbers of photons in air scaled by e^−A afterwards, so they are "
            "not whole counts behind the tissue.",
            "Draw the count behind the tissue, Poisson(N0·e^−A), not the photons in air scaled "
            "afterwards: the noise of a count depends on how many photons arrive.",
        )
    shift = implied - counts
    if np.ptp(shift) < 1e-6 and abs(float(np.mean(shift))) > 1e-6:
        return checks.feedback(
            False,
            name,
            f"your counts are the drawn ones plus {float(np.mean(shift)):g} in every pixel: the floor "
            "that avoids log(0) is applied to every pixel, not only to those that counted nothing.",
            "Keep the counts as drawn and replace only the zero counts (np.maximum does that).",
        )
    if not np.allclose(implied, np.round(implied), atol=1e-6):
        return checks.feedback(
            False,
            name,
            "your image is not the log of whole photon counts (Gaussian noise instead of Poisson?).",
            "Draw the counts themselves with rng.poisson, then take the log.",
        )
    return checks.feedback(
        False,
        name,
        "whole counts, but not those the given generator draws.",
        "Use the rng argument (rng.poisson, called once on the whole image of expected counts), not "
        "np.random or a new generator.",
    )


# --------------------------------------------------------------------------- noise sigma (MAD)
def _haar_mad_sigma(image) -> float:
    image = np.asarray(image, dtype=float)
    image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
    diagonal = (image[0::2, 0::2] - image[0::2, 1::2] - image[1::2, 0::2] + image[1::2, 1::2]) / 2
    return float(np.median(np.abs(diagonal)) / 0.6745)


def _sigma_cases():
    rng = np.random.default_rng(21)
    sigma = 0.05
    flat = 0.5 + sigma * rng.standard_normal((128, 128))
    rows, cols = np.mgrid[0:128, 0:128]
    edges = 0.2 + 0.6 * ((rows // 9 + cols // 7) % 2)  # a checkerboard of sharp edges
    structured = edges + sigma * rng.standard_normal((128, 128))
    return sigma, flat, structured


def _sigma_extra_cases(sigma):
    """Noise on an odd-sized image, and noise over a planar ramp with both slopes non-zero."""
    rng = np.random.default_rng(22)
    odd = 0.5 + sigma * rng.standard_normal((97, 95))
    rows, cols = np.mgrid[0:128, 0:128]
    ramp = 0.1 + sigma * (1.5 * rows + cols) + sigma * rng.standard_normal((128, 128))
    return odd, ramp


def check_noise_sigma(function) -> bool:
    """Check ``function(image) -> sigma``: the MAD of the finest diagonal detail / 0.6745.

    Run on pure white noise of a known σ, on the same noise over an
    image full of sharp edges, on an odd-sized image and over a smooth ramp. A right estimator lands close to σ on both;
    the feedback names the usual mistakes (no 0.6745, a standard deviation
    instead of a median, the Haar coefficient not divided by 2, signed values).

    Example
    -------
    >>> check_noise_sigma(_haar_mad_sigma)
    ✅ noise σ (MAD): correct.
    True
    """
    name = "noise σ (MAD)"
    sigma, flat, structured = _sigma_cases()
    values = []
    for image in (flat, structured):
        ok, value = checks.call_student(function, image.copy(), name=name)
        if not ok:
            return False
        if value is None or np.ndim(value) != 0:
            return checks.feedback(
                False, name, f"returned {type(value).__name__}; expected one number."
            )
        values.append(float(value))
    on_noise, on_edges = values
    neighbour = [np.median(np.abs(np.diff(flat, axis=axis))) / 0.6745 for axis in (0, 1)] + [
        np.std(np.diff(flat, axis=axis)) for axis in (0, 1)
    ]
    if any(np.isclose(on_noise, value, rtol=0.01) for value in neighbour):
        return checks.feedback(
            False,
            name,
            "on pure noise your estimate is too high by about √2: it matches a difference of two "
            "neighbouring pixels.",
            "a − b of two noise values has variance 2σ², and it does not cancel a ramp; use the "
            "diagonal detail of each 2 × 2 block, (a − b − c + d) / 2.",
        )
    if abs(on_noise) < 0.2 * sigma:
        return checks.feedback(
            False,
            name,
            "on pure noise your estimate is close to 0.",
            "The median of signed coefficients is near 0: take the median of their absolute values.",
        )
    if np.isclose(on_noise, 0.6745 * sigma, rtol=0.08):
        return checks.feedback(
            False,
            name,
            "on pure noise your estimate is too low by a constant factor.",
            "For Gaussian noise the median of |n| is 0.6745 σ: divide the median by 0.6745.",
        )
    if np.isclose(on_noise, 2 * sigma, rtol=0.08) or np.isclose(
        on_noise, 2 * 0.6745 * sigma, rtol=0.025
    ):
        return checks.feedback(
            False,
            name,
            "on pure noise your estimate is too high by a factor of about 2.",
            "a − b − c + d of four noise values has variance 4σ²: divide the diagonal coefficient by 2.",
        )
    if not np.isclose(on_noise, sigma, rtol=0.08):
        return checks.feedback(
            False,
            name,
            f"on pure white noise your estimate is {_direction(on_noise, sigma)}.",
            "Build the finest diagonal detail from each 2 × 2 block, (a − b − c + d) / 2, then median(|·|) / 0.6745.",
        )
    if not np.isclose(on_edges, sigma, rtol=0.15):
        return checks.feedback(
            False,
            name,
            f"right on pure noise but {_direction(on_edges, sigma)} on an image with sharp edges.",
            "The few large coefficients at edges pull a standard deviation up; the median of |coefficients| "
            "ignores them, and the diagonal detail of a 2 × 2 block cancels smooth image content.",
        )
    odd, ramp = _sigma_extra_cases(sigma)
    try:
        on_odd = float(function(odd.copy()))
    except Exception as exc:  # the student's code failed on an odd size
        return checks.feedback(
            False,
            name,
            f"on a {odd.shape[0]} × {odd.shape[1]} image (odd sizes) it raised {type(exc).__name__}.",
            "The 2 × 2 blocks need an even number of rows and columns: drop a last odd row or column first.",
        )
    if not np.isclose(on_odd, sigma, rtol=0.08):
        return checks.feedback(
            False,
            name,
            f"right on a 128 × 128 image but {_direction(on_odd, sigma)} on a {odd.shape[0]} × "
            f"{odd.shape[1]} one.",
            "Drop a last odd row or column, so that every 2 × 2 block lies inside the image.",
        )
    ok, on_ramp = checks.call_student(function, ramp.copy(), name=name)
    if not ok:
        return False
    if not np.isclose(float(on_ramp), sigma, rtol=0.08):
        return checks.feedback(
            False,
            name,
            f"right on pure noise but {_direction(float(on_ramp), sigma)} on noise over a smooth ramp "
            "(the image rising both along the rows and along the columns).",
            "A horizontal or vertical detail, (a + b − c − d) / 2, keeps the ramp's slope; only the diagonal "
            "detail (a − b − c + d) / 2 cancels a ramp in both directions.",
        )
    return checks.feedback(True, name)


def _median_psnrs(noisy_images, clean_images, size) -> np.ndarray:
    from scipy import ndimage

    return np.array(
        [
            _reference_psnr(clean, ndimage.median_filter(noisy, size=size), 1.0)
            for noisy, clean in zip(noisy_images, clean_images, strict=True)
        ]
    )


def _worst_crop_best(noisy_images, clean_images, sizes, statistic=np.min):
    """The size whose per-image PSNRs have the largest ``statistic`` (min: the worst image)."""
    scores = [statistic(_median_psnrs(noisy_images, clean_images, size)) for size in sizes]
    return sizes[int(np.argmax(scores))]


def _discriminating_case():
    """Two images on which the best mean and the best worst-image window differ.

    A step edge under heavy salt-and-pepper noise (30 %) wants a wide window; a fine
    texture under light noise (1 %) wants the smallest.
    """
    from course_utils import noise

    rows, cols = np.mgrid[0:48, 0:48]
    edge = 0.3 + 0.4 * (rows > 24)
    texture = 0.5 + 0.3 * np.sin(cols / 4.0) * np.sin(rows / 4.0)
    # The worst (heavily corrupted) image comes second, so scoring only the first image fails.
    noisy = [noise.add_salt_pepper(texture, 0.01, rng=2), noise.add_salt_pepper(edge, 0.3, rng=1)]
    return noisy, [texture, edge]


def check_best_median_size(function, noisy_sets: dict, clean_images, sizes=(3, 5, 7, 9)) -> bool:
    """Check ``function(noisy_images, clean_images, sizes) -> size``: the safest median window.

    The function must return the window size whose median filter gives the
    highest **worst-image** PSNR (the minimum over the image pairs). The check
    first runs it on two images where the best mean and the best worst image
    disagree, then on every noise level of ``noisy_sets``. The feedback names
    the mean (or the best image) used instead of the worst, and argmin used instead of
    argmax.

    Parameters
    ----------
    function : callable
        The student's ``safest_median_size``.
    noisy_sets : dict
        Noise level -> list of noisy images (same order as ``clean_images``).
    clean_images : list of numpy.ndarray
        The references.
    sizes : sequence of int
        Candidate window sizes.

    Example
    -------
    >>> clean = [np.tile(np.linspace(0, 1, 32), (32, 1))]
    >>> noisy = {0.1: [np.where(np.random.default_rng(0).random((32, 32)) < 0.1, 1.0, clean[0])]}
    >>> check_best_median_size(_worst_crop_best, noisy, clean, sizes=[3, 5])
    ✅ best median window: correct. Safest sizes by level: {0.1: 3}.
    True
    """
    name = "best median window"
    sizes = list(sizes)
    if not noisy_sets:
        raise ValueError("noisy_sets is empty; expected {noise level: list of noisy images}")
    cases = [("two test images", *_discriminating_case(), [5, 7, 9])] + [
        (f"level {level}", list(noisy_images), list(clean_images), sizes)
        for level, noisy_images in noisy_sets.items()
    ]
    chosen = {}
    for (label, noisy_images, clean_list, candidates), level in zip(
        cases, [None, *noisy_sets], strict=True
    ):
        ok, answer = checks.call_student(
            function, list(noisy_images), list(clean_list), list(candidates), name=name
        )
        if not ok:
            return False
        if isinstance(answer, (bool, np.bool_)) or np.ndim(answer) != 0 or answer not in candidates:
            return checks.feedback(
                False,
                name,
                f"for the {label} it returned {answer!r}, which is not one of the candidate sizes "
                f"{candidates}.",
                "Return the window size itself, not its score or its index.",
            )
        best = _worst_crop_best(noisy_images, clean_list, candidates)
        if answer != best:
            on_average = {
                _worst_crop_best(noisy_images, clean_list, candidates, np.mean),
                _worst_crop_best(noisy_images, clean_list, candidates, np.max),
            }
            if answer in on_average:
                return checks.feedback(
                    False,
                    name,
                    f"for the {label} size {answer} is the best on average (or on the easiest "
                    "image), not on the worst one.",
                    "The safest size is judged by the image it serves worst: which reduction "
                    "over the images gives that?",
                )
            lowest = {
                _worst_crop_best(noisy_images, clean_list, candidates, lambda p: -np.min(p)),
                _worst_crop_best(noisy_images, clean_list, candidates, lambda p: -np.mean(p)),
            }
            if answer in lowest:
                return checks.feedback(
                    False,
                    name,
                    f"for the {label} you chose size {answer}, whose PSNR is the *lowest*: "
                    "argmin where argmax belongs.",
                    "A higher PSNR is better: which size should you pick from the scores?",
                )
            return checks.feedback(
                False,
                name,
                f"for the {label} size {answer} does not give the highest worst-image PSNR.",
                "Which reduction over the images describes the worst one, and is a higher PSNR "
                "better or worse?",
            )
        if level is not None:
            chosen[level] = int(answer)
    return checks.feedback(True, name, f"Safest sizes by level: {chosen}.")


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


def _exact_unbiased_inverse(stabilised):
    """Closed-form approximation of the exact unbiased inverse (Mäkitalo & Foi 2011)."""
    d = np.maximum(np.asarray(stabilised, dtype=float), 1e-3)
    counts = (
        d**2 / 4 + np.sqrt(1.5) / (4 * d) - 11 / (8 * d**2) + 5 * np.sqrt(1.5) / (8 * d**3) - 1 / 8
    )
    return np.where(d < 2 * np.sqrt(3 / 8), 0.0, np.maximum(counts, 0.0))


def _inverses():
    return {
        "algebraic": lambda d: np.clip((d / 2) ** 2 - 3 / 8, 0, None),
        "asymptotic unbiased": lambda d: np.clip(d**2 / 4 - 1 / 8, 0, None),
        "exact unbiased": _exact_unbiased_inverse,
    }


def _undershooting_denoiser(image, sigma):
    """An unsharp mask: like a linear filter with negative weights (or BM3D) near an edge, its
    output can dip below the transform of 0 counts, 2·sqrt(3/8)."""
    from scipy import ndimage

    image = np.asarray(image, dtype=float)
    return image + 0.5 * (image - ndimage.gaussian_filter(image, 1.0))


def _low_counts():
    cols = np.mgrid[0:64, 0:64][1]
    return np.random.default_rng(12).poisson(np.where(cols < 32, 0.3, 2.0)).astype(float)


def _check_low_counts(function, name, inverse, inverse_name) -> bool:
    """At a fraction of a photon per pixel the inverse goes negative unless clipped."""
    counts = _low_counts()
    ok, result = checks.call_student(function, counts.copy(), _undershooting_denoiser, name=name)
    if not ok:
        return False
    result = np.asarray(result, dtype=float) if result is not None else None
    if result is None or result.shape != counts.shape:
        return checks.feedback(False, name, "with very low counts the result is not a count image.")
    if result.min() < 0:
        return checks.feedback(
            False,
            name,
            "right at a dozen counts, but at a fraction of a photon per pixel, with a denoiser whose "
            "output dips below the transform of 0 counts, the result has negative counts.",
            "A count cannot be negative: clip the inverse at 0.",
        )
    expected = inverse(_undershooting_denoiser(2 * np.sqrt(counts + 3 / 8), 1.0))
    if not np.allclose(result, expected, atol=1e-6):
        return checks.feedback(
            False,
            name,
            "right at a dozen counts but not at a fraction of a photon per pixel.",
            "Apply the same transform -> denoise(·, 1.0) -> inverse -> clip at 0 to every image.",
        )
    return checks.feedback(True, name, f"You used the {inverse_name} inverse.")


def _inverse_misses_factor_two(result, stabilised) -> bool:
    """True when the result is a scaled inverse, α·a² + β with α far from 1/4 (a² − 3/8, 4·(…))."""
    design = np.column_stack([stabilised.ravel() ** 2, np.ones(stabilised.size)])
    (alpha, beta), *_ = np.linalg.lstsq(design, result.ravel(), rcond=None)
    fitted = design @ np.array([alpha, beta])
    exact_fit = np.allclose(
        fitted, result.ravel(), atol=1e-3 * max(1.0, float(np.abs(result).max()))
    )
    return bool(exact_fit and not np.isclose(alpha, 0.25, rtol=0.05))


def check_anscombe_denoise(function) -> bool:
    """Check ``function(counts, gaussian_denoiser) -> counts``: Anscombe, denoise with sigma=1, invert.

    The check first passes an identity "denoiser" that records its input: the
    input must be ``2 * sqrt(counts + 3/8)`` and the noise level 1.0. Then it
    runs non-local means and compares with the reference pipeline. Three
    inverses are accepted: the algebraic ``(a / 2)² − 3/8`` (biased at low
    counts), the asymptotically unbiased ``a² / 4 − 1/8`` and the exact
    unbiased inverse of Mäkitalo & Foi (closed-form approximation), each with
    negative counts clipped to 0. A last run at a fraction of a photon per pixel,
    with a denoiser that undershoots (an unsharp mask), checks that clip.

    Example
    -------
    >>> def good(counts, gaussian_denoiser):
    ...     stabilised = 2 * np.sqrt(counts + 3 / 8)
    ...     return np.clip((gaussian_denoiser(stabilised, 1.0) / 2) ** 2 - 3 / 8, 0, None)
    >>> check_anscombe_denoise(good)
    ✅ Anscombe denoising: correct. You used the algebraic inverse.
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
            f"the denoiser was told the noise level is {_short(sigma)}; after the transform it is 1.",
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
    ok, denoised = checks.call_student(function, noisy_counts.copy(), _nlm, name=name)
    if not ok:
        return False
    denoised = np.asarray(denoised, dtype=float)
    stabilised = _nlm(2 * np.sqrt(noisy_counts + 3 / 8), 1.0)
    if denoised.shape != stabilised.shape:
        return checks.feedback(
            False, name, f"returned shape {denoised.shape} with a real denoiser."
        )
    for inverse_name, inverse in _inverses().items():
        if np.allclose(denoised, inverse(stabilised), atol=1e-6):
            return _check_low_counts(function, name, inverse, inverse_name)
    for inverse in _inverses().values():
        shift = denoised - inverse(stabilised)
        if np.ptp(shift) < 1e-6 and abs(float(shift.mean())) > 1e-6:
            return checks.feedback(
                False,
                name,
                f"the counts come back {'too high' if shift.mean() > 0 else 'too low'} by a constant.",
                "Undo every step of the forward transform, the + 3/8 included, and no more.",
            )
    if _inverse_misses_factor_two(denoised, stabilised):
        return checks.feedback(
            False,
            name,
            "the inverse does not undo the factor 2 of the forward transform.",
            "Solve a = 2·sqrt(k + 3/8) for k step by step: divide by 2 before squaring.",
        )
    if denoised.min() < 0:
        return checks.feedback(
            False,
            name,
            "the result has negative counts.",
            "A count cannot be negative: clip the inverse at 0.",
        )
    return checks.feedback(
        False,
        name,
        "with a real denoiser the result differs from transform -> denoise(·, 1.0) -> inverse.",
        "Pass the stabilised image itself to gaussian_denoiser and invert its output.",
    )


# --------------------------------------------------------------------------- least-squares filter
def _ridge_reference(patches, targets, ridge, penalise_offset=False):
    """Weights and offset minimising sum (t - w.p - b)^2 + ridge |w|^2 (offset free by default)."""
    design = np.column_stack([patches, np.ones(len(targets))])
    penalty = ridge * np.eye(design.shape[1])
    if not penalise_offset:
        penalty[-1, -1] = 0.0
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ targets)
    return solution[:-1], float(solution[-1])


def _least_squares_cases():
    """(label, patches, targets, ridge): a well-posed case, then one where the ridge matters."""
    rng = np.random.default_rng(31)
    true_weights = rng.normal(0.1, 0.05, 9)
    patches = 0.5 + 0.2 * rng.standard_normal((400, 9))
    targets = patches @ true_weights + 0.3 + 0.01 * rng.standard_normal(400)
    few = 0.5 + 0.05 * rng.standard_normal((30, 9))
    few_targets = few @ true_weights + 0.3 + 0.02 * rng.standard_normal(30)
    return [
        ("400 patches of 9 pixels, ridge = 0", patches, targets, 0.0),
        ("30 patches, ridge = 0.5", few, few_targets, 0.5),
    ]


def check_least_squares_filter(function) -> bool:
    """Check ``function(patches, targets, ridge) -> (weights, offset)``, a ridge least-squares fit.

    The fit minimises sum_j (t_j - w . p_j - b)^2 + ridge |w|^2, the offset b
    not penalised. Run on a well-posed case without ridge and on few, similar
    patches where the ridge changes the answer. The feedback names the usual
    mistakes: no offset column, the ridge ignored or also put on the offset,
    the offset left inside the weight vector.

    Example
    -------
    >>> check_least_squares_filter(_ridge_reference)
    ✅ least-squares filter: correct.
    True
    """
    name = "least-squares filter"
    for label, patches, targets, ridge in _least_squares_cases():
        ok, result = checks.call_student(function, patches.copy(), targets.copy(), ridge, name=name)
        if not ok:
            return False
        if not isinstance(result, tuple) or len(result) != 2:
            return checks.feedback(
                False,
                name,
                f"returned {type(result).__name__}; expected a pair (weights, offset).",
                "return the weight vector and the offset separately: return weights, offset.",
            )
        weights, offset = result
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (patches.shape[1],):
            extra = (
                " (one more than the pixels of a patch: is the offset still in it?)"
                if weights.size == patches.shape[1] + 1
                else ""
            )
            return checks.feedback(
                False,
                name,
                f"the weights have shape {weights.shape}, expected one weight per patch pixel"
                f" ({patches.shape[1]}){extra}.",
                "solve for k² weights plus one offset, then split the solution: s[:-1], s[-1].",
            )
        if offset is None or np.ndim(offset) != 0:
            return checks.feedback(False, name, "the offset must be one number.")
        offset = float(offset)
        expected_w, expected_b = _ridge_reference(patches, targets, ridge)
        if np.allclose(weights, expected_w, atol=1e-6) and np.isclose(
            offset, expected_b, atol=1e-6
        ):
            continue
        no_offset = np.linalg.lstsq(patches, targets, rcond=None)[0]
        if abs(offset) < 1e-9 or np.allclose(weights, no_offset, atol=1e-4):
            return checks.feedback(
                False,
                name,
                f"on {label} your offset is 0 (or your weights fit without one), but the targets "
                "have a constant part the weights cannot supply.",
                "add a column of ones to the patch matrix; its coefficient is the offset.",
            )
        if ridge > 0:
            plain_w, plain_b = _ridge_reference(patches, targets, 0.0)
            if np.allclose(weights, plain_w, atol=1e-4) and np.isclose(offset, plain_b, atol=1e-4):
                return checks.feedback(
                    False,
                    name,
                    f"right with ridge = 0, but on {label} your weights are the unregularised ones.",
                    "add ridge × identity to DᵀD (the normal equations) before solving.",
                )
            both_w, both_b = _ridge_reference(patches, targets, ridge, penalise_offset=True)
            if np.allclose(weights, both_w, atol=1e-4) and np.isclose(offset, both_b, atol=1e-4):
                return checks.feedback(
                    False,
                    name,
                    f"on {label} your ridge also shrinks the offset.",
                    "the penalty is ridge |w|², on the weights only: leave the diagonal entry of "
                    "the offset's column at 0.",
                )
        return checks.feedback(
            False,
            name,
            f"on {label} your weights or offset differ from the least-squares solution.",
            "build D = [patches, ones], then solve (DᵀD + ridge·P) s = Dᵀt, where P is the "
            "identity with a 0 for the offset.",
        )
    return checks.feedback(True, name)
