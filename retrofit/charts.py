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
from shapely.geometry import shape

from . import fmt
from .geo import load_boundaries
from .measures import GREEN, NO_FLAG, RED, YELLOW, Measure
from .settings import FLAG_COLOURS, FLAG_THRESHOLDS, PALETTE, PRIMARY

FONT_FAMILY = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
FLAG_LABELS = {RED: f"红:落后超过{FLAG_THRESHOLDS.red_gap_pp:g}个百分点", YELLOW: "黄:落后于目标线",
               GREEN: "绿:达到或超过目标线", NO_FLAG: "无任务"}
# The demo city's extent (degrees), for framing the map.
CITY_CENTRE = {"lon": 107.22, "lat": 34.36}
CITY_ZOOM = 7.3


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
                   x=0.0, xanchor="left", font=dict(size=theme.title_font, color=theme.text)),
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


def _target_label(measure: Measure, target: float) -> str:
    kind = "时间进度线" if measure.deadline else "目标"
    return f"{kind} {fmt.format_percent(target)}"


def build_ranking_figure(table: pd.DataFrame, measure: Measure, meta: ChartMeta, title: str | None = None,
                         theme: Theme = LIGHT, height: int | None = None) -> go.Figure:
    """Counties as horizontal bars, best on top, coloured by flag, value labelled, with the
    target line (half-time line or fixed target) drawn across. `table` is a ranked measure table."""
    ranked = table.iloc[::-1]  # plotly draws the first category at the bottom
    values = [None if pd.isna(v) else float(v) * 100 for v in ranked["value"]]
    fig = go.Figure(go.Bar(
        x=values, y=ranked["county"], orientation="h", customdata=ranked[["county"]].to_numpy(),
        marker_color=[FLAG_COLOURS[f] for f in ranked["flag"]], text=_percent_labels(ranked),
        # Inside the bar end where it fits, so labels never collide with the target line.
        textposition="auto", insidetextanchor="end", cliponaxis=False,
        insidetextfont=dict(size=theme.base_font, color="#ffffff"),
        outsidetextfont=dict(size=theme.base_font, color=theme.text),
        hovertext=[f"{c}:{fmt.format_count(n, measure.unit)} / {fmt.format_count(d, measure.unit)}"
                   for c, n, d in zip(ranked["county"], ranked["numerator"], ranked["denominator"])],
        hovertemplate="%{hovertext}<extra></extra>", showlegend=False))
    target = table["target"].dropna()
    if len(target):
        x = float(target.iloc[0]) * 100
        fig.add_vline(x=x, line=dict(color=theme.text, dash="dash", width=2))
        fig.add_annotation(x=x, y=1.0, yref="paper", yanchor="bottom", text=_target_label(measure, target.iloc[0]),
                           showarrow=False, font=dict(size=theme.base_font - 1, color=theme.text))
    top = max([v for v in values if v is not None] + [100.0])
    fig.update_xaxes(range=[0, top * 1.12], ticksuffix="%", showgrid=True)
    fig.update_yaxes(automargin=True, tickfont=dict(size=theme.base_font))
    fig.update_layout(bargap=0.28)
    return _layout(fig, title or f"各县区{measure.label}排名", "%", meta, theme, height or 80 + 34 * len(table) + 90)


def build_choropleth_figure(table: pd.DataFrame, measure: Measure, meta: ChartMeta, title: str | None = None,
                            theme: Theme = LIGHT, height: int = 620) -> go.Figure:
    """The city's counties coloured by flag and labelled with the measure's value, on a blank
    background (no tile server needed: MapLibre's white-bg style draws offline)."""
    boundaries = load_boundaries()
    fig = go.Figure()
    for flag in (RED, YELLOW, GREEN, NO_FLAG):
        part = table[table["flag"] == flag]
        if part.empty:
            continue
        fig.add_trace(go.Choroplethmap(
            geojson=boundaries, featureidkey="properties.adcode", locations=part["adcode"],
            z=[1] * len(part), colorscale=[[0, FLAG_COLOURS[flag]], [1, FLAG_COLOURS[flag]]], showscale=False,
            marker=dict(opacity=0.85, line=dict(color="#ffffff", width=1.5)), name=FLAG_LABELS[flag],
            showlegend=True, customdata=part[["county"]].to_numpy(),
            hovertext=[f"{c} {measure.label}{v}" for c, v in zip(part["county"], _percent_labels(part))],
            hovertemplate="%{hovertext}<extra></extra>"))
    centres = {f["properties"]["adcode"]: shape(f["geometry"]).representative_point()
               for f in boundaries["features"]}
    points = [centres[a] for a in table["adcode"]]
    fig.add_trace(go.Scattermap(
        lon=[p.x for p in points], lat=[p.y for p in points], mode="text", showlegend=False,
        text=[f"{c}<br>{v}" for c, v in zip(table["county"], _percent_labels(table))],
        textfont=dict(size=theme.base_font - 1, color="#10161f"), hoverinfo="skip"))
    fig.update_layout(map=dict(style="white-bg", center=CITY_CENTRE, zoom=CITY_ZOOM),
                      clickmode="event+select")
    fig = _layout(fig, title or f"各县区{measure.label}分布", "", meta, theme, height)
    fig.update_layout(legend=dict(orientation="v", yanchor="bottom", y=0.02, xanchor="left", x=0.01,
                                  bgcolor="rgba(255,255,255,0.75)", font=dict(color="#1c2430")))
    return fig


def series_colours(names) -> dict[str, str]:
    """A stable colour per category (stage, route, source) from the palette."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}

