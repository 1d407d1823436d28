"""Lesson 01 with ``data_dir`` on folders of the kinds a practitioner has (issue 29).

JPEG-baseline YBR_FULL_422 secondary captures, RGB and multi-frame ultrasound with burned-in
annotation, a 12-bit DX without RescaleSlope (junk in its unused high bits), files without
Modality, MONOCHROME1 with and without a VOI LUT, and files the lesson cannot use (no pixels,
no decoder, palette colour, a segmentation, a dose grid, a truncated file, no preamble). Each
is used correctly or skipped with a printed reason, and the lesson reaches its end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.build.execution import NOTEBOOK_DIR, run_notebook
from tests import real_kinds
from tests.conftest import record_notebook_run
from tests.notebook_runs import alt_parameters, check_ceilings, text_outputs, tree_hashes

LESSON = NOTEBOOK_DIR / "01_intensities_and_histograms.ipynb"


def _run(folder: Path, tmp_path: Path, kind: str) -> str:
    before = tree_hashes(folder)
    parameters = {
        **alt_parameters(LESSON),
        "data_dir": str(folder),
        "output_dir": str(tmp_path / "out"),
    }
    executed = tmp_path / f"{LESSON.stem}-{kind}.ipynb"
    run = run_notebook(LESSON, executed, parameters=parameters, cell_timeout=240)
    record_notebook_run(kind, run)
    assert run.status == "ok", f"lesson 01 on the {kind} folder failed: {run.error}"
    check_ceilings(LESSON, run, kind)
    assert tree_hashes(folder) == before, "the lesson modified its data_dir"
    text = text_outputs(executed)
    assert "Traceback" not in text and "Warning" not in text
    assert str(folder) not in text, "absolute paths of the user's folder in the outputs"
    return text


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson01_on_a_folder_of_every_kind(tmp_path):
    folder = real_kinds.build_mixed_folder(tmp_path / "mixed")
    text = _run(folder, tmp_path, "data_dir: mixed kinds")
    expected = [
        "CT_no_Modality.dcm (no Modality, MONOCHROME2, 16 of 16 bits): used as CT in Hounsfield units",
        "CR_MONOCHROME1_VOI_LUT.dcm (CR, MONOCHROME1, 10 of 16 bits): used as high-bit grey radiograph",
        "RG3_MONOCHROME1_window.dcm (CR, MONOCHROME1, 10 of 16 bits): used as second MONOCHROME1 image",
        "SC_ybr_full_422_jpeg_baseline.dcm (OT, colour YBR_FULL_422, 8 of 8 bits): used as 8-bit picture",
        "file VOI LUT (sigmoid, centre 550), inverted (MONOCHROME1)",  # the VOI LUT drives the display
        "eCT_perfusion_map.dcm (CT, MONOCHROME2, 16 of 16 bits, 2 frames): not used: an enhanced CT",
        "skipped: no pixel data (Basic Text SR Storage)",
        "skipped: 1-bit pixels",
        "skipped: PALETTE COLOR",
        "skipped: compressed as JPEG-LS Lossless Image Compression; no decoder installed",
        "skipped: an RT dose grid",
        "skipped: no DICOM preamble",
        "helper: units HU",  # a CT without Modality still gets HU
        "✅ stored -> modality values: correct.",
        "No lossy copy of the CT in data_dir",
        "No MR with a rescale slope in data_dir",
        "lung box: ",  # placed from the data, whatever the folder holds
        "✅ window function: correct.",
        "✅ Gaussian of a FWHM in mm: correct.",
        "['head_mask.png', 'measurements.csv', 'radiograph_clahe.png']",  # the last cell ran
    ]
    missing = [line for line in expected if line not in text]
    assert not missing, f"not in the lesson's output: {missing}"
    for name in real_kinds.COPIES:  # every file in the folder is accounted for
        assert f"  {name} (" in text, f"{name} is not in the printed table"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson01_on_a_folder_without_ct_or_monochrome1(tmp_path):
    folder = real_kinds.build_no_ct_folder(tmp_path / "no_ct")
    text = _run(folder, tmp_path, "data_dir: no CT")
    expected = [
        "DX_12bit_no_rescale.dcm (DX, MONOCHROME2, 12 of 16 bits): used as high-bit grey radiograph",
        "US_multiframe_ybr_full_422_jpeg.dcm (US, colour YBR_FULL_422, 8 of 8 bits, 120 frames): "
        "used as 8-bit picture (first frame only; colour, converted to grey",
        "US, YBR_FULL_422, 120 frame(s), BurnedInAnnotation not stated",
        "shape (480, 640), dtype uint8",  # one frame, converted to grey
        "8000 pixels have bits set above bit 11",  # the junk overlay bits are seen ...
        "pixel_array equals the masked raw words: True",  # ... and masked
        "file window 2048/4096",  # MONOCHROME2: not inverted
        "No CT in HU in data_dir: the Hounsfield-unit parts of the lesson are skipped.",
        "Exercise 2 needs a CT in HU; none in data_dir, so it is skipped.",
        "Only one MONOCHROME1 image in data_dir (or none)",
        "lung box: ",
        "✅ Gaussian of a FWHM in mm: correct.",
        "['head_mask.png', 'measurements.csv', 'radiograph_clahe.png']",
    ]
    missing = [line for line in expected if line not in text]
    assert not missing, f"not in the lesson's output: {missing}"
    assert "file window 2048/4096, inverted" not in text


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson01_on_a_folder_of_monochrome1_cr_without_ct(tmp_path):
    """Exercise 4's fallback: on MONOCHROME1 the body is stored low; a correct body mask passes."""
    folder = real_kinds.build_no_ct_cr_folder(tmp_path / "no_ct_cr")
    text = _run(folder, tmp_path, "data_dir: MONOCHROME1 CR, no CT")
    expected = [
        "CR_chest_MONOCHROME1.dcm (CR, MONOCHROME1",
        "No CT in HU in data_dir: the Hounsfield-unit parts of the lesson are skipped.",
        "✅ region mask: correct.",
        "✅ area: correct.",
    ]
    missing = [line for line in expected if line not in text]
    assert not missing, f"not in the lesson's output: {missing}"
