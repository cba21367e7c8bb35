"""Published 通报 stay as published: frozen figures, notice and files; corrections listed, never
taken in silently; 较上期 read against what was published; one report in force per date."""
import hashlib
from datetime import date as D

import pytest
from builders import LEADER, NORTH, SOUTH, add_household, add_plan, add_village, admin_as, all_milestones
from sqlalchemy import update

from retrofit import db, publish, queries, report
from retrofit.cli import main


@pytest.fixture
def county_store(store):
    """Two counties, ten households each: 北县 connects 8 by 1 Sep, 南区 5."""
    add_plan(store, NORTH, 2026, 10)
    add_plan(store, SOUTH, 2026, 10)
    north, south = add_village(store, NORTH), add_village(store, SOUTH)
    for i in range(10):
        add_household(store, f"N{i}", north, 2026, NORTH, **(all_milestones(D(2026, 9, 1)) if i < 8 else {}))
        add_household(store, f"S{i}", south, 2026, SOUTH, **(all_milestones(D(2026, 9, 1)) if i < 5 else {}))
    with store.begin() as conn:
        db.write_meta(conn, data_date="2026-11-20")
    return store


def correct(engine, code: str, connected: D) -> None:
    """A county's correction after the meeting: a household connected earlier than reported."""
    h = db.heating_household
    with engine.begin() as conn:
        conn.execute(update(h).where(h.c.code == code).values(**{f"{m}_on": connected for m in
                                                                  ("confirmed", "tendered", "installed", "connected")}))
        db.bump_revision(conn)


def completion(engine, as_of: D, previous: D | None = None):
    return report.rank_measure(engine, "heating", "completion_rate", report.Scope(as_of), previous).set_index("county")


def test_a_correction_after_publication_leaves_the_published_report_as_it_was(county_store):
    report_id = publish.publish_report(county_store, D(2026, 11, 13), None, admin_as("张科长"), with_files=False)
    notice_before = queries.load_published_report(county_store, D(2026, 11, 13))["notice_text"]
    correct(county_store, "S7", D(2026, 11, 10))  # dated before the published date
    shown = completion(county_store, D(2026, 11, 13))
    assert shown.loc["南区", ["numerator", "current_numerator", "corrected"]].tolist() == [5, 6, True]
    assert not shown.loc["北县", "corrected"]
    assert queries.load_published_report(county_store, D(2026, 11, 13))["notice_text"] == notice_before
    recomputed = report.rank_measure(county_store, "heating", "completion_rate", report.Scope(D(2026, 11, 13)),
                                     as_published=False).set_index("county")
    assert recomputed.loc["南区", "numerator"] == 6  # "as of" today differs from "as published" exactly by it
    corrections = publish.compute_corrections(county_store)
    south = corrections[(corrections["county"] == "南区") & (corrections["measure"] == "完成率")]
    assert south[["published_value", "current_value"]].values.tolist() == [[50.0, 60.0]]
    assert publish.describe_corrections(south).startswith("发布后修正:南区完成率 50.0% → 60.0%")
    assert report_id == queries.load_published_report(county_store, D(2026, 11, 13))["id"]


def test_the_next_reports_rank_change_reads_against_what_was_published(county_store):
    publish.publish_report(county_store, D(2026, 11, 13), None, admin_as("张科长"), with_files=False)
    correct(county_store, "S5", D(2026, 9, 1))
    correct(county_store, "S6", D(2026, 9, 1))
    correct(county_store, "S7", D(2026, 9, 1))  # 南区 8 of 10 since September, as 北县
    assert report.previous_report_date(county_store, D(2026, 11, 20)) == D(2026, 11, 13)
    now = completion(county_store, D(2026, 11, 20), D(2026, 11, 13))
    # Published on 13 Nov: 北县 1st, 南区 2nd. Today both are first: 南区 moved up one place.
    assert now.loc["南区", ["previous_rank", "rank", "rank_change"]].tolist() == [2, 1, 1]


def test_publishing_twice_for_a_date_is_refused_until_the_first_is_withdrawn(county_store):
    publish.publish_report(county_store, D(2026, 11, 13), None, admin_as("张科长"), with_files=False)
    with pytest.raises(publish.PublishError, match="已于.*发布;如需重新发布,请先撤回"):
        publish.publish_report(county_store, D(2026, 11, 13), None, admin_as("李科员"), with_files=False)
    with pytest.raises(publish.PublishError, match="理由"):
        publish.withdraw_report(county_store, D(2026, 11, 13), admin_as("张科长"), " ")
    publish.withdraw_report(county_store, D(2026, 11, 13), admin_as("张科长"), "南区数据有误")
    second = publish.publish_report(county_store, D(2026, 11, 13), None, admin_as("李科员"), with_files=False)
    listed = queries.load_published_reports(county_store)
    assert listed["status"].tolist() == ["已发布", "已撤回"]
    assert listed["withdraw_reason"].tolist()[1] == "南区数据有误"
    assert queries.load_published_report(county_store, D(2026, 11, 13))["id"] == second


def test_the_store_itself_refuses_a_second_report_in_force_for_a_date(county_store):
    publish.publish_report(county_store, D(2026, 11, 13), None, admin_as("张科长"), with_files=False)
    row = dict(report_on=D(2026, 11, 13), plan_year=2026, published_at=D(2026, 11, 14), published_by="某人",
               revision="1", notice_text="", status="已发布")
    with pytest.raises(Exception, match="(?i)unique"):
        with county_store.begin() as conn:
            conn.execute(db.published_report.insert().values(**row))


def test_a_date_past_the_data_date_cannot_be_published(county_store):
    with pytest.raises(publish.PublishError, match="晚于库中最新数据日期"):
        publish.publish_report(county_store, D(2026, 12, 1), None, admin_as("张科长"), with_files=False)


def test_published_files_download_byte_for_byte_after_a_correction(demo_engine_copy):
    engine = demo_engine_copy
    report_id = publish.publish_report(engine, D(2026, 11, 13), D(2026, 11, 6), admin_as("张科长"))
    files = queries.load_published_files(engine, report_id)
    assert {n.rsplit(".", 1)[1] for n in files["name"]} >= {"txt", "xlsx", "pptx", "docx"}
    before = {n: publish.load_report_file(engine, report_id, n) for n in files["name"]}
    correct(engine, queries.load_village_households(engine, LEADER, _some_village(engine), 2026, D(2026, 11, 20))
            ["code"].iloc[0], D(2026, 11, 10))
    for name, content in before.items():
        again = publish.load_report_file(engine, report_id, name)
        assert again == content and hashlib.sha256(again).hexdigest() == files.set_index("name").loc[name, "sha256"]


def _some_village(engine) -> str:
    return queries.load_village_progress(engine, LEADER, 2026, D(2026, 11, 20))["village_code"].iloc[0]


@pytest.fixture
def demo_engine_copy(demo_url, tmp_path):
    import shutil
    copy = tmp_path / "demo.db"
    shutil.copy(demo_url.removeprefix("sqlite:///"), copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


def test_cli_publishes_lists_and_withdraws(county_store, monkeypatch, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", county_store.url.render_as_string(hide_password=False))
    assert main(["publish", "--as-of", "2026-11-13", "--by", "张科长", "--no-files"]) == 0
    assert "已发布" in capsys.readouterr().out
    assert main(["publish", "--as-of", "2026-11-13", "--by", "张科长", "--no-files"]) == 2
    assert "请先撤回" in capsys.readouterr().err
    assert main(["withdraw", "--as-of", "2026-11-13", "--by", "张科长", "--reason", "数据有误"]) == 0
    assert main(["published"]) == 0
    assert "已撤回" in capsys.readouterr().out
