"""Lesson 02 with ``data_dir`` set to the kinds of input a student may have.

One sagittal MR series without InstanceNumber and with a DICOMDIR beside it, an oblique
series, a NIfTI file, a degenerate series whose slices share one position, and a folder
holding only an Enhanced (multi-frame) file (both must stop with a message naming the problem). Each case runs the whole notebook with papermill.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from course_utils import data, nifti
from course_utils.build.execution import run_notebook
from tests.notebook_runs import CELL_TIMEOUT, check_ceilings, text_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_volumes_and_sampling.ipynb"

pytestmark = [pytest.mark.notebook, pytest.mark.extended]


def _normal(folder: Path) -> np.ndarray:
    first = sorted(folder.glob("*.dcm"))[0]
    iop = np.array(pydicom.dcmread(first, stop_before_pixels=True).ImageOrientationPatient, float)
    return np.cross(iop[:3], iop[3:])


def _study_series(predicate) -> Path:
    study = data.dataset_path("brain-mri-study")
    for folder in sorted(p for p in (study / "train").glob("*/*") if p.is_dir()):
        files = sorted(folder.glob("*.dcm"))
        if len(files) < 8:
            continue
        try:
            normal = _normal(folder)
            if predicate(normal):
                return folder
        except Exception:  # a deliberately broken case of the study
            continue
    pytest.skip("the brain-mri-study has no series of this orientation")


def _run(tmp_path: Path, data_dir: Path, kind: str):
    output = tmp_path / f"02-{kind}.ipynb"
    parameters = {"data_dir": str(data_dir), "output_dir": str(tmp_path / "outputs")}
    run = run_notebook(NOTEBOOK, output, parameters=parameters, cell_timeout=CELL_TIMEOUT)
    return run, output


def test_sagittal_series_without_instance_number_and_with_a_dicomdir(tmp_path):
    source = _study_series(lambda n: abs(n[0]) > 0.99)
    folder = tmp_path / "sagittal"
    folder.mkdir()
    for path in sorted(source.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        del ds.InstanceNumber
        ds.save_as(folder / path.name)
    shutil.copy(data.sample_path("CT5N").parents[1] / "DICOMDIR", folder / "DICOMDIR")
    run, output = _run(tmp_path, folder, "sagittal")
    assert run.status == "ok", run.error
    check_ceilings(NOTEBOOK, run, "sagittal data_dir")
    text = text_outputs(output)
    assert "-> sagittal images" in text
    assert "DICOMDIR (no slice geometry" in text
    assert "the rows do not move along y" in text
    # plane names come from the affine: a sagittal series' rows run down the head
    assert "volume[k] sagittal, volume[:, i, :] axial, volume[:, :, j] coronal" in text
    assert "z does not order a sagittal series" in text


def test_coronal_series(tmp_path):
    source = _study_series(lambda n: abs(n[1]) > 0.99)
    run, output = _run(tmp_path, source, "coronal")
    assert run.status == "ok", run.error
    text = text_outputs(output)
    assert "-> coronal images" in text
    assert "volume[k] coronal" in text


def test_oblique_series(tmp_path):
    source = _study_series(lambda n: np.max(np.abs(n)) < 0.999)
    run, output = _run(tmp_path, source, "oblique")
    assert run.status == "ok", run.error
    assert "distance between neighbouring slices" in text_outputs(output)


def test_nifti_file(tmp_path):
    path = tmp_path / "template.nii.gz"
    shutil.copy(nifti.mni152_path("gm"), path)
    run, output = _run(tmp_path, path, "nifti")
    assert run.status == "ok", run.error
    text = text_outputs(output)
    assert "NIfTI file given: template.nii.gz" in text
    assert "axis codes (where +i', +j', +k' point): ('R', 'A', 'S')" in text


def test_degenerate_series_stops_with_a_clear_message(tmp_path):
    folder = tmp_path / "degenerate"
    folder.mkdir()
    files = sorted(data.dataset_path("ct-phantom").glob("*.dcm"))[:6]
    first_ipp = pydicom.dcmread(files[0], stop_before_pixels=True).ImagePositionPatient
    for path in files:
        ds = pydicom.dcmread(path)
        ds.ImagePositionPatient = first_ipp
        ds.save_as(folder / path.name)
    run, output = _run(tmp_path, folder, "degenerate")
    assert run.status != "ok"
    assert "same position" in (run.error or "")
    assert "DEGENERATE: every slice lies at the same position" in text_outputs(output)


def test_enhanced_multi_frame_file_stops_with_a_clear_message(tmp_path):
    folder = tmp_path / "enhanced"
    folder.mkdir()
    shutil.copy(data.sample_path("eCT_Supplemental.dcm"), folder / "eCT_Supplemental.dcm")
    run, output = _run(tmp_path, folder, "enhanced")
    assert run.status != "ok"
    error = run.error or ""
    assert "KeyError" not in error
    assert "multi-frame (Enhanced) DICOM file eCT_Supplemental.dcm" in error
    assert "series.load_series(path)" in error
