"""Build tooling: what turns the notebooks into a course, not what the lessons import.

- :mod:`course_utils.build.execution`: run notebooks (papermill/nbclient) and report.
- :mod:`course_utils.build.student`: the student version (answers replaced by stubs).
- :mod:`course_utils.build.lecture_slides`: reveal.js lecture slides that work offline.
- :mod:`course_utils.build.site`: the course website (Jupyter Book 1.x, offline).
- ``slide_template/`` and ``vendor/`` (reveal.js, MathJax): their static files.

No lesson and no lesson-helper module imports this sub-package (``tests/test_layout.py``).
"""
