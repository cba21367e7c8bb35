"""Read queries: aggregation in SQL with bound parameters, DataFrames out.

Every function takes an as-of date and reconstructs the state on that day from dated facts
(`<date column> <= as_of`). Counting happens in the database (GROUP BY), never by loading
every household. `counties` is a tuple of adcodes; empty means the whole city.
"""
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import and_, case, exists, false, func, literal, not_, or_, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from . import db, fmt, summary
from .accounts import Access
from .vocab import MILESTONES, NO_STAGE, PROCUREMENT_STEPS, STAGE_STANDING, STAGES

Counties = tuple[str, ...]


def _in_counties(column, counties: Counties):
    return column.in_(counties) if counties else true()


def _count_if(condition, value=None):
    """SUM(CASE WHEN condition THEN value ELSE 0 END), value 1 by default (a count)."""
    return func.coalesce(func.sum(case((condition, literal(1) if value is None else value), else_=0)), 0)


def _frame(engine: Engine, statement) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(statement)
        # Plain tuples: given Row objects, pandas probes each for namedtuple fields (an AttributeError
        # per row), about 6x slower for the thousands of allocation rows a province store has.
        return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def _per_county(engine: Engine, statement, counties: Counties, zero_columns: list[str]) -> pd.DataFrame:
    """Aggregates per county, with every county of the scope present (zeros where no rows)."""
    return _zero_filled(engine, _frame(engine, statement), counties, zero_columns)


def _zero_filled(engine: Engine, found: pd.DataFrame, counties: Counties, zero_columns: list[str]) -> pd.DataFrame:
    """`found` (per adcode) with every county of the scope present, in order (zeros where none)."""
    frame = load_counties(engine, counties)[["adcode", "county"]].merge(found, on="adcode", how="left")
    frame[zero_columns] = frame[zero_columns].fillna(0).astype("int64")
    return frame


def load_counties(engine: Engine, counties: Counties = ()) -> pd.DataFrame:
    """adcode, county (name), kind, seq, city_adcode: the counties in scope, in the bureau's order."""
    c = db.county
    return _frame(engine, select(c.c.adcode, c.c.name.label("county"), c.c.kind, c.c.seq, c.c.city_adcode)
                  .where(_in_counties(c.c.adcode, counties)).order_by(c.c.seq))


def load_cities(engine: Engine) -> pd.DataFrame:
    """adcode, city (name), seq, counties (how many): the store's cities in the customary order."""
    c, k = db.city, db.county
    return _frame(engine, select(c.c.adcode, c.c.name.label("city"), c.c.seq,
                                 func.count(k.c.adcode).label("counties"))
                  .select_from(c.outerjoin(k, k.c.city_adcode == c.c.adcode))
                  .group_by(c.c.adcode, c.c.name, c.c.seq).order_by(c.c.seq))


def load_years(engine: Engine, program: str) -> list[int]:
    table = db.renovation_batch if program == "renovation" else db.heating_year
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.year).order_by(table.c.year)).scalars())


def load_report_dates(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return list(conn.execute(select(db.report.c.report_on).order_by(db.report.c.report_on)).scalars())


def load_deadlines(engine: Engine, program: str, year: int) -> dict[str, date]:
    """The plan period's start and each step's deadline for a batch / plan year ({} if none)."""
    table = db.renovation_batch if program == "renovation" else db.heating_year
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.year == year)).mappings().first()
    return {k: v for k, v in row.items() if k != "year"} if row else {}


def load_plan_nodes(engine: Engine, program: str, year: int) -> pd.DataFrame:
    """The plan's node requirements for the year: step, county_adcode (None = city-wide),
    due_on, required_share; in date order."""
    n = db.plan_node
    return _frame(engine, select(n.c.step, n.c.county_adcode, n.c.due_on, n.c.required_share)
                  .where(n.c.program == program, n.c.plan_year == year).order_by(n.c.step, n.c.due_on))


# ---- renovation -----------------------------------------------------------------------------

def load_renovation_progress(engine: Engine, year: int, as_of: date, counties: Counties = (),
                             from_facts: bool = False) -> pd.DataFrame:
    """Per county, the batch's communities, households, area and planned investment, how
    many communities (and their households) had reached each stage by `as_of`, and investment
    completed by then. From the summary when it is current, else (or `from_facts`) counted from
    the facts: the oracle the summary is tested against."""
    columns = ["communities", "households", "floor_area_m2", "planned_investment_yuan",
               "demonstration_communities", "elevators_added"]
    columns += [f"{s.key}_{what}" for s in STAGES for what in ("communities", "households")]
    if not from_facts and summary.is_fresh(engine):
        found = summary.load_renovation_counts(engine, year, as_of, counties)
        return _zero_filled(engine, found, counties, columns + ["completed_investment_yuan"])
    p = db.renovation_project
    reached = []
    for stage in STAGES:
        done = p.c[f"{stage.key}_actual"] <= as_of
        reached += [_count_if(done).label(f"{stage.key}_communities"),
                    _count_if(done, p.c.households).label(f"{stage.key}_households")]
    statement = (select(p.c.county_adcode.label("adcode"), func.count().label("communities"),
                        func.sum(p.c.households).label("households"),
                        func.sum(p.c.floor_area_m2).label("floor_area_m2"),
                        func.sum(p.c.planned_investment_yuan).label("planned_investment_yuan"),
                        _count_if(p.c.is_demonstration).label("demonstration_communities"),
                        func.sum(p.c.elevators_added).label("elevators_added"), *reached)
                 .where(p.c.batch_year == year, _in_counties(p.c.county_adcode, counties))
                 .group_by(p.c.county_adcode))
    frame = _per_county(engine, statement, counties, columns)
    return frame.merge(load_completed_investment(engine, year, as_of, counties), on="adcode")


def load_completed_investment(engine: Engine, year: int, as_of: date, counties: Counties = ()) -> pd.DataFrame:
    """Per county, investment completed by `as_of` on the batch's projects (yuan)."""
    p, b = db.renovation_project, db.investment_booking
    statement = (select(p.c.county_adcode.label("adcode"),
                        func.sum(b.c.amount_yuan).label("completed_investment_yuan"))
                 .select_from(b.join(p, b.c.project_id == p.c.id))
                 .where(p.c.batch_year == year, b.c.booked_on <= as_of,
                        _in_counties(p.c.county_adcode, counties))
                 .group_by(p.c.county_adcode))
    return _per_county(engine, statement, counties, ["completed_investment_yuan"])[
        ["adcode", "completed_investment_yuan"]]


# ---- funds ----------------------------------------------------------------------------------

def _disbursed_by_allocation(as_of: date):
    d = db.fund_disbursement
    return (select(d.c.allocation_id, func.sum(d.c.amount_yuan).label("disbursed"))
            .where(d.c.paid_on <= as_of).group_by(d.c.allocation_id).subquery())


def load_subsidy_due(engine: Engine, as_of: date, due_days: int, counties: Counties = (),
                     from_facts: bool = False) -> pd.DataFrame:
    """Per county and plan year: heating subsidies (yuan) of all the plan's households, which its
    allocations were sized for (subsidy_yuan), and of those connected at least `due_days` before
    `as_of` and not cancelled (due_subsidy_yuan), whose subsidy has fallen due. Households count
    with the year they were planned in, whose allocation pays for them, even when carried over;
    a cancelled household's subsidy never falls due. From the summary when it is current and
    `due_days` is the one it was built with (settings.SUBSIDY_DUE_DAYS)."""
    if not from_facts and due_days == summary.SUBSIDY_DUE_DAYS and summary.is_fresh(engine):
        return summary.load_subsidy_counts(engine, as_of, counties)
    h = db.heating_household
    live = not_(func.coalesce(_cancelled_by(as_of), false()))
    due = and_(h.c.connected_on <= as_of - timedelta(days=due_days), live)
    statement = (select(h.c.county_adcode.label("adcode"), h.c.plan_year,
                        func.sum(h.c.subsidy_yuan).label("subsidy_yuan"),
                        _count_if(due, h.c.subsidy_yuan).label("due_subsidy_yuan"))
                 .where(_in_counties(h.c.county_adcode, counties))
                 .group_by(h.c.county_adcode, h.c.plan_year))
    return _frame(engine, statement)


def load_allocations(engine: Engine, as_of: date, program: str | None = None, counties: Counties = ()
                     ) -> pd.DataFrame:
    """Every allocation made by `as_of` (any plan year) with what was disbursed from it by then:
    county, program, plan_year, source, allocated_on, allocated_yuan, disbursed_yuan."""
    a, c, paid = db.fund_allocation, db.county, _disbursed_by_allocation(as_of)
    statement = (select(a.c.county_adcode.label("adcode"), c.c.name.label("county"), a.c.program,
                        a.c.plan_year, a.c.source, a.c.allocated_on,
                        a.c.amount_yuan.label("allocated_yuan"),
                        func.coalesce(paid.c.disbursed, 0).label("disbursed_yuan"))
                 .select_from(a.join(c, c.c.adcode == a.c.county_adcode)
                              .outerjoin(paid, paid.c.allocation_id == a.c.id))
                 .where(a.c.allocated_on <= as_of, _in_counties(a.c.county_adcode, counties),
                        a.c.program == program if program else true())
                 .order_by(c.c.seq, a.c.plan_year, a.c.allocated_on, a.c.id))
    return _frame(engine, statement)


# ---- clean heating --------------------------------------------------------------------------

def _connected_deadline(engine: Engine, year: int) -> date | None:
    return load_deadlines(engine, "heating", year).get("connected_deadline")


def _in_task(year: int, previous_deadline: date | None):
    """Households in year `year`'s task: its own plan, plus households of earlier plans neither
    connected nor cancelled by last year's deadline (carried over, 结转). A household belongs to
    one year's task at a time: once carried over it has left its own year's task."""
    h = db.heating_household
    if previous_deadline is None:
        return h.c.plan_year == year
    settled = or_(h.c.connected_on <= previous_deadline,
                  and_(h.c.status == "取消", h.c.status_on <= previous_deadline))
    # A range on plan_year at the top (not an OR of two branches), so an index on it applies.
    return and_(h.c.plan_year <= year,
                or_(h.c.plan_year == year, not_(func.coalesce(settled, false()))))


def _task_of(engine: Engine, year: int):
    return _in_task(year, _connected_deadline(engine, year - 1))


def compute_counted_until(engine: Engine, year: int, as_of: date) -> date:
    """The last day whose facts count for year `year`'s task: `as_of`, but never past the year's
    connection deadline, when its task closes and what is left carries over to the next year
    (so a household connected late counts once, in the year that carried it)."""
    deadline = _connected_deadline(engine, year)
    return min(as_of, deadline) if deadline else as_of


def _cancelled_by(as_of: date):
    """Cancelled (销户, 核减) with the cancellation approved by `as_of`."""
    h = db.heating_household
    return and_(h.c.status == "取消", h.c.status_on <= as_of)


def _milestone_counts(counted_until: date) -> list:
    """Households of the task reached each milestone by `counted_until` and not cancelled by then,
    and those cancelled by then."""
    h = db.heating_household
    live = not_(func.coalesce(_cancelled_by(counted_until), false()))
    return [_count_if(_cancelled_by(counted_until)).label("cancelled_households"),
            *[_count_if(and_(h.c[f"{m.key}_on"] <= counted_until, live)).label(f"{m.key}_households")
              for m in MILESTONES]]


def load_heating_progress(engine: Engine, year: int, as_of: date, counties: Counties = (),
                          from_facts: bool = False) -> pd.DataFrame:
    """Per county, the plan targets and how many of the year's task households had reached each
    milestone by `as_of` (never past the task's close, compute_counted_until), cancelled ones
    (核减, leaving the target: net_target_households), idle ones, and urban area done. Household
    counts from the summary when it is current, else (or `from_facts`) from the facts."""
    h, plan = db.heating_household, db.heating_plan
    counted_until = compute_counted_until(engine, year, as_of)
    counted = ["task_households", "carried_households", "idle_households", "cancelled_households",
               *[f"{m.key}_households" for m in MILESTONES]]
    if not from_facts and summary.is_fresh(engine):
        found = summary.load_heating_counts(engine, year, as_of, counted_until, counties)[["adcode", *counted]]
    else:
        idle = and_(h.c.status == "闲置", h.c.status_on <= as_of)
        found = _frame(engine, select(h.c.county_adcode.label("adcode"),
                                      func.count().label("task_households"),
                                      _count_if(h.c.plan_year < year).label("carried_households"),
                                      _count_if(idle).label("idle_households"),
                                      *_milestone_counts(counted_until))
                       .where(_task_of(engine, year), _in_counties(h.c.county_adcode, counties))
                       .group_by(h.c.county_adcode))
    households = _zero_filled(engine, found, counties, counted)
    targets = _per_county(engine, select(plan.c.county_adcode.label("adcode"), plan.c.target_households,
                                         plan.c.carryover_households, plan.c.target_urban_m2)
                          .where(plan.c.year == year, _in_counties(plan.c.county_adcode, counties)),
                          counties, ["target_households", "carryover_households", "target_urban_m2"])
    frame = (targets.merge(households.drop(columns="county"), on="adcode")
             .merge(load_urban_area_done(engine, year, as_of, counties), on="adcode"))
    frame["net_target_households"] = (frame["target_households"] - frame["cancelled_households"]).clip(lower=0)
    return frame


def load_urban_area_done(engine: Engine, year: int, as_of: date, counties: Counties = ()) -> pd.DataFrame:
    w = db.urban_heating_work
    statement = (select(w.c.county_adcode.label("adcode"), func.sum(w.c.area_m2).label("urban_m2_done"))
                 .where(w.c.plan_year == year, w.c.completed_on <= as_of,
                        _in_counties(w.c.county_adcode, counties))
                 .group_by(w.c.county_adcode))
    return _per_county(engine, statement, counties, ["urban_m2_done"])[["adcode", "urban_m2_done"]]


# ---- supervision ----------------------------------------------------------------------------

def load_supervision(engine: Engine, as_of: date, counties: Counties = ()) -> pd.DataFrame:
    """Supervision items opened by `as_of`: code, county, program, text, opened_on, deadline,
    closed_on (a closing after `as_of` is not known yet on that day, so it reads as open)."""
    s, c = db.supervision_item, db.county
    closed = case((s.c.closed_on <= as_of, s.c.closed_on), else_=None).label("closed_on")
    statement = (select(s.c.code, s.c.county_adcode.label("adcode"), c.c.name.label("county"), s.c.program,
                        s.c.text, s.c.opened_on, s.c.deadline, closed)
                 .select_from(s.join(c, c.c.adcode == s.c.county_adcode))
                 .where(s.c.opened_on <= as_of, _in_counties(s.c.county_adcode, counties))
                 .order_by(s.c.deadline, s.c.code))
    return _frame(engine, statement)


# ---- rows to show (few hundred at most) -----------------------------------------------------

def load_communities(engine: Engine, access: Access, year: int, counties: Counties = ()) -> pd.DataFrame:
    """The batch's communities with their facts and every planned and actual stage date, within
    what `access` may list (a clerk: their own county; another county is refused)."""
    counties = access.detail_counties(counties)
    p, c = db.renovation_project, db.county
    statement = (select(p, c.c.name.label("county"))
                 .select_from(p.join(c, c.c.adcode == p.c.county_adcode))
                 .where(p.c.batch_year == year, _in_counties(p.c.county_adcode, counties))
                 .order_by(c.c.seq, p.c.code))
    return _frame(engine, statement)


class _position(FunctionElement):
    """Where a text occurs in another (1-based; 0 when absent), case-sensitive on both engines
    (LIKE would ignore ASCII case on SQLite only)."""
    type = Integer()
    inherit_cache = True


@compiles(_position)
def _position_sqlite(element, compiler, **kw):
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _position_postgresql(element, compiler, **kw):
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _contains_text(columns: list, query: str):
    """Rows whose `columns`, joined by spaces, contain `query` (as tables._matching reads a search
    box: case and all, no wildcards); every row for an empty query."""
    query = query.strip()
    if not query:
        return true()
    text = columns[0]
    for column in columns[1:]:
        text = text + " " + column
    return _position(text, query) > 0


def _community_stage(as_of: date):
    """Where a community stands on `as_of` (measures.compute_community_status's `stage`): the
    last stage reached by then, else NO_STAGE."""
    p = db.renovation_project
    return case(*[(p.c[f"{s.key}_actual"] <= as_of, label) for s, label in reversed(list(zip(STAGES, STAGE_STANDING)))],
                else_=NO_STAGE)


def _community_rows(access: Access, year: int, as_of: date, counties: Counties, stages: tuple[str, ...], query: str):
    counties = access.detail_counties(counties)
    p, c = db.renovation_project, db.county
    return (select(p, c.c.name.label("county"))
            .select_from(p.join(c, c.c.adcode == p.c.county_adcode))
            .where(p.c.batch_year == year, _in_counties(p.c.county_adcode, counties),
                   _community_stage(as_of).in_(stages) if stages else true(),
                   _contains_text([p.c.name, p.c.street, c.c.name, p.c.code], query)))


def load_community_page(engine: Engine, access: Access, year: int, as_of: date, counties: Counties = (),
                        stages: tuple[str, ...] = (), query: str = "", offset: int = 0, limit: int = 100
                        ) -> pd.DataFrame:
    """Rows `offset`… of the batch's communities as load_communities orders them, only those
    standing at one of `stages` on `as_of` and matching the search `query` (name, street, county,
    code): one page of the community list, filtered, sorted and cut in SQL."""
    p, c = db.renovation_project, db.county
    return _frame(engine, _community_rows(access, year, as_of, counties, stages, query)
                  .order_by(c.c.seq, p.c.code).offset(offset).limit(limit))


def count_communities(engine: Engine, access: Access, year: int, as_of: date, counties: Counties = (),
                      stages: tuple[str, ...] = (), query: str = "") -> int:
    """How many communities load_community_page pages through."""
    rows = _community_rows(access, year, as_of, counties, stages, query).subquery()
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(rows)).scalar_one()


def load_batch_progress(engine: Engine, as_of: date, counties: Counties = ()) -> pd.DataFrame:
    """Per batch year: communities and how many had reached each stage by `as_of`."""
    p = db.renovation_project
    statement = (select(p.c.batch_year.label("year"), func.count().label("communities"),
                        *[_count_if(p.c[f"{s.key}_actual"] <= as_of).label(f"{s.key}_communities") for s in STAGES])
                 .where(p.c.batch_year <= as_of.year, _in_counties(p.c.county_adcode, counties))
                 .group_by(p.c.batch_year).order_by(p.c.batch_year))
    return _frame(engine, statement)


def load_investment_history(engine: Engine, year: int, counties: Counties = ()) -> pd.DataFrame:
    """Investment booked on the batch's projects per booking date (yuan), city-wide or scoped."""
    p, b = db.renovation_project, db.investment_booking
    statement = (select(b.c.booked_on, func.sum(b.c.amount_yuan).label("amount_yuan"))
                 .select_from(b.join(p, b.c.project_id == p.c.id))
                 .where(p.c.batch_year == year, _in_counties(p.c.county_adcode, counties))
                 .group_by(b.c.booked_on).order_by(b.c.booked_on))
    return _frame(engine, statement)


def load_village_progress(engine: Engine, access: Access, year: int, as_of: date, counties: Counties = (),
                          routes: tuple[str, ...] = (), villages: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per village with households in the year's task: where it is, how many households, how
    many reached each milestone (counted as in load_heating_progress), idle and cancelled ones;
    within what `access` may list (a clerk: their own county; another county is refused); only
    the villages coded `villages` when given (a page, load_village_page)."""
    counties = access.detail_counties(counties)
    h, v, t, c = db.heating_household, db.village, db.township, db.county
    statement = (select(v.c.code.label("village_code"), v.c.name.label("village"), t.c.name.label("township"),
                        c.c.name.label("county"), c.c.adcode, v.c.lon, v.c.lat,
                        func.count().label("task_households"),
                        _count_if(h.c.plan_year < year).label("carried_households"),
                        _count_if(and_(h.c.status == "闲置", h.c.status_on <= as_of)).label("idle_households"),
                        *_milestone_counts(compute_counted_until(engine, year, as_of)))
                 .select_from(h.join(v, v.c.code == h.c.village_code).join(t, t.c.code == v.c.township_code)
                              .join(c, c.c.adcode == h.c.county_adcode))
                 .where(_task_of(engine, year), _in_counties(h.c.county_adcode, counties),
                        h.c.route.in_(routes) if routes else true(),
                        h.c.village_code.in_(villages) if villages else true())
                 .group_by(v.c.code, v.c.name, t.c.name, c.c.name, c.c.adcode, c.c.seq, v.c.lon, v.c.lat)
                 .order_by(c.c.seq, t.c.name, v.c.name, v.c.code))
    return _frame(engine, statement)


def _village_list(engine: Engine, access: Access, year: int, counties: Counties, routes: tuple[str, ...],
                  query: str):
    """The villages load_village_progress lists (with households in the year's task, of `routes`),
    matching the search `query` (village, township, county), without counting their households:
    each village needs one index probe for a task household, not a scan of all of them."""
    counties = access.detail_counties(counties)
    h, v, t, c = db.heating_household, db.village, db.township, db.county

    def has_households(*conditions):
        return exists(select(h.c.id).where(h.c.village_code == v.c.code, *conditions,
                                           _in_counties(h.c.county_adcode, counties),
                                           h.c.route.in_(routes) if routes else true()))

    # Two probes rather than one on the task's OR: a household of the year's own plan is one seek
    # on (village, plan year); carried-over households are looked for only where there is none.
    in_task = or_(has_households(h.c.plan_year == year),
                  has_households(h.c.plan_year < year, _in_task(year, _connected_deadline(engine, year - 1))))
    return (select(v.c.code).select_from(v.join(t, t.c.code == v.c.township_code)
                                         .join(c, c.c.adcode == t.c.county_adcode))
            .where(in_task, _in_counties(t.c.county_adcode, counties),
                   _contains_text([v.c.name, t.c.name, c.c.name], query)))


def load_village_codes(engine: Engine, access: Access, year: int, counties: Counties = (),
                       routes: tuple[str, ...] = (), query: str = "") -> tuple[str, ...]:
    """The codes of the villages load_village_progress lists, in its order, among those matching
    the search `query` (village, township, county): filtered and sorted in SQL. A page of the list
    is then load_village_progress(…, villages=codes[a:b]), which counts only that page's households."""
    v, t, c = db.village, db.township, db.county
    statement = (_village_list(engine, access, year, counties, routes, query)
                 .order_by(c.c.seq, t.c.name, v.c.name, v.c.code))
    with engine.connect() as conn:
        return tuple(conn.execute(statement).scalars())


def load_village_sample(engine: Engine, access: Access, year: int, counties: Counties = (),
                        routes: tuple[str, ...] = (), most: int = 1000) -> tuple[tuple[str, ...], int]:
    """An even sample (every k-th, in list order) of at most `most` of the villages
    load_village_codes lists, and how many it lists: the detailed map's points at province size."""
    codes = load_village_codes(engine, access, year, counties, routes)
    every = -(-len(codes) // most) if codes else 1
    return codes[::every], len(codes)


def _known_on(column, as_of: date):
    """The date if it had happened by `as_of`, else NULL (not known yet on that day)."""
    return case((column <= as_of, column), else_=None)


def load_village_households(engine: Engine, access: Access, village_code: str, year: int, as_of: date,
                            routes: tuple[str, ...] = ()) -> pd.DataFrame:
    """One village's households in the year's task as known on `as_of` (later dates blank, a
    later idling or cancellation not yet shown), with milestone dates and economics; none of a
    county `access` may not list. The head's name is in full only where `access` may see it
    (the household's own county, city admins), else masked (fmt.mask_name); phones are stored
    masked."""
    h = db.heating_household
    status_known = h.c.status_on <= as_of
    counties = access.detail_counties()
    columns = [h.c.code, h.c.county_adcode, h.c.plan_year, h.c.head_name, h.c.phone_masked, h.c.route, h.c.equipment_cost_yuan,
               h.c.subsidy_yuan, h.c.running_cost_yuan, h.c.coal_cost_yuan,
               case((status_known, h.c.status), else_="正常使用").label("status"),
               _known_on(h.c.status_on, as_of).label("status_on"),
               *[_known_on(h.c[f"{m.key}_on"], as_of).label(f"{m.key}_on") for m in MILESTONES]]
    statement = (select(*columns)
                 .where(h.c.village_code == village_code, _task_of(engine, year),
                        _in_counties(h.c.county_adcode, counties), h.c.route.in_(routes) if routes else true())
                 .order_by(h.c.code))
    frame = _frame(engine, statement)
    frame["head_name"] = [name if access.may_see_names(adcode) else fmt.mask_name(name)
                          for name, adcode in zip(frame["head_name"], frame["county_adcode"])]
    return frame


def load_route_mix(engine: Engine, year: int, as_of: date, counties: Counties = (),
                   routes: tuple[str, ...] = (), from_facts: bool = False) -> pd.DataFrame:
    """Per county and technical route: households in the year's task and those connected by
    `as_of`, and the route's economics summed (yuan) for averaging."""
    h, c = db.heating_household, db.county
    counted_until = compute_counted_until(engine, year, as_of)
    if not from_facts and summary.is_fresh(engine):
        return summary.load_heating_counts_by_route(engine, year, as_of, counted_until, counties, routes)[
            ["county", "adcode", "route", "task_households", "connected_households", "equipment_cost_yuan",
             "subsidy_yuan", "running_cost_yuan", "coal_cost_yuan"]]
    live = not_(func.coalesce(_cancelled_by(counted_until), false()))
    statement = (select(c.c.name.label("county"), h.c.county_adcode.label("adcode"), h.c.route,
                        func.count().label("task_households"),
                        _count_if(and_(h.c.connected_on <= counted_until, live)).label("connected_households"),
                        func.sum(h.c.equipment_cost_yuan).label("equipment_cost_yuan"),
                        func.sum(h.c.subsidy_yuan).label("subsidy_yuan"),
                        func.sum(h.c.running_cost_yuan).label("running_cost_yuan"),
                        func.sum(h.c.coal_cost_yuan).label("coal_cost_yuan"))
                 .select_from(h.join(c, c.c.adcode == h.c.county_adcode))
                 .where(_task_of(engine, year), _in_counties(h.c.county_adcode, counties),
                        h.c.route.in_(routes) if routes else true())
                 .group_by(c.c.name, h.c.county_adcode, c.c.seq, h.c.route).order_by(c.c.seq, h.c.route))
    return _frame(engine, statement)


def load_procurement(engine: Engine, year: int, as_of: date, counties: Counties = ()) -> pd.DataFrame:
    """Each county's procurement dates for the plan year, as known on `as_of` (empty where a
    step had not happened by then), with its target households (0: no task this year)."""
    plan, c = db.heating_plan, db.county
    known = [_known_on(plan.c[f"{p.key}_on"], as_of).label(f"{p.key}_on") for p in PROCUREMENT_STEPS]
    statement = (select(c.c.name.label("county"), plan.c.county_adcode.label("adcode"), plan.c.target_households,
                        *known)
                 .select_from(plan.join(c, c.c.adcode == plan.c.county_adcode))
                 .where(plan.c.year == year, _in_counties(plan.c.county_adcode, counties)).order_by(c.c.seq))
    return _frame(engine, statement)


# ---- published reports ------------------------------------------------------------------------

def load_published_report(engine: Engine, report_on: date) -> dict | None:
    """The published report in force (not withdrawn) for the date, as a dict of its columns."""
    r = db.published_report
    with engine.connect() as conn:
        row = conn.execute(select(r).where(r.c.report_on == report_on, r.c.status == db.PUBLISHED)).mappings().first()
    return dict(row) if row else None


def load_published_reports(engine: Engine) -> pd.DataFrame:
    """Every published report, withdrawn ones included, newest date first (no notice text)."""
    r = db.published_report
    return _frame(engine, select(*[c for c in r.c if c.name != "notice_text"])
                  .order_by(r.c.report_on.desc(), r.c.published_at.desc()))


def load_published_figures(engine: Engine, report_id: int, program: str | None = None,
                           key: str | None = None) -> pd.DataFrame:
    """A published report's frozen figures: program, measure, adcode ('' = city), county,
    numerator, denominator, target, line, basis, gap_pp, flag, rank, previous_rank."""
    f = db.published_figure
    statement = (select(f).where(f.c.report_id == report_id,
                                 f.c.program == program if program else true(),
                                 f.c.measure == key if key else true())
                 .order_by(f.c.program, f.c.measure, f.c.rank, f.c.adcode))
    return _frame(engine, statement)


def load_published_files(engine: Engine, report_id: int, with_content: bool = False) -> pd.DataFrame:
    """A published report's frozen files: name, mime, sha256 (and content when asked)."""
    f = db.published_file
    columns = [f.c.name, f.c.mime, f.c.sha256] + ([f.c.content] if with_content else [])
    return _frame(engine, select(*columns).where(f.c.report_id == report_id).order_by(f.c.name))


def load_import_log(engine: Engine) -> pd.DataFrame:
    """Every county import: id, imported_at (UTC, ISO), who, county_adcode (None: city-wide), status."""
    log = db.import_log
    return _frame(engine, select(log.c.id, log.c.imported_at, log.c.who, log.c.county_adcode, log.c.status)
                  .order_by(log.c.id))
