"""The dataset-wide jobs give the same table serially, in a process pool and on a dask cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import data, wsi
from course_utils.parallel import parallel_map


def thumbnail_job(path: str) -> dict:
    """Per-slide job as lesson 04 runs it: header facts plus a small thumbnail summary."""
    row = wsi.slide_record(path)
    if not row["error"]:
        thumb = wsi.thumbnail(path, 64)
        row["thumb_shape"] = "x".join(map(str, thumb.shape))
        row["thumb_mean"] = float(np.round(thumb.mean(), 6))
    return row


@pytest.fixture(scope="module")
def slide_paths():
    folder = data.dataset_path("clot-slides")
    paths = sorted(str(p) for p in (folder / "train").glob("*.tif"))[:6]
    assert paths, "clot-slides has no slides"
    return paths + [
        str(folder / "train" / "missing_slide.tif")
    ]  # a bad member is reported, not fatal


@pytest.mark.slow
def test_per_slide_thumbnail_job_is_identical_on_every_scheduler(slide_paths):
    serial = pd.DataFrame(
        parallel_map(thumbnail_job, slide_paths, scheduler="serial", progress=False)
    )
    assert serial["error"].iloc[-1].startswith("FileNotFoundError")
    assert (serial["error"].iloc[:-1] == "").all()
    for scheduler in ("processes", "dask-local"):
        other = pd.DataFrame(
            parallel_map(
                thumbnail_job, slide_paths, scheduler=scheduler, n_workers=2, progress=False
            )
        )
        pd.testing.assert_frame_equal(serial, other, obj=f"{scheduler} table")


@pytest.mark.slow
def test_header_scan_on_a_dask_cluster_given_by_address():
    """A real scheduler address (tcp://127.0.0.1:port), as a practitioner passes it to lesson 03."""
    from distributed import LocalCluster

    from course_utils.scan import scan_headers

    folder = data.dataset_path("brain-mri-study") / "train"
    files = sorted(p for p in folder.rglob("*") if p.is_file())[:120]
    serial = scan_headers(files, root=folder, scheduler="serial", progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        on_cluster = scan_headers(
            files, root=folder, scheduler=cluster.scheduler_address, progress=False
        )
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    pd.testing.assert_frame_equal(serial, on_cluster)
