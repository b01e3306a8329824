"""Issue 11 item 4: the sensitivity estimators, each checked on a case with a known answer.

- a linear model ``Y = Σ aᵢ Xᵢ`` with independent uniform inputs has first-order indices
  ``aᵢ² / Σ aⱼ²`` exactly: each 95% interval must contain its value;
- a parameter with no effect gets rank-correlation and first-order intervals containing 0
  (in about 95% of seeds for the rank correlation: its interval has its stated coverage);
- ``Y = X₁ + X₂ + ε`` with ``Var ε = Var X₁ + Var X₂`` is half explained by the parameters;
- one dominant parameter ranks first;
- the first-order estimates equal SALib's ``rbd_fast`` on the same data.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from sim.report.sensitivity import explained, figure_sensitivity, first_order, run_figures, sensitivity, spearman, _ranks

N = 1000


def linear(seed: int, a=(4.0, 2.0, 1.0, 0.0), noise: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.random((N, len(a)))
    return X, X @ np.array(a) + rng.normal(0, noise, N) if noise else X @ np.array(a)


def test_first_order_indices_of_a_linear_model_are_within_their_intervals():
    a = np.array([4.0, 2.0, 1.0, 0.0])
    X, y = linear(1, a)
    s1, lo, hi = first_order(X, y, seed=1)
    truth = a ** 2 / (a ** 2).sum()  # 16/21, 4/21, 1/21, 0
    assert np.all((lo <= truth) & (truth <= hi)), (s1, truth)
    assert np.all(np.abs(s1 - truth) < 0.05)


def test_first_order_estimates_equal_salibs_rbd_fast():
    rbd_fast = pytest.importorskip("SALib.analyze.rbd_fast")
    X, y = linear(2, noise=0.5)
    ours, _, _ = first_order(X, y)
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    theirs = rbd_fast.analyze(problem, X, y, M=10, num_resamples=10, seed=0)["S1"]
    assert np.allclose(ours, theirs, atol=1e-12)


def test_a_parameter_with_no_effect_gets_intervals_containing_zero():
    X, y = linear(3, noise=1.0)
    rho, lo, hi = spearman(X[:, 3], y)
    assert lo < 0 < hi
    s1, slo, shi = first_order(X, y, seed=3)
    assert slo[3] < 0 < shi[3]
    # the rank correlation's interval covers 0 in about 95% of independent samples (binomial: 200 × 0.95 ± 3 sd)
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        _, lo, hi = spearman(rng.random(300), rng.normal(size=300))
        covered += lo <= 0 <= hi
    assert 190 - 3 * 3.1 <= covered <= 200


def test_the_rank_correlation_interval_covers_a_known_correlation():
    # for a bivariate normal with correlation ρ the rank correlation is (6/π) asin(ρ/2)
    rho = 0.6
    truth = 6 / np.pi * np.arcsin(rho / 2)
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=400)
        _, lo, hi = spearman(z[:, 0], z[:, 1])
        covered += lo <= truth <= hi
    assert covered >= 88  # 95% coverage, less 3 binomial sd (100 × 0.95 − 3 × 2.2)


def test_the_share_explained_by_parameters_against_chance():
    rng = np.random.default_rng(4)
    X = rng.random((N, 3))
    y = X[:, 0] + X[:, 1] + rng.normal(0, np.sqrt(2 / 12), N)  # Var(X₁ + X₂) = 2/12 = Var ε: half explained
    share, lo, hi = explained(np.column_stack([_ranks(X[:, j]) for j in range(3)]), y)
    assert lo <= 0.5 <= hi and hi - lo < 0.15
    none, lo, hi = explained(_ranks(X[:, 2]).reshape(-1, 1), rng.normal(size=N))
    assert lo <= 0 <= hi


def test_a_dominant_parameter_ranks_first():
    X, y = linear(5, a=(0.5, 6.0, 1.0, 0.0), noise=0.3)
    rows = figure_sensitivity({"growth": X[:, 0], "take_up": X[:, 1], "median": X[:, 2], "unused": X[:, 3]}, y)
    assert rows[0]["parameter"] == "take_up" and rows[0]["rank"] == 1
    assert rows[0]["spearman_low"] > 0.9 and rows[0]["variance_share_low"] > 0.8


def test_the_table_has_a_row_per_figure_and_parameter_and_nulls_for_a_constant_figure():
    X, y = linear(6, noise=0.2)
    runs = np.arange(N)
    params = pl.concat([pl.DataFrame({"run": runs, "name": f"p{j}", "value": X[:, j]}) for j in range(4)])
    figures = pl.concat([
        pl.DataFrame({"run": runs, "pool": "a.pool", "year": 2025, "measure": "demand", "value": y}),
        pl.DataFrame({"run": runs, "pool": "a.pool", "year": 2025, "measure": "p_dry", "value": np.zeros(N)}),
    ])
    table = sensitivity(params, figures)
    assert table.height == 8 and table["parameter"].n_unique() == 4
    demand = table.filter(pl.col("measure") == "demand").sort("rank")
    assert demand["parameter"].to_list()[:3] == ["p0", "p1", "p2"]
    assert table.filter(pl.col("measure") == "p_dry")["spearman"].null_count() == 4


# --------------------------------------------------------------------------- from a run's tables

def dominated(tmp_path, runs: int = 400):
    """A pool whose demand is driven by one uncertain number (arrivals) and not at all by another (an unused median)."""
    from tests import toy

    policy = toy.policy({"v": toy.program("10万")}, budget="300万", end="2025-12-31")
    segment = toy.segment("a", 0, {"revenue": {"dist": "lognormal", "sigma": 1.0, "why": "t",
                                               "median": {"dist": "uniform", "low": "1亿", "high": "5亿"}}},
                          {"v": {"dist": "uniform", "low": 0.9, "high": 1.0}},
                          arrivals_per_year={"dist": "uniform", "low": 5, "high": 60})
    scen = toy.scenario([segment], runs=runs, seed=3, end="2025-12-31")
    scen["monte_carlo"]["batch_size"] = 100
    return toy.write(tmp_path, policy, scen)


def test_the_demand_ranked_is_the_payable_demand_the_budget_needed_is_sized_on():
    """A pool whose all-or-nothing claims ask more than it could ever pay: the ranking reads payable demand."""
    exposure = pl.LazyFrame({"run": [0, 1, 0, 1], "pool": ["p", "p", "q", "q"], "year": [2025] * 4,
                             "demand": [500, 900, 10, 20], "payable": [300, 400, 10, 20], "dry_on": [None] * 4},
                            schema_overrides={"dry_on": pl.Date})
    money = pl.LazyFrame({"run": [0, 1, 0, 1], "pool": ["p", "p", "q", "q"], "year": [2025] * 4, "granted": [300, 400, 10, 20]})
    pools = pl.DataFrame({"pool": ["p", "q"], "budget_yuan": [1000, None]})
    figures = run_figures(exposure, money, pools).filter(pl.col("measure") == "demand").sort("pool", "run")
    assert figures["value"].to_list() == [300.0, 400.0, 10.0, 20.0]


def test_a_dominant_parameter_ranks_first_in_the_reports_sensitivity(cli, tmp_path):
    path = dominated(tmp_path)
    out = tmp_path / "out"
    assert cli("run", path, "--out", out, "--workers", "1", "-q").code == 0
    result = cli("report", out, "--json", "--lang", "en")
    assert result.code == 0, result.err
    table = pl.read_parquet(out / "sensitivity.parquet")
    demand = table.filter((pl.col("measure") == "demand") & (pl.col("year") == 2025)).sort("rank")
    assert demand["parameter"][0] == "segments.a.arrivals_per_year" and demand["spearman_low"][0] > 0.8
    unused = demand.filter(pl.col("parameter") == "segments.a.attributes.revenue.median").row(0, named=True)
    assert unused["spearman_low"] < 0 < unused["spearman_high"]
    assert unused["variance_share_low"] < 0 < unused["variance_share_high"]
    assert demand["explained_share"][0] > 0.8  # arrivals explain nearly all of the demand's spread
    assert set(table["measure"].unique()) == {"demand", "granted", "p_dry"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="sensitivity"' in page and "What drives demand" in page
    assert json.loads(result.out)["sensitivity"][0]["parameter"] == "segments.a.arrivals_per_year"
    import openpyxl

    assert "Sensitivity" in openpyxl.load_workbook(out / "report.xlsx", read_only=True).sheetnames


# --------------------------------------------------------------------------- labels for readers

def test_parameters_are_named_in_chinese_for_a_chinese_reader():
    """Each kind of uncertain number a scenario can give, as the page, the workbook and the tornado name it."""
    from sim.report.sensitivity import parameter_title
    from sim.runs.manifest import Manifest

    programs = [{"policy": "binjiang", "program": "compute_voucher", "title": "降低算力使用成本（算力券）", "pool": "binjiang.v"},
                {"policy": "binjiang", "program": "key_tech_rd", "title": "支持关键技术研发", "pool": "binjiang.k"}]
    pools = [{"pool": "binjiang.compute_vouchers", "title": "算力券资金池"}]
    one = Manifest(scenario={"file": "x.yaml", "name": "x"}, seed=1, runs=1, batch_size=1, batches=1,
                   horizon=("2025-01-01", "2025-12-31"), programs=programs, pools=pools)
    two = Manifest(**{**one.model_dump(), "programs": programs + [{**programs[0], "policy": "hangzhou"}]})
    cases = {
        "segments.ai_smes.take_up.binjiang.compute_voucher.p": "ai_smes：算力券申请率",
        "segments.ai_smes.take_up.binjiang.key_tech_rd.p": "ai_smes：支持关键技术研发申请率",
        "segments.ai_smes.arrivals_per_year": "ai_smes：每年新增企业数",
        "segments.ai_smes.arrivals_per_year.2026": "ai_smes：每年新增企业数（2026年）",
        "segments.ai_smes.firms_at_start": "ai_smes：期初企业数",
        "segments.ai_smes.attributes.compute_rental.median": "ai_smes：算力租赁费中位数",
        "segments.ai_smes.attributes.compute_rental.growth": "ai_smes：算力租赁费年增长率",
        "segments.ai_smes.from_data.growth.corpus_purchases": "ai_smes：语料采购额年增长率",
        "programs.binjiang.compute_voucher.amount.median": "算力券：申请金额中位数",
        "programs.binjiang.key_tech_rd.award_share.mean": "支持关键技术研发：奖励比例均值",
        "programs.binjiang.compute_voucher.payment.lag_months.median": "算力券：支付滞后月数中位数",
        "overrides.binjiang.effective.start": "政策生效日期",
        "overrides.binjiang.pools.compute_vouchers.budget": "算力券资金池预算",
        "factors.ai_market": "共同因子 ai_market",
        "overrides.binjiang.programs.compute_voucher.cap.amount": "programs.compute_voucher.cap.amount",  # no name here: its path
    }
    for path, zh in cases.items():
        assert parameter_title(path, one, "zh") == zh, path
    assert parameter_title("segments.ai_smes.take_up.binjiang.compute_voucher.p", one, "en") == "ai_smes.take_up.compute_voucher.p"
    assert parameter_title("overrides.binjiang.effective.start", two, "zh") == "binjiang：政策生效日期"


def test_every_firm_attribute_has_a_chinese_name():
    from sim.policy.attributes import VOCABULARY
    from sim.report.lang import ATTRIBUTE_ZH

    assert set(ATTRIBUTE_ZH) == set(VOCABULARY)
    assert all(ATTRIBUTE_ZH.values())
