"""数据填报: a county downloads its template (its current rows pre-filled), uploads the filled
file, sees every error (table and its own file marked in red), fixes it, previews what would
change (rows, fields, the county's measures) and confirms the import."""
import hashlib

import streamlit as st

from retrofit import db, queries, ui
from retrofit.intake import commit, markup, templates, validate
from retrofit.intake.sheets import PROGRAM_LABELS, PROGRAM_SHEETS

CITY_WIDE = "全市"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

f = ui.filters()
ui.render_header("数据填报")
engine, access = ui.engine(), ui.access()
commit.ensure_intake_tables(engine)
county_table = ui.cached(queries.load_counties)
counties = list(county_table["county"])

st.subheader("1. 下载模板")
st.caption("模板预填库中现有数据:在原行上修改、在末尾追加新行,不要删除编码列。带 * 的列必填,可选值有下拉列表。")
left, middle, right, button = st.columns([2, 2, 1, 2], vertical_alignment="bottom")
program = left.selectbox("类别", list(PROGRAM_SHEETS), format_func=PROGRAM_LABELS.get, key="template_program")
county_options = counties if program in ("heating", "renovation") else [CITY_WIDE] + counties
if access.county_name:  # a clerk fills in their own county only (the data layer refuses any other)
    county_options = [access.county_name]
default_county = f.county_names[0] if len(f.county_names) == 1 and f.county_names[0] in county_options else None
county = middle.selectbox("县区", county_options, key="template_county",
                          index=county_options.index(default_county) if default_county else 0)
year = right.number_input("年度", min_value=2000, max_value=2100, value=f.scope.plan_year, step=1, key="template_year")
place = None if county == CITY_WIDE else county
button.download_button("下载模板", data=ui.audited(f"填报模板 {county}{int(year)}年度{PROGRAM_LABELS[program]}",
                                                 lambda: templates.build_template(engine, access, program, place, int(year))),
                       file_name=f"{county}{int(year)}年度{PROGRAM_LABELS[program]}填报模板.xlsx", mime=XLSX_MIME,
                       on_click="ignore", icon=":material/download:", key="template_download")

st.subheader("2. 上传填好的文件")
left, right = st.columns([3, 2])
upload = left.file_uploader("选择文件(.xlsx、.xls 或 .csv,CSV 可为 UTF-8 或 GBK 编码)", type=["xlsx", "xls", "csv"],
                            key="intake_file")
data_date = right.date_input("数据截至日期", value=ui.cached(db.load_data_date), key="intake_date",
                             help="表中日期不得晚于此日期;导入后库的数据日期随之更新")
if "intake_done" in st.session_state:
    st.success(st.session_state.pop("intake_done"))
if upload is None:
    st.stop()

content = upload.getvalue()
digest = hashlib.sha256(content).hexdigest()
result = ui.remember(("check", digest, data_date, ui.store_key()),
                     lambda: validate.check_file(engine, content, upload.name, data_date))
if result.county_adcode is not None or result.ok:
    # Another county's file is refused (and audited) before anything of it is shown, errors included:
    # an error may quote what the store holds for a code (such as the village a household is in).
    access.check_import(result.county_adcode)
if not result.ok:
    errors = result.error_table()
    st.error(f"“{upload.name}”有 **{len(errors)}** 处错误,未导入任何数据。请按下表修改后重新上传;"
             f"也可下载标红批注的原文件,在 Excel 中逐格修改。")
    ui.render_table(errors, "错误表", "intake_errors", column_config={
        "工作表": st.column_config.TextColumn(width=90), "行号": st.column_config.NumberColumn(width=60),
        "列": st.column_config.TextColumn(width=150), "填写值": st.column_config.TextColumn(width=200),
        "问题": st.column_config.TextColumn(width=900)})
    marked = ui.remember(("marked", digest, data_date, ui.store_key()),
                         lambda: markup.build_marked_file(content, result))
    if marked is not None:
        st.download_button("下载标红批注的文件",
                           data=ui.audited(f"错误标注 {upload.name}", lambda: marked),
                           file_name=f"错误标注_{upload.name.rsplit('.', 1)[0]}.xlsx", mime=XLSX_MIME,
                           icon=":material/download:", key="marked_download", type="primary")
    st.stop()

st.subheader("3. 预览")
preview = ui.remember(("preview", digest, data_date, ui.store_key()), lambda: commit.build_preview(engine, result, access))
counts = preview.counts
place_name = dict(zip(county_table["adcode"], county_table["county"])).get(result.county_adcode, CITY_WIDE)
st.markdown(f"文件 **{upload.name}** · {place_name} · 工作表 {'、'.join(s.name for s in result.sheets)} · "
            f"数据截至 {data_date.isoformat()}")
a, b, c = st.columns(3)
a.metric("新增行", f"{counts['inserted']:,}")
b.metric("修改行", f"{counts['updated']:,}")
c.metric("未变行", f"{counts['unchanged']:,}")
if len(preview.effect):
    st.markdown(f"**对{place_name}指标的影响**(截至 {data_date.isoformat()}):{commit.describe_effect(preview.effect)}")
    ui.render_table(preview.effect, f"{place_name}导入前后指标", "intake_effect")
if len(preview.changes):
    st.markdown("**修改的字段**(原值 → 新值)")
    ui.render_table(preview.changes, "修改明细", "intake_changes")
if len(preview.new_rows):
    st.markdown("**新增的行**")
    ui.render_table(preview.new_rows, "新增明细", "intake_new")
if preview.changes_nothing:
    st.info("文件与库中数据完全一致,导入不会改变任何数据。")

st.subheader("4. 确认导入")
st.caption(f"在一个事务中导入:全部成功或全部不写入,导入人记为 {access.who}。导入后可在“导入记录”页撤销。")
if st.button("确认导入", type="primary", key="intake_commit"):
    try:
        log_id = commit.commit_import(engine, result, access)
    except commit.ImportRefused as refused:
        st.error(str(refused))
        st.stop()
    ui.refresh_store()
    st.session_state["intake_done"] = (f"已导入“{upload.name}”:新增 {counts['inserted']:,} 行,修改 {counts['updated']:,} 行"
                                       f"(导入记录编号 {log_id},可在“导入记录”页撤销)。")
    st.session_state.pop("_remembered", None)
    st.rerun()
