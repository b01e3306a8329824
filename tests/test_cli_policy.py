"""End-to-end: `sim validate`, `sim policies` and `sim quote` as a user types them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted(str(p) for p in (ROOT / "policies").glob("*.yaml"))


def test_validate_all_policies(cli):
    result = cli("validate", *POLICIES)
    assert result.code == 0, result.err
    assert result.out.count("ok ") == len(POLICIES)


def test_validate_fails_on_any_bad_file(cli):
    bad = ROOT / "tests/invalid/policy/bad_money_wanwan.yaml"
    result = cli("validate", POLICIES[0], bad)
    assert result.code == 2
    assert "bad_money_wanwan.yaml:18: pools.vouchers.budget:" in result.err
    assert "Traceback" not in result.err


def test_policies_lists_every_program_with_its_clause(cli):
    result = cli("policies", "--json")
    assert result.code == 0
    rows = json.loads(result.out)
    assert {r["policy"] for r in rows} == {Path(p).stem for p in POLICIES}
    voucher = next(r for r in rows if r["program"] == "compute_voucher" and r["policy"] == "binjiang")
    assert voucher["clause"] == "（六）"
    assert voucher["title"].startswith("降低算力使用成本")
    assert voucher["cap_yuan"] == 20_000_000
    assert voucher["pool_budget_yuan"] == 100_000_000
    assert voucher["allocation"] == "first_come" and voucher["allocation_basis"] == "default"


def test_policies_table(cli):
    result = cli("policies", "binjiang")
    assert result.code == 0
    assert "compute_voucher" in result.out and "（六）" in result.out and "10,000" in result.out


def test_quote_json(cli):
    result = cli("quote", "policies/binjiang.yaml", "--firm", "compute_rental=1000万",
                 "--firm", "domestic_compute_share=1", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) >= {"entitled", "possible", "excluded", "needs", "total_yuan"}
    entry = next(e for e in data["possible"] if e["program"] == "compute_voucher")  # needs 经评审 and two flags
    assert entry["entitled_yuan"] == 6_000_000 and entry["clause"] == "（六）"
    assert isinstance(entry["needs"], list) and entry["title"]
    assert all(isinstance(e["entitled_yuan"], int) for e in data["possible"])
    assert all(n["missing"] for n in data["needs"])
    assert data["total_yuan"] == 0


@pytest.mark.parametrize("args,words", [
    (["quote", "binjiang", "--firm", "revenue=万万"], "'万万'"),
    (["quote", "binjiang", "--firm", "bogus=1"], "bogus: unknown firm attribute"),
    (["quote", "nowhere"], "no such policy file or id"),
    (["validate", "tests/does_not_exist.yaml"], "file not found"),
])
def test_bad_input_gets_one_message_and_exit_2(cli, args, words):
    result = cli(*args)
    assert result.code == 2
    assert words in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", ["validate", "policies", "quote"])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.code == 0
    assert "Example" in result.out


def test_console_script_exit_code():
    """The installed entry point (python -m sim) exits non-zero on a bad file, with no traceback."""
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", "tests/invalid/policy/bad_yaml.yaml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid YAML" in proc.stderr and "Traceback" not in proc.stderr


def test_policies_shows_one_program_in_its_clause(cli):
    result = cli("policies", "binjiang", "compute_voucher")
    assert result.code == 0, result.err
    assert "policies/sources/004_ef3e153d4278fd14.txt" in result.out
    assert "（六）降低算力使用成本。每年安排最高1亿元" in result.out.replace("\n", "")  # the paragraph, not only the quote
    data = json.loads(cli("policies", "binjiang", "compute_voucher", "--json").out)
    assert data["source_text"]["before"].startswith("（六）降低算力使用成本。")
    assert data["source_text"]["quote"].endswith("给予单家企业最高2000万元补助")
    assert data["source_text"]["after"] == "。（责任单位：区经信局）"
    assert data["eligibility"] == ["compute_partner_list = True", "rental_contract_filed = True"]


def test_policies_names_an_unknown_program(cli):
    result = cli("policies", "binjiang", "nope")
    assert result.code == 2
    assert "has no program 'nope'; its programs are key_tech_rd" in result.err


def test_policies_marks_a_reading_that_is_off(cli):
    rows = json.loads(cli("policies", "yinchuan", "--json").out)
    other = next(r for r in rows if r["program"] == "equipment_local_maker_award")
    assert (other["enabled"], other["instead_of"]) == (False, "equipment_purchase_award")
    assert next(r for r in rows if r["program"] == "equipment_purchase_award")["enabled"] is True
    result = cli("policies", "yinchuan", "equipment_local_maker_award")
    assert "off unless a scenario switches it on" in result.out.replace("\n", "")
