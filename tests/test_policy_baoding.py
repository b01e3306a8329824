"""Baoding (policies/sources/002_7a22db738e6b7f78.txt): entitlements computed by hand from the text.

Each expected amount is worked out from the clause it cites, in integer yuan, and
compared with what the library computes from policies/baoding.yaml.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from sim.policy.entitlement import entitlement
from sim.policy.load import load_policy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(ROOT / "policies" / "baoding.yaml")

# A firm that qualifies for nothing; each case changes what it needs.
BASE = {
    "compute_pflops": 0.0,
    "racks": 0,
    "computing_share": 0.0,
    "pue": 2.0,
    "new_arrival": False,
    "national_project_lead": False,
    "local_platform": False,
    "compute_rental": 0,
    "headquarters": False,
}

# A centre meeting every condition of 2. (大于70%, 不低于1000架, 低于1.25).
DC = {"computing_share": 0.75, "racks": 1000, "pue": 1.2}


def attrs_of(firm: dict) -> dict[str, np.ndarray]:
    return {name: np.array([value]) for name, value in {**BASE, **firm}.items()}


def amount(pid: str, firm: dict) -> int:
    return int(entitlement(POLICY, pid, attrs_of(firm), 1)[0])


CASES = [
    # 2. 数据中心改造: 1000 racks × 1000元 = 1,000,000 = the 100万 one-time cap exactly
    ("dc_upgrade", {**DC}, 1000000),
    # 2. 999 racks: below 不低于1000架 → not eligible
    ("dc_upgrade", {**DC, "racks": 999}, 0),
    # 2. PUE 1.25 is not 低于1.25 → not eligible
    ("dc_upgrade", {**DC, "pue": 1.25}, 0),
    # 2. PUE 1.24 < 1.25, 1000 racks: 1000 × 1000 = 1,000,000
    ("dc_upgrade", {**DC, "pue": 1.24}, 1000000),
    # 2. computing share exactly 70% is not 大于70% → not eligible
    ("dc_upgrade", {**DC, "computing_share": 0.7}, 0),
    # 2. share 71%: eligible; 1000 × 1000 = 1,000,000
    ("dc_upgrade", {**DC, "computing_share": 0.71}, 1000000),
    # 2. 2500 racks: 2500 × 1000 = 2,500,000 > cap → 总额最高100万 = 1,000,000 (cap binds)
    ("dc_upgrade", {**DC, "racks": 2500}, 1000000),
    # 5. 落户算力券: a newly settled AI firm gets a one-time 50万 = 500,000
    ("voucher_new_arrival", {"new_arrival": True}, 500000),
    # 5. not newly settled → 0
    ("voucher_new_arrival", {"new_arrival": False}, 0),
    # 5. project lead, 算力成本 100万: 1,000,000 × 60% = 600,000
    ("voucher_national_project", {"national_project_lead": True, "compute_rental": 1000000}, 600000),
    # 5. project lead, 300万: 3,000,000 × 60% = 1,800,000 (program amount; the 100万 firm cap is applied across programs)
    ("voucher_national_project", {"national_project_lead": True, "compute_rental": 3000000}, 1800000),
    # 5. not a project lead → 0
    ("voucher_national_project", {"compute_rental": 1000000}, 0),
    # 5. local platform, 150万 of fees: 1,500,000 × 50% = 750,000
    ("voucher_local_platform", {"local_platform": True, "compute_rental": 1500000}, 750000),
    # 5. local platform, 1,234,567 × 50% = 617,283.5 → rounded down to 617,283
    ("voucher_local_platform", {"local_platform": True, "compute_rental": 1234567}, 617283),
    # 5. not using a local platform → 0
    ("voucher_local_platform", {"compute_rental": 1500000}, 0),
    # 6. 示范应用场景: 最高100万元 = 1,000,000 (ceiling shown)
    ("demo_scene", {}, 1000000),
    # 9. 优秀人工智能企业: 最高50万元 = 500,000
    ("top_ai_firm", {}, 500000),
    # 9. 优质产品: 每个30万元 = 300,000
    ("quality_product", {}, 300000),
    # 1. 100P以上 → 一事一议: no formula, 0
    ("compute_centre_100p", {"compute_pflops": 100.0}, 0),
]


@pytest.mark.parametrize("pid, firm, expected", CASES)
def test_entitlement_by_hand(pid: str, firm: dict, expected: int) -> None:
    assert amount(pid, firm) == expected


def test_two_vouchers_highest_only_then_firm_cap() -> None:
    """5.: the 60% and 50% vouchers are not both paid; all 算力券 ≤ 100万 a unit a year."""
    firm = {"new_arrival": True, "national_project_lead": True, "local_platform": True, "compute_rental": 1000000}
    national = amount("voucher_national_project", firm)  # 1,000,000 × 60% = 600,000
    local = amount("voucher_local_platform", firm)  # 1,000,000 × 50% = 500,000
    arrival = amount("voucher_new_arrival", firm)  # 500,000
    assert (national, local, arrival) == (600000, 500000, 500000)
    rule = POLICY.stacking[0]
    assert rule.rule == "highest_only" and set(rule.programs) == {"voucher_national_project", "voucher_local_platform"}
    assert rule.over.period == "year"  # 每个单位每年: the choice is made each year
    assert POLICY.programs["voucher_new_arrival"].same_year is not None  # 当年给予
    kept = max(national, local)  # 按照最高标准项实施: 600,000
    cap = POLICY.firm_caps[0]
    total = min(kept + arrival, cap.amount)  # 600,000 + 500,000 = 1,100,000 > 1,000,000
    assert total == 1000000


def test_policy_validates_with_expected_programs() -> None:
    assert POLICY.id == "baoding" and POLICY.level == "city"
    assert set(POLICY.programs) == {
        "compute_centre_100p",  # 1.
        "dc_upgrade",  # 2.
        "network_project",  # 3.
        "voucher_new_arrival",  # 5.
        "voucher_national_project",  # 5.
        "voucher_local_platform",  # 5.
        "demo_scene",  # 6.
        "hq_leader",  # 8.
        "top_ai_firm",  # 9.
        "quality_product",  # 9.
        "retrofit_benchmark",  # 10.
        "scene_lab",  # 10.
        "landmark_rent_relief",  # 11.
        "event_hosting",  # 15.
    }
    for pid, prog in POLICY.programs.items():
        assert prog.source == "sources/002_7a22db738e6b7f78.txt"
        if prog.selection == "case_by_case":
            assert prog.benefit.kind == "none", pid
    assert {p for p, prog in POLICY.programs.items() if prog.selection == "case_by_case"} == {
        "compute_centre_100p", "network_project", "hq_leader"}


def test_pool_window_funding_caps_match_the_text() -> None:
    # 5. 每年投放总额不超过1000万元的"算力券"
    pool = POLICY.pools["compute_vouchers"]
    assert (pool.budget, pool.period, pool.rationing, pool.rationing_basis) == (10000000, "year", "first_come", "default")
    assert {p for p, prog in POLICY.programs.items() if prog.pool == "compute_vouchers"} == {
        "voucher_new_arrival", "voucher_national_project", "voucher_local_platform"}
    # 本措施自2024年1月25日起施行,有效期3年
    w = POLICY.effective
    assert (w.start, w.end, w.duration_years) == (dt.date(2024, 1, 25), None, 3)
    assert w.last_day == dt.date(2027, 1, 24)
    # 省直管县 county alone; 市管区 city and district 50% each; others 按财政体制 (not given)
    f = POLICY.funding
    assert f.by == "baoding_area"
    assert f.cases == {
        "city_district": {"city": Fraction(1, 2), "district": Fraction(1, 2)},
        "direct_county": {"county": Fraction(1)},
        "county": None,
    }
    # 每个单位每年享受奖励不超过100万元"算力券"
    (cap,) = POLICY.firm_caps
    assert (cap.amount, cap.period) == (1000000, "year")
    assert set(cap.programs) == {"voucher_new_arrival", "voucher_national_project", "voucher_local_platform"}
    # 2. 总额最高100万元的一次性改造补贴, 每个机架最高1000元
    dc = POLICY.programs["dc_upgrade"]
    assert (dc.cap.amount, dc.cap.period, dc.benefit.price) == (1000000, "once", 1000)
    # 从优、就高、不重复 with other Baoding policies
    assert [(s.rule, s.scope) for s in POLICY.stacking] == [("highest_only", "within"), ("highest_only", "other_policies")]
    assert POLICY.uplifts == ()


def test_county_rent_relief_is_listed_with_no_amount_and_no_city_cost() -> None:
    """11. 鼓励各县(市、区)、开发区…制定房租减免等相关支持政策: a paying clause, not the city's money."""
    prog = POLICY.programs["landmark_rent_relief"]
    assert prog.clause == "11." and prog.benefit.kind == "none"
    funding = POLICY.funding_of("landmark_rent_relief")
    assert all("city" not in (shares or {}) for shares in funding.cases.values())
    assert set(funding.cases) == {"city_district", "direct_county", "county"}
