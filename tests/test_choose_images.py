"""data.choose_images and dicom.describe_file on the kinds of files a practitioner's folder holds."""

from __future__ import annotations

import re

import numpy as np
import pydicom
import pytest

from course_utils import data, dicom
from tests import real_kinds


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return real_kinds.build_mixed_folder(tmp_path_factory.mktemp("mixed"))


@pytest.fixture(scope="module")
def no_ct(tmp_path_factory):
    return real_kinds.build_no_ct_folder(tmp_path_factory.mktemp("no_ct"))


def _decision(choice, name: str) -> str:
    row = choice.files[choice.files["file"] == name]
    assert len(row) == 1, f"{name} was not examined"
    return row["used as / why not"].iloc[0]


# --------------------------------------------------------------------------- describe_file
@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("SR_report.dcm", r"no pixel data \(Basic Text SR Storage\)"),
        ("SEG_liver.dcm", r"1-bit pixels"),
        ("US_palette_color.dcm", r"PALETTE COLOR"),
        ("RTDOSE_grid.dcm", r"RT dose grid"),
        ("MR_jpeg_ls_no_decoder.dcm", r"JPEG-LS.*no decoder installed"),
        ("no_preamble.dcm", r"no DICOM preamble"),
    ],
)
def test_describe_file_says_why_a_file_is_unusable(mixed, name, problem):
    info = dicom.describe_file(mixed / name)
    assert info["problem"] is not None
    assert re.search(problem, info["problem"]), info["problem"]


def test_describe_file_reads_the_kinds(mixed):
    ybr = dicom.describe_file(mixed / "SC_ybr_full_422_jpeg_baseline.dcm")
    assert (ybr["photometric"], ybr["samples"], ybr["bits_stored"]) == ("YBR_FULL_422", 3, 8)
    clip = dicom.describe_file(mixed / "US_multiframe_ybr_full_422_jpeg.dcm")
    assert clip["frames"] == 120 and clip["problem"] is None
    dx = dicom.describe_file(mixed / "DX_12bit_no_rescale.dcm")
    assert (dx["modality"], dx["bits_stored"], dx["rescale"]) == ("DX", 12, "none")
    voi = dicom.describe_file(mixed / "CR_MONOCHROME1_VOI_LUT.dcm")
    assert (voi["photometric"], voi["voi"]) == ("MONOCHROME1", "VOI LUT")
    window = dicom.describe_file(mixed / "RG3_MONOCHROME1_window.dcm")
    assert (window["photometric"], window["voi"]) == ("MONOCHROME1", "window")
    no_modality = dicom.describe_file(mixed / "CT_no_Modality.dcm")
    assert no_modality["modality"] == "" and "CT Image" in no_modality["sop_class"]
    enhanced = dicom.describe_file(mixed / "eCT_perfusion_map.dcm")
    assert enhanced["rescale"] == "functional groups" and enhanced["rescale_type"] == "US"


def test_describe_file_of_a_picture_and_of_a_missing_file(tmp_path):
    info = dicom.describe_file(data.sample_path("microaneurysms.png"))
    assert (info["format"], info["bits_stored"], info["problem"]) == ("PNG", 8, None)
    (tmp_path / "notes.txt").write_text("not an image")
    assert "neither DICOM" in dicom.describe_file(tmp_path / "notes.txt")["problem"]
    with pytest.raises(FileNotFoundError):
        dicom.describe_file(tmp_path / "missing.dcm")


def test_read_first_frame_decodes_one_frame_and_masks_high_bits(mixed):
    clip = dicom.read_first_frame(mixed / "US_multiframe_ybr_full_422_jpeg.dcm")
    assert clip.shape == (480, 640, 3) and clip.dtype == np.uint8  # YBR_FULL_422 -> RGB
    dx = dicom.read_first_frame(mixed / "DX_12bit_no_rescale.dcm")
    raw = np.frombuffer(pydicom.dcmread(mixed / "DX_12bit_no_rescale.dcm").PixelData, "<u2")
    assert raw.max() > 4095 and dx.max() <= 4095, "bits above BitsStored must be masked"
    with pytest.raises(ValueError, match="could not be decoded"):
        dicom.read_first_frame(mixed / "MR_truncated.dcm")


def test_read_dicom_image_decodes_only_the_requested_frame(mixed):
    values, meta = dicom.read_dicom_image(mixed / "US_multiframe_ybr_full_422_jpeg.dcm", frame=5)
    assert values.shape == (480, 640, 3) and meta["frames"] == 120
    hu, meta = dicom.read_dicom_image(mixed / "CT_no_Modality.dcm")
    assert meta["units"] == "HU", "a CT without Modality is still a CT by its SOP Class"


# --------------------------------------------------------------------------- choose_images
def test_default_choice_is_the_packaged_samples():
    choice = data.choose_images(None)
    assert choice["ct"].name == "693_J2KR.dcm" and choice["radiograph"].name == "RG1_UNCI.dcm"
    assert choice["picture"].name == "microaneurysms.png"
    assert "packaged" in str(choice)


def test_mixed_folder_each_file_used_or_skipped_with_a_reason(mixed):
    choice = data.choose_images(mixed)
    assert choice["ct"].name == "CT_no_Modality.dcm"
    assert choice["radiograph"].name == "CR_MONOCHROME1_VOI_LUT.dcm"
    assert choice["second_radiograph"].name == "RG3_MONOCHROME1_window.dcm"
    assert choice["picture"].name == "SC_ybr_full_422_jpeg_baseline.dcm"
    assert choice["mr"] is None and choice["ct_lossy"] is None
    assert len(choice.files) == len(list(mixed.iterdir()))
    for decision in choice.files["used as / why not"]:
        assert decision.startswith(("used as", "skipped: ", "not used: ")), decision
        assert len(decision) > len("not used: ") + 10, decision
    assert "enhanced CT" in _decision(choice, "eCT_perfusion_map.dcm")
    assert "RescaleSlope" in _decision(choice, "MR_truncated.dcm")
    assert "text in the pixels" in _decision(choice, "SC_ybr_full_422_jpeg_baseline.dcm")
    printed = str(choice)
    assert "(none: that part is skipped)" in printed and "Files examined (" in printed
    assert str(mixed.parent) not in printed, "no absolute paths in what the lesson prints"


def test_no_ct_folder_uses_the_dx_and_the_first_frame_of_the_clip(no_ct):
    choice = data.choose_images(no_ct)
    assert choice["radiograph"].name == "DX_12bit_no_rescale.dcm"
    assert choice["picture"].name == "US_multiframe_ybr_full_422_jpeg.dcm"
    assert choice["ct"] is None and choice["second_radiograph"] is None
    assert "first frame only" in _decision(choice, "US_multiframe_ybr_full_422_jpeg.dcm")


def test_unusable_folder_falls_back_to_the_packaged_radiograph(tmp_path):
    folder = real_kinds.build_unusable_folder(tmp_path / "unusable")
    choice = data.choose_images(folder)
    assert choice["radiograph"] == data.sample_path("RG1_UNCI.dcm")
    assert all(choice[r] is None for r in ("ct", "mr", "second_radiograph", "picture"))
    assert any("packaged RG1_UNCI.dcm is used instead" in note for note in choice.notes)
    assert all(d.startswith("skipped: ") for d in choice.files["used as / why not"])


def test_a_file_that_does_not_decode_loses_its_role_to_the_next(mixed, tmp_path):
    folder = tmp_path / "decode"
    folder.mkdir()
    good = folder / "b_good.dcm"
    good.write_bytes((mixed / "DX_12bit_no_rescale.dcm").read_bytes())
    broken = folder / "a_broken.dcm"  # same header, pixel data cut short
    broken.write_bytes(good.read_bytes()[:-100_000])
    choice = data.choose_images(folder)
    assert choice["radiograph"].name == "b_good.dcm"
    assert "could not be decoded" in _decision(choice, "a_broken.dcm")


def test_limit_bounds_the_search(mixed):
    choice = data.choose_images(mixed, limit=2)
    assert (choice.files["used as / why not"].str.startswith("skipped").sum() + 2) >= len(
        choice.files
    )
    assert any("stopped after" in note for note in choice.notes)


def test_choose_images_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.choose_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="limit"):
        data.choose_images(tmp_path, limit=0)
    with pytest.raises(ValueError, match="roles"):
        data.choose_images(tmp_path, roles=())
    with pytest.raises(KeyError, match="no role"):
        data.choose_images(None)["nonsense"]
