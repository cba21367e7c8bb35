"""Every page through AppTest on a small province store (107 counties in 10 cities): no
exception at either ranking level, and the city level's figures are the report's."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from signing import sign_in

from retrofit import db, fmt, province, report
from retrofit.demo import DEMO_DATA_DATE

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = ["pages/overview.py", "pages/renovation.py", "pages/heating.py", "pages/ranking.py", "pages/map.py",
         "pages/briefing.py", "pages/screen.py"]
SMALL = province.ProvinceSize(households=10_000, communities=1_500, villages_per_county=6)


@pytest.fixture(scope="module")
def province_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('province') / 'p.db'}"
    province.build_province_demo(db.make_engine(url), 3, size=SMALL)
    return url


@pytest.fixture
def app(province_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", province_url)
    return sign_in(AppTest.from_file(str(APP), default_timeout=120))


@pytest.mark.parametrize("level", ["各市", "县区"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_of_a_province_runs_at_both_levels(app, page, level):
    app.query_params["level"] = level
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert not any(t.key == "login_name" for t in app.text_input)   # the page itself ran, signed in


def test_the_sidebar_offers_the_cities_and_a_city_scopes_the_overview(app, province_url):
    app.query_params["city"] = "铜川市"
    app.run()
    assert "西安市" in app.selectbox(key="city").options and app.selectbox(key="city").value == "铜川市"
    engine = db.make_engine(province_url)
    scope = report.build_scope(engine, DEMO_DATA_DATE, city="610200")
    row = report.compute_headline(engine, scope).set_index(["program", "key"]).loc[("heating", "completion_rate")]
    assert fmt.format_percent_of(row["numerator"], row["denominator"]) in [m.value for m in app.metric]
    assert any("铜川市调度总览" in t.value for t in app.title)



def test_the_navigation_names_the_ranking_by_the_level_shown():
    assert report.name_ranking_page(report.CITY_LEVEL) == "各市排名"
    assert report.name_ranking_page(None) == "各市排名"   # the province's default level
    assert report.name_ranking_page(report.COUNTY_LEVEL) == "县区排名"


@pytest.mark.parametrize("level, heading", [("县区", "县区排名"), ("各市", "各市排名"), ("county", "各市排名")])
def test_the_ranking_page_is_headed_by_the_level_it_ranks(app, level, heading):
    """`county` is the level's code, not its label: the widget keeps its default (各市), so the
    heading must too."""
    app.query_params["level"] = level
    app.run()
    app.switch_page("pages/ranking.py").run()
    assert [t.value for t in app.title][-1] == heading
