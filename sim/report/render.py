"""The report's files: ``report.html``, ``report.xlsx`` and ``summary.parquet`` in the run's folder.

The same figures (:mod:`sim.report.figures`) in three forms: a page to read (charts and tables,
Chinese titles beside every id, one self-contained file), a workbook to compute with
(one sheet per table, numbers as numbers), and a tidy Parquet table for programs
(:func:`sim.report.figures.summary_long`).  Each file is written to a temporary name and renamed,
so a reader never opens half a report.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl

from sim import __version__
from sim.errors import OutputError
from sim.report.display import day, gap, interval, percent, short_pool, wan, wan_up
from sim.report.figures import (
    FAN,
    QUANTILES,
    Report,
    imprecise,
    pct,
    shown_pools,
    summary_long,
)
from sim.report.page import Cell, box, document, esc, image, section, table
from sim.report.workbook import Column, Sheet, write_workbook
from sim.runs.lock import locked

FILES = ("report.html", "report.xlsx", "summary.parquet")
MEASURE_LABEL = {"demand": "demand", "granted": "granted", "unmet": "unmet demand"}


def write_report(report: Report) -> list[Path]:
    """Write the three files into the run's folder, as a set; return their paths.

    Each file is first written under a temporary name; only when all three are written
    are they renamed into place.  A failure (a full disk) removes the temporary files and
    leaves any earlier report untouched: never half a report, never a mix of two.
    """
    out = report.out
    paths = [out / name for name in FILES]
    temps = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in paths]
    writers = (lambda tmp: tmp.write_text(html(report), encoding="utf-8"),
               lambda tmp: write_workbook(tmp, sheets(report), about=about(report)),
               lambda tmp: summary_long(report).write_parquet(tmp, metadata=report.manifest.parquet_metadata(
                   "summary", {"value": "the row's unit: yuan, share, or date as days since 1970-01-01"})))
    with locked(out, create=False):
        try:
            for write, tmp in zip(writers, temps):
                write(tmp)
            for tmp, path in zip(temps, paths):
                os.replace(tmp, path)
        except BaseException as exc:
            for tmp in temps:
                tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise OutputError(f"{out}: cannot write the report ({exc.strerror or exc}"
                                  f"{': ' + str(exc.filename) if exc.filename else ''}); any earlier report files "
                                  "are unchanged; free some space and run `sim report` again") from None
            raise
    return paths


def single_policy(report: Report) -> bool:
    return report.manifest.single_policy


def pool_titles(report: Report) -> dict[str, str]:
    return report.manifest.pool_titles()


# --------------------------------------------------------------------------- HTML

def html(report: Report) -> str:
    """The whole page as a string (self-contained: CSS inline, charts as data URIs)."""
    m = report.manifest
    sc = m.scenario
    title = f"Budget report: {sc.title or sc.name}"
    meta = (f"scenario <code>{esc(sc.name)}</code> ({esc(sc.file)}) · {report.runs} runs · seed {esc(m.seed)}"
            f" · horizon {esc(' – '.join(m.horizon))} · generated {dt.datetime.now():%Y-%m-%d %H:%M} by sim {__version__}")
    nav = " ".join(f'<a href="#{i}">{esc(t)}</a>' for i, t in (
        ("risk", "Risk & budget needed"), ("chart-fan", "Grants through the year"), ("chart-demand", "Demand"),
        ("chart-dry", "Running dry"), ("chart-funders", "Funders"), ("pools", "Pools"), ("programs", "Programs"),
        ("funders", "Funder table")))
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{meta}</p>', f"<nav>{nav}</nav>", _how_to_read(report),
            _notes(report), _risk_section(report), _fan_section(report), _demand_section(report),
            _dry_section(report), _funder_chart_section(report), _pool_table_section(report),
            _program_table_section(report), _funder_table_section(report)]
    return document(title, "".join(body))


def _how_to_read(report: Report) -> str:
    items = [
        f"Amounts in 万元 (10,000 yuan). Each figure is over {report.runs} Monte Carlo runs of the scenario: "
        "the mean, and the 5th, 50th (median), 90th, 95th and 99th percentiles across runs.",
        "<b>Demand</b> is what applications were entitled to; <b>granted</b> what the pool paid; "
        "<b>unmet demand</b> = demand − granted (refused or cut for lack of money, count limits or ranking).",
        "± is the Monte Carlo standard error of a mean or probability; hover a percentile for its 95% interval. "
        "An interval shown with ? cannot be bounded with this many runs; intervals shrink about as 1/√N: "
        "four times the runs halve them.",
        f"<b>Budget needed</b>: the smallest budget with a chance of at most {percent(report.risk, 1)} that the year's "
        "demand reaches it (a first-come pool runs dry exactly then), rounded up; also shown for pools without a limit.",
    ]
    return box(items, title="How to read this report")


def _notes(report: Report) -> str:
    notes = []
    loose = imprecise(report)
    single = single_policy(report)
    if loose.height:
        worst = ", ".join(f"{esc(short_pool(r['pool'], single))} {r['year']}" for r in loose.head(6).iter_rows(named=True))
        notes.append(f"More runs needed: the 95% interval of the budget needed is wider than ±5% for {loose.height} "
                     f"pool-year(s) ({worst}{', …' if loose.height > 6 else ''}). Run again with e.g. "
                     f"<code>--runs {report.runs * 4}</code>.")
    if report.fan is None:
        notes.append("The chart of grants through the year needs the decision ledger (the <code>awards</code> table): "
                     "run again with <code>sim run SCENARIO --events</code> (or <code>--report</code>).")
    life = report.pool_risk.filter(pl.col("period") == "life")["pool"].unique().to_list()
    if life:
        notes.append("Pools with one budget over the policy's life (" + ", ".join(esc(p) for p in life) + ") are shown "
                     "cumulatively: each year's row says whether the pool has run dry by the end of that year.")
    return box(notes, warn=True, title="Notes")


def _pool_cell(report: Report, pool: str, rowspan: int = 1) -> Cell:
    return Cell(short_pool(pool, single_policy(report)), sub=pool_titles(report).get(pool, ""), rowspan=rowspan, cls="title")


def _risk_section(report: Report) -> str:
    headers = ["pool", "rationing", "year", Cell("budget", num=True), Cell("P(dry) ± se", num=True),
               Cell("P(dry) 95% CI", num=True), Cell("dry on (median)", num=True), Cell("dry on p10–p90", num=True),
               Cell(f"budget needed at {percent(report.risk, 1)}", num=True), Cell("needed 95% CI", num=True),
               Cell("needed − budget", num=True)]
    rows = []
    frame = report.pool_risk.filter(pl.col("pool").is_in(shown_pools(report)))
    for pool, part in frame.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            limited = r["budget_yuan"] is not None
            rows.append([
                _pool_cell(report, pool[0], part.height) if i == 0 else None,
                Cell(r["rationing"] + (" (life)" if r["period"] == "life" else ""), rowspan=part.height) if i == 0 else None,
                Cell(str(r["year"]) + (" (cum.)" if r["basis"] == "cumulative" else "")),
                Cell(wan(r["budget_yuan"], 0) if r["budget_yuan"] is not None else "no limit", num=True),
                Cell(f"{percent(r['p_dry'])} ± {percent(r['p_dry_se'])}" if limited else "—", num=True),
                Cell(interval(r["p_dry_lo"], r["p_dry_hi"], percent) if limited else "—", num=True),
                Cell(day(r["dry_p50"], with_year=True), num=True,
                     tip=f"95% CI {interval(r['dry_p50_lo'], r['dry_p50_hi'], day)}" if r["dry_runs"] else ""),
                Cell(interval(r["dry_p10"], r["dry_p90"], day) if r["dry_runs"] else "—", num=True),
                Cell(wan_up(r["budget_needed_yuan"]), num=True),
                Cell(interval(r["budget_needed_lo"], r["budget_needed_hi"], wan_up), num=True),
                Cell(gap(r["budget_needed_yuan"], r["budget_yuan"]), num=True),
            ])
    body = (f"<p>Per pool and budget year: how likely the pool runs dry, when, and the budget that keeps that chance "
            f"at or below {percent(report.risk, 1)}. Pools with neither a budget nor any demand are left out.</p>"
            + table(headers, rows))
    return section("risk", f"Pools: risk of running dry and the budget needed at {percent(report.risk, 1)} risk", body)


def _fan_section(report: Report) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    if report.fan is None:
        body = ('<p class="missing">Not available: this run has no <code>awards</code> table (the decision ledger). '
                "Run the scenario again with <code>--events</code> (or <code>sim run … --report</code>) to draw "
                "cumulative grants through the year.</p>")
        return section("chart-fan", "Cumulative grants through the year", body)
    parts = ["<p>For each day of the budget year, what the pool has granted since 1 January: the median run (line) and "
             "the 10th–90th percentile of runs (band), against the budget (dashed).</p>"]
    single = single_policy(report)
    for pool in report.active_pools():
        budgets = dict(report.pool_risk.filter(pl.col("pool") == pool).select("year", "budget_yuan").iter_rows())
        if report.pool_risk.filter(pl.col("pool") == pool)["period"][0] == "life":
            budgets = {}
        png = charts.fan(report.fan, pool, short_pool(pool, single), budgets, report.years)
        if png:
            parts.append(f"<h3>{esc(short_pool(pool, single))} · {esc(pool_titles(report).get(pool, ''))}</h3>")
            parts.append(image(png, f"cumulative grants of {pool}"))
    return section("chart-fan", "Cumulative grants through the year", "".join(parts))


def _demand_section(report: Report) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    parts = [f"<p>How each pool's demand in a year varies across runs, with the budget (dashed) and the budget needed "
             f"at {percent(report.risk, 1)} risk (solid; its 95% interval shaded).</p>"]
    single = single_policy(report)
    for pool in report.active_pools():
        png = charts.demand(report.pool_demand, pool, short_pool(pool, single),
                            report.pool_risk.filter(pl.col("pool") == pool), report.years, report.risk)
        if png:
            parts.append(f"<h3>{esc(short_pool(pool, single))} · {esc(pool_titles(report).get(pool, ''))}</h3>")
            parts.append(image(png, f"demand distribution of {pool}"))
    return section("chart-demand", "Annual demand per pool", "".join(parts))


def _dry_section(report: Report) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    single = single_policy(report)
    labels = {p: short_pool(p, single) for p in report.dry_curve["pool"].unique().to_list()}
    png = charts.dry_by_date(report.dry_curve, labels, report.years)
    body = ("<p>Share of runs in which the pool had run dry by each date; an annual pool starts again at 0 on "
            "1 January.</p>" + image(png, "probability of running dry by date"))
    return section("chart-dry", "When pools run dry", body)


def _funder_chart_section(report: Report) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    png = charts.funders(report.funders)
    body = image(png, "grants by funder per year") if png else '<p class="missing">No funder paid anything in any run.</p>'
    return section("chart-funders", "Grants by funder", body)


def _stat_cells(r: dict) -> list[Cell]:
    cells = [Cell(f"{wan(r['mean'], 0)} ± {wan(r['se'], 0)}", num=True)]
    for q in QUANTILES:
        p = pct(q)
        cells.append(Cell(wan(r[p], 0), num=True, tip=f"95% CI {interval(r[p + '_lo'], r[p + '_hi'])}"))
    return cells


STAT_HEADERS = [Cell("mean ± se", num=True)] + [Cell(pct(q), num=True) for q in QUANTILES]


def _pool_table_section(report: Report) -> str:
    frame = report.pools.filter(pl.col("pool").is_in(shown_pools(report)))
    rows = []
    for (pool,), by_pool in frame.group_by("pool", maintain_order=True):
        for j, ((year,), part) in enumerate(by_pool.group_by("year", maintain_order=True)):
            for i, r in enumerate(part.iter_rows(named=True)):
                lead = [_pool_cell(report, pool, by_pool.height) if i == 0 and j == 0 else None]
                lead += [Cell(str(year), rowspan=part.height),
                         Cell(wan(r["budget_yuan"], 0) if r["budget_yuan"] is not None else "no limit", num=True,
                              rowspan=part.height)] if i == 0 else [None, None]
                rows.append(lead + [Cell(MEASURE_LABEL[r["measure"]])] + _stat_cells(r))
    headers = ["pool", "year", Cell("budget", num=True), "measure"] + STAT_HEADERS
    return section("pools", "Pools: demand, grants and unmet demand per year (万元)", table(headers, rows))


def _program_table_section(report: Report) -> str:
    frame = report.active_programs()
    hidden = report.programs.select("policy", "program").unique().height - frame.select("policy", "program").unique().height
    rows = []
    for (policy, program), by_program in frame.group_by("policy", "program", maintain_order=True):
        for j, ((year,), part) in enumerate(by_program.group_by("year", maintain_order=True)):
            for i, r in enumerate(part.iter_rows(named=True)):
                label = program if single_policy(report) else f"{policy}.{program}"
                lead = [Cell(label, sub=f"{r['clause'] or ''} {r['title'] or ''}".strip(), rowspan=by_program.height,
                             cls="title") if i == 0 and j == 0 else None]
                lead += [Cell(str(year), rowspan=part.height)] if i == 0 else [None]
                rows.append(lead + [Cell(MEASURE_LABEL[r["measure"]])] + _stat_cells(r))
    headers = ["program (clause, title)", "year", "measure"] + STAT_HEADERS
    note = (f"<p>{hidden} program(s) without any application in any run are left out (they are in report.xlsx).</p>"
            if hidden else "")
    return section("programs", "Programs: demand, grants and unmet demand per year (万元)", note + table(headers, rows))


def _funder_table_section(report: Report) -> str:
    rows = [[Cell(r["funder"]), Cell(str(r["year"]))] + _stat_cells(r) for r in report.funders.iter_rows(named=True)]
    return section("funders", "Funders: grants per year (万元)", table(["funder", "year"] + STAT_HEADERS, rows))


# --------------------------------------------------------------------------- workbook

def _stat_columns() -> list[Column]:
    cols = [Column("runs", "runs", "int"), Column("mean\n(万元)", "mean", "wan"), Column("se of mean\n(万元)", "se", "wan")]
    for q in QUANTILES:
        p = pct(q)
        cols += [Column(f"{p}\n(万元)", p, "wan"), Column(f"{p} 95% CI\nlow", f"{p}_lo", "wan"),
                 Column(f"{p} 95% CI\nhigh", f"{p}_hi", "wan")]
    return cols


def sheets(report: Report) -> list[Sheet]:
    """The workbook's tables, every program, pool and funder included."""
    risk = Sheet("Pool risk", report.pool_risk, (
        Column("pool", "pool"), Column("title", "title"), Column("rationing", "rationing"), Column("period", "period"),
        Column("year", "year", "year"), Column("basis", "basis"), Column("budget\n(万元)", "budget_yuan", "wan"),
        Column("runs", "runs", "int"), Column("runs dry", "dry_runs", "int"), Column("P(dry)", "p_dry", "share"),
        Column("P(dry)\nse", "p_dry_se", "share"), Column("P(dry) 95%\nCI low", "p_dry_lo", "share"),
        Column("P(dry) 95%\nCI high", "p_dry_hi", "share"), Column("dry on\np10", "dry_p10", "date"),
        Column("dry on\nmedian", "dry_p50", "date"), Column("dry on\np90", "dry_p90", "date"),
        Column("median date\nCI low", "dry_p50_lo", "date"), Column("median date\nCI high", "dry_p50_hi", "date"),
        Column("target\nrisk", "risk", "share"), Column("budget needed\n(万元)", "budget_needed_yuan", "wan"),
        Column("needed 95%\nCI low", "budget_needed_lo", "wan"), Column("needed 95%\nCI high", "budget_needed_hi", "wan"),
    ))
    stats = tuple(_stat_columns())
    pools = Sheet("Pools", report.pools, (Column("pool", "pool"), Column("title", "title"), Column("year", "year", "year"),
                                          Column("budget\n(万元)", "budget_yuan", "wan"), Column("measure", "measure")) + stats)
    programs = Sheet("Programs", report.programs, (
        Column("policy", "policy"), Column("program", "program"), Column("clause", "clause"), Column("title", "title"),
        Column("pool", "pool"), Column("year", "year", "year"), Column("measure", "measure")) + stats)
    funders = Sheet("Funders", report.funders, (Column("funder", "funder"), Column("year", "year", "year"),
                                                Column("measure", "measure")) + stats)
    result = [risk, pools, programs, funders]
    if report.fan is not None:
        fan = Sheet("Grants through year", report.fan, (Column("pool", "pool"), Column("year", "year", "year"),
                                                         Column("date", "date", "date"))
                    + tuple(Column(f"cumulative {pct(q)}\n(万元)", pct(q), "wan") for q in FAN))
        result.append(fan)
    return result


def about(report: Report) -> list[tuple[str, str]]:
    m = report.manifest
    sc = m.scenario
    return [
        ("scenario", f"{sc.name} — {sc.title or ''}"),
        ("scenario file", f"{sc.file} (sha256 {sc.file_sha256})"),
        ("runs / seed", f"{report.runs} runs, seed {m.seed}"),
        ("horizon", " – ".join(m.horizon)),
        ("generated", f"{dt.datetime.now():%Y-%m-%d %H:%M} by sim {__version__}"),
        ("amounts", "in 万元 (10,000 yuan), stored as numbers exact to the yuan (4 decimals)"),
        ("statistics", "mean and percentiles across runs; se = Monte Carlo standard error of the mean; "
                       "'95% CI' columns = distribution-free interval of each percentile from order statistics; "
                       "a blank bound cannot be set with this many runs (more runs are needed)"),
        ("demand / granted / unmet", "demand = what applications were entitled to; granted = paid; unmet = demand − granted"),
        ("Pool risk", f"P(dry) = share of runs in which the pool ran dry (Wilson 95% interval); dry-on dates among those runs; "
                      f"budget needed = smallest budget with P(demand ≥ budget) ≤ {report.risk:g} "
                      "(basis 'cumulative': a life pool's demand since the start of the horizon)"),
        ("Grants through year", "cumulative grants since 1 January, percentiles across runs, per day"
                                if report.fan is not None else "not available: the run has no awards table (run with --events)"),
    ]
