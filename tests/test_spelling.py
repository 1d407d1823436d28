"""Spelling of what students read: the notebooks' markdown cells, the README and the docs.

codespell runs offline with its own dictionary of common misspellings and the project's
word list (tests/codespell_words.txt) for terms it would wrongly "correct".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ROOT / "tests" / "codespell_words.txt"
TEXT_FILES = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "data_manifests").glob("*.yaml")),
]


def markdown_of(notebook: Path) -> str:
    """The markdown cells of ``notebook``, each headed by its position, as one text."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join(
        f"<!-- {notebook.name} cell {index} -->\n{''.join(cell['source'])}"
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
    )


def misspellings(paths: list[Path]) -> list[str]:
    """codespell's report on ``paths``: one line per suspected misspelling."""
    result = subprocess.run(
        [sys.executable, "-m", "codespell_lib", "--ignore-words", str(WORDS), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 65):  # 65: misspellings found
        raise RuntimeError(f"codespell failed ({result.returncode}): {result.stderr}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_notebook_markdown_is_spelled_right(tmp_path):
    extracted = []
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = tmp_path / f"{notebook.stem}.md"
        target.write_text(markdown_of(notebook), encoding="utf-8")
        extracted.append(target)
    assert extracted
    assert misspellings(extracted) == []


def test_readme_and_docs_are_spelled_right():
    assert misspellings([path for path in TEXT_FILES if path.exists()]) == []


def test_the_spell_check_catches_a_planted_misspelling(tmp_path):
    """A check that cannot fail proves nothing: plant words codespell's dictionary knows."""
    planted = tmp_path / "planted.ipynb"
    planted.write_text(
        json.dumps(
            {
                "cells": [
                    {"cell_type": "markdown", "metadata": {}, "source": ["Look at teh histogram."]},
                    {"cell_type": "code", "metadata": {}, "source": ["teh = 1"], "outputs": []},
                ]
            }
        ),
        encoding="utf-8",
    )
    text = tmp_path / "planted.md"
    text.write_text(markdown_of(planted), encoding="utf-8")
    found = misspellings([text])
    assert len(found) == 1 and "teh ==> the" in found[0]
