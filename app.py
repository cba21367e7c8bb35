"""Entry point: page config, navigation and the shared filters. Pages live in pages/."""
import streamlit as st

from retrofit import ui

# No page icons: a Material icon also becomes the favicon, which Streamlit fetches from Google
# (unreachable here), and emoji need a colour-emoji font the wall's machine may lack.
st.set_page_config(page_title=ui.APP_TITLE, layout="wide")

overview = st.Page("pages/overview.py", title="总览", url_path="overview")
PAGES = [
    overview,
    st.Page("pages/renovation.py", title="老旧小区改造", url_path="renovation"),
    st.Page("pages/heating.py", title="清洁取暖", url_path="heating"),
    st.Page("pages/ranking.py", title="县区排名", url_path="ranking"),
    st.Page("pages/map.py", title="地图", url_path="map"),
    st.Page("pages/briefing.py", title="会议材料", url_path="briefing"),
    st.Page("pages/published.py", title="发布记录", url_path="published"),
    st.Page("pages/screen.py", title="大屏", url_path="screen"),
    st.Page("pages/intake.py", title="数据填报", url_path="intake"),
    st.Page("pages/imports.py", title="导入记录", url_path="imports"),
]
# The app root forwards to /overview with the same query, so that links to either work.
START = st.Page(lambda: st.switch_page(overview, query_params=ui.current_query_params()),
                title="总览", url_path="start", default=True, visibility="hidden")

page = st.navigation([START] + PAGES)
st.session_state["_app_ran"] = True
# A store that is missing, locked, corrupt, foreign or unreachable stops the page with a Chinese
# message saying what to do (no English traceback: see client.showErrorDetails).
with ui.store_errors():
    ui.announce_store_note()
    if page.url_path == "screen":
        ui.hide_chrome()
    else:
        st.session_state["_filters"] = ui.render_filters()
    page.run()
