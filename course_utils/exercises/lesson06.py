"""Checks for ``06_augmentation``: paired random orientations, reproducible pipelines, balanced sets.

Each check calls the student's function on its own small test data, looks at
*properties* of the result (is the mask transformed like the image? does the
same seed give the same output? are the classes balanced?) and prints
specific feedback without revealing the solution.
"""

from __future__ import annotations

import numpy as np

from course_utils import checks

__all__ = [
    "ORIENTATION_NAMES",
    "check_random_flip_rotate",
    "check_reproducible_augment",
    "check_balanced_indices",
    "check_new_label_count",
]

#: The 8 orientations of a rectangle (the dihedral group): ``(flipped, k)`` -> name.
ORIENTATION_NAMES = {
    (False, 0): "unchanged",
    (False, 1): "quarter turn counter-clockwise",
    (False, 2): "half turn",
    (False, 3): "quarter turn clockwise",
    (True, 0): "left-right mirror",
    (True, 1): "mirror + quarter turn counter-clockwise",
    (True, 2): "mirror + half turn",
    (True, 3): "mirror + quarter turn clockwise",
}


def _orient(array: np.ndarray, flipped: bool, k: int) -> np.ndarray:
    return np.rot90(np.fliplr(array) if flipped else array, k)


def _test_pair() -> tuple[np.ndarray, np.ndarray]:
    """A 6 x 8 image whose every pixel differs, with an asymmetric two-label mask."""
    image = np.arange(48, dtype=float).reshape(6, 8) * 10.0
    mask = np.zeros((6, 8), dtype=np.uint8)
    mask[1:3, 1:5] = 1
    mask[3, 1] = 2
    return image, mask


def _identify(image_out, original) -> tuple[bool, int] | None:
    for flipped, k in ORIENTATION_NAMES:
        candidate = _orient(original, flipped, k)
        if image_out.shape == candidate.shape and np.array_equal(image_out, candidate):
            return flipped, k
    return None


def _as_pair_result(result, name: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        checks.feedback(
            False, name, f"expected a tuple (image, mask), got {type(result).__name__}."
        )
        return None
    return np.asarray(result[0]), np.asarray(result[1])


def check_random_flip_rotate(function, n_trials: int = 240) -> bool:
    """Check ``function(image, mask, rng) -> (image, mask)``: a random orientation applied to both.

    Requirements: the image is one of the 8 orientations (mirror or not, 0-3
    quarter turns) of the input; the mask gets the *same* orientation; all 8
    occur with roughly equal frequency (including "unchanged"); the same
    generator seed gives the same result.

    Example
    -------
    >>> def good(image, mask, rng):
    ...     if rng.random() < 0.5:
    ...         image, mask = np.fliplr(image), np.fliplr(mask)
    ...     k = int(rng.integers(4))
    ...     return np.rot90(image, k), np.rot90(mask, k)
    >>> check_random_flip_rotate(good)
    ✅ random flip/rotation: correct.
    True
    """
    name = "random flip/rotation"
    image, mask = _test_pair()
    counts = dict.fromkeys(ORIENTATION_NAMES, 0)
    for trial in range(n_trials):
        ok, result = checks.call_student(
            function, image.copy(), mask.copy(), np.random.default_rng(trial), name=name
        )
        if not ok:
            return False
        pair = _as_pair_result(result, name)
        if pair is None:
            return False
        image_out, mask_out = pair
        orientation = _identify(image_out, image)
        if orientation is None:
            return checks.feedback(
                False,
                name,
                f"with np.random.default_rng({trial}) the returned image (shape {image_out.shape}) is "
                "not a mirror image or quarter turn of the input.",
                "Use np.fliplr / np.rot90 only; do not resize or interpolate.",
            )
        if mask_out.shape != image_out.shape or not np.array_equal(
            mask_out, _orient(mask, *orientation)
        ):
            mask_orientation = _identify(mask_out, mask) if mask_out.shape else None
            detail = (
                f"it got '{ORIENTATION_NAMES[mask_orientation]}'"
                if mask_orientation is not None
                else "it is not an orientation of the input mask"
            )
            return checks.feedback(
                False,
                name,
                f"with np.random.default_rng({trial}) the image got '{ORIENTATION_NAMES[orientation]}' "
                f"but the mask did not ({detail}); the lesion outline no longer matches the image.",
                "Draw the random choices once and apply the same ones to image and mask.",
            )
        if mask_out.dtype != mask.dtype:
            return checks.feedback(
                False, name, f"the mask's dtype changed from {mask.dtype} to {mask_out.dtype}."
            )
        counts[orientation] += 1
    missing = [ORIENTATION_NAMES[key] for key, count in counts.items() if count == 0]
    if missing:
        return checks.feedback(
            False,
            name,
            f"over {n_trials} seeds some orientations never occurred: {', '.join(missing)}.",
            "Each of 'mirror or not' and k in {0, 1, 2, 3} must be possible, including no change at all.",
        )
    largest = max(counts, key=counts.get)
    if counts[largest] > 2.0 * n_trials / 8:
        return checks.feedback(
            False,
            name,
            f"'{ORIENTATION_NAMES[largest]}' came up {counts[largest]} times in {n_trials} "
            f"(about {n_trials // 8} expected); the orientations are not equally likely.",
            "Mirror with probability 0.5 and draw k uniformly from 0-3.",
        )
    # Several seeds: a function drawing from global state repeats one result by chance 1 time in 8.
    for seed in range(12345, 12357):
        first = function(image.copy(), mask.copy(), np.random.default_rng(seed))
        second = function(image.copy(), mask.copy(), np.random.default_rng(seed))
        if not np.array_equal(np.asarray(first[0]), np.asarray(second[0])):
            return checks.feedback(
                False,
                name,
                "the same generator seed gave different results.",
                "Take every random number from the `rng` argument, not from np.random or random.",
            )
    return checks.feedback(True, name)


def _run_augment(function, image, mask, n_samples, seed, name):
    ok, result = checks.call_student(
        function, image.copy(), mask.copy(), n_samples, seed, name=name
    )
    if not ok:
        return None
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        checks.feedback(
            False, name, f"expected a tuple (images, masks, records), got {type(result).__name__}."
        )
        return None
    images, masks, records = (list(part) for part in result)
    if not (len(images) == len(masks) == len(records) == n_samples):
        checks.feedback(
            False,
            name,
            f"asked for {n_samples} samples, got {len(images)} images, {len(masks)} masks and "
            f"{len(records)} records.",
        )
        return None
    return images, masks, records


def _same_samples(first, second) -> bool:
    return all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(first[0] + first[1], second[0] + second[1], strict=True)
    )


def check_reproducible_augment(function, image, mask, n_samples: int = 4) -> bool:
    """Check ``function(image, mask, n_samples, seed) -> (images, masks, records)`` is reproducible.

    Requirements: the same ``seed`` gives identical samples and records, whatever
    the global random state; another seed gives different samples; the samples
    within one call differ from each other (one generator for the whole call,
    not a fresh one per sample); masks keep the input's labels.

    Example
    -------
    >>> from course_utils import augment
    >>> pipeline = augment.Compose([augment.RandomApply(augment.Flip(axis=1), p=0.5), augment.Rot90()])
    >>> def good(image, mask, n_samples, seed):
    ...     rng = np.random.default_rng(seed)
    ...     out = [pipeline(image, mask, rng=rng) for _ in range(n_samples)]
    ...     return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]
    >>> image = np.arange(64.0).reshape(8, 8); mask = (image % 7 == 0).astype(np.uint8)
    >>> check_reproducible_augment(good, image, mask)
    ✅ reproducible augmentation: correct.
    True
    """
    name = "reproducible augmentation"
    image, mask = np.asarray(image), np.asarray(mask)
    saved_state = np.random.get_state()
    try:
        np.random.seed(1)
        first = _run_augment(function, image, mask, n_samples, 2024, name)
        if first is None:
            return False
        np.random.seed(2)
        second = _run_augment(function, image, mask, n_samples, 2024, name)
        if second is None:
            return False
        np.random.seed(3)
        other = _run_augment(function, image, mask, n_samples, 2025, name)
        if other is None:
            return False
    finally:
        np.random.set_state(saved_state)
    if not _same_samples(first, second):
        return checks.feedback(
            False,
            name,
            "two calls with the same seed gave different samples.",
            "Create one generator with np.random.default_rng(seed) and draw everything from it; "
            "np.random.rand and random.random use hidden global state.",
        )
    if first[2] != second[2]:
        return checks.feedback(
            False, name, "the same seed gave identical images but different records."
        )
    if _same_samples(first, other):
        return checks.feedback(
            False,
            name,
            "seeds 2024 and 2025 gave identical samples; the seed is not used.",
            "Pass the seed to np.random.default_rng.",
        )
    distinct = {np.asarray(sample).tobytes() for sample in first[0]}
    if n_samples > 1 and len(distinct) == 1:
        return checks.feedback(
            False,
            name,
            f"all {n_samples} samples of one call are identical.",
            "Create the generator once, before the loop, not once per sample.",
        )
    labels = set(np.unique(mask).tolist())
    for index, sample_mask in enumerate(first[1]):
        new = set(np.unique(np.asarray(sample_mask)).tolist()) - labels - {0}
        if new:
            return checks.feedback(
                False,
                name,
                f"mask of sample {index} contains label value(s) {sorted(new)[:3]} that the input mask "
                "does not have.",
                "Masks must be resampled with nearest neighbour (order 0).",
            )
    return checks.feedback(True, name)


def check_balanced_indices(function, labels) -> bool:
    """Check ``function(labels, rng) -> indices`` that oversamples minority classes.

    Requirements: a 1-D integer array of row positions into ``labels``; every
    row appears at least once; majority-class rows exactly once; afterwards
    every class has as many rows as the majority class; the same seed gives
    the same indices. The check also runs a second, three-class label list.

    Example
    -------
    >>> def good(labels, rng):
    ...     labels = np.asarray(labels)
    ...     values, counts = np.unique(labels, return_counts=True)
    ...     extra = [rng.choice(np.flatnonzero(labels == v), counts.max() - c)
    ...              for v, c in zip(values, counts)]
    ...     return np.concatenate([np.arange(len(labels))] + extra)
    >>> check_balanced_indices(good, ["CE"] * 7 + ["LAA"] * 3)
    ✅ balanced set: correct.
    True
    """
    name = "balanced set"
    test_sets = [np.asarray(labels), np.array(["a"] * 9 + ["b"] * 4 + ["c"] * 2)]
    for labels_array in test_sets:
        if labels_array.ndim != 1 or labels_array.size == 0:
            return checks.feedback(
                False, name, f"labels must be a non-empty 1-D list, got shape {labels_array.shape}."
            )
        ok, indices = checks.call_student(
            function, labels_array.copy(), np.random.default_rng(0), name=name
        )
        if not ok:
            return False
        if indices is None:
            return checks.feedback(
                False, name, "got None. Did your function forget to `return` the indices?"
            )
        indices = np.asarray(indices)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            return checks.feedback(
                False,
                name,
                f"expected a 1-D array of integer row positions, got shape {indices.shape}, dtype {indices.dtype}.",
            )
        if indices.size and (indices.min() < 0 or indices.max() >= labels_array.size):
            return checks.feedback(False, name, f"indices must lie in 0..{labels_array.size - 1}.")
        times = np.bincount(indices, minlength=labels_array.size)
        if (times == 0).any():
            return checks.feedback(
                False,
                name,
                f"{int((times == 0).sum())} original row(s) are missing.",
                "Keep every original row once and add copies of minority rows.",
            )
        values, counts = np.unique(labels_array, return_counts=True)
        majority = values[np.argmax(counts)]
        if (times[labels_array == majority] != 1).any():
            return checks.feedback(
                False, name, f"rows of the majority class {majority!r} should appear exactly once."
            )
        new_values, new_counts = np.unique(labels_array[indices], return_counts=True)
        if len(set(new_counts.tolist())) != 1 or len(new_values) != len(values):
            summary = ", ".join(
                f"{v}: {c}" for v, c in zip(new_values.tolist(), new_counts.tolist(), strict=True)
            )
            return checks.feedback(
                False,
                name,
                f"class counts after oversampling are {summary}; expected all equal to the majority count.",
            )
        again = np.asarray(function(labels_array.copy(), np.random.default_rng(0)))
        if not np.array_equal(np.sort(again), np.sort(indices)):
            return checks.feedback(
                False,
                name,
                "the same generator seed gave different indices.",
                "Draw copies with rng.choice.",
            )
    return checks.feedback(True, name)


def check_new_label_count(answer, original_mask, resampled_mask) -> bool:
    """Check the number of label values in ``resampled_mask`` that ``original_mask`` does not have.

    Example
    -------
    >>> check_new_label_count(1, np.array([0, 2]), np.array([0, 1, 2]))
    ✅ new label values: correct.
    True
    """
    original = set(np.unique(np.asarray(original_mask)).tolist())
    resampled = set(np.unique(np.asarray(resampled_mask)).tolist())
    return checks.check_scalar(
        answer,
        float(len(resampled - original)),
        name="new label values",
        rtol=0,
        atol=0.5,
        hint="Compare the sets of values with np.unique on both masks (set difference).",
    )
