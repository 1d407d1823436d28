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


# --------------------------------------------------------------------------- slice order (new series)
def _order_right(ipps, iop):
    normal = np.cross(iop[:3], iop[3:])
    return np.argsort(np.asarray(ipps) @ normal)


def test_slice_order_accepts_right_answer(capsys):
    assert ex.check_slice_order(_order_right)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda ipps, iop: np.argsort(np.asarray(ipps)[:, 2], kind="stable"), "z of IPP"),
        (lambda ipps, iop: _order_right(ipps, iop)[::-1], "reversed"),
        (lambda ipps, iop: np.sort(np.asarray(ipps) @ np.cross(iop[:3], iop[3:])), "not integer"),
        (lambda ipps, iop: np.argsort(np.asarray(ipps) @ np.asarray(iop[:3])), "wrong order"),
        (lambda ipps, iop: None, "returned None"),
    ],
)
def test_slice_order_names_mistakes(function, message, capsys):
    assert not ex.check_slice_order(function)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- affine
def _affine_right(iop, first, last, n, spacing):
    return ex._reference_affine(iop, first, last, n, spacing)


def _affine_with(**changes):
    def build(iop, first, last, n, spacing):
        iop = np.asarray(iop, float)
        affine = _affine_right(iop, first, last, n, spacing)
        normal = np.cross(iop[:3], iop[3:])
        if "normal_step" in changes:
            affine[:3, 0] = normal * np.linalg.norm((last - first) / (n - 1))
        if "swap_spacing" in changes:
            affine[:3, 1] = iop[3:] * spacing[1]
            affine[:3, 2] = iop[:3] * spacing[0]
        if "swap_iop" in changes:
            affine[:3, 1] = iop[:3] * spacing[0]
            affine[:3, 2] = iop[3:] * spacing[1]
        if "swap_directions" in changes:
            affine[:3, [1, 2]] = affine[:3, [2, 1]]
        if "last_origin" in changes:
            affine[:3, 3] = last
        if "fence_post" in changes:
            affine[:3, 0] = (last - first) / n
        if "fence_post_rounded" in changes:
            affine[:3, 0] = (last - first) / (n + 1)
        return affine

    return build


def test_build_affine_accepts_right_answer(capsys):
    assert ex.check_build_affine(_affine_right)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (_affine_with(normal_step=True), "gantry tilt"),
        (_affine_with(swap_spacing=True), "PixelSpacing values are used the wrong way round"),
        (_affine_with(swap_directions=True), "columns 1 and 2 are swapped"),
        (_affine_with(swap_iop=True), "two IOP vectors are used the wrong way round"),
        (_affine_with(last_origin=True), "IPP of the last slice"),
        (_affine_with(fence_post=True), "fewer steps than slices"),
        (_affine_with(fence_post_rounded=True), "slice column is off"),
        (lambda *a: np.eye(3), "4 x 4"),
    ],
)
def test_build_affine_names_mistakes(function, message, capsys):
    assert not ex.check_build_affine(function)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- slab MIP
def _slab_from_rows_only(volume, affine, y_from, y_to):
    """The y of each row from the row step alone: ignores a gantry tilt."""
    y_rows = affine[1, 3] + np.arange(volume.shape[1]) * affine[1, 1]
    keep = (y_rows >= min(y_from, y_to)) & (y_rows <= max(y_from, y_to))
    return volume[:, keep, :].max(axis=1)


def _slab_mask(volume, affine, y_from, y_to):
    k, i, j = np.indices(volume.shape)
    y = affine[1, 0] * k + affine[1, 1] * i + affine[1, 2] * j + affine[1, 3]
    return (y >= min(y_from, y_to)) & (y <= max(y_from, y_to))


def _slab_zero_filled(volume, affine, y_from, y_to):
    """The most common slip: zeros outside the slab, which beat any negative HU inside it."""
    return np.where(_slab_mask(volume, affine, y_from, y_to), volume, 0.0).max(axis=1)


def _slab_minus_inf(volume, affine, y_from, y_to):
    return np.where(_slab_mask(volume, affine, y_from, y_to), volume, -np.inf).max(axis=1)


def test_slab_mip_accepts_right_answer(capsys):
    assert ex.check_slab_mip(ex.reference_slab_mip)
    assert ex.check_slab_mip(_slab_minus_inf)
    assert capsys.readouterr().out.count("✅") == 2


def test_reference_slab_mip_int16_and_bounded_memory():
    import tracemalloc

    volume = np.full((200, 128, 128), -1000, dtype=np.int16)
    volume[:, 60:70] = 300
    affine = np.array([[0, 0, 0.7, 0], [0, 0.7, 0, -40.0], [2.5, 0, 0, 0], [0, 0, 0, 1]])
    tracemalloc.start()
    mip = ex.reference_slab_mip(volume, affine, -5.0, 5.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert mip.dtype == np.float32 and np.all(mip == 300)
    assert peak < volume.nbytes / 8  # a few slices' worth, not a copy of the volume


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda v, a, y0, y1: v.max(axis=1), "every row"),
        (
            lambda v, a, y0, y1: v[:, int(y0 - a[1, 3]) : int(y1 - a[1, 3]) + 1].max(axis=1),
            "without the affine",
        ),
        (lambda v, a, y0, y1: v[:, 9:16].mean(axis=1), "mean"),
        (lambda v, a, y0, y1: v[:, 9:16].max(axis=0), "wrong axis"),
        (lambda v, a, y0, y1: v[:, 9:16].min(axis=1), "the minimum"),
        (lambda v, a, y0, y1: v[:, int(-y0) : int(-y1)].max(axis=1), "zero-size array"),
        # the most likely mistakes: mm as (negative) indices, with or without the step
        (lambda v, a, y0, y1: v[:, int(y0) : int(y1) + 1].max(axis=1), "negative here"),
        (lambda v, a, y0, y1: v[:, int(y0) : int(y1)].max(axis=1), "negative here"),
        (
            lambda v, a, y0, y1: v[:, round(y0 / a[1, 1]) : round(y1 / a[1, 1]) + 1].max(axis=1),
            "forgot the origin",
        ),
        (
            lambda v, a, y0, y1: v[:, int(y0 / a[1, 1]) : int(y1 / a[1, 1])].max(axis=1),
            "forgot the origin",
        ),
        # right on an axis-aligned series, but the row's y is taken from the row index alone
        (_slab_from_rows_only, "gantry-tilted"),
        # the right voxel mask, but 0 (not -inf) outside the slab: wrong where the slab is all < 0
        (_slab_zero_filled, "you filled 0"),
        (lambda v, a, y0, y1: (v * _slab_mask(v, a, y0, y1)).max(axis=1), "you filled 0"),
        (
            lambda v, a, y0, y1: np.where(_slab_mask(v, a, y0, y1), v, 0).max(axis=1),
            "you filled 0",
        ),
    ],
)
def test_slab_mip_names_mistakes(function, message, capsys):
    assert not ex.check_slab_mip(function)
    out = capsys.readouterr().out
    assert message in out
    assert "-17" not in out and "9:16" not in out  # neither the slab nor the rows are given away


# --------------------------------------------------------------------------- NIfTI affine
PERMUTE = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], float)


def test_nifti_affine_accepts_right_answer(capsys):
    from course_utils import nifti

    assert ex.check_nifti_affine(nifti.dicom_to_nifti_affine)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda a: a @ PERMUTE, "still LPS"),
        (lambda a: np.diag([-1, -1, 1, 1.0]) @ a, "still (slice, row, column)"),
        (lambda a: np.diag([-1, -1, -1, 1.0]) @ a @ PERMUTE, "all three"),
        (lambda a: a, "different anatomical point"),
        (lambda a: np.diag([-1, -1, 1, 1.0]) @ PERMUTE @ a, "wrong side"),
        (lambda a: a @ PERMUTE @ np.diag([-1, -1, 1, 1.0]), "wrong side"),
        (lambda a: PERMUTE @ a, "wrong side"),
        (lambda a: np.diag([-1, 1, 1, 1.0]) @ a @ PERMUTE, "front and back swapped"),
        (lambda a: np.diag([1, -1, 1, 1.0]) @ a @ PERMUTE, "left and right swapped"),
    ],
)
def test_nifti_affine_names_mistakes(function, message, capsys):
    assert not ex.check_nifti_affine(function)
    assert message in capsys.readouterr().out


# --------------------------------------------------------------------------- resample: grid_mode
def test_resample_names_grid_mode_mistake(capsys):
    def corner_aligned(volume, spacing, target, order=1):
        _, new_spacing = ex.reference_resample(volume, spacing, target, order)
        shape = np.maximum(
            np.rint(np.array(volume.shape) * np.array(spacing) / target).astype(int), 1
        )
        out = ndimage.zoom(volume, shape / np.array(volume.shape), order=order, mode="nearest")
        return out, new_spacing

    assert not ex.check_resample_to_spacing(corner_aligned)
    assert "grid_mode" in capsys.readouterr().out


# --------------------------------------------------------------------------- section in mm
def _section_with(**changes):
    from course_utils import plotting

    def draw(ax, volume, spacing, affine, axis):
        down, across = (a for a in range(3) if a != axis)
        image = np.take(volume, volume.shape[axis] // 2, axis=axis)
        step_down, step_across = spacing[down], spacing[across]
        if "voxels" in changes:
            step_down = step_across = 1.0
        if "swapped" in changes:
            step_down, step_across = step_across, step_down
        if "cut_axis" in changes:
            step_down = spacing[axis]
        extent = (0, image.shape[1] * step_across, image.shape[0] * step_down, 0)
        if "transposed" in changes:
            image = image.T
        ax.imshow(image, origin="upper", extent=extent)
        if "no_markers" not in changes:
            up = affine[:3, down] if "upside_down" in changes else -affine[:3, down]
            right = -affine[:3, across] if "mirrored" in changes else affine[:3, across]
            if "columns_swapped" in changes:
                right, up = affine[:3, down], -affine[:3, across]
            plotting.add_orientation_markers(ax, right, up)

    return draw


def test_show_section_accepts_right_answers(capsys):
    assert ex.check_show_section(ex.reference_show_section)
    assert ex.check_show_section(_section_with())

    def with_aspect(ax, volume, spacing, affine, axis):  # aspect= instead of extent, origin lower
        from course_utils import plotting

        down, across = (a for a in range(3) if a != axis)
        image = np.take(volume, volume.shape[axis] // 2, axis=axis)
        ax.imshow(image, origin="lower", aspect=spacing[down] / spacing[across])
        plotting.add_orientation_markers(ax, affine[:3, across], affine[:3, down])

    assert ex.check_show_section(with_aspect)
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("voxels", "voxel units"),
        ("swapped", "inverted"),
        ("cut_axis", "axis you cut through"),
        ("transposed", "transposed"),
        ("no_markers", "orientation letters"),
        ("upside_down", "upside down"),
        ("mirrored", "left and right are mirrored"),
        ("columns_swapped", "two affine columns are swapped"),
    ],
)
def test_show_section_names_mistakes(change, message, capsys):
    assert not ex.check_show_section(_section_with(**{change: True}))
    out = capsys.readouterr().out
    assert "❌" in out and message in out


def test_show_section_stub_and_auto_aspect(capsys):
    def stub(ax, volume, spacing, affine, axis):
        raise NotImplementedError

    assert not ex.check_show_section(stub)
    assert "not implemented yet" in capsys.readouterr().out

    def auto(ax, volume, spacing, affine, axis):
        ax.imshow(np.take(volume, volume.shape[axis] // 2, axis=axis), aspect="auto")

    assert not ex.check_show_section(auto)
    assert "aspect='auto'" in capsys.readouterr().out


# --------------------------------------------------------------------------- resample: zero padding, sort by x
@pytest.mark.filterwarnings("ignore:It is recommended")
@pytest.mark.parametrize("mode", ["constant", "grid-constant"])
def test_resample_names_zero_padding(mode, capsys):
    def padded(volume, spacing, target, order=1):
        _, new_spacing = ex.reference_resample(volume, spacing, target, order)
        shape = np.maximum(
            np.rint(np.array(volume.shape) * np.array(spacing) / target).astype(int), 1
        )
        out = ndimage.zoom(
            volume, shape / np.array(volume.shape), order=order, mode=mode, grid_mode=True
        )
        return out, new_spacing

    assert not ex.check_resample_to_spacing(padded)
    assert "pads the volume with zeros" in capsys.readouterr().out


def test_slice_order_names_sort_by_one_coordinate(capsys):
    assert not ex.check_slice_order(lambda ipps, iop: np.argsort(np.asarray(ipps)[:, 0]))
    out = capsys.readouterr().out
    assert "sorted by the x of IPP" in out and "-x" in out


# --------------------------------------------------------------------------- CT5N: lung and bone per slice
def _ct5n_like():
    """Three 16 x 16 slices in HU: soft tissue, then more and more lung, one bone pixel."""
    volume = np.full((3, 16, 16), 40.0)
    volume[1, :, 12:] = -850.0
    volume[2, :, 8:] = -850.0
    volume[2, 0, 0] = 400.0
    return volume


def _right_evidence(volume):
    return np.mean(volume < -500, axis=(1, 2)), np.sum(volume > 150, axis=(1, 2))


def test_ct5n_evidence_accepts_right_answer(capsys):
    volume = _ct5n_like()
    assert ex.check_ct5n_evidence(_right_evidence, volume)
    assert ex.check_ct5n_evidence(
        lambda v: [list(_right_evidence(v)[0]), _right_evidence(v)[1] * 1.0], volume
    )
    assert ex.check_ct5n_evidence(ex.reference_slice_evidence, volume)
    assert capsys.readouterr().out.count("✅") == 3


_WRONG_CT5N = {
    "percent": lambda v: (100 * np.mean(v < -500, axis=(1, 2)), np.sum(v > 150, axis=(1, 2))),
    "above": lambda v: (np.mean(v > -500, axis=(1, 2)), np.sum(v > 150, axis=(1, 2))),
    "count": lambda v: (np.sum(v < -500, axis=(1, 2)), np.sum(v > 150, axis=(1, 2))),
    "whole": lambda v: (np.mean(v < -500), np.sum(v > 150, axis=(1, 2))),
    "axes": lambda v: (np.mean(v < -500, axis=(0, 1)), np.sum(v > 150, axis=(1, 2))),
    "threshold": lambda v: (np.mean(v < -900, axis=(1, 2)), np.sum(v > 150, axis=(1, 2))),
    # the three most likely wrong bone counts
    "bone_fraction": lambda v: (np.mean(v < -500, axis=(1, 2)), np.mean(v > 150, axis=(1, 2))),
    "bone_below": lambda v: (np.mean(v < -500, axis=(1, 2)), np.sum(v < 150, axis=(1, 2))),
    "bone_threshold": lambda v: (np.mean(v < -500, axis=(1, 2)), np.sum(v > 1000, axis=(1, 2))),
    "none": lambda v: (None, None),
    "one_value": lambda v: np.mean(v < -500, axis=(1, 2)),
}


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("percent", "in percent"),
        ("above", "everything but lung"),
        ("count", "a count of pixels"),
        ("whole", "one number for the whole volume"),
        ("axes", "16 values but the volume has 4 slices"),
        ("threshold", "not the fraction of lung-valued pixels"),
        ("bone_fraction", "bone_pixels is a fraction"),
        ("bone_below", "below the threshold"),
        ("bone_threshold", "not the number of bone-valued pixels"),
        ("none", "is None"),
        ("one_value", "return two arrays"),
    ],
)
def test_ct5n_evidence_names_mistakes(kind, message, capsys):
    assert not ex.check_ct5n_evidence(_WRONG_CT5N[kind], _ct5n_like())
    out = capsys.readouterr().out
    assert "❌" in out and message in out
    assert "-500" not in out and "150" not in out  # the thresholds stay in the lesson's text


@pytest.mark.parametrize("kind", ["bone_fraction", "bone_threshold", "bone_below"])
def test_ct5n_evidence_bone_mistakes_fail_on_a_volume_without_bone(kind, capsys):
    """On the real CT5N every bone count is 0, so a wrong method must fail on the check's own test volume."""
    no_bone = np.full((5, 16, 16), 40.0)
    no_bone[3:, :, 8:] = -850.0
    assert not ex.check_ct5n_evidence(_WRONG_CT5N[kind], no_bone)
    assert "on a small test volume with lung and bone" in capsys.readouterr().out


def test_ct5n_evidence_stub_is_not_implemented(capsys):
    def stub(volume):
        raise NotImplementedError

    assert not ex.check_ct5n_evidence(stub, _ct5n_like())
    assert "not implemented yet" in capsys.readouterr().out


# --------------------------------------------------------------------------- anti-aliased resampling
def _antialiased(sigma_rule="right", mode="nearest", after=False, inverted=False):
    def function(volume, spacing_mm, target_mm, order=1):
        factor = np.broadcast_to(np.asarray(target_mm, float), (3,)) / np.asarray(spacing_mm)
        if inverted:  # spacing / target instead of target / spacing
            factor = 1 / factor
        sigma = {
            "right": np.maximum((factor - 1) / 2, 0),
            "every_axis": np.abs(factor - 1) / 2,
            "half_factor": np.where(factor > 1, factor / 2, 0),
            "factor": np.where(factor > 1, factor, 0),
            "one_sigma": np.full(3, max(np.max(factor) - 1, 0) / 2),
            "none": np.zeros(3),
            "mm": np.maximum((factor - 1) / 2, 0) * np.asarray(spacing_mm),  # sigma in mm
        }[sigma_rule]
        if after:  # True: sigma rescaled to the new grid; "same": the same sigma, after resampling
            out, spacing = ex.reference_resample(volume, spacing_mm, target_mm, order)
            after_sigma = sigma if after == "same" else sigma / np.maximum(factor, 1)
            return ndimage.gaussian_filter(out, after_sigma, mode=mode), spacing
        smoothed = ndimage.gaussian_filter(np.asarray(volume, float), sigma, mode=mode)
        return ex.reference_resample(smoothed, spacing_mm, target_mm, order)

    return function


def test_antialiased_resample_accepts_right_answers(capsys):
    assert ex.check_antialiased_resample(ex.reference_antialiased_resample)
    assert ex.check_antialiased_resample(_antialiased())
    assert ex.check_antialiased_resample(_antialiased(mode="reflect"))  # gaussian_filter's default
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (_antialiased("none"), "nothing was smoothed"),
        (_antialiased("every_axis"), "up-sampled was smoothed too"),
        (_antialiased("half_factor"), "too wide"),
        (_antialiased("factor"), "far too wide"),
        (_antialiased("factor", mode="reflect"), "far too wide"),
        (_antialiased("one_sigma", mode="reflect"), "same sigma"),
        (_antialiased("every_axis", mode="reflect"), "up-sampled was smoothed too"),
        (_antialiased(after=True), "came after the resampling"),
        (_antialiased(after="same"), "came after the resampling"),
        (_antialiased(after="same", mode="reflect"), "came after the resampling"),
        (_antialiased(inverted=True), "factor is inverted (spacing / target)"),
        (_antialiased(inverted=True, mode="reflect"), "factor is inverted (spacing / target)"),
        (_antialiased("mm"), "looks like millimetres"),
        (_antialiased("mm", mode="reflect"), "looks like millimetres"),
        (lambda v, s, t, order=1: ex.reference_resample(v, s, t, order)[0], "expected a tuple"),
    ],
)
def test_antialiased_resample_names_mistakes(function, message, capsys):
    assert not ex.check_antialiased_resample(function)
    out = capsys.readouterr().out
    assert "❌" in out and message in out
    assert "(factor - 1)" not in out  # the rule stays in the lesson's code cell


def test_antialiased_resample_stub(capsys):
    def stub(volume, spacing_mm, target_mm, order=1):
        raise NotImplementedError

    assert not ex.check_antialiased_resample(stub)
    assert "not implemented yet" in capsys.readouterr().out


# --------------------------------------------------------------------------- multi-frame positions
def _enhanced_like():
    from pydicom.dataset import Dataset

    frames = []
    for z in (-149.0, -159.0, -169.0):
        item = Dataset()
        item.PlanePositionSequence = [Dataset()]
        item.PlanePositionSequence[0].ImagePositionPatient = [99.5, -301.5, z]
        frames.append(item)
    ds = Dataset()
    ds.PerFrameFunctionalGroupsSequence = frames
    return ds


def test_frame_positions_accepts_right_answer(capsys):
    ds = _enhanced_like()
    ipps = [
        f.PlanePositionSequence[0].ImagePositionPatient for f in ds.PerFrameFunctionalGroupsSequence
    ]
    assert ex.check_frame_positions(ipps, ds)
    assert ex.check_frame_positions(ex.reference_frame_positions(ds), ds)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("first_only", "position of one frame"),
        ("transposed", "transposed"),
        ("reversed", "reverse order"),
        ("none", "still None"),
        ("two", "expected 3 positions"),
    ],
)
def test_frame_positions_names_mistakes(kind, message, capsys):
    ds = _enhanced_like()
    right = ex.reference_frame_positions(ds)
    answer = {
        "first_only": right[0],
        "transposed": right.T,
        "reversed": right[::-1],
        "none": None,
        "two": right[:2],
    }[kind]
    assert not ex.check_frame_positions(answer, ds)
    out = capsys.readouterr().out
    assert "❌" in out and message in out
    assert "-159" not in out


def test_hints_guide_without_the_line_of_code(capsys):
    """The slab-MIP and resample hints name the idea, not the call or the formula (issue 19)."""

    def old_spacing(volume, spacing_mm, target_mm, order=1):
        return good_resample(volume, spacing_mm, target_mm, order)[0], tuple(spacing_mm)

    assert not ex.check_slab_mip(_slab_zero_filled)
    assert not ex.check_resample_to_spacing(old_spacing)
    assert not ex.check_nifti_affine(lambda a: np.diag([-1, -1, -1, 1.0]) @ a @ PERMUTE)
    out = capsys.readouterr().out
    assert "can never win a maximum" in out and "initial=" not in out and "-inf" not in out
    assert "what spacing do your resampled voxels really have" in out
    assert "FOV /" not in out and "new voxel count" not in out
    assert "Which axis has the same letter in LPS and RAS?" in out
