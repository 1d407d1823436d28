"""Tests of the clot-slides generator and the strip-ai validator."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
import tifffile

from course_utils import data
from course_utils.data import ValidationReport
from course_utils.datasets import clot_slides

SMALL = {"n_slides": 5, "min_side_px": 1030, "max_side_px": 1100, "n_flat": 1, "tile_px": 128}


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clot")
    clot_slides.generate(folder, **SMALL)
    return folder


def _rows(folder):
    with open(folder / "train.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_layout_and_columns(small_build):
    rows = _rows(small_build)
    assert list(rows[0]) == ["image_id", "center_id", "patient_id", "image_num", "label"]
    assert len(rows) == 5
    for row in rows:
        assert row["image_id"] == f"{row['patient_id']}_{row['image_num']}"
        assert len(row["patient_id"]) == 6 and int(row["patient_id"], 16) >= 0
        assert 1 <= int(row["center_id"]) <= 11
        assert row["label"] in {"CE", "LAA"}
        assert (small_build / "train" / f"{row['image_id']}.tif").is_file()


def test_deterministic(tmp_path):
    tiny = {"n_slides": 3, "min_side_px": 300, "max_side_px": 500, "tile_px": 128}
    fingerprints = []
    for name, seed in (("first", 0), ("again", 0), ("other", 1)):
        (tmp_path / name).mkdir()
        clot_slides.generate(tmp_path / name, seed=seed, **tiny)
        fingerprints.append(data.fingerprint(tmp_path / name))
    assert fingerprints[0] == fingerprints[1]
    assert fingerprints[0] != fingerprints[2]


def test_levels_are_top_level_ifds(small_build):
    pyramidal = flat = 0
    for path in sorted((small_build / "train").glob("*.tif")):
        with tifffile.TiffFile(path) as tif:
            pages = list(tif.pages)
            levels = tif.series[0].levels
            assert len(levels) == len(pages), "every level must be its own top-level IFD"
            assert all(page.subifds is None for page in pages), "no SubIFDs: OpenSlide ignores them"
            assert all(page.is_tiled and page.compression == 7 for page in pages)  # 7 = JPEG
            assert pages[0].subfiletype == 0
            assert all(page.subfiletype == 1 for page in pages[1:])  # reduced-resolution image
            for lower, higher in zip(pages, pages[1:], strict=False):
                assert higher.imagewidth == lower.imagewidth // 4
            assert "MPP = " in pages[0].description
            assert pages[0].resolutionunit == 3  # centimetre
            mpp = 1e4 / pages[0].resolution[0]
            assert mpp in (pytest.approx(0.25), pytest.approx(0.5))
        pyramidal += len(pages) > 1
        flat += len(pages) == 1
    assert flat == 1 and pyramidal == 4


def test_openslide_sees_levels_and_mpp(small_build):
    openslide = pytest.importorskip(
        "openslide", reason="openslide-python + openslide-bin not installed"
    )
    for path in sorted((small_build / "train").glob("*.tif")):
        with tifffile.TiffFile(path) as tif:
            n_levels = len(tif.pages)
            mpp = 1e4 / tif.pages[0].resolution[0]
        with openslide.OpenSlide(str(path)) as slide:
            assert slide.level_count == n_levels
            assert float(slide.properties["openslide.mpp-x"]) == pytest.approx(mpp, rel=1e-3)
            region = np.asarray(slide.read_region((100, 100), 0, (64, 64)).convert("RGB"))
        full = tifffile.imread(path, key=0)[100:164, 100:164]
        assert (
            np.abs(region.astype(int) - full.astype(int)).mean() < 3
        )  # same pixels, maybe another JPEG decoder


def test_pixels_look_like_he(small_build):
    path = sorted((small_build / "train").glob("*.tif"))[0]
    with tifffile.TiffFile(path) as tif:
        smallest = tif.series[0].levels[-1].asarray()
    background = smallest[:8, :8].reshape(-1, 3).mean(axis=0)
    assert background.min() > 195 and np.ptp(background) < 10  # white or grey glass, colourless
    stained = smallest.reshape(-1, 3).astype(int)
    stained = stained[stained.max(axis=1) - stained.min(axis=1) > 40]
    assert len(stained) > 0.05 * smallest.shape[0] * smallest.shape[1]  # tissue present
    assert np.mean(stained[:, 0] > stained[:, 1]) > 0.9  # eosin/red cells: red above green


def test_label_ratio_and_patients(tmp_path):
    clot_slides.generate(
        tmp_path, n_slides=40, min_side_px=64, max_side_px=96, n_flat=0, tile_px=64
    )
    rows = _rows(tmp_path)
    labels = [row["label"] for row in rows]
    assert 0.6 <= labels.count("CE") / len(labels) <= 0.85
    per_patient = {}
    for row in rows:
        per_patient.setdefault(row["patient_id"], set()).add(row["label"])
    assert all(
        len(values) == 1 for values in per_patient.values()
    )  # the label belongs to the patient
    assert len(per_patient) < len(rows)  # some patients have several slides
    assert len({row["center_id"] for row in rows}) >= 3


def test_generate_rejects_bad_parameters(tmp_path):
    with pytest.raises(TypeError, match="unknown clot-slides parameter"):
        clot_slides.generate(tmp_path, n_slide=3)
    with pytest.raises(ValueError, match="n_slides"):
        clot_slides.generate(tmp_path, n_slides=0)
    with pytest.raises(ValueError, match="min_side_px"):
        clot_slides.generate(tmp_path, min_side_px=500, max_side_px=100)
    with pytest.raises(ValueError, match="tile_px"):
        clot_slides.write_slide(tmp_path / "x.tif", 100, 100, tile_px=100)


def test_big_slide_is_written_tile_by_tile(tmp_path, monkeypatch):
    """The level-0 pixels reach tifffile as a tile iterator, never as one array."""
    calls = []
    original = tifffile.TiffWriter.write

    def spy(self, data=None, *args, **kwargs):
        calls.append(type(data).__name__)
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffWriter, "write", spy)
    clot_slides.write_slide(tmp_path / "s.tif", 1200, 1500, seed=2, tile_px=256)
    assert calls[0] == "generator" and calls[1] == "ndarray"


# --------------------------------------------------------------------------- validator
def _validate(folder) -> ValidationReport:
    report = ValidationReport(name="strip-ai", root=folder)
    clot_slides.validate_strip_ai(folder, report)
    return report


def _snapshot(folder):
    return {
        p.relative_to(folder): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")
    }


@pytest.fixture
def copy_of(small_build, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(small_build, folder)
    return folder


def _rewrite_csv(folder, rows, columns=None):
    columns = columns or list(rows[0])
    with open(folder / "train.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_validator_ok_on_clean_folder(small_build):
    before = _snapshot(small_build)
    report = _validate(small_build)
    assert report.ok, str(report)
    assert report.summary["rows"] == 5 and report.summary["slides without a pyramid"] == 1
    assert [f.severity for f in report.findings] == ["note"]
    assert "no pyramid" in report.findings[0].message
    assert _snapshot(small_build) == before  # never writes


def test_validator_via_data_validate(small_build):
    report = data.validate("strip-ai", small_build)
    assert report.ok


def test_validator_missing_csv(copy_of):
    (copy_of / "train.csv").unlink()
    report = _validate(copy_of)
    assert not report.ok and any(
        f.where == "train.csv" and "missing" in f.message for f in report.errors
    )


def test_validator_missing_column(copy_of):
    rows = _rows(copy_of)
    _rewrite_csv(copy_of, rows, ["image_id", "center_id", "patient_id", "image_num"])
    report = _validate(copy_of)
    assert any("missing column(s) ['label']" in f.message for f in report.errors)


def test_validator_row_problems(copy_of):
    rows = _rows(copy_of)
    rows.append(dict(rows[0]))  # duplicate
    rows[1]["label"] = "Other"
    rows[2]["image_id"] = rows[2]["patient_id"] + "_9"  # does not match image_num (and no file)
    _rewrite_csv(copy_of, rows)
    report = _validate(copy_of)
    messages = " | ".join(str(f) for f in report.errors)
    assert "duplicate image_id" in messages
    assert "label 'Other' is not one of ['CE', 'LAA']" in messages
    assert "is not <patient_id>_<image_num>" in messages
    assert "listed in train.csv but the file is missing" in messages
    assert "file has no row in train.csv" in messages  # the original file of row 2


def test_validator_missing_and_extra_and_unreadable(copy_of):
    slides_dir = copy_of / "train"
    first = sorted(slides_dir.glob("*.tif"))[0]
    first.unlink()
    (slides_dir / "abcdef_0.tif").write_bytes(b"II*\x00" + b"\x00" * 8)  # no row, and truncated
    second = sorted(p for p in slides_dir.glob("*.tif") if p.name != "abcdef_0.tif")[0]
    second.write_bytes(b"\x89PNG\r\n\x1a\n not a tiff")
    report = _validate(copy_of)
    by_file = {f.where: f.message for f in report.errors}
    assert "missing" in by_file[f"train/{first.name}"]
    assert (
        "unreadable" in by_file[f"train/{second.name}"]
        and "not a TIFF" in by_file[f"train/{second.name}"]
    )
    assert any(f.where == "train/abcdef_0.tif" and "no row" in f.message for f in report.errors)
    assert any(f.where == "train/abcdef_0.tif" and "unreadable" in f.message for f in report.errors)


def test_validator_test_csv_and_missing_folder(copy_of):
    with open(copy_of / "test.csv", "w", newline="") as handle:
        handle.write("image_id,center_id,patient_id,image_num\n006388_0,11,006388,0\n")
    shutil.rmtree(copy_of / "train")
    report = _validate(copy_of)
    assert report.summary["test rows"] == 1
    assert any(f.where == "train/" for f in report.errors)
