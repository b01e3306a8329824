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

from sim.engine import Decisions
from sim.model import DECIDED, EXPOSURE, FULL, PARTIAL, SKIPPED, Model
from sim.population import Applications

REFUSED = tuple(o for o in DECIDED if o not in (FULL, PARTIAL))


def collect(model: Model, run: int, apps: Applications, decisions: Decisions, *, events: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """The run's tables as columns of numpy arrays (strings as index codes, see storage)."""
    out = {
        "program_years": _program_years(model, run, apps, decisions),
        "pool_years": _pool_years(model, run, apps, decisions),
        "funder_years": _funder_years(model, run, apps, decisions),
    }
    if events:
        out["awards"] = _awards(run, apps, decisions)
    return out


def _cell(model: Model, program: np.ndarray, year: np.ndarray) -> np.ndarray:
    return program.astype(np.int64) * len(model.years) + (year - model.years[0])


def _sum(cells: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    if weights is None:
        return np.bincount(cells, minlength=size).astype(np.int64)
    # bincount sums in float64; amounts stay far below 2**53 per cell, so the sum is exact
    return np.rint(np.bincount(cells, weights=weights.astype(np.float64), minlength=size)).astype(np.int64)


def _program_years(model: Model, run: int, apps: Applications, d: Decisions) -> dict[str, np.ndarray]:
    n_years = len(model.years)
    size = len(model.programs) * n_years
    cells = _cell(model, apps.program, apps.year)
    decided = np.isin(d.outcome, DECIDED)
    made = decided | (d.outcome == EXPOSURE)
    return {
        "run": np.full(size, run, dtype=np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(model.programs)),
        "program_index": np.repeat(np.arange(len(model.programs), dtype=np.int32), n_years),
        "demand_yuan": _sum(cells[decided], d.asked[decided], size),
        "granted_yuan": _sum(cells[decided], d.granted[decided], size),
        "applications": _sum(cells[made], None, size),
        "full": _sum(cells[d.outcome == FULL], None, size),
        "partial": _sum(cells[d.outcome == PARTIAL], None, size),
        "refused": _sum(cells[np.isin(d.outcome, REFUSED)], None, size),
    }


def _pool_years(model: Model, run: int, apps: Applications, d: Decisions) -> dict[str, np.ndarray]:
    n_years = len(model.years)
    pool_of = np.array([p.pool for p in model.programs], dtype=np.int64)
    decided = np.isin(d.outcome, DECIDED)
    cells = pool_of[apps.program[decided]] * n_years + (apps.year[decided] - model.years[0])
    granted = _sum(cells, d.granted[decided], len(model.pools) * n_years)
    budget = np.full(len(granted), -1, dtype=np.int64)
    remaining = np.full(len(granted), -1, dtype=np.int64)
    exhausted = np.full(len(granted), -1, dtype=np.int32)
    for pool in model.pools:
        balance = None
        for yi, year in enumerate(model.years):
            c = pool.index * n_years + yi
            if pool.period == "year" or yi == 0:
                balance = pool.budgets[year]
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


def funder_split(model: Model, apps: Applications, granted: np.ndarray) -> np.ndarray:
    """Grants split by funder: an (applications × funders) int64 array whose rows sum to the grant."""
    out = np.zeros((len(granted), len(model.funders)), dtype=np.int64)
    column = {f: i for i, f in enumerate(model.funders)}
    for spec in model.programs:
        rows = np.flatnonzero((apps.program == spec.index) & (granted > 0))
        if len(rows) == 0:
            continue
        for case, shares in enumerate(spec.funding):
            sel = rows[apps.case[rows] == case] if spec.funding_by else rows
            if len(sel) == 0 or not shares:
                continue
            left = granted[sel].copy()
            for funder, share in shares[:-1]:
                part = granted[sel] * share.numerator // share.denominator
                out[sel, column[funder]] += part
                left -= part
            out[sel, column[shares[-1][0]]] += left
    return out


def _funder_years(model: Model, run: int, apps: Applications, d: Decisions) -> dict[str, np.ndarray]:
    n_years = len(model.years)
    granted = np.where(np.isin(d.outcome, DECIDED), d.granted, 0)
    split = funder_split(model, apps, granted)
    year_index = apps.year - model.years[0]
    table = np.zeros((len(model.funders), n_years), dtype=np.int64)
    for f in range(len(model.funders)):
        table[f] = _sum(year_index, split[:, f], n_years)
    return {
        "run": np.full(table.size, run, dtype=np.int32),
        "year": np.tile(np.array(model.years, dtype=np.int32), len(model.funders)),
        "funder_index": np.repeat(np.arange(len(model.funders), dtype=np.int32), n_years),
        "granted_yuan": table.reshape(-1),
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
