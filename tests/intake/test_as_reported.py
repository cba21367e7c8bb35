"""Published 通报 stay as published when a county corrects its ledger afterwards: the correction is
an import recorded after the published date, so "as reported" on that date leaves it out, "as of"
takes it in, the published figures and files do not move, and the correction is listed with the
import that made it (SQLite and PostgreSQL)."""
from datetime import date

from sqlalchemy import update

from intake_files import build_xlsx, check, household, ledger
from retrofit import db, history, notice, publish, queries, report
from retrofit.intake import commit
from builders import admin_as

PUBLISHED_ON = date(2026, 7, 2)


def completion(engine, as_of: date = PUBLISHED_ON):
    table = report.rank_measure(engine, "heating", "completion_rate", report.Scope(as_of), as_published=False)
    return table.set_index("county").loc["北县", "numerator"]


def import_ledger(engine, rows, who: str, recorded_at: str | None = None) -> int:
    import_id = commit.commit_import(engine, check(engine, build_xlsx(ledger(*rows))), admin_as(who))
    if recorded_at:  # an import made on an earlier day
        with engine.begin() as conn:
            conn.execute(update(db.import_log).where(db.import_log.c.id == import_id).values(imported_at=recorded_at))
    return import_id


def test_a_correction_after_publication_moves_as_of_but_not_as_reported_nor_the_published_report(city):
    first = [household("H1", 通气通电日期=date(2026, 6, 20)), household("H2"), household("H3"), household("H4")]
    import_ledger(city, first, "北县填报员", recorded_at="2026-07-01T02:00:00")  # 1 July, 10:00 in 北县
    publish.publish_report(city, PUBLISHED_ON, None, admin_as("张科长"), with_files=False)
    published_notice = queries.load_published_report(city, PUBLISHED_ON)["notice_text"]
    corrected = [household("H1", 通气通电日期=date(2026, 6, 20)), household("H2", 通气通电日期=date(2026, 6, 28)),
                 household("H3"), household("H4")]
    fix = import_ledger(city, corrected, "北县填报员")  # recorded today, dated before the published date

    as_of = completion(city)
    as_reported = history.compute_as_reported(city, PUBLISHED_ON, completion)
    assert (as_reported, as_of) == (1, 2)  # they differ exactly by the correction
    shown = report.rank_measure(city, "heating", "completion_rate", report.Scope(PUBLISHED_ON)).set_index("county")
    assert shown.loc["北县", ["numerator", "current_numerator", "corrected"]].tolist() == [1, 2, True]
    assert queries.load_published_report(city, PUBLISHED_ON)["notice_text"] == published_notice
    corrections = publish.compute_corrections(city, PUBLISHED_ON, PUBLISHED_ON)
    north = corrections[(corrections["county"] == "北县") & (corrections["measure"] == "完成率")].iloc[0]
    assert (north["published_value"], north["current_value"]) == (25.0, 50.0)
    assert north["source"].startswith(f"第{fix}次导入(") and "北县填报员" in north["source"]


def test_as_reported_never_writes_to_the_store(city):
    import_ledger(city, [household("H1", 通气通电日期=date(2026, 6, 20))], "北县填报员")
    before = commit.compute_store_checksum(city)
    assert history.compute_as_reported(city, date(2026, 6, 30), completion) == 0  # the import came later
    assert commit.compute_store_checksum(city) == before
    assert completion(city) == 1


def test_the_notice_as_reported_reads_the_figures_of_that_day(city):
    import_ledger(city, [household("H1", 通气通电日期=date(2026, 6, 20))], "北县填报员")
    text = history.compute_as_reported(city, PUBLISHED_ON - date.resolution, notice.build_notice,
                                       report.Scope(PUBLISHED_ON)).text
    assert "实际完成(通气通电)0户" in text
