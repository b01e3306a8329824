"""Anhui (policies/sources/003_e0d33677190591d6.txt): entitlements computed by hand from the text.

Each expected amount is worked out from the clause it cites, in integer yuan, and
compared with what the library computes from policies/anhui.yaml.  The 皖北 uplift is a
permission (可上浮20%), off as the file ships; switched on, 皖北 projects get +20% (× 6/5,
rounded down), caps included, and the programs that fund no project get nothing more.
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
POLICY = load_policy(ROOT / "policies" / "anhui.yaml")
UPLIFTED = load_policy(ROOT / "policies" / "anhui.yaml", {"uplifts.0.enabled": True})  # a scenario's switch

# A firm outside 皖北 that qualifies for nothing; each case changes what it needs.
BASE = {
    "wanbei": False,
    "compute_pflops": 0.0,
    "city_subsidy": 0,
    "compute_rental": 0,
    "self_built_compute": False,
    "rd_spend": 0,
    "project_investment": 0,
    "new_arrival": False,
    "standards": 0,
}
WB = {"wanbei": True}


def amount(pid: str, firm: dict, policy=UPLIFTED) -> int:
    attrs = {name: np.array([value]) for name, value in {**BASE, **firm}.items()}
    return int(entitlement(policy, pid, attrs, 1)[0])


CASES = [
    # 2﹒ compute spend 1000万 via the platform: 10,000,000 × 20% = 2,000,000 (no cap)
    ("compute_use_subsidy", {"compute_rental": 10000000}, 2000000),
    # 2﹒ self-built, self-used compute is excluded (自建自用除外) → 0
    ("compute_use_subsidy", {"compute_rental": 10000000, "self_built_compute": True}, 0),
    # 2﹒ 皖北: a compute user, not a 项目: not raised → 2,000,000
    ("compute_use_subsidy", {**WB, "compute_rental": 10000000}, 2000000),
    # 5﹒ R&D 1亿: 100,000,000 × 20% = 20,000,000 (cap 5000万 not binding)
    ("key_tech_rd", {"rd_spend": 100000000}, 20000000),
    # 5﹒ R&D 2.5亿: 250,000,000 × 20% = 50,000,000 = the cap exactly
    ("key_tech_rd", {"rd_spend": 250000000}, 50000000),
    # 5﹒ R&D 3亿: 300,000,000 × 20% = 60,000,000 > cap → 50,000,000 (cap binds)
    ("key_tech_rd", {"rd_spend": 300000000}, 50000000),
    # 5﹒ 皖北, R&D 3亿: 60,000,000 × 1.2 = 72,000,000; cap 50,000,000 × 1.2 = 60,000,000 → 60,000,000
    ("key_tech_rd", {**WB, "rd_spend": 300000000}, 60000000),
    # 5﹒ 皖北, R&D 2亿: 40,000,000 × 1.2 = 48,000,000 < raised cap 60,000,000 → 48,000,000
    ("key_tech_rd", {**WB, "rd_spend": 200000000}, 48000000),
    # 6﹒ investment 400万: 4,000,000 × 20% = 800,000 (cap 100万 not binding)
    ("scene_benchmark", {"project_investment": 4000000}, 800000),
    # 6﹒ investment 1000万: 10,000,000 × 20% = 2,000,000 > cap → 1,000,000
    ("scene_benchmark", {"project_investment": 10000000}, 1000000),
    # 6﹒ 皖北, 1000万: 2,000,000 × 1.2 = 2,400,000; cap 1,000,000 × 1.2 = 1,200,000 → 1,200,000
    ("scene_benchmark", {**WB, "project_investment": 10000000}, 1200000),
    # 6﹒ 皖北, 400万: 800,000 × 1.2 = 960,000 < 1,200,000 → 960,000
    ("scene_benchmark", {**WB, "project_investment": 4000000}, 960000),
    # 1﹒ 400P, city paid 3000万: 30,000,000 × 1/3 = 10,000,000 to the city
    ("compute_centre_match", {"compute_pflops": 400.0, "city_subsidy": 30000000}, 10000000),
    # 1﹒ 399P: below 400P以上 → 0
    ("compute_centre_match", {"compute_pflops": 399.0, "city_subsidy": 30000000}, 0),
    # 1﹒ city paid 1000万: 10,000,000 / 3 = 3,333,333.33 → 3,333,333 (rounded down)
    ("compute_centre_match", {"compute_pflops": 400.0, "city_subsidy": 10000000}, 3333333),
    # 1﹒ 皖北, city paid 1000万: 3,333,333 × 6/5 = 3,999,999.6 → 3,999,999
    ("compute_centre_match", {**WB, "compute_pflops": 500.0, "city_subsidy": 10000000}, 3999999),
    # 8﹒ city paid 2000万 to an introduced project: 20,000,000 × 30% = 6,000,000
    ("key_project_match", {"new_arrival": True, "city_subsidy": 20000000}, 6000000),
    # 8﹒ city paid 5000万: 50,000,000 × 30% = 15,000,000 > cap → 10,000,000 (cap binds)
    ("key_project_match", {"new_arrival": True, "city_subsidy": 50000000}, 10000000),
    # 8﹒ 皖北, 5000万: 15,000,000 × 1.2 = 18,000,000; cap 10,000,000 × 1.2 = 12,000,000 → 12,000,000
    ("key_project_match", {**WB, "new_arrival": True, "city_subsidy": 50000000}, 12000000),
    # 8﹒ project not introduced (引进) → 0
    ("key_project_match", {"city_subsidy": 20000000}, 0),
    # 14﹒ two international standards led: 2 × 1,000,000 = 2,000,000
    ("standard_international", {"standards": 2}, 2000000),
    # 14﹒ three national/industry standards led: 3 × 500,000 = 1,500,000
    ("standard_national", {"standards": 3}, 1500000),
    # 14﹒ 皖北, one international standard: paid per standard, not a 项目: not raised → 1,000,000
    ("standard_international", {**WB, "standards": 1}, 1000000),
    # 10﹒ contest winner: 最高3000万 = 30,000,000 (ceiling shown)
    ("contest_award", {}, 30000000),
    # 10﹒ 皖北 winner: 30,000,000 × 1.2 = 36,000,000 (no cap to bind)
    ("contest_award", {**WB}, 36000000),
    # 5﹒ 特别重大项目 一事一议: no formula → 0
    ("key_tech_major", {"rd_spend": 300000000}, 0),
]


@pytest.mark.parametrize("pid, firm, expected", CASES)
def test_entitlement_by_hand(pid: str, firm: dict, expected: int) -> None:
    assert amount(pid, firm) == expected


@pytest.mark.parametrize("pid, firm, raised", [
    ("key_tech_rd", {**WB, "rd_spend": 300000000}, 60000000),
    ("scene_benchmark", {**WB, "project_investment": 4000000}, 960000),
    ("compute_centre_match", {**WB, "compute_pflops": 500.0, "city_subsidy": 10000000}, 3999999),
    ("key_project_match", {**WB, "new_arrival": True, "city_subsidy": 50000000}, 12000000),
    ("contest_award", {**WB}, 36000000),
])
def test_the_wanbei_uplift_is_off_unless_switched_on(pid: str, firm: dict, raised: int) -> None:
    """可上浮: as the file ships a 皖北 project gets what any project gets (raised ÷ 1.2)."""
    plain = amount(pid, {**firm, "wanbei": False}, POLICY)
    assert amount(pid, firm, POLICY) == plain
    assert amount(pid, firm) == raised > plain


def test_policy_validates_with_expected_programs() -> None:
    assert POLICY.id == "anhui" and POLICY.level == "province"
    assert set(POLICY.programs) == {
        "compute_centre_match",  # 1﹒
        "compute_centre_major",  # 1﹒
        "compute_use_subsidy",  # 2﹒
        "data_supplier_city",  # 4﹒
        "data_supplier_province",  # 4﹒
        "key_tech_rd",  # 5﹒
        "key_tech_major",  # 5﹒
        "scene_benchmark",  # 6﹒
        "key_project_match",  # 8﹒
        "contest_award",  # 10﹒
        "talent_team",  # 12﹒
        "standard_international",  # 14﹒
        "standard_national",  # 14﹒
    }
    for pid, prog in POLICY.programs.items():
        assert prog.source == "sources/003_e0d33677190591d6.txt"
        assert "﹒" in prog.clause, pid
        if prog.selection == "case_by_case":
            assert prog.benefit.kind == "none", pid
    assert {p for p, prog in POLICY.programs.items() if prog.instrument == "transfer"} == {
        "compute_centre_match", "data_supplier_province", "key_project_match"}


def test_window_funding_uplift_caps_match_the_text() -> None:
    # 本政策自发布之日起实施,有效期至2025年12月31日 (publication date not in the text)
    w = POLICY.effective
    assert (w.start, w.end, w.duration_years) == (None, dt.date(2025, 12, 31), None)
    # province pays by default; 4﹒ "鼓励各市…给予补贴" is the cities'
    assert POLICY.funding.shares == {"province": Fraction(1)}
    assert POLICY.funding_of("data_supplier_city").shares == {"city": Fraction(1)}
    assert POLICY.funding_of("key_project_match").shares == {"province": Fraction(1)}
    # 对皖北地区符合条件的项目,奖补资金可上浮20%: a permission (可), on projects (项目)
    (up,) = POLICY.uplifts
    assert (up.when.attr, up.when.eq, up.rate, up.raises_cap) == ("wanbei", True, Fraction(1, 5), True)
    assert not up.enabled and POLICY.uplifts_for("key_tech_rd") == ()
    assert set(up.programs) == {"compute_centre_match", "key_tech_rd", "scene_benchmark", "key_project_match", "contest_award"}
    assert UPLIFTED.uplift_attributes("key_tech_rd") == {"wanbei"}
    assert UPLIFTED.uplift_attributes("compute_use_subsidy") == set()
    # no pool is sized and no firm-wide cap is stated
    assert all(pool.implicit for pool in POLICY.pools.values())
    assert POLICY.firm_caps == () and POLICY.stacking == ()
    # 单个项目最高5000万元; 最高100万元; 最高1000万元
    caps = {p: (prog.cap.amount, prog.cap.period) for p, prog in POLICY.programs.items() if prog.cap}
    assert caps == {
        "key_tech_rd": (50000000, "project"),
        "scene_benchmark": (1000000, "project"),
        "key_project_match": (10000000, "project"),
    }
    # 1﹒ 1/3 of the city's subsidy; 8﹒ 30%; 14﹒ 100万 / 50万 per standard
    assert POLICY.programs["compute_centre_match"].benefit.rate == Fraction(1, 3)
    assert POLICY.programs["key_project_match"].benefit.rate == Fraction(3, 10)
    assert POLICY.programs["standard_international"].benefit.price == 1000000
    assert POLICY.programs["standard_national"].benefit.price == 500000


def test_the_shipped_scenario_switches_the_uplift_off_and_may_switch_it_on() -> None:
    from sim.scenario.load import load_scenario

    base = load_scenario(ROOT / "scenarios" / "anhui.yaml")
    assert base.policies["anhui"].uplifts_for("key_tech_rd") == ()
    upper = base.with_overrides({"overrides.anhui.uplifts.0.enabled": True})
    assert [u.rate for u in upper.policies["anhui"].uplifts_for("key_tech_rd")] == [Fraction(1, 5)]
    assert upper.policies["anhui"].uplifts_for("compute_use_subsidy") == ()
    # 14﹒: a lead's one international standard is claimed once, not every year
    assert base.policies["anhui"].programs["standard_international"].one_time
