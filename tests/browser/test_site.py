"""The course site as a reader meets it: served over HTTP and opened in headless Chromium.

The site is built with ``python -m course_utils site`` into ``build/site/`` when it is
missing or older than its sources (notebooks, ``docs/``, manifests, README, the builder);
without that subcommand the tests skip. ``COURSE_SITE_DIR=/path`` tests a site
already built elsewhere. It is served by a loopback ``http.server`` on a free
port (stopped at the end), and:

* every page reachable from the home page is crawled; each internal link (``href``/``src``
  to the site itself) answers HTTP 200, and a ``#fragment`` names an element of its target;
* the home page and every lesson page are opened in Chromium: every ``<img>`` loads
  (``naturalWidth > 0``), nothing is requested from outside the site (it must work offline),
  and there are no console errors or uncaught exceptions;
* each lesson in ``notebooks/`` has its page on the site.

Screenshots (one screen each): ``build/screens/site-home.png``, ``site-<notebook>.png`` (top
of the lesson page) and ``site-<notebook>-figure.png`` (scrolled to its first figure).
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from course_utils.build.execution import discover_notebooks

from .conftest import committed_image_count, http_get

# The group asks pytest-xdist to keep these tests on one worker; pytest 9 with xdist 3.8 ignores
# it (both workers ran site tests in CI and raced on build/site-src), so ``site_dir`` also takes
# a file lock: whichever worker gets it first builds, the other waits and reuses the build.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("site")]

ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = ROOT / "build" / "site"
SITE_SOURCES = [ROOT / "notebooks", ROOT / "docs", ROOT / "data_manifests", ROOT / "README.md"]
BUILDER = ROOT / "course_utils" / "build" / "site.py"
NOTEBOOKS = discover_notebooks(ROOT / "notebooks")
PAGES = ["home"] + [path.stem for path in NOTEBOOKS]
MAX_PAGES = 300


def newest_mtime(paths) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and ".ipynb_checkpoints" not in child.parts:
                    newest = max(newest, child.stat().st_mtime)
    return newest


def site_is_current() -> bool:
    index = SITE_DIR / "index.html"
    if not index.is_file():
        return False
    return index.stat().st_mtime >= newest_mtime([*SITE_SOURCES, BUILDER])


@pytest.fixture(scope="session")
def site_dir(chromium_path) -> Path:
    """``build/site``, built (or rebuilt when stale) with ``python -m course_utils site``.

    ``COURSE_SITE_DIR=/path`` tests a site already built there instead (nothing is built).
    """
    chosen = os.environ.get("COURSE_SITE_DIR")
    if chosen:
        if not (Path(chosen) / "index.html").is_file():
            pytest.fail(f"COURSE_SITE_DIR={chosen} has no index.html")
        return Path(chosen)
    with _build_lock():  # a worker that waited here finds the other's finished build current
        if site_is_current() or os.environ.get("COURSE_SITE_REUSE") == "1" and SITE_DIR.is_dir():
            return SITE_DIR
        return _build_site()


@contextlib.contextmanager
def _build_lock():
    """An exclusive lock on ``build/site.lock`` (POSIX ``flock``; no lock where there is none)."""
    SITE_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(SITE_DIR.parent / "site.lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: xdist workers there must not share a clone's build/
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_site() -> Path:
    probe = subprocess.run(
        [sys.executable, "-m", "course_utils", "site", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(
            "site tests skipped: `python -m course_utils site` does not exist yet and "
            f"{SITE_DIR.relative_to(ROOT)}/index.html is missing"
        )
    build = subprocess.run(
        [sys.executable, "-m", "course_utils", "site"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0 and (SITE_DIR / "index.html").is_file(), (
        f"`python -m course_utils site` failed (exit {build.returncode}):\n"
        f"{(build.stdout + build.stderr)[-4000:]}"
    )
    return SITE_DIR


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="session")
def site_url(site_dir) -> str:
    """Base URL of ``build/site`` served on a free loopback port; stopped afterwards."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --------------------------------------------------------------------------- crawling
class _LinkParser(html.parser.HTMLParser):
    """Collects the ids/names of a page and its href/src references."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.references: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.anchors.add(values[key])
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url\s*=\s*['\"]?([^'\";]+)", values.get("content") or "", re.I)
            if match:  # a redirect page, e.g. Jupyter Book's index.html
                self.references.append((tag, match.group(1).strip()))
        for key in ("href", "src"):
            target = values.get(key)
            if target and not (tag == "link" and "preconnect" in (values.get("rel") or "")):
                self.references.append((tag, target))


@dataclass
class Page:
    url: str
    status: int
    anchors: set[str] = field(default_factory=set)
    references: list[tuple[str, str]] = field(default_factory=list)


def _internal(url: str, base: str) -> bool:
    return url.startswith(base)


@pytest.fixture(scope="session")
def crawl(site_url) -> dict[str, Page]:
    """Every HTML page reachable from the home page, by URL (without fragment)."""
    pages: dict[str, Page] = {}
    queue = deque([site_url])
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        if url in pages:
            continue
        status, body = http_get(url)
        page = Page(url, status)
        pages[url] = page
        if status != 200 or not (url.endswith(".html") or url.endswith("/")):
            continue
        parser = _LinkParser()
        parser.feed(body.decode("utf-8", errors="replace"))
        page.anchors = parser.anchors
        page.references = parser.references
        for _tag, reference in parser.references:
            target = urllib.parse.urldefrag(urllib.parse.urljoin(url, reference))[0]
            if _internal(target, site_url) and target.endswith((".html", "/")):
                queue.append(target)
    return pages


def home_page_url(crawl: dict[str, Page], site_url: str) -> str:
    """The page a reader lands on: the site root, after any meta-refresh redirects."""
    url, seen = site_url, set()
    while url in crawl and url not in seen:
        seen.add(url)
        redirects = [ref for tag, ref in crawl[url].references if tag == "meta"]
        if not redirects:
            break
        url = urllib.parse.urldefrag(urllib.parse.urljoin(url, redirects[0]))[0]
    return url


def lesson_page_url(crawl: dict[str, Page], stem: str) -> str | None:
    for url in crawl:
        if urllib.parse.urlparse(url).path.rsplit("/", 1)[-1] == f"{stem}.html":
            return url
    return None


# --------------------------------------------------------------------------- tests
def test_every_lesson_has_a_page(crawl, site_url):
    missing = [stem for stem in PAGES[1:] if lesson_page_url(crawl, stem) is None]
    assert not missing, (
        f"lessons without a page reachable from {site_url}: {missing}; pages found: {sorted(crawl)}"
    )


def test_every_internal_link_resolves(crawl, site_url):
    broken: list[str] = []
    checked: dict[str, int] = {url: page.status for url, page in crawl.items()}
    anchors_of: dict[str, set[str]] = {url: page.anchors for url, page in crawl.items()}
    for url, page in crawl.items():
        if page.status != 200:
            continue
        for tag, reference in page.references:
            if reference.startswith(("mailto:", "javascript:", "data:", "tel:")):
                continue
            target, fragment = urllib.parse.urldefrag(urllib.parse.urljoin(url, reference))
            if not _internal(target, site_url):
                continue
            if target not in checked:
                checked[target] = http_get(target)[0]
            if checked[target] != 200:
                broken.append(f"{url}: <{tag}> {reference} -> HTTP {checked[target]}")
            elif fragment and target in anchors_of and fragment not in anchors_of[target]:
                broken.append(f"{url}: <{tag}> {reference} -> no element with id {fragment!r}")
    assert not broken, f"{len(broken)} internal links do not resolve:\n" + "\n".join(
        sorted(set(broken))[:60]
    )


@pytest.mark.parametrize("page_name", PAGES)
def test_page_renders(page_name, crawl, site_url, browser, screen_dir):
    url = (
        home_page_url(crawl, site_url) if page_name == "home" else lesson_page_url(crawl, page_name)
    )
    if url is None:
        pytest.fail(
            f"no page for lesson {page_name} on the site (see test_every_lesson_has_a_page)"
        )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    outside: list[str] = []

    def block_outside(route):
        outside.append(route.request.url)
        route.abort()

    try:
        context.route(
            lambda address: not address.startswith(site_url) and not address.startswith("data:"),
            block_outside,
        )
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                problems.append(f"console {message.type}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
        response = page.goto(url, wait_until="load", timeout=60_000)
        assert response is not None and response.status == 200, (
            f"{url}: HTTP {response and response.status}"
        )
        # Make lazy images load, then wait for every image to finish (load or error).
        page.evaluate(
            """async () => {
              const images = Array.from(document.images);
              images.forEach((img) => { img.loading = "eager"; });
              window.scrollTo(0, document.body.scrollHeight);
              await Promise.all(images.map((img) => img.complete ? null :
                new Promise((done) => { img.addEventListener("load", done);
                                        img.addEventListener("error", done); })));
              window.scrollTo(0, 0);
            }"""
        )
        page.wait_for_load_state("networkidle", timeout=30_000)
        images = page.evaluate(
            """() => Array.from(document.images).map((img) => ({
                 src: img.currentSrc || img.src, complete: img.complete,
                 width: img.naturalWidth, output: !!img.closest(".cell_output, .output"),
                 svg: /\\.svg(\\?|$)/.test(img.currentSrc || img.src)}))"""
        )
        broken = [
            image["src"][:120]
            for image in images
            if not image["complete"] or (image["width"] == 0 and not image["svg"])
        ]
        broken += [
            image["src"][:120]
            for image in images
            if image["svg"] and image["width"] == 0 and http_get(image["src"])[0] != 200
        ]
        assert not broken, f"{url}: images that did not load: {broken}"
        if page_name != "home":
            figures = [image for image in images if image["output"]]
            committed = committed_image_count(ROOT / "notebooks" / f"{page_name}.ipynb")
            assert len(figures) >= committed, (
                f"{url}: {len(figures)} figures on the page, {committed} image/png outputs "
                "in the committed notebook"
            )
        assert not outside, f"{url}: requests to outside the site (it must work offline): {outside}"
        assert not problems, f"{url}: " + "\n".join(problems)
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.screenshot(path=str(screen_dir / f"site-{page_name}.png"))
        first_figure = page.locator(".cell_output img, .output img").first
        if first_figure.count():
            first_figure.evaluate("(node) => node.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(screen_dir / f"site-{page_name}-figure.png"))
        print(f"{page_name}: {len(images)} images, page height {height} px")
    finally:
        context.close()
