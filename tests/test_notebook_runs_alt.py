"""papermill run of every notebook with the alternative parameters in its metadata and its own output_dir."""

import pytest

from tests.notebook_runs import IDS, NOTEBOOKS, _run_and_check, alt_parameters


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_papermill_alternative_parameters(path, tmp_path):
    parameters = alt_parameters(path)
    output_dir = tmp_path / "outputs"
    parameters["output_dir"] = str(output_dir)
    _run_and_check(path, tmp_path, parameters, "alternative")
    assert output_dir.is_dir(), "the notebook did not resolve output_dir"
