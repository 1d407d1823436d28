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


def good_augment(image, mask, n_samples, seed):
    rng = np.random.default_rng(seed)
    results = [PIPELINE(image, mask, rng=rng) for _ in range(n_samples)]
    return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]


def test_reproducible_accepts_correct_answer(pair, capsys):
    assert ex.check_reproducible_augment(good_augment, *pair)
    assert "✅" in capsys.readouterr().out


def test_reproducible_rejects_global_state(pair, capsys):
    def global_state(image, mask, n_samples, seed):
        rng = np.random.default_rng(np.random.randint(1_000_000))
        results = [PIPELINE(image, mask, rng=rng) for _ in range(n_samples)]
        return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]

    assert not ex.check_reproducible_augment(global_state, *pair)
    assert "same seed gave different" in capsys.readouterr().out


def test_reproducible_rejects_reseeding_per_sample(pair, capsys):
    def reseeded(image, mask, n_samples, seed):
        results = [PIPELINE(image, mask, rng=np.random.default_rng(seed)) for _ in range(n_samples)]
        return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]

    assert not ex.check_reproducible_augment(reseeded, *pair)
    assert "identical" in capsys.readouterr().out


def test_reproducible_rejects_ignored_seed(pair, capsys):
    def fixed(image, mask, n_samples, seed):
        return good_augment(image, mask, n_samples, 0)

    assert not ex.check_reproducible_augment(fixed, *pair)
    assert "seed is not used" in capsys.readouterr().out


def test_reproducible_rejects_interpolated_masks(pair, capsys):
    from scipy import ndimage

    def linear_masks(image, mask, n_samples, seed):
        rng = np.random.default_rng(seed)
        angles = rng.uniform(-20, 20, n_samples)
        images = [ndimage.rotate(image, a, reshape=False, order=1) for a in angles]
        masks = [ndimage.rotate(mask.astype(float), a, reshape=False, order=1) for a in angles]
        return images, masks, [{"angle_deg": float(a)} for a in angles]

    assert not ex.check_reproducible_augment(linear_masks, *pair)
    assert "nearest neighbour" in capsys.readouterr().out


def test_reproducible_wrong_lengths_and_stub(pair, capsys):
    assert not ex.check_reproducible_augment(lambda i, m, n, s: ([i], [m], []), *pair)
    assert "asked for 4 samples" in capsys.readouterr().out

    def stub(image, mask, n_samples, seed):
        raise NotImplementedError

    assert not ex.check_reproducible_augment(stub, *pair)
    assert "not implemented" in capsys.readouterr().out


def test_reproducible_check_restores_global_state(pair):
    np.random.seed(99)
    expected = np.random.random()
    np.random.seed(99)
    ex.check_reproducible_augment(good_augment, *pair)
    assert np.random.random() == expected


# --------------------------------------------------------------------------- balanced set
LABELS = ["CE"] * 11 + ["LAA"] * 4


def good_balanced(labels, rng):
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    extra = [
        rng.choice(np.flatnonzero(labels == value), counts.max() - count)
        for value, count in zip(values, counts, strict=True)
    ]
    return np.concatenate([np.arange(len(labels))] + extra)


def test_balanced_accepts_correct_answer(capsys):
    assert ex.check_balanced_indices(good_balanced, LABELS)
    assert "✅" in capsys.readouterr().out


def test_balanced_rejects_undersampling(capsys):
    def undersample(labels, rng):
        labels = np.asarray(labels)
        minority = (
            np.flatnonzero(labels == "LAA") if "LAA" in labels else np.flatnonzero(labels == "c")
        )
        return np.concatenate(
            [minority, np.flatnonzero(labels != labels[minority[0]])[: len(minority)]]
        )

    assert not ex.check_balanced_indices(undersample, LABELS)
    assert "missing" in capsys.readouterr().out


def test_balanced_rejects_unbalanced_and_duplicated_majority(capsys):
    assert not ex.check_balanced_indices(lambda labels, rng: np.arange(len(labels)), LABELS)
    assert "class counts" in capsys.readouterr().out

    def duplicate_all(labels, rng):
        return np.concatenate([np.arange(len(labels))] * 2)

    assert not ex.check_balanced_indices(duplicate_all, LABELS)
    assert "exactly once" in capsys.readouterr().out


def test_balanced_rejects_two_class_only_solution(capsys):
    def two_classes(labels, rng):
        labels = np.asarray(labels)
        minority = np.flatnonzero(labels == labels[-1])
        n_extra = int((labels != labels[-1]).sum() - minority.size)
        return np.concatenate([np.arange(len(labels)), rng.choice(minority, n_extra)])

    assert not ex.check_balanced_indices(two_classes, LABELS)
    assert "class counts" in capsys.readouterr().out


def test_balanced_rejects_bad_types_and_unseeded(capsys):
    assert not ex.check_balanced_indices(lambda labels, rng: None, LABELS)
    assert "None" in capsys.readouterr().out
    assert not ex.check_balanced_indices(lambda labels, rng: np.zeros(3), LABELS)
    assert "integer" in capsys.readouterr().out

    def unseeded(labels, rng):
        return good_balanced(labels, np.random.default_rng())

    assert not ex.check_balanced_indices(unseeded, LABELS)
    assert "same generator seed" in capsys.readouterr().out


# --------------------------------------------------------------------------- new label values
def test_new_label_count():
    original = np.array([[0, 0, 2], [0, 2, 2]], dtype=np.uint8)
    resampled = np.array([[0, 1, 2], [0, 1, 2]], dtype=np.uint8)
    assert ex.check_new_label_count(1, original, resampled)
    assert not ex.check_new_label_count(3, original, resampled)
    assert not ex.check_new_label_count(None, original, resampled)
