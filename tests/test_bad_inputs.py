"""Bad input (issue 13, part 1): every public function that reads or transforms data answers
every member of the bad-input corpus (tests/bad_inputs.py) with a specific exception whose message
names the file or argument and says what was expected; dataset-wide functions report the bad
members and carry on with the rest.

The expectations are tables: ``FILE_TABLE`` (bad file -> function -> outcome), ``ARRAY_TABLE``
(bad array -> function -> outcome) and ``ARGUMENT_TABLE`` (bad argument values). An outcome is
``raises(ExceptionType, pattern)``, ``reports(pattern)`` for functions that return a record
instead of raising, or ``accepts(reason)`` where the input is legitimate for that function.
``gap=...`` marks a known shortcoming of a module (the test is an expected failure that says
what is missing).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from course_utils import (  # noqa: E402
    augment,
    checks,
    data,
    deid,
    dicom,
    metrics,
    noise,
    plotting,
    preprocess,
    scan,
    series,
    wsi,
)
from tests import bad_inputs  # noqa: E402

KEY = "bad-input-key"
# A message "says what was expected" when it contains one of these.
EXPECTATION = re.compile(
    r"expect|must|need|should|required|replace|pass |use |scale |choose|lower |"
    r"drop |install|not one of|not 0 or 1|stray|only|mask them|crop or resize|divide by zero|"
    r"larger|smaller|positive|non-empty|at least|accepted|give |valid |"
    # or it states what is wrong against an implied expectation ("is not a TIFF", "does not exist")
    r"does not exist|not an existing|is not a|not a |not readable|could not be read|no such|"
    r"has no|holds no|no pixel data|is empty|empty image|out of range|outside|NaN or infinite|"
    r"nothing to",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Outcome:
    kind: str  # "raises", "reports", "accepts"
    exception: type | None = None
    pattern: str = ""
    gap: str = ""
    names: str = ""  # what the message must name, when not the file or the array argument


def raises(exception: type, pattern: str, *, gap: str = "", names: str = "") -> Outcome:
    return Outcome("raises", exception, pattern, gap, names)


def reports(pattern: str, *, gap: str = "") -> Outcome:
    return Outcome("reports", None, pattern, gap)


def accepts(reason: str, *, gap: str = "") -> Outcome:
    return Outcome("accepts", None, reason, gap)


# --------------------------------------------------------------------------- corpus fixtures
@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return bad_inputs.build_files(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    return bad_inputs.build_tables(tmp_path_factory.mktemp("tables"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _check_outcome(outcome: Outcome, call, *, names: str):
    """Run ``call`` and compare with ``outcome``; ``names`` is what the message must mention."""
    if outcome.kind == "raises":
        with pytest.raises(outcome.exception, match="(?s)" + outcome.pattern) as caught:
            call()
        message = str(caught.value)
        names = outcome.names or names
        assert names in message, f"the message does not name {names!r}: {message}"
        assert EXPECTATION.search(message), f"the message does not say what was expected: {message}"
        return None
    result = call()
    if outcome.kind == "reports":
        text = result if isinstance(result, str) else str(result)
        assert re.search(outcome.pattern, text), f"reported {text!r}, expected /{outcome.pattern}/"
    return result


def _params(table: dict, ids_prefix: str = ""):
    params = []
    for (member, function), outcome in table.items():
        marks = (
            [
                pytest.mark.xfail(reason=f"known gap: {outcome.gap}", strict=False),
                pytest.mark.filterwarnings("ignore::RuntimeWarning"),
            ]
            if outcome.gap
            else []
        )
        params.append(
            pytest.param(
                member, function, outcome, id=f"{ids_prefix}{member}-{function}", marks=marks
            )
        )
    return params


# --------------------------------------------------------------------------- files
def _anonymise(path: Path, tmp: Path):
    return deid.anonymise_file(path, tmp / "anon" / path.name, key=KEY)


def _scan_problem(path: Path, tmp: Path) -> str:
    row = scan.scan_file(path)
    return f"readable={row['readable']} problem={row['problem']} error={row['error']}"


FILE_FUNCTIONS = {
    "dicom.read_dicom_image": lambda path, tmp: dicom.read_dicom_image(path),
    "dicom.read_image": lambda path, tmp: dicom.read_image(path),
    "series.load_series": lambda path, tmp: series.load_series([path]),
    "deid.anonymise_file": _anonymise,
    "deid.collect_identities": lambda path, tmp: deid.collect_identities(path),
    "deid.find_identifiers": lambda path, tmp: deid.find_identifiers(path, ["Doe^John"]),
    "scan.scan_file": _scan_problem,
    "wsi.slide_info": lambda path, tmp: wsi.slide_info(path),
    "wsi.slide_record": lambda path, tmp: wsi.slide_record(path)["error"],
    "wsi.read_region": lambda path, tmp: wsi.read_region(
        path, 0, *bad_inputs.corrupt_tile_region()
    ),
    "wsi.read_level": lambda path, tmp: wsi.read_level(path, 0),
    "wsi.thumbnail": lambda path, tmp: wsi.thumbnail(path, 64),
}

_NOT_DICOM = r"is not a DICOM file"

#: (bad file, function) -> expected outcome.
FILE_TABLE: dict[tuple[str, str], Outcome] = {
    # ---- DICOM readers
    ("truncated.dcm", "dicom.read_dicom_image"): raises(ValueError, r"truncated\.dcm.*truncated"),
    ("truncated_header.dcm", "dicom.read_dicom_image"): raises(
        ValueError, r"truncated_header\.dcm has no pixel data"
    ),
    ("no_pixels.dcm", "dicom.read_dicom_image"): raises(
        ValueError, r"no_pixels\.dcm has no pixel data \(CT Image Storage\); expected an image"
    ),
    ("not_dicom.dcm", "dicom.read_dicom_image"): raises(
        ValueError, r"not_dicom\.dcm " + _NOT_DICOM
    ),
    ("empty.dcm", "dicom.read_dicom_image"): raises(ValueError, r"empty\.dcm " + _NOT_DICOM),
    ("jpeg_ls.dcm", "dicom.read_dicom_image"): raises(
        RuntimeError, r"cannot decode the pixels of jpeg_ls\.dcm \(JPEG-LS.*Install the codec"
    ),
    ("missing.dcm", "dicom.read_dicom_image"): raises(
        FileNotFoundError, r"missing\.dcm does not exist"
    ),
    ("a_folder.dcm", "dicom.read_dicom_image"): raises(
        IsADirectoryError, r"a_folder\.dcm is a folder; expected one image file"
    ),
    ("truncated.dcm", "dicom.read_image"): raises(ValueError, r"truncated\.dcm.*truncated"),
    ("no_pixels.dcm", "dicom.read_image"): raises(ValueError, r"no_pixels\.dcm has no pixel data"),
    ("not_dicom.dcm", "dicom.read_image"): raises(ValueError, r"not_dicom\.dcm " + _NOT_DICOM),
    ("empty.dcm", "dicom.read_image"): raises(ValueError, r"empty\.dcm " + _NOT_DICOM),
    ("jpeg_ls.dcm", "dicom.read_image"): raises(RuntimeError, r"jpeg_ls\.dcm \(JPEG-LS"),
    ("empty.png", "dicom.read_image"): raises(
        ValueError, r"empty\.png could not be read as an image"
    ),
    ("not_png.png", "dicom.read_image"): raises(
        ValueError, r"not_png\.png could not be read as an image"
    ),
    ("text.tif", "dicom.read_image"): raises(
        ValueError, r"text\.tif could not be read as an image: TiffFileError: not a TIFF file"
    ),
    ("no_image.tif", "dicom.read_image"): raises(ValueError, r"no_image\.tif holds an empty image"),
    ("truncated.tif", "dicom.read_image"): raises(
        ValueError, r"truncated\.tif could not be read as an image"
    ),
    ("corrupt_tile.tif", "dicom.read_image"): raises(
        ValueError, r"corrupt_tile\.tif could not be read as an image"
    ),
    ("missing.dcm", "dicom.read_image"): raises(FileNotFoundError, r"missing\.dcm does not exist"),
    # ---- series
    ("truncated.dcm", "series.load_series"): raises(ValueError, r"truncated\.dcm"),
    ("truncated_header.dcm", "series.load_series"): raises(
        ValueError, r"no DICOM image among 1 file\(s\) \(truncated_header\.dcm: no pixel data"
    ),
    ("no_pixels.dcm", "series.load_series"): raises(
        ValueError, r"no DICOM image among 1 file\(s\) \(no_pixels\.dcm: no pixel data"
    ),
    ("not_dicom.dcm", "series.load_series"): raises(
        ValueError, r"no DICOM image .*not_dicom\.dcm: not readable as DICOM"
    ),
    ("empty.dcm", "series.load_series"): raises(
        ValueError, r"no DICOM image .*empty\.dcm: not readable as DICOM"
    ),
    ("jpeg_ls.dcm", "series.load_series"): raises(
        RuntimeError,
        r"jpeg_ls\.dcm",
    ),
    ("missing.dcm", "series.load_series"): raises(
        FileNotFoundError, r"missing\.dcm does not exist"
    ),
    # ---- de-identification
    ("truncated.dcm", "deid.anonymise_file"): raises(
        ValueError, r"truncated\.dcm cannot be de-identified \(truncated"
    ),
    ("truncated_header.dcm", "deid.anonymise_file"): accepts(
        "the header that is there parses and has no pixel data, like a non-image object"
    ),
    ("no_pixels.dcm", "deid.anonymise_file"): accepts("non-image DICOM objects are de-identified"),
    ("not_dicom.dcm", "deid.anonymise_file"): raises(ValueError, r"not_dicom\.dcm " + _NOT_DICOM),
    ("empty.dcm", "deid.anonymise_file"): raises(ValueError, r"empty\.dcm " + _NOT_DICOM),
    ("jpeg_ls.dcm", "deid.anonymise_file"): accepts(
        "compressed pixel data are copied untouched: no decoder needed"
    ),
    ("missing.dcm", "deid.anonymise_file"): raises(
        FileNotFoundError, r"missing\.dcm does not exist; expected a DICOM file"
    ),
    ("not_dicom.dcm", "deid.collect_identities"): raises(
        ValueError, r"not_dicom\.dcm " + _NOT_DICOM
    ),
    ("empty.dcm", "deid.collect_identities"): raises(ValueError, r"empty\.dcm " + _NOT_DICOM),
    ("missing.dcm", "deid.collect_identities"): raises(
        FileNotFoundError, r"missing\.dcm does not exist"
    ),
    ("not_dicom.dcm", "deid.find_identifiers"): raises(ValueError, r"not_dicom\.dcm " + _NOT_DICOM),
    ("empty.dcm", "deid.find_identifiers"): raises(ValueError, r"empty\.dcm " + _NOT_DICOM),
    ("missing.dcm", "deid.find_identifiers"): raises(
        FileNotFoundError, r"missing\.dcm does not exist"
    ),
    # ---- header scan: never raises, reports
    ("truncated.dcm", "scan.scan_file"): reports(r"readable=False problem=truncated error=\S"),
    ("truncated_header.dcm", "scan.scan_file"): reports(r"readable=False problem=no pixel data"),
    ("no_pixels.dcm", "scan.scan_file"): reports(r"readable=False problem=no pixel data"),
    ("not_dicom.dcm", "scan.scan_file"): reports(r"readable=False problem=not DICOM"),
    ("empty.dcm", "scan.scan_file"): reports(r"readable=False problem=empty file"),
    ("jpeg_ls.dcm", "scan.scan_file"): reports(r"readable=True problem= "),
    ("text.tif", "scan.scan_file"): reports(r"readable=False problem=not DICOM"),
    ("missing.dcm", "scan.scan_file"): reports(r"readable=False problem=missing file"),
    # ---- slides
    ("text.tif", "wsi.slide_info"): raises(ValueError, r"text\.tif is not a readable TIFF"),
    ("not_dicom.dcm", "wsi.slide_info"): raises(
        ValueError, r"not_dicom\.dcm is not a readable TIFF"
    ),
    ("empty.png", "wsi.slide_info"): raises(ValueError, r"empty\.png is not a readable TIFF"),
    ("no_image.tif", "wsi.slide_info"): raises(ValueError, r"no_image\.tif"),
    ("truncated.tif", "wsi.slide_info"): accepts("the header is intact; pixels are not read"),
    ("corrupt_tile.tif", "wsi.slide_info"): accepts("the header is intact; pixels are not read"),
    ("missing.tif", "wsi.slide_info"): raises(
        FileNotFoundError, r"slide file .*missing\.tif does not exist"
    ),
    ("a_folder.dcm", "wsi.slide_info"): raises(
        IsADirectoryError, r"a_folder\.dcm is a folder; expected a TIFF file"
    ),
    ("text.tif", "wsi.slide_record"): reports(r"^ValueError: text\.tif is not a readable TIFF"),
    ("no_image.tif", "wsi.slide_record"): reports(r"^ValueError: no_image\.tif"),
    ("missing.tif", "wsi.slide_record"): reports(r"^FileNotFoundError: .*missing\.tif"),
    ("text.tif", "wsi.read_region"): raises(ValueError, r"text\.tif is not a readable TIFF"),
    ("no_image.tif", "wsi.read_region"): raises(
        ValueError, r"outside level 0 of no_image\.tif \(0 x 0 px\)"
    ),
    ("truncated.tif", "wsi.read_region"): raises(ValueError, r"truncated\.tif"),
    ("corrupt_tile.tif", "wsi.read_region"): raises(ValueError, r"corrupt_tile\.tif"),
    ("text.tif", "wsi.read_level"): raises(ValueError, r"text\.tif is not a readable TIFF"),
    ("no_image.tif", "wsi.read_level"): raises(ValueError, r"no_image\.tif"),
    ("truncated.tif", "wsi.read_level"): raises(ValueError, r"truncated\.tif"),
    ("corrupt_tile.tif", "wsi.read_level"): raises(ValueError, r"corrupt_tile\.tif"),
    ("text.tif", "wsi.thumbnail"): raises(ValueError, r"text\.tif is not a readable TIFF"),
    ("no_image.tif", "wsi.thumbnail"): raises(ValueError, r"no_image\.tif"),
    ("truncated.tif", "wsi.thumbnail"): raises(ValueError, r"truncated\.tif"),
    ("corrupt_tile.tif", "wsi.thumbnail"): accepts(
        "the thumbnail comes from level 1, whose tiles are intact"
    ),
    ("missing.tif", "wsi.thumbnail"): raises(FileNotFoundError, r"missing\.tif does not exist"),
}


@pytest.mark.parametrize(("member", "function", "outcome"), _params(FILE_TABLE))
def test_bad_file(member, function, outcome, corpus, tmp_path):
    path = corpus[member]
    _check_outcome(outcome, lambda: FILE_FUNCTIONS[function](path, tmp_path), names=member)


def test_the_jpeg_ls_file_really_has_no_decoder(corpus):
    import pydicom

    dataset = pydicom.dcmread(corpus["jpeg_ls.dcm"])
    assert dataset.file_meta.TransferSyntaxUID.name.startswith("JPEG-LS")
    with pytest.raises(Exception, match="missing dependencies|plugin"):
        dataset.pixel_array  # noqa: B018


def test_the_corrupt_tile_only_breaks_its_own_region(corpus):
    """The corrupt tile fails, every other tile of the slide still reads: the damage is local."""
    y, x, height, width = bad_inputs.corrupt_tile_region()
    intact = wsi.read_region(corpus["corrupt_tile.tif"], 0, 0, 0, 64, 64)
    reference = wsi.read_region(corpus["good.tif"], 0, 0, 0, 64, 64)
    assert np.array_equal(intact, reference)
    with pytest.raises(Exception):  # noqa: B017 - the type is the known gap in FILE_TABLE
        wsi.read_region(corpus["corrupt_tile.tif"], 0, y, x, height, width)


def test_truncated_dicom_copy_is_refused_but_the_source_is_untouched(corpus, tmp_path):
    before = corpus["truncated.dcm"].read_bytes()
    with pytest.raises(ValueError, match="cannot be de-identified"):
        _anonymise(corpus["truncated.dcm"], tmp_path)
    assert corpus["truncated.dcm"].read_bytes() == before
    assert not (tmp_path / "anon").exists() or not any((tmp_path / "anon").iterdir())


# --------------------------------------------------------------------------- arrays
_GOOD = bad_inputs.good_image((16, 16))
_RANGE = {"value_range": (0.0, 10.0)}  # the corpus arrays lie in [0, 10]


def _rng():
    return np.random.default_rng(0)


ARRAY_FUNCTIONS = {
    "dicom.window_image": lambda a: dicom.window_image(a, 40, 80),
    "dicom.to_display": lambda a: dicom.to_display(a),
    "wsi.tissue_mask": lambda a: wsi.tissue_mask(a),
    "preprocess.foreground_mask": lambda a: preprocess.foreground_mask(a),
    "preprocess.crop_to_foreground": lambda a: preprocess.crop_to_foreground(a),
    "preprocess.bounding_box": lambda a: preprocess.bounding_box(a),
    "preprocess.resize_image": lambda a: preprocess.resize_image(a, (8, 8)),
    "preprocess.resize_with_padding": lambda a: preprocess.resize_with_padding(a, (8, 8)),
    "preprocess.square_crop_around": lambda a: preprocess.square_crop_around(a, np.ones(a.shape)),
    "preprocess.minmax": lambda a: preprocess.minmax(a),
    "preprocess.percentile_clip": lambda a: preprocess.percentile_clip(a),
    "preprocess.zscore": lambda a: preprocess.zscore(a),
    "preprocess.zscore_stats": lambda a: preprocess.zscore_stats([a]),
    "preprocess.window": lambda a: preprocess.window(a, 0.5, 1.0),
    "preprocess.nonempty_slices": lambda a: preprocess.nonempty_slices(a),
    "preprocess.select_central_slices": lambda a: preprocess.select_central_slices(a, 1),
    "augment.rot90_pair": lambda a: augment.rot90_pair(a),
    "augment.flip_pair": lambda a: augment.flip_pair(a),
    "augment.affine_pair": lambda a: augment.affine_pair(a, angle_deg=10),
    "augment.affine_pair_3d": lambda a: augment.affine_pair_3d(
        a, spacing_mm=(1, 1, 1), angles_deg=(5, 0, 0)
    ),
    "augment.elastic_pair": lambda a: augment.elastic_pair(a, alpha=5, sigma=3, rng=_rng()),
    "augment.random_crop_keeping": lambda a: augment.random_crop_keeping(
        a, np.zeros(a.shape, np.uint8), 1, _rng()
    ),
    "augment.adjust_brightness": lambda a: augment.adjust_brightness(a, 0.1, **_RANGE),
    "augment.adjust_contrast": lambda a: augment.adjust_contrast(a, 1.2, **_RANGE),
    "augment.adjust_gamma": lambda a: augment.adjust_gamma(a, 0.8, **_RANGE),
    "augment.add_gaussian_noise": lambda a: augment.add_gaussian_noise(
        a, 0.1, rng=_rng(), **_RANGE
    ),
    "augment.add_poisson_noise": lambda a: augment.add_poisson_noise(a, 100, rng=_rng(), **_RANGE),
    "augment.gaussian_blur": lambda a: augment.gaussian_blur(a, 1.0, **_RANGE),
    "augment.bias_field": lambda a: augment.bias_field(a, 1.2, rng=_rng(), **_RANGE),
    "metrics.mse": lambda a: metrics.mse(a, a.copy()),
    "metrics.psnr": lambda a: metrics.psnr(a, a.copy(), data_range=1.0),
    "metrics.ssim": lambda a: metrics.ssim(a, a.copy(), data_range=1.0),
    "metrics.mse(good, a)": lambda a: metrics.mse(_GOOD, a),
    "metrics.estimate_noise_sigma": lambda a: metrics.estimate_noise_sigma(a),
    "noise.add_gaussian_noise": lambda a: noise.add_gaussian_noise(a, 0.1, rng=_rng(), **_RANGE),
    "noise.add_poisson_noise": lambda a: noise.add_poisson_noise(a, 100, rng=_rng(), **_RANGE),
    "noise.add_salt_pepper": lambda a: noise.add_salt_pepper(a, 0.1, rng=_rng(), **_RANGE),
    "noise.add_speckle": lambda a: noise.add_speckle(a, 0.1, rng=_rng(), **_RANGE),
    "plotting.show_image": lambda a: plotting.show_image(plt.subplots()[1], a),
    "plotting.image_grid": lambda a: plotting.image_grid([a]),
    "plotting.image_with_histogram": lambda a: plotting.image_with_histogram(a),
    "plotting.orthogonal_views": lambda a: plotting.orthogonal_views(a, (1, 1, 1)),
    "plotting.slice_browser": lambda a: plotting.slice_browser(a, (1, 1, 1)),
}

# The name each function gives its array argument in messages.
ARGUMENT_NAME = {
    "dicom": "values",
    "wsi.tissue_mask": "rgb",
    "preprocess.bounding_box": "mask",
    "preprocess.minmax": "x",
    "preprocess.percentile_clip": "x",
    "preprocess.zscore": "x",
    "preprocess.window": "x",
    "preprocess.zscore_stats": "images[0]",
    "preprocess.nonempty_slices": "volume",
    "preprocess.select_central_slices": "volume",
    "metrics.mse": "reference",
    "metrics.psnr": "reference",
    "metrics.ssim": "reference",
    "metrics.mse(good, a)": "test",
    "plotting.orthogonal_views": "volume",
    "plotting.slice_browser": "volume",
}


def _argument(function: str) -> str:
    return ARGUMENT_NAME.get(function, ARGUMENT_NAME.get(function.split(".")[0], "image"))


def _empty(function):
    return raises(ValueError, rf"{re.escape(_argument(function))} is empty \(shape \(0, 0\)\)")


def _nan(function):
    return raises(ValueError, rf"{re.escape(_argument(function))} contains (256 )?NaN")


def _ndim(function, ndim):
    return raises(ValueError, rf"{re.escape(_argument(function))} has {ndim} dimension")


_CONSTANT = {
    "minmax": raises(ValueError, r"x is constant \([17]\).*divide by zero"),
    "percentile_clip": raises(ValueError, r"percentiles of x are equal \([17]\).*constant"),
    "zscore": raises(ValueError, r"x is constant \(standard deviation 0\).*on_constant='zero'"),
    "zscore_stats": raises(ValueError, r"the images are constant .*divide by zero", names="images"),
}
_NO_FINITE = raises(ValueError, r"has no finite value.*expected")
_NEEDS_3D = raises(ValueError, r"volume must be 3-D \(slice, row, column\), got shape")


def _array_table() -> dict[tuple[str, str], Outcome]:
    table: dict[tuple[str, str], Outcome] = {}
    for function in ARRAY_FUNCTIONS:
        module, name = function.split(".", 1)
        table[("empty", function)] = _empty(function)
        table[("all_nan", function)] = _nan(function)
        table[("constant", function)] = accepts("a constant image is valid input")
        table[("one_pixel", function)] = accepts("a 1 x 1 image is valid input")
        table[("one_d", function)] = _ndim(function, 1)
        table[("four_d", function)] = _ndim(function, 4)
        if module == "noise":  # element-wise: any shape, any ndim
            for member in ("one_d", "four_d"):
                table[(member, function)] = accepts("noise is added element-wise, any shape")
            table[("all_nan", function)] = raises(ValueError, r"image contains NaN or infinite")
            table[("empty", function)] = raises(ValueError, r"image is empty \(shape \(0, 0\)\)")
        if module == "plotting":
            table[("all_nan", function)] = _NO_FINITE
            table[("one_d", function)] = raises(
                ValueError, r"image has shape \(16,\); expected a 2-D"
            )
            table[("four_d", function)] = raises(ValueError, r"image has shape \(2, 3, 8, 8\)")
        if function in ("plotting.orthogonal_views", "plotting.slice_browser"):
            for member in ("empty", "constant", "all_nan", "one_pixel", "one_d"):
                table[(member, function)] = _NEEDS_3D
            table[("four_d", function)] = _NEEDS_3D
        if module == "metrics" and function != "metrics.estimate_noise_sigma":
            for member in ("one_d", "four_d"):
                table[(member, function)] = accepts("mse/psnr compare arrays of any shape")
        if function in ("metrics.ssim",):
            table[("one_pixel", function)] = raises(
                ValueError, r"shape \(1, 1\) are smaller than the SSIM window", names="images"
            )
            for member in ("one_d", "four_d"):
                table[(member, function)] = raises(
                    ValueError, r"ssim needs a 2-D image or 3-D volume, got shape", names="image"
                )
        if function == "metrics.mse(good, a)":
            for member in ("one_pixel", "one_d", "four_d"):
                table[(member, function)] = raises(
                    ValueError, r"reference has shape \(16, 16\) but test has shape .*same shape"
                )
        if function == "metrics.estimate_noise_sigma":
            table[("one_pixel", function)] = raises(
                ValueError, r"image of shape \(1, 1\) is too small"
            )
            table[("one_d", function)] = raises(ValueError, r"image must be 2-D greyscale")
            table[("four_d", function)] = raises(ValueError, r"image must be 2-D greyscale")
        if module == "dicom":  # any shape is a valid set of modality values
            table[("one_d", function)] = accepts("windowing works on any shape")
            table[("four_d", function)] = accepts("windowing works on any shape")
            if function == "dicom.to_display":
                for member in ("constant", "one_pixel"):
                    table[(member, function)] = raises(
                        ValueError, r"the image is constant .*pass centre and width", names="image"
                    )
        if name in _CONSTANT:
            table[("constant", function)] = _CONSTANT[name]
            table[("one_pixel", function)] = _CONSTANT[name]
        if name in ("minmax", "percentile_clip", "window", "zscore", "zscore_stats"):
            table[("one_d", function)] = accepts("normalisation of a 1-D profile is valid")
        if name in ("minmax", "percentile_clip", "zscore_stats"):
            table[("four_d", function)] = accepts("documented for 1-D to 4-D arrays")
        if name == "bounding_box":
            table[("one_d", function)] = accepts("a 1-D mask has a 1-D bounding box")
        if name in ("nonempty_slices", "select_central_slices", "affine_pair_3d"):
            dims = {"constant": 2, "one_pixel": 2, "all_nan": 2, "one_d": 1, "four_d": 4}
            for member, ndim in dims.items():
                table[(member, function)] = raises(
                    ValueError, rf"{_argument(function)} has {ndim} dimension.*expected 3-D"
                )
        if name == "square_crop_around":
            table[("one_d", function)] = raises(ValueError, r"image has 1 dimension.*expected 2-D")
        if module == "augment" and name in (
            "adjust_brightness",
            "adjust_contrast",
            "adjust_gamma",
            "add_gaussian_noise",
            "add_poisson_noise",
            "gaussian_blur",
        ):
            for member in ("one_d", "four_d"):
                table[(member, function)] = accepts("intensity transforms are element-wise")
        if name in ("rot90_pair", "flip_pair"):
            table[("four_d", function)] = accepts("rotations and flips work on any >= 2-D array")
            table[("one_d", function)] = raises(
                ValueError,
                r"image has shape \(16,\); expected at least 2|axis 1 is out of range for an image",
            )
        if name == "random_crop_keeping":
            table[("one_d", function)] = accepts("a crop of any ndim")
            table[("four_d", function)] = accepts("a crop of any ndim")
        if name == "affine_pair":
            table[("four_d", function)] = raises(ValueError, r"image has 4 dimension.*expected 2-D")
        if function == "wsi.tissue_mask":
            table[("all_nan", function)] = raises(
                ValueError,
                r"rgb .*NaN",
            )
            table[("one_d", function)] = raises(
                ValueError, r"rgb has shape \(16,\); expected \(h, w\)"
            )
            table[("four_d", function)] = raises(ValueError, r"rgb has shape \(2, 3, 8, 8\)")
    return table


#: (bad array, function) -> expected outcome.
ARRAY_TABLE = _array_table()


@pytest.mark.parametrize(("member", "function", "outcome"), _params(ARRAY_TABLE))
def test_bad_array(member, function, outcome):
    array = bad_inputs.BAD_ARRAYS[member].copy()
    before = array.copy()
    with np.errstate(all="ignore"):
        _check_outcome(outcome, lambda: ARRAY_FUNCTIONS[function](array), names=_argument(function))
    np.testing.assert_array_equal(array, before, err_msg=f"{function} modified its input")


def test_every_array_function_has_a_row_for_every_member():
    missing = [
        (member, function)
        for function in ARRAY_FUNCTIONS
        for member in bad_inputs.BAD_ARRAYS
        if (member, function) not in ARRAY_TABLE
    ]
    assert not missing


# --------------------------------------------------------------------------- bad arguments
def _fig_ax():
    return plt.subplots()[1]


#: label -> (call, expected outcome, what the message must name).
ARGUMENT_TABLE = {
    "window_image width 0": (
        lambda: dicom.window_image(_GOOD, 0, 0),
        raises(ValueError, r"window width must be a positive finite number, got 0"),
        "width",
    ),
    "to_display MONOCHROME3": (
        lambda: dicom.to_display(_GOOD, "MONOCHROME3"),
        raises(ValueError, r"photometric must be 'MONOCHROME1' or 'MONOCHROME2'"),
        "photometric",
    ),
    "find_images missing folder": (
        lambda: dicom.find_images("/nonexistent/course-folder"),
        raises(FileNotFoundError, r"folder /nonexistent/course-folder does not exist"),
        "course-folder",
    ),
    "scan_headers missing folder": (
        lambda: scan.scan_headers("/nonexistent/course-folder", progress=False),
        raises(FileNotFoundError, r"root /nonexistent/course-folder does not exist; expected"),
        "course-folder",
    ),
    "scan_headers empty list": (
        lambda: scan.scan_headers([], progress=False),
        raises(ValueError, r"root_or_files is an empty list; expected a folder or some files"),
        "root_or_files",
    ),
    "list_files on a file": (
        lambda: scan.list_files(__file__),
        raises(NotADirectoryError, r"is a file; expected a folder of DICOM files"),
        "test_bad_inputs.py",
    ),
    "load_series missing folder": (
        lambda: series.load_series("/nonexistent/course-folder"),
        raises(FileNotFoundError, r"/nonexistent/course-folder does not exist"),
        "course-folder",
    ),
    "anonymise_tree missing folder": (
        lambda: deid.anonymise_tree("/nonexistent/course-folder", "/tmp/x", key=KEY),
        raises(FileNotFoundError, r"src_root /nonexistent/course-folder is not an existing folder"),
        "src_root",
    ),
    "anonymise_file empty key": (
        lambda: deid.anonymise_file(bad_inputs._good_dicom(), "/tmp/never-written.dcm", key=""),
        raises(ValueError, r"key must not be empty"),
        "key",
    ),
    "tissue_mask unknown method": (
        lambda: wsi.tissue_mask(np.zeros((8, 8, 3), np.uint8), method="x"),
        raises(ValueError, r"method must be 'saturation' or 'od', got 'x'"),
        "method",
    ),
    "resize_image zero rows": (
        lambda: preprocess.resize_image(_GOOD, (0, 5)),
        raises(ValueError, r"shape_rc must be \(rows, cols\) with two positive integers"),
        "shape_rc",
    ),
    "resize_image unknown kind": (
        lambda: preprocess.resize_image(_GOOD, (5, 5), kind="x"),
        raises(ValueError, r"kind must be 'image' or 'mask', got 'x'"),
        "kind",
    ),
    "square_crop_around mask of another shape": (
        lambda: preprocess.square_crop_around(_GOOD, np.ones((5, 5), bool)),
        raises(ValueError, r"roi_mask has shape \(5, 5\); expected the image's shape"),
        "roi_mask",
    ),
    "square_crop_around empty ROI": (
        lambda: preprocess.square_crop_around(_GOOD, np.zeros(_GOOD.shape, bool)),
        raises(ValueError, r"roi_mask is empty .*needs an ROI"),
        "roi_mask",
    ),
    "percentile_clip low > high": (
        lambda: preprocess.percentile_clip(_GOOD, 99, 1),
        raises(ValueError, r"percentiles must satisfy 0 <= low < high <= 100"),
        "low",
    ),
    "zscore unknown per": (
        lambda: preprocess.zscore(_GOOD, per="x"),
        raises(ValueError, r"per must be 'volume' or 'slice', got 'x'"),
        "per",
    ),
    "window width 0": (
        lambda: preprocess.window(_GOOD, 0, 0),
        raises(ValueError, r"window width must be positive, got 0"),
        "width",
    ),
    "select_central_slices n 0": (
        lambda: preprocess.select_central_slices(np.zeros((5, 4, 4)), 0),
        raises(ValueError, r"n must be a positive integer, got 0"),
        "n ",
    ),
    "bounding_box negative margin": (
        lambda: preprocess.bounding_box(np.ones((4, 4)), -1),
        raises(ValueError, r"margin must be a non-negative integer"),
        "margin",
    ),
    "zscore_stats no images": (
        lambda: preprocess.zscore_stats([]),
        raises(ValueError, r"images is empty; expected at least one image"),
        "images",
    ),
    "random_crop_keeping size of wrong length": (
        lambda: augment.random_crop_keeping(
            np.zeros(16), np.ones(16, np.uint8), (4, 4), np.random.default_rng(0)
        ),
        raises(ValueError, r"size must be one number or one per axis of the 1-D mask"),
        "size",
    ),
    "psnr negative data_range": (
        lambda: metrics.psnr(_GOOD, _GOOD, data_range=-1),
        raises(ValueError, r"data_range must be a positive finite number, got -1"),
        "data_range",
    ),
    "ssim NaN data_range": (
        lambda: metrics.ssim(_GOOD, _GOOD, data_range=float("nan")),
        raises(ValueError, r"data_range must be a positive finite number, got nan"),
        "data_range",
    ),
    "ssim shapes differ": (
        lambda: metrics.ssim(_GOOD, bad_inputs.good_image((20, 20)), data_range=1),
        raises(ValueError, r"reference has shape \(16, 16\) but test has shape \(20, 20\)"),
        "test",
    ),
    "gaussian noise negative sigma": (
        lambda: noise.add_gaussian_noise(_GOOD, -1),
        raises(ValueError, r"sigma must be >= 0, got -1"),
        "sigma",
    ),
    "salt and pepper amount 2": (
        lambda: noise.add_salt_pepper(_GOOD, 2),
        raises(ValueError, r"amount must be \[0, 1\], got 2"),
        "amount",
    ),
    "noise on an unscaled 8-bit image": (
        lambda: noise.add_gaussian_noise((_GOOD * 255).astype(np.uint8), 0.1),
        raises(ValueError, r"image values span .* outside value_range \[0, 1\]; scale the image"),
        "value_range",
    ),
    "add_scale_bar zero pixel size": (
        lambda: plotting.add_scale_bar(_fig_ax(), 100, 0),
        raises(ValueError, r"pixel_size and length_units must be positive, got 0 and 100"),
        "pixel_size",
    ),
    "orthogonal_views zero spacing": (
        lambda: plotting.orthogonal_views(np.zeros((4, 4, 4)), (1, 0, 1)),
        raises(ValueError, r"spacing_mm must be 3 positive numbers .* in mm, got \(1, 0, 1\)"),
        "spacing_mm",
    ),
    "image_grid no images": (
        lambda: plotting.image_grid([]),
        raises(ValueError, r"image_grid needs at least one image, got an empty sequence"),
        "image",
    ),
    "voxel_to_patient 3 x 3 affine": (
        lambda: series.voxel_to_patient(np.eye(3), (0, 0, 0)),
        raises(ValueError, r"affine must be a 4 x 4 matrix, got shape \(3, 3\)"),
        "affine",
    ),
    "voxel_to_patient 2 indices": (
        lambda: series.voxel_to_patient(np.eye(4), (0, 0)),
        raises(ValueError, r"ijk must have shape \(3,\) or \(N, 3\)"),
        "ijk",
    ),
    "patient_to_voxel singular affine": (
        lambda: series.patient_to_voxel(np.zeros((4, 4)), (0, 0, 0)),
        raises(
            ValueError,
            r"affine",
        ),
        "affine",
    ),
    "patient_to_voxel NaN position": (
        lambda: series.patient_to_voxel(np.eye(4), (np.nan, 0, 0)),
        raises(
            ValueError,
            r"xyz .*NaN|finite",
        ),
        "xyz",
    ),
    "choose_level neither target": (
        lambda: wsi.choose_level({"levels": []}),
        raises(ValueError, r"give exactly one of target_px .* or target_mpp"),
        "target_px",
    ),
    "opencv_code_to_k unknown code": (
        lambda: augment.opencv_code_to_k(7),
        raises(ValueError, r"unknown cv2.rotate code 7; valid codes are 0"),
        "code 7",
    ),
    "balanced_indices no labels": (
        lambda: augment.balanced_indices([], np.random.default_rng(0)),
        raises(ValueError, r"labels must be a non-empty 1-D sequence"),
        "labels",
    ),
    "crop_origin_keeping crop larger than the image": (
        lambda: augment.crop_origin_keeping(
            np.zeros((4, 4), np.uint8), 8, np.random.default_rng(0)
        ),
        raises(ValueError, r"crop size \(8, 8\) is larger than the image \(4, 4\)"),
        "crop size",
    ),
    "crop_origin_keeping float mask": (
        lambda: augment.crop_origin_keeping(np.zeros((4, 4)), 2, np.random.default_rng(0)),
        raises(TypeError, r"mask must hold integer labels"),
        "mask",
    ),
    "affine_matrix of a 1-D shape": (
        lambda: augment.affine_matrix((4,), angle_deg=5),
        raises(ValueError, r"shape must be \(rows, cols\) of a 2-D image"),
        "shape",
    ),
    "elastic_pair without a seeded generator": (
        lambda: augment.elastic_pair(np.zeros((8, 8)), alpha=1, sigma=1, rng=None),
        raises(TypeError, r"rng must be a numpy.random.Generator.*irreproducible"),
        "rng",
    ),
    "Compose pipeline on an all-NaN image": (
        lambda: augment.Compose([augment.Flip()])(
            np.full((8, 8), np.nan), np.zeros((8, 8), np.uint8), rng=np.random.default_rng(0)
        ),
        raises(ValueError, r"image contains 64 NaN or infinite value\(s\); replace them"),
        "image",
    ),
    "natural_key of None": (
        lambda: scan.natural_key(None),
        raises(TypeError, r"name must be a str or path, got NoneType"),
        "name",
    ),
    "sample_path unknown file": (
        lambda: data.sample_path("no-such-file.dcm"),
        raises(KeyError, r"no package sample called 'no-such-file\.dcm'; known samples"),
        "no-such-file.dcm",
    ),
    "sample_path empty name": (
        lambda: data.sample_path(""),
        raises(TypeError, r"filename must be a non-empty string"),
        "filename",
    ),
    "dataset_path unknown dataset": (
        lambda: data.dataset_path("no-such-dataset"),
        raises(KeyError, r"'no-such-dataset' is not a generated dataset; generated:"),
        "no-such-dataset",
    ),
    "dataset_path unknown parameter": (
        lambda: data.dataset_path("ct-phantom", n_colours=3),
        raises(TypeError, r"unknown parameter\(s\) \['n_colours'\] for ct-phantom; accepted"),
        "n_colours",
    ),
    "resolve_data_dir missing folder": (
        lambda: data.resolve_data_dir("/nonexistent/course-folder", default="ct-phantom"),
        raises(FileNotFoundError, r"data_dir /nonexistent/course-folder does not exist"),
        "data_dir",
    ),
    "resolve_data_dir a file": (
        lambda: data.resolve_data_dir(__file__, default="ct-phantom"),
        raises(NotADirectoryError, r"data_dir .*test_bad_inputs\.py is a file; expected a folder"),
        "data_dir",
    ),
    "resolve_output_dir a file": (
        lambda: data.resolve_output_dir(__file__, "13_test"),
        raises(NotADirectoryError, r"output_dir .* is a file; expected a folder"),
        "output_dir",
    ),
    "validate unknown dataset": (
        lambda: data.validate("no-such-dataset", "/tmp"),
        raises(KeyError, r"no validator for 'no-such-dataset'; external datasets:"),
        "no-such-dataset",
    ),
    "validate missing folder": (
        lambda: data.validate("mura", "/nonexistent/course-folder"),
        raises(FileNotFoundError, r"mura: folder /nonexistent/course-folder does not exist"),
        "course-folder",
    ),
    "validate a file": (
        lambda: data.validate("strip-ai", __file__),
        raises(NotADirectoryError, r"strip-ai: .* is a file; expected the dataset's top folder"),
        "test_bad_inputs.py",
    ),
    "load_manifest unknown": (
        lambda: data.load_manifest("no-such-dataset"),
        raises(KeyError, r"no dataset called 'no-such-dataset'; known datasets"),
        "no-such-dataset",
    ),
    "sha256_file missing": (
        lambda: data.sha256_file("/nonexistent/file.bin"),
        raises(FileNotFoundError, r"cannot checksum /nonexistent/file\.bin: no such file"),
        "file.bin",
    ),
    "fingerprint missing folder": (
        lambda: data.fingerprint("/nonexistent/course-folder"),
        raises(FileNotFoundError, r"cannot fingerprint /nonexistent/course-folder: not a folder"),
        "course-folder",
    ),
}


def _argument_params():
    params = []
    for label, (_call, outcome, _names) in ARGUMENT_TABLE.items():
        marks = [pytest.mark.xfail(reason=f"known gap: {outcome.gap}")] if outcome.gap else []
        params.append(pytest.param(label, id=label, marks=marks))
    return params


@pytest.mark.parametrize("label", _argument_params())
def test_bad_argument(label):
    call, outcome, names = ARGUMENT_TABLE[label]
    if outcome.exception is KeyError:  # KeyError's str() adds quotes: check the plain message
        with pytest.raises(KeyError) as caught:
            call()
        message = caught.value.args[0]
        assert re.search(outcome.pattern, message) and names in message, message
        return
    _check_outcome(outcome, call, names=names)


# --------------------------------------------------------------------------- exercise checks
CHECKS = {
    "check_array wrong shape": lambda: checks.check_array(np.zeros((0, 0)), np.zeros((2, 2))),
    "check_array NaN": lambda: checks.check_array(np.full((2, 2), np.nan), np.zeros((2, 2))),
    "check_scalar NaN": lambda: checks.check_scalar(float("nan"), 1.0),
    "check_scalar None": lambda: checks.check_scalar(None, 1.0),
    "check_set None": lambda: checks.check_set(None, {1}),
    "check_table not a table": lambda: checks.check_table("x", pd.DataFrame({"a": [1]})),
    "check_true None": lambda: checks.check_true(None, name="answer", failure="not done"),
}


@pytest.mark.parametrize("label", list(CHECKS))
def test_exercise_checks_answer_bad_input_with_feedback_not_a_crash(label, capsys):
    assert CHECKS[label]() is False
    printed = capsys.readouterr().out
    assert "❌" in printed and len(printed.strip()) > 10, printed


def test_call_student_reports_missing_and_crashing_functions(capsys):
    assert checks.call_student(None, 1) == (False, None)

    def crashes(x):
        raise ZeroDivisionError("division by zero")

    ok, _ = checks.call_student(crashes, 1)
    assert ok is False
    assert "ZeroDivisionError" in capsys.readouterr().out


# --------------------------------------------------------------------------- dataset-wide: report and carry on
GOOD_NAMES = ("good.dcm",)
BAD_DICOM_NAMES = (
    "truncated.dcm",
    "truncated_header.dcm",
    "no_pixels.dcm",
    "not_dicom.dcm",
    "empty.dcm",
)


@pytest.fixture(scope="module")
def mixed_folder(corpus, tmp_path_factory):
    """A folder of DICOM files: two good ones and every bad DICOM member."""
    folder = tmp_path_factory.mktemp("mixed")
    for name in (*GOOD_NAMES, *BAD_DICOM_NAMES, "jpeg_ls.dcm"):
        shutil.copy(corpus[name], folder / name)
    shutil.copy(bad_inputs._good_dicom(), folder / "good2.dcm")
    return folder


def test_scan_headers_reports_each_bad_file_and_reads_the_rest(mixed_folder):
    table = scan.scan_headers(mixed_folder, progress=False).set_index("path")
    expected = {
        "truncated.dcm": "truncated",
        "truncated_header.dcm": "no pixel data",
        "no_pixels.dcm": "no pixel data",
        "not_dicom.dcm": "not DICOM",
        "empty.dcm": "empty file",
    }
    for name, problem in expected.items():
        assert not table.loc[name, "readable"] and table.loc[name, "problem"] == problem, name
        assert table.loc[name, "error"], name
    for name in ("good.dcm", "good2.dcm", "jpeg_ls.dcm"):
        assert table.loc[name, "readable"] and table.loc[name, "rows"] > 0, name


def test_anonymise_tree_skips_bad_files_and_writes_the_rest(mixed_folder, tmp_path):
    before = {p.name: p.read_bytes() for p in mixed_folder.iterdir()}
    report = deid.anonymise_tree(mixed_folder, tmp_path / "anon", key=KEY, progress=False)
    report = report.set_index("path")
    for name in BAD_DICOM_NAMES:
        assert not report.loc[name, "written"] and report.loc[name, "error"].startswith("skipped")
        assert not (tmp_path / "anon" / name).exists()
    for name in ("good.dcm", "good2.dcm", "jpeg_ls.dcm"):
        assert report.loc[name, "written"] and (tmp_path / "anon" / name).is_file()
    assert {p.name: p.read_bytes() for p in mixed_folder.iterdir()} == before


def test_find_images_skips_every_bad_file(corpus, tmp_path):
    for name in (*BAD_DICOM_NAMES, "jpeg_ls.dcm", *bad_inputs.BAD_TIFF, *bad_inputs.BAD_PICTURES):
        shutil.copy(corpus[name], tmp_path / name)
    assert dicom.find_images(tmp_path) == []
    shutil.copy(data.sample_path("693_UNCI.dcm"), tmp_path / "good.dcm")
    assert [p.name for p in dicom.find_images(tmp_path)] == ["good.dcm"]


def test_load_series_skips_stray_files_and_says_so(corpus, tmp_path):
    folder = tmp_path / "series"
    shutil.copytree(data.dataset_path("ct-phantom"), folder, ignore=shutil.ignore_patterns(".*"))
    n_slices = len(list(folder.glob("*.dcm")))
    for name in ("not_dicom.dcm", "empty.dcm", "no_pixels.dcm"):
        shutil.copy(corpus[name], folder / f"zz_{name}")
    loaded = series.load_series(folder)
    assert loaded.volume.shape[0] == n_slices
    skipped = " ".join(loaded.notes)
    for name in ("zz_not_dicom.dcm", "zz_empty.dcm"):
        assert name in skipped, loaded.notes


def test_slide_table_reports_bad_slides_and_describes_the_rest(corpus):
    from course_utils.parallel import parallel_map

    names = ["good.tif", "text.tif", "missing.tif", "corrupt_tile.tif"]
    rows = parallel_map(wsi.slide_record, [corpus[n] for n in names], progress=False)
    by_name = dict(zip(names, rows, strict=True))
    assert by_name["good.tif"]["error"] == "" and by_name["good.tif"]["n_levels"] == 2
    assert by_name["text.tif"]["error"].startswith("ValueError: text.tif is not a readable TIFF")
    assert by_name["missing.tif"]["error"].startswith("FileNotFoundError")


def _case_loader(source):
    if isinstance(source, Path):
        values, _ = dicom.read_image(source)
        return values
    return source


def test_preprocess_dataset_logs_bad_cases_and_writes_the_rest(corpus, tmp_path):
    cases = {
        "good": bad_inputs.good_image((40, 30)),
        "good_file": corpus["good.dcm"],
        "empty": bad_inputs.BAD_ARRAYS["empty"],
        "all_nan": bad_inputs.BAD_ARRAYS["all_nan"],
        "constant": bad_inputs.BAD_ARRAYS["constant"],
        "one_d": bad_inputs.BAD_ARRAYS["one_d"],
        "truncated_file": corpus["truncated.dcm"],
        "not_dicom_file": corpus["not_dicom.dcm"],
    }
    log = preprocess.preprocess_dataset(
        cases, tmp_path, load=_case_loader, image_size=(16, 16), progress=False
    ).set_index("case_id")
    for good in ("good", "good_file"):
        assert log.loc[good, "status"] == "ok", log.loc[good, "error"]
        with np.load(tmp_path / f"{good}.npz") as archive:
            assert archive["image"].shape == (16, 16)
    expected_errors = {
        "empty": r"empty",
        "all_nan": r"NaN",
        "constant": r"constant",
        "one_d": r"dimension",
        "truncated_file": r"truncated\.dcm",
        "not_dicom_file": r"not_dicom\.dcm is not a DICOM file",
    }
    for case, pattern in expected_errors.items():
        assert log.loc[case, "status"] == "failed", case
        assert re.search(pattern, log.loc[case, "error"]), (case, log.loc[case, "error"])
        assert not (tmp_path / f"{case}.npz").exists()
    written_log = pd.read_csv(tmp_path / "preprocessing_log.csv")
    assert len(written_log) == len(cases)


# --------------------------------------------------------------------------- validators and tables
def _copy_subset_rsna(target: Path, corpus) -> Path:
    source = data.dataset_path("brain-mri-study")
    patients = sorted(p.name for p in (source / "train").iterdir() if p.is_dir())[:2]
    for patient in patients:
        shutil.copytree(source / "train" / patient, target / "train" / patient)
    labels = pd.read_csv(source / "train_labels.csv", dtype=str)
    labels = labels[labels["BraTS21ID"].astype(int).isin([int(p) for p in patients])]
    labels.to_csv(target / "train_labels.csv", index=False)
    sequence = sorted((target / "train" / patients[0]).iterdir())[0]
    for number, name in enumerate(("truncated.dcm", "not_dicom.dcm", "empty.dcm"), start=901):
        shutil.copy(corpus[name], sequence / f"Image-{number}.dcm")
    return target


def test_rsna_validator_reports_bad_files_and_labels_and_carries_on(corpus, tables, tmp_path):
    root = _copy_subset_rsna(tmp_path / "rsna", corpus)
    with open(root / "train_labels.csv", "a") as handle:
        handle.write("00002,maybe\n")
    report = data.validate("rsna-miccai", root)
    text = "\n".join(str(finding) for finding in report.errors)
    assert "MGMT_value is not 0 or 1" in text and "'maybe'" in text
    for number in (901, 902, 903):
        assert f"Image-{number}.dcm" in text, text
    assert report.summary["patient folders"] == 2
    assert report.summary["DICOM files checked"] > 100  # the good files were read too
    shutil.copy(tables["rsna_missing_column.csv"], root / "train_labels.csv")
    report = data.validate("rsna-miccai", root)
    assert any("missing column(s) ['MGMT_value']" in f.message for f in report.errors)


def test_strip_ai_validator_reports_bad_slides_and_labels_and_carries_on(corpus, tables, tmp_path):
    root = tmp_path / "strip"
    (root / "train").mkdir(parents=True)
    shutil.copy(corpus["good.tif"], root / "train" / "006388_0.tif")
    shutil.copy(corpus["text.tif"], root / "train" / "00c058_0.tif")
    shutil.copy(tables["strip_bad_labels.csv"], root / "train.csv")
    report = data.validate("strip-ai", root)
    errors = "\n".join(str(finding) for finding in report.errors)
    assert "label 'XYZ' is not one of ['CE', 'LAA']" in errors
    assert "00c058_0.tif: unreadable" in errors
    assert report.summary["slide files"] == 2 and report.summary["rows"] == 2
    assert not any("006388_0" in finding.where for finding in report.errors)
    shutil.copy(tables["strip_missing_column.csv"], root / "train.csv")
    report = data.validate("strip-ai", root)
    assert any("missing column(s) ['image_num', 'label']" in f.message for f in report.errors)


def test_strip_ai_validator_flags_an_empty_slide(corpus, tmp_path):
    root = tmp_path / "strip"
    (root / "train").mkdir(parents=True)
    shutil.copy(corpus["no_image.tif"], root / "train" / "006388_0.tif")
    (root / "train.csv").write_text(
        "image_id,center_id,patient_id,image_num,label\n006388_0,11,006388,0,CE\n"
    )
    report = data.validate("strip-ai", root)
    assert any("holds no image" in str(f) for f in report.errors), report.findings


@pytest.mark.parametrize(
    ("dataset", "table_name", "csv", "pattern"),
    [
        ("strip-ai", "train.csv", "empty.csv", r"train\.csv: missing column\(s\) .*found \[\]"),
        ("strip-ai", "train.csv", "header_only.csv", r"missing column\(s\) \['center_id'"),
        ("rsna-miccai", "train_labels.csv", "empty.csv", r"is empty; expected columns BraTS21ID"),
        (
            "rsna-miccai",
            "train_labels.csv",
            "header_only.csv",
            r"missing column\(s\) \['BraTS21ID'",
        ),
    ],
)
def test_validators_name_what_an_empty_or_wrong_table_lacks(
    dataset, table_name, csv, pattern, tables, tmp_path
):
    (tmp_path / "train").mkdir()
    shutil.copy(tables[csv], tmp_path / table_name)
    report = data.validate(dataset, tmp_path)
    assert not report.ok
    assert any(re.search(pattern, str(finding)) for finding in report.errors), report.findings


def test_cbis_ddsm_validator_reports_bad_rows_and_carries_on(corpus, tmp_path):
    root = tmp_path / "cbis"
    shutil.copytree(data.dataset_path("mammo-roi"), root, ignore=shutil.ignore_patterns(".*"))
    table_path = root / "mass_case_description_train_set.csv"
    table = pd.read_csv(table_path, dtype=str)
    shutil.copy(corpus["not_png.png"], root / table.loc[0, "image file path"])
    table.loc[2, "pathology"] = "UNSURE"
    table.to_csv(table_path, index=False)
    report = data.validate("cbis-ddsm", root)
    errors = [str(finding) for finding in report.errors]
    assert any("line 2: cannot read the header of images/" in e for e in errors), errors
    assert any("'pathology' is 'UNSURE'; expected one of" in e for e in errors), errors
    assert report.summary["rows (abnormalities)"] == 20  # every other row was still checked
    table.drop(columns=["pathology"]).to_csv(table_path, index=False)
    report = data.validate("cbis-ddsm", root)
    assert any("missing required column(s) ['pathology']" in f.message for f in report.errors)


def test_mura_validator_reports_bad_images_and_labels_and_carries_on(corpus, tmp_path):
    root = tmp_path / "mura"
    shutil.copytree(data.dataset_path("bone-xray"), root, ignore=shutil.ignore_patterns(".*"))
    top = root / "MURA-v1.1"
    listed = (top / "train_image_paths.csv").read_text().split()
    shutil.copy(corpus["not_png.png"], root / listed[0])
    (root / listed[1]).write_bytes(b"")
    studies = (top / "train_labeled_studies.csv").read_text().splitlines()
    studies[0] = studies[0].rsplit(",", 1)[0] + ",7"
    (top / "train_labeled_studies.csv").write_text("\n".join(studies) + "\n")
    report = data.validate("mura", root)
    errors = [str(finding) for finding in report.errors]
    assert any("not a PNG file" in e and "25 bytes" in e for e in errors), errors
    assert any("not a PNG file" in e and "0 bytes" in e for e in errors), errors
    assert any("label '7' is not 0 or 1" in e for e in errors), errors
    assert report.summary["valid images listed"] > 0  # the other split was still checked


def test_resolve_data_dir_reports_problems_but_does_not_stop(corpus, tmp_path, capsys):
    root = tmp_path / "strip"
    (root / "train").mkdir(parents=True)
    shutil.copy(corpus["text.tif"], root / "train" / "006388_0.tif")
    (root / "train.csv").write_text(
        "image_id,center_id,patient_id,image_num,label\n006388_0,11,006388,0,CE\n"
    )
    assert data.resolve_data_dir(root, default="clot-slides", external="strip-ai") == root
    printed = capsys.readouterr().out
    assert "problem(s); bad cases will be skipped" in printed and "006388_0.tif" in printed


# --------------------------------------------------------------------------- the summary for the issue
def test_corpus_summary(corpus):
    """How many bad inputs are tried (printed with -s; quoted in the issue's closing note)."""
    n_files = len({member for member, _ in FILE_TABLE})
    n_arrays = len(bad_inputs.BAD_ARRAYS)
    n_cases = len(FILE_TABLE) + len(ARRAY_TABLE) + len(ARGUMENT_TABLE) + len(CHECKS)
    outcomes = {}
    for table in (FILE_TABLE, ARRAY_TABLE):
        for outcome in table.values():
            key = "known gap" if outcome.gap else outcome.kind
            outcomes[key] = outcomes.get(key, 0) + 1
    print(
        f"bad-input corpus: {n_files} bad files, {n_arrays} bad arrays, "
        f"{len(ARGUMENT_TABLE)} bad arguments, {len(CHECKS)} bad answers to checks; "
        f"{n_cases} (input, function) cases; outcomes {outcomes}"
    )
    assert n_files >= 12 and n_arrays == 6
