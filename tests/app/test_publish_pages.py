"""Pages on a date whose 通报 was published: the published figures with the corrections marked,
the frozen notice on 会议材料, and the record on 发布记录."""
import shutil
from datetime import date as D
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from retrofit import db, publish, report
from builders import admin_as
from signing import sign_in

APP = Path(__file__).resolve().parents[2] / "app.py"
PUBLISHED_ON = D(2026, 11, 13)


@pytest.fixture(scope="module")
def published_url(demo_url, tmp_path_factory):
    """The demo city with the 13 Nov report published, then one 陇县 household corrected."""
    copy = tmp_path_factory.mktemp("published") / "published.db"
    shutil.copy(demo_url.removeprefix("sqlite:///"), copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    publish.publish_report(engine, PUBLISHED_ON, D(2026, 11, 6), admin_as("张科长"), with_files=False)
    ranking = report.rank_measure(engine, "heating", "completion_rate", report.Scope(PUBLISHED_ON))
    h = db.heating_household
    with engine.begin() as conn:
        code = conn.execute(select(h.c.code).where(h.c.county_adcode == "610327", h.c.plan_year == 2026,
                                                   h.c.connected_on.is_(None), h.c.status == "正常使用")
                            .order_by(h.c.code).limit(1)).scalar_one()
        conn.execute(update(h).where(h.c.code == code).values(
            confirmed_on=D(2026, 3, 1), tendered_on=D(2026, 5, 1), installed_on=D(2026, 11, 1),
            connected_on=D(2026, 11, 10)))
        db.bump_revision(conn)
    engine.dispose()
    assert not ranking.empty
    return f"sqlite:///{copy}"


@pytest.fixture
def app(published_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", published_url)
    return sign_in(AppTest.from_file(str(APP), default_timeout=90))


def test_the_ranking_on_a_published_date_shows_the_published_figures_and_marks_the_correction(app):
    app.query_params.update({"as_of": "2026-11-13", "program": "heating", "measure": "completion_rate"})
    app.run()
    app.switch_page("pages/ranking.py").run()
    assert not app.exception
    banner = " ".join(i.value for i in app.info).replace("\\", "")  # the markdown source, escaped
    assert "本期通报已于" in banner and "张科长" in banner and "发布后修正:" in banner
    assert "陇县完成率 769 / 1,322户 → 770 / 1,322户" in banner
    table = app.dataframe[0].value
    corrected = table.data if hasattr(table, "data") else table
    assert "发布后修正" in corrected.columns
    assert corrected.set_index("县区").loc["陇县", "发布后修正"].startswith("现为")


def test_the_briefing_page_shows_the_notice_as_published(app):
    app.query_params["as_of"] = "2026-11-13"
    app.run()
    app.switch_page("pages/briefing.py").run()
    assert not app.exception
    assert any("已于" in s.value and "张科长" in s.value for s in app.success)
    assert any("发布时的通报原文" in c.value for c in app.caption)


def test_the_published_page_lists_the_report(app):
    app.run()
    app.switch_page("pages/published.py").run()
    assert not app.exception
    listed = app.dataframe[0].value
    listed = listed.data if hasattr(listed, "data") else listed
    assert listed["发布人"].tolist() == ["张科长"] and listed["状态"].tolist() == ["已发布"]


def test_the_wall_runs_on_the_store_as_reported_when_its_link_asks(app):
    app.query_params.update({"reported": "reported", "as_of": "2026-11-13"})
    app.run()
    app.switch_page("pages/screen.py").run()
    assert not app.exception
