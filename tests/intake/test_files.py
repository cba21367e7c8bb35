"""Whole files: what is refused before any row is read (empty, not Excel, damaged, encrypted,
too large), and what real files do that must still be read right (title rows, merged headers,
full-width digits, trailing spaces, "—" and "/" for empty, dates in every form, header
aliases, formulas with cached values, CSV in GBK or UTF-8)."""
import io
import zipfile
from datetime import date

import pytest
import xlsxwriter

from intake_files import (HEADERS, assert_refused_unchanged, build_csv, build_xlsx, check, errors_of, household,
                          ledger)


def refusal(result) -> str:
    assert len(result.errors) == 1 and result.errors[0].row is None
    return result.errors[0].message


def test_an_empty_file_is_refused(city):
    result = check(city, b"", "北县.xlsx")
    assert refusal(result) == "文件是空的(0 字节),请重新选择文件"
    assert_refused_unchanged(city, result)


def test_a_file_that_is_not_excel_is_refused(city):
    result = check(city, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "北县.xlsx")
    assert refusal(result) == "“北县.xlsx”不是 Excel(.xlsx/.xls)或 CSV 文件,无法读取;请用模板填写后另存为 .xlsx"
    assert_refused_unchanged(city, result)


def test_a_damaged_xlsx_is_refused(city):
    content = build_xlsx(ledger())[:2000]
    result = check(city, content, "北县.xlsx")
    assert refusal(result) == "“北县.xlsx”已损坏或不是 Excel 文件,无法打开;请在 Excel 中打开确认后另存为 .xlsx"
    assert_refused_unchanged(city, result)


def test_an_encrypted_workbook_is_refused(city, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(build_xlsx(ledger()))
    locked = io.BytesIO()
    OOXMLFile(plain).encrypt("secret", locked)
    result = check(city, locked.getvalue(), "北县.xlsx")
    assert refusal(result) == "文件已加密(设有打开密码),无法读取;请在 Excel 中取消密码后另存再导入"
    assert_refused_unchanged(city, result)


def test_a_50_mb_file_is_refused_before_it_is_read(city):
    padded = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(build_xlsx(ledger()))) as source, zipfile.ZipFile(padded, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/media/photo.bin", b"\0" * (50 * 1024 * 1024), zipfile.ZIP_STORED)
    result = check(city, padded.getvalue(), "北县.xlsx")
    assert refusal(result) == "文件大小 50.0 MB,超过上限 30 MB;请按县区分别导入,或删除无关的工作表和图片"
    assert_refused_unchanged(city, result)


def _stored(result, column: str) -> list:
    return list(result.sheets[0].frame[column])


def test_title_rows_full_width_digits_spaces_and_dash_for_empty_are_read(city):
    rows = [household("H1", **{"设备费用(元)": "５０００ ", "户主姓名": " 王建国 ", "户内改造日期": "—",
                               "设备招标日期": "/", "联系电话": "139 1234 5678"})]
    def more_titles(ws):
        ws.insert_rows(1, 2)
        ws["A1"], ws["A2"] = "北县农村清洁取暖", "填报单位:北县住建局"
    result = check(city, build_xlsx(rows, extra=more_titles))
    assert result.ok, errors_of(result)
    frame = result.sheets[0].frame
    assert list(frame.index) == [5]
    assert frame.at[5, "equipment_cost_yuan"] == 5000 and frame.at[5, "head_name"] == "王建国"
    assert frame.at[5, "installed_on"] is None and frame.at[5, "tendered_on"] is None
    assert frame.at[5, "phone_masked"] == "139****5678"


@pytest.mark.parametrize("written", [46086, "2026.3.5", "2026-03-05", "2026年3月5日", "2026/3/5", "20260305",
                                     date(2026, 3, 5)])
def test_dates_are_read_in_every_form_counties_write_them(city, written):
    result = check(city, build_xlsx([household("H1", 确村到户日期=written)]))
    assert result.ok, errors_of(result)
    assert _stored(result, "confirmed_on") == [date(2026, 3, 5)]


def test_header_aliases_are_recognised(city):
    headers = [{"户主姓名": "户主", "通气通电日期": "通气(电)日期", "技术路线": "改造方式"}.get(h, h) for h in HEADERS]
    rows = [{{"户主姓名": "户主", "通气通电日期": "通气(电)日期", "技术路线": "改造方式"}.get(k, k): v
             for k, v in household("H1", 通气通电日期=date(2026, 6, 20)).items()}]
    result = check(city, build_xlsx(rows, headers))
    assert result.ok, errors_of(result)
    assert _stored(result, "connected_on") == [date(2026, 6, 20)] and _stored(result, "head_name") == ["王建国"]


def test_merged_header_cells_over_two_rows_are_read(city):
    def two_level_header(ws):
        ws.insert_rows(2)
        for col, header in enumerate(HEADERS, 1):
            if header.endswith("日期") and header != "状态变更日期":
                ws.cell(2, col, "进度节点")
            else:
                ws.cell(2, col, header)
                ws.cell(3, col, None)
                ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
        ws.merge_cells("O2:R2")
    result = check(city, build_xlsx(ledger(), extra=two_level_header))
    assert result.ok, errors_of(result)
    assert list(result.sheets[0].frame.index) == [4, 5, 6]


def _xlsxwriter_ledger(formula_value) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("一户一档")
    ws.write_row(0, 0, HEADERS)
    row = household("H1")
    for col, header in enumerate(HEADERS):
        value = row[header]
        if header == "设备费用(元)":
            ws.write_formula(1, col, "=2500*2", None, formula_value)
        elif isinstance(value, date):
            ws.write_datetime(1, col, value, book.add_format({"num_format": "yyyy-mm-dd"}))
        elif value is not None:
            ws.write(1, col, value)
    book.close()
    return out.getvalue()


def test_formulas_are_read_by_their_cached_values(city):
    result = check(city, _xlsxwriter_ledger(5000))
    assert result.ok, errors_of(result)
    assert _stored(result, "equipment_cost_yuan") == [5000]


def test_a_formula_without_a_cached_value_is_an_empty_cell(city):
    result = check(city, _xlsxwriter_ledger(""))
    assert errors_of(result) == [(2, "设备费用(元)", "", "设备费用(元)为必填项,不能为空")]
    assert_refused_unchanged(city, result)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_in_gbk_or_utf8_is_read(city, encoding):
    rows = [household("H1", 确村到户日期="2026.3.5", 设备招标日期="2026-04-01", 户内改造日期="2026年6月1日")]
    result = check(city, build_csv(rows, encoding), "北县.csv")
    assert result.ok, errors_of(result)
    assert _stored(result, "village_code") == ["610001101202"[:-1] + "1"]
    assert _stored(result, "installed_on") == [date(2026, 6, 1)]


def test_csv_errors_name_the_spreadsheet_row(city):
    result = check(city, build_csv(ledger(household("H1"), household("H2", 技术路线="煤"))), "北县.csv")
    assert [e[:2] for e in errors_of(result)] == [(3, "技术路线")]
    assert_refused_unchanged(city, result)


def _xls(rows: list[dict]) -> bytes:
    """An old .xls (BIFF8) as some county offices still save, written by xlwt."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("一户一档")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for col, header in enumerate(HEADERS):
        sheet.write(0, col, header)
    for r, row in enumerate(rows, 1):
        for col, header in enumerate(HEADERS):
            value = row[header]
            if isinstance(value, date):
                sheet.write(r, col, value, day)
            elif value is not None:
                sheet.write(r, col, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_old_xls_file_is_read(city):
    result = check(city, _xls(ledger()), "北县.xls")
    assert result.ok, errors_of(result)
    assert result.kind == "xls" and _stored(result, "confirmed_on") == [date(2026, 3, 5)] * 3


def test_an_xls_with_errors_comes_back_as_a_marked_xlsx(city):
    from openpyxl import load_workbook

    from retrofit.intake import markup

    content = _xls(ledger(household("H1"), household("H2", 技术路线="煤改电")))
    result = check(city, content, "北县.xls")
    assert [e[:3] for e in errors_of(result)] == [(3, "技术路线", "煤改电")]
    assert_refused_unchanged(city, result)
    cell = load_workbook(io.BytesIO(markup.build_marked_file(content, result)))["一户一档"]["H3"]
    assert cell.value == "煤改电" and "技术路线应为下列之一" in cell.comment.text


def test_the_uploader_states_the_same_size_limit_the_reader_applies():
    import tomllib
    from pathlib import Path

    from retrofit.intake.readers import MAX_FILE_BYTES

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_FILE_BYTES
