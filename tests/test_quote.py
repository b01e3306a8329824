"""`sim quote`: Binjiang's entitlements, computed by hand from the text (policies/sources/004_ef3e153d4278fd14.txt)."""

from __future__ import annotations

import pytest

from sim.errors import InputError
from sim.policy.load import load_policy
from sim.policy.quote import parse_firm, quote

BINJIANG = load_policy("policies/binjiang.yaml")


def amount(firm: list[str], program: str) -> int | None:
    """The program's entitlement, whether paid or excluded by a stacking rule."""
    q = quote(BINJIANG, parse_firm(firm))
    return next((e.entitled_yuan for e in q.eligible + q.excluded if e.program == program), None)


CASES = [
    # （六） 30% non-domestic, 60% domestic, of last year's rental, cap 2000万 a year
    (["compute_rental=1000万", "domestic_compute_share=0"], "compute_voucher", 3_000_000),  # 1000万×30%
    (["compute_rental=1000万", "domestic_compute_share=1"], "compute_voucher", 6_000_000),  # 1000万×60%
    (["compute_rental=1000万", "domestic_compute_share=0.25"], "compute_voucher", 3_750_000),  # 250万×60% + 750万×30%
    (["compute_rental=3333万", "domestic_compute_share=1"], "compute_voucher", 19_998_000),  # 3333万×60%, under the cap
    (["compute_rental=3334万", "domestic_compute_share=1"], "compute_voucher", 20_000_000),  # 2000.4万 → cap 2000万
    (["compute_rental=1亿", "domestic_compute_share=0"], "compute_voucher", 20_000_000),  # 3000万 → cap 2000万
    (["compute_rental=1000万", "domestic_compute_share=1", "compute_partner_list=no"], "compute_voucher", None),  # not on the partner list
    # （七） 30% of corpus bought, cap 200万
    (["corpus_purchases=500万"], "corpus_voucher", 1_500_000),  # 500万×30%
    (["corpus_purchases=1000万"], "corpus_voucher", 2_000_000),  # 300万 → cap 200万
    # （九） 30% of registered tech contracts, cap 50万 a year
    (["tech_contracts=100万"], "innovation_voucher", 300_000),  # 100万×30%
    (["tech_contracts=200万"], "innovation_voucher", 500_000),  # 60万 → cap 50万
    (["tech_contracts=166.6667万"], "innovation_voucher", 500_000),  # 500000.1 → 500000, the cap exactly
    # （十） 30% of project investment, cap 250万
    (["project_investment=800万"], "benchmark_demo_project", 2_400_000),  # 800万×30%
    (["project_investment=1000万"], "benchmark_demo_project", 2_500_000),  # 300万 → cap 250万
    # （十九） 70% of premiums, cap 100万 a year
    (["insurance_premiums=100万"], "cyber_insurance", 700_000),
    (["insurance_premiums=200万"], "cyber_insurance", 1_000_000),  # 140万 → cap 100万
    # （五） per standard
    (["standards=2"], "standard_international_lead", 2_000_000),  # 2 × 100万
    (["standards=3"], "standard_national", 600_000),  # 3 × 20万
    # （二十） 50% of event costs, cap 100万 per event
    (["event_costs=150万"], "event_subsidy", 750_000),
    (["event_costs=300万"], "event_subsidy", 1_000_000),
    # （二十一） at most 50% of the LPR on the loan, at most 50% of the interest, cap 100万 a year
    (["loan_interest=300万", "loan_principal=1亿", "lpr=0.031"], "loan_interest", 1_000_000),  # min(150万, 155万) → cap 100万
    (["loan_interest=90万", "loan_principal=2000万", "lpr=0.031"], "loan_interest", 310_000),  # 4.5% loan: 2000万 × 3.1% × 50% = 31万 < 45万
    (["loan_interest=50万", "loan_principal=2000万", "lpr=0.031"], "loan_interest", 250_000),  # 2.5% loan: 50万 × 50% = 25万 < 31万
    (["loan_interest=90万", "loan_principal=2000万"], "loan_interest", None),  # the LPR is not in the text: needed
    # （三） 25% of the grant actually received is a fixed share; 最高 bounds the 500万 cap
    (["higher_grant=1000万", "national_project_lead=yes"], "embodied_rd_match", 2_500_000),
    (["higher_grant=3000万", "national_project_lead=yes"], "embodied_rd_match", 5_000_000),  # 750万 → cap 500万
]


@pytest.mark.parametrize("firm,program,expected", CASES)
def test_binjiang_entitlements_from_the_text(firm, program, expected):
    assert amount(firm, program) == expected


def test_missing_flags_are_assumptions_missing_numbers_are_needs():
    q = quote(BINJIANG, parse_firm(["compute_rental=1000万"]))
    assert "compute_voucher" in [n.program for n in q.needs]  # domestic_compute_share is a number
    need = next(n for n in q.needs if n.program == "compute_voucher")
    assert need.missing == ["domestic_compute_share"]
    q = quote(BINJIANG, parse_firm(["compute_rental=1000万", "domestic_compute_share=0"]))
    entry = next(e for e in q.eligible if e.program == "compute_voucher")
    assert "assumed compute_partner_list = True" in entry.assumed
    assert "assumed rental_contract_filed = True" in entry.assumed


def test_stacking_keeps_only_the_highest():
    # （一） up to 5000万 vs （三） 25% of the national grant, cap 500万: 从优从高不重复 keeps （一）
    q = quote(BINJIANG, parse_firm(["higher_grant=1000万", "project_investment=100万", "national_project_lead=yes"]))
    kept = {e.program for e in q.eligible}
    assert "key_tech_rd" in kept
    assert {"embodied_rd_match", "embodied_miit_project"}.isdisjoint(kept)
    reasons = {x.program: x for x in q.excluded}
    assert reasons["embodied_rd_match"].entitled_yuan == 2_500_000  # 1000万 × 25%
    assert reasons["embodied_miit_project"].entitled_yuan == 500_000  # 100万 × 50%
    assert "从优就高不重复" in reasons["embodied_rd_match"].reason


def test_case_by_case_is_listed_without_an_amount():
    q = quote(BINJIANG, parse_firm(["filed_model=yes"]))
    assert "model_filing_match" in [e.program for e in q.case_by_case]
    assert all(e.entitled_yuan is None for e in q.case_by_case)


def test_bad_values_are_named():
    with pytest.raises(InputError) as err:
        parse_firm(["revenue=万万", "nonsense=1", "pue", "domestic_compute_share=2"])
    text = str(err.value)
    assert "revenue" in text and "'万万'" in text
    assert "nonsense: unknown firm attribute" in text
    assert "pue: must be KEY=VALUE" in text
    assert "between 0 and 1" in text
    assert len(err.value.problems) == 4
