"""NIfTI helpers shared by the lessons: where the MNI152 template lives, and the DICOM <-> NIfTI axes.

The MNI152 2009a symmetric template (an average of 152 adult brains, non-linearly
registered; T1-weighted image and grey/white-matter probability maps) ships inside
the ``nilearn`` wheel as NIfTI files, rescaled by nilearn to 8 bits ("converted").
:func:`mni152_path` finds a file without importing nilearn (lessons read it with
nibabel) and verifies its sha256, so a lesson never downloads anything.

Licences: nilearn is BSD-3-Clause; the ICBM 2009a template is distributed by the
McConnell Brain Imaging Centre (MNI, McGill University) under a permissive
licence (use, copy, modify and distribute with the copyright notice kept).

Example
-------
>>> import nibabel as nib
>>> t1 = nib.load(mni152_path("t1"))                      # doctest: +SKIP
>>> nib.aff2axcodes(t1.affine)                             # doctest: +SKIP
('R', 'A', 'S')
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from course_utils.data import sha256_file

__all__ = ["MNI152_FILES", "mni152_path", "dicom_to_nifti_affine", "nifti_to_dicom_affine"]

#: kind -> (file name inside ``nilearn/datasets/data``, sha256 of nilearn 0.14.1's copy)
MNI152_FILES = {
    "t1": (
        "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
        "421a10e872fd6cadae7f61d358dffbcc1795a497d61ee76c5dda2503e1a1e9e6",
    ),
    "gm": (
        "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
        "97a5ca69bd24db37a9cb7b32525e1733a209af904129bf1cd36da06d24243bed",
    ),
    "wm": (
        "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
        "382d92812de4744f9c86c7a0e4f680dc317a0a50e4da1f0153618a6798c7b7db",
    ),
}

# (slice k, row i, column j) in LPS+  ->  (i_nifti = column, j_nifti = row, k_nifti = slice) in RAS+
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_KIJ_TO_NIFTI = np.array(
    [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float
)  # permutation: NIfTI index (x, y, z) = (column, row, slice)


def mni152_path(kind: str = "t1", *, verify: bool = True) -> Path:
    """Path of an MNI152 2009a template file inside the installed ``nilearn`` wheel.

    Parameters
    ----------
    kind : {"t1", "gm", "wm"}
        The T1-weighted template, or the grey- or white-matter probability map.
    verify : bool, default True
        Compare the file's sha256 with the one this course was written for.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        Unknown ``kind``, or a checksum that differs (another nilearn version's file).
    FileNotFoundError
        nilearn is not installed or does not ship the file.

    Example
    -------
    >>> mni152_path("gm").name                            # doctest: +SKIP
    'mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz'
    """
    if kind not in MNI152_FILES:
        raise ValueError(f"kind must be one of {sorted(MNI152_FILES)}, got {kind!r}")
    name, expected = MNI152_FILES[kind]
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "package 'nilearn' is not installed; it ships the MNI152 template (run make install)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{name} should be at {path} (package nilearn) but is missing")
    if verify:
        actual = sha256_file(path)
        if actual != expected:
            raise ValueError(
                f"checksum mismatch for {name}: expected sha256 {expected}, got {actual}; "
                "the installed nilearn ships a different template file than this course expects"
            )
    return path


def _check_affine(affine, name: str) -> np.ndarray:
    matrix = np.asarray(affine, dtype=float)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise ValueError(f"{name} must be a finite 4 x 4 matrix, got shape {matrix.shape}")
    if not np.allclose(matrix[3], [0, 0, 0, 1]):
        raise ValueError(f"{name}: the last row must be (0, 0, 0, 1), got {matrix[3]}")
    return matrix


def dicom_to_nifti_affine(affine_lps_kij):
    """NIfTI affine (RAS+, index order column, row, slice) of a DICOM volume's affine.

    The course stores DICOM volumes as ``volume[k, i, j]`` (slice, row, column)
    with an affine to LPS+ millimetres. NIfTI files store ``data[x, y, z]`` and
    map indices to RAS+: flip the signs of patient x and y, and permute the index
    axes. Write the array as ``volume.transpose(2, 1, 0)``.

    Parameters
    ----------
    affine_lps_kij : array_like, shape (4, 4)

    Returns
    -------
    numpy.ndarray, shape (4, 4)

    Raises
    ------
    ValueError
        Not a finite 4 x 4 affine with last row (0, 0, 0, 1).

    Example
    -------
    >>> a = np.array([[0, 0, 1.4, -178.5], [0, 1.4, 0, -158.5], [2.5, 0, 0, -308.75], [0, 0, 0, 1]])
    >>> dicom_to_nifti_affine(a)[:3, 3].tolist()
    [178.5, 158.5, -308.75]
    """
    matrix = _check_affine(affine_lps_kij, "affine_lps_kij")
    return _LPS_TO_RAS @ matrix @ _KIJ_TO_NIFTI


def nifti_to_dicom_affine(affine_ras_xyz):
    """Inverse of :func:`dicom_to_nifti_affine`: back to LPS+ and (slice, row, column) indices.

    Example
    -------
    >>> a = np.array([[0, 0, 1.4, -178.5], [0, 1.4, 0, -158.5], [2.5, 0, 0, -308.75], [0, 0, 0, 1]])
    >>> bool(np.allclose(nifti_to_dicom_affine(dicom_to_nifti_affine(a)), a))
    True
    """
    matrix = _check_affine(affine_ras_xyz, "affine_ras_xyz")
    return _LPS_TO_RAS @ matrix @ _KIJ_TO_NIFTI
