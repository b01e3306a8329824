"""`sim fit DATA --column COL`: a scenario distribution fitted to one column of a data file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table

from sim.cli.output import console, print_json
from sim.errors import SimError
from sim.planning.fit import Fit, fit
from sim.policy.attributes import VOCABULARY
from sim.policy.money import wan
from sim.report.terminal import show
from sim.scenario.data import DataError, column, read_table


def fit_command(
    data: Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx) or Parquet file, one row per firm.")],
    column_name: Annotated[str, typer.Option("--column", "-c", help="The column to fit, as headed in the file, e.g. 算力租赁费.")],
    attribute: Annotated[Optional[str], typer.Option("--attribute", "-a", help="Read the column as this firm attribute (its unit and kind), and key the block by it, e.g. compute_rental.")] = None,
    drop_bad: Annotated[bool, typer.Option("--drop-bad", help="Fit on the readable cells and list the others, instead of refusing the file.")] = False,
    gof_samples: Annotated[int, typer.Option("--gof-samples", help="Monte Carlo samples of the goodness-of-fit test (0: skip the test).")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the goodness-of-fit test's samples.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print every candidate as JSON.")] = False,
) -> None:
    """Fit lognormal, gamma, Weibull and empirical distributions to a column; print the best as a scenario block.

    Money cells may be written as 350万, 1.2亿 or 3500000; blank, negative or unreadable
    cells are reported by row.

    Example: sim fit data/applicants.csv --column 算力租赁费 --attribute compute_rental
    """
    if attribute is not None and attribute not in VOCABULARY:
        raise SimError(f"--attribute {attribute}: unknown firm attribute; known: {', '.join(sorted(VOCABULARY))}")
    if gof_samples < 0:
        raise SimError(f"--gof-samples {gof_samples}: must be 0 or more")
    frame = read_table(data)
    col, problems = column(frame, column_name, data, attribute=attribute)
    if problems and not drop_bad:
        raise DataError(problems)
    source = f"column {column_name} of {data}"
    result = fit(col.values, source=source, money=col.money, gof_samples=gof_samples, seed=seed)
    key = attribute or "value"
    if as_json:
        print_json(to_json(result, key, [str(p) for p in problems]))
        return
    out = console()
    for p in problems:
        out.print(f"dropped: {p}", style="yellow")
    show(out, candidates_table(result))
    out.print("Paste into the segment's attributes:")
    out.print("  " + result.block(key), soft_wrap=True)


def candidates_table(result: Fit) -> Table:
    t = Table(title=f"Distributions fitted to {result.source} (n={result.n}); best first", title_justify="left",
              box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False, show_edge=False)
    t.add_column("distribution", no_wrap=True)
    t.add_column("parameter", no_wrap=True)
    for name in ("value", "± se", "AIC", "KS", "KS p"):
        t.add_column(name, justify="right", no_wrap=True)
    t.add_column("", no_wrap=True)
    for c in result.candidates:
        mark = "chosen" if c is result.winner else ("rejected" if c.rejected else "")
        rows = [(k, _show(v, k, result.money), _show(c.se[k], k, result.money)) for k, v in c.params.items()] or [(c.note, "", "")]
        for i, (param, value, se) in enumerate(rows):
            first = i == 0
            t.add_row(c.name if first else "", param, value, se, _num(c.aic, 1) if first else "",
                      _num(c.ks, 3) if first else "", _num(c.ks_p, 3) if first else "", mark if first else "",
                      end_section=i == len(rows) - 1)
    return t


def _show(value: float, key: str, money: bool) -> str:
    if money and key in ("median", "scale"):
        return f"{wan(value)}万"
    return _num(value, 4)


def _num(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def to_json(result: Fit, key: str, dropped: list[str]) -> dict:
    return {
        "source": result.source, "n": result.n, "money": result.money, "winner": result.winner.name,
        "block": result.block(key), "dropped": dropped,
        "candidates": [{"name": c.name, "params": {k: float(v) for k, v in c.params.items()},
                        "se": {k: float(v) for k, v in c.se.items()}, "log_likelihood": c.log_likelihood,
                        "aic": c.aic, "bic": c.bic, "ks": c.ks, "ks_p": c.ks_p, "rejected": c.rejected, "note": c.note}
                       for c in result.candidates],
    }
