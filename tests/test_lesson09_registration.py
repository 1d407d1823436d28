"""Lesson 09: the notebook's own registrations recover known rigid motions of the MNI152 template.

The functions are taken from the notebook's cells (the hand-written ``register_rigid`` from its
solution cell, between the solution markers), not re-implemented here, so the test checks the
code students read. Each case moves the 2 mm template by a known rigid motion (up to 10 degrees
per axis and 15 mm) and measures the target registration error (TRE) at eight landmarks.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage, optimize

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_registration.ipynb"
FUNCTIONS = [
    "anti_alias",
    "load_template",
    "rigid_matrix",
    "ncc",
    "register_rigid",
    "to_sitk",
    "sitk_register",
]
CASES = [  # angles (deg), translation (mm)
    ((10.0, -10.0, 10.0), (8.0, -8.0, 8.0)),
    ((-10.0, 6.0, -8.0), (0.0, 15.0, 0.0)),
    ((4.0, 10.0, -10.0), (-10.0, 0.0, -11.0)),
]


def _functions() -> dict:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    namespace = {"np": np, "ndimage": ndimage, "optimize": optimize, "seed": 0}
    import nibabel as nib
    import SimpleITK as sitk
    from skimage.filters import threshold_otsu

    from course_utils import nifti
    from course_utils.exercises import lesson09

    namespace.update(lesson09=lesson09)
    namespace.update(nib=nib, sitk=sitk, nifti=nifti, RAS_TO_LPS=np.diag([-1.0, -1.0, 1.0, 1.0]))
    namespace.update(threshold_otsu=threshold_otsu, SITK_SAMPLING=0.02)
    found = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for node in ast.parse(source.replace("%matplotlib inline", "")).body:
            if isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS:
                found[node.name] = ast.get_source_segment(source, node)
    assert sorted(found) == sorted(FUNCTIONS), (
        f"missing in the notebook: {set(FUNCTIONS) - set(found)}"
    )
    assert "# BEGIN SOLUTION" in found["register_rigid"]
    for name in FUNCTIONS:
        exec(found[name], namespace)  # noqa: S102 - the notebook's own code
    return namespace


@pytest.fixture(scope="module")
def setting():
    ns = _functions()
    t1, affine, stored, smooth = ns["load_template"]("t1", 2.0)
    ns["stored"] = (smooth, stored.affine, affine)
    brain = (stored.get_fdata(dtype=np.float32) > 0)[::2, ::2, ::2]  # the unsmoothed mask
    centre = (affine @ np.r_[ndimage.center_of_mass(brain), 1.0])[:3]
    box = np.array(
        [[sx * 35, sy * 45, sz * 25] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    )
    return ns, t1, affine, centre, centre + box


def _moved(ns, t1, motion, seed):
    """The smoothed 1 mm template sampled at the moved 2 mm voxels, as the notebook's moved copy."""
    smooth, stored_affine, affine = ns["stored"]
    index_map = np.linalg.inv(stored_affine) @ np.linalg.inv(motion) @ affine
    moved = ndimage.affine_transform(smooth, index_map, output_shape=t1.shape, order=1)
    return moved + 0.02 * np.random.default_rng(seed).standard_normal(t1.shape)


def _tre(estimate, motion, landmarks):
    points = np.c_[landmarks, np.ones(len(landmarks))]
    return np.linalg.norm((points @ (estimate - motion).T)[:, :3], axis=1)


@pytest.mark.parametrize("number", range(len(CASES)))
def test_registrations_recover_known_rigid_motions(setting, number):
    ns, t1, affine, centre, landmarks = setting
    angles, shift = CASES[number]
    motion = ns["rigid_matrix"](angles, shift, centre)
    moving = _moved(ns, t1, motion, number).astype(np.float32)
    by_hand = ns["register_rigid"](t1, moving, affine, centre, (8.0, 4.0, 2.0))
    library = ns["sitk_register"](t1, moving, affine, centre)
    hand_tre, sitk_tre = _tre(by_hand, motion, landmarks), _tre(library, motion, landmarks)
    assert hand_tre.max() <= 2.0, f"hand-written registration: TRE up to {hand_tre.max():.2f} mm"
    assert sitk_tre.max() <= 1.5, f"SimpleITK registration: TRE up to {sitk_tre.max():.2f} mm"
    unregistered = _tre(np.eye(4), motion, landmarks)
    assert unregistered.mean() > 5.0  # the case really needs registering


def _patient_folders():
    """The notebook's ``patient_folders`` (and its ``SEQUENCES``), taken from its cell."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    namespace: dict = {}
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "def patient_folders" in source:
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef) and node.name == "patient_folders":
                    exec(ast.get_source_segment(source, node), namespace)  # noqa: S102
                elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "SEQUENCES":
                    exec(ast.get_source_segment(source, node), namespace)  # noqa: S102
    return namespace["patient_folders"], namespace["SEQUENCES"]


def test_patient_folders_accepts_the_three_rsna_layouts(tmp_path):
    patient_folders, sequences = _patient_folders()
    top = tmp_path / "brain-mri-study"
    patients = [top / "train" / name for name in ("00000", "00002", "00005")]
    for patient in patients:
        for sequence in sequences:
            (patient / sequence).mkdir(parents=True)
    assert patient_folders(top) == patients  # the folder that holds train/
    assert patient_folders(top / "train") == patients  # train/ itself
    assert patient_folders(patients[1]) == [patients[1]]  # one patient folder
    with pytest.raises(FileNotFoundError, match="FLAIR"):
        patient_folders(tmp_path / "empty")
