"""Malformed heating ledgers (一户一档), each refused with the exact Chinese message on the exact
cell, and the store unchanged. Row 3 is the first data row (a title row, then the header)."""
from datetime import date

import pytest

from intake_files import (FIRST_ROW, HEADERS, assert_refused_unchanged, build_xlsx, check, errors_of, household,
                          ledger)
from builders import add_household, NORTH, SOUTH

ROUTES = "生物质、电蓄热、太阳能+电辅助、燃气壁挂炉、液化石油气壁挂炉、空气源热泵、光伏+"
R1, R2, R3 = FIRST_ROW, FIRST_ROW + 1, FIRST_ROW + 2

CASES = {
    "unknown_county": (
        ledger(household("H1"), household("H2"), household("H3", **{"县(市、区)": "东县"})),
        [(R3, "县(市、区)", "东县", "未知县区“东县”:应为本市县区之一(北县、南区)")]),
    "unknown_township": (
        ledger(household("H1", 乡镇="北镇")),
        [(R1, "乡镇", "北镇", "北县没有乡镇“北镇”")]),
    "unknown_village": (
        ledger(household("H1", 村="中村")),
        [(R1, "村", "中村", "城关镇没有村“中村”(请从下拉列表选择)")]),
    "another_countys_row": (
        ledger(household("H1"), household("H2"), household("S1", **{"县(市、区)": "南区", "乡镇": "南关镇", "村": "河村"})),
        [(R3, "县(市、区)", "南区", "本表是北县的台账,此行属于南区:请删除此行,由南区自行填报")]),
    "duplicate_code": (
        ledger(household("H1"), household("H2"), household("H1")),
        [(R3, "户编码", "H1", "编码重复:“H1”与第3行相同")]),
    "household_in_two_villages": (
        ledger(household("H1"), household("H1", "西村")),
        [(R2, "户编码", "H1", "同一户出现在两个村:户编码“H1”在第3行为东村,此行为西村")]),
    "date_after_data_date": (
        ledger(household("H1", 通气通电日期=date(2026, 7, 3))),
        [(R1, "通气通电日期", "2026-07-03", "通气通电日期 2026-07-03 晚于数据截至日期 2026-07-02")]),
    "date_before_plan_year": (
        ledger(household("H1", 确村到户日期=date(2025, 12, 31))),
        [(R1, "确村到户日期", "2025-12-31", "确村到户日期 2025-12-31 早于改造年度2026年")]),
    "milestones_out_of_order": (
        ledger(household("H1", 通气通电日期=date(2026, 5, 1))),
        [(R1, "通气通电日期", "2026-05-01", "通气通电日期 2026-05-01 早于户内改造日期 2026-06-01:步骤顺序不对")]),
    "milestone_skipped": (
        ledger(household("H1", 户内改造日期=None, 通气通电日期=date(2026, 6, 20))),
        [(R1, "通气通电日期", "2026-06-20", "已填通气通电日期,但户内改造日期为空:步骤应依次完成")]),
    "subsidy_above_cost": (
        ledger(household("H1", **{"补贴金额(元)": 6000})),
        [(R1, "补贴金额(元)", "6000", "补贴金额 6,000 元超过设备费用 5,000 元")]),
    "negative_amount": (
        ledger(household("H1", **{"预计运行费用(元/采暖季)": -900})),
        [(R1, "预计运行费用(元/采暖季)", "-900", "预计运行费用(元/采暖季)不能为负数")]),
    "non_numeric_amount": (
        ledger(household("H1", **{"设备费用(元)": "五千"})),
        [(R1, "设备费用(元)", "五千", "设备费用(元)应为金额(元,数字),不能填文字")]),
    "unknown_route": (
        ledger(household("H1", 技术路线="煤改电")),
        [(R1, "技术路线", "煤改电", f"技术路线应为下列之一:{ROUTES}")]),
    "unknown_status": (
        ledger(household("H1", 使用状态="停用")),
        [(R1, "使用状态", "停用", "使用状态应为下列之一:正常使用、闲置、取消")]),
    "bad_phone": (
        ledger(household("H1", 联系电话="12345")),
        [(R1, "联系电话", "12345", "联系电话应为11位手机号")]),
    "unreadable_date": (
        ledger(household("H1", 确村到户日期="三月五日")),
        [(R1, "确村到户日期", "三月五日", "确村到户日期应为日期,如 2026-03-05、2026.3.5 或 2026年3月5日")]),
    "required_cell_empty": (
        ledger(household("H1", 户主姓名=None)),
        [(R1, "户主姓名", "", "户主姓名为必填项,不能为空")]),
    "year_without_plan": (
        ledger(household("H1", 改造年度=2030)),
        [(R1, "改造年度", "2030", "2030年没有清洁取暖计划(库中年度:2025、2026)")]),
    "idle_without_date": (
        ledger(household("H1", 使用状态="闲置")),
        [(R1, "状态变更日期", "", "使用状态为“闲置”时须填状态变更日期")]),
    "fractional_year": (
        ledger(household("H1", 改造年度=2026.5)),
        [(R1, "改造年度", "2026.5", "改造年度应为整数,不能填文字")]),
    "several_errors_at_once": (
        ledger(household("H1", 技术路线="煤改电"), household("H2", **{"设备费用(元)": -1, "补贴金额(元)": 0})),
        [(R1, "技术路线", "煤改电", f"技术路线应为下列之一:{ROUTES}"),
         (R2, "设备费用(元)", "-1", "设备费用(元)不能为负数")]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_ledger_names_the_cell_and_changes_nothing(city, case):
    rows, expected = CASES[case]
    result = check(city, build_xlsx(rows))
    assert errors_of(result) == expected
    assert_refused_unchanged(city, result)


def test_a_household_stored_in_one_village_cannot_move_to_another(city):
    add_household(city, "H1", f"{NORTH}101201", 2026)
    result = check(city, build_xlsx(ledger(household("H1", "西村"))))
    assert errors_of(result) == [(R1, "村", "西村", "同一户出现在两个村:户编码“H1”在库中属于东村,此行填为西村")]
    assert_refused_unchanged(city, result)


def test_another_countys_household_code_is_refused_without_naming_its_village(city):
    add_household(city, "H1", f"{SOUTH}101201", 2026, county=SOUTH)
    result = check(city, build_xlsx(ledger(household("H1", "东村"))))
    assert errors_of(result) == [(R1, "村", "东村", "户编码“H1”已登记为其他县区的农户,不能填入本县区;请核对户编码")]
    assert_refused_unchanged(city, result)


def test_an_id_number_column_refuses_the_file_and_no_id_number_is_kept(city):
    rows = [dict(household("H1"), 身份证号="610327199001011234")]
    result = check(city, build_xlsx(rows, HEADERS + ["身份证号"]))
    assert errors_of(result) == [(2, "身份证号", "身份证号", "表中含有身份证号列:本系统不收集身份证号,请删除整列后再导入"
                                                             "(本文件未读取、未保存任何身份证号)")]
    assert not result.sheets
    assert_refused_unchanged(city, result)


def test_missing_required_column_is_named(city):
    headers = [h for h in HEADERS if h != "技术路线"]
    result = check(city, build_xlsx(ledger(), headers))
    assert errors_of(result) == [(2, "技术路线", "", "缺少必填列“技术路线”(见模板表头)")]
    assert_refused_unchanged(city, result)


def test_a_hidden_row_must_be_shown_before_import(city):
    def hide(ws):
        ws.row_dimensions[R2].hidden = True
    result = check(city, build_xlsx(ledger(), extra=hide))
    assert errors_of(result) == [(R2, "", "", "此行在 Excel 中被隐藏:请取消隐藏核对;不需要导入的行请删除")]
    assert_refused_unchanged(city, result)


def test_a_second_header_row_is_refused(city):
    def repeat_header(ws):
        ws.append(HEADERS)
        ws.append([household("H9").get(h) for h in HEADERS])
    result = check(city, build_xlsx(ledger(), extra=repeat_header))
    assert errors_of(result) == [(R3 + 1, "", "", "此行重复了第2行的表头:请删除此行(如是两张表拼接,请核对两部分的列顺序一致)")]
    assert_refused_unchanged(city, result)


def test_a_sheet_with_only_headers_is_refused(city):
    result = check(city, build_xlsx([]))
    assert errors_of(result) == [(2, "", "", "工作表“一户一档”只有表头,没有数据行")]
    assert_refused_unchanged(city, result)


def test_a_workbook_without_a_ledger_sheet_is_refused(city):
    content = build_xlsx([{"姓名": "王", "年龄": 3}], ["姓名", "年龄"], sheet="Sheet1", title=None)
    result = check(city, content)
    assert errors_of(result) == [(None, "", "Sheet1", "未找到可导入的工作表:文件中的工作表为 Sheet1,但没有一张的表头含有模板的列名"
                                                      "(应为 “改造批次”、“取暖年度”、“取暖任务”、“计划节点”、“乡镇”、“村”、"
                                                      "“资金下达”、“小区台账”、“资金拨付”、“一户一档” 之一,请用模板填写)")]
    assert_refused_unchanged(city, result)
