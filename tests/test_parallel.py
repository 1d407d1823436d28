"""parallel_map gives the same results, in order, on every scheduler."""

import pytest

from course_utils.parallel import parallel_map


def _square_or_error(x):
    if x == 3:
        return {"item": x, "error": "bad item"}
    return {"item": x, "value": x * x}


@pytest.mark.parametrize("scheduler", ["serial", "processes"])
def test_schedulers_agree(scheduler):
    items = list(range(23))
    expected = [_square_or_error(x) for x in items]
    assert (
        parallel_map(
            _square_or_error, items, scheduler=scheduler, n_workers=2, batch_size=4, progress=False
        )
        == expected
    )


@pytest.mark.slow
def test_dask_local_cluster_on_loopback_agrees():
    items = list(range(11))
    result = parallel_map(
        _square_or_error, items, scheduler="dask-local", n_workers=2, progress=False
    )
    assert result == [_square_or_error(x) for x in items]


def test_empty_and_bad_arguments():
    assert parallel_map(abs, [], scheduler="processes") == []
    with pytest.raises(ValueError, match="unknown scheduler 'threads'"):
        parallel_map(abs, [1], scheduler="threads")
    with pytest.raises(ValueError, match="n_workers must be a positive integer"):
        parallel_map(abs, [1], n_workers=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        parallel_map(abs, [1], batch_size=0)
    with pytest.raises(TypeError, match="function must be callable"):
        parallel_map(3, [1])
