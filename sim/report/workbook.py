"""An Excel workbook a budget officer can open, filter, chart and compute with.

Each table is a native Excel table (written with polars' ``write_excel``): a frozen
header row with filter buttons, banded rows, columns sized to their contents, and numbers
stored as numbers — amounts in 万元 (yuan / 10,000, exact to the yuan) with a thousands
separator, shares as percentages, dates as dates.  Text in a numeric column would stop a
SUM; a column of 9-digit yuan would be unreadable; both are avoided.  A "Charts" sheet
holds native Excel charts of the main figures (budget against budget needed, the chance
of running dry, grants by funder), drawn from small tables beside them, so they stay live
if a reader edits the numbers.  Headings and labels follow the report's language.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
import xlsxwriter

from sim import __version__
from sim.report.display import short_pool
from sim.report.figures import FAN, QUANTILES, Report, left_out, pct, shown_pools
from sim.report.lang import IDLE_NOTE, Lang, tr
from sim.report.sensitivity import parameter_title

Kind = Literal["text", "int", "year", "wan", "share", "date", "number"]
FORMATS: dict[str, str] = {"int": "#,##0", "year": "0", "wan": "#,##0.00", "share": "0.0%", "date": "yyyy-mm-dd",
                           "number": "0.000"}
STYLE = "Table Style Medium 2"


@dataclass(frozen=True)
class Column:
    """A sheet column: its header (English; translated when written), the frame column it shows, its kind."""

    header: str
    source: str
    kind: Kind = "text"
    values: dict[str, str] | None = None  # English labels of a text column's values (translated when written)
    fill: tuple[tuple[str, str], ...] = ()  # values of the header's {placeholders}


@dataclass(frozen=True)
class Sheet:
    name: str
    frame: pl.DataFrame
    columns: tuple[Column, ...]


def write_workbook(path: str | Path, report: Report, *, lang: Lang = "zh") -> Path:
    """Write the report's workbook to ``path`` (the caller writes to a temporary name and renames)."""
    path = Path(path)
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "strings_to_numbers": False})
    _about(book, about(report, lang), lang)
    for sheet in sheets(report, lang):
        _table(book, sheet, lang)
    _charts(book, report, lang)
    book.close()
    return path


def _table(book, sheet: Sheet, lang: Lang) -> None:
    """One native Excel table: translated headers, amounts in 万元, frozen header row."""
    headers = [tr(lang, c.header, **dict(c.fill)) for c in sheet.columns]
    exprs = []
    for c, header in zip(sheet.columns, headers):
        col = pl.col(c.source)
        if c.kind == "wan":
            col = (col.cast(pl.Float64) / 10_000).round(4)
        elif c.values is not None:
            col = col.replace_strict({k: tr(lang, v) for k, v in c.values.items()}, default=col)
        exprs.append(col.alias(header))
    frame = sheet.frame.select(exprs)
    name = tr(lang, sheet.name)[:31]
    frame.write_excel(workbook=book, worksheet=name, table_style=STYLE, table_name=_table_name(sheet.name),
                      column_formats={h: FORMATS[c.kind] for h, c in zip(headers, sheet.columns) if c.kind in FORMATS},
                      header_format={"bold": True, "text_wrap": True, "valign": "top"},
                      freeze_panes=(1, 0), float_precision=4)
    _widths(book.get_worksheet_by_name(name), frame)


def _widths(ws, frame: pl.DataFrame) -> None:
    """Columns as wide as their longest entry, counting a Chinese character as two, plus room for the filter button."""
    for j, column in enumerate(frame.columns):
        values = frame[column].head(2000)
        if values.dtype.is_numeric():
            longest = max((len(f"{v:,.2f}") for v in values.drop_nulls()), default=1)
        else:
            longest = max((display_width(str(v)) for v in values.drop_nulls()), default=1)
        ws.set_column(j, j, min(max(longest, display_width(column) + 3) + 2, 60))


def display_width(text: str) -> int:
    """Width in character cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _table_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def _about(book, rows: list[tuple[str, str]], lang: Lang) -> None:
    ws = book.add_worksheet(tr(lang, "Read me"))
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    ws.write_row(0, 0, [tr(lang, "item"), tr(lang, "value")], bold)
    for i, (key, value) in enumerate(rows, start=1):
        ws.write_string(i, 0, key, wrap)
        ws.write_string(i, 1, value, wrap)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 110)
    ws.freeze_panes(1, 0)


# --------------------------------------------------------------------------- what the sheets hold

def _stat_columns() -> tuple[Column, ...]:
    cols = [Column("runs", "runs", "int"), Column("mean (万元)", "mean", "wan"), Column("se of mean (万元)", "se", "wan")]
    for q in QUANTILES:
        p = pct(q)
        fill = (("p", p),)
        cols += [Column("{p} (万元)", p, "wan", fill=fill), Column("{p} 95% CI low (万元)", f"{p}_lo", "wan", fill=fill),
                 Column("{p} 95% CI high (万元)", f"{p}_hi", "wan", fill=fill)]
    return tuple(cols)


MEASURES = {"demand": "demand", "granted": "granted", "unmet": "unmet demand"}
RATIONING = {"first_come": "first_come", "competitive": "competitive", "pro_rata": "pro_rata"}
PERIODS = {"year": "year", "life": "life"}
FUNDERS = {"province": "province", "city": "city", "district": "district", "county": "county"}


def sheets(report: Report, lang: Lang = "zh") -> list[Sheet]:
    """The workbook's tables, every program, pool and funder included."""
    risk = Sheet("Pool risk", report.pool_risk, (
        Column("pool", "pool"), Column("title", "title"), Column("rationing", "rationing", values=RATIONING),
        Column("period", "period", values=PERIODS), Column("year", "year", "year"),
        Column("basis", "basis", values={"year": "year", "cumulative": "cumulative"}),
        Column("budget (万元)", "budget_yuan", "wan"), Column("runs", "runs", "int"), Column("runs dry", "dry_runs", "int"),
        Column("P(dry)", "p_dry", "share"), Column("P(dry) se", "p_dry_se", "share"),
        Column("P(dry) 95% CI low", "p_dry_lo", "share"), Column("P(dry) 95% CI high", "p_dry_hi", "share"),
        Column("dry on p10", "dry_p10", "date"), Column("dry on median", "dry_p50", "date"),
        Column("dry on p90", "dry_p90", "date"), Column("median date CI low", "dry_p50_lo", "date"),
        Column("median date CI high", "dry_p50_hi", "date"), Column("target risk", "risk", "share"),
        Column("budget needed (万元)", "budget_needed_yuan", "wan"),
        Column("needed 95% CI low (万元)", "budget_needed_lo", "wan"),
        Column("needed 95% CI high (万元)", "budget_needed_hi", "wan"),
        Column("needed on", "demand_basis", values={"payable": "payable", "demand": "demand"}),
    ))
    stats = _stat_columns()
    measure = Column("measure", "measure", values=MEASURES)
    pools = Sheet("Pools", report.pools, (Column("pool", "pool"), Column("title", "title"), Column("year", "year", "year"),
                                          Column("budget (万元)", "budget_yuan", "wan"), measure) + stats)
    programs = Sheet("Programs", report.programs, (
        Column("policy", "policy"), Column("program", "program"), Column("clause", "clause"), Column("title", "title"),
        Column("pool", "pool"), Column("year", "year", "year"), measure) + stats)
    funders = Sheet("Funders", report.funders, (Column("funder", "funder", values=FUNDERS), Column("year", "year", "year"),
                                                measure) + stats)
    result = [risk, pools, programs, funders]
    if report.cash is not None:
        everyone = {"all": "all funders", **FUNDERS}
        result.append(Sheet("Cash by year", report.cash, (
            Column("pool", "pool", values={"all": "all pools"}), Column("funder", "funder", values=everyone),
            Column("year", "year", "year"), Column("runs", "runs", "int"),
            Column("committed mean (万元)", "committed_mean", "wan"), Column("committed se (万元)", "committed_se", "wan"),
            Column("committed p50 (万元)", "committed_p50", "wan"),
            Column("needed, commitment basis (万元)", "committed_needed", "wan"),
            Column("needed, commitment basis, 95% CI low (万元)", "committed_needed_lo", "wan"),
            Column("needed, commitment basis, 95% CI high (万元)", "committed_needed_hi", "wan"),
            Column("paid mean (万元)", "paid_mean", "wan"), Column("paid se (万元)", "paid_se", "wan"),
            Column("paid p50 (万元)", "paid_p50", "wan"), Column("needed, cash basis (万元)", "paid_needed", "wan"),
            Column("needed, cash basis, 95% CI low (万元)", "paid_needed_lo", "wan"),
            Column("needed, cash basis, 95% CI high (万元)", "paid_needed_hi", "wan"),
            Column("outstanding at year end, mean (万元)", "outstanding_mean", "wan"),
            Column("outstanding at year end, p95 (万元)", "outstanding_p95", "wan"),
            Column("lapsed mean (万元)", "lapsed_mean", "wan"), Column("target risk", "risk", "share"))))
        result.append(Sheet("Cash by month", report.cash_monthly, (
            Column("pool", "pool", values={"all": "all pools"}), Column("funder", "funder", values=everyone),
            Column("month", "month", "date"), Column("paid mean (万元)", "mean", "wan"))
            + tuple(Column("paid {p} (万元)", pct(q), "wan", fill=(("p", pct(q)),)) for q in FAN)))
    if report.fan is not None:
        result.append(Sheet("Grants through year", report.fan, (
            Column("pool", "pool"), Column("year", "year", "year"), Column("date", "date", "date"))
            + tuple(Column("cumulative {p} (万元)", pct(q), "wan", fill=(("p", pct(q)),)) for q in FAN)))
    if report.sensitivity is not None:
        names = {p: parameter_title(p, report.manifest, lang) for p in report.sensitivity["parameter"].unique().to_list()}
        result.append(Sheet("Sensitivity", report.sensitivity.with_columns(
            pl.col("parameter").replace_strict(names, return_dtype=pl.String).alias("assumption")), (
            Column("pool", "pool"), Column("year", "year", "year"),
            Column("measure", "measure", values={"demand": "demand", "granted": "granted", "p_dry": "P(dry)"}),
            Column("assumption", "assumption"), Column("parameter", "parameter"), Column("rank", "rank", "int"),
            Column("rank correlation", "spearman", "number"), Column("rank correlation 95% CI low", "spearman_low", "number"),
            Column("rank correlation 95% CI high", "spearman_high", "number"),
            Column("first-order share", "variance_share", "share"), Column("share 95% CI low", "variance_share_low", "share"),
            Column("share 95% CI high", "variance_share_high", "share"),
            Column("explained by assumptions", "explained_share", "share"),
            Column("explained 95% CI low", "explained_low", "share"), Column("explained 95% CI high", "explained_high", "share"),
            Column("runs", "runs", "int"))))
    return result


def about(report: Report, lang: Lang = "zh") -> list[tuple[str, str]]:
    m = report.manifest
    sc = m.scenario
    risk = f"{report.risk:g}"
    return [
        (tr(lang, "scenario"), f"{sc.name} — {sc.title or ''}"),
        (tr(lang, "scenario file"), f"{sc.file} (sha256 {sc.file_sha256})"),
        (tr(lang, "runs / seed"), f"{report.runs} / {m.seed}"),
        (tr(lang, "horizon"), " – ".join(m.horizon)),
        (tr(lang, "generated"), f"{dt.datetime.now():%Y-%m-%d %H:%M} · sim {__version__}"),
        (tr(lang, "amounts"), tr(lang, "in 万元 (10,000 yuan), stored as numbers exact to the yuan (4 decimals)")),
        (tr(lang, "statistics"), tr(lang, "mean and percentiles across runs; se = Monte Carlo standard error of the mean; "
                                          "'95% CI' columns = distribution-free interval of each percentile from order "
                                          "statistics; a blank bound cannot be set with this many runs (more runs are needed)")),
        (tr(lang, "demand / granted / unmet"), tr(lang, "demand = what applications were entitled to; granted = paid; "
                                                        "unmet = demand − granted")),
        (tr(lang, "Pool risk"), tr(lang, "P(dry) = share of runs in which the pool ran dry (Wilson 95% interval); dry-on "
                                         "dates among those runs; budget needed = smallest budget with P(demand ≥ budget) "
                                         "≤ {risk} (basis 'cumulative': a life pool's demand since the start of the "
                                         "horizon)", risk=risk)),
        (tr(lang, "Grants through year"), tr(lang, "cumulative grants since 1 January, percentiles across runs, per day")
         if report.fan is not None else tr(lang, "not available: the run has no awards table (run with --events)")),
        (tr(lang, "Cash by year"), tr(lang, "per pool and funder and fiscal year (the years after the horizon included): "
                                            "commitments (grants in the year decided) and cash (paid in the year), each "
                                            "with the budget needed at {risk} risk (the amount exceeded in at most that "
                                            "share of runs); outstanding = committed and neither paid nor lapsed at the "
                                            "year's end; lapsed = never paid", risk=risk)
         if report.cash is not None else tr(lang, "not available: the run has no cash tables (run it again)")),
        (tr(lang, "Cash by month"), tr(lang, "cash paid per pool and funder and month: mean and percentiles across runs")
         if report.cash is not None else tr(lang, "not available: the run has no cash tables (run it again)")),
    ] + _left_out(report, lang) + ([(tr(lang, "Sensitivity"), tr(lang, "per pool, year and figure (demand, granted, P(dry)) and uncertain assumption: "
                                             "rank correlation across runs with its 95% interval, first-order variance "
                                             "share (RBD-FAST) with its interval, and the share of the figure's variance "
                                             "all assumptions explain together (the rest is firm-to-firm chance)"))]
         if report.sensitivity is not None else [])


def _left_out(report: Report, lang: Lang) -> list[tuple[str, str]]:
    idle = left_out(report, titles=True)
    if not idle:
        return []
    return [(tr(lang, "Programs left out"),
             tr(lang, IDLE_NOTE, n=len(idle), total=len(report.manifest.programs), which="、".join(idle)))]


# --------------------------------------------------------------------------- native charts

def _sensitivity_chart(book, report: Report, lang: Lang) -> None:
    """On the sensitivity sheet: the rank correlation of each assumption with a pool's demand in the last year."""
    budgeted = report.pool_risk.filter(pl.col("budget_yuan").is_not_null())["pool"].unique().sort().to_list()
    frame = report.sensitivity.filter(pl.col("measure") == "demand")
    pool = next((p for p in budgeted if frame.filter(pl.col("pool") == p)["spearman"].drop_nulls().len()), None)
    if pool is None:
        return
    year = max(report.years)
    rows = frame.filter((pl.col("pool") == pool) & (pl.col("year") == year)).sort("rank")
    data = pl.DataFrame({tr(lang, "parameter"): [parameter_title(p, report.manifest, lang) for p in rows["parameter"].to_list()],
                         tr(lang, "rank correlation"): rows["spearman"]})
    name = tr(lang, "Sensitivity")[:31]
    ws = book.get_worksheet_by_name(name)
    col = len(sheets_columns(report)) + 1
    data.write_excel(workbook=book, worksheet=name, position=(0, col), table_style=STYLE, table_name="chart_sensitivity",
                     column_formats={data.columns[1]: FORMATS["number"]}, autofit=True)
    chart = book.add_chart({"type": "bar"})
    chart.add_series({"name": [name, 0, col + 1], "categories": [name, 1, col, rows.height, col],
                      "values": [name, 1, col + 1, rows.height, col + 1]})
    title = report.manifest.pool_titles().get(pool) or pool
    chart.set_title({"name": tr(lang, "Rank correlation with demand: {pool} {year}", pool=title, year=year)})
    chart.set_x_axis({"min": -1, "max": 1})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": max(260, 24 * rows.height + 100)})
    ws.insert_chart(rows.height + 3, col, chart)


def sheets_columns(report: Report) -> tuple:
    return next(s.columns for s in sheets(report, "en") if s.name == "Sensitivity")


def _charts(book, report: Report, lang: Lang) -> None:
    """A sheet of native Excel charts, each drawn from a small table on the same sheet (and the sensitivity sheet's)."""
    ws = book.add_worksheet(tr(lang, "Charts"))
    name = tr(lang, "Charts")
    single = report.manifest.single_policy
    titles = report.manifest.pool_titles()
    risk = report.pool_risk.filter(pl.col("pool").is_in(shown_pools(report)) & pl.col("budget_yuan").is_not_null())
    labels = [f"{titles.get(r['pool']) or short_pool(r['pool'], single)} {r['year']}" for r in risk.iter_rows(named=True)]
    data = pl.DataFrame({
        tr(lang, "pool"): labels,
        tr(lang, "budget (万元)"): (risk["budget_yuan"].cast(pl.Float64) / 10_000).round(4),
        tr(lang, "budget needed (万元)"): (risk["budget_needed_yuan"].cast(pl.Float64) / 10_000).round(4),
        tr(lang, "P(dry)"): risk["p_dry"],
    })
    data.write_excel(workbook=book, worksheet=name, position="A1", table_style=STYLE, table_name="chart_pools",
                     column_formats={data.columns[1]: FORMATS["wan"], data.columns[2]: FORMATS["wan"],
                                     data.columns[3]: FORMATS["share"]}, autofit=True)
    n = data.height
    if n:
        budgets = book.add_chart({"type": "bar"})
        for col in (1, 2):
            budgets.add_series({"name": [name, 0, col], "categories": [name, 1, 0, n, 0], "values": [name, 1, col, n, col]})
        budgets.set_title({"name": tr(lang, "Budget and budget needed at {risk} risk (万元)", risk=f"{report.risk:.0%}")})
        budgets.set_y_axis({"reverse": True})
        budgets.set_size({"width": 760, "height": max(300, 22 * n + 120)})
        ws.insert_chart(1, 6, budgets)
        dry = book.add_chart({"type": "bar"})
        dry.add_series({"name": [name, 0, 3], "categories": [name, 1, 0, n, 0], "values": [name, 1, 3, n, 3]})
        dry.set_title({"name": tr(lang, "Chance of running dry with the budget now")})
        dry.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
        dry.set_y_axis({"reverse": True})
        dry.set_legend({"none": True})
        dry.set_size({"width": 760, "height": max(300, 22 * n + 120)})
        ws.insert_chart(max(22, n + 8), 6, dry)
    funders = (report.funders.select("funder", "year", (pl.col("mean") / 10_000).round(4).alias("mean"))
               .with_columns(pl.col("funder").replace_strict({k: tr(lang, v) for k, v in FUNDERS.items()}, default=pl.col("funder")))
               .pivot(on="funder", index="year", values="mean").sort("year"))
    if funders.height and funders.width > 1:
        top = max(n + 3, 2)
        funders = funders.with_columns(pl.col("year").cast(pl.String)).rename({"year": tr(lang, "year")})
        funders.write_excel(workbook=book, worksheet=name, position=(top, 0), table_style=STYLE, table_name="chart_funders",
                            column_formats={c: FORMATS["wan"] for c in funders.columns[1:]}, autofit=True)
        chart = book.add_chart({"type": "column"})
        for col in range(1, funders.width):
            chart.add_series({"name": [name, top, col], "categories": [name, top + 1, 0, top + funders.height, 0],
                              "values": [name, top + 1, col, top + funders.height, col]})
        chart.set_title({"name": tr(lang, "Grants by funder per year (mean; bars: 5th–95th percentile of runs)").split("(")[0]
                         .split("（")[0].strip()})
        chart.set_y_axis({"name": tr(lang, "granted (万元)")})
        ws.insert_chart(max(44, 2 * n + 16), 6, chart)
    if report.sensitivity is not None:
        _sensitivity_chart(book, report, lang)
