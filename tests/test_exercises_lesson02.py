"""Right and wrong answers for the lesson 02 exercise checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from course_utils.exercises import lesson02 as ex

SHAPE = (48, 256, 256)
SPACING = (2.5, 1.4, 1.4)


# --------------------------------------------------------------------------- field of view
def test_field_of_view_accepts_right_answer(capsys):
    assert ex.check_field_of_view(np.array(SHAPE) * np.array(SPACING), SHAPE, SPACING)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((np.array(SHAPE) - 1) * np.array(SPACING), "centre of the first voxel"),
        (SHAPE, "voxel counts"),
        ([358.4, 358.4, 120.0], "wrong order"),
        ([120.0, 358.4, 300.0], "column value"),
        (None, "got None"),
        ([1.0, 2.0], "expected 3 numbers"),
        ("120 mm", "expected 3 numbers in mm"),
    ],
)
def test_field_of_view_explains_mistakes(answer, message, capsys):
    assert not ex.check_field_of_view(answer, SHAPE, SPACING)
    out = capsys.readouterr().out
    assert "❌" in out and message in out
    assert "120" not in out.replace("120 mm", "")  # the reference is not revealed


def test_field_of_view_rejects_bad_geometry():
    with pytest.raises(ValueError, match="spacing_mm"):
        ex.check_field_of_view([1, 1, 1], SHAPE, (1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="shape"):
        ex.check_field_of_view([1, 1, 1], (4, 4), SPACING)


# --------------------------------------------------------------------------- nearest slice
def axial_affine(step=2.5, z0=-308.75):
    affine = np.eye(4)
    affine[:3, :3] = [[0, 0, 1.4], [0, 1.4, 0], [step, 0, 0]]
    affine[:3, 3] = [-178.5, -158.5, z0]
    return affine


def good_nearest(affine, n_slices, z_mm):
    z_centres = affine[2, 3] + np.arange(n_slices) * affine[2, 0]
    return int(np.argmin(np.abs(z_centres - z_mm)))


@pytest.mark.parametrize("step", [2.5, -2.5])
def test_nearest_slice_accepts_right_answer(step, capsys):
    assert ex.check_nearest_slice(good_nearest, axial_affine(step), 48)
    assert "✅" in capsys.readouterr().out


def test_nearest_slice_accepts_float_holding_an_integer():
    assert ex.check_nearest_slice(lambda a, n, z: float(good_nearest(a, n, z)), axial_affine(), 48)


def test_nearest_slice_catches_missing_clip(capsys):
    def unclipped(affine, n_slices, z_mm):
        return int(round((z_mm - affine[2, 3]) / affine[2, 0]))

    assert not ex.check_nearest_slice(unclipped, axial_affine(), 48)
    assert "outside the volume" in capsys.readouterr().out


def test_nearest_slice_catches_floor_instead_of_round(capsys):
    def floored(affine, n_slices, z_mm):
        return int(np.clip(np.floor((z_mm - affine[2, 3]) / affine[2, 0]), 0, n_slices - 1))

    assert not ex.check_nearest_slice(floored, axial_affine(), 48)
    assert "inside the volume" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda a, n, z: None, "returned None"),
        (lambda a, n, z: "3", "expected an integer"),
        (lambda a, n, z: 3.5, "expected an integer"),
        (None, "expected a function"),
    ],
)
def test_nearest_slice_wrong_types(function, message, capsys):
    assert not ex.check_nearest_slice(function, axial_affine(), 48)
    assert message in capsys.readouterr().out


def test_nearest_slice_stub(capsys):
    def stub(affine, n_slices, z_mm):
        raise NotImplementedError

    assert not ex.check_nearest_slice(stub, axial_affine(), 48)
    assert "not implemented yet" in capsys.readouterr().out


def test_nearest_slice_rejects_bad_affine():
    with pytest.raises(ValueError, match="4 x 4"):
        ex.check_nearest_slice(good_nearest, np.eye(3), 4)
    with pytest.raises(ValueError, match="n_slices"):
        ex.check_nearest_slice(good_nearest, np.eye(4), 0)


# --------------------------------------------------------------------------- resample
def good_resample(volume, spacing_mm, target_mm, order=1):
    old = np.array(volume.shape)
    new = np.maximum(np.rint(old * np.array(spacing_mm) / target_mm).astype(int), 1)
    out = ndimage.zoom(volume, new / old, order=order, mode="nearest", grid_mode=True)
    return out, tuple(np.array(spacing_mm) * old / np.array(out.shape))


def test_resample_accepts_right_answer(capsys):
    assert ex.check_resample_to_spacing(good_resample)
    assert "✅" in capsys.readouterr().out
    assert ex.check_resample_to_spacing(good_resample, order=3)


def test_resample_reference_keeps_field_of_view():
    volume = np.zeros((4, 10, 10), dtype=np.float32)
    out, spacing = ex.reference_resample(volume, (2.5, 0.7, 0.7), 1.0)
    assert out.shape == (10, 7, 7)
    assert np.array(out.shape) * np.array(spacing) == pytest.approx(
        np.array(volume.shape) * [2.5, 0.7, 0.7]
    )
    with pytest.raises(ValueError, match="3-D"):
        ex.reference_resample(np.zeros((4, 4)), (1, 1, 1), 1.0)
    with pytest.raises(ValueError, match="target_mm"):
        ex.reference_resample(volume, (1, 1, 1), 0)


def test_resample_catches_inverted_zoom(capsys):
    def inverted(volume, spacing_mm, target_mm, order=1):
        factors = target_mm / np.array(spacing_mm)
        out = ndimage.zoom(volume, factors, order=order)
        return out, (target_mm,) * 3

    assert not ex.check_resample_to_spacing(inverted)
    assert "the shape is" in capsys.readouterr().out


def test_resample_catches_wrong_spacing(capsys):
    def old_spacing(volume, spacing_mm, target_mm, order=1):
        return good_resample(volume, spacing_mm, target_mm, order)[0], tuple(spacing_mm)

    assert not ex.check_resample_to_spacing(old_spacing)
    assert "new spacing" in capsys.readouterr().out


def test_resample_catches_wrong_values_and_return_type(capsys):
    def zeros(volume, spacing_mm, target_mm, order=1):
        out, spacing = good_resample(volume, spacing_mm, target_mm, order)
        return np.zeros_like(out), spacing

    assert not ex.check_resample_to_spacing(zeros)
    assert "differ from the reference" in capsys.readouterr().out
    assert not ex.check_resample_to_spacing(
        lambda v, s, t, order=1: good_resample(v, s, t, order)[0]
    )
    assert "expected a tuple" in capsys.readouterr().out


def test_resample_stub(capsys):
    def stub(volume, spacing_mm, target_mm, order=1):
        raise NotImplementedError

    assert not ex.check_resample_to_spacing(stub)
    assert "not implemented yet" in capsys.readouterr().out


# --------------------------------------------------------------------------- coronal aspect
def test_coronal_aspect_right_answer(capsys):
    assert ex.check_coronal_aspect(2.5 / 1.4, SPACING)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (1.4 / 2.5, "inverse"),
        (1.0, "square pixels"),
        ("auto", "expected a number"),
        (None, "got None"),
        (2.5 / 0.7, "too high"),
    ],
)
def test_coronal_aspect_mistakes(answer, message, capsys):
    assert not ex.check_coronal_aspect(answer, (2.5, 0.7, 1.4))
    assert message in capsys.readouterr().out


def test_coronal_aspect_uses_column_spacing(capsys):
    # rows and columns with different spacing: slice / row spacing is the sagittal aspect, not the coronal one
    assert not ex.check_coronal_aspect(2.5 / 0.7, (2.5, 0.7, 1.4))
    assert ex.check_coronal_aspect(2.5 / 1.4, (2.5, 0.7, 1.4))
