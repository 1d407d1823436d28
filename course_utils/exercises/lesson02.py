"""Checks for ``02_volumes_and_sampling``.

Each check recomputes the reference from the geometry the student used and
prints specific feedback without giving the answer away.

Example
-------
>>> check_field_of_view([120.0, 358.4, 358.4], (48, 256, 256), (2.5, 1.4, 1.4))
✅ field of view: correct.
True
"""

from __future__ import annotations

import warnings

import numpy as np

from course_utils import checks

__all__ = [
    "check_field_of_view",
    "check_ct5n_evidence",
    "check_frame_positions",
    "reference_frame_positions",
    "reference_slice_evidence",
    "check_slice_order",
    "reference_slice_order",
    "check_build_affine",
    "check_slab_mip",
    "check_nifti_affine",
    "reference_slab_mip",
    "check_resample_to_spacing",
    "reference_resample",
    "check_antialiased_resample",
    "reference_antialiased_resample",
    "check_show_section",
    "reference_show_section",
]


def _geometry(shape, spacing_mm, name):
    shape = tuple(int(n) for n in np.ravel(shape))
    spacing = np.asarray(spacing_mm, dtype=float).ravel()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"{name}: shape must be 3 positive integers (slice, row, column), got {shape}"
        )
    if spacing.size != 3 or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise ValueError(f"{name}: spacing_mm must be 3 positive numbers in mm, got {spacing_mm!r}")
    return shape, spacing


# --------------------------------------------------------------------------- field of view
def check_field_of_view(answer, shape, spacing_mm) -> bool:
    """Check the field of view (mm) along (slice, row, column) of a volume.

    The field of view is the extent covered by the voxels: number of voxels
    times spacing (from the outer edge of the first voxel to the outer edge of
    the last one).

    Parameters
    ----------
    answer : sequence of 3 float
        The student's field of view in mm, in (slice, row, column) order.
    shape : tuple of 3 int
    spacing_mm : sequence of 3 float

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        If ``shape`` or ``spacing_mm`` are not valid geometry (a bug in the notebook, not the answer).

    Example
    -------
    >>> check_field_of_view([117.5, 357.0, 357.0], (48, 256, 256), (2.5, 1.4, 1.4))
    ❌ field of view: you measured from the centre of the first voxel to the centre of the last one. Hint: How much of the axis do the first and the last voxel themselves cover?
    False
    """
    name = "field of view"
    shape, spacing = _geometry(shape, spacing_mm, name)
    expected = np.array(shape) * spacing
    if answer is None:
        return checks.feedback(False, name, "got None. Assign your result to the variable.")
    try:
        values = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return checks.feedback(
            False, name, f"expected 3 numbers in mm, got {type(answer).__name__}."
        )
    if values.size != 3:
        return checks.feedback(
            False, name, f"expected 3 numbers (slice, row, column), got {values.size}."
        )
    if np.allclose(values, expected, rtol=1e-4):
        return checks.feedback(True, name)
    if np.allclose(values, (np.array(shape) - 1) * spacing, rtol=1e-4):
        return checks.feedback(
            False,
            name,
            "you measured from the centre of the first voxel to the centre of the last one.",
            "How much of the axis do the first and the last voxel themselves cover?",
        )
    if np.allclose(values, np.array(shape, dtype=float), rtol=1e-4):
        return checks.feedback(
            False,
            name,
            "these are voxel counts, not millimetres.",
            "How many mm does one voxel span along each axis?",
        )
    if np.allclose(np.sort(values), np.sort(expected), rtol=1e-4):
        return checks.feedback(
            False, name, "right numbers in the wrong order.", "Keep (slice, row, column) order."
        )
    wrong = [
        axis
        for axis, ok in zip(
            ("slice", "row", "column"), np.isclose(values, expected, rtol=1e-4), strict=True
        )
        if not ok
    ]
    return checks.feedback(
        False,
        name,
        f"the {', '.join(wrong)} value(s) are off.",
        "Measure from the outer edge of the first voxel to the outer edge of the last, per axis.",
    )


# --------------------------------------------------------------------------- resampling
def reference_resample(volume, spacing_mm, target_mm, order: int = 1):
    """Reference for the resampling exercise: resample ``volume`` to ``target_mm`` voxels keeping the field of view.

    Uses :func:`scipy.ndimage.zoom` with ``grid_mode=True`` (voxel *edges*
    stay aligned, so field of view = n x spacing is preserved).

    Returns
    -------
    resampled : numpy.ndarray of float32
    new_spacing_mm : tuple of 3 float

    Example
    -------
    >>> out, spacing = reference_resample(np.zeros((4, 8, 8)), (2.5, 1.0, 1.0), 1.0)
    >>> out.shape, spacing
    ((10, 8, 8), (1.0, 1.0, 1.0))
    """
    from scipy import ndimage

    array = np.asarray(volume, dtype=np.float32)
    if array.ndim != 3 or array.size == 0:
        raise ValueError(f"volume must be a non-empty 3-D array, got shape {array.shape}")
    shape, spacing = _geometry(array.shape, spacing_mm, "reference_resample")
    target = np.broadcast_to(np.asarray(target_mm, dtype=float), (3,))
    if np.any(target <= 0):
        raise ValueError(f"target_mm must be positive, got {target_mm!r}")
    new_shape = np.maximum(np.rint(np.array(shape) * spacing / target).astype(int), 1)
    zoom = new_shape / np.array(shape)
    out = ndimage.zoom(array, zoom, order=order, mode="nearest", grid_mode=True)
    new_spacing = tuple(float(s) for s in spacing * np.array(shape) / np.array(out.shape))
    return out, new_spacing


def check_resample_to_spacing(function, order: int = 1) -> bool:
    """Check ``function(volume, spacing_mm, target_mm, order) -> (resampled, new_spacing_mm)``.

    The function is tried on small test volumes (anisotropic CT-like voxels,
    up- and down-sampling). It must return the resampled volume and its new
    spacing; the field of view (n x spacing) must be kept.

    Example
    -------
    >>> check_resample_to_spacing(lambda v, s, t, order=1: reference_resample(v, s, t, order))
    ✅ resample to spacing: correct.
    True
    """
    name = "resample to spacing"
    rng = np.random.default_rng(2)
    from scipy import ndimage

    cases = [
        (ndimage.gaussian_filter(rng.normal(0, 100, (6, 20, 18)), 1.5), (2.5, 0.7, 0.7), 1.0),
        (ndimage.gaussian_filter(rng.normal(0, 100, (5, 16, 16)), 1.0), (3.0, 1.5, 1.5), 2.0),
        # CT-like: air (-1000 HU) fills the edges, so padding with 0 shows at the border
        (ndimage.gaussian_filter(rng.normal(-1000, 100, (6, 18, 18)), 1.0), (2.5, 1.0, 1.0), 1.0),
    ]
    for volume, spacing, target in cases:
        ok, result = checks.call_student(
            function, volume.copy(), spacing, target, order=order, name=name
        )
        if not ok:
            return False
        if result is None or not isinstance(result, tuple) or len(result) != 2:
            return checks.feedback(
                False,
                name,
                "expected a tuple (resampled_volume, new_spacing_mm).",
                "return resampled, new_spacing",
            )
        resampled, new_spacing = result
        expected, expected_spacing = reference_resample(volume, spacing, target, order)
        resampled = np.asarray(resampled)
        if resampled.shape != expected.shape:
            return checks.feedback(
                False,
                name,
                f"for spacing {spacing} -> {target} mm the shape is {resampled.shape}: the field of "
                "view changed along "
                + ", ".join(
                    axis
                    for axis, got, want in zip(
                        ("slice", "row", "column"), resampled.shape, expected.shape, strict=False
                    )
                    if got != want
                )
                + ".",
                "How many voxels of the target size fit in the old field of view, along each axis?",
            )
        try:
            spacing_values = np.asarray(new_spacing, dtype=float).ravel()
        except (TypeError, ValueError):
            return checks.feedback(False, name, "new_spacing_mm must be 3 numbers in mm.")
        if spacing_values.size != 3 or not np.allclose(spacing_values, expected_spacing, rtol=1e-3):
            return checks.feedback(
                False,
                name,
                f"the reported new spacing {np.round(spacing_values, 4).tolist()} does not match the resampled volume.",
                "The field of view must not change: what spacing do your resampled voxels really have?",
            )
        difference = np.abs(resampled.astype(float) - expected)
        if not np.isfinite(difference).all() or difference.max() > 0.02 * expected.std():
            corner_aligned = ndimage.zoom(
                np.asarray(volume, dtype=np.float32),
                np.array(expected.shape) / np.array(volume.shape),
                order=order,
                mode="nearest",
                grid_mode=False,
            )
            for padding in ("constant", "grid-constant"):
                with warnings.catch_warnings():  # scipy warns about "constant" with grid_mode
                    warnings.simplefilter("ignore", UserWarning)
                    padded = ndimage.zoom(
                        np.asarray(volume, dtype=np.float32),
                        np.array(expected.shape) / np.array(volume.shape),
                        order=order,
                        mode=padding,
                        grid_mode=True,
                    )
                if np.abs(resampled.astype(float) - padded).max() < 1e-3 * (
                    1 + np.abs(padded).max()
                ):
                    return checks.feedback(
                        False,
                        name,
                        f"the values near the border are pulled towards 0: mode={padding!r} pads the "
                        "volume with zeros, which in CT is water, not the air around the patient.",
                        "Choose a mode that extends the volume with its own edge values.",
                    )
            if np.abs(resampled.astype(float) - corner_aligned).mean() < 0.05 * expected.std():
                return checks.feedback(
                    False,
                    name,
                    "the shape is right but the samples sit on the wrong grid: the centres of the first "
                    "and last voxel were kept in place, which stretches the volume by part of a voxel.",
                    "Read what zoom's grid_mode does; the field of view is measured edge to edge.",
                )
            return checks.feedback(
                False,
                name,
                f"the resampled values differ from the reference by {difference.mean():.3g} on average.",
                "Use scipy.ndimage.zoom with one zoom factor per axis, the requested order and a mode "
                "that does not pad with zeros.",
            )
    return checks.feedback(True, name)


def _antialias_sigma(spacing_mm, target_mm):
    factor = np.broadcast_to(np.asarray(target_mm, float), (3,)) / np.asarray(spacing_mm, float)
    return np.maximum((factor - 1) / 2, 0.0)


def reference_antialiased_resample(volume, spacing_mm, target_mm, order: int = 1):
    """Reference for exercise 5's second part: low-pass each down-sampled axis, then resample.

    An axis whose target spacing is coarser than its spacing (factor = target /
    spacing > 1) is smoothed with a Gaussian of sigma = (factor - 1) / 2 voxels
    first (the rule scikit-image uses); the other axes are left alone.

    Example
    -------
    >>> out, spacing = reference_antialiased_resample(np.ones((4, 8, 8)), (2.5, 0.7, 0.7), 1.4)
    >>> out.shape, spacing
    ((7, 4, 4), (1.4285714285714286, 1.4, 1.4))
    """
    from scipy import ndimage

    array = np.asarray(volume, dtype=np.float32)
    _geometry(array.shape, spacing_mm, "reference_antialiased_resample")
    smoothed = ndimage.gaussian_filter(
        array, _antialias_sigma(spacing_mm, target_mm), mode="nearest"
    )
    return reference_resample(smoothed, spacing_mm, target_mm, order)


def check_antialiased_resample(function, order: int = 1) -> bool:
    """Check ``function(volume, spacing_mm, target_mm, order) -> (resampled, new_spacing_mm)``.

    Like exercise 5, but every axis that is down-sampled is first smoothed with
    a Gaussian (sigma = (factor - 1) / 2 voxels, factor = target / spacing).
    Tried on a volume that is up-sampled along one axis and down-sampled along
    the others; edge handling ("nearest" or "reflect") is not judged.

    Example
    -------
    >>> check_antialiased_resample(reference_antialiased_resample)
    ✅ anti-aliased resampling: correct.
    True
    """

    name = "anti-aliased resampling"
    rng = np.random.default_rng(5)
    volume = rng.normal(0, 100, (6, 24, 30)).astype(np.float32)
    cases = [(volume, (2.5, 0.7, 0.7), 1.4), (volume[:, :, :24], (3.0, 0.5, 1.0), (1.0, 2.0, 3.0))]
    for case_volume, spacing, target in cases:
        ok, result = checks.call_student(
            function, case_volume.copy(), spacing, target, order=order, name=name
        )
        if not ok:
            return False
        if not isinstance(result, tuple) or len(result) != 2:
            return checks.feedback(
                False,
                name,
                "expected a tuple (resampled_volume, new_spacing_mm).",
                "return resampled, new_spacing",
            )
        answer = np.asarray(result[0], dtype=float)
        expected, expected_spacing = reference_antialiased_resample(
            case_volume, spacing, target, order
        )
        if answer.shape != expected.shape:
            return checks.feedback(
                False,
                name,
                f"the shape is {answer.shape}: the field of view changed.",
                "Smooth first, then resample exactly as in exercise 5.",
            )
        if not np.allclose(np.asarray(result[1], dtype=float).ravel(), expected_spacing, rtol=1e-3):
            return checks.feedback(
                False, name, "the reported new spacing does not match the resampled volume."
            )
        mistake = _antialias_mistake(answer, case_volume, spacing, target, order)
        if mistake is not None:
            return checks.feedback(False, name, *mistake)
    return checks.feedback(True, name)


def _antialias_mistake(answer, volume, spacing, target, order):
    """``None`` if ``answer`` is the low-passed resampling of ``volume``, else (message, hint)."""
    from scipy import ndimage

    sigma = _antialias_sigma(spacing, target)
    factor = np.broadcast_to(np.asarray(target, float), (3,)) / np.asarray(spacing, float)

    def smoothed(sigmas, mode="nearest"):
        blurred = ndimage.gaussian_filter(volume, sigmas, mode=mode)
        return reference_resample(blurred, spacing, target, order)[0]

    def same(candidate):
        return candidate.shape == answer.shape and np.abs(answer - candidate).max() < 1e-3 * (
            1 + np.abs(candidate).max()
        )

    if same(smoothed(sigma)) or same(smoothed(sigma, mode="reflect")):
        return None
    plain = reference_resample(volume, spacing, target, order)[0]
    if same(plain):
        return (
            "nothing was smoothed: this is plain resampling, which aliases where an axis is "
            "down-sampled.",
            "Filter the axes that lose samples before you resample.",
        )
    down = factor > 1
    wrong_sigmas = [  # each tried with gaussian_filter's default edge mode and with "nearest"
        (
            np.abs(factor - 1) / 2,
            "an axis that is up-sampled was smoothed too; it loses no samples, so smoothing it "
            "only blurs.",
            "Smooth only where the target spacing is coarser than the spacing.",
        ),
        (
            np.full(3, sigma.max()),
            "every axis got the same sigma: an axis that is up-sampled, or down-sampled by less, "
            "was smoothed as much as the most down-sampled one.",
            "Compute the factor, and from it sigma, per axis.",
        ),
        (
            np.where(down, factor, 0.0),
            "the Gaussian is far too wide: a sigma equal to the factor blurs away detail the new "
            "grid could still hold.",
            "Look at how section 5's code cell computes sigma from the factor.",
        ),
        (
            np.where(down, factor / 2, 0.0),
            "the Gaussian is too wide: a sigma of half the factor blurs more than the rule in "
            "section 5's code cell.",
            "Look at how that cell computes sigma from the factor.",
        ),
        (
            np.where(1 / factor > 1, (1 / factor - 1) / 2, 0.0),
            "the factor is inverted (spacing / target): the axes that are down-sampled were not "
            "smoothed, and the axis that is up-sampled was.",
            "Which axis loses samples: the one whose target spacing is larger or smaller than its "
            "spacing?",
        ),
        (
            np.where(down, sigma * np.asarray(spacing, float), 0.0),
            "the sigma looks like millimetres: gaussian_filter counts sigma in voxels of the "
            "array it filters, whatever the spacing.",
            "A length in mm becomes a number of voxels through the spacing of that axis.",
        ),
    ]
    for sigmas, message, hint in wrong_sigmas:
        if same(smoothed(sigmas)) or same(smoothed(sigmas, mode="reflect")):
            return message, hint
    after = (
        "the smoothing came after the resampling: by then the fine detail has already folded back."
    )
    mistakes = [
        *(
            (
                ndimage.gaussian_filter(plain, sigma, mode=mode),
                after,
                "Low-pass first, then resample.",
            )
            for mode in ("nearest", "reflect")
        ),
        (
            ndimage.gaussian_filter(
                plain, sigma / np.where(factor > 1, factor, 1.0), mode="nearest"
            ),
            "the smoothing came after the resampling: by then the fine detail has already "
            "folded back.",
            "Low-pass first, then resample.",
        ),
    ]
    for candidate, message, hint in mistakes:
        if same(candidate):
            return message, hint
    return (
        "the values differ from a Gaussian low-pass followed by exercise 5's resampling.",
        "Per axis: factor = target / spacing; smooth only where it is above 1.",
    )


# --------------------------------------------------------------------------- sorting by geometry
def _unit(vector):
    vector = np.asarray(vector, dtype=float)
    return vector / np.linalg.norm(vector)


def _sort_cases():
    """Test series: (ipps shuffled, iop, expected order). Sagittal, coronal, oblique, reversed names."""
    rng = np.random.default_rng(7)
    cases = []
    frames = {
        "sagittal": ([0, 1, 0], [0, 0, -1]),
        "coronal": ([1, 0, 0], [0, 0, -1]),
        "oblique axial": (_unit([1, 0, 0.2]), None),
    }
    for label, (row_dir, col_dir) in frames.items():
        row_dir = _unit(row_dir)
        if col_dir is None:
            col_dir = _unit(np.cross([0, 0, 1], row_dir) * -1)
            col_dir = _unit(col_dir - np.dot(col_dir, row_dir) * row_dir)
        col_dir = _unit(col_dir)
        normal = np.cross(row_dir, col_dir)
        origin = np.array([-120.0, -90.0, 40.0])
        n = 7
        ipps = origin + np.outer(np.arange(n) * 3.0, normal)
        ipps[:, 2] += 0.0
        permutation = rng.permutation(n)
        cases.append(
            (label, ipps[permutation], np.concatenate([row_dir, col_dir]), np.argsort(permutation))
        )
    return cases


def reference_slice_order(ipps, iop):
    """Reference for exercise 1: indices that sort slices along the slice normal.

    Example
    -------
    >>> reference_slice_order([[0, 0, 5.0], [0, 0, 2.5]], [1, 0, 0, 0, 1, 0]).tolist()
    [1, 0]
    """
    positions = np.asarray(ipps, dtype=float).reshape(-1, 3)
    orientation = np.asarray(iop, dtype=float).ravel()
    if orientation.size != 6:
        raise ValueError(f"iop must be 6 numbers, got {orientation.size}")
    return np.argsort(positions @ np.cross(orientation[:3], orientation[3:]), kind="stable")


def check_slice_order(function) -> bool:
    """Check ``function(ipps, iop) -> order``: indices that sort slices along the slice normal.

    ``ipps`` is an (n, 3) array of ImagePositionPatient (mm, LPS), ``iop`` the six
    ImageOrientationPatient numbers shared by the series. ``order[0]`` must be the
    slice with the smallest position along the normal (row direction x column direction).
    The function is tried on a sagittal, a coronal and an oblique series given in
    shuffled order.

    Example
    -------
    >>> def order(ipps, iop):
    ...     normal = np.cross(iop[:3], iop[3:])
    ...     return np.argsort(np.asarray(ipps) @ normal)
    >>> check_slice_order(order)
    ✅ slice order: correct.
    True
    """
    name = "slice order"
    cases = _sort_cases()

    def reversed_everywhere():
        for _, ipps, iop, expected in cases:
            try:
                if not np.array_equal(
                    np.asarray(function(ipps.copy(), iop.copy())), expected[::-1]
                ):
                    return False
            except Exception:  # noqa: BLE001 - a failing call is reported by the main loop
                return False
        return True

    for label, ipps, iop, expected in cases:
        ok, result = checks.call_student(function, ipps.copy(), iop.copy(), name=name)
        if not ok:
            return False
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the order.")
        try:
            order = np.asarray(result).ravel()
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"expected an array of indices, got {type(result).__name__}."
            )
        if order.size != len(ipps):
            return checks.feedback(
                False, name, f"expected {len(ipps)} indices (one per slice), got {order.size}."
            )
        if not np.issubdtype(order.dtype, np.integer):
            return checks.feedback(
                False,
                name,
                "returned values that are not integer indices (positions in mm?).",
                "Return the indices that would sort the positions, not the positions themselves.",
            )
        if np.array_equal(order, expected):
            continue
        normal = np.cross(iop[:3], iop[3:])
        for axis, letter in ((0, "x"), (1, "y")):
            if (
                abs(normal[axis]) > 0.99
                and np.array_equal(order, np.argsort(ipps[:, axis]))
                and not reversed_everywhere()
            ):
                direction = "-" if normal[axis] < 0 else "+"
                return checks.feedback(
                    False,
                    name,
                    f"the {label} series looks sorted by the {letter} of IPP; the normal here points "
                    f"to {direction}{letter}, so sorting by one coordinate gets its sign (and any "
                    "obliquity) wrong.",
                    "Project each IPP on the slice normal (row direction x column direction).",
                )
        if np.array_equal(order, expected[::-1]):
            return checks.feedback(
                False,
                name,
                f"the {label} series comes out reversed.",
                "Smallest position along the normal first; check the order of the cross product.",
            )
        if np.array_equal(order, np.argsort(ipps[:, 2], kind="stable")) or np.array_equal(
            order, np.argsort(ipps[:, 2])
        ):
            return checks.feedback(
                False,
                name,
                f"wrong order for the {label} series: it looks sorted by the z of IPP, which only "
                "works for axial slices.",
                "Project each IPP on the direction perpendicular to the image planes.",
            )
        return checks.feedback(
            False,
            name,
            f"wrong order for the {label} series.",
            "Which direction is perpendicular to both IOP vectors, and how far along it is each IPP?",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- the affine
def _tilted_series():
    """A CT-like series acquired with gantry tilt: slices step along z, the planes are tilted."""
    tilt = np.deg2rad(12.0)
    row_dir = np.array([1.0, 0.0, 0.0])
    col_dir = np.array([0.0, np.cos(tilt), -np.sin(tilt)])
    first = np.array([-180.0, -150.0, -300.0])
    step = np.array([0.0, 0.0, 3.0])  # the table moves along z; the plane normal is tilted
    n = 9
    return np.concatenate([row_dir, col_dir]), first, first + (n - 1) * step, n, (0.8, 0.6)


def _reference_affine(iop, ipp_first, ipp_last, n_slices, pixel_spacing):
    iop = np.asarray(iop, dtype=float)
    affine = np.eye(4)
    step = (np.asarray(ipp_last, float) - np.asarray(ipp_first, float)) / max(n_slices - 1, 1)
    affine[:3, 0] = step
    affine[:3, 1] = iop[3:] * pixel_spacing[0]
    affine[:3, 2] = iop[:3] * pixel_spacing[1]
    affine[:3, 3] = ipp_first
    return affine


def check_build_affine(function) -> bool:
    """Check ``function(iop, ipp_first, ipp_last, n_slices, pixel_spacing) -> 4 x 4 affine``.

    The affine maps (slice k, row i, column j, 1) to patient (x, y, z, 1) in mm:
    column 0 the step between slices, column 1 the step down a column (row index
    + 1), column 2 the step along a row (column index + 1), column 3 the IPP of
    the first slice. Tried on an axial series with non-square pixels and on a
    series acquired with gantry tilt.

    Example
    -------
    >>> check_build_affine(_reference_affine)
    ✅ affine: correct.
    True
    """
    name = "affine"
    axial = (
        np.array([1.0, 0, 0, 0, 1, 0]),
        np.array([-100.0, -80, -40]),
        np.array([-100.0, -80, 8]),
        17,
        (0.9, 0.6),
    )
    for label, case in (("axial", axial), ("gantry-tilted", _tilted_series())):
        ok, result = checks.call_student(
            function,
            *[np.array(c, dtype=float) if not isinstance(c, int) else c for c in case],
            name=name,
        )
        if not ok:
            return False
        try:
            answer = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"expected a 4 x 4 array, got {type(result).__name__}."
            )
        if answer.shape != (4, 4):
            return checks.feedback(
                False, name, f"expected a 4 x 4 array, got shape {answer.shape}."
            )
        expected = _reference_affine(*case)
        if np.allclose(answer, expected, atol=1e-6):
            continue
        iop, first, last, n, spacing = case
        if not np.allclose(answer[3], [0, 0, 0, 1]):
            return checks.feedback(False, name, "the last row must be (0, 0, 0, 1).")
        if np.allclose(answer[:3, 3], last):
            return checks.feedback(
                False,
                name,
                "the translation is the IPP of the last slice.",
                "Which voxel does (0, 0, 0) name?",
            )
        if not np.allclose(answer[:3, 3], first):
            return checks.feedback(
                False, name, "the translation column is not the position of voxel (0, 0, 0)."
            )
        if np.allclose(answer[:3, 1:3], expected[:3, 1:3][:, ::-1]):
            return checks.feedback(
                False,
                name,
                "columns 1 and 2 are swapped: the row index moves down a column, not along a row.",
                "IOP's first vector is the direction along a row (the column index grows).",
            )
        swapped = expected.copy()
        swapped[:3, 1] = np.asarray(iop)[3:] * spacing[1]
        swapped[:3, 2] = np.asarray(iop)[:3] * spacing[0]
        if np.allclose(answer[:3, 1:3], swapped[:3, 1:3]):
            return checks.feedback(
                False,
                name,
                "the two PixelSpacing values are used the wrong way round (the pixels here are not square).",
                "PixelSpacing gives the distance between rows first, then between columns.",
            )
        iop_swapped = np.column_stack(
            [np.asarray(iop)[:3] * spacing[0], np.asarray(iop)[3:] * spacing[1]]
        )
        if np.allclose(answer[:3, 1:3], iop_swapped):
            return checks.feedback(
                False,
                name,
                "the two IOP vectors are used the wrong way round (the spacings are in order).",
                "Column 1 is the step when the row index grows: which way does that move?",
            )
        if not np.allclose(answer[:3, 1:3], expected[:3, 1:3]):
            return checks.feedback(
                False, name, "the in-plane columns (1 and 2) are off.", "Direction x spacing."
            )
        normal = np.cross(np.asarray(iop)[:3], np.asarray(iop)[3:])
        along_normal = normal * np.dot((np.asarray(last) - first) / (n - 1), normal)
        if label == "gantry-tilted" and (
            np.allclose(answer[:3, 0], along_normal, atol=1e-3)
            or np.allclose(np.cross(answer[:3, 0], normal), 0, atol=1e-6)
        ):
            return checks.feedback(
                False,
                name,
                "with gantry tilt the slices do not step along the plane normal, and your slice column does.",
                "Take the step from the positions of the first and last slices themselves.",
            )
        if np.allclose(answer[:3, 0], -expected[:3, 0]):
            return checks.feedback(
                False, name, "the slice step points the wrong way (first to last slice?)."
            )
        if np.allclose(answer[:3, 0], (np.asarray(last) - first) / n, atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"the slice step is slightly too short: you divided by the number of slices ({n}), "
                "but between the first and the last slice there are fewer steps than slices.",
                "Draw three slices and count the gaps between them.",
            )
        return checks.feedback(
            False,
            name,
            f"the slice column is off for the {label} series.",
            "The step between neighbouring slices, in mm, from the first and last IPP.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- slab MIP
def _mip_case():
    rng = np.random.default_rng(3)
    volume = rng.normal(40.0, 10.0, (12, 40, 30)).astype(np.float32)
    volume[:, 10:14, 12:18] = 300.0  # a vessel in front
    volume[:, 24:34, 8:22] = 1000.0  # bone behind it
    volume[:, 5:20, 24:28] -= 850.0  # lung: every slab voxel on these rays is below 0 HU
    affine = np.array([[0, 0, 0.8, -12.0], [0, 1.5, 0, -30.0], [2.5, 0, 0, 10.0], [0, 0, 0, 1]])
    return volume, affine, -17.0, -7.0  # rows 9..15 have centres in [-17, -7] mm


def _tilted_mip_case():
    """A gantry-tilted axial series: the y of a row moves by 1.2 mm from one slice to the next."""
    rng = np.random.default_rng(4)
    volume = rng.normal(40.0, 10.0, (12, 40, 30)).astype(np.float32)
    affine = np.array([[0, 0, 0.8, -12.0], [1.2, 1.5, 0, -30.0], [2.5, 0, 0, 10.0], [0, 0, 0, 1]])
    y = _voxel_y_mm(volume.shape, affine)
    volume[(y > -16.0) & (y < -9.0)] = 300.0  # a vessel, fixed in the patient
    volume[y > -5.0] = 1000.0  # bone behind it
    return volume, affine, -17.0, -7.0


def _voxel_y_mm(shape, affine):
    """Patient y (mm) of every voxel centre of a (slice, row, column) volume."""
    k, i, j = (np.arange(n, dtype=float) for n in shape)
    return (
        affine[1, 3]
        + affine[1, 0] * k[:, None, None]
        + affine[1, 1] * i[None, :, None]
        + affine[1, 2] * j[None, None, :]
    )


def reference_slab_mip(volume, affine, y_from_mm, y_to_mm):
    """Reference for the slab-MIP exercise: maximum over the voxels whose centre y lies in the range.

    The y of every voxel centre comes from the full affine, so a gantry tilt (the y of a
    row changes from slice to slice) or an oblique plane is handled; a ray with no voxel
    in the slab is NaN. One slice at a time: besides the result, the memory it needs is
    that of a few 2-D arrays, whatever the number of slices, and the volume is not copied.
    Used by the lesson until the student's function passes.

    Example
    -------
    >>> affine = np.array([[0, 0, 1.0, 0], [0, 2.0, 0, 0], [3.0, 0, 0, 0], [0, 0, 0, 1]])
    >>> reference_slab_mip(np.arange(24.0).reshape(2, 3, 4), affine, 1.0, 4.0).shape
    (2, 4)
    """
    volume = np.asarray(volume)  # no copy for an array
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D (slice, row, column), got shape {volume.shape}")
    low, high = sorted((float(y_from_mm), float(y_to_mm)))
    y_slice, y_row, y_column, y_origin = (float(a) for a in np.asarray(affine)[1])
    in_plane_y = (  # y of the voxel centres of slice 0 (rows x columns), float64
        y_origin
        + y_row * np.arange(volume.shape[1])[:, None]
        + y_column * np.arange(volume.shape[2])[None, :]
    )
    dtype = np.float64 if volume.dtype == np.float64 else np.float32  # float32 for int16 CT
    mip = np.full((volume.shape[0], volume.shape[2]), np.nan, dtype=dtype)
    for k in range(volume.shape[0]):
        y = in_plane_y + y_slice * k
        inside = (y >= low) & (y <= high)
        hit = inside.any(axis=0)
        if hit.any():
            image = np.asarray(volume[k], dtype=mip.dtype)  # one slice; a view if already float
            slab_max = np.max(image, axis=0, where=inside, initial=-np.inf)
            mip[k] = np.where(hit, slab_max, np.nan)
    if np.isnan(mip).all():
        corners = [in_plane_y.min(), in_plane_y.max()]
        corners += [c + y_slice * (volume.shape[0] - 1) for c in corners]
        raise ValueError(
            f"no voxel centre lies between y = {y_from_mm} and {y_to_mm} mm (voxels cover "
            f"{min(corners):.1f} to {max(corners):.1f} mm); expected a slab inside the volume"
        )
    return mip


def _mm_as_index_mistakes(y_from, y_to, affine, n_rows):
    """Row sets a student gets by using mm as indices, forgetting the origin or the spacing."""
    low, high = sorted((y_from, y_to))
    candidates = [
        np.arange(int(abs(low)), int(abs(high)) + 1),
        np.arange(int(abs(high)), int(abs(low)) + 1),
        np.arange(int(round(low - affine[1, 3])), int(round(high - affine[1, 3])) + 1),
    ]
    return [rows[(rows >= 0) & (rows < n_rows)] for rows in candidates]


def _slice_ends(a, b):
    """Row ranges ``start:end`` a student writes for fractional ends a <= b."""
    ends = {(int(a), int(b)), (round(a), round(b)), (int(np.floor(a)), int(np.ceil(b)))}
    return [(start, end) for start, stop in ends for end in (stop, stop + 1)]


def _step_without_origin_mistakes(y_from, y_to, affine, n_rows):
    """Row sets selected by mm / row step without the origin, as Python slices or clipped ranges."""
    low, high = sorted((y_from, y_to))
    rows = np.arange(n_rows)
    found = []
    for start, end in _slice_ends(low / affine[1, 1], high / affine[1, 1]):
        found.append(rows[start:end])
        found.append(rows[max(start, 0) : max(end, 0)])
    return found


def _negative_index_mistakes(y_from, y_to, affine, n_rows):
    """Row sets that slicing with raw (negative) millimetres as indices selects."""
    low, high = sorted((y_from, y_to))
    rows = np.arange(n_rows)
    return [rows[s:e] for s, e in _slice_ends(low, high) if s < 0 or e < 0]


def check_slab_mip(function) -> bool:
    """Check ``function(volume, affine, y_from_mm, y_to_mm) -> 2-D coronal MIP`` of a slab.

    The MIP is the maximum over the voxels whose centres lie between the two patient
    y positions (mm). Tried on a small axial volume with a vessel in front of a bone,
    then on a gantry-tilted one, where the y of a row changes from slice to slice.

    Example
    -------
    >>> check_slab_mip(reference_slab_mip)
    ✅ slab MIP: correct.
    True
    """
    name = "slab MIP"
    volume, affine, y_from, y_to = _mip_case()
    if not callable(function):
        return checks.call_student(function, name=name)[0]
    try:
        result = function(volume.copy(), affine.copy(), y_from, y_to)
    except NotImplementedError:
        return checks.feedback(
            False, name, "not implemented yet (it still raises NotImplementedError)."
        )
    except ValueError as exc:
        if "zero-size array" not in str(exc):
            return checks.feedback(False, name, f"raised ValueError: {exc}")
        return checks.feedback(
            False,
            name,
            "the maximum was taken over an empty set of rows (NumPy: zero-size array): "
            "the millimetre positions were probably used as row indices.",
            "Which rows have their centre between the two positions? The affine knows.",
        )
    except Exception as exc:  # the student's code failed: say how, do not crash the check
        return checks.feedback(False, name, f"raised {type(exc).__name__}: {exc}")
    expected = reference_slab_mip(volume, affine, y_from, y_to)
    try:
        answer = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        return checks.feedback(False, name, f"expected a 2-D array, got {type(result).__name__}.")
    if answer.shape != expected.shape:
        if answer.ndim == 2:
            return checks.feedback(
                False,
                name,
                f"the result has shape {answer.shape}: the projection ran along the wrong axis.",
                "A coronal projection collapses the axis that runs front to back.",
            )
        return checks.feedback(
            False, name, f"the result has shape {answer.shape}, expected a 2-D image."
        )
    if np.allclose(answer, expected, atol=1e-4):
        return _check_tilted_slab(function, name)
    if np.allclose(answer, volume.max(axis=1)):
        return checks.feedback(
            False,
            name,
            "you projected through every row, so the bone behind the vessel wins.",
            "Keep only the rows whose centres lie between the two y positions.",
        )
    inside = _voxel_y_mm(volume.shape, affine)
    inside = (inside >= min(y_from, y_to)) & (inside <= max(y_from, y_to))
    if np.allclose(answer, np.where(inside, volume, 0.0).max(axis=1), atol=1e-4):
        return checks.feedback(
            False,
            name,
            "right where the slab holds tissue above 0, wrong on the rays where every slab voxel "
            "is negative (lung, fat, air): outside the slab you filled 0 (or multiplied by the "
            "mask), and 0 beats every negative HU inside it.",
            "Which value can never win a maximum? Give the voxels outside the slab that value (or "
            "read what np.max needs when you pass where=).",
        )
    for rows in _step_without_origin_mistakes(y_from, y_to, affine, volume.shape[1]):
        if rows.size and np.allclose(answer, volume[:, rows, :].max(axis=1)):
            return checks.feedback(
                False,
                name,
                "you divided the millimetres by the row step but forgot the origin: row 0 is not "
                "at y = 0.",
                "Row centre y = origin y + row index x row step: solve it for the row index.",
            )
    for rows in _negative_index_mistakes(y_from, y_to, affine, volume.shape[1]):
        if rows.size and np.allclose(answer, volume[:, rows, :].max(axis=1)):
            return checks.feedback(
                False,
                name,
                "the millimetre positions (negative here) were used as row indices. Python reads a "
                "negative index from the end of the array, so the slab came from the far side of "
                "the volume, with no error.",
                "Row centre y = origin y + row index x row step: solve it for the row index.",
            )
    for rows in _mm_as_index_mistakes(y_from, y_to, affine, volume.shape[1]):
        if rows.size and np.allclose(answer, volume[:, rows, :].max(axis=1)):
            return checks.feedback(
                False,
                name,
                "the millimetre positions were turned into rows without the affine's origin or step.",
                "Row centre y = origin y + row index x row step: solve it for the row index.",
            )
    y_rows = affine[1, 3] + np.arange(volume.shape[1]) * affine[1, 1]
    keep = (y_rows >= y_from) & (y_rows <= y_to)
    if np.allclose(answer, volume[:, keep, :].mean(axis=1), atol=1e-3):
        return checks.feedback(False, name, "this is the mean, not the maximum.")
    if np.allclose(answer, volume[:, keep, :].min(axis=1), atol=1e-3):
        return checks.feedback(
            False,
            name,
            "right rows, but this is the minimum (a MinIP), not the maximum.",
            "Which reduction keeps the brightest voxel on each ray?",
        )
    return checks.feedback(
        False,
        name,
        "the slab is not the right set of rows.",
        "List the y of every row centre and compare.",
    )


def _check_tilted_slab(function, name) -> bool:
    """Second case of check_slab_mip: a gantry-tilted series, the y of a row drifts per slice."""
    volume, affine, y_from, y_to = _tilted_mip_case()
    try:
        result = function(volume.copy(), affine.copy(), y_from, y_to)
    except Exception as exc:  # the student's code failed: say how, do not crash the check
        return checks.feedback(
            False, name, f"on a gantry-tilted series it raised {type(exc).__name__}: {exc}"
        )
    expected = reference_slab_mip(volume, affine, y_from, y_to)
    answer = np.asarray(result, dtype=float)
    if answer.shape == expected.shape and np.allclose(answer, expected, atol=1e-4):
        return checks.feedback(True, name)
    untilted = affine.copy()
    untilted[1, 0] = untilted[1, 2] = 0.0
    ignored = reference_slab_mip(volume, untilted, y_from, y_to)
    if answer.shape == ignored.shape and np.allclose(answer, ignored, atol=1e-4):
        return checks.feedback(
            False,
            name,
            "right on an untilted series, but on a gantry-tilted one the y of a row also "
            "changes from slice to slice, and your slab ignores it: it drifts through the stack, "
            "into the bone.",
            "The y of a voxel centre uses the whole row of the affine for y: slice, row and "
            "column index. Build a mask of the voxels in the slab and take the maximum inside it.",
        )
    return checks.feedback(
        False,
        name,
        "right on an untilted series, wrong on a gantry-tilted one (the y of a row drifts "
        "from slice to slice).",
        "Compute the y of every voxel centre from the affine, not only of every row.",
    )


# --------------------------------------------------------------------------- NIfTI affine
def check_nifti_affine(function) -> bool:
    """Check ``function(affine_lps_kij) -> NIfTI affine`` (RAS+, index order column, row, slice).

    Tried on an axial and an oblique affine: every voxel must land on the same
    anatomical point, i.e. NIfTI index (j, i, k) must map to RAS (-x, -y, z) of
    DICOM voxel (k, i, j).

    Example
    -------
    >>> from course_utils import nifti
    >>> check_nifti_affine(nifti.dicom_to_nifti_affine)
    ✅ NIfTI affine: correct.
    True
    """
    from course_utils import nifti

    name = "NIfTI affine"
    cases = [
        np.array([[0, 0, 1.4, -178.5], [0, 1.4, 0, -158.5], [2.5, 0, 0, -308.75], [0, 0, 0, 1]]),
        np.array([[0.3, 0.0, 0.95, 1], [0.2, 0.98, 0, 2], [2.9, -0.1, -0.3, 3], [0, 0, 0, 1]]),
    ]
    permute = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    for affine in cases:
        ok, result = checks.call_student(function, affine.copy(), name=name)
        if not ok:
            return False
        try:
            answer = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"expected a 4 x 4 array, got {type(result).__name__}."
            )
        if answer.shape != (4, 4):
            return checks.feedback(
                False, name, f"expected a 4 x 4 array, got shape {answer.shape}."
            )
        expected = nifti.dicom_to_nifti_affine(affine)
        if np.allclose(answer, expected, atol=1e-6):
            continue
        if np.allclose(answer, affine @ permute):
            return checks.feedback(
                False,
                name,
                "the index axes are permuted but the coordinates are still LPS: left and right, front and "
                "back would swap in any NIfTI viewer.",
                "Which two patient axes point opposite ways in RAS+ and in LPS+?",
            )
        if np.allclose(answer, np.diag([-1, -1, 1, 1.0]) @ affine):
            return checks.feedback(
                False,
                name,
                "the coordinates are RAS but the index axes are still (slice, row, column).",
                "NIfTI's first index is the one that runs along a row.",
            )
        flip = np.diag([-1, -1, 1, 1.0])
        wrong_side = (
            flip @ permute @ affine,
            permute @ flip @ affine,
            permute @ affine @ flip,
            affine @ permute @ flip,
            affine @ flip @ permute,
            permute @ affine,
            affine @ flip,
        )
        if any(np.allclose(answer, candidate) for candidate in wrong_side):
            return checks.feedback(
                False,
                name,
                "the index permutation or the sign change multiplies the affine from the wrong "
                "side: one of them must act on the index vector, the other on the coordinates.",
                "Write the product as A @ (k, i, j, 1): which matrix reorders the vector before A "
                "sees it, and which changes what A returns?",
            )
        if np.allclose(answer, np.diag([-1, -1, -1, 1.0]) @ affine @ permute):
            return checks.feedback(
                False,
                name,
                "all three coordinates were negated; LPS and RAS share one axis.",
                "Which axis has the same letter in LPS and RAS?",
            )
        for signs, swapped in (
            ([-1, 1, 1, 1.0], "front and back"),
            ([1, -1, 1, 1.0], "left and right"),
        ):
            if np.allclose(answer, np.diag(signs) @ affine @ permute):
                return checks.feedback(
                    False,
                    name,
                    f"only one patient axis changes sign: the file would be a mirror image of the "
                    f"patient ({swapped} swapped), which opens in every viewer without a warning.",
                    "Compare the letters of the two systems, L-P-S and R-A-S, axis by axis.",
                )
        return checks.feedback(
            False,
            name,
            "a voxel would land on a different anatomical point.",
            "Two changes: the order of the index axes and the sign of two patient axes.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- a section in mm with markers
def reference_show_section(ax, volume, spacing_mm, affine, axis):
    """Reference for the section exercise: draw the middle section across ``axis`` in mm.

    The section keeps the other two axes in order: the first runs down the
    screen (``origin="upper"``), the second across it. Its ``extent`` is in mm
    from the spacing of those two axes, and the orientation letters come from
    the matching affine columns.

    Example
    -------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = reference_show_section(ax, np.zeros((4, 5, 6)), (2.0, 1.0, 1.0), np.eye(4), 0)
    """
    from course_utils import plotting

    array = np.asarray(volume)
    shape, spacing = _geometry(array.shape, spacing_mm, "reference_show_section")
    down, across = (a for a in range(3) if a != axis)
    image = np.take(array, shape[axis] // 2, axis=axis)
    extent = (0, shape[across] * spacing[across], shape[down] * spacing[down], 0)
    handle = ax.imshow(image, cmap="gray", origin="upper", extent=extent)
    matrix = np.asarray(affine, dtype=float)
    plotting.add_orientation_markers(ax, matrix[:3, across], -matrix[:3, down], box=True)
    return handle


def _marker_verdict(ax, affine, down, across, axis, extent):
    """None if the orientation letters sit at the right edges, else (message, hint).

    Each letter's position is read back in axes fractions (0 left/bottom, 1
    right/top), whatever transform the student used to place it.
    """
    from course_utils import plotting

    left, right, bottom, top = extent
    x_low, x_high = ax.get_xlim()
    grows_right = (right > left) == (x_high > x_low)  # column index grows to the right
    y_low, y_high = ax.get_ylim()  # y_high is at the top of the screen
    row0_y = top if ax.images[-1].origin == "upper" else bottom
    grows_down = abs(row0_y - y_high) < abs(row0_y - y_low)
    to_right = affine[:3, across] if grows_right else -affine[:3, across]
    to_top = -affine[:3, down] if grows_down else affine[:3, down]
    letter = plotting.orientation_letters
    wanted = {
        "right": letter(to_right),
        "left": letter(-to_right),
        "top": letter(to_top),
        "bottom": letter(-to_top),
    }
    to_axes = ax.transAxes.inverted()
    where = {}
    for text in ax.texts:
        x, y = to_axes.transform(text.get_transform().transform(text.get_position()))
        where.setdefault(text.get_text(), (float(x), float(y)))
    if not set(wanted.values()) <= set(where):
        return (
            f"across axis {axis} the orientation letters are missing or belong to other axes.",
            "Which affine columns move across and down the screen? Row index grows downwards.",
        )

    def at(edge):
        x, y = where[wanted[edge]]
        return {"right": x > 0.6, "left": x < 0.4, "top": y > 0.6, "bottom": y < 0.4}[edge]

    if all(at(edge) for edge in wanted):
        return None
    horizontal_on_vertical = (
        where[wanted["right"]][1] > 0.6 or where[wanted["right"]][1] < 0.4
    ) and 0.4 <= where[wanted["right"]][0] <= 0.6
    if horizontal_on_vertical:
        return (
            f"across axis {axis} the letters of the axis that runs across the screen are at the "
            "top and bottom: the two affine columns are swapped.",
            "The first argument of add_orientation_markers is the direction that points right.",
        )
    if not (at("right") and at("left")):
        return (
            f"across axis {axis} left and right are mirrored: the letters at the left and right "
            "edges are swapped.",
            "Which way does the column index grow on the screen? Check the sign you gave.",
        )
    return (
        f"across axis {axis} the top and bottom letters are upside down.",
        "Which way does the row index grow on the screen (origin='upper' or 'lower')?",
    )


def _section_case():
    rng = np.random.default_rng(11)
    volume = rng.normal(0.0, 1.0, (9, 14, 12)).astype(np.float32)
    spacing = (4.0, 1.0, 1.5)  # thick slices, non-square pixels
    affine = np.eye(4)
    affine[:3, 0] = [-4.0, 0.0, 0.0]  # slices towards the right (a sagittal series)
    affine[:3, 1] = [0.0, 0.0, -1.0]  # rows down the head
    affine[:3, 2] = [0.0, 1.5, 0.0]  # columns towards the back
    return volume, spacing, affine


def check_show_section(function) -> bool:
    """Check ``function(ax, volume, spacing_mm, affine, axis)`` that draws a section in mm.

    The function must draw ``volume``'s middle section across ``axis`` with one
    ``imshow`` (other two axes in order: the first down the screen, the second
    across), with the true proportions (an ``extent`` in mm, or ``aspect=``)
    and the orientation letters of the affine at the edges. The check draws a
    test volume with thick slices and non-square pixels across each axis and
    reads back the image, its proportions and the letters.

    Example
    -------
    >>> check_show_section(reference_show_section)
    ✅ section in mm: correct.
    True
    """
    import matplotlib.pyplot as plt

    name = "section in mm"
    volume, spacing, affine = _section_case()
    for axis in (2, 0, 1):
        down, across = (a for a in range(3) if a != axis)
        fig, ax = plt.subplots()
        try:
            ok, _ = checks.call_student(
                function, ax, volume.copy(), spacing, affine.copy(), axis, name=name
            )
            if not ok:
                return False
            if not ax.images:
                return checks.feedback(
                    False, name, "nothing was drawn on `ax`.", "Draw the section with ax.imshow."
                )
            shown = np.asarray(ax.images[-1].get_array())
            section = np.take(volume, volume.shape[axis] // 2, axis=axis)
            if shown.shape == section.T.shape and shown.shape != section.shape:
                return checks.feedback(
                    False,
                    name,
                    f"the section across axis {axis} is transposed.",
                    "Keep the two remaining axes in order: the first runs down the screen.",
                )
            if shown.shape != section.shape or not np.allclose(shown, section):
                return checks.feedback(
                    False,
                    name,
                    f"the image drawn for axis {axis} is not the middle section across that axis.",
                    "Fix the index of `axis` at half its length and keep the other two.",
                )
            left, right, bottom, top = ax.images[-1].get_extent()
            aspect = ax.get_aspect()
            if aspect == "auto":
                return checks.feedback(
                    False,
                    name,
                    "aspect='auto' stretches the image to the shape of the axes box.",
                    "Let the extent (in mm) set the proportions, or give aspect as a number.",
                )
            aspect = 1.0 if aspect == "equal" else float(aspect)
            ratio = abs(top - bottom) * aspect / abs(right - left)
            n_down, n_across = volume.shape[down], volume.shape[across]

            def ratio_of(step_down, step_across, n_down=n_down, n_across=n_across):
                return n_down * step_down / (n_across * step_across)

            if np.isclose(ratio, ratio_of(spacing[down], spacing[across]), rtol=1e-3):
                pass
            elif np.isclose(ratio, ratio_of(1.0, 1.0), rtol=1e-3):
                return checks.feedback(
                    False,
                    name,
                    f"across axis {axis} every voxel is drawn as a square (voxel units).",
                    "Give imshow an extent in mm (voxels x spacing per axis), or the matching aspect.",
                )
            elif np.isclose(ratio, ratio_of(spacing[across], spacing[down]), rtol=1e-3):
                return checks.feedback(
                    False,
                    name,
                    f"across axis {axis} the proportions are inverted: the two spacings are swapped "
                    "(or the aspect is width over height).",
                    "The vertical size uses the spacing of the axis that runs down the screen.",
                )
            elif np.isclose(
                ratio, ratio_of(spacing[axis], spacing[across]), rtol=1e-3
            ) or np.isclose(ratio, ratio_of(spacing[down], spacing[axis]), rtol=1e-3):
                return checks.feedback(
                    False,
                    name,
                    f"across axis {axis} you used the spacing of the axis you cut through.",
                    "Only the two axes left in the section set its size.",
                )
            else:
                return checks.feedback(
                    False,
                    name,
                    f"across axis {axis} the drawn proportions do not match the spacing.",
                    "Height / width on screen must equal (rows x their spacing) / (columns x theirs).",
                )
            verdict = _marker_verdict(ax, affine, down, across, axis, (left, right, bottom, top))
            if verdict is not None:
                return checks.feedback(False, name, *verdict)
        finally:
            plt.close(fig)
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- multi-frame geometry
def reference_frame_positions(dataset):
    """Reference: the IPP (mm) of every stored frame of an enhanced (multi-frame) DICOM dataset.

    Example
    -------
    >>> from pydicom.dataset import Dataset
    >>> frame = Dataset()
    >>> frame.PlanePositionSequence = [Dataset()]
    >>> frame.PlanePositionSequence[0].ImagePositionPatient = [0, 0, 5]
    >>> ds = Dataset()
    >>> ds.PerFrameFunctionalGroupsSequence = [frame]
    >>> reference_frame_positions(ds)
    array([[0., 0., 5.]])
    """
    return np.array(
        [
            item.PlanePositionSequence[0].ImagePositionPatient
            for item in dataset.PerFrameFunctionalGroupsSequence
        ],
        dtype=float,
    )


def check_frame_positions(frame_ipps, dataset) -> bool:
    """Check ``frame_ipps``: one row (x, y, z) in mm per stored frame, in the stored order."""
    name = "frame positions"
    expected = reference_frame_positions(dataset)
    if frame_ipps is None:
        return checks.feedback(False, name, "frame_ipps is still None.")
    try:
        answer = np.asarray(frame_ipps, dtype=float)
    except (TypeError, ValueError):
        return checks.feedback(False, name, "expected numbers: one (x, y, z) row per frame.")
    if answer.shape == expected.shape and np.allclose(answer, expected):
        return checks.feedback(True, name)
    if answer.shape == (3,) and any(np.allclose(answer, row) for row in expected):
        return checks.feedback(
            False,
            name,
            "this is the position of one frame; the file holds one per frame.",
            "Loop over the items of the per-frame sequence.",
        )
    if answer.shape == expected.T.shape and np.allclose(answer, expected.T):
        return checks.feedback(
            False, name, "the array is transposed.", "One row per frame, three columns (x, y, z)."
        )
    if answer.shape == expected.shape and np.allclose(answer, expected[::-1]):
        return checks.feedback(
            False,
            name,
            "the frames are in reverse order; keep the order in which they are stored.",
            "Sorting comes next, in the following cell.",
        )
    return checks.feedback(
        False,
        name,
        f"expected {expected.shape[0]} positions of shape (3,), got an array of shape {answer.shape}.",
        "Each per-frame item has a PlanePositionSequence with one ImagePositionPatient.",
    )


# --------------------------------------------------------------------------- a header that contradicts itself
LUNG_BELOW_HU = -500.0  # aerated lung (about -850 HU) and air; soft tissue and fat are above
BONE_ABOVE_HU = 150.0  # cancellous and cortical bone, calcium; blood and muscle are below


def _ct5n_probe():
    """Four 16 x 16 slices in HU with lung, fat and bone of three densities, so every step of a method shows."""
    volume = np.full((4, 16, 16), 40.0)
    volume[1, :, 12:] = -850.0
    volume[2, :, 6:] = -850.0
    volume[3, :, 3:] = -850.0
    volume[1, 0, :4] = -120.0  # fat
    volume[0, 4:6, 4:7] = 400.0  # cancellous bone
    volume[2, 2, 1:4] = 1200.0  # cortical bone
    volume[3, 8, :2] = 220.0  # thin cancellous bone
    return volume


def _verdict(message, hint=None):
    return message, hint


def _evidence_mistake(lung_fraction, bone_pixels, hu):
    """``None`` when both per-slice arrays are right for ``hu``, else (message, hint)."""
    n_slices = hu.shape[0]
    lung = np.mean(hu < LUNG_BELOW_HU, axis=(1, 2))
    bone = np.sum(hu > BONE_ABOVE_HU, axis=(1, 2))
    if lung_fraction is None or bone_pixels is None:
        return _verdict("one of the two arrays is None.", "return lung_fraction, bone_pixels")
    try:
        fraction = np.asarray(lung_fraction, dtype=float).ravel()
        count = np.asarray(bone_pixels, dtype=float).ravel()
    except (TypeError, ValueError):
        return _verdict("expected two arrays of numbers, one value per slice.")
    for values, what in ((fraction, "lung_fraction"), (count, "bone_pixels")):
        if values.size == 1:
            return _verdict(
                f"{what} is one number for the whole volume.",
                "The question is how the content changes from slice to slice.",
            )
        if values.size != n_slices:
            return _verdict(
                f"{what} has {values.size} values but the volume has {n_slices} slices.",
                "Reduce over the two in-plane axes and keep axis 0.",
            )
    if np.allclose(fraction, 100 * lung) and not np.allclose(lung, 0):
        return _verdict("lung_fraction is in percent.", "Give a fraction between 0 and 1.")
    if np.allclose(fraction, 1 - lung) and not np.allclose(lung, 0.5):
        return _verdict(
            "lung_fraction counts the pixels above the threshold: that is everything but lung.",
            "Is aerated lung brighter or darker than soft tissue in HU?",
        )
    if np.allclose(fraction, hu.shape[1] * hu.shape[2] * lung) and not np.allclose(lung, 0):
        return _verdict(
            "lung_fraction is a count of pixels, not a fraction.",
            "Divide by the number of pixels in a slice (or take a mean).",
        )
    if not np.allclose(fraction, lung, atol=1e-6):
        return _verdict(
            "lung_fraction is not the fraction of lung-valued pixels in each slice.",
            "Which HU value separates aerated lung from soft tissue? The text names it.",
        )
    size = hu.shape[1] * hu.shape[2]
    if np.allclose(count * size, bone) and not np.allclose(bone, 0):
        return _verdict(
            "bone_pixels is a fraction; the question asks for a number of pixels.",
            "Count, do not average.",
        )
    if np.allclose(count, np.sum(hu < BONE_ABOVE_HU, axis=(1, 2))):
        return _verdict(
            "bone_pixels counts the pixels below the threshold.",
            "Is bone brighter or darker than soft tissue in HU?",
        )
    if not np.allclose(count, bone):
        return _verdict(
            "lung_fraction is right; bone_pixels is not the number of bone-valued pixels per slice.",
            "Which HU value separates bone from soft tissue? The text names it.",
        )
    return None


def reference_slice_evidence(volume):
    """Reference for exercise 3's second part: per slice, the lung fraction and the bone pixel count.

    Example
    -------
    >>> reference_slice_evidence(np.full((2, 4, 4), -850.0))
    (array([1., 1.]), array([0, 0]))
    """
    hu = np.asarray(volume, dtype=float)
    return np.mean(hu < LUNG_BELOW_HU, axis=(1, 2)), np.sum(hu > BONE_ABOVE_HU, axis=(1, 2))


def check_ct5n_evidence(function, volume) -> bool:
    """Check ``function(volume) -> (lung_fraction, bone_pixels)`` for a CT volume in HU.

    ``lung_fraction[k]`` is the fraction (0 to 1) of slice ``k``'s pixels below
    -500 HU; ``bone_pixels[k]`` the number of its pixels above 150 HU. Both are
    one value per slice (axis 0). The function is tried first on a small test
    volume that holds lung and bone (the real CT5N has no bone, so it alone
    cannot tell a right bone count from a wrong one), then on ``volume``.

    Example
    -------
    >>> vol = np.full((2, 4, 4), 40.0)
    >>> vol[1, :, :2] = -850.0
    >>> check_ct5n_evidence(reference_slice_evidence, vol)
    ✅ lung and bone per slice: correct.
    True
    """
    name = "lung and bone per slice"
    hu = np.asarray(volume, dtype=float)
    if hu.ndim != 3:
        raise ValueError(f"volume must be 3-D (slice, row, column), got shape {hu.shape}")
    for where, test_volume in (
        ("on a small test volume with lung and bone", _ct5n_probe()),
        ("", hu),
    ):
        ok, result = checks.call_student(function, test_volume.copy(), name=name)
        if not ok:
            return False
        if not isinstance(result, tuple | list) or len(result) != 2:
            return checks.feedback(
                False,
                name,
                "expected the function to return two arrays.",
                "return lung_fraction, bone_pixels",
            )
        mistake = _evidence_mistake(*result, test_volume)
        if mistake is not None:
            message, hint = mistake
            if where:
                message = f"{where}: {message}"
            return checks.feedback(False, name, message, hint)
    return checks.feedback(True, name)
