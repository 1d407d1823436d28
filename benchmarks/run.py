"""Course benchmarks: approaches compared side by side in one run, ratios reported.

Run with ``make bench`` or ``python -m course_utils bench [--only wsi dicom course] [--quick]``.
Writes ``build/bench/report.md`` and ``build/bench/results.csv`` and prints the tables.

Sections
--------
wsi
    Whole-slide thumbnails on generated pyramidal slides of two sizes: the naive
    way (decode level 0 whole, then resize, with area or with the default
    bilinear interpolation) vs the course's pyramid-level read vs a zarr
    region read. Best seconds over alternating rounds, each run in a fresh process,
    peak resident memory of that process, and thumbnail PSNR against the
    area-interpolated full-resolution reference.
dicom
    Scanning a generated RSNA-MICCAI-shaped tree of 13,000 files with slices of
    the real size (256-512 px): full read with pixels vs a bare pydicom header
    read vs the course's scan (serial, process pool, dask LocalCluster), each
    method alternating with the others, best of ``--repeats``, with a raw
    read of the same bytes as the I/O reference; the levers of the scan
    measured one by one; and an RSNA-sized tree (50,000 files, small slices)
    scanned serially, on 2 processes and on a LocalCluster.
    The ratios the course promises (issue 25) are printed with the two numbers
    each is made of. Every step prints a line with its expected duration.
course
    Seconds and peak memory of every notebook (as ``make course`` runs them)
    and the time to install the environment from the lock into a new venv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "build" / "bench"
DATA_DIR = BENCH_DIR / "data"
WORKER = Path(__file__).resolve().parent / "worker.py"


# --------------------------------------------------------------------------- helpers
def machine_facts() -> dict:
    import cv2
    import imagecodecs
    import numpy
    import psutil
    import pydicom
    import tifffile

    return {
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "numpy": numpy.__version__,
        "tifffile": tifffile.__version__,
        "imagecodecs": imagecodecs.__version__,
        "opencv": cv2.__version__,
        "pydicom": pydicom.__version__,
    }


def run_worker(*args: str, timeout: float = 900) -> dict:
    """Run one measurement in a fresh process; return its JSON result plus peak memory (MB).

    The peak is the resident memory of the worker and its children, sampled
    every 20 ms (see course_utils.build.execution: ru_maxrss would include this
    launcher's own memory, inherited at fork).
    """
    from course_utils.build.execution import _wait_with_rusage

    command = [sys.executable, str(WORKER), *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        code, peak_mb = _wait_with_rusage(process, timeout, interval=0.02)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code == -9:
        raise TimeoutError(f"worker {args} exceeded {timeout} s")
    if code != 0:
        raise RuntimeError(f"worker {args} failed:\n{stderr[-2000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = peak_mb
    return result


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in columns) + " |"]
    lines.append("|" + "|".join("-" * (widths[c] + 2) for c in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value == float("inf"):
            return "inf"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


# --------------------------------------------------------------------------- WSI
_SLIDE_PX_PER_S = 1.0e6  # generating a slide, loaded 2-core machine
_NAIVE_PX_PER_S = 1.0e8  # decoding level 0 whole


def bench_wsi(
    sizes: list[tuple[int, int]], repeats: int, thumb_px: int
) -> tuple[list[dict], list[str], list[dict]]:
    from course_utils.datasets import clot_slides

    rows, notes, ratios = [], [], []
    for width, height in sizes:
        path = DATA_DIR / f"slide_{width}x{height}.tif"
        if not path.exists():
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            start = step(
                f"generating a {width} x {height} px pyramidal slide (cached after the first run)",
                width * height / _SLIDE_PX_PER_S,
            )
            partial = path.with_suffix(".partial.tif")
            clot_slides.write_slide(partial, width=width, height=height, seed=7)
            os.replace(partial, path)
            done(start)
            notes.append(
                f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s"
            )
        reference = DATA_DIR / f"reference_{width}x{height}_{thumb_px}.npy"
        # side by side: every method once per round, rounds alternate, the best time is kept
        # (on a loaded machine the load drifts; a method-by-method median would compare
        # different moments), the highest peak memory is kept
        methods = ("naive_area", "naive_default", "pyramid", "zarr_region", "naive_region")
        runs: dict[str, list[dict]] = {method: [] for method in methods}
        for round_number in range(1, repeats + 1):
            for method in methods:
                naive = method.startswith("naive")
                start = step(
                    f"{width}x{height} round {round_number}/{repeats}: {method}, in a fresh process",
                    (width * height / _NAIVE_PX_PER_S if naive else 1.0) + 5.0,
                )
                runs[method].append(
                    run_worker("wsi", method, str(path), str(thumb_px), str(reference))
                )
                done(start, f"{runs[method][-1]['seconds']:.3f} s of work")
        results = {
            method: {
                "seconds": min(r["seconds"] for r in method_runs),
                "peak_mb": max(r["peak_mb"] for r in method_runs),
                "psnr_db": method_runs[-1].get("psnr_db"),
                "work_mb": max(r["peak_mb"] - r.get("baseline_mb", 0.0) for r in method_runs),
            }
            for method, method_runs in runs.items()
        }
        base_time = results["naive_area"]["seconds"]
        base_mem = results["naive_area"]["peak_mb"]
        for method, label in (
            ("naive_area", "naive: decode level 0 whole, resize (area)"),
            ("naive_default", "naive: decode level 0 whole, resize (default bilinear)"),
            ("pyramid", "course: smallest sufficient level, resize (area)"),
            ("naive_region", "naive: decode level 0 whole, crop a 2048 px region"),
            ("zarr_region", "course: zarr read of the same 2048 px region"),
        ):
            r = results[method]
            reference_method = "naive_region" if method == "zarr_region" else "naive_area"
            rows.append(
                {
                    "slide": f"{width}x{height}",
                    "method": label,
                    "best s": r["seconds"],
                    "peak MB": r["peak_mb"],
                    "MB above imports": r["work_mb"],
                    "PSNR dB": r["psnr_db"],
                    "x faster": results[reference_method]["seconds"] / r["seconds"]
                    if method in ("pyramid", "zarr_region")
                    else None,
                    "x less memory": results[reference_method]["peak_mb"] / r["peak_mb"]
                    if method in ("pyramid", "zarr_region")
                    else None,
                }
            )
        notes.append(
            f"{width}x{height}: pyramid thumbnail {base_time / results['pyramid']['seconds']:.0f}x faster, "
            f"{base_mem / results['pyramid']['peak_mb']:.0f}x less peak memory than the naive read"
        )
        notes.append(
            f"{width}x{height}: peak MB is the whole process's (about "
            f"{results['pyramid']['peak_mb'] - results['pyramid']['work_mb']:.0f} MB of it is the "
            "interpreter, numpy, tifffile, zarr and OpenCV, loaded before the timed work); "
            "'MB above imports' is the work's own share"
        )
        speed = base_time / results["pyramid"]["seconds"]
        memory = base_mem / results["pyramid"]["peak_mb"]
        ratios.append(
            {
                "goal": f"4. pyramid thumbnail vs naive read, {width}x{height}: time",
                "ratio": speed,
                "made of": f"naive {base_time:.2f} s / pyramid {results['pyramid']['seconds']:.3f} s",
                "target": ">= 80" if (width, height) == (24000, 16000) else "",
                "met": ("yes" if speed >= 80 else "NO")
                if (width, height) == (24000, 16000)
                else "",
            }
        )
        ratios.append(
            {
                "goal": f"4. pyramid thumbnail vs naive read, {width}x{height}: peak memory",
                "ratio": memory,
                "made of": f"naive {base_mem:.0f} MB / pyramid {results['pyramid']['peak_mb']:.0f} MB",
                "target": ">= 14" if (width, height) == (24000, 16000) else "",
                "met": ("yes" if memory >= 14 else "NO")
                if (width, height) == (24000, 16000)
                else "",
            }
        )
    return rows, notes, ratios


# --------------------------------------------------------------------------- progress
def step(text: str, expected_s: float | None = None) -> float:
    """Print what the benchmark is doing now (and how long it should take); return the start time."""
    stamp = time.strftime("%H:%M:%S")
    hint = f" (expected ~{_duration(expected_s)})" if expected_s else ""
    print(f"[{stamp}] {text}{hint} ...", flush=True)
    return time.perf_counter()


def done(start: float, text: str = "") -> None:
    print(
        f"           done in {_duration(time.perf_counter() - start)}{': ' + text if text else ''}",
        flush=True,
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


# --------------------------------------------------------------------------- DICOM
# Rough rates on a loaded 2-core machine, for the "expected" hints before the first measurement.
_ROUGH_FILES_PER_S = {
    "raw": 3000,
    "full": 500,
    "header_plain": 1000,
    "header_plain_all": 600,
    "header_specific": 600,
    "header_plain_warnings": 900,
    "header_serial": 2000,
    "header_processes": 3000,
    "header_dask": 2000,
    "dask_start": None,
}
_SEED_FILES_PER_S = {"real": 2.0, "small": 15.0}  # generating brain-mri-study slices


def replicated_tree(
    name: str, n_files: int, seed_patients: int, min_matrix: int, max_matrix: int, kind: str
) -> tuple[Path, list[str]]:
    """A brain-mri-study folder of at least ``n_files`` files.

    The phantom generator is slow at 256-512 px (each slice is rendered from a
    3-D model), so a few patients are generated and their folders copied under
    new patient ids (real copies, not links: every file has its own pages).
    Headers repeat between copies, which does not change the cost of reading them.
    """
    from course_utils import data

    notes = []
    target = DATA_DIR / name
    marker = target / ".complete"
    if marker.exists() and int(marker.read_text() or 0) >= n_files:
        count = int(marker.read_text())
        notes.append(f"{name}: {count} files (cached in {target})")
        return target, notes
    expected_seed = seed_patients * 150 / _SEED_FILES_PER_S[kind]
    started = step(
        f"generating the seed: brain-mri-study, {seed_patients} patients, "
        f"{min_matrix}-{max_matrix} px slices (cached after the first run)",
        expected_seed,
    )
    seed = data.dataset_path(
        "brain-mri-study",
        root=DATA_DIR,
        n_patients=seed_patients,
        min_matrix=min_matrix,
        max_matrix=max_matrix,
    )
    done(started)
    patients = sorted(p for p in (seed / "train").iterdir() if p.is_dir())
    per_copy = sum(1 for p in (seed / "train").rglob("*") if p.is_file())
    seed_bytes = sum(p.stat().st_size for p in (seed / "train").rglob("*") if p.is_file())
    copies = -(-n_files // per_copy)
    started = step(
        f"copying the seed's {per_copy} files {copies} times into {target} "
        f"({copies * seed_bytes / 1e9:.1f} GB)",
        copies * seed_bytes / 300e6 + copies * per_copy / 2000,
    )
    if target.exists():
        shutil.rmtree(target)
    (target / "train").mkdir(parents=True)
    count, next_id = 0, 0
    for _ in range(copies):
        for patient in patients:
            shutil.copytree(patient, target / "train" / f"{next_id:05d}")
            next_id += 1
        count += per_copy
    marker.write_text(str(count))
    done(started)
    notes.append(
        f"{name}: {count} files, {copies * seed_bytes / 1e9:.1f} GB: {copies} copies of a generated "
        f"brain-mri-study ({seed_patients} patients, {min_matrix}-{max_matrix} px slices, "
        f"{per_copy} files including its truncated file and empty series)"
    )
    return target, notes


def measure_side_by_side(
    folder: Path, methods: list[str], repeats: int, n_files: int, limit: int = 0
) -> dict:
    """Each method ``repeats`` times, alternating, each run in a fresh process; the best run kept."""
    best: dict[str, dict] = {}
    for round_number in range(1, repeats + 1):
        for method in methods:
            rate = best[method]["files/s"] if method in best else _ROUGH_FILES_PER_S.get(method)
            # plus ~10 s to start the measuring process and import pandas/pydicom on a loaded machine
            expected = (n_files / rate if rate else 5.0) + 10.0
            started = step(f"round {round_number}/{repeats}: {method} on {n_files} files", expected)
            result = run_worker("dicom", method, str(folder), str(limit), timeout=3600)
            result["files/s"] = result["files"] / result["seconds"]
            done(started, f"{result['files/s']:.0f} files/s")
            if method not in best or result["seconds"] < best[method]["seconds"]:
                best[method] = result
    return best


_LABELS = {
    "raw": "raw read of the bytes (I/O reference)",
    "full": "pydicom full read + pixel_array",
    "header_plain": "bare pydicom header read (stop_before_pixels), Rows and Columns",
    "header_plain_all": "lever: bare read + .get of the 18 values the table needs",
    "header_specific": "lever: as above with specific_tags=the 18 tags",
    "header_plain_warnings": "lever: bare read inside a warnings context per file",
    "header_serial": "course scan (scan_headers), serial",
    "header_processes": "course scan, process pool (2 workers, batched)",
    "header_dask": "course scan, dask LocalCluster (2 workers, batched)",
}


def _rows(best: dict, serial_key: str = "header_serial") -> list[dict]:
    rows = []
    for method, result in best.items():
        if method == "dask_start":
            continue
        rows.append(
            {
                "method": _LABELS[method],
                "files": result["files"],
                "seconds": result["seconds"],
                "files/s": result["files/s"],
                "vs serial scan": result["files/s"] / best[serial_key]["files/s"]
                if serial_key in best
                else None,
                "peak MB": result["peak_mb"],
            }
        )
    return rows


def bench_dicom(
    n_files: int,
    seed_patients: int,
    repeats: int,
    rsna_files: int,
    lever_files: int,
    slice_px: tuple[int, int] = (256, 512),
) -> tuple[list[dict], list[str], list[dict], list[dict], list[str], list[dict]]:
    """Real-size scan (side by side), levers, and an RSNA-sized tree."""
    low, high = slice_px
    folder, notes = replicated_tree(
        f"mri-{low}-{high}px-{n_files}", n_files, seed_patients, low, high, "real"
    )
    files = sum(1 for p in (folder / "train").rglob("*") if p.is_file())
    started = step(f"warming the page cache: raw read of {files} files", files / 3000)
    run_worker("dicom", "raw", str(folder), "0", timeout=3600)
    done(started)
    methods = ["full", "header_plain", "header_serial", "header_processes", "header_dask"]
    best = measure_side_by_side(folder, methods + ["dask_start"], repeats, files)
    best = {"raw": run_worker("dicom", "raw", str(folder), "0", timeout=3600), **best}
    best["raw"]["files/s"] = best["raw"]["files"] / best["raw"]["seconds"]
    rows = _rows(best)
    dask, pool = best["header_dask"], best["header_processes"]
    start_s = best["dask_start"]["seconds"]
    overhead_ms = (dask["seconds"] - pool["seconds"]) / files * 1e3
    notes.append(
        f"the page cache was warm for every timed read (a raw read of all {files} files ran first; "
        f"{_ram_note()}); each method ran {repeats} times, alternating, each in a fresh process, "
        "the best run kept; the scans include listing the folder, the bare reads do not"
    )
    notes.append(
        f"dask: starting and stopping a 2-worker LocalCluster takes {start_s:.1f} s; the LocalCluster "
        f"scan took {dask['seconds']:.2f} s vs the process pool's {pool['seconds']:.2f} s, "
        f"{overhead_ms:.3f} ms more per file ({100 * overhead_ms * pool['files/s'] / 1e3:.0f}% of "
        f"a file's cost on the pool); batches are {files // 8} files (4 per worker); importing "
        "distributed happens before the timing, as pandas' and pydicom's do"
    )
    # levers, on a subset of the same files
    levers = measure_side_by_side(
        folder,
        [
            "header_plain",
            "header_plain_all",
            "header_specific",
            "header_plain_warnings",
            "header_serial",
        ],
        repeats,
        min(lever_files, files),
        limit=min(lever_files, files),
    )
    lever_rows = _rows(levers, serial_key="header_plain")
    for row in lever_rows:
        row["vs bare read"] = row.pop("vs serial scan")
    # RSNA-sized
    rsna, rsna_notes = replicated_tree(f"mri-small-{rsna_files}", rsna_files, 4, 64, 128, "small")
    rsna_count = sum(1 for p in (rsna / "train").rglob("*") if p.is_file())
    started = step(f"warming the page cache: raw read of {rsna_count} files", rsna_count / 5000)
    run_worker("dicom", "raw", str(rsna), "0", timeout=3600)
    done(started)
    rsna_best = measure_side_by_side(
        rsna, ["header_serial", "header_processes", "header_dask"], 1, rsna_count
    )
    rsna_rows = []
    for method, result in rsna_best.items():
        minutes = 348_000 / result["files/s"] / 60
        rsna_rows.append(
            {
                "method": _LABELS[method],
                "files": result["files"],
                "seconds": result["seconds"],
                "files/s": result["files/s"],
                "348,000 files (min)": minutes,
                "peak MB": result["peak_mb"],
            }
        )
    rsna_notes.append(
        "RSNA-sized estimate: one run per method, page cache warm (a raw read ran first), local "
        "disk; 348,000 files at the measured rate. A cold cache or network storage is slower: "
        "the header scan reads the first 16 KB of each file, so there the cost is mostly latency"
    )
    ratios = [
        _ratio(
            "1. serial course scan vs bare header read",
            best["header_serial"],
            best["header_plain"],
            0.9,
            "course scan, serial",
            "bare header read",
        ),
        _ratio(
            "1. course scan on 2 processes vs serial full read",
            best["header_processes"],
            best["full"],
            2.4,
            "course scan, 2 processes",
            "full read",
        ),
        _ratio(
            "1. course scan on 2 processes vs its serial scan",
            best["header_processes"],
            best["header_serial"],
            1.7,
            "course scan, 2 processes",
            "course scan, serial",
        ),
        _ratio(
            "1. dask LocalCluster vs serial course scan (13k files)",
            best["header_dask"],
            best["header_serial"],
            1.0,
            "course scan, LocalCluster",
            "course scan, serial",
        ),
    ]
    return rows, notes, lever_rows, rsna_rows, rsna_notes, ratios


def _ratio(goal, numerator, denominator, target, numerator_name, denominator_name) -> dict:
    value = numerator["files/s"] / denominator["files/s"]
    return {
        "goal": goal,
        "ratio": value,
        "made of": f"{numerator_name} {numerator['files/s']:.0f} files/s / "
        f"{denominator_name} {denominator['files/s']:.0f} files/s",
        "target": f">= {target}",
        "met": "yes" if value >= target else "NO",
    }


def _ram_note() -> str:
    import psutil

    memory = psutil.virtual_memory()
    return f"{memory.total / 2**30:.0f} GiB RAM, {memory.available / 2**30:.0f} GiB available"


# --------------------------------------------------------------------------- the course itself
def bench_course() -> tuple[list[dict], list[str]]:
    from course_utils.build.execution import discover_notebooks, run_notebook

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for notebook in discover_notebooks():
            run = run_notebook(notebook, Path(tmp) / notebook.name)
            rows.append(
                {
                    "notebook": notebook.stem,
                    "status": run.status,
                    "seconds": run.seconds,
                    "peak MB": run.peak_mb,
                }
            )
        rows.append(
            {
                "notebook": "total",
                "status": "",
                "seconds": sum(r["seconds"] for r in rows),
                "peak MB": max(r["peak MB"] for r in rows),
            }
        )
        notes = []
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        venv = Path(tmp) / "venv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        if Path(uv).exists():
            subprocess.run(
                [
                    uv,
                    "pip",
                    "sync",
                    "--quiet",
                    "--python",
                    str(venv / "bin" / "python"),
                    str(ROOT / "requirements.lock"),
                ],
                check=True,
            )
            notes.append(
                f"install: new venv + uv pip sync of requirements.lock: {time.perf_counter() - start:.1f} s (uv cache warm)"
            )
        else:
            notes.append("install time not measured: uv not found in the venv")
    return rows, notes


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only", nargs="+", choices=["wsi", "dicom", "course"], default=["wsi", "dicom", "course"]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one repeat (a smoke test, not a measurement)",
    )
    parser.add_argument(
        "--wsi-sizes",
        default="24000x16000,48000x32000",
        help="slide sizes WIDTHxHEIGHT, comma-separated",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--dicom-files", type=int, default=13_000, help="files in the real-size (256-512 px) tree"
    )
    parser.add_argument(
        "--dicom-seed-patients",
        type=int,
        default=3,
        help="patients generated at 256-512 px and copied to make the real-size tree",
    )
    parser.add_argument(
        "--rsna-files", type=int, default=50_000, help="files in the RSNA-sized (small-slice) tree"
    )
    parser.add_argument("--lever-files", type=int, default=3_000)
    args = parser.parse_args(argv)
    if args.quick:
        args.wsi_sizes, args.repeats = "3000x2000,4000x3000", 1
        args.dicom_files, args.rsna_files = 600, 1_200
        args.lever_files, args.dicom_seed_patients = 300, 2
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.wsi_sizes.split(",")]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    sections = [f"# Course benchmarks\n\nMachine and versions: {json.dumps(facts)}\n"]
    csv_rows = []
    ratios: list[dict] = []

    def emit(title, rows, columns, notes):
        text = f"## {title}\n\n{table(rows, columns)}\n\n" + "".join(f"- {n}\n" for n in notes)
        print(text, flush=True)
        sections.append(text)
        for row in rows:
            csv_rows.append({"section": title, **{k: _fmt(v) for k, v in row.items()}})

    print(f"machine: {facts}", flush=True)
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n", flush=True)
    sections.append(
        f"Load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n"
    )
    if "wsi" in args.only:
        rows, notes, wsi_ratios = bench_wsi(sizes, args.repeats, 1024)
        ratios.extend(wsi_ratios)
        emit(
            "WSI thumbnails and regions",
            rows,
            [
                "slide",
                "method",
                "best s",
                "peak MB",
                "MB above imports",
                "PSNR dB",
                "x faster",
                "x less memory",
            ],
            notes,
        )
    if "dicom" in args.only:
        rows, notes, lever_rows, rsna_rows, rsna_notes, dicom_ratios = bench_dicom(
            args.dicom_files,
            args.dicom_seed_patients,
            args.repeats,
            args.rsna_files,
            args.lever_files,
            (64, 128) if args.quick else (256, 512),
        )
        ratios[:0] = dicom_ratios
        emit(
            "DICOM dataset scan (64-128 px slices: --quick, a smoke test)"
            if args.quick
            else "DICOM dataset scan (256-512 px slices)",
            rows,
            ["method", "files", "seconds", "files/s", "vs serial scan", "peak MB"],
            notes,
        )
        emit(
            "DICOM header scan: the levers, measured one by one",
            lever_rows,
            ["method", "files", "seconds", "files/s", "vs bare read", "peak MB"],
            [
                "the course scan parses the header bytes itself for explicit VR little endian files "
                "whose values pydicom would read without a warning, and reads the other files with "
                "pydicom (one warnings context per batch); the value conversions and the warnings "
                "context are what the bare read does not do"
            ],
        )
        emit(
            "RSNA-sized scan (small slices)",
            rsna_rows,
            ["method", "files", "seconds", "files/s", "348,000 files (min)", "peak MB"],
            rsna_notes,
        )
    if "course" in args.only:
        start = step("executing every notebook, then installing the lock into a new venv", 300)
        rows, notes = bench_course()
        done(start)
        emit("The course itself", rows, ["notebook", "status", "seconds", "peak MB"], notes)
    if ratios:
        emit(
            "Goals (issue 25): each ratio and the two numbers it is made of",
            ratios,
            ["goal", "ratio", "made of", "target", "met"],
            ["ratios of the best runs of methods measured side by side in this run"],
        )
    (BENCH_DIR / "report.md").write_text("\n".join(sections))
    with open(BENCH_DIR / "results.csv", "w", newline="") as handle:
        fields = sorted({k for row in csv_rows for k in row}, key=lambda k: (k != "section", k))
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(csv_rows)
    print(f"report: {BENCH_DIR / 'report.md'}  table: {BENCH_DIR / 'results.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
