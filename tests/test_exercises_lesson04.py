"""Right and wrong answers for the lesson 04 exercise checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.exercises import lesson04 as ex

INFO = {"name": "s.tif", "width": 4000, "height": 3000, "mpp": 0.5}


# --------------------------------------------------------------------------- pick_level
def good_pick_level(level_sizes, output_px):
    fits = [i for i, (w, h) in enumerate(level_sizes) if max(w, h) >= output_px]
    return max(fits) if fits else 0


def test_pick_level_right(capsys):
    assert ex.check_pick_level(good_pick_level)
    assert "✅" in capsys.readouterr().out


def test_pick_level_too_small_level(capsys):
    def smallest_always(level_sizes, output_px):
        return len(level_sizes) - 1

    assert not ex.check_pick_level(smallest_always)
    assert "enlarged" in capsys.readouterr().out


def test_pick_level_uses_width_only(capsys):
    def width_only(level_sizes, output_px):
        fits = [i for i, (w, h) in enumerate(level_sizes) if w >= output_px]
        return max(fits) if fits else 0

    assert not ex.check_pick_level(width_only)
    assert "smaller level would do" in capsys.readouterr().out


def test_pick_level_stub_and_bad_type(capsys):
    def stub(level_sizes, output_px):
        raise NotImplementedError

    assert not ex.check_pick_level(stub)
    assert "not implemented" in capsys.readouterr().out
    assert not ex.check_pick_level(lambda sizes, px: "1")
    assert "level index" in capsys.readouterr().out
    assert not ex.check_pick_level(None)


# --------------------------------------------------------------------------- size in mm
def test_size_mm_right_and_wrong(capsys):
    assert ex.check_size_mm((2.0, 1.5), INFO)
    assert not ex.check_size_mm((1.5, 2.0), INFO)
    assert "swapped" in capsys.readouterr().out
    assert not ex.check_size_mm((2000.0, 1500.0), INFO)
    assert "micrometres" in capsys.readouterr().out
    assert not ex.check_size_mm((8.0, 6.0), INFO)
    assert "too large" in capsys.readouterr().out
    assert not ex.check_size_mm(None, INFO)
    assert "None" in capsys.readouterr().out
    assert not ex.check_size_mm(3.0, INFO)
    assert "pair" in capsys.readouterr().out
    assert not ex.check_size_mm((1.0, 1.0), {**INFO, "mpp": None})
    assert "no microns per pixel" in capsys.readouterr().out


# --------------------------------------------------------------------------- tissue area
def test_tissue_area(capsys):
    mask = np.zeros((100, 100), bool)
    mask[:50, :40] = True  # 2000 pixels of 8 µm -> 2000 * 64e-6 mm²
    assert ex.check_tissue_area(2000 * 64e-6, mask, 8.0)
    assert not ex.check_tissue_area(0.2, mask, 8.0)
    assert "fraction" in capsys.readouterr().out
    assert not ex.check_tissue_area(2000 * 8e-3, mask, 8.0)
    assert "squared" in capsys.readouterr().out
    assert not ex.check_tissue_area(2000 * 64.0, mask, 8.0)
    assert "µm²" in capsys.readouterr().out
    assert not ex.check_tissue_area(None, mask, 8.0)
    assert not ex.check_tissue_area("big", mask, 8.0)
    assert ex.check_tissue_area(0.0, np.zeros((5, 5), bool), 8.0)
    with pytest.raises(ValueError, match="2-D"):
        ex.check_tissue_area(0.0, np.zeros((2, 2, 2)), 8.0)
    with pytest.raises(ValueError, match="mpp"):
        ex.check_tissue_area(0.0, mask, 0)


# --------------------------------------------------------------------------- patient split
TABLE = pd.DataFrame(
    {
        "image_id": [f"p{i // 2}_{i % 2}" for i in range(16)] + [f"q{i}_0" for i in range(8)],
        "patient_id": [f"p{i // 2}" for i in range(16)] + [f"q{i}" for i in range(8)],
    }
)


def good_split(table, val_fraction, seed):
    patients = np.sort(table["patient_id"].unique())
    chosen = np.random.default_rng(seed).choice(
        patients, round(val_fraction * len(patients)), replace=False
    )
    is_val = table["patient_id"].isin(chosen)
    return table[~is_val], table[is_val]


def test_patient_split_right(capsys):
    assert ex.check_patient_split(good_split, TABLE, 0.25, seed=3)
    assert "✅" in capsys.readouterr().out


def test_patient_split_by_slide_leaks(capsys):
    def by_slide(table, val_fraction, seed):
        is_val = np.random.default_rng(seed).permutation(len(table)) < round(
            val_fraction * len(table)
        )
        return table[~is_val], table[is_val]

    assert not ex.check_patient_split(by_slide, TABLE, 0.25, seed=0)
    assert "both sides" in capsys.readouterr().out


def test_patient_split_other_mistakes(capsys):
    assert not ex.check_patient_split(lambda t, f, s: (t, t.iloc[:0]), TABLE, 0.25)
    assert "patients are in validation" in capsys.readouterr().out
    assert not ex.check_patient_split(lambda t, f, s: (t.iloc[:5], t.iloc[20:]), TABLE, 0.25)
    assert "rows" in capsys.readouterr().out
    assert not ex.check_patient_split(lambda t, f, s: t, TABLE, 0.25)
    assert "(train_table, val_table)" in capsys.readouterr().out

    calls = []

    def changes_with_each_call(table, val_fraction, seed):
        calls.append(seed)
        return good_split(table, val_fraction, seed + len(calls))

    assert not ex.check_patient_split(changes_with_each_call, TABLE, 0.25, seed=0)
    assert "same seed" in capsys.readouterr().out
    with pytest.raises(ValueError, match="patient_id"):
        ex.check_patient_split(good_split, TABLE[["image_id"]], 0.25)


# --------------------------------------------------------------------------- microns per pixel
def test_microns_per_pixel_right(capsys):
    assert ex.check_microns_per_pixel(ex.reference_microns_per_pixel)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, u: None if u == 1 else (x[0] / x[1]) / {2: 25_400, 3: 10_000}[u], "inverted"),
        (lambda x, u: None if u == 1 else 10_000 / (x[0] / x[1]), "inches as centimetres"),
        (lambda x, u: None if u == 1 else {2: 25_400, 3: 10_000}[u] / x[0], "denominator"),
        (lambda x, u: {1: 1.0, 2: 25_400, 3: 10_000}[u] / (x[0] / x[1]), "no unit"),
        (lambda x, u: None if u == 1 else {2: 25.4, 3: 10.0}[u] / (x[0] / x[1]), "1000"),
    ],
    ids=["inverted", "inch-as-cm", "no-denominator", "invents-a-size", "mm"],
)
def test_microns_per_pixel_wrong(wrong, message, capsys):
    assert not ex.check_microns_per_pixel(wrong)
    out = capsys.readouterr().out
    assert message in out
    assert "0.25" not in out and "0.5 " not in out  # the expected value is not given away


def test_microns_per_pixel_stub_and_types(capsys):
    def stub(x_resolution, resolution_unit):
        raise NotImplementedError

    assert not ex.check_microns_per_pixel(stub)
    assert "not implemented" in capsys.readouterr().out
    assert not ex.check_microns_per_pixel(lambda x, u: "0.25")
    assert "expected a number" in capsys.readouterr().out


# --------------------------------------------------------------------------- tissue fraction
def _saturation(rgb):
    values = rgb.astype(np.float32)
    return (values.max(-1) - values.min(-1)) / np.maximum(values.max(-1), 1)


def test_tissue_fraction_right(capsys):
    thumb = ex._three_population_image(230)
    assert ex.check_tissue_fraction(ex.reference_tissue_fraction, [thumb])
    assert "✅" in capsys.readouterr().out


def test_tissue_fraction_plain_otsu_on_saturation(capsys):
    from skimage.filters import threshold_otsu

    def plain(rgb):
        sat = _saturation(rgb)
        return float(np.mean(sat > threshold_otsu(sat)))

    assert not ex.check_tissue_fraction(plain)
    assert "Otsu on the saturation itself" in capsys.readouterr().out


def test_tissue_fraction_brightness(capsys):
    from skimage.filters import threshold_otsu

    def brightness(rgb):
        grey = rgb.astype(np.float32).mean(-1)
        return float(np.mean(grey < threshold_otsu(grey)))

    assert not ex.check_tissue_fraction(brightness)
    assert "brightness" in capsys.readouterr().out


def test_tissue_fraction_inverted_percentage_and_stub(capsys):
    assert not ex.check_tissue_fraction(lambda rgb: 1 - ex.reference_tissue_fraction(rgb))
    assert "counts the background" in capsys.readouterr().out
    assert not ex.check_tissue_fraction(lambda rgb: 100 * ex.reference_tissue_fraction(rgb))
    assert "percentage" in capsys.readouterr().out
    assert not ex.check_tissue_fraction(lambda rgb: "a lot")
    assert "expected a fraction" in capsys.readouterr().out

    def stub(rgb):
        raise NotImplementedError

    assert not ex.check_tissue_fraction(stub)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(ValueError, match="RGB"):
        ex.check_tissue_fraction(ex.reference_tissue_fraction, [np.zeros((4, 4))])


def test_patient_split_prints_validation_class_counts(capsys):
    labelled = TABLE.assign(
        label=["LAA" if p.startswith("q") else "CE" for p in TABLE["patient_id"]]
    )
    assert ex.check_patient_split(good_split, labelled, 0.25, seed=3)
    out = capsys.readouterr().out
    assert "validation slides per label" in out and "✅" in out
