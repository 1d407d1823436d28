"""Lesson-specific exercise checks, one module per lesson (``lesson01`` ... ``lesson07``).

Each check recomputes the reference from the same input the student used and
hands the comparison to :mod:`course_utils.checks`, which prints specific
feedback and returns a boolean.
"""
