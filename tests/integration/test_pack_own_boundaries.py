"""The briefing pack of another city, whose outlines live in the store: its map slides draw that
city's counties, framed on them, with no "无边界数据" note; a store from before boundaries lived
in the store still gets the shipped outlines."""
import io
from datetime import date

import pytest
from builders import NORTH_SQUARE, SOUTH_SQUARE, make_store_with_counties_off_the_map, make_store_with_own_boundaries
from pptx import Presentation
from shapely.geometry import Point, box

from retrofit import geo, pack, report
from retrofit.vocab import HEATING

SCOPE = report.Scope(date(2026, 11, 20))
SQUARES = box(*NORTH_SQUARE).union(box(*SOUTH_SQUARE))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = make_store_with_own_boundaries(f"sqlite:///{tmp_path_factory.mktemp('pack-own') / 'store.db'}")
    yield engine
    engine.dispose()


def test_the_pack_map_draws_the_citys_own_counties_framed_on_them(engine):
    content = pack.load_pack_content(engine, SCOPE, None, (HEATING,))
    fig = pack.build_map_figure(content, HEATING, pack.PACK_MEASURES[HEATING][0])
    drawn = {a for t in fig.data if t.type == "choroplethmap" for a in t.locations}
    assert drawn == {"610001", "610002"}
    assert not fig.layout.title.subtitle.text
    assert SQUARES.envelope.contains(Point(fig.layout.map.center.lon, fig.layout.map.center.lat))


def test_the_map_slides_carry_no_boundary_note(engine):
    slides = Presentation(io.BytesIO(pack.build_pack(engine, SCOPE, None, "pptx"))).slides
    texts = ["\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in slides]
    maps = [t for t in texts if "分布图" in t]
    assert len(maps) == len(pack.PACK_MEASURES)
    assert not any(geo.NO_BOUNDARY_NOTE in t for t in maps)


def test_a_store_without_stored_outlines_draws_the_shipped_file(tmp_path):
    old = make_store_with_counties_off_the_map(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        assert geo.load_store_boundaries(old) == geo.load_shipped_boundaries()
        assert geo.load_store_map_view(old) == geo.compute_boundaries_view(geo.load_shipped_boundaries())
    finally:
        old.dispose()
