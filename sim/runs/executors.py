"""Executors: where batches of runs are computed — here, on local processes, or on Dask.

All share one interface: ``map(batches, fn)`` yields each batch's result as it finishes,
in any order.  The function writes its own Parquet parts, so a batch is the unit of work,
of retry and of resume; the order results come back in never changes what a run contains.

:func:`connect` opens the executor before anything is written, so an unreachable
cluster or a missing scheduler file is reported while the output folder is untouched.

Dask: ``address`` (``tcp://host:8786``) or ``scheduler_file`` connects to an existing
cluster, whose workers must see the output folder (a shared file system); with neither,
a local cluster of worker processes is started for the run.  A worker that dies takes
its batch with it and the scheduler gives the batch to another worker; since a batch
rewrites its parts whole, the tables end the same.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

from sim.errors import ExecutorError, OptionError

__all__ = ["Executor", "ExecutorError", "connect", "serial", "processes", "local_cluster", "SCHEDULER_FILE_WAIT"]

Executor = Literal["local", "dask"]
SCHEDULER_FILE_WAIT = 10.0  # seconds to wait for a scheduler that is starting to write its file
CONNECT_TIMEOUT = "10s"


def serial(batches: Iterable, fn: Callable) -> Iterator[Any]:
    for batch in batches:
        yield fn(batch)


def processes(batches: list, fn: Callable, workers: int) -> Iterator[Any]:
    """Local worker processes, at most two batches queued per worker (memory stays flat).

    When the caller stops early (Ctrl-C, a failed batch) the queued batches are cancelled
    and only those already running are waited for.
    """
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        pending: set[Future] = set()
        queue = list(batches)
        while queue or pending:
            while queue and len(pending) < workers * 2:
                pending.add(pool.submit(fn, queue.pop(0)))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Local:
    """Batches on this machine: in this process for one worker, else on worker processes."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers

    def map(self, batches: list, fn: Callable) -> Iterator[Any]:
        if self.workers <= 1 or len(batches) <= 1:
            return serial(batches, fn)
        return processes(batches, fn, self.workers)


class Dask:
    """Batches as Dask tasks on a connected client."""

    name = "dask"

    def __init__(self, client, scheduler: str):
        self.client = client
        self.scheduler = scheduler

    def map(self, batches: list, fn: Callable) -> Iterator[Any]:
        from distributed import as_completed

        futures = self.client.map(fn, batches, pure=False, retries=2)
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except OSError:
                    raise  # a full or read-only disk is the output folder's problem, reported as such
                except Exception as exc:  # noqa: BLE001 - the cluster reports any failure of a task
                    raise ExecutorError(f"a batch failed on the Dask cluster: {type(exc).__name__}: {exc}") from exc
        finally:
            self.client.cancel(futures)


@contextlib.contextmanager
def connect(executor: str, workers: int, address: str | None = None, scheduler_file: str | None = None,
            *, wait_for_file: float | None = None) -> Iterator[Local | Dask]:
    """Open the executor for the block: check the cluster before any output is written.

    Raises :class:`OptionError` for an unknown executor, cluster options without
    ``--executor dask``, or a scheduler file that does not appear within
    ``wait_for_file`` seconds (default :data:`SCHEDULER_FILE_WAIT`); :class:`ExecutorError`
    when the scheduler does not answer.
    """
    if executor not in ("local", "dask"):
        raise OptionError("--executor", executor, "must be local (processes on this machine) or dask")
    if (address or scheduler_file) and executor != "dask":
        raise OptionError("--address" if address else "--scheduler-file", address or scheduler_file,
                          "goes with --executor dask")
    if address and scheduler_file:
        raise OptionError("--address", address, "give either --address or --scheduler-file, not both")
    if executor == "local":
        yield Local(workers)
        return
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a dependency of sim
        raise ExecutorError("the dask executor needs the 'distributed' package: pip install 'dask[distributed]'") from None
    with contextlib.ExitStack() as stack:
        if address or scheduler_file:
            if scheduler_file:
                _wait_for(Path(scheduler_file), SCHEDULER_FILE_WAIT if wait_for_file is None else wait_for_file)
            if address and "://" not in address and ":" not in address:
                raise OptionError("--address", address, "is not a scheduler address like tcp://10.0.0.5:8786")
            try:
                client = stack.enter_context(Client(address=address, scheduler_file=scheduler_file, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError, ValueError) as exc:
                where = f"--address {address}" if address else f"the scheduler in --scheduler-file {scheduler_file}"
                raise ExecutorError(f"cannot reach the Dask scheduler ({where}): {exc}; is the scheduler running?") from None
            yield Dask(client, address or str(scheduler_file))
        else:
            client = stack.enter_context(Client(stack.enter_context(local_cluster(workers))))
            yield Dask(client, "local cluster")


def _wait_for(path: Path, seconds: float) -> None:
    """A scheduler writes its file when it starts: wait a little for it, then say how to make it."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() >= deadline:
            raise OptionError("--scheduler-file", str(path),
                              f"no such file (waited {seconds:g} s for a scheduler to write it); start the scheduler "
                              f"with `dask scheduler --scheduler-file {path}`, or give --address tcp://HOST:8786")
        time.sleep(0.1)


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
