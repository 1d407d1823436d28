"""The course's environment check: installed library versions against ``requirements.lock``.

Lesson 00 prints this table; a student whose numbers differ from the committed outputs looks here
first (a different numpy or scipy can change the last digits of a result).

Example
-------
>>> versions = check_versions()          # doctest: +SKIP
>>> print(versions.attrs["summary"])     # doctest: +SKIP
python 3.11.7, course_utils 0.2.0
31 of 31 libraries at their requirements.lock version
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path

import pandas as pd
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = ["LOCK_FILE", "check_versions", "installed_version", "lock_versions"]

#: The lock file of a source checkout (absent from a wheel install).
LOCK_FILE = Path(__file__).resolve().parents[1] / "requirements.lock"


def lock_versions(path: str | os.PathLike) -> dict[str, str]:
    """``{package: version}`` pinned in a lock file for this platform and Python version.

    Lines whose environment marker does not apply here (``; python_version >= "3.12"`` on 3.11)
    are left out; comments and option lines (``-e``, ``--index-url``) are skipped. A missing
    file gives an empty dict.

    Example
    -------
    >>> import tempfile
    >>> lock = Path(tempfile.mkdtemp()) / "lock.txt"
    >>> _ = lock.write_text("# pinned\\nNumPy==2.4.6 ; python_version >= '3.0'\\n")
    >>> lock_versions(lock)
    {'numpy': '2.4.6'}
    """
    path = Path(path)
    pinned: dict[str, str] = {}
    if not path.is_file():
        return pinned
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate():
            pinned[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix(
                "=="
            )
    return pinned


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_versions(lock_file: str | os.PathLike | None = None) -> pd.DataFrame:
    """Installed version and pinned version of every direct dependency of ``course-utils``.

    Returns a table indexed by library with columns ``installed`` and ``requirements.lock``;
    ``attrs["summary"]`` holds the lines to print (Python and course versions, how many
    libraries match, and why nothing could be compared when that is the case).
    """
    import course_utils

    lock_file = Path(lock_file) if lock_file is not None else LOCK_FILE
    pinned = lock_versions(lock_file)
    summary = [f"python {platform.python_version()}, course_utils {course_utils.__version__}"]
    try:
        direct = [Requirement(text) for text in importlib.metadata.requires("course-utils") or []]
    except importlib.metadata.PackageNotFoundError:
        summary.append(
            "course_utils is not installed as a package (use `make install`): no list to compare"
        )
        direct = []
    libraries = sorted({canonicalize_name(r.name) for r in direct if r.marker is None})
    versions = pd.DataFrame(
        {
            "installed": pd.Series({n: installed_version(n) for n in libraries}, dtype=object),
            "requirements.lock": pd.Series({n: pinned.get(n) for n in libraries}, dtype=object),
        }
    )
    versions.index.name = "library"
    if not pinned:
        summary.append(f"{lock_file} not found (a non-editable install?): nothing to compare with")
    matching = int((versions["installed"] == versions["requirements.lock"]).sum())
    summary.append(f"{matching} of {len(libraries)} libraries at their requirements.lock version")
    versions.attrs["summary"] = "\n".join(summary)
    return versions
