"""`sim quote POLICY --firm KEY=VALUE …`: what one firm is entitled to, clause by clause."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.output import console
from sim.policy.load import load_policy, resolve_policy
from sim.policy.money import wan
from sim.policy.quote import parse_firm
from sim.policy.quote import quote as make_quote
from sim.report.terminal import show


def quote(
    policy: Annotated[str, typer.Argument(help="Policy file or id, e.g. policies/binjiang.yaml or binjiang.")],
    firm: Annotated[list[str], typer.Option("--firm", "-f", help="A firm attribute KEY=VALUE; repeat. Money as 1000万, 1.5亿, 2000.")] = [],
    selected: Annotated[list[str], typer.Option("--selected", "-s", help="A program the firm is already recognised, selected or approved for (经认定, 入选, 评选); repeat.")] = [],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Quote a firm's entitlements under one policy, before any pool runs short.

    The total counts only what the firm is entitled to on what it stated; programs that
    need a recognition, a selection or a condition it did not state are listed as possible.

    Example: sim quote policies/binjiang.yaml --firm compute_rental=1000万 --firm domestic_compute_share=1
    """
    pol = load_policy(resolve_policy(policy))
    result = make_quote(pol, parse_firm(firm), selected=selected)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    out = console()
    if result.entitled:
        show(out, _table(f"{pol.id}: entitled on what the firm stated", result.entitled, "bound by / notes"))
    else:
        out.print(f"{pol.id}: entitled on what the firm stated: nothing yet")
    ceilings = " and ceilings (最高) at their most" if any(e.ceiling for e in result.entitled) else ""
    out.print(f"total entitled: {wan(result.total_yuan)} 万元 (each firm-wide cap counted once{ceilings})")
    if result.possible:
        show(out, _table("possible, not in the total: each needs what it says", result.possible, "needs / bound by / notes"))
        out.print("a program the firm is already recognised, selected or approved for: --selected PROGRAM")
    for e in result.case_by_case:
        label = "一事一议" if e.selection == "case_by_case" else "no amount in the text"
        out.print(f"{label}: {e.program} {e.clause} {e.title}" + (f" (needs {'; '.join(e.needs)})" if e.needs else ""))
    for x in result.excluded:
        out.print(f"excluded {x.program} {x.clause} {x.title}: {x.reason}")
    for n in result.needs:
        out.print(f"needs {', '.join(n.missing)} for {n.program} {n.clause} {n.title}")
    for n in result.not_eligible:
        out.print(f"not eligible {n.program} {n.clause} {n.title}: {n.reason}")
    for c in result.firm_caps:
        out.print(f"note: {c.clause} caps {', '.join(c.programs)} together at {wan(c.cap_yuan)} 万元 a {c.period}; "
                f"the entitled entries ask {wan(c.asked_yuan)}, the total counts {wan(c.counted_yuan)}")


def _table(title: str, entries, last: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("program", "clause", "title", "万元", "per", last):
        table.add_column(col, overflow="fold")
    for e in entries:
        notes = e.needs + e.bound_by + ([e.note] if e.note else [])
        table.add_row(e.program, e.clause, e.title, wan(e.entitled_yuan), e.per, "; ".join(notes))
    return table
