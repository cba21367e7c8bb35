"""Hand-built stores for tests: two counties, one renovation batch and two heating years, and
helpers that add one fact at a time, so each test states exactly the rows it counts."""
from datetime import date

from retrofit import db

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
        db.write_meta(conn, data_date=data_date.isoformat(), is_demo=0, revision=1)
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
        for value, paid_on in payments:
            conn.execute(db.fund_disbursement.insert().values(allocation_id=allocation_id, amount_yuan=value,
                                                              paid_on=paid_on))
    return allocation_id


def add_nodes(engine, program: str, step: str, nodes, year: int = 2026, county: str | None = None) -> None:
    """The plan's node requirements for one step: `nodes` are (due_on, required_share) pairs."""
    with engine.begin() as conn:
        conn.execute(db.plan_node.insert(), [dict(program=program, plan_year=year, step=step, county_adcode=county,
                                                  due_on=day, required_share=share) for day, share in nodes])
