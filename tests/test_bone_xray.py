"""The bone-xray generator (MURA-like layout, clean twins) and the MURA validator."""

from __future__ import annotations

import re
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from course_utils import data
from course_utils.data import ValidationReport
from course_utils.datasets import bone_xray

SMALL = {"n_patients_train": 3, "n_patients_valid": 2, "max_side": 96, "min_side": 64}


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bone-xray")
    bone_xray.generate(folder, **SMALL)
    return folder


@pytest.fixture
def copy_of_build(small_build, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(small_build, target)
    return target


def run_validator(root):
    report = ValidationReport(name="mura", root=root)
    bone_xray.validate_mura(root, report)
    return report


def messages(report, severity="error"):
    return [str(f) for f in report.findings if f.severity == severity]


# --------------------------------------------------------------------------- generator
def test_generation_is_deterministic(small_build, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    bone_xray.generate(again, **SMALL)
    assert data.fingerprint(again) == data.fingerprint(small_build)


def test_different_seed_gives_different_data(small_build, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    bone_xray.generate(other, **{**SMALL, "seed": 1})
    assert data.fingerprint(other) != data.fingerprint(small_build)


def test_layout_mimics_mura(small_build):
    mura = small_build / "MURA-v1.1"
    for split in ("train", "valid"):
        lines = (mura / f"{split}_image_paths.csv").read_text().splitlines()
        assert lines, f"{split}_image_paths.csv is empty"
        for line in lines:
            assert re.fullmatch(
                rf"MURA-v1\.1/{split}/XR_[A-Z]+/patient\d{{5}}/study\d+_(positive|negative)/image\d+\.png",
                line,
            ), line
            assert (small_build / line).is_file()
        for line in (mura / f"{split}_labeled_studies.csv").read_text().splitlines():
            folder, label = line.split(",")
            assert folder.endswith("/") and label in ("0", "1")
            assert ("positive" in folder) == (label == "1")
    valid_patients = {
        line.split("/")[3] for line in (mura / "valid_image_paths.csv").read_text().splitlines()
    }
    train_patients = {
        line.split("/")[3] for line in (mura / "train_image_paths.csv").read_text().splitlines()
    }
    assert not valid_patients & train_patients, (
        "patients must not be shared between train and valid"
    )


def test_images_are_8bit_grey_with_16bit_clean_twins(small_build):
    lines = (small_build / "MURA-v1.1" / "train_image_paths.csv").read_text().splitlines()
    for line in lines:
        noisy = iio.imread(small_build / line)
        clean = iio.imread(small_build / "clean" / line)
        assert noisy.dtype == np.uint8 and noisy.ndim == 2
        assert clean.dtype == np.uint16 and clean.shape == noisy.shape
        assert 64 <= min(noisy.shape) and max(noisy.shape) <= 96
        # same display scale; the difference is photon noise and quantisation only
        difference = noisy / 255.0 - clean / 65535.0
        assert abs(float(np.median(difference))) < 0.03
        assert 0.002 < float(difference.std()) < 0.2


def test_radiograph_physics_noise_larger_under_bone(small_build):
    """Photon noise: fewer photons behind bone, so the (log) image is noisier where it is bright."""
    truth = (small_build / "bone_xray_truth.csv").read_text().splitlines()[1:]
    residual_dark, residual_bright = [], []
    for row in truth:
        path, *_rest = row.split(",")
        inverted = row.split(",")[7] == "1"
        clean = iio.imread(small_build / "clean" / path) / 65535.0
        noisy = iio.imread(small_build / path) / 255.0
        if inverted:
            clean, noisy = 1 - clean, 1 - noisy
        residual = noisy - clean
        residual_dark.append(residual[(clean > 0.15) & (clean < 0.4)])
        residual_bright.append(residual[(clean > 0.6) & (clean < 0.95)])
    dark = np.concatenate(residual_dark).std()
    bright = np.concatenate(residual_bright).std()
    assert bright > 1.3 * dark


def test_quirks_present(small_build):
    rows = [
        line.split(",")
        for line in (small_build / "bone_xray_truth.csv").read_text().splitlines()[1:]
    ]
    assert sum(int(r[7]) for r in rows) == 1, "one inverted image"
    assert any(int(r[9]) > int(r[8]) for r in rows), "some images wider than tall"


def test_generate_rejects_bad_parameters(tmp_path):
    with pytest.raises(TypeError, match="unknown parameter"):
        bone_xray.generate(tmp_path, n_patients=3)
    with pytest.raises(ValueError, match="min_side"):
        bone_xray.generate(tmp_path, min_side=300, max_side=200)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        bone_xray.generate(tmp_path / "missing")


# --------------------------------------------------------------------------- validator
def test_validator_accepts_the_build_from_either_folder(small_build):
    for root in (small_build, small_build / "MURA-v1.1"):
        report = run_validator(root)
        assert report.ok, messages(report)
        assert report.summary["train patients"] == 3


def test_validator_without_mura_folder(tmp_path):
    report = run_validator(tmp_path)
    assert not report.ok
    assert "MURA-v1.1" in messages(report)[0]


def test_missing_csv(copy_of_build):
    (copy_of_build / "MURA-v1.1" / "valid_labeled_studies.csv").unlink()
    assert any(
        "valid_labeled_studies.csv" in m and "missing" in m
        for m in messages(run_validator(copy_of_build))
    )


def test_missing_and_truncated_images(copy_of_build):
    lines = (copy_of_build / "MURA-v1.1" / "train_image_paths.csv").read_text().splitlines()
    (copy_of_build / lines[0]).unlink()
    payload = (copy_of_build / lines[1]).read_bytes()
    (copy_of_build / lines[1]).write_bytes(payload[: len(payload) // 2])
    found = messages(run_validator(copy_of_build))
    assert any("listed in train_image_paths.csv but missing" in m for m in found)
    assert any("truncated" in m for m in found)


def test_not_a_png(copy_of_build):
    line = (copy_of_build / "MURA-v1.1" / "train_image_paths.csv").read_text().splitlines()[0]
    (copy_of_build / line).write_bytes(b"this is not an image at all, just text bytes here")
    assert any("not a PNG" in m for m in messages(run_validator(copy_of_build)))


def test_label_contradicts_folder_and_bad_label(copy_of_build):
    studies = copy_of_build / "MURA-v1.1" / "train_labeled_studies.csv"
    lines = studies.read_text().splitlines()
    folder, label = lines[0].split(",")
    lines[0] = f"{folder},{1 - int(label)}"
    lines[1] = lines[1].split(",")[0] + ",yes"
    studies.write_text("\n".join(lines) + "\n")
    found = messages(run_validator(copy_of_build))
    assert any("but the label is" in m for m in found)
    assert any("'yes' is not 0 or 1" in m for m in found)


def test_header_line_is_reported(copy_of_build):
    paths = copy_of_build / "MURA-v1.1" / "train_image_paths.csv"
    paths.write_text("path\n" + paths.read_text())
    assert any("looks like a header" in m for m in messages(run_validator(copy_of_build)))


def test_unlisted_image_unlabelled_study_and_stray_file(copy_of_build):
    mura = copy_of_build / "MURA-v1.1"
    extra = mura / "train" / "XR_HAND" / "patient00999" / "study1_negative"
    extra.mkdir(parents=True)
    first = (mura / "train_image_paths.csv").read_text().splitlines()[0]
    shutil.copy(copy_of_build / first, extra / "image1.png")
    (mura / "train" / ".DS_Store").write_bytes(b"\0")
    report = run_validator(copy_of_build)
    found = messages(report)
    assert any("patient00999" in m and "not listed" in m for m in found)
    assert any("patient00999" in m and "has no row" in m for m in found)
    assert any(".DS_Store" in m for m in messages(report, "note"))


def test_empty_study_folder(copy_of_build):
    mura = copy_of_build / "MURA-v1.1"
    lines = (mura / "valid_image_paths.csv").read_text().splitlines()
    study = (copy_of_build / lines[0]).parent
    for image in study.glob("*.png"):
        image.unlink()
    kept = [
        line for line in lines if not line.startswith(study.relative_to(copy_of_build).as_posix())
    ]
    (mura / "valid_image_paths.csv").write_text("\n".join(kept) + "\n")
    assert any("study folder without images" in m for m in messages(run_validator(copy_of_build)))


def test_validator_never_writes(small_build):
    before = sorted(
        (p.relative_to(small_build).as_posix(), p.stat().st_mtime_ns)
        for p in small_build.rglob("*")
    )
    run_validator(small_build)
    after = sorted(
        (p.relative_to(small_build).as_posix(), p.stat().st_mtime_ns)
        for p in small_build.rglob("*")
    )
    assert before == after


def test_read_png_header(small_build):
    line = (small_build / "MURA-v1.1" / "train_image_paths.csv").read_text().splitlines()[0]
    header = bone_xray.read_png_header(small_build / line)
    image = iio.imread(small_build / line)
    assert (header["height"], header["width"]) == image.shape
    assert header["bit_depth"] == 8 and header["colour"] == "grey" and header["complete"]
    with pytest.raises(FileNotFoundError, match="no such file"):
        bone_xray.read_png_header(small_build / "missing.png")
