"""Gigapixel test slides written in a second: every tile entry points at the same encoded tile.

The largest Mayo Clinic STRIP AI training slide (``6baf51_0``) is 48,282 x 101,406 px, 13.7 GiB
of decoded RGB. Writing such a slide honestly takes minutes and gigabytes; this module writes a
TIFF of that geometry whose ~75,000 ``TileOffsets`` per level all point at **one** JPEG tile
(encoded once by tifffile from a real H&E-like tile). The file is a few megabytes, yet every
reader (tifffile, zarr, OpenSlide/libtiff) sees and decodes a full-size slide, tile by tile, so
a program that loads a whole level would need the real amount of memory.

The IFDs are written by hand (classic little-endian TIFF), with the tag values tifffile itself
writes for a JPEG-compressed RGB tile (YCbCr photometric, 2 x 2 chroma subsampling). Levels are
further top-level IFDs (here marked as reduced-resolution subfiles; Aperio SVS leaves its levels
unmarked, subfile type 0, and readers take them as levels by their order and size), so OpenSlide
sees the pyramid too.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

REAL_LARGEST_PX = (48_282, 101_406)  # (width, height) of STRIP AI 6baf51_0

_SHORT, _LONG, _RATIONAL, _ASCII = 3, 4, 5, 2


def encoded_tile(rgb_tile: np.ndarray, scratch: Path) -> tuple[bytes, dict]:
    """JPEG bytes of one tile as tifffile encodes it, plus the tags that describe it."""
    import tifffile

    scratch.mkdir(parents=True, exist_ok=True)
    one = scratch / "one-tile.tif"
    size = rgb_tile.shape[0]
    tifffile.imwrite(
        one, rgb_tile, tile=(size, size), compression="jpeg", photometric="rgb", metadata=None
    )
    with tifffile.TiffFile(one) as tif:
        page = tif.pages[0]
        with open(one, "rb") as handle:
            handle.seek(page.dataoffsets[0])
            data = handle.read(page.databytecounts[0])
        tags = {
            "photometric": int(page.photometric),
            "subsampling": tuple(page.tags["YCbCrSubSampling"].value),
            "refbw": tuple(page.tags["ReferenceBlackWhite"].value),
        }
    return data, tags


def write_repeated_tile_slide(
    path: Path,
    tile_bytes: bytes,
    tile_tags: dict,
    *,
    width: int = REAL_LARGEST_PX[0],
    height: int = REAL_LARGEST_PX[1],
    tile: int = 256,
    pyramid: bool = True,
    mpp: float | None = 0.25,
    downsample: int = 4,
    smallest_px: int = 1024,
) -> list[tuple[int, int]]:
    """Write a tiled JPEG TIFF of ``width`` x ``height`` px whose tiles all share ``tile_bytes``.

    Returns the ``(width, height)`` of every level written.
    """
    sizes = [(width, height)]
    while pyramid and max(sizes[-1]) // downsample >= smallest_px:
        w, h = sizes[-1]
        sizes.append((w // downsample, h // downsample))
    out = bytearray(b"II*\x00\x00\x00\x00\x00")  # first-IFD offset patched below
    tile_offset = len(out)
    out += tile_bytes
    previous_next_field = 4  # where the offset of the next IFD is stored

    def blob(raw: bytes) -> int:
        # append raw bytes at an even offset; return where they start
        if len(out) % 2:
            out.append(0)
        out.extend(raw)
        return len(out) - len(raw)

    for index, (w, h) in enumerate(sizes):
        n_tiles = math.ceil(w / tile) * math.ceil(h / tile)
        offsets_at = blob(struct.pack(f"<{n_tiles}I", *([tile_offset] * n_tiles)))
        counts_at = blob(struct.pack(f"<{n_tiles}I", *([len(tile_bytes)] * n_tiles)))
        bits_at = blob(struct.pack("<3H", 8, 8, 8))
        refbw_at = blob(
            b"".join(struct.pack("<2I", *value.as_integer_ratio()) for value in _floats(tile_tags))
        )
        entries = [
            (254, _LONG, 1, 0 if index == 0 else 1),
            (256, _LONG, 1, w),
            (257, _LONG, 1, h),
            (258, _SHORT, 3, bits_at),
            (259, _SHORT, 1, 7),  # JPEG
            (262, _SHORT, 1, tile_tags["photometric"]),
            (277, _SHORT, 1, 3),
            (284, _SHORT, 1, 1),
            (322, _LONG, 1, tile),
            (323, _LONG, 1, tile),
            (324, _LONG, n_tiles, offsets_at),
            (325, _LONG, n_tiles, counts_at),
            (530, _SHORT, 2, tile_tags["subsampling"]),
            (532, _RATIONAL, 6, refbw_at),
        ]
        if mpp is not None:
            pixels_per_cm = 10_000 / (mpp * width / w)  # this level's µm per pixel
            numerator, denominator = _rational(pixels_per_cm)
            res_at = blob(struct.pack("<2I", numerator, denominator))
            entries += [
                (282, _RATIONAL, 1, res_at),
                (283, _RATIONAL, 1, res_at),
                (296, _SHORT, 1, 3),  # centimetre
            ]
        entries.sort()
        if len(out) % 2:
            out.append(0)
        ifd_at = len(out)
        struct.pack_into("<I", out, previous_next_field, ifd_at)
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            if kind == _SHORT and count == 2:
                field = struct.pack("<2H", *value)
            elif kind == _SHORT and count == 1:
                field = struct.pack("<HH", value, 0)
            else:
                field = struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, count) + field
        previous_next_field = len(out)
        out += b"\x00\x00\x00\x00"
    Path(path).write_bytes(bytes(out))
    return sizes


def _floats(tile_tags: dict):
    refbw = tile_tags["refbw"]
    # tifffile returns ReferenceBlackWhite as 6 numbers or as 12 numerator/denominator values
    if len(refbw) == 12:
        return [refbw[i] / refbw[i + 1] for i in range(0, 12, 2)]
    return [float(v) for v in refbw]


def _rational(value: float) -> tuple[int, int]:
    denominator = 1000
    return round(value * denominator), denominator
