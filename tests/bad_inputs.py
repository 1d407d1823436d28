"""The bad-input corpus of issue 13, built on the fly (no committed binaries).

:func:`build_files` writes every bad file into a folder and returns ``{name: path}``;
:data:`BAD_ARRAYS` holds the bad in-memory images; :func:`build_tables` writes CSV files with
missing columns or unexpected labels. Good reference members (``good_*``) are included so a
dataset-wide function can be shown to carry on with them.

Each member's name says what is wrong with it:

=========================  ===================================================================
``truncated.dcm``          a CT slice cut in the middle of its pixel data
``truncated_header.dcm``   a CT slice cut inside its header (after the 'DICM' preamble)
``no_pixels.dcm``          a valid DICOM header without PixelData (like a structured report)
``not_dicom.dcm``          a text file with a ``.dcm`` name
``empty.dcm``              0 bytes
``jpeg_ls.dcm``            JPEG-LS lossless pixel data: no installed decoder handles it
``text.tif``               a text file with a ``.tif`` name
``no_image.tif``           a TIFF whose only page has no image data (0 x 0)
``truncated.tif``          a tiled TIFF cut after its header: the tile offsets point past the end
``corrupt_tile.tif``       a 2-level tiled JPEG pyramid with one tile overwritten by garbage
``empty.png``              0 bytes with a ``.png`` name
``not_png.png``            a text file with a ``.png`` name
=========================  ===================================================================
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np

GOOD_DICOM = "CT_small.dcm"  # pydicom's test file: 128 x 128 CT, explicit VR little endian
JPEG_LS_SAMPLE = "MR_small_jpeg_ls_lossless.dcm"

#: Bad DICOM files, in the order the tests list them.
BAD_DICOM = (
    "truncated.dcm",
    "truncated_header.dcm",
    "no_pixels.dcm",
    "not_dicom.dcm",
    "empty.dcm",
    "jpeg_ls.dcm",
)
#: Bad TIFF files.
BAD_TIFF = ("text.tif", "no_image.tif", "truncated.tif", "corrupt_tile.tif")
#: Bad ordinary image files.
BAD_PICTURES = ("empty.png", "not_png.png")

CORRUPT_TILE_INDEX = 5  # which tile of level 0 of corrupt_tile.tif is overwritten
TILE = 64


def _good_dicom() -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file(GOOD_DICOM))


def _jpeg_ls_dicom() -> Path:
    from course_utils import data

    try:
        return data.sample_path(JPEG_LS_SAMPLE)
    except KeyError:  # not in the manifests: take it from pydicom's own test files
        from pydicom.data import get_testdata_file

        return Path(get_testdata_file(JPEG_LS_SAMPLE))


def slide_pixels(height: int = 256, width: int = 384) -> np.ndarray:
    """A smooth RGB test pattern (JPEG-friendly) of shape (height, width, 3), uint8."""
    rows, cols = np.mgrid[0:height, 0:width]
    red = 128 + 100 * np.sin(rows / 23.0)
    green = 128 + 100 * np.cos(cols / 31.0)
    blue = 128 + 60 * np.sin((rows + cols) / 41.0)
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)


def write_pyramid(path: Path, *, levels: int = 2, compression: str = "jpeg") -> Path:
    """A small tiled pyramidal TIFF (SubIFDs, 64 px tiles, 0.5 µm per pixel)."""
    import tifffile

    base = slide_pixels()
    with tifffile.TiffWriter(path) as tif:
        options = {
            "tile": (TILE, TILE),
            "compression": compression,
            "photometric": "rgb",
            "resolution": (20000.0, 20000.0),  # pixels per cm: 0.5 µm per pixel
            "resolutionunit": "CENTIMETER",
        }
        tif.write(base, subifds=levels - 1, **options)
        for level in range(1, levels):
            factor = 2**level
            tif.write(base[::factor, ::factor], subfiletype=1, **options)
    return path


def _corrupt_one_tile(path: Path, index: int) -> None:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        offset = int(page.dataoffsets[index])
        count = int(page.databytecounts[index])
    garbage = bytes((i * 37 + 11) % 256 for i in range(count))
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(garbage)


def build_files(folder: Path) -> dict[str, Path]:
    """Write every bad file (and two good references) into ``folder``; return name -> path."""
    import pydicom
    import tifffile

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    good = folder / "good.dcm"
    shutil.copy(_good_dicom(), good)
    files["good.dcm"] = good
    raw = good.read_bytes()

    files["truncated.dcm"] = folder / "truncated.dcm"
    files["truncated.dcm"].write_bytes(raw[: len(raw) - 128 * 128])  # half the 32 kB of pixels
    files["truncated_header.dcm"] = folder / "truncated_header.dcm"
    files["truncated_header.dcm"].write_bytes(raw[:400])

    dataset = pydicom.dcmread(good)
    del dataset.PixelData
    files["no_pixels.dcm"] = folder / "no_pixels.dcm"
    dataset.save_as(files["no_pixels.dcm"], enforce_file_format=True)

    files["not_dicom.dcm"] = folder / "not_dicom.dcm"
    files["not_dicom.dcm"].write_text("patient list exported from a spreadsheet\nname,id\n")
    files["empty.dcm"] = folder / "empty.dcm"
    files["empty.dcm"].write_bytes(b"")
    files["jpeg_ls.dcm"] = folder / "jpeg_ls.dcm"
    shutil.copy(_jpeg_ls_dicom(), files["jpeg_ls.dcm"])

    files["text.tif"] = folder / "text.tif"
    files["text.tif"].write_text("this is a README, not a slide\n")
    files["no_image.tif"] = folder / "no_image.tif"
    with warnings.catch_warnings():  # tifffile warns that a 0 x 0 image is nonconformant
        warnings.simplefilter("ignore", UserWarning)
        tifffile.imwrite(files["no_image.tif"], np.zeros((0, 0), dtype=np.uint8))
    good_slide = write_pyramid(folder / "good.tif")
    files["good.tif"] = good_slide
    with tifffile.TiffFile(good_slide) as tif:
        first_tile = int(tif.pages[0].dataoffsets[0])
    files["truncated.tif"] = folder / "truncated.tif"
    files["truncated.tif"].write_bytes(good_slide.read_bytes()[: first_tile + 16])
    files["corrupt_tile.tif"] = folder / "corrupt_tile.tif"
    shutil.copy(good_slide, files["corrupt_tile.tif"])
    _corrupt_one_tile(files["corrupt_tile.tif"], CORRUPT_TILE_INDEX)

    files["empty.png"] = folder / "empty.png"
    files["empty.png"].write_bytes(b"")
    files["not_png.png"] = folder / "not_png.png"
    files["not_png.png"].write_text("<html>not an image</html>")
    files["missing.dcm"] = folder / "missing.dcm"  # never created
    files["missing.tif"] = folder / "missing.tif"
    files["a_folder.dcm"] = folder / "a_folder.dcm"
    files["a_folder.dcm"].mkdir()
    return files


def corrupt_tile_region() -> tuple[int, int, int, int]:
    """(y, x, height, width) of the overwritten tile in level-0 pixel coordinates."""
    tiles_across = -(-slide_pixels().shape[1] // TILE)
    row, col = divmod(CORRUPT_TILE_INDEX, tiles_across)
    return row * TILE, col * TILE, TILE, TILE


# --------------------------------------------------------------------------- arrays
def _bad_arrays() -> dict[str, np.ndarray]:
    return {
        "empty": np.zeros((0, 0), dtype=np.float32),
        "constant": np.full((16, 16), 7.0, dtype=np.float32),
        "all_nan": np.full((16, 16), np.nan, dtype=np.float32),
        "one_pixel": np.ones((1, 1), dtype=np.float32),
        "one_d": np.linspace(0.0, 1.0, 16, dtype=np.float32),
        "four_d": np.linspace(0.0, 1.0, 2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8),
    }


#: Bad in-memory images: name -> array. Copy before modifying.
BAD_ARRAYS = _bad_arrays()


def good_image(shape=(32, 32), seed: int = 0) -> np.ndarray:
    """A float32 image in [0, 1] with a bright disc: the reference a bad array is compared with."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    disc = (rows - shape[0] / 2) ** 2 + (cols - shape[1] / 2) ** 2 < (min(shape) / 3) ** 2
    image = 0.2 + 0.6 * disc + 0.05 * rng.standard_normal(shape)
    return np.clip(image, 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- tables
def build_tables(folder: Path) -> dict[str, Path]:
    """CSV files with missing columns or unexpected labels (the dataset tables' failure modes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "rsna_missing_column.csv": "BraTS21ID,label\n00000,1\n",
        "rsna_bad_labels.csv": "BraTS21ID,MGMT_value\n00000,1\n00002,maybe\n",
        "strip_missing_column.csv": "image_id,center_id,patient_id\n006388_0,11,006388\n",
        "strip_bad_labels.csv": "image_id,center_id,patient_id,image_num,label\n"
        "006388_0,11,006388,0,CE\n00c058_0,11,00c058,0,XYZ\n",
        "empty.csv": "",
        "header_only.csv": "image_id,label\n",
    }
    paths = {}
    for name, text in tables.items():
        paths[name] = folder / name
        paths[name].write_text(text)
    return paths
