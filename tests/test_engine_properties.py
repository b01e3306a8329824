"""Invariants over generated scenarios, and agreement with probability theory.

Hypothesis builds small policies (pools with random budgets and rationing rules, programs
with fixed or rate benefits, caps and count limits) and populations; every run must keep
the books: no pool below zero, nothing granted above demand, budget or cap, funders adding
up to the grants, and the same tables whatever the worker count or batch size.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.outcomes import DECIDED
from sim.engine.population import sample
from sim.engine.simpy import run as run_engine
from sim.runs.records import funder_split
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy

RATIONING = st.sampled_from(["first_come", "competitive", "pro_rata"])


@st.composite
def scenarios(draw, firm_caps_allowed: bool = True, runs: int = 3):
    n_programs = draw(st.integers(1, 3))
    programs = {}
    for i in range(n_programs):
        if draw(st.booleans()):
            prog = toy.program(f"{draw(st.integers(1, 500))}万")
        else:
            prog = toy.program(rate=f"{draw(st.integers(1, 100))}%", base="compute_rental",
                               cap=f"{draw(st.integers(1, 300))}万" if draw(st.booleans()) else None)
        if draw(st.booleans()):
            prog["count_limit"] = {"per_year": draw(st.integers(1, 5))}
        if draw(st.booleans()):
            prog["once"] = True
        programs[f"p{i}"] = prog
    firm_caps = []
    if firm_caps_allowed and n_programs > 1 and draw(st.booleans()):
        firm_caps = [{"clause": "x", "quote": "x", "programs": list(programs)[:2], "amount": f"{draw(st.integers(1, 400))}万"}]
    policy = toy.policy(programs, budget=f"{draw(st.integers(1, 3000))}万", rationing=draw(RATIONING),
                        period=draw(st.sampled_from(["year", "life"])), firm_caps=firm_caps)
    segs = []
    for s in range(draw(st.integers(1, 2))):
        rental = {"dist": "lognormal", "median": f"{draw(st.integers(10, 1000))}万", "sigma": 1.0, "why": "t"}
        segs.append(toy.segment(f"s{s}", draw(st.integers(0, 12)), {"compute_rental": rental, "revenue": "1亿"},
                                {k: draw(st.sampled_from([0.3, 0.7, 1.0])) for k in programs},
                                arrivals_per_year=draw(st.sampled_from([0, 3, 8]))))
    behaviour = {k: {"score": draw(st.sampled_from(["entitled", "random", "revenue"]))} for k in programs}
    top = [{"rule": "top_up", "clause": "x", "quote": "x", "programs": [k]} for k, p in programs.items() if p.get("once") and draw(st.booleans())]
    if top:
        policy["stacking"] = top
    if n_programs > 1 and draw(st.booleans()):
        policy.setdefault("stacking", []).append({"rule": "highest_only", "clause": "x", "quote": "x", "programs": list(programs)[:2]})
    if draw(st.booleans()):
        programs[next(iter(programs))]["max_years"] = 1
    return policy, toy.scenario(segs, programs=behaviour, runs=runs, seed=draw(st.integers(0, 10**6)))


def check_books(frames: dict[str, pl.DataFrame]) -> None:
    pools = frames["pool_years"]
    limited = pools.filter(pl.col("budget_yuan").is_not_null())
    assert (limited["remaining_yuan"] >= 0).all()
    assert (limited["granted_yuan"] <= limited["budget_yuan"]).all()
    progs = frames["program_years"]
    assert (progs["granted_yuan"] <= progs["demand_yuan"]).all()
    assert (progs["full"] + progs["partial"] + progs["refused"] <= progs["applications"]).all()
    by_pool = progs.group_by("run", "pool", "year").agg(pl.col("granted_yuan").sum()).sort("run", "pool", "year")
    assert by_pool["granted_yuan"].to_list() == pools.sort("run", "pool", "year")["granted_yuan"].to_list()
    funders = frames["funder_years"].group_by("run", "year").agg(pl.col("granted_yuan").sum()).sort("run", "year")
    totals = progs.group_by("run", "year").agg(pl.col("granted_yuan").sum()).sort("run", "year")
    assert funders["granted_yuan"].to_list() == totals["granted_yuan"].to_list()
    awards = frames["awards"]
    assert (awards["granted_yuan"] <= awards["entitled_yuan"]).all()
    assert (awards["granted_yuan"] >= 0).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios())
def test_books_balance_in_generated_scenarios(tmp_path_factory, case):
    policy, scen = case
    folder = tmp_path_factory.mktemp("gen")
    frames = toy.run(folder, policy, scen)
    check_books(frames)
    caps = {k: p.get("cap") for k, p in policy["programs"].items()}
    awards = frames["awards"]
    for program, cap in caps.items():
        if cap:
            limit = int(cap["amount"][:-1]) * 10_000
            per_firm_year = (awards.filter(pl.col("program") == program)
                             .group_by("run", "firm", pl.col("date").dt.year()).agg(pl.col("granted_yuan").sum()))
            assert (per_firm_year["granted_yuan"] <= limit).all()
    for fc in policy.get("firm_caps", []):
        limit = int(fc["amount"][:-1]) * 10_000
        grouped = (awards.filter(pl.col("program").is_in(fc["programs"]))
                   .group_by("run", "firm", pl.col("date").dt.year()).agg(pl.col("granted_yuan").sum()))
        assert (grouped["granted_yuan"] <= limit).all()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios(), batch=st.integers(1, 3))
def test_same_tables_for_any_workers_and_batch_size(tmp_path_factory, case, batch):
    policy, scen = case
    folder = tmp_path_factory.mktemp("det")
    one = toy.run(folder, policy, scen, workers=1, batch_size=3, out="one")
    two = toy.run(folder, policy, scen, workers=2, batch_size=batch, out="two")
    for table in one:
        assert one[table].equals(two[table]), table


def test_a_run_does_not_depend_on_other_runs(tmp_path):
    """Run 2 alone gives what run 2 gives among runs 0..4 (streams are per run)."""
    policy = toy.policy({"v": toy.program(rate="30%", base="compute_rental")})
    rental = {"dist": "lognormal", "median": "100万", "sigma": 1, "why": "t"}
    scen = toy.scenario([toy.segment("s", 20, {"compute_rental": rental}, {"v": 0.5}, arrivals_per_year=10)])
    path = toy.write(tmp_path, policy, scen)
    model = build(load_scenario(path))
    a = sample(model, 2)
    b = sample(model, 2)
    assert np.array_equal(a.entitled, b.entitled) and np.array_equal(a.day, b.day)
    assert not np.array_equal(sample(model, 3).entitled[:5], a.entitled[:5]) or len(a) < 5


def test_variants_see_the_same_firms(tmp_path):
    """Common random numbers: a different budget leaves the applications unchanged."""
    rental = {"dist": "lognormal", "median": "100万", "sigma": 1, "why": "t"}
    scen = toy.scenario([toy.segment("s", 30, {"compute_rental": rental}, {"v": 0.5}, arrivals_per_year=10)])
    small = build(load_scenario(toy.write(tmp_path / "a", toy.policy({"v": toy.program(rate="30%", base="compute_rental")}, budget="100万"), scen)))
    large = build(load_scenario(toy.write(tmp_path / "b", toy.policy({"v": toy.program(rate="30%", base="compute_rental")}, budget="1亿"), scen)))
    a, b = sample(small, 0), sample(large, 0)
    assert np.array_equal(a.entitled, b.entitled) and np.array_equal(a.firm, b.firm)
    assert run_engine(small, a).granted.sum() < run_engine(large, b).granted.sum()


def test_funder_split_adds_up_to_the_yuan(tmp_path):
    policy = toy.policy({"v": toy.program(rate="30%", base="compute_rental")}, budget=None)
    rental = {"dist": "lognormal", "median": "77.7777万", "sigma": 1, "why": "t"}
    scen = toy.scenario([toy.segment("s", 50, {"compute_rental": rental}, {"v": 1})])
    model = build(load_scenario(toy.write(tmp_path, policy, scen)))
    apps = sample(model, 0)
    d = run_engine(model, apps)
    granted = np.where(np.isin(d.outcome, DECIDED), d.granted, 0)
    split = funder_split(model, apps, granted)
    assert np.array_equal(split.sum(axis=1), granted)
    assert (split[:, model.funders.index("city")] == granted // 3).all()


# ---- probability theory: a first-come pool with Poisson demand --------------------------

def poisson_pmf(k: int, lam: float) -> float:
    return math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))


def test_first_come_pool_matches_probability_theory(tmp_path):
    """K ~ Poisson(20) firms arrive in the year, each asks 100万 of a 2500万 pool.

    The pool runs dry iff K ≥ 25: P = 1 − F(24; 20) ≈ 0.1568.  Expected grants are
    E[min(K, 25)] × 100万.  Both must match the simulation within Monte Carlo error.
    """
    policy = toy.policy({"v": toy.program("100万")}, budget="2500万")
    scen = toy.scenario([toy.segment("s", 0, {}, {"v": 1}, arrivals_per_year=20)], runs=3000, end="2025-12-31")
    path = toy.write(tmp_path, policy, scen)
    model = build(load_scenario(path))
    dry, grants = [], []
    for r in range(model.scenario.monte_carlo.runs):
        apps = sample(model, r)
        d = run_engine(model, apps)
        grants.append(int(d.granted.sum()))
        dry.append((0, 2025) in d.exhausted_on)
    lam, n = 20.0, len(dry)
    p_dry = 1 - sum(poisson_pmf(k, lam) for k in range(25))
    expected = sum(min(k, 25) * poisson_pmf(k, lam) for k in range(200)) * 1_000_000
    se_p = math.sqrt(p_dry * (1 - p_dry) / n)
    assert abs(np.mean(dry) - p_dry) < 4 * se_p, (np.mean(dry), p_dry)
    se_g = np.std(grants) / math.sqrt(n)
    assert abs(np.mean(grants) - expected) < 4 * se_g, (np.mean(grants), expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios(firm_caps_allowed=False, runs=4))
def test_fast_engine_equals_simpy_engine(tmp_path_factory, case):
    """Both engines give identical tables, run by run, to the yuan."""
    from sim.engine import fast
    from sim.runs.records import collect

    policy, scen = case
    model = build(load_scenario(toy.write(tmp_path_factory.mktemp("eq"), policy, scen)))
    assert fast.supports(model) is None
    for r in range(model.scenario.monte_carlo.runs):
        apps = sample(model, r)
        a = collect(model, r, apps, run_engine(model, apps), events=True)
        b = collect(model, r, apps, fast.run(model, apps), events=True)
        for table in a:
            for column in a[table]:
                assert np.array_equal(a[table][column], b[table][column]), (r, table, column)

