"""The report in a terminal: compact tables that fit in 100 columns, and how any table is shown.

A finance officer at a terminal wants the answer first: which pool runs dry, how likely,
and what budget keeps it under the target risk; then demand and grants per pool, per
program (with its clause and Chinese title) and per funder.  The HTML page and the
workbook hold every percentile and interval; here each figure keeps its uncertainty in
one short form (± standard error, or a 95% interval).

:func:`show` prints any of sim's tables without ever cutting a number: as a table when it
fits the console, else one block per row, each value with its column's name.
"""

from __future__ import annotations

import polars as pl
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from sim.report.cash import ALL, paid_later, several_funders
from sim.report.display import day, gap, interval, percent, short_pool, wan, wan_up
from sim.report.figures import Report, imprecise, left_out, shown_pools
from sim.report.lang import IDLE_NOTE, Lang, tr


def show(console: Console, table: Table) -> None:
    """Print ``table`` whole: as drawn when its narrowest layout fits the console, else one block per row."""
    wide = console.options.update(width=10_000)
    if Measurement.get(console, wide, table).minimum <= console.width:
        console.print(table)
    else:
        if table.title:
            console.print(Text(_text(table.title), style="bold"))  # wraps between words
        console.print(stacked(table, console.width), soft_wrap=True)


def stacked(table: Table, width: int) -> Text:
    """A table as text blocks: the first column as a heading, then ``column: value`` pairs.

    Lines break only between pairs, so a value is never split (a pair wider than the
    whole line gets a line of its own).
    """
    headers = [_text(c.header).replace("\n", " ") for c in table.columns]
    rows = list(zip(*[list(c.cells) for c in table.columns]))
    out = Text()
    heading = None
    for row in rows:
        cells = [_text(c) for c in row]
        if cells[0] and cells[0] != heading:
            heading = cells[0]
            out.append(heading + "\n", style="bold")
        line = ""
        for pair in (f"{h}: {v}" for h, v in zip(headers[1:], cells[1:]) if v.strip()):
            if line and cell_len(line + "; " + pair) > width:
                out.append(line + "\n")
                line = "  " + pair
            else:
                line = (line + "; " + pair) if line else "  " + pair
        if line:
            out.append(line + "\n")
    return out


def _text(value) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1),
                 collapse_padding=True, show_edge=False, pad_edge=False)


def _num(table: Table, lang: Lang, *names: str) -> None:
    for name in names:
        label = name if name in ("p5", "p50", "p95", "p99") else tr(lang, name)  # percentiles read the same in both
        table.add_column(label, justify="right", no_wrap=True)


def _single(report: Report) -> bool:
    return report.manifest.single_policy


def risk_table(report: Report, lang: Lang = "en") -> Table:
    t = _table(tr(lang, "Pools (万元): chance of running dry; budget needed at {risk} risk", risk=percent(report.risk, 0)))
    t.add_column(tr(lang, "pool"), max_width=26, overflow="fold")
    _num(t, lang, "year", "budget", "P(dry)", "± se", "dry by\nmedian", "needed", "needed\n95% CI", "needed\n− budget")
    t.add_column(tr(lang, "needed on"))
    frame = report.pool_risk.filter(pl.col("pool").is_in(shown_pools(report)))
    for (pool,), part in frame.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            limited = r["budget_yuan"] is not None
            t.add_row(short_pool(pool, _single(report)) if i == 0 else "",
                      f"{r['year']}{'*' if r['basis'] == 'cumulative' else ''}",
                      wan(r["budget_yuan"], 0) if limited else tr(lang, "no limit"),
                      percent(r["p_dry"]) if limited else "—", percent(r["p_dry_se"]) if limited else "",
                      day(r["dry_p50"]), wan_up(r["budget_needed_yuan"]),
                      interval(r["budget_needed_lo"], r["budget_needed_hi"], wan_up),
                      gap(r["budget_needed_yuan"], r["budget_yuan"]), tr(lang, r["demand_basis"]),
                      end_section=i == part.height - 1)
    return t


def pool_table(report: Report, lang: Lang = "en") -> Table:
    t = _table(tr(lang, "Pools (万元): demand, grants and unmet demand per year"))
    t.add_column(tr(lang, "pool"), max_width=26, overflow="fold")
    _num(t, lang, "year", "demand\nmean ± se", "demand\np95", "granted\nmean", "granted\np95", "unmet\nmean", "unmet\np95")
    wide = _wide(report.pools.filter(pl.col("pool").is_in(shown_pools(report))), ["pool", "year"])
    for (pool,), part in wide.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            t.add_row(short_pool(pool, _single(report)) if i == 0 else "", str(r["year"]),
                      f"{wan(r['demand_mean'], 0)} ± {wan(r['demand_se'], 0)}", wan(r["demand_p95"], 0),
                      wan(r["granted_mean"], 0), wan(r["granted_p95"], 0), wan(r["unmet_mean"], 0), wan(r["unmet_p95"], 0),
                      end_section=i == part.height - 1)
    return t


def program_table(report: Report, lang: Lang = "en") -> Table:
    t = _table(tr(lang, "Programs with applications (万元)"))
    t.add_column(tr(lang, "program · clause · title"), max_width=36, overflow="fold")
    _num(t, lang, "year", "demand\nmean", "demand\np95", "granted\nmean ± se", "granted\np95", "unmet\nmean")
    wide = _wide(report.active_programs(), ["policy", "program", "clause", "title", "year"])
    for _, part in wide.group_by("policy", "program", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            label = Text("")
            if i == 0:
                label = Text(f"{r['program'] if _single(report) else r['policy'] + '.' + r['program']} {r['clause'] or ''}")
            elif i == 1:
                label = Text(r["title"] or "", style="dim")
            t.add_row(label, str(r["year"]), wan(r["demand_mean"], 0), wan(r["demand_p95"], 0),
                      f"{wan(r['granted_mean'], 0)} ± {wan(r['granted_se'], 0)}", wan(r["granted_p95"], 0),
                      wan(r["unmet_mean"], 0), end_section=i == part.height - 1)
            if i == 0 and part.height == 1:
                t.add_row(Text(r["title"] or "", style="dim"), "", "", "", "", "", "")
    return t


def funder_table(report: Report, lang: Lang = "en") -> Table:
    t = _table(tr(lang, "Funders (万元): grants per year"))
    t.add_column(tr(lang, "funder"))
    _num(t, lang, "year", "mean ± se", "p5", "p50", "p95", "p99")
    for r in report.funders.iter_rows(named=True):
        t.add_row(tr(lang, r["funder"]), str(r["year"]), f"{wan(r['mean'], 0)} ± {wan(r['se'], 0)}", wan(r["p5"], 0),
                  wan(r["p50"], 0), wan(r["p95"], 0), wan(r["p99"], 0))
    return t


def cash_table(report: Report, lang: Lang = "en") -> Table:
    """Commitments and cash per year, with the budget needed on each basis: pools paid later, then all pools by funder."""
    risk = percent(report.risk, 0)
    t = _table(tr(lang, "Commitments and cash (万元); budget needed at {risk} risk on each basis", risk=risk))
    t.add_column(tr(lang, "pool · funder"), max_width=30, overflow="fold")
    _num(t, lang, "year", "committed\nmean", "needed\ncommitment", "paid\nmean", "needed\ncash", "outstanding\nyear end",
         "lapsed\nmean")
    frame = report.cash
    later = sorted(set(paid_later(report.cash)) & set(shown_pools(report)))
    total = (pl.col("funder") == ALL) | (pl.lit(ALL in several_funders(frame)))
    keep = ((pl.col("pool").is_in(later) & (pl.col("funder") == ALL)) | ((pl.col("pool") == ALL) & total))
    moves = (pl.col("committed_mean") > 0) | (pl.col("paid_mean") > 0) | (pl.col("outstanding_mean") > 0) | (pl.col("lapsed_mean") > 0)
    frame = frame.filter(keep & moves).sort(pl.col("pool") == ALL, "pool", pl.col("funder") == ALL, "funder", "year")
    for _, part in frame.group_by("pool", "funder", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            pool = tr(lang, "all pools") if r["pool"] == ALL else short_pool(r["pool"], _single(report))
            funder = tr(lang, "all funders") if r["funder"] == ALL else tr(lang, r["funder"])
            t.add_row(f"{pool} · {funder}" if i == 0 else "", str(r["year"]), wan(r["committed_mean"], 0),
                      wan_up(r["committed_needed"]), wan(r["paid_mean"], 0), wan_up(r["paid_needed"]),
                      wan(r["outstanding_mean"], 0), wan(r["lapsed_mean"], 0), end_section=i == part.height - 1)
    return t


def _wide(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per key with ``<measure>_<stat>`` columns (demand_mean, granted_p95, …)."""
    stats = ["mean", "se", "p50", "p95"]
    return frame.pivot(on="measure", index=keys, values=stats, separator="|").rename(
        lambda c: "_".join(reversed(c.split("|"))) if "|" in c else c).sort(keys, maintain_order=True)


def sensitivity_table(report: Report, lang: Lang = "en") -> Table:
    """Per pool with a budget, year and figure (demand, P(dry)): how much the assumptions explain, and the top three."""
    from sim.report.render import MEASURE_OF, driver, ranking_rows

    t = _table(tr(lang, "Which assumption drives each figure (ρ: rank correlation across runs; %: first-order share)"))
    t.add_column(tr(lang, "pool"), max_width=24, overflow="fold")
    _num(t, lang, "year")
    t.add_column(tr(lang, "measure"))
    _num(t, lang, "explained\n(95% CI)")
    for name in ("first", "second", "third"):
        t.add_column(tr(lang, name), overflow="fold")
    budgeted = report.pool_risk.filter(pl.col("budget_yuan").is_not_null())["pool"].unique().to_list()
    ranking = ranking_rows(report).filter(pl.col("pool").is_in(budgeted) & (pl.col("measure") != "granted"))
    for (pool,), part in ranking.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            drivers = [driver(report, n, rho, sh, lang) for n, rho, sh in zip(r["parameter"], r["spearman"], r["variance_share"])]
            t.add_row(short_pool(pool, _single(report)) if i == 0 else "", str(r["year"]), tr(lang, MEASURE_OF[r["measure"]]),
                      f"{percent(max(r['explained_share'], 0.0), 0)} "
                      f"({interval(r['explained_low'], r['explained_high'], lambda v: percent(max(v, 0.0), 0))})",
                      *(drivers + [""] * (3 - len(drivers))), end_section=i == part.height - 1)
    return t


def notes(report: Report, lang: Lang = "en") -> list[str]:
    out = []
    loose = imprecise(report)
    if loose.height:
        names = ", ".join(f"{short_pool(r['pool'], _single(report))} {r['year']}" for r in loose.head(4).iter_rows(named=True))
        out.append(tr(lang, "More runs needed: the 95% interval of the budget needed is wider than ±5% for {n} "
                            "pool-year(s) ({which}); try --runs {runs} (four times the runs halve the intervals).",
                      n=loose.height, which=names + (", …" if loose.height > 4 else ""), runs=report.runs * 4))
    idle = left_out(report, titles=False)
    if idle:
        out.append(tr(lang, IDLE_NOTE, n=len(idle), total=len(report.manifest.programs), which=", ".join(idle)))
    if report.pool_risk.filter(pl.col("basis") == "cumulative").height:
        out.append(tr(lang, "* a pool with one budget over the policy's life: figures cumulate from the start of the horizon."))
    if report.fan is None:
        out.append(tr(lang, "No awards table: the chart of grants through the year is missing; run with --events to draw it."))
    if report.cash is None:
        out.append(tr(lang, "No cash tables: this run was written before sim recorded payments; run it again for cash by year."))
    else:
        same = sorted(set(report.active_pools()) - set(paid_later(report.cash)))
        if same:
            out.append(tr(lang, "Paid when committed (cash = commitments each year): {pools}.",
                          pools=", ".join(short_pool(p, _single(report)) for p in same)))
    return out


def print_report(report: Report, console: Console, *, lang: Lang = "en") -> None:
    """Print the header line, the four tables and any notes."""
    m = report.manifest
    console.print(Text.assemble((tr(lang, "Budget report") + " ", "bold"), f"{m.scenario.name} — {m.scenario.title or ''}"))
    console.print(f"{tr(lang, '{runs} runs', runs=report.runs)}, {tr(lang, 'seed {seed}', seed=m.seed)}, "
                  f"{' – '.join(m.horizon)} · {tr(lang, '± Monte Carlo standard error · 95% intervals')}", markup=False)
    tables = [risk_table(report, lang)] + ([sensitivity_table(report, lang)] if report.sensitivity is not None else [])
    tables += [pool_table(report, lang), program_table(report, lang), funder_table(report, lang)]
    if report.cash is not None:
        tables.append(cash_table(report, lang))
    for table in tables:
        console.print()
        show(console, table)
    if notes(report, lang):
        console.print()
    for note in notes(report, lang):
        console.print(note, markup=False, style="yellow")
