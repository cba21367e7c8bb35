"""清洁取暖: households by milestone per county against plan (carry-over shown), route mix,
procurement, household economics, villages and a drill-down to one village's households."""
import streamlit as st

from retrofit import charts, fmt, queries, report, tables, ui
from retrofit.measures import compute_route_economics, compute_step_buckets, find_measure
from retrofit.settings import INVEST_REFERENCE_YUAN, RUNNING_REFERENCE_YUAN
from retrofit.vocab import HEATING, MILESTONE_STANDING, MILESTONES, NO_MILESTONE, ROUTES

f = ui.filters()
ui.render_header("冬季清洁取暖")
meta = ui.chart_meta()
year, as_of, counties = f.scope.plan_year, f.scope.as_of, f.scope.counties
ui.require_plan(HEATING)
progress = ui.cached(queries.load_heating_progress, year, as_of, counties)
totals = ui.totals(HEATING)

completion = ui.cached(report.compute_headline, f.scope).set_index(["program", "key"]).loc[(HEATING, "completion_rate")]

cols = st.columns(5)
cols[0].metric(f"{year}年计划改造", fmt.format_households(totals["target_households"]), border=True)
cols[1].metric("其中上年结转", fmt.format_households(totals["carryover_households"]), border=True)
cols[2].metric("已通气通电", fmt.format_households(completion["numerator"]),
               delta=f"完成率{fmt.format_percent_of(completion['numerator'], completion['denominator'])}",
               delta_color="off", delta_arrow="off", border=True, help=find_measure(HEATING, "completion_rate").description)
cols[3].metric("设备闲置 · 核减(销户)",
               f"{int(totals['idle_households']):,}户 · {int(totals['cancelled_households']):,}户", border=True,
               help="核减:经批准销户的农户,自批准之日起不再计入年度任务")
cols[4].metric("城区清洁取暖面积", f"{fmt.format_area(totals['urban_m2_done'])}",
               delta=f"计划{fmt.format_area(totals['target_urban_m2'])}", delta_color="off", delta_arrow="off", border=True)

progress_tab, routes_tab, procurement_tab, villages_tab = st.tabs(["改造进度", "技术路线与经济账", "设备招标采购", "村户清单"])

with progress_tab:
    left, right = st.columns([3, 2])
    with left:
        ui.render_chart(ui.view("milestones_by_county", (), lambda: charts.build_milestone_by_county_figure(
            progress, compute_step_buckets(progress, [f"{m.key}_households" for m in MILESTONES],
                                           list(MILESTONE_STANDING), "task_households", NO_MILESTONE), meta)),
            "milestones_by_county", clickable=True)
    with right:
        st.markdown("**完成率排名**(通气通电 ÷ 计划含结转、扣除核减;完整表格见“县区排名”)")
        ui.render_table(ui.view("heating_ranking", (), lambda: tables.build_compact_ranking_table(
            ui.cached(report.rank_measure, HEATING, "completion_rate", f.scope, f.previous), f.unit)),
            "清洁取暖完成率排名", "heating_ranking", flags=True)

with routes_tab:
    def build_routes():
        mix = ui.cached(queries.load_route_mix, year, as_of, counties, f.routes)
        economics = compute_route_economics(mix)
        return (charts.build_route_mix_figure(mix, list(ROUTES), meta),
                charts.build_economics_figure(economics, meta, INVEST_REFERENCE_YUAN, RUNNING_REFERENCE_YUAN),
                tables.build_economics_table(economics, INVEST_REFERENCE_YUAN, RUNNING_REFERENCE_YUAN))

    route_figure, economics_figure, economics_table = ui.view("routes", (), build_routes)
    ui.render_chart(route_figure, "route_mix", clickable=True)
    ui.render_chart(economics_figure, "economics")
    ui.render_table(economics_table, "分技术路线户均经济账", "economics_table")

with procurement_tab:
    st.markdown("**各县区设备招标采购环节**(实施方案下发 → 供应商报名 → 招标入库 → 供货安装)")
    ui.render_table(ui.view("procurement", (), lambda: tables.build_procurement_table(
        ui.cached(queries.load_procurement, year, as_of, counties))), "各县区设备招标采购环节", "procurement_table",
                    late_column="当前环节",
                    late_values=("实施方案未下发",))

with villages_tab:
    detail = ui.detail_scope(f).counties  # a clerk's own county, whatever the URL asks
    query = st.text_input("搜索村、乡镇或县区", placeholder="例如:王家庄村 / 某某镇")
    codes = ui.cached(queries.load_village_codes, ui.access(), year, detail, f.routes, query)
    target = ui.cached(report.compute_target_share, HEATING, "completion_rate", f.scope)
    st.caption(f"共 {len(codes):,} 个村;标识为完成率(扣除核减)对照全市完成率目标线。"
               "点选一行查看该村农户(户主全名只对本县区和管理员显示,其余脱敏)。")
    list_key = ui.selection_key("village_table", f, query)
    offset, limit = ui.render_pager(list_key, len(codes)) if len(codes) > min(ui.PAGE_SIZES) else (0, len(codes))
    shown = codes[offset:offset + limit]
    # villages=() would mean every village: an empty page asks for none.
    villages = ui.cached(queries.load_village_progress, ui.access(), year, as_of, detail, f.routes,
                         villages=shown or ("",))
    view = tables.build_village_table(villages, target)
    engine, access = ui.engine(), ui.access()
    with st.container(key="village_list"):
        picked = ui.render_table(view, "各村清洁取暖进度", list_key, flags=True, on_select="rerun",
                                 selection_mode="single-row",
                                 whole=lambda: tables.build_village_table(queries.load_village_progress(
                                     engine, access, year, as_of, detail, f.routes), target, query))
    rows = picked.selection.rows if picked else []
    if rows:
        village = view.iloc[rows[0]]
        households = ui.cached(queries.load_village_households, ui.access(), village["村编码"], year, as_of, f.routes)
        st.subheader(fmt.escape_markdown(f"{village['县区']} · {village['乡镇']} · {village['村']}({len(households)}户)"))
        ui.render_table(tables.build_household_table(households), f"{village['村']}农户明细", "household_table")
