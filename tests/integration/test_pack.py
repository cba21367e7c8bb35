"""The briefing pack opened again: slides with native charts holding the measure values, the
notice as a Word document and as a PDF with its fonts embedded, and the CLI that writes them."""
import io
from datetime import date

import pytest
from docx import Document
from pptx import Presentation
from pptx.util import Emu
from pypdf import PdfReader

from retrofit import db, fmt, notice, pack, report
from retrofit.cli import main

AS_OF, PREVIOUS = date(2026, 11, 20), date(2026, 11, 13)
SCOPE = report.Scope(AS_OF)


@pytest.fixture(scope="module")
def content(demo_engine):
    return pack.load_pack_content(demo_engine, SCOPE, PREVIOUS)


@pytest.fixture(scope="module")
def slides(content):
    return Presentation(io.BytesIO(pack.build_pptx(content)))


@pytest.fixture(scope="module")
def pdf(content):
    return PdfReader(io.BytesIO(pack.build_pdf(content)))


def texts(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text)


def test_slides_are_16_to_9_and_open_with_the_data_date_and_demo_mark(slides):
    assert (slides.slide_width, slides.slide_height) == (Emu(12192000), Emu(6858000))  # 13.333 x 7.5 in
    first = texts(slides.slides[0])
    assert "数据截至:2026年11月20日" in first and "演示数据" in first and "对比上期:2026年11月13日" in first


def test_every_slide_has_a_title_and_the_footer_with_the_data_date(slides):
    for slide in list(slides.slides)[1:]:
        body = texts(slide)
        assert "数据截至2026年11月20日" in body and "演示数据" in body


def test_ranking_slides_hold_native_charts_with_the_measure_values(demo_engine, slides):
    charts = {}
    for slide in slides.slides:
        for shape in slide.shapes:
            if shape.has_chart:
                charts[texts(slide).splitlines()[0]] = shape.chart
    assert len(charts) == sum(len(keys) for keys in pack.PACK_MEASURES.values())
    chart = charts["清洁取暖 · 各县区完成率排名"]
    table = report.rank_measure(demo_engine, "heating", "completion_rate", SCOPE, PREVIOUS)
    plot = chart.plots[0]
    assert list(plot.categories) == table["county"].tolist()
    assert list(plot.series[0].values) == pytest.approx(table["value"].tolist())
    assert plot.data_labels.number_format == "0.0%"
    # Flag colours are point formats on the native series, which staff can restyle.
    colours = [str(plot.series[0].points[i].format.fill.fore_color.rgb) for i in range(len(table))]
    assert colours[-1] == "D0312D"  # 太白县, red, last


def test_chart_and_text_runs_name_an_east_asian_font(slides):
    xml = slides.slides[2].shapes._spTree.xml
    assert 'ea typeface="微软雅黑"' in xml
    chart = next(s.chart for s in slides.slides[2].shapes if s.has_chart)
    assert 'ea typeface="微软雅黑"' in chart._chartSpace.xml


def test_maps_are_pictures_and_the_notice_is_in_the_slides(content, slides):
    pictures = [s for slide in slides.slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) == len(pack.PACK_MEASURES)
    notice_text = "".join(texts(s) for s in slides.slides if texts(s).startswith("进度通报"))
    for section in content.notice.sections:
        assert section.heading in notice_text
        for paragraph in section.paragraphs:
            assert paragraph.replace("\n", "") in notice_text.replace("\n", "")


def test_no_notice_slide_is_longer_than_the_budget(content):
    paragraphs = [p for s in content.notice.sections for p in (s.heading, *s.paragraphs)]
    chunks = pack.split_for_slides(paragraphs)
    assert sum(len(c) for c in chunks) >= len(paragraphs)
    for chunk in chunks:
        lines = sum(-(-len(p) // pack.NOTICE_CHARS_PER_LINE) + 0.5 for p in chunk)
        assert lines <= pack.NOTICE_LINES_PER_SLIDE or len(chunk) == 1


def test_docx_is_the_notice_in_official_style_with_ranking_tables(content):
    document = Document(io.BytesIO(pack.build_docx(content)))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == content.notice.title
    body = "\n".join(paragraphs)
    for paragraph in content.notice.paragraphs:
        assert paragraph in body
    assert "市住房和城乡建设局" in body and "附件1" in body
    runs = document.paragraphs[0].runs
    assert runs[0]._element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == pack.TITLE_FONT
    assert len(document.tables) == len(content.rankings)
    first = document.tables[0]
    assert [c.text for c in first.rows[0].cells][:3] == ["名次", "县区", "完工率"]
    last = next(iter(content.rankings.values())).iloc[-1]  # the first attached ranking, last place
    assert first.rows[-1].cells[1].text == last["county"]
    assert first.rows[-1].cells[2].text == fmt.format_percent_of(last["numerator"], last["denominator"])


def test_pdf_text_holds_the_notice_title_and_figures(content, pdf):
    text = "".join(page.extract_text() for page in pdf.pages).replace("\n", "").replace(" ", "")
    assert content.notice.title.replace(" ", "") in text
    lowest = content.rankings["heating", "completion_rate"].sort_values("value").iloc[0]
    rate = fmt.format_percent_of(lowest["numerator"], lowest["denominator"])
    assert f"其中{lowest['county']}完成率仅为{rate}" in text
    assert len(pdf.pages) >= 3


def test_pdf_embeds_its_fonts(pdf):
    fonts = {}
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[id(font)] = font
    assert fonts
    for font in fonts.values():
        # Chromium embeds CJK OpenType (CFF) faces as Type 3 glyph programs; any other font
        # must carry its font file.
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor")
        embedded = font["/Subtype"] == "/Type3" or any(
            key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))
        assert embedded, font


def test_cli_export_pack_writes_each_format(demo_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    for suffix in ("docx", "pdf"):
        out = tmp_path / f"pack.{suffix}"
        assert main(["export", "pack", "--as-of", "2026-11-20", "--previous", "2026-11-13", "--out", str(out)]) == 0
        assert out.stat().st_size > 10_000
        assert "会议材料已生成" in capsys.readouterr().out


def test_cli_export_pack_refuses_a_wrong_suffix_in_chinese(demo_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    assert main(["export", "pack", "--out", str(tmp_path / "pack.ppt")]) == 2
    assert "只能导出为 .pptx、.docx 或 .pdf" in capsys.readouterr().err
    assert not (tmp_path / "pack.ppt").exists()


def test_pack_for_one_county_speaks_of_that_county(demo_engine):
    content = pack.load_pack_content(demo_engine, report.Scope(AS_OF, counties=("610327",)), PREVIOUS)
    assert content.place == "陇县" and content.notice.title.startswith("关于陇县")
    assert isinstance(content.notice, notice.Notice)


def test_the_pack_carries_no_household_village_or_community_name_so_any_role_may_download_it(content, demo_engine):
    # The pack is the 通报's county-level material: it takes no account scope because it holds no
    # detail. A clerk downloading it must learn nothing of another county's households or places.
    document = Document(io.BytesIO(pack.build_docx(content)))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [cell.text for table in document.tables for row in table.rows for cell in row.cells])
    with demo_engine.connect() as conn:
        names = {*conn.execute(db.select(db.village.c.name)).scalars(),
                 *conn.execute(db.select(db.renovation_project.c.name)).scalars(),
                 *conn.execute(db.select(db.heating_household.c.head_name)).scalars()}
    assert len(text) > 1000 and "陇县" in text
    assert [name for name in names if name and name in text] == []
