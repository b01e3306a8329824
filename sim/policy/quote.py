"""What one firm is entitled to under one policy: the answer to "what can we claim?".

A firm describes itself with a few attributes.  For each program the quote says whether
the firm qualifies, how much the rule gives before any pool runs short, and which clause
says so.  It tells entitlement from possibility:

- **entitled**: the firm stated everything the program asks (its numbers, its yes/no and
  category conditions) and the program pays whoever qualifies; these add up to the total.
- **possible**: the program needs something the firm did not state: a recognition (经认定,
  入选), a selection in review (评选, 经评审) not named with ``selected``, a yes/no or
  category condition left out (assumed met to compute the amount), or conditions the
  vocabulary cannot state (unless named in ``selected``).  Listed with the amount it would
  give, never summed.

Caps shared by several programs (Baoding 5.: 100万 a unit a year across its vouchers) bind
each entry and the total, and an entry says which cap bound it.  Of programs under a
从优就高不重复 rule only the highest entitled one counts; a possible one is kept only if it
would pay more.  A yes/no or category condition the firm stated and fails, or a tier it
does not reach, makes the program not eligible; a number the firm did not give is listed
as needed, not guessed.

Examples
--------
>>> from sim.policy.load import load_policy
>>> q = quote(load_policy("policies/binjiang.yaml"),
...           parse_firm(["compute_rental=1000万", "domestic_compute_share=1",
...                       "compute_partner_list=yes", "rental_contract_filed=yes"]),
...           selected=["compute_voucher"])
>>> [(e.program, e.entitled_yuan) for e in q.entitled]
[('compute_voucher', 6000000)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from sim.errors import InputError, Problem
from sim.policy.attributes import VOCABULARY, coerce_value
from sim.policy.entitlement import condition_mask, entitlement, raw_amount, uplift_rate
from sim.policy.models import Condition, Policy, Program
from sim.policy.money import format_rate, format_wan

SELECTION_NEED = {
    "recognition": "recognition (经认定/入选)",
    "competitive": "selection (评选/经评审)",
}
UNSTATED = "the clause's conditions (no attribute states them; see its quote)"


@dataclass
class Entry:
    """A program with an amount: what the rule gives this firm, after every cap that binds."""

    program: str
    clause: str
    title: str
    entitled_yuan: int | None = None
    status: Literal["entitled", "possible", "no_amount"] = "entitled"
    needs: list[str] = field(default_factory=list)
    bound_by: list[str] = field(default_factory=list)
    selection: str = ""
    pool: str = ""
    per: str = "year"
    ceiling: bool = False  # the text gives the amount as a ceiling (最高, 不超过)
    note: str = ""


@dataclass
class Excluded:
    program: str
    clause: str
    title: str
    entitled_yuan: int
    reason: str


@dataclass
class Needs:
    program: str
    clause: str
    title: str
    missing: list[str]


@dataclass
class NotEligible:
    program: str
    clause: str
    title: str
    reason: str


@dataclass
class FirmCapNote:
    """A cap over several programs: what the entitled entries ask and what the total counts."""

    clause: str
    programs: list[str]
    cap_yuan: int
    period: str
    asked_yuan: int
    counted_yuan: int


@dataclass
class Quote:
    policy: str
    firm: dict[str, Any]
    selected: list[str] = field(default_factory=list)
    entitled: list[Entry] = field(default_factory=list)
    possible: list[Entry] = field(default_factory=list)
    case_by_case: list[Entry] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    needs: list[Needs] = field(default_factory=list)
    not_eligible: list[NotEligible] = field(default_factory=list)
    firm_caps: list[FirmCapNote] = field(default_factory=list)
    total_yuan: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_firm(pairs: list[str], where: str = "--firm") -> dict[str, Any]:
    """``["revenue=12亿", "pue=1.15"]`` → typed values; one problem per bad pair."""
    firm: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(Problem(where, pair, "must be KEY=VALUE, e.g. --firm revenue=12亿"))
        elif name not in VOCABULARY:
            problems.append(Problem(where, name, f"unknown firm attribute; known: {', '.join(sorted(VOCABULARY))}"))
        else:
            try:
                firm[name] = coerce_value(name, raw.strip())
            except ValueError as exc:
                problems.append(Problem(where, name, str(exc)))
    if problems:
        raise InputError(problems)
    return firm


def quote(policy: Policy, firm: dict[str, Any], *, selected: Iterable[str] = ()) -> Quote:
    """Every program of ``policy`` for one firm: entitled, possible, excluded, or needing data.

    ``selected`` names programs the firm is already recognised, selected or approved for
    (for a clause whose conditions no attribute states, that it meets them).
    Raises :class:`InputError` if one of them is not a program of the policy.
    """
    selected = list(selected)
    unknown = [p for p in selected if p not in policy.programs]
    if unknown:
        raise InputError([Problem("--selected", p, f"is not a program of {policy.id}; its programs are {', '.join(policy.programs)}") for p in unknown])
    result = Quote(policy=policy.id, firm={k: _jsonable(v) for k, v in firm.items()}, selected=selected)
    for pid, program in policy.enabled_programs().items():
        _one(policy, pid, program, firm, set(selected), result)
    _apply_stacking(policy, result)
    _apply_firm_caps(policy, result)
    return result


def _one(policy: Policy, pid: str, program: Program, firm: dict[str, Any], selected: set[str], result: Quote) -> None:
    head = dict(program=pid, clause=program.clause, title=program.title)
    failed = next((c for c in program.eligibility if c.attr in firm and not _meets(c, firm[c.attr])), None)
    if failed is not None:
        reason = f"needs {failed.describe()}; the firm has {failed.attr} = {_jsonable(firm[failed.attr])}"
        result.not_eligible.append(NotEligible(**head, reason=reason))
        return
    values = dict(firm)
    needs: list[str] = []
    missing: list[str] = []
    for cond in (c for c in program.eligibility if c.attr not in firm):
        if VOCABULARY[cond.attr].kind in ("flag", "category"):
            needs.append(f"unstated {cond.describe()}")
            values[cond.attr] = _meeting(cond)  # assumed met, to compute the amount
        else:
            missing.append(cond.attr)
    missing += sorted(a for a in program.benefit.attributes() if a not in firm and a not in missing)
    if program.selection in SELECTION_NEED and pid not in selected:
        needs.append(SELECTION_NEED[program.selection])
    if program.selection == "entitlement" and not program.attributes() and pid not in selected:
        needs.append(UNSTATED)
    notes = _notes(policy, pid, program, firm)
    for up in policy.uplifts:  # an uplift whose condition the firm did not state is not applied
        if up.when.attr not in firm:
            values[up.when.attr] = not up.when.eq if VOCABULARY[up.when.attr].kind == "flag" else ""
    if missing:
        result.needs.append(Needs(**head, missing=missing))
        return
    entry = Entry(**head, status="possible" if needs else "entitled", needs=needs, selection=program.selection,
                  pool=policy.pool_of(pid), per=_per(program), ceiling=program.benefit.upto, note="; ".join(notes))
    if program.benefit.kind == "none":
        entry.status = "no_amount"
        result.case_by_case.append(entry)
        return
    attrs = _arrays(values)
    if program.benefit.kind == "tiers" and raw_amount(program.benefit, attrs, 1)[0] == 0:
        lowest = program.benefit.tiers[0]
        result.not_eligible.append(NotEligible(**head, reason=f"{program.benefit.on} is below the lowest tier ({lowest.bound})"))
        return
    entry.entitled_yuan = int(entitlement(policy, pid, attrs, 1)[0])
    entry.bound_by = _bounds(policy, pid, program, attrs, entry.entitled_yuan)
    (result.entitled if entry.status == "entitled" else result.possible).append(entry)


def _bounds(policy: Policy, pid: str, program: Program, attrs: dict[str, np.ndarray], amount: int) -> list[str]:
    """Which of the program's own ceilings set the amount: a second ceiling (bound), the cap."""
    out = []
    b = program.benefit
    if b.bound is not None and raw_amount(b, attrs, 1)[0] < raw_amount(b.model_copy(update={"bound": None}), attrs, 1)[0]:
        share = f"{b.bound.share} × " if b.bound.share else ""
        out.append(f"{program.clause} at most {format_rate(b.bound.rate)} × {share}{b.bound.base}")
    if program.cap is not None:
        num, den = uplift_rate(policy, pid, attrs, 1)
        cap = _cap_in_force(policy, pid, program, attrs)
        if raw_amount(b, attrs, 1)[0] * num[0] // den[0] > cap:
            out.append(f"{program.clause} cap {format_wan(cap)} a {program.cap.period}")
    return out


def _cap_in_force(policy: Policy, pid: str, program: Program, attrs: dict[str, np.ndarray]) -> int:
    """The program's cap as it applies to this firm (raised by an uplift in force that raises caps)."""
    if not any(u.raises_cap for u in policy.uplifts_for(pid)):
        return program.cap.amount
    num, den = uplift_rate(policy, pid, attrs, 1)
    return int(program.cap.amount * num[0] // den[0])


def _notes(policy: Policy, pid: str, program: Program, firm: dict[str, Any]) -> list[str]:
    """What a reader must know to read the amount: last year's base, a ceiling, an uplift."""
    notes = []
    if program.benefit.base_period == "previous_year":
        notes.append(f"on last year's {program.benefit.base}")
    if program.benefit.upto:
        notes.append("a ceiling (最高)")
    for up in policy.uplifts:
        if not up.reaches(pid) or program.benefit.kind == "none":
            continue
        rate = format_rate(up.rate)
        if up.when.attr not in firm:
            if up.enabled:
                notes.append(f"+{rate} if {up.when.describe()} ({up.clause}; not given)")
        elif not up.enabled and _meets(up.when, firm[up.when.attr]):
            notes.append(f"{up.clause} permits +{rate} (可上浮): not included")
    return notes


def _per(program: Program) -> str:
    if program.cap is not None and program.cap.period != "year":
        return program.cap.period
    return "once" if program.once else "year"


def _meets(cond: Condition, value: Any) -> bool:
    return bool(condition_mask(cond, _arrays({cond.attr: value}))[0])


def _meeting(cond: Condition) -> Any:
    """A value meeting a yes/no or category condition, to compute the amount under the assumption."""
    if cond.eq is not None:
        return cond.eq
    return cond.in_[0]


def _arrays(values: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.array([v]) for k, v in values.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _apply_stacking(policy: Policy, result: Quote) -> None:
    """从优就高不重复: the highest entitled member stays; a possible one only if it pays more."""
    for rule in policy.stacking:
        if rule.rule != "highest_only" or rule.scope != "within" or not rule.programs:
            continue
        order = {p: i for i, p in enumerate(rule.programs)}
        key = lambda e: (e.entitled_yuan or 0, -order[e.program])  # noqa: E731 - ties go to the first listed
        sure = [e for e in result.entitled if e.program in rule.programs]
        maybe = [e for e in result.possible if e.program in rule.programs]
        best = max(sure, key=key) if sure else None
        for entry in sure + maybe:
            if entry is best:
                continue
            if best is not None and key(entry) <= key(best):
                (result.entitled if entry in sure else result.possible).remove(entry)
                result.excluded.append(Excluded(
                    entry.program, entry.clause, entry.title, entry.entitled_yuan or 0,
                    reason=f"{rule.clause} 从优就高不重复: only the highest of {', '.join(rule.programs)} is paid; "
                           f"{best.program} gives {format_wan(best.entitled_yuan)}",
                ))
            else:
                others = [p for p in rule.programs if p != entry.program]
                entry.needs.append(f"instead of {', '.join(others)} ({rule.clause} 不重复)")


def _apply_firm_caps(policy: Policy, result: Quote) -> None:
    """Each entry within every firm cap it falls under; the total counts each cap once."""
    for cap in policy.firm_caps:
        label = f"{cap.clause} firm cap {format_wan(cap.amount)} a {cap.period}"
        for entry in result.entitled + result.possible:
            if entry.program in cap.programs and entry.entitled_yuan > cap.amount:
                entry.entitled_yuan = cap.amount
                entry.bound_by.append(label)
    left = {i: cap.amount for i, cap in enumerate(policy.firm_caps)}
    asked = {i: 0 for i in left}
    total = 0
    for entry in result.entitled:  # claimed in the policy's order, each within what its caps have left
        counted = entry.entitled_yuan
        caps = [i for i, cap in enumerate(policy.firm_caps) if entry.program in cap.programs]
        for i in caps:
            asked[i] += entry.entitled_yuan
            counted = min(counted, left[i])
        for i in caps:
            left[i] -= counted
        total += counted
    result.total_yuan = total
    for i, cap in enumerate(policy.firm_caps):
        if asked[i] or any(e.program in cap.programs for e in result.possible):
            result.firm_caps.append(FirmCapNote(cap.clause, list(cap.programs), cap.amount, cap.period,
                                                asked[i], cap.amount - left[i]))
