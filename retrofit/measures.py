"""The measures: what each one divides by what, its target line, and the pure arithmetic
(rates, the half-time line, gaps, flags). Defined once here; queries supply the counts.

A measure's value is numerator / denominator. Its target at a date is either the time line
(时间过半、任务过半: the elapsed share of the plan period up to the step's deadline) or a
fixed share. The gap is value − target in percentage points (sign flipped when lower is
better), and the flag follows from the gap and the thresholds in `settings`.
"""
from dataclasses import dataclass
from datetime import date

import pandas as pd

from .settings import FLAG_THRESHOLDS, RESIDENT_SHARE_TARGET, RETENTION_AGE_DAYS, FlagThresholds
from .vocab import HEATING, NO_STAGE, RENOVATION, STAGE_STANDING, STAGES

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
    deadline: str | None = None  # the deadline column whose time line is the target, or
    target: float | None = None  # a fixed target share when there is no time line
    line_from: str = "period_start"  # the date the time line starts rising from 0
    higher_is_better: bool = True
    description: str = ""


MEASURES = (
    Measure(RENOVATION, "start_rate", "开工率", "renovation", "start_communities", "communities", "个",
            deadline="start_deadline", description="已开工小区数 ÷ 年度计划小区数"),
    Measure(RENOVATION, "finish_rate", "完工率", "renovation", "finish_communities", "communities", "个",
            deadline="finish_deadline", description="已完工小区数 ÷ 年度计划小区数"),
    Measure(RENOVATION, "accept_rate", "竣工验收率", "renovation", "accept_communities", "communities", "个",
            deadline="accept_deadline", line_from="finish_deadline",
            description="已竣工验收小区数 ÷ 年度计划小区数(完工期限后开始考核)"),
    Measure(RENOVATION, "households_finish_rate", "完工户数占比", "renovation", "finish_households", "households",
            "户", deadline="finish_deadline", description="已完工小区户数 ÷ 年度计划户数"),
    Measure(RENOVATION, "investment_rate", "投资完成率", "renovation", "completed_investment_yuan",
            "planned_investment_yuan", "元", deadline="finish_deadline", description="完成投资 ÷ 计划投资"),
    Measure(RENOVATION, "disbursement_rate", "资金拨付率", "funds", "disbursed_yuan", "allocated_yuan", "元",
            deadline="finish_deadline", description="已拨付到项目资金 ÷ 已下达资金(年度)"),
    Measure(RENOVATION, "resident_share", "居民出资占比", "funds", "resident_yuan", "allocated_yuan", "元",
            target=RESIDENT_SHARE_TARGET, description="居民出资 ÷ 已下达资金(年度)"),
    Measure(HEATING, "completion_rate", "完成率", "heating", "connected_households", "target_households", "户",
            deadline="connected_deadline", description="通气通电户数 ÷ 年度计划户数(含结转)"),
    Measure(HEATING, "confirmed_rate", "确村到户率", "heating", "confirmed_households", "target_households",
            "户", deadline="confirmed_deadline", description="确村到户户数 ÷ 年度计划户数"),
    Measure(HEATING, "tendered_rate", "设备招标率", "heating", "tendered_households", "target_households",
            "户", deadline="tendered_deadline", description="设备已招标户数 ÷ 年度计划户数"),
    Measure(HEATING, "installed_rate", "户内改造率", "heating", "installed_households", "target_households",
            "户", deadline="installed_deadline", description="户内改造完成户数 ÷ 年度计划户数"),
    Measure(HEATING, "urban_area_rate", "城区取暖面积完成率", "heating", "urban_m2_done", "target_urban_m2",
            "平方米", deadline="connected_deadline", description="已完成面积 ÷ 计划面积"),
    Measure(HEATING, "disbursement_rate", "资金拨付率", "funds", "disbursed_yuan", "allocated_yuan", "元",
            deadline="connected_deadline", description="已拨付补助资金 ÷ 已下达资金(年度)"),
    Measure(HEATING, "idle_rate", "设备闲置率", "heating", "idle_households", "connected_households", "户",
            target=0.05, higher_is_better=False, description="闲置户数 ÷ 通气通电户数"),
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


def compute_elapsed_share(period_start: date, deadline: date, as_of: date) -> float:
    """Share of the period from `period_start` to `deadline` (both days counted) elapsed at the
    end of `as_of`, clamped to [0, 1]: 0 before the period, 1 from the deadline on."""
    total_days = (deadline - period_start).days + 1
    elapsed_days = (as_of - period_start).days + 1
    return min(1.0, max(0.0, elapsed_days / total_days))


def compute_target(measure: Measure, deadlines: dict[str, date], as_of: date) -> float | None:
    """The share the measure should have reached on `as_of`: the time line or the fixed target."""
    if measure.deadline is None:
        return measure.target
    if measure.deadline not in deadlines:
        return None
    return compute_elapsed_share(deadlines[measure.line_from], deadlines[measure.deadline], as_of)


def compute_gap_pp(value: float | None, target: float | None, higher_is_better: bool = True) -> float | None:
    """How far ahead (+) or behind (−) of its target a value is, in percentage points."""
    if _missing(value) or _missing(target):
        return None
    gap = (value - target) * 100
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


def compute_fund_balance(allocations: pd.DataFrame, as_of: date,
                         retention_days: int = RETENTION_AGE_DAYS) -> pd.DataFrame:
    """Every allocation's balance on `as_of`: retained_yuan (allocated − disbursed, 未拨付),
    age_days since allocation, age_band, `flagged` and flagged_yuan. Undisbursed money counts
    as retained (资金留置, flagged) when it belongs to an earlier plan year, or when nothing at all
    was paid out of it within `retention_days`; this year's money waiting for unfinished works
    is only 未拨付."""
    frame = allocations.copy()
    frame["retained_yuan"] = (frame["allocated_yuan"] - frame["disbursed_yuan"]).astype("int64")
    frame["age_days"] = [(as_of - d).days for d in frame["allocated_on"]]
    frame["age_band"] = [compute_age_band(a) for a in frame["age_days"]]
    untouched = (frame["disbursed_yuan"] == 0) & (frame["age_days"] > retention_days)
    frame["flagged"] = (frame["retained_yuan"] > 0) & (untouched | (frame["plan_year"] < as_of.year))
    frame["flagged_yuan"] = frame["retained_yuan"].where(frame["flagged"], 0).astype("int64")
    return frame.reset_index(drop=True)


def compute_retained_funds(allocations: pd.DataFrame, as_of: date,
                           retention_days: int = RETENTION_AGE_DAYS) -> pd.DataFrame:
    """The allocations with money still not disbursed on `as_of` (see compute_fund_balance)."""
    balance = compute_fund_balance(allocations, as_of, retention_days)
    return balance[balance["retained_yuan"] > 0].reset_index(drop=True)


# ---- supervision (督办) ------------------------------------------------------------------

OPEN, OVERDUE, CLOSED = "办理中", "逾期未销号", "已销号"


def count_supervision(items: pd.DataFrame) -> dict[str, int]:
    """How many items stand at each status (办理中, 逾期未销号, 已销号)."""
    return {status: int((items["status"] == status).sum()) for status in (OPEN, OVERDUE, CLOSED)}


def compute_retained_total(retained: pd.DataFrame) -> int:
    """Yuan not yet disbursed across the allocations given."""
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
