"""The generated datasets are the same on every CPU.

numpy and OpenCV choose SIMD kernels at run time from the CPU's features, so a float
result can differ in its last bits between two laptops; where such a result feeds a
rounding or a threshold, the pixels differ too. The generators avoid that (float64
maths, no OpenCV float kernels); these tests prove it by building in subprocesses with
the dispatch groups switched off, as on an older CPU:

* the full default build of every generated dataset, with every dispatch group this
  machine has disabled and OpenCV's optimised paths off, against the manifest;
* small builds with each group disabled in turn (top down), against a small build with
  nothing disabled (several settings cost little at this size).

`NPY_DISABLE_CPU_FEATURES` can only switch off what the CPU has, so a machine with
AVX-512 tests more settings than one with AVX2 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from course_utils import data
from course_utils.datasets import GENERATED

# Parameters small enough for several builds per test, but using every code path.
SMALL = {
    "brain-mri-study": {"n_patients": 2, "max_matrix": 80},
    "ct-phantom": {"shape": (12, 96, 96)},
    "clot-slides": {"n_slides": 3, "min_side_px": 800, "max_side_px": 1800},
    "mammo-roi": {"n_patients": 4, "height": 400},
    "bone-xray": {"n_patients_train": 2, "n_patients_valid": 1},
    "cardiac-cine": {"n_phases": 8, "rows": 72, "columns": 88},
}

_BUILD = r"""
import json, os, sys
if os.environ.get("COURSE_CV2_UNOPTIMISED") == "1":
    import cv2
    cv2.setUseOptimized(False)
    assert not cv2.useOptimized()
from course_utils import data
small = json.loads(sys.argv[1])
out = {}
for name in sorted(data.manifest_names("generated")):
    params = small.get(name, {}) if small is not None else {}
    for key, value in params.items():
        if isinstance(value, list):
            params[key] = tuple(value)
    out[name] = data.fingerprint(data.dataset_path(name, **params))
print(json.dumps(out))
"""


def _dispatch_groups() -> list[str]:
    """numpy's dispatch targets this CPU has, lowest first (e.g. X86_V3, X86_V4, AVX512_ICL)."""
    from numpy._core import _multiarray_umath as umath

    features = umath.__cpu_features__
    return [group for group in umath.__cpu_dispatch__ if features.get(group)]


def _build(tmp_path, disabled: list[str], *, small: bool, cv2_unoptimised: bool = False):
    env = {**os.environ, data.DATA_ENV: str(tmp_path)}
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
    if cv2_unoptimised:
        env["COURSE_CV2_UNOPTIMISED"] = "1"
    arguments = json.dumps(SMALL if small else None)
    result = subprocess.run(
        [sys.executable, "-c", _BUILD, arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_small_params_cover_every_generator():
    assert set(SMALL) == set(GENERATED)


@pytest.mark.slow
@pytest.mark.extended  # about a minute: make test-extended and CI run it
def test_full_build_on_the_oldest_cpu_path_matches_the_manifests(tmp_path):
    disabled = _dispatch_groups()
    built = _build(tmp_path, disabled, small=False, cv2_unoptimised=True)
    expected = {name: str(data.load_manifest(name)["fingerprint"]) for name in built}
    differ = {
        name: f"built {built[name]}, manifest {expected[name]}"
        for name in built
        if built[name] != expected[name]
    }
    assert not differ, (
        f"with NPY_DISABLE_CPU_FEATURES={' '.join(disabled) or '(none)'} and OpenCV unoptimised, "
        f"these builds depend on the CPU: {differ}"
    )


@pytest.mark.slow
@pytest.mark.extended  # about 50 s (seven small builds): make test-extended and CI run it
def test_small_builds_agree_with_each_dispatch_group_disabled(tmp_path):
    groups = _dispatch_groups()
    reference = _build(tmp_path / "all-features", [], small=True)
    settings = [groups[index:] for index in reversed(range(len(groups)))]  # top group first
    mismatches = {}
    for disabled in settings:
        built = _build(tmp_path / "-".join(disabled), disabled, small=True)
        for name, value in built.items():
            if value != reference[name]:
                mismatches[f"{name} without {' '.join(disabled)}"] = (value, reference[name])
    unoptimised = _build(tmp_path / "cv2-unoptimised", [], small=True, cv2_unoptimised=True)
    for name, value in unoptimised.items():
        if value != reference[name]:
            mismatches[f"{name} with OpenCV unoptimised"] = (value, reference[name])
    assert not mismatches, mismatches


def test_a_planted_cpu_dependence_is_detected(tmp_path, monkeypatch):
    """The comparison can fail: a build whose fingerprint differs is reported by name."""
    calls = []

    def fake_build(path, disabled, *, small, cv2_unoptimised=False):
        calls.append(disabled)
        return {"mammo-roi": "changed" if disabled else "same", "ct-phantom": "same"}

    monkeypatch.setattr(sys.modules[__name__], "_build", fake_build)
    monkeypatch.setattr(sys.modules[__name__], "_dispatch_groups", lambda: ["X86_V3"])
    with pytest.raises(AssertionError, match="mammo-roi without X86_V3"):
        test_small_builds_agree_with_each_dispatch_group_disabled(tmp_path)
    assert calls == [[], ["X86_V3"], []]
