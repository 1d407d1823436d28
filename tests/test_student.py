"""The student version: stubs instead of answers, nothing revealed, and it still runs top to bottom."""

from __future__ import annotations

import json

import nbformat
import pytest

from course_utils.build.execution import discover_notebooks, run_notebook
from course_utils.build.student import (
    SolutionMarkerError,
    build_student_notebook,
    build_student_version,
    solution_blocks,
    stub_source,
)
from tests.conftest import record_notebook_run
from tests.notebook_runs import alt_parameters, check_ceilings
from tests.test_integrity import LESSONS, _student_feedback_shown

NOTEBOOKS = discover_notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def _solution_cells(nb):
    return [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]


def test_stub_keeps_starter_code_and_indentation():
    source = "def f(x):\n    y = 1\n    # BEGIN SOLUTION\n    return x + y\n    # END SOLUTION\n"
    stub = stub_source(source)
    assert stub.startswith(
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError("
    )
    assert "return x + y" not in stub


def test_missing_markers_are_refused():
    with pytest.raises(SolutionMarkerError, match="matching '# BEGIN SOLUTION'"):
        stub_source("x = 1\n", where="cell 3")
    with pytest.raises(SolutionMarkerError, match="found 1 and 0"):
        stub_source("# BEGIN SOLUTION\nx = 1\n")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_notebook_reveals_no_solution(path):
    original = nbformat.read(path, as_version=4)
    student = build_student_notebook(original)
    other_text = "\n".join(
        c.source for c in original.cells if "solution" not in c.metadata.get("tags", [])
    )
    student_text = json.dumps(student, ensure_ascii=False)
    student_sources = "\n".join(c.source for c in student.cells)
    for cell in _solution_cells(original):
        for block in solution_blocks(cell.source):
            assert block.strip() not in student_sources
            for line in block.splitlines():
                line = line.strip()
                # lines that also appear in ordinary cells (e.g. a plot call) are not secrets
                if len(line) > 12 and line not in other_text:
                    assert line not in student_text, (
                        f"{path.name}: solution line survives: {line!r}"
                    )
    stubs = [c for c in student.cells if "exercise" in c.metadata.get("tags", [])]
    assert len(stubs) == len(_solution_cells(original))
    for cell in stubs:
        assert "# YOUR CODE HERE" in cell.source and "raise NotImplementedError" in cell.source
        assert "raises-exception" in cell.metadata["tags"]
        assert cell.outputs == [] and cell.execution_count is None
    kept = [
        (c.source, c.get("outputs"))
        for c in original.cells
        if "solution" not in c.metadata.get("tags", [])
    ]
    kept_student = [
        (c.source, c.get("outputs"))
        for c in student.cells
        if "exercise" not in c.metadata.get("tags", [])
    ]
    assert kept == kept_student, "cells other than solutions must stay as they are"


# The lessons with a dataset run their student version on a copy of their input in
# tests/test_integrity.py (one run proves both); the notebooks without one run here.
WITHOUT_DATASET = [path for path in NOTEBOOKS if path not in LESSONS]


@pytest.mark.notebook
@pytest.mark.parametrize("path", WITHOUT_DATASET, ids=[p.stem for p in WITHOUT_DATASET])
def test_student_notebook_runs_and_checks_give_feedback(path, tmp_path):
    (student_path,) = build_student_version([path], tmp_path / "student")
    # The smaller alternative parameters: what this test proves (the stubs run top to bottom and
    # the checks give feedback) does not depend on the sizes, and nbval already runs the defaults.
    run = run_notebook(
        student_path,
        tmp_path / "executed" / path.name,
        parameters={**alt_parameters(path), "output_dir": str(tmp_path / "out")},
        allow_declared_errors=True,
    )
    record_notebook_run("student", run)
    assert run.status == "ok", (
        f"student version of {path.name} does not run top to bottom: {run.error}"
    )
    check_ceilings(path, run, "student")
    assert _student_feedback_shown(run.output), (
        "the checks should tell the student the exercises are not done yet"
    )
