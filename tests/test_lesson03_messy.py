"""Lesson 03 runs unchanged on an RSNA-MICCAI-shaped folder with problems the default data lacks.

The folder (built by tests/messy_rsna.py) has a JPEG-LS series no installed
decoder reads, an RLE series, a truncated and a zero-byte file, stray
non-DICOM files, Image-<n> names beyond 9, signed and unsigned series mixed, a
sagittal series, an empty patient folder, a label without a folder and a folder
without a label. The notebook must report these, not fail, and must not touch
the input folder.
"""

from __future__ import annotations

import pytest

from course_utils.build.execution import find_notebook, run_notebook
from tests.messy_rsna import LAYOUT, build_messy_rsna
from tests.notebook_runs import text_outputs, tree_hashes


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson03_reports_the_problems_of_a_messy_folder(tmp_path):
    root = build_messy_rsna(tmp_path / "rsna-messy")
    before = tree_hashes(root)
    output_dir = tmp_path / "outputs"
    executed = tmp_path / "03_messy.ipynb"
    run = run_notebook(
        find_notebook("03_dicom_eda"),
        executed,
        parameters={"data_dir": str(root), "output_dir": str(output_dir), "seed": 1},
    )
    assert run.status == "ok", f"the notebook failed on the messy folder: {run.error}"
    assert tree_hashes(root) == before, "the notebook modified its input folder"
    text = text_outputs(executed)
    # broken and stray files are listed with their problem, not fatal
    assert "truncated" in text and "empty file" in text and "not DICOM" in text
    for relative in [LAYOUT["truncated_file"], LAYOUT["zero_byte_file"], *LAYOUT["stray_files"]]:
        assert relative.removeprefix("train/") in text, relative
    # the JPEG-LS series is scanned from its headers but its pixels are reported as undecodable
    assert "JPEG-LS Lossless Image Compression" in text
    assert "series could not be decoded" in text and " 0 series could not be decoded" not in text
    # labels vs folders, and the empty patient folder, are excluded with reasons
    assert "label row, but no folder" in text and "folder, but no label row" in text
    assert "incomplete series" in text
    # de-identified copy written under output_dir and verified
    assert "0 identifying values found" in text
    assert any((output_dir / "deidentified" / "train").rglob("*.dcm"))
    assert (output_dir / "dicom_headers.csv").is_file()
