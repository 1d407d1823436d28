"""Alt text for the figures of a lesson (site and lecture slides), and compact stored figures.

A figure's alt text is, in order of preference, the code cell's ``metadata.course.alt``
(written by the lesson's author), or the first sentence of the markdown cell that
introduces the figure (the course's "explain, then show" rule makes that cell a description
of what the figure shows), prefixed with "Figure:".
"""

from __future__ import annotations

import base64
import io
import re

__all__ = [
    "ALT_MAX_CHARS",
    "COMPACT_MIN_BYTES",
    "add_alt_text",
    "compact_figures",
    "figure_alt_text",
]

ALT_MAX_CHARS = 200
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")


def _plain(markdown: str) -> str:
    """Markdown to one line of plain text: no headings marks, emphasis, code ticks, links, maths."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^\s{0,3}#+\s*(.*)$", r"\1.", text, flags=re.M)
    text = re.sub(r"\$([^$]*)\$", r"\1", text)
    text = re.sub(r"[*_`<>|]", "", text)
    text = re.sub(r"\.\.+", ".", text)
    return re.sub(r"\s+", " ", text).strip()


def _first_sentences(text: str, limit: int = ALT_MAX_CHARS) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > limit:
            break
        out = candidate
        if len(out) >= 60:
            break
    if not out:
        out = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return out


def _has_figure(cell) -> bool:
    return any(
        mime in output.get("data", {}) for output in cell.get("outputs", []) for mime in IMAGE_MIMES
    )


def figure_alt_text(cells, index: int) -> str:
    """A short description of the figure(s) made by ``cells[index]``.

    Example
    -------
    >>> import nbformat
    >>> md = nbformat.v4.new_markdown_cell("## 2. Windows\\n\\nThe same slice in six windows. More.")
    >>> code = nbformat.v4.new_code_cell("plt.show()")
    >>> figure_alt_text([md, code], 1)
    'Figure: 2. Windows. The same slice in six windows.'
    """
    cell = cells[index]
    given = cell.get("metadata", {}).get("course", {}).get("alt")
    if given:
        return str(given).strip()
    comments = [
        line.strip().lstrip("#").strip()
        for line in "".join(cell.get("source", "")).splitlines()
        if line.strip().startswith("#") and len(line.strip()) > 12
    ]
    for previous in reversed(cells[:index]):
        if previous.get("cell_type") == "markdown":
            text = _plain("".join(previous.get("source", "")))
            notice = re.match(r"(?i)what to notice:?\s*", text)
            if notice and comments:  # a note on the figure before: the cell's own comment is better
                text = comments[0]
            elif notice:
                text = text[notice.end() :]
            if text:
                return "Figure: " + _first_sentences(text, ALT_MAX_CHARS - len("Figure: "))
    return "Figure made by the code cell above."


def add_alt_text(notebook):
    """Write alt text into every figure cell of ``notebook`` (modified in place, and returned).

    The text goes where both renderers read it: the cell's ``metadata.mystnb.image.alt``
    (MyST-NB, the site) and each image output's ``metadata[mime].alt`` (the slide template).
    """
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code" or not _has_figure(cell):
            continue
        alt = figure_alt_text(notebook.cells, index)
        cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt
        for output in cell.get("outputs", []):
            for mime in IMAGE_MIMES:
                if mime in output.get("data", {}):
                    output.setdefault("metadata", {}).setdefault(mime, {})["alt"] = alt
    return notebook


#: Stored PNG figures larger than this are re-encoded as 256-colour PNGs when that saves a fifth.
COMPACT_MIN_BYTES = 200_000


def _palette_png(png: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        if image.mode == "P":
            return png
        buffer = io.BytesIO()
        image.convert("RGB").quantize(colors=256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def compact_figures(notebook, min_bytes: int = COMPACT_MIN_BYTES) -> int:
    """Store large PNG outputs of ``notebook`` as 256-colour PNGs (in place); return bytes saved.

    A lesson's figures are greyscale images, colour maps and line plots, which 256 colours hold
    without visible change; a refresh then keeps notebooks under the contract's size limit.
    A figure is replaced only when the palette version is at least a fifth smaller, so text,
    SVG and small PNGs are never touched.

    Example
    -------
    >>> import nbformat
    >>> compact_figures(nbformat.v4.new_notebook())
    0
    """
    if not isinstance(min_bytes, int) or min_bytes < 0:
        raise ValueError(f"min_bytes must be a non-negative integer, got {min_bytes!r}")
    saved = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            encoded = output.get("data", {}).get("image/png")
            if not encoded:
                continue
            text = "".join(encoded) if isinstance(encoded, list) else encoded
            png = base64.b64decode(text)
            if len(png) < min_bytes:
                continue
            smaller = _palette_png(png)
            if len(smaller) <= 0.8 * len(png):
                output["data"]["image/png"] = base64.b64encode(smaller).decode("ascii")
                saved += len(png) - len(smaller)
    return saved
