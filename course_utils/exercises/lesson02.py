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

import numpy as np

from course_utils import checks

__all__ = [
    "check_field_of_view",
    "check_nearest_slice",
    "check_resample_to_spacing",
    "check_coronal_aspect",
    "reference_resample",
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


# --------------------------------------------------------------------------- exercise 1
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
    ❌ field of view: you measured from the centre of the first voxel to the centre of the last one. Hint: Each voxel covers a full spacing: count n voxels, not n - 1 gaps.
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
            "Each voxel covers a full spacing: count n voxels, not n - 1 gaps.",
        )
    if np.allclose(values, np.array(shape, dtype=float), rtol=1e-4):
        return checks.feedback(
            False, name, "these are voxel counts, not millimetres.", "Multiply by the spacing."
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
        "Field of view = number of voxels x spacing.",
    )


# --------------------------------------------------------------------------- exercise 2
def check_nearest_slice(function, affine, n_slices: int) -> bool:
    """Check ``function(affine, n_slices, z_mm) -> int``: index of the slice whose centre is nearest ``z_mm``.

    The function is tried on several patient z coordinates: slice centres,
    points between slices and points outside the volume (which must give the
    first or last index). Works for series sorted in either direction.

    Parameters
    ----------
    function : callable
        The student's function.
    affine : array_like, shape (4, 4)
        Voxel (slice, row, column) -> patient mm of an axial series.
    n_slices : int

    Returns
    -------
    bool

    Example
    -------
    >>> affine = np.eye(4)[[2, 1, 0, 3]] * [[1], [1], [2.5], [1]]
    >>> check_nearest_slice(lambda a, n, z: int(np.clip(round((z - a[2, 3]) / a[2, 0]), 0, n - 1)), affine, 10)
    ✅ nearest slice: correct.
    True
    """
    name = "nearest slice"
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4):
        raise ValueError(f"affine must be 4 x 4, got {affine.shape}")
    if int(n_slices) < 1:
        raise ValueError(f"n_slices must be >= 1, got {n_slices}")
    n_slices = int(n_slices)
    z_centres = affine[2, 3] + np.arange(n_slices) * affine[2, 0]
    step = affine[2, 0] if n_slices > 1 and affine[2, 0] != 0 else 1.0
    probes = [z_centres[0], z_centres[-1], z_centres[n_slices // 2]]
    probes += [z_centres[n_slices // 2] + 0.3 * step, z_centres[min(1, n_slices - 1)] - 0.2 * step]
    probes += [z_centres.min() - 40.0, z_centres.max() + 40.0]
    for z_mm in probes:
        ok, result = checks.call_student(function, affine.copy(), n_slices, float(z_mm), name=name)
        if not ok:
            return False
        expected = int(np.argmin(np.abs(z_centres - z_mm)))
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the index.")
        if isinstance(result, (float, np.floating)) and float(result).is_integer():
            result = int(result)
        if not isinstance(result, (int, np.integer)) or isinstance(result, bool):
            return checks.feedback(
                False,
                name,
                f"returned a {type(result).__name__}; expected an integer index.",
                "Round, then int().",
            )
        if int(result) != expected:
            inside = z_centres.min() <= z_mm <= z_centres.max()
            where = "inside the volume" if inside else "outside the volume"
            hint = (
                "Compare z with the z of every slice centre: affine[2, 3] + k * affine[2, 0]."
                if inside
                else "Outside the scanned range the nearest slice is the first or the last one (clip the index)."
            )
            return checks.feedback(
                False, name, f"wrong index for a z {where} (got {int(result)}).", hint
            )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 3
def reference_resample(volume, spacing_mm, target_mm, order: int = 1):
    """Reference for exercise 3: resample ``volume`` to ``target_mm`` voxels keeping the field of view.

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
                f"for spacing {spacing} -> {target} mm the shape is {resampled.shape}, expected {expected.shape}.",
                "New number of voxels = round(old number x old spacing / target spacing) along each axis.",
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
                "The field of view (voxels x spacing) must not change: new spacing = old FOV / new voxel count.",
            )
        difference = np.abs(resampled.astype(float) - expected)
        if not np.isfinite(difference).all() or difference.mean() > 0.05 * expected.std():
            return checks.feedback(
                False,
                name,
                f"the resampled values differ from the reference by {difference.mean():.3g} on average.",
                "Use scipy.ndimage.zoom with one zoom factor per axis and the requested order.",
            )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 4
def check_coronal_aspect(answer, spacing_mm) -> bool:
    """Check the ``aspect`` for ``imshow`` of a coronal section ``volume[:, row, :]``.

    matplotlib's ``aspect`` is the height of one displayed pixel divided by
    its width; a coronal section has slices down the screen and columns
    across, so it is slice spacing / column spacing.

    Example
    -------
    >>> check_coronal_aspect(2.5 / 0.7, (2.5, 0.7, 0.7))
    ✅ coronal aspect: correct.
    True
    """
    name = "coronal aspect"
    _, spacing = _geometry((1, 1, 1), spacing_mm, name)
    expected = spacing[0] / spacing[2]
    if isinstance(answer, str):
        return checks.feedback(
            False,
            name,
            f"got the string {answer!r}; expected a number.",
            "aspect = slice spacing / column spacing",
        )
    if answer is not None and np.ndim(answer) == 0:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if (
            value is not None
            and not np.isclose(expected, 1.0)
            and np.isclose(value, 1.0 / expected, rtol=1e-3)
        ):
            return checks.feedback(
                False,
                name,
                "this is the inverse.",
                "aspect is height / width of one displayed pixel.",
            )
        if value is not None and np.isclose(value, 1.0) and not np.isclose(expected, 1.0):
            return checks.feedback(
                False, name, "1 means square pixels, the mistake this exercise is about."
            )
    return checks.check_scalar(
        answer, expected, name=name, rtol=1e-3, hint="aspect = slice spacing / column spacing"
    )
