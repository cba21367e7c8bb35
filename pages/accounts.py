"""账号管理 (city admins only): accounts (new, disable / enable, password reset with a one-time
password) and the wall's display links (new, revoke). Every change is audited by retrofit.accounts."""
from urllib.parse import urlsplit

import streamlit as st

from retrofit import accounts, queries, ui
from retrofit.vocab import ROLES

ui.filters()
ui.render_header("账号管理")
engine, access = ui.engine(), ui.access()
access.check_admin("账号管理")

if secret := st.session_state.pop("_account_secret", None):
    st.success(secret[0], icon=":material/key:")
    st.code(secret[1], language=None)
    st.caption("此密码或链接只显示这一次,请当面或电话告知本人;首次登录须修改密码。")

table = accounts.load_accounts(engine)
ui.render_table(table, "账号", "accounts_table")

new_tab, change_tab, display_tab = st.tabs(["新建账号", "停用 · 启用 · 重置密码", "大屏链接"])
with new_tab, st.form("new_account"):
    left, middle, right, county_column = st.columns(4)
    login = left.text_input("账号名", placeholder="例如 linyou")
    name = middle.text_input("姓名或单位", placeholder="例如 麟游县住建局 王某")
    role = right.selectbox("角色", list(ROLES), format_func=ROLES.get)
    county = county_column.selectbox("县区(县区填报员)", [""] + list(ui.cached(queries.load_counties)["county"]),
                                     format_func=lambda c: c or "—(领导、管理员不选)")
    if st.form_submit_button("新建", type="primary"):
        try:
            password = accounts.add_account(engine, access, login, name, role, county or None)
        except accounts.AccessRefused as refused:
            st.error(str(refused))
        else:
            st.session_state["_account_secret"] = (f"已新建账号 {login}({ROLES[role]}),一次性密码:", password)
            st.rerun()

with change_tab:
    left, middle, right, last = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    chosen = left.selectbox("账号", list(table["账号"]), key="account_choice")
    actions = {"disable": middle.button("停用", key="account_disable", disabled=chosen == access.who),
               "enable": right.button("启用", key="account_enable"),
               "reset": last.button("重置密码", key="account_reset")}
    try:
        if actions["disable"] or actions["enable"]:
            accounts.set_disabled(engine, access, chosen, disabled=actions["disable"])
            st.rerun()
        if actions["reset"]:
            password = accounts.reset_password(engine, access, chosen)
            st.session_state["_account_secret"] = (f"已重置账号 {chosen} 的密码并解除锁定,一次性密码:", password)
            st.rerun()
    except accounts.AccessRefused as refused:
        st.error(str(refused))

with display_tab:
    st.caption("大屏链接只能打开大屏页面,不需要登录,适合会议室无人值守的投屏;吊销后立即失效。")
    links = accounts.load_display_tokens(engine)
    if len(links):
        ui.render_table(links, "大屏链接", "display_links")
    with st.form("new_display"):
        label = st.text_input("名称", placeholder="例如 三楼会议室")
        if st.form_submit_button("新建大屏链接", type="primary"):
            token = accounts.create_display_token(engine, access, label)
            parts = urlsplit(st.context.url or "")
            base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
            st.session_state["_account_secret"] = ("已新建大屏链接,在大屏的浏览器中打开:",
                                                   f"{base}/screen?display={token}&refresh=60&rotate=20")
            st.rerun()
    active = links[links["状态"] == "在用"] if len(links) else links
    if len(active):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        revoke = left.selectbox("吊销", list(active["编号"]), key="display_choice",
                                format_func=lambda i: f"{i} · {active.set_index('编号').loc[i, '名称']}")
        if right.button("吊销所选链接", key="display_revoke"):
            accounts.revoke_display_token(engine, access, int(revoke))
            st.rerun()
