"""Checks of lesson 00: right answers pass, typical wrong answers get a specific message."""

import numpy as np
import pytest
from pydicom.dataset import Dataset

from course_utils.exercises import lesson00 as ex


@pytest.fixture
def header():
    ds = Dataset()
    ds.Rows, ds.Columns, ds.PixelSpacing = 100, 200, [0.5, 0.8]
    return ds


def test_field_of_view_right(header, capsys):
    assert ex.check_field_of_view((50.0, 160.0), header)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, message",
    [
        (None, "not done yet"),
        ((100, 200), "numbers of pixels"),
        ((200.0, 250.0), "divided by the spacing"),
        ((160.0, 50.0), "(width, height)"),
        ((80.0, 100.0), "swapped"),
        ((51.0, 170.0), "does not match"),
        (50.0, "(height, width) pair"),
    ],
)
def test_field_of_view_wrong(answer, message, header, capsys):
    assert not ex.check_field_of_view(answer, header)
    assert message in capsys.readouterr().out


def test_field_of_view_without_spacing_is_an_error():
    ds = Dataset()
    ds.Rows, ds.Columns = 4, 4
    with pytest.raises(ValueError, match="no PixelSpacing"):
        ex.check_field_of_view((1, 1), ds)


def good_fov(header):
    row_mm, col_mm = (float(v) for v in header.PixelSpacing)
    return header.Rows * row_mm, header.Columns * col_mm


def test_field_of_view_function_right(capsys):
    square = Dataset()
    square.Rows, square.Columns, square.PixelSpacing = 128, 128, [0.66, 0.66]
    assert ex.check_field_of_view(good_fov, square)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda h: (h.Rows * h.PixelSpacing[1], h.Columns * h.PixelSpacing[0]), "swapped"),
        (lambda h: good_fov(h)[::-1], "(width, height)"),
        (lambda h: (h.Rows, h.Columns), "numbers of pixels"),
    ],
)
def test_field_of_view_order_mistakes_caught_on_square_pixels(wrong, message, capsys):
    # CT_small.dcm is 128 x 128 with square pixels: only the check's own header tells these apart
    square = Dataset()
    square.Rows, square.Columns, square.PixelSpacing = 128, 128, [0.66, 0.66]
    assert not ex.check_field_of_view(wrong, square)
    assert message in capsys.readouterr().out


def test_memory_and_brightest_checks(capsys):
    image = np.zeros((3, 4), np.uint16)
    image[2, 1] = 9
    assert ex.check_memory_bytes(24, image)
    assert not ex.check_memory_bytes(18, image)
    assert ex.check_brightest_pixel(lambda im: np.unravel_index(np.argmax(im), im.shape), image)
    assert not ex.check_brightest_pixel(lambda im: (1, 2), image)
    assert "(column, row)" in capsys.readouterr().out


def test_brightest_column_row_caught_when_the_maximum_is_on_the_diagonal(capsys):
    image = np.zeros((5, 5))
    image[2, 2] = 1.0  # (row, column) and (column, row) agree here
    swapped = lambda im: np.unravel_index(np.argmax(im), im.shape)[::-1]  # noqa: E731
    assert not ex.check_brightest_pixel(swapped, image)
    assert "(column, row)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda im: np.argmax(im), "flattened array"),
        (lambda im: im.max(), "largest value itself"),
        (lambda im: (int(np.argmax(im.max(axis=1))), 0), "not the brightest"),
    ],
)
def test_brightest_names_the_mistake(wrong, message, capsys):
    image = np.zeros((4, 5))
    image[3, 1] = 2.0
    assert not ex.check_brightest_pixel(wrong, image)
    out = capsys.readouterr().out
    assert message in out and "unravel_index" not in out


def test_memory_getsizeof_and_text(capsys):
    import sys

    image = np.zeros((4, 5), np.uint16)
    assert not ex.check_memory_bytes(sys.getsizeof(image), image)
    assert "getsizeof" in capsys.readouterr().out
    assert not ex.check_memory_bytes("40", image)
    assert "text" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (20 * 12 / 8, "counts the 12 bits"),  # the 12 bits of the values, not the 16 of the dtype
        (20, "number of pixels"),
        (20 * 16, "number of bits"),
        (50, "too high"),
        (None, "not done yet"),
    ],
)
def test_memory_bytes_names_the_mistake_without_the_value(answer, message, capsys):
    image = np.full((4, 5), 4095, dtype=np.uint16)
    assert not ex.check_memory_bytes(answer, image)
    out = capsys.readouterr().out
    assert message in out
    assert (
        "40" not in out and "%" not in out
    )  # neither the answer nor a relative error that reveals it


def test_syllabus_is_one_table_with_each_lessons_own_time():
    from course_utils import syllabus

    table = syllabus.syllabus_table()
    assert list(table.index) == [row[0] for row in syllabus.LESSONS]
    assert table.loc["07", "minutes"] == syllabus.lesson_minutes("07")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        # the flat index divided by the number of rows instead of the number of columns
        (lambda im: divmod(int(np.argmax(im)), im.shape[0]), "dividing by the number of rows"),
        (lambda im: np.where(im == im.max()), "np.where"),
        (lambda im: np.argwhere(im == im.max()), "np.argwhere"),
    ],
)
def test_brightest_names_index_arithmetic_and_where(wrong, message, capsys):
    image = np.zeros((4, 5))
    image[3, 1] = 2.0
    assert not ex.check_brightest_pixel(wrong, image)
    out = capsys.readouterr().out
    assert message in out and "unravel_index" not in out


def test_brightest_argmin_is_not_called_a_division_mistake(capsys):
    # on the lesson's own image, argmin's position equals the rows-division of argmax by chance
    image = np.random.default_rng(0).integers(0, 4096, size=(4, 5), dtype=np.uint16)
    wrong = lambda im: divmod(int(np.argmin(im)), im.shape[1])  # noqa: E731
    assert not ex.check_brightest_pixel(wrong, image)
    out = capsys.readouterr().out
    assert "not the brightest" in out and "number of rows" not in out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (
            lambda h: ((h.Rows - 1) * h.PixelSpacing[0], (h.Columns - 1) * h.PixelSpacing[1]),
            "one pixel short",
        ),
        (
            lambda h: (h.Rows * h.PixelSpacing[0] / 10, h.Columns * h.PixelSpacing[1] / 10),
            "centimetres",
        ),
    ],
)
def test_field_of_view_names_edge_and_unit_mistakes(wrong, message, header, capsys):
    assert not ex.check_field_of_view(wrong, header)
    out = capsys.readouterr().out
    assert message in out and "50" not in out and "160" not in out


def _stated_minutes(number):
    """The minutes a lesson's first cells state in their '**Estimated time:** N minutes' line."""
    import json
    import re

    from course_utils import syllabus

    path = next(syllabus.NOTEBOOK_DIR.glob(f"{number}_*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"][:3]
    text = "".join("".join(cell["source"]) for cell in cells)
    match = re.search(r"Estimated time:\*\*\s*(\d+)\s*minutes", text)
    return float(match.group(1)) if match else None


@pytest.mark.parametrize("number", ["01", "02", "03", "04", "05", "06", "07", "08", "09"])
def test_map_minutes_are_what_each_lesson_says(number):
    from course_utils import syllabus

    assert syllabus.lesson_minutes(number) == _stated_minutes(number)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (20 * 4, "assumes 4 bytes per pixel"),  # an int32/float32 assumption
        (20 * 8, "assumes 8 bytes per pixel"),  # numpy's default int64/float64
        (20 * 1, "number of pixels"),  # 1 byte per pixel is the pixel count: named as such
        (4 * 2, "len() counts the rows"),  # len(image) * itemsize
    ],
)
def test_memory_bytes_names_item_size_and_len_mistakes(answer, message, capsys):
    image = np.zeros((4, 5), dtype=np.uint16)
    assert not ex.check_memory_bytes(answer, image)
    out = capsys.readouterr().out
    assert message in out and "40" not in out and "itemsize is 2" not in out


def test_memory_bytes_names_the_bits_of_the_values(capsys):
    # image.size * 12: the 12 bits the values need, and bits not turned into bytes
    image = np.full((4, 5), 4095, dtype=np.uint16)
    assert not ex.check_memory_bytes(image.size * 12, image)
    out = capsys.readouterr().out
    assert "number of bits" in out and "12 bits the values need" in out
    assert " 40" not in out and "%" not in out  # 240 itself is printed; the answer, 40, is not


@pytest.mark.parametrize(
    ("wrong", "message", "absent"),
    [
        (lambda im: np.unravel_index(np.argmin(im), im.shape), "darkest pixel", "one axis"),
        (lambda im: (int(im.argmax(axis=0)[0]), 0), "along one axis only", "darkest"),
        (lambda im: (0, int(im[0].argmax())), "along one axis only", "darkest"),
        (lambda im: (9, 9), "outside the image", "one axis"),
    ],
)
def test_brightest_names_argmin_and_per_axis_maxima(wrong, message, absent, capsys):
    image = np.random.default_rng(0).integers(0, 4096, size=(4, 5), dtype=np.uint16)
    assert not ex.check_brightest_pixel(wrong, image)
    out = capsys.readouterr().out
    assert message in out and absent not in out


def test_brightest_unrelated_position_gets_no_axis_hint(capsys):
    # brightest at (3, 4); (1, 1) is the maximum of neither its row nor its column
    image = np.arange(20, dtype=float).reshape(4, 5)
    assert not ex.check_brightest_pixel(lambda im: (1, 1), image)
    out = capsys.readouterr().out
    assert "not the brightest" in out and "one axis" not in out and "darkest" not in out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda h: (h.Rows * h.PixelSpacing[0], h.Columns * h.PixelSpacing[0]), "second value"),
        (lambda h: (h.Rows * h.PixelSpacing[1], h.Columns * h.PixelSpacing[1]), "first value"),
    ],
)
def test_field_of_view_names_one_spacing_for_both_axes(wrong, message, capsys):
    square = Dataset()  # square pixels, as in CT_small.dcm: the check's own header catches it
    square.Rows, square.Columns, square.PixelSpacing = 128, 128, [0.66, 0.66]
    assert not ex.check_field_of_view(wrong, square)
    out = capsys.readouterr().out
    assert "same spacing used for both directions" in out and message in out
