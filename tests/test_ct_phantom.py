"""The ct-phantom generator: determinism, Hounsfield units, DICOM geometry and conformance."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from course_utils import data, series
from course_utils.datasets import ct_phantom

SMALL = {"shape": (7, 64, 64), "spacing_mm": (20.0, 5.6, 5.6)}  # covers the same 140 x 358 x 358 mm


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ct-phantom-a")
    ct_phantom.generate(folder, seed=0, **SMALL)
    return folder


def test_defaults_describe_an_anisotropic_ct():
    assert set(ct_phantom.DEFAULTS) == {"seed", "shape", "spacing_mm", "noise_hu"}
    slice_mm, row_mm, col_mm = ct_phantom.DEFAULTS["spacing_mm"]
    assert slice_mm > row_mm == col_mm
    assert 10 <= ct_phantom.DEFAULTS["noise_hu"] <= 20
    assert data.load_manifest("ct-phantom")["default_parameters"]["shape"] == list(
        ct_phantom.DEFAULTS["shape"]
    )


def test_same_seed_same_fingerprint_other_seed_differs(tmp_path, small_build):
    again = tmp_path / "again"
    other = tmp_path / "other"
    again.mkdir()
    other.mkdir()
    ct_phantom.generate(again, seed=0, **SMALL)
    ct_phantom.generate(other, seed=1, **SMALL)
    assert data.fingerprint(again) == data.fingerprint(small_build)
    assert data.fingerprint(other) != data.fingerprint(small_build)


def test_file_names_are_not_in_geometric_order(small_build):
    names = sorted(p.name for p in small_build.glob("*.dcm"))
    assert names == [
        "CT-1.dcm",
        "CT-2.dcm",
        "CT-3.dcm",
        "CT-4.dcm",
        "CT-5.dcm",
        "CT-6.dcm",
        "CT-7.dcm",
    ]
    # the default build has 48 files: text order CT-1, CT-10, ... is not the geometric order
    assert sorted(f"CT-{n}.dcm" for n in range(1, 49))[:3] == ["CT-1.dcm", "CT-10.dcm", "CT-11.dcm"]
    z_by_instance = {}
    for path in small_build.glob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert path.name == f"CT-{ds.InstanceNumber}.dcm"
        z_by_instance[int(ds.InstanceNumber)] = float(ds.ImagePositionPatient[2])
    z_values = [z_by_instance[n] for n in sorted(z_by_instance)]
    assert np.all(np.diff(z_values) < 0), "InstanceNumber 1 should be the most superior slice"


def test_geometry_tags_are_consistent(small_build):
    ct = series.load_series(small_build)
    assert ct.volume.shape == SMALL["shape"]
    assert ct.spacing_mm == pytest.approx(SMALL["spacing_mm"])
    assert ct.notes == [] and ct.gaps == []
    positions = ct.metadata["position_mm"].to_numpy()
    thickness = ct.metadata["SliceThickness"].to_numpy()
    assert np.diff(positions) == pytest.approx(thickness[1:])
    ds = pydicom.dcmread(small_build / "CT-1.dcm")
    assert float(ds.SpacingBetweenSlices) == pytest.approx(float(ds.SliceThickness))
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert float(ds.SliceLocation) == pytest.approx(float(ds.ImagePositionPatient[2]))


def test_rescale_gives_hounsfield_units(small_build):
    ds = pydicom.dcmread(small_build / "CT-4.dcm")
    assert ds.SOPClassUID == pydicom.uid.CTImageStorage
    assert (ds.Modality, ds.PhotometricInterpretation, ds.RescaleType) == (
        "CT",
        "MONOCHROME2",
        "HU",
    )
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, -1024.0)
    assert (ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation) == (16, 12, 0)
    stored = ds.pixel_array
    assert stored.dtype == np.uint16 and stored.max() < 4096
    hu = stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert hu.min() >= -1024 and hu[0, 0] == pytest.approx(-1000, abs=60)  # air in the corner
    assert [float(v) for v in ds.WindowCenter] == [40.0, 400.0]


def test_uids_are_deterministic_and_shared(small_build, tmp_path):
    headers = [
        pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(small_build.glob("*.dcm"))
    ]
    assert len({h.SeriesInstanceUID for h in headers}) == 1
    assert len({h.StudyInstanceUID for h in headers}) == 1
    assert len({h.FrameOfReferenceUID for h in headers}) == 1
    assert len({h.SOPInstanceUID for h in headers}) == len(headers)
    assert all(h.file_meta.MediaStorageSOPInstanceUID == h.SOPInstanceUID for h in headers)
    other = tmp_path / "seed1"
    other.mkdir()
    ct_phantom.generate(other, seed=1, shape=(2, 16, 16), spacing_mm=(5.0, 22.4, 22.4))
    assert pydicom.dcmread(other / "CT-1.dcm").StudyInstanceUID != headers[0].StudyInstanceUID


def test_tissues_have_their_hounsfield_units(small_build):
    # 5.6 mm pixels: structures thinner than ~15 mm (kidney cortex, cortical bone, ribs) are partial-volumed
    ct = series.load_series(small_build)
    tolerance = {
        "air": 30,
        "lung": 60,
        "fat": 30,
        "muscle": 30,
        "liver": 30,
        "aorta": 60,
        "cancellous_bone": 80,
    }
    for tissue, allowed in tolerance.items():
        xyz = ct_phantom.anatomy_to_patient(ct_phantom.probe_points_mm()[tissue])
        k, i, j = np.rint(series.patient_to_voxel(ct.affine, xyz)).astype(int)
        if tissue == "fat":  # a thin layer front to back, wide from side to side
            neighbourhood = ct.volume[k, i, j - 2 : j + 3]
        else:
            neighbourhood = ct.volume[k, i - 1 : i + 2, j - 1 : j + 2]
        measured = float(neighbourhood.mean())
        expected = ct_phantom.TISSUE_HU[tissue]
        assert abs(measured - expected) <= allowed, (
            f"{tissue}: {measured:.0f} HU, expected {expected:.0f}"
        )


def test_noise_level_and_noise_free_render():
    shape, spacing = (2, 48, 48), (10.0, 7.5, 7.5)
    clean, _ = ct_phantom.render_hu(shape, spacing, seed=3, noise_hu=0)
    noisy, z = ct_phantom.render_hu(shape, spacing, seed=3, noise_hu=15)
    assert clean.dtype == np.float32 and clean.shape == shape
    assert np.std(noisy - clean) == pytest.approx(15, rel=0.02)
    assert z.tolist() == [5.0, -5.0]
    assert clean.min() == pytest.approx(-1000, abs=1)


def test_bad_parameters_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="unknown ct-phantom parameter"):
        ct_phantom.generate(tmp_path, slices=3)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ct_phantom.generate(tmp_path / "missing", shape=(1, 8, 8))
    with pytest.raises(ValueError, match="shape must be 3 positive integers"):
        ct_phantom.render_hu((4, 8), (1, 1, 1))
    with pytest.raises(ValueError, match="spacing_mm must be 3 positive"):
        ct_phantom.render_hu((1, 8, 8), (1, 0, 1))
    with pytest.raises(ValueError, match="noise_hu"):
        ct_phantom.render_hu((1, 8, 8), (1, 1, 1), noise_hu=-1)


def test_dciodvfy_reports_no_errors(small_build):
    if shutil.which("dciodvfy") is None:
        pytest.skip(
            "dciodvfy (Debian package dicom3tools) is not installed; install it to check DICOM conformance"
        )
    for path in sorted(small_build.glob("*.dcm")):
        result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        errors = [line for line in report.splitlines() if re.match(r"^\s*Error", line)]
        assert not errors, f"{path.name}: " + "; ".join(errors)


def test_dcmdump_reads_every_file(small_build):
    if shutil.which("dcmdump") is None:
        pytest.skip(
            "dcmdump (Debian package dcmtk) is not installed; install it to check interoperability"
        )
    for path in sorted(small_build.glob("*.dcm")):
        result = subprocess.run(["dcmdump", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"dcmdump failed on {path.name}: {result.stderr}"
        assert "(0028,1052)" in result.stdout  # RescaleIntercept
