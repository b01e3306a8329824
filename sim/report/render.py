"""The report's files: ``report.html``, ``report.xlsx`` and ``summary.parquet`` in the run's folder.

The same figures (:mod:`sim.report.figures`) in three forms: a page to read (charts and
tables, Chinese titles beside every id, a budget the reader can try, one self-contained
file), a workbook to compute with (:mod:`sim.report.workbook`), and a tidy Parquet table
for programs (:func:`sim.report.figures.summary_long`).  The page and the workbook are in
Chinese or English (:mod:`sim.report.lang`); Chinese is the default, because they are
what a finance bureau reads and forwards.  The three files are written as a set.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl

from sim import __version__
from sim.errors import OutputError
from sim.report.display import day, gap, interval, percent, short_pool, wan, wan_up
from sim.report.cash import ALL, paid_later, several_funders
from sim.report.figures import QUANTILES, Report, imprecise, left_out, pct, shown_pools, summary_long
from sim.report.lang import IDLE_NOTE, Lang, tr
from sim.report.page import BudgetRow, Cell, box, budget_box, document, esc, figure, section, table
from sim.report.sensitivity import parameter_title
from sim.report.workbook import write_workbook
from sim.runs.lock import locked

FILES = ("report.html", "report.xlsx", "summary.parquet")
SENSITIVITY = "sensitivity.parquet"  # written beside them when the scenario has uncertain numbers
MEASURE_LABEL = {"demand": "demand", "granted": "granted", "unmet": "unmet demand"}


def write_report(report: Report, *, lang: Lang = "zh") -> list[Path]:
    """Write the report's files into the run's folder, as a set; return their paths.

    report.html, report.xlsx, summary.parquet, and sensitivity.parquet when the run has
    uncertain numbers (its ``parameters`` table).

    Each file is first written under a temporary name; only when all three are written
    are they renamed into place.  A failure (a full disk) removes the temporary files and
    leaves any earlier report untouched: never half a report, never a mix of two.
    """
    out = report.out
    names = FILES + ((SENSITIVITY,) if report.sensitivity is not None else ())
    paths = [out / name for name in names]
    temps = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in paths]
    writers = (lambda tmp: tmp.write_text(html(report, lang=lang), encoding="utf-8"),
               lambda tmp: write_workbook(tmp, report, lang=lang),
               lambda tmp: summary_long(report).write_parquet(tmp, metadata=report.manifest.parquet_metadata(
                   "summary", {"value": "the row's unit: yuan, share, or date as days since 1970-01-01"})),
               lambda tmp: report.sensitivity.write_parquet(tmp, metadata=report.manifest.parquet_metadata(
                   "sensitivity", SENSITIVITY_UNITS)))
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


# --------------------------------------------------------------------------- the page

def html(report: Report, *, lang: Lang = "zh") -> str:
    """The whole page as a string (self-contained: CSS and script inline, charts as inline SVG)."""
    m = report.manifest
    sc = m.scenario
    title = tr(lang, "Budget report: {title}", title=sc.title or sc.name)
    meta = (f"{tr(lang, 'scenario')} <code>{esc(sc.name)}</code> ({esc(sc.file)}) · {tr(lang, '{runs} runs', runs=report.runs)}"
            f" · {tr(lang, 'seed {seed}', seed=m.seed)} · {tr(lang, 'horizon')} {esc(' – '.join(m.horizon))} · "
            f"{dt.datetime.now():%Y-%m-%d %H:%M} {tr(lang, 'by sim {version}', version=__version__)}")
    nav = " ".join(f'<a href="#{i}">{esc(tr(lang, t))}</a>' for i, t in (
        ("risk", "Risk & budget needed"), *((("sensitivity", "What drives it"),) if report.sensitivity is not None else ()),
        ("try-budget", "Try a budget"), ("cash", "Commitments and cash"), ("chart-fan", "Grants through the year"),
        ("chart-demand", "Demand"), ("chart-dry", "Running dry"), ("chart-funders", "Funders"), ("pools", "Pools"),
        ("programs", "Programs"), ("funders", "Funder table")))
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{meta}</p>', f"<nav>{nav}</nav>", _how_to_read(report, lang),
            _notes(report, lang), _risk_section(report, lang), _sensitivity_section(report, lang),
            _budget_section(report, lang), _cash_section(report, lang), _fan_section(report, lang),
            _demand_section(report, lang), _dry_section(report, lang), _funder_chart_section(report, lang),
            _pool_table_section(report, lang), _program_table_section(report, lang), _funder_table_section(report, lang)]
    return document(title, "".join(body), lang="zh-CN" if lang == "zh" else "en")


def _how_to_read(report: Report, lang: Lang) -> str:
    items = [
        tr(lang, "Amounts in 万元 (10,000 yuan). Each figure is over {runs} Monte Carlo runs of the scenario: the mean, "
                 "and the 5th, 50th (median), 90th, 95th and 99th percentiles across runs.", runs=report.runs),
        tr(lang, "<b>Demand</b> is what applications were entitled to; <b>granted</b> what the pool paid; <b>unmet "
                 "demand</b> = demand − granted (refused or cut for lack of money, count limits or ranking)."),
        tr(lang, "± is the Monte Carlo standard error of a mean or probability; hover a percentile for its 95% interval. "
                 "An interval shown with ? cannot be bounded with this many runs; intervals shrink about as 1/√N: four "
                 "times the runs halve them."),
        tr(lang, "<b>Budget needed</b>: the smallest budget with a chance of at most {risk} that the year's demand "
                 "reaches it (a first-come pool runs dry exactly then), rounded up; also shown for pools without a "
                 "limit.", risk=percent(report.risk, 1)),
    ]
    if report.pool_risk.height and report.pool_risk["demand_basis"][0] == "payable":
        items.append(tr(lang, "The budget needed is on <b>payable demand</b> (column “needed on”): what the pool would "
                              "grant with unlimited money. A call paying at most N a year counts only the first N in its "
                              "order, and a cap several programs share counts once per firm; a first-come or pro-rata "
                              "pool without them counts all it is asked."))
    return box(items, title=tr(lang, "How to read this report"))


def _notes(report: Report, lang: Lang) -> str:
    notes = []
    loose = imprecise(report)
    single = single_policy(report)
    if loose.height:
        worst = ", ".join(f"{esc(short_pool(r['pool'], single))} {r['year']}" for r in loose.head(6).iter_rows(named=True))
        notes.append(tr(lang, "More runs needed: the 95% interval of the budget needed is wider than ±5% for {n} "
                              "pool-year(s) ({which}). Run again with e.g. <code>--runs {runs}</code>.",
                        n=loose.height, which=worst + (", …" if loose.height > 6 else ""), runs=report.runs * 4))
    if report.fan is None:
        notes.append(tr(lang, "The chart of grants through the year needs the decision ledger (the <code>awards</code> "
                              "table): run again with <code>sim run SCENARIO --events</code> (or <code>--report</code>)."))
    idle = left_out(report, titles=True)
    if idle:
        notes.append(tr(lang, IDLE_NOTE, n=len(idle), total=len(report.manifest.programs), which="、".join(map(esc, idle))))
    life = report.pool_risk.filter(pl.col("period") == "life")["pool"].unique().to_list()
    if life:
        notes.append(tr(lang, "Pools with one budget over the policy's life ({pools}) are shown cumulatively: each "
                              "year's row says whether the pool has run dry by the end of that year.",
                        pools=", ".join(esc(p) for p in life)))
    return box(notes, warn=True, title=tr(lang, "Notes"))


def _pool_cell(report: Report, pool: str, rowspan: int = 1) -> Cell:
    return Cell(short_pool(pool, single_policy(report)), sub=pool_titles(report).get(pool, ""), rowspan=rowspan, cls="title")


def _budget_text(budget: int | None, lang: Lang) -> str:
    return wan(budget, 0) if budget is not None else tr(lang, "no limit")


def _risk_section(report: Report, lang: Lang) -> str:
    risk = percent(report.risk, 1)
    headers = [tr(lang, "pool"), tr(lang, "rationing"), tr(lang, "year"), Cell(tr(lang, "budget"), num=True),
               Cell(tr(lang, "P(dry) ± se"), num=True), Cell(tr(lang, "P(dry) 95% CI"), num=True),
               Cell(tr(lang, "dry on (median)"), num=True), Cell(tr(lang, "dry on p10–p90"), num=True),
               Cell(tr(lang, "budget needed at {risk}", risk=risk), num=True), Cell(tr(lang, "needed 95% CI"), num=True),
               Cell(tr(lang, "needed − budget"), num=True), Cell(tr(lang, "needed on"))]
    rows = []
    frame = report.pool_risk.filter(pl.col("pool").is_in(shown_pools(report)))
    for pool, part in frame.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            limited = r["budget_yuan"] is not None
            rows.append([
                _pool_cell(report, pool[0], part.height) if i == 0 else None,
                Cell(tr(lang, r["rationing"]) + (tr(lang, "(life)") if r["period"] == "life" else ""),
                     rowspan=part.height) if i == 0 else None,
                Cell(str(r["year"]) + (tr(lang, "(cum.)") if r["basis"] == "cumulative" else "")),
                Cell(_budget_text(r["budget_yuan"], lang), num=True),
                Cell(f"{percent(r['p_dry'])} ± {percent(r['p_dry_se'])}" if limited else "—", num=True),
                Cell(interval(r["p_dry_lo"], r["p_dry_hi"], percent) if limited else "—", num=True),
                Cell(day(r["dry_p50"], with_year=True), num=True,
                     tip=tr(lang, "95% CI {interval}", interval=interval(r["dry_p50_lo"], r["dry_p50_hi"], day))
                     if r["dry_runs"] else ""),
                Cell(interval(r["dry_p10"], r["dry_p90"], day) if r["dry_runs"] else "—", num=True),
                Cell(wan_up(r["budget_needed_yuan"]), num=True),
                Cell(interval(r["budget_needed_lo"], r["budget_needed_hi"], wan_up), num=True),
                Cell(gap(r["budget_needed_yuan"], r["budget_yuan"]), num=True),
                Cell(tr(lang, r["demand_basis"])),
            ])
    body = (f"<p>{tr(lang, 'Per pool and budget year: how likely the pool runs dry, when, and the budget that keeps that chance at or below {risk}. Pools with neither a budget nor any demand are left out.', risk=risk)}</p>"
            + table(headers, rows))
    return section("risk", tr(lang, "Pools: risk of running dry and the budget needed at {risk} risk", risk=risk), body)


SENSITIVITY_UNITS = {"spearman": "rank correlation (-1 to 1)", "variance_share": "share of the figure's variance",
                     "explained_share": "share of the figure's variance", "value": "p_dry: 0/1 per run"}
MEASURE_OF = {"demand": "demand", "granted": "granted", "p_dry": "P(dry)"}
CHART_FROM = 0.1  # a pool gets a chart when the assumptions explain at least this share of its demand in some year


def ranking_rows(report: Report) -> pl.DataFrame:
    """One row per pool, year and measure of the sensitivity table: the share explained and the top three parameters."""
    frame = report.sensitivity.filter(pl.col("pool").is_in(shown_pools(report)) & pl.col("explained_share").is_not_null())
    return (frame.sort("pool", "year", "measure", "rank")
            .group_by("pool", "year", "measure", maintain_order=True)
            .agg(pl.col("explained_share").first(), pl.col("explained_low").first(), pl.col("explained_high").first(),
                 pl.col("parameter").head(3), pl.col("spearman").head(3), pl.col("variance_share").head(3)))


def driver(report: Report, name: str, rho: float | None, share: float | None, lang: Lang = "en") -> str:
    """``ai_smes.take_up.compute_voucher.p (ρ +0.40, 16%)``: a parameter with its rank correlation and first-order share."""
    label = parameter_title(name, report.manifest, lang)
    if rho is None:
        return label
    return f"{label} (ρ {rho:+.2f}, {percent(max(share or 0.0, 0.0), 0)})"


def _sensitivity_section(report: Report, lang: Lang) -> str:
    if report.sensitivity is None:
        return ""
    from sim.report import charts  # matplotlib loads only when a page is drawn

    intro = tr(lang, "The scenario gives some assumptions as distributions, drawn once per run. Across the {runs} runs, "
                     "ρ is the rank correlation of an assumption with a pool's figure (its sign says which way the figure "
                     "moves; a 95% interval containing 0 means the runs cannot tell an effect), the share is its "
                     "first-order variance index (the part of the figure's variance that knowing it would remove), and "
                     "'explained by assumptions' is the part of the variance all assumptions explain together; the rest "
                     "is firm-to-firm chance. Charts show pools whose demand the assumptions explain at least 10% of in some year; "
                     "every row is in sensitivity.parquet.", runs=report.runs)
    headers = [tr(lang, "pool"), tr(lang, "year"), tr(lang, "measure"), Cell(tr(lang, "explained by assumptions"), num=True),
               tr(lang, "first"), tr(lang, "second"), tr(lang, "third")]
    rows = []
    ranking = ranking_rows(report)
    for (pool,), part in ranking.group_by("pool", maintain_order=True):
        for i, r in enumerate(part.iter_rows(named=True)):
            drivers = [driver(report, n, rho, sh, lang) for n, rho, sh in zip(r["parameter"], r["spearman"], r["variance_share"])]
            explained = (f"{percent(max(r['explained_share'], 0.0), 0)} "
                         f"({interval(r['explained_low'], r['explained_high'], lambda v: percent(max(v, 0.0), 0))})")
            rows.append([_pool_cell(report, pool, part.height) if i == 0 else None, Cell(str(r["year"])),
                         Cell(tr(lang, MEASURE_OF[r["measure"]])), Cell(explained, num=True)]
                        + [Cell(d) for d in drivers] + [Cell("")] * (3 - len(drivers)))
    parts = [f"<p>{intro}</p>"]
    single = single_policy(report)
    explained = (report.sensitivity.filter(pl.col("measure") == "demand").group_by("pool")
                 .agg(pl.col("explained_share").max()).filter(pl.col("explained_share") >= CHART_FROM)["pool"].to_list())
    for pool in [p for p in shown_pools(report) if p in explained]:
        chart = charts.sensitivity(report.sensitivity, pool, short_pool(pool, single), report.years,
                                   lambda path: parameter_title(path, report.manifest, lang), title=pool_titles(report).get(pool), lang=lang)
        if chart:
            parts.append(figure(chart, f"{pool_titles(report).get(pool, '')} {pool}"))
    parts.append(table(headers, rows))
    return section("sensitivity", tr(lang, "Which assumption drives each figure"), "".join(parts))


def _budget_section(report: Report, lang: Lang) -> str:
    """The budget box: every pool-year with demand, starting at its budget (or its budget needed where it has none)."""
    demand = report.pool_demand.sort("pool", "year", "run")
    rows = []
    risk_rows = {(r["pool"], r["year"]): r for r in report.pool_risk.iter_rows(named=True)}
    for pool in report.active_pools():
        for (year,), part in demand.filter(pl.col("pool") == pool).group_by("year", maintain_order=True):
            r = risk_rows.get((pool, year))
            if r is None:
                continue
            start = r["budget_yuan"] if r["budget_yuan"] is not None else (r["budget_needed_yuan"] or 0)
            rows.append(BudgetRow(key=f"{pool}|{year}", pool=_pool_cell(report, pool), year=str(year), start=start,
                                  demand=part["payable"].to_list()))
    headers = [tr(lang, "pool"), tr(lang, "year"), tr(lang, "budget (万元)"), "", tr(lang, "P(demand ≥ budget)"),
               tr(lang, "expected unmet (万元)")]
    intro = tr(lang, "Type or slide a budget (万元) for a pool and year: the page computes, from the {runs} runs' demand "
                     "embedded in it, the chance that the year's demand reaches that budget and the expected unmet "
                     "demand, mean(max(demand − budget, 0)). Basis: a first-come pool runs dry exactly when the year's "
                     "demand reaches its budget, so for first-come pools these are the chance of running dry and the "
                     "money short; for competitive and pro-rata pools (and with count limits) they are the same "
                     "criterion as the budget needed above, and a close guide. A life pool counts its demand since the "
                     "start of the horizon.", runs=report.runs)
    if report.pool_risk.height and report.pool_risk["demand_basis"][0] == "payable":
        intro += " " + tr(lang, "Demand here is payable demand: what the pool would grant with unlimited money, its "
                                "count limits and the caps its programs share applied, as for the budget needed.")
    return section("try-budget", tr(lang, "Try a budget: chance of running dry and unmet demand"),
                   f"<p>{intro}</p>" + budget_box(rows, headers))


def cash_rows(report: Report) -> pl.DataFrame:
    """The rows of :attr:`Report.cash` worth showing, in order: each shown pool (its total first, then its
    funders if it has several), then every pool (each funder, then all); years in which nothing is
    committed, paid, outstanding or lapsed in any run are left out."""
    frame = report.cash
    moves = (pl.col("committed_needed") > 0) | (pl.col("paid_needed") > 0) | (pl.col("outstanding_mean") > 0) | (
        pl.col("lapsed_mean") > 0) | (pl.col("committed_mean") > 0) | (pl.col("paid_mean") > 0)
    several = set(several_funders(frame))
    shown = set(shown_pools(report)) | {ALL}
    keep = (pl.col("pool").is_in(list(shown)) & ((pl.col("funder") == ALL) | pl.col("pool").is_in(list(several))))
    return (frame.filter(keep & moves)
            .sort(pl.col("pool") == ALL, "pool", pl.col("funder") != ALL, "funder", "year"))


def _cash_label(report: Report, pool: str, lang: Lang, rowspan: int) -> Cell:
    if pool == ALL:
        return Cell(tr(lang, "all pools"), rowspan=rowspan, cls="title")
    return _pool_cell(report, pool, rowspan)


def _cash_section(report: Report, lang: Lang) -> str:
    """Per pool and funder and fiscal year: commitments and cash side by side, and the fans of cash through each year."""
    from sim.report import charts  # matplotlib loads only when a page is drawn

    heading = tr(lang, "Commitments and cash per fiscal year")
    if report.cash is None:
        return section("cash", heading, '<p class="missing">' + tr(lang, "Not available: this run has no cash tables "
                                                                       "(it was written before sim recorded payments); "
                                                                       "run the scenario again.") + "</p>")
    risk = percent(report.risk, 1)
    intro = tr(lang, "A pool's budget limits <b>commitments</b>: grants, in the year they are decided. The treasury pays "
                     "<b>cash</b> when the grant is paid, which the texts put later for some programs (vouchers when "
                     "redeemed, awards on completion, platforms by year), so cash runs into the years after the "
                     "horizon. <b>Budget needed</b> on each basis: the smallest amount the year's commitments (or cash) "
                     "exceed in at most {risk} of runs; <b>outstanding</b>: committed by the year's end and not yet paid "
                     "nor lapsed; <b>lapsed</b>: never paid (vouchers never redeemed, projects never completed).", risk=risk)
    headers = [tr(lang, "pool"), tr(lang, "funder"), tr(lang, "year"), Cell(tr(lang, "committed mean ± se"), num=True),
               Cell(tr(lang, "needed at {risk}, commitment basis", risk=risk), num=True),
               Cell(tr(lang, "paid mean ± se"), num=True), Cell(tr(lang, "needed at {risk}, cash basis", risk=risk), num=True),
               Cell(tr(lang, "outstanding at year end (mean)"), num=True), Cell(tr(lang, "lapsed (mean)"), num=True)]
    rows = []
    frame = cash_rows(report)
    for (pool,), by_pool in frame.group_by("pool", maintain_order=True):
        for j, ((funder,), part) in enumerate(by_pool.group_by("funder", maintain_order=True)):
            for i, r in enumerate(part.iter_rows(named=True)):
                lead = [_cash_label(report, pool, lang, by_pool.height) if i == 0 and j == 0 else None]
                lead += [Cell(tr(lang, "all funders") if funder == ALL else tr(lang, funder), rowspan=part.height)] if i == 0 else [None]
                rows.append(lead + [
                    Cell(str(r["year"])),
                    Cell(f"{wan(r['committed_mean'], 0)} ± {wan(r['committed_se'], 0)}", num=True),
                    Cell(wan_up(r["committed_needed"]), num=True,
                         tip=tr(lang, "95% CI {interval}", interval=interval(r["committed_needed_lo"], r["committed_needed_hi"], wan_up))),
                    Cell(f"{wan(r['paid_mean'], 0)} ± {wan(r['paid_se'], 0)}", num=True),
                    Cell(wan_up(r["paid_needed"]), num=True,
                         tip=tr(lang, "95% CI {interval}", interval=interval(r["paid_needed_lo"], r["paid_needed_hi"], wan_up))),
                    Cell(wan(r["outstanding_mean"], 0), num=True), Cell(wan(r["lapsed_mean"], 0), num=True)])
    parts = [f"<p>{intro}</p>", table(headers, rows)]
    later = sorted(set(paid_later(report.cash)) & set(shown_pools(report)))
    single = single_policy(report)
    if later:
        parts.append(f"<p>{tr(lang, 'For each month of a fiscal year, what the pool has paid since 1 January: the median run (line) and the 10th–90th percentile of runs (band), against its budget, a ceiling on commitments (dashed), and the cash budget needed at {risk} (solid).', risk=risk)}</p>")
        for pool in later:
            budgets = dict(report.pool_risk.filter(pl.col("pool") == pool).select("year", "budget_yuan").iter_rows())
            if report.pool_risk.filter(pl.col("pool") == pool)["period"][0] == "life":
                budgets = {}
            needed = dict(report.cash.filter((pl.col("pool") == pool) & (pl.col("funder") == ALL))
                          .select("year", "paid_needed").iter_rows())
            chart = charts.cash_fan(report.cash_fan, pool, short_pool(pool, single), budgets, needed, sorted(needed),
                                    title=pool_titles(report).get(pool), lang=lang)
            if chart:
                parts.append(figure(chart, f"{pool_titles(report).get(pool, '')} {pool}"))
    same = sorted(set(report.active_pools()) - set(later))
    if same:
        parts.append(f"<p>{tr(lang, 'Paid when committed (cash = commitments each year): {pools}.', pools=', '.join(esc(short_pool(p, single)) for p in same))}</p>")
    return section("cash", heading, "".join(parts))


def _fan_section(report: Report, lang: Lang) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    heading = tr(lang, "Cumulative grants through the year")
    if report.fan is None:
        body = ('<p class="missing">' + tr(lang, "Not available: this run has no <code>awards</code> table (the decision "
                                                 "ledger). Run the scenario again with <code>--events</code> (or "
                                                 "<code>sim run … --report</code>) to draw cumulative grants through "
                                                 "the year.") + "</p>")
        return section("chart-fan", heading, body)
    parts = [f"<p>{tr(lang, 'For each day of the budget year, what the pool has granted since 1 January: the median run (line) and the 10th–90th percentile of runs (band), against the budget (dashed).')}</p>"]
    single = single_policy(report)
    for pool in report.active_pools():
        budgets = dict(report.pool_risk.filter(pl.col("pool") == pool).select("year", "budget_yuan").iter_rows())
        if report.pool_risk.filter(pl.col("pool") == pool)["period"][0] == "life":
            budgets = {}
        chart = charts.fan(report.fan, pool, short_pool(pool, single), budgets, report.years,
                           title=pool_titles(report).get(pool), lang=lang)
        if chart:
            parts.append(figure(chart, f"{pool_titles(report).get(pool, '')} {pool}"))
    return section("chart-fan", heading, "".join(parts))


def _demand_section(report: Report, lang: Lang) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    text = tr(lang, "How each pool's demand in a year varies across runs, with the budget (dashed) and the budget "
                    "needed at {risk} risk (solid; its 95% interval shaded).", risk=percent(report.risk, 1))
    parts = [f"<p>{text}</p>"]
    single = single_policy(report)
    for pool in report.active_pools():
        # the demand the budget needed is a quantile of (payable demand, see the notes)
        chart = charts.demand(report.pool_demand.with_columns(pl.col("payable").alias("demand")), pool, short_pool(pool, single),
                              report.pool_risk.filter(pl.col("pool") == pool), report.years, report.risk,
                              title=pool_titles(report).get(pool), lang=lang)
        if chart:
            parts.append(figure(chart, f"{pool_titles(report).get(pool, '')} {pool}"))
    return section("chart-demand", tr(lang, "Annual demand per pool"), "".join(parts))


def _dry_section(report: Report, lang: Lang) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    single = single_policy(report)
    titles = pool_titles(report)
    labels = {p: (f"{titles[p]} ({short_pool(p, single)})" if titles.get(p) else short_pool(p, single))
              for p in report.dry_curve["pool"].unique().to_list()}
    chart = charts.dry_by_date(report.dry_curve, labels, report.years, lang=lang)
    text = tr(lang, "Share of runs in which the pool had run dry by each date; an annual pool starts again at 0 on 1 January.")
    body = f"<p>{text}</p>" + figure(chart, tr(lang, "When pools run dry"))
    return section("chart-dry", tr(lang, "When pools run dry"), body)


def _funder_chart_section(report: Report, lang: Lang) -> str:
    from sim.report import charts  # matplotlib loads only when a page is drawn

    chart = charts.funders(report.funders, lang=lang)
    body = (figure(chart, tr(lang, "Grants by funder")) if chart
            else f'<p class="missing">{tr(lang, "No funder paid anything in any run.")}</p>')
    return section("chart-funders", tr(lang, "Grants by funder"), body)


def _stat_cells(r: dict, lang: Lang) -> list[Cell]:
    cells = [Cell(f"{wan(r['mean'], 0)} ± {wan(r['se'], 0)}", num=True)]
    for q in QUANTILES:
        p = pct(q)
        cells.append(Cell(wan(r[p], 0), num=True, tip=tr(lang, "95% CI {interval}", interval=interval(r[p + "_lo"], r[p + "_hi"]))))
    return cells


def _stat_headers(lang: Lang) -> list[Cell]:
    return [Cell(tr(lang, "mean ± se"), num=True)] + [Cell(pct(q), num=True) for q in QUANTILES]


def _pool_table_section(report: Report, lang: Lang) -> str:
    frame = report.pools.filter(pl.col("pool").is_in(shown_pools(report)))
    rows = []
    for (pool,), by_pool in frame.group_by("pool", maintain_order=True):
        for j, ((year,), part) in enumerate(by_pool.group_by("year", maintain_order=True)):
            for i, r in enumerate(part.iter_rows(named=True)):
                lead = [_pool_cell(report, pool, by_pool.height) if i == 0 and j == 0 else None]
                lead += [Cell(str(year), rowspan=part.height),
                         Cell(_budget_text(r["budget_yuan"], lang), num=True, rowspan=part.height)] if i == 0 else [None, None]
                rows.append(lead + [Cell(tr(lang, MEASURE_LABEL[r["measure"]]))] + _stat_cells(r, lang))
    headers = [tr(lang, "pool"), tr(lang, "year"), Cell(tr(lang, "budget"), num=True), tr(lang, "measure")] + _stat_headers(lang)
    return section("pools", tr(lang, "Pools: demand, grants and unmet demand per year (万元)"), table(headers, rows))


def _program_table_section(report: Report, lang: Lang) -> str:
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
                rows.append(lead + [Cell(tr(lang, MEASURE_LABEL[r["measure"]]))] + _stat_cells(r, lang))
    headers = [tr(lang, "program (clause, title)"), tr(lang, "year"), tr(lang, "measure")] + _stat_headers(lang)
    note = (f"<p>{tr(lang, '{n} program(s) without any application in any run are left out (they are in report.xlsx).', n=hidden)}</p>"
            if hidden else "")
    return section("programs", tr(lang, "Programs: demand, grants and unmet demand per year (万元)"), note + table(headers, rows))


def _funder_table_section(report: Report, lang: Lang) -> str:
    rows = [[Cell(tr(lang, r["funder"])), Cell(str(r["year"]))] + _stat_cells(r, lang) for r in report.funders.iter_rows(named=True)]
    return section("funders", tr(lang, "Funders: grants per year (万元)"),
                   table([tr(lang, "funder"), tr(lang, "year")] + _stat_headers(lang), rows))
