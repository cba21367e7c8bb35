"""Numbers as the bureau writes them: percentages to one decimal, 万户 / 亿元 / 万元 / 万平方米,
rounding half up (四舍五入, not Python's round-half-even). Every figure on screen, in an export
or in the notice text is formatted here, so the same number reads the same everywhere."""
import re
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

NOTHING = "—"


def _half_up(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def percent_value(numerator: int, denominator: int, digits: int = 1) -> float | None:
    """numerator / denominator in percent, rounded half up exactly from the integers (a number,
    for columns users sort); None without a denominator."""
    if _missing(numerator) or _missing(denominator) or not denominator:
        return None
    return float(_half_up(Decimal(int(numerator)) * 100 / Decimal(int(denominator)), digits))


def wan_value(amount_yuan, digits: int = 2) -> float | None:
    """Yuan as 万元, rounded half up (a number, for columns users sort)."""
    return None if _missing(amount_yuan) else float(_half_up(Decimal(int(amount_yuan)) / 10_000, digits))


def round_half_up(value, digits: int = 0) -> float | None:
    """A float rounded half up (an average in yuan, say)."""
    return None if _missing(value) else float(_half_up(Decimal(repr(float(value))), digits))


def format_percent_of(numerator: int, denominator: int, digits: int = 1) -> str:
    """numerator / denominator as a percentage, computed exactly from the integers: '87.3%'."""
    if _missing(numerator) or _missing(denominator) or not denominator:
        return NOTHING
    return f"{_half_up(Decimal(int(numerator)) * 100 / Decimal(int(denominator)), digits)}%"


def format_percent(share, digits: int = 1) -> str:
    """A share (0.873) as '87.3%'."""
    if _missing(share):
        return NOTHING
    return f"{_half_up(Decimal(repr(float(share))) * 100, digits)}%"


def format_pp(gap_pp, digits: int = 1) -> str:
    """A gap in percentage points, signed: '+2.5个百分点' / '-12.0个百分点'."""
    if _missing(gap_pp):
        return NOTHING
    value = _half_up(Decimal(repr(float(gap_pp))), digits)
    value = abs(value) if value == 0 else value  # no "-0.0"
    return f"{'+' if value > 0 else ''}{value}个百分点"


def format_int(value) -> str:
    """Thousands separated: 12,345."""
    return NOTHING if _missing(value) else f"{int(value):,}"


def _in_wan_from_ten_thousand(value, unit: str) -> str:
    """'9,876<unit>' below ten thousand, '1.23万<unit>' from ten thousand on."""
    if _missing(value):
        return NOTHING
    if abs(value) >= 10_000:
        return f"{_half_up(Decimal(int(value)) / 10_000, 2):,}万{unit}"
    return f"{int(value):,}{unit}"


def format_households(count) -> str:
    """'9,876户' below ten thousand, '1.23万户' from ten thousand on."""
    return _in_wan_from_ten_thousand(count, "户")


def format_yuan(amount) -> str:
    """Money in yuan as 亿元 (from 1亿, two decimals) or 万元 (two decimals) or 元."""
    if _missing(amount):
        return NOTHING
    amount = int(amount)
    if abs(amount) >= 100_000_000:
        return f"{_half_up(Decimal(amount) / 100_000_000, 2)}亿元"
    if abs(amount) >= 10_000:
        return f"{_half_up(Decimal(amount) / 10_000, 2):,}万元"
    return f"{amount:,}元"


def format_wan(amount_yuan) -> str:
    """Money in 万元 with two decimals, without the unit (for tables headed 万元)."""
    return NOTHING if _missing(amount_yuan) else f"{_half_up(Decimal(int(amount_yuan)) / 10_000, 2):,}"


def format_area(m2) -> str:
    """Floor area as '12.35万平方米' from ten thousand on, else '8,500平方米'."""
    return _in_wan_from_ten_thousand(m2, "平方米")


def format_count(count, unit: str) -> str:
    """A count with its unit, via the unit's own convention (户, 元, 平方米) or plainly (个)."""
    if unit == "户":
        return format_households(count)
    if unit == "元":
        return format_yuan(count)
    if unit == "平方米":
        return format_area(count)
    return NOTHING if _missing(count) else f"{int(count):,}{unit}"


def format_lag_reason(label: str, numerator: int, denominator: int, target: float | None, gap_pp: float | None,
                      line: str = "时间进度线") -> str:
    """Why a county is flagged, in the bureau's words: '完成率73.0%,低于节点进度线100.0%,落后27.0个百分点'
    (`line` names what it is held to: 节点进度线, 时间进度线 or 目标)."""
    value = format_percent_of(numerator, denominator)
    if _missing(gap_pp) or _missing(target):
        return f"{label}{value}"
    return f"{label}{value},低于{line}{format_percent(target)},落后{format_pp(abs(gap_pp)).lstrip('+')}"


def format_target(line: str, target) -> str:
    """'节点进度线45.2%', '目标20.0%': what a measure is held to on the date; '无目标线' without one."""
    return f"{line}{format_percent(target)}" if line and not _missing(target) else "无目标线"


def format_target_basis(line: str, basis: str) -> str:
    """Where the line comes from, in words for a caption or the notice: '节点进度线(实施方案节点:
    3月底前开工30%、6月底前全部开工)', '时间进度线(实施方案未设节点,按6月底前全部开工均匀推算)'."""
    if line == "节点进度线":
        return f"{line}(实施方案节点:{basis})"
    if line == "时间进度线":
        return f"{line}(实施方案未设节点,按{basis}均匀推算)"
    return f"{line}({basis})" if basis else line


def format_progress(numerator, denominator, unit: str) -> str:
    """Done of planned, the unit written once where both share it: '1.21 / 1.34万户',
    '62 / 64个', but '8,946.21万元 / 1.01亿元'."""
    done, planned = format_count(numerator, unit), format_count(denominator, unit)
    done_unit, planned_unit = re.search(r"[^\d.,]*$", done).group(), re.search(r"[^\d.,]*$", planned).group()
    if done_unit == planned_unit and done_unit:
        done = done[:-len(done_unit)]
    return f"{done} / {planned}"


def format_rank_change(change) -> str:
    """Places gained since the previous report: '↑2', '↓1', '—' unchanged, '' no previous rank."""
    if _missing(change):
        return ""
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


def format_date(day) -> str:
    """'2026年11月20日'."""
    return NOTHING if _missing(day) else f"{day.year}年{day.month}月{day.day}日"


def mask_name(name: str) -> str:
    """A household head's name as shown on screen: surname and last character only ('王*国',
    '王*'), so a ledger can be matched without exposing the person."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
