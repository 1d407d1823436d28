"""Lesson 03 runs to its end on RSNA-MICCAI-shaped files that lack every optional tag.

The folder (built by tests/stripped_rsna.py from the generated brain-mri-study)
has no identity tags beyond the case id and a placeholder name, no
SeriesDescription, no timing (TR/TE/TI, dates, times) and no spacing
(PixelSpacing, SliceThickness, SpacingBetweenSlices), as a public release
has. It also plants a known-bad id of the real dataset (00109) and one
series under the wrong folder name (00999: its FLAIR folder holds a T2w
series), so the exclusion branch and the sequence cross-check are exercised.
"""

from __future__ import annotations

import re

import pydicom
import pytest

from course_utils.build.execution import find_notebook, run_notebook
from tests.notebook_runs import text_outputs, tree_hashes
from tests.stripped_rsna import KNOWN_BAD, STRIPPED, build_stripped_rsna


def test_stripped_files_lack_the_optional_tags(tmp_path):
    root = build_stripped_rsna(tmp_path / "rsna-stripped", n_patients=2)
    path = next((root / "train" / "00001" / "FLAIR").glob("*.dcm"))
    header = pydicom.dcmread(path, stop_before_pixels=True)
    assert not [keyword for keyword in STRIPPED if keyword in header]
    assert not [element for element in header if element.VR in ("DA", "TM", "DT")]
    assert not [element for element in header if element.tag.is_private]
    assert str(header.PatientID) == "00001" and "ImagePositionPatient" in header
    assert (root / "train" / KNOWN_BAD).is_dir()


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended
def test_lesson03_runs_on_files_without_optional_tags(tmp_path):
    root = build_stripped_rsna(tmp_path / "rsna-stripped")
    before = tree_hashes(root)
    output_dir = tmp_path / "outputs"
    executed = tmp_path / "03_stripped.ipynb"
    run = run_notebook(
        find_notebook("03_dicom_eda"),
        executed,
        parameters={"data_dir": str(root), "output_dir": str(output_dir), "seed": 2},
    )
    assert run.status == "ok", f"the notebook failed on files without optional tags: {run.error}"
    assert tree_hashes(root) == before, "the notebook modified its input folder"
    text = text_outputs(executed)
    # the known-bad exclusion branch runs
    assert re.search(rf"{KNOWN_BAD}\s+known-bad: reported as a problem with", text)
    # all exercise checks pass on this data, too
    assert "❌" not in text
    # the mislabelled series is found; the stripped series are counted as unchecked
    assert "00999   FLAIR" in text
    assert "cannot be checked (no description, no timing)" in text
    assert " 0 cannot be checked" not in text
    # no spacing tags: said, not assumed
    assert "no SliceThickness tag" in text
    assert "series without PixelSpacing (in-plane size unknown: pixels stay pixels): 0" not in text
    # de-identification still verified
    assert "0 identifying values found" in text
