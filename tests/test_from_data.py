"""Issue 12 item 2: a segment's firms resampled from rows of a data file (from_data)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.engine import population
from sim.errors import OutputError, ScenarioError
from sim.runs.runner import simulate
from sim.scenario.data import DataError
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy


def _data(tmp_path, n: int = 300, seed: int = 5, bad: dict[int, str] | None = None) -> None:
    """Firms whose corpus purchases go with their compute rental (rank correlation about 0.6)."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0], [[1, 0.62], [0.62, 1]], n)
    rental, corpus = 1_000_000 * np.exp(0.9 * z[:, 0]), 300_000 * np.exp(0.8 * z[:, 1])
    lines = ["企业,算力租赁费,语料采购额,已备案"]
    for i in range(n):
        cell = (bad or {}).get(i, f"{rental[i] / 10_000:.1f}万")
        lines.append(f"f{i},{cell},{int(corpus[i])},{'是' if i % 3 else '否'}")
    (tmp_path / "applicants.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _scenario(tmp_path, growth=None, firms: int = 2000):
    grant = toy.program(rate="30%", base="compute_rental")
    seg = toy.segment("s", firms, {}, {"grant": 1.0})
    seg["from_data"] = {"file": "applicants.csv", "why": "last year's applicants",
                        "columns": {"算力租赁费": "compute_rental", "语料采购额": "corpus_purchases", "已备案": "filed_model"}}
    if growth is not None:
        seg["from_data"]["growth"] = {"compute_rental": growth}
    doc = toy.scenario([seg], runs=4, seed=9)
    doc["monte_carlo"]["batch_size"] = 2
    return toy.write(tmp_path, toy.policy({"grant": grant}, budget=None), doc)


def _firms(scenario, first: int, last: int):
    model = build(scenario)
    draws = population._Draws(model, first, last, {})
    return population._Firms(draws, 0, scenario.spec.segments[0], np.zeros(last - first, dtype=np.int64))


def test_resampled_firms_keep_the_datas_rank_correlation_and_whole_rows(tmp_path):
    _data(tmp_path)
    scenario = load_scenario(_scenario(tmp_path))
    rows = scenario.data["s"]
    assert rows.rows == 300 and rows.values["compute_rental"].dtype == np.int64
    firms = _firms(scenario, 0, 4)
    rental, corpus = firms.attribute("compute_rental"), firms.attribute("corpus_purchases")
    assert len(rental) == 8000
    # each firm is one row of the data: its attributes come together
    pairs = set(zip(rows.values["compute_rental"].tolist(), rows.values["corpus_purchases"].tolist()))
    assert set(zip(rental.tolist(), corpus.tolist())) <= pairs
    data_rho = stats.spearmanr(rows.values["compute_rental"], rows.values["corpus_purchases"]).statistic
    rho = stats.spearmanr(rental, corpus).statistic
    assert rho == pytest.approx(data_rho, abs=0.04)  # within sampling error of 8000 resampled firms
    # each row equally likely: the resampled rentals have the data's distribution
    assert stats.ks_2samp(rental, rows.values["compute_rental"]).pvalue > 0.01
    assert firms.attribute("filed_model").dtype == bool


def test_a_runs_firms_do_not_depend_on_the_batch(tmp_path):
    _data(tmp_path)
    scenario = load_scenario(_scenario(tmp_path))
    together = _firms(scenario, 0, 4)
    alone = _firms(scenario, 2, 3)
    in_run_2 = together.at == 2
    assert np.array_equal(together.attribute("compute_rental")[in_run_2], alone.attribute("compute_rental"))


def test_growth_applies_and_may_be_uncertain(tmp_path):
    _data(tmp_path)
    scenario = load_scenario(_scenario(tmp_path, growth={"dist": "uniform", "low": 0.1, "high": 0.3}))
    assert [p.path for p in scenario.parameters] == ["segments.s.from_data.growth.compute_rental"]
    model = build(scenario)
    values = {"segments.s.from_data.growth.compute_rental": np.full(4, 0.5)}
    draws = population._Draws(model, 0, 4, values)
    firms = population._Firms(draws, 0, scenario.spec.segments[0], np.zeros(4, dtype=np.int64))
    rows = np.arange(10)
    base = firms.attribute("compute_rental")[rows]
    grown = firms.in_year("compute_rental", rows, np.full(10, 2026))
    assert np.array_equal(grown, np.rint(base * 1.5).astype(np.int64))


def test_bad_cells_are_reported_with_file_row_and_column(tmp_path):
    _data(tmp_path, bad={0: "abc", 4: ""})
    with pytest.raises(DataError) as err:
        load_scenario(_scenario(tmp_path))
    text = str(err.value)
    shown = tmp_path / "applicants.csv"
    assert f"{shown}: row 2, column 算力租赁费: 'abc' is not an amount of money" in text
    assert f"{shown}: row 6, column 算力租赁费: blank cell" in text


def test_a_missing_file_or_column_and_an_attribute_given_twice_are_clear(tmp_path):
    path = _scenario(tmp_path)
    with pytest.raises(ScenarioError, match="segments.0.from_data.file: applicants.csv: no such data file"):
        load_scenario(path)
    _data(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("语料采购额: corpus_purchases", "语料: corpus_purchases"), encoding="utf-8")
    with pytest.raises(DataError, match="语料: no such column; the columns are 企业, 算力租赁费, 语料采购额, 已备案"):
        load_scenario(path)
    path.write_text(text.replace("      已备案: filed_model", "      已备案: filed_model\n    growth: {filed_model: 0.1}"),
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match="growth applies to amounts and numbers; filed_model is a flag"):
        load_scenario(path)


def test_a_resume_with_a_changed_data_file_is_refused(tmp_path):
    _data(tmp_path)
    path = _scenario(tmp_path, firms=20)
    scenario = load_scenario(path)
    result = simulate(scenario, out=tmp_path / "out", workers=1)
    assert result.manifest.scenario.inputs == {"applicants.csv": scenario.data["s"].sha256}
    _data(tmp_path, seed=6)
    with pytest.raises(OutputError, match="the earlier run differs in scenario"):
        simulate(load_scenario(path), out=tmp_path / "out", workers=1, resume=True)
