"""The policy schema: every bad file gets one clear message naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import PolicyError
from sim.policy.entitlement import entitlement
from sim.policy.load import load_policy, validate_policy

HERE = Path(__file__).parent
INVALID = HERE / "invalid" / "policy"

# file stem: (dotted field, line, words the message must contain)
CASES = {
    "bad_money_wanwan": ("pools.vouchers.budget", 18, "'1万万' is not an amount of money"),
    "bad_money_negative": ("programs.voucher.cap.amount", 31, "'-5万' is not an amount"),
    "bad_money_text": ("pools.vouchers.budget", 18, "'abc' is not an amount"),
    "bad_money_empty": ("pools.vouchers.budget", 18, "'' is not an amount"),
    "bad_rate": ("programs.voucher.benefit.rate", 30, "'thirty' is not a rate"),
    "unknown_attribute": ("programs.voucher.eligibility.0.attr", 29, "unknown firm attribute 'compute_partner'"),
    "unknown_field": ("programs.voucher.instrumnet", 25, "unknown field 'instrumnet'; did you mean 'instrument'?"),
    "missing_clause": ("programs.voucher.clause", 20, "required"),
    "unknown_pool": ("programs.voucher.pool", 27, "names pool 'voucherz'"),
    "bad_selection": ("programs.voucher.selection", 26, "'entitlement', 'recognition', 'competitive' or 'case_by_case'"),
    "rate_without_base": ("programs.voucher.benefit", 30, "needs 'base'"),
    "rate_on_non_money": ("programs.voucher.benefit", 30, "pue is not money"),
    "flag_compared_with_ge": ("programs.voucher.eligibility.0", 29, "compare it with eq"),
    "shares_not_one": ("funding", 11, "add up to 1; they add up to 5/6"),
    "duplicate_key": ("", 26, "duplicate key instrument"),
    "window_reversed": ("effective", 6, "ends (2023-01-01) before it starts"),
    "tiers_out_of_order": ("programs.voucher.benefit", 30, "increasing order"),
    "case_by_case_with_formula": ("programs.voucher", 20, "benefit kind must be none"),
    "bad_yaml": ("", 28, "invalid YAML"),
    "stacking_unknown_program": ("stacking.0.programs", 20, "unknown program 'ghost'"),
    "stacking_without_span": ("stacking.0.over", 21, "says over what span it holds"),
    "share_above_one": ("programs.voucher.eligibility.0", 29, "between 0 and 1"),
    "category_value_unknown": ("programs.voucher.eligibility.0", 29, "must be one of ai, compute"),
    "uplift_unknown_program": ("uplifts.0.programs", 20, "unknown program 'ghost'"),
    "instead_of_unknown": ("programs.voucher_other_reading.instead_of", 42, "names 'vouchers', which is not another program"),
    "bound_on_non_money": ("programs.voucher.benefit.bound", 30, "bound.base must be an amount of money; pue is not"),
    "payment_kind_unknown": ("programs.voucher.payment.kind", 33, "'decision', 'redemption', 'milestone' or 'instalments'"),
}


def test_the_corpus_is_complete():
    assert {p.stem for p in INVALID.glob("*.yaml")} == set(CASES)
    assert len(CASES) >= 15


@pytest.mark.parametrize("stem", sorted(CASES))
def test_bad_policy_gets_its_message(stem):
    field, line, words = CASES[stem]
    with pytest.raises(PolicyError) as err:
        load_policy(INVALID / f"{stem}.yaml")
    problems = err.value.problems  # one root cause, one message (a misspelt field is not also "missing")
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.file.endswith(f"{stem}.yaml")
    assert problem.field == field
    assert problem.line == line
    assert words in problem.message
    assert f"{stem}.yaml:{line}" in str(err.value)


def test_the_base_of_the_corpus_is_valid():
    policy = load_policy(HERE / "invalid" / "base_policy.yaml")
    assert policy.programs["voucher"].cap.amount == 20_000_000


def test_a_file_that_is_not_there():
    with pytest.raises(PolicyError, match="file not found"):
        load_policy(HERE / "nope.yaml")


def test_overrides_reach_the_model_and_are_validated():
    policy = load_policy("policies/binjiang.yaml", {"pools.compute_vouchers.budget": "5000万"})
    assert policy.pools["compute_vouchers"].budget == 50_000_000
    with pytest.raises(PolicyError, match="pools.compute_vouchers.budget"):
        load_policy("policies/binjiang.yaml", {"pools.compute_vouchers.budget": "5000万万"})
    with pytest.raises(PolicyError, match="no field 'pools.nothing'"):
        load_policy("policies/binjiang.yaml", {"pools.nothing.budget": "1万"})


# ---- properties over generated programs -------------------------------------------------

money = st.integers(min_value=0, max_value=10**11)
rates = st.fractions(min_value=0, max_value=1, max_denominator=1000)


def _policy(benefit: dict, cap: int | None) -> dict:
    program = {
        "clause": "x", "source": "s.txt", "title": "t", "quote": "q", "instrument": "subsidy",
        "selection": "entitlement", "benefit": benefit,
    }
    if cap is not None:
        program["cap"] = {"amount": cap, "period": "year"}
    return {
        "id": "gen", "title": "t", "issuer": "i", "level": "city", "source": "s.txt",
        "effective": {"clause": "x", "quote": "q"}, "funding": {"shares": {"city": 1}},
        "programs": {"p": program},
    }


@settings(max_examples=200, deadline=None)
@given(rate=rates, split=rates, base=st.lists(money, min_size=1, max_size=20), cap=st.none() | money,
       share=st.floats(0, 1))
def test_rate_entitlement_never_exceeds_rule_or_cap(rate, split, base, cap, share):
    benefit = {"kind": "rate", "base": "compute_rental", "rate": f"{rate.numerator}/{rate.denominator}",
               "split": {"share": "domestic_compute_share", "rate": f"{split.numerator}/{split.denominator}"}}
    policy = validate_policy(_policy(benefit, cap), "<generated>")
    n = len(base)
    attrs = {"compute_rental": np.array(base, dtype=np.int64), "domestic_compute_share": np.full(n, share)}
    got = entitlement(policy, "p", attrs, n)
    assert got.dtype == np.int64
    assert (got >= 0).all()
    exact = [b * share * float(split) + b * (1 - share) * float(rate) for b in base]
    for g, e in zip(got, exact):
        # never above the exact rule; the rounding (yuan at the higher rate counted down, each
        # part rounded down) loses at most 3 yuan
        assert g <= e + 1e-6 * max(e, 1)
        if cap is not None:
            assert g <= cap
            e = min(e, cap)
        assert g >= e - 3


@settings(max_examples=200, deadline=None)
@given(bounds=st.lists(st.integers(1, 10**10), min_size=1, max_size=5, unique=True),
       amounts=st.lists(money, min_size=5, max_size=5), value=st.integers(0, 2 * 10**10))
def test_tiers_pay_the_highest_tier_reached(bounds, amounts, value):
    bounds = sorted(bounds)
    tiers = [{"min": b, "amount": a} for b, a in zip(bounds, amounts)]
    policy = validate_policy(_policy({"kind": "tiers", "on": "revenue", "tiers": tiers}, None), "<generated>")
    got = entitlement(policy, "p", {"revenue": np.array([value])}, 1)[0]
    reached = [a for b, a in zip(bounds, amounts) if value >= b]
    assert got == (reached[-1] if reached else 0)


def test_split_rounding_never_exceeds_the_rule():
    """20 yuan, 47.5% domestic: 9.5 yuan at 60% and 10.5 at 30% is 8.85 yuan; paid 8, never 9."""
    benefit = {"kind": "rate", "base": "compute_rental", "rate": "30%",
               "split": {"share": "domestic_compute_share", "rate": "60%"}}
    policy = validate_policy(_policy(benefit, None), "<generated>")
    attrs = {"compute_rental": np.array([20]), "domestic_compute_share": np.array([0.475])}
    assert entitlement(policy, "p", attrs, 1)[0] == 8  # 9 × 60% = 5.4 → 5; 11 × 30% = 3.3 → 3


@settings(max_examples=200, deadline=None)
@given(interest=money, principal=money, lpr=st.floats(0, 0.2), cap=st.none() | money)
def test_a_bound_is_a_second_ceiling(interest, principal, lpr, cap):
    """Binjiang （二十一）: at most 50% of the interest paid, at most 50% of the LPR on the loan."""
    benefit = {"kind": "rate", "base": "loan_interest", "rate": "50%",
               "bound": {"rate": "50%", "share": "lpr", "base": "loan_principal"}}
    policy = validate_policy(_policy(benefit, cap), "<generated>")
    attrs = {"loan_interest": np.array([interest]), "loan_principal": np.array([principal]), "lpr": np.array([lpr])}
    got = int(entitlement(policy, "p", attrs, 1)[0])
    ceilings = [interest / 2, principal * lpr / 2] + ([cap] if cap is not None else [])
    assert 0 <= got <= min(ceilings) + 1e-6 * max(min(ceilings), 1)
    assert got >= min(ceilings) - 2  # each ceiling rounded down once or twice


def _two_readings(enabled_other: bool) -> dict:
    data = _policy({"kind": "fixed", "amount": "10万"}, None)
    data["programs"]["q"] = {**data["programs"]["p"], "benefit": {"kind": "fixed", "amount": "20万"},
                             "enabled": enabled_other, "instead_of": "p"}
    return data


def test_another_reading_replaces_the_program_it_names_only_when_switched_on():
    assert list(validate_policy(_two_readings(False), "<generated>").enabled_programs()) == ["p"]
    assert list(validate_policy(_two_readings(True), "<generated>").enabled_programs()) == ["q"]


def test_an_uplift_reaches_only_its_programs_and_only_when_enabled():
    data = _policy({"kind": "fixed", "amount": "10万"}, None)
    data["programs"]["q"] = dict(data["programs"]["p"])
    data["uplifts"] = [{"clause": "x", "quote": "y", "when": {"attr": "wanbei", "eq": True}, "rate": "20%", "programs": ["p"]}]
    attrs = {"wanbei": np.array([True, False])}
    policy = validate_policy(data, "<generated>")
    assert list(entitlement(policy, "p", attrs, 2)) == [120_000, 100_000]  # 10万 × 6/5 in 皖北 only
    assert list(entitlement(policy, "q", attrs, 2)) == [100_000, 100_000]  # not named: not raised
    data["uplifts"][0]["enabled"] = False
    policy = validate_policy(data, "<generated>")
    assert list(entitlement(policy, "p", attrs, 2)) == [100_000, 100_000]
    assert policy.uplift_attributes("p") == set()
