"""The measures: what each one divides by what, its target line, and the pure arithmetic
(rates, target curves, gaps, flags, money due and retained). Defined once here; queries supply
the counts.

A measure's value is numerator / denominator. Its target on a date comes from the plan's node
requirements for its step (节点进度线, piecewise linear through the nodes), or where the plan sets
no nodes from the time line up to the step's deadline (时间进度线, 时间过半、任务过半), or is a fixed
share (目标). Gaps and flags compare the published figures: value and target each rounded half up
to one decimal percent, as read out at the meeting, so "80.0%, 目标线80.0%" is on the line.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from . import fmt
from .settings import (FLAG_THRESHOLDS, RENOVATION_FUNDS_DUE_DAYS, RESIDENT_SHARE_DUE, RESIDENT_SHARE_TARGET,
                       RETENTION_AGE_DAYS, RETENTION_TOLERANCE_YUAN, SUBSIDY_DUE_DAYS, FlagThresholds)
from .vocab import HEATING, NO_STAGE, RENOVATION, STAGE_STANDING, STAGES, STEP_DONE_WORDS

RED, YELLOW, GREEN, NO_FLAG = "red", "yellow", "green", "none"
FLAG_LABELS_SHORT = {RED: "红", YELLOW: "黄", GREEN: "绿", NO_FLAG: ""}


@dataclass(frozen=True)
class Measure:
    program: str
    key: str                    # CLI name, unique within its program
    label: str                  # what the user reads
    source: str                 # the query feeding it: renovation | funds | heating
    numerator: str              # column of the source frame
    denominator: str
    unit: str                   # unit of numerator and denominator: 个 户 元 平方米
    step: str | None = None     # the plan step whose nodes (else deadline) draw the target line, or
    target: float | None = None  # a fixed target share when there is no line
    line_from: str = "period_start"  # where the fallback time line starts rising from 0
    deadline: str | None = None  # the fallback line's deadline column, if not "<step>_deadline"
    # (month, day) of the plan year before which a fixed target is not judged yet (money not due).
    target_from: tuple[int, int] | None = None
    higher_is_better: bool = True
    description: str = ""
    done_label: str = "完成"      # what the numerator is called in tables, cards and sheets
    base_label: str = "计划"      # and the denominator (money: 应拨付, never 计划)


MEASURES = (
    Measure(RENOVATION, "start_rate", "开工率", "renovation", "start_communities", "communities", "个",
            step="start", description="已开工小区数 ÷ 年度计划小区数"),
    Measure(RENOVATION, "finish_rate", "完工率", "renovation", "finish_communities", "communities", "个",
            step="finish", description="已完工小区数 ÷ 年度计划小区数"),
    Measure(RENOVATION, "accept_rate", "竣工验收率", "renovation", "accept_communities", "communities", "个",
            step="accept", line_from="finish_deadline",
            description="已竣工验收小区数 ÷ 年度计划小区数(完工期限后开始考核)"),
    Measure(RENOVATION, "households_finish_rate", "完工户数占比", "renovation", "finish_households", "households",
            "户", step="finish", description="已完工小区户数 ÷ 年度计划户数"),
    Measure(RENOVATION, "investment_rate", "投资完成率", "renovation", "completed_investment_yuan",
            "planned_investment_yuan", "元", step="finish", description="完成投资 ÷ 计划投资"),
    Measure(RENOVATION, "disbursement_rate", "资金拨付率", "funds", "disbursed_due_yuan", "due_yuan", "元",
            target=1.0, description=f"已拨付到项目资金 ÷ 应拨付资金(下达满{RENOVATION_FUNDS_DUE_DAYS}天的资金)",
            done_label="已拨付", base_label="应拨付"),
    # Divided by the batch's planned investment, which is fixed when the batch is approved, so the
    # share does not move with the dates money happens to be allocated; judged once residents'
    # contributions are due (settings.RESIDENT_SHARE_DUE).
    Measure(RENOVATION, "resident_share", "居民出资占比", "funds", "resident_yuan", "planned_investment_yuan", "元",
            target=RESIDENT_SHARE_TARGET, target_from=RESIDENT_SHARE_DUE,
            description="居民出资 ÷ 年度计划投资", done_label="居民出资", base_label="计划投资"),
    Measure(HEATING, "completion_rate", "完成率", "heating", "connected_households", "net_target_households", "户",
            step="connected", description="通气通电户数 ÷ 年度计划户数(含结转,扣除核减)"),
    Measure(HEATING, "confirmed_rate", "确村到户率", "heating", "confirmed_households", "net_target_households",
            "户", step="confirmed", description="确村到户户数 ÷ 年度计划户数(扣除核减)"),
    Measure(HEATING, "tendered_rate", "设备招标率", "heating", "tendered_households", "net_target_households",
            "户", step="tendered", description="设备已招标户数 ÷ 年度计划户数(扣除核减)"),
    Measure(HEATING, "installed_rate", "户内改造率", "heating", "installed_households", "net_target_households",
            "户", step="installed", description="户内改造完成户数 ÷ 年度计划户数(扣除核减)"),
    # Urban works are a few large projects each finished in one go: their own nodes, not the
    # households' curve.
    Measure(HEATING, "urban_area_rate", "城区取暖面积完成率", "heating", "urban_m2_done", "target_urban_m2",
            "平方米", step="urban", deadline="connected_deadline", description="已完成面积 ÷ 计划面积"),
    Measure(HEATING, "disbursement_rate", "资金拨付率", "funds", "disbursed_due_yuan", "due_yuan", "元",
            target=1.0, description=f"已拨付补助资金 ÷ 应拨付资金(农户通气通电满{SUBSIDY_DUE_DAYS}天的补助)",
            done_label="已拨付", base_label="应拨付"),
    Measure(HEATING, "idle_rate", "设备闲置率", "heating", "idle_households", "connected_households", "户",
            target=0.05, higher_is_better=False, description="闲置户数 ÷ 通气通电户数", done_label="闲置",
            base_label="通气通电"),
)


def find_measure(program: str, key: str) -> Measure:
    """The measure named `key` in `program`; KeyError (with the valid names) otherwise."""
    for measure in MEASURES:
        if measure.program == program and measure.key == key:
            return measure
    raise KeyError(f"{program}: {key}; valid: {', '.join(measure_keys(program))}")


def measure_keys(program: str) -> list[str]:
    return [m.key for m in MEASURES if m.program == program]


def _missing(value) -> bool:
    return value is None or pd.isna(value)


def compute_rate(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing planned (denominator 0)."""
    return numerator / denominator if denominator else None


# ---- target lines ----------------------------------------------------------------------------

NODE_LINE, TIME_LINE, FIXED_TARGET = "节点进度线", "时间进度线", "目标"
Node = tuple[date, float]  # (due_on, required_share): by the end of due_on, that share done


@dataclass(frozen=True)
class TargetLine:
    """What a measure is held to on a date: the `share` required, the line's `name` (节点进度线 from
    the plan's nodes, 时间进度线 as the fallback, 目标 for a fixed target) and its `basis` in the
    plan's words ("3月底前开工30%、6月底前全部开工"); share None when nothing is required yet."""
    share: float | None
    name: str = ""
    basis: str = ""


def compute_node_share(nodes: list[Node], period_start: date, as_of: date) -> float:
    """The share required at the end of `as_of` on the piecewise-linear curve through `nodes`:
    rising from 0 at the start of `period_start` (or from a node of share 0, before which nothing
    is required), through each node's share on its date, holding the last one after it."""
    points = sorted(nodes)
    if not points[0][1] == 0:
        points.insert(0, (period_start - timedelta(days=1), 0.0))
    if as_of <= points[0][0]:
        return points[0][1]
    for (day0, share0), (day1, share1) in zip(points, points[1:]):
        if as_of <= day1:
            return share0 + (share1 - share0) * (as_of - day0).days / (day1 - day0).days
    return points[-1][1]


def describe_nodes(step: str, nodes: list[Node], plan_year: int) -> str:
    """The nodes in the plan's words: '3月底前开工30%、6月底前全部开工' (zero nodes left out)."""
    word = STEP_DONE_WORDS[step]
    parts = []
    for day, share in sorted(nodes):
        if share == 0:
            continue
        year = "" if day.year == plan_year else f"{day.year}年"
        when = f"{day.month}月底前" if (day + timedelta(days=1)).day == 1 else f"{day.month}月{day.day}日前"
        parts.append(f"{year}{when}" + (f"全部{word}" if share >= 1 else f"{word}{share * 100:g}%"))
    return "、".join(parts)


def compute_target_line(measure: Measure, deadlines: dict[str, date], nodes: list[Node], plan_year: int,
                        as_of: date) -> TargetLine:
    """The measure's target on `as_of`: its fixed target; else the curve through the plan's `nodes`
    for its step; else (a plan without nodes) the time line from `line_from` to the step's deadline;
    TargetLine(None) when the plan gives neither."""
    if measure.step is None:
        if measure.target_from and as_of < date(plan_year, *measure.target_from):
            month, day = measure.target_from
            return TargetLine(None, FIXED_TARGET, f"{month}月{day}日起考核")
        return TargetLine(measure.target, FIXED_TARGET)
    if nodes:
        return TargetLine(compute_node_share(nodes, deadlines.get("period_start", date(plan_year, 1, 1)), as_of),
                          NODE_LINE, describe_nodes(measure.step, nodes, plan_year))
    deadline = deadlines.get(measure.deadline or f"{measure.step}_deadline")
    if deadline is None:
        return TargetLine(None)
    line = [(deadlines[measure.line_from], 0.0)] if measure.line_from != "period_start" else []
    share = compute_node_share(line + [(deadline, 1.0)], deadlines["period_start"], as_of)
    return TargetLine(share, TIME_LINE, describe_nodes(measure.step, [(deadline, 1.0)], plan_year))


def read_city_line(table: pd.DataFrame) -> TargetLine:
    """The city-wide target line of a measure table (report.compute_measure_frame): that of the
    counties held to the city's nodes rather than nodes of their own."""
    city = table[~table["override"].astype(bool)] if "override" in table else table
    if city.empty or "line" not in city:
        return TargetLine(None)
    first = city.iloc[0]
    return TargetLine(None if _missing(first["target"]) else float(first["target"]), first["line"], first["basis"])


def compute_gap_pp(numerator: int, denominator: int, target: float | None,
                   higher_is_better: bool = True) -> float | None:
    """How far ahead (+) or behind (−) of its target the published figure is, in percentage
    points: the rate and the target each rounded half up to one decimal percent first."""
    value = fmt.percent_value(numerator, denominator)
    if value is None or _missing(target):
        return None
    gap = float(Decimal(repr(value)) - Decimal(repr(fmt.round_half_up(target * 100, 1))))
    return gap if higher_is_better else -gap


def compute_flag(gap_pp: float | None, thresholds: FlagThresholds = FLAG_THRESHOLDS) -> str:
    """red when more than `red_gap_pp` behind, yellow when more than `yellow_gap_pp` behind,
    green otherwise; no flag when there is nothing to compare."""
    if _missing(gap_pp):
        return NO_FLAG
    # Round first so a county exactly on a threshold is not flagged by a float artefact.
    behind = round(-gap_pp, 9)
    if behind > thresholds.red_gap_pp:
        return RED
    if behind > thresholds.yellow_gap_pp:
        return YELLOW
    return GREEN


# ---- funds retained (资金留置) -----------------------------------------------------------

AGE_BANDS = ((90, "3个月以内"), (180, "3至6个月"), (365, "6至12个月"))
OLDEST_BAND = "1年以上"


def compute_age_band(age_days: int) -> str:
    for limit, label in AGE_BANDS:
        if age_days <= limit:
            return label
    return OLDEST_BAND


def compute_age_bands(age_days: pd.Series) -> pd.Series:
    """compute_age_band of each age (days), at once."""
    labels = np.select([age_days <= limit for limit, _ in AGE_BANDS], [label for _, label in AGE_BANDS],
                       OLDEST_BAND)
    return pd.Series(labels, index=age_days.index, dtype="object")


def compute_age_days(days: pd.Series, as_of: date) -> pd.Series:
    """Whole days from each date (datetime.date values) to `as_of`, as int64."""
    return (pd.Timestamp(as_of) - pd.to_datetime(days)).dt.days.astype("int64")


def compute_due_share(program: str, age_days: int, subsidy_due_share: float = 0.0,
                      renovation_due_days: int = RENOVATION_FUNDS_DUE_DAYS) -> float:
    """The share of an allocation due to be paid out on a date. Renovation funds fall due in full
    `renovation_due_days` after allocation (central funds: broken down to projects within 30 days
    of receipt); a heating allocation pays each source's part of the subsidies, which fall due once
    a household is connected and checked, so its due share is `subsidy_due_share` (the share of
    the plan year's subsidies due)."""
    if program == RENOVATION:
        return 1.0 if age_days >= renovation_due_days else 0.0
    return min(1.0, max(0.0, subsidy_due_share))


def compute_due_shares(programs: pd.Series, age_days: pd.Series, subsidy_due_shares: pd.Series,
                       renovation_due_days: int = RENOVATION_FUNDS_DUE_DAYS) -> pd.Series:
    """compute_due_share for many allocations at once (aligned Series; a missing subsidy share
    counts as nothing due), so a province's thousands of allocations need no Python loop."""
    renovation = (age_days >= renovation_due_days).astype("float64")
    heating = subsidy_due_shares.astype("float64").fillna(0.0).clip(0.0, 1.0)
    return renovation.where(programs == RENOVATION, heating)


def compute_fund_balance(allocations: pd.DataFrame, as_of: date,
                         retention_days: int = RETENTION_AGE_DAYS) -> pd.DataFrame:
    """Every allocation's balance on `as_of`. `allocations` holds allocated_yuan, disbursed_yuan,
    allocated_on, plan_year and due_share (compute_due_share). Adds:
    undisbursed_yuan (未拨付: allocated − disbursed), due_yuan (应拨付 by now),
    disbursed_due_yuan (what was paid toward it, at most due_yuan), age_days, age_band, and
    retained_yuan (资金留置): the due but unpaid part of an allocation older than `retention_days`,
    or of an earlier plan year's allocation; partial payments reduce it, never clear it, and money
    not yet due is never retained, nor a rounding balance under RETENTION_TOLERANCE_YUAN.
    `flagged` is retained_yuan > 0."""
    frame = allocations.copy()
    frame["undisbursed_yuan"] = (frame["allocated_yuan"] - frame["disbursed_yuan"]).clip(lower=0).astype("int64")
    # np.round halves to even, as Python's round did per row: the same yuan either way.
    frame["due_yuan"] = np.round(frame["allocated_yuan"].astype("float64") * frame["due_share"].astype("float64"))
    frame["due_yuan"] = frame["due_yuan"].astype("int64")
    frame["disbursed_due_yuan"] = np.minimum(frame["disbursed_yuan"], frame["due_yuan"]).astype("int64")
    frame["age_days"] = compute_age_days(frame["allocated_on"], as_of)
    frame["age_band"] = compute_age_bands(frame["age_days"])
    old = (frame["age_days"] > retention_days) | (frame["plan_year"] < as_of.year)
    unpaid = frame["due_yuan"] - frame["disbursed_due_yuan"]
    frame["retained_yuan"] = unpaid.where(old & (unpaid >= RETENTION_TOLERANCE_YUAN), 0).astype("int64")
    frame["flagged"] = frame["retained_yuan"] > 0
    return frame.reset_index(drop=True)


def compute_retained_funds(allocations: pd.DataFrame, as_of: date,
                           retention_days: int = RETENTION_AGE_DAYS) -> pd.DataFrame:
    """The allocations with money still not disbursed on `as_of` (see compute_fund_balance)."""
    balance = compute_fund_balance(allocations, as_of, retention_days)
    return balance[balance["undisbursed_yuan"] > 0].reset_index(drop=True)


# ---- supervision (督办) ------------------------------------------------------------------

OPEN, OVERDUE, CLOSED = "办理中", "逾期未销号", "已销号"


def count_supervision(items: pd.DataFrame) -> dict[str, int]:
    """How many items stand at each status (办理中, 逾期未销号, 已销号)."""
    return {status: int((items["status"] == status).sum()) for status in (OPEN, OVERDUE, CLOSED)}


def compute_retained_total(retained: pd.DataFrame) -> int:
    """Yuan retained (资金留置) across the allocations given."""
    return int(retained["retained_yuan"].sum())


def compute_supervision_status(deadline: date, closed_on: date | None, as_of: date) -> str:
    """An item is closed once 销号 by `as_of`; otherwise overdue after its deadline."""
    if not _missing(closed_on) and closed_on <= as_of:
        return CLOSED
    return OVERDUE if as_of > deadline else OPEN


# ---- community stage status ----------------------------------------------------------------

def compute_community_status(communities: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Each community's state on `as_of`: actual dates after that day blanked (not known yet),
    `stage` (where it stands: 在建 once started, 已完工, …), `late_stage` (the first stage not reached although its
    planned date has passed) and `days_late` (0 when on time)."""
    frame = communities.copy()
    stage, late_stage, days_late = [], [], []
    for step in STAGES:
        column = f"{step.key}_actual"
        frame[column] = [d if not _missing(d) and d <= as_of else None for d in frame[column]]
    for _, row in frame.iterrows():
        reached = [i for i, s in enumerate(STAGES) if row[f"{s.key}_actual"] is not None]
        stage.append(STAGE_STANDING[reached[-1]] if reached else NO_STAGE)
        overdue = next((s for s in STAGES if row[f"{s.key}_actual"] is None
                        and not _missing(row[f"{s.key}_planned"]) and row[f"{s.key}_planned"] < as_of), None)
        late_stage.append(overdue.label if overdue else "")
        days_late.append((as_of - row[f"{overdue.key}_planned"]).days if overdue else 0)
    return frame.assign(stage=stage, late_stage=late_stage, days_late=days_late)


def compute_step_buckets(frame: pd.DataFrame, columns: list[str], labels: list[str], total: str,
                         none_label: str) -> pd.DataFrame:
    """Cumulative counts per step (how many reached each step) turned into exclusive buckets
    (how many stand at each step now): rows keep their index, one column per label plus
    `none_label` for those that reached no step yet. Buckets add up to `total`."""
    cumulative = frame[columns].to_numpy()
    buckets = pd.DataFrame(index=frame.index)
    buckets[none_label] = frame[total].to_numpy() - cumulative[:, 0]
    for i, label in enumerate(labels):
        later = cumulative[:, i + 1] if i + 1 < len(columns) else 0
        buckets[label] = cumulative[:, i] - later
    return buckets


def compute_route_economics(mix: pd.DataFrame) -> pd.DataFrame:
    """Per technical route, the average household's economics in yuan (算清经济账): equipment
    cost, subsidy, own share (cost − subsidy), running cost per season and the coal it
    replaces, and the yearly saving (coal − running). `mix` holds per-county sums by route."""
    sums = mix.groupby("route", sort=False)[["task_households", "equipment_cost_yuan", "subsidy_yuan",
                                              "running_cost_yuan", "coal_cost_yuan"]].sum()
    households = sums["task_households"]
    frame = pd.DataFrame({"households": households,
                          "equipment_cost": sums["equipment_cost_yuan"] / households,
                          "subsidy": sums["subsidy_yuan"] / households,
                          "running_cost": sums["running_cost_yuan"] / households,
                          "coal_cost": sums["coal_cost_yuan"] / households})
    frame["own_share"] = frame["equipment_cost"] - frame["subsidy"]
    frame["saving"] = frame["coal_cost"] - frame["running_cost"]
    return frame.reset_index().sort_values("equipment_cost").reset_index(drop=True)
