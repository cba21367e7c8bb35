"""总览: headline figures of both programs, the county ranking, a map, laggards and supervision."""
import streamlit as st

from retrofit import charts, fmt, geo, maps, measures, report, tables, ui
from retrofit.measures import find_measure
from retrofit.settings import RETENTION_AGE_DAYS
from retrofit.vocab import HEATING, PROGRAMS, RENOVATION

HEADLINE = {RENOVATION: ("start_rate", "finish_rate", "investment_rate", "disbursement_rate"),
            HEATING: ("completion_rate", "installed_rate", "urban_area_rate", "disbursement_rate")}
RANKED = {RENOVATION: "finish_rate", HEATING: "completion_rate"}

f = ui.filters()
ui.render_header(f"{f.place}调度总览")
headline = ui.cached(report.compute_headline, f.scope).set_index(["program", "key"])


def render_metric(program: str, key: str) -> None:
    row = headline.loc[(program, key)]
    measure = find_measure(program, key)
    # What the two figures are (已拨付/应拨付 …) is in the card's help: written out, the heating
    # fund card's label ran past its quarter of a 1920 px screen.
    st.metric(f"{measure.label} · {fmt.format_progress(row['numerator'], row['denominator'], row['unit'])}",
              fmt.format_percent_of(row["numerator"], row["denominator"]), help=measure.description,
              delta=tables.describe_gap(row["gap_pp"], row["target"], row["line"]) or None,
              delta_color="off" if round(row["gap_pp"] or 0, 1) == 0 else "normal", border=True)


for program, keys in HEADLINE.items():
    st.subheader(PROGRAMS[program])
    for column, key in zip(st.columns(len(keys)), keys):
        with column:
            render_metric(program, key)

left, right = st.columns([5, 6])
with left:
    st.subheader(f"{f.unit}排名")
    for program, key in RANKED.items():
        measure = find_measure(program, key)
        shown = ui.view("overview_ranking", (program, key), lambda p=program, k=key: tables.build_compact_ranking_table(
            ui.cached(report.rank_measure, p, k, f.scope, f.previous), f.unit))
        st.markdown(f"**{PROGRAMS[program]} · {measure.label}**")
        ui.render_table(shown, f"{PROGRAMS[program]}{measure.label}排名", f"overview_ranking_{program}", flags=True)
with right:
    st.subheader("县区分布")
    program = st.segmented_control("地图指标", list(RANKED), format_func=lambda p: f"{PROGRAMS[p]}{find_measure(p, RANKED[p]).label}",
                                   default=HEATING, key="overview_map", label_visibility="collapsed") or HEATING
    measure = find_measure(program, RANKED[program])

    def build_map():
        # The map colours counties whatever the ranking level.
        table = ui.cached(report.rank_measure, program, RANKED[program], f.county_scope, f.previous)
        boundaries, view = ui.cached(geo.load_store_boundaries), ui.cached(geo.load_store_map_view)
        meta = ui.chart_meta()
        return (maps.build_county_deck(table, measure, boundaries, view, zoom_step=maps.HALF_WIDTH_ZOOM_STEP),
                lambda: charts.build_choropleth_figure(table, measure, meta, boundaries, view),
                geo.build_boundary_note(table, boundaries))

    deck, figure, note = ui.view("overview_map", (program,), build_map)
    ui.render_deck(deck, key="overview_map_deck", height=620, export_figure=figure, note=note,
                   export_title=charts.describe_choropleth_title(measure))
    st.caption("红=落后目标线超过阈值,黄=落后,绿=达到。点击县区即可按该县区筛选全部页面。")

lag_col, money_col = st.columns([3, 2])
with lag_col:
    st.subheader("落后县区(红色标识)")
    laggards = ui.view("laggards", (), lambda: tables.build_laggard_table(ui.cached(report.compute_laggards, f.scope)))
    if laggards.empty:
        st.success("所有县区均未落后目标线超过阈值。")
    else:
        ui.render_table(laggards, "落后县区", "laggards_table")
with money_col:
    st.subheader("资金留置")
    def build_retained():
        retained = ui.cached(report.compute_retained_funds, f.scope, flagged_only=True)
        return (measures.compute_retained_total(retained),
                tables.build_retained_table(retained)[["县区", "工作", "年度", "资金来源", "未拨付(万元)", "已下达天数"]])

    retained_total, retained_table = ui.view("retained", (), build_retained)
    st.markdown(f"往年资金未拨付,或下达超过{RETENTION_AGE_DAYS}天仍分文未拨付:合计 "
                f"**:red[{fmt.format_yuan(retained_total)}]**")
    ui.render_table(retained_table, "资金留置", "retained_table")

st.subheader("督办事项")
items = ui.cached(report.compute_supervision, f.scope, open_only=True)
counts = measures.count_supervision(items)
st.markdown(f"在办 **{counts[measures.OPEN] + counts[measures.OVERDUE]}** 项,其中逾期未销号 "
            f"**:red[{counts[measures.OVERDUE]}]** 项")
ui.render_table(tables.build_supervision_table(items), "在办督办事项", "supervision_table")
