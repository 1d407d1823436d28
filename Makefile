# Biomedical Image Analysis in Python: the course's single entry point.
# Every target creates .venv (with $(PYTHON)) and installs requirements.lock first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.9
PYTEST_ARGS ?=
BM3D ?= 1

.PHONY: help install course test test-extended test-browser lab refresh data student slides site bench lint clean

help:
	@echo "make course   build the sample data, execute every notebook into build/, print a report"
	@echo "make test     run the whole test suite (what CI runs)"
	@echo "make test-extended  the tests outside make test's budget: full data builds on the oldest CPU path, gigapixel slides, lessons on real-shaped folders"
	@echo "make test-browser  the lessons in JupyterLab and the course site, in headless Chromium (screenshots in build/screens/)"
	@echo "make lab      open JupyterLab on notebooks/"
	@echo "make refresh  re-execute the committed notebooks in place (updates their stored outputs)"
	@echo "make data     build the generated datasets into the data cache"
	@echo "make student  write the student version (exercise answers replaced by stubs) to build/student/"
	@echo "make slides   export the lessons as reveal.js slides that work offline into build/slides/"
	@echo "make site     build the course website (Jupyter Book, offline) into build/site/"
	@echo "make bench    side-by-side benchmarks (WSI reads, DICOM scans, the course); report in build/bench/"
	@echo "make lint     ruff on the package, tests and notebooks"
	@echo "Choose the interpreter with PYTHON=python3.12 (used only when .venv is created)."

$(PY):
	@echo "== creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.lock pyproject.toml
	@echo "== installing the pinned stack (requirements.lock)"
	@$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" \
	 && $(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock \
	 && $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e . \
	 || { echo "== uv unavailable: falling back to pip"; \
	      $(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock \
	      && $(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . ; }
	@if [ "$(BM3D)" = "0" ]; then \
	   echo "== BM3D=0: removing the bm3d extra (lesson 07 then skips its BM3D cells)"; \
	   $(VENV)/bin/uv pip uninstall --quiet --python $(PY) bm3d bm4d 2>/dev/null \
	   || $(PY) -m pip uninstall --quiet -y bm3d bm4d; fi
	@$(PY) -c "import course_utils, sys; print('== installed course_utils', course_utils.__version__, 'on Python', sys.version.split()[0])"
	@touch $(STAMP)

install: $(STAMP)
	@if [ "$(BM3D)" = "0" ] && $(PY) -c "import bm3d" 2>/dev/null; then \
	   echo "== BM3D=0: removing the bm3d extra from the existing $(VENV)"; \
	   $(VENV)/bin/uv pip uninstall --quiet --python $(PY) bm3d bm4d 2>/dev/null \
	   || $(PY) -m pip uninstall --quiet -y bm3d bm4d; fi

# Both are thin wrappers: `python -m course_utils course|test` is the same without make (Windows).
course: $(STAMP)
	$(PY) -m course_utils course

test: $(STAMP)
	$(PY) -m course_utils test $(PYTEST_ARGS)

# Tests outside make test's time budget (full builds on the oldest CPU path, gigapixel slides).
test-extended: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -m extended -p no:cacheprovider --durations=10 tests $(PYTEST_ARGS)

# Real-browser checks (Playwright driving the system Chromium; skipped with a hint when absent).
test-browser: $(STAMP)
	$(PY) -m pytest tests/browser -m browser -p no:cacheprovider -v -n 2 --dist loadgroup $(PYTEST_ARGS)

lab: $(STAMP)
	$(PY) -m jupyter lab notebooks/

refresh: $(STAMP)
	$(PY) -m course_utils refresh

data: $(STAMP)
	$(PY) -m course_utils data build

student: $(STAMP)
	$(PY) -m course_utils student

slides: $(STAMP)
	$(PY) -m course_utils slides

site: $(STAMP)
	$(PY) -m course_utils site

bench: $(STAMP)
	$(PY) -m course_utils bench

lint: $(STAMP)
	$(PY) -m ruff check course_utils tests benchmarks notebooks
	$(PY) -m ruff format --check course_utils tests benchmarks

clean:
	rm -rf build .pytest_cache .ruff_cache
