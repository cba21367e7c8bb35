"""操作日志 (city admins only): the append-only audit trail, filtered by date, person and action,
and exported (the export itself is audited)."""
from datetime import timedelta

import streamlit as st

from retrofit import audit, ui

f = ui.filters()
ui.render_header("操作日志")
engine, access = ui.engine(), ui.access()
access.check_admin("查看操作日志")

today = audit.utc_now().date()
left, middle, right = st.columns([2, 2, 3])
days = left.date_input("日期(UTC)", value=(today - timedelta(days=30), today), key="audit_days",
                       format="YYYY-MM-DD")
who = middle.text_input("操作人(包含)", key="audit_who", placeholder="例如 longxian")
actions = right.multiselect("操作", list(audit.ACTIONS), key="audit_actions", placeholder="全部操作")
since, until = (days[0], days[-1]) if isinstance(days, tuple) and days else (None, None)
log = audit.load_audit(engine, since, until, who, tuple(actions))
st.caption(f"共 {len(log):,} 条;记录只增不改,导出本表也会记入日志。")
ui.render_table(log, "操作日志", "audit_table")
