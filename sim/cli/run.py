"""`sim run SCENARIO`: the Monte Carlo runs of a scenario, to Parquet, with a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from sim.cli.options import LANG_HELP, SET_HELP, languages, whole, with_settings
from sim.cli.output import console, print_json
from sim.cli.progress import stages
from sim.policy.money import wan
from sim.report.figures import pool_summary
from sim.report.lang import Lang, tr
from sim.report.terminal import show
from sim.runs.runner import RunResult, simulate
from sim.scenario.load import load_scenario


def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/binjiang.yaml.")],
    settings: Annotated[list[str], typer.Option("--set", "-s", metavar="PATH=VALUE", help=SET_HELP)] = [],
    runs: Annotated[Optional[str], typer.Option("--runs", "-n", metavar="N", help="Monte Carlo runs (default: the scenario's).")] = None,
    seed: Annotated[Optional[str], typer.Option("--seed", metavar="N", help="Root seed (default: the scenario's).")] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", "-w", metavar="N", help="Worker processes (default: all cores).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output folder (default: outputs/<scenario name>).")] = None,
    events: Annotated[bool, typer.Option("--events", help="Also write every decision to the awards table.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run in the same folder, with the options it was started with.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier run in the same folder (kept until the new run completes).")] = False,
    batch_size: Annotated[Optional[str], typer.Option("--batch-size", metavar="N", help="Runs per batch written (default: the scenario's).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto (fast when it supports the scenario), simpy or fast.")] = "auto",
    executor: Annotated[str, typer.Option("--executor", help="local (processes on this machine) or dask.")] = "local",
    address: Annotated[Optional[str], typer.Option("--address", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --executor dask).")] = None,
    scheduler_file: Annotated[Optional[Path], typer.Option("--scheduler-file", help="Dask scheduler file (with --executor dask).")] = None,
    report: Annotated[bool, typer.Option("--report", help="Also write report.html, report.xlsx and summary.parquet (as `sim report`, risk 5%); turns on --events, which the chart of grants through the year needs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON (amounts in yuan) instead of a table.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table: print only where the outputs are.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help=LANG_HELP)] = None,
) -> None:
    """Run a scenario's Monte Carlo and write Parquet tables under outputs/.

    Example: sim run scenarios/binjiang.yaml --runs 2000 --workers 2

    A variant without a copy of the file (common random numbers with the original, same seed):
    sim run scenarios/binjiang.yaml --set segments.ai_smes.take_up.binjiang.compute_voucher.p=0.5 --out outputs/low-take-up

    On a Dask cluster whose workers share this file system:
    sim run scenarios/binjiang.yaml --runs 100000 --executor dask --address tcp://HOST:8786
    """
    files_lang, terminal = languages(lang)
    numbers = {"runs": whole("--runs", runs), "seed": whole("--seed", seed), "workers": whole("--workers", workers),
               "batch_size": whole("--batch-size", batch_size)}
    spec = with_settings(load_scenario(scenario), settings)
    with stages(f"sim run {spec.name}", show=not (quiet or as_json)) as update:
        result = simulate(spec, **numbers, out=out, events=True if events or report else None, resume=resume, force=force,
                          engine=engine, executor=executor, address=address,
                          scheduler_file=str(scheduler_file) if scheduler_file else None,
                          progress=lambda done, total: update("", done, total))
    files, reported = [], None
    if report:
        from sim.cli.report import build_and_write

        reported, files = build_and_write(result.out, risk=0.05, lang=files_lang)
    if as_json:
        print_json({**summary_json(result), "report": [str(f) for f in files]})
        return
    if quiet:
        print(result.out)
        for f in files:
            print(f)
        return
    print_summary(result, console(), lang=terminal)
    if reported is not None and reported.sensitivity is not None:  # which assumption drives each pool
        from sim.report.terminal import sensitivity_table

        console().print()
        show(console(), sensitivity_table(reported, terminal))
    if files:
        console().print(tr(terminal, "report: {files}", files=", ".join(str(f) for f in files)))


def summary_json(result: RunResult) -> dict:
    """What `sim run --json` prints: where, what ran, and the pools' figures in yuan."""
    m = result.manifest
    return {"out": str(result.out), "scenario": m.scenario.name, "runs": m.runs, "seed": m.seed, "engine": result.engine,
            "executor": m.executor, "workers": m.workers, "seconds": round(result.seconds, 3),
            "runs_computed": result.runs_computed, "complete": m.complete, "repaired": list(result.notes),
            "pools": pool_summary(result.out)}


def print_summary(result: RunResult, console: Console, *, lang: Lang = "en") -> None:
    m = result.manifest
    for note in result.notes:
        console.print(f"repaired: {note}")
    console.print(tr(lang, "{runs} runs of {name} (seed {seed}, engine {engine}, {executor} × {workers}) in {seconds} s → {out}",
                     runs=m.runs, name=m.scenario.name, seed=m.seed, engine=result.engine, executor=m.executor,
                     workers=m.workers, seconds=f"{result.seconds:.1f}", out=result.out))
    table = Table(title=tr(lang, "Pools per budget year (万元; demand = what applications asked)"), title_justify="left",
                  padding=(0, 1), collapse_padding=True)
    table.add_column(tr(lang, "pool"), no_wrap=True)
    for col in ("year", "budget", "demand\np50", "demand\np90", "granted\np50", "granted\np90", "P(dry)\n± se"):
        table.add_column(tr(lang, col), justify="right", no_wrap=True, min_width=4)
    summary = pool_summary(result.out)
    single = m.single_policy
    active = summary.group_by("pool").agg(pl.col("demand_p90").max()).filter(pl.col("demand_p90") > 0)["pool"]
    shown = summary.filter(pl.col("pool").is_in(active.implode()) | pl.col("budget").is_not_null())
    for row in shown.iter_rows(named=True):
        table.add_row(row["pool"].split(".", 1)[-1] if single else row["pool"], str(row["year"]),
                      wan(row["budget"], 0) if row["budget"] is not None else tr(lang, "no limit"),
                      wan(row["demand_p50"], 0), wan(row["demand_p90"], 0),
                      wan(row["granted_p50"], 0), wan(row["granted_p90"], 0),
                      f"{100 * row['p_dry']:.1f}% ± {100 * row['p_dry_se']:.1f}%" if row["budget"] is not None else "—")
    show(console, table)
    console.print(tr(lang, "p50, p90: the median and 90th percentile across runs (their 95% intervals and the budget "
                           "needed: `sim report {out}`).", out=result.out), style="dim", markup=False)
    hidden = summary["pool"].n_unique() - shown["pool"].n_unique()
    if hidden:
        console.print(tr(lang, "{n} pool(s) without a budget had no demand in any run and are not shown: no figure includes "
                               "them (`sim report` names their programs).", n=hidden), style="dim", markup=False)
