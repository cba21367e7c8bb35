"""The XLSX a county fills: its current rows pre-filled (it updates its ledger, 一户一档, rather
than retyping it), frozen Chinese headers with units, dropdowns (long lists such as villages on
a hidden sheet), an instructions sheet and a version id the reader recognises.
"""
import io
from datetime import datetime, UTC

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select, true
from sqlalchemy.engine import Engine

from .. import db
from ..accounts import Access
from ..vocab import PROGRAMS
from .sheets import (ALLOCATIONS, BATCHES, DISBURSEMENTS, HEATING_PLANS, HEATING_YEARS, HOUSEHOLDS, NODE_STEP_LABELS, NODES,
                     TOWNSHIPS, VILLAGES, INSTRUCTIONS_SHEET, LISTS_SHEET,
                     META_SHEET, PROGRAM_LABELS, PROGRAM_SHEETS, PROJECTS, TEMPLATE_VERSION, SheetSpec)

TITLE_ROWS = 2                     # a title and a note above the header, as county ledgers have
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
REQUIRED_FILL = PatternFill("solid", fgColor="8B1A1A")
INLINE_LIST_LIMIT = 200            # characters: longer dropdown lists go to the hidden sheet
DATE_FORMAT = "yyyy-mm-dd"
WIDTHS = {"date": 13, "yuan": 12, "wan": 12, "int": 10, "choice": 14, "phone": 14, "bool": 8, "float": 11}


class TemplateError(Exception):
    """A template that cannot be made (unknown county or program): Chinese message."""


def load_template_rows(engine: Engine, spec: SheetSpec, county: str | None, year: int) -> list[dict]:
    """The store's current rows for the sheet, as the template writes them (names, not codes)."""
    c = db.county
    with engine.connect() as conn:
        if spec.key == HOUSEHOLDS:
            h, v, t = db.heating_household, db.village, db.township
            statement = (select(h, c.c.name.label("county"), t.c.name.label("township"), v.c.name.label("village"))
                         .select_from(h.join(v, v.c.code == h.c.village_code).join(t, t.c.code == v.c.township_code)
                                      .join(c, c.c.adcode == h.c.county_adcode))
                         .where(h.c.plan_year == year, h.c.county_adcode == county).order_by(h.c.code))
        elif spec.key == PROJECTS:
            p = db.renovation_project
            statement = (select(p, c.c.name.label("county")).join(c, c.c.adcode == p.c.county_adcode)
                         .where(p.c.batch_year == year, p.c.county_adcode == county).order_by(p.c.code))
        elif spec.key == ALLOCATIONS:
            a = db.fund_allocation
            statement = (select(a, c.c.name.label("county")).join(c, c.c.adcode == a.c.county_adcode)
                         .where(a.c.plan_year == year, a.c.county_adcode == county if county else true())
                         .order_by(a.c.allocated_on, a.c.code))
        elif spec.key == DISBURSEMENTS:
            a, d, p = db.fund_allocation, db.fund_disbursement, db.renovation_project
            statement = (select(d, a.c.code.label("allocation_code"), p.c.code.label("project_code"),
                                c.c.name.label("county"))
                         .select_from(d.join(a, a.c.id == d.c.allocation_id).join(c, c.c.adcode == a.c.county_adcode)
                                      .outerjoin(p, p.c.id == d.c.project_id))
                         .where(a.c.plan_year == year, a.c.county_adcode == county if county else true())
                         .order_by(d.c.paid_on, d.c.code))
        elif spec.key == HEATING_PLANS:
            p = db.heating_plan
            statement = (select(p, c.c.name.label("county")).join(c, c.c.adcode == p.c.county_adcode)
                         .where(p.c.year == year, p.c.county_adcode == county if county else true()).order_by(c.c.seq))
        elif spec.key == BATCHES:
            statement = select(db.renovation_batch).order_by(db.renovation_batch.c.year)
        elif spec.key == HEATING_YEARS:
            statement = select(db.heating_year).order_by(db.heating_year.c.year)
        elif spec.key == NODES:
            n = db.plan_node
            statement = (select(n, c.c.name.label("county")).outerjoin(c, c.c.adcode == n.c.county_adcode)
                         .where(n.c.plan_year == year, (n.c.county_adcode == county) | n.c.county_adcode.is_(None)
                                if county else true())
                         .order_by(n.c.program, n.c.step, n.c.county_adcode.is_(None).desc(), n.c.due_on))
        elif spec.key == TOWNSHIPS:
            t = db.township
            statement = (select(t, c.c.name.label("county")).join(c, c.c.adcode == t.c.county_adcode)
                         .where(t.c.county_adcode == county if county else true()).order_by(t.c.code))
        elif spec.key == VILLAGES:
            v, t = db.village, db.township
            statement = (select(v).join(t, t.c.code == v.c.township_code)
                         .where(t.c.county_adcode == county if county else true()).order_by(v.c.code))
        else:
            return []
        rows = [dict(r) for r in conn.execute(statement).mappings()]
    for row in rows:
        if "program" in row:
            row["program"] = PROGRAMS.get(row["program"], row["program"])
        if spec.key == NODES:
            row["step"] = NODE_STEP_LABELS.get(row["step"], row["step"])
            row["required_share"] = round(row["required_share"] * 100, 6)   # the template asks for %
        if "planned_investment_yuan" in row or "amount_yuan" in row:
            for column in ("planned_investment_yuan", "amount_yuan"):
                if column in row:
                    row[column] = row[column] / 10_000       # the template asks for 万元
        for column in ("is_demonstration", "consultation_done", "pipelines_coordinated"):
            if column in row:
                row[column] = "是" if row[column] else "否"
    return rows


def _lists(engine: Engine, county: str | None) -> dict[str, list[str]]:
    with engine.connect() as conn:
        counties = list(conn.execute(select(db.county.c.name).where(
            db.county.c.adcode == county if county else true()).order_by(db.county.c.seq)).scalars())
        townships = list(conn.execute(select(db.township.c.name).where(
            db.township.c.county_adcode == county if county else true()).order_by(db.township.c.code)).scalars())
        villages = list(conn.execute(select(db.village.c.name).join(
            db.township, db.township.c.code == db.village.c.township_code).where(
            db.township.c.county_adcode == county if county else true()).order_by(db.village.c.code)).scalars())
    return {"county": counties, "township": sorted(set(townships)), "village": sorted(set(villages))}


def build_template(engine: Engine, access: Access, program: str, county: str | None, year: int) -> bytes:
    """The XLSX for `program` (heating / renovation / funds / plans), `county` (name or adcode;
    None for the whole city) and plan year `year`, pre-filled with the store's rows (names in
    full: only for those who may import that county, AccessRefused otherwise)."""
    if program not in PROGRAM_SHEETS:
        raise TemplateError(f"未知类别“{program}”:可选 {'、'.join(PROGRAM_SHEETS)}")
    with engine.connect() as conn:
        known = dict(conn.execute(select(db.county.c.adcode, db.county.c.name)).all())
        data_date = db.read_meta(conn).get("data_date", "")
    adcode = None
    if county:
        adcode = county if county in known else next((a for a, n in known.items() if n == county), None)
        if adcode is None:
            raise TemplateError(f"未知县区“{county}”:可选 {'、'.join(known.values())}")
    access.check_import(adcode)
    place = known[adcode] if adcode else "全市"
    lists = _lists(engine, adcode)
    book = Workbook()
    book.remove(book.active)
    list_sheet = book.create_sheet(LISTS_SHEET)
    list_columns: dict[str, str] = {}
    for n, (name, values) in enumerate(lists.items(), 1):
        letter = get_column_letter(n)
        list_sheet.cell(1, n, name)
        for r, value in enumerate(values, 2):
            list_sheet.cell(r, n, value)
        list_columns[name] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${max(len(values) + 1, 2)}"
    for spec in PROGRAM_SHEETS[program]:
        _write_sheet(book, spec, load_template_rows(engine, spec, adcode, year), place, year, data_date, list_columns)
    _write_instructions(book, program, place, year, data_date)
    meta = book.create_sheet(META_SHEET)
    for r, (key, value) in enumerate((("模板版本", TEMPLATE_VERSION), ("类别", program), ("县区", place),
                                      ("县区代码", adcode or ""), ("年度", year), ("数据截至", data_date),
                                      ("生成时间(UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M"))), 1):
        meta.cell(r, 1, key)
        meta.cell(r, 2, value)
    meta.sheet_state = list_sheet.sheet_state = "hidden"
    book.move_sheet(LISTS_SHEET, offset=len(book.sheetnames))
    book.move_sheet(META_SHEET, offset=len(book.sheetnames))
    book.active = 0
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(book: Workbook, spec: SheetSpec, rows: list[dict], place: str, year: int, data_date: str,
                 list_columns: dict[str, str]) -> None:
    sheet = book.create_sheet(spec.title)
    width = len(spec.fields)
    sheet.cell(1, 1, f"{place} {year}年度 {spec.title}").font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(2, 1, f"带 * 的列必填;日期写作 2026-03-05;数据截至 {data_date};模板版本 {TEMPLATE_VERSION}").font = \
        Font(italic=True, color="555555")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    header_row = TITLE_ROWS + 1
    last_row = max(header_row + len(rows) + 500, 1000)
    for col, f in enumerate(spec.fields, 1):
        cell = sheet.cell(header_row, col, f.header + ("*" if f.required else ""))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = REQUIRED_FILL if f.required else HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        if f.note:
            cell.comment = Comment(f.note, "模板")
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = WIDTHS.get(f.kind, max(10, len(f.header) * 2 + 2))
        formula = _dropdown(f, list_columns)
        if formula:
            rule = DataValidation(type="list", formula1=formula, allow_blank=not f.required, showErrorMessage=True,
                                  errorTitle="请从下拉列表选择", error=f"{f.header}应从下拉列表中选择")
            rule.add(f"{letter}{header_row + 1}:{letter}{last_row}")
            sheet.add_data_validation(rule)
    sheet.row_dimensions[header_row].height = 32
    for r, row in enumerate(rows, header_row + 1):
        for col, f in enumerate(spec.fields, 1):
            value = row.get(f.column)
            cell = sheet.cell(r, col, value)
            if f.kind == "date" and value is not None:
                cell.number_format = DATE_FORMAT
    for col, f in enumerate(spec.fields, 1):
        if f.kind == "date":
            for r in range(header_row + len(rows) + 1, header_row + len(rows) + 51):
                sheet.cell(r, col).number_format = DATE_FORMAT
    sheet.freeze_panes = sheet.cell(header_row + 1, 2)


def _dropdown(f, list_columns: dict[str, str]) -> str | None:
    if f.column in list_columns:
        return list_columns[f.column]
    if f.choices:
        inline = ",".join(f.choices)
        if len(inline) <= INLINE_LIST_LIMIT:
            return f'"{inline}"'
    return None


def _write_instructions(book: Workbook, program: str, place: str, year: int, data_date: str) -> None:
    sheet = book.create_sheet(INSTRUCTIONS_SHEET)
    lines = [
        f"{place} {year}年度 {PROGRAM_LABELS[program]} 数据填报模板(版本 {TEMPLATE_VERSION})",
        "",
        "1. 表中已预填库中现有数据:请在原行上修改、在末尾追加新行;不要删除编码列,编码是每行的唯一标识。",
        "2. 带 * 的列必填;可选值的列请从下拉列表选择(乡镇、村的名单在隐藏工作表中)。",
        "3. 日期写作 2026-03-05(也接受 2026.3.5、2026年3月5日);金额只填数字,单位见表头。",
        "4. 不要填写身份证号:含身份证号列的文件会被整体拒绝。联系电话可填完整号码,导入时只保存 1xx****xxxx。",
        "5. 各日期不得晚于数据截至日期,不得早于计划年度;里程碑须依次完成(如先户内改造、后通气通电)。",
        "6. 在“数据填报”页面上传本文件:先看错误表和标红的文件,改正后预览,确认后导入;导入可在“导入记录”页撤销。",
        "",
        f"数据截至:{data_date}",
    ]
    for r, line in enumerate(lines, 1):
        sheet.cell(r, 1, line)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 110
