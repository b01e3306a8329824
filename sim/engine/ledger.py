"""The ledger: how a pool decides grants, one application at a time — the reference semantics.

Written for clarity rather than speed.  Each rationing rule has its reference decision
here, named in the table of :mod:`sim.engine.rationing`: first-come pays each application
on the day it is made while money lasts; a competitive round pays in rank order at the
review date; a pro-rata round scales every grant down together.  Before the pool, the
ledger applies what the firm's history allows: a one-time award is paid once, one tied
to its year (当年) is claimed in one year only, a top-up pays the difference only on
promotion to a higher grade (once per grade), a program with a duration limit pays for so
many years, and a cap shared by several programs limits what is left to ask.  The checks
come in a fixed order: the shared cap (a firm with no room left is refused and uses no
place), the program's count, then the pool.  It also remembers which program of a 不重复
group paid a firm, and when (:meth:`paid_by_group`).

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

Item = tuple[ProgramSpec, int, int, int, int]  # an application: (program, firm, entitled yuan, row, grade)
Decided = tuple[int, int, int, int, int | None]  # (row, yuan asked, yuan granted, outcome, pool balance after)


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
        self.grade_paid: dict[tuple[int, int], int] = {}  # (firm, program) -> highest grade paid
        self.tried: set[tuple[int, int]] = set()  # (firm, program) decided in some year
        self.group_paid: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)  # (firm, group) -> {year: program}

    def reset(self, pool: int, year: int) -> None:
        """Start a budget year: the pool opens with that year's balance, or carries what it had."""
        openings = self.model.pools[pool].openings()
        if year in openings:
            self.balance[pool] = openings[year]

    def ask(self, program: ProgramSpec, firm: int, entitled: int, grade: int = 0) -> int | None:
        """What the firm asks this time, or None if it does not apply after all.

        补足差额: a top-up asks the difference to what it was paid, and only for a grade
        above the highest it was paid for.  当年: an award tied to its year is not claimed
        again once decided in an earlier year.
        """
        key = (firm, program.index)
        if program.same_year and key in self.tried:
            return None
        if program.top_up:
            if grade <= self.grade_paid.get(key, -1):
                return None
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

    def first_come(self, items: list[Item], pool: int, year: int, day: int) -> list[Decided]:
        """先到先得: pay each application in turn, on the day it is made, while money lasts."""
        return self._in_turn(items, year, day, lost=None)

    def competitive(self, items: list[Item], pool: int, year: int, day: int) -> list[Decided]:
        """择优: at the review, pay in rank order; whoever the money or the count does not reach is ranked out."""
        return self._in_turn(items, year, day, lost=RANKED_OUT)

    def _in_turn(self, items: list[Item], year: int, day: int, lost: int | None) -> list[Decided]:
        out = []
        for program, firm, entitled, row, grade in items:
            want = self.ask(program, firm, entitled, grade)
            if want is not None:
                self.tried.add((firm, program.index))
                granted, outcome = self.pay(program, firm, year, want, day, lost, grade)
                out.append((row, want, granted, outcome, self.balance[program.pool]))
        return out

    def pay(self, program: ProgramSpec, firm: int, year: int, want: int, day: int, lost: int | None = None,
            grade: int = 0) -> tuple[int, int]:
        """Grant up to ``want`` from the program's pool; return (granted, outcome).

        ``lost`` replaces the reason of a refusal on the count or the pool (a ranked round
        says ``ranked_out``).
        """
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
        self.record(program, firm, year, granted, day, grade)
        return granted, FULL if granted == want else PARTIAL

    def record(self, program: ProgramSpec, firm: int, year: int, granted: int, day: int, grade: int = 0) -> None:
        pool = program.pool
        if self.balance[pool] is not None:
            self.balance[pool] -= granted
            if self.balance[pool] == 0:
                self._dry(pool, year, day)
        self.count[(program.index, year)] += 1
        for c in program.firm_caps:
            period = year if self.model.firm_caps[c].period == "year" else 0
            self.cap_used[(c, firm, period)] += granted
        key = (firm, program.index)
        self.paid[key] += granted
        self.years_paid[key] += 1
        self.grade_paid[key] = max(grade, self.grade_paid.get(key, -1))
        if program.group >= 0:
            self.group_paid[(firm, program.group)][year] = program.index

    def paid_by_group(self, program: ProgramSpec, firm: int, year: int) -> bool:
        """Whether another program of the program's 不重复 group paid the firm within the group's span.

        The span is the whole horizon for a group over the policies' life, the budget year
        for a group within a year.
        """
        if program.group < 0:
            return False
        paid = self.group_paid.get((firm, program.group), {})
        if self.model.groups[program.group].period == "year":
            return paid.get(year, program.index) != program.index
        return any(p != program.index for p in paid.values())

    def _dry(self, pool: int, year: int, day: int) -> None:
        self.exhausted_on.setdefault((pool, year), day)

    def pro_rata(self, items: list[Item], pool: int, year: int, day: int) -> list[Decided]:
        """按比例: decide a round in time order; if it asks more than the pool holds, scale every grant down.

        Shared caps and count limits are applied in time order first; if what is left to
        pay exceeds the pool, every grant is scaled by balance / total, rounded down to the
        yuan.  All-or-nothing does not apply: a scaled grant is the point of the rule.
        """
        wants: list[tuple[ProgramSpec, int, int, int, int]] = []
        out: list[tuple[int, int, int, int]] = []  # (row, asked, granted, outcome)
        used: dict[tuple[int, int], int] = defaultdict(int)
        counted: dict[int, int] = defaultdict(int)
        for program, firm, entitled, row, grade in items:
            want = self.ask(program, firm, entitled, grade)
            if want is None:
                continue
            self.tried.add((firm, program.index))
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
            wants.append((program, firm, want, asked, row, grade))
        total = sum(w[3] for w in wants)
        balance = self.balance[pool]
        short = balance is not None and total > balance
        for program, firm, want, asked, row, grade in wants:
            granted = asked * balance // total if short else asked
            if granted > 0:
                self.record(program, firm, year, granted, day, grade)
            outcome = FULL if granted == want else (PARTIAL if granted > 0 else POOL_EMPTY)
            out.append((row, want, granted, outcome))
        if short:
            self._dry(pool, year, day)
        return [(*decided, self.balance[pool]) for decided in out]  # every one sees the balance after the round
