"""Checks of lesson 09: right answers pass, typical wrong answers fail with specific feedback."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import ndimage

from course_utils.exercises import lesson09
from course_utils.exercises.lesson09 import _reference_mi, _resample, _rigid, _rotation


# --------------------------------------------------------------------------- rigid matrix
def test_rigid_right_answer(capsys):
    assert lesson09.check_rigid_matrix(_rigid) is True
    assert "✅" in capsys.readouterr().out


def test_rigid_radians(capsys):
    assert lesson09.check_rigid_matrix(lambda a, t, c: _rigid(a, t, c, radians=True)) is False
    assert "radians" in capsys.readouterr().out


def test_rigid_about_origin(capsys):
    assert lesson09.check_rigid_matrix(lambda a, t, c: _rigid(a, t, (0, 0, 0))) is False
    assert "about the origin" in capsys.readouterr().out


def test_rigid_inverse_rotation(capsys):
    def transposed(a, t, c):
        m = _rigid(a, t, c)
        m[:3, :3] = m[:3, :3].T
        return m

    assert lesson09.check_rigid_matrix(transposed) is False
    assert "other way" in capsys.readouterr().out


def test_rigid_other_order(capsys):
    def xyz(a, t, c):
        m = np.eye(4)
        m[:3, :3] = _rotation(a, order="xyz")
        m[:3, 3] = np.asarray(c) + np.asarray(t) - m[:3, :3] @ np.asarray(c)
        return m

    assert lesson09.check_rigid_matrix(xyz) is False
    assert "order" in capsys.readouterr().out


def test_rigid_stub_and_shape(capsys):
    def stub(a, t, c):
        raise NotImplementedError

    assert lesson09.check_rigid_matrix(stub) is False
    assert "not implemented yet" in capsys.readouterr().out
    assert lesson09.check_rigid_matrix(lambda a, t, c: np.eye(3)) is False
    assert "(4, 4)" in capsys.readouterr().out


# --------------------------------------------------------------------------- resampling
def test_resample_right_answer(capsys):
    assert lesson09.check_resample_to_grid(_resample) is True
    assert "✅" in capsys.readouterr().out


def test_resample_wrong_way_round(capsys):
    def wrong(moving, moving_affine, shape, fixed_affine, order=1):
        m = np.linalg.inv(fixed_affine) @ moving_affine
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        values = ndimage.map_coordinates(moving, m[:3, :3] @ grid + m[:3, 3:], order=order)
        return values.reshape(shape)

    assert lesson09.check_resample_to_grid(wrong) is False
    assert "wrong way round" in capsys.readouterr().out


def test_resample_drops_translation(capsys):
    def no_shift(moving, moving_affine, shape, fixed_affine, order=1):
        m = np.linalg.inv(moving_affine) @ fixed_affine
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        return ndimage.map_coordinates(moving, m[:3, :3] @ grid, order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(no_shift) is False
    assert "translation column" in capsys.readouterr().out


def test_resample_ignores_affines(capsys):
    def indices_only(moving, moving_affine, shape, fixed_affine, order=1):
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        return ndimage.map_coordinates(moving, grid, order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(indices_only) is False
    assert "affines are ignored" in capsys.readouterr().out


def test_resample_nearest_and_shape(capsys):
    def nearest(moving, moving_affine, shape, fixed_affine, order=1):
        return _resample(moving, moving_affine, shape, fixed_affine, 0)

    assert lesson09.check_resample_to_grid(nearest) is False
    assert "order" in capsys.readouterr().out
    assert lesson09.check_resample_to_grid(lambda m, ma, s, fa, order=1: m) is False
    assert "shape" in capsys.readouterr().out


def _mapped(moving, moving_affine, shape, fixed_affine):
    m = np.linalg.inv(moving_affine) @ fixed_affine
    grid = np.indices(shape, dtype=float).reshape(3, -1)
    return m[:3, :3] @ grid + m[:3, 3:]


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        ({}, "order=3"),  # order not passed: map_coordinates defaults to cubic
        ({"order": 1, "mode": "nearest"}, "mode='nearest'"),
        ({"order": 1, "cval": np.nan}, "cval=nan"),
    ],
)
def test_resample_order_mode_cval(keywords, expected, capsys):
    def wrong(moving, moving_affine, shape, fixed_affine, order=1):
        coords = _mapped(moving, moving_affine, shape, fixed_affine)
        return ndimage.map_coordinates(moving, coords, **keywords).reshape(shape)

    assert lesson09.check_resample_to_grid(wrong) is False
    assert expected in capsys.readouterr().out


def test_resample_reversed_axes(capsys):
    def reversed_rows(moving, moving_affine, shape, fixed_affine, order=1):
        coords = _mapped(moving, moving_affine, shape, fixed_affine)[::-1]
        return ndimage.map_coordinates(moving, coords, order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(reversed_rows) is False
    assert "reversed order" in capsys.readouterr().out


# --------------------------------------------------------------------------- mutual information
def test_mi_right_answer(capsys):
    assert lesson09.check_mutual_information(_reference_mi) is True
    assert "✅" in capsys.readouterr().out


def test_mi_nan_from_empty_bins(capsys):
    def all_bins(a, b, bins=32):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        p = joint / joint.sum()
        return float(np.sum(p * np.log(p / np.outer(p.sum(1), p.sum(0)))))

    assert lesson09.check_mutual_information(all_bins) is False
    assert "0 · log 0" in capsys.readouterr().out


def test_mi_in_bits(capsys):
    assert (
        lesson09.check_mutual_information(
            lambda a, b, bins=32: _reference_mi(a, b, bins) / np.log(2)
        )
        is False
    )
    assert "bits" in capsys.readouterr().out


def test_mi_joint_entropy(capsys):
    def joint_entropy(a, b, bins=32):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        p = joint[joint > 0] / joint.sum()
        return float(-np.sum(p * np.log(p)))

    assert lesson09.check_mutual_information(joint_entropy) is False
    assert "joint entropy" in capsys.readouterr().out


def test_mi_counts_not_normalised(capsys):
    def counts(a, b, bins=32):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        pa, pb = joint.sum(1), joint.sum(0)
        nz = joint > 0
        return float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz] * joint.sum())))

    assert lesson09.check_mutual_information(counts) is False
    assert "probabilities" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [None, "not a function"])
def test_mi_missing_answer(answer, capsys):
    assert lesson09.check_mutual_information(answer) is False
    assert "❌" in capsys.readouterr().out


# --------------------------------------------------------------------------- registration
@pytest.fixture(autouse=True)
def _three_voxel_margin(monkeypatch):
    # the small test blob has 4 mm voxels: a 12 mm margin is the 3 voxels that 6 mm is on the
    # lesson's 2 mm template (with 6 mm the samples hold too little outline and Powell stalls)
    monkeypatch.setattr(lesson09, "MARGIN_MM", 12.0)


@pytest.fixture(scope="module")
def small_brain():
    """A smooth blob volume at 4 mm standing in for the template (fast)."""
    rng = np.random.default_rng(0)
    volume = ndimage.gaussian_filter(rng.random((40, 44, 38)), 2.5)
    index = np.indices(volume.shape) - (np.array(volume.shape) / 2)[:, None, None, None]
    inside = (index[0] / 16) ** 2 + (index[1] / 18) ** 2 + (index[2] / 15) ** 2 < 1
    volume = np.where(inside, (volume - volume.min()) / np.ptp(volume), 0.0)
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [-80, -88, -76]
    centre = np.zeros(3)
    box = np.array(
        [[sx * 30, sy * 35, sz * 25] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    )
    return volume, affine, centre, box


def _reference_register(fixed, moving, affine, centre_mm):
    return lesson09.fallback_register_rigid(fixed, moving, affine, centre_mm, (12.0, 8.0, 4.0))


def test_registration_right_answer(small_brain, capsys):
    assert lesson09.check_registration(_reference_register, *small_brain) is True
    assert "✅" in capsys.readouterr().out


def test_registration_inverse(small_brain, capsys):
    def inverse(*args):
        return np.linalg.inv(_reference_register(*args))

    assert lesson09.check_registration(inverse, *small_brain) is False
    assert "inverse" in capsys.readouterr().out


def test_registration_translation_in_voxels(small_brain, capsys):
    def voxels(fixed, moving, affine, centre_mm):
        found = _reference_register(fixed, moving, affine, centre_mm)
        shift = found[:3, 3] - (np.eye(3) - found[:3, :3]) @ centre_mm
        found[:3, 3] = shift / 4.0 + (np.eye(3) - found[:3, :3]) @ centre_mm
        return found

    assert lesson09.check_registration(voxels, *small_brain) is False
    assert "translations in voxels" in capsys.readouterr().out


def test_registration_identity_is_stuck(small_brain, capsys):
    assert lesson09.check_registration(lambda *args: np.eye(4), *small_brain) is False
    assert "did not move from the start" in capsys.readouterr().out


def test_registration_sign_error_moves_away(small_brain, capsys):
    # what minimising +similarity does: it runs away from alignment, out of the brain
    def away(fixed, moving, affine, centre_mm):
        return _rigid((0.0, 0.0, 25.0), (40.0, -30.0, 20.0), centre_mm)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the similarity
        assert lesson09.check_registration(away, *small_brain) is False
    assert "-similarity" in capsys.readouterr().out


def test_ncc_without_overlap_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lesson09._ncc(np.arange(5.0), np.zeros(5)) == 0.0


def test_rigid_one_axis_the_wrong_way(capsys):
    def ry_swapped(angles_deg, translation_mm, centre_mm):
        ax, ay, az = angles_deg
        matrix = _rigid(angles_deg, translation_mm, centre_mm)
        ry = _rotation((0.0, ay, 0.0))
        wrong = _rotation((0.0, 0.0, az)) @ ry.T @ _rotation((ax, 0.0, 0.0))
        matrix[:3, :3] = wrong
        matrix[:3, 3] = centre_mm + np.asarray(translation_mm) - wrong @ centre_mm
        return matrix

    assert lesson09.check_rigid_matrix(ry_swapped) is False
    out = capsys.readouterr().out
    assert "about y turns the wrong way" in out


def test_resample_points_as_rows(capsys):
    # coordinates of shape (N, 3): map_coordinates raises, the check names the (3, N) convention
    def rows(moving, moving_affine, shape, fixed_affine, order=1):
        coords = _mapped(moving, moving_affine, shape, fixed_affine).T
        return ndimage.map_coordinates(moving, coords, order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(rows) is False
    out = capsys.readouterr().out
    assert "(3, N)" in out
    assert "RuntimeError" not in out


def test_resample_mm_first(capsys):
    def mm_first(moving, moving_affine, shape, fixed_affine, order=1):
        m = moving_affine @ np.linalg.inv(fixed_affine)
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        return ndimage.map_coordinates(moving, m[:3, :3] @ grid + m[:3, 3:], order=order).reshape(
            shape
        )

    assert lesson09.check_resample_to_grid(mm_first) is False
    assert "moving_affine @ inv(fixed_affine)" in capsys.readouterr().out


def test_resample_other_errors_still_reported(capsys):
    def broken(moving, moving_affine, shape, fixed_affine, order=1):
        raise RuntimeError("something else")

    assert lesson09.check_resample_to_grid(broken) is False
    assert "raised RuntimeError: something else" in capsys.readouterr().out


def _mi_with(product):
    def mi(a, b, bins=32):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        p = joint / joint.sum()
        q = product(p.sum(axis=1), p.sum(axis=0))
        nz = (p > 0) & (q > 0)
        return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))

    return mi


def test_mi_inverted_ratio(capsys):
    def inverted(a, b, bins=32):
        return -_reference_mi(a, b, bins)  # sum p log(p_a p_b / p)

    assert lesson09.check_mutual_information(inverted) is False
    out = capsys.readouterr().out
    assert "negative" in out
    assert "p(a, b) / (p(a) p(b))" in out


def test_mi_swapped_marginals(capsys):
    swapped = _mi_with(lambda pa, pb: np.outer(pb, pa))
    assert lesson09.check_mutual_information(swapped) is False
    assert "transposed" in capsys.readouterr().out


def test_mi_right_answer_written_with_outer(capsys):
    assert lesson09.check_mutual_information(_mi_with(np.outer)) is True
    assert "✅" in capsys.readouterr().out


def test_fallback_handles_anisotropic_voxels_and_mask(small_brain):
    # thick slices along axis 0 and a noisy background: per-axis sigma and stride, Otsu mask
    volume, affine, centre, box = small_brain
    thick = volume[::2]
    thick_affine = affine @ np.diag([2.0, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(5)
    motion = _rigid((4.0, -3.0, 5.0), (6.0, -4.0, 3.0), centre)
    moving = _resample(thick, thick_affine, thick.shape, thick_affine, 1, np.linalg.inv(motion))
    fixed = thick + 0.02 * rng.standard_normal(thick.shape)
    moving = moving + 0.02 * rng.standard_normal(thick.shape)
    found = lesson09.fallback_register_rigid(fixed, moving, thick_affine, centre, (12.0, 8.0))
    points = np.c_[centre + box, np.ones(len(box))]
    tre = np.linalg.norm((points @ (found - motion).T)[:, :3], axis=1)
    assert tre.mean() < 2.0


def test_resample_inverse_forgotten(capsys):
    def no_inverse(moving, moving_affine, shape, fixed_affine, order=1):
        m = moving_affine @ fixed_affine
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        return ndimage.map_coordinates(moving, m[:3, :3] @ grid + m[:3, 3:], order=order).reshape(
            shape
        )

    assert lesson09.check_resample_to_grid(no_inverse) is False
    assert "you need its inverse" in capsys.readouterr().out


def _raw_counts_mi(a, b, bins=32):
    # the whole formula in counts: N (MI - log N), negative
    joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(joint.sum(1), joint.sum(0))[nz])))


def _counts_in_log_mi(a, b, bins=32):
    # probabilities as weights, counts inside the logarithm: MI - log N
    joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
    p, nz = joint / joint.sum(), joint > 0
    return float(np.sum(p[nz] * np.log(joint[nz] / np.outer(joint.sum(1), joint.sum(0))[nz])))


@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        (_raw_counts_mi, "not divided by their total"),
        (_counts_in_log_mi, "inside the logarithm is in counts"),
    ],
)
def test_mi_counts_named_not_inverted(wrong, expected, capsys):
    assert lesson09.check_mutual_information(wrong) is False
    out = capsys.readouterr().out
    assert expected in out
    assert "upside down" not in out


# --------------------------------------------------------------------------- registration: pyramid
def _variant_register(
    scalar_sigma=False, scalar_stride=False, one_level=False, scalar_margin=False, mean=False
):
    """Exercise 4 written with one of its likely mistakes (one voxel size from affine[0, 0])."""

    def register(
        fixed, moving, affine, centre_mm, levels_mm=(12.0, 8.0, 4.0), similarity=None, mask=None
    ):
        from scipy import optimize
        from skimage.filters import threshold_otsu

        similarity = lesson09._ncc if similarity is None else similarity
        voxel = np.linalg.norm(affine[:3, :3], axis=0)
        one = np.full(3, voxel.mean() if mean else abs(affine[0, 0]))
        to_index = np.linalg.inv(affine)
        margin_voxel = one if scalar_margin else voxel
        grown = lesson09.grow_mask_mm(
            fixed > threshold_otsu(fixed), lesson09.MARGIN_MM, margin_voxel
        )
        p = np.zeros(6)
        for level in levels_mm[-1:] if one_level else levels_mm:
            sigma_voxel = one if scalar_sigma else voxel
            sigma = np.where(level > sigma_voxel, 0.5 * level / sigma_voxel, 0.0)
            fixed_level = ndimage.gaussian_filter(fixed, sigma)
            moving_level = ndimage.gaussian_filter(moving, sigma)
            step = np.maximum(2, np.rint(level / (one if scalar_stride else voxel))).astype(int)
            index = lesson09.sample_grid(fixed.shape, step)
            index = index[:, grown[tuple(index)]].astype(float)
            fixed_values = ndimage.map_coordinates(fixed_level, index, order=1)
            points = affine[:3, :3] @ index + affine[:3, 3:]

            def cost(q, points=points, fixed_values=fixed_values, moving_level=moving_level):
                t = to_index @ _rigid(q[:3], q[3:], centre_mm)
                values = ndimage.map_coordinates(
                    moving_level, t[:3, :3] @ points + t[:3, 3:], order=1
                )
                return -similarity(fixed_values, values)

            p = optimize.minimize(cost, p, method="Powell", options={"xtol": 1e-2, "ftol": 1e-6}).x
        return _rigid(p[:3], p[3:], centre_mm)

    return register


def test_registration_variant_right_answer(small_brain, capsys):
    # the same code without a mistake passes: the level diagnosis does not reject a right answer
    assert lesson09.check_registration(_variant_register(), *small_brain) is True
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mistake", "expected", "passes"),
    [
        # accurate on this test case, so they pass, but the feedback names the mistake (a
        # single level far off fails: test_registration_one_level_and_far_off_fails)
        ({"one_level": True}, "no coarse level", True),
        ({"scalar_sigma": True, "scalar_stride": True}, "sigma and stride of the coarsest", True),
        ({"scalar_sigma": True}, "but sigma of the coarsest level", True),
        ({"scalar_stride": True}, "but the stride of the coarsest level", True),
        # the natural form of the mistake: abs(affine[0, 0]) for sigma, stride and margin alike
        (
            {"scalar_sigma": True, "scalar_stride": True, "scalar_margin": True},
            "sigma, the stride and the mask margin of the coarsest level are set from one voxel",
            True,
        ),
        (
            {"scalar_sigma": True, "scalar_stride": True, "scalar_margin": True, "mean": True},
            "sigma, the stride and the mask margin of the coarsest level are set from one voxel",
            True,
        ),
    ],
)
def test_registration_pyramid_mistakes(mistake, expected, passes, small_brain, capsys):
    result = lesson09.check_registration(_variant_register(**mistake), *small_brain)
    assert result is passes
    out = capsys.readouterr().out
    assert expected in out
    assert "per axis" in out or "coarse to fine" in out


def test_registration_one_level_and_far_off_fails(small_brain, capsys):
    def stuck(fixed, moving, affine, centre_mm, levels_mm=(12.0, 8.0, 4.0), similarity=None):
        values = np.linspace(0.0, 1.0, 50)
        for k in range(12):  # one set of fixed samples only, and the start returned
            similarity(values, values + 0.01 * k)
        return np.eye(4)

    assert lesson09.check_registration(stuck, *small_brain) is False
    assert "no coarse level" in capsys.readouterr().out


def test_mi_bins_ignored(capsys):
    def default_bins(a, b, bins=32):
        return _reference_mi(a, b, 10)  # np.histogram2d's own default

    assert lesson09.check_mutual_information(default_bins) is False
    out = capsys.readouterr().out
    assert "`bins` argument" in out and "Marginals" not in out


def test_mi_without_ravel(capsys):
    def no_ravel(a, b, bins=32):
        joint, _, _ = np.histogram2d(a, b, bins=bins)  # fails on 2-D images
        p = joint / joint.sum()
        nz = p > 0
        return float(np.sum(p[nz] * np.log(p[nz] / np.outer(p.sum(1), p.sum(0))[nz])))

    assert lesson09.check_mutual_information(no_ravel) is False
    out = capsys.readouterr().out
    assert "1-D arrays" in out and "np.ravel" in out


# --------------------------------------------------------------------------- target registration error
def _tre_difference(estimate, truth, landmarks):
    return (np.c_[landmarks, np.ones(len(landmarks))] @ (estimate - truth).T)[:, :3]


def test_tre_right_answer(capsys):
    assert lesson09.check_tre(lesson09.fallback_tre) is True
    assert "✅" in capsys.readouterr().out


def test_tre_right_answer_written_per_point(capsys):
    def per_point(estimate, truth, landmarks):
        return np.array(
            [np.linalg.norm((estimate @ np.r_[p, 1] - truth @ np.r_[p, 1])[:3]) for p in landmarks]
        )

    assert lesson09.check_tre(per_point) is True


def test_tre_mean_over_coordinates(capsys):
    def coordinate_mean(estimate, truth, landmarks):
        return np.abs(_tre_difference(estimate, truth, landmarks)).mean(axis=1)

    assert lesson09.check_tre(coordinate_mean) is False
    out = capsys.readouterr().out
    assert "averages the x, y and z differences" in out


def test_tre_translation_dropped(capsys):
    def no_homogeneous_one(estimate, truth, landmarks):
        return np.linalg.norm(landmarks @ (estimate[:3, :3] - truth[:3, :3]).T, axis=1)

    assert lesson09.check_tre(no_homogeneous_one) is False
    assert "translation column" in capsys.readouterr().out


def test_tre_one_number_or_squared(capsys):
    def mean_only(estimate, truth, landmarks):
        return lesson09._reference_tre(estimate, truth, landmarks).mean()

    def squared(estimate, truth, landmarks):
        return (_tre_difference(estimate, truth, landmarks) ** 2).sum(axis=1)

    def wrong_axis(estimate, truth, landmarks):
        return np.linalg.norm(_tre_difference(estimate, truth, landmarks), axis=0)

    assert lesson09.check_tre(mean_only) is False
    assert "one error per landmark" in capsys.readouterr().out
    assert lesson09.check_tre(squared) is False
    assert "squared" in capsys.readouterr().out
    assert lesson09.check_tre(wrong_axis) is False
    assert "axis=1" in capsys.readouterr().out


def test_mi_sign_slip_and_missing_weight(capsys):
    def plus_joint(a, b, bins):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        p = joint / joint.sum()

        def h(q):
            q = q[q > 0]
            return -np.sum(q * np.log(q))

        return float(h(p.sum(axis=1)) + h(p.sum(axis=0)) + h(p))

    assert lesson09.check_mutual_information(plus_joint) is False
    out = capsys.readouterr().out
    assert "wrong sign" in out
    assert "not divided" not in out

    def unweighted(a, b, bins):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        p = joint / joint.sum()
        nz = p > 0
        return float(np.sum(np.log(p[nz] / np.outer(p.sum(axis=1), p.sum(axis=0))[nz])))

    assert lesson09.check_mutual_information(unweighted) is False
    out = capsys.readouterr().out
    assert "without their weight" in out


def test_resample_untransposed_and_reversed_before(capsys):
    def rows(moving, moving_affine, shape, fixed_affine, order=1):
        m = np.linalg.inv(moving_affine) @ fixed_affine
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        coords = (grid.T @ m[:3, :3]).T + m[:3, 3:]
        return ndimage.map_coordinates(moving, coords, order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(rows) is False
    assert "transposed" in capsys.readouterr().out

    def reversed_first(moving, moving_affine, shape, fixed_affine, order=1):
        m = np.linalg.inv(moving_affine) @ fixed_affine
        grid = np.indices(shape, dtype=float).reshape(3, -1)[::-1]
        coords = m[:3, :3] @ grid + m[:3, 3:]
        return ndimage.map_coordinates(moving, coords, order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(reversed_first) is False
    assert "before the mapping" in capsys.readouterr().out


def test_tre_points_as_rows_untransposed(capsys):
    def untransposed(estimate, truth, landmarks_mm):
        p = np.c_[landmarks_mm, np.ones(len(landmarks_mm))]
        return np.linalg.norm((p @ (estimate - truth))[:, :3], axis=1)

    assert lesson09.check_tre(untransposed) is False
    assert "P @ M.T" in capsys.readouterr().out


# --------------------------------------------------------------------------- round 4 additions
def test_resample_zoom_by_spacing_ratio(capsys):
    def zoom_like(moving, moving_affine, shape, fixed_affine, order=1):
        # the zoom shortcut of Pitfall 1: voxel sizes matched, origins and directions ignored
        ratio = np.linalg.norm(fixed_affine[:3, :3], axis=0) / np.linalg.norm(
            moving_affine[:3, :3], axis=0
        )
        grid = np.indices(shape, dtype=float).reshape(3, -1)
        return ndimage.map_coordinates(moving, grid * ratio[:, None], order=order).reshape(shape)

    assert lesson09.check_resample_to_grid(zoom_like) is False
    out = capsys.readouterr().out
    assert "ratio of the voxel sizes" in out
    assert "positions or directions" in out


def test_mi_entropies_without_minus_sign(capsys):
    def entropy_route_no_minus(a, b, bins=32):
        joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
        p = joint / joint.sum()

        def h(q):  # the minus sign of H = -sum p log p forgotten
            q = q[q > 0]
            return float(np.sum(q * np.log(q)))

        return h(p.sum(1)) + h(p.sum(0)) - h(p)

    assert lesson09.check_mutual_information(entropy_route_no_minus) is False
    assert "without their minus" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake",
    [{"one_level": True}, {"scalar_sigma": True, "scalar_stride": True, "scalar_margin": True}],
)
def test_registration_pyramid_mistake_is_not_called_correct(mistake, small_brain, capsys):
    lesson09.check_registration(_variant_register(**mistake), *small_brain)
    out = capsys.readouterr().out
    assert "⚠️" in out
    assert "works on this test case" in out
    assert "✅" not in out and "correct" not in out
