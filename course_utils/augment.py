"""Data augmentation for image + mask pairs, reproducible with a seeded generator.

Geometric transforms move pixels: they are applied with **one** set of
parameters (one matrix, one displacement field) to the image *and* its label
mask, the image with linear (or spline) interpolation and the mask with
nearest-neighbour sampling so that it keeps exactly its label values.
Intensity transforms change values only: they act on the image, leave the mask
alone and clip the result to a declared valid range (``value_range``).

Random choices always come from a :class:`numpy.random.Generator` that the
caller creates from a seed (``np.random.default_rng(seed)``); nothing here
touches numpy's or Python's global random state.

Arrays use the course's axis order: ``(row, col)`` for images and
``(plane, row, col)`` for volumes. ``np.rot90`` with ``k=1`` turns an image
a quarter turn counter-clockwise *as displayed* (row 0 at the top).

Three layers:

* plain functions (:func:`rot90_pair`, :func:`flip_pair`, :func:`affine_pair`,
  :func:`affine_pair_3d`, :func:`elastic_pair`, :func:`random_crop_keeping`,
  :func:`adjust_brightness`, :func:`adjust_contrast`, :func:`adjust_gamma`,
  :func:`add_gaussian_noise`, :func:`add_poisson_noise`, :func:`gaussian_blur`,
  :func:`bias_field`);
* transform objects that draw their parameters from a generator
  (:class:`Rot90`, :class:`Flip`, :class:`Affine`, :class:`AxialAffine3D`,
  :class:`Elastic`, :class:`CropKeeping`, :class:`Brightness`, :class:`Contrast`,
  :class:`Gamma`, :class:`GaussianNoise`, :class:`PoissonNoise`, :class:`Blur`,
  :class:`BiasField`);
* :class:`RandomApply` (apply with probability ``p``) and :class:`Compose`
  (a pipeline that records the parameters drawn for every sample and can
  replay them).

Example
-------
>>> import numpy as np
>>> image = np.arange(12.0).reshape(3, 4)
>>> mask = (image > 8).astype(np.uint8)
>>> pipeline = Compose([RandomApply(Flip(axis=1), p=0.5), Rot90()])
>>> out_image, out_mask, record = pipeline(image, mask, rng=np.random.default_rng(0))
>>> [step["transform"] for step in record]
['flip', 'rot90']
>>> bool(np.array_equal(out_mask, (out_image > 8).astype(np.uint8)))
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product

import numpy as np
from scipy import ndimage

__all__ = [
    "OPENCV_ROTATE_CODES",
    "opencv_code_to_k",
    "rot90_pair",
    "flip_pair",
    "affine_matrix",
    "affine_pair",
    "affine_matrix_3d",
    "affine_pair_3d",
    "elastic_pair",
    "crop_origin_keeping",
    "random_crop_keeping",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "add_gaussian_noise",
    "add_poisson_noise",
    "gaussian_blur",
    "bias_field",
    "balanced_indices",
    "balanced_weights",
    "Transform",
    "Rot90",
    "Flip",
    "Affine",
    "AxialAffine3D",
    "Elastic",
    "CropKeeping",
    "LesionWindow",
    "Brightness",
    "Contrast",
    "Gamma",
    "GaussianNoise",
    "PoissonNoise",
    "Blur",
    "BiasField",
    "RandomApply",
    "Compose",
]

#: OpenCV's ``cv2.rotate`` codes, the rotation each performs and the matching
#: ``np.rot90`` ``k`` (quarter turns counter-clockwise). There is **no** code for
#: "no rotation": ``0`` is ``cv2.ROTATE_90_CLOCKWISE``.
OPENCV_ROTATE_CODES = {
    0: ("cv2.ROTATE_90_CLOCKWISE", "90° clockwise", 3),
    1: ("cv2.ROTATE_180", "180°", 2),
    2: ("cv2.ROTATE_90_COUNTERCLOCKWISE", "90° counter-clockwise", 1),
}


# --------------------------------------------------------------------------- validation
def _as_image(image, *, name: str = "image", ndims: Sequence[int] | None = (2, 3)) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"{name} must hold numbers (integer or float dtype), got dtype {array.dtype}"
        )
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real-valued, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected a non-empty array")
    if ndims is not None and array.ndim not in ndims:
        wanted = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(
            f"{name} has {array.ndim} dimension(s) (shape {array.shape}); expected {wanted}"
        )
    if array.dtype.kind == "f":
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        if n_bad:
            raise ValueError(
                f"{name} contains {n_bad} NaN or infinite value(s); replace them "
                "(e.g. np.nan_to_num) before augmenting"
            )
    return array


def _as_pair(image, mask, *, ndims: Sequence[int] | None = (2, 3)):
    image = _as_image(image, ndims=ndims)
    if mask is None:
        return image, None
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biu":
        raise TypeError(
            f"mask must hold integer labels (bool or integer dtype), got dtype {mask.dtype}; "
            "a float mask suggests it was already interpolated; cast a clean one with "
            "mask.astype(np.uint8)"
        )
    if mask.shape != image.shape:
        raise ValueError(
            f"image shape {image.shape} and mask shape {mask.shape} differ; "
            "the mask must label every pixel of its image"
        )
    return image, mask


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator, e.g. np.random.default_rng(seed), "
            f"got {type(rng).__name__}; unseeded or global randomness makes augmentation "
            "irreproducible"
        )
    return rng


def _positive(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return value


def _non_negative(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value}")
    return value


def _finite(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _per_axis(value, ndim: int, name: str, *, positive: bool = False) -> np.ndarray:
    values = np.atleast_1d(np.asarray(value, dtype=float))
    if values.ndim != 1 or values.size not in (1, ndim):
        raise ValueError(
            f"{name} must be one number or {ndim} numbers (one per axis), got {value!r}"
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and (values <= 0).any():
        raise ValueError(f"{name} must be positive, got {value!r}")
    return np.broadcast_to(values, (ndim,)).copy()


def _check_order(order, name: str = "order_image") -> int:
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"{name} must be an integer spline order 0-5, got {order!r}")
    if not 0 <= int(order) <= 5:
        raise ValueError(f"{name} must be between 0 (nearest) and 5, got {order}")
    return int(order)


def _interval(value, name: str, *, low_limit: float | None = None, strict: bool = False):
    """``(lo, hi)`` from a pair (a single number means a fixed value)."""
    if np.isscalar(value) and not isinstance(value, (str, bytes)):
        pair = (value, value)
    else:
        pair = tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be a (low, high) pair or one number, got {value!r}")
    lo, hi = (_finite(v, name) for v in pair)
    if lo > hi:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    if low_limit is not None and (lo < low_limit or (strict and lo <= low_limit)):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {low_limit}, got {value!r}")
    return lo, hi


# --------------------------------------------------------------------------- 90-degree turns and flips
def opencv_code_to_k(code) -> int:
    """``np.rot90`` ``k`` (quarter turns counter-clockwise) equivalent to a ``cv2.rotate`` code.

    Parameters
    ----------
    code : int
        ``cv2.ROTATE_90_CLOCKWISE`` (0), ``cv2.ROTATE_180`` (1) or
        ``cv2.ROTATE_90_COUNTERCLOCKWISE`` (2).

    Returns
    -------
    int
        3, 2 or 1.

    Raises
    ------
    ValueError
        Any other code; OpenCV has no code meaning "no rotation".

    Example
    -------
    >>> opencv_code_to_k(0)   # 0 is a clockwise quarter turn, not the identity
    3
    """
    if isinstance(code, (bool, np.bool_)) or not isinstance(code, (int, np.integer)):
        raise TypeError(f"code must be an int cv2.ROTATE_* constant, got {code!r}")
    if int(code) not in OPENCV_ROTATE_CODES:
        raise ValueError(
            f"unknown cv2.rotate code {code}; valid codes are 0 (90° clockwise), 1 (180°) and "
            "2 (90° counter-clockwise); there is no code for 'no rotation'"
        )
    return OPENCV_ROTATE_CODES[int(code)][2]


def _check_axes(axes, ndim: int) -> tuple[int, int]:
    try:
        first, second = (int(a) for a in axes)
    except (TypeError, ValueError):
        raise ValueError(f"axes must be two axis numbers, got {axes!r}") from None
    if not (-ndim <= first < ndim and -ndim <= second < ndim) or first % ndim == second % ndim:
        raise ValueError(f"axes must be two different axes of a {ndim}-D array, got {axes!r}")
    return first % ndim, second % ndim


def rot90_pair(image, mask=None, k: int = 1, *, axes=(0, 1)):
    """Rotate an image and its mask by ``k`` quarter turns (exact, no interpolation).

    Parameters
    ----------
    image : ndarray
        2-D image ``(row, col)`` or 3-D volume ``(plane, row, col)``.
    mask : ndarray of int or bool, optional
        Labels of the same shape; ``None`` to transform the image alone.
    k : int
        Quarter turns counter-clockwise as displayed (``np.rot90`` convention);
        negative values turn clockwise, ``k % 4 == 0`` leaves the pair unchanged.
    axes : pair of int
        The plane of rotation; for volumes ``(1, 2)`` turns every axial slice.

    Returns
    -------
    image, mask : ndarray
        Contiguous copies (``mask`` is None if it was None). Non-square planes
        swap their side lengths for odd ``k``.

    Raises
    ------
    TypeError
        ``k`` not an integer, non-numeric image, non-integer mask.
    ValueError
        Shapes differ, wrong number of dimensions, NaN, invalid axes.

    Example
    -------
    >>> image = np.array([[1, 2], [3, 4]])
    >>> rot90_pair(image, None, 1)[0]
    array([[2, 4],
           [1, 3]])
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer number of quarter turns, got {k!r}")
    image, mask = _as_pair(image, mask, ndims=None)
    if image.ndim < 2:
        raise ValueError(f"image has shape {image.shape}; expected at least 2 dimensions")
    axes = _check_axes(axes, image.ndim)
    out_image = np.ascontiguousarray(np.rot90(image, int(k), axes=axes))
    out_mask = None if mask is None else np.ascontiguousarray(np.rot90(mask, int(k), axes=axes))
    return out_image, out_mask


def flip_pair(image, mask=None, *, axis=1):
    """Mirror an image and its mask along ``axis`` (exact, no interpolation).

    For a 2-D image ``axis=1`` mirrors left and right, ``axis=0`` top and
    bottom. Mirroring left-right swaps the patient's sides: harmless for a
    texture patch, label-changing when laterality matters (a left-breast view,
    a side marker, a heart that should be on the patient's left).

    Parameters
    ----------
    image : ndarray
    mask : ndarray of int or bool, optional
    axis : int or tuple of int

    Returns
    -------
    image, mask : ndarray
        Contiguous copies (``mask`` None if it was None).

    Raises
    ------
    ValueError
        Shapes differ, invalid axis, NaN.

    Example
    -------
    >>> flip_pair(np.array([[1, 2, 3]]), None, axis=1)[0]
    array([[3, 2, 1]])
    """
    image, mask = _as_pair(image, mask, ndims=None)
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    for single in axes:
        if isinstance(single, (bool, np.bool_)) or not isinstance(single, (int, np.integer)):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -image.ndim <= single < image.ndim:
            raise ValueError(f"axis {single} is out of range for an image of shape {image.shape}")
    out_image = np.ascontiguousarray(np.flip(image, axis=axes))
    out_mask = None if mask is None else np.ascontiguousarray(np.flip(mask, axis=axes))
    return out_image, out_mask


# --------------------------------------------------------------------------- affine
def affine_matrix(
    shape,
    *,
    angle_deg: float = 0.0,
    scale=1.0,
    translate_px=(0.0, 0.0),
    shear_deg: float = 0.0,
) -> np.ndarray:
    """3x3 forward affine matrix in ``(row, col, 1)`` pixel coordinates about the image centre.

    The matrix maps an input pixel position to its output position: scale,
    then shear, then rotate (all about the centre ``((rows-1)/2, (cols-1)/2)``),
    then translate.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)`` of the image.
    angle_deg : float
        Rotation counter-clockwise as displayed (``angle_deg=90`` on a square
        image equals ``np.rot90(image, 1)``).
    scale : float or (float, float)
        Zoom factor (> 1 enlarges), one number or ``(row, col)`` factors.
    translate_px : (float, float)
        Shift ``(down, right)`` in pixels.
    shear_deg : float
        Shear parallel to the columns: a point one row below the centre moves
        ``tan(shear_deg)`` pixels to the right.

    Returns
    -------
    ndarray, shape (3, 3)

    Raises
    ------
    ValueError
        Non-positive scale, shear of ±90° or more, non-finite values.

    Example
    -------
    >>> np.round(affine_matrix((3, 3), angle_deg=90) @ [1, 2, 1], 6)   # right of centre -> top
    array([0., 1., 1.])
    """
    if len(tuple(shape)) != 2:
        raise ValueError(f"shape must be (rows, cols) of a 2-D image, got {shape!r}")
    rows, cols = (int(s) for s in shape)
    angle = math.radians(_finite(angle_deg, "angle_deg"))
    shear = _finite(shear_deg, "shear_deg")
    if abs(shear) >= 90:
        raise ValueError(f"shear_deg must be between -90 and 90 (exclusive), got {shear}")
    scale_rc = _per_axis(scale, 2, "scale", positive=True)
    shift = _per_axis(translate_px, 2, "translate_px")
    centre = np.array([(rows - 1) / 2.0, (cols - 1) / 2.0])
    to_origin = np.eye(3)
    to_origin[:2, 2] = -centre
    zoom = np.diag([scale_rc[0], scale_rc[1], 1.0])
    shear_matrix = np.eye(3)
    shear_matrix[1, 0] = math.tan(math.radians(shear))
    cos_a, sin_a = _cos_sin(angle)
    rotation = np.array([[cos_a, -sin_a, 0.0], [sin_a, cos_a, 0.0], [0.0, 0.0, 1.0]])
    back = np.eye(3)
    back[:2, 2] = centre + shift
    return back @ rotation @ shear_matrix @ zoom @ to_origin


def _clip_to_input_range(result: np.ndarray, image: np.ndarray, order: int) -> np.ndarray:
    if order > 1:  # spline interpolation overshoots near edges
        np.clip(result, image.min(), image.max(), out=result)
    return result


def _cast_like(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.dtype.kind in "iu":
        info = np.iinfo(like.dtype)
        return np.clip(np.rint(result), info.min, info.max).astype(like.dtype)
    return result.astype(like.dtype, copy=False)


def _warp(image, mask, forward, *, order_image, fill_image, output_shape=None):
    """Resample ``image`` (order ``order_image``) and ``mask`` (nearest) with one forward matrix."""
    ndim = image.ndim
    inverse = np.linalg.inv(forward)
    matrix, offset = inverse[:ndim, :ndim], inverse[:ndim, ndim]
    output_shape = image.shape if output_shape is None else tuple(output_shape)
    fill = float(image.min()) if fill_image is None else _finite(fill_image, "fill_image")
    warped = ndimage.affine_transform(
        image.astype(np.float64),
        matrix,
        offset=offset,
        output_shape=output_shape,
        order=order_image,
        mode="constant",
        cval=fill,
        prefilter=order_image > 1,
    )
    warped = _cast_like(_clip_to_input_range(warped, image, order_image), image)
    if mask is None:
        return warped, None
    source = mask.astype(np.uint8) if mask.dtype == bool else mask
    warped_mask = ndimage.affine_transform(
        source, matrix, offset=offset, output_shape=output_shape, order=0, mode="constant", cval=0
    )
    return warped, warped_mask.astype(mask.dtype, copy=False)


def affine_pair(
    image,
    mask=None,
    *,
    angle_deg: float = 0.0,
    scale=1.0,
    translate_px=(0.0, 0.0),
    shear_deg: float = 0.0,
    order_image: int = 1,
    fill_image: float | None = None,
):
    """Rotate, scale, shear and shift a 2-D image and its mask with one matrix.

    The image is resampled with spline order ``order_image`` (1 = bilinear),
    the mask always with order 0 (nearest neighbour), so every output mask
    value is one of the input labels (or 0 where the output falls outside the
    input).

    Parameters
    ----------
    image : ndarray, 2-D
    mask : ndarray of int or bool, 2-D, optional
    angle_deg, scale, translate_px, shear_deg
        See :func:`affine_matrix`.
    order_image : int
        Spline order for the image (0-5). Orders above 1 can overshoot; the
        result is clipped to the input's value range.
    fill_image : float, optional
        Value outside the input (default: the image minimum, i.e. background).

    Returns
    -------
    image, mask : ndarray
        Same shapes and dtypes as the inputs.

    Raises
    ------
    ValueError
        Shapes differ, not 2-D, NaN, invalid parameters.
    TypeError
        Non-integer mask (interpolated masks are floats).

    Example
    -------
    >>> image = np.zeros((5, 5)); image[2, 4] = 1.0
    >>> mask = (image > 0).astype(np.uint8)
    >>> out_image, out_mask = affine_pair(image, mask, angle_deg=90)
    >>> np.argwhere(out_mask).tolist(), float(out_image[0, 2])
    ([[0, 2]], 1.0)
    """
    image, mask = _as_pair(image, mask, ndims=(2,))
    order_image = _check_order(order_image)
    forward = affine_matrix(
        image.shape,
        angle_deg=angle_deg,
        scale=scale,
        translate_px=translate_px,
        shear_deg=shear_deg,
    )
    return _warp(image, mask, forward, order_image=order_image, fill_image=fill_image)


def _cos_sin(angle_rad: float) -> tuple[float, float]:
    """cos and sin with exact zeros/ones at multiples of 90° (so quarter turns stay exact)."""
    cos_a, sin_a = math.cos(angle_rad), math.sin(angle_rad)
    return round(cos_a, 15) + 0.0, round(sin_a, 15) + 0.0


def _rotation_3d(angles_rad) -> np.ndarray:
    """Rotation in (plane, row, col) space: in-plane (1,2), then (0,2), then (0,1)."""
    result = np.eye(3)
    for (a, b), angle in zip(((1, 2), (0, 2), (0, 1)), angles_rad, strict=True):
        plane = np.eye(3)
        cos_a, sin_a = _cos_sin(angle)
        plane[a, a], plane[a, b], plane[b, a], plane[b, b] = cos_a, -sin_a, sin_a, cos_a
        result = plane @ result
    return result


def affine_matrix_3d(
    shape,
    spacing_mm,
    *,
    angles_deg=(0.0, 0.0, 0.0),
    scale=1.0,
    translate_mm=(0.0, 0.0, 0.0),
) -> np.ndarray:
    """4x4 forward matrix in voxel coordinates for a rotation/scale/shift defined in millimetres.

    The transform is built in physical space (``mm = spacing * index``) about
    the volume centre, then converted to voxel indices:
    ``M_voxel = S⁻¹ · M_mm · S`` with ``S = diag(spacing_mm)``. This is what
    keeps anatomy round when voxels are anisotropic (e.g. 0.9 x 0.9 x 5 mm):
    rotating the *index* grid instead would shear and squash it.

    Parameters
    ----------
    shape : tuple of 3 int
        ``(planes, rows, cols)``.
    spacing_mm : 3 floats
        Voxel size along each axis, in mm.
    angles_deg : 3 floats
        Rotations in the ``(row, col)`` plane (in-plane, e.g. axial), the
        ``(plane, col)`` plane and the ``(plane, row)`` plane, in that order.
        Out-of-plane angles interpolate *across* thick slices; keep them small
        or zero for thick-slice data.
    scale : float or 3 floats
    translate_mm : 3 floats
        Shift along (plane, row, col) in mm.

    Returns
    -------
    ndarray, shape (4, 4)

    Example
    -------
    >>> m = affine_matrix_3d((3, 5, 5), (2.0, 1.0, 1.0), angles_deg=(90, 0, 0))
    >>> np.round(m @ [1, 2, 4, 1], 6)   # right of centre -> top, same plane
    array([1., 0., 2., 1.])
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"shape must have 3 entries (planes, rows, cols), got {shape}")
    spacing = _per_axis(spacing_mm, 3, "spacing_mm", positive=True)
    angles = np.radians(_per_axis(angles_deg, 3, "angles_deg"))
    zoom = _per_axis(scale, 3, "scale", positive=True)
    shift = _per_axis(translate_mm, 3, "translate_mm")
    centre_mm = (np.array(shape) - 1) / 2.0 * spacing
    linear_mm = _rotation_3d(angles) @ np.diag(zoom)
    forward_mm = np.eye(4)
    forward_mm[:3, :3] = linear_mm
    forward_mm[:3, 3] = centre_mm + shift - linear_mm @ centre_mm
    to_mm = np.diag([*spacing, 1.0])
    return np.linalg.inv(to_mm) @ forward_mm @ to_mm


def affine_pair_3d(
    volume,
    mask=None,
    *,
    spacing_mm,
    angles_deg=(0.0, 0.0, 0.0),
    scale=1.0,
    translate_mm=(0.0, 0.0, 0.0),
    order_image: int = 1,
    fill_image: float | None = None,
):
    """Rotate/scale/shift a volume and its label mask with one spacing-aware matrix.

    Parameters
    ----------
    volume : ndarray, 3-D ``(plane, row, col)``
    mask : ndarray of int or bool, optional
    spacing_mm, angles_deg, scale, translate_mm
        See :func:`affine_matrix_3d`. For thick slices rotate in-plane only:
        ``angles_deg=(angle, 0, 0)``.
    order_image : int
        Spline order for the volume; the mask always uses nearest neighbour.
    fill_image : float, optional
        Value outside the input (default: the volume minimum).

    Returns
    -------
    volume, mask : ndarray
        Same shapes and dtypes as the inputs.

    Raises
    ------
    ValueError
        Shapes differ, not 3-D, NaN, invalid spacing.

    Example
    -------
    >>> volume = np.zeros((3, 5, 5)); volume[1, 2, 4] = 1.0
    >>> labels = (volume > 0).astype(np.uint8)
    >>> _, out = affine_pair_3d(volume, labels, spacing_mm=(5.0, 1.0, 1.0), angles_deg=(90, 0, 0))
    >>> np.argwhere(out).tolist()
    [[1, 0, 2]]
    """
    volume, mask = _as_pair(volume, mask, ndims=(3,))
    order_image = _check_order(order_image)
    forward = affine_matrix_3d(
        volume.shape, spacing_mm, angles_deg=angles_deg, scale=scale, translate_mm=translate_mm
    )
    return _warp(volume, mask, forward, order_image=order_image, fill_image=fill_image)


# --------------------------------------------------------------------------- elastic
def elastic_pair(
    image,
    mask=None,
    *,
    alpha: float,
    sigma: float,
    rng: np.random.Generator,
    spacing=None,
    order_image: int = 1,
    fill_image: float | None = None,
    axes=None,
):
    """Elastic deformation of an image and its mask by one smooth random displacement field.

    Each axis gets a field of uniform random numbers smoothed by a Gaussian of
    width ``sigma``; the fields are scaled so that the largest displacement is
    ``alpha``. Small ``sigma`` gives crumpled, unrealistic tissue; a
    ``sigma`` of several times ``alpha`` gives gentle, plausible warps.

    Parameters
    ----------
    image : ndarray, 2-D or 3-D
    mask : ndarray of int or bool, optional
    alpha : float
        Largest displacement (pixels, or mm when ``spacing`` is given); >= 0.
    sigma : float
        Smoothness of the field (pixels, or mm when ``spacing`` is given); > 0.
    rng : numpy.random.Generator
    spacing : float or sequence, optional
        Pixel/voxel size per axis (mm) for anisotropic volumes.
    order_image : int
        Spline order for the image; the mask uses nearest neighbour.
    fill_image : float, optional
        Value outside the input (default: the image minimum).
    axes : sequence of int, optional
        Axes along which pixels may move (default: all). ``axes=(1, 2)`` keeps
        every voxel of a thick-slice volume in its slice (no push across
        planes). The same random numbers are drawn either way.

    Returns
    -------
    image, mask : ndarray

    Raises
    ------
    TypeError
        ``rng`` is not a Generator.
    ValueError
        Shapes differ, NaN, negative ``alpha``, non-positive ``sigma``, an axis
        out of range.

    Example
    -------
    >>> image = np.arange(64.0).reshape(8, 8)
    >>> out, _ = elastic_pair(image, None, alpha=2, sigma=4, rng=np.random.default_rng(0))
    >>> out.shape
    (8, 8)
    """
    image, mask = _as_pair(image, mask)
    _check_rng(rng)
    alpha = _non_negative(alpha, "alpha")
    sigma = _positive(sigma, "sigma")
    order_image = _check_order(order_image)
    spacing_arr = _per_axis(
        1.0 if spacing is None else spacing, image.ndim, "spacing", positive=True
    )
    fields = [
        ndimage.gaussian_filter(
            rng.uniform(-1.0, 1.0, image.shape), sigma / spacing_arr, mode="reflect"
        )
        for _ in range(image.ndim)
    ]
    if axes is not None:
        moving = {int(a) for a in np.atleast_1d(axes)}
        if not moving or not moving <= set(range(image.ndim)):
            raise ValueError(f"axes must be axes of a {image.ndim}-D image, got {axes!r}")
        fields = [f if a in moving else np.zeros_like(f) for a, f in enumerate(fields)]
    largest = max(float(np.abs(np.stack(fields)).max()), np.finfo(float).tiny)
    grid = np.meshgrid(*(np.arange(n, dtype=float) for n in image.shape), indexing="ij")
    coordinates = np.stack(
        [
            grid[axis] + fields[axis] * (alpha / largest) / spacing_arr[axis]
            for axis in range(image.ndim)
        ]
    )
    fill = float(image.min()) if fill_image is None else _finite(fill_image, "fill_image")
    warped = ndimage.map_coordinates(
        image.astype(np.float64), coordinates, order=order_image, mode="constant", cval=fill
    )
    warped = _cast_like(_clip_to_input_range(warped, image, order_image), image)
    if mask is None:
        return warped, None
    source = mask.astype(np.uint8) if mask.dtype == bool else mask
    warped_mask = ndimage.map_coordinates(source, coordinates, order=0, mode="constant", cval=0)
    return warped, warped_mask.astype(mask.dtype, copy=False)


# --------------------------------------------------------------------------- crops
def crop_origin_keeping(mask, size, rng: np.random.Generator) -> tuple[int, ...]:
    """Random corner of a crop of ``size`` that contains every non-zero pixel of ``mask``.

    Parameters
    ----------
    mask : ndarray of int or bool
        Lesion labels (non-zero = lesion). An empty mask allows any crop.
    size : int or tuple of int
        Crop size per axis (one number = same for every axis).
    rng : numpy.random.Generator

    Returns
    -------
    tuple of int
        Index of the crop's first pixel along each axis.

    Raises
    ------
    ValueError
        The crop is larger than the image, or the lesion's bounding box is
        larger than the crop (it cannot be kept whole).

    Example
    -------
    >>> mask = np.zeros((10, 10), dtype=np.uint8); mask[4:6, 4:6] = 1
    >>> row0, col0 = crop_origin_keeping(mask, 4, np.random.default_rng(0))
    >>> bool(mask[row0:row0 + 4, col0:col0 + 4].sum() == mask.sum())
    True
    """
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biu":
        raise TypeError(
            f"mask must hold integer labels (bool or integer dtype), got dtype {mask.dtype}"
        )
    if mask.size == 0:
        raise ValueError(f"mask is empty (shape {mask.shape})")
    _check_rng(rng)
    size_array = np.asarray(size)
    if size_array.ndim > 1 or size_array.size not in (1, mask.ndim):
        raise ValueError(
            f"size must be one number or one per axis of the {mask.ndim}-D mask "
            f"(shape {mask.shape}), got {size!r}"
        )
    sizes = np.broadcast_to(size_array, (mask.ndim,))
    if sizes.dtype.kind not in "iu" or (sizes <= 0).any():
        raise ValueError(f"size must be positive integer(s), got {size!r}")
    sizes = tuple(int(s) for s in sizes)
    if any(s > n for s, n in zip(sizes, mask.shape, strict=True)):
        raise ValueError(f"crop size {sizes} is larger than the image {mask.shape}")
    lesion = np.argwhere(mask != 0)
    origin = []
    for axis, (crop, length) in enumerate(zip(sizes, mask.shape, strict=True)):
        low, high = 0, length - crop
        if lesion.size:
            first, last = int(lesion[:, axis].min()), int(lesion[:, axis].max())
            if last - first + 1 > crop:
                raise ValueError(
                    f"the lesion spans {last - first + 1} pixels along axis {axis} but the crop is "
                    f"only {crop}; it cannot be kept whole (use a larger crop or resize first)"
                )
            low, high = max(low, last - crop + 1), min(high, first)
        origin.append(int(rng.integers(low, high + 1)))
    return tuple(origin)


def random_crop_keeping(image, mask, size, rng: np.random.Generator):
    """Random crop of ``size`` from an image and its mask that keeps the whole lesion.

    Parameters
    ----------
    image : ndarray
    mask : ndarray of int or bool
        Same shape as ``image``; non-zero pixels are the lesion.
    size : int or tuple of int
    rng : numpy.random.Generator

    Returns
    -------
    image, mask : ndarray
        Copies of the cropped windows.

    Raises
    ------
    ValueError
        Shapes differ, crop larger than the image or smaller than the lesion.

    Example
    -------
    >>> image = np.arange(100).reshape(10, 10); mask = (image == 55).astype(np.uint8)
    >>> crop, crop_mask = random_crop_keeping(image, mask, (3, 3), np.random.default_rng(0))
    >>> int(crop[crop_mask == 1][0])
    55
    """
    image, mask = _as_pair(image, mask, ndims=None)
    if mask is None:
        raise ValueError("random_crop_keeping needs a mask (the lesion to keep); got None")
    origin = crop_origin_keeping(mask, size, rng)
    sizes = np.broadcast_to(np.asarray(size), (mask.ndim,))
    window = tuple(slice(o, o + int(s)) for o, s in zip(origin, sizes, strict=True))
    return image[window].copy(), mask[window].copy()


# --------------------------------------------------------------------------- intensity
def _value_range(image: np.ndarray, value_range) -> tuple[float, float]:
    if value_range is None:
        if image.dtype.kind in "iu":
            info = np.iinfo(image.dtype)
            return float(info.min), float(info.max)
        raise ValueError(
            "value_range is required for float images: declare the valid intensities, e.g. "
            "(0.0, 1.0) for a normalised image or (-1024, 3071) for CT in HU"
        )
    lo, hi = _interval(value_range, "value_range")
    if lo >= hi:
        raise ValueError(f"value_range must have low < high, got {value_range!r}")
    return lo, hi


def _finish(result: np.ndarray, image: np.ndarray, lo: float, hi: float) -> np.ndarray:
    np.clip(result, lo, hi, out=result)
    return _cast_like(result, image)


def adjust_brightness(image, delta: float, *, value_range=None) -> np.ndarray:
    """Add ``delta`` to every pixel and clip to the valid range.

    Parameters
    ----------
    image : ndarray
    delta : float
        Offset in the image's intensity unit.
    value_range : (float, float), optional
        Valid intensities; required for float images, default the dtype's
        limits for integer images (computed in float, so uint8 never wraps).

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``.

    Raises
    ------
    ValueError
        NaN in the image, missing ``value_range`` for a float image.

    Example
    -------
    >>> adjust_brightness(np.array([250], dtype=np.uint8), 10)   # not 4: no wrap-around
    array([255], dtype=uint8)
    """
    image = _as_image(image, ndims=None)
    lo, hi = _value_range(image, value_range)
    return _finish(image.astype(np.float64) + _finite(delta, "delta"), image, lo, hi)


def adjust_contrast(
    image, factor: float, *, value_range=None, centre: float | None = None
) -> np.ndarray:
    """Stretch (``factor > 1``) or compress intensities about ``centre`` and clip.

    Parameters
    ----------
    image : ndarray
    factor : float
        Contrast factor, >= 0.
    value_range : (float, float), optional
        See :func:`adjust_brightness`.
    centre : float, optional
        Fixed point of the stretch (default: the image mean).

    Returns
    -------
    ndarray

    Example
    -------
    >>> adjust_contrast(np.array([0.4, 0.6]), 2.0, value_range=(0, 1))
    array([0.3, 0.7])
    """
    image = _as_image(image, ndims=None)
    lo, hi = _value_range(image, value_range)
    factor = _non_negative(factor, "factor")
    values = image.astype(np.float64)
    middle = float(values.mean()) if centre is None else _finite(centre, "centre")
    return _finish((values - middle) * factor + middle, image, lo, hi)


def adjust_gamma(image, gamma: float, *, value_range=None) -> np.ndarray:
    """Gamma curve on the valid range: ``lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma``.

    ``gamma < 1`` brightens dark regions, ``gamma > 1`` darkens them; the ends
    of the range stay fixed.

    Parameters
    ----------
    image : ndarray
    gamma : float
        > 0.
    value_range : (float, float), optional
        See :func:`adjust_brightness`; values outside are clipped first.

    Returns
    -------
    ndarray

    Example
    -------
    >>> adjust_gamma(np.array([0.0, 0.25, 1.0]), 0.5, value_range=(0, 1))
    array([0. , 0.5, 1. ])
    """
    image = _as_image(image, ndims=None)
    lo, hi = _value_range(image, value_range)
    gamma = _positive(gamma, "gamma")
    unit = np.clip((image.astype(np.float64) - lo) / (hi - lo), 0.0, 1.0)
    return _finish(lo + (hi - lo) * unit**gamma, image, lo, hi)


def add_gaussian_noise(
    image, sigma: float, *, rng: np.random.Generator, value_range=None
) -> np.ndarray:
    """Add zero-mean Gaussian noise of standard deviation ``sigma`` and clip.

    The noise itself comes from :func:`course_utils.noise.add_gaussian_noise`
    (lesson 07's noise models); this wrapper adds the augmentation contract:
    an explicit generator, a declared range and the input's dtype kept.

    Parameters
    ----------
    image : ndarray
    sigma : float
        Noise standard deviation in intensity units, >= 0.
    rng : numpy.random.Generator
    value_range : (float, float), optional
        See :func:`adjust_brightness`.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``.

    Example
    -------
    >>> noisy = add_gaussian_noise(np.full((50, 50), 0.5), 0.1, rng=np.random.default_rng(0),
    ...                            value_range=(0, 1))
    >>> round(float(noisy.std()), 1)
    0.1
    """
    from course_utils import noise

    image = _as_image(image, ndims=None)
    _check_rng(rng)
    lo, hi = _value_range(image, value_range)
    sigma = _non_negative(sigma, "sigma")
    inside = np.clip(image.astype(np.float64), lo, hi)
    noisy = noise.add_gaussian_noise(inside, sigma, rng=rng, value_range=(lo, hi))
    return _finish(noisy, image, lo, hi)


def add_poisson_noise(
    image, photons_per_unit: float, *, rng: np.random.Generator, value_range=None
) -> np.ndarray:
    """Photon (Poisson) noise: intensity x ``photons_per_unit`` is the expected photon count.

    Each pixel's count is drawn from a Poisson distribution and converted
    back to intensity, so the noise grows with the signal (standard deviation
    ``sqrt(value / photons_per_unit)``), unlike additive Gaussian noise. Fewer
    photons (a lower dose) mean more noise. Uses
    :func:`course_utils.noise.add_poisson_noise`; the range must start at >= 0.

    Parameters
    ----------
    image : ndarray
    photons_per_unit : float
        Expected photons for an intensity of 1 (> 0), e.g. 200 (noisy) to 20000.
    rng : numpy.random.Generator
    value_range : (float, float), optional
        See :func:`adjust_brightness`; its low end must be >= 0.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``.

    Example
    -------
    >>> noisy = add_poisson_noise(np.full((100, 100), 0.5), 200, rng=np.random.default_rng(0),
    ...                           value_range=(0, 1))
    >>> round(float(noisy.std()), 2)   # sqrt(0.5 / 200)
    0.05
    """
    from course_utils import noise

    image = _as_image(image, ndims=None)
    _check_rng(rng)
    lo, hi = _value_range(image, value_range)
    photons = _positive(photons_per_unit, "photons_per_unit")
    inside = np.clip(image.astype(np.float64), lo, hi)
    noisy = noise.add_poisson_noise(inside, photons, rng=rng, value_range=(lo, hi))
    return _finish(noisy, image, lo, hi)


def gaussian_blur(image, sigma, *, value_range=None) -> np.ndarray:
    """Gaussian smoothing (e.g. to mimic a softer reconstruction kernel or defocus).

    Parameters
    ----------
    image : ndarray
    sigma : float or sequence of float
        Standard deviation in pixels, one value or one per axis (use
        ``sigma_mm / spacing_mm`` for anisotropic volumes).
    value_range : (float, float), optional

    Returns
    -------
    ndarray

    Example
    -------
    >>> gaussian_blur(np.array([0.0, 0.0, 1.0, 0.0, 0.0]), 1.0, value_range=(0, 1)).round(2)
    array([0.05, 0.24, 0.4 , 0.24, 0.05])
    """
    image = _as_image(image, ndims=None)
    lo, hi = _value_range(image, value_range)
    sigmas = _per_axis(sigma, image.ndim, "sigma")
    if (sigmas < 0).any():
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    blurred = ndimage.gaussian_filter(image.astype(np.float64), sigmas, mode="nearest")
    return _finish(blurred, image, lo, hi)


def bias_field(
    image,
    max_gain: float,
    *,
    rng: np.random.Generator,
    spacing=None,
    degree: int = 2,
    value_range=None,
    return_field: bool = False,
):
    """Multiply an MR image by a smooth random bias (intensity non-uniformity) field.

    The log of the field is a random polynomial of the physical coordinates
    (``degree`` 2 or 3 mimics the slow shading of receive coils), scaled so
    that the gain stays within ``[1 / max_gain, max_gain]``.

    Parameters
    ----------
    image : ndarray, 2-D or 3-D
    max_gain : float
        Largest multiplicative change, >= 1 (1 = no field; 1.3 = a gain between
        1/1.3 and 1.3, i.e. -23 % to +30 %).
    rng : numpy.random.Generator
    spacing : float or sequence, optional
        Pixel/voxel size per axis in mm, so the field is smooth in millimetres,
        not in voxel indices.
    degree : int
        Polynomial degree, 1-4.
    value_range : (float, float), optional
    return_field : bool
        Also return the multiplicative field.

    Returns
    -------
    ndarray, or (ndarray, ndarray) with ``return_field``

    Example
    -------
    >>> shaded = bias_field(np.full((32, 32), 100.0), 1.2, rng=np.random.default_rng(0),
    ...                     value_range=(0, 4095))
    >>> bool(100 / 1.2 - 1e-9 <= shaded.min() and shaded.max() <= 120 + 1e-9)
    True
    """
    image = _as_image(image)
    _check_rng(rng)
    lo, hi = _value_range(image, value_range)
    max_gain = _finite(max_gain, "max_gain")
    if max_gain < 1:
        raise ValueError(f"max_gain must be >= 1 (1 means no bias), got {max_gain}")
    if isinstance(degree, (bool, np.bool_)) or not isinstance(degree, (int, np.integer)):
        raise TypeError(f"degree must be an integer, got {degree!r}")
    if not 1 <= degree <= 4:
        raise ValueError(f"degree must be between 1 and 4, got {degree}")
    spacing_arr = _per_axis(
        1.0 if spacing is None else spacing, image.ndim, "spacing", positive=True
    )
    extent_mm = (np.array(image.shape) - 1) * spacing_arr / 2.0
    half = max(float(extent_mm.max()), 1e-12)
    axes_mm = [
        (np.arange(n) - (n - 1) / 2.0) * s / half
        for n, s in zip(image.shape, spacing_arr, strict=True)
    ]
    grids = np.meshgrid(*axes_mm, indexing="ij")
    log_field = np.zeros(image.shape)
    for powers in product(range(degree + 1), repeat=image.ndim):
        if 0 < sum(powers) <= degree:
            term = np.ones(image.shape)
            for grid, power in zip(grids, powers, strict=True):
                term = term * grid**power
            log_field += rng.uniform(-1.0, 1.0) * term
    log_field -= log_field.mean()
    largest = float(np.abs(log_field).max())
    if largest > 0:
        log_field *= math.log(max_gain) / largest
    field = np.exp(log_field)
    result = _finish(image.astype(np.float64) * field, image, lo, hi)
    return (result, field) if return_field else result


# --------------------------------------------------------------------------- class balance
def balanced_indices(labels, rng: np.random.Generator) -> np.ndarray:
    """Row positions that oversample every minority class up to the size of the largest class.

    Every row appears once; then, for each smaller class, rows of that class
    are drawn at random (with replacement) until all classes are equally
    frequent. Augment *every* row of the result on the fly (not only the
    repeats, or the augmentation itself becomes a class cue); drawing with
    :func:`balanced_weights` does the same without a fixed table. Use it on
    the **training** split only.

    Parameters
    ----------
    labels : sequence
        One class label per row (strings or numbers).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int64
        ``arange(len(labels))`` followed by the extra draws, class by class
        (classes in sorted order).

    Raises
    ------
    ValueError
        ``labels`` empty or not 1-D, or containing missing values.
    TypeError
        ``rng`` is not a Generator.

    Example
    -------
    >>> indices = balanced_indices(["CE", "CE", "CE", "LAA"], np.random.default_rng(0))
    >>> indices.tolist()
    [0, 1, 2, 3, 3, 3]
    """
    _check_rng(rng)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence, got shape {labels.shape}")
    if labels.dtype == object:
        import pandas as pd

        if pd.isna(labels).any():
            raise ValueError(f"labels contain {int(pd.isna(labels).sum())} missing value(s)")
    elif labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(f"labels contain {int(np.isnan(labels).sum())} missing value(s)")
    values, counts = np.unique(labels, return_counts=True)
    extra = [
        rng.choice(np.flatnonzero(labels == value), counts.max() - count)
        for value, count in zip(values, counts, strict=True)
    ]
    return np.concatenate([np.arange(labels.size)] + extra).astype(np.int64)


def balanced_weights(labels) -> np.ndarray:
    """Per-row sampling probabilities that give every class the same total weight.

    Row ``i`` of a class with ``n`` rows gets ``1 / n``, normalised to sum 1, so
    ``rng.choice(len(labels), size, p=balanced_weights(labels))`` draws each
    class equally often on average (a weighted sampler). Use it on the
    **training** split only, and augment every drawn row.

    Parameters
    ----------
    labels : sequence
        One class label per row.

    Returns
    -------
    ndarray of float64, shape ``(len(labels),)``

    Raises
    ------
    ValueError
        ``labels`` empty or not 1-D.

    Example
    -------
    >>> balanced_weights(["CE", "CE", "CE", "LAA"]).round(3).tolist()
    [0.167, 0.167, 0.167, 0.5]
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence, got shape {labels.shape}")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse.reshape(-1)]
    return weights / weights.sum()


# --------------------------------------------------------------------------- transform objects
class Transform:
    """Base class: a transform draws its parameters, then applies them.

    Subclasses implement :meth:`sample` (returns a dict of plain Python values,
    all that is needed to redo the transform) and :meth:`apply`. Calling the
    transform does both and returns ``(image, mask, params)``.
    """

    name = "transform"

    def sample(self, rng: np.random.Generator, image: np.ndarray, mask) -> dict:
        """Draw this transform's parameters (default: none)."""
        return {}

    def apply(self, image: np.ndarray, mask, params: dict):
        """Apply the transform with the given parameters; returns ``(image, mask)``."""
        raise NotImplementedError

    def __call__(self, image, mask=None, *, rng: np.random.Generator):
        _check_rng(rng)
        params = self.sample(rng, np.asarray(image), mask)
        out_image, out_mask = self.apply(image, mask, params)
        return out_image, out_mask, params

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({settings})"


def _uniform(rng: np.random.Generator, interval) -> float:
    lo, hi = interval
    return float(lo) if lo == hi else float(rng.uniform(lo, hi))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**32))


class Rot90(Transform):
    """Random quarter turn: ``k`` drawn uniformly from {0, 1, 2, 3} (0 = unchanged).

    Example
    -------
    >>> _, _, params = Rot90()(np.eye(3), None, rng=np.random.default_rng(1))
    >>> sorted(params)
    ['k']
    """

    name = "rot90"

    def __init__(self, axes=(0, 1)):
        self.axes = tuple(axes)

    def sample(self, rng, image, mask):
        return {"k": int(rng.integers(0, 4))}

    def apply(self, image, mask, params):
        return rot90_pair(image, mask, params["k"], axes=self.axes)


class Flip(Transform):
    """Mirror along ``axis`` (wrap in :class:`RandomApply` to flip at random).

    Example
    -------
    >>> Flip(axis=1)(np.array([[1, 2]]), None, rng=np.random.default_rng(0))[0]
    array([[2, 1]])
    """

    name = "flip"

    def __init__(self, axis=1):
        self.axis = axis

    def apply(self, image, mask, params):
        return flip_pair(image, mask, axis=self.axis)


class Affine(Transform):
    """Random 2-D affine: each parameter drawn uniformly from its ``(low, high)`` range.

    Example
    -------
    >>> t = Affine(angle_deg=(-10, 10), scale=(0.9, 1.1))
    >>> sorted(t.sample(np.random.default_rng(0), np.zeros((4, 4)), None))
    ['angle_deg', 'scale', 'shear_deg', 'translate_px']
    """

    name = "affine"

    def __init__(
        self,
        angle_deg=(-15.0, 15.0),
        scale=(0.9, 1.1),
        translate_px=(-10.0, 10.0),
        shear_deg=(0.0, 0.0),
        order_image: int = 1,
    ):
        self.angle_deg = _interval(angle_deg, "angle_deg")
        self.scale = _interval(scale, "scale", low_limit=0.0, strict=True)
        self.translate_px = _interval(translate_px, "translate_px")
        self.shear_deg = _interval(shear_deg, "shear_deg")
        if max(abs(v) for v in self.shear_deg) >= 90:
            raise ValueError(f"shear_deg must stay within (-90, 90), got {shear_deg!r}")
        self.order_image = _check_order(order_image)

    def sample(self, rng, image, mask):
        return {
            "angle_deg": _uniform(rng, self.angle_deg),
            "scale": _uniform(rng, self.scale),
            "translate_px": (_uniform(rng, self.translate_px), _uniform(rng, self.translate_px)),
            "shear_deg": _uniform(rng, self.shear_deg),
        }

    def apply(self, image, mask, params):
        return affine_pair(image, mask, **params, order_image=self.order_image)


class AxialAffine3D(Transform):
    """Random in-plane rotation/scale/shift of a volume, computed in mm (spacing-aware).

    Only the in-plane angle is random, so thick slices are never mixed.

    Example
    -------
    >>> t = AxialAffine3D(spacing_mm=(5.0, 1.0, 1.0), angle_deg=(-10, 10))
    >>> sorted(t.sample(np.random.default_rng(0), np.zeros((2, 4, 4)), None))
    ['angle_deg', 'scale', 'translate_mm']
    """

    name = "axial_affine_3d"

    def __init__(
        self,
        spacing_mm,
        angle_deg=(-15.0, 15.0),
        scale=(0.9, 1.1),
        translate_mm=(-5.0, 5.0),
        order_image: int = 1,
    ):
        self.spacing_mm = tuple(
            float(v) for v in _per_axis(spacing_mm, 3, "spacing_mm", positive=True)
        )
        self.angle_deg = _interval(angle_deg, "angle_deg")
        self.scale = _interval(scale, "scale", low_limit=0.0, strict=True)
        self.translate_mm = _interval(translate_mm, "translate_mm")
        self.order_image = _check_order(order_image)

    def sample(self, rng, image, mask):
        return {
            "angle_deg": _uniform(rng, self.angle_deg),
            "scale": _uniform(rng, self.scale),
            "translate_mm": (_uniform(rng, self.translate_mm), _uniform(rng, self.translate_mm)),
        }

    def apply(self, image, mask, params):
        return affine_pair_3d(
            image,
            mask,
            spacing_mm=self.spacing_mm,
            angles_deg=(params["angle_deg"], 0.0, 0.0),
            scale=(1.0, params["scale"], params["scale"]),
            translate_mm=(0.0, *params["translate_mm"]),
            order_image=self.order_image,
        )


class Elastic(Transform):
    """Random elastic deformation (see :func:`elastic_pair`); records the field's seed.

    Example
    -------
    >>> sorted(Elastic(alpha=5, sigma=10).sample(np.random.default_rng(0), np.zeros((4, 4)), None))
    ['seed']
    """

    name = "elastic"

    def __init__(self, alpha: float, sigma: float, spacing=None, order_image: int = 1, axes=None):
        self.alpha = _non_negative(alpha, "alpha")
        self.sigma = _positive(sigma, "sigma")
        self.spacing = spacing
        self.order_image = _check_order(order_image)
        self.axes = None if axes is None else tuple(int(a) for a in np.atleast_1d(axes))

    def sample(self, rng, image, mask):
        return {"seed": _seed(rng)}

    def apply(self, image, mask, params):
        return elastic_pair(
            image,
            mask,
            alpha=self.alpha,
            sigma=self.sigma,
            rng=np.random.default_rng(params["seed"]),
            spacing=self.spacing,
            order_image=self.order_image,
            axes=self.axes,
        )


class CropKeeping(Transform):
    """Random crop of ``size`` that keeps every lesion pixel (see :func:`crop_origin_keeping`).

    Example
    -------
    >>> mask = np.zeros((6, 6), dtype=np.uint8); mask[2, 3] = 1
    >>> _, out, params = CropKeeping(3)(np.zeros((6, 6)), mask, rng=np.random.default_rng(0))
    >>> int(out.sum())
    1
    """

    name = "crop_keeping"

    def __init__(self, size):
        self.size = size

    def sample(self, rng, image, mask):
        reference = np.zeros(np.shape(image), dtype=np.uint8) if mask is None else mask
        return {"origin": crop_origin_keeping(reference, self.size, rng)}

    def apply(self, image, mask, params):
        image, mask = _as_pair(image, mask, ndims=None)
        sizes = np.broadcast_to(np.asarray(self.size), (image.ndim,))
        window = tuple(slice(o, o + int(s)) for o, s in zip(params["origin"], sizes, strict=True))
        return image[window].copy(), None if mask is None else mask[window].copy()


class LesionWindow(Transform):
    """Window of ``size`` centred on the lesion's bounding box, padded with ``fill``.

    No random draw: this step cuts a generous window *before* rotations, so a
    lesion near the image border is not carried out of the frame. The window
    may reach past the image; those pixels get ``fill`` (mask 0). With an empty
    mask the window is centred on the image.

    Example
    -------
    >>> mask = np.zeros((6, 6), dtype=np.uint8); mask[0, 0] = 1
    >>> image, out, params = LesionWindow(3)(np.ones((6, 6)), mask, rng=np.random.default_rng(0))
    >>> params["origin"], int(out[1, 1]), float(image[0, 0])
    ((-1, -1), 1, 0.0)
    """

    name = "lesion_window"

    def __init__(self, size, fill: float = 0.0):
        self.size = size
        self.fill = _finite(fill, "fill")

    def _sizes(self, ndim: int) -> tuple[int, ...]:
        sizes = np.broadcast_to(np.asarray(self.size), (ndim,))
        if sizes.dtype.kind not in "iu" or (sizes <= 0).any():
            raise ValueError(f"size must be positive integer(s), got {self.size!r}")
        return tuple(int(s) for s in sizes)

    def sample(self, rng, image, mask):
        shape = np.shape(image)
        sizes = self._sizes(len(shape))
        lesion = np.argwhere(np.asarray(mask) != 0) if mask is not None else np.empty((0, 0))
        if lesion.size:
            centre = (lesion.min(axis=0) + lesion.max(axis=0)) / 2.0
        else:
            centre = (np.array(shape) - 1) / 2.0
        origin = tuple(int(np.floor(c - (s - 1) / 2.0)) for c, s in zip(centre, sizes, strict=True))
        return {"origin": origin}

    def apply(self, image, mask, params):
        image, mask = _as_pair(image, mask, ndims=None)
        sizes = self._sizes(image.ndim)
        before = [max(0, -o) for o in params["origin"]]
        after = [
            max(0, o + s - n) for o, s, n in zip(params["origin"], sizes, image.shape, strict=True)
        ]
        pad = list(zip(before, after, strict=True))
        window = tuple(
            slice(o + b, o + b + s) for o, b, s in zip(params["origin"], before, sizes, strict=True)
        )
        padded = np.pad(image, pad, mode="constant", constant_values=self.fill)[window].copy()
        if mask is None:
            return padded, None
        return padded, np.pad(mask, pad, mode="constant", constant_values=0)[window].copy()


class _IntensityTransform(Transform):
    def __init__(self, value_range):
        self.value_range = None if value_range is None else _interval(value_range, "value_range")


class Brightness(_IntensityTransform):
    """Random offset ``delta`` drawn from ``delta`` = (low, high), clipped to ``value_range``.

    Example
    -------
    >>> sorted(Brightness((-0.1, 0.1), value_range=(0, 1)).sample(np.random.default_rng(0), None, None))
    ['delta']
    """

    name = "brightness"

    def __init__(self, delta, value_range=None):
        super().__init__(value_range)
        self.delta = _interval(delta, "delta")

    def sample(self, rng, image, mask):
        return {"delta": _uniform(rng, self.delta)}

    def apply(self, image, mask, params):
        return adjust_brightness(image, params["delta"], value_range=self.value_range), mask


class Contrast(_IntensityTransform):
    """Random contrast factor from ``factor`` = (low, high).

    ``centre`` is the fixed point of the stretch: None (the image mean), a
    number, or a function of the image (e.g. the mean of its tissue pixels, so
    a patch that is half background is not stretched about a grey that is
    neither tissue nor background).

    Example
    -------
    >>> sorted(Contrast((0.8, 1.2), value_range=(0, 1)).sample(np.random.default_rng(0), None, None))
    ['factor']
    """

    name = "contrast"

    def __init__(self, factor, value_range=None, centre=None):
        super().__init__(value_range)
        self.factor = _interval(factor, "factor", low_limit=0.0)
        if centre is not None and not callable(centre):
            centre = _finite(centre, "centre")
        self.centre = centre

    def sample(self, rng, image, mask):
        return {"factor": _uniform(rng, self.factor)}

    def apply(self, image, mask, params):
        centre = self.centre(np.asarray(image)) if callable(self.centre) else self.centre
        return adjust_contrast(
            image, params["factor"], value_range=self.value_range, centre=centre
        ), mask


class Gamma(_IntensityTransform):
    """Random gamma from ``gamma`` = (low, high), drawn uniformly in log space.

    Example
    -------
    >>> sorted(Gamma((0.7, 1.5), value_range=(0, 1)).sample(np.random.default_rng(0), None, None))
    ['gamma']
    """

    name = "gamma"

    def __init__(self, gamma, value_range=None):
        super().__init__(value_range)
        self.gamma = _interval(gamma, "gamma", low_limit=0.0, strict=True)

    def sample(self, rng, image, mask):
        log_lo, log_hi = math.log(self.gamma[0]), math.log(self.gamma[1])
        return {"gamma": math.exp(_uniform(rng, (log_lo, log_hi)))}

    def apply(self, image, mask, params):
        return adjust_gamma(image, params["gamma"], value_range=self.value_range), mask


class GaussianNoise(_IntensityTransform):
    """Additive Gaussian noise with ``sigma`` from (low, high); records sigma and the noise seed.

    Example
    -------
    >>> sorted(GaussianNoise((0, 0.05), value_range=(0, 1)).sample(np.random.default_rng(0), None, None))
    ['seed', 'sigma']
    """

    name = "gaussian_noise"

    def __init__(self, sigma, value_range=None):
        super().__init__(value_range)
        self.sigma = _interval(sigma, "sigma", low_limit=0.0)

    def sample(self, rng, image, mask):
        return {"sigma": _uniform(rng, self.sigma), "seed": _seed(rng)}

    def apply(self, image, mask, params):
        noise_rng = np.random.default_rng(params["seed"])
        noisy = add_gaussian_noise(
            image, params["sigma"], rng=noise_rng, value_range=self.value_range
        )
        return noisy, mask


class PoissonNoise(_IntensityTransform):
    """Photon noise with ``photons_per_unit`` from (low, high), drawn log-uniformly.

    Example
    -------
    >>> t = PoissonNoise((100, 1000), value_range=(0, 1))
    >>> sorted(t.sample(np.random.default_rng(0), None, None))
    ['photons_per_unit', 'seed']
    """

    name = "poisson_noise"

    def __init__(self, photons_per_unit, value_range=None):
        super().__init__(value_range)
        self.photons_per_unit = _interval(
            photons_per_unit, "photons_per_unit", low_limit=0.0, strict=True
        )

    def sample(self, rng, image, mask):
        log_lo, log_hi = (math.log(v) for v in self.photons_per_unit)
        return {"photons_per_unit": math.exp(_uniform(rng, (log_lo, log_hi))), "seed": _seed(rng)}

    def apply(self, image, mask, params):
        noise_rng = np.random.default_rng(params["seed"])
        noisy = add_poisson_noise(
            image, params["photons_per_unit"], rng=noise_rng, value_range=self.value_range
        )
        return noisy, mask


class Blur(_IntensityTransform):
    """Gaussian blur with ``sigma`` (pixels) from (low, high).

    Example
    -------
    >>> sorted(Blur((0.5, 1.5), value_range=(0, 1)).sample(np.random.default_rng(0), None, None))
    ['sigma']
    """

    name = "blur"

    def __init__(self, sigma, value_range=None):
        super().__init__(value_range)
        self.sigma = _interval(sigma, "sigma", low_limit=0.0)

    def sample(self, rng, image, mask):
        return {"sigma": _uniform(rng, self.sigma)}

    def apply(self, image, mask, params):
        return gaussian_blur(image, params["sigma"], value_range=self.value_range), mask


class BiasField(_IntensityTransform):
    """Random smooth MR bias field with gain up to ``max_gain`` (see :func:`bias_field`).

    Example
    -------
    >>> sorted(BiasField(1.3, value_range=(0, 4095)).sample(np.random.default_rng(0), None, None))
    ['seed']
    """

    name = "bias_field"

    def __init__(self, max_gain: float, spacing=None, value_range=None):
        super().__init__(value_range)
        self.max_gain = _finite(max_gain, "max_gain")
        if self.max_gain < 1:
            raise ValueError(f"max_gain must be >= 1, got {max_gain}")
        self.spacing = spacing

    def sample(self, rng, image, mask):
        return {"seed": _seed(rng)}

    def apply(self, image, mask, params):
        shaded = bias_field(
            image,
            self.max_gain,
            rng=np.random.default_rng(params["seed"]),
            spacing=self.spacing,
            value_range=self.value_range,
        )
        return shaded, mask


class RandomApply(Transform):
    """Apply ``transform`` with probability ``p`` (one coin flip per sample, recorded).

    Parameters
    ----------
    transform : Transform
    p : float
        Probability in [0, 1].

    Raises
    ------
    ValueError
        ``p`` outside [0, 1] or NaN.
    TypeError
        ``transform`` is not a :class:`Transform`.

    Example
    -------
    >>> step = RandomApply(Flip(axis=1), p=0.0)
    >>> step(np.array([[1, 2]]), None, rng=np.random.default_rng(0))[2]
    {'applied': False}
    """

    def __init__(self, transform: Transform, p: float):
        if not isinstance(transform, Transform):
            raise TypeError(
                f"transform must be a course_utils.augment.Transform, got {type(transform).__name__}"
            )
        if isinstance(p, (bool, np.bool_)) or not np.isscalar(p):
            raise TypeError(f"p must be a probability (a number in [0, 1]), got {p!r}")
        if not (0.0 <= float(p) <= 1.0):  # also rejects NaN
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.transform = transform
        self.p = float(p)

    @property
    def name(self) -> str:
        return self.transform.name

    def sample(self, rng, image, mask):
        applied = bool(rng.random() < self.p)
        params = {"applied": applied}
        if applied:
            params.update(self.transform.sample(rng, image, mask))
        return params

    def apply(self, image, mask, params):
        if not params.get("applied", True):
            return image, mask
        inner = {key: value for key, value in params.items() if key != "applied"}
        return self.transform.apply(image, mask, inner)


class Compose:
    """A random augmentation pipeline that records what it did.

    Parameters
    ----------
    transforms : sequence of Transform
        Applied in order. Wrap a step in :class:`RandomApply` to make it optional.

    Calling ``pipeline(image, mask, rng=rng)`` returns ``(image, mask, record)``
    where ``record`` is a list with one dict per step: ``transform`` (its
    name), ``applied`` (bool) and the parameters drawn. The same generator
    state gives the same outputs; :meth:`replay` redoes a record exactly.

    Raises
    ------
    TypeError
        A step is not a :class:`Transform`; ``rng`` is not a Generator.
    ValueError
        Empty pipeline.

    Example
    -------
    >>> pipeline = Compose([RandomApply(Rot90(), p=1.0)])
    >>> _, _, record = pipeline(np.eye(2), None, rng=np.random.default_rng(0))
    >>> record
    [{'transform': 'rot90', 'applied': True, 'k': 2}]
    """

    def __init__(self, transforms: Sequence[Transform]):
        transforms = list(transforms)
        if not transforms:
            raise ValueError("Compose needs at least one transform, got an empty list")
        for position, step in enumerate(transforms):
            if not isinstance(step, Transform):
                raise TypeError(
                    f"step {position} is a {type(step).__name__}, expected a course_utils.augment.Transform "
                    "(e.g. Flip(axis=1) or RandomApply(Rot90(), p=0.5))"
                )
        self.transforms = transforms

    def __call__(self, image, mask=None, *, rng: np.random.Generator):
        _check_rng(rng)
        image, mask = _as_pair(image, mask, ndims=None)
        record = []
        for step in self.transforms:
            params = step.sample(rng, image, mask)
            image, mask = step.apply(image, mask, params)
            record.append(
                {"transform": step.name, "applied": params.get("applied", True), **params}
            )
        return image, mask, record

    def replay(self, image, mask, record: list[dict]):
        """Apply the steps with the parameters of an earlier ``record`` (no randomness).

        Raises
        ------
        ValueError
            The record does not match this pipeline's steps.
        """
        if len(record) != len(self.transforms):
            raise ValueError(
                f"record has {len(record)} steps, this pipeline has {len(self.transforms)}"
            )
        image, mask = _as_pair(image, mask, ndims=None)
        for step, entry in zip(self.transforms, record, strict=True):
            if entry.get("transform") != step.name:
                raise ValueError(
                    f"record step {entry.get('transform')!r} does not match {step.name!r}"
                )
            params = {key: value for key, value in entry.items() if key != "transform"}
            if not isinstance(step, RandomApply):
                params.pop("applied", None)
            image, mask = step.apply(image, mask, params)
        return image, mask

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(step) for step in self.transforms)
        return f"Compose([\n    {inner},\n])"
