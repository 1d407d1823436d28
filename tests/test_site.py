"""The course website: generated pages, then a full offline Jupyter Book build with a link check."""

from __future__ import annotations

import html.parser
import re
from collections import Counter

import nbformat
import pytest
import yaml

from course_utils.build.execution import discover_notebooks
from course_utils.build.site import (
    MANIFEST_DIR,
    build_site,
    datasets_markdown,
    lesson_sections,
    prepare_lesson_notebook,
    stage_sources,
    syllabus_markdown,
)
from tests.html_resources import broken_relative_links, remote_css_urls, remote_resources

NOTEBOOKS = discover_notebooks()


def test_datasets_page_lists_every_manifest_with_its_facts():
    page = datasets_markdown()
    for path in sorted(MANIFEST_DIR.glob("*.yaml")):
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert f"## {manifest['name']}" in page
        assert f"data_manifests/{path.name}" in page
        if manifest.get("kind") == "external":
            assert f"data validate {manifest['name']} PATH" in page
        if manifest.get("realism"):
            section = page.split(f"## {manifest['name']}\n", 1)[1].split("\n## ", 1)[0]
            assert "**Where the imitation stops**" in section
            assert "Looks like:" in section and "Does not:" in section
    # angle brackets of layout patterns outside code spans are escaped, not swallowed as HTML
    outside_code = re.sub(r"`[^`]*`", "", page.split("<details>")[0])
    assert "&lt;" in outside_code
    assert re.search(r"<(?!/?(details|summary|pre|code)\b)[A-Za-z]", outside_code) is None


def test_datasets_page_needs_manifests(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest_dir"):
        datasets_markdown(tmp_path)


def test_section_estimates_add_up_to_the_lesson_time():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        total = notebook.metadata["course"]["estimated_minutes"]
        sections = lesson_sections(notebook)
        assert len(sections) >= 3, path.name
        assert abs(sum(minutes for _, minutes in sections) - total) <= len(sections) / 2 + 1


def test_site_copy_collapses_answers_and_replaces_widgets():
    widget = nbformat.v4.new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"},
    )
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["solution"]}),
            nbformat.v4.new_code_cell("w", outputs=[widget]),
        ]
    )
    nb.metadata["widgets"] = {"state": {}}
    site_nb = prepare_lesson_notebook(nb)
    assert "hide-input" in site_nb.cells[0].metadata.tags
    data = site_nb.cells[1].outputs[0]["data"]
    assert (
        "application/vnd.jupyter.widget-view+json" not in data and "JupyterLab" in data["text/html"]
    )
    assert "widgets" not in site_nb.metadata and "widgets" in nb.metadata


def test_syllabus_links_every_lesson():
    table = syllabus_markdown(NOTEBOOKS)
    for path in NOTEBOOKS:
        assert f"(lessons/{path.stem}.ipynb)" in table


def test_staging_refuses_incomplete_docs(tmp_path):
    with pytest.raises(FileNotFoundError, match="_config.yml"):
        stage_sources(tmp_path / "src", docs_dir=tmp_path)


def test_staged_static_folder_lists_no_script(tmp_path):
    # Jupyter Book adds every *.js under _static/ to every page: MathJax must not be there,
    # or pages with maths load it twice (once more from sphinx.ext.mathjax)
    staging = stage_sources(tmp_path / "src")
    assert sorted(p.name for p in (staging / "_static").rglob("*.js")) == []
    assert (staging / "_mathjax_static" / "mathjax" / "es5" / "tex-chtml.js").is_file()
    assert (staging / "_ext" / "course_site_assets.py").is_file()


class _ScriptCollector(html.parser.HTMLParser):
    """Each ``<script>`` of a page: ``src=`` without its ``?v=`` query, or the inline body."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self._inline: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            src = dict(attrs).get("src")
            if src:
                self.scripts.append("src=" + src.split("?")[0])
            else:
                self._inline = []

    def handle_data(self, data):
        if self._inline is not None:
            self._inline.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._inline is not None:
            body = " ".join("".join(self._inline).split())
            if body:
                self.scripts.append("inline: " + body)
            self._inline = None


def page_scripts(page_html: str) -> list[str]:
    collector = _ScriptCollector()
    collector.feed(page_html)
    return collector.scripts


def test_script_collector_sees_duplicates():
    page = (
        '<script src="_static/a.js?v=1"></script><script>const X = 1;</script>'
        '<script defer src="_static/a.js?v=1"></script><script>const  X = 1;</script>'
    )
    repeated = {s for s, n in Counter(page_scripts(page)).items() if n > 1}
    assert repeated == {"src=_static/a.js", "inline: const X = 1;"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    index = build_site(root / "site", staging_dir=root / "site-src")
    return index.parent


@pytest.mark.slow
def test_every_page_exists(site):
    assert (site / "index.html").is_file()
    for path in NOTEBOOKS:
        page = site / "lessons" / f"{path.stem}.html"
        assert page.is_file(), f"no page for {path.name}"
        title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ")
        assert title.split(":")[0] in page.read_text(encoding="utf-8")
    for name in ("datasets.html", "instructors.html"):
        assert (site / name).is_file()
    instructors = re.sub(r"<[^>]+>", "", (site / "instructors.html").read_text(encoding="utf-8"))
    instructors = " ".join(instructors.split())
    for expected in ("make student", "minutes", "Live coding", "Misconceptions"):
        assert expected in instructors, expected


@pytest.mark.slow
def test_lesson_pages_show_their_figures(site):
    for path in NOTEBOOKS:
        # the staged copy is what the build used (notebooks/ may change while tests run)
        notebook = nbformat.read(site.parent / "site-src" / "lessons" / path.name, as_version=4)
        n_figures = sum(
            "image/png" in out.get("data", {})
            for cell in notebook.cells
            for out in cell.get("outputs", [])
        )
        page = (site / "lessons" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert len(re.findall(r"<img\b", page)) >= n_figures, path.name


@pytest.mark.slow
def test_internal_links_resolve(site):
    broken = []
    for html_file in sorted(site.rglob("*.html")):
        if "_static" not in html_file.relative_to(site).parts:  # theme templates, not pages
            broken += broken_relative_links(html_file, site)
    assert broken == [], "\n".join(broken[:20])


@pytest.mark.slow
def test_site_loads_nothing_from_the_internet(site):
    found = []
    for html_file in sorted(site.rglob("*.html")):
        found += [
            f"{html_file.relative_to(site)}: {r}"
            for r in remote_resources(html_file.read_text(encoding="utf-8"))
        ]
    for css in sorted(site.rglob("*.css")):
        found += [
            f"{css.relative_to(site)}: {r}"
            for r in remote_css_urls(css.read_text(encoding="utf-8"))
        ]
    assert found == [], "\n".join(found[:20])
    assert (site / "_static" / "mathjax" / "es5" / "tex-chtml.js").is_file()


@pytest.mark.slow
def test_each_script_is_loaded_once_per_page(site):
    # a script twice is a JavaScript error (`const` declared twice, MathJax set up twice)
    repeated = []
    loading_mathjax = 0
    for html_file in sorted(site.rglob("*.html")):
        if "_static" in html_file.relative_to(site).parts:
            continue
        counts = Counter(page_scripts(html_file.read_text(encoding="utf-8")))
        loading_mathjax += "src=_static/mathjax/es5/tex-chtml.js" in counts
        repeated += [
            f"{html_file.relative_to(site)}: {n} x {script[:100]}"
            for script, n in counts.items()
            if n > 1
        ]
    assert repeated == [], "\n".join(repeated[:20])
    assert loading_mathjax > 0  # the pages with maths still load the local MathJax


@pytest.mark.slow
def test_build_reports_no_warnings(site):
    warnings = (site / "build-warnings.txt").read_text(encoding="utf-8").strip()
    assert warnings == "", warnings[:2000]


def test_link_check_catches_a_broken_internal_link(tmp_path):
    """The site's link check must fail on a planted broken link, or it could never fail."""
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "a.html").write_text('<h1 id="top">A</h1>', encoding="utf-8")
    page = tmp_path / "index.html"
    page.write_text(
        '<a href="lessons/a.html#top">ok</a> <a href="lessons/missing.html">gone</a>'
        ' <a href="lessons/a.html#nowhere">no anchor</a> <a href="https://example.org">out</a>',
        encoding="utf-8",
    )
    broken = broken_relative_links(page, tmp_path)
    assert len(broken) == 2
    assert any("missing.html" in line for line in broken)
    assert any("#nowhere" in line for line in broken)


def test_figure_alt_text_describes_the_figure():
    from course_utils.build.figures import ALT_MAX_CHARS, figure_alt_text

    image = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})
    intro = nbformat.v4.new_markdown_cell(
        "### Pitfall 2: **windowing** with `vmin`\n\nA [window](x.md) of $W$ HU hides bone. " * 3
    )
    plot = nbformat.v4.new_code_cell("plt.show()", outputs=[image])
    notebook = nbformat.v4.new_notebook(cells=[intro, plot])
    alt = figure_alt_text(notebook.cells, 1)
    assert alt.startswith("Figure: Pitfall 2: windowing with vmin.")
    assert "**" not in alt and "`" not in alt and "](" not in alt and len(alt) <= ALT_MAX_CHARS
    plot.metadata["course"] = {"alt": "Six windows of one CT slice."}
    site_copy = prepare_lesson_notebook(notebook)
    assert site_copy.cells[1].metadata["mystnb"]["image"]["alt"] == "Six windows of one CT slice."
    assert "mystnb" not in notebook.cells[1].metadata  # the input is not modified


@pytest.mark.slow
def test_lesson_figures_have_alt_text(site):
    for path in NOTEBOOKS:
        page = (site / "lessons" / f"{path.stem}.html").read_text(encoding="utf-8")
        images = [tag for tag in re.findall(r"<img\b[^>]*>", page) if "_images/" in tag]
        assert images, path.name
        for tag in images:
            alt = re.search(r'\balt="([^"]*)"', tag)
            assert alt and alt.group(1).startswith(("Figure", alt.group(1)[:1])), tag[:160]
            assert "_images/" not in alt.group(1), f"{path.name}: alt is the file name: {tag[:160]}"


def test_readme_syllabus_minutes_are_each_lessons_own():
    """The README's syllabus table types its minutes; they must be what each notebook states."""
    from course_utils import syllabus
    from course_utils.data import COURSE_ROOT

    readme = (COURSE_ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d\d) \| `\d\d_\w+` \|.*\| (\d+) min \|$", readme, re.MULTILINE)
    assert len(rows) >= 10, "the README's syllabus table was not found"
    wrong = {
        number: (int(minutes), syllabus.lesson_minutes(number))
        for number, minutes in rows
        if int(minutes) != syllabus.lesson_minutes(number)
    }
    assert not wrong, f"README minutes vs the notebooks' metadata: {wrong}"
