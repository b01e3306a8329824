"""Sampling many runs at once: the same runs as one at a time, common random numbers, values per run.

A run's firms and applications must not depend on the runs drawn with it, and a variant
of a scenario must see the same draws wherever it does not differ.  Attributes and counts
must follow the distributions the scenario states (checked against scipy's exact laws).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.engine import population
from sim.engine.population import assumption_paths, draw, sample, sample_runs, samples
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from sim.scenario.schema import Dist
from tests import toy
from tests.test_engine_properties import scenarios

FIELDS = ("firm", "program", "year", "day", "entitled", "score", "case", "status")
RENTAL = {"dist": "lognormal", "median": "100万", "sigma": 1, "why": "t"}


def model_of(folder, policy: dict, scen: dict):
    return build(load_scenario(toy.write(folder, policy, scen)))


def docs() -> tuple[dict, dict]:
    """Two segments, a voucher on rental (ranked at random) and a fixed award, arrivals each year."""
    policy = toy.policy({"v": toy.program(rate="30%", base="compute_rental", cap="50万"), "w": toy.program("10万")},
                        rationing="competitive", end="2027-12-31")
    segs = [toy.segment("a", 15, {"compute_rental": {**RENTAL, "growth": 0.2}}, {"v": 0.6, "w": 0.5}, arrivals_per_year=6),
            toy.segment("b", 4, {"compute_rental": RENTAL, "revenue": "1亿"}, {"v": 0.9}, arrivals_per_year=2)]
    return policy, toy.scenario(segs, programs={"v": {"score": "random"}}, end="2027-12-31")


def two_programs(folder):
    return model_of(folder, *docs())


def rows(apps, program: int | None = None) -> dict[tuple, tuple]:
    """Applications keyed by (firm, program, year), so that two samples compare regardless of row order."""
    keep = np.ones(len(apps), dtype=bool) if program is None else apps.program == program
    cols = [getattr(apps, f)[keep].tolist() for f in FIELDS]
    return {(f, p, y): rest for f, p, y, *rest in zip(*cols)}


def test_runs_drawn_together_equal_runs_drawn_alone(tmp_path, monkeypatch):
    model = two_programs(tmp_path)
    together = sample_runs(model, 3, 11)
    for run in together.runs:
        alone = sample(model, run)
        mine = together.applications(run)
        assert len(mine) > 0 and mine.firms == alone.firms
        for f in FIELDS:
            assert np.array_equal(getattr(mine, f), getattr(alone, f)), (run, f)
    # passes of any size give the same runs
    monkeypatch.setattr(population, "ROWS_PER_PASS", 1)
    assert population.runs_per_pass(model) == 1
    for drawn in samples(model, 3, 11):
        assert len(drawn.runs) == 1
        run = drawn.first
        assert rows(drawn.applications(run)) == rows(together.applications(run))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenarios(runs=5), first=st.integers(0, 10**6))
def test_generated_scenarios_draw_the_same_runs_together_and_alone(tmp_path_factory, case, first):
    model = model_of(tmp_path_factory.mktemp("gen"), *case)
    together = sample_runs(model, first, first + 5)
    for run in together.runs:
        alone = sample(model, run)
        assert together.applications(run).firms == alone.firms
        assert rows(together.applications(run)) == rows(alone)


def test_a_variant_keeps_every_draw_it_does_not_change(tmp_path):
    """Common random numbers: budget, rate, a disabled or an added program, an added attribute."""
    base = two_programs(tmp_path / "base")
    v = base.program("toy.v").index
    reference = {r: sample(base, r) for r in range(4)}

    def same_v(model, *, entitled: bool = True):
        for r, apps in reference.items():
            mine, theirs = rows(sample(model, r), model.program("toy.v").index), rows(apps, v)
            if not entitled:  # compare firm, day and score; the amounts differ by design
                mine = {k: (d, s) for k, (d, e, s, *_) in mine.items()}
                theirs = {k: (d, s) for k, (d, e, s, *_) in theirs.items()}
            assert mine == theirs, r

    policy, scen = docs()
    # a smaller budget
    same_v(model_of(tmp_path / "budget", {**policy, "pools": {"pool": {**policy["pools"]["pool"], "budget": "1万"}}}, scen))
    # program w switched off: v's draws stay
    off = {**scen, "overrides": {"toy.programs.w.enabled": {"value": False, "why": "t"}}}
    same_v(model_of(tmp_path / "off", policy, off))
    # a new program and a new attribute in segment a
    more = {**policy, "programs": {**policy["programs"], "x": toy.program(rate="5%", base="tech_contracts")}}
    grown = _segments(scen, lambda i, s: {**s, "attributes": {**s["attributes"], "tech_contracts": RENTAL},
                                          "take_up": {**s["take_up"], "toy.x": {"p": 0.5, "why": "t"}}} if i == 0 else s)
    same_v(model_of(tmp_path / "more", more, grown))
    # a different rate: same firms, days and scores, other amounts
    rate = {**policy, "programs": {**policy["programs"], "v": toy.program(rate="60%", base="compute_rental", cap="50万")}}
    same_v(model_of(tmp_path / "rate", rate, scen), entitled=False)


def _segments(scen: dict, change) -> dict:
    return {**scen, "segments": [change(i, s) for i, s in enumerate(scen["segments"])]}


def test_more_arrivals_later_leave_earlier_firms_unchanged(tmp_path):
    """Firms are counted within their cohort: 2027's arrival rate does not move 2025's or the start's firms."""
    policy, scen = docs()
    base = model_of(tmp_path / "a", policy, scen)
    later = _segments(scen, lambda i, s: {**s, "arrivals_per_year": {2025: 6, 2026: 6, 2027: 30}} if i == 0 else s)
    busy = model_of(tmp_path / "b", policy, later)
    for r in range(4):
        a, b = sample_runs(base, r, r + 1), sample_runs(busy, r, r + 1)
        days_a, days_b = a.arrivals[0][0], b.arrivals[0][0]
        early = np.flatnonzero(days_a < base.year_start[2027])  # the start and 2025–2026 come first
        assert np.array_equal(days_a[early], days_b[early])
        assert len(days_b) >= len(days_a)
        v = base.program("toy.v").index
        keep = lambda apps: {k: x for k, x in rows(apps, v).items() if k[0] < len(early)}  # noqa: E731
        assert keep(a.applications(r)) == keep(b.applications(r))


def test_values_per_run_act_as_that_runs_scenario(tmp_path):
    """Issue 11's uncertain assumptions: one value per run gives each run what its own scenario would."""
    policy, scen = docs()
    model = model_of(tmp_path / "base", policy, scen)
    paths = assumption_paths(model)
    for path in ("segments.a.take_up.toy.v.p", "segments.a.attributes.compute_rental.median",
                 "segments.a.attributes.compute_rental.growth", "segments.b.firms_at_start", "segments.a.arrivals_per_year"):
        assert path in paths
    values = {"segments.a.take_up.toy.v.p": np.array([0.2, 1.0, 0.6]),
              "segments.a.attributes.compute_rental.median": np.array([500_000.0, 1_000_000.0, 3_000_000.0]),
              "segments.a.attributes.compute_rental.growth": np.array([0.0, 0.2, 0.5]),
              "segments.b.firms_at_start": np.array([0, 4, 9]),
              "segments.a.arrivals_per_year": np.array([1.0, 6.0, 20.0])}
    drawn = sample_runs(model, 0, 3, values=values)
    for b in range(3):
        mine = {k: v[b] for k, v in values.items()}
        own = _segments(scen, lambda i, s, m=mine: _set(s, i, m))
        alone = sample(model_of(tmp_path / f"own{b}", policy, own), b)
        assert rows(drawn.applications(b)) == rows(alone), b
    with pytest.raises(ValueError, match="no scalar assumption"):
        sample_runs(model, 0, 3, values={"segments.a.take_up.toy.nope.p": np.ones(3)})
    with pytest.raises(ValueError, match="one number per run"):
        sample_runs(model, 0, 3, values={"segments.a.take_up.toy.v.p": np.ones(2)})


def _set(segment: dict, index: int, values: dict) -> dict:
    out = {**segment, "attributes": dict(segment["attributes"]), "take_up": dict(segment["take_up"])}
    for path, value in values.items():
        parts = path.split(".")
        if parts[1] != segment["name"]:
            continue
        if parts[2] == "take_up":
            out["take_up"][".".join(parts[3:-1])] = {"p": float(value), "why": "t"}
        elif parts[2] == "attributes":
            out["attributes"][parts[3]] = {**out["attributes"][parts[3]], parts[4]: float(value)}
        else:
            out[parts[2]] = value.item()
    return out


@pytest.mark.parametrize("spec, attr, law", [
    ({"dist": "lognormal", "median": "100万", "sigma": 0.8}, "compute_rental", stats.lognorm(0.8, scale=1_000_000)),
    ({"dist": "normal", "mean": 50, "sd": 10}, "pue", stats.norm(50, 10)),
    ({"dist": "uniform", "low": 0.2, "high": 0.6}, "domestic_compute_share", stats.uniform(0.2, 0.4)),
])
def test_attributes_follow_their_distribution(spec, attr, law):
    dist = Dist(**spec, why="t").typed(attr)
    u = (np.arange(20_000) + 0.5) / 20_000  # a perfect grid of uniforms: the draw is the law's quantile function
    values = draw(dist, attr, np.random.default_rng(0).permutation(u))
    assert stats.kstest(values, law.cdf).statistic < 2e-4  # rounding to the yuan or unit only
    random = draw(dist, attr, np.random.default_rng(1).random(20_000))
    assert stats.kstest(random, law.cdf).pvalue > 1e-3


def test_choice_and_bernoulli_frequencies():
    u = np.random.default_rng(2).random(50_000)
    choice = Dist(dist="choice", values={"ai": 0.7, "software": 0.3, "other": 0}, why="t").typed("sector")
    got = draw(choice, "sector", u)
    assert set(got) == {"ai", "software"}
    assert stats.chisquare([np.sum(got == "ai"), np.sum(got == "software")], [35_000, 15_000]).pvalue > 1e-3
    flag = Dist(dist="bernoulli", p=0.25, why="t").typed("filed_model")
    assert abs(draw(flag, "filed_model", u).mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 50_000)


def test_arrivals_are_poisson_and_their_days_uniform(tmp_path):
    policy = toy.policy({"v": toy.program("10万")}, budget=None, end="2025-12-31")
    scen = toy.scenario([toy.segment("s", 0, {}, {"v": 1}, arrivals_per_year=7.5)], end="2025-12-31")
    model = model_of(tmp_path, policy, scen)
    drawn = sample_runs(model, 0, 4000)
    counts = drawn.firms
    lo, hi = 1, 16
    observed = np.bincount(np.clip(counts, lo, hi) - lo, minlength=hi - lo + 1)
    cdf = stats.poisson.cdf(np.arange(lo, hi + 1), 7.5)
    expected = np.diff(np.concatenate([[0.0], cdf[:-1], [1.0]])) * len(counts)
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    days = drawn.arrivals[0][0]
    assert days.min() >= 0 and days.max() <= 364
    assert stats.chisquare(np.bincount(days // 73, minlength=5)).pvalue > 1e-3  # five 73-day blocks


def test_whole_numbers_from_the_largest_uniform_stay_below_their_bound():
    """_below(u, n) < n for the largest uniform the streams give, 1 − 2⁻⁵³ (no clamp needed)."""
    largest = np.array([1.0 - 2.0**-53])
    for n in list(range(1, 5000)) + [2**20, 2**31 - 1, 2**40 + 7, 2**52 - 1]:
        assert population._below(largest, n)[0] == n - 1, n
    assert population._below(np.array([2.0**-53]), 366)[0] == 0


def test_award_shares_per_run_act_as_that_runs_scenario():
    scenario = load_scenario("scenarios/binjiang.yaml")
    model = build(scenario)
    path = "programs.binjiang.provincial_scene_selected.award_share"
    low, high = np.array([0.9, 0.2]), np.array([1.0, 0.3])
    drawn = sample_runs(model, 5, 7, values={f"{path}.low": low, f"{path}.high": high})
    program = model.program("binjiang.provincial_scene_selected").index
    for b, run in enumerate(drawn.runs):
        own = build(scenario.with_overrides({f"{path}.low": float(low[b]), f"{path}.high": float(high[b])}))
        assert rows(drawn.applications(run), program) == rows(sample(own, run), program)
        assert len(rows(sample(own, run), program)) > 0
