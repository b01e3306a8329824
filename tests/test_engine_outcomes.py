"""The outcome vocabulary: distinct codes, and an undecided application never counts."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import outcomes
from sim.engine.decisions import new_decisions
from sim.engine.population import sample
from sim.runs.records import collect
from sim.scenario.load import load_scenario
from sim.scenario.model import build
from tests import toy

CODES = ("CANDIDATE", "FULL", "PARTIAL", "POOL_EMPTY", "FIRM_CAP", "COUNT_LIMIT", "RANKED_OUT",
         "OUT_OF_WINDOW", "STACKED", "EXPOSURE")


def test_every_outcome_has_its_own_code_and_name():
    codes = [getattr(outcomes, name) for name in CODES]
    assert len(set(codes)) == len(codes)
    assert outcomes.SKIPPED not in codes
    assert [outcomes.OUTCOMES[c] for c in codes] == [name.lower() for name in CODES]
    assert outcomes.CANDIDATE not in outcomes.DECIDED


def _model(tmp_path):
    policy = toy.policy({"v": toy.program("10万")}, budget="100万")
    scen = toy.scenario([toy.segment("s", 20, {}, {"v": 1})])
    return build(load_scenario(toy.write(tmp_path, policy, scen)))


def test_an_undecided_application_is_never_counted_as_paid(tmp_path):
    """Records of a run no engine touched: every row a candidate, even with yuan in granted."""
    model = _model(tmp_path)
    apps = sample(model, 0)
    d = new_decisions(apps)
    assert len(apps) > 0 and (d.outcome == outcomes.CANDIDATE).all()
    d.granted[:] = 100_000  # what an engine that forgot to set the outcome might leave
    tables = collect(model, 0, apps, d)
    programs = tables["program_years"]
    for column in ("applications", "full", "partial", "refused", "demand_yuan", "granted_yuan"):
        assert (programs[column] == 0).all(), column
    assert (tables["pool_years"]["granted_yuan"] == 0).all()
    assert (tables["funder_years"]["granted_yuan"] == 0).all()


def test_an_engine_that_leaves_a_candidate_fails(tmp_path):
    model = _model(tmp_path)
    d = new_decisions(sample(model, 0))
    d.outcome[:] = outcomes.FULL
    assert d.settled() is d
    d.outcome[3] = outcomes.CANDIDATE
    with pytest.raises(RuntimeError, match="1 application"):
        d.settled()


def test_both_engines_decide_every_candidate(tmp_path):
    from sim.engine import fast, simpy

    model = _model(tmp_path)
    apps = sample(model, 0)
    for engine in (simpy.run, fast.run):
        assert not np.isin(engine(model, apps).outcome, [outcomes.CANDIDATE]).any()
