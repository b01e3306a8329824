"""End-to-end: `sim run` on the shipped Binjiang scenario, its outputs, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from sim.runs.storage import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]


def test_run_binjiang_writes_the_documented_tables(cli, tmp_path):
    out = tmp_path / "bj"
    result = cli("run", "scenarios/binjiang.yaml", "--runs", "20", "--workers", "2", "--out", out, "--events")
    assert result.code == 0, result.err
    assert "compute_vouchers" in result.out and "P(dry)" in result.out
    # the scenario takes up 7 of the policy's 30 programs, each of the 23 others alone in a pool without a budget
    assert "23 pool(s) without a budget had no demand in any run and are not shown" in result.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["runs"] == 20 and manifest["seed"] == 20261121
    assert manifest["scenario"]["file_sha256"] and manifest["engine"] == "fast"
    for table in ("program_years", "pool_years", "funder_years", "awards"):
        parts = sorted((out / table).glob("part-*.parquet"))
        assert parts, table
        assert pq.read_schema(parts[0]).remove_metadata() == SCHEMAS[table], table
    pools = pl.read_parquet(out / "pool_years" / "*.parquet")
    assert pools["run"].n_unique() == 20
    assert pools.schema["exhausted_on"] == pl.Date
    vouchers = pools.filter(pl.col("pool") == "binjiang.compute_vouchers")
    assert (vouchers["budget_yuan"] == 100_000_000).all()
    assert (vouchers["granted_yuan"] <= vouchers["budget_yuan"]).all()
    programs = pl.read_parquet(out / "program_years" / "*.parquet")
    assert programs.schema["granted_yuan"] == pl.Int64
    assert set(programs["year"].unique()) == {2025, 2026, 2027}


def test_same_seed_same_tables_with_different_workers(cli, tmp_path):
    for workers, batch in (("1", "7"), ("2", "3")):
        assert cli("run", "scenarios/binjiang.yaml", "--runs", "12", "--workers", workers, "--batch-size", batch,
                   "--out", tmp_path / workers).code == 0
    for table in ("program_years", "pool_years", "funder_years"):
        a = pl.read_parquet(tmp_path / "1" / table / "*.parquet").sort(pl.all())
        b = pl.read_parquet(tmp_path / "2" / table / "*.parquet").sort(pl.all())
        assert a.equals(b), table


def test_second_run_refuses_then_resumes_to_identical_tables(cli, tmp_path):
    out = tmp_path / "r"
    args = ("run", "scenarios/binjiang.yaml", "--runs", "6", "--batch-size", "2", "--workers", "1", "--out", out)
    assert cli(*args).code == 0
    reference = pl.read_parquet(out / "pool_years" / "*.parquet").sort(pl.all())
    again = cli(*args)
    assert again.code == 2 and "--resume" in again.err and "--force" in again.err
    # simulate an interruption after the first batch: the manifest lists one batch, a stray part remains
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["batches_complete"], manifest["complete"] = [0], False
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "pool_years" / "part-000002.parquet").write_bytes(b"half-written")
    assert cli(*args, "--resume").code == 0
    assert pl.read_parquet(out / "pool_years" / "*.parquet").sort(pl.all()).equals(reference)
    assert cli(*args, "--force").code == 0


def test_resume_refuses_a_different_run(cli, tmp_path):
    out = tmp_path / "d"
    assert cli("run", "scenarios/binjiang.yaml", "--runs", "4", "--workers", "1", "--out", out).code == 0
    result = cli("run", "scenarios/binjiang.yaml", "--runs", "4", "--seed", "5", "--workers", "1", "--out", out, "--resume")
    assert result.code == 2 and "differs in" in result.err and "seed" in result.err


BAD_SCENARIOS = {
    # name: (text replacement in binjiang.yaml, words expected in the message)
    "missing_why": ("why: \"Few SMEs buy corpus through an exchange yet.\"", "why: \"\""),
    "unknown_attribute": ("      filed_model: {dist: bernoulli", "      filed_modle: {dist: bernoulli"),
    "bad_money": ("median: 1500万", "median: 1500万万"),
    "unknown_program": ("binjiang.corpus_voucher: {p: 0.35", "binjiang.corpus_vouchr: {p: 0.35"),
    "take_up_above_one": ("{p: 0.35, why", "{p: 1.35, why"),
    "bad_override_path": ("binjiang.effective.start:", "binjiang.effective.begin:"),
}
EXPECTED = {
    "missing_why": "assumption needs its reasoning",
    "unknown_attribute": "unknown firm attribute 'filed_modle'",
    "bad_money": "segments.1.attributes.compute_rental.median: '1500万万' in compute_rental is not an amount",
    "unknown_program": "unknown program",
    "take_up_above_one": "less than or equal to 1",
    "bad_override_path": "unknown field 'begin'",
}


@pytest.mark.parametrize("name", sorted(BAD_SCENARIOS))
def test_bad_scenario_gets_one_message_and_writes_nothing(cli, tmp_path, name):
    old, new = BAD_SCENARIOS[name]
    text = (ROOT / "scenarios" / "binjiang.yaml").read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "scenarios" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    out = tmp_path / "out"
    result = cli("run", bad, "--runs", "2", "--out", out)
    assert result.code == 2, result.err
    assert EXPECTED[name] in result.err
    assert "bad.yaml:" in result.err
    assert "Traceback" not in result.err
    assert not out.exists()


def test_run_help_has_an_example(cli):
    result = cli("run", "--help")
    assert result.code == 0 and "Example" in result.out


def test_validate_accepts_scenarios_with_program_sections(cli):
    """Regression: a scenario's `programs:` section must not make it look like a policy."""
    result = cli("validate", "scenarios/binjiang.yaml", "scenarios/yinchuan.yaml")
    assert result.code == 0, result.err
    assert result.out.count("(scenario ") == 2


def test_run_set_is_the_scenario_with_that_value_and_resumes_with_it(cli, tmp_path):
    """Issue 11 item 6: a variant needs no copy of the scenario file."""
    text = (ROOT / "scenarios/binjiang.yaml").read_text(encoding="utf-8")
    copy = tmp_path / "scenarios" / "copy.yaml"
    copy.parent.mkdir()
    copy.write_text(text.replace("firms_at_start: 4\n", "firms_at_start: 9\n"), encoding="utf-8")
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    assert cli("run", copy, "--runs", "6", "--workers", "1", "--out", tmp_path / "file").code == 0
    out = tmp_path / "set"
    args = ("run", "scenarios/binjiang.yaml", "--set", "segments.large_platforms.firms_at_start=9", "--runs", "6",
            "--batch-size", "3", "--workers", "1", "--out", out)
    assert cli(*args).code == 0
    for table in ("program_years", "pool_years"):
        a = pl.read_parquet(tmp_path / "file" / table / "*.parquet").sort(pl.all())
        assert pl.read_parquet(out / table / "*.parquet").sort(pl.all()).equals(a), table
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["settings"] == {"segments.large_platforms.firms_at_start": "9"}
    from sim.runs.manifest import read_manifest
    from sim.runs.storage import resume_command
    assert "--set segments.large_platforms.firms_at_start=9" in resume_command(read_manifest(out), out)
    manifest["batches_complete"], manifest["complete"] = [0], False
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert cli(*args, "--resume").code == 0
    bad = cli("run", "scenarios/binjiang.yaml", "--set", "segments.ai_smes.take_up.binjiang.compute_voucher.p=1.5",
              "--out", tmp_path / "bad")
    assert bad.code == 2 and bad.err == ("error: --set segments.ai_smes.take_up.binjiang.compute_voucher.p=1.5: "
                                         "segments.0.take_up.binjiang.compute_voucher.p: Input should be less than or "
                                         "equal to 1\n") and not (tmp_path / "bad").exists()
