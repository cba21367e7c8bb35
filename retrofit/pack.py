"""The briefing pack (会议材料) for the weekly or monthly progress meeting, in one call:

- PPTX: 16:9 slides for the projector: title, headline figures, a ranking slide per measure with
  a native PowerPoint bar chart (editable in PowerPoint / WPS), the county map as a picture,
  the notice text. Every run names its East Asian font, so Chinese shows in PowerPoint and WPS.
- DOCX: the notice as a 公文 (title, data date, salutation, body, sign-off) with the ranking
  tables as an attachment.
- PDF: the same document printed by the system Chromium from HTML (fonts embedded).

All numbers come from `report` / `notice` and are formatted by `fmt`, as on screen.
"""
import html
import io
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn as docx_qn
from docx.shared import Mm
from docx.shared import Pt as DocxPt
from docx.shared import RGBColor as DocxRGB
from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt
from sqlalchemy.engine import Engine
from xlsxwriter import Workbook as XlsxWorkbook

from . import charts, db, exports, fmt, notice, report
from .geo import MapView, build_boundary_note, load_store_boundaries, load_store_map_view
from .measures import FLAG_LABELS_SHORT, GREEN, NO_FLAG, RED, YELLOW, Measure, find_measure, read_city_line
from .settings import FLAG_COLOURS, FLAG_THRESHOLDS, PRIMARY
from .vocab import HEATING, PROGRAMS, RENOVATION

PACK_FORMATS = ("pptx", "docx", "pdf")
PACK_MIME = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pdf": "application/pdf"}
# The measures ranked in the pack, per program; the first is also mapped.
PACK_MEASURES = {RENOVATION: ("finish_rate", "start_rate", "investment_rate"),
                 HEATING: ("completion_rate", "installed_rate", "disbursement_rate")}
# The headline cards, per program.
HEADLINE_MEASURES = {RENOVATION: ("start_rate", "finish_rate", "investment_rate", "disbursement_rate"),
                     HEATING: ("completion_rate", "installed_rate", "disbursement_rate", "idle_rate")}
PACK_TITLE = "老旧小区改造和清洁取暖工作调度会"
CHROMIUM = "/usr/bin/chromium"


class PackError(Exception):
    """The pack cannot be made as asked (wrong file type, no browser for the PDF): Chinese message."""


@dataclass
class PackContent:
    """Everything the three formats show, computed once."""
    scope: report.Scope
    previous: date | None
    place: str
    meta: charts.ChartMeta
    notice: notice.Notice
    headline: pd.DataFrame
    boundaries: dict   # the store's (geo.load_store_boundaries): the map slides draw these
    view: MapView
    rankings: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)

    @property
    def programs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p, _ in self.rankings))


def load_pack_content(engine: Engine, scope: report.Scope, previous: date | None,
                      programs: tuple[str, ...] = (RENOVATION, HEATING)) -> PackContent:
    rankings = {(p, k): report.rank_measure(engine, p, k, scope, previous)
                for p in programs for k in PACK_MEASURES[p]}
    return PackContent(scope=scope, previous=previous, place=report.describe_place(engine, scope),
                       meta=charts.ChartMeta(scope.as_of, db.load_is_demo(engine), report.describe_source(engine)),
                       notice=notice.build_notice(engine, scope, previous, programs),
                       headline=report.compute_headline(engine, scope), rankings=rankings,
                       boundaries=load_store_boundaries(engine), view=load_store_map_view(engine))


def pack_kind(path: str | Path) -> str:
    """'pptx' | 'docx' | 'pdf' from a file name; PackError (Chinese) for anything else."""
    kind = Path(path).suffix.lower().lstrip(".")
    if kind not in PACK_FORMATS:
        raise PackError(f"文件“{path}”的类型不支持:会议材料只能导出为 .pptx、.docx 或 .pdf")
    return kind


def pack_filename(scope: report.Scope, kind: str, place: str) -> str:
    """'会议材料_陇县_2026-11-20.pptx': what the file covers and when, so packs do not mix up."""
    return f"会议材料_{place}_{scope.as_of.isoformat()}.{kind}"


def build_pack(engine: Engine, scope: report.Scope, previous: date | None, kind: str,
               programs: tuple[str, ...] = (RENOVATION, HEATING)) -> bytes:
    """The briefing pack as PPTX, DOCX or PDF bytes."""
    if kind not in PACK_FORMATS:
        raise PackError(f"会议材料只能导出为 pptx、docx 或 pdf,不支持“{kind}”")
    content = load_pack_content(engine, scope, previous, programs)
    return {"pptx": build_pptx, "docx": build_docx, "pdf": build_pdf}[kind](content)


def _rate(numerator, denominator) -> str:
    return fmt.format_percent_of(int(numerator), int(denominator))


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


# ==== PPTX ======================================================================================

SLIDE_FONT_LATIN, SLIDE_FONT_EA = "Microsoft YaHei", "微软雅黑"
DARK, MUTED, LIGHT_BG = "1C2430", "5F6B7A", "F3F5F8"
# Notice text at NOTICE_PT on a 12.3-inch wide box: about 46 characters a line (digits are
# narrower than Chinese) and 16 lines a slide (line spacing 1.2); more goes on a continuation slide.
# 14 lines, not the 16 that fit in PowerPoint: LibreOffice and WPS set Chinese a little looser.
NOTICE_PT, NOTICE_CHARS_PER_LINE, NOTICE_LINES_PER_SLIDE = 20, 46, 14


def _set_east_asian_font(rpr, latin: str = SLIDE_FONT_LATIN, east_asian: str = SLIDE_FONT_EA) -> None:
    """Name the Latin and the East Asian typeface on an <a:rPr>/<a:defRPr> element: PowerPoint
    and WPS pick Chinese glyphs from <a:ea>, which python-pptx's font.name does not set."""
    for tag in ("a:latin", "a:ea", "a:cs"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
    # Schema order: … fills, effects, highlight, underline …, latin, ea, cs, sym, hlinks, rtl, extLst.
    successors = {qn(t) for t in ("a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst")}
    anchor = next((child for child in rpr if child.tag in successors), None)
    for tag, face in (("a:latin", latin), ("a:ea", east_asian), ("a:cs", latin)):
        element = etree.SubElement(rpr, qn(tag))
        element.set("typeface", face)
        if anchor is not None:
            anchor.addprevious(element)


def _style_font(font, size: float, bold: bool = False, colour: str = DARK) -> None:
    font.size, font.bold = Pt(size), bold
    font.color.rgb = RGBColor.from_string(colour)
    _set_east_asian_font(font._rPr)


def _add_text(slide, x, y, w, h, lines, size: float = 18, bold: bool = False, colour: str = DARK,
              align=None, anchor=None, spacing: float = 1.15):
    """A text box; `lines` is a string or a list of strings or (text, size, bold, colour) tuples,
    one paragraph each."""
    box = slide.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
    frame = box.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = Inches(0.05)
    frame.vertical_anchor = anchor or MSO_ANCHOR.TOP
    for i, line in enumerate([lines] if isinstance(lines, str) else lines):
        text, size_, bold_, colour_ = (line, size, bold, colour) if isinstance(line, str) else line
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = align or PP_ALIGN.LEFT
        paragraph.line_spacing = spacing
        paragraph.space_after = Pt(size_ * 0.4)
        run = paragraph.add_run()
        run.text = text
        _style_font(run.font, size_, bold_, colour_)
    return box


def _add_rect(slide, x, y, w, h, colour: str, line: str | None = None):
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(x), Inches(y), Inches(w), Inches(h))
    shape.fill.solid()
    shape.fill.fore_color.rgb = RGBColor.from_string(colour)
    if line:
        shape.line.color.rgb = RGBColor.from_string(line)
        shape.line.width = Pt(1)
    else:
        shape.line.fill.background()
    shape.shadow.inherit = False
    return shape


class _Deck:
    """A 16:9 deck with the bureau's slide frame: title bar, footer with the data date, source
    and demo mark, and the slide number."""
    WIDTH, HEIGHT = 13.333, 7.5

    def __init__(self, content: PackContent):
        self.content = content
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Emu(12_192_000), Emu(6_858_000)  # 13.333 x 7.5 in
        self.blank = self.prs.slide_layouts[6]

    def slide(self, title: str, subtitle: str = ""):
        slide = self.prs.slides.add_slide(self.blank)
        _add_rect(slide, 0, 0, self.WIDTH, 0.12, _hex(PRIMARY))
        _add_text(slide, 0.5, 0.3, 10.8, 0.8, title, size=30, bold=True, colour=_hex(PRIMARY))
        if subtitle:
            _add_text(slide, 0.5, 1.02, 12.3, 0.5, subtitle, size=16, colour=MUTED)
        if self.content.meta.is_demo:
            badge = _add_rect(slide, 11.35, 0.38, 1.55, 0.5, _hex(FLAG_COLOURS[RED]))
            badge.text_frame.text = "演示数据"
            _style_font(badge.text_frame.paragraphs[0].runs[0].font, 16, True, "FFFFFF")
        _add_text(slide, 0.5, 7.0, 10.5, 0.4, self.content.meta.footer, size=12, colour=MUTED)
        _add_text(slide, 11.8, 7.0, 1.0, 0.4, str(len(self.prs.slides)), size=12, colour=MUTED, align=PP_ALIGN.RIGHT)
        return slide

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.prs.save(buffer)
        return buffer.getvalue()


def _title_slide(deck: _Deck) -> None:
    content = deck.content
    slide = deck.prs.slides.add_slide(deck.blank)
    _add_rect(slide, 0, 0, deck.WIDTH, deck.HEIGHT, _hex(PRIMARY))
    _add_rect(slide, 0.9, 4.15, 4.0, 0.06, "FFFFFF")
    _add_text(slide, 0.9, 1.6, 11.5, 1.2, f"{content.place}{PACK_TITLE}", size=44, bold=True, colour="FFFFFF")
    _add_text(slide, 0.9, 2.9, 11.5, 0.8, f"会议材料 · 工作进展与{content.scope.unit}排名", size=28, colour="DCE6F2")
    previous = f"  对比上期:{fmt.format_date(content.previous)}" if content.previous else ""
    _add_text(slide, 0.9, 4.45, 11.5, 0.6, f"数据截至:{fmt.format_date(content.scope.as_of)}{previous}",
              size=24, bold=True, colour="FFFFFF")
    _add_text(slide, 0.9, 5.15, 11.5, 0.5, f"{content.scope.plan_year}年度 · {content.notice.issuer}", size=20,
              colour="DCE6F2")
    if content.meta.is_demo:
        badge = _add_rect(slide, 0.9, 6.0, 5.2, 0.6, _hex(FLAG_COLOURS[RED]))
        badge.text_frame.text = "演示数据,非真实统计"
        paragraph = badge.text_frame.paragraphs[0]
        paragraph.alignment = PP_ALIGN.CENTER
        _style_font(paragraph.runs[0].font, 20, True, "FFFFFF")


def _headline_slide(deck: _Deck) -> None:
    content = deck.content
    slide = deck.slide("主要指标", f"{content.place}{content.scope.plan_year}年度 · "
                                    f"截至{fmt.format_date(content.scope.as_of)}")
    rows = {(r.program, r.key): r for r in content.headline.itertuples()}
    programs = content.programs
    column_width = 12.3 / len(programs)
    for c, program in enumerate(programs):
        x0 = 0.5 + c * column_width
        _add_text(slide, x0, 1.55, column_width - 0.3, 0.5, PROGRAMS[program], size=22, bold=True)
        for i, key in enumerate(HEADLINE_MEASURES[program]):
            row, measure = rows[program, key], find_measure(program, key)
            x = x0 + (i % 2) * (column_width / 2)
            y = 2.15 + (i // 2) * 2.4
            w, h = column_width / 2 - 0.25, 2.25
            _add_rect(slide, x, y, w, h, LIGHT_BG)
            _add_rect(slide, x, y, 0.12, h, _hex(FLAG_COLOURS[row.flag]))
            _add_text(slide, x + 0.25, y + 0.1, w - 0.35, 0.5, measure.label, size=18, colour=MUTED)
            _add_text(slide, x + 0.25, y + 0.45, w - 0.35, 0.8, _rate(row.numerator, row.denominator),
                      size=40, bold=True, colour=_hex(FLAG_COLOURS[row.flag]) if row.flag != NO_FLAG else DARK)
            _add_text(slide, x + 0.25, y + 1.2, w - 0.35, 0.9, [
                f"{measure.done_label} {fmt.format_count(row.numerator, measure.unit)}",
                f"{measure.base_label} {fmt.format_count(row.denominator, measure.unit)}",
                fmt.format_target(row.line, row.target)], size=13, colour=MUTED, spacing=1.0)


class _TextOnlyWorkbookWriter(CategoryWorkbookWriter):
    """The workbook python-pptx embeds behind a native chart, with stored text kept as text:
    xlsxwriter would otherwise write a county named '=1+1' as a formula, run when someone edits
    the chart's data. (Overrides a private python-pptx hook; a test opens the embedded workbook.)"""

    @contextmanager
    def _open_worksheet(self, xlsx_file):
        workbook = XlsxWorkbook(xlsx_file, {"in_memory": True, "strings_to_formulas": False})
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class TextCategoryChartData(CategoryChartData):
    """CategoryChartData whose embedded workbook never turns text into formulas."""

    @property
    def _workbook_writer(self):
        return _TextOnlyWorkbookWriter(self)


def _ranking_slide(deck: _Deck, program: str, key: str) -> None:
    content = deck.content
    measure, table = find_measure(program, key), content.rankings[program, key]
    line = read_city_line(table)
    slide = deck.slide(f"{PROGRAMS[program]} · 各{content.scope.unit}{measure.label}排名",
                       f"{measure.description} · {fmt.format_target(line.name, line.share)}")
    data = TextCategoryChartData(number_format="0.0%")
    data.categories = list(table["county"])
    data.add_series(measure.label, [None if pd.isna(v) else float(v) for v in table["value"]])
    frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, Inches(0.4), Inches(1.5), Inches(8.4),
                                   Inches(5.45), data)
    chart = frame.chart
    chart.has_legend, chart.has_title = False, False
    chart.font.size = Pt(14)
    _set_east_asian_font(chart.font._rPr)
    plot = chart.plots[0]
    plot.gap_width, plot.vary_by_categories = 35, False
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format, labels.number_format_is_linked = "0.0%", False
    labels.position = XL_LABEL_POSITION.OUTSIDE_END
    labels.font.size, labels.font.bold = Pt(14), True
    _set_east_asian_font(labels.font._rPr)
    series = plot.series[0]
    for i, flag in enumerate(table["flag"]):
        fill = series.points[i].format.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor.from_string(_hex(FLAG_COLOURS[flag]))
    categories = chart.category_axis
    categories.reverse_order = True  # rank 1 on top
    categories.tick_labels.font.size = Pt(16)
    _set_east_asian_font(categories.tick_labels.font._rPr)
    categories.format.line.color.rgb = RGBColor.from_string("C9D1DC")
    values = chart.value_axis
    top = max([float(v) for v in table["value"].dropna()] + [1.0])
    values.minimum_scale, values.maximum_scale = 0.0, round(top * 1.15, 2)
    values.has_major_gridlines = False
    values.visible = False  # the data labels carry the values

    city = report.compute_city_row(table, measure)
    lines = [(content.place if not content.scope.counties else report.CITY, 16, False, MUTED),
             (_rate(city["numerator"], city["denominator"]), 40, True, _hex(FLAG_COLOURS[city["flag"]])),
             (f"{fmt.format_count(city['numerator'], measure.unit)} / "
              f"{fmt.format_count(city['denominator'], measure.unit)}", 14, False, MUTED)]
    red = table[table["flag"] == RED]
    if not red.empty:
        lines += [(f"红色预警(落后超过{FLAG_THRESHOLDS.red_gap_pp:g}个百分点)", 16, True, _hex(FLAG_COLOURS[RED])),
                  ("、".join(f"{c} {_rate(n, d)}" for c, n, d in zip(red["county"], red["numerator"],
                                                                    red["denominator"])), 16, False, DARK)]
    if content.previous is not None:
        moved = table[table["rank_change"].notna() & (table["rank_change"] != 0)]
        change = "、".join(f"{c}{fmt.format_rank_change(int(v))}" for c, v in zip(moved["county"],
                                                                                  moved["rank_change"]))
        lines += [(f"较上期({fmt.format_date(content.previous)})", 16, True, DARK),
                  (change or f"各{content.scope.unit}排名均未变化", 16, False, DARK)]
    lines += [(f"■ {name}", 13, False, _hex(FLAG_COLOURS[flag])) for flag, name in charts.FLAG_LABELS.items()
              if flag != NO_FLAG and (table["flag"] == flag).any()]
    _add_text(slide, 9.05, 1.6, 3.9, 5.3, lines, spacing=1.05)


# The map picture: CSS pixels of the rendering (small enough that its labels read on a
# projector once scaled up) and the zoom that fills it with the city.
MAP_SIZE, MAP_ZOOM_STEP = (760, 600), 0.45


def build_map_figure(content: PackContent, program: str, key: str) -> go.Figure:
    """The map slide's picture: the store's counties coloured by the measure, framed to fill it."""
    measure, table = find_measure(program, key), content.rankings[program, key]
    fig = charts.build_choropleth_figure(table, measure, content.meta, content.boundaries, content.view,
                                         title=f"{PROGRAMS[program]} · 各县区{measure.label}分布", height=MAP_SIZE[1])
    return fig.update_layout(map_zoom=content.view.zoom + MAP_ZOOM_STEP)


def _map_slide(deck: _Deck, program: str, key: str) -> None:
    content = deck.content
    measure, table = find_measure(program, key), content.rankings[program, key]
    image = exports.build_figure_bytes(build_map_figure(content, program, key), "png", scale=3, width=MAP_SIZE[0],
                                       height=MAP_SIZE[1])
    slide = deck.slide(f"{PROGRAMS[program]} · {measure.label}分布图")
    height = 5.6
    width = height * MAP_SIZE[0] / MAP_SIZE[1]
    slide.shapes.add_picture(io.BytesIO(image), Inches(0.5), Inches(1.25), height=Inches(height))
    ranked = table[table["value"].notna()]
    city = read_city_line(table)
    lines = [(fmt.format_target(city.name, city.share) if city.share is not None else "", 16, True, DARK)]
    lines += [(f"{int(r.rank)}. {r.county}  {_rate(r.numerator, r.denominator)}", 15, r.flag == RED,
               _hex(FLAG_COLOURS[r.flag]) if r.flag == RED else DARK) for r in ranked.itertuples()]
    if note := build_boundary_note(table, content.boundaries):
        lines.append((note, 13, False, MUTED))
    _add_text(slide, 0.5 + width + 0.4, 1.35, deck.WIDTH - width - 1.4, 5.5, lines, spacing=1.0)


def _lines(text: str, chars_per_line: int) -> int:
    return max(1, -(-len(text) // chars_per_line))


def split_for_slides(paragraphs: list[str], chars_per_line: int = NOTICE_CHARS_PER_LINE,
                     lines_per_slide: int = NOTICE_LINES_PER_SLIDE,
                     headings: frozenset[str] = frozenset()) -> list[list[str]]:
    """Paragraphs grouped into slides of at most `lines_per_slide` lines (a paragraph also costs
    half a line of spacing); a paragraph too long for one slide is cut after a full stop (。) or
    semicolon (;), so no slide overflows; a heading never ends a slide."""
    budget = chars_per_line * (lines_per_slide - 1)
    pieces = []
    for paragraph in paragraphs:
        while len(paragraph) > budget:
            cut = max(paragraph.rfind(mark, 0, budget) for mark in "。;")
            cut = cut + 1 if cut > 0 else budget
            pieces.append(paragraph[:cut])
            paragraph = paragraph[cut:]
        if paragraph:
            pieces.append(paragraph)
    slides, current, used = [], [], 0.0
    for piece in pieces:
        cost = _lines(piece, chars_per_line) + 0.5
        if current and used + cost > lines_per_slide:
            carried = [current.pop()] if current[-1] in headings and len(current) > 1 else []
            slides.append(current)
            current, used = carried, sum(_lines(p, chars_per_line) + 0.5 for p in carried)
        current.append(piece)
        used += cost
    return slides + ([current] if current else [])


def _notice_slides(deck: _Deck) -> None:
    """The notice, headings in bold, as many slides as its length needs."""
    text = deck.content.notice
    headings = {part.heading for part in text.sections}
    paragraphs = [p for part in text.sections for p in (part.heading, *part.paragraphs)]
    chunks = split_for_slides(paragraphs, headings=frozenset(headings))
    for i, chunk in enumerate(chunks):
        more = f"({i + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        slide = deck.slide(f"进度通报{more}", text.title if i == 0 else "")
        lines = [(p, NOTICE_PT, p in headings, _hex(PRIMARY) if p in headings else DARK) for p in chunk]
        _add_text(slide, 0.5, 1.5 if i == 0 else 1.25, 12.3, 5.5, lines, spacing=1.2)


def build_pptx(content: PackContent) -> bytes:
    """The slides: title, headline figures, per program its ranking charts and map, then the
    notice section by section."""
    deck = _Deck(content)
    _title_slide(deck)
    _headline_slide(deck)
    for program in content.programs:
        keys = PACK_MEASURES[program]
        _ranking_slide(deck, program, keys[0])
        _map_slide(deck, program, keys[0])
        for key in keys[1:]:
            _ranking_slide(deck, program, key)
    _notice_slides(deck)
    return deck.save()


# ==== DOCX (公文) ================================================================================

# GB/T 9704 habits: title in a 小标宋-like bold serif, body 仿宋 三号 (16 pt) at a fixed 28 pt line,
# headings 黑体, sub-headings 楷体; A4 with 37/35/28/26 mm margins.
TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT, TABLE_FONT = "宋体", "仿宋", "黑体", "楷体", "宋体"
BODY_PT, TITLE_PT, TABLE_PT, LINE_PT = 16, 22, 11, 28
# Column widths (mm) of an attached ranking table, within the 156 mm between the margins:
# 名次, 县区, rate, 完成, 计划, 目标线, 差距, 标识, 较上期.
TABLE_COLUMN_MM = (12, 19, 22, 19, 19, 18, 15, 12, 18)


def ranking_table_rows(table: pd.DataFrame, measure: Measure, with_previous: bool,
                       ranked_as: str = "县区") -> tuple[list[str], list[list[str]]]:
    """Header and rows of a ranking table as text, formatted by fmt as on screen."""
    header = ["名次", ranked_as, measure.label, f"{measure.done_label}({measure.unit})",
              f"{measure.base_label}({measure.unit})", "目标线", "差距", "标识"]
    header += ["较上期"] if with_previous else []
    rows = []
    for r in table.itertuples():
        row = [fmt.format_int(r.rank), r.county, _rate(r.numerator, r.denominator),
               fmt.format_count(r.numerator, measure.unit).removesuffix(measure.unit),
               fmt.format_count(r.denominator, measure.unit).removesuffix(measure.unit),
               fmt.format_percent(r.target), fmt.format_pp(r.gap_pp).replace("个百分点", ""),
               FLAG_LABELS_SHORT[r.flag]]
        rows.append(row + ([fmt.format_rank_change(r.rank_change)] if with_previous else []))
    return header, rows


def _attachment_tables(content: PackContent) -> list[tuple[str, list[str], list[list[str]], list[str]]]:
    """(caption, header, rows, flags) for each ranked measure, in pack order."""
    tables = []
    for i, ((program, key), table) in enumerate(content.rankings.items(), start=1):
        measure = find_measure(program, key)
        header, rows = ranking_table_rows(table, measure, content.previous is not None, content.scope.unit)
        city = read_city_line(table)
        line = f"({fmt.format_target(city.name, city.share)})" if city.share is not None else ""
        tables.append((f"附件{i}:{PROGRAMS[program]}各{content.scope.unit}{measure.label}排名{line}", header, rows,
                       list(table["flag"])))
    return tables


def _docx_font(run, face: str, size: float, bold: bool = False, colour: str | None = None) -> None:
    run.font.name, run.font.size, run.font.bold = face, DocxPt(size), bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(docx_qn("w:eastAsia"), face)
    if colour:
        run.font.color.rgb = DocxRGB.from_string(colour)


def _docx_paragraph(document, text: str = "", face: str = BODY_FONT, size: float = BODY_PT, bold: bool = False,
                    align=None, indent: bool = True, runs: list[tuple[str, str]] | None = None):
    paragraph = document.add_paragraph()
    fmt_ = paragraph.paragraph_format
    fmt_.line_spacing, fmt_.space_before, fmt_.space_after = DocxPt(LINE_PT), DocxPt(0), DocxPt(0)
    fmt_.first_line_indent = DocxPt(size * 2) if indent else None
    if align is not None:
        paragraph.alignment = align
    for part, part_face in runs or [(text, face)]:
        _docx_font(paragraph.add_run(part), part_face, size, bold)
    return paragraph


def _split_label(paragraph: str) -> list[tuple[str, str]]:
    """'(一)总体进展。…' -> the label in 楷体, the rest in 仿宋."""
    label, rest = notice.split_label(paragraph)
    return [(label, SUBHEADING_FONT), (rest, BODY_FONT)] if label else [(rest, BODY_FONT)]


def _add_page_number(section) -> None:
    """'— 1 —' centred in the footer (a PAGE field)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_font(paragraph.add_run("— "), BODY_FONT, 14)
    run = paragraph.add_run()
    _docx_font(run, BODY_FONT, 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(docx_qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(docx_qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    _docx_font(paragraph.add_run(" —"), BODY_FONT, 14)


def _shade(cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(docx_qn("w:val"), "clear")
    shading.set(docx_qn("w:color"), "auto")
    shading.set(docx_qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def build_docx(content: PackContent) -> bytes:
    """The notice as a 公文 in Word, the ranking tables attached."""
    text = content.notice
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _add_page_number(section)

    title = _docx_paragraph(document, text.title, TITLE_FONT, TITLE_PT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                            indent=False)
    title.paragraph_format.line_spacing = DocxPt(36)
    _docx_paragraph(document, text.subtitle, SUBHEADING_FONT, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _docx_paragraph(document, "", indent=False)
    _docx_paragraph(document, text.salutation, indent=False)
    _docx_paragraph(document, text.opening)
    for part in text.sections:
        _docx_paragraph(document, part.heading, HEADING_FONT)
        for paragraph in part.paragraphs:
            _docx_paragraph(document, runs=_split_label(paragraph))
    _docx_paragraph(document, text.closing)
    _docx_paragraph(document, "", indent=False)
    for line in (text.issuer, fmt.format_date(text.as_of)):
        signed = _docx_paragraph(document, line, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        signed.paragraph_format.right_indent = DocxPt(BODY_PT * 2)

    for caption, header, rows, flags in _attachment_tables(content):
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _docx_paragraph(document, caption, HEADING_FONT, BODY_PT, indent=False)
        table = document.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = TABLE_COLUMN_MM[:len(header)]
        for j, width in enumerate(widths):
            table.columns[j].width = Mm(width)  # the grid (LibreOffice/WPS read it), and each cell (Word)
            for cell in table.columns[j].cells:
                cell.width = Mm(width)
        for j, name in enumerate(header):
            cell = table.cell(0, j)
            cell.text = ""
            _docx_font(cell.paragraphs[0].add_run(name), HEADING_FONT, TABLE_PT)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _shade(cell, "DCE6F2")
        flag_column = header.index("标识")
        for i, (row, flag) in enumerate(zip(rows, flags), start=1):
            for j, value in enumerate(row):
                cell = table.cell(i, j)
                cell.text = ""
                is_flag = j == flag_column and flag in (RED, YELLOW, GREEN)
                _docx_font(cell.paragraphs[0].add_run(value), TABLE_FONT, TABLE_PT, bold=is_flag,
                           colour="FFFFFF" if is_flag else None)
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 1 else WD_ALIGN_PARAGRAPH.CENTER
                if is_flag:
                    _shade(cell, _hex(FLAG_COLOURS[flag]))
        _docx_paragraph(document, content.meta.footer, BODY_FONT, 10.5, indent=False)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ==== PDF (HTML printed by Chromium) =============================================================

# Faces for the 公文 on Linux: AR PL UMing (明体, for 仿宋/宋体), AR PL UKai (楷体) and WenQuanYi
# Zen Hei (黑体) are TrueType, so Chromium embeds them as real fonts whose text copies and
# searches correctly; Noto CJK (OpenType/CFF) is the fallback, embedded as Type 3 glyphs whose
# extracted text may come out as Kangxi radicals (⽼ for 老). Debian: fonts-arphic-uming
# fonts-arphic-ukai fonts-wqy-zenhei.
SERIF = '"AR PL UMing CN", "FangSong", "仿宋", "Noto Serif CJK SC", serif'
KAI = '"AR PL UKai CN", "KaiTi", "楷体", "Noto Serif CJK SC", serif'
HEI = '"WenQuanYi Zen Hei", "SimHei", "黑体", "Noto Sans CJK SC", sans-serif'
PDF_CSS = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
body {{ font-family: {SERIF}; font-size: 16pt; line-height: 28pt; color: #000; margin: 0; }}
h1 {{ font-family: {SERIF}; font-weight: 700; font-size: 22pt; line-height: 36pt; text-align: center; margin: 0; }}
.subtitle {{ text-align: center; font-family: {KAI}; margin-bottom: 28pt; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
p.flush {{ text-indent: 0; }}
p.heading {{ font-family: {HEI}; break-after: avoid; }}
span.label {{ font-family: {KAI}; }}
p.sign {{ text-align: right; text-indent: 0; padding-right: 2em; }}
p:not(.sign) + p.sign {{ margin-top: 28pt; }}
.demo {{ color: #c00000; }}
.attachment {{ break-before: page; }}
.attachment h2 {{ font-family: {HEI}; font-size: 16pt; font-weight: normal; margin: 0 0 8pt 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: 11pt; line-height: 16pt; }}
th, td {{ border: 1px solid #555; padding: 3pt 4pt; text-align: center; }}
th {{ background: #dce6f2; font-family: {HEI}; font-weight: normal; }}
td.county {{ text-align: left; }}
td.flag {{ color: #fff; font-weight: 700; }}
.source {{ font-size: 10.5pt; line-height: 16pt; color: #444; margin-top: 6pt; text-indent: 0; }}
"""
PDF_FOOTER = ('<div style="width:100%;text-align:center;font-size:12pt;font-family:\'AR PL UMing CN\',serif;">'
              '— <span class="pageNumber"></span> —</div>')


def build_notice_html(content: PackContent) -> str:
    """The document (notice and attachments) as one HTML page, for printing to PDF."""
    text, e = content.notice, html.escape
    body = [notice.render_notice_html(text)]
    for caption, header, rows, flags in _attachment_tables(content):
        flag_column = header.index("标识")
        cells = []
        for row, flag in zip(rows, flags):
            tds = []
            for j, value in enumerate(row):
                if j == flag_column and flag in (RED, YELLOW, GREEN):
                    tds.append(f'<td class="flag" style="background:{FLAG_COLOURS[flag]}">{e(value)}</td>')
                else:
                    tds.append(f'<td{" class=county" if j == 1 else ""}>{e(value)}</td>')
            cells.append(f"<tr>{''.join(tds)}</tr>")
        body.append(f'<section class="attachment"><h2>{e(caption)}</h2><table><thead><tr>'
                    f"{''.join(f'<th>{e(h)}</th>' for h in header)}</tr></thead><tbody>{''.join(cells)}</tbody>"
                    f'</table><p class="source{" demo" if content.meta.is_demo else ""}">{e(content.meta.footer)}</p>'
                    "</section>")
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(text.title)}</title>'
            f"<style>{PDF_CSS}</style></head><body>{''.join(body)}</body></html>")


def build_pdf(content: PackContent) -> bytes:
    """The notice document as PDF: the HTML above printed by the system Chromium (Playwright
    drives it; never a downloaded browser), A4 with page numbers, fonts embedded."""
    chromium = exports.find_chromium()
    if chromium is None:
        raise exports.ExportUnavailable("未找到 Chromium,无法生成 PDF;请安装 chromium 和 fonts-noto-cjk,"
                                        "或导出 DOCX 后在 Word/WPS 中另存为 PDF")
    # Playwright's sync API refuses a thread whose asyncio loop is running (a web server's, or
    # another Playwright session's); a worker thread of our own never has one.
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(_print_pdf, chromium, build_notice_html(content)).result()


def _print_pdf(chromium: str, html: str) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            page.evaluate("document.fonts.ready")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                            display_header_footer=True, header_template="<span></span>",
                            footer_template=PDF_FOOTER)
        finally:
            browser.close()


def time_pack(engine: Engine, scope: report.Scope, previous: date | None) -> dict[str, float]:
    """Seconds to build each format (for the benchmark)."""
    timings = {}
    for kind in PACK_FORMATS:
        start = time.perf_counter()
        build_pack(engine, scope, previous, kind)
        timings[kind] = time.perf_counter() - start
    return timings
