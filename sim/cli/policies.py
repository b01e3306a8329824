"""`sim policies [POLICY [PROGRAM]]`: the programs of one or all policies, with their clauses.

Given a program, it shows everything the policy file says about it (rule, conditions,
cap, pool, the rules between programs that name it) and the paragraph of the source text
that holds its quote, so a reader checks a number against the sentence it comes from.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from sim.cli.output import console
from sim.errors import PolicyError
from sim.policy.load import POLICY_DIR, load_policy, resolve_policy
from sim.policy.models import Policy, Program
from sim.policy.money import format_rate, wan
from sim.policy.sources import read_source, source_path
from sim.report.terminal import show


def policies(
    policy: Annotated[Optional[str], typer.Argument(help="Policy file or id; all of ./policies when omitted.")] = None,
    program: Annotated[Optional[str], typer.Argument(help="A program id of that policy: show it with its clause's text.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List programs: id, clause, title, pool, cap and allocation rule; or one program with its text.

    Example: sim policies binjiang

    One program, with the paragraph of the source text its quote stands in:
    sim policies binjiang compute_voucher
    """
    if program is not None:
        show_program(resolve_policy(policy), program, as_json)
        return
    paths = [resolve_policy(policy)] if policy else sorted(POLICY_DIR.glob("*.yaml"))
    if not paths:
        raise PolicyError.one(str(POLICY_DIR), "", "no policy files found; run from the project folder or name a file")
    loaded = [load_policy(p) for p in paths]
    rows = [program_row(pol, pid, prog) for pol in loaded for pid, prog in pol.programs.items()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    out = console()
    for pol in loaded:
        table = Table(title=f"{pol.id} — {pol.title} ({pol.source})", title_justify="left")
        for col in ("program", "clause", "title", "selection", "rule", "cap 万元", "pool", "pool 万元/yr", "allocation"):
            table.add_column(col, overflow="fold")
        for row in (r for r in rows if r["policy"] == pol.id):
            table.add_row(row["program"] + ("" if row["enabled"] else " (off)"), row["clause"], row["title"], row["selection"], row["rule"],
                          wan(row["cap_yuan"], 0) if row["cap_yuan"] is not None else "—",
                          row["pool"], wan(row["pool_budget_yuan"], 0) if row["pool_budget_yuan"] is not None else "no limit",
                          f"{row['allocation']} ({row['allocation_basis']})")
        show(out, table)


def describe_rule(program: Program) -> str:
    """A one-line summary of the benefit, as a reader of the text would say it."""
    b = program.benefit
    if b.kind == "fixed":
        return ("≤ " if b.upto else "") + f"{wan(b.amount, 0)}万"
    if b.kind == "rate":
        text = f"{format_rate(b.rate)} × {b.base}"
        if b.split:
            text += f" ({format_rate(b.split.rate)} on {b.split.share})"
        if b.bound:
            share = f"{b.bound.share} × " if b.bound.share else ""
            text += f", at most {format_rate(b.bound.rate)} × {share}{b.bound.base}"
        return ("≤ " if b.upto else "") + text + (" (last year)" if b.base_period == "previous_year" else "")
    if b.kind == "per_unit":
        return f"{float(b.price):g} yuan × {b.base}"
    if b.kind == "tiers":
        return f"tiers on {b.on} ({len(b.tiers)})"
    return "no formula"


def program_row(policy: Policy, pid: str, program: Program) -> dict[str, Any]:
    pool_id = policy.pool_of(pid)
    pool = policy.pools[pool_id]
    budget = pool.budget if not isinstance(pool.budget, dict) else None
    return {
        "policy": policy.id,
        "program": pid,
        "clause": program.clause,
        "title": program.title,
        "source": program.source,
        "instrument": program.instrument,
        "selection": program.selection,
        "rule": describe_rule(program),
        "cap_yuan": program.cap.amount if program.cap else None,
        "cap_period": program.cap.period if program.cap else None,
        "pool": pool_id,
        "pool_budget_yuan": budget,
        "pool_period": pool.period,
        "allocation": pool.rationing,
        "allocation_basis": pool.rationing_basis,
        "paid_on": program.pays_on,
        "enabled": pid in policy.enabled_programs(),
        "instead_of": program.instead_of,
    }


def show_program(path, pid: str, as_json: bool) -> None:
    pol = load_policy(path)
    if pid not in pol.programs:
        raise PolicyError.one(str(path), "programs", f"has no program {pid!r}; its programs are {', '.join(pol.programs)}")
    detail = program_detail(path, pol, pid)
    if as_json:
        print(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    out = console()
    prog = pol.programs[pid]
    out.print(Text.assemble((f"{pol.id}.{pid}", "bold"), f"  {prog.clause} {prog.title}"))
    cap = f"{wan(detail['cap_yuan'], 0)}万 a {detail['cap_period']}" if detail["cap_yuan"] is not None else "—"
    budget = f"{wan(detail['pool_budget_yuan'], 0)}万 a {detail['pool_period']}" if detail["pool_budget_yuan"] is not None else "no limit"
    for label, value in [
        ("rule", detail["rule"]), ("conditions", "; ".join(detail["eligibility"]) or "—"),
        ("selection", detail["selection"]), ("instrument", detail["instrument"]), ("cap", cap),
        ("pool", f"{detail['pool']} ({budget}, {detail['allocation']}, {detail['allocation_basis']})"),
        ("paid", PAID[detail["paid_on"]]),
        ("in force", "yes" if detail["enabled"] else "no: " + _why_off(pol, pid)),
    ]:
        out.print(f"  {label:<14}{value}")
    if detail["note"]:
        out.print(f"  {'note':<14}{detail['note']}")
    for rule in detail["rules"]:
        out.print(f"  {rule['kind']:<14}{rule['clause']} {rule['quote']}")
        if rule["note"]:
            out.print(f"  {'':<14}{rule['note']}")
    out.print(f"\n{detail['source_file']}:")
    text = detail["source_text"]
    if text is None:
        out.print(f"  the quote is not in the text: {prog.quote}")
    else:
        line = Text(text["before"])
        line.append(text["quote"], style="bold underline")
        line.append(text["after"])
        out.print(line)


PAID = {"decision": "at the decision", "redemption": "when the voucher is redeemed (lag and lapse: the scenario's)",
        "milestone": "after a milestone such as completion (time to it: the scenario's)",
        "instalments": "in yearly instalments (shares: the scenario's)"}


def _why_off(policy: Policy, pid: str) -> str:
    prog = policy.programs[pid]
    if not prog.enabled:
        other = f", instead of {prog.instead_of}" if prog.instead_of else ""
        return f"off unless a scenario switches it on (overrides {policy.id}.programs.{pid}.enabled{other})"
    by = next(k for k, p in policy.programs.items() if p.enabled and p.instead_of == pid)
    return f"replaced by the other reading {by}"


def program_detail(path, policy: Policy, pid: str) -> dict[str, Any]:
    """Everything the policy says about one program, and its quote's paragraph in the source."""
    prog = policy.programs[pid]
    passage = read_source(path, prog.source).passage(prog.quote)
    return {
        **program_row(policy, pid, prog),
        "eligibility": [c.describe() for c in prog.eligibility],
        "quote": prog.quote,
        "note": prog.note,
        "rules": rules_naming(policy, pid),
        "source_file": str(source_path(path, prog.source)),
        "source_text": dict(zip(("before", "quote", "after"), passage)) if passage else None,
    }


def rules_naming(policy: Policy, pid: str) -> list[dict[str, Any]]:
    """The program's payment rule, and the stacking rules, firm caps and uplifts of the policy that reach it."""
    out = []
    payment = policy.programs[pid].payment
    if payment is not None:
        out.append({"kind": "payment", "clause": payment.clause, "quote": payment.quote, "note": payment.note})
    for rule in policy.stacking:
        if pid in rule.programs or (not rule.programs and rule.rule == "stackable"):
            out.append({"kind": rule.rule, "clause": rule.clause, "quote": rule.quote, "note": rule.note})
    for cap in policy.firm_caps:
        if pid in cap.programs:
            out.append({"kind": "firm_cap", "clause": cap.clause, "quote": cap.quote, "note": cap.note})
    for up in policy.uplifts:
        if up.reaches(pid):
            kind = "uplift" if up.enabled else "uplift (off)"
            out.append({"kind": kind, "clause": up.clause, "quote": up.quote, "note": up.note})
    return out
