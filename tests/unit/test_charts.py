import json
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import plotly.io

from retrofit import charts, geo
from retrofit.measures import find_measure

META = charts.ChartMeta(date(2026, 11, 20), is_demo=True)
COMPLETION = find_measure("heating", "completion_rate")
SHIPPED = geo.load_shipped_boundaries()
VIEW = geo.compute_boundaries_view(SHIPPED)


def _ranking() -> pd.DataFrame:
    rows = [("千阳县", "610328", 98, 100, "yellow"), ("陇县", "610327", 73, 100, "red"),
            ("太白县", "610331", 0, 100, "red")]
    return pd.DataFrame([dict(county=c, adcode=a, numerator=n, denominator=d, value=n / d, target=1.0,
                              gap_pp=(n / d - 1) * 100, flag=f) for c, a, n, d, f in rows])


def test_value_labels_stay_clear_of_the_target_line():
    # Axis to 120: a label takes about 20. Target line at 88.8.
    assert charts.place_value_labels([100.0, 97.0, 60.0, 5.0, None], 88.8, 120) == [
        "outside", "outside", "inside", "outside", "none"]
    assert charts.place_value_labels([98.2, 97.5], 100.0, 120) == ["inside", "inside"]


def test_a_county_at_zero_keeps_its_value_label():
    bars = charts.build_ranking_figure(_ranking(), COMPLETION, META).data[0]
    labels = dict(zip(bars.y, zip(bars.text, bars.textposition)))
    assert labels["太白县"] == ("0.0%", "outside")


def test_ranking_draws_best_on_top_with_ticks_only_up_to_100_percent():
    fig = charts.build_ranking_figure(_ranking(), COMPLETION, META)
    assert list(fig.data[0].y) == ["太白县", "陇县", "千阳县"]  # plotly stacks categories upwards
    assert list(fig.layout.xaxis.ticktext) == ["0%", "20%", "40%", "60%", "80%", "100%"]


def test_every_figure_states_data_date_source_and_demo_mark():
    for fig in (charts.build_ranking_figure(_ranking(), COMPLETION, META),
                charts.build_choropleth_figure(_ranking(), COMPLETION, META, SHIPPED, VIEW)):
        footer = " ".join(a.text for a in fig.layout.annotations)
        assert "数据截至2026年11月20日" in footer and "来源" in footer and "演示数据" in footer
        assert fig.layout.title.text


def test_real_data_carries_no_demo_mark():
    fig = charts.build_ranking_figure(_ranking(), COMPLETION, charts.ChartMeta(date(2026, 11, 20), is_demo=False))
    assert "演示数据" not in " ".join(a.text for a in fig.layout.annotations)


def test_map_style_names_no_glyph_server():
    # A glyph URL would make the browser fetch fonts from the internet (unreachable here).
    style = charts.build_choropleth_figure(_ranking(), COMPLETION, META, SHIPPED, VIEW).layout.map.style
    assert "glyphs" not in style and style["sources"] == {}


def _province_ranking(counties: int, reds: int) -> pd.DataFrame:
    """`counties` ranked best first, the last `reds` of them red, behind a 50% target."""
    rows = []
    for i in range(counties):
        share = 1 - i / counties
        flag = "red" if i >= counties - reds else "green"
        rows.append(dict(county=f"县{i + 1:03d}", adcode=f"61{i:04d}", numerator=round(share * 1000), denominator=1000,
                         value=share, target=0.5, gap_pp=(share - 0.5) * 100, flag=flag, rank=i + 1))
    return pd.DataFrame(rows)


def test_a_city_ranking_draws_every_county_as_before():
    table = _province_ranking(12, 3)
    fig = charts.build_ranking_figure(table, COMPLETION, META)
    assert list(fig.data[0].y) == list(table["county"][::-1])
    assert fig.layout.height == 170 + 34 * 12  # the height a city's ranking always had


def test_a_province_ranking_fits_a_screen_and_names_every_red_county():
    table = _province_ranking(110, 25)
    fig = charts.build_ranking_figure(table, COMPLETION, META)
    assert fig.layout.height <= 900
    reds = set(table.loc[table["flag"] == "red", "county"])
    assert reds <= set(fig.data[0].y)
    assert set(table["county"][:10]) <= set(fig.data[0].y)  # the best ten stay on top
    assert len(fig.data[0].y) == 10 + 25 + 1  # best, red (the worst ten among them), the gap


def test_a_province_ranking_says_the_rest_are_in_the_table():
    fig = charts.build_ranking_figure(_province_ranking(110, 4), COMPLETION, META)
    gap = [a.text for a in fig.layout.annotations if a.y == charts.GAP_TICK]
    assert gap == ["其余90个县区见排名表"]  # 110 less the best and the worst ten
    assert list(fig.data[0].y).index(charts.GAP_TICK) == 10  # between the worst ten and the best ten
    assert [c for c, g in zip(fig.data[0].customdata, fig.data[0].y) if g == charts.GAP_TICK] == [[None]]


def test_red_counties_take_the_room_of_the_best_before_any_is_left_out():
    table = _province_ranking(110, 40)  # more red counties than room for them beside the best ten
    fig = charts.build_ranking_figure(table, COMPLETION, META)
    assert fig.layout.height <= 900
    assert set(table.loc[table["flag"] == "red", "county"]) <= set(fig.data[0].y)
    assert set(table["county"][:3]) <= set(fig.data[0].y)  # the best still open the chart
    assert all("红色" not in a.text for a in fig.layout.annotations)


def test_red_counties_beyond_what_bars_can_hold_are_counted_in_the_gap_and_left_to_the_table():
    table = _province_ranking(110, 80)
    fig = charts.build_ranking_figure(table, COMPLETION, META)
    assert fig.layout.height <= 900
    drawn_reds = [c for c in fig.data[0].y if c in set(table.loc[table["flag"] == "red", "county"])]
    assert "县110" in drawn_reds  # the worst are drawn
    gap = [a.text for a in fig.layout.annotations if a.y == charts.GAP_TICK]
    assert gap == [f"其余{110 - len(fig.data[0].y) + 1}个县区(其中红色{80 - len(drawn_reds)}个)见排名表"]


def test_the_wall_ranking_keeps_its_height_and_draws_the_worst():
    table = _province_ranking(110, 25)
    fig = charts.build_ranking_figure(table, COMPLETION, META, height=600)
    assert fig.layout.height == 600
    assert list(fig.data[0].y)[:10] == list(table["county"][-10:][::-1])  # the worst ten at the bottom
    assert set(table["county"][:3]) <= set(fig.data[0].y)


def test_per_county_bars_never_grow_taller_than_a_screen():
    counties = [f"县{i:03d}" for i in range(110)]
    mix = pd.DataFrame([dict(county=c, route=r, task_households=10) for c in counties for r in ("生物质", "电代煤")])
    fig = charts.build_route_mix_figure(mix, ["生物质", "电代煤"], META)
    assert fig.layout.height <= 900
    city = pd.DataFrame([dict(county=c, route="生物质", task_households=10) for c in counties[:12]])
    assert charts.build_route_mix_figure(city, ["生物质"], META).layout.height == 120 + 34 * 12 + 60


def test_a_city_ranking_keeps_its_labels_inside_the_bars_on_the_desk_and_the_wall():
    table = _province_ranking(12, 3)
    for theme, height in ((charts.LIGHT, None), (charts.DARK, 643)):
        bars = charts.build_ranking_figure(table, COMPLETION, META, theme=theme, height=height).data[0]
        assert "inside" in bars.textposition and bars.insidetextfont.size == theme.base_font


def test_each_map_trace_carries_only_its_own_counties_outlines():
    # A province's outlines (22,000 points) copied into every flag's trace made each rerun slow
    # to send; the browser still gets every county it colours.
    fig = charts.build_choropleth_figure(_ranking(), COMPLETION, META, SHIPPED, VIEW)
    for trace in (t for t in fig.data if t.type == "choroplethmap"):
        assert {f["properties"]["adcode"] for f in trace.geojson["features"]} == set(trace.locations)


def test_the_outlines_a_map_sends_are_the_stored_ones_point_for_point():
    adcodes = ["610327", "610331"]
    sent = json.loads(plotly.io.to_json(go.Figure(go.Choroplethmap(
        geojson=geo.build_plot_boundaries(SHIPPED, adcodes), locations=adcodes, z=[1, 1])), validate=False))
    stored = [f for f in SHIPPED["features"] if f["properties"]["adcode"] in adcodes]
    assert sent["data"][0]["geojson"]["features"] == stored
