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
        ((160.0, 50.0), "does not match"),
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


def test_memory_and_brightest_checks(capsys):
    image = np.zeros((3, 4), np.uint16)
    image[2, 1] = 9
    assert ex.check_memory_bytes(24, image)
    assert not ex.check_memory_bytes(18, image)
    assert ex.check_brightest_pixel(lambda im: (2, 1), image)
    assert not ex.check_brightest_pixel(lambda im: (1, 2), image)
    assert "(column, row)" in capsys.readouterr().out


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
