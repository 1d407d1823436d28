"""Lesson 04 on folders holding slides of the largest real STRIP AI size, in bounded memory.

The slides are 48,282 x 101,406 px (13.7 GiB of decoded RGB each) but cost a few hundred
kilobytes on disk: every tile entry points at the same encoded JPEG tile
(``tests/lesson04_gigapixel.py``). The notebook must run to its end with ``data_dir`` on them
and the kernel's process tree, sampled by the harness (``course_utils.build.execution``: the
sum of the resident memory of the runner and its kernel, every 50 ms), must stay under 2 GB.

Two folders:

- ``mixed``: the generated clot-slides plus a pyramidal gigapixel slide with resolution tags
  and a single-level gigapixel slide without any (its thumbnail is reduced block by block from
  all ~75,000 tiles, about a minute);
- ``no-mpp``: a pyramidal gigapixel slide and small slides, none with resolution tags, so every
  size must stay in pixels.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from course_utils import data, wsi
from course_utils.build.execution import find_notebook, run_notebook
from tests.lesson04_gigapixel import REAL_LARGEST_PX, encoded_tile, write_repeated_tile_slide
from tests.notebook_runs import text_outputs

BUDGET_MB = 2000  # the kernel's process tree, in MiB as the harness reports it
HEADER = ["image_id", "center_id", "patient_id", "image_num", "label"]


def _he_tile(scratch: Path) -> tuple[bytes, dict]:
    """One 256 x 256 px H&E-like tile from the generated slides, JPEG-encoded once."""
    source = sorted((data.dataset_path("clot-slides") / "train").glob("*.tif"))[0]
    info = wsi.slide_info(source)
    tile = wsi.read_region(source, 0, info["height"] // 2, info["width"] // 2, 256, 256)
    return encoded_tile(np.ascontiguousarray(tile[..., :3]), scratch)


def _write_csv(root: Path, rows) -> None:
    with open(root / "train.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def build_mixed_folder(root: Path, scratch: Path) -> Path:
    """Generated clot-slides + gigapixel pyramid (mpp 0.25) + gigapixel single level (no mpp)."""
    generated = data.dataset_path("clot-slides")
    (root / "train").mkdir(parents=True)
    for slide in (generated / "train").glob("*.tif"):
        shutil.copyfile(slide, root / "train" / slide.name)
    tile_bytes, tags = _he_tile(scratch)
    write_repeated_tile_slide(root / "train" / "6baf51_0.tif", tile_bytes, tags, mpp=0.25)
    write_repeated_tile_slide(
        root / "train" / "7c2d1e_0.tif", tile_bytes, tags, pyramid=False, mpp=None
    )
    with open(generated / "train.csv", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    rows += [["6baf51_0", 11, "6baf51", 0, "CE"], ["7c2d1e_0", 3, "7c2d1e", 0, "LAA"]]
    _write_csv(root, rows)
    return root


def build_no_mpp_folder(root: Path, scratch: Path) -> Path:
    """A gigapixel pyramid and four small slides, none with resolution tags."""
    (root / "train").mkdir(parents=True)
    tile_bytes, tags = _he_tile(scratch)
    write_repeated_tile_slide(root / "train" / "6baf51_0.tif", tile_bytes, tags, mpp=None)
    small = [("1a2b3c_0", 4000, 3000, True), ("4d5e6f_0", 2500, 5000, False)]
    small += [("7a8b9c_0", 3000, 3000, True), ("0d1e2f_0", 1800, 2600, False)]
    for image_id, width, height, pyramid in small:
        write_repeated_tile_slide(
            root / "train" / f"{image_id}.tif",
            tile_bytes,
            tags,
            width=width,
            height=height,
            pyramid=pyramid,
            mpp=None,
            smallest_px=256,
        )
    rows = [["6baf51_0", 11, "6baf51", 0, "CE"], ["1a2b3c_0", 7, "1a2b3c", 0, "CE"]]
    rows += [["4d5e6f_0", 3, "4d5e6f", 0, "LAA"], ["7a8b9c_0", 1, "7a8b9c", 0, "LAA"]]
    rows += [["0d1e2f_0", 4, "0d1e2f", 0, "CE"]]
    _write_csv(root, rows)
    return root


def test_repeated_tile_slides_have_the_real_geometry(tmp_path):
    """Fast: the crafted files read as full-size slides in tifffile, the helper and OpenSlide."""
    root = build_no_mpp_folder(tmp_path / "no-mpp", tmp_path / "scratch")
    path = root / "train" / "6baf51_0.tif"
    assert path.stat().st_size < 2_000_000
    info = wsi.slide_info(path)
    assert (info["width"], info["height"]) == REAL_LARGEST_PX and info["mpp"] is None
    assert info["n_levels"] == 4 and info["levels"][0]["decoded_bytes"] > 14e9
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 4 and tif.pages[1].subfiletype == 1
    corner = wsi.read_region(path, 0, 256 * 300, 256 * 100, 256, 256)
    other = wsi.read_region(path, 0, 256 * 5, 256 * 150, 256, 256)
    assert corner.shape == (256, 256, 3) and np.array_equal(corner, other)  # one shared tile
    openslide = pytest.importorskip("openslide")
    with openslide.OpenSlide(str(path)) as slide:
        assert slide.level_count == 4 and slide.dimensions == REAL_LARGEST_PX


def _run(folder: Path, tmp_path: Path, n_slides: int):
    executed = tmp_path / f"04_{folder.name}.ipynb"
    run = run_notebook(
        find_notebook("04_wsi_eda"),
        executed,
        parameters={
            "data_dir": str(folder),
            "output_dir": str(tmp_path / f"outputs-{folder.name}"),
            "max_slides": n_slides,
        },
        cell_timeout=900,
        timeout=1500,
    )
    print(f"{folder.name}: {run.status} in {run.seconds:.0f} s, peak {run.peak_mb:.0f} MiB")
    assert run.status == "ok", f"lesson 04 failed on the {folder.name} folder: {run.error}"
    assert run.peak_mb < BUDGET_MB, (
        f"lesson 04 peaked at {run.peak_mb:.0f} MiB on the {folder.name} folder "
        f"(budget {BUDGET_MB} MiB): something decodes a gigapixel level whole"
    )
    return text_outputs(executed)


@pytest.mark.slow
@pytest.mark.extended  # minutes: make test-extended and CI run it, not make test
@pytest.mark.notebook
def test_lesson04_gigapixel_mixed_folder_in_bounded_memory(tmp_path):
    folder = build_mixed_folder(tmp_path / "mixed", tmp_path / "scratch")
    text = _run(folder, tmp_path, n_slides=14)
    assert "example: 6baf51_0" in text
    assert "7c2d1e_0: one tiled level of 48282 x 101406 px" in text
    assert "not read naively: 6baf51_0" in text and "not read naively: 7c2d1e_0" in text
    assert "1 slide(s) without a usable mpp" in text


@pytest.mark.slow
@pytest.mark.extended  # about a minute: make test-extended and CI run it, not make test
@pytest.mark.notebook
def test_lesson04_gigapixel_folder_without_resolution_in_bounded_memory(tmp_path):
    folder = build_no_mpp_folder(tmp_path / "no-mpp", tmp_path / "scratch")
    text = _run(folder, tmp_path, n_slides=5)
    assert "5 slide(s) without a usable mpp" in text
    assert "no mpp: sizes stay in pixels" in text
    assert "a red cell's size in pixels cannot be known" in text
    assert "no slide has an mpp: there is no area in mm² to compute" in text
