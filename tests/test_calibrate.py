"""Issue 12 items 3–4: `sim calibrate` — rejection ABC on prior runs, the calibrated scenario, clear failures."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.engine import parameters
from sim.errors import ScenarioError
from sim.planning import abc
from sim.planning.calibrate import CalibrationError, calibrate, posterior, run_table
from sim.planning.observed import ObservedError, read_observed
from sim.runs.runner import model_for, simulate
from sim.scenario.load import load_scenario
from tests import toy

P = "segments.s.take_up.toy.grant.p"
MEDIAN = "segments.s.attributes.compute_rental.median"


def _toy(tmp_path, runs: int = 600):
    """50 firms, each renting compute (lognormal, uncertain median), taking up 30% of it with an uncertain p."""
    grant = toy.program(rate="30%", base="compute_rental")
    seg = toy.segment("s", 50, {"compute_rental": {"dist": "lognormal", "sigma": 0.5, "why": "test",
                                                   "median": {"dist": "triangular", "low": "50万", "mode": "80万",
                                                              "high": "150万"}}}, {})
    seg["take_up"] = {"toy.grant": {"p": {"dist": "beta", "a": 2, "b": 2}, "why": "test"}}
    doc = toy.scenario([seg], runs=runs, seed=3, start="2025-01-01", end="2025-12-31")
    doc["monte_carlo"]["batch_size"] = 200
    return toy.write(tmp_path, toy.policy({"grant": grant}, budget=None), doc)


def _observed(tmp_path, text: str):
    path = tmp_path / "observed.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the estimator against exact answers

def test_rejection_on_an_exact_match_is_the_exact_beta_binomial_posterior():
    """p ~ Beta(2, 2), k ~ Binomial(40, p), k = 28 seen: the posterior is Beta(30, 14) exactly."""
    rng = np.random.default_rng(1)
    p = rng.beta(2, 2, 40_000)
    k = rng.binomial(40, p).astype(float)[:, None]
    kept = abc.accept(k, np.array([28.0]), share=0.01)
    assert kept.bandwidth == 0 and (k[kept.index, 0] == 28).all() and len(kept.index) > 900
    drawn = p[kept.index]
    assert stats.kstest(drawn, stats.beta(30, 14).cdf).pvalue > 0.01
    assert kept.ess == pytest.approx(len(kept.index))


def test_kernel_weights_and_regression_adjustment_recover_a_normal_mean():
    """θ ~ N(0, 1), s ~ N(θ, 0.5²), s = 1 seen: the posterior is N(0.8, 0.2) (variance 0.2)."""
    rng = np.random.default_rng(2)
    theta = rng.standard_normal(40_000)
    s = (theta + 0.5 * rng.standard_normal(len(theta)))[:, None]
    kept = abc.accept(s, np.array([1.0]), share=0.05)
    assert 0 < kept.bandwidth and kept.ess < len(kept.index)
    draws = abc.adjust(theta[kept.index][:, None], s[kept.index], np.array([1.0]), kept.weights,
                       [(-np.inf, np.inf)], kept.scales)[:, 0]
    low, mid, high = abc.quantiles(draws, kept.weights, [0.05, 0.5, 0.95])
    exact = stats.norm(0.8, np.sqrt(0.2))
    assert mid == pytest.approx(0.8, abs=0.03)
    assert low == pytest.approx(exact.ppf(0.05), abs=0.05) and high == pytest.approx(exact.ppf(0.95), abs=0.05)


def test_the_adjustment_keeps_draws_inside_the_priors_support():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 5000)
    s = rng.binomial(30, p).astype(float)[:, None]
    kept = abc.accept(s, np.array([29.0]), share=0.2)
    draws = abc.adjust(p[kept.index][:, None], s[kept.index], np.array([29.0]), kept.weights, [(0.0, 1.0)], kept.scales)
    assert (draws > 0).all() and (draws < 1).all()


def test_scales_fall_back_when_most_runs_agree():
    sims = np.column_stack([np.arange(100.0), np.r_[np.zeros(80), np.ones(20)], np.full(100, 7.0)])
    spread = abc.scales(sims)
    assert spread[0] == pytest.approx(abc.MAD_NORMAL * 25, rel=0.05)
    assert spread[1] == pytest.approx(abc.MEAN_AD_NORMAL * 0.2)  # the MAD is 0: mean absolute deviation
    assert spread[2] == 0  # no spread: left out of the distance


# --------------------------------------------------------------------------- simulation-based calibration

def test_simulation_based_calibration_on_a_toy_scenario(tmp_path):
    """Truths drawn from the prior (each prior run in turn, left out), its figures observed, calibrated:
    the true value lies in the 90% interval in about 90% of repetitions, and the posterior is narrower.

    The 100-repetition version on Binjiang is benchmarks/calibration.py.
    """
    scenario = load_scenario(_toy(tmp_path, runs=1200))
    folder = tmp_path / "prior"
    simulate(scenario, out=folder, workers=1)
    observed = _observed(tmp_path, "why: test\nprograms:\n  toy.grant:\n    2025: {applications: 1, granted: 1}\n")
    figures = read_observed(observed, model_for(scenario)).figures
    names = parameters.names(scenario)
    theta, sims = run_table(folder, names, figures)
    assert names == [MEDIAN, P]
    hits, widths = np.zeros(len(names)), np.zeros(len(names))
    reps = 60
    for r in range(reps):
        others = np.r_[0:r, r + 1:len(theta)]
        kept, draws = posterior(scenario, names, theta[others], sims[others], sims[r], accept=0.1)
        low, high = (np.array([abc.quantiles(draws[:, j], kept.weights, q) for j in range(len(names))]) for q in (0.05, 0.95))
        hits += (low <= theta[r]) & (theta[r] <= high)
        widths += (high - low) / np.array([np.subtract(*scenario.parameter(n).frozen().ppf([0.95, 0.05])) for n in names])
    coverage = hits / reps
    assert (coverage >= 0.8).all(), coverage
    assert (widths / reps < 0.8).all(), widths / reps  # the observations are informative: narrower than the prior


# --------------------------------------------------------------------------- sim calibrate end to end

def test_sim_calibrate_writes_the_draws_a_calibrated_scenario_and_the_check(cli, tmp_path):
    path = _toy(tmp_path)
    observed = _observed(tmp_path, "# synthetic\nwhy: test figures\nprograms:\n  toy.grant:\n"
                                   "    2025: {applications: 30, granted: 1200万}\n")
    out = tmp_path / "cal"
    r = cli("calibrate", path, "--observed", observed, "--out", out, "--runs", "600", "--check-runs", "100",
            "--workers", "1", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["runs"] == 600 and data["accepted"] == 60 and 10 < data["ess"] < 60
    post = {row["parameter"]: row for row in data["posterior"]}
    assert set(post) == {P, MEDIAN}
    assert post[P]["posterior_high"] - post[P]["posterior_low"] < post[P]["prior_high"] - post[P]["prior_low"]
    assert post[P]["posterior_median"] > post[P]["prior_median"]  # 30 of 50 firms applied: take-up above one half
    assert {c["figure"] for c in data["check"]} == {"toy.grant 2025 applications", "toy.grant 2025 granted"}
    draws = pl.read_parquet(out / "calibration.parquet")
    assert draws.columns == ["run", "weight", "distance", MEDIAN, P] and draws.height == 60
    assert draws["weight"].sum() == pytest.approx(1.0)
    # the calibrated scenario runs as is, and each run takes one row of the draws: jointly
    calibrated = load_scenario(out / "toy_calibrated.yaml")
    assert calibrated.posterior is not None and calibrated.name == "toy_calibrated"
    values = parameters.draw(calibrated, np.arange(300))
    pairs = {(round(a, 9), round(b, 9)) for a, b in zip(draws[MEDIAN], draws[P])}
    assert {(round(a, 9), round(b, 9)) for a, b in zip(np.rint(values[MEDIAN]), values[P])} <= {(round(float(np.rint(a)), 9), b) for a, b in pairs}
    run = cli("run", out / "toy_calibrated.yaml", "--runs", "50", "--out", tmp_path / "again", "--workers", "1", "-q")
    assert run.code == 0, run.err
    table = pl.read_parquet(tmp_path / "again" / "parameters" / "*.parquet")
    assert set(table.filter(pl.col("name") == P)["value"].to_list()) <= set(draws[P].to_list())


def test_a_changed_posterior_file_is_refused_on_resume(cli, tmp_path):
    path = _toy(tmp_path)
    observed = _observed(tmp_path, "why: test\nprograms:\n  toy.grant:\n    2025: {applications: 30}\n")
    out = tmp_path / "cal"
    assert cli("calibrate", path, "--observed", observed, "--out", out, "--runs", "300", "--check-runs", "20",
               "--workers", "1", "-q").code == 0
    calibrated = out / "toy_calibrated.yaml"
    first = load_scenario(calibrated)
    draws = pl.read_parquet(out / "calibration.parquet")
    draws.with_columns(pl.col("weight").reverse()).write_parquet(out / "calibration.parquet")
    assert load_scenario(calibrated).sha256 != first.sha256  # the draws' digest is part of the scenario's
    assert len(first.files) == 1 and first.files[0][0] == "calibration.parquet"


def test_calibrating_again_reuses_the_prior_runs_with_resume(cli, tmp_path):
    path = _toy(tmp_path)
    out = tmp_path / "cal"
    one = _observed(tmp_path, "why: test\nprograms:\n  toy.grant:\n    2025: {applications: 30}\n")
    assert cli("calibrate", path, "--observed", one, "--out", out, "--runs", "300", "--check-runs", "20",
               "--workers", "1", "-q").code == 0
    again = cli("calibrate", path, "--observed", one, "--out", out, "--runs", "300", "--check-runs", "20",
                "--workers", "1", "-q")
    assert again.code == 2 and "--resume" in again.err
    reused = cli("calibrate", path, "--observed", one, "--out", out, "--check-runs", "20", "--workers", "1", "-q", "--resume")
    assert reused.code == 0, reused.err


# --------------------------------------------------------------------------- clear failures

def test_an_observation_the_prior_excludes_is_named_with_how_far_the_runs_were(tmp_path):
    scenario = load_scenario(_toy(tmp_path))
    observed = _observed(tmp_path, "why: test\nprograms:\n  toy.grant:\n    2025: {applications: 60}\n")
    with pytest.raises(CalibrationError) as err:
        calibrate(scenario, observed, runs=200, out=tmp_path / "cal", workers=1, check_runs=10)
    text = str(err.value)
    assert "toy.grant 2025 applications: observed 60, but no prior run comes near it" in text
    assert "the 200 prior runs give" in text and "… 50" in text


def test_unknown_programs_pools_years_and_figures_are_errors_with_their_lines(tmp_path):
    scenario = load_scenario(_toy(tmp_path))
    observed = _observed(tmp_path, "why: test\nprograms:\n  toy.nope:\n    2025: {applications: 3}\n"
                                   "  toy.grant:\n    2024: {applications: 3}\n    2025: {applied: 3}\n"
                                   "pools:\n  toy.pool:\n    2025: {dry: true}\n  toy.other:\n    2025: {dry: false}\n")
    with pytest.raises(ObservedError) as err:
        read_observed(observed, model_for(scenario))
    text = str(err.value)
    assert f"{observed}:3: programs.toy.nope: the scenario has no program toy.nope; it has toy.grant" in text
    assert f"{observed}:6: programs.toy.grant.2024: year 2024 is not in the scenario's horizon (2025–2025)" in text
    assert f"{observed}:7: programs.toy.grant.2025.applied: unknown figure" in text
    assert f"{observed}:10: pools.toy.pool.2025.dry: the scenario gives toy.pool no budget in 2025, so it cannot run dry" in text
    assert f"{observed}:11: pools.toy.other: the scenario has no pool toy.other" in text


def test_a_small_effective_sample_is_a_warning_with_the_runs_advised(cli, tmp_path):
    path = _toy(tmp_path)
    observed = _observed(tmp_path, "why: test\nprograms:\n  toy.grant:\n    2025: {applications: 30, granted: 1200万}\n")
    r = cli("calibrate", path, "--observed", observed, "--out", tmp_path / "cal", "--runs", "200", "--check-runs", "10",
            "--workers", "1", "-q")
    assert r.code == 0, r.err
    assert "warning: the posterior rests on" in r.err and "too few for the ends of a 90% interval" in r.err
    assert "--runs" in r.err.split("run about", 1)[1]


def test_a_posterior_naming_a_number_the_scenario_does_not_have_is_refused_at_its_line(tmp_path):
    path = _toy(tmp_path)
    pl.DataFrame({"run": [0], "weight": [1.0], "segments.s.firms_at_start": [3.0]}).write_parquet(tmp_path / "draws.parquet")
    text = path.read_text(encoding="utf-8") + "posterior:\n  file: draws.parquet\n  why: test\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    line = text.splitlines().index("  file: draws.parquet") + 1
    assert f"{path}:{line}: posterior.file: draws.parquet gives segments.s.firms_at_start, which is not an uncertain number" in str(err.value)
