"""Lesson 04 runs unchanged on a STRIP-AI-shaped folder that mixes TIFF flavours.

The folder holds what real slide collections contain and the default data
does not: an Aperio-SVS-like single-level JPEG-tiled file renamed ``.tif`` (its
microns per pixel only in the ImageDescription, tiles of 240 px), a pyramidal
TIFF with 512 px deflate-compressed tiles whose levels are SubIFDs and whose
resolution is in pixels per inch, a plain striped (untiled) LZW TIFF without
any resolution, and a train.csv row whose slide file is missing. The notebook
must run to the end, report the single-level slides and the missing file, write
its tiles under output_dir and leave the input folder untouched.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import tifffile

from course_utils.build.execution import find_notebook, run_notebook
from course_utils.datasets.clot_slides import write_slide
from tests.notebook_runs import text_outputs, tree_hashes


def _pixels(tmp: Path, name: str, height: int, width: int, centre: int, seed: int):
    source = tmp / f"{name}-source.tif"
    write_slide(source, height, width, seed=seed, centre_id=centre, label="CE", pyramid=False)
    return tifffile.imread(source)


def build_mixed_strip_ai(root: Path, scratch: Path) -> Path:
    """Write the mixed folder described in the module docstring; return ``root``."""
    (root / "train").mkdir(parents=True)
    scratch.mkdir(parents=True, exist_ok=True)

    # 1. Aperio-like: one level, JPEG tiles of 240 px, MPP only in the description
    aperio = _pixels(scratch, "aperio", 1500, 2000, centre=7, seed=11)
    description = (
        "Aperio Image Library v12.0.15 \r\n2000x1500 [0,0 2000x1500] (240x240) JPEG/RGB Q=70"
        "|AppMag = 20|MPP = 0.4990|ScanScope ID = SS1234"
    )
    tifffile.imwrite(
        root / "train" / "0a1b2c_0.tif",
        aperio,
        photometric="rgb",
        tile=(240, 240),
        compression="jpeg",
        description=description,
        metadata=None,
    )

    # 2. pyramid with 512 px deflate tiles, levels as SubIFDs, resolution in pixels per inch
    pyramid = _pixels(scratch, "pyramid", 1800, 2400, centre=11, seed=12)
    dpi = 25400 / 0.25
    with tifffile.TiffWriter(root / "train" / "3d4e5f_0.tif") as writer:
        options = {
            "photometric": "rgb",
            "tile": (512, 512),
            "compression": "zlib",
            "metadata": None,
        }
        writer.write(pyramid, subifds=1, resolution=(dpi, dpi), resolutionunit="INCH", **options)
        writer.write(
            pyramid[::4, ::4],
            subfiletype=1,
            resolution=(dpi / 4, dpi / 4),
            resolutionunit="INCH",
            **options,
        )

    # 3. plain striped TIFF, LZW, no resolution at all
    striped = _pixels(scratch, "striped", 900, 1200, centre=3, seed=13)
    tifffile.imwrite(
        root / "train" / "6a7b8c_0.tif",
        striped,
        photometric="rgb",
        rowsperstrip=32,
        compression="lzw",
    )

    rows = [
        ["0a1b2c_0", 7, "0a1b2c", 0, "CE"],
        ["3d4e5f_0", 11, "3d4e5f", 0, "LAA"],
        ["6a7b8c_0", 3, "6a7b8c", 0, "CE"],
        ["6a7b8c_1", 3, "6a7b8c", 1, "CE"],  # no file
    ]
    with open(root / "train.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["image_id", "center_id", "patient_id", "image_num", "label"])
        writer.writerows(rows)
    return root


def test_mixed_folder_headers(tmp_path):
    """The helpers see the three flavours as intended (fast; no notebook run)."""
    from course_utils import wsi

    root = build_mixed_strip_ai(tmp_path / "strip-ai", tmp_path / "scratch")
    aperio = wsi.slide_info(root / "train" / "0a1b2c_0.tif")
    assert not aperio["pyramid"] and aperio["tile_size"] == (240, 240)
    assert aperio["mpp"] == pytest.approx(0.499) and aperio["mpp_source"] == "description"
    pyramid = wsi.slide_info(root / "train" / "3d4e5f_0.tif")
    assert pyramid["n_levels"] == 2 and pyramid["compression"] == "adobe_deflate"
    assert pyramid["tile_size"] == (512, 512) and pyramid["mpp"] == pytest.approx(0.25)
    striped = wsi.slide_info(root / "train" / "6a7b8c_0.tif")
    assert not striped["tiled"] and striped["mpp"] is None and striped["compression"] == "lzw"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson04_runs_on_a_mixed_strip_ai_folder(tmp_path):
    root = build_mixed_strip_ai(tmp_path / "strip-ai", tmp_path / "scratch")
    before = tree_hashes(root)
    output_dir = tmp_path / "outputs"
    executed = tmp_path / "04_mixed.ipynb"
    run = run_notebook(
        find_notebook("04_wsi_eda"),
        executed,
        parameters={
            "data_dir": str(root),
            "output_dir": str(output_dir),
            "seed": 1,
            "thumbnail_px": 384,
        },
    )
    assert run.status == "ok", f"the notebook failed on the mixed folder: {run.error}"
    assert tree_hashes(root) == before, "the notebook modified its input folder"
    text = text_outputs(executed)
    assert "1 row(s) without a slide file are skipped" in text
    assert "2 of 3 slides have no pyramid" in text
    assert "0a1b2c_0: one tiled level" in text and "6a7b8c_0: one striped (untiled) level" in text
    assert "listed in train.csv but the file is missing" in text  # from the validator's report
    written = list((output_dir / "tiles").rglob("*.png"))
    assert {p.parent.name for p in written} >= {"0a1b2c_0", "3d4e5f_0"}
