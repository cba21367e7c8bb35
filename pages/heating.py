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
        buckets = compute_step_buckets(progress, [f"{m.key}_households" for m in MILESTONES],
                                       list(MILESTONE_STANDING), "task_households", NO_MILESTONE)
        ui.render_chart(charts.build_milestone_by_county_figure(progress, buckets, meta), "milestones_by_county",
                        clickable=True)
    with right:
        ranking = ui.cached(report.rank_measure, HEATING, "completion_rate", f.scope, f.previous)
        st.markdown("**完成率排名**(通气通电 ÷ 计划含结转、扣除核减;完整表格见“县区排名”)")
        ui.render_table(tables.build_compact_ranking_table(ranking, f.unit), "清洁取暖完成率排名", "heating_ranking",
                        flags=True)

with routes_tab:
    mix = ui.cached(queries.load_route_mix, year, as_of, counties, f.routes)
    ui.render_chart(charts.build_route_mix_figure(mix, list(ROUTES), meta), "route_mix", clickable=True)
    economics = compute_route_economics(mix)
    ui.render_chart(charts.build_economics_figure(economics, meta, INVEST_REFERENCE_YUAN, RUNNING_REFERENCE_YUAN),
                    "economics")
    ui.render_table(tables.build_economics_table(economics, INVEST_REFERENCE_YUAN, RUNNING_REFERENCE_YUAN),
                    "分技术路线户均经济账", "economics_table")

with procurement_tab:
    procurement = ui.cached(queries.load_procurement, year, as_of, counties)
    st.markdown("**各县区设备招标采购环节**(实施方案下发 → 供应商报名 → 招标入库 → 供货安装)")
    ui.render_table(tables.build_procurement_table(procurement), "各县区设备招标采购环节", "procurement_table",
                    late_column="当前环节",
                    late_values=("实施方案未下发",))

with villages_tab:
    villages = ui.cached(queries.load_village_progress, ui.access(), year, as_of, ui.detail_scope(f).counties, f.routes)
    query = st.text_input("搜索村、乡镇或县区", placeholder="例如:王家庄村 / 某某镇")
    target = ui.cached(report.compute_target_share, HEATING, "completion_rate", f.scope)
    view = tables.build_village_table(villages, target, query)
    st.caption(f"共 {len(view)} 个村;标识为完成率(扣除核减)对照全市完成率目标线。"
               "点选一行查看该村农户(户主全名只对本县区和市级管理员显示,其余脱敏)。")
    with st.container(key="village_list"):
        picked = ui.render_table(view, "各村清洁取暖进度", ui.selection_key("village_table", f, query), flags=True,
                                 on_select="rerun", selection_mode="single-row")
    rows = picked.selection.rows if picked else []
    if rows:
        village = view.iloc[rows[0]]
        households = ui.cached(queries.load_village_households, ui.access(), village["村编码"], year, as_of, f.routes)
        st.subheader(fmt.escape_markdown(f"{village['县区']} · {village['乡镇']} · {village['村']}({len(households)}户)"))
        ui.render_table(tables.build_household_table(households), f"{village['村']}农户明细", "household_table")
