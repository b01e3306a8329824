"""`sim run SCENARIO`: the Monte Carlo runs of a scenario, to Parquet, with a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.policy.money import wan
from sim.runs.runner import RunResult, simulate
from sim.runs.storage import scan
from sim.scenario.load import load_scenario


def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/binjiang.yaml.")],
    runs: Annotated[Optional[int], typer.Option("--runs", "-n", help="Monte Carlo runs (default: the scenario's).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Root seed (default: the scenario's).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", "-w", help="Worker processes (default: all cores).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output folder (default: outputs/<scenario name>).")] = None,
    events: Annotated[bool, typer.Option("--events", help="Also write every decision to the awards table.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run in the same folder, with the options it was started with.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier run in the same folder (kept until the new run completes).")] = False,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Runs per batch written (default: the scenario's).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto (fast when it supports the scenario), simpy or fast.")] = "auto",
    executor: Annotated[str, typer.Option("--executor", help="local (processes on this machine) or dask.")] = "local",
    address: Annotated[Optional[str], typer.Option("--address", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --executor dask).")] = None,
    scheduler_file: Annotated[Optional[Path], typer.Option("--scheduler-file", help="Dask scheduler file (with --executor dask).")] = None,
    report: Annotated[bool, typer.Option("--report", help="Also write report.html, report.xlsx and summary.parquet (as `sim report`, risk 5%); turns on --events, which the chart of grants through the year needs.")] = False,
) -> None:
    """Run a scenario's Monte Carlo and write Parquet tables under outputs/.

    Example: sim run scenarios/binjiang.yaml --runs 2000 --workers 2

    On a Dask cluster whose workers share this file system:
    sim run scenarios/binjiang.yaml --runs 100000 --executor dask --address tcp://HOST:8786
    """
    spec = load_scenario(scenario)
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
    task = bar.add_task(f"sim run {spec.name}", total=None)

    def progress(done: int, total: int) -> None:
        bar.start()  # only once the output folder is accepted: a refusal shows no bar
        bar.update(task, completed=done, total=total)

    try:
        result = simulate(spec, runs=runs, seed=seed, workers=workers, out=out, events=True if events or report else None,
                          resume=resume, force=force, batch_size=batch_size, engine=engine,
                          executor=executor, address=address,
                          scheduler_file=str(scheduler_file) if scheduler_file else None, progress=progress)
    finally:
        bar.stop()
    print_summary(result, Console(highlight=False))
    if report:
        from sim.cli.report import make_report

        make_report(result.out, risk=0.05, console=Console(highlight=False), tables=False)


def pool_summary(out: Path) -> pl.DataFrame:
    """Per pool and year across runs: median and 90th percentile of demand and grants, share dry."""
    demand = (scan(out, "program_years").group_by("run", "pool", "year")
              .agg(pl.col("demand_yuan").sum()))
    pools = scan(out, "pool_years").join(demand, on=["run", "pool", "year"], how="left")
    return (pools.group_by("pool", "year")
            .agg(pl.col("budget_yuan").first().alias("budget"),
                 pl.col("demand_yuan").median().alias("demand_p50"),
                 pl.col("demand_yuan").quantile(0.9, "higher").alias("demand_p90"),
                 pl.col("granted_yuan").median().alias("granted_p50"),
                 pl.col("granted_yuan").quantile(0.9, "higher").alias("granted_p90"),
                 pl.col("exhausted_on").is_not_null().mean().alias("p_dry"))
            .sort("pool", "year").collect())


def print_summary(result: RunResult, console: Console) -> None:
    m = result.manifest
    for note in result.notes:
        console.print(f"repaired: {note}", markup=False)
    console.print(f"{m.runs} runs of {m.scenario.name} (seed {m.seed}, engine {result.engine}, "
                  f"{m.executor} × {m.workers}) in {result.seconds:.1f} s → {result.out}", markup=False)
    table = Table(title="Pools per budget year (万元; demand = what applications asked)", title_justify="left",
                  padding=(0, 1), collapse_padding=True)
    table.add_column("pool", no_wrap=True, overflow="ellipsis")
    for col in ("year", "budget", "demand\np50", "demand\np90", "granted\np50", "granted\np90", "P(dry)"):
        table.add_column(col, justify="right", no_wrap=True, min_width=4)
    summary = pool_summary(result.out)
    single = m.single_policy
    active = summary.group_by("pool").agg(pl.col("demand_p90").max()).filter(pl.col("demand_p90") > 0)["pool"]
    for row in summary.filter(pl.col("pool").is_in(active.implode()) | pl.col("budget").is_not_null()).iter_rows(named=True):
        table.add_row(row["pool"].split(".", 1)[-1] if single else row["pool"], str(row["year"]),
                      wan(row["budget"], 0) if row["budget"] is not None else "—",
                      wan(row["demand_p50"], 0), wan(row["demand_p90"], 0),
                      wan(row["granted_p50"], 0), wan(row["granted_p90"], 0), f"{row['p_dry']:.0%}")
    console.print(table)
