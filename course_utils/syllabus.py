"""The course map: one table of lessons, read by ``00_start_here`` (and any page that lists lessons).

Each lesson is one row of :data:`LESSONS`. A new lesson adds its row here and nowhere else;
its time is read from its own notebook (``metadata.course.estimated_minutes``), so the map
and the lesson can never disagree.

Example
-------
>>> table = syllabus_table()
>>> list(table.columns)
['title', 'what it teaches', 'minutes']
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = [
    "DECLARED_DATASETS",
    "LESSONS",
    "NOTEBOOK_DIR",
    "dataset_lessons",
    "lesson_minutes",
    "lessons_using",
    "syllabus_table",
]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"

#: (lesson number, title, what it teaches), in teaching order.
LESSONS = [
    (
        "01",
        "Intensities and histograms",
        "dtype, bit depth, HU, windowing, histograms, equalisation, masks, filters",
    ),
    (
        "02",
        "Volumes and sampling",
        "DICOM series, voxel spacing, field of view, orthogonal views, resampling, NIfTI",
    ),
    ("03", "DICOM dataset EDA", "header-only scans, labels, quality problems, de-identification"),
    (
        "04",
        "Whole-slide image EDA",
        "pyramidal TIFFs, thumbnails, tissue detection, tiling, patient splits",
    ),
    (
        "05",
        "Cropping and normalisation",
        "bounding boxes, ROI crops, resizing, z-scores, preprocessing pipelines",
    ),
    ("06", "Augmentation", "paired geometric transforms, intensity transforms, seeded pipelines"),
    (
        "07",
        "Denoising",
        "X-ray noise physics, PSNR/SSIM, classical denoisers and BM3D, learned and self-supervised filters",
    ),
    (
        "08",
        "Measurement",
        "labels and objects, sizes in mm² and mm³, distance transforms, the ejection fraction from cine MR",
    ),
    (
        "09",
        "Image comparison and registration",
        "4x4 transforms in mm, resampling by geometry, MSE/NCC/MI, rigid registration by hand and SimpleITK",
    ),
]


def lesson_minutes(lesson: str, notebook_dir: str | Path | None = None) -> float:
    """Estimated minutes of a lesson, from its notebook's ``metadata.course.estimated_minutes``.

    Returns NaN when the notebook is absent or states no time.

    Example
    -------
    >>> import math
    >>> math.isnan(lesson_minutes("99"))
    True
    """
    if not isinstance(lesson, str) or not lesson.isdigit():
        raise ValueError(f"lesson must be a number as text such as '07', got {lesson!r}")
    folder = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    for path in sorted(folder.glob(f"{lesson}_*.ipynb")):
        course = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("course", {})
        if "estimated_minutes" in course:
            return float(course["estimated_minutes"])
    return float("nan")


def syllabus_table(notebook_dir: str | Path | None = None) -> pd.DataFrame:
    """The course map as a table indexed by lesson number: title, what it teaches, minutes.

    Example
    -------
    >>> syllabus_table().loc["07", "title"]
    'Denoising'
    """
    rows = [
        {
            "lesson": number,
            "title": title,
            "what it teaches": teaches,
            "minutes": lesson_minutes(number, notebook_dir),
        }
        for number, title, teaches in LESSONS
    ]
    table = pd.DataFrame(rows).set_index("lesson")
    table["minutes"] = (
        table["minutes"].astype("Int64") if table["minutes"].notna().all() else table["minutes"]
    )
    return table


def lessons_using(*texts: str, notebook_dir: str | Path | None = None) -> list[str]:
    """Numbers of the lessons (01, 02, ...; not 00) with a code cell containing any of ``texts``.

    Example
    -------
    >>> "07" in lessons_using('find_spec("bm3d")')   # doctest: +SKIP
    True
    """
    folder = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    found = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        if path.name.startswith("00"):
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        if any(text in code for text in texts):
            found.append(path.name[:2])
    return found


#: Datasets a lesson reads although its code never names them: reached through ``data_dir`` (a
#: real dataset the lesson accepts) or through a helper's table of files. Declared here;
#: tests/test_environment_check.py checks each against the lesson's own text.
DECLARED_DATASETS = {
    "01": ["skimage-data"],  # microaneurysms.png, through data.INTENSITY_ROLES
    "09": ["rsna-miccai"],  # its data_dir takes an RSNA-MICCAI folder or one patient
}


def dataset_lessons(name: str, notebook_dir: str | Path | None = None) -> list[str]:
    """The lessons that read dataset ``name``: their code names it or one of its manifest's
    files, or :data:`DECLARED_DATASETS` lists it.

    Package samples are opened by file name, generated datasets by their name; the MNI152
    template is reached through ``nifti.mni152_path(``.
    """
    from course_utils import data

    manifest = data.load_manifest(name)
    files = [entry["file"] for entry in manifest.get("files", []) if isinstance(entry, dict)]
    helper = ["mni152_path("] if name == "mni152-template" else []
    found = set(lessons_using(f'"{name}"', *files, *helper, notebook_dir=notebook_dir))
    found |= {lesson for lesson, names in DECLARED_DATASETS.items() if name in names}
    return sorted(found)
