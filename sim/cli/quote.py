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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Quote a firm's entitlements under one policy, before any pool runs short.

    Example: sim quote policies/binjiang.yaml --firm compute_rental=1000万 --firm domestic_compute_share=1
    """
    pol = load_policy(resolve_policy(policy))
    result = make_quote(pol, parse_firm(firm))
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    out = console()
    table = Table(title=f"{pol.id}: programs this firm qualifies for", title_justify="left")
    for col in ("program", "clause", "title", "万元", "assumed / notes"):
        table.add_column(col, overflow="fold")
    for e in result.eligible:
        table.add_row(e.program, e.clause, e.title, wan(e.entitled_yuan), "; ".join(e.assumed + ([e.note] if e.note else [])))
    for e in result.case_by_case:
        label = "一事一议" if e.selection == "case_by_case" else "no amount in text"
        table.add_row(e.program, e.clause, e.title, label, "; ".join(e.assumed))
    show(out, table)
    out.print(f"total of quoted amounts: {wan(result.total_yuan)} 万元")
    for x in result.excluded:
        out.print(f"excluded {x.program} {x.clause} {x.title}: {x.reason}", markup=False)
    for n in result.needs:
        out.print(f"needs {', '.join(n.missing)} for {n.program} {n.clause} {n.title}", markup=False)
    for c in result.firm_caps:
        out.print(f"note: {c.clause} caps {', '.join(c.programs)} together at {wan(c.cap_yuan)} 万元 a {c.period}; quoted {wan(c.total_yuan)}", markup=False)
