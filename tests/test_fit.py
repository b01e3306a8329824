"""`sim fit`: distributions fitted to a data column, and the data reader behind it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ruamel.yaml import YAML

from sim.errors import InputError
from sim.planning.fit import FitError, fit
from sim.scenario.data import column, read_table
from sim.scenario.schema import Dist

TRUE_MEDIAN, TRUE_SIGMA = 1_200_000, 0.8
ROOT = Path(__file__).resolve().parents[1]


def _lognormal(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return TRUE_MEDIAN * np.exp(TRUE_SIGMA * rng.standard_normal(n))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_fit_recovers_a_lognormal_within_its_standard_errors_and_prefers_it_to_gamma(seed):
    result = fit(_lognormal(500, seed), source="sample", money=True, gof_samples=100, seed=seed)
    best = result.candidates[0]
    assert best.name == "lognormal" and result.winner is best
    gamma = next(c for c in result.candidates if c.name == "gamma")
    assert best.aic < gamma.aic
    # the MLE is within 3 standard errors of the truth; the standard errors are the textbook ones
    assert abs(best.params["median"] - TRUE_MEDIAN) < 3 * best.se["median"]
    assert abs(best.params["sigma"] - TRUE_SIGMA) < 3 * best.se["sigma"]
    assert best.se["sigma"] == pytest.approx(best.params["sigma"] / np.sqrt(2 * 500), rel=0.02)
    assert best.se["median"] == pytest.approx(best.params["median"] * best.params["sigma"] / np.sqrt(500), rel=0.02)


def test_a_gamma_sample_is_fitted_as_gamma():
    x = np.random.default_rng(5).gamma(2.0, 500_000, 600)
    result = fit(x, source="gamma sample", money=True, gof_samples=100)
    assert result.winner.name == "gamma"
    assert abs(result.winner.params["shape"] - 2.0) < 3 * result.winner.se["shape"]


def test_empirical_wins_when_every_parametric_fit_is_rejected():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(100, 3, 300), rng.normal(1000, 20, 300)])  # two far apart modes
    result = fit(x, source="bimodal", gof_samples=100)
    assert all(c.rejected for c in result.candidates if c.name != "empirical")
    assert result.winner.name == "empirical"
    assert result.block().startswith("value: {dist: empirical, values: [")


def test_too_few_values_is_a_clear_error():
    with pytest.raises(FitError, match="7 value\\(s\\); at least 8"):
        fit(np.arange(1, 8), source="tiny")
    with pytest.raises(FitError, match="too few distinct positive values"):
        fit(np.zeros(20), source="zeros")


def test_the_block_is_a_valid_scenario_distribution():
    result = fit(_lognormal(300, 4), source="column 算力 of a.csv", money=True, gof_samples=50)
    text = result.block("compute_rental")
    doc = YAML(typ="safe").load(text)
    dist = Dist.model_validate(doc["compute_rental"]).typed("compute_rental")
    assert dist.dist == "lognormal"
    assert dist.median == int(round(result.winner.params["median"]))
    assert "n=300" in dist.why and "a.csv" in dist.why


# --------------------------------------------------------------------------- reading data files

def _write(tmp_path, cells: list[str], name: str = "data.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    text = "企业,算力租赁费\n" + "".join(f"f{i},{c}\n" for i, c in enumerate(cells))
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_money_cells_in_any_written_form_become_yuan(tmp_path):
    path = _write(tmp_path, ["350万", "1.2亿", "2000", "\"2,000万元\"", "0.5万", "123.456"])
    col, problems = column(read_table(path), "算力租赁费", path)
    assert problems == []
    assert col.money
    assert col.values.tolist() == [3_500_000, 120_000_000, 2000, 20_000_000, 5000, 123]
    assert col.rows.tolist() == [2, 3, 4, 5, 6, 7]


def test_a_gbk_csv_saved_by_excel_is_read(tmp_path):
    path = _write(tmp_path, ["350万", "20万"], encoding="gbk")
    col, _ = column(read_table(path), "算力租赁费", path)
    assert col.values.tolist() == [3_500_000, 200_000]


def test_bad_cells_are_reported_by_row_and_column(tmp_path):
    path = _write(tmp_path, ["350万", "", "-3万", "abc", "20万"])
    col, problems = column(read_table(path), "算力租赁费", path)
    assert [str(p) for p in problems] == [
        f"{path}: row 3, column 算力租赁费: blank cell",
        f"{path}: row 4, column 算力租赁费: '-3万' is negative",
        f"{path}: row 5, column 算力租赁费: 'abc' is not an amount of money (e.g. 350万, 1.2亿 or 3500000)",
    ]
    assert col.values.tolist() == [3_500_000, 200_000]


def test_xlsx_and_parquet_are_read_with_spreadsheet_rows(tmp_path):
    frame = pl.DataFrame({"营业收入": ["350万", None, "1亿"], "share": ["0.2", "0.5", "1.5"]})
    frame.write_excel(tmp_path / "d.xlsx")
    frame.write_parquet(tmp_path / "d.parquet")
    for name in ("d.xlsx", "d.parquet"):
        path = tmp_path / name
        col, problems = column(read_table(path), "营业收入", path, attribute="revenue")
        assert col.values.tolist() == [3_500_000, 100_000_000]
        assert [p.field for p in problems] == ["row 3, column 营业收入"]
        _, problems = column(read_table(path), "share", path, attribute="domestic_compute_share")
        assert [p.field for p in problems] == ["row 4, column share"] and "between 0 and 1" in problems[0].message


def test_missing_file_column_and_format_are_clear(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "none.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InputError, match="give CSV"):
        read_table(tmp_path / "x.json")
    path = _write(tmp_path, ["1万"])
    with pytest.raises(InputError, match="no such column; the columns are 企业, 算力租赁费"):
        column(read_table(path), "收入", path)


# --------------------------------------------------------------------------- the command

def test_sim_fit_prints_the_block_and_json(cli, tmp_path):
    x = _lognormal(200, 9)
    path = _write(tmp_path, [f"{v / 10_000:.2f}万" for v in x])
    r = cli("fit", path, "--column", "算力租赁费", "--attribute", "compute_rental", "--gof-samples", "50")
    assert r.code == 0, r.err
    assert "compute_rental: {dist: lognormal, median: " in r.out and "chosen" in r.out
    r = cli("fit", path, "--column", "算力租赁费", "--gof-samples", "0", "--json")
    data = json.loads(r.out)
    assert data["winner"] == "lognormal" and data["n"] == 200 and data["money"] is True
    assert [c["name"] for c in data["candidates"]][-1] == "empirical"


def test_sim_fit_refuses_bad_cells_unless_told_to_drop_them(cli, tmp_path):
    x = _lognormal(40, 9)
    cells = [f"{v / 10_000:.2f}万" for v in x]
    cells[3] = "n/a"
    path = _write(tmp_path, cells)
    r = cli("fit", path, "--column", "算力租赁费")
    assert r.code == 2 and "row 5, column 算力租赁费: 'n/a' is not an amount of money" in r.err and r.out == ""
    r = cli("fit", path, "--column", "算力租赁费", "--drop-bad", "--gof-samples", "20")
    assert r.code == 0 and "dropped:" in r.out and "(n=39)" in r.out


# --------------------------------------------------------------------------- gamma and Weibull blocks in a scenario

@pytest.mark.parametrize("family, draw", [
    ("gamma", lambda rng: rng.gamma(2.0, 500_000, 600)),
    ("weibull", lambda rng: 800_000 * rng.weibull(1.5, 600)),
])
def test_a_gamma_or_weibull_block_pastes_into_a_scenario_and_draws_that_distribution(tmp_path, family, draw):
    """sim fit's block for gamma and Weibull validates in a scenario, and firms are drawn from scipy's law."""
    from scipy import stats

    from sim.engine.population import draw as draw_values
    from sim.scenario.load import load_scenario

    result = fit(draw(np.random.default_rng(3)), source="column 算力 of a.csv", money=True, gof_samples=50)
    assert result.winner.name == family
    block = result.block("compute_rental")
    text = (ROOT / "scenarios" / "binjiang.yaml").read_text(encoding="utf-8")
    start = text.index("      compute_rental:\n        dist: lognormal")
    end = text.index("      domestic_compute_share:", start)
    path = tmp_path / "scenarios" / "fitted.yaml"
    path.parent.mkdir()
    path.write_text(text[:start] + "      " + block + "\n" + text[end:], encoding="utf-8")
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    scenario = load_scenario(path)
    dist = scenario.spec.segments[0].attributes["compute_rental"]
    params = result.winner.params
    assert dist.dist == family and dist.shape == pytest.approx(params["shape"], rel=1e-3)
    assert dist.scale == pytest.approx(params["scale"], rel=1e-3)
    law = (stats.gamma if family == "gamma" else stats.weibull_min)(dist.shape, scale=dist.scale)
    u = np.linspace(0.005, 0.995, 199)
    drawn = draw_values(dist, "compute_rental", u)
    assert np.array_equal(drawn, np.rint(law.ppf(u)).astype(np.int64))  # the quantile function, to the yuan
    sample = draw_values(dist, "compute_rental", np.random.default_rng(4).random(4000))
    assert stats.kstest(sample, law.cdf).pvalue > 0.01


def test_a_gamma_attributes_shape_and_scale_may_be_uncertain():
    from sim.scenario.uncertain import extract

    raw = {"segments": [{"name": "s", "attributes": {"compute_rental": {
        "dist": "gamma", "shape": {"dist": "uniform", "low": 1, "high": 3},
        "scale": {"dist": "triangular", "low": "40万", "mode": "50万", "high": "80万"}, "why": "x"}}}]}
    found = extract(raw, "s.yaml", {})
    assert not found.problems
    by_path = {p.path: p for p in found.parameters}
    assert by_path["segments.s.attributes.compute_rental.scale"].kind == "money"
    assert by_path["segments.s.attributes.compute_rental.scale"].number("mode") == 500_000
    assert by_path["segments.s.attributes.compute_rental.shape"].kind == "positive"
