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
