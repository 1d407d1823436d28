"""Sphinx extension of the course website: each script is loaded once per page.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. It fixes two
ways in which the Jupyter Book 1.x stack (Sphinx 7.4) puts a script twice in a
page; a duplicated script is a JavaScript error in the browser, e.g.
``Identifier 'THEBE_JS_URL' has already been declared`` or MathJax's
``Cannot set property Package``.

1. Inline scripts added by extensions once the HTML builder exists
   (``app.add_js_file(None, body=...)`` from sphinx-thebe's and
   sphinx-togglebutton's event handlers) reach the builder with the file name
   ``None``; ``StandaloneHTMLBuilder.prepare_writing`` adds the registry's
   scripts again with the file name ``''``, and ``None != ''`` defeats the
   builder's de-duplication. Upstream fixed this in Sphinx 8.2 (sphinx-doc/sphinx
   pull request 13402), which Jupyter Book 1.x cannot use; :func:`_same_inline_name`
   applies the same normalisation to the builder.
2. Jupyter Book adds every ``*.js`` file under ``_static/`` to every page
   (``html_js_files``), so a MathJax copied there is loaded on every page and a
   second time by ``sphinx.ext.mathjax`` (``mathjax_path``) on pages with maths.
   The site builder therefore stages the vendored MathJax in
   ``_mathjax_static/`` (``UNLISTED_STATIC``) and :func:`_add_unlisted_static`
   adds that folder to ``html_static_path`` after Jupyter Book has read its
   configuration: the files are still copied to ``_static/mathjax/`` in the
   output, and only ``sphinx.ext.mathjax`` loads them, on the pages that need it.
"""

from __future__ import annotations

from pathlib import Path

UNLISTED_STATIC = "_mathjax_static"


def _add_unlisted_static(app, config) -> None:
    """Copy ``UNLISTED_STATIC`` into the output's ``_static`` without listing its scripts."""
    if (Path(app.confdir) / UNLISTED_STATIC).is_dir() and UNLISTED_STATIC not in (
        config.html_static_path
    ):
        config.html_static_path.append(UNLISTED_STATIC)


def _same_inline_name(app) -> None:
    """Give inline scripts the same file name (``''``) on every route into the builder."""
    builder = app.builder
    if not hasattr(builder, "add_js_file") or getattr(builder, "_inline_name_fixed", False):
        return
    add_js_file = builder.add_js_file

    def add_js_file_once(filename, **kwargs):
        return add_js_file(filename or "", **kwargs)

    builder.add_js_file = add_js_file_once
    builder._inline_name_fixed = True


def setup(app):
    """Register the two fixes (see the module docstring)."""
    app.connect("config-inited", _add_unlisted_static)
    # before the other extensions' builder-inited handlers add their inline scripts
    app.connect("builder-inited", _same_inline_name, priority=1)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
