"""Every lesson notebook: the contract (structure), papermill runs, and resource ceilings.

Notebooks are discovered from ``notebooks/NN_name.ipynb``, so a new lesson is
covered the moment it lands. nbval (re-execution reproduces the committed
text outputs) runs on the same notebooks via ``--nbval`` (see pyproject.toml).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils.build.execution import discover_notebooks

NOTEBOOKS = discover_notebooks()
IDS = [p.stem for p in NOTEBOOKS]
LESSONS = [p for p in NOTEBOOKS if not p.name.startswith("00_")]

ABSOLUTE_PATH = re.compile(r"(/work/|/root/|/home/\w+/|/tmp/|/Users/\w+/|[A-Z]:\\\\Users)")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell) -> str:
    return "".join(cell.get("source", ""))


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _markdown(nb) -> str:
    return "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown").lower()


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    assert NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
class TestContract:
    """Structural checks of the notebook contract (COURSE_SPEC §5, CONTRIBUTING.md)."""

    def test_kernel_and_metadata(self, path):
        nb = _load(path)
        assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
        course = nb["metadata"].get("course")
        assert isinstance(course, dict), (
            "metadata.course (lesson, estimated_minutes, alt_parameters) missing"
        )
        assert isinstance(course.get("alt_parameters"), dict) and course["alt_parameters"], (
            "no alt_parameters"
        )
        assert course.get("estimated_minutes"), "no estimated_minutes"

    def test_parameters_cell(self, path):
        nb = _load(path)
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        tagged = [c for c in code if "parameters" in _tags(c)]
        assert len(tagged) == 1, "exactly one code cell must be tagged 'parameters'"
        assert code[0] is tagged[0], "the parameters cell must be the first code cell"
        source = _source(tagged[0])
        for name in ("data_dir", "output_dir", "seed"):
            assert re.search(rf"^{name}\s*=", source, re.M), f"parameters cell lacks {name}"
        assert re.search(r"^data_dir\s*=\s*None", source, re.M), "data_dir must default to None"
        alt = _load(path)["metadata"]["course"]["alt_parameters"]
        declared = set(re.findall(r"^(\w+)\s*=", source, re.M))
        assert set(alt) <= declared, (
            f"alt_parameters {sorted(set(alt) - declared)} are not parameters"
        )

    def test_sections(self, path):
        nb = _load(path)
        text = _markdown(nb)
        first = _source(nb["cells"][0])
        assert first.startswith("# "), (
            "the first cell must be the title (a level-1 markdown heading)"
        )
        assert "learning objectives" in text
        assert "prerequisites" in text
        assert re.search(r"key points|summary", text)
        assert "what's next" in text or "what next" in text or "next steps" in text
        if path in LESSONS:
            assert "pitfall" in text, "lessons need a Pitfalls section"
            assert "what to notice" in text, "key figures need a 'What to notice' line"

    def test_exercises(self, path):
        nb = _load(path)
        solutions = [c for c in nb["cells"] if "solution" in _tags(c)]
        minimum = 3 if path in LESSONS else 1
        assert len(solutions) >= minimum, f"{len(solutions)} solution cells; need >= {minimum}"
        for cell in solutions:
            source = _source(cell)
            assert "# BEGIN SOLUTION" in source and "# END SOLUTION" in source, (
                f"solution cell without BEGIN/END SOLUTION markers: {source[:80]!r}"
            )
        sources = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "code")
        assert (
            "course_utils.exercises" in sources
            or "from course_utils import exercises" in sources
            or "exercises." in sources
        )

    def test_runs_under_plain_papermill(self, path):
        """Practitioners run lessons with papermill, which stops at any error, declared or not."""
        nb = _load(path)
        declared = [i for i, c in enumerate(nb["cells"]) if "raises-exception" in _tags(c)]
        assert not declared, (
            f"cells {declared} are tagged raises-exception; papermill would stop there. "
            "Show an error by catching it and printing its message instead."
        )

    def test_widget(self, path):
        nb = _load(path)
        widget_cells = [
            c
            for c in nb["cells"]
            if c["cell_type"] == "code"
            and (
                "ipywidgets" in _source(c)
                or "interact" in _source(c)
                or "slice_browser" in _source(c)
            )
        ]
        assert widget_cells, "at least one ipywidgets widget (with a static fallback figure)"
        for cell in widget_cells:
            if "interact" in _source(cell) or "display(" in _source(cell):
                assert "nbval-ignore-output" in _tags(cell), (
                    "widget cells must be tagged nbval-ignore-output"
                )

    def test_committed_outputs_are_from_a_real_execution(self, path):
        nb = _load(path)
        code = [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]
        counts = [c.get("execution_count") for c in code]
        assert None not in counts, (
            f"{counts.count(None)} code cells were never executed; run make refresh"
        )
        assert counts == list(range(1, len(counts) + 1)), (
            "execution counts are not 1..N in order: re-run top to bottom (make refresh)"
        )
        images = sum(
            1 for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})
        )
        if path in LESSONS:
            assert images >= 3, f"only {images} figures in the stored outputs"

    def test_no_errors_warnings_or_local_paths_in_outputs(self, path):
        nb = _load(path)
        for index, cell in enumerate(nb["cells"]):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    assert "raises-exception" in _tags(cell), (
                        f"cell {index} stores an error: {output.get('ename')}: {output.get('evalue')}"
                    )
                text = (
                    output.get("text", "")
                    if isinstance(output.get("text", ""), str)
                    else "".join(output["text"])
                )
                text += "".join(output.get("data", {}).get("text/plain", ""))
                assert not ABSOLUTE_PATH.search(text), (
                    f"cell {index} output shows a local absolute path: {ABSOLUTE_PATH.search(text).group(0)}"
                )
                if output.get("name") == "stderr":
                    assert "Warning" not in text, f"cell {index} prints a warning: {text[:200]}"
