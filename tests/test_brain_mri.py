"""Tests of the brain MRI phantom, the brain-mri-study generator and the rsna-miccai validator."""

from __future__ import annotations

import csv
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils import data
from course_utils.datasets import brain_mri

ROOT = Path(__file__).resolve().parents[1]

SMALL = {
    "n_patients": 4,
    "n_missing_folders": 1,
    "n_unlabelled_folders": 1,
    "n_empty_series": 1,
    "n_missing_series": 1,
    "n_truncated_files": 1,
    "blank_series_fraction": 0.5,
    "signed_series_fraction": 0.3,
    "min_matrix": 32,
    "max_matrix": 48,
}
CLEAN = {
    "n_patients": 2,
    "n_missing_folders": 0,
    "n_unlabelled_folders": 0,
    "n_empty_series": 0,
    "n_missing_series": 0,
    "n_truncated_files": 0,
    "min_matrix": 32,
    "max_matrix": 32,
}


def _build(folder: Path, **params) -> Path:
    folder.mkdir(parents=True)
    brain_mri.generate(folder, **params)
    return folder


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("small") / "study", **SMALL)


@pytest.fixture(scope="module")
def clean_study(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("clean") / "study", **CLEAN)


@pytest.fixture
def clean_copy(clean_study, tmp_path) -> Path:
    return Path(shutil.copytree(clean_study, tmp_path / "copy"))


@pytest.fixture(scope="module")
def phantom():
    return brain_mri.phantom_volumes(seed=0)


def _series_folders(root: Path):
    return sorted(p for p in (root / "train").glob("*/*") if p.is_dir())


def _read_headers(series: Path):
    return [pydicom.dcmread(path, stop_before_pixels=True) for path in sorted(series.glob("*.dcm"))]


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{path.is_dir()}:{stat.st_mtime_ns}".encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- phantom
def test_phantom_shapes_types_and_labels(phantom):
    images, labels = phantom
    assert sorted(images) == sorted(brain_mri.SEQUENCES)
    assert labels.shape == (32, 128, 128) and labels.dtype == np.uint8
    assert set(np.unique(labels).tolist()) == set(brain_mri.LABELS)
    for image in images.values():
        assert image.dtype == np.float32 and image.shape == labels.shape
        assert np.isfinite(image).all() and image.min() >= 0
    # Rician noise: the air is dark but not zero.
    air = images["T2w"][labels == 0]
    assert 0 < air.mean() < 0.1 * images["T2w"][labels == 4].mean()


def test_phantom_sequence_contrasts(phantom):
    images, labels = phantom

    def mean(sequence, label):
        return float(images[sequence][labels == label].mean())

    csf, gm, wm, oedema, rim = 2, 3, 4, 5, 6
    assert mean("T1w", csf) < mean("T1w", gm) < mean("T1w", wm)
    assert mean("T2w", csf) > mean("T2w", gm) > mean("T2w", wm)
    assert mean("FLAIR", csf) < mean("FLAIR", wm)
    assert mean("FLAIR", oedema) > 1.5 * mean("FLAIR", wm)
    assert mean("T2w", oedema) > 1.5 * mean("T2w", wm)
    assert mean("T1wCE", rim) > 1.3 * max(mean("T1wCE", label) for label in (csf, gm, wm, oedema))
    assert mean("T1w", rim) < mean("T1w", wm)  # enhancement needs the contrast agent


def test_phantom_tumour_inside_brain_and_head_shape(phantom):
    _, labels = phantom
    tumour = labels >= 5
    assert tumour.sum() > 500
    head = labels > 0
    # Head is centred in the field of view and wider front-to-back than side-to-side.
    rows, columns = np.nonzero(head.any(axis=0))
    assert np.ptp(rows) > np.ptp(columns)
    assert abs(rows.mean() - 63.5) < 8 and abs(columns.mean() - 63.5) < 8
    # Grey matter lies outside white matter: the cortex ribbon.
    slice_index = int(np.argmax((labels == 4).sum(axis=(1, 2))))
    grey_rows = np.nonzero(labels[slice_index] == 3)[0]
    white_rows = np.nonzero(labels[slice_index] == 4)[0]
    assert grey_rows.min() < white_rows.min() and grey_rows.max() > white_rows.max()


def test_phantom_is_deterministic_and_seed_dependent():
    small = {"shape": (6, 48, 48), "spacing_mm": (10.0, 5.0, 5.0)}
    first, labels_first = brain_mri.phantom_volume("FLAIR", seed=4, **small)
    again, labels_again = brain_mri.phantom_volume("FLAIR", seed=4, **small)
    other, labels_other = brain_mri.phantom_volume("FLAIR", seed=5, **small)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(labels_first, labels_again)
    assert not np.array_equal(labels_first, labels_other)


def test_phantom_noise_free_option():
    clean, labels = brain_mri.phantom_volume(
        "T1w", shape=(4, 32, 32), spacing_mm=(10, 7.5, 7.5), noise=0, bias=False
    )
    assert float(clean[:, 0, 0].max()) == 0.0  # air far from the head: exactly zero
    assert float(clean[labels == 4].min()) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence": "DWI"}, "sequence must be one of"),
        ({"sequence": "T1w", "shape": (4, 32)}, "shape must be three positive integers"),
        ({"sequence": "T1w", "shape": (0, 32, 32)}, "shape must be three positive integers"),
        ({"sequence": "T1w", "spacing_mm": (4, -1, 1)}, "spacing_mm must be three positive"),
        ({"sequence": "T1w", "spacing_mm": (4, np.nan, 1)}, "spacing_mm must be three positive"),
        ({"sequence": "T1w", "noise": -0.1}, "noise must be a non-negative"),
    ],
)
def test_phantom_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        brain_mri.phantom_volume(**kwargs)


# --------------------------------------------------------------------------- generator
def test_generate_is_deterministic(clean_study, tmp_path):
    again = _build(tmp_path / "again", **CLEAN)
    assert data.fingerprint(again) == data.fingerprint(clean_study)
    first = sorted((clean_study / "train").rglob("*.dcm"))[0]
    twin = again / first.relative_to(clean_study)
    assert twin.read_bytes() == first.read_bytes()  # same UIDs, same pixels, same bytes


def test_layout_and_labels_file(small_study):
    with open(small_study / "train_labels.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["BraTS21ID", "MGMT_value"]
    ids = [row[0] for row in rows[1:]]
    assert all(text.isdigit() and (text == "0" or not text.startswith("0")) for text in ids)
    assert {row[1] for row in rows[1:]} <= {"0", "1"}
    folders = sorted(p.name for p in (small_study / "train").iterdir())
    assert len(folders) == SMALL["n_patients"]
    assert all(len(name) == 5 and name.isdigit() for name in folders)
    labelled = {int(text) for text in ids}
    present = {int(name) for name in folders}
    assert len(labelled - present) == SMALL["n_missing_folders"]
    assert len(present - labelled) == SMALL["n_unlabelled_folders"]


def test_deliberate_quirks_present(small_study):
    sequence_dirs = [
        small_study / "train" / p / s
        for p in sorted(x.name for x in (small_study / "train").iterdir())
        for s in brain_mri.SEQUENCES
    ]
    missing = [d for d in sequence_dirs if not d.exists()]
    empty = [d for d in sequence_dirs if d.is_dir() and not any(d.iterdir())]
    assert len(missing) == SMALL["n_missing_series"]
    assert len(empty) == SMALL["n_empty_series"]
    truncated, blank_series, signed, text_sort_differs = [], 0, set(), False
    for series in _series_folders(small_study):
        files = list(series.glob("*.dcm"))
        if not files:
            continue
        names = [p.name for p in files]
        numeric = sorted(names, key=lambda n: int(n[6:-4]))
        assert numeric[0] == "Image-1.dcm"
        text_sort_differs |= sorted(names) != numeric
        stacked = []
        for path in files:
            ds = pydicom.dcmread(path)
            try:
                pixels = ds.pixel_array
            except Exception:  # noqa: BLE001 - the truncated file
                truncated.append(path)
                continue
            signed.add(int(ds.PixelRepresentation))
            stacked.append((int(ds.InstanceNumber), pixels))
        stacked.sort(key=lambda item: item[0])
        maxima = [int(p.max()) for _, p in stacked]
        if maxima and (maxima[0] == 0 or maxima[-1] == 0):
            blank_series += 1
            assert max(maxima) > 0
    assert len(truncated) == SMALL["n_truncated_files"]
    assert blank_series >= 1
    assert signed == {0, 1}
    assert text_sort_differs


def test_geometry_tags_are_consistent(small_study):
    orientations = set()
    for series in _series_folders(small_study):
        headers = _read_headers(series)
        if not headers:
            continue
        iop = np.array(headers[0].ImageOrientationPatient, dtype=float)
        row, column = iop[:3], iop[3:]
        assert abs(np.linalg.norm(row) - 1) < 1e-4 and abs(np.linalg.norm(column) - 1) < 1e-4
        assert abs(row @ column) < 1e-4
        normal = np.cross(row, column)
        orientations.add(int(np.argmax(np.abs(normal))))
        positions = np.array([np.array(h.ImagePositionPatient, float) @ normal for h in headers])
        order = np.argsort(positions)
        gaps = np.diff(positions[order])
        spacing = float(headers[0].SpacingBetweenSlices)
        thickness = float(headers[0].SliceThickness)
        np.testing.assert_allclose(gaps, spacing, atol=2e-3)
        assert thickness <= spacing + 1e-6
        instances = sorted(int(h.InstanceNumber) for h in headers)
        assert instances == list(range(1, len(headers) + 1))
        ordered_instances = [int(headers[i].InstanceNumber) for i in order]
        assert ordered_instances in (sorted(ordered_instances), sorted(ordered_instances)[::-1])
        for header in headers:
            assert header.SeriesDescription == series.name
            assert float(header.SliceLocation) == pytest.approx(
                np.array(header.ImagePositionPatient, float) @ normal, abs=2e-3
            )
            assert len({tuple(h.PixelSpacing) for h in headers}) == 1
            assert header.Modality == "MR" and header.PhotometricInterpretation == "MONOCHROME2"
    assert 2 in orientations  # axial series present


def test_fake_identities_for_deidentification(small_study):
    names = {}
    for series in _series_folders(small_study):
        for header in _read_headers(series)[:2]:
            patient = series.parent.name
            assert header.PatientName and header.PatientBirthDate and header.InstitutionName
            assert header.ReferringPhysicianName and header.AccessionNumber and header.PatientID
            block = header.private_block(0x0009, "COURSE FAKE VENDOR 1.0")
            assert block[0x10].value == str(header.PatientName)
            assert header.OtherPatientIDsSequence[0].PatientID.startswith("NHS")
            assert header.RequestAttributesSequence[0].AccessionNumber == header.AccessionNumber
            names.setdefault(patient, set()).add(str(header.PatientName))
    assert all(len(found) == 1 for found in names.values())  # one identity per patient


def test_fast_writer_matches_pydicom(tmp_path):
    rng = np.random.default_rng(0)
    identity = brain_mri._identity(rng, 5)
    subject = brain_mri._subject((0, 5))
    plan = brain_mri._series_plan(rng, brain_mri.DEFAULTS, subject, "FLAIR")
    plan["window"] = (400, 800)
    for signed in (False, True):
        plan["signed"] = signed
        pixels = (np.arange(40 * 32).reshape(40, 32) % 3000).astype(
            np.int16 if signed else np.uint16
        )
        template = brain_mri._series_dataset(identity, plan, "FLAIR", 1, pixels.shape, 0)
        writer = brain_mri._SeriesWriter(template)
        position = np.array([-110.25, 3.125, 47.5])
        writer.write(tmp_path / "fast.dcm", identity, plan, "FLAIR", 11, position, pixels, 0)
        brain_mri._set_slice(template, identity, plan, "FLAIR", 11, position, pixels, 0)
        template.save_as(tmp_path / "reference.dcm", enforce_file_format=True)
        assert (tmp_path / "fast.dcm").read_bytes() == (tmp_path / "reference.dcm").read_bytes()


def test_generate_rejects_bad_parameters(tmp_path):
    with pytest.raises(TypeError, match="unknown parameter"):
        brain_mri.generate(tmp_path, n_subjects=3)
    with pytest.raises(ValueError, match="n_patients must be at least 1"):
        brain_mri.generate(tmp_path, n_patients=0)
    with pytest.raises(ValueError, match="min_matrix"):
        brain_mri.generate(tmp_path, min_matrix=128, max_matrix=64)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        brain_mri.generate(tmp_path / "missing")


def test_patient_folder_name():
    assert brain_mri.patient_folder_name(46) == "00046"
    with pytest.raises(ValueError, match="brats_id"):
        brain_mri.patient_folder_name(-1)


def _well_formed_files(root: Path, per_series: int = 2):
    chosen = []
    for series in _series_folders(root):
        for path in sorted(series.glob("*.dcm"))[:per_series]:
            if brain_mri._inspect_dicom_header(str(path))[0] is None:
                chosen.append(path)
    return chosen


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
def test_dciodvfy_reports_no_errors(small_study):
    files = _well_formed_files(small_study)
    assert files
    for path in files:
        result = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, check=False
        )
        errors = [line for line in (result.stdout + result.stderr).splitlines() if "Error" in line]
        assert not errors, f"{path.relative_to(small_study)}: {errors}"


@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="dcmdump (DCMTK) not installed")
def test_dcmdump_reads_files(small_study):
    path = _well_formed_files(small_study, per_series=1)[0]
    result = subprocess.run(["dcmdump", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "PatientName" in result.stdout


# --------------------------------------------------------------------------- validator
def _validate(root: Path) -> data.ValidationReport:
    return data.validate("rsna-miccai", root)


def _has(report, severity, where_part, message_part):
    return any(
        f.severity == severity and where_part in f.where and message_part in f.message
        for f in report.findings
    )


def test_clean_study_validates(clean_study):
    report = _validate(clean_study)
    assert report.ok, str(report)
    assert report.findings == []
    assert report.summary["patient folders"] == CLEAN["n_patients"]
    assert report.summary["usable labelled cases"] == CLEAN["n_patients"]


def test_validator_finds_every_deliberate_quirk(small_study):
    report = _validate(small_study)
    assert not report.ok
    kinds = {
        "folder is missing": SMALL["n_missing_folders"],
        "has no row in train_labels.csv": SMALL["n_unlabelled_folders"],
        "empty sequence folder": SMALL["n_empty_series"],
        "missing sequence folder": SMALL["n_missing_series"],
        "truncated": SMALL["n_truncated_files"],
    }
    for text, count in kinds.items():
        found = [f for f in report.errors if text in f.message]
        assert len(found) == count, (text, str(report))
    assert len(report.errors) == sum(kinds.values())


def test_validator_never_modifies_the_folder(small_study):
    before = _tree_digest(small_study)
    _validate(small_study)
    assert _tree_digest(small_study) == before


def test_validator_labels_file_problems(clean_copy):
    labels = clean_copy / "train_labels.csv"
    first_id = sorted(p.name for p in (clean_copy / "train").iterdir())[0]
    text = labels.read_text()
    labels.write_text(text + f"{int(first_id)},1\nabc,0\n77777,2\n")
    report = _validate(clean_copy)
    assert _has(report, "error", "train_labels.csv", "duplicate BraTS21ID")
    assert _has(report, "error", "train_labels.csv", "not a non-negative integer")
    assert _has(report, "error", "train_labels.csv", "MGMT_value is not 0 or 1")

    labels.write_text("id,label\n1,0\n")
    report = _validate(clean_copy)
    assert _has(
        report, "error", "train_labels.csv", "missing column(s) ['BraTS21ID', 'MGMT_value']"
    )

    labels.unlink()
    report = _validate(clean_copy)
    assert _has(report, "error", "train_labels.csv", "missing")


def test_validator_file_problems(clean_copy):
    patients = sorted((clean_copy / "train").iterdir())
    series = patients[0] / "T2w"
    files = sorted(series.glob("*.dcm"), key=lambda p: int(p.name[6:-4]))
    (series / "notes.txt").write_text("stray")
    (series / "Image-999.dcm").write_bytes(b"not a dicom file at all" * 20)
    whole = files[1].read_bytes()
    files[1].write_bytes(whole[: len(whole) - 100])  # cut inside the pixel data
    files[2].write_bytes(whole[:300])  # cut inside the header
    (series / "extra").mkdir()
    (clean_copy / "train" / "abcde").mkdir()
    (clean_copy / "train" / ".DS_Store").write_bytes(b"\0")
    shutil.rmtree(patients[1] / "FLAIR")
    for path in (patients[1] / "T1w").iterdir():
        path.unlink()
    report = _validate(clean_copy)
    rel = f"train/{patients[0].name}/T2w"
    assert _has(report, "error", f"{rel}/notes.txt", "stray file")
    assert _has(report, "error", f"{rel}/Image-999.dcm", "not a DICOM file")
    assert _has(report, "error", f"{rel}/{files[1].name}", "truncated")
    assert _has(report, "error", f"{rel}/{files[2].name}", "")
    assert _has(report, "error", f"{rel}/extra/", "unexpected subfolder")
    assert _has(report, "error", "train/abcde/", "patient folders are 5-digit ids")
    assert _has(report, "error", "train/.DS_Store", "stray hidden file")
    assert _has(report, "error", f"train/{patients[1].name}/FLAIR/", "missing sequence folder")
    assert _has(report, "error", f"train/{patients[1].name}/T1w/", "empty sequence folder")
    assert report.summary["bad DICOM files"] == 3
    assert report.summary["usable labelled cases"] == 0


def test_validator_known_bad_case_is_a_note(clean_copy):
    patients = sorted((clean_copy / "train").iterdir())
    old_id = int(patients[0].name)
    patients[0].rename(clean_copy / "train" / "00109")
    labels = clean_copy / "train_labels.csv"
    lines = labels.read_text().splitlines()
    lines = [lines[0]] + [
        ("109" + line[len(str(old_id)) :]) if line.split(",")[0] == str(old_id) else line
        for line in lines[1:]
    ]
    labels.write_text("\n".join(lines) + "\n")
    report = _validate(clean_copy)
    assert report.ok, str(report)
    assert _has(report, "note", "case 00109", "exclude it")
    assert report.summary["usable labelled cases"] == CLEAN["n_patients"] - 1


def test_validator_missing_train_folder_and_bad_paths(clean_copy, tmp_path):
    shutil.rmtree(clean_copy / "train")
    report = _validate(clean_copy)
    assert _has(report, "error", "train/", "missing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _validate(tmp_path / "nowhere")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        _validate(tmp_path / "file.txt")


def test_validator_processes_scheduler_matches_serial(small_study):
    serial = data.ValidationReport("rsna-miccai", small_study)
    brain_mri.validate_rsna_miccai(small_study, serial, scheduler="serial")
    parallel = data.ValidationReport("rsna-miccai", small_study)
    brain_mri.validate_rsna_miccai(small_study, parallel, scheduler="processes", n_workers=2)
    assert serial.findings == parallel.findings and serial.summary == parallel.summary


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fraction=st.floats(min_value=0.0, max_value=0.999))
def test_any_truncation_is_detected(clean_study, tmp_path_factory, fraction):
    source = sorted(_series_folders(clean_study)[0].glob("*.dcm"))[0]
    whole = source.read_bytes()
    target = tmp_path_factory.mktemp("cut") / "Image-1.dcm"
    target.write_bytes(whole[: int(fraction * len(whole))])
    problem, _ = brain_mri._inspect_dicom_header(str(target))
    assert problem is not None


@pytest.mark.parametrize("syntax", ["RLELossless", "ImplicitVRLittleEndian"])
def test_header_check_handles_other_transfer_syntaxes(clean_study, tmp_path, syntax):
    import pydicom.uid

    source = sorted(_series_folders(clean_study)[0].glob("*.dcm"))[0]
    ds = pydicom.dcmread(source)
    uid = getattr(pydicom.uid, syntax)
    if uid.is_compressed:
        ds.compress(uid)
    else:
        ds.file_meta.TransferSyntaxUID = uid
    whole_path = tmp_path / "Image-1.dcm"
    ds.save_as(whole_path, enforce_file_format=True)
    assert brain_mri._inspect_dicom_header(str(whole_path)) == (None, int(ds.InstanceNumber))
    whole = whole_path.read_bytes()
    whole_path.write_bytes(whole[:-10])
    problem, _ = brain_mri._inspect_dicom_header(str(whole_path))
    assert problem is not None and problem.startswith("truncated")


def test_cli_exit_codes(clean_study, small_study):
    command = [sys.executable, "-m", "course_utils", "data", "validate", "rsna-miccai"]
    clean = subprocess.run([*command, str(clean_study)], capture_output=True, text=True, cwd=ROOT)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    broken = subprocess.run([*command, str(small_study)], capture_output=True, text=True, cwd=ROOT)
    assert broken.returncode == 1
    assert "truncated" in broken.stdout + broken.stderr


# --------------------------------------------------------------------------- manifests
def test_manifests_describe_the_dataset():
    generated = data.load_manifest("brain-mri-study")
    assert generated["kind"] == "generated"
    assert generated["default_parameters"] == brain_mri.DEFAULTS
    external = data.load_manifest("rsna-miccai")
    assert external["kind"] == "external"
    assert {entry["id"] for entry in external["known_problems"]} == {109, 123, 709}
    assert set(brain_mri._known_bad_ids()) == {109, 123, 709}
