"""The mammo-roi generator, its reader, and the CBIS-DDSM validator."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils import data
from course_utils.datasets import mammo

SMALL = {"n_patients": 4, "height": 240, "seed": 3}


@pytest.fixture(scope="module")
def small_build(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mammo-small")
    mammo.generate(folder, **SMALL)
    return folder


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# --------------------------------------------------------------------------- rendering
def test_render_case_realism_cues():
    image, roi, info = mammo.render_case(
        height=400, width=240, side="LEFT", view="MLO", density=3, seed=5
    )
    assert image.dtype == np.uint16 and roi.dtype == np.uint8
    assert set(np.unique(roi).tolist()) == {0, 255}
    breast, pectoral, residue = info["breast_mask"], info["pectoral_mask"], info["residue_mask"]
    # breast against the left edge, pectoral muscle in the upper corner at the chest wall
    assert breast[:, :20].mean() > breast[:, -20:].mean()
    rows, cols = np.nonzero(pectoral)
    assert rows.max() < 0.75 * image.shape[0] and cols.max() < 0.5 * image.shape[1]
    assert image[pectoral].mean() > image[breast & ~pectoral].mean()
    # residue: bright, outside the breast, some pixels near saturation
    assert residue.any() and not (residue & breast).any()
    assert np.percentile(image[residue], 90) > 0.85 * 65535
    # background (film base) dark, lesion inside the breast
    background = ~breast & ~residue
    assert np.median(image[background]) < 0.1 * 65535
    assert (roi > 0)[breast].sum() == (roi > 0).sum()


def test_render_case_right_side_mirrors_and_density_orders_brightness():
    left = mammo.render_case(height=300, width=180, side="LEFT", seed=2, label=False)
    right = mammo.render_case(height=300, width=180, side="RIGHT", seed=2, label=False)
    np.testing.assert_array_equal(left[0][:, ::-1], right[0])
    np.testing.assert_array_equal(left[1][:, ::-1], right[1])
    means = []
    for density in (1, 4):
        image, _, info = mammo.render_case(height=300, width=180, density=density, seed=7)
        means.append(image[info["breast_mask"] & (image < 60000)].mean())
    assert means[1] > means[0] * 1.15


def test_render_case_calcifications_are_small_and_bright():
    image, roi, info = mammo.render_case(
        height=500, width=300, abnormality="calcification", subtlety=5, seed=4
    )
    inside = roi > 0
    assert inside.sum() < 0.02 * image.size
    assert image[inside].max() > np.percentile(image[info["breast_mask"]], 99.5)


def test_mlo_outline_has_a_smooth_axillary_tail_and_a_convex_pectoral_edge():
    _, _, info = mammo.render_case(height=600, width=370, view="MLO", seed=11, label=False)
    breast, pectoral = info["breast_mask"], info["pectoral_mask"]
    extent = breast.sum(axis=1).astype(float)  # breast width per row (chest wall at col 0)
    top = extent[: int(0.6 * len(extent))]
    # no rectangular notch: the outline's width changes by a few pixels from row to row
    assert np.abs(np.diff(top)).max() <= 6
    # convex pectoral edge: at half its length the edge lies beyond the straight chord
    muscle_width = pectoral.sum(axis=1).astype(float)
    length = int(np.nonzero(muscle_width)[0].max())
    assert muscle_width[length // 2] > 0.5 * muscle_width[0] + 2


def test_breast_has_a_nipple_at_its_apex_and_density_sets_the_fat_share():
    fat_share = {}
    for density in (1, 4):
        image, _, info = mammo.render_case(
            height=500, width=310, density=density, seed=21, label=False
        )
        breast = info["breast_mask"]
        reach = breast.sum(axis=1)
        apex = int(np.argmax(reach))
        # the nipple bump: the apex row reaches further than rows 5 mm above and below
        step = int(round(5 * 500 / 240))
        assert reach[apex] > max(reach[apex - step], reach[apex + step])
        # fat is stored at about 14000-17000, glandular tissue at about 30000-34000
        tissue = image[breast & ~info["pectoral_mask"]]
        fat_share[density] = float(np.mean(tissue < 24000))
    assert fat_share[1] > 0.85 and fat_share[4] < 0.4


@pytest.mark.parametrize("calc_type", ["PLEOMORPHIC", "PUNCTATE", "FINE_LINEAR_BRANCHING"])
def test_calcifications_are_small_specks_not_crosses(calc_type):
    from scipy import ndimage

    height = 1000
    px_mm = height / 240
    rng = np.random.default_rng(1)
    increment, roi = mammo._draw_calcifications(
        rng, (height, 600), np.array([500, 300]), 25.0, 5, calc_type
    )
    labels, count = ndimage.label(increment > 0)
    assert count >= 5 and roi.sum() > 0
    sizes = ndimage.sum(np.ones_like(increment), labels, range(1, count + 1))
    # each speck spans at most about 1 mm (a few pixels) and the sizes vary
    extents = [max(s.stop - s.start for s in box) for box in ndimage.find_objects(labels)]
    assert max(extents) <= 1.6 * px_mm + 2
    assert sizes.max() > sizes.min()
    if calc_type == "PLEOMORPHIC":
        assert len(set(sizes.tolist())) >= 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"side": "left"}, "side must be"),
        ({"view": "ML"}, "view must be"),
        ({"density": 5}, "density must be"),
        ({"abnormality": "cyst"}, "abnormality must be"),
        ({"subtlety": 0}, "subtlety must be"),
        ({"height": 20}, "at least 64"),
        ({"calc_type": "ROD"}, "calc_type must be"),
    ],
)
def test_render_case_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mammo.render_case(**kwargs)


# --------------------------------------------------------------------------- the dataset
def test_generate_layout_columns_and_quirks(small_build):
    mass = pd.read_csv(
        small_build / "mass_case_description_train_set.csv", dtype=str, keep_default_na=False
    )
    calc = pd.read_csv(
        small_build / "calc_case_description_train_set.csv", dtype=str, keep_default_na=False
    )
    assert list(mass.columns) == mammo.CSV_COLUMNS["mass"]
    assert list(calc.columns) == mammo.CSV_COLUMNS["calcification"]
    assert "breast_density" in mass.columns and "breast density" in calc.columns
    assert len(mass) + len(calc) == 2 * SMALL["n_patients"]
    assert (
        mass["ROI mask file path"].str.endswith("\n").any()
    )  # trailing newlines, as in the real CSVs
    for table in (mass, calc):
        assert set(table["image view"]) == {"CC", "MLO"}
        assert set(table["pathology"]) <= mammo.VALUE_SETS["pathology"]
        assert table["patient_id"].str.fullmatch(r"P_\d{5}").all()
    cases = mammo.load_cases(small_build)
    shapes = []
    problems = 0
    for _, row in cases.iterrows():
        assert row["image_path"] is not None and row["mask_path"] is not None
        try:
            image, roi = mammo.read_case(row)
        except ValueError:
            problems += 1
            continue
        shapes.append(image.shape)
        assert image.dtype == np.uint16 and roi.any()
    assert problems == 2  # one mask of the wrong size, one swapped mask/crop pair
    assert any(cols > rows for rows, cols in shapes)  # a wider-than-tall image
    assert len(set(shapes)) > 1


def test_generate_is_deterministic(tmp_path, small_build):
    again = tmp_path / "again"
    again.mkdir()
    mammo.generate(again, **SMALL)
    assert data.fingerprint(again) == data.fingerprint(small_build)
    other = tmp_path / "other"
    other.mkdir()
    mammo.generate(other, **{**SMALL, "seed": 4})
    assert data.fingerprint(other) != data.fingerprint(small_build)


def test_generate_rejects_too_few_patients(tmp_path):
    with pytest.raises(ValueError, match="n_patients must be at least 4"):
        mammo.generate(tmp_path, n_patients=2)


def test_load_cases_missing_folder_or_csv(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mammo.load_cases(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no case-description CSV"):
        mammo.load_cases(tmp_path)


def test_read_case_reports_problems(small_build):
    cases = mammo.load_cases(small_build)
    messages = []
    for _, row in cases.iterrows():
        try:
            mammo.read_case(row)
        except ValueError as error:
            messages.append(str(error))
    assert any("expected the same size" in m for m in messages)
    missing = cases.iloc[0].copy()
    missing["mask_path"] = None
    with pytest.raises(FileNotFoundError, match="ROI mask file"):
        mammo.read_case(missing)


@pytest.mark.parametrize("bits", [12, 16])
def test_read_case_shows_a_monochrome1_film_with_dense_tissue_bright(tmp_path, bits):
    """A MONOCHROME1 film (low values bright) reads as its MONOCHROME2 twin: same picture."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    top = 2**bits - 1
    film = np.zeros((6, 5), np.uint16)
    film[2:4, 1:3] = top - 100  # a dense (bright) lesion on dark fat

    def write(path: Path, pixels: np.ndarray, photometric: str) -> None:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.Rows, ds.Columns = pixels.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits, bits - 1
        ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
        ds.PhotometricInterpretation = photometric
        ds.PixelData = pixels.tobytes()
        ds.save_as(path, enforce_file_format=True)

    mask = (film > 0).astype(np.uint16) * 255
    write(tmp_path / "m2.dcm", film, "MONOCHROME2")
    write(tmp_path / "m1.dcm", (top - film).astype(np.uint16), "MONOCHROME1")
    write(tmp_path / "mask.dcm", mask, "MONOCHROME2")
    as_m2, _ = mammo.read_case(
        {"image_path": tmp_path / "m2.dcm", "mask_path": tmp_path / "mask.dcm"}
    )
    as_m1, roi = mammo.read_case(
        {"image_path": tmp_path / "m1.dcm", "mask_path": tmp_path / "mask.dcm"}
    )
    np.testing.assert_array_equal(as_m1, as_m2)
    assert as_m1.dtype == np.uint16
    assert as_m1[roi].mean() > as_m1[~roi].mean()  # the lesion is the bright part


# --------------------------------------------------------------------------- the validator
def _clean_copy(src: Path, dst: Path) -> Path:
    """A copy of the small build with the two deliberate mask problems repaired."""
    folder = _copy(src, dst)
    for _, row in mammo.load_cases(folder).iterrows():
        image_header = mammo._header(Path(row["image_path"]))
        mask = mammo._read_pixels(Path(row["mask_path"]))
        crop = mammo._read_pixels(Path(row["crop_path"]))
        if mask.shape == (image_header["rows"], image_header["cols"]):
            continue
        if crop.shape == (image_header["rows"], image_header["cols"]):  # swapped: put them back
            Path(row["mask_path"]).write_bytes(mammo._png_bytes(crop))
            Path(row["crop_path"]).write_bytes(mammo._png_bytes(mask))
        else:  # wrong size: write an empty mask of the right size with one ROI pixel
            repaired = np.zeros((image_header["rows"], image_header["cols"]), np.uint8)
            repaired[10, 10] = 255
            Path(row["mask_path"]).write_bytes(mammo._png_bytes(repaired))
    return folder


def test_validator_on_the_generated_build_finds_exactly_the_deliberate_problems(small_build):
    report = data.validate("cbis-ddsm", small_build)
    messages = [str(f) for f in report.errors]
    assert len(messages) == 2, messages
    assert any("look swapped" in m for m in messages)
    assert any("expected the same size" in m for m in messages)
    assert report.summary["rows (abnormalities)"] == 2 * SMALL["n_patients"]


def test_validator_ok_on_a_clean_folder(small_build, tmp_path):
    folder = _clean_copy(small_build, tmp_path / "clean")
    before = sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))
    report = data.validate("cbis-ddsm", folder)
    assert report.ok, str(report)
    after = sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))
    assert before == after  # never writes


def test_validator_missing_csv_and_columns(small_build, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    report = data.validate("cbis-ddsm", empty)
    assert not report.ok and "no case-description CSV" in str(report)
    folder = _clean_copy(small_build, tmp_path / "columns")
    csv_path = folder / "mass_case_description_train_set.csv"
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    table.drop(columns=["pathology"]).rename(columns={"image view": "image_view"}).to_csv(
        csv_path, index=False
    )
    report = data.validate("cbis-ddsm", folder)
    assert any(
        "missing required column(s)" in str(f) and "pathology" in str(f) for f in report.errors
    )


def test_validator_values_duplicates_and_missing_files(small_build, tmp_path):
    folder = _clean_copy(small_build, tmp_path / "values")
    csv_path = folder / "calc_case_description_train_set.csv"
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    table.loc[0, "pathology"] = "MALIGN"
    table.loc[1, "subtlety"] = "9"
    table.loc[2, "left or right breast"] = "L"
    table = pd.concat([table, table.iloc[[3]]], ignore_index=True)  # a duplicated row
    table.to_csv(csv_path, index=False)
    cases = mammo.load_cases(folder)
    Path(cases.iloc[-1]["image_path"]).unlink()
    (folder / Path(cases.iloc[-2]["mask_path"]).relative_to(folder)).unlink()
    report = data.validate("cbis-ddsm", folder)
    text = "\n".join(str(f) for f in report.errors)
    assert "'pathology' is 'MALIGN'" in text
    assert "'subtlety' is '9'" in text
    assert "'left or right breast' is 'L'" in text
    assert "duplicate of" in text
    assert "image file not found" in text
    assert "ROI mask not found" in text


def test_validator_unreadable_file(small_build, tmp_path):
    folder = _clean_copy(small_build, tmp_path / "unreadable")
    row = mammo.load_cases(folder).iloc[0]
    Path(row["image_path"]).write_bytes(b"not a png at all")
    report = data.validate("cbis-ddsm", folder)
    assert any("cannot read the header" in str(f) for f in report.errors)


def test_validator_tcia_dicom_tree_with_descriptive_folder_names(tmp_path):
    """Original DICOM layout: CSV UID paths that do not exist verbatim, matched by subject folder."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    def write_dicom(path: Path, rows: int, cols: int, description: str) -> None:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored = rows, cols, 16, 16
        ds.SeriesDescription = description
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = (
            1,
            "MONOCHROME2",
            0,
        )
        ds.HighBit = 15
        ds.PixelData = np.zeros((rows, cols), np.uint16).tobytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)

    root = tmp_path / "cbis"
    tree = root / "CBIS-DDSM"
    case = "Mass-Training_P_00001_LEFT_CC"
    write_dicom(
        tree / case / "07-20-2016-DDSM-1" / "1.000000-full mammogram images-1" / "1-1.dcm",
        40,
        30,
        "full mammogram images",
    )
    roi_folder = tree / f"{case}_1" / "07-21-2016-DDSM-2" / "1.000000-ROI mask images-2"
    # the crop first and the mask second: the swapped order of some real folders
    write_dicom(roi_folder / "1-1.dcm", 8, 6, "cropped images")
    write_dicom(roi_folder / "1-2.dcm", 40, 30, "ROI mask images")
    row = {
        "patient_id": "P_00001",
        "breast_density": "3",
        "left or right breast": "LEFT",
        "image view": "CC",
        "abnormality id": "1",
        "abnormality type": "mass",
        "mass shape": "OVAL",
        "mass margins": "CIRCUMSCRIBED",
        "assessment": "4",
        "pathology": "BENIGN",
        "subtlety": "4",
        "image file path": f"{case}/1.3.6.1.4.1.9590.100.1.2.1/1.3.6.1.4.1.9590.100.1.2.2/000000.dcm",
        "cropped image file path": f"{case}_1/1.3.6.1.4.1.9590.100.1.2.3/1.3.6.1.4.1.9590.100.1.2.4/000000.dcm",
        "ROI mask file path": f"{case}_1/1.3.6.1.4.1.9590.100.1.2.3/1.3.6.1.4.1.9590.100.1.2.4/000001.dcm\n",
    }
    pd.DataFrame([row]).to_csv(root / "mass_case_description_train_set.csv", index=False)
    report = data.validate("cbis-ddsm", root)
    assert report.ok, str(report)
    cases = mammo.load_cases(root)
    assert Path(cases.loc[0, "mask_path"]).name == "1-2.dcm"
    assert Path(cases.loc[0, "crop_path"]).name == "1-1.dcm"
    # a subject folder without CSV rows is a note, not an error
    write_dicom(
        tree / "Calc-Test_P_00002_RIGHT_MLO" / "a" / "b" / "1-1.dcm",
        10,
        10,
        "full mammogram images",
    )
    report = data.validate("cbis-ddsm", root)
    assert report.ok and any("not referenced by any CSV row" in str(f) for f in report.findings)
