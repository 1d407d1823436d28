"""mammo-roi: generated screening mammograms with ROI masks, laid out like CBIS-DDSM.

The real CBIS-DDSM (Curated Breast Imaging Subset of DDSM, TCIA) is scanned
film: tall 16-bit images with the breast against one side, bright strips of
film edge and scanner-label residue along the borders, a lesion (mass or
calcification cluster) outlined by a radiologist in a separate ROI-mask image,
and case-description CSVs whose column names contain spaces. The generated
``mammo-roi`` dataset imitates that layout in the common "re-exported to PNG"
form, so lesson code that runs on it also runs on a user's PNG/JPEG export of
CBIS-DDSM (and, through :func:`load_cases`, on the original DICOM download)::

    mammo-roi/
      mass_case_description_train_set.csv   one row per abnormality (masses)
      calc_case_description_train_set.csv   one row per abnormality (calcifications)
      images/<case>.png                     full-field image, uint16, MONOCHROME2
      masks/<case>_<abnormality id>_roi.png ROI mask, uint8, 0 = outside, 255 = lesion
      crops/<case>_<abnormality id>_crop.png image cropped to the ROI's bounding box, uint16

``<case>`` is named like the real subject folders, e.g.
``Mass-Training_P_00004_LEFT_CC``. Each patient contributes the CC and the MLO
view of one breast. Display convention: a LEFT breast lies against the left
image edge, a RIGHT breast against the right edge (chest wall at that edge).

Deliberate quirks (also listed in ``data_manifests/mammo-roi.yaml``):

* every image has bright border residue (film-edge strips, some pixels
  saturated at 65535) and a scanner label (a bright block with text) away
  from the breast;
* image sizes vary and a few images are wider than tall;
* one ROI mask is stored at a different size than its image;
* in one case the ROI-mask and cropped-image files hold each other's content
  (a known CBIS-DDSM problem);
* a few path values in the mass CSV end with a newline character, and the
  calcification CSV names the density column ``breast density`` while the mass
  CSV says ``breast_density`` (both as in the real CSVs).

Example
-------
>>> from course_utils import data
>>> root = data.dataset_path("mammo-roi")            # doctest: +SKIP
>>> cases = load_cases(root)                         # doctest: +SKIP
>>> image, mask = read_case(cases.iloc[0])           # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULTS",
    "CSV_COLUMNS",
    "generate",
    "render_case",
    "write_cbis_layout",
    "read_spacing",
    "load_cases",
    "read_case",
    "validate_cbis_ddsm",
]

DEFAULTS = {
    "n_patients": 10,
    "height": 1000,
    "seed": 0,
}

#: Columns of the real CBIS-DDSM case-description CSVs, in file order.
CSV_COLUMNS = {
    "mass": [
        "patient_id",
        "breast_density",
        "left or right breast",
        "image view",
        "abnormality id",
        "abnormality type",
        "mass shape",
        "mass margins",
        "assessment",
        "pathology",
        "subtlety",
        "image file path",
        "cropped image file path",
        "ROI mask file path",
    ],
    "calcification": [
        "patient_id",
        "breast density",
        "left or right breast",
        "image view",
        "abnormality id",
        "abnormality type",
        "calc type",
        "calc distribution",
        "assessment",
        "pathology",
        "subtlety",
        "image file path",
        "cropped image file path",
        "ROI mask file path",
    ],
}

#: Value sets of the categorical columns (as in the real CSVs).
VALUE_SETS = {
    "left or right breast": {"LEFT", "RIGHT"},
    "image view": {"CC", "MLO"},
    "abnormality type": {"mass", "calcification"},
    "pathology": {"BENIGN", "MALIGNANT", "BENIGN_WITHOUT_CALLBACK"},
}
#: Integer ranges (inclusive) of the graded columns.
INT_RANGES = {
    "density": (1, 4),
    "subtlety": (1, 5),
    "assessment": (0, 5),
    "abnormality id": (1, 99),
}

_FILM_HEIGHT_MM = 240.0  # the generator's film height: feature sizes follow the image height
_STORED_OFFSET = 1500.0  # stored value of "no attenuation" (film base)
_STORED_GAIN = 58000.0  # stored value span of the 0..1 attenuation-like scale
_DENSITY_FRACTION = {1: 0.04, 2: 0.28, 3: 0.55, 4: 0.85}  # fibroglandular area fraction


# --------------------------------------------------------------------------- rendering
def _resize(array, shape, order):
    """Resize a float64 array to ``shape`` with pixel centres aligned (OpenCV's convention).

    scipy's spline zoom is plain C on doubles, so the result is the same on every CPU;
    ``cv2.resize`` on floats picks SIMD kernels at run time and its last bits vary.
    """
    from scipy import ndimage

    factors = (shape[0] / array.shape[0], shape[1] / array.shape[1])
    out = ndimage.zoom(array, factors, order=order, mode="reflect", grid_mode=True)
    if out.shape != tuple(shape):  # pragma: no cover - zoom rounds the size it computes
        out = out[: shape[0], : shape[1]]
    return out


def _smooth_field(rng, shape, sigma_px, *, stretch=1.0):
    """Unit-variance smooth random field, generated at a reduced resolution (fast).

    ``stretch`` > 1 elongates the structures along the columns (towards the nipple).
    All the arithmetic is in float64, so the field does not depend on the CPU's SIMD kernels.
    """
    from scipy import ndimage

    factor = int(np.clip(sigma_px / 2.5, 1, 16))

    small = (max(4, shape[0] // factor), max(4, shape[1] // factor))
    noise = rng.standard_normal(small)
    sigma = max(sigma_px / factor, 0.5)
    field = ndimage.gaussian_filter(noise, (sigma, sigma * stretch), mode="reflect")
    if field.shape != tuple(shape):
        # linear interpolation suffices: the small grid is already smooth over ~2.5 cells
        field = _resize(field, shape, order=1)
    field -= field.mean()
    return field / (field.std() + 1e-12)


def _soft(x, width):
    """Smooth step from 0 (x <= -width) to 1 (x >= width)."""
    return np.clip(0.5 + 0.5 * x / width, 0.0, 1.0)


def _breast_geometry(rng, height, width, view):
    """Return (breast mask, pectoral mask, breast depth in px, nipple (row, col)).

    The chest wall is at column 0. The outline is a wobbly half-ellipse with a nipple bump
    at its apex; on MLO views an axillary tail is joined to it by a smooth minimum (no
    corner) and the pectoral muscle has a convex anterior edge.
    """
    # the smooth outline is computed on a half-resolution grid and interpolated (fast)
    half_rows = np.arange(0, height, 2, dtype=np.float64)[:, None] + 0.5
    half_cols = np.arange(0, width, 2, dtype=np.float64)[None, :] + 0.5
    px_mm = height / _FILM_HEIGHT_MM
    depth = rng.uniform(0.55, 0.72) * min(width, 0.8 * height)  # nipple distance from chest wall
    if view == "CC":
        centre_row = height * rng.uniform(0.45, 0.55)
        half_height = height * rng.uniform(0.34, 0.42)
        tilt = 0.0
    else:  # MLO: longer, tilted down and out, reaching the top edge (axilla)
        centre_row = height * rng.uniform(0.5, 0.56)
        half_height = height * rng.uniform(0.46, 0.52)
        tilt = np.deg2rad(rng.uniform(12, 22))
    # tilt: shift the ellipse's rows with distance from the chest wall
    d_row = (half_rows - centre_row) - np.tan(tilt) * half_cols
    angle = np.arctan2(d_row / half_height, half_cols / depth)
    wobble = (
        1.0
        + 0.02 * np.sin(3 * angle + rng.uniform(0, 2 * np.pi))
        + 0.012 * np.sin(5 * angle + rng.uniform(0, 2 * np.pi))
    )
    # a slightly pointed apex (the breast is a cone flattened by the paddle)
    shape_power = rng.uniform(2.0, 2.4)
    radius = (np.abs(d_row / half_height) ** shape_power + (half_cols / depth) ** 2) ** 0.5
    radius = radius / wobble
    top_width = depth * rng.uniform(0.3, 0.42)
    length = height * rng.uniform(0.45, 0.6)
    if view == "MLO":
        # axillary tail: an ellipse from the top corner, joined by a smooth minimum
        tail_rows = 1.2 * length + 0.15 * height
        tail = np.sqrt(
            ((half_rows + 0.15 * height) / tail_rows) ** 2 + (half_cols / (2.1 * top_width)) ** 2
        )
        k = 0.22
        low = np.minimum(radius, tail)
        radius = low - k * np.log1p(np.exp(-np.abs(radius - tail) / k))
    radius = _resize(radius, (height, width), order=1)
    breast = radius < 1.0
    rows = np.arange(height, dtype=np.float64)[:, None]
    cols = np.arange(width, dtype=np.float64)[None, :]
    # nipple: at the outline's apex (the row reaching furthest from the chest wall)
    reach = np.where(breast.any(axis=1), width - 1 - np.argmax(breast[:, ::-1], axis=1), 0)
    if view == "MLO":
        reach[: int(0.15 * height)] = 0  # the apex is not the axilla
    apex_row = int(np.argmax(reach))
    apex_rows = np.nonzero(reach >= reach[apex_row] - 1)[0]
    apex_row = int(apex_rows[len(apex_rows) // 2])
    apex_col = float(reach[apex_row])
    nip_h, nip_w = rng.uniform(3.5, 5.0) * px_mm, rng.uniform(2.0, 3.2) * px_mm
    bump = ((rows - apex_row) / nip_h) ** 2 + ((cols - apex_col + 0.3 * nip_w) / nip_w) ** 2
    breast |= bump < 1.0
    nipple = (float(apex_row), apex_col + 0.35 * nip_w)
    pectoral = np.zeros_like(breast)
    if view == "MLO":
        bulge = rng.uniform(0.18, 0.32)  # convex anterior edge
        fraction = np.clip(rows / length, 0, 1)
        edge = top_width * (1 - fraction) * (1 + bulge * np.sin(np.pi * fraction))
        pectoral = (rows < length) & (cols < edge)
        breast |= pectoral
    return breast, pectoral, depth, nipple


def _vessels(rng, tissue, depth, px_mm):
    """A few tortuous vessels from the chest wall towards the nipple: (points (n, 2), width)."""
    height, width = tissue.shape
    candidates = np.argwhere(tissue[:, : max(2, int(0.25 * depth))])
    paths = []
    for _ in range(int(rng.integers(2, 5)) if len(candidates) else 0):
        point = candidates[rng.integers(len(candidates))].astype(np.float64)
        heading = rng.uniform(-0.6, 0.6)
        wiggle = rng.uniform(0.25, 0.45)
        points = [point.copy()]
        for _ in range(int(rng.uniform(0.4, 0.85) * depth / (1.2 * px_mm))):
            heading += rng.normal(0, wiggle) - 0.15 * math.sin(heading)
            point = point + 1.2 * px_mm * np.array([math.sin(heading), math.cos(heading)])
            row, col = int(point[0]), int(point[1])
            if not (0 <= row < height and 0 <= col < width) or not tissue[row, col]:
                break
            points.append(point.copy())
        if len(points) > 3:
            paths.append((np.array(points), 1 if rng.random() < 0.6 else 2))
    return paths


def _duct_tree(rng, tissue, nipple, depth, px_mm):
    """Branching ducts from the nipple towards the chest wall, and lobules (TDLUs) on them.

    Returns (list of (points (n, 2) as row, col; generation), list of (row, col, radius)).
    Plain Python maths (``math``), so the tree is the same on every CPU.
    """
    height, width = tissue.shape
    segments, lobules = [], []
    step = 0.03 * depth
    n_main = int(rng.integers(7, 12))
    stack = []
    for index in range(n_main):
        offset = (index + rng.uniform(-0.35, 0.35) - (n_main - 1) / 2) * (2.0 / n_main)
        start = (nipple[0] + rng.normal(0, 1.5 * px_mm), nipple[1] - 2.5 * px_mm)
        stack.append((start, math.pi + offset, 0, depth * rng.uniform(0.5, 0.95)))
    budget = 700
    while stack and budget > 0:
        start, heading, generation, remaining = stack.pop()
        point = np.array(start, dtype=np.float64)
        points = [point.copy()]
        while remaining > 0 and budget > 0:
            # wander, with a weak pull back towards the chest wall (heading pi)
            heading += rng.normal(0, 0.13) + 0.12 * math.sin(math.pi - heading)
            point = point + step * np.array([math.sin(heading), math.cos(heading)])
            row, col = int(point[0]), int(point[1])
            if not (0 <= row < height and 0 <= col < width) or not tissue[row, col]:
                break
            if col < 0.05 * depth:
                break
            points.append(point.copy())
            remaining -= step
            budget -= 1
            if generation < 4 and rng.random() < 0.24:
                turn = (1 if rng.random() < 0.5 else -1) * rng.uniform(0.3, 0.75)
                rest = remaining * rng.uniform(0.35, 0.8)
                stack.append((point.copy(), heading + turn, generation + 1, rest))
            if generation >= 1 and rng.random() < 0.35:
                jitter = rng.normal(0, 1.2 * px_mm, 2)
                size = rng.uniform(1.0, 2.6) * px_mm
                lobules.append((point[0] + jitter[0], point[1] + jitter[1], size))
        if len(points) > 1:
            segments.append((np.array(points), generation))
            lobules.append((point[0], point[1], rng.uniform(1.8, 3.5) * px_mm))
    return segments, lobules


def _polyline_canvas(shape, paths, factor, widths):
    """Anti-aliased polylines (row, col points / factor) on a uint8 canvas (integer drawing)."""
    import cv2

    canvas = np.zeros(shape, dtype=np.uint8)
    for (points, _generation), width in zip(paths, widths, strict=True):
        xy = np.round(points[:, ::-1] / factor).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [xy], False, 255, int(width), cv2.LINE_AA)
    return canvas


def _fibroglandular(rng, breast, pectoral, inside_px, nipple, depth, density, px_mm):
    """Glandular fraction (0..1), duct and ligament maps (full size, float64).

    The tissue grows around a duct tree radiating from the nipple, with lobules on the
    branches; a smooth random field varies it and the density's area fraction sets the
    level (a soft threshold, so the edges are gradual). Everything is float64 or integer
    drawing, so it is the same on every CPU.
    """
    import cv2
    from scipy import ndimage

    height, width = breast.shape
    tissue = breast & ~pectoral
    coarse = ((height + 1) // 2, (width + 1) // 2)  # the tissue is modelled at half size
    c_mm = px_mm / 2
    segments, lobules = _duct_tree(rng, tissue, nipple, depth, px_mm)
    duct_widths = [max(1, round((0.9 - 0.15 * gen) * c_mm)) for _, gen in segments]
    ducts = _polyline_canvas(coarse, segments, 2, duct_widths).astype(np.float64) / 255
    lobule_canvas = np.zeros(coarse, dtype=np.uint8)
    for row, col, radius in lobules:
        centre = (int(round(col / 2)), int(round(row / 2)))
        cv2.circle(lobule_canvas, centre, max(1, int(round(radius / 2))), 255, -1, cv2.LINE_AA)
    lobule_map = lobule_canvas.astype(np.float64) / 255
    duct_map = ndimage.gaussian_filter(ducts, 0.6 * c_mm)
    tree = np.maximum(ducts, lobule_map)
    near = ndimage.gaussian_filter(tree, 2.5 * c_mm)
    around = ndimage.gaussian_filter(tree, 7.0 * c_mm)
    lobule_soft = ndimage.gaussian_filter(lobule_map, 0.9 * c_mm)
    coarse_inside = inside_px[::2, ::2]
    coarse_tissue = tissue[::2, ::2]
    rows = np.arange(coarse[0], dtype=np.float64)[:, None] * 2
    cols = np.arange(coarse[1], dtype=np.float64)[None, :] * 2
    nipple_distance = np.sqrt((rows - nipple[0]) ** 2 + (cols - nipple[1]) ** 2)
    # most tissue behind the nipple, little in the subcutaneous fat and at the chest wall
    prior = np.exp(-(((cols / depth) - 0.6) ** 2) / 0.15) * np.clip(
        coarse_inside / (0.12 * depth), 0, 1
    )
    prior *= 1.0 - 0.5 * np.clip(nipple_distance / depth - 0.6, 0, 1)
    # streaks radiating from the nipple: a random field sampled in polar coordinates
    # (smooth along the radius, fine across it)
    n_theta, n_radius = 240, 48
    polar = ndimage.gaussian_filter(
        rng.standard_normal((n_theta, n_radius)), (1.3, 4.0), mode=("wrap", "nearest")
    )
    polar /= polar.std() + 1e-12
    theta = np.arctan2(rows - nipple[0], nipple[1] - cols)
    where = np.stack(
        [
            np.broadcast_to((theta + np.pi) / (2 * np.pi) * n_theta, nipple_distance.shape),
            np.clip(nipple_distance / (1.1 * depth), 0, 1) * (n_radius - 1),
        ]
    )
    streaks = ndimage.map_coordinates(polar, where, order=1, mode="grid-wrap")
    streaks *= np.clip(nipple_distance / (0.2 * depth), 0, 1)  # no star at the nipple itself
    field = (
        0.8 * around / (around.max() + 1e-12)
        + 0.8 * near / (near.max() + 1e-12)
        + 0.3 * lobule_soft
        + 0.38 * streaks
        + 0.3 * _smooth_field(rng, coarse, 7 * c_mm, stretch=2.0)
        + 0.1 * _smooth_field(rng, coarse, 2.5 * c_mm, stretch=2.0)
        + 1.0 * prior
    )
    # the field's rank in the tissue (0..1): the density's area fraction sets the level and
    # a fixed share of the area lies in the transition, so every edge is gradual
    levels = np.linspace(0.0, 1.0, 51)
    rank = np.interp(field, np.quantile(field[coarse_tissue], levels), levels)
    transition = {1: 0.3, 2: 0.45, 3: 0.55, 4: 0.55}[density]
    glandular = np.clip((rank - (1 - _DENSITY_FRACTION[density])) / transition + 0.5, 0, 1)
    glandular = glandular * glandular * (3 - 2 * glandular)  # smoothstep: gradual edges
    glandular *= {1: 0.6, 2: 0.85, 3: 1.0, 4: 1.0}[density]  # fatty breasts: thin, faint tissue
    # fat lobules inside the dense tissue (roundish darker pockets, a scalloped look)
    holes = _smooth_field(rng, coarse, 3.5 * c_mm)
    glandular *= 1 - 0.25 * np.clip(holes - 0.5, 0, 1.5) / 1.5
    glandular = np.maximum(glandular, 0.5 * lobule_soft * np.clip(4 * glandular, 0, 1))
    glandular = np.clip(ndimage.gaussian_filter(glandular, 0.7 * c_mm), 0, 1)
    full = (height, width)
    glandular = np.clip(_resize(glandular, full, order=1), 0, 1) * tissue
    duct_map = np.clip(_resize(duct_map, full, order=1), 0, 1) * tissue

    # Cooper's ligaments: thin bright arcs in the fat, bulging towards the skin
    ligaments = np.zeros(full, dtype=np.uint8)
    grow_row, grow_col = np.gradient(coarse_inside)  # points inwards, away from the skin
    fat_zone = coarse_tissue & (coarse_inside > 2 * px_mm) & (coarse_inside < 0.22 * depth)
    candidates = np.argwhere(fat_zone)
    n_arcs = int(rng.integers(35, 60)) if len(candidates) else 0
    for _ in range(n_arcs):
        row, col = candidates[rng.integers(len(candidates))]
        out_row, out_col = -grow_row[row, col], -grow_col[row, col]
        angle = math.degrees(math.atan2(out_row, out_col)) + rng.normal(0, 20)
        radius = rng.uniform(8, 24) * px_mm
        span = rng.uniform(25, 70)
        centre_row = 2 * row - radius * math.sin(math.radians(angle))
        centre_col = 2 * col - radius * math.cos(math.radians(angle))
        axes = (int(round(radius)), int(round(radius * rng.uniform(0.6, 1.0))))
        cv2.ellipse(
            ligaments,
            (int(round(centre_col)), int(round(centre_row))),
            axes,
            angle,
            -span / 2,
            span / 2,
            255,
            1,
            cv2.LINE_AA,
        )
    ligaments = ligaments.astype(np.float64) / 255 * tissue
    vessels = _vessels(rng, tissue, depth, px_mm)
    vessel_map = _polyline_canvas(full, vessels, 1, [w for _, w in vessels])
    vessel_map = vessel_map.astype(np.float64) / 255 * tissue
    streaks = _resize(streaks, full, order=1) * tissue
    return glandular, duct_map, ligaments, vessel_map, streaks


def _lesion_centre(rng, breast, pectoral, distance_px, min_depth_px):
    """A random point inside the breast, away from the skin, the muscle and the image edges."""
    allowed = breast & ~pectoral & (distance_px > min_depth_px)
    edge = int(np.ceil(min_depth_px))
    allowed[:edge] = allowed[-edge:] = False
    allowed[:, :edge] = allowed[:, -edge:] = False
    candidates = np.argwhere(allowed)
    if len(candidates) == 0:
        candidates = np.argwhere(breast)
    return candidates[rng.integers(len(candidates))]


def _draw_mass(rng, shape, centre, radius_px, margin, subtlety):
    """Attenuation increment and ROI of a mass; irregular or spiculated margins."""
    import cv2

    reach = int(3.2 * radius_px) + 4  # work in a window around the lesion (fast)
    top, left = max(0, int(centre[0]) - reach), max(0, int(centre[1]) - reach)
    bottom, right = min(shape[0], int(centre[0]) + reach), min(shape[1], int(centre[1]) + reach)
    rows, cols = np.ogrid[top:bottom, left:right]
    d_row = (rows - centre[0]).astype(np.float64)
    d_col = (cols - centre[1]).astype(np.float64)
    angle = np.arctan2(d_row, d_col)
    distance = np.sqrt(d_row**2 + d_col**2)
    lobes = np.zeros_like(angle, dtype=np.float64)
    roughness = {"CIRCUMSCRIBED": 0.05, "OBSCURED": 0.1, "ILL_DEFINED": 0.18, "SPICULATED": 0.15}[
        margin
    ]
    for harmonic in (2, 3, 5, 7):
        lobes += roughness / harmonic**0.5 * np.sin(harmonic * angle + rng.uniform(0, 2 * np.pi))
    edge = radius_px * (1 + lobes)
    blur = 1.5 if margin == "CIRCUMSCRIBED" else 0.25 * radius_px
    body = _soft(edge - distance, blur)
    dome = np.clip(1 - (distance / (edge + 1e-6)) ** 2, 0, 1) ** 0.5
    lesion = body * (0.6 + 0.4 * dome)
    spicules = np.zeros(lesion.shape, dtype=np.uint8)
    if margin == "SPICULATED":
        local_centre = (int(centre[1]) - left, int(centre[0]) - top)
        for _ in range(rng.integers(10, 18)):
            theta = rng.uniform(0, 2 * np.pi)
            length = radius_px * rng.uniform(1.6, 2.8)
            end = (
                int(round(local_centre[0] + length * np.cos(theta))),
                int(round(local_centre[1] + length * np.sin(theta))),
            )
            cv2.line(spicules, local_centre, end, 255, int(rng.integers(1, 3)), cv2.LINE_AA)
        lesion = np.maximum(lesion, 0.55 * spicules.astype(np.float64) / 255.0)
    contrast = 0.05 + 0.035 * subtlety
    increment = np.zeros(shape, dtype=np.float64)
    increment[top:bottom, left:right] = contrast * lesion
    grow = max(2, int(0.2 * radius_px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    roi = np.zeros(shape, dtype=bool)
    roi[top:bottom, left:right] = cv2.dilate((body > 0.5).astype(np.uint8), kernel) > 0
    return increment, roi


def _speck(rng, style, px_mm, direction):
    """Coverage (0..1) of one calcification on a small pixel window, and its half size.

    The speck is drawn on a 4x finer grid from one to three ellipses and averaged over
    each pixel's 16 sub-pixels (an exact integer count), so a speck smaller than a pixel
    shows as a fainter pixel, as on film. Sizes are 0.1-1 mm.
    """
    if style == "PUNCTATE":
        parts = [(rng.uniform(0.15, 0.6), rng.uniform(1.0, 1.3), rng.uniform(0, 180))]
    elif style == "AMORPHOUS":
        parts = [(rng.uniform(0.1, 0.3), rng.uniform(1.0, 1.6), rng.uniform(0, 180))]
    elif style == "FINE_LINEAR_BRANCHING":
        length = rng.uniform(0.4, 1.0)
        parts = [(length, rng.uniform(3.0, 6.0), direction + rng.normal(0, 15))]
        if rng.random() < 0.4:  # a branch
            parts.append((0.6 * length, rng.uniform(3.0, 5.0), direction + rng.uniform(30, 60)))
    else:  # PLEOMORPHIC: varied sizes and irregular shapes
        parts = [
            (rng.uniform(0.15, 0.9), rng.uniform(1.0, 2.5), rng.uniform(0, 180))
            for _ in range(int(rng.integers(1, 4)))
        ]
    # (diameter along the long axis in mm, aspect ratio, angle in degrees)
    half = int(math.ceil(max(p[0] for p in parts) * px_mm / 2 + 0.6 * px_mm * (len(parts) > 1)))
    half = max(half, 1) + 1
    sub = 4
    grid = (np.arange((2 * half + 1) * sub, dtype=np.float64) + 0.5) / sub - half - 0.5
    offset = rng.uniform(-0.5, 0.5, 2)
    d_row, d_col = grid[:, None] - offset[0], grid[None, :] - offset[1]
    inside = np.zeros((grid.size, grid.size), dtype=bool)
    for index, (diameter, aspect, angle) in enumerate(parts):
        shift = (0.0, 0.0) if index == 0 else rng.normal(0, 0.15 * px_mm, 2)
        theta = math.radians(angle)
        along = (d_col - shift[1]) * math.cos(theta) + (d_row - shift[0]) * math.sin(theta)
        across = -(d_col - shift[1]) * math.sin(theta) + (d_row - shift[0]) * math.cos(theta)
        a = max(diameter * px_mm / 2, 0.15)
        b = max(a / aspect, 0.12)
        inside |= (along / a) ** 2 + (across / b) ** 2 <= 1.0
    n = 2 * half + 1
    count = inside.reshape(n, sub, n, sub).sum(axis=(1, 3))  # exact integer counts
    return count / float(sub * sub), half


def _draw_calcifications(rng, shape, centre, cluster_px, subtlety, calc_type="PLEOMORPHIC"):
    """Attenuation increment and ROI of a cluster of micro-calcifications (0.1-1 mm specks)."""
    import cv2

    px_mm = shape[0] / _FILM_HEIGHT_MM if shape[0] >= 1 else 1.0
    n_specks = int(rng.integers(8, 26))
    direction = rng.uniform(0, 180)
    if calc_type == "FINE_LINEAR_BRANCHING":  # specks strung along a few duct-like lines
        along = rng.normal(0, cluster_px / 1.6, n_specks)
        lane = rng.integers(0, 3, n_specks) - 1
        theta = math.radians(direction)
        offsets = np.stack(
            [
                along * math.sin(theta) + lane * 0.25 * cluster_px * math.cos(theta),
                along * math.cos(theta) - lane * 0.25 * cluster_px * math.sin(theta),
            ],
            axis=1,
        ) + rng.normal(0, 0.6, (n_specks, 2))
    else:
        offsets = rng.normal(0, cluster_px / 2.2, size=(n_specks, 2))
    margin_px = int(math.ceil(1.0 * px_mm)) + 3
    low, high = np.array([margin_px, margin_px]), np.array(shape) - 1 - margin_px
    points = np.clip(np.round(centre + offsets), low, high).astype(int)
    specks = np.zeros(shape, dtype=np.float64)
    faint = 0.55 if calc_type == "AMORPHOUS" else 1.0
    for point in points:
        coverage, half = _speck(rng, calc_type, px_mm, direction)
        brightness = rng.uniform(0.65, 1.0) * faint
        rows = slice(point[0] - half, point[0] + half + 1)
        cols = slice(point[1] - half, point[1] + half + 1)
        specks[rows, cols] = np.maximum(specks[rows, cols], brightness * coverage)
    hull = cv2.convexHull(points[:, ::-1].astype(np.int32).reshape(-1, 1, 2))
    roi = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(roi, hull, 1)
    roi = cv2.dilate(roi, np.ones((3, 3), np.uint8), iterations=max(3, int(cluster_px * 0.3))) > 0
    contrast = 0.24 + 0.06 * subtlety
    return contrast * specks, roi


def render_case(
    *,
    height: int = 1000,
    width: int = 600,
    side: str = "LEFT",
    view: str = "CC",
    density: int = 2,
    abnormality: str = "mass",
    margin: str = "SPICULATED",
    subtlety: int = 3,
    seed: int = 0,
    residue: bool = True,
    label: bool = True,
    residue_touches: bool = False,
    calc_type: str = "PLEOMORPHIC",
):
    """Render one mammogram in memory: image, ROI mask and a description.

    Parameters
    ----------
    height, width : int
        Image size in pixels (rows, cols); at the default ~0.24 mm per pixel.
    side : {"LEFT", "RIGHT"}
        Laterality; the breast lies against the image edge of that side.
    view : {"CC", "MLO"}
        Cranio-caudal or medio-lateral oblique (MLO shows the pectoral muscle
        as a bright band with a convex edge in the upper corner at the chest wall,
        and the breast's axillary tail reaching the top edge).
    density : {1, 2, 3, 4}
        BI-RADS breast density: 1 almost entirely fatty ... 4 extremely dense.
    abnormality : {"mass", "calcification"}
    margin : str
        Mass margin: ``CIRCUMSCRIBED``, ``OBSCURED``, ``ILL_DEFINED`` or ``SPICULATED``.
    subtlety : int
        1 (subtle, low contrast) to 5 (obvious).
    seed : int
    residue, label : bool
        Add bright border residue / the scanner label block.
    residue_touches : bool
        Let the residue strips reach (and cover) the breast instead of keeping
        a gap of about 1.5 mm from it, as on some real films. The anatomy is
        the same as with False for the same seed; ``info["residue_mask"]`` then
        overlaps ``info["breast_mask"]``.
    calc_type : str
        Shape of the calcification specks (used when ``abnormality="calcification"``):
        ``PLEOMORPHIC`` (varied sizes and irregular shapes), ``FINE_LINEAR_BRANCHING``
        (thin rods along duct-like lines), ``PUNCTATE`` (small round) or ``AMORPHOUS``
        (tiny and faint).

    The anatomy: a duct tree radiates from the nipple towards the chest wall with
    lobules on its branches; the fibroglandular tissue grows around it with soft edges
    (its area share set by ``density``), Cooper's ligaments are thin arcs in the fat, a
    few tortuous vessels cross it, and a skin line thickens over the areola.

    Returns
    -------
    image : numpy.ndarray of uint16, shape (height, width)
        Stored values, bright = attenuating (MONOCHROME2).
    roi_mask : numpy.ndarray of uint8, shape (height, width)
        0 outside the lesion, 255 inside.
    info : dict
        ``breast_mask`` (bool), ``pectoral_mask`` (bool), ``lesion_centre`` (row, col)
        and ``residue_mask`` (bool).

    Raises
    ------
    ValueError
        If an argument is outside its allowed values.

    Example
    -------
    >>> image, roi, info = render_case(height=200, width=120, view="MLO", seed=1)
    >>> image.dtype, roi.dtype, image.shape
    (dtype('uint16'), dtype('uint8'), (200, 120))
    """
    from scipy import ndimage

    if side not in ("LEFT", "RIGHT"):
        raise ValueError(f"side must be 'LEFT' or 'RIGHT', got {side!r}")
    if view not in ("CC", "MLO"):
        raise ValueError(f"view must be 'CC' or 'MLO', got {view!r}")
    if density not in (1, 2, 3, 4):
        raise ValueError(f"density must be 1, 2, 3 or 4 (BI-RADS), got {density!r}")
    if abnormality not in ("mass", "calcification"):
        raise ValueError(f"abnormality must be 'mass' or 'calcification', got {abnormality!r}")
    if calc_type not in ("PLEOMORPHIC", "FINE_LINEAR_BRANCHING", "PUNCTATE", "AMORPHOUS"):
        raise ValueError(f"calc_type must be a CBIS-DDSM calc type, got {calc_type!r}")
    if subtlety not in (1, 2, 3, 4, 5):
        raise ValueError(f"subtlety must be an integer 1..5, got {subtlety!r}")
    if int(height) < 64 or int(width) < 64:
        raise ValueError(f"height and width must be at least 64 pixels, got {height} x {width}")
    height, width = int(height), int(width)
    rng = np.random.default_rng(seed)
    scale = height / 1000.0  # feature sizes follow the image height

    px_mm = height / _FILM_HEIGHT_MM
    breast, pectoral, depth, nipple = _breast_geometry(rng, height, width, view)
    # distance (px) to the skin line
    # (exact Euclidean distance, float64: cv2.distanceTransform's SIMD and plain paths differ)
    inside_px = ndimage.distance_transform_edt(breast)
    # compressed-breast thickness falls off towards the skin line
    thickness = np.clip(inside_px / (0.09 * depth), 0, 1) ** 0.6

    glandular, ducts, ligaments, vessels, streaks = _fibroglandular(
        rng, breast, pectoral, inside_px, nipple, depth, density, px_mm
    )
    detail = _smooth_field(rng, (height, width), 1.5 * scale)
    mottle = _smooth_field(rng, (height, width), 4 * scale)
    fat = 0.22 + 0.012 * mottle
    gland_value = 0.52 + 0.015 * mottle
    tissue_value = (
        fat
        + (gland_value - fat) * glandular
        + 0.08 * ducts * (1 - 0.5 * glandular)
        + 0.025 * streaks * glandular
        + 0.06 * ligaments * (1 - glandular)
        + 0.05 * vessels
        + 0.007 * detail * (0.5 + glandular)
    )
    attenuation = np.full((height, width), 0.035, dtype=np.float64)
    attenuation += 0.006 * _smooth_field(rng, (height, width), 150 * scale)  # uneven film base
    attenuation = np.where(breast, 0.035 + tissue_value * thickness, attenuation)
    # skin line: a thin brighter rim (~1 mm), thicker over the areola; the nipple itself
    rows = np.arange(height, dtype=np.float64)[:, None]
    cols = np.arange(width, dtype=np.float64)[None, :]
    to_nipple = np.sqrt((rows - nipple[0]) ** 2 + (cols - nipple[1]) ** 2)
    areola = np.clip((rng.uniform(10, 16) * px_mm - to_nipple) / (3 * px_mm) + 0.5, 0, 1)
    skin_width = (0.9 + 1.2 * areola) * px_mm
    skin = np.exp(-(((inside_px - 0.5 * skin_width - 0.5) / (0.5 * skin_width + 0.6)) ** 2))
    attenuation += (0.07 * skin + 0.03 * areola * np.exp(-inside_px / (3 * px_mm))) * breast
    nipple_body = np.clip((4.5 * px_mm - to_nipple) / (2.0 * px_mm) + 0.5, 0, 1) * breast
    attenuation += 0.12 * nipple_body * (1 - thickness)
    if view == "MLO":
        muscle = ndimage.gaussian_filter(pectoral.astype(np.float64), 2.5 * scale + 0.5)
        # brighter towards the axilla, with faint fibre striations along the muscle
        fibres = _smooth_field(rng, (height, width), 6 * scale, stretch=0.3)
        muscle_value = (
            0.6
            + 0.08 * np.clip(1 - rows / height, 0, 1)
            + 0.03 * _smooth_field(rng, (height, width), 30 * scale)
            + 0.012 * fibres
            + 0.015 * detail
        )
        attenuation = attenuation * (1 - muscle) + muscle * muscle_value * np.maximum(
            thickness, 0.6
        )

    # the lesion
    if abnormality == "mass":
        lesion_radius = rng.uniform(22, 45) * scale
        centre = _lesion_centre(rng, breast, pectoral, inside_px, 1.6 * lesion_radius)
        increment, roi = _draw_mass(rng, (height, width), centre, lesion_radius, margin, subtlety)
    else:
        cluster = rng.uniform(14, 30) * scale
        centre = _lesion_centre(rng, breast, pectoral, inside_px, 1.5 * cluster)
        increment, roi = _draw_calcifications(
            rng, (height, width), centre, cluster, subtlety, calc_type
        )
    attenuation += increment * breast
    roi &= breast

    # film grain
    attenuation += 0.008 * rng.standard_normal((height, width))

    residue_mask = (
        _border_residue(rng, breast, scale, gap=not residue_touches)
        if residue
        else np.zeros_like(breast)
    )
    attenuation = np.where(residue_mask, rng.uniform(0.93, 1.02) + 0.02 * detail, attenuation)

    stored = np.clip(_STORED_OFFSET + _STORED_GAIN * attenuation, 0, 65535).astype(np.uint16)
    roi_mask = roi.astype(np.uint8) * 255
    info = {
        "breast_mask": breast,
        "pectoral_mask": pectoral,
        "residue_mask": residue_mask,
        "lesion_centre": (int(centre[0]), int(centre[1])),
    }
    if side == "RIGHT":
        stored, roi_mask = stored[:, ::-1].copy(), roi_mask[:, ::-1].copy()
        info = {k: (v[:, ::-1].copy() if isinstance(v, np.ndarray) else v) for k, v in info.items()}
        info["lesion_centre"] = (int(centre[0]), width - 1 - int(centre[1]))
    if label:
        _draw_label(stored, info["breast_mask"] | info["residue_mask"], side, view, scale)
    return stored, roi_mask, info


def _border_residue(rng, breast, scale, gap=True):
    """Bright strips along the film edges that stay clear of the breast by a small gap."""
    import cv2

    height, width = breast.shape
    residue = np.zeros((height, width), dtype=bool)
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    jag_cols = np.cumsum(rng.normal(0, 0.6, width))
    jag_rows = np.cumsum(rng.normal(0, 0.6, height))
    edges = ["bottom", "far"] + (["top"] if rng.random() < 0.6 else [])
    for edge in edges:
        thickness = rng.uniform(8, 22) * scale + 2
        if edge == "top":
            residue |= rows < thickness + np.clip(jag_cols, -4, 4)[None, :]
        elif edge == "bottom":
            residue |= rows > height - 1 - thickness - np.clip(jag_cols[::-1], -4, 4)[None, :]
        else:  # the edge opposite the chest wall, over part of its length
            start = int(rng.uniform(0.0, 0.4) * height)
            stop = int(rng.uniform(0.6, 1.0) * height)
            strip = cols > width - 1 - thickness - np.clip(jag_rows, -4, 4)[:, None]
            strip &= (rows >= start) & (rows < stop)
            residue |= strip
    if not gap:
        return residue
    gap = max(3, int(6 * scale))
    near_breast = (
        cv2.dilate(breast.astype(np.uint8), np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)) > 0
    )
    return residue & ~near_breast


def _draw_label(stored, occupied, side, view, scale):
    """A bright scanner label with dark text in a free corner away from the chest wall (in place)."""
    import cv2

    height, width = stored.shape
    box_h, box_w = int(46 * scale) + 8, int(120 * scale) + 20
    text = f"{side[0]} {view}"
    far_left = side == "RIGHT"  # the chest wall is on the right for a RIGHT breast
    for row0 in (int(0.06 * height), int(0.8 * height), int(0.45 * height)):
        col0 = int(0.04 * width) if far_left else width - box_w - int(0.04 * width)
        window = occupied[max(0, row0 - 4) : row0 + box_h + 4, max(0, col0 - 4) : col0 + box_w + 4]
        if col0 > 0 and row0 + box_h < height and not window.any():
            ink = np.zeros((box_h, box_w), dtype=np.uint8)
            cv2.putText(
                ink,
                text,
                (int(6 * scale) + 3, box_h - int(12 * scale) - 4),
                cv2.FONT_HERSHEY_SIMPLEX,
                max(0.35, 1.1 * scale),
                255,
                max(1, int(2 * scale)),
                cv2.LINE_AA,
            )
            paper = _STORED_OFFSET + _STORED_GAIN * 0.9
            block = paper - (0.65 * _STORED_GAIN) * ink.astype(np.float64) / 255.0
            stored[row0 : row0 + box_h, col0 : col0 + box_w] = block.astype(np.uint16)
            return True
    return False


# --------------------------------------------------------------------------- dataset
_MASS_SHAPES = {"MALIGNANT": ["IRREGULAR", "LOBULATED"], "BENIGN": ["OVAL", "ROUND", "LOBULATED"]}
_MASS_MARGINS = {
    "MALIGNANT": ["SPICULATED", "ILL_DEFINED"],
    "BENIGN": ["CIRCUMSCRIBED", "OBSCURED"],
}
_CALC_TYPES = {
    "MALIGNANT": ["PLEOMORPHIC", "FINE_LINEAR_BRANCHING"],
    "BENIGN": ["PUNCTATE", "AMORPHOUS"],
}
_CALC_DISTRIBUTIONS = {"MALIGNANT": ["CLUSTERED", "SEGMENTAL"], "BENIGN": ["CLUSTERED", "REGIONAL"]}


def _png_bytes(array: np.ndarray) -> bytes:
    import cv2

    # film grain makes 16-bit images nearly incompressible: Huffman-only coding is
    # as small as full deflate here and several times faster
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    if array.dtype == np.uint16:
        params += [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
    ok, buffer = cv2.imencode(".png", array, params)
    if not ok:  # pragma: no cover - cv2 always encodes uint8/uint16 PNG
        raise RuntimeError("PNG encoding failed")
    return buffer.tobytes()


def _write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


def _bbox(mask):
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def generate(out_dir, *, n_patients: int = 10, height: int = 1000, seed: int = 0) -> None:
    """Write the mammo-roi dataset into ``out_dir`` (an existing, empty folder).

    Parameters
    ----------
    out_dir : path
        Target folder.
    n_patients : int
        Number of patients; each gives a CC and an MLO image of one breast
        (odd patients masses, even patients calcifications). At least 4, so
        every quirk appears.
    height : int
        Typical image height in pixels (sizes vary by about ±12 %); 1000 gives
        about 0.24 mm per pixel for a 24 cm film.
    seed : int

    Raises
    ------
    ValueError
        If ``n_patients < 4`` or ``height < 200``.

    Example
    -------
    >>> import tempfile
    >>> generate(tempfile.mkdtemp(), n_patients=4, height=240)   # doctest: +SKIP
    """
    import pandas as pd

    if int(n_patients) < 4:
        raise ValueError(
            f"n_patients must be at least 4 (so every quirk appears), got {n_patients}"
        )
    if int(height) < 200:
        raise ValueError(f"height must be at least 200 pixels, got {height}")
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    rows = {"mass": [], "calcification": []}
    patient_number = 0
    n_images = 2 * int(n_patients)
    wide_images = {3, n_images - 4}  # image indices stored wider than tall
    mismatched_mask = 5  # image index whose ROI mask has the wrong size
    swapped_files = 2  # image index whose ROI-mask and crop files hold each other's content
    image_index = 0
    for patient in range(int(n_patients)):
        patient_number += int(rng.integers(1, 9))
        patient_id = f"P_{patient_number:05d}"
        kind = "mass" if patient % 2 == 0 else "calcification"
        side = "LEFT" if rng.random() < 0.5 else "RIGHT"
        density = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.4, 0.33, 0.12]))
        pathology = str(
            rng.choice(["MALIGNANT", "BENIGN", "BENIGN_WITHOUT_CALLBACK"], p=[0.45, 0.4, 0.15])
        )
        family = "MALIGNANT" if pathology == "MALIGNANT" else "BENIGN"
        subtlety = int(rng.integers(2, 6))
        if kind == "mass":
            detail = (str(rng.choice(_MASS_SHAPES[family])), str(rng.choice(_MASS_MARGINS[family])))
        else:
            detail = (
                str(rng.choice(_CALC_TYPES[family])),
                str(rng.choice(_CALC_DISTRIBUTIONS[family])),
            )
        if pathology == "MALIGNANT":
            assessment = int(rng.choice([4, 5]))
        elif pathology == "BENIGN":
            assessment = int(rng.choice([2, 3, 4]))
        else:
            assessment = int(rng.choice([2, 3]))
        case_seed = int(rng.integers(2**31))
        for view in ("CC", "MLO"):
            img_height = int(round(height * rng.uniform(0.88, 1.12)))
            img_width = int(round(img_height * rng.uniform(0.56, 0.66)))
            if image_index in wide_images:
                img_width = int(round(img_height * rng.uniform(1.15, 1.3)))
            image, roi_mask, _ = render_case(
                height=img_height,
                width=img_width,
                side=side,
                view=view,
                density=density,
                abnormality=kind,
                margin=detail[1] if kind == "mass" else "CIRCUMSCRIBED",
                subtlety=subtlety,
                seed=case_seed + (0 if view == "CC" else 1),
                calc_type=detail[0] if kind == "calcification" else "PLEOMORPHIC",
            )
            prefix = "Mass" if kind == "mass" else "Calc"
            case = f"{prefix}-Training_{patient_id}_{side}_{view}"
            image_rel = f"images/{case}.png"
            mask_rel = f"masks/{case}_1_roi.png"
            crop_rel = f"crops/{case}_1_crop.png"
            crop = image[_bbox(roi_mask > 0)]
            mask_to_write = roi_mask
            if image_index == mismatched_mask:
                import cv2

                new_shape = (
                    int(img_width * 0.97),
                    int(img_height * 0.97),
                )  # cv2 order: (width, height)
                mask_to_write = cv2.resize(roi_mask, new_shape, interpolation=cv2.INTER_NEAREST)
            mask_payload, crop_payload = _png_bytes(mask_to_write), _png_bytes(crop)
            if image_index == swapped_files:
                mask_payload, crop_payload = crop_payload, mask_payload
            _write(out_dir / image_rel, _png_bytes(image))
            _write(out_dir / mask_rel, mask_payload)
            _write(out_dir / crop_rel, crop_payload)
            trailing = "\n" if (kind == "mass" and image_index % 4 == 1) else ""
            rows[kind].append(
                {
                    "patient_id": patient_id,
                    "density": density,
                    "left or right breast": side,
                    "image view": view,
                    "abnormality id": 1,
                    "abnormality type": kind,
                    "detail_a": detail[0],
                    "detail_b": detail[1],
                    "assessment": assessment,
                    "pathology": pathology,
                    "subtlety": subtlety,
                    "image file path": image_rel,
                    "cropped image file path": crop_rel + trailing,
                    "ROI mask file path": mask_rel + trailing,
                }
            )
            image_index += 1
    for kind, filename in (
        ("mass", "mass_case_description_train_set.csv"),
        ("calcification", "calc_case_description_train_set.csv"),
    ):
        columns = CSV_COLUMNS[kind]
        table = pd.DataFrame(rows[kind])
        table.columns = [columns[1] if c == "density" else c for c in table.columns]
        table = table.rename(columns={"detail_a": columns[6], "detail_b": columns[7]})[columns]
        buffer = io.StringIO()
        table.to_csv(buffer, index=False, lineterminator="\n")
        _write(out_dir / filename, buffer.getvalue().encode("utf-8"))


# --------------------------------------------------------------------------- real layout


def _write_dicom(path: Path, pixels: np.ndarray, description: str, spacing_mm, uid_seed: int):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    uid = f"1.3.6.1.4.1.9590.100.1.2.{uid_seed}"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # secondary capture, as in TCIA
    meta.MediaStorageSOPInstanceUID = uid + ".1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(os.fspath(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, uid + ".1"
    ds.Modality, ds.SeriesDescription = "MG", description
    ds.SeriesInstanceUID = uid
    ds.Rows, ds.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    bits = 16 if pixels.dtype == np.uint16 else 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = (
        1,
        "MONOCHROME2",
        0,
    )
    if spacing_mm is not None:
        ds.PixelSpacing = [f"{spacing_mm:.6f}", f"{spacing_mm:.6f}"]
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _upsampled(array: np.ndarray, factor: int, shape) -> np.ndarray:
    """Integer-factor nearest upsampling (``np.repeat``), cut to ``shape``."""
    big = np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)
    return np.ascontiguousarray(big[: shape[0], : shape[1]])


def write_cbis_layout(
    root,
    n_cases: int = 4,
    rows: int = 4000,
    *,
    seed: int = 0,
    spacing_tag: str = "some",
    render_rows: int = 1000,
) -> list[str]:
    """Write a folder laid out like a real CBIS-DDSM download, at real image size.

    What the NBIA Data Retriever writes for CBIS-DDSM, with the generator's
    pixels: 16-bit MONOCHROME2 DICOM full-field images of ``rows`` rows (real
    films: 3,000-6,000), descriptive folder names, so the UID paths in the CSVs
    do not exist verbatim, ROI paths in the CSVs ending with a newline, and
    ROI folders holding the mask and the cropped image as ``1-1.dcm`` and
    ``1-2.dcm`` in either order (both described as "ROI mask images", so only
    their sizes tell them apart)::

        root/mass_case_description_train_set.csv
        root/calc_case_description_train_set.csv   (when there are calcification cases)
        root/CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/07-20-2016-DDSM-NA-10001/
            1.000000-full mammogram images-20001/1-1.dcm
        root/CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/07-21-2016-DDSM-NA-30001/
            1.000000-ROI mask images-40001/1-1.dcm, 1-2.dcm

    Each case is rendered by :func:`render_case` at ``render_rows`` rows and
    enlarged by an integer factor with nearest neighbour (``np.repeat``), plus
    fresh pixel noise, so writing stays fast and small in memory while every
    file has the real size. The implied pixel spacing is the generator's film
    height, 240 mm / ``rows`` (0.06 mm at 4,000 rows; real CBIS-DDSM: about
    0.05 mm).

    Parameters
    ----------
    root : path
        Target folder (created).
    n_cases : int
        Number of cases (images), at least 1; even-numbered cases are masses,
        odd ones calcifications; each case is its own patient.
    rows : int
        Rows of every full-field image (columns: 0.56-0.66 of that).
    seed : int
    spacing_tag : {"none", "some", "all"}
        Which images carry a PixelSpacing tag: none (as most of CBIS-DDSM),
        every other one (starting with the second), or all.
    render_rows : int
        Rows at which the anatomy is rendered before enlarging.

    Returns
    -------
    list of str
        The case names (subject folders), in CSV order.

    Raises
    ------
    ValueError
        If ``n_cases < 1``, ``rows < render_rows`` or ``spacing_tag`` is unknown.

    Example
    -------
    >>> names = write_cbis_layout(tempfile.mkdtemp(), n_cases=1, rows=3000)  # doctest: +SKIP
    >>> load_cases(root).loc[0, "case"]                                       # doctest: +SKIP
    'Mass-Training_P_00001_LEFT_CC'
    """
    import pandas as pd

    if int(n_cases) < 1:
        raise ValueError(f"n_cases must be at least 1, got {n_cases}")
    if int(rows) < int(render_rows):
        raise ValueError(f"rows ({rows}) must be at least render_rows ({render_rows})")
    if spacing_tag not in ("none", "some", "all"):
        raise ValueError(f"spacing_tag must be 'none', 'some' or 'all', got {spacing_tag!r}")
    root = Path(root)
    tree = root / "CBIS-DDSM"
    rng = np.random.default_rng(seed)
    factor = -(-int(rows) // int(render_rows))
    table_rows = {"mass": [], "calcification": []}
    names = []
    for index in range(int(n_cases)):
        kind = "mass" if index % 2 == 0 else "calcification"
        side = "LEFT" if rng.random() < 0.5 else "RIGHT"
        view = "CC" if index % 4 < 2 else "MLO"
        density = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.4, 0.33, 0.12]))
        pathology = str(rng.choice(["MALIGNANT", "BENIGN"]))
        family = "MALIGNANT" if pathology == "MALIGNANT" else "BENIGN"
        subtlety = int(rng.integers(2, 6))
        cols = int(round(int(rows) * rng.uniform(0.56, 0.66)))
        small_shape = (-(-int(rows) // factor), -(-cols // factor))
        margin = str(rng.choice(_MASS_MARGINS[family]))
        image, roi_mask, _ = render_case(
            height=small_shape[0],
            width=small_shape[1],
            side=side,
            view=view,
            density=density,
            abnormality=kind,
            margin=margin if kind == "mass" else "CIRCUMSCRIBED",
            subtlety=subtlety,
            seed=int(rng.integers(2**31)),
        )
        image = _upsampled(image, factor, (int(rows), cols))
        noise = rng.integers(-300, 301, size=image.shape, dtype=np.int32)
        image = np.clip(image.astype(np.int32) + noise, 0, 65535).astype(np.uint16)
        del noise
        roi_mask = _upsampled(roi_mask, factor, (int(rows), cols))
        patient_id = f"P_{index + 1:05d}"
        prefix = "Mass" if kind == "mass" else "Calc"
        case = f"{prefix}-Training_{patient_id}_{side}_{view}"
        names.append(case)
        with_spacing = spacing_tag == "all" or (spacing_tag == "some" and index % 2 == 1)
        spacing = _FILM_HEIGHT_MM / int(rows) if with_spacing else None
        n = 10001 + index
        full = (
            tree / case / f"07-20-2016-DDSM-NA-{n}" / f"1.000000-full mammogram images-{n + 10000}"
        )
        _write_dicom(full / "1-1.dcm", image, "full mammogram images", spacing, 3 * n)
        roi_folder = (
            tree / f"{case}_1" / f"07-21-2016-DDSM-NA-{n + 20000}"
            f"/1.000000-ROI mask images-{n + 30000}"
        )
        crop = image[_bbox(roi_mask > 0)]
        mask_name, crop_name = ("1-1.dcm", "1-2.dcm") if index % 2 == 0 else ("1-2.dcm", "1-1.dcm")
        _write_dicom(roi_folder / mask_name, roi_mask, "ROI mask images", spacing, 3 * n + 1)
        _write_dicom(roi_folder / crop_name, crop, "ROI mask images", spacing, 3 * n + 2)
        del image, roi_mask, crop
        uid = "1.3.6.1.4.1.9590.100.1.2."
        detail = (
            (str(rng.choice(_MASS_SHAPES[family])), margin)
            if kind == "mass"
            else (
                str(rng.choice(_CALC_TYPES[family])),
                str(rng.choice(_CALC_DISTRIBUTIONS[family])),
            )
        )
        table_rows[kind].append(
            {
                "patient_id": patient_id,
                "density": density,
                "left or right breast": side,
                "image view": view,
                "abnormality id": 1,
                "abnormality type": kind,
                "detail_a": detail[0],
                "detail_b": detail[1],
                "assessment": 4 if pathology == "MALIGNANT" else 3,
                "pathology": pathology,
                "subtlety": subtlety,
                "image file path": f"{case}/{uid}{3 * n}/{uid}{3 * n + 7}/000000.dcm",
                "cropped image file path": f"{case}_1/{uid}{3 * n + 1}/{uid}{3 * n + 8}/000000.dcm\n",
                "ROI mask file path": f"{case}_1/{uid}{3 * n + 1}/{uid}{3 * n + 8}/000001.dcm\n",
            }
        )
    for kind, filename in (
        ("mass", "mass_case_description_train_set.csv"),
        ("calcification", "calc_case_description_train_set.csv"),
    ):
        if not table_rows[kind]:
            continue
        columns = CSV_COLUMNS[kind]
        table = pd.DataFrame(table_rows[kind])
        table.columns = [columns[1] if c == "density" else c for c in table.columns]
        table = table.rename(columns={"detail_a": columns[6], "detail_b": columns[7]})[columns]
        buffer = io.StringIO()
        table.to_csv(buffer, index=False, lineterminator="\n")
        _write(root / filename, buffer.getvalue().encode("utf-8"))
    return names


def read_spacing(path) -> float | None:
    """Row pixel spacing in mm from a DICOM header, or None when the file has none.

    Reads ``PixelSpacing`` (then ``ImagerPixelSpacing``) without the pixels.
    PNG/JPEG files and most CBIS-DDSM DICOM files carry no spacing: the caller
    must then decide (and say) what it assumes.

    Example
    -------
    >>> read_spacing(cases.loc[0, "image_path"])   # doctest: +SKIP
    0.06
    """
    path = Path(path)
    if path.suffix.lower() != ".dcm":
        return None
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is not None:
            try:
                spacing = float(value[0])
            except (TypeError, ValueError, IndexError):
                continue
            if spacing > 0:
                return spacing
    return None


# --------------------------------------------------------------------------- reading
_CASE_CSV_PATTERN = "*_case_description*.csv"


def _density_column(table):
    for name in ("breast_density", "breast density"):
        if name in table.columns:
            return name
    return None


def load_cases(root):
    """All case-description CSVs under ``root`` as one table with resolved paths.

    Works on the generated ``mammo-roi`` folder and on a real CBIS-DDSM copy
    (original TCIA DICOM tree or a PNG/JPEG re-export; see
    ``data_manifests/cbis-ddsm.yaml``). The density column is harmonised to
    ``breast_density``, newline characters at the end of paths are removed,
    and three columns are added: ``image_path``, ``mask_path`` and
    ``crop_path`` (absolute paths, or None when the file cannot be found),
    plus ``case`` (the subject folder name, e.g. ``Mass-Training_P_00004_LEFT_CC``)
    and ``source_csv``.

    Parameters
    ----------
    root : path
        The dataset's top folder.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist or holds no ``*_case_description*.csv``.

    Example
    -------
    >>> cases = load_cases(data.dataset_path("mammo-roi"))   # doctest: +SKIP
    >>> cases[["patient_id", "image view", "pathology"]].head(2)   # doctest: +SKIP
    """
    import pandas as pd

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"mammography folder {root} does not exist")
    csv_files = sorted(root.rglob(_CASE_CSV_PATTERN))
    if not csv_files:
        raise FileNotFoundError(
            f"no case-description CSV (pattern {_CASE_CSV_PATTERN}) under {root}; expected e.g. "
            "mass_case_description_train_set.csv"
        )
    resolver = _PathResolver(root)
    tables = []
    for csv_path in csv_files:
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        density = _density_column(table)
        if density and density != "breast_density":
            table = table.rename(columns={density: "breast_density"})
        for column in ("image file path", "cropped image file path", "ROI mask file path"):
            if column in table.columns:
                table[column] = table[column].str.strip()
        table["source_csv"] = csv_path.relative_to(root).as_posix()
        tables.append(table)
    cases = pd.concat(tables, ignore_index=True)
    for column in ("breast_density", "abnormality id", "assessment", "subtlety"):
        if column in cases.columns:
            cases[column] = pd.to_numeric(cases[column], errors="coerce").astype("Int64")
    image_col = cases.get("image file path", pd.Series([""] * len(cases)))
    cases["case"] = [_case_name(p) for p in image_col]
    cases["image_path"] = [resolver.resolve(p, role="image") for p in image_col]
    mask_col = cases.get("ROI mask file path", pd.Series([""] * len(cases)))
    crop_col = cases.get("cropped image file path", pd.Series([""] * len(cases)))
    cases["mask_path"] = [resolver.resolve(p, role="mask") for p in mask_col]
    cases["crop_path"] = [resolver.resolve(p, role="crop") for p in crop_col]
    return cases


def _case_name(csv_path: str) -> str:
    """Subject name of an image path: ``Mass-Training_P_00004_LEFT_CC/...`` or ``images/<case>.png``."""
    parts = Path(str(csv_path).strip().replace("\\", "/")).parts
    if not parts:
        return ""
    for part in parts:
        if part.startswith(("Mass-", "Calc-")):
            return Path(part).stem if Path(part).suffix.lower() in _IMAGE_SUFFIXES else part
    return Path(parts[-1]).stem


_IMAGE_SUFFIXES = (".dcm", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


class _PathResolver:
    """Find the file a CSV path refers to in the accepted layouts (see the cbis-ddsm manifest)."""

    def __init__(self, root: Path):
        self.root = root
        self.bases = [root] + [
            root / name for name in ("CBIS-DDSM", "cbis-ddsm") if (root / name).is_dir()
        ]
        self._subject_cache: dict[str, list[Path]] = {}

    def resolve(self, csv_path: str, role: str) -> Path | None:
        csv_path = (csv_path or "").strip().replace("\\", "/")
        if not csv_path:
            return None
        relative = Path(csv_path)
        for base in self.bases:
            candidate = base / relative
            if candidate.is_file():
                return candidate
            for suffix in _IMAGE_SUFFIXES:
                alternative = candidate.with_suffix(suffix)
                if alternative.is_file():
                    return alternative
        # TCIA tree downloaded with descriptive folder names: match by subject folder
        subject = relative.parts[0]
        files = self._subject_files(subject)
        if role == "image" and len(files) == 1:
            return files[0]
        if role in ("mask", "crop") and files:
            wanted = relative.name
            for path in files:
                if path.name == wanted:
                    return path
            return _pick_mask_or_crop(files, role)
        return None

    def _subject_files(self, subject: str) -> list[Path]:
        if subject not in self._subject_cache:
            found: list[Path] = []
            for base in self.bases:
                folder = base / subject
                if folder.is_dir():
                    found = sorted(
                        p
                        for p in folder.rglob("*")
                        if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
                    )
                    break
            self._subject_cache[subject] = found
        return self._subject_cache[subject]


def _header(path: Path) -> dict:
    """Rows, columns, bits and (DICOM) series description from the file header only."""
    if path.suffix.lower() == ".dcm":
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return {
            "rows": int(ds.Rows),
            "cols": int(ds.Columns),
            "bits": int(ds.get("BitsStored", ds.get("BitsAllocated", 0))),
            "description": str(ds.get("SeriesDescription", "")),
        }
    from PIL import Image

    with Image.open(path) as handle:
        width, height = handle.size
        mode = handle.mode
    bits = 16 if mode in ("I;16", "I;16B", "I", "I;16L") else 1 if mode == "1" else 8
    return {"rows": height, "cols": width, "bits": bits, "description": ""}


def _pick_mask_or_crop(files: list[Path], role: str) -> Path | None:
    """In an ROI folder holding both files, tell the mask from the crop by header."""
    descriptions = {}
    for path in files:
        try:
            descriptions[path] = _header(path)
        except Exception:
            continue
    texts = {path: head["description"].lower() for path, head in descriptions.items()}
    if len(set(texts.values())) == len(texts):  # descriptions tell the files apart
        for path, text in texts.items():
            if role == "mask" and "mask" in text or role == "crop" and "crop" in text:
                return path
    if len(descriptions) == 2:
        (a, ha), (b, hb) = descriptions.items()
        larger, smaller = (a, b) if ha["rows"] * ha["cols"] >= hb["rows"] * hb["cols"] else (b, a)
        return larger if role == "mask" else smaller
    return None


def read_case(row, *, check: bool = True):
    """Read one case's full image and ROI mask (a row of :func:`load_cases`).

    Parameters
    ----------
    row : mapping
        A row of :func:`load_cases` (needs ``image_path`` and ``mask_path``).
    check : bool
        Raise if the mask does not fit the image (size differs, or the file
        holds grey levels rather than 0/255 — e.g. a swapped cropped image).

    Returns
    -------
    image : numpy.ndarray, 2-D (uint16 for 16-bit files)
        Dense tissue bright: a MONOCHROME1 DICOM film is mirrored within its
        stored bits (``2**BitsStored - 1 - value``) so it reads like MONOCHROME2.
    roi_mask : numpy.ndarray of bool, same shape

    Raises
    ------
    FileNotFoundError
        If the image or mask path is missing.
    ValueError
        If ``check`` and the mask does not match the image.

    Example
    -------
    >>> image, roi = read_case(load_cases(root).iloc[0])   # doctest: +SKIP
    """
    image_path, mask_path = row.get("image_path"), row.get("mask_path")
    for label, path in (("image", image_path), ("ROI mask", mask_path)):
        if path is None or not Path(path).is_file():
            raise FileNotFoundError(
                f"{label} file of case {row.get('case', '?')} not found ({path})"
            )
    image = _read_pixels(Path(image_path))
    mask = _read_pixels(Path(mask_path))
    if mask.ndim == 3:
        mask = mask[..., 0]
    if check:
        if mask.shape != image.shape:
            raise ValueError(
                f"ROI mask of case {row.get('case', '?')} has shape {mask.shape}, but the image has "
                f"{image.shape}; expected the same size"
            )
        values = np.unique(mask)
        if values.size > 2:
            raise ValueError(
                f"ROI mask of case {row.get('case', '?')} holds {values.size} grey levels; expected a binary "
                "mask (0 and 255). Is it the cropped image (swapped files)?"
            )
    return image, mask > 0


def _read_pixels(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".dcm":
        import pydicom

        dataset = pydicom.dcmread(path)
        pixels = dataset.pixel_array
        if str(dataset.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
            # low values are bright in MONOCHROME1: mirror within the stored bits so that dense
            # tissue is bright, as in the MONOCHROME2 films and PNG copies of the same dataset
            bits = int(dataset.get("BitsStored", pixels.dtype.itemsize * 8))
            if int(dataset.get("PixelRepresentation", 0)) == 1:
                low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
            else:
                low, high = 0, 2**bits - 1
            pixels = (low + high - pixels.astype(np.int64)).astype(pixels.dtype)
        return pixels
    import cv2

    array = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ValueError(f"could not decode image file {path}")
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)
    return array


# --------------------------------------------------------------------------- validation
_REQUIRED_COLUMNS = (
    "patient_id",
    "left or right breast",
    "image view",
    "abnormality id",
    "abnormality type",
    "pathology",
    "subtlety",
    "image file path",
    "ROI mask file path",
)
_TYPE_COLUMNS = {
    "mass": ("mass shape", "mass margins"),
    "calcification": ("calc type", "calc distribution"),
}
_MAX_FINDINGS_PER_KIND = 50


def _int_or_none(text):
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def validate_cbis_ddsm(root, report) -> None:
    """Check a CBIS-DDSM folder against ``data_manifests/cbis-ddsm.yaml`` (headers only).

    Looks for the case-description CSVs anywhere under ``root`` and checks
    their columns and value sets, duplicated rows, and every file a row
    refers to (full image, ROI mask, cropped image): that it exists in one of
    the accepted layouts (original TCIA DICOM tree, with either the CSV's UID
    folder names or the NBIA retriever's descriptive folder names; or a PNG /
    JPEG / TIFF re-export), that its header can be read, and that the ROI
    mask has the image's size. Sizes come from the file headers (DICOM read
    with ``stop_before_pixels``, image headers via Pillow); no pixels are
    decoded and nothing is written.

    Parameters
    ----------
    root : pathlib.Path
        The dataset's top folder.
    report : course_utils.data.ValidationReport
        Findings and summary counts are added to it.

    Example
    -------
    >>> from course_utils import data
    >>> report = data.validate("cbis-ddsm", "/data/CBIS-DDSM")   # doctest: +SKIP
    >>> print(report)                                            # doctest: +SKIP
    """
    import pandas as pd

    from course_utils.data import Finding

    root = Path(root)
    counts: dict[str, int] = {}

    def add(severity, where, message, kind=None):
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
            if counts[kind] == _MAX_FINDINGS_PER_KIND + 1:
                report.findings.append(
                    Finding(
                        "note",
                        "(several)",
                        f"more '{kind}' findings follow; only the first {_MAX_FINDINGS_PER_KIND} are listed",
                    )
                )
            if counts[kind] > _MAX_FINDINGS_PER_KIND:
                if severity == "error":  # keep the report's verdict right without flooding it
                    report.summary["problems not listed"] = (
                        report.summary.get("problems not listed", 0) + 1
                    )
                return
        report.findings.append(Finding(severity, where, message))

    csv_files = sorted(root.rglob(_CASE_CSV_PATTERN))
    if not csv_files:
        n_dicom = next(iter(root.rglob("*.dcm")), None) is not None
        extra = (
            " (DICOM files are present: download the CSVs from the TCIA collection page)"
            if n_dicom
            else ""
        )
        add(
            "error",
            ".",
            "no case-description CSV found; expected mass_case_description_train_set.csv, "
            f"calc_case_description_train_set.csv, ... (pattern {_CASE_CSV_PATTERN}){extra}",
        )
        report.summary["csv files"] = 0
        return

    resolver = _PathResolver(root)
    headers: dict[Path, dict | None] = {}

    def header_of(path: Path, where: str):
        if path not in headers:
            try:
                headers[path] = _header(path)
            except Exception as exc:  # unreadable or truncated file
                headers[path] = None
                add(
                    "error",
                    where,
                    f"cannot read the header of {_rel(path, root)} ({type(exc).__name__}: {exc})",
                    "unreadable",
                )
        return headers[path]

    seen_keys: dict[tuple, str] = {}
    seen_images: dict[str, str] = {}
    seen_masks: dict[str, str] = {}
    referenced_subjects: set[str] = set()
    n_rows = 0
    patients: set[str] = set()
    images: set[str] = set()
    type_counts: dict[str, int] = {}
    pathology_counts: dict[str, int] = {}
    for csv_path in csv_files:
        csv_name = _rel(csv_path, root)
        try:
            table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        except Exception as exc:
            add("error", csv_name, f"cannot be read as CSV ({type(exc).__name__}: {exc})")
            continue
        density_column = _density_column(table)
        missing = [c for c in _REQUIRED_COLUMNS if c not in table.columns]
        if density_column is None:
            missing.insert(1, "breast_density (or 'breast density')")
        if missing:
            add(
                "error",
                csv_name,
                f"missing required column(s) {missing}; found {list(table.columns)}. Column names must match "
                "the TCIA CSVs exactly (they contain spaces)",
            )
            continue
        expected_type = (
            "calcification"
            if csv_path.name.lower().startswith("calc")
            else ("mass" if csv_path.name.lower().startswith("mass") else None)
        )
        if expected_type is not None:
            absent = [c for c in _TYPE_COLUMNS[expected_type] if c not in table.columns]
            if absent:
                add(
                    "note",
                    csv_name,
                    f"column(s) {absent} absent (descriptive only; not needed by the lessons)",
                )
        if table.empty:
            add("error", csv_name, "has a header but no rows")
            continue
        for index, row in table.iterrows():
            n_rows += 1
            where = f"{csv_name}:line {index + 2}"
            values = {c: str(row[c]).strip() for c in table.columns}
            empty = [c for c in _REQUIRED_COLUMNS if not values[c]]
            if not values[density_column]:
                empty.append(density_column)
            if empty:
                add("error", where, f"empty value(s) in {empty}", "empty values")
            for column, allowed in VALUE_SETS.items():
                if values[column] and values[column] not in allowed:
                    add(
                        "error",
                        where,
                        f"'{column}' is {values[column]!r}; expected one of {sorted(allowed)}",
                        "value sets",
                    )
            for column, key in (
                (density_column, "density"),
                ("subtlety", "subtlety"),
                ("abnormality id", "abnormality id"),
            ):
                low, high = INT_RANGES[key]
                number = _int_or_none(values[column]) if values[column] else None
                if values[column] and (number is None or not low <= number <= high):
                    add(
                        "error",
                        where,
                        f"'{column}' is {values[column]!r}; expected an integer {low}..{high}",
                        "value sets",
                    )
            if (
                expected_type
                and values["abnormality type"] in VALUE_SETS["abnormality type"]
                and values["abnormality type"] != expected_type
            ):
                add(
                    "error",
                    where,
                    f"abnormality type {values['abnormality type']!r} in the {expected_type} CSV",
                    "value sets",
                )
            patient = values["patient_id"]
            patients.add(patient)
            type_counts[values["abnormality type"]] = (
                type_counts.get(values["abnormality type"], 0) + 1
            )
            pathology_counts[values["pathology"]] = pathology_counts.get(values["pathology"], 0) + 1
            key = (
                patient,
                values["left or right breast"],
                values["image view"],
                values["abnormality type"],
                values["abnormality id"],
            )
            if key in seen_keys:
                add(
                    "error",
                    where,
                    f"duplicate of {seen_keys[key]} (same patient, side, view, type and abnormality id)",
                    "duplicates",
                )
            else:
                seen_keys[key] = where
            image_text = values["image file path"]
            mask_text = values["ROI mask file path"]
            if image_text:
                images.add(image_text)
                owner = seen_images.setdefault(image_text, patient)
                if owner != patient:
                    add(
                        "error",
                        where,
                        f"image {image_text!r} is also listed for patient {owner}",
                        "duplicates",
                    )
                if patient and "P_" in image_text and patient not in image_text:
                    add(
                        "error",
                        where,
                        f"patient_id {patient} does not appear in its image path {image_text!r}",
                        "value sets",
                    )
            if mask_text:
                if mask_text in seen_masks:
                    add(
                        "error",
                        where,
                        f"ROI mask path is the same as in {seen_masks[mask_text]}",
                        "duplicates",
                    )
                else:
                    seen_masks[mask_text] = where
            for text in (image_text, mask_text, values.get("cropped image file path", "")):
                if text:
                    referenced_subjects.add(Path(text.replace("\\", "/")).parts[0])
            image_path = resolver.resolve(image_text, "image") if image_text else None
            mask_path = resolver.resolve(mask_text, "mask") if mask_text else None
            crop_text = values.get("cropped image file path", "")
            crop_path = resolver.resolve(crop_text, "crop") if crop_text else None
            if image_text and image_path is None:
                add("error", where, f"image file not found: {image_text!r}", "missing files")
            if mask_text and mask_path is None:
                add("error", where, f"ROI mask not found: {mask_text!r}", "missing files")
            image_head = header_of(image_path, where) if image_path else None
            mask_head = header_of(mask_path, where) if mask_path else None
            crop_head = header_of(crop_path, where) if crop_path else None
            if image_head and mask_head:
                image_size = (image_head["rows"], image_head["cols"])
                mask_size = (mask_head["rows"], mask_head["cols"])
                crop_size = (crop_head["rows"], crop_head["cols"]) if crop_head else None
                if mask_size != image_size:
                    if crop_size == image_size:
                        add(
                            "error",
                            where,
                            f"ROI mask {_rel(mask_path, root)} ({mask_size[0]}x{mask_size[1]}) and cropped image "
                            f"{_rel(crop_path, root)} look swapped: the 'crop' has the image's size "
                            f"{image_size[0]}x{image_size[1]}",
                            "mask problems",
                        )
                    else:
                        add(
                            "error",
                            where,
                            f"ROI mask {_rel(mask_path, root)} is {mask_size[0]}x{mask_size[1]} (rows x cols) but "
                            f"the image is {image_size[0]}x{image_size[1]}; expected the same size",
                            "mask problems",
                        )
                elif mask_head["bits"] > 8 and crop_head is not None and crop_head["bits"] <= 8:
                    add(
                        "error",
                        where,
                        f"ROI mask {_rel(mask_path, root)} has {mask_head['bits']}-bit values and the cropped image "
                        "8-bit ones: the two files look swapped",
                        "mask problems",
                    )
    # folders of the DICOM tree that no CSV row mentions
    for base in resolver.bases[1:]:
        unlisted = sorted(
            p.name for p in base.iterdir() if p.is_dir() and p.name not in referenced_subjects
        )
        if unlisted:
            shown = ", ".join(unlisted[:5])
            add(
                "note",
                _rel(base, root),
                f"{len(unlisted)} folder(s) not referenced by any CSV row (e.g. {shown})",
            )
    report.summary.update(
        {
            "csv files": len(csv_files),
            "rows (abnormalities)": n_rows,
            "patients": len(patients),
            "images": len(images),
            "abnormality types": dict(sorted(type_counts.items())),
            "pathology": dict(sorted(pathology_counts.items())),
            "files whose header was read": len(headers),
        }
    )


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)
