"""Tests for the checks of lesson 01: right answers pass, typical wrong answers get specific feedback."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from scipy import ndimage as ndi
from skimage import exposure, filters

from course_utils import data, dicom
from course_utils.exercises import lesson01


@pytest.fixture(scope="module")
def ct():
    hu, meta = dicom.read_dicom_image(data.sample_path("693_J2KR.dcm"))
    return hu, meta["pixel_spacing_mm"]


def _stub(*args):
    raise NotImplementedError


# --------------------------------------------------------------------------- exercise 1
def _wrapping_add(s, m, b):
    """Integer arithmetic that wraps silently (what numpy 1 did with a Python int intercept)."""
    stored = np.asarray(s)
    if isinstance(m, int) and isinstance(b, int):  # numpy 1 kept int arithmetic in the stored dtype
        return (stored.astype(np.int64) * m + b).astype(stored.dtype)  # wraps modulo 2**16
    return stored * m + b


def _absent(value, default):
    return default if value is None else value


@pytest.mark.parametrize(
    "function",
    [
        lambda s, m, b: np.asarray(s, float) * _absent(m, 1) + _absent(b, 0),
        lambda s, m, b: np.asarray(s, np.float32) * _absent(m, 1.0) + _absent(b, 0.0),
        lambda s, m, b: _absent(m, 1) * np.asarray(s).astype(np.float64) + _absent(b, 0),
    ],
    ids=["float64", "float32", "astype"],
)
def test_modality_right(function, capsys):
    assert lesson01.check_to_modality_values(function)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        # the three most likely mistakes: arithmetic left in the stored dtype, a cast back, a lost term
        (lambda s, m, b: s * m + b, "OverflowError"),
        (_wrapping_add, "wrapped around"),
        (lambda s, m, b: (s * m + b).astype(np.asarray(s).dtype), "integer dtype uint16"),
        (lambda s, m, b: np.asarray(s).astype(np.int16) * m + b, "casting uint16 to int16 wraps"),
        (lambda s, m, b: np.round(np.asarray(s, float) * m + b), "rounded to whole numbers"),
        (lambda s, m, b: s * m, "intercept is missing"),
        (lambda s, m, b: s + b, "slope is not applied"),
        (lambda s, m, b: np.asarray(s, float) * b + m, "slope and intercept are swapped"),
        (lambda s, m, b: None, "returned None"),
        (_stub, "not implemented yet"),
        (lambda s, m, b: np.zeros(3), "shape"),
        (lambda s, m, b: 1 / 0, "ZeroDivisionError"),
        # the transfer case: no rescale tags (None), which the lesson's cells never show
        (lambda s, m, b: np.asarray(s, float) * m + b, "None was used as a number"),
        (lambda s, m, b: np.asarray(s, float) * (m or 0) + (b or 0), "no rescale tags"),
    ],
    ids=[
        "stored-dtype",
        "silent-wrap",
        "cast-back",
        "int16-cast",
        "rounded",
        "no-intercept",
        "no-slope",
        "swapped",
        "none",
        "stub",
        "shape",
        "crash",
        "none-as-number",
        "none-as-zero-slope",
    ],
)
def test_modality_wrong(function, message, capsys):
    assert not lesson01.check_to_modality_values(function)
    out = capsys.readouterr().out
    assert message in out, out
    assert "64512" not in out  # feedback names the mistake, never a reference value


def test_window_without_width_1_case_is_caught_at_centre_minus_half():
    """The blind spot of round 2: on integer HU alone the missing width-1 case passed (+-inf
    clipped to 0 or 1); the value at exactly centre - 0.5 gives 0/0 = nan there."""
    integer_hu = np.arange(-3000.0, 4001.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        on_integers = _linear_without_width_1(integer_hu, 40.0, 1.0)
        at_anchor = _linear_without_width_1(np.array([39.5]), 40.0, 1.0)
    assert np.array_equal(on_integers, _window(integer_hu, 40.0, 1.0))  # integers alone: blind
    assert np.isnan(at_anchor).all()  # the planted value is what exposes it


def test_modality_overflow_case_is_real():
    """The planted uint16 case really breaks stored-dtype arithmetic (numpy 2 raises, numpy 1 wrapped)."""
    stored = np.array([24, 1000], dtype=np.uint16)
    with pytest.raises(OverflowError):
        stored * 1 + (-1024)
    assert (stored - 1024)[0] == 65536 + 24 - 1024


# --------------------------------------------------------------------------- exercise 2
def _window(hu, centre, width):  # DICOM LINEAR, PS3.3 C.11.2.1.2
    if width == 1:
        return (hu > centre - 0.5).astype(float)
    return np.clip((hu - (centre - 0.5)) / (width - 1) + 0.5, 0, 1)


def _plain(hu, centre, width):  # the plain form of section 2
    return np.clip((hu - (centre - width / 2)) / width, 0, 1)


def _linear_without_width_1(hu, centre, width):  # the formula as printed, no special case
    return np.clip((hu - (centre - 0.5)) / (width - 1) + 0.5, 0, 1)


def _linear_without_width_1_quiet(hu, centre, width):  # the same with the warning silenced
    with np.errstate(divide="ignore", invalid="ignore"):
        return _linear_without_width_1(hu, centre, width)


def _window_in_place(hu, centre, width):
    hu -= centre - width / 2
    hu /= width
    return np.clip(hu, 0, 1, out=hu)


def test_apply_window_right(capsys):
    assert lesson01.check_apply_window(_window)
    assert lesson01.check_apply_window(
        lambda hu, c, w: (
            np.interp(hu, [c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2], [0, 1])
            if w > 1
            else np.where(hu > c - 0.5, 1.0, 0.0)
        )
    )
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda hu, c, w: (hu - (c - w / 2)) / w, "the clip is missing"),
        (lambda hu, c, w: np.clip((hu - (c - w)) / (2 * w), 0, 1), "twice the width"),
        (_plain, "the plain form of section 2"),
        (lambda hu, c, w: 1 - _window(hu, c, w), "slope is inverted"),
        (lambda hu, c, w: 255 * _window(hu, c, w), "0-255"),
        (lambda hu, c, w: np.clip(hu, c - w / 2, c + w / 2), "not clipped"),
        (lambda hu, c, w: np.clip((hu - c) / w, 0, 1), "grey ramp runs from"),
        (_window_in_place, "in-place"),
        (lambda hu, c, w: None, "returned None"),
        (_stub, "not implemented yet"),
        (_linear_without_width_1, "divided by zero"),
        (_linear_without_width_1_quiet, "nan or infinite"),
    ],
    ids=[
        "no-clip",
        "width",
        "plain",
        "inverted",
        "x255",
        "clip-hu",
        "shifted",
        "in-place",
        "none",
        "stub",
        "no-width-1-case",
        "no-width-1-case-silenced",
    ],
)
def test_apply_window_wrong(function, message, capsys):
    assert not lesson01.check_apply_window(function)
    out = capsys.readouterr().out
    assert message in out, out


@pytest.mark.parametrize("window", [(400, 1800), (600, 2800), (300, 1500), (1000, 2000)])
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
        ((500, 3000), "below -200 HU"),
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


def _worked_example_copied(image):
    """The 8-bit worked example pasted unchanged: no shift, so negative values break it."""
    counts = np.bincount(image.ravel(), minlength=256)
    return (np.cumsum(counts) / image.size)[image]


def _strictly_below(image):
    levels = image.astype(np.int64) - int(image.min())
    counts = np.bincount(levels.ravel())
    return ((np.cumsum(counts) - counts) / image.size)[levels]


def _table_not_image(image):
    levels = image.astype(np.int64) - int(image.min())
    return np.cumsum(np.bincount(levels.ravel())) / image.size


def _histogram_not_cdf(image):
    """The running sum forgotten: each pixel gets the share of its own value."""
    levels = image.astype(np.int64) - int(image.min())
    return (np.bincount(levels.ravel()) / image.size)[levels]


@pytest.mark.parametrize("function", [_equalise, _equalise_shifted, exposure.equalize_hist])
def test_equalise_right(function, capsys):
    assert lesson01.check_equalize_from_cdf(function)
    assert "✅" in capsys.readouterr().out


def test_equalise_right_on_lesson_images(ct, capsys):
    radiograph = pydicom.dcmread(data.sample_path("RG1_UNCI.dcm")).pixel_array[::4, ::4]
    ct_stored = pydicom.dcmread(data.sample_path("693_J2KR.dcm")).pixel_array
    assert ct_stored.min() < 0 and radiograph.dtype == np.uint16
    assert lesson01.check_equalize_from_cdf(_equalise, radiograph, ct_stored)
    assert lesson01.check_equalize_from_cdf(_equalise, radiograph)  # + a generated signed image
    # the copied 8-bit worked example fails on the CT and, without a CT, on the generated signed image
    assert not lesson01.check_equalize_from_cdf(_worked_example_copied, radiograph, ct_stored)
    assert "go below zero" in capsys.readouterr().out
    assert not lesson01.check_equalize_from_cdf(_worked_example_copied, radiograph)
    assert "go below zero" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (_worked_example_copied, "go below zero"),
        (_equalise_256_bins, "a 256-entry table"),
        (_strictly_below, "strictly below"),
        (_table_not_image, "the table itself"),
        (_histogram_not_cdf, "that is the histogram, not its running sum"),
        (lambda im: _histogram_not_cdf(im) / _histogram_not_cdf(im).max(), "the histogram"),
        (lambda im: np.sin(_equalise(im) * 20) / 2 + 0.5, "a CDF never decreases"),
        (lambda im: _equalise(im) * 255, "expected the range [0, 1]"),
        (lambda im: 1 - _equalise(im), "decrease"),
        (lambda im: None, "returned None"),
        (_stub, "not implemented yet"),
        (lambda im: im[1:], "shape"),
        (lambda im: np.full(im.shape, np.nan), "NaN"),
    ],
    ids=[
        "no-shift",
        "256-bins",
        "strict",
        "table",
        "histogram",
        "histogram-scaled",
        "not-monotonic",
        "x255",
        "reversed",
        "none",
        "stub",
        "shape",
        "nan",
    ],
)
def test_equalise_wrong(function, message, capsys):
    assert not lesson01.check_equalize_from_cdf(function)
    out = capsys.readouterr().out
    assert message in out, out


def _interp_256_bins(image):
    counts, edges = np.histogram(image, 256)
    return np.interp(
        image.astype(float), (edges[:-1] + edges[1:]) / 2, np.cumsum(counts) / image.size
    )


def _unsigned_cast(image):
    levels = image.astype(np.uint16)  # negative values wrap to 65535, 65534...
    return (np.cumsum(np.bincount(levels.ravel())) / image.size)[levels]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda im: exposure.equalize_hist(im.astype(float)), "256 bins interpolated"),
        (_interp_256_bins, "256 bins interpolated"),
        (_unsigned_cast, "cast to an unsigned type wrapped"),
    ],
    ids=["float-equalize-hist", "interp-256", "unsigned-cast"],
)
def test_equalise_lesson_pitfalls_are_named(function, message, capsys):
    assert not lesson01.check_equalize_from_cdf(function)
    out = capsys.readouterr().out
    assert message in out, out


def test_equalise_histogram_is_not_called_a_256_table(capsys):
    """On the lesson's 15-bit radiograph the forgotten cumsum also has few levels: name it first."""
    radiograph = pydicom.dcmread(data.sample_path("RG1_UNCI.dcm")).pixel_array[::4, ::4]
    assert not lesson01.check_equalize_from_cdf(_histogram_not_cdf, radiograph)
    out = capsys.readouterr().out
    assert "histogram, not its running sum" in out and "256-entry" not in out, out


def test_equalise_library_call_passes_with_a_note(capsys):
    assert lesson01.check_equalize_from_cdf(exposure.equalize_hist)
    assert "library call" in capsys.readouterr().out


def test_equalise_rejects_float_test_image():
    with pytest.raises(ValueError, match="integer dtype"):
        lesson01.check_equalize_from_cdf(_equalise, np.zeros((4, 4)))


# --------------------------------------------------------------------------- exercise 4
def _largest(mask):
    labels, _ = ndi.label(mask)
    return labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1


def _disk_mm(spacing, radius_mm=1.0):
    from skimage import morphology

    return morphology.disk(round(radius_mm / spacing[0]))


def _brain(hu, spacing, low=20, high=80, opening=True, fill=True, fill_first=False):
    band = (hu >= low) & (hu <= high)
    if opening:
        band = ndi.binary_opening(band, structure=_disk_mm(spacing))
    if fill_first:
        return _largest(ndi.binary_fill_holes(band))
    kept = _largest(band)
    return ndi.binary_fill_holes(kept) if fill else kept


def _brain_function(radius=None, *, radius_mm=1.0, fill_first=False):
    """A student's brain_mask(hu, spacing_mm): a fixed ``radius`` in pixels, or radius_mm."""

    def brain_mask(hu, spacing):
        from skimage import morphology

        pixels = radius if radius is not None else round(radius_mm / spacing[0])
        band = ndi.binary_opening((hu >= 20) & (hu <= 80), structure=morphology.disk(pixels))
        if fill_first:  # the worked example's clean_mask: fill, then the largest component
            return _largest(ndi.binary_fill_holes(band))
        return ndi.binary_fill_holes(_largest(band))

    return brain_mask


def test_brain_function_right_at_both_spacings(ct, capsys):
    hu, spacing = ct
    function = _brain_function()
    mask = function(hu, spacing)
    assert lesson01.check_region_mask(
        mask, mask.sum() * spacing[0] * spacing[1], hu, spacing, function=function
    )
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "resampled to 0.25 mm" in out, out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        # 1 mm not converted to pixels: a 1-pixel disk (0.48 mm here)
        (_brain_function(1), "the radius looks like 1 pixel, not 1 mm"),
        # 2 pixels is right at 0.48 mm by luck, 0.5 mm at 0.25 mm: caught on the resampled slice
        (_brain_function(2), "resampled to 0.25 mm pixels, at a pixel spacing of 0.25 mm"),
        (_brain_function(3), "a radius fixed in pixels"),
        # the worked example pasted: clean_mask's 2 mm opening, holes filled first
        (_brain_function(radius_mm=2.0, fill_first=True), "the worked example's 2 mm opening"),
        (lambda hu, spacing: None, "got None"),
        (lambda hu, spacing: hu[1:] > 20, "shape"),
        (_stub, "not implemented yet"),
    ],
    ids=["1-pixel", "2-pixels", "3-pixels", "pasted-clean_mask", "none", "shape", "stub"],
)
def test_brain_function_wrong_opening_is_named(ct, function, message, capsys):
    hu, spacing = ct
    right = _brain_function()(hu, spacing)
    try:
        mask = function(hu, spacing)
    except NotImplementedError:
        mask = right  # the student's cell keeps the worked mask; the function is still a stub
    if mask is None or np.shape(mask) != hu.shape:
        mask = right
    area = mask.sum() * spacing[0] * spacing[1]
    assert not lesson01.check_region_mask(mask, area, hu, spacing, function=function)
    out = capsys.readouterr().out
    assert message in out, out


def test_brain_mask_right(ct, capsys):
    hu, spacing = ct
    mask = _brain(hu, spacing)
    area = mask.sum() * spacing[0] * spacing[1]
    assert 8000 < area < 16000  # an axial brain section: about 80-160 cm²
    assert lesson01.check_region_mask(mask, area, hu, spacing, target="brain")
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    "variant",
    [{"low": 18, "high": 85}, {"low": 22, "high": 75}, {"fill_first": True}],
    ids=["band 18-85", "band 22-75", "fill before label (same result)"],
)
def test_brain_mask_equivalent_answers_pass(ct, variant):
    hu, spacing = ct
    mask = _brain(hu, spacing, **variant)
    assert lesson01.check_region_mask(mask, mask.sum() * spacing[0] * spacing[1], hu, spacing)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"opening": False}, "no opening at all"),
        ({"fill": False}, "fill the holes"),
        ({"low": 0}, "a band that starts at 0 HU"),
    ],
    ids=["no opening", "no fill", "band from 0 HU (CSF included)"],
)
def test_brain_mask_missing_step_fails(ct, variant, message, capsys):
    hu, spacing = ct
    mask = _brain(hu, spacing, **variant)
    assert not lesson01.check_region_mask(mask, mask.sum() * spacing[0] * spacing[1], hu, spacing)
    out = capsys.readouterr().out
    assert message in out, out


def test_brain_mask_wrong(ct, capsys):
    hu, spacing = ct
    reference = lesson01.reference_region_mask(hu, spacing_mm=spacing)
    pixel_area = spacing[0] * spacing[1]
    head = ndi.binary_fill_holes(hu > -300)
    assert not lesson01.check_region_mask(head, head.sum() * pixel_area, hu, spacing)
    assert "too much" in capsys.readouterr().out
    band_only = (hu >= 20) & (hu <= 80)
    assert not lesson01.check_region_mask(band_only, band_only.sum() * pixel_area, hu, spacing)
    assert "❌ region mask" in capsys.readouterr().out
    assert not lesson01.check_region_mask(None, 1.0, hu, spacing)
    assert "got None" in capsys.readouterr().out
    assert not lesson01.check_region_mask(reference[1:], 1.0, hu, spacing)
    assert "shape" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("factor", "message"),
    [
        ("pixels", "number of pixels"),
        ("one spacing", "only one spacing"),
        ("cm2", "cm²"),
        ("double", "too high"),
        ("half", "too low"),
    ],
)
def test_area_mistakes_are_named_without_the_value(ct, factor, message, capsys):
    hu, spacing = ct
    reference = lesson01.reference_region_mask(hu, spacing_mm=spacing)
    right = reference.sum() * spacing[0] * spacing[1]
    wrong = {
        "pixels": float(reference.sum()),
        "one spacing": reference.sum() * spacing[0],
        "cm2": right / 100,
        "double": 2 * right,
        "half": right / 2,
    }[factor]
    assert not lesson01.check_area(wrong, reference, spacing)
    out = capsys.readouterr().out
    assert message in out, out
    assert "%" not in out and f"{right:.0f}" not in out and f"{right:.4g}" not in out


def test_foreground_mask_in_pixels():
    image = np.zeros((40, 40))
    image[10:30, 10:30] = 100.0
    mask = lesson01.reference_region_mask(image, "foreground")
    assert mask.sum() == 400
    assert lesson01.check_region_mask(mask, 400, image, None, target="foreground")


def test_foreground_mask_monochrome1_is_the_low_side(capsys):
    image = np.full((40, 40), 3000.0)  # open field: high exposure, stored high in MONOCHROME1
    image[10:30, 10:30] = 800.0  # the body: low exposure
    body = image < 2000
    assert (
        lesson01.reference_region_mask(image, "foreground", photometric="MONOCHROME1").sum() == 400
    )
    assert lesson01.check_region_mask(
        body, 400, image, None, target="foreground", photometric="MONOCHROME1"
    )
    capsys.readouterr()
    assert not lesson01.check_region_mask(
        ~body, 1200, image, None, target="foreground", photometric="MONOCHROME1"
    )
    assert "stored *low*" in capsys.readouterr().out


def test_opening_footprint_is_a_disk_in_mm():
    assert lesson01.opening_footprint((0.478516, 0.478516)).shape == (5, 5)
    assert lesson01.opening_footprint((0.9, 0.9)).shape == (3, 3)
    assert lesson01.opening_footprint((1.0, 0.5)).shape == (3, 5)


def test_reference_mask_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        lesson01.reference_region_mask(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="target"):
        lesson01.reference_region_mask(np.zeros((2, 2)), "lung")
    with pytest.raises(ValueError, match="spacing"):
        lesson01.reference_region_mask(np.zeros((2, 2)), "brain")


def test_show_region_masks_draws_yours_beside_the_reference(ct):
    import matplotlib.pyplot as plt

    hu, spacing = ct
    reference = lesson01.reference_region_mask(hu, spacing_mm=spacing)
    fig = lesson01.show_region_masks(reference, hu, display_range=(0, 80), spacing_mm=spacing)
    assert len(fig.axes) == 3 and "reference" in fig.axes[1].get_title()
    plt.close(fig)
    fig = lesson01.show_region_masks(
        None, hu, spacing_mm=spacing
    )  # the student build: not done yet
    assert any("not done yet" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="shape"):
        lesson01.show_region_masks(reference[1:], hu, spacing_mm=spacing)


def test_foreground_on_a_monochrome1_chest_is_the_body():
    """RG1 (MONOCHROME1 CR): the reference is the low side of Otsu, not the exposed lung field."""
    stored = (
        pydicom.dcmread(data.sample_path("RG1_UNCI.dcm")).pixel_array[::4, ::4].astype(np.float64)
    )
    body = lesson01.reference_region_mask(stored, "foreground", photometric="MONOCHROME1")
    exposed = lesson01.reference_region_mask(stored, "foreground")
    assert np.median(stored[body]) < np.median(stored[exposed])
    assert (body & exposed).sum() < 0.2 * (body | exposed).sum()  # IoU: different regions


# --------------------------------------------------------------------------- exercise 5
K = 1 / (2 * np.sqrt(2 * np.log(2)))  # sigma per FWHM


def _smooth(image, fwhm_mm, spacing):
    return ndi.gaussian_filter(image.astype(float), [fwhm_mm * K / s for s in spacing])


@pytest.mark.parametrize(
    "function",
    [
        _smooth,
        lambda im, s, sp: ndi.gaussian_filter(
            im.astype(float), np.divide(s * K, sp), mode="nearest"
        ),
        lambda im, s, sp: filters.gaussian(im, np.divide(s / 2.3548, sp), preserve_range=True),
    ],
    ids=["ndi", "nearest", "skimage-preserve"],
)
def test_smooth_mm_right(function, capsys):
    mr = pydicom.dcmread(data.sample_path("MR2_UNCI.dcm"))
    assert lesson01.check_smooth_mm(function, mr.pixel_array[::4, ::4], (0.78, 0.78))
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda im, s, sp: ndi.gaussian_filter(im.astype(float), s * K), "sigma passed in mm"),
        (lambda im, s, sp: _smooth(im, s, sp[::-1]), "reversed order"),
        (
            lambda im, s, sp: ndi.gaussian_filter(im.astype(float), np.multiply(s * K, sp)),
            "multiplied",
        ),
        (lambda im, s, sp: ndi.gaussian_filter(im.astype(float), s * K / sp[0]), "one spacing"),
        (
            lambda im, s, sp: ndi.gaussian_filter(im, np.divide(s * K, sp)),
            "rounded to the image's integer",
        ),
        (lambda im, s, sp: filters.gaussian(im, np.divide(s * K, sp)), "rescaled to [0, 1]"),
        (
            lambda im, s, sp: ndi.gaussian_filter(im.astype(float), np.divide(s, sp)),
            "FWHM was used as sigma",
        ),
        (
            lambda im, s, sp: ndi.gaussian_filter(im.astype(float), np.divide(s / 2, sp)),
            "half the FWHM",
        ),
        (lambda im, s, sp: _smooth(im, s / K**2, sp), "conversion factor goes the other way"),
        (
            lambda im, s, sp: ndi.gaussian_filter(im.astype(float), (s * K / sp[0], s * K / sp[1])),
            "one sigma per axis",
        ),
        (lambda im, s, sp: _smooth(im, 1.5 * s, sp), "differs from the expected"),
        (lambda im, s, sp: None, "returned None"),
        (_stub, "not implemented yet"),
    ],
    ids=[
        "pixels",
        "swapped",
        "multiplied",
        "one-spacing",
        "integer",
        "skimage-range",
        "fwhm-as-sigma",
        "half-fwhm",
        "factor-inverted",
        "two-axes-only",
        "other",
        "none",
        "stub",
    ],
)
def test_smooth_mm_wrong(function, message, capsys):
    assert not lesson01.check_smooth_mm(function)
    out = capsys.readouterr().out
    assert message in out, out
    assert "pixels here" not in out  # the converted sigma (the answer) is not given


def test_apply_window_feedback_does_not_give_the_bone_window(capsys):
    assert not lesson01.check_apply_window(lambda hu, c, w: (hu - (c - w / 2)) / w)
    out = capsys.readouterr().out
    assert "400/1800" not in out and "-500" not in out and "1300" not in out, out


def test_brain_mask_filled_before_opening_is_named(ct, capsys):
    hu, spacing = ct
    band = (hu >= 20) & (hu <= 80)
    mask = _largest(ndi.binary_opening(ndi.binary_fill_holes(band), structure=_disk_mm(spacing)))
    assert not lesson01.check_region_mask(mask, mask.sum() * spacing[0] * spacing[1], hu, spacing)
    out = capsys.readouterr().out
    assert "holes filled before the opening" in out, out


@pytest.mark.parametrize(
    ("slip", "message"),
    [
        ("no-opening", "no opening at all"),
        ("fill-first", "holes filled before the opening"),
        ("band-0", "a band that starts at 0 HU"),
    ],
)
def test_brain_mask_slip_is_named(ct, slip, message, capsys):
    hu, spacing = ct
    low = 0 if slip == "band-0" else 20
    band = (hu >= low) & (hu <= 80)
    if slip == "no-opening":
        mask = ndi.binary_fill_holes(_largest(band))
    elif slip == "fill-first":
        mask = _largest(
            ndi.binary_opening(ndi.binary_fill_holes(band), structure=_disk_mm(spacing))
        )
    else:
        mask = ndi.binary_fill_holes(
            _largest(ndi.binary_opening(band, structure=_disk_mm(spacing)))
        )
    assert not lesson01.check_region_mask(mask, mask.sum() * spacing[0] * spacing[1], hu, spacing)
    out = capsys.readouterr().out
    assert message in out, out
    if slip == "no-opening":  # named alone: it differs from the other two slips
        assert "holes filled before" not in out and "0 HU" not in out, out


@pytest.mark.parametrize(
    ("variant", "message", "absent"),
    [
        ({"fill_first_open": True}, "holes filled before the opening", "0 HU"),
        ({"low": 0}, "a band that starts at 0 HU", "holes filled before"),
    ],
    ids=["fill-first", "band-0"],
)
def test_brain_function_slip_is_named_alone(ct, variant, message, absent, capsys):
    hu, spacing = ct

    def function(image, spacing_mm):
        band = (image >= variant.get("low", 20)) & (image <= 80)
        disk = _disk_mm(spacing_mm)
        if variant.get("fill_first_open"):
            return _largest(ndi.binary_opening(ndi.binary_fill_holes(band), structure=disk))
        return ndi.binary_fill_holes(_largest(ndi.binary_opening(band, structure=disk)))

    mask = function(hu, spacing)
    area = mask.sum() * spacing[0] * spacing[1]
    assert not lesson01.check_region_mask(mask, area, hu, spacing, function=function)
    out = capsys.readouterr().out
    assert message in out and absent not in out.split("Hint")[0], out


def _linear_greater_or_equal(hu, c, w):
    hu = np.asarray(hu, dtype=float)
    if w <= 1:
        return (hu >= c - 0.5).astype(float)
    return np.clip((hu - (c - 0.5)) / (w - 1) + 0.5, 0, 1)


def test_apply_window_width_one_greater_or_equal_is_named(capsys):
    assert not lesson01.check_apply_window(_linear_greater_or_equal)
    out = capsys.readouterr().out
    assert "uses >=" in out and "strict (>)" in out, out


def test_lesson01_docstring_examples_hold():
    import doctest

    result = doctest.testmod(lesson01, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0, result
