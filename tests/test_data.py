"""Data layer: manifests, package samples, the generated-dataset cache and fingerprints."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
import yaml

from course_utils import data
from course_utils.datasets import EXTERNAL, GENERATED

COMMON_KEYS = {"name", "kind", "description", "modality", "licence", "source"}


def _manifests():
    return [yaml.safe_load(p.read_text()) for p in sorted(data.manifests_dir().glob("*.yaml"))]


@pytest.mark.parametrize("manifest", _manifests(), ids=lambda m: m["name"])
def test_manifest_schema(manifest):
    missing = COMMON_KEYS - set(manifest)
    assert not missing, f"{manifest['name']} lacks {sorted(missing)}"
    if manifest["kind"] == "package-sample":
        assert manifest["package"] and manifest["files"]
        for entry in manifest["files"]:
            assert {"file", "path", "modality"} <= set(entry), entry
            assert "sha256" in entry or "files_sha256" in entry
    elif manifest["kind"] == "generated":
        assert manifest["name"] in GENERATED
        assert {"generator", "default_parameters", "fingerprint", "realism"} <= set(manifest)
        # students are told where the imitation stops: what it looks like and what it does not
        realism = " ".join(manifest["realism"].split())
        assert realism.startswith("Looks like:") and " Does not:" in realism, realism[:120]
    else:
        assert manifest["name"] in EXTERNAL
        assert {"how_to_obtain", "layout", "known_problems", "counts"} <= set(manifest)


def test_every_generated_and_external_dataset_has_a_manifest():
    names = set(data.manifest_names())
    assert set(GENERATED) <= names, f"no manifest for {sorted(set(GENERATED) - names)}"
    assert set(EXTERNAL) <= names, f"no manifest for {sorted(set(EXTERNAL) - names)}"


def test_package_samples_verify():
    results = data.verify(data.manifest_names("package-sample"))
    failed = [r for r in results if r[1] != "ok"]
    assert results and not failed, failed


def test_sample_checksum_mismatch_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "fake.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "fake",
                "kind": "package-sample",
                "description": "x",
                "modality": "x",
                "licence": "MIT",
                "source": "x",
                "package": "course_utils",
                "files": [
                    {"file": "data.py", "path": "data.py", "sha256": "0" * 64, "modality": "code"}
                ],
            }
        )
    )
    monkeypatch.setattr(data, "manifests_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match=r"checksum mismatch for data.py .*expected sha256 0000"):
        data.sample_path("data.py")
    assert data.sample_path("data.py", verify=False).name == "data.py"
    with pytest.raises(KeyError, match="no package sample called 'nope'"):
        data.sample_path("nope")


@pytest.fixture
def fake_generator(monkeypatch):
    calls = []
    module = types.ModuleType("course_utils.datasets.fake_gen")
    module.DEFAULTS = {"seed": 0, "n": 3}

    def generate(out_dir, *, seed, n):
        calls.append((seed, n))
        if n < 0:
            (out_dir / "half.npy").write_bytes(b"partial")
            raise RuntimeError("interrupted")
        rng = np.random.default_rng(seed)
        for i in range(n):
            np.save(out_dir / f"image{i}.npy", rng.integers(0, 10, (4, 4)))

    module.generate = generate
    monkeypatch.setitem(sys.modules, "course_utils.datasets.fake_gen", module)
    monkeypatch.setitem(GENERATED, "fake-set", "fake_gen")
    return calls


def test_dataset_path_builds_once_and_caches(tmp_path, fake_generator):
    first = data.dataset_path("fake-set", root=tmp_path)
    second = data.dataset_path("fake-set", root=tmp_path)
    assert first == second == tmp_path / "fake-set"
    assert fake_generator == [(0, 3)]
    other = data.dataset_path("fake-set", root=tmp_path, n=2)
    assert other != first and len(list(other.glob("*.npy"))) == 2


def test_a_cache_built_by_an_older_generator_is_rebuilt(tmp_path, fake_generator, monkeypatch):
    first = data.dataset_path("fake-set", root=tmp_path)
    assert fake_generator == [(0, 3)]
    monkeypatch.setattr(data, "_generator_digest", lambda module: "a-newer-version")
    again = data.dataset_path("fake-set", root=tmp_path)
    assert again == first and fake_generator == [(0, 3), (0, 3)], "stale cache was trusted"
    marker = json.loads((again / ".complete.json").read_text())
    assert marker["generator"] == "a-newer-version"
    data.dataset_path("fake-set", root=tmp_path)
    assert len(fake_generator) == 2, "an up-to-date cache must not be rebuilt"


def test_data_build_reports_what_it_built_and_what_was_cached(
    tmp_path, fake_generator, monkeypatch, capsys
):
    from course_utils import cli

    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert not data.is_built("fake-set")
    assert cli.main(["data", "build", "fake-set"]) == 0
    assert data.is_built("fake-set") and fake_generator == [(0, 3)]
    first = capsys.readouterr().out
    assert "fake-set" in first and "cached" not in first
    assert cli.main(["data", "build", "fake-set"]) == 0
    assert "cached" in capsys.readouterr().out and fake_generator == [(0, 3)]


def test_interrupted_build_leaves_nothing_that_looks_complete(tmp_path, fake_generator):
    with pytest.raises(RuntimeError, match="interrupted"):
        data.dataset_path("fake-set", root=tmp_path, n=-1)
    left = [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")]
    assert left == [], "an interrupted build must leave no dataset folder behind"


def test_dataset_path_rejects_unknown_names_and_parameters(tmp_path, fake_generator):
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['size'\] for fake-set"):
        data.dataset_path("fake-set", root=tmp_path, size=3)
    with pytest.raises(KeyError, match="not a generated dataset"):
        data.dataset_path("rsna-miccai")


def test_fingerprint_is_stable_and_content_sensitive(tmp_path, fake_generator):
    a = data.dataset_path("fake-set", root=tmp_path / "a")
    b = data.dataset_path("fake-set", root=tmp_path / "b")
    c = data.dataset_path("fake-set", root=tmp_path / "c", seed=1)
    assert data.fingerprint(a) == data.fingerprint(b) != data.fingerprint(c)
    with pytest.raises(FileNotFoundError):
        data.fingerprint(tmp_path / "missing")


def test_resolve_data_dir_and_output_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.resolve_data_dir(tmp_path / "missing", default="ct-phantom")
    file_path = tmp_path / "file.txt"
    file_path.write_text("x")
    with pytest.raises(NotADirectoryError, match="expected a folder"):
        data.resolve_data_dir(file_path, default="ct-phantom")
    assert data.resolve_data_dir(tmp_path, default="ct-phantom", verbose=False) == tmp_path
    out = data.resolve_output_dir(tmp_path / "out" / "deep", "01")
    assert out.is_dir()
    with pytest.raises(NotADirectoryError):
        data.resolve_output_dir(file_path, "01")


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "result.bin"
    data.atomic_write_bytes(target, b"payload")
    assert target.read_bytes() == b"payload"
    assert [p.name for p in tmp_path.iterdir()] == ["result.bin"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GENERATED))
def test_default_build_matches_manifest_fingerprint(name):
    folder = data.dataset_path(name)
    expected = str(data.load_manifest(name)["fingerprint"])
    assert data.fingerprint(folder) == expected, (
        f"{name}: the default build's decoded content differs from the manifest's fingerprint"
    )


def test_mni152_manifest_and_nifti_helper_agree():
    """The template's sha256 values live in the manifest and in course_utils.nifti: one truth."""
    from course_utils import nifti

    manifest = data.load_manifest("mni152-template")
    listed = {entry["file"]: entry["sha256"] for entry in manifest["files"]}
    assert listed == dict(nifti.MNI152_FILES.values())
    for kind in nifti.MNI152_FILES:
        assert data.sample_path(nifti.mni152_path(kind).name) == nifti.mni152_path(kind)
