"""papermill run with the alternative parameters in a notebook's metadata and its own output_dir.

The lessons with a dataset run their alternative parameters in tests/test_integrity.py, with
``data_dir`` pointing at a copy of their dataset (which must stay byte-identical): the student
version in ``make test``, the answered one in ``make test-extended``. Running them here as well
would only repeat that work. Notebooks without a dataset (00) run here, in ``make test-extended``
too (``make test`` runs their student version with the same parameters, tests/test_student.py).
"""

import pytest

from tests.notebook_runs import NOTEBOOKS, _run_and_check, alt_parameters
from tests.test_integrity import LESSONS

WITHOUT_DATASET = [path for path in NOTEBOOKS if path not in LESSONS]


@pytest.mark.extended  # make test runs 00's student version with these parameters
@pytest.mark.notebook
@pytest.mark.parametrize("path", WITHOUT_DATASET, ids=[p.stem for p in WITHOUT_DATASET])
def test_papermill_alternative_parameters(path, tmp_path):
    parameters = alt_parameters(path)
    output_dir = tmp_path / "outputs"
    parameters["output_dir"] = str(output_dir)
    _run_and_check(path, tmp_path, parameters, "alternative")
    assert output_dir.is_dir(), "the notebook did not resolve output_dir"
