"""Records: one run's decisions summed into the tables a finance department reads.

Per program and budget year: demand (what the applications asked), grants, and how many
were paid in full, in part or refused.  Per pool and year: budget, grants, what is left,
and the day it ran dry.  Per funder and year: each grant split by the program's funding
shares, to the yuan (shares rounded down, the remainder to the last funder named), so
the funders' amounts always add up to the grant.  Optionally every decision, as a ledger.

Rows cover every program, pool and funder in every year, zeros included, so that
quantiles over runs count the runs where nothing happened.
"""

from __future__ import annotations

import numpy as np

from sim.engine.decisions import Decisions
from sim.engine.outcomes import DECIDED, EXPOSURE, FULL, OUTCOMES, PARTIAL, SKIPPED
from sim.engine.population import Applications
from sim.scenario.model import Model

REFUSED = tuple(o for o in DECIDED if o not in (FULL, PARTIAL))


def collect(model: Model, run: int, apps: Applications, decisions: Decisions, *, events: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """The run's tables as columns of numpy arrays (strings as index codes, see storage)."""
    decided = _DECIDED[decisions.outcome + 1]
    programs = _program_years(model, run, apps, decisions, decided)
    out = {
        "program_years": programs,
        "pool_years": _pool_years(model, run, programs, decisions),
        "funder_years": _funder_years(model, run, apps, decisions, decided),
    }
    if events:
        out["awards"] = _awards(run, apps, decisions)
    return out


# outcome code + 1 (SKIPPED is -1) → whether the pool decided the application
_DECIDED = np.zeros(len(OUTCOMES) + 1, dtype=bool)
_DECIDED[np.array(DECIDED) + 1] = True


def _cell(model: Model, program: np.ndarray, year: np.ndarray) -> np.ndarray:
    return program.astype(np.int64) * len(model.years) + (year - model.years[0])


def _sum(cells: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    if weights is None:
        return np.bincount(cells, minlength=size).astype(np.int64)
    # bincount sums in float64; amounts stay far below 2**53 per cell, so the sum is exact
    return np.rint(np.bincount(cells, weights=weights.astype(np.float64), minlength=size)).astype(np.int64)


def _program_years(model: Model, run: int, apps: Applications, d: Decisions, decided: np.ndarray) -> dict[str, np.ndarray]:
    n_years = len(model.years)
    size = len(model.programs) * n_years
    cells = _cell(model, apps.program, apps.year)
    # one count per (cell, outcome) instead of one pass over the applications per column
    codes = len(OUTCOMES) + 1
    counts = np.bincount(cells * codes + (d.outcome + 1), minlength=size * codes).reshape(size, codes)
    return {
        "run": np.full(size, run, dtype=np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(model.programs)),
        "program_index": np.repeat(np.arange(len(model.programs), dtype=np.int32), n_years),
        "demand_yuan": _sum(cells[decided], d.asked[decided], size),
        "granted_yuan": _sum(cells[decided], d.granted[decided], size),
        "applications": counts[:, _MADE].sum(axis=1),
        "full": counts[:, FULL + 1],
        "partial": counts[:, PARTIAL + 1],
        "refused": counts[:, _REFUSED].sum(axis=1),
    }


_MADE = np.array(DECIDED + (EXPOSURE,)) + 1
_REFUSED = np.array(REFUSED) + 1


def _pool_years(model: Model, run: int, program_years: dict[str, np.ndarray], d: Decisions) -> dict[str, np.ndarray]:
    """Pool totals from the program totals (each program draws on one pool)."""
    n_years = len(model.years)
    pool_of = _lookups(model).pool_of
    cells = pool_of[program_years["program_index"]] * n_years + (program_years["year"] - model.years[0])
    granted = np.bincount(cells, weights=program_years["granted_yuan"], minlength=len(model.pools) * n_years)
    granted = np.rint(granted).astype(np.int64)
    budget = np.full(len(granted), -1, dtype=np.int64)
    remaining = np.full(len(granted), -1, dtype=np.int64)
    exhausted = np.full(len(granted), -1, dtype=np.int32)
    for pool in model.pools:
        openings = pool.openings()
        balance = None
        for yi, year in enumerate(model.years):
            c = pool.index * n_years + yi
            if year in openings:
                balance = openings[year]
            if balance is not None:
                budget[c] = balance
                balance -= granted[c]
                remaining[c] = balance
            exhausted[c] = d.exhausted_on.get((pool.index, year), -1)
    return {
        "run": np.full(len(granted), run, dtype=np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(model.pools)),
        "pool_index": np.repeat(np.arange(len(model.pools), dtype=np.int32), n_years),
        "budget_yuan": budget,
        "granted_yuan": granted,
        "remaining_yuan": remaining,
        "exhausted_day": exhausted,
    }


class _Lookups:
    """Per-model arrays: each program's pool, and funding shares per (program, case) row."""

    def __init__(self, model: Model):
        self.pool_of = np.array([p.pool for p in model.programs], dtype=np.int64)
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


def _funder_years(model: Model, run: int, apps: Applications, d: Decisions, decided: np.ndarray) -> dict[str, np.ndarray]:
    n_years = len(model.years)
    look = _lookups(model)
    paid = np.flatnonzero(decided & (d.granted > 0))
    row = _rows(model, apps.program[paid], apps.case[paid])
    granted = d.granted[paid]
    year_index = apps.year[paid].astype(np.int64) - model.years[0]
    size = len(model.funders) * n_years
    # a grant with one funder goes to it whole; only shared grants are split
    alone = look.single[row]
    table = _sum(look.last[row[alone]] * n_years + year_index[alone], granted[alone], size)
    if not alone.all():
        shared = ~alone
        parts = _split(look, row[shared], granted[shared])
        for f in range(len(model.funders)):
            table[f * n_years:(f + 1) * n_years] += _sum(year_index[shared], parts[:, f], n_years)
    return {
        "run": np.full(size, run, dtype=np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(model.funders)),
        "funder_index": np.repeat(np.arange(len(model.funders), dtype=np.int32), n_years),
        "granted_yuan": table,
    }


def _awards(run: int, apps: Applications, d: Decisions) -> dict[str, np.ndarray]:
    made = d.outcome != SKIPPED
    order = np.lexsort((apps.program[made], apps.firm[made], d.day[made]))
    idx = np.flatnonzero(made)[order]
    return {
        "run": np.full(len(idx), run, dtype=np.int32),
        "day": d.day[idx],
        "firm": apps.firm[idx],
        "program_index": apps.program[idx],
        "entitled_yuan": d.asked[idx],
        "granted_yuan": d.granted[idx],
        "outcome_code": d.outcome[idx],
        "pool_balance_yuan": d.balance[idx],
    }
