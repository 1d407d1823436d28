"""The exercise-check comparators: right answers pass, wrong ones get specific feedback."""

import numpy as np
import pandas as pd
import pytest

from course_utils import checks


def test_array_right_answer(capsys):
    assert checks.check_array(np.arange(4.0), np.arange(4.0), name="x")
    assert "✅ x: correct." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "expected_text"),
    [
        (np.zeros((2, 3)), "shape is (2, 3), expected (2, 2)"),
        (None, "got None"),
        ("text", "got a str"),
        (np.array([[0, 0], [0, 5.0]]), "1 of 4 elements differ"),
        (np.array([[0, 0], [0, np.nan]]), "NaN"),
    ],
)
def test_array_wrong_answers_say_what_differs(answer, expected_text, capsys):
    assert not checks.check_array(answer, np.zeros((2, 2)), name="x")
    out = capsys.readouterr().out
    assert out.startswith("❌ x:")
    assert expected_text in out


def test_array_dtype_and_masks(capsys):
    assert not checks.check_array(
        np.zeros(3, np.float64), np.zeros(3, np.float32), check_dtype=True
    )
    assert "dtype is float64, expected float32" in capsys.readouterr().out
    assert checks.check_array(np.array([1, 0, 1]), np.array([True, False, True]))
    assert not checks.check_array(np.array([2, 0, 1]), np.array([True, False, True]))
    assert "boolean mask" in capsys.readouterr().out


def test_array_feedback_does_not_reveal_reference(capsys):
    checks.check_array(np.array([1.0, 2.0]), np.array([1.0, 123456.0]))
    assert "123456" not in capsys.readouterr().out


def test_scalar(capsys):
    assert checks.check_scalar(100.04, 100.0, name="area")
    assert not checks.check_scalar(50.0, 100.0, name="area", unit="mm²")
    assert "too low by 50%" in capsys.readouterr().out
    assert not checks.check_scalar(-100.0, 100.0)
    assert "sign is wrong" in capsys.readouterr().out
    assert not checks.check_scalar(float("nan"), 1.0)
    assert not checks.check_scalar([1, 2], 1.0)
    assert not checks.check_scalar("abc", 1.0)
    assert not checks.check_scalar(None, 1.0)
    assert not checks.check_scalar(True, 1.0)


def test_set(capsys):
    assert checks.check_set(["a", "b"], {"b", "a"})
    assert not checks.check_set(["a", "c"], {"a", "b"})
    out = capsys.readouterr().out
    assert "1 expected item(s) missing" in out and "'c'" in out
    assert not checks.check_set("ab", {"a", "b"})


def test_table(capsys):
    expected = pd.Series({"T1w": 3, "T2w": 4})
    assert checks.check_table(pd.Series({"T2w": 4, "T1w": 3}), expected)
    assert not checks.check_table(pd.Series({"T1w": 3, "T2w": 5}), expected)
    assert "values differ" in capsys.readouterr().out
    assert not checks.check_table([3, 4], expected)
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert checks.check_table(frame.copy(), frame)
    assert not checks.check_table(frame[["a"]], frame)
    assert "missing column(s) ['b']" in capsys.readouterr().out


def test_call_student_handles_stubs_and_crashes(capsys):
    def stub(x):
        raise NotImplementedError

    def crashes(x):
        return 1 / 0

    assert checks.call_student(stub, 1, name="f") == (False, None)
    assert "not implemented yet" in capsys.readouterr().out
    assert checks.call_student(crashes, 1, name="f") == (False, None)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert checks.call_student(lambda x: x + 1, 1) == (True, 2)
    assert checks.call_student(42) == (False, None)


def test_lesson00_checks(capsys):
    from course_utils.exercises import lesson00

    image = np.zeros((4, 5), np.uint16)
    image[2, 1] = 9
    assert lesson00.check_memory_bytes(40, image)
    assert not lesson00.check_memory_bytes(30, image)

    def row_col(im):
        return tuple(int(i) for i in np.unravel_index(np.argmax(im), im.shape))

    assert lesson00.check_brightest_pixel(row_col, image)
    # the check also runs the function on an image of its own: a constant answer fails there
    assert not lesson00.check_brightest_pixel(lambda im: (2, 1), image)
    assert not lesson00.check_brightest_pixel(lambda im: row_col(im)[::-1], image)
    assert "(column, row)" in capsys.readouterr().out
