"""Lesson 00's environment check and dataset map (course_utils.environment, syllabus.lessons_using)."""

from __future__ import annotations

import json

from course_utils import environment, syllabus


def test_lock_versions_applies_markers_and_skips_options(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# generated\n"
        "--index-url https://example.invalid/simple\n"
        "NumPy==2.4.6 ; python_version < '3.0'\n"
        "numpy==2.5.5 ; python_version >= '3.0'\n"
        "scikit_image==0.26.0  # via course-utils\n"
        "\n"
    )
    assert environment.lock_versions(lock) == {"numpy": "2.5.5", "scikit-image": "0.26.0"}
    assert environment.lock_versions(tmp_path / "absent.lock") == {}


def test_check_versions_compares_every_direct_dependency(tmp_path):
    versions = environment.check_versions()
    assert {"numpy", "pydicom", "scipy"} <= set(versions.index)
    assert versions.attrs["summary"].splitlines()[-1].endswith("at their requirements.lock version")
    # a lock pinning an impossible numpy makes exactly that row differ
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "\n".join(f"{name}=={version}" for name, version in versions["installed"].items()).replace(
            f"numpy=={versions.loc['numpy', 'installed']}", "numpy==0.0.1"
        )
    )
    differ = environment.check_versions(lock)
    differ = differ[differ["installed"] != differ["requirements.lock"]]
    assert list(differ.index) == ["numpy"]
    assert "not found" in environment.check_versions(tmp_path / "none.lock").attrs["summary"]


def _notebook(folder, name, code):
    cells = [{"cell_type": "code", "source": [code], "metadata": {}, "outputs": []}]
    cells.append(
        {"cell_type": "markdown", "source": ['"ct-phantom" in prose only'], "metadata": {}}
    )
    (folder / name).write_text(json.dumps({"cells": cells}))


def test_lessons_using_reads_code_cells_only_and_skips_lesson_00(tmp_path):
    _notebook(tmp_path, "00_start_here.ipynb", 'data.dataset_path("ct-phantom")')
    _notebook(tmp_path, "02_volumes.ipynb", 'data.dataset_path("ct-phantom")')
    _notebook(tmp_path, "05_crops.ipynb", "x = 1")
    assert syllabus.lessons_using('"ct-phantom"', notebook_dir=tmp_path) == ["02"]
    assert syllabus.lessons_using('"mammo-roi"', notebook_dir=tmp_path) == []


def test_dataset_lessons_of_the_course():
    assert "02" in syllabus.dataset_lessons("ct-phantom")
    assert "08" in syllabus.dataset_lessons("cardiac-cine")
    assert syllabus.dataset_lessons("rsna-miccai") == ["03", "09"]
    assert "01" in syllabus.dataset_lessons("skimage-data")


# what each declared dataset is called in the lesson that reads it
_DECLARED_AS = {"skimage-data": "microaneurysms", "rsna-miccai": "RSNA-MICCAI"}


def test_declared_datasets_are_named_in_their_lessons():
    for lesson, names in syllabus.DECLARED_DATASETS.items():
        (path,) = sorted(syllabus.NOTEBOOK_DIR.glob(f"{lesson}_*.ipynb"))
        text = path.read_text(encoding="utf-8")
        for name in names:
            assert _DECLARED_AS[name] in text, f"lesson {lesson} never mentions {name}"
