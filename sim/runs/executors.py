"""Executors: where batches of runs are computed — here, on local processes, or on Dask.

All three share one interface: given the batches and the function that computes one,
yield each batch's result as it finishes, in any order.  The function writes its own
Parquet parts, so a batch is the unit of work, of retry and of resume; the order results
come back in never changes what a run contains.

Dask: ``address`` (``tcp://host:8786``) or ``scheduler_file`` connects to an existing
cluster, whose workers must see the output folder (a shared file system); with neither,
a local cluster of worker processes is started for the run.  A worker that dies takes
its batch with it and the scheduler gives the batch to another worker; since a batch
rewrites its parts whole, the tables end the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal

from sim.errors import SimError

Executor = Literal["local", "dask"]


class ExecutorError(SimError):
    """The cluster cannot be reached or gave up on a batch."""


def serial(batches: Iterable, fn: Callable) -> Iterator[Any]:
    for batch in batches:
        yield fn(batch)


def processes(batches: list, fn: Callable, workers: int) -> Iterator[Any]:
    """Local worker processes, at most two batches queued per worker (memory stays flat)."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: set[Future] = set()
        queue = list(batches)
        while queue or pending:
            while queue and len(pending) < workers * 2:
                pending.add(pool.submit(fn, queue.pop(0)))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()


def dask(batches: list, fn: Callable, workers: int, address: str | None = None,
         scheduler_file: str | None = None) -> Iterator[Any]:
    """Batches as Dask tasks on an existing cluster, or on a local cluster started here."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - a dependency of sim
        raise ExecutorError("the dask executor needs the 'distributed' package: pip install 'dask[distributed]'") from None
    with contextlib.ExitStack() as stack:
        if address or scheduler_file:
            try:
                client = stack.enter_context(Client(address=address, scheduler_file=scheduler_file, timeout="10s"))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"cannot reach the Dask scheduler at {address or scheduler_file}: {exc}") from None
        else:
            client = stack.enter_context(Client(stack.enter_context(local_cluster(workers))))
        futures = client.map(fn, batches, pure=False, retries=2)
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 - the cluster reports any failure of a task
                raise ExecutorError(f"a batch failed on the Dask cluster: {type(exc).__name__}: {exc}") from exc


def local_cluster(workers: int):
    """A local Dask cluster of single-threaded worker processes.

    Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 for its workers, which makes numpy's
    temporaries markedly slower (DESIGN §9); the cluster started here does not.
    """
    import dask as dask_config
    from distributed import LocalCluster

    environ = dict(dask_config.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask_config.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=40)
