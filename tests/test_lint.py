"""ruff is clean on the package, the tests, the benchmarks and the notebooks."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGETS = [p for p in ("course_utils", "tests", "benchmarks", "notebooks") if (ROOT / p).exists()]


def _ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed",
)
def test_ruff_check():
    result = _ruff("check", *TARGETS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    targets = [t for t in TARGETS if t != "notebooks"]
    result = _ruff("format", "--check", *targets)
    assert result.returncode == 0, "run `ruff format` on: " + result.stdout
