"""`sim compare DIR_A DIR_B`: two variants run with the same seed, compared run by run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sim.cli.options import LANG_HELP, languages, probability
from sim.cli.output import console, print_json
from sim.planning.compare import MEASURE_LABEL, Comparison, compare_runs, shown, shown_difference, write_comparison
from sim.report.display import percent, short_pool
from sim.report.lang import Lang, tr
from sim.report.terminal import show


def compare(
    a: Annotated[Path, typer.Argument(help="Output folder of the first run (A), e.g. outputs/binjiang.")],
    b: Annotated[Path, typer.Argument(help="Output folder of the second run (B), run with the same seed and --runs.")],
    risk: Annotated[float, typer.Option("--risk", help="Target risk for the budget needed (0 < risk < 1).")] = 0.05,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for compare.html and compare.parquet (default: outputs/compare-A-B).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON (amounts in yuan) instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table: print only where the files are.")] = False,
    every: Annotated[bool, typer.Option("--all", help="Print every pool-year, also those that do not differ.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help=LANG_HELP)] = None,
) -> None:
    """Compare two runs of variants pool-year by pool-year: grants, unmet demand, P(dry), budget needed, B − A with intervals.

    The runs must share their seed and number of runs (common random numbers), so that
    each figure's difference comes from the per-run differences: far tighter than
    comparing two independent runs.  Writes compare.html and compare.parquet.

    Example: sim run scenarios/binjiang.yaml --set segments.ai_smes.take_up.binjiang.compute_voucher.p=0.8 --out outputs/high-take-up
    then: sim compare outputs/binjiang outputs/high-take-up
    """
    probability("--risk", risk)
    files_lang, terminal = languages(lang)
    result = compare_runs(a, b, risk=risk)
    folder = out if out is not None else Path("outputs") / f"compare-{a.name}-{b.name}"
    files = write_comparison(result, folder, lang=files_lang)
    if as_json:
        print_json({"a": str(a), "b": str(b), "runs": result.runs, "seed": result.seed, "risk": risk,
                    "comparison": result.table, "files": [str(f) for f in files]})
    elif quiet:
        for f in files:
            print(f)
    else:
        print_comparison(result, console(), lang=terminal, every=every)
        console().print(tr(terminal, "compare: {files}", files=", ".join(str(f) for f in files)))


def print_comparison(result: Comparison, console: Console, *, lang: Lang = "en", every: bool = False) -> None:
    console.print(tr(lang, "Compare {a} (A) and {b} (B): {runs} runs, seed {seed}, paired by run", a=result.a,
                     b=result.b, runs=result.runs, seed=result.seed), markup=False)
    single = result.manifest_a.single_policy and result.manifest_b.single_policy
    frame = result.table if every else result.changed()
    t = Table(title=tr(lang, "Paired differences B − A (万元; budget needed at {risk} risk)", risk=percent(result.risk, 0)),
              title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
              show_edge=False, pad_edge=False)
    t.add_column(tr(lang, "pool"), max_width=24, overflow="fold")
    t.add_column(tr(lang, "year"), justify="right")
    t.add_column(tr(lang, "measure"))
    for name in ("A", "B", "B − A", tr(lang, "95% CI"), tr(lang, "paired se"), tr(lang, "independent se")):
        t.add_column(name, justify="right", no_wrap=True)
    last = None
    for r in frame.iter_rows(named=True):
        m = r["measure"]
        t.add_row(short_pool(r["pool"], single) if r["pool"] != last else "", str(r["year"]), tr(lang, MEASURE_LABEL[m]),
                  shown(r["a"], m), shown(r["b"], m), shown_difference(r["difference"], m),
                  f"{shown_difference(r['difference_low'], m)} … {shown_difference(r['difference_high'], m)}",
                  shown(r["paired_se"], m), shown(r["independent_se"], m))
        last = r["pool"]
    if frame.height == 0:
        console.print(tr(lang, "No figure differs between the runs."))
    else:
        show(console, t)
