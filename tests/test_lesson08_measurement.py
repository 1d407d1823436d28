"""Lesson 08: the notebook's own measurement chain recovers the true volumes of every generated case.

The functions are taken from the notebook's cells (the hand-written ``segment_lv`` and
``cycle_summary`` from their solution cells), not re-implemented here, so the test checks the code
students read: headers, the stack (orientation, repeats, phase counts), the LV centre, the
segmentation of every slice and phase, Simpson's rule. Accuracy contract (issue 23): EF within
±3 percentage points and EDV within 5 % of ``train.csv`` on every generated case.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from scipy import ndimage
from skimage import measure
from skimage.filters import threshold_otsu

from course_utils import data
from course_utils.exercises import lesson08

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_measurement.ipynb"
FUNCTIONS = [
    "case_folders",
    "series_table",
    "choose_stack",
    "load_cine",
    "heart_threshold",
    "lv_candidates",
    "segment_lv",
    "segment_stack",
    "measure_case",
    "cycle_summary",
    "wall_thickness_map",
]


def _parameters() -> dict:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    namespace: dict = {}
    exec("".join(cell["source"]), namespace)  # noqa: S102 - the notebook's own defaults
    return namespace


def _functions() -> dict:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    namespace = {
        "np": np,
        "pd": pd,
        "pydicom": pydicom,
        "ndimage": ndimage,
        "measure": measure,
        "threshold_otsu": threshold_otsu,
        "Counter": Counter,
        "Path": Path,
        "lesson08": lesson08,
    }
    parameters = _parameters()
    namespace.update(radius_mm=parameters["radius_mm"], max_gap_mm=parameters["max_gap_mm"])
    found = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for node in ast.parse(source.replace("%matplotlib inline", "")).body:
            if isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS:
                found[node.name] = ast.get_source_segment(source, node)
    assert sorted(found) == sorted(FUNCTIONS), (
        f"missing in the notebook: {set(FUNCTIONS) - set(found)}"
    )
    for name in ("segment_lv", "cycle_summary", "wall_thickness_map"):
        assert "# BEGIN SOLUTION" in found[name]
    for name in FUNCTIONS:
        exec(found[name], namespace)  # noqa: S102 - the notebook's own code
    namespace["segment"] = namespace["segment_lv"]
    namespace["summarise"] = namespace["cycle_summary"]
    return namespace


@pytest.fixture(scope="module")
def notebook():
    return _functions()


@pytest.fixture(scope="module")
def root():
    return data.dataset_path("cardiac-cine")


def test_solutions_pass_their_checks(notebook, capsys):
    assert lesson08.check_segment_lv(notebook["segment_lv"])
    assert lesson08.check_cycle_summary(notebook["cycle_summary"])
    assert lesson08.check_wall_thickness(notebook["wall_thickness_map"])
    capsys.readouterr()


def test_every_case_within_the_accuracy_contract(notebook, root):
    reference = pd.read_csv(root / "train.csv", dtype={"Id": str}).set_index("Id")
    cases = notebook["case_folders"](root)
    assert [c.name for c in cases] == sorted(reference.index, key=lambda i: (len(i), i))
    report = []
    for case in cases:
        areas, geometry, _ = notebook["measure_case"](case)
        result = notebook["cycle_summary"](areas, geometry["spacing_mm"])
        true = reference.loc[case.name]
        true_ef = 100 * (1 - true.Systole / true.Diastole)
        edv_error = 100 * (result["edv_ml"] / true.Diastole - 1)
        ef_error = result["ef_percent"] - true_ef
        report.append(f"case {case.name}: EDV {edv_error:+.2f} %, EF {ef_error:+.2f} points")
    print("\n".join(report))
    for line in report:
        edv_error = float(line.split("EDV ")[1].split(" %")[0])
        ef_error = float(line.split("EF ")[1].split(" points")[0])
        assert abs(edv_error) <= 5.0, line
        assert abs(ef_error) <= 3.0, line


def test_the_stack_rules_handle_the_quirks(notebook, root):
    cases = {c.name: c for c in notebook["case_folders"](root)}
    notes = {
        name: notebook["choose_stack"](notebook["series_table"](c))[1] for name, c in cases.items()
    }
    assert notes["1"] == []
    assert any("phases instead of" in n for n in notes["2"])
    assert any("repeated at the same position" in n for n in notes["3"])
    assert any("other orientation" in n for n in notes["4"])
    stack, _ = notebook["choose_stack"](notebook["series_table"](cases["3"]))
    positions = stack["position (mm)"].to_numpy()
    assert np.all(np.diff(positions) > 1.0)  # sorted, no position twice
    truth = np.load(root / "ground_truth" / "labels_3.npz")
    assert sorted(stack.folder) == sorted(str(f) for f in truth["folders"])  # the repeat kept


def test_case_folders_accepts_the_three_dsb_layouts(tmp_path, notebook):
    case_folders = notebook["case_folders"]
    top = tmp_path / "dsb"
    cases = [top / "train" / name for name in ("1", "2", "10")]
    for case in cases:
        (case / "study" / "sax_5").mkdir(parents=True)
    assert case_folders(top) == cases  # the folder holding train/, ids in numeric order
    assert case_folders(top / "train") == cases  # train/ itself
    assert case_folders(cases[2]) == [cases[2]]  # one case
    with pytest.raises(FileNotFoundError, match="study"):
        case_folders(tmp_path / "empty")
