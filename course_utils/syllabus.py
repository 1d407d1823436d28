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

__all__ = ["LESSONS", "NOTEBOOK_DIR", "lesson_minutes", "syllabus_table"]

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
