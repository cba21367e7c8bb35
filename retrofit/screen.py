"""The big screen (大屏) for the meeting-room wall: what it shows and how, without Streamlit.

Owns the screen's URL parameters (parsing, defaults, validation with a discreet note in
Chinese), the rotation (the city view, then a spotlight on each red-flagged county), the
panel content built from report frames (headline tiles, laggards, supervision items), the
HTML and CSS of the big numbers, and the sizing of figures to the viewport. pages/screen.py
only wires these to Streamlit.

Sizes: the CSS is written in `--u`, one hundredth of the height of the largest 16:9 box that
fits the viewport (1 u = 10.8 px at 1920×1080, 21.6 px at 3840×2160), so one layout fills
both walls. Plotly sizes are pixels, so figures are scaled by `Viewport.scale`, from the size
the browser reports.
"""
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go
from shapely.geometry import shape
from shapely.ops import polylabel
from sqlalchemy.engine import Engine

from . import charts, db, fmt
from .charts import DARK, FLAG_LABELS, ChartMeta, Theme
from .geo import MAP_ALL_LABELS_UP_TO, MapView, build_plot_boundaries, list_boundary_adcodes, overlaps
from .measures import CLOSED, GREEN, NO_FLAG, OVERDUE, RED, YELLOW, Measure, find_measure, measure_keys
from .settings import FLAG_COLOURS
from .vocab import HEATING, PROGRAMS, RENOVATION

# ---- URL parameters -----------------------------------------------------------------------------

DEFAULT_REFRESH_S = 60
MIN_INTERVAL_S = 3       # refresh / rotate faster than this only loads the server
MAX_INTERVAL_S = 3600
DEFAULT_PROGRAM = HEATING
# The measure the ranking and the map show by default: each program's main progress measure.
DEFAULT_MEASURE = {RENOVATION: "finish_rate", HEATING: "completion_rate"}
OFF = ("0", "off", "no", "false", "关")


@dataclass(frozen=True)
class ScreenParams:
    """What the wall shows, from the URL: the report date and plan year, the counties in view
    (names; empty = the whole city), the measure ranked and mapped, the refresh and rotation
    intervals in seconds (rotation None = off), and notes on values that were replaced."""
    as_of: date
    year: int
    counties: tuple[str, ...]
    program: str
    measure: str
    refresh_s: int
    rotate_s: int | None
    notes: tuple[str, ...] = ()


def _first(query: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = [v.strip() for v in query.get(key, ()) if v is not None and v.strip()]
    return values[0] if values else None


def _shown(raw: str) -> str:
    """A rejected value as it is quoted back in a note: short, never markup."""
    return raw if len(raw) <= 16 else raw[:15] + "…"


def _parse_seconds(raw: str | None, default: int | None, name: str, off_allowed: bool,
                   notes: list[str]) -> int | None:
    if raw is None:
        return default
    if off_allowed and raw.lower() in OFF:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not MIN_INTERVAL_S <= value <= MAX_INTERVAL_S:
        kept = "不轮播" if default is None else f"每{default}秒"
        notes.append(f"{name}={_shown(raw)}无效(应为{MIN_INTERVAL_S}至{MAX_INTERVAL_S}秒),已按{kept}")
        return default
    return value


def _split_names(values: Sequence[str]) -> list[str]:
    """County names from repeated `county=陇县&county=凤县` (as the other pages write it) or one
    `county=陇县,凤县` / `county=陇县、凤县`, each once, in the order written."""
    names = [n.strip() for v in values for n in str(v).replace("、", ",").replace(",", ",").split(",")]
    return list(dict.fromkeys(n for n in names if n))


def _parse_counties(query: Mapping[str, Sequence[str]], known: Sequence[str], notes: list[str]) -> tuple[str, ...]:
    names = []
    for name in _split_names(query.get("county", ())):
        if name in known:
            names.append(name)
        else:
            notes.append(f"未找到县区“{_shown(name)}”,已略去")
    return tuple(sorted(names, key=list(known).index))


def _parse_program_measure(query: Mapping[str, Sequence[str]], notes: list[str]) -> tuple[str, str]:
    raw_program, raw_measure = _first(query, "program"), _first(query, "measure")
    program = raw_program if raw_program in PROGRAMS else None
    if raw_program is not None and program is None:
        notes.append(f"program={_shown(raw_program)}无效,已按{PROGRAMS[DEFAULT_PROGRAM]}")
    if program is None and raw_measure is not None:
        # A measure named without its program: the program that has it (the default if both do).
        owners = [p for p in PROGRAMS if raw_measure in measure_keys(p)]
        program = DEFAULT_PROGRAM if DEFAULT_PROGRAM in owners or not owners else owners[0]
    program = program or DEFAULT_PROGRAM
    measure = DEFAULT_MEASURE[program]
    if raw_measure is not None:
        if raw_measure in measure_keys(program):
            measure = raw_measure
        else:
            notes.append(f"measure={_shown(raw_measure)}无效,已按{find_measure(program, measure).label}")
    return program, measure


def _parse_as_of(raw: str | None, data_date: date, earliest: date, notes: list[str]) -> date:
    if raw is None:
        return data_date
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        notes.append(f"as_of={_shown(raw)}不是日期,已按数据截至日期")
        return data_date
    if day > data_date:
        notes.append(f"as_of={raw}晚于数据截至日期,已按{fmt.format_date(data_date)}")
        return data_date
    if day < earliest:
        notes.append(f"as_of={raw}早于最早数据,已按{fmt.format_date(data_date)}")
        return data_date
    return day


# `display` is the wall's read-only token (retrofit.accounts): kept in the URL the wall rewrites,
# so a reload of an unattended wall keeps its access.
SCREEN_KEYS = ("city", "as_of", "year", "county", "program", "measure", "refresh", "rotate", "display")


def canonical_query(query: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The screen's own parameters from a URL query, as written (invalid values kept, so their
    note survives a reload), each once: the first value of a key, counties without repeats.
    Keys the screen does not read (stage, route, previous) are left out."""
    canonical: dict[str, list[str]] = {}
    for key in SCREEN_KEYS:
        if key == "county":
            if names := _split_names(query.get(key, ())):
                canonical[key] = names
        elif (value := _first(query, key)) is not None:
            canonical[key] = [value]
    return canonical


def parse_params(query: Mapping[str, Sequence[str]], data_date: date, counties: Sequence[str],
                 years: Sequence[int]) -> ScreenParams:
    """The screen's parameters from the URL query (each key to its list of values, repeated
    keys kept). Anything missing takes its default (the whole city on the data date, this
    year's plan, refresh every minute, no rotation); anything invalid takes it too, with a
    note saying so. Never raises."""
    notes: list[str] = []
    years = sorted(years) or [data_date.year]
    as_of = _parse_as_of(_first(query, "as_of"), data_date, date(years[0], 1, 1), notes)
    default_year = as_of.year if as_of.year in years else years[-1]
    raw_year = _first(query, "year")
    year = default_year
    if raw_year is not None:
        if raw_year.isdigit() and int(raw_year) in years:
            year = int(raw_year)
        else:
            notes.append(f"year={_shown(raw_year)}无此年度,已按{default_year}年度")
    program, measure = _parse_program_measure(query, notes)
    refresh = _parse_seconds(_first(query, "refresh"), DEFAULT_REFRESH_S, "refresh", False, notes)
    rotate = _parse_seconds(_first(query, "rotate"), None, "rotate", True, notes)
    return ScreenParams(as_of=as_of, year=year, counties=_parse_counties(query, counties, notes), program=program,
                        measure=measure, refresh_s=refresh, rotate_s=rotate, notes=tuple(notes))


def list_filter_notes(query: Mapping[str, Sequence[str]], data_date: date, counties: Sequence[str],
                      years: Sequence[int], reports: Sequence[date], stages: Sequence[str],
                      routes: Sequence[str]) -> tuple[str, ...]:
    """Notes on the desk pages' URL filters (county, year, as_of, previous, stage, route) that
    cannot be applied and fall back to their defaults, worded as the wall words its own. An
    empty tuple when every value is valid."""
    notes: list[str] = []
    _parse_counties(query, counties, notes)
    years = sorted(years) or [data_date.year]
    as_of = _parse_as_of(_first(query, "as_of"), data_date, date(years[0], 1, 1), notes)
    raw_year = _first(query, "year")
    if raw_year is not None and not (raw_year.isdigit() and int(raw_year) in years):
        default_year = data_date.year if data_date.year in years else years[-1]
        notes.append(f"year={_shown(raw_year)}无此年度,已按{default_year}年度")
    raw_previous = _first(query, "previous")
    if raw_previous is not None:
        try:
            previous = date.fromisoformat(raw_previous)
        except ValueError:
            previous = None
        if previous not in reports or previous >= as_of:
            notes.append(f"previous={_shown(raw_previous)}不是截至日期之前的调度日期,已按最近一次调度")
    for key, allowed, kept in (("stage", stages, "全部阶段"), ("route", routes, "全部路线")):
        unknown = [v for v in dict.fromkeys(query.get(key, ())) if v not in allowed]
        if unknown:
            notes.append(f"{key}={_shown('、'.join(unknown))}无效,已略去" + ("" if len(unknown) < len(query[key])
                                                                           else f"(按{kept})"))
    return tuple(notes)


# ---- rotation -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """One view of the rotation: the city (or the counties chosen in the URL) when `county` is
    None, else the spotlight on one red-flagged county."""
    county: str | None = None
    adcode: str | None = None

    @property
    def is_spotlight(self) -> bool:
        return self.county is not None


CITY_PANEL = Panel()


def list_panels(laggards: pd.DataFrame) -> list[Panel]:
    """The city view, then each red-flagged county once, furthest behind first (the order of
    report.compute_laggards)."""
    panels = [CITY_PANEL]
    for county, adcode in zip(laggards["county"], laggards["adcode"], strict=True):
        if Panel(county, adcode) not in panels:
            panels.append(Panel(county, adcode))
    return panels


def compute_tick_seconds(refresh_s: int, rotate_s: int | None) -> float:
    """How often the screen reruns: every `refresh_s` without rotation; with rotation, the
    largest interval not above `refresh_s` that divides `rotate_s`, so a panel changes on a
    tick and the data is never older than asked."""
    if not rotate_s:
        return float(refresh_s)
    return rotate_s / math.ceil(rotate_s / refresh_s)


# Timer reruns arrive within about 0.1 s of their time; anything earlier than this before a
# panel's time is up is a rerun for another reason and leaves the panel where it is.
ROTATION_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class Rotation:
    """Where the rotation stands: the panel shown and when (seconds, monotonic clock) it came."""
    index: int
    shown_since: float


def advance_rotation(state: Rotation | None, now: float, rotate_s: int | None, tick_s: float,
                     panel_count: int) -> Rotation:
    """The rotation at a rerun at `now`. A panel stays for `rotate_s`; the first rerun from
    shortly before that moment on (half a tick, at most ROTATION_TOLERANCE_S) moves to the next
    one, so timer jitter never skips or repeats a panel, and a rerun for another reason (the
    browser reporting its size, a resize) moves nothing. Without rotation, or with one panel,
    the city view stays."""
    if not rotate_s or panel_count <= 1:
        return Rotation(0, now)
    if state is None:
        return Rotation(0, now)
    if now - state.shown_since >= rotate_s - min(tick_s / 2, ROTATION_TOLERANCE_S):
        return Rotation((state.index + 1) % panel_count, now)
    return Rotation(state.index % panel_count, state.shown_since)


def choose_measure(panel: Panel, laggards: pd.DataFrame, program: str, key: str) -> tuple[str, str]:
    """The measure the ranking and the map show: the one from the URL, except in a spotlight,
    where it is the county's furthest-behind red measure (what the county is called out for)."""
    if panel.is_spotlight:
        rows = laggards[laggards["county"] == panel.county]
        if len(rows):
            return rows["program"].iloc[0], rows["key"].iloc[0]
    return program, key


# ---- panel content ------------------------------------------------------------------------------

# The big numbers: three per program, in the order of the work.
HEADLINE_TILES = {RENOVATION: ("start_rate", "finish_rate", "investment_rate"),
                  HEATING: ("completion_rate", "installed_rate", "disbursement_rate")}
LAGGARD_SLOTS = 4       # rows of the laggards list (fixed, so the layout never jumps)
SUPERVISION_SLOTS = 4   # rows of the supervision list


@dataclass(frozen=True)
class Tile:
    """One big number: the measure's value, what it divides, and its gap to the target line."""
    program: str
    key: str
    label: str
    value: str        # '90.6%'
    done: str         # '1.21万户'
    planned: str      # '1.34万户'
    flag: str
    line: str         # '进度线100.0%' (the time line) / '目标20.0%' / ''
    gap: str          # '落后9.4个百分点' / '超前1.9个百分点' / ''


def describe_gap(gap_pp) -> str:
    """'落后9.4个百分点' behind the line, '超前1.9个百分点' ahead, '达到目标线' on it (the line or the fixed target)."""
    if gap_pp is None or pd.isna(gap_pp):
        return ""
    size = fmt.format_pp(abs(gap_pp)).lstrip("+")
    if size.startswith("0.0"):
        return "达到目标线"
    return f"落后{size}" if gap_pp < 0 else f"超前{size}"


def build_tiles(headline: pd.DataFrame) -> dict[str, list[Tile]]:
    """The headline tiles per program from report.compute_headline."""
    rows = headline.set_index(["program", "key"])
    tiles: dict[str, list[Tile]] = {}
    for program, keys in HEADLINE_TILES.items():
        tiles[program] = []
        for key in keys:
            row, measure = rows.loc[(program, key)], find_measure(program, key)
            target = row["target"]
            line = "" if target is None or pd.isna(target) else fmt.format_target(row["line"], target)
            tiles[program].append(Tile(
                program=program, key=key, label=measure.label,
                value=fmt.format_percent_of(row["numerator"], row["denominator"]),
                done=fmt.format_count(row["numerator"], row["unit"]),
                planned=fmt.format_count(row["denominator"], row["unit"]),
                flag=row["flag"], line=line, gap=describe_gap(row["gap_pp"])))
    return tiles


@dataclass(frozen=True)
class ListItem:
    """One row of a list panel: a county (red when flagged), a tag, the text, a note on the right."""
    county: str
    tag: str
    text: str
    note: str = ""
    flag: str = NO_FLAG


@dataclass(frozen=True)
class ListPanel:
    """A titled list with a one-line summary of the counts; `empty` is shown when there is nothing."""
    title: str
    summary: str
    items: tuple[ListItem, ...]
    empty: str


def build_laggard_panel(laggards: pd.DataFrame, county: str | None = None,
                        slots: int = LAGGARD_SLOTS) -> ListPanel:
    """The red-flagged counties with the reason in words (report.compute_laggards). City view:
    one row per county with its furthest-behind measure and how many of its measures are red.
    Spotlight: that county's red measures, furthest behind first."""
    if county is not None:
        rows = laggards[laggards["county"] == county]
        items = [ListItem(label, PROGRAMS[program], reason, flag=RED)
                 for label, program, reason in zip(rows["label"], rows["program"], rows["reason"], strict=True)]
        return ListPanel(f"{county} · 落后指标", f"红色标识 {fmt.format_int(len(items))} 项",
                         tuple(items[:slots]), "该县区无红色标识指标")
    items = [ListItem(name, PROGRAMS[rows["program"].iloc[0]], rows["reason"].iloc[0],
                      f"{fmt.format_int(len(rows))}项红色", RED)
             for name, rows in laggards.groupby("county", sort=False)]
    return ListPanel("落后县区 · 红色标识",
                     f"{fmt.format_int(len(items))} 个县区 · {fmt.format_int(len(laggards))} 项指标",
                     tuple(items[:slots]), "各县区均未落后到红色标识")


def build_supervision_panel(items: pd.DataFrame, county: str | None = None,
                            slots: int = SUPERVISION_SLOTS) -> ListPanel:
    """Open supervision items (督办, report.compute_supervision), overdue first, each with its
    days overdue or its deadline."""
    if county is not None:
        items = items[items["county"] == county]
    open_items = items[items["status"] != CLOSED]
    overdue = int((open_items["status"] == OVERDUE).sum())
    rows = []
    for item in open_items.itertuples():
        late = item.status == OVERDUE
        note = f"逾期{fmt.format_int(item.days_overdue)}天" if late else f"{fmt.format_date(item.deadline)}到期"
        rows.append(ListItem(item.county, PROGRAMS.get(item.program, item.program), item.text, note,
                             RED if late else YELLOW))
    title = f"{county} · 督办事项" if county else "督办事项"
    return ListPanel(title, f"在办 {fmt.format_int(len(rows))} 项 · 逾期未销号 {fmt.format_int(overdue)} 项",
                     tuple(rows[:slots]), "无在办督办事项")


def load_city_name(engine: Engine) -> str:
    """The city (or province) the store describes (store_meta 'city'), '' when not recorded."""
    with engine.connect() as conn:
        return db.read_meta(conn).get("city", "")


# ---- HTML -------------------------------------------------------------------------------------

def _e(text) -> str:
    return html.escape(str(text), quote=True)




@dataclass(frozen=True)
class Header:
    """The top bar: title, place, data date, plan year, time of the last refresh, rotation."""
    title: str
    place: str
    as_of: date
    year: int
    refreshed_at: datetime
    is_demo: bool
    panel_index: int = 0
    panel_count: int = 1
    rotate_s: int | None = None
    notes: tuple[str, ...] = ()


def render_header_html(header: Header) -> str:
    """The top bar. The spotlighted county, if any, carries data-county for tests and tools."""
    spot = header.place if header.panel_index else ""
    dots = ""
    if header.rotate_s and header.panel_count > 1:
        dots = "".join(f'<i class="dot{" on" if i == header.panel_index else ""}"></i>'
                       for i in range(header.panel_count))
        dots = f'<span class="dots" title="每{header.rotate_s}秒轮播">{dots}</span>'
    place = (f'<span class="spot">聚焦 {_e(header.place)}</span>' if spot
             else f'<span class="place">{_e(header.place)}</span>')
    demo = '<span class="demo">演示数据</span>' if header.is_demo else ""
    notes = f'<div class="notes">{_e(";".join(header.notes))}</div>' if header.notes else ""
    return (f'<div class="scr-header" data-panel="{header.panel_index}" data-county="{_e(spot)}">'
            f'<div class="title">{_e(header.title)}{place}</div>'
            f'<div class="meta"><span>数据截至 <b>{_e(fmt.format_date(header.as_of))}</b></span>'
            f'<span>{header.year}年度</span>'
            f'<span>刷新 {header.refreshed_at:%H:%M:%S}</span>{dots}{demo}</div>{notes}</div>')


# Approximate advance widths in em of the screen font (Noto Sans CJK, bold): enough to pick a
# font size that keeps a line inside its tile, with a margin for error.
NARROW = {".": 0.3, ",": 0.3, " ": 0.3, "/": 0.42, "%": 0.92, "-": 0.4, "+": 0.6}
TILE_TEXT_U = 24.0   # a tile's inner width in u (1920x1080 design: 6 tiles across, minus paddings)


def estimate_em(text: str) -> float:
    """Width of `text` in em: CJK and full-width characters one em, digits and Latin about 0.6."""
    return sum(1.0 if ord(c) > 0x2E80 else NARROW.get(c, 0.62) for c in text)


def fit_font_u(text: str, largest_u: float, width_u: float = TILE_TEXT_U) -> float:
    """The largest font size (in u, at most `largest_u`) at which `text` fits `width_u`."""
    em = estimate_em(text)
    return min(largest_u, math.floor(width_u / em * 100) / 100) if em else largest_u


VALUE_U, RATIO_U = 7.4, 2.3   # the big number and the done / planned line, at most
LABEL_U, LINE_U, TOP_GAP_U = 2.5, 1.6, 0.8  # a tile's top row: its label, the line beside it, the gap


def fit_line_u(label: str, line: str) -> float:
    """The font size of a tile's target line ('节点进度线91.8%'), in the room its label leaves."""
    return fit_font_u(line, LINE_U, TILE_TEXT_U - estimate_em(label) * LABEL_U - TOP_GAP_U)


def render_tiles_html(tiles: dict[str, list[Tile]], place: str) -> str:
    """Both programs' big numbers, side by side, each program a group of tiles."""
    groups = []
    for program, row in tiles.items():
        cells = []
        for tile in row:
            colour, ratio = FLAG_COLOURS[tile.flag], f"{tile.done} / {tile.planned}"
            chip = (f'<span class="chip" style="background:{colour}">{_e(tile.gap)}</span>' if tile.gap else "")
            cells.append(
                f'<div class="tile" data-key="{_e(program)}.{_e(tile.key)}" style="--flag:{colour}">'
                f'<div class="top"><span class="label">{_e(tile.label)}</span>'
                f'<span class="line" style="font-size:calc({fit_line_u(tile.label, tile.line)} * var(--u))">'
                f'{_e(tile.line)}</span></div>'
                f'<div class="value" style="font-size:calc({fit_font_u(tile.value, VALUE_U)} * var(--u))">'
                f'{_e(tile.value)}</div>'
                f'<div class="ratio" style="font-size:calc({fit_font_u(ratio, RATIO_U)} * var(--u))">{_e(ratio)}</div>'
                f'<div class="gap">{chip}</div></div>')
        groups.append(f'<div class="group"><div class="program">{_e(place)}{_e(PROGRAMS[program])}</div>'
                      f'<div class="tiles">{"".join(cells)}</div></div>')
    return f'<div class="scr-tiles">{"".join(groups)}</div>'


def render_list_html(panel: ListPanel, slots: int, css_class: str) -> str:
    """A list panel with exactly `slots` rows (empty ones kept), so refreshes never move it."""
    rows = []
    for item in panel.items:
        colour = FLAG_COLOURS[item.flag]
        rows.append(f'<li style="--flag:{colour}"><span class="who">{_e(item.county)}</span>'
                    f'<span class="tag">{_e(item.tag)}</span><span class="text">{_e(item.text)}</span>'
                    f'<span class="note">{_e(item.note)}</span></li>')
    if not rows:
        rows.append(f'<li class="empty"><span class="text">{_e(panel.empty)}</span></li>')
    rows += ['<li class="blank"></li>'] * (slots - len(rows))
    return (f'<div class="scr-list {css_class}"><div class="head"><span class="name">{_e(panel.title)}</span>'
            f'<span class="sum">{_e(panel.summary)}</span></div><ol>{"".join(rows)}</ol></div>')


def render_footer_html(source: str, is_demo: bool) -> str:
    """The flag colours' meaning (for every panel and both charts) and the data source."""
    keys = "".join(f'<span class="key"><i style="background:{FLAG_COLOURS[flag]}"></i>{_e(FLAG_LABELS[flag])}</span>'
                   for flag in (RED, YELLOW, GREEN))
    demo = " · 演示数据,非真实统计" if is_demo else ""
    return f'<div class="scr-footer"><span class="keys">{keys}</span><span>来源:{_e(source)}{demo}</span></div>'


# Layout, in u (see module docstring). Heights add up to 100 with the gaps and paddings.
HEADER_U, TILES_U, MAIN_U, FOOTER_U = 7.4, 24.0, 59.6, 3.2
PAD_U, GAP_U = 1.2, 1.0
COLUMNS = (29, 34, 37)             # ranking, map, lists: shares of the width
LAGGARD_U = 29.2                   # of MAIN_U; supervision takes the rest
BACKGROUND = "#0a1628"
PANEL = "rgba(20, 40, 72, 0.72)"
ACCENT = "#4fd1ff"                 # the spotlight (not a flag colour: it means "look here")


def build_css() -> str:
    """The page's stylesheet: dark theme, no chrome or scrollbar, fixed slots sized in u."""
    text, muted = DARK.text, DARK.muted
    return f"""<style>
:root {{ --u: min(1vh, 0.5625vw); }}
html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
  background: radial-gradient(ellipse at 50% 0%, #143058 0%, {BACKGROUND} 60%) !important;
  color: {text}; overflow: hidden !important; scrollbar-width: none; }}
::-webkit-scrollbar {{ display: none; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
footer {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ padding: calc({PAD_U} * var(--u)) calc({PAD_U * 1.4} * var(--u)) 0 !important;
  max-width: 100% !important; height: 100vh; overflow: hidden; }}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {{ gap: calc({GAP_U} * var(--u)) !important; }}
[data-testid="stHorizontalBlock"] {{ gap: calc({GAP_U * 1.4} * var(--u)) !important; flex-wrap: nowrap !important; }}
[data-stale="true"] {{ opacity: 1 !important; transition: none !important; }}
.st-key-screen-viewport, .stElementContainer:has(> .stHtml > style:only-child) {{ display: none !important; }}
.st-key-screen-header {{ height: calc({HEADER_U} * var(--u)); overflow: hidden; }}
.st-key-screen-tiles {{ height: calc({TILES_U} * var(--u)); overflow: hidden; }}
.st-key-screen-main {{ height: calc({MAIN_U} * var(--u)); overflow: hidden; }}
.st-key-screen-ranking, .st-key-screen-map {{ height: calc({MAIN_U} * var(--u)); overflow: hidden;
  background: {PANEL}; border-radius: calc(0.8 * var(--u)); }}
.st-key-screen-lists {{ height: calc({MAIN_U} * var(--u)); overflow: hidden; }}
.st-key-screen-footer {{ height: calc({FOOTER_U} * var(--u)); overflow: hidden; }}
.stHtml, .stPlotlyChart {{ margin: 0 !important; }}
[class^="scr-"] {{ font-family: "Source Sans", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; }}
/* Streamlit mounts a chart anew whenever its figure changes (a rotation step, new data):
   fade it in, so the change reads as a transition rather than a flash. */
.st-key-screen-ranking .stPlotlyChart, .st-key-screen-map .stPlotlyChart {{ animation: scr-fade 0.8s ease-out; }}
@keyframes scr-fade {{ from {{ opacity: 0; }} to {{ opacity: 1; }} }}
.scr-header {{ position: relative; height: calc({HEADER_U} * var(--u)); display: flex; align-items: center;
  justify-content: space-between; border-bottom: calc(0.25 * var(--u)) solid #1f4e79; white-space: nowrap; }}
.scr-header .title {{ font-size: calc(4.0 * var(--u)); font-weight: 700; letter-spacing: 0.06em; color: #ffffff; }}
.scr-header .place, .scr-header .spot {{ margin-left: calc(2 * var(--u)); font-size: calc(3.4 * var(--u));
  font-weight: 700; padding: 0 calc(1.2 * var(--u)); border-radius: calc(0.6 * var(--u)); }}
.scr-header .place {{ color: {muted}; }}
.scr-header .spot {{ color: #0a1628; background: {ACCENT}; }}
.scr-header .meta {{ display: flex; align-items: center; gap: calc(2 * var(--u)); font-size: calc(2.3 * var(--u));
  color: {muted}; }}
.scr-header .meta b {{ color: {text}; font-weight: 700; }}
.scr-header .demo {{ color: #fff; background: {FLAG_COLOURS[RED]}; font-weight: 700;
  padding: calc(0.2 * var(--u)) calc(0.9 * var(--u)); border-radius: calc(0.5 * var(--u)); }}
.scr-header .dots {{ display: inline-flex; gap: calc(0.6 * var(--u)); }}
.scr-header .dot {{ width: calc(1.2 * var(--u)); height: calc(1.2 * var(--u)); border-radius: 50%;
  background: #2a3a55; display: inline-block; }}
.scr-header .dot.on {{ background: {ACCENT}; }}
.scr-header .notes {{ position: absolute; right: 0; bottom: calc(0.1 * var(--u)); font-size: calc(1.35 * var(--u));
  color: #e8c468; opacity: 0.85; max-width: 60%; overflow: hidden; text-overflow: ellipsis; }}
.scr-tiles {{ height: calc({TILES_U} * var(--u)); display: grid; grid-template-columns: 1fr 1fr;
  gap: calc(1.4 * var(--u)); }}
.scr-tiles .group {{ display: flex; flex-direction: column; min-width: 0; }}
.scr-tiles .program {{ font-size: calc(2.6 * var(--u)); font-weight: 700; color: {text};
  height: calc(3.8 * var(--u)); line-height: calc(3.8 * var(--u)); white-space: nowrap; }}
.scr-tiles .tiles {{ flex: 1; display: grid; grid-template-columns: repeat(3, 1fr); gap: calc(1 * var(--u));
  min-height: 0; }}
.scr-tiles .tile {{ background: {PANEL}; border-radius: calc(0.8 * var(--u));
  border-left: calc(0.7 * var(--u)) solid var(--flag); padding: calc(1.0 * var(--u)) calc(1.4 * var(--u));
  display: flex; flex-direction: column; justify-content: space-between; min-width: 0; overflow: hidden;
  white-space: nowrap; }}
.scr-tiles .top {{ display: flex; justify-content: space-between; align-items: baseline;
  gap: calc(0.8 * var(--u)); height: calc(3.2 * var(--u)); line-height: calc(3.2 * var(--u)); }}
.scr-tiles .label {{ font-size: calc(2.5 * var(--u)); color: {text}; font-weight: 700; }}
.scr-tiles .line {{ font-size: calc(1.6 * var(--u)); color: {muted}; }}
.scr-tiles .value {{ height: calc({VALUE_U * 1.18} * var(--u)); line-height: calc({VALUE_U * 1.18} * var(--u));
  font-weight: 800; color: #ffffff; font-variant-numeric: tabular-nums; letter-spacing: -0.01em; }}
.scr-tiles .ratio {{ height: calc({RATIO_U * 1.4} * var(--u)); line-height: calc({RATIO_U * 1.4} * var(--u));
  color: {text}; }}
.scr-tiles .gap {{ height: calc(2.6 * var(--u)); }}
.scr-tiles .chip {{ display: inline-block; font-size: calc(1.8 * var(--u)); line-height: calc(2.6 * var(--u));
  color: #fff; font-weight: 700; padding: 0 calc(0.8 * var(--u)); border-radius: calc(0.4 * var(--u)); }}
.scr-list {{ background: {PANEL}; border-radius: calc(0.8 * var(--u));
  padding: calc(1.0 * var(--u)) calc(1.4 * var(--u)); display: flex; flex-direction: column; overflow: hidden; }}
.scr-list.laggards {{ height: calc({LAGGARD_U} * var(--u)); }}
.scr-list.supervision {{ height: calc({MAIN_U - LAGGARD_U - GAP_U} * var(--u)); }}
.scr-list .head {{ display: flex; justify-content: space-between; align-items: center; white-space: nowrap;
  height: calc(3.6 * var(--u)); line-height: calc(3.6 * var(--u)); }}
.scr-list .name {{ font-size: calc(2.6 * var(--u)); font-weight: 700; color: #fff; }}
.scr-list .sum {{ font-size: calc(1.9 * var(--u)); color: {muted}; }}
.scr-list ol {{ list-style: none; margin: 0; padding: 0; flex: 1; display: grid; grid-auto-rows: 1fr;
  gap: calc(0.6 * var(--u)); min-height: 0; }}
.scr-list li {{ display: grid; grid-template-columns: auto auto 1fr; grid-template-rows: auto auto;
  column-gap: calc(0.9 * var(--u)); align-content: center; border-left: calc(0.5 * var(--u)) solid var(--flag);
  padding-left: calc(1 * var(--u)); overflow: hidden; min-height: 0; margin: 0; }}
.scr-list li.blank, .scr-list li.empty {{ border-left-color: transparent; }}
.scr-list .who {{ grid-area: 1 / 1; font-size: calc(2.3 * var(--u)); line-height: 1.2; font-weight: 700;
  color: #fff; white-space: nowrap; }}
.scr-list .tag {{ grid-area: 1 / 2; font-size: calc(1.6 * var(--u)); color: {muted}; align-self: center;
  white-space: nowrap; }}
.scr-list .note {{ grid-area: 1 / 3; font-size: calc(1.9 * var(--u)); font-weight: 700; color: var(--flag);
  justify-self: end; align-self: center; white-space: nowrap; }}
.scr-list .text {{ grid-area: 2 / 1 / 3 / 4; font-size: calc(1.9 * var(--u)); color: {text}; line-height: 1.25;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.scr-list li.empty .text {{ grid-area: 1 / 1 / 3 / 4; color: {muted}; }}
.scr-footer {{ display: flex; justify-content: space-between; align-items: center; white-space: nowrap;
  overflow: hidden; height: calc({FOOTER_U} * var(--u)); font-size: calc(1.6 * var(--u)); color: {muted}; }}
.scr-footer .keys {{ display: flex; gap: calc(2.4 * var(--u)); color: {text}; }}
.scr-footer .key i {{ display: inline-block; width: calc(1.6 * var(--u)); height: calc(1.6 * var(--u));
  border-radius: calc(0.3 * var(--u)); margin-right: calc(0.6 * var(--u)); vertical-align: -0.15em; }}
</style>"""


# ---- figures sized to the viewport ------------------------------------------------------------

DESIGN_WIDTH, DESIGN_HEIGHT = 1920, 1080
FIGURE_BOTTOM_PX = 12   # a figure's bottom margin without its footer (x tick labels add their own)


@dataclass(frozen=True)
class Viewport:
    """The browser window in CSS pixels, as the page reports it."""
    width: int = DESIGN_WIDTH
    height: int = DESIGN_HEIGHT

    @property
    def unit_px(self) -> float:
        """One u in pixels (see the module docstring)."""
        return min(self.height / 100, self.width * 0.5625 / 100)

    @property
    def scale(self) -> float:
        """Pixels of this viewport per pixel of the 1920×1080 design."""
        return self.unit_px * 100 / DESIGN_HEIGHT


def parse_viewport(value) -> Viewport:
    """The viewport from what the browser sent ({'width': …, 'height': …}), the design size if
    nothing usable came."""
    try:
        width, height = int(value["width"]), int(value["height"])
    except (TypeError, KeyError, ValueError):
        return Viewport()
    if not (320 <= width <= 20_000 and 240 <= height <= 20_000):
        return Viewport()
    return Viewport(width, height)


def compute_slot_px(viewport: Viewport, units: float) -> int:
    """A slot's height in pixels (rounded down, so a figure never overflows its slot)."""
    return int(units * viewport.unit_px)


def build_theme(viewport: Viewport) -> Theme:
    """The dark theme with fonts scaled to the viewport, a little larger than the desk's."""
    scale = viewport.scale
    return replace(DARK, base_font=round(DARK.base_font * scale), title_font=round(DARK.title_font * scale))


def fit_figure(fig: go.Figure, viewport: Viewport, footer: str = "") -> go.Figure:
    """Scale a figure built with `build_theme(viewport)`: margins and annotations' offsets follow
    the fonts (charts lays them out in pixels for the 1080p design). The `footer` annotation
    (data date, source, demo mark) is dropped: the wall says it once, in its own header and
    footer, instead of once per chart in small print."""
    scale = viewport.scale
    kept = [a for a in fig.layout.annotations if not (footer and a.text == footer)]
    for annotation in kept:
        if annotation.yshift:
            annotation.yshift = annotation.yshift * scale
    margin = fig.layout.margin
    bottom = (margin.b or 0) if len(kept) == len(fig.layout.annotations) else FIGURE_BOTTOM_PX
    fig.layout.annotations = kept
    fig.update_layout(margin=dict(
        l=round((margin.l or 0) * scale), r=round((margin.r or 0) * scale),
        t=round((margin.t or 0) * scale), b=round(bottom * scale)))
    fig.update_xaxes(automargin=True)
    return fig


def highlight_ranking(fig: go.Figure, counties: Sequence[str], theme: Theme) -> go.Figure:
    """Outline the bars of `counties` (the spotlight or the counties chosen) and bold their names."""
    if not fig.data or not counties:
        return fig
    bars = fig.data[0]
    names = list(bars.y)
    width = max(2, round(theme.base_font / 5))
    bars.marker.line = dict(color=[ACCENT if n in counties else "rgba(0,0,0,0)" for n in names],
                            width=[width if n in counties else 0 for n in names])
    fig.update_yaxes(tickmode="array", tickvals=names,
                     ticktext=[f"<b><span style='color:{ACCENT}'>{n}</span></b>" if n in counties else n
                               for n in names])
    return fig


def compute_bounds(geojson: dict) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of every coordinate of a FeatureCollection."""
    lons, lats = [], []

    def walk(coords):
        if coords and isinstance(coords[0], int | float):
            lons.append(coords[0])
            lats.append(coords[1])
        else:
            for c in coords:
                walk(c)

    for feature in geojson["features"]:
        walk(feature["geometry"]["coordinates"])
    return min(lons), min(lats), max(lons), max(lats)


# The smallest span (share of the world) a map frames: about a kilometre.
MIN_SPAN = 1e-5


def _mercator_y(lat: float) -> float:
    """Web Mercator y in [0, 1] (0 at the top)."""
    phi = math.radians(lat)
    return (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2


def compute_map_view(bounds: tuple[float, float, float, float], width_px: float, height_px: float,
                     padding: float = 0.94) -> tuple[dict, float]:
    """Centre and zoom that fit `bounds` into a map of width × height pixels, using `padding`
    of it. MapLibre draws 512-pixel tiles: the world is 512·2^zoom pixels wide."""
    min_lon, min_lat, max_lon, max_lat = bounds
    # A drawing area squeezed to nothing (a tall note above a province's map) or bounds of a single
    # point (one county drawn, or none) would give a zoom of log(0): frame at least a pixel and
    # a small span instead of failing the whole wall.
    width_px, height_px = max(width_px, 1.0), max(height_px, 1.0)
    span_x = max((max_lon - min_lon) / 360, MIN_SPAN)
    top, bottom = _mercator_y(max_lat), _mercator_y(min_lat)
    world = min(width_px * padding / span_x, height_px * padding / max(bottom - top, MIN_SPAN))  # px per world
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - (top + bottom)))))
    return {"lon": (min_lon + max_lon) / 2, "lat": lat}, math.log2(world / 512)


def project_to_paper(lon: float, lat: float, centre: dict, zoom: float, width_px: float,
                     height_px: float) -> tuple[float, float]:
    """Where a point falls in a map of width × height pixels shown at `centre` and `zoom`, as
    plotly paper coordinates (0..1 left to right, bottom to top)."""
    world = 512 * 2 ** zoom
    dx = ((lon - centre["lon"]) / 360) * world
    dy = (_mercator_y(lat) - _mercator_y(centre["lat"])) * world
    return 0.5 + dx / width_px, 0.5 - dy / height_px


def compute_label_points(geojson: dict) -> dict[str, tuple[float, float]]:
    """County name -> where its label reads best: the point of its largest part furthest from
    the border (pole of inaccessibility), rather than merely some point inside it."""
    points = {}
    for feature in geojson["features"]:
        geometry = shape(feature["geometry"])
        part = max(getattr(geometry, "geoms", [geometry]), key=lambda g: g.area)
        point = polylabel(part, tolerance=0.002)
        points[feature["properties"]["name"]] = (point.x, point.y)
    return points


# A light halo around the dark map labels: a province's labels fall on red and green counties and
# across borders onto the wall's dark background, where bare dark text could not be read.
LABEL_HALO = "0 0 3px rgba(255,255,255,0.95), 0 0 6px rgba(255,255,255,0.8)"


def fit_map(fig: go.Figure, bounds: tuple[float, float, float, float], height_px: int, width_px: int,
            highlight: Sequence[str] = (), geojson: dict | None = None, theme: Theme = DARK) -> go.Figure:
    """Frame the city in the map's drawing area and outline the highlighted counties (adcodes).

    The county labels become annotations at the same places: MapLibre hides a map label that
    collides with another (a small district such as 渭滨区 loses its name and value), an
    annotation is always drawn. The legend goes (the wall's footer explains the flag colours
    once for every panel), and the outline trace is there even when empty, so the figure keeps
    its shape from panel to panel."""
    margin = fig.layout.margin
    inner_w = width_px - (margin.l or 0) - (margin.r or 0)
    inner_h = height_px - (margin.t or 0) - (margin.b or 0)
    centre, zoom = compute_map_view(bounds, inner_w, inner_h)
    fig.update_layout(map=dict(center=centre, zoom=zoom), showlegend=False)
    labels = [t for t in fig.data if t.type == "scattermap" and t.mode == "text"]
    places = compute_label_points(geojson) if geojson is not None else {}
    # A province's red counties crowd around its capital: beyond a city's size, a label that
    # would cover one already placed is left to the hover (the furthest behind are placed first).
    crowded = geojson is not None and len(geojson["features"]) > MAP_ALL_LABELS_UP_TO
    placed: list[tuple[float, float, float, float]] = []
    for trace in labels:
        for lon, lat, text in list(zip(trace.lon, trace.lat, trace.text, strict=True))[::-1 if crowded else 1]:
            lon, lat = places.get(text.split("<br>")[0], (lon, lat))
            x, y = project_to_paper(lon, lat, centre, zoom, inner_w, inner_h)
            box = compute_label_box(text, x, y, trace.textfont.size, inner_w, inner_h)
            if crowded and any(overlaps(box, other) for other in placed):
                continue
            placed.append(box)
            fig.add_annotation(x=x, y=y, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False,
                               font=dict(size=trace.textfont.size, color=trace.textfont.color, shadow=LABEL_HALO))
    fig.data = tuple(t for t in fig.data if t not in labels)
    if geojson is not None:
        fig.add_trace(go.Choroplethmap(
            geojson=build_plot_boundaries(geojson, highlight), featureidkey="properties.adcode",
            locations=list(highlight), z=[1] * len(highlight),
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, showlegend=False,
            marker=dict(line=dict(color=ACCENT, width=max(3, round(theme.base_font / 4)))), hoverinfo="skip",
            name="spotlight"))
    return fig


def compute_label_box(text: str, x: float, y: float, font_px: float, width_px: float, height_px: float
                      ) -> tuple[float, float, float, float]:
    """The paper-coordinate box (left, bottom, right, top) a centred map label of `text` (lines
    split by <br>) covers at `font_px` in a drawing area of width × height pixels."""
    lines = text.split("<br>")
    half_w = max(len(line) for line in lines) * font_px * 0.55 / max(width_px, 1.0)
    half_h = len(lines) * font_px * 0.65 / max(height_px, 1.0)
    return x - half_w, y - half_h, x + half_w, y + half_h


def build_figures(table: pd.DataFrame, measure: Measure, meta: ChartMeta, viewport: Viewport,
                  highlight: Sequence[str], geojson: dict, view: MapView, ranking_table: pd.DataFrame | None = None,
                  ranked_as: str = "县区") -> tuple[go.Figure, go.Figure]:
    """The ranking and the map of `measure` (a ranked measure table of every county) for this
    viewport, the `highlight` counties (names) outlined on both. `geojson` and `view` are the
    store's (geo.load_store_boundaries / load_store_map_view); the map is then fitted to the wall.
    `ranking_table` (a province's cities, `ranked_as` 市) replaces the counties in the ranking."""
    theme = build_theme(viewport)
    height = compute_slot_px(viewport, MAIN_U)
    name = f"{PROGRAMS[measure.program]}{measure.label}"
    ranked = table if ranking_table is None else ranking_table
    ranking = charts.build_ranking_figure(ranked, measure, meta, title=f"各{ranked_as}{name}排名", theme=theme,
                                          height=height)
    ranking = highlight_ranking(fit_figure(ranking, viewport, meta.footer), highlight, theme)
    county_map = charts.build_choropleth_figure(table, measure, meta, geojson, view, title=f"各县区{name}分布",
                                                theme=theme, height=height)
    # Frame the counties drawn: the store's counties that have an outline (the others are named
    # in the map's boundary note), all outlines when none has.
    drawn = table[table["adcode"].isin(list_boundary_adcodes(geojson))]
    features = [f for f in geojson["features"] if f["properties"]["adcode"] in set(drawn["adcode"])]
    bounds = compute_bounds({"features": features or geojson["features"]})
    adcodes = drawn.loc[drawn["county"].isin(highlight), "adcode"].tolist()
    county_map = fit_map(fit_figure(county_map, viewport, meta.footer), bounds, height,
                         compute_column_px(viewport)[1], highlight=adcodes, geojson=geojson, theme=theme)
    return ranking, county_map


def describe_wall_place(spotlight: str | None, counties: Sequence[str], city: str, whole: str) -> str:
    """What the wall's header names: the county in the spotlight, else the counties of the link,
    else the city of ?city=, else the whole store (全省 / 全市)."""
    return spotlight or ("、".join(counties) if counties else city or whole)


def compute_column_px(viewport: Viewport) -> list[int]:
    """The widths in pixels of the three main columns (ranking, map, lists)."""
    unit = viewport.unit_px
    content = viewport.width - 2 * PAD_U * 1.4 * unit - (len(COLUMNS) - 1) * GAP_U * 1.4 * unit
    return [int(content * share / sum(COLUMNS)) for share in COLUMNS]


# Reports the browser window's size to Python (a Streamlit component's state), and again after a
# resize, so figures can be drawn for the wall they are on.
VIEWPORT_JS = """
export default function(component) {
  const { setStateValue } = component;
  const report = () => setStateValue("size", {width: window.innerWidth, height: window.innerHeight});
  report();
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(report, 400); };
  window.addEventListener("resize", onResize);
  return () => { clearTimeout(timer); window.removeEventListener("resize", onResize); };
}
"""
