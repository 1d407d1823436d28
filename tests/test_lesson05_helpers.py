"""What lesson 05 added to the shared helpers: padding side, breast-only statistics, touching residue."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import preprocess
from course_utils.datasets import mammo


def test_resize_with_padding_anchor_puts_the_padding_on_the_other_side():
    image = np.ones((40, 20))
    left, (_, (top, pad_left)) = preprocess.resize_with_padding(
        image, (20, 20), anchor="left", return_transform=True
    )
    assert pad_left == 0 and left[:, :10].all() and not left[:, 10:].any() and top == 0
    right = preprocess.resize_with_padding(image, (20, 20), anchor="right")
    assert right[:, 10:].all() and not right[:, :10].any()
    centre = preprocess.resize_with_padding(image, (20, 20))
    assert centre[:, 5:15].all() and not centre[:, :5].any()  # the default is unchanged
    with pytest.raises(ValueError, match="anchor"):
        preprocess.resize_with_padding(image, (20, 20), anchor="top")


def test_preprocess_dataset_takes_statistics_from_the_stats_mask(tmp_path):
    rng = np.random.default_rng(0)
    image = np.full((64, 40), 100.0)
    tissue = np.zeros(image.shape, bool)
    tissue[8:56, :25] = True
    image[tissue] = rng.normal(1000.0, 50.0, int(tissue.sum()))
    roi = np.zeros(image.shape, bool)
    roi[30:34, 10:14] = True
    log = preprocess.preprocess_dataset(
        {"a": (image, roi, tissue), "b": (image, roi)},
        tmp_path,
        load=lambda source: source,
        image_size=(32, 32),
        crop="none",
        pad_anchor="left",
        progress=False,
    )
    assert (log["status"] == "ok").all(), log["error"].tolist()
    masked, unmasked = (np.load(tmp_path / f"{k}.npz")["image"] for k in "ab")
    small_tissue = (
        preprocess.resize_with_padding(
            tissue.astype(np.uint8), (32, 32), kind="mask", anchor="left"
        )
        > 0
    )
    assert abs(masked[small_tissue].mean()) < 0.05 and abs(masked[small_tissue].std() - 1) < 0.05
    assert unmasked[small_tissue].mean() > 0.3  # background pulled the mean down
    assert not masked[:, -4:].any() or np.allclose(masked[:, -4:], masked[0, -1])  # padding right


def test_preprocess_dataset_refuses_an_empty_stats_mask(tmp_path):
    image = np.arange(64.0).reshape(8, 8)
    log = preprocess.preprocess_dataset(
        {"a": (image, None, np.zeros((8, 8), bool))},
        tmp_path,
        load=lambda source: source,
        image_size=(4, 4),
        crop="none",
        progress=False,
    )
    assert log.loc[0, "status"] == "failed" and "stats_mask holds no pixel" in log.loc[0, "error"]


def test_render_case_residue_touches_keeps_the_anatomy_and_reaches_the_breast():
    kwargs = dict(height=400, width=240, view="MLO", seed=103)
    clear = mammo.render_case(**kwargs)
    touching = mammo.render_case(**kwargs, residue_touches=True)
    assert np.array_equal(clear[2]["breast_mask"], touching[2]["breast_mask"])
    assert np.array_equal(clear[1], touching[1])  # same lesion
    assert touching[2]["residue_mask"].sum() > clear[2]["residue_mask"].sum()
    assert not (clear[2]["residue_mask"] & clear[2]["breast_mask"]).any()
    assert (touching[2]["residue_mask"] & touching[2]["breast_mask"]).any()
