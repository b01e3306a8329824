"""Issue 13: the cash figures of a report, on tables small enough to check by hand.

The budget needed on each basis is an order statistic; it is checked against its
definition (the smallest amount exceeded in at most a share r of runs) on exact cases and
on random samples.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.report.cash import ALL, cash_budgets, cash_fan, cash_figures, cash_monthly, needed_ranks


def years_frame(rows: list[tuple]) -> pl.LazyFrame:
    """cash_years rows: (run, year, pool, funder, committed, paid, outstanding, lapsed)."""
    cols = ["run", "year", "pool", "funder", "committed_yuan", "paid_yuan", "outstanding_yuan", "lapsed_yuan"]
    frame = pl.DataFrame(rows, schema=cols, orient="row").with_columns(
        pl.col("run", "year").cast(pl.Int32), pl.lit("p").alias("policy"), pl.lit("x").alias("program"))
    return frame.lazy()


def test_budget_needed_on_each_basis_is_the_amount_exceeded_in_at_most_the_risk():
    # 20 runs; run r commits (r + 1) × 100 and pays (r + 1) × 10 in 2025
    rows = [(r, 2025, "a.pool", "city", (r + 1) * 100, (r + 1) * 10, (r + 1) * 90, 0) for r in range(20)]
    table = cash_budgets(years_frame(rows), runs=20, risk=0.1)
    row = table.filter((pl.col("pool") == "a.pool") & (pl.col("funder") == "city")).row(0, named=True)
    # m = floor(0.1 × 20) = 2: the 18th smallest; 2 runs of 20 exceed it, 3 exceed the 17th
    assert row["committed_needed"] == 1_800 and row["paid_needed"] == 180
    assert row["committed_mean"] == 1_050 and row["outstanding_mean"] == 945 and row["runs"] == 20


def test_totals_add_funders_and_pools_and_quiet_runs_count_as_zero():
    rows = [(0, 2025, "a.pool", "city", 300, 100, 200, 0), (0, 2025, "a.pool", "district", 600, 200, 400, 0),
            (1, 2025, "b.pool", "city", 50, 50, 0, 0)]
    table = cash_budgets(years_frame(rows), runs=4, risk=0.25)  # runs 2 and 3 commit nothing
    got = {(r["pool"], r["funder"]): (r["committed_mean"], r["paid_mean"]) for r in table.iter_rows(named=True)}
    assert got[("a.pool", ALL)] == (900 / 4, 300 / 4)
    assert got[(ALL, "city")] == (350 / 4, 150 / 4)
    assert got[(ALL, ALL)] == (950 / 4, 350 / 4)
    assert set(table["runs"].to_list()) == {4}
    figures = cash_figures(years_frame(rows), runs=4)
    outstanding = figures.filter((pl.col("pool") == "a.pool") & (pl.col("funder") == ALL) & (pl.col("measure") == "outstanding"))
    assert outstanding["mean"].to_list() == [150.0] and outstanding["p50"].to_list() == [0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=5, max_size=400), st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.5]))
def test_the_budget_needed_is_the_smallest_amount_exceeded_in_at_most_the_risk(values, risk):
    runs = len(values)
    rank, lo, hi = needed_ranks(runs, risk)
    ordered = sorted(values)
    needed = ordered[rank - 1]
    assert sum(v > needed for v in values) <= risk * runs + 1e-9
    lower = [v for v in ordered if v < needed]
    if lower:  # any smaller amount is exceeded too often
        assert sum(v > lower[-1] for v in values) > risk * runs
    assert (lo is None or lo <= rank) and (hi is None or hi >= rank)
    rows = [(r, 2025, "a.pool", "city", v, v, 0, 0) for r, v in enumerate(values)]
    table = cash_budgets(years_frame(rows), runs=runs, risk=risk).filter((pl.col("funder") == "city") & (pl.col("pool") == "a.pool"))
    assert table["paid_needed"].to_list() == [needed]


def months_frame(rows: list[tuple]) -> pl.LazyFrame:
    """cash_months rows: (run, month, pool, funder, paid)."""
    frame = pl.DataFrame(rows, schema=["run", "month", "pool", "funder", "paid_yuan"], orient="row")
    return frame.with_columns(pl.col("run").cast(pl.Int32)).lazy()


def test_cumulative_cash_through_the_year_restarts_each_january():
    jan, feb, mar, jan26 = (dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1), dt.date(2026, 1, 1))
    rows = []
    for run in range(10):
        rows += [(run, jan, "a.pool", "city", 100 * run), (run, feb, "a.pool", "district", 10),
                 (run, mar, "a.pool", "city", 0), (run, jan26, "a.pool", "city", 7)]
    fan = cash_fan(months_frame(rows), runs=10)
    by = {(r["year"], r["month"]): (r["p10"], r["p50"], r["p90"]) for r in fan.iter_rows(named=True)}
    # January: 0, 100, …, 900 → p10 = 0 (1st), p50 = 400 (5th), p90 = 800 (9th); February adds 10 to each
    assert by[(2025, jan)] == (0, 400, 800) and by[(2025, feb)] == (10, 410, 810) and by[(2025, mar)] == (10, 410, 810)
    assert by[(2026, jan26)] == (7, 7, 7)
    profile = cash_monthly(months_frame(rows), runs=10)
    feb_all = profile.filter((pl.col("pool") == "a.pool") & (pl.col("funder") == ALL) & (pl.col("month") == feb))
    assert feb_all["mean"].to_list() == [10.0]
    city = profile.filter((pl.col("pool") == ALL) & (pl.col("funder") == "city") & (pl.col("month") == jan))
    assert city["mean"].to_list() == [450.0] and np.isclose(city["p90"][0], 800)
