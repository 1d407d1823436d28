"""course_utils.nifti: the MNI152 template inside nilearn's wheel, and DICOM <-> NIfTI affines."""

import nibabel as nib
import numpy as np
import pytest

from course_utils import nifti, series

AXIAL = np.array([[0, 0, 1.4, -178.5], [0, 1.4, 0, -158.5], [2.5, 0, 0, -308.75], [0, 0, 0, 1]])


@pytest.mark.parametrize("kind", ["t1", "gm", "wm"])
def test_mni152_files_are_found_and_verified(kind):
    path = nifti.mni152_path(kind)
    assert path.is_file() and path.name.endswith(".nii.gz")
    image = nib.load(path)
    assert image.shape == (197, 233, 189)
    assert nib.aff2axcodes(image.affine) == ("R", "A", "S")
    assert np.allclose(image.header.get_zooms(), 1.0)


def test_mni152_rejects_unknown_kind_and_bad_checksum(monkeypatch):
    with pytest.raises(ValueError, match="kind must be one of"):
        nifti.mni152_path("csf")
    monkeypatch.setitem(nifti.MNI152_FILES, "t1", (nifti.MNI152_FILES["t1"][0], "0" * 64))
    with pytest.raises(ValueError, match="checksum mismatch"):
        nifti.mni152_path("t1")
    assert nifti.mni152_path("t1", verify=False).is_file()


def test_mni152_missing_package(monkeypatch):
    monkeypatch.setattr(nifti.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="nilearn"):
        nifti.mni152_path("t1")


@pytest.mark.parametrize(
    "affine",
    [
        AXIAL,
        np.array(
            [[0, 0.9, 0, 10], [0, 0, -0.9, 20], [3.0, 0, 0, -5], [0, 0, 0, 1]]
        ),  # sagittal-like
        np.array([[0.3, 0.0, 0.95, 1], [0.2, 0.98, 0, 2], [2.9, -0.1, -0.3, 3], [0, 0, 0, 1]]),
    ],
)
def test_dicom_nifti_round_trip_keeps_every_voxel_in_place(affine):
    rng = np.random.default_rng(0)
    kij = rng.integers(0, 20, size=(5, 3))
    lps = series.voxel_to_patient(affine, kij)
    ras_affine = nifti.dicom_to_nifti_affine(affine)
    xyz_index = kij[:, ::-1]  # NIfTI index order (column, row, slice)
    ras = nib.affines.apply_affine(ras_affine, xyz_index)
    assert np.allclose(ras, lps * [-1, -1, 1])
    assert np.allclose(nifti.nifti_to_dicom_affine(ras_affine), affine)


def test_axial_dicom_becomes_las_in_nifti():
    # DICOM axial rows run R->L: in NIfTI (RAS+) the first axis therefore points to L.
    assert nib.aff2axcodes(nifti.dicom_to_nifti_affine(AXIAL)) == ("L", "P", "S")


def test_affine_validation():
    with pytest.raises(ValueError, match="4 x 4"):
        nifti.dicom_to_nifti_affine(np.eye(3))
    bad = AXIAL.copy()
    bad[3, 0] = 1
    with pytest.raises(ValueError, match="last row"):
        nifti.nifti_to_dicom_affine(bad)


def test_mni152_files_agree_with_the_data_manifest():
    from course_utils import data

    manifest = data.load_manifest("mni152-template")
    assert manifest["package"] == "nilearn"
    listed = {entry["file"]: entry["sha256"] for entry in manifest["files"]}
    assert listed == dict(nifti.MNI152_FILES.values())
