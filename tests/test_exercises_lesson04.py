"""Right and wrong answers for the lesson 04 exercise checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.exercises import lesson04 as ex


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

    def height_only(level_sizes, output_px):
        fits = [i for i, (w, h) in enumerate(level_sizes) if h >= output_px]
        return max(fits) if fits else 0

    assert not ex.check_pick_level(width_only)
    out = capsys.readouterr().out
    assert "only the width was compared" in out and "tall slide" in out
    assert not ex.check_pick_level(height_only)
    assert "only the height was compared" in capsys.readouterr().out


def test_pick_level_named_mistakes(capsys):
    def shorter_side(level_sizes, output_px):
        fits = [i for i, (w, h) in enumerate(level_sizes) if min(w, h) >= output_px]
        return max(fits) if fits else 0

    def strictly_larger(level_sizes, output_px):
        fits = [i for i, (w, h) in enumerate(level_sizes) if max(w, h) > output_px]
        return max(fits) if fits else 0

    assert not ex.check_pick_level(shorter_side)
    assert "longer side decides" in capsys.readouterr().out
    assert not ex.check_pick_level(strictly_larger)
    assert "exactly output_px wide is large enough" in capsys.readouterr().out


def test_pick_level_stub_and_bad_type(capsys):
    def stub(level_sizes, output_px):
        raise NotImplementedError

    assert not ex.check_pick_level(stub)
    assert "not implemented" in capsys.readouterr().out
    assert not ex.check_pick_level(lambda sizes, px: "1")
    assert "level index" in capsys.readouterr().out
    assert not ex.check_pick_level(None)


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


LESSON_LIKE = pd.DataFrame(  # 12 slides, 10 patients: only two patients have two slides
    {
        "image_id": [f"s{i}_0" for i in range(10)] + ["s0_1", "s1_1"],
        "patient_id": [f"s{i}" for i in range(10)] + ["s0", "s1"],
        "label": ["CE"] * 7 + ["LAA"] * 3 + ["CE", "CE"],
    }
)


def _row_split(table, val_fraction, seed):
    is_val = np.random.default_rng(seed).random(len(table)) < val_fraction
    return table[~is_val], table[is_val]


def _sklearn_row_split(table, val_fraction, seed):
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(table, test_size=val_fraction, random_state=seed))


def _permuted_row_split(table, val_fraction, seed):
    is_val = np.random.default_rng(seed).permutation(len(table)) < round(val_fraction * len(table))
    return table[~is_val], table[is_val]


@pytest.mark.parametrize("wrong", [_row_split, _sklearn_row_split, _permuted_row_split])
@pytest.mark.parametrize("seed", range(10))
def test_patient_split_row_splits_never_pass(wrong, seed, capsys):
    # on a table with few multi-slide patients a row split may not leak by luck; the check's own
    # table of 40 patients x 3 slides catches it every time, and names the mistake
    assert not ex.check_patient_split(wrong, LESSON_LIKE, 0.25, seed=seed)
    out = capsys.readouterr().out
    assert "split rows (slides); draw patients" in out
    assert "✅" not in out


def _sorted_slice_split(part):
    def split(table, val_fraction, seed):
        patients = sorted(table["patient_id"].unique())
        n_val = round(val_fraction * len(patients))
        chosen = patients[:n_val] if part == "first" else patients[len(patients) - n_val :]
        is_val = table["patient_id"].isin(chosen)
        return table[~is_val], table[is_val]

    return split


def _sorted_rows_split(table, val_fraction, seed):
    ordered = table.sort_values("patient_id")
    n_val = round(val_fraction * len(ordered))
    return ordered.iloc[n_val:], ordered.iloc[:n_val]


def _seedless_split(table, val_fraction, seed):
    return good_split(table, val_fraction, 0)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_sorted_slice_split("first"), "the first 10 patients in sorted order"),
        (_sorted_slice_split("last"), "the last 10 patients in sorted order"),
        # on LESSON_LIKE the cut goes through a patient's slides, and the leak is named first
        (_sorted_rows_split, ("neither a random draw nor stratified", "both sides")),
        (_seedless_split, "ignores the seed"),
    ],
    ids=["first-quarter-sorted", "last-quarter-sorted", "sorted-rows", "seed-ignored"],
)
@pytest.mark.parametrize("table", [TABLE, LESSON_LIKE], ids=["table", "lesson-like"])
def test_patient_split_slices_and_seedless_draws_fail(wrong, message, table, capsys):
    # a sorted slice of the patients keeps patients whole, so only the check table's order and
    # seed tests catch it; the message names the mistake without writing the draw
    assert not ex.check_patient_split(wrong, table, 0.25, seed=3)
    out = capsys.readouterr().out
    messages = message if isinstance(message, tuple) else (message,)
    assert any(m in out for m in messages) and "✅" not in out
    assert "choice" not in out and "permutation" not in out


def test_patient_split_right_on_lesson_like_table(capsys):
    for seed in range(5):
        assert ex.check_patient_split(good_split, LESSON_LIKE, 0.25, seed=seed)
    assert "❌" not in capsys.readouterr().out


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
def _divides_before_testing(x_resolution, resolution_unit):
    pixels_per_unit = x_resolution[0] / x_resolution[1]  # ZeroDivisionError on (1, 0)
    per_unit = {2: 25_400.0, 3: 10_000.0}.get(int(resolution_unit))
    return None if per_unit is None or pixels_per_unit <= 0 else per_unit / pixels_per_unit


def _no_zero_test_numpy(x_resolution, resolution_unit):
    with np.errstate(divide="ignore"):
        pixels_per_unit = np.float64(x_resolution[0]) / x_resolution[1]  # inf on (1, 0)
    per_unit = {2: 25_400.0, 3: 10_000.0}.get(int(resolution_unit))
    return None if per_unit is None else float(per_unit / pixels_per_unit)


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
        (
            lambda x, u: None if u == 1 else {2: 10_000, 3: 25_400}[u] / (x[0] / x[1]),
            "treats centimetres as inches",
        ),
        (_divides_before_testing, "divide by zero"),
        (_no_zero_test_numpy, "zero denominator gives no usable pixel size"),
    ],
    ids=[
        "inverted",
        "inch-as-cm",
        "no-denominator",
        "invents-a-size",
        "mm",
        "units-swapped",
        "zero-division",
        "numpy-inf",
    ],
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


def test_patient_split_prints_validation_class_counts(capsys):
    labelled = TABLE.assign(
        label=["LAA" if p.startswith("q") else "CE" for p in TABLE["patient_id"]]
    )
    assert ex.check_patient_split(good_split, labelled, 0.25, seed=3)
    out = capsys.readouterr().out
    assert "validation slides per label" in out and "✅" in out


def test_tissue_area_function_right(capsys):
    assert ex.check_tissue_area_function(ex.reference_tissue_area_mm2)
    assert "✅" in capsys.readouterr().out
    mask = np.zeros((30, 40), bool)
    mask[5:20, 5:30] = True
    assert ex.check_tissue_area_function(ex.reference_tissue_area_mm2, [(mask, 0.25, 4000)])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda m, mpp, w: m.sum() * (mpp / 1000) ** 2, "level 0's microns per pixel"),
        (lambda m, mpp, w: m.size * (mpp * w / m.shape[1] / 1000) ** 2, "glass included"),
        (lambda m, mpp, w: m.sum() * (mpp * w / m.shape[1]) ** 2 / 1000, "1000 x 1000"),
        (lambda m, mpp, w: m.sum() * (mpp * w / m.shape[0] / 1000) ** 2, "mask's height"),
        (lambda m, mpp, w: m.sum() * mpp * w / m.shape[1] / 1000, "square"),
        (lambda m, mpp, w: m.sum() * (mpp / 1000) ** 2 * w / m.shape[1], "enters squared"),
        (lambda m, mpp, w: m.sum() * (mpp * w / m.shape[1]) ** 2, "µm²"),
        (lambda m, mpp, w: m.mean(), "fraction"),
    ],
)
def test_tissue_area_function_wrong(wrong, message, capsys):
    assert not ex.check_tissue_area_function(wrong)
    out = capsys.readouterr().out
    assert message in out and "%" not in out


def test_tissue_area_function_other_and_stub(capsys):
    assert not ex.check_tissue_area_function(
        lambda m, mpp, w: 1.07 * ex.reference_tissue_area_mm2(m, mpp, w)
    )
    out = capsys.readouterr().out
    assert "too high" in out and "%" not in out
    assert not ex.check_tissue_area_function(lambda m, mpp, w: None)
    assert "expected an area" in capsys.readouterr().out

    def stub(mask, mpp, width):
        raise NotImplementedError

    assert not ex.check_tissue_area_function(stub)
    assert "not implemented" in capsys.readouterr().out


# --------------------------------------------------------------------------- level table
@pytest.fixture(scope="module")
def slide_paths(tmp_path_factory):
    import tifffile

    folder = tmp_path_factory.mktemp("levels")
    rng = np.random.default_rng(0)
    pyramid = folder / "pyramid.tif"
    level0 = rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)
    with tifffile.TiffWriter(pyramid) as tif:
        tif.write(level0, tile=(256, 256), resolution=(40_000, 40_000), resolutionunit=3)
        tif.write(level0[::4, ::4], tile=(256, 256), subfiletype=1)
    flat = folder / "no-unit.tif"
    tifffile.imwrite(
        flat, level0[:300, :500], tile=(256, 256), resolution=(72, 72), resolutionunit=1
    )
    return [pyramid, flat]


def test_level_table_right(slide_paths, capsys):
    assert ex.check_level_table(ex.reference_level_table, slide_paths)
    assert "✅" in capsys.readouterr().out
    table = ex.reference_level_table(slide_paths[0])
    assert [(r["width"], r["height"]) for r in table] == [(800, 600), (200, 150)]
    assert (
        table[1]["mpp"] == pytest.approx(1.0)
        and ex.reference_level_table(slide_paths[1])[0]["mpp"] is None
    )


def _edited(change):
    def level_table(path):
        return change(ex.reference_level_table(path))

    return level_table


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda t: t[:1], "tif.series[0].levels"),
        (lambda t: [{**r, "width": r["height"], "height": r["width"]} for r in t], "swapped"),
        (lambda t: [{**r, "mpp": t[0]["mpp"]} for r in t], "level 0's"),
        (lambda t: [{**r, "downsample": 1 / r["downsample"]} for r in t], "inverted"),
        (
            lambda t: [
                {**r, "mpp": None if r["mpp"] is None else t[0]["mpp"] / r["downsample"]} for r in t
            ],
            "divides by the downsample",
        ),
        (lambda t: [{**r, "mpp": r["mpp"] or 352.8} for r in t], "no physical unit"),
        (lambda t: [{k: v for k, v in r.items() if k != "mpp"} for r in t], "has no ['mpp']"),
    ],
)
def test_level_table_wrong(slide_paths, wrong, message, capsys):
    assert not ex.check_level_table(_edited(wrong), slide_paths)
    assert message in capsys.readouterr().out


def test_level_table_stub_and_type(slide_paths, capsys):
    def stub(path):
        raise NotImplementedError

    assert not ex.check_level_table(stub, slide_paths)
    assert "not implemented" in capsys.readouterr().out
    assert not ex.check_level_table(lambda path: "levels", slide_paths)
    assert "list of dicts" in capsys.readouterr().out
    with pytest.raises(ValueError, match="at least one"):
        ex.check_level_table(ex.reference_level_table, [])


# --------------------------------------------------------------------------- log-saturation helpers
def _region_log_sat(rgb):
    values = rgb.astype(np.float32)
    return np.log10((values.max(-1) - values.min(-1)) / np.maximum(values.max(-1), 1) + 0.01)


def _otsu(values):
    from skimage.filters import threshold_otsu

    return threshold_otsu(values)


def threshold_otsu_of(rgb):
    from skimage.filters import threshold_otsu

    return threshold_otsu(_region_log_sat(rgb))


def _pages_level_table(path):
    # the mistake: one level per top-level IFD (tif.pages), which misses SubIFD levels
    import tifffile

    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        mpp0 = ex.reference_microns_per_pixel(
            tags["XResolution"].value, int(tags["ResolutionUnit"].value)
        )
        sizes = [(int(p.shape[1]), int(p.shape[0])) for p in tif.pages]
    unit = mpp0 if int(tags["ResolutionUnit"].value) != 1 else None
    return [
        {
            "width": w,
            "height": h,
            "downsample": sizes[0][0] / w,
            "mpp": None if unit is None else unit * sizes[0][0] / w,
        }
        for w, h in sizes
    ]


def test_level_table_from_pages_rejected_on_subifd_slide(slide_paths, tmp_path, capsys):
    import tifffile

    path = ex.write_subifd_slide(tmp_path / "subifd.tif")
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 1 and len(tif.series[0].levels) == 2
    assert ex.check_level_table(ex.reference_level_table, [path])
    capsys.readouterr()
    # top-level IFDs only: right on the given slides, wrong on the SubIFD slide the check adds
    assert ex._check_level_table_on(_pages_level_table, slide_paths, "level_table")
    capsys.readouterr()
    assert not ex.check_level_table(_pages_level_table, slide_paths)
    out = capsys.readouterr().out
    assert "SubIFDs" in out and "subifd-levels.tif" in out


# --------------------------------------------------------------------------- tile tissue fractions
def _tile_otsu_each(rgb, t, tile_px):
    log_sat = _region_log_sat(rgb)
    rows, cols = log_sat.shape[0] // tile_px, log_sat.shape[1] // tile_px
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            tile = log_sat[r * tile_px : (r + 1) * tile_px, c * tile_px : (c + 1) * tile_px]
            out[r, c] = np.mean(tile > _otsu(tile)) if np.ptp(tile) > 0 else 0.0
    return out


def _blocks(rgb, t, tile_px, mistake):
    # the likely wrong block reshapes, and the feature averaged instead of the tissue mask
    log_sat = _region_log_sat(rgb)
    tissue = log_sat > t if mistake != "mean feature" else log_sat
    rows, cols = tissue.shape[0] // tile_px, tissue.shape[1] // tile_px
    cut = tissue[: rows * tile_px, : cols * tile_px]
    if mistake == "rows, cols, tile, tile":
        return cut.reshape(rows, cols, tile_px, tile_px).mean(axis=(2, 3))
    if mistake == "tile, rows, tile, cols":
        return cut.reshape(tile_px, rows, tile_px, cols).mean(axis=(0, 2))
    return cut.reshape(rows, tile_px, cols, tile_px).mean(axis=(1, 3))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_tile_otsu_each, "recomputes Otsu on every tile"),
        (
            lambda rgb, t, px: ex.reference_tile_tissue_fractions(rgb, threshold_otsu_of(rgb), px),
            "recomputes Otsu on the region",
        ),
        (lambda rgb, t, px: float(np.mean(_region_log_sat(rgb) > t)), "one number"),
        (lambda rgb, t, px: ex.reference_tile_tissue_fractions(rgb, t, px).T, "swapped"),
        (lambda rgb, t, px: 1 - ex.reference_tile_tissue_fractions(rgb, t, px), "glass"),
        (lambda rgb, t, px: 100 * ex.reference_tile_tissue_fractions(rgb, t, px), "percentages"),
        (
            lambda rgb, t, px: _blocks(rgb, t, px, "rows, cols, tile, tile"),
            "mixes rows of different",
        ),
        (lambda rgb, t, px: _blocks(rgb, t, px, "tile, rows, tile, cols"), "spread over the whole"),
        (lambda rgb, t, px: _blocks(rgb, t, px, "mean feature"), "Check both steps"),
    ],
    ids=[
        "otsu-per-tile",
        "otsu-on-region",
        "scalar",
        "transposed",
        "glass",
        "percent",
        "reshape-rows-cols-first",
        "reshape-tile-first",
        "feature-not-thresholded",
    ],
)
def test_tile_tissue_fractions_wrong(wrong, message, capsys):
    assert not ex.check_tile_tissue_fractions(wrong)
    out = capsys.readouterr().out
    assert message in out and "✅" not in out
    # the feedback diagnoses the reshape without spelling out the right one
    assert "(rows, tile, cols, tile)" not in out and "axis=(1, 3)" not in out


def _three_population_image(background: float) -> np.ndarray:
    """Glass, dark colourless debris, pale fibrin and saturated red cells, with noise (fixed seed)."""
    rng = np.random.default_rng(4)
    image = np.empty((60, 100, 3), np.float32)
    image[:] = (background, background, background + 2)  # glass: 35 %
    image[:, 35:45] = (120, 120, 122)  # colourless debris or a fold: 10 %
    image[:, 45:75] = (225, 175, 200)  # pale fibrin: 30 %
    image[:, 75:] = (190, 50, 70)  # red cells: 25 %
    image += rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_tile_tissue_fractions_right_stub_and_bad_input(capsys):
    region = _three_population_image(205)
    assert ex.check_tile_tissue_fractions(ex.reference_tile_tissue_fractions, [(region, -1.2, 20)])
    assert "❌" not in capsys.readouterr().out

    def stub(rgb, t, px):
        raise NotImplementedError

    assert not ex.check_tile_tissue_fractions(stub)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(ValueError, match="tile_px"):
        ex.check_tile_tissue_fractions(ex.reference_tile_tissue_fractions, [(region, 0.0, 0)])


def test_level_table_exact_block_factor_accepted(tmp_path, capsys):
    # sides not multiples of 4: the width ratio 803 / 201 and the block factor 4 differ
    import tifffile

    path = tmp_path / "odd.tif"
    level0 = np.random.default_rng(1).integers(0, 255, (601, 803, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tif:
        tif.write(level0, tile=(256, 256), resolution=(40_000, 40_000), resolutionunit=3)
        tif.write(level0[::4, ::4], tile=(256, 256), subfiletype=1)

    def exact(table):
        return [
            {**r, "downsample": 4.0**k, "mpp": table[0]["mpp"] * 4.0**k}
            for k, r in enumerate(table)
        ]

    assert ex.check_level_table(_edited(exact), [path])
    assert "✅" in capsys.readouterr().out
    # a block factor with the width-ratio mpp (two scales for one level) is still wrong
    mixed = _edited(lambda t: [{**r, "downsample": 4.0**k} for k, r in enumerate(t)])
    assert not ex.check_level_table(mixed, [path])
    assert "the mpp of level 1" in capsys.readouterr().out
    # a factor that is neither
    wrong = _edited(lambda t: [{**r, "downsample": 2.0**k} for k, r in enumerate(t)])
    assert not ex.check_level_table(wrong, [path])
    assert "neither level 0's width" in capsys.readouterr().out
