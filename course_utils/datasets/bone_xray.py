"""The ``bone-xray`` generated dataset (like MURA) and the validator of a real MURA folder.

Generated layout (``dataset_path("bone-xray")``)::

    MURA-v1.1/
        train_image_paths.csv          no header; one path per line, e.g.
                                       MURA-v1.1/train/XR_WRIST/patient00003/study1_positive/image1.png
        train_labeled_studies.csv      no header; "<study folder>/,<0|1>"
        valid_image_paths.csv
        valid_labeled_studies.csv
        train/XR_<TYPE>/patient<NNNNN>/study<k>_<positive|negative>/image<n>.png
        valid/...                      (patients 11185 onwards, disjoint from train)
    clean/MURA-v1.1/...                the same relative paths: noise-free originals
    bone_xray_truth.csv                per image: study type, label, abnormality,
                                       pixel spacing (mm), photons per pixel, inverted, size

The images under ``MURA-v1.1`` are 8-bit greyscale PNGs (like the real MURA
files) with photon (Poisson) noise, as a detector would record them. The
``clean`` twins are **16-bit** greyscale PNGs of the same image without noise
and without 8-bit quantisation: ``clean / 65535`` and ``noisy / 255`` are on
the same [0, 1] display scale, so denoising can be scored against ground truth.

How an image is made (a projection radiograph, not a painting):

1. The limb is modelled in millimetres as tapered cylinders: each long bone is
   a hollow cylinder (cortical wall, medullary cavity) with flared ends filled
   with trabecular bone; soft tissue surrounds the bones. For every pixel the
   path length through each material along the beam is computed exactly for
   cylinders (chord length ``2 * sqrt(R**2 - d**2)``).
2. Attenuation line integral ``A = sum(mu_i * L_i)`` with linear attenuation
   coefficients typical of an extremity beam (~50 kVp; soft tissue ~0.035/mm,
   cortical bone ~0.25/mm), plus a lead side marker, metal hardware in some abnormal
   studies, and collimator blades (unexposed, bright after processing).
3. Photon counting: ``counts ~ Poisson(N0 * exp(-A))``; the processed image
   shows ``-log(counts / N0)`` windowed to [0, 1], so bone is bright and the
   noise is largest under bone, where fewest photons arrive.

Deliberate quirks (as in MURA): sizes vary (longest side up to 512 px), some
images are wider than tall, limbs are rotated, one image is stored with
inverted grey levels (white background), abnormal studies include metal
plates with screws (a label shortcut), and each study folder holds 1-3 views.

Example
-------
>>> from course_utils import data
>>> root = data.dataset_path("bone-xray")   # doctest: +SKIP
>>> report = data.validate("mura", root / "MURA-v1.1")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import re
import struct
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = ["DEFAULTS", "STUDY_TYPES", "generate", "validate_mura", "read_png_header"]

STUDY_TYPES = (
    "XR_ELBOW",
    "XR_FINGER",
    "XR_FOREARM",
    "XR_HAND",
    "XR_HUMERUS",
    "XR_SHOULDER",
    "XR_WRIST",
)

DEFAULTS = {
    "seed": 0,
    "n_patients_train": 10,
    "n_patients_valid": 4,
    "max_side": 512,
    "min_side": 256,
    "photons_per_pixel": 3000.0,
    "positive_fraction": 0.4,
    "n_inverted": 1,
}

MURA_FOLDER = "MURA-v1.1"
FIRST_VALID_PATIENT = 11185  # the real MURA v1.1 numbers validation patients from here

# Linear attenuation coefficients in 1/mm (order of magnitude for a ~50 kVp extremity beam).
MU_SOFT = 0.035
MU_MARROW = 0.032
MU_CORTEX = 0.25
MU_TRABECULAR = 0.025  # spongy bone: ~15-20 % bone volume fraction

# thicker body parts are imaged with harder beams (higher kVp): lower attenuation overall
_BEAM_FACTOR = {"XR_SHOULDER": 0.5, "XR_HUMERUS": 0.75, "XR_ELBOW": 0.9}

# field of view along the long image side, in mm, per study type
_FOV_MM = {
    "XR_ELBOW": 200.0,
    "XR_FINGER": 90.0,
    "XR_FOREARM": 300.0,
    "XR_HAND": 230.0,
    "XR_HUMERUS": 360.0,
    "XR_SHOULDER": 260.0,
    "XR_WRIST": 150.0,
}

# 5 x 7 blocky glyphs of the lead side markers
_GLYPHS = {
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
}


# --------------------------------------------------------------------------- anatomy
def _bone(p0, p1, radius, cortex, flare0=0.6, flare1=0.6, density=1.0):
    """A long bone from p0 to p1 (mm): shaft radius, cortical thickness, flared ends."""
    return {
        "p0": np.asarray(p0, float),
        "p1": np.asarray(p1, float),
        "radius": float(radius),
        "cortex": float(cortex),
        "flare": (float(flare0), float(flare1)),
        "density": float(density),
    }


def _soft(p0, p1, r0, r1):
    """A soft-tissue envelope: a capsule whose radius goes linearly from r0 to r1."""
    return {"p0": np.asarray(p0, float), "p1": np.asarray(p1, float), "r": (float(r0), float(r1))}


def _hand_parts(rng, y_shift):
    bones, soft = [], []
    # distal radius and ulna
    bones.append(_bone((-10, -170 + y_shift), (-9, -78 + y_shift), 8.5, 2.2, 0.2, 0.9))
    bones.append(_bone((12, -170 + y_shift), (11, -82 + y_shift), 6.0, 2.0, 0.2, 0.5))
    soft.append(_soft((0, -180 + y_shift), (0, -70 + y_shift), 30, 34))
    # carpal bones: short, round
    for cx, cy in [
        (-12, -64),
        (-2, -66),
        (9, -66),
        (16, -60),
        (-14, -48),
        (-4, -50),
        (6, -50),
        (15, -47),
    ]:
        bones.append(_bone((cx, cy - 2 + y_shift), (cx, cy + 2 + y_shift), 4.5, 1.2, 0.0, 0.0))
    soft.append(_soft((0, -70 + y_shift), (0, 5 + y_shift), 40, 44))
    # metacarpals and phalanges of the fingers, fanning out
    lengths = [(58, 40, 25, 20), (62, 44, 28, 22), (58, 40, 26, 21), (52, 33, 22, 19)]
    for k, (angle_deg, (meta, prox, mid, dist)) in enumerate(
        zip((-9, -3, 3, 9), lengths, strict=True)
    ):
        angle = np.deg2rad(angle_deg + rng.normal(0, 1.5))
        direction = np.array([np.sin(angle), np.cos(angle)])
        start = np.array([-15 + 10 * k, -40 + y_shift])
        radii = (4.2, 3.8, 3.1, 2.6)
        point = start
        for length, radius, flare in zip(
            (meta, prox, mid, dist), radii, (0.5, 0.45, 0.4, 0.3), strict=True
        ):
            end = point + direction * length
            bones.append(_bone(point, end, radius, 1.2, flare, flare))
            point = end + direction * 3.0  # joint space
        soft.append(_soft(start + direction * meta, point, 10, 8))
    # thumb
    angle = np.deg2rad(-45 + rng.normal(0, 3))
    direction = np.array([np.sin(angle), np.cos(angle)])
    point = np.array([-22, -46 + y_shift])
    for length, radius in zip((42, 30, 22), (4.4, 3.9, 3.0), strict=True):
        end = point + direction * length
        bones.append(_bone(point, end, radius, 1.3, 0.45, 0.45))
        point = end + direction * 3.0
    soft.append(_soft(np.array([-22, -46 + y_shift]), point, 14, 10))
    return bones, soft


def _anatomy(study_type: str, rng: np.random.Generator):
    """Bones and soft tissue of one study type in a canonical frame (mm, limb along +y)."""
    jitter = lambda scale: rng.normal(0.0, scale)  # noqa: E731
    if study_type == "XR_FOREARM":
        bones = [
            _bone(
                (-13, -150), (-9 + jitter(1), 150), 7.0, 2.4, 0.5, 0.9
            ),  # radius (distal end flares)
            _bone(
                (12, -155), (9 + jitter(1), 145), 6.0, 2.2, 0.8, 0.35
            ),  # ulna (olecranon end wider)
        ]
        soft = [_soft((0, -170), (0, 170), 42, 31)]
    elif study_type == "XR_HUMERUS":
        bones = [_bone((0, -185), (jitter(2), 185), 11.0, 3.6, 1.1, 0.9)]
        soft = [_soft((0, -200), (0, 200), 55, 42)]
    elif study_type == "XR_FINGER":
        bones, y = [], -60.0
        for length, radius, flare in (
            (40, 4.8, 0.45),
            (36, 4.6, 0.45),
            (24, 3.9, 0.4),
            (18, 3.3, 0.3),
        ):
            bones.append(_bone((0, y), (jitter(0.3), y + length), radius, 1.3, flare, flare))
            y += length + 2.5
        soft = [_soft((0, -70), (0, y - 1), 12, 8.5)]
    elif study_type in ("XR_HAND", "XR_WRIST"):
        bones, soft = _hand_parts(rng, y_shift=0.0 if study_type == "XR_HAND" else 55.0)
    elif study_type == "XR_ELBOW":
        carrying = np.deg2rad(8 + jitter(3))
        direction = np.array([np.sin(carrying), np.cos(carrying)])
        bones = [
            _bone((0, -160), (0, -8), 10.5, 3.2, 0.2, 1.4),  # distal humerus, condyles
            _bone((-11, 6), np.array([-11, 6]) + 150 * direction, 6.5, 2.3, 0.7, 0.3),  # radius
            _bone((9, -6), np.array([11, 2]) + 150 * direction, 7.0, 2.3, 1.0, 0.3),  # ulna
        ]
        soft = [
            _soft((0, -170), (0, 0), 45, 42),
            _soft((0, 0), 150 * direction, 42, 35),
        ]
    elif study_type == "XR_SHOULDER":
        bones = [
            _bone((0, -42), (0, -40), 24.0, 2.0, 0.0, 0.0),  # humeral head
            _bone((2, -38), (12 + jitter(2), 160), 11.5, 3.4, 0.7, 0.2),  # shaft
            _bone((-62, -70), (-45, 90), 22.0, 1.5, 0.0, 0.0, density=0.55),  # scapula blade
            _bone((-140, -115), (25, -92), 7.0, 2.2, 0.3, 0.5),  # clavicle
            _bone((-30, -78), (22, -74), 7.5, 2.0, 0.2, 0.4),  # acromion
        ]
        soft = [_soft((-40, -60), (-10, 150), 120, 95)]
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(f"unknown study type {study_type!r}; expected one of {STUDY_TYPES}")
    return bones, soft


def _segment_coordinates(x, y, p0, p1):
    """Position along the segment (t in [0, 1], clipped) and distance to it, per pixel."""
    axis = p1 - p0
    length_sq = float(axis @ axis) or 1e-9
    t = ((x - p0[0]) * axis[0] + (y - p0[1]) * axis[1]) / length_sq
    t_clipped = np.clip(t, 0.0, 1.0)
    dx = x - (p0[0] + t_clipped * axis[0])
    dy = y - (p0[1] + t_clipped * axis[1])
    return t_clipped, np.hypot(dx, dy)


def _chord(radius, distance):
    """Path length (mm) of a ray through a cylinder/sphere of ``radius`` at ``distance`` from its axis."""
    return 2.0 * np.sqrt(np.clip(radius * radius - distance * distance, 0.0, None))


def _trabecular_tile(rng: np.random.Generator, size: int = 192) -> np.ndarray:
    """Periodic texture of streaks along the bone axis: plates and rods of spongy bone."""
    white = rng.standard_normal((size, size))
    streaks = ndimage.gaussian_filter(white, sigma=(3.0, 1.0), mode="wrap")
    streaks = (streaks - streaks.mean()) / streaks.std()
    return 1.0 / (1.0 + np.exp(-2.5 * streaks))  # soft threshold: 0..1, mean ~0.5


def _bounding_slices(to_pixels, shape, p0, p1, reach_mm):
    """Pixel slices covering the segment p0-p1 widened by ``reach_mm`` (None if off-image)."""
    xs = [p0[0] - reach_mm, p0[0] + reach_mm, p1[0] - reach_mm, p1[0] + reach_mm]
    ys = [p0[1] - reach_mm, p0[1] + reach_mm, p1[1] - reach_mm, p1[1] + reach_mm]
    corners = np.array([(x, y) for x in (min(xs), max(xs)) for y in (min(ys), max(ys))])
    rows, cols = to_pixels(corners[:, 0], corners[:, 1])
    r0, r1 = max(int(np.floor(rows.min())) - 1, 0), min(int(np.ceil(rows.max())) + 2, shape[0])
    c0, c1 = max(int(np.floor(cols.min())) - 1, 0), min(int(np.ceil(cols.max())) + 2, shape[1])
    if r0 >= r1 or c0 >= c1:
        return None
    return slice(r0, r1), slice(c0, c1)


def _attenuation(anatomy, x_mm, y_mm, to_pixels, tile, abnormality):
    """Line integrals through the limb per pixel (dimensionless): tissue and bone, and metal."""
    bones, soft = anatomy
    shape = x_mm.shape
    soft_path = np.zeros(shape)
    for part in soft:
        window = _bounding_slices(to_pixels, shape, part["p0"], part["p1"], max(part["r"]))
        if window is None:
            continue
        t, distance = _segment_coordinates(x_mm[window], y_mm[window], part["p0"], part["p1"])
        radius = part["r"][0] + t * (part["r"][1] - part["r"][0])
        soft_path[window] = np.maximum(soft_path[window], _chord(radius, distance))
    texel_mm = 0.3
    bone_att = np.zeros(shape)
    bone_path = np.zeros(shape)
    for index, bone in enumerate(bones):
        reach = bone["radius"] * (1.0 + max(bone["flare"])) + 1.0
        window = _bounding_slices(to_pixels, shape, bone["p0"], bone["p1"], reach)
        if window is None:
            continue
        x, y = x_mm[window], y_mm[window]
        t, distance = _segment_coordinates(x, y, bone["p0"], bone["p1"])
        length = float(np.linalg.norm(bone["p1"] - bone["p0"]))
        end_width = max(min(0.15, 12.0 / max(length, 1e-6)), 0.05)
        # widest a little inside each end, slightly rounder at the very tip
        ends = bone["flare"][0] * np.exp(-(((t - 0.4 * end_width) / end_width) ** 2)) + bone[
            "flare"
        ][1] * np.exp(-(((1 - t - 0.4 * end_width) / end_width) ** 2))
        end_weight = np.clip(
            np.exp(-((t / (2 * end_width)) ** 2)) + np.exp(-(((1 - t) / (2 * end_width)) ** 2)),
            0,
            1,
        )
        if length < 8.0:  # a carpal bone or a humeral head: spongy throughout
            end_weight = np.ones_like(end_weight)
        outer = bone["radius"] * (1.0 + ends)
        cortex = bone["cortex"] * (1.0 - 0.6 * end_weight)
        inner = np.maximum(outer - cortex, 0.0)
        # the flared ends are wide in the image plane but much less deep along the beam:
        # an elliptical cross-section scales every chord by depth / width
        depth_ratio = (1.0 + 0.3 * ends) / (1.0 + ends)
        outer_chord = depth_ratio * _chord(outer, distance)
        inner_chord = depth_ratio * _chord(inner, distance)
        texture = ndimage.map_coordinates(
            tile, [y.ravel() / texel_mm, x.ravel() / texel_mm], order=1, mode="grid-wrap"
        ).reshape(x.shape)
        trabecular = MU_TRABECULAR * (0.2 + 0.8 * end_weight) * (0.6 + 0.8 * texture)
        cortical = MU_CORTEX * (outer_chord - inner_chord)
        inside = (MU_MARROW + trabecular) * inner_chord
        if abnormality == "fracture" and index == 0:
            # an oblique fracture line: a thin gap of missing bone across the shaft
            axis = (bone["p1"] - bone["p0"]) / length
            normal = np.array([-axis[1], axis[0]])
            centre = bone["p0"] + 0.55 * (bone["p1"] - bone["p0"])
            along = (x - centre[0]) * axis[0] + (y - centre[1]) * axis[1]
            across = (x - centre[0]) * normal[0] + (y - centre[1]) * normal[1]
            gap = np.abs(along - 0.45 * across) < 0.6
            cortical = np.where(gap, 0.0, cortical)
            inside = np.where(gap, MU_MARROW * inner_chord, inside)
        bone_att[window] += bone["density"] * (cortical + inside)
        bone_path[window] = np.maximum(bone_path[window], outer_chord)
    attenuation = MU_SOFT * np.clip(soft_path - bone_path, 0.0, None) + bone_att
    metal = np.zeros(shape)
    if abnormality == "plate":
        bone = bones[0]
        axis_vec = bone["p1"] - bone["p0"]
        length = float(np.linalg.norm(axis_vec))
        axis = axis_vec / length
        normal = np.array([-axis[1], axis[0]])
        centre = bone["p0"] + 0.5 * axis_vec
        along = (x_mm - centre[0]) * axis[0] + (y_mm - centre[1]) * axis[1]
        across = (x_mm - centre[0]) * normal[0] + (y_mm - centre[1]) * normal[1]
        half = min(0.22 * length, 45.0)
        plate = (np.abs(across - (bone["radius"] + 1.8)) < 1.6) & (np.abs(along) < half)
        metal += 3.0 * plate
        for position in np.linspace(-0.8 * half, 0.8 * half, 4):
            screw = (np.abs(along - position) < 1.3) & (np.abs(across) < bone["radius"] + 3.0)
            metal += 2.5 * screw
    return attenuation, metal


def _marker_mask(shape, letter, corner, size_px):
    """Mask of a blocky lead letter of height ``size_px`` near ``corner`` of the image."""
    glyph = np.array([[c == "1" for c in row] for row in _GLYPHS[letter]], dtype=float)
    cell = max(size_px // 7, 2)
    letter_img = np.kron(glyph, np.ones((cell, cell)))
    mask = np.zeros(shape)
    height, width = letter_img.shape
    margin_r = int(0.08 * shape[0]) + 4
    margin_c = int(0.08 * shape[1]) + 4
    row = margin_r if corner[0] == 0 else shape[0] - margin_r - height
    col = margin_c if corner[1] == 0 else shape[1] - margin_c - width
    mask[row : row + height, col : col + width] = letter_img
    return mask


def _render(study_type, shape, rng, *, photons_per_pixel, abnormality, inverted):
    """One radiograph: (noisy uint8, clean uint16, pixel spacing in mm)."""
    rows, cols = shape
    spacing_mm = _FOV_MM[study_type] * rng.uniform(0.9, 1.1) / max(rows, cols)
    anatomy = _anatomy(study_type, rng)
    tile = _trabecular_tile(rng)
    # canonical limb frame: rotate so that the limb lies along the long image side, plus jitter
    angle = (0.0 if rows >= cols else np.pi / 2) + np.deg2rad(rng.normal(0, 12))
    if rng.random() < 0.25:
        angle += np.pi  # distal end up instead of down
    shift = rng.normal(0, 0.05 * min(rows, cols), size=2) * spacing_mm
    rr, cc = np.mgrid[0:rows, 0:cols].astype(float)
    x_img = (cc - cols / 2) * spacing_mm
    y_img = (rr - rows / 2) * spacing_mm
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    x_mm = cos_a * x_img + sin_a * y_img + shift[0]
    y_mm = -sin_a * x_img + cos_a * y_img + shift[1]

    def to_pixels(x, y):
        dx, dy = x - shift[0], y - shift[1]
        col = (cos_a * dx - sin_a * dy) / spacing_mm + cols / 2
        row = (sin_a * dx + cos_a * dy) / spacing_mm + rows / 2
        return row, col

    attenuation, metal = _attenuation(anatomy, x_mm, y_mm, to_pixels, tile, abnormality)
    attenuation *= _BEAM_FACTOR.get(study_type, 1.0)
    # window: what the detector's processing maps to white
    body = attenuation[attenuation > 0.05 * attenuation.max()]
    a_white = 1.08 * float(np.percentile(body, 99.5)) if body.size else 1.0
    attenuation = attenuation + metal
    # lead side marker (no photons get through: saturates white)
    letter = "L" if rng.random() < 0.5 else "R"
    corner = (int(rng.integers(0, 2)), int(rng.integers(0, 2)))
    marker = _marker_mask(shape, letter, corner, int(0.07 * min(rows, cols)))
    attenuation = np.maximum(attenuation, 1.5 * a_white * marker)
    # collimator blades: unexposed border (only scatter reaches it), soft penumbra
    margins = [rng.uniform(0.0, 0.12) if rng.random() < 0.75 else 0.0 for _ in range(4)]
    field = np.zeros(shape)
    r0, r1 = int(margins[0] * rows), rows - int(margins[1] * rows)
    c0, c1 = int(margins[2] * cols), cols - int(margins[3] * cols)
    field[r0:r1, c0:c1] = 1.0
    field = ndimage.gaussian_filter(field, 1.5)
    attenuation = field * attenuation + (1 - field) * 0.9 * a_white
    # geometric unsharpness (focal spot, detector): a slight blur
    attenuation = ndimage.gaussian_filter(attenuation, 0.6)
    photons = photons_per_pixel * rng.uniform(0.7, 1.3)
    counts = rng.poisson(photons * np.exp(-attenuation))
    noisy_attenuation = -np.log(np.maximum(counts, 0.5) / photons)

    def display(values):
        # the display curve of the processing: soft tissue mid-grey, bone near white
        shown = np.clip(values / a_white, 0.0, 1.0) ** 1.4
        return 1.0 - shown if inverted else shown

    noisy = np.round(display(noisy_attenuation) * 255).astype(np.uint8)
    clean = np.round(display(attenuation) * 65535).astype(np.uint16)
    return noisy, clean, spacing_mm, photons


def _image_shape(rng, min_side, max_side):
    long_side = max_side if rng.random() < 0.75 else int(rng.integers(min_side, max_side + 1))
    short_side = int(rng.integers(min_side, long_side + 1))
    short_side = min(short_side, int(0.9 * long_side)) if long_side > min_side else short_side
    short_side = max(short_side, min_side)
    return (short_side, long_side) if rng.random() < 0.3 else (long_side, short_side)


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - cv2 failure
        raise OSError(f"could not encode {path} as PNG")
    path.write_bytes(encoded.tobytes())


def generate(out_dir, **params) -> None:
    """Write the bone-xray dataset (MURA-like layout, noisy images, clean twins) into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Existing, empty folder.
    **params
        Any of :data:`DEFAULTS`: ``seed``; ``n_patients_train`` and
        ``n_patients_valid`` (each patient has 1-2 studies of 1-3 views);
        ``max_side`` and ``min_side`` (pixels); ``photons_per_pixel`` (mean
        unattenuated photon count per pixel: the dose; noise ~ 1/sqrt(dose));
        ``positive_fraction`` (abnormal studies); ``n_inverted`` (images stored
        with inverted grey levels).

    Raises
    ------
    TypeError
        Unknown parameter.
    ValueError
        Sizes or counts out of range.

    Example
    -------
    >>> import tempfile
    >>> generate(tempfile.mkdtemp(), n_patients_train=1, n_patients_valid=1, max_side=128, min_side=96)
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown parameter(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    if not 32 <= p["min_side"] <= p["max_side"]:
        raise ValueError(
            f"need 32 <= min_side <= max_side, got min_side={p['min_side']}, max_side={p['max_side']}"
        )
    if p["n_patients_train"] < 1 or p["n_patients_valid"] < 1:
        raise ValueError(
            "n_patients_train and n_patients_valid must be >= 1, got "
            f"{p['n_patients_train']} and {p['n_patients_valid']}"
        )
    if p["photons_per_pixel"] <= 0:
        raise ValueError(f"photons_per_pixel must be > 0, got {p['photons_per_pixel']}")
    out = Path(out_dir)
    if not out.is_dir():
        raise FileNotFoundError(f"output folder {out} does not exist")
    rng = np.random.default_rng(p["seed"])
    images = []  # (split, relative path, study folder, label, study type)
    studies = []
    for split, n_patients, first_id in (
        ("train", p["n_patients_train"], 1),
        ("valid", p["n_patients_valid"], FIRST_VALID_PATIENT),
    ):
        order = rng.permutation(len(STUDY_TYPES))
        for k in range(n_patients):
            study_type = STUDY_TYPES[order[k % len(STUDY_TYPES)]]
            patient = f"patient{first_id + k:05d}"
            for study_index in range(1, 1 + int(rng.integers(1, 3))):
                label = int(rng.random() < p["positive_fraction"])
                folder = (
                    f"{MURA_FOLDER}/{split}/{study_type}/{patient}/"
                    f"study{study_index}_{'positive' if label else 'negative'}/"
                )
                abnormality = ("plate" if rng.random() < 0.4 else "fracture") if label else "none"
                studies.append((split, folder, label))
                for view in range(1, 1 + int(rng.integers(1, 4))):
                    images.append(
                        (split, f"{folder}image{view}.png", label, study_type, abnormality)
                    )
    inverted = set(
        rng.choice(len(images), size=min(p["n_inverted"], len(images)), replace=False).tolist()
    )
    truth_rows = []
    for index, (split, rel, label, study_type, abnormality) in enumerate(images):
        image_rng = np.random.default_rng([p["seed"], index])
        shape = _image_shape(image_rng, p["min_side"], p["max_side"])
        noisy, clean, spacing_mm, photons = _render(
            study_type,
            shape,
            image_rng,
            photons_per_pixel=p["photons_per_pixel"],
            abnormality=abnormality,
            inverted=index in inverted,
        )
        _write_png(out / rel, noisy)
        _write_png(out / "clean" / rel, clean)
        truth_rows.append(
            [
                rel,
                split,
                study_type,
                label,
                abnormality,
                f"{spacing_mm:.4f}",
                f"{photons:.1f}",
                int(index in inverted),
                shape[0],
                shape[1],
            ]
        )
    mura = out / MURA_FOLDER
    for split in ("train", "valid"):
        with open(mura / f"{split}_image_paths.csv", "w", newline="", encoding="utf-8") as handle:
            handle.writelines(f"{rel}\n" for s, rel, *_ in images if s == split)
        with open(
            mura / f"{split}_labeled_studies.csv", "w", newline="", encoding="utf-8"
        ) as handle:
            handle.writelines(f"{folder},{label}\n" for s, folder, label in studies if s == split)
    with open(out / "bone_xray_truth.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "path",
                "split",
                "study_type",
                "label",
                "abnormality",
                "pixel_spacing_mm",
                "photons_per_pixel",
                "inverted",
                "rows",
                "columns",
            ]
        )
        writer.writerows(truth_rows)


# --------------------------------------------------------------------------- validation
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}
_IMAGE_PATTERN = re.compile(
    r"^(?P<split>train|valid)/(?P<type>XR_[A-Z]+)/(?P<patient>patient\d{5})/"
    r"(?P<study>study\d+_(?P<result>positive|negative))/image\d+\.png$"
)
_STUDY_PATTERN = re.compile(
    r"^(?P<split>train|valid)/(?P<type>XR_[A-Z]+)/(?P<patient>patient\d{5})/"
    r"(?P<study>study\d+_(?P<result>positive|negative))/$"
)


def read_png_header(path) -> dict:
    """Width, height, bit depth and colour type of a PNG, from its first bytes.

    Also checks that the file ends with the ``IEND`` chunk (a truncated
    download does not). Reads 33 bytes at the start and 12 at the end only.

    Parameters
    ----------
    path : path
        A ``.png`` file.

    Returns
    -------
    dict
        ``width``, ``height``, ``bit_depth``, ``colour`` (``"grey"``, ``"RGB"``, ...),
        ``complete`` (bool).

    Raises
    ------
    FileNotFoundError
        Missing file.
    ValueError
        Not a PNG (wrong signature or no IHDR chunk).

    Example
    -------
    >>> read_png_header("image1.png")   # doctest: +SKIP
    {'width': 420, 'height': 512, 'bit_depth': 8, 'colour': 'grey', 'complete': True}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(33)
        if size >= 12:
            handle.seek(size - 12)
            tail = handle.read(12)
        else:
            tail = b""
    if len(head) < 33 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ValueError(f"{path}: not a PNG file (signature/IHDR missing; {size} bytes)")
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", head[16:26])
    return {
        "width": width,
        "height": height,
        "bit_depth": bit_depth,
        "colour": _COLOUR_TYPES.get(colour_type, f"type {colour_type}"),
        "complete": tail[4:8] == b"IEND",
    }


def _locate_mura(root: Path) -> Path | None:
    """The MURA-v1.1 folder: ``root/MURA-v1.1`` or ``root`` itself (None if neither)."""
    if (root / MURA_FOLDER).is_dir():
        return root / MURA_FOLDER
    if (root / "train_image_paths.csv").is_file() or (root / "train").is_dir():
        return root
    return None


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return [line.rstrip("\r\n") for line in handle]


def _relative_to_mura(line: str) -> str:
    """'MURA-v1.1/train/...' -> 'train/...' (any top folder name is accepted)."""
    parts = line.strip().lstrip("./").split("/", 1)
    if len(parts) == 2 and parts[0] not in ("train", "valid"):
        return parts[1]
    return line.strip().lstrip("./")


def validate_mura(root, report) -> None:
    """Check a MURA v1.1 folder: CSVs, listed images, labels, folder names, stray files.

    ``root`` may be the folder that contains ``MURA-v1.1`` or ``MURA-v1.1``
    itself. Adds :class:`course_utils.data.Finding` objects to ``report`` and
    counts to ``report.summary``. Reads PNG headers only; never writes.

    Errors (the folder or some studies cannot be used as they are): a missing
    CSV, a header line or malformed row, a listed image that is missing,
    unreadable or truncated, a label that is not 0/1, a label that contradicts
    the study folder name (``_positive`` must be 1), a study folder without a
    label row or without images, an image on disk not listed in the CSV.
    Notes: images stored with colour channels, stray non-image files,
    unknown study types.

    Parameters
    ----------
    root : pathlib.Path
    report : course_utils.data.ValidationReport

    Example
    -------
    >>> from course_utils import data
    >>> print(data.validate("mura", "/data/MURA-v1.1"))   # doctest: +SKIP
    """
    from course_utils.data import Finding

    root = Path(root)

    def add(severity, where, message):
        report.findings.append(Finding(severity, where, message))

    mura = _locate_mura(root)
    if mura is None:
        add(
            "error",
            str(root),
            f"no {MURA_FOLDER}/ folder and no train_image_paths.csv here; pass the folder that "
            f"contains {MURA_FOLDER} (or {MURA_FOLDER} itself)",
        )
        return
    sizes, colours, study_types = [], Counter(), Counter()
    for split in ("train", "valid"):
        paths_csv = mura / f"{split}_image_paths.csv"
        studies_csv = mura / f"{split}_labeled_studies.csv"
        split_dir = mura / split
        if not split_dir.is_dir():
            add(
                "error",
                f"{split}/",
                f"folder missing; expected {split}/XR_<TYPE>/patient<NNNNN>/study<k>_<result>/",
            )
        listed: list[str] = []
        if not paths_csv.is_file():
            add("error", paths_csv.name, "missing; expected one image path per line, no header")
        else:
            for number, line in enumerate(_read_lines(paths_csv), start=1):
                if not line.strip():
                    continue
                where = f"{paths_csv.name} line {number}"
                rel = _relative_to_mura(line)
                if number == 1 and not line.strip().lower().endswith(".png"):
                    add("error", where, f"{line!r} looks like a header; the real file has none")
                    continue
                match = _IMAGE_PATTERN.match(rel)
                if match is None or match["split"] != split:
                    add(
                        "error",
                        where,
                        f"{line!r} does not look like {MURA_FOLDER}/{split}/XR_<TYPE>/patient<NNNNN>/"
                        "study<k>_<positive|negative>/image<n>.png",
                    )
                    continue
                listed.append(rel)
                file_path = mura / rel
                if not file_path.is_file():
                    add("error", rel, f"listed in {paths_csv.name} but missing")
                    continue
                try:
                    header = read_png_header(file_path)
                except ValueError as exc:
                    add("error", rel, f"unreadable: {exc}")
                    continue
                if not header["complete"]:
                    add("error", rel, "truncated: the PNG has no IEND chunk at its end")
                    continue
                if header["width"] == 0 or header["height"] == 0:
                    add("error", rel, "image has zero width or height")
                    continue
                sizes.append((header["height"], header["width"]))
                colours[header["colour"]] += 1
                study_types[match["type"]] += 1
                if match["type"] not in STUDY_TYPES:
                    add("note", rel, f"study type {match['type']} is not one of the 7 MURA types")
            duplicates = [rel for rel, count in Counter(listed).items() if count > 1]
            for rel in duplicates:
                add("error", rel, f"listed {Counter(listed)[rel]} times in {paths_csv.name}")
        labelled: dict[str, int] = {}
        if not studies_csv.is_file():
            add(
                "error",
                studies_csv.name,
                "missing; expected rows '<study folder>/,<0|1>', no header",
            )
        else:
            for number, line in enumerate(_read_lines(studies_csv), start=1):
                if not line.strip():
                    continue
                where = f"{studies_csv.name} line {number}"
                fields = line.split(",")
                if len(fields) != 2:
                    add(
                        "error",
                        where,
                        f"{line!r}: expected 2 comma-separated fields (study folder, label)",
                    )
                    continue
                folder, label_text = fields[0].strip(), fields[1].strip()
                if label_text not in ("0", "1"):
                    if number == 1 and not folder.endswith("/"):
                        add("error", where, f"{line!r} looks like a header; the real file has none")
                    else:
                        add("error", where, f"label {label_text!r} is not 0 or 1")
                    continue
                rel = _relative_to_mura(folder)
                if not rel.endswith("/"):
                    add(
                        "note",
                        where,
                        f"study folder {folder!r} lacks the trailing '/' the real file has",
                    )
                    rel += "/"
                match = _STUDY_PATTERN.match(rel)
                if match is None or match["split"] != split:
                    add(
                        "error",
                        where,
                        f"{folder!r} is not a {split}/XR_<TYPE>/patient<NNNNN>/study<k>_<result>/ folder",
                    )
                    continue
                label = int(label_text)
                if (match["result"] == "positive") != (label == 1):
                    add("error", rel, f"folder says {match['result']} but the label is {label}")
                if rel in labelled:
                    add("error", rel, f"labelled twice in {studies_csv.name}")
                labelled[rel] = label
                if not (mura / rel).is_dir():
                    add("error", rel, f"labelled in {studies_csv.name} but the folder is missing")
        # what is on disk
        on_disk_studies = set()
        listed_set = set(listed)
        if split_dir.is_dir():
            for path in sorted(split_dir.rglob("*")):
                rel = path.relative_to(mura).as_posix()
                if path.is_dir():
                    if rel.count("/") == 3:  # split/type/patient/study
                        on_disk_studies.add(rel + "/")
                        if not any(child.suffix.lower() == ".png" for child in path.iterdir()):
                            add("error", rel + "/", "study folder without images")
                    continue
                if path.suffix.lower() != ".png":
                    add("note", rel, "stray file (not an image); ignored")
                elif rel not in listed_set and paths_csv.is_file():
                    add("error", rel, f"image on disk but not listed in {paths_csv.name}")
        if studies_csv.is_file():
            for folder in sorted(on_disk_studies - set(labelled)):
                add("error", folder, f"study folder has no row in {studies_csv.name}")
        studies_of_images = {rel.rsplit("/", 1)[0] + "/" for rel in listed}
        if studies_csv.is_file():
            for folder in sorted(studies_of_images - set(labelled)):
                if folder not in on_disk_studies:
                    add(
                        "error",
                        folder,
                        f"images listed but the study has no row in {studies_csv.name}",
                    )
        patients = {rel.split("/")[2] for rel in labelled}
        report.summary[f"{split} images listed"] = len(listed)
        report.summary[f"{split} studies labelled"] = len(labelled)
        report.summary[f"{split} patients"] = len(patients)
        if labelled:
            report.summary[f"{split} abnormal studies"] = (
                f"{sum(labelled.values())} ({100 * sum(labelled.values()) / len(labelled):.0f}%)"
            )
    if sizes:
        heights, widths = zip(*sizes, strict=True)
        report.summary["image rows"] = f"{min(heights)}-{max(heights)}"
        report.summary["image columns"] = f"{min(widths)}-{max(widths)}"
        report.summary["wider than tall"] = sum(w > h for h, w in sizes)
        report.summary["study types"] = dict(sorted(study_types.items()))
    non_grey = {c: n for c, n in colours.items() if c != "grey"}
    if non_grey:
        add(
            "note",
            str(mura.name),
            f"images stored with colour channels: {non_grey}; convert to grey when loading",
        )
