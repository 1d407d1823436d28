"""The course website: a Jupyter Book 1.x (Sphinx) build of the committed notebooks, offline.

``python -m course_utils site`` assembles the book's sources in a staging
folder (default ``build/site-src/``) and builds static HTML into
``build/site/``:

- the hand-written pages and configuration from ``docs/`` (``_config.yml``,
  ``_toc.yml``, ``intro.md``, ``instructors.md``);
- the home page's syllabus table, generated from the README's syllabus (what
  each lesson teaches) and the notebooks' ``metadata.course.estimated_minutes``;
- the lessons, copied from ``notebooks/`` with their stored outputs (nothing is
  executed: ``execute_notebooks: "off"``). On the copy, HTML outputs lose any
  CDN ``<link>``/``<script>``, widget outputs (which need a kernel) are replaced
  by a note, and exercise answers (cells tagged ``solution``) are collapsed
  behind a "show" button (tag ``hide-input``);
- ``datasets.md``, generated from ``data_manifests/*.yaml``;
- the timing tables of ``instructors.md`` (minutes per lesson and an estimate
  per section), generated from the notebooks;
- a local MathJax 3 (``course_utils/build/vendor/mathjax``): the built site loads
  nothing from the internet;
- ``_ext/course_site_assets.py`` (from ``docs/``), a small Sphinx extension that
  keeps each script to one copy per page (duplicates are JavaScript errors).

Open ``build/site/index.html`` directly or serve the folder with
``python -m http.server -d build/site``.

Example
-------
>>> from course_utils.build.site import build_site
>>> build_site("build/site")  # doctest: +SKIP
PosixPath('build/site/index.html')
"""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from course_utils.data import COURSE_ROOT

__all__ = [
    "build_site",
    "datasets_markdown",
    "lesson_sections",
    "prepare_lesson_notebook",
    "stage_sources",
    "syllabus_markdown",
    "timing_markdown",
]

DOCS_DIR = COURSE_ROOT / "docs"
NOTEBOOK_DIR = COURSE_ROOT / "notebooks"
MANIFEST_DIR = COURSE_ROOT / "data_manifests"
README = COURSE_ROOT / "README.md"
MATHJAX_DIR = Path(__file__).resolve().parent / "vendor" / "mathjax"
MATHJAX_STAGING = "_mathjax_static"  # docs/_ext/course_site_assets.py: UNLISTED_STATIC
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "<p><em>An interactive widget is shown here when the notebook runs in JupyterLab "
    "(<code>make lab</code>); the static figure above shows the same thing.</em></p>"
)
SYLLABUS_MARKER = "<!-- SYLLABUS -->"
TIMING_MARKER = "<!-- TIMING -->"
# front and back matter sections are merged into one row each in the timing tables
_SECTION_GROUPS = {
    "introduction": "Introduction and set-up",
    "learning objectives": "Introduction and set-up",
    "prerequisites": "Introduction and set-up",
    "parameters": "Introduction and set-up",
    "set-up": "Introduction and set-up",
    "setup": "Introduction and set-up",
    "key points": "Key points and what's next",
    "what's next": "Key points and what's next",
    "saving the results": "Key points and what's next",
}
_LESSON_NAME = re.compile(r"^(\d\d)_[\w-]+\.ipynb$")


# --------------------------------------------------------------------------- notebooks


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _title(notebook, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def prepare_lesson_notebook(notebook):
    """Return the site's copy of a lesson notebook (the input is not modified).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        An executed lesson notebook.

    Returns
    -------
    nbformat.NotebookNode
        A copy whose HTML outputs reference no remote files, whose widget
        outputs are replaced by a short note, and whose ``solution`` cells are
        tagged ``hide-input`` (collapsed on the page).

    Example
    -------
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]})
    >>> nb = nbformat.v4.new_notebook(cells=[cell])
    >>> prepare_lesson_notebook(nb).cells[0].metadata.tags
    ['solution', 'hide-input']
    """
    import nbformat

    from course_utils.build.figures import add_alt_text
    from course_utils.build.lecture_slides import localise_outputs

    site_nb = copy.deepcopy(notebook)
    site_nb.metadata.pop("widgets", None)
    for cell in site_nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if "solution" in tags and "hide-input" not in tags:
            tags.append("hide-input")
        outputs = []
        for output in cell.get("outputs", []):
            if WIDGET_MIME in output.get("data", {}):
                outputs.append(
                    nbformat.v4.new_output(
                        "display_data",
                        data={"text/html": WIDGET_NOTE, "text/plain": "[interactive widget]"},
                    )
                )
            else:
                outputs.append(output)
        cell.outputs = outputs
    return add_alt_text(localise_outputs(site_nb))


def lesson_sections(notebook) -> list[tuple[str, int]]:
    """Split a lesson into its ``##`` sections with an estimate of teaching minutes each.

    The lesson's ``metadata.course.estimated_minutes`` is shared between the
    sections in proportion to their content: words of markdown, lines of code,
    figures (each counted as 60 words) and exercises (each counted as 250 words,
    the time students need to try them). The front matter (objectives,
    prerequisites, parameters, set-up) and the back matter (key points, what's
    next) are merged into one row each. Estimates are rounded to whole minutes.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A lesson notebook.

    Returns
    -------
    list of (str, int)
        Section title and estimated minutes, in notebook order; the minutes
        add up to the lesson's total within rounding.

    Example
    -------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## A\\none two")])
    >>> nb.metadata["course"] = {"estimated_minutes": 10}
    >>> lesson_sections(nb)
    [('A', 10)]
    >>> nb.cells.insert(0, nbformat.v4.new_markdown_cell("## Learning objectives\\n- a"))
    >>> [title for title, _ in lesson_sections(nb)]
    ['Introduction and set-up', 'A']
    """
    total_minutes = int(notebook.metadata.get("course", {}).get("estimated_minutes", 0) or 0)
    sections: list[list] = []
    for cell in notebook.cells:
        text = _source(cell)
        if cell.cell_type == "markdown":
            for line in text.splitlines():
                if line.startswith("## "):
                    sections.append([line[3:].strip(), 0.0])
            weight = len(re.findall(r"\w+", text))
            if re.search(r"^#+\s+Exercise", text, re.M):
                weight += 250
        elif cell.cell_type == "code":
            weight = 4 * len([line for line in text.splitlines() if line.strip()])
            weight += 60 * sum(
                any(mime.startswith("image/") for mime in out.get("data", {}))
                for out in cell.get("outputs", [])
            )
        else:
            weight = 0
        if not sections:
            sections.append(["Introduction", 0.0])
        sections[-1][1] += weight
    merged: list[list] = []
    for title, weight in sections:
        title = _SECTION_GROUPS.get(title.lower(), title)
        if merged and merged[-1][0] == title:
            merged[-1][1] += weight
        else:
            merged.append([title, weight])
    sections = merged
    total_weight = sum(weight for _, weight in sections) or 1.0
    return [
        (title, int(round(total_minutes * weight / total_weight))) for title, weight in sections
    ]


def _md_escape(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` outside backtick code spans; collapse whitespace."""
    text = " ".join(str(text).split())
    parts = text.split("`")
    for index in range(0, len(parts), 2):
        escaped = html.escape(parts[index], quote=False)
        parts[index] = escaped.replace("*", "\\*").replace("_", "\\_")
    return "`".join(parts)


def _cell_text(text: str) -> str:
    return _md_escape(text).replace("|", "\\|")


def _readme_syllabus() -> dict[str, str]:
    """Lesson number -> 'what it teaches' from the README's syllabus table."""
    if not README.is_file():
        return {}
    topics = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*(\d\d)\s*\|\s*`?[\w-]+`?\s*\|\s*(.*?)\s*\|\s*[^|]*\|\s*$", line)
        if match:
            topics[match.group(1)] = match.group(2)
    return topics


def syllabus_markdown(notebooks) -> str:
    """The home page's syllabus: one row per lesson, linked to its page.

    Parameters
    ----------
    notebooks : list of Path
        Lesson notebooks, in teaching order.

    Returns
    -------
    str
        A markdown table (lesson, title, what it teaches, minutes).
    """
    import nbformat

    topics = _readme_syllabus()
    rows = ["| # | lesson | what it teaches | time |", "|---|---|---|---|"]
    total = 0
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        number = path.name[:2]
        minutes = notebook.metadata.get("course", {}).get("estimated_minutes", "")
        total += int(minutes or 0)
        title = _cell_text(_title(notebook, path.stem))
        rows.append(
            f"| {number} | [{title}](lessons/{path.stem}.ipynb) | "
            f"{topics.get(number, '')} | {minutes} min |"
        )
    rows.append(f"| | **total** | | **{total} min** (about {total / 60:.1f} h) |")
    return "\n".join(rows) + "\n"


def timing_markdown(notebooks) -> str:
    """Instructors' timing: minutes per lesson and an estimate per ``##`` section.

    Parameters
    ----------
    notebooks : list of Path
        Lesson notebooks, in teaching order.

    Returns
    -------
    str
        Markdown: a summary table, then one collapsible table per lesson.
    """
    import nbformat

    lines = ["| lesson | minutes | sections | exercises |", "|---|---|---|---|"]
    details = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        title = _cell_text(_title(notebook, path.stem))
        minutes = notebook.metadata.get("course", {}).get("estimated_minutes", "")
        sections = lesson_sections(notebook)
        n_exercises = sum("solution" in cell.metadata.get("tags", []) for cell in notebook.cells)
        lines.append(
            f"| [{title}](lessons/{path.stem}.ipynb) | {minutes} | {len(sections)} | {n_exercises} |"
        )
        rows = "\n".join(
            f"<tr><td>{html.escape(name)}</td><td>{mins}</td></tr>" for name, mins in sections
        )
        details.append(
            f"<details><summary>{html.escape(_title(notebook, path.stem))}: "
            f"{minutes} min by section</summary>\n\n"
            f"<table><thead><tr><th>section</th><th>minutes (estimate)</th></tr></thead>"
            f"<tbody>\n{rows}\n</tbody></table>\n\n</details>\n"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(details)


# --------------------------------------------------------------------------- datasets

_DATASET_FIELDS = [
    ("kind", "kind"),
    ("modality", "modality"),
    ("licence", "licence"),
    ("source", "source"),
    ("imitates", "imitates"),
    ("imitated_by", "imitated by (generated twin)"),
    ("generated_twin", "generated twin"),
    ("generator", "generator"),
    ("package", "package"),
    ("package_version", "package version"),
    ("size_on_disk", "size on disk"),
]
_LIST_SECTIONS = [
    ("citation", "Cite"),
    ("known_problems", "Known problems"),
    ("other_pitfalls", "Other pitfalls"),
    ("quirks", "Quirks (deliberate, for the lessons)"),
    ("notes", "Notes"),
]
_KIND_ORDER = {"external": 0, "generated": 1, "package": 2}


def _value_markdown(value, depth: int = 0) -> str:
    """Render a YAML value as markdown bullets (nested dicts and lists)."""
    indent = "  " * depth
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list):
                out.append(f"{indent}- `{key}`:\n{_value_markdown(item, depth + 1)}")
            else:
                out.append(f"{indent}- `{key}`: {_md_escape(item)}")
        return "\n".join(out)
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and {"id", "problem"} <= set(item):
                out.append(f"{indent}- **{_md_escape(item['id'])}**: {_md_escape(item['problem'])}")
            elif isinstance(item, dict | list):
                first, *rest = _value_markdown(item, depth + 1).splitlines() or [""]
                out.append(f"{indent}- {first.strip()[2:]}" + "".join("\n" + r for r in rest))
            else:
                out.append(f"{indent}- {_md_escape(item)}")
        return "\n".join(out)
    return f"{indent}{_md_escape(value)}"


def _shorten(value, width: int) -> str:
    text = " ".join(str(value).split())
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0].rstrip(",;:(") + " …"


def _link(value) -> str:
    text = " ".join(str(value).split())
    if re.fullmatch(r"https?://\S+", text):
        return f"<{text}>"
    return _cell_text(text)


def datasets_markdown(manifest_dir=MANIFEST_DIR) -> str:
    """The datasets page, generated from the YAML manifests.

    Parameters
    ----------
    manifest_dir : str or Path
        Folder of ``*.yaml`` manifests.

    Returns
    -------
    str
        Markdown: an overview table, then one section per dataset (summary
        table, description, how to obtain it for external datasets, layout,
        known problems and quirks, and the full manifest in a collapsed block).

    Raises
    ------
    FileNotFoundError
        If ``manifest_dir`` holds no ``*.yaml`` file.
    """
    manifest_dir = Path(manifest_dir)
    paths = sorted(manifest_dir.glob("*.yaml"))
    if not paths:
        raise FileNotFoundError(f"manifest_dir: no *.yaml manifests in {manifest_dir}")
    manifests = [(path, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in paths]
    manifests.sort(key=lambda item: (_KIND_ORDER.get(item[1].get("kind"), 9), item[1]["name"]))

    out = [
        "# Datasets",
        "",
        "Every dataset the course uses is described by a manifest in `data_manifests/`; this page "
        "is generated from them. **External** datasets are never downloaded by the course: get "
        "them yourself, check them with `python -m course_utils data validate NAME PATH`, and pass "
        "the folder to a lesson as `data_dir`. **Generated** datasets imitate them and are built on "
        "first use (`python -m course_utils data build`). **Package** samples are real files that "
        "ship inside PyPI packages.",
        "",
        "| dataset | kind | modality | licence |",
        "|---|---|---|---|",
    ]
    for _, manifest in manifests:
        name = manifest["name"]
        out.append(
            f"| [{name}](#dataset-{name}) | {manifest.get('kind', '')} | "
            f"{_cell_text(manifest.get('modality', ''))} | "
            f"{_cell_text(_shorten(manifest.get('licence', ''), 80))} |"
        )
    out.append("")
    for path, manifest in manifests:
        name = manifest["name"]
        out += [f"(dataset-{name})=", f"## {name}", ""]
        out += ["| | |", "|---|---|"]
        for key, label in _DATASET_FIELDS:
            if manifest.get(key) not in (None, ""):
                out.append(f"| {label} | {_link(manifest[key])} |")
        out += ["", _md_escape(manifest.get("description", "")), ""]
        if manifest.get("realism"):
            out += ["**Where the imitation stops**", "", _md_escape(manifest["realism"]), ""]
        if manifest.get("how_to_obtain"):
            out += ["**How to obtain it**", "", _md_escape(manifest["how_to_obtain"]), ""]
            out += [
                f"Check your copy with `python -m course_utils data validate {name} PATH`.",
                "",
            ]
        if manifest.get("kind") == "generated":
            out += [f"Build it with `python -m course_utils data build {name}`.", ""]
        layout = manifest.get("layout") or manifest.get("accepted_layouts")
        if layout:
            out += ["**Layout**", "", _value_markdown(layout), ""]
        if manifest.get("files") and manifest.get("kind") == "package":
            out += ["**Files**", "", _value_markdown(manifest["files"]), ""]
        for key, label in _LIST_SECTIONS:
            if manifest.get(key):
                out += [f"**{label}**", "", _value_markdown(manifest[key]), ""]
        full = html.escape(path.read_text(encoding="utf-8"))
        out += [
            f"<details><summary>The full manifest: <code>data_manifests/{path.name}</code>"
            "</summary>",
            "",
            f"<pre>{full}</pre>",
            "",
            "</details>",
            "",
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------- build


def _lesson_notebooks(notebook_dir: Path) -> list[Path]:
    return sorted(p for p in notebook_dir.glob("*.ipynb") if _LESSON_NAME.match(p.name))


def stage_sources(staging_dir, *, docs_dir=DOCS_DIR, notebook_dir=NOTEBOOK_DIR) -> Path:
    """Assemble the book's sources in ``staging_dir`` (emptied first).

    Parameters
    ----------
    staging_dir : str or Path
        Folder for the sources (e.g. ``build/site-src``); its contents are replaced.
    docs_dir, notebook_dir : str or Path
        Where the hand-written pages and the lesson notebooks are.

    Returns
    -------
    Path
        ``staging_dir``.

    Raises
    ------
    FileNotFoundError
        If ``docs_dir`` lacks ``_config.yml`` or ``_toc.yml``, or ``notebook_dir`` holds no lesson.
    """
    import nbformat

    docs_dir, notebook_dir, staging_dir = Path(docs_dir), Path(notebook_dir), Path(staging_dir)
    for required in ("_config.yml", "_toc.yml", "intro.md", "instructors.md"):
        if not (docs_dir / required).is_file():
            raise FileNotFoundError(f"docs_dir: {docs_dir / required} is missing")
    notebooks = _lesson_notebooks(notebook_dir)
    if not notebooks:
        raise FileNotFoundError(
            f"notebook_dir: no lesson notebooks (NN_name.ipynb) in {notebook_dir}"
        )

    if staging_dir.exists():
        shutil.rmtree(staging_dir)
    shutil.copytree(docs_dir, staging_dir)
    lessons_dir = staging_dir / "lessons"
    lessons_dir.mkdir()
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        nbformat.write(prepare_lesson_notebook(notebook), lessons_dir / path.name)
    # assets next to the notebooks (images referenced from markdown), if any
    for item in notebook_dir.iterdir():
        if item.is_file() and item.suffix.lower() in {".png", ".jpg", ".jpeg", ".svg", ".gif"}:
            shutil.copy2(item, lessons_dir / item.name)

    intro = staging_dir / "intro.md"
    intro.write_text(
        intro.read_text(encoding="utf-8").replace(SYLLABUS_MARKER, syllabus_markdown(notebooks)),
        encoding="utf-8",
    )
    instructors = staging_dir / "instructors.md"
    instructors.write_text(
        instructors.read_text(encoding="utf-8").replace(TIMING_MARKER, timing_markdown(notebooks)),
        encoding="utf-8",
    )
    (staging_dir / "datasets.md").write_text(datasets_markdown(), encoding="utf-8")
    # not in _static/: Jupyter Book would add every script there to every page, and MathJax
    # would run twice on pages with maths (docs/_ext/course_site_assets.py copies this folder
    # to the output's _static/ without listing it; sphinx.ext.mathjax loads it where needed)
    shutil.copytree(MATHJAX_DIR, staging_dir / MATHJAX_STAGING / "mathjax")
    return staging_dir


def build_site(out_dir, *, staging_dir=None, docs_dir=DOCS_DIR, notebook_dir=NOTEBOOK_DIR) -> Path:
    """Build the course website with Jupyter Book into ``out_dir`` (replaced).

    Parameters
    ----------
    out_dir : str or Path
        Where the HTML goes (``build/site``).
    staging_dir : str or Path, optional
        Where the sources are assembled; default ``<out_dir>-src``.
    docs_dir, notebook_dir : str or Path
        Sources of the hand-written pages and of the lessons.

    Returns
    -------
    Path
        ``out_dir / "index.html"``.

    Raises
    ------
    RuntimeError
        If Jupyter Book fails; the message holds the end of its log.
    """
    out_dir = Path(out_dir).resolve()
    staging_dir = (
        Path(staging_dir).resolve() if staging_dir else out_dir.with_name(out_dir.name + "-src")
    )
    stage_sources(staging_dir, docs_dir=docs_dir, notebook_dir=notebook_dir)
    work_dir = staging_dir.with_name(staging_dir.name + "-work")
    if work_dir.exists():  # a clean build: no stale pages of renamed lessons
        shutil.rmtree(work_dir)
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    command = [
        sys.executable,
        "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build",
        str(staging_dir),
        "--path-output",
        str(work_dir),
        "--builder",
        "html",
        "--keep-going",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    html_dir = work_dir / "_build" / "html"
    log = (result.stdout or "") + (result.stderr or "")
    if result.returncode != 0 or not (html_dir / "index.html").is_file():
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}):\n{log[-4000:]}")
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(html_dir, out_dir)
    (out_dir / "build-warnings.txt").write_text("\n".join(warnings) + "\n", encoding="utf-8")
    return out_dir / "index.html"
