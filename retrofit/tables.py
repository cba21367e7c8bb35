"""The tables users see, with Chinese headers, built from report/query frames. Pages show them
and exports write the very same frames to XLSX/CSV.

Ranking-style tables hold formatted text (fmt conventions, already in rank order). Lists that
users sort (communities, villages, households) keep numbers as numbers, units in the header.
"""
import pandas as pd

from . import fmt
from .measures import FLAG_LABELS_SHORT, compute_flag, compute_gap_pp
from .vocab import MILESTONES, PROCUREMENT_STEPS, PROGRAMS

FLAG_COLUMN = "标识"


def _wan(yuan: pd.Series) -> pd.Series:
    """Yuan as 万元 with two decimals (numbers stay numbers for sorting)."""
    return yuan.map(fmt.wan_value)


def _yuan(values: pd.Series) -> pd.Series:
    return values.map(fmt.round_half_up)


def describe_gap(gap_pp, target, line: str = "目标线") -> str:
    """'+1.9个百分点(节点进度线88.8%)', '持平(目标100.0%)'; '' without a target."""
    if gap_pp is None or pd.isna(gap_pp) or target is None or pd.isna(target):
        return ""
    gap = "持平" if fmt.format_pp(gap_pp) == "0.0个百分点" else fmt.format_pp(gap_pp)
    return f"{gap}({fmt.format_target(line, target)})"


def build_ranking_table(ranking: pd.DataFrame, label: str, unit: str = "", done: str = "完成",
                        base: str = "计划/基数", ranked_as: str = "县区") -> pd.DataFrame:
    """名次, 县区 (or `ranked_as`: 市), the measure, `done` and `base` (its numerator and denominator,
    with `unit`), 目标线, 差距, 标识, 较上期; and 发布后修正 (today's figure) when a published figure
    has changed."""
    table = _ranking_columns(ranking, label, unit, done, base).rename(columns={"县区": ranked_as})
    if "corrected" in ranking and ranking["corrected"].any():
        table[CORRECTED_COLUMN] = [f"现为{fmt.format_percent_of(n, d)}" if c else "" for c, n, d in zip(
            ranking["corrected"], ranking["current_numerator"], ranking["current_denominator"])]
    return table


CORRECTED_COLUMN = "发布后修正"


def _ranking_columns(ranking: pd.DataFrame, label: str, unit: str, done: str, base: str) -> pd.DataFrame:
    return pd.DataFrame({
        "名次": ranking["rank"].map(fmt.format_int), "县区": ranking["county"],
        label: [fmt.format_percent_of(n, d) for n, d in zip(ranking["numerator"], ranking["denominator"])],
        done: [fmt.format_count(n, unit) for n in ranking["numerator"]],
        base: [fmt.format_count(d, unit) for d in ranking["denominator"]],
        "目标线": ranking["target"].map(fmt.format_percent), "差距": ranking["gap_pp"].map(fmt.format_pp),
        FLAG_COLUMN: ranking["flag"].map(FLAG_LABELS_SHORT), "较上期": ranking["rank_change"].map(fmt.format_rank_change),
    })


def build_headline_table(headline: pd.DataFrame) -> pd.DataFrame:
    """report.compute_headline as text: 工作, 指标, 数值, 完成, 计划/基数, 目标线, 差距, 标识."""
    return pd.DataFrame({
        "工作": headline["program"].map(PROGRAMS), "指标": headline["label"],
        "数值": [fmt.format_percent_of(n, d) for n, d in zip(headline["numerator"], headline["denominator"])],
        "完成": [fmt.format_count(n, u) for n, u in zip(headline["numerator"], headline["unit"])],
        "计划/基数": [fmt.format_count(d, u) for d, u in zip(headline["denominator"], headline["unit"])],
        "目标线": headline["target"].map(fmt.format_percent), "差距": headline["gap_pp"].map(fmt.format_pp),
        FLAG_COLUMN: headline["flag"].map(FLAG_LABELS_SHORT),
    })


def build_compact_ranking_table(ranking: pd.DataFrame, ranked_as: str = "县区") -> pd.DataFrame:
    """The ranking in five columns, for the overview."""
    table = build_ranking_table(ranking, "数值", ranked_as=ranked_as)
    return table[["名次", ranked_as, "数值", "差距", FLAG_COLUMN, "较上期"]]


def build_retained_table(retained: pd.DataFrame) -> pd.DataFrame:
    """Allocations with money not yet disbursed: oldest first, flagged ones marked 红."""
    return pd.DataFrame({
        "县区": retained["county"], "工作": retained["program"].map(PROGRAMS), "年度": retained["plan_year"],
        "资金来源": retained["source"], "下达日期": retained["allocated_on"],
        "已下达(万元)": _wan(retained["allocated_yuan"]), "已拨付(万元)": _wan(retained["disbursed_yuan"]),
        "未拨付(万元)": _wan(retained["undisbursed_yuan"]), "其中应拨付(万元)": _wan(retained["due_yuan"]
                                                                              - retained["disbursed_due_yuan"]),
        "资金留置(万元)": _wan(retained["retained_yuan"]), "已下达天数": retained["age_days"],
        "账龄": retained["age_band"], FLAG_COLUMN: retained["flagged"].map({True: "红", False: ""}),
    })


def build_laggard_table(laggards: pd.DataFrame) -> pd.DataFrame:
    """Red-flagged counties with the reason in words, furthest behind first."""
    return pd.DataFrame({"县区": laggards["county"], "工作": laggards["program"].map(PROGRAMS),
                         "落后原因": laggards["reason"]})


def build_supervision_table(items: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "县区": items["county"], "工作": items["program"].map(PROGRAMS), "督办事项": items["text"],
        "交办日期": items["opened_on"], "办结期限": items["deadline"], "状态": items["status"],
        "逾期天数": items["days_overdue"],
    })


def build_community_table(communities: pd.DataFrame, query: str = "") -> pd.DataFrame:
    """One row per community; `query` keeps rows whose name, street, county or code contains it."""
    frame = _matching(communities, ["name", "street", "county", "code"], query)
    return pd.DataFrame({
        "编号": frame["code"], "县区": frame["county"], "街道": frame["street"], "小区": frame["name"],
        "建成年份": frame["year_built"], "楼栋": frame["buildings"], "户数": frame["households"],
        "面积(平方米)": frame["floor_area_m2"], "改造类型": frame["renovation_type"],
        "计划投资(万元)": _wan(frame["planned_investment_yuan"]), "当前阶段": frame["stage"],
        "逾期阶段": frame["late_stage"], "逾期天数": frame["days_late"],
        "示范": frame["is_demonstration"].map({True: "是", False: ""}),
    }).reset_index(drop=True)


def build_community_facts(community: pd.Series) -> pd.DataFrame:
    """One community's facts as two columns (项目, 内容) for its detail view."""
    contents = "; ".join(f"{cls}:{items}" for cls, items in (
        ("基础类", community["content_basic"]), ("完善类", community["content_improve"]),
        ("提升类", community["content_upgrade"])) if items)
    facts = [
        ("编号", community["code"]), ("批次", f"{community['batch_year']}年"),
        ("建成年份", f"{community['year_built']}年"), ("楼栋 / 户数", f"{community['buildings']}栋 / {community['households']}户"),
        ("建筑面积", fmt.format_area(community["floor_area_m2"])), ("物业类型", community["property_type"]),
        ("改造类型", community["renovation_type"]), ("改造内容", contents or fmt.NOTHING),
        ("计划投资", fmt.format_yuan(community["planned_investment_yuan"])),
        ("加装电梯", f"{community['elevators_added']}部"),
        ("示范样板", "是" if community["is_demonstration"] else "否"),
        ("征求居民意见", "已完成" if community["consultation_done"] else "未完成"),
        ("管线同步改造", "已协调" if community["pipelines_coordinated"] else "未协调"),
        ("当前阶段", community["stage"]),
        ("逾期", f"{community['late_stage']}逾期{community['days_late']}天" if community["days_late"] else "无"),
    ]
    return pd.DataFrame(facts, columns=["项目", "内容"])


def _matching(frame: pd.DataFrame, columns: list[str], query: str) -> pd.DataFrame:
    """Rows where any of `columns` contains `query` (all rows for an empty query)."""
    if not query.strip():
        return frame
    text = frame[columns].astype(str).agg(" ".join, axis=1)
    return frame[text.str.contains(query.strip(), regex=False)]


def build_village_table(villages: pd.DataFrame, target: float | None = None, query: str = "") -> pd.DataFrame:
    """One row per village with households in the year's task, their milestones, and the flag
    of its completion against `target` (the heating time line); `query` keeps villages whose
    name, township or county contains it."""
    villages = _matching(villages, ["village", "township", "county"], query)
    table = pd.DataFrame({
        "村编码": villages["village_code"], "县区": villages["county"], "乡镇": villages["township"],
        "村": villages["village"], "任务户数": villages["task_households"], "其中结转": villages["carried_households"],
    })
    for m in MILESTONES:
        table[m.label] = villages[f"{m.key}_households"]
    net = villages["task_households"] - villages["cancelled_households"]  # cancellations leave the task
    table["完成率(%)"] = [fmt.percent_value(c, t) for c, t in zip(villages["connected_households"], net)]
    table["闲置"] = villages["idle_households"]
    table["核减(销户)"] = villages["cancelled_households"]
    table[FLAG_COLUMN] = [FLAG_LABELS_SHORT[compute_flag(compute_gap_pp(c, t, target))]
                          for c, t in zip(villages["connected_households"], net)]
    return table.reset_index(drop=True)


def build_household_table(households: pd.DataFrame) -> pd.DataFrame:
    """A village's households as queries.load_village_households gave them: the head's name
    masked there unless the reader may see it, the phone stored masked, no ID numbers anywhere."""
    table = pd.DataFrame({
        "农户编码": households["code"], "户主": households["head_name"],
        "联系电话": households["phone_masked"], "计划年度": households["plan_year"], "技术路线": households["route"],
        "设备费用(元)": households["equipment_cost_yuan"], "补贴(元)": households["subsidy_yuan"],
        "自付(元)": households["equipment_cost_yuan"] - households["subsidy_yuan"],
        "运行费用(元/季)": households["running_cost_yuan"], "状态": households["status"],
    })
    for m in MILESTONES:
        table[m.label] = households[f"{m.key}_on"]
    return table


def build_procurement_table(procurement: pd.DataFrame) -> pd.DataFrame:
    """Each county's procurement steps with dates and the step it has reached."""
    table = pd.DataFrame({"县区": procurement["county"]})
    reached = []
    for _, row in procurement.iterrows():
        done = [p.label for p in PROCUREMENT_STEPS if row[f"{p.key}_on"] is not None and not pd.isna(row[f"{p.key}_on"])]
        reached.append(done[-1] if done else "实施方案未下发")
    table["当前环节"] = reached
    for p in PROCUREMENT_STEPS:
        table[p.label] = procurement[f"{p.key}_on"]
    return table


def build_economics_table(economics: pd.DataFrame, invest_reference: int, running_reference: int) -> pd.DataFrame:
    return pd.DataFrame({
        "技术路线": economics["route"], "户数": economics["households"],
        "户均设备费用(元)": _yuan(economics["equipment_cost"]), "户均补贴(元)": _yuan(economics["subsidy"]),
        "户均自付(元)": _yuan(economics["own_share"]), "户均运行费用(元/季)": _yuan(economics["running_cost"]),
        "原燃煤费用(元/季)": _yuan(economics["coal_cost"]), "每季节省(元)": _yuan(economics["saving"]),
        f"初始投资≤{invest_reference:,}元": (economics["equipment_cost"] <= invest_reference).map({True: "是", False: "否"}),
        f"运行费用≤{running_reference:,}元": (economics["running_cost"] <= running_reference).map({True: "是", False: "否"}),
    })


def build_published_table(reports: pd.DataFrame) -> pd.DataFrame:
    """发布记录: one row per published report, withdrawn ones with who withdrew them and why."""
    when = lambda values: [v.strftime("%Y-%m-%d %H:%M") if not pd.isna(v) else "" for v in values]  # noqa: E731
    return pd.DataFrame({
        "编号": reports["id"], "数据截至": reports["report_on"], "对比上期": reports["previous_on"],
        "发布时间": when(reports["published_at"]), "发布人": reports["published_by"], "状态": reports["status"],
        "撤回时间": when(reports["withdrawn_at"]), "撤回人": reports["withdrawn_by"].fillna(""),
        "撤回理由": reports["withdraw_reason"].fillna(""),
    })


def build_corrections_table(corrections: pd.DataFrame) -> pd.DataFrame:
    """更正记录: per published date, county and measure, the figure as published and as it reads today."""
    return pd.DataFrame({
        "通报日期": corrections["report_on"], "工作": corrections["program"], "指标": corrections["measure"],
        "县区": corrections["county"], "发布时": corrections["published"], "现在": corrections["current"],
        "发布时(%)": corrections["published_value"], "现在(%)": corrections["current_value"],
        "发布后的导入": corrections["source"],
    })
