"""Records: runs' decisions summed into the tables a finance department reads.

Per program and budget year: demand (what the applications asked), grants, and how many
were paid in full, in part or refused.  Per pool and year: budget, grants, what is left,
and the day it ran dry.  Per funder and year: each grant split by the program's funding
shares, to the yuan (shares rounded down, the remainder to the last funder named), so
the funders' amounts always add up to the grant.  Optionally every decision, as a ledger.

Rows cover every program, pool and funder in every year, zeros included, so that
quantiles over runs count the runs where nothing happened.  The runs of a sample are
summed together, each application carrying its run, so the work does not grow with the
number of runs in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.outcomes import DECIDED, EXPOSURE, FULL, OUTCOMES, PARTIAL, SKIPPED
from sim.engine.population import Applications, Sample
from sim.engine.simpy import Decisions
from sim.scenario.model import Model

REFUSED = tuple(o for o in DECIDED if o not in (FULL, PARTIAL))


def collect(model: Model, run: int, apps: Applications, decisions: Decisions, *, events: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """One run's tables as columns of numpy arrays (strings as index codes, see storage)."""
    return _tables(model, np.array([run]), np.zeros(len(apps), dtype=np.int64), apps, [decisions], events)


def collect_runs(model: Model, sample: Sample, decisions: list[Decisions], *, events: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """The tables of every run of a sample at once, rows in run order: what :func:`collect` gives run by run.

    ``decisions`` holds each run's decisions, in run order.
    """
    return _tables(model, np.arange(sample.first, sample.last), sample.at, sample.apps, decisions, events)


def _tables(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, decisions: list[Decisions],
            events: bool) -> dict[str, dict[str, np.ndarray]]:
    """Tables of ``runs``: ``at`` is each application's run (an index into ``runs``)."""
    d = decisions[0] if len(decisions) == 1 else _joined(decisions, events)
    decided = _DECIDED[d.outcome + 1]
    programs = _program_years(model, runs, at, apps, d, decided)
    out = {
        "program_years": programs,
        "pool_years": _pool_years(model, runs, programs, [x.exhausted_on for x in decisions]),
        "funder_years": _funder_years(model, runs, at, apps, d, decided, programs),
    }
    if events:
        out["awards"] = _awards(model, runs, at, apps, d)
    return out


@dataclass
class _Joined:
    """The decisions of several runs, one after the other (rows match the sample's applications)."""

    asked: np.ndarray
    granted: np.ndarray
    outcome: np.ndarray
    day: np.ndarray | None  # only the awards need the day and the balance
    balance: np.ndarray | None


def _joined(decisions: list[Decisions], events: bool) -> _Joined:
    fields = ("asked", "granted", "outcome") + (("day", "balance") if events else ())
    joined = {k: np.concatenate([getattr(x, k) for x in decisions]) for k in fields}
    return _Joined(**joined, **({} if events else {"day": None, "balance": None}))


# outcome code + 1 (SKIPPED is -1) → whether the pool decided the application
_DECIDED = np.zeros(len(OUTCOMES) + 1, dtype=bool)
_DECIDED[np.array(DECIDED) + 1] = True


def _sum(cells: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    if weights is None:
        return np.bincount(cells, minlength=size).astype(np.int64)
    # bincount sums in float64; amounts stay far below 2**53 per cell, so the sum is exact
    return np.rint(np.bincount(cells, weights=weights.astype(np.float64), minlength=size)).astype(np.int64)


def _program_years(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined,
                   decided: np.ndarray) -> dict[str, np.ndarray]:
    n_years, n_programs = len(model.years), len(model.programs)
    size = len(runs) * n_programs * n_years
    cells = (at * n_programs + apps.program) * n_years + (apps.year - model.years[0])
    # one count per (cell, outcome) instead of one pass over the applications per column
    codes = len(OUTCOMES) + 1
    counts = np.bincount(cells * codes + (d.outcome + 1), minlength=size * codes).reshape(size, codes)
    every = decided.all()
    cells = cells if every else cells[decided]
    return {
        "run": np.repeat(runs, n_programs * n_years).astype(np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(runs) * n_programs),
        "program_index": np.tile(np.repeat(np.arange(n_programs, dtype=np.int32), n_years), len(runs)),
        "demand_yuan": _sum(cells, d.asked if every else d.asked[decided], size),
        "granted_yuan": _sum(cells, d.granted if every else d.granted[decided], size),
        "applications": counts[:, _MADE].sum(axis=1),
        "full": counts[:, FULL + 1],
        "partial": counts[:, PARTIAL + 1],
        "refused": counts[:, _REFUSED].sum(axis=1),
    }


_MADE = np.array(DECIDED + (EXPOSURE,)) + 1
_REFUSED = np.array(REFUSED) + 1


def _pool_years(model: Model, runs: np.ndarray, program_years: dict[str, np.ndarray],
                exhausted_on: list[dict[tuple[int, int], int]]) -> dict[str, np.ndarray]:
    """Pool totals from the program totals (each program draws on one pool), every run at once."""
    n_runs, n_years, n_pools = len(runs), len(model.years), len(model.pools)
    by_program = program_years["granted_yuan"].reshape(n_runs, len(model.programs), n_years)
    granted = np.zeros((n_runs, n_pools, n_years), dtype=np.int64)
    budget = np.full(granted.shape, -1, dtype=np.int64)
    remaining = np.full(granted.shape, -1, dtype=np.int64)
    exhausted = np.full(granted.shape, -1, dtype=np.int32)
    for pool in model.pools:
        granted[:, pool.index] = by_program[:, list(pool.programs)].sum(axis=1)
        balance = None
        for yi, year in enumerate(model.years):
            if pool.period == "year" or yi == 0:
                balance = pool.budgets[year]
            if balance is not None:
                budget[:, pool.index, yi] = balance
                balance = balance - granted[:, pool.index, yi]
                remaining[:, pool.index, yi] = balance
    for b, days in enumerate(exhausted_on):
        for (pool, year), day in days.items():
            exhausted[b, pool, year - model.years[0]] = day
    return {
        "run": np.repeat(runs, n_pools * n_years).astype(np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), n_runs * n_pools),
        "pool_index": np.tile(np.repeat(np.arange(n_pools, dtype=np.int32), n_years), n_runs),
        "budget_yuan": budget.ravel(),
        "granted_yuan": granted.ravel(),
        "remaining_yuan": remaining.ravel(),
        "exhausted_day": exhausted.ravel(),
    }


class _Lookups:
    """Per-model arrays: funding shares per (program, case) row."""

    def __init__(self, model: Model):
        self.cases = max((len(p.funding) for p in model.programs), default=1)
        rows = len(model.programs) * self.cases
        column = {f: i for i, f in enumerate(model.funders)}
        self.num = np.zeros((rows, len(model.funders)), dtype=np.int64)
        self.den = np.ones((rows, len(model.funders)), dtype=np.int64)
        self.last = np.zeros(rows, dtype=np.int64)
        for spec in model.programs:
            for case, shares in enumerate(spec.funding):
                row = spec.index * self.cases + case
                for funder, share in shares:
                    self.num[row, column[funder]] = share.numerator
                    self.den[row, column[funder]] = share.denominator
                if shares:
                    self.last[row] = column[shares[-1][0]]
        self.single = (self.num == self.den).any(axis=1)  # one funder pays the whole grant
        # the funder paying every grant of a program whatever its case, else -1
        self.sole = np.full(len(model.programs), -1, dtype=np.int64)
        for spec in model.programs:
            rows = spec.index * self.cases + np.arange(len(spec.funding))
            if len(rows) and self.single[rows].all() and (self.last[rows] == self.last[rows[0]]).all():
                self.sole[spec.index] = self.last[rows[0]]


def _lookups(model: Model) -> _Lookups:
    return model.cache.get("records") or model.cache.setdefault("records", _Lookups(model))


def funder_split(model: Model, apps: Applications, granted: np.ndarray) -> np.ndarray:
    """Grants split by funder: an (applications × funders) int64 array whose rows sum to the grant.

    Each funder's share is rounded down to the yuan; the last funder the policy names gets
    what is left, so the parts always add up to the grant.
    """
    return _split(_lookups(model), _rows(model, apps.program, apps.case), granted)


def _rows(model: Model, program: np.ndarray, case: np.ndarray) -> np.ndarray:
    return program.astype(np.int64) * _lookups(model).cases + case


def _split(look: _Lookups, row: np.ndarray, granted: np.ndarray) -> np.ndarray:
    parts = granted[:, None] * look.num[row] // look.den[row]
    n = np.arange(len(granted))
    parts[n, look.last[row]] = 0
    parts[n, look.last[row]] = granted - parts.sum(axis=1)
    return parts


def _funder_years(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined,
                  decided: np.ndarray, program_years: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n_runs, n_years, n_funders = len(runs), len(model.years), len(model.funders)
    look = _lookups(model)
    # a program with one funder for all its grants gives it its whole total
    table = np.zeros((n_runs, n_funders, n_years), dtype=np.int64)
    by_program = program_years["granted_yuan"].reshape(n_runs, len(model.programs), n_years)
    for program in np.flatnonzero(look.sole >= 0):
        table[:, look.sole[program]] += by_program[:, program]
    table = table.ravel()
    if (look.sole >= 0).all():
        paid = np.zeros(0, dtype=np.int64)
    else:  # the others, grant by grant: one funder takes a grant whole; shared grants are split
        paid = np.flatnonzero(decided & (d.granted > 0) & (look.sole[apps.program] < 0))
    if len(paid):
        row = _rows(model, apps.program[paid], apps.case[paid])
        granted = d.granted[paid]
        first = at[paid] * (n_funders * n_years) + (apps.year[paid].astype(np.int64) - model.years[0])  # funder 0's cell
        alone = look.single[row]
        table += _sum(first[alone] + look.last[row[alone]] * n_years, granted[alone], len(table))
        if not alone.all():
            shared = ~alone
            parts = _split(look, row[shared], granted[shared])
            for f in range(n_funders):
                table += _sum(first[shared] + f * n_years, parts[:, f], len(table))
    return {
        "run": np.repeat(runs, n_funders * n_years).astype(np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), n_runs * n_funders),
        "funder_index": np.tile(np.repeat(np.arange(n_funders, dtype=np.int32), n_years), n_runs),
        "granted_yuan": table,
    }


def _awards(model: Model, runs: np.ndarray, at: np.ndarray, apps: Applications, d: Decisions | _Joined) -> dict[str, np.ndarray]:
    """Every decision, sorted by run, day, firm and program."""
    made = np.flatnonzero(d.outcome != SKIPPED)
    idx = made[_order(len(runs), model.year_end[model.years[-1]] + 1, len(model.programs),
                      at[made], d.day[made], apps.firm[made], apps.program[made])]
    return {
        "run": runs[at[idx]].astype(np.int32),
        "day": d.day[idx],
        "firm": apps.firm[idx],
        "program_index": apps.program[idx],
        "entitled_yuan": d.asked[idx],
        "granted_yuan": d.granted[idx],
        "outcome_code": d.outcome[idx],
        "pool_balance_yuan": d.balance[idx],
    }


def _order(runs: int, days: int, programs: int, at: np.ndarray, day: np.ndarray, firm: np.ndarray,
           program: np.ndarray) -> np.ndarray:
    """The order by (run, day, firm, program), keys that never tie: one packed int64 key when it fits."""
    firms = int(firm.max()) + 1 if len(firm) else 1
    if runs * days * firms * programs < 2**62:
        key = ((at * days + day) * firms + firm) * programs + program
        return np.argsort(key)
    return np.lexsort((program, firm, day, at))
