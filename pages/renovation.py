"""老旧小区改造: stage funnel by batch, stages per county, investment, funds, and the
community list with a drill-down to one community's stage timeline."""
import streamlit as st

from retrofit import charts, fmt, queries, report, tables, ui
from retrofit.measures import AGE_BANDS, OLDEST_BAND, compute_step_buckets
from retrofit.settings import RETENTION_AGE_DAYS
from retrofit.vocab import NO_STAGE, RENOVATION, STAGE_STANDING, STAGES

f = ui.filters()
ui.render_header("老旧小区改造")
meta = ui.chart_meta()
ui.require_plan(RENOVATION)
progress = ui.cached(queries.load_renovation_progress, f.scope.plan_year, f.scope.as_of, f.scope.counties)
totals = ui.totals(RENOVATION)

cols = st.columns(5)
cols[0].metric(f"{f.scope.plan_year}年批次小区", fmt.format_count(totals["communities"], "个"), border=True)
cols[1].metric("涉及居民", fmt.format_households(totals["households"]), border=True)
cols[2].metric("改造面积", fmt.format_area(totals["floor_area_m2"]), border=True)
cols[3].metric("计划投资", fmt.format_yuan(totals["planned_investment_yuan"]), border=True)
cols[4].metric("加装电梯 · 示范小区", f"{int(totals['elevators_added'])}部 · {int(totals['demonstration_communities'])}个",
               border=True)

stages_tab, money_tab, funds_tab, list_tab = st.tabs(["改造进度", "投资完成", "资金拨付与留置", "小区清单"])

with stages_tab:
    left, right = st.columns(2)
    with left:
        ui.render_chart(ui.view("batch_funnel", (), lambda: charts.build_batch_progress_figure(
            ui.cached(queries.load_batch_progress, f.scope.as_of, f.scope.counties), [s.label for s in STAGES], meta)),
            "batch_funnel")
    with right:
        ui.render_chart(ui.view("stage_by_county", (), lambda: charts.build_stage_by_county_figure(
            progress, compute_step_buckets(progress, [f"{s.key}_communities" for s in STAGES], list(STAGE_STANDING),
                                           "communities", NO_STAGE), meta)), "stage_by_county", clickable=True)

with money_tab:
    left, right = st.columns([3, 2])
    with left:
        ui.render_chart(ui.view("investment", (), lambda: charts.build_investment_figure(progress, meta)), "investment",
                        clickable=True)
    with right:
        st.markdown("**投资完成率排名**(完整表格见“排名”)")
        ui.render_table(ui.view("investment_ranking", (), lambda: tables.build_compact_ranking_table(
            ui.cached(report.rank_measure, RENOVATION, "investment_rate", f.scope, f.previous), f.unit)),
            "老旧小区改造投资完成率排名", "investment_ranking", flags=True)

with funds_tab:
    retained = ui.cached(report.compute_retained_funds, f.scope, RENOVATION)
    left, right = st.columns(2)
    with left:
        ui.render_chart(ui.view("funds_by_source", (), lambda: charts.build_funds_by_source_figure(
            ui.cached(report.compute_fund_balance, f.scope, RENOVATION), meta)), "funds_by_source")
    with right:
        bands = [label for _, label in AGE_BANDS] + [OLDEST_BAND]
        ui.render_chart(ui.view("retained_by_county", (), lambda: charts.build_retained_by_county_figure(
            retained, bands, meta)), "retained_by_county", clickable=True)
    st.markdown(f"**已下达未拨付明细**(截至{fmt.format_date(f.scope.as_of)};标红为资金留置:往年资金未拨付,"
                f"或下达超过{RETENTION_AGE_DAYS}天仍分文未拨付)")
    ui.render_table(ui.view("retained_detail", (), lambda: tables.build_retained_table(retained)), "已下达未拨付明细",
                    "retained_detail", flags=True)

with list_tab:
    detail = ui.detail_scope(f)  # a clerk's own county, whatever the URL asks
    query = st.text_input("搜索小区、街道或县区", placeholder="例如:家属院 / 经二路 / 凤翔区")
    total = ui.cached(queries.count_communities, ui.access(), detail.plan_year, detail.as_of, detail.counties,
                      f.stages, query)
    st.caption(f"共 {total:,} 个小区;红色为已过计划日期仍未完成的阶段。点选一行查看阶段详情。")
    list_key = ui.selection_key("community_table", f, query)
    offset, limit = ui.render_pager(list_key, total) if total > min(ui.PAGE_SIZES) else (0, min(ui.PAGE_SIZES))
    communities = ui.cached(report.compute_community_page, ui.access(), detail, f.stages, query, offset, limit)
    view = tables.build_community_table(communities)
    engine, access = ui.engine(), ui.access()
    with st.container(key="community_list"):
        picked = ui.render_table(view, f"{f.scope.plan_year}年度改造小区清单", list_key, late_column="逾期阶段",
                                 on_select="rerun", selection_mode="single-row",
                                 whole=lambda: tables.build_community_table(
                                     report.compute_communities(engine, access, detail, f.stages), query))
    rows = picked.selection.rows if picked else []
    if rows:
        community = communities.iloc[rows[0]]
        st.subheader(fmt.escape_markdown(f"{community['county']} · {community['street']} · {community['name']}"))
        left, right = st.columns([3, 2])
        with left:
            ui.render_chart(charts.build_stage_timeline_figure(community, STAGES, meta), "community_timeline")
        with right:
            ui.render_table(tables.build_community_facts(community), f"{community['name']}基本情况", "community_facts")
