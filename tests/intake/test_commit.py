"""Preview, import, log and undo on SQLite and PostgreSQL: the preview changes nothing, an
import is all rows or none, a second identical import changes nothing, undo brings back the
replaced values and the previous checksum."""
from datetime import date

import pytest
from sqlalchemy import select

from builders import NORTH, add_household, admin_as
from intake_files import DATA_DATE, build_xlsx, check, household, ledger
from retrofit import db, report
from retrofit.intake import commit


def _stored_household(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(db.heating_household).where(db.heating_household.c.code == code))
                    .mappings().one())


def test_preview_lists_new_and_changed_fields_and_the_measures_without_writing(city):
    add_household(city, "H1", f"{NORTH}101201", 2026, confirmed=date(2026, 3, 5), tendered=date(2026, 4, 1),
                  installed=date(2026, 6, 1))
    before = commit.compute_store_checksum(city)
    result = check(city, build_xlsx(ledger(household("H1", 通气通电日期=date(2026, 6, 20), 联系电话=None,
                                                     **{"设备费用(元)": 5000, "补贴金额(元)": 3500}),
                                           household("H2", "西村"))))
    preview = commit.build_preview(city, result, admin_as("测试"))
    assert commit.compute_store_checksum(city) == before
    assert preview.counts == dict(inserted=1, updated=1, unchanged=0)
    assert preview.changes[["编码", "行号", "字段", "原值", "新值"]].values.tolist() == [
        ["H1", 3, "通气通电日期", "(空)", "2026-06-20"]]
    assert preview.new_rows["编码"].tolist() == ["H2"]
    completion = preview.effect.set_index("指标").loc["完成率"]
    assert completion["导入前"] == "0.0%(0/4)" and completion["导入后"] == "25.0%(1/4)"
    assert completion["变化"] == "0.0% → 25.0%"


def test_import_upserts_on_the_code_masks_phones_bumps_the_revision_and_logs(city):
    add_household(city, "H1", f"{NORTH}101201", 2026)
    revision = db.load_revision(city)
    result = check(city, build_xlsx(ledger(household("H1", 户主姓名="李四"), household("H2", "西村"))))
    log_id = commit.commit_import(city, result, admin_as("县住建局 张三"))
    assert _stored_household(city, "H1")["head_name"] == "李四"
    assert _stored_household(city, "H2")["phone_masked"] == "139****5678"
    assert int(db.load_revision(city).rsplit(":", 1)[1]) == int(revision.rsplit(":", 1)[1]) + 1
    log = commit.load_imports(city, admin_as("管理员")).iloc[0]
    assert (log["编号"], log["导入人"], log["县区"], log["类别"], log["文件"], log["新增"], log["修改"], log["状态"]) == (
        log_id, "县住建局 张三", "北县", "清洁取暖", "北县.xlsx", 1, 1, "已导入")
    assert log["SHA-256"] == result.sha256[:12]


def test_no_full_phone_number_reaches_the_store(city):
    commit.commit_import(city, check(city, build_xlsx(ledger())), admin_as("张三"))
    with city.connect() as conn:
        stored = [str(v) for row in conn.execute(select(db.heating_household)) for v in row]
        changes = [str(v) for row in conn.execute(select(db.import_change)) for v in row]
    assert not any("13912345678" in v for v in stored + changes)


def test_the_same_file_twice_changes_nothing_the_second_time(city):
    content = build_xlsx(ledger())
    commit.commit_import(city, check(city, content), admin_as("张三"))
    after_first, revision = commit.compute_store_checksum(city), db.load_revision(city)
    second = commit.commit_import(city, check(city, content), admin_as("张三"))
    assert commit.compute_store_checksum(city) == after_first and db.load_revision(city) == revision
    log = commit.load_imports(city, admin_as("管理员")).set_index("编号").loc[second]
    assert (log["新增"], log["修改"], log["未变"], log["状态"]) == (0, 0, 3, "无变化")


def test_undo_restores_replaced_values_deletes_added_rows_and_the_checksum(city):
    add_household(city, "H1", f"{NORTH}101201", 2026)
    before = commit.compute_store_checksum(city)
    log_id = commit.commit_import(city, check(city, build_xlsx(ledger(
        household("H1", 户主姓名="李四", 通气通电日期=date(2026, 6, 20)), household("H2", "西村")))), admin_as("张三"))
    assert commit.compute_store_checksum(city) != before
    assert commit.undo_import(city, log_id, admin_as("李主任")) == dict(restored=1, deleted=1)
    assert commit.compute_store_checksum(city) == before
    assert _stored_household(city, "H1")["head_name"] == "王建国"
    log = commit.load_imports(city, admin_as("管理员")).iloc[0]
    assert (log["状态"], log["撤销人"]) == ("已撤销", "李主任")
    with pytest.raises(commit.ImportRefused, match=f"第 {log_id} 次导入已于 .* 撤销"):
        commit.undo_import(city, log_id, admin_as("李主任"))


def test_undo_advances_the_data_date_back(city):
    log_id = commit.commit_import(city, check(city, build_xlsx(ledger()), data_date=date(2026, 7, 9)), admin_as("张三"))
    assert db.load_data_date(city) == date(2026, 7, 9)
    commit.undo_import(city, log_id, admin_as("张三"))
    assert db.load_data_date(city) == DATA_DATE


def test_an_earlier_import_cannot_be_undone_over_a_later_one_on_the_same_rows(city):
    first = commit.commit_import(city, check(city, build_xlsx(ledger())), admin_as("张三"))
    second = commit.commit_import(city, check(city, build_xlsx(ledger(household("H1", 户主姓名="李四")))), admin_as("张三"))
    checksum = commit.compute_store_checksum(city)
    with pytest.raises(commit.ImportRefused) as refused:
        commit.undo_import(city, first, admin_as("张三"))
    assert str(refused.value) == f"第 {second} 次导入修改了相同的记录:请先撤销较晚的导入,再撤销本次"
    assert commit.compute_store_checksum(city) == checksum
    commit.undo_import(city, second, admin_as("张三"))
    commit.undo_import(city, first, admin_as("张三"))


def test_an_import_that_fails_midway_writes_nothing(city, monkeypatch):
    before = commit.compute_store_checksum(city)
    result = check(city, build_xlsx(ledger()))

    def fail(conn):
        raise RuntimeError("disk full")
    monkeypatch.setattr(db, "bump_revision", fail)
    with pytest.raises(RuntimeError):
        commit.commit_import(city, result, admin_as("张三"))
    assert commit.compute_store_checksum(city) == before
    assert commit.load_imports(city, admin_as("管理员")).empty


def test_measures_after_import_equal_the_preview(city):
    result = check(city, build_xlsx(ledger(household("H1", 通气通电日期=date(2026, 6, 20)))))
    preview = commit.build_preview(city, result, admin_as("测试"))
    commit.commit_import(city, result, admin_as("张三"))
    headline = report.compute_headline(city, report.Scope(DATA_DATE, 2026, (NORTH,)))
    row = headline.set_index(["program", "key"]).loc[("heating", "completion_rate")]
    assert preview.effect.set_index("指标").loc["完成率", "导入后"] == \
        f"25.0%({int(row['numerator'])}/{int(row['denominator'])})"


def test_new_rows_get_free_ids_after_rows_written_with_explicit_ids(city):
    with city.begin() as conn:   # as the demo generator writes them
        conn.execute(db.heating_household.insert(), [dict(
            id=n, code=f"D{n}", county_adcode=NORTH, village_code=f"{NORTH}101201", plan_year=2026, head_name="王",
            route="生物质", equipment_cost_yuan=5000, subsidy_yuan=3000, running_cost_yuan=900, coal_cost_yuan=1800)
            for n in (1, 2, 3)])
    commit.commit_import(city, check(city, build_xlsx(ledger())), admin_as("张三"))
    with city.connect() as conn:
        assert len(conn.execute(select(db.heating_household.c.id)).scalars().all()) == 6
