"""Execute the course notebooks: papermill runs with a report, and in-place refreshes.

Used by ``python -m course_utils run`` / ``make course`` (execute into
``build/executed/``, render HTML, print a table of status, seconds and peak
memory) and by ``python -m course_utils refresh`` / ``make refresh``
(re-execute the committed notebooks in place with default parameters so
their stored outputs match the code).

Each notebook runs in its own child process; its peak memory is the largest
resident memory of that process tree (papermill and the Jupyter kernel),
sampled while it runs.

Example
-------
>>> from course_utils.build.execution import discover_notebooks
>>> [p.name for p in discover_notebooks()][:1]   # doctest: +SKIP
['00_start_here.ipynb']
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from course_utils.data import COURSE_ROOT

__all__ = [
    "NotebookRun",
    "discover_notebooks",
    "find_notebook",
    "first_error",
    "format_table",
    "refresh_notebook",
    "render_html",
    "run_notebook",
]

NOTEBOOK_DIR = COURSE_ROOT / "notebooks"
_NAME_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")


def discover_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """The course notebooks (``NN_name.ipynb``) in teaching order.

    Example
    -------
    >>> len(discover_notebooks()) >= 1   # doctest: +SKIP
    True
    """
    folder = Path(folder) if folder is not None else NOTEBOOK_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"notebook folder {folder} does not exist")
    return sorted(p for p in folder.glob("*.ipynb") if _NAME_PATTERN.match(p.name))


def find_notebook(name: str) -> Path:
    """Resolve ``"03"``, ``"03_dicom_eda"``, a file name or a path to a notebook.

    Raises
    ------
    FileNotFoundError
        If nothing matches; the message lists the notebooks.
    """
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.is_file():
        return candidate.resolve()
    notebooks = discover_notebooks()
    for path in notebooks:
        if path.name == name or path.stem == name or path.name.split("_", 1)[0] == name:
            return path
    raise FileNotFoundError(
        f"no notebook matches {name!r}; available: {', '.join(p.stem for p in notebooks)}"
    )


@dataclass
class NotebookRun:
    """Outcome of one notebook execution."""

    name: str
    status: str
    seconds: float
    peak_mb: float
    output: Path | None = None
    error: str | None = None


def first_error(notebook_path: str | os.PathLike) -> str | None:
    """Describe the first error output in an executed notebook (cell number, error, message)."""
    with open(notebook_path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    code_index = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        code_index += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                if "raises-exception" in cell.get("metadata", {}).get("tags", []):
                    continue
                source = "".join(cell.get("source", "")).strip().splitlines()
                first_line = source[0] if source else ""
                return (
                    f"code cell {code_index} ({first_line[:60]!r}): "
                    f"{output.get('ename')}: {output.get('evalue', '')[:300]}"
                )
    return None


def _child_environment() -> dict:
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    env.setdefault("COURSE_PROGRESS", "0")
    env.setdefault("PYTHONHASHSEED", "0")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def _tree_rss_bytes(root) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    import psutil

    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def _wait_with_rusage(
    process: subprocess.Popen, timeout: float, interval: float = 0.05
) -> tuple[int, float]:
    """Wait for ``process``; return (exit code, peak resident memory in MB of its process tree).

    The peak is sampled every ``interval`` seconds (the sum over the child and
    its descendants, e.g. papermill and its kernel). The operating system's own
    high-water mark (``ru_maxrss``) is not used: a child started by fork/exec
    inherits its parent's high-water mark, which would inflate every figure
    by the size of the process that launched it.
    """
    import psutil

    deadline = time.monotonic() + timeout
    try:
        root = psutil.Process(process.pid)
    except psutil.Error:
        root = None
    peak = 0
    while True:
        if root is not None:
            peak = max(peak, _tree_rss_bytes(root))
        code = process.poll()
        if code is not None:
            return code, peak / 2**20
        if time.monotonic() > deadline:
            if root is not None:
                for child in root.children(recursive=True):
                    try:
                        child.kill()
                    except psutil.Error:
                        pass
            process.kill()
            process.wait()
            return -9, peak / 2**20
        time.sleep(interval)


def run_notebook(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    *,
    parameters: dict | None = None,
    timeout: float = 1800,
    cell_timeout: float = 900,
    allow_declared_errors: bool = False,
) -> NotebookRun:
    """Execute ``notebook`` with papermill into ``output`` in a child process.

    Parameters
    ----------
    notebook : path
        Source notebook (not modified).
    output : path
        Executed copy.
    parameters : dict, optional
        Values injected after the cell tagged ``parameters``.
    timeout : float
        Seconds before the whole run is killed.
    cell_timeout : float
        Seconds allowed per cell.
    allow_declared_errors : bool
        Let cells tagged ``raises-exception`` fail (as in the student version).
        papermill fails on any error, so this runs nbclient with papermill's
        parameter injection instead.

    Returns
    -------
    NotebookRun
        ``status`` is ``"ok"``, ``"FAILED"`` or ``"TIMEOUT"``; ``error`` names the
        failing cell and the exception.
    """
    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(parameters or {}, handle)
        parameter_file = handle.name
    if allow_declared_errors:
        command = [sys.executable, "-m", "course_utils.build.execution", "_nbclient_child"]
        command += [str(notebook), str(output), str(cell_timeout), parameter_file]
    else:
        command = [
            sys.executable,
            "-m",
            "course_utils.build.execution",
            "_papermill_child",
            str(notebook),
            str(output),
            "-f",
            parameter_file,
            "--cwd",
            str(notebook.parent),
            "--kernel",
            "python3",
            "--no-progress-bar",
            "--log-level",
            "ERROR",
            "--execution-timeout",
            str(int(cell_timeout)),
        ]
    log_path = output.with_suffix(".log")
    start = time.perf_counter()
    try:
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=_child_environment()
            )
            code, peak_mb = _wait_with_rusage(process, timeout)
    finally:
        os.unlink(parameter_file)
    seconds = time.perf_counter() - start
    error = None
    status = "ok"
    if code == -9:
        status, error = "TIMEOUT", f"killed after {timeout:.0f} s"
    elif code != 0:
        status = "FAILED"
        error = first_error(output) if output.is_file() else None
        if error is None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            error = " | ".join(tail) or f"papermill exited with code {code}"
    else:
        log_path.unlink(missing_ok=True)
    return NotebookRun(notebook.stem, status, seconds, peak_mb, output, error)


def refresh_notebook(notebook: str | os.PathLike, *, timeout: float = 900) -> NotebookRun:
    """Re-execute a committed notebook in place with its default parameters.

    Uses nbclient in a child process (so peak memory is measured) and writes
    the notebook only when every cell succeeded (cells tagged
    ``raises-exception`` may fail), so a failed refresh never replaces good
    outputs with broken ones.
    """
    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    command = [
        sys.executable,
        "-m",
        "course_utils.build.execution",
        "_nbclient_child",
        str(notebook),
        str(notebook),
        str(timeout),
    ]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=_child_environment()
        )
        code, peak_mb = _wait_with_rusage(process, timeout + 60)
        log.seek(0)
        text = log.read().strip()
    seconds = time.perf_counter() - start
    if code == 0:
        return NotebookRun(notebook.stem, "ok", seconds, peak_mb, notebook)
    return NotebookRun(
        notebook.stem,
        "FAILED",
        seconds,
        peak_mb,
        None,
        text.splitlines()[-1] if text else str(code),
    )


def _nbclient_child(notebook: str, output: str, timeout: str, parameter_file: str = "") -> int:
    """Execute with nbclient (cells tagged ``raises-exception`` may fail) and write ``output`` atomically."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from course_utils.build.figures import compact_figures

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    if parameter_file:
        parameters = json.loads(Path(parameter_file).read_text())
        if parameters:
            from papermill.parameterize import parameterize_notebook

            for cell in nb.cells:  # papermill expects every cell to have a tags list
                cell.metadata.setdefault("tags", [])
            nb.metadata.setdefault("papermill", {})
            nb = parameterize_notebook(nb, parameters)
    client = NotebookClient(
        nb,
        timeout=float(timeout),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        summary = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
        print(f"{path.name}: a cell failed; nothing was written. {summary[-1] if summary else ''}")
        return 1
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    compact_figures(nb)  # large figures as 256-colour PNGs: notebooks stay under the size limit
    target = Path(output)
    temporary = target.with_name(f".{target.name}.partial")
    nbformat.write(nb, temporary)
    os.replace(temporary, target)
    return 0


def format_table(runs: list[NotebookRun]) -> str:
    """Plain-text table: notebook, status, seconds, peak memory (MB)."""
    width = max([len("notebook")] + [len(run.name) for run in runs])
    lines = [f"{'notebook':<{width}}  {'status':<7}  {'seconds':>8}  {'peak MB':>8}"]
    lines.append("-" * len(lines[0]))
    for run in runs:
        lines.append(
            f"{run.name:<{width}}  {run.status:<7}  {run.seconds:8.1f}  {run.peak_mb:8.0f}"
        )
    total = sum(run.seconds for run in runs)
    peak = max((run.peak_mb for run in runs), default=0.0)
    lines.append("-" * len(lines[0]))
    lines.append(f"{'total':<{width}}  {'':<7}  {total:8.1f}  {peak:8.0f}")
    return "\n".join(lines)


def render_html(executed: str | os.PathLike, html_dir: str | os.PathLike) -> Path:
    """Render an executed notebook to a standalone HTML page in ``html_dir``."""
    import nbformat
    from nbconvert import HTMLExporter

    executed = Path(executed)
    html_dir = Path(html_dir)
    html_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    target = html_dir / f"{executed.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


# jsonschema (imported by nbformat) imports rfc3987_syntax when it is installed, to check IRI
# formats; that module builds a parser grammar on import, 1-2 s of CPU in every child process,
# and nothing here validates an IRI. Blocked, jsonschema falls back to not checking IRIs.
_SKIPPED_IMPORTS = ("rfc3987_syntax",)


def _papermill_child(*arguments: str) -> None:
    """papermill's command line, started without the imports it does not need."""
    from papermill.cli import papermill

    papermill.main(args=list(arguments), prog_name="papermill")


if (
    __name__ == "__main__"
    and len(sys.argv) >= 2
    and sys.argv[1]
    in (
        "_nbclient_child",
        "_papermill_child",
    )
):
    for _name in _SKIPPED_IMPORTS:
        sys.modules.setdefault(_name, None)  # None in sys.modules: "import" raises ImportError
    if sys.argv[1] == "_papermill_child":
        _papermill_child(*sys.argv[2:])
    sys.exit(_nbclient_child(*sys.argv[2:]))
