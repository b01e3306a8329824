"""The Monte Carlo runner: runs 0..N-1 in batches, on local processes or Dask, to Parquet.

A run's result depends only on (scenario, seed, run index): each run draws from its own
named streams, so the executor, the number of workers and the batch size change how fast
the runs come back, never what they contain.  Workers write their own Parquet parts; the
parent commits finished batches in the manifest as they arrive, which is what makes an
interrupted run resumable and memory flat in the number of runs.

Nothing is lost to a typo or a race: every option and the cluster are checked before the
output folder is touched; one process at a time writes a folder (:mod:`sim.runs.lock`);
a run replacing an earlier one is written beside it and swapped in only when complete
(:mod:`sim.runs.storage`); Ctrl-C, a full disk or a killed process keep every committed
batch, and ``--resume`` finishes the run with the options it was started with.

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
import shutil
import time
from dataclasses import dataclass, field
from html import escape as esc
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from sim import __version__
from sim.engine import fast, parameters
from sim.engine.choice import ENGINES, Engine, check_engine, choose_engine
from sim.engine.population import samples
from sim.errors import OptionError, OutputError, RunInterrupted, ScenarioError
from sim.policy.loader import line_of
from sim.runs import executors
from sim.runs.lock import locked
from sim.runs.manifest import (
    SCHEMA_VERSION,
    Manifest,
    PoolInfo,
    ProgramInfo,
    ScenarioInfo,
    read_manifest,
    write_manifest,
)
from sim.runs.records import collect_runs
from sim.runs.storage import (
    MANIFEST,
    holds_run,
    pending_replacement,
    publish,
    recover,
    replacement,
    resume_command,
    scan,
    settle,
    swap,
    tidy,
    to_arrow,
    write_part,
)
from sim.scenario.footprint import available_memory, footprint, free_disk, size
from sim.scenario.load import file_digest, yaml_text
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
    tables: tuple[str, ...] = ()


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
    """Compute the batch's runs and write their parts; safe to repeat (parts are replaced).

    Runs are sampled and summed into tables many at a time (:func:`samples`,
    :func:`collect_runs`), and the fast engine decides them a pass at a time
    (:func:`sim.engine.fast.run_pass`); the SimPy engine, the reference, goes run by run.
    """
    began = time.perf_counter()
    model = model_for(batch.scenario)
    engine = ENGINES[batch.engine]
    parts: dict[str, list[dict[str, np.ndarray]]] = {}
    applications = 0
    values = parameters.draw(batch.scenario, np.arange(batch.first, batch.last)) if "parameters" in batch.tables else {}
    if values:
        parts["parameters"] = [_parameter_rows(batch.scenario, batch.first, batch.last, values)]
    sampled = {k: v for k, v in values.items() if not k.startswith("factors.")}
    for drawn in samples(model, batch.first, batch.last, values=sampled or None):
        applications += len(drawn.apps)
        if batch.engine == "fast":  # a whole pass at once
            decisions = fast.run_pass(model, drawn.apps, drawn.at, len(drawn.runs))
        else:  # the reference, run by run
            decisions = [engine(model, drawn.applications(run)) for run in drawn.runs]
        for name, cols in collect_runs(model, drawn, decisions, events=batch.events).items():
            parts.setdefault(name, []).append(cols)
    for name, cols_list in parts.items():
        merged = {k: np.concatenate([c[k] for c in cols_list]) for k in cols_list[0]}
        write_part(Path(batch.out), name, batch.index, to_arrow(model, name, merged))
    return BatchDone(batch.index, batch.last - batch.first, applications, time.perf_counter() - began)


def _parameter_rows(scenario: Scenario, first: int, last: int, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The batch's rows of the parameters table: each run's value of each uncertain number (run by run)."""
    names = parameters.names(scenario)
    runs = np.arange(first, last, dtype=np.int32)
    table = np.column_stack([np.asarray(values[n], dtype=np.float64) for n in names])  # runs × names
    return {"run": np.repeat(runs, len(names)), "name_index": np.tile(np.arange(len(names)), len(runs)),
            "value": table.ravel()}


@dataclass
class RunResult:
    """A finished (or resumed) run: where it is and what it says, as polars frames."""

    out: Path
    manifest: Manifest
    engine: str
    seconds: float = 0.0
    runs_computed: int = 0
    applications: int = 0
    tables: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()  # what a resume repaired (damaged parts computed again)

    def lazy(self, table: str) -> pl.LazyFrame:
        return scan(self.out, table)

    def frame(self, table: str) -> pl.DataFrame:
        return self.lazy(table).sort(_sort_keys(table)).collect()

    def _repr_html_(self) -> str:
        """In Jupyter: what ran, where, and per pool and year the budget, mean grants and P(dry)."""
        m = self.manifest
        head = (f"<p><b>{esc(m.scenario.name)}</b> {esc(m.scenario.title)} · {m.runs} runs · seed {m.seed} · "
                f"engine {esc(self.engine)} · {esc(m.executor)} × {m.workers} · <code>{esc(str(self.out))}</code></p>")
        if not m.complete:
            return head + f"<p>incomplete: {len(m.batches_complete)} of {m.batches} batches</p>"
        pools = (self.lazy("pool_years").group_by("pool", "year")
                 .agg(pl.col("budget_yuan").first().alias("budget"), pl.col("granted_yuan").mean().alias("granted"),
                      pl.col("exhausted_on").is_not_null().mean().alias("p_dry"))
                 .filter(pl.col("budget").is_not_null() | (pl.col("granted") > 0)).sort("pool", "year").collect())
        rows = "".join(
            f"<tr><td>{esc(r['pool'])}</td><td>{r['year']}</td><td style='text-align:right'>{_wan(r['budget'])}</td>"
            f"<td style='text-align:right'>{_wan(r['granted'])}</td>"
            f"<td style='text-align:right'>{r['p_dry']:.1%}</td></tr>" for r in pools.iter_rows(named=True))
        return (head + "<table><thead><tr><th>pool</th><th>year</th><th>budget 万元</th><th>granted, mean 万元</th>"
                f"<th>P(dry)</th></tr></thead><tbody>{rows}</tbody></table>")


def _wan(yuan: float | None) -> str:
    return "—" if yuan is None else f"{yuan / 10_000:,.0f}"


def _sort_keys(table: str) -> list[str]:
    return {"program_years": ["run", "policy", "program", "year"], "pool_years": ["run", "pool", "year"],
            "funder_years": ["run", "funder", "year"], "awards": ["run", "date", "firm", "program"],
            "cash_years": ["run", "policy", "program", "funder", "year"], "cash_months": ["run", "pool", "funder", "month"],
            "payments": ["run", "date", "firm", "program", "instalment"], "parameters": ["run", "name"]}[table]


def simulate(
    scenario: Scenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    events: bool | None = None,
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

    ``runs``, ``seed`` and ``batch_size`` default to the scenario's ``monte_carlo``
    (with ``resume``: to the interrupted run's, as its manifest records them, and so does
    ``events``); ``workers`` to all cores (the size of a local Dask cluster with
    ``executor="dask"``; ``address`` or ``scheduler_file`` uses an existing cluster
    instead); ``out`` to ``outputs/<scenario name>``.  ``engine`` "auto" runs the fast
    engine when it supports the scenario, else the SimPy reference; both give the same
    tables.  ``progress(done_runs, total_runs)`` is called as batches finish.

    Every option, the memory a run needs and the cluster are checked before the output
    folder is touched.  A folder holding an earlier run is refused unless ``resume``
    (finish the missing batches of the same run) or ``force`` (run again: the new run is
    written beside the old one, in ``out/.next``, and replaces it only once complete, so
    a failure or Ctrl-C leaves the earlier run intact).  One process at a time writes a
    folder (:mod:`sim.runs.lock`).

    Raises :class:`OptionError` for a bad option, :class:`FolderBusy` when another process
    writes ``out``, :class:`OutputError` for an occupied, damaged or unwritable folder,
    :class:`ExecutorError` for an unreachable cluster, and :class:`RunInterrupted` on
    Ctrl-C (what was kept, and the command that finishes the run).
    """
    check_options(runs=runs, seed=seed, batch_size=batch_size, workers=workers, engine=engine, resume=resume, force=force)
    out = output_folder(out, scenario)
    given = {"runs_given": runs is not None, "batch_given": batch_size is not None}  # else the scenario's (or manifest's)
    if resume:
        runs, seed, batch_size, events = _resume_defaults(out, runs, seed, batch_size, events)
    scenario = _with_monte_carlo(scenario, runs, seed, batch_size)
    events = bool(events)
    workers = workers or os.cpu_count() or 1
    model = model_for(scenario)
    engine, why = choose_engine(model, engine)
    check_capacity(scenario, model, out, events=events, workers=workers, **given)
    with executors.connect(executor, workers, address, scheduler_file) as pool, locked(out):
        recover(out)
        fresh = _manifest(scenario, model, events, engine, why, workers, pool)
        target, manifest, notes = _plan(out, scenario, fresh, resume, force)
        return _run(out, target, scenario, manifest, pool, notes, progress)


def check_options(*, runs: int | None, seed: int | None, batch_size: int | None, workers: int | None,
                  engine: str, resume: bool, force: bool) -> None:
    """Refuse option values no run can take, naming the option (never the scenario's monte_carlo)."""
    if resume and force:
        raise OptionError("--resume", None, "and --force contradict each other: --resume finishes the run in the folder, "
                          "--force replaces it; choose one")
    for option, value, least, example in (("--runs", runs, 1, "--runs 1000"), ("--seed", seed, 0, "--seed 42"),
                                          ("--batch-size", batch_size, 1, "--batch-size 100"),
                                          ("--workers", workers, 1, "--workers 2")):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise OptionError(option, value, f"must be a whole number, e.g. {example}")
        if value < least:
            raise OptionError(option, value, f"must be {least} or more, e.g. {example}")
    check_engine(engine)


MAX_BATCHES = 1_000_000  # the manifest lists every batch and is rewritten after each


def check_capacity(scenario: Scenario, model: Model, out: Path, *, events: bool, workers: int,
                   runs_given: bool = True, batch_given: bool = True) -> None:
    """Refuse, with the estimate, runs that cannot fit in this machine's memory or disk.

    The batch size and the number of workers decide the memory (each worker holds one
    batch's tables and one run being computed); the number of runs decides the disk.  A
    value that came from the scenario's ``monte_carlo`` is blamed there, with its line.
    """
    mc = scenario.monte_carlo
    batches = -(-mc.runs // mc.batch_size)
    batch = min(mc.batch_size, mc.runs)

    def refuse(option: str, value: int, given: bool, message: str) -> None:
        if given:
            raise OptionError(option, value, message)
        loc = ("monte_carlo", option.removeprefix("--").replace("-", "_"))
        raise ScenarioError.one(scenario.path, ".".join(loc), f"{value}: {message}", line_of(scenario.lines, loc))

    if batches > MAX_BATCHES:
        refuse("--runs", mc.runs, runs_given, f"in batches of {mc.batch_size} makes {batches:,} batches, more than "
               f"{MAX_BATCHES:,}; give a larger --batch-size, e.g. --batch-size {-(-mc.runs // MAX_BATCHES)}")
    need = footprint(scenario.spec, len(model.programs), len(model.pools), len(model.funders))
    busy = min(workers, batches)
    have = available_memory()
    if busy * need.batch_bytes(batch, events) > have:
        if busy * need.batch_bytes(1, events) <= have:
            refuse("--batch-size", mc.batch_size, batch_given,
                   f"{busy} worker(s) holding batches of {batch} runs need about "
                   f"{size(busy * need.batch_bytes(batch, events))} of memory; {size(have)} is available; "
                   "give a smaller --batch-size" + (" or fewer --workers" if busy > 1 else ""))
        raise OptionError("--workers", workers, f"{busy} workers need about {size(busy * need.batch_bytes(1, events))} "
                          f"of memory; {size(have)} is available; give fewer --workers")
    disk, free = need.disk_bytes(mc.runs, events), free_disk(out)
    if disk > free:
        refuse("--runs", mc.runs, runs_given, f"would write about {size(disk)} of tables"
               f"{' (with --events)' if events else ''}; {size(free)} is free where {out} is; give fewer runs"
               + ("" if not events else " or leave out --events"))


def output_folder(out: str | Path | None, scenario: Scenario) -> Path:
    """The run's folder: ``outputs/<scenario name>`` by default; refuses an empty name or a file."""
    if out is None:
        return Path("outputs") / scenario.name
    if not str(out).strip():
        raise OptionError("--out", "", "is empty; name a folder, e.g. --out outputs/binjiang (it is created if missing)")
    path = Path(out)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                what = "is a file" if folder == path else f"is inside {folder}, which is a file"
                raise OptionError("--out", str(path), f"{what}, not a folder; name a folder (it is created if missing)")
            break
    return path


def _resume_defaults(out: Path, runs, seed, batch_size, events):
    """With --resume, what the command leaves out comes from the interrupted run's manifest."""
    if not out.is_dir():
        raise OutputError(f"{out}: no such folder, so nothing to resume; run without --resume")
    old = pending_replacement(out) or (read_manifest(out) if (out / MANIFEST).exists() else None)
    if old is None:
        raise OutputError(f"{out}: holds no run to resume; run without --resume")
    return (old.runs if runs is None else runs, old.seed if seed is None else seed,
            old.batch_size if batch_size is None else batch_size, old.events if events is None else events)


def _with_monte_carlo(scenario: Scenario, runs: int | None, seed: int | None, batch_size: int | None) -> Scenario:
    values = {f"monte_carlo.{k}": v for k, v in (("runs", runs), ("seed", seed), ("batch_size", batch_size)) if v is not None}
    return scenario.with_overrides(values) if values else scenario


def _plan(out: Path, scenario: Scenario, fresh: Manifest, resume: bool, force: bool) -> tuple[Path, Manifest, list[str]]:
    """Where to write and what: the folder itself, or ``.next`` beside an earlier run; resumed batches kept."""
    pending = pending_replacement(out)
    if resume:
        target = replacement(out) if pending else out
        old = pending or read_manifest(out)
        diff = [name for name, mine, theirs in (
            ("scenario", scenario.sha256, old.scenario.sha256), ("seed", fresh.seed, old.seed), ("runs", fresh.runs, old.runs),
            ("batch size", fresh.batch_size, old.batch_size), ("events", fresh.events, old.events),
            ("the tables' schema version", fresh.schema_version, old.schema_version)) if mine != theirs]
        if diff:
            raise OutputError(f"{target}: cannot resume: the earlier run differs in {', '.join(diff)}; "
                              "use --force to start again")
        settled, notes = settle(target, old)
        return target, fresh.model_copy(update={"batches_complete": settled.batches_complete, "started": old.started}), notes
    if pending is not None or holds_run(out):
        if not force:
            raise OutputError(_occupied(out, pending))
        shutil.rmtree(replacement(out), ignore_errors=True)
        return replacement(out), fresh, []
    return out, fresh, []


def _occupied(out: Path, pending: Manifest | None) -> str:
    if not (out / MANIFEST).exists():
        return f"{out}: holds tables but no manifest; add --force to start again"
    current = read_manifest(out)
    state = "complete" if current.complete else f"incomplete ({len(current.batches_complete)} of {current.batches} batches)"
    if pending is not None:
        state += (f", and an interrupted replacement ({len(pending.batches_complete)} of {pending.batches} batches) "
                  "that --resume finishes")
    return f"{out}: holds an earlier run ({state}); add --resume to finish it or --force to start again"


def _run(out: Path, target: Path, scenario: Scenario, manifest: Manifest, pool, notes: list[str],
         progress: Callable[[int, int], None] | None) -> RunResult:
    """Compute the missing batches into ``target``, committing each; swap into ``out`` when complete."""
    began = time.perf_counter()
    result = RunResult(out=out, manifest=manifest, engine=manifest.engine, notes=tuple(notes))
    done = set(manifest.batches_complete)
    todo = [Batch(scenario, i, first, last, str(target), manifest.events, manifest.engine, manifest.tables)
            for i, first, last in manifest.batch_ranges() if i not in done]
    finished = manifest.runs_done()
    try:
        target.mkdir(parents=True, exist_ok=True)
        write_manifest(target, manifest)
        if progress:
            progress(finished, manifest.runs)
        for batch_done in pool.map(todo, run_batch):
            manifest = manifest.with_batch(batch_done.index)
            write_manifest(target, manifest)  # the commit: the batch counts from here ...
            publish(target, batch_done.index, manifest.tables)  # ... and its parts become visible
            finished += batch_done.runs
            result.runs_computed += batch_done.runs
            result.applications += batch_done.applications
            if progress:
                progress(finished, manifest.runs)
        manifest = manifest.model_copy(update={"complete": len(manifest.batches_complete) == manifest.batches,
                                               "finished": dt.datetime.now().isoformat(timespec="seconds")})
        write_manifest(target, manifest)
        if manifest.complete:
            tidy(target)
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted: {_kept(out, target, manifest)}; finish with: "
                             f"{resume_command(manifest, out)}") from None
    except OSError as exc:
        what = f"{exc.filename}: " if exc.filename else f"{target}: "
        raise OutputError(f"{what}cannot write: {exc.strerror or exc}; {_kept(out, target, manifest)}; free some space "
                          f"(or fix the folder), then finish with: {resume_command(manifest, out)}") from None
    if target != out:
        swap(out)
    result.manifest = manifest
    result.seconds = time.perf_counter() - began
    result.tables = manifest.tables
    return result


def _kept(out: Path, target: Path, manifest: Manifest) -> str:
    kept = f"{manifest.runs_done()} of {manifest.runs} runs are kept"
    if target != out:
        kept += f" (in {target}; the earlier run in {out} is untouched until this one completes)"
    return kept


def _manifest(scenario: Scenario, model: Model, events: bool, engine: str, why: str, workers: int, pool) -> Manifest:
    mc = scenario.monte_carlo
    dask = pool.name == "dask"
    return Manifest(
        schema_version=SCHEMA_VERSION,
        sim_version=__version__,
        scenario=ScenarioInfo(file=scenario.path, name=scenario.name, title=scenario.spec.title,
                              file_sha256=file_digest(scenario.path), sha256=scenario.sha256,
                              settings={path: yaml_text(value) for path, value in scenario.settings},
                              inputs=dict(scenario.files)),
        seed=mc.seed,
        runs=mc.runs,
        batch_size=mc.batch_size,
        batches=-(-mc.runs // mc.batch_size),
        events=events,
        tables=("program_years", "pool_years", "funder_years", "cash_years", "cash_months")
        + (("awards", "payments") if events else ())
        + (("parameters",) if parameters.names(scenario) else ()),
        engine=engine,
        engine_reason=why,
        executor="dask" if dask else "serial" if workers <= 1 else "processes",
        workers=workers,
        dask_scheduler=pool.scheduler if dask else None,
        python=platform.python_version(),
        started=dt.datetime.now().isoformat(timespec="seconds"),
        horizon=(str(model.start), str(model.years[-1]) + "-12-31"),
        programs=tuple(_program_meta(model, p) for p in model.programs),
        pools=tuple(PoolInfo(pool=p.key, title=p.title, rationing=p.rationing, rationing_basis=p.rationing_basis,
                             period=p.period, budgets=dict(p.budgets)) for p in model.pools),
        funders=tuple(model.funders),
    )


def _program_meta(model: Model, p) -> ProgramInfo:
    return ProgramInfo(policy=p.policy, program=p.id, clause=p.program.clause, title=p.program.title,
                       pool=model.pools[p.pool].key, selection=p.program.selection)
