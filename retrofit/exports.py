"""Files out of the app for meetings: tables as XLSX and CSV, figures as PNG / SVG / PDF, and the
ranking workbook of both programs.

- CSV is UTF-8 with a byte-order mark, so Excel and WPS open the Chinese correctly.
- XLSX sheets carry a title row and the data-date / source / 演示数据 line, a formatted and frozen
  header, column widths fitted to the (double-width) Chinese text, numbers stored as numbers with
  number formats, and flag cells filled red / yellow / green (settings.FLAG_COLOURS).
- Figures are drawn by kaleido in the system Chromium: one shared browser (kaleido's sync server)
  serves every export of the process, so a batch does not launch a browser per figure.
"""
import io
import os
import re
import shutil
import threading
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from . import fmt, report
from .charts import ChartMeta
from .measures import FLAG_LABELS_SHORT, GREEN, RED, YELLOW, Measure
from .settings import FLAG_COLOURS, PRIMARY
from .vocab import HEATING, PROGRAMS, RENOVATION

if TYPE_CHECKING:  # openpyxl itself loads with the first workbook, not with the app (cold start)
    from openpyxl.worksheet.worksheet import Worksheet


class ExportUnavailable(Exception):
    """Server-side export cannot run here (no browser); the message says what to do, in Chinese."""


NO_CHROMIUM = ("未找到 Chromium,无法在服务器端导出图片;请安装 chromium(Debian:apt-get install chromium "
               "fonts-noto-cjk),或使用图表右上角的下载按钮")
FIGURE_FORMATS = ("png", "svg", "pdf")
FIGURE_MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
# Where a Chromium may be found, in order; $BROWSER_PATH (kaleido's own override) comes first.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Width in CSS pixels of a figure without its own layout width (kaleido's default is 700).
DEFAULT_FIGURE_WIDTH = 1000

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"

# Flag names as they appear in tables (Chinese on screen, English keys in the report frames).
FLAG_KEYS = {**{v: k for k, v in FLAG_LABELS_SHORT.items() if v}, RED: RED, YELLOW: YELLOW, GREEN: GREEN}


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable kaleido will drive, or None when there is none."""
    override = os.environ.get("BROWSER_PATH")
    if override and os.access(override, os.X_OK):
        return override
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


# ---- figures ----------------------------------------------------------------------------------

# kaleido's sync server is a process-wide singleton fed through one queue: calls from several
# Streamlit sessions (threads) must not interleave, or one could read another's image.
_FIGURE_LOCK = threading.Lock()


def start_figure_server() -> None:
    """Start the one shared browser for figure exports (idempotent: safe to call every time)."""
    import kaleido  # imported here: pulls in choreographer and logging setup only when exporting

    chromium = find_chromium()
    if chromium is None:
        raise ExportUnavailable(NO_CHROMIUM)
    # mathjax=False: no fetch of MathJax from a CDN that cannot be reached.
    kaleido.start_sync_server(path=chromium, mathjax=False, silence_warnings=True)


def stop_figure_server() -> None:
    import kaleido

    kaleido.stop_sync_server(silence_warnings=True)


def build_figure_bytes(fig: go.Figure, fmt: str, scale: float = 3, width: int | None = None,
                       height: int | None = None) -> bytes:
    """The figure as PNG, SVG or PDF bytes. `scale` multiplies the pixel size (3 = print
    resolution for PNG); `width`/`height` in CSS pixels default to the figure's own layout
    (width else DEFAULT_FIGURE_WIDTH). Raises ExportUnavailable without a Chromium."""
    import kaleido

    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"format must be one of {FIGURE_FORMATS}, not {fmt!r}")
    opts = {"format": fmt, "scale": scale,
            "width": width or fig.layout.width or DEFAULT_FIGURE_WIDTH,
            "height": height or fig.layout.height or 600}
    with _FIGURE_LOCK:
        start_figure_server()
        try:
            return kaleido.calc_fig_sync(fig, opts=opts)
        except Exception:  # noqa: BLE001 - a browser that died: start a fresh one, try once more
            stop_figure_server()
            start_figure_server()
            return kaleido.calc_fig_sync(fig, opts=opts)


# ---- tables -----------------------------------------------------------------------------------

# Text a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, tab, CR first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?%?")


def is_formula_text(value) -> bool:
    """True for stored text a spreadsheet would take for a formula (a community named '=1+1').
    Plain signed numbers such as '-3.2' or '+12%' are data, not formulas."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value)


def guard_csv_cell(value):
    """A cell value as CSV writes it: formula-like text gets a leading apostrophe (the
    spreadsheet convention for "this is text"); anything else as it is. The XLSX writer stores
    the same values as text cells instead (_set_cell)."""
    return "'" + value if is_formula_text(value) else value


def build_csv_text(frame: pd.DataFrame) -> str:
    """The table as CSV text, no index, formula-like text quoted (guard_csv_cell)."""
    guarded = frame.rename(columns=guard_csv_cell)
    for column in guarded.columns:
        if not pd.api.types.is_numeric_dtype(guarded[column]):
            guarded[column] = guarded[column].map(guard_csv_cell)
    # CRLF rows (RFC 4180): a stored CR is then quoted instead of starting a new row.
    return guarded.to_csv(index=False, lineterminator="\r\n")


def build_table_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV, UTF-8 with BOM (Excel and WPS then read the Chinese), no index,
    formula-like text quoted."""
    return build_csv_text(frame).encode("utf-8-sig")


# Column names that hold a share (0.873 shown as 87.3%), when no explicit format is given.
SHARE_HINTS = ("率", "占比", "比例", "目标线", "进度线")
INT_FORMAT, DECIMAL_FORMAT, PERCENT_FORMAT, DATE_FORMAT = "#,##0", "#,##0.00", "0.0%", "yyyy-mm-dd"
GRID_COLOUR = "C9D1DC"
HEADER_ROW = 3  # row 1: title, row 2: data date / source / demo mark


def column_number_format(name: str, column: pd.Series, explicit: dict | None = None) -> str | list | None:
    """The Excel number format of a column: `explicit[name]` when given (frame.attrs
    ["number_formats"]; a list gives one format per row), else '#,##0' for integers, '0.0%' for
    a share column (a name like 完成率/占比/目标线,
    values within ±10), '#,##0.00' for other decimals, a date format for
    dates, None (General) for text."""
    if explicit and name in explicit:
        return explicit[name]
    if pd.api.types.is_bool_dtype(column):
        return None
    if pd.api.types.is_integer_dtype(column):
        return INT_FORMAT
    if pd.api.types.is_float_dtype(column):
        values = column.dropna()
        if any(h in str(name) for h in SHARE_HINTS) and (values.abs() <= 10).all():
            return PERCENT_FORMAT
        return DECIMAL_FORMAT
    if column.dropna().map(lambda v: isinstance(v, date)).all() and column.notna().any():
        return DATE_FORMAT
    return None


def _cell_value(value):
    """A value openpyxl stores natively: NA -> empty, numpy scalars -> Python numbers."""
    if value is None or (not isinstance(value, str | list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _display_width(value, number_format: str | None) -> int:
    """How many Latin character widths a value takes on screen (CJK counts double)."""
    if value is None:
        return 0
    if isinstance(value, float) and number_format == PERCENT_FORMAT:
        text = f"{value * 100:.1f}%"
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
    elif isinstance(value, date | datetime):
        text = "2026-11-20"
    else:
        text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of []:*?/\\)."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name)).strip("'") or "Sheet"
    title, n = clean[:31], 2
    while title in used:
        suffix = f"({n})"
        title, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


PERCENT_TEXT = re.compile(r"^-?\d+(?:\.(\d+))?%$")


def _percent_text_as_shares(frame: pd.DataFrame, explicit: dict) -> tuple[pd.DataFrame, dict]:
    """Text columns of percentages as the screen shows them ('96.9%', '—') become shares
    (0.969) with a percent format of as many decimals, so Excel can sort and sum them."""
    frame, explicit = frame.copy(), dict(explicit)
    for name in frame.columns:
        column = frame[name]
        if name in explicit or not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        present = [v for v in column if v is not None and not (isinstance(v, float) and pd.isna(v))
                   and v not in (fmt.NOTHING, "")]
        matches = [PERCENT_TEXT.match(v) if isinstance(v, str) else None for v in present]
        if not present or not all(matches):
            continue
        digits = max(len(m.group(1) or "") for m in matches)
        frame[name] = [float(Decimal(v[:-1]) / 100) if isinstance(v, str) and PERCENT_TEXT.match(v) else None
                       for v in column]
        explicit[name] = "0" + ("." + "0" * digits if digits else "") + "%"
    return frame, explicit


def _set_cell(ws: "Worksheet", row: int, column: int, value):
    """Write one cell. Formula-like text (is_formula_text) is stored as a text cell with Excel's
    quote prefix, so a stored name such as '=HYPERLINK(...)' shows as written and never runs."""
    cell = ws.cell(row, column)
    cell.value = value
    if is_formula_text(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _write_sheet(ws: "Worksheet", frame: pd.DataFrame, title: str, meta: ChartMeta, flag_column: str | None) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color=GRID_COLOUR)
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    frame, explicit = _percent_text_as_shares(frame, frame.attrs.get("number_formats", {}))
    columns = list(frame.columns)
    formats = [column_number_format(c, frame[c], explicit) for c in columns]
    last = get_column_letter(max(1, len(columns)))

    _set_cell(ws, 1, 1, title)
    ws["A1"].font = Font(size=14, bold=True, color=PRIMARY[1:].upper())
    _set_cell(ws, 2, 1, meta.footer)
    ws["A2"].font = Font(size=10, color="C00000" if meta.is_demo else "5F6B7A")
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    ws.row_dimensions[1].height = 24

    header_fill = PatternFill("solid", fgColor=PRIMARY[1:].upper())
    for j, name in enumerate(columns, start=1):
        cell = _set_cell(ws, HEADER_ROW, j, str(name))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    ws.row_dimensions[HEADER_ROW].height = 30

    fills = {key: PatternFill("solid", fgColor=FLAG_COLOURS[key][1:].upper()) for key in (RED, YELLOW, GREEN)}
    flag_index = columns.index(flag_column) if flag_column in columns else None
    widths = [_display_width(str(c), None) for c in columns]
    for i, row in enumerate(frame.itertuples(index=False), start=HEADER_ROW + 1):
        for j, raw in enumerate(row):
            value = _cell_value(raw)
            number_format = formats[j][i - HEADER_ROW - 1] if isinstance(formats[j], list) else formats[j]
            cell = _set_cell(ws, i, j + 1, value)
            cell.border = border
            if number_format and value is not None:
                cell.number_format = number_format
            widths[j] = max(widths[j], _display_width(value, number_format))
            if j == flag_index and isinstance(value, str) and value.strip() in FLAG_KEYS:
                cell.fill = fills[FLAG_KEYS[value.strip()]]
                cell.font = Font(bold=True, color="FFFFFF")
                cell.alignment = Alignment(horizontal="center")
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(6, width + 2))

    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    if len(frame):
        ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + len(frame)}"
    # Printing: landscape, one page wide, the header repeated on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def build_table_xlsx(sheets: dict[str, pd.DataFrame], title: str, meta: ChartMeta,
                     flag_column: str | None = "标识") -> bytes:
    """An Excel workbook with one sheet per entry (sheet name -> table). Each sheet: the title
    (and the sheet's name when there are several), the data date / source / 演示数据 line, then
    the table with its header frozen. Number formats follow `column_number_format` (override
    per column with frame.attrs["number_formats"] = {column: format})."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for name, frame in sheets.items():
        ws = workbook.create_sheet(_sheet_title(name, used))
        _write_sheet(ws, frame, title if len(sheets) == 1 else f"{title}——{name}", meta, flag_column)
    if not sheets:
        workbook.create_sheet("Sheet")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- the rankings as tables -------------------------------------------------------------------

RANK_CHANGE_FORMAT = '"↑"0;"↓"0;"—"'  # places gained: ↑2, ↓1, — (stored as the signed number)
GAP_FORMAT = "+0.0;-0.0;0.0"


def _money(values: pd.Series) -> pd.Series:
    """Yuan to 万元 (exactly representable to the fen: the bureau's tables are in 万元)."""
    return values.astype("float64") / 10_000


def _amount_unit(unit: str) -> str:
    return "万元" if unit == "元" else unit


def build_ranking_frame(table: pd.DataFrame, measure: Measure, ranked_as: str = "县区") -> pd.DataFrame:
    """A ranked measure table (report.rank_measure) as the bureau's ranking sheet: 名次, 县区, the
    measure (a share), its numerator and denominator under the measure's own names (完成/计划,
    已拨付/应拨付, …) in the measure's unit (money in 万元), 目标线, 差距, 标识,
    上期名次, 名次变化. Numbers stay numbers; frame.attrs carries their Excel formats."""
    money = measure.unit == "元"
    unit = _amount_unit(measure.unit)
    done, planned = f"{measure.done_label}({unit})", f"{measure.base_label}({unit})"
    frame = pd.DataFrame({
        "名次": table["rank"].astype("Int64"),
        ranked_as: table["county"],
        measure.label: table["value"].astype("float64"),
        done: _money(table["numerator"]) if money else table["numerator"].astype("int64"),
        planned: _money(table["denominator"]) if money else table["denominator"].astype("int64"),
        "目标线": table["target"].astype("float64"),
        "差距(个百分点)": table["gap_pp"].astype("float64"),
        "标识": table["flag"].map(FLAG_LABELS_SHORT),
        "上期名次": table["previous_rank"].astype("Int64"),
        "名次变化": table["rank_change"].astype("Int64"),
    })
    frame.attrs["number_formats"] = {measure.label: PERCENT_FORMAT, "目标线": PERCENT_FORMAT,
                                     "差距(个百分点)": GAP_FORMAT, "名次变化": RANK_CHANGE_FORMAT,
                                     **({done: DECIMAL_FORMAT, planned: DECIMAL_FORMAT} if money else {})}
    return frame


def build_headline_frame(headline: pd.DataFrame) -> pd.DataFrame:
    """report.compute_headline as a sheet: 工作, 指标, 数值, 完成, 计划/基数, 单位, 目标线, 差距, 标识."""
    money = headline["unit"] == "元"
    frame = pd.DataFrame({
        "工作": headline["program"].map(PROGRAMS),
        "指标": headline["label"],
        "数值": headline["value"].astype("float64"),
        "完成": [n / 10_000 if m else float(n) for n, m in zip(headline["numerator"], money)],
        "计划/基数": [d / 10_000 if m else float(d) for d, m in zip(headline["denominator"], money)],
        "单位": headline["unit"].map(_amount_unit),
        "目标线": headline["target"].astype("float64"),
        "差距(个百分点)": headline["gap_pp"].astype("float64"),
        "标识": headline["flag"].map(FLAG_LABELS_SHORT),
    })
    amounts = [DECIMAL_FORMAT if m else INT_FORMAT for m in money]  # 万元 to the fen; counts whole
    frame.attrs["number_formats"] = {"数值": PERCENT_FORMAT, "目标线": PERCENT_FORMAT, "完成": amounts,
                                     "计划/基数": amounts, "差距(个百分点)": GAP_FORMAT}
    return frame


def ranking_sheet_name(program: str, measure: Measure) -> str:
    return f"{PROGRAMS[program]}-{measure.label}"


def build_ranking_xlsx(engine: Engine, scope: report.Scope, previous: date | None, meta: ChartMeta,
                       programs: tuple[str, ...] = (RENOVATION, HEATING)) -> bytes:
    """The ranking workbook for a meeting: the headline measures, then one sheet per measure of
    each program with the counties ranked (as `python -m retrofit rank` ranks them)."""
    headline = report.compute_headline(engine, scope)
    sheets = {"主要指标": build_headline_frame(headline[headline["program"].isin(programs)])}
    for program in programs:
        for measure in report.list_measures(program):
            table = report.rank_measure(engine, program, measure.key, scope, previous)
            sheets[ranking_sheet_name(program, measure)] = build_ranking_frame(table, measure, scope.unit)
    compared = f"(对比上期{fmt.format_date(previous)})" if previous else ""
    return build_table_xlsx(sheets, f"{scope.plan_year}年度各{scope.unit}进度排名{compared}", meta)
