"""Checks of lesson 07: right answers pass, typical wrong answers fail with specific feedback."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from course_utils import metrics
from course_utils.exercises import lesson07


# --------------------------------------------------------------------------- PSNR
def good_psnr(reference, test, data_range):
    error = np.mean((np.asarray(reference, dtype=float) - np.asarray(test, dtype=float)) ** 2)
    return np.inf if error == 0 else 10 * np.log10(data_range**2 / error)


def test_psnr_right_answer(capsys):
    assert lesson07.check_psnr(good_psnr) is True
    assert "✅" in capsys.readouterr().out


def test_psnr_uint8_wraparound(capsys):
    def wraps(reference, test, data_range):
        error = np.mean((reference - test) ** 2)  # uint8 subtraction wraps
        return np.inf if error == 0 else 10 * np.log10(data_range**2 / error)

    assert lesson07.check_psnr(wraps) is False
    assert "convert to float" in capsys.readouterr().out


def test_psnr_factor_two(capsys):
    def rmse_with_10(reference, test, data_range):
        rmse = np.sqrt(np.mean((np.asarray(reference, float) - np.asarray(test, float)) ** 2))
        return np.inf if rmse == 0 else 10 * np.log10(data_range / rmse)

    assert lesson07.check_psnr(rmse_with_10) is False
    assert "factor of 2" in capsys.readouterr().out


def test_psnr_fixed_range(capsys):
    def fixed(reference, test, data_range):
        return good_psnr(reference, test, 255 if np.asarray(reference).dtype == np.uint8 else 1.0)

    assert lesson07.check_psnr(fixed) is False
    assert "data_range" in capsys.readouterr().out


def test_psnr_identical_images_must_be_inf(capsys):
    def no_guard(reference, test, data_range):
        error = np.mean((np.asarray(reference, float) - np.asarray(test, float)) ** 2)
        return 0.0 if error == 0 else 10 * np.log10(data_range**2 / error)

    assert lesson07.check_psnr(no_guard) is False
    assert "inf" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [None, "not a function"])
def test_psnr_missing_answer(answer, capsys):
    assert lesson07.check_psnr(answer) is False
    assert "❌" in capsys.readouterr().out


def test_psnr_stub(capsys):
    def stub(reference, test, data_range):
        raise NotImplementedError

    assert lesson07.check_psnr(stub) is False
    assert "not implemented yet" in capsys.readouterr().out


def test_psnr_returning_none(capsys):
    assert lesson07.check_psnr(lambda reference, test, data_range: None) is False
    assert "one number" in capsys.readouterr().out


# --------------------------------------------------------------------------- median size
@pytest.fixture(scope="module")
def salt_pepper_data():
    from course_utils import noise

    rows, cols = np.mgrid[0:48, 0:48]
    clean = [0.2 + 0.6 * (rows > 20), 0.5 + 0.3 * np.sin(cols / 5.0)]
    clean = [np.clip(c, 0, 1) for c in clean]
    sets = {
        level: [noise.add_salt_pepper(c, level, rng=i) for i, c in enumerate(clean)]
        for level in (0.05, 0.3)
    }
    return sets, clean


def per_image_psnr(noisy_images, clean_images, size):
    return [
        metrics.psnr(c, ndimage.median_filter(n, size=size), data_range=1.0)
        for n, c in zip(noisy_images, clean_images, strict=True)
    ]


def good_best_median(noisy_images, clean_images, sizes):
    worst = [np.min(per_image_psnr(noisy_images, clean_images, s)) for s in sizes]
    return sizes[int(np.argmax(worst))]


def test_median_right_answer(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data
    assert lesson07.check_best_median_size(good_best_median, sets, clean, sizes=[3, 5, 7]) is True
    assert "Safest sizes by level" in capsys.readouterr().out


@pytest.mark.parametrize("statistic", [np.mean, np.max, np.median])
def test_median_mean_or_best_image_is_named(statistic, salt_pepper_data, capsys):
    """The copy of the lesson's tuning (mean), the easiest image (max) and the median over images."""
    sets, clean = salt_pepper_data

    def on_average(noisy_images, clean_images, sizes):
        values = [statistic(per_image_psnr(noisy_images, clean_images, s)) for s in sizes]
        return sizes[int(np.argmax(values))]

    assert lesson07.check_best_median_size(on_average, sets, clean, sizes=[3, 5, 7]) is False
    out = capsys.readouterr().out
    assert "not on the worst one" in out and "Safest" not in out


def test_median_argmin_is_wrong(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data

    def argmin(noisy_images, clean_images, sizes):
        worst = [np.min(per_image_psnr(noisy_images, clean_images, s)) for s in sizes]
        return sizes[int(np.argmin(worst))]

    assert lesson07.check_best_median_size(argmin, sets, clean, sizes=[3, 5, 7]) is False
    out = capsys.readouterr().out
    assert "argmin where argmax belongs" in out and "Safest" not in out
    # the hint points at the idea, not the algorithm
    assert "keep the minimum over the images" not in out


def test_median_argmin_of_the_mean_is_named(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data

    def argmin_mean(noisy_images, clean_images, sizes):
        mean = [np.mean(per_image_psnr(noisy_images, clean_images, s)) for s in sizes]
        return sizes[int(np.argmin(mean))]

    assert lesson07.check_best_median_size(argmin_mean, sets, clean, sizes=[3, 5, 7]) is False
    assert "argmin where argmax belongs" in capsys.readouterr().out


def test_median_returning_index_or_score(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data
    assert lesson07.check_best_median_size(lambda n, c, s: 0, sets, clean, sizes=[3, 5, 7]) is False
    assert "not one of the candidate sizes" in capsys.readouterr().out
    assert (
        lesson07.check_best_median_size(lambda n, c, s: 31.5, sets, clean, sizes=[3, 5, 7]) is False
    )
    assert "not one of the candidate sizes" in capsys.readouterr().out


def test_median_first_image_only_is_wrong(salt_pepper_data, capsys):
    """Scoring only the first image (review 4, finding 3) must not pass."""
    sets, clean = salt_pepper_data

    def first_only(noisy_images, clean_images, sizes):
        scores = [
            metrics.psnr(
                clean_images[0], ndimage.median_filter(noisy_images[0], size=s), data_range=1.0
            )
            for s in sizes
        ]
        return sizes[int(np.argmax(scores))]

    assert lesson07.check_best_median_size(first_only, sets, clean, sizes=[3, 5, 7]) is False
    out = capsys.readouterr().out
    assert "worst" in out


def test_median_stub_and_empty(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data

    def stub(noisy_images, clean_images, sizes):
        raise NotImplementedError

    assert lesson07.check_best_median_size(stub, sets, clean) is False
    assert "not implemented yet" in capsys.readouterr().out
    with pytest.raises(ValueError, match="noisy_sets is empty"):
        lesson07.check_best_median_size(good_best_median, {}, clean)


# --------------------------------------------------------------------------- Anscombe
def good_anscombe(counts, gaussian_denoiser):
    stabilised = 2.0 * np.sqrt(np.asarray(counts, dtype=float) + 3.0 / 8.0)
    return np.clip((gaussian_denoiser(stabilised, 1.0) / 2.0) ** 2 - 3.0 / 8.0, 0, None)


def test_anscombe_right_answer(capsys):
    assert lesson07.check_anscombe_denoise(good_anscombe) is True
    assert "✅" in capsys.readouterr().out


def test_anscombe_without_transform(capsys):
    def naive(counts, gaussian_denoiser):
        return gaussian_denoiser(counts, 1.0)

    assert lesson07.check_anscombe_denoise(naive) is False
    assert "not the Anscombe transform" in capsys.readouterr().out


def test_anscombe_wrong_sigma(capsys):
    def wrong_sigma(counts, gaussian_denoiser):
        stabilised = 2.0 * np.sqrt(counts + 3.0 / 8.0)
        return np.clip(
            (gaussian_denoiser(stabilised, np.std(stabilised)) / 2.0) ** 2 - 3.0 / 8.0, 0, None
        )

    assert lesson07.check_anscombe_denoise(wrong_sigma) is False
    assert "noise level" in capsys.readouterr().out


def test_anscombe_missing_inverse(capsys):
    def no_inverse(counts, gaussian_denoiser):
        return gaussian_denoiser(2 * np.sqrt(counts + 3 / 8), 1.0)

    assert lesson07.check_anscombe_denoise(no_inverse) is False
    assert "differs from transform" in capsys.readouterr().out


def test_anscombe_exact_unbiased_inverse_accepted(capsys):
    def exact(counts, gaussian_denoiser):
        d = gaussian_denoiser(2 * np.sqrt(counts + 3 / 8), 1.0)
        inverse = (
            d**2 / 4
            + np.sqrt(1.5) / (4 * d)
            - 11 / (8 * d**2)
            + 5 * np.sqrt(1.5) / (8 * d**3)
            - 1 / 8
        )
        return np.where(d < 2 * np.sqrt(3 / 8), 0.0, np.maximum(inverse, 0))

    assert lesson07.check_anscombe_denoise(exact) is True
    assert "exact unbiased" in capsys.readouterr().out


def test_anscombe_inverse_without_three_eighths(capsys):
    def forgot(counts, gaussian_denoiser):
        return (gaussian_denoiser(2 * np.sqrt(counts + 3 / 8), 1.0) / 2) ** 2

    assert lesson07.check_anscombe_denoise(forgot) is False
    assert "too high by a constant" in capsys.readouterr().out

    def twice(counts, gaussian_denoiser):
        return np.clip(
            (gaussian_denoiser(2 * np.sqrt(counts + 3 / 8), 1.0) / 2) ** 2 - 3 / 4, 0, None
        )

    assert lesson07.check_anscombe_denoise(twice) is False
    assert "too low by a constant" in capsys.readouterr().out


def test_anscombe_denoiser_called_twice(capsys):
    def twice(counts, gaussian_denoiser):
        stabilised = 2.0 * np.sqrt(counts + 3.0 / 8.0)
        once = gaussian_denoiser(stabilised, 1.0)
        return np.clip((gaussian_denoiser(once, 1.0) / 2.0) ** 2 - 3.0 / 8.0, 0, None)

    assert lesson07.check_anscombe_denoise(twice) is False
    assert "exactly once" in capsys.readouterr().out


def test_anscombe_stub_and_none(capsys):
    def stub(counts, gaussian_denoiser):
        raise NotImplementedError

    assert lesson07.check_anscombe_denoise(stub) is False
    assert "not implemented yet" in capsys.readouterr().out

    def returns_none(counts, gaussian_denoiser):
        gaussian_denoiser(2.0 * np.sqrt(counts + 3.0 / 8.0), 1.0)

    assert lesson07.check_anscombe_denoise(returns_none) is False
    assert "shape None" in capsys.readouterr().out


# --------------------------------------------------------------------------- PSNR: named mistakes
def test_psnr_image_max_as_peak(capsys):
    def image_peak(reference, test, data_range):
        return good_psnr(reference, test, float(np.max(reference)))

    assert lesson07.check_psnr(image_peak) is False
    out = capsys.readouterr().out
    assert "image's own values" in out and "%" not in out


def test_psnr_fixed_one_is_not_called_wraparound(capsys):
    def fixed_one(reference, test, data_range):
        return good_psnr(reference, test, 1.0)

    assert lesson07.check_psnr(fixed_one) is False
    out = capsys.readouterr().out
    assert "fixed peak" in out and "wraps" not in out


# --------------------------------------------------------------------------- transmission noise
def good_transmission(attenuation, photons_in_air, rng):
    counts = rng.poisson(photons_in_air * np.exp(-attenuation))
    return -np.log(np.maximum(counts, 0.5) / photons_in_air)


def test_transmission_right_answer(capsys):
    assert lesson07.check_transmission_noise(good_transmission) is True
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda a, n0, rng: rng.poisson(n0 * a) / n0, "brightness = counts"),
        (lambda a, n0, rng: rng.poisson(n0 * np.exp(-a)) / n0, "returned the counts"),
        (lambda a, n0, rng: np.log(np.maximum(rng.poisson(n0 * np.exp(-a)), 0.5) / n0), "sign"),
        (
            lambda a, n0, rng: -np.log(np.maximum(rng.poisson(n0 * np.exp(-a)), 0.5)),
            "relative to N0",
        ),
        (lambda a, n0, rng: a + rng.normal(0, np.sqrt(np.exp(a) / n0)), "Gaussian noise instead"),
        (
            lambda a, n0, rng: good_transmission(a, n0, np.random.default_rng(99)),
            "Use the rng argument",
        ),
        (
            lambda a, n0, rng: -np.log(np.maximum(rng.poisson(n0 * np.exp(+a)), 0.5) / n0),
            "grows with the attenuation: the sign in the exponent",
        ),
        (
            lambda a, n0, rng: (
                -np.log(np.maximum(rng.poisson(n0, size=a.shape) * np.exp(-a), 0.5) / n0)
            ),
            "photons in air scaled by e^−A afterwards",
        ),
        (
            lambda a, n0, rng: (
                -np.log(np.maximum(rng.poisson(np.full(a.shape, n0)) * np.exp(-a), 0.5) / n0)
            ),
            "photons in air scaled by e^−A afterwards",
        ),
    ],
)
def test_transmission_wrong_answers(wrong, message, capsys):
    assert lesson07.check_transmission_noise(wrong) is False
    assert message in capsys.readouterr().out


def test_transmission_zero_counts(capsys):
    def no_floor(attenuation, photons_in_air, rng):
        with np.errstate(divide="ignore"):
            return -np.log(rng.poisson(photons_in_air * np.exp(-attenuation)) / photons_in_air)

    assert lesson07.check_transmission_noise(no_floor) is False
    assert "infinite" in capsys.readouterr().out


def draw(a, n0, rng):
    return rng.poisson(n0 * np.exp(-a))


@pytest.mark.parametrize(
    ("wrong", "message", "not_in"),
    [
        (lambda a, n0, rng: -np.log((draw(a, n0, rng) + 1) / n0), "plus 1 in every pixel", "rng"),
        (
            lambda a, n0, rng: -np.log((draw(a, n0, rng) + 0.5) / n0),
            "plus 0.5 in every pixel",
            "Gaussian",
        ),
        (
            lambda a, n0, rng: -np.log10(np.maximum(draw(a, n0, rng), 0.5) / n0),
            "base-10",
            "Gaussian",
        ),
    ],
)
def test_transmission_floor_and_log_base_named(wrong, message, not_in, capsys):
    assert lesson07.check_transmission_noise(wrong) is False
    out = capsys.readouterr().out
    assert message in out and not_in not in out


def test_transmission_nan_to_num_zero_is_caught(capsys):
    def zero_as_air(attenuation, photons_in_air, rng):
        with np.errstate(divide="ignore"):
            values = -np.log(draw(attenuation, photons_in_air, rng) / photons_in_air)
        return np.nan_to_num(values, posinf=0)

    assert lesson07.check_transmission_noise(zero_as_air) is False
    assert "look like air" in capsys.readouterr().out


def test_transmission_other_floor_is_caught(capsys):
    def floor_one(attenuation, photons_in_air, rng):
        return -np.log(np.maximum(draw(attenuation, photons_in_air, rng), 1) / photons_in_air)

    assert lesson07.check_transmission_noise(floor_one) is False
    assert "count of 0.5" in capsys.readouterr().out


def test_transmission_helper_matches_the_check(capsys):
    from course_utils import noise

    assert lesson07.check_transmission_noise(
        lambda a, n0, rng: noise.add_transmission_noise(a, n0, rng=rng)
    )


# --------------------------------------------------------------------------- noise sigma
def haar(image):
    image = np.asarray(image, float)
    image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
    d = (image[0::2, 0::2] - image[0::2, 1::2] - image[1::2, 0::2] + image[1::2, 1::2]) / 2
    return np.median(np.abs(d)) / 0.6745


def test_sigma_right_answers(capsys):
    assert lesson07.check_noise_sigma(haar) is True
    assert (
        lesson07.check_noise_sigma(metrics.estimate_noise_sigma) is True
    )  # the wavelet helper too


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda im: haar(im) * 0.6745, "divide the median by 0.6745"),
        (lambda im: haar(im) * 2, "factor of about 2"),
        (
            lambda im: (
                np.median((im[0::2, 0::2] - im[0::2, 1::2] - im[1::2, 0::2] + im[1::2, 1::2]) / 2)
                / 0.6745
            ),
            "absolute values",
        ),
        (
            lambda im: np.std(
                (im[0::2, 0::2] - im[0::2, 1::2] - im[1::2, 0::2] + im[1::2, 1::2]) / 2
            ),
            "sharp edges",
        ),
        (lambda im: np.std(im), "sharp edges"),
    ],
)
def test_sigma_wrong_answers(wrong, message, capsys):
    assert lesson07.check_noise_sigma(wrong) is False
    assert message in capsys.readouterr().out


def test_psnr_data_range_not_squared_is_named(capsys):
    def not_squared(reference, test, data_range):
        error = np.mean((np.asarray(reference, float) - np.asarray(test, float)) ** 2)
        return np.inf if error == 0 else 10 * np.log10(data_range / error)

    assert lesson07.check_psnr(not_squared) is False
    out = capsys.readouterr().out
    assert "not squared" in out and "than 10" not in out


def test_anscombe_sigma_message_prints_a_plain_number(capsys):
    def estimated_sigma(counts, gaussian_denoiser):
        stabilised = 2.0 * np.sqrt(np.asarray(counts, float) + 3.0 / 8.0)
        denoised = gaussian_denoiser(stabilised, np.float64(1.5832559503106969))
        return np.clip((denoised / 2.0) ** 2 - 3.0 / 8.0, 0, None)

    assert lesson07.check_anscombe_denoise(estimated_sigma) is False
    out = capsys.readouterr().out
    assert "1.583" in out and "np.float64" not in out


# --------------------------------------------------------------------------- review fixes: named mistakes
def test_anscombe_missing_clip_is_caught_at_low_counts(capsys):
    def no_clip(counts, gaussian_denoiser):
        stabilised = 2.0 * np.sqrt(np.asarray(counts, dtype=float) + 3.0 / 8.0)
        return (gaussian_denoiser(stabilised, 1.0) / 2.0) ** 2 - 3.0 / 8.0

    assert lesson07.check_anscombe_denoise(no_clip) is False
    out = capsys.readouterr().out
    assert "negative counts" in out and "clip" in out


@pytest.mark.parametrize(
    "inverse",
    [
        lambda d: np.clip(d**2 - 3 / 8, 0, None),  # forgot the /2
        lambda d: np.clip(4 * ((d / 2) ** 2 - 3 / 8), 0, None),  # multiplied where it should divide
        lambda d: np.clip(d**2 / 2 - 3 / 8, 0, None),  # divided d² by 2, not by 4
    ],
)
def test_anscombe_inverse_without_factor_two_is_named(inverse, capsys):
    def wrong(counts, gaussian_denoiser):
        return inverse(gaussian_denoiser(2.0 * np.sqrt(np.asarray(counts, float) + 3 / 8), 1.0))

    assert lesson07.check_anscombe_denoise(wrong) is False
    out = capsys.readouterr().out
    assert "factor 2" in out and "stabilised image itself" not in out


def test_anscombe_all_accepted_inverses_pass_the_low_count_case(capsys):
    def asymptotic(counts, gaussian_denoiser):
        d = gaussian_denoiser(2.0 * np.sqrt(np.asarray(counts, float) + 3 / 8), 1.0)
        return np.clip(d**2 / 4 - 1 / 8, 0, None)

    assert lesson07.check_anscombe_denoise(asymptotic) is True
    assert "asymptotic unbiased" in capsys.readouterr().out


@pytest.mark.parametrize("axis", [0, 1])
def test_sigma_neighbour_difference_is_named(axis, capsys):
    def neighbour(image):
        return np.median(np.abs(np.diff(np.asarray(image, float), axis=axis))) / 0.6745

    assert lesson07.check_noise_sigma(neighbour) is False
    out = capsys.readouterr().out
    assert "neighbouring pixels" in out and "divide the diagonal coefficient by 2" not in out


def test_sigma_neighbour_difference_std_is_named(capsys):
    assert lesson07.check_noise_sigma(lambda im: np.std(np.diff(im, axis=1))) is False
    assert "neighbouring pixels" in capsys.readouterr().out


def test_psnr_identical_feedback_prints_a_plain_number(capsys):
    def no_guard(reference, test, data_range):
        error = np.mean((np.asarray(reference, float) - np.asarray(test, float)) ** 2)
        return np.float64(120.0) if error == 0 else 10 * np.log10(data_range**2 / error)

    assert lesson07.check_psnr(no_guard) is False
    out = capsys.readouterr().out
    assert "120" in out and "np.float64" not in out


def _blocks(image, drop=True):
    image = np.asarray(image, dtype=float)
    if drop:
        image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
    return image[0::2, 0::2], image[0::2, 1::2], image[1::2, 0::2], image[1::2, 1::2]


def test_sigma_no_odd_row_dropped_is_named(capsys):
    def no_drop(image):
        a, b, c, d = _blocks(image, drop=False)
        return np.median(np.abs(a - b - c + d) / 2) / 0.6745

    assert lesson07.check_noise_sigma(no_drop) is False
    out = capsys.readouterr().out
    assert "odd" in out and "drop a last odd row or column" in out


@pytest.mark.parametrize("detail", ["horizontal", "vertical"])
def test_sigma_horizontal_or_vertical_detail_is_named(detail, capsys):
    def one_direction(image):
        a, b, c, d = _blocks(image)
        coefficient = (a + b - c - d) if detail == "horizontal" else (a - b + c - d)
        return np.median(np.abs(coefficient / 2)) / 0.6745

    assert lesson07.check_noise_sigma(one_direction) is False
    out = capsys.readouterr().out
    assert "ramp" in out or "sharp edges" in out


# --------------------------------------------------------------------------- least-squares filter
def good_least_squares(patches, targets, ridge):
    design = np.column_stack([patches, np.ones(len(targets))])
    penalty = ridge * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ targets)
    return solution[:-1], solution[-1]


def test_least_squares_right_answers(capsys):
    from sklearn.linear_model import Ridge

    def library(patches, targets, ridge):
        model = Ridge(alpha=ridge).fit(patches, targets)
        return model.coef_, model.intercept_

    assert lesson07.check_least_squares_filter(good_least_squares) is True
    assert lesson07.check_least_squares_filter(library) is True
    assert capsys.readouterr().out.count("✅") == 2


def _no_offset(patches, targets, ridge):
    gram = patches.T @ patches + ridge * np.eye(patches.shape[1])
    return np.linalg.solve(gram, patches.T @ targets), 0.0


def _offset_penalised(patches, targets, ridge):
    design = np.column_stack([patches, np.ones(len(targets))])
    solution = np.linalg.solve(
        design.T @ design + ridge * np.eye(design.shape[1]), design.T @ targets
    )
    return solution[:-1], solution[-1]


def _offset_inside(patches, targets, ridge):
    design = np.column_stack([patches, np.ones(len(targets))])
    solution = np.linalg.lstsq(design, targets, rcond=None)[0]
    return solution, solution[-1]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_no_offset, "column of ones"),
        (lambda p, t, r: good_least_squares(p, t, 0.0), "unregularised"),
        (_offset_penalised, "shrinks the offset"),
        (_offset_inside, "offset still in it"),
        (lambda p, t, r: np.zeros(p.shape[1]), "pair (weights, offset)"),
        (lambda p, t, r: good_least_squares(p, t, r**2), "differ from the least-squares"),
    ],
)
def test_least_squares_wrong_answers(wrong, message, capsys):
    assert lesson07.check_least_squares_filter(wrong) is False
    assert message in capsys.readouterr().out


def test_least_squares_stub(capsys):
    def stub(patches, targets, ridge):
        raise NotImplementedError

    assert lesson07.check_least_squares_filter(stub) is False
    assert "not implemented yet" in capsys.readouterr().out
