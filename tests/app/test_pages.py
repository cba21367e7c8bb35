"""Every page through Streamlit's AppTest on the demo city: no exception, the headline numbers
equal the report's, filters read from the URL and applied."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from signing import sign_in

from retrofit import fmt, report
from retrofit.demo import DEMO_DATA_DATE

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = ["pages/overview.py", "pages/renovation.py", "pages/heating.py", "pages/ranking.py", "pages/map.py",
         "pages/briefing.py", "pages/published.py", "pages/screen.py", "pages/intake.py", "pages/imports.py"]


@pytest.fixture
def app(demo_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    return sign_in(AppTest.from_file(str(APP), default_timeout=90))


def _texts(at) -> str:
    parts = [m.value for m in at.metric] + [m.label for m in at.metric] + [m.value for m in at.markdown]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception


def test_overview_headline_equals_the_report(app, demo_engine):
    app.run()  # the root forwards to the overview
    headline = report.compute_headline(demo_engine, report.Scope(DEMO_DATA_DATE)).set_index(["program", "key"])
    shown = {m.label: m.value for m in app.metric}
    for (program, key), label_start in ((("heating", "completion_rate"), "完成率"),
                                        (("renovation", "finish_rate"), "完工率")):
        row = headline.loc[(program, key)]
        label = next(k for k in shown if k.startswith(label_start))
        assert shown[label] == fmt.format_percent_of(row["numerator"], row["denominator"])
        assert fmt.format_count(row["denominator"], row["unit"]) in label


def test_county_filter_from_the_url_scopes_the_headline(app, demo_engine):
    app.query_params["county"] = "陇县"
    app.run()
    assert app.multiselect(key="county").value == ["陇县"]
    scope = report.Scope(DEMO_DATA_DATE, counties=("610327",))
    row = report.compute_headline(demo_engine, scope).set_index(["program", "key"]).loc[("heating", "completion_rate")]
    assert fmt.format_percent_of(row["numerator"], row["denominator"]) in [m.value for m in app.metric]
    assert "范围:**陇县**" in _texts(app)


# Choosing counties in the sidebar and keeping them across page switches is tested in a real
# browser (tests/e2e/test_browser.py): AppTest reruns the entry page, whose forward to the
# overview resets widget state, so it cannot stand in for a user there.


def test_county_filter_in_the_url_keeps_the_city_wide_ranks(app):
    app.query_params["county"] = ["麟游县", "陇县"]
    app.run()
    app.switch_page("pages/ranking.py").run()
    ranking = app.dataframe[0].value
    assert sorted(ranking["县区"]) == ["陇县", "麟游县"]
    assert set(ranking["名次"]) == {"10", "11"}  # their places among all 12 counties


def test_as_of_date_from_the_url_reconstructs_an_earlier_report(app, demo_engine):
    app.query_params["as_of"] = "2026-06-30"
    app.run()
    assert "数据截至 **2026年6月30日**" in _texts(app)
    row = report.compute_headline(demo_engine, report.Scope(DEMO_DATA_DATE.replace(month=6, day=30))).set_index(
        ["program", "key"]).loc[("renovation", "start_rate")]
    assert fmt.format_percent_of(row["numerator"], row["denominator"]) in [m.value for m in app.metric]


def test_invalid_url_values_fall_back_to_defaults_without_error(app):
    app.query_params["county"] = "宝鸡县"
    app.query_params["as_of"] = "2026-13-45"
    app.run()
    assert not app.exception
    assert app.multiselect(key="county").value == []
    assert app.date_input(key="as_of").value == DEMO_DATA_DATE


def test_ranking_page_reads_program_and_measure_from_the_url(app, demo_engine):
    app.query_params["program"] = "renovation"
    app.query_params["measure"] = "finish_rate"
    app.run()
    app.switch_page("pages/ranking.py").run()
    ranking = app.dataframe[0].value
    expected = report.rank_measure(demo_engine, "renovation", "finish_rate", report.Scope(DEMO_DATA_DATE))
    assert ranking["县区"].tolist() == expected["county"].tolist()
    assert "完工率" in ranking.columns
