"""Helper package for the course *Biomedical Image Analysis in Python*.

The package is deliberately thin: data access (package samples, generated
datasets, manifests, validation of real datasets), I/O helpers the notebooks
reuse, plotting helpers, exercise checks, parallel mapping and the command
line (``python -m course_utils``). The lessons' algorithms live in the
notebooks.

Submodules are imported on demand so that ``import course_utils`` stays fast::

    >>> import course_utils
    >>> course_utils.__version__
    '0.2.0'
"""

from importlib import import_module

__version__ = "0.2.0"

_SUBMODULES = {
    "augment",
    "checks",
    "cli",
    "data",
    "datasets",
    "deid",
    "dicom",
    "exercises",
    "execution",
    "metrics",
    "noise",
    "parallel",
    "plotting",
    "preprocess",
    "scan",
    "series",
    "slides",
    "student",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
