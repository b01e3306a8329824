"""Cash: what the treasury pays each year and month, beside what it commits.

A pool's budget limits commitments: the grants decided in a budget year.  The money
leaves later where the text says so (vouchers redeemed months after issue, awards paid on
completion, platforms paid by year), so a budget office plans two things: what it
commits each year, and the cash it must pay each year and each month, including the tail
after the policy has ended.  From the ``cash_years`` and ``cash_months`` tables of N runs
(see :mod:`sim.runs.records`), per pool and funder and per fiscal year:

- the distribution across runs of commitments, cash paid, commitments outstanding at the
  year's end (committed, not yet paid nor lapsed) and lapsed amounts;
- the **budget needed at a risk r on each basis**: the smallest amount that covers the
  year's commitments (or its cash) in all but a share r of runs, the order statistic
  ``x_(N−m)`` with ``m = floor(r N)``, with its distribution-free 95% interval (a budget
  equal to the year's amount covers it);
- the fan of cumulative cash through each year, month by month, and the monthly profile
  a treasury plans its outflows with.

Totals appear as pool or funder ``all``: each pool over its funders, each funder over
the pools, and everything.  Commitments here are grants under the scenario's budgets; the
budget a pool needs so that it does not run dry (demand-based) is in
:func:`sim.report.figures.pool_risk`.

Examples
--------
>>> from sim.runs.storage import scan
>>> table = cash_budgets(scan("outputs/binjiang", "cash_years"), runs=1000, risk=0.05)  # doctest: +SKIP
>>> table.filter(pl.col("funder") == "all").select("pool", "year", "committed_needed", "paid_needed")  # doctest: +SKIP
"""

from __future__ import annotations

import math

import polars as pl

from sim.report.figures import FAN, by_measure, complete, pct
from sim.report.uncertainty import quantile_ranks

ALL = "all"
CASH_MEASURES = ("committed", "paid", "outstanding", "lapsed")
BASES = {"commitment": "committed", "cash": "paid"}


def cash_runs(cash_years: pl.LazyFrame, *, runs: int) -> pl.LazyFrame:
    """Per run, pool, funder and year: committed, paid, outstanding (at the year's end) and lapsed yuan.

    Besides each pool and funder, the totals: each pool over its funders (funder
    ``all``), each funder over the pools (pool ``all``), and both (``all``, ``all``).
    Every run has a row for every key, zeros included.
    """
    sums = [pl.col(f"{m}_yuan").sum().alias(m) for m in CASH_MEASURES]
    base = cash_years.group_by("run", "pool", "funder", "year").agg(sums)
    again = [pl.col(m).sum() for m in CASH_MEASURES]
    columns = ["run", "pool", "funder", "year", *CASH_MEASURES]
    parts = [base,
             base.group_by("run", "pool", "year").agg(again).with_columns(pl.lit(ALL).alias("funder")),
             base.group_by("run", "funder", "year").agg(again).with_columns(pl.lit(ALL).alias("pool")),
             base.group_by("run", "year").agg(again).with_columns(pl.lit(ALL).alias("pool"), pl.lit(ALL).alias("funder"))]
    both = pl.concat([p.select(columns) for p in parts])
    return complete(both, ["pool", "funder", "year"], list(CASH_MEASURES), runs=runs).select(columns)


def cash_figures(cash_years: pl.LazyFrame, *, runs: int) -> pl.DataFrame:
    """Per pool, funder and year, each of committed, paid, outstanding and lapsed across runs.

    Columns: pool, funder, year, measure, then :data:`sim.report.figures.STAT_COLUMNS`.
    """
    return by_measure(cash_runs(cash_years, runs=runs), ["pool", "funder", "year"], CASH_MEASURES, runs=runs)


def needed_ranks(runs: int, risk: float) -> tuple[int, int | None, int | None]:
    """Ranks (1 = smallest) of the budget needed at ``risk`` among ``runs`` values, and of its 95% interval.

    The smallest ``B`` with ``#(runs with X > B) ≤ r N`` is ``x_(N−m)``, ``m = floor(r N)``:
    the ``(1 − r)``-quantile, whose interval comes from order statistics.
    """
    ranks = quantile_ranks(runs, 1 - risk)
    return runs - math.floor(risk * runs + 1e-9), ranks.lo, ranks.hi


def cash_budgets(cash_years: pl.LazyFrame, *, runs: int, risk: float) -> pl.DataFrame:
    """Per pool, funder and year, commitments and cash side by side, with the budget needed on each basis.

    Columns: pool, funder, year, runs; for committed and paid: ``<m>_mean``, ``<m>_se``,
    ``<m>_p50``, ``<m>_needed`` (the budget needed at ``risk``: see :func:`needed_ranks`),
    ``<m>_needed_lo``, ``<m>_needed_hi`` (95% interval; null where N runs cannot bound
    it); ``outstanding_mean`` and ``outstanding_p95`` (committed and neither paid nor
    lapsed at the year's end), ``lapsed_mean``; risk.
    """
    rank, lo, hi = needed_ranks(runs, risk)
    k50, k95 = quantile_ranks(runs, 0.5).k, quantile_ranks(runs, 0.95).k

    def nth(col: str, r: int | None) -> pl.Expr:
        return pl.col(col).sort().get(r - 1) if r is not None else pl.lit(None, pl.Int64)

    aggs = [pl.len().alias("runs")]
    for m in ("committed", "paid"):
        aggs += [pl.col(m).mean().alias(f"{m}_mean"), (pl.col(m).std() / math.sqrt(runs)).alias(f"{m}_se"),
                 nth(m, k50).alias(f"{m}_p50"), nth(m, rank).alias(f"{m}_needed"),
                 nth(m, lo).cast(pl.Int64).alias(f"{m}_needed_lo"), nth(m, hi).cast(pl.Int64).alias(f"{m}_needed_hi")]
    aggs += [pl.col("outstanding").mean().alias("outstanding_mean"), nth("outstanding", k95).alias("outstanding_p95"),
             pl.col("lapsed").mean().alias("lapsed_mean")]
    return (cash_runs(cash_years, runs=runs).group_by("pool", "funder", "year").agg(aggs)
            .with_columns(pl.lit(risk).alias("risk"))
            .sort(pl.col("pool") == ALL, "pool", pl.col("funder") == ALL, "funder", "year")
            .collect(engine="streaming"))


def paid_later(budgets: pl.DataFrame) -> list[str]:
    """Pools of :func:`cash_budgets` whose cash differs from their commitments in some year (paid later, or lapsed)."""
    totals = budgets.filter((pl.col("funder") == ALL) & (pl.col("pool") != ALL))
    differs = totals.filter((pl.col("outstanding_mean") > 0) | (pl.col("lapsed_mean") > 0)
                            | (pl.col("paid_mean") != pl.col("committed_mean")))
    return sorted(set(differs["pool"].to_list()))


def several_funders(budgets: pl.DataFrame) -> list[str]:
    """Pools of :func:`cash_budgets` (``all`` included) with more than one funder: their funders' rows say more than the total."""
    parts = budgets.filter(pl.col("funder") != ALL).group_by("pool").agg(pl.col("funder").n_unique().alias("n"))
    return sorted(parts.filter(pl.col("n") > 1)["pool"].to_list())


def cash_month_runs(cash_months: pl.LazyFrame, *, runs: int) -> pl.LazyFrame:
    """Per run, pool, funder and month: paid yuan, with pool and funder totals as in :func:`cash_runs`."""
    base = cash_months.group_by("run", "pool", "funder", "month").agg(pl.col("paid_yuan").sum().alias("paid"))
    columns = ["run", "pool", "funder", "month", "paid"]
    parts = [base,
             base.group_by("run", "pool", "month").agg(pl.col("paid").sum()).with_columns(pl.lit(ALL).alias("funder")),
             base.group_by("run", "funder", "month").agg(pl.col("paid").sum()).with_columns(pl.lit(ALL).alias("pool")),
             base.group_by("run", "month").agg(pl.col("paid").sum()).with_columns(pl.lit(ALL).alias("pool"), pl.lit(ALL).alias("funder"))]
    both = pl.concat([p.select(columns) for p in parts])
    return complete(both, ["pool", "funder", "month"], ["paid"], runs=runs).select(columns)


def cash_monthly(cash_months: pl.LazyFrame, *, runs: int) -> pl.DataFrame:
    """The monthly cash profile: per pool, funder and month, the mean and the 10th/50th/90th percentiles of cash paid.

    Columns: pool, funder, month (its first day), mean, p10, p50, p90 (yuan).
    """
    ranks = {pct(q): quantile_ranks(runs, q).k for q in FAN}
    return (cash_month_runs(cash_months, runs=runs).group_by("pool", "funder", "month")
            .agg(pl.col("paid").mean().alias("mean"), *[pl.col("paid").sort().get(k - 1).alias(name) for name, k in ranks.items()])
            .sort(pl.col("pool") == ALL, "pool", pl.col("funder") == ALL, "funder", "month")
            .collect(engine="streaming"))


def cash_fan(cash_months: pl.LazyFrame, *, runs: int) -> pl.DataFrame:
    """Cumulative cash through each fiscal year per pool (all its funders), month by month, across runs.

    Columns: pool, year, month (its first day), p10, p50, p90: what the pool has paid from
    1 January to the month's end, in the 10th/50th/90th percentile run.
    """
    ranks = {pct(q): quantile_ranks(runs, q).k for q in FAN}
    monthly = (cash_month_runs(cash_months, runs=runs).filter((pl.col("funder") == ALL) & (pl.col("pool") != ALL))
               .with_columns(pl.col("month").dt.year().cast(pl.Int32).alias("year")))
    cumulative = monthly.with_columns(pl.col("paid").cum_sum().over(["run", "pool", "year"], order_by="month").alias("cum"))
    return (cumulative.group_by("pool", "year", "month")
            .agg(*[pl.col("cum").sort().get(k - 1).alias(name) for name, k in ranks.items()])
            .sort("pool", "month").collect(engine="streaming"))
