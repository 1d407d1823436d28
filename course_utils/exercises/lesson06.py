"""Checks for ``06_augmentation``: paired orientations, crops that keep a lesion, spacing-aware
matrices, intensity transforms on a declared range, a recording pipeline, reproducible sampling
and class-balanced sampling weights.

Each check calls the student's function on its own small test data, looks at
*properties* of the result (is the mask transformed like the image? does the
same seed give the same output? are the classes balanced?) and prints
specific feedback without revealing the solution.
"""

from __future__ import annotations

import random

import numpy as np

from course_utils import checks

__all__ = [
    "ORIENTATION_NAMES",
    "check_random_flip_rotate",
    "check_crop_corner",
    "check_voxel_matrix",
    "check_compose_record",
    "check_reproducible_augment",
    "check_balanced_weights",
    "check_intensity_transforms",
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
    mirrored = sum(count for (flipped, _), count in counts.items() if flipped)
    if not 0.38 * n_trials <= mirrored <= 0.62 * n_trials:
        return checks.feedback(
            False,
            name,
            f"the image was mirrored in {mirrored} of {n_trials} seeds ({mirrored / n_trials:.0%}); "
            "a mirror that happens half of the time would give between 38 % and 62 % here.",
            "Mirror when one uniform draw falls below 0.5, not below another threshold.",
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


def _run_augment(function, image, mask, indices, seed, name):
    ok, result = checks.call_student(
        function, image.copy(), mask.copy(), list(indices), seed, name=name
    )
    if not ok:
        return None
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        checks.feedback(
            False, name, f"expected a tuple (images, masks, records), got {type(result).__name__}."
        )
        return None
    images, masks, records = (list(part) for part in result)
    if not (len(images) == len(masks) == len(records) == len(indices)):
        checks.feedback(
            False,
            name,
            f"asked for {len(indices)} samples (indices {list(indices)}), got {len(images)} images, "
            f"{len(masks)} masks and {len(records)} records.",
        )
        return None
    return images, masks, records


def _same_samples(first, second) -> bool:
    return all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(first[0] + first[1], second[0] + second[1], strict=True)
    )


def _global_states():
    return np.random.get_state(), random.getstate()


def _same_global_states(first, second) -> bool:
    (np_a, py_a), (np_b, py_b) = first, second
    same_numpy = all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
        for a, b in zip(np_a, np_b, strict=True)
    )
    return same_numpy and py_a == py_b


def check_reproducible_augment(function, image, mask, n_samples: int = 4) -> bool:
    """Check ``function(image, mask, indices, seed) -> (images, masks, records)``.

    One sample per entry of ``indices``. Requirements: sample ``i`` depends only
    on ``(seed, i)``: the same whatever the global random state, and the same
    when drawn alone or in another order (as when data-loader workers each draw
    a share of the samples); different indices give different samples; another
    seed gives different samples; masks keep the input's labels; numpy's and
    Python's *global* random states are left exactly as they were (a function
    that calls ``np.random.seed`` is reproducible, but it resets the numbers
    every other user of ``np.random`` gets).

    Example
    -------
    >>> from course_utils import augment
    >>> pipeline = augment.Compose([augment.RandomApply(augment.Flip(axis=1), p=0.5), augment.Rot90()])
    >>> def good(image, mask, indices, seed):
    ...     out = [pipeline(image, mask, rng=np.random.default_rng([seed, i])) for i in indices]
    ...     return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]
    >>> image = np.arange(64.0).reshape(8, 8); mask = (image % 7 == 0).astype(np.uint8)
    >>> check_reproducible_augment(good, image, mask)
    ✅ reproducible augmentation: correct.
    True
    """
    name = "reproducible augmentation"
    image, mask = np.asarray(image), np.asarray(mask)
    forward = list(range(n_samples))
    subset = forward[::-2]  # e.g. [3, 1]: another worker's share, in another order
    saved_state = _global_states()
    runs, touched = [], False
    try:
        for global_seed, seed, indices in (
            (1, 2024, forward),
            (2, 2024, forward),
            (3, 2024, subset),
            (4, 2025, forward),
        ):
            np.random.seed(global_seed)
            random.seed(global_seed)
            before = _global_states()
            result = _run_augment(function, image, mask, indices, seed, name)
            if result is None:
                return False
            touched = touched or not _same_global_states(before, _global_states())
            runs.append(result)
    finally:
        np.random.set_state(saved_state[0])
        random.setstate(saved_state[1])
    first, second, part, other = runs
    if not _same_samples(first, second):
        return checks.feedback(
            False,
            name,
            "two calls with the same seed and indices gave different samples.",
            "Every random number must come from a generator made from the seed; np.random.rand "
            "and random.random use hidden global state.",
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
            "The generators must be derived from the `seed` argument.",
        )
    distinct = {np.asarray(sample).tobytes() for sample in first[0]}
    if n_samples > 1 and len(distinct) == 1:
        return checks.feedback(
            False,
            name,
            f"all {n_samples} samples of one call are identical.",
            "Each index must get its own random numbers.",
        )
    if touched:
        return checks.feedback(
            False,
            name,
            "the samples are reproducible, but your function changed numpy's (or Python's) global "
            "random state: every other piece of code that draws from np.random (a data loader's "
            "shuffle, another library) now gets numbers your seed dictates, the same ones after "
            "every call.",
            "A local numpy.random.Generator needs no global seed at all.",
        )
    shifted = all(
        np.array_equal(np.asarray(other[0][i]), np.asarray(first[0][i + 1]))
        and other[2][i] == first[2][i + 1]
        for i in range(n_samples - 1)
    )
    if n_samples > 1 and shifted:
        return checks.feedback(
            False,
            name,
            "sample i of seed 2025 is sample i + 1 of seed 2024: seed and index are added, so "
            "neighbouring seeds share all but one sample and two 'independent' runs are mostly the "
            "same data.",
            "Combine seed and index so that every (seed, index) pair gets its own generator; "
            "numpy's seeding accepts several integers at once.",
        )
    reference = ([first[0][i] for i in subset], [first[1][i] for i in subset], None)
    by_position = (
        [first[0][i] for i in range(len(subset))],
        [first[1][i] for i in range(len(subset))],
        None,
    )
    if not _same_samples(part, reference) and _same_samples(part, by_position):
        return checks.feedback(
            False,
            name,
            f"the samples for indices {subset} are the samples of indices "
            f"{list(range(len(subset)))}: each sample follows from its position in the call, not "
            "from its index. Either one generator serves the whole call (each sample depends on the "
            "samples drawn before it) or the generator is seeded with the position in the list "
            "(enumerate's counter); two workers given different shares would repeat each other's "
            "samples.",
            "Build each sample's generator from the seed and the entry of `indices` itself.",
        )
    if not _same_samples(part, reference):
        return checks.feedback(
            False,
            name,
            f"the samples for indices {subset} differ from the same indices in a call with "
            f"indices {forward}: each sample depends on the samples drawn before it (one generator "
            "for the whole call), so two workers sharing the indices would not reproduce it.",
            "Derive each sample's generator from the seed and the sample's index together.",
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


# --------------------------------------------------------------------------- crop that keeps the lesion
def _crop_cases():
    """Masks with a lesion in the middle, at the top-left corner, at the right edge, and none."""
    cases = []
    for rows, cols in (
        (slice(8, 12), slice(9, 14)),
        (slice(0, 3), slice(1, 4)),
        (slice(5, 9), slice(20, 24)),
    ):
        mask = np.zeros((20, 24), dtype=np.uint8)
        mask[rows, cols] = 1
        mask[rows.start, cols.start] = 2  # a second label: the lesion is every non-zero pixel
        cases.append(mask)
    cases.append(np.zeros((20, 24), dtype=np.uint8))
    return cases


def _valid_corners(mask, size):
    lesion = np.argwhere(mask != 0)
    ranges = []
    for axis, length in enumerate(mask.shape):
        low, high = 0, length - size
        if lesion.size:
            low = max(low, int(lesion[:, axis].max()) - size + 1)
            high = min(high, int(lesion[:, axis].min()))
        ranges.append((low, high))
    return ranges


def check_crop_corner(function, size: int = 8, n_trials: int = 300) -> bool:
    """Check ``function(mask, size, rng) -> (row0, col0)``: a random crop corner that keeps the lesion.

    Requirements: the ``size`` x ``size`` window starting at the corner lies inside
    the image, contains every non-zero mask pixel, and every such corner can
    occur (including those that put the lesion against an edge of the crop);
    with an empty mask any corner inside the image is allowed; the same
    generator seed gives the same corner.

    Example
    -------
    >>> def good(mask, size, rng):
    ...     rows, cols = np.nonzero(mask)
    ...     corner = []
    ...     for found, length in ((rows, mask.shape[0]), (cols, mask.shape[1])):
    ...         low, high = 0, length - size
    ...         if found.size:
    ...             low, high = max(low, found.max() - size + 1), min(high, found.min())
    ...         corner.append(int(rng.integers(low, high + 1)))
    ...     return tuple(corner)
    >>> check_crop_corner(good)
    ✅ crop that keeps the lesion: correct.
    True
    """
    name = "crop that keeps the lesion"
    for case, mask in enumerate(_crop_cases()):
        where = "with an empty mask" if not mask.any() else f"with the lesion {_lesion_place(case)}"
        ranges = _valid_corners(mask, size)
        seen = set()
        for trial in range(n_trials):
            ok, corner = checks.call_student(
                function, mask.copy(), size, np.random.default_rng(trial), name=name
            )
            if not ok:
                return False
            try:
                row0, col0 = (int(v) for v in corner)
            except (TypeError, ValueError):
                return checks.feedback(
                    False, name, f"expected a tuple (row0, col0) of two integers, got {corner!r}."
                )
            inside = 0 <= row0 <= mask.shape[0] - size and 0 <= col0 <= mask.shape[1] - size
            if not inside:
                return checks.feedback(
                    False,
                    name,
                    f"{where}, corner ({row0}, {col0}) puts the {size} x {size} crop partly outside "
                    f"the {mask.shape[0]} x {mask.shape[1]} image.",
                    "The corner is limited by the lesion and by the image border at the same time.",
                )
            window = mask[row0 : row0 + size, col0 : col0 + size]
            if np.count_nonzero(window) != np.count_nonzero(mask):
                return checks.feedback(
                    False,
                    name,
                    f"{where}, corner ({row0}, {col0}) keeps {np.count_nonzero(window)} of "
                    f"{np.count_nonzero(mask)} lesion pixels: the crop cuts the lesion.",
                    "The crop must start at or before the lesion's first row and end at or after its "
                    "last row (a window of size n starting at r ends at r + n - 1); same for columns.",
                )
            seen.add((row0, col0))
        if len(seen) == 1 and any(high > low for low, high in ranges):
            return checks.feedback(
                False,
                name,
                f"{where}, every one of {n_trials} seeds gave the same corner {next(iter(seen))}: "
                "the crop's position is not random, so the lesion always sits at the same place in "
                "the patch (and a model can learn that place).",
                "Draw each coordinate of the corner with the `rng` argument, between the smallest "
                "and the largest corner that keep the lesion.",
            )
        for axis, axis_name in enumerate(("row", "column")):
            low, high = ranges[axis]
            found = {corner[axis] for corner in seen}
            missing = sorted(set(range(low, high + 1)) - found)
            if missing:
                edge = (
                    "the largest"
                    if max(found) < high
                    else "the smallest"
                    if min(found) > low
                    else "some"
                )
                return checks.feedback(
                    False,
                    name,
                    f"{where}, {edge} allowed {axis_name} positions of the corner never occurred in "
                    f"{n_trials} seeds ({len(missing)} of {high - low + 1} missing).",
                    "Every corner that keeps the lesion should be possible"
                    + (
                        "; rng.integers(low, high) never returns `high` itself."
                        if edge == "the largest"
                        else "."
                    ),
                )
    mask = _crop_cases()[0]
    first = function(mask.copy(), size, np.random.default_rng(7))
    if tuple(function(mask.copy(), size, np.random.default_rng(7))) != tuple(first):
        return checks.feedback(
            False,
            name,
            "the same generator seed gave different corners.",
            "Draw from the `rng` argument only.",
        )
    return checks.feedback(True, name)


def _lesion_place(case: int) -> str:
    return ("in the middle", "at the top-left corner", "at the right edge")[case]


# --------------------------------------------------------------------------- S^-1 M S
def _rotation(plane, angle_deg):
    matrix = np.eye(3)
    a, b = plane
    cos_a, sin_a = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    matrix[a, a], matrix[a, b], matrix[b, a], matrix[b, b] = cos_a, -sin_a, sin_a, cos_a
    return matrix


def check_voxel_matrix(function) -> bool:
    """Check ``function(linear_mm, spacing_mm) -> linear_voxel`` (3 x 3), i.e. ``S⁻¹ · M · S``.

    The check uses rotations and a scaling on anisotropic voxels and names the
    usual mistakes: returning ``M`` unchanged, putting the spacing on the wrong
    sides, using ``S`` (or ``S⁻¹``) on both sides, inverting ``M`` or transposing it.

    Example
    -------
    >>> def good(linear_mm, spacing_mm):
    ...     s = np.diag(spacing_mm)
    ...     return np.linalg.inv(s) @ linear_mm @ s
    >>> check_voxel_matrix(good)
    ✅ voxel matrix from a mm matrix: correct.
    True
    """
    name = "voxel matrix from a mm matrix"
    # the first case has three different spacings, so that each mistake gives another matrix
    cases = [
        (_rotation((1, 2), -35.0) @ np.diag([1.0, 1.2, 0.9]), (3.0, 1.0, 0.5)),
        (_rotation((0, 1), 20.0), (8.0, 2.5, 2.5)),
        (_rotation((0, 2), 50.0) @ _rotation((1, 2), 15.0), (5.0, 0.8, 1.6)),
    ]
    for linear_mm, spacing in cases:
        ok, answer = checks.call_student(function, linear_mm.copy(), tuple(spacing), name=name)
        if not ok:
            return False
        if answer is None:
            return checks.feedback(False, name, "got None. Did your function forget to `return`?")
        answer = np.asarray(answer, dtype=float)
        if answer.shape != (3, 3):
            return checks.feedback(
                False, name, f"expected a 3 x 3 matrix, got shape {answer.shape}."
            )
        s, s_inv = np.diag(spacing), np.diag(1.0 / np.asarray(spacing))
        if np.allclose(answer, s_inv @ linear_mm @ s, atol=1e-9):
            continue
        r, r_inv = np.diag(spacing[::-1]), np.diag(1.0 / np.asarray(spacing[::-1]))
        mistakes = [
            (linear_mm, "you returned the mm matrix unchanged: that treats every voxel as a cube."),
            (
                r_inv @ linear_mm @ r,
                "the spacing is in the reverse axis order. `spacing_mm` is given as (plane, row, "
                "col), the order of the array's axes, not (x, y, z); use it as it comes.",
            ),
            (
                s @ linear_mm @ s_inv,
                "the spacing is on the wrong sides. Follow a voxel index from right to left: first "
                "into mm, then the mm transform, then back into indices.",
            ),
            (s @ linear_mm @ s, "S appears on both sides; one side must undo the other."),
            (s_inv @ linear_mm @ s_inv, "S⁻¹ appears on both sides; one side must undo the other."),
            (
                s_inv @ np.linalg.inv(linear_mm) @ s,
                "that is the inverse transform in voxel indices (the output-to-input map that "
                "resampling evaluates). The exercise asks for the forward transform; the "
                "resampling helper inverts it itself.",
            ),
            (linear_mm.T, "that is the transpose of the mm matrix."),
            (s_inv @ linear_mm.T @ s, "the mm matrix is transposed."),
        ]
        for wrong, message in mistakes:
            if np.allclose(answer, wrong, atol=1e-9):
                return checks.feedback(False, name, f"for spacing {spacing} mm {message}")
        return checks.feedback(
            False,
            name,
            f"for spacing {spacing} mm the matrix is not the mm transform expressed in voxel indices.",
            "A voxel index times the spacing is a position in mm (a diagonal matrix S).",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- a recording pipeline
def _test_steps(calls):
    def shift_draw(rng, image, mask):
        return {"delta": float(rng.uniform(-1.0, 1.0))}

    def shift_apply(image, mask, params):
        calls.append("shift")
        return image + params["delta"], mask

    def flip_apply(image, mask, params):
        calls.append("flip")
        return np.fliplr(image), np.fliplr(mask)

    def never_draw(rng, image, mask):
        return {"x": float(rng.random())}

    def never_apply(image, mask, params):
        calls.append("never")
        return image * 0.0, mask * 0

    def turn_draw(rng, image, mask):
        return {"k": int(rng.integers(1, 4))}

    def turn_apply(image, mask, params):
        calls.append("turn")
        return np.rot90(image, params["k"]), np.rot90(mask, params["k"])

    return [
        ("shift", 1.0, shift_draw, shift_apply),
        ("flip", 0.5, lambda rng, image, mask: {}, flip_apply),
        ("never", 0.0, never_draw, never_apply),
        ("turn", 0.5, turn_draw, turn_apply),
    ]


def check_compose_record(function, n_trials: int = 200) -> bool:
    """Check ``function(steps, image, mask, rng) -> (image, mask, record)``: a minimal Compose.

    ``steps`` is a list of ``(name, p, draw, apply)``: ``draw(rng, image, mask)``
    returns a dict of parameters and ``apply(image, mask, params)`` returns the
    new pair. Requirements: one record entry per step, in order, with
    ``"transform"`` (the name), ``"applied"`` (bool) and, for applied steps, the
    parameters used; a step with ``p = 0`` is never applied (its ``apply`` not
    called), ``p = 1`` always, ``p = 0.5`` about half the time; the record
    replays to exactly the returned image and mask; the same seed gives the
    same result.

    Example
    -------
    >>> def good(steps, image, mask, rng):
    ...     record = []
    ...     for name, p, draw, apply in steps:
    ...         entry = {"transform": name, "applied": bool(rng.random() < p)}
    ...         if entry["applied"]:
    ...             params = draw(rng, image, mask)
    ...             image, mask = apply(image, mask, params)
    ...             entry.update(params)
    ...         record.append(entry)
    ...     return image, mask, record
    >>> check_compose_record(good)
    ✅ pipeline with a record: correct.
    True
    """
    name = "pipeline with a record"
    image, mask = _test_pair()
    applied_counts = {"shift": 0, "flip": 0, "never": 0, "turn": 0}
    for trial in range(n_trials):
        calls: list[str] = []
        steps = _test_steps(calls)
        ok, result = checks.call_student(
            function, steps, image.copy(), mask.copy(), np.random.default_rng(trial), name=name
        )
        if not ok:
            return False
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return checks.feedback(
                False, name, f"expected a tuple (image, mask, record), got {type(result).__name__}."
            )
        out_image, out_mask, record = result
        if "never" in calls:
            return checks.feedback(
                False,
                name,
                "a step with p = 0 was applied.",
                "A step runs when a uniform draw in [0, 1) falls below p.",
            )
        if not isinstance(record, list) or len(record) != len(steps):
            size = len(record) if isinstance(record, list) else type(record).__name__
            return checks.feedback(
                False,
                name,
                f"the record has {size} entries for {len(steps)} steps.",
                "Record every step, also those that were not applied (applied False): a replay "
                "must know that they were skipped.",
            )
        for entry, (step_name, *_rest) in zip(record, steps, strict=True):
            if not isinstance(entry, dict) or entry.get("transform") != step_name:
                return checks.feedback(
                    False,
                    name,
                    f"record entry {entry!r} should describe step {step_name!r} "
                    "(key 'transform' with the step's name, in the order of the steps).",
                )
            if not isinstance(entry.get("applied"), (bool, np.bool_)):
                return checks.feedback(
                    False, name, f"record entry for {step_name!r} has no boolean 'applied'."
                )
            applied_counts[step_name] += bool(entry["applied"])
        replay_calls: list[str] = []
        replay_image, replay_mask = image.copy(), mask.copy()
        for entry, (_, _, _, apply) in zip(record, _test_steps(replay_calls), strict=True):
            if entry["applied"]:
                params = {k: v for k, v in entry.items() if k not in ("transform", "applied")}
                try:
                    replay_image, replay_mask = apply(replay_image, replay_mask, params)
                except KeyError as missing:
                    return checks.feedback(
                        False,
                        name,
                        f"the record of {entry['transform']!r} lacks the parameter {missing}.",
                        "Store the parameters that were drawn in the step's entry.",
                    )
        same = np.shape(out_image) == replay_image.shape and np.allclose(out_image, replay_image)
        if not same or not np.array_equal(np.asarray(out_mask), replay_mask):
            return checks.feedback(
                False,
                name,
                f"with seed {trial} replaying the record does not give the returned image and mask.",
                "Record the very parameters you applied: draw them once per step.",
            )
    first = function(_test_steps([]), image.copy(), mask.copy(), np.random.default_rng(5))
    second = function(_test_steps([]), image.copy(), mask.copy(), np.random.default_rng(5))
    if first[2] != second[2] or not np.array_equal(first[0], second[0]):
        return checks.feedback(
            False,
            name,
            "the same generator seed gave different results.",
            "Take every random number from the `rng` argument.",
        )
    if applied_counts["shift"] != n_trials:
        return checks.feedback(False, name, "a step with p = 1 was not always applied.")
    for step_name in ("flip", "turn"):
        share = applied_counts[step_name] / n_trials
        if not 0.35 <= share <= 0.65:
            return checks.feedback(
                False,
                name,
                f"a step with p = 0.5 was applied in {share:.0%} of {n_trials} seeds.",
                "Apply a step when a uniform draw in [0, 1) falls below p.",
            )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- balanced sampling weights
def check_balanced_weights(function, labels) -> bool:
    """Check ``function(labels) -> weights``: per-row sampling probabilities that balance the classes.

    Requirements: one non-negative weight per row, summing to 1 (so it can be
    passed as ``p`` to ``Generator.choice``); every class gets the same total
    weight; rows of one class get equal weights. Also run on a three-class list.

    Example
    -------
    >>> def good(labels):
    ...     labels = np.asarray(labels)
    ...     values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    ...     weights = 1.0 / counts[inverse]
    ...     return weights / weights.sum()
    >>> check_balanced_weights(good, ["CE"] * 7 + ["LAA"] * 3)
    ✅ balanced sampling weights: correct.
    True
    """
    name = "balanced sampling weights"
    three = np.array(["a"] * 9 + ["b"] * 4 + ["c"] * 2)
    test_sets = [
        (np.asarray(labels), "on the labels you passed"),
        (three, "on the check's own three-class list (9 'a', 4 'b', 2 'c')"),
    ]
    for position, (labels_array, where) in enumerate(test_sets):
        ok, weights = checks.call_student(function, labels_array.copy(), name=name)
        if not ok:
            return False
        if weights is None:
            return checks.feedback(
                False, name, "got None. Did your function forget to `return` the weights?"
            )
        weights = np.asarray(weights, dtype=float)
        if weights.shape != labels_array.shape:
            return checks.feedback(
                False,
                name,
                f"{where}: expected one weight per row ({labels_array.size}), "
                f"got shape {weights.shape}.",
                "A weight belongs to a row, not to a class.",
            )
        if (weights < 0).any() or not np.isfinite(weights).all():
            return checks.feedback(
                False, name, f"{where}: weights must be finite and non-negative."
            )
        if not np.isclose(weights.sum(), 1.0):
            return checks.feedback(
                False,
                name,
                f"{where}: the weights sum to {weights.sum():.3g}; Generator.choice needs "
                "probabilities that sum to 1.",
            )
        values, inverse, counts = np.unique(labels_array, return_inverse=True, return_counts=True)
        per_class = np.bincount(inverse, weights=weights)
        for index in range(values.size):
            if np.ptp(weights[inverse == index]) > 1e-12:
                return checks.feedback(
                    False,
                    name,
                    f"{where}: rows of class {str(values[index])!r} get different weights.",
                    "Within a class every row should be equally likely.",
                )
        if not np.allclose(per_class, per_class[0]):
            uniform_rows = np.allclose(weights, 1.0 / weights.size)
            size_rows = np.allclose(weights, counts[inverse] / counts[inverse].sum())
            totals = ", ".join(
                f"{str(value)!r} {total:.2f}"
                for value, total in zip(values, per_class, strict=True)
            )
            if uniform_rows or size_rows:
                detail = (
                    "every row gets the same weight, so each class is drawn as often as it has rows"
                    if uniform_rows
                    else "weights proportional to the class size favour the large classes even more"
                ) + ": they repeat the imbalance."
            else:
                detail = (
                    f"class {str(values[np.argmax(per_class)])!r} gets the most and "
                    f"{str(values[np.argmin(per_class)])!r} the least."
                )
            hint = "A class's total weight is its row weight times its number of rows."
            if position == 1:
                hint = (
                    "Your weights balance the labels you passed but not three classes: treat "
                    "every class on its own, not one class against all the others."
                )
            return checks.feedback(
                False,
                name,
                f"{where} the classes do not get equal total weight (totals {totals}): {detail}",
                hint,
            )
    return checks.feedback(True, name)


def _intensity_cases():
    # a CT-like range in HU, so "forgot to normalise" and "stretched about 0" both show, and
    # values beyond both ends of the range, so a missing clip shows
    value_range = (-1000.0, 3000.0)
    image = np.linspace(-1400.0, 3400.0, 49).reshape(7, 7)
    return image, value_range


def _compare(result, expected, name):
    if result is None:
        return "got None. Did your function forget to `return` the result?"
    result = np.asarray(result, dtype=float)
    if result.shape != expected.shape:
        return f"expected the image's shape {expected.shape}, got {result.shape}."
    if np.allclose(result, expected, rtol=1e-6, atol=1e-6, equal_nan=False):
        return None
    return ""


def _check_contrast(function, image, value_range, name):
    lo, hi = value_range
    factor, centre = 1.6, 400.0
    ok, result = checks.call_student(function, image.copy(), factor, centre, value_range, name=name)
    if not ok:
        return False
    expected = np.clip((image - centre) * factor + centre, lo, hi)
    problem = _compare(result, expected, name)
    if problem is None:
        return True
    if problem:
        return checks.feedback(False, name, problem)
    result = np.asarray(result, dtype=float)
    if np.isnan(result).any():
        return checks.feedback(False, name, "the result holds NaN.")
    if np.allclose(result, (image - centre) * factor + centre):
        return checks.feedback(
            False,
            name,
            f"values outside value_range {value_range} remain (from {result.min():g} to "
            f"{result.max():g}).",
            "No detector produces them: finish with np.clip(result, low, high).",
        )
    wrong_centres = {
        "0 (a plain multiplication)": 0.0,
        "the image's mean": float(image.mean()),
        "the middle of value_range": (lo + hi) / 2,
    }
    for label, wrong in wrong_centres.items():
        if np.allclose(result, np.clip((image - wrong) * factor + wrong, lo, hi)):
            return checks.feedback(
                False,
                name,
                f"the stretch is about {label}, not about the `centre` you were given.",
                "Subtract the centre, multiply by the factor, add the centre back.",
            )
    if np.allclose(result, np.clip((image - centre) / factor + centre, lo, hi)):
        return checks.feedback(
            False, name, "the contrast is compressed: a factor above 1 should stretch."
        )
    return checks.feedback(
        False,
        name,
        f"with factor {factor} and centre {centre:g} the result differs from a stretch about "
        "the centre.",
        "The centre itself must not move: contrast_about(centre) == centre.",
    )


def _check_gamma(function, image, value_range, name):
    lo, hi = value_range
    gamma = 0.6
    with np.errstate(invalid="ignore", divide="ignore"):
        ok, result = checks.call_student(function, image.copy(), gamma, value_range, name=name)
    if not ok:
        return False
    unit = np.clip((image - lo) / (hi - lo), 0.0, 1.0)
    expected = lo + (hi - lo) * unit**gamma
    problem = _compare(result, expected, name)
    if problem is None:
        return True
    if problem:
        return checks.feedback(False, name, problem)
    result = np.asarray(result, dtype=float)
    inside = (image >= lo) & (image <= hi)
    with np.errstate(invalid="ignore"):
        if np.allclose(result[inside], expected[inside]):
            return checks.feedback(
                False,
                name,
                f"right inside value_range, but the {np.sum(~inside)} pixels outside it give "
                "NaN or values beyond the range.",
                "Clip the normalised values to [0, 1] with np.clip before the power.",
            )
        if np.allclose(result, unit**gamma) or np.nanmax(result) <= 1.0:
            return checks.feedback(
                False,
                name,
                "the result stays in [0, 1]: you normalised but did not map back to "
                f"value_range {value_range}.",
                "Finish with low + (high - low) * unit ** gamma.",
            )
        if np.allclose(result, lo + (hi - lo) * unit ** (1 / gamma)):
            return checks.feedback(
                False, name, "the exponent is 1 / gamma: gamma below 1 should brighten."
            )
        if np.isnan(result).any() or np.allclose(result, np.clip(image, lo, hi)):
            return checks.feedback(
                False,
                name,
                "the power was applied to the raw values: on [-1000, 3000] HU, x ** gamma is "
                "NaN for negative values and leaves the ends of the range where they are not.",
                "Normalise first: unit = (image - low) / (high - low), a number in [0, 1].",
            )
    return checks.feedback(
        False,
        name,
        "the result differs from a gamma curve on the declared range.",
        "Normalise to [0, 1], clip, raise to gamma, map back to the range.",
    )


def check_intensity_transforms(contrast_about, gamma_on_range) -> bool:
    """Check ``contrast_about(image, factor, centre, value_range)`` and
    ``gamma_on_range(image, gamma, value_range)``.

    Both are tested on a CT-like range (-1000 to 3000 HU) with pixels beyond
    both ends, so a missing clip, a stretch about 0 or the mean, and a gamma
    applied without normalising to the range each give a different result.

    Example
    -------
    >>> def contrast(image, factor, centre, value_range):
    ...     return np.clip((image - centre) * factor + centre, *value_range)
    >>> def gamma(image, gamma, value_range):
    ...     low, high = value_range
    ...     unit = np.clip((image - low) / (high - low), 0, 1)
    ...     return low + (high - low) * unit**gamma
    >>> check_intensity_transforms(contrast, gamma)
    ✅ contrast about a centre and gamma on a range: correct.
    True
    """
    name = "contrast about a centre and gamma on a range"
    image, value_range = _intensity_cases()
    if not _check_contrast(contrast_about, image, value_range, "contrast_about"):
        return False
    if not _check_gamma(gamma_on_range, image, value_range, "gamma_on_range"):
        return False
    return checks.feedback(True, name)
