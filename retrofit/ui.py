"""Streamlit glue, and the only module of `retrofit` that imports streamlit: the cached engine
and results, the filters every page shares, and the few widgets all pages use alike."""
import hashlib
import importlib
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.pages_manager import PagesManager

from . import accounts, audit, db, demo, exports, fmt, history, publish, queries, report, screen, store
from .accounts import ADMIN, CLERK, DISPLAY, LEADER, Access, AccessRefused
from .charts import ChartMeta
from .measures import FLAG_LABELS_SHORT
from .report import Scope
from .settings import FLAG_COLOURS, REVISION_CHECK_S, SESSION_COOKIE, SESSION_HOURS, database_url
from .vocab import NO_STAGE, PROGRAMS, ROUTES, STAGE_STANDING

APP_TITLE = "老旧小区改造与清洁取暖调度"
FIRST_YEAR = 2021

# Streamlit starts in its legacy "pages/ folder" mode until some session has called
# st.navigation; until then a deep link such as /renovation runs the page file alone, without
# app.py (no filters, no navigation). Our pages live in pages/ by design, so leave that mode
# as soon as any page imports this module; `require_app` reruns the one affected run.
PagesManager.uses_pages_directory = False


def require_app() -> None:
    """Rerun through app.py when a page was started without it (see above): also when this run
    is Streamlit's legacy pages-folder mode, which runs a page file alone, past the sign-in gate
    and the role's page list (tests/app/test_access.py opens each forbidden page that way)."""
    if "_app_ran" not in st.session_state or ACCESS not in st.session_state or PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="正在准备数据库(首次启动会生成演示数据,约需十秒)…")
def _open_store(url: str) -> tuple[Engine, str | None]:
    """One engine per database URL for the whole server, and a note when the demo city was
    built (an empty store) or rebuilt (a demo store of an older schema). A store that cannot be
    read raises StoreFault, which is not cached: the next run looks again."""
    engine = db.make_engine(url)
    try:
        note = demo.ensure_store(engine)
    except BaseException:
        engine.dispose()
        raise
    if note:
        logging.getLogger(__name__).warning("%s: %s", note, store.describe_store(url))
    return engine, note


def get_engine(url: str) -> Engine:
    return _open_store(url)[0]


def engine() -> Engine:
    return get_engine(database_url())


def announce_store_note() -> None:
    """Tell each session once when the demo city was built or rebuilt for it."""
    note = _open_store(database_url())[1]
    if note and not st.session_state.get("_store_note_shown"):
        st.session_state["_store_note_shown"] = True
        st.toast(note, icon=":material/info:")


@contextmanager
def store_errors():
    """Run a page; a store fault (missing, locked, corrupt, foreign, unreachable, another schema
    version) stops it with a Chinese message saying what is wrong and what to do, instead of an
    English traceback. The details go to the server log. A request beyond the account's scope
    (accounts.AccessRefused, raised where the data is read) stops it with the refusal, audited."""
    try:
        yield
    except AccessRefused as refused:
        who = st.session_state.get(ACCESS)
        if who is not None:
            audit.record(engine(), who.who, who.source, audit.REFUSED,
                         f"{refused}(页面 {st.context.url or ''})")
        st.error(str(refused), icon=":material/lock:")
        st.stop()
    except store.STORE_ERRORS as error:
        fault = store.describe_error(error, database_url())
        logging.getLogger(__name__).warning("store fault (%s): %r", fault.kind, error)
        st.error(fmt.escape_markdown(str(fault)), icon=":material/database:")
        st.stop()


@st.cache_data(ttl=REVISION_CHECK_S, show_spinner=False)
def _revision(url: str) -> str:
    """The store's revision, read at most every REVISION_CHECK_S seconds (a page makes a dozen
    cached calls). Per process, like every st.cache_data: each app server reads it for itself."""
    return db.load_revision(get_engine(url))


def store_key() -> str:
    """Changes whenever the data changes (the store's revision), so cached results follow."""
    url = database_url()
    return f"{url}#{_revision(url)}"  # store id:revision, so a rebuild never reuses a key


@st.cache_resource(max_entries=4, show_spinner=False)
def _shared_work(store: str) -> tuple[dict, threading.Lock]:
    """One data revision's reads shared by every cached call (report.sharing_work), per server."""
    return {}, threading.Lock()


@st.cache_data(max_entries=1024, show_spinner=False)
def _cached_call(store: str, function: str, args: tuple, kwargs: tuple, reported_on: date | None = None):
    module, name = function.rsplit(".", 1)
    url = store.rsplit("#", 1)[0]
    target = getattr(importlib.import_module(module), name)
    if reported_on is not None:
        return history.compute_as_reported(get_engine(url), reported_on, target, *args, **dict(kwargs))
    engine = get_engine(url)
    with report.sharing_work(engine, *_shared_work(store)):
        return target(engine, *args, **dict(kwargs))


def cached(function, *args, **kwargs):
    """`function(engine, *args, **kwargs)` for a retrofit function, cached per data revision; on
    the store as reported at the end of the as-of date when the sidebar asks for that (口径)."""
    assert function.__module__.startswith("retrofit."), "only retrofit functions are cached"
    return _cached_call(store_key(), f"{function.__module__}.{function.__qualname__}", args,
                        tuple(sorted(kwargs.items())), reported_day())


@st.cache_resource(max_entries=256, show_spinner=False)
def _built(key: str, _build):
    return _build()


def view(name: str, parts: tuple, build):
    """`build()` (a figure, a map, a display table: what a page draws) once per data revision
    for this page element `name`, the sidebar filters, the reader's role and county, the 口径
    and `parts` (the page's own choices), shared by every session of this server: a warm rerun
    re-emits what was built instead of rebuilding it in Python. The object is shared: never
    change it after it is built."""
    current = st.session_state.get(ACCESS)
    reader = (current.role, current.county_adcode) if current else None
    key = repr((store_key(), reported_day(), filters(), reader, name, parts))
    return _built(hashlib.sha256(key.encode()).hexdigest(), build)


def wall_view(name: str, parts: tuple, build):
    """`build()` once per data revision, 口径 and `parts`, shared by every session: `view` for
    the wall, which has no sidebar filters and shows every reader the same, so `parts` must name
    everything the built object depends on (its scope, panel, measure, viewport)."""
    key = repr((store_key(), reported_day(), "wall", name, parts))
    return _built(hashlib.sha256(key.encode()).hexdigest(), build)


REPORTED = "reported"  # the sidebar's 口径 choice and its URL parameter: as reported on the as-of date
READINGS = {"now": "按现有数据", REPORTED: "按当日已报送"}


def reported_day() -> date | None:
    """The as-of date when the user reads the store as reported on it, else None (as of it, now).
    The desk reads the sidebar's choice; the wall, which has no sidebar, its URL
    (?reported=reported, with ?as_of= or else the data date)."""
    if st.session_state.get(REPORTED, st.query_params.get(REPORTED)) != REPORTED:
        return None
    as_of = st.session_state.get("as_of")
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(st.query_params.get("as_of", ""))
    except ValueError:
        return db.load_data_date(engine())


# ---- shared filters (sidebar, bound to the URL) ---------------------------------------------

# The sidebar's URL parameters (city and level only in a store of several cities).
FILTER_KEYS = ("city", "level", "county", "year", "as_of", "previous", "stage", "route", "reported")
LEVEL_LABELS = {report.COUNTY_LEVEL: "县区", report.CITY_LEVEL: "各市"}


@dataclass(frozen=True)
class Filters:
    """What the user chose in the sidebar; every page reads it through `filters()`."""
    scope: Scope
    previous: date | None
    county_names: tuple[str, ...]
    stages: tuple[str, ...]
    routes: tuple[str, ...]
    place: str = "全市"            # the scope in words (report.describe_place)
    city_name: str = ""            # the city chosen in a province store

    @property
    def unit(self) -> str:
        """What the rankings rank: 县区, or 市 at the city level."""
        return self.scope.unit

    @property
    def county_scope(self) -> Scope:
        """The scope at the county level: what maps and county lists show whatever the ranking level."""
        return replace(self.scope, level=report.COUNTY_LEVEL)


def _report_label(day: date, kinds: dict[date, str]) -> str:
    return f"{day.isoformat()}({kinds.get(day, '')})"


def render_filters() -> Filters:
    """The sidebar filters, each bound to a URL query parameter (bind="query-params"), so a
    copied link reproduces the view and the choice survives switching pages."""
    data_date = cached(db.load_data_date)
    counties = cached(queries.load_counties)
    years = sorted(set(cached(queries.load_years, "renovation")) | set(cached(queries.load_years, "heating")))
    reports = cached(queries.load_report_dates)
    # Read before the widgets: a bound widget drops a value it cannot take from the URL silently.
    notes = screen.list_filter_notes(
        {key: st.query_params.get_all(key) for key in FILTER_KEYS}, data_date, counties["county"].tolist(), years,
        reports, [NO_STAGE, *STAGE_STANDING], list(ROUTES))
    cities = cached(queries.load_cities)
    whole = cached(report.describe_whole)
    with st.sidebar:
        st.markdown("**筛选条件** · 随链接保存")
        city_name, level = None, report.COUNTY_LEVEL
        if len(cities) > 1:  # a province store: choose a city, and whether rankings rank cities
            city_name = st.selectbox("市", cities["city"].tolist(), index=None, key="city", bind="query-params",
                                     placeholder=f"{whole}(全部市)")
            level = st.segmented_control(
                "排名层级", list(LEVEL_LABELS), format_func=LEVEL_LABELS.get, default=report.CITY_LEVEL,
                key="level", bind="query-params",
                help="各市:全省各市排名(各市数字为所辖县区合计);县区:全省县区排名,选了市则为该市所辖县区排名"
            ) or report.CITY_LEVEL
            if city_name:
                counties = counties[counties["city_adcode"] == cities.loc[cities["city"] == city_name, "adcode"].iloc[0]]
        names = st.multiselect("县区", counties["county"].tolist(), key="county", bind="query-params",
                               placeholder=f"{city_name or whole}(可多选)", select_all=False)
        year = st.selectbox("年度批次/计划年度", years, index=years.index(data_date.year) if data_date.year in years
                            else len(years) - 1, key="year", bind="query-params", placeholder="选择年度")
        as_of = st.date_input("数据截至", value=data_date, min_value=date(FIRST_YEAR, 1, 1), max_value=data_date,
                              key="as_of", bind="query-params", format="YYYY-MM-DD")
        st.segmented_control("口径", ["now", REPORTED], format_func=READINGS.get, default="now", key=REPORTED,
                             bind="query-params", help="按现有数据:截至日期及以前的事实,含此后的更正;"
                             "按当日已报送:截至日期当天结束时平台已有的数据(撤回此后记录的导入与更正)")
        default = cached(report.previous_report_date, as_of)
        earlier = sorted({d.isoformat() for d in reports if d < as_of} | ({default.isoformat()} if default else set()),
                         reverse=True)
        previous = st.selectbox("对比上期(调度日期)", earlier, index=earlier.index(default.isoformat()) if default else None,
                                key="previous", help="默认对比此前最近一次已发布的通报;尚无发布时对比最近一次调度",
                                bind="query-params", placeholder="无")
        stages = st.multiselect("改造阶段(小区)", [NO_STAGE, *STAGE_STANDING], key="stage", bind="query-params",
                                placeholder="全部阶段", select_all=False,
                                help="只作用于小区清单和地图上的小区点位;指标与排名始终按全部小区计算")
        routes = st.multiselect("技术路线(农户)", list(ROUTES), key="route", bind="query-params",
                                placeholder="全部路线", select_all=False,
                                help="只作用于技术路线构成、经济账、村户清单和地图上的村点位;指标与排名按全部农户计算")
    _keep_filter_notes(notes, (tuple(names), year, as_of, previous, tuple(stages), tuple(routes)))
    adcodes = tuple(counties.loc[counties["county"].isin(names), "adcode"])
    city = cities.loc[cities["city"] == city_name, "adcode"].iloc[0] if city_name else ""
    scope = cached(report.build_scope, as_of, year, adcodes, city, level)
    return Filters(scope=scope, previous=date.fromisoformat(previous) if previous else None,
                   county_names=tuple(names), stages=tuple(stages), routes=tuple(routes),
                   place=cached(report.describe_place, scope), city_name=city_name or "")


def _keep_filter_notes(notes: tuple[str, ...], chosen: tuple) -> None:
    """Remember the notes on URL values that could not be used until the user changes a filter:
    the widgets have by then taken the bad values off the URL, and a rerun (the root forwarding
    to /overview, a click in a chart) must not make the note vanish unexplained."""
    if notes:
        st.session_state["_filter_notes"], st.session_state["_filter_notes_for"] = notes, chosen
    elif st.session_state.get("_filter_notes_for") != chosen:
        st.session_state["_filter_notes"], st.session_state["_filter_notes_for"] = (), None


def totals(program: str) -> dict[str, int]:
    """The scope's plain totals of one program (communities, target_households, …)."""
    prefix = f"{program}."
    return {k.removeprefix(prefix): v for k, v in cached(report.compute_totals, filters().scope).items()
            if k.startswith(prefix)}


def require_plan(program: str) -> None:
    """Stop the page with a note when the chosen year has no plan for `program`."""
    years = cached(queries.load_years, program)
    year = filters().scope.plan_year
    if year not in years:
        st.info(f"{year}年度无{PROGRAMS[program]}计划,可选{years[0]}–{years[-1]}年度(侧栏“年度”)。")
        st.stop()


def selection_key(name: str, *parts) -> str:
    """A table key that changes with what the table shows (filters, search), so a picked row
    is forgotten when the rows change instead of pointing at whatever row now sits there."""
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:10]
    return f"{name}_{digest}"


def filters() -> Filters:
    """The filters app.py rendered for this run."""
    require_app()
    return st.session_state["_filters"]


def select_county(chart_key: str) -> None:
    """Callback for a chart or map click: filter every page to the clicked county (or counties).
    Runs before the rerun, so it may set the sidebar widget's value."""
    state = st.session_state.get(chart_key) or {}
    selection = state.get("selection") or {}
    names = []
    for point in selection.get("points", []):
        data = point.get("customdata")
        name = data[0] if isinstance(data, list | tuple) and data else None
        if isinstance(name, str) and name not in names:
            names.append(name)
    for obj in (selection.get("objects") or {}).values():  # pydeck: layer id -> picked objects
        names += [o["county"] for o in obj if o.get("county") and o["county"] not in names]
    if names:
        st.session_state["county"] = names


# ---- widgets every page uses alike ----------------------------------------------------------

def chart_meta() -> ChartMeta:
    return ChartMeta(filters().scope.as_of, cached(db.load_is_demo), cached(report.describe_source))


def render_header(title: str) -> None:
    """Page title with the as-of date, scope and the demo mark; a link to the big screen."""
    f = filters()
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    with left:
        st.title(fmt.escape_markdown(title))  # titles carry stored county names
        demo_mark = " · :red-badge[演示数据]" if cached(db.load_is_demo) else ""
        previous = f" · 对比上期 {fmt.format_date(f.previous)}" if f.previous else ""
        previous += " · 口径:**当日已报送**" if reported_day() else ""
        st.markdown(f"数据截至 **{fmt.format_date(f.scope.as_of)}** · {f.scope.plan_year}年度 · "
                    f"范围:**{fmt.escape_markdown(f.place)}**{previous}{demo_mark}")
        if notes := st.session_state.get("_filter_notes"):
            st.caption("地址栏参数有误:" + fmt.escape_markdown(";".join(notes)), help="已按默认值显示;"
                       "修改侧栏筛选条件后,地址栏随之更新")
        if f.scope.as_of.year < f.scope.plan_year:
            st.warning(f"数据截至日期早于{f.scope.plan_year}年度计划期,该年度各项进度尚未开始;"
                       f"查看往年情况请同时调整侧栏“年度”。")
        published = cached(publish.describe_publication, f.scope.as_of)
        if published:
            st.info(fmt.escape_markdown(published), icon=":material/verified:")
    with right:
        # A new browser tab (a fresh session) for the wall: the current filters travel in the link,
        # and no sidebar widget of this session can take them back off the URL.
        st.link_button("投屏", "screen?" + urlencode(screen_params(), doseq=True), icon=":material/cast:")


def screen_params() -> dict:
    """The current filters as query parameters of the big-screen page."""
    f = filters()
    params = {"as_of": f.scope.as_of.isoformat(), "year": str(f.scope.plan_year)}
    if f.city_name:
        params["city"] = f.city_name
    if f.county_names:
        params["county"] = list(f.county_names)
    if reported_day():
        params[REPORTED] = REPORTED  # the wall reads the same 口径
    return params


def render_chart(fig: go.Figure, key: str, clickable: bool = False) -> None:
    """A plotly chart with PNG (print resolution) / SVG / PDF downloads made on the server when
    clicked. The chart's own camera button still saves a PNG in the browser. When
    `clickable`, clicking a county filters every page to it."""
    config = {"displaylogo": False,
              "toImageButtonOptions": {"format": "png", "scale": 3, "filename": key},
              "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
    if clickable:
        st.plotly_chart(fig, key=key, config=config, on_select=lambda: select_county(key),
                        selection_mode="points")
    else:
        st.plotly_chart(fig, key=key, config=config)
    render_figure_downloads(fig, key)


def _file_stem(title: str) -> str:
    """A file name from a title and the as-of date: '各县区完成率排名_2026-11-20'."""
    clean = "".join(ch for ch in title if ch not in '\\/:*?"<>|').strip() or "图表"
    return f"{clean}_{filters().scope.as_of.isoformat()}"


def render_figure_downloads(fig, key: str, title: str = "") -> None:
    """PNG / SVG / PDF of the figure, rendered by kaleido only when a button is clicked. `fig` may
    be a function building it (a map's plotly twin, about a second at province size, is then built
    only for a download), named by `title`."""
    stem = _file_stem(title or (fig.layout.title.text if isinstance(fig, go.Figure) else "") or key)
    figure = fig if callable(fig) else (lambda: fig)
    with st.container(horizontal=True, key=f"{key}_downloads", gap="small"):
        if exports.find_chromium() is None:
            st.caption(exports.NO_CHROMIUM)
            return
        for fmt_ in exports.FIGURE_FORMATS:
            st.download_button(fmt_.upper(), data=audited(f"图表 {stem}.{fmt_}",
                                                          lambda f=fmt_: exports.build_figure_bytes(figure(), f, scale=3)),
                               file_name=f"{stem}.{fmt_}", mime=exports.FIGURE_MIME[fmt_], on_click="ignore",
                               type="tertiary", icon=":material/download:", key=f"{key}_{fmt_}",
                               help=f"下载{fmt_.upper()}(含标题、单位、数据截至日期与来源)")


def render_table_downloads(table, title: str, key: str) -> None:
    """XLSX (formatted, flags coloured) and CSV (UTF-8 with BOM for Excel/WPS) of the table (or of
    what `table()` returns, for a paged list: the whole list, read only when a file is asked for)."""
    stem, meta = _file_stem(title), chart_meta()  # read here: the download callables run off the script thread
    whole = table if callable(table) else (lambda: table)
    with st.container(horizontal=True, key=f"{key}_downloads", gap="small"):
        st.download_button("XLSX", data=audited(f"表格 {stem}.xlsx",
                                                lambda: exports.build_table_xlsx({title: whole()}, title, meta)),
                           file_name=f"{stem}.xlsx", mime=exports.XLSX_MIME, on_click="ignore", type="tertiary",
                           icon=":material/download:", key=f"{key}_xlsx")
        st.download_button("CSV", data=audited(f"表格 {stem}.csv", lambda: exports.build_table_csv(whole())),
                           file_name=f"{stem}.csv",
                           mime=exports.CSV_MIME, on_click="ignore", type="tertiary", icon=":material/download:",
                           key=f"{key}_csv")


def style_flags(frame: pd.DataFrame, column: str = "标识"):
    """A Styler colouring the flag column's cells red / yellow / green."""
    colours = {label: FLAG_COLOURS[flag] for flag, label in FLAG_LABELS_SHORT.items() if label}

    def paint(value):
        colour = colours.get(value)
        return f"background-color: {colour}; color: white; font-weight: 600" if colour else ""

    return frame.style.map(paint, subset=[column])


def current_query_params() -> dict[str, list[str]]:
    """The URL's query parameters that no filter widget owns, repeated ones kept. (Parameters
    bound to the sidebar filters follow the widgets by themselves and may not be set.)"""
    return {key: st.query_params.get_all(key) for key in st.query_params if key not in FILTER_KEYS}


def hide_chrome() -> None:
    """No sidebar, header, toolbar or scrollbar: for the meeting-room wall."""
    st.html("""<style>
      [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
      [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
      html, body { overflow: hidden !important; }
    </style>""")


ROW_PX, HEADER_PX, MAX_FULL_ROWS = 35, 36, 16
# Rows per page a reader may choose; a table longer than the largest is shown a page at a time
# (drawing a styled table costs about 0.2 ms per row on the server, 1 s for 5,000 rows).
PAGE_SIZES, DEFAULT_PAGE_SIZE = (50, 100, 200), 50


def render_pager(key: str, total: int) -> tuple[int, int]:
    """A rows-per-page choice and a page number for a list of `total` rows, with 第 x/y 页;
    returns (offset, limit) of the page to show."""
    with st.container(horizontal=True, vertical_alignment="bottom", key=f"{key}_pager", gap="small"):
        size = st.selectbox("每页行数", PAGE_SIZES, index=PAGE_SIZES.index(DEFAULT_PAGE_SIZE), key=f"{key}_size",
                            width=110)
        pages = max(1, -(-total // size))
        # The page count in the key: a shorter list never holds a page number past its end.
        page = st.number_input("页码", min_value=1, max_value=pages, value=1, step=1, key=f"{key}_page_{size}_{pages}",
                               width=130)
        st.markdown(f"第 **{page}/{pages}** 页 · 共 {total:,} 行")
    return (page - 1) * size, size



def _number_formats(table: pd.DataFrame) -> dict[str, list[str]]:
    """Display formats by column (a Styler would show six decimals and no separators):
    percentages one decimal, yuan whole, 万元 and other decimals two, counts with thousands
    separators; years and codes as they are."""
    formats = {"{:.1f}": [], "{:,.0f}": [], "{:,.2f}": [], "{:,}": []}
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            pattern = "{:.1f}" if column.endswith("(%)") else "{:,.0f}" if "(元" in column else "{:,.2f}"
        elif pd.api.types.is_integer_dtype(table[column]) and "年" not in column and "编" not in column:
            pattern = "{:,}"
        else:
            continue
        formats[pattern].append(column)
    return {pattern: columns for pattern, columns in formats.items() if columns}


def render_table(table: pd.DataFrame, title: str, key: str, flags: bool = False, late_column: str | None = None,
                 late_values: tuple | None = None, whole=None, **kwargs):
    """A table without index, with XLSX / CSV downloads named after `title`. Short tables show
    every row (no inner scrollbar); one longer than the largest page (PAGE_SIZES) a page at a
    time, the downloads holding every row. With `flags` the 标识 column is coloured; with
    `late_column` its cells are written red when non-empty (or when among `late_values`). For a
    list paged in SQL, `table` is the page and `whole()` gives the whole list for the downloads.
    Extra keyword arguments go to st.dataframe."""
    if table.empty:
        st.info(f"{fmt.escape_markdown(title)}:没有符合当前筛选条件的记录。")
        return None
    if whole is None and len(table) > max(PAGE_SIZES):
        whole, (offset, limit) = table, render_pager(key, len(table))
        table = table.iloc[offset:offset + limit].reset_index(drop=True)
    height = HEADER_PX + ROW_PX * len(table) + 2 if len(table) <= MAX_FULL_ROWS else "auto"
    data = style_flags(table) if flags else table.style
    data = data.format(na_rep="—")
    for pattern, columns in _number_formats(table).items():
        data = data.format(pattern, subset=columns, na_rep="—")
    if late_column:
        late = (lambda v: v in late_values) if late_values else bool
        data = data.map(lambda v: f"color: {FLAG_COLOURS['red']}; font-weight: 600" if late(v) else "",
                        subset=[late_column])
    shown = st.dataframe(data, hide_index=True, height=kwargs.pop("height", height), key=key, **kwargs)
    render_table_downloads(table if whole is None else whole, title, key)
    return shown


def url_choice(name: str, options: list[str], default: str) -> str:
    """The page-level choice `name` from the URL (English keys such as ?program=heating), or
    `default` when absent or invalid. Pair with `remember_choice` after the widget."""
    value = st.query_params.get(name)
    return value if value in options else default


def remember_choice(name: str, value: str) -> None:
    """Write a page-level choice back to the URL so a copied link reproduces it."""
    if st.query_params.get(name) != value:
        st.query_params[name] = value


def render_deck(deck, key: str, height: int = 720, export_figure=None, note: str = "", export_title: str = "") -> None:
    """A pydeck map; clicking a county (or a point in it) filters every page to that county.
    `export_figure` (the same counties as a plotly map, or a function building it, then named
    `export_title`) is what its downloads contain. `note` (geo.build_boundary_note: counties the
    map cannot draw, or points left out) is shown just above the map."""
    if note:
        st.caption(f":orange[:material/location_off: {note}]")
    st.pydeck_chart(deck, key=key, on_select=lambda: select_county(key), selection_mode="single-object",
                    height=height)
    if export_figure is not None:
        render_figure_downloads(export_figure, key, export_title)


# ---- intake (数据填报, 导入记录) -------------------------------------------------------------

def refresh_store() -> None:
    """Forget the remembered revision after this session wrote to the store, so every page of
    this server shows the new data at once (other servers within REVISION_CHECK_S seconds)."""
    _revision.clear()


def remember(key: tuple, build):
    """`build()` once per session for `key` (e.g. an uploaded file's hash and the store
    revision): checking a 100,000-row file is not redone on every rerun."""
    memo = st.session_state.setdefault("_remembered", {})
    if key not in memo:
        memo.clear()  # one upload at a time: keep memory flat
        memo[key] = build()
    return memo[key]


# ---- accounts: the sign-in gate, pages by role, the account bar (issue 12) ---------------------

ACCESS = "_access"            # session state: the Access app.py established for this run
TOKEN = "_session_token"      # session state: this browser's sign-in token
READERS = (LEADER, ADMIN, CLERK)


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    url_path: str
    roles: tuple[str, ...]


# Every page and who may open it; app.py builds st.navigation from pages_for(access), so a page
# missing from a role's list cannot be opened by URL either.
PAGE_SPECS = (
    PageSpec("pages/overview.py", "总览", "overview", READERS),
    PageSpec("pages/renovation.py", "老旧小区改造", "renovation", READERS),
    PageSpec("pages/heating.py", "清洁取暖", "heating", READERS),
    PageSpec("pages/ranking.py", "县区排名", "ranking", READERS),
    PageSpec("pages/map.py", "地图", "map", READERS),
    PageSpec("pages/briefing.py", "会议材料", "briefing", READERS),
    PageSpec("pages/published.py", "发布记录", "published", READERS),
    PageSpec("pages/screen.py", "大屏", "screen", READERS + (DISPLAY,)),
    PageSpec("pages/intake.py", "数据填报", "intake", (ADMIN, CLERK)),
    PageSpec("pages/imports.py", "导入记录", "imports", (ADMIN, CLERK)),
    PageSpec("pages/accounts.py", "账号管理", "accounts", (ADMIN,)),
    PageSpec("pages/audit.py", "操作日志", "audit", (ADMIN,)),
)


def pages_for(access: Access) -> list[PageSpec]:
    return [spec for spec in PAGE_SPECS if access.role in spec.roles]


def build_page_title(spec: PageSpec) -> str:
    """The navigation's name of a page: the ranking's follows the sidebar's level in a province
    store, read before the sidebar is drawn (the level's last value, else the URL's label)."""
    if spec.url_path != "ranking" or len(cached(queries.load_cities)) < 2:
        return spec.title
    # The widget's state holds the level itself; the URL holds its label, and a value the widget
    # would refuse (?level=county) must not rename the page the widget then draws at its default.
    chosen = st.session_state.get("level") or {label: value for value, label in LEVEL_LABELS.items()}.get(
        st.query_params.get("level"))
    return report.name_ranking_page(chosen)


def forbidden_pages(access_: Access) -> list[PageSpec]:
    return [spec for spec in PAGE_SPECS if access_.role not in spec.roles]


def build_refusal(spec: PageSpec):
    """What a page the account may not open shows instead (registered hidden under its own
    address, so a typed or shared link gets a Chinese refusal, audited, not Streamlit's English
    'page not found')."""
    def refuse() -> None:
        current = st.session_state[ACCESS]
        message = f"{current.role_label}无权打开“{spec.title}”页面。"
        audit.record(engine(), current.who, current.source, audit.REFUSED, f"{message}(地址 /{spec.url_path})")
        st.error(message, icon=":material/lock:")

    refuse.__name__ = f"refuse_{spec.url_path}"
    return refuse


def access() -> Access:
    """The signed-in account's scope for this run (set by app.py's gate)."""
    require_app()
    return st.session_state[ACCESS]


def client_source() -> str:
    """Where a request comes from, for the audit: the client address as the server saw it."""
    forwarded, address = st.context.headers.get("X-Forwarded-For"), st.context.ip_address
    if isinstance(forwarded, str) and forwarded.strip():  # behind nginx: the client, not the proxy
        return forwarded.split(",")[0].strip()[:60]
    return address if isinstance(address, str) and address else "未知"  # AppTest has no client


def require_access() -> Access:
    """The gate app.py passes before navigation: a valid sign-in (this session's token or the
    browser's cookie, checked against the store on every run, so a disabled account or an expired
    session stops at once), or the wall's display token from its link; otherwise the login page
    (or the forced password change) is drawn and the run stops."""
    store_engine = engine()
    token = st.session_state.get(TOKEN) or _cookie()
    signed = accounts.load_signed_in(store_engine, token, client_source())
    if signed is not None:
        st.session_state[TOKEN] = signed.token
        if signed.must_change and not _identified_as(signed.access.who):
            render_password_change(store_engine, signed)
            st.stop()
        _keep_cookie(signed.token)
        st.session_state[ACCESS] = signed.access
        return signed.access
    st.session_state.pop(TOKEN, None)
    identified = _sign_in_identity(store_engine)
    if identified is not None:
        return identified
    display = st.query_params.get("display") or st.session_state.get("_display_token")
    if display:
        wall = accounts.load_display_access(store_engine, display, client_source())
        if wall is None:
            st.error("大屏链接无效或已被吊销,请向管理员索取新的链接。", icon=":material/lock:")
            st.stop()
        st.session_state["_display_token"] = display
        st.session_state[ACCESS] = wall
        return wall
    st.session_state.pop(ACCESS, None)
    render_login(store_engine)
    st.stop()


def oidc_provider() -> str | None:
    """How st.login is called, or None when .streamlit/secrets.toml has no [auth] section (local
    accounts only): accounts.compute_oidc_provider decides."""
    if not st.secrets.load_if_toml_exists():
        return None
    return accounts.compute_oidc_provider(st.secrets.to_dict())


def _identified_as(login: str) -> bool:
    """Is this browser signed in at the identity provider as `login`? (Its accounts never use
    the one-time local password, so they are not sent to change it.)"""
    identity = st.user.to_dict() if oidc_provider() is not None else {}
    return bool(identity.get("is_logged_in")) and login in accounts.identity_logins(identity)


def _sign_in_identity(store_engine: Engine) -> Access | None:
    """After the identity provider returns (st.user), the store account of that identity, with a
    session of ours; None when not configured, not signed in there, or refused (the login page
    then says why; the refusal is audited once per identity and browser session, not per rerun).
    Signing out of the app signs out of the provider too, or the next run would sign in again."""
    identity = st.user.to_dict() if oidc_provider() is not None else {}
    if not identity.get("is_logged_in"):
        return None
    if st.session_state.pop("_signed_out", False):
        st.logout()
        st.stop()
    logins = accounts.identity_logins(identity)
    if st.session_state.get("_identity_refused") == logins:
        return None
    try:
        signed = accounts.sign_in_identity(store_engine, identity, client_source())
    except AccessRefused as refused:
        st.session_state["_identity_refused"] = logins
        st.session_state["_identity_refusal"] = str(refused)
        return None
    st.session_state[TOKEN] = signed.token
    _keep_cookie(signed.token)
    st.session_state[ACCESS] = signed.access
    return signed.access


def check_display_link() -> None:
    """For the wall's own reruns (its fragment runs without app.py): a revoked display link stops
    the wall at the next tick."""
    if st.session_state.get(ACCESS, Access("", DISPLAY)).role == DISPLAY and accounts.load_display_access(
            engine(), st.session_state.get("_display_token")) is None:
        st.error("大屏链接已被吊销,请向管理员索取新的链接。", icon=":material/lock:")
        st.stop()


def _keep_cookie(token: str) -> None:
    """Store the sign-in token in a browser cookie, so a reload or a link opened in a new tab of
    this browser stays signed in (the store keeps only the token's hash)."""
    if _cookie() != token:
        with st.sidebar:
            st.html(f"<script>document.cookie = '{SESSION_COOKIE}={token}; path=/; "
                    f"max-age={SESSION_HOURS * 3600}; SameSite=Strict';</script>", unsafe_allow_javascript=True)


def _hide_sidebar() -> None:
    """Before signing in navigation is not set up yet, and Streamlit would list the pages/ folder
    in the sidebar (English file names, none of them open without signing in): hide it."""
    st.html("""<style>[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"]
               { display: none !important; }</style>""")


def _cookie() -> str | None:
    """The sign-in cookie this browser sent when the session opened (AppTest has no browser)."""
    value = st.context.cookies.get(SESSION_COOKIE)
    return value if isinstance(value, str) else None


def _forget_cookie() -> None:
    st.html(f"<script>document.cookie = '{SESSION_COOKIE}=; path=/; max-age=0; SameSite=Strict';</script>",
            unsafe_allow_javascript=True)


def render_login(store_engine: Engine) -> None:
    """The login page (Chinese); on a demo store it lists the demo accounts under a 演示账号 banner."""
    if st.session_state.pop("_signed_out", False) or _cookie():
        _forget_cookie()
    _hide_sidebar()
    _, middle, _ = st.columns([1, 1.6, 1])
    with middle:
        st.title(APP_TITLE)
        st.subheader("登录")
        if db.load_is_demo(store_engine):
            st.warning("**演示账号**:本库为演示数据,可用下列账号登录(密码均为 "
                       f"`{accounts.DEMO_PASSWORD}`),体验不同角色看到的内容。", icon=":material/badge:")
            whole = report.describe_whole(store_engine)
            st.table(pd.DataFrame([{"账号": login, "角色": accounts.ROLES[role], "范围": "陇县" if county else whole}
                                   for login, _, role, county in accounts.DEMO_ACCOUNTS]).set_index("账号"))
        provider = oidc_provider()
        if provider is not None:
            _render_identity_login(provider)
        with st.form("login", border=True):
            login = st.text_input("账号", key="login_name")
            password = st.text_input("密码", type="password", key="login_password")
            submitted = st.form_submit_button("登录", type="primary", width="stretch")
        if submitted:
            try:
                signed = accounts.sign_in(store_engine, login, password, client_source())
            except AccessRefused as refused:
                st.error(str(refused), icon=":material/lock:")
                return
            st.session_state[TOKEN] = signed.token
            st.rerun()
        st.caption("忘记密码或账号被锁定,请联系管理员重置。")


def _render_identity_login(provider: str) -> None:
    """The identity provider's button (only when [auth] is configured), and why the identity it
    returned was refused, with a way to sign out of it and try another."""
    refusal = st.session_state.get("_identity_refusal")
    if refusal and st.user.to_dict().get("is_logged_in"):
        st.error(f"{refusal}(统一身份认证账号:{'、'.join(st.session_state.get('_identity_refused', ()))})",
                 icon=":material/lock:")
        if st.button("退出统一身份认证", key="identity_logout", width="stretch"):
            st.session_state.pop("_identity_refused", None)
            st.session_state.pop("_identity_refusal", None)
            st.logout()
    elif st.button("使用单位统一身份认证登录", key="identity_login", type="primary", width="stretch"):
        st.login(provider) if provider else st.login()
    st.caption("或使用本系统账号登录:")


def render_password_change(store_engine: Engine, signed: accounts.SignedIn) -> None:
    """The forced password change of a first sign-in (or after a reset)."""
    _hide_sidebar()
    _, middle, _ = st.columns([1, 1.6, 1])
    with middle:
        st.title(APP_TITLE)
        st.subheader("首次登录,请修改密码")
        st.caption(f"账号 {signed.access.who}:管理员设置的是一次性密码,修改后才能使用本系统。")
        with st.form("change_password", border=True):
            old = st.text_input("原密码(一次性密码)", type="password", key="old_password")
            new = st.text_input("新密码", type="password", key="new_password")
            again = st.text_input("再次输入新密码", type="password", key="new_password_again")
            submitted = st.form_submit_button("修改密码", type="primary", width="stretch")
        if submitted:
            if new != again:
                st.error("两次输入的新密码不一致。")
                return
            try:
                accounts.change_password(store_engine, signed.access, old, new)
            except AccessRefused as refused:
                st.error(str(refused))
                return
            st.rerun()


def render_account_bar(current: Access) -> None:
    """Who is signed in, in which role and county, the demo mark, and signing out (sidebar)."""
    with st.sidebar:
        place = f" · {current.county_name}" if current.county_name else ""
        demo_mark = " :red-badge[演示账号]" if cached(db.load_is_demo) else ""
        st.markdown(f":material/account_circle: **{fmt.escape_markdown(current.who)}** · "
                    f"{current.role_label}{place}{demo_mark}")
        st.button("退出登录", key="sign_out", type="tertiary", icon=":material/logout:", on_click=_sign_out)


def _sign_out() -> None:
    accounts.sign_out(engine(), st.session_state.pop(TOKEN, None))
    st.session_state.pop(ACCESS, None)
    st.session_state["_signed_out"] = True


def detail_scope(f: Filters) -> Scope:
    """The scope for community, village and household detail on this page: the filters' scope,
    narrowed to a clerk's own county when the URL or sidebar asked for another (a warning says so
    here, and the attempt is audited once per session and request, not on every rerun)."""
    current = access()
    counties, notice = current.narrow_detail_counties(f.scope.counties)
    if notice:
        st.warning(notice, icon=":material/lock:")
        seen = st.session_state.setdefault("_narrowed", set())
        if f.county_names not in seen:
            seen.add(f.county_names)
            audit.record(engine(), current.who, current.source, audit.REFUSED,
                         f"请求{'、'.join(f.county_names)}的明细,已改为本县区({st.context.url or ''})")
        return replace(f.scope, counties=counties)
    return f.scope  # as asked (a clerk's loaders keep to their county by themselves)


def audited(what: str, build):
    """A download's data callable that writes one audit row when the file is actually downloaded
    (audit.audited_build); who and the engine are read here, since the callable runs off the
    script thread."""
    current = st.session_state[ACCESS]
    return audit.audited_build(engine(), current.who, current.source, what, build)
