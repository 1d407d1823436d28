"""Parallel mapping that runs serially, in a process pool, or on a dask cluster.

The dataset-wide steps of the lessons (header scans, per-slide thumbnails)
call :func:`parallel_map`; the ``scheduler`` notebook parameter chooses where
the work runs without changing the notebook:

``"serial"``
    A plain loop in this process (easiest to debug).
``"processes"``
    A local :class:`concurrent.futures.ProcessPoolExecutor`; items are sent in
    batches so that per-task overhead does not dominate for small files.
``"tcp://host:8786"`` (any dask scheduler address)
    A running dask distributed cluster. ``"dask-local"`` starts a throw-away
    :class:`distributed.LocalCluster` on loopback.

Results always come back in input order, so every scheduler gives the same table.

Example
-------
>>> parallel_map(abs, [-1, -2, 3], scheduler="serial", progress=False)
[1, 2, 3]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

__all__ = ["parallel_map", "SCHEDULERS"]

SCHEDULERS = ("serial", "processes", "dask-local", "tcp://HOST:PORT")


def _run_batch(function: Callable, batch: Sequence) -> list:
    return [function(item) for item in batch]


def _run_whole_batch(function: Callable, batch: Sequence) -> list:
    results = list(function(batch))
    if len(results) != len(batch):
        raise ValueError(
            f"a batched function must return one result per item: got {len(results)} for {len(batch)}"
        )
    return results


def _batches(items: Sequence, batch_size: int) -> list[Sequence]:
    return [items[i : i + batch_size] for i in range(0, len(items), batch_size)]


def _progress(total: int, desc: str, enabled: bool | None):
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = os.environ.get("COURSE_PROGRESS", "1") != "0"
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def parallel_map(
    function: Callable,
    items: Iterable,
    *,
    scheduler: str = "serial",
    n_workers: int | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    desc: str = "items",
    batched: bool = False,
) -> list:
    """Apply ``function`` to every item and return the results in input order.

    Parameters
    ----------
    function : callable
        A top-level (picklable) function of one argument. It should catch the
        errors of a bad item itself and return a record saying what went wrong,
        so one corrupted file never stops a dataset-wide job.
    items : iterable
        The inputs (e.g. file paths).
    scheduler : str
        ``"serial"``, ``"processes"``, ``"dask-local"`` or a dask scheduler
        address such as ``"tcp://10.0.0.5:8786"``.
    n_workers : int, optional
        Worker processes for ``"processes"``/``"dask-local"``; default: CPU count.
    batch_size : int, optional
        Items per task; default: enough for about four tasks per worker.
    progress : bool, optional
        Show a tqdm progress bar; default on unless ``COURSE_PROGRESS=0``.
    desc : str
        Progress-bar label.
    batched : bool
        ``function`` takes a whole batch (a list of items) and returns the
        list of their results, so that per-batch setup (a warnings context,
        an open resource) is paid once per batch instead of once per item.
        The serial scheduler then also works batch by batch (of
        ``batch_size`` items, default 256, so the progress bar still moves).

    Returns
    -------
    list
        ``[function(item) for item in items]``.

    Raises
    ------
    ValueError
        Unknown scheduler or a non-positive ``n_workers``/``batch_size``.

    Example
    -------
    >>> parallel_map(len, ["a", "bb"], scheduler="processes", n_workers=2, progress=False)
    [1, 2]
    """
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")
    items = list(items)
    if not isinstance(scheduler, str) or not scheduler:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    if n_workers is not None and n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    if not items:
        return []
    workers = n_workers or os.cpu_count() or 1
    if batch_size is None:
        if scheduler == "serial":
            batch_size = 256
        else:
            batch_size = max(1, len(items) // (4 * workers))
    batches = _batches(items, batch_size)
    run = _run_whole_batch if batched else _run_batch

    if scheduler == "serial":
        results = []
        with _progress(len(items), desc, progress) as bar:
            if batched:
                for batch in batches:
                    results.extend(run(function, batch))
                    bar.update(len(batch))
            else:
                for item in items:
                    results.append(function(item))
                    bar.update(1)
        return results

    if scheduler == "processes":
        results_by_batch: list[list] = [None] * len(batches)  # type: ignore[list-item]
        with (
            ProcessPoolExecutor(max_workers=workers) as pool,
            _progress(len(items), desc, progress) as bar,
        ):
            futures = {pool.submit(run, function, batch): i for i, batch in enumerate(batches)}
            from concurrent.futures import as_completed

            for future in as_completed(futures):
                index = futures[future]
                results_by_batch[index] = future.result()
                bar.update(len(batches[index]))
        return [result for batch in results_by_batch for result in batch]

    if scheduler == "dask-local" or "://" in scheduler:
        from distributed import Client, LocalCluster

        cluster = None
        if scheduler == "dask-local":
            import dask

            # dask's default "spawn" starts each worker as a new interpreter that imports
            # everything again (15-20 s for two workers on a loaded 2-core machine); on Linux
            # fork them, as the "processes" scheduler's pool does (about 1 s)
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            with dask.config.set({"distributed.worker.multiprocessing-method": method}):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                    processes=True,
                    silence_logs=40,
                )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="20s")
        try:
            futures = client.map(run, [function] * len(batches), batches, pure=False)
            results_by_batch = [None] * len(batches)  # type: ignore[list-item]
            position = {future.key: i for i, future in enumerate(futures)}
            from distributed import as_completed as dask_as_completed

            with _progress(len(items), desc, progress) as bar:
                for future in dask_as_completed(futures):
                    index = position[future.key]
                    results_by_batch[index] = future.result()
                    bar.update(len(batches[index]))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return [result for batch in results_by_batch for result in batch]

    raise ValueError(
        f"unknown scheduler {scheduler!r}; use 'serial', 'processes', 'dask-local' "
        "or a dask scheduler address like 'tcp://host:8786'"
    )
