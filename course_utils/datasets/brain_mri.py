"""Synthetic multi-sequence brain MRI study (like RSNA-MICCAI 2021) and its validator.

Three things live here:

:func:`phantom_volume`
    A 3-D head phantom with a glioma-like tumour rendered as one MR sequence
    (FLAIR, T1w, T1wCE or T2w), with its ground-truth label volume. Used by
    the lessons that need brain slices with tumour masks.
:func:`generate`
    Writes the *brain-mri-study* dataset in the layout of the RSNA-MICCAI
    Brain Tumor Radiogenomic Classification competition, including its
    deliberate quirks (see :data:`DEFAULTS` and the manifest
    ``data_manifests/brain-mri-study.yaml``).
:func:`validate_rsna_miccai`
    Checks a folder with that layout (the real dataset or the generated one)
    reading DICOM headers only.

Coordinates follow DICOM's patient system (LPS): +x towards the patient's
left, +y towards the back (posterior), +z towards the head (superior), in mm.

Example
-------
>>> image, labels = phantom_volume("T2w", shape=(8, 64, 64), spacing_mm=(8.0, 3.75, 3.75))
>>> image.shape, labels.dtype.name
((8, 64, 64), 'uint8')
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULTS",
    "LABELS",
    "SEQUENCES",
    "generate",
    "patient_folder_name",
    "phantom_volume",
    "phantom_volumes",
    "validate_rsna_miccai",
]

#: Meaning of the values of the label volume returned by :func:`phantom_volume`.
LABELS = {
    0: "outside head",
    1: "scalp/skull",
    2: "CSF",
    3: "grey matter",
    4: "white matter",
    5: "oedema",
    6: "enhancing tumour rim",
    7: "necrotic core",
}

#: The four MR sequences of every RSNA-MICCAI case, in the competition's folder names.
SEQUENCES = ("FLAIR", "T1w", "T1wCE", "T2w")

# Internal tissue classes (finer than LABELS: scalp and bone look different).
_TISSUES = ("air", "scalp", "bone", "csf", "gm", "wm", "oedema", "rim", "necrosis", "soft")
_AIR, _SCALP, _BONE, _CSF, _GM, _WM, _OEDEMA, _RIM, _NECROSIS, _SOFT = range(len(_TISSUES))
_TISSUE_TO_LABEL = np.array([0, 1, 1, 2, 3, 4, 5, 6, 7, 1], dtype=np.uint8)

# Relative signal of each tissue class per sequence (arbitrary units, WM on T1w ~ 0.7).
# Typical 1.5-3 T clinical contrasts: CSF dark on T1w and (fluid-suppressed) FLAIR,
# bright on T2w; WM brighter than GM on T1w, darker on T2w/FLAIR; oedema bright on
# T2w/FLAIR; gadolinium makes the viable tumour rim bright on T1wCE; necrosis is
# fluid-like; scalp fat bright on T1w; cortical bone has almost no signal; the
# soft tissue of the face and neck (mostly muscle) is intermediate.
_SIGNAL = {
    #             air   scalp  bone   csf    gm     wm     oedema rim    necrosis soft
    "T1w": np.array([0.0, 0.85, 0.06, 0.14, 0.46, 0.70, 0.38, 0.42, 0.22, 0.42]),
    "T1wCE": np.array([0.0, 0.85, 0.06, 0.16, 0.48, 0.70, 0.40, 1.10, 0.24, 0.50]),
    "T2w": np.array([0.0, 0.55, 0.05, 1.00, 0.58, 0.40, 0.82, 0.62, 0.92, 0.32]),
    "FLAIR": np.array([0.0, 0.50, 0.05, 0.07, 0.56, 0.42, 0.88, 0.70, 0.40, 0.35]),
}


# --------------------------------------------------------------------------- anatomy
@dataclass(frozen=True)
class _Subject:
    """Patient-specific anatomy drawn from a seed (all lengths in mm)."""

    head_axes: np.ndarray  # semi-axes of the outer scalp ellipsoid (x, y, z)
    centre: np.ndarray  # head centre in patient coordinates
    rotation: np.ndarray  # head -> patient rotation matrix (small tilt)
    scalp_mm: float
    skull_mm: float
    csf_mm: float
    gm_mm: float
    sulcus_waves: np.ndarray  # (K, 3) wave vectors of the gyral pattern, rad/mm
    sulcus_phases: np.ndarray
    sulcus_depth_mm: float
    ventricle_scale: float
    tumour_centre: np.ndarray  # head coordinates
    tumour_radius_mm: float
    core_fraction: float
    oedema_mm: float
    shape_waves: np.ndarray  # (K, 3) directions for tumour surface irregularity
    shape_phases: np.ndarray
    texture_waves: np.ndarray
    texture_phases: np.ndarray


def _random_waves(rng, n, wavelength_mm, spread=0.25):
    directions = rng.normal(size=(n, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    lengths = wavelength_mm * (1 + spread * rng.uniform(-1, 1, size=(n, 1)))
    return (2 * np.pi / lengths) * directions, rng.uniform(0, 2 * np.pi, size=n)


def _rotation(yaw, pitch, roll):
    cz, sz = np.cos(yaw), np.sin(yaw)
    cy, sy = np.cos(pitch), np.sin(pitch)
    cx, sx = np.cos(roll), np.sin(roll)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return rz @ ry @ rx


def _subject(seed) -> _Subject:
    key = [int(seed)] if np.ndim(seed) == 0 else [int(k) for k in seed]
    rng = np.random.default_rng([20211, *key])
    head_axes = np.array([rng.uniform(70, 78), rng.uniform(88, 98), rng.uniform(80, 90)])
    brain_axes = head_axes - 12.0
    # Tumour in one hemisphere, in the white matter, away from the midline.
    side = rng.choice([-1.0, 1.0])
    radius = rng.uniform(13, 22)
    position = np.array(
        [
            side * rng.uniform(0.35, 0.55) * brain_axes[0],
            rng.uniform(-0.45, 0.45) * brain_axes[1],
            rng.uniform(-0.05, 0.45) * brain_axes[2],
        ]
    )
    sulcus_waves, sulcus_phases = _random_waves(rng, 8, 20.0)
    shape_waves, shape_phases = _random_waves(rng, 5, 2.0 * np.pi / 2.5, spread=0.0)
    texture_waves, texture_phases = _random_waves(rng, 4, 18.0)
    return _Subject(
        head_axes=head_axes,
        centre=np.array([rng.uniform(-3, 3), rng.uniform(-4, 4), 0.0]),
        rotation=_rotation(*np.deg2rad(rng.uniform(-5, 5, size=3))),
        scalp_mm=rng.uniform(4.5, 6.5),
        skull_mm=rng.uniform(5.0, 7.0),
        csf_mm=rng.uniform(1.5, 2.5),
        gm_mm=rng.uniform(2.8, 3.5),
        sulcus_waves=sulcus_waves,
        sulcus_phases=sulcus_phases,
        sulcus_depth_mm=rng.uniform(11, 15),
        ventricle_scale=rng.uniform(0.8, 1.3),
        tumour_centre=position,
        tumour_radius_mm=radius,
        core_fraction=rng.uniform(0.4, 0.65),
        oedema_mm=rng.uniform(8, 20),
        shape_waves=shape_waves,
        shape_phases=shape_phases,
        texture_waves=texture_waves,
        texture_phases=texture_phases,
    )


def _ellipsoid_distance(points, axes, centre=(0.0, 0.0, 0.0)):
    """Approximate signed distance (mm, negative inside) to an axis-aligned ellipsoid."""
    scaled = (points - np.asarray(centre, dtype=points.dtype)) / np.asarray(
        axes, dtype=points.dtype
    )
    radius = np.sqrt(np.einsum("ij,ij->i", scaled, scaled)) + 1e-6
    gradient = scaled / np.asarray(axes, dtype=points.dtype) / radius[:, None]
    return (radius - 1.0) / (np.sqrt(np.einsum("ij,ij->i", gradient, gradient)) + 1e-6)


def _waves(points, waves, phases, gradient=True):
    """Sum of cosines (a smooth random field) at ``points`` and, optionally, its gradient."""
    argument = points @ waves.T.astype(np.float64) + phases.astype(np.float64)
    value = np.cos(argument).sum(axis=1)
    if not gradient:
        return value, None
    return value, -np.sin(argument) @ waves.astype(np.float64)


def _inside(distance, edge_mm):
    """Soft membership (1 inside, 0 outside) from a signed distance: partial-volume edge."""
    return (0.5 - 0.5 * np.tanh(distance / edge_mm)).astype(np.float64)


def _near(points, centre, half_extent):
    """Indices of the points inside an axis-aligned box (to evaluate small structures cheaply)."""
    low = np.asarray(centre, np.float64) - np.asarray(half_extent, np.float64)
    high = np.asarray(centre, np.float64) + np.asarray(half_extent, np.float64)
    return np.flatnonzero(np.all((points >= low) & (points <= high), axis=1))


def _move(fractions, sources, target, alpha):
    """Turn the fraction ``alpha`` of the tissues ``sources`` into ``target`` (painter's step)."""
    for source in sources:
        moved = fractions[:, source] * alpha
        fractions[:, source] -= moved
        fractions[:, target] += moved


def _tissue_fractions(points, subject: _Subject, edge_mm: float) -> np.ndarray:
    """Fraction of each tissue class at each point (N, 9); rows sum to 1."""
    points = np.asarray(points, dtype=np.float64)
    head = (points - subject.centre.astype(np.float64)) @ subject.rotation.astype(np.float64)
    n = len(head)
    fractions = np.zeros((n, len(_TISSUES)), dtype=np.float64)
    fractions[:, _AIR] = 1.0
    axes = subject.head_axes
    # Head: an ellipsoidal skull vault joined to a neck/face below the skull base.
    base_level = -0.4 * (axes[2] - subject.scalp_mm - subject.skull_mm)
    neck_axes, neck_centre = (0.8 * axes[0], 0.8 * axes[1]), (0.0, 6.0)
    neck = np.maximum(
        _ellipsoid_distance(head[:, :2], neck_axes, neck_centre), head[:, 2] - base_level
    )
    outer = np.minimum(_ellipsoid_distance(head, axes), neck)
    in_head = outer < 3 * edge_mm
    if not in_head.any():
        return fractions
    index = np.flatnonzero(in_head)
    p = head[index]
    f = fractions[index]
    _move(f, [_AIR], _SCALP, _inside(outer[index], edge_mm))
    bone_axes = axes - subject.scalp_mm
    _move(f, [_SCALP], _BONE, _inside(_ellipsoid_distance(p, bone_axes), edge_mm))
    # Skull base: sloping down from the anterior to the posterior cranial fossa.
    base = base_level - 0.15 * p[:, 1]
    soft = np.maximum(
        _ellipsoid_distance(p[:, :2], np.subtract(neck_axes, subject.scalp_mm), neck_centre),
        p[:, 2] - (base - 1.5 * subject.skull_mm),
    )
    _move(f, [_SCALP, _BONE], _SOFT, _inside(soft, edge_mm))
    inner_axes = bone_axes - subject.skull_mm
    inner = np.maximum(_ellipsoid_distance(p, inner_axes), base - p[:, 2])
    _move(f, [_BONE], _CSF, _inside(inner, edge_mm))
    fractions[index] = f
    # From here on only points that can hold brain tissue (cheaper).
    intracranial = -inner > subject.csf_mm - 4.0 * edge_mm - 0.5
    index = index[intracranial]
    p = p[intracranial]
    f = fractions[index]
    depth = -inner[intracranial]  # mm below the inner table of the skull

    # Cortex: gyri separated by sulci (zero set of a smooth random field) and
    # the interhemispheric fissure (the midsagittal plane), both CSF-filled and
    # lined by grey matter; white matter in the gyral cores.
    ventricle_z = 12.0
    core = _ellipsoid_distance(p[:, 1:], (40.0, 24.0), (0.0, ventricle_z + 2.0))
    gap = np.sqrt(p[:, 0] ** 2 + np.maximum(-core, 0.0) ** 2)  # distance to the fissure
    shell = np.flatnonzero(
        depth < subject.csf_mm + subject.sulcus_depth_mm + subject.gm_mm + 4 * edge_mm + 2.0
    )
    field, gradient = _waves(p[shell], subject.sulcus_waves, subject.sulcus_phases)
    sheet = np.abs(field) / (np.linalg.norm(gradient, axis=1) + 1e-3)
    below = np.maximum(depth[shell] - subject.csf_mm - subject.sulcus_depth_mm, 0.0)
    gap[shell] = np.minimum(gap[shell], np.sqrt(sheet**2 + below**2))
    csf_gap = 0.6 + 0.3 * subject.ventricle_scale
    brain = _inside(subject.csf_mm - depth, edge_mm) * _inside(csf_gap - gap, edge_mm)
    _move(f, [_CSF], _GM, brain)
    white = _inside(subject.csf_mm + subject.gm_mm - depth, edge_mm) * _inside(
        csf_gap + subject.gm_mm - gap, edge_mm
    )
    _move(f, [_GM], _WM, white)
    margin = 3.0 * edge_mm

    # Deep grey nuclei (basal ganglia, thalami) beside the ventricles.
    for sign in (-1.0, 1.0):
        centre, axes_mm = (sign * 17.0, -2.0, 2.0), (9.0, 16.0, 10.0)
        near = _near(p, centre, np.add(axes_mm, margin))
        local = f[near]
        _move(local, [_WM], _GM, _inside(_ellipsoid_distance(p[near], axes_mm, centre), edge_mm))
        f[near] = local

    # Lateral ventricles (converging anteriorly) and the third ventricle.
    scale = subject.ventricle_scale
    for sign in (-1.0, 1.0):
        centre = np.array([sign * 7.5 * scale, 2.0, ventricle_z], dtype=np.float64)
        near = _near(p, centre, (10.0 * scale + margin, 26.0 + margin, 8.0 * scale + margin))
        angle = sign * np.deg2rad(12.0)
        cosine, sine = np.cos(angle), np.sin(angle)
        local_p = p[near] - centre
        rotated = np.stack(
            [
                cosine * local_p[:, 0] - sine * local_p[:, 1],
                sine * local_p[:, 0] + cosine * local_p[:, 1],
                local_p[:, 2],
            ],
            axis=1,
        )
        lateral = _ellipsoid_distance(rotated, (4.0 * scale, 24.0, 8.0 * scale))
        local = f[near]
        _move(local, [_GM, _WM], _CSF, _inside(lateral, edge_mm))
        f[near] = local
    centre, axes_mm = (0.0, 0.0, ventricle_z - 12.0), (1.5 * scale, 11.0, 7.0)
    near = _near(p, centre, np.add(axes_mm, margin))
    local = f[near]
    _move(local, [_GM, _WM], _CSF, _inside(_ellipsoid_distance(p[near], axes_mm, centre), edge_mm))
    f[near] = local

    # Tumour: irregular enhancing rim around a necrotic core, surrounded by
    # vasogenic oedema that spreads along the white matter (spares the cortex).
    reach = 1.4 * (subject.tumour_radius_mm + subject.oedema_mm) + 4.0 * edge_mm + 2.0
    near = _near(p, subject.tumour_centre, (reach, reach, reach))
    q = p[near]
    local = f[near]
    offset = q - subject.tumour_centre.astype(np.float64)
    distance = np.linalg.norm(offset, axis=1) + 1e-6
    directions = offset / distance[:, None]
    lumps, _ = _waves(directions, subject.shape_waves, subject.shape_phases, gradient=False)
    radius = subject.tumour_radius_mm * (1.0 + 0.06 * lumps)
    oedema_lumps, _ = _waves(
        q, subject.sulcus_waves[:4] * 1.7, subject.sulcus_phases[:4], gradient=False
    )
    oedema_radius = radius + subject.oedema_mm * (1.0 + 0.15 * oedema_lumps)
    oedema = _inside(distance - oedema_radius, 2.0 * edge_mm + 1.0)
    _move(local, [_WM], _OEDEMA, oedema)
    _move(local, [_GM], _OEDEMA, 0.35 * oedema)
    _move(local, [_CSF, _GM, _WM, _OEDEMA], _RIM, _inside(distance - radius, edge_mm))
    _move(local, [_RIM], _NECROSIS, _inside(distance - subject.core_fraction * radius, edge_mm))
    f[near] = local
    fractions[index] = f
    return fractions


def _texture(points, fractions, subject: _Subject) -> np.ndarray:
    """Gentle multiplicative tissue inhomogeneity (about +-5 %), 1 in the air."""
    texture = np.ones(len(points), dtype=np.float64)
    inside = fractions[:, _AIR] < 0.99
    values, _ = _waves(
        points[inside], subject.texture_waves, subject.texture_phases, gradient=False
    )
    texture[inside] += 0.02 * values
    return texture


def _render(fractions, texture, sequence: str) -> np.ndarray:
    """Noise-free signal: tissue signals mixed by their fractions, times the texture."""
    return (fractions @ _SIGNAL[sequence].astype(np.float64)) * texture


def _bias_field(points, rng) -> np.ndarray:
    """Slowly varying multiplicative receive-coil bias (about +-15 % over the head)."""
    coefficients = rng.normal(scale=[0.0016, 0.0016, 0.0016, 6e-6, 6e-6, 6e-6])
    x, y, z = (np.asarray(points, np.float64)[:, axis] for axis in range(3))
    exponent = (
        coefficients[0] * x
        + coefficients[1] * y
        + coefficients[2] * z
        - abs(coefficients[3]) * x * x
        - abs(coefficients[4]) * y * y
        + coefficients[5] * z * z
    )
    return np.exp(exponent).astype(np.float64)


def _rician(signal, sigma, rng) -> np.ndarray:
    """Magnitude of a complex signal with Gaussian noise in both channels (Rician)."""
    real = signal + rng.normal(scale=sigma, size=signal.shape)
    imaginary = rng.normal(scale=sigma, size=signal.shape)
    return np.sqrt(real * real + imaginary * imaginary).astype(np.float64)


def _slice_offsets(thickness_mm: float, in_plane_mm: float) -> np.ndarray:
    """Sample positions across one slice's thickness (through-plane partial volume)."""
    n_sub = int(np.clip(np.ceil(thickness_mm / (1.5 * in_plane_mm)), 1, 4))
    return ((np.arange(n_sub) + 0.5) / n_sub - 0.5) * thickness_mm


def _sample_series(points_of_slices, normal, thickness_mm, in_plane_mm, subject, edge_mm):
    """Tissue fractions averaged across the slice thickness for (N, 3) centre points."""
    fractions = None
    offsets = _slice_offsets(thickness_mm, in_plane_mm)
    for offset in offsets:
        shifted = points_of_slices + offset * np.asarray(normal, dtype=np.float64)
        part = _tissue_fractions(shifted, subject, edge_mm)
        fractions = part if fractions is None else fractions + part
    return fractions / len(offsets)


def _axial_points(shape, spacing_mm, subject):
    n_slices, n_rows, n_columns = shape
    dz, dy, dx = spacing_mm
    extent_z = n_slices * dz
    top = subject.centre[2] + subject.head_axes[2] + 6.0
    centre_z = max(top - extent_z / 2.0, subject.centre[2]) if extent_z < 2 * top else 0.0
    z = centre_z + (np.arange(n_slices) - (n_slices - 1) / 2.0) * dz
    y = (np.arange(n_rows) - (n_rows - 1) / 2.0) * dy
    x = (np.arange(n_columns) - (n_columns - 1) / 2.0) * dx
    grid = np.stack(np.meshgrid(x, y, z, indexing="xy"), axis=-1)  # (rows, cols, slices, 3)
    return np.ascontiguousarray(np.moveaxis(grid, 2, 0).reshape(-1, 3), dtype=np.float64)


def _check_geometry(shape, spacing_mm):
    if len(shape) != 3 or any(int(n) != n or n < 1 for n in shape):
        raise ValueError(
            f"shape must be three positive integers (slices, rows, columns), got {shape!r}"
        )
    if len(spacing_mm) != 3 or not all(np.isfinite(s) and s > 0 for s in spacing_mm):
        raise ValueError(f"spacing_mm must be three positive numbers in mm, got {spacing_mm!r}")
    if int(np.prod(shape)) > 64_000_000:
        raise ValueError(f"shape {shape} has more than 64 million voxels; use a smaller phantom")


def phantom_volumes(
    sequences=SEQUENCES,
    *,
    shape=(32, 128, 128),
    spacing_mm=(4.0, 1.875, 1.875),
    seed: int = 0,
    noise: float = 0.025,
    bias: bool = True,
):
    """Render one head phantom in several MR sequences that share the anatomy.

    Same as :func:`phantom_volume` but computes the anatomy once for all
    ``sequences``; the noise and bias field differ between sequences, as they
    do between real acquisitions.

    Parameters
    ----------
    sequences : iterable of str
        Any of ``"FLAIR"``, ``"T1w"``, ``"T1wCE"``, ``"T2w"``.
    shape, spacing_mm, seed, noise, bias
        As in :func:`phantom_volume`.

    Returns
    -------
    images : dict of str -> numpy.ndarray
        float32 volume per sequence.
    labels : numpy.ndarray
        uint8 label volume (see :data:`LABELS`), the same for every sequence.

    Raises
    ------
    ValueError
        Unknown sequence, or a bad ``shape``/``spacing_mm``/``noise``.

    Example
    -------
    >>> images, labels = phantom_volumes(["T1w", "T2w"], shape=(4, 32, 32), spacing_mm=(10, 7.5, 7.5))
    >>> sorted(images)
    ['T1w', 'T2w']
    """
    sequences = [sequences] if isinstance(sequences, str) else list(sequences)
    unknown = [s for s in sequences if s not in _SIGNAL]
    if unknown or not sequences:
        raise ValueError(f"sequence must be one of {SEQUENCES}, got {unknown or sequences!r}")
    shape = tuple(int(n) for n in shape)
    spacing_mm = tuple(float(s) for s in spacing_mm)
    _check_geometry(shape, spacing_mm)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(
            f"noise must be a non-negative fraction of the white-matter signal, got {noise!r}"
        )
    subject = _subject(seed)
    points = _axial_points(shape, spacing_mm, subject)
    in_plane = min(spacing_mm[1:])
    edge_mm = 0.35 * in_plane
    fractions = _sample_series(points, (0.0, 0.0, 1.0), spacing_mm[0], in_plane, subject, edge_mm)
    labels = _TISSUE_TO_LABEL[np.argmax(fractions, axis=1)].reshape(shape)
    texture = _texture(points, fractions, subject)
    images = {}
    for number, sequence in enumerate(sequences):
        rng = np.random.default_rng([20212, int(seed), SEQUENCES.index(sequence), number])
        signal = _render(fractions, texture, sequence)
        if bias:
            signal = signal * _bias_field(points, rng)
        signal = _rician(signal, noise * 0.7, rng) if noise > 0 else signal
        images[sequence] = (1000.0 * signal).reshape(shape).astype(np.float32)
    return images, labels


def phantom_volume(
    sequence: str,
    *,
    shape=(32, 128, 128),
    spacing_mm=(4.0, 1.875, 1.875),
    seed: int = 0,
    noise: float = 0.025,
    bias: bool = True,
):
    """Synthetic axial head MR volume with a glioma-like tumour and its labels.

    The anatomy (head size and shape, small head tilt, cortical folding,
    ventricle size, tumour position and size) is drawn from ``seed``; the
    sequence sets the contrast. Realism cues: smooth partial-volume edges
    (in-plane and across the slice thickness), a slowly varying multiplicative
    bias field, Rician noise (magnitude of complex Gaussian noise, so the air
    is not zero), sequence-typical contrasts (CSF dark on T1w and FLAIR, bright
    on T2w; white matter brighter than grey on T1w, darker on T2w; enhancing
    rim bright on T1wCE; oedema bright on FLAIR and T2w).

    Parameters
    ----------
    sequence : {"FLAIR", "T1w", "T1wCE", "T2w"}
        MR sequence (contrast) to render.
    shape : tuple of 3 int, default (32, 128, 128)
        (slices, rows, columns). Axis 0 runs from inferior to superior, axis 1
        (rows) from anterior to posterior, axis 2 (columns) from the patient's
        right to left, i.e. slices display in the radiological convention.
    spacing_mm : tuple of 3 float, default (4.0, 1.875, 1.875)
        Slice spacing (= slice thickness) and pixel spacing in mm. The default
        field of view is 240 mm, like a clinical head scan; the anatomy is in
        mm, so a smaller field of view crops the head.
    seed : int, default 0
        Patient (anatomy) and noise seed.
    noise : float, default 0.025
        Noise level relative to the white-matter signal (0 gives a clean image).
    bias : bool, default True
        Apply the receive-coil bias field.

    Returns
    -------
    image : numpy.ndarray of float32, shape ``shape``
        Non-negative signal in arbitrary MR units (white matter about 400-700;
        MR has no absolute intensity scale).
    labels : numpy.ndarray of uint8, shape ``shape``
        0 outside head, 1 scalp/skull, 2 CSF, 3 grey matter, 4 white matter,
        5 oedema, 6 enhancing tumour rim, 7 necrotic core (:data:`LABELS`).
        The tumour (labels 5-7) always lies inside the default slab.

    Raises
    ------
    ValueError
        Unknown ``sequence``; ``shape`` not three positive integers;
        ``spacing_mm`` not three positive numbers; negative ``noise``.

    Example
    -------
    >>> image, labels = phantom_volume("FLAIR", seed=3)
    >>> image.shape, sorted(set(labels.ravel().tolist()))
    ((32, 128, 128), [0, 1, 2, 3, 4, 5, 6, 7])
    """
    if not isinstance(sequence, str):
        raise ValueError(f"sequence must be one of {SEQUENCES}, got {sequence!r}")
    images, labels = phantom_volumes(
        [sequence], shape=shape, spacing_mm=spacing_mm, seed=seed, noise=noise, bias=bias
    )
    return images[sequence], labels


# --------------------------------------------------------------------------- the generated study
#: Generator parameters of the *brain-mri-study* dataset and their defaults.
DEFAULTS = {
    "seed": 0,
    "n_patients": 12,  # patient folders written under train/ (with or without a label row)
    "n_missing_folders": 2,  # ids in train_labels.csv whose folder is missing
    "n_unlabelled_folders": 1,  # patient folders without a row in train_labels.csv
    "n_empty_series": 1,  # sequence folders that exist but hold no file
    "n_missing_series": 1,  # sequence folders that do not exist
    "n_truncated_files": 1,  # DICOM files cut short inside the pixel data
    "blank_series_fraction": 0.3,  # series with all-zero slices at one or both ends
    "signed_series_fraction": 0.1,  # series stored as signed int16 (PixelRepresentation 1)
    "oblique_series_fraction": 0.25,  # series tilted by a few degrees
    "sagittal_fraction": 0.15,
    "coronal_fraction": 0.1,
    "min_matrix": 64,
    "max_matrix": 128,
}

_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
_UID_PREFIX = "1.2.826.0.1.3680043.8.498."  # pydicom's root, as generate_uid uses
_CANONICAL_MM = 2.4

# Acquisition parameters typical of clinical 1.5-3 T brain protocols.
_PROTOCOL = {
    "FLAIR": {
        "ScanningSequence": ["SE", "IR"],
        "SequenceVariant": ["SK", "SP", "MP"],
        "ScanOptions": "",
        "RepetitionTime": 9000.0,
        "EchoTime": 120.0,
        "InversionTime": 2500.0,
        "EchoTrainLength": 16,
        "SequenceName": "*tir2d1_16",
    },
    "T1w": {
        "ScanningSequence": "SE",
        "SequenceVariant": "SP",
        "ScanOptions": "",
        "RepetitionTime": 550.0,
        "EchoTime": 12.0,
        "EchoTrainLength": 1,
        "SequenceName": "*se2d1",
    },
    "T1wCE": {
        "ScanningSequence": "SE",
        "SequenceVariant": "SP",
        "ScanOptions": "",
        "RepetitionTime": 550.0,
        "EchoTime": 12.0,
        "EchoTrainLength": 1,
        "SequenceName": "*se2d1",
    },
    "T2w": {
        "ScanningSequence": "SE",
        "SequenceVariant": ["SK", "SP"],
        "ScanOptions": "",
        "RepetitionTime": 4500.0,
        "EchoTime": 100.0,
        "EchoTrainLength": 15,
        "SequenceName": "*tse2d1_15",
    },
}

_GIVEN_F = ("JANE", "MARIA", "ANNA", "SOPHIE", "LINDA", "CAROL", "ELENA", "RUTH", "NORA", "IDA")
_GIVEN_M = ("JOHN", "PETER", "DAVID", "MARK", "PAUL", "OMAR", "IVAN", "LUCAS", "KARL", "SAM")
_FAMILY = (
    "DOE",
    "ROE",
    "SMITH",
    "MILLER",
    "NOVAK",
    "GARCIA",
    "KOWALSKI",
    "SILVA",
    "BERG",
    "MOREAU",
)
_INSTITUTIONS = (
    ("SAINT EXAMPLE GENERAL HOSPITAL", "1 Fictional Way^^Springfield^^00001^Nowhere"),
    ("FAKE UNIVERSITY MEDICAL CENTRE", "99 Imaginary Road^^Rivertown^^99999^Nowhere"),
    ("SYNTHETIC NEUROIMAGING INSTITUTE", "7 Placeholder Street^^Lakeside^^12345^Nowhere"),
)
_PRIVATE_CREATOR = "COURSE FAKE VENDOR 1.0"


def patient_folder_name(brats_id: int) -> str:
    """Folder name of a case: the BraTS21ID as a 5-digit zero-padded string.

    Example
    -------
    >>> patient_folder_name(46)
    '00046'
    """
    if int(brats_id) != brats_id or brats_id < 0 or brats_id > 99999:
        raise ValueError(f"brats_id must be an integer in 0..99999, got {brats_id!r}")
    return f"{int(brats_id):05d}"


def _uid(*parts) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(prefix=_UID_PREFIX, entropy_srcs=["brain-mri-study", *map(str, parts)])


def _canonical_signals(subject: _Subject, sequences):
    """Noise-free signal of each sequence on an isotropic 2 mm grid around the head."""
    half = subject.head_axes + 12.0
    low = np.array([-half[0], -half[1], -130.0]) + subject.centre
    high = half + subject.centre
    counts = np.ceil((high - low) / _CANONICAL_MM).astype(int) + 1
    axes = [low[i] + _CANONICAL_MM * np.arange(counts[i]) for i in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float64)
    fractions = _tissue_fractions(grid, subject, edge_mm=0.6)
    texture = _texture(grid, fractions, subject)
    signals = {seq: _render(fractions, texture, seq).reshape(tuple(counts)) for seq in sequences}
    return signals, low


def _sample_canonical(signal, low, points):
    from scipy.ndimage import map_coordinates

    coordinates = ((points - low) / _CANONICAL_MM).T
    return map_coordinates(signal, coordinates, order=1, mode="constant", cval=0.0)


def _series_plan(rng, params, subject, sequence):
    """Geometry and storage choices of one series."""
    draw = rng.uniform()
    if draw < params["sagittal_fraction"]:
        orientation = "SAGITTAL"
        row_dir, col_dir = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])
    elif draw < params["sagittal_fraction"] + params["coronal_fraction"]:
        orientation = "CORONAL"
        row_dir, col_dir = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])
    else:
        orientation = "AXIAL"
        row_dir, col_dir = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    if rng.uniform() < params["oblique_series_fraction"]:
        tilt = _rotation(*np.deg2rad(rng.uniform(-8, 8, size=3)))
        row_dir, col_dir = tilt @ row_dir, tilt @ col_dir
    normal = np.cross(row_dir, col_dir)
    sizes = np.arange(params["min_matrix"], params["max_matrix"] + 1, 16)
    if len(sizes) == 0:
        sizes = np.array([params["min_matrix"]])
    columns = int(rng.choice(sizes))
    rows = columns
    if rng.uniform() < 0.25 and orientation == "AXIAL":
        rows = columns + 16  # rectangular field of view, longer front to back
    field_of_view = rng.choice([220.0, 230.0, 240.0])
    pixel_mm = round(field_of_view / max(rows, columns), 4)
    thickness = float(rng.choice([3.0, 4.0, 5.0]))
    gap = float(rng.choice([0.0, 0.0, 0.5, 1.0]))
    spacing = thickness + gap
    # Cover the head along the slice normal, with a few mm of air beyond it.
    extent = float(np.abs(normal) @ (subject.head_axes + 8.0))
    top = extent if orientation != "AXIAL" else subject.head_axes[2] + 8.0
    bottom = -extent if orientation != "AXIAL" else -rng.uniform(45.0, 60.0)
    n_slices = int(np.clip(np.ceil((top - bottom) / spacing) + 1, 16, 48))
    centre_along = 0.5 * (top + bottom)
    centre = subject.centre + centre_along * normal + rng.uniform(-3, 3, size=3) * [1, 1, 0]
    blank = (0, 0)
    if rng.uniform() < params["blank_series_fraction"]:
        blank = (int(rng.integers(0, 4)), int(rng.integers(1, 5)))
    return {
        "orientation": orientation,
        "row_dir": row_dir,
        "col_dir": col_dir,
        "normal": normal,
        "rows": rows,
        "columns": columns,
        "pixel_mm": pixel_mm,
        "thickness": thickness,
        "spacing": spacing,
        "n_slices": n_slices,
        "centre": centre,
        "reverse": bool(rng.uniform() < 0.3),  # Image-1 at the far end of the stack
        "blank": blank,
        "signed": bool(rng.uniform() < params["signed_series_fraction"]),
        "gain": float(rng.uniform(0.8, 4.0)),
        "noise": float(rng.uniform(0.018, 0.035)),
    }


def _series_pixels(plan, signal, low, rng):
    """Stored pixel values (n_slices, rows, columns) and each slice's position (mm)."""
    rows, columns, n_slices = plan["rows"], plan["columns"], plan["n_slices"]
    pixel = plan["pixel_mm"]
    row_dir, col_dir, normal = plan["row_dir"], plan["col_dir"], plan["normal"]
    along = (np.arange(n_slices) - (n_slices - 1) / 2.0) * plan["spacing"]
    first_pixel = (
        plan["centre"] - (columns - 1) / 2.0 * pixel * row_dir - (rows - 1) / 2.0 * pixel * col_dir
    )
    positions = first_pixel[None, :] + along[:, None] * normal[None, :]
    j, i = np.meshgrid(np.arange(columns), np.arange(rows), indexing="xy")
    in_plane = (j[..., None] * pixel * row_dir + i[..., None] * pixel * col_dir).reshape(-1, 3)
    points = (positions[:, None, :] + in_plane[None, :, :]).reshape(-1, 3).astype(np.float64)
    offsets = _slice_offsets(plan["thickness"], pixel)
    clean = np.zeros(len(points), dtype=np.float64)
    for offset in offsets:
        clean += _sample_canonical(
            signal, low, points + np.float64(offset) * normal.astype(np.float64)
        )
    clean /= len(offsets)
    clean *= _bias_field(points, rng)
    noisy = _rician(clean, plan["noise"] * 0.7, rng)
    stored = np.rint(noisy * 1000.0 * plan["gain"]).reshape(n_slices, rows, columns)
    maximum = 32767 if plan["signed"] else 4095
    stored = np.clip(stored, 0, maximum).astype(np.int16 if plan["signed"] else np.uint16)
    head, tail = plan["blank"]
    if head:
        stored[:head] = 0
    if tail:
        stored[n_slices - tail :] = 0
    return stored, positions


def _identity(rng, brats_id):
    female = bool(rng.uniform() < 0.45)
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    family = rng.choice(_FAMILY)
    age = int(rng.integers(24, 82))
    study = np.datetime64("2012-01-01") + np.timedelta64(int(rng.integers(0, 3000)), "D")
    birth = study - np.timedelta64(int(age * 365.25 + rng.integers(1, 360)), "D")
    institution, address = _INSTITUTIONS[int(rng.integers(len(_INSTITUTIONS)))]
    return {
        "PatientName": f"{family}^{given}",
        "PatientID": f"MRN{int(rng.integers(1_000_000, 9_999_999))}",
        "OtherPatientID": f"NHS{int(rng.integers(100_000_000, 999_999_999))}",
        "PatientBirthDate": str(birth).replace("-", ""),
        "PatientSex": "F" if female else "M",
        "PatientAge": f"{age:03d}Y",
        "PatientWeight": round(float(rng.uniform(50, 100)), 1),
        "StudyDate": str(study).replace("-", ""),
        "StudyTime": f"{int(rng.integers(7, 19)):02d}{int(rng.integers(0, 60)):02d}00",
        "AccessionNumber": f"ACC{int(rng.integers(10_000_000, 99_999_999))}",
        "InstitutionName": institution,
        "InstitutionAddress": address,
        "ReferringPhysicianName": f"{rng.choice(_FAMILY)}^{rng.choice(_GIVEN_F + _GIVEN_M)}",
        "OperatorsName": f"{rng.choice(_FAMILY)}^{rng.choice(_GIVEN_F + _GIVEN_M)}",
        "StationName": f"MR{int(rng.integers(1, 9))}SCANNER",
        "DeviceSerialNumber": f"SN{int(rng.integers(10_000, 99_999))}",
        "StudyID": f"{int(rng.integers(1000, 9999))}",
        "RequestedProcedureID": f"RP{int(rng.integers(100_000, 999_999))}",
        "field_strength": float(rng.choice([1.5, 3.0])),
        "brats_id": brats_id,
    }


def _ds_number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _series_dataset(identity, plan, sequence, series_number, rows_columns, seed):
    """Header shared by every slice of a series (per-slice attributes set by _set_slice)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian

    key = (seed, identity["brats_id"])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _MR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = _UID_PREFIX + "1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.SOPClassUID = _MR_IMAGE_STORAGE
    ds.SOPInstanceUID = _UID_PREFIX + "1"
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = identity["StudyDate"]
    ds.StudyTime = identity["StudyTime"]
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = (
        f"{identity['StudyTime'][:2]}{series_number * 7 % 60:02d}00"
    )
    ds.AccessionNumber = identity["AccessionNumber"]
    ds.Modality = "MR"
    ds.Manufacturer = "COURSE SYNTHETIC"
    ds.InstitutionName = identity["InstitutionName"]
    ds.InstitutionAddress = identity["InstitutionAddress"]
    ds.ReferringPhysicianName = identity["ReferringPhysicianName"]
    ds.StationName = identity["StationName"]
    ds.StudyDescription = "MRI BRAIN WITH AND WITHOUT CONTRAST"
    ds.SeriesDescription = sequence
    ds.OperatorsName = identity["OperatorsName"]
    ds.ManufacturerModelName = "PHANTOM MR"
    ds.PatientName = identity["PatientName"]
    ds.PatientID = identity["PatientID"]
    ds.IssuerOfPatientID = identity["InstitutionName"]
    ds.PatientBirthDate = identity["PatientBirthDate"]
    ds.PatientSex = identity["PatientSex"]
    other = Dataset()
    other.PatientID = identity["OtherPatientID"]
    other.IssuerOfPatientID = "NATIONAL HEALTH REGISTER"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    ds.PatientAge = identity["PatientAge"]
    ds.PatientWeight = identity["PatientWeight"]
    ds.BodyPartExamined = "BRAIN"
    protocol = _PROTOCOL[sequence]
    ds.ScanningSequence = protocol["ScanningSequence"]
    ds.SequenceVariant = protocol["SequenceVariant"]
    ds.ScanOptions = protocol["ScanOptions"]
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = protocol["SequenceName"]
    ds.SliceThickness = _ds_number(plan["thickness"])
    ds.RepetitionTime = _ds_number(protocol["RepetitionTime"])
    ds.EchoTime = _ds_number(protocol["EchoTime"])
    if "InversionTime" in protocol:
        ds.InversionTime = _ds_number(protocol["InversionTime"])
    ds.NumberOfAverages = "1"
    ds.ImagingFrequency = _ds_number(42.577478 * identity["field_strength"])
    ds.ImagedNucleus = "1H"
    ds.MagneticFieldStrength = _ds_number(identity["field_strength"])
    ds.SpacingBetweenSlices = _ds_number(plan["spacing"])
    ds.EchoTrainLength = protocol["EchoTrainLength"]
    ds.DeviceSerialNumber = identity["DeviceSerialNumber"]
    ds.ProtocolName = f"BRAIN {sequence}"
    ds.PatientPosition = "HFS"
    if sequence == "T1wCE":
        ds.ContrastBolusAgent = "GADOLINIUM"
        ds.ContrastBolusRoute = "IV"
    ds.StudyInstanceUID = _uid(*key, "study")
    ds.SeriesInstanceUID = _uid(*key, sequence, "series")
    ds.StudyID = identity["StudyID"]
    ds.SeriesNumber = series_number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = ["0", "0", "0"]
    ds.ImageOrientationPatient = [_ds_number(v) for v in (*plan["row_dir"], *plan["col_dir"])]
    ds.FrameOfReferenceUID = _uid(*key, "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = "0"
    request = Dataset()
    request.RequestedProcedureID = identity["RequestedProcedureID"]
    request.ScheduledProcedureStepID = f"SPS{identity['AccessionNumber'][3:]}"
    request.AccessionNumber = identity["AccessionNumber"]
    ds.RequestAttributesSequence = Sequence([request])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows_columns
    ds.PixelSpacing = [_ds_number(plan["pixel_mm"])] * 2
    ds.BitsAllocated = 16
    ds.BitsStored = 16 if plan["signed"] else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if plan["signed"] else 0
    ds.WindowCenter = _ds_number(plan["window"][0])
    ds.WindowWidth = _ds_number(plan["window"][1])
    block = ds.private_block(0x0009, _PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", identity["PatientName"])  # vendor copy of the name
    block.add_new(0x11, "LO", identity["PatientID"])
    ds.PixelData = b""
    return ds


# Attributes that differ between the slices of a series, in tag order.
_PER_SLICE_TAGS = (0x00080018, 0x00080033, 0x00200013, 0x00200032, 0x00201041, 0x7FE00010)


def _encode(elements) -> bytes:
    """Explicit VR little endian encoding of data elements (no preamble, no file meta)."""
    from pydicom.dataset import Dataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    dataset = Dataset()
    for element in elements:
        dataset.add(element)
    stream = DicomBytesIO()
    stream.is_little_endian = True
    stream.is_implicit_VR = False
    write_dataset(stream, dataset)
    return stream.getvalue()


class _SeriesWriter:
    """Writes the slices of one series fast: the shared header is encoded only once.

    The bytes are identical to ``Dataset.save_as(path, enforce_file_format=True)``
    of the full dataset (checked in the tests).
    """

    def __init__(self, template):
        from bisect import bisect_left

        from pydicom.filebase import DicomBytesIO
        from pydicom.filewriter import write_file_meta_info

        groups = [[] for _ in range(len(_PER_SLICE_TAGS) + 1)]
        for element in template:
            if int(element.tag) not in _PER_SLICE_TAGS:
                groups[bisect_left(_PER_SLICE_TAGS, int(element.tag))].append(element)
        self.static = [_encode(group) for group in groups]
        self.template = template
        # File meta group: everything but (0002,0000) group length and (0002,0003).
        stream = DicomBytesIO()
        stream.is_little_endian = True
        stream.is_implicit_VR = False
        write_file_meta_info(stream, template.file_meta, enforce_standard=True)
        meta = stream.getvalue()
        old_uid = _short_element(0x00020003, "UI", template.file_meta.MediaStorageSOPInstanceUID)
        cut = meta.index(old_uid)
        self.meta_head = meta[12:cut]  # skip the 12-byte (0002,0000) element
        self.meta_tail = meta[cut + len(old_uid) :]
        self.series_time = str(template.SeriesTime)

    def write(self, path, identity, plan, sequence, instance, position, pixels, seed):
        sop_uid = _uid(seed, identity["brats_id"], sequence, instance)
        meta_body = self.meta_head + _short_element(0x00020003, "UI", sop_uid) + self.meta_tail
        group_length = b"\x02\x00\x00\x00UL\x04\x00" + len(meta_body).to_bytes(4, "little")
        pixel_bytes = np.ascontiguousarray(pixels).astype(
            "<i2" if pixels.dtype.kind == "i" else "<u2"
        )
        pixel_bytes = pixel_bytes.tobytes()
        per_slice = [
            _short_element(0x00080018, "UI", sop_uid),
            _short_element(0x00080033, "TM", f"{self.series_time[:4]}{instance % 60:02d}"),
            _short_element(0x00200013, "IS", str(int(instance))),
            _short_element(0x00200032, "DS", "\\".join(_ds_number(v) for v in position)),
            _short_element(0x00201041, "DS", _ds_number(float(np.dot(position, plan["normal"])))),
            b"\xe0\x7f\x10\x00OW\x00\x00" + len(pixel_bytes).to_bytes(4, "little") + pixel_bytes,
        ]
        parts = [b"\0" * 128, b"DICM", group_length, meta_body]
        for static, element in zip(self.static, per_slice, strict=False):
            parts.extend([static, element])
        parts.append(self.static[-1])
        Path(path).write_bytes(b"".join(parts))


def _short_element(tag: int, vr: str, text: str) -> bytes:
    """Explicit VR little endian encoding of a short text element (UI padded with NUL)."""
    value = text.encode("ascii")
    if len(value) % 2:
        value += b"\0" if vr == "UI" else b" "
    return (
        (tag >> 16).to_bytes(2, "little")
        + (tag & 0xFFFF).to_bytes(2, "little")
        + vr.encode("ascii")
        + len(value).to_bytes(2, "little")
        + value
    )


def _set_slice(ds, identity, plan, sequence, instance, position, pixels, seed):
    """Fill in the attributes that differ between the slices of a series (slow reference path)."""
    sop_uid = _uid(seed, identity["brats_id"], sequence, instance)
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.SOPInstanceUID = sop_uid
    ds.ContentTime = f"{ds.SeriesTime[:4]}{instance % 60:02d}"
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [_ds_number(v) for v in position]
    ds.SliceLocation = _ds_number(float(np.dot(position, plan["normal"])))
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    return ds


def _choose(rng, candidates, count):
    count = int(min(max(count, 0), len(candidates)))
    if count == 0:
        return []
    return sorted(rng.choice(list(candidates), size=count, replace=False).tolist())


def generate(out_dir, **params) -> None:
    """Write the *brain-mri-study* dataset (RSNA-MICCAI 2021 layout) into ``out_dir``.

    Layout::

        train_labels.csv                BraTS21ID (integer, not padded), MGMT_value (0/1)
        train/<5-digit id>/<FLAIR|T1w|T1wCE|T2w>/Image-<n>.dcm   n = 1, 2, ... (InstanceNumber)

    Every file is a single-frame MR Image Storage object (explicit VR little
    endian, MONOCHROME2, 16 bits allocated; unsigned 12-bit stored values, or
    signed int16 with PixelRepresentation 1 in about ``signed_series_fraction``
    of the series) with full geometry (ImagePositionPatient,
    ImageOrientationPatient, PixelSpacing, SliceThickness,
    SpacingBetweenSlices, SliceLocation) and *fake* identifying attributes
    (names, birth date, IDs, institution, a private block repeating the name,
    identifiers inside OtherPatientIDsSequence and RequestAttributesSequence)
    for the de-identification lesson. Slice counts, matrix sizes, slice
    orientation (mostly axial, some sagittal/coronal, some oblique) and the
    direction of the instance numbering vary between series.

    Deliberate quirks (counts from ``params``): label rows whose folder is
    missing, folders without a label row, an empty and a missing sequence
    folder, truncated files, all-zero slices at the ends of some series.

    Parameters
    ----------
    out_dir : path
        Existing (empty) folder.
    **params
        Any of :data:`DEFAULTS`.

    Raises
    ------
    TypeError
        Unknown parameter.
    ValueError
        Parameter out of range.
    FileNotFoundError
        ``out_dir`` does not exist.

    Example
    -------
    >>> from course_utils.data import dataset_path
    >>> root = dataset_path("brain-mri-study")   # doctest: +SKIP
    """
    import pydicom  # noqa: F401  (fail early if missing)

    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown parameter(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}")
    params = {**DEFAULTS, **params}
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"out_dir {out_dir} does not exist; create it first")
    if params["n_patients"] < 1:
        raise ValueError(f"n_patients must be at least 1, got {params['n_patients']}")
    if not 16 <= params["min_matrix"] <= params["max_matrix"] <= 512:
        raise ValueError(
            f"need 16 <= min_matrix <= max_matrix <= 512, got {params['min_matrix']}, {params['max_matrix']}"
        )
    seed = int(params["seed"])
    rng = np.random.default_rng([20213, seed])
    n_folders = int(params["n_patients"])
    n_ids = n_folders + int(params["n_missing_folders"])
    brats_ids = np.cumsum(rng.integers(1, 4, size=n_ids)) - 1
    order = rng.permutation(n_ids)
    missing_ids = set(brats_ids[order[: n_ids - n_folders]].tolist())
    folder_ids = [int(i) for i in brats_ids if int(i) not in missing_ids]
    unlabelled = set(_choose(rng, folder_ids[1:], params["n_unlabelled_folders"]))
    mgmt = (rng.uniform(size=n_ids) < 0.55).astype(int)

    with open(out_dir / "train_labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["BraTS21ID", "MGMT_value"])
        for brats_id, value in zip(brats_ids.tolist(), mgmt.tolist(), strict=True):
            if brats_id not in unlabelled:
                writer.writerow([brats_id, value])

    series_keys = [(b, s) for b in folder_ids for s in SEQUENCES]
    damaged = _choose(
        rng, range(len(series_keys)), params["n_empty_series"] + params["n_missing_series"]
    )
    rng.shuffle(damaged)
    empty_series = {series_keys[i] for i in damaged[: int(params["n_empty_series"])]}
    missing_series = {series_keys[i] for i in damaged[int(params["n_empty_series"]) :]}
    intact = [k for k in series_keys if k not in empty_series and k not in missing_series]
    truncated_series = {
        intact[i] for i in _choose(rng, range(len(intact)), params["n_truncated_files"])
    }

    train = out_dir / "train"
    train.mkdir()
    for brats_id in folder_ids:
        patient_rng = np.random.default_rng([20214, seed, brats_id])
        subject = _subject((seed, brats_id))
        identity = _identity(patient_rng, brats_id)
        signals, low = _canonical_signals(subject, SEQUENCES)
        patient_dir = train / patient_folder_name(brats_id)
        patient_dir.mkdir()
        for number, sequence in enumerate(SEQUENCES, start=1):
            plan = _series_plan(patient_rng, params, subject, sequence)
            if (brats_id, sequence) in missing_series:
                continue
            series_dir = patient_dir / sequence
            series_dir.mkdir()
            if (brats_id, sequence) in empty_series:
                continue
            pixels, positions = _series_pixels(plan, signals[sequence], low, patient_rng)
            body = pixels[pixels > 0]
            level = float(np.percentile(body, 99.5)) if body.size else 1000.0
            plan["window"] = (round(level / 2.0), round(level))
            n_slices = len(pixels)
            truncate_at = (
                int(patient_rng.integers(n_slices // 3, max(n_slices // 3 + 1, 2 * n_slices // 3)))
                if (brats_id, sequence) in truncated_series
                else None
            )
            template = _series_dataset(identity, plan, sequence, number, pixels.shape[1:], seed)
            writer = _SeriesWriter(template)
            for index in range(n_slices):
                instance = n_slices - index if plan["reverse"] else index + 1
                path = series_dir / f"Image-{instance}.dcm"
                writer.write(
                    path, identity, plan, sequence, instance, positions[index], pixels[index], seed
                )
                if index == truncate_at:
                    size = path.stat().st_size
                    with open(path, "r+b") as handle:
                        handle.truncate(size - pixels[index].nbytes // 2)


# --------------------------------------------------------------------------- validation of a real copy
_PATIENT_FOLDER = re.compile(r"^\d{5}$")
_IMAGE_FILE = re.compile(r"^Image-(\d+)\.dcm$")
_TOP_LEVEL_EXPECTED = {"train_labels.csv", "train", "test", "sample_submission.csv"}
_FALLBACK_KNOWN_BAD = {
    109: "FLAIR series problems; the organisers advised excluding this case",
    123: "T1w series problems; the organisers advised excluding this case",
    709: "FLAIR series problems; the organisers advised excluding this case",
}
_SERIAL_LIMIT = 4000  # more files than this are checked in worker processes by default


def _known_bad_ids() -> dict[int, str]:
    """Known-bad case ids and the reason, from the rsna-miccai manifest when available."""
    try:
        from course_utils.data import load_manifest

        manifest = load_manifest("rsna-miccai")
    except (KeyError, FileNotFoundError, ValueError, OSError):
        return dict(_FALLBACK_KNOWN_BAD)
    known = {}
    for entry in manifest.get("known_problems", []) or []:
        if isinstance(entry, dict) and "id" in entry:
            known[int(entry["id"])] = str(entry.get("problem", "known problem")).strip()
    return known or dict(_FALLBACK_KNOWN_BAD)


def _inspect_dicom_header(path: str) -> tuple[str | None, int | None]:
    """Header-only check of one DICOM file: (problem or None, InstanceNumber).

    Reads the header with ``stop_before_pixels`` and compares the file size
    with the pixel bytes the header announces, which catches truncated files
    without decoding any pixel. Top-level (picklable) for process pools.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            ds = pydicom.dcmread(handle, stop_before_pixels=True)
            pixel_start = handle.tell()
            element_header = handle.read(12)
    except InvalidDicomError as exc:
        return f"not a DICOM file ({exc})", None
    except Exception as exc:  # noqa: BLE001 - any failure to parse is a finding, not a crash
        return f"unreadable header ({type(exc).__name__}: {exc})", None
    instance = ds.get("InstanceNumber")
    try:
        instance = int(instance) if instance not in (None, "") else None
    except (TypeError, ValueError):
        instance = None
    syntax = str(getattr(ds.get("file_meta", None), "TransferSyntaxUID", "") or "")
    little = syntax != ExplicitVRBigEndian
    implicit = syntax == ImplicitVRLittleEndian
    order = "little" if little else "big"
    if len(element_header) < 8:
        return f"no pixel data: the file ends after the header ({size} bytes)", instance
    group = int.from_bytes(element_header[0:2], order)
    element = int.from_bytes(element_header[2:4], order)
    if (group, element) not in ((0x7FE0, 0x0010), (0x7FE0, 0x0008), (0x7FE0, 0x0009)):
        return None, instance  # stopped before some other element; nothing to size-check
    if implicit:
        header_length, length = 8, int.from_bytes(element_header[4:8], order)
    elif element_header[4:6] in (b"OB", b"OW", b"OF", b"OD", b"OL", b"UN", b"OV"):
        if len(element_header) < 12:
            return f"truncated inside the pixel-data header ({size} bytes)", instance
        header_length, length = 12, int.from_bytes(element_header[8:12], order)
    else:
        header_length, length = 8, int.from_bytes(element_header[6:8], order)
    if length == 0xFFFFFFFF:  # encapsulated (compressed): must end with a sequence delimiter
        with open(path, "rb") as handle:
            handle.seek(max(size - 8, 0))
            tail = handle.read(8)
        if tail != b"\xfe\xff\xdd\xe0\x00\x00\x00\x00":
            return "truncated: compressed pixel data has no end-of-sequence delimiter", instance
        return None, instance
    available = size - pixel_start - header_length
    if available < length:
        return f"truncated: pixel data announces {length} bytes, file holds {available}", instance
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        expected = (
            int(ds.Rows)
            * int(ds.Columns)
            * int(ds.get("SamplesPerPixel", 1))
            * frames
            * int(ds.BitsAllocated)
            + 7
        ) // 8
    except (AttributeError, TypeError, ValueError):
        return "header lacks Rows/Columns/BitsAllocated needed to read the pixels", instance
    if length < expected:
        return f"pixel data holds {length} bytes, Rows x Columns x bits need {expected}", instance
    return None, instance


def _read_labels(path: Path, report) -> dict[int, int]:
    from course_utils.data import Finding

    where = path.name
    if not path.is_file():
        report.findings.append(Finding("error", where, "missing: the labels file is required"))
        return {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        report.findings.append(Finding("error", where, f"cannot be read as CSV text ({exc})"))
        return {}
    if not rows:
        report.findings.append(
            Finding("error", where, "is empty; expected columns BraTS21ID, MGMT_value")
        )
        return {}
    header = [name.strip() for name in rows[0]]
    missing = [name for name in ("BraTS21ID", "MGMT_value") if name not in header]
    if missing:
        report.findings.append(
            Finding("error", where, f"missing column(s) {missing}; found columns {header}")
        )
        return {}
    extra = [name for name in header if name not in ("BraTS21ID", "MGMT_value")]
    if extra:
        report.findings.append(Finding("note", where, f"extra column(s) {extra} ignored"))
    id_column, value_column = header.index("BraTS21ID"), header.index("MGMT_value")
    labels: dict[int, int] = {}
    bad_ids, bad_values, duplicates = [], [], []
    for line_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        id_text, value_text = cells[id_column].strip(), cells[value_column].strip()
        if not id_text.isdigit():
            bad_ids.append(f"line {line_number}: {id_text!r}")
            continue
        brats_id = int(id_text)
        if value_text not in ("0", "1"):
            bad_values.append(f"line {line_number} (id {brats_id}): {value_text!r}")
            continue
        if brats_id in labels:
            duplicates.append(f"line {line_number}: id {brats_id}")
            continue
        labels[brats_id] = int(value_text)
    for kind, items in (
        ("BraTS21ID is not a non-negative integer", bad_ids),
        ("MGMT_value is not 0 or 1", bad_values),
        ("duplicate BraTS21ID (first row kept)", duplicates),
    ):
        if items:
            shown = "; ".join(items[:10]) + (
                f"; ... {len(items) - 10} more" if len(items) > 10 else ""
            )
            report.findings.append(
                Finding("error", where, f"{kind} in {len(items)} row(s): {shown}")
            )
    if not labels:
        report.findings.append(Finding("error", where, "has no usable label rows"))
    return labels


def validate_rsna_miccai(
    root, report, *, scheduler: str | None = None, n_workers: int | None = None
):
    """Check a folder against the RSNA-MICCAI 2021 brain tumour layout (headers only).

    Checks ``train_labels.csv`` (columns ``BraTS21ID`` and ``MGMT_value``,
    integer ids, values 0/1, duplicates), ids in the labels without a folder,
    folders without a label row, patient folders missing any of the four
    sequence folders or holding an empty one, stray files and folders, and
    every DICOM file's header (``stop_before_pixels``) plus a size check that
    catches truncated pixel data. A ``test/`` folder, if present, gets the same
    folder and file checks. Known-bad cases listed in the rsna-miccai manifest
    are reported as notes. Nothing is written into ``root``.

    Parameters
    ----------
    root : path
        The dataset's top folder (holding ``train_labels.csv`` and ``train/``).
    report : course_utils.data.ValidationReport
        Receives the findings and the summary counts.
    scheduler : str, optional
        Where the header checks run (see :func:`course_utils.parallel.parallel_map`);
        default ``"serial"`` for up to 4,000 files, ``"processes"`` above.
    n_workers : int, optional
        Worker processes for the parallel schedulers.

    Returns
    -------
    course_utils.data.ValidationReport
        The same ``report``, filled in.

    Raises
    ------
    FileNotFoundError / NotADirectoryError
        If ``root`` does not exist or is not a folder.

    Example
    -------
    >>> from course_utils import data
    >>> report = data.validate("rsna-miccai", data.dataset_path("brain-mri-study"))  # doctest: +SKIP
    >>> report.summary["patient folders"]                                           # doctest: +SKIP
    12
    """
    from course_utils.data import Finding
    from course_utils.parallel import parallel_map

    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"rsna-miccai: folder {root} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(
            f"rsna-miccai: {root} is a file; expected the dataset's top folder"
        )
    findings = report.findings

    def add(severity, where, message):
        findings.append(Finding(severity, where, message))

    labels = _read_labels(root / "train_labels.csv", report)
    for entry in sorted(root.iterdir()):
        if entry.name not in _TOP_LEVEL_EXPECTED and not entry.name.startswith("."):
            add("note", entry.name, "unexpected entry at the top level (ignored)")

    files: list[Path] = []
    complete_cases: dict[str, set[int]] = {}
    folders: dict[str, list[int]] = {}
    for split in ("train", "test"):
        split_dir = root / split
        if not split_dir.is_dir():
            if split == "train":
                add(
                    "error",
                    "train/",
                    "missing: expected train/<5-digit id>/<sequence>/Image-<n>.dcm",
                )
            continue
        folders[split] = []
        complete_cases[split] = set()
        for patient in sorted(split_dir.iterdir()):
            where = f"{split}/{patient.name}"
            if patient.name.startswith(".") and patient.is_file():
                add("error", where, "stray hidden file among the patient folders")
                continue
            if not patient.is_dir():
                add("error", where, "stray file among the patient folders")
                continue
            if not _PATIENT_FOLDER.match(patient.name):
                add("error", where + "/", "unexpected folder: patient folders are 5-digit ids")
                continue
            brats_id = int(patient.name)
            folders[split].append(brats_id)
            complete = True
            for entry in sorted(patient.iterdir()):
                if entry.name not in SEQUENCES:
                    add(
                        "error",
                        f"{where}/{entry.name}",
                        f"unexpected entry; expected only {list(SEQUENCES)}",
                    )
            for sequence in SEQUENCES:
                series = patient / sequence
                if not series.is_dir():
                    add("error", f"{where}/{sequence}/", "missing sequence folder")
                    complete = False
                    continue
                n_images = 0
                for item in sorted(series.iterdir()):
                    item_where = f"{where}/{sequence}/{item.name}"
                    if item.is_dir():
                        add(
                            "error",
                            item_where + "/",
                            "unexpected subfolder inside a sequence folder",
                        )
                    elif _IMAGE_FILE.match(item.name):
                        files.append(item)
                        n_images += 1
                    else:
                        add("error", item_where, "stray file (expected only Image-<n>.dcm)")
                if n_images == 0:
                    add("error", f"{where}/{sequence}/", "empty sequence folder (no Image-<n>.dcm)")
                    complete = False
            if complete:
                complete_cases[split].add(brats_id)

    if scheduler is None:
        scheduler = "serial" if len(files) <= _SERIAL_LIMIT else "processes"
    results = parallel_map(
        _inspect_dicom_header,
        [str(path) for path in files],
        scheduler=scheduler,
        n_workers=n_workers,
        desc="DICOM headers",
    )
    bad_cases: dict[str, set[int]] = {split: set() for split in folders}
    instances: dict[tuple[str, str, str], dict[int, str]] = {}
    for path, (problem, instance) in zip(files, results, strict=True):
        relative = path.relative_to(root).as_posix()
        split, patient, sequence = path.relative_to(root).parts[:3]
        if problem is not None:
            add("error", relative, problem)
            bad_cases[split].add(int(patient))
            continue
        if instance is not None:
            seen = instances.setdefault((split, patient, sequence), {})
            if instance in seen:
                add("note", relative, f"InstanceNumber {instance} also used by {seen[instance]}")
            else:
                seen[instance] = path.name

    train_folders = set(folders.get("train", []))
    if labels and "train" in folders:
        for brats_id in sorted(set(labels) - train_folders):
            add(
                "error",
                f"train/{patient_folder_name(brats_id)}/",
                f"BraTS21ID {brats_id} is in train_labels.csv but its folder is missing",
            )
        for brats_id in sorted(train_folders - set(labels)):
            add(
                "error",
                f"train/{patient_folder_name(brats_id)}/",
                f"folder has no row in train_labels.csv (BraTS21ID {brats_id})",
            )
    known_bad = _known_bad_ids()
    present = set(labels) | train_folders | set(folders.get("test", []))
    for brats_id in sorted(present & set(known_bad)):
        add(
            "note",
            f"case {patient_folder_name(brats_id)}",
            f"known problem listed in the manifest: {known_bad[brats_id]}; exclude it",
        )

    usable = (
        (complete_cases.get("train", set()) - bad_cases.get("train", set())) & set(labels)
    ) - set(known_bad)
    mgmt = list(labels.values())
    report.summary.update(
        {
            "label rows": len(labels),
            "MGMT_value 1 / 0": f"{sum(mgmt)} / {len(mgmt) - sum(mgmt)}",
            "patient folders": len(train_folders),
            "test folders": len(folders.get("test", [])),
            "DICOM files checked": len(files),
            "bad DICOM files": sum(problem is not None for problem, _ in results),
            "usable labelled cases": len(usable),
        }
    )
    return report
