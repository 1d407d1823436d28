"""Checks for ``08_measurement``: object sizes, wall thickness, the LV blood pool, the cardiac cycle.

Each check runs the student's function on test data made here (so it does not depend on the
lesson's dataset), compares the result with a reference computed the same way, prints specific
feedback that names the likely mistake without revealing the expected values, and returns a
boolean.

Conventions the checks assume (the lesson states them):

- spacings are given per array axis, in mm, in the array's axis order (for a DICOM slice:
  row spacing, then column spacing, which is the order of PixelSpacing);
- label maps use 0 background, 1 LV blood pool, 2 LV myocardium, 3 RV blood pool;
- a stack of areas has shape ``(n_slices, n_phases)`` in mm²; volumes are reported in mL
  (1 mL = 1000 mm³); the ejection fraction in percent.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from course_utils import checks

__all__ = [
    "check_component_sizes",
    "check_wall_thickness",
    "check_segment_lv",
    "check_cycle_summary",
    "fallback_segment_lv",
    "fallback_cycle_summary",
]


# --------------------------------------------------------------------------- reference maths
def _component_sizes(mask, spacing_mm, connectivity=1) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool)
    structure = ndimage.generate_binary_structure(mask.ndim, connectivity)
    labels, count = ndimage.label(mask, structure=structure)
    voxels = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    return np.sort(voxels * float(np.prod(spacing_mm)))[::-1]


def _wall_thickness(labels, spacing_mm) -> np.ndarray:
    labels = np.asarray(labels)
    spacing = np.asarray(spacing_mm, dtype=float)
    to_cavity = ndimage.distance_transform_edt(labels != 1, sampling=spacing)
    to_outside = ndimage.distance_transform_edt(np.isin(labels, (1, 2)), sampling=spacing)
    # the EDT measures to the centre of the nearest other pixel; each edge is half a pixel nearer
    thickness = to_cavity + to_outside - float(np.mean(spacing))
    return np.where(labels == 2, thickness, np.nan)


def _disc(shape, centre_rc, pixel_mm, radius_mm) -> np.ndarray:
    rows, cols = np.indices(shape)
    return np.hypot(
        (rows - centre_rc[0]) * pixel_mm[0], (cols - centre_rc[1]) * pixel_mm[1]
    ) <= float(radius_mm)


def disc_mask(shape, centre_rc, pixel_mm, radius_mm) -> np.ndarray:
    """Boolean disc of ``radius_mm`` (mm, with the pixel spacing) around ``centre_rc`` (pixels).

    Example
    -------
    >>> int(disc_mask((5, 5), (2, 2), (1.0, 1.0), 1.0).sum())
    5
    """
    return _disc(shape, centre_rc, pixel_mm, radius_mm)


def _otsu(values) -> float:
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(np.asarray(values, dtype=float)))


def fallback_segment_lv(image, centre_rc, pixel_mm, radius_mm=40.0, max_gap_mm=3.0, min_level=0.0):
    """The course's LV blood-pool segmentation of one short-axis image (the exercise's answer).

    Otsu's threshold of the pixels inside a disc of ``radius_mm`` around ``centre_rc`` (never
    below ``min_level``); the
    bright pixels of the disc labelled with 4-connectivity; the component nearest to the centre
    kept if it lies within ``max_gap_mm`` of it and does not reach the rim of the disc (a
    cavity is enclosed by myocardium); holes (papillary muscles) filled.

    Parameters
    ----------
    image : 2-D array
    centre_rc : (row, column) of the LV centre, in pixels (fractional allowed)
    pixel_mm : (row spacing, column spacing) in mm (DICOM PixelSpacing order)
    radius_mm, max_gap_mm : float
    min_level : float
        Lowest threshold allowed (signal units).

    Returns
    -------
    numpy.ndarray of bool, the image's shape

    Example
    -------
    >>> image = np.zeros((40, 40)); image[15:25, 15:25] = 1.0; image[0:5] = 0.5
    >>> int(fallback_segment_lv(image, (20, 20), (1.0, 1.0), radius_mm=12).sum())
    100
    """
    return _segment(image, centre_rc, pixel_mm, radius_mm, max_gap_mm, min_level)


def _segment(
    image, centre_rc, pixel_mm, radius_mm, max_gap_mm=3.0, min_level=0.0, mistake=None
) -> np.ndarray:
    # mistake: None (the method), "whole image" (Otsu of the whole image), "pixels" (disc radius
    # taken in pixels): the two likely mistakes the check names
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (rows, columns), got shape {image.shape}")
    disc_pixel = (1.0, 1.0) if mistake == "pixels" else pixel_mm
    disc = _disc(image.shape, centre_rc, disc_pixel, radius_mm)
    inside = image[disc]
    if inside.size < 2 or np.ptp(inside) == 0:
        return np.zeros(image.shape, dtype=bool)
    level = _otsu(image) if mistake == "whole image" else _otsu(inside)
    bright = (image > max(level, float(min_level))) & disc
    labels, count = ndimage.label(bright)
    if count == 0:
        return np.zeros(image.shape, dtype=bool)
    centre = tuple(int(round(v)) for v in centre_rc)
    distance, (near_r, near_c) = ndimage.distance_transform_edt(
        labels == 0, sampling=pixel_mm, return_indices=True
    )
    if distance[centre] > max_gap_mm:
        return np.zeros(image.shape, dtype=bool)
    chosen = labels == labels[near_r[centre], near_c[centre]]
    rim = disc & ~ndimage.binary_erosion(disc)
    if (chosen & rim).any():
        return np.zeros(image.shape, dtype=bool)
    return ndimage.binary_fill_holes(chosen)


def fallback_cycle_summary(areas_mm2, slice_spacing_mm) -> dict:
    """Volumes per phase (Simpson's rule), end-diastole, end-systole and the ejection fraction.

    Parameters
    ----------
    areas_mm2 : array, shape (n_slices, n_phases)
        LV blood-pool area of each slice at each phase, mm².
    slice_spacing_mm : float
        Distance between neighbouring slice planes (from their positions), mm.

    Returns
    -------
    dict with ``volumes_ml`` (n_phases,), ``ed_phase``, ``es_phase`` (0-based),
    ``edv_ml``, ``esv_ml``, ``ef_percent``

    Example
    -------
    >>> areas = np.array([[1000.0, 500.0], [1000.0, 500.0]])
    >>> fallback_cycle_summary(areas, 10.0)["ef_percent"]
    50.0
    """
    areas = np.asarray(areas_mm2, dtype=float)
    if areas.ndim != 2:
        raise ValueError(f"areas_mm2 must be (n_slices, n_phases), got shape {areas.shape}")
    volumes = areas.sum(axis=0) * float(slice_spacing_mm) / 1000.0
    ed, es = int(np.argmax(volumes)), int(np.argmin(volumes))
    return {
        "volumes_ml": volumes,
        "ed_phase": ed,
        "es_phase": es,
        "edv_ml": float(volumes[ed]),
        "esv_ml": float(volumes[es]),
        "ef_percent": float(100.0 * (volumes[ed] - volumes[es]) / volumes[ed]),
    }


# --------------------------------------------------------------------------- exercise 1
def _blobs_3d():
    """A 3-D mask whose object count depends on connectivity, on an anisotropic grid."""
    mask = np.zeros((6, 20, 24), dtype=bool)
    mask[1:4, 2:8, 2:9] = True  # a block over three slices
    mask[2, 10:14, 3:7] = True  # one slice only
    mask[3, 14, 7] = True  # meets the previous one at a corner only
    mask[4, 14:18, 8:12] = True  # meets that voxel along an edge only
    mask[0:6, 5:7, 15:21] = True  # a rod through every slice
    mask[5, 12, 14] = True  # an isolated voxel
    return mask


def check_component_sizes(function) -> bool:
    """Check ``function(mask, spacing_mm, connectivity) -> sizes`` (descending, mm^ndim).

    The test mask is 3-D with slices 6 mm apart and 1.25 x 1.5 mm pixels; some objects touch only
    at an edge or a corner, so the count depends on ``connectivity`` (1 = faces, 3 = faces, edges
    and corners in 3-D). The feedback names the usual mistakes: voxel counts instead of mm³,
    mL instead of mm³, only the in-plane pixel area, the connectivity ignored, the background
    counted as an object, sizes not sorted.

    Example
    -------
    >>> check_component_sizes(_component_sizes)
    ✅ object sizes: correct.
    True
    """
    name = "object sizes"
    mask = _blobs_3d()
    spacing = (6.0, 1.25, 1.5)
    voxel = float(np.prod(spacing))
    for connectivity in (1, 3, 2):
        ok, value = checks.call_student(function, mask.copy(), spacing, connectivity, name=name)
        if not ok:
            return False
        try:
            sizes = np.asarray(value, dtype=float).ravel()
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"returned {type(value).__name__}; expected a 1-D array of sizes."
            )
        expected = _component_sizes(mask, spacing, connectivity)
        if sizes.shape == expected.shape and np.allclose(sizes, expected, rtol=1e-6):
            continue
        where = f"with connectivity={connectivity}"
        background = np.prod(mask.shape) * voxel - expected.sum()
        if sizes.size == expected.size + 1 and np.any(np.isclose(sizes, background)):
            return checks.feedback(
                False,
                name,
                f"{where} one of the objects is the background (label 0).",
                "ndimage.label numbers objects from 1; label 0 is everything else.",
            )
        if sizes.size != expected.size:
            other = [c for c in (1, 2, 3) if c != connectivity]
            if any(sizes.size == _component_sizes(mask, spacing, c).size for c in other):
                return checks.feedback(
                    False,
                    name,
                    f"{where} the number of objects is that of another connectivity.",
                    "Build the neighbourhood with ndimage.generate_binary_structure(ndim, "
                    "connectivity) and pass it to ndimage.label as structure=.",
                )
            return checks.feedback(
                False,
                name,
                f"{where} you found {sizes.size} objects, which is not right.",
                "Label the mask, then measure every label from 1 to the number of labels.",
            )
        if np.allclose(np.sort(sizes), np.sort(expected), rtol=1e-6):
            return checks.feedback(
                False, name, f"{where} the sizes are right but not sorted largest first."
            )
        ordered = np.sort(sizes)[::-1]
        for factor, mistake, hint in [
            (
                1 / voxel,
                "are voxel counts, not mm³",
                "Multiply each count by the volume of one voxel: the product of the spacings.",
            ),
            (1 / 1000.0, "are in mL (or cm³), not mm³", "Keep mm³ here; convert to mL later."),
            (
                1 / spacing[0],
                "use only the in-plane pixel area (mm²), not the voxel volume",
                "A voxel also has a depth: the slice spacing.",
            ),
        ]:
            if np.allclose(ordered, expected * factor, rtol=1e-6):
                return checks.feedback(False, name, f"{where} your sizes {mistake}.", hint)
        return checks.feedback(
            False,
            name,
            f"{where} the sizes differ.",
            "Count the voxels of each label (np.bincount or ndimage.sum) and scale by the voxel "
            "volume.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 2
def _ring_labels(shape, pixel_mm, centre_mm, inner_mm, outer_mm, rv=True):
    rows, cols = np.indices(shape).astype(float)
    r = np.hypot(rows * pixel_mm - centre_mm[0], cols * pixel_mm - centre_mm[1])
    labels = np.zeros(shape, dtype=np.uint8)
    if rv:
        rv_r = np.hypot(rows * pixel_mm - centre_mm[0], cols * pixel_mm - centre_mm[1] + outer_mm)
        labels[(rv_r < outer_mm) & (r >= outer_mm)] = 3
    labels[r < outer_mm] = 2
    labels[r < inner_mm] = 1
    return labels


def check_wall_thickness(function) -> bool:
    """Check ``function(labels, spacing_mm) -> thickness map`` (mm; NaN off the myocardium).

    The test slices are rings of known thickness (7 and 11 mm) on grids of 1.25 and 0.9 mm pixels,
    one with an RV beside it (the RV is outside the wall). The feedback names the usual
    mistakes: distances in pixels (no ``sampling``), one distance instead of the sum of the two,
    the half-pixel correction at each edge forgotten or applied at one edge only, values (or 0 instead of NaN) outside the
    myocardium.

    Example
    -------
    >>> check_wall_thickness(_wall_thickness)
    ✅ wall thickness: correct.
    True
    """
    name = "wall thickness"
    cases = [
        ((96, 96), 1.25, (60.0, 58.0), 22.0, 29.0, True),
        ((120, 110), 0.9, (52.0, 50.0), 25.0, 36.0, False),
    ]
    for shape, pixel, centre, inner, outer, rv in cases:
        labels = _ring_labels(shape, pixel, centre, inner, outer, rv)
        spacing = (pixel, pixel)
        ok, value = checks.call_student(function, labels.copy(), spacing, name=name)
        if not ok:
            return False
        try:
            thickness = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"returned {type(value).__name__}; expected an array like labels."
            )
        if thickness.shape != labels.shape:
            return checks.feedback(
                False,
                name,
                f"returned shape {thickness.shape}; expected the labels' shape {labels.shape} "
                "(one thickness per pixel).",
            )
        wall = labels == 2
        expected = _wall_thickness(labels, spacing)
        where = f"for a {outer - inner:g} mm wall on {pixel:g} mm pixels"
        outside = thickness[~wall]
        if np.isfinite(outside).any() and np.all(outside[np.isfinite(outside)] == 0):
            return checks.feedback(
                False,
                name,
                f"{where} pixels outside the myocardium are 0, not NaN.",
                "Outside the wall the map must be NaN, or a mean over the map includes the "
                "background as walls of zero thickness.",
            )
        if np.isfinite(outside).any():
            return checks.feedback(
                False,
                name,
                f"{where} pixels outside the myocardium (label 2) have a thickness.",
                "Keep the value on the myocardium only, NaN elsewhere (np.where).",
            )
        if not np.isfinite(thickness[wall]).all():
            return checks.feedback(
                False, name, f"{where} some myocardium pixels have no finite thickness."
            )
        mean, reference = float(thickness[wall].mean()), float(expected[wall].mean())
        if np.allclose(thickness[wall], expected[wall], atol=1e-6):
            continue
        to_cavity = ndimage.distance_transform_edt(labels != 1, sampling=spacing)[wall]
        to_outside = ndimage.distance_transform_edt(np.isin(labels, (1, 2)), sampling=spacing)[wall]
        if np.allclose(thickness[wall], expected[wall] / pixel, atol=1e-3) or np.allclose(
            thickness[wall], (to_cavity + to_outside) / pixel - 1, atol=1e-3
        ):
            return checks.feedback(
                False,
                name,
                f"{where} the thickness is in pixels, not mm.",
                "Pass the spacing to distance_transform_edt (sampling=) so distances are in mm.",
            )
        if np.allclose(thickness[wall], to_cavity + to_outside, atol=1e-6) or np.allclose(
            thickness[wall], (to_cavity + to_outside) / pixel, atol=1e-3
        ):
            return checks.feedback(
                False,
                name,
                f"{where} every value is about one pixel too thick.",
                "The EDT measures to the centre of the nearest pixel of the other region; the "
                "edge between them lies half a pixel nearer, on both sides of the wall.",
            )
        if np.allclose(thickness[wall], to_cavity + to_outside - pixel / 2, atol=1e-6):
            return checks.feedback(
                False,
                name,
                f"{where} every value is about half a pixel too thick: only one edge is corrected.",
                "The half pixel applies on both sides of the wall: at the cavity edge and at the "
                "outer edge.",
            )
        if (
            np.allclose(thickness[wall], to_cavity, atol=1e-6)
            or np.allclose(thickness[wall], to_outside, atol=1e-6)
            or mean < 0.75 * reference
        ):
            return checks.feedback(
                False,
                name,
                f"{where} the values are too small: they look like the distance to one edge only.",
                "The local thickness is the distance to the cavity plus the distance to the "
                "outside of the wall.",
            )
        direction = "too large" if mean > reference else "too small"
        return checks.feedback(
            False,
            name,
            f"{where} the mean thickness is {direction}.",
            "Distance to the cavity (labels == 1) plus distance to outside the wall (labels not in "
            "{1, 2}), each with the EDT in mm.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 3
def _short_axis_image(
    seed, pixel_mm, centre_mm, lv_mm, wall_mm, papillary=True, lung=False, shape=(90, 100), air=0.0
):
    """A small SSFP-like slice: bright LV and RV blood, darker wall, a bright chest wall, noise.

    ``air``: beyond this distance (mm) from the LV centre the field is dark (air and lung), as in a
    large field of view; 0 for none.
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape).astype(float)
    y, x = rows * pixel_mm[0], cols * pixel_mm[1]
    r = np.hypot(y - centre_mm[0], x - centre_mm[1])
    image = np.full(shape, 180.0)  # soft tissue
    image[y < 18] = 420.0  # bright subcutaneous fat along the top
    if lung:  # dark lung around most of the heart (as near the apex)
        image[np.hypot(y - centre_mm[0], x - centre_mm[1] - 8) < 55] = 25.0
    if air:
        image[r > air] = 20.0
    image[r < lv_mm + wall_mm] = 120.0  # myocardium
    rv = (np.hypot(y - centre_mm[0] + 4, x - centre_mm[1] + lv_mm + wall_mm + 14) < lv_mm + 8) & (
        r >= lv_mm + wall_mm + 2.5
    )
    image[rv] = 380.0
    cavity = r < lv_mm
    image[cavity] = 400.0
    if papillary:  # two papillary muscles inside the cavity, of muscle signal
        for turn in (0.6, 2.2):
            muscle = (
                np.hypot(
                    y - centre_mm[0] - 0.55 * lv_mm * np.sin(turn),
                    x - centre_mm[1] - 0.55 * lv_mm * np.cos(turn),
                )
                < 0.25 * lv_mm
            )
            image[muscle & cavity] = 130.0
    image = ndimage.gaussian_filter(image, 0.7)
    image += rng.normal(0.0, 14.0, shape)
    return image, cavity, rv


def _centre_pixels(centre_mm, pixel_mm):
    return (centre_mm[0] / pixel_mm[0], centre_mm[1] / pixel_mm[1])


def check_segment_lv(function) -> bool:
    """Check ``function(image, centre_rc, pixel_mm, radius_mm) -> mask`` (the LV blood pool).

    Five test slices (LV of radius 22, 16, 9, 20 and 30 mm, pixels of 0.7, 1.4 or 1.8 mm, one with
    a papillary muscle, one in a large dark field of air and lung), with a bright RV beside the LV
    and bright fat near the top of the image.
    The answer must agree with the course's method (Dice >= 0.97). The feedback names the usual
    mistakes: the RV kept (no selection of the component at the centre), the papillary holes not
    filled, row and column swapped in the centre, ``min_level`` ignored (the third slice is
    surrounded by lung), Otsu's threshold of the whole image instead of the disc, the disc radius
    taken in pixels instead of mm.

    Example
    -------
    >>> check_segment_lv(fallback_segment_lv)
    ✅ LV blood pool: correct.
    True
    """
    name = "LV blood pool"
    cases = [
        (1, (1.4, 1.4), (62.0, 78.0), 22.0, 8.0, True, False),
        (2, (1.8, 1.8), (88.0, 100.0), 16.0, 10.0, False, False),
        (3, (1.4, 1.4), (60.0, 85.0), 9.0, 11.0, False, True),
        # a large dark field (air, lung): the whole image's Otsu level falls into the wall
        (4, (1.4, 1.4), (90.0, 100.0), 20.0, 9.0, False, False, (130, 150), 45.0),
        # 0.7 mm pixels and a dilated LV: a 40-pixel disc (28 mm) is smaller than the cavity
        (5, (0.7, 0.7), (50.0, 56.0), 30.0, 8.0, False, False, (140, 160), 0.0),
    ]
    for seed, pixel, centre_mm, lv, wall, papillary, lung, *field in cases:
        image, cavity, rv = _short_axis_image(
            seed, pixel, centre_mm, lv, wall, papillary, lung, *field
        )
        centre = _centre_pixels(centre_mm, pixel)
        radius = 40.0
        extra = {"min_level": 260.0} if lung else {}
        ok, value = checks.call_student(
            function, image.copy(), centre, pixel, radius, name=name, **extra
        )
        if not ok:
            return False
        mask = np.asarray(value)
        if mask.shape != image.shape:
            return checks.feedback(
                False, name, f"returned shape {mask.shape}; expected the image's {image.shape}."
            )
        mask = mask.astype(bool)
        expected = fallback_segment_lv(image, centre, pixel, radius, **extra)
        where = f"on a slice with a {lv:g} mm LV radius and {pixel[0]:g} mm pixels" + (
            " surrounded by lung, with min_level=260" if lung else ""
        )
        overlap = 2 * np.sum(mask & expected) / max(np.sum(mask) + np.sum(expected), 1)
        if overlap >= 0.97:
            continue
        for mistake, said, hint in [
            (
                "whole image",
                "the threshold is Otsu's of the whole image: dark air and lung pull it down into "
                "the wall, and the mask takes in muscle.",
                "Take Otsu's threshold from the pixels inside the disc only.",
            ),
            (
                "pixels",
                "the disc is radius_mm pixels wide, not radius_mm millimetres: on small pixels it "
                "cuts through the cavity.",
                "Scale the row and column distances by pixel_mm before comparing with radius_mm.",
            ),
        ]:
            wrong = _segment(
                image, centre, pixel, radius, min_level=extra.get("min_level", 0.0), mistake=mistake
            )
            if 2 * np.sum(mask & wrong) / max(mask.sum() + wrong.sum(), 1) >= 0.97 or (
                not mask.any() and not wrong.any()
            ):
                return checks.feedback(False, name, f"{where} {said}", hint)
        if not mask.any():
            plain = fallback_segment_lv(image, centre, pixel, radius)
            if lung and not plain.any():
                return checks.feedback(
                    False,
                    name,
                    f"{where} the mask is empty: the threshold fell between lung and tissue.",
                    "Use the larger of Otsu's threshold and min_level.",
                )
            return checks.feedback(
                False,
                name,
                f"{where} the mask is empty.",
                "centre_rc is (row, column) in pixels; is the centre's component kept?",
            )
        disc = _disc(image.shape, centre, pixel, radius)
        if np.sum(mask & rv) > 0.3 * np.sum(rv & disc):
            return checks.feedback(
                False,
                name,
                f"{where} the mask includes the right ventricle.",
                "Label the bright pixels and keep only the component at (or nearest to) the centre.",
            )
        if not (mask & cavity).any():
            return checks.feedback(
                False,
                name,
                f"{where} the mask misses the LV: it lies elsewhere in the image.",
                "centre_rc is (row, column): rows first, like the image's first axis.",
            )
        filled = ndimage.binary_fill_holes(mask)
        if (
            filled.sum() > mask.sum()
            and 2 * np.sum(filled & expected) / (filled.sum() + expected.sum()) >= 0.97
        ):
            return checks.feedback(
                False,
                name,
                f"{where} the mask has a hole where a papillary muscle lies.",
                "The blood-pool volume includes the papillary muscles by convention: fill holes.",
            )
        if lung:
            plain = fallback_segment_lv(image, centre, pixel, radius)
            if 2 * np.sum(mask & plain) / max(mask.sum() + plain.sum(), 1) >= 0.97:
                return checks.feedback(
                    False,
                    name,
                    f"{where} the result is that of Otsu's threshold alone: min_level is ignored.",
                    "Use the larger of Otsu's threshold and min_level.",
                )
        direction = "too large" if mask.sum() > expected.sum() else "too small"
        return checks.feedback(
            False,
            name,
            f"{where} the blood pool is {direction} (Dice with the course's method below 0.97).",
            "Take Otsu's threshold from the pixels inside the disc only, not the whole image.",
        )
    return checks.feedback(True, name)


# --------------------------------------------------------------------------- exercise 4
def _cycle_areas():
    phases = np.arange(25)
    contraction = 0.5 * (1 - np.cos(2 * np.pi * np.clip((phases - 3) / 14.0, 0, 1)))
    contraction[:3] = [0.09, 0.06, 0.03]  # late filling (atrial kick) before end-diastole
    profile = np.array([0.6, 0.95, 1.0, 0.9, 0.7, 0.4, 0.15])
    areas = 1400.0 * profile[:, None] * (1 - 0.55 * contraction)[None, :]
    areas[0, 8:16] *= 0.4  # the base leaves the basal slice in systole
    return areas


def check_cycle_summary(function) -> bool:
    """Check ``function(areas_mm2, slice_spacing_mm) -> dict`` (volumes, ED, ES, EF).

    The test cycle has 7 slices 9 mm apart and 25 phases, with end-diastole **not** at phase 0
    (a trigger that is not at the R wave). The feedback names the usual mistakes: volumes in mm³,
    a sum over the wrong axis, end-diastole assumed at phase 0, ED and ES swapped, the ejection
    fraction as a fraction or relative to the end-systolic volume.

    Example
    -------
    >>> check_cycle_summary(fallback_cycle_summary)
    ✅ cardiac cycle: correct.
    True
    """
    name = "cardiac cycle"
    areas, spacing = _cycle_areas(), 9.0
    ok, value = checks.call_student(function, areas.copy(), spacing, name=name)
    if not ok:
        return False
    keys = ["volumes_ml", "ed_phase", "es_phase", "edv_ml", "esv_ml", "ef_percent"]
    if not isinstance(value, dict) or any(k not in value for k in keys):
        return checks.feedback(
            False,
            name,
            f"expected a dict with the keys {', '.join(keys)}.",
        )
    expected = fallback_cycle_summary(areas, spacing)
    volumes = np.asarray(value["volumes_ml"], dtype=float).ravel()
    if volumes.shape != expected["volumes_ml"].shape:
        return checks.feedback(
            False,
            name,
            f"volumes_ml has {volumes.size} values; expected one per phase.",
            "areas_mm2 is (n_slices, n_phases): sum over the slices (axis 0).",
        )
    if np.allclose(volumes, expected["volumes_ml"] * 1000, rtol=1e-6):
        return checks.feedback(
            False, name, "the volumes are in mm³, not mL.", "1 mL = 1 cm³ = 1000 mm³."
        )
    if not np.allclose(volumes, expected["volumes_ml"], rtol=1e-6):
        return checks.feedback(
            False,
            name,
            "the volumes per phase differ.",
            "Simpson's rule: the sum of the slice areas times the distance between slices.",
        )
    ed, es = value["ed_phase"], value["es_phase"]
    if ed == 0 and expected["ed_phase"] != 0:
        return checks.feedback(
            False,
            name,
            "end-diastole is not at phase 0 in this cycle.",
            "End-diastole is the phase of the largest volume, wherever the trigger started.",
        )
    if (ed, es) == (expected["es_phase"], expected["ed_phase"]):
        return checks.feedback(
            False, name, "ED and ES are swapped.", "Diastole fills: ED is the largest volume."
        )
    if (ed, es) != (expected["ed_phase"], expected["es_phase"]):
        return checks.feedback(
            False,
            name,
            "ed_phase or es_phase is not right.",
            "ED is the phase of the largest volume, ES the phase of the smallest.",
        )
    for key in ("edv_ml", "esv_ml"):
        if not np.isclose(float(value[key]), expected[key], rtol=1e-6):
            return checks.feedback(
                False,
                name,
                f"{key} is not the volume at that phase.",
            )
    ef = float(value["ef_percent"])
    edv, esv = expected["edv_ml"], expected["esv_ml"]
    if np.isclose(ef, expected["ef_percent"] / 100, rtol=1e-6):
        return checks.feedback(False, name, "the ejection fraction is a fraction, not percent.")
    if np.isclose(ef, 100 * (edv - esv) / esv, rtol=1e-6):
        return checks.feedback(
            False,
            name,
            "the ejection fraction is relative to the end-systolic volume.",
            "EF = stroke volume / end-diastolic volume.",
        )
    if not np.isclose(ef, expected["ef_percent"], rtol=1e-6):
        return checks.feedback(
            False, name, "the ejection fraction differs.", "EF = (EDV - ESV) / EDV, in percent."
        )
    return checks.feedback(True, name)
