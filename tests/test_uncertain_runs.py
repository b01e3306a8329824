"""Issue 11: uncertain numbers in runs — one value per run, from its own stream, with exact checks.

- each uncertain number is one value per run whose values across runs follow the stated
  distribution (a Kolmogorov–Smirnov test at a fixed seed), factor loadings included;
- the tables (the ``parameters`` table too) are identical for 1 or 2 workers and any batch
  size; adding an uncertain number leaves every other draw unchanged;
- the exact check: claims arrive Poisson(λ) with λ ~ Gamma per run, each claim a fixed
  amount, a first-come pool: the year's count is negative binomial, so P(dry) and
  E[granted] have exact values; the runs match them within 4 standard errors and differ
  clearly from the fixed-λ (Poisson) answer;
- achieved rank correlations (attributes in a segment, parameters on a factor) are
  within sampling error of their targets;
- a policy's effective date and a program's rate can vary by run.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.engine import parameters, population
from sim.engine.population import sample, sample_runs
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy

BINJIANG = "scenarios/binjiang.yaml"
TAKE_UP = "segments.ai_smes.take_up.binjiang.compute_voucher.p"
GROWTH = "segments.ai_smes.attributes.compute_rental.growth"
FACTOR = {"factors": {"ai_market": {"why": "An AI boom or bust moves take-up and growth together."}}}


@pytest.fixture(scope="module")
def uncertain():
    """Binjiang with uncertain take-up, growth (both on a factor), start date and firms at the start."""
    return load_scenario(BINJIANG).with_overrides({
        **FACTOR,
        TAKE_UP: {"dist": "beta", "mean": 0.7, "sd": 0.1, "factor": "ai_market", "loading": 0.6},
        GROWTH: {"dist": "triangular", "low": 0.1, "mode": 0.25, "high": 0.4, "factor": "ai_market", "loading": 0.5},
        "overrides.binjiang.effective.start": {"dist": "uniform", "low": "2024-12-01", "high": "2025-04-30"},
        "segments.large_platforms.firms_at_start": {"dist": "choice", "values": {3: 1, 4: 2, 6: 1}},
    })


def test_each_number_is_one_value_per_run_following_its_distribution(uncertain):
    values = parameters.draw(uncertain, np.arange(4000))
    for path in (TAKE_UP, GROWTH):
        p = uncertain.parameter(path)
        # on a factor the marginal is unchanged: still the stated distribution
        assert stats.kstest(values[path], p.frozen().cdf).pvalue > 0.001, path
    assert stats.kstest(values["factors.ai_market"], stats.norm.cdf).pvalue > 0.001
    counts = np.bincount(values["segments.large_platforms.firms_at_start"].astype(int), minlength=7)[[3, 4, 6]]
    assert stats.chisquare(counts, [1000, 2000, 1000]).pvalue > 0.001
    days = values["overrides.binjiang.effective.start"]
    assert np.all(days == np.rint(days)) and stats.kstest(days, uncertain.parameter(
        "overrides.binjiang.effective.start").frozen().cdf).pvalue > 0.001
    # one value per run, whatever the runs drawn with it
    again = parameters.draw(uncertain, np.arange(3990, 4010))
    assert np.array_equal(again[TAKE_UP][:10], values[TAKE_UP][3990:])


def test_loadings_give_their_rank_correlation(uncertain):
    values = parameters.draw(uncertain, np.arange(20_000))
    rho = stats.spearmanr(values[TAKE_UP], values[GROWTH]).statistic
    target = 6 / math.pi * math.asin(0.6 * 0.5 / 2)
    assert abs(rho - target) < 4 * 1.0 / math.sqrt(20_000)
    assert stats.spearmanr(values[TAKE_UP], values["factors.ai_market"]).statistic > 0.5


def test_tables_are_identical_for_any_workers_and_batch_size(uncertain, tmp_path):
    from sim.runs.runner import simulate

    frames = []
    for workers, batch in ((1, 7), (2, 3), (1, 25)):
        result = simulate(uncertain, runs=25, workers=workers, batch_size=batch, out=tmp_path / f"{workers}-{batch}")
        assert "parameters" in result.tables
        frames.append({t: result.frame(t) for t in result.tables})
    for t in frames[0]:
        assert frames[1][t].equals(frames[0][t]) and frames[2][t].equals(frames[0][t]), t
    params = frames[0]["parameters"]
    names = parameters.names(uncertain)  # Binjiang's own uncertain numbers, the four set here, and the factor
    assert params.height == 25 * len(names) and sorted(params["name"].unique()) == sorted(names)


def test_adding_an_uncertain_number_leaves_every_other_draw_unchanged(uncertain):
    more = uncertain.with_overrides({"segments.scene_projects.take_up.binjiang.benchmark_demo_project.p":
                                     {"dist": "uniform", "low": 0.4, "high": 0.8}})
    runs = np.arange(50)
    a, b = parameters.draw(uncertain, runs), parameters.draw(more, runs)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    ma, mb = build(uncertain), build(more)
    va = {k: v for k, v in a.items() if not k.startswith("factors.")}
    vb = {k: v for k, v in b.items() if not k.startswith("factors.")}
    sa, sb = sample_runs(ma, 0, 50, values=va), sample_runs(mb, 0, 50, values=vb)
    other = [p.index for p in ma.programs if p.key != "binjiang.benchmark_demo_project"]
    for run in range(50):
        x, y = sa.applications(run), sb.applications(run)
        keep_x, keep_y = np.isin(x.program, other), np.isin(y.program, other)
        for f in ("firm", "program", "year", "day", "entitled"):
            assert np.array_equal(getattr(x, f)[keep_x], getattr(y, f)[keep_y]), (run, f)


def test_a_run_with_drawn_values_is_the_scenario_with_those_values(uncertain):
    values = parameters.draw(uncertain, np.arange(4))
    sampled = {k: v for k, v in values.items() if not k.startswith("factors.")}
    drawn = sample_runs(build(uncertain), 0, 4, values=sampled)
    for run in range(4):
        fixed = uncertain.with_overrides({p.path: p.typed(values[p.path][run]) for p in uncertain.parameters})
        alone = sample(build(fixed), run)
        mine = drawn.applications(run)
        for f in ("firm", "program", "year", "day", "entitled", "status"):
            assert np.array_equal(getattr(mine, f), getattr(alone, f)), (run, f)


# --------------------------------------------------------------------------- the exact check

K, THETA = 4.0, 2.5  # λ ~ Gamma(4, 2.5): mean 10 claims a year, the count negative binomial
AMOUNT, BUDGET = 100_000, 1_550_000  # 10万 a claim; the pool runs dry at the 16th claim


def claims(tmp_path, arrivals) -> dict[str, pl.DataFrame]:
    policy = toy.policy({"v": toy.program("10万")}, budget="155万", end="2025-12-31")
    segment = toy.segment("claimants", 0, {}, {"v": 1.0}, arrivals_per_year=arrivals)
    scen = toy.scenario([segment], runs=4000, seed=11, end="2025-12-31")
    scen["monte_carlo"]["batch_size"] = 1000
    return toy.run(tmp_path, policy, scen, events=False, workers=1)


def test_poisson_claims_with_a_gamma_rate_match_the_negative_binomial_exactly(tmp_path):
    n = np.arange(0, 1000)
    law = stats.nbinom(K, 1 / (1 + THETA))
    p_dry, granted = law.sf(15), float((law.pmf(n) * np.minimum(n * AMOUNT, BUDGET)).sum())
    fixed = stats.poisson(K * THETA)
    p_fixed, granted_fixed = fixed.sf(15), float((fixed.pmf(n) * np.minimum(n * AMOUNT, BUDGET)).sum())
    tables = claims(tmp_path, {"dist": "gamma", "shape": K, "scale": THETA})
    pools = tables["pool_years"]
    runs = pools.height
    dry = pools["exhausted_on"].is_not_null().mean()
    se_dry = math.sqrt(p_dry * (1 - p_dry) / runs)
    assert abs(dry - p_dry) < 4 * se_dry, (dry, p_dry)
    assert abs(dry - p_fixed) > 10 * se_dry  # clearly not the fixed-λ answer
    paid = pools["granted_yuan"].to_numpy()
    se_paid = paid.std(ddof=1) / math.sqrt(runs)
    assert abs(paid.mean() - granted) < 4 * se_paid, (paid.mean(), granted)
    assert abs(paid.mean() - granted_fixed) > 6 * se_paid
    # and each run's λ is in the parameters table, following its gamma law
    lam = tables["parameters"]["value"].to_numpy()
    assert stats.kstest(lam, stats.gamma(K, scale=THETA).cdf).pvalue > 0.001


# --------------------------------------------------------------------------- correlated attributes

def test_attributes_keep_their_marginals_and_reach_their_rank_correlation(tmp_path):
    rental = {"dist": "lognormal", "median": "100万", "sigma": 1.0, "why": "t"}
    corpus = {"dist": "uniform", "low": "1万", "high": "50万", "why": "t"}
    segment = toy.segment("a", 20_000, {"compute_rental": rental, "corpus_purchases": corpus, "model_purchases": rental},
                          {"v": 1.0}, correlation={"compute_rental ~ corpus_purchases": 0.6,
                                                   "corpus_purchases ~ model_purchases": -0.3})
    policy = toy.policy({"v": toy.program(rate="30%", base="compute_rental")})
    model = build(load_scenario(toy.write(tmp_path, policy, toy.scenario([segment]))))
    draws = population._Draws(model, 0, 1, {})
    firms = population._Firms(draws, 0, model.scenario.spec.segments[0], np.zeros(1, dtype=np.int64))
    r, c, m = (firms.attribute(a).astype(float) for a in ("compute_rental", "corpus_purchases", "model_purchases"))
    se = 1.06 / math.sqrt(20_000)  # the rank correlation's standard error, about (1 − ρ²) … 1.06/√n
    assert abs(stats.spearmanr(r, c).statistic - 0.6) < 4 * se
    assert abs(stats.spearmanr(c, m).statistic + 0.3) < 4 * se
    assert abs(stats.spearmanr(r, m).statistic) < 4 * se  # not given: uncorrelated (up to the implied 0)
    assert stats.kstest(r, stats.lognorm(1.0, scale=1_000_000).cdf).pvalue > 0.001  # marginals unchanged
    assert stats.kstest(c, stats.uniform(10_000, 490_000).cdf).pvalue > 0.001


# --------------------------------------------------------------------------- policy numbers by run

def test_an_uncertain_start_date_moves_each_runs_window(tmp_path):
    policy = toy.policy({"v": toy.program("10万")}, budget=None, start="2025-01-01", end="2026-12-31")
    segment = toy.segment("a", 40, {}, {"v": 1.0})
    scen = toy.scenario([segment], runs=30, overrides={"toy.effective.start": {
        "value": {"dist": "choice", "values": ["2025-01-01", "2025-07-01", "2026-03-01"]}, "why": "t"}})
    scenario = load_scenario(toy.write(tmp_path, policy, scen))
    values = parameters.draw(scenario, np.arange(30))
    drawn = sample_runs(build(scenario), 0, 30, values=values)
    for run in range(30):
        fixed = scenario.with_overrides({"overrides.toy.effective.start": scenario.parameter(
            "overrides.toy.effective.start").typed(values["overrides.toy.effective.start"][run])})
        alone = sample(build(fixed), run)
        mine = drawn.applications(run)
        for f in ("firm", "program", "year", "day", "status"):
            assert np.array_equal(getattr(mine, f), getattr(alone, f)), (run, f)
    years = {int(v) for v in values["overrides.toy.effective.start"]}
    assert len(years) == 3  # every start was drawn in some run


def test_an_uncertain_rate_gives_each_run_its_rate(tmp_path):
    policy = toy.policy({"v": toy.program(rate="30%", base="compute_rental")}, budget=None)
    segment = toy.segment("a", 30, {"compute_rental": "100万"}, {"v": 1.0})
    scen = toy.scenario([segment], runs=6, overrides={"toy.programs.v.benefit.rate": {
        "value": {"dist": "uniform", "low": "20%", "high": "40%"}, "why": "t"}})
    scenario = load_scenario(toy.write(tmp_path, policy, scen))
    values = parameters.draw(scenario, np.arange(6))
    drawn = sample_runs(build(scenario), 0, 6, values=values)
    for run in range(6):
        rate = values["overrides.toy.programs.v.benefit.rate"][run]
        assert set(drawn.applications(run).entitled.tolist()) == {round(rate * 10_000) * 100}  # 100万 × the rate
