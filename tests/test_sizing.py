"""Issue 4: `sim size` against probability theory, and `sim sweep` on a small grid.

K ~ Poisson(20) firms arrive in the year, each asks 100万 of a first-come pool.  The pool
runs dry iff K·100万 ≥ B, so the smallest budget with P(dry) ≤ 5% is any B in
((k−1)·100万, k·100万] with k the smallest count with P(K ≥ k) ≤ 0.05 (k = 29:
P(K ≥ 28) = 5.25%, P(K ≥ 29) = 3.43%), the smallest integer one (k−1)·100万 + 1.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from sim.planning.sizing import size
from sim.scenario.load import load_scenario
from tests import toy

WAN100 = 1_000_000
RUNS = 1500


def poisson_tail(k: int, lam: float = 20.0) -> float:
    """P(K ≥ k) for K ~ Poisson(lam)."""
    return 1 - sum(math.exp(-lam) * lam**j / math.factorial(j) for j in range(k))


def poisson_scenario(folder, *, budget: str = "2500万", runs: int = RUNS):
    policy = toy.policy({"v": toy.program("100万")}, budget=budget)
    scen = toy.scenario([toy.segment("s", 0, {}, {"v": 1}, arrivals_per_year=20)], runs=runs, end="2025-12-31")
    scen["monte_carlo"]["batch_size"] = 250
    return toy.write(folder, policy, scen)


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    folder = tmp_path_factory.mktemp("poisson")
    path = poisson_scenario(folder)
    return size(load_scenario(path), risk=0.05, workers=2, out=folder / "size")


def test_size_matches_the_poisson_quantile_within_monte_carlo_error(sized):
    k = next(k for k in range(100) if poisson_tail(k) <= 0.05)
    assert k == 29
    smallest = (k - 1) * WAN100 + 1  # the smallest integer budget with P(dry) ≤ 5%
    row = sized.table.row(0, named=True)
    assert sized.table.height == 1 and (row["pool"], row["year"]) == ("toy.pool", 2025)
    assert row["budget_needed_lo"] <= smallest <= row["budget_needed_hi"]
    estimate = math.ceil(row["budget_needed_yuan"] / WAN100)  # the count k the runs give
    assert abs(estimate - k) <= 1  # P(K ≥ 28) = 5.25% is within MC error of 5%: 28 or 29
    assert (row["budget_needed_yuan"] - 1) % WAN100 == 0  # one yuan above a multiple of 100万
    # with the 2500万 budget now, P(dry) = P(K ≥ 25), within 4 standard errors
    se = math.sqrt(poisson_tail(25) * (1 - poisson_tail(25)) / RUNS)
    assert abs(row["p_dry"] - poisson_tail(25)) < 4 * se
    # the confirmation (same draws, sized budget) keeps the risk at or below 5%
    assert row["p_dry_confirmed"] <= 0.05 and row["within_risk"]
    assert abs(row["p_dry_confirmed"] - poisson_tail(estimate)) < 4 * math.sqrt(0.05 * 0.95 / RUNS)
    assert (sized.out / "sizing.parquet").exists() and (sized.out / "sizing.csv").exists()
    assert pl.read_parquet(sized.out / "sizing.parquet").equals(sized.table)
    confirm = sized.confirm.manifest
    assert confirm.seed == sized.base.manifest.seed
    assert confirm.pool("toy.pool").budgets == {2025: row["budget_needed_yuan"]}


def test_size_command_prints_the_table_and_refuses_to_overwrite(cli, tmp_path):
    path = poisson_scenario(tmp_path, runs=200)
    out = tmp_path / "sz"
    result = cli("size", path, "--risk", "0.1", "--workers", "1", "--out", out)
    assert result.code == 0, result.err
    assert "budget" in result.out and "pool" in result.out and "2025" in result.out and "sizing.parquet" in result.out
    again = cli("size", path, "--out", out)
    assert again.code == 2 and "--force" in again.err
    assert cli("size", path, "--risk", "0", "--out", tmp_path / "x").code == 2


def test_sweep_two_budgets_writes_variants_and_p_dry_falls(cli, tmp_path):
    path = poisson_scenario(tmp_path, runs=200)
    out = tmp_path / "sw"
    result = cli("sweep", path, "--set", "overrides.toy.pools.pool.budget=1500万,3000万", "--workers", "1", "--out", out)
    assert result.code == 0, result.err
    for variant in ("v01", "v02"):
        assert (out / variant / "manifest.json").exists() and (out / variant / "pool_years").is_dir()
    table = pl.read_parquet(out / "sweep.parquet").filter(pl.col("pool") == "toy.pool").sort("variant")
    assert table["overrides.toy.pools.pool.budget"].to_list() == ["1500万", "3000万"]
    assert table["budget_yuan"].to_list() == [15_000_000, 30_000_000]
    low, high = table["p_dry"].to_list()
    # 1500万 runs dry iff K ≥ 15 (P = 89.5%), 3000万 iff K ≥ 30 (P = 2.2%): each within 4 standard errors
    for p_dry, k in ((low, 15), (high, 30)):
        assert abs(p_dry - poisson_tail(k)) < 4 * math.sqrt(poisson_tail(k) * (1 - poisson_tail(k)) / 200), (p_dry, k)
    # common random numbers: the same firms ask the same amounts in both variants
    assert table["demand_mean"].n_unique() == 1
    page = (out / "sweep.html").read_text(encoding="utf-8")
    assert 'id="chart-sweep"' in page and '<svg class="chart"' in page and "<img" not in page
    assert "方案比较" in page and "共同随机数" in page  # Chinese by default (--lang zh)
    assert "v01" in result.out and "3000万" in result.out


@pytest.mark.parametrize("setting, words", [
    # an unknown pool: the message names the --set and the known pools
    ("overrides.toy.pools.nope.budget=1000万", ["--set overrides.toy.pools.nope.budget=1000万", "known here: pool"]),
    # not money
    ("overrides.toy.pools.pool.budget=lots", ["--set overrides.toy.pools.pool.budget=lots", "not an amount"]),
    # a misspelt scenario field
    ("segments.0.firms_at_strt=1,2", ["firms_at_strt"]),
    # no values
    ("segments.0.firms_at_start=", ["PATH=V1,V2"]),
    # Monte Carlo settings stay common to all variants
    ("monte_carlo.runs=10,20", ["--runs"]),
])
def test_sweep_bad_setting_is_one_clear_message(cli, tmp_path, setting, words):
    path = poisson_scenario(tmp_path, runs=5)
    result = cli("sweep", path, "--set", setting, "--out", tmp_path / "sw")
    assert result.code == 2, result.out
    assert "Traceback" not in result.err and result.err.startswith("error: ")
    for word in words:
        assert word in result.err, (word, result.err)
    assert not (tmp_path / "sw").exists()


@pytest.mark.parametrize("command", ["report", "size", "sweep"])
def test_new_commands_have_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.code == 0
    assert "Example:" in result.out and f"sim {command}" in result.out
