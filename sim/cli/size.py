"""`sim size SCENARIO --risk 0.05`: the budget per pool and year at a target risk of running dry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sim.cli.options import languages, probability, whole
from sim.errors import OptionError
from sim.report.cash import ALL
from sim.cli.output import console, print_json
from sim.cli.progress import stages
from sim.planning.sizing import Sizing
from sim.planning.sizing import size as run_sizing
from sim.report.display import gap, interval, percent, short_pool, wan, wan_up
from sim.report.lang import Lang, tr
from sim.report.terminal import show
from sim.scenario.load import load_scenario


def size(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/binjiang.yaml.")],
    risk: Annotated[float, typer.Option("--risk", help="Target chance of a pool running dry in a year (0 < risk < 1).")] = 0.05,
    runs: Annotated[Optional[str], typer.Option("--runs", "-n", metavar="N", help="Monte Carlo runs (default: the scenario's).")] = None,
    seed: Annotated[Optional[str], typer.Option("--seed", metavar="N", help="Root seed (default: the scenario's).")] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", "-w", metavar="N", help="Worker processes (default: all cores).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output folder (default: outputs/<scenario>-size).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier sizing in the same folder.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON (amounts in yuan) instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table: print only where the results are.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help="zh or en: the language of the table printed here (default en).")] = None,
    basis: Annotated[str, typer.Option("--basis", help="commitment (default: what a pool's budget limits, grants in the "
                                                        "year decided) or cash (also what the treasury pays each fiscal "
                                                        "year with the sized budgets, the tail after the horizon included).")] = "commitment",
) -> None:
    """Size each pool's budget per year so that it runs dry with at most the target risk, then confirm by a second run.

    Writes base/ and confirm/ (run outputs), sizing.parquet and sizing.csv into the folder; with --basis cash also
    sizing_cash.parquet and sizing_cash.csv, the cash budget per pool and funder and fiscal year.

    Example: sim size scenarios/binjiang.yaml --risk 0.05 --runs 2000 --workers 2 --basis cash
    """
    probability("--risk", risk)
    if basis not in ("commitment", "cash"):
        raise OptionError("--basis", basis, "must be commitment (what a pool's budget limits: grants in the year decided; "
                          "the default) or cash (what the treasury pays each year)")
    _, terminal = languages(lang)
    spec = load_scenario(scenario)
    numbers = {"runs": whole("--runs", runs), "seed": whole("--seed", seed), "workers": whole("--workers", workers)}
    with stages(f"sim size {spec.name}", show=not (quiet or as_json)) as progress:
        result = run_sizing(spec, risk=risk, **numbers, out=out, force=force, basis=basis, progress=progress)
    files = [result.out / "sizing.parquet", result.out / "sizing.csv"]
    if result.cash is not None:
        files += [result.out / "sizing_cash.parquet", result.out / "sizing_cash.csv"]
    if as_json:
        print_json({"out": str(result.out), "runs": result.base.manifest.runs, "seed": result.base.manifest.seed,
                    "risk": risk, "basis": basis, "sizing": result.table,
                    **({"cash": result.cash} if result.cash is not None else {}),
                    "not_sized": [{"what": w, "why": y} for w, y in result.skipped], "files": [str(f) for f in files]})
    elif quiet:
        for f in files:
            print(f)
    else:
        print_sizing(result, risk, console(), lang=terminal)


BASIS_NOTE = {"payable": "what each pool would grant with unlimited money (count limits and shared caps applied), "
                          "the basis on which it runs dry.",
              "demand": "all that was asked (a run written before payable demand was recorded)."}


def print_sizing(result: Sizing, risk: float, console: Console, *, lang: Lang = "en") -> None:
    m = result.base.manifest
    single = m.single_policy
    table = Table(title=tr(lang, "Budgets that keep the chance of running dry at or below {risk} (万元)", risk=percent(risk, 1)),
                  title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
                  show_edge=False, pad_edge=False)
    table.add_column(tr(lang, "pool"), max_width=26, overflow="fold")
    for name in ("year", "budget\nnow", "P(dry)\nnow", "budget\nneeded", "needed\n95% CI", "change", "P(dry) with\nneeded ± se"):
        table.add_column(tr(lang, name), justify="right", no_wrap=True)
    for (pool,), part in result.table.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            confirmed = "—" if r["p_dry_confirmed"] is None else f"{percent(r['p_dry_confirmed'])} ± {percent(r['p_dry_confirmed_se'])}"
            table.add_row(short_pool(pool, single) if i == 0 else "",
                          f"{r['year']}" if r["period"] == "year" else f"≤{r['year']} {tr(lang, '(life)')}",
                          wan(r["budget_yuan"], 0), percent(r["p_dry"]), wan_up(r["budget_needed_yuan"]),
                          interval(r["budget_needed_lo"], r["budget_needed_hi"], wan_up),
                          gap(r["budget_needed_yuan"], r["budget_yuan"]), confirmed,
                          end_section=i == part.height - 1)
    console.print(tr(lang, "{runs} runs of {name} (seed {seed}), confirmed with the same seed → {out}",
                     runs=m.runs, name=m.scenario.name, seed=m.seed, out=result.out))
    show(console, table)
    missed = result.table.filter(pl.col("within_risk").not_())
    if missed.height:
        console.print(tr(lang, "{n} pool-year(s) run dry more often than {risk} with the budget needed (all-or-nothing grants "
                               "that do not fit, claims made again after a refusal or applications released late by a "
                               "不重复 group empty a pool before its payable demand reaches the budget); see sizing.csv.",
                         n=missed.height, risk=percent(risk, 1)), style="yellow")
    for what, why in result.skipped:
        console.print(tr(lang, "not sized: {what}: {why}", what=what, why=tr(lang, why)), style="dim")
    if result.table.height:
        console.print(tr(lang, "Budget needed on {basis}: " + BASIS_NOTE[result.table["demand_basis"][0]],
                         basis=tr(lang, result.table["demand_basis"][0])), style="dim")
    console.print(tr(lang, "The 95% CI is the Monte Carlo uncertainty of the budget needed (more runs narrow it); the "
                           "confirmation reuses the same random draws, so it checks the rationing, not that uncertainty."),
                  style="dim")
    if result.cash is not None:
        console.print()
        show(console, cash_table(result, risk, lang))
        console.print(tr(lang, "Cash on a cash basis: the amount the year's cash exceeds in at most {risk} of runs, with "
                               "the budgets above; years after the horizon are the tail of commitments made in it.",
                         risk=percent(risk, 1)), style="dim")
    files = [result.out / "sizing.parquet", result.out / "sizing.csv"]
    if result.cash is not None:
        files += [result.out / "sizing_cash.parquet", result.out / "sizing_cash.csv"]
    console.print(tr(lang, "sizing: {files}", files=", ".join(str(f) for f in files)))


def cash_table(result: Sizing, risk: float, lang: Lang) -> Table:
    """The cash budget per pool (all funders) and per funder (all pools) and fiscal year."""
    table = Table(title=tr(lang, "Cash each fiscal year with those budgets: budget needed at {risk} risk on a cash basis (万元)",
                           risk=percent(risk, 1)),
                  title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
                  show_edge=False, pad_edge=False)
    table.add_column(tr(lang, "pool · funder"), max_width=30, overflow="fold")
    for name in ("year", "budget", "committed\nmean", "paid\nmean", "needed\ncash", "needed\n95% CI", "outstanding\nyear end"):
        table.add_column(tr(lang, name), justify="right", no_wrap=True)
    single = result.base.manifest.single_policy
    for _, part in result.cash.group_by("pool", "funder", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            pool = tr(lang, "all pools") if r["pool"] == ALL else short_pool(r["pool"], single)
            funder = tr(lang, "all funders") if r["funder"] == ALL else tr(lang, r["funder"])
            table.add_row(f"{pool} · {funder}" if i == 0 else "", str(r["year"]),
                          wan(r["budget_yuan"], 0) if r["budget_yuan"] is not None else "—",
                          wan(r["committed_mean"], 0), wan(r["paid_mean"], 0), wan_up(r["paid_needed"]),
                          interval(r["paid_needed_lo"], r["paid_needed_hi"], wan_up), wan(r["outstanding_mean"], 0),
                          end_section=i == part.height - 1)
    return table
