"""地图: counties coloured by the chosen measure's flag, villages and communities as points;
clicking a county filters every page to it."""
from dataclasses import replace

import streamlit as st

from retrofit import charts, geo, maps, queries, report, ui
from retrofit.measures import find_measure, measure_keys
from retrofit.settings import MAP_POINTS_MAX
from retrofit.vocab import HEATING, PROGRAMS, RENOVATION

f = ui.filters()
ui.render_header("地图")
left, middle, right = st.columns([1, 2, 2])
with left:
    programs = list(PROGRAMS)
    program = st.segmented_control("工作", programs, format_func=PROGRAMS.get,
                                   default=ui.url_choice("program", programs, HEATING)) or HEATING
with middle:
    keys = measure_keys(program)
    key = st.selectbox("县区着色指标", keys, index=keys.index(ui.url_choice("measure", keys, keys[0])),
                       format_func=lambda k: find_measure(program, k).label, key=f"map_measure_{program}")
POINTS = {HEATING: "农村清洁取暖(村)", RENOVATION: "老旧小区(小区)"}
with right:
    # By default the points of the program the counties are coloured by.
    points = st.pills("点位", list(POINTS.values()), selection_mode="multi", default=[POINTS[program]],
                      key=f"map_points_{program}")
ui.remember_choice("program", program)
ui.remember_choice("measure", key)

measure = find_measure(program, key)
# County colours are public (like the rankings); points are detail, within the account's scope. A
# clerk who asked for another county sees their own, outline and points, under a notice.
detail = ui.detail_scope(f)


def build_map():
    # counties on the map
    table = ui.cached(report.rank_measure, program, key, replace(detail, level=report.COUNTY_LEVEL), f.previous)
    villages = communities = None
    notes = []
    if POINTS[HEATING] in points:
        codes, found = ui.cached(queries.load_village_sample, ui.access(), detail.plan_year, detail.counties,
                                 f.routes, MAP_POINTS_MAX)
        rows = ui.cached(queries.load_village_progress, ui.access(), detail.plan_year, detail.as_of,
                         detail.counties, f.routes, villages=codes or ("",))
        target = ui.cached(report.compute_target_share, HEATING, "completion_rate", f.scope)
        villages = maps.build_village_points(rows, target)
        if len(codes) < found:
            notes.append(f"村点位较多:{found:,} 个村中均匀抽取 {len(codes):,} 个显示")
    if POINTS[RENOVATION] in points:
        sample, found = ui.cached(report.compute_community_sample, ui.access(), detail, f.stages, MAP_POINTS_MAX)
        communities = maps.build_community_points(sample)
        if found > MAP_POINTS_MAX:
            notes.append(f"小区点位较多:{found:,} 个小区中均匀抽取 {len(sample):,} 个显示")
    boundaries, view = ui.cached(geo.load_store_boundaries), ui.cached(geo.load_store_map_view)
    note = ";".join([n for n in [geo.build_boundary_note(table, boundaries)] if n] + notes)
    meta = ui.chart_meta()
    return (maps.build_county_deck(table, measure, boundaries, view, villages, communities),
            lambda: charts.build_choropleth_figure(table, measure, meta, boundaries, view), note)


deck, figure, note = ui.view("county_map", (program, key, tuple(points), MAP_POINTS_MAX), build_map)
ui.render_deck(deck, key="county_map", export_figure=figure, note=note,
               export_title=charts.describe_choropleth_title(measure))
st.caption("县区颜色:红=落后目标线超过阈值,黄=落后,绿=达到;村点颜色为该村完成率对照全市完成率目标线;"
           "小区点红色表示有逾期阶段。点击县区(或县区内的村、小区点位)即按该县区筛选全部页面。"
           "底图为空白(离线),边界仅供示意。")
