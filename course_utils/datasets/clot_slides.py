"""clot-slides: synthetic H&E whole-slide images of stroke thrombi (like Mayo Clinic STRIP AI).

Layout (as the competition ships it)::

    train.csv                    image_id, center_id, patient_id, image_num, label (CE | LAA)
    train/<image_id>.tif         one slide per row, image_id = <patient_id>_<image_num>

Each slide is a tiled, JPEG-compressed RGB TIFF. Pyramidal slides store every
level as its own top-level IFD (level 0 first, then reduced-resolution
levels, each down-sampled 4x, ``NewSubfileType = 1``), the layout OpenSlide and
tifffile both read as a pyramid; levels in SubIFDs would be invisible to
OpenSlide. ``XResolution``/``YResolution`` are in pixels per centimetre, so
microns per pixel = 10 000 / XResolution, and the ImageDescription repeats it
as ``MPP = 0.2500``. OpenSlide (generic-TIFF driver) reports
``openslide.mpp-x`` from those resolution tags. The description deliberately
does *not* start with ``Aperio``: tifffile then parses the file as SVS, whose
layout puts a stripped thumbnail in the second IFD and stops at the first
reduced-resolution IFD, so it would see only level 0 of these files.

The picture is an optical-density (Beer-Lambert) mix of three absorbers on the
centre's background (white ~240 or grey ~205): eosin (pale pink fibrin and
platelet-rich areas with streaks), red blood cells (dense orange-red discs with
pale centres) and haematoxylin (purple, lobulated nuclei of scattered white
cells). Tissue lies in a few irregular fragments; some slides carry a fold (a
band where the section overlaps itself and absorbs twice as much). Centres differ
in background, stain strength, eosin hue and scanner resolution (0.25 or
0.5 µm/px). CE and LAA clots differ only weakly (LAA a little richer in red
cells), as in reality.

Deliberate quirks: patients with several slides (image_num 1, 2), a strong
class imbalance (~73 % CE), centre-dependent colour, and ``n_flat`` slides
written without a pyramid (single level), as many real STRIP AI files are.

Slides are synthesised tile by tile from periodic textures and low-resolution
maps, so memory stays bounded: a 60 000 x 40 000 px slide needs roughly the
size of its first reduced level (1/16 of the full image) in RAM, never the full
image.

Example
-------
>>> from course_utils import data
>>> root = data.dataset_path("clot-slides")        # doctest: +SKIP
>>> sorted(p.name for p in root.iterdir())         # doctest: +SKIP
['train', 'train.csv']
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULTS",
    "generate",
    "validate_strip_ai",
    "CENTRE_MPP",
    "write_slide",
    "true_stain_vectors",
]

DEFAULTS = {
    "seed": 0,
    "n_slides": 12,
    "min_side_px": 1500,
    "max_side_px": 5000,
    "size_scale": 1.0,
    "tile_px": 256,
    "jpeg_quality": 85,
    "n_flat": 1,
    "width": None,
    "height": None,
}
"""Generator parameters.

``n_slides`` slides whose longer side lies between ``min_side_px`` and
``max_side_px`` (times ``size_scale``); ``width``/``height`` force every slide
to one size (benchmarks). ``n_flat`` slides are written without a pyramid.
"""

# Slides per centre in the real training set (centre 11 largest); used as sampling weights.
_CENTRE_WEIGHTS = {1: 54, 2: 29, 3: 49, 4: 114, 5: 38, 6: 38, 7: 99, 8: 16, 9: 16, 10: 44, 11: 257}

CENTRE_MPP = {c: (0.25 if c in (2, 5, 8, 11) else 0.5) for c in _CENTRE_WEIGHTS}
"""Microns per pixel at level 0 for each centre (two scanner settings, 40x and 20x)."""

_LABEL_RBC_FRACTION = {"CE": 0.42, "LAA": 0.55}

# Optical density per unit concentration (R, G, B) of the three absorbers,
# derived from target colours on a 240 background: eosin/fibrin (225, 140, 175),
# red cells (195, 45, 55), haematoxylin nuclei (90, 60, 150).
_OD_EOSIN = np.log(240.0 / np.array([225.0, 140.0, 175.0]))
_OD_RBC = np.log(240.0 / np.array([195.0, 45.0, 55.0]))
_OD_HAEM = np.log(240.0 / np.array([90.0, 60.0, 150.0]))

_MAP_STEP_PX = 32  # low-resolution maps: one value per 32 x 32 level-0 pixels
_TEXTURE_PX = 1024  # period of the seamless textures


def _centre_style(centre_id: int) -> dict:
    """Fixed look of a centre (independent of the dataset seed)."""
    rng = np.random.default_rng(10_000 + centre_id)
    grey = centre_id in (3, 6, 10)
    return {
        "background": (
            np.array([206.0, 207.0, 211.0]) + rng.uniform(-4, 4, 3)
            if grey
            else np.array([241.0, 240.0, 242.0]) + rng.uniform(-2, 2, 3)
        ),
        "eosin_scale": float(rng.uniform(0.7, 1.35)),
        "haem_scale": float(rng.uniform(0.75, 1.3)),
        "rbc_scale": float(rng.uniform(0.8, 1.15)),
        # a small rotation of the eosin colour: more magenta or more orange
        "eosin_tint": np.array([1.0, 1.0, 1.0]) + rng.uniform(-0.25, 0.25, 3) * np.array([1, 0, 1]),
        "mpp": CENTRE_MPP[centre_id],
    }


def true_stain_vectors(centre_id: int) -> dict:
    """Unit optical-density vectors (R, G, B) of the three absorbers a centre paints with.

    The generator paints **three** absorbers: eosin/fibrin (tinted per centre),
    red cells and haematoxylin nuclei. Each pixel's optical density is a sum of
    these vectors times their concentrations, so these are the ground truth for
    stain-vector estimates (Macenko, Vahadane) on generated slides.

    Example
    -------
    >>> sorted(true_stain_vectors(1))
    ['eosin', 'haematoxylin', 'red cells']
    >>> round(float(np.linalg.norm(true_stain_vectors(1)["eosin"])), 6)
    1.0
    """
    if centre_id not in _CENTRE_WEIGHTS:
        raise ValueError(f"centre_id must be one of {sorted(_CENTRE_WEIGHTS)}, got {centre_id}")
    vectors = {
        "eosin": _OD_EOSIN * _centre_style(centre_id)["eosin_tint"],
        "red cells": _OD_RBC,
        "haematoxylin": _OD_HAEM,
    }
    return {name: v / np.linalg.norm(v) for name, v in vectors.items()}


# --------------------------------------------------------------------------- textures
def _smooth_noise(rng, shape, sigma_px, anisotropy=1.0, angle=0.0):
    """Gaussian-filtered white noise (periodic, via the FFT) with zero mean and unit std."""
    noise = rng.standard_normal(shape).astype(np.float64)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    c, s = np.cos(angle), np.sin(angle)
    along = fx * c + fy * s
    across = -fx * s + fy * c
    sigma_f = 1.0 / (2 * np.pi * sigma_px)
    kernel = np.exp(-0.5 * ((along * anisotropy / sigma_f) ** 2 + (across / sigma_f) ** 2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=shape).astype(np.float64)
    field -= field.mean()
    std = field.std()
    return field / std if std > 0 else field


def _fold_canvas(canvas: np.ndarray, margin: int, period: int) -> np.ndarray:
    """Wrap a canvas drawn with ``margin`` extra pixels into a seamless ``period`` texture."""
    out = canvas[margin : margin + period, margin : margin + period].copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            y0, x0 = margin + dy * period, margin + dx * period
            ys = slice(max(y0, 0), min(y0 + period, canvas.shape[0]))
            xs = slice(max(x0, 0), min(x0 + period, canvas.shape[1]))
            part = canvas[ys, xs]
            oy, ox = ys.start - y0, xs.start - x0
            target = out[oy : oy + part.shape[0], ox : ox + part.shape[1]]
            np.maximum(target, part, out=target)
    return out


def _textures(rng, mpp: float, period: int = _TEXTURE_PX) -> dict:
    """Seamless textures (``period`` px, at most ``_TEXTURE_PX``) in level-0 pixels for one slide."""
    import cv2

    px_per_um = 1.0 / mpp
    margin = int(np.ceil(12 * px_per_um)) + 2
    size = period + 2 * margin

    # red blood cells: biconcave discs ~7.5 µm, densely packed, pale centre
    rbc = np.zeros((size, size), np.uint8)
    radius = 3.75 * px_per_um
    n_cells = int(1.9 * period**2 / (np.pi * radius**2))
    centres = rng.uniform(0, period, (n_cells, 2)) + margin
    radii = radius * rng.uniform(0.8, 1.15, n_cells)
    shift = 4  # sub-pixel precision for cv2 drawing
    for (cy, cx), r in zip(centres, radii, strict=True):
        centre = (int(cx * 2**shift), int(cy * 2**shift))
        cv2.circle(rbc, centre, int(r * 2**shift), 230, -1, cv2.LINE_AA, shift)
        cv2.circle(rbc, centre, int(0.45 * r * 2**shift), 150, -1, cv2.LINE_AA, shift)
    rbc_texture = _fold_canvas(rbc, margin, period).astype(np.float64) / 255.0

    # white-cell nuclei: lobulated (neutrophils) or round (lymphocytes), ~8-10 µm
    nuclei = np.zeros((size, size), np.uint8)
    n_nuclei = int(700 * (period * mpp / 1000.0) ** 2)  # ~700 per mm² where the weight map allows
    for cy, cx in rng.uniform(0, period, (n_nuclei, 2)) + margin:
        if rng.random() < 0.65:  # neutrophil: 2-4 lobes around a point
            n_lobes = int(rng.integers(2, 5))
            angles = rng.uniform(0, 2 * np.pi) + np.arange(n_lobes) * 2 * np.pi / n_lobes
            for a in angles:
                ly = cy + 1.6 * px_per_um * np.sin(a)
                lx = cx + 1.6 * px_per_um * np.cos(a)
                axes = (int(2.1 * px_per_um * 16), int(1.6 * px_per_um * 16))
                cv2.ellipse(
                    nuclei,
                    (int(lx * 16), int(ly * 16)),
                    axes,
                    float(np.degrees(a)),
                    0,
                    360,
                    255,
                    -1,
                    cv2.LINE_AA,
                    4,
                )
        else:  # lymphocyte: round, dense
            cv2.circle(
                nuclei,
                (int(cx * 16), int(cy * 16)),
                int(3.3 * px_per_um * 16),
                255,
                -1,
                cv2.LINE_AA,
                4,
            )
    nuclei_texture = _fold_canvas(nuclei, margin, period).astype(np.float64) / 255.0

    # fibrin: elongated eosinophilic streaks (two orientations, blended later)
    angle = rng.uniform(0, np.pi)
    streak_a = _smooth_noise(rng, (period, period), 1.2 * px_per_um, anisotropy=6.0, angle=angle)
    streak_b = _smooth_noise(
        rng, (period, period), 1.2 * px_per_um, anisotropy=6.0, angle=angle + 1.1
    )
    grain = _smooth_noise(rng, (period, period), 0.6 * px_per_um)
    edge_noise = _smooth_noise(rng, (period, period), 5.0 * px_per_um)
    pixel_noise = rng.normal(0.0, 1.5, (period, period)).astype(np.float64)
    textures = {
        "rbc": rbc_texture,
        "nuclei": nuclei_texture,
        "streak_a": streak_a,
        "streak_b": streak_b,
        "grain": grain,
        "edge": edge_noise,
        "pixel_noise": pixel_noise,
    }
    # extend by one tile's worth of wrapped pixels so that tile look-ups are plain slices
    padded = {
        name: np.pad(tex, ((0, _TEXTURE_PX), (0, _TEXTURE_PX)), mode="wrap")
        for name, tex in textures.items()
    }
    padded["period"] = period
    return padded


# --------------------------------------------------------------------------- low-resolution maps
def _maps(rng, height: int, width: int, mpp: float, rbc_fraction: float, fold: bool) -> dict:
    """Per-slide maps sampled every ``_MAP_STEP_PX`` level-0 pixels."""
    from scipy import ndimage

    step = _MAP_STEP_PX
    shape = (height // step + 2, width // step + 2)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    um_per_cell = step * mpp

    # tissue: 2-5 elongated fragments with ragged outlines (signed "inside" field)
    inside = np.full(shape, -1.0, np.float64)
    wobble = _smooth_noise(rng, shape, max(1.5, 120.0 / um_per_cell))
    n_fragments = int(rng.integers(2, 6))
    for index in range(n_fragments):
        cy = rng.uniform(0.2, 0.8) * shape[0]
        cx = rng.uniform(0.2, 0.8) * shape[1]
        if index == 0:
            cy, cx = 0.5 * shape[0], 0.5 * shape[1]
        size = min(shape) * (0.36 if index == 0 else rng.uniform(0.1, 0.22))
        ry, rx = size * rng.uniform(0.35, 0.7), size * rng.uniform(0.9, 1.5)
        theta = rng.uniform(0, np.pi)
        c, s = np.cos(theta), np.sin(theta)
        u = ((xx - cx) * c + (yy - cy) * s) / rx
        v = (-(xx - cx) * s + (yy - cy) * c) / ry
        inside = np.maximum(inside, 1.0 - np.sqrt(u**2 + v**2))
    inside = inside + 0.18 * wobble

    # red-cell-rich vs fibrin-rich regions, and where white cells gather (at the borders)
    regions = _smooth_noise(rng, shape, max(1.5, 180.0 / um_per_cell))
    threshold = np.quantile(regions, 1.0 - rbc_fraction)
    rbc_weight = 1.0 / (1.0 + np.exp(-(regions - threshold) * 6.0))
    nuclei_weight = 0.35 + 2.2 * np.exp(-(((regions - threshold) / 0.35) ** 2))
    orientation = 1.0 / (
        1.0 + np.exp(-_smooth_noise(rng, shape, max(1.5, 250.0 / um_per_cell)) * 3)
    )
    stain = 1.0 + 0.12 * _smooth_noise(rng, shape, max(1.5, 400.0 / um_per_cell))

    # a fold: a band 30-80 µm wide where the section lies double
    fold_map = np.zeros(shape, np.float64)
    if fold:
        theta = rng.uniform(0, np.pi)
        offset = rng.uniform(-0.15, 0.15) * min(shape)
        distance = (
            (xx - shape[1] / 2) * np.sin(theta) - (yy - shape[0] / 2) * np.cos(theta) - offset
        )
        half_width = rng.uniform(15, 40) / um_per_cell
        fold_map = np.clip(1.5 - np.abs(distance) / max(half_width, 0.5), 0, 1).astype(np.float64)
        fold_map = ndimage.gaussian_filter(fold_map, 0.7)
    return {
        "inside": inside.astype(np.float64),
        "rbc": rbc_weight.astype(np.float64),
        "nuclei": nuclei_weight.astype(np.float64),
        "orientation": orientation.astype(np.float64),
        "stain": stain.astype(np.float64),
        "fold": fold_map,
    }


def _upsample(map_2d: np.ndarray, y0: int, x0: int, h: int, w: int) -> np.ndarray:
    """Bilinear sample of a low-resolution map on the level-0 pixels of one tile.

    Written out in float64 numpy (edge pixels replicated) rather than ``cv2.remap``, whose
    float kernels are chosen at run time from the CPU's SIMD features.
    """
    step = _MAP_STEP_PX
    n_rows, n_cols = map_2d.shape
    ys = np.clip((np.arange(y0, y0 + h, dtype=np.float64) + 0.5) / step - 0.5, 0, n_rows - 1)
    xs = np.clip((np.arange(x0, x0 + w, dtype=np.float64) + 0.5) / step - 0.5, 0, n_cols - 1)
    top, left = np.floor(ys).astype(np.intp), np.floor(xs).astype(np.intp)
    bottom, right = np.minimum(top + 1, n_rows - 1), np.minimum(left + 1, n_cols - 1)
    wy, wx = (ys - top)[:, None], (xs - left)[None, :]
    grid = np.asarray(map_2d, dtype=np.float64)
    upper = grid[top][:, left] * (1 - wx) + grid[top][:, right] * wx
    lower = grid[bottom][:, left] * (1 - wx) + grid[bottom][:, right] * wx
    return upper * (1 - wy) + lower * wy


def _periodic(texture: np.ndarray, y0: int, x0: int, h: int, w: int, period: int) -> np.ndarray:
    """View of a wrapped periodic texture at global position (y0, x0); h, w <= 1024."""
    y, x = y0 % period, x0 % period
    return texture[y : y + h, x : x + w]


def _render_tile(style, textures, maps, y0, x0, h, w) -> np.ndarray:
    """RGB uint8 tile of level 0 at (y0, x0) of size (h, w)."""
    background = style["background"].astype(np.float64)

    def texture_at(name):
        return _periodic(textures[name], y0, x0, h, w, textures["period"])

    step = _MAP_STEP_PX
    ys = slice(max(y0 // step - 1, 0), (y0 + h) // step + 2)
    xs = slice(max(x0 // step - 1, 0), (x0 + w) // step + 2)
    if maps["inside"][ys, xs].max() < -0.25:  # pure background: skip the synthesis
        tile = background + texture_at("pixel_noise")[..., None]
        return np.clip(tile, 0, 255).astype(np.uint8)

    inside = _upsample(maps["inside"], y0, x0, h, w) + 0.02 * texture_at("edge")
    alpha = np.clip(inside / 0.015 + 0.5, 0.0, 1.0)
    rbc_w = _upsample(maps["rbc"], y0, x0, h, w)
    orient = _upsample(maps["orientation"], y0, x0, h, w)
    streaks = orient * texture_at("streak_a") + (1 - orient) * texture_at("streak_b")
    grain = texture_at("grain")
    rbc_tex = texture_at("rbc")
    nuclei_weight = _upsample(maps["nuclei"], y0, x0, h, w) - 0.3 - 0.6 * rbc_w
    nuclei = texture_at("nuclei") * np.clip(3.0 * nuclei_weight, 0, 1)
    stain = _upsample(maps["stain"], y0, x0, h, w)
    fold = _upsample(maps["fold"], y0, x0, h, w)

    # concentrations of the three absorbers
    fibrin = np.clip(0.55 + 0.28 * streaks + 0.08 * grain, 0.12, 1.2)
    c_eosin = style["eosin_scale"] * stain * (fibrin * (1 - rbc_w) + 0.25 * rbc_w)
    c_rbc = style["rbc_scale"] * stain * rbc_w * np.clip(rbc_tex * (1 + 0.1 * grain), 0.05, 1.0)
    c_haem = style["haem_scale"] * (0.04 + 1.15 * nuclei)
    thickness = alpha * (1.0 + 0.9 * fold)
    od = (
        c_eosin[..., None] * (_OD_EOSIN * style["eosin_tint"]).astype(np.float64)
        + c_rbc[..., None] * _OD_RBC.astype(np.float64)
        + c_haem[..., None] * _OD_HAEM.astype(np.float64)
    ) * thickness[..., None]
    tile = background * np.exp(-od)
    tile += texture_at("pixel_noise")[..., None]
    return np.clip(tile, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- writing
def write_slide(
    path,
    height: int,
    width: int,
    *,
    seed: int = 0,
    centre_id: int = 1,
    label: str = "CE",
    tile_px: int = 256,
    jpeg_quality: int = 85,
    pyramid: bool = True,
    fold: bool | None = None,
) -> dict:
    """Write one synthetic clot slide as a tiled JPEG TIFF, tile by tile.

    Parameters
    ----------
    path : path
        Output ``.tif`` file.
    height, width : int
        Level-0 size in pixels (any size; memory stays bounded, see module docs).
    seed : int
        Seed of the slide's layout and textures.
    centre_id : int
        1..11; sets background, stain strength and microns per pixel.
    label : {"CE", "LAA"}
        Clot origin; LAA clots are a little richer in red cells.
    tile_px : int
        Tile side (a multiple of 16, at most 1024).
    jpeg_quality : int
    pyramid : bool
        Write reduced-resolution levels (each 4x smaller, until the longer side
        is below 1024 px) as separate top-level IFDs.
    fold : bool, optional
        Force a tissue fold; default random (about 40 % of slides).

    Returns
    -------
    dict
        ``mpp`` and the level shapes written.

    Raises
    ------
    ValueError
        Non-positive size, a tile side that is not a multiple of 16, an unknown
        centre or label.

    Example
    -------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "s.tif"
    >>> write_slide(out, 600, 800, seed=1)["levels"]
    [(600, 800)]
    """
    import cv2
    import tifffile

    if height < 1 or width < 1:
        raise ValueError(f"slide size must be positive, got height={height}, width={width}")
    if not 16 <= tile_px <= 1024 or tile_px % 16:
        raise ValueError(f"tile_px must be a multiple of 16 between 16 and 1024, got {tile_px}")
    if centre_id not in _CENTRE_WEIGHTS:
        raise ValueError(f"centre_id must be one of {sorted(_CENTRE_WEIGHTS)}, got {centre_id}")
    if label not in _LABEL_RBC_FRACTION:
        raise ValueError(f"label must be 'CE' or 'LAA', got {label!r}")
    rng = np.random.default_rng(seed)
    style = _centre_style(centre_id)
    mpp = style["mpp"]
    if fold is None:
        fold = bool(rng.random() < 0.4)
    rbc_fraction = float(np.clip(_LABEL_RBC_FRACTION[label] + rng.normal(0, 0.08), 0.15, 0.85))
    # small slides get a smaller texture period (faster); 1024 px from 1024 px up
    period = int(min(_TEXTURE_PX, max(256, 2 ** int(np.ceil(np.log2(max(height, width)))))))
    textures = _textures(rng, mpp, max(period, tile_px))
    maps = _maps(rng, height, width, mpp, rbc_fraction, fold)

    factor = 4
    level_shapes = [(height, width)]
    if pyramid:
        while max(level_shapes[-1]) >= 1024 and min(level_shapes[-1]) >= 2 * factor:
            h, w = level_shapes[-1]
            level_shapes.append((max(1, h // factor), max(1, w // factor)))
    level1 = None
    if len(level_shapes) > 1:
        level1 = np.empty((*level_shapes[1], 3), np.uint8)

    def base_tiles():
        for ty in range(0, height, tile_px):
            for tx in range(0, width, tile_px):
                h, w = min(tile_px, height - ty), min(tile_px, width - tx)
                tile = _render_tile(style, textures, maps, ty, tx, h, w)
                if level1 is not None:  # area-average into the next level as we go
                    y1, x1 = ty // factor, tx // factor
                    h1 = min(h // factor, level1.shape[0] - y1)
                    w1 = min(w // factor, level1.shape[1] - x1)
                    if h1 > 0 and w1 > 0:
                        small = cv2.resize(
                            tile[: h1 * factor, : w1 * factor],
                            (w1, h1),
                            interpolation=cv2.INTER_AREA,
                        )
                        level1[y1 : y1 + h1, x1 : x1 + w1] = small
                yield tile

    resolution = 1e4 / mpp  # pixels per centimetre
    description = (
        f"clot-slides synthetic H&E thrombus|centre = {centre_id}|"
        f"AppMag = {int(round(10 / mpp))}|MPP = {mpp:.4f}"
    )
    common = {
        "photometric": "rgb",
        "compression": "jpeg",
        "compressionargs": {"level": int(jpeg_quality)},
        "metadata": None,
        "resolutionunit": "CENTIMETER",
    }
    bigtiff = height * width * 3 > 2**31
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as writer:
        writer.write(
            base_tiles(),
            shape=(height, width, 3),
            dtype=np.uint8,
            tile=(tile_px, tile_px),
            resolution=(resolution, resolution),
            description=description,
            subfiletype=0,
            **common,
        )
        current = level1
        for index, (h, w) in enumerate(level_shapes[1:], start=1):
            if index > 1:
                current = cv2.resize(current, (w, h), interpolation=cv2.INTER_AREA)
            scale = factor**index
            writer.write(
                current,
                tile=(tile_px, tile_px),
                resolution=(resolution / scale, resolution / scale),
                subfiletype=1,
                **common,
            )
    return {"mpp": mpp, "levels": level_shapes}


def _patient_ids(rng, n: int) -> list[str]:
    ids: set[str] = set()
    out = []
    while len(out) < n:
        candidate = f"{int(rng.integers(0, 16**6)):06x}"
        if candidate not in ids:
            ids.add(candidate)
            out.append(candidate)
    return out


def generate(out_dir, **params) -> None:
    """Build the clot-slides dataset into the empty folder ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Existing empty folder.
    **params
        See :data:`DEFAULTS`.

    Raises
    ------
    TypeError
        Unknown parameter.
    ValueError
        Impossible sizes or counts.

    Example
    -------
    >>> import tempfile
    >>> generate(tempfile.mkdtemp(), n_slides=2, min_side_px=600, max_side_px=800)  # doctest: +SKIP
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(
            f"unknown clot-slides parameter(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}"
        )
    p = {**DEFAULTS, **params}
    n_slides = int(p["n_slides"])
    if n_slides < 1:
        raise ValueError(f"n_slides must be at least 1, got {n_slides}")
    if not 0 <= int(p["n_flat"]) <= n_slides:
        raise ValueError(f"n_flat must lie in 0..n_slides ({n_slides}), got {p['n_flat']}")
    if not 0 < p["min_side_px"] <= p["max_side_px"]:
        raise ValueError(
            f"need 0 < min_side_px <= max_side_px, got {p['min_side_px']} and {p['max_side_px']}"
        )
    out_dir = Path(out_dir)
    (out_dir / "train").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(p["seed"]))

    # patients: most with one slide, some with two or three
    slides_per_patient = []
    while sum(slides_per_patient) < n_slides:
        slides_per_patient.append(int(rng.choice([1, 1, 1, 1, 2, 2, 3])))
    slides_per_patient[-1] -= sum(slides_per_patient) - n_slides
    n_patients = len(slides_per_patient)
    patients = _patient_ids(rng, n_patients)
    centres = list(_CENTRE_WEIGHTS)
    weights = np.array([_CENTRE_WEIGHTS[c] for c in centres], float)
    patient_centre = rng.choice(centres, size=n_patients, p=weights / weights.sum())
    n_laa = max(1, int(round(0.27 * n_patients))) if n_patients > 1 else 0
    patient_label = np.array(["CE"] * n_patients, dtype=object)
    patient_label[rng.choice(n_patients, size=n_laa, replace=False)] = "LAA"

    rows = []
    for patient, centre, label, count in zip(
        patients, patient_centre, patient_label, slides_per_patient, strict=True
    ):
        for image_num in range(count):
            rows.append([f"{patient}_{image_num}", int(centre), patient, image_num, label])
    order = sorted(range(len(rows)), key=lambda i: rows[i][0])  # sorted by image_id, as on Kaggle
    rows = [rows[i] for i in order]

    scale = float(p["size_scale"])
    sizes = []
    for _ in rows:
        long_side = rng.uniform(p["min_side_px"], p["max_side_px"]) * scale
        aspect = rng.uniform(0.45, 0.95)
        h, w = int(long_side), int(long_side * aspect)
        if rng.random() < 0.5:
            h, w = w, h
        if p["width"] is not None or p["height"] is not None:
            h = int(p["height"] or p["width"])
            w = int(p["width"] or p["height"])
        sizes.append((max(h, 16), max(w, 16)))
    areas = [h * w for h, w in sizes]
    flat = set(np.argsort(areas)[: int(p["n_flat"])].tolist())  # the smallest slides lack a pyramid

    for index, (row, (h, w)) in enumerate(zip(rows, sizes, strict=True)):
        write_slide(
            out_dir / "train" / f"{row[0]}.tif",
            h,
            w,
            seed=int(rng.integers(0, 2**31)),
            centre_id=row[1],
            label=row[4],
            tile_px=int(p["tile_px"]),
            jpeg_quality=int(p["jpeg_quality"]),
            pyramid=index not in flat,
        )
    with open(out_dir / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["image_id", "center_id", "patient_id", "image_num", "label"])
        writer.writerows(rows)


# --------------------------------------------------------------------------- validator
_COLUMNS = ["image_id", "center_id", "patient_id", "image_num", "label"]
_TEST_COLUMNS = ["image_id", "center_id", "patient_id", "image_num"]
_LABELS = {"CE", "LAA"}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _check_table(path: Path, columns: list[str], report, *, labelled: bool):
    """Read a CSV with the standard library; return its rows as dicts (or None)."""
    from course_utils.data import Finding

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        report.findings.append(Finding("error", path.name, f"cannot be read as CSV ({exc})"))
        return None
    missing = [c for c in columns if c not in header]
    if missing:
        report.findings.append(
            Finding(
                "error",
                path.name,
                f"missing column(s) {missing}; found {header}, expected {columns}",
            )
        )
        return None
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        image_id = (row["image_id"] or "").strip()
        where = f"{path.name} line {line}"
        if not image_id:
            report.findings.append(Finding("error", where, "empty image_id"))
            continue
        if image_id in seen:
            report.findings.append(
                Finding(
                    "error",
                    where,
                    f"duplicate image_id {image_id!r} (first on line {seen[image_id]})",
                )
            )
        else:
            seen[image_id] = line
        patient, num = (row["patient_id"] or "").strip(), (row["image_num"] or "").strip()
        if not re.fullmatch(r"\d+", num):
            report.findings.append(
                Finding("error", where, f"image_num {num!r} is not a non-negative integer")
            )
        elif image_id != f"{patient}_{num}":
            report.findings.append(
                Finding(
                    "error",
                    where,
                    f"image_id {image_id!r} is not <patient_id>_<image_num> ({patient}_{num})",
                )
            )
        if not re.fullmatch(r"\d+", (row["center_id"] or "").strip()):
            report.findings.append(
                Finding("error", where, f"center_id {row['center_id']!r} is not an integer")
            )
        if labelled:
            label = (row["label"] or "").strip()
            if label not in _LABELS:
                report.findings.append(
                    Finding("error", where, f"label {label!r} is not one of {sorted(_LABELS)}")
                )
    return rows


def _tiff_header(path: Path) -> dict:
    """Levels, tiling and size of a TIFF from its header (no pixel data)."""
    import tifffile

    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic not in _TIFF_MAGIC:
        raise ValueError(f"not a TIFF file (starts with {magic!r})")
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        page = series.keyframe
        return {
            "levels": len(series.levels),
            "tiled": bool(page.is_tiled),
            "shape": tuple(page.shape),
        }


def validate_strip_ai(root, report) -> None:
    """Check a Mayo Clinic STRIP AI folder (``train.csv`` + ``train/<image_id>.tif``).

    Findings (``error`` makes the folder or some slides unusable as they are;
    ``note`` is worth knowing):

    * ``train.csv`` missing, unreadable or without the columns
      ``image_id, center_id, patient_id, image_num, label``;
    * duplicate image ids, ids that are not ``<patient_id>_<image_num>``,
      labels outside CE/LAA, non-integer centres;
    * rows whose ``train/<image_id>.tif`` is missing, ``.tif`` files without a
      row, files that are not readable TIFFs;
    * slides without a pyramid (one level) or without tiles: a note, since they
      are usable but must be read in strips or tiles, never whole;
    * ``test.csv`` (optional) checked for the same columns without ``label``;
      ``other.csv`` (slides labelled Other in the real data) counted.

    Reads the CSV files and the TIFF headers only; never writes into ``root``.

    Parameters
    ----------
    root : pathlib.Path
        The dataset folder.
    report : course_utils.data.ValidationReport
        Findings and counts are added to it.

    Example
    -------
    >>> from course_utils import data
    >>> report = data.validate("strip-ai", "/data/mayo-clinic-strip-ai")  # doctest: +SKIP
    """
    from course_utils.data import Finding

    root = Path(root)
    table = root / "train.csv"
    slide_dir = root / "train"
    if not table.is_file():
        report.findings.append(
            Finding(
                "error",
                "train.csv",
                "missing; expected train.csv with columns " + ", ".join(_COLUMNS),
            )
        )
        rows = None
    else:
        rows = _check_table(table, _COLUMNS, report, labelled=True)
    if (root / "test.csv").is_file():
        test_rows = _check_table(root / "test.csv", _TEST_COLUMNS, report, labelled=False)
        report.summary["test rows"] = len(test_rows) if test_rows is not None else "unreadable"
    if (root / "other.csv").is_file():
        report.summary["other.csv"] = "present (slides labelled Other; not part of the CE/LAA task)"
    if not slide_dir.is_dir():
        report.findings.append(
            Finding("error", "train/", "folder missing; expected train/<image_id>.tif")
        )
        return
    files = {
        p.stem: p
        for p in slide_dir.iterdir()
        if p.is_file() and p.suffix.lower() in (".tif", ".tiff")
    }
    report.summary["slide files"] = len(files)
    if rows is not None:
        ids = [(r["image_id"] or "").strip() for r in rows]
        report.summary["rows"] = len(rows)
        report.summary["patients"] = len({(r["patient_id"] or "").strip() for r in rows})
        report.summary["centres"] = len({(r["center_id"] or "").strip() for r in rows})
        labels = [(r["label"] or "").strip() for r in rows]
        report.summary["labels"] = {name: labels.count(name) for name in sorted(set(labels))}
        for image_id in dict.fromkeys(ids):
            if image_id and image_id not in files:
                report.findings.append(
                    Finding(
                        "error",
                        f"train/{image_id}.tif",
                        "listed in train.csv but the file is missing",
                    )
                )
        listed = set(ids)
        for stem in sorted(files):
            if stem not in listed:
                report.findings.append(
                    Finding("error", f"train/{files[stem].name}", "file has no row in train.csv")
                )
    flat = 0
    for stem in sorted(files):
        path = files[stem]
        where = f"train/{path.name}"
        try:
            header = _tiff_header(path)
        except Exception as exc:  # any decoder failure makes the file unusable
            report.findings.append(
                Finding("error", where, f"unreadable: {type(exc).__name__}: {exc}")
            )
            continue
        if 0 in header["shape"][:2]:
            report.findings.append(
                Finding(
                    "error",
                    where,
                    f"holds no image ({header['shape'][1]} x {header['shape'][0]} px); expected a slide with pixels",
                )
            )
            continue
        if header["levels"] < 2:
            flat += 1
            kind = "tiled" if header["tiled"] else "striped (untiled)"
            report.findings.append(
                Finding(
                    "note",
                    where,
                    f"no pyramid: one {kind} level of {header['shape'][1]} x {header['shape'][0]} px; "
                    "read it region by region, never whole",
                )
            )
    report.summary["slides without a pyramid"] = flat
