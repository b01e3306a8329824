"""The SimPy engine: one run of the model on the clock, the reference semantics.

The clock is days since the horizon's start.  On each day things happen in a fixed order,
never in SimPy's scheduling order: budget years open first (pool resets), then
applications in order of firm and program, then the competitive and pro-rata rounds that
close that day.  A single process walks this presorted list of events and yields a
timeout to move the clock between days; the pools decide every grant in
:mod:`sim.engine.ledger`.

Examples
--------
>>> from sim.scenario.load import load_scenario
>>> from sim.scenario.model import build
>>> from sim.engine.population import sample
>>> model = build(load_scenario("scenarios/binjiang.yaml"))
>>> decisions = run(model, sample(model, run=0))
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.engine.decisions import Decisions, new_decisions
from sim.engine.ledger import Ledger
from sim.engine.outcomes import CANDIDATE, SKIPPED
from sim.engine.population import Applications
from sim.scenario.model import Model

RESET, APPLY, REVIEW = 0, 1, 2


def events(model: Model, apps: Applications) -> list[tuple]:
    """Every event of the run, sorted by (day, kind, firm, program): resets, applications, reviews."""
    out: list[tuple] = []
    for pool in model.pools:
        for year in model.years:
            out.append((model.year_start[year], RESET, -1, pool.index, year))
            if pool.rationing != "first_come":
                out.append((pool.review[year], REVIEW, -1, pool.index, year))
    candidates = np.flatnonzero(apps.status == CANDIDATE)
    for i in candidates.tolist():
        out.append((int(apps.day[i]), APPLY, int(apps.firm[i]), int(apps.program[i]), i))
    out.sort(key=lambda e: e[:4])
    return out


def run(model: Model, apps: Applications) -> Decisions:
    """Run the model's pools over one run's applications; return every decision."""
    env = simpy.Environment()
    ledger = Ledger(model)
    decisions = new_decisions(apps)
    rounds: dict[tuple[int, int], list[int]] = {}
    env.process(_walk(env, model, apps, events(model, apps), ledger, decisions, rounds))
    env.run()
    decisions.exhausted_on = dict(ledger.exhausted_on)
    return decisions.settled()


def _walk(env, model, apps, todo, ledger, decisions, rounds):
    for day, kind, _, index, extra in todo:
        if day > env.now:
            yield env.timeout(day - env.now)
        if kind == RESET:
            ledger.reset(index, extra)
        elif kind == APPLY:
            _apply(model, apps, ledger, decisions, rounds, extra)
        else:
            _review(model, apps, ledger, decisions, rounds.pop((index, extra), []), index, extra, day)


def _apply(model, apps, ledger, decisions, rounds, i: int) -> None:
    program = model.programs[apps.program[i]]
    pool = model.pools[program.pool]
    year = int(apps.year[i])
    if pool.rationing != "first_come":
        rounds.setdefault((pool.index, year), []).append(i)
        return
    firm = int(apps.firm[i])
    want = ledger.ask(program, firm, int(apps.entitled[i]))
    if want is None:
        decisions.outcome[i] = SKIPPED
        return
    granted, outcome = ledger.pay(program, firm, year, want, int(apps.day[i]), ranked=False)
    _note(decisions, ledger, i, want, granted, outcome, int(apps.day[i]), program.pool)


def _review(model, apps, ledger, decisions, rows: list[int], pool: int, year: int, day: int) -> None:
    spec = model.pools[pool]
    if spec.rationing == "pro_rata":
        items = [(model.programs[apps.program[i]], int(apps.firm[i]), int(apps.entitled[i]), i)
                 for i in sorted(rows, key=lambda i: (apps.day[i], apps.firm[i], apps.program[i]))]
        decided = {row: rest for row, *rest in ledger.pro_rata(items, pool, year, day)}
        for *_, row in items:
            if row not in decided:
                decisions.outcome[row] = SKIPPED
                continue
            want, granted, outcome = decided[row]
            _note(decisions, ledger, row, want, granted, outcome, day, pool)
        return
    ranked = sorted(rows, key=lambda i: (-apps.score[i], apps.day[i], apps.firm[i], apps.program[i]))
    for i in ranked:
        program = model.programs[apps.program[i]]
        firm = int(apps.firm[i])
        want = ledger.ask(program, firm, int(apps.entitled[i]))
        if want is None:
            decisions.outcome[i] = SKIPPED
            continue
        granted, outcome = ledger.pay(program, firm, year, want, day, ranked=True)
        _note(decisions, ledger, i, want, granted, outcome, day, pool)


def _note(decisions: Decisions, ledger: Ledger, i: int, want: int, granted: int, outcome: int, day: int, pool: int) -> None:
    decisions.asked[i] = want
    decisions.granted[i] = granted
    decisions.outcome[i] = outcome
    decisions.day[i] = day
    balance = ledger.balance[pool]
    decisions.balance[i] = -1 if balance is None else balance
