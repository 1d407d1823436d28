"""The command line and the notebook runner, as a newcomer meets them."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from course_utils import cli
from course_utils.build.execution import NotebookRun, first_error, format_table, refresh_notebook


def _write_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("data_dir = None\nvalue = 1")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters] + [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def _course(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "course_utils", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.mark.slow
def test_run_reports_table_and_parameters(tmp_path):
    notebook = _write_notebook(tmp_path / "10_ok.ipynb", ["print('value is', value)"])
    result = _course("run", str(notebook), "-p", "value", "7", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "status" in result.stdout and "peak MB" in result.stdout and "10_ok" in result.stdout
    executed = json.loads((tmp_path / "out" / "10_ok.ipynb").read_text())
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert any("value is 7" in "".join(o.get("text", "")) for o in outputs)


@pytest.mark.slow
def test_a_deliberate_error_fails_the_run_naming_cell_and_error(tmp_path):
    notebook = _write_notebook(
        tmp_path / "11_broken.ipynb", ["x = 1", "raise RuntimeError('deliberate failure')"]
    )
    result = _course("run", str(notebook), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert "RuntimeError: deliberate failure" in result.stdout
    assert "raise RuntimeError" in result.stdout  # the failing cell is named by its first line


@pytest.mark.slow
def test_refresh_keeps_the_notebook_when_a_cell_fails(tmp_path):
    notebook = _write_notebook(tmp_path / "12_broken.ipynb", ["1/0"])
    before = notebook.read_bytes()
    run = refresh_notebook(notebook)
    assert run.status == "FAILED"
    assert "ZeroDivisionError" in run.error
    assert notebook.read_bytes() == before


def test_first_error_skips_declared_errors(tmp_path):
    nb = nbformat.v4.new_notebook()
    declared = nbformat.v4.new_code_cell("raise ValueError('ok')")
    declared.metadata["tags"] = ["raises-exception"]
    declared.outputs = [
        nbformat.v4.new_output("error", ename="ValueError", evalue="ok", traceback=[])
    ]
    real = nbformat.v4.new_code_cell("1/0")
    real.outputs = [
        nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[]
        )
    ]
    nb.cells = [declared, real]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert first_error(path).startswith("code cell 2 ('1/0'): ZeroDivisionError")


def test_format_table_has_totals():
    text = format_table(
        [NotebookRun("01_a", "ok", 2.0, 300.0), NotebookRun("02_b", "FAILED", 3.0, 500.0)]
    )
    assert "01_a" in text and "FAILED" in text
    assert text.splitlines()[-1].split()[:3] == ["total", "5.0", "500"]


def test_unknown_notebook_is_a_usage_error(capsys):
    assert cli.main(["run", "99_does_not_exist"]) == 2
    assert "no notebook matches '99_does_not_exist'" in capsys.readouterr().err


def test_data_validate_usage_errors(tmp_path, capsys):
    assert cli.main(["data", "validate", "no-such-dataset", str(tmp_path)]) == 2
    assert "no validator for 'no-such-dataset'" in capsys.readouterr().err
    assert cli.main(["data", "validate", "rsna-miccai", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_data_list(capsys):
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "pydicom-data" in out and "package-sample" in out


def test_parameter_values_are_yaml():
    assert cli._parse_value("3") == 3
    assert cli._parse_value("null") is None
    assert cli._parse_value("[1, 2]") == [1, 2]
    assert cli._parse_value("tcp://host:8786") == "tcp://host:8786"


def test_make_targets_are_the_python_only_commands():
    """`make course` / `make test` call `python -m course_utils course|test`, so students
    without make (Windows) run exactly what the Makefile and CI run."""
    from course_utils import cli
    from course_utils.data import COURSE_ROOT

    makefile = (COURSE_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(PY) -m course_utils course" in makefile
    assert "$(PY) -m course_utils test $(PYTEST_ARGS)" in makefile
    parser = cli.build_parser()
    assert parser.parse_args(["course"]).func is cli._cmd_course
    args, extra = parser.parse_known_args(["test", "-k", "layout"])
    assert args.func is cli._cmd_test and extra == ["-k", "layout"]
    assert "--nbval" in cli.PYTEST_COMMAND and "--ignore=tests/browser" in cli.PYTEST_COMMAND


def test_extended_tests_run_in_ci_not_in_make_test():
    """Tests marked ``extended`` (over make test's time budget) are deselected by make test,
    selected by make test-extended, and CI runs both."""
    from course_utils import cli
    from course_utils.data import COURSE_ROOT

    command = cli.PYTEST_COMMAND
    assert command[command.index("not extended") - 1] == "-m"
    makefile = (COURSE_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "test-extended: $(STAMP)" in makefile and "-m extended" in makefile
    ci = (COURSE_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test && make test-extended" in ci and "\n  make test-extended\n" in ci


def test_python_only_test_command_prints_what_it_does_and_runs_pytest(monkeypatch, capsys):
    from course_utils import cli

    calls = []
    monkeypatch.setattr(cli, "_build_data", lambda: 0)
    monkeypatch.setattr("subprocess.call", lambda command, cwd: calls.append(command) or 0)
    assert cli.main(["test", "-x"]) == 0
    out = capsys.readouterr().out
    assert "whole test suite" in out and "minutes on 2 cores" in out
    assert calls and calls[0][1:3] == ["-m", "pytest"] and calls[0][-1] == "-x"


def test_run_executes_two_notebooks_at_a_time_and_reports_in_course_order(
    tmp_path, monkeypatch, capsys
):
    """`make course` runs notebooks side by side (one per core); the table keeps course order."""
    import threading
    import time as time_module

    from course_utils.build import execution

    running, most = [0], [0]
    lock = threading.Lock()

    def fake_run(notebook, output, *, parameters=None):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time_module.sleep(0.3 if notebook.stem.startswith("00") else 0.05)  # 00 finishes last
        with lock:
            running[0] -= 1
        return NotebookRun(notebook.stem, "ok", 1.0, 10.0, output=output)

    monkeypatch.setattr(execution, "run_notebook", fake_run)
    names = ["00", "01", "02", "03"]
    assert cli.main(["run", *names, "--out", str(tmp_path), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert most[0] == 2, "two notebooks must run at the same time"
    table = out[out.index("notebook  ") :]
    order = [line.split()[0][:2] for line in table.splitlines()[2:6]]
    assert order == names, f"the report must list notebooks in course order, got {order}"
    assert "wall time" in out and "2 at a time" in out
    most[0] = 0
    assert cli.main(["run", "00", "01", "--out", str(tmp_path), "--jobs", "1"]) == 0
    assert most[0] == 1 and "1 at a time" in capsys.readouterr().out
    assert cli.default_jobs() in (1, 2)
