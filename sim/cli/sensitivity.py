"""`sim sensitivity SCENARIO`: the tornado — each uncertain assumption held at its 10th and 90th percentile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sim.cli.options import LANG_HELP, SET_HELP, languages, probability, whole, with_settings
from sim.cli.output import console, print_json
from sim.cli.progress import stages
from sim.planning.tornado import Tornado, label, shown
from sim.planning.tornado import tornado as run_tornado
from sim.report.display import percent, short_pool
from sim.report.lang import Lang, tr
from sim.report.terminal import show
from sim.scenario.load import load_scenario

BAR = 12  # characters of the longest swing's bar


def sensitivity(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with uncertain assumptions, e.g. scenarios/binjiang.yaml.")],
    params: Annotated[list[str], typer.Option("--param", "-p", metavar="PATH", help="Only this uncertain number (its path, or factors.NAME); repeat for several. Default: all.")] = [],
    settings: Annotated[list[str], typer.Option("--set", "-s", metavar="PATH=VALUE", help=SET_HELP)] = [],
    runs: Annotated[Optional[str], typer.Option("--runs", "-n", metavar="N", help="Monte Carlo runs per setting (default: the scenario's).")] = None,
    seed: Annotated[Optional[str], typer.Option("--seed", metavar="N", help="Root seed, the same for every setting (default: the scenario's).")] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", "-w", metavar="N", help="Worker processes (default: all cores).")] = None,
    risk: Annotated[float, typer.Option("--risk", help="Target risk for the budget needed (0 < risk < 1).")] = 0.05,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output folder (default: outputs/<scenario>-sensitivity).")] = None,
    top: Annotated[int, typer.Option("--top", help="Assumptions printed per pool and year (every one is in tornado.parquet).")] = 5,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier tornado in the same folder.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON (amounts in yuan) instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table: print only where the results are.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help=LANG_HELP)] = None,
) -> None:
    """Hold each uncertain assumption at its 10th and 90th percentile (common random numbers) and rank the swing of each pool's budget needed and P(dry).

    Writes base/, 01-low/, 01-high/, … (run folders), tornado.parquet and tornado.html.

    Example: sim sensitivity scenarios/binjiang.yaml --runs 500
    """
    probability("--risk", risk)
    if top < 1:
        from sim.errors import OptionError

        raise OptionError("--top", top, "must be 1 or more, e.g. --top 5")
    files_lang, terminal = languages(lang)
    spec = with_settings(load_scenario(scenario), settings)
    numbers = {"runs": whole("--runs", runs), "seed": whole("--seed", seed), "workers": whole("--workers", workers)}
    with stages(f"sim sensitivity {spec.name}", show=not (quiet or as_json)) as progress:
        result = run_tornado(spec, params=params or None, **numbers, risk=risk, out=out, force=force, lang=files_lang,
                             progress=progress)
    files = [result.out / "tornado.html", result.out / "tornado.parquet"]
    if as_json:
        print_json({"out": str(result.out), "runs": result.runs, "seed": result.seed, "risk": risk,
                    "held": [{"parameter": s.name, "p10": s.shown_low, "p90": s.shown_high} for s in result.settings],
                    "tornado": result.table, "files": [str(f) for f in files]})
    elif quiet:
        for f in files:
            print(f)
    else:
        print_tornado(result, console(), lang=terminal, top=top)
        console().print(tr(terminal, "tornado: {files}", files=", ".join(str(f) for f in files)))


def print_tornado(result: Tornado, console: Console, *, lang: Lang = "en", top: int = 5) -> None:
    """Per pool with a budget and year: the assumptions with the largest swing of the budget needed, with P(dry) beside."""
    single = result.manifest.single_policy
    console.print(tr(lang, "Tornado of {name}: {runs} runs per setting, seed {seed}, each assumption at its 10th and 90th "
                           "percentile (others as in the scenario)", name=result.scenario.name, runs=result.runs,
                     seed=result.seed), markup=False)
    budgeted = result.table.filter(pl.col("measure") == "p_dry")["pool"].unique().sort().to_list()
    needed = result.table.filter((pl.col("measure") == "budget_needed") & pl.col("pool").is_in(budgeted))
    dry = result.table.filter(pl.col("measure") == "p_dry").select("pool", "year", "parameter", pl.col("at_low").alias("dry_low"),
                                                                    pl.col("at_high").alias("dry_high"),
                                                                    pl.col("swing").alias("dry_swing"))
    frame = (needed.join(dry, on=["pool", "year", "parameter"], how="left")
             .filter((pl.col("rank") <= top) & ((pl.col("swing") != 0) | (pl.col("dry_swing").fill_null(0) != 0)))
             .sort("pool", "year", "rank"))
    t = Table(title=tr(lang, "Swing of the budget needed at {risk} risk (万元) and of P(dry), largest first",
                       risk=percent(result.risk, 0)), title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
              padding=(0, 1), collapse_padding=True, show_edge=False, pad_edge=False)
    t.add_column(tr(lang, "pool"), max_width=22, overflow="fold")
    t.add_column(tr(lang, "year"), justify="right")
    t.add_column(tr(lang, "assumption (P10 → P90)"), overflow="fold")
    for name in ("needed\nat P10", "needed\nat P90", "swing", "swing\n95% CI", "", "P(dry)\nP10 → P90"):
        t.add_column(tr(lang, name) if name else "", justify="left" if not name else "right", no_wrap=True)
    largest = max(frame["swing"].abs().max() or 0, 1)
    last = None
    for r in frame.iter_rows(named=True):
        bar = "█" * max(1, round(BAR * abs(r["swing"]) / largest)) if r["swing"] else ""
        t.add_row(short_pool(r["pool"], single) if (r["pool"], r["year"]) != last and r["pool"] != (last or ("",))[0] else "",
                  str(r["year"]) if (r["pool"], r["year"]) != last else "",
                  f"{label(result, r['parameter'], lang)} ({r['shown_low']} → {r['shown_high']})",
                  shown(r["at_low"], "budget_needed"), shown(r["at_high"], "budget_needed"),
                  shown(r["swing"], "budget_needed", signed=True),
                  f"{shown(r['swing_low'], 'budget_needed', signed=True)} … {shown(r['swing_high'], 'budget_needed', signed=True)}",
                  bar, f"{percent(r['dry_low'], 0)} → {percent(r['dry_high'], 0)}",
                  end_section=r["rank"] == frame.filter((pl.col("pool") == r["pool"]) & (pl.col("year") == r["year"]))["rank"].max())
        last = (r["pool"], r["year"])
    show(console, t)
