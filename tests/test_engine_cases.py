"""Hand-checkable runs with exact expected outputs (DESIGN §6 semantics).

Each case is small enough to work out on paper; the comment beside each expectation says
how.  Toy policies pay fixed amounts so the arithmetic is plain.  Every case runs on both
engines and must give the same numbers on each.
"""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import pytest
from ruamel.yaml import YAML

from sim.runs.runner import simulate
from sim.scenario.load import load_scenario
from tests import toy

MARCH = {"call": {"start": "03-01", "end": "03-01"}}  # everyone applies on 1 March


@pytest.fixture(params=["simpy", "fast"])
def run(request):
    """``toy.run`` on one engine, then the other."""
    return functools.partial(toy.run, engine=request.param)


def rows(frame: pl.DataFrame, **where) -> list[dict]:
    for k, v in where.items():
        frame = frame.filter(pl.col(k) == v)
    return frame.to_dicts()


def test_one_firm_with_fixed_attributes(tmp_path, run):
    policy = toy.policy({"voucher": toy.program(rate="30%", base="compute_rental", cap="200万")}, budget="1亿")
    scen = toy.scenario([toy.segment("a", 1, {"compute_rental": "1000万"}, {"voucher": 1})])
    t = run(tmp_path, policy, scen)
    got = rows(t["program_years"], program="voucher")
    # 1000万 × 30% = 300万, capped at 200万, in each of 2025 and 2026
    assert [(r["year"], r["demand_yuan"], r["granted_yuan"], r["applications"], r["full"]) for r in got] == [
        (2025, 2_000_000, 2_000_000, 1, 1), (2026, 2_000_000, 2_000_000, 1, 1)]
    pools = rows(t["pool_years"], pool="toy.pool")
    assert [(r["budget_yuan"], r["granted_yuan"], r["remaining_yuan"], r["exhausted_on"]) for r in pools] == [
        (100_000_000, 2_000_000, 98_000_000, None)] * 2
    funders = {(r["funder"], r["year"]): r["granted_yuan"] for r in t["funder_years"].to_dicts()}
    # 200万 split city 1/3 (rounded down), district the rest
    assert funders[("city", 2025)] == 666_666 and funders[("district", 2025)] == 1_333_334


def test_two_firms_race_for_a_first_come_pool(tmp_path, run):
    policy = toy.policy({"voucher": toy.program("300万")}, budget="500万")
    scen = toy.scenario([toy.segment("early", 1, {}, {"voucher": 1}), toy.segment("late", 1, {}, {"voucher": 1})],
                        programs={"voucher": MARCH}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    awards = t["awards"].sort("firm").to_dicts()
    # same day: firm 0 (first segment) first, gets 300万; firm 1 gets the 200万 left, a partial grant
    assert [(a["firm"], a["entitled_yuan"], a["granted_yuan"], a["outcome"], a["pool_balance_yuan"]) for a in awards] == [
        (0, 3_000_000, 3_000_000, "full", 2_000_000), (1, 3_000_000, 2_000_000, "partial", 0)]
    pool = rows(t["pool_years"], pool="toy.pool")[0]
    assert pool["remaining_yuan"] == 0 and pool["exhausted_on"] == dt.date(2025, 3, 1)
    prog = rows(t["program_years"], program="voucher")[0]
    assert (prog["demand_yuan"], prog["granted_yuan"], prog["full"], prog["partial"], prog["refused"]) == (6_000_000, 5_000_000, 1, 1, 0)


def test_all_or_nothing_refuses_the_last_grant(tmp_path, run):
    policy = toy.policy({"voucher": toy.program("300万", all_or_nothing=True)}, budget="500万")
    scen = toy.scenario([toy.segment("a", 2, {}, {"voucher": 1})], programs={"voucher": MARCH}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    assert [(a["granted_yuan"], a["outcome"]) for a in t["awards"].sort("firm").to_dicts()] == [
        (3_000_000, "full"), (0, "pool_empty")]
    pool = rows(t["pool_years"], pool="toy.pool")[0]
    assert pool["remaining_yuan"] == 2_000_000 and pool["exhausted_on"] == dt.date(2025, 3, 1)


def test_competitive_round_with_ties(tmp_path, run):
    policy = toy.policy({"award": toy.program("300万", selection="competitive")}, budget="500万", rationing="competitive")
    # scores: revenue 3亿, 5亿, 5亿 → the two 5亿 firms tie; all apply on 1 March (a one-day call),
    # so the tie goes to the earlier firm index (with different days, the earlier day would win)
    segs = [toy.segment("low", 1, {"revenue": "3亿"}, {"award": 1}),
            toy.segment("high_a", 1, {"revenue": "5亿"}, {"award": 1}),
            toy.segment("high_b", 1, {"revenue": "5亿"}, {"award": 1})]
    scen = toy.scenario(segs, programs={"award": {**MARCH, "score": "revenue"}},
                        end="2025-12-31", pools={"toy.pool": {"review": "06-30", "why": "test"}})
    t = run(tmp_path, policy, scen)
    got = {a["firm"]: (a["date"], a["granted_yuan"], a["outcome"]) for a in t["awards"].to_dicts()}
    review = dt.date(2025, 6, 30)
    assert got == {1: (review, 3_000_000, "full"), 2: (review, 2_000_000, "partial"), 0: (review, 0, "ranked_out")}
    assert rows(t["pool_years"], pool="toy.pool")[0]["exhausted_on"] == review


def test_competitive_count_limit(tmp_path, run):
    policy = toy.policy({"award": toy.program("100万", selection="competitive", count_limit={"per_year": 2})},
                        budget=None, rationing="competitive")
    segs = [toy.segment(f"s{i}", 1, {"revenue": f"{i + 1}亿"}, {"award": 1}) for i in range(4)]
    scen = toy.scenario(segs, programs={"award": {"score": "revenue"}}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    got = {a["firm"]: a["outcome"] for a in t["awards"].to_dicts()}
    # the two largest revenues (firms 3 and 2) win; the others lose on the count limit of 2
    assert got == {3: "full", 2: "full", 1: "ranked_out", 0: "ranked_out"}


def test_pro_rata_round(tmp_path, run):
    policy = toy.policy({"voucher": toy.program(rate="100%", base="compute_rental")}, budget="500万", rationing="pro_rata")
    segs = [toy.segment(f"s{i}", 1, {"compute_rental": amount}, {"voucher": 1})
            for i, amount in enumerate(["300万", "200万", "500万"])]
    scen = toy.scenario(segs, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    # demand 1000万 against 500万: everyone gets half
    got = {a["firm"]: (a["granted_yuan"], a["outcome"], a["date"]) for a in t["awards"].to_dicts()}
    close = dt.date(2025, 12, 31)
    assert got == {0: (1_500_000, "partial", close), 1: (1_000_000, "partial", close), 2: (2_500_000, "partial", close)}
    pool = rows(t["pool_years"], pool="toy.pool")[0]
    assert (pool["granted_yuan"], pool["remaining_yuan"], pool["exhausted_on"]) == (5_000_000, 0, close)


def test_pro_rata_rounds_down_to_the_yuan(tmp_path, run):
    policy = toy.policy({"voucher": toy.program("50")}, budget="100", rationing="pro_rata")
    scen = toy.scenario([toy.segment("s", 3, {}, {"voucher": 1})], end="2025-12-31")
    t = run(tmp_path, policy, scen)
    # 3 × 50 yuan asked of 100: each gets floor(50 × 100 / 150) = 33, 1 yuan stays in the pool
    assert sorted(a["granted_yuan"] for a in t["awards"].to_dicts()) == [33, 33, 33]
    pool = rows(t["pool_years"], pool="toy.pool")[0]
    assert pool["remaining_yuan"] == 1 and pool["exhausted_on"] is not None


def test_pool_shared_by_two_programs(tmp_path, run):
    policy = toy.policy({"sales": toy.program("300万"), "purchases": toy.program("300万")}, budget="500万")
    scen = toy.scenario([toy.segment("a", 1, {}, {"sales": 1, "purchases": 1})],
                        programs={"sales": MARCH, "purchases": MARCH}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    progs = {r["program"]: (r["granted_yuan"], r["full"], r["partial"]) for r in t["program_years"].to_dicts()}
    # same firm, same day: program order decides; 'sales' is listed first
    assert progs == {"sales": (3_000_000, 1, 0), "purchases": (2_000_000, 0, 1)}
    assert rows(t["pool_years"], pool="toy.pool")[0]["granted_yuan"] == 5_000_000


def test_annual_reset_and_life_budget(tmp_path, run):
    segs = [toy.segment("a", 1, {}, {"voucher": 1})]
    yearly = run(tmp_path / "y", toy.policy({"voucher": toy.program("400万")}, budget="500万"), toy.scenario(segs))
    # the pool is reset each 1 January: 400万 paid in full both years
    assert rows(yearly["pool_years"], pool="toy.pool")[1]["granted_yuan"] == 4_000_000
    assert [r["full"] for r in yearly["program_years"].to_dicts()] == [1, 1]
    life = run(tmp_path / "l", toy.policy({"voucher": toy.program("400万")}, budget="500万", period="life"), toy.scenario(segs))
    pools = rows(life["pool_years"], pool="toy.pool")
    # one budget for the policy's life: 400万 in 2025, the last 100万 in 2026
    assert [(p["budget_yuan"], p["granted_yuan"], p["remaining_yuan"]) for p in pools] == [
        (5_000_000, 4_000_000, 1_000_000), (1_000_000, 1_000_000, 0)]


def test_application_outside_the_validity_window(tmp_path, run):
    policy = toy.policy({"voucher": toy.program("100万")}, start="2025-07-01")
    scen = toy.scenario([toy.segment("a", 1, {}, {"voucher": 1})], programs={"voucher": {"call": {"start": "03-01", "end": "03-31"}}})
    t = run(tmp_path, policy, scen)
    awards = t["awards"].sort("date").to_dicts()
    # 2025's call (March) falls before the policy starts (1 July): refused; 2026's is paid
    assert [(a["date"].year, a["outcome"], a["granted_yuan"]) for a in awards] == [
        (2025, "out_of_window", 0), (2026, "full", 1_000_000)]
    assert [r["applications"] for r in t["program_years"].to_dicts()] == [0, 1]


def test_stacking_group_pays_only_the_highest(tmp_path, run):
    policy = toy.policy({"small": toy.program("100万"), "large": toy.program("300万")}, budget=None,
                        stacking=[{"rule": "highest_only", "clause": "x", "quote": "x", "programs": ["small", "large"],
                                   "over": {"period": "year", "quote": "x"}}])
    scen = toy.scenario([toy.segment("a", 1, {}, {"small": 1, "large": 1})], end="2025-12-31")
    t = run(tmp_path, policy, scen)
    got = {a["program"]: (a["outcome"], a["granted_yuan"]) for a in t["awards"].to_dicts()}
    assert got == {"small": ("stacked", 0), "large": ("full", 3_000_000)}
    assert {r["program"]: r["applications"] for r in t["program_years"].to_dicts()} == {"small": 0, "large": 1}


def test_tier_top_up(tmp_path, run):
    tiers = {"kind": "tiers", "on": "revenue", "tiers": [{"min": "1亿", "amount": "50万"}, {"min": "5亿", "amount": "100万"}]}
    prog = toy.program("1万", once=True)
    prog["benefit"] = tiers
    policy = toy.policy({"award": prog}, budget=None,
                        stacking=[{"rule": "top_up", "clause": "x", "quote": "x", "programs": ["award"]}])
    revenue = {"dist": "constant", "value": "2亿", "growth": 1.5, "why": "test"}  # 2亿 in 2025, 5亿 in 2026, 12.5亿 in 2027
    scen = toy.scenario([toy.segment("a", 1, {"revenue": revenue}, {"award": 1})], end="2027-12-31")
    t = run(tmp_path, policy, scen)
    awards = t["awards"].sort("date").to_dicts()
    # 2025: tier 1 pays 50万; 2026: tier 2 reached, the difference 50万 is topped up; 2027: nothing more
    assert [(a["date"].year, a["entitled_yuan"], a["granted_yuan"]) for a in awards] == [
        (2025, 500_000, 500_000), (2026, 500_000, 500_000)]


def test_one_time_award_is_paid_once(tmp_path, run):
    policy = toy.policy({"award": toy.program("100万", once=True)}, budget=None)
    scen = toy.scenario([toy.segment("a", 1, {}, {"award": 1})])
    t = run(tmp_path, policy, scen)
    assert [r["granted_yuan"] for r in t["program_years"].to_dicts()] == [1_000_000, 0]


def test_shared_firm_cap(tmp_path, run):
    policy = toy.policy({"a": toy.program("60万"), "b": toy.program("60万")}, budget=None,
                        firm_caps=[{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "100万"}])
    scen = toy.scenario([toy.segment("s", 1, {}, {"a": 1, "b": 1})], programs={"a": MARCH, "b": MARCH}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    got = {a["program"]: (a["granted_yuan"], a["outcome"]) for a in t["awards"].to_dicts()}
    # 60万 from a, then only 40万 of the 100万 a year is left for b
    assert got == {"a": (600_000, "full"), "b": (400_000, "partial")}


def on(md: str) -> dict:
    """Everyone applies on this month-day."""
    return {"call": {"start": md, "end": md}}


def outcomes(t) -> list[tuple]:
    return [(a["date"].isoformat(), a["firm"], a["program"], a["granted_yuan"], a["outcome"])
            for a in t["awards"].sort("date", "firm", "program").to_dicts()]


def test_a_firm_refused_on_its_cap_takes_no_place(tmp_path, run):
    cap = [{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "100万"}]
    policy = toy.policy({"a": toy.program("60万", count_limit={"per_year": 1}), "b": toy.program("100万")},
                        budget=None, firm_caps=cap)
    scen = toy.scenario([toy.segment("both", 1, {}, {"b": 1, "a": 1}), toy.segment("a_only", 1, {}, {"a": 1})],
                        programs={"b": on("03-01"), "a": on("04-01")}, end="2025-12-31")
    # firm 0 used its 100万 on b in March, so its April claim on a is refused on the cap and
    # leaves a's one place to firm 1
    assert outcomes(run(tmp_path, policy, scen)) == [
        ("2025-03-01", 0, "b", 1_000_000, "full"),
        ("2025-04-01", 0, "a", 0, "firm_cap"), ("2025-04-01", 1, "a", 600_000, "full")]


def test_a_count_refusal_leaves_cap_room_to_the_same_firm(tmp_path, run):
    cap = [{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "100万"}]
    policy = toy.policy({"a": toy.program("60万", count_limit={"per_year": 1}), "b": toy.program("60万")},
                        budget=None, firm_caps=cap)
    scen = toy.scenario([toy.segment("s", 2, {}, {"a": 1, "b": 1})], programs={"a": on("03-01"), "b": on("04-01")},
                        end="2025-12-31")
    # firm 0 takes a's one place; firm 1 is refused on the count and so still has its whole
    # cap for b: 60万, where firm 0 gets the 40万 its cap has left
    assert outcomes(run(tmp_path, policy, scen)) == [
        ("2025-03-01", 0, "a", 600_000, "full"), ("2025-03-01", 1, "a", 0, "count_limit"),
        ("2025-04-01", 0, "b", 400_000, "partial"), ("2025-04-01", 1, "b", 600_000, "full")]


def test_all_or_nothing_leaves_the_balance_to_smaller_claims(tmp_path, run):
    policy = toy.policy({"big": toy.program("300万", all_or_nothing=True), "small": toy.program("100万")}, budget="500万")
    scen = toy.scenario([toy.segment("s", 2, {}, {"big": 1, "small": 1})], programs={"big": MARCH, "small": on("04-01")},
                        end="2025-12-31")
    t = run(tmp_path, policy, scen)
    # 300万 to firm 0; firm 1's 300万 does not fit the 200万 left and is refused (the pool is
    # marked dry that day); the two 100万 claims in April still fit
    assert outcomes(t) == [
        ("2025-03-01", 0, "big", 3_000_000, "full"), ("2025-03-01", 1, "big", 0, "pool_empty"),
        ("2025-04-01", 0, "small", 1_000_000, "full"), ("2025-04-01", 1, "small", 1_000_000, "full")]
    pool = rows(t["pool_years"], pool="toy.pool")[0]
    assert (pool["remaining_yuan"], pool["exhausted_on"]) == (0, dt.date(2025, 3, 1))


def test_all_or_nothing_refusals_and_claims_that_still_fit(tmp_path, run):
    policy = toy.policy({"big": toy.program("300万", all_or_nothing=True), "mid": toy.program("160万", all_or_nothing=True),
                         "small": toy.program("40万", all_or_nothing=True)}, budget="500万")
    scen = toy.scenario([toy.segment("s", 2, {}, {"big": 1, "mid": 1, "small": 1})],
                        programs={"big": MARCH, "mid": on("04-01"), "small": on("05-01")}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    # 500万: big 300万 to firm 0, firm 1 refused (200万 left); mid 160万 to firm 0, firm 1
    # refused (40万 left); small 40万 to firm 0, exactly what is left; firm 1 finds the pool empty
    assert outcomes(t) == [
        ("2025-03-01", 0, "big", 3_000_000, "full"), ("2025-03-01", 1, "big", 0, "pool_empty"),
        ("2025-04-01", 0, "mid", 1_600_000, "full"), ("2025-04-01", 1, "mid", 0, "pool_empty"),
        ("2025-05-01", 0, "small", 400_000, "full"), ("2025-05-01", 1, "small", 0, "pool_empty")]
    pool = rows(t["pool_years"], pool="toy.pool")[0]
    assert (pool["remaining_yuan"], pool["exhausted_on"]) == (0, dt.date(2025, 3, 1))


def test_pro_rata_applies_caps_in_time_order_then_scales(tmp_path, run):
    cap = [{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "80万"}]
    policy = toy.policy({"a": toy.program("60万"), "b": toy.program("60万")}, budget="100万", rationing="pro_rata",
                        firm_caps=cap)
    scen = toy.scenario([toy.segment("both", 1, {}, {"a": 1, "b": 1}), toy.segment("a_only", 1, {}, {"a": 1})],
                        programs={"a": MARCH, "b": on("04-01")}, end="2025-12-31")
    t = run(tmp_path, policy, scen)
    # the round (review on 1 April) asks 60万 + 60万 (a) + 20万 (b: firm 0's cap has 20万 left)
    # = 140万 of 100万: each is scaled by 100/140, rounded down; 1 yuan stays in the pool
    assert [(a["firm"], a["program"], a["entitled_yuan"], a["granted_yuan"], a["outcome"])
            for a in t["awards"].sort("firm", "program").to_dicts()] == [
        (0, "a", 600_000, 428_571, "partial"), (0, "b", 600_000, 142_857, "partial"), (1, "a", 600_000, 428_571, "partial")]
    assert rows(t["pool_years"], pool="toy.pool")[0]["remaining_yuan"] == 1


def test_a_cap_over_the_policys_life(tmp_path, run):
    cap = [{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "100万", "period": "once"}]
    policy = toy.policy({"a": toy.program("60万"), "b": toy.program("10万")}, budget=None, firm_caps=cap, end="2027-12-31")
    scen = toy.scenario([toy.segment("s", 1, {}, {"a": 1, "b": 1})], programs={"a": MARCH, "b": on("04-01")},
                        end="2027-12-31")
    # 100万 for the firm over the policy's life: 60 + 10 in 2025, 30 (of 60) in 2026, nothing after
    assert [(d, p, g, o) for d, _, p, g, o in outcomes(run(tmp_path, policy, scen))] == [
        ("2025-03-01", "a", 600_000, "full"), ("2025-04-01", "b", 100_000, "full"),
        ("2026-03-01", "a", 300_000, "partial"), ("2026-04-01", "b", 0, "firm_cap"),
        ("2027-03-01", "a", 0, "firm_cap"), ("2027-04-01", "b", 0, "firm_cap")]


def test_competitive_round_with_a_shared_cap(tmp_path, run):
    cap = [{"clause": "x", "quote": "x", "programs": ["a", "b"], "amount": "100万"}]
    policy = toy.policy({"a": toy.program(rate="100%", base="revenue", count_limit={"per_year": 1}),
                         "b": toy.program(rate="100%", base="revenue")}, budget="150万", rationing="competitive",
                        firm_caps=cap)
    scen = toy.scenario([toy.segment("small", 1, {"revenue": "30万"}, {"a": 1, "b": 1}),
                         toy.segment("large", 1, {"revenue": "70万"}, {"a": 1, "b": 1})],
                        programs={"a": {**MARCH, "score": "entitled"}, "b": {**MARCH, "score": "entitled"}},
                        end="2025-12-31")
    # ranked by what is asked: firm 1's a (70万) takes a's one place, firm 1's b (70万) gets
    # the 30万 its cap leaves, firm 0's a is ranked out on the count, firm 0's b (30万) is
    # paid in full from the 50万 left; 20万 stay
    t = run(tmp_path, policy, scen)
    got = {(a["firm"], a["program"]): (a["granted_yuan"], a["outcome"]) for a in t["awards"].to_dicts()}
    assert got == {(1, "a"): (700_000, "full"), (1, "b"): (300_000, "partial"),
                   (0, "a"): (0, "ranked_out"), (0, "b"): (300_000, "full")}
    assert rows(t["pool_years"], pool="toy.pool")[0]["remaining_yuan"] == 200_000


# ---- 从优就高不重复 after selection, 补足差额 on promotion, 当年 awards (issue 9) -------------

def two_policies(folder, city: dict, region: dict, scen: dict):
    """Write a second toy policy (id toy2) beside the first, for groups across policies."""
    other = toy.policy(region, budget=None)
    other["id"] = "toy2"
    toy.write(folder, toy.policy(city, budget=None), scen)
    with open(folder / "toy2.yaml", "w", encoding="utf-8") as fh:
        YAML().dump(other, fh)


def across(period: str) -> dict:
    """One firm taking up the city's 300万 (upto, half paid) and the region's 200万, in a group over ``period``."""
    seg = toy.segment("a", 1, {}, {})
    seg["take_up"] = {"toy.city": {"p": 1, "why": "t"}, "toy2.region": {"p": 1, "why": "t"}}
    half = {"dist": "choice", "values": {0.5: 1}, "why": "t"}
    return toy.scenario([seg], policies=["toy", "toy2"],
                        programs={"city": {**on("06-01"), "award_share": half}},
                        stacking=[{"programs": ["toy.city", "toy2.region"], "period": period, "why": "t"}]) | {
        "programs": {"toy.city": {"why": "t", **on("06-01"), "award_share": half}, "toy2.region": {"why": "t", **on("03-01")}}}


def run_two(tmp_path, period: str, engine: str) -> list[tuple]:
    city = toy.program("300万", once=True)
    city["benefit"]["upto"] = True
    two_policies(tmp_path, {"city": city}, {"region": toy.program("200万")}, across(period))
    result = simulate(load_scenario(tmp_path / "scenario.yaml"), workers=1, out=tmp_path / "out", events=True, engine=engine)
    awards = result.frame("awards").sort("date", "program")
    return [(a["date"].isoformat(), a["program"], a["entitled_yuan"], a["granted_yuan"], a["outcome"]) for a in awards.to_dicts()]


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_a_project_in_a_group_across_two_years_and_two_policies(tmp_path, engine):
    # The firm prefers the city's program: its rule gives 300万 against the region's 200万,
    # though the drawn share (half) makes it pay 150万 — a share does not flip the choice.
    # 2025: the region's claim (1 March) waits for the city's (1 June), which pays, so it is
    # stacked on 1 June.  2026: the city's one-time award is not claimed again; the region's
    # claim, released on 1 June, is stacked: over the policies' life the city already paid.
    assert run_two(tmp_path, "life", engine) == [
        ("2025-06-01", "city", 1_500_000, 1_500_000, "full"), ("2025-06-01", "region", 2_000_000, 0, "stacked"),
        ("2026-06-01", "region", 2_000_000, 0, "stacked")]


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_a_group_within_a_year_pays_the_other_program_the_next_year(tmp_path, engine):
    # the same, over a year: in 2026 the city's award is not claimed again, so the region pays
    assert run_two(tmp_path, "year", engine) == [
        ("2025-06-01", "city", 1_500_000, 1_500_000, "full"), ("2025-06-01", "region", 2_000_000, 0, "stacked"),
        ("2026-06-01", "region", 2_000_000, 2_000_000, "full")]


def ranked(scene_pool: dict | None = None) -> tuple[dict, dict]:
    """A yearly selection of one 250万 demonstration project, and a 100万 scene award for the same project."""
    pools = {"demo": {"title": "池", "clause": "x", "quote": "x", "budget": None, "rationing": "competitive"}}
    scene = toy.program("100万", pool="scene" if scene_pool else None, once=True)
    if scene_pool:
        pools["scene"] = scene_pool
    policy = toy.policy({"demo": toy.program("250万", pool="demo", selection="competitive", count_limit={"per_year": 1}),
                         "scene": scene}, budget=None,
                        stacking=[{"rule": "highest_only", "clause": "x", "quote": "x", "programs": ["demo", "scene"],
                                   "over": {"period": "life", "quote": "x"}}])
    policy["pools"] = pools
    segs = [toy.segment("big", 1, {"revenue": "5亿"}, {"demo": 1, "scene": 1}),
            toy.segment("small", 1, {"revenue": "1亿"}, {"demo": 1, "scene": 1})]
    return policy, toy.scenario(segs, programs={"demo": {**on("03-01"), "score": "revenue"}, "scene": on("03-01")},
                                end="2025-12-31", pools={"toy.demo": {"review": "06-30", "why": "t"}})


def test_a_project_ranked_out_of_the_preferred_program_is_paid_by_the_other(tmp_path, run):
    policy, scen = ranked()
    # both prefer the 250万 selection; their scene claims (1 March) wait for its review on
    # 30 June: firm 0 is selected, so its scene claim is stacked; firm 1 is ranked out (one
    # place), so its scene claim is released that day and paid
    assert outcomes(run(tmp_path, policy, scen)) == [
        ("2025-06-30", 0, "demo", 2_500_000, "full"), ("2025-06-30", 0, "scene", 0, "stacked"),
        ("2025-06-30", 1, "demo", 0, "ranked_out"), ("2025-06-30", 1, "scene", 1_000_000, "full")]


@pytest.mark.parametrize("review", ["04-30", "06-30"])
def test_a_held_claim_whose_round_has_closed_is_decided_alone(tmp_path, run, review):
    scene_pool = {"title": "池", "clause": "x", "quote": "x", "budget": "150万", "rationing": "competitive"}
    policy, scen = ranked(scene_pool)
    scen["segments"].append(toy.segment("scene_only", 1, {"revenue": "1亿"}, {"scene": 1}))
    scen["pools"]["toy.scene"] = {"review": review, "why": "t"}
    # the scene round (30 April, or 30 June, the selection's own review day) pays firm 2 its
    # 100万 while firms 0 and 1 wait; on 30 June firm 1 is ranked out of the selection and
    # its scene claim, released after the day's rounds, is decided alone against the 50万
    # left (in the round, the tie of equal claims made the same day would have gone to it)
    assert outcomes(run(tmp_path, policy, scen)) == sorted([
        (f"2025-{review}", 2, "scene", 1_000_000, "full"),
        ("2025-06-30", 0, "demo", 2_500_000, "full"), ("2025-06-30", 0, "scene", 0, "stacked"),
        ("2025-06-30", 1, "demo", 0, "ranked_out"), ("2025-06-30", 1, "scene", 500_000, "partial")])


def test_a_top_up_pays_only_on_promotion_and_once_per_grade(tmp_path, run):
    tiers = {"kind": "tiers", "on": "revenue", "base": "revenue",
             "tiers": [{"min": "1亿", "rate": "1%"}, {"min": "5亿", "rate": "2%"}]}
    prog = toy.program("1万", once=True)
    prog["benefit"] = tiers
    policy = toy.policy({"award": prog}, budget=None,
                        stacking=[{"rule": "top_up", "clause": "x", "quote": "x", "programs": ["award"]}])
    revenue = {"dist": "constant", "value": "2亿", "growth": 1.5, "why": "test"}  # 2亿, 5亿, 12.5亿, 31.25亿
    scen = toy.scenario([toy.segment("a", 1, {"revenue": revenue}, {"award": 1})], end="2028-12-31")
    t = run(tmp_path, policy, scen)
    # 2025: the first tier, 1% of 2亿 = 200万; 2026: promoted to the second tier, 2% of 5亿 =
    # 1000万, the difference 800万 is paid; 2027 and 2028: the same tier on a larger revenue
    # (2500万, 6250万) pays nothing more
    assert [(a["date"].year, a["entitled_yuan"], a["granted_yuan"]) for a in t["awards"].sort("date").to_dicts()] == [
        (2025, 2_000_000, 2_000_000), (2026, 8_000_000, 8_000_000)]


def same_year(claim_again: bool) -> tuple[dict, dict]:
    prog = toy.program("100万", once=True, same_year={"quote": "x"})
    policy = toy.policy({"landing": prog}, budget="100万")
    scen = toy.scenario([toy.segment("a", 2, {}, {"landing": 1})], programs={"landing": MARCH})
    if claim_again:
        scen["overrides"] = {"toy.programs.landing.same_year": {"value": None, "why": "test: claimed again"}}
    return policy, scen


def test_a_refused_same_year_award_is_not_claimed_again(tmp_path, run):
    # 2025: 100万 for two landing awards of 100万: firm 0 is paid, firm 1 finds the pool
    # empty; 当年 ties the award to that year, so firm 1 does not claim it in 2026
    assert outcomes(run(tmp_path, *same_year(False))) == [
        ("2025-03-01", 0, "landing", 1_000_000, "full"), ("2025-03-01", 1, "landing", 0, "pool_empty")]
    # a scenario that says otherwise (with why) lets it claim again, and be paid from 2026's pool
    assert outcomes(run(tmp_path / "again", *same_year(True))) == [
        ("2025-03-01", 0, "landing", 1_000_000, "full"), ("2025-03-01", 1, "landing", 0, "pool_empty"),
        ("2026-03-01", 1, "landing", 1_000_000, "full")]
