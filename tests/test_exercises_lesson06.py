"""Right and wrong answers for the lesson 06 exercise checks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from course_utils import augment
from course_utils.exercises import lesson06 as ex


# --------------------------------------------------------------------------- random flip/rotation
def good_flip_rotate(image, mask, rng):
    if rng.random() < 0.5:
        image, mask = np.fliplr(image), np.fliplr(mask)
    k = int(rng.integers(4))
    return np.rot90(image, k), np.rot90(mask, k)


def test_flip_rotate_accepts_correct_answer(capsys):
    assert ex.check_random_flip_rotate(good_flip_rotate)
    assert "✅" in capsys.readouterr().out


def test_flip_rotate_accepts_course_helpers():
    def with_helpers(image, mask, rng):
        if rng.random() < 0.5:
            image, mask = augment.flip_pair(image, mask, axis=1)
        return augment.rot90_pair(image, mask, int(rng.integers(4)))

    assert ex.check_random_flip_rotate(with_helpers)


def test_flip_rotate_rejects_the_opencv_code_bug(capsys):
    import cv2

    choices = [0, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180]

    def seed_bug(image, mask, rng):
        code = choices[int(rng.integers(4))]
        if rng.random() < 0.5:
            image, mask = np.fliplr(image), np.fliplr(mask)
        return cv2.rotate(image, code), cv2.rotate(mask, code)

    assert not ex.check_random_flip_rotate(seed_bug)
    out = capsys.readouterr().out
    assert "never occurred" in out and "unchanged" in out


def test_flip_rotate_rejects_unaligned_mask(capsys):
    def image_only(image, mask, rng):
        k = int(rng.integers(4))
        return np.rot90(image, k), mask

    assert not ex.check_random_flip_rotate(image_only)
    assert "mask did not" in capsys.readouterr().out


def test_flip_rotate_rejects_independent_draws(capsys):
    def independent(image, mask, rng):
        return np.rot90(image, int(rng.integers(4))), np.rot90(mask, int(rng.integers(4)))

    assert not ex.check_random_flip_rotate(independent)
    assert "mask" in capsys.readouterr().out


def test_flip_rotate_rejects_global_randomness(capsys):
    def global_random(image, mask, rng):
        if random.random() < 0.5:
            image, mask = np.fliplr(image), np.fliplr(mask)
        k = random.randrange(4)
        return np.rot90(image, k), np.rot90(mask, k)

    assert not ex.check_random_flip_rotate(global_random)
    assert "same generator seed" in capsys.readouterr().out


def test_flip_rotate_handles_stub_and_wrong_return(capsys):
    def stub(image, mask, rng):
        raise NotImplementedError

    assert not ex.check_random_flip_rotate(stub)
    assert "not implemented yet" in capsys.readouterr().out
    assert not ex.check_random_flip_rotate(lambda image, mask, rng: None)
    assert "expected a tuple" in capsys.readouterr().out
    assert not ex.check_random_flip_rotate(None)


def test_flip_rotate_rejects_interpolating_rotation(capsys):
    from scipy import ndimage

    def interpolating(image, mask, rng):
        angle = 90 * int(rng.integers(4)) + 1
        return (
            ndimage.rotate(image, angle, reshape=True, order=1),
            ndimage.rotate(mask, angle, reshape=True, order=0),
        )

    assert not ex.check_random_flip_rotate(interpolating)
    assert "not a mirror image or quarter turn" in capsys.readouterr().out


# --------------------------------------------------------------------------- reproducible pipeline
PIPELINE = augment.Compose(
    [
        augment.RandomApply(augment.Flip(axis=1), p=0.5),
        augment.RandomApply(augment.Affine(angle_deg=(-20, 20)), p=0.8),
        augment.RandomApply(augment.Brightness((-5, 5), value_range=(0, 700)), p=0.5),
    ]
)


@pytest.fixture
def pair():
    image = np.arange(144.0).reshape(12, 12) * 4
    mask = np.zeros((12, 12), dtype=np.uint8)
    mask[4:8, 3:7] = 1
    mask[5, 5] = 2
    return image, mask


def _split(results):
    return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]


def good_augment(image, mask, indices, seed):
    return _split([PIPELINE(image, mask, rng=np.random.default_rng([seed, i])) for i in indices])


def test_reproducible_accepts_correct_answers(pair, capsys):
    assert ex.check_reproducible_augment(good_augment, *pair)

    def spawned(image, mask, indices, seed):
        return _split(
            [
                PIPELINE(
                    image,
                    mask,
                    rng=np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,))),
                )
                for i in indices
            ]
        )

    assert ex.check_reproducible_augment(spawned, *pair)
    assert "✅" in capsys.readouterr().out


def test_reproducible_rejects_one_generator_per_call(pair, capsys):
    def sequential(image, mask, indices, seed):
        rng = np.random.default_rng(seed)
        return _split([PIPELINE(image, mask, rng=rng) for _ in indices])

    assert not ex.check_reproducible_augment(sequential, *pair)
    out = capsys.readouterr().out
    assert "depends on the samples drawn before it" in out and "position in the call" in out


def test_reproducible_names_a_generator_from_the_list_position(pair, capsys):
    def by_position(image, mask, indices, seed):
        return _split(
            [
                PIPELINE(image, mask, rng=np.random.default_rng([seed, j]))
                for j, _ in enumerate(indices)
            ]
        )

    assert not ex.check_reproducible_augment(by_position, *pair)
    out = capsys.readouterr().out
    assert "position in the list" in out and "not from its index" in out


def test_reproducible_names_a_generator_per_call_reused_in_order(pair, capsys):
    def reordered(image, mask, indices, seed):
        # one generator per call, but the indices sorted first: still the call's order, not i
        rng = np.random.default_rng(seed)
        drawn = {i: PIPELINE(image, mask, rng=rng) for i in sorted(indices)}
        return _split([drawn[i] for i in indices])

    assert not ex.check_reproducible_augment(reordered, *pair)
    assert "differ from the same indices" in capsys.readouterr().out


def test_reproducible_rejects_global_state(pair, capsys):
    def global_state(image, mask, indices, seed):
        rng = np.random.default_rng(np.random.randint(1_000_000))
        return _split([PIPELINE(image, mask, rng=rng) for _ in indices])

    assert not ex.check_reproducible_augment(global_state, *pair)
    assert "same seed and indices gave different" in capsys.readouterr().out


def test_reproducible_rejects_ignoring_the_index(pair, capsys):
    def same_for_all(image, mask, indices, seed):
        return _split([PIPELINE(image, mask, rng=np.random.default_rng(seed)) for _ in indices])

    assert not ex.check_reproducible_augment(same_for_all, *pair)
    assert "identical" in capsys.readouterr().out


def test_reproducible_rejects_ignored_seed(pair, capsys):
    def fixed(image, mask, indices, seed):
        return good_augment(image, mask, indices, 0)

    assert not ex.check_reproducible_augment(fixed, *pair)
    assert "seed is not used" in capsys.readouterr().out


def test_reproducible_rejects_interpolated_masks(pair, capsys):
    from scipy import ndimage

    def linear_masks(image, mask, indices, seed):
        angles = [np.random.default_rng([seed, i]).uniform(-20, 20) for i in indices]
        images = [ndimage.rotate(image, a, reshape=False, order=1) for a in angles]
        masks = [ndimage.rotate(mask.astype(float), a, reshape=False, order=1) for a in angles]
        return images, masks, [{"angle_deg": float(a)} for a in angles]

    assert not ex.check_reproducible_augment(linear_masks, *pair)
    assert "nearest neighbour" in capsys.readouterr().out


def test_reproducible_wrong_lengths_and_stub(pair, capsys):
    assert not ex.check_reproducible_augment(lambda i, m, n, s: ([i], [m], []), *pair)
    assert "asked for 4 samples" in capsys.readouterr().out

    def stub(image, mask, indices, seed):
        raise NotImplementedError

    assert not ex.check_reproducible_augment(stub, *pair)
    assert "not implemented" in capsys.readouterr().out


def test_reproducible_rejects_the_global_seed_anti_pattern(pair, capsys):
    def reseeds_global(image, mask, indices, seed):
        np.random.seed(seed)
        rng = np.random.default_rng(np.random.randint(2**31))
        return _split([PIPELINE(image, mask, rng=rng) for _ in indices])

    assert not ex.check_reproducible_augment(reseeds_global, *pair)
    out = capsys.readouterr().out
    assert "reproducible, but" in out and "global" in out


def test_reproducible_rejects_python_random_seed(pair, capsys):
    def seeds_stdlib(image, mask, indices, seed):
        random.seed(seed)
        return good_augment(image, mask, indices, seed)

    assert not ex.check_reproducible_augment(seeds_stdlib, *pair)
    assert "global" in capsys.readouterr().out


def test_reproducible_check_restores_global_state(pair):
    np.random.seed(99)
    expected = np.random.random()
    np.random.seed(99)
    ex.check_reproducible_augment(good_augment, *pair)
    assert np.random.random() == expected


# --------------------------------------------------------------------------- crop corner
def good_corner(mask, size, rng, *, low_shift=0, high_shift=0, clamp=True, lesion=True):
    rows, cols = np.nonzero(mask)
    corner = []
    for found, length in ((rows, mask.shape[0]), (cols, mask.shape[1])):
        low, high = (0, length - size) if clamp else (-(10**6), 10**6)
        if found.size and lesion:
            low = max(low, int(found.max()) - size + 1 + low_shift)
            high = min(high, int(found.min()) + high_shift)
        elif not clamp:
            low, high = 0, length - size
        corner.append(int(rng.integers(low, high + 1)))
    return tuple(corner)


def test_crop_corner_accepts_correct_answer_and_helper(capsys):
    assert ex.check_crop_corner(good_corner)
    assert ex.check_crop_corner(augment.crop_origin_keeping)
    assert "✅" in capsys.readouterr().out


def test_crop_corner_rejects_ignoring_the_lesion(capsys):
    assert not ex.check_crop_corner(
        lambda mask, size, rng: good_corner(mask, size, rng, lesion=False)
    )
    assert "cuts the lesion" in capsys.readouterr().out


def test_crop_corner_rejects_off_by_one_low_end(capsys):
    assert not ex.check_crop_corner(lambda m, s, rng: good_corner(m, s, rng, low_shift=-1))
    assert "cuts the lesion" in capsys.readouterr().out


def test_crop_corner_rejects_exclusive_upper_end(capsys):
    def exclusive(mask, size, rng):
        rows, cols = np.nonzero(mask)
        corner = []
        for found, length in ((rows, mask.shape[0]), (cols, mask.shape[1])):
            low, high = 0, length - size
            if found.size:
                low, high = max(low, found.max() - size + 1), min(high, found.min())
            corner.append(int(rng.integers(low, max(low + 1, high))))
        return tuple(corner)

    assert not ex.check_crop_corner(exclusive)
    out = capsys.readouterr().out
    assert "the largest" in out and "never returns" in out


def test_crop_corner_rejects_missing_border_clamp(capsys):
    def unclamped(mask, size, rng):
        rows, cols = np.nonzero(mask)
        if not rows.size:
            return 0, 0
        return (
            int(rng.integers(rows.max() - size + 1, rows.min() + 1)),
            int(rng.integers(cols.max() - size + 1, cols.min() + 1)),
        )

    assert not ex.check_crop_corner(unclamped)
    assert "outside" in capsys.readouterr().out


def test_crop_corner_stub_empty_mask_and_unseeded(capsys):
    def stub(mask, size, rng):
        raise NotImplementedError

    assert not ex.check_crop_corner(stub)
    assert "not implemented" in capsys.readouterr().out

    def crashes_on_empty(mask, size, rng):
        rows, cols = np.nonzero(mask)
        low_row, low_col = max(0, rows.max() - size + 1), max(0, cols.max() - size + 1)
        high_row = min(mask.shape[0] - size, rows.min())
        high_col = min(mask.shape[1] - size, cols.min())
        return int(rng.integers(low_row, high_row + 1)), int(rng.integers(low_col, high_col + 1))

    assert not ex.check_crop_corner(crashes_on_empty)
    assert "raised ValueError" in capsys.readouterr().out
    assert not ex.check_crop_corner(lambda m, s, rng: good_corner(m, s, np.random.default_rng()))
    assert "same generator seed" in capsys.readouterr().out
    assert not ex.check_crop_corner(lambda m, s, rng: 3)
    assert "tuple (row0, col0)" in capsys.readouterr().out


# --------------------------------------------------------------------------- voxel matrix
def good_voxel(linear_mm, spacing_mm):
    s = np.diag(spacing_mm)
    return np.linalg.inv(s) @ linear_mm @ s


def test_voxel_matrix_accepts_correct_answer(capsys):
    assert ex.check_voxel_matrix(good_voxel)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda m, s: m, "unchanged"),
        (lambda m, s: np.diag(s) @ m @ np.linalg.inv(np.diag(s)), "wrong sides"),
        (lambda m, s: np.diag(s) @ m @ np.diag(s), "both sides"),
        (lambda m, s: np.linalg.inv(np.diag(s)) @ m.T @ np.diag(s), "transposed"),
        (
            lambda m, s: np.linalg.inv(np.diag(s)) @ np.linalg.inv(m) @ np.diag(s),
            "inverse transform",
        ),
    ],
)
def test_voxel_matrix_names_the_mistake(wrong, message, capsys):
    assert not ex.check_voxel_matrix(wrong)
    assert message in capsys.readouterr().out


def test_voxel_matrix_shape_none_and_other(capsys):
    assert not ex.check_voxel_matrix(lambda m, s: None)
    assert "None" in capsys.readouterr().out
    assert not ex.check_voxel_matrix(lambda m, s: np.eye(4))
    assert "3 x 3" in capsys.readouterr().out
    assert not ex.check_voxel_matrix(lambda m, s: m * 2)
    assert "not the mm transform" in capsys.readouterr().out


# --------------------------------------------------------------------------- recording pipeline
def good_compose(steps, image, mask, rng):
    record = []
    for name, p, draw, apply in steps:
        entry = {"transform": name, "applied": bool(rng.random() < p)}
        if entry["applied"]:
            params = draw(rng, image, mask)
            image, mask = apply(image, mask, params)
            entry.update(params)
        record.append(entry)
    return image, mask, record


def test_compose_accepts_correct_answer(capsys):
    assert ex.check_compose_record(good_compose)
    assert "✅" in capsys.readouterr().out


def test_compose_matches_the_course_compose():
    image = np.arange(48.0).reshape(6, 8)
    pipeline = augment.Compose(
        [
            augment.RandomApply(augment.Flip(axis=1), p=0.5),
            augment.RandomApply(augment.Rot90(), p=0.7),
        ]
    )
    steps = [(t.name, t.p, t.transform.sample, t.transform.apply) for t in pipeline.transforms]
    for seed in range(20):
        mine = good_compose(steps, image, None, np.random.default_rng(seed))
        course = pipeline(image, None, rng=np.random.default_rng(seed))
        assert np.array_equal(mine[0], course[0]) and mine[2] == course[2]


def test_compose_rejects_recording_applied_steps_only(capsys):
    def applied_only(steps, image, mask, rng):
        image, mask, record = good_compose(steps, image, mask, rng)
        return image, mask, [entry for entry in record if entry["applied"]]

    assert not ex.check_compose_record(applied_only)
    assert "not applied" in capsys.readouterr().out


def test_compose_rejects_inverted_coin(capsys):
    def inverted(steps, image, mask, rng):
        flipped = [(n, 1.0 - p, d, a) for n, p, d, a in steps]
        image, mask, record = good_compose(flipped, image, mask, rng)
        return image, mask, record

    assert not ex.check_compose_record(inverted)
    assert "p = 0 was applied" in capsys.readouterr().out


def test_compose_rejects_drawing_twice(capsys):
    def draws_twice(steps, image, mask, rng):
        record = []
        for name, p, draw, apply in steps:
            entry = {"transform": name, "applied": bool(rng.random() < p)}
            if entry["applied"]:
                entry.update(draw(rng, image, mask))
                image, mask = apply(image, mask, draw(rng, image, mask))
            record.append(entry)
        return image, mask, record

    assert not ex.check_compose_record(draws_twice)
    assert "replaying the record" in capsys.readouterr().out


def test_compose_rejects_missing_parameters_and_unseeded(capsys):
    def no_params(steps, image, mask, rng):
        image, mask, record = good_compose(steps, image, mask, rng)
        return image, mask, [{"transform": e["transform"], "applied": e["applied"]} for e in record]

    assert not ex.check_compose_record(no_params)
    assert "lacks the parameter" in capsys.readouterr().out

    def always(steps, image, mask, rng):
        return good_compose(
            [(n, 1.0 if p > 0 else 0.0, d, a) for n, p, d, a in steps], image, mask, rng
        )

    assert not ex.check_compose_record(always)
    assert "p = 0.5" in capsys.readouterr().out

    def unseeded(steps, image, mask, rng):
        return good_compose(steps, image, mask, np.random.default_rng())

    assert not ex.check_compose_record(unseeded, n_trials=5)
    assert "same generator seed" in capsys.readouterr().out


# --------------------------------------------------------------------------- balanced weights
LABELS = ["CE"] * 11 + ["LAA"] * 4


def good_weights(labels):
    labels = np.asarray(labels)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    return weights / weights.sum()


def test_weights_accept_correct_answer_and_helper(capsys):
    assert ex.check_balanced_weights(good_weights, LABELS)
    assert ex.check_balanced_weights(augment.balanced_weights, LABELS)
    assert "✅" in capsys.readouterr().out


def test_weights_reject_proportional_to_class_size(capsys):
    def proportional(labels):
        labels = np.asarray(labels)
        _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        weights = counts[inverse].astype(float)
        return weights / weights.sum()

    assert not ex.check_balanced_weights(proportional, LABELS)
    assert "repeat the imbalance" in capsys.readouterr().out


def test_weights_reject_unnormalised_and_per_class(capsys):
    def unnormalised(labels):
        _, inverse, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
        return 1.0 / counts[inverse]

    assert not ex.check_balanced_weights(unnormalised, LABELS)
    assert "sum to" in capsys.readouterr().out

    def per_class(labels):
        _, counts = np.unique(np.asarray(labels), return_counts=True)
        return (1.0 / counts) / (1.0 / counts).sum()

    assert not ex.check_balanced_weights(per_class, LABELS)
    assert "one weight per row" in capsys.readouterr().out


def test_weights_reject_two_class_only_and_uniform(capsys):
    def two_classes(labels):
        labels = np.asarray(labels)
        minority = labels == labels[-1]
        weights = np.where(minority, 1.0 / minority.sum(), 1.0 / (~minority).sum())
        return weights / weights.sum()

    assert not ex.check_balanced_weights(two_classes, LABELS)
    out = capsys.readouterr().out
    assert "equal total weight" in out and "three-class list" in out
    assert "'c' gets the most" in out and "repeat the imbalance" not in out
    assert not ex.check_balanced_weights(
        lambda labels: np.full(len(labels), 1 / len(labels)), LABELS
    )
    assert "repeat the imbalance" in capsys.readouterr().out
    assert not ex.check_balanced_weights(lambda labels: None, LABELS)
    assert "None" in capsys.readouterr().out


def test_weights_first_class_against_the_rest_is_named_not_misdiagnosed(capsys):
    # the review's wrong answer: the first row's class against all the others
    def first_against_rest(labels):
        labels = np.asarray(labels)
        first = labels == labels[0]
        weights = np.where(first, 1.0 / first.sum(), 1.0 / (~first).sum())
        return weights / weights.sum()

    assert not ex.check_balanced_weights(first_against_rest, LABELS)
    out = capsys.readouterr().out
    assert "on the check's own three-class list (9 'a', 4 'b', 2 'c')" in out
    assert "'a' gets the most and 'c' the least" in out
    assert "proportional" not in out and "repeat the imbalance" not in out
    assert "not three classes" in out  # the hint says the two-class case passed


def test_weights_failure_on_the_students_labels_names_them(capsys):
    assert not ex.check_balanced_weights(lambda labels: np.ones(len(labels)), LABELS)
    assert "on the labels you passed: the weights sum to" in capsys.readouterr().out


# --------------------------------------------------------------------------- intensity transforms
def good_contrast(image, factor, centre, value_range):
    return np.clip((image - centre) * factor + centre, *value_range)


def good_gamma(image, gamma, value_range):
    low, high = value_range
    unit = np.clip((image - low) / (high - low), 0.0, 1.0)
    return low + (high - low) * unit**gamma


def test_intensity_accepts_correct_answers_and_helpers(capsys):
    assert ex.check_intensity_transforms(good_contrast, good_gamma)
    assert "✅" in capsys.readouterr().out

    def contrast_helper(image, factor, centre, value_range):
        return augment.adjust_contrast(image, factor, value_range=value_range, centre=centre)

    def gamma_helper(image, gamma, value_range):
        return augment.adjust_gamma(image, gamma, value_range=value_range)

    assert ex.check_intensity_transforms(contrast_helper, gamma_helper)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda image, f, c, r: (image - c) * f + c, "np.clip"),
        (lambda image, f, c, r: np.clip(image * f, *r), "about 0"),
        (lambda image, f, c, r: np.clip((image - image.mean()) * f + image.mean(), *r), "mean"),
        (lambda image, f, c, r: np.clip((image - c) / f + c, *r), "compressed"),
        (lambda image, f, c, r: None, "None"),
    ],
)
def test_intensity_names_the_contrast_mistake(wrong, message, capsys):
    assert not ex.check_intensity_transforms(wrong, good_gamma)
    assert message in capsys.readouterr().out


def _no_clip_gamma(image, gamma, value_range):
    low, high = value_range
    return low + (high - low) * ((image - low) / (high - low)) ** gamma


def _unit_only_gamma(image, gamma, value_range):
    low, high = value_range
    return np.clip((image - low) / (high - low), 0, 1) ** gamma


def _inverse_gamma(image, gamma, value_range):
    return good_gamma(image, 1 / gamma, value_range)


def _raw_gamma(image, gamma, value_range):
    return np.clip(image**gamma, *value_range)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_no_clip_gamma, "outside it"),
        (_unit_only_gamma, "did not map back"),
        (_inverse_gamma, "1 / gamma"),
        (_raw_gamma, "Normalise first"),
    ],
)
def test_intensity_names_the_gamma_mistake(wrong, message, capsys):
    with np.errstate(invalid="ignore"):
        assert not ex.check_intensity_transforms(good_contrast, wrong)
    assert message in capsys.readouterr().out


def test_intensity_stub(capsys):
    def stub(*args):
        raise NotImplementedError

    assert not ex.check_intensity_transforms(stub, good_gamma)
    assert "not implemented" in capsys.readouterr().out


# --------------------------------------------------------------------------- wrong answers added in the fix
@pytest.mark.parametrize("p_mirror", [0.25, 0.75])
def test_flip_rotate_rejects_a_biased_mirror(p_mirror, capsys):
    def biased(image, mask, rng):
        if rng.random() < p_mirror:
            image, mask = np.fliplr(image), np.fliplr(mask)
        k = int(rng.integers(4))
        return np.rot90(image, k), np.rot90(mask, k)

    assert not ex.check_random_flip_rotate(biased)
    out = capsys.readouterr().out
    assert "mirrored in" in out and str(p_mirror) not in out


def test_flip_rotate_accepts_the_other_draw_order(capsys):
    def rotate_first(image, mask, rng):
        k = int(rng.integers(4))
        image, mask = np.rot90(image, k), np.rot90(mask, k)
        if rng.random() < 0.5:
            image, mask = np.flipud(image), np.flipud(mask)  # a mirror after the turn: still fair
        return image, mask

    assert ex.check_random_flip_rotate(rotate_first)
    assert "✅" in capsys.readouterr().out


def test_crop_corner_names_a_deterministic_centred_crop(capsys):
    def centred(mask, size, rng):
        rows, cols = np.nonzero(mask)
        if not rows.size:
            return (mask.shape[0] - size) // 2, (mask.shape[1] - size) // 2
        row0 = (rows.min() + rows.max() + 1) // 2 - size // 2
        col0 = (cols.min() + cols.max() + 1) // 2 - size // 2
        return (
            int(np.clip(row0, 0, mask.shape[0] - size)),
            int(np.clip(col0, 0, mask.shape[1] - size)),
        )

    assert not ex.check_crop_corner(centred)
    out = capsys.readouterr().out
    assert "not random" in out and "never returns" not in out


def test_voxel_matrix_names_reversed_spacing_order(capsys):
    def reversed_order(linear_mm, spacing_mm):
        s = np.diag(spacing_mm[::-1])  # (x, y, z) thinking
        return np.linalg.inv(s) @ linear_mm @ s

    assert not ex.check_voxel_matrix(reversed_order)
    out = capsys.readouterr().out
    assert "reverse axis order" in out and "unchanged" not in out


def test_reproducible_rejects_seed_plus_index(pair, capsys):
    def added(image, mask, indices, seed):
        return _split([PIPELINE(image, mask, rng=np.random.default_rng(seed + i)) for i in indices])

    assert not ex.check_reproducible_augment(added, *pair)
    out = capsys.readouterr().out
    assert "seeds share" in out and "are added" in out


def test_reproducible_accepts_a_unique_integer_per_pair(pair, capsys):
    def packed(image, mask, indices, seed):
        return _split(
            [PIPELINE(image, mask, rng=np.random.default_rng(seed * 100_000 + i)) for i in indices]
        )

    assert ex.check_reproducible_augment(packed, *pair)
    assert "✅" in capsys.readouterr().out
