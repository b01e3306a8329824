"""`sim policies [POLICY]`: the programs of one or all policies, with their clauses."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from sim.cli.output import console
from sim.errors import PolicyError
from sim.policy.load import POLICY_DIR, load_policy, resolve_policy
from sim.policy.models import Policy, Program
from sim.policy.money import format_rate, wan
from sim.report.terminal import show


def policies(
    policy: Annotated[Optional[str], typer.Argument(help="Policy file or id; all of ./policies when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List programs: id, clause, title, pool, cap and allocation rule.

    Example: sim policies binjiang
    """
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
            table.add_row(row["program"], row["clause"], row["title"], row["selection"], row["rule"],
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
        "enabled": program.enabled,
    }
