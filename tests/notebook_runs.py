"""Helpers shared by the tests that run notebooks: running with ceilings, hashing inputs, reading outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from course_utils.build.execution import discover_notebooks, run_notebook
from tests.conftest import record_notebook_run

NOTEBOOKS = discover_notebooks()
IDS = [p.stem for p in NOTEBOOKS]

# Generous ceilings that catch runaways; speed itself is reported, not tested. A lesson takes
# 15-45 s here; on a loaded or slow 2-core laptop the same run was measured at 250-265 s, so
# the ceiling leaves room for that (a runaway loop still hits it).
MAX_SECONDS = 600
MAX_PEAK_MB = 4000
CELL_TIMEOUT = 240


def _log_text(output: Path) -> str:
    log = output.with_suffix(".log")
    return log.read_text(errors="replace") if log.exists() else ""


def alt_parameters(path: Path) -> dict:
    return dict(
        json.loads(path.read_text(encoding="utf-8"))["metadata"]["course"]["alt_parameters"]
    )


def _run_and_check(path: Path, tmp_path: Path, parameters: dict, kind: str):
    output = tmp_path / f"{path.stem}-{kind}.ipynb"
    run = run_notebook(path, output, parameters=parameters, cell_timeout=CELL_TIMEOUT)
    if run.status == "FAILED" and "CellTimeoutError" in (run.error or "") + _log_text(output):
        # A kernel that stops answering under heavy load is reported, then retried once.
        print(f"{path.name} ({kind}): a cell timed out after {CELL_TIMEOUT} s; retrying once")
        run = run_notebook(path, output, parameters=parameters, cell_timeout=CELL_TIMEOUT)
    record_notebook_run(kind, run)
    assert run.status == "ok", f"{path.name} ({kind}) failed: {run.error}"
    check_ceilings(path, run, kind)
    return run


def check_ceilings(path: Path, run, kind: str) -> None:
    """The runaway ceilings every notebook run must stay under (time and memory)."""
    assert run.seconds < MAX_SECONDS, (
        f"{path.name} ({kind}) took {run.seconds:.0f} s (ceiling {MAX_SECONDS} s)"
    )
    assert run.peak_mb < MAX_PEAK_MB, (
        f"{path.name} ({kind}) peaked at {run.peak_mb:.0f} MB (ceiling {MAX_PEAK_MB} MB)"
    )


def tree_hashes(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (hidden ones included) below ``folder``."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def text_outputs(notebook_path: Path) -> str:
    """All text an executed notebook printed (streams, text/plain results, error names)."""
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    chunks = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                chunks.append(f"ERROR {output.get('ename')}: {output.get('evalue')}")
            text = output.get("text", "")
            chunks.append(text if isinstance(text, str) else "".join(text))
            plain = output.get("data", {}).get("text/plain", "")
            chunks.append(plain if isinstance(plain, str) else "".join(plain))
    return "\n".join(chunks)
