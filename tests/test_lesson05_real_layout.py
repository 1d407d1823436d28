"""Lesson 05 on folders laid out like a real CBIS-DDSM download, at real image size.

``mammo.write_cbis_layout`` writes what the NBIA Data Retriever gives: 16-bit DICOM films of
thousands of rows (most without PixelSpacing), descriptive folder names so the CSV paths do not
exist verbatim, ROI paths ending with a newline, and the ROI mask and cropped image as
``1-1.dcm`` / ``1-2.dcm`` in either order. The folders are built in ``tmp_path`` (never
committed). The notebook must run to its end on them, also with only one or three usable cases,
and the kernel's process tree (as the harness samples it: the resident memory of the runner and
its kernel, every 50 ms) must stay under 2 GB.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydicom
import pytest

from course_utils import data
from course_utils.build.execution import find_notebook, run_notebook
from course_utils.datasets import mammo
from tests.notebook_runs import text_outputs

BUDGET_MB = 2000  # the kernel's process tree, in MiB as the harness reports it


def test_write_cbis_layout_has_the_real_quirks(tmp_path):
    names = mammo.write_cbis_layout(tmp_path / "cbis", n_cases=2, rows=3000, render_rows=600)
    root = tmp_path / "cbis"
    assert names[0].startswith("Mass-Training_P_00001_") and names[1].startswith("Calc-")
    cases = mammo.load_cases(root)
    assert len(cases) == 2
    raw = (root / "mass_case_description_train_set.csv").read_text()
    assert "000001.dcm\n" in raw and '.dcm\n"' in raw  # ROI paths end with a newline
    for _, row in cases.iterrows():
        assert not (root / "CBIS-DDSM" / row["image file path"]).exists()  # not verbatim
        image, roi = mammo.read_case(row)
        assert image.dtype == np.uint16 and image.shape[0] == 3000
        assert 0.56 * 3000 - 1 <= image.shape[1] <= 0.66 * 3000 + 1
        assert roi.any() and roi.shape == image.shape
        header = pydicom.dcmread(row["image_path"], stop_before_pixels=True)
        assert header.BitsStored == 16 and header.PhotometricInterpretation == "MONOCHROME2"
    mass, calc = (
        cases[cases["abnormality type"] == kind].iloc[0] for kind in ("mass", "calcification")
    )
    assert mammo.read_spacing(mass["image_path"]) is None  # as most of CBIS-DDSM
    assert mammo.read_spacing(calc["image_path"]) == pytest.approx(240 / 3000, rel=1e-4)
    # the mask is 1-1.dcm in one ROI folder and 1-2.dcm in the other
    assert {Path(mass["mask_path"]).name, Path(calc["mask_path"]).name} == {"1-1.dcm", "1-2.dcm"}
    assert Path(mass["mask_path"]).parent == Path(mass["crop_path"]).parent
    assert data.validate("cbis-ddsm", root).ok


def test_write_cbis_layout_spacing_options_and_bad_arguments(tmp_path):
    mammo.write_cbis_layout(
        tmp_path / "all", n_cases=1, rows=800, render_rows=400, spacing_tag="all"
    )
    row = mammo.load_cases(tmp_path / "all").iloc[0]
    assert mammo.read_spacing(row["image_path"]) == pytest.approx(0.3)
    assert not (tmp_path / "all" / "calc_case_description_train_set.csv").exists()
    with pytest.raises(ValueError, match="n_cases"):
        mammo.write_cbis_layout(tmp_path / "x", n_cases=0)
    with pytest.raises(ValueError, match="spacing_tag"):
        mammo.write_cbis_layout(tmp_path / "x", n_cases=1, spacing_tag="half")
    with pytest.raises(ValueError, match="render_rows"):
        mammo.write_cbis_layout(tmp_path / "x", n_cases=1, rows=500, render_rows=1000)
    assert mammo.read_spacing(tmp_path / "missing.png") is None


def _run(folder: Path, tmp_path: Path) -> str:
    executed = tmp_path / f"05_{folder.name}.ipynb"
    run = run_notebook(
        find_notebook("05_cropping_and_normalisation"),
        executed,
        parameters={"data_dir": str(folder), "output_dir": str(tmp_path / f"out-{folder.name}")},
        cell_timeout=900,
        timeout=1500,
    )
    print(f"{folder.name}: {run.status} in {run.seconds:.0f} s, peak {run.peak_mb:.0f} MiB")
    assert run.status == "ok", f"lesson 05 failed on the {folder.name} folder: {run.error}"
    assert run.peak_mb < BUDGET_MB, (
        f"lesson 05 peaked at {run.peak_mb:.0f} MiB on the {folder.name} folder "
        f"(budget {BUDGET_MB} MiB): something holds several full-size films at once"
    )
    return text_outputs(executed)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson05_on_a_one_case_folder(tmp_path):
    """Fast variant (small films): a folder with a single usable case runs to the end."""
    folder = tmp_path / "one-case"
    mammo.write_cbis_layout(folder, n_cases=1, rows=1200, render_rows=600)
    text = _run(folder, tmp_path)
    assert "1 case(s) surveyed; 0 refused" in text
    assert "assumed: 240 mm film height / rows" in text  # the fallback is said, not silent
    assert re.search(r"^ok\s+1$", text, re.M)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
@pytest.mark.parametrize(("n_cases", "rows"), [(3, 4000), (2, 6000)])
def test_lesson05_on_real_size_folders_in_bounded_memory(tmp_path, n_cases, rows):
    folder = tmp_path / f"cbis-{n_cases}-cases-{rows}-rows"
    mammo.write_cbis_layout(folder, n_cases=n_cases, rows=rows)
    text = _run(folder, tmp_path)
    assert f"{n_cases} case(s) surveyed; 0 refused" in text
    assert "PixelSpacing tag" in text and "assumed: 240 mm film height / rows" in text
    assert re.search(rf"^ok\s+{n_cases}$", text, re.M)
