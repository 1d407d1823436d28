"""Build the student version of the notebooks (solutions replaced by stubs).

In a lesson, each exercise answer sits in a code cell tagged ``solution``,
between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` markers; the starter code
around the markers stays. The student version replaces every marked block
with ``# YOUR CODE HERE`` and ``raise NotImplementedError(...)`` at the same
indentation, removes the outputs of those cells, tags them
``raises-exception`` (so a top-to-bottom run continues past an unfinished
exercise) and leaves every other cell as it is. The checks then say "not
implemented yet" instead of crashing.

Example
-------
>>> stub_source("x = None\\n# BEGIN SOLUTION\\nx = 42\\n# END SOLUTION\\n")
'x = None\\n# YOUR CODE HERE\\nraise NotImplementedError("replace this line with your answer")\\n'
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

__all__ = [
    "SolutionMarkerError",
    "build_student_notebook",
    "build_student_version",
    "solution_blocks",
    "stub_source",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB_MESSAGE = "replace this line with your answer"
_BLOCK = re.compile(
    r"^([ \t]*)# BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*# END SOLUTION[^\n]*(\n|$)", re.M | re.S
)


class SolutionMarkerError(ValueError):
    """A solution cell whose markers are missing or unbalanced."""


def solution_blocks(source: str) -> list[str]:
    """The answer blocks (text between the markers) of one cell's source."""
    return [match.group(2) for match in _BLOCK.finditer(source)]


def stub_source(source: str, *, where: str = "cell") -> str:
    """Replace every marked solution block of ``source`` by a stub.

    Raises
    ------
    SolutionMarkerError
        If the cell has no marked block or the markers are unbalanced.
    """
    n_begin = len(re.findall(r"^[ \t]*# BEGIN SOLUTION", source, re.M))
    n_end = len(re.findall(r"^[ \t]*# END SOLUTION", source, re.M))
    if n_begin == 0 or n_begin != n_end:
        raise SolutionMarkerError(
            f"{where}: a solution cell needs matching '{BEGIN}' / '{END}' lines; found {n_begin} and {n_end}"
        )

    def replace(match: re.Match) -> str:
        indent = match.group(1)
        return (
            f'{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("{STUB_MESSAGE}")'
            + match.group(3)
        )

    return _BLOCK.sub(replace, source)


def build_student_notebook(notebook):
    """Return a student copy of an ``nbformat`` notebook node (the input is not modified)."""
    student = copy.deepcopy(notebook)
    for index, cell in enumerate(student.cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type != "code" or "solution" not in tags:
            continue
        cell.source = stub_source(cell.source, where=f"cell {index}")
        cell.outputs = []
        cell.execution_count = None
        tags = [t for t in tags if t != "solution"] + ["exercise", "raises-exception"]
        cell.metadata["tags"] = sorted(set(tags))
    student.metadata.setdefault("course", {})["student_version"] = True
    return student


def build_student_version(
    notebooks: list[str | os.PathLike], out_dir: str | os.PathLike
) -> list[Path]:
    """Write the student version of each notebook into ``out_dir``.

    Returns
    -------
    list of pathlib.Path
        The written notebooks.

    Raises
    ------
    SolutionMarkerError
        If a solution cell lacks its markers (nothing is written for that notebook).
    """
    import nbformat

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        path = Path(path)
        notebook = nbformat.read(path, as_version=4)
        student = build_student_notebook(notebook)
        target = out_dir / path.name
        temporary = target.with_name(f".{target.name}.partial")
        nbformat.write(student, temporary)
        os.replace(temporary, target)
        written.append(target)
    return written
