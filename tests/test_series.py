"""DICOM series loading (course_utils.series) and the volume plotting helpers."""

from __future__ import annotations

import random
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from course_utils import data, plotting, series

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _base(rows=4, cols=5, uid=None, description="TEST", sop_class=CT_STORAGE):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uid or "1.2.3.4.1"
    ds.SeriesDescription = description
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    return ds


def write_series(
    folder,
    positions,
    *,
    iop=AXIAL,
    pixel_spacing=(0.7, 0.8),
    thickness=2.5,
    uid=None,
    description="TEST",
    names=None,
    rows=4,
    cols=5,
):
    """One file per position; slice at positions[k] holds the constant stored value 1024 + 10 k."""
    folder.mkdir(parents=True, exist_ok=True)
    names = names or [f"IM{k}.dcm" for k in range(len(positions))]
    for k, (position, name) in enumerate(zip(positions, names, strict=True)):
        ds = _base(rows, cols, uid, description)
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = list(iop)
        ds.ImagePositionPatient = [float(v) for v in position]
        ds.PixelSpacing = list(pixel_spacing)
        ds.SliceThickness = thickness
        ds.PixelData = np.full((rows, cols), 1024 + 10 * k, dtype=np.int16).tobytes()
        ds.save_as(folder / name, enforce_file_format=True)
    return folder


def axial_positions(n, spacing=2.5, z0=-100.0):
    return [(-50.0, -60.0, z0 + k * spacing) for k in range(n)]


# --------------------------------------------------------------------------- ordering
def test_shuffled_series_is_sorted_by_geometry(tmp_path):
    positions = axial_positions(7)
    order = list(range(7))
    random.Random(3).shuffle(order)
    shuffled = [positions[k] for k in order]
    names = [f"slice-{k}.dcm" for k in (5, 12, 1, 30, 2, 7, 100)]
    write_series(tmp_path / "s", shuffled, names=names)
    ct = series.load_series(tmp_path / "s")
    assert ct.volume.shape == (7, 4, 5)
    assert ct.volume.dtype == np.float32
    assert np.all(np.diff(ct.metadata["position_mm"]) > 0)
    # slice written k-th has stored value 1024 + 10 k, HU = 10 k: the volume follows z, not names
    expected_hu = [10.0 * order.index(k) for k in range(7)]
    assert ct.volume[:, 0, 0].tolist() == expected_hu
    assert ct.spacing_mm == pytest.approx((2.5, 0.7, 0.8))
    assert ct.gaps == [] and ct.notes == []


def test_descending_positions_and_file_list_input(tmp_path):
    write_series(tmp_path / "s", axial_positions(4, spacing=-3.0))
    files = sorted((tmp_path / "s").iterdir())
    ct = series.load_series(files)
    assert ct.spacing_mm[0] == pytest.approx(3.0)
    assert ct.metadata["file"].tolist() == ["IM3.dcm", "IM2.dcm", "IM1.dcm", "IM0.dcm"]
    assert ct.origin[2] == pytest.approx(-109.0)


def test_affine_maps_voxels_to_patient_for_oblique_series(tmp_path):
    angle = np.deg2rad(30)
    row_dir = np.array([np.cos(angle), np.sin(angle), 0.0])
    col_dir = np.array([0.0, 0.0, -1.0])  # coronal-like oblique: rows go towards the feet
    normal = np.cross(row_dir, col_dir)
    origin = np.array([10.0, -20.0, 30.0])
    positions = [origin + k * 2.0 * normal for k in range(5)]
    write_series(
        tmp_path / "s", positions[::-1], iop=(*row_dir, *col_dir), pixel_spacing=(0.5, 0.9)
    )
    ct = series.load_series(tmp_path / "s")
    for k, i, j in [(0, 0, 0), (4, 3, 4), (2, 1, 3)]:
        expected = origin + k * 2.0 * normal + i * 0.5 * col_dir + j * 0.9 * row_dir
        assert series.voxel_to_patient(ct.affine, (k, i, j)) == pytest.approx(expected, abs=1e-6)
    assert ct.orientation @ ct.orientation.T == pytest.approx(np.eye(3), abs=1e-9)
    assert ct.spacing_mm == pytest.approx((2.0, 0.5, 0.9))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-500, 500, allow_nan=False), min_size=3, max_size=3),
    st.floats(0.2, 5.0),
    st.floats(0, 2 * np.pi),
)
def test_patient_to_voxel_inverts_voxel_to_patient(ijk, spacing, angle):
    affine = np.eye(4)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    affine[:3, :3] = rotation @ np.diag([spacing, 0.7, 1.3])
    affine[:3, 3] = [5.0, -3.0, 100.0]
    back = series.patient_to_voxel(affine, series.voxel_to_patient(affine, ijk))
    assert back == pytest.approx(ijk, abs=1e-6)


def test_coordinate_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="4 x 4"):
        series.voxel_to_patient(np.eye(3), (0, 0, 0))
    with pytest.raises(ValueError, match="ijk must have shape"):
        series.voxel_to_patient(np.eye(4), (0, 0))
    with pytest.raises(ValueError, match="xyz must have shape"):
        series.patient_to_voxel(np.eye(4), [[1, 2]])
    bad = np.eye(4)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        series.voxel_to_patient(bad, (0, 0, 0))


# --------------------------------------------------------------------------- gaps, duplicates, mixed series
def test_missing_slice_raises_with_file_names(tmp_path):
    positions = axial_positions(6)
    del positions[3]
    write_series(tmp_path / "s", positions)
    with pytest.raises(
        ValueError, match=r"1 slice\(s\) missing: gap of 5.000 mm between IM2.dcm / IM3.dcm"
    ):
        series.load_series(tmp_path / "s")


def test_missing_slice_report_fills_nan(tmp_path):
    positions = axial_positions(6)
    del positions[3]
    write_series(tmp_path / "s", positions)
    ct = series.load_series(tmp_path / "s", on_gap="report")
    assert ct.volume.shape[0] == 6
    assert np.isnan(ct.volume[3]).all() and not np.isnan(ct.volume[4]).any()
    assert ct.gaps == [
        {"after_slice": 2, "between_files": "IM2.dcm / IM3.dcm", "gap_mm": 5.0, "missing_slices": 1}
    ]
    assert any("missing" in note for note in ct.notes)
    # the geometry stays right after the gap
    assert series.voxel_to_patient(ct.affine, (5, 0, 0))[2] == pytest.approx(-100.0 + 5 * 2.5)


def test_duplicate_position_raises(tmp_path):
    positions = axial_positions(4)
    positions[2] = positions[1]
    write_series(tmp_path / "s", positions)
    with pytest.raises(ValueError, match="same position"):
        series.load_series(tmp_path / "s")


def test_irregular_spacing_raises(tmp_path):
    write_series(tmp_path / "s", [(0, 0, z) for z in (0.0, 2.5, 5.0, 8.7)])
    with pytest.raises(ValueError, match="irregular slice spacing: 3.700 mm"):
        series.load_series(tmp_path / "s")


def test_mixed_series_error_names_each_series(tmp_path):
    folder = tmp_path / "mixed"
    write_series(
        folder,
        axial_positions(3),
        uid="1.2.3.100",
        description="ARTERIAL",
        names=["a1", "a2", "a3"],
    )
    write_series(
        folder, axial_positions(2), uid="1.2.3.200", description="VENOUS", names=["v1", "v2"]
    )
    with pytest.raises(ValueError, match="2 series") as info:
        series.load_series(folder)
    message = str(info.value)
    assert "1.2.3.100" in message and "ARTERIAL" in message and "3 file(s)" in message
    assert "1.2.3.200" in message and "VENOUS" in message
    venous = series.load_series(folder, series_uid="1.2.3.200")
    assert venous.volume.shape[0] == 2 and venous.description == "VENOUS"
    with pytest.raises(ValueError, match="not found"):
        series.load_series(folder, series_uid="9.9.9")


def test_orientation_and_size_mismatch_raise(tmp_path):
    write_series(tmp_path / "o", axial_positions(2))
    ds = pydicom.dcmread(tmp_path / "o" / "IM1.dcm")
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.save_as(tmp_path / "o" / "IM1.dcm")
    with pytest.raises(ValueError, match="share the orientation"):
        series.load_series(tmp_path / "o")
    write_series(tmp_path / "z", axial_positions(1), names=["a.dcm"])
    write_series(tmp_path / "z", axial_positions(2)[1:], names=["b.dcm"], rows=6)
    with pytest.raises(ValueError, match="slices of one size"):
        series.load_series(tmp_path / "z")


# --------------------------------------------------------------------------- single slice, multi-frame
def test_single_slice_series_takes_spacing_from_thickness(tmp_path):
    write_series(tmp_path / "one", axial_positions(1), thickness=5.0)
    ct = series.load_series(tmp_path / "one")
    assert ct.volume.shape == (1, 4, 5)
    assert ct.spacing_mm == pytest.approx((5.0, 0.7, 0.8))
    ds = pydicom.dcmread(tmp_path / "one" / "IM0.dcm")
    ds.SpacingBetweenSlices = 4.0
    ds.save_as(tmp_path / "one" / "IM0.dcm")
    assert series.load_series(tmp_path / "one").spacing_mm[0] == pytest.approx(4.0)


def test_multiframe_sample_reports_missing_geometry():
    emri = series.load_series(data.sample_path("emri_small.dcm"))
    assert emri.volume.shape == (10, 64, 64)
    assert emri.spacing_mm == pytest.approx((1.2, 1.0, 1.0))
    assert any("PixelSpacing absent" in note for note in emri.notes)
    assert emri.modality == "MR"


def test_multiframe_with_functional_groups_is_sorted(tmp_path):
    ds = _base(rows=3, cols=3, sop_class=ENHANCED_CT_STORAGE)
    n_frames = 4
    ds.NumberOfFrames = n_frames
    z_values = [5.0, -1.0, 3.0, 1.0]  # stored out of order
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.6, 0.6]
    measures.SliceThickness = 2.0
    orientation = Dataset()
    orientation.ImageOrientationPatient = list(AXIAL)
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for z in z_values:
        item, position = Dataset(), Dataset()
        position.ImagePositionPatient = [0.0, 0.0, z]
        item.PlanePositionSequence = Sequence([position])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    frames = np.stack([np.full((3, 3), 1024 + int(z * 10), dtype=np.int16) for z in z_values])
    ds.PixelData = frames.tobytes()
    ds.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)
    ct = series.load_series(tmp_path / "enhanced.dcm")
    assert ct.volume[:, 1, 1].tolist() == [-10.0, 10.0, 30.0, 50.0]
    assert ct.spacing_mm == pytest.approx((2.0, 0.6, 0.6))
    assert ct.origin == pytest.approx([0.0, 0.0, -1.0])


def test_real_ct5n_series_from_pydicom():
    ct5n = series.load_series(data.sample_path("CT5N"))
    assert ct5n.volume.shape == (5, 16, 16)
    assert ct5n.spacing_mm[0] == pytest.approx(2.5)
    assert ct5n.metadata["InstanceNumber"].tolist() == [10, 9, 8, 7, 6]
    assert ct5n.metadata["position_mm"].tolist() == pytest.approx(
        [-1.2375, 1.2625, 3.7625, 6.2625, 8.7625]
    )


# --------------------------------------------------------------------------- bad input
def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        series.load_series(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no files"):
        series.load_series(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "notes.txt").write_text("not dicom")
    with pytest.raises(ValueError, match="no DICOM image"):
        series.load_series(tmp_path / "text")
    with pytest.raises(ValueError, match="empty list"):
        series.load_series([])
    with pytest.raises(FileNotFoundError, match="missing.dcm"):
        series.load_series([tmp_path / "missing.dcm"])
    with pytest.raises(ValueError, match="on_gap"):
        series.load_series(tmp_path, on_gap="ignore")


def test_non_image_files_are_skipped_and_noted(tmp_path):
    folder = write_series(tmp_path / "s", axial_positions(3))
    (folder / "README.txt").write_text("exported by a PACS")
    shutil.copy(data.sample_path("DICOMDIR"), folder / "DICOMDIR")
    ct = series.load_series(folder)
    assert ct.volume.shape[0] == 3
    assert any("README.txt" in note for note in ct.notes)


# --------------------------------------------------------------------------- plotting helpers for volumes
def test_orthogonal_views_uses_mm_extent():
    volume = np.random.default_rng(0).normal(size=(10, 20, 30)).astype(np.float32)
    fig = plotting.orthogonal_views(volume, (2.5, 0.5, 0.7), cbar_label="HU", title="t")
    axial, coronal, sagittal = fig.axes[:3]
    assert coronal.images[0].get_extent() == pytest.approx((0, 30 * 0.7, 0, 10 * 2.5))
    assert sagittal.images[0].get_extent() == pytest.approx((0, 20 * 0.5, 0, 10 * 2.5))
    assert axial.get_xlabel() == "mm along j"
    assert len(fig.axes) == 4  # three panels and a colour bar
    plt.close(fig)
    fig = plotting.orthogonal_views(volume, (2.5, 0.5, 0.7), physical=False, index=(0, 19, 29))
    assert "voxel index" in fig.axes[1].get_xlabel()
    plt.close(fig)


def test_orthogonal_views_rejects_bad_input():
    with pytest.raises(ValueError, match="3-D"):
        plotting.orthogonal_views(np.zeros((4, 4)), (1, 1, 1))
    with pytest.raises(ValueError, match="spacing_mm"):
        plotting.orthogonal_views(np.zeros((2, 4, 4)), (1, 0, 1))
    with pytest.raises(ValueError, match="outside"):
        plotting.orthogonal_views(np.zeros((2, 4, 4)), (1, 1, 1), index=(5, 0, 0))
    with pytest.raises(ValueError, match="empty"):
        plotting.orthogonal_views(np.zeros((0, 4, 4)), (1, 1, 1))
    plt.close("all")


def test_slice_browser_builds_and_switches_planes():
    pytest.importorskip("ipywidgets")
    volume = np.arange(6 * 8 * 10, dtype=np.float32).reshape(6, 8, 10)
    browser = plotting.slice_browser(
        volume, (2.5, 1.0, 1.0), presets={"a": (0, 100), "b": (0, 400)}, cbar_label="HU"
    )
    (plane, preset), index, picture = (
        browser.children[0].children,
        browser.children[1],
        browser.children[2],
    )
    assert index.max == 5
    first_png = picture.value
    assert first_png[:8] == b"\x89PNG\r\n\x1a\n"
    plane.value = "sagittal"
    assert index.max == 9 and index.value == 5
    assert picture.value != first_png
    preset.value = "b"
    with pytest.raises(ValueError, match="vmin < vmax"):
        plotting.slice_browser(volume, (1, 1, 1), presets={"bad": (10, 0)})
    plt.close("all")


def test_orientation_markers_name_the_patient_sides():
    assert plotting.orientation_letters([0, 0, 2.5]) == "S"
    assert plotting.orientation_letters([-1.4, 0, 0]) == "R"
    assert plotting.orientation_letters([0.7, -0.7, 0.1]) in ("LA", "AL")
    with pytest.raises(ValueError, match="zero"):
        plotting.orientation_letters([0, 0, 0])
    affine = np.array([[0, 0, 1.4, 0], [0, 1.4, 0, 0], [2.5, 0, 0, 0], [0, 0, 0, 1]], float)
    fig = plotting.orthogonal_views(np.zeros((4, 6, 8)), (2.5, 1.4, 1.4), affine=affine)
    texts = [sorted(t.get_text() for t in ax.texts) for ax in fig.axes[:3]]
    assert texts == [["A", "L", "P", "R"], ["I", "L", "R", "S"], ["A", "I", "P", "S"]]
    axial_right = [t for t in fig.axes[0].texts if t.get_position()[0] > 0.9][0].get_text()
    assert axial_right == "L"  # radiological convention: patient's left on the viewer's right
    assert [ax.get_title().split()[0] for ax in fig.axes[:3]] == ["axial", "coronal", "sagittal"]
    plt.close(fig)
    sagittal = np.array(
        [[-3.0, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    )  # k -> -x, i -> -z, j -> +y
    fig = plotting.orthogonal_views(np.zeros((4, 6, 8)), (3, 1, 1), affine=sagittal)
    assert [ax.get_title().split()[0] for ax in fig.axes[:3]] == ["sagittal", "axial", "coronal"]
    plt.close(fig)
    with pytest.raises(ValueError, match="4 x 4"):
        plotting.orthogonal_views(np.zeros((4, 6, 8)), (1, 1, 1), affine=np.eye(3))
