"""Invariants over generated scenarios, the two engines' equality, and agreement with probability theory.

Hypothesis builds small policies (several pools with no, a zero or a random budget, a year
or for life, every rationing rule of the table; programs with fixed or rate benefits, caps,
count limits, one-time, all-or-nothing and same-year awards, top-ups by tier or by drawn
grade; caps shared by programs of a pool; 不重复 groups of two or three programs over a
year or the horizon, within a pool or across pools) and populations.  Every run must keep the books (no pool below zero, nothing granted above
demand, budget or cap, funders adding up to the grants), give the same tables whatever the
worker count or batch size, and give the same decisions on both engines, to the yuan.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import fast, rationing
from sim.engine.outcomes import DECIDED
from sim.engine.population import sample, sample_runs
from sim.engine.simpy import run as run_engine
from sim.runs.records import collect
from sim.runs.records import funder_split
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy

RULES = sorted(rationing.RULES)  # every rule of the table: a new rule is tested the day it is added
AMOUNTS = st.one_of(st.sampled_from([50, 100, 200]), st.integers(1, 500))  # round amounts meet balances exactly


@st.composite
def scenarios(draw, runs: int = 3):
    """A policy with one to three pools and one to five programs, and firms to claim from it.

    Pools have no budget, a zero budget or up to 3000万, a year or over the policy's life,
    and any rule of the rationing table.  Programs pay a fixed amount or a rate of compute
    rental (with a cap of their own or not), have a count limit, are one-time or
    all-or-nothing, or draw on no pool at all (a pool of their own without limit).  Caps
    shared by several programs of one pool last a year or the policy's life.  Calls run
    all year, a month or one day, so that many claims fall on the same day.
    """
    end = draw(st.sampled_from(["2026-12-31", "2027-12-31"]))
    pools = {}
    for k in range(draw(st.integers(1, 3))):
        budget = draw(st.one_of(st.none(), st.just("0"), AMOUNTS.map(lambda x: f"{x * 5}万")))
        pools[f"pool{k}"] = {"title": f"池{k}", "clause": "x", "quote": "x", "budget": budget,
                             "rationing": draw(st.sampled_from(RULES)), "period": draw(st.sampled_from(["year", "life"]))}
    programs = {}
    for i in range(draw(st.integers(1, 5))):
        pool = draw(st.sampled_from(["pool0", *pools, None]))  # the first pool twice as often: programs share it
        if draw(st.booleans()):
            prog = toy.program(f"{draw(AMOUNTS)}万", pool=pool)
        else:
            prog = toy.program(rate=f"{draw(st.integers(1, 100))}%", base="compute_rental", pool=pool,
                               cap=f"{draw(st.integers(1, 300))}万" if draw(st.booleans()) else None)
        for flag in ("once", "all_or_nothing"):
            if draw(st.booleans()):
                prog[flag] = True
        if draw(st.booleans()):
            prog["count_limit"] = {"per_year": draw(st.integers(1, 5))}
        programs[f"p{i}"] = prog
    policy = toy.policy(programs, end=end)
    policy["pools"] = pools
    free = list(programs)  # a program is under one shared cap at most (the fast engine's limit)
    for _ in range(draw(st.integers(0, 2))):
        pool = draw(st.sampled_from(list(pools)))
        members = [k for k in free if programs[k].get("pool") == pool]
        if members:
            chosen = draw(st.lists(st.sampled_from(members), min_size=1, unique=True))
            policy.setdefault("firm_caps", []).append(
                {"clause": "x", "quote": "x", "programs": chosen, "amount": f"{draw(st.integers(1, 200))}万",
                 "period": draw(st.sampled_from(["year", "once"]))})
            free = [k for k in free if k not in chosen]
    top = [{"rule": "top_up", "clause": "x", "quote": "x", "programs": [k]} for k, p in programs.items() if p.get("once") and draw(st.booleans())]
    graded = {}  # top-ups paid by grades: a tier table on compute rental, or shares drawn as grades
    for rule in top:
        k = rule["programs"][0]
        how = draw(st.sampled_from(["as is", "tiers", "grades"]))
        if how == "tiers":
            programs[k]["benefit"] = {"kind": "tiers", "on": "compute_rental", "base": "compute_rental", "tiers": [
                {"min": "10万", "amount": "20万"}, {"min": "100万", "rate": "30%"}, {"min": "500万", "amount": "200万"}]}
        elif how == "grades":
            programs[k]["benefit"] = {"kind": "fixed", "amount": f"{draw(AMOUNTS)}万", "upto": True}
            graded[k] = {"dist": "choice", "values": {0.25: 2, 0.5: 2, 1.0: 1}, "why": "t"}
    if top:
        policy["stacking"] = top
    for k, p in programs.items():
        if p.get("once") and draw(st.booleans()):
            p["same_year"] = {"quote": "x"}
    if len(programs) > 1 and draw(st.booleans()):  # 不重复: two or three programs, in one pool or several
        members = draw(st.lists(st.sampled_from(list(programs)), min_size=2, max_size=3, unique=True))
        policy.setdefault("stacking", []).append({"rule": "highest_only", "clause": "x", "quote": "x", "programs": members,
                                                  "over": {"period": draw(st.sampled_from(["life", "year"])), "quote": "x"}})
    if draw(st.booleans()):
        programs[next(iter(programs))]["max_years"] = 1
    segs = []
    for s in range(draw(st.integers(1, 2))):
        rental = {"dist": "lognormal", "median": f"{draw(st.integers(10, 1000))}万", "sigma": 1.0, "why": "t"}
        segs.append(toy.segment(f"s{s}", draw(st.integers(0, 12)), {"compute_rental": rental, "revenue": "1亿"},
                                {k: draw(st.sampled_from([0.3, 0.7, 1.0])) for k in programs},
                                arrivals_per_year=draw(st.sampled_from([0, 3, 8]))))
    calls = [{}, {"call": {"start": "03-01", "end": "03-31"}}, {"call": {"start": "03-01", "end": "03-01"}}]
    behaviour = {k: {"score": draw(st.sampled_from(["entitled", "random", "revenue"])), **draw(st.sampled_from(calls))}
                 for k in programs}
    for k, share in graded.items():
        behaviour[k]["award_share"] = share
    return policy, toy.scenario(segs, programs=behaviour, runs=runs, seed=draw(st.integers(0, 10**6)), end=end)


def check_books(frames: dict[str, pl.DataFrame]) -> None:
    """The books of a run balance, and payable demand is what a pool without a limit grants."""
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
    # payable demand: never more than was asked; a pool without a limit grants exactly what is payable
    assert (progs["payable_yuan"] <= progs["demand_yuan"]).all()
    unlimited = pools.group_by("pool").agg(pl.col("budget_yuan").is_null().all().alias("free")).filter("free")["pool"]
    free = (progs.filter(pl.col("pool").is_in(unlimited.to_list()))
            .group_by("run", "pool", "year")
            .agg(pl.col("payable_yuan", "granted_yuan").sum()))
    assert free["payable_yuan"].to_list() == free["granted_yuan"].to_list()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios(), engine=st.sampled_from(["simpy", "auto"]))  # auto: fast where it can
def test_books_balance_in_generated_scenarios(tmp_path_factory, case, engine):
    policy, scen = case
    folder = tmp_path_factory.mktemp("gen")
    frames = toy.run(folder, policy, scen, engine=engine)
    check_books(frames)
    awards = frames["awards"].with_columns(pl.col("date").dt.year().alias("year"))
    for program, spec in policy["programs"].items():
        if spec.get("cap"):
            limit = int(spec["cap"]["amount"][:-1]) * 10_000
            per_firm_year = awards.filter(pl.col("program") == program).group_by("run", "firm", "year").agg(pl.col("granted_yuan").sum())
            assert (per_firm_year["granted_yuan"] <= limit).all()
    capped = set()
    for fc in policy.get("firm_caps", []):
        limit = int(fc["amount"][:-1]) * 10_000
        per = ["run", "firm"] + (["year"] if fc["period"] == "year" else [])
        grouped = awards.filter(pl.col("program").is_in(fc["programs"])).group_by(per).agg(pl.col("granted_yuan").sum())
        assert (grouped["granted_yuan"] <= limit).all()
        capped |= set(fc["programs"])
    for program, spec in policy["programs"].items():
        pool = policy["pools"].get(spec.get("pool"), {})
        if spec.get("all_or_nothing") and program not in capped and pool.get("rationing") != "pro_rata":
            claims = awards.filter(pl.col("program") == program)
            assert ((claims["granted_yuan"] == 0) | (claims["granted_yuan"] == claims["entitled_yuan"])).all()


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios(runs=4))
def test_fast_engine_equals_simpy_engine(tmp_path_factory, case):
    """Both engines decide every application alike and give identical tables, run by run, to the yuan."""
    policy, scen = case
    model = build(load_scenario(toy.write(tmp_path_factory.mktemp("eq"), policy, scen)))
    without = [p.key for p in model.pools if rationing.rule_of(p).vectorised is None]
    if without:  # a rule the fast engine leaves to the SimPy engine
        assert without[0] in fast.supports(model)
        return
    assert fast.supports(model) is None
    runs = model.scenario.monte_carlo.runs
    drawn = sample_runs(model, 0, runs)
    together, alone = fast_in_passes(model, drawn, runs), fast_in_passes(model, drawn, 1)  # a pass of all, passes of one
    for r in range(runs):
        apps = drawn.applications(r)
        reference = run_engine(model, apps)
        for vectorised in (together[r], alone[r]):
            assert_same_decisions(reference, vectorised)
        a, b = collect(model, r, apps, reference, events=True), collect(model, r, apps, together[r], events=True)
        for table in a:
            for column in a[table]:
                assert np.array_equal(a[table][column], b[table][column]), (r, table, column)


@st.composite
def crowded_pools(draw):
    """One pool that runs short, claims of round amounts, many on the same day: where the
    crossing, all-or-nothing refusals and claims that still fit the balance left meet."""
    programs = {}
    for i in range(draw(st.integers(1, 3))):
        prog = toy.program(f"{draw(st.sampled_from([50, 100, 200]))}万", all_or_nothing=draw(st.sampled_from([True, True, False])))
        if draw(st.booleans()):
            prog["count_limit"] = {"per_year": draw(st.integers(1, 4))}
        programs[f"p{i}"] = prog
    policy = toy.policy(programs, budget=f"{draw(st.integers(0, 12)) * 50}万", rationing=draw(st.sampled_from(RULES)),
                        period=draw(st.sampled_from(["year", "life"])))
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(list(programs)), min_size=1, unique=True))
        policy["firm_caps"] = [{"clause": "x", "quote": "x", "programs": chosen, "amount": f"{draw(st.sampled_from([100, 250, 400]))}万",
                                "period": draw(st.sampled_from(["year", "once"]))}]
    calls = [{"call": {"start": "03-01", "end": "03-01"}}, {"call": {"start": "03-01", "end": "03-10"}}]
    behaviour = {k: {"score": draw(st.sampled_from(["entitled", "random"])), **draw(st.sampled_from(calls))} for k in programs}
    segment = toy.segment("s", draw(st.integers(2, 12)), {}, {k: draw(st.sampled_from([0.5, 1.0])) for k in programs})
    return policy, toy.scenario([segment], programs=behaviour, runs=4, seed=draw(st.integers(0, 10**6)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=crowded_pools())
def test_fast_engine_equals_simpy_engine_in_crowded_pools(tmp_path_factory, case):
    test_fast_engine_equals_simpy_engine.hypothesis.inner_test(tmp_path_factory, case)


def fast_in_passes(model, drawn, size: int) -> list:
    """The fast engine's decisions for each run of a sample, decided pass-wise, ``size`` runs a pass."""
    out = []
    for a in range(0, len(drawn.runs), size):
        z = min(a + size, len(drawn.runs))
        lo, hi = drawn.bounds[a], drawn.bounds[z]
        out += fast.run_pass(model, drawn.apps.take(np.arange(lo, hi)), drawn.at[lo:hi] - a, z - a)
    return out


def assert_same_decisions(a, b) -> None:
    for field in ("asked", "granted", "outcome", "day", "balance", "place"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.exhausted_on == b.exhausted_on


@settings(max_examples=100, deadline=None)
@given(fields=st.integers(1, 4).flatmap(lambda k: st.lists(
    st.lists(st.integers(0, 70_000), min_size=k, max_size=k), min_size=1, max_size=300)))
def test_radix_sort_is_the_stable_lexicographic_sort(fields):
    """The fast engine's radix sort (16 bits a pass) orders rows as a stable lexsort of the same fields."""
    columns = [np.array(c, dtype=np.int64) for c in zip(*fields)]
    assert np.array_equal(fast._radix(columns), np.lexsort(columns[::-1]))
