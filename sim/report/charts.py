"""Charts of a budget report, drawn with matplotlib (Agg) into PNG bytes.

Four pictures answer a finance department's questions at a glance:

- a fan of cumulative grants through each pool's year (10th/50th/90th percentile of
  runs) against the budget line: when does the money go, and does it reach the line;
- the distribution of each pool's annual demand with the budget and the budget needed
  at the target risk marked: how far the budget is from what firms ask;
- the probability that each pool has run dry by each date;
- grants by funder per year, with the 5–95% range across runs.

Text is English and program/pool ids: matplotlib here has no CJK font, and the Chinese
titles sit beside the ids in the HTML tables.  Every function returns PNG bytes (or None
when there is nothing to draw), so the HTML page can embed them as data URIs and open
offline.
"""

from __future__ import annotations

import datetime as dt
import io

import matplotlib

matplotlib.use("Agg")  # no display: files only; set before pyplot is imported
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

WAN = 10_000
BUDGET_COLOUR = "#c0392b"
NEEDED_COLOUR = "#1f4e79"
FAN_COLOUR = "#2e86c1"
PALETTE = ("#2e86c1", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d")
DPI = 100

plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False,
                     "figure.dpi": DPI, "savefig.dpi": DPI})


def png(fig) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps figures alive otherwise)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _year_axes(n: int, *, height: float = 2.6):
    fig, axes = plt.subplots(1, n, figsize=(min(3.4 * n, 10.5), height), sharey=True, squeeze=False)
    return fig, list(axes[0])


def fan(frame: pl.DataFrame, pool: str, label: str, budgets: dict[int, int | None], years: list[int]) -> bytes | None:
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
        ax.set_title(f"{year}")
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
        ax.set_xlim(dt.date(year, 1, 1), dt.date(year, 12, 31))
        if rows.height:
            dates = rows["date"].to_list()
            ax.fill_between(dates, rows["p10"].to_numpy() / WAN, rows["p90"].to_numpy() / WAN, color=FAN_COLOUR,
                            alpha=0.25, linewidth=0, label="10–90% of runs")
            ax.plot(dates, rows["p50"].to_numpy() / WAN, color=FAN_COLOUR, linewidth=1.6, label="median")
        budget = budgets.get(year)
        if budget is not None:
            ax.axhline(budget / WAN, color=BUDGET_COLOUR, linestyle="--", linewidth=1.2, label="budget")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("granted since 1 Jan (10k yuan)")
    axes[0].set_ylim(bottom=0)
    _legend(fig, axes)
    return png(fig)


def _legend(fig, axes) -> None:
    """One legend above the panels (inside a panel it hides the data)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(text, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="lower right", bbox_to_anchor=(1.0, 0.98), ncols=len(seen),
                   fontsize=8, frameon=False)


def demand(frame: pl.DataFrame, pool: str, label: str, risk_rows: pl.DataFrame, years: list[int], risk: float) -> bytes | None:
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
        ax.set_title(f"{year}" + (" (cumulative)" if cumulative else ""))
        if len(values):
            ax.hist(values, bins=min(40, max(10, len(values) // 10)), color="#95a5a6", edgecolor="white", linewidth=0.4)
        row = risk_rows.filter(pl.col("year") == year)
        if row.height:
            r = row.row(0, named=True)
            if r["budget_needed_lo"] is not None and r["budget_needed_hi"] is not None:
                ax.axvspan(r["budget_needed_lo"] / WAN, r["budget_needed_hi"] / WAN, color=NEEDED_COLOUR, alpha=0.12, linewidth=0)
            ax.axvline(r["budget_needed_yuan"] / WAN, color=NEEDED_COLOUR, linewidth=1.4, label=f"needed at {risk:.0%} risk (95% CI shaded)")
            if r["budget_yuan"] is not None:
                ax.axvline(r["budget_yuan"] / WAN, color=BUDGET_COLOUR, linestyle="--", linewidth=1.2, label="budget")
        ax.set_xlabel("demand (10k yuan)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("runs")
    _legend(fig, axes)
    return png(fig)


def dry_by_date(curve: pl.DataFrame, labels: dict[str, str], years: list[int]) -> bytes:
    """Probability that each pool has run dry by each date (annual pools restart each 1 January)."""
    fig, ax = plt.subplots(figsize=(10.5, 3.2))
    start, end = dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)
    ax.set_xlim(start, end)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel("P(ran dry by date)")
    for y in years[1:]:
        ax.axvline(dt.date(y, 1, 1), color="#bbb", linewidth=0.6)
    if curve.height == 0:
        ax.text(0.5, 0.5, "No pool ran dry in any run", transform=ax.transAxes, ha="center", va="center", color="#555")
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
    ax.set_title("Probability that a pool has run dry, by date", loc="left")
    return png(fig)


def funders(figures: pl.DataFrame) -> bytes | None:
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
        ax.bar(x + (i - (len(names) - 1) / 2) * width, mean, width * 0.9, color=PALETTE[i % len(PALETTE)], label=name,
               yerr=np.vstack([np.maximum(mean - lo, 0), np.maximum(hi - mean, 0)]), capsize=3, ecolor="#333")
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_ylabel("granted (10k yuan)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, ncols=min(len(names), 4))
    ax.set_title("Grants by funder per year (mean; bars: 5th–95th percentile of runs)", loc="left")
    return png(fig)


def sweep(frame: pl.DataFrame, pool: str, label: str, variants: list[str]) -> bytes:
    """Key figures of one pool across a sweep's variants: P(dry), mean grants, mean unmet demand, per year.

    ``frame`` is :func:`sim.planning.sweep.compare` restricted to nothing (all pools); x is the
    variant, one line per budget year.
    """
    part = frame.filter(pl.col("pool") == pool)
    years = sorted(part["year"].unique().to_list())
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 2.8), squeeze=False)
    axes = list(axes[0])
    x = np.arange(len(variants))
    panels = (("p_dry", "P(runs dry)", 1.0), ("granted_mean", "mean grants (10k yuan)", WAN),
              ("unmet_mean", "mean unmet demand (10k yuan)", WAN))
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
        ax.set_xlabel("variant")
        ax.grid(alpha=0.3)
        if col == "p_dry":
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_ylim(-0.02, 1.02)
    _legend(fig, axes[:1])
    return png(fig)
