"""What one firm is entitled to under one policy: the answer to "what can we claim?".

A firm describes itself with a few attributes.  For each program the quote says whether
the firm qualifies, how much the rule gives before any pool runs short, and which clause
says so.  It is honest about what it does not know: a yes/no or category condition the
firm did not mention is assumed met and listed as an assumption; an amount that needs a
number the firm did not give is listed as needing it, not guessed.

Examples
--------
>>> from sim.policy.load import load_policy
>>> q = quote(load_policy("policies/binjiang.yaml"),
...           parse_firm(["compute_rental=1000万", "domestic_compute_share=1"]))
>>> [e.entitled_yuan for e in q.eligible if e.program == "compute_voucher"]
[6000000]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim.errors import InputError, Problem
from sim.policy.attributes import VOCABULARY, coerce_value
from sim.policy.entitlement import condition_mask, entitlement, raw_amount
from sim.policy.models import Condition, Policy, Program

SELECTION_NOTE = {
    "recognition": "if recognised (经认定/入选)",
    "competitive": "if selected in review (评选/经评审)",
}


@dataclass
class Entry:
    program: str
    clause: str
    title: str
    entitled_yuan: int | None = None
    assumed: list[str] = field(default_factory=list)
    selection: str = ""
    pool: str = ""
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
    clause: str
    programs: list[str]
    cap_yuan: int
    period: str
    total_yuan: int


@dataclass
class Quote:
    policy: str
    firm: dict[str, Any]
    eligible: list[Entry] = field(default_factory=list)
    case_by_case: list[Entry] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    needs: list[Needs] = field(default_factory=list)
    not_eligible: list[NotEligible] = field(default_factory=list)
    firm_caps: list[FirmCapNote] = field(default_factory=list)

    @property
    def total_yuan(self) -> int:
        return sum(e.entitled_yuan or 0 for e in self.eligible)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["total_yuan"] = self.total_yuan
        return out


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


def quote(policy: Policy, firm: dict[str, Any]) -> Quote:
    """Every program of ``policy`` for one firm: eligible, excluded by stacking, or needing data."""
    result = Quote(policy=policy.id, firm={k: _jsonable(v) for k, v in firm.items()})
    for pid, program in policy.enabled_programs().items():
        _one(policy, pid, program, firm, result)
    _apply_stacking(policy, result)
    _note_firm_caps(policy, result)
    return result


def _one(policy: Policy, pid: str, program: Program, firm: dict[str, Any], result: Quote) -> None:
    head = dict(program=pid, clause=program.clause, title=program.title)
    values = dict(firm)
    assumed: list[str] = []
    missing: list[str] = []
    for cond in program.eligibility:
        if cond.attr in firm:
            if not condition_mask(cond, _arrays({cond.attr: firm[cond.attr]}))[0]:
                got = firm[cond.attr]
                result.not_eligible.append(NotEligible(**head, reason=f"needs {cond.describe()}; the firm has {cond.attr} = {_jsonable(got)}"))
                return
        elif VOCABULARY[cond.attr].kind in ("flag", "category"):
            assumed.append(f"assumed {cond.describe()}")
            values[cond.attr] = _meeting(cond)
        else:
            missing.append(cond.attr)
    missing += sorted(a for a in program.benefit.attributes() if a not in firm and a not in missing)
    if program.selection in SELECTION_NOTE:
        assumed.append(SELECTION_NOTE[program.selection])
    for up in policy.uplifts:
        if up.when.attr not in firm:
            assumed.append(f"assumes no uplift ({up.clause}: {up.when.describe()} not given)")
            values[up.when.attr] = not up.when.eq if VOCABULARY[up.when.attr].kind == "flag" else ""
    if missing:
        result.needs.append(Needs(**head, missing=missing))
        return
    note = _note(program)
    entry = Entry(**head, assumed=assumed, selection=program.selection, pool=policy.pool_of(pid), note=note)
    if program.benefit.kind == "none":
        result.case_by_case.append(entry)
        return
    attrs = _arrays(values)
    if program.benefit.kind == "tiers" and raw_amount(program.benefit, attrs, 1)[0] == 0:
        lowest = program.benefit.tiers[0]
        result.not_eligible.append(NotEligible(**head, reason=f"{program.benefit.on} is below the lowest tier ({lowest.bound})"))
        return
    entry.entitled_yuan = int(entitlement(policy, pid, attrs, 1)[0])
    result.eligible.append(entry)


def _note(program: Program) -> str:
    parts = []
    if program.benefit.base_period == "previous_year":
        parts.append(f"on last year's {program.benefit.base}")
    if program.benefit.upto:
        parts.append("ceiling (最高)")
    return "; ".join(parts)


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
    """从优就高不重复: of each group the firm qualifies for, only the largest stays."""
    for rule in policy.stacking:
        if rule.rule != "highest_only" or rule.scope != "within" or not rule.programs:
            continue
        members = [e for e in result.eligible if e.program in rule.programs]
        if len(members) < 2:
            continue
        order = {p: i for i, p in enumerate(rule.programs)}
        best = max(members, key=lambda e: (e.entitled_yuan or 0, -order[e.program]))
        for entry in members:
            if entry is best:
                continue
            result.eligible.remove(entry)
            result.excluded.append(Excluded(
                entry.program, entry.clause, entry.title, entry.entitled_yuan or 0,
                reason=f"{rule.clause} 从优就高不重复: only the highest of {', '.join(rule.programs)} is paid; "
                       f"{best.program} gives {best.entitled_yuan} yuan",
            ))


def _note_firm_caps(policy: Policy, result: Quote) -> None:
    for cap in policy.firm_caps:
        total = sum(e.entitled_yuan or 0 for e in result.eligible if e.program in cap.programs)
        if total:
            result.firm_caps.append(FirmCapNote(cap.clause, list(cap.programs), cap.amount, cap.period, total))
