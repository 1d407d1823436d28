"""One benchmark measurement, run in a fresh process by benchmarks/run.py.

Prints one JSON line: the seconds spent on the work (imports excluded) and
quality figures; the parent reads the process's peak memory from the OS.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def _psnr(reference: np.ndarray, test: np.ndarray) -> float:
    import cv2

    if test.shape != reference.shape:
        test = cv2.resize(
            test, (reference.shape[1], reference.shape[0]), interpolation=cv2.INTER_AREA
        )
    mse = np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def wsi(method: str, path: str, thumb_px: str, reference_path: str) -> dict:
    import cv2
    import tifffile
    import zarr  # noqa: F401  (imported before timing: imports are not the work being measured)

    from course_utils import wsi

    thumb_px = int(thumb_px)
    with tifffile.TiffFile(path) as tif:
        height, width = tif.pages[0].shape[:2]
    scale = thumb_px / max(height, width)
    size_wh = (max(1, round(width * scale)), max(1, round(height * scale)))
    side = min(2048, height, width)
    region = ((height - side) // 2, (width - side) // 2, side, side)
    start = time.perf_counter()
    if method in ("naive_area", "naive_default", "naive_region"):
        with tifffile.TiffFile(path) as tif:
            full = tif.pages[0].asarray()
        if method == "naive_region":
            y, x, h, w = region
            result = full[y : y + h, x : x + w].copy()
        else:
            interpolation = cv2.INTER_AREA if method == "naive_area" else cv2.INTER_LINEAR
            result = cv2.resize(full, size_wh, interpolation=interpolation)
        del full
    elif method == "pyramid":
        result = wsi.thumbnail(path, thumb_px)
    elif method == "zarr_region":
        y, x, h, w = region
        result = wsi.read_region(path, 0, y, x, h, w)
    else:
        raise ValueError(f"unknown method {method}")
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "shape": list(result.shape)}
    reference = Path(reference_path)
    if method == "naive_area" and not reference.exists():
        np.save(reference, result)
    if method in ("naive_default", "pyramid", "naive_area") and reference.exists():
        out["psnr_db"] = _psnr(np.load(reference), result)
    if method in ("zarr_region", "naive_region"):
        region_reference = reference.with_name(reference.stem + "_region.npy")
        if not region_reference.exists():
            np.save(region_reference, result)
        out["psnr_db"] = _psnr(np.load(region_reference), result)
    return out


def dicom(method: str, folder: str) -> dict:
    import pandas  # noqa: F401
    import pydicom  # noqa: F401

    from course_utils.scan import scan_headers

    root = Path(folder)
    files = sorted(p for p in (root / "train").rglob("*") if p.is_file())
    start = time.perf_counter()
    if method == "raw":
        total = sum(len(p.read_bytes()) for p in files)
        return {"seconds": time.perf_counter() - start, "files": len(files), "bytes": total}
    if method == "full":
        import pydicom

        failed = 0
        for path in files:
            try:
                _ = pydicom.dcmread(path).pixel_array
            except Exception:
                failed += 1
        return {"seconds": time.perf_counter() - start, "files": len(files), "failed": failed}
    if method == "header_plain":
        import pydicom

        for path in files:
            try:
                dataset = pydicom.dcmread(path, stop_before_pixels=True)
                _ = (dataset.get("Rows"), dataset.get("Columns"))
            except Exception:
                pass
        return {"seconds": time.perf_counter() - start, "files": len(files)}
    scheduler = {
        "header_serial": "serial",
        "header_processes": "processes",
        "header_dask": "dask-local",
    }[method]
    table = scan_headers(root / "train", scheduler=scheduler, n_workers=2, progress=False)
    return {
        "seconds": time.perf_counter() - start,
        "files": len(table),
        "unreadable": int((~table["readable"]).sum()),
    }


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    result = {"wsi": wsi, "dicom": dicom}[kind](*args)
    print(json.dumps(result))
