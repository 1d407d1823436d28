"""Checks of lesson 08: right answers pass, the likely wrong answers fail with feedback naming them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from course_utils.exercises import lesson08
from course_utils.exercises.lesson08 import (
    _component_sizes,
    _wall_thickness,
    fallback_cycle_summary,
    fallback_segment_lv,
)


def _said(capsys, *words):
    out = capsys.readouterr().out
    for word in words:
        assert word in out, out
    return out


# --------------------------------------------------------------------------- object sizes
def test_sizes_right_answer(capsys):
    assert lesson08.check_component_sizes(_component_sizes) is True
    _said(capsys, "✅")


def test_sizes_voxel_counts(capsys):
    def counts(mask, spacing, connectivity=1):
        return _component_sizes(mask, np.ones(len(spacing)), connectivity)

    assert lesson08.check_component_sizes(counts) is False
    _said(capsys, "voxel counts")


def test_sizes_connectivity_ignored(capsys):
    def default_structure(mask, spacing, connectivity=1):
        return _component_sizes(mask, spacing, 1)

    assert lesson08.check_component_sizes(default_structure) is False
    _said(capsys, "another connectivity")


def test_sizes_in_plane_area_only(capsys):
    def pixel_area(mask, spacing, connectivity=1):
        return _component_sizes(mask, (1.0, *spacing[1:]), connectivity)

    assert lesson08.check_component_sizes(pixel_area) is False
    _said(capsys, "in-plane")


def test_sizes_background_counted_and_ml(capsys):
    def with_background(mask, spacing, connectivity=1):
        structure = ndimage.generate_binary_structure(mask.ndim, connectivity)
        labels, count = ndimage.label(mask, structure=structure)
        return np.sort(np.bincount(labels.ravel()) * np.prod(spacing))[::-1]

    assert lesson08.check_component_sizes(with_background) is False
    _said(capsys, "background")
    assert (
        lesson08.check_component_sizes(lambda m, s, c=1: _component_sizes(m, s, c) / 1000) is False
    )
    _said(capsys, "mL")
    assert (
        lesson08.check_component_sizes(lambda m, s, c=1: _component_sizes(m, s, c)[::-1]) is False
    )
    _said(capsys, "sorted")


def test_sizes_stub(capsys):
    def stub(mask, spacing, connectivity=1):
        raise NotImplementedError

    assert lesson08.check_component_sizes(stub) is False
    _said(capsys, "not implemented yet")


# --------------------------------------------------------------------------- wall thickness
def test_thickness_right_answer(capsys):
    assert lesson08.check_wall_thickness(_wall_thickness) is True
    _said(capsys, "✅")


def _distances(labels, spacing):
    to_cavity = ndimage.distance_transform_edt(labels != 1, sampling=spacing)
    to_outside = ndimage.distance_transform_edt(np.isin(labels, (1, 2)), sampling=spacing)
    return to_cavity, to_outside


def test_thickness_in_pixels(capsys):
    def pixels(labels, spacing):
        return _wall_thickness(labels, (1.0, 1.0))

    assert lesson08.check_wall_thickness(pixels) is False
    _said(capsys, "in pixels")


def test_thickness_without_the_half_pixel_correction(capsys):
    def uncorrected(labels, spacing):
        to_cavity, to_outside = _distances(labels, spacing)
        return np.where(labels == 2, to_cavity + to_outside, np.nan)

    assert lesson08.check_wall_thickness(uncorrected) is False
    _said(capsys, "one pixel too thick")


def test_thickness_one_distance_only(capsys):
    def to_cavity_only(labels, spacing):
        to_cavity, _ = _distances(labels, spacing)
        return np.where(labels == 2, to_cavity, np.nan)

    assert lesson08.check_wall_thickness(to_cavity_only) is False
    _said(capsys, "one edge only")


def test_thickness_values_outside_and_shape(capsys):
    def everywhere(labels, spacing):
        to_cavity, to_outside = _distances(labels, spacing)
        return to_cavity + to_outside - spacing[0]

    assert lesson08.check_wall_thickness(everywhere) is False
    _said(capsys, "outside the myocardium")
    assert lesson08.check_wall_thickness(lambda labels, spacing: 8.0) is False
    _said(capsys, "shape")


# --------------------------------------------------------------------------- LV segmentation
def test_segment_right_answer(capsys):
    assert lesson08.check_segment_lv(fallback_segment_lv) is True
    _said(capsys, "✅")


def test_segment_keeps_every_component(capsys):
    def all_bright(image, centre, pixel, radius, max_gap_mm=3.0, min_level=0.0):
        from skimage.filters import threshold_otsu

        disc = lesson08._disc(image.shape, centre, pixel, radius)
        level = max(threshold_otsu(image[disc]), min_level)
        return ndimage.binary_fill_holes((image > level) & disc)

    assert lesson08.check_segment_lv(all_bright) is False
    _said(capsys, "right ventricle")


def test_segment_holes_not_filled(capsys):
    def with_holes(image, centre, pixel, radius, max_gap_mm=3.0, min_level=0.0):
        mask = fallback_segment_lv(image, centre, pixel, radius, max_gap_mm, min_level)
        from skimage.filters import threshold_otsu

        disc = lesson08._disc(image.shape, centre, pixel, radius)
        return mask & (image > max(threshold_otsu(image[disc]), min_level))

    assert lesson08.check_segment_lv(with_holes) is False
    _said(capsys, "papillary")


def test_segment_centre_swapped(capsys):
    def swapped(image, centre, pixel, radius, max_gap_mm=3.0, min_level=0.0):
        return fallback_segment_lv(image, centre[::-1], pixel, radius, max_gap_mm, min_level)

    assert lesson08.check_segment_lv(swapped) is False
    _said(capsys, "(row, column)")


def test_segment_min_level_ignored(capsys):
    def otsu_only(image, centre, pixel, radius, max_gap_mm=3.0, min_level=0.0):
        return fallback_segment_lv(image, centre, pixel, radius, max_gap_mm)

    assert lesson08.check_segment_lv(otsu_only) is False
    _said(capsys, "min_level")


# --------------------------------------------------------------------------- cardiac cycle
def test_cycle_right_answer(capsys):
    assert lesson08.check_cycle_summary(fallback_cycle_summary) is True
    _said(capsys, "✅")


def _summary(areas, spacing, **changes):
    result = fallback_cycle_summary(areas, spacing)
    result.update(changes)
    return result


def test_cycle_mm3(capsys):
    def mm3(areas, spacing):
        result = fallback_cycle_summary(areas, spacing)
        return _summary(areas, spacing, volumes_ml=result["volumes_ml"] * 1000)

    assert lesson08.check_cycle_summary(mm3) is False
    _said(capsys, "mm³")


def test_cycle_ed_at_phase_zero(capsys):
    def phase_zero(areas, spacing):
        result = fallback_cycle_summary(areas, spacing)
        volumes = result["volumes_ml"]
        return _summary(areas, spacing, ed_phase=0, edv_ml=float(volumes[0]))

    assert lesson08.check_cycle_summary(phase_zero) is False
    _said(capsys, "phase 0")


def test_cycle_ef_as_fraction_and_swapped(capsys):
    def fraction(areas, spacing):
        result = fallback_cycle_summary(areas, spacing)
        return _summary(areas, spacing, ef_percent=result["ef_percent"] / 100)

    assert lesson08.check_cycle_summary(fraction) is False
    _said(capsys, "fraction")

    def swapped(areas, spacing):
        result = fallback_cycle_summary(areas, spacing)
        return _summary(areas, spacing, ed_phase=result["es_phase"], es_phase=result["ed_phase"])

    assert lesson08.check_cycle_summary(swapped) is False
    _said(capsys, "swapped")


def test_cycle_wrong_axis_and_esv_reference(capsys):
    def per_slice(areas, spacing):
        return _summary(areas, spacing, volumes_ml=np.asarray(areas).sum(axis=1) * spacing / 1000)

    assert lesson08.check_cycle_summary(per_slice) is False
    _said(capsys, "axis 0")

    def over_esv(areas, spacing):
        r = fallback_cycle_summary(areas, spacing)
        return _summary(areas, spacing, ef_percent=100 * (r["edv_ml"] - r["esv_ml"]) / r["esv_ml"])

    assert lesson08.check_cycle_summary(over_esv) is False
    _said(capsys, "end-systolic")


@pytest.mark.parametrize("bad", [None, [1, 2], {"volumes_ml": [1.0]}])
def test_cycle_wrong_types(capsys, bad):
    assert lesson08.check_cycle_summary(lambda areas, spacing: bad) is False
    _said(capsys, "❌")


def test_thickness_zero_instead_of_nan(capsys):
    def zeros_outside(labels, spacing):
        to_cavity, to_outside = _distances(labels, spacing)
        return np.where(labels == 2, to_cavity + to_outside - spacing[0], 0.0)

    assert lesson08.check_wall_thickness(zeros_outside) is False
    _said(capsys, "0, not NaN")


def _otsu_segment(level_from, radius_in_pixels=False):
    from skimage.filters import threshold_otsu

    def segment(image, centre, pixel, radius, max_gap_mm=3.0, min_level=0.0):
        rows, cols = np.indices(image.shape)
        scale = (1.0, 1.0) if radius_in_pixels else pixel
        disc = np.hypot((rows - centre[0]) * scale[0], (cols - centre[1]) * scale[1]) <= radius
        values = image if level_from == "image" else image[disc]
        bright = (image > max(threshold_otsu(values), min_level)) & disc
        labelled, _ = ndimage.label(bright)
        chosen = labelled == labelled[int(round(centre[0])), int(round(centre[1]))]
        if not labelled[int(round(centre[0])), int(round(centre[1]))]:
            return np.zeros(image.shape, dtype=bool)
        rim = disc & ~ndimage.binary_erosion(disc)
        if (chosen & rim).any():
            return np.zeros(image.shape, dtype=bool)
        return ndimage.binary_fill_holes(chosen)

    return segment


def test_segment_whole_image_otsu(capsys):
    assert lesson08.check_segment_lv(_otsu_segment("image")) is False
    _said(capsys, "Otsu's of the whole image")


def test_segment_radius_in_pixels(capsys):
    assert lesson08.check_segment_lv(_otsu_segment("disc", radius_in_pixels=True)) is False
    _said(capsys, "pixels wide, not radius_mm millimetres")


def test_segment_disc_version_passes(capsys):
    assert lesson08.check_segment_lv(_otsu_segment("disc")) is True
    _said(capsys, "✅")


def test_thickness_half_pixel_once(capsys):
    def corrected_once(labels, spacing):
        to_cavity, to_outside = _distances(labels, spacing)
        return np.where(labels == 2, to_cavity + to_outside - spacing[0] / 2, np.nan)

    assert lesson08.check_wall_thickness(corrected_once) is False
    _said(capsys, "only one edge is corrected")
