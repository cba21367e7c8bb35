"""The big screen's pure parts: URL parameters, rotation, panel content, HTML and sizing."""
import json
import math
import random
from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go
import pytest
from shapely.geometry import Point, shape

from retrofit import charts, screen
from retrofit.charts import ChartMeta
from retrofit.geo import compute_boundaries_view, load_shipped_boundaries
from retrofit.settings import PROVINCE_BOUNDARIES_FILE
from retrofit.measures import CLOSED, GREEN, OPEN, OVERDUE, RED, YELLOW, find_measure
from retrofit.vocab import HEATING, RENOVATION

DATA_DATE = date(2026, 11, 20)
COUNTIES = ["渭滨区", "金台区", "陇县", "凤县", "太白县"]
YEARS = [2024, 2025, 2026]
FULL_HD, UHD = screen.Viewport(1920, 1080), screen.Viewport(3840, 2160)


def parse(**query) -> screen.ScreenParams:
    """parse_params over a query written like the URL (a list for repeated keys)."""
    as_lists = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    return screen.parse_params(as_lists, DATA_DATE, COUNTIES, YEARS)


# ---- URL parameters ---------------------------------------------------------------------------

def test_without_parameters_the_wall_shows_the_city_on_the_data_date_refreshing_every_minute():
    params = parse()
    assert params == screen.ScreenParams(as_of=DATA_DATE, year=2026, counties=(), program=HEATING,
                                         measure="completion_rate", refresh_s=60, rotate_s=None, notes=())


def test_the_link_from_the_other_pages_carries_date_year_and_counties():
    params = parse(as_of="2026-10-30", year="2025", county=["陇县", "渭滨区"])
    assert (params.as_of, params.year) == (date(2026, 10, 30), 2025)
    assert params.counties == ("渭滨区", "陇县")  # the bureau's listing order, not the URL's
    assert params.notes == ()


def test_counties_may_also_be_written_in_one_parameter():
    assert parse(county="陇县,凤县").counties == ("陇县", "凤县")
    assert parse(county="陇县、凤县").counties == ("陇县", "凤县")


def test_the_screen_parameters_set_refresh_rotation_and_the_measure():
    params = parse(refresh="30", rotate="20", program="renovation", measure="investment_rate")
    assert (params.refresh_s, params.rotate_s, params.program, params.measure) == (30, 20, RENOVATION,
                                                                                   "investment_rate")


def test_a_measure_named_without_its_program_brings_its_program():
    assert (parse(measure="finish_rate").program, parse(measure="finish_rate").measure) == (RENOVATION, "finish_rate")
    # Both programs have a disbursement rate: the default program keeps it.
    assert parse(measure="disbursement_rate").program == HEATING


def test_a_program_without_a_measure_ranks_its_main_progress_measure():
    assert parse(program="renovation").measure == "finish_rate"


@pytest.mark.parametrize("query, note", [
    ({"refresh": "abc"}, "refresh=abc无效"),
    ({"refresh": "1"}, "refresh=1无效"),
    ({"refresh": "99999"}, "refresh=99999无效"),
    ({"rotate": "-5"}, "rotate=-5无效"),
    ({"program": "water"}, "program=water无效"),
    ({"measure": "speed"}, "measure=speed无效"),
    ({"as_of": "yesterday"}, "as_of=yesterday不是日期"),
    ({"as_of": "2027-01-01"}, "晚于数据截至日期"),
    ({"as_of": "1999-01-01"}, "早于最早数据"),
    ({"year": "2019"}, "year=2019无此年度"),
    ({"county": "不存在县"}, "未找到县区“不存在县”"),
])
def test_an_invalid_parameter_falls_back_to_its_default_with_a_note_in_chinese(query, note):
    params = parse(**query)
    defaults = parse()
    assert any(note in n for n in params.notes), params.notes
    for field in ("as_of", "year", "counties", "program", "refresh_s", "rotate_s"):
        assert getattr(params, field) == getattr(defaults, field), field


def test_an_unknown_measure_keeps_the_chosen_program_and_says_which_measure_is_shown():
    params = parse(program="renovation", measure="speed")
    assert (params.program, params.measure) == (RENOVATION, "finish_rate")
    assert params.notes == ("measure=speed无效,已按完工率",)


def test_rotation_can_be_switched_off_explicitly():
    assert parse(rotate="0").rotate_s is None
    assert parse(rotate="off").rotate_s is None
    assert parse(rotate="0").notes == ()


def test_a_long_rejected_value_is_quoted_short():
    (note,) = parse(refresh="x" * 200).notes
    assert len(note) < 60 and "…" in note


def test_parameters_never_raise_whatever_the_url_holds():
    rng = random.Random(7)
    junk = ["", " ", "0", "-1", "3", "1e9", "NaN", "2026-02-30", "<script>", "县", "陇县", "heating", "完成率"]
    keys = ["refresh", "rotate", "program", "measure", "county", "as_of", "year", "previous", "stage"]
    for _ in range(300):
        query = {k: [rng.choice(junk) for _ in range(rng.randint(0, 2))] for k in rng.sample(keys, 4)}
        params = screen.parse_params(query, DATA_DATE, COUNTIES, YEARS)
        assert params.as_of <= DATA_DATE and params.year in YEARS
        assert screen.MIN_INTERVAL_S <= params.refresh_s <= screen.MAX_INTERVAL_S
        find_measure(params.program, params.measure)


def test_the_query_kept_for_the_screen_holds_its_own_keys_once_as_written():
    query = {"as_of": ["2026-10-30", "2026-10-30"], "county": ["陇县", "陇县,凤县"], "year": ["2026"],
             "refresh": ["abc"], "stage": ["开工"], "previous": ["2026-10-23"]}
    assert screen.canonical_query(query) == {"as_of": ["2026-10-30"], "year": ["2026"], "county": ["陇县", "凤县"],
                                             "refresh": ["abc"]}
    assert screen.canonical_query({}) == {}


# ---- rotation ---------------------------------------------------------------------------------

def _laggards(*rows) -> pd.DataFrame:
    """Laggard rows (county, adcode, program, key, label, reason, gap_pp), furthest behind first."""
    return pd.DataFrame(rows, columns=["county", "adcode", "program", "key", "label", "reason", "gap_pp"])


LAGGARDS = _laggards(
    ("太白县", "610331", HEATING, "disbursement_rate", "资金拨付率",
     "资金拨付率0.0%,低于时间进度线100.0%,落后100.0个百分点", -100),
    ("太白县", "610331", HEATING, "completion_rate", "完成率", "完成率1.1%,低于时间进度线100.0%,落后98.9个百分点",
     -98.9),
    ("凤翔区", "610305", RENOVATION, "finish_rate", "完工率", "完工率16.7%,低于时间进度线88.8%,落后72.1个百分点",
     -72.1),
    ("陇县", "610327", HEATING, "completion_rate", "完成率", "完成率73.0%,低于时间进度线100.0%,落后27.0个百分点",
     -27.0),
)


def test_the_rotation_is_the_city_then_each_red_county_once_furthest_behind_first():
    panels = screen.list_panels(LAGGARDS)
    assert panels == [screen.CITY_PANEL, screen.Panel("太白县", "610331"), screen.Panel("凤翔区", "610305"),
                      screen.Panel("陇县", "610327")]
    assert not panels[0].is_spotlight and panels[1].is_spotlight


def test_without_red_counties_the_rotation_is_the_city_alone():
    assert screen.list_panels(LAGGARDS.iloc[0:0]) == [screen.CITY_PANEL]


@pytest.mark.parametrize("refresh, rotate, tick", [(60, None, 60), (60, 20, 20), (15, 20, 10), (20, 20, 20),
                                                   (7, 30, 6)])
def test_the_screen_reruns_often_enough_for_both_refresh_and_rotation(refresh, rotate, tick):
    assert screen.compute_tick_seconds(refresh, rotate) == tick
    if rotate:
        assert rotate % tick == 0 or abs(rotate / tick - round(rotate / tick)) < 1e-9


def _run(rotate, refresh, panels, ticks, jitter=0.1, seed=1):
    """The panel index shown at each of `ticks` timer reruns, the timer jittering by `jitter` s."""
    rng, tick = random.Random(seed), screen.compute_tick_seconds(refresh, rotate)
    state, shown, now = None, [], 100.0
    for _ in range(ticks):
        state = screen.advance_rotation(state, now, rotate, tick, panels)
        shown.append(state.index)
        now += tick + rng.uniform(-jitter, jitter)
    return shown


def test_each_panel_shows_for_one_rotation_period_in_turn():
    assert _run(rotate=20, refresh=60, panels=4, ticks=10) == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]


def test_a_faster_refresh_keeps_the_rotation_period():
    # refresh every 10 s, rotate every 20 s: two reruns per panel.
    assert _run(rotate=20, refresh=10, panels=3, ticks=12) == [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]


def test_timer_jitter_over_a_day_never_skips_or_repeats_a_panel():
    shown = _run(rotate=20, refresh=60, panels=5, ticks=24 * 3600 // 20, jitter=0.3, seed=3)
    assert all(b == (a + 1) % 5 for a, b in zip(shown, shown[1:], strict=False))


def test_a_rerun_for_another_reason_does_not_move_the_rotation():
    start = screen.advance_rotation(None, 0.0, 20, 20, 4)
    resized = screen.advance_rotation(start, 0.4, 20, 20, 4)  # the browser reported its size
    assert resized == start
    assert screen.advance_rotation(resized, 12.0, 20, 20, 4).index == 0
    assert screen.advance_rotation(resized, 19.9, 20, 20, 4).index == 1


def test_without_rotation_the_city_view_stays():
    state = None
    for now in range(0, 600, 60):
        state = screen.advance_rotation(state, float(now), None, 60, 5)
        assert state.index == 0


def test_when_red_counties_disappear_the_rotation_stays_in_range():
    state = screen.Rotation(3, 0.0)
    assert screen.advance_rotation(state, 5.0, 20, 20, 2).index == 1
    assert screen.advance_rotation(state, 25.0, 20, 20, 2).index == 0


def test_a_spotlight_ranks_and_maps_what_the_county_is_called_out_for():
    spotlight = screen.Panel("凤翔区", "610305")
    assert screen.choose_measure(spotlight, LAGGARDS, HEATING, "completion_rate") == (RENOVATION, "finish_rate")
    assert screen.choose_measure(screen.CITY_PANEL, LAGGARDS, HEATING, "installed_rate") == (HEATING, "installed_rate")


# ---- panel content ----------------------------------------------------------------------------

def _headline(rows: dict[tuple[str, str], tuple[int, int, float, float, str]]) -> pd.DataFrame:
    """A headline frame as report.compute_headline returns it, for the measures given."""
    records = []
    for (program, key), (numerator, denominator, target, gap_pp, flag) in rows.items():
        measure = find_measure(program, key)
        records.append(dict(program=program, key=key, label=measure.label, unit=measure.unit, numerator=numerator,
                            denominator=denominator, value=numerator / denominator, target=target, gap_pp=gap_pp,
                            flag=flag, line="目标" if measure.step is None else "时间进度线", basis=""))
    return pd.DataFrame(records)


HEADLINE = _headline({
    (RENOVATION, "start_rate"): (62, 64, 1.0, -3.125, YELLOW),
    (RENOVATION, "finish_rate"): (58, 64, 0.887671, 1.857877, GREEN),
    (RENOVATION, "investment_rate"): (382_303_384, 419_870_000, 0.887671, 2.285675, GREEN),
    (HEATING, "completion_rate"): (12_142, 13_404, 1.0, -9.4151, YELLOW),
    (HEATING, "installed_rate"): (12_340, 13_404, 1.0, -7.937929, YELLOW),
    (HEATING, "disbursement_rate"): (0, 3_160_000, 1.0, -100.0, RED),
})


def test_the_big_numbers_are_the_measures_as_the_bureau_writes_them():
    tiles = screen.build_tiles(HEADLINE)
    heating = {t.key: t for t in tiles[HEATING]}
    assert (heating["completion_rate"].value, heating["completion_rate"].done,
            heating["completion_rate"].planned) == ("90.6%", "1.21万户", "1.34万户")
    assert heating["completion_rate"].gap == "落后9.4个百分点"
    assert heating["completion_rate"].line == "时间进度线100.0%"
    assert heating["disbursement_rate"].value == "0.0%" and heating["disbursement_rate"].done == "0元"
    renovation = {t.key: t for t in tiles[RENOVATION]}
    assert (renovation["start_rate"].value, renovation["start_rate"].done) == ("96.9%", "62个")
    assert renovation["investment_rate"].done == "3.82亿元" and renovation["investment_rate"].gap == "超前2.3个百分点"
    assert [t.key for t in tiles[RENOVATION]] == ["start_rate", "finish_rate", "investment_rate"]


def test_a_gap_reads_behind_ahead_or_on_the_line():
    assert screen.describe_gap(-9.4151) == "落后9.4个百分点"
    assert screen.describe_gap(2.25) == "超前2.3个百分点"
    assert screen.describe_gap(0.01) == "达到目标线"
    assert screen.describe_gap(None) == ""


def test_the_city_laggards_name_each_red_county_once_with_its_worst_reason():
    panel = screen.build_laggard_panel(LAGGARDS)
    assert [i.county for i in panel.items] == ["太白县", "凤翔区", "陇县"]
    assert panel.items[0].text == "资金拨付率0.0%,低于时间进度线100.0%,落后100.0个百分点"
    assert panel.items[0].note == "2项红色" and panel.items[1].note == "1项红色"
    assert panel.summary == "3 个县区 · 4 项指标"


def test_a_spotlight_lists_the_county_s_red_measures():
    panel = screen.build_laggard_panel(LAGGARDS, "太白县")
    assert [i.county for i in panel.items] == ["资金拨付率", "完成率"]
    assert panel.title == "太白县 · 落后指标"


def test_the_laggard_list_holds_no_more_rows_than_its_slots():
    many = _laggards(*[(f"县{i}", str(i), HEATING, "completion_rate", "完成率", "…", -50 + i) for i in range(9)])
    assert len(screen.build_laggard_panel(many).items) == screen.LAGGARD_SLOTS


SUPERVISION = pd.DataFrame([
    dict(county="太白县", program=HEATING, text="实施方案未印发", deadline=date(2026, 5, 31), status=OVERDUE,
         days_overdue=173),
    dict(county="陇县", program=HEATING, text="户内改造进度滞后", deadline=date(2026, 11, 15), status=OVERDUE,
         days_overdue=5),
    dict(county="麟游县", program=HEATING, text="供货安装缓慢", deadline=date(2026, 12, 15), status=OPEN,
         days_overdue=0),
    dict(county="凤县", program=HEATING, text="结转户未完成", deadline=date(2026, 5, 31), status=CLOSED,
         days_overdue=0),
])


def test_supervision_shows_open_items_overdue_first_with_days_overdue_or_the_deadline():
    panel = screen.build_supervision_panel(SUPERVISION)
    assert [i.county for i in panel.items] == ["太白县", "陇县", "麟游县"]
    assert [i.note for i in panel.items] == ["逾期173天", "逾期5天", "2026年12月15日到期"]
    assert [i.flag for i in panel.items] == [RED, RED, YELLOW]
    assert panel.summary == "在办 3 项 · 逾期未销号 2 项"


def test_a_spotlight_shows_only_the_county_s_supervision_items():
    panel = screen.build_supervision_panel(SUPERVISION, "凤县")
    assert panel.items == () and panel.summary == "在办 0 项 · 逾期未销号 0 项"


# ---- HTML -------------------------------------------------------------------------------------

def test_every_list_keeps_its_slots_so_a_refresh_never_moves_the_layout():
    for items in (SUPERVISION.iloc[:0], SUPERVISION.iloc[:1], SUPERVISION):
        html = screen.render_list_html(screen.build_supervision_panel(items), 4, "supervision")
        assert html.count("<li") == 4


def test_text_from_the_data_is_escaped():
    hostile = SUPERVISION.assign(text="<script>alert(1)</script>", county="<b>县")
    html = screen.render_list_html(screen.build_supervision_panel(hostile), 4, "supervision")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>县" not in html


def test_the_header_shows_date_year_time_demo_mark_and_the_spotlighted_county():
    header = screen.Header(title="宝鸡市调度", place="太白县", as_of=DATA_DATE, year=2026,
                           refreshed_at=datetime(2026, 11, 20, 9, 5, 7), is_demo=True, panel_index=1, panel_count=4,
                           rotate_s=20, notes=("refresh=abc无效,已按每60秒",))
    html = screen.render_header_html(header)
    for text in ("2026年11月20日", "2026年度", "09:05:07", "演示数据", "聚焦 太白县", 'data-county="太白县"',
                 "refresh=abc无效"):
        assert text in html
    assert html.count('<i class="dot') == 4 and html.count('class="dot on"') == 1


def test_the_city_view_carries_no_spotlight_and_no_demo_mark_on_real_data():
    header = screen.Header(title="t", place="全市", as_of=DATA_DATE, year=2026, refreshed_at=datetime(2026, 1, 1),
                           is_demo=False)
    html = screen.render_header_html(header)
    assert 'data-county=""' in html and "演示数据" not in html and "dot" not in html


def test_the_tiles_show_each_program_s_big_numbers():
    html = screen.render_tiles_html(screen.build_tiles(HEADLINE), "")
    for text in ("老旧小区改造", "清洁取暖", "96.9%", "90.6%", "1.21万户 / 1.34万户", "落后9.4个百分点"):
        assert text in html


def test_the_big_numbers_are_at_least_48_pixels_at_1080p():
    unit = FULL_HD.unit_px
    assert screen.VALUE_U * unit >= 48
    for value in ("100.0%", "96.9%", "0.0%"):
        assert screen.fit_font_u(value, screen.VALUE_U) * unit >= 48


def test_a_long_line_gets_a_smaller_font_so_it_stays_inside_its_tile():
    long = "1,233.14万元 / 3,443.00万元"
    size = screen.fit_font_u(long, screen.RATIO_U)
    assert size < screen.RATIO_U
    assert screen.estimate_em(long) * size <= screen.TILE_TEXT_U + 1e-9
    assert screen.fit_font_u("62个 / 64个", screen.RATIO_U) == screen.RATIO_U


def test_the_stylesheet_sizes_everything_from_the_viewport():
    css = screen.build_css()
    assert "--u: min(1vh, 0.5625vw)" in css
    assert "overflow: hidden" in css and 'data-testid="stSidebar"' in css
    heights = screen.PAD_U + screen.HEADER_U + screen.TILES_U + screen.MAIN_U + screen.FOOTER_U + 3 * screen.GAP_U
    assert heights <= 100 - screen.PAD_U


def test_the_footer_explains_the_flag_colours_and_names_the_source():
    html = screen.render_footer_html("市住建局调度数据", True)
    for flag in (RED, YELLOW, GREEN):
        assert charts.FLAG_LABELS[flag] in html
    assert "演示数据" in html and "来源:市住建局调度数据" in html


# ---- sizing to the viewport -------------------------------------------------------------------

def test_4k_is_the_1080p_layout_at_twice_the_pixels():
    assert FULL_HD.scale == pytest.approx(1.0) and UHD.scale == pytest.approx(2.0)
    assert screen.compute_slot_px(UHD, screen.MAIN_U) in (2 * screen.compute_slot_px(FULL_HD, screen.MAIN_U),
                                                          2 * screen.compute_slot_px(FULL_HD, screen.MAIN_U) + 1)
    assert screen.build_theme(UHD).base_font == 2 * screen.build_theme(FULL_HD).base_font


def test_a_wall_of_another_shape_uses_the_largest_16_9_box_inside_it():
    assert screen.Viewport(1920, 1200).unit_px == pytest.approx(10.8)   # 16:10: width bound
    assert screen.Viewport(3840, 1080).unit_px == pytest.approx(10.8)   # ultra-wide: height bound


def test_an_unusable_viewport_report_falls_back_to_1080p():
    for value in (None, {}, {"width": "x", "height": 5}, {"width": 10, "height": 10}, [1, 2]):
        assert screen.parse_viewport(value) == screen.Viewport()
    assert screen.parse_viewport({"width": 3840, "height": 2160}) == UHD


def test_the_columns_share_the_width_left_by_paddings_and_gaps():
    widths = screen.compute_column_px(FULL_HD)
    assert sum(widths) <= 1920 - 50 and widths[1] > 600


BOUNDS = screen.compute_bounds(load_shipped_boundaries())
VIEW = compute_boundaries_view(load_shipped_boundaries())


def test_the_city_fits_its_map_at_both_sizes():
    for width, height in ((596, 553), (1192, 1106)):
        centre, zoom = screen.compute_map_view(BOUNDS, width, height)
        for lon, lat in ((BOUNDS[0], BOUNDS[1]), (BOUNDS[2], BOUNDS[3])):
            x, y = screen.project_to_paper(lon, lat, centre, zoom, width, height)
            assert 0 <= x <= 1 and 0 <= y <= 1
        assert screen.project_to_paper(centre["lon"], centre["lat"], centre, zoom, width, height) == (0.5, 0.5)
    _, small = screen.compute_map_view(BOUNDS, 596, 553)
    _, large = screen.compute_map_view(BOUNDS, 1192, 1106)
    assert large == pytest.approx(small + 1)


def test_each_county_label_stands_inside_its_county():
    points = screen.compute_label_points(load_shipped_boundaries())
    for feature in load_shipped_boundaries()["features"]:
        assert shape(feature["geometry"]).contains(Point(points[feature["properties"]["name"]]))


def _ranking_table() -> pd.DataFrame:
    return pd.DataFrame(dict(adcode=["610302", "610327", "610331"], county=["渭滨区", "陇县", "太白县"],
                             numerator=[98, 73, 0], denominator=[100, 100, 100], value=[0.98, 0.73, 0.0],
                             target=[1.0] * 3, gap_pp=[-2.0, -27.0, -100.0], flag=[YELLOW, RED, RED],
                             rank=[1, 2, 3], line=["时间进度线"] * 3, basis=[""] * 3, override=[False] * 3))


META = ChartMeta(DATA_DATE, True)


def test_figures_drop_their_footer_and_scale_their_margins():
    measure = find_measure(HEATING, "completion_rate")
    fig = charts.build_ranking_figure(_ranking_table(), measure, META, theme=screen.build_theme(UHD), height=1200)
    fitted = screen.fit_figure(fig, UHD, META.footer)
    assert META.footer not in [a.text for a in fitted.layout.annotations]
    assert fitted.layout.margin.t == 2 * 78


def test_the_spotlighted_bar_is_outlined():
    measure, theme = find_measure(HEATING, "completion_rate"), screen.build_theme(FULL_HD)
    fig = charts.build_ranking_figure(_ranking_table(), measure, META, theme=theme, height=600)
    fig = screen.highlight_ranking(fig, ("陇县",), theme)
    bars = fig.data[0]
    widths = dict(zip(bars.y, bars.marker.line.width, strict=True))
    assert widths["陇县"] > 0 and widths["渭滨区"] == 0
    assert any("陇县" in t and screen.ACCENT in t for t in fig.layout.yaxis.ticktext)


def test_the_map_labels_every_county_and_outlines_the_spotlight():
    boundaries = load_shipped_boundaries()
    measure, theme = find_measure(HEATING, "completion_rate"), screen.build_theme(FULL_HD)
    fig = charts.build_choropleth_figure(_ranking_table(), measure, META, boundaries, VIEW, theme=theme, height=640)
    fig = screen.fit_map(fig, BOUNDS, 640, 630, highlight=["610327"], geojson=boundaries, theme=theme)
    texts = [a.text for a in fig.layout.annotations]
    assert all(any(name in t for t in texts) for name in ("渭滨区", "陇县", "太白县"))
    assert not [t for t in fig.data if t.type == "scattermap"]  # labels are annotations: never hidden
    outline = fig.data[-1]
    assert isinstance(outline, go.Choroplethmap) and list(outline.locations) == ["610327"]
    assert fig.layout.showlegend is False


def test_the_map_keeps_its_traces_between_city_view_and_spotlight():
    boundaries = load_shipped_boundaries()
    measure, theme = find_measure(HEATING, "completion_rate"), screen.build_theme(FULL_HD)
    shapes = []
    for highlight in ([], ["610331"]):
        fig = charts.build_choropleth_figure(_ranking_table(), measure, META, boundaries, VIEW, theme=theme, height=640)
        fig = screen.fit_map(fig, BOUNDS, 640, 630, highlight=highlight, geojson=boundaries, theme=theme)
        shapes.append([t.type for t in fig.data])
    assert shapes[0] == shapes[1]


def test_both_figures_are_built_for_the_wall_with_the_spotlight_outlined_on_each():
    measure = find_measure(HEATING, "completion_rate")
    ranking, county_map = screen.build_figures(_ranking_table(), measure, META, UHD, ("太白县",), load_shipped_boundaries(),
                                               VIEW)
    height = screen.compute_slot_px(UHD, screen.MAIN_U)
    assert ranking.layout.height == county_map.layout.height == height
    assert ranking.layout.title.text == "各县区清洁取暖完成率排名" and county_map.layout.title.font.size == 52
    assert list(county_map.data[-1].locations) == ["610331"]
    assert dict(zip(ranking.data[0].y, ranking.data[0].marker.line.width, strict=True))["太白县"] > 0


def test_a_tiles_target_line_shrinks_to_the_room_its_label_leaves():
    assert screen.fit_line_u("开工率", "节点进度线100.0%") == screen.LINE_U
    long = screen.fit_line_u("城区取暖面积完成率", "节点进度线100.0%")
    room = screen.TILE_TEXT_U - screen.estimate_em("城区取暖面积完成率") * screen.LABEL_U - screen.TOP_GAP_U
    assert long < screen.LINE_U and screen.estimate_em("节点进度线100.0%") * long <= room


def test_desk_filters_name_each_url_value_they_cannot_use():
    reports = [date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 20)]
    notes = screen.list_filter_notes(
        {"county": ["不存在县", "陇县"], "as_of": ["9999-99-99"], "year": ["1999"], "previous": ["2026-11-20"],
         "stage": ["已开工", "拆迁"], "route": ["核能"]}, date(2026, 11, 20), ["陇县", "凤县"], [2025, 2026], reports,
        ["已开工", "已完工"], ["生物质"])
    assert notes == ("未找到县区“不存在县”,已略去", "as_of=9999-99-99不是日期,已按数据截至日期",
                     "year=1999无此年度,已按2026年度",
                     "previous=2026-11-20不是截至日期之前的调度日期,已按最近一次调度",
                     "stage=拆迁无效,已略去", "route=核能无效,已略去(按全部路线)")


def test_desk_filters_with_valid_url_values_have_no_notes():
    assert screen.list_filter_notes({"county": ["陇县"], "as_of": ["2026-11-13"], "previous": ["2026-11-06"]},
                                    date(2026, 11, 20), ["陇县"], [2026], [date(2026, 11, 6)], [], []) == ()


def test_a_map_squeezed_to_nothing_or_framing_one_point_still_gets_a_view():
    for width, height in ((596, -40), (0, 0), (596, 553)):
        centre, zoom = screen.compute_map_view(BOUNDS, width, height)
        assert math.isfinite(zoom) and centre["lon"] == pytest.approx((BOUNDS[0] + BOUNDS[2]) / 2)
    point = (107.1, 34.4, 107.1, 34.4)
    centre, zoom = screen.compute_map_view(point, 596, 553)
    assert math.isfinite(zoom) and centre["lat"] == pytest.approx(34.4)


def test_the_wall_header_names_the_city_of_the_link_not_the_province():
    assert screen.describe_wall_place(None, (), "西安市", "全省") == "西安市"
    assert screen.describe_wall_place(None, (), "", "全省") == "全省"
    assert screen.describe_wall_place(None, ("陇县", "太白县"), "宝鸡市", "全省") == "陇县、太白县"
    assert screen.describe_wall_place("陇县", (), "宝鸡市", "全省") == "陇县"


def _labels_at_one_place(n: int) -> go.Figure:
    """A map with `n` red-county labels all but on top of each other (a capital's districts)."""
    return go.Figure(go.Scattermap(lon=[108.94 + i * 0.001 for i in range(n)], lat=[34.34] * n, mode="text",
                                   text=[f"新设区{i}<br>6{i}.0%" for i in range(n)], textfont=dict(size=14)))


def test_a_province_map_drops_labels_that_would_cover_another_furthest_behind_kept():
    province = json.loads(PROVINCE_BOUNDARIES_FILE.read_text(encoding="utf-8"))
    fig = screen.fit_map(_labels_at_one_place(5), screen.compute_bounds(province), 640, 630, geojson=province)
    texts = [a.text for a in fig.layout.annotations]
    assert texts == ["<b>新设区4<br>64.0%</b>"]   # the last in ranked order: the furthest behind


def test_a_city_map_keeps_every_label_even_where_they_touch():
    fig = screen.fit_map(_labels_at_one_place(5), BOUNDS, 640, 630, geojson=load_shipped_boundaries())
    assert len(fig.layout.annotations) == 5


def test_map_labels_carry_a_light_halo_to_read_on_any_fill_and_on_the_dark_background():
    fig = screen.fit_map(_labels_at_one_place(2), BOUNDS, 640, 630, geojson=load_shipped_boundaries())
    assert fig.layout.annotations and all(a.font.shadow == screen.LABEL_HALO for a in fig.layout.annotations)
