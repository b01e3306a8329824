"""The pool-year rule: which budget years open a pool, written once and read everywhere."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import sim.report.figures
import sim.scenario.model
from sim.engine import fast, simpy
from sim.engine.population import sample
from sim.report.figures import build_report, pool_opened
from sim.runs.records import collect
from sim.scenario.load import load_scenario
from sim.scenario.model import build, pool_openings
from tests import toy


def test_an_annual_pool_opens_every_year_and_a_life_pool_once():
    budgets = {2025: 100, 2026: 200, 2027: None}
    assert pool_openings("year", budgets, [2025, 2026, 2027]) == {2025: 100, 2026: 200, 2027: None}
    assert pool_openings("life", {2025: 100, 2026: 100, 2027: 100}, [2025, 2026, 2027]) == {2025: 100}
    with pytest.raises(ValueError, match="half_year"):
        pool_openings("half_year", budgets, [2025, 2026, 2027])


def test_the_report_reads_the_same_rule_from_the_manifest():
    pools = pl.DataFrame({"pool": ["a", "a", "b", "b"], "year": [2025, 2026, 2025, 2026], "period": ["year", "year", "life", "life"],
                          "budget_yuan": [1, 2, 5, 5]}, schema_overrides={"year": pl.Int32})
    got = {(r["pool"], r["year"]): r["opened"] for r in pool_opened(pools).to_dicts()}
    assert got == {("a", 2025): 2025, ("a", 2026): 2026, ("b", 2025): 2025, ("b", 2026): 2025}


def _first_year_only(period, budgets, years):
    """A new shape of pool, for the test: whatever its period, it opens in the first year only."""
    return {years[0]: budgets[years[0]]}


def test_a_new_pool_shape_changes_one_function(tmp_path, monkeypatch):
    """Replace the rule alone: the ledger, the fast engine, the tables and the report all follow.

    An annual pool under a rule that opens it only in the first year must behave exactly
    like a life pool under the shipped rule.
    """
    def program():
        return {"voucher": toy.program("300万"), "award": toy.program("200万", all_or_nothing=True)}

    scen = toy.scenario([toy.segment("s", 3, {}, {"voucher": 0.7, "award": 0.6}, arrivals_per_year=2)], runs=30)
    life = toy.run(tmp_path / "life", toy.policy(program(), budget="1500万", period="life"), scen)
    life_report = build_report(tmp_path / "life" / "out", risk=0.2)
    monkeypatch.setattr(sim.scenario.model, "pool_openings", _first_year_only)
    monkeypatch.setattr(sim.report.figures, "pool_openings", _first_year_only)
    path = toy.write(tmp_path / "shape", toy.policy(program(), budget="1500万", period="year"), scen)
    model = build(load_scenario(path))
    for run in range(3):
        apps = sample(model, run)
        a, b = collect(model, run, apps, simpy.run(model, apps)), collect(model, run, apps, fast.run(model, apps))
        for table in a:
            for column in a[table]:
                assert np.array_equal(a[table][column], b[table][column]), (run, table, column)
    shape = toy.run(tmp_path / "shape", toy.policy(program(), budget="1500万", period="year"), scen)
    for table in ("program_years", "pool_years", "funder_years", "awards"):
        assert shape[table].equals(life[table]), table
    shape_report = build_report(tmp_path / "shape" / "out", risk=0.2)
    assert shape_report.pool_demand.drop("period").sort("pool", "year", "run").equals(
        life_report.pool_demand.drop("period").sort("pool", "year", "run"))
    assert shape_report.dry_curve.drop("period").equals(life_report.dry_curve.drop("period"))
    assert life["pool_years"]["exhausted_on"].is_not_null().any()  # the pool does run dry: the test has teeth
