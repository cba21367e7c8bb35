"""发布记录: the published 通报 (withdrawn ones too, with who and why), their frozen files to
download again byte for byte, and the corrections made since publication (更正记录)."""
import streamlit as st

from retrofit import fmt, publish, queries, tables, ui

f = ui.filters()
ui.render_header("发布记录")
engine = ui.engine()
reports = ui.cached(queries.load_published_reports)
if reports.empty:
    st.info("尚无发布记录。在“会议材料”页或用 python -m retrofit publish 发布通报后,这里列出每一期及其冻结的文件。")
    st.stop()

ui.render_table(tables.build_published_table(reports), "发布记录", "published_reports")

st.subheader("下载发布时的文件")
labels = {r.id: f"{fmt.format_date(r.report_on)} · {r.status} · {r.published_by}(编号 {r.id})" for r in reports.itertuples()}
chosen = st.selectbox("通报", list(labels), format_func=labels.get, key="published_report")
files = ui.cached(queries.load_published_files, chosen)
if files.empty:
    st.caption("该期发布时只冻结了数字与通报文字,没有生成会议材料文件。")
with st.container(horizontal=True, key="published_downloads"):
    for name, mime, digest in zip(files["name"], files["mime"], files["sha256"]):
        st.download_button(name, data=ui.audited(f"已发布通报文件 {name}",
                                                 lambda n=name: publish.load_report_file(engine, chosen, n)),
                           file_name=name, mime=mime, on_click="ignore", icon=":material/download:", help=f"SHA-256 {digest}",
                           key=f"file_{chosen}_{name}")

st.subheader("更正记录")
st.caption("已发布(未撤回)的通报中,今天重新计算与发布时不同的数字:发布的数字不变,差异在此列出。")
dates = sorted(reports["report_on"])
first, last = st.select_slider("发布日期范围", options=dates, value=(dates[0], dates[-1]),
                               format_func=fmt.format_date, key="corrections_range")
corrections = ui.cached(publish.compute_corrections, first, last)
ui.render_table(tables.build_corrections_table(corrections), "更正记录", "corrections")
