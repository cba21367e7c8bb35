"""What a page draws is built once per data revision (ui.view): a rerun re-emits the same chart,
and a data change (the store's revision moves) shows the new numbers, not the remembered ones."""
import json
from pathlib import Path

import pytest
from builders import copy_sqlite_store
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from signing import sign_in

from retrofit import db, summary, ui

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def own_store(demo_url, tmp_path, monkeypatch):
    """A copy of the demo city this test may change."""
    url = copy_sqlite_store(demo_url, tmp_path / "store.db")
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    return db.make_engine(url)


def _ranking_bars(app) -> dict:
    """The ranking page's bar chart as sent to the browser: county -> its value label."""
    bars = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    return {county[0]: text for county, text in zip(bars["customdata"], bars["text"])}


def _disconnect_every_household_of(engine, county_name: str) -> None:
    """An import as the store sees it: the county's households lose their connection, the
    revision moves and the county's summary is refreshed, in one transaction."""
    with engine.begin() as conn:
        adcode = conn.execute(select(db.county.c.adcode).where(db.county.c.name == county_name)).scalar_one()
        conn.execute(update(db.heating_household).where(db.heating_household.c.county_adcode == adcode)
                     .values(connected_on=None))
        db.bump_revision(conn)
        summary.refresh_summary(conn, (adcode,))


def test_the_ranking_chart_is_reused_on_a_rerun_and_rebuilt_after_a_data_change(own_store):
    app = sign_in(AppTest.from_file(str(APP), default_timeout=120))
    app.run()
    app.switch_page("pages/ranking.py").run()
    before = _ranking_bars(app)
    county = next(name for name, label in before.items() if label not in ("", "0.0%"))
    app.run()
    assert _ranking_bars(app) == before

    _disconnect_every_household_of(own_store, county)
    ui.refresh_store()  # as after an import through this server: no waiting for the revision check
    app.run()
    after = _ranking_bars(app)
    assert not app.exception, app.exception
    assert after[county] == "0.0%" and before[county] != "0.0%"
    assert {k: v for k, v in after.items() if k != county} == {k: v for k, v in before.items() if k != county}


def _points(app, layer_id: str) -> int:
    deck = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    return next((len(layer["data"]) for layer in deck["layers"] if layer["id"] == layer_id), 0)


def test_the_map_draws_a_sample_of_many_villages_and_says_so(demo_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    app = sign_in(AppTest.from_file(str(APP), default_timeout=120))
    app.run()
    app.switch_page("pages/map.py").run()
    every = _points(app, "villages")
    assert every > 20 and not any("均匀抽取" in c.value for c in app.caption)

    monkeypatch.setattr("retrofit.settings.MAP_POINTS_MAX", 20)  # as if the scope had a province's villages
    app.run()
    assert not app.exception, app.exception
    assert 0 < _points(app, "villages") <= 20
    assert any(f"{every:,} 个村中均匀抽取 {_points(app, 'villages')} 个" in c.value for c in app.caption)


def test_the_wall_sends_its_built_charts_again_on_a_tick_and_rebuilds_them_after_a_data_change(own_store,
                                                                                             monkeypatch):
    from retrofit import screen
    builds = []

    def counted(*args, **kwargs):
        builds.append(args[0])
        return screen_build_figures(*args, **kwargs)

    screen_build_figures = screen.build_figures
    monkeypatch.setattr(screen, "build_figures", counted)
    app = sign_in(AppTest.from_file(str(APP), default_timeout=120))
    app.run()
    app.switch_page("pages/screen.py").run()
    before, map_before = _ranking_bars(app), app.get("plotly_chart")[1].proto.spec
    app.run()  # a tick of the wall, same data
    assert not app.exception, app.exception
    assert len(builds) == 1
    assert _ranking_bars(app) == before and app.get("plotly_chart")[1].proto.spec == map_before

    county = next(name for name, label in before.items() if label not in ("", "0.0%"))
    _disconnect_every_household_of(own_store, county)
    ui.refresh_store()
    app.run()
    assert not app.exception, app.exception
    assert len(builds) == 2 and _ranking_bars(app)[county] == "0.0%"
