"""`sim sweep SCENARIO --set PATH=V1,V2 …`: a grid of what-ifs with common random numbers, compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sim.cli.options import LANG_HELP, languages, probability, whole
from sim.cli.output import console, print_json
from sim.cli.progress import stages
from sim.planning.sweep import SweepResult, parse_axis
from sim.planning.sweep import sweep as run_sweep
from sim.report.display import percent, short_paths, short_pool, wan, wan_up
from sim.report.lang import Lang, tr
from sim.report.terminal import show
from sim.scenario.load import load_scenario

SET_HELP = ("PATH=V1,V2,…: a dotted scenario path and its values, each read as YAML (0.5 a number, 5000万 an amount); "
            "repeat for a grid. Values with commas go in {…}, […] or quotes.")


def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/binjiang.yaml.")],
    settings: Annotated[list[str], typer.Option("--set", "-s", metavar="PATH=V1,V2", help=SET_HELP)] = [],
    runs: Annotated[Optional[str], typer.Option("--runs", "-n", metavar="N", help="Monte Carlo runs per variant (default: the scenario's).")] = None,
    seed: Annotated[Optional[str], typer.Option("--seed", metavar="N", help="Root seed, the same for every variant (default: the scenario's).")] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", "-w", metavar="N", help="Worker processes (default: all cores).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output folder (default: outputs/<scenario>-sweep).")] = None,
    risk: Annotated[float, typer.Option("--risk", help="Target risk for the budget needed column (0 < risk < 1).")] = 0.05,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier sweep in the same folder.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON (amounts in yuan) instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table: print only where the results are.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help=LANG_HELP)] = None,
) -> None:
    """Run every combination of the values set, with the same seed, and compare pools across the variants.

    Each variant's outputs go to v01/, v02/, … in the folder; the comparison to sweep.parquet,
    sweep.csv and sweep.html.

    Example: sim sweep scenarios/binjiang.yaml --set overrides.binjiang.pools.compute_vouchers.budget=5000万,1亿,1.5亿 --runs 500
    """
    probability("--risk", risk)
    files, terminal = languages(lang)
    axes = [parse_axis(s) for s in settings]
    spec = load_scenario(scenario)
    numbers = {"runs": whole("--runs", runs), "seed": whole("--seed", seed), "workers": whole("--workers", workers)}
    with stages(f"sim sweep {spec.name}", show=not (quiet or as_json)) as progress:
        result = run_sweep(spec, axes, **numbers, out=out, force=force, risk=risk, lang=files, progress=progress)
    files = [result.out / name for name in ("sweep.html", "sweep.parquet", "sweep.csv")]
    if as_json:
        print_json({"out": str(result.out), "runs": result.runs, "seed": result.seed, "risk": result.risk,
                    "variants": [{"variant": v.name, "folder": str(result.out / v.name), **v.labels} for v in result.variants],
                    "comparison": result.table, "files": [str(f) for f in files]})
    elif quiet:
        for f in files:
            print(f)
    else:
        print_sweep(result, console(), lang=terminal)


def print_sweep(result: SweepResult, console: Console, *, lang: Lang = "en") -> None:
    single = result.manifest.single_policy
    console.print(tr(lang, "{n} variants × {runs} runs, seed {seed} for all (common random numbers) → {out}",
                     n=len(result.variants), runs=result.runs, seed=result.seed, out=result.out))
    legend = _table(tr(lang, "Variants"))
    legend.add_column(tr(lang, "variant"))
    for axis in result.axes:
        legend.add_column(axis.path, overflow="fold")
    for v in result.variants:
        legend.add_row(v.name, *[v.labels[a.path] for a in result.axes])
    show(console, legend)
    moved = result.varying_pools()
    shown = result.table.filter(pl.col("pool").is_in(moved)) if moved else result.table
    t = _table(tr(lang, "Pools the sweep changes (万元; ± standard error)") if moved
               else tr(lang, "No pool changes across the variants (万元)"))
    t.add_column(tr(lang, "pool"), max_width=22, overflow="fold")
    t.add_column(tr(lang, "year"), justify="right", no_wrap=True)
    t.add_column(tr(lang, "variant"), no_wrap=True)
    names = short_paths([a.path for a in result.axes])
    for name in names:
        t.add_column(name, justify="right", no_wrap=True)
    for name in ("pool\nbudget", "P(dry) ± se", "granted\nmean", "unmet\nmean", "needed at\n{risk}"):
        t.add_column(tr(lang, name, risk=percent(result.risk, 0)), justify="right", no_wrap=True)
    for (pool,), part in shown.group_by("pool", maintain_order=True):
        for j, ((year,), rows) in enumerate(part.group_by("year", maintain_order=True)):
            for i, r in enumerate(rows.iter_rows(named=True)):
                t.add_row(short_pool(pool, single) if i == 0 and j == 0 else "", str(year) if i == 0 else "", r["variant"],
                          *[str(r[a.path]) for a in result.axes],
                          wan(r["budget_yuan"], 0) if r["budget_yuan"] is not None else tr(lang, "no limit"),
                          f"{percent(r['p_dry'])} ± {percent(r['p_dry_se'])}", wan(r["granted_mean"], 0),
                          wan(r["unmet_mean"], 0), wan_up(r["budget_needed_yuan"]), end_section=i == rows.height - 1)
    show(console, t)
    console.print(tr(lang, "sweep: {files}", files=f"{result.out / 'sweep.html'}, {result.out / 'sweep.parquet'}, {result.out / 'sweep.csv'}"))


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1),
                 collapse_padding=True, show_edge=False, pad_edge=False)
