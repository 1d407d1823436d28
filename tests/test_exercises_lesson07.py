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


def good_best_median(noisy_images, clean_images, sizes):
    scores = [
        np.mean(
            [
                metrics.psnr(c, ndimage.median_filter(n, size=s), data_range=1.0)
                for n, c in zip(noisy_images, clean_images, strict=True)
            ]
        )
        for s in sizes
    ]
    return sizes[int(np.argmax(scores))]


def test_median_right_answer(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data
    assert lesson07.check_best_median_size(good_best_median, sets, clean, sizes=[3, 5, 7]) is True
    assert "Best sizes by level" in capsys.readouterr().out


def test_median_argmin_is_wrong(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data

    def argmin(noisy_images, clean_images, sizes):
        scores = [
            np.mean(
                [
                    metrics.psnr(c, ndimage.median_filter(n, size=s), data_range=1.0)
                    for n, c in zip(noisy_images, clean_images, strict=True)
                ]
            )
            for s in sizes
        ]
        return sizes[int(np.argmin(scores))]

    assert lesson07.check_best_median_size(argmin, sets, clean, sizes=[3, 5, 7]) is False
    assert "highest mean PSNR" in capsys.readouterr().out


def test_median_returning_index_or_score(salt_pepper_data, capsys):
    sets, clean = salt_pepper_data
    assert lesson07.check_best_median_size(lambda n, c, s: 0, sets, clean, sizes=[3, 5, 7]) is False
    assert "not one of the candidate sizes" in capsys.readouterr().out
    assert (
        lesson07.check_best_median_size(lambda n, c, s: 31.5, sets, clean, sizes=[3, 5, 7]) is False
    )
    assert "not one of the candidate sizes" in capsys.readouterr().out


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
        return gaussian_denoiser(2.0 * np.sqrt(counts + 3.0 / 8.0), 1.0)

    assert lesson07.check_anscombe_denoise(no_inverse) is False
    assert "(a / 2)² − 3/8" in capsys.readouterr().out


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
