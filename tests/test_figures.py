"""Stored figures: large PNG outputs are kept as 256-colour PNGs, everything else untouched."""

from __future__ import annotations

import base64
import io

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_utils.build.figures import compact_figures


def _png(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _decoded(encoded: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _figure_cell(encoded: str):
    cell = nbformat.v4.new_code_cell("plt.show()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": encoded, "text/plain": "<Figure>"}
        )
    ]
    return cell


@pytest.fixture
def photo_like() -> np.ndarray:
    """A 700 x 700 smooth colour image with fine noise: large as RGB, small with a palette."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:700, 0:700] / 700.0
    rgb = np.stack([x, y, 0.5 * (x + y)], axis=-1) * 230 + rng.integers(0, 25, (700, 700, 3))
    return rgb.astype(np.uint8)


def test_a_large_figure_is_stored_with_a_palette_and_looks_the_same(photo_like):
    nb = nbformat.v4.new_notebook()
    original = _png(photo_like)
    nb.cells = [_figure_cell(original)]
    saved = compact_figures(nb, min_bytes=100_000)
    stored = nb.cells[0].outputs[0]["data"]["image/png"]
    assert saved > 0 and len(stored) < 0.8 * len(original)
    with Image.open(io.BytesIO(base64.b64decode(stored))) as image:
        assert image.mode == "P" and image.size == (700, 700)
    assert np.abs(_decoded(stored) - photo_like.astype(np.int16)).mean() < 8
    assert nb.cells[0].outputs[0]["data"]["text/plain"] == "<Figure>"


def test_small_figures_and_palette_figures_are_left_alone(photo_like):
    small = _png(photo_like[:40, :40])
    nb = nbformat.v4.new_notebook()
    nb.cells = [_figure_cell(small)]
    assert compact_figures(nb) == 0
    assert nb.cells[0].outputs[0]["data"]["image/png"] == small
    nb.cells = [_figure_cell(_png(photo_like))]
    compact_figures(nb, min_bytes=100_000)
    once = nb.cells[0].outputs[0]["data"]["image/png"]
    assert compact_figures(nb, min_bytes=100_000) == 0, "a palette figure was re-encoded"
    assert nb.cells[0].outputs[0]["data"]["image/png"] == once


def test_bad_threshold_is_a_clear_error():
    with pytest.raises(ValueError, match="min_bytes must be a non-negative integer"):
        compact_figures(nbformat.v4.new_notebook(), min_bytes=-1)
