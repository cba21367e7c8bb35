"""会议材料: the progress notice (通报) for the current filters, ready to copy, and one click for
the briefing pack (PPTX slides, DOCX / PDF notice) and the ranking workbook. Files are built
when a button is clicked (deferred download), never on every rerun."""
import streamlit as st

from retrofit import exports, fmt, notice, pack, publish, queries, ui
from retrofit.vocab import HEATING, PROGRAMS, RENOVATION

BOTH = "both"
CHOICES = {BOTH: "两项工作", RENOVATION: PROGRAMS[RENOVATION], HEATING: PROGRAMS[HEATING]}

f = ui.filters()
ui.render_header("会议材料")
choice = st.segmented_control("通报范围", list(CHOICES), format_func=CHOICES.get,
                              default=ui.url_choice("program", list(CHOICES), BOTH)) or BOTH
ui.remember_choice("program", choice)
programs = (RENOVATION, HEATING) if choice == BOTH else (choice,)

engine, meta, access = ui.engine(), ui.chart_meta(), ui.access()
scope, previous = f.scope, f.previous
chromium = exports.find_chromium()

st.subheader("一键导出")
if chromium is None:
    st.warning(exports.NO_CHROMIUM + "。幻灯片(含地图)和 PDF 需要 Chromium;Word 与 Excel 仍可导出。")
columns = st.columns(4)
downloads = [("pptx", "幻灯片 PPTX", "标题、主要指标、可编辑排名图、地图、通报", True),
             ("docx", "通报 Word", "公文格式,附排名表", False),
             ("pdf", "通报 PDF", "与 Word 相同,可直接打印", True)]
for column, (kind, label, help_text, needs_browser) in zip(columns, downloads):
    with column:
        st.download_button(
            label, data=ui.audited(f"会议材料 {pack.pack_filename(scope, kind, f.place)}",
                                   lambda kind=kind: pack.build_pack(engine, scope, previous, kind, programs)),
            file_name=pack.pack_filename(scope, kind, f.place), mime=pack.PACK_MIME[kind], help=help_text,
            icon=":material/download:", on_click="ignore", type="primary" if kind == "pptx" else "secondary",
            disabled=needs_browser and chromium is None, width="stretch", key=f"pack_{kind}")
with columns[3]:
    st.download_button(
        "排名表 Excel", data=ui.audited(f"排名表 县区排名_{scope.as_of.isoformat()}.xlsx",
                                     lambda: exports.build_ranking_xlsx(engine, scope, previous, meta, programs)),
        file_name=f"县区排名_{scope.as_of.isoformat()}.xlsx", mime=exports.XLSX_MIME,
        help="主要指标及各项指标的县区排名,每项一张工作表", icon=":material/table:", on_click="ignore",
        width="stretch", key="ranking_xlsx")
st.caption("点击后在服务器端生成文件(幻灯片约需十秒)。图表为 PowerPoint 原生图表,可在 PowerPoint / WPS 中改色、改字。")

st.subheader("发布通报")
published = ui.cached(queries.load_published_report, scope.as_of)
if published is not None:
    files = ui.cached(queries.load_published_files, published["id"])
    st.success(f"{fmt.format_date(scope.as_of)}的通报已于{published['published_at']:%Y-%m-%d %H:%M}由"
               f"{fmt.escape_markdown(published['published_by'])}发布(编号 {published['id']}),以下为发布时冻结的文件,与当时完全一致。",
               icon=":material/verified:")
    with st.container(horizontal=True, key="published_files"):
        for name, mime in zip(files["name"], files["mime"]):
            st.download_button(name, data=ui.audited(f"已发布通报文件 {name}",
                                                     lambda n=name: publish.load_report_file(engine, published["id"], n)),
                               file_name=name, mime=mime, on_click="ignore", icon=":material/download:",
                               key=f"published_{name}")
    if not access.is_admin:
        st.caption("撤回通报由管理员操作。")
    else:
        with st.expander("撤回本期通报"), st.form("withdraw"):
            reason = st.text_area("撤回理由(必填,记录保留)")
            if st.form_submit_button("确认撤回", type="primary"):
                try:
                    publish.withdraw_report(engine, scope.as_of, access, reason)
                    st.rerun()
                except publish.PublishError as error:
                    st.error(str(error))
elif not access.is_admin:
    st.caption("本期尚未发布;发布通报由管理员操作。")
elif scope.counties or scope.plan_year != scope.as_of.year:
    st.info("发布针对全市、当年度的通报:请清空侧栏“县区”并选择截至日期所在年度。")
else:
    with st.form("publish"):
        st.caption(f"发布后,截至{fmt.format_date(scope.as_of)}的各项指标、县区名次、通报全文和会议材料冻结存档,"
                   "此后的数据修正不会改动它们(页面会标出“发布后修正”);下一期的“较上期”默认以此为准。")
        if st.form_submit_button("发布", type="primary", icon=":material/publish:"):
            try:
                with st.spinner("正在生成并冻结会议材料(约需一分钟)…"):
                    publish.publish_report(engine, scope.as_of, previous, access)
                st.rerun()
            except publish.PublishError as error:
                st.error(str(error))

text = ui.cached(notice.build_notice, scope, previous, programs)
if published is not None and programs == (RENOVATION, HEATING):
    text = notice.parse_notice_text(published["notice_text"], scope.as_of)  # the record, not a recomputation
st.subheader("进度通报")
st.caption("本期已发布:以下为发布时的通报原文。" if published is not None and programs == (RENOVATION, HEATING)
           else "数字均取自排名与指标计算,与各页面一致。")
with st.container(border=True, key="notice_text"):
    st.html(notice.SCREEN_CSS + f'<div class="notice">{notice.render_notice_html(text)}</div>')
with st.expander("复制全文(纯文本)"):
    st.code(text.text, language=None, wrap_lines=True)
st.download_button("下载通报文本(TXT)", data=ui.audited(f"通报文本 进度通报_{scope.as_of.isoformat()}.txt",
                                                    lambda: text.text.encode("utf-8-sig")),
                   file_name=f"进度通报_{scope.as_of.isoformat()}.txt", mime="text/plain", on_click="ignore",
                   icon=":material/description:", key="notice_txt")
