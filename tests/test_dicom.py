"""Tests for course_utils.dicom and the package-sample manifests it reads through."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_utils import data, dicom


# --------------------------------------------------------------------------- samples and manifests
@pytest.mark.parametrize(
    "name",
    [
        "693_UNCI.dcm",
        "693_J2KR.dcm",
        "MR2_UNCI.dcm",
        "RG1_UNCI.dcm",
        "RG3_UNCI.dcm",
        "emri_small.dcm",
        "CT_small.dcm",
        "MR_small.dcm",
        "CT5N",
        "DICOMDIR",
        "retina.jpg",
        "ihc.png",
        "cell.png",
        "microaneurysms.png",
    ],
)
def test_sample_path_finds_and_verifies(name):
    path = data.sample_path(name)
    assert path.exists()


def test_every_manifest_entry_matches_its_file():
    """sha256 and the recorded DICOM properties agree with the installed packages."""
    for manifest_name in ("pydicom-data", "pydicom-test-files", "skimage-data"):
        manifest = data.load_manifest(manifest_name)
        assert manifest["kind"] == "package-sample"
        for entry in manifest["files"]:
            path = data.sample_path(entry["file"])
            if entry["file"] in ("CT5N",):
                path = sorted(p for p in path.iterdir())[0]
            if not dicom.is_dicom_file(path) or entry["rows"] is None:
                continue
            header = pydicom.dcmread(path, stop_before_pixels=True)
            assert int(header.Rows) == entry["rows"]
            assert int(header.Columns) == entry["columns"]
            assert int(header.BitsStored) == entry["bits_stored"]
            assert str(header.PhotometricInterpretation) == entry["photometric_interpretation"]


def test_sample_path_rejects_a_changed_file(tmp_path, monkeypatch):
    manifest = data.load_manifest("pydicom-test-files")
    entry = next(e for e in manifest["files"] if e["file"] == "CT_small.dcm")
    fake_package = tmp_path / "pkg"
    (fake_package / entry["path"]).parent.mkdir(parents=True)
    (fake_package / entry["path"]).write_bytes(b"not the file")
    monkeypatch.setattr(data, "_package_folder", lambda package: fake_package)
    with pytest.raises(ValueError, match="checksum mismatch for CT_small.dcm"):
        data.sample_path("CT_small.dcm")


# --------------------------------------------------------------------------- read_dicom_image
def test_ct_is_read_in_hounsfield_units():
    hu, meta = dicom.read_dicom_image(data.sample_path("693_J2KR.dcm"))
    stored = pydicom.dcmread(data.sample_path("693_J2KR.dcm")).pixel_array
    assert hu.dtype == np.float32 and hu.shape == (512, 512)
    np.testing.assert_array_equal(hu, stored.astype(np.float32) - 1024)
    assert meta["units"] == "HU"
    assert meta["rescale_intercept"] == -1024 and meta["rescale_slope"] == 1
    assert meta["pixel_spacing_mm"] == pytest.approx((0.478516, 0.478516))
    assert meta["window_centres"] == [40.0] and meta["window_widths"] == [100.0]
    assert meta["pixel_padding_value"] == -2000
    brain = hu[(hu > 0) & (hu < 80)]
    assert 20 < np.median(brain) < 45  # brain parenchyma in HU


def test_mr_slope_and_no_rescale():
    values, meta = dicom.read_dicom_image(data.sample_path("MR2_UNCI.dcm"))
    stored, raw_meta = dicom.read_dicom_image(data.sample_path("MR2_UNCI.dcm"), apply_rescale=False)
    assert meta["rescale_slope"] == pytest.approx(3.774114)
    np.testing.assert_allclose(values, stored * 3.774114 + 0.000061, rtol=1e-6)
    assert raw_meta["units"] == "stored value" and not raw_meta["rescale_applied"]
    assert meta["units"] == "a.u."


def test_monochrome1_radiograph_metadata_and_inversion():
    values, meta = dicom.read_dicom_image(data.sample_path("RG3_UNCI.dcm"))
    inverted, inv_meta = dicom.read_dicom_image(
        data.sample_path("RG3_UNCI.dcm"), invert_monochrome1=True
    )
    assert meta["photometric"] == "MONOCHROME1"
    assert (meta["bits_allocated"], meta["bits_stored"]) == (16, 10)
    assert meta["pixel_spacing_mm"] is None  # RG3 has no PixelSpacing
    assert meta["units"] == "stored value"  # no rescale tags
    assert inv_meta["inverted"] and not meta["inverted"]
    np.testing.assert_array_equal(inverted, 1023 - values)


def test_zero_pixel_spacing_is_treated_as_missing():
    _, meta = dicom.read_dicom_image(data.sample_path("RG1_UNCI.dcm"))
    assert meta["pixel_spacing_mm"] is None and meta["bits_stored"] == 15


def test_multiframe_first_and_all_frames():
    first, meta = dicom.read_dicom_image(data.sample_path("emri_small.dcm"))
    frames, _ = dicom.read_dicom_image(data.sample_path("emri_small.dcm"), frame=None)
    last, _ = dicom.read_dicom_image(data.sample_path("emri_small.dcm"), frame=-1)
    assert meta["frames"] == 10 and first.shape == (64, 64) and frames.shape == (10, 64, 64)
    np.testing.assert_array_equal(frames[0], first)
    np.testing.assert_array_equal(frames[-1], last)
    with pytest.raises(ValueError, match="frame 10 is out of range: emri_small.dcm has 10"):
        dicom.read_dicom_image(data.sample_path("emri_small.dcm"), frame=10)


def test_single_frame_all_frames_has_a_frame_axis():
    values, _ = dicom.read_dicom_image(data.sample_path("CT_small.dcm"), frame=None)
    assert values.shape == (1, 128, 128)


def test_jpeg2000_twin_decodes():
    values, meta = dicom.read_dicom_image(data.sample_path("MR2_J2KR.dcm"))
    assert values.shape == (1024, 1024) and "JPEG 2000" in meta["transfer_syntax"]


def test_missing_file_names_it(tmp_path):
    missing = tmp_path / "nothing_here.dcm"
    with pytest.raises(FileNotFoundError, match="nothing_here.dcm"):
        dicom.read_dicom_image(missing)


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        dicom.read_dicom_image(tmp_path)


def test_not_dicom_names_the_file(tmp_path):
    text_file = tmp_path / "notes.dcm"
    text_file.write_text("hello, I am not DICOM")
    with pytest.raises(ValueError, match="notes.dcm is not a DICOM file"):
        dicom.read_dicom_image(text_file)


def test_no_pixel_data(tmp_path):
    target = tmp_path / "header_only.dcm"
    dataset = pydicom.dcmread(data.sample_path("CT_small.dcm"))
    del dataset.PixelData
    dataset.save_as(target)
    with pytest.raises(ValueError, match="header_only.dcm has no pixel data"):
        dicom.read_dicom_image(target)
    with pytest.raises(ValueError, match="no pixel data"):
        dicom.read_dicom_image(data.sample_path("DICOMDIR"))


def test_bad_path_type():
    with pytest.raises(TypeError, match="file path"):
        dicom.read_dicom_image(None)


# --------------------------------------------------------------------------- read_image / find_images
def test_read_image_png_and_rgb():
    grey, meta = dicom.read_image(data.sample_path("microaneurysms.png"))
    assert (
        grey.shape == (102, 102) and meta["bits_stored"] == 8 and meta["pixel_spacing_mm"] is None
    )
    rgb, rgb_meta = dicom.read_image(data.sample_path("ihc.png"), as_grey=False)
    assert rgb.shape == (512, 512, 3) and rgb_meta["photometric"] == "RGB"
    luma, _ = dicom.read_image(data.sample_path("ihc.png"))
    assert luma.shape == (512, 512) and 0 <= luma.min() and luma.max() <= 255


def test_read_image_rejects_garbage(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="broken.png could not be read"):
        dicom.read_image(broken)


def test_find_images_in_a_mixed_folder(tmp_path):
    for name in ("MR_small.dcm", "CT_small.dcm"):
        shutil.copy(data.sample_path(name), tmp_path / name.replace(".dcm", ""))  # no suffix
    shutil.copy(data.sample_path("microaneurysms.png"), tmp_path / "z.png")
    (tmp_path / "readme.txt").write_text("not an image")
    shutil.copytree(data.sample_path("CT5N"), tmp_path / "tiny")  # 16 x 16: too small
    found = dicom.find_images(tmp_path)
    assert [p.name for p in found] == ["CT_small", "MR_small", "z.png"]
    assert [p.name for p in dicom.find_images(tmp_path, limit=1)] == ["CT_small"]
    small_too = dicom.find_images(tmp_path, min_size=8)
    assert len(small_too) == 8 and sum(p.parent.name == "tiny" for p in small_too) == 5


def test_find_images_bad_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dicom.find_images(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        dicom.find_images(tmp_path / "f")


# --------------------------------------------------------------------------- window_image / to_display
def test_window_presets_and_limits():
    assert dicom.WINDOW_PRESETS["brain"] == (40, 80)
    assert dicom.WINDOW_PRESETS["bone"].lower == -500 and dicom.WINDOW_PRESETS["bone"].upper == 1300
    shown = dicom.window_image(
        np.array([-1000.0, 0.0, 40.0, 80.0, 3000.0]), *dicom.WINDOW_PRESETS["brain"]
    )
    np.testing.assert_allclose(shown, [0, 0, 0.5, 1, 1])
    assert shown.dtype == np.float32


@pytest.mark.parametrize("width", [0, -10, np.inf, np.nan])
def test_window_width_must_be_positive(width):
    with pytest.raises(ValueError, match="window width must be a positive finite number"):
        dicom.window_image(np.zeros((2, 2)), 40, width)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.zeros((0, 3)), "empty"),
        (np.array([1.0, np.nan]), "NaN"),
        (np.array(["a", "b"]), "expected numbers"),
    ],
)
def test_window_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        dicom.window_image(values, 0, 1)


def test_window_centre_must_be_finite():
    with pytest.raises(ValueError, match="centre must be finite"):
        dicom.window_image(np.zeros(3), np.inf, 10)


@settings(max_examples=50, deadline=None)
@given(
    values=arrays(np.float64, st.integers(1, 50), elements=st.floats(-5000, 5000)),
    centre=st.floats(-2000, 2000),
    width=st.floats(1e-3, 5000),
)
def test_window_is_monotonic_and_bounded(values, centre, width):
    shown = dicom.window_image(values, centre, width)
    assert shown.min() >= 0 and shown.max() <= 1
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(shown[order]) >= -1e-6)


def test_to_display_monochrome1_is_inverted():
    values = np.array([0.0, 5.0, 10.0])
    np.testing.assert_allclose(dicom.to_display(values, "MONOCHROME2"), [0, 0.5, 1])
    np.testing.assert_allclose(dicom.to_display(values, "MONOCHROME1"), [1, 0.5, 0])
    np.testing.assert_allclose(
        dicom.to_display(values, "MONOCHROME1", centre=5, width=10), [1, 0.5, 0]
    )


def test_to_display_percentiles_clip_outliers():
    values = np.concatenate([np.linspace(0, 1, 1000), [1e6]])
    shown = dicom.to_display(values, percentiles=(0, 99))
    assert shown[-1] == 1 and shown[500] == pytest.approx(0.5, abs=0.01)


def test_to_display_errors():
    with pytest.raises(ValueError, match="constant"):
        dicom.to_display(np.full((4, 4), 7.0))
    with pytest.raises(ValueError, match="both centre and width"):
        dicom.to_display(np.arange(4.0), centre=1)
    with pytest.raises(ValueError, match="MONOCHROME1"):
        dicom.to_display(np.arange(4.0), "RGB")
    with pytest.raises(ValueError, match="percentiles"):
        dicom.to_display(np.arange(4.0), percentiles=(50, 10))
    # a constant image can still be displayed with an explicit window
    np.testing.assert_allclose(dicom.to_display(np.full((2, 2), 7.0), centre=7, width=2), 0.5)


def test_read_image_tiff_keeps_16_bit_values(tmp_path):
    import tifffile

    stored = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 8
    tifffile.imwrite(tmp_path / "ramp.tif", stored)
    values, meta = dicom.read_image(tmp_path / "ramp.tif")
    np.testing.assert_array_equal(values, stored)
    assert meta["stored_dtype"] == "uint16" and meta["bits_stored"] == 16


def test_read_image_takes_the_first_plane_of_a_stack(tmp_path):
    import tifffile

    stack = np.stack([np.full((40, 50), 10 * (i + 1), dtype=np.uint16) for i in range(3)])
    stack[0, 0, 0] = 0
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    values, _ = dicom.read_image(tmp_path / "stack.tif")
    assert values.shape == (40, 50) and values[1, 1] == 10
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((3, 20, 30), dtype=np.uint8), photometric="rgb")
    grey, meta = dicom.read_image(tmp_path / "rgb.tif")
    assert grey.shape == (20, 30) and meta["photometric"] == "MONOCHROME2"
