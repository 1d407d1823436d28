"""Lesson 07's X-ray transmission model: the helper's physics and its refusal of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import noise


def test_transmission_noise_variance_grows_like_exp_a_over_n0():
    for attenuation in [0.0, 1.0, 2.0]:
        noisy = noise.add_transmission_noise(np.full((256, 256), attenuation), 2000.0, rng=3)
        assert noisy.mean() == pytest.approx(attenuation, abs=0.01)
        assert noisy.var() == pytest.approx(np.exp(attenuation) / 2000.0, rel=0.05)


def test_transmission_noise_is_seeded_and_finite_behind_metal():
    a = noise.add_transmission_noise(np.full((8, 8), 30.0), 10.0, rng=1)
    assert np.isfinite(a).all()  # zero counts stored as 0.5
    b = noise.add_transmission_noise(np.full((8, 8), 30.0), 10.0, rng=1)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("attenuation", "photons", "kwargs", "message"),
    [
        (np.full((4, 4), -1.0), 100.0, {}, ">= 0"),
        (np.full((4, 4), np.nan), 100.0, {}, "finite"),
        (np.zeros((0,)), 100.0, {}, "empty"),
        (np.zeros((4, 4)), 0.0, {}, "photons_in_air"),
        (np.zeros((4, 4)), 100.0, {"min_count": 0.0}, "min_count"),
    ],
)
def test_transmission_noise_refuses_bad_input(attenuation, photons, kwargs, message):
    with pytest.raises(ValueError, match=message):
        noise.add_transmission_noise(attenuation, photons, rng=0, **kwargs)
