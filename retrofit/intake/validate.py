"""Checking a county's file: every error at once, each naming sheet, Excel row, column header,
the value found and what is wrong, in Chinese.

Three layers: cells are parsed by kind (a date in any of the ways counties write one, a number
with or without 元, a phone masked on the spot); pandera checks columns and rows (required,
non-negative, one of a list); plain pandas checks across rows and against the store (places
that exist, one county per file, no duplicate codes, dates inside the plan year and not after
the data date, steps in order, subsidy within cost, coordinates inside the county).
"""
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
import pandera.pandas as pa
from sqlalchemy import select
from sqlalchemy.engine import Engine

from .. import db
from ..vocab import MILESTONES, NODE_STEPS_BY_PROGRAM, PROGRAMS, RENOVATION, STAGES
from . import readers
from .readers import FileRefused, RawSheet
from .sheets import (ALLOCATIONS, BATCHES, DISBURSEMENTS, HEATING_PLANS, HEATING_YEARS, HOUSEHOLDS, NODE_STEP_LABELS, NODES,
                     PROJECTS, SHEETS, TOWNSHIPS, VILLAGES, Field, SheetSpec)

ERROR_COLUMNS = ["工作表", "行号", "列", "填写值", "问题"]
EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*日?(?:\s+[\d:]+)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_PHONE = re.compile(r"^1\d{10}$")
_MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(,\d{3})*|\d*)(\.\d+)?$")


@dataclass
class IntakeError:
    sheet: str
    row: int | None        # Excel row number; None for the file or a whole column
    column: str            # the header as written in the file; "" for the file
    value: str
    message: str
    col_index: int | None = None


@dataclass
class CheckedSheet:
    spec: SheetSpec
    name: str
    frame: pd.DataFrame    # stored columns, one row per data row, index = Excel row number
    raw: RawSheet


@dataclass
class CheckResult:
    file_name: str
    sha256: str
    kind: str
    data_date: date
    county_adcode: str | None
    sheets: list[CheckedSheet] = field(default_factory=list)
    errors: list[IntakeError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.sheets)

    @property
    def program(self) -> str:
        programs = {s.spec.program or "funds" for s in self.sheets}
        return programs.pop() if len(programs) == 1 else "mixed"

    def error_table(self) -> pd.DataFrame:
        return build_error_table(self.errors)


def build_error_table(errors: list[IntakeError]) -> pd.DataFrame:
    """The errors as the user reads them (工作表, 行号, 列, 填写值, 问题), in file order."""
    order = {}
    for e in errors:
        order.setdefault(e.sheet, len(order))
    ranked = sorted(errors, key=lambda e: (order[e.sheet], -1 if e.row is None else e.row,
                                           -1 if e.col_index is None else e.col_index))
    frame = pd.DataFrame([(e.sheet, e.row, e.column, e.value, e.message) for e in ranked], columns=ERROR_COLUMNS)
    frame["行号"] = frame["行号"].astype("Int64")
    return frame


# ---- the store's reference lists -----------------------------------------------------------

@dataclass
class Context:
    """What a file is checked against: the store's places, plan years and existing keys."""
    data_date: date
    counties: dict[str, str]                     # name -> adcode (adcodes map to themselves too)
    county_names: dict[str, str]                 # adcode -> name
    townships: dict[tuple[str, str], str]        # (county adcode, name) -> code
    villages: dict[tuple[str, str], str]         # (township code, name) -> code
    heating_years: set[int]
    batch_years: set[int]
    shapes: dict                                 # adcode -> polygon, for coordinates
    engine: Engine
    # Allocations this file brings in its 资金下达 sheet, for its 资金拨付 sheet: code -> row.
    new_allocations: dict[str, dict] = field(default_factory=dict)


def load_context(engine: Engine, data_date: date | None = None) -> Context:
    from .city import load_county_shapes

    with engine.connect() as conn:
        counties = conn.execute(select(db.county.c.adcode, db.county.c.name)).all()
        townships = conn.execute(select(db.township.c.code, db.township.c.county_adcode, db.township.c.name)).all()
        villages = conn.execute(select(db.village.c.code, db.village.c.township_code, db.village.c.name)).all()
        heating_years = set(conn.execute(select(db.heating_year.c.year)).scalars())
        batch_years = set(conn.execute(select(db.renovation_batch.c.year)).scalars())
        stored_date = date.fromisoformat(db.read_meta(conn)["data_date"])
    return Context(data_date or stored_date, {**{n: a for a, n in counties}, **{a: a for a, _ in counties}},
                   dict(counties), {(c, n): code for code, c, n in townships},
                   {(t, n): code for code, t, n in villages}, heating_years, batch_years,
                   load_county_shapes(engine), engine)


# ---- cells by kind -------------------------------------------------------------------------

def parse_date(value) -> date:
    """A date as counties write it: a date cell, an Excel serial number, 2026-03-05, 2026.3.5,
    2026/3/5, 2026年3月5日 or 20260305. ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000 and float(value).is_integer():   # 1954–2119 as Excel serials
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError
    text = str(value)
    m = _DATE_TEXT.match(text) or _COMPACT_DATE.match(text)
    if not m:
        raise ValueError
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_number(value) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).replace(" ", "")
    for unit in ("万元", "元", "户", "栋", "部", "㎡", "平方米"):
        text = text.removesuffix(unit)
    if not _NUMBER_TEXT.match(text) or text in ("", ".", "+", "-"):
        raise ValueError
    return float(text.replace(",", ""))


def parse_int(value) -> int:
    number = parse_number(value)
    if not number.is_integer():
        raise ValueError
    return int(number)


def mask_phone(value) -> str:
    """The stored form of a phone: 1xx****xxxx. A full mobile number is masked here, so the
    full number is never written anywhere."""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    text = re.sub(r"[\s\-]", "", text).removeprefix("+86")
    if _PHONE.match(text):
        return f"{text[:3]}****{text[7:]}"
    if _MASKED_PHONE.match(text):
        return text
    raise ValueError


def as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


KIND_MESSAGES = {
    "int": "应为整数", "yuan": "应为金额(元,数字)", "wan": "应为金额(万元,数字)", "float": "应为数字",
    "date": "应为日期,如 2026-03-05、2026.3.5 或 2026年3月5日", "phone": "应为11位手机号",
    "bool": "应填“是”或“否”",
}


def _parse(f: Field, value):
    kind = f.kind
    # Fast paths for what a well-kept file holds (date cells, whole numbers, text).
    if kind == "date" and type(value) is date:
        return value
    if kind in ("int", "yuan") and type(value) is float and value.is_integer():
        return int(value)
    if kind in ("text", "place", "choice") and type(value) is str:
        return value
    if kind == "date":
        return parse_date(value)
    if f.kind == "int":
        return parse_int(value)
    if f.kind == "yuan":
        return parse_int(round(parse_number(value), 6))
    if f.kind == "wan":
        return int(round(parse_number(value) * 10_000))
    if f.kind == "float":
        return parse_number(value)
    if f.kind == "phone":
        return mask_phone(value)
    if f.kind == "bool":
        text = as_text(value)
        if text in ("是", "1", "True", "TRUE", "√"):
            return True
        if text in ("否", "0", "False", "FALSE", "×"):
            return False
        raise ValueError
    return as_text(value)


def show(value) -> str:
    """A value as the error table shows it (dates as dates, never a float serial)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return as_text(value)


# ---- the whole file ------------------------------------------------------------------------

def check_file(engine: Engine, content: bytes, file_name: str, data_date: date | None = None,
               county: str | None = None, specs=SHEETS) -> CheckResult:
    """Read and check a file against the store, without writing anything. `county` (name or
    adcode) is the county the file is for; else the template's, else the one most rows name."""
    context = load_context(engine, data_date)
    result = CheckResult(file_name, hashlib.sha256(content).hexdigest(), "", context.data_date, None)
    try:
        book = readers.read_book(content, file_name, specs)
    except FileRefused as refused:
        result.errors.append(IntakeError("", None, "", file_name, str(refused)))
        return result
    result.kind = book.kind
    if not book.sheets:
        expected = "、".join(f"“{s.title}”" for s in specs)
        result.errors.append(IntakeError("", None, "", "、".join(book.sheet_names), (
            f"未找到可导入的工作表:文件中的工作表为 {'、'.join(book.sheet_names) or '(无)'},"
            f"但没有一张的表头含有模板的列名(应为 {expected} 之一,请用模板填写)")))
        return result
    declared = county or book.meta.get("县区代码") or None
    if declared is not None and declared not in context.counties:
        result.errors.append(IntakeError("", None, "", declared, f"未知县区“{declared}”"))
        return result
    result.county_adcode = context.counties.get(declared) if declared else None
    order, empty = {spec.key: n for n, spec in enumerate(SHEETS)}, []
    for raw in sorted(book.sheets, key=lambda r: order[r.spec.key]):
        checked = check_sheet(raw, context, result)
        if checked is not None and checked.frame.empty:
            empty.append(raw)   # a template's other sheets may be left empty; a file may not
            continue
        if checked is not None:
            result.sheets.append(checked)
            # Years set up in this file count for the sheets after it (a new city's first file).
            if raw.spec.key == HEATING_YEARS:
                context.heating_years |= {y for y in checked.frame["year"] if y is not None}
            elif raw.spec.key == BATCHES:
                context.batch_years |= {y for y in checked.frame["year"] if y is not None}
            elif raw.spec.key == ALLOCATIONS:
                context.new_allocations = {r["code"]: r for r in checked.frame.to_dict("records")}
            elif raw.spec.key == TOWNSHIPS:
                context.townships.update({(a, n): c for c, a, n in checked.frame[["code", "county_adcode", "name"]]
                                          .itertuples(index=False) if c and a and n})
    if not result.sheets and not result.errors:
        result.errors += [IntakeError(raw.name, raw.header_row, "", "", f"工作表“{raw.name}”只有表头,没有数据行")
                          for raw in empty]
    return result


def check_sheet(raw: RawSheet, context: Context, result: CheckResult) -> CheckedSheet | None:
    spec, errors = raw.spec, result.errors
    if raw.id_number_column is not None:
        index, header = raw.id_number_column
        errors.append(IntakeError(raw.name, raw.header_row, header, header,
                                  "表中含有身份证号列:本系统不收集身份证号,请删除整列后再导入(本文件未读取、未保存任何身份证号)",
                                  index))
        return None
    for header in raw.missing:
        errors.append(IntakeError(raw.name, raw.header_row, header, "", f"缺少必填列“{header}”(见模板表头)"))
    if raw.missing:
        return None
    for r in raw.repeated_headers:
        errors.append(IntakeError(raw.name, r, "", "", f"此行重复了第{raw.header_row}行的表头:请删除此行"
                                  "(如是两张表拼接,请核对两部分的列顺序一致)"))
    data_rows = {row for row, _ in raw.rows}
    for r in sorted(raw.hidden_rows):
        if r in data_rows:
            errors.append(IntakeError(raw.name, r, "", "", "此行在 Excel 中被隐藏:请取消隐藏核对;不需要导入的行请删除"))
    values, bad = _parse_cells(raw, errors)
    index = pd.Index([r for r, _ in raw.rows], name="row")
    raw.rows = []   # the typed columns replace the cells (memory: a 100,000-row file is held once)
    # object columns throughout: None stays None (not NaN) and whole numbers stay int.
    frame = pd.DataFrame({k: pd.Series(v, index=index, dtype=object) for k, v in values.items()}, index=index)
    _check_schema(raw, frame, bad, errors)
    RULES[spec.key](raw, frame, bad, context, result)
    _fill_defaults(spec, frame)
    stored = [c for c in spec.stored_columns if c in frame.columns] + [r.field for r in spec.references]
    return CheckedSheet(spec, raw.name, frame[stored + [c for c in frame.columns if c.startswith("_")]], raw)


def _fill_defaults(spec: SheetSpec, frame: pd.DataFrame) -> None:
    """An optional cell left empty takes the store's default where the column cannot be empty
    (no phone: "", no elevators: 0)."""
    for column in spec.stored_columns:
        stored = spec.table.c[column]
        if column in frame.columns and not stored.nullable and stored.default is not None:
            set_column(frame, column, [stored.default.arg if v is None else v for v in frame[column]])


def set_column(frame: pd.DataFrame, column: str, values) -> None:
    """Assign a column as plain Python objects (pandas would turn None into NaN for strings)."""
    frame[column] = pd.Series(list(values), index=frame.index, dtype=object)


def _cell_error(raw: RawSheet, errors: list, row: int, column: str, value, message: str) -> None:
    index, header = raw.columns.get(column, (None, raw.spec.field_of(column).header if column in
                                             {f.column for f in raw.spec.fields} else column))
    errors.append(IntakeError(raw.name, row, header, show(value), message, index))


# Cells already of their column's type, taken as they are without a call (a 100,000-row file
# has 1.7 million cells). Exact types: a datetime is a date but still goes through parse_date.
_READY_TYPE = {"date": date, "text": str, "place": str, "choice": str}


def _parse_cells(raw: RawSheet, errors: list) -> tuple[dict[str, list], set[tuple[int, str]]]:
    """Typed columns and the (row, column) cells that failed to parse (not checked again)."""
    values, bad = {}, set()
    for f in raw.spec.fields:
        if f.column not in raw.columns:
            values[f.column] = [None] * len(raw.rows)
            continue
        index = raw.columns[f.column][0]
        column = []
        ready = _READY_TYPE.get(f.kind)
        for row, cells in raw.rows:
            cell = cells[index] if index < len(cells) else None
            if cell is None or type(cell) is ready:
                column.append(cell)
                continue
            try:
                column.append(_parse(f, cell))
            except (ValueError, OverflowError):
                column.append(None)
                bad.add((row, f.column))
                message = KIND_MESSAGES[f.kind]
                if f.kind in ("yuan", "wan", "int", "float"):
                    message = f"{message},不能填文字"
                _cell_error(raw, errors, row, f.column, cell, f"{f.header}{message}")
        values[f.column] = column
    return values, bad


def _build_schema(spec: SheetSpec) -> pa.DataFrameSchema:
    """Only columns with a check: pandera's per-column cost is paid where it finds something."""
    columns = {}
    for f in spec.fields:
        checks = []
        if f.required:
            checks.append(pa.Check(lambda s: s.notna(), ignore_na=False, error=f"{f.header}为必填项,不能为空"))
        if f.kind in ("int", "yuan", "wan"):
            checks.append(pa.Check(lambda s: s >= 0, error=f"{f.header}不能为负数"))
        if f.kind == "choice":
            checks.append(pa.Check.isin(f.choices, error=f"{f.header}应为下列之一:{'、'.join(f.choices)}"))
        if checks:
            columns[f.column] = pa.Column(checks=checks, nullable=True, coerce=False)
    return pa.DataFrameSchema(columns, strict=False)


_SCHEMAS: dict[str, pa.DataFrameSchema] = {}


def _check_schema(raw: RawSheet, frame: pd.DataFrame, bad: set, errors: list) -> None:
    """Column and row checks by pandera, all at once; cells that failed to parse are skipped."""
    schema = _SCHEMAS.setdefault(raw.spec.key, _build_schema(raw.spec))
    checked = frame[list(schema.columns)].copy()
    for f in raw.spec.fields:
        if f.kind in ("int", "yuan", "wan", "float") and f.column in checked.columns:
            checked[f.column] = pd.to_numeric(checked[f.column], errors="coerce")
    try:
        schema.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as failed:
        cases = failed.failure_cases.dropna(subset=["index"])
        in_wan = {f.column for f in raw.spec.fields if f.kind == "wan"}
        for row, column, message in zip(cases["index"], cases["column"], cases["check"]):
            row = int(row)
            if (row, column) in bad:
                continue
            bad.add((row, column))
            value = frame.at[row, column]
            _cell_error(raw, errors, row, column, fmt_wan(value) if column in in_wan and value is not None else value,
                        message)


# ---- rules across rows and against the store ------------------------------------------------

def _resolve_county(raw, frame, bad, context, result) -> None:
    """county name -> county_adcode; one county per file unless it is a city-wide sheet."""
    adcodes = [context.counties.get(v) if v is not None else None for v in frame["county"]]
    set_column(frame, "county_adcode", adcodes)
    for row, name, adcode in zip(frame.index, frame["county"], adcodes):
        if name is not None and adcode is None and (row, "county") not in bad:
            bad.add((row, "county"))
            _cell_error(raw, result.errors, row, "county", name,
                        f"未知县区“{name}”:应为本市县区之一({'、'.join(context.county_names.values())})")
    if not raw.spec.per_county:
        return
    if result.county_adcode is None:
        known = pd.Series([a for a in adcodes if a is not None])
        if known.nunique() > 1 and raw.spec.key in (HOUSEHOLDS, PROJECTS):
            result.county_adcode = known.mode().sort_values().iloc[0]
        elif known.nunique() == 1:
            result.county_adcode = known.iloc[0]
    own = result.county_adcode
    if own is None or raw.spec.key not in (HOUSEHOLDS, PROJECTS):
        return
    for row, name, adcode in zip(frame.index, frame["county"], adcodes):
        if adcode is not None and adcode != own:
            bad.add((row, "county"))
            _cell_error(raw, result.errors, row, "county", name,
                        f"本表是{context.county_names[own]}的台账,此行属于{context.county_names[adcode]}:"
                        f"请删除此行,由{context.county_names[adcode]}自行填报")


def _check_duplicates(raw, frame, bad, result, key: str = "code", place: str | None = None, values=None) -> None:
    """Each natural key once; `values` (default: the `key` column) when the key spans columns."""
    first_rows = {}
    keys = frame[key] if values is None else values
    for row, code, where in zip(frame.index, keys, frame[place] if place else [None] * len(frame)):
        if code is None:
            continue
        if code not in first_rows:
            first_rows[code] = (row, where)
            continue
        first, first_where = first_rows[code]
        bad.add((row, key))
        if place and where and first_where and where != first_where:
            message = f"同一户出现在两个村:户编码“{code}”在第{first}行为{first_where},此行为{where}"
        elif values is None:
            message = f"编码重复:“{code}”与第{first}行相同"
        else:
            message = f"重复填报:“{code}”与第{first}行相同"
        _cell_error(raw, result.errors, row, key, frame.at[row, key], message)


def _check_dates(raw, frame, bad, result, columns: list[str], year_column: str, year_label: str,
                 may_precede_year: tuple[str, ...] = ()) -> None:
    """Dates not after the data date nor (but for `may_precede_year`) before 1 January of the
    row's plan year."""
    data_date = result.data_date
    for column in columns:
        header = raw.spec.field_of(column).header
        for row, day, year in zip(frame.index, frame[column], frame[year_column]):
            if day is None or (row, column) in bad or (row, year_column) in bad:
                continue
            if day > data_date:
                bad.add((row, column))
                _cell_error(raw, result.errors, row, column, day,
                            f"{header} {day.isoformat()} 晚于数据截至日期 {data_date.isoformat()}")
            elif year is not None and column not in may_precede_year and day < date(int(year), 1, 1):
                bad.add((row, column))
                _cell_error(raw, result.errors, row, column, day,
                            f"{header} {day.isoformat()} 早于{year_label}{int(year)}年")


def _check_order(raw, frame, bad, result, columns: list[str]) -> None:
    """A later step carries a date only if the step before it has one, on or before it."""
    for earlier, later in zip(columns, columns[1:]):
        first, then = raw.spec.field_of(earlier).header, raw.spec.field_of(later).header
        for row, a, b in zip(frame.index, frame[earlier], frame[later]):
            if b is None or (row, later) in bad or (row, earlier) in bad:
                continue
            if a is None:
                message = f"已填{then},但{first}为空:步骤应依次完成"
            elif a > b:
                message = f"{then} {b.isoformat()} 早于{first} {a.isoformat()}:步骤顺序不对"
            else:
                continue
            bad.add((row, later))
            _cell_error(raw, result.errors, row, later, b, message)


def _rules_households(raw, frame, bad, context: Context, result: CheckResult) -> None:
    _resolve_county(raw, frame, bad, context, result)
    townships, villages = [], []
    for row, adcode, town, name in zip(frame.index, frame["county_adcode"], frame["township"], frame["village"]):
        code = context.townships.get((adcode, town)) if adcode and town else None
        if adcode and town and code is None and not {(row, "township"), (row, "county")} & bad:
            bad.add((row, "township"))
            _cell_error(raw, result.errors, row, "township", town, f"{context.county_names[adcode]}没有乡镇“{town}”")
        village_code = context.villages.get((code, name)) if code and name else None
        if code and name and village_code is None and (row, "village") not in bad:
            bad.add((row, "village"))
            _cell_error(raw, result.errors, row, "village", name, f"{town}没有村“{name}”(请从下拉列表选择)")
        townships.append(code)
        villages.append(village_code)
    set_column(frame, "village_code", villages)
    _check_duplicates(raw, frame, bad, result, "code", "village")
    _check_moved_households(raw, frame, bad, context, result)
    for row, year in zip(frame.index, frame["plan_year"]):
        if year is not None and year not in context.heating_years and (row, "plan_year") not in bad:
            bad.add((row, "plan_year"))
            years = "、".join(str(y) for y in sorted(context.heating_years))
            _cell_error(raw, result.errors, row, "plan_year", year, f"{year}年没有清洁取暖计划(库中年度:{years})")
    dates = [f"{m.key}_on" for m in MILESTONES]
    _check_dates(raw, frame, bad, result, dates + ["status_on"], "plan_year", "改造年度")
    _check_order(raw, frame, bad, result, dates)
    for row, cost, subsidy in zip(frame.index, frame["equipment_cost_yuan"], frame["subsidy_yuan"]):
        if cost is not None and subsidy is not None and subsidy > cost and not {(row, "subsidy_yuan"), (row, "equipment_cost_yuan")} & bad:
            bad.add((row, "subsidy_yuan"))
            _cell_error(raw, result.errors, row, "subsidy_yuan", subsidy,
                        f"补贴金额 {subsidy:,} 元超过设备费用 {cost:,} 元")
    for row, status, since in zip(frame.index, frame["status"], frame["status_on"]):
        if status in ("闲置", "取消") and since is None and (row, "status_on") not in bad:
            _cell_error(raw, result.errors, row, "status_on", None, f"使用状态为“{status}”时须填状态变更日期")


def _check_moved_households(raw, frame, bad, context: Context, result: CheckResult) -> None:
    """A household already in the store stays in its village: a file moving it to another one is
    a household listed in two villages (or a mistyped code)."""
    from .commit import load_existing

    stored = load_existing(context.engine, raw.spec, [(c,) for c in frame["code"] if c is not None],
                           ["village_code"], {a for a in frame["county_adcode"] if a})
    places = None
    for row, code, village, county in zip(frame.index, frame["code"], frame["village_code"], frame["county_adcode"]):
        before = stored.get((code,))
        if before is None or village is None or before["village_code"] == village or (row, "village") in bad:
            continue
        if places is None:
            with context.engine.connect() as conn:
                places = {c: (n, a) for c, n, a in conn.execute(
                    select(db.village.c.code, db.village.c.name, db.township.c.county_adcode)
                    .join(db.township, db.township.c.code == db.village.c.township_code)).all()}
        bad.add((row, "village"))
        stored_name, stored_county = places.get(before["village_code"], (None, None))
        # Another county's household is named by nothing but its code: a county's file must not
        # tell the county where another county's households live.
        message = (f"户编码“{code}”已登记为其他县区的农户,不能填入本县区;请核对户编码" if stored_county != county
                   else f"同一户出现在两个村:户编码“{code}”在库中属于{stored_name},此行填为{frame.at[row, 'village']}")
        _cell_error(raw, result.errors, row, "village", frame.at[row, "village"], message)


def _rules_projects(raw, frame, bad, context: Context, result: CheckResult) -> None:
    from shapely.geometry import Point

    _resolve_county(raw, frame, bad, context, result)
    _check_duplicates(raw, frame, bad, result)
    for row, year in zip(frame.index, frame["batch_year"]):
        if year is not None and year not in context.batch_years and (row, "batch_year") not in bad:
            bad.add((row, "batch_year"))
            years = "、".join(str(y) for y in sorted(context.batch_years))
            _cell_error(raw, result.errors, row, "batch_year", year, f"没有{year}年度改造批次(库中批次:{years})")
    for row, adcode, lon, lat in zip(frame.index, frame["county_adcode"], frame["lon"], frame["lat"]):
        shape = context.shapes.get(adcode)
        if shape is None or lon is None or lat is None or (row, "lon") in bad or (row, "lat") in bad:
            continue
        if not shape.contains(Point(lon, lat)):
            bad.add((row, "lon"))
            _cell_error(raw, result.errors, row, "lon", lon,
                        f"坐标({lon}, {lat})不在{context.county_names[adcode]}境内:请核对经纬度(经度在前)")
    actual = [f"{s.key}_actual" for s in STAGES]
    # Reserve, procedures and tender run ahead of the batch year; work itself cannot.
    _check_dates(raw, frame, bad, result, actual, "batch_year", "计划批次", tuple(actual[:3]))
    _check_order(raw, frame, bad, result, actual)


def _rules_allocations(raw, frame, bad, context: Context, result: CheckResult) -> None:
    _resolve_county(raw, frame, bad, context, result)
    _check_duplicates(raw, frame, bad, result)
    by_label = {label: key for key, label in PROGRAMS.items()}
    set_column(frame, "program", [by_label.get(v, v) for v in frame["program"]])
    _check_dates(raw, frame, bad, result, ["allocated_on"], "plan_year", "年度")


def _load_funds(engine: Engine) -> tuple[dict[str, dict], dict[str, str], dict[str, tuple[str, int]]]:
    """The store's allocations by 文号, projects' counties by code, payments by voucher number
    (文号 and amount)."""
    a, d, p = db.fund_allocation, db.fund_disbursement, db.renovation_project
    with engine.connect() as conn:
        allocations = {r["code"]: dict(r) for r in conn.execute(select(
            a.c.code, a.c.county_adcode, a.c.program, a.c.amount_yuan, a.c.allocated_on)).mappings()}
        projects = dict(conn.execute(select(p.c.code, p.c.county_adcode)).all())
        paid = {code: (allocation, amount) for code, allocation, amount in conn.execute(
            select(d.c.code, a.c.code, d.c.amount_yuan).join(a, a.c.id == d.c.allocation_id)).all()}
    return allocations, projects, paid


def _rules_disbursements(raw, frame, bad, context: Context, result: CheckResult) -> None:
    """Payments: from a known allocation of the same county, to a project of that county (for
    renovation money), not before the allocation nor after the data date, and never more in all
    than the allocation."""
    _resolve_county(raw, frame, bad, context, result)
    _check_duplicates(raw, frame, bad, result)
    stored, projects, paid = _load_funds(context.engine)
    allocations = {**stored, **context.new_allocations}
    names = context.county_names
    for row in frame.index:
        code, adcode = frame.at[row, "allocation_code"], frame.at[row, "county_adcode"]
        allocation = allocations.get(code)
        if code is None or (row, "allocation_code") in bad:
            continue
        if allocation is None:
            _reject(raw, bad, result, row, "allocation_code", code,
                    f"下达文号“{code}”不在库中,也不在本文件的“资金下达”表中:请先导入该笔资金下达")
            continue
        if adcode is not None and allocation["county_adcode"] != adcode:
            _reject(raw, bad, result, row, "allocation_code", code,
                    f"文号“{code}”的资金下达给{names.get(allocation['county_adcode'], '其他县区')},"
                    f"不是{names[adcode]}")
        _check_payee(raw, frame, bad, result, row, allocation, projects, names)
        day = frame.at[row, "paid_on"]
        if day is not None and (row, "paid_on") not in bad:
            if day > result.data_date:
                _reject(raw, bad, result, row, "paid_on", day,
                        f"拨付日期 {day.isoformat()} 晚于数据截至日期 {result.data_date.isoformat()}")
            elif allocation["allocated_on"] is not None and day < allocation["allocated_on"]:
                _reject(raw, bad, result, row, "paid_on", day, f"拨付日期 {day.isoformat()} 早于该笔资金的下达日期 "
                        f"{allocation['allocated_on'].isoformat()}")
    _check_paid_within(raw, frame, bad, result, allocations, paid)


def _check_payee(raw, frame, bad, result, row, allocation: dict, projects: dict[str, str], names) -> None:
    project = frame.at[row, "project_code"]
    if allocation["program"] != RENOVATION:
        if project is not None:
            _reject(raw, bad, result, row, "project_code", project, "清洁取暖补贴不拨付到小区:项目编码应为空")
    elif project is None:
        _reject(raw, bad, result, row, "project_code", "", "老旧小区改造资金须填拨付到的小区项目编码")
    elif project not in projects:
        _reject(raw, bad, result, row, "project_code", project, f"项目编码“{project}”不在库中")
    elif projects[project] != allocation["county_adcode"]:
        _reject(raw, bad, result, row, "project_code", project,
                f"小区“{project}”属于{names.get(projects[project], '其他县区')},不能用本县区的资金拨付")


def _check_paid_within(raw, frame, bad, result, allocations: dict, paid: dict[str, tuple[str, int]]) -> None:
    """Per allocation: the file's payments plus the store's other payments stay within it. The
    row that first goes over is the one named."""
    in_file = set(frame["code"])
    total = {}
    for allocation, amount in (v for k, v in paid.items() if k not in in_file):
        total[allocation] = total.get(allocation, 0) + amount
    for row in frame.index:
        code, amount = frame.at[row, "allocation_code"], frame.at[row, "amount_yuan"]
        if allocations.get(code, {}).get("amount_yuan") is None or amount is None or (row, "amount_yuan") in bad:
            continue
        total[code] = total.get(code, 0) + amount
        if total[code] > allocations[code]["amount_yuan"]:
            _reject(raw, bad, result, row, "amount_yuan", fmt_wan(amount),
                    f"文号“{code}”累计拨付 {fmt_wan(total[code])} 万元,超过下达金额 "
                    f"{fmt_wan(allocations[code]['amount_yuan'])} 万元")
            total[code] -= amount


def fmt_wan(yuan: int) -> str:
    """Yuan as the 万元 a file writes: 1,234.5 (two decimals at most, no trailing zeros)."""
    return f"{yuan / 10_000:,.2f}".rstrip("0").rstrip(".")


def _reject(raw, bad, result, row, column, value, message) -> None:
    bad.add((row, column))
    _cell_error(raw, result.errors, row, column, value, message)


def _rules_plans(raw, frame, bad, context: Context, result: CheckResult) -> None:
    _resolve_county(raw, frame, bad, context, result)
    _fill_defaults(raw.spec, frame)
    _check_duplicates(raw, frame, bad, result, "county", values=[
        f"{a} {y}年" if a and y else None for a, y in zip(frame["county"], frame["year"])])
    for row, year in zip(frame.index, frame["year"]):
        if year is not None and year not in context.heating_years:
            _cell_error(raw, result.errors, row, "year", year, f"{year}年没有清洁取暖计划年度,请先在库中设立")
    for row, target, carried in zip(frame.index, frame["target_households"], frame["carryover_households"]):
        if target is not None and carried is not None and carried > target:
            _cell_error(raw, result.errors, row, "carryover_households", carried,
                        f"结转户数 {carried} 超过任务户数 {target}")


def _rules_batches(raw, frame, bad, context: Context, result: CheckResult) -> None:
    _check_duplicates(raw, frame, bad, result, "year")
    _check_order(raw, frame, bad, result, ["period_start", "start_deadline", "finish_deadline", "accept_deadline"])


def _rules_heating_years(raw, frame, bad, context: Context, result: CheckResult) -> None:
    _check_duplicates(raw, frame, bad, result, "year")
    _check_order(raw, frame, bad, result, ["period_start", *[f"{m.key}_deadline" for m in MILESTONES]])


def _rules_townships(raw, frame, bad, context: Context, result: CheckResult) -> None:
    _resolve_county(raw, frame, bad, context, result)
    _check_duplicates(raw, frame, bad, result)


def _rules_villages(raw, frame, bad, context: Context, result: CheckResult) -> None:
    from shapely.geometry import Point

    _check_duplicates(raw, frame, bad, result)
    county_of = {code: adcode for (adcode, _), code in context.townships.items()}
    for row, town, lon, lat in zip(frame.index, frame["township_code"], frame["lon"], frame["lat"]):
        if town is None or (row, "township_code") in bad:
            continue
        adcode = county_of.get(town)
        if adcode is None:
            bad.add((row, "township_code"))
            _cell_error(raw, result.errors, row, "township_code", town,
                        f"乡镇代码“{town}”不存在:请先在“乡镇”表中填写该乡镇")
            continue
        shape = context.shapes.get(adcode)
        if shape is not None and lon is not None and lat is not None and not shape.contains(Point(lon, lat)) \
                and not {(row, "lon"), (row, "lat")} & bad:
            bad.add((row, "lon"))
            _cell_error(raw, result.errors, row, "lon", lon,
                        f"坐标({lon}, {lat})不在{context.county_names[adcode]}境内:请核对经纬度(经度在前)")


def _rules_nodes(raw, frame, bad, context: Context, result: CheckResult) -> None:
    """Plan nodes: the step one of the program's, the share a percentage, stored as a fraction;
    one node per program, year, step, county and date."""
    _resolve_county(raw, frame, bad, context, result)
    programs = {label: key for key, label in PROGRAMS.items()}
    steps = {label: key for key, label in NODE_STEP_LABELS.items()}
    set_column(frame, "program", [programs.get(v, v) for v in frame["program"]])
    keys = []
    for row, program, label in zip(frame.index, frame["program"], frame["step"]):
        key = steps.get(label, label)
        if program in NODE_STEPS_BY_PROGRAM and key is not None and key not in NODE_STEPS_BY_PROGRAM[program] \
                and (row, "step") not in bad:
            bad.add((row, "step"))
            allowed = "、".join(NODE_STEP_LABELS[k] for k in NODE_STEPS_BY_PROGRAM[program])
            _cell_error(raw, result.errors, row, "step", label, f"{PROGRAMS[program]}的节点环节应为:{allowed}")
        keys.append(key)
    set_column(frame, "step", keys)
    shares = []
    for row, share in zip(frame.index, frame["required_share"]):
        if share is not None and not 0 <= share <= 100 and (row, "required_share") not in bad:
            bad.add((row, "required_share"))
            _cell_error(raw, result.errors, row, "required_share", share, "应完成比例应在 0 到 100 之间(单位:%)")
        shares.append(None if share is None else share / 100)
    set_column(frame, "required_share", shares)
    _check_duplicates(raw, frame, bad, result, "due_on", values=[
        f"{PROGRAMS.get(p, p)} {y}年 {NODE_STEP_LABELS.get(k, k)} {c or '全市'} {d}" if d else None
        for p, y, k, c, d in zip(frame["program"], frame["plan_year"], frame["step"], frame["county"],
                                 frame["due_on"])])


RULES = {DISBURSEMENTS: _rules_disbursements, NODES: _rules_nodes, TOWNSHIPS: _rules_townships,
         VILLAGES: _rules_villages, HOUSEHOLDS: _rules_households, PROJECTS: _rules_projects,
         ALLOCATIONS: _rules_allocations, HEATING_PLANS: _rules_plans, BATCHES: _rules_batches,
         HEATING_YEARS: _rules_heating_years}
