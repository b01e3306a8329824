"""Issue 8 item 5: validation complete at the boundary, policies read and validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import load
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def counted(monkeypatch):
    """Count policy files read and policies validated."""
    calls = {"read": 0, "validate": 0}
    real_read, real_validate = load.read_yaml, load.validate_policy

    def read(path, error):
        calls["read"] += 1
        return real_read(path, error)

    def validate(data, file, lines=None):
        calls["validate"] += 1
        return real_validate(data, file, lines)

    monkeypatch.setattr(load, "read_yaml", read)
    monkeypatch.setattr(load, "validate_policy", validate)
    return calls


def test_policies_are_read_and_validated_once_per_command(counted):
    scenario = load_scenario(ROOT / "scenarios/yinchuan.yaml")  # two policies
    assert counted == {"read": 3, "validate": 2}  # the scenario and its two policies
    again = scenario.with_overrides({"monte_carlo.runs": 5, "segments.0.firms_at_start": 3})
    assert counted == {"read": 3, "validate": 2}  # nothing read or validated again
    assert again.monte_carlo.runs == 5 and all(again.policies[k] is p for k, p in scenario.policies.items())
    assert again.sha256 != scenario.sha256


def test_a_policy_override_validates_that_policy_again_without_reading_it(counted):
    scenario = load_scenario(ROOT / "scenarios/binjiang.yaml")
    reads = counted["read"]
    half = scenario.with_overrides({"overrides.binjiang.pools.compute_vouchers.budget": "5000万"})
    assert counted["read"] == reads and counted["validate"] == 2
    assert half.policies["binjiang"].pools["compute_vouchers"].budget == 50_000_000
    assert scenario.policies["binjiang"].pools["compute_vouchers"].budget == 100_000_000  # the original is unchanged


def test_a_variant_error_keeps_the_line_of_its_field():
    scenario = load_scenario(ROOT / "scenarios/binjiang.yaml")
    with pytest.raises(ScenarioError) as err:
        scenario.with_overrides({"pools.binjiang.compute_vouchers.review": "04-01"})
    problem = err.value.problems[0]
    line = (ROOT / "scenarios/binjiang.yaml").read_text(encoding="utf-8").splitlines().index("  binjiang.compute_vouchers:") + 1
    assert problem.field == "pools.binjiang.compute_vouchers.review" and problem.line == line
    assert "comes before the call of binjiang.compute_voucher ends (05-31)" in problem.message


def test_overrides_name_a_policy_by_its_id_or_its_file(tmp_path):
    text = (ROOT / "tests/invalid/base_scenario.yaml").read_text(encoding="utf-8")
    policy = ROOT / "tests/invalid/base_policy.yaml"
    for prefix in ("mini", "base_policy"):  # the policy's id, and its file's name
        changed = text.replace("policies: [base_policy.yaml]", f"policies: [{policy}]").replace(
            "programs:\n", f"overrides:\n  {prefix}.pools.vouchers.budget: {{value: 5000万, why: half}}\nprograms:\n", 1)
        (tmp_path / "s.yaml").write_text(changed, encoding="utf-8")
        assert load_scenario(tmp_path / "s.yaml").policies["mini"].pools["vouchers"].budget == 50_000_000


def test_a_segment_is_reached_by_its_name_as_well_as_its_index():
    scenario = load_scenario(ROOT / "scenarios/binjiang.yaml")
    by_name = scenario.with_overrides({"segments.large_platforms.firms_at_start": 7,
                                       "segments.ai_smes.take_up.binjiang.compute_voucher.p": 0.5})
    by_index = scenario.with_overrides({"segments.1.firms_at_start": 7, "segments.0.take_up.binjiang.compute_voucher.p": 0.5})
    assert by_name.spec == by_index.spec
    assert by_name.spec.segments[1].firms_at_start == 7 and by_name.spec.segments[0].take_up["binjiang.compute_voucher"].p == 0.5
    with pytest.raises(ScenarioError) as err:
        scenario.with_overrides({"segments.big_firms.firms_at_start": 7})
    assert err.value.problems[0].message == ("no field 'segments.big_firms' to override; known here: 0 or ai_smes, "
                                             "1 or large_platforms, 2 or scene_projects, 3 or embodied_platforms")
