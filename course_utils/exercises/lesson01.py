"""Checks for ``01_intensities_and_histograms``.

Each check recomputes the reference from the image the student used and prints
specific feedback without giving the answer away.

Example
-------
>>> import numpy as np
>>> check_to_modality_values(lambda stored, slope, intercept: stored * slope + intercept)
✅ stored -> modality values: correct.
True
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from course_utils import checks

__all__ = [
    "check_to_modality_values",
    "check_bone_window",
    "check_equalize_from_cdf",
    "check_region_mask",
    "reference_region_mask",
]

BONE_HU = 300.0  # lower limit of bone (trabecular ~300-800 HU, cortical up to ~1900 HU)


# --------------------------------------------------------------------------- exercise 1
def check_to_modality_values(function, slope: float = 1.0, intercept: float = -1024.0) -> bool:
    """Check a function ``f(stored, slope, intercept)`` that applies the DICOM rescale.

    The function is tried on int16 CT-like values with the given slope and
    intercept, on uint16 values with a non-unit slope (as in MR2_UNCI.dcm), and
    on a scalar.

    Example
    -------
    >>> check_to_modality_values(lambda s, m, b: s + b)
    ❌ stored -> modality values: with slope 3.774 the values are off: the slope is not applied.
    False
    """
    name = "stored -> modality values"
    cases = [
        (
            np.array([[-2000, 0, 1024], [1064, 2000, 3071]], dtype=np.int16),
            float(slope),
            float(intercept),
        ),
        (np.array([[0, 1, 600], [4095, 17, 250]], dtype=np.uint16), 3.774114, 0.000061),
        (np.int16(1064), 1.0, -1024.0),
    ]
    for stored, case_slope, case_intercept in cases:
        ok, result = checks.call_student(
            function, stored.copy(), case_slope, case_intercept, name=name
        )
        if not ok:
            return False
        expected = stored.astype(np.float64) * case_slope + case_intercept
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the values.")
        result_array = np.asarray(result)
        if result_array.shape != expected.shape:
            return checks.feedback(
                False,
                name,
                f"returned shape {result_array.shape} for input of shape {stored.shape}.",
            )
        if np.allclose(result_array, expected, rtol=1e-6, atol=1e-3):
            continue
        if (
            np.allclose(result_array, stored.astype(np.float64) * case_slope, atol=1e-3)
            and case_intercept
        ):
            return checks.feedback(
                False, name, "the intercept is missing.", "value = stored * slope + intercept"
            )
        if np.allclose(result_array, stored.astype(np.float64) + case_intercept, atol=1e-3):
            return checks.feedback(
                False,
                name,
                f"with slope {case_slope:.4g} the values are off: the slope is not applied.",
            )
        if np.issubdtype(result_array.dtype, np.integer):
            return checks.feedback(
                False,
                name,
                f"the result has integer dtype {result_array.dtype} and some values are wrong "
                "(overflow or truncation).",
                "Convert to float before multiplying and adding.",
            )
        return checks.check_array(result_array, expected, name=name, rtol=1e-6, atol=1e-3)
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 2
def check_bone_window(window, hu_image) -> bool:
    """Check a (centre, width) CT window chosen to show bone in ``hu_image`` (HU).

    A good bone window keeps most bone (>= 300 HU) below pure white, gives the
    bone a good share of the grey levels, and shows brain/soft tissue (0-80 HU)
    in the darker half.

    Example
    -------
    >>> hu = np.concatenate([np.full(500, 40.0), np.linspace(300, 1500, 500)])
    >>> check_bone_window((400, 1800), hu)
    ✅ bone window: correct.
    True
    """
    name = "bone window"
    if window is None:
        return checks.feedback(False, name, "got None; set bone_window = (centre, width).")
    try:
        centre, width = (float(v) for v in window)
    except (TypeError, ValueError):
        return checks.feedback(
            False, name, f"expected a pair (centre, width) of numbers, got {window!r}."
        )
    if not (np.isfinite(centre) and np.isfinite(width)):
        return checks.feedback(False, name, "centre and width must be finite numbers.")
    if width <= 0:
        return checks.feedback(False, name, f"width must be positive, got {width:g}.")
    hu = np.asarray(hu_image, dtype=np.float64)
    bone = hu[hu >= BONE_HU]
    soft = hu[(hu >= 0) & (hu <= 80)]
    if bone.size == 0 or soft.size == 0:
        return checks.feedback(
            False, name, "this image has no bone or no soft tissue in HU; use the head CT."
        )
    lower, upper = centre - width / 2, centre + width / 2
    saturated = float(np.mean(bone >= upper))
    if saturated > 0.25:
        return checks.feedback(
            False,
            name,
            f"{saturated:.0%} of the bone pixels are pure white (above {upper:g} HU), so bone detail is lost.",
            "Raise the upper limit (centre + width/2).",
        )
    black = float(np.mean(bone <= lower))
    if black > 0.25:
        return checks.feedback(
            False,
            name,
            f"{black:.0%} of the bone pixels are pure black (below {lower:g} HU), so thinner bone vanishes.",
            "Lower the bottom of the window (centre - width/2).",
        )
    low_bone, high_bone = np.percentile(bone, [5, 95])
    share = (min(high_bone, upper) - max(low_bone, lower)) / width
    if share < 0.25:
        return checks.feedback(
            False,
            name,
            f"the bone occupies only {max(share, 0):.0%} of the grey levels; the window is too wide "
            "or misplaced.",
            "Narrow the width or move the centre towards the bone values.",
        )
    soft_grey = float(np.mean(np.clip((soft - lower) / width, 0, 1)))
    if soft_grey > 0.5:
        return checks.feedback(
            False,
            name,
            f"soft tissue is shown at {soft_grey:.0%} grey, brighter than mid-grey, so bone does not stand out.",
            "Move the centre up.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 3
def _reference_equalize(image) -> tuple[np.ndarray, np.ndarray]:
    """Two accepted normalisations: cdf / N and (cdf - cdf_min) / (N - cdf_min)."""
    image = np.asarray(image)
    offset = image.astype(np.int64) - int(image.min())
    counts = np.bincount(offset.ravel())
    cdf = np.cumsum(counts).astype(np.float64)
    plain = cdf[offset] / image.size
    cdf_min = cdf[0]
    denominator = image.size - cdf_min
    shifted = (cdf[offset] - cdf_min) / denominator if denominator > 0 else np.zeros(image.shape)
    return plain, shifted


def check_equalize_from_cdf(function, image_8bit=None, image_16bit=None) -> bool:
    """Check ``f(image) -> equalised image in [0, 1]`` built from the CDF of integer levels.

    The function is tried on an 8-bit and on a 16-bit image (the lesson's own
    images when given, otherwise small random ones). Both ``cdf / N`` and
    ``(cdf - cdf_min) / (N - cdf_min)`` are accepted.

    Example
    -------
    >>> def equalise(image):
    ...     levels = image.astype(np.int64) - image.min()
    ...     return (np.cumsum(np.bincount(levels.ravel())) / image.size)[levels]
    >>> check_equalize_from_cdf(equalise)
    ✅ equalisation from the CDF: correct.
    True
    """
    name = "equalisation from the CDF"
    rng = np.random.default_rng(1)
    if image_8bit is None:
        image_8bit = np.clip(rng.normal(90, 25, (64, 64)), 0, 255).astype(np.uint8)
    if image_16bit is None:
        image_16bit = np.clip(rng.gamma(2.0, 3000.0, (96, 96)), 0, 32767).astype(np.uint16)
    for label, image in (("8-bit", np.asarray(image_8bit)), ("16-bit", np.asarray(image_16bit))):
        if not np.issubdtype(image.dtype, np.integer):
            raise ValueError(
                f"the {label} test image must have an integer dtype, got {image.dtype}"
            )
        ok, result = checks.call_student(function, image.copy(), name=name)
        if not ok:
            return False
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the image.")
        result = np.asarray(result, dtype=np.float64)
        if result.shape != image.shape:
            return checks.feedback(
                False,
                name,
                f"on the {label} image the shape is {result.shape}, expected {image.shape}.",
            )
        if np.isnan(result).any():
            return checks.feedback(False, name, f"on the {label} image the result contains NaN.")
        if result.max() > 1.0 + 1e-6:
            return checks.feedback(
                False,
                name,
                f"on the {label} image values reach {result.max():.4g}; expected the range [0, 1].",
                "Divide the cumulative counts by the number of pixels.",
            )
        plain, shifted = _reference_equalize(image)
        if np.allclose(result, plain, atol=1e-6) or np.allclose(result, shifted, atol=1e-6):
            continue
        n_levels_in = len(np.unique(image))
        n_levels_out = len(np.unique(result))
        if label == "16-bit" and n_levels_out <= 256 < n_levels_in:
            return checks.feedback(
                False,
                name,
                f"on the 16-bit image ({n_levels_in} distinct values) your result has only "
                f"{n_levels_out} levels: a 256-entry table merged neighbouring values.",
                "Count every integer level (np.bincount of image - image.min()).",
            )
        correlation = np.corrcoef(result.ravel(), plain.ravel())[0, 1] if result.std() > 0 else 0.0
        message = f"on the {label} image the values differ from the CDF of the image"
        if correlation < 0:
            message += "; they even decrease as the input increases"
        return checks.feedback(
            False,
            name,
            message + ".",
            "out[pixel] = (number of pixels <= its value) / (number of pixels).",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 4
def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, n = ndi.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def reference_region_mask(image, target: str = "brain") -> np.ndarray:
    """The reference mask used by :func:`check_region_mask`.

    ``target="brain"``: CT values in 0-80 HU, opened, largest component, holes
    filled. ``target="foreground"``: values above Otsu's threshold, holes
    filled, largest component.

    Raises
    ------
    ValueError
        If ``image`` is not 2-D or ``target`` is unknown.
    """
    from skimage.filters import threshold_otsu

    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {image.shape}")
    if target == "brain":
        mask = (image >= 0) & (image <= 80)
        mask = ndi.binary_opening(mask, iterations=2)
        return ndi.binary_fill_holes(_largest_component(mask))
    if target == "foreground":
        mask = image > threshold_otsu(image)
        return _largest_component(ndi.binary_fill_holes(mask))
    raise ValueError(f"target must be 'brain' or 'foreground', got {target!r}")


def check_region_mask(mask, area_mm2, image, spacing_mm, *, target: str = "brain") -> bool:
    """Check a boolean mask of a region and its area in mm² (pixels² when no spacing).

    The mask must overlap the reference (:func:`reference_region_mask`) with an
    intersection-over-union of at least 0.85, and the area must equal the
    number of mask pixels times the pixel area (row spacing x column spacing)
    within 1 %.

    Example
    -------
    >>> image = np.zeros((20, 20)); image[5:15, 5:15] = 40.0
    >>> check_region_mask(image > 0, 100 * 0.25, image, (0.5, 0.5))
    ✅ region mask: correct.
    ✅ area: correct.
    True
    """
    image = np.asarray(image)
    if mask is None:
        return checks.feedback(False, "region mask", "got None; build a boolean mask first.")
    mask = np.asarray(mask)
    if mask.shape != image.shape:
        return checks.feedback(
            False, "region mask", f"shape is {mask.shape}, expected {image.shape} (the image's)."
        )
    if mask.dtype != bool:
        if not np.isin(np.unique(mask), [0, 1]).all():
            return checks.feedback(
                False, "region mask", "expected a boolean mask (True/False values only)."
            )
        mask = mask.astype(bool)
    reference = reference_region_mask(image, target)
    union = np.logical_or(mask, reference).sum()
    iou = np.logical_and(mask, reference).sum() / union if union else 1.0
    if iou < 0.85:
        overlap = np.logical_and(mask, reference).sum()
        inside = overlap / mask.sum() if mask.sum() else 0.0  # share of the mask that is right
        covered = overlap / reference.sum() if reference.sum() else 0.0  # share of the region found
        if inside >= 0.9 and covered < 0.9:
            detail = "it covers too little (eroded, holes not filled, or a smaller component kept?)"
        elif covered >= 0.9 and inside < 0.9:
            detail = "it covers too much (other structures still attached?)"
        else:
            detail = "its shape or position differs from the expected region"
        mask_ok = checks.feedback(
            False,
            "region mask",
            f"overlap with the expected region is {iou:.2f} (need >= 0.85): {detail}.",
        )
    else:
        mask_ok = checks.feedback(True, "region mask")
    if spacing_mm is None:
        pixel_area, unit = 1.0, "pixels"
    else:
        row_mm, col_mm = (float(v) for v in spacing_mm)
        pixel_area, unit = row_mm * col_mm, "mm²"
    area_ok = checks.check_scalar(
        area_mm2,
        float(mask.sum()) * pixel_area,
        name="area",
        rtol=0.01,
        unit=unit,
        hint="area = number of mask pixels x row spacing x column spacing (mm per pixel).",
    )
    return bool(mask_ok and area_ok)
