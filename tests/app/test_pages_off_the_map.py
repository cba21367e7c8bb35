"""Pages on a store with counties the boundary file does not draw (北县, 南区 beside 陇县): they
run, keep those counties in their tables and charts, and say under the map which ones it leaves
out. The file's other outlines belong to no county of the store and must not matter either.
And a store of another city, its outlines in the store: the maps draw its own counties, framed
on them, with no note."""
import json
from pathlib import Path

import pytest
from builders import NORTH_SQUARE, SOUTH_SQUARE, make_store_with_counties_off_the_map, make_store_with_own_boundaries
from shapely.geometry import Point, box
from streamlit.testing.v1 import AppTest

from signing import sign_in

from retrofit.geo import NO_BOUNDARY_NOTE

APP = Path(__file__).resolve().parents[2] / "app.py"
NOTE = "无边界数据,未在地图上显示:南区、北县"  # ranked order: 南区 is ahead of 北县
SQUARES = box(*NORTH_SQUARE).union(box(*SOUTH_SQUARE)).envelope


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('off-map') / 'store.db'}"
    make_store_with_counties_off_the_map(url).dispose()
    return url


@pytest.fixture(scope="module")
def own_store_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('own-boundaries') / 'store.db'}"
    make_store_with_own_boundaries(url).dispose()
    return url


@pytest.fixture
def app(store_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", store_url)
    return sign_in(AppTest.from_file(str(APP), default_timeout=90))


@pytest.fixture
def own_app(own_store_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", own_store_url)
    return sign_in(AppTest.from_file(str(APP), default_timeout=90))


def _open(app, page: str) -> AppTest:
    app.run()
    if page != "pages/overview.py":
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def _decks(app) -> list[dict]:
    return [json.loads(e.proto.json) for e in app.get("deck_gl_json_chart")]


def _drawn_counties(deck: dict) -> set[str]:
    polygons = next(layer for layer in deck["layers"] if layer["id"] == "counties")
    return {row["county"] for row in polygons["data"]}


def test_overview_maps_the_county_with_an_outline_and_names_the_others(app):
    _open(app, "pages/overview.py")
    assert any(NOTE in c.value for c in app.caption)
    (deck,) = _decks(app)
    assert _drawn_counties(deck) == {"陇县"}
    ranking = app.dataframe[0].value
    assert set(ranking["县区"]) == {"北县", "南区", "陇县"}  # the table keeps every county


def test_map_page_names_the_counties_it_cannot_draw(app):
    _open(app, "pages/map.py")
    assert any(NOTE in c.value for c in app.caption)
    (deck,) = _decks(app)
    assert _drawn_counties(deck) == {"陇县"}


def test_the_wall_ranks_every_county_and_notes_the_ones_off_its_map(app):
    _open(app, "pages/screen.py")
    ranking, county_map = (json.loads(e.proto.spec) for e in app.get("plotly_chart"))
    assert set(ranking["data"][0]["y"]) == {"北县", "南区", "陇县"}
    assert county_map["layout"]["title"]["subtitle"]["text"] == NOTE


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/renovation.py", "pages/heating.py",
                                  "pages/ranking.py", "pages/map.py", "pages/briefing.py", "pages/screen.py"])
def test_every_page_runs_with_counties_off_the_map(app, page):
    _open(app, page)


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/map.py"])
def test_the_desk_maps_draw_a_citys_own_counties_framed_on_them(own_app, page):
    _open(own_app, page)
    (deck,) = _decks(own_app)
    assert _drawn_counties(deck) == {"北县", "南区"}
    assert SQUARES.contains(Point(deck["initialViewState"]["longitude"], deck["initialViewState"]["latitude"]))
    assert not any(NO_BOUNDARY_NOTE in c.value for c in own_app.caption)


def test_the_wall_maps_a_citys_own_counties_without_a_note(own_app):
    _open(own_app, "pages/screen.py")
    _, county_map = (json.loads(e.proto.spec) for e in own_app.get("plotly_chart"))
    drawn = {a for t in county_map["data"] if t["type"] == "choroplethmap" for a in t["locations"]}
    assert drawn == {"610001", "610002"}
    assert not county_map["layout"]["title"].get("subtitle", {}).get("text")
    centre = county_map["layout"]["map"]["center"]
    assert SQUARES.contains(Point(centre["lon"], centre["lat"]))
