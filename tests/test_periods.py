"""Bases inside the policy, part years as part years (issue 9, items 2 and 3).

A program paying a rate or a price on an annual flow (rental, contracts, kWh) credits the
flow only for the days of its base year on which the firm existed and the policy was in
force.  Hand-computed cases on both engines: a firm arriving on 1 July, a base on last
year's rental whose year lies before the policy, Ningxia's 2023 (108 days in force),
Binjiang's first voucher year; what a scenario may count instead (``bases``); and over
every shipped scenario, that no grant pays for spending before its policy was in force.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ruamel.yaml import YAML

from sim.engine.population import sample_runs
from sim.errors import ScenarioError
from sim.policy.attributes import VOCABULARY
from sim.runs.runner import simulate
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy

ROOT = Path(__file__).resolve().parents[1]
RENTAL = "1000万"  # every toy firm rents 1000万 of compute a year; the voucher pays 30% of it


@pytest.fixture(params=["simpy", "fast"])
def run(request):
    return functools.partial(toy.run, engine=request.param)


def voucher(**benefit) -> dict:
    """30% of compute rental, no cap: the arithmetic stays plain."""
    out = toy.program(rate="30%", base="compute_rental")
    out["benefit"].update(benefit)
    return out


def test_the_flows_are_the_attributes_per_year():
    flows = {a.name for a in VOCABULARY.values() if a.flow}
    assert flows == {"revenue", "compute_rental", "corpus_purchases", "model_purchases", "tech_contracts",
                     "equipment_sales", "equipment_purchases", "local_equipment_purchases", "supply_contracts",
                     "data_trade", "insurance_premiums", "loan_interest", "electricity_kwh"}
    # stocks and states are never prorated: an investment, a balance, a count of standards
    assert not any(VOCABULARY[a].flow for a in ("project_investment", "loan_principal", "standards", "pue"))


def test_a_firm_arriving_on_1_july_is_credited_184_of_365_days(tmp_path, run):
    policy = toy.policy({"voucher": voucher()}, budget=None, start="2025-01-01", end="2025-12-31")
    scen = toy.scenario([toy.segment("a", 0, {"compute_rental": RENTAL}, {"voucher": 1}, arrivals_per_year=400)],
                        end="2025-12-31", seed=3)
    path = toy.write(tmp_path, policy, scen)
    arrived = sample_runs(build(load_scenario(path)), 0, 1).arrival_days(0)
    july = int(np.flatnonzero(arrived == 181)[0])  # a firm arriving on 2025-07-01 (day 181 of 2025)
    t = run(tmp_path, policy, scen)
    awards = t["awards"]
    got = awards.filter(pl.col("firm") == july)["entitled_yuan"].to_list()
    # 1 July to 31 December is 184 days: 1000万 × 184 / 365 = 5,041,095 yuan (rounded down), × 30%
    assert got == [1_512_328]
    # every firm: its rental for the days from its arrival, to the yuan, never more than a whole year's 300万
    days = 365 - arrived[awards["firm"].to_numpy()]
    assert awards["entitled_yuan"].to_list() == ((10_000_000 * days // 365) * 3 // 10).tolist()
    assert awards["entitled_yuan"].max() <= 3_000_000


def test_a_base_on_last_years_rental_counts_from_the_policys_start(tmp_path, run):
    """Binjiang's （六） in small: 上一年度 rental, the policy in force from 1 July 2025."""
    policy = toy.policy({"voucher": voucher(base_period="previous_year")}, budget=None, start="2025-07-01")
    scen = toy.scenario([toy.segment("a", 1, {"compute_rental": RENTAL}, {"voucher": 1})])
    t = run(tmp_path / "in_force", policy, scen)
    # 2025 claims 2024's rental, wholly before the policy: no application at all;
    # 2026 claims 2025's rental from 1 July: 184 of 365 days
    assert [(a["date"].year, a["entitled_yuan"]) for a in t["awards"].to_dicts()] == [(2026, 1_512_328)]
    assert t["program_years"].select("year", "applications").rows() == [(2025, 0), (2026, 1)]
    whole = toy.scenario(scen["segments"], bases={"toy": {"count": "full_year", "why": "an upper bound: the whole year"}})
    t = run(tmp_path / "full", policy, whole)
    assert [(a["date"].year, a["entitled_yuan"]) for a in t["awards"].to_dicts()] == [(2025, 3_000_000), (2026, 3_000_000)]


def test_a_text_that_counts_earlier_spending_says_so(tmp_path):
    quoted = {"clause": "1.", "quote": "测试"}
    policy = toy.policy({"voucher": voucher(base_period="previous_year", base_before_start=quoted)},
                        budget=None, start="2025-07-01")
    segs = [toy.segment("a", 1, {"compute_rental": RENTAL}, {"voucher": 1})]
    t = toy.run(tmp_path / "text", policy, toy.scenario(segs))
    assert [(a["date"].year, a["entitled_yuan"]) for a in t["awards"].to_dicts()] == [(2025, 3_000_000), (2026, 3_000_000)]
    # a scenario may still read the base as in force only, with its reason
    narrow = toy.scenario(segs, bases={"toy.voucher": {"count": "in_force", "why": "the implementing rules say so"}})
    t = toy.run(tmp_path / "narrow", policy, narrow)
    assert [(a["date"].year, a["entitled_yuan"]) for a in t["awards"].to_dicts()] == [(2026, 1_512_328)]


def test_a_policys_first_and_last_part_years_count_their_days(tmp_path, run):
    """Ningxia's dates (15 September 2023 to 31 December 2025) on 0.12 yuan per kWh, and an end on 30 June."""
    kwh = toy.program(pool=None)
    kwh["benefit"] = {"kind": "per_unit", "base": "electricity_kwh", "price": "0.12"}
    policy = toy.policy({"kwh": kwh}, budget=None, start="2023-09-15", end="2025-06-30")
    scen = toy.scenario([toy.segment("a", 1, {"electricity_kwh": 1_000_000}, {"kwh": 1})], start="2023-01-01", end="2025-12-31")
    t = run(tmp_path, policy, scen)
    # 2023: 15 September to 31 December, 108 days: 1,000,000 × 108 / 365 = 295,890 whole kWh × 0.12 = 35,506.8
    # 2024: the whole year, 120,000; 2025: 1 January to 30 June, 181 days: 495,890 kWh × 0.12 = 59,506.8
    assert t["program_years"].select("year", "granted_yuan").rows() == [(2023, 35_506), (2024, 120_000), (2025, 59_506)]


def ningxia_suppliers(tmp_path: Path, **extra) -> Path:
    doc = {"name": "suppliers", "policies": [str(ROOT / "policies" / "ningxia.yaml")],
           "horizon": {"start": "2023-01-01", "end": "2025-12-31"},
           "monte_carlo": {"runs": 1, "seed": 1, "batch_size": 1},
           "segments": [{"name": "s", "why": "t", "firms_at_start": 1,
                         "attributes": {"supply_contracts": {"dist": "constant", "value": "1000万", "why": "t"}},
                         "take_up": {"ningxia.supply_matching": {"p": 1, "why": "t"}}}], **extra}
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "scenario.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        YAML().dump(doc, fh)
    return path


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_ningxias_supply_matching_pays_on_the_108_days_of_2023(tmp_path, engine):
    """（十二） pays 5% of last year's performed supply contracts; the policy is in force from 2023-09-15."""
    result = simulate(load_scenario(ningxia_suppliers(tmp_path)), out=tmp_path / "out", events=True, engine=engine)
    awards = result.frame("awards")
    # 2023 claims 2022's contracts: none; 2024 claims 1000万 × 108/365 = 2,958,904 × 5%; 2025 the whole 2024
    assert [(a["date"].year, a["entitled_yuan"]) for a in awards.to_dicts()] == [(2024, 147_945), (2025, 500_000)]


def binjiang_vouchers(values: dict | None = None) -> tuple[object, np.ndarray]:
    """Binjiang's vouchers on last year's figures: (applications of 40 runs, their rows of those programs)."""
    scenario = load_scenario(ROOT / "scenarios" / "binjiang.yaml")
    if values:
        scenario = scenario.with_overrides(values)
    model = build(scenario)
    index = [p.index for p in model.programs if p.program.benefit.base_period == "previous_year"]
    apps = sample_runs(model, 0, 40).apps
    return apps, np.isin(apps.program, index)


def test_binjiangs_vouchers_first_pay_the_year_after_the_policy_starts():
    start = {"overrides.binjiang.effective.start": "2025-01-01"}
    apps, prior = binjiang_vouchers(start)
    # in force from 2025-01-01: nothing of 2024 counts, so no voucher on last year's figures in 2025
    assert prior.sum() > 0 and not (apps.year[prior] == 2025).any()
    whole, prior_whole = binjiang_vouchers(start | {"bases": {"binjiang": {"count": "full_year", "why": "upper bound"}}})
    assert (whole.year[prior_whole] == 2025).sum() > 100


def test_binjiangs_drawn_start_credits_only_the_days_of_2024_in_force():
    """The start is drawn per run (2024-12-01 … 2025-04-01): 2025's vouchers pay only on December 2024's days."""
    scenario = load_scenario(ROOT / "scenarios" / "binjiang.yaml")
    model = build(scenario)
    from sim.engine import parameters

    values = {k: v for k, v in parameters.draw(scenario, np.arange(40)).items() if not k.startswith("factors.")}
    start = values["overrides.binjiang.effective.start"]  # days since 1970-01-01, one per run
    sample = sample_runs(model, 0, 40, values=values)
    apps, at = sample.apps, sample.at
    voucher = model.program("binjiang.compute_voucher").index
    rows = (apps.program == voucher) & (apps.year == 2025)
    first_2025 = (dt.date(2025, 1, 1) - dt.date(1970, 1, 1)).days
    assert rows.any() and (start[at[rows]] < first_2025).all()  # only runs where the policy started in 2024
    # at most 31 of 2024's 366 days: 60% of the rental's share of them, never above 2000万
    assert (apps.entitled[rows] <= 0.6 * 31 / 366 * 1e9).all()


def test_a_bases_entry_must_name_a_policy_or_program(tmp_path):
    policy = toy.policy({"voucher": voucher()})
    scen = toy.scenario([toy.segment("a", 1, {"compute_rental": RENTAL}, {"voucher": 1})],
                        bases={"toy.vocher": {"count": "full_year", "why": "t"}})
    with pytest.raises(ScenarioError, match=r"bases\.toy\.vocher: unknown policy or program"):
        load_scenario(toy.write(tmp_path, policy, scen))


# --------------------------------------------------------------------------- every shipped scenario

SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_no_grant_pays_for_spending_before_its_policy(tmp_path, path):
    """Through the awards ledger: no grant on a base year wholly before the run's policy start, and
    no application asks more than the same firm's application reading whole years (same draws)."""
    scenario = load_scenario(path)
    runs = 8
    base = simulate(scenario, runs=runs, out=tmp_path / "in_force", events=True, batch_size=4)
    upper = scenario.with_overrides({"bases": {pid: {"count": "full_year", "why": "upper bound"} for pid in scenario.policies}})
    whole = simulate(upper, runs=runs, out=tmp_path / "full_year", events=True, batch_size=4)
    model = build(scenario)
    awards = base.frame("awards").filter(pl.col("outcome").is_in(["full", "partial"]))
    starts = _starts(base, scenario, runs)
    prior = {(p.policy, p.id) for p in model.programs if p.program.benefit.base_period == "previous_year"}
    flows = {(p.policy, p.id) for p in model.programs
             if any(a and VOCABULARY[a].flow for a in (p.program.benefit.base,))}
    for a in awards.to_dicts():
        key = (a["policy"], a["program"])
        if key in prior and key in flows and model.program(".".join(key)).credit == "in_force":
            base_year_end = dt.date(a["date"].year - 1, 12, 31)
            assert base_year_end >= starts[(a["run"], a["policy"])], a
    keys = ["run", "firm", "policy", "program", "year"]
    ours = base.frame("awards").with_columns(pl.col("date").dt.year().alias("year"))
    theirs = whole.frame("awards").with_columns(pl.col("date").dt.year().alias("year"))
    joined = ours.join(theirs.select(*keys, pl.col("entitled_yuan").alias("whole")), on=keys, how="inner")
    # (an application may be made only in one reading: a one-time award first claimed a year later)
    assert joined.height > 0.9 * ours.height
    assert (joined["entitled_yuan"] <= joined["whole"]).all()


def _starts(result, scenario, runs: int) -> dict[tuple[int, str], dt.date]:
    """Each run's first day in force of each policy: drawn per run where the scenario makes it uncertain."""
    out = {(r, pid): p.effective.start for pid, p in scenario.policies.items() for r in range(runs)}
    if "parameters" in result.tables:
        for row in result.frame("parameters").to_dicts():
            name = row["name"]
            if name.startswith("overrides.") and name.endswith(".effective.start"):
                pid = name.split(".")[1]
                out[(row["run"], pid)] = dt.date(1970, 1, 1) + dt.timedelta(days=int(row["value"]))
    return out
