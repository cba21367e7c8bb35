"""Every data change refreshes the summary in its own transaction (SQLite and PostgreSQL): an
import, its undo, and the preview and "as reported" that run in rolled-back transactions, so
every session and app server reads figures of the data it sees."""
from datetime import date

from sqlalchemy import update

from builders import NORTH, admin_as
from intake_files import build_xlsx, check, household, ledger
from retrofit import db, history, queries, summary
from retrofit.intake import commit

AS_OF = date(2026, 7, 2)


def connected_in_north(engine, as_of: date = AS_OF) -> int:
    progress = queries.load_heating_progress(engine, 2026, as_of).set_index("adcode")
    return int(progress.loc[NORTH, "connected_households"])


def connected_from_facts(engine, as_of: date = AS_OF) -> int:
    progress = queries.load_heating_progress(engine, 2026, as_of, from_facts=True).set_index("adcode")
    return int(progress.loc[NORTH, "connected_households"])


def test_an_import_and_its_undo_leave_the_summary_current_and_equal_to_the_facts(city):
    first = commit.commit_import(city, check(city, build_xlsx(ledger(household("H1"), household("H2")))), admin_as("北县填报员"))
    assert summary.is_fresh(city) and connected_in_north(city) == 0
    fix = commit.commit_import(city, check(city, build_xlsx(ledger(
        household("H1", 通气通电日期=date(2026, 6, 20)), household("H2", 通气通电日期=date(2026, 6, 25))))), admin_as("北县填报员"))
    assert summary.is_fresh(city)
    assert connected_in_north(city) == connected_from_facts(city) == 2
    commit.undo_import(city, fix, admin_as("李主任"))
    assert summary.is_fresh(city)
    assert connected_in_north(city) == connected_from_facts(city) == 0
    commit.undo_import(city, first, admin_as("李主任"))
    assert summary.is_fresh(city)
    assert queries.load_heating_progress(city, 2026, AS_OF).set_index("adcode").loc[NORTH, "task_households"] == 0


def test_the_preview_counts_the_file_without_leaving_the_summary_changed(city):
    commit.commit_import(city, check(city, build_xlsx(ledger(household("H1")))), admin_as("北县填报员"))
    before = commit.compute_store_checksum(city)
    preview = commit.build_preview(city, check(city, build_xlsx(ledger(household("H1", 通气通电日期=date(2026, 6, 20))))),
                                   admin_as("测试"))
    assert preview.effect.set_index("指标").loc["完成率", "导入后"].endswith("(1/4)")
    assert commit.compute_store_checksum(city) == before
    assert summary.is_fresh(city) and connected_in_north(city) == 0


def test_as_reported_reads_the_summary_of_the_store_with_later_imports_reverted(city):
    commit.commit_import(city, check(city, build_xlsx(ledger(household("H1")))), admin_as("北县填报员"))
    late = commit.commit_import(city, check(city, build_xlsx(ledger(household("H1", 通气通电日期=date(2026, 6, 20))))),
                                admin_as("北县填报员"))
    with city.begin() as conn:  # the correction was recorded after the day being reported
        conn.execute(update(db.import_log).where(db.import_log.c.id == late).values(imported_at="2026-07-05T02:00:00"))
    assert history.compute_as_reported(city, AS_OF, connected_in_north) == 0
    assert history.compute_as_reported(city, AS_OF, connected_from_facts) == 0
    assert connected_in_north(city) == 1 and summary.is_fresh(city)


def test_a_community_moved_by_another_countys_file_leaves_both_counties_current(city):
    from builders import SOUTH
    from intake_files import build_projects, project

    commit.commit_import(city, check(city, build_projects([project("P1")])), admin_as("北县填报员"))
    moved = check(city, build_projects([project("P1", **{"县(市、区)": "南区", "经度": 108.0})]), county="南区")
    assert moved.ok, moved.error_table().to_dict("records")
    commit.commit_import(city, moved, admin_as("南区填报员"))
    assert summary.is_fresh(city)
    counts = queries.load_renovation_progress(city, 2026, AS_OF).set_index("adcode")["communities"]
    facts = queries.load_renovation_progress(city, 2026, AS_OF, from_facts=True).set_index("adcode")["communities"]
    assert counts.to_dict() == facts.to_dict() and counts[NORTH] == 0 and counts[SOUTH] == 1
