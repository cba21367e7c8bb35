"""Payments (资金拨付) by voucher number: from an allocation named by its 文号, to a community for
renovation money, never more than the allocation, never before it; an allocation and the
payments from it may come in one file."""
from datetime import date
from io import BytesIO

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from builders import NORTH, admin_as
from intake_files import assert_refused_unchanged, build_projects, check, errors_of, project
from retrofit import db, report
from retrofit.intake import commit

ALLOCATION_HEADERS = ["文号", "工作", "县(市、区)", "年度", "资金来源", "下达金额(万元)", "下达日期"]
PAYMENT_HEADERS = ["支付凭证号", "下达文号", "县(市、区)", "项目编码", "拨付金额(万元)", "拨付日期"]
R1, R2 = 2, 3   # the header on row 1


def allocation(code: str = "北财建〔2026〕8号", **changes) -> dict:
    row = {"文号": code, "工作": "老旧小区改造", "县(市、区)": "北县", "年度": 2026, "资金来源": "中央财政补助",
           "下达金额(万元)": 100, "下达日期": date(2026, 3, 20)}
    row.update(changes)
    return row


def payment(code: str, **changes) -> dict:
    row = {"支付凭证号": code, "下达文号": "北财建〔2026〕8号", "县(市、区)": "北县", "项目编码": "P1",
           "拨付金额(万元)": 40, "拨付日期": date(2026, 4, 10)}
    row.update(changes)
    return row


def build_funds(allocations: list[dict], payments: list[dict]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in (("资金下达", ALLOCATION_HEADERS, allocations), ("资金拨付", PAYMENT_HEADERS, payments)):
        if rows:
            sheet = book.create_sheet(title)
            sheet.append(headers)
            for row in rows:
                sheet.append([row.get(h) for h in headers])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def with_community(city):
    """北县 with one 2026 community, P1, to pay renovation money to."""
    result = check(city, build_projects([project("P1")]))
    assert result.ok, errors_of(result)
    commit.commit_import(city, result, admin_as("测试"))
    return city


def _disbursed(engine) -> int:
    scope = report.Scope(date(2026, 7, 2), 2026, (NORTH,))
    return int(report.compute_fund_totals(engine, "renovation", scope)["disbursed_yuan"].sum())


def test_an_allocation_and_its_payments_import_in_one_file_and_undo(with_community):
    before = commit.compute_store_checksum(with_community)
    result = check(with_community, build_funds([allocation()], [payment("ZF-1"), payment("ZF-2", 拨付日期=date(2026, 5, 8))]))
    assert result.ok, errors_of(result)
    preview = commit.build_preview(with_community, result, admin_as("测试"))
    assert preview.counts == dict(inserted=3, updated=0, unchanged=0)
    log_id = commit.commit_import(with_community, result, admin_as("北县财政 李四"))
    assert _disbursed(with_community) == 800_000
    with with_community.connect() as conn:
        project_ids = set(conn.execute(select(db.fund_disbursement.c.project_id)).scalars())
    assert project_ids == {_project_id(with_community, "P1")}
    commit.undo_import(with_community, log_id, admin_as("北县财政 李四"))
    assert commit.compute_store_checksum(with_community) == before


def _project_id(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(db.renovation_project.c.id).where(db.renovation_project.c.code == code)).scalar_one()


def test_a_corrected_payment_updates_in_place_by_voucher_number(with_community):
    commit.commit_import(with_community, check(with_community, build_funds([allocation()], [payment("ZF-1")])), admin_as("甲"))
    result = check(with_community, build_funds([], [payment("ZF-1", **{"拨付金额(万元)": 45})]))
    preview = commit.build_preview(with_community, result, admin_as("测试"))
    assert preview.counts == dict(inserted=0, updated=1, unchanged=0)
    assert preview.changes[["字段", "原值", "新值"]].values.tolist() == [["拨付金额(万元)", "400000", "450000"]]
    commit.commit_import(with_community, result, admin_as("甲"))
    assert _disbursed(with_community) == 450_000


def test_the_same_payments_twice_change_nothing(with_community):
    content = build_funds([allocation()], [payment("ZF-1")])
    commit.commit_import(with_community, check(with_community, content), admin_as("甲"))
    before = commit.compute_store_checksum(with_community)
    again = check(with_community, content)
    assert commit.build_preview(with_community, again, admin_as("测试")).changes_nothing
    commit.commit_import(with_community, again, admin_as("甲"))
    assert commit.compute_store_checksum(with_community) == before


PAYMENT_CASES = {
    "unknown_document_number": (
        [payment("ZF-1", 下达文号="北财建〔2026〕99号")],
        [(R1, "下达文号", "北财建〔2026〕99号", "下达文号“北财建〔2026〕99号”不在库中,也不在本文件的“资金下达”表中:请先导入该笔资金下达")]),
    "paid_before_the_money_arrived": (
        [payment("ZF-1", 拨付日期=date(2026, 3, 1))],
        [(R1, "拨付日期", "2026-03-01", "拨付日期 2026-03-01 早于该笔资金的下达日期 2026-03-20")]),
    "paid_after_the_data_date": (
        [payment("ZF-1", 拨付日期=date(2026, 8, 1))],
        [(R1, "拨付日期", "2026-08-01", "拨付日期 2026-08-01 晚于数据截至日期 2026-07-02")]),
    "more_paid_than_allocated": (
        [payment("ZF-1", **{"拨付金额(万元)": 60}), payment("ZF-2", **{"拨付金额(万元)": 50})],
        [(R2, "拨付金额(万元)", "50", "文号“北财建〔2026〕8号”累计拨付 110 万元,超过下达金额 100 万元")]),
    "renovation_money_without_a_community": (
        [payment("ZF-1", 项目编码=None)],
        [(R1, "项目编码", "", "老旧小区改造资金须填拨付到的小区项目编码")]),
    "unknown_community": (
        [payment("ZF-1", 项目编码="P9")],
        [(R1, "项目编码", "P9", "项目编码“P9”不在库中")]),
    "negative_amount": (
        [payment("ZF-1", **{"拨付金额(万元)": -5})],
        [(R1, "拨付金额(万元)", "-5", "拨付金额(万元)不能为负数")]),
    "duplicate_voucher": (
        [payment("ZF-1"), payment("ZF-1", **{"拨付金额(万元)": 10})],
        [(R2, "支付凭证号", "ZF-1", "编码重复:“ZF-1”与第2行相同")]),
}


@pytest.mark.parametrize("case", list(PAYMENT_CASES))
def test_malformed_payments_name_the_cell_and_change_nothing(with_community, case):
    commit.commit_import(with_community, check(with_community, build_funds([allocation()], [])), admin_as("甲"))
    rows, expected = PAYMENT_CASES[case]
    result = check(with_community, build_funds([], rows))
    assert errors_of(result) == expected
    assert_refused_unchanged(with_community, result)


def test_another_countys_allocation_cannot_pay_this_county(with_community):
    content = build_funds([allocation("南财建〔2026〕3号", **{"县(市、区)": "南区"})],
                          [payment("ZF-1", 下达文号="南财建〔2026〕3号")])
    result = check(with_community, content)
    assert ("下达文号", "文号“南财建〔2026〕3号”的资金下达给南区,不是北县") in [(e[1], e[3]) for e in errors_of(result)]
    assert_refused_unchanged(with_community, result)


def test_heating_subsidies_are_not_paid_to_a_community(with_community):
    content = build_funds([allocation(工作="清洁取暖")], [payment("ZF-1")])
    result = check(with_community, content)
    assert errors_of(result) == [(R1, "项目编码", "P1", "清洁取暖补贴不拨付到小区:项目编码应为空")]
    assert_refused_unchanged(with_community, result)
