"""Tests of course_utils.augment: alignment of image and mask, label sets, seeds, ranges, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils import augment

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _marked_pair(shape, position, label=3):
    """A float image that is bright exactly where an integer mask holds ``label``."""
    mask = np.zeros(shape, dtype=np.int16)
    mask[position] = label
    image = 100.0 * (mask > 0)
    return image, mask


def _lesion_pair(shape=(18, 18)):
    """A textured image with a two-label lesion (core 2 inside rim 1) near the centre."""
    rows, cols = np.indices(shape)
    radius = np.hypot(rows - shape[0] / 2, cols - shape[1] / 2)
    mask = np.where(radius < 2, 2, np.where(radius < 4, 1, 0)).astype(np.uint8)
    image = 10.0 + 5.0 * mask + np.sin(rows / 2.0) + np.cos(cols / 3.0)
    return image, mask


def _labelled_pair(shape, seed):
    rng = np.random.default_rng(seed)
    mask = rng.integers(0, 4, size=shape).astype(np.uint8)
    mask = np.repeat(np.repeat(mask, 3, axis=0), 3, axis=1)[: shape[0], : shape[1]]
    image = 10.0 * mask + rng.uniform(0, 1, mask.shape)
    return image, mask


shapes_2d = st.tuples(st.integers(4, 24), st.integers(4, 24))


# --------------------------------------------------------------------------- OpenCV table
def test_opencv_table_matches_cv2():
    image = np.arange(12).reshape(3, 4).astype(np.uint8)
    for code, (constant, _, k) in augment.OPENCV_ROTATE_CODES.items():
        assert getattr(cv2, constant.split(".")[1]) == code
        np.testing.assert_array_equal(cv2.rotate(image, code), np.rot90(image, k))
        assert augment.opencv_code_to_k(code) == k


def test_opencv_code_zero_is_not_identity():
    assert augment.opencv_code_to_k(0) != 0
    with pytest.raises(ValueError, match="no code for 'no rotation'"):
        augment.opencv_code_to_k(3)
    with pytest.raises(TypeError, match="code"):
        augment.opencv_code_to_k("0")


# --------------------------------------------------------------------------- alignment properties
@FAST
@given(shape=shapes_2d, data=st.data(), k=st.integers(-5, 5), axis=st.sampled_from([0, 1, (0, 1)]))
def test_rot90_and_flip_keep_marked_pixel_aligned(shape, data, k, axis):
    position = (data.draw(st.integers(0, shape[0] - 1)), data.draw(st.integers(0, shape[1] - 1)))
    image, mask = _marked_pair(shape, position)
    rot_image, rot_mask = augment.rot90_pair(image, mask, k)
    np.testing.assert_array_equal(np.argwhere(rot_image > 0), np.argwhere(rot_mask > 0))
    np.testing.assert_array_equal(rot_image, np.rot90(image, k))
    flip_image, flip_mask = augment.flip_pair(image, mask, axis=axis)
    np.testing.assert_array_equal(np.argwhere(flip_image > 0), np.argwhere(flip_mask > 0))
    assert flip_mask.dtype == mask.dtype


@FAST
@given(
    shape=shapes_2d,
    seed=st.integers(0, 2**16),
    angle=st.floats(-180, 180),
    scale=st.floats(0.6, 1.6),
    shift=st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
    shear=st.floats(-30, 30),
)
def test_affine_applies_one_matrix_to_image_and_mask(shape, seed, angle, scale, shift, shear):
    image, mask = _labelled_pair(shape, seed)
    image = 10.0 * mask  # image derived from the mask
    kwargs = dict(angle_deg=angle, scale=scale, translate_px=shift, shear_deg=shear)
    nearest_image, out_mask = augment.affine_pair(
        image, mask, order_image=0, fill_image=0, **kwargs
    )
    # Same sampling positions for both: the image is still exactly 10 x the mask.
    np.testing.assert_array_equal(nearest_image, 10.0 * out_mask)
    assert set(np.unique(out_mask)) <= set(np.unique(mask)) | {0}
    assert out_mask.dtype == mask.dtype and out_mask.shape == mask.shape


@FAST
@given(shape=shapes_2d, data=st.data(), angle=st.floats(-90, 90), scale=st.floats(0.8, 1.5))
def test_affine_bilinear_marked_pixel_is_bright_under_its_mask(shape, data, angle, scale):
    position = (data.draw(st.integers(0, shape[0] - 1)), data.draw(st.integers(0, shape[1] - 1)))
    image, mask = _marked_pair(shape, position)
    out_image, out_mask = augment.affine_pair(image, mask, angle_deg=angle, scale=scale)
    # Every output pixel labelled by the mask samples the marked input pixel.
    assert (out_image[out_mask > 0] > 0).all()


def test_affine_quarter_turn_equals_rot90():
    image, mask = _labelled_pair((9, 9), 1)
    out_image, out_mask = augment.affine_pair(image, mask, angle_deg=90)
    rot_image, rot_mask = augment.rot90_pair(image, mask, 1)
    np.testing.assert_allclose(out_image, rot_image, atol=1e-9)
    np.testing.assert_array_equal(out_mask, rot_mask)


def test_affine_spline_order_stays_in_input_range_and_dtype():
    image = np.zeros((20, 20), dtype=np.uint8)
    image[5:15, 5:15] = 255
    mask = (image > 0).astype(bool)
    out_image, out_mask = augment.affine_pair(image, mask, angle_deg=17, order_image=3)
    assert out_image.dtype == np.uint8 and out_mask.dtype == bool
    assert out_image.min() >= 0 and out_image.max() <= 255


@FAST
@given(seed=st.integers(0, 2**16), alpha=st.floats(0, 6), sigma=st.floats(1, 6))
def test_elastic_keeps_alignment_labels_and_is_seeded(seed, alpha, sigma):
    image, mask = _labelled_pair((16, 20), seed)
    image = 10.0 * mask
    first = augment.elastic_pair(
        image,
        mask,
        alpha=alpha,
        sigma=sigma,
        rng=np.random.default_rng(seed),
        order_image=0,
        fill_image=0,
    )
    second = augment.elastic_pair(
        image,
        mask,
        alpha=alpha,
        sigma=sigma,
        rng=np.random.default_rng(seed),
        order_image=0,
        fill_image=0,
    )
    np.testing.assert_array_equal(first[0], 10.0 * first[1])
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert set(np.unique(first[1])) <= set(np.unique(mask)) | {0}


def test_elastic_zero_alpha_is_identity():
    image, mask = _labelled_pair((10, 12), 3)
    out_image, out_mask = augment.elastic_pair(
        image, mask, alpha=0, sigma=3, rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(out_image, image)
    np.testing.assert_array_equal(out_mask, mask)


def test_elastic_in_plane_axes_keep_every_voxel_in_its_slice():
    # A volume whose value is the slice index: moving only along rows and columns keeps it exact.
    planes = np.broadcast_to(np.arange(5.0)[:, None, None], (5, 20, 20)).copy()
    rng = np.random.default_rng(3)
    inner = (slice(None), slice(4, -4), slice(4, -4))  # away from the fill at the frame
    moved, _ = augment.elastic_pair(planes, None, alpha=3, sigma=4, rng=rng, axes=(1, 2))
    np.testing.assert_allclose(moved[inner], planes[inner])
    everywhere, _ = augment.elastic_pair(
        planes, None, alpha=3, sigma=4, rng=np.random.default_rng(3)
    )
    assert np.abs(everywhere[inner] - planes[inner]).max() > 0.5
    step = augment.Elastic(alpha=3, sigma=4, axes=(1, 2))
    out, _, _ = augment.Compose([step])(planes, None, rng=np.random.default_rng(0))
    np.testing.assert_allclose(out[inner], planes[inner])
    with pytest.raises(ValueError, match="axes"):
        augment.elastic_pair(planes, None, alpha=1, sigma=1, rng=rng, axes=(3,))


def test_affine_3d_rotates_in_mm_with_anisotropic_spacing():
    # A disc of radius 6 mm in a volume with 0.5 x 1.0 mm in-plane pixels stays a disc.
    spacing = (4.0, 0.5, 1.0)
    planes, rows, cols = 3, 41, 21
    r = (np.arange(rows) - (rows - 1) / 2) * spacing[1]
    c = (np.arange(cols) - (cols - 1) / 2) * spacing[2]
    ellipse_mm = (r[:, None] / 8.0) ** 2 + (c[None, :] / 4.0) ** 2 <= 1  # 8 mm tall, 4 mm wide
    labels = np.repeat(ellipse_mm[None], planes, axis=0).astype(np.uint8)
    volume = labels * 100.0
    _, turned = augment.affine_pair_3d(volume, labels, spacing_mm=spacing, angles_deg=(90, 0, 0))
    # After 90 degrees the ellipse is 8 mm wide and 4 mm tall, in millimetres.
    rows_hit = np.flatnonzero(turned[1].any(axis=1))
    cols_hit = np.flatnonzero(turned[1].any(axis=0))
    height_mm = (rows_hit[-1] - rows_hit[0] + 1) * spacing[1]
    width_mm = (cols_hit[-1] - cols_hit[0] + 1) * spacing[2]
    assert abs(height_mm - 8.0) <= 1.0 and abs(width_mm - 16.0) <= 2.0
    assert set(np.unique(turned)) <= {0, 1}
    np.testing.assert_array_equal(turned[0], turned[2])  # in-plane only: planes not mixed


@FAST
@given(seed=st.integers(0, 2**16), data=st.data())
def test_crop_keeps_whole_lesion(seed, data):
    rng = np.random.default_rng(seed)
    shape = (30, 40)
    mask = np.zeros(shape, dtype=np.uint8)
    r0, c0 = data.draw(st.integers(0, 25)), data.draw(st.integers(0, 35))
    height, width = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    mask[r0 : r0 + height, c0 : c0 + width] = 2
    image = mask * 5.0
    crop_image, crop_mask = augment.random_crop_keeping(image, mask, (12, 10), rng)
    assert crop_mask.shape == (12, 10)
    assert crop_mask.sum() == mask.sum()
    np.testing.assert_array_equal(crop_image, crop_mask * 5.0)


def test_crop_rejects_lesion_larger_than_crop():
    mask = np.zeros((20, 20), dtype=np.uint8)
    mask[2:18, 5:7] = 1
    with pytest.raises(ValueError, match="lesion spans 16 pixels along axis 0"):
        augment.random_crop_keeping(np.zeros((20, 20)), mask, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="larger than the image"):
        augment.random_crop_keeping(np.zeros((20, 20)), mask, 30, np.random.default_rng(0))


# --------------------------------------------------------------------------- intensity range
value_ranges = st.tuples(st.floats(-2000, 1000), st.floats(1, 3000)).map(
    lambda t: (t[0], t[0] + t[1])
)


@FAST
@given(value_range=value_ranges, seed=st.integers(0, 2**16), amount=st.floats(-3, 3))
def test_intensity_transforms_respect_declared_range(value_range, seed, amount):
    lo, hi = value_range
    rng = np.random.default_rng(seed)
    image = rng.uniform(lo, hi, size=(12, 12))
    span = hi - lo
    outputs = [
        augment.adjust_brightness(image, amount * span, value_range=value_range),
        augment.adjust_contrast(image, abs(amount) + 0.1, value_range=value_range),
        augment.adjust_gamma(image, 2.0**amount, value_range=value_range),
        augment.add_gaussian_noise(image, abs(amount) * span, rng=rng, value_range=value_range),
        augment.gaussian_blur(image, abs(amount), value_range=value_range),
    ]
    if lo >= 0:
        outputs.append(
            augment.bias_field(image, 1.0 + abs(amount), rng=rng, value_range=value_range)
        )
    for output in outputs:
        assert output.shape == image.shape
        assert output.min() >= lo and output.max() <= hi


def test_integer_images_do_not_wrap_around():
    image = np.array([[0, 128, 250]], dtype=np.uint8)
    assert augment.adjust_brightness(image, 10).tolist() == [[10, 138, 255]]
    assert augment.adjust_brightness(image, -10).tolist() == [[0, 118, 240]]
    noisy = augment.add_gaussian_noise(image, 50, rng=np.random.default_rng(0))
    assert noisy.dtype == np.uint8


def test_gamma_keeps_range_ends_and_poisson_noise_grows_with_signal():
    image = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(augment.adjust_gamma(image, 2.0, value_range=(0, 1)), [0, 0.25, 1])
    rng = np.random.default_rng(0)
    dim = augment.add_poisson_noise(np.full(20000, 0.1), 100, rng=rng, value_range=(0, 1))
    bright = augment.add_poisson_noise(np.full(20000, 0.8), 100, rng=rng, value_range=(0, 1))
    assert bright.std() > 2 * dim.std()


def test_bias_field_gain_bounded_and_spacing_aware():
    image = np.full((4, 30, 30), 100.0)
    out, field = augment.bias_field(
        image,
        1.25,
        rng=np.random.default_rng(2),
        spacing=(5.0, 1.0, 1.0),
        value_range=(0, 4095),
        return_field=True,
    )
    assert field.min() >= 1 / 1.25 - 1e-9 and field.max() <= 1.25 + 1e-9
    np.testing.assert_allclose(out, image * field)


# --------------------------------------------------------------------------- pipeline
def _pipeline(value_range=(0.0, 40.0)):
    return augment.Compose(
        [
            augment.RandomApply(augment.Flip(axis=1), p=0.5),
            augment.RandomApply(augment.Rot90(), p=0.5),
            augment.RandomApply(augment.Affine(angle_deg=(-20, 20), shear_deg=(-5, 5)), p=0.5),
            augment.RandomApply(augment.Elastic(alpha=3, sigma=4), p=0.5),
            augment.RandomApply(augment.Brightness((-3, 3), value_range=value_range), p=0.5),
            augment.RandomApply(augment.Contrast((0.8, 1.2), value_range=value_range), p=0.5),
            augment.RandomApply(augment.Gamma((0.7, 1.4), value_range=value_range), p=0.5),
            augment.RandomApply(augment.GaussianNoise((0, 1), value_range=value_range), p=0.5),
            augment.RandomApply(augment.PoissonNoise((5, 50), value_range=value_range), p=0.5),
            augment.RandomApply(augment.Blur((0.3, 1.0), value_range=value_range), p=0.5),
            augment.RandomApply(augment.BiasField(1.2, value_range=value_range), p=0.5),
            augment.CropKeeping((14, 14)),
        ]
    )


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_pipeline_same_seed_same_output_and_replay(seed):
    image, mask = _lesion_pair()
    pipeline = _pipeline()
    first = pipeline(image, mask, rng=np.random.default_rng(seed))
    second = pipeline(image, mask, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert [step["transform"] for step in first[2]][:2] == ["flip", "rot90"]
    assert all(isinstance(step["applied"], bool) for step in first[2])
    replayed = pipeline.replay(image, mask, first[2])
    np.testing.assert_array_equal(replayed[0], first[0])
    np.testing.assert_array_equal(replayed[1], first[1])
    assert set(np.unique(first[1])) <= set(np.unique(mask))
    assert first[0].min() >= 0 and first[0].max() <= 40


def test_pipeline_ignores_global_random_state_and_differs_between_seeds():
    image, mask = _lesion_pair()
    pipeline = _pipeline()
    np.random.seed(1)
    first = pipeline(image, mask, rng=np.random.default_rng(7))[0]
    np.random.seed(2)
    second = pipeline(image, mask, rng=np.random.default_rng(7))[0]
    np.testing.assert_array_equal(first, second)
    outputs = {pipeline(image, mask, rng=np.random.default_rng(s))[0].tobytes() for s in range(6)}
    assert len(outputs) > 1


def test_random_apply_probability_is_respected():
    step = augment.RandomApply(augment.Flip(axis=0), p=0.3)
    rng = np.random.default_rng(0)
    applied = [step.sample(rng, None, None)["applied"] for _ in range(4000)]
    assert abs(np.mean(applied) - 0.3) < 0.03
    assert augment.RandomApply(augment.Flip(), p=0).sample(rng, None, None) == {"applied": False}


def test_rot90_transform_draws_all_four_turns_uniformly():
    rng = np.random.default_rng(0)
    ks = [augment.Rot90().sample(rng, None, None)["k"] for _ in range(4000)]
    counts = np.bincount(ks, minlength=4) / len(ks)
    assert np.all(np.abs(counts - 0.25) < 0.03)


def test_3d_pipeline_on_volume():
    volume = np.zeros((5, 16, 16))
    labels = np.zeros(volume.shape, dtype=np.uint8)
    labels[2, 6:10, 6:10] = 2
    volume[labels > 0] = 50
    pipeline = augment.Compose(
        [
            augment.Rot90(axes=(1, 2)),
            augment.Flip(axis=2),
            augment.AxialAffine3D(spacing_mm=(5, 1, 1), angle_deg=(-10, 10)),
            augment.Elastic(alpha=2, sigma=4, spacing=(5, 1, 1)),
        ]
    )
    out_volume, out_labels, record = pipeline(volume, labels, rng=np.random.default_rng(0))
    assert out_volume.shape == volume.shape and set(np.unique(out_labels)) <= {0, 2}
    assert record[2]["transform"] == "axial_affine_3d"


# --------------------------------------------------------------------------- class balance
@FAST
@given(counts=st.lists(st.integers(1, 12), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_balanced_indices_equalise_classes(counts, seed):
    labels = np.repeat([f"class{i}" for i in range(len(counts))], counts)
    indices = augment.balanced_indices(labels, np.random.default_rng(seed))
    assert np.array_equal(indices[: labels.size], np.arange(labels.size))
    _, new_counts = np.unique(labels[indices], return_counts=True)
    assert set(new_counts.tolist()) == {max(counts)}
    again = augment.balanced_indices(labels, np.random.default_rng(seed))
    np.testing.assert_array_equal(indices, again)


def test_balanced_indices_bad_input():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        augment.balanced_indices([], np.random.default_rng(0))
    with pytest.raises(ValueError, match="missing"):
        augment.balanced_indices(np.array(["CE", None], dtype=object), np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        augment.balanced_indices(["CE", "LAA"], 0)


@FAST
@given(counts=st.lists(st.integers(1, 12), min_size=1, max_size=4))
def test_balanced_weights_give_every_class_the_same_total(counts):
    labels = np.repeat([f"class{i}" for i in range(len(counts))], counts)
    weights = augment.balanced_weights(labels)
    assert weights.shape == labels.shape and np.isclose(weights.sum(), 1.0)
    _, inverse = np.unique(labels, return_inverse=True)
    np.testing.assert_allclose(np.bincount(inverse, weights=weights), 1.0 / len(counts))


def test_balanced_weights_bad_input():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        augment.balanced_weights([])


def test_contrast_centre_is_the_fixed_point():
    image = np.array([[0.0, 0.0, 0.5, 0.7]])
    tissue = augment.Contrast((2.0, 2.0), value_range=(0, 1), centre=lambda im: im[im > 0].mean())
    out, _, _ = tissue(image, None, rng=np.random.default_rng(0))
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.4, 0.8]])
    fixed = augment.Contrast((2.0, 2.0), value_range=(0, 1), centre=0.5)
    np.testing.assert_allclose(
        fixed(image, None, rng=np.random.default_rng(0))[0], [[0, 0, 0.5, 0.9]]
    )
    with pytest.raises(ValueError):
        augment.Contrast((1.0, 2.0), centre=float("nan"))


# --------------------------------------------------------------------------- bad input
def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"image shape \(4, 5\) and mask shape \(5, 4\)"):
        augment.rot90_pair(np.zeros((4, 5)), np.zeros((5, 4), dtype=np.uint8), 1)
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(4, 4\)"):
        augment.affine_pair(np.zeros((4, 5)), np.zeros((4, 4), dtype=np.uint8), angle_deg=3)


@pytest.mark.parametrize(
    "call",
    [
        lambda: augment.affine_pair(np.zeros(5), None, angle_deg=1),
        lambda: augment.affine_pair(np.zeros((2, 3, 4)), None, angle_deg=1),
        lambda: augment.affine_pair_3d(np.zeros((4, 4)), None, spacing_mm=(1, 1, 1)),
        lambda: augment.rot90_pair(np.zeros(5), None, 1),
    ],
)
def test_wrong_ndim_is_rejected(call):
    with pytest.raises(ValueError, match="dimension|shape"):
        call()


def test_nan_empty_and_float_mask_are_rejected():
    image = np.zeros((4, 4))
    image[1, 1] = np.nan
    with pytest.raises(ValueError, match="1 NaN"):
        augment.flip_pair(image, None)
    with pytest.raises(ValueError, match="empty"):
        augment.adjust_brightness(np.zeros((0, 3)), 1, value_range=(0, 1))
    with pytest.raises(TypeError, match="integer labels"):
        augment.affine_pair(np.zeros((4, 4)), np.zeros((4, 4)), angle_deg=3)
    with pytest.raises(TypeError, match="numbers"):
        augment.flip_pair(np.zeros((3, 3), dtype=bool), None)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_probabilities_outside_unit_interval_are_rejected(p):
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        augment.RandomApply(augment.Flip(), p=p)


def test_unseeded_rng_and_bad_parameters_are_rejected():
    with pytest.raises(TypeError, match="default_rng"):
        augment.elastic_pair(np.zeros((4, 4)), None, alpha=1, sigma=1, rng=None)
    with pytest.raises(TypeError, match="Generator"):
        _pipeline()(np.zeros((18, 18)), None, rng=42)
    with pytest.raises(ValueError, match="value_range is required"):
        augment.adjust_brightness(np.zeros((3, 3)), 0.1)
    with pytest.raises(ValueError, match="low < high"):
        augment.adjust_contrast(np.zeros((3, 3)), 1.0, value_range=(1, 1))
    with pytest.raises(ValueError, match="sigma"):
        augment.elastic_pair(np.zeros((4, 4)), None, alpha=1, sigma=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="scale"):
        augment.affine_pair(np.zeros((4, 4)), None, scale=0)
    with pytest.raises(ValueError, match="shear_deg"):
        augment.affine_pair(np.zeros((4, 4)), None, shear_deg=90)
    with pytest.raises(ValueError, match="order_image"):
        augment.affine_pair(np.zeros((4, 4)), None, order_image=7)
    with pytest.raises(TypeError, match="integer number of quarter turns"):
        augment.rot90_pair(np.zeros((4, 4)), None, 1.0)
    with pytest.raises(ValueError, match="axes"):
        augment.rot90_pair(np.zeros((4, 4)), None, 1, axes=(1, 1))
    with pytest.raises(ValueError, match="out of range"):
        augment.flip_pair(np.zeros((4, 4)), None, axis=2)
    with pytest.raises(ValueError, match="max_gain"):
        augment.bias_field(np.ones((4, 4)), 0.5, rng=np.random.default_rng(0), value_range=(0, 2))
    with pytest.raises(TypeError, match="Transform"):
        augment.Compose([np.fliplr])
    with pytest.raises(ValueError, match="at least one"):
        augment.Compose([])
    with pytest.raises(ValueError, match="needs a mask"):
        augment.random_crop_keeping(np.zeros((4, 4)), None, 2, np.random.default_rng(0))


def test_replay_rejects_mismatched_record():
    pipeline = _pipeline()
    with pytest.raises(ValueError, match="steps"):
        pipeline.replay(np.zeros((18, 18)), None, [])


def test_lesion_window_centres_pads_and_keeps_the_lesion():
    image = np.arange(100, dtype=float).reshape(10, 10) + 1
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[0:2, 8:10] = 1  # lesion in the top-right corner
    step = augment.LesionWindow(6)
    out, out_mask, params = step(image, mask, rng=np.random.default_rng(0))
    assert out.shape == out_mask.shape == (6, 6)
    assert out_mask.sum() == mask.sum()
    assert params["origin"] == (-2, 6)
    assert (out[:2] == 0).all() and (out[:, 4:] == 0).all()  # padding past the border
    assert np.array_equal(out[out_mask == 1], image[mask == 1])
    rows, cols = np.nonzero(out_mask)
    assert (rows.min() + rows.max()) / 2 == pytest.approx(2.5)
    assert (cols.min() + cols.max()) / 2 == pytest.approx(2.5)
    again = augment.Compose([step]).replay(
        image, mask, [{"transform": "lesion_window", "applied": True, **params}]
    )
    assert np.array_equal(again[0], out)
    centred, _, _ = step(image, None, rng=np.random.default_rng(0))
    assert np.array_equal(centred, image[2:8, 2:8])
    with pytest.raises(ValueError, match="positive"):
        augment.LesionWindow(0)(image, mask, rng=np.random.default_rng(0))
