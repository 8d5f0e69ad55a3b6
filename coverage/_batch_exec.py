"""Where the tasks of a batch run: a Dask cluster (local or given) or one by one in this process.

:func:`executor` yields an object with ``submit(func, *args)``,
``result(handle)``, ``map_fn()`` (for the partitioned coverage) and ``mode``
(said in the summary). A local cluster listens on 127.0.0.1 only and is
closed at the end, even on errors.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from ._errors import CoverageInputError, warn

__all__ = ["Executor", "executor"]




class Sequential:
    """Runs each task at once, here (no Dask)."""

    mode = "one by one in this process (Dask is not installed)"

    def submit(self, func: Callable[..., Any], *args: Any) -> Any:
        try:
            return (True, func(*args))
        except Exception as exc:
            return (False, exc)

    def result(self, handle: Any) -> Any:
        ok, value = handle
        if not ok:
            raise value
        return value

    def map_fn(self) -> Any:
        return None


class DaskExecutor:
    """Runs each task on a Dask cluster."""

    def __init__(self, client: Any, mode: str) -> None:
        self.client = client
        self.mode = mode

    def submit(self, func: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(func, *args, pure=False)

    def result(self, handle: Any) -> Any:
        return handle.result()

    def map_fn(self) -> Any:
        from .partition import dask_map

        return dask_map(self.client)


Executor = Sequential | DaskExecutor


@contextlib.contextmanager
def executor(scheduler: str | None, n_workers: int) -> Iterator[Executor]:
    """Yield where the tasks run: the cluster at ``scheduler``, a new local one, or this process (no Dask)."""
    try:
        import distributed
    except ImportError:
        if scheduler is not None:
            raise CoverageInputError(
                f"--scheduler {scheduler} needs Dask: pip install 'coverage-planner[dask]'."
            ) from None
        warn(
            "Dask is not installed, so the scenarios run one by one in this process; "
            "pip install 'coverage-planner[dask]' to run them in parallel.",
            stacklevel=4,
        )
        yield Sequential()
        return
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise CoverageInputError(f"cannot reach the Dask scheduler at {scheduler} ({exc}).") from exc
        try:
            yield DaskExecutor(client, f"on the Dask cluster at {scheduler}")
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield DaskExecutor(client, f"on a local Dask cluster of {n_workers} worker process(es)")
        finally:
            client.close()
    finally:
        cluster.close()
