"""Lecture slides: slide structure derived from the notebook contract, offline reveal.js HTML."""

from __future__ import annotations

import re
from html import unescape

import nbformat
import pytest

from course_utils.build.execution import find_notebook
from course_utils.build.lecture_slides import (
    LONG_CODE_LINES,
    add_slide_metadata,
    export_notebook_slides,
    export_slides,
    split_markdown_at_headings,
    strip_remote_resources,
)
from course_utils.build.student import solution_blocks
from tests.html_resources import broken_relative_links, remote_css_urls, remote_resources

EXPORTED = ["00", "06"]  # the start page and one full lesson (both committed with outputs)


def _slide_types(nb):
    return [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]


def _toy_notebook():
    long_code = "\n".join(f"x{i} = {i}" for i in range(LONG_CODE_LINES + 5))
    figure = nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    )
    widget = nbformat.v4.new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "w"},
    )
    cells = [
        nbformat.v4.new_markdown_cell(
            "# Lesson 99: Toy\n\nIntro.\n\n## Learning objectives\n\n- a"
        ),
        nbformat.v4.new_code_cell("data_dir = None\nseed = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("## 1. Part\n\nText."),
        nbformat.v4.new_code_cell(long_code, outputs=[figure]),
        nbformat.v4.new_markdown_cell("**What to notice:** something."),
        nbformat.v4.new_markdown_cell("### Exercise 1: add\n\nWrite it."),
        nbformat.v4.new_code_cell(
            "def add(a, b):\n    # BEGIN SOLUTION\n    return a + b  # the secret answer\n    # END SOLUTION\n",
            metadata={"tags": ["solution"]},
        ),
        nbformat.v4.new_code_cell("ex.check_add(add)"),
        nbformat.v4.new_code_cell("show_widget()", outputs=[widget]),
        nbformat.v4.new_code_cell(""),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_slide_types_follow_the_notebook_structure():
    toy = _toy_notebook()
    before = nbformat.writes(toy)
    slides = add_slide_metadata(toy)
    assert nbformat.writes(toy) == before, "the input notebook must not be modified"
    by_start = {cell.source.splitlines()[0] if cell.source else "": cell for cell in slides.cells}
    kind = lambda start: by_start[start].metadata["slideshow"]["slide_type"]  # noqa: E731
    assert kind("# Lesson 99: Toy") == "slide"
    assert kind("## Learning objectives") == "slide"  # split out of the title cell
    assert kind("## 1. Part") == "slide"
    assert kind("### Exercise 1: add") == "subslide"
    assert kind("data_dir = None") == "skip"  # parameters
    assert kind("ex.check_add(add)") == "skip"  # the check right after a solution
    assert kind("show_widget()") == "skip"  # widgets need a kernel
    assert kind("**What to notice:** something.") in {"fragment", "subslide"}
    # the solution is shown as the student's stub
    stub = by_start["def add(a, b):"]
    assert "the secret answer" not in stub.source and "# YOUR CODE HERE" in stub.source
    assert stub.outputs == []
    # long code: source hidden on the slide, kept in the speaker notes, figure kept
    long_cell = by_start["x0 = 0"]
    assert long_cell.metadata["transient"]["remove_source"] is True
    assert "slides-figure-large" in long_cell.metadata.tags
    notes = [c for c in slides.cells if c.metadata["slideshow"]["slide_type"] == "notes"]
    assert len(notes) == 1 and "x0 = 0" in notes[0].source
    assert len({cell["id"] for cell in slides.cells}) == len(slides.cells)


def test_split_markdown_keeps_code_fences_together():
    text = "## A\ntext\n```bash\n# not a heading\n```\n### B\nmore"
    assert split_markdown_at_headings(text) == [
        "## A\ntext\n```bash\n# not a heading\n```",
        "### B\nmore",
    ]


def test_strip_remote_resources_removes_cdn_links_and_keeps_content():
    html = (
        '<link rel="stylesheet"\nhref="https://maxcdn.example/font-awesome.min.css">'
        '<script src="https://cdn.example/x.js"></script>'
        '<button><i class="fa fa-play"></i></button><p>kept</p>'
    )
    cleaned = strip_remote_resources(html)
    assert "https://" not in cleaned
    assert "<p>kept</p>" in cleaned and "\u25b6" in cleaned


def test_bad_input_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="notebook_path"):
        export_notebook_slides(tmp_path / "missing.ipynb", tmp_path)
    with pytest.raises(ValueError, match="at least one notebook"):
        export_slides([], tmp_path)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("slides")
    notebooks = [find_notebook(name) for name in EXPORTED]
    written = export_slides(notebooks, out_dir)
    return out_dir, notebooks, written


def _visible_text(html_text: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html_text, flags=re.S | re.I)
    return unescape(re.sub(r"<[^>]+>", "", body))


def test_slides_are_written_with_local_reveal(exported):
    out_dir, notebooks, written = exported
    assert [p.name for p in written] == [f"{nb.stem}.slides.html" for nb in notebooks]
    index = (out_dir / "index.html").read_text(encoding="utf-8")
    for path in written:
        assert path.is_file() and path.name in index
        text = path.read_text(encoding="utf-8")
        for local in (
            "reveal.js/dist/reveal.js",
            "reveal.js/dist/reveal.css",
            "reveal.js/plugin/notes/notes.js",
            "mathjax/es5/tex-chtml.js",
        ):
            assert f'"{local}"' in text, f"{path.name} does not load {local} locally"
            assert (out_dir / local).is_file()
        assert broken_relative_links(path, out_dir) == []
    assert (out_dir / "reveal.js" / "LICENSE").is_file()
    assert (out_dir / "mathjax" / "LICENSE").is_file()


def test_slides_load_nothing_from_the_internet(exported):
    out_dir, _, written = exported
    for path in [*written, out_dir / "index.html"]:
        assert remote_resources(path.read_text(encoding="utf-8")) == [], path.name
    for css in out_dir.rglob("*.css"):
        assert remote_css_urls(css.read_text(encoding="utf-8")) == [], css.name


def test_slide_decks_have_structure_and_hide_solutions(exported):
    _, notebooks, written = exported
    for notebook_path, path in zip(notebooks, written, strict=True):
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.read(notebook_path, as_version=4)
        n_headings = sum(
            line.startswith("## ")
            for cell in notebook.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
        )
        n_sections = text.count("<section")
        assert n_sections >= max(8, n_headings), f"{path.name}: only {n_sections} slides"
        assert '<aside class="notes">' in text or notebook_path.stem.startswith("00")
        visible = _visible_text(text)
        assert "# YOUR CODE HERE" in visible
        for cell in notebook.cells:
            if "solution" not in cell.metadata.get("tags", []):
                continue
            for block in solution_blocks(cell.source):
                for line in block.splitlines():
                    line = line.strip()
                    if len(line) > 12 and not line.startswith("#"):
                        assert line not in visible, f"{path.name} shows solution code: {line!r}"


def test_cli_slides_command(tmp_path, capsys):
    from course_utils.cli import main

    assert main(["slides", "00", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "00_start_here.slides.html").is_file()
    assert (tmp_path / "index.html").is_file()
    assert "slides" in capsys.readouterr().out


def test_every_slide_figure_has_alt_text(exported):
    _, _, written = exported
    n_images = 0
    for path in written:
        for tag in re.findall(r"<img\b[^>]*>", path.read_text(encoding="utf-8")):
            n_images += 1
            alt = re.search(r'\balt="([^"]*)"', tag)
            assert alt and len(alt.group(1).strip()) >= 10, f"{path.name}: {tag[:120]}"
    assert n_images > 0
