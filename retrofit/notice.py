"""Words read from the numbers: the reason a county is flagged, and the progress notice (通报).
Every figure is formatted by `fmt` from the same report rows the tables show."""
from . import fmt


def describe_lag(label: str, numerator: int, denominator: int, target: float | None, gap_pp: float | None,
                 time_line: bool = True) -> str:
    """'完成率73.0%,低于时间进度线100.0%,落后27.0个百分点' (or '低于目标20.0%' for fixed targets)."""
    value = fmt.format_percent_of(numerator, denominator)
    line = "时间进度线" if time_line else "目标"
    if gap_pp is None or target is None:
        return f"{label}{value}"
    return f"{label}{value},低于{line}{fmt.format_percent(target)},落后{fmt.format_pp(abs(gap_pp)).lstrip('+')}"
