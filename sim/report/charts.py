"""Charts of a budget report, drawn with matplotlib as SVG whose text stays text.

Five pictures answer a finance department's questions at a glance:

- a fan of cumulative grants through each pool's year (10th/50th/90th percentile of
  runs) against the budget line: when does the money go, and does it reach the line;
- a fan of cumulative cash through each fiscal year, month by month, against the pool's
  budget and the cash budget needed: when the treasury pays;
- the distribution of each pool's annual demand with the budget and the budget needed
  at the target risk marked: how far the budget is from what firms ask;
- the probability that each pool has run dry by each date;
- grants by funder per year, with the 5–95% range across runs.

Each chart is SVG with ``svg.fonttype: none``: its labels are ``<text>`` elements, not
outlines, so the reader's browser draws the Chinese (pool and program titles, labels in
Chinese) with its own fonts and no CJK font is needed on the machine that makes the
report; the text can be searched and copied.  Labels follow the report's language
(:mod:`sim.report.lang`).  Every function returns the SVG markup (or None when there is
nothing to draw), for the HTML page to carry inline, so it opens offline.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")  # no display: files only; set before pyplot is imported
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from sim.report.lang import Lang, tr  # noqa: E402

WAN = 10_000
BUDGET_COLOUR = "#c0392b"
NEEDED_COLOUR = "#1f4e79"
FAN_COLOUR = "#2e86c1"
PALETTE = ("#2e86c1", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d")
DPI = 100

FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei",
         "DejaVu Sans"]  # the browser picks the first it has; matplotlib measures with the first it has
plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False,
                     "figure.dpi": DPI, "savefig.dpi": DPI, "svg.fonttype": "none", "svg.hashsalt": None,
                     "font.family": "sans-serif", "font.sans-serif": FONTS})


def svg(fig) -> str:
    """The figure as inline SVG markup (no XML prologue), scaled to its container; the figure is closed."""
    buffer = io.StringIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")  # the browser has the glyphs
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # creator and date: not for readers
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text)  # HTML knows SVG's namespaces; no URL is left in the page
    return re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg class="chart" \1', text, count=1)


MONTH_ZH = matplotlib.ticker.FuncFormatter(lambda x, _: f"{mdates.num2date(x).month}月")


def _label(title: str | None, key: str) -> str:
    """A pool or program as a chart shows it: its Chinese title and its id."""
    return f"{title} ({key})" if title else key


def _year_axes(n: int, *, height: float = 2.6):
    fig, axes = plt.subplots(1, n, figsize=(min(3.4 * n, 10.5), height), sharey=True, squeeze=False)
    return fig, list(axes[0])


def fan(frame: pl.DataFrame, pool: str, label: str, budgets: dict[int, int | None], years: list[int], *,
        title: str | None = None, lang: Lang = "en") -> str | None:
    """Cumulative grants through each year of ``pool``: p10–p90 band, median line, budget line.

    ``frame`` is :func:`sim.report.figures.cumulative_grants` (all pools); ``budgets`` maps year to
    the pool's budget (None: no limit).
    """
    part = frame.filter(pl.col("pool") == pool)
    if part.height == 0:
        return None
    fig, axes = _year_axes(len(years))
    for ax, year in zip(axes, years):
        rows = part.filter(pl.col("year") == year)
        _through_the_year(ax, year, lang)
        if rows.height:
            dates = rows["date"].to_list()
            ax.fill_between(dates, rows["p10"].to_numpy() / WAN, rows["p90"].to_numpy() / WAN, color=FAN_COLOUR,
                            alpha=0.25, linewidth=0, label=tr(lang, "10–90% of runs"))
            ax.plot(dates, rows["p50"].to_numpy() / WAN, color=FAN_COLOUR, linewidth=1.6, label=tr(lang, "median"))
        budget = budgets.get(year)
        if budget is not None:
            ax.axhline(budget / WAN, color=BUDGET_COLOUR, linestyle="--", linewidth=1.2, label=tr(lang, "budget"))
    return _fan_figure(fig, axes, tr(lang, "granted since 1 Jan (万元)"),
                       tr(lang, "Cumulative grants through the year: {pool}", pool=_label(title, label)))


def cash_fan(frame: pl.DataFrame, pool: str, label: str, budgets: dict[int, int | None], needed: dict[int, int | None],
             years: list[int], *, title: str | None = None, lang: Lang = "en") -> str | None:
    """Cumulative cash through each fiscal year of ``pool``, month by month: p10–p90 band, median, budget lines.

    ``frame`` is :func:`sim.report.cash.cash_fan` (all pools); ``budgets`` maps a budget
    year to the pool's budget (its ceiling on commitments; None: no limit); ``needed`` maps
    a year to the cash budget needed at the report's risk.  One panel per year with cash.
    """
    part = frame.filter(pl.col("pool") == pool)
    shown = [y for y in years if part.filter((pl.col("year") == y) & (pl.col("p90") > 0)).height]
    if not shown:
        return None
    fig, axes = _year_axes(len(shown))
    for ax, year in zip(axes, shown):
        rows = part.filter(pl.col("year") == year).sort("month")
        _through_the_year(ax, year, lang)
        ends = [dt.date(year, 1, 1)] + [_month_end(m) for m in rows["month"].to_list()]
        lo, mid, hi = ([0.0] + list(rows[c].to_numpy() / WAN) for c in ("p10", "p50", "p90"))
        ax.fill_between(ends, lo, hi, step="pre", color=FAN_COLOUR, alpha=0.25, linewidth=0, label=tr(lang, "10–90% of runs"))
        ax.step(ends, mid, where="pre", color=FAN_COLOUR, linewidth=1.6, label=tr(lang, "median"))
        if budgets.get(year) is not None:
            ax.axhline(budgets[year] / WAN, color=BUDGET_COLOUR, linestyle="--", linewidth=1.2,
                       label=tr(lang, "budget (ceiling on commitments)"))
        if needed.get(year):
            ax.axhline(needed[year] / WAN, color=NEEDED_COLOUR, linewidth=1.2, label=tr(lang, "cash budget needed"))
    return _fan_figure(fig, axes, tr(lang, "paid since 1 Jan (万元)"),
                       tr(lang, "Cumulative cash through the year: {pool}", pool=_label(title, label)))


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _through_the_year(ax, year: int, lang: Lang) -> None:
    """A panel of one year, 1 January to 31 December, months marked by quarter, a light grid."""
    ax.set_title(f"{year}")
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(MONTH_ZH if lang == "zh" else mdates.DateFormatter("%b"))
    ax.set_xlim(dt.date(year, 1, 1), dt.date(year, 12, 31))
    ax.grid(axis="y", alpha=0.3)


def _fan_figure(fig, axes, ylabel: str, heading: str) -> str:
    """A row of year panels of amounts since 1 January, finished: axis from 0, heading, one legend."""
    axes[0].set_ylabel(ylabel)
    axes[0].set_ylim(bottom=0)
    fig.suptitle(heading, x=0.01, ha="left", y=1.12, fontsize=10)
    _legend(fig, axes)
    return svg(fig)


def _legend(fig, axes) -> None:
    """One legend above the panels (inside a panel it hides the data)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(text, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="lower right", bbox_to_anchor=(1.0, 0.98), ncols=len(seen),
                   fontsize=8, frameon=False)


def demand(frame: pl.DataFrame, pool: str, label: str, risk_rows: pl.DataFrame, years: list[int], risk: float, *,
           title: str | None = None, lang: Lang = "en") -> str | None:
    """Histogram of ``pool``'s demand per year across runs, budget and budget needed at ``risk`` marked.

    ``frame`` is the per-run pool demand (pool, year, run, demand); ``risk_rows`` the
    pool's rows of :func:`sim.report.figures.pool_risk`.
    """
    part = frame.filter(pl.col("pool") == pool)
    if part.height == 0 or part["demand"].max() == 0:
        return None
    fig, axes = _year_axes(len(years))
    cumulative = (risk_rows["basis"] == "cumulative").any()
    for ax, year in zip(axes, years):
        values = part.filter(pl.col("year") == year)["demand"].to_numpy() / WAN
        ax.set_title(f"{year}" + (tr(lang, "(cumulative)") if cumulative else ""))
        if len(values):
            ax.hist(values, bins=min(40, max(10, len(values) // 10)), color="#95a5a6", edgecolor="white", linewidth=0.4)
        row = risk_rows.filter(pl.col("year") == year)
        if row.height:
            r = row.row(0, named=True)
            if r["budget_needed_lo"] is not None and r["budget_needed_hi"] is not None:
                ax.axvspan(r["budget_needed_lo"] / WAN, r["budget_needed_hi"] / WAN, color=NEEDED_COLOUR, alpha=0.12, linewidth=0)
            ax.axvline(r["budget_needed_yuan"] / WAN, color=NEEDED_COLOUR, linewidth=1.4,
                       label=tr(lang, "needed at {risk} risk (95% CI shaded)", risk=f"{risk:.0%}"))
            if r["budget_yuan"] is not None:
                ax.axvline(r["budget_yuan"] / WAN, color=BUDGET_COLOUR, linestyle="--", linewidth=1.2, label=tr(lang, "budget"))
        ax.set_xlabel(tr(lang, "demand (万元)"))
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(tr(lang, "runs"))
    fig.suptitle(tr(lang, "Annual demand: {pool}", pool=_label(title, label)), x=0.01, ha="left", y=1.12, fontsize=10)
    _legend(fig, axes)
    return svg(fig)


def dry_by_date(curve: pl.DataFrame, labels: dict[str, str], years: list[int], *, lang: Lang = "en") -> str:
    """Probability that each pool has run dry by each date (annual pools restart each 1 January)."""
    fig, ax = plt.subplots(figsize=(10.5, 3.2))
    start, end = dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)
    ax.set_xlim(start, end)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel(tr(lang, "P(ran dry by date)"))
    for y in years[1:]:
        ax.axvline(dt.date(y, 1, 1), color="#bbb", linewidth=0.6)
    if curve.height == 0:
        ax.text(0.5, 0.5, tr(lang, "No pool ran dry in any run"), transform=ax.transAxes, ha="center", va="center", color="#555")
    for i, (pool,) in enumerate(curve.select("pool").unique(maintain_order=True).iter_rows()):
        colour = PALETTE[i % len(PALETTE)]
        part = curve.filter(pl.col("pool") == pool)
        life = part["period"][0] == "life"
        segments = [(part, None)] if life else [(part.filter(pl.col("year") == y), y) for y in years]
        labelled = False
        for seg, year in segments:
            if seg.height == 0:
                continue
            first, last = (start, end) if life else (dt.date(year, 1, 1), dt.date(year, 12, 31))
            xs = [first, *seg["date"].to_list(), last]
            ys = [0.0, *seg["p_dry_by"].to_list(), seg["p_dry_by"][-1]]
            ax.step(xs, ys, where="post", color=colour, linewidth=1.5, label=None if labelled else labels.get(pool, pool))
            labelled = True
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    if curve.height:
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(tr(lang, "Probability that a pool has run dry, by date"), loc="left")
    return svg(fig)


def funders(figures: pl.DataFrame, *, lang: Lang = "en") -> str | None:
    """Mean grants by funder per year, error bars from the 5th to the 95th percentile of runs."""
    if figures.height == 0:
        return None
    names = figures["funder"].unique(maintain_order=True).to_list()
    years = sorted(figures["year"].unique().to_list())
    fig, ax = plt.subplots(figsize=(min(2.2 + 1.6 * len(years) * max(len(names), 1) / 2, 10.5), 3.0))
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(years))
    for i, name in enumerate(names):
        rows = {r["year"]: r for r in figures.filter(pl.col("funder") == name).iter_rows(named=True)}
        mean = np.array([rows[y]["mean"] / WAN if y in rows else 0 for y in years])
        lo = np.array([rows[y]["p5"] / WAN if y in rows else 0 for y in years])
        hi = np.array([rows[y]["p95"] / WAN if y in rows else 0 for y in years])
        ax.bar(x + (i - (len(names) - 1) / 2) * width, mean, width * 0.9, color=PALETTE[i % len(PALETTE)], label=tr(lang, name),
               yerr=np.vstack([np.maximum(mean - lo, 0), np.maximum(hi - mean, 0)]), capsize=3, ecolor="#333")
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_ylabel(tr(lang, "granted (万元)"))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, ncols=min(len(names), 4))
    ax.set_title(tr(lang, "Grants by funder per year (mean; bars: 5th–95th percentile of runs)"), loc="left")
    return svg(fig)


def sweep(frame: pl.DataFrame, pool: str, label: str, variants: list[str], *, lang: Lang = "en") -> str:
    """Key figures of one pool across a sweep's variants: P(dry), mean grants, mean unmet demand, per year.

    ``frame`` is :func:`sim.planning.sweep.compare` restricted to nothing (all pools); x is the
    variant, one line per budget year.
    """
    part = frame.filter(pl.col("pool") == pool)
    years = sorted(part["year"].unique().to_list())
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 2.8), squeeze=False)
    axes = list(axes[0])
    x = np.arange(len(variants))
    panels = (("p_dry", tr(lang, "P(runs dry)"), 1.0), ("granted_mean", tr(lang, "mean grants (万元)"), WAN),
              ("unmet_mean", tr(lang, "mean unmet demand (万元)"), WAN))
    for ax, (col, title, scale) in zip(axes, panels):
        for i, year in enumerate(years):
            rows = {r["variant"]: r for r in part.filter(pl.col("year") == year).iter_rows(named=True)}
            ys = np.array([rows[v][col] / scale if v in rows and rows[v][col] is not None else np.nan for v in variants])
            if col == "p_dry":
                se = np.array([rows[v]["p_dry_se"] if v in rows else np.nan for v in variants])
                ax.errorbar(x, ys, yerr=se, marker="o", markersize=3, capsize=2, color=PALETTE[i % len(PALETTE)], label=str(year))
            else:
                ax.plot(x, ys, marker="o", markersize=3, color=PALETTE[i % len(PALETTE)], label=str(year))
        ax.set_title(title, loc="left")
        ax.set_xticks(x, [str(i + 1) for i in range(len(variants))])
        ax.set_xlabel(tr(lang, "variant"))
        ax.grid(alpha=0.3)
        if col == "p_dry":
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_ylim(-0.02, 1.02)
    _legend(fig, axes[:1])
    return svg(fig)


def differences(frame: pl.DataFrame, single: bool, *, lang: Lang = "en") -> str | None:
    """Paired differences B − A per pool-year with their 95% intervals, one panel per measure.

    ``frame`` is :func:`sim.planning.compare.compare_runs`'s table; rows whose figure does
    not differ are left out.  A dot is the estimate, the bar its interval, the line 0.
    """
    moved = frame.filter((pl.col("difference") != 0) | (pl.col("difference_low") != pl.col("difference_high")))
    if moved.height == 0:
        return None
    panels = [(m, label, scale) for m, label, scale in (
        ("granted", tr(lang, "granted, mean (万元)"), WAN), ("unmet", tr(lang, "unmet demand, mean (万元)"), WAN),
        ("p_dry", tr(lang, "P(dry)"), 1.0), ("budget_needed", tr(lang, "budget needed (万元)"), WAN))
        if moved.filter(pl.col("measure") == m).height]
    labels = [f"{p.split('.', 1)[-1] if single else p} {y}" for p, y in moved.select("pool", "year").unique(maintain_order=True).iter_rows()]
    fig, axes = plt.subplots(1, len(panels), figsize=(min(2.8 * len(panels) + 1.5, 10.5), 0.32 * len(labels) + 1.2),
                             sharey=True, squeeze=False)
    y_of = {label: i for i, label in enumerate(labels)}
    for ax, (measure, label, scale) in zip(axes[0], panels):
        part = moved.filter(pl.col("measure") == measure)
        ys = [y_of[f"{p.split('.', 1)[-1] if single else p} {y}"] for p, y in part.select("pool", "year").iter_rows()]
        d = part["difference"].to_numpy() / scale
        lo, hi = part["difference_low"].to_numpy() / scale, part["difference_high"].to_numpy() / scale
        ax.errorbar(d, ys, xerr=np.vstack([np.maximum(d - lo, 0), np.maximum(hi - d, 0)]), fmt="o", markersize=3,
                    capsize=2, color=FAN_COLOUR, ecolor="#333")
        ax.axvline(0, color="#999", linewidth=0.8)
        ax.set_title(label, loc="left")
        ax.grid(axis="x", alpha=0.3)
        if measure == "p_dry":
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes[0][0].set_yticks(range(len(labels)), labels)
    axes[0][0].invert_yaxis()
    fig.suptitle(tr(lang, "B − A per pool and year (dots) with 95% intervals (bars)"), x=0.01, ha="left", y=1.06,
                 fontsize=10)
    return svg(fig)


def sensitivity(frame: pl.DataFrame, pool: str, label: str, years: list[int], name, *, title: str | None = None,
                lang: Lang = "en") -> str | None:
    """Rank correlation of each assumption with ``pool``'s demand per year (bars), with 95% intervals.

    ``frame`` is :func:`sim.report.sensitivity.sensitivity`; ``name(path)`` labels a
    parameter.  Parameters are ordered by their first-order share, largest on top; each
    panel's title says how much of the year's demand variance the assumptions explain.
    """
    part = frame.filter((pl.col("pool") == pool) & (pl.col("measure") == "demand") & pl.col("spearman").is_not_null())
    if part.height == 0:
        return None
    order = (part.group_by("parameter").agg(pl.col("variance_share").mean().alias("s"), pl.col("spearman").abs().mean().alias("r"))
             .sort(["s", "r"], descending=True, nulls_last=True)["parameter"].to_list())
    fig, axes = plt.subplots(1, len(years), figsize=(min(3.4 * len(years), 10.5), 0.3 * len(order) + 1.3), sharey=True,
                             squeeze=False)
    y = np.arange(len(order))
    for ax, year in zip(axes[0], years):
        rows = {r["parameter"]: r for r in part.filter(pl.col("year") == year).iter_rows(named=True)}
        rho = np.array([rows[p]["spearman"] if p in rows else np.nan for p in order])
        lo = np.array([rows[p]["spearman_low"] if p in rows else np.nan for p in order])
        hi = np.array([rows[p]["spearman_high"] if p in rows else np.nan for p in order])
        colours = [NEEDED_COLOUR if v >= 0 else BUDGET_COLOUR for v in np.nan_to_num(rho)]
        ax.barh(y, rho, color=colours, alpha=0.8, xerr=np.vstack([np.nan_to_num(rho - lo), np.nan_to_num(hi - rho)]),
                capsize=2, ecolor="#333")
        ax.axvline(0, color="#999", linewidth=0.8)
        ax.set_xlim(-1, 1)
        explained = next(iter(rows.values()))["explained_share"] if rows else None
        ax.set_title(f"{year}" + (tr(lang, " · explained {share}", share=f"{max(explained, 0):.0%}") if explained is not None else ""))
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(tr(lang, "rank correlation with demand"))
    axes[0][0].set_yticks(y, [name(p) for p in order])
    axes[0][0].invert_yaxis()
    fig.suptitle(tr(lang, "What drives demand: {pool}", pool=_label(title, label)), x=0.01, ha="left", y=1.04, fontsize=10)
    return svg(fig)


def tornado(frame: pl.DataFrame, pool: str, measure: str, name, *, title: str = "", lang: Lang = "en") -> str | None:
    """A tornado per year: for each assumption, the figure with it at its 10th and at its 90th percentile.

    ``frame`` is :func:`sim.planning.tornado.tornado`'s table; ``measure`` budget_needed
    (万元) or p_dry.  Bars run from the figure of the scenario as it is (the line) to the
    figure with the assumption held low (blue) and high (orange); the largest swing is on top.
    """
    part = frame.filter((pl.col("pool") == pool) & (pl.col("measure") == measure))
    if part.height == 0 or part["swing"].abs().max() == 0:
        return None
    years = sorted(part["year"].unique().to_list())
    order = (part.group_by("parameter").agg(pl.col("swing").abs().max().alias("s")).sort("s", descending=True)["parameter"]
             .to_list())
    scale = 1.0 if measure == "p_dry" else WAN
    fig, axes = plt.subplots(1, len(years), figsize=(min(3.4 * len(years), 10.5), 0.32 * len(order) + 1.4), sharey=True,
                             squeeze=False)
    y = np.arange(len(order))
    for ax, year in zip(axes[0], years):
        rows = {r["parameter"]: r for r in part.filter(pl.col("year") == year).iter_rows(named=True)}
        base = next(iter(rows.values()))["base"] / scale
        low = np.array([rows[p]["at_low"] / scale if p in rows else base for p in order])
        high = np.array([rows[p]["at_high"] / scale if p in rows else base for p in order])
        ax.barh(y, low - base, left=base, color=FAN_COLOUR, alpha=0.85, label=tr(lang, "at P10"))
        ax.barh(y, high - base, left=base, color="#e67e22", alpha=0.85, label=tr(lang, "at P90"))
        ax.axvline(base, color="#333", linewidth=0.9)
        ax.set_title(str(year))
        ax.grid(axis="x", alpha=0.3)
        if measure == "p_dry":
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes[0][0].set_yticks(y, [name(p) for p in order])
    axes[0][0].invert_yaxis()
    what = tr(lang, "budget needed (万元)") if measure == "budget_needed" else tr(lang, "P(dry)")
    fig.suptitle(tr(lang, "Tornado of the {what}: {pool}", what=what, pool=title), x=0.01, ha="left", y=1.1, fontsize=10)
    _legend(fig, axes[0][:1])
    return svg(fig)
