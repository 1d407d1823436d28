"""Fixtures for the real-browser checks: headless Chromium, a JupyterLab server, screenshots.

Nothing is downloaded at run time. The browser is the system Chromium (Debian's ``chromium``
package, or the executable named by ``COURSE_CHROMIUM``) driven by Playwright for Python
through ``executable_path``; without one the tests skip and say how to enable them.

Every server started here is stopped here, by process id, also when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREEN_DIR = ROOT / "build" / "screens"

ENABLE_HINT = (
    "install Debian's chromium (apt-get install chromium chromium-driver) "
    "or set COURSE_CHROMIUM=/path/to/chromium"
)

# Flags for a quiet, offline, container-friendly headless Chromium.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-first-run",
    "--disable-quic",
]


# --------------------------------------------------------------------------- small helpers
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_chromium() -> str | None:
    """Path of the Chromium to drive: ``COURSE_CHROMIUM`` first, then the usual names."""
    chosen = os.environ.get("COURSE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() and os.access(chosen, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def stop_process_tree(process: subprocess.Popen, grace_seconds: float = 15.0) -> None:
    """Stop a server started with ``start_new_session=True`` and everything it spawned.

    The children (e.g. Jupyter kernels, which jupyter_client starts in sessions of their
    own) are listed by pid before the server is asked to stop; the server's process group
    gets SIGTERM (it shuts its kernels down), and anything still alive after the grace
    period is killed by pid.
    """
    try:
        import psutil

        children = psutil.Process(process.pid).children(recursive=True)
    except Exception:  # psutil missing or the server already gone
        children = []
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for child in children:
        with contextlib.suppress(Exception):
            if child.is_running() and child.status() != "zombie":
                child.wait(timeout=5)
        with contextlib.suppress(Exception):
            if child.is_running() and child.status() != "zombie":
                child.kill()


def committed_image_count(path: Path) -> int:
    """How many ``image/png`` outputs the committed notebook stores (its figures)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        1
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """Status code and body of a GET (no exception for HTTP errors)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        where = os.environ.get("COURSE_CHROMIUM")
        reason = (
            f"COURSE_CHROMIUM={where} is not an executable file" if where else "no Chromium found"
        )
        pytest.skip(f"browser tests skipped: {reason}; to enable them, {ENABLE_HINT}")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for the session, driven by Playwright (no browser download)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="browser tests skipped: Playwright for Python is not installed (it is in the "
        "'test' extra of pyproject.toml; run make install)",
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def lab_context(browser):
    """One browser context for the JupyterLab tests: its cache keeps the lab's assets warm."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def screen_dir() -> Path:
    SCREEN_DIR.mkdir(parents=True, exist_ok=True)
    return SCREEN_DIR


# --------------------------------------------------------------------------- JupyterLab
@dataclass
class LabServer:
    """A running JupyterLab: where it listens, its token and the folder it serves."""

    base_url: str
    token: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        joiner = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{joiner}token={self.token}"

    def api(self, method: str, path: str, payload: dict | None = None) -> dict | list | None:
        """Call the Jupyter server REST API; returns the decoded JSON body."""
        body = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=body,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
        return json.loads(text) if text else None

    def kernel_peak_mb(self, kernel_id: str) -> float:
        """Peak resident memory (VmHWM) of a kernel of this server, in MB; 0 if unknown."""
        try:
            import psutil

            for child in psutil.Process(self.process.pid).children(recursive=True):
                if any(kernel_id in part for part in child.cmdline()):
                    for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1]) / 1024
        except Exception:
            pass
        return 0.0

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# User settings for the test server: no news/update toasts (and no request for them), every
# cell attached to the DOM (so figures and prompts are there to inspect), no autosave, the
# notebook's own kernel started without asking.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

# Server and lab options: offline (no PyPI lookups by the extension manager, no news feed,
# no update check) and the application object exposed as ``window.jupyterapp`` so the tests
# can read the notebook model (output types) next to what is rendered.
LAB_CONFIG = {
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "extension_manager": "readonly",
        "expose_app_in_browser": True,
    },
    "ServerApp": {"open_browser": False},
}


def start_lab(workspace: Path, state_dir: Path, attempts: int = 3) -> LabServer:
    """Start ``jupyter lab`` from this interpreter on a free loopback port with a random token."""
    settings_dir = state_dir / "settings"
    for relative, values in LAB_SETTINGS.items():
        target = settings_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values, indent=2))
    config_dir = state_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in ("jupyter_server_config.json", "jupyter_lab_config.json"):
        (config_dir / name).write_text(json.dumps(LAB_CONFIG, indent=2))
    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(state_dir / "workspaces"),
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_RUNTIME_DIR=str(state_dir / "runtime"),
        MPLBACKEND="Agg",
        COURSE_PROGRESS="0",
        PYTHONHASHSEED=env.get("PYTHONHASHSEED", "0"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    token = secrets.token_hex(24)
    last_error = ""
    for attempt in range(attempts):
        port = free_port()
        log_path = state_dir / f"jupyterlab-{attempt}.log"
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={workspace}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=workspace,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = LabServer(f"http://127.0.0.1:{port}", token, workspace, log_path, process)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError):
                status, _ = http_get(server.url("/api/status"), timeout=2)
                if status == 200:
                    return server
            time.sleep(0.5)
        last_error = server.log_tail()
        stop_process_tree(process)
    raise RuntimeError(f"JupyterLab did not start after {attempts} attempts; log:\n{last_error}")


@pytest.fixture(scope="session")
def lab_workspace() -> Iterator[Path]:
    """A throw-away copy of the lesson notebooks: JupyterLab never writes to the committed ones."""
    from course_utils.build.execution import discover_notebooks

    with tempfile.TemporaryDirectory(prefix="course-browser-") as scratch:
        workspace = Path(scratch) / "notebooks"
        workspace.mkdir()
        for notebook in discover_notebooks(ROOT / "notebooks"):
            shutil.copy2(notebook, workspace / notebook.name)
        yield workspace


@pytest.fixture(scope="session")
def lab_server(chromium_path, lab_workspace) -> Iterator[LabServer]:
    state_dir = lab_workspace.parent / "lab-state"
    state_dir.mkdir()
    server = start_lab(lab_workspace, state_dir)
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):  # shut kernels down politely first
            for session in server.api("GET", "/api/sessions") or []:
                server.api("DELETE", f"/api/sessions/{session['id']}")
        stop_process_tree(server.process)
