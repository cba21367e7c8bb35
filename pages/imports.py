"""导入记录: every import (when, who, county, file, counts, status), and undo of one import
after a confirmation: the values it replaced come back, the rows it added go."""
import streamlit as st

from retrofit import ui
from retrofit.intake import commit

ui.filters()
ui.render_header("导入记录")
engine = ui.engine()
commit.ensure_intake_tables(engine)
log = commit.load_imports(engine, ui.access())
if log.empty:
    st.info("还没有导入记录。在“数据填报”页上传县区填报的文件并确认导入后,记录会列在这里。")
    st.stop()
ui.render_table(log, "导入记录", "imports_table")
if "undo_done" in st.session_state:
    st.success(st.session_state.pop("undo_done"))

undoable = log[log["状态"] == commit.IMPORTED]
st.subheader("撤销导入")
if undoable.empty:
    st.caption("没有可撤销的导入(已撤销或无变化的导入不能再撤销)。")
    st.stop()
labels = {int(r["编号"]): f"第 {r['编号']} 次 · {r['导入时间(UTC)']} · {r['县区']} · {r['文件']}(新增 {r['新增']},修改 {r['修改']})"
          for _, r in undoable.iterrows()}
chosen = st.selectbox("选择导入", list(labels), format_func=labels.get, key="undo_choice")
if st.button("撤销所选导入", key="undo_ask"):
    st.session_state["undo_pending"] = chosen
if st.session_state.get("undo_pending") == chosen:
    st.warning(f"确定撤销{labels[chosen]}?该次导入替换的值将恢复,新增的行将删除。")
    yes, no = st.columns([1, 6])
    if yes.button("确认撤销", type="primary", key="undo_confirm"):
        st.session_state.pop("undo_pending")
        try:
            counts = commit.undo_import(engine, chosen, ui.access())
        except commit.ImportRefused as refused:
            st.error(str(refused))
            st.stop()
        ui.refresh_store()
        st.session_state["undo_done"] = f"已撤销第 {chosen} 次导入:恢复 {counts['restored']:,} 行,删除 {counts['deleted']:,} 行。"
        st.rerun()
    if no.button("取消", key="undo_cancel"):
        st.session_state.pop("undo_pending")
        st.rerun()
