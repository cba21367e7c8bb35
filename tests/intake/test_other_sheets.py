"""The renovation community ledger (小区台账), fund allocations (资金下达 with 文号) and the plan
sheets (改造批次, 取暖年度, 取暖任务): the same reader, checks, preview and undo."""
from datetime import date

import pytest
from sqlalchemy import select

from builders import NORTH, admin_as
from intake_files import (assert_refused_unchanged, build_projects, build_xlsx, check, errors_of, project)
from retrofit import db
from retrofit.intake import commit

R1, R2 = 3, 4


def _project(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(db.renovation_project).where(db.renovation_project.c.code == code))
                    .mappings().one())


def test_a_community_ledger_imports_with_money_in_wan_yuan_and_undoes(city):
    before = commit.compute_store_checksum(city)
    result = check(city, build_projects([project("P1"), project("P2", 示范样板="是", **{"加装电梯(部)": 2})]))
    assert result.ok, errors_of(result)
    log_id = commit.commit_import(city, result, admin_as("张三"))
    stored = _project(city, "P1")
    assert stored["planned_investment_yuan"] == 5_234_500 and stored["start_actual"] == date(2026, 4, 1)
    assert stored["elevators_added"] == 0 and stored["is_demonstration"] is False
    assert _project(city, "P2")["is_demonstration"] is True
    commit.undo_import(city, log_id, admin_as("张三"))
    assert commit.compute_store_checksum(city) == before


PROJECT_CASES = {
    "coordinates_outside_the_county": (
        [project("P1", 经度=108.5)],
        [(R1, "经度", "108.5", "坐标(108.5, 34.0)不在北县境内:请核对经纬度(经度在前)")]),
    "batch_that_does_not_exist": (
        [project("P1", 计划批次=2019)],
        [(R1, "计划批次", "2019", "没有2019年度改造批次(库中批次:2026)")]),
    "stages_out_of_order": (
        [project("P1", 完工实际日期=date(2026, 3, 1))],
        [(R1, "完工实际日期", "2026-03-01", "完工实际日期 2026-03-01 早于开工实际日期 2026-04-01:步骤顺序不对")]),
    "work_started_before_the_batch_year": (
        [project("P1", 前期手续实际日期=date(2025, 9, 20), 招投标实际日期=date(2025, 10, 1), 开工实际日期=date(2025, 12, 1))],
        [(R1, "开工实际日期", "2025-12-01", "开工实际日期 2025-12-01 早于计划批次2026年")]),
    "unknown_renovation_type": (
        [project("P1", 改造类型="综合型")],
        [(R1, "改造类型", "综合型", "改造类型应为下列之一:基础完善型、环境美化型、功能提升型、整合提升型")]),
    "yes_no_column_with_other_text": (
        [project("P1", 示范样板="有")],
        [(R1, "示范样板", "有", "示范样板应填“是”或“否”")]),
    "duplicate_project_code": (
        [project("P1"), project("P1")],
        [(R2, "项目编码", "P1", "编码重复:“P1”与第3行相同")]),
    "negative_households": (
        [project("P1", **{"户数(户)": -5})],
        [(R1, "户数(户)", "-5", "户数(户)不能为负数")]),
}


@pytest.mark.parametrize("case", list(PROJECT_CASES))
def test_malformed_community_ledger_names_the_cell_and_changes_nothing(city, case):
    rows, expected = PROJECT_CASES[case]
    result = check(city, build_projects(rows))
    assert errors_of(result) == expected
    assert_refused_unchanged(city, result)


ALLOCATION_HEADERS = ["文号", "工作", "县(市、区)", "年度", "资金来源", "下达金额(万元)", "下达日期"]


def allocation(code: str, **changes) -> dict:
    row = {"文号": code, "工作": "老旧小区改造", "县(市、区)": "北县", "年度": 2026, "资金来源": "中央财政补助",
           "下达金额(万元)": 1200, "下达日期": date(2026, 3, 20)}
    row.update(changes)
    return row


def test_allocations_import_by_document_number_for_several_counties(city):
    content = build_xlsx([allocation("宝财建〔2026〕12号"), allocation("宝财建〔2026〕13号", **{"县(市、区)": "南区"})],
                         ALLOCATION_HEADERS, sheet="资金下达", title="2026年度资金下达")
    result = check(city, content)
    assert result.ok, errors_of(result)
    commit.commit_import(city, result, admin_as("市财政 王五"))
    with city.connect() as conn:
        rows = conn.execute(select(db.fund_allocation.c.code, db.fund_allocation.c.county_adcode,
                                   db.fund_allocation.c.amount_yuan, db.fund_allocation.c.program)
                            .order_by(db.fund_allocation.c.code)).all()
    assert [tuple(r) for r in rows] == [("宝财建〔2026〕12号", NORTH, 12_000_000, "renovation"),
                                        ("宝财建〔2026〕13号", "610002", 12_000_000, "renovation")]


def test_allocation_errors_name_the_cell(city):
    content = build_xlsx([allocation("A1", 工作="棚改"), allocation("A1", 下达日期=date(2025, 12, 1))],
                         ALLOCATION_HEADERS, sheet="资金下达")
    result = check(city, content)
    assert errors_of(result) == [
        (R1, "工作", "棚改", "工作应为下列之一:老旧小区改造、清洁取暖"),
        (R2, "文号", "A1", "编码重复:“A1”与第3行相同"),
        (R2, "下达日期", "2025-12-01", "下达日期 2025-12-01 早于年度2026年")]
    assert_refused_unchanged(city, result)


def _plans_book(years, plans) -> bytes:
    from io import BytesIO
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "取暖年度"
    ws.append(["计划年度", "计划起始日期", "确村到户时限", "设备招标时限", "户内改造时限", "通气通电时限"])
    for row in years:
        ws.append(row)
    ws = book.create_sheet("取暖任务")
    ws.append(["县(市、区)", "年度", "任务户数(户)", "其中结转户数(户)", "城区任务面积(㎡)"])
    for row in plans:
        ws.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_new_heating_year_and_its_targets_import_from_one_file(city):
    year = [2027, date(2027, 1, 1), date(2027, 3, 31), date(2027, 5, 31), date(2027, 10, 15), date(2027, 11, 15)]
    result = check(city, _plans_book([year], [["北县", 2027, 900, 30, None], ["南区", 2027, 500, 0, 20000]]),
                   data_date=date(2026, 7, 2))
    assert result.ok, errors_of(result)
    commit.commit_import(city, result, admin_as("张三"))
    with city.connect() as conn:
        plans = conn.execute(select(db.heating_plan.c.county_adcode, db.heating_plan.c.target_households,
                                    db.heating_plan.c.carryover_households, db.heating_plan.c.target_urban_m2)
                             .where(db.heating_plan.c.year == 2027).order_by(db.heating_plan.c.county_adcode)).all()
    assert [tuple(p) for p in plans] == [(NORTH, 900, 30, 0), ("610002", 500, 0, 20000)]


def test_plan_sheet_errors_name_the_cell(city):
    year = [2027, date(2027, 1, 1), date(2027, 6, 30), date(2027, 5, 31), date(2027, 10, 15), date(2027, 11, 15)]
    result = check(city, _plans_book([year], [["北县", 2027, 100, 130, 0], ["北县", 2027, 50, 0, 0]]))
    assert errors_of(result) == [
        (2, "设备招标时限", "2027-05-31", "设备招标时限 2027-05-31 早于确村到户时限 2027-06-30:步骤顺序不对"),
        (2, "其中结转户数(户)", "130", "结转户数 130 超过任务户数 100"),
        (3, "县(市、区)", "北县", "重复填报:“北县 2027年”与第2行相同")]
    assert_refused_unchanged(city, result)


NODE_HEADERS = ["工作", "年度", "环节", "县(市、区)", "节点日期", "应完成比例(%)"]


def _nodes(engine) -> list[tuple]:
    with engine.connect() as conn:
        n = db.plan_node
        return [tuple(r) for r in conn.execute(select(n.c.program, n.c.step, n.c.county_adcode, n.c.due_on,
                                                      n.c.required_share).order_by(n.c.step, n.c.due_on))]


def test_plan_nodes_city_wide_and_per_county_import_update_and_undo(city):
    rows = [{"工作": "老旧小区改造", "年度": 2026, "环节": "开工", "县(市、区)": None, "节点日期": date(2026, 3, 31),
             "应完成比例(%)": 30},
            {"工作": "老旧小区改造", "年度": 2026, "环节": "开工", "县(市、区)": None, "节点日期": date(2026, 6, 30),
             "应完成比例(%)": 100},
            {"工作": "老旧小区改造", "年度": 2026, "环节": "开工", "县(市、区)": "北县", "节点日期": date(2026, 6, 30),
             "应完成比例(%)": 80}]
    first = commit.commit_import(city, check(city, build_xlsx(rows, NODE_HEADERS, sheet="计划节点")), admin_as("张三"))
    assert _nodes(city) == [("renovation", "start", None, date(2026, 3, 31), 0.3),
                            ("renovation", "start", None, date(2026, 6, 30), 1.0),
                            ("renovation", "start", NORTH, date(2026, 6, 30), 0.8)]
    before = commit.compute_store_checksum(city)
    rows[0]["应完成比例(%)"] = 40
    result = check(city, build_xlsx(rows, NODE_HEADERS, sheet="计划节点"))
    assert commit.build_preview(city, result, admin_as("测试")).counts == dict(inserted=0, updated=1, unchanged=2)
    second = commit.commit_import(city, result, admin_as("张三"))
    assert _nodes(city)[0][-1] == 0.4
    commit.undo_import(city, second, admin_as("张三"))
    assert commit.compute_store_checksum(city) == before
    commit.undo_import(city, first, admin_as("张三"))
    assert _nodes(city) == []


def test_plan_node_errors_name_the_cell(city):
    rows = [{"工作": "清洁取暖", "年度": 2026, "环节": "开工", "节点日期": date(2026, 3, 31), "应完成比例(%)": 30},
            {"工作": "清洁取暖", "年度": 2026, "环节": "通气通电", "节点日期": date(2026, 11, 15), "应完成比例(%)": 120},
            {"工作": "清洁取暖", "年度": 2026, "环节": "户内改造", "节点日期": date(2026, 10, 15), "应完成比例(%)": 50},
            {"工作": "清洁取暖", "年度": 2026, "环节": "户内改造", "节点日期": date(2026, 10, 15), "应完成比例(%)": 60}]
    result = check(city, build_xlsx(rows, NODE_HEADERS, sheet="计划节点"))
    assert errors_of(result) == [
        (R1, "环节", "开工", "清洁取暖的节点环节应为:确村到户、设备招标、户内改造、通气通电、城区工程"),
        (R2, "应完成比例(%)", "120", "应完成比例应在 0 到 100 之间(单位:%)"),
        (R2 + 2, "节点日期", "2026-10-15", "重复填报:“清洁取暖 2026年 户内改造 全市 2026-10-15”与第5行相同")]
    assert_refused_unchanged(city, result)
