"""Contact sheet of the generated datasets, at the sizes students see.

Draws a few images of the default build of every generated dataset (or of those named
with ``--datasets``) into one PNG per dataset under ``build/contact_sheet/``, each tile
about as tall as a figure panel in the lessons (``--tile-px``, default 600 px), so a
reviewer can judge the realism of what the lessons show. The datasets are read from
the course's data cache (``BIOMED_COURSE_DATA``) and built there first if missing.

Usage::

    python benchmarks/contact_sheet.py                      # every generated dataset
    python benchmarks/contact_sheet.py --datasets mammo-roi --per-dataset 8

The sheet is a build output; do not commit it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".tif", ".tiff")


def _natural_key(path: Path):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def pick_files(folder: Path, count: int) -> list[Path]:
    """Up to ``count`` image files spread over the dataset; one middle slice per series."""
    files = sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES),
        key=_natural_key,
    )
    files = [p for p in files if "masks" not in p.parts and "crops" not in p.parts]
    by_folder: dict[Path, list[Path]] = {}
    for path in files:
        by_folder.setdefault(path.parent, []).append(path)
    if all(p.suffix.lower() == ".dcm" for p in files) and len(by_folder) > 1:
        # DICOM series (one folder each): the middle slice of each series
        files = [group[len(group) // 2] for group in by_folder.values()]
    if len(files) <= count:
        return files
    index = np.linspace(0, len(files) - 1, count).round().astype(int)
    return [files[i] for i in index]


def read_display(path: Path, tile_px: int) -> tuple[np.ndarray, str]:
    """The image as float (grey, or RGB) scaled for display, and a short caption."""
    suffix = path.suffix.lower()
    if suffix == ".dcm":
        import pydicom

        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array.astype(np.float64)
        if pixels.ndim == 3 and getattr(ds, "SamplesPerPixel", 1) == 1:
            pixels = pixels[len(pixels) // 2]
        slope = float(getattr(ds, "RescaleSlope", 1) or 1)
        intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
        pixels = pixels * slope + intercept
        centre, width = getattr(ds, "WindowCenter", None), getattr(ds, "WindowWidth", None)
        if centre is not None and width is not None:
            centre = float(centre[0] if isinstance(centre, pydicom.multival.MultiValue) else centre)
            width = float(width[0] if isinstance(width, pydicom.multival.MultiValue) else width)
            low, high = centre - width / 2, centre + width / 2
        else:
            low, high = np.percentile(pixels, [0.5, 99.5])
        shape = pixels.shape
    elif suffix in (".tif", ".tiff"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            levels = tif.series[0].levels
            shape = levels[0].shape
            # the pyramid level closest to the tile size, as a thumbnail reader would pick
            best = min(levels, key=lambda level: abs(max(level.shape[:2]) - tile_px))
            pixels = best.asarray().astype(np.float64)
        low, high = 0.0, 255.0 if pixels.max() <= 255 else float(pixels.max())
    else:
        import cv2

        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if pixels.ndim == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
        shape = pixels.shape
        top = 65535.0 if pixels.dtype == np.uint16 else 255.0
        pixels = pixels.astype(np.float64)
        low, high = 0.0, top
    image = np.clip((pixels - low) / max(high - low, 1e-12), 0, 1)
    caption = f"{path.name}  {shape[0]} x {shape[1]} px (rows x cols)"
    return _fit(image, tile_px), caption


def _fit(image: np.ndarray, tile_px: int) -> np.ndarray:
    """Resize so the longer side is ``tile_px`` (area averaging, as a figure would show)."""
    import cv2

    scale = tile_px / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image.astype(np.float32), size, interpolation=interpolation)


def draw_sheet(name: str, folder: Path, out_dir: Path, per_dataset: int, tile_px: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = pick_files(folder, per_dataset)
    if not files:
        raise SystemExit(f"{name}: no image files under {folder}")
    columns = min(4, len(files))
    rows = int(np.ceil(len(files) / columns))
    dpi = 100
    fig, axes = plt.subplots(
        rows, columns, figsize=(columns * tile_px / dpi, rows * (tile_px + 40) / dpi), dpi=dpi
    )
    axes = np.atleast_1d(axes).ravel()
    for axis in axes:
        axis.set_axis_off()
    for axis, path in zip(axes[: len(files)], files, strict=True):
        image, caption = read_display(path, tile_px)
        axis.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(caption, fontsize=9)
    fig.suptitle(f"{name} (default build, {folder})", fontsize=11)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.png"
    fig.savefig(target)
    plt.close(fig)
    return target


def main(argv=None) -> int:
    from course_utils import data

    names = sorted(data.manifest_names("generated"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=names, default=names)
    parser.add_argument("--per-dataset", type=int, default=8, help="images per dataset")
    parser.add_argument("--tile-px", type=int, default=600, help="longer side of a tile")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "contact_sheet")
    args = parser.parse_args(argv)
    for name in args.datasets:
        folder = data.dataset_path(name)
        target = draw_sheet(name, Path(folder), args.out, args.per_dataset, args.tile_px)
        print(f"{name}: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
