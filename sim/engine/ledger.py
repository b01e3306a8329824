"""Allocation: how a pool decides grants, one application at a time.

This is the reference semantics, written for clarity rather than speed.  A pool pays what
an application asks while money lasts (first-come), or gathers a round of applications
and pays them in rank order (competitive) or scaled down together (pro-rata).  Before the
pool, the ledger applies what the firm's history allows: a one-time award is paid once,
a top-up pays only the difference to a higher tier, a program with a duration limit pays
for so many years, and a cap shared by several programs limits what is left to ask.

SimPy's ``Container`` is not used for pools on purpose: its ``get`` serves requests in
order and an over-budget request silently blocks every one behind it.  Here the pool
decides each grant in its own code, never goes below zero, and says why it refused.
"""

from __future__ import annotations

from collections import defaultdict

from sim.engine.outcomes import (
    COUNT_LIMIT,
    FIRM_CAP,
    FULL,
    PARTIAL,
    POOL_EMPTY,
    RANKED_OUT,
)
from sim.scenario.model import Model, ProgramSpec


class Ledger:
    """Balances, counts and each firm's history in one run."""

    def __init__(self, model: Model):
        self.model = model
        self.balance: list[int | None] = [None] * len(model.pools)
        self.exhausted_on: dict[tuple[int, int], int] = {}
        self.count: dict[tuple[int, int], int] = defaultdict(int)
        self.cap_used: dict[tuple[int, int, int], int] = defaultdict(int)
        self.paid: dict[tuple[int, int], int] = defaultdict(int)
        self.years_paid: dict[tuple[int, int], int] = defaultdict(int)

    def reset(self, pool: int, year: int) -> None:
        """Start a budget year: the pool opens with that year's balance, or carries what it had."""
        openings = self.model.pools[pool].openings()
        if year in openings:
            self.balance[pool] = openings[year]

    def ask(self, program: ProgramSpec, firm: int, entitled: int) -> int | None:
        """What the firm asks this time, or None if it does not apply after all."""
        key = (firm, program.index)
        if program.top_up:
            want = entitled - self.paid[key]
            return want if want > 0 else None
        if program.one_time and self.paid[key] > 0:
            return None
        if program.max_years and self.years_paid[key] >= program.max_years:
            return None
        return entitled

    def cap_room(self, program: ProgramSpec, firm: int, year: int) -> int | None:
        """What the firm's shared caps still allow it this year (None: no shared cap)."""
        room = None
        for c in program.firm_caps:
            cap = self.model.firm_caps[c]
            used = self.cap_used[(c, firm, year if cap.period == "year" else 0)]
            left = max(cap.amount - used, 0)
            room = left if room is None else min(room, left)
        return room

    def pay(self, program: ProgramSpec, firm: int, year: int, want: int, day: int, ranked: bool) -> tuple[int, int]:
        """Grant up to ``want`` from the program's pool; return (granted, outcome)."""
        lost = RANKED_OUT if ranked else None
        room = self.cap_room(program, firm, year)
        asked = want if room is None else min(want, room)
        if asked <= 0:
            return 0, FIRM_CAP
        if program.count_limit is not None and self.count[(program.index, year)] >= program.count_limit:
            return 0, lost or COUNT_LIMIT
        pool = program.pool
        balance = self.balance[pool]
        if balance is None:
            granted = asked
        elif balance == 0:
            self._dry(pool, year, day)  # a pool empty from the start (a zero budget) is dry too
            return 0, lost or POOL_EMPTY
        elif asked <= balance:
            granted = asked
        elif program.program.all_or_nothing:
            self._dry(pool, year, day)
            return 0, lost or POOL_EMPTY
        else:
            granted = balance
        self.record(program, firm, year, granted, day)
        return granted, FULL if granted == want else PARTIAL

    def record(self, program: ProgramSpec, firm: int, year: int, granted: int, day: int) -> None:
        pool = program.pool
        if self.balance[pool] is not None:
            self.balance[pool] -= granted
            if self.balance[pool] == 0:
                self._dry(pool, year, day)
        self.count[(program.index, year)] += 1
        for c in program.firm_caps:
            period = year if self.model.firm_caps[c].period == "year" else 0
            self.cap_used[(c, firm, period)] += granted
        self.paid[(firm, program.index)] += granted
        self.years_paid[(firm, program.index)] += 1

    def _dry(self, pool: int, year: int, day: int) -> None:
        self.exhausted_on.setdefault((pool, year), day)

    def pro_rata(self, items: list[tuple[ProgramSpec, int, int, int]], pool: int, year: int, day: int) -> list[tuple[int, int, int, int]]:
        """Decide a pro-rata round: ``items`` are (program, firm, entitled, row) in time order.

        Returns (row, asked, granted, outcome) for every application that was made.  Shared caps
        and count limits are applied in time order first; if what is left to pay exceeds
        the pool, every grant is scaled by balance / total, rounded down to the yuan.
        """
        wants: list[tuple[ProgramSpec, int, int, int, int]] = []
        out: list[tuple[int, int, int, int]] = []
        used: dict[tuple[int, int], int] = defaultdict(int)
        counted: dict[int, int] = defaultdict(int)
        for program, firm, entitled, row in items:
            want = self.ask(program, firm, entitled)
            if want is None:
                continue
            asked = want
            for c in program.firm_caps:
                cap = self.model.firm_caps[c]
                period = year if cap.period == "year" else 0
                left = max(cap.amount - self.cap_used[(c, firm, period)] - used[(c, firm)], 0)
                asked = min(asked, left)
            if asked <= 0:
                out.append((row, want, 0, FIRM_CAP))
                continue
            limit = program.count_limit
            if limit is not None and self.count[(program.index, year)] + counted[program.index] >= limit:
                out.append((row, want, 0, COUNT_LIMIT))
                continue
            counted[program.index] += 1
            for c in program.firm_caps:
                used[(c, firm)] += asked
            wants.append((program, firm, want, asked, row))
        total = sum(w[3] for w in wants)
        balance = self.balance[pool]
        short = balance is not None and total > balance
        for program, firm, want, asked, row in wants:
            granted = asked * balance // total if short else asked
            if granted > 0:
                self.record(program, firm, year, granted, day)
            outcome = FULL if granted == want else (PARTIAL if granted > 0 else POOL_EMPTY)
            out.append((row, want, granted, outcome))
        if short:
            self._dry(pool, year, day)
        return out
