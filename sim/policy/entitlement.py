"""Entitlements: what a program's rule gives a firm before any pool runs short.

One implementation over numpy arrays serves both a single firm (`sim quote`, arrays of
length one) and a whole run's applications at once (the engines), so the quote a user
sees and the amount the simulator asks of a pool cannot disagree.

Amounts are integer yuan.  A rate times an amount is rounded down to the yuan, so a grant
never exceeds what the text allows; with a domestic/non-domestic split the yuan at the
higher rate are counted down and each part is rounded down on its own.

Part years.  An application may be credited only part of its base year (a firm that
arrived on 1 July, a policy in force from 15 September): ``credit`` gives, per firm, the
days counted and the days of the year.  The base a rate or a price is paid on is then
that share of the year's figure, when the base is an annual flow
(:attr:`sim.policy.attributes.Attribute.flow`), rounded down to the yuan (or to the
whole unit), and so is a ``bound`` on such a rule (a yearly rate on a balance).  Tier
thresholds and eligibility conditions keep the annual figure: the text sets them on the
year's revenue, not on the days counted; fixed amounts and caps are not prorated.  So a
part year never gives more than the full year, to the yuan.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from sim.policy.attributes import VOCABULARY
from sim.policy.models import Benefit, Bound, Condition, Policy, Program

Attrs = Mapping[str, np.ndarray]
Credit = tuple[np.ndarray, np.ndarray]  # per firm: days of the base year counted, days in that year


def condition_mask(cond: Condition, attrs: Attrs) -> np.ndarray:
    """Which firms meet one condition."""
    values = attrs[cond.attr]
    ok = np.ones(len(values), dtype=bool)
    if cond.ge is not None:
        ok &= values >= cond.ge
    if cond.gt is not None:
        ok &= values > cond.gt
    if cond.le is not None:
        ok &= values <= cond.le
    if cond.lt is not None:
        ok &= values < cond.lt
    if cond.eq is not None:
        ok &= values == cond.eq
    if cond.in_ is not None:
        ok &= np.isin(values, list(cond.in_))
    return ok


def eligible(program: Program, attrs: Attrs, n: int) -> np.ndarray:
    """Firms meeting every eligibility condition of the program (not yet the benefit's tiers)."""
    ok = np.ones(n, dtype=bool)
    for cond in program.eligibility:
        ok &= condition_mask(cond, attrs)
    return ok


def times(amount: np.ndarray, rate: Fraction) -> np.ndarray:
    """``amount × rate`` rounded down to the yuan, exactly (no float on the way)."""
    amount = np.asarray(amount, dtype=np.int64)
    return (amount * rate.numerator) // rate.denominator


def _units(values: np.ndarray) -> np.ndarray:
    """Whole units of a physical base (kWh, racks): fractions of a unit are not paid."""
    return np.floor(np.asarray(values, dtype=np.float64)).astype(np.int64)


def credited(values: np.ndarray, attr: str, credit: Credit | None) -> np.ndarray:
    """An attribute's values as credited for the days counted: a flow's share of the year, rounded down.

    Money stays integer yuan (``value × days // year``, exact); a quantity (kWh) is scaled
    and left to the rule to round down to whole units.  Stocks and states come back as they are.
    """
    if credit is None or not VOCABULARY[attr].flow:
        return values
    days, year = credit
    if VOCABULARY[attr].kind == "money":
        return np.asarray(values, dtype=np.int64) * days // year
    return np.asarray(values, dtype=np.float64) * days / year


def raw_amount(benefit: Benefit, attrs: Attrs, n: int, credit: Credit | None = None) -> np.ndarray:
    """The rule's amount before the cap; 0 where a tier table is not reached.

    ``credit``: the part of the base year each firm is credited for (see the module's
    docstring); None counts the whole year.
    """
    if benefit.kind == "fixed":
        return np.full(n, benefit.amount, dtype=np.int64)
    if benefit.kind == "none":
        return np.zeros(n, dtype=np.int64)
    if benefit.kind == "per_unit":
        return times(_units(credited(attrs[benefit.base], benefit.base, credit)), benefit.price)
    if benefit.kind == "rate":
        return _rate_of(benefit, attrs, credit)
    return _tiers(benefit, attrs, n, credit)


def _rate_of(benefit: Benefit, attrs: Attrs, credit: Credit | None) -> np.ndarray:
    amount = _split_rate(benefit, attrs, credit)
    if benefit.bound is None:
        return amount
    bound = _bound(benefit.bound, attrs)
    if credit is not None and (VOCABULARY[benefit.base].flow or VOCABULARY[benefit.bound.base].flow):
        # a yearly ceiling on a yearly flow (half the LPR on a loan, for the days counted)
        bound = bound * credit[0] // credit[1]
    return np.minimum(amount, bound)


def _bound(bound: Bound, attrs: Attrs) -> np.ndarray:
    """``rate × share × base`` rounded down: the share's yuan of the base first, then the rate."""
    base = np.asarray(attrs[bound.base], dtype=np.int64)
    if bound.share is not None:
        share = np.clip(np.asarray(attrs[bound.share], dtype=np.float64), 0.0, 1.0)
        base = np.floor(base * share).astype(np.int64)
    return times(base, bound.rate)


def _split_rate(benefit: Benefit, attrs: Attrs, credit: Credit | None) -> np.ndarray:
    base = np.asarray(credited(attrs[benefit.base], benefit.base, credit), dtype=np.int64)
    if benefit.split is None:
        return times(base, benefit.rate)
    share = np.clip(np.asarray(attrs[benefit.split.share], dtype=np.float64), 0.0, 1.0)
    # the yuan of the base at the higher rate are rounded down, so the sum never exceeds the rule
    exact = base * share
    special = np.floor(exact) if benefit.split.rate >= benefit.rate else np.ceil(exact)
    special = np.clip(special.astype(np.int64), 0, base)
    return times(special, benefit.split.rate) + times(base - special, benefit.rate)


def _tiers(benefit: Benefit, attrs: Attrs, n: int, credit: Credit | None) -> np.ndarray:
    values = attrs[benefit.on]  # the threshold is on the year's figure, never prorated
    out = np.zeros(n, dtype=np.int64)
    for tier in benefit.tiers:  # increasing bounds: later tiers overwrite earlier ones
        reached = values >= tier.min if tier.min is not None else values > tier.gt
        if tier.amount is not None:
            amount = np.full(n, tier.amount, dtype=np.int64)
        else:
            amount = times(np.asarray(credited(attrs[benefit.base], benefit.base, credit), dtype=np.int64), tier.rate)
        out = np.where(reached, amount, out)
    return out


def tier_reached(benefit: Benefit, attrs: Attrs, n: int) -> np.ndarray:
    """Index of the highest tier each firm reaches (0 for the first), -1 below every tier.

    A tier table's grade: 补足差额 pays again only when a firm reaches a higher one.
    """
    out = np.full(n, -1, dtype=np.int64)
    if benefit.kind != "tiers":
        return out
    values = attrs[benefit.on]
    for i, tier in enumerate(benefit.tiers):
        reached = values >= tier.min if tier.min is not None else values > tier.gt
        out = np.where(reached, i, out)
    return out


def uplift_rate(policy: Policy, program_id: str, attrs: Attrs, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per firm, the uplift as numerator/denominator arrays (皖北 +20% → 6/5 for the uplifted).

    Only the uplifts in force that reach the program count (:meth:`Policy.uplifts_for`).
    """
    num = np.ones(n, dtype=np.int64)
    den = np.ones(n, dtype=np.int64)
    for up in policy.uplifts_for(program_id):
        hit = condition_mask(up.when, attrs)
        factor = 1 + up.rate
        num = np.where(hit, num * factor.numerator, num)
        den = np.where(hit, den * factor.denominator, den)
    return num, den


def entitlement(policy: Policy, program_id: str, attrs: Attrs, n: int, credit: Credit | None = None) -> np.ndarray:
    """Yuan each firm is entitled to under ``policy.programs[program_id]``: rule, then cap,
    then any uplift in force that reaches the program (0 if not eligible).

    ``credit`` (days counted, days of the year, per firm) prorates the flow a rate or
    price is paid on; eligibility, tier thresholds and the cap read the year's figures.
    """
    program = policy.programs[program_id]
    total = raw_amount(program.benefit, attrs, n, credit)
    cap = program.cap.amount if program.cap else None
    uplifts = policy.uplifts_for(program_id)
    if uplifts:  # without any, the rate is 1/1 and the arithmetic can be skipped
        num, den = uplift_rate(policy, program_id, attrs, n)
        total = (total * num) // den
        if cap is not None and any(u.raises_cap for u in uplifts):
            cap = (np.full(n, cap, dtype=np.int64) * num) // den
    if cap is not None:
        total = np.minimum(total, cap)
    if not program.eligibility:
        return total
    return np.where(eligible(program, attrs, n), total, 0)


def needed_attributes(program: Program) -> set[str]:
    """Attributes a firm must give for the program's amount to be computed."""
    return {a for a in program.attributes() if VOCABULARY[a].kind not in ("flag", "category")}
