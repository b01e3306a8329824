"""`sim quote`: entitlements and totals computed by hand from the texts in policies/sources/.

Binjiang (004_ef3e153d4278fd14.txt) for amounts clause by clause; Binjiang and Baoding
(002_7a22db738e6b7f78.txt) for what the total may count: only what the firm is entitled to
on what it stated, each firm-wide cap counted once.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.policy.load import load_policy
from sim.policy.quote import parse_firm, quote

BINJIANG = load_policy("policies/binjiang.yaml")
BAODING = load_policy("policies/baoding.yaml")
ANHUI = load_policy("policies/anhui.yaml")


def amount(firm: list[str], program: str) -> int | None:
    """The program's amount, whether entitled, possible or excluded by a stacking rule."""
    q = quote(BINJIANG, parse_firm(firm))
    return next((e.entitled_yuan for e in q.entitled + q.possible + q.excluded if e.program == program), None)


def entry(q, program: str):
    return next(e for e in q.entitled + q.possible if e.program == program)


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


def test_missing_flags_make_a_program_possible_missing_numbers_are_needs():
    q = quote(BINJIANG, parse_firm(["compute_rental=1000万"]))
    need = next(n for n in q.needs if n.program == "compute_voucher")
    assert need.missing == ["domestic_compute_share"]  # a number: needed, not guessed
    q = quote(BINJIANG, parse_firm(["compute_rental=1000万", "domestic_compute_share=0"]))
    voucher = entry(q, "compute_voucher")
    assert voucher.status == "possible" and voucher.entitled_yuan == 3_000_000
    assert voucher.needs == ["unstated compute_partner_list = True", "unstated rental_contract_filed = True",
                             "selection (评选/经评审)"]


def test_issue_9_a_firm_that_gave_only_its_compute_rental_is_entitled_to_nothing_yet():
    """Issue 9: this firm was quoted 24,710万 in all; every amount it sees needs a recognition,
    a selection or a condition it did not state, so the total is 0 and they are listed as possible."""
    q = quote(BINJIANG, parse_firm(["compute_rental=1000万", "domestic_compute_share=1"]))
    assert q.entitled == [] and q.total_yuan == 0
    possible = {e.program: e.entitled_yuan for e in q.possible}
    assert possible["compute_voucher"] == 6_000_000  # 1000万 × 60%, needs 经评审 and two unstated flags
    assert possible["top_talent_project"] == 100_000_000  # 最高1亿, needs recognition
    assert sum(possible.values()) == 247_100_000  # the old "total": all of it possible, none of it entitled


def test_stating_the_conditions_and_the_selection_makes_it_an_entitlement():
    firm = parse_firm(["compute_rental=1000万", "domestic_compute_share=1", "compute_partner_list=yes",
                       "rental_contract_filed=yes", "tech_contracts=100万"])
    q = quote(BINJIANG, firm, selected=["compute_voucher"])
    assert {e.program: e.entitled_yuan for e in q.entitled} == {
        "compute_voucher": 6_000_000,  # 1000万 × 60%, selected
        "innovation_voucher": 300_000,  # 100万 × 30%: paid to whoever qualifies (no review)
    }
    assert q.total_yuan == 6_300_000
    assert entry(q, "compute_voucher").needs == []


def test_stacking_keeps_the_highest_entitled_and_a_possible_one_only_if_it_pays_more():
    # （三）(a) 25% of a 1000万 national grant = 250万, entitled on what was stated; （一） up to
    # 5000万 needs recognition: possible, instead of (三); （三）(b) 50% of 100万 = 50万 needs
    # recognition and pays less than 250万: excluded by 从优从高不重复.
    q = quote(BINJIANG, parse_firm(["higher_grant=1000万", "project_investment=100万", "national_project_lead=yes"]))
    assert [(e.program, e.entitled_yuan) for e in q.entitled] == [("embodied_rd_match", 2_500_000)]
    assert q.total_yuan == 2_500_000
    key = entry(q, "key_tech_rd")
    assert key.status == "possible" and key.entitled_yuan == 50_000_000
    assert "instead of embodied_rd_match, embodied_miit_project (五、（一） 不重复)" in key.needs
    reasons = {x.program: x for x in q.excluded}
    assert reasons["embodied_miit_project"].entitled_yuan == 500_000  # 100万 × 50%
    assert "从优就高不重复" in reasons["embodied_miit_project"].reason and "250万" in reasons["embodied_miit_project"].reason
    # recognised under （一）: it is entitled and the other two are excluded
    q = quote(BINJIANG, parse_firm(["higher_grant=1000万", "project_investment=100万", "national_project_lead=yes"]),
              selected=["key_tech_rd"])
    assert [(e.program, e.entitled_yuan) for e in q.entitled] == [("key_tech_rd", 50_000_000)]
    assert {x.program for x in q.excluded} == {"embodied_rd_match", "embodied_miit_project"}


def test_an_entry_says_which_ceiling_bound_it():
    q = quote(BINJIANG, parse_firm(["loan_interest=90万", "loan_principal=2000万", "lpr=0.031"]))
    assert entry(q, "loan_interest").bound_by == ["（二十一） at most 50% × lpr × loan_principal"]  # 31万 < 45万
    q = quote(BINJIANG, parse_firm(["loan_interest=300万", "loan_principal=1亿", "lpr=0.031"]))
    assert entry(q, "loan_interest").bound_by == ["（二十一） cap 100万 a year"]  # min(150万, 155万) > 100万
    q = quote(BINJIANG, parse_firm(["tech_contracts=100万"]))
    assert entry(q, "innovation_voucher").bound_by == []  # 30万 < 50万


# Baoding 5.: 60% of compute cost for a project lead, 50% on a local platform (the higher
# only), a one-time 50万 on landing; 每个单位每年享受奖励不超过100万元"算力券" across all three.
LEAD = ["new_arrival=yes", "national_project_lead=yes", "local_platform=yes", "compute_rental=300万"]


def test_baoding_firm_cap_binds_each_entry_and_the_total():
    q = quote(BAODING, parse_firm(LEAD), selected=["voucher_national_project"])
    got = {e.program: (e.entitled_yuan, e.bound_by) for e in q.entitled}
    assert got == {
        "voucher_new_arrival": (500_000, []),  # 50万, one-time
        "voucher_national_project": (1_000_000, ["5. firm cap 100万 a year"]),  # 300万 × 60% = 180万 → 100万
    }
    assert q.total_yuan == 1_000_000  # 50万 + 100万 asked, the firm cap counts 100万
    (cap,) = q.firm_caps
    assert (cap.cap_yuan, cap.asked_yuan, cap.counted_yuan) == (1_000_000, 1_500_000, 1_000_000)
    assert [x.program for x in q.excluded] == ["voucher_local_platform"]  # 150万 < 180万: 按照最高标准项实施


def test_baoding_without_the_selection_the_lower_voucher_is_the_entitlement():
    q = quote(BAODING, parse_firm(LEAD))
    got = {e.program: e.entitled_yuan for e in q.entitled}
    assert got == {"voucher_new_arrival": 500_000, "voucher_local_platform": 1_000_000}  # 300万 × 50% = 150万 → 100万
    assert q.total_yuan == 1_000_000
    national = entry(q, "voucher_national_project")
    assert national.status == "possible" and national.entitled_yuan == 1_000_000
    assert national.needs == ["recognition (经认定/入选)", "instead of voucher_local_platform (5. 不重复)"]


@settings(max_examples=100, deadline=None)
@given(rental=st.integers(0, 10**9), new=st.booleans(), lead=st.booleans(), local=st.booleans(), chosen=st.booleans())
def test_baoding_total_never_exceeds_the_firm_cap(rental, new, lead, local, chosen):
    firm = {"compute_rental": rental, "new_arrival": new, "national_project_lead": lead, "local_platform": local}
    q = quote(BAODING, firm, selected=["voucher_national_project"] if chosen else [])
    vouchers = [e for e in q.entitled + q.possible if e.program.startswith("voucher_")]
    assert all(e.entitled_yuan <= 1_000_000 for e in vouchers)
    assert q.total_yuan == min(sum(e.entitled_yuan for e in q.entitled), 1_000_000)  # every entitled program is a voucher here


def test_anhui_uplift_that_is_only_permitted_is_noted_not_added():
    q = quote(ANHUI, parse_firm(["wanbei=yes", "compute_pflops=500", "city_subsidy=1000万"]))
    match = entry(q, "compute_centre_match")
    assert match.entitled_yuan == 3_333_333  # 1000万 / 3, not raised
    assert "末段 permits +20% (可上浮): not included" in match.note
    assert q.total_yuan == 3_333_333


def test_unknown_selected_program_is_named():
    with pytest.raises(InputError) as err:
        quote(BINJIANG, {}, selected=["compute_vocher"])
    assert "--selected: compute_vocher: is not a program of binjiang" in str(err.value)


def test_quote_json_through_the_command_line(cli):
    result = cli("quote", "baoding", *[a for pair in LEAD for a in ("--firm", pair)],
                 "--selected", "voucher_national_project", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["total_yuan"] == 1_000_000
    assert data["selected"] == ["voucher_national_project"]
    national = next(e for e in data["entitled"] if e["program"] == "voucher_national_project")
    assert national["entitled_yuan"] == 1_000_000 and national["bound_by"] == ["5. firm cap 100万 a year"]
    assert data["firm_caps"][0]["counted_yuan"] == 1_000_000
    assert {e["program"] for e in data["possible"]} >= {"demo_scene", "top_ai_firm"}


def test_quote_table_through_the_command_line(cli):
    result = cli("quote", "binjiang", "--firm", "compute_rental=1000万", "--firm", "domestic_compute_share=1")
    assert result.code == 0, result.err
    assert "total entitled: 0.00 万元" in result.out
    assert "possible, not in the total" in result.out and "compute_voucher" in result.out


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


def test_a_clause_whose_conditions_no_attribute_states_is_possible_until_named():
    """Yinchuan 第十三條 协同创新: 给予不超过300萬元 to firms doing joint innovation, which no attribute says."""
    yinchuan = load_policy("policies/yinchuan.yaml")
    q = quote(yinchuan, {})
    assert entry(q, "collaborative_innovation").status == "possible" and q.total_yuan == 0
    q = quote(yinchuan, {}, selected=["collaborative_innovation"])
    assert [(e.program, e.entitled_yuan) for e in q.entitled] == [("collaborative_innovation", 3_000_000)]
