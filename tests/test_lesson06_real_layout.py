"""Lesson 06 on folders laid out like a real CBIS-DDSM download (issue 21, "Done when").

``mammo.write_cbis_layout`` writes what the NBIA Data Retriever gives: 16-bit DICOM films, most
without PixelSpacing, descriptive folder names, ROI paths ending with a newline and the ROI mask
as ``1-1.dcm`` or ``1-2.dcm``. With ``spacing_tag="some"`` the mass films carry no spacing and the
calcification films do; lesson 06 takes the mass films, so one of them is given a PixelSpacing
here to make the films it reads a mix. The notebook must then put every film on ONE grid (rows,
since not all have a spacing) and say so; with a spacing in every film it must use the millimetre
grid. Only two usable cases: the class labels, folds and window sizes must cope. The folders are
built in ``tmp_path`` (never committed).
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from course_utils.build.execution import find_notebook, run_notebook
from course_utils.datasets import mammo
from tests.notebook_runs import text_outputs


def _run(folder: Path, tmp_path: Path) -> str:
    executed = tmp_path / f"06_{folder.name}.ipynb"
    run = run_notebook(
        find_notebook("06_augmentation"),
        executed,
        parameters={"data_dir": str(folder), "output_dir": str(tmp_path / f"out-{folder.name}")},
        cell_timeout=900,
        timeout=1500,
    )
    print(f"{folder.name}: {run.status} in {run.seconds:.0f} s, peak {run.peak_mb:.0f} MiB")
    assert run.status == "ok", f"lesson 06 failed on the {folder.name} folder: {run.error}"
    return text_outputs(executed)


def _mass_image_paths(folder: Path) -> list[Path]:
    cases = mammo.load_cases(folder)
    return [Path(p) for p in cases.loc[cases["abnormality type"] == "mass", "image_path"]]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson06_on_a_cbis_layout_folder_with_mixed_spacing(tmp_path):
    folder = tmp_path / "cbis-some"
    mammo.write_cbis_layout(folder, n_cases=4, rows=1200, render_rows=600, spacing_tag="some")
    masses = _mass_image_paths(folder)
    assert len(masses) == 2 and all(mammo.read_spacing(p) is None for p in masses)
    header = pydicom.dcmread(masses[0])  # one mass film with a spacing: the films read are mixed
    header.PixelSpacing = [0.2, 0.2]
    header.save_as(masses[0])
    assert mammo.read_spacing(masses[0]) == pytest.approx(0.2)
    text = _run(folder, tmp_path)
    assert "1 of 2 films read carry a pixel spacing: one grid for all, 256 rows per image" in text
    assert "using 2 image + mask pairs" in text
    assert "not every film read has a pixel spacing" in text


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson06_on_a_cbis_layout_folder_where_every_film_has_a_spacing(tmp_path):
    folder = tmp_path / "cbis-all"
    mammo.write_cbis_layout(folder, n_cases=4, rows=1200, render_rows=600, spacing_tag="all")
    assert all(mammo.read_spacing(p) is not None for p in _mass_image_paths(folder))
    text = _run(folder, tmp_path)
    assert "2 of 2 films read carry a pixel spacing: one grid for all, 0.8 mm per pixel" in text
    assert "using 2 image + mask pairs" in text
