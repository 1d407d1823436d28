"""Tests of the cardiac-cine generator (Data Science Bowl layout) and the dsb-cardiac validator."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from scipy import ndimage

from course_utils import data
from course_utils.datasets import cardiac_cine

SMALL = {"n_phases": 8, "rows": 72, "columns": 88}


@pytest.fixture(scope="module")
def study() -> Path:
    """The default build in the course's data cache (built once by ``make data``; read only here)."""
    return data.dataset_path("cardiac-cine")


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _series(folder: Path):
    """Headers and pixels of one folder, in InstanceNumber order."""
    slices = [pydicom.dcmread(p) for p in folder.glob("*.dcm")]
    slices.sort(key=lambda ds: int(ds.InstanceNumber))
    return slices, np.stack([ds.pixel_array for ds in slices]).astype(np.float64)


# --------------------------------------------------------------------------- the reference method
def _blood_area_mm2(image, centre, pixel_mm, threshold, disc_mm=40.0):
    """Bright blood in a disc around the LV centre, the component holding the centre (mm^2)."""
    rows, cols = np.indices(image.shape)
    disc = np.hypot(rows - centre[0], cols - centre[1]) * pixel_mm < disc_mm
    blood = (image > threshold) & disc
    components, _ = ndimage.label(blood)
    keep = components[centre]
    if keep == 0:
        return 0.0
    return float((components == keep).sum()) * pixel_mm**2


def _reference(root: Path, case: dict):
    """LV centre (row, column) and blood threshold from the mid-ventricular slice at ED.

    The threshold is halfway between the blood pool (median of a 10 mm disc at the centre)
    and the myocardium (the 10th percentile of the ring 1-1.6 cavity radii out).
    """
    labels = np.load(root / "ground_truth" / f"labels_{case['Id']}.npz")
    ed = int(case["ed_phase"])
    mid = len(labels["folders"]) // 2
    cavity = labels["labels"][mid, ed] == 1
    centre = tuple(int(round(c)) for c in ndimage.center_of_mass(cavity))
    slices, pixels = _series(root / "train" / case["Id"] / "study" / str(labels["folders"][mid]))
    pixel_mm = float(slices[0].PixelSpacing[0])
    rows, cols = np.indices(cavity.shape)
    distance = np.hypot(rows - centre[0], cols - centre[1]) * pixel_mm
    blood = np.median(pixels[ed][distance < 10.0])
    radius = np.sqrt(cavity.sum() / np.pi) * pixel_mm
    ring = (distance > 1.1 * radius) & (distance < 1.1 * radius + 5.0)
    myocardium = np.median(pixels[ed][ring])
    return labels, centre, 0.5 * (blood + myocardium)


def _measured_volumes(root: Path, case: dict) -> np.ndarray:
    labels, centre, threshold = _reference(root, case)
    n_phases = int(case["n_phases"])
    volume = np.zeros(n_phases)
    for name in labels["folders"]:
        slices, pixels = _series(root / "train" / case["Id"] / "study" / str(name))
        pixel_mm = float(slices[0].PixelSpacing[0])
        areas = np.array([_blood_area_mm2(image, centre, pixel_mm, threshold) for image in pixels])
        if len(areas) != n_phases:  # a folder with another phase count: resample in time
            nominal = float(slices[0].NominalInterval)
            times = np.array([float(ds.TriggerTime) for ds in slices]) / nominal
            target = np.arange(n_phases) / n_phases
            areas = np.interp(target, times, areas, period=1.0)
        volume += areas * float(slices[0].SpacingBetweenSlices) / 1000.0
    return volume


def test_reference_method_meets_the_accuracy_contract(study):
    truth = {row["Id"]: row for row in _rows(study / "train.csv")}
    for case in _rows(study / "ground_truth" / "cases.csv"):
        volume = _measured_volumes(study, case)
        edv, esv = volume.max(), volume.min()
        ef = 100.0 * (edv - esv) / edv
        true_edv = float(truth[case["Id"]]["Diastole"])
        true_esv = float(truth[case["Id"]]["Systole"])
        true_ef = 100.0 * (true_edv - true_esv) / true_edv
        assert abs(ef - true_ef) <= 3.0, (case["Id"], ef, true_ef)
        assert abs(edv - true_edv) <= 0.05 * true_edv, (case["Id"], edv, true_edv)
        assert int(np.argmax(volume)) == int(case["ed_phase"])
        assert abs(int(np.argmin(volume)) - int(case["es_phase"])) <= 1


# --------------------------------------------------------------------------- ground truth
def test_ground_truth_tables_agree(study):
    cases = _rows(study / "ground_truth" / "cases.csv")
    train = _rows(study / "train.csv")
    volumes = _rows(study / "ground_truth" / "volumes.csv")
    assert [r["Id"] for r in train] == [r["Id"] for r in cases] == ["1", "2", "3", "4"]
    efs = []
    for case, row in zip(cases, train, strict=True):
        per_phase = [float(v["lv_volume_ml"]) for v in volumes if v["Id"] == case["Id"]]
        assert len(per_phase) == int(case["n_phases"]) == 30
        assert np.isclose(max(per_phase), float(row["Diastole"]), atol=1e-3)
        assert np.isclose(min(per_phase), float(row["Systole"]), atol=1e-3)
        assert per_phase.index(max(per_phase)) == int(case["ed_phase"])
        assert per_phase.index(min(per_phase)) == int(case["es_phase"])
        assert 8.0 <= float(case["wall_thickness_mm"]) <= 12.0
        efs.append(float(case["ef_percent"]))
    assert min(efs) < 35.0 and max(efs) > 60.0 and all(20 <= e <= 72 for e in efs)


def test_labels_match_the_volumes_and_the_images(study):
    case = _rows(study / "ground_truth" / "cases.csv")[0]
    archive = np.load(study / "ground_truth" / f"labels_{case['Id']}.npz")
    labels, spacing = archive["labels"], archive["spacing_mm"]
    assert labels.dtype == np.uint8 and set(np.unique(labels)) <= {0, 1, 2, 3}
    assert labels.shape[1] == 30 and 9 <= labels.shape[0] <= 11
    voxel_ml = float(np.prod(spacing)) / 1000.0
    ed, es = int(case["ed_phase"]), int(case["es_phase"])
    for phase, column in ((ed, "edv_ml"), (es, "esv_ml")):
        rendered = (labels[:, phase] == 1).sum() * voxel_ml
        assert abs(rendered - float(case[column])) < 0.05 * float(case[column])
    # blood bright, myocardium dark in the image at the mid slice
    _, pixels = _series(study / "train" / case["Id"] / "study" / str(archive["folders"][5]))
    image, mask = pixels[ed], labels[5, ed]
    assert image[mask == 1].mean() > 2.0 * image[mask == 2].mean()
    assert image[mask == 3].mean() > 2.0 * image[mask == 2].mean()


# --------------------------------------------------------------------------- layout and DICOM
def test_layout_and_quirks(study):
    for case in ("1", "2", "3", "4"):
        folders = sorted(p.name for p in (study / "train" / case / "study").iterdir())
        sax = [f for f in folders if f.startswith("sax_")]
        assert 9 <= len(sax) <= 12
        numbers = sorted(int(f[4:]) for f in sax)
        assert numbers != list(range(numbers[0], numbers[0] + len(numbers)))  # not contiguous
        for name in folders:
            files = sorted((study / "train" / case / "study" / name).glob("*.dcm"))
            series = int(name.split("_")[1])
            assert files[0].name == f"IM-{series:04d}-0001.dcm"
    counts = {
        p.name: len(list(p.glob("*.dcm"))) for p in (study / "train" / "2" / "study").iterdir()
    }
    assert sorted(set(counts.values())) == [25, 30] and list(counts.values()).count(25) == 1
    # case 3: two folders at the same position, the later series is the one kept
    positions = {}
    for folder in (study / "train" / "3" / "study").iterdir():
        ds = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
        positions.setdefault(round(float(ds.SliceLocation), 2), []).append(int(ds.SeriesNumber))
    repeated = [sorted(v) for v in positions.values() if len(v) > 1]
    assert len(repeated) == 1
    kept = np.load(study / "ground_truth" / "labels_3.npz")["folders"]
    assert f"sax_{repeated[0][1]}" in kept and f"sax_{repeated[0][0]}" not in kept
    # case 4: a four-chamber folder in another orientation
    study4 = study / "train" / "4" / "study"
    four = [p for p in study4.iterdir() if p.name.startswith("4ch_")]
    assert len(four) == 1
    orientation = {
        tuple(
            pydicom.dcmread(next(p.glob("*.dcm")), stop_before_pixels=True).ImageOrientationPatient
        )
        for p in study4.iterdir()
    }
    assert len(orientation) == 2


def test_geometry_and_timing_tags(study):
    labels = np.load(study / "ground_truth" / "labels_1.npz")
    folders = list(labels["folders"])
    locations = []
    for name in folders:
        slices, _ = _series(study / "train" / "1" / "study" / name)
        ds = slices[0]
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"
        assert float(ds.SliceThickness) == 8.0 and float(ds.SpacingBetweenSlices) == 10.0
        assert int(ds.CardiacNumberOfImages) == len(slices) == 30
        assert ds.Rows <= 160 and ds.Columns <= 160 and 1.4 <= float(ds.PixelSpacing[0]) <= 2.0
        times = [float(s.TriggerTime) for s in slices]
        assert (
            times[0] == 0.0 and np.all(np.diff(times) > 0) and times[-1] < float(ds.NominalInterval)
        )
        row, col = (
            np.array(ds.ImageOrientationPatient[:3]),
            np.array(ds.ImageOrientationPatient[3:]),
        )
        normal = np.cross(row, col)
        assert abs(normal[2]) < 0.95  # oblique
        location = float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), normal))
        assert np.isclose(location, float(ds.SliceLocation), atol=1e-3)
        locations.append(location)
        assert len({s.SOPInstanceUID for s in slices}) == 30
    assert np.allclose(np.abs(np.diff(locations)), 10.0, atol=1e-3)
    assert np.allclose(labels["spacing_mm"], [10.0, 1.8, 1.8])


def test_generate_is_deterministic(tmp_path):
    # small builds keep this quick; the default build is compared with its manifest on every
    # CPU dispatch path by tests/test_cpu_determinism.py
    first, again = tmp_path / "first", tmp_path / "again"
    for folder in (first, again):
        folder.mkdir()
        cardiac_cine.generate(folder, **SMALL)
    assert data.fingerprint(again) == data.fingerprint(first)


def test_generate_rejects_unknown_parameters(tmp_path):
    with pytest.raises(TypeError, match="unknown parameter"):
        cardiac_cine.generate(tmp_path, n_cases=3)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
def test_dciodvfy_reports_no_errors(study):
    files = []
    for case in (study / "train").iterdir():
        for folder in sorted((case / "study").iterdir()):
            members = sorted(folder.glob("*.dcm"))
            files += [members[0], members[-1]]
    for path in files[::3] + [f for f in files if "4ch" in str(f)]:
        result = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, check=False
        )
        problems = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if "Error" in line or "Warning" in line
        ]
        assert not problems, f"{path.relative_to(study)}: {problems}"


# --------------------------------------------------------------------------- validator
def test_validator_reports_the_quirks(study):
    report = data.validate("dsb-cardiac", study)
    text = str(report)
    assert report.summary["cases"] == 4
    assert "25 phases" in text and "same slice position" in text and "4ch_" in text
    assert report.ok, text


def test_validator_finds_missing_pieces(study, tmp_path):
    root = Path(shutil.copytree(study, tmp_path / "copy"))
    (root / "train.csv").unlink()
    shutil.rmtree(root / "train" / "1" / "study")
    report = data.validate("dsb-cardiac", root)
    assert not report.ok
    messages = " ".join(f.where + " " + f.message for f in report.errors)
    assert "train.csv" in messages and "train/1" in messages
