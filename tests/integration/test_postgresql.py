"""The same demo city on PostgreSQL gives the same report as on SQLite, to the digit.

Runs where RETROFIT_TEST_PG_URL names a PostgreSQL database (`.ci/run` starts one); the rest of
the integration tests then also run on it through the parametrised `store` fixture."""
import os
from datetime import date

import pytest
from builders import add_allocation, add_project
from sqlalchemy import func, select

from retrofit import db, demo, report
from retrofit.settings import DEMO_SEED

PG_URL = os.environ.get("RETROFIT_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL here: set RETROFIT_TEST_PG_URL (.ci/run does)")


def test_postgresql_gives_the_same_report_as_sqlite(demo_engine):
    engine = db.make_engine(PG_URL)
    demo.build_demo(engine, DEMO_SEED, force=True)  # the test database: whatever the last test left
    scope = report.Scope(demo.DEMO_DATA_DATE)
    previous = report.previous_report_date(engine, scope.as_of)
    assert previous == report.previous_report_date(demo_engine, scope.as_of)
    columns = ["program", "key", "numerator", "denominator"]
    assert (report.compute_headline(engine, scope)[columns].values.tolist()
            == report.compute_headline(demo_engine, scope)[columns].values.tolist())
    for program, key in (("heating", "completion_rate"), ("renovation", "finish_rate")):
        on_pg = report.rank_measure(engine, program, key, scope, previous)
        on_sqlite = report.rank_measure(demo_engine, program, key, scope, previous)
        assert on_pg[["county", "numerator", "denominator", "rank", "rank_change"]].equals(
            on_sqlite[["county", "numerator", "denominator", "rank", "rank_change"]])
    retained = report.compute_retained_funds(engine, scope)
    assert retained["retained_yuan"].sum() == report.compute_retained_funds(demo_engine, scope)["retained_yuan"].sum()
    engine.dispose()


def test_new_rows_after_the_demo_get_free_ids_on_postgresql():
    # The demo writes explicit ids; a later insert (an allocation, a community) must not clash.
    engine = db.make_engine(PG_URL)
    demo.build_demo(engine, DEMO_SEED, force=True)
    allocation = add_allocation(engine, "610302", 1_000, date(2026, 11, 1), source="社会资本", year=2027)
    project = add_project(engine, "NEW-1", "610302")
    with engine.connect() as conn:
        assert allocation > conn.execute(select(func.count()).select_from(db.fund_allocation)).scalar() - 1
        assert project == conn.execute(select(func.max(db.renovation_project.c.id))).scalar()
    engine.dispose()
