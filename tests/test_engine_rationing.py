"""The rationing table: one row per rule of the schema, and both engines dispatch through it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import get_args

import polars as pl
import pytest

from sim.engine import fast, rationing, simpy, vectorised
from sim.engine.choice import choose_engine
from sim.engine.ledger import Ledger
from sim.engine.population import sample
from sim.errors import EngineError, OptionError, SimError
from sim.policy.models import Rationing
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy

ROOT = Path(__file__).resolve().parents[1]


def test_the_table_has_one_row_per_rule_of_the_schema():
    assert list(rationing.RULES) == list(get_args(Rationing))
    for name, rule in rationing.RULES.items():
        assert rule.name == name
        assert rule.order in ("time", "rank")
        assert getattr(Ledger, rule.reference.__name__) is rule.reference
        assert rule.vectorised is None or getattr(vectorised, rule.vectorised.__name__) is rule.vectorised


def test_what_the_rows_say():
    rules = rationing.RULES
    assert (rules["first_come"].order, rules["first_come"].round) == ("time", False)
    assert (rules["competitive"].order, rules["competitive"].round) == ("rank", True)
    assert (rules["pro_rata"].order, rules["pro_rata"].round) == ("time", True)


def test_the_engines_name_no_rule_outside_the_table():
    """No ``if rationing == "…"`` left: a rule's name appears in the engines only in its row."""
    names = re.compile("|".join(f"[\"']{name}[\"']" for name in rationing.RULES))
    for path in [*(ROOT / "sim" / "engine").glob("*.py"), ROOT / "sim" / "runs" / "runner.py", ROOT / "sim" / "runs" / "records.py"]:
        if path.name == "rationing.py":
            continue
        assert not names.search(path.read_text(encoding="utf-8")), f"{path.name} names a rationing rule"


def _model(tmp_path, rationing_rule="first_come"):
    policy = toy.policy({"v": toy.program("100万")}, budget="300万", rationing=rationing_rule)
    scen = toy.scenario([toy.segment("s", 6, {}, {"v": 1})])
    return build(load_scenario(toy.write(tmp_path, policy, scen)))


def test_an_unknown_rule_is_an_error_in_both_engines(tmp_path):
    """A name the literal gained before the table did: neither engine guesses what it means."""
    model = _model(tmp_path)
    model.pools[0] = dataclasses.replace(model.pools[0], rationing="no_such_rule")
    apps = sample(model, 0)
    for attempt in (lambda: simpy.run(model, apps), lambda: fast.run(model, apps),
                    lambda: fast.supports(model), lambda: choose_engine(model, "auto")):
        with pytest.raises(EngineError, match="toy.pool: rationing 'no_such_rule' has no rule") as caught:
            attempt()
        assert isinstance(caught.value, SimError)


def test_a_rule_without_a_vectorised_decision_runs_on_the_simpy_engine(tmp_path, monkeypatch):
    model = _model(tmp_path, "pro_rata")
    assert choose_engine(model, "auto")[0] == "fast"
    monkeypatch.setitem(rationing.RULES, "pro_rata", dataclasses.replace(rationing.RULES["pro_rata"], vectorised=None))
    model = _model(tmp_path / "again", "pro_rata")
    engine, why = choose_engine(model, "auto")
    assert engine == "simpy" and "toy.pool: pro_rata rationing has no vectorised decision" in why
    with pytest.raises(OptionError, match="--engine fast: cannot run this scenario"):
        choose_engine(model, "fast")
    # six firms ask 100万 each of 300万 a year: each is paid half
    assert simpy.run(model, sample(model, 0)).granted.tolist() == [500_000] * 12


def test_a_program_under_two_shared_caps_runs_on_the_simpy_engine(tmp_path):
    caps = [{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "100万"},
            {"clause": "y", "quote": "y", "programs": ["b", "c"], "amount": "150万", "period": "once"}]
    policy = toy.policy({k: toy.program("60万") for k in "abc"}, budget=None, firm_caps=caps)
    calls = {k: {"call": {"start": md, "end": md}} for k, md in zip("abc", ("03-01", "04-01", "05-01"))}
    scen = toy.scenario([toy.segment("s", 2, {}, {k: 1 for k in "abc"})], programs=calls)
    model = build(load_scenario(toy.write(tmp_path, policy, scen)))
    assert choose_engine(model, "auto") == ("simpy", "toy.b is under 2 caps shared with other programs; the fast engine takes one a program")
    awards = toy.run(tmp_path, policy, scen)["awards"].filter(pl.col("firm") == 0).sort("date")
    # 2025: a 60万; b the 40万 left of x (100万 a year); c 60万 (y: 100万 of 150万 used)
    # 2026: x starts again: a 60万, b 40万 (y: 140万 used); c the 10万 left of y (once)
    assert [(r["program"], r["granted_yuan"], r["outcome"]) for r in awards.to_dicts()] == [
        ("a", 600_000, "full"), ("b", 400_000, "partial"), ("c", 600_000, "full"),
        ("a", 600_000, "full"), ("b", 400_000, "partial"), ("c", 100_000, "partial")]
