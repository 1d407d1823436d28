"""Tests for the checks of lesson 01: right answers pass, typical wrong answers get specific feedback."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import exposure

from course_utils import data, dicom
from course_utils.exercises import lesson01


@pytest.fixture(scope="module")
def ct():
    hu, meta = dicom.read_dicom_image(data.sample_path("693_J2KR.dcm"))
    return hu, meta["pixel_spacing_mm"]


def _stub(*args):
    raise NotImplementedError


# --------------------------------------------------------------------------- exercise 1
def test_modality_right(capsys):
    assert lesson01.check_to_modality_values(lambda s, m, b: np.asarray(s, float) * m + b)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda s, m, b: s * m, "intercept is missing"),
        (lambda s, m, b: s + b, "slope is not applied"),
        (lambda s, m, b: None, "returned None"),
        (_stub, "not implemented yet"),
        (lambda s, m, b: (s * np.int16(m) + np.int16(b)).astype(np.int16), "integer dtype"),
        (lambda s, m, b: np.zeros(3), "shape"),
    ],
)
def test_modality_wrong(function, message, capsys):
    assert not lesson01.check_to_modality_values(function)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 2
@pytest.mark.parametrize("window", [(400, 1800), (600, 2800), (300, 1500)])
def test_bone_window_right(window, ct, capsys):
    assert lesson01.check_bone_window(window, ct[0])
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ((40, 80), "pure white"),
        ((50, 350), "pure white"),
        ((1000, 600), "pure black"),
        ((1000, 6000), "grey levels"),
        ((0, 3000), "soft tissue"),
        ((400, 0), "width must be positive"),
        ((400,), "pair"),
        (None, "got None"),
        ((np.nan, 100), "finite"),
    ],
)
def test_bone_window_wrong(window, message, ct, capsys):
    assert not lesson01.check_bone_window(window, ct[0])
    assert message in capsys.readouterr().out


def test_bone_window_needs_bone(capsys):
    assert not lesson01.check_bone_window((400, 1800), np.zeros((8, 8)))
    assert "no bone" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 3
def _equalise(image):
    levels = image.astype(np.int64) - int(image.min())
    return (np.cumsum(np.bincount(levels.ravel())) / image.size)[levels]


def _equalise_shifted(image):
    levels = image.astype(np.int64) - int(image.min())
    cdf = np.cumsum(np.bincount(levels.ravel()))
    return (cdf[levels] - cdf[0]) / (image.size - cdf[0])


def _equalise_256_bins(image):
    counts, edges = np.histogram(image, 256)
    cdf = np.cumsum(counts) / image.size
    return cdf[np.clip(np.digitize(image, edges[1:-1]), 0, 255)]


@pytest.mark.parametrize("function", [_equalise, _equalise_shifted, exposure.equalize_hist])
def test_equalise_right(function, capsys):
    assert lesson01.check_equalize_from_cdf(function)
    assert "✅" in capsys.readouterr().out


def test_equalise_right_on_lesson_images(capsys):
    picture = dicom.read_image(data.sample_path("microaneurysms.png"))[0].astype(np.uint8)
    radiograph = np.random.default_rng(0).integers(800, 27000, (60, 60)).astype(np.uint16)
    assert lesson01.check_equalize_from_cdf(_equalise, picture, radiograph)


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (_equalise_256_bins, "a 256-entry table"),
        (lambda im: _equalise(im) * 255, "expected the range [0, 1]"),
        (lambda im: 1 - _equalise(im), "decrease"),
        (lambda im: None, "returned None"),
        (_stub, "not implemented yet"),
        (lambda im: im[1:], "shape"),
        (lambda im: np.full(im.shape, np.nan), "NaN"),
    ],
)
def test_equalise_wrong(function, message, capsys):
    assert not lesson01.check_equalize_from_cdf(function)
    assert message in capsys.readouterr().out


def test_equalise_rejects_float_test_image():
    with pytest.raises(ValueError, match="integer dtype"):
        lesson01.check_equalize_from_cdf(_equalise, np.zeros((4, 4)))


# --------------------------------------------------------------------------- exercise 4
def test_brain_mask_right(ct, capsys):
    hu, spacing = ct
    candidate = ndi.binary_opening((hu >= 0) & (hu <= 80), iterations=2)
    labels, _ = ndi.label(candidate)
    mask = ndi.binary_fill_holes(labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    area = mask.sum() * spacing[0] * spacing[1]
    assert 8000 < area < 16000  # an axial brain section: about 80-160 cm²
    assert lesson01.check_region_mask(mask, area, hu, spacing)
    assert capsys.readouterr().out.count("✅") == 2


def test_brain_mask_slightly_different_threshold_still_passes(ct):
    hu, spacing = ct
    candidate = ndi.binary_opening((hu >= 10) & (hu <= 70), iterations=2)
    labels, _ = ndi.label(candidate)
    mask = ndi.binary_fill_holes(labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    assert lesson01.check_region_mask(mask, mask.sum() * spacing[0] * spacing[1], hu, spacing)


def test_brain_mask_wrong(ct, capsys):
    hu, spacing = ct
    reference = lesson01.reference_region_mask(hu)
    pixel_area = spacing[0] * spacing[1]
    # area in pixels instead of mm²
    assert not lesson01.check_region_mask(reference, float(reference.sum()), hu, spacing)
    assert "area" in capsys.readouterr().out
    # whole head instead of brain
    head = ndi.binary_fill_holes(hu > -300)
    assert not lesson01.check_region_mask(head, head.sum() * pixel_area, hu, spacing)
    assert "too much" in capsys.readouterr().out
    # raw threshold with holes
    eroded = ndi.binary_erosion(reference, iterations=12)
    assert not lesson01.check_region_mask(eroded, eroded.sum() * pixel_area, hu, spacing)
    assert "too little" in capsys.readouterr().out
    assert not lesson01.check_region_mask(None, 1.0, hu, spacing)
    assert "got None" in capsys.readouterr().out
    assert not lesson01.check_region_mask(reference[1:], 1.0, hu, spacing)
    assert "shape" in capsys.readouterr().out


def test_foreground_mask_in_pixels():
    image = np.zeros((40, 40))
    image[10:30, 10:30] = 100.0
    mask = lesson01.reference_region_mask(image, "foreground")
    assert mask.sum() == 400
    assert lesson01.check_region_mask(mask, 400, image, None, target="foreground")


def test_reference_mask_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        lesson01.reference_region_mask(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="target"):
        lesson01.reference_region_mask(np.zeros((2, 2)), "lung")
