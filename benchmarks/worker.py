"""One benchmark measurement, run in a fresh process by benchmarks/run.py.

Prints one JSON line: the seconds spent on the work (imports excluded) and
quality figures; the parent reads the process's peak memory from the OS.
"""

from __future__ import annotations

import json
import resource
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
    # the process's peak so far (interpreter and libraries): the work's own memory is above it
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
    out = {"seconds": seconds, "shape": list(result.shape), "baseline_mb": baseline_mb}
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


_HEADER_TAGS = (
    "PatientID",
    "SeriesDescription",
    "Modality",
    "InstanceNumber",
    "Rows",
    "Columns",
    "SliceThickness",
    "NumberOfFrames",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "PixelSpacing",
    "ImagePositionPatient",
    "ImageOrientationPatient",
)


def dicom(method: str, folder: str, limit: str = "0") -> dict:
    import warnings

    import pandas  # noqa: F401
    import pydicom

    from course_utils.scan import list_files, scan_headers

    if method in ("header_dask", "dask_start"):
        import distributed  # noqa: F401  (its import, 2-7 s here, is not the work measured)

    root = Path(folder) / "train"
    files = list_files(root)
    if int(limit):
        files = files[: int(limit)]
    start = time.perf_counter()
    if method == "raw":
        total = sum(len(p.read_bytes()) for p in files)
        return {"seconds": time.perf_counter() - start, "files": len(files), "bytes": total}
    if method == "full":
        failed = 0
        for path in files:
            try:
                _ = pydicom.dcmread(path).pixel_array
            except Exception:
                failed += 1
        return {"seconds": time.perf_counter() - start, "files": len(files), "failed": failed}
    if method in ("header_plain", "header_plain_all", "header_specific", "header_plain_warnings"):
        # the bare reference and the levers: converting every value the table needs,
        # specific_tags, and a warnings context per file
        specific = list(_HEADER_TAGS) if method == "header_specific" else None
        names = (
            _HEADER_TAGS
            if method in ("header_plain_all", "header_specific")
            else ("Rows", "Columns")
        )
        for path in files:
            try:
                if method == "header_plain_warnings":
                    with warnings.catch_warnings(record=True):
                        warnings.simplefilter("always")
                        dataset = pydicom.dcmread(path, stop_before_pixels=True)
                        _ = [dataset.get(name) for name in names]
                    continue
                dataset = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=specific)
                _ = [dataset.get(name) for name in names]
            except Exception:
                pass
        return {"seconds": time.perf_counter() - start, "files": len(files)}
    if method == "dask_start":
        # start a 2-worker LocalCluster the way scan_headers does, run one tiny task, stop it
        from course_utils.parallel import parallel_map

        parallel_map(abs, [-1], scheduler="dask-local", n_workers=2, progress=False)
        return {"seconds": time.perf_counter() - start, "files": len(files)}
    scheduler = {
        "header_serial": "serial",
        "header_processes": "processes",
        "header_dask": "dask-local",
    }[method]
    # the folder itself (the scan lists it, inside the timing) unless a subset was asked for
    target, keywords = (files, {"root": root}) if int(limit) else (root, {})
    table = scan_headers(target, scheduler=scheduler, n_workers=2, progress=False, **keywords)
    return {
        "seconds": time.perf_counter() - start,
        "files": len(table),
        "unreadable": int((~table["readable"]).sum()),
    }


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    result = {"wsi": wsi, "dicom": dicom}[kind](*args)
    print(json.dumps(result))
