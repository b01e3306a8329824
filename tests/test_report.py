"""Issue 4: `sim report` figures against an independent computation on hand-made tables.

The fixture is a tiny output folder written with the storage helpers and schemas: ten
runs, two years, one pool with a budget shared by two programs, one pool without limit,
two funders.  Every figure of :mod:`sim.report.figures` is recomputed here the plain way (sort
a Python list, count) and must agree exactly; one budget needed is checked by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil

import numpy as np
import polars as pl
import pytest

from sim.report.figures import QUANTILES, build_report, pct, summary_long
from sim.runs.storage import EARLIER, MANIFEST, SCHEMAS, publish, write_json, write_part

RUNS = 10
YEARS = (2025, 2026)
BUDGET = 1_000_000  # pool toy.p: 100万 a year
# pool toy.p demand in 2025, run by run: 10万, 20万, … 100万 (a hand-checkable column)
P_2025 = [100_000 * (r + 1) for r in range(RUNS)]


def _program_rows() -> list[dict]:
    rng = np.random.default_rng(4)
    rows = []
    for run in range(RUNS):
        for year in YEARS:
            total = P_2025[run] if year == 2025 else int(rng.integers(0, 2_000_000))
            a = total * 3 // 5
            for program, demand in (("a", a), ("b", total - a)):
                rows.append({"run": run, "year": year, "policy": "toy", "program": program, "pool": "toy.p",
                             "demand_yuan": demand, "granted_yuan": demand if total < BUDGET else demand * BUDGET // total})
            if not (run == 3 and year == 2026):  # a missing row must count as a run with nothing
                c = int(rng.integers(0, 500_000)) * (run % 3 != 0)
                rows.append({"run": run, "year": year, "policy": "toy", "program": "c", "pool": "toy.q",
                             "demand_yuan": c, "granted_yuan": c})
    for r in rows:
        r.update(applications=1, full=1, partial=0, refused=0, payable_yuan=r["demand_yuan"])  # first-come: all is payable
    return rows


def _pool_rows(programs: pl.DataFrame) -> list[dict]:
    sums = programs.group_by("run", "year", "pool").agg(pl.col("demand_yuan", "granted_yuan").sum())
    rows = []
    for r in sums.iter_rows(named=True):
        limited = r["pool"] == "toy.p"
        dry = limited and r["demand_yuan"] >= BUDGET
        rows.append({"run": r["run"], "year": r["year"], "pool": r["pool"], "budget_yuan": BUDGET if limited else None,
                     "granted_yuan": r["granted_yuan"], "remaining_yuan": BUDGET - r["granted_yuan"] if limited else None,
                     "exhausted_on": dt.date(r["year"], 3, 1) + dt.timedelta(days=7 * r["run"]) if dry else None})
    return rows


def _funder_rows(programs: pl.DataFrame) -> list[dict]:
    grants = programs.group_by("run", "year").agg(pl.col("granted_yuan").sum())
    rows = []
    for r in grants.iter_rows(named=True):
        city = r["granted_yuan"] // 3
        rows += [{"run": r["run"], "year": r["year"], "funder": "city", "granted_yuan": city},
                 {"run": r["run"], "year": r["year"], "funder": "district", "granted_yuan": r["granted_yuan"] - city}]
    return rows


def _award_rows() -> list[dict]:
    rows = []
    for run in range(RUNS):
        for i, day in enumerate((10, 40, 200)):
            rows.append({"run": run, "date": dt.date(2025, 1, 1) + dt.timedelta(days=day + run), "firm": i,
                         "policy": "toy", "program": "a", "entitled_yuan": 100_000, "granted_yuan": 100_000 * (i + 1),
                         "outcome": "full", "pool_balance_yuan": 0})
    return rows


def write_fixture(out, *, awards: bool = True, complete: bool = True, period: str = "year") -> dict[str, pl.DataFrame]:
    """Write the fixture run folder; return its tables as frames."""
    programs = pl.DataFrame(_program_rows(), schema=pl.from_arrow(SCHEMAS["program_years"].empty_table()).schema)
    frames = {"program_years": programs,
              "pool_years": pl.DataFrame(_pool_rows(programs), schema=pl.from_arrow(SCHEMAS["pool_years"].empty_table()).schema),
              "funder_years": pl.DataFrame(_funder_rows(programs), schema=pl.from_arrow(SCHEMAS["funder_years"].empty_table()).schema)}
    if awards:
        frames["awards"] = pl.DataFrame(_award_rows(), schema=pl.from_arrow(SCHEMAS["awards"].empty_table()).schema)
    for name, frame in frames.items():
        half = frame.filter(pl.col("run") < 5), frame.filter(pl.col("run") >= 5)
        for batch, part in enumerate(half):
            write_part(out, name, batch, part.to_arrow().cast(SCHEMAS[name]))
            publish(out, batch, (name,))
    manifest = {
        "schema_version": 2, "runs": RUNS, "seed": 1, "batch_size": 5, "batches": 2, "batches_complete": [0, 1] if complete else [0],
        "complete": complete, "events": awards, "tables": list(frames),
        "scenario": {"file": "toy.yaml", "name": "toy", "title": "测试情景"}, "horizon": ["2025-01-01", "2026-12-31"],
        "programs": [{"policy": "toy", "program": p, "clause": c, "title": t, "pool": pool, "selection": "entitlement"}
                     for p, c, t, pool in (("a", "（一）", "甲项目", "toy.p"), ("b", "（二）", "乙项目", "toy.p"),
                                           ("c", "第三条", "丙项目", "toy.q"))],
        "pools": [{"pool": "toy.p", "title": "共用资金池", "rationing": "first_come", "period": period,
                   "budgets": {"2025": BUDGET, "2026": BUDGET}},
                  {"pool": "toy.q", "title": "丙项目", "rationing": "first_come", "period": "year",
                   "budgets": {"2025": None, "2026": None}}],
        "funders": ["city", "district"],
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / MANIFEST, manifest)
    return frames


@pytest.fixture
def fixture_run(tmp_path):
    out = tmp_path / "run"
    return out, write_fixture(out)


def order_stat(values: list[int], q: float) -> int:
    """The q-quantile the plain way: the ceil(N q)-th smallest value."""
    return sorted(values)[math.ceil(len(values) * q - 1e-9) - 1]


def per_run(frame: pl.DataFrame, keys: list[str], col: str, key: tuple) -> list[int]:
    """The values of one key in every run, 0 for a run without a row."""
    sel = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in zip(keys, key)))
    by_run = dict(sel.group_by("run").agg(pl.col(col).sum()).iter_rows())
    return [by_run.get(r, 0) for r in range(RUNS)]


def test_program_figures_match_a_plain_computation(fixture_run):
    out, t = fixture_run
    report = build_report(out, risk=0.2)
    programs = t["program_years"]
    for (program, year) in (("a", 2025), ("b", 2026), ("c", 2026)):
        demand = per_run(programs, ["program", "year"], "demand_yuan", (program, year))
        granted = per_run(programs, ["program", "year"], "granted_yuan", (program, year))
        expected = {"demand": demand, "granted": granted, "unmet": [d - g for d, g in zip(demand, granted)]}
        for measure, values in expected.items():
            row = report.programs.filter((pl.col("program") == program) & (pl.col("year") == year)
                                         & (pl.col("measure") == measure)).row(0, named=True)
            assert row["runs"] == RUNS
            assert row["mean"] == pytest.approx(np.mean(values))
            assert row["se"] == pytest.approx(np.std(values, ddof=1) / math.sqrt(RUNS))
            for q in QUANTILES:
                assert row[pct(q)] == order_stat(values, q), (program, year, measure, q)
    a = report.programs.filter(pl.col("program") == "a").row(0, named=True)
    assert (a["clause"], a["title"], a["pool"]) == ("（一）", "甲项目", "toy.p")


def test_unmet_demand_is_demand_minus_grants_per_run(fixture_run):
    out, _ = fixture_run
    report = build_report(out)
    row = report.pools.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025) & (pl.col("measure") == "unmet")).row(0, named=True)
    unmet = [d - (d if d < BUDGET else BUDGET) for d in P_2025]  # a + b granted in proportion, summing to the budget
    assert row["mean"] == pytest.approx(np.mean(unmet))
    assert row["p95"] == order_stat(unmet, 0.95) == 0
    assert row["p99"] == max(unmet) == 0  # 100万 demand, 100万 budget: all paid, yet the pool ran dry


def test_pool_risk_dry_probability_dates_and_budget_needed(fixture_run):
    out, t = fixture_run
    report = build_report(out, risk=0.2)
    r25 = report.pool_risk.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025)).row(0, named=True)
    # only run 9 asks the whole 100万: the pool runs dry (balance 0) in 1 run of 10
    assert r25["dry_runs"] == 1 and r25["p_dry"] == pytest.approx(0.1)
    assert r25["p_dry_se"] == pytest.approx(math.sqrt(0.1 * 0.9 / RUNS))
    assert r25["p_dry_lo"] < 0.1 < r25["p_dry_hi"]
    assert r25["dry_p50"] == dt.date(2025, 3, 1) + dt.timedelta(days=63)
    # by hand: demands 10万…100万, risk 20% allows 2 of 10 runs at or above the budget:
    # 90万 and 100万, so the budget is one yuan above the 8th smallest, 80万
    assert r25["budget_needed_yuan"] == 800_001
    assert r25["budget_needed_lo"] <= 800_001
    assert r25["budget_needed_hi"] is None  # ten runs cannot bound an 80th percentile from above
    pools = t["pool_years"]
    for pool, year in (("toy.p", 2026), ("toy.q", 2025)):
        row = report.pool_risk.filter((pl.col("pool") == pool) & (pl.col("year") == year)).row(0, named=True)
        dates = sorted(pools.filter((pl.col("pool") == pool) & (pl.col("year") == year))["exhausted_on"].drop_nulls().to_list())
        assert row["p_dry"] == pytest.approx(len(dates) / RUNS)
        for q in (0.1, 0.5, 0.9):
            assert row[f"dry_{pct(q)}"] == (order_stat(dates, q) if dates else None)
        demand = per_run(t["program_years"], ["pool", "year"], "demand_yuan", (pool, year))
        brute = min(b for b in [0] + [d + 1 for d in demand] if sum(d >= b for d in demand) / RUNS <= 0.2)
        assert row["budget_needed_yuan"] == brute
    assert report.pool_risk.filter(pl.col("pool") == "toy.q")["budget_yuan"].is_null().all()


def test_life_pool_rows_are_cumulative(tmp_path):
    """A pool with one budget for its life: 2026's row is about demand and dry dates since 2025."""
    t = write_fixture(tmp_path / "run", period="life")
    report = build_report(tmp_path / "run", risk=0.2)
    row = report.pool_risk.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2026)).row(0, named=True)
    assert row["basis"] == "cumulative"
    demand = [a + b for a, b in zip(*(per_run(t["program_years"], ["pool", "year"], "demand_yuan", ("toy.p", y)) for y in YEARS))]
    assert row["budget_needed_yuan"] == min(b for b in [d + 1 for d in demand] if sum(d >= b for d in demand) / RUNS <= 0.2)
    pools = t["pool_years"].filter(pl.col("pool") == "toy.p")
    first = pools.group_by("run").agg(pl.col("exhausted_on").min())["exhausted_on"].drop_nulls().sort().to_list()
    assert row["p_dry"] == pytest.approx(len(first) / RUNS)
    assert row["dry_p50"] == order_stat(first, 0.5)
    curve = report.dry_curve.filter(pl.col("pool") == "toy.p")
    assert curve["p_dry_by"].to_list()[-1] == pytest.approx(len(first) / RUNS) and curve["p_dry_by"].is_sorted()


def test_funders_dry_curve_and_fan(fixture_run):
    out, t = fixture_run
    report = build_report(out)
    city = per_run(t["funder_years"], ["funder", "year"], "granted_yuan", ("city", 2026))
    row = report.funders.filter((pl.col("funder") == "city") & (pl.col("year") == 2026)).row(0, named=True)
    assert row["measure"] == "granted" and row["mean"] == pytest.approx(np.mean(city)) and row["p50"] == order_stat(city, 0.5)
    curve = report.dry_curve.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025))
    assert curve.rows() == [("toy.p", "year", 2025, dt.date(2025, 5, 3), 0.1)]
    fan = report.fan.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025))
    assert fan.height == 365
    # every run has granted 10万 + 20万 by day 40 + 9 and 60万 by day 200 + 9
    assert fan.filter(pl.col("date") == dt.date(2025, 12, 31)).row(0, named=True)["p10"] == 600_000
    # on 19 January runs 0–8 have their first 10万 (run r on day 10 + r), run 9 not yet
    assert fan.filter(pl.col("date") == dt.date(2025, 1, 19)).select("p10", "p50", "p90").row(0) == (0, 100_000, 100_000)
    assert fan.filter(pl.col("date") == dt.date(2025, 1, 11)).select("p10", "p50", "p90").row(0) == (0, 0, 0)


def test_summary_parquet_holds_the_same_figures(fixture_run):
    out, _ = fixture_run
    report = build_report(out, risk=0.2)
    long = summary_long(report)
    assert set(long["kind"].unique()) == {"program", "pool", "funder"}
    needed = long.filter((pl.col("key") == "toy.p") & (pl.col("year") == 2025) & (pl.col("measure") == "budget_needed")
                         & (pl.col("stat") == "value"))["value"].item()
    assert needed == 800_001
    p95 = long.filter((pl.col("key") == "toy.a") & (pl.col("year") == 2025) & (pl.col("measure") == "demand")
                      & (pl.col("stat") == "p95"))["value"].item()
    assert p95 == report.programs.filter((pl.col("program") == "a") & (pl.col("year") == 2025)
                                         & (pl.col("measure") == "demand"))["p95"].item()


def test_budget_needed_is_on_payable_demand(tmp_path):
    """A pool is sized on what it can pay: program a's payable demand is half its demand in every run."""
    out = tmp_path / "run"
    frames = write_fixture(out)
    programs = frames["program_years"].with_columns(
        pl.when(pl.col("program") == "a").then(pl.col("demand_yuan") // 2).otherwise(pl.col("demand_yuan")).alias("payable_yuan"))
    shutil.rmtree(out / "program_years")
    for batch, part in enumerate((programs.filter(pl.col("run") < 5), programs.filter(pl.col("run") >= 5))):
        write_part(out, "program_years", batch, part.to_arrow().cast(SCHEMAS["program_years"]))
        publish(out, batch, ("program_years",))
    report = build_report(out, risk=0.2)
    row = report.pool_risk.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025)).row(0, named=True)
    # run r asks (r + 1) × 10万, 3/5 of it under a, of which half is payable: 7/10 of the ask;
    # the 8th smallest is 80万 × 7/10 = 56万, so 56万 + 1 yuan
    assert row["demand_basis"] == "payable" and row["budget_needed_yuan"] == 560_001
    assert report.pools.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025) & (pl.col("measure") == "demand"))["p95"].item() == 1_000_000
    long = summary_long(report)
    needed = long.filter((pl.col("kind") == "pool") & (pl.col("measure") == "budget_needed"))
    assert set(needed["demand_basis"]) == {"payable"} and long.filter(pl.col("measure") == "demand")["demand_basis"].null_count() > 0


def test_a_run_written_before_payable_demand_is_sized_on_demand_and_says_so(tmp_path, cli):
    out = tmp_path / "run"
    frames = write_fixture(out)
    old = frames["program_years"].drop("payable_yuan")
    shutil.rmtree(out / "program_years")
    for batch, part in enumerate((old.filter(pl.col("run") < 5), old.filter(pl.col("run") >= 5))):
        write_part(out, "program_years", batch, part.to_arrow().cast(EARLIER["program_years"][0]))
        publish(out, batch, ("program_years",))
    report = build_report(out, risk=0.2)
    row = report.pool_risk.filter((pl.col("pool") == "toy.p") & (pl.col("year") == 2025)).row(0, named=True)
    assert row["demand_basis"] == "demand" and row["budget_needed_yuan"] == 800_001
    result = cli("report", out, "--risk", "0.2")
    assert result.code == 0, result.err
    assert "demand" in result.out.split("needed on", 1)[1]


def test_report_command_writes_files_and_prints_titles(cli, fixture_run):
    out, _ = fixture_run
    result = cli("report", out, "--risk", "0.2")
    assert result.code == 0, result.err
    for name in ("report.html", "report.xlsx", "summary.parquet"):
        assert (out / name).exists(), name
    assert "甲项目" in result.out and "（一）" in result.out and "budget needed" not in result.err
    assert " 81 " in result.out  # 80万 + 1 yuan needed, shown in 万元 rounded up
    assert "needed on" in result.out and "payable" in result.out  # the basis of the budget needed, labelled


def test_report_without_awards_says_how_to_get_the_fan_chart(cli, tmp_path):
    out = tmp_path / "run"
    write_fixture(out, awards=False)
    result = cli("report", out)
    assert result.code == 0, result.err
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="chart-fan"' in page and "--events" in page and "无法绘制" in page  # the page is Chinese by default
    assert "--events" in result.out
    assert cli("report", out, "--lang", "en", "-q").code == 0
    assert "Not available" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ["missing", "incomplete", "not_a_run", "bad_risk"])
def test_report_refuses_with_one_message(cli, tmp_path, case):
    out = tmp_path / "run"
    if case == "incomplete":
        write_fixture(out, complete=False)
    elif case == "not_a_run":
        out.mkdir()
    elif case == "bad_risk":
        write_fixture(out)
    result = cli("report", out, *(["--risk", "1.5"] if case == "bad_risk" else []))
    assert result.code == 2
    assert "Traceback" not in result.err and result.err.startswith("error: ")
    expected = {"missing": "no such folder", "incomplete": "incomplete", "not_a_run": "manifest.json", "bad_risk": "risk"}[case]
    assert expected in result.err
    assert not (out / "report.html").exists()


def test_programs_without_applications_are_named_as_left_out_of_every_total(cli, tmp_path):
    """A scenario that models only some of a policy's programs says which ones its totals leave out."""
    out = tmp_path / "run"
    write_fixture(out)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest["programs"].append({"policy": "toy", "program": "d", "clause": "第四条", "title": "丁项目", "pool": "toy.q",
                                 "selection": "entitlement"})
    write_json(out / MANIFEST, manifest)
    report = build_report(out)
    assert report.idle_programs()["program"].to_list() == ["d"]  # c has no demand in some runs, but in others it has
    result = cli("report", out)
    assert result.code == 0, result.err
    assert "Not in these figures: 1 of the 4 programs" in result.out and "d 第四条" in result.out
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "4 个政策项目中有 1 个在所有模拟中均无申请" in page and "d 第四条丁项目" in page
    assert cli("report", out, "--lang", "en", "-q").code == 0
    assert "Not in these figures" in (out / "report.html").read_text(encoding="utf-8")
    left_out = json.loads(cli("report", out, "--json").out)["programs_left_out"]
    assert left_out == [{"policy": "toy", "program": "d", "clause": "第四条", "title": "丁项目"}]


def test_a_run_whose_programs_all_have_applications_leaves_nothing_out(cli, fixture_run):
    out, _ = fixture_run
    assert build_report(out).idle_programs().height == 0
    assert "Not in these figures" not in cli("report", out).out
