"""papermill run of every notebook with its default parameters."""

import pytest

from tests.notebook_runs import IDS, NOTEBOOKS, _run_and_check


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_papermill_default_parameters(path, tmp_path):
    _run_and_check(path, tmp_path, {}, "default")
