"""Entry point: page config, the sign-in gate, navigation by role and the shared filters.
Pages live in pages/; which of them an account may open is ui.PAGE_SPECS."""
import streamlit as st

from retrofit import ui

# No page icons: a Material icon also becomes the favicon, which Streamlit fetches from Google
# (unreachable here), and emoji need a colour-emoji font the wall's machine may lack.
st.set_page_config(page_title=ui.APP_TITLE, layout="wide")

# A store that is missing, locked, corrupt, foreign or unreachable stops the page with a Chinese
# message saying what to do (no English traceback: see client.showErrorDetails). Nobody gets
# past the gate without a sign-in or the wall's display link; the login page stops the run.
with ui.store_errors():
    access = ui.require_access()

with ui.store_errors():
    PAGES = [st.Page(spec.path, title=ui.build_page_title(spec), url_path=spec.url_path)
             for spec in ui.pages_for(access)]
# A page this account may not open answers its address with a refusal (audited), never the page.
REFUSALS = [st.Page(ui.build_refusal(spec), title=spec.title, url_path=spec.url_path, visibility="hidden")
            for spec in ui.forbidden_pages(access)]
first = PAGES[0]  # the overview, or the wall for its display link
# The app root forwards to the first page with the same query, so that links to either work.
START = st.Page(lambda: st.switch_page(first, query_params=ui.current_query_params()),
                title=first.title, url_path="start", default=True, visibility="hidden")

page = st.navigation([START] + PAGES + REFUSALS)
st.session_state["_app_ran"] = True
with ui.store_errors():
    ui.announce_store_note()
    if page.url_path == "screen":
        ui.hide_chrome()
    else:
        ui.render_account_bar(access)
        st.session_state["_filters"] = ui.render_filters()
    page.run()
