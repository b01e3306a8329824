"""The firm-attribute vocabulary: the one language of policies, scenarios and `sim quote`.

A policy says "revenue ≥ 10亿", a scenario samples revenue from a lognormal, a user types
``--firm revenue=12亿``: all three must mean the same quantity in the same unit.  Every
attribute is listed here once with its kind, unit and meaning; a policy or scenario that
names anything else fails validation.

Kinds:

``money``     integer yuan (inputs accept 4000万, 1.5亿, …)
``share``     a fraction between 0 and 1
``number``    a real number with the unit given
``count``     a whole number
``flag``      yes/no (a designation, a list membership, a location)
``category``  one of a fixed set of values

An attribute whose unit ends in ``/year`` is an **annual flow**: money or a quantity that
accrues through the year (revenue, compute rental, kWh).  A firm that existed for part of
a year, or a policy in force for part of it, accrues only that part, so a rule that pays
a rate or a price on a flow is credited for the days counted
(:func:`sim.policy.entitlement.entitlement`); the other attributes are stocks or states
(an investment, a balance, a count of standards, a flag) and are never prorated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sim.policy.money import parse_money

Kind = Literal["money", "share", "number", "count", "flag", "category"]


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: Kind
    unit: str
    meaning: str
    values: tuple[str, ...] = ()  # allowed values of a category

    @property
    def flow(self) -> bool:
        """An annual flow (unit per year): credited for the part of the year counted, not whole."""
        return self.unit.endswith("/year")


def _a(name: str, kind: Kind, unit: str, meaning: str, values: tuple[str, ...] = ()) -> Attribute:
    return Attribute(name, kind, unit, meaning, values)


VOCABULARY: dict[str, Attribute] = {
    a.name: a
    for a in [
        # --- flows of money in the year (yuan a year) ---
        _a("revenue", "money", "yuan/year", "main business revenue (主营业务收入) in the year"),
        _a("compute_rental", "money", "yuan/year",
           "paid in the year for rented or platform compute (算力租用/使用费用, 算力成本, 算力总支出)"),
        _a("domestic_compute_share", "share", "0-1",
           "share of that compute running on domestic AI chips (国产人工智能算力)"),
        _a("corpus_purchases", "money", "yuan/year",
           "corpus (语料) bought from non-affiliated parties through a data exchange in the year"),
        _a("model_purchases", "money", "yuan/year",
           "settled fees for filed algorithms or generative models bought in the year (模型交易结算费用)"),
        _a("tech_contracts", "money", "yuan/year", "registered technology contracts (认定登记的技术合同) in the year"),
        _a("rd_spend", "money", "yuan", "R&D spend on the project (项目研发投入/研发费用)"),
        _a("project_investment", "money", "yuan",
           "total investment in the project, platform or product (项目投资额, 实际投入, 总投资额)"),
        _a("fixed_asset_investment", "money", "yuan",
           "fixed-asset investment booked for the project (固定资产投资实际入库额, excluding land)"),
        _a("investment_intensity", "money", "yuan/mu", "fixed-asset investment per mu of land (投资强度)"),
        _a("registered_capital", "money", "yuan", "paid-in registered capital (注册资本实缴)"),
        _a("equipment_sales", "money", "yuan/year",
           "sales of the compute-chain products listed in Yinchuan 第六条 (servers, network, storage, "
           "optical modules, power, cooling, racks) in the year"),
        _a("equipment_purchases", "money", "yuan/year",
           "purchases of those products by the firm in the year, whoever made them"),
        _a("local_equipment_purchases", "money", "yuan/year",
           "purchases of those products from makers in Yinchuan in the year, by a buyer anywhere"),
        _a("supply_contracts", "money", "yuan/year",
           "supply contracts performed for top-500 or national chain-leader firms in the year (配套履约金额)"),
        _a("data_trade", "money", "yuan/year", "data products sold through exchanges in the year (数据交易额)"),
        _a("insurance_premiums", "money", "yuan/year", "cyber-security insurance premiums paid for clients"),
        _a("event_costs", "money", "yuan", "actual costs of an event the firm hosts (活动实际发生费用)"),
        _a("loan_interest", "money", "yuan/year", "interest paid to banks on loans for model R&D in the year"),
        _a("loan_principal", "money", "yuan",
           "principal of those loans (贷款本金), as the average balance over the year"),
        _a("higher_grant", "money", "yuan",
           "grant actually received from national or provincial programs for the project (国家、省实际补助资金)"),
        _a("city_subsidy", "money", "yuan", "subsidy a city actually paid the project (市级实际补助额度)"),
        _a("pilot_investment", "money", "yuan",
           "investment in pilot-scale maturation of results, excluding land and buildings (中试熟化投资额)"),
        # --- physical and technical quantities ---
        _a("electricity_kwh", "number", "kWh/year", "electricity consumed in the year"),
        _a("pue", "number", "ratio", "power usage effectiveness of the data centre"),
        _a("racks", "count", "racks", "racks in the data centre (机架数)"),
        _a("computing_share", "share", "0-1",
           "share of a data centre's capacity that computes rather than stores (计算功能占比)"),
        _a("compute_pflops", "number", "PFLOPS", "intelligent compute capacity (算力规模, P)"),
        _a("seats", "count", "seats", "data-labelling seats (坐席)"),
        _a("model_parameters", "number", "parameters", "parameters of the firm's large model"),
        _a("model_scenarios", "count", "scenarios", "typical application scenarios of the model"),
        _a("standards", "count", "standards", "standards of the kind in question published in the year"),
        _a("ai_firm_share", "share", "0-1", "share of AI firms among a park's firms"),
        _a("lpr", "share", "0-1",
           "the loan prime rate (LPR, 贷款市场报价利率) a loan is priced against, a yearly rate: 0.031 for 3.1%"),
        # --- yes/no designations, lists and places ---
        _a("new_arrival", "flag", "yes/no", "newly brought in or newly settled (新引进, 落户) in the year"),
        _a("headquarters", "flag", "yes/no", "a headquarters firm (总部企业)"),
        _a("compute_partner_list", "flag", "yes/no",
           "rents compute from a firm on the compute partner list (算力合作伙伴名单)"),
        _a("rental_contract_filed", "flag", "yes/no", "the compute rental contract is filed (租用合同完成备案)"),
        _a("local_platform", "flag", "yes/no", "uses a local public compute platform (本地算力服务平台)"),
        _a("uses_local_compute", "flag", "yes/no", "uses the region's supercomputing or AI compute (区内超算、智算资源)"),
        _a("small_tech_firm", "flag", "yes/no",
           "a university, research body, compute intermediary, tech SME or maker (Ningxia （九）)"),
        _a("national_project_lead", "flag", "yes/no",
           "leads a national or provincial AI project won through a call (揭榜挂帅, 卡脖子 …)"),
        _a("chain_leader", "flag", "yes/no", "recognised chain-leader firm (链主)"),
        _a("filed_model", "flag", "yes/no", "uses a filed deep-synthesis or generative AI model (经备案)"),
        _a("self_built_compute", "flag", "yes/no", "uses its own compute for itself (自建自用)"),
        _a("wanbei", "flag", "yes/no", "located in northern Anhui (皖北地区)"),
        _a("in_china_data_valley", "flag", "yes/no", "located in China Data Valley (中国数谷), Binjiang"),
        _a("in_model_community", "flag", "yes/no", "located in the Moli model community (模力社区), Binjiang"),
        _a("baoding_area", "category", "area",
           "Baoding fiscal area: a city-run district (市管区), a county under the province (省直管县) "
           "or another county (县(市、区))",
           ("city_district", "direct_county", "county")),
        _a("sector", "category", "sector",
           "main line of business",
           ("ai", "compute", "data", "software", "manufacturing", "research", "other")),
        _a("org_type", "category", "kind",
           "legal kind of applicant",
           ("enterprise", "research_institute", "university", "team", "park")),
    ]
}


def lookup(name: str) -> Attribute:
    """The attribute called ``name``; KeyError with the known names otherwise."""
    try:
        return VOCABULARY[name]
    except KeyError:
        raise KeyError(f"unknown firm attribute {name!r}; known: {', '.join(sorted(VOCABULARY))}") from None


def coerce_value(attr: str, value: Any) -> Any:
    """Turn a raw value into the attribute's type: yuan for money, bool for flags, …"""
    spec = VOCABULARY[attr]
    if spec.kind == "money":
        return parse_money(value, attr)
    if spec.kind == "flag":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y", "是"}:
            return True
        if text in {"0", "false", "no", "n", "否"}:
            return False
        raise ValueError(f"{attr} is a yes/no attribute; got {value!r}, expected true or false")
    if spec.kind == "category":
        if str(value) not in spec.values:
            raise ValueError(f"{attr} must be one of {', '.join(spec.values)}; got {value!r}")
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{attr} must be a number ({spec.unit}); got {value!r}") from None
    if isinstance(value, bool) or number != number:
        raise ValueError(f"{attr} must be a number ({spec.unit}); got {value!r}")
    if number < 0:
        raise ValueError(f"{attr} must be 0 or more; got {value!r}")
    if spec.kind == "share" and number > 1:
        raise ValueError(f"{attr} is a share between 0 and 1; got {value!r}")
    if spec.kind == "count" and not number.is_integer():
        raise ValueError(f"{attr} is a count; got {value!r}")
    return number
