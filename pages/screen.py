"""大屏: the meeting-room wall. Dark, no chrome, fixed slots; re-reads the data every `refresh`
seconds and, with `rotate`, spotlights each red-flagged county in turn. Parameters, rotation,
content and HTML come from retrofit.screen; this page only wires them to Streamlit."""
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from retrofit import db, geo, queries, report, screen, ui
from retrofit.charts import ChartMeta
from retrofit.measures import find_measure
from retrofit.vocab import HEATING, RENOVATION

CHART_CONFIG = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False}


@st.cache_resource
def viewport_component():
    """Registered once per server (registering again on every run would only log warnings)."""
    return st.components.v2.component("retrofit_screen_viewport", js=screen.VIEWPORT_JS)


def local_now() -> datetime:
    """The wall clock of the browser's time zone (the bureau's), the server's if unknown."""
    try:
        return datetime.now(ZoneInfo(st.context.timezone)) if st.context.timezone else datetime.now()
    except (KeyError, ValueError):
        return datetime.now()


def load_params(query: dict[str, list[str]]) -> tuple[screen.ScreenParams, dict[str, str]]:
    """The screen's parameters against the data as it is now (a new import moves the default
    date), and county name -> adcode."""
    data_date = ui.cached(db.load_data_date)
    counties = ui.cached(queries.load_counties)
    years = sorted(set(ui.cached(queries.load_years, RENOVATION)) | set(ui.cached(queries.load_years, HEATING)))
    params = screen.parse_params(query, data_date, counties["county"].tolist(), years)
    return params, dict(zip(counties["county"], counties["adcode"], strict=True))


def city_of(query: dict[str, list[str]]) -> tuple[str, str]:
    """(name, adcode) of the city the link names (?city=西安市) in a province store, else ('', '')."""
    cities = ui.cached(queries.load_cities)
    name = (query.get("city") or [""])[0]
    adcode = dict(zip(cities["city"], cities["adcode"], strict=True)).get(name, "") if len(cities) > 1 else ""
    return (name, adcode) if adcode else ("", "")


def ranking_scope_of(query: dict[str, list[str]], params: screen.ScreenParams) -> report.Scope | None:
    """What the wall's ranking ranks in a province store: the cities, or the counties of the city
    the link names (?city=西安市); None in a city store (its counties, as the map)."""
    if len(ui.cached(queries.load_cities)) < 2:
        return None
    city = city_of(query)[1]
    if city:
        return ui.cached(report.build_scope, params.as_of, params.year, (), city)
    return report.Scope(params.as_of, params.year, level=report.CITY_LEVEL)


def note_viewport_rerun() -> None:
    st.session_state["screen_viewport_rerun"] = True


def url_query() -> dict[str, list[str]]:
    return screen.canonical_query({key: st.query_params.get_all(key) for key in st.query_params})


ui.require_app()
st.html(screen.build_css())

# The URL as written: the other pages' filter names (county, year, as_of) plus the screen's own.
# Arriving through another page's 投屏 link, Streamlit drops the keys bound to that page's sidebar
# widgets from the URL when the first full run here ends, and the browser's size report reruns
# the page about then. So a rerun for the viewport keeps the query the page was opened with, and
# the next tick writes it back to the URL (a reload of the wall then shows the same view).
query = url_query()
if st.session_state.pop("screen_viewport_rerun", False) and "screen_query" in st.session_state:
    query = st.session_state["screen_query"]
st.session_state["screen_query"] = query
size = viewport_component()(key="screen-viewport", on_size_change=note_viewport_rerun)
viewport = screen.parse_viewport(getattr(size, "size", None))
intervals = load_params(query)[0]
tick_s = screen.compute_tick_seconds(intervals.refresh_s, intervals.rotate_s)


@st.fragment(run_every=tick_s)
def render_screen() -> None:
    """Everything on the wall; reruns on its own every tick, redrawing each slot in place. A tick
    runs without app.py around it, so it states its own store faults in Chinese."""
    with ui.store_errors():
        ui.check_display_link()
        render_slots()


def render_slots() -> None:
    if url_query() != query:
        st.query_params.from_dict(query)
    params, adcode_of = load_params(query)  # re-read: a wall left on for weeks follows new data
    city_name, city = city_of(query)
    # With ?city= the tiles, laggards and header are that city's (its counties unless some are named).
    scope = ui.cached(report.build_scope, params.as_of, params.year, tuple(adcode_of[n] for n in params.counties),
                      city)
    laggards = ui.cached(report.compute_laggards, scope)
    panels = screen.list_panels(laggards)
    rotation = screen.advance_rotation(st.session_state.get("screen_rotation"), time.monotonic(),
                                       params.rotate_s, tick_s, len(panels))
    st.session_state["screen_rotation"] = rotation
    panel = panels[rotation.index]
    place = screen.describe_wall_place(panel.county, params.counties, city_name, ui.cached(report.describe_whole))
    is_demo = ui.cached(db.load_is_demo)

    # Only the header (its clock and rotation dots) is made on every tick; the rest is built once
    # per data revision and panel (ui.wall_view) and re-sent as built.
    header = screen.Header(title=f"{ui.cached(screen.load_city_name)}{ui.APP_TITLE}", place=place,
                           as_of=params.as_of, year=params.year, refreshed_at=local_now(), is_demo=is_demo,
                           panel_index=rotation.index, panel_count=len(panels), rotate_s=params.rotate_s,
                           notes=params.notes)
    with st.container(key="screen-header"):
        st.html(screen.render_header_html(header))

    tile_scope = report.Scope(params.as_of, params.year, (panel.adcode,)) if panel.is_spotlight else scope
    tile_place = place if panel.is_spotlight or params.counties else ""
    tiles = ui.wall_view("tiles", (tile_scope, tile_place), lambda: screen.render_tiles_html(
        screen.build_tiles(ui.cached(report.compute_headline, tile_scope)), tile_place))
    with st.container(key="screen-tiles"):
        st.html(tiles)

    # The map shows every county (the city's with ?city=), the ones in view outlined; the ranking ranks
    # them too, except in a province store, where it ranks the cities (or, with ?city=, that city's counties).
    program, key = screen.choose_measure(panel, laggards, params.program, params.measure)
    highlight = (panel.county,) if panel.is_spotlight else params.counties
    meta = ChartMeta(params.as_of, is_demo, ui.cached(report.describe_source))

    def build_figures():
        ranking_scope = ranking_scope_of(query, params)
        ranked = None if ranking_scope is None else ui.cached(report.rank_measure, program, key, ranking_scope)
        table = ranked if city else ui.cached(report.rank_measure, program, key,
                                              report.Scope(params.as_of, params.year))
        return screen.build_figures(table, find_measure(program, key), meta, viewport, highlight,
                                    ui.cached(geo.load_store_boundaries), ui.cached(geo.load_store_map_view),
                                    ranked, ranking_scope.unit if ranking_scope else "县区")

    ranking, county_map = ui.wall_view("figures", (program, key, params.as_of, params.year, city, viewport,
                                                   highlight), build_figures)

    def build_lists():
        supervision = ui.cached(report.compute_supervision, scope)
        return (screen.render_list_html(screen.build_laggard_panel(laggards, panel.county), screen.LAGGARD_SLOTS,
                                        "laggards"),
                screen.render_list_html(screen.build_supervision_panel(supervision, panel.county),
                                        screen.SUPERVISION_SLOTS, "supervision"))

    laggard_list, supervision_list = ui.wall_view("lists", (scope, panel.county), build_lists)

    with st.container(key="screen-main"):
        left, middle, right = st.columns(screen.COLUMNS, gap=None)
        with left, st.container(key="screen-ranking"):
            st.plotly_chart(ranking, key="screen-ranking-chart", theme=None, config=CHART_CONFIG)
        with middle, st.container(key="screen-map"):
            st.plotly_chart(county_map, key="screen-map-chart", theme=None, config=CHART_CONFIG)
        with right, st.container(key="screen-lists"):
            st.html(laggard_list)
            st.html(supervision_list)
    with st.container(key="screen-footer"):
        st.html(screen.render_footer_html(meta.source, is_demo))


render_screen()
