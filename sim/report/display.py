"""How figures are written for people: 万元, percentages, intervals, short labels.

The terminal, the HTML page and the sweep and sizing tables show the same numbers; one
set of helpers keeps them written the same way everywhere.  A budget needed is rounded
*up* (a budget rounded down to the displayed digit may be the one that runs dry), and
an interval that N runs cannot bound shows ``?`` on that side: more runs are needed.
"""

from __future__ import annotations

import datetime as dt
import math

from sim.policy.money import wan

__all__ = ["wan", "wan_up", "gap", "percent", "interval", "day", "short_pool", "short_paths", "relative_halfwidth"]


def wan_up(yuan: int | float | None, digits: int = 0) -> str:
    """万元 rounded up to ``digits`` decimals: the displayed budget never falls short."""
    if yuan is None:
        return "—"
    scale = 10 ** digits
    return f"{math.ceil(yuan * scale / 10_000 - 1e-9) / scale:,.{digits}f}"


def gap(needed: int | None, budget: int | None) -> str:
    """Budget needed (rounded up to the 万, as shown) minus the budget now; ``—`` without a budget."""
    if needed is None or budget is None:
        return "—"
    diff = int(wan_up(needed).replace(",", "")) * 10_000 - budget
    return f"{'+' if diff > 0 else ''}{wan(diff, 0)}"


def percent(p: float | None, digits: int = 1) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return f"{p * 100:.{digits}f}%"


def interval(lo, hi, fmt=lambda v: wan(v, 0)) -> str:
    """``lo–hi`` with ``?`` for a side N runs cannot bound."""
    def side(v):
        return "?" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt(v)

    return f"{side(lo)}–{side(hi)}"


def day(d: dt.date | None, *, with_year: bool = False) -> str:
    if d is None:
        return "—"
    return d.isoformat() if with_year else d.strftime("%m-%d")


def short_pool(pool: str, single_policy: bool) -> str:
    """``binjiang.compute_vouchers`` → ``compute_vouchers`` when the run has one policy."""
    return pool.split(".", 1)[-1] if single_policy else pool


def relative_halfwidth(estimate: float | None, lo: float | None, hi: float | None) -> float:
    """Largest distance from the estimate to an interval bound, relative to it; inf if unbounded."""
    if estimate is None or lo is None or hi is None or estimate == 0:
        return math.inf if estimate else 0.0
    return max(estimate - lo, hi - estimate) / abs(estimate)


def short_paths(paths: list[str]) -> list[str]:
    """Column headers for swept paths: the last part, or as many parts as make them distinct."""
    for n in range(1, max(p.count(".") + 1 for p in paths) + 1):
        names = [".".join(p.split(".")[-n:]) for p in paths]
        if len(set(names)) == len(names):
            return names
    return paths
