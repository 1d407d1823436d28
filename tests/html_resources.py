"""Helpers for tests of generated HTML: remote resources and broken relative links."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs that make a browser fetch something when the page loads
RESOURCE_ATTRIBUTES = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
}
_CSS_REMOTE = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*["']?\s*(?:https?:)?//""", re.I)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self._in_style = False
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.references.append((tag, name, value.strip()))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def references(html_text: str) -> list[tuple[str, str, str]]:
    """Every (tag, attribute, value) of href/src attributes in ``html_text``."""
    collector = _Collector()
    collector.feed(html_text)
    return collector.references


def remote_resources(html_text: str) -> list[str]:
    """Resources the page would load from the internet (scripts, styles, images, frames, CSS urls)."""
    collector = _Collector()
    collector.feed(html_text)
    found = [
        f"<{tag} {attribute}={value}>"
        for tag, attribute, value in collector.references
        if (tag, attribute) in RESOURCE_ATTRIBUTES and re.match(r"(?:https?:)?//", value, re.I)
    ]
    for style in collector.styles:
        found += [f"<style> {match.group(0)}" for match in _CSS_REMOTE.finditer(style)]
    return found


def remote_css_urls(css_text: str) -> list[str]:
    """``url(http...)`` and ``@import`` of remote files in a style sheet (comments removed)."""
    css_text = re.sub(r"/\*.*?\*/", "", css_text, flags=re.S)
    return [match.group(0) for match in _CSS_REMOTE.finditer(css_text)]


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.names.update(value for name, value in attrs if name in ("id", "name") and value)


def _anchors(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        parser = _Anchors()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = parser.names
    return cache[path]


def broken_relative_links(
    html_file: Path, root: Path, anchor_cache: dict | None = None
) -> list[str]:
    """Relative href/src values of ``html_file`` that point to no file under ``root``.

    A ``#fragment`` of a link to an HTML page (or within the page) must name an
    ``id`` (or ``name``) of the target page.
    """
    cache = {} if anchor_cache is None else anchor_cache
    broken = []
    where = html_file.relative_to(root)
    text = html_file.read_text(encoding="utf-8", errors="replace")
    for tag, attribute, value in references(text):
        parts = urlsplit(value)
        if parts.scheme or value.startswith("//"):
            continue  # external, data:, mailto:, javascript:
        if parts.path:
            target = (html_file.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/"):
                target = target / "index.html"
        else:
            target = html_file.resolve()
        if not target.exists():
            broken.append(f"{where}: <{tag} {attribute}={value}>")
        elif root.resolve() not in target.parents and target != root.resolve():
            broken.append(f"{where}: <{tag} {attribute}={value}> leaves the site")
        elif (
            parts.fragment
            and target.suffix == ".html"
            and not {parts.fragment, unquote(parts.fragment)} & _anchors(target, cache)
        ):
            broken.append(f"{where}: <{tag} {attribute}={value}> names no element of its page")
    return broken
