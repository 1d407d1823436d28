"""Checks for ``04_wsi_eda``.

Each check recomputes the reference from the same input the student used and
prints specific feedback without giving the answer away.

Example
-------
>>> def pick_level(level_sizes, output_px):
...     fits = [i for i, (w, h) in enumerate(level_sizes) if max(w, h) >= output_px]
...     return max(fits) if fits else 0
>>> check_pick_level(pick_level)
✅ pick_level: correct.
True
"""

from __future__ import annotations

import numpy as np

from course_utils import checks
from course_utils.wsi import _level_scale

__all__ = [
    "check_microns_per_pixel",
    "check_pick_level",
    "check_tissue_area_function",
    "check_level_table",
    "check_tile_tissue_fractions",
    "check_patient_split",
    "reference_pick_level",
    "write_subifd_slide",
]

# (level sizes as (width, height), output size) -> cases the student's function must get right
_LEVEL_CASES = [
    ([(8000, 6000), (2000, 1500), (500, 375)], 1024),
    ([(8000, 6000), (2000, 1500), (500, 375)], 2000),  # exactly the size of level 1
    ([(8000, 6000), (2000, 1500), (500, 375)], 300),
    ([(8000, 6000), (2000, 1500), (500, 375)], 9000),  # larger than the slide: level 0
    ([(3000, 12000), (750, 3000), (187, 750)], 1000),  # a tall slide: the longer side counts
    ([(6000, 2000), (1500, 500)], 1000),  # a wide slide: the height is not the longer side
    ([(1704, 1053)], 512),  # no pyramid
]


def reference_pick_level(level_sizes, output_px: int) -> int:
    """Index of the smallest level whose longer side is still >= ``output_px`` (0 if none)."""
    fits = [i for i, (w, h) in enumerate(level_sizes) if max(w, h) >= output_px]
    return max(fits) if fits else 0


def _at_least(value, output_px) -> bool:
    return value >= output_px


def _answers_like(pick_level, cases, side, fits) -> bool:
    # does pick_level agree on every case with the rule "smallest level whose side(w, h) fits"?
    for level_sizes, output_px in cases:
        good = [i for i, (w, h) in enumerate(level_sizes) if fits(side(w, h), output_px)]
        try:
            if pick_level(list(level_sizes), output_px) != (max(good) if good else 0):
                return False
        except Exception:  # a student's function may raise anything
            return False
    return True


def check_pick_level(pick_level, cases=None) -> bool:
    """Check a function ``pick_level(level_sizes, output_px) -> int``.

    Parameters
    ----------
    pick_level : callable
        The student's function; ``level_sizes`` is a list of ``(width, height)``
        from level 0 (largest) down.
    cases : list, optional
        ``(level_sizes, output_px)`` pairs; default: a fixed set including a
        tall slide, an exact fit, a request larger than the slide and a slide
        without a pyramid.

    Returns
    -------
    bool
    """
    name = "pick_level"
    for level_sizes, output_px in cases or _LEVEL_CASES:
        ok, answer = checks.call_student(pick_level, list(level_sizes), output_px, name=name)
        if not ok:
            return False
        expected = reference_pick_level(level_sizes, output_px)
        if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, np.integer)):
            return checks.feedback(
                False, name, f"returned {answer!r}; expected a level index (an int)."
            )
        if answer != expected:
            sizes = " / ".join(f"{w}x{h}" for w, h in level_sizes)
            chosen = level_sizes[answer] if 0 <= answer < len(level_sizes) else None
            if chosen is None:
                detail = f"level {answer} does not exist (levels 0..{len(level_sizes) - 1})"
            elif max(chosen) < output_px:
                detail = f"level {answer} is smaller than {output_px} px: the thumbnail would be enlarged"
            elif _answers_like(pick_level, cases or _LEVEL_CASES, min, lambda a, b: a >= b):
                detail = (
                    f"level {answer} is large enough, but the longer side decides: a level "
                    "whose longer side reaches output_px can be shrunk to it"
                )
            elif _answers_like(pick_level, cases or _LEVEL_CASES, lambda w, h: w, _at_least):
                detail = (
                    f"level {answer} is large enough, but only the width was compared: on a tall "
                    "slide the width is not the longer side, and the longer side decides"
                )
            elif _answers_like(pick_level, cases or _LEVEL_CASES, lambda w, h: h, _at_least):
                detail = (
                    f"level {answer} is large enough, but only the height was compared: on a wide "
                    "slide the height is not the longer side, and the longer side decides"
                )
            elif _answers_like(pick_level, cases or _LEVEL_CASES, max, lambda a, b: a > b):
                detail = (
                    f"level {answer} is large enough, but level {expected} would do: "
                    "a level exactly output_px wide is large enough too"
                )
            else:
                detail = (
                    f"level {answer} is large enough, but a smaller level would do (less to decode)"
                )
            return checks.feedback(
                False,
                name,
                f"for levels {sizes} and an output of {output_px} px: {detail}.",
                "A thumbnail is made by shrinking; which levels can be shrunk to output_px, and which of them costs least to decode?",
            )
    return checks.feedback(True, name)


def _many_slides_table():
    """40 patients with 3 slides each: a split of rows leaks patients here almost surely."""
    import pandas as pd

    patients = [f"m{i:02d}" for i in range(40) for _ in range(3)]
    return pd.DataFrame(
        {
            "image_id": [f"{p}_{k % 3}" for k, p in enumerate(patients)],
            "patient_id": patients,
            "label": ["LAA" if int(p[1:]) % 4 == 0 else "CE" for p in patients],
        }
    )


def _split_problem(split_by_patient, table, val_fraction, seed, name, where):
    """Feedback for a split of ``table`` (printed), or None when it is a valid patient split."""
    import pandas as pd

    ok, result = checks.call_student(split_by_patient, table.copy(), val_fraction, seed, name=name)
    if not ok:
        return False
    if not (isinstance(result, tuple) and len(result) == 2):
        return checks.feedback(
            False, name, f"should return (train_table, val_table), got {type(result).__name__}."
        )
    train, val = result
    if not all(isinstance(part, pd.DataFrame) for part in (train, val)):
        return checks.feedback(
            False, name, "both parts should be DataFrames (rows of the input table)."
        )
    ids_train, ids_val = list(train["image_id"]), list(val["image_id"])
    if set(ids_train) & set(ids_val):
        return checks.feedback(
            False,
            name,
            f"{where}{len(set(ids_train) & set(ids_val))} slide(s) are in both parts.",
        )
    if len(ids_train) + len(ids_val) != len(table) or set(ids_train) | set(ids_val) != set(
        table["image_id"]
    ):
        return checks.feedback(
            False,
            name,
            f"{where}the parts hold {len(ids_train) + len(ids_val)} rows; the table has "
            f"{len(table)}.",
        )
    shared = set(train["patient_id"]) & set(val["patient_id"])
    if shared:
        return checks.feedback(
            False,
            name,
            f"{where}{len(shared)} patient(s) have slides on both sides: validation leaks. You "
            "split rows (slides); draw patients.",
            "Draw patients, not rows, then take all slides of each drawn patient.",
        )
    n_patients = table["patient_id"].nunique()
    n_val = val["patient_id"].nunique()
    if abs(n_val - val_fraction * n_patients) > 1:
        return checks.feedback(
            False,
            name,
            f"{where}{n_val} of {n_patients} patients are in validation; expected about "
            f"{val_fraction:.0%} of the patients.",
        )
    return None


def _slice_problem(split_by_patient, table, val_fraction, seed, name, where):
    """Feedback when validation is a slice of the patients in some order, or ignores the seed."""
    ok, result = checks.call_student(split_by_patient, table.copy(), val_fraction, seed, name=name)
    if not ok:
        return False
    val_patients = set(result[1]["patient_id"])
    n_val = len(val_patients)
    orders = {
        "sorted": sorted(table["patient_id"].unique()),
        "table": list(dict.fromkeys(table["patient_id"])),
    }
    for order, patients in orders.items():
        for end, part in (("first", patients[:n_val]), ("last", patients[len(patients) - n_val :])):
            if val_patients == set(part):
                how = "in sorted order" if order == "sorted" else "in the order of the table"
                return checks.feedback(
                    False,
                    name,
                    f"{where}validation holds the {end} {n_val} patients {how}: a slice of the "
                    "patients is neither a random draw nor stratified by label. Ids and row order often follow the centre or the date of "
                    "collection, so such a part is not like new patients, and it is the same "
                    "for every seed.",
                    "Let the seed decide which patients go to validation.",
                )
    others = []
    for other_seed in (seed + 1, seed + 2):
        ok, other = checks.call_student(
            split_by_patient, table.copy(), val_fraction, other_seed, name=name
        )
        if not ok:
            return False
        try:
            others.append(set(other[1]["patient_id"]))
        except (TypeError, KeyError, IndexError):  # a malformed result for another seed
            return checks.feedback(
                False, name, f"{where}with seed {other_seed} the result is not (train, val)."
            )
    if all(patients == val_patients for patients in others):
        return checks.feedback(
            False,
            name,
            f"{where}gives the same validation patients for seeds {seed}, {seed + 1} and "
            f"{seed + 2}: the draw ignores the seed, so it is not a random split.",
            "Let the seed decide which patients go to validation.",
        )
    return None


def check_patient_split(split_by_patient, table, val_fraction: float = 0.25, seed: int = 0) -> bool:
    """Check a function ``split_by_patient(table, val_fraction, seed) -> (train, val)``.

    Requirements: every row in exactly one part, no patient in both parts,
    about ``val_fraction`` of the *patients* in validation (within one
    patient), and the same split for the same seed. Besides ``table`` the
    function is run on a check table of 40 patients with 3 slides each, where
    a split of rows (slides) leaks patients almost surely, so such a split
    cannot pass by luck on a table with few multi-slide patients. On that
    table validation must not be the first or last patients in sorted or
    table order (a slice, not a draw), and must change with the seed.

    Parameters
    ----------
    split_by_patient : callable
    table : pandas.DataFrame
        With columns ``image_id`` and ``patient_id``.
    val_fraction : float
    seed : int

    Returns
    -------
    bool
    """
    import pandas as pd

    name = "split_by_patient"
    if not isinstance(table, pd.DataFrame) or not {"image_id", "patient_id"} <= set(table.columns):
        raise ValueError("table must be a DataFrame with columns image_id and patient_id")
    problem = _split_problem(split_by_patient, table, val_fraction, seed, name, "")
    if problem is not None:
        return problem
    many = _many_slides_table()[[c for c in ("image_id", "patient_id", "label") if c in table]]
    where = "on a check table of 40 patients with 3 slides each, "
    problem = _split_problem(split_by_patient, many, val_fraction, seed, name, where)
    if problem is not None:
        return problem
    problem = _slice_problem(split_by_patient, many, val_fraction, seed, name, where)
    if problem is not None:
        return problem
    ok, first = checks.call_student(split_by_patient, table.copy(), val_fraction, seed, name=name)
    ok_again, again = checks.call_student(
        split_by_patient, table.copy(), val_fraction, seed, name=name
    )
    if not (ok and ok_again):
        return False
    ids_val = list(first[1]["image_id"])
    if set(again[1]["image_id"]) != set(ids_val):
        return checks.feedback(
            False, name, "gives a different split for the same seed.", "Use the seed argument."
        )
    if "label" in table.columns:
        counts = table.loc[table["image_id"].isin(ids_val), "label"].value_counts()
        counts = counts.reindex(sorted(table["label"].unique()), fill_value=0)
        print("validation slides per label:", counts.to_dict())
        missing = [label for label, n in counts.items() if n == 0]
        if missing:
            print(
                f"note: validation holds no {', '.join(map(str, missing))} slide: a draw of patients "
                "that ignores the label can leave a class out (see StratifiedGroupKFold below)."
            )
    return checks.feedback(True, name)


# (XResolution as (numerator, denominator), ResolutionUnit) -> µm per pixel or None
_RESOLUTION_CASES = [
    ((40_000, 1), 3, 0.25),  # 40,000 pixels per cm: 40x
    ((20_000, 1), 3, 0.5),
    ((50_800, 1), 2, 0.5),  # 50,800 pixels per inch
    ((80_000, 2), 3, 0.25),  # a fraction that is not over 1
    ((72, 1), 1, None),  # no unit: no physical size
    ((1, 0), 3, None),  # a malformed writer's zero denominator: no usable size
]


def reference_microns_per_pixel(x_resolution, resolution_unit):
    """µm per pixel from XResolution ``(numerator, denominator)`` and ResolutionUnit (None if no unit)."""
    numerator, denominator = x_resolution
    per_unit = {2: 25_400.0, 3: 10_000.0}.get(int(resolution_unit))
    if per_unit is None or not numerator > 0 or not denominator > 0:
        return None
    return per_unit / (numerator / denominator)


def check_microns_per_pixel(microns_per_pixel, cases=None) -> bool:
    """Check ``microns_per_pixel(x_resolution, resolution_unit) -> float or None``.

    Example
    -------
    >>> check_microns_per_pixel(reference_microns_per_pixel)
    ✅ microns_per_pixel: correct.
    True
    """
    name = "microns_per_pixel"
    for x_resolution, unit, expected in cases or _RESOLUTION_CASES:
        where = f"for XResolution {x_resolution} and ResolutionUnit {unit}"
        zero_denominator = not x_resolution[1] > 0
        if zero_denominator:
            try:  # a division by the zero denominator is the likely mistake here: name it
                microns_per_pixel(x_resolution, unit)
            except ZeroDivisionError:
                return checks.feedback(
                    False,
                    name,
                    f"{where} you divide by zero: malformed writers do store a zero "
                    "denominator, and the file then gives no usable pixel size.",
                    "Test the denominator (and the numerator) before dividing; return None.",
                )
            except Exception:  # any other failure is reported by call_student below
                pass
        ok, answer = checks.call_student(microns_per_pixel, x_resolution, unit, name=name)
        if not ok:
            return False
        if expected is None:
            if answer is not None:
                reason = (
                    "a zero denominator gives no usable pixel size"
                    if zero_denominator
                    else "ResolutionUnit 1 means no unit, so the file gives no physical pixel size"
                )
                return checks.feedback(
                    False,
                    name,
                    f"{where} you returned {answer!r}: {reason}.",
                    "Return None rather than inventing a size.",
                )
            continue
        if answer is None or isinstance(answer, (bool, str, bytes)):
            return checks.feedback(
                False, name, f"{where} you returned {answer!r}; expected a number."
            )
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return checks.feedback(
                False, name, f"{where} you returned {answer!r}; expected a number."
            )
        if np.isclose(value, expected, rtol=1e-6):
            continue
        pixels_per_unit = x_resolution[0] / x_resolution[1]
        if np.isclose(value, pixels_per_unit / (25_400 if unit == 2 else 10_000), rtol=1e-6):
            detail = "is inverted: XResolution counts pixels per unit, not units per pixel"
        elif unit == 2 and np.isclose(value, 10_000 / pixels_per_unit, rtol=1e-6):
            detail = (
                "treats inches as centimetres: ResolutionUnit 2 is the inch (25,400 µm), "
                "3 the centimetre"
            )
        elif unit == 3 and np.isclose(value, 25_400 / pixels_per_unit, rtol=1e-6):
            detail = (
                "treats centimetres as inches: ResolutionUnit 2 is the inch (25,400 µm), "
                "3 the centimetre (10,000 µm)"
            )
        elif np.isclose(value, expected / x_resolution[1], rtol=1e-6):
            detail = "ignores the denominator of the XResolution fraction"
        elif np.isclose(value, expected / 1000, rtol=1e-6) or np.isclose(
            value, expected * 1000, rtol=1e-6
        ):
            detail = "is off by a factor of 1000 (mm vs µm?)"
        else:
            detail = "is " + ("too large" if value > expected else "too small")
        return checks.feedback(False, name, f"{where} the result {detail}.")
    return checks.feedback(True, name)


def _direction_only(value: float, expected: float, name: str, hint: str | None = None) -> bool:
    """Pass within 0.1 %, else say only whether the value is too high or too low."""
    if np.isfinite(value) and np.isclose(value, expected, rtol=1e-3, atol=1e-12):
        return checks.feedback(True, name)
    if not np.isfinite(value):
        return checks.feedback(False, name, f"is {value}.", hint)
    direction = "too high" if value > expected else "too low"
    return checks.feedback(False, name, f"the value is {direction}.", hint)


# ---------------------------------------------------------------- tissue area from a thumbnail mask
def reference_tissue_area_mm2(mask, level0_mpp: float, level0_width: int) -> float:
    """Tissue area in mm² of a thumbnail-scale mask of a slide ``level0_width`` px wide at level 0."""
    mask = np.asarray(mask, dtype=bool)
    mask_mpp = level0_mpp * level0_width / mask.shape[1]
    return float(mask.sum() * (mask_mpp / 1000.0) ** 2)


def _synthetic_masks():
    rng = np.random.default_rng(7)
    masks = []
    for shape, level0_width, mpp in (((60, 80), 3200, 0.5), ((90, 50), 2000, 0.25)):
        mask = _blobs(rng, shape)
        masks.append((mask, mpp, level0_width))
    return masks


def _blobs(rng, shape) -> np.ndarray:
    """A blobby boolean mask, about a third True (fixed by ``rng``)."""
    from scipy import ndimage

    noise = ndimage.gaussian_filter(rng.normal(size=shape), 3)
    return noise > np.quantile(noise, 0.65)


def check_tissue_area_function(tissue_area_mm2, cases=()) -> bool:
    """Check ``tissue_area_mm2(mask, level0_mpp, level0_width) -> float`` (mm²).

    ``cases`` are extra ``(mask, level0_mpp, level0_width)`` triples (e.g. the
    lesson's thumbnail masks); two synthetic masks are always checked first.

    Example
    -------
    >>> check_tissue_area_function(reference_tissue_area_mm2)
    ✅ tissue_area_mm2: correct.
    True
    """
    name = "tissue_area_mm2"
    for mask, mpp, level0_width in [*_synthetic_masks(), *cases]:
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2 or not mpp or mpp <= 0 or level0_width < mask.shape[1]:
            raise ValueError("cases must be (2-D mask, positive mpp, level-0 width >= mask width)")
        ok, answer = checks.call_student(
            tissue_area_mm2, mask.copy(), float(mpp), int(level0_width), name=name
        )
        if not ok:
            return False
        if answer is None or isinstance(answer, (bool, np.bool_, str)):
            return checks.feedback(False, name, f"returned {answer!r}; expected an area (a float).")
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return checks.feedback(False, name, f"returned {answer!r}; expected an area (a float).")
        expected = reference_tissue_area_mm2(mask, mpp, level0_width)
        if np.isclose(value, expected, rtol=1e-3):
            continue
        factor = level0_width / mask.shape[1]
        mask_mpp = mpp * factor
        height_factor = level0_width / mask.shape[0]
        wrong = [
            (
                mask.sum() * (mpp / 1000) ** 2,
                "uses level 0's microns per pixel for the mask; a mask pixel is "
                "(level-0 width / mask width) level-0 pixels wide, so the area is off by that "
                "factor squared",
            ),
            (
                mask.sum() * (mpp * height_factor / 1000) ** 2,
                "scales by the mask's height; the level-0 width goes with the mask's width",
            ),
            (
                mask.size * (mask_mpp / 1000) ** 2,
                "counts every pixel of the mask, glass included (the mask's size, not its tissue)",
            ),
            (
                mask.sum() * mask_mpp**2 / 1000,
                "divides the µm² by 1000; a mm² is 1000 x 1000 µm²",
            ),
            (mask.sum() * mask_mpp**2, "is in µm², not mm²"),
            (mask.sum() * mask_mpp / 1000, "does not square the pixel size (a pixel is an area)"),
            (
                mask.sum() * (mpp / 1000) ** 2 * factor,
                "scales the level-0 pixel area by the width ratio once; a mask pixel is that "
                "many level-0 pixels wide and as many tall, so the ratio enters squared",
            ),
            (mask.mean(), "is the tissue fraction, not an area"),
            (mask.sum(), "is a pixel count, not an area"),
        ]
        for candidate, detail in wrong:
            if np.isclose(value, candidate, rtol=1e-3):
                return checks.feedback(False, name, f"the area {detail}.")
        return _direction_only(
            value,
            expected,
            name,
            "Find the size of one mask pixel in µm, then the area of the True pixels.",
        )
    return checks.feedback(True, name)


# ---------------------------------------------------------------- levels read with tifffile
def reference_level_table(path) -> list[dict]:
    """Levels of a TIFF slide read with tifffile: width, height, downsample, mpp (None without a unit)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        mpp0 = None
        if "XResolution" in tags and "ResolutionUnit" in tags:
            mpp0 = reference_microns_per_pixel(
                tags["XResolution"].value, int(tags["ResolutionUnit"].value)
            )
        sizes = [(int(lv.shape[1]), int(lv.shape[0])) for lv in tif.series[0].levels]
    table = []
    for width, height in sizes:
        downsample = sizes[0][0] / width
        table.append(
            {
                "width": width,
                "height": height,
                "downsample": downsample,
                "mpp": None if mpp0 is None else mpp0 * downsample,
            }
        )
    return table


def write_subifd_slide(path, width: int = 800, height: int = 600, mpp: float = 0.5):
    """Write a small tiled RGB TIFF whose reduced levels are SubIFDs of level 0.

    ``tif.pages`` of such a file lists one page (level 0); its levels are found
    only through ``tif.series[0].levels`` (or ``tif.pages[0].pages``).

    Example
    -------
    >>> import tempfile, pathlib, tifffile
    >>> path = write_subifd_slide(pathlib.Path(tempfile.mkdtemp()) / "s.tif")
    >>> with tifffile.TiffFile(path) as tif:
    ...     len(tif.pages), len(tif.series[0].levels)
    (1, 2)
    """
    import tifffile

    rng = np.random.default_rng(4)
    level0 = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    resolution = 1e4 / mpp  # pixels per centimetre
    common = {"tile": (256, 256), "photometric": "rgb", "resolutionunit": 3, "metadata": None}
    with tifffile.TiffWriter(path) as tif:
        tif.write(level0, subifds=1, resolution=(resolution, resolution), **common)
        tif.write(
            level0[::4, ::4], subfiletype=1, resolution=(resolution / 4, resolution / 4), **common
        )
    return path


def check_level_table(level_table, paths) -> bool:
    """Check ``level_table(path) -> list of dicts`` (width, height, downsample, mpp) on slides.

    Besides ``paths``, the check always tries a small slide whose reduced levels
    are SubIFDs (see :func:`write_subifd_slide`), so an answer that lists
    ``tif.pages`` is caught even when no given slide stores its levels that way.

    Example
    -------
    >>> check_level_table(reference_level_table, [])  # doctest: +SKIP
    """
    import tempfile
    from pathlib import Path

    name = "level_table"
    paths = list(paths)
    if not paths:
        raise ValueError("give at least one slide path to check level_table on")
    with tempfile.TemporaryDirectory() as folder:
        subifd = write_subifd_slide(Path(folder) / "subifd-levels.tif")
        return _check_level_table_on(level_table, [*paths, subifd], name)


def _check_level_table_on(level_table, paths, name) -> bool:
    keys = ("width", "height", "downsample", "mpp")
    for path in paths:
        expected = reference_level_table(path)
        ok, answer = checks.call_student(level_table, path, name=name)
        if not ok:
            return False
        where = f"for {getattr(path, 'name', path)}"
        if not isinstance(answer, (list, tuple)) or not all(isinstance(r, dict) for r in answer):
            return checks.feedback(
                False, name, f"{where} returned {type(answer).__name__}; expected a list of dicts."
            )
        if len(answer) != len(expected):
            detail = (
                "finds fewer levels than the file holds: tif.pages lists only top-level "
                "IFDs and misses levels stored as SubIFDs; tif.series[0].levels gathers "
                "every level"
                if len(answer) < len(expected)
                else "finds more levels than the slide's pyramid has"
            )
            return checks.feedback(False, name, f"{where} {detail}.")
        for index, (row, ref) in enumerate(zip(answer, expected, strict=True)):
            missing = [k for k in keys if k not in row]
            if missing:
                return checks.feedback(False, name, f"{where} level {index} has no {missing}.")
            if (row["width"], row["height"]) == (ref["height"], ref["width"]) and ref[
                "width"
            ] != ref["height"]:
                return checks.feedback(
                    False,
                    name,
                    f"{where} width and height are swapped at level {index}.",
                    "A level's shape is (height, width, samples): rows first.",
                )
            if (row["width"], row["height"]) != (ref["width"], ref["height"]):
                return checks.feedback(False, name, f"{where} level {index} has the wrong size.")
            try:
                downsample = float(row["downsample"])
            except (TypeError, ValueError):
                return checks.feedback(False, name, f"{where} downsample is not a number.")
            # the width ratio (what OpenSlide reports) or the writer's exact block factor
            exact = _level_scale(
                expected[0]["height"], expected[0]["width"], ref["height"], ref["width"]
            )[1]
            accepted = [
                v for v in (ref["downsample"], exact) if np.isclose(downsample, v, rtol=1e-6)
            ]
            if not accepted:
                inverted = any(
                    np.isclose(downsample, 1 / v, rtol=1e-6) for v in (ref["downsample"], exact)
                )
                detail = (
                    "is inverted: it should be how many level-0 pixels one pixel of this level spans"
                    if inverted
                    else "is neither level 0's width over this level's width nor the level's "
                    "block factor"
                )
                return checks.feedback(
                    False, name, f"{where} the downsample of level {index} {detail}."
                )
            used = accepted[0]
            if ref["mpp"] is None:
                if row["mpp"] is not None:
                    return checks.feedback(
                        False,
                        name,
                        f"{where} the file has no physical unit, but level {index} has an mpp.",
                        "Return None rather than inventing a size.",
                    )
                continue
            if row["mpp"] is None:
                return checks.feedback(
                    False, name, f"{where} level {index} has no mpp, but the tags give one."
                )
            mpp, level_mpp = float(row["mpp"]), expected[0]["mpp"] * used
            if np.isclose(mpp, level_mpp, rtol=1e-6):
                continue
            if index and np.isclose(mpp, expected[0]["mpp"], rtol=1e-6):
                detail = "is level 0's: a pixel of a smaller level covers more micrometres"
            elif index and np.isclose(mpp, expected[0]["mpp"] / used, rtol=1e-6):
                detail = "divides by the downsample; a coarser level has larger pixels"
            else:
                detail = "is " + ("too large" if mpp > level_mpp else "too small")
            return checks.feedback(False, name, f"{where} the mpp of level {index} {detail}.")
    return checks.feedback(True, name)


# ---------------------------------------------------------------- log-saturation of RGB pixels
def _log_saturation(rgb) -> np.ndarray:
    values = np.asarray(rgb, dtype=np.float32)[..., :3]
    high, low = values.max(axis=-1), values.min(axis=-1)
    return np.log10((high - low) / np.maximum(high, 1) + 0.01)


def _mostly_tissue_region() -> tuple[np.ndarray, float]:
    """A region that is 97 % tissue (pale fibrin and red cells) and the threshold of its slide."""
    rng = np.random.default_rng(5)
    image = np.empty((64, 100, 3), np.float32)
    image[:] = (238, 238, 240)  # glass: 3 %
    image[:, 3:50] = (225, 175, 200)  # pale fibrin
    image[:, 50:] = (190, 50, 70)  # red cells
    image += rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), float(np.log10(0.06 + 0.01))


# ---------------------------------------------------------------- the slide's threshold, tile by tile
def reference_tile_tissue_fractions(region_rgb, log_threshold: float, tile_px: int) -> np.ndarray:
    """Tissue fraction of each ``tile_px`` tile of a region (rows x columns; edge remainders dropped)."""
    tissue = _log_saturation(region_rgb) > log_threshold
    rows, cols = tissue.shape[0] // tile_px, tissue.shape[1] // tile_px
    cut = tissue[: rows * tile_px, : cols * tile_px]
    return cut.reshape(rows, tile_px, cols, tile_px).mean(axis=(1, 3))


def _per_tile(values: np.ndarray, tile_px: int, rule) -> np.ndarray:
    rows, cols = values.shape[0] // tile_px, values.shape[1] // tile_px
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = rule(
                values[r * tile_px : (r + 1) * tile_px, c * tile_px : (c + 1) * tile_px]
            )
    return out


def check_tile_tissue_fractions(tile_tissue_fractions, cases=()) -> bool:
    """Check ``tile_tissue_fractions(region_rgb, log_threshold, tile_px) -> 2-D array``.

    ``cases`` are extra ``(region_rgb, log_threshold, tile_px)`` triples; a
    synthetic region that is mostly tissue (16 px tiles, a 4 x 6 grid) is always
    checked first.

    Example
    -------
    >>> check_tile_tissue_fractions(reference_tile_tissue_fractions)
    ✅ tile_tissue_fractions: correct.
    True
    """
    from skimage.filters import threshold_otsu

    def otsu_share(values):
        return float(np.mean(values > threshold_otsu(values))) if np.ptp(values) > 0 else 0.0

    name = "tile_tissue_fractions"
    region0, threshold0 = _mostly_tissue_region()
    for region, log_threshold, tile_px in [(region0, threshold0, 16), *cases]:
        region = np.asarray(region)
        if region.ndim != 3 or region.shape[-1] < 3:
            raise ValueError(f"regions must be (h, w, 3) RGB, got shape {region.shape}")
        tile_px = int(tile_px)
        if not 1 <= tile_px <= min(region.shape[:2]):
            raise ValueError(f"tile_px must lie in 1..{min(region.shape[:2])}, got {tile_px}")
        ok, answer = checks.call_student(
            tile_tissue_fractions, region[..., :3].copy(), float(log_threshold), tile_px, name=name
        )
        if not ok:
            return False
        expected = reference_tile_tissue_fractions(region, log_threshold, tile_px)
        grid = f"{expected.shape[0]} x {expected.shape[1]} tiles of {tile_px} px"
        try:
            values = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return checks.feedback(False, name, f"returned {answer!r}; expected a 2-D array.")
        if values.ndim == 0:
            return checks.feedback(
                False,
                name,
                "returned one number (a fraction for the whole region?); return one fraction "
                f"per tile, a 2-D array: here {grid}.",
            )
        if values.shape == expected.T.shape and expected.shape[0] != expected.shape[1]:
            return checks.feedback(
                False,
                name,
                "rows and columns are swapped: the array's first axis should run down the region.",
            )
        if values.shape != expected.shape:
            return checks.feedback(
                False,
                name,
                f"returned shape {values.shape}; the region holds {grid} (rows x columns; "
                "leftover pixels at the right and bottom edges are dropped).",
            )
        if np.allclose(values, expected, atol=0.005):
            continue
        log_sat = _log_saturation(region)
        sat = 10**log_sat - 0.01
        own = float(threshold_otsu(log_sat))
        wrong = [
            (
                _per_tile(log_sat, tile_px, otsu_share),
                "recomputes Otsu on every tile: a tile inside the clot has no glass, so Otsu "
                "splits its tissue in two; use the slide's threshold",
            ),
            (
                reference_tile_tissue_fractions(region, own, tile_px),
                "recomputes Otsu on the region: a region that is mostly tissue has little "
                "glass, so Otsu splits the tissue; use the slide's threshold",
            ),
            (
                _per_tile(sat > log_threshold, tile_px, np.mean),
                "compares the saturation itself with a threshold found on log10(saturation + 0.01)",
            ),
            (1 - expected, "counts the glass: tissue is the side above the threshold"),
            (100 * expected, "holds percentages; return fractions between 0 and 1"),
        ]
        tissue = log_sat > log_threshold
        rows, cols = expected.shape
        cut = tissue[: rows * tile_px, : cols * tile_px]
        wrong += [
            (
                cut.reshape(rows, cols, tile_px, tile_px).mean(axis=(2, 3)),
                "mixes rows of different tiles: a reshape keeps the pixels in memory order "
                "(along each image row first), so the last two axes of your reshaped array "
                "are not the rows and columns of one tile; try your reshape on "
                "np.arange(16).reshape(4, 4) with 2 px tiles and see which pixels land together",
            ),
            (
                cut.reshape(tile_px, rows, tile_px, cols).mean(axis=(0, 2)),
                "averages pixels spread over the whole region (every rows-th row), not the "
                "pixels of one tile: the axes you average over do not run within a tile; try "
                "your reshape on np.arange(16).reshape(4, 4) with 2 px tiles and see which "
                "pixels land together",
            ),
        ]
        if expected.shape[0] == expected.shape[1]:
            wrong.append((expected.T, "has rows and columns swapped"))
        for candidate, detail in wrong:
            if np.allclose(values, candidate, atol=0.005):
                return checks.feedback(False, name, f"the array {detail}.")
        return checks.feedback(
            False,
            name,
            f"{int(np.sum(~np.isclose(values, expected, atol=0.005)))} of {expected.size} tiles "
            "have the wrong fraction.",
            "Check both steps: each pixel's log10(saturation + 0.01) against the slide's "
            "threshold, then how the region is cut into tiles (tile by tile, row-major).",
        )
    return checks.feedback(True, name)
