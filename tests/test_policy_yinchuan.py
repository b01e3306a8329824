"""Yinchuan 打造"算力之都" 促进人工智能产业发展的若干政策 (seed 001): entitlements by hand.

Each case gives a firm, the program it applies to and the yuan the text entitles it to,
with the arithmetic in the comment.  Amounts go through the library (`entitlement`), so
the numbers a user sees in `sim quote` are the ones checked here.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from sim.policy.load import load_policy
from tests import toy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(ROOT / "policies" / "yinchuan.yaml")

WAN = 10_000
YI = 100_000_000


def pay(program_id: str, **values) -> int:
    return toy.entitled(POLICY, program_id, **values)


# 第三條 industrial project: new, compute or manufacturing, 300万元/畝(含) intensity.
PLANT = dict(new_arrival=True, sector="manufacturing", investment_intensity=300 * WAN)
# 第三條 service project: new software / compute / AI service project.
SERVICE = dict(new_arrival=True, sector="software")
# 第四條 new AI or compute firm.
NEW = dict(new_arrival=True)
# 第四條 new headquarters firm.
HQ = dict(new_arrival=True, headquarters=True)
# 第九條 model at the thresholds: 不低于百億 parameters, 不少于5個 scenarios (both inclusive).
MODEL = dict(model_parameters=10_000_000_000.0, model_scenarios=5)

CASES = [
    # 第三條 industrial: ≥5億(含) and ≥300萬/畝(含) → 2%, 最高不超過5000萬
    pytest.param("industrial_project", dict(PLANT, fixed_asset_investment=5 * YI),
                 10_000_000, id="plant-at-5yi"),  # 500000000 × 2% = 10000000
    pytest.param("industrial_project", dict(PLANT, fixed_asset_investment=5 * YI - 1),
                 0, id="plant-just-below-5yi"),  # 499999999 < 5億: 0
    pytest.param("industrial_project", dict(PLANT, investment_intensity=300 * WAN - 1, fixed_asset_investment=10 * YI),
                 0, id="plant-intensity-below"),  # 2999999 元/畝 < 300萬: 0
    pytest.param("industrial_project", dict(PLANT, fixed_asset_investment=25 * YI),
                 50_000_000, id="plant-at-cap"),  # 2500000000 × 2% = 50000000 = cap
    pytest.param("industrial_project", dict(PLANT, fixed_asset_investment=40 * YI),
                 50_000_000, id="plant-capped"),  # 80000000 > 5000萬 → 50000000
    pytest.param("industrial_project", dict(PLANT, new_arrival=False, fixed_asset_investment=10 * YI),
                 0, id="plant-not-new"),  # not 新引進: 0
    pytest.param("industrial_project_major", dict(PLANT, fixed_asset_investment=30 * YI),
                 0, id="plant-30yi-case-by-case"),  # 一事一議: no formula → 0
    # 第三條 service: ≥3億(含) → 1%, 最高不超過1000萬
    pytest.param("service_project", dict(SERVICE, fixed_asset_investment=3 * YI),
                 3_000_000, id="service-at-3yi"),  # 300000000 × 1% = 3000000
    pytest.param("service_project", dict(SERVICE, fixed_asset_investment=3 * YI - 1),
                 0, id="service-just-below-3yi"),  # 299999999 < 3億: 0
    pytest.param("service_project", dict(SERVICE, fixed_asset_investment=20 * YI),
                 10_000_000, id="service-capped"),  # 20000000 > 1000萬 → 10000000
    pytest.param("service_project", dict(SERVICE, sector="manufacturing", fixed_asset_investment=5 * YI),
                 0, id="service-not-service"),  # manufacturing is not a service project: 0
    # 第四條 revenue tiers 10億/30億(含)/50億(含) → 300萬/500萬/1000萬 (ceilings, one-time)
    pytest.param("revenue_scale_award", dict(NEW, revenue=10 * YI - 1),
                 0, id="revenue-below-10yi"),  # under 10億: no tier
    pytest.param("revenue_scale_award", dict(NEW, revenue=10 * YI),
                 3_000_000, id="revenue-at-10yi"),  # 10億 (read as inclusive) → 300萬
    pytest.param("revenue_scale_award", dict(NEW, revenue=30 * YI - 1),
                 3_000_000, id="revenue-just-below-30yi"),  # still first tier → 300萬
    pytest.param("revenue_scale_award", dict(NEW, revenue=30 * YI),
                 5_000_000, id="revenue-at-30yi"),  # 30億(含) → 500萬
    pytest.param("revenue_scale_award", dict(NEW, revenue=50 * YI - 1),
                 5_000_000, id="revenue-just-below-50yi"),  # second tier → 500萬
    pytest.param("revenue_scale_award", dict(NEW, revenue=50 * YI),
                 10_000_000, id="revenue-at-50yi"),  # 50億(含) → 1000萬
    pytest.param("revenue_scale_award", dict(new_arrival=False, revenue=60 * YI),
                 0, id="revenue-not-new"),  # not 新引進: 0
    # 第四條 headquarters registered capital 5000萬(含)–1億 → 100萬, 1億(含)+ → 300萬
    pytest.param("headquarters_award", dict(HQ, registered_capital=5000 * WAN - 1),
                 0, id="hq-below-5000wan"),  # 49999999 < 5000萬: 0
    pytest.param("headquarters_award", dict(HQ, registered_capital=5000 * WAN),
                 1_000_000, id="hq-at-5000wan"),  # 5000萬(含) → 100萬
    pytest.param("headquarters_award", dict(HQ, registered_capital=1 * YI - 1),
                 1_000_000, id="hq-just-below-1yi"),  # first tier → 100萬
    pytest.param("headquarters_award", dict(HQ, registered_capital=1 * YI),
                 3_000_000, id="hq-at-1yi"),  # 1億(含) → 300萬
    pytest.param("headquarters_award", dict(new_arrival=True, headquarters=False, registered_capital=2 * YI),
                 0, id="hq-not-headquarters"),  # not a 總部企業: 0
    # 第五條 0.12元/度 for PUE < 1.2
    pytest.param("electricity_subsidy", dict(sector="compute", pue=1.15, electricity_kwh=100_000_000.0),
                 12_000_000, id="power-100m-kwh"),  # 100000000 kWh × 0.12 = 12000000
    pytest.param("electricity_subsidy", dict(sector="compute", pue=1.15, electricity_kwh=1000.9),
                 120, id="power-fraction-of-kwh"),  # floor(1000.9) = 1000 kWh × 0.12 = 120
    pytest.param("electricity_subsidy", dict(sector="compute", pue=1.2, electricity_kwh=100_000_000.0),
                 0, id="power-pue-at-1.2"),  # 低于1.2 is strict: 0
    # 第六條 sales ≥2000萬 → 1%, 年度最高1000萬
    pytest.param("equipment_sales_award", dict(equipment_sales=2000 * WAN),
                 200_000, id="sales-at-2000wan"),  # 20000000 × 1% = 200000
    pytest.param("equipment_sales_award", dict(equipment_sales=2000 * WAN - 1),
                 0, id="sales-just-below"),  # 19999999 < 2000萬: 0
    pytest.param("equipment_sales_award", dict(equipment_sales=20 * YI),
                 10_000_000, id="sales-capped"),  # 2000000000 × 1% = 20000000 > 1000萬 → 10000000
    # 第六條 purchases ≥1000萬 → 0.5%, 年度最高1000萬
    pytest.param("equipment_purchase_award", dict(equipment_purchases=1000 * WAN),
                 50_000, id="purchases-at-1000wan"),  # 10000000 × 0.5% = 50000
    pytest.param("equipment_purchase_award", dict(equipment_purchases=1000 * WAN - 1),
                 0, id="purchases-just-below"),  # 9999999 < 1000萬: 0
    pytest.param("equipment_purchase_award", dict(equipment_purchases=3 * YI),
                 1_500_000, id="purchases-3yi"),  # 300000000 × 0.5% = 1500000
    pytest.param("equipment_purchase_award", dict(equipment_purchases=50 * YI),
                 10_000_000, id="purchases-capped"),  # 25000000 > 1000萬 → 10000000
    # 第七條 20%/30%/40% 見習崗位支持 names no base: no amount, whatever the seats
    pytest.param("trainee_support", dict(sector="data", seats=500), 0, id="seats-no-base"),
    # 第六條(b), the other reading: purchases from Yinchuan makers, same rule
    pytest.param("equipment_local_maker_award", dict(local_equipment_purchases=3 * YI),
                 1_500_000, id="local-maker-purchases-3yi"),  # 300000000 × 0.5% = 1500000
    # 第八條 data supplier: 10% of the year's trade, 最高不超過30萬
    pytest.param("data_supplier_award", dict(data_trade=100 * WAN),
                 100_000, id="data-trade-10pct"),  # 1000000 × 10% = 100000
    pytest.param("data_supplier_award", dict(data_trade=1000 * WAN),
                 300_000, id="data-trade-capped"),  # 1000000 > 30萬 → 300000
    # 第八條 platform: ceiling 最高100萬
    pytest.param("data_platform_operation", dict(sector="data"),
                 1_000_000, id="data-platform-ceiling"),  # 100萬 = 1000000
    # 第九條 ≥百億 parameters, ≥5 scenarios: 30% of compute cost, 最高500萬
    pytest.param("large_model_compute", dict(MODEL, compute_rental=1000 * WAN),
                 3_000_000, id="model-at-thresholds"),  # 10000000 × 30% = 3000000
    pytest.param("large_model_compute", dict(MODEL, compute_rental=2000 * WAN),
                 5_000_000, id="model-capped"),  # 6000000 > 500萬 → 5000000
    pytest.param("large_model_compute", dict(MODEL, model_parameters=9_999_999_999.0, compute_rental=1000 * WAN),
                 0, id="model-below-100yi"),  # under 百億 parameters: 0
    pytest.param("large_model_compute", dict(MODEL, model_scenarios=4, compute_rental=1000 * WAN),
                 0, id="model-4-scenarios"),  # fewer than 5 scenarios: 0
    pytest.param("large_model_major", dict(), 0, id="model-case-by-case"),  # 一事一議: 0
    # 第十條 20% of total investment, 最高50萬
    pytest.param("application_scene", dict(project_investment=200 * WAN),
                 400_000, id="scene-20pct"),  # 2000000 × 20% = 400000
    pytest.param("application_scene", dict(project_investment=500 * WAN),
                 500_000, id="scene-capped"),  # 1000000 > 50萬 → 500000
    # 第十一條 30% of investment, 最高不超過500萬
    pytest.param("chip_adaptation", dict(project_investment=1000 * WAN),
                 3_000_000, id="chip-30pct"),  # 10000000 × 30% = 3000000
    pytest.param("chip_adaptation", dict(project_investment=2000 * WAN),
                 5_000_000, id="chip-capped"),  # 6000000 > 500萬 → 5000000
    # 第十二條 software revenue 2000萬/5000萬/1億 → 50萬/100萬/200萬
    pytest.param("software_revenue_award", dict(sector="software", revenue=2000 * WAN - 1),
                 0, id="software-below-2000wan"),  # no tier
    pytest.param("software_revenue_award", dict(sector="software", revenue=2000 * WAN),
                 500_000, id="software-at-2000wan"),  # 50萬
    pytest.param("software_revenue_award", dict(sector="software", revenue=5000 * WAN - 1),
                 500_000, id="software-just-below-5000wan"),  # still 50萬
    pytest.param("software_revenue_award", dict(sector="software", revenue=5000 * WAN),
                 1_000_000, id="software-at-5000wan"),  # 100萬
    pytest.param("software_revenue_award", dict(sector="software", revenue=1 * YI),
                 2_000_000, id="software-at-1yi"),  # 200萬
    pytest.param("software_revenue_award", dict(sector="ai", revenue=2 * YI),
                 0, id="software-not-software"),  # not a 軟件和信息技術服務企業: 0
    # 第十三條 ceilings
    pytest.param("key_tech_breakthrough", dict(national_project_lead=True),
                 5_000_000, id="chokepoint-ceiling"),  # 500萬
    pytest.param("key_tech_breakthrough", dict(national_project_lead=False),
                 0, id="chokepoint-not-lead"),  # 0
    pytest.param("tech_transfer_project", dict(), 3_000_000, id="transfer-ceiling"),  # 300萬
    pytest.param("collaborative_innovation", dict(), 3_000_000, id="collab-ceiling"),  # 300萬
    pytest.param("pilot_maturation", dict(new_arrival=True), 3_000_000, id="pilot-ceiling"),  # 300萬
    pytest.param("pilot_maturation", dict(new_arrival=False), 0, id="pilot-not-new"),  # 0
    pytest.param("innovation_consortium", dict(), 5_000_000, id="consortium-ceiling"),  # 500萬
    # 第十四條 30% of compute cost, 最高200萬, one-time
    pytest.param("talent_compute", dict(compute_rental=500 * WAN),
                 1_500_000, id="talent-30pct"),  # 5000000 × 30% = 1500000
    pytest.param("talent_compute", dict(compute_rental=1000 * WAN),
                 2_000_000, id="talent-capped"),  # 3000000 > 200萬 → 2000000
]


@pytest.mark.parametrize(("program_id", "values", "expected"), CASES)
def test_entitlement_matches_the_text(program_id: str, values: dict, expected: int) -> None:
    assert pay(program_id, **values) == expected


def test_policy_validates_and_lists_every_program() -> None:
    assert POLICY.id == "yinchuan"
    assert POLICY.level == "city"
    assert list(POLICY.programs) == [
        "industrial_project",  # 第三條
        "industrial_project_major",  # 第三條 一事一議
        "service_project",  # 第三條
        "revenue_scale_award",  # 第四條
        "headquarters_award",  # 第四條
        "electricity_subsidy",  # 第五條
        "equipment_sales_award",  # 第六條
        "equipment_purchase_award",  # 第六條 (the buyer is in Yinchuan)
        "equipment_local_maker_award",  # 第六條, the other reading (the maker is), off
        "trainee_support",  # 第七條
        "data_platform_operation",  # 第八條
        "data_supplier_award",  # 第八條
        "large_model_compute",  # 第九條
        "large_model_major",  # 第九條 一事一議
        "application_scene",  # 第十條
        "chip_adaptation",  # 第十一條
        "software_revenue_award",  # 第十二條
        "key_tech_breakthrough",  # 第十三條
        "tech_transfer_project",  # 第十三條
        "collaborative_innovation",  # 第十三條
        "pilot_maturation",  # 第十三條
        "innovation_consortium",  # 第十三條
        "talent_compute",  # 第十四條
    ]
    for prog in POLICY.programs.values():
        assert prog.source == "sources/001_5932aea5e37f39d4.txt"
    case_by_case = {pid for pid, p in POLICY.programs.items() if p.selection == "case_by_case"}
    assert case_by_case == {"industrial_project_major", "large_model_major"}


def test_pools_window_funding_and_stacking_match_the_text() -> None:
    pool = POLICY.pools["manufacturing_rewards"]
    assert pool.budget == 20_000_000  # 本條項下獎勵每年總額不超過2000萬元
    assert pool.period == "year"
    assert pool.rationing == "first_come" and pool.rationing_basis == "default"
    shared = {pid for pid in POLICY.programs if POLICY.pool_of(pid) == "manufacturing_rewards"}
    assert shared == {"equipment_sales_award", "equipment_purchase_award", "equipment_local_maker_award"}
    explicit = {pid for pid, p in POLICY.pools.items() if not p.implicit}
    assert explicit == {"manufacturing_rewards"}
    # 本措施自2024年**月**日起施行,有效期至****年**月**日: dates blank
    assert POLICY.effective.start is None and POLICY.effective.end is None
    assert POLICY.effective.last_day is None
    assert POLICY.funding.shares == {"city": 1}
    rules = {(s.rule, s.scope, s.programs) for s in POLICY.stacking}
    assert rules == {("stackable", "within", ()), ("highest_only", "other_policies", ())}


def test_caps_counts_and_one_time_awards() -> None:
    p = POLICY.programs
    assert (p["equipment_sales_award"].cap.amount, p["equipment_sales_award"].cap.period) == (10_000_000, "year")
    assert (p["equipment_purchase_award"].cap.amount, p["equipment_purchase_award"].cap.period) == (10_000_000, "year")
    assert p["application_scene"].count_limit.per_year == 20  # 每年評選發布不超過20個
    assert p["application_scene"].selection == "competitive"  # 評選
    assert p["chip_adaptation"].selection == "recognition"  # 被自治區認定
    for pid in ("revenue_scale_award", "headquarters_award", "software_revenue_award",
                "application_scene", "chip_adaptation", "talent_compute"):
        assert p[pid].one_time, pid  # 一次性
    assert p["electricity_subsidy"].benefit.price == Fraction(12, 100)  # 0.12元/度


def test_the_buyer_reading_of_article_six_is_the_policy_s_and_the_maker_reading_one_switch_away() -> None:
    """對在銀企業采購: a Yinchuan buyer by default; switching the other reading on replaces it."""
    assert "equipment_purchase_award" in POLICY.enabled_programs()
    assert "equipment_local_maker_award" not in POLICY.enabled_programs()
    other = load_policy(ROOT / "policies" / "yinchuan.yaml", {"programs.equipment_local_maker_award.enabled": True})
    assert "equipment_local_maker_award" in other.enabled_programs()
    assert "equipment_purchase_award" not in other.enabled_programs()
    a, b = POLICY.programs["equipment_purchase_award"], POLICY.programs["equipment_local_maker_award"]
    assert (a.benefit.rate, a.cap, a.quote) == (b.benefit.rate, b.cap, b.quote)  # one sentence, two readings


def test_article_seven_names_no_base_so_it_is_exposure() -> None:
    prog = POLICY.programs["trainee_support"]
    assert prog.benefit.kind == "none"
    assert [c.describe() for c in prog.eligibility] == ["sector = data", "seats ≥ 50"]
