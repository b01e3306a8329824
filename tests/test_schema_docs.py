"""Issue 10 item 7: a JSON Schema for editors and a reference a finance office can write a policy from."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel
from ruamel.yaml import YAML

from sim.cli.schema import json_schema
from sim.policy.models import Policy

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "policy-format.md"


def plain(value):
    """YAML as an editor's language server sees it: dates are text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def load(path: Path):
    return plain(YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("kind", ["policy", "scenario"])
def test_schema_command_prints_the_committed_schema(cli, kind):
    result = cli("schema", kind)
    assert result.code == 0
    assert json.loads(result.out) == json.loads((ROOT / "docs" / "schema" / f"{kind}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(json.loads(result.out))


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.yaml")) + [ROOT / "docs/examples/shiyan.yaml"],
                         ids=lambda p: p.name)
def test_every_shipped_policy_follows_the_schema(path):
    errors = list(jsonschema.Draft202012Validator(json_schema("policy")).iter_errors(load(path)))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")) + [ROOT / "tests/invalid/base_scenario.yaml"],
                         ids=lambda p: p.name)
def test_every_shipped_scenario_follows_the_schema(path):
    errors = list(jsonschema.Draft202012Validator(json_schema("scenario")).iter_errors(load(path)))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("kind,stem,words", [
    ("policy", "unknown_field", "'instrumnet' was unexpected"),
    ("policy", "bad_money_wanwan", "'1万万' is not valid"),
    ("policy", "bad_selection", "is not one of"),
    ("policy", "unknown_attribute", "'compute_partner' is not one of"),
    ("scenario", "misspelt_segments", "'segments' is a required property"),
    ("scenario", "take_up_above_one", "1.5 is greater than the maximum of 1"),
])
def test_the_schema_catches_what_an_editor_should_underline(kind, stem, words):
    data = load(ROOT / "tests" / "invalid" / kind / f"{stem}.yaml")
    errors = list(jsonschema.Draft202012Validator(json_schema(kind)).iter_errors(data))
    # a field that may also be an uncertain number (anyOf) says why each alternative failed in its context
    messages = [e.message for e in errors] + [c.message for e in errors for c in e.context]
    assert any(words in m for m in messages), messages


def test_the_schema_offers_a_distribution_where_a_number_may_be_uncertain():
    validator = jsonschema.Draft202012Validator(json_schema("scenario"))
    data = load(ROOT / "tests" / "invalid" / "base_scenario.yaml")
    data["segments"][0]["take_up"]["mini.voucher"]["p"] = {"dist": "beta", "mean": 0.5, "sd": 0.1}
    data["segments"][0]["attributes"]["compute_rental"]["growth"] = {"dist": "uniform", "low": 0.1, "high": 0.3}
    assert list(validator.iter_errors(data)) == []
    data["segments"][0]["take_up"]["mini.voucher"]["p"] = {"dist": "betta", "mean": 0.5, "sd": 0.1}
    assert list(validator.iter_errors(data)) != []


def _fields(model: type[BaseModel], seen: set) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
        for arg in re.findall(r"\b[A-Z]\w+", str(field.annotation)):
            sub = getattr(__import__("sim.policy.models", fromlist=[arg]), arg, None)
            if isinstance(sub, type) and issubclass(sub, BaseModel) and sub not in seen:
                seen.add(sub)
                names |= _fields(sub, seen)
    return names


def test_the_reference_explains_every_field_of_a_policy():
    text = DOC.read_text(encoding="utf-8")
    fields = _fields(Policy, {Policy}) - {"implicit"}  # set by sim itself, never written
    missing = sorted(f for f in fields if f"`{f}`" not in text and f"{f}:" not in text)
    assert missing == []
    assert len(fields) >= 55  # the walk reached the nested models (Program, Benefit, Tier, …)


def test_the_worked_example_validates_and_quotes_as_the_reference_says(cli):
    assert cli("validate", "docs/examples/shiyan.yaml").code == 0
    result = cli("quote", "docs/examples/shiyan.yaml", "--firm", "revenue=2000万", "--firm", "compute_rental=800万",
                 "--firm", "domestic_compute_share=0.5", "--json")
    entry = json.loads(result.out)["entitled"][0]
    assert entry["program"] == "compute_voucher" and entry["entitled_yuan"] == 2_400_000
    assert "240.00 (万元)" in DOC.read_text(encoding="utf-8")
