"""Hand-built stores for tests: two counties, one renovation batch and two heating years, and
helpers that add one fact at a time, so each test states exactly the rows it counts."""
import json
import threading
from contextlib import contextmanager
from datetime import date

from sqlalchemy import text

from retrofit import db
from retrofit.accounts import Access
from retrofit.intake import city

NORTH, SOUTH = "610001", "610002"
STAGE_KEYS = ("reserve", "prep", "tender", "start", "finish", "accept")
MILESTONE_KEYS = ("confirmed", "tendered", "installed", "connected")


def make_store(url: str, data_date: date = date(2026, 7, 2)):
    """An engine on a fresh store at `url` with the reference rows every test needs."""
    engine = db.make_engine(url)
    with engine.begin() as conn:
        db.metadata.drop_all(conn)
        db.metadata.create_all(conn)
        conn.execute(db.county.insert(), [
            dict(adcode=NORTH, name="北县", kind="县", seq=1),
            dict(adcode=SOUTH, name="南区", kind="区", seq=2)])
        conn.execute(db.renovation_batch.insert(), [dict(
            year=2026, period_start=date(2026, 1, 1), start_deadline=date(2026, 6, 30),
            finish_deadline=date(2026, 12, 31), accept_deadline=date(2027, 6, 30))])
        conn.execute(db.heating_year.insert(), [dict(
            year=y, period_start=date(y, 1, 1), confirmed_deadline=date(y, 3, 31),
            tendered_deadline=date(y, 5, 31), installed_deadline=date(y, 10, 31),
            connected_deadline=date(y, 11, 15)) for y in (2025, 2026)])
        db.write_meta(conn, data_date=data_date.isoformat(), is_demo=0, revision=1, store_id=db.new_store_id(),
                      **{db.SCHEMA_VERSION_KEY: db.SCHEMA_VERSION})
    return engine


def add_project(engine, code: str, county: str = NORTH, households: int = 100,
                investment: int = 1_000_000, **actual) -> int:
    """A 2026-batch community; `actual` maps stage keys to actual dates (e.g. start=date(...))."""
    with engine.begin() as conn:
        return conn.execute(db.renovation_project.insert().values(
            code=code, county_adcode=county, batch_year=2026, street="城关街道", name=f"{code}小区",
            lon=107.0, lat=34.0, year_built=1990, buildings=4, households=households,
            floor_area_m2=households * 70, property_type="无物业", renovation_type="基础完善型",
            planned_investment_yuan=investment,
            **{f"{k}_actual": v for k, v in actual.items()})).inserted_primary_key[0]


def chain(*dates: date) -> dict:
    """Actual dates for the first len(dates) stages, in order."""
    return dict(zip(STAGE_KEYS, dates))


def add_village(engine, county: str = NORTH, code: str | None = None) -> str:
    code = code or f"{county}101201"
    with engine.begin() as conn:
        if conn.execute(db.township.select().where(db.township.c.code == code[:9])).first() is None:
            conn.execute(db.township.insert().values(code=code[:9], county_adcode=county, name="城关镇"))
        conn.execute(db.village.insert().values(code=code, township_code=code[:9], name="东村",
                                                lon=107.0, lat=34.0))
    return code


def add_plan(engine, county: str, year: int, target: int, carryover: int = 0, urban_m2: int = 0):
    with engine.begin() as conn:
        conn.execute(db.heating_plan.insert().values(county_adcode=county, year=year, target_households=target,
                                                     carryover_households=carryover, target_urban_m2=urban_m2))


def add_household(engine, code: str, village: str, year: int, county: str = NORTH, route: str = "生物质",
                  status: str = "正常使用", status_on: date | None = None, **milestones) -> None:
    """A household; `milestones` maps milestone keys to dates (e.g. connected=date(...))."""
    with engine.begin() as conn:
        conn.execute(db.heating_household.insert().values(
            code=code, county_adcode=county, village_code=village, plan_year=year, head_name="王建国",
            route=route, equipment_cost_yuan=5000, subsidy_yuan=3500, running_cost_yuan=900,
            coal_cost_yuan=1800, status=status, status_on=status_on,
            **{f"{k}_on": v for k, v in milestones.items()}))


def all_milestones(day: date) -> dict:
    return {k: day for k in MILESTONE_KEYS}


def add_allocation(engine, county: str, amount: int, allocated_on: date, source: str = "中央财政补助",
                   program: str = "renovation", year: int = 2026, payments=()) -> int:
    """An allocation and its disbursements, `payments` being (amount, paid_on) pairs."""
    with engine.begin() as conn:
        allocation_id = conn.execute(db.fund_allocation.insert().values(
            code=f"{program}-{county}-{year}-{source}-{allocated_on}", program=program, county_adcode=county,
            plan_year=year, source=source, amount_yuan=amount, allocated_on=allocated_on)).inserted_primary_key[0]
        for n, (value, paid_on) in enumerate(payments):
            conn.execute(db.fund_disbursement.insert().values(code=f"ZF-{allocation_id}-{n}",
                                                              allocation_id=allocation_id, amount_yuan=value,
                                                              paid_on=paid_on))
    return allocation_id


def add_nodes(engine, program: str, step: str, nodes, year: int = 2026, county: str | None = None) -> None:
    """The plan's node requirements for one step: `nodes` are (due_on, required_share) pairs."""
    with engine.begin() as conn:
        conn.execute(db.plan_node.insert(), [dict(program=program, plan_year=year, step=step, county_adcode=county,
                                                  due_on=day, required_share=share) for day, share in nodes])


LONGXIAN = "610327"  # a county of the shipped boundary file (陇县), unlike NORTH and SOUTH


def add_county(engine, adcode: str, name: str, kind: str = "县") -> None:
    """One more county, after the others in the city's order."""
    with engine.begin() as conn:
        seq = len(conn.execute(db.county.select()).all()) + 1
        conn.execute(db.county.insert().values(adcode=adcode, name=name, kind=kind, seq=seq))


def make_store_with_counties_off_the_map(url: str):
    """北县 and 南区 (no outline in the boundary file) beside 陇县 (one), each with a started
    community, a heating plan of 4 households of which 1, 2 and 3 are connected, and an
    allocation 40% paid; the file's other eleven outlines belong to no county of this store."""
    engine = make_store(url, date(2026, 11, 20))
    add_county(engine, LONGXIAN, "陇县")
    _add_work_in_each(engine, (NORTH, SOUTH, LONGXIAN))
    return engine


# Two squares of an invented city far from the shipped 宝鸡 file, 北县 north of 南区.
NORTH_SQUARE, SOUTH_SQUARE = (100.0, 40.5, 101.0, 41.0), (100.0, 40.0, 101.0, 40.5)


def build_squares_geojson() -> bytes:
    """A boundary file (GeoJSON) of 北县 and 南区 as the two squares."""
    def square(west, south, east, north):
        return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                    [west, south]]]}
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": adcode, "name": name}, "geometry": square(*bounds)}
        for adcode, name, bounds in ((NORTH, "北县", NORTH_SQUARE), (SOUTH, "南区", SOUTH_SQUARE))]},
        ensure_ascii=False).encode()


def make_store_with_own_boundaries(url: str):
    """北县 and 南区 with their outlines in the store (intake.city, as `city boundaries` does),
    none of them in the shipped file, and the same work in each as the store above."""
    engine = make_store(url, date(2026, 11, 20))
    _add_work_in_each(engine, (NORTH, SOUTH))
    city.attach_boundaries(engine, build_squares_geojson(), "counties.geojson")
    return engine


def _add_work_in_each(engine, counties) -> None:
    for done, county in enumerate(counties, start=1):
        add_project(engine, f"P{done}", county, **chain(*[date(2026, 3, 1 + k) for k in range(4)]))
        village = add_village(engine, county)
        add_plan(engine, county, 2026, 4)
        for n in range(4):
            add_household(engine, f"H{county}{n}", village, 2026, county,
                          **(all_milestones(date(2026, 10, 1)) if n < done else {}))
        add_allocation(engine, county, 1_000_000, date(2026, 3, 1), payments=[(400_000, date(2026, 5, 1))])


def copy_sqlite_store(url: str, path) -> str:
    """A copy of the SQLite store at `url` in `path` (through SQLite's backup: a WAL store's
    recent commits live beside the file), as a URL."""
    import sqlite3

    source, target = sqlite3.connect(url.removeprefix("sqlite:///")), sqlite3.connect(path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{path}"


def sha256_of(path) -> str:
    """The file's checksum: a store this code must not touch keeps it byte for byte."""
    import hashlib
    from pathlib import Path

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@contextmanager
def write_held_open(url: str, statement, **params):
    """Inside the block, another connection has run `statement` and holds its transaction open
    (uncommitted, locks taken) until the block ends; then it rolls back. Fails if the writer had
    let go before the block was done."""
    locked, release, held, failure = threading.Event(), threading.Event(), {}, []

    def writer():
        engine = db.make_engine(url)
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                conn.execute(text(statement) if isinstance(statement, str) else statement, params)
                locked.set()
                held["released"] = release.wait(timeout=180)
                transaction.rollback()
        except Exception as error:  # noqa: BLE001 - reported by the test thread below
            failure.append(error)
            locked.set()
        finally:
            engine.dispose()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(timeout=60) and not failure, failure
        yield
    finally:
        release.set()
        thread.join()
    assert held.get("released"), "the writer let go before the reads were done"


PROVINCE_COUNTIES = 110


def make_store_with_many_counties(url: str, counties: int = PROVINCE_COUNTIES):
    """A province-sized list of counties (no outlines), each with a started community, a heating
    plan of 20 households of which a county-dependent number are connected (the best all 20,
    the worst 15, so about a third fall red behind the 15 November deadline), and an
    allocation 40% paid. Rows go in a few statements: this is a fixture, not an import."""
    engine = make_store(url, date(2026, 11, 20))
    adcodes = [f"62{i:04d}" for i in range(counties)]
    connected_day, started = all_milestones(date(2026, 10, 1)), chain(*[date(2026, 3, 1 + k) for k in range(4)])
    with engine.begin() as conn:
        conn.execute(db.county.delete())
        conn.execute(db.county.insert(), [dict(adcode=a, name=f"第{i + 1}县", kind="县", seq=i + 1)
                                          for i, a in enumerate(adcodes)])
        conn.execute(db.renovation_project.insert(), [dict(
            code=f"P{a}", county_adcode=a, batch_year=2026, street="城关街道", name=f"{a}小区", lon=107.0, lat=34.0,
            year_built=1990, buildings=4, households=100, floor_area_m2=7000, property_type="无物业",
            renovation_type="基础完善型", planned_investment_yuan=1_000_000,
            **{f"{k}_actual": v for k, v in started.items()}) for a in adcodes])
        conn.execute(db.township.insert(), [dict(code=f"{a}101", county_adcode=a, name="城关镇") for a in adcodes])
        conn.execute(db.village.insert(), [dict(code=f"{a}101201", township_code=f"{a}101", name="东村", lon=107.0,
                                                lat=34.0) for a in adcodes])
        conn.execute(db.heating_plan.insert(), [dict(county_adcode=a, year=2026, target_households=20,
                                                     carryover_households=0, target_urban_m2=0) for a in adcodes])
        conn.execute(db.heating_household.insert(), [dict(
            code=f"H{a}{n:02d}", county_adcode=a, village_code=f"{a}101201", plan_year=2026, head_name="王建国",
            route="生物质", equipment_cost_yuan=5000, subsidy_yuan=3500, running_cost_yuan=900, coal_cost_yuan=1800,
            status="正常使用", status_on=None,
            **{f"{k}_on": (v if n < 20 - 6 * i // counties else None) for k, v in connected_day.items()})
            for i, a in enumerate(adcodes) for n in range(20)])
    for a in adcodes:
        add_allocation(engine, a, 1_000_000, date(2026, 3, 1), payments=[(400_000, date(2026, 5, 1))])
    return engine


# ---- a small province: three cities (issue 13) ---------------------------------------------------
CITY_A, CITY_B, CITY_C = "610100", "610200", "610300"
EAST, WEST, MIDDLE = "610003", "610004", "610005"
# city -> its counties, and county -> (communities, started by 2026-06-20): the start rates are
# 北县 3/4, 南区 1/1 (甲市 4/5 = 80%, while the average of its counties' rates would be 87.5%),
# 东县 2/2, 西县 1/3 (乙市 3/5 = 60%), 中县 4/5 (丙市 80%, tied with 甲市).
PROVINCE_CITIES = {CITY_A: ("甲市", (NORTH, SOUTH)), CITY_B: ("乙市", (EAST, WEST)), CITY_C: ("丙市", (MIDDLE,))}
PROVINCE_STARTS = {NORTH: (4, 3), SOUTH: (1, 1), EAST: (2, 2), WEST: (3, 1), MIDDLE: (5, 4)}


def make_province(engine, started_on: date = date(2026, 6, 20)):
    """Turn a hand-built store (make_store) into a province store of three cities and five
    counties, each county with its 2026 communities (PROVINCE_STARTS) and the start node
    '6月底前全部开工'. Of the communities started, the county's last one started on `started_on`."""
    add_county(engine, EAST, "东县")
    add_county(engine, WEST, "西县")
    add_county(engine, MIDDLE, "中县")
    with engine.begin() as conn:
        conn.execute(db.city.insert(), [dict(adcode=a, name=n, seq=i)
                                        for i, (a, (n, _)) in enumerate(PROVINCE_CITIES.items(), 1)])
        for city_adcode, (_, counties) in PROVINCE_CITIES.items():
            conn.execute(db.county.update().where(db.county.c.adcode.in_(counties)).values(city_adcode=city_adcode))
        db.write_meta(conn, scale="province", province="某省")
    add_nodes(engine, "renovation", "start", [(date(2026, 3, 31), 0.3), (date(2026, 6, 30), 1.0)])
    for county, (communities, started) in PROVINCE_STARTS.items():
        for n in range(communities):
            day = (started_on if n == started - 1 else date(2026, 5, 10)) if n < started else None
            add_project(engine, f"{county}-{n}", county, **(chain(date(2025, 9, 1), date(2026, 2, 1),
                                                                  date(2026, 3, 1), day) if day else {}))


# Readers for tests of the data layer (retrofit.accounts.Access): a leader reads every county
# with names masked; the city admin reads everything in full.
LEADER = Access(who="测试领导", role="leader")
ADMIN = Access(who="测试管理员", role="admin")


def admin_as(name: str) -> Access:
    """A city admin acting under `name` (imports, undos, publications in tests of those rules)."""
    return Access(who=name, role="admin")
