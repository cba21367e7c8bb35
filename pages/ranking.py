"""县区排名: any measure of either program, ranked with ties, change since the previous
report, flags, the bar chart with the target line, and the trend over report dates. In a province
store the sidebar's level ranks the cities (各市) or the counties (of the province or of one city)."""
import streamlit as st

from retrofit import charts, fmt, queries, report, tables, ui
from retrofit.measures import find_measure, measure_keys, read_city_line
from retrofit.settings import FLAG_THRESHOLDS
from retrofit.vocab import PROGRAMS

TREND_REPORTS = 12  # weekly reports shown in the trend (about a quarter)

f = ui.filters()
ui.render_header(report.name_ranking_page(f.scope.level))
left, right = st.columns([1, 3])
with left:
    programs = list(PROGRAMS)
    program = st.segmented_control("工作", programs, format_func=PROGRAMS.get,
                                   default=ui.url_choice("program", programs, "heating")) or "heating"
with right:
    keys = measure_keys(program)
    chosen = ui.url_choice("measure", keys, keys[0])
    key = st.selectbox("指标", keys, index=keys.index(chosen), format_func=lambda k: find_measure(program, k).label,
                       key=f"measure_{program}")
ui.remember_choice("program", program)
ui.remember_choice("measure", key)
measure = find_measure(program, key)
ranking = ui.cached(report.rank_measure, program, key, f.scope, f.previous)

line = read_city_line(ranking)
st.markdown(f"**{PROGRAMS[program]} · {measure.label}** = {measure.description}。"
            + (f"对照{fmt.format_target_basis(line.name, line.basis)},今日应达 **{fmt.format_percent(line.share)}**;"
               if line.share is not None else "尚无考核目标;")
            + f"按通报口径(一位小数)比较,落后超过{FLAG_THRESHOLDS.red_gap_pp:g}个百分点标红,落后标黄。"
            + (f"名次变化对比 {fmt.format_date(f.previous)}。" if f.previous else ""))

table_col, chart_col = st.columns([6, 5])
with table_col:
    ui.render_table(ui.view("ranking_table", (program, key), lambda: tables.build_ranking_table(
        ranking, measure.label, measure.unit, measure.done_label, measure.base_label, ranked_as=f.unit)),
        f"{PROGRAMS[program]}{measure.label}排名", "ranking_table", flags=True)
with chart_col:
    ui.render_chart(ui.view("ranking_bars", (program, key), lambda: charts.build_ranking_figure(
        ranking, measure, ui.chart_meta(), title=f"各{f.unit}{PROGRAMS[program]}{measure.label}排名")),
        "ranking_bars", clickable=f.scope.level == report.COUNTY_LEVEL)

reports = [d for d in ui.cached(queries.load_report_dates) if d <= f.scope.as_of][-TREND_REPORTS:]


def build_trend():
    trend = ui.cached(report.compute_trend, program, key, f.scope, reports)
    if trend.empty:
        return None
    curve = ui.cached(report.compute_target_curve, program, key, f.scope, reports[0], reports[-1])
    return charts.build_trend_figure(trend, measure, ui.chart_meta(), list(f.county_names), curve=curve)


trend_figure = ui.view("ranking_trend", (program, key), build_trend)
if trend_figure is not None:
    ui.render_chart(trend_figure, "ranking_trend")
