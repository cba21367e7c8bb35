from datetime import date

import pandas as pd

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
