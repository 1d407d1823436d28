"""Command line of the course: ``python -m course_utils COMMAND`` (alias: ``course``).

Commands
--------
``run [NOTEBOOK ...] [-p NAME VALUE ...] [--data-dir DIR] [--output-dir DIR] [--html]``
    Execute notebooks with papermill into ``build/executed/`` and print a table
    (notebook, status, seconds, peak memory). Exit 1 if any notebook fails.
``refresh [NOTEBOOK ...]``
    Re-execute committed notebooks in place with default parameters.
``student [NOTEBOOK ...] [--out DIR]``
    Write the student version (exercise answers replaced by stubs) into ``build/student/``.
``slides [NOTEBOOK ...] [--out DIR]``
    Export the lessons as reveal.js slides that work offline into ``build/slides/``.
``site [--out DIR]``
    Build the course website (Jupyter Book) into ``build/site/``, offline.
``bench [--only wsi dicom course] [--quick]``
    Side-by-side benchmarks, report in ``build/bench/``.
``data list | build [NAME ...] | verify | validate NAME PATH``
    Datasets: list them, build the generated ones, verify checksums and
    fingerprints, validate a real dataset folder against its manifest.

Example
-------
$ python -m course_utils run 01 -p seed 3
$ python -m course_utils data validate rsna-miccai /data/rsna-miccai
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import yaml

from course_utils.data import COURSE_ROOT


def _parse_value(text: str):
    """Interpret a -p value like papermill does: YAML scalars (3, 0.5, null, [1, 2]) or a string."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def default_jobs() -> int:
    """Notebooks run side by side by ``run``/``course``: one per core, at most two.

    More kernels than cores only adds memory; two keeps the peak near 1 GB.
    """
    return max(1, min(2, os.cpu_count() or 1))


def _cmd_run(args) -> int:
    from course_utils.build.execution import (
        discover_notebooks,
        find_notebook,
        format_table,
        render_html,
        run_notebook,
    )

    notebooks = (
        [find_notebook(name) for name in args.notebooks] if args.notebooks else discover_notebooks()
    )
    if not notebooks:
        print("no notebooks found in notebooks/")
        return 1
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    if args.data_dir is not None:
        if len(notebooks) > 1:
            print(
                "note: --data-dir applies to every notebook named; each lesson expects its own dataset layout"
            )
        parameters["data_dir"] = str(Path(args.data_dir).expanduser().resolve())
    if args.output_dir is not None:
        parameters["output_dir"] = str(Path(args.output_dir).expanduser().resolve())
    out_dir = Path(args.out)
    print(
        f"== executing {len(notebooks)} notebook(s) into {out_dir}/ "
        + (f"with {parameters}" if parameters else "with default parameters")
    )
    jobs = max(1, min(args.jobs or default_jobs(), len(notebooks)))

    def execute(notebook):
        run = run_notebook(notebook, out_dir / notebook.name, parameters=parameters)
        if run.status != "ok":
            print(f"   {notebook.stem} {run.status}: {run.error}", flush=True)
        else:
            print(f"   {notebook.stem} ok ({run.seconds:.0f} s)", flush=True)
            if args.html:
                render_html(run.output, Path(args.html_dir))
        return run

    # Each notebook runs in its own kernel process; a kernel mostly uses one core, so on a
    # 2-core machine two notebooks side by side take about half the time.
    print(f"   {jobs} at a time: " + ", ".join(n.stem for n in notebooks), flush=True)
    start = time.perf_counter()
    if jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(jobs) as pool:
            runs = list(pool.map(execute, notebooks))  # course order, whatever finishes first
    else:
        runs = [execute(notebook) for notebook in notebooks]
    wall = time.perf_counter() - start
    print()
    print(format_table(runs))
    print(f"wall time {wall:.1f} s for {len(runs)} notebook(s), {jobs} at a time")
    failed = [run for run in runs if run.status != "ok"]
    if args.html:
        print(f"\nHTML pages: {args.html_dir}/")
    if failed:
        print(f"\n{len(failed)} notebook(s) failed:")
        for run in failed:
            print(f"  {run.name}: {run.error}")
            print(f"    executed copy with the error: {run.output}")
        return 1
    print(f"\nAll {len(runs)} notebooks ran. Executed copies: {out_dir}/")
    return 0


def _cmd_refresh(args) -> int:
    from course_utils.build.execution import (
        discover_notebooks,
        find_notebook,
        format_table,
        refresh_notebook,
    )

    notebooks = (
        [find_notebook(name) for name in args.notebooks] if args.notebooks else discover_notebooks()
    )
    runs = []
    for notebook in notebooks:
        print(f"   refreshing {notebook.name} ...", flush=True)
        run = refresh_notebook(notebook)
        runs.append(run)
        if run.status != "ok":
            print(f"   {notebook.name}: {run.error}")
    print(format_table(runs))
    return 1 if any(run.status != "ok" for run in runs) else 0


def _cmd_data(args) -> int:
    from course_utils import data

    if args.data_command == "list":
        table = data.list_datasets()
        with_pd_options(lambda: print(table.to_string(index=False)))
        return 0
    if args.data_command == "build":
        from course_utils.datasets import GENERATED

        names = args.names or list(GENERATED)
        unknown = [n for n in names if n not in GENERATED]
        if unknown:
            print(
                f"unknown generated dataset(s) {unknown}; choose from {list(GENERATED)}",
                file=sys.stderr,
            )
            return 2
        print(f"== building generated datasets into {data.cache_root()}/")
        todo = [n for n in names if args.rebuild or not data.is_built(n)]
        workers = min(len(todo), os.cpu_count() or 1, 2)
        if workers > 1:  # the builds are independent and single-threaded: two at a time
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(workers) as pool:
                seconds = pool.map(_timed_build, todo, [args.rebuild] * len(todo))
                timed = dict(zip(todo, seconds, strict=True))
        else:
            timed = {name: _timed_build(name, args.rebuild) for name in todo}
        for name in names:
            folder = data.dataset_path(name)
            n_files = sum(1 for p in folder.rglob("*") if p.is_file())
            size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
            seconds = f"{timed[name]:6.1f} s" if name in timed else "  cached"
            print(f"   {name:<16} {n_files:6d} files {size_mb:8.1f} MB  {seconds}")
        return 0
    if args.data_command == "verify":
        results = data.verify(args.names or None)
        failed = 0
        for name, status, detail in results:
            print(f"{status:>9}  {name}: {detail}")
            failed += status == "FAILED"
        print(f"\n{len(results) - failed} checked ok, {failed} failed")
        return 1 if failed else 0
    if args.data_command == "validate":
        try:
            report = data.validate(args.name, args.path)
        except (KeyError, FileNotFoundError, NotADirectoryError) as exc:
            print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 2
        print(report)
        return 0 if report.ok else 1
    return 2


def _timed_build(name: str, rebuild: bool) -> float:
    """Build one generated dataset (in a worker process); the seconds it took."""
    from course_utils import data

    start = time.perf_counter()
    data.dataset_path(name, rebuild=rebuild)
    return time.perf_counter() - start


def _cmd_student(args) -> int:
    from course_utils.build.execution import discover_notebooks, find_notebook
    from course_utils.build.student import build_student_version

    notebooks = (
        [find_notebook(name) for name in args.notebooks] if args.notebooks else discover_notebooks()
    )
    written = build_student_version(notebooks, args.out)
    import nbformat

    for path in written:
        nb = nbformat.read(path, as_version=4)
        n_exercises = sum("exercise" in c.metadata.get("tags", []) for c in nb.cells)
        print(f"   {path.name:<40} {n_exercises} exercise(s) turned into stubs")
    print(
        f"Student version: {len(written)} notebooks in {args.out}/ (open with: .venv/bin/jupyter lab {args.out})"
    )
    return 0


def _cmd_slides(args) -> int:
    from course_utils.build.execution import discover_notebooks, find_notebook
    from course_utils.build.lecture_slides import export_slides

    notebooks = (
        [find_notebook(name) for name in args.notebooks] if args.notebooks else discover_notebooks()
    )
    out_dir = Path(args.out)
    for path in export_slides(notebooks, out_dir):
        text = path.read_text(encoding="utf-8")
        # a section that only wraps sub-slides (a vertical stack) is not a slide itself
        n_slides = text.count("<section") - len(re.findall(r"<section[^>]*>\s*<section", text))
        print(f"   {path.name:<48} {n_slides:4d} slides")
    print(f"Slides: {out_dir}/index.html (works offline; S opens the speaker notes)")
    return 0


def _cmd_site(args) -> int:
    from course_utils.build.site import build_site

    start = time.perf_counter()
    index = build_site(Path(args.out), staging_dir=Path(args.staging))
    print(f"Site built in {time.perf_counter() - start:.0f} s: {index}")
    print(f"Browse it with: python -m http.server -d {Path(args.out)} 8000")
    return 0


def _cmd_bench(args) -> int:
    import runpy

    script = COURSE_ROOT / "benchmarks" / "run.py"
    if not script.is_file():
        print(
            f"error: {script} not found (benchmarks live in the course checkout)", file=sys.stderr
        )
        return 2
    module = runpy.run_path(str(script))
    return module["main"](args.bench_args)


def with_pd_options(function):
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_colwidth", 90):
        function()


# The test command of the README, shared by `make test` and `python -m course_utils test`
# (Windows has no make). tests/test_cli_and_execution.py checks that the Makefile calls it.
PYTEST_COMMAND = [
    "-m",
    "pytest",
    "-n",
    "2",
    "--dist",
    "loadfile",
    "--nbval",
    "--nbval-cell-timeout=300",
    "--nbval-sanitize-with",
    "tests/nbval_sanitize.cfg",
    "--ignore=tests/browser",
    "-m",
    "not extended",
    "--durations=15",
    "tests",
    "notebooks",
]

TEST_BANNER = """\
== make test: the course's whole test suite (what CI runs)
   1. builds the generated datasets into data/ (about 40 s the first time, then cached)
   2. runs, on 2 processes: unit and property tests of course_utils, a bad-input corpus,
      every notebook under nbval (default parameters; the committed outputs must reproduce),
      its student version (stubs for the answers) with the alternative parameters on a copy
      of its data (which must stay byte-identical), the notebook contract, spelling and ruff
      (make test-extended runs the slower rest: full builds on the oldest CPU path, the
      answered lessons on the alternative parameters, real-shaped folders, gigapixel slides)
   It takes about {minutes} minutes on 2 cores. The 15 slowest tests are listed at the end.
"""
SUITE_MINUTES = 9  # measured: 8 min 45 s from a fresh clone, quiet 2 cores (7 min 55 s of tests)


# Where `run` (and `course`, which is `run` on every notebook with HTML pages) writes.
EXECUTED_DIR = str(COURSE_ROOT / "build" / "executed")
HTML_DIR = str(COURSE_ROOT / "build" / "html")


def _build_data() -> int:
    """``data build`` for every generated dataset (cached), as the two commands start with it."""
    return _cmd_data(argparse.Namespace(data_command="build", names=[], rebuild=False))


def _cmd_course(args) -> int:
    status = _build_data()
    return status or _cmd_run(args)


def _cmd_test(args) -> int:
    import subprocess

    print(TEST_BANNER.format(minutes=SUITE_MINUTES), flush=True)
    status = _build_data()
    if status:
        return status
    command = [sys.executable, *PYTEST_COMMAND, *args.pytest_args]
    print("== " + " ".join(["python", *command[1:]]), flush=True)
    return subprocess.call(command, cwd=COURSE_ROOT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils",
        description="Biomedical Image Analysis in Python: course commands",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="execute notebooks with papermill into build/executed and print a report"
    )
    run.add_argument(
        "notebooks", nargs="*", help="notebooks to run ('01', '03_dicom_eda', a path); default: all"
    )
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="notebook parameter (YAML value)",
    )
    run.add_argument("--data-dir", help="folder of a real dataset (sets the data_dir parameter)")
    run.add_argument(
        "--output-dir", help="where the notebooks write their outputs (sets output_dir)"
    )
    run.add_argument(
        "--out",
        default=EXECUTED_DIR,
        help="folder for the executed notebooks",
    )
    run.add_argument("--html", action="store_true", help="also render HTML pages")
    run.add_argument("--html-dir", default=HTML_DIR)
    run.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        help="notebooks executed at the same time (default: one per core, at most 2)",
    )
    run.set_defaults(func=_cmd_run)

    course = sub.add_parser(
        "course",
        help="what `make course` does: build the datasets, run every notebook, HTML pages, report",
    )
    course.add_argument("notebooks", nargs="*", help=argparse.SUPPRESS)
    course.set_defaults(
        func=_cmd_course,
        parameter=[],
        data_dir=None,
        output_dir=None,
        out=EXECUTED_DIR,
        html=True,
        html_dir=HTML_DIR,
        jobs=None,
    )

    test = sub.add_parser(
        "test", help="what `make test` does: build the datasets, then the whole test suite"
    )
    test.set_defaults(func=_cmd_test)

    refresh = sub.add_parser(
        "refresh", help="re-execute committed notebooks in place (default parameters)"
    )
    refresh.add_argument("notebooks", nargs="*")
    refresh.set_defaults(func=_cmd_refresh)

    student = sub.add_parser(
        "student", help="write the student version (solutions replaced by stubs) to build/student"
    )
    student.add_argument("notebooks", nargs="*")
    student.add_argument("--out", default=str(COURSE_ROOT / "build" / "student"))
    student.set_defaults(func=_cmd_student)

    slides = sub.add_parser(
        "slides", help="export the lessons as offline reveal.js slides into build/slides"
    )
    slides.add_argument("notebooks", nargs="*")
    slides.add_argument("--out", default=str(COURSE_ROOT / "build" / "slides"))
    slides.set_defaults(func=_cmd_slides)

    site = sub.add_parser("site", help="build the course website (Jupyter Book) into build/site")
    site.add_argument("--out", default=str(COURSE_ROOT / "build" / "site"))
    site.add_argument(
        "--staging",
        default=str(COURSE_ROOT / "build" / "site-src"),
        help="folder where the book's sources are assembled",
    )
    site.set_defaults(func=_cmd_site)

    bench = sub.add_parser(
        "bench", help="benchmarks: WSI reads, DICOM scans, the course itself (build/bench/)"
    )
    bench.add_argument(
        "--only", nargs="+", help="sections: wsi dicom course (see benchmarks/run.py --help)"
    )
    bench.set_defaults(func=_cmd_bench)

    data_parser = sub.add_parser("data", help="list, build, verify or validate datasets")
    data_sub = data_parser.add_subparsers(dest="data_command", required=True)
    data_sub.add_parser("list", help="every dataset with its kind and whether it is available")
    build = data_sub.add_parser("build", help="build generated datasets (default: all)")
    build.add_argument("names", nargs="*")
    build.add_argument("--rebuild", action="store_true", help="delete and rebuild")
    verify = data_sub.add_parser("verify", help="check sample checksums and generated fingerprints")
    verify.add_argument("names", nargs="*")
    validate = data_sub.add_parser(
        "validate", help="check a real dataset folder against its manifest"
    )
    validate.add_argument("name", help="rsna-miccai, strip-ai, cbis-ddsm, mura or dsb-cardiac")
    validate.add_argument("path")
    data_parser.set_defaults(func=_cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m course_utils`` and the ``course`` script."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":  # the benchmark script parses its own options
        args.bench_args = (["--only", *args.only] if args.only else []) + extra
    elif args.command == "test":  # everything after `test` goes to pytest
        args.pytest_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
