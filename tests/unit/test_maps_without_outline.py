"""Counties the boundary file does not draw (a new county, a renamed adcode): every map leaves
them off and says so in one sentence, and no map trips over an outline of a county the store
does not have."""
from datetime import date

import pandas as pd
from shapely.geometry import Point, shape

from retrofit import charts, geo, maps, screen
from retrofit.geo import load_shipped_boundaries
from retrofit.measures import RED, YELLOW, find_measure
from retrofit.vocab import HEATING

META = charts.ChartMeta(date(2026, 11, 20), is_demo=False)
COMPLETION = find_measure(HEATING, "completion_rate")
SHIPPED = load_shipped_boundaries()
VIEW = geo.compute_boundaries_view(SHIPPED)


def _ranking(*counties: tuple[str, str]) -> pd.DataFrame:
    """A ranked table of `counties` (name, adcode), best first."""
    rows = [dict(county=name, adcode=adcode, numerator=90 - 10 * i, denominator=100, value=(90 - 10 * i) / 100,
                 target=1.0, gap_pp=-10.0 - 10 * i, flag=YELLOW if i == 0 else RED, rank=i + 1)
            for i, (name, adcode) in enumerate(counties)]
    return pd.DataFrame(rows)


def _counties(deck, layer_id: str) -> list[str]:
    """The county of each object of a deck layer (pydeck keeps a layer's rows as records)."""
    return [row["county"] for row in next(layer for layer in deck.layers if layer.id == layer_id).data]


# 北县 and 南区 have no outline in the shipped file; 陇县 and 太白县 have.
MIXED = _ranking(("陇县", "610327"), ("北县", "610001"), ("太白县", "610331"), ("南区", "610002"))


def test_the_note_names_the_counties_without_an_outline_in_ranking_order():
    assert geo.list_counties_without_boundary(MIXED, SHIPPED) == ["北县", "南区"]
    assert geo.build_boundary_note(MIXED, SHIPPED) == "无边界数据,未在地图上显示:北县、南区"


def test_no_note_when_every_county_has_an_outline():
    assert geo.build_boundary_note(_ranking(("陇县", "610327"), ("太白县", "610331")), SHIPPED) == ""


def test_a_long_note_breaks_between_county_names_only():
    names = [f"第{n}新设县" for n in range(1, 9)]
    note = geo.build_boundary_note(_ranking(*[(name, f"6109{n:02d}") for n, name in enumerate(names)]), SHIPPED)
    lines = charts.wrap_note(note).split("<br>")
    assert len(lines) > 1 and all(len(line) <= charts.NOTE_CHARS_PER_LINE for line in lines)
    assert "".join(lines) == note
    one_line = charts.build_choropleth_figure(MIXED, COMPLETION, META, SHIPPED, VIEW)
    three_lines = charts.build_choropleth_figure(_ranking(*[(name, f"6109{n:02d}") for n, name in enumerate(names)]),
                                                 COMPLETION, META, SHIPPED, VIEW)
    assert three_lines.layout.margin.t > one_line.layout.margin.t  # the map moves down, under the note


def test_the_plotly_map_draws_the_outlined_counties_and_notes_the_rest():
    fig = charts.build_choropleth_figure(MIXED, COMPLETION, META, SHIPPED, VIEW)
    drawn = {a for t in fig.data if t.type == "choroplethmap" for a in t.locations}
    assert drawn == {"610327", "610331"}
    labels = [t for t in fig.data if t.type == "scattermap"][0]
    assert [text.split("<br>")[0] for text in labels.text] == ["陇县", "太白县"]
    assert fig.layout.title.subtitle.text == "无边界数据,未在地图上显示:北县、南区"  # under the title, off the map


def test_the_deck_draws_and_labels_only_the_outlined_counties():
    deck = maps.build_county_deck(MIXED, COMPLETION, SHIPPED, VIEW)
    assert set(_counties(deck, maps.COUNTY_LAYER)) == {"陇县", "太白县"}
    assert _counties(deck, "county-labels") == ["陇县", "太白县"]


def test_a_store_of_counties_none_of_which_has_an_outline_still_gets_its_maps():
    table = _ranking(("北县", "610001"), ("南区", "610002"))
    deck = maps.build_county_deck(table, COMPLETION, SHIPPED, VIEW)
    assert _counties(deck, maps.COUNTY_LAYER) == [] and _counties(deck, "county-labels") == []
    ranking, county_map = screen.build_figures(table, COMPLETION, META, screen.Viewport(), ("北县",),
                                               SHIPPED, VIEW)
    assert list(ranking.data[0].y) == ["南区", "北县"]
    assert county_map.layout.title.subtitle.text.startswith(geo.NO_BOUNDARY_NOTE)


def test_the_wall_outlines_a_spotlighted_county_only_if_it_has_an_outline():
    _, county_map = screen.build_figures(MIXED, COMPLETION, META, screen.Viewport(), ("北县", "陇县"),
                                         SHIPPED, VIEW)
    assert list(county_map.data[-1].locations) == ["610327"]
    assert county_map.layout.title.subtitle.text == "无边界数据,未在地图上显示:北县、南区"


def test_outlines_of_counties_the_store_lacks_are_left_out_of_every_map():
    only = _ranking(("陇县", "610327"))
    deck = maps.build_county_deck(only, COMPLETION, SHIPPED, VIEW)
    assert set(_counties(deck, maps.COUNTY_LAYER)) == {"陇县"}
    _, county_map = screen.build_figures(only, COMPLETION, META, screen.Viewport(), (), SHIPPED, VIEW)
    assert {a for t in county_map.data if t.type == "choroplethmap" for a in t.locations} == {"610327"}
    assert not county_map.layout.title.subtitle.text
    # The wall frames the county it has, not the whole file.
    centre = county_map.layout.map.center
    longxian = shape(next(f["geometry"] for f in SHIPPED["features"]
                          if f["properties"]["adcode"] == "610327"))
    assert longxian.envelope.contains(Point(centre.lon, centre.lat))


def test_every_pickable_map_object_names_its_county():
    """A click on a county's area, a village dot or a community dot filters to that county
    (ui.select_county reads `county` from whatever deck.gl picked)."""
    villages = pd.DataFrame(dict(county=["陇县"], township=["东风镇"], village=["东村"], lon=[106.8], lat=[34.9],
                                 task_households=[40], connected_households=[10], cancelled_households=[0]))
    communities = pd.DataFrame(dict(county=["陇县"], name=["东苑小区"], street=["城关街道"], stage=["开工"],
                                    late_stage=[""], days_late=[0], lon=[106.85], lat=[34.9], households=[200]))
    deck = maps.build_county_deck(MIXED, COMPLETION, SHIPPED, VIEW, maps.build_village_points(villages, 0.5),
                                  maps.build_community_points(communities))
    pickable = [layer for layer in deck.layers if getattr(layer, "pickable", False)]
    assert {layer.id for layer in pickable} == {maps.COUNTY_LAYER, maps.VILLAGE_LAYER, maps.COMMUNITY_LAYER}
    for layer in pickable:
        assert set(_counties(deck, layer.id)) == ({"陇县", "太白县"} if layer.id == maps.COUNTY_LAYER else {"陇县"})


def test_a_province_without_outlines_is_counted_not_listed():
    names = [f"第{n}新设县" for n in range(1, 111)]
    note = geo.build_boundary_note(_ranking(*[(name, f"69{n:04d}") for n, name in enumerate(names)]), SHIPPED)
    assert note.startswith("110 个县区无边界数据,未在地图上显示")
    assert "第1新设县、第2新设县、第3新设县等" in note and "第4新设县" not in note
    assert len(charts.wrap_note(note).split("<br>")) <= 2  # the map keeps its height
