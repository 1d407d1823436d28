"""The default-parameter run of every notebook is nbval's execution.

`make test` runs pytest with ``--nbval`` over ``notebooks/``: nbval executes each committed
notebook top to bottom with its default parameters and fails on any error or on any output
that differs from the committed one. A separate papermill run with the same parameters
would repeat that work, so there is none; the time and memory ceilings are applied to the
student and alternative-parameter runs (tests/notebook_runs.py). This test makes sure the
suite keeps nbval on, so the default run cannot silently disappear.
"""

from course_utils import cli


def test_the_suite_executes_every_notebook_under_nbval():
    assert "--nbval" in cli.PYTEST_COMMAND
    assert "notebooks" in cli.PYTEST_COMMAND
    assert "--nbval-lax" not in cli.PYTEST_COMMAND  # lax would skip the output comparison
