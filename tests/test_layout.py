"""The package's rooms stay apart: lessons and lesson helpers never import the build tooling."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"
BUILD = "course_utils.build"


def _imported_modules(source: str) -> set[str]:
    """Every module named by an import statement in ``source`` (relative imports resolved loosely)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = "course_utils." + module if module else "course_utils"
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _notebook_source(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        text = "".join(cell["source"])
        # IPython magics and shell escapes are not Python; drop them before parsing.
        lines.extend(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
    return "\n".join(lines)


def _imports_build(source: str) -> list[str]:
    return sorted(
        name for name in _imported_modules(source) if name == BUILD or name.startswith(BUILD + ".")
    )


LESSON_HELPERS = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if "build" not in path.relative_to(PACKAGE).parts and path.name not in {"cli.py", "__main__.py"}
)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", LESSON_HELPERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_lesson_helpers_do_not_import_build_tooling(path):
    assert _imports_build(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_do_not_import_build_tooling(path):
    assert _imports_build(_notebook_source(path)) == []


def test_the_check_sees_a_build_import():
    """The detector itself must fire, or the two tests above could never fail."""
    assert _imports_build("from course_utils.build import site") != []
    assert _imports_build("import course_utils.build.execution as ex") != []
    assert _imports_build("from .build.student import stub_source") != []
    assert _imports_build("from course_utils import wsi, data") == []


def test_no_module_keeps_the_old_slides_name():
    """``slides`` meant whole-slide images in one module and lecture slides in another."""
    assert not (PACKAGE / "slides.py").exists()
    assert (PACKAGE / "wsi.py").exists()
    offenders = []
    for path in [
        *PACKAGE.rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *NOTEBOOKS,
        *(ROOT / "benchmarks").glob("*.py"),
    ]:
        text = path.read_text(encoding="utf-8")
        modules = _imported_modules(text if path.suffix == ".py" else _notebook_source(path))
        if "course_utils.slides" in modules:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
