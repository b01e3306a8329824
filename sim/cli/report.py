"""`sim report DIR`: budget figures of a run, in the terminal and as report.html, report.xlsx, summary.parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from sim.cli.options import LANG_HELP, languages, probability
from sim.cli.output import console, print_json
from sim.report.figures import Report, build_report
from sim.report.lang import Lang, tr
from sim.report.render import write_report
from sim.report.terminal import print_report
from sim.runs.lock import locked
from sim.runs.manifest import read_manifest

RISK_HELP = "Target chance of a pool running dry in a year, for the budget needed (0 < risk < 1)."


def report(
    directory: Annotated[Path, typer.Argument(help="Output folder of `sim run`, e.g. outputs/binjiang.")],
    risk: Annotated[float, typer.Option("--risk", help=RISK_HELP)] = 0.05,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Write the files; print only where they are.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON (amounts in yuan, dates as YYYY-MM-DD) instead of tables.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help=LANG_HELP)] = None,
) -> None:
    """Report a run: spend, unmet demand, chance and date of pools running dry, budget needed at a risk.

    Writes report.html (charts and tables, one file that opens offline), report.xlsx and
    summary.parquet into DIR.

    Example: sim report outputs/binjiang --risk 0.05
    """
    probability("--risk", risk)
    files, terminal = languages(lang)
    if as_json:
        result, paths = build_and_write(directory, risk=risk, lang=files)
        print_json({"out": str(directory), "files": [str(p) for p in paths], "runs": result.runs, "risk": risk,
                    "pool_risk": result.pool_risk, "pools": result.pools, "programs": result.programs,
                    "programs_left_out": result.idle_programs().select("policy", "program", "clause", "title"),
                    "funders": result.funders, "sensitivity": result.sensitivity,
                    **({"cash": result.cash} if result.cash is not None else {})})
        return
    paths = make_report(directory, risk=risk, console=console(), tables=not quiet, quiet=quiet, lang=files, terminal=terminal)
    if quiet:
        for path in paths:
            print(path)


def build_and_write(directory: Path, *, risk: float, lang: Lang = "zh") -> tuple[Report, list[Path]]:
    """Compute the report of a run folder and write its files, holding the folder's lock from reading to writing.

    So the files describe exactly the run that was read, and no run can replace it in between.
    """
    read_manifest(directory)  # not a run: refused before the folder's lock is taken
    with locked(directory, create=False):
        result = build_report(directory, risk=risk)
        return result, write_report(result, lang=lang)


def make_report(directory: Path, *, risk: float, console: Console, tables: bool = True, quiet: bool = False,
                lang: Lang = "zh", terminal: Lang = "en") -> list[Path]:
    """Compute the report of a run folder, write its files (in ``lang``), print it (in ``terminal``); shared with `sim run --report`."""
    result, paths = build_and_write(directory, risk=risk, lang=lang)
    if tables:
        print_report(result, console, lang=terminal)
    if not quiet:
        console.print(tr(terminal, "report: {files}", files=", ".join(str(p) for p in paths)))
    return paths
