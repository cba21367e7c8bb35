"""The summary: one pass over the facts per data revision, read by every as-of figure.

Every report figure is "how many facts dated on or before D". Counting them means a GROUP BY over
every household, and a page view asks for many dates (as-of, previous report, 12 trend dates) and
many measures. The summary tables (db.heating_summary, db.subsidy_summary, db.renovation_summary)
hold, per plan year, county and day, the running totals as of that day (the facts of that day
and every day before); a figure as of D is read from each county's row of the latest day on or
before D: one index seek per county instead of millions of households.

The rules are those of the direct queries (queries.py, kept as the oracle the tests compare with):
- a heating task closes at its connection deadline: milestones and cancellations count up to
  queries.compute_counted_until, idling up to the as-of date itself;
- a household reaching a milestone and later cancelled (核减, approved on its status date) counts
  from the milestone's date until the day before the approval: +1 then −1;
- a heating subsidy falls due SUBSIDY_DUE_DAYS after connection and stops being due once the
  household's cancellation is approved;
- renovation stages and investment bookings count from their dates.

refresh_summary runs in the caller's transaction, the one that changed the data (import, undo,
demo build, new city, the rolled-back revert of history.reported_on), and records the revision it
was built for; is_fresh tells readers whether to trust it, and they count the facts directly when
not (a store from before the summary, or a revision written by code that does not refresh).
"""
from datetime import date

import pandas as pd
from sqlalchemy import BigInteger, and_, case, cast, func, literal, or_, select, true, union_all
from sqlalchemy.engine import Connection

from . import db
from .settings import SUBSIDY_DUE_DAYS
from .vocab import MILESTONES, STAGES

CANCELLED, IDLE = "取消", "闲置"
MILESTONE_COLUMNS = [f"{m.key}_households" for m in MILESTONES]
HEATING_COLUMNS = [c.name for c in db.heating_summary.c if c.name not in ("task_year", "county_adcode", "route", "day")]
RENOVATION_COLUMNS = [c.name for c in db.renovation_summary.c if c.name not in ("batch_year", "county_adcode", "day")]
# Heating columns counted up to the task's close (counted_until) rather than the as-of date.
UNTIL_CLOSE = {"cancelled_households", *MILESTONE_COLUMNS}


# ---- freshness -----------------------------------------------------------------------------

def is_fresh(engine_or_conn) -> bool:
    """True when the summary was built for the store's current revision (same transaction)."""
    def check(conn: Connection) -> bool:
        meta = dict(conn.execute(select(db.store_meta.c.key, db.store_meta.c.value).where(
            db.store_meta.c.key.in_(("revision", db.SUMMARY_REVISION_KEY)))).all())
        return db.SUMMARY_REVISION_KEY in meta and meta[db.SUMMARY_REVISION_KEY] == meta.get("revision", "0")

    if isinstance(engine_or_conn, Connection):
        return check(engine_or_conn)
    with engine_or_conn.connect() as conn:
        return check(conn)


# ---- refresh -------------------------------------------------------------------------------

def refresh_summary(conn: Connection, counties: tuple[str, ...] | None = None) -> None:
    """Rebuild the summary from the facts in `conn`'s transaction: for `counties` only (an import
    or undo of one county's file) or for all (None). A store whose summary is missing or stale
    is always rebuilt whole. Marks the summary as built for the current revision."""
    created = False
    for table in db.DERIVED_TABLES:
        if not conn.dialect.has_table(conn, table.name):
            table.create(conn)
            created = True
    if counties is not None and (created or not _was_fresh_before(conn)):
        counties = None
    for table in db.DERIVED_TABLES:
        conn.execute(table.delete().where(table.c.county_adcode.in_(counties) if counties is not None else true()))
    # Stores built by earlier code get the county index (a county's refresh reads only its
    # households) and the village index on its current columns.
    db.ensure_indexes(conn)
    # One set-based statement per summary table, for all counties at once or for the imported
    # ones (read through the county index): each kind of fact is one GROUP BY over the facts.
    for build in () if counties == () else (_heating_rows, _subsidy_rows, _renovation_rows):
        table, statement = build(counties, conn.dialect.name)
        conn.execute(table.insert().from_select(list(statement.selected_columns.keys()), statement))
    db.write_meta(conn, **{db.SUMMARY_REVISION_KEY: db.read_meta(conn).get("revision", "0")})


def _was_fresh_before(conn: Connection) -> bool:
    """Was the summary current before this transaction's change? The change bumps the revision
    by one, so the summary must stand at the revision before it (or at it, when refreshed twice)."""
    meta = db.read_meta(conn)
    built, now = meta.get(db.SUMMARY_REVISION_KEY), int(meta.get("revision", "0"))
    return built is not None and built.isdigit() and int(built) in (now, now - 1)


def _plus_days(column, days: int, dialect: str):
    """`column` + `days` days, as a date, on SQLite and PostgreSQL alike."""
    return func.date(column, f"+{days} days") if dialect == "sqlite" else column + days


def _event(keys: list, day, values: dict, columns: list[str], source, where=None):
    """One kind of fact as summary rows: grouped by `keys` and `day`, `values` into their columns
    (0 elsewhere)."""
    return (select(*keys, day.label("day"),
                   *[(values[c] if c in values else literal(0)).label(c) for c in columns])
            .select_from(source).where(true() if where is None else where).group_by(*keys, day))


def _summed(table, keys: list[str], events: list):
    """The events added up per key and day, with running totals per key in day order: each row
    holds the figures as of its day. One SELECT for both, so the rows are sorted once: the
    window's order is the GROUP BY's (as a subquery, SQLite sorted them again)."""
    unioned = union_all(*events).subquery("events")
    columns = [c.name for c in table.c if c.name not in keys and c.name != "day"]
    group = [unioned.c[k] for k in keys]
    return select(*group, unioned.c.day, *[
        func.sum(func.sum(unioned.c[c])).over(partition_by=group, order_by=unioned.c.day).label(c) for c in columns]
    ).group_by(*group, unioned.c.day)


def _heating_sources(counties) -> list:
    """The households as members of plan years' tasks (queries._in_task), as two sources: every
    household in its own plan year's task (the bulk, read straight from the table), and the few
    carried into year Y + 1, neither connected nor cancelled by year Y's connection deadline
    (a small set, materialised once and read by every kind of event)."""
    h, y = db.heating_household, db.heating_year
    scoped = h.c.county_adcode.in_(counties) if counties is not None else true()
    columns = [h.c.county_adcode, h.c.route, h.c.plan_year, h.c.status, h.c.status_on,
               *[h.c[f"{m.key}_on"] for m in MILESTONES],
               h.c.equipment_cost_yuan, h.c.subsidy_yuan, h.c.running_cost_yuan, h.c.coal_cost_yuan]
    own = select(*columns, h.c.plan_year.label("task_year")).where(scoped).subquery("own_year")
    deadline = y.c.connected_deadline
    settled = or_(h.c.connected_on <= deadline, and_(h.c.status == CANCELLED, h.c.status_on <= deadline))
    carried = (select(*columns, (y.c.year + 1).label("task_year"))
               .select_from(h.join(y, h.c.plan_year <= y.c.year))
               .where(scoped, ~func.coalesce(settled, False)).cte("carried"))
    return [own, carried]


def _heating_rows(counties, _dialect: str):
    events = []
    for t in _heating_sources(counties):
        events += _heating_events(t)
    return db.heating_summary, _summed(db.heating_summary, ["task_year", "county_adcode", "route"], events)


def _heating_events(t) -> list:
    """Every kind of heating fact of the task members `t` as summary rows, one GROUP BY per date
    column: the static totals, everything dated by the status (idle, cancelled, and the
    milestones a cancellation takes back), and each milestone reached."""
    keys = [t.c.task_year, t.c.county_adcode, t.c.route]
    columns = HEATING_COLUMNS
    cancelled = t.c.status == CANCELLED

    def counted(condition):
        return func.sum(case((condition, 1), else_=0))

    events = [_event(keys, literal(db.SUMMARY_STATIC_DAY), {
        "task_households": func.count(), "carried_households": counted(t.c.plan_year < t.c.task_year),
        **{c: func.sum(t.c[c]) for c in ("equipment_cost_yuan", "subsidy_yuan", "running_cost_yuan",
                                         "coal_cost_yuan")}}, columns, t),
        # A milestone reached before the cancellation counts until it: −1 on the cancellation's day.
        _event(keys, t.c.status_on, {
            "idle_households": counted(t.c.status == IDLE), "cancelled_households": counted(cancelled),
            **{f"{m.key}_households": -counted(and_(cancelled, t.c[f"{m.key}_on"] < t.c.status_on))
               for m in MILESTONES}}, columns, t,
            and_(t.c.status_on.is_not(None), t.c.status.in_((IDLE, CANCELLED))))]
    for m in MILESTONES:
        reached = t.c[f"{m.key}_on"]
        not_taken_back = or_(~cancelled, t.c.status_on.is_(None), reached < t.c.status_on)
        events.append(_event(keys, reached, {f"{m.key}_households": func.count()}, columns, t,
                             and_(reached.is_not(None), not_taken_back)))
    return events


def _subsidy_rows(counties, dialect: str):
    """Subsidy per plan year and county: the static total, then what falls due (connection +
    SUBSIDY_DUE_DAYS) and stops being due (cancellation approved first). Due amounts are grouped
    by the connection day and shifted after grouping: one date computation per group, not per
    household."""
    h = db.heating_household
    keys = [h.c.plan_year, h.c.county_adcode]
    scoped = h.c.county_adcode.in_(counties) if counties is not None else true()
    columns = ["subsidy_yuan", "due_subsidy_yuan"]
    cancelled = and_(h.c.status == CANCELLED, h.c.status_on.is_not(None))
    due_day = _plus_days(h.c.connected_on, SUBSIDY_DUE_DAYS, dialect)
    falls_due = (select(*keys, h.c.connected_on, func.sum(h.c.subsidy_yuan).label("amount"))
                 .where(scoped, h.c.connected_on.is_not(None), or_(~cancelled, due_day < h.c.status_on))
                 .group_by(*keys, h.c.connected_on).subquery("falls_due"))
    events = [
        _event(keys, literal(db.SUMMARY_STATIC_DAY), {"subsidy_yuan": func.sum(h.c.subsidy_yuan)}, columns, h, scoped),
        select(falls_due.c.plan_year, falls_due.c.county_adcode,
               _plus_days(falls_due.c.connected_on, SUBSIDY_DUE_DAYS, dialect).label("day"),
               literal(0).label("subsidy_yuan"), falls_due.c.amount.label("due_subsidy_yuan")),
        _event(keys, h.c.status_on, {"due_subsidy_yuan": -func.sum(h.c.subsidy_yuan)}, columns, h,
               and_(scoped, h.c.connected_on.is_not(None), cancelled, due_day < h.c.status_on))]
    return db.subsidy_summary, _summed(db.subsidy_summary, ["plan_year", "county_adcode"], events)


def _renovation_rows(counties, _dialect: str):
    p, b = db.renovation_project, db.investment_booking
    keys = [p.c.batch_year, p.c.county_adcode]
    scoped = p.c.county_adcode.in_(counties) if counties is not None else true()
    columns = RENOVATION_COLUMNS
    events = [_event(keys, literal(db.SUMMARY_STATIC_DAY), {
        "communities": func.count(), "households": func.sum(p.c.households),
        "floor_area_m2": func.sum(p.c.floor_area_m2), "planned_investment_yuan": func.sum(p.c.planned_investment_yuan),
        "demonstration_communities": func.sum(case((p.c.is_demonstration, 1), else_=0)),
        "elevators_added": func.sum(p.c.elevators_added)}, columns, p, scoped)]
    for stage in STAGES:
        actual = p.c[f"{stage.key}_actual"]
        events.append(_event(keys, actual, {f"{stage.key}_communities": func.count(),
                                            f"{stage.key}_households": func.sum(p.c.households)},
                             columns, p, and_(scoped, actual.is_not(None))))
    events.append(_event(keys, b.c.booked_on, {"completed_investment_yuan": func.sum(b.c.amount_yuan)}, columns,
                         b.join(p, b.c.project_id == p.c.id), scoped))
    return db.renovation_summary, _summed(db.renovation_summary, ["batch_year", "county_adcode"], events)


# ---- reads ---------------------------------------------------------------------------------

def _frame(engine, statement) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _sum(value):
    """SUM as a whole number on both engines (PostgreSQL sums bigint to numeric: Decimal)."""
    return cast(func.coalesce(func.sum(value), 0), BigInteger)


def _latest(table, keys: list[str], cutoffs: list[date], dialect: str = "sqlite"):
    """Each group's static row `g` (one per key), and for each cutoff the group's row of the
    latest day on or before it, which holds the figures as of that cutoff: (g, rows, FROM clause).
    One index seek per group and cutoff, however long the history: SQLite seeks the day through
    a correlated MAX; PostgreSQL would run that subquery for every row of the group, so it reads
    the row through a LATERAL ... ORDER BY day DESC LIMIT 1 instead."""
    g = table.alias("g")
    source, rows = g, []
    for n, cutoff in enumerate(cutoffs):
        same_group = [table.c[k] == g.c[k] for k in keys]
        if dialect == "postgresql":
            row = (select(table).where(*same_group, table.c.day <= cutoff).order_by(table.c.day.desc()).limit(1)
                   .lateral(f"asof{n}"))
            source = source.join(row, true())
        else:
            probe, row = table.alias(f"probe{n}"), table.alias(f"asof{n}")
            last_day = (select(func.max(probe.c.day))
                        .where(*[probe.c[k] == g.c[k] for k in keys], probe.c.day <= cutoff).scalar_subquery())
            source = source.join(row, and_(*[row.c[k] == g.c[k] for k in keys], row.c.day == last_day))
        rows.append(row)
    return g, rows, source


def _in(column, values):
    return column.in_(values) if values else true()


def load_heating_counts(engine, year: int, as_of: date, counted_until: date, counties: tuple[str, ...] = ()
                        ) -> pd.DataFrame:
    """Per county of year `year`'s task (only counties with households): every heating summary
    column as of `as_of`, those of UNTIL_CLOSE up to `counted_until`."""
    g, sums, source, where = _heating_latest(year, as_of, counted_until, counties, (), engine.dialect.name)
    return _frame(engine, select(g.c.county_adcode.label("adcode"), *sums).select_from(source).where(where)
                  .group_by(g.c.county_adcode))


def load_heating_counts_by_route(engine, year: int, as_of: date, counted_until: date,
                                 counties: tuple[str, ...] = (), routes: tuple[str, ...] = ()) -> pd.DataFrame:
    """load_heating_counts per county and route (county name and route first), in the bureau's
    county order, then by route."""
    c = db.county
    g, sums, source, where = _heating_latest(year, as_of, counted_until, counties, routes, engine.dialect.name)
    statement = (select(c.c.name.label("county"), g.c.county_adcode.label("adcode"), g.c.route, *sums)
                 .select_from(source.join(c, c.c.adcode == g.c.county_adcode)).where(where)
                 .group_by(c.c.name, g.c.county_adcode, c.c.seq, g.c.route).order_by(c.c.seq, g.c.route))
    return _frame(engine, statement)


def _heating_latest(year: int, as_of: date, counted_until: date, counties, routes, dialect: str):
    g, (at_close, at_date), source = _latest(db.heating_summary, ["task_year", "county_adcode", "route"],
                                             [counted_until, as_of], dialect)
    sums = [_sum((at_close if c in UNTIL_CLOSE else at_date).c[c]).label(c) for c in HEATING_COLUMNS]
    where = and_(g.c.day == db.SUMMARY_STATIC_DAY, g.c.task_year == year, _in(g.c.county_adcode, counties),
                 _in(g.c.route, routes))
    return g, sums, source, where


def load_subsidy_counts(engine, as_of: date, counties: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per county and plan year: subsidy_yuan and due_subsidy_yuan (SUBSIDY_DUE_DAYS) as of `as_of`."""
    g, (row,), source = _latest(db.subsidy_summary, ["plan_year", "county_adcode"], [as_of], engine.dialect.name)
    return _frame(engine, select(g.c.county_adcode.label("adcode"), g.c.plan_year,
                                 _sum(row.c.subsidy_yuan).label("subsidy_yuan"),
                                 _sum(row.c.due_subsidy_yuan).label("due_subsidy_yuan"))
                  .select_from(source)
                  .where(g.c.day == db.SUMMARY_STATIC_DAY, _in(g.c.county_adcode, counties))
                  .group_by(g.c.county_adcode, g.c.plan_year))


def load_renovation_counts(engine, year: int, as_of: date, counties: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per county of batch `year`: every renovation summary column as of `as_of`."""
    g, (row,), source = _latest(db.renovation_summary, ["batch_year", "county_adcode"], [as_of],
                                engine.dialect.name)
    return _frame(engine, select(g.c.county_adcode.label("adcode"), *[_sum(row.c[c]).label(c) for c in RENOVATION_COLUMNS])
                  .select_from(source)
                  .where(g.c.day == db.SUMMARY_STATIC_DAY, g.c.batch_year == year, _in(g.c.county_adcode, counties))
                  .group_by(g.c.county_adcode))
