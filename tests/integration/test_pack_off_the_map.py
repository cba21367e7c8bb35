"""The briefing pack of a store with counties the boundary file does not draw: built without
error, every county in its rankings, each map slide naming the counties left off its map."""
import io
from datetime import date

import pytest
from builders import make_store_with_counties_off_the_map
from docx import Document
from pptx import Presentation

from retrofit import pack, report

SCOPE = report.Scope(date(2026, 11, 20))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = make_store_with_counties_off_the_map(f"sqlite:///{tmp_path_factory.mktemp('pack') / 'store.db'}")
    yield engine
    engine.dispose()


def _texts(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def test_map_slides_name_the_counties_left_off_the_map(engine):
    slides = Presentation(io.BytesIO(pack.build_pack(engine, SCOPE, None, "pptx"))).slides
    maps = [_texts(s) for s in slides if "分布图" in _texts(s)]
    assert len(maps) == len(pack.PACK_MEASURES)  # one map per program
    for text in maps:
        assert "无边界数据,未在地图上显示:" in text and "北县" in text and "南区" in text
        assert "陇县" in text  # the county the map draws is listed with the others
    charts = [s.chart for slide in slides for s in slide.shapes if s.has_chart]
    assert all(set(c.plots[0].categories) == {"北县", "南区", "陇县"} for c in charts)


def test_the_notice_document_is_built_as_well(engine):
    document = Document(io.BytesIO(pack.build_pack(engine, SCOPE, None, "docx")))
    assert "北县" in "\n".join(p.text for p in document.paragraphs)
