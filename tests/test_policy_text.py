"""Every number in policies/ is checked against the source text it quotes.

Each program, pool, window, stacking rule, firm cap and uplift carries ``quote``: words
from the source document in ``policies/sources/``.  These tests check that the quote is really in the document, and
that every number the entry encodes (amounts, rates, thresholds, tiers, caps, counts,
dates) is written in its quote.  A number typed wrongly, or one invented, fails here.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from sim.policy.attributes import VOCABULARY
from sim.policy.load import load_policy
from sim.policy.models import Policy
from sim.policy.sources import normalise, read_source, source_path

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.yaml"))


def money_forms(yuan: int) -> list[str]:
    forms = [str(yuan)]
    if yuan % 10_000 == 0:
        forms.append(f"{yuan // 10_000}万")
    if yuan % 10_000_000 == 0:
        forms.append(f"{Fraction(yuan, 100_000_000):g}亿" if False else _yi(yuan))
    return forms


def _yi(yuan: int) -> str:
    value = Fraction(yuan, 100_000_000)
    return (f"{value.numerator}" if value.denominator == 1 else f"{float(value):g}") + "亿"


WORDS = {10_000_000_000: ["百亿"], 1_000: ["千"]}


def number_forms(value: float) -> list[str]:
    forms = [f"{value:g}"]
    if float(value).is_integer():
        forms += WORDS.get(int(value), [])
    return forms


def rate_forms(rate: Fraction) -> list[str]:
    forms = [f"{rate.numerator}/{rate.denominator}", f"{float(rate):g}"]
    pct = rate * 100
    forms.append((f"{pct.numerator}" if pct.denominator == 1 else f"{float(pct):g}") + "%")
    permille = rate * 1000
    if permille.denominator == 1:
        forms.append(f"{permille.numerator}‰")
    return forms


def value_forms(attr: str, value) -> list[str]:
    kind = VOCABULARY[attr].kind
    if kind == "money":
        return money_forms(int(value))
    if kind == "share":
        return rate_forms(Fraction(str(value))) + number_forms(value)
    if kind in ("flag", "category"):
        return []
    return number_forms(float(value))


def program_numbers(program) -> list[tuple[str, list[str]]]:
    """(field, acceptable written forms) for every number the program encodes."""
    out: list[tuple[str, list[str]]] = []
    b = program.benefit
    if b.amount is not None:
        out.append(("benefit.amount", money_forms(b.amount)))
    if b.rate is not None:
        out.append(("benefit.rate", rate_forms(b.rate)))
    if b.split is not None:
        out.append(("benefit.split.rate", rate_forms(b.split.rate)))
    if b.bound is not None:
        out.append(("benefit.bound.rate", rate_forms(b.bound.rate)))
    if b.price is not None:
        price = b.price
        forms = rate_forms(price) + (money_forms(int(price)) if price.denominator == 1 else [])
        out.append(("benefit.price", forms))
    for i, tier in enumerate(b.tiers):
        out.append((f"benefit.tiers.{i}.bound", value_forms(b.on, tier.bound)))
        if tier.amount is not None:
            out.append((f"benefit.tiers.{i}.amount", money_forms(tier.amount)))
        if tier.rate is not None:
            out.append((f"benefit.tiers.{i}.rate", rate_forms(tier.rate)))
    if program.cap is not None:
        out.append(("cap.amount", money_forms(program.cap.amount)))
    if program.count_limit is not None:
        out.append(("count_limit.per_year", number_forms(program.count_limit.per_year)))
    if program.max_years is not None:
        out.append(("max_years", number_forms(program.max_years) + ["三"]))
    for i, cond in enumerate(program.eligibility):
        for op in ("ge", "gt", "le", "lt", "eq"):
            value = getattr(cond, op)
            forms = value_forms(cond.attr, value) if value is not None else []
            if forms:
                out.append((f"eligibility.{i}.{op}", forms))
    return out


def date_forms(day) -> list[str]:
    return [f"{day.year}年{day.month}月{day.day}日"]


def quoted_entries(policy: Policy):
    """(where, quote, [(field, forms)]) for every quoted entry of the policy."""
    for pid, prog in policy.programs.items():
        yield f"programs.{pid}", prog.quote, program_numbers(prog)
        if prog.same_year is not None:
            yield f"programs.{pid}.same_year", prog.same_year.quote, []
        if prog.payment is not None:
            yield f"programs.{pid}.payment", prog.payment.quote, []
        if prog.benefit.base_before_start is not None:
            yield f"programs.{pid}.benefit.base_before_start", prog.benefit.base_before_start.quote, []
    for pid, pool in policy.pools.items():
        if not pool.implicit:
            budgets = [pool.budget] if isinstance(pool.budget, int) else list((pool.budget or {}).values())
            yield f"pools.{pid}", pool.quote, [("budget", money_forms(b)) for b in budgets]
    w = policy.effective
    nums = [(f, date_forms(getattr(w, f))) for f in ("start", "end") if getattr(w, f) is not None]
    if w.duration_years:
        nums.append(("duration_years", number_forms(w.duration_years) + ["三"]))
    yield "effective", w.quote, nums
    for i, rule in enumerate(policy.stacking):
        yield f"stacking.{i}", rule.quote, []
        if rule.over is not None:
            yield f"stacking.{i}.over", rule.over.quote, []
    for i, cap in enumerate(policy.firm_caps):
        yield f"firm_caps.{i}", cap.quote, [("amount", money_forms(cap.amount))]
    for i, up in enumerate(policy.uplifts):
        yield f"uplifts.{i}", up.quote, [("rate", rate_forms(up.rate))]


CASES = [
    pytest.param(path, id=path.stem)
    for path in POLICIES
]


@pytest.mark.parametrize("path", CASES)
def test_quotes_are_in_the_source_and_hold_every_number(path: Path) -> None:
    policy = load_policy(path)
    source = read_source(path, policy.source).normal
    missing = []
    for where, quote, numbers in quoted_entries(policy):
        text = normalise(quote)
        if text not in source:
            missing.append(f"{where}: quote not found in {policy.source}: {quote[:40]}…")
            continue
        for field, forms in numbers:
            if not any(f in text for f in forms):
                missing.append(f"{where}.{field}: none of {forms} is in the quote")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", CASES)
def test_programs_cite_a_source_in_the_repository_and_a_clause_printed_in_it(path: Path) -> None:
    """The texts belong to the project: a clone with nothing beside it can check every quote."""
    policy = load_policy(path)
    for cited in [policy.source] + [prog.source for prog in policy.programs.values()]:
        file = source_path(path, cited).resolve()
        assert file.is_file() and file.parent == ROOT / "policies" / "sources", cited
    for pid, prog in policy.programs.items():
        source = read_source(path, prog.source).normal
        label = normalise(prog.clause.split("、")[-1])
        assert label in source, f"{pid}: clause {prog.clause} is not printed in {prog.source}"


def test_all_five_policies_are_encoded() -> None:
    assert {p.stem for p in POLICIES} >= {"ningxia", "yinchuan", "baoding", "anhui", "binjiang"}


def test_a_wrong_number_is_caught(tmp_path: Path) -> None:
    """The check above can fail: a cap typed as 3000万 instead of 2000万 is reported."""
    text = (ROOT / "policies" / "binjiang.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "binjiang.yaml"
    bad.write_text(text.replace("cap: {amount: 2000万, period: year}", "cap: {amount: 3000万, period: year}"), encoding="utf-8")
    policy = load_policy(bad)
    prog = policy.programs["compute_voucher"]
    text = normalise(prog.quote)
    field, forms = next(n for n in program_numbers(prog) if n[0] == "cap.amount")
    assert not any(f in text for f in forms)
