"""Whole-slide images: headers, pyramid levels, region reads, thumbnails, tissue masks.

Built on tifffile (and its zarr store), so it reads the TIFF family that
slides come in: pyramidal tiled TIFFs (levels as top-level IFDs or SubIFDs),
Aperio SVS, single-level tiled TIFFs and plain striped TIFFs. Nothing here
ever loads a whole slide: geometry comes from headers, regions come through
``tif.aszarr()`` (only the tiles or strips that overlap the region are
decoded), thumbnails come from the smallest pyramid level that is large
enough, and slides without a pyramid are reduced block by block.

Every pixel read is guarded: a request that would decode more than
``max_bytes`` (default 1 GiB) raises :class:`SlideTooLargeError` saying how
big it is and what to do instead.

Example
-------
>>> from course_utils import wsi
>>> info = wsi.slide_info("train/006388_0.tif")                       # doctest: +SKIP
>>> level = wsi.choose_level(info, target_px=1024)                    # doctest: +SKIP
>>> patch = wsi.read_region("train/006388_0.tif", 0, 4000, 3000, 512, 512)  # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SlideTooLargeError",
    "slide_info",
    "slide_record",
    "choose_level",
    "read_region",
    "level_box",
    "read_level",
    "thumbnail",
    "tissue_mask",
    "format_bytes",
]

DEFAULT_MAX_BYTES = 1 << 30
"""Default limit (1 GiB) on the pixels a single read may decode."""

_MPP_RANGE = (0.05, 50.0)  # plausible microns per pixel for microscopy scans


class SlideTooLargeError(MemoryError):
    """A read would decode more pixels than the caller's memory limit allows."""


def format_bytes(n_bytes: float) -> str:
    """Human-readable size in binary units.

    Example
    -------
    >>> format_bytes(7.2e9)
    '6.7 GiB'
    """
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def _check_path(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"slide file {path} does not exist")
    if not path.is_file():
        raise IsADirectoryError(f"slide path {path} is a folder; expected a TIFF file")
    return path


def _open(path: Path):
    import tifffile

    try:
        return tifffile.TiffFile(path)
    except Exception as exc:
        raise ValueError(
            f"{path.name} is not a readable TIFF ({type(exc).__name__}: {exc})"
        ) from exc


def _mpp_from_page(page) -> tuple[float | None, str | None]:
    """Microns per pixel from the resolution tags, else from an ``MPP = x`` description."""
    try:
        x_res = float(page.resolution[0])
        unit = int(page.resolutionunit)
    except Exception:  # no or malformed resolution tags
        x_res, unit = 0.0, 1
    if x_res > 0 and unit in (2, 3):  # 2 = inch, 3 = centimetre
        mpp = (25400.0 if unit == 2 else 10000.0) / x_res
        if _MPP_RANGE[0] <= mpp <= _MPP_RANGE[1]:
            return mpp, "resolution tags"
    match = re.search(r"\bMPP\s*=\s*([0-9]*\.?[0-9]+)", page.description or "")
    if match:
        mpp = float(match.group(1))
        if _MPP_RANGE[0] <= mpp <= _MPP_RANGE[1]:
            return mpp, "description"
    return None, None


def _level_scale(base_h: int, base_w: int, h: int, w: int) -> tuple[float, float]:
    """Level-0 pixels per level pixel, (along y, along x), exact rather than rounded.

    Writers shrink level 0 by a whole factor k in blocks and round the level's
    sides (floor, e.g. ``w // k``, or ceil), so ``w0 / w`` is not the scale when
    a side is not a multiple of k (1791 / 447 = 4.007, yet each level pixel
    covers 4 level-0 pixels). When one whole k explains both sides, it is the
    scale on both axes; otherwise each axis gets its own ratio of sides.
    """
    k = round(base_w / w)
    if k >= 1 and all(
        side in (full // k, -(-full // k)) for full, side in ((base_w, w), (base_h, h))
    ):
        return float(k), float(k)
    return base_h / h, base_w / w


def _level_pages(tif):
    series = tif.series[0]
    return [level.keyframe for level in series.levels]


def slide_info(path) -> dict:
    """Geometry of a slide from its TIFF header (no pixel data is decoded).

    Parameters
    ----------
    path : path
        A ``.tif``/``.tiff``/``.svs`` slide.

    Returns
    -------
    dict
        ``name``, ``file_bytes``, ``width``, ``height`` (level 0, pixels),
        ``samples`` (3 for RGB, 4 for RGBA, 1 for grey), ``dtype``,
        ``n_levels``, ``pyramid`` (more than one level), ``tiled``,
        ``tile_size`` (``(height, width)`` or None for strips),
        ``compression``, ``photometric``, ``mpp`` (microns per pixel at level 0
        or None), ``mpp_source``, and ``levels``: one dict per level with
        ``level``, ``width``, ``height``, ``downsample`` (level-0 width / level
        width, rounded to 3 decimals), ``scale_y`` and ``scale_x`` (level-0
        pixels per level pixel along each axis, exact: map level-0 coordinates
        to a level with these, not with ``downsample``), ``tile_size``,
        ``compression``, ``mpp`` and ``decoded_bytes`` (memory to hold it).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a readable TIFF.

    Example
    -------
    >>> info = slide_info("train/006388_0.tif")   # doctest: +SKIP
    >>> info["levels"][1]["downsample"]            # doctest: +SKIP
    4.0
    """
    path = _check_path(path)
    with _open(path) as tif:
        try:
            pages = _level_pages(tif)
        except Exception as exc:
            raise ValueError(f"{path.name}: cannot read the TIFF structure ({exc})") from exc
        if not pages or any(int(p.imagewidth) == 0 or int(p.imagelength) == 0 for p in pages):
            raise ValueError(
                f"{path.name}: the TIFF holds no image (a level of 0 x 0 px); expected a slide with pixels"
            )
        base = pages[0]
        mpp, mpp_source = _mpp_from_page(base)
        levels = []
        for index, page in enumerate(pages):
            downsample = base.imagewidth / page.imagewidth
            samples = int(page.samplesperpixel)
            scale_y, scale_x = _level_scale(
                int(base.imagelength),
                int(base.imagewidth),
                int(page.imagelength),
                int(page.imagewidth),
            )
            levels.append(
                {
                    "level": index,
                    "width": int(page.imagewidth),
                    "height": int(page.imagelength),
                    "downsample": round(float(downsample), 3),
                    "scale_y": scale_y,
                    "scale_x": scale_x,
                    "tile_size": (int(page.tilelength), int(page.tilewidth))
                    if page.is_tiled
                    else None,
                    "compression": page.compression.name.lower(),
                    "mpp": None if mpp is None else mpp * downsample,
                    "decoded_bytes": int(page.imagelength)
                    * int(page.imagewidth)
                    * samples
                    * page.dtype.itemsize,
                }
            )
        return {
            "name": path.name,
            "file_bytes": path.stat().st_size,
            "width": int(base.imagewidth),
            "height": int(base.imagelength),
            "samples": int(base.samplesperpixel),
            "dtype": str(base.dtype),
            "n_levels": len(levels),
            "pyramid": len(levels) > 1,
            "tiled": bool(base.is_tiled),
            "tile_size": levels[0]["tile_size"],
            "compression": levels[0]["compression"],
            "photometric": base.photometric.name.lower(),
            "mpp": mpp,
            "mpp_source": mpp_source,
            "levels": levels,
        }


def slide_record(path) -> dict:
    """One flat row for a table of slides; never raises (errors go in the ``error`` column).

    Meant for :func:`course_utils.parallel.parallel_map` over many files.

    Example
    -------
    >>> slide_record("missing.tif")["error"]
    'FileNotFoundError: slide file missing.tif does not exist'
    """
    row = {"image_id": Path(path).stem, "error": ""}
    try:
        info = slide_info(path)
    except Exception as exc:  # one bad file must not stop a dataset-wide scan
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    smallest = info["levels"][-1]
    row.update(
        {
            "width": info["width"],
            "height": info["height"],
            "n_levels": info["n_levels"],
            "pyramid": info["pyramid"],
            "tiled": info["tiled"],
            "tile": "x".join(map(str, info["tile_size"])) if info["tile_size"] else "strips",
            "compression": info["compression"],
            "samples": info["samples"],
            "mpp": info["mpp"],
            "smallest_level_px": f"{smallest['width']}x{smallest['height']}",
            "file_mb": info["file_bytes"] / 1e6,
            "decoded_mb": info["levels"][0]["decoded_bytes"] / 1e6,
        }
    )
    return row


def choose_level(
    info: dict, *, target_px: int | None = None, target_mpp: float | None = None
) -> int:
    """Pick the pyramid level to read for an output size or a resolution.

    Parameters
    ----------
    info : dict
        From :func:`slide_info`.
    target_px : int, optional
        Wanted size of the longer side of the output (e.g. a thumbnail): the
        smallest level whose longer side is still at least this large, so the
        output is made by shrinking, never by enlarging.
    target_mpp : float, optional
        Wanted microns per pixel: the coarsest level that is at least as fine
        (``mpp <= target_mpp``, with 1 % tolerance).

    Returns
    -------
    int
        Level index (0 = full resolution). Level 0 when no level is large or
        fine enough.

    Raises
    ------
    ValueError
        Neither or both targets given, a non-positive target, or
        ``target_mpp`` for a slide without microns per pixel.

    Example
    -------
    >>> info = {"mpp": 0.25, "levels": [{"width": 8000, "height": 6000, "mpp": 0.25},
    ...         {"width": 2000, "height": 1500, "mpp": 1.0}, {"width": 500, "height": 375, "mpp": 4.0}]}
    >>> choose_level(info, target_px=1024)
    1
    >>> choose_level(info, target_mpp=2.0)
    1
    """
    if (target_px is None) == (target_mpp is None):
        raise ValueError(
            "give exactly one of target_px (output size) or target_mpp (microns per pixel)"
        )
    levels = info["levels"]
    if target_px is not None:
        if not target_px > 0:
            raise ValueError(f"target_px must be positive, got {target_px}")
        candidates = [
            i for i, lv in enumerate(levels) if max(lv["width"], lv["height"]) >= target_px
        ]
        return max(candidates) if candidates else 0
    if not target_mpp > 0:
        raise ValueError(f"target_mpp must be positive, got {target_mpp}")
    if info.get("mpp") is None:
        raise ValueError(
            f"{info.get('name', 'slide')} has no microns per pixel in its header; "
            "choose the level by size (target_px) or pass the scanner's mpp yourself"
        )
    candidates = [i for i, lv in enumerate(levels) if lv["mpp"] <= target_mpp * 1.01]
    return max(candidates) if candidates else 0


def level_box(info: dict, level: int, top: int, left: int, height: int, width: int) -> dict:
    """Map a level-0 box to a level, keeping only what the level covers with whole pixels.

    Uses the level's exact per-axis scale (``scale_y``, ``scale_x``), not the
    rounded ``downsample``. A level whose sides were rounded down covers a few
    level-0 pixels less than level 0 (a 1791 px wide slide, level 1 of 447 px
    at 4x: 1788 px), so the box is trimmed to whole level pixels and the
    level-0 box returned is the one the level box covers (within a pixel).
    Read both with :func:`read_region` to compare a level with level 0.

    Parameters
    ----------
    info : dict
        From :func:`slide_info`.
    level : int
    top, left, height, width : int
        The box in level-0 pixels.

    Returns
    -------
    dict
        ``level`` and ``level0``: ``(top, left, height, width)`` of the box in
        the level's pixels and in level-0 pixels.

    Raises
    ------
    ValueError
        A level that does not exist, or a box that covers no whole level pixel.

    Example
    -------
    >>> info = {"levels": [{"width": 1791, "height": 2585, "scale_y": 1.0, "scale_x": 1.0},
    ...         {"width": 447, "height": 646, "scale_y": 4.0, "scale_x": 4.0}]}
    >>> level_box(info, 1, 0, 0, 2585, 1791)
    {'level': (0, 0, 646, 447), 'level0': (0, 0, 2584, 1788)}
    """
    import math

    levels = info["levels"]
    if not 0 <= level < len(levels):
        raise ValueError(f"levels are 0..{len(levels) - 1}, got level={level}")
    lv = levels[level]
    scale_y, scale_x = (
        lv.get("scale_y", lv.get("downsample")),
        lv.get("scale_x", lv.get("downsample")),
    )
    y0 = math.ceil(top / scale_y - 1e-6)
    x0 = math.ceil(left / scale_x - 1e-6)
    y1 = min(math.floor((top + height) / scale_y + 1e-6), lv["height"])
    x1 = min(math.floor((left + width) / scale_x + 1e-6), lv["width"])
    if y1 <= y0 or x1 <= x0:
        raise ValueError(
            f"the box (top={top}, left={left}, {height} x {width} px) covers no whole pixel of "
            f"level {level}; expected a box at least {scale_y:g} x {scale_x:g} level-0 px"
        )
    t0, l0 = round(y0 * scale_y), round(x0 * scale_x)
    return {
        "level": (y0, x0, y1 - y0, x1 - x0),
        "level0": (t0, l0, round(y1 * scale_y) - t0, round(x1 * scale_x) - l0),
    }


def _level_store(tif, level: int):
    import zarr

    return zarr.open(tif.aszarr(series=0, level=level), mode="r")


def _guard(n_bytes: int, max_bytes: int, what: str, advice: str) -> None:
    if n_bytes > max_bytes:
        raise SlideTooLargeError(
            f"{what} would need {format_bytes(n_bytes)} of memory, above the limit of "
            f"{format_bytes(max_bytes)} (max_bytes); {advice}"
        )


def read_region(
    path,
    level: int,
    y: int,
    x: int,
    height: int,
    width: int,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    """Read a rectangle of one level without loading the slide.

    Only the tiles (or strips) that overlap the rectangle are decoded, through
    tifffile's zarr store; uncompressed striped files are memory-mapped.

    Parameters
    ----------
    path : path
        Slide file.
    level : int
        Pyramid level (0 = full resolution).
    y, x : int
        Top-left corner in that level's pixel coordinates.
    height, width : int
        Size of the rectangle; it is clipped at the slide's edge, as numpy
        slicing would.
    max_bytes : int
        Refuse reads that would decode more than this.

    Returns
    -------
    numpy.ndarray
        ``(height, width, samples)`` for colour, ``(height, width)`` for grey.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing/unreadable file, a level that does not exist, a negative
        corner or size, or a rectangle entirely outside the level.
    SlideTooLargeError
        If the rectangle, or a single tile or strip that must be decoded for
        it, exceeds ``max_bytes``.

    Example
    -------
    >>> patch = read_region("train/006388_0.tif", 0, 2048, 1024, 512, 512)  # doctest: +SKIP
    >>> patch.shape                                                          # doctest: +SKIP
    (512, 512, 3)
    """
    import tifffile

    path = _check_path(path)
    for name, value in (("y", y), ("x", x), ("height", height), ("width", width)):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if height == 0 or width == 0:
        raise ValueError(f"region size must be positive, got height={height}, width={width}")
    with _open(path) as tif:
        pages = _level_pages(tif)
        if not 0 <= level < len(pages):
            raise ValueError(f"{path.name} has levels 0..{len(pages) - 1}, got level={level}")
        page = pages[level]
        level_h, level_w = int(page.imagelength), int(page.imagewidth)
        if y >= level_h or x >= level_w:
            raise ValueError(
                f"region starts at (y={y}, x={x}), outside level {level} of {path.name} "
                f"({level_w} x {level_h} px)"
            )
        y1, x1 = min(y + height, level_h), min(x + width, level_w)
        pixel_bytes = int(page.samplesperpixel) * page.dtype.itemsize
        _guard(
            (y1 - y) * (x1 - x) * pixel_bytes,
            max_bytes,
            f"a {x1 - x} x {y1 - y} px region of level {level} of {path.name}",
            "read a lower level (choose_level) or a smaller region, or tile the region",
        )
        if page.is_memmappable:  # uncompressed and contiguous: map it, decode nothing
            mapped = tifffile.memmap(path, series=0, level=level, mode="r")
            return np.array(mapped[y:y1, x:x1])
        store = _level_store(tif, level)
        chunk_h, chunk_w = store.chunks[0], store.chunks[1]
        _guard(
            chunk_h * chunk_w * pixel_bytes,
            max_bytes,
            f"decoding one {'tile' if page.is_tiled else 'strip'} of {chunk_w} x {chunk_h} px of {path.name}",
            "the file stores huge strips or tiles; convert it once to a tiled pyramid (e.g. with libvips)",
        )
        try:
            return np.asarray(store[y:y1, x:x1])
        except Exception as exc:  # a truncated file or a corrupt tile: say which file and where
            raise ValueError(
                f"{path.name}: the region (y={y}, x={x}, {y1 - y} x {x1 - x} px) of level {level} "
                f"cannot be decoded ({type(exc).__name__}: {exc}); expected readable tiles: the file "
                "is probably truncated or has a corrupt tile"
            ) from exc


def read_level(path, level: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read a whole pyramid level, refusing levels larger than ``max_bytes``.

    Parameters
    ----------
    path : path
    level : int
    max_bytes : int

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    SlideTooLargeError
        If the level needs more than ``max_bytes`` (the message gives the size
        and suggests a lower level or tiling).

    Example
    -------
    >>> smallest = read_level("train/006388_0.tif", level=-1)   # doctest: +SKIP
    """
    info = slide_info(path)
    if level < 0:
        level += info["n_levels"]
    if not 0 <= level < info["n_levels"]:
        raise ValueError(f"{info['name']} has levels 0..{info['n_levels'] - 1}, got level={level}")
    lv = info["levels"][level]
    _guard(
        lv["decoded_bytes"],
        max_bytes,
        f"reading level {level} of {info['name']} whole ({lv['width']} x {lv['height']} px)",
        "read a lower level (choose_level), a region (read_region) or make a thumbnail (thumbnail)",
    )
    return read_region(path, level, 0, 0, lv["height"], lv["width"], max_bytes=max_bytes)


def _as_rgb_uint8(array: np.ndarray) -> np.ndarray:
    """Drop alpha, scale 16-bit to 8-bit, keep grey as 2-D."""
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    if array.ndim == 3 and array.shape[-1] in (1, 2):  # grey, or grey + alpha
        array = array[..., 0]
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    finite = np.asarray(array, dtype=np.float64)
    low, high = np.nanmin(finite), np.nanmax(finite)
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.clip((finite - low) * scale, 0, 255).astype(np.uint8)


def thumbnail(
    path, max_px: int = 1024, *, max_bytes: int = DEFAULT_MAX_BYTES, block_px: int = 4096
) -> np.ndarray:
    """A thumbnail whose longer side is ``max_px``, made the cheap and correct way.

    The smallest level that is at least ``max_px`` on its longer side is read
    and shrunk with area interpolation (``cv2.INTER_AREA``: each output pixel is
    the mean of the input pixels it covers, so there is no aliasing). If that
    level is too big to hold (a slide without a pyramid), it is reduced block by
    block (``block_px`` input pixels at a time; full-width bands for striped
    files), so memory stays bounded.

    Parameters
    ----------
    path : path
    max_px : int
        Longer side of the result; a slide smaller than that is returned at
        level 0 size (never enlarged).
    max_bytes : int
        Limit for a single read; larger levels are reduced block-wise.
    block_px : int
        Side of the blocks read when reducing block-wise.

    Returns
    -------
    numpy.ndarray
        uint8; ``(h, w, 3)`` for colour slides (alpha dropped), ``(h, w)`` for grey.

    Raises
    ------
    ValueError
        Non-positive ``max_px`` or ``block_px``, unreadable file.

    Example
    -------
    >>> small = thumbnail("train/006388_0.tif", 512)   # doctest: +SKIP
    """
    import cv2

    if not max_px > 0 or not block_px > 0:
        raise ValueError(f"max_px and block_px must be positive, got {max_px} and {block_px}")
    info = slide_info(path)
    level = choose_level(info, target_px=max_px)
    lv = info["levels"][level]
    level_h, level_w = lv["height"], lv["width"]
    scale = min(1.0, max_px / max(level_h, level_w))
    out_h, out_w = max(1, round(level_h * scale)), max(1, round(level_w * scale))
    if lv["decoded_bytes"] <= min(max_bytes, 256 << 20):
        pixels = _as_rgb_uint8(
            read_region(path, level, 0, 0, level_h, level_w, max_bytes=max_bytes)
        )
        if (out_h, out_w) == pixels.shape[:2]:
            return pixels
        return cv2.resize(pixels, (out_w, out_h), interpolation=cv2.INTER_AREA)
    # no suitable pyramid level: reduce block by block (bounded memory)
    rows = np.linspace(0, level_h, out_h + 1).round().astype(int)
    cols = np.linspace(0, level_w, out_w + 1).round().astype(int)
    out_block_h = out_block_w = max(1, int(block_px * scale))
    if lv["tile_size"] is None:  # strips span the full width: read full-width bands instead
        row_bytes = level_w * info["samples"] * np.dtype(info["dtype"]).itemsize
        out_block_h = max(1, int(min(block_px, max(1, max_bytes // (2 * row_bytes))) * scale))
        out_block_w = out_w
    channels = () if info["samples"] == 1 else (3,)
    result = np.zeros((out_h, out_w, *channels), np.uint8)
    for oy in range(0, out_h, out_block_h):
        oy1 = min(oy + out_block_h, out_h)
        for ox in range(0, out_w, out_block_w):
            ox1 = min(ox + out_block_w, out_w)
            y0, y1, x0, x1 = rows[oy], rows[oy1], cols[ox], cols[ox1]
            block = _as_rgb_uint8(
                read_region(path, level, y0, x0, y1 - y0, x1 - x0, max_bytes=max_bytes)
            )
            result[oy:oy1, ox:ox1] = cv2.resize(
                block, (ox1 - ox, oy1 - oy), interpolation=cv2.INTER_AREA
            )
    return result


def tissue_mask(
    rgb,
    *,
    method: str = "saturation",
    min_threshold: float | None = None,
    closing_px: int = 2,
    min_object_px: int = 16,
    blur_px: float = 1.0,
) -> np.ndarray:
    """Tissue vs background by Otsu's threshold, cleaned by morphology.

    Background glass is bright and colourless (white ~240 or grey ~205
    depending on the scanner); stained tissue is coloured. ``"saturation"``
    thresholds the HSV saturation ``(max - min) / max``, ``"od"`` the optical
    density ``-log10(I / 255)`` summed over channels (also works on grey
    images). Otsu's threshold is computed on the **logarithm** of the feature
    (``log(feature + 0.01)``): H&E slides have three populations (glass, pale
    fibrin or stroma, strongly stained areas) and plain Otsu tends to split the
    two tissue populations, dropping pale tissue; on a log scale the narrow
    glass peak and the tissue separate cleanly. The image is blurred slightly
    (Gaussian, sigma 1 px) first to calm noise and JPEG blocks.

    Parameters
    ----------
    rgb : array_like
        ``(h, w, 3)`` RGB or ``(h, w, 4)`` RGBA (alpha 0 counts as background)
        uint8 image, usually a thumbnail; ``(h, w)`` grey is thresholded on
        optical density.
    method : {"saturation", "od"}
    min_threshold : float, optional
        Lowest accepted threshold on the feature's own scale (default 0.04 for
        saturation on a 0-1 scale, 0.06 for optical density), so that a slide
        of pure background is not split into "tissue" by noise.
    closing_px : int
        Radius of the closing (fills small gaps between cells), then the same
        opening (removes specks).
    min_object_px : int
        Smaller connected components and holes are removed/filled.
    blur_px : float
        Sigma of the Gaussian blur, in pixels of ``rgb`` (0 for none). Lesson 04
        converts all three sizes from micrometres with the thumbnail's mpp.

    Returns
    -------
    numpy.ndarray of bool
        True where there is tissue.

    Raises
    ------
    ValueError
        Empty image, wrong shape or unknown method.

    Example
    -------
    >>> img = np.full((40, 40, 3), 240, np.uint8); img[10:30, 10:30] = (200, 60, 80)
    >>> int(tissue_mask(img).sum())  # the 20 x 20 square, plus a rim of about one pixel
    472
    """
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    array = np.asarray(rgb)
    if array.size == 0:
        raise ValueError(f"rgb is empty (shape {array.shape}); expected an (h, w, 3) image")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))):
        raise ValueError(f"rgb has shape {array.shape}; expected (h, w), (h, w, 3) or (h, w, 4)")
    if method not in ("saturation", "od"):
        raise ValueError(f"method must be 'saturation' or 'od', got {method!r}")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).any():
        raise ValueError("rgb is all NaN/inf; expected an image with finite values")
    transparent = None
    if array.ndim == 3 and array.shape[-1] == 4:
        transparent = array[..., 3] == 0
        array = array[..., :3]
    if blur_px < 0:
        raise ValueError(f"blur_px must be >= 0, got {blur_px}")
    image = _as_rgb_uint8(array).astype(np.float32)
    if blur_px > 0:
        sigma = (blur_px, blur_px, 0) if array.ndim == 3 else blur_px
        image = ndimage.gaussian_filter(image, sigma=sigma)
    if image.ndim == 2 or method == "od":
        od = -np.log10(np.clip(image, 1, 255) / 255.0)
        feature = od if od.ndim == 2 else od.sum(axis=-1)
        floor = 0.06 if min_threshold is None else min_threshold
    else:
        high, low = image.max(axis=-1), image.min(axis=-1)
        feature = (high - low) / np.maximum(high, 1)
        floor = 0.04 if min_threshold is None else min_threshold
    log_feature = np.log(feature + 0.01)
    if float(log_feature.max() - log_feature.min()) < 1e-6:
        threshold = floor
    else:
        threshold = max(float(np.exp(threshold_otsu(log_feature)) - 0.01), floor)
    mask = feature > threshold
    if transparent is not None:
        mask &= ~transparent
    if closing_px > 0:
        structure = _disk(closing_px)
        mask = ndimage.binary_closing(mask, structure, border_value=0)
        mask = ndimage.binary_opening(mask, structure)
    if min_object_px > 0 and mask.any():
        labels, n = ndimage.label(mask)
        sizes = np.bincount(labels.ravel())
        keep = sizes >= min_object_px
        keep[0] = False
        mask = keep[labels]
        holes, n_holes = ndimage.label(~mask)
        if n_holes:
            hole_sizes = np.bincount(holes.ravel())
            border = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
            small = hole_sizes < min_object_px
            small[border] = False
            small[0] = False
            mask = mask | small[holes]
    return mask


def _disk(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return yy**2 + xx**2 <= radius**2
