"""Templates on the demo city: pre-filled with the county's rows, frozen Chinese headers with
units, dropdowns (villages on a hidden sheet), instructions and a version id; and the round
trip: a downloaded template imported as it is changes nothing, filled in it moves the
measures exactly as the store then computes them."""
import io
import shutil
from datetime import date

import pytest
from openpyxl import load_workbook

from retrofit import db, report
from retrofit.demo import DEMO_DATA_DATE
from retrofit.intake import commit, templates, validate
from retrofit.intake.sheets import LISTS_SHEET, META_SHEET, TEMPLATE_VERSION
from builders import admin_as

LONGXIAN = "610327"
CONNECTED_ON = date(2026, 11, 14)  # inside the 2026 task, which closes at the 11-15 connection deadline


@pytest.fixture
def demo_copy(demo_url, tmp_path):
    """A private copy of the demo store that a test may write to."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_url.removeprefix("sqlite:///"), target)
    engine = db.make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


def test_heating_template_is_prefilled_frozen_with_dropdowns_instructions_and_version(demo_engine):
    content = templates.build_template(demo_engine, admin_as("测试"), "heating", "陇县", 2026)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["一户一档", "填表说明", LISTS_SHEET, META_SHEET]
    sheet = book["一户一档"]
    assert sheet.freeze_panes == "B4"
    headers = [c.value for c in sheet[3]]
    assert headers[:6] == ["户编码*", "县(市、区)*", "乡镇*", "村*", "改造年度*", "户主姓名*"]
    assert "设备费用(元)*" in headers and "通气通电日期" in headers
    with db.make_engine(str(demo_engine.url)).connect() as conn:
        stored = conn.execute(db.heating_household.select().where(
            db.heating_household.c.county_adcode == LONGXIAN, db.heating_household.c.plan_year == 2026)).all()
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0]]
    assert len(rows) == len(stored) > 1000
    lists = {str(v.formula1): v.sqref for v in sheet.data_validations.dataValidation}
    village_list = next(f for f in lists if "$C$" in f)
    assert village_list.startswith(f"{LISTS_SHEET}!$C$2:$C$") or village_list.startswith(f"'{LISTS_SHEET}'!")
    assert any("生物质" in f for f in lists)
    assert book[LISTS_SHEET].sheet_state == "hidden" and book[META_SHEET].sheet_state == "hidden"
    meta = {r[0]: r[1] for r in book[META_SHEET].iter_rows(values_only=True)}
    assert meta["模板版本"] == TEMPLATE_VERSION and meta["县区代码"] == LONGXIAN
    assert "不要填写身份证号" in book["填表说明"]["A6"].value


def test_an_unknown_county_gets_no_template(demo_engine):
    with pytest.raises(templates.TemplateError, match="未知县区“东县”"):
        templates.build_template(demo_engine, admin_as("测试"), "heating", "东县", 2026)


@pytest.mark.parametrize("program", ["heating", "renovation", "funds", "plans", "places"])
def test_a_downloaded_template_imported_as_it_is_changes_nothing(demo_copy, program):
    county = "陇县" if program in ("heating", "renovation") else None
    content = templates.build_template(demo_copy, admin_as("测试"), program, county, 2026)
    before = commit.compute_store_checksum(demo_copy)
    result = validate.check_file(demo_copy, content, "模板.xlsx")
    assert result.ok, result.error_table().head().to_dict("records")
    preview = commit.build_preview(demo_copy, result, admin_as("测试"))
    assert preview.counts["inserted"] == preview.counts["updated"] == 0 and preview.changes_nothing
    commit.commit_import(demo_copy, result, admin_as("张三"))
    assert commit.compute_store_checksum(demo_copy) == before


def test_round_trip_filled_template_gives_the_measures_the_store_computes(demo_copy):
    content = templates.build_template(demo_copy, admin_as("测试"), "heating", "陇县", 2026)
    book = load_workbook(io.BytesIO(content))
    sheet = book["一户一档"]
    headers = [c.value for c in sheet[3]]
    installed, connected = headers.index("户内改造日期") + 1, headers.index("通气通电日期") + 1
    filled = 0
    for r in range(4, sheet.max_row + 1):
        fitting = sheet.cell(r, installed).value and sheet.cell(r, installed).value.date() <= CONNECTED_ON
        if fitting and sheet.cell(r, connected).value is None and filled < 60:
            sheet.cell(r, connected).value = CONNECTED_ON
            filled += 1
    out = io.BytesIO()
    book.save(out)
    result = validate.check_file(demo_copy, out.getvalue(), "陇县.xlsx")
    assert result.ok
    preview = commit.build_preview(demo_copy, result, admin_as("测试"))
    assert preview.counts["updated"] == filled == 60
    before = report.compute_headline(demo_copy, report.Scope(DEMO_DATA_DATE, 2026, (LONGXIAN,)))
    commit.commit_import(demo_copy, result, admin_as("张三"))
    after = report.compute_headline(demo_copy, report.Scope(DEMO_DATA_DATE, 2026, (LONGXIAN,)))
    done = after.set_index("key").loc["completion_rate"]
    assert int(done["numerator"]) == int(before.set_index("key").loc["completion_rate", "numerator"]) + 60
    shown = preview.effect.set_index("指标").loc["完成率", "导入后"]
    assert shown == f"{report.fmt.format_percent_of(done['numerator'], done['denominator'])}" \
                    f"({int(done['numerator']):,}/{int(done['denominator']):,})"
    assert preview.changes["新值"].unique().tolist() == [CONNECTED_ON.isoformat()]


def test_template_dates_are_excel_dates(demo_engine):
    book = load_workbook(io.BytesIO(templates.build_template(demo_engine, admin_as("测试"), "heating", "陇县", 2026)))
    sheet = book["一户一档"]
    cell = sheet.cell(4, [c.value for c in sheet[3]].index("确村到户日期") + 1)
    assert isinstance(cell.value, (date,)) and cell.number_format == "yyyy-mm-dd"
