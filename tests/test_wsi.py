"""Tests of course_utils.wsi: headers, levels, region reads, thumbnails, tissue masks."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from course_utils import wsi
from course_utils.datasets.clot_slides import write_slide


@pytest.fixture(scope="module")
def pyramid_slide(tmp_path_factory):
    path = tmp_path_factory.mktemp("slides") / "pyramid.tif"
    write_slide(path, 1300, 1700, seed=3, centre_id=7, label="CE", tile_px=128)
    return path


@pytest.fixture(scope="module")
def flat_slide(tmp_path_factory):
    path = tmp_path_factory.mktemp("slides") / "flat.tif"
    write_slide(path, 700, 900, seed=4, centre_id=3, label="LAA", pyramid=False, tile_px=128)
    return path


def _rgb(height, width, seed=0):
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), 238, np.uint8)
    image[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = (190, 60, 80)
    return np.clip(image + rng.integers(-3, 4, image.shape), 0, 255).astype(np.uint8)


def test_slide_info_pyramid(pyramid_slide):
    info = wsi.slide_info(pyramid_slide)
    assert (info["width"], info["height"]) == (1700, 1300)
    assert info["pyramid"] and info["n_levels"] == 2
    assert info["levels"][1]["downsample"] == pytest.approx(4.0, rel=0.01)
    assert info["mpp"] == pytest.approx(0.5) and info["mpp_source"] == "resolution tags"
    assert info["levels"][1]["mpp"] == pytest.approx(2.0, rel=0.01)
    assert info["tile_size"] == (128, 128) and info["compression"] == "jpeg"


def test_slide_info_reads_no_pixels(pyramid_slide, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("slide_info decoded pixels")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", refuse)
    assert wsi.slide_info(pyramid_slide)["n_levels"] == 2


def test_choose_level(pyramid_slide):
    info = wsi.slide_info(pyramid_slide)
    assert wsi.choose_level(info, target_px=300) == 1
    assert wsi.choose_level(info, target_px=425) == 1  # exactly level 1's longer side
    assert wsi.choose_level(info, target_px=426) == 0
    assert wsi.choose_level(info, target_px=10_000) == 0
    assert wsi.choose_level(info, target_mpp=1.0) == 0
    assert wsi.choose_level(info, target_mpp=2.0) == 1
    with pytest.raises(ValueError, match="exactly one"):
        wsi.choose_level(info)
    with pytest.raises(ValueError, match="target_px"):
        wsi.choose_level(info, target_px=0)
    with pytest.raises(ValueError, match="microns per pixel"):
        wsi.choose_level({**info, "mpp": None}, target_mpp=1.0)


def test_region_equals_crop_of_full_level(pyramid_slide):
    full = tifffile.imread(pyramid_slide, key=0)
    region = wsi.read_region(pyramid_slide, 0, 130, 250, 300, 400)
    np.testing.assert_array_equal(region, full[130:430, 250:650])
    edge = wsi.read_region(pyramid_slide, 0, 1200, 1600, 500, 500)  # clipped like numpy slicing
    np.testing.assert_array_equal(edge, full[1200:, 1600:])
    level1 = tifffile.imread(pyramid_slide, key=1)
    np.testing.assert_array_equal(
        wsi.read_region(pyramid_slide, 1, 10, 20, 50, 60), level1[10:60, 20:80]
    )


def test_region_bad_input(pyramid_slide, tmp_path):
    with pytest.raises(ValueError, match="levels 0..1"):
        wsi.read_region(pyramid_slide, 5, 0, 0, 10, 10)
    with pytest.raises(ValueError, match="non-negative"):
        wsi.read_region(pyramid_slide, 0, -1, 0, 10, 10)
    with pytest.raises(ValueError, match="outside level 0"):
        wsi.read_region(pyramid_slide, 0, 5000, 0, 10, 10)
    with pytest.raises(ValueError, match="positive"):
        wsi.read_region(pyramid_slide, 0, 0, 0, 0, 10)
    with pytest.raises(FileNotFoundError, match="missing.tif"):
        wsi.read_region(tmp_path / "missing.tif", 0, 0, 0, 10, 10)
    not_tiff = tmp_path / "note.tif"
    not_tiff.write_text("not a tiff")
    with pytest.raises(ValueError, match="not a readable TIFF"):
        wsi.slide_info(not_tiff)


def test_memory_guard_refuses_large_reads(pyramid_slide):
    with pytest.raises(wsi.SlideTooLargeError, match=r"6\.3 MiB.*limit of 1\.0 MiB.*lower level"):
        wsi.read_level(pyramid_slide, 0, max_bytes=1 << 20)
    with pytest.raises(MemoryError, match="max_bytes"):
        wsi.read_region(pyramid_slide, 0, 0, 0, 1000, 1000, max_bytes=1 << 20)
    assert wsi.read_level(pyramid_slide, -1).shape == (325, 425, 3)


def test_thumbnail_from_pyramid_uses_area(pyramid_slide):
    import cv2

    thumb = wsi.thumbnail(pyramid_slide, 200)
    assert thumb.shape == (153, 200, 3) and thumb.dtype == np.uint8
    level1 = tifffile.imread(pyramid_slide, key=1)
    np.testing.assert_array_equal(
        thumb, cv2.resize(level1, (200, 153), interpolation=cv2.INTER_AREA)
    )


def test_thumbnail_without_pyramid_is_blockwise(flat_slide):
    info = wsi.slide_info(flat_slide)
    assert not info["pyramid"] and info["n_levels"] == 1
    whole = wsi.thumbnail(flat_slide, 300)
    blockwise = wsi.thumbnail(flat_slide, 300, max_bytes=200_000, block_px=128)
    assert whole.shape == blockwise.shape == (233, 300, 3)
    assert np.abs(whole.astype(int) - blockwise.astype(int)).mean() < 2.0


def test_striped_untiled_slide(tmp_path):
    image = _rgb(300, 500)
    path = tmp_path / "striped.tif"
    tifffile.imwrite(path, image, photometric="rgb", rowsperstrip=16, compression="lzw")
    info = wsi.slide_info(path)
    assert not info["tiled"] and info["tile_size"] is None and info["mpp"] is None
    np.testing.assert_array_equal(wsi.read_region(path, 0, 20, 30, 40, 50), image[20:60, 30:80])
    assert wsi.thumbnail(path, 100, max_bytes=50_000, block_px=64).shape == (60, 100, 3)
    uncompressed = tmp_path / "plain.tif"
    tifffile.imwrite(uncompressed, image, photometric="rgb")  # one strip: memory-mapped
    np.testing.assert_array_equal(wsi.read_region(uncompressed, 0, 5, 6, 7, 8), image[5:12, 6:14])


def test_rgba_and_greyscale_slides(tmp_path):
    rgba = np.dstack([_rgb(200, 260), np.full((200, 260), 255, np.uint8)])
    rgba_path = tmp_path / "rgba.tif"
    tifffile.imwrite(rgba_path, rgba, photometric="rgb", tile=(64, 64), extrasamples=["unassalpha"])
    assert wsi.slide_info(rgba_path)["samples"] == 4
    assert wsi.thumbnail(rgba_path, 130).shape == (100, 130, 3)
    assert wsi.read_region(rgba_path, 0, 0, 0, 10, 10).shape == (10, 10, 4)
    grey = (np.arange(200 * 260).reshape(200, 260) % 65535).astype(np.uint16)
    grey_path = tmp_path / "grey.tif"
    tifffile.imwrite(grey_path, grey, tile=(64, 64))
    thumb = wsi.thumbnail(grey_path, 130)
    assert thumb.shape == (100, 130) and thumb.dtype == np.uint8
    assert wsi.slide_record(grey_path)["samples"] == 1


def test_tiny_slide(tmp_path):
    path = tmp_path / "tiny.tif"
    tifffile.imwrite(path, _rgb(3, 5), photometric="rgb")
    assert wsi.thumbnail(path, 512).shape == (3, 5, 3)  # never enlarged
    assert wsi.slide_info(path)["n_levels"] == 1
    assert wsi.tissue_mask(wsi.thumbnail(path, 512)).shape == (3, 5)


def test_mpp_from_aperio_description(tmp_path):
    path = tmp_path / "aperio.tif"
    description = "Aperio Image Library v12.0.15\r\n400x300 [0,0 400x300] (256x256) JPEG/RGB Q=70|AppMag = 20|MPP = 0.4990"
    tifffile.imwrite(
        path,
        _rgb(300, 400),
        photometric="rgb",
        tile=(256, 256),
        compression="jpeg",
        description=description,
    )
    info = wsi.slide_info(path)
    assert info["mpp"] == pytest.approx(0.499) and info["mpp_source"] == "description"


def test_slide_record_never_raises(tmp_path):
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + b"\x00" * 10)
    record = wsi.slide_record(broken)
    assert record["image_id"] == "broken" and record["error"]


def test_tissue_mask():
    image = _rgb(80, 80)
    mask = wsi.tissue_mask(image)
    assert mask.dtype == bool and 0.2 < mask.mean() < 0.33
    assert not wsi.tissue_mask(np.full((50, 50, 3), 240, np.uint8)).any()  # empty glass
    pale = _rgb(80, 80)
    pale[20:60, 20:40] = (232, 190, 205)  # pale pink fibrin next to saturated red cells
    assert wsi.tissue_mask(pale)[25:55, 25:35].all()
    transparent = np.dstack([image, np.zeros((80, 80), np.uint8)])
    assert not wsi.tissue_mask(transparent).any()
    grey = np.full((60, 60), 235, np.uint8)
    grey[20:40, 20:40] = 90
    assert wsi.tissue_mask(grey)[25:35, 25:35].all()
    with pytest.raises(ValueError, match="empty"):
        wsi.tissue_mask(np.zeros((0, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        wsi.tissue_mask(np.zeros((4, 4, 4, 4)))
    with pytest.raises(ValueError, match="method"):
        wsi.tissue_mask(image, method="hue")


def test_level_box_aligns_levels_whose_sides_are_not_multiples_of_4(tmp_path):
    # 1030 x 1439 px: level 1 is 257 x 359 px (floor of a 4x shrink), so the rounded
    # width ratio 1439 / 359 = 4.008 is not the scale, and it differs from 1030 / 257
    import cv2

    path = tmp_path / "odd.tif"
    write_slide(path, 1030, 1439, seed=5, centre_id=2, tile_px=128)
    info = wsi.slide_info(path)
    lv = info["levels"][1]
    assert (lv["height"], lv["width"]) == (257, 359)
    assert (lv["scale_y"], lv["scale_x"]) == (4.0, 4.0)
    assert lv["downsample"] != 4.0  # the rounded width ratio is not the scale
    boxes = wsi.level_box(info, 1, 0, 0, 1030, 1439)
    assert boxes == {"level": (0, 0, 257, 359), "level0": (0, 0, 1028, 1436)}
    inner = wsi.level_box(info, 1, 401, 602, 300, 500)  # corners off the 4-px grid
    assert inner["level0"][:2] == (404, 604)
    y, x, h, w = inner["level"]
    assert (y * 4, x * 4, h * 4, w * 4) == inner["level0"]

    def area_view(level0_box):
        pixels = wsi.read_region(path, 0, *level0_box).astype(np.float32)
        return cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)

    def score(a, b):
        return 10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2))

    pyramid = wsi.read_region(path, 1, *inner["level"]).astype(np.float32)
    aligned = score(pyramid, area_view(inner["level0"]))
    # the same level box against level 0 shifted by one level-0 pixel
    shifted = score(pyramid, area_view((405, 605, 4 * h, 4 * w)))
    assert aligned > shifted + 1.0
    factor = lv["downsample"]
    old_top, old_left = int(inner["level0"][0] / factor), int(inner["level0"][1] / factor)
    assert (old_top, old_left) != (y, x)  # the old mapping lands on another level pixel
