"""Files out of the app, opened again and checked: CSV for Excel/WPS, the XLSX ranking against
`rank`, figures at print resolution with Chinese drawn as glyphs (not tofu boxes)."""
import io
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

from retrofit import charts, exports, report
from retrofit.measures import find_measure
from retrofit.settings import FLAG_COLOURS

AS_OF, PREVIOUS = date(2026, 11, 20), date(2026, 11, 13)
META = charts.ChartMeta(AS_OF, is_demo=True)


@pytest.fixture(scope="module")
def ranking_workbook(demo_engine):
    data = exports.build_ranking_xlsx(demo_engine, report.Scope(AS_OF), PREVIOUS, META)
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet_rows(ws) -> list[tuple]:
    return [row for row in ws.iter_rows(min_row=exports.HEADER_ROW + 1, values_only=True)]


def test_csv_starts_with_the_bom_and_round_trips_chinese():
    frame = pd.DataFrame({"县区": ["陇县", "太白县"], "完成率": [0.73, 0.011], "户数": [901, 5]})
    data = exports.build_table_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, frame)


def test_xlsx_ranking_equals_the_rank_command(demo_engine, ranking_workbook):
    measure = find_measure("heating", "completion_rate")
    table = report.rank_measure(demo_engine, "heating", "completion_rate", report.Scope(AS_OF), PREVIOUS)
    ws = ranking_workbook[exports.ranking_sheet_name("heating", measure)]
    header = [c.value for c in ws[exports.HEADER_ROW]]
    assert header[:5] == ["名次", "县区", "完成率", "完成(户)", "计划(户)"]
    rows = sheet_rows(ws)
    assert [r[1] for r in rows] == table["county"].tolist()
    assert [r[0] for r in rows] == table["rank"].tolist()
    assert [r[2] for r in rows] == pytest.approx(table["value"].tolist())
    assert [(r[3], r[4]) for r in rows] == list(zip(table["numerator"], table["denominator"]))
    assert [r[9] for r in rows] == [None if pd.isna(v) else v for v in table["rank_change"]]


def test_xlsx_money_is_in_wan_yuan_as_numbers(demo_engine, ranking_workbook):
    measure = find_measure("renovation", "investment_rate")
    table = report.rank_measure(demo_engine, "renovation", "investment_rate", report.Scope(AS_OF), PREVIOUS)
    ws = ranking_workbook[exports.ranking_sheet_name("renovation", measure)]
    assert ws.cell(exports.HEADER_ROW, 4).value == "完成(万元)"
    assert [r[3] for r in sheet_rows(ws)] == pytest.approx((table["numerator"] / 10_000).tolist())
    assert ws.cell(exports.HEADER_ROW + 1, 4).number_format == "#,##0.00"


def test_xlsx_has_title_data_date_frozen_header_formats_and_flag_fills(ranking_workbook):
    ws = ranking_workbook["清洁取暖-完成率"]
    assert "各县区进度排名" in ws["A1"].value
    assert ws["A2"].value == META.footer and "演示数据" in ws["A2"].value and "2026年11月20日" in ws["A2"].value
    assert ws.freeze_panes == f"A{exports.HEADER_ROW + 1}"
    first = exports.HEADER_ROW + 1
    assert ws.cell(first, 3).number_format == "0.0%"        # the rate, stored as a share
    assert isinstance(ws.cell(first, 3).value, float)
    assert ws.cell(first, 4).number_format == "#,##0"       # households
    assert ws.cell(first, 10).number_format == exports.RANK_CHANGE_FORMAT
    flags = {r: ws.cell(r, 8) for r in range(first, ws.max_row + 1)}
    red = [c for c in flags.values() if c.value == "红"]
    assert red and all(c.fill.fgColor.rgb.endswith(FLAG_COLOURS["red"][1:].upper()) for c in red)
    yellow = [c for c in flags.values() if c.value == "黄"]
    assert yellow and all(c.fill.fgColor.rgb.endswith(FLAG_COLOURS["yellow"][1:].upper()) for c in yellow)
    assert ws.column_dimensions["B"].width >= 8  # county names (double width) fit


def test_xlsx_headline_sheet_lists_every_measure(demo_engine, ranking_workbook):
    ws = ranking_workbook["主要指标"]
    rows = sheet_rows(ws)
    headline = report.compute_headline(demo_engine, report.Scope(AS_OF))
    assert [r[1] for r in rows] == headline["label"].tolist()
    assert [r[2] for r in rows] == pytest.approx(headline["value"].tolist())


def test_flags_in_english_are_coloured_too_and_sheet_names_are_made_valid():
    frame = pd.DataFrame({"县区": ["甲", "乙", "丙"], "标识": ["red", "yellow", "green"], "完成率": [0.1, 0.5, 0.9]})
    book = openpyxl.load_workbook(io.BytesIO(exports.build_table_xlsx({"a/b:[c]" * 6: frame}, "测试", META)))
    ws = book.worksheets[0]
    assert len(ws.title) <= 31 and "/" not in ws.title
    fills = [ws.cell(r, 2).fill.fgColor.rgb[-6:] for r in range(4, 7)]
    assert fills == [FLAG_COLOURS[k][1:].upper() for k in ("red", "yellow", "green")]
    assert ws.cell(4, 3).number_format == "0.0%"


def bar_figure(title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[1, 2], y=["a", "b"], orientation="h"))
    fig.update_layout(title=dict(text=title, font=dict(size=40)), width=400, height=300,
                      margin=dict(t=90), font=dict(family=charts.FONT_FAMILY))
    return fig


def test_png_has_the_requested_scale():
    image = Image.open(io.BytesIO(exports.build_figure_bytes(bar_figure("完成率"), "png", scale=3)))
    assert image.size == (1200, 900)
    image = Image.open(io.BytesIO(exports.build_figure_bytes(bar_figure("完成率"), "png", scale=2)))
    assert image.size == (800, 600)


def title_pixels(text: str) -> np.ndarray:
    image = Image.open(io.BytesIO(exports.build_figure_bytes(bar_figure(text), "png", scale=1))).convert("L")
    return np.asarray(image)[:80, :250]  # the title strip


def test_chinese_in_a_png_is_drawn_with_glyphs_not_tofu():
    # Two different characters and one no font has (a private-use code point): without a CJK
    # font all three would be the same empty box.
    heating, rate, missing = title_pixels("暖"), title_pixels("率"), title_pixels("\U000f0000")
    assert (heating < 128).sum() > 50  # something dark was drawn
    assert np.abs(heating.astype(int) - rate.astype(int)).sum() > 10_000
    assert np.abs(heating.astype(int) - missing.astype(int)).sum() > 10_000


def test_svg_and_pdf_exports_carry_the_chart_text(demo_engine):
    table = report.rank_measure(demo_engine, "heating", "completion_rate", report.Scope(AS_OF))
    fig = charts.build_ranking_figure(table, find_measure("heating", "completion_rate"), META)
    svg = exports.build_figure_bytes(fig, "svg").decode("utf-8")
    assert svg.startswith("<svg") and "太白县" in svg and "演示数据" in svg and "数据截至2026年11月20日" in svg
    pdf = exports.build_figure_bytes(fig, "pdf")
    assert pdf.startswith(b"%PDF")


def test_unknown_figure_format_is_refused():
    with pytest.raises(ValueError):
        exports.build_figure_bytes(bar_figure("x"), "gif")


def test_without_chromium_the_export_says_so_in_chinese(monkeypatch):
    exports.stop_figure_server()
    monkeypatch.setenv("BROWSER_PATH", "")
    monkeypatch.setattr(exports.shutil, "which", lambda name: None)
    with pytest.raises(exports.ExportUnavailable, match="未找到 Chromium.*chromium"):
        exports.build_figure_bytes(bar_figure("x"), "png")


def test_the_figure_server_can_be_started_again_and_again():
    for _ in range(3):
        exports.start_figure_server()
    assert exports.build_figure_bytes(bar_figure("再次"), "png", scale=1).startswith(b"\x89PNG")


def test_percentages_shown_as_text_are_stored_as_numbers():
    frame = pd.DataFrame({"县区": ["甲", "乙", "丙"], "完成率": ["96.9%", "—", "100.0%"], "名次": ["1", "2", "3"]})
    ws = openpyxl.load_workbook(io.BytesIO(exports.build_table_xlsx({"排名": frame}, "测试", META))).worksheets[0]
    assert [ws.cell(r, 2).value for r in range(4, 7)] == [pytest.approx(0.969), None, 1.0]
    assert ws.cell(4, 2).number_format == "0.0%"
    assert ws.cell(4, 3).value == "1"  # other text stays text
