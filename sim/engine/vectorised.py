"""Vectorised decisions: one pool's applications in one budget year, decided over arrays.

The fast engine hands a rationing rule (see :mod:`sim.engine.rationing`) a
:class:`PoolYear`: the applications in the rule's order, what each asks, and what limits
them (the pool's balance, each program's count a year, caps a firm shares across
programs, all-or-nothing).  The rule returns what the ledger (:mod:`sim.engine.ledger`),
deciding one application at a time, would: each grant and outcome, the balance after
each, the day the pool ran dry.

How the arrays stay equal to the ledger.  The ledger checks, in this order, the firm's
shared cap (a firm with no room left is refused, ``firm_cap``, and takes no place), the
program's count, then the pool.  Until the pool binds, every application the caps and
the count let through is paid what it asks, so:

- a shared cap is a running total per firm: with ``U`` what the firm had used before the
  pool-year and ``W`` the sum of what its earlier applications under the cap ask, it has
  used ``min(U + W, cap)`` when the next one comes, which may ask what is left (a
  cumulative sum per firm, in order);
- a count limit pays the first ``limit`` applications of a program that the caps let
  through and refuses the rest;
- the two meet when an application refused on the count leaves cap room to a later one
  of the same firm, which may then take a place: so they are computed again until the
  set refused on the count stops growing (it can only grow; rarely twice);
- the pool pays in order while the running total of grants stays below its balance; the
  application that reaches it gets what is left, or, all-or-nothing, is refused, the pool
  is marked dry and the balance stays for smaller applications.

Past that point nothing is paid any more when the pool is empty: the remaining
applications are refused on the cap, the count or the pool, in the ledger's order.  After
an all-or-nothing refusal, the first application that still fits starts the same
computation again; that is the only loop over applications, one turn per such refusal.
Pro-rata applies caps and counts the same way and then scales every grant down together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.outcomes import (
    COUNT_LIMIT,
    FIRM_CAP,
    FULL,
    PARTIAL,
    POOL_EMPTY,
    RANKED_OUT,
)


@dataclass(frozen=True)
class Cap:
    """A cap several programs share, as it bears on one pool-year's applications."""

    amount: int
    rows: np.ndarray  # positions (in the pool-year's order) of the applications under the cap
    firm: np.ndarray  # the firm of each
    used: np.ndarray  # what that firm had used of the cap before the pool-year
    sorter: np.ndarray  # indices into rows, sorted by firm and then order (stable)
    first: np.ndarray  # for each sorted index, the sorted index of its firm's first application

    @classmethod
    def over(cls, amount: int, rows: np.ndarray, firm: np.ndarray, used: np.ndarray) -> "Cap":
        sorter = np.argsort(firm, kind="stable")
        by_firm = firm[sorter]
        starts = np.concatenate(([True], by_firm[1:] != by_firm[:-1]))
        first = np.maximum.accumulate(np.where(starts, np.arange(len(rows)), 0))
        return cls(amount, rows, firm, used, sorter, first)

    def room(self, spent: np.ndarray) -> np.ndarray:
        """What the cap leaves each of its applications when its turn comes.

        ``spent`` is what each application of the pool-year takes: its grant if decided,
        what it asks if assumed paid (the cap then bounds the running total), else 0.
        """
        taken = spent[self.rows][self.sorter]
        before = np.cumsum(taken) - taken
        before -= before[self.first]  # the firm's earlier applications only
        used = np.empty(len(self.rows), dtype=np.int64)
        used[self.sorter] = before
        return self.amount - np.minimum(self.used + used, self.amount)


@dataclass
class PoolYear:
    """One pool's applications in one budget year, in the order its rule decides them."""

    want: np.ndarray  # int64 yuan each asks (after one-time, top-up and duration rules), > 0
    program: np.ndarray  # program index of each
    day: np.ndarray  # int32 day each is decided
    balance: int | None  # what the pool holds before the first is decided; None: no limit
    limit: np.ndarray | None = None  # its program's count limit a year, -1 for none; None: no limits here
    all_or_nothing: np.ndarray | None = None  # bool: its program pays in full or not at all; None: none here
    caps: tuple[Cap, ...] = ()  # shared caps over some of them

    def __len__(self) -> int:
        return len(self.want)


@dataclass
class Decided:
    """What a rule decided for a pool-year, row for row."""

    granted: np.ndarray  # int64 yuan
    outcome: np.ndarray  # int8 outcome code
    after: np.ndarray  # int64 balance after each decision, -1 for a pool with no limit
    dry_day: int | None  # the day the pool ran dry, if it did


def first_come(py: PoolYear) -> Decided:
    """先到先得 over arrays: :meth:`sim.engine.ledger.Ledger.first_come`, in time order."""
    return _in_order(py, lost_count=COUNT_LIMIT, lost_pool=POOL_EMPTY)


def competitive(py: PoolYear) -> Decided:
    """择优 over arrays: :meth:`sim.engine.ledger.Ledger.competitive`, in rank order."""
    return _in_order(py, lost_count=RANKED_OUT, lost_pool=RANKED_OUT)


def pro_rata(py: PoolYear) -> Decided:
    """按比例 over arrays: :meth:`sim.engine.ledger.Ledger.pro_rata`, in time order."""
    n = len(py)
    asked, full = _admit(py, np.zeros(n, dtype=np.int64), 0, consume=True)
    take = np.where((asked > 0) & ~full, asked, 0)
    total = int(take.sum())
    balance = py.balance
    short = balance is not None and total > balance
    granted = _scaled(take, balance, total) if short else take
    paid = np.where(granted == py.want, FULL, np.where(granted > 0, PARTIAL, POOL_EMPTY))
    outcome = np.where(asked <= 0, FIRM_CAP, np.where(full, COUNT_LIMIT, paid)).astype(np.int8)
    spent = int(granted.sum())
    after = np.full(n, -1 if balance is None else balance - spent, dtype=np.int64)
    dry = short or (balance is not None and spent > 0 and spent == balance)
    return Decided(granted, outcome, after, int(py.day[0]) if dry else None)


def _scaled(take: np.ndarray, balance: int, total: int) -> np.ndarray:
    """Each ask × balance / total, rounded down to the yuan, exactly (Python integers past int64)."""
    if int(take.max()) * balance < 2**63:
        return take * balance // total
    return np.array([a * balance // total for a in take.tolist()], dtype=np.int64)


def _in_order(py: PoolYear, lost_count: int, lost_pool: int) -> Decided:
    """Pay in order while money lasts, as the ledger's ``pay`` does one application at a time.

    ``s`` is the first undecided application.  While the pool holds money, the applications
    from ``s`` are decided as if it had no limit, up to the one whose grant reaches the
    balance (the crossing); after it, or from the start for an empty pool, the pool is
    closed: applications are refused until one still fits (only after an all-or-nothing
    refusal, which leaves money in the pool).
    """
    n = len(py)
    granted = np.zeros(n, dtype=np.int64)
    outcome = np.zeros(n, dtype=np.int8)
    balance, dry = py.balance, None
    s, closed = 0, balance == 0
    while s < n:
        if closed:
            asked, full = _admit(py, granted, s, consume=False)
            reaches = (asked > 0) & ~full  # gets past the cap and the count to the pool
            if balance == 0:
                fits = np.zeros(n - s, dtype=bool)
            elif py.all_or_nothing is None:
                fits = reaches
            else:
                fits = reaches & ((asked <= balance) | ~py.all_or_nothing[s:])
            j = s + _first(fits, n - s)
            outcome[s:j] = np.where(reaches, lost_pool, np.where(asked == 0, FIRM_CAP, lost_count))[:j - s]
            if dry is None and reaches[:j - s].any():
                dry = s + _first(reaches, n - s)
            s, closed = j, False
            continue
        asked, full = _admit(py, granted, s, consume=True)
        take = np.where(full, 0, asked) if full.any() else asked  # a firm its cap stops asks 0
        total = np.cumsum(take)
        k = n if balance is None else s + int(np.searchsorted(total, balance, side="left"))
        end = min(k, n)
        granted[s:end] = take[:end - s]
        outcome[s:end] = _paid_or_stopped(py.want[s:end], asked[:end - s], take[:end - s], lost_count)
        if k == n:
            break
        left = balance - (int(total[k - s - 1]) if k > s else 0)
        ask = int(take[k - s])
        if ask <= left:  # reaches the balance exactly
            granted[k], outcome[k], balance = ask, FULL if ask == py.want[k] else PARTIAL, 0
        elif py.all_or_nothing is not None and py.all_or_nothing[k]:
            outcome[k], balance = lost_pool, left
        else:
            granted[k], outcome[k], balance = left, PARTIAL, 0
        dry = k if dry is None else dry
        s, closed = k + 1, True
    after = np.full(n, -1, dtype=np.int64) if py.balance is None else py.balance - np.cumsum(granted)
    return Decided(granted, outcome, after, None if dry is None else int(py.day[dry]))


def _paid_or_stopped(want: np.ndarray, asked: np.ndarray, take: np.ndarray, lost_count: int) -> np.ndarray:
    """Outcomes before the pool binds: paid in full or in part, or stopped by the cap (asks 0) or the count."""
    out = np.where(take == want, FULL, PARTIAL).astype(np.int8)
    stopped = take == 0
    if stopped.any():
        out[stopped] = np.where(asked[stopped] == 0, FIRM_CAP, lost_count)
    return out


def _first(flags: np.ndarray, none: int) -> int:
    """Index of the first True, or ``none``."""
    i = int(np.argmax(flags)) if len(flags) else 0
    return i if len(flags) and flags[i] else none


def _admit(py: PoolYear, granted: np.ndarray, s: int, consume: bool) -> tuple[np.ndarray, np.ndarray]:
    """Applications ``s``… as if the pool had no limit: what each may ask after its caps, and whether its count is full.

    Those before ``s`` are decided (``granted``).  With ``consume`` each later application
    the caps and the count let through takes what it asks; without, none does (the pool
    is closed).  Returns arrays for ``s``… only.
    """
    want = py.want[s:]
    full = np.zeros(len(want), dtype=bool)
    if not py.caps and py.limit is None:
        return want, full
    while True:
        asked = want
        if py.caps:
            asked = want.copy()
            spent = granted.copy()
            spent[s:] = np.where(full, 0, want) if consume else 0
            for cap in py.caps:
                later = cap.rows >= s
                room = cap.room(spent)[later]
                at = cap.rows[later] - s
                asked[at] = np.minimum(asked[at], room)
        now = _count_full(py, granted, s, asked > 0, consume)
        if not (consume and py.caps) or np.array_equal(now, full):
            return asked, now
        full = now  # refusals on the count left cap room to later applications: again


def _count_full(py: PoolYear, granted: np.ndarray, s: int, live: np.ndarray, consume: bool) -> np.ndarray:
    """Whether each application from ``s`` finds its program's places taken.

    Places are taken by the grants before ``s`` and, with ``consume``, by the earlier
    applications from ``s`` that get past their caps (``live``).
    """
    if py.limit is None:
        return np.zeros(len(live), dtype=bool)
    limit = py.limit[s:]
    limited = (limit >= 0) & live
    program = py.program[s:]
    before = np.bincount(py.program[:s][granted[:s] > 0], minlength=int(py.program.max()) + 1)
    taken = before[program]
    if consume:
        rank = np.zeros(len(limit), dtype=np.int64)
        rank[live] = _cumcount(program[live])
        taken = taken + rank
    return limited & (taken >= limit)


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each key, in the given order."""
    sorter = np.argsort(keys, kind="stable")
    sorted_keys = keys[sorter]
    starts = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))
    first = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    out = np.empty(len(keys), dtype=np.int64)
    out[sorter] = np.arange(len(keys)) - first
    return out
