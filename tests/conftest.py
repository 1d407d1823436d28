"""Shared pytest set-up: quiet, deterministic, offline, and a per-notebook resource report."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT_DIR = ROOT / "build" / "test-report"

# Kernels started by nbval and papermill inherit this environment.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["COURSE_PROGRESS"] = "0"
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


# --------------------------------------------------------------------------- offline guarantee
_LOOPBACK = ("127.", "::1", "localhost")
_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection


def _is_loopback(address) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    elif isinstance(address, (str, bytes)):  # AF_UNIX paths
        return True
    else:
        return False
    return host.startswith(_LOOPBACK) or host in ("", "0.0.0.0")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise OSError(
            f"network access blocked during tests (tried to connect to {address!r}); the course must run offline"
        )
    return _real_connect(self, address)


def _guarded_create_connection(address, *args, **kwargs):
    if not _is_loopback(address):
        raise OSError(
            f"network access blocked during tests (tried to connect to {address!r}); the course must run offline"
        )
    return _real_create_connection(address, *args, **kwargs)


def pytest_configure(config):
    socket.socket.connect = _guarded_connect
    socket.create_connection = _guarded_create_connection
    if not hasattr(config, "workerinput"):  # controller process only
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        for stale in REPORT_DIR.glob("*.jsonl"):
            stale.unlink()


def record_notebook_run(kind: str, run) -> None:
    """Append one notebook run to the report printed at the end of the session."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(REPORT_DIR / f"runs-{worker}.jsonl", "a", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {
                    "kind": kind,
                    "name": run.name,
                    "status": run.status,
                    "seconds": round(run.seconds, 1),
                    "peak_mb": round(run.peak_mb),
                }
            )
            + "\n"
        )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput"):
        return
    rows = []
    for path in sorted(REPORT_DIR.glob("runs-*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    if not rows:
        return
    terminalreporter.section("notebook runs: seconds and peak memory")
    width = max(len(r["name"]) for r in rows)
    terminalreporter.write_line(
        f"{'notebook':<{width}}  {'run':<12} {'status':<7} {'seconds':>8} {'peak MB':>8}"
    )
    for row in sorted(rows, key=lambda r: (r["name"], r["kind"])):
        terminalreporter.write_line(
            f"{row['name']:<{width}}  {row['kind']:<12} {row['status']:<7} {row['seconds']:8.1f} {row['peak_mb']:8d}"
        )
    total = sum(r["seconds"] for r in rows)
    terminalreporter.write_line(f"{'total':<{width}}  {'':<12} {'':<7} {total:8.1f}")


@pytest.fixture(scope="session")
def course_root() -> Path:
    return ROOT
