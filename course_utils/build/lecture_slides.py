"""Lecture slides: export each lesson notebook as reveal.js HTML that works offline.

``python -m course_utils slides [NOTEBOOK ...]`` writes ``build/slides/``::

    build/slides/
        index.html                      links to every lesson's slides
        01_intensities_and_histograms.slides.html
        ...
        reveal.js/  mathjax/            local copies (course_utils/build/vendor/), no CDN

The notebooks themselves carry no slide metadata; the slide structure is
derived at export time, on a copy, from the notebook contract
(CONTRIBUTING.md). The rules, in order:

1. The ``parameters`` cell, empty cells and widget cells (their output needs a
   kernel; the static figure before them is shown instead) are skipped.
2. A ``solution`` cell is shown as the student sees it: its answer is replaced
   by the ``# YOUR CODE HERE`` stub (lecturers show the exercise, not the answer)
   and its outputs are dropped. The check cell right after it is skipped.
3. Markdown cells are split at their headings. ``#`` and ``##`` headings start a
   new slide (a new column in reveal.js), ``###`` and deeper start a subslide
   (down arrow).
4. Code cells longer than :data:`LONG_CODE_LINES` lines, and figure cells
   longer than :data:`FIGURE_CODE_LINES` lines, lose their source on the slide
   (it goes to the speaker notes, key ``S``); their output stays, and a figure
   alone on its slide is drawn larger.
5. A "**What to notice:**" paragraph after a figure is a fragment (appears on
   the next key press).
6. Any other cell continues the current slide while it fits a budget of about
   :data:`SLIDE_BUDGET_LINES` lines of text (a figure counts as
   :data:`FIGURE_LINES`); otherwise it starts a continuation subslide, taking
   the short paragraph that introduces it along.

The HTML references only files beside it (``reveal.js/``, ``mathjax/``):
copy the whole ``build/slides`` folder to a lecture-room laptop and open
``index.html``.

Example
-------
>>> from course_utils.build.lecture_slides import export_slides
>>> written = export_slides(["notebooks/00_start_here.ipynb"], "build/slides")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import html
import math
import re
import shutil
from pathlib import Path

from course_utils.build.figures import add_alt_text
from course_utils.build.student import stub_source

__all__ = [
    "FIGURE_CODE_LINES",
    "FIGURE_LINES",
    "LONG_CODE_LINES",
    "SLIDE_BUDGET_LINES",
    "add_slide_metadata",
    "export_notebook_slides",
    "export_slides",
    "localise_outputs",
    "split_markdown_at_headings",
    "strip_remote_resources",
]

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
TEMPLATE_DIR = Path(__file__).resolve().parent / "slide_template"
TEMPLATE_NAME = "course_reveal"
REVEAL_FOLDER = "reveal.js"
MATHJAX_FOLDER = "mathjax"

LONG_CODE_LINES = 15
FIGURE_CODE_LINES = 8
SLIDE_BUDGET_LINES = 24
FIGURE_LINES = 14
INTRO_LINES = 8
CHARS_PER_LINE = 95
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_HEADING = re.compile(r"^(#{1,6})\s+\S")
_CHECK_CALL = re.compile(r"\bcheck_\w+\s*\(")
_NOTICE = re.compile(r"^\s*\*\*What to notice")


# Font Awesome 4 icons used by matplotlib's ``Animation.to_jshtml`` player, as plain characters
_FA_ICONS = {
    "fa-minus": "\u2212",
    "fa-plus": "+",
    "fa-fast-backward": "|\u25c0\u25c0",
    "fa-step-backward": "|\u25c0",
    "fa-play fa-flip-horizontal": "\u25c0",
    "fa-pause": "||",
    "fa-play": "\u25b6",
    "fa-step-forward": "\u25b6|",
    "fa-fast-forward": "\u25b6\u25b6|",
}
_REMOTE_TAG = re.compile(
    r"<link\b[^>]*\bhref\s*=\s*[\"']?https?://[^>]*>"
    r"|<script\b[^>]*\bsrc\s*=\s*[\"']?https?://[^>]*>\s*</script>",
    re.I | re.S,
)
_FA_TAG = re.compile(r'<i\s+class="fa\s+(fa-[\w-]+(?:\s+fa-[\w-]+)*)"\s*>\s*</i>')


def strip_remote_resources(html_text: str) -> str:
    """Remove ``<link>``/``<script>`` tags that load files from the internet.

    Notebook outputs sometimes pull a style sheet from a CDN (matplotlib's
    JavaScript animation player loads Font Awesome 4); offline slides and the
    offline site must not. The player's icons are replaced by plain characters.

    Parameters
    ----------
    html_text : str
        HTML of one output.

    Returns
    -------
    str
        The same HTML without remote ``<link>`` and ``<script src>`` tags.

    Example
    -------
    >>> strip_remote_resources('<link rel="stylesheet" href="https://cdn.example/x.css"><p>hi</p>')
    '<p>hi</p>'
    """
    cleaned = _REMOTE_TAG.sub("", html_text)
    return _FA_TAG.sub(lambda m: _FA_ICONS.get(m.group(1), "\u25cf"), cleaned)


def localise_outputs(notebook):
    """Apply :func:`strip_remote_resources` to every HTML output of ``notebook`` (in place)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                text = data["text/html"]
                text = text if isinstance(text, str) else "".join(text)
                data["text/html"] = strip_remote_resources(text)
    return notebook


def split_markdown_at_headings(source: str) -> list[str]:
    """Split a markdown cell's source before every heading line (outside code fences).

    Parameters
    ----------
    source : str
        Markdown text.

    Returns
    -------
    list of str
        The pieces, each starting with a heading except possibly the first;
        empty pieces are dropped.

    Example
    -------
    >>> split_markdown_at_headings("# Title\\ntext\\n## Part\\nmore")
    ['# Title\\ntext', '## Part\\nmore']
    """
    pieces: list[list[str]] = [[]]
    in_fence = False
    for line in source.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and _HEADING.match(line) and any(x.strip() for x in pieces[-1]):
            pieces.append([])
        pieces[-1].append(line)
    return ["\n".join(piece).strip("\n") for piece in pieces if any(x.strip() for x in piece)]


def _heading_level(source: str) -> int:
    """Level of the heading on the first line (0 if the cell does not start with one)."""
    match = _HEADING.match(source.lstrip("\n"))
    return len(match.group(1)) if match else 0


def _text_lines(text: str, chars_per_line: int = CHARS_PER_LINE) -> int:
    return sum(max(1, math.ceil(len(line) / chars_per_line)) for line in text.splitlines())


def _output_lines(output, figure_lines: int = FIGURE_LINES) -> int:
    """Rough height of one output in lines of slide text (a figure counts ``figure_lines``)."""
    kind = output.get("output_type")
    if kind == "stream":
        return min(_text_lines(output.get("text", "")), 18)
    if kind == "error":
        return min(len(output.get("traceback", [])) * 3, 18)
    data = output.get("data", {})
    if _is_figure(output):
        return figure_lines
    if "text/html" in data:
        return min(str(data["text/html"]).count("<tr") + 1, 14)
    if "text/plain" in data:
        return min(_text_lines(str(data["text/plain"])), 12)
    return 1


def _is_figure(output) -> bool:
    """An image output, or matplotlib's JavaScript animation player."""
    data = output.get("data", {})
    if any(mime.startswith("image/") for mime in data):
        return True
    text = data.get("text/html", "")
    return 'class="animation"' in (text if isinstance(text, str) else "".join(text))


def _has_figure(cell) -> bool:
    return any(_is_figure(out) for out in cell.get("outputs", []))


def _set_slide_type(cell, slide_type: str) -> None:
    cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type


def add_slide_metadata(notebook):
    """Return a copy of ``notebook`` with ``slideshow.slide_type`` set on every cell.

    The rules are listed in this module's docstring. The input is not modified.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A lesson notebook (version 4).

    Returns
    -------
    nbformat.NotebookNode
        A new notebook: markdown cells split at headings, solution cells
        stubbed, and every cell tagged ``slide``, ``subslide``, ``fragment``,
        ``-``, ``notes`` or ``skip``.

    Raises
    ------
    course_utils.build.student.SolutionMarkerError
        If a ``solution`` cell lacks its ``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers.

    Example
    -------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T\\n## A\\ntext")])
    >>> [c.metadata["slideshow"]["slide_type"] for c in add_slide_metadata(nb).cells]
    ['slide', 'slide']
    """
    import nbformat

    source_nb = copy.deepcopy(notebook)
    cells = []
    previous_was_solution = False
    for index, cell in enumerate(source_nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "markdown":
            for piece in split_markdown_at_headings(text):
                new_cell = nbformat.v4.new_markdown_cell(piece)
                new_cell.metadata.update(copy.deepcopy(cell.metadata))
                new_cell.pop("id", None)
                cells.append(new_cell)
            previous_was_solution = False
            continue
        if cell.cell_type != "code":
            _set_slide_type(cell, "skip")
            cells.append(cell)
            continue
        skip = (
            "parameters" in tags
            or not text.strip()
            or any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))
            or (previous_was_solution and _CHECK_CALL.search(text) is not None)
        )
        if "solution" in tags:
            cell.source = stub_source(text, where=f"cell {index}")
            cell.outputs = []
            cell.execution_count = None
            previous_was_solution = True
        else:
            previous_was_solution = False
        if skip:
            _set_slide_type(cell, "skip")
        cells.append(cell)

    # give every cell a fresh id (split cells would otherwise share one)
    for number, cell in enumerate(cells):
        cell["id"] = f"slide-cell-{number}"

    final_cells = []
    used_lines = 0
    for cell in cells:
        if cell.metadata.get("slideshow", {}).get("slide_type") == "skip":
            final_cells.append(cell)
            continue
        if cell.cell_type == "markdown":
            level = _heading_level(cell.source)
            height = _text_lines(cell.source)
            if level in (1, 2):
                _set_slide_type(cell, "slide")
                used_lines = height
            elif level >= 3:
                _set_slide_type(cell, "subslide")
                used_lines = height
            elif used_lines + height > SLIDE_BUDGET_LINES:
                _set_slide_type(cell, "subslide")
                used_lines = height
            elif _NOTICE.match(cell.source):
                _set_slide_type(cell, "fragment")
                used_lines += height
            else:
                _set_slide_type(cell, "-")
                used_lines += height
            final_cells.append(cell)
            continue
        # code cell
        source_lines = len(cell.source.splitlines())
        has_figure = _has_figure(cell)
        hide_source = source_lines > LONG_CODE_LINES or (
            has_figure and source_lines > FIGURE_CODE_LINES
        )
        if has_figure:
            tags = cell.metadata.setdefault("tags", [])
            n_figures = sum(_is_figure(out) for out in cell.get("outputs", []))
            if n_figures > 1:
                tags.append("slides-figure-multi")  # several figures share the slide
            else:
                tags.append("slides-figure-large" if hide_source else "slides-figure")
        figure_lines = FIGURE_LINES + 3 if hide_source else FIGURE_LINES
        outputs_height = sum(_output_lines(out, figure_lines) for out in cell.get("outputs", []))
        height = outputs_height + (0 if hide_source else source_lines + 1)
        starts_new = used_lines > 0 and used_lines + height > SLIDE_BUDGET_LINES
        intro = final_cells[-1] if final_cells else None
        if (
            starts_new
            and intro is not None
            and intro.cell_type == "markdown"
            and intro.metadata.get("slideshow", {}).get("slide_type") == "-"
            and _text_lines(intro.source) <= INTRO_LINES
        ):
            # the short text that introduces this cell moves with it to the new subslide
            _set_slide_type(intro, "subslide")
            _set_slide_type(cell, "-")
            used_lines = _text_lines(intro.source) + height
        else:
            _set_slide_type(cell, "subslide" if starts_new else "-")
            used_lines = height if starts_new else used_lines + height
        if hide_source:
            cell.metadata.setdefault("transient", {})["remove_source"] = True
            note = nbformat.v4.new_markdown_cell(
                f"Code of this output ({source_lines} lines):\n\n```python\n{cell.source}\n```"
            )
            note["id"] = f"{cell['id']}-notes"
            _set_slide_type(note, "notes")
            if not cell.get("outputs"):
                # nothing would be left on the slide: the code lives in the notes only
                _set_slide_type(cell, "skip")
                used_lines -= height
            final_cells.append(cell)
            final_cells.append(note)
            continue
        final_cells.append(cell)

    slides_nb = copy.deepcopy(source_nb)
    slides_nb.cells = final_cells
    return add_alt_text(localise_outputs(slides_nb))


def _copy_vendor(out_dir: Path) -> None:
    for folder in (REVEAL_FOLDER, MATHJAX_FOLDER):
        source = VENDOR_DIR / folder
        if not source.is_dir():
            raise FileNotFoundError(
                f"vendored {folder} not found at {source}; the course checkout is incomplete"
            )
        shutil.copytree(source, out_dir / folder, dirs_exist_ok=True)


def _title(notebook, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def export_notebook_slides(notebook_path, out_dir) -> Path:
    """Export one notebook as ``<out_dir>/<stem>.slides.html`` (reveal.js, offline).

    Parameters
    ----------
    notebook_path : str or Path
        The executed lesson notebook.
    out_dir : str or Path
        Output folder; ``reveal.js/`` and ``mathjax/`` are copied into it.

    Returns
    -------
    Path
        The HTML file written.

    Raises
    ------
    FileNotFoundError
        If ``notebook_path`` does not exist.

    Example
    -------
    >>> export_notebook_slides("notebooks/00_start_here.ipynb", "build/slides")  # doctest: +SKIP
    PosixPath('build/slides/00_start_here.slides.html')
    """
    import nbformat
    from nbconvert import SlidesExporter

    notebook_path = Path(notebook_path)
    if not notebook_path.is_file():
        raise FileNotFoundError(f"notebook_path: no notebook at {notebook_path}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_vendor(out_dir)

    notebook = nbformat.read(notebook_path, as_version=4)
    slides_nb = add_slide_metadata(notebook)
    slides_nb.metadata["title"] = _title(notebook, notebook_path.stem)
    exporter = SlidesExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        reveal_url_prefix=REVEAL_FOLDER,
        reveal_theme="white",
        reveal_transition="none",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    resources = {
        "metadata": {"name": notebook_path.stem},
        "course_mathjax_url": f"{MATHJAX_FOLDER}/es5/tex-chtml.js",
    }
    body, _ = exporter.from_notebook_node(slides_nb, resources=resources)
    target = out_dir / f"{notebook_path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def _write_index(out_dir: Path, entries: list[tuple[str, str]]) -> Path:
    items = "\n".join(
        f'    <li><a href="{html.escape(name)}">{html.escape(title)}</a></li>'
        for name, title in entries
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Biomedical Image Analysis in Python: slides</title>
<style>body {{ font-family: sans-serif; max-width: 46em; margin: 3em auto; line-height: 1.5; }}</style>
</head>
<body>
  <h1>Biomedical Image Analysis in Python: lecture slides</h1>
  <p>Arrow keys move between slides (right: next section, down: next part of a section);
  <kbd>S</kbd> opens the speaker notes (long code lives there), <kbd>Esc</kbd> the overview.
  Everything is local: copy this whole folder to the lecture-room computer.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""
    target = out_dir / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def export_slides(notebooks, out_dir) -> list[Path]:
    """Export several notebooks and write ``index.html`` linking to all slide decks.

    Parameters
    ----------
    notebooks : iterable of str or Path
        Lesson notebooks.
    out_dir : str or Path
        Output folder (created).

    Returns
    -------
    list of Path
        The slide HTML files, in the order given.

    Raises
    ------
    ValueError
        If ``notebooks`` is empty.
    FileNotFoundError
        If a notebook does not exist.

    Example
    -------
    >>> export_slides(["notebooks/00_start_here.ipynb"], "build/slides")  # doctest: +SKIP
    [PosixPath('build/slides/00_start_here.slides.html')]
    """
    import nbformat

    notebooks = [Path(path) for path in notebooks]
    if not notebooks:
        raise ValueError("notebooks: expected at least one notebook to export, got none")
    out_dir = Path(out_dir)
    written = []
    for path in notebooks:
        written.append(export_notebook_slides(path, out_dir))
    existing = sorted(out_dir.glob("*.slides.html"))
    entries = []
    for page in existing:
        source = next((p for p in notebooks if p.stem + ".slides.html" == page.name), None)
        title = page.name
        if source is not None:
            title = _title(nbformat.read(source, as_version=4), source.stem)
        else:
            match = re.search(r"<title>(.*?) slides</title>", page.read_text(encoding="utf-8"))
            title = html.unescape(match.group(1)) if match else page.name
        entries.append((page.name, title))
    _write_index(out_dir, entries)
    return written
