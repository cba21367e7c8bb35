"""Files counties send, built in the tests: a small 北县 heating ledger as rows of header ->
value, written as .xlsx (openpyxl or xlsxwriter), CSV, or mangled in the ways real files are."""
import csv
import io
import json
from datetime import date

from openpyxl import Workbook

from builders import NORTH, SOUTH, admin_as
from retrofit import db
from retrofit.intake import commit, validate

HEADERS = ["户编码", "县(市、区)", "乡镇", "村", "改造年度", "户主姓名", "联系电话", "技术路线", "设备费用(元)",
           "补贴金额(元)", "预计运行费用(元/采暖季)", "原燃煤费用(元/采暖季)", "使用状态", "状态变更日期",
           "确村到户日期", "设备招标日期", "户内改造日期", "通气通电日期"]
DATA_DATE = date(2026, 7, 2)
FIRST_ROW = 3  # a title row, the header on row 2, data from row 3


def household(code: str, village: str = "东村", **changes) -> dict:
    row = {"户编码": code, "县(市、区)": "北县", "乡镇": "城关镇", "村": village, "改造年度": 2026, "户主姓名": "王建国",
           "联系电话": "13912345678", "技术路线": "生物质", "设备费用(元)": 5000, "补贴金额(元)": 3500,
           "预计运行费用(元/采暖季)": 900, "原燃煤费用(元/采暖季)": 1800, "使用状态": "正常使用", "状态变更日期": None,
           "确村到户日期": date(2026, 3, 5), "设备招标日期": date(2026, 4, 1), "户内改造日期": date(2026, 6, 1),
           "通气通电日期": None}
    row.update(changes)
    return row


def ledger(*rows: dict) -> list[dict]:
    return list(rows) or [household("H1"), household("H2", "西村"), household("H3")]


def build_xlsx(rows: list[dict], headers: list[str] | None = None, sheet: str = "一户一档",
               title: str | None = "北县 2026年度 一户一档", extra=None) -> bytes:
    """An .xlsx with an optional title row above the header; `extra(worksheet)` mangles it."""
    headers = headers or HEADERS
    book = Workbook()
    ws = book.active
    ws.title = sheet
    if title is not None:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    if extra:
        extra(ws)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_csv(rows: list[dict], encoding: str = "utf-8-sig", headers: list[str] | None = None) -> bytes:
    headers = headers or HEADERS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in headers])
    return out.getvalue().encode(encoding)


def add_places(engine) -> None:
    """北县: 城关镇 (东村, 西村); 南区: 南关镇 (河村); 北县's boundary a square around (107, 34)."""
    square = {"type": "Polygon", "coordinates": [[[106.9, 33.9], [107.1, 33.9], [107.1, 34.1], [106.9, 34.1],
                                                  [106.9, 33.9]]]}
    with engine.begin() as conn:
        conn.execute(db.township.insert(), [dict(code=f"{NORTH}101", county_adcode=NORTH, name="城关镇"),
                                            dict(code=f"{SOUTH}101", county_adcode=SOUTH, name="南关镇")])
        conn.execute(db.village.insert(), [
            dict(code=f"{NORTH}101201", township_code=f"{NORTH}101", name="东村", lon=107.0, lat=34.0),
            dict(code=f"{NORTH}101202", township_code=f"{NORTH}101", name="西村", lon=107.0, lat=34.0),
            dict(code=f"{SOUTH}101201", township_code=f"{SOUTH}101", name="河村", lon=108.0, lat=34.0)])
        conn.execute(db.heating_plan.insert(), [dict(county_adcode=NORTH, year=2026, target_households=4),
                                                dict(county_adcode=SOUTH, year=2026, target_households=2)])
        conn.execute(db.county_boundary.insert(), [dict(adcode=NORTH, geojson=json.dumps(square))])


def check(engine, content: bytes, name: str = "北县.xlsx", **kwargs) -> validate.CheckResult:
    return validate.check_file(engine, content, name, kwargs.pop("data_date", DATA_DATE), **kwargs)


def errors_of(result: validate.CheckResult) -> list[tuple]:
    """(row, column, value, message) of every error, in file order."""
    return [tuple(r) for r in result.error_table()[["行号", "列", "填写值", "问题"]].astype(object)
            .where(result.error_table()[["行号", "列", "填写值", "问题"]].notna(), None).itertuples(index=False)]


def assert_refused_unchanged(engine, result: validate.CheckResult) -> None:
    """A refused file cannot be previewed nor imported, and the store stays exactly as it was."""
    import pytest

    before = commit.compute_store_checksum(engine)
    assert not result.ok
    with pytest.raises(commit.ImportRefused):
        commit.commit_import(engine, result, admin_as("测试"))
    with pytest.raises(commit.ImportRefused):
        commit.build_preview(engine, result, admin_as("测试"))
    assert commit.compute_store_checksum(engine) == before


PROJECT_HEADERS = ["项目编码", "县(市、区)", "计划批次", "街道", "小区名称", "经度", "纬度", "建成年份", "楼栋数(栋)",
                   "户数(户)", "建筑面积(㎡)", "物业类型", "改造类型", "基础类改造内容", "示范样板", "加装电梯(部)",
                   "计划投资(万元)", "储备实际日期", "前期手续实际日期", "招投标实际日期", "开工实际日期", "完工实际日期",
                   "竣工验收实际日期", "开工计划日期"]


def project(code: str, **changes) -> dict:
    row = {"项目编码": code, "县(市、区)": "北县", "计划批次": 2026, "街道": "城关街道", "小区名称": f"{code}小区",
           "经度": 107.0, "纬度": 34.0, "建成年份": 1992, "楼栋数(栋)": 6, "户数(户)": 180, "建筑面积(㎡)": 12600,
           "物业类型": "无物业", "改造类型": "基础完善型", "基础类改造内容": "供水、排水", "示范样板": "否",
           "加装电梯(部)": None, "计划投资(万元)": 523.45, "储备实际日期": date(2025, 9, 1),
           "前期手续实际日期": date(2026, 2, 1), "招投标实际日期": date(2026, 3, 10), "开工实际日期": date(2026, 4, 1),
           "完工实际日期": None, "竣工验收实际日期": None, "开工计划日期": date(2026, 3, 31)}
    row.update(changes)
    return row


def build_projects(rows: list[dict], headers: list[str] | None = None) -> bytes:
    return build_xlsx(rows, headers or PROJECT_HEADERS, sheet="小区台账", title="北县 2026年度 小区台账")


def fill_one_connection(path, connected_on: date) -> None:
    """A county's heating template at `path` with one more household connected on
    `connected_on`: the first not yet connected whose indoor work was done by then."""
    from openpyxl import load_workbook
    book = load_workbook(path)
    sheet = book["一户一档"]
    headers = [c.value for c in sheet[3]]
    installed, connected = headers.index("户内改造日期") + 1, headers.index("通气通电日期") + 1
    row = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, connected).value is None
               and sheet.cell(r, installed).value and sheet.cell(r, installed).value.date() <= connected_on)
    sheet.cell(row, connected).value = connected_on
    book.save(path)
