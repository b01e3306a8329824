"""The report's two languages: Chinese for the budget office that reads it, English for the rest.

Every heading, explanation and label a report shows is written once, in English, and
looked up here for Chinese (``tr(lang, text)``), the way gettext keys messages by their
English text.  A Chinese page may not fall back to English silently: a text missing
from :data:`ZH` raises, so a test that draws a Chinese page finds it.  Ids (pool and
program keys), clause numbers and Chinese titles are data and shown as they are.

Amounts are shown in 万元 in tables (the unit a finance bureau budgets in) and, in
Chinese prose, as 万元 or 亿元 (:func:`amount`).
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS = ("zh", "en")

# Chinese names of the firm attributes (sim.policy.attributes.VOCABULARY), for labels of
# uncertain numbers: "ai_smes：算力租赁费年增长率"
ATTRIBUTE_ZH: dict[str, str] = {
    "revenue": "主营业务收入", "compute_rental": "算力租赁费", "domestic_compute_share": "国产算力占比",
    "corpus_purchases": "语料采购额", "model_purchases": "模型交易额", "tech_contracts": "技术合同额",
    "rd_spend": "研发投入", "project_investment": "项目投资额", "fixed_asset_investment": "固定资产投资额",
    "investment_intensity": "投资强度", "registered_capital": "实缴注册资本", "equipment_sales": "算力设备销售额",
    "equipment_purchases": "算力设备采购额", "local_equipment_purchases": "本地算力设备采购额",
    "supply_contracts": "配套履约金额", "data_trade": "数据交易额", "insurance_premiums": "网络安全保险保费",
    "event_costs": "活动实际发生费用", "loan_interest": "贷款利息", "loan_principal": "贷款本金",
    "higher_grant": "国家、省实际补助资金", "city_subsidy": "市级实际补助", "pilot_investment": "中试熟化投资额",
    "electricity_kwh": "用电量", "pue": "PUE", "racks": "机架数", "computing_share": "计算功能占比",
    "compute_pflops": "算力规模", "seats": "标注坐席数", "model_parameters": "模型参数量",
    "model_scenarios": "模型应用场景数", "standards": "标准数", "ai_firm_share": "人工智能企业占比",
    "lpr": "贷款市场报价利率", "new_arrival": "新引进", "headquarters": "总部企业",
    "compute_partner_list": "算力合作伙伴名单", "rental_contract_filed": "租用合同备案", "local_platform": "本地算力服务平台",
    "uses_local_compute": "使用区内算力", "small_tech_firm": "科技型中小企业等", "national_project_lead": "牵头国家、省项目",
    "chain_leader": "链主企业", "filed_model": "使用备案模型", "self_built_compute": "自建自用算力", "wanbei": "皖北地区",
    "in_china_data_valley": "位于中国数谷", "in_model_community": "位于模力社区", "baoding_area": "保定财政区域",
    "sector": "行业", "org_type": "主体类型",
}

# a distribution's parameters, as the labels above end: "算力租赁费" + "中位数"
PARAMETER_ZH: dict[str, str] = {
    "median": "中位数", "mean": "均值", "sd": "标准差", "sigma": "对数标准差", "shape": "形状参数", "scale": "尺度参数",
    "low": "下限", "high": "上限", "mode": "最可能值", "min": "下限", "max": "上限", "p": "比例", "growth": "年增长率",
    "value": "",
}

# the programs a scenario leaves out: the terminal and the page say it in the same words
IDLE_NOTE = ("Not in these figures: {n} of the {total} programs had no application in any run (no segment of the "
             "scenario takes them up, or no firm that does qualifies), so every total of a pool or funder leaves them "
             "out: {which}. To budget for one, give a segment a take-up of it in the scenario.")

ZH: dict[str, str] = {
    "Programs left out": "未计入的项目",
    "P(dry)\n± se": "用尽概率\n± 标准误",
    "p50, p90: the median and 90th percentile across runs (their 95% intervals and the budget needed: `sim report {out}`).":
        "p50、p90：各次模拟的中位数与第90百分位数（其95%置信区间与所需预算见 `sim report {out}`）。",
    "{n} pool(s) without a budget had no demand in any run and are not shown: no figure includes them (`sim report` "
    "names their programs).": "另有 {n} 个未设预算上限的资金池在所有模拟中均无需求，未列出，任何数字均不含它们（`sim report` 列出其项目）。",
    IDLE_NOTE: "未计入：{total} 个政策项目中有 {n} 个在所有模拟中均无申请（情景中没有企业群体申请，或申请的企业均不符合条件），"
               "各资金池和各级财政的合计均不含这些项目：{which}。如需测算其中某个项目，请在情景中为相应企业群体设置其申请率"
               "（take_up）。",
    # page
    "Budget report: {title}": "预算测算报告：{title}",
    "scenario": "情景", "{runs} runs": "{runs} 次模拟", "seed {seed}": "随机种子 {seed}", "horizon": "测算期", "generated": "生成于",
    "by sim {version}": "由 sim {version} 生成",
    "How to read this report": "阅读说明",
    "Notes": "提示",
    "Amounts in 万元 (10,000 yuan). Each figure is over {runs} Monte Carlo runs of the scenario: the mean, and the 5th, "
    "50th (median), 90th, 95th and 99th percentiles across runs.":
        "金额单位为万元。每个数字基于本情景的 {runs} 次蒙特卡洛模拟：给出均值，以及第5、50（中位数）、90、95、99百分位数。",
    "<b>Demand</b> is what applications were entitled to; <b>granted</b> what the pool paid; <b>unmet demand</b> = "
    "demand − granted (refused or cut for lack of money, count limits or ranking).":
        "<b>需求</b>为全部申请按政策应得的金额；<b>拨付</b>为资金池实际支付的金额；<b>未满足需求</b> = 需求 − 拨付"
        "（因资金不足、名额限制或评审排序而未获或少获支持）。",
    "± is the Monte Carlo standard error of a mean or probability; hover a percentile for its 95% interval. An interval "
    "shown with ? cannot be bounded with this many runs; intervals shrink about as 1/√N: four times the runs halve them.":
        "± 为均值或概率的蒙特卡洛标准误；鼠标悬停在百分位数上可见其95%置信区间。区间中的 ? 表示以现有模拟次数无法界定；"
        "区间宽度约按 1/√N 缩小：模拟次数增加到4倍，区间约减半。",
    "<b>Budget needed</b>: the smallest budget with a chance of at most {risk} that the year's demand reaches it (a "
    "first-come pool runs dry exactly then), rounded up; also shown for pools without a limit.":
        "<b>所需预算</b>：使当年需求达到预算的概率不超过 {risk} 的最小预算（先到先得的资金池恰在此时用尽），向上取整；"
        "未设上限的资金池也给出此数。",
    "More runs needed: the 95% interval of the budget needed is wider than ±5% for {n} pool-year(s) ({which}). "
    "Run again with e.g. <code>--runs {runs}</code>.":
        "需要更多模拟：{n} 个资金池年度的所需预算95%置信区间宽于 ±5%（{which}）。可用 <code>--runs {runs}</code> 重新运行。",
    "The chart of grants through the year needs the decision ledger (the <code>awards</code> table): run again with "
    "<code>sim run SCENARIO --events</code> (or <code>--report</code>).":
        "年内累计拨付图需要逐笔决策记录（<code>awards</code> 表）：请用 <code>sim run 情景文件 --events</code>"
        "（或 <code>--report</code>）重新运行。",
    "Pools with one budget over the policy's life ({pools}) are shown cumulatively: each year's row says whether the "
    "pool has run dry by the end of that year.":
        "政策期内总额控制的资金池（{pools}）按累计口径列示：每年一行表示截至该年末资金池是否已用尽。",
    # navigation and sections
    "Risk & budget needed": "断供风险与所需预算", "Try a budget": "预算试算", "Grants through the year": "年内累计拨付",
    "Demand": "需求分布", "Running dry": "资金用尽时间", "Funders": "各级财政", "Pools": "资金池", "Programs": "政策项目",
    "Funder table": "各级财政明细",
    "Pools: risk of running dry and the budget needed at {risk} risk": "资金池：资金用尽风险与 {risk} 风险水平下的所需预算",
    "Per pool and budget year: how likely the pool runs dry, when, and the budget that keeps that chance at or below "
    "{risk}. Pools with neither a budget nor any demand are left out.":
        "按资金池和预算年度列示：资金用尽的概率、时间，以及使该概率不超过 {risk} 的预算。既无预算也无需求的资金池不列示。",
    "Try a budget: chance of running dry and unmet demand": "预算试算：资金用尽概率与未满足需求",
    "Type or slide a budget (万元) for a pool and year: the page computes, from the {runs} runs' demand embedded in it, "
    "the chance that the year's demand reaches that budget and the expected unmet demand, mean(max(demand − budget, 0)). "
    "Basis: a first-come pool runs dry exactly when the year's demand reaches its budget, so for first-come pools "
    "these are the chance of running dry and the money short; for competitive and pro-rata pools (and with count "
    "limits) they are the same criterion as the budget needed above, and a close guide. A life pool counts its demand "
    "since the start of the horizon.":
        "为某一资金池和年度输入或拖动一个预算（万元），页面即根据内嵌的 {runs} 次模拟的需求，计算当年需求达到该预算的概率，"
        "以及预期未满足需求 mean(max(需求 − 预算, 0))。口径：先到先得的资金池恰在当年需求达到预算时用尽，因此对先到先得资金池，"
        "这两个数就是资金用尽概率和资金缺口；对竞争性评审、按比例分配的资金池（以及有名额限制时），它们与上文“所需预算”"
        "采用同一标准，可作近似参考。政策期内总额控制的资金池按测算期起累计需求计算。",
    "P(demand ≥ budget)": "P(需求 ≥ 预算)", "expected unmet (万元)": "预期未满足需求（万元）",
    "Demand here is payable demand: what the pool would grant with unlimited money, its count limits and the caps its "
    "programs share applied, as for the budget needed.":
        "此处需求为可支付需求：资金不限时，资金池在名额限制和各项目共享上限下会拨付的金额，与“所需预算”口径相同。",
    "needed on": "测算口径", "payable": "可支付需求",
    "The budget needed is on <b>payable demand</b> (column “needed on”): what the pool would grant with unlimited "
    "money. A call paying at most N a year counts only the first N in its order, and a cap several programs share "
    "counts once per firm; a first-come or pro-rata pool without them counts all it is asked.":
        "所需预算按<b>可支付需求</b>测算（见“测算口径”列）：即资金不限时资金池会拨付的金额。每年限额 N 个的项目只计其排序"
        "（按时间或评审排名）中的前 N 个，多个项目共享的上限对每家企业只计一次；没有这些限制的先到先得或按比例资金池计全部申请。",
    "runs": "模拟次数",
    "Cumulative grants through the year": "年内累计拨付",
    "Not available: this run has no <code>awards</code> table (the decision ledger). Run the scenario again with "
    "<code>--events</code> (or <code>sim run … --report</code>) to draw cumulative grants through the year.":
        "无法绘制：本次运行没有 <code>awards</code> 表（逐笔决策记录）。请用 <code>--events</code>"
        "（或 <code>sim run … --report</code>）重新运行。",
    "For each day of the budget year, what the pool has granted since 1 January: the median run (line) and the "
    "10th–90th percentile of runs (band), against the budget (dashed).":
        "预算年度内每一天，资金池自1月1日起的累计拨付：中位数（实线）及第10–90百分位区间（阴影），虚线为预算。",
    "Annual demand per pool": "各资金池年度需求分布",
    "How each pool's demand in a year varies across runs, with the budget (dashed) and the budget needed at {risk} "
    "risk (solid; its 95% interval shaded).":
        "各资金池年度需求在各次模拟间的分布；虚线为预算，实线为 {risk} 风险水平下的所需预算（阴影为其95%置信区间）。",
    "When pools run dry": "资金池何时用尽",
    "Share of runs in which the pool had run dry by each date; an annual pool starts again at 0 on 1 January.":
        "截至各日期资金池已用尽的模拟占比；按年度安排的资金池每年1月1日重新计算。",
    "Grants by funder": "各级财政拨付",
    "No funder paid anything in any run.": "各次模拟中各级财政均无拨付。",
    "Pools: demand, grants and unmet demand per year (万元)": "资金池：各年度需求、拨付与未满足需求（万元）",
    "Programs: demand, grants and unmet demand per year (万元)": "政策项目：各年度需求、拨付与未满足需求（万元）",
    "{n} program(s) without any application in any run are left out (they are in report.xlsx).":
        "{n} 个在各次模拟中均无申请的项目未列示（见 report.xlsx）。",
    "Funders: grants per year (万元)": "各级财政：各年度拨付（万元）",
    # table headers and cells
    "pool": "资金池", "rationing": "分配方式", "year": "年度", "budget": "预算", "P(dry) ± se": "用尽概率 ± 标准误",
    "P(dry) 95% CI": "用尽概率95%区间", "dry on (median)": "用尽日期（中位数）", "dry on p10–p90": "用尽日期 p10–p90",
    "budget needed at {risk}": "{risk} 风险所需预算", "needed 95% CI": "所需预算95%区间", "needed − budget": "所需 − 现有",
    "measure": "指标", "mean ± se": "均值 ± 标准误", "program (clause, title)": "项目（条款、名称）", "funder": "出资方",
    "no limit": "未设上限", "(life)": "（政策期）", "(cum.)": "（累计）", "95% CI {interval}": "95%区间 {interval}",
    "demand": "需求", "granted": "拨付", "unmet demand": "未满足需求",
    "first_come": "先到先得", "competitive": "竞争性评审", "pro_rata": "按比例分配",
    "province": "省级", "city": "市级", "district": "区级", "county": "县级",
    # charts
    "granted since 1 Jan (万元)": "1月1日起累计拨付（万元）", "10–90% of runs": "第10–90百分位", "median": "中位数",
    "demand (万元)": "需求（万元）", "needed at {risk} risk (95% CI shaded)": "{risk} 风险所需预算（阴影为95%区间）",
    "(cumulative)": "（累计）", "P(ran dry by date)": "截至该日已用尽的概率", "No pool ran dry in any run": "各次模拟中资金池均未用尽",
    "Probability that a pool has run dry, by date": "各资金池截至各日期已用尽的概率",
    "granted (万元)": "拨付（万元）", "Grants by funder per year (mean; bars: 5th–95th percentile of runs)":
        "各级财政年度拨付（均值；误差线为第5–95百分位）",
    "Cumulative grants through the year: {pool}": "年内累计拨付：{pool}", "Annual demand: {pool}": "年度需求分布：{pool}",
    "mean grants (万元)": "平均拨付（万元）", "mean unmet demand (万元)": "平均未满足需求（万元）", "P(runs dry)": "用尽概率",
    "variant": "方案",
    # workbook
    "Read me": "说明", "Pool risk": "资金池风险", "Grants through year": "年内累计拨付", "Charts": "图表",
    "item": "项目", "value": "内容", "title": "名称", "period": "期间", "basis": "口径", "runs dry": "用尽次数",
    "P(dry)": "用尽概率", "P(dry) se": "用尽概率标准误", "P(dry) 95% CI low": "用尽概率95%下限",
    "P(dry) 95% CI high": "用尽概率95%上限", "dry on p10": "用尽日期p10", "dry on median": "用尽日期中位数",
    "dry on p90": "用尽日期p90", "median date CI low": "中位日期95%下限", "median date CI high": "中位日期95%上限",
    "target risk": "目标风险", "budget needed (万元)": "所需预算（万元）", "needed 95% CI low (万元)": "所需预算95%下限（万元）",
    "needed 95% CI high (万元)": "所需预算95%上限（万元）", "budget (万元)": "预算（万元）",
    "mean (万元)": "均值（万元）", "se of mean (万元)": "均值标准误（万元）", "{p} (万元)": "{p}（万元）",
    "{p} 95% CI low (万元)": "{p} 95%下限（万元）", "{p} 95% CI high (万元)": "{p} 95%上限（万元）",
    "policy": "政策", "program": "项目", "clause": "条款", "date": "日期", "cumulative {p} (万元)": "累计{p}（万元）",
    "scenario file": "情景文件", "runs / seed": "模拟次数 / 随机种子", "amounts": "金额", "statistics": "统计口径",
    "demand / granted / unmet": "需求 / 拨付 / 未满足需求",
    "in 万元 (10,000 yuan), stored as numbers exact to the yuan (4 decimals)": "单位万元，以数值存储，精确到元（4位小数）",
    "mean and percentiles across runs; se = Monte Carlo standard error of the mean; '95% CI' columns = "
    "distribution-free interval of each percentile from order statistics; a blank bound cannot be set with this many "
    "runs (more runs are needed)":
        "各次模拟的均值与百分位数；标准误为均值的蒙特卡洛标准误；“95%”各列为由次序统计量得到的百分位数无分布假设区间；"
        "空白表示以现有模拟次数无法界定（需要更多模拟）",
    "demand = what applications were entitled to; granted = paid; unmet = demand − granted":
        "需求 = 申请按政策应得金额；拨付 = 实际支付；未满足需求 = 需求 − 拨付",
    "P(dry) = share of runs in which the pool ran dry (Wilson 95% interval); dry-on dates among those runs; budget "
    "needed = smallest budget with P(demand ≥ budget) ≤ {risk} (basis 'cumulative': a life pool's demand since the "
    "start of the horizon)":
        "用尽概率 = 资金池用尽的模拟占比（Wilson 95%区间）；用尽日期按用尽的模拟统计；所需预算 = 使 P(需求 ≥ 预算) ≤ {risk} "
        "的最小预算（口径“累计”：政策期内总额控制的资金池自测算期起的累计需求）",
    "cumulative grants since 1 January, percentiles across runs, per day": "自1月1日起的累计拨付，逐日，各次模拟的百分位数",
    "not available: the run has no awards table (run with --events)": "无：本次运行没有 awards 表（请用 --events 运行）",
    "Budget and budget needed at {risk} risk (万元)": "预算与 {risk} 风险所需预算（万元）",
    "Chance of running dry with the budget now": "现有预算下的资金用尽概率",
    "budget now": "现有预算", "year (cum.)": "年度（累计）", "cumulative": "累计", "life": "政策期",
    # terminal
    "Budget report": "预算测算报告", "± Monte Carlo standard error · 95% intervals": "± 蒙特卡洛标准误 · 95% 区间",
    "Pools (万元): chance of running dry; budget needed at {risk} risk": "资金池（万元）：用尽概率；{risk} 风险所需预算",
    "± se": "± 标准误", "dry by\nmedian": "用尽日\n中位数", "needed": "所需", "needed\n95% CI": "所需\n95%区间",
    "needed\n− budget": "所需\n− 现有", "Pools (万元): demand, grants and unmet demand per year": "资金池（万元）：各年度需求、拨付与未满足需求",
    "demand\nmean ± se": "需求\n均值 ± 标准误", "demand\np95": "需求\np95", "granted\nmean": "拨付\n均值",
    "granted\np95": "拨付\np95", "unmet\nmean": "未满足\n均值", "unmet\np95": "未满足\np95",
    "Programs with applications (万元)": "有申请的项目（万元）", "program · clause · title": "项目 · 条款 · 名称",
    "demand\nmean": "需求\n均值", "granted\nmean ± se": "拨付\n均值 ± 标准误", "Funders (万元): grants per year": "各级财政（万元）：年度拨付",
    "More runs needed: the 95% interval of the budget needed is wider than ±5% for {n} pool-year(s) ({which}); try "
    "--runs {runs} (four times the runs halve the intervals).":
        "需要更多模拟：{n} 个资金池年度的所需预算95%区间宽于 ±5%（{which}）；可试 --runs {runs}（模拟次数增至4倍，区间约减半）。",
    "* a pool with one budget over the policy's life: figures cumulate from the start of the horizon.":
        "* 政策期内总额控制的资金池：数字自测算期起累计。",
    "No awards table: the chart of grants through the year is missing; run with --events to draw it.":
        "没有 awards 表：缺少年内累计拨付图；请用 --events 运行。",
    "Pools per budget year (万元; demand = what applications asked)": "各资金池各预算年度（万元；需求 = 申请应得金额）",
    "demand\np50": "需求\np50", "demand\np90": "需求\np90", "granted\np50": "拨付\np50", "granted\np90": "拨付\np90",
    "{runs} runs of {name} (seed {seed}, engine {engine}, {executor} × {workers}) in {seconds} s → {out}":
        "{name} 模拟 {runs} 次（随机种子 {seed}，引擎 {engine}，{executor} × {workers}），用时 {seconds} 秒 → {out}",
    "report: {files}": "报告：{files}",
    "Budgets that keep the chance of running dry at or below {risk} (万元)": "使资金用尽概率不超过 {risk} 的预算（万元）",
    "budget\nnow": "现有\n预算", "P(dry)\nnow": "现有预算下\n用尽概率", "budget\nneeded": "所需\n预算",
    "change": "变化", "P(dry) with\nneeded ± se": "所需预算下\n用尽概率 ± 标准误",
    "{runs} runs of {name} (seed {seed}), confirmed with the same seed → {out}":
        "{name} 模拟 {runs} 次（随机种子 {seed}），并以同一随机种子复核 → {out}",
    "{n} pool-year(s) run dry more often than {risk} with the budget needed (all-or-nothing grants that do not fit, "
    "claims made again after a refusal or applications released late by a 不重复 group empty a pool before its "
    "payable demand reaches the budget); see sizing.csv.":
        "{n} 个资金池年度在所需预算下的用尽概率仍高于 {risk}（放不下的全额或不予支持、被拒后再次申请、不重复组合中延后释放的申请，"
        "会在可支付需求达到预算前用尽资金池）；见 sizing.csv。",
    "not sized: {what}: {why}": "未测算：{what}：{why}",
    "no demand in any run: its budget is kept": "各次模拟均无需求：保留现有预算",
    "no limit in the policy: nothing to size (`sim report` shows what they would need)":
        "政策未设上限：无需测算（`sim report` 给出其所需金额）",
    "The 95% CI is the Monte Carlo uncertainty of the budget needed (more runs narrow it); the confirmation reuses the "
    "same random draws, so it checks the rationing, not that uncertainty.":
        "95%区间为所需预算的蒙特卡洛不确定性（增加模拟次数可收窄）；复核使用同一组随机抽样，检验的是分配规则，而非该不确定性。",
    "sizing: {files}": "预算测算结果：{files}",
    "Budget needed on {basis}: what each pool would grant with unlimited money (count limits and shared caps applied), "
    "the basis on which it runs dry.":
        "所需预算口径为{basis}：资金不限时各资金池（按名额限制和共享上限）会拨付的金额，即判断资金用尽的口径。",
    "Budget needed on {basis}: all that was asked (a run written before payable demand was recorded).":
        "所需预算口径为{basis}：全部申请金额（该次运行早于可支付需求的记录）。",
    # cash
    "Commitments and cash": "承诺与现金支付",
    "Commitments and cash per fiscal year": "各财政年度承诺额与现金支付",
    "Not available: this run has no cash tables (it was written before sim recorded payments); run the scenario again.":
        "无法列示：本次运行没有现金支付表（由记录支付时间之前的 sim 版本生成）；请重新运行情景。",
    "A pool's budget limits <b>commitments</b>: grants, in the year they are decided. The treasury pays <b>cash</b> "
    "when the grant is paid, which the texts put later for some programs (vouchers when redeemed, awards on completion, "
    "platforms by year), so cash runs into the years after the horizon. <b>Budget needed</b> on each basis: the "
    "smallest amount the year's commitments (or cash) exceed in at most {risk} of runs; <b>outstanding</b>: committed "
    "by the year's end and not yet paid nor lapsed; <b>lapsed</b>: never paid (vouchers never redeemed, projects never "
    "completed).":
        "资金池预算控制的是<b>承诺额</b>：按决定年度计的核定金额。国库在实际支付时支出<b>现金</b>，而部分项目的政策文本规定"
        "事后支付（算力券兑付时、项目建成后、平台按年度），因此现金支出延续到测算期之后的年度。各口径的<b>所需预算</b>："
        "当年承诺额（或现金支付）超过该金额的模拟占比不高于 {risk} 的最小金额；<b>年末未付</b>：截至年末已承诺、"
        "尚未支付也未失效的金额；<b>失效</b>：永不支付的金额（未兑付的算力券、未建成的项目）。",
    "committed mean ± se": "承诺额 均值 ± 标准误", "paid mean ± se": "现金支付 均值 ± 标准误",
    "needed at {risk}, commitment basis": "{risk} 风险所需预算（承诺口径）",
    "needed at {risk}, cash basis": "{risk} 风险所需预算（现金口径）",
    "outstanding at year end (mean)": "年末未付（均值）", "lapsed (mean)": "失效（均值）",
    "all pools": "全部资金池", "all funders": "各级合计",
    "For each month of a fiscal year, what the pool has paid since 1 January: the median run (line) and the 10th–90th "
    "percentile of runs (band), against its budget, a ceiling on commitments (dashed), and the cash budget needed at "
    "{risk} (solid).":
        "财政年度内每个月，资金池自1月1日起的累计现金支付：中位数（实线）及第10–90百分位区间（阴影）；虚线为资金池预算"
        "（承诺额上限），实线为 {risk} 风险下现金口径所需预算。",
    "Paid when committed (cash = commitments each year): {pools}.": "承诺即支付（各年度现金支付 = 承诺额）：{pools}。",
    "budget (ceiling on commitments)": "预算（承诺额上限）", "cash budget needed": "现金口径所需预算",
    "paid since 1 Jan (万元)": "1月1日起累计支付（万元）", "Cumulative cash through the year: {pool}": "年内累计现金支付：{pool}",
    "Commitments and cash (万元); budget needed at {risk} risk on each basis": "承诺额与现金支付（万元）；{risk} 风险下各口径所需预算",
    "pool · funder": "资金池 · 出资方", "committed\nmean": "承诺额\n均值", "needed\ncommitment": "所需\n承诺口径",
    "paid\nmean": "支付\n均值", "needed\ncash": "所需\n现金口径", "outstanding\nyear end": "年末\n未付",
    "lapsed\nmean": "失效\n均值",
    "No cash tables: this run was written before sim recorded payments; run it again for cash by year.":
        "没有现金支付表：本次运行由记录支付时间之前的 sim 版本生成；重新运行可得各年度现金支付。",
    "Cash by year": "年度现金支付", "Cash by month": "月度现金支付", "month": "月份",
    "committed mean (万元)": "承诺额均值（万元）", "committed se (万元)": "承诺额标准误（万元）",
    "committed p50 (万元)": "承诺额p50（万元）", "needed, commitment basis (万元)": "所需预算·承诺口径（万元）",
    "needed, commitment basis, 95% CI low (万元)": "所需预算·承诺口径95%下限（万元）",
    "needed, commitment basis, 95% CI high (万元)": "所需预算·承诺口径95%上限（万元）",
    "paid mean (万元)": "支付均值（万元）", "paid se (万元)": "支付标准误（万元）", "paid p50 (万元)": "支付p50（万元）",
    "needed, cash basis (万元)": "所需预算·现金口径（万元）",
    "needed, cash basis, 95% CI low (万元)": "所需预算·现金口径95%下限（万元）",
    "needed, cash basis, 95% CI high (万元)": "所需预算·现金口径95%上限（万元）",
    "outstanding at year end, mean (万元)": "年末未付均值（万元）", "outstanding at year end, p95 (万元)": "年末未付p95（万元）",
    "lapsed mean (万元)": "失效均值（万元）", "paid {p} (万元)": "支付{p}（万元）",
    "per pool and funder and fiscal year (the years after the horizon included): commitments (grants in the year "
    "decided) and cash (paid in the year), each with the budget needed at {risk} risk (the amount exceeded in at most "
    "that share of runs); outstanding = committed and neither paid nor lapsed at the year's end; lapsed = never paid":
        "按资金池、出资方和财政年度（含测算期之后的年度）：承诺额（按决定年度计的核定金额）与现金支付（当年实际支付），"
        "各附 {risk} 风险下的所需预算（超过该金额的模拟占比不高于该风险）；年末未付 = 截至年末已承诺、既未支付也未失效；"
        "失效 = 永不支付",
    "not available: the run has no cash tables (run it again)": "无：本次运行没有现金支付表（请重新运行）",
    "cash paid per pool and funder and month: mean and percentiles across runs": "按资金池、出资方和月份的现金支付：各次模拟的均值与百分位数",
    "Cash each fiscal year with those budgets: budget needed at {risk} risk on a cash basis (万元)":
        "按上述预算各财政年度的现金支付：{risk} 风险下现金口径所需预算（万元）",
    "Cash on a cash basis: the amount the year's cash exceeds in at most {risk} of runs, with the budgets above; years "
    "after the horizon are the tail of commitments made in it.":
        "现金口径：按上述预算，当年现金支付超过该金额的模拟占比不高于 {risk}；测算期之后的年度为测算期内承诺的后续支付。",
    # sweep
    "Sweep: {title}": "方案比较：{title}",
    "{n} variants × {runs} runs, seed {seed} for all (common random numbers) → {out}":
        "{n} 个方案 × {runs} 次模拟，各方案使用同一随机种子 {seed}（共同随机数）→ {out}",
    "Variants": "方案", "Pools the sweep changes (万元; ± standard error)": "方案间有变化的资金池（万元；± 标准误）",
    "No pool changes across the variants (万元)": "各方案间资金池均无变化（万元）",
    "pool\nbudget": "资金池\n预算",
    "needed at\n{risk}": "{risk}\n所需预算", "sweep: {files}": "方案比较：{files}",
    "How to read this sweep": "阅读说明", "folder": "文件夹",
    "Variants differ only by the values set; every variant uses seed {seed}, so the differences are the effect of the "
    "change, not sampling noise between variants.":
        "各方案仅在设定的参数上不同；所有方案使用同一随机种子 {seed}，差异即为参数变化的影响，而非方案间的抽样噪声。",
    "Amounts in 万元; ± is the Monte Carlo standard error; each variant's full report: <code>sim report {out}/v01</code> …":
        "金额单位为万元；± 为蒙特卡洛标准误；各方案的完整报告：<code>sim report {out}/v01</code> …",
    "What changes across the variants": "各方案间的变化",
    "No pool's figures differ between the variants.": "各方案间资金池的数字均无差异。",
    "Comparison per pool and year (budget needed at {risk} risk)": "按资金池和年度比较（{risk} 风险所需预算）",
    "pool budget": "资金池预算", "demand mean": "需求均值", "granted mean ± se": "拨付均值 ± 标准误",
    "unmet mean ± se": "未满足需求均值 ± 标准误", "budget needed": "所需预算",
    "Pools with the same figures in every variant (in sweep.parquet, left out here): {pools}.":
        "各方案数字相同的资金池（见 sweep.parquet，此处不列示）：{pools}。",
    "{n} variants × {runs} runs · seed {seed} for every variant (common random numbers)":
        "{n} 个方案 × {runs} 次模拟 · 各方案随机种子均为 {seed}（共同随机数）",
    # sensitivity
    "What drives it": "影响因素", "Which assumption drives each figure": "哪些假设影响各项数字",
    "The scenario gives some assumptions as distributions, drawn once per run. Across the {runs} runs, ρ is the rank "
    "correlation of an assumption with a pool's figure (its sign says which way the figure moves; a 95% interval "
    "containing 0 means the runs cannot tell an effect), the share is its first-order variance index (the part of the "
    "figure's variance that knowing it would remove), and 'explained by assumptions' is the part of the variance all "
    "assumptions explain together; the rest is firm-to-firm chance. Charts show pools whose demand the assumptions "
    "explain at least 10% of in some year; every row is in sensitivity.parquet.":
        "情景把部分假设给成概率分布，每次模拟抽取一次。在 {runs} 次模拟中，ρ 为某一假设与资金池数字的秩相关系数（正负号表示数字随之"
        "增减；95%区间包含0表示模拟无法区分其影响），份额为其一阶方差指数（确知该假设可消除的方差比例），“假设可解释部分”为全部假设"
        "合起来可解释的方差比例，其余为企业间的随机差异。图中仅列出某一年需求至少10%可由假设解释的资金池；全部结果见 sensitivity.parquet。",
    "explained by assumptions": "假设可解释部分", "first": "第一", "second": "第二", "third": "第三",
    "explained\n(95% CI)": "可解释\n（95%区间）", " · explained {share}": " · 可解释 {share}",
    "rank correlation with demand": "与需求的秩相关", "What drives demand: {pool}": "需求的影响因素：{pool}",
    "Which assumption drives each figure (ρ: rank correlation across runs; %: first-order share)":
        "哪些假设影响各项数字（ρ：各次模拟间的秩相关；%：一阶方差份额）",
    "Sensitivity": "敏感性", "parameter": "参数", "assumption": "假设", "rank": "排序", "rank correlation": "秩相关系数",
    "rank correlation 95% CI low": "秩相关95%下限", "rank correlation 95% CI high": "秩相关95%上限",
    "first-order share": "一阶方差份额", "share 95% CI low": "份额95%下限", "share 95% CI high": "份额95%上限",
    "explained 95% CI low": "可解释部分95%下限", "explained 95% CI high": "可解释部分95%上限",
    "Rank correlation with demand: {pool} {year}": "与需求的秩相关：{pool} {year}",
    "per pool, year and figure (demand, granted, P(dry)) and uncertain assumption: rank correlation across runs with "
    "its 95% interval, first-order variance share (RBD-FAST) with its interval, and the share of the figure's variance "
    "all assumptions explain together (the rest is firm-to-firm chance)":
        "按资金池、年度、指标（需求、拨付、用尽概率）和不确定假设列示：各次模拟间的秩相关系数及95%区间，一阶方差份额（RBD-FAST）"
        "及其区间，以及全部假设合起来可解释的方差比例（其余为企业间的随机差异）",
    # tornado
    "Tornado: {title}": "龙卷风图：{title}", "How to read this tornado": "阅读说明",
    "Each assumption is held at its 10th and then its 90th percentile, every other as in the scenario (still drawn run "
    "by run), with the same seed: the two runs see the same firms, so the swing (at the 90th minus at the 10th) comes "
    "from paired runs, with a 95% interval.":
        "每个假设分别固定在其第10和第90百分位，其余假设与情景相同（仍逐次抽取），并使用同一随机种子：两次运行面对相同的企业，"
        "因此摆幅（第90百分位减第10百分位）由配对模拟估计，并给出95%区间。",
    "Budget needed at {risk} risk in 万元; P(dry) with the budget as in the scenario. Each run is kept in its folder "
    "(base/, 01-low/, 01-high/, …) for `sim report`.":
        "所需预算为 {risk} 风险水平，单位万元；用尽概率按情景中的预算计算。各次运行保存在各自文件夹（base/、01-low/、01-high/ 等），"
        "可用 `sim report` 查看。",
    "Assumptions held at their 10th and 90th percentile": "固定在第10和第90百分位的假设",
    "Swing of the budget needed and of P(dry)": "所需预算与用尽概率的摆幅",
    "No pool has a budget.": "没有设定预算的资金池。",
    "Per pool, year and assumption, largest swing first": "按资金池、年度和假设列示，摆幅大者在前",
    "at P10": "P10 时", "at P90": "P90 时", "swing": "摆幅",
    "Tornado of the {what}: {pool}": "{what}龙卷风图：{pool}",
    "Tornado of {name}: {runs} runs per setting, seed {seed}, each assumption at its 10th and 90th percentile (others "
    "as in the scenario)": "{name} 龙卷风分析：每种设定 {runs} 次模拟，随机种子 {seed}，每个假设分别取第10和第90百分位（其余与情景相同）",
    "Swing of the budget needed at {risk} risk (万元) and of P(dry), largest first": "{risk} 风险所需预算（万元）与用尽概率的摆幅，大者在前",
    "assumption (P10 → P90)": "假设（P10 → P90）", "needed\nat P10": "P10 时\n所需预算", "needed\nat P90": "P90 时\n所需预算",
    "swing\n95% CI": "摆幅\n95%区间", "P(dry)\nP10 → P90": "用尽概率\nP10 → P90", "tornado: {files}": "龙卷风图：{files}",
    # compare
    "Comparison: {a} and {b}": "方案对比：{a} 与 {b}",
    "How to read this comparison": "阅读说明",
    "Both runs use seed {seed}: run r of A and run r of B see the same firms, so B − A is estimated from the {runs} "
    "per-run differences (paired). The independent standard error is what two runs with different seeds would give: "
    "the paired one is usually far smaller.":
        "两次运行使用同一随机种子 {seed}：A 的第 r 次模拟与 B 的第 r 次模拟面对相同的企业，因此 B − A 由 {runs} 个逐次差值估计"
        "（配对）。“独立标准误”为两次使用不同随机种子的运行所能达到的精度；配对标准误通常小得多。",
    "Amounts in 万元; 95% intervals. The budget needed is at {risk} risk; its interval comes from a bootstrap over runs.":
        "金额单位为万元；区间为95%置信区间。所需预算对应 {risk} 风险水平，其区间由对模拟次数的自助法（bootstrap）得到。",
    "Runs compared": "对比的运行", "values set": "设定的参数", "Differences B − A with their 95% intervals": "差值 B − A 及其95%区间",
    "No figure differs between the runs.": "两次运行的各项数字均无差异。", "Per pool and year": "按资金池和年度",
    "paired se": "配对标准误", "independent se": "独立标准误", "95% CI": "95%区间",
    "granted, mean": "拨付均值", "unmet demand, mean": "未满足需求均值",
    "granted, mean (万元)": "拨付均值（万元）", "unmet demand, mean (万元)": "未满足需求均值（万元）",
    "B − A per pool and year (dots) with 95% intervals (bars)": "各资金池各年度 B − A（点）及95%区间（线段）",
    "Compare {a} (A) and {b} (B): {runs} runs, seed {seed}, paired by run": "对比 {a}（A）与 {b}（B）：{runs} 次模拟，随机种子 {seed}，逐次配对",
    "Paired differences B − A (万元; budget needed at {risk} risk)": "配对差值 B − A（万元；{risk} 风险所需预算）",
    "compare: {files}": "对比结果：{files}",
    "Pools with the same figures in both runs (in compare.parquet, left out here): {pools}.":
        "两次运行数字相同的资金池（见 compare.parquet，此处不列示）：{pools}。",
}


def tr(lang: Lang, text: str, **values: object) -> str:
    """``text`` in ``lang``, with ``{name}`` placeholders filled; a Chinese text missing from :data:`ZH` raises."""
    if lang not in LANGS:
        raise ValueError(f"lang(={lang!r}) must be zh or en")
    out = ZH[text] if lang == "zh" else text
    return out.format(**values) if values else out


def amount(yuan: int | float | None, lang: Lang) -> str:
    """An amount for prose: ``1.25亿元`` or ``3,500万元`` in Chinese, ``12,500 万元`` in English."""
    if yuan is None:
        return "—"
    if lang == "zh" and abs(yuan) >= 100_000_000:
        return f"{yuan / 100_000_000:,.2f}".rstrip("0").rstrip(".") + "亿元"
    return f"{yuan / 10_000:,.0f}" + ("万元" if lang == "zh" else " 万元")
