"""Ningxia 促进人工智能创新发展政策措施 (seed 000): entitlements computed by hand from the text.

Each case gives a firm, the program it applies to and the yuan the text entitles it to,
with the arithmetic in the comment.  Amounts go through the library (`entitlement`), so
the numbers a user sees in `sim quote` are the ones checked here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.policy.load import load_policy
from tests import toy

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy(ROOT / "policies" / "ningxia.yaml")

WAN = 10_000
YI = 100_000_000


def pay(program_id: str, **values) -> int:
    return toy.entitled(POLICY, program_id, **values)


# A new compute project for （一）: 招商引资 (new_arrival), a compute-centre project.
CENTRE = dict(new_arrival=True, sector="compute")
# A large model for （七）: 超过百亿 parameters and 超过5 scenarios (both strict).
MODEL = dict(model_parameters=12_000_000_000.0, model_scenarios=6)

CASES = [
    # （一） 3亿元以上 → 1‰ of fixed-asset investment, 单个项目最高不超过500万元
    pytest.param("compute_centre_investment", dict(CENTRE, fixed_asset_investment=3 * YI),
                 300_000, id="centre-at-3yi"),  # 300000000 × 1/1000 = 300000 (threshold inclusive)
    pytest.param("compute_centre_investment", dict(CENTRE, fixed_asset_investment=3 * YI - 1),
                 0, id="centre-just-below-3yi"),  # 299999999 < 3亿: not eligible
    pytest.param("compute_centre_investment", dict(CENTRE, fixed_asset_investment=40 * YI),
                 4_000_000, id="centre-40yi-under-cap"),  # 4000000000 × 1/1000 = 4000000 < 500万
    pytest.param("compute_centre_investment", dict(CENTRE, fixed_asset_investment=50 * YI),
                 5_000_000, id="centre-50yi-at-cap"),  # 5000000000 × 1/1000 = 5000000 = cap
    pytest.param("compute_centre_investment", dict(CENTRE, fixed_asset_investment=80 * YI),
                 5_000_000, id="centre-80yi-capped"),  # 8000000 > 500万 → 5000000
    pytest.param("compute_centre_investment", dict(new_arrival=False, sector="compute", fixed_asset_investment=10 * YI),
                 0, id="centre-not-new-arrival"),  # not 招商引资: 0
    pytest.param("compute_centre_investment", dict(new_arrival=True, sector="software", fixed_asset_investment=10 * YI),
                 0, id="centre-not-compute"),  # not a compute-centre project: 0
    # （三） 落户 big-data firm: 10% of 实际投入, 最高200万元
    pytest.param("big_data_firm", dict(new_arrival=True, sector="data", project_investment=1000 * WAN),
                 1_000_000, id="bigdata-10pct"),  # 10000000 × 10% = 1000000
    pytest.param("big_data_firm", dict(new_arrival=True, sector="data", project_investment=5000 * WAN),
                 2_000_000, id="bigdata-capped"),  # 50000000 × 10% = 5000000 > 200万 → 2000000
    pytest.param("big_data_firm", dict(new_arrival=False, sector="data", project_investment=1000 * WAN),
                 0, id="bigdata-not-settled"),  # not 落户: 0
    # （五） only a ceiling: 每户企业最高200万元
    pytest.param("compute_scheduling", dict(sector="compute"),
                 2_000_000, id="scheduling-ceiling"),  # 200万 = 2000000
    # （六） 30% of R&D, 最高1000万元
    pytest.param("indigenous_tech", dict(rd_spend=2000 * WAN),
                 6_000_000, id="indigenous-30pct"),  # 20000000 × 30% = 6000000
    pytest.param("indigenous_tech", dict(rd_spend=5000 * WAN),
                 10_000_000, id="indigenous-capped"),  # 15000000 > 1000万 → 10000000
    # （七） 超过百亿 and 超过5个, 30% of R&D, 最高1000万元
    pytest.param("large_model", dict(MODEL, rd_spend=2000 * WAN),
                 6_000_000, id="model-30pct"),  # 20000000 × 30% = 6000000
    pytest.param("large_model", dict(MODEL, rd_spend=4000 * WAN),
                 10_000_000, id="model-capped"),  # 12000000 > 1000万 → 10000000
    pytest.param("large_model", dict(model_parameters=10_000_000_000.0, model_scenarios=6, rd_spend=2000 * WAN),
                 0, id="model-exactly-100yi-params"),  # 百亿 is not 超过百亿: 0
    pytest.param("large_model", dict(model_parameters=12_000_000_000.0, model_scenarios=5, rd_spend=2000 * WAN),
                 0, id="model-exactly-5-scenarios"),  # 5 is not 超过5个: 0
    # （八） ceiling 最高500万元
    pytest.param("open_platform", dict(), 5_000_000, id="open-platform-ceiling"),  # 500万 = 5000000
    # （九） voucher with no per-firm amount in the text
    pytest.param("compute_voucher", dict(small_tech_firm=True, uses_local_compute=True),
                 0, id="voucher-no-formula"),  # kind none: the text gives no amount → 0
    # （十一） 最高100万元的一次性资金奖励
    pytest.param("demo_scene", dict(), 1_000_000, id="demo-scene-ceiling"),  # 100万 = 1000000
    # （十二） 经认定的"链主"企业 一次性500万元
    pytest.param("chain_leader", dict(chain_leader=True), 5_000_000, id="chain-leader"),  # 500万 = 5000000
    pytest.param("chain_leader", dict(chain_leader=False), 0, id="not-chain-leader"),  # not recognised: 0
    # （十二） 5% of last year's supply contracts, 最高200万元
    pytest.param("supply_matching", dict(supply_contracts=1000 * WAN),
                 500_000, id="supply-5pct"),  # 10000000 × 5% = 500000
    pytest.param("supply_matching", dict(supply_contracts=4000 * WAN),
                 2_000_000, id="supply-at-cap"),  # 40000000 × 5% = 2000000 = cap
    pytest.param("supply_matching", dict(supply_contracts=1 * YI),
                 2_000_000, id="supply-capped"),  # 5000000 > 200万 → 2000000
    # （十二） bases and 飞地园区: ceiling 500万元
    pytest.param("compute_base_park", dict(org_type="park"), 5_000_000, id="park-ceiling"),  # 500万
    pytest.param("compute_base_park", dict(org_type="enterprise"), 0, id="park-not-a-park"),  # 0
    # （十三） 10% of project investment, 最高500万元
    pytest.param("server_manufacturing", dict(sector="manufacturing", project_investment=3000 * WAN),
                 3_000_000, id="server-10pct"),  # 30000000 × 10% = 3000000
    pytest.param("server_manufacturing", dict(sector="manufacturing", project_investment=1 * YI),
                 5_000_000, id="server-capped"),  # 10000000 > 500万 → 5000000
    pytest.param("server_manufacturing", dict(sector="software", project_investment=1 * YI),
                 0, id="server-not-manufacturing"),  # not a maker: 0
    # （十）national platform landing: 30% of 落地项目投入, 最高1000万元
    pytest.param("innovation_platform", dict(new_arrival=True, project_investment=2000 * WAN),
                 6_000_000, id="platform-30pct"),  # 20000000 × 30% = 6000000
    pytest.param("innovation_platform", dict(new_arrival=True, project_investment=1 * YI),
                 10_000_000, id="platform-capped"),  # 30000000 > 1000万 → 10000000
]


@pytest.mark.parametrize(("program_id", "values", "expected"), CASES)
def test_entitlement_matches_the_text(program_id: str, values: dict, expected: int) -> None:
    assert pay(program_id, **values) == expected


def test_policy_validates_and_lists_every_program() -> None:
    assert POLICY.id == "ningxia"
    assert POLICY.level == "province"
    assert list(POLICY.programs) == [
        "compute_centre_investment",  # （一）
        "big_data_firm",  # （三）
        "compute_scheduling",  # （五）
        "indigenous_tech",  # （六）
        "large_model",  # （七）
        "open_platform",  # （八）
        "compute_voucher",  # （九）
        "innovation_platform",  # （十）
        "demo_scene",  # （十一）
        "chain_leader",  # （十二）
        "supply_matching",  # （十二）
        "compute_base_park",  # （十二）
        "server_manufacturing",  # （十三）
        "training_base",  # （十六）
    ]
    for prog in POLICY.programs.values():
        assert prog.source == "sources/000_dd05561ad28f206f.txt"


def test_pools_window_and_funding_match_the_text() -> None:
    pool = POLICY.pools["compute_vouchers"]
    assert pool.budget == 40_000_000  # 每年总计发放不超过4000万元"算力券"
    assert pool.period == "year"
    assert pool.rationing == "first_come" and pool.rationing_basis == "default"
    assert POLICY.pool_of("compute_voucher") == "compute_vouchers"
    # Only the voucher draws on a stated pool; every other program has its own, unsized.
    explicit = {pid for pid, p in POLICY.pools.items() if not p.implicit}
    assert explicit == {"compute_vouchers"}
    assert all(p.budget is None for p in POLICY.pools.values() if p.implicit)
    # 自2023年9月15日起施行，有效期至2025年12月31日
    assert POLICY.effective.start == dt.date(2023, 9, 15)
    assert POLICY.effective.last_day == dt.date(2025, 12, 31)
    assert POLICY.funding.shares == {"province": 1}
    assert POLICY.stacking == ()  # the text states no stacking rule
    assert POLICY.firm_caps == () and POLICY.uplifts == ()


def test_voucher_has_no_per_firm_formula() -> None:
    """（九） gives only the 4000万 yearly total: no rate, base or cap per firm."""
    voucher = POLICY.programs["compute_voucher"]
    assert voucher.benefit.kind == "none"
    assert voucher.cap is None
    assert {c.attr for c in voucher.eligibility} == {"small_tech_firm", "uses_local_compute"}


def test_selection_follows_the_text() -> None:
    selection = {pid: p.selection for pid, p in POLICY.programs.items()}
    assert selection["open_platform"] == "competitive"  # 择优
    assert selection["chain_leader"] == "recognition"  # 经认定
    assert selection["compute_centre_investment"] == "entitlement"
    assert selection["indigenous_tech"] == "entitlement"  # 符合条件
