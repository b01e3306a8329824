"""Issue 13: cash by year and month, from a run to its tables, its report and its sizing.

Hand cases run small toy scenarios whose payments can be dated on a calendar; hypothesis
generates scenarios with random payment timings and checks the books of the cash tables
against the commitments, whatever the engine, the workers or the batch size.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import fast
from sim.engine.population import sample
from sim.engine.simpy import run as run_simpy
from sim.runs.records import collect
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy
from tests.test_engine_properties import scenarios

REDEEMED = {"kind": "redemption", "clause": "x", "quote": "x"}


def voucher(amount: str, payment: dict | None = None, **extra) -> dict:
    prog = toy.program(amount, **extra)
    if payment:
        prog["payment"] = payment
    return prog


def rows(frame: pl.DataFrame, **where) -> list[dict]:
    for k, v in where.items():
        frame = frame.filter(pl.col(k) == v)
    return frame.to_dicts()


# --------------------------------------------------------------------------- hand cases, end to end

def test_a_policy_ending_in_2025_pays_its_november_vouchers_in_2026(tmp_path):
    policy = toy.policy({"v": voucher("90万", REDEEMED)}, budget=None, end="2025-12-31")
    scen = toy.scenario([toy.segment("s", 2, {}, {"v": 1})], end="2025-12-31", programs={"v": {
        "call": {"start": "11-15", "end": "11-15"},
        "payment": {"lag_months": {"dist": "constant", "value": 2, "why": "t"}}}})
    t = toy.run(tmp_path, policy, scen)
    # two vouchers of 90万 issued on 15 November 2025, redeemed two months on: 15 January 2026
    cash = {(r["year"], r["funder"]): r for r in t["cash_years"].to_dicts()}
    assert sorted(cash) == [(2025, "city"), (2025, "district"), (2026, "city"), (2026, "district")]
    # split first: a third to the city (300,000 a voucher), the rest to the district (600,000 a voucher)
    assert [cash[(2025, "city")][k] for k in ("committed_yuan", "paid_yuan", "outstanding_yuan", "lapsed_yuan")] == \
        [600_000, 0, 600_000, 0]
    assert [cash[(2026, "district")][k] for k in ("committed_yuan", "paid_yuan", "outstanding_yuan", "lapsed_yuan")] == \
        [0, 1_200_000, 0, 0]
    months = t["cash_months"].filter(pl.col("paid_yuan") > 0)
    assert months.select("month", "funder", "paid_yuan").sort("funder").rows() == [
        (dt.date(2026, 1, 1), "city", 600_000), (dt.date(2026, 1, 1), "district", 1_200_000)]
    pays = t["payments"].sort("firm")
    assert pays.select("firm", "granted_on", "date", "paid_yuan", "lapsed_yuan").rows() == [
        (0, dt.date(2025, 11, 15), dt.date(2026, 1, 15), 900_000, 0), (1, dt.date(2025, 11, 15), dt.date(2026, 1, 15), 900_000, 0)]


def test_a_5000_wan_platform_paid_in_three_yearly_instalments(tmp_path):
    policy = toy.policy({"platform": voucher("5000万", {"kind": "instalments", "clause": "x", "quote": "x"}, once=True)},
                        budget=None, end="2025-12-31", funding={"shares": {"district": 1}})
    scen = toy.scenario([toy.segment("s", 1, {}, {"platform": 1})], end="2025-12-31", programs={"platform": {
        "call": {"start": "07-01", "end": "07-01"},
        "payment": {"instalments": {"shares": ["1/3", "1/3", "1/3"], "why": "t"}}}})
    t = toy.run(tmp_path, policy, scen)
    got = [(r["year"], r["committed_yuan"], r["paid_yuan"], r["outstanding_yuan"]) for r in t["cash_years"].sort("year").to_dicts()]
    # committed in 2025, paid a third a year: 16,666,666 + 16,666,666 + 16,666,668
    assert got == [(2025, 50_000_000, 16_666_666, 33_333_334), (2026, 0, 16_666_666, 16_666_668), (2027, 0, 16_666_668, 0)]
    assert t["payments"].sort("date")["date"].to_list() == [dt.date(2025, 7, 1), dt.date(2026, 7, 1), dt.date(2027, 7, 1)]
    assert t["payments"]["instalment"].to_list() == [0, 1, 2]


def test_a_lapsed_tenth_pays_ninety_percent_and_lapses_on_the_deadline(tmp_path):
    policy = toy.policy({"v": voucher("100万", REDEEMED)}, budget=None, end="2025-12-31",
                        funding={"shares": {"city": 1}})
    scen = toy.scenario([toy.segment("s", 1, {}, {"v": 1})], end="2025-12-31", programs={"v": {
        "call": {"start": "03-01", "end": "03-01"},
        "payment": {"lag_months": {"dist": "constant", "value": 4, "why": "t"},
                    "lapse": {"dist": "constant", "value": 0.1, "why": "t"},
                    "deadline": {"months": 12, "why": "t"}}}})
    t = toy.run(tmp_path, policy, scen)
    pays = t["payments"].sort("date").select("date", "paid_yuan", "lapsed_yuan").rows()
    assert pays == [(dt.date(2025, 7, 1), 900_000, 0), (dt.date(2026, 3, 1), 0, 100_000)]
    cash = {r["year"]: (r["paid_yuan"], r["outstanding_yuan"], r["lapsed_yuan"]) for r in t["cash_years"].to_dicts()}
    # the unredeemed tenth is outstanding until the voucher's year of validity ends on 1 March 2026
    assert cash == {2025: (900_000, 100_000, 0), 2026: (0, 0, 100_000)}


def test_an_award_paid_after_completion_two_years_on(tmp_path):
    policy = toy.policy({"award": voucher("2000万", {"kind": "milestone", "clause": "x", "quote": "x"}, once=True)},
                        budget=None, end="2025-12-31", funding={"shares": {"city": 1}})
    scen = toy.scenario([toy.segment("s", 1, {}, {"award": 1})], end="2025-12-31", programs={"award": {
        "call": {"start": "10-15", "end": "10-15"},
        "payment": {"lag_months": {"dist": "constant", "value": 24, "why": "t"}}}})
    t = toy.run(tmp_path, policy, scen)
    assert t["payments"].select("granted_on", "date", "paid_yuan").rows() == [
        (dt.date(2025, 10, 15), dt.date(2027, 10, 15), 20_000_000)]
    outstanding = {r["year"]: r["outstanding_yuan"] for r in t["cash_years"].to_dicts()}
    assert outstanding == {2025: 20_000_000, 2026: 20_000_000, 2027: 0}


def test_timing_moves_cash_never_grants_and_one_program_s_timing_moves_no_other_draw(tmp_path):
    """Common random numbers: adding a lag to program b changes b's cash only."""
    lag = {"lag_months": {"dist": "uniform", "low": 1, "high": 9, "why": "t"}}
    rental = {"dist": "lognormal", "median": "50万", "sigma": 1, "why": "t"}
    calls = {"call": {"start": "01-01", "end": "12-31"}}

    def run(b_later: bool, out: str):
        policy = toy.policy({"a": voucher(None, REDEEMED, rate="30%", base="compute_rental"),
                             "b": voucher(None, REDEEMED if b_later else None, rate="20%", base="compute_rental")},
                            budget="2000万")
        programs = {"a": {**calls, "payment": lag}, "b": {**calls, **({"payment": lag} if b_later else {})}}
        scen = toy.scenario([toy.segment("s", 30, {"compute_rental": rental}, {"a": 0.7, "b": 0.7}, arrivals_per_year=5)],
                            programs=programs, runs=3)
        return toy.run(tmp_path / out, policy, scen)

    now, later = run(False, "now"), run(True, "later")
    for table in ("program_years", "pool_years", "funder_years", "awards"):
        assert now[table].equals(later[table]), table
    a_now, a_later = (t["payments"].filter(pl.col("program") == "a") for t in (now, later))
    assert a_now.equals(a_later)
    b_now, b_later = (t["cash_years"].filter(pl.col("program") == "b") for t in (now, later))
    assert b_now["committed_yuan"].equals(b_later["committed_yuan"]) and not b_now["paid_yuan"].equals(b_later["paid_yuan"])


# --------------------------------------------------------------------------- generated scenarios

LAGS = st.sampled_from([{"dist": "uniform", "low": 0, "high": 14}, {"dist": "constant", "value": 3},
                        {"dist": "lognormal", "median": 4, "sigma": 0.8, "max": 30}])
LAPSES = st.sampled_from([None, {"dist": "constant", "value": 0.15}, {"dist": "choice", "values": {0: 0.7, 1: 0.3}},
                          {"dist": "uniform", "low": 0, "high": 0.5}])


@st.composite
def timed(draw, runs: int = 3):
    """A generated toy scenario (tests.test_engine_properties) whose programs pay at random times."""
    policy, scen = draw(scenarios(runs=runs))
    for key, prog in policy["programs"].items():
        kind = draw(st.sampled_from([None, "redemption", "milestone", "instalments"]))
        if kind is None:
            continue
        prog["payment"] = {"kind": kind, "clause": "x", "quote": "x"}
        if kind == "instalments":
            n = draw(st.integers(1, 4))
            terms = {"instalments": {"shares": [f"1/{n}"] * n, "why": "t"}}
        else:
            terms = {"lag_months": {**draw(LAGS), "why": "t"}}
            lapse = draw(LAPSES)
            if lapse:
                terms["lapse"] = {**lapse, "why": "t"}
            if draw(st.booleans()):
                terms["deadline"] = {"months": draw(st.sampled_from([2, 6, 12])), "why": "t"}
        scen["programs"][f"toy.{key}"]["payment"] = terms
    funding = draw(st.sampled_from([None, {"province": "1/7", "city": "2/7", "district": "4/7"}, {"district": 1}]))
    if funding:  # the toy's city 1/3 and district 2/3, three funders, or one funder taking every grant whole
        policy["funding"] = {"shares": funding}
    return policy, scen


def check_cash(t: dict[str, pl.DataFrame]) -> None:
    """The books of the cash tables, against the commitments and each other."""
    cash = t["cash_years"]
    keys = ["run", "program", "funder"]
    tail = cash.group_by(keys).agg(pl.col("committed_yuan").sum(), pl.col("paid_yuan").sum(), pl.col("lapsed_yuan").sum(),
                                   pl.col("outstanding_yuan").sort_by("year").last().alias("left"),
                                   pl.col("outstanding_yuan").min().alias("lowest"))
    # over the whole tail paid + lapsed = committed, to the yuan, for every run, program and funder
    assert (tail["committed_yuan"] == tail["paid_yuan"] + tail["lapsed_yuan"]).all()
    assert (tail["left"] == 0).all() and (tail["lowest"] >= 0).all()
    # commitments are the grants: per run, year and funder as in funder_years, per program as in program_years
    by_funder = cash.group_by("run", "year", "funder").agg(pl.col("committed_yuan").sum())
    funders = t["funder_years"].join(by_funder, on=["run", "year", "funder"], how="left").with_columns(pl.col("committed_yuan").fill_null(0))
    assert (funders["granted_yuan"] == funders["committed_yuan"]).all()
    by_program = cash.group_by("run", "year", "program").agg(pl.col("committed_yuan").sum())
    programs = t["program_years"].join(by_program, on=["run", "year", "program"], how="left").with_columns(pl.col("committed_yuan").fill_null(0))
    assert (programs["granted_yuan"] == programs["committed_yuan"]).all()
    # the months add up to the years, per run, pool and funder
    months = (t["cash_months"].group_by("run", "pool", "funder", pl.col("month").dt.year().cast(pl.Int32).alias("year"))
              .agg(pl.col("paid_yuan").sum()).filter(pl.col("paid_yuan") > 0).sort("run", "pool", "funder", "year"))
    years = (cash.group_by("run", "pool", "funder", "year").agg(pl.col("paid_yuan").sum())
             .filter(pl.col("paid_yuan") > 0).sort("run", "pool", "funder", "year"))
    assert months.rows() == years.rows()
    # no payment before its decision, and the payments add up to the cash of each program and year
    pays = t["payments"]
    assert (pays["date"] >= pays["granted_on"]).all() and ((pays["paid_yuan"] > 0) | (pays["lapsed_yuan"] > 0)).all()
    per_year = (pays.group_by("run", "program", pl.col("date").dt.year().cast(pl.Int32).alias("year"))
                .agg(pl.col("paid_yuan").sum(), pl.col("lapsed_yuan").sum()).sort("run", "program", "year"))
    totals = (cash.group_by("run", "program", "year").agg(pl.col("paid_yuan").sum(), pl.col("lapsed_yuan").sum())
              .filter((pl.col("paid_yuan") > 0) | (pl.col("lapsed_yuan") > 0)).sort("run", "program", "year"))
    assert per_year.rows() == totals.rows()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=timed())
def test_cash_books_balance_in_generated_scenarios(tmp_path_factory, case):
    policy, scen = case
    check_cash(toy.run(tmp_path_factory.mktemp("cash"), policy, scen))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=timed(runs=5), batch=st.integers(1, 4))
def test_same_cash_tables_for_any_workers_and_batch_size(tmp_path_factory, case, batch):
    policy, scen = case
    folder = tmp_path_factory.mktemp("cashdet")
    one = toy.run(folder, policy, scen, workers=1, batch_size=5, out="one")
    two = toy.run(folder, policy, scen, workers=2, batch_size=batch, out="two")
    for table in ("cash_years", "cash_months", "payments"):
        assert one[table].equals(two[table]), table


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=timed(runs=3))
def test_both_engines_give_the_same_cash_and_recording_events_changes_none(tmp_path_factory, case):
    """Both engines, with --events; and without: then the later-paid grants are scheduled alone, not taken from
    the schedule of every grant that the payments table needs."""
    policy, scen = case
    model = build(load_scenario(toy.write(tmp_path_factory.mktemp("cashen"), policy, scen)))
    for r in range(model.scenario.monte_carlo.runs):
        apps = sample(model, r)
        decisions = run_simpy(model, apps)
        a = collect(model, r, apps, decisions, events=True)
        b = collect(model, r, apps, fast.run(model, apps), events=True)
        c = collect(model, r, apps, decisions)
        for table in ("cash_years", "cash_months", "payments"):
            for column in a[table]:
                assert np.array_equal(a[table][column], b[table][column]), (r, table, column)
                assert table == "payments" or np.array_equal(a[table][column], c[table][column]), (r, table, column)


# --------------------------------------------------------------------------- report and sizing

def test_report_and_size_on_a_cash_basis(cli, tmp_path):
    out = tmp_path / "yc"
    assert cli("run", "scenarios/yinchuan.yaml", "--runs", "40", "--out", out, "--workers", "1", "--events").code == 0
    result = cli("report", out, "--json")
    assert result.code == 0, result.err
    cash = [r for r in json.loads(result.out)["cash"] if r["pool"] == "all" and r["funder"] == "all"]
    assert [r["year"] for r in cash] == [2024, 2025, 2026, 2027, 2028] and cash[-1]["committed_mean"] == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="cash"' in page and "承诺" in page  # the page is in Chinese by default
    summary = pl.read_parquet(out / "summary.parquet").filter(pl.col("kind") == "cash")
    assert {"committed", "paid", "outstanding", "lapsed", "budget_needed_cash"} <= set(summary["measure"].unique().to_list())
    years = summary["year"].unique().to_list()
    assert max(years) == 2028  # awards on completion 12–24 months after a 2026 decision: the tail
    import openpyxl

    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert {"年度现金支付", "月度现金支付"} <= set(book.sheetnames)
    text = cli("report", out, "--lang", "en").out
    assert "Commitments and cash" in text and "Paid when committed" in text
    sized = cli("size", "scenarios/ningxia.yaml", "--runs", "40", "--workers", "1", "--basis", "cash", "--out",
                tmp_path / "nx", "--json")
    assert sized.code == 0, sized.err
    got = json.loads(sized.out)
    assert got["basis"] == "cash" and (tmp_path / "nx" / "sizing_cash.csv").exists()
    voucher = [r for r in got["cash"] if r["pool"] == "ningxia.compute_vouchers" and r["funder"] == "all"]
    # the policy ends in 2025; vouchers issued in its last year are paid in 2026
    assert {r["year"] for r in voucher} == {2023, 2024, 2025, 2026}
    assert [r["committed_mean"] for r in voucher if r["year"] == 2026] == [0.0]
    assert all(r["paid_needed"] > 0 for r in voucher if r["year"] == 2026)


def test_a_run_written_before_cash_tables_still_reports(cli, tmp_path):
    """A folder from an earlier sim has no cash tables: the report says so and shows everything else."""
    import shutil

    from sim.runs.manifest import read_manifest, write_manifest

    out = tmp_path / "old"
    assert cli("run", "scenarios/binjiang.yaml", "--runs", "10", "--out", out, "--workers", "1", "-q").code == 0
    manifest = read_manifest(out)
    write_manifest(out, manifest.model_copy(update={"tables": ("program_years", "pool_years", "funder_years")}))
    for table in ("cash_years", "cash_months"):
        shutil.rmtree(out / table)
    result = cli("report", out, "--lang", "en")
    assert result.code == 0, result.err
    assert "No cash tables" in result.out and "Commitments and cash" not in result.out
    assert "this run has no cash tables" in (out / "report.html").read_text(encoding="utf-8")
    sized = cli("size", "scenarios/binjiang.yaml", "--runs", "10", "--workers", "1", "--out", tmp_path / "s", "-q")
    assert sized.code == 0 and not (tmp_path / "s" / "sizing_cash.csv").exists()


def test_an_uncertain_lag_is_one_value_per_run_and_moves_that_runs_cash(tmp_path):
    """A lag whose length is itself uncertain (0 or 12 months, drawn once per run): each run's
    vouchers are paid on the day or a year on, as that run's recorded value says."""
    policy = toy.policy({"v": voucher("90万", REDEEMED)}, budget=None, end="2026-12-31",
                        funding={"shares": {"district": 1}})
    lag = {"dist": "constant", "value": {"dist": "choice", "values": {0: 0.5, 12: 0.5}, "why": "t"}, "why": "t"}
    scen = toy.scenario([toy.segment("s", 2, {}, {"v": 1})], start="2026-01-01", end="2026-12-31", runs=40, programs={"v": {
        "call": {"start": "03-01", "end": "03-01"}, "payment": {"lag_months": lag}}})
    t = toy.run(tmp_path, policy, scen, events=False)
    lags = dict(t["parameters"].filter(pl.col("name") == "programs.toy.v.payment.lag_months.value").select("run", "value").rows())
    assert sorted(set(lags.values())) == [0.0, 12.0]  # both values occur among 40 runs
    paid = t["cash_years"].group_by("run", "year").agg(pl.col("paid_yuan").sum(), pl.col("committed_yuan").sum())
    for run, year, cash, committed in paid.select("run", "year", "paid_yuan", "committed_yuan").rows():
        if year == 2026:  # two vouchers of 90万 decided on 1 March 2026
            assert committed == 1_800_000
            assert cash == (1_800_000 if lags[run] == 0 else 0), (run, lags[run])
        elif year == 2027:
            assert cash == (0 if lags[run] == 0 else 1_800_000), (run, lags[run])


def test_a_lag_bounded_by_an_unbounded_uncertain_number_is_refused(tmp_path):
    import pytest

    from sim.errors import ScenarioError

    policy = toy.policy({"v": voucher("90万", REDEEMED)}, budget=None, end="2026-12-31")
    lag = {"dist": "lognormal", "median": 3, "sigma": 0.5, "max": {"dist": "lognormal", "median": 12, "sigma": 0.2, "why": "t"},
           "why": "t"}
    scen = toy.scenario([toy.segment("s", 2, {}, {"v": 1})], programs={"v": {"payment": {"lag_months": lag}}})
    with pytest.raises(ScenarioError, match="programs.toy.v.payment.lag_months: an uncertain number of this lag has no "
                                            "largest value"):
        build(load_scenario(toy.write(tmp_path, policy, scen)))
