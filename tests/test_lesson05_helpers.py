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


def test_preprocess_dataset_crop_size_sets_the_square_per_case(tmp_path):
    image = np.arange(60 * 40, dtype=float).reshape(60, 40)
    roi = np.zeros(image.shape, bool)
    roi[40:45, 10:15] = True
    sides = {"a": 20, "b": 30}
    log = preprocess.preprocess_dataset(
        {"a": "a", "b": "b"},
        tmp_path,
        load=lambda source: (image, roi),
        image_size=(10, 10),
        crop="roi",
        crop_size=lambda source, img: sides[source],
        progress=False,
    ).set_index("case_id")
    assert log.loc["a", "crop_box"] == "32:52 2:22" and log.loc["b", "crop_box"] == "27:57 0:30"
    fixed = preprocess.preprocess_dataset(
        {"c": "c"}, tmp_path, load=lambda s: (image, roi), crop="roi", crop_size=20, progress=False
    )
    assert fixed.loc[0, "crop_box"] == "32:52 2:22"
    with pytest.raises(ValueError, match="crop_size"):
        preprocess.preprocess_dataset({}, tmp_path, load=lambda s: s, crop_size=20)


def test_preprocess_dataset_stops_on_a_programming_error(tmp_path):
    def load_with_a_typo(source):
        return np.ones((8, 8)) * undefined_name  # noqa: F821

    with pytest.raises(NameError):
        preprocess.preprocess_dataset({"a": 1}, tmp_path, load=load_with_a_typo, progress=False)
