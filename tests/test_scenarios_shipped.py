"""The scenarios shipped in scenarios/: each validates, runs, and never pays a pool past its budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from sim.runs.runner import simulate
from sim.scenario.load import load_scenario
from sim.scenario.model import build

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
NAMES = [p.stem for p in SCENARIOS]


def _path(name: str) -> str:
    return f"scenarios/{name}.yaml"


def test_the_expected_scenarios_are_shipped() -> None:
    assert {"binjiang", "ningxia", "yinchuan", "baoding", "anhui"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_scenario_validates(name: str) -> None:
    scenario = load_scenario(_path(name))
    assert scenario.name == name
    assert scenario.spec.segments
    for policy in scenario.policies.values():
        assert policy.effective.start is not None and policy.effective.last_day is not None
        assert all(shares is not None for shares in (policy.funding.cases or {}).values())


@pytest.mark.parametrize("name", NAMES)
def test_scenario_runs_within_its_pools(name: str, tmp_path: Path) -> None:
    result = simulate(load_scenario(_path(name)), runs=5, workers=1, out=tmp_path / name)
    pools = result.frame("pool_years")
    assert pools["run"].n_unique() == 5
    sized = pools.filter(pl.col("budget_yuan").is_not_null())
    assert len(sized) > 0 or name == "anhui"  # Anhui's text sizes no pool
    over = sized.filter(pl.col("granted_yuan") > pl.col("budget_yuan"))
    assert over.is_empty(), over
    assert (sized["remaining_yuan"] >= 0).all()
    programs = result.frame("program_years")
    assert programs["granted_yuan"].sum() > 0
    assert (programs["granted_yuan"] <= programs["demand_yuan"]).all()


def test_yinchuan_has_cross_policy_stacking_groups() -> None:
    scenario = load_scenario(_path("yinchuan"))
    groups = {frozenset(g.programs) for g in scenario.spec.stacking}
    assert frozenset({"yinchuan.large_model_compute", "ningxia.large_model"}) in groups
    assert frozenset({"yinchuan.talent_compute", "ningxia.compute_voucher"}) in groups
    assert any({"yinchuan.industrial_project", "ningxia.compute_centre_investment"} <= g for g in groups)
    for group in scenario.spec.stacking:
        assert {p.split(".")[0] for p in group.programs} == {"ningxia", "yinchuan"}
        assert group.why.strip()
    model = build(scenario)
    compiled = {frozenset(model.programs[i].key for i in g.programs): g.period for g in model.groups}
    assert groups <= set(compiled)
    # a model's project and a project's investment over the policies' life; a year's compute bill within the year
    assert compiled[frozenset({"yinchuan.large_model_compute", "ningxia.large_model"})] == "life"
    assert compiled[frozenset({"yinchuan.talent_compute", "ningxia.compute_voucher"})] == "year"


def test_yinchuan_dates_and_overlap() -> None:
    scenario = load_scenario(_path("yinchuan"))
    yc, nx = scenario.policies["yinchuan"].effective, scenario.policies["ningxia"].effective
    assert yc.start == dt.date(2024, 7, 1) and yc.last_day == dt.date(2026, 12, 31)
    assert nx.last_day == dt.date(2025, 12, 31) < scenario.horizon.end


def test_blank_texts_are_filled_by_overrides() -> None:
    anhui = load_scenario(_path("anhui"))
    assert anhui.policies["anhui"].effective.start == dt.date(2023, 11, 8)
    baoding = load_scenario(_path("baoding"))
    assert baoding.policies["baoding"].funding.cases["county"] is not None
    ningxia = load_scenario(_path("ningxia"))
    assert ningxia.spec.programs["ningxia.compute_voucher"].amount is not None
