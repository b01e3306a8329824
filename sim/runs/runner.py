"""The Monte Carlo runner: runs 0..N-1 in batches, on local processes, to Parquet.

A run's result depends only on (scenario, seed, run index): each run draws from its own
named streams, so the executor, the number of workers and the batch size change how fast
the runs come back, never what they contain.  Workers write their own Parquet parts
(atomically); the parent records finished batches in the manifest as they arrive, which is
what makes an interrupted run resumable and memory flat in the number of runs.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> result = simulate(load_scenario("scenarios/binjiang.yaml"), runs=20, out="outputs/demo", force=True)
>>> result.frame("pool_years").head()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from sim import __version__
from sim.engine.choice import ENGINES, Engine, choose_engine
from sim.engine.population import sample
from sim.errors import OutputError
from sim.runs import executors
from sim.runs.records import collect
from sim.runs.storage import (
    MANIFEST,
    SCHEMA_VERSION,
    clear,
    drop_stale_parts,
    read_manifest,
    scan,
    to_arrow,
    write_json,
    write_part,
)
from sim.scenario.load import file_digest
from sim.scenario.model import Model, build
from sim.scenario.schema import Scenario

@dataclass(frozen=True)
class Batch:
    """A slice of runs computed and written together."""

    scenario: Scenario
    index: int
    first: int
    last: int  # exclusive
    out: str
    events: bool
    engine: str


@dataclass
class BatchDone:
    index: int
    runs: int
    applications: int
    seconds: float


_MODELS: dict[str, Model] = {}


def model_for(scenario: Scenario) -> Model:
    """Build a scenario's model once per process (workers receive many batches)."""
    key = scenario.sha256
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = build(scenario)
    return _MODELS[key]


def run_batch(batch: Batch) -> BatchDone:
    """Compute the batch's runs and write their parts; safe to repeat (parts are replaced)."""
    began = time.perf_counter()
    model = model_for(batch.scenario)
    engine = ENGINES[batch.engine]
    parts: dict[str, list[dict[str, np.ndarray]]] = {}
    applications = 0
    for run in range(batch.first, batch.last):
        apps = sample(model, run)
        applications += len(apps)
        tables = collect(model, run, apps, engine(model, apps), events=batch.events)
        for name, cols in tables.items():
            parts.setdefault(name, []).append(cols)
    for name, cols_list in parts.items():
        merged = {k: np.concatenate([c[k] for c in cols_list]) for k in cols_list[0]}
        write_part(Path(batch.out), name, batch.index, to_arrow(model, name, merged))
    return BatchDone(batch.index, batch.last - batch.first, applications, time.perf_counter() - began)


@dataclass
class RunResult:
    """A finished (or resumed) run: where it is and what it says, as polars frames."""

    out: Path
    manifest: dict
    engine: str
    seconds: float = 0.0
    runs_computed: int = 0
    applications: int = 0
    tables: tuple[str, ...] = field(default_factory=tuple)

    def lazy(self, table: str) -> pl.LazyFrame:
        return scan(self.out, table)

    def frame(self, table: str) -> pl.DataFrame:
        return self.lazy(table).sort(_sort_keys(table)).collect()


def _sort_keys(table: str) -> list[str]:
    return {"program_years": ["run", "policy", "program", "year"], "pool_years": ["run", "pool", "year"],
            "funder_years": ["run", "funder", "year"], "awards": ["run", "date", "firm", "program"]}[table]


def simulate(
    scenario: Scenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    events: bool = False,
    resume: bool = False,
    force: bool = False,
    batch_size: int | None = None,
    engine: Engine = "auto",
    executor: executors.Executor = "local",
    address: str | None = None,
    scheduler_file: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run the scenario's Monte Carlo to Parquet and return the result.

    ``runs``, ``seed`` and ``batch_size`` default to the scenario's ``monte_carlo``;
    ``workers`` to all cores (the size of a local Dask cluster with ``executor="dask"``;
    ``address`` or ``scheduler_file`` uses an existing cluster instead); ``out`` to ``outputs/<scenario name>``.  ``engine`` "auto" runs
    the fast engine when it supports the scenario, else the SimPy reference; both give the
    same tables.  A folder holding an
    earlier run is refused unless ``resume`` (finish the missing batches of the same run)
    or ``force`` (start again).  ``progress(done_runs, total_runs)`` is called as batches
    finish.
    """
    overrides = {}
    if runs is not None:
        overrides["monte_carlo.runs"] = runs
    if seed is not None:
        overrides["monte_carlo.seed"] = seed
    if batch_size is not None:
        overrides["monte_carlo.batch_size"] = batch_size
    if overrides:
        scenario = scenario.with_overrides(overrides)
    mc = scenario.monte_carlo
    out = Path(out) if out is not None else Path("outputs") / scenario.name
    workers = workers or os.cpu_count() or 1
    model = model_for(scenario)
    engine, why = choose_engine(model, engine)
    batches = [(i, first, min(first + mc.batch_size, mc.runs)) for i, first in enumerate(range(0, mc.runs, mc.batch_size))]
    if (address or scheduler_file) and executor != "dask":
        raise OutputError("--address and --scheduler-file go with --executor dask")
    manifest = _prepare(out, scenario, model, len(batches), events, engine, workers, resume, force)
    manifest["executor"] = "dask" if executor == "dask" else manifest["executor"]
    manifest["dask_scheduler"] = address or scheduler_file or ("local cluster" if executor == "dask" else None)
    manifest["engine_reason"] = why
    done = set(manifest["batches_complete"])
    todo = [Batch(scenario, i, a, b, str(out), events, engine) for i, a, b in batches if i not in done]
    began = time.perf_counter()
    finished = sum(b - a for i, a, b in batches if i in done)
    result = RunResult(out=out, manifest=manifest, engine=engine)
    if progress:
        progress(finished, mc.runs)
    for batch_done in _execute(todo, workers, executor, address, scheduler_file):
        manifest["batches_complete"] = sorted(set(manifest["batches_complete"]) | {batch_done.index})
        write_json(out / MANIFEST, manifest)
        finished += batch_done.runs
        result.runs_computed += batch_done.runs
        result.applications += batch_done.applications
        if progress:
            progress(finished, mc.runs)
    manifest["complete"] = len(manifest["batches_complete"]) == len(batches)
    manifest["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    write_json(out / MANIFEST, manifest)
    result.seconds = time.perf_counter() - began
    result.tables = tuple(manifest["tables"])
    return result


def _execute(batches: list[Batch], workers: int, executor: str, address: str | None, scheduler_file: str | None):
    """Yield each batch as it finishes, from the chosen executor."""
    if executor == "dask":
        return executors.dask(batches, run_batch, workers, address, scheduler_file)
    if executor != "local":
        raise OutputError(f"--executor must be local or dask; got {executor!r}")
    if workers <= 1 or len(batches) <= 1:
        return executors.serial(batches, run_batch)
    return executors.processes(batches, run_batch, workers)


def _prepare(out: Path, scenario: Scenario, model: Model, batches: int, events: bool, engine: str,
             workers: int, resume: bool, force: bool) -> dict:
    """Check the output folder and write the manifest of this run."""
    if resume and force:
        raise OutputError("--resume and --force contradict each other: choose one")
    mc = scenario.monte_carlo
    fresh = _manifest(scenario, model, batches, events, engine, workers)
    if (out / MANIFEST).exists():
        old = read_manifest(out)
        if force:
            clear(out)
        elif resume:
            same = ("sha256", "seed", "runs", "batch_size", "events")
            mine = {"sha256": scenario.sha256, "seed": mc.seed, "runs": mc.runs, "batch_size": mc.batch_size, "events": events}
            theirs = {"sha256": old["scenario"]["sha256"], **{k: old.get(k) for k in same[1:]}}
            diff = [k for k in same if mine[k] != theirs[k]]
            if diff:
                raise OutputError(f"{out}: cannot resume: the earlier run differs in {', '.join(diff)}; use --force to start again")
            fresh["batches_complete"] = old["batches_complete"]
            fresh["started"] = old["started"]
            drop_stale_parts(out, set(old["batches_complete"]))
        else:
            state = "complete" if old.get("complete") else f"incomplete ({len(old.get('batches_complete', []))} of {old.get('batches')} batches)"
            raise OutputError(f"{out}: holds an earlier run ({state}); add --resume to finish it or --force to start again")
    elif any((out / t).exists() for t in ("program_years", "pool_years")):
        if not force:
            raise OutputError(f"{out}: holds tables but no manifest; add --force to start again")
        clear(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / MANIFEST, fresh)
    return fresh


def _manifest(scenario: Scenario, model: Model, batches: int, events: bool, engine: str, workers: int) -> dict:
    mc = scenario.monte_carlo
    return {
        "schema_version": SCHEMA_VERSION,
        "sim_version": __version__,
        "scenario": {"file": scenario.path, "name": scenario.name, "title": scenario.spec.title,
                     "file_sha256": file_digest(scenario.path), "sha256": scenario.sha256},
        "seed": mc.seed,
        "runs": mc.runs,
        "batch_size": mc.batch_size,
        "batches": batches,
        "batches_complete": [],
        "complete": False,
        "events": events,
        "tables": ["program_years", "pool_years", "funder_years"] + (["awards"] if events else []),
        "engine": engine,
        "executor": "serial" if workers <= 1 else "processes",
        "workers": workers,
        "python": platform.python_version(),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "finished": None,
        "horizon": [str(model.start), str(model.years[-1]) + "-12-31"],
        "programs": [_program_meta(model, p) for p in model.programs],
        "pools": [{"pool": p.key, "title": p.title, "rationing": p.rationing, "rationing_basis": p.rationing_basis,
                   "period": p.period, "budgets": {str(y): b for y, b in p.budgets.items()}} for p in model.pools],
        "funders": model.funders,
    }


def _program_meta(model: Model, p) -> dict:
    return {"policy": p.policy, "program": p.id, "clause": p.program.clause, "title": p.program.title,
            "pool": model.pools[p.pool].key, "selection": p.program.selection}
