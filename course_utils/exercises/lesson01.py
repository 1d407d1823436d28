"""Checks for ``01_intensities_and_histograms``.

Each check recomputes the reference from the image the student used and prints
specific feedback without giving the answer away.

Example
-------
>>> import numpy as np
>>> def rescale(stored, slope, intercept):  # None: the tag is absent
...     slope = 1.0 if slope is None else slope
...     intercept = 0.0 if intercept is None else intercept
...     return np.asarray(stored, float) * slope + intercept
>>> check_to_modality_values(rescale)
✅ stored -> modality values: correct.
True
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from course_utils import checks

__all__ = [
    "check_to_modality_values",
    "check_apply_window",
    "check_bone_window",
    "check_equalize_from_cdf",
    "check_region_mask",
    "check_area",
    "check_smooth_mm",
    "opening_footprint",
    "reference_region_mask",
    "resample_square",
    "show_region_masks",
]

BONE_HU = 300.0  # lower limit of bone (trabecular ~300-800 HU, cortical up to ~1900 HU)


# --------------------------------------------------------------------------- exercise 1
def _modality_cases(slope: float, intercept: float):
    """(label, stored, slope, intercept) cases, each planted to catch one mistake."""
    return [
        (
            "int16 CT values",
            np.array([[-2000, 0, 1024], [1064, 2000, 3071]], dtype=np.int16),
            float(slope),
            float(intercept),
        ),
        (
            "uint16 MR values with slope 3.774114",
            np.array([[0, 1, 600], [4095, 17, 250]], dtype=np.uint16),
            3.774114,
            0.000061,
        ),
        # many CT scanners store unsigned values (PixelRepresentation 0) with intercept -1024,
        # and int(dataset.RescaleIntercept) or a header parsed by hand gives Python integers
        (
            "uint16 CT values with the integer intercept -1024",
            np.array([[0, 24, 1000], [1064, 2000, 4095]], dtype=np.uint16),
            1,
            -1024,
        ),
        (
            "uint16 values above 32767 (a 16-bit mammogram)",
            np.array([[0, 1000, 32767], [32768, 40000, 65535]], dtype=np.uint16),
            1.0,
            0.0,
        ),
        ("a single stored value", np.int16(1064), 1.0, -1024.0),
        # a radiograph without rescale tags: header.get("RescaleSlope") gives None
        (
            "uint16 radiograph values without rescale tags (slope and intercept None)",
            np.array([[0, 512, 1023], [2048, 4095, 32768]], dtype=np.uint16),
            None,
            None,
        ),
    ]


def check_to_modality_values(function, slope: float = 1.0, intercept: float = -1024.0) -> bool:
    """Check a function ``f(stored, slope, intercept)`` that applies the DICOM rescale.

    The function is tried on int16 CT values (with ``slope``/``intercept``), on uint16
    MR values with a non-unit slope, on uint16 CT values with the *integer* intercept
    -1024 (numpy keeps uint16 arithmetic in uint16: negative results overflow), on
    uint16 values above 32767 (a cast to int16 wraps them), on a scalar and on a radiograph
    without rescale tags (``slope`` and ``intercept`` None, what ``header.get`` gives: the
    stored values are the values). Each failure names the mistake.

    Example
    -------
    >>> check_to_modality_values(lambda s, m, b: s + b)
    ❌ stored -> modality values: on uint16 MR values with slope 3.774114 the values are off: the slope is not applied.
    False
    """
    name = "stored -> modality values"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    for label, stored, given_slope, given_intercept in _modality_cases(slope, intercept):
        absent = given_slope is None  # no rescale tags: slope 1, intercept 0
        case_slope = 1.0 if given_slope is None else given_slope
        case_intercept = 0.0 if given_intercept is None else given_intercept
        expected = np.asarray(stored, dtype=np.float64) * case_slope + case_intercept
        try:
            result = function(stored.copy(), given_slope, given_intercept)
        except NotImplementedError:
            return checks.feedback(
                False, name, "not implemented yet (it still raises NotImplementedError)."
            )
        except OverflowError as exc:
            return checks.feedback(
                False,
                name,
                f"on {label} numpy raised OverflowError ({exc}): the arithmetic stayed in the "
                f"stored dtype {stored.dtype}, which cannot hold the result.",
                "Convert the stored values to a floating-point dtype before multiplying and adding.",
            )
        except TypeError as exc:
            if absent:
                return checks.feedback(
                    False,
                    name,
                    f"on {label} it raised TypeError ({exc}): None was used as a number.",
                    "None means the tag is absent; the standard's default applies then.",
                )
            return checks.feedback(False, name, f"on {label} it raised TypeError: {exc}")
        except Exception as exc:  # the student's code failed: say how, do not crash the check
            return checks.feedback(False, name, f"on {label} it raised {type(exc).__name__}: {exc}")
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the values.")
        result_array = np.asarray(result)
        if result_array.shape != expected.shape:
            return checks.feedback(
                False,
                name,
                f"on {label} it returned shape {result_array.shape} for input of shape "
                f"{np.shape(stored)}.",
            )
        if not np.issubdtype(result_array.dtype, np.number):
            return checks.feedback(
                False, name, f"returned dtype {result_array.dtype}; expected numbers."
            )
        if np.allclose(result_array, expected, rtol=1e-6, atol=1e-3):
            continue
        if absent:
            return checks.feedback(
                False,
                name,
                f"on {label} the values are wrong: with no rescale tags the stored values are "
                "the modality values.",
                "None means the tag is absent; which slope and intercept change nothing?",
            )
        as_float = np.asarray(stored, dtype=np.float64)
        if case_slope != case_intercept and np.allclose(
            result_array, as_float * case_intercept + case_slope, rtol=1e-6, atol=1e-3
        ):
            return checks.feedback(
                False,
                name,
                f"on {label} the stored values were multiplied by the intercept: slope and "
                "intercept are swapped.",
                "value = stored * slope + intercept",
            )
        if case_intercept and np.allclose(result_array, as_float * case_slope, atol=1e-3):
            return checks.feedback(
                False,
                name,
                f"on {label} the intercept is missing.",
                "value = stored * slope + intercept",
            )
        if case_slope != 1 and np.allclose(result_array, as_float + case_intercept, atol=1e-3):
            return checks.feedback(
                False, name, f"on {label} the values are off: the slope is not applied."
            )
        if np.issubdtype(result_array.dtype, np.unsignedinteger) and (expected < 0).any():
            return checks.feedback(
                False,
                name,
                f"on {label} the result is {result_array.dtype}: the negative values wrapped "
                "around to large positive ones (unsigned overflow).",
                "Convert to float before the arithmetic, and do not cast the result back.",
            )
        if (expected > 32767).any() and (result_array[expected > 32767] < 0).any():
            return checks.feedback(
                False,
                name,
                f"on {label} values above 32767 came out negative: casting uint16 to int16 wraps them.",
                "Convert to float (float64 or float32) rather than to int16.",
            )
        if np.allclose(result_array, np.round(expected), atol=1e-9):
            return checks.feedback(
                False,
                name,
                f"on {label} the values are rounded to whole numbers; with a non-integer slope "
                "the modality values have fractions.",
                "Return the floating-point result as it is.",
            )
        if np.issubdtype(result_array.dtype, np.integer):
            return checks.feedback(
                False,
                name,
                f"on {label} the result has integer dtype {result_array.dtype} and some values are "
                "wrong: the fractional part was cut off or the values overflowed.",
                "Return floating-point values; do not cast back to the stored dtype.",
            )
        return checks.check_array(result_array, expected, name=name, rtol=1e-6, atol=1e-3)
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 2
def _plain_window(hu, centre: float, width: float) -> np.ndarray:
    """The plain form of section 2: black at centre - width/2, white at centre + width/2."""
    return np.clip((hu - (centre - width / 2)) / width, 0.0, 1.0)


def _window_reference(hu, centre: float, width: float) -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2 LINEAR, output 0..1 (width 1: a threshold at centre - 0.5)."""
    hu = np.asarray(hu, dtype=np.float64)
    if width <= 1:
        return (hu > centre - 0.5).astype(np.float64)
    ramp = (hu - (centre - 0.5)) / (width - 1) + 0.5
    return np.clip(ramp, 0.0, 1.0)


def _ramp_ends(hu: np.ndarray, result: np.ndarray) -> tuple[float, float]:
    """HU where the (increasing) result leaves 0 and where it reaches 1."""
    low = hu[result > 1e-6]
    high = hu[result >= 1 - 1e-6]
    return (float(low.min()) if low.size else np.nan, float(high.min()) if high.size else np.nan)


def check_apply_window(function) -> bool:
    """Check ``f(hu, centre, width) -> brightness in [0, 1]`` (0 = black, 1 = white).

    The window is DICOM's LINEAR function (PS3.3 C.11.2.1.2): black at and below
    ``centre - 0.5 - (width - 1) / 2``, white above ``centre - 0.5 + (width - 1) / 2``. Tried on
    integer HU values (plus one value exactly at ``centre - 0.5``) with a lung, a brain, a 2 HU
    and a 1 HU window (a pure threshold), with numpy's floating-point errors raised. Each
    failure names the mistake: the plain form of section 2, a division by zero at width 1
    (the missing special case), no clip, ``width`` used where ``width / 2`` belongs, an inverted slope, 0-255 instead of 0-1,
    the input array changed in place.

    Example
    -------
    >>> def linear(hu, c, w):
    ...     if w == 1:
    ...         return (hu > c - 0.5).astype(float)
    ...     return np.clip((hu - (c - 0.5)) / (w - 1) + 0.5, 0, 1)
    >>> check_apply_window(linear)
    ✅ window function: correct.
    True
    """
    name = "window function"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    for centre, width in ((-600.0, 1500.0), (40.0, 80.0), (40.0, 2.0), (40.0, 1.0)):  # not bone
        # integer HU, as a CT stores them, and the value at centre - 0.5, where LINEAR's ramp is
        # anchored: at width 1 a formula without the special case divides 0 by 0 there
        hu = np.append(np.arange(-3000.0, 4001.0), centre - 0.5)
        lower = centre - width / 2
        label = f"window {centre:g}/{width:g}"
        given = hu.copy()
        try:
            with np.errstate(divide="raise", invalid="raise"):
                result = function(given, centre, width)
        except NotImplementedError:
            return checks.feedback(
                False, name, "not implemented yet (it still raises NotImplementedError)."
            )
        except (FloatingPointError, ZeroDivisionError) as exc:
            return checks.feedback(
                False,
                name,
                f"with {label} it divided by zero ({type(exc).__name__}: {exc}); in the notebook "
                "this prints a RuntimeWarning and gives inf or nan.",
                "The standard treats width 1 separately: a threshold, black or white only.",
            )
        except Exception as exc:
            return checks.feedback(
                False, name, f"with {label} it raised {type(exc).__name__}: {exc}"
            )
        if result is None:
            return checks.feedback(
                False, name, "your function returned None; `return` the brightness."
            )
        if not np.array_equal(given, hu):
            return checks.feedback(
                False,
                name,
                "it changed the HU array it was given (an in-place operation).",
                "Compute a new array; the HU values are needed again for measurements.",
            )
        result = np.asarray(result, dtype=np.float64)
        if result.shape != hu.shape:
            return checks.feedback(
                False, name, f"the shape is {result.shape}, expected the input's {hu.shape}."
            )
        expected = _window_reference(hu, centre, width)
        if np.allclose(result, expected, atol=1e-6):
            continue
        if not np.all(np.isfinite(result)):
            return checks.feedback(
                False,
                name,
                f"with {label} some values are nan or infinite: a division by zero?",
                "The standard treats width 1 separately: a threshold, black or white only.",
            )
        if width <= 1 and np.allclose(result, hu >= centre - 0.5, atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"with {label} the value exactly at centre - 0.5 = {centre - 0.5:g} HU came out "
                "white: your width-1 threshold uses >=.",
                "The standard's threshold is strict (>): the value at centre - 0.5 is black.",
            )
        if np.allclose(result, _plain_window(hu, centre, width), atol=1e-6):
            worst = np.abs(result - expected).max()
            return checks.feedback(
                False,
                name,
                f"with {label} this is the plain form of section 2 (ends at centre -/+ width/2); "
                f"it differs from the standard's LINEAR function by up to {worst:.3f}.",
                "Read PS3.3 C.11.2.1.2 again: where does it put the two ends, and what does it "
                "divide by?",
            )
        if np.allclose(result / 255, expected, atol=1e-3):
            return checks.feedback(
                False,
                name,
                f"with {label} the values go up to {result.max():.0f}: that is 0-255.",
                "Return display brightness in [0, 1]; plotting maps it to grey.",
            )
        if np.allclose(result, 1 - expected, atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"with {label} the brightness falls as HU rises: the slope is inverted.",
                "In a CT window high HU (bone) is white: brightness rises with HU.",
            )
        unclipped = [(hu - lower) / width]
        if width > 1:
            unclipped.append((hu - (centre - 0.5)) / (width - 1) + 0.5)
        if result.min() < -1e-6 or result.max() > 1 + 1e-6:
            cause = (
                "the clip is missing"
                if any(np.allclose(result, u, atol=1e-6) for u in unclipped)
                else "values outside the window are not clipped"
            )
            return checks.feedback(
                False,
                name,
                f"with {label} the values span {result.min():.3g}..{result.max():.3g}: {cause}.",
                "Everything below the window is black (0), everything above it white (1): np.clip.",
            )
        start, end = _ramp_ends(hu, result)
        ramp = (result > 0.05) & (result < 0.95)
        slope = float(np.polyfit(hu[ramp], result[ramp], 1)[0]) if ramp.sum() > 2 else 0.0
        if abs(slope * width - 0.5) < 0.05:
            return checks.feedback(
                False,
                name,
                f"with {label} the grey ramp runs from {start:.0f} to {end:.0f} HU, twice the width: "
                "centre - width and centre + width were used.",
                "The window reaches width / 2 on each side of the centre.",
            )
        if np.isfinite(start) and np.isfinite(end):
            return checks.feedback(
                False,
                name,
                f"with {label} the grey ramp runs from {start:.0f} to {end:.0f} HU.",
                "The standard: black at and below centre - 0.5 - (width - 1)/2, white above "
                "centre - 0.5 + (width - 1)/2, a straight line between.",
            )
        return checks.feedback(
            False, name, f"with {label} the values differ from a linear window clipped to [0, 1]."
        )
    return checks.feedback(True, name)


LOW_HU_SHARE_MAX = 0.25  # a bone window gives at most a quarter of its grey levels to < -200 HU


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
    low_share = (min(-200.0, upper) - lower) / width if lower < -200 else 0.0
    if low_share > LOW_HU_SHARE_MAX:
        return checks.feedback(
            False,
            name,
            f"{low_share:.0%} of the grey scale lies below -200 HU (the window starts at {lower:g} HU): "
            "air and fat, where there is no bone, so the window is too wide and too low.",
            "Raise the bottom of the window and narrow it; the bone tail starts near 300 HU.",
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


def _default_equalisation_images() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    return [
        ("15-bit image", np.clip(rng.gamma(2.0, 3000.0, (96, 96)), 0, 32767).astype(np.uint16)),
        ("signed CT image", np.clip(rng.normal(0, 600, (64, 64)), -2000, 3000).astype(np.int16)),
    ]


def check_equalize_from_cdf(function, *images) -> bool:
    """Check ``f(image) -> equalised image in [0, 1]`` built from the CDF of every integer level.

    The function is tried on each of ``images`` (the lesson passes its 15-bit radiograph
    and the CT's signed stored values), or on a generated 15-bit image; a generated signed
    image (values down to -2000) is added whenever none of the images has negative values.
    Both ``cdf / N`` and ``(cdf - cdf_min) / (N - cdf_min)`` are accepted. Each failure
    names the mistake: the histogram instead of its running sum, an output that does not
    grow with the input, a 256-level table, a forgotten shift for negative values, the
    table returned instead of the image, a strict ``<`` count, a result outside [0, 1].

    Raises
    ------
    ValueError
        If a test image does not have an integer dtype.

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
    cases = [(_describe_image(image), np.asarray(image)) for image in images]
    if not any(np.asarray(image).min() < 0 for _, image in cases):  # always one signed image
        cases += [case for case in _default_equalisation_images() if case[1].min() < 0]
    if not images:
        cases = _default_equalisation_images()
    for label, image in cases:
        if not np.issubdtype(image.dtype, np.integer):
            raise ValueError(
                f"the {label} test image must have an integer dtype, got {image.dtype}"
            )
        if not callable(function):
            return checks.feedback(
                False, name, f"expected a function, got {type(function).__name__}."
            )
        try:
            result = function(image.copy())
        except NotImplementedError:
            return checks.feedback(
                False, name, "not implemented yet (it still raises NotImplementedError)."
            )
        except (ValueError, IndexError) as exc:
            if image.min() < 0:
                return checks.feedback(
                    False,
                    name,
                    f"on the {label}, whose values go below zero, it raised {type(exc).__name__}: "
                    "np.bincount and table indices need non-negative integers.",
                    "Shift the values so that the smallest one becomes table index 0.",
                )
            return checks.feedback(
                False, name, f"on the {label} it raised {type(exc).__name__}: {exc}"
            )
        except Exception as exc:
            return checks.feedback(
                False, name, f"on the {label} it raised {type(exc).__name__}: {exc}"
            )
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the image.")
        result = np.asarray(result, dtype=np.float64)
        if result.shape != image.shape:
            extra = (
                " That looks like the table itself: look each pixel up in it."
                if result.ndim == 1
                else ""
            )
            return checks.feedback(
                False,
                name,
                f"on the {label} the shape is {result.shape}, expected the image's {image.shape}.{extra}",
            )
        if np.isnan(result).any():
            return checks.feedback(False, name, f"on the {label} the result contains NaN.")
        if result.max() > 1.0 + 1e-6 or result.min() < -1e-6:
            return checks.feedback(
                False,
                name,
                f"on the {label} values span {result.min():.4g}..{result.max():.4g}; expected the range [0, 1].",
                "A CDF is a fraction of the pixels.",
            )
        plain, shifted = _reference_equalize(image)
        if np.allclose(result, plain, atol=1e-6) or np.allclose(result, shifted, atol=1e-6):
            continue
        offset = image.astype(np.int64) - int(image.min())
        counts = np.bincount(offset.ravel())
        histogram = counts[offset] / image.size  # each pixel's own bin, not the running sum
        if np.allclose(result, histogram, atol=1e-6) or np.allclose(
            result / max(result.max(), 1e-12), histogram / histogram.max(), atol=1e-6
        ):
            return checks.feedback(
                False,
                name,
                f"on the {label} each pixel got the share of pixels with exactly its value: "
                "that is the histogram, not its running sum.",
                "The CDF adds up the counts of all levels up to v (np.cumsum).",
            )
        if _is_256_bin_interpolation(result, image):
            return checks.feedback(
                False,
                name,
                f"on the {label} the result matches a CDF of 256 bins interpolated between bins "
                "(what equalize_hist does with a float image, or np.interp over a 256-bin CDF).",
                "Count every integer level: np.bincount of the shifted integer image, no float.",
            )
        order = np.argsort(image.ravel(), kind="stable")
        monotonic = bool(np.all(np.diff(result.ravel()[order]) >= -1e-9))
        if not monotonic and image.min() < 0:
            wrapped = np.argsort(image.astype(np.uint64).ravel(), kind="stable")
            if np.all(np.diff(result.ravel()[wrapped]) >= -1e-9):
                return checks.feedback(
                    False,
                    name,
                    f"on the {label} the output rises with the values as an unsigned cast sees "
                    "them: negative values cast to an unsigned type wrapped to large ones.",
                    "Shift by the minimum (image.astype(np.int64) - image.min()) instead of casting.",
                )
        if not monotonic:
            correlation = np.corrcoef(result.ravel(), plain.ravel())[0, 1] if result.std() else 0.0
            trend = "; they even decrease as the input increases" if correlation < 0 else ""
            return checks.feedback(
                False,
                name,
                f"on the {label} a higher input value sometimes gets a lower output{trend}: "
                "a CDF never decreases.",
                "Each output pixel is the fraction of all pixels whose value is <= its own.",
            )
        n_levels_in = len(np.unique(image))
        n_levels_out = len(np.unique(result))
        if n_levels_out <= 256 < n_levels_in:
            return checks.feedback(
                False,
                name,
                f"on the {label} ({n_levels_in} distinct values) your result has only "
                f"{n_levels_out} levels: a 256-entry table merged neighbouring values.",
                "The table needs one entry per integer level between the smallest and the largest value.",
            )
        below = (np.cumsum(counts) - counts)[offset] / image.size
        if np.allclose(result, below, atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"on the {label} each pixel got the fraction of pixels strictly below its value.",
                "The CDF at v counts the pixels <= v, the pixel's own value included.",
            )
        return checks.feedback(
            False,
            name,
            f"on the {label} the values differ from the CDF of the image.",
            "Each output pixel is the fraction of all pixels whose value is <= its own.",
        )
    if getattr(function, "__module__", "").startswith("skimage"):
        return checks.feedback(
            True,
            name,
            "That is the library call itself, though: build the table yourself from "
            "np.bincount and np.cumsum.",
        )
    return checks.feedback(True, name)


def _is_256_bin_interpolation(result: np.ndarray, image: np.ndarray) -> bool:
    """True if ``result`` is close to a 256-bin CDF interpolated at each value (float input)."""
    values = image.astype(np.float64).ravel()
    counts, edges = np.histogram(values, bins=256)
    cdf = np.cumsum(counts) / values.size
    centres = (edges[:-1] + edges[1:]) / 2
    from skimage.exposure import equalize_hist

    candidates = [
        np.interp(values, centres, cdf),
        np.interp(values, edges[1:], cdf),
        equalize_hist(image.astype(np.float64)).ravel(),
    ]
    return any(np.allclose(result.ravel(), c, atol=1e-6) for c in candidates)


def _describe_image(image) -> str:
    image = np.asarray(image)
    if image.min() < 0:
        return f"signed {image.dtype} image"
    bits = max(int(image.max()).bit_length(), 1)
    return f"{image.dtype} image with values up to {bits} bits"


# --------------------------------------------------------------------------- exercise 4
BRAIN_BAND_HU = (20.0, 80.0)  # grey and white matter (and fresh blood); CSF is about 0-15 HU
OPENING_MM = 1.0
OPENING_MM_ACCEPTED = (0.7, 1.3)  # whole pixels: round(1 mm / spacing) lands in here
SECOND_SPACING_MM = 0.25  # the student's function also runs on the slice resampled to this
WORKED_EXAMPLE_MM = 2.0  # the opening of the lesson's worked example (clean_mask)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, n = ndi.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def opening_footprint(spacing_mm, radius_mm: float = OPENING_MM) -> np.ndarray:
    """Elliptical footprint of ``radius_mm`` on a grid of ``(row, column)`` spacing in mm.

    Each semi-axis is ``round(radius_mm / spacing)`` pixels (at least 1), so the
    footprint is a disk in millimetres also when the pixels are not square.

    Example
    -------
    >>> opening_footprint((0.5, 0.5)).shape
    (5, 5)
    >>> opening_footprint((1.0, 0.5)).shape
    (3, 5)
    """
    rows, cols = (max(1, round(radius_mm / float(s))) for s in spacing_mm)
    y, x = np.ogrid[-rows : rows + 1, -cols : cols + 1]
    return (y / rows) ** 2 + (x / cols) ** 2 <= 1.0


def resample_square(image, spacing_mm, new_spacing_mm: float = SECOND_SPACING_MM):
    """The same 2-D image on a grid of square pixels of about ``new_spacing_mm``.

    Linear interpolation (``scipy.ndimage.zoom``, ``order=1``). Returns the image and
    its exact ``(row, column)`` spacing in mm (the grid has a whole number of pixels).

    Example
    -------
    >>> finer, spacing = resample_square(np.zeros((10, 10)), (0.5, 0.5), 0.25)
    >>> finer.shape, spacing
    ((20, 20), (0.25, 0.25))
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {image.shape}")
    row_mm, col_mm = (float(v) for v in spacing_mm)
    resampled = ndi.zoom(image, (row_mm / new_spacing_mm, col_mm / new_spacing_mm), order=1)
    spacing = (
        row_mm * image.shape[0] / resampled.shape[0],
        col_mm * image.shape[1] / resampled.shape[1],
    )
    return resampled, spacing


def _opened_brain(image, spacing_mm, radius_mm: float) -> np.ndarray:
    low, high = BRAIN_BAND_HU
    band = (image >= low) & (image <= high)
    opened = ndi.binary_opening(band, opening_footprint(spacing_mm, radius_mm))
    return ndi.binary_fill_holes(_largest_component(opened))


def _iou(first: np.ndarray, second: np.ndarray) -> float:
    union = np.logical_or(first, second).sum()
    return float(np.logical_and(first, second).sum() / union) if union else 1.0


def _opening_slip(mask, image, spacing_mm) -> str | None:
    """Name a wrongly sized opening: the brain mask matches another radius better than 1 mm.

    Tries disks of 1, 2, ... pixels (up to 2.5 mm) and takes the one whose brain mask is
    most like ``mask``; returns a message when that radius is outside
    ``OPENING_MM_ACCEPTED`` and matches clearly better (IoU >= 0.99) than the 1 mm one.
    """
    reference = _opened_brain(image, spacing_mm, OPENING_MM)
    iou_reference = _iou(mask, reference)
    if iou_reference >= 0.999:
        return None
    step = min(float(v) for v in spacing_mm)
    trials = []
    for radius_px in range(1, max(2, round(2.5 / step)) + 1):
        candidate = _opened_brain(image, spacing_mm, radius_px * step)
        # ties go to the radius nearest 1 mm
        trials.append((_iou(mask, candidate), -abs(radius_px * step - OPENING_MM), radius_px))
    iou_best, _, radius_px = max(trials)
    radius_mm = radius_px * step
    low, high = OPENING_MM_ACCEPTED
    if iou_best < 0.99 or iou_best <= iou_reference + 0.001 or low <= radius_mm <= high:
        return None
    where = f"at a pixel spacing of {step:.2f} mm your mask matches an opening with a disk of "
    where += f"{radius_px} pixel{'s' if radius_px > 1 else ''} ({radius_mm:.2f} mm)"
    if radius_px == 1:
        return where + ": the radius looks like 1 pixel, not 1 mm"
    if abs(radius_mm - WORKED_EXAMPLE_MM) <= 0.3:
        return where + ": that is the worked example's 2 mm opening (clean_mask), not 1 mm"
    return where + ": a radius fixed in pixels, or not rounded to the nearest pixel"


def _order_slip(mask, image, spacing_mm, function=None) -> str | None:
    """Name the slip that makes the mask the whole inside of the skull, when ``mask`` matches one.

    Compares ``mask`` pixel by pixel with the mask each slip gives: no opening at all; holes
    filled before the opening; a band from 0 HU (opened, then filled). On the course's slice the
    last two give exactly the same pixels; with ``function`` they are told apart by running it
    on the slice with every 0-19 HU pixel (CSF) set to -500 HU: a band from 0 HU then gives the
    brain, holes filled first still the whole inside. Without ``function`` both are named.
    """
    low, high = BRAIN_BAND_HU
    band = (image >= low) & (image <= high)
    footprint = opening_footprint(spacing_mm, OPENING_MM)
    slips = {
        "no opening at all (the thin rim along the skull joins the brain)": [
            _largest_component(ndi.binary_fill_holes(band)),
            ndi.binary_fill_holes(_largest_component(band)),
        ],
        "holes filled before the opening (the rim closes a ring and the filling swallows what "
        "it encloses; open first, then fill)": [
            _largest_component(ndi.binary_opening(ndi.binary_fill_holes(band), footprint))
        ],
        "a band that starts at 0 HU and takes in the CSF (the brain band starts at "
        f"{low:.0f} HU)": [_opened_brain_band(image, spacing_mm, (0.0, high))],
    }
    differences = {
        slip: min(int(np.logical_xor(mask, c).sum()) for c in candidates)
        for slip, candidates in slips.items()
    }
    best = min(differences.values())
    if best > 0.01 * max(int(mask.sum()), 1):  # more than 1 % of the mask away from every slip
        return None
    named = [slip for slip, difference in differences.items() if difference == best]
    if len(named) == 2 and function is not None:
        no_csf = np.where((image >= 0) & (image < low), -500.0, image)
        try:
            trial = np.asarray(function(no_csf, spacing_mm), dtype=bool)
        except Exception:  # the student's function fails here: keep both names
            trial = None
        if trial is not None and trial.shape == image.shape:
            brain = _opened_brain(no_csf, spacing_mm, OPENING_MM)
            named = [named[1]] if _iou(trial, brain) >= 0.95 else [named[0]]
    return (
        "it covers too much: your mask is what "
        + " or ".join(named)
        + " gives"
        + (" (on this slice both give the same pixels)" if len(named) > 1 else "")
    )


def _opened_brain_band(image, spacing_mm, band_hu) -> np.ndarray:
    low, high = band_hu
    band = (image >= low) & (image <= high)
    opened = ndi.binary_opening(band, opening_footprint(spacing_mm, OPENING_MM))
    return ndi.binary_fill_holes(_largest_component(opened))


def reference_region_mask(
    image, target: str = "brain", *, spacing_mm=None, photometric: str | None = None
) -> np.ndarray:
    """The reference mask used by :func:`check_region_mask`.

    ``target="brain"``: CT values in 20-80 HU (brain tissue; CSF and a low-density
    collection are below it), opened with a 1 mm disk (:func:`opening_footprint`,
    needs ``spacing_mm``) to cut the thin rim of partial-volume pixels along the
    skull, largest component, holes filled (the ventricles count as brain).
    ``target="foreground"``: the body on a radiograph: pixels on the body's side of
    Otsu's threshold (below it for ``photometric="MONOCHROME1"``, where the body is
    bright and stored low; above it otherwise), holes filled, largest component.

    Raises
    ------
    ValueError
        If ``image`` is not 2-D, ``target`` is unknown, or ``spacing_mm`` is missing
        for ``target="brain"``.
    """
    from skimage.filters import threshold_otsu

    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {image.shape}")
    if target == "brain":
        if spacing_mm is None:
            raise ValueError("target='brain' needs spacing_mm (the opening is 1 mm)")
        return _opened_brain(image, spacing_mm, OPENING_MM)
    if target == "foreground":
        threshold = threshold_otsu(image)
        mask = image < threshold if photometric == "MONOCHROME1" else image > threshold
        return _largest_component(ndi.binary_fill_holes(mask))
    raise ValueError(f"target must be 'brain' or 'foreground', got {target!r}")


def _area_mistake(answer: float, expected: float, spacing_mm) -> str | None:
    """Name the usual unit slip when ``answer/expected`` matches it (within 1 %)."""
    if expected == 0 or spacing_mm is None:
        return None
    row_mm, col_mm = (float(v) for v in spacing_mm)
    ratio = answer / expected
    slips = [
        (
            1 / (row_mm * col_mm),
            "it looks like the number of pixels: multiply by the area of one pixel",
        ),
        (
            1 / row_mm,
            "it looks like only one spacing was used: a pixel's area is row x column spacing",
        ),
        (
            1 / col_mm,
            "it looks like only one spacing was used: a pixel's area is row x column spacing",
        ),
        (1 / 100, "it looks like cm²: the spacing is in mm, so the area is in mm²"),
        (row_mm * col_mm, "it looks like the pixel area was divided by, not multiplied"),
    ]
    for factor, message in slips:
        if abs(factor - 1) > 0.02 and abs(ratio / factor - 1) < 0.01:
            return message
    return None


def check_area(area, mask, spacing_mm) -> bool:
    """Check the area of ``mask``: pixels x row spacing x column spacing (pixels if no spacing).

    Names the usual slip (a pixel count, one spacing only, cm²) and says only
    "too high"/"too low" otherwise, never by how much.

    Example
    -------
    >>> check_area(25.0, np.ones((10, 10), bool), (0.5, 0.5))
    ✅ area: correct.
    True
    >>> check_area(100.0, np.ones((10, 10), bool), (0.5, 0.5))
    ❌ area: it looks like the number of pixels: multiply by the area of one pixel.
    False
    """
    mask = np.asarray(mask, dtype=bool)
    unit = "pixels" if spacing_mm is None else "mm²"
    if spacing_mm is None:
        expected = float(mask.sum())
    else:
        row_mm, col_mm = (float(v) for v in spacing_mm)
        expected = float(mask.sum()) * row_mm * col_mm
    if area is None:
        return checks.feedback(False, "area", "got None; compute the area from your mask.")
    try:
        value = float(area)
    except (TypeError, ValueError):
        return checks.feedback(
            False, "area", f"expected a single number, got {type(area).__name__}."
        )
    if not np.isfinite(value):
        return checks.feedback(False, "area", f"got {value}.")
    if abs(value - expected) <= 0.01 * max(abs(expected), 1e-12):
        return checks.feedback(True, "area")
    mistake = _area_mistake(value, expected, spacing_mm)
    if mistake is not None:
        return checks.feedback(False, "area", mistake + ".")
    direction = "too high" if value > expected else "too low"
    return checks.feedback(
        False,
        "area",
        f"{value:.4g} {unit} is {direction} for your mask.",
        "area = number of mask pixels x row spacing x column spacing (mm per pixel).",
    )


def _mask_feedback(mask, reference, target, photometric, where: str = "") -> str | None:
    """None when ``mask`` overlaps ``reference`` with IoU >= 0.9, else what is wrong."""
    overlap = np.logical_and(mask, reference).sum()
    if _iou(mask, reference) >= 0.9:
        return None
    inside = overlap / mask.sum() if mask.sum() else 0.0  # share of the mask that is right
    covered = overlap / reference.sum() if reference.sum() else 0.0  # share of the region found
    if target == "foreground" and inside < 0.5:
        detail = (
            "it is mostly outside the body: on MONOCHROME1 the body is stored *low* "
            "(less exposure), so keep the pixels below the threshold"
            if photometric == "MONOCHROME1"
            else "it is mostly outside the body: which side of the threshold is the body?"
        )
    elif inside >= 0.9 and covered < 0.9 and _iou(ndi.binary_fill_holes(mask), reference) >= 0.99:
        detail = (
            "the enclosed holes (the ventricles) are missing: fill the holes "
            "(ndi.binary_fill_holes) after the opening"
        )
    elif inside >= 0.9 and covered < 0.9:
        detail = (
            "it covers too little (band too narrow, opening too large, holes not filled, "
            "or a smaller component kept?)"
        )
    elif covered >= 0.9 and inside < 0.9:
        detail = (
            "it covers too much (no opening, or one too small, so the rim along the skull "
            "still closes a ring that filling then swallows? or the band too wide?)"
            if target == "brain"
            else "it covers too much (other structures still attached, or not the largest "
            "component?)"
        )
    else:
        detail = "its shape or position differs from the expected region"
    return f"{where}overlap with the expected region is too small: {detail}"


def _as_mask(mask, shape, what: str) -> tuple[np.ndarray | None, str | None]:
    """``mask`` as a boolean array of ``shape``, or None and what is wrong with it."""
    if mask is None:
        return None, f"{what}: got None; build a boolean mask (and return it)."
    mask = np.asarray(mask)
    if mask.shape != shape:
        return None, f"{what} has shape {mask.shape}, expected {shape} (the image's)."
    if mask.dtype != bool:
        if not np.isin(np.unique(mask), [0, 1]).all():
            return None, f"{what}: expected a boolean mask (True/False values only)."
        mask = mask.astype(bool)
    return mask, None


def check_region_mask(
    mask,
    area_mm2,
    image,
    spacing_mm,
    *,
    target: str = "brain",
    photometric: str | None = None,
    function=None,
) -> bool:
    """Check a boolean mask of a region and its area in mm² (pixels when no spacing).

    The mask must overlap the reference (:func:`reference_region_mask`) with an
    intersection-over-union of at least 0.9, and the area must equal the number of
    mask pixels times the pixel area (row spacing x column spacing) within 1 %
    (:func:`check_area`). For ``target="brain"`` an opening whose radius is not
    about 1 mm (1 pixel, the worked example's 2 mm, a radius fixed in pixels) is
    named. With ``function`` (``f(hu, spacing_mm) -> mask``) the student's function
    also runs on the slice resampled to 0.25 mm pixels (:func:`resample_square`),
    where a radius left in pixels no longer matches 1 mm.

    Example
    -------
    >>> rows, cols = np.mgrid[:40, :40]
    >>> image = np.where((rows - 20) ** 2 + (cols - 20) ** 2 <= 100, 40.0, -1000.0)
    >>> check_region_mask(image > 0, (image > 0).sum() * 0.25, image, (0.5, 0.5))
    ✅ region mask: correct.
    ✅ area: correct.
    True
    """
    name = "region mask"
    image = np.asarray(image)
    mask, problem = _as_mask(mask, image.shape, "the mask")
    if problem:
        return checks.feedback(False, name, problem)
    reference = reference_region_mask(image, target, spacing_mm=spacing_mm, photometric=photometric)
    brain = target == "brain" and spacing_mm is not None
    slip = _opening_slip(mask, image, spacing_mm) if brain else None
    order = None
    if slip is None and brain and _iou(mask, reference) < 0.9:
        order = _order_slip(mask, image, spacing_mm, function)
    problem = _mask_feedback(mask, reference, target, photometric) if not slip else None
    note, hint = "", None
    if slip:
        problem, hint = slip + ".", "radius in pixels = round(1 mm / pixel spacing)."
    elif order:
        problem, hint = f"overlap with the expected region is too small: {order}.", None
    elif problem:
        problem += "."
    elif brain and function is not None:
        problem, note = _check_at_second_spacing(function, image, spacing_mm)
        if problem and "matches an opening" in problem:
            hint = "Convert the radius with the spacing your function is given."
    mask_ok = checks.feedback(problem is None, name, problem or note, hint)
    area_ok = check_area(area_mm2, mask, spacing_mm)
    return bool(mask_ok and area_ok)


def _check_at_second_spacing(function, image, spacing_mm) -> tuple[str | None, str]:
    """Run ``function`` on the CT slice resampled to other pixels: (problem or None, note)."""
    if not callable(function):
        return f"expected a function f(hu, spacing_mm), got {type(function).__name__}.", ""
    new_mm = SECOND_SPACING_MM if min(spacing_mm) > 1.5 * SECOND_SPACING_MM else 2 * max(spacing_mm)
    finer, spacing = resample_square(image, spacing_mm, new_mm)
    where = f"on the same slice resampled to {spacing[0]:.2f} mm pixels, "
    try:
        result = function(finer.copy(), spacing)
    except NotImplementedError:
        return "your function is not implemented yet (it still raises NotImplementedError).", ""
    except Exception as exc:  # the student's code failed: say how, do not crash the check
        return f"{where}your function raised {type(exc).__name__}: {exc}", ""
    result, problem = _as_mask(result, finer.shape, where + "the result")
    if problem:
        return problem, ""
    reference = _opened_brain(finer, spacing, OPENING_MM)
    slip = _opening_slip(result, finer, spacing)
    if slip:
        return f"{where}{slip}.", ""
    problem = _mask_feedback(result, reference, "brain", None, where)
    if problem:
        return problem + ".", ""
    return None, f"It also works on the slice resampled to {spacing[0]:.2f} mm pixels."


def show_region_masks(
    mask,
    image,
    *,
    target: str = "brain",
    display_range=None,
    spacing_mm=None,
    photometric=None,
    units: str | None = None,
):
    """Figure: the student's mask beside the reference, and where they differ.

    Parameters
    ----------
    mask : array_like of bool or None
        The student's mask (None: only the reference is shown, with a note).
    image : array_like
        The 2-D image the masks belong to (HU for ``target="brain"``).
    target, spacing_mm, photometric
        As in :func:`reference_region_mask`.
    display_range : (low, high), optional
        Grey range of the image underneath (default: 1st-99th percentile).
    units : str, optional
        Unit of the image (e.g. ``"HU"``); the suptitle then gives the grey range in it.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``image`` is not 2-D or ``mask`` has another shape.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    image = np.asarray(image, dtype=np.float64)
    reference = reference_region_mask(image, target, spacing_mm=spacing_mm, photometric=photometric)
    if mask is not None:
        mask = np.asarray(mask).astype(bool)
        if mask.shape != image.shape:
            raise ValueError(f"mask has shape {mask.shape}, expected the image's {image.shape}")
    low, high = display_range if display_range is not None else np.percentile(image, [1, 99])
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.5))
    panels = [("your mask", mask), ("reference", reference)]
    for ax, (title, shown) in zip(axes[:2], panels, strict=True):
        ax.imshow(image, cmap="gray", vmin=low, vmax=high)
        if shown is None:
            ax.text(
                0.5,
                0.5,
                "not done yet",
                color="white",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=12,
            )
        else:
            ax.imshow(
                np.ma.masked_where(~shown, shown),
                cmap=ListedColormap(["#CC79A7"]),  # Okabe-Ito purple: not a colour of panel 3
                alpha=0.5,
                vmin=0,
                vmax=1,
            )
        ax.set_title(f"{title} (purple)")
        ax.set_axis_off()
    difference = np.zeros(image.shape, dtype=np.int8)
    if mask is not None:
        difference[mask & ~reference] = 1
        difference[reference & ~mask] = 2
    axes[2].imshow(image, cmap="gray", vmin=low, vmax=high)
    colours = ListedColormap(["#E69F00", "#56B4E9"])  # Okabe-Ito orange and sky blue
    axes[2].imshow(np.ma.masked_where(difference == 0, difference), cmap=colours, vmin=1, vmax=2)
    axes[2].set_title("orange: only yours, blue: only reference", fontsize=9)
    axes[2].set_axis_off()
    if display_range is None:
        grey = "1st-99th percentile"
    else:
        grey = f"{low:g}-{high:g}" + (f" {units}" if units else "")
        grey = f"brain window {grey}" if target == "brain" else grey
    fig.suptitle(f"{target} mask: yours and the reference; grey scale underneath: {grey}")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- exercise 5
SIGMA_PER_FWHM = 1 / (2 * np.sqrt(2 * np.log(2)))  # FWHM = 2 sqrt(2 ln 2) sigma, about 2.355


def _smoothing_cases() -> list[tuple[str, np.ndarray, float, tuple[float, ...]]]:
    """(label, image, fwhm_mm, spacing) cases: oblong pixels, an integer image, a 3-d volume."""
    rng = np.random.default_rng(5)
    oblong = rng.poisson(400, (120, 90)).astype(np.uint16)
    oblong[50:70, 30:60] += 600  # a bright block: its edges show the blur along each axis
    square = rng.normal(100.0, 20.0, (96, 96))
    volume = rng.normal(0.0, 30.0, (24, 48, 48))
    volume[8:16, 16:32, 16:32] += 200.0
    return [
        ("uint16 image with 0.5 x 1.25 mm pixels (row x column)", oblong, 4.0, (0.5, 1.25)),
        ("float image with 0.195 mm square pixels", square, 2.0, (0.195313, 0.195313)),
        (
            "float volume of 3 mm slices with 0.6 mm pixels (slice, row, column)",
            volume,
            4.0,
            (3.0, 0.6, 0.6),
        ),
    ]


def _interior(array: np.ndarray, sigma_px) -> np.ndarray:
    """Drop a margin of 4 sigma, where the choice of edge padding changes the result."""
    margin = [min(int(np.ceil(4 * s)), n // 3) for s, n in zip(sigma_px, array.shape, strict=True)]
    return array[tuple(slice(m, n - m) for m, n in zip(margin, array.shape, strict=True))]


def _smoothing_slip(result, image, fwhm_mm: float, spacing, sigma_px) -> str | None:
    """Name the mistake whose output ``result`` matches, or None."""
    floating = image.astype(np.float64)
    scale = max(float(np.ptp(floating)), 1.0)
    spacing = np.array([float(v) for v in spacing])
    sigma_mm = fwhm_mm * SIGMA_PER_FWHM

    def close(sigma) -> bool:
        candidate = ndi.gaussian_filter(floating, sigma)
        return bool(
            np.allclose(
                _interior(result, sigma_px), _interior(candidate, sigma_px), atol=1e-4 * scale
            )
        )

    if close(fwhm_mm / spacing):
        return (
            "the FWHM was used as sigma: the FWHM is the full width where the Gaussian has "
            "fallen to half its peak, several sigma wide; convert it to sigma first"
        )
    if close(fwhm_mm / SIGMA_PER_FWHM / spacing):
        return (
            "sigma came out larger than the FWHM: sigma is the smaller of the two, so the "
            "conversion factor goes the other way"
        )
    if close(fwhm_mm / 2 / spacing):
        return (
            "half the FWHM was used as sigma: that is the distance to half the peak, not sigma; "
            "solve exp(-x**2 / (2 sigma**2)) = 1/2 for x"
        )
    if close(fwhm_mm) or close(sigma_mm):
        return (
            "sigma passed in mm: the filter counts pixels, so convert sigma with the "
            "spacing of each axis"
        )
    if len(set(spacing)) > 1 and close(sigma_mm / spacing[::-1]):
        return "the spacings are in reversed order: sigma along the rows needs the row spacing"
    if close(sigma_mm * spacing) or close(fwhm_mm * spacing):
        return "multiplied by the spacing: mm / (mm per pixel) = pixels, so divide"
    if len(set(spacing)) > 1 and any(close(sigma_mm / step) for step in set(spacing)):
        return "one spacing used for every axis, but these pixels are not square"
    expected = ndi.gaussian_filter(floating, sigma_px)
    # each 1-d pass of ndi.gaussian_filter rounds to the integer dtype
    if np.issubdtype(result.dtype, np.integer) and np.abs(result - expected).max() <= 3.0:
        return (
            "the result was rounded to the image's integer dtype (ndi.gaussian_filter returns "
            "the input's dtype): convert the image to float first"
        )
    if np.issubdtype(image.dtype, np.integer) and np.allclose(
        _interior(result, sigma_px),
        _interior(expected / np.iinfo(image.dtype).max, sigma_px),
        atol=1e-4,
    ):
        return (
            "the values were rescaled to [0, 1] (skimage.filters.gaussian on an integer image): "
            "keep the image's units (preserve_range=True, or ndi.gaussian_filter on a float copy)"
        )
    return None


def check_smooth_mm(function, image=None, spacing_mm=None, fwhm_mm: float = 1.2) -> bool:
    """Check ``f(image, fwhm_mm, spacing_mm) -> Gaussian-smoothed float image``.

    ``fwhm_mm`` is the Gaussian's full width at half maximum in millimetres, ``spacing_mm`` the
    spacing of each axis in mm per pixel (row, column for an image; slice, row, column for a
    volume). The function is tried on oblong pixels (0.5 x 1.25 mm, an integer image), on
    square 0.195 mm pixels and on a volume of 3 mm slices, and on ``image`` with ``spacing_mm``
    (FWHM ``fwhm_mm``) if given. The edge padding is not checked (a margin of 4 sigma is
    ignored). Each failure names the mistake: the FWHM (or half of it) used as sigma, sigma left
    in mm, spacings in reversed order, multiplied instead of divided, one spacing for every
    axis, the result rounded to an integer dtype, values rescaled to [0, 1].

    Example
    -------
    >>> def smooth(im, fwhm, sp):
    ...     sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    ...     return ndi.gaussian_filter(im.astype(float), [sigma / s for s in sp])
    >>> check_smooth_mm(smooth)
    ✅ Gaussian of a FWHM in mm: correct.
    True
    """
    name = "Gaussian of a FWHM in mm"
    if not callable(function):
        return checks.feedback(False, name, f"expected a function, got {type(function).__name__}.")
    cases = _smoothing_cases()
    if image is not None and spacing_mm is not None:
        cases.append(
            ("lesson's image", np.asarray(image), fwhm_mm, tuple(float(v) for v in spacing_mm))
        )
    for label, test_image, fwhm, spacing in cases:
        sigma_px = tuple(fwhm * SIGMA_PER_FWHM / step for step in spacing)
        given = test_image.copy()
        try:
            result = function(given, fwhm, spacing)
        except NotImplementedError:
            return checks.feedback(
                False, name, "not implemented yet (it still raises NotImplementedError)."
            )
        except Exception as exc:
            hint = (
                "spacing_mm has one entry per axis: give the filter one sigma per axis, "
                "whatever the number of axes."
                if test_image.ndim != 2
                else ""
            )
            return checks.feedback(
                False, name, f"on the {label} it raised {type(exc).__name__}: {exc}", hint
            )
        if result is None:
            return checks.feedback(False, name, "your function returned None; `return` the image.")
        result = np.asarray(result)
        if result.shape != test_image.shape:
            return checks.feedback(
                False,
                name,
                f"on the {label} the shape is {result.shape}, expected {test_image.shape}.",
            )
        if not np.array_equal(given, test_image):
            return checks.feedback(
                False, name, f"on the {label} it changed the image it was given (in place)."
            )
        expected = ndi.gaussian_filter(test_image.astype(np.float64), sigma_px)
        scale = max(float(np.ptp(test_image)), 1.0)
        inner, inner_expected = (
            _interior(result.astype(np.float64), sigma_px),
            _interior(expected, sigma_px),
        )
        if np.allclose(inner, inner_expected, atol=1e-4 * scale) and not np.issubdtype(
            result.dtype, np.integer
        ):
            continue
        slip = _smoothing_slip(
            result.astype(np.float64) if not np.issubdtype(result.dtype, np.integer) else result,
            test_image,
            fwhm,
            spacing,
            sigma_px,
        )
        where = f"on the {label} (FWHM {fwhm:g} mm)"
        if slip:
            return checks.feedback(False, name, f"{where}: {slip}.")
        return checks.feedback(
            False,
            name,
            f"{where} the result differs from the expected Gaussian.",
            "FWHM in mm -> sigma in mm -> sigma in pixels, each axis with its own spacing.",
        )
    return checks.feedback(True, name)
