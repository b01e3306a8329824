"""Records: the tables of many runs summed at once equal the tables of each run summed alone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.outcomes import DECIDED
from sim.engine.population import sample_runs
from sim.engine.simpy import run as run_engine
from sim.runs.records import collect, collect_runs, funder_split
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy
from tests.test_engine_properties import scenarios


def tables_agree(model, first: int, last: int) -> dict:
    drawn = sample_runs(model, first, last)
    decisions = [run_engine(model, drawn.applications(r)) for r in drawn.runs]
    together = collect_runs(model, drawn, decisions, events=True)
    alone = [collect(model, r, drawn.applications(r), d, events=True) for r, d in zip(drawn.runs, decisions)]
    for table, cols in together.items():
        for column, values in cols.items():
            assert np.array_equal(values, np.concatenate([a[table][column] for a in alone])), (table, column)
    return together


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios(runs=4), first=st.integers(0, 1000))
def test_runs_summed_together_equal_runs_summed_alone(tmp_path_factory, case, first):
    """Generated policies: annual and life pools, rationing rules, caps, two funders splitting grants."""
    model = build(load_scenario(toy.write(tmp_path_factory.mktemp("rec"), *case)))
    tables_agree(model, first, first + 4)


def test_two_pools_and_runs_where_a_pool_runs_dry(tmp_path):
    programs = {"v": toy.program("300万"), "w": toy.program("100万", pool="other")}
    policy = toy.policy(programs, budget="500万", period="life", end="2027-12-31")
    policy["pools"]["other"] = {"title": "池2", "clause": "x", "quote": "x", "budget": "250万", "rationing": "first_come"}
    scen = toy.scenario([toy.segment("s", 1, {}, {"v": 0.5, "w": 0.8}, arrivals_per_year=1.5)], end="2027-12-31")
    model = build(load_scenario(toy.write(tmp_path, policy, scen)))
    pools = tables_agree(model, 0, 12)["pool_years"]
    assert (pools["exhausted_day"] >= 0).any() and (pools["exhausted_day"] < 0).any()
    life = pools["pool_index"] == model.pools[0].index
    assert (pools["budget_yuan"][life] < 5_000_000).any()  # a life pool carries what is left into the next year


@pytest.mark.parametrize("name", ["binjiang", "ningxia", "yinchuan", "baoding", "anhui"])
def test_funder_totals_equal_the_grants_split_one_by_one(name):
    """The shipped scenarios' funders (one funder, shared shares, shares by case): the totals the
    records give equal each grant split by funder_split and summed."""
    model = build(load_scenario(f"scenarios/{name}.yaml"))
    drawn = sample_runs(model, 0, 3)
    decisions = [run_engine(model, drawn.applications(r)) for r in drawn.runs]
    funders = collect_runs(model, drawn, decisions)["funder_years"]
    got = funders["granted_yuan"].reshape(3, len(model.funders), len(model.years))
    for b, (run, d) in enumerate(zip(drawn.runs, decisions)):
        apps = drawn.applications(run)
        granted = np.where(np.isin(d.outcome, DECIDED), d.granted, 0)
        split = funder_split(model, apps, granted)
        for yi, year in enumerate(model.years):
            assert np.array_equal(got[b, :, yi], split[apps.year == year].sum(axis=0)), (run, year)
    assert got.sum() > 0


def test_payable_demand_of_a_competitive_call_is_its_first_ten(tmp_path):
    """The budget basis (issue 9, item 7): 10 projects a year of at most 250万, 30 asking 250万 each.

    Demand is 7500万; the pool can pay only the ten it ranks first, 2500万, whatever its budget."""
    from tests import toy

    call = toy.program(rate="30%", base="project_investment", cap="250万", count_limit={"per_year": 10}, selection="competitive")
    policy = toy.policy({"demo": call}, budget="1000万", rationing="competitive", end="2025-12-31")
    scen = toy.scenario([toy.segment("a", 30, {"project_investment": "1亿"}, {"demo": 1})], end="2025-12-31")
    for engine in ("simpy", "fast"):
        t = toy.run(tmp_path / engine, policy, scen, engine=engine)
        row = t["program_years"].row(0, named=True)
        assert (row["demand_yuan"], row["payable_yuan"], row["granted_yuan"]) == (75_000_000, 25_000_000, 10_000_000)
    from sim.report.figures import build_report

    needed = build_report(tmp_path / "fast" / "out", risk=0.05).pool_risk.row(0, named=True)
    assert needed["demand_basis"] == "payable" and needed["budget_needed_yuan"] == 25_000_001
