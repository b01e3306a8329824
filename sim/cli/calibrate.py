"""`sim calibrate SCENARIO --observed OBSERVED.yaml`: the uncertain assumptions narrowed to what was seen."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sim.cli.options import SET_HELP, whole, with_settings
from sim.cli.output import console, print_json
from sim.cli.progress import stages
from sim.planning.calibrate import Calibration
from sim.planning.calibrate import calibrate as run_calibration
from sim.report.terminal import show
from sim.scenario.load import load_scenario
from sim.scenario.uncertain import EPOCH


def calibrate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file whose uncertain assumptions are the prior, e.g. scenarios/binjiang.yaml.")],
    observed: Annotated[Path, typer.Option("--observed", help="What was seen: per program and year applications, awards, granted; per pool and year dry and on (see scenarios/observed/).")],
    runs: Annotated[Optional[str], typer.Option("--runs", "-n", metavar="N", help="Prior runs (default: the scenario's).")] = None,
    accept: Annotated[float, typer.Option("--accept", help="Share of the prior runs kept, nearest the observations first.")] = 0.1,
    adjust: Annotated[bool, typer.Option("--adjust/--no-adjust", help="Regression adjustment of the kept draws (Beaumont et al. 2002).")] = True,
    check_runs: Annotated[str, typer.Option("--check-runs", metavar="N", help="Runs of the calibrated scenario for the predictive check.")] = "200",
    settings: Annotated[list[str], typer.Option("--set", "-s", metavar="PATH=VALUE", help=SET_HELP)] = [],
    seed: Annotated[Optional[str], typer.Option("--seed", metavar="N", help="Root seed (default: the scenario's).")] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", "-w", metavar="N", help="Worker processes (default: all cores).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output folder (default: outputs/<scenario>-calibration).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish (or reuse) the prior runs in the folder, e.g. to calibrate to another observed file.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Run the prior again, replacing the earlier runs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the posterior and the check as JSON instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table: print only where the results are.")] = False,
) -> None:
    """Calibrate the scenario's uncertain assumptions to observed figures (rejection ABC on prior runs).

    Prints per parameter the prior and posterior median and 90% interval and the effective
    sample size, and each observed figure beside the calibrated model's 90% interval.
    Writes prior/ and check/ (run folders), calibration.parquet (the kept draws) and
    <name>_calibrated.yaml, a scenario that `sim run`, `report`, `size` and `sensitivity` take.

    Example: sim calibrate scenarios/binjiang.yaml --observed scenarios/observed/binjiang-2025.yaml --runs 2000
    """
    spec = with_settings(load_scenario(scenario), settings)
    numbers = {"runs": whole("--runs", runs), "seed": whole("--seed", seed), "workers": whole("--workers", workers),
               "check_runs": whole("--check-runs", check_runs)}
    with stages(f"sim calibrate {spec.name}", show=not (quiet or as_json)) as progress:
        result = run_calibration(spec, observed, accept=accept, adjust=adjust, out=out, resume=resume, force=force,
                                 progress=progress, **numbers)
    files = [result.out / "calibration.parquet", result.scenario_file]
    err = console(stderr=True)
    if as_json:
        print_json({"out": str(result.out), "runs": result.runs, "seed": result.seed, "accepted": result.accepted,
                    "ess": result.ess, "adjusted": result.adjusted, "observed": result.observed.file,
                    "posterior": result.summary, "check": result.check, "warnings": list(result.warnings),
                    "files": [str(f) for f in files]})
    elif quiet:
        for f in files:
            print(f)
    else:
        print_calibration(result, console())
        console().print(f"calibrated scenario: {result.scenario_file}   draws: {files[0]}")
    for w in result.warnings:
        err.print(f"warning: {w}", style="yellow")


def print_calibration(result: Calibration, out: Console) -> None:
    """The posterior beside the prior, then the predictive check."""
    out.print(f"Calibration of {result.scenario.name} to {result.observed.file}: {result.accepted} of {result.runs} prior "
              f"runs kept (seed {result.seed}), effective sample size {result.ess:.0f}"
              + (", regression-adjusted" if result.adjusted else ""))
    t = Table(title="Posterior against prior: median and 90% interval", title_justify="left", title_style="bold",
              box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, show_edge=False, pad_edge=False)
    t.add_column("parameter", overflow="fold")
    for name in ("prior median", "prior 90%", "posterior median", "posterior 90%", "narrower"):
        t.add_column(name, justify="right", no_wrap=True)
    for r in result.summary.iter_rows(named=True):
        kind = r["kind"]
        t.add_row(r["parameter"], value(r["prior_median"], kind), f"{value(r['prior_low'], kind)} … {value(r['prior_high'], kind)}",
                  value(r["posterior_median"], kind),
                  f"{value(r['posterior_low'], kind)} … {value(r['posterior_high'], kind)}", f"{r['narrowing']:.0%}")
    show(out, t)
    c = Table(title="Posterior-predictive check: each observed figure beside the calibrated model's 90% interval",
              title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
              show_edge=False, pad_edge=False)
    c.add_column("figure", overflow="fold")
    for name in ("observed", "predicted median", "predicted 90%", ""):
        c.add_column(name, justify="right" if name else "left", no_wrap=True)
    for r in result.check.iter_rows(named=True):
        c.add_row(r["figure"], r["shown_observed"], r["shown_median"], f"{r['shown_low']} … {r['shown_high']}",
                  "inside" if r["inside"] else "OUTSIDE")
    show(out, c)


def value(v: float, kind: str) -> str:
    """A parameter's value as a reader reads it: 120万, 0.62, 2025-01-12, 31.5."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if kind == "money":
        return f"{v / 10_000:,.0f}万"
    if kind == "date":
        import datetime as dt

        return str(EPOCH + dt.timedelta(days=int(round(v))))
    if kind == "count":
        return f"{v:,.0f}"
    return f"{v:.3g}"
