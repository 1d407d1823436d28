"""Checks for ``09_registration``: rigid matrices, resampling by geometry, mutual information, registration.

Each check runs the student's function on test data, compares the result with
a reference computed the same way, prints specific feedback that names the
likely mistake without revealing the expected values, and returns a boolean.

Conventions the checks assume (the lesson states them):

- a rigid transform is a 4 x 4 matrix acting on homogeneous points in mm,
  rotating by ``R = Rz @ Ry @ Rx`` (angles in degrees, x first) about a centre
  ``c`` and then translating by ``t``: ``p -> R (p - c) + c + t``;
- a registration transform maps a point of the *fixed* image to the point of
  the *moving* image that shows the same anatomy (the direction resampling
  needs).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from course_utils import checks

__all__ = [
    "check_rigid_matrix",
    "check_resample_to_grid",
    "check_mutual_information",
    "check_tre",
    "check_registration",
    "fallback_register_rigid",
    "fallback_tre",
    "grow_mask_mm",
    "sample_grid",
]


# --------------------------------------------------------------------------- reference maths
def _rotation(angles_deg, radians: bool = False, order: str = "zyx") -> np.ndarray:
    ax, ay, az = np.asarray(angles_deg, dtype=float) if radians else np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx if order == "zyx" else rx @ ry @ rz


def _rigid(angles_deg, translation_mm, centre_mm, **kwargs) -> np.ndarray:
    rotation = _rotation(angles_deg, **kwargs)
    centre = np.asarray(centre_mm, dtype=float)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = centre + np.asarray(translation_mm, dtype=float) - rotation @ centre
    return matrix


def _resample(moving, moving_affine, fixed_shape, fixed_affine, order=1, transform=None):
    index_map = (
        np.linalg.inv(moving_affine)
        @ (np.eye(4) if transform is None else transform)
        @ np.asarray(fixed_affine, dtype=float)
    )
    grid = np.indices(fixed_shape, dtype=float).reshape(3, -1)
    coords = index_map[:3, :3] @ grid + index_map[:3, 3:]
    return ndimage.map_coordinates(moving, coords, order=order, cval=0.0).reshape(fixed_shape)


def _as_matrix(value, name: str, what: str):
    try:
        matrix = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        checks.feedback(
            False, name, f"{what} returned {type(value).__name__}; expected a 4 x 4 array."
        )
        return None
    if matrix.shape != (4, 4):
        checks.feedback(False, name, f"{what} returned shape {matrix.shape}; expected (4, 4).")
        return None
    return matrix


# --------------------------------------------------------------------------- exercise 1
_RIGID_CASES = [
    ((0.0, 0.0, 30.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((10.0, -20.0, 5.0), (3.0, -4.0, 5.0), (10.0, 20.0, -5.0)),
    ((-7.0, 12.0, 25.0), (-15.0, 2.5, 8.0), (-30.0, 5.0, 40.0)),
]


def check_rigid_matrix(function) -> bool:
    """Check ``function(angles_deg, translation_mm, centre_mm) -> 4 x 4`` rigid matrix.

    The rotation is ``Rz @ Ry @ Rx`` (degrees) about ``centre_mm``, followed by
    the translation. The feedback names the usual mistakes: angles used as
    radians, rotation about the origin instead of the centre, the inverse
    (transposed) rotation, another order of the three rotations, a wrong
    bottom row.

    Example
    -------
    >>> from course_utils.exercises.lesson09 import _rigid
    >>> check_rigid_matrix(_rigid)
    ✅ rigid matrix: correct.
    True
    """
    name = "rigid matrix"
    for angles, translation, centre in _RIGID_CASES:
        ok, value = checks.call_student(function, angles, translation, centre, name=name)
        if not ok:
            return False
        matrix = _as_matrix(value, name, "your function")
        if matrix is None:
            return False
        expected = _rigid(angles, translation, centre)
        if np.allclose(matrix, expected, atol=1e-6):
            continue
        label = f"angles {angles} deg, translation {translation} mm, centre {centre} mm"
        if not np.allclose(matrix[3], [0, 0, 0, 1]):
            return checks.feedback(
                False,
                name,
                f"for {label} the bottom row is not (0, 0, 0, 1).",
                "A homogeneous matrix keeps the 1 of (x, y, z, 1): its last row is 0 0 0 1.",
            )
        if np.allclose(matrix, _rigid(angles, translation, centre, radians=True), atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the rotation is far too large: the angles were used as radians.",
                "np.cos and np.sin expect radians; convert the degrees first.",
            )
        rotation_ok = np.allclose(matrix[:3, :3], expected[:3, :3], atol=1e-6)
        if rotation_ok and np.allclose(matrix, _rigid(angles, translation, (0, 0, 0)), atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the rotation is right but it turns about the origin (0, 0, 0) mm, "
                "not about centre_mm.",
                "Rotating about c means: move c to the origin, rotate, move back, then translate.",
            )
        if np.allclose(matrix[:3, :3], expected[:3, :3].T, atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the rotation turns the other way (its 3 x 3 part is the transpose, "
                "i.e. the inverse, of the one asked for).",
                "Check the sign of the sines: a positive angle about z turns +x towards +y.",
            )
        if np.allclose(matrix[:3, :3], _rotation(angles, order="xyz"), atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the three rotations are composed in another order.",
                "Rotations do not commute: R = Rz @ Ry @ Rx applies the x rotation first.",
            )
        if rotation_ok:
            return checks.feedback(
                False,
                name,
                f"for {label} the rotation part is right but the translation column is not.",
                "Rotate about c: move c to the origin, rotate, move c back, then add t.",
            )
        factors = [_rotation(np.eye(3)[k] * angles[k]) for k in range(3)]  # Rx, Ry, Rz
        for k, (axis, towards) in enumerate(
            zip("xyz", ["+y towards +z", "+z towards +x", "+x towards +y"], strict=True)
        ):
            flipped = [f.T if j == k else f for j, f in enumerate(factors)]
            if angles[k] and np.allclose(matrix[:3, :3], flipped[2] @ flipped[1] @ flipped[0]):
                return checks.feedback(
                    False,
                    name,
                    f"for {label} the rotation about {axis} turns the wrong way (the signs of its "
                    "sines are swapped); the other two are right.",
                    f"A positive angle about {axis} turns {towards}.",
                )
        return checks.feedback(
            False,
            name,
            f"for {label} the rotation part differs from Rz @ Ry @ Rx.",
            "Build each elementary rotation, then multiply them, z on the left.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 2
def _resample_case():
    rng = np.random.default_rng(9)
    moving = ndimage.gaussian_filter(rng.random((14, 20, 22)), 1.5)
    moving = (moving - moving.min()) / np.ptp(moving)
    # moving grid: 4 mm slices, 2 x 1.5 mm pixels, slices along z, rotated in plane
    turn = _rotation((0.0, 0.0, 12.0))
    moving_affine = np.eye(4)
    moving_affine[:3, :3] = np.column_stack(
        [turn @ [0, 0, 4.0], turn @ [0, 2.0, 0], turn @ [1.5, 0, 0]]
    )
    moving_affine[:3, 3] = [-16.0, -20.0, -28.0]
    # fixed grid: coronal-like, 3 mm, another origin
    fixed_affine = np.array(
        [[0, 0, 3.0, -15.0], [3.0, 0, 0, -12.0], [0, -3.0, 0, 20.0], [0, 0, 0, 1.0]]
    )
    return moving, moving_affine, (10, 14, 12), fixed_affine


def check_resample_to_grid(function) -> bool:
    """Check ``function(moving, moving_affine, fixed_shape, fixed_affine, order) -> volume``.

    The test volume has anisotropic, rotated voxels and the fixed grid another
    orientation and origin. The feedback names the usual mistakes: the two
    affines composed the wrong way round, the translation column dropped,
    indices used as if they were mm (no affines), nearest-neighbour or the
    default cubic spline instead of the requested order, the coordinate axes
    reversed, coordinates passed as (N, 3) instead of (3, N), the index map
    written ``moving_affine @ inv(fixed_affine)`` or ``moving_affine @ fixed_affine``
    (the inverse forgotten), and ``mode``/``cval`` other
    than 0 outside the moving volume.

    Example
    -------
    >>> from course_utils.exercises.lesson09 import _resample
    >>> check_resample_to_grid(_resample)
    ✅ resampling by geometry: correct.
    True
    """
    name = "resampling by geometry"
    moving, moving_affine, fixed_shape, fixed_affine = _resample_case()

    def guarded(*args):
        try:
            return function(*args)
        except RuntimeError as error:
            if "coordinate array" in str(error):  # map_coordinates given (N, 3) coordinates
                return _COORDINATE_SHAPE
            raise

    ok, value = checks.call_student(
        guarded,
        moving.copy(),
        moving_affine.copy(),
        fixed_shape,
        fixed_affine.copy(),
        1,
        name=name,
    )
    if not ok:
        return False
    if value is _COORDINATE_SHAPE:
        return checks.feedback(
            False,
            name,
            "map_coordinates rejected the coordinate array: it wants shape (3, N), one row per "
            "axis of the moving volume, and yours has the points as rows.",
            "Keep the indices as columns: index_map[:3, :3] @ grid with grid of shape (3, N), "
            "or transpose an (N, 3) array before passing it.",
        )
    try:
        result = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return checks.feedback(
            False, name, f"it returned {type(value).__name__}; expected a volume."
        )
    if result.shape != tuple(fixed_shape):
        return checks.feedback(
            False,
            name,
            f"it returned shape {result.shape}; expected the fixed grid's shape {fixed_shape}.",
            "The output has one value per voxel of the fixed grid.",
        )
    expected = _resample(moving, moving_affine, fixed_shape, fixed_affine, 1)

    def same(candidate):
        return bool(np.allclose(result, candidate, atol=1e-4))

    if same(expected):
        return checks.feedback(True, name)
    wrong_way = np.linalg.inv(fixed_affine) @ moving_affine
    grid = np.indices(fixed_shape, dtype=float).reshape(3, -1)
    if same(
        ndimage.map_coordinates(
            moving, wrong_way[:3, :3] @ grid + wrong_way[:3, 3:], order=1, cval=0.0
        ).reshape(fixed_shape)
    ):
        return checks.feedback(
            False,
            name,
            "the affines are composed the wrong way round (fixed^-1 @ moving maps moving indices "
            "to fixed indices).",
            "For each fixed voxel: its index -> mm with the fixed affine -> moving index with the "
            "inverse of the moving affine.",
        )
    mm_first = moving_affine @ np.linalg.inv(fixed_affine)
    if same(
        ndimage.map_coordinates(
            moving, mm_first[:3, :3] @ grid + mm_first[:3, 3:], order=1, cval=0.0
        ).reshape(fixed_shape)
    ):
        return checks.feedback(
            False,
            name,
            "the index map is moving_affine @ inv(fixed_affine): it treats the fixed indices as mm "
            "(inverse of the fixed affine first) and ends in mm, not in moving indices.",
            "Read the product right to left: the fixed affine turns a fixed index into mm, then the "
            "inverse of the moving affine turns mm into a moving index.",
        )
    no_inverse = moving_affine @ fixed_affine
    if same(
        ndimage.map_coordinates(
            moving, no_inverse[:3, :3] @ grid + no_inverse[:3, 3:], order=1, cval=0.0
        ).reshape(fixed_shape)
    ):
        return checks.feedback(
            False,
            name,
            "the index map is moving_affine @ fixed_affine: the moving affine maps indices to mm, "
            "so after the fixed affine (index -> mm) you need its inverse (mm -> moving index).",
            "Which matrix undoes the moving affine, and on which side of the fixed affine does it "
            "go?",
        )
    no_shift = np.linalg.inv(moving_affine) @ fixed_affine
    if same(
        ndimage.map_coordinates(moving, no_shift[:3, :3] @ grid, order=1, cval=0.0).reshape(
            fixed_shape
        )
    ):
        return checks.feedback(
            False,
            name,
            "the output is shifted: the translation column of the index map was dropped.",
            "Use homogeneous coordinates (append a 1) or add the last column explicitly.",
        )
    if same(ndimage.map_coordinates(moving, grid, order=1, cval=0.0).reshape(fixed_shape)):
        return checks.feedback(
            False,
            name,
            "it samples the moving volume at the fixed voxel *indices*: the affines are ignored, "
            "so voxels of different size and position are treated as the same place.",
            "An index is only a place once an affine turns it into mm.",
        )
    if same(_resample(moving, moving_affine, fixed_shape, fixed_affine, 0)):
        return checks.feedback(
            False,
            name,
            "the geometry is right but the values are nearest-neighbour, not the requested order.",
            "Pass the order argument to map_coordinates.",
        )
    if same(_resample(moving, moving_affine, fixed_shape, fixed_affine, 3)):
        return checks.feedback(
            False,
            name,
            "the geometry is right but the values are cubic: the order argument is not passed, "
            "so map_coordinates uses its default (order=3, a cubic spline).",
            "Pass order=order to map_coordinates.",
        )
    index_map = np.linalg.inv(moving_affine) @ fixed_affine
    coords = index_map[:3, :3] @ grid + index_map[:3, 3:]
    if same(ndimage.map_coordinates(moving, coords[::-1], order=1, cval=0.0).reshape(fixed_shape)):
        return checks.feedback(
            False,
            name,
            "the coordinate rows are in reversed order (k, j, i instead of i, j, k).",
            "map_coordinates wants row 0 to index the moving volume's first axis, row 1 its "
            "second, row 2 its third: the order the affine's columns use.",
        )
    transposed = index_map[:3, :3].T @ grid + index_map[:3, 3:]
    if same(ndimage.map_coordinates(moving, transposed, order=1, cval=0.0).reshape(fixed_shape)):
        return checks.feedback(
            False,
            name,
            "the 3 x 3 part of the index map is applied transposed: with the points as rows "
            "(grid.T @ M) the product uses M transposed.",
            "Points as rows need P @ M.T; points as columns (3, N) need M @ P.",
        )
    before = index_map[:3, :3] @ grid[::-1] + index_map[:3, 3:]
    if same(ndimage.map_coordinates(moving, before, order=1, cval=0.0).reshape(fixed_shape)):
        return checks.feedback(
            False,
            name,
            "the fixed grid's index rows are reversed (k, j, i) before the mapping.",
            "np.indices gives the rows in the order i, j, k, the order of the affine's columns: "
            "use them as they are.",
        )
    ratio = np.linalg.norm(fixed_affine[:3, :3], axis=0) / np.linalg.norm(
        moving_affine[:3, :3], axis=0
    )
    if same(
        ndimage.map_coordinates(moving, grid * ratio[:, None], order=1, cval=0.0).reshape(
            fixed_shape
        )
    ):
        return checks.feedback(
            False,
            name,
            "the indices are only scaled by the ratio of the voxel sizes (the zoom shortcut of "
            "Pitfall 1): you matched voxel sizes but not positions or directions.",
            "The origin and the orientation of both affines must enter: map each fixed index to "
            "mm with the whole fixed affine, then to a moving index with the inverse of the whole "
            "moving affine.",
        )
    if np.isnan(result).any():
        return checks.feedback(
            False,
            name,
            "some values are NaN: points outside the moving volume were filled with cval=nan.",
            "Use cval=0 (the default) so that outside the moving volume is background.",
        )
    if same(ndimage.map_coordinates(moving, coords, order=1, mode="nearest").reshape(fixed_shape)):
        return checks.feedback(
            False,
            name,
            "outside the moving volume the edge values are repeated (mode='nearest').",
            "Use the default mode='constant' with cval=0: outside the moving volume is background.",
        )
    return checks.feedback(
        False,
        name,
        "the values differ from sampling the moving volume at the mapped positions.",
        "map_coordinates takes the coordinates as an array of shape (3, N) in the moving "
        "volume's index order, with cval=0 outside.",
    )


_COORDINATE_SHAPE = object()  # marker: map_coordinates raised on an (N, 3) coordinate array


# --------------------------------------------------------------------------- exercise 3
def _reference_mi(a, b, bins) -> float:
    joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1), p.sum(axis=0)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])))


def _swapped_marginals_mi(a, b, bins) -> float:
    joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1), p.sum(axis=0)
    product = np.outer(pb, pa)
    nz = (p > 0) & (product > 0)
    return float(np.sum(p[nz] * np.log(p[nz] / product[nz])))


def _joint_entropy(a, b, bins) -> float:
    joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
    p = joint[joint > 0] / joint.sum()
    return float(-np.sum(p * np.log(p)))


def _mi_slips(a, b, bins):
    """H(A) + H(B) + H(A, B) (sign slip) and the sum of log ratios without the weight p(a, b)."""
    joint, _, _ = np.histogram2d(np.ravel(a), np.ravel(b), bins=bins)
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1), p.sum(axis=0)

    def entropy(q):
        q = q[q > 0]
        return float(-np.sum(q * np.log(q)))

    nz = p > 0
    unweighted = float(np.sum(np.log(p[nz] / np.outer(pa, pb)[nz])))
    return entropy(pa) + entropy(pb) + entropy(p), unweighted


def _mi_cases():
    rng = np.random.default_rng(3)
    a = ndimage.gaussian_filter(rng.random((40, 40)), 2)
    remapped = np.cos(8 * (a - a.mean()) / np.ptp(a)) + 0.05 * rng.standard_normal(a.shape)
    return [
        ("an image and a non-monotonic remap of it, 32 bins", a, remapped, 32),
        ("the same pair, 16 bins", a, remapped, 16),
        ("two independent noise images, 8 bins", rng.random(5000), rng.random(5000), 8),
    ]


def check_mutual_information(function) -> bool:
    """Check ``function(a, b, bins) -> float``: mutual information (nats) from a joint histogram.

    The feedback names the usual mistakes: empty bins giving NaN (0 log 0),
    the logarithm in base 2 (bits), the joint entropy instead of the mutual
    information, the ratio inside the logarithm inverted (a negative value),
    the product of the marginals transposed, counts not normalised to
    probabilities (the whole sum in counts, N (MI - log N), or only the ratio
    inside the logarithm, MI - log N).

    Example
    -------
    >>> from course_utils.exercises.lesson09 import _reference_mi
    >>> check_mutual_information(_reference_mi)
    ✅ mutual information: correct.
    True
    """
    name = "mutual information"
    for label, a, b, bins in _mi_cases():
        if np.ndim(a) > 1:  # 2-D images: a function that skips np.ravel fails here
            try:
                with np.errstate(all="ignore"):
                    function(a.copy(), b.copy(), bins)
            except NotImplementedError:
                pass  # reported by call_student below
            except Exception as exc:
                try:
                    with np.errstate(all="ignore"):
                        function(np.ravel(a).copy(), np.ravel(b).copy(), bins)
                    flat_works = True
                except Exception:
                    flat_works = False
                if flat_works:
                    return checks.feedback(
                        False,
                        name,
                        f"for {label} (two {a.shape[0]} x {a.shape[1]} images) it raised "
                        f"{type(exc).__name__}: {exc}; on the same values as 1-D arrays it runs. "
                        "np.histogram2d takes two 1-D arrays of values.",
                        "Flatten both images first (np.ravel).",
                    )
        with np.errstate(all="ignore"):
            ok, value = checks.call_student(function, a.copy(), b.copy(), bins, name=name)
        if not ok:
            return False
        if value is None or np.ndim(value) != 0:
            return checks.feedback(
                False, name, f"for {label} it returned {type(value).__name__}; expected one number."
            )
        value = float(value)
        expected = _reference_mi(a, b, bins)
        if np.isclose(value, expected, rtol=1e-6, atol=1e-9):
            continue
        if np.isnan(value):
            return checks.feedback(
                False,
                name,
                f"for {label} it returned NaN: empty bins of the joint histogram give 0 · log 0.",
                "Sum only over the bins with p > 0 (their contribution tends to 0).",
            )
        if np.isclose(value, expected / np.log(2), rtol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the value is in bits (log base 2); the lesson uses nats.",
                "Use np.log, the natural logarithm.",
            )
        if np.isclose(value, _joint_entropy(a, b, bins), rtol=1e-6) or np.isclose(
            value, -_joint_entropy(a, b, bins), rtol=1e-6
        ):
            return checks.feedback(
                False,
                name,
                f"for {label} it returned the joint entropy H(A, B), not the mutual information.",
                "MI = H(A) + H(B) - H(A, B): it compares the joint histogram with the product of "
                "its two marginals.",
            )
        n_samples = np.size(a)
        if np.isclose(value, n_samples * (expected - np.log(n_samples)), rtol=1e-6) or np.isclose(
            value, n_samples * expected, rtol=1e-6
        ):
            return checks.feedback(
                False,
                name,
                f"for {label} the histogram counts were not divided by their total: the sum is "
                "written in counts, not probabilities.",
                "Divide the joint histogram by its total so it sums to 1, then take its row and "
                "column sums as the marginals.",
            )
        if np.isclose(value, expected - np.log(n_samples), rtol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the ratio inside the logarithm is in counts: the weights are "
                "probabilities, but the joint and marginal histograms in the log were not divided "
                "by their total.",
                "Use the normalised joint histogram p and its row and column sums inside the log too.",
            )
        if np.isclose(value, -expected, rtol=1e-6) and value < -1e-9:
            return checks.feedback(
                False,
                name,
                f"for {label} the value is negative, and mutual information never is: the ratio "
                "inside the logarithm is upside down, or the entropies were computed without their minus "
                "sign (H = -sum p log p).",
                "The ratio is p(a, b) / (p(a) p(b)): the joint probability over the product of the "
                "marginals.",
            )
        if value < -1e-9:
            return checks.feedback(
                False,
                name,
                f"for {label} the value is negative, and mutual information never is.",
                "MI = sum of p(a, b) log(p(a, b) / (p(a) p(b))) over the bins with p > 0, with p the "
                "joint histogram divided by its total and p(a), p(b) its row and column sums.",
            )
        if np.isclose(value, _swapped_marginals_mi(a, b, bins), rtol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the product of the marginals is transposed: p(a) (the row sums) "
                "must go with the rows of the joint histogram.",
                "np.outer(p_a, p_b)[i, j] is p_a[i] * p_b[j], the same index order as p[i, j].",
            )
        if any(
            np.isclose(value, _reference_mi(a, b, other), rtol=1e-6) for other in {10, 32} - {bins}
        ):
            return checks.feedback(
                False,
                name,
                f"for {label} the value is that of a joint histogram with a different number of "
                f"bins: the `bins` argument ({bins} here) was not used.",
                "Pass bins=bins to np.histogram2d (its own default is 10 bins per axis).",
            )
        plus_joint, unweighted = _mi_slips(a, b, bins)
        if np.isclose(value, plus_joint, rtol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the value is H(A) + H(B) + H(A, B): the joint entropy enters with "
                "the wrong sign.",
                "Mutual information is what the two marginal entropies hold beyond the joint one.",
            )
        if np.isclose(value, unweighted, rtol=1e-6):
            return checks.feedback(
                False,
                name,
                f"for {label} the log ratios of the bins are summed without their weight: each "
                "bin's log(p(a, b) / (p(a) p(b))) must be multiplied by p(a, b).",
                "MI is the mean of the log ratio over the joint distribution.",
            )
        if abs(value) > 2 * abs(expected) + 1.0:
            return checks.feedback(
                False,
                name,
                f"for {label} the value is far too large.",
                "Check the normalisation (the joint histogram divided by its total) and that each "
                "bin's log ratio is weighted by p(a, b).",
            )
        return checks.feedback(
            False,
            name,
            f"for {label} the value is {'too high' if value > expected else 'too low'}.",
            "Marginals are the row and column sums of the normalised joint histogram.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 4: TRE
def _reference_tre(estimate, truth, landmarks_mm) -> np.ndarray:
    points = np.c_[np.asarray(landmarks_mm, dtype=float), np.ones(len(landmarks_mm))]
    return np.linalg.norm((points @ (np.asarray(estimate) - np.asarray(truth)).T)[:, :3], axis=1)


def fallback_tre(estimate, truth, landmarks_mm) -> np.ndarray:
    """The course's version of Exercise 4: distance (mm) between ``estimate @ p`` and ``truth @ p``.

    One value per landmark (a row of ``landmarks_mm``, in mm).

    Example
    -------
    >>> fallback_tre(np.eye(4), np.eye(4), [[0.0, 0.0, 0.0]]).tolist()
    [0.0]
    """
    return _reference_tre(estimate, truth, landmarks_mm)


def sample_grid(shape, step) -> np.ndarray:
    """Indices (3, N) of every ``step``-th voxel of a grid of ``shape``, without the full grid.

    ``np.indices(shape)[:, ::s0, ::s1, ::s2]`` first builds the index grid of the whole
    volume (24 bytes per voxel: 1.3 GB for 512 x 512 x 200); this builds only the kept ones.

    Example
    -------
    >>> sample_grid((4, 5, 6), (2, 2, 3)).shape
    (3, 12)
    """
    axes = [np.arange(0, n, int(k)) for n, k in zip(shape, np.broadcast_to(step, 3), strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij")).reshape(3, -1)


def grow_mask_mm(mask, margin_mm, voxel_mm) -> np.ndarray:
    """``mask`` grown by ``margin_mm``, converted to voxels per axis.

    A voxel joins when ``|di| / ri + |dj| / rj + |dk| / rk <= 1`` for some mask voxel at index
    offset (di, dj, dk), with ``r = margin_mm / voxel_mm`` per axis: along each axis the margin is
    ``margin_mm`` (6 mm is 3 voxels of 2 mm, but 1 slice of 5 mm and 12 pixels of 0.5 mm). On an
    isotropic grid this is the mask dilated ``r`` times by the 6-neighbour cross.

    Example
    -------
    >>> grow_mask_mm(np.eye(1, 9, 4, dtype=bool).reshape(1, 1, 9), 2.0, [1, 1, 1]).sum()
    np.int64(5)
    """
    radius = margin_mm / np.broadcast_to(np.asarray(voxel_mm, dtype=float), 3)
    half = np.floor(radius + 1e-9).astype(int)
    offsets = np.ogrid[tuple(slice(-h, h + 1) for h in half)]
    structure = (
        sum(np.abs(o) / max(r, 1e-9) for o, r in zip(offsets, radius, strict=True)) <= 1 + 1e-9
    )
    return ndimage.binary_dilation(np.asarray(mask, dtype=bool), structure=structure)


def _tre_cases():
    rng = np.random.default_rng(9)
    landmarks = rng.uniform(-60, 60, (7, 3)) + [10.0, -20.0, 15.0]
    centre = landmarks.mean(axis=0)
    truth = _rigid((6.0, -4.0, 9.0), (5.0, -8.0, 3.0), centre)
    estimate = _rigid((4.0, -3.0, 12.0), (2.0, -6.0, 4.0), centre)
    return estimate, truth, landmarks


def check_tre(function) -> bool:
    """Check ``function(estimate, truth, landmarks_mm) -> (n,)`` target registration errors in mm.

    Per landmark ``p`` (rows of ``landmarks_mm``), the error is the Euclidean distance
    between ``estimate @ p`` and ``truth @ p`` on homogeneous points. The feedback names
    the usual mistakes: one mean number instead of one error per landmark, the mean of the
    coordinate differences instead of the length, squared distances, the translation left
    out (points without the homogeneous 1), the distance between the matrices themselves.

    Example
    -------
    >>> from course_utils.exercises.lesson09 import _reference_tre
    >>> check_tre(_reference_tre)
    ✅ target registration error: correct.
    True
    """
    name = "target registration error"
    estimate, truth, landmarks = _tre_cases()
    ok, value = checks.call_student(
        function, estimate.copy(), truth.copy(), landmarks.copy(), name=name
    )
    if not ok:
        return False
    expected = _reference_tre(estimate, truth, landmarks)
    try:
        errors = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return checks.feedback(
            False, name, f"your function returned {type(value).__name__}; expected an array."
        )
    difference = (np.c_[landmarks, np.ones(len(landmarks))] @ (estimate - truth).T)[:, :3]
    if errors.ndim == 0:
        if np.isclose(errors, expected.mean()) or np.isclose(errors, expected.max()):
            return checks.feedback(
                False,
                name,
                "it returned one number; the lesson needs one error per landmark.",
                "return the distances (one per row of landmarks_mm); the mean and the maximum "
                "are taken afterwards.",
            )
        if np.isclose(errors, np.linalg.norm(estimate - truth)):
            return checks.feedback(
                False,
                name,
                "it measured the two matrices, not where they put the landmarks.",
                "apply both transforms to the landmark points and measure the distance in mm.",
            )
        return checks.feedback(
            False, name, "it returned one number; expected one error per landmark."
        )
    if errors.shape != expected.shape:
        return checks.feedback(
            False,
            name,
            f"it returned shape {errors.shape} for {len(landmarks)} landmarks; expected "
            f"({len(landmarks)},), one distance per landmark.",
            "take the norm along the coordinate axis (axis=1 for points as rows).",
        )
    if np.allclose(errors, expected, rtol=1e-6, atol=1e-9):
        return checks.feedback(True, name)
    if np.allclose(errors, expected**2, rtol=1e-6):
        return checks.feedback(
            False,
            name,
            "these are squared distances (mm²).",
            "the TRE is a distance in mm: take the square root of the sum of squares.",
        )
    for variant in (difference.mean(axis=1), np.abs(difference).mean(axis=1)):
        if np.allclose(errors, variant, rtol=1e-6):
            return checks.feedback(
                False,
                name,
                "it averages the x, y and z differences instead of taking the length of the "
                "difference vector.",
                "a distance combines the three coordinate differences by Pythagoras.",
            )
    homogeneous = np.c_[landmarks, np.ones(len(landmarks))]
    for untransposed in (
        np.linalg.norm((homogeneous @ (estimate - truth))[:, :3], axis=1),
        np.linalg.norm(landmarks @ (estimate[:3, :3] - truth[:3, :3]), axis=1),
    ):
        if np.allclose(errors, untransposed, rtol=1e-6):
            return checks.feedback(
                False,
                name,
                "your landmarks are rows, and you multiplied them by the matrix itself: "
                "P @ M uses M transposed.",
                "with points as rows, multiply by the transposed matrix: P @ M.T.",
            )
    no_shift = np.linalg.norm(landmarks @ (estimate[:3, :3] - truth[:3, :3]).T, axis=1)
    if np.allclose(errors, no_shift, rtol=1e-6):
        return checks.feedback(
            False,
            name,
            "the translation column of the transforms plays no part in your errors.",
            "append a 1 to each landmark (homogeneous point) before the 4 x 4 product.",
        )
    return checks.feedback(
        False,
        name,
        "the errors differ from the distances between where the two transforms put each landmark.",
        "map each landmark with both 4 x 4 matrices and measure the distance in mm.",
    )


# --------------------------------------------------------------------------- exercise 5
MARGIN_MM = 6.0  # the sample points lie in the mask grown by this margin (mm, per axis)
_SLICE_FACTOR = 2.5  # the check's test volume: slices 2.5 times thicker than the given voxels


def _thick_slices(volume, affine):
    """``volume`` resampled to slices ``_SLICE_FACTOR`` times thicker along its last axis."""
    n_slices = int(np.floor((volume.shape[2] - 1) / _SLICE_FACTOR)) + 1
    smooth = ndimage.gaussian_filter1d(volume, 0.42 * _SLICE_FACTOR, axis=2)
    thick = ndimage.affine_transform(
        smooth,
        np.diag([1.0, 1.0, _SLICE_FACTOR]),
        output_shape=(*volume.shape[:2], n_slices),
        order=1,
    )
    return thick, affine @ np.diag([1.0, 1.0, _SLICE_FACTOR, 1.0])


def _coarse_samples(fixed, voxel_mm, level, sigma_voxel_mm, step_voxel_mm):
    """Fixed values at the coarsest level, the recipe of Exercise 5 with the given voxel sizes."""
    from skimage.filters import threshold_otsu

    grown = grow_mask_mm(fixed > threshold_otsu(fixed), MARGIN_MM, voxel_mm)
    sigma = np.where(level > sigma_voxel_mm, 0.5 * level / sigma_voxel_mm, 0.0)
    step = np.maximum(2, np.rint(level / step_voxel_mm)).astype(int)
    sub = tuple(slice(None, None, k) for k in step)
    return ndimage.gaussian_filter(fixed, sigma)[sub][grown[sub]]


class _Recorder:
    """A similarity (NCC) that remembers the arrays it was given, to tell the levels apart."""

    def __init__(self):
        self.counts, self.arrays = {}, {}

    def __call__(self, a, b):
        for values in (a, b):
            values = np.asarray(values, dtype=float)
            key = hash(values.tobytes())
            self.counts[key] = self.counts.get(key, 0) + 1
            self.arrays.setdefault(key, values)
        return _ncc(np.asarray(a, dtype=float), np.asarray(b, dtype=float))

    def levels(self):
        # the fixed values of one level recur at every evaluation; the moving ones change
        return [self.arrays[key] for key, count in self.counts.items() if count >= 10]


def _accepts_similarity(function) -> bool:
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "similarity" or p.kind is p.VAR_KEYWORD for p in parameters)


def _coarsest_default_level(function) -> float:
    """The largest of the function's default ``levels_mm`` (8 mm, the exercise's, if none)."""
    import inspect

    try:
        default = inspect.signature(function).parameters["levels_mm"].default
        return float(np.max(default))
    except (KeyError, TypeError, ValueError):
        return 8.0


def check_registration(function, fixed, affine, centre_mm, landmarks_mm, *, seed: int = 1) -> bool:
    """Run ``function(fixed, moving, affine, centre_mm)`` on a case with a known motion.

    The check resamples ``fixed`` to slices 2.5 times thicker along its last
    axis (anisotropic voxels, as in real series), moves it by a rigid motion of
    about 9 degrees and 14 mm (drawn from ``seed``), adds noise, calls the
    student's registration with its default pyramid and measures the target
    registration error (TRE) on ``landmarks_mm``. It passes at a mean TRE of
    2 mm or less, when the function also works coarse to fine with a
    smoothing and a sampling stride set per axis. The feedback names the usual
    mistakes: the start (the identity) returned unchanged, the similarity
    minimised instead of maximised (a cost of +similarity), the inverse
    transform returned (moving -> fixed), translations in voxels instead of
    mm, only one level (no coarse level), sigma, stride or mask margin from one
    voxel size instead of per axis. The last two are seen through the values the
    function passes to ``similarity`` (when it takes that argument).

    Example
    -------
    >>> check_registration(register_rigid, t1, affine, centre, landmarks)   # doctest: +SKIP
    ✅ rigid registration: correct. Mean TRE ... mm.
    True
    """
    name = "rigid registration"
    iso = np.asarray(fixed, dtype=float)
    iso_affine = np.asarray(affine, dtype=float)
    landmarks = np.c_[np.asarray(landmarks_mm, dtype=float), np.ones(len(landmarks_mm))]
    rng = np.random.default_rng(seed)
    angles = rng.choice([-1, 1], 3) * rng.uniform(5, 9, 3)
    shift = rng.choice([-1, 1], 3) * rng.uniform(6, 12, 3)
    motion = _rigid(angles, shift, centre_mm)
    moved = _resample(iso, iso_affine, iso.shape, iso_affine, 1, transform=np.linalg.inv(motion))
    fixed, affine = _thick_slices(iso, iso_affine)
    moving, _ = _thick_slices(moved, iso_affine)
    moving = moving + 0.02 * rng.standard_normal(moving.shape)
    recorder = _Recorder() if _accepts_similarity(function) else None
    extra = {} if recorder is None else {"similarity": recorder}
    with np.errstate(all="ignore"):
        ok, value = checks.call_student(
            function, fixed, moving, affine, centre_mm, name=name, **extra
        )
    if not ok:
        return False
    estimate = _as_matrix(value, name, "your registration")
    if estimate is None:
        return False

    def tre(matrix):
        return float(np.mean(np.linalg.norm((landmarks @ (matrix - motion).T)[:, :3], axis=1)))

    error = tre(estimate)
    voxel_size = np.linalg.norm(affine[:3, :3], axis=0)
    note = None  # a pyramid mistake: named whether or not the TRE is small
    if recorder is not None:
        levels = recorder.levels()
        if len(levels) == 1:
            note = (
                "every similarity evaluation used the same fixed samples: there is no coarse level (one smoothing and one stride only).",
                "Loop over levels_mm from coarse to fine: smooth, sample, optimise, and start each "
                "level from the previous result. The lesson measures what the coarse levels buy "
                "(after the registration table).",
            )
        elif levels:
            coarse = levels[0]
            level = _coarsest_default_level(function)
            right = _coarse_samples(fixed, voxel_size, level, voxel_size, voxel_size)
            for scalar in sorted({float(voxel_size[0]), float(voxel_size.mean())}):
                one = np.full(3, scalar)
                for margin_mm, sigma_mm, step_mm, what in [
                    (one, one, one, "sigma, the stride and the mask margin"),
                    (one, voxel_size, one, "the stride and the mask margin"),
                    (one, one, voxel_size, "sigma and the mask margin"),
                    (voxel_size, one, one, "sigma and stride"),
                    (voxel_size, voxel_size, one, "the stride"),
                    (voxel_size, one, voxel_size, "sigma"),
                    (one, voxel_size, voxel_size, "the mask margin"),
                ]:
                    wrong = _coarse_samples(fixed, margin_mm, level, sigma_mm, step_mm)
                    if (
                        wrong.shape == coarse.shape
                        and not (
                            right.shape == wrong.shape and np.allclose(right, wrong, atol=1e-6)
                        )
                        and np.allclose(coarse, wrong, atol=1e-5)
                    ):
                        note = (
                            f"{what} of the coarsest level "
                            f"{'are' if ' and ' in what else 'is'} set from one voxel size ({scalar:g} mm) for all three axes; this test volume "
                            f"has voxels of {np.round(voxel_size, 2).tolist()} mm.",
                            "Convert level / 2 (sigma), level (stride) and MARGIN_MM (the mask "
                            "margin) to voxels per axis: "
                            "divide by np.linalg.norm(affine[:3, :3], axis=0), an array of three "
                            "voxel sizes.",
                        )
                        break
                if note is not None:
                    break
    if error <= 2.0 and note is not None:  # accurate here, but not the method asked for
        print(
            f"⚠️ {name}: works on this test case (mean TRE {error:.2f} mm), but {note[0]} "
            f"Hint: {note[1]}"
        )
        return True
    if error <= 2.0:
        return checks.feedback(True, name, f"Mean TRE {error:.2f} mm on this test case.")
    if note is not None:
        return checks.feedback(False, name, f"mean TRE {error:.1f} mm, and {note[0]}", note[1])
    if np.allclose(estimate, np.eye(4), atol=1e-9):
        return checks.feedback(
            False,
            name,
            f"it returned the identity, the starting point (mean TRE {error:.1f} mm): the "
            "registration did not move from the start.",
            "Return the matrix built from the optimiser's result (result.x), not the start.",
        )
    if tre(np.linalg.inv(estimate)) <= 2.0:
        return checks.feedback(
            False,
            name,
            "the transform found is the inverse of the one asked for: it maps moving to fixed.",
            "Resampling needs, for each fixed point, where it lies in the moving image.",
        )
    if _similarity_at(fixed, moving, affine, estimate) < _similarity_at(
        fixed, moving, affine, np.eye(4)
    ):
        return checks.feedback(
            False,
            name,
            f"mean TRE {error:.1f} mm, and the images are *less* similar at the result than at "
            "the start: the registration moved away from alignment.",
            "The optimiser minimises: is the cost -similarity (not +similarity)?",
        )
    found_rotation = estimate[:3, :3]
    if np.allclose(found_rotation, motion[:3, :3], atol=0.02):
        return checks.feedback(
            False,
            name,
            f"the rotation is recovered but the translation is not (mean TRE {error:.1f} mm): "
            "translations in voxels instead of mm?",
            "Parametrise the translation in mm and build the matrix with the affine's mm "
            "coordinates, not indices.",
        )
    return checks.feedback(
        False,
        name,
        f"mean TRE {error:.1f} mm: the optimiser stopped far from the true motion.",
        "Check each step on its own: the matrix (Exercise 1), the index -> mm -> index "
        "mapping of the sample points (Exercise 2) and the sign of the cost.",
    )


def _similarity_at(fixed, moving, affine, transform) -> float:
    """NCC of ``fixed`` and ``moving`` sampled at ``transform`` (fixed mm -> moving mm)."""
    index = sample_grid(fixed.shape, 2)
    index = index[:, ndimage.binary_dilation(fixed > 0, iterations=2)[tuple(index)]].astype(float)
    mapping = np.linalg.inv(affine) @ transform @ affine
    values = ndimage.map_coordinates(moving, mapping[:3, :3] @ index + mapping[:3, 3:], order=1)
    return _ncc(ndimage.map_coordinates(fixed, index, order=1), values)


def _ncc(a, b) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt(np.sum(a * a) * np.sum(b * b))
    if denominator == 0:  # e.g. every sample outside the moving volume
        return 0.0
    return float(np.sum(a * b) / denominator)


def fallback_register_rigid(
    fixed, moving, affine, centre_mm, levels_mm=(8, 4, 2), similarity=_ncc, mask=None
):
    """The course's version of Exercise 5, used by the lesson until your ``register_rigid`` passes.

    Multi-resolution rigid registration with ``scipy.optimize.minimize`` (Powell),
    parametrised by three angles in degrees and a translation in mm about
    ``centre_mm``; returns the 4 x 4 transform mapping fixed mm to moving mm.
    The smoothing (sigma = level / 2 mm) and the sampling stride are set per axis
    from the voxel size, so anisotropic voxels are handled; the sample points lie
    in ``mask`` grown by ``MARGIN_MM`` (6 mm) per axis (default: the fixed image above its Otsu
    threshold, which separates a head from a noisy background).

    Example
    -------
    >>> fallback_register_rigid(t1, moved, affine, centre)   # doctest: +SKIP
    """
    from scipy import optimize
    from skimage.filters import threshold_otsu

    fixed = np.asarray(fixed, dtype=float)
    moving = np.asarray(moving, dtype=float)
    if fixed.shape != moving.shape or fixed.ndim != 3:
        raise ValueError(
            f"expected two 3-D volumes of one shape, got {fixed.shape} and {moving.shape}"
        )
    affine = np.asarray(affine, dtype=float)
    voxel_mm = np.linalg.norm(affine[:3, :3], axis=0)  # per axis
    to_index = np.linalg.inv(affine)
    if mask is None:
        mask = fixed > threshold_otsu(fixed)
    grown = grow_mask_mm(mask, MARGIN_MM, voxel_mm)
    parameters = np.zeros(6)
    for level in levels_mm:
        sigma = np.where(level > voxel_mm, 0.5 * level / voxel_mm, 0.0)  # 0: axis not smoothed
        fixed_level = ndimage.gaussian_filter(fixed, sigma)
        moving_level = ndimage.gaussian_filter(moving, sigma)
        step = np.maximum(2, np.rint(level / voxel_mm)).astype(int)
        index = sample_grid(fixed.shape, step)
        index = index[:, grown[tuple(index)]].astype(float)
        fixed_values = ndimage.map_coordinates(fixed_level, index, order=1)
        points = affine[:3, :3] @ index + affine[:3, 3:]

        def cost(p, points=points, fixed_values=fixed_values, moving_level=moving_level):
            transform = to_index @ _rigid(p[:3], p[3:], centre_mm)
            values = ndimage.map_coordinates(
                moving_level, transform[:3, :3] @ points + transform[:3, 3:], order=1
            )
            return -similarity(fixed_values, values)

        parameters = optimize.minimize(
            cost, parameters, method="Powell", options={"xtol": 1e-2, "ftol": 1e-6}
        ).x
    return _rigid(parameters[:3], parameters[3:], centre_mm)
