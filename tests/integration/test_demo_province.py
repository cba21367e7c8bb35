"""The province demo (陕西省) built at a tiny size: the real counties and cities, the same
invariants as the city demo, and the late counties the rankings are meant to show."""
import os
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from retrofit import db, province, queries, report
from retrofit.demo import DEMO_DATA_DATE
from retrofit.measures import RED
from retrofit.vocab import HEATING, MILESTONES, RENOVATION, STAGES

PG_URL = os.environ.get("RETROFIT_TEST_PG_URL")
TINY = province.ProvinceSize(households=20_000, communities=3_000, villages_per_county=12)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="module", params=BACKENDS)
def tiny_province(request, tmp_path_factory):
    url = PG_URL if request.param == "postgresql" else f"sqlite:///{tmp_path_factory.mktemp('prov') / 'p.db'}"
    engine = db.make_engine(url)
    counts = province.build_province_demo(engine, 7, force=True, size=TINY)
    yield engine, counts
    engine.dispose()


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_province_demo_holds_shaanxis_107_counties_in_ten_cities(tiny_province):
    engine, counts = tiny_province
    counties = queries.load_counties(engine)
    assert len(counties) == 107 and counts["county"] == 107
    with engine.connect() as conn:
        cities = dict(conn.execute(select(db.city.c.adcode, db.city.c.name)).all())
        without_city = conn.execute(select(func.count()).select_from(db.county)
                                    .where(db.county.c.city_adcode.is_(None))).scalar_one()
        meta = db.read_meta(conn)
    assert len(cities) == 10 and cities["610100"] == "西安市" and cities["610300"] == "宝鸡市"
    assert without_city == 0
    assert meta["scale"] == "province" and meta["province"] == "陕西省" and meta["is_demo"] == "1"
    assert _count(engine, db.county_boundary) == 107


def test_province_demo_is_sized_as_asked(tiny_province):
    engine, counts = tiny_province
    assert 0.85 * TINY.households <= _count(engine, db.heating_household) <= 1.15 * TINY.households
    assert 0.8 * TINY.communities <= _count(engine, db.renovation_project) <= 1.25 * TINY.communities
    assert counts["heating_household"] == _count(engine, db.heating_household)
    assert counts["seconds"] > 0


def test_province_demo_households_lie_in_their_villages_county_and_nothing_happens_after_the_data_date(tiny_province):
    engine, _ = tiny_province
    h, v, t = db.heating_household, db.village, db.township
    with engine.connect() as conn:
        mismatched = conn.execute(select(func.count()).select_from(h.join(v, v.c.code == h.c.village_code)
                                                                   .join(t, t.c.code == v.c.township_code))
                                  .where(t.c.county_adcode != h.c.county_adcode)).scalar_one()
        latest = [conn.execute(select(func.max(h.c[f"{m.key}_on"]))).scalar_one() for m in MILESTONES]
        latest += [conn.execute(select(func.max(db.renovation_project.c[f"{s.key}_actual"]))).scalar_one()
                   for s in STAGES]
    assert mismatched == 0
    assert all(d is None or d <= DEMO_DATA_DATE for d in latest)


def test_province_demo_has_red_counties_on_both_programs(tiny_province):
    engine, _ = tiny_province
    scope = report.Scope(DEMO_DATA_DATE)
    for program, key in ((RENOVATION, "finish_rate"), (HEATING, "completion_rate")):
        table = report.rank_measure(engine, program, key, scope)
        reds = table[table["flag"] == RED]
        assert 0 < len(reds) < len(table), (program, key)


def test_province_demo_refuses_to_overwrite_a_real_store(tmp_path):
    from builders import make_store
    from retrofit.store import StoreFault

    engine = make_store(f"sqlite:///{tmp_path / 'real.db'}", date(2026, 7, 2))
    with pytest.raises(StoreFault, match="真实数据"):
        province.build_province_demo(engine, 7, size=TINY)
    assert len(queries.load_counties(engine)) == 2
    assert isinstance(queries.load_counties(engine), pd.DataFrame)


def test_the_demo_command_builds_the_province_and_prints_its_build_time(tmp_path, monkeypatch, capsys):
    from retrofit.cli import main

    monkeypatch.setenv("RETROFIT_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["demo", "--scale", "province", "--households", "5000", "--communities", "600"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("全省演示数据已生成") and "用时" in out and "county 107" in out
    assert main(["rank", "--program", "heating", "--measure", "completion_rate", "--level", "city"]) == 0
    ranked = capsys.readouterr().out
    assert "西安市" in ranked and "新城区" not in ranked
    assert main(["rank", "--program", "heating", "--measure", "completion_rate", "--city", "北京市"]) == 2
    assert "未找到市“北京市”" in capsys.readouterr().err


def test_province_demo_rows_keep_every_constraint_though_sqlite_loads_them_unchecked(tiny_province, tmp_path):
    engine, _ = tiny_province
    checking = db.make_engine(f"sqlite:///{tmp_path / 'checking.db'}")
    with checking.begin() as target, engine.connect() as source:
        db.metadata.create_all(target)
        for table in db.metadata.sorted_tables:   # parents first: every foreign key is checked
            rows = [row._asdict() for row in source.execute(select(table))]
            if rows:
                target.execute(table.insert(), rows)
        loaded = target.execute(select(func.count()).select_from(db.heating_household)).scalar_one()
    checking.dispose()
    assert loaded == _count(engine, db.heating_household)


def test_after_the_province_build_the_store_refuses_a_household_of_an_unknown_village(tiny_province):
    from sqlalchemy.exc import IntegrityError

    engine, _ = tiny_province
    h = db.heating_household
    with engine.connect() as conn:
        row = {k: v for k, v in conn.execute(select(h).limit(1)).mappings().one().items() if k != "id"}
    for broken in (dict(village_code="999999999999"), dict(route="煤改柴")):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(h.insert(), dict(row, code="TEST-0001", **broken))


def test_on_postgresql_the_province_build_leaves_planner_statistics_and_sessions_without_jit(tiny_province):
    """Without statistics the village list scans every household; JIT adds 0.2-0.3 s to each page query."""
    engine, _ = tiny_province
    if engine.dialect.name != "postgresql":
        assert engine.dialect.name == "sqlite"   # SQLite plans without collected statistics
        return
    with engine.connect() as conn:
        analysed = conn.exec_driver_sql("SELECT count(*) FROM pg_stats WHERE tablename = 'heating_household'").scalar()
        jit = conn.exec_driver_sql("SHOW jit").scalar()
    assert analysed > 0 and jit == "off"
