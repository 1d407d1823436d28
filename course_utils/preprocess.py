"""Preprocessing helpers: bounding boxes, crops, resizing, intensity normalisation, slice selection.

These are the steps lesson 05 builds by hand and later lessons reuse. All
functions take numpy arrays in numpy's axis order — ``(rows, cols)`` for an
image, ``(slices, rows, cols)`` for a volume — and validate their input at the
boundary, raising :class:`ValueError` with what was received and what was
expected (empty, constant or NaN input, wrong ``ndim``, an empty mask).

Conventions
-----------
* A bounding box is a tuple of :class:`slice` objects, one per axis, with an
  **exclusive** stop (Python's convention): ``image[box]`` is the crop, and the
  last foreground index along an axis is ``box[axis].stop - 1``.
* Sizes are given as ``(rows, cols)``. OpenCV's ``cv2.resize`` wants
  ``(width, height)`` = ``(cols, rows)``; :func:`resize_image` does the swap.
* Normalisations return ``float32`` and never divide by zero: a constant input
  (standard deviation or range 0) raises a :class:`ValueError` instead.

Example
-------
>>> import numpy as np
>>> mask = np.zeros((6, 8), bool); mask[2:4, 3:6] = True
>>> bounding_box(mask)
(slice(2, 4, None), slice(3, 6, None))
>>> zscore(np.arange(10.0)).std().round(6)
np.float32(1.0)
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "bounding_box",
    "foreground_mask",
    "crop_to_foreground",
    "square_box_around",
    "square_crop_around",
    "resize_image",
    "resize_with_padding",
    "minmax",
    "percentile_clip",
    "zscore",
    "zscore_stats",
    "window",
    "nonempty_slices",
    "select_central_slices",
    "preprocess_dataset",
]


# --------------------------------------------------------------------------- validation
def _as_array(
    values, name: str, *, ndims: Sequence[int] = (2, 3), allow_nan: bool = False
) -> np.ndarray:
    array = np.asarray(values)
    if array.size == 0:
        raise ValueError(
            f"{name} is empty (shape {array.shape}); expected a non-empty {'-D or '.join(map(str, ndims))}-D array"
        )
    if array.ndim not in ndims:
        expected = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(
            f"{name} has {array.ndim} dimension(s) (shape {array.shape}); expected {expected}"
        )
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} has dtype {array.dtype}; expected numbers")
    if not allow_nan and np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); expected finite values"
        )
    return array


def _as_mask(mask, name: str, shape=None) -> np.ndarray:
    array = _as_array(mask, name, ndims=(1, 2, 3))
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {array.shape}; expected the image's shape {tuple(shape)}"
        )
    return array.astype(bool, copy=False) if array.dtype == bool else array != 0


def _per_axis(value, ndim: int, name: str) -> tuple[int, ...]:
    values = (value,) * ndim if np.isscalar(value) else tuple(value)
    if len(values) != ndim or any(int(v) != v or v < 0 for v in values):
        raise ValueError(f"{name} must be a non-negative integer or {ndim} of them, got {value!r}")
    return tuple(int(v) for v in values)


# --------------------------------------------------------------------------- boxes and crops
def bounding_box(mask, margin=0, *, allow_empty: bool = False):
    """Smallest box holding every non-zero element of ``mask``, grown by ``margin``.

    Parameters
    ----------
    mask : array_like
        Boolean (or 0/non-zero) array, any number of dimensions (1-D to 3-D).
    margin : int or sequence of int
        Elements added on each side (per axis if a sequence); the box is
        clipped to the array, so it never leaves it.
    allow_empty : bool
        What an all-zero mask gives: ``False`` (default) raises
        :class:`ValueError`; ``True`` returns ``None``.

    Returns
    -------
    tuple of slice or None
        One slice per axis with an **exclusive** stop: ``stop = last index + 1``.
        ``array[box]`` is the crop.

    Raises
    ------
    ValueError
        Empty (all-zero) mask with ``allow_empty=False``, negative margin, NaN.

    Example
    -------
    >>> mask = np.zeros((5, 5), bool); mask[1, 2] = mask[3, 3] = True
    >>> bounding_box(mask)
    (slice(1, 4, None), slice(2, 4, None))
    >>> bounding_box(mask, margin=2)
    (slice(0, 5, None), slice(0, 5, None))
    """
    mask = _as_mask(mask, "mask")
    margins = _per_axis(margin, mask.ndim, "margin")
    if not mask.any():
        if allow_empty:
            return None
        raise ValueError(
            f"mask (shape {mask.shape}) has no non-zero element, so it has no bounding box; "
            "pass allow_empty=True to get None instead"
        )
    box = []
    for axis in range(mask.ndim):
        other_axes = tuple(a for a in range(mask.ndim) if a != axis)
        present = np.flatnonzero(mask.any(axis=other_axes)) if other_axes else np.flatnonzero(mask)
        start = max(0, int(present[0]) - margins[axis])
        stop = min(mask.shape[axis], int(present[-1]) + 1 + margins[axis])
        box.append(slice(start, stop))
    return tuple(box)


def _default_threshold(image: np.ndarray) -> float:
    low = float(image.min())
    high = float(np.percentile(image, 99.5))
    if high <= low:
        high = float(image.max())
    return low + 0.1 * (high - low)


def foreground_mask(image, *, threshold: float | None = None, open_iterations: int = 1):
    """Foreground of an image or volume: above a scale-independent threshold, specks removed.

    Parameters
    ----------
    image : array_like
        2-D image or 3-D volume.
    threshold : float, optional
        Foreground is ``image > threshold``. Default: 10 % of the way from the
        minimum to the 99.5th percentile, which does not depend on the
        intensity scale (works for 0..1 floats, 12-bit MR, 16-bit film).
    open_iterations : int
        Binary opening with the smallest cross-shaped structuring element
        (in-plane, slice by slice for a volume), repeated this many times: isolated noise pixels above the threshold
        (Rician noise in MR air, dust on a film) would otherwise stretch a
        bounding box to the image border. Structures thinner than about
        ``2 * open_iterations + 1`` pixels are removed too. 0 switches it off.

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    ValueError
        Wrong ``ndim``, empty array, NaN.

    Example
    -------
    >>> image = np.zeros((6, 6)); image[2:5, 1:5] = 7; image[0, 5] = 9   # a speck
    >>> bool(foreground_mask(image)[0, 5]), bool(foreground_mask(image, open_iterations=0)[0, 5])
    (False, True)
    """
    from scipy import ndimage

    image = _as_array(image, "image")
    level = _default_threshold(image) if threshold is None else float(threshold)
    mask = image > level
    if open_iterations:
        # in-plane cross, also for volumes: thin slabs of slices must survive
        structure = ndimage.generate_binary_structure(2, 1)
        if mask.ndim == 3:
            structure = np.stack([np.zeros_like(structure), structure, np.zeros_like(structure)])
        mask = ndimage.binary_opening(mask, structure=structure, iterations=int(open_iterations))
    return mask


def crop_to_foreground(
    image,
    *,
    threshold: float | None = None,
    margin=0,
    open_iterations: int = 1,
    return_box: bool = False,
):
    """Crop an image or volume to the bounding box of its foreground.

    The same box is used for every slice of a volume (cropping slices one by
    one would shift the anatomy between them).

    Parameters
    ----------
    image : array_like
        2-D image or 3-D volume (slices, rows, cols).
    threshold : float, optional
        See :func:`foreground_mask` (default: relative to the image's own range).
    margin : int or sequence of int
        Extra elements kept on each side (clipped to the image).
    open_iterations : int
        Speck removal, see :func:`foreground_mask`.
    return_box : bool
        Also return the box (tuple of slices).

    Returns
    -------
    cropped : numpy.ndarray
        A view of ``image``. An image without foreground (e.g. all zeros) is
        returned whole, with a box covering everything.
    box : tuple of slice
        Only if ``return_box``.

    Raises
    ------
    ValueError
        Wrong ``ndim``, empty array, NaN.

    Example
    -------
    >>> image = np.zeros((6, 6)); image[2:5, 1:5] = 7
    >>> crop_to_foreground(image).shape
    (3, 4)
    >>> crop_to_foreground(np.zeros((6, 6))).shape
    (6, 6)
    """
    image = _as_array(image, "image")
    foreground = foreground_mask(image, threshold=threshold, open_iterations=open_iterations)
    box = bounding_box(foreground, margin, allow_empty=True)
    if box is None:
        box = tuple(slice(0, n) for n in image.shape)
    cropped = image[box]
    return (cropped, box) if return_box else cropped


def square_box_around(shape, roi_mask, *, size: int | None = None):
    """Square box of side ``size`` inside an image of ``shape`` that contains the whole ROI.

    One rule for every case (ROI near the top, the bottom, the middle, tall or
    wide images): centre the square on the ROI's bounding box, then shift it
    the least amount needed to lie inside the image.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)`` of the image.
    roi_mask : array_like
        2-D mask of that shape; non-zero inside the region of interest.
    size : int, optional
        Side of the square; default the image's shorter side (the largest
        square that fits).

    Returns
    -------
    tuple of slice
        ``(row_slice, col_slice)``, exclusive stops, each of length ``size``.

    Raises
    ------
    ValueError
        Empty ROI; ``size`` larger than the shorter side or smaller than the
        ROI's extent (the ROI could not be kept whole).

    Example
    -------
    >>> roi = np.zeros((100, 60), bool); roi[90:95, 10:20] = True
    >>> square_box_around(roi.shape, roi)
    (slice(40, 100, None), slice(0, 60, None))
    """
    rows, cols = (int(n) for n in shape)
    roi = _as_mask(roi_mask, "roi_mask", shape=(rows, cols))
    box = bounding_box(roi, allow_empty=True)
    if box is None:
        raise ValueError(
            "roi_mask is empty (no non-zero pixel); a square crop around the ROI needs an ROI"
        )
    shorter = min(rows, cols)
    side = shorter if size is None else int(size)
    if side < 1 or side > shorter:
        raise ValueError(
            f"size {size} must be between 1 and the image's shorter side ({shorter} pixels of {rows}x{cols}); "
            "resize or pad the image first for a larger square"
        )
    extent = (box[0].stop - box[0].start, box[1].stop - box[1].start)
    if max(extent) > side:
        raise ValueError(
            f"the ROI spans {extent[0]}x{extent[1]} pixels, more than the square's side {side}; "
            "choose a larger size so the whole ROI fits"
        )
    result = []
    for axis_slice, length in zip(box, (rows, cols), strict=True):
        centre = (axis_slice.start + axis_slice.stop) // 2
        start = int(np.clip(centre - side // 2, 0, length - side))
        result.append(slice(start, start + side))
    return tuple(result)


def square_crop_around(image, roi_mask, *, size: int | None = None):
    """Square crop of an image and its ROI mask that keeps the whole ROI.

    See :func:`square_box_around` for the rule. Works for tall and wide
    images and for an ROI anywhere in the image.

    Parameters
    ----------
    image : array_like
        2-D image (rows, cols).
    roi_mask : array_like
        2-D mask of the same shape.
    size : int, optional
        Side of the square in pixels; default the shorter side of the image.

    Returns
    -------
    image_square, mask_square : numpy.ndarray
        Views of the inputs, ``size x size``.

    Raises
    ------
    ValueError
        Shapes differ, empty ROI, ``size`` too large or too small for the ROI.

    Example
    -------
    >>> image = np.arange(12.0).reshape(3, 4); roi = np.zeros((3, 4), bool); roi[1, 3] = True
    >>> square_crop_around(image, roi)[0].shape
    (3, 3)
    """
    image = _as_array(image, "image", ndims=(2,))
    mask = np.asarray(roi_mask)
    if mask.shape != image.shape:
        raise ValueError(
            f"roi_mask has shape {mask.shape}; expected the image's shape {image.shape}"
        )
    box = square_box_around(image.shape, mask, size=size)
    return image[box], mask[box]


# --------------------------------------------------------------------------- resizing
_CV2_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def _resize_2d(image: np.ndarray, shape_rc, kind: str) -> np.ndarray:
    import cv2

    rows, cols = shape_rc
    if kind == "mask":
        # nearest neighbour by index mapping: any dtype, label values kept exactly
        row_index = np.minimum(
            ((np.arange(rows) + 0.5) * image.shape[0] / rows).astype(np.intp), image.shape[0] - 1
        )
        col_index = np.minimum(
            ((np.arange(cols) + 0.5) * image.shape[1] / cols).astype(np.intp), image.shape[1] - 1
        )
        return image[np.ix_(row_index, col_index)]
    shrinking = rows <= image.shape[0] and cols <= image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    source = image
    if image.dtype.type not in _CV2_DTYPES:
        source = image.astype(np.float64)  # bool, int32, int64, float16 ...
    # cv2.resize takes dsize as (width, height) = (cols, rows)
    return cv2.resize(source, (int(cols), int(rows)), interpolation=interpolation)


def resize_image(image, shape_rc, *, kind: str = "image"):
    """Resize a 2-D image (or every slice of a volume) to ``shape_rc = (rows, cols)``.

    Parameters
    ----------
    image : array_like
        2-D image, or 3-D ``(slices, rows, cols)`` resized slice by slice.
    shape_rc : tuple of int
        Target ``(rows, cols)`` in numpy order (the function passes
        ``(cols, rows)`` to OpenCV).
    kind : {"image", "mask"}
        ``"image"``: area averaging when shrinking (no aliasing), bilinear when
        enlarging; integer and float dtypes OpenCV supports are kept, others
        (bool, int32, int64) come back as float64.
        ``"mask"``: nearest neighbour; the output holds only values present in
        the input, with the input's dtype.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Wrong ``ndim``, empty input, NaN in an image, bad ``shape_rc`` or ``kind``.

    Example
    -------
    >>> labels = np.array([[0, 0, 2, 2], [0, 0, 2, 2]], np.uint8)
    >>> resize_image(labels, (4, 2), kind="mask")
    array([[0, 2],
           [0, 2],
           [0, 2],
           [0, 2]], dtype=uint8)
    """
    if kind not in ("image", "mask"):
        raise ValueError(f"kind must be 'image' or 'mask', got {kind!r}")
    image = _as_array(image, "image", allow_nan=kind == "mask")
    shape_rc = tuple(shape_rc)
    if len(shape_rc) != 2 or any(int(n) != n or n < 1 for n in shape_rc):
        raise ValueError(
            f"shape_rc must be (rows, cols) with two positive integers, got {shape_rc!r}"
        )
    shape_rc = (int(shape_rc[0]), int(shape_rc[1]))
    if image.ndim == 2:
        return _resize_2d(image, shape_rc, kind)
    return np.stack([_resize_2d(plane, shape_rc, kind) for plane in image])


def resize_with_padding(
    image,
    shape_rc,
    *,
    kind: str = "image",
    pad_value: float = 0,
    return_transform: bool = False,
    anchor: str = "centre",
):
    """Resize keeping the aspect ratio, then pad to exactly ``shape_rc``.

    The image is scaled by the largest factor that fits inside ``shape_rc``
    and placed by ``anchor``; the remaining border is filled with ``pad_value``.

    Parameters
    ----------
    image : array_like
        2-D image or 3-D ``(slices, rows, cols)``.
    shape_rc : tuple of int
        Target ``(rows, cols)``.
    kind : {"image", "mask"}
        Interpolation as in :func:`resize_image`.
    pad_value : float
        Fill value (e.g. the background intensity; 0 for masks).
    return_transform : bool
        Also return ``(scale, (pad_top, pad_left))``: an input pixel ``(r, c)``
        lands near ``(r * scale + pad_top, c * scale + pad_left)``.
    anchor : {"centre", "left", "right"}
        Where the image sits: centred, or against the left / right edge (rows
        stay centred). A mammogram flipped so its chest wall is on the left is
        padded with ``anchor="left"``: the padding goes on the side away from
        the chest wall and the breast stays against its edge.

    Returns
    -------
    numpy.ndarray, optionally with the transform

    Example
    -------
    >>> resize_with_padding(np.ones((10, 20)), (8, 8)).shape
    (8, 8)
    """
    image = _as_array(image, "image", allow_nan=kind == "mask")
    rows, cols = image.shape[-2:]
    target_rows, target_cols = (int(n) for n in shape_rc)
    if target_rows < 1 or target_cols < 1:
        raise ValueError(f"shape_rc must hold two positive integers, got {shape_rc!r}")
    scale = min(target_rows / rows, target_cols / cols)
    inner = (max(1, round(rows * scale)), max(1, round(cols * scale)))
    resized = resize_image(image, inner, kind=kind)
    pad_top = (target_rows - inner[0]) // 2
    if anchor not in ("centre", "left", "right"):
        raise ValueError(f"anchor must be 'centre', 'left' or 'right', got {anchor!r}")
    spare = target_cols - inner[1]
    pad_left = {"centre": spare // 2, "left": 0, "right": spare}[anchor]
    output = np.full(image.shape[:-2] + (target_rows, target_cols), pad_value, dtype=resized.dtype)
    output[..., pad_top : pad_top + inner[0], pad_left : pad_left + inner[1]] = resized
    return (output, (scale, (pad_top, pad_left))) if return_transform else output


# --------------------------------------------------------------------------- normalisation
def _selected(values: np.ndarray, mask, name: str) -> np.ndarray:
    if mask is None:
        return values
    selection = _as_mask(mask, "mask", shape=values.shape)
    if not selection.any():
        raise ValueError(f"mask selects no element of {name}; expected at least one")
    return values[selection]


def minmax(x, *, mask=None):
    """Rescale linearly so the minimum becomes 0 and the maximum 1.

    Parameters
    ----------
    x : array_like
        Image or volume (any shape with at least one element).
    mask : array_like of bool, optional
        Take minimum and maximum inside the mask only (values outside may
        fall outside [0, 1]).

    Returns
    -------
    numpy.ndarray of float32, range [0, 1] (inside the mask)

    Raises
    ------
    ValueError
        Empty, NaN or constant input (range 0: nothing to rescale).

    Example
    -------
    >>> minmax(np.array([2.0, 4.0, 6.0]))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    values = _as_array(x, "x", ndims=(1, 2, 3, 4)).astype(np.float64)
    selected = _selected(values, mask, "x")
    low, high = float(selected.min()), float(selected.max())
    if high == low:
        raise ValueError(
            f"x is constant ({low:g}) where the statistics are taken; min-max scaling would divide by zero"
        )
    return ((values - low) / (high - low)).astype(np.float32)


def percentile_clip(x, low: float = 1.0, high: float = 99.0, *, mask=None, rescale: bool = True):
    """Clip to the ``low``-th and ``high``-th percentiles, then (by default) rescale to [0, 1].

    A few extreme pixels (saturated border residue, hot pixels, calcifications)
    no longer squeeze the rest of the range.

    Parameters
    ----------
    x : array_like
    low, high : float
        Percentiles, ``0 <= low < high <= 100``.
    mask : array_like of bool, optional
        Compute the percentiles inside the mask only.
    rescale : bool
        Map the clipped range to [0, 1] (float32); otherwise return the clipped values.

    Returns
    -------
    numpy.ndarray of float32

    Raises
    ------
    ValueError
        Bad percentiles; empty, NaN or constant input (the two percentiles coincide).

    Example
    -------
    >>> out = percentile_clip(np.r_[np.arange(100.0), 1e6], 0, 99)
    >>> float(out.max()), float(out[50]) < 0.6
    (1.0, True)
    """
    if not 0 <= low < high <= 100:
        raise ValueError(
            f"percentiles must satisfy 0 <= low < high <= 100, got low={low}, high={high}"
        )
    values = _as_array(x, "x", ndims=(1, 2, 3, 4)).astype(np.float64)
    selected = _selected(values, mask, "x")
    lower, upper = np.percentile(selected, [low, high])
    if upper <= lower:
        raise ValueError(
            f"the {low}th and {high}th percentiles of x are equal ({lower:g}): x is (nearly) constant; "
            "nothing to rescale"
        )
    clipped = np.clip(values, lower, upper)
    if not rescale:
        return clipped.astype(np.float32)
    return ((clipped - lower) / (upper - lower)).astype(np.float32)


def zscore_stats(images: Iterable, *, masks: Iterable | None = None) -> tuple[float, float]:
    """Mean and standard deviation over several images (e.g. the training split).

    Parameters
    ----------
    images : iterable of array_like
    masks : iterable of array_like of bool, optional
        Use only the masked elements of each image.

    Returns
    -------
    (mean, std) : tuple of float

    Raises
    ------
    ValueError
        No images, NaN, or a standard deviation of 0.

    Example
    -------
    >>> zscore_stats([np.zeros(2), np.full(2, 2.0)])
    (1.0, 1.0)
    """
    total = total_sq = 0.0
    count = 0
    mask_list = list(masks) if masks is not None else None
    for index, image in enumerate(images):
        values = _as_array(image, f"images[{index}]", ndims=(1, 2, 3, 4)).astype(np.float64)
        if mask_list is not None:
            values = _selected(values, mask_list[index], f"images[{index}]")
        total += float(values.sum())
        total_sq += float(np.square(values).sum())
        count += values.size
    if count == 0:
        raise ValueError("images is empty; expected at least one image to compute statistics from")
    mean = total / count
    variance = max(total_sq / count - mean**2, 0.0)
    std = float(np.sqrt(variance))
    if std == 0:
        raise ValueError(
            "the images are constant (standard deviation 0); z-scoring would divide by zero"
        )
    return float(mean), std


def zscore(
    x,
    *,
    per: str = "volume",
    mask=None,
    stats: tuple[float, float] | None = None,
    on_constant: str = "raise",
):
    """Subtract the mean and divide by the standard deviation.

    Parameters
    ----------
    x : array_like
        2-D image or 3-D volume (slices, rows, cols).
    per : {"volume", "slice"}
        ``"volume"``: one mean/std for the whole array (keeps the relative
        brightness of slices); ``"slice"``: each 2-D slice of a volume gets
        its own (every slice ends with mean 0, std 1). Ignored for 2-D input.
    mask : array_like of bool, optional
        Compute the statistics inside the mask only (e.g. the brain), so the
        background does not dominate them. Values outside are transformed too.
    stats : (mean, std), optional
        Use these statistics (e.g. from :func:`zscore_stats` on the training
        split) instead of computing them from ``x``: no leakage from
        validation or test data.
    on_constant : {"raise", "zero"}
        A constant input (or slice, with ``per="slice"``) has std 0:
        ``"raise"`` raises :class:`ValueError`; ``"zero"`` maps it to zeros.

    Returns
    -------
    numpy.ndarray of float32
        Mean 0 and standard deviation 1 over the pixels the statistics came
        from (over each slice with ``per="slice"``).

    Raises
    ------
    ValueError
        NaN, empty or constant input; bad ``per``/``on_constant``; ``stats``
        with a non-positive std.

    Example
    -------
    >>> out = zscore(np.array([[1.0, 3.0], [5.0, 7.0]]))
    >>> round(float(out.mean()), 6), round(float(out.std()), 6)
    (0.0, 1.0)
    """
    if per not in ("volume", "slice"):
        raise ValueError(f"per must be 'volume' or 'slice', got {per!r}")
    if on_constant not in ("raise", "zero"):
        raise ValueError(f"on_constant must be 'raise' or 'zero', got {on_constant!r}")
    values = _as_array(x, "x", ndims=(1, 2, 3)).astype(np.float64)
    if stats is not None:
        mean, std = (float(v) for v in stats)
        if not np.isfinite(mean) or not np.isfinite(std) or std <= 0:
            raise ValueError(
                f"stats must be (mean, std) with a finite, positive std, got {stats!r}"
            )
        return ((values - mean) / std).astype(np.float32)
    if per == "slice" and values.ndim == 3:
        masks = (
            [None] * len(values)
            if mask is None
            else list(_as_mask(mask, "mask", shape=values.shape))
        )
        return np.stack(
            [
                _zscore_one(plane, plane_mask, on_constant, f"slice {i}", empty_mask_ok=True)
                for i, (plane, plane_mask) in enumerate(zip(values, masks, strict=True))
            ]
        )
    return _zscore_one(values, mask, on_constant, "x")


def _zscore_one(
    values: np.ndarray, mask, on_constant: str, name: str, empty_mask_ok: bool = False
) -> np.ndarray:
    if empty_mask_ok and mask is not None and not np.asarray(mask).any():
        selected = values[:0]  # a slice without mask pixels: treated like a constant slice
    else:
        selected = _selected(values, mask, name)
    std = float(selected.std()) if selected.size else 0.0
    if std == 0:
        if on_constant == "zero":
            return np.zeros(values.shape, dtype=np.float32)
        where = "" if mask is None else " inside the mask"
        raise ValueError(
            f"{name} is constant{where} (standard deviation 0); z-scoring would divide by zero. "
            "Drop empty slices first or pass on_constant='zero'"
        )
    return ((values - float(selected.mean())) / std).astype(np.float32)


def window(x, center: float, width: float):
    """CT-style windowing as a normalisation: map ``[center - width/2, center + width/2]`` to [0, 1].

    Values outside the window are clipped. Unlike min-max, the mapping is
    fixed in physical units (e.g. Hounsfield units), so it is the same for
    every scan.

    Example
    -------
    >>> window(np.array([-200.0, 40.0, 280.0]), center=40, width=400)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    if not width > 0:
        raise ValueError(f"window width must be positive, got {width}")
    values = _as_array(x, "x", ndims=(1, 2, 3)).astype(np.float64)
    low = center - width / 2
    return np.clip((values - low) / width, 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- slices
def nonempty_slices(volume, *, fraction: float = 0.1, min_area: float = 0.02):
    """Which slices of a volume hold enough foreground to keep.

    A pixel is foreground when it exceeds ``fraction`` of the way from the
    volume's minimum to its 99.5th percentile, so the rule gives the same
    answer whatever the intensity scale (raw 12-bit, HU, 0..1). A slice is
    non-empty when at least ``min_area`` of its pixels are foreground.

    Parameters
    ----------
    volume : array_like
        3-D (slices, rows, cols).
    fraction : float
        Relative intensity threshold in (0, 1).
    min_area : float
        Minimum foreground fraction of a slice's area, in [0, 1).

    Returns
    -------
    numpy.ndarray of bool, shape (slices,)
        All False for a constant volume.

    Raises
    ------
    ValueError
        Not 3-D, empty, NaN, parameters out of range.

    Example
    -------
    >>> volume = np.zeros((4, 8, 8)); volume[1:3, 2:6, 2:6] = 100.0
    >>> nonempty_slices(volume).tolist()
    [False, True, True, False]
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    if not 0 <= min_area < 1:
        raise ValueError(f"min_area must be in [0, 1), got {min_area}")
    volume = _as_array(volume, "volume", ndims=(3,)).astype(np.float64)
    low = float(volume.min())
    high = float(np.percentile(volume, 99.5))
    if high <= low:
        high = float(volume.max())
    if high == low:
        return np.zeros(len(volume), dtype=bool)
    foreground = volume > low + fraction * (high - low)
    return foreground.mean(axis=(1, 2)) >= max(min_area, 1e-12)


def select_central_slices(volume, n: int, *, keep=None, return_indices: bool = False):
    """The ``n`` central slices of a volume (optionally among the ``keep`` ones).

    Parameters
    ----------
    volume : array_like
        3-D (slices, rows, cols).
    n : int
        Number of slices wanted.
    keep : array_like of bool, optional
        Candidate slices (e.g. :func:`nonempty_slices`); the central ``n`` of
        them are returned, in order.
    return_indices : bool
        Also return the indices of the chosen slices.

    Returns
    -------
    numpy.ndarray, shape (n, rows, cols), optionally with the indices

    Raises
    ------
    ValueError
        Fewer candidate slices than ``n`` (the message says how many there are),
        ``n < 1``, ``keep`` of the wrong length.

    Example
    -------
    >>> volume = np.arange(7)[:, None, None] * np.ones((7, 2, 2))
    >>> select_central_slices(volume, 3)[:, 0, 0]
    array([2., 3., 4.])
    """
    volume = _as_array(volume, "volume", ndims=(3,), allow_nan=True)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    candidates = np.arange(len(volume))
    if keep is not None:
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(volume),):
            raise ValueError(
                f"keep has shape {keep.shape}; expected ({len(volume)},), one flag per slice"
            )
        candidates = candidates[keep]
    if len(candidates) < n:
        raise ValueError(
            f"only {len(candidates)} candidate slice(s) of {len(volume)}, fewer than n={n}; "
            "lower n or pad the volume"
        )
    start = (len(candidates) - n) // 2
    chosen = candidates[start : start + n]
    return (volume[chosen], chosen) if return_indices else volume[chosen]


# --------------------------------------------------------------------------- pipeline
_NORMALISATIONS = ("zscore", "minmax", "percentile", "none")
# Raised by code, not by data: preprocess_dataset lets them stop the run.
_PROGRAMMING_ERRORS = (
    MemoryError,
    NameError,
    AttributeError,
    TypeError,
    ImportError,
    NotImplementedError,
    RecursionError,
)


def _normalise(image: np.ndarray, method: str, mask) -> np.ndarray:
    if method == "zscore":
        return zscore(image, mask=mask)
    if method == "minmax":
        return minmax(image, mask=mask)
    if method == "percentile":
        return percentile_clip(image, 1, 99, mask=mask)
    return image.astype(np.float32)


def _png_preview(image: np.ndarray) -> bytes:
    import cv2

    plane = image if image.ndim == 2 else image[len(image) // 2]
    low, high = np.percentile(plane, [0.5, 99.5])
    scaled = np.clip((plane - low) / (high - low if high > low else 1.0), 0, 1)
    ok, buffer = cv2.imencode(".png", np.round(scaled * 255).astype(np.uint8))
    if not ok:  # pragma: no cover
        raise RuntimeError("PNG encoding failed")
    return buffer.tobytes()


def preprocess_dataset(
    cases,
    output_dir,
    *,
    load: Callable,
    image_size: tuple[int, int] = (256, 256),
    crop: str = "foreground",
    normalisation: str = "zscore",
    keep_aspect: bool = True,
    margin: int = 0,
    write_png: bool = True,
    progress: bool | None = None,
    pad_anchor: str = "centre",
    crop_size=None,
):
    """Crop → resize → normalise every case and write the results into ``output_dir``.

    Parameters
    ----------
    cases : mapping or iterable of (case_id, source)
        What to process; ``source`` is whatever ``load`` accepts (a path, a row).
    output_dir : path
        Created if missing. Receives ``<case_id>.npz`` (compressed; ``image``
        float32 and, if there is one, ``mask`` uint8), ``<case_id>.png`` (an
        8-bit preview) and ``preprocessing_log.csv`` (one row per case).
        Files are written atomically.
    load : callable
        ``load(source)`` returns an image/volume, ``(image, mask)`` or
        ``(image, mask, stats_mask)``; ``stats_mask`` (same shape, True where
        the tissue is, e.g. the breast) restricts the normalisation statistics
        to those pixels, so background and padding do not enter them.
    image_size : (rows, cols)
        Output size of every 2-D image / slice.
    crop : {"foreground", "roi", "none"}
        Crop to the foreground bounding box (:func:`crop_to_foreground`), to a
        square keeping the ROI (:func:`square_crop_around`, needs a mask), or not at all.
    normalisation : {"zscore", "minmax", "percentile", "none"}
        Per-case normalisation (see :func:`zscore`, :func:`minmax`,
        :func:`percentile_clip`).
    keep_aspect : bool
        Resize with padding (:func:`resize_with_padding`) instead of distorting.
    margin : int
        Margin of the foreground crop.
    write_png : bool
        Also write the PNG previews.
    progress : bool, optional
        tqdm progress bar; default on unless the environment sets ``COURSE_PROGRESS=0``.
    pad_anchor : {"centre", "left", "right"}
        Where :func:`resize_with_padding` places the image (``keep_aspect``).
    crop_size : int or callable, optional
        Side in pixels of the ``crop="roi"`` square; default the image's
        shorter side. A callable ``crop_size(source, image)`` returns the side
        per case, e.g. ``round(side_mm / spacing_of(source))`` for squares of one
        physical size (so every output pixel has the same size in mm).

    Returns
    -------
    pandas.DataFrame
        The log: ``case_id``, ``status`` ("ok" or "failed"), ``error``,
        ``input_shape``, ``crop_box``, ``output_shape``, ``normalisation``,
        ``output_file``. A failing case is logged and skipped; the others go on.
        Programming errors (a typo in ``load``: ``NameError``, ``AttributeError``,
        ``TypeError``, ...) and ``MemoryError`` are not data problems: they stop
        the run instead of failing every case in the log.

    Raises
    ------
    ValueError
        Unknown ``crop`` or ``normalisation``, bad ``image_size``, ``crop_size``
        without ``crop="roi"``.

    Example
    -------
    >>> log = preprocess_dataset({"a": np.eye(8)}, tempfile.mkdtemp(), load=lambda x: x,
    ...                          image_size=(4, 4), progress=False)   # doctest: +SKIP
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from course_utils.data import atomic_write_bytes

    if crop not in ("foreground", "roi", "none"):
        raise ValueError(f"crop must be 'foreground', 'roi' or 'none', got {crop!r}")
    if normalisation not in _NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {_NORMALISATIONS}, got {normalisation!r}")
    image_size = tuple(image_size)
    if len(image_size) != 2 or any(int(n) != n or n < 1 for n in image_size):
        raise ValueError(
            f"image_size must be (rows, cols) with positive integers, got {image_size!r}"
        )
    if not callable(load):
        raise TypeError(f"load must be a function, got {type(load).__name__}")
    if crop_size is not None and crop != "roi":
        raise ValueError(f"crop_size sets the side of crop='roi' squares; got crop={crop!r}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    items = list(cases.items()) if hasattr(cases, "items") else list(cases)
    if progress is None:
        progress = os.environ.get("COURSE_PROGRESS", "1") != "0"
    records = []
    for case_id, source in tqdm(items, desc="preprocessing", disable=not progress, leave=False):
        record = {
            "case_id": str(case_id),
            "status": "failed",
            "error": "",
            "input_shape": "",
            "crop_box": "",
            "output_shape": "",
            "normalisation": normalisation,
            "output_file": "",
        }
        try:
            loaded = load(source)
            loaded = loaded if isinstance(loaded, tuple) else (loaded,)
            image, mask, stats_mask = (tuple(loaded) + (None, None))[:3]
            image = _as_array(image, f"image of case {case_id}")
            record["input_shape"] = "x".join(map(str, image.shape))
            if mask is not None:
                mask = _as_mask(mask, f"mask of case {case_id}", shape=image.shape)
            if stats_mask is not None:
                stats_mask = _as_mask(stats_mask, f"stats_mask of case {case_id}", image.shape)
            if crop == "foreground":
                image, box = crop_to_foreground(image, margin=margin, return_box=True)
                mask = mask[box] if mask is not None else None
            elif crop == "roi":
                if mask is None:
                    raise ValueError("crop='roi' needs load() to return (image, mask)")
                if image.ndim != 2:
                    raise ValueError(f"crop='roi' works on 2-D images, got shape {image.shape}")
                side = crop_size(source, image) if callable(crop_size) else crop_size
                box = square_box_around(image.shape, mask, size=side)
                image, mask = image[box], mask[box]
            else:
                box = tuple(slice(0, n) for n in image.shape)
            record["crop_box"] = " ".join(f"{s.start}:{s.stop}" for s in box)
            stats_mask = stats_mask[box] if stats_mask is not None else None
            valid = None  # statistics only from real pixels, not from the padding
            if keep_aspect:
                resized, (scale, (top, left)) = resize_with_padding(
                    image,
                    image_size,
                    pad_value=float(image.min()),
                    return_transform=True,
                    anchor=pad_anchor,
                )
                inner_rows = max(1, round(image.shape[-2] * scale))
                inner_cols = max(1, round(image.shape[-1] * scale))
                valid = np.zeros(resized.shape, dtype=bool)
                valid[..., top : top + inner_rows, left : left + inner_cols] = True

                def fit(labels):
                    return resize_with_padding(
                        labels.astype(np.uint8), image_size, kind="mask", anchor=pad_anchor
                    )
            else:
                resized = resize_image(image, image_size)

                def fit(labels):
                    return resize_image(labels.astype(np.uint8), image_size, kind="mask")

            resized_mask = fit(mask) if mask is not None else None
            if stats_mask is not None:
                tissue = fit(stats_mask) > 0
                valid = tissue if valid is None else valid & tissue
                if not valid.any():
                    raise ValueError("stats_mask holds no pixel after cropping and resizing")
            normalised = _normalise(resized, normalisation, valid)
            arrays = {"image": normalised}
            if resized_mask is not None:
                arrays["mask"] = resized_mask.astype(np.uint8)
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **arrays)
            target = output_dir / f"{case_id}.npz"
            atomic_write_bytes(target, buffer.getvalue())
            if write_png:
                atomic_write_bytes(output_dir / f"{case_id}.png", _png_preview(normalised))
            record.update(
                status="ok",
                output_shape="x".join(map(str, normalised.shape)),
                output_file=target.name,
            )
        except _PROGRAMMING_ERRORS:
            raise  # a bug in the code, not a bad case: logging it for every case would hide it
        except Exception as exc:  # one bad case must not stop the dataset
            record["error"] = f"{type(exc).__name__}: {exc}"
        records.append(record)
    log = pd.DataFrame(records)
    text = io.StringIO()
    log.to_csv(text, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    atomic_write_bytes(output_dir / "preprocessing_log.csv", text.getvalue().encode("utf-8"))
    return log
