"""Figures, returned not drawn (`build_*_figure -> go.Figure`), so a page, the big screen and
the exported briefing pack show the very same chart.

Conventions: every figure carries its title, unit, data date, source and the 演示数据 mark
(`ChartMeta`); red / yellow / green are the flag colours from settings and nothing else;
on every per-county trace `customdata[0]` is the county name, so a click can filter by it.
"""
from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from . import fmt
from .geo import (MapView, build_boundary_note, build_plot_boundaries, compute_county_centres,
                  list_boundary_adcodes, list_labelled_counties)
from .measures import GREEN, NO_FLAG, RED, YELLOW, Measure, read_city_line
from .report import CITY, PROVINCE, SCOPE_TOTAL
from .settings import (FLAG_COLOURS, FLAG_THRESHOLDS, MAX_CHART_HEIGHT_PX, MIN_ROW_PX, PALETTE, PRIMARY,
                       RANKING_CHART_EDGE)
from .vocab import PROGRAMS

FONT_FAMILY = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
FLAG_LABELS = {RED: f"红:落后超过{FLAG_THRESHOLDS.red_gap_pp:g}个百分点", YELLOW: "黄:落后于目标线",
               GREEN: "绿:达到或超过目标线", NO_FLAG: "无任务"}
DATE_TICKS = "%-m月%-d日"


@dataclass(frozen=True)
class Theme:
    """Colours and sizes of one display: the desk (light) or the meeting-room wall (dark)."""
    name: str
    paper: str
    plot: str
    text: str
    muted: str
    grid: str
    base_font: int
    title_font: int


LIGHT = Theme("light", "#ffffff", "#ffffff", "#1c2430", "#5f6b7a", "#e3e7ee", 14, 18)
DARK = Theme("dark", "rgba(0,0,0,0)", "rgba(0,0,0,0)", "#e8eef7", "#9fb0c8", "#2a3a55", 20, 26)


@dataclass(frozen=True)
class ChartMeta:
    """What every chart states besides its data: the as-of date, the source, demo or not."""
    as_of: date
    is_demo: bool
    source: str = "市住建局调度数据"

    @property
    def footer(self) -> str:
        demo = " · 演示数据,非真实统计" if self.is_demo else ""
        return f"数据截至{fmt.format_date(self.as_of)} · 来源:{self.source}{demo}"


def _layout(fig: go.Figure, title: str, unit: str, meta: ChartMeta, theme: Theme, height: int) -> go.Figure:
    """Title with unit, footer with data date and source, fonts and colours of the theme."""
    subtitle = f"单位:{unit}" if unit else ""
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=theme.base_font - 1, color=theme.muted)),
                   x=0.0, xanchor="left", pad=dict(l=12), font=dict(size=theme.title_font, color=theme.text)),
        font=dict(family=FONT_FAMILY, size=theme.base_font, color=theme.text),
        paper_bgcolor=theme.paper, plot_bgcolor=theme.plot, height=height,
        margin=dict(l=10, r=24, t=78, b=64), hoverlabel=dict(font_family=FONT_FAMILY),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0, title_text=""),
    )
    fig.add_annotation(text=meta.footer, xref="paper", yref="paper", x=0.0, y=0.0, yshift=-52,
                       xanchor="left", yanchor="bottom", showarrow=False,
                       font=dict(size=max(11, theme.base_font - 3), color=theme.muted))
    fig.update_xaxes(gridcolor=theme.grid, zerolinecolor=theme.grid)
    fig.update_yaxes(gridcolor=theme.grid, zerolinecolor=theme.grid)
    return fig


def _percent_labels(table: pd.DataFrame) -> list[str]:
    return [fmt.format_percent_of(n, d) for n, d in zip(table["numerator"], table["denominator"])]


def blank_map_style(background: str) -> dict:
    """A MapLibre style with only a background layer. It names no glyph server: labels are then
    drawn with the browser's own fonts (CJK included) instead of being fetched from the
    internet, which plotly's "white-bg" style tries and this machine cannot reach."""
    colour = background if not background.startswith("rgba(0,0,0,0") else "rgba(0,0,0,0)"
    return {"version": 8, "sources": {},
            "layers": [{"id": "background", "type": "background", "paint": {"background-color": colour}}]}


# A value label ('98.2%') takes about this share of the ranking's value axis.
LABEL_SHARE = 0.17


def place_value_labels(values: list[float | None], target: float | None, axis_max: float) -> list[str]:
    """Where each bar's value label goes: inside the bar's end, unless the bar is too short to
    hold it or the target line would cross it there; then just past the bar's end."""
    width = LABEL_SHARE * axis_max
    places = []
    for value in values:
        if value is None:
            places.append("none")
            continue
        crossed = target is not None and value - width <= target <= value
        places.append("inside" if value >= width and not crossed else "outside")
    return places


# A county's bar and its gap (px at the desk's 14 px font), and what a ranking needs besides its
# bars: title, unit, target label, axis and footer.
ROW_PX = 34
RANKING_CHROME_PX = 170
GAP_TICK = "⋯"  # the category standing for the counties left to the table
THIN_ROW_FONTS = 1.2  # a row less than this many label heights tall is thin


@dataclass(frozen=True)
class RankingRows:
    """Which counties a ranking chart draws: `shown` (best first); when counties are left out,
    they sit after the first `gap_after` rows (`hidden` of them, all in the table beside the
    chart), `unnamed_reds` of them red (only when there are more red counties than bars)."""
    shown: pd.DataFrame
    hidden: int = 0
    gap_after: int | None = None
    unnamed_reds: int = 0


# However many red counties there are, the chart keeps at least this many of the best on top.
MIN_BEST_ROWS = 3


def select_ranking_rows(table: pd.DataFrame, edge: int = RANKING_CHART_EDGE, max_rows: int | None = None) -> RankingRows:
    """The rows a ranking chart draws: all of them for a city (up to 2·edge+1 counties, or as many
    as fit at full bar height); else the best `edge`, then the worst `edge` and every red county,
    so the counties a meeting talks about are on it. At most `max_rows` bars (the gap row counts
    as one): red counties come first, the best give way down to MIN_BEST_ROWS, and only beyond
    that are the least bad red counties left to the table. Counties without a task (no rank)
    are left to the table."""
    max_rows = max_rows or (MAX_CHART_HEIGHT_PX - RANKING_CHROME_PX) // MIN_ROW_PX
    full = (MAX_CHART_HEIGHT_PX - RANKING_CHROME_PX) // ROW_PX
    if len(table) <= max(2 * edge + 1, full):
        return RankingRows(table)
    ranked = table[table["rank"].notna()] if "rank" in table else table
    rest = ranked.iloc[edge:]
    bottom = rest[(rest["flag"] == RED) | rest.index.isin(rest.index[-edge:])]
    room = max(max_rows - 1, MIN_BEST_ROWS + 1)
    best = ranked.iloc[:max(min(edge, room - len(bottom)), MIN_BEST_ROWS)]
    dropped = bottom.iloc[:max(len(bottom) - (room - len(best)), 0)]
    shown = pd.concat([best, bottom.iloc[len(dropped):]])
    return RankingRows(shown, hidden=len(table) - len(shown), gap_after=len(best),
                       unnamed_reds=int((dropped["flag"] == RED).sum()))


def compute_ranking_height(rows: int, theme: Theme = LIGHT) -> int:
    """Pixels for a ranking of `rows` bars: full bars while they fit on a screen, then thinner."""
    scale = theme.base_font / LIGHT.base_font
    return min(round((RANKING_CHROME_PX + ROW_PX * rows) * scale), round(MAX_CHART_HEIGHT_PX * scale))


def build_ranking_figure(table: pd.DataFrame, measure: Measure, meta: ChartMeta, title: str | None = None,
                         theme: Theme = LIGHT, height: int | None = None,
                         edge: int = RANKING_CHART_EDGE) -> go.Figure:
    """Counties as horizontal bars, best on top, coloured by flag, value labelled (clear of the
    target line), with the target line (half-time line or fixed target) drawn across.
    `table` is a ranked measure table. Beyond a city's dozen counties only the best and worst
    `edge` and the red ones are drawn (select_ranking_rows), with a gap row saying how many are
    in the table; the chart never grows taller than a screen."""
    scale = theme.base_font / LIGHT.base_font
    max_rows = ((height or MAX_CHART_HEIGHT_PX * scale) - RANKING_CHROME_PX * scale) // (MIN_ROW_PX * scale)
    rows = select_ranking_rows(table, edge, int(max_rows))
    drawn = rows.shown
    if rows.gap_after is not None:
        gap = pd.DataFrame([dict(county=GAP_TICK, numerator=None, denominator=None, value=None, flag=NO_FLAG)])
        drawn = pd.concat([drawn.iloc[:rows.gap_after], gap, drawn.iloc[rows.gap_after:]], ignore_index=True)
    ranked = drawn.iloc[::-1]  # plotly draws the first category at the bottom
    is_gap = (ranked["county"] == GAP_TICK).to_numpy() if rows.gap_after is not None else [False] * len(ranked)
    values = [None if pd.isna(v) else float(v) * 100 for v in ranked["value"]]
    line = read_city_line(table)
    target = line.share * 100 if line.share is not None else None
    # Room past the longest bar (at least 100%) for a label outside it.
    axis_max = max([v for v in values if v is not None] + [100.0]) * (1 + LABEL_SHARE + 0.05)
    # Rows too thin for a label of the theme's font inside the bar (a province's, never a city's
    # dozen, on the desk or the wall): labels in a smaller font, past the bar's end, where plotly
    # would otherwise shrink them to illegible.
    height = height or compute_ranking_height(len(drawn), theme)
    thin = (height - RANKING_CHROME_PX * scale) / len(drawn) < THIN_ROW_FONTS * theme.base_font
    font = max(11, theme.base_font - 2) if thin else theme.base_font
    places = place_value_labels(values, target, axis_max)
    fig = go.Figure(go.Bar(
        x=values, y=ranked["county"],
        orientation="h", customdata=[[None if g else c] for c, g in zip(ranked["county"], is_gap)],
        marker_color=[FLAG_COLOURS[f] for f in ranked["flag"]],
        text=["" if g else label for label, g in zip(_percent_labels(ranked), is_gap)],
        textposition=[p if p == "none" or not thin else "outside" for p in places], insidetextanchor="end",
        cliponaxis=False, insidetextfont=dict(size=font, color="#ffffff"),
        outsidetextfont=dict(size=font, color=theme.text),
        hovertext=["" if g else f"{c}:{fmt.format_count(n, measure.unit)} / {fmt.format_count(d, measure.unit)}"
                   for c, n, d, g in zip(ranked["county"], ranked["numerator"], ranked["denominator"], is_gap)],
        hovertemplate="%{hovertext}<extra></extra>", showlegend=False))
    if target is not None:
        fig.add_vline(x=target, line=dict(color=theme.text, dash="dash", width=2))
        # The label ends at the line, so it never runs off the right edge.
        fig.add_annotation(x=target, y=1.0, yref="paper", yanchor="bottom", xanchor="right",
                           text=fmt.format_target(line.name, line.share), showarrow=False,
                           font=dict(size=theme.base_font - 1, color=theme.text))
    if rows.gap_after is not None:
        reds = f"(其中红色{rows.unnamed_reds}个)" if rows.unnamed_reds else ""
        fig.add_annotation(x=axis_max / 2, y=GAP_TICK, text=f"其余{rows.hidden}个县区{reds}见排名表", showarrow=False,
                           bgcolor=theme.paper, font=dict(size=theme.base_font - 1, color=theme.muted))
    ticks = list(range(0, 101, 20))  # the room past 100% is for labels, not for a tick
    fig.update_xaxes(range=[0, axis_max], tickvals=ticks, ticktext=[fmt.format_percent(t / 100, 0) for t in ticks],
                     showgrid=True)
    fig.update_yaxes(automargin=True, tickfont=dict(size=font))
    fig.update_layout(bargap=0.28)
    fig = _layout(fig, title or f"各县区{PROGRAMS[measure.program]}{measure.label}排名", "%", meta, theme, height)
    return fig


# The boundary note under a map's title: at most this many characters a line (the wall's map,
# the narrowest, holds about 30 at its font size).
NOTE_CHARS_PER_LINE = 22
NOTE_COLOURS = {"light": "#b35c00", "dark": "#e8c468"}  # amber: worth reading, not a flag colour


def wrap_note(text: str, chars_per_line: int = NOTE_CHARS_PER_LINE) -> str:
    """`text` broken (plotly's <br>) after a '、' or ':' so no line is longer than
    `chars_per_line` where a break is possible; a county name is never split."""
    lines, line = [], ""
    for piece in text.replace("、", "、\n").replace(":", ":\n").split("\n"):
        if line and len(line) + len(piece) > chars_per_line:
            lines.append(line)
            line = ""
        line += piece
    return "<br>".join(lines + [line])


def describe_choropleth_title(measure: Measure) -> str:
    """The county map's default title (also its download's file name)."""
    return f"各县区{PROGRAMS[measure.program]}{measure.label}分布"


def build_choropleth_figure(table: pd.DataFrame, measure: Measure, meta: ChartMeta, boundaries: dict,
                            view: MapView, title: str | None = None, theme: Theme = LIGHT,
                            height: int = 620) -> go.Figure:
    """The city's counties (`boundaries`, geo.load_store_boundaries, framed by `view`) coloured
    by flag and labelled with the measure's value, on a blank background (no tile server or
    glyph server needed). Counties without a boundary are left off, and named in a note under
    the title."""
    drawn = table[table["adcode"].isin(list(list_boundary_adcodes(boundaries)))]
    fig = go.Figure()
    for flag in (RED, YELLOW, GREEN, NO_FLAG):
        part = drawn[drawn["flag"] == flag]
        if part.empty:
            continue
        fig.add_trace(go.Choroplethmap(
            geojson=build_plot_boundaries(boundaries, part["adcode"]), featureidkey="properties.adcode",
            locations=part["adcode"],
            z=[1] * len(part), colorscale=[[0, FLAG_COLOURS[flag]], [1, FLAG_COLOURS[flag]]], showscale=False,
            marker=dict(opacity=0.85, line=dict(color="#ffffff", width=1.5)), name=FLAG_LABELS[flag],
            showlegend=True, customdata=part[["county"]].to_numpy(),
            hovertext=[f"{c} {measure.label}{v}" for c, v in zip(part["county"], _percent_labels(part))],
            hovertemplate="%{hovertext}<extra></extra>"))
    labelled = list_labelled_counties(drawn)
    centres = compute_county_centres(boundaries, labelled["adcode"])
    points = [centres[a] for a in labelled["adcode"]]
    fig.add_trace(go.Scattermap(
        lon=[p.x for p in points], lat=[p.y for p in points], mode="text", showlegend=False,
        text=[f"{c}<br>{v}" for c, v in zip(labelled["county"], _percent_labels(labelled))],
        # MapLibre accepts only its own font names here; with no glyph server in the style it
        # draws them with the browser's fonts.
        textfont=dict(size=theme.base_font - 1, color="#10161f", family="Open Sans Bold"), hoverinfo="skip"))
    fig.update_layout(map=dict(style=blank_map_style(theme.paper), center=dict(lon=view.lon, lat=view.lat),
                               zoom=view.zoom),
                      clickmode="event+select")
    fig = _layout(fig, title or describe_choropleth_title(measure), "", meta, theme, height)
    fig.update_layout(legend=dict(orientation="v", yanchor="bottom", y=0.02, xanchor="left", x=0.01,
                                  bgcolor="rgba(255,255,255,0.75)", font=dict(color="#1c2430")))
    if note := build_boundary_note(table, boundaries):
        # In the subtitle's place (a map has no unit), above the drawing: never over a county.
        text = wrap_note(note)
        fig.update_layout(title_subtitle=dict(text=text, font=dict(color=NOTE_COLOURS.get(theme.name, "#b35c00"))),
                          margin_t=fig.layout.margin.t + text.count("<br>") * round(theme.base_font * 1.3))
    return fig


def series_colours(names) -> dict[str, str]:
    """A stable colour per category (stage, route, source) from the palette."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}



def compute_county_bars_height(counties: int) -> int:
    """Pixels for one bar per county: full bars for a city, thinner ones (plotly then labels
    every other county or so) rather than a chart taller than the screen for a province."""
    return min(180 + ROW_PX * counties, MAX_CHART_HEIGHT_PX)


def _stacked_county_bars(buckets: pd.DataFrame, counties: pd.Series, colours: dict[str, str],
                         unit: str) -> go.Figure:
    """Horizontal stacked bars, one per county (first county on top), one segment per bucket."""
    fig = go.Figure()
    order = counties.iloc[::-1]
    for label in buckets.columns:
        values = buckets[label].iloc[::-1]
        fig.add_trace(go.Bar(y=order, x=values, name=label, orientation="h", marker_color=colours[label],
                             customdata=order.to_frame().to_numpy(),
                             hovertemplate=f"%{{y}} {label}:%{{x:,}}{unit}<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.3, legend_traceorder="normal")
    fig.update_yaxes(automargin=True)
    return fig


# Steps from "nothing yet" (grey) through work under way (teal) to done (dark blue); never
# red, yellow or green, which belong to the flags.
STEP_COLOURS = ["#c9ced6", "#d6e4f0", "#9ecae1", "#6baed6", "#3aa39a", "#2f6aa8", "#14304d"]


def build_stage_by_county_figure(counts: pd.DataFrame, buckets: pd.DataFrame, meta: ChartMeta,
                                 theme: Theme = LIGHT) -> go.Figure:
    """Communities of the batch by the stage they stand at, per county (`buckets` from
    measures.compute_step_buckets, aligned with `counts`' county column)."""
    colours = dict(zip(buckets.columns, STEP_COLOURS))
    fig = _stacked_county_bars(buckets, counts["county"], colours, "个")
    return _layout(fig, "各县区小区改造阶段分布", "个小区", meta, theme, compute_county_bars_height(len(counts)))


def build_milestone_by_county_figure(progress: pd.DataFrame, buckets: pd.DataFrame, meta: ChartMeta,
                                     theme: Theme = LIGHT) -> go.Figure:
    """Households of the year's task by the milestone they stand at, per county, with the plan
    target (including carry-over) marked."""
    colours = dict(zip(buckets.columns, STEP_COLOURS[:1] + STEP_COLOURS[3:]))
    fig = _stacked_county_bars(buckets, progress["county"], colours, "户")
    order = progress.iloc[::-1]
    fig.add_trace(go.Scatter(
        y=order["county"], x=order["target_households"], mode="markers", name="年度计划(含结转)",
        marker=dict(symbol="line-ns", size=26, line=dict(width=3, color=theme.text)),
        customdata=order[["county", "carryover_households"]].to_numpy(),
        hovertemplate="%{y} 计划%{x:,}户(其中结转%{customdata[1]:,}户)<extra></extra>"))
    return _layout(fig, "各县区农户清洁取暖改造进度", "户", meta, theme, compute_county_bars_height(len(progress)))


def build_batch_progress_figure(batches: pd.DataFrame, stage_labels: list[str], meta: ChartMeta,
                                theme: Theme = LIGHT) -> go.Figure:
    """Stage funnel by batch: the share of each batch's communities that reached each stage."""
    columns = [c for c in batches.columns if c.endswith("_communities")]
    shares = batches[columns].div(batches["communities"], axis=0) * 100
    text = [[f"{int(n)}/{int(total)}<br>{fmt.format_percent_of(int(n), int(total))}" for n in row]
            for row, total in zip(batches[columns].to_numpy(), batches["communities"])]
    fig = go.Figure(go.Heatmap(
        z=shares.to_numpy(), x=stage_labels, y=[f"{y}年批次" for y in batches["year"]], text=text,
        texttemplate="%{text}", colorscale=[[0, "#f3f5f8"], [1, PRIMARY]], zmin=0, zmax=100, showscale=False,
        hovertemplate="%{y} %{x}:%{text}<extra></extra>", xgap=2, ygap=2,
        textfont=dict(size=theme.base_font - 1)))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    return _layout(fig, "各批次改造阶段漏斗(已到达该阶段的小区占比)", "个小区 / %", meta, theme,
                   140 + 52 * len(batches))


def build_investment_figure(progress: pd.DataFrame, meta: ChartMeta, theme: Theme = LIGHT) -> go.Figure:
    """Planned against completed investment per county (万元)."""
    fig = go.Figure()
    for column, name, colour in (("planned_investment_yuan", "计划投资", "#b7cde3"),
                                 ("completed_investment_yuan", "完成投资", PRIMARY)):
        wan = progress[column] / 10_000
        fig.add_trace(go.Bar(x=progress["county"], y=wan, name=name, marker_color=colour,
                             customdata=progress[["county"]].to_numpy(),
                             hovertemplate=f"%{{x}} {name}:%{{y:,.2f}}万元<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.25)
    return _layout(fig, "各县区计划投资与完成投资", "万元", meta, theme, 420)


def build_funds_by_source_figure(balance: pd.DataFrame, meta: ChartMeta, theme: Theme = LIGHT) -> go.Figure:
    """Per fund source (万元, stacked): disbursed, undisbursed, and of that what counts as
    retained (资金留置, red). `balance` is report.compute_fund_balance."""
    by_source = balance.groupby("source", sort=False)[["disbursed_yuan", "undisbursed_yuan", "retained_yuan"]].sum()
    fig = go.Figure()
    for values, name, colour in ((by_source["disbursed_yuan"], "已拨付", PRIMARY),
                                 (by_source["undisbursed_yuan"] - by_source["retained_yuan"], "未拨付(未到期或未满期)",
                                  "#b7cde3"),
                                 (by_source["retained_yuan"], "资金留置", FLAG_COLOURS[RED])):
        fig.add_trace(go.Bar(y=by_source.index, x=values / 10_000, name=name, orientation="h", marker_color=colour,
                             hovertemplate=f"%{{y}} {name}:%{{x:,.2f}}万元<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.3, legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, "各来源资金下达与拨付", "万元", meta, theme, 120 + 34 * len(by_source) + 60)


def build_retained_by_county_figure(retained: pd.DataFrame, band_order: list[str], meta: ChartMeta,
                                    theme: Theme = LIGHT) -> go.Figure:
    """Money allocated but not disbursed, per county, by how long it has waited (万元), older
    money darker. Whether it counts as 资金留置 is the table's red flag, not this chart's."""
    pivot = (retained.pivot_table(index="county", columns="age_band", values="undisbursed_yuan", aggfunc="sum",
                                  sort=False).reindex(columns=band_order).fillna(0) / 10_000)
    colours = dict(zip(band_order, STEP_COLOURS[2:3] + STEP_COLOURS[3:4] + STEP_COLOURS[5:7]))
    fig = go.Figure()
    for band in band_order:
        fig.add_trace(go.Bar(x=pivot.index, y=pivot[band], name=band, marker_color=colours[band],
                             customdata=pivot.index.to_frame().to_numpy(),
                             hovertemplate=f"%{{x}} {band}:%{{y:,.2f}}万元<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.3)
    return _layout(fig, "各县区已下达未拨付资金及账龄", "万元", meta, theme, 420)


def build_route_mix_figure(mix: pd.DataFrame, routes: list[str], meta: ChartMeta, theme: Theme = LIGHT) -> go.Figure:
    """Each county's households by technical route, as shares of its task (100% bars)."""
    pivot = mix.pivot_table(index="county", columns="route", values="task_households", aggfunc="sum", sort=False)
    pivot = pivot.reindex(columns=[r for r in routes if r in pivot.columns]).fillna(0)
    shares = pivot.div(pivot.sum(axis=1), axis=0) * 100
    colours = series_colours(routes)
    fig = go.Figure()
    order = shares.index[::-1]
    for route in shares.columns:
        fig.add_trace(go.Bar(y=order, x=shares.loc[order, route], name=route, orientation="h",
                             marker_color=colours[route], customdata=order.to_frame().to_numpy(),
                             text=[f"{v:.0f}%" if v >= 8 else "" for v in shares.loc[order, route]],
                             textposition="inside", insidetextanchor="middle",
                             hovertext=[f"{c} {route}:{int(pivot.loc[c, route]):,}户" for c in order],
                             hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.3)
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(automargin=True)
    return _layout(fig, "各县区技术路线构成", "% (按户数)", meta, theme, compute_county_bars_height(len(shares)))


def build_economics_figure(economics: pd.DataFrame, meta: ChartMeta, invest_reference: int = 10_000,
                           running_reference: int = 1_000, theme: Theme = LIGHT) -> go.Figure:
    """Per route, the average household's initial investment (subsidy + own share) against the
    10,000-yuan reference, and its running cost per season against the 1,000-yuan reference and
    the coal it replaces. `economics` has route and per-household averages in yuan."""
    from plotly.subplots import make_subplots
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12)
    routes = economics["route"]
    for column, name, colour in (("subsidy", "政府补贴", PRIMARY), ("own_share", "农户自付", "#8fb3d9")):
        fig.add_trace(go.Bar(y=routes, x=economics[column], name=name, orientation="h", marker_color=colour,
                             hovertemplate=f"%{{y}} {name}:%{{x:,.0f}}元<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(y=routes, x=economics["running_cost"], name="运行费用", orientation="h",
                         marker_color=[FLAG_COLOURS[RED] if v > running_reference else FLAG_COLOURS[GREEN]
                                       for v in economics["running_cost"]],
                         hovertemplate="%{y} 运行费用:%{x:,.0f}元/季<extra></extra>", showlegend=False), row=1, col=2)
    fig.add_trace(go.Scatter(y=routes, x=economics["coal_cost"], name="原燃煤费用", mode="markers",
                             marker=dict(symbol="diamond", size=11, color=theme.text),
                             hovertemplate="%{y} 原燃煤:%{x:,.0f}元/季<extra></extra>"), row=1, col=2)
    for col, reference, label in ((1, invest_reference, "参考值 1万元"), (2, running_reference, "参考值 1000元")):
        fig.add_vline(x=reference, line=dict(color=theme.text, dash="dash", width=2), row=1, col=col,
                      annotation_text=label, annotation_position="top")
    fig.update_layout(barmode="stack", bargap=0.3, legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_xaxes(title_text="户均初始投资(元)", tickformat=",d", row=1, col=1)
    fig.update_xaxes(title_text="户均每季运行费用(元)", row=1, col=2)
    fig = _layout(fig, "分技术路线户均经济账", "元", meta, theme, 170 + 40 * len(economics) + 60)
    fig.update_layout(margin=dict(b=96))
    fig.layout.annotations[-1].yshift = -84  # the footer, below the axis titles
    return fig


def build_trend_figure(trend: pd.DataFrame, measure: Measure, meta: ChartMeta, counties: list[str] | None = None,
                       theme: Theme = LIGHT, curve: pd.DataFrame | None = None) -> go.Figure:
    """The measure over report dates: the city (or scope) line, chosen counties, and the target
    line: `curve` (report.compute_target_curve, drawn through the plan's nodes) when given, else
    the target on each report date."""
    fig = go.Figure()
    total = next((t for t in (CITY, PROVINCE) if (trend["county"] == t).any()), SCOPE_TOTAL)
    shown = [total] + list(counties or [])
    colours = series_colours(shown)
    for name in shown:
        part = trend[trend["county"] == name]
        fig.add_trace(go.Scatter(x=part["date"], y=part["value"].astype("float64") * 100, name=name, mode="lines+markers",
                                 line=dict(width=4 if name == total else 2, color=colours[name]),
                                 customdata=part[["county"]].to_numpy(),
                                 hovertemplate=f"{name} %{{x|%Y-%m-%d}}:%{{y:.1f}}%<extra></extra>"))
    line = curve if curve is not None else trend[trend["county"] == total]
    if line["target"].notna().any():
        fig.add_trace(go.Scatter(x=line["date"], y=line["target"].astype("float64") * 100,
                                 name=line["line"].iloc[-1] or "目标", mode="lines",
                                 line=dict(dash="dash", color=theme.muted)))
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(tickformat=DATE_TICKS)
    return _layout(fig, f"{measure.label}走势(按调度日期)", "%", meta, theme, 420)


def build_stage_timeline_figure(community: pd.Series, stages, meta: ChartMeta, theme: Theme = LIGHT) -> go.Figure:
    """One community's stages, planned against actual dates (a late actual is drawn red)."""
    fig = go.Figure()
    labels = [s.label for s in stages]
    planned = [community[f"{s.key}_planned"] for s in stages]
    actual = [community[f"{s.key}_actual"] for s in stages]
    fig.add_trace(go.Scatter(x=planned, y=labels, mode="markers", name="计划日期",
                             marker=dict(symbol="circle-open", size=16, line=dict(width=3, color=theme.muted)),
                             hovertemplate="%{y} 计划:%{x|%Y-%m-%d}<extra></extra>"))
    late = [a is not None and p is not None and not pd.isna(a) and a > p for a, p in zip(actual, planned)]
    fig.add_trace(go.Scatter(x=actual, y=labels, mode="markers+lines", name="实际日期",
                             marker=dict(size=14, color=[FLAG_COLOURS[RED] if x else PRIMARY for x in late]),
                             line=dict(color=PRIMARY, width=2),
                             hovertemplate="%{y} 实际:%{x|%Y-%m-%d}<extra></extra>"))
    fig.add_vline(x=meta.as_of, line=dict(color=theme.text, dash="dot", width=1))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.update_xaxes(tickformat="%Y年%-m月")
    return _layout(fig, f"{community['name']} 改造阶段:计划与实际", "", meta, theme, 360)
