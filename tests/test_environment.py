"""The environment files agree: pyproject.toml, environment.yml and requirements.lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda splits dask[distributed] into two packages.
CONDA_ALIASES = {"dask": {"dask", "distributed"}}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        names |= {_name(r) for r in extra}
    return names


def _environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for item in env["dependencies"]:
        if isinstance(item, dict):
            names |= {_name(r) for r in item["pip"] if not r.startswith("-")}
        elif _name(item) not in ("python", "pip"):
            names.add(_name(item))
    return names


def test_environment_yml_lists_the_same_packages_as_pyproject():
    expected = set()
    for name in _pyproject_names():
        expected |= CONDA_ALIASES.get(name, {name})
    actual = _environment_names()
    assert actual == expected, (
        f"only in environment.yml: {sorted(actual - expected)}; only in pyproject: {sorted(expected - actual)}"
    )


def test_lock_pins_every_declared_package_exactly():
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    pinned = {}
    for line in lock:
        line = line.strip()
        if line and not line.startswith("#"):
            assert "==" in line, f"lock line is not an exact pin: {line}"
            pinned[_name(line)] = line
    missing = _pyproject_names() - set(pinned)
    assert not missing, f"requirements.lock lacks {sorted(missing)}: regenerate it (see README)"


def test_lock_covers_python_311_to_313():
    text = (ROOT / "requirements.lock").read_text()
    assert "python_full_version >= '3.12'" in text or "python_full_version == '3.12.*'" in text, (
        "the lock should be universal (uv pip compile --universal) so 3.12 and 3.13 install too"
    )
