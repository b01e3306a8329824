"""Issue 11 items 1–2, the scenario side: uncertain numbers and correlations read and checked.

Each distribution is read in its field's unit and its quantiles are those of the stated
distribution (checked against moments and closed forms, not against the code's own
formulas); parameters are named by the segment's name; impossible distributions and
matrices are refused with file, line and field (the messages are in the corpus of
tests/test_invalid_inputs.py).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.scenario.correlation import Correlation
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "tests" / "invalid" / "base_scenario.yaml"
TAKE_UP = "segments.firms.take_up.mini.voucher.p"


@pytest.fixture(scope="module")
def base():
    return load_scenario(BASE)


def one(base, path: str, dist: dict):
    """The scenario with ``path`` given as ``dist``, and that parameter."""
    scenario = base.with_overrides({path: dist})
    return scenario, scenario.parameter(path)


U = np.linspace(0.0005, 0.9995, 2000)  # a fine grid of probabilities: the quantiles' mean is the distribution's mean


def test_beta_by_mean_and_sd_has_that_mean_and_sd(base):
    _, p = one(base, TAKE_UP, {"dist": "beta", "mean": 0.6, "sd": 0.1})
    x = p.ppf(U)
    assert x.mean() == pytest.approx(0.6, abs=2e-3) and x.std() == pytest.approx(0.1, abs=2e-3)
    assert p.support() == (0.0, 1.0) and p.kind == "probability"


def test_beta_by_a_and_b_and_on_an_interval(base):
    _, p = one(base, TAKE_UP, {"dist": "beta", "a": 2, "b": 6, "low": 0.2, "high": 0.6})
    assert p.ppf(U).mean() == pytest.approx(0.2 + 0.4 * 2 / 8, abs=2e-3)
    assert p.support() == (0.2, 0.6)


def test_gamma_by_mean_and_sd(base):
    _, p = one(base, "segments.firms.arrivals_per_year", {"dist": "gamma", "mean": 30, "sd": 10})
    x = p.ppf(U)
    assert x.mean() == pytest.approx(30, rel=0.01) and x.std() == pytest.approx(10, rel=0.03)


def test_triangular_median_has_its_closed_form(base):
    path = "segments.firms.attributes.compute_rental.growth"
    _, p = one(base, path, {"dist": "triangular", "low": 0.1, "mode": 0.25, "high": 0.4})
    # the mode is the midpoint: the median is the mode; below it F(x) = (x − a)² / ((b − a)(c − a))
    assert p.quantile(0.5) == pytest.approx(0.25)
    assert p.quantile(0.125) == pytest.approx(0.1 + math.sqrt(0.125 * 0.3 * 0.15))


def test_a_bounded_normal_stays_in_its_bounds_and_counts_are_whole(base):
    _, p = one(base, "segments.firms.firms_at_start", {"dist": "normal", "mean": 10, "sd": 8, "low": 0, "high": 20})
    x = p.ppf(U)
    assert x.min() >= 0 and x.max() <= 20 and np.all(x == np.rint(x))


def test_money_is_read_in_yuan_and_the_scenario_holds_the_median(base):
    path = "segments.firms.attributes.compute_rental.median"
    scenario, p = one(base, path, {"dist": "lognormal", "median": "100万", "sigma": 0.3})
    assert p.kind == "money" and p.quantile(0.5) == 1_000_000
    assert p.quantile(0.9) == round(1_000_000 * math.exp(0.3 * 1.2815515655446004))
    assert scenario.spec.segments[0].attributes["compute_rental"].median == 1_000_000


def test_choice_and_empirical_quantiles_are_the_inverted_cdf(base):
    _, p = one(base, TAKE_UP, {"dist": "choice", "values": {0.7: 3, 0.5: 1}})
    assert p.values == (0.5, 0.7) and p.weights == (0.25, 0.75)
    assert [p.quantile(q) for q in (0.1, 0.25, 0.26, 0.9)] == [0.5, 0.5, 0.7, 0.7]
    _, e = one(base, TAKE_UP, {"dist": "empirical", "values": [0.3, 0.1, 0.2]})
    assert [e.quantile(q) for q in (0.2, 0.34, 0.5, 0.9)] == [0.1, 0.2, 0.2, 0.3]


def test_a_date_is_drawn_in_whole_days(base):
    path = "overrides.mini.effective.start"
    scenario, p = one(base, path, {"dist": "uniform", "low": dt.date(2024, 1, 1), "high": "2024-03-31"})
    assert p.kind == "date" and p.support() == ((dt.date(2024, 1, 1) - dt.date(1970, 1, 1)).days,
                                                (dt.date(2024, 3, 31) - dt.date(1970, 1, 1)).days)
    assert p.typed(p.quantile(0.5)) == dt.date(2024, 2, 15)
    assert scenario.policies["mini"].effective.start == dt.date(2024, 2, 15)  # the policy is validated at the median


def test_a_rate_through_overrides(base):
    path = "overrides.mini.programs.voucher.benefit.rate"
    scenario, p = one(base, path, {"dist": "uniform", "low": "20%", "high": "40%"})
    assert p.support() == (0.2, 0.4) and p.quantile(0.5) == 0.3
    assert float(scenario.policies["mini"].programs["voucher"].benefit.rate) == 0.3


def test_parameters_are_named_by_segment_and_survive_reordering(base):
    raw = dict(base.raw)
    second = {**raw["segments"][0], "name": "others", "take_up": {"mini.voucher": {"p": {"dist": "uniform", "low": 0.1, "high": 0.2}, "why": "x"}}}
    first = {**raw["segments"][0], "firms_at_start": {"dist": "uniform", "low": 5, "high": 15}}
    a = base.with_overrides({"segments": [first, second]})
    b = base.with_overrides({"segments": [second, first]})
    names = ["segments.firms.firms_at_start", "segments.others.take_up.mini.voucher.p"]
    assert sorted(p.path for p in a.parameters) == sorted(p.path for p in b.parameters) == names


def test_a_value_given_on_the_command_line_replaces_the_distribution(base):
    uncertain, _ = one(base, TAKE_UP, {"dist": "beta", "mean": 0.6, "sd": 0.1})
    fixed = uncertain.with_overrides({TAKE_UP: 0.55})
    assert fixed.parameters == () and fixed.spec.segments[0].take_up["mini.voucher"].p == 0.55
    with pytest.raises(KeyError, match="is not an uncertain number of mini; they are: none"):
        fixed.parameter(TAKE_UP)


def test_factors_are_named_and_used(base, tmp_path):
    factors = {"factors": {"ai_market": {"why": "An AI boom or bust moves take-up."}}}
    unused = BASE.read_text(encoding="utf-8").replace("segments:", "factors: {ai_market: {why: An AI boom.}}\nsegments:")
    (tmp_path / "base_policy.yaml").write_text((BASE.parent / "base_policy.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(unused, encoding="utf-8")
    with pytest.raises(ScenarioError, match="no uncertain number loads on factor 'ai_market'"):
        load_scenario(tmp_path / "s.yaml")
    assert base.with_overrides(factors).parameters == ()  # a variant may hold a factor's numbers fixed
    beta = {"dist": "beta", "mean": 0.6, "sd": 0.1, "factor": "ai_market", "loading": 0.7}
    p = base.with_overrides({**factors, TAKE_UP: beta}).parameter(TAKE_UP)
    assert (p.factor, p.loading) == ("ai_market", 0.7)
    with pytest.raises(ScenarioError, match="loading must be between -1 and 1; got 1.5"):
        base.with_overrides({**factors, TAKE_UP: {**beta, "loading": 1.5}})


@pytest.mark.parametrize("dist,message", [
    ({"dist": "uniform", "low": 0.5}, "a uniform distribution needs low, high ('high' is missing)"),
    ({"dist": "normal", "mean": 0.5, "sd": 0.1, "sigma": 1}, "a normal distribution given mean, sd does not take sigma"),
    ({"dist": "triangular", "low": 0.5, "mode": 0.3, "high": 0.1}, "low (0.5) must be below high (0.1)"),
    ({"dist": "triangular", "low": 0.1, "mode": 0.05, "high": 0.5}, "mode (0.05) must lie between low and high"),
    ({"dist": "uniform", "low": 0.5, "high": 1.5}, "is a probability (0–1), but this uniform distribution reaches 1.5; use "
                                                   "beta, or uniform or triangular within 0–1"),
    ({"dist": "gamma", "mean": 0.5, "sd": -0.1}, "sd must be above 0; got -0.1"),
    ({"dist": "choice", "values": {0.5: -1, 0.6: 1}}, "choice weights must be 0 or more with a positive total"),
    ({"dist": "empirical", "values": []}, "empirical needs values as a non-empty list of observed values"),
    ({"dist": "poisson", "mean": 3}, "unknown distribution 'poisson'; an uncertain number is uniform, triangular, "
                                     "normal, lognormal, beta, gamma, choice or empirical"),
])
def test_impossible_distributions_name_the_field(base, dist, message):
    with pytest.raises(ScenarioError) as err:
        base.with_overrides({TAKE_UP: dist})
    assert len(err.value.problems) == 1 and err.value.problems[0].message == message
    assert err.value.problems[0].field.startswith("segments.0.take_up.mini.voucher.p")


def test_bounds_that_runs_could_draw_crossed_are_refused(base):
    with pytest.raises(ScenarioError, match="runs could draw min above max: min reaches 3,000万, max goes down to 2,000万"):
        base.with_overrides({"segments.firms.attributes.compute_rental.min": {"dist": "uniform", "low": "10万", "high": "3000万"},
                             "segments.firms.attributes.compute_rental.max": "2000万"})


# --------------------------------------------------------------------------- correlation

def test_correlation_by_pairs_or_matrix_is_the_same():
    pairs = Correlation.model_validate({"compute_rental ~ corpus_purchases": 0.6})
    matrix = Correlation.model_validate({"attributes": ["compute_rental", "corpus_purchases"], "matrix": [[1, 0.6], [0.6, 1]]})
    assert pairs.pairs == matrix.pairs == (("compute_rental", "corpus_purchases", 0.6),)
    # Pearson's formula: a rank correlation r of a bivariate normal needs the normal correlation 2 sin(π r / 6)
    assert pairs.normal_matrix()[0, 1] == pytest.approx(2 * math.sin(math.pi * 0.6 / 6))
    low = pairs.cholesky()
    assert np.allclose(low @ low.T, pairs.normal_matrix())


@pytest.mark.parametrize("value,message", [
    ({"attributes": ["compute_rental", "corpus_purchases"], "matrix": [[1, 0.6], [0.5, 1]]},
     "a correlation matrix is symmetric: compute_rental ~ corpus_purchases is 0.6 but corpus_purchases ~ compute_rental is 0.5"),
    ({"attributes": ["compute_rental", "corpus_purchases"], "matrix": [[1, 0.6], [0.6, 0.9]]},
     "the diagonal of a correlation matrix is 1 (corpus_purchases with itself); got 0.9"),
    ({"compute_rental ~ corpus_purchases": 1.2}, "a correlation lies between -1 and 1; got 1.2"),
    ({"compute_rental - corpus_purchases": 0.5}, "a pair is written 'a ~ b: r', e.g. 'compute_rental ~ corpus_purchases: 0.6'"),
])
def test_a_bad_correlation_names_the_pair(base, value, message):
    with pytest.raises(ScenarioError) as err:
        base.with_overrides({"segments.firms.attributes.corpus_purchases": {"dist": "lognormal", "median": "40万",
                                                                             "sigma": 1.0, "why": "x"},
                             "segments.firms.correlation": value})
    assert err.value.problems[0].message == message
    assert err.value.problems[0].field.startswith("segments.0.correlation")


def test_a_category_cannot_be_rank_correlated(base):
    with pytest.raises(ScenarioError, match="sector is a category, whose values have no order to correlate"):
        base.with_overrides({"segments.firms.attributes.sector": {"dist": "constant", "value": "ai", "why": "x"},
                             "segments.firms.correlation": {"compute_rental ~ sector": 0.3}})
