"""The store: engine, schema and the small metadata table (data date, demo mark, revision).

History is kept as dated facts (an actual date per stage or milestone, dated investment
bookings, allocations and disbursements), so the state on any past report date can be
reconstructed by filtering on `<= as_of`. Natural keys (`code`) let county spreadsheets
update rows in place. Only portable SQLAlchemy constructs: PostgreSQL runs the same schema.
"""
import os
import re
import uuid
from datetime import date

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey,
                        Index, Integer, LargeBinary, MetaData, String, Table, Text, create_engine, event,
                        inspect, select, text)
from sqlalchemy.engine import Connection, Engine

from .settings import (PG_CONNECT_TIMEOUT_S, PG_LOCK_TIMEOUT_S, PG_STATEMENT_TIMEOUT_S,
                       SQLITE_BUSY_TIMEOUT_S)
from .vocab import (COUNTY_KINDS, FUND_SOURCES, HOUSEHOLD_STATUSES, MILESTONES, NODE_STEPS,
                    PROCUREMENT_STEPS, PROGRAMS, PROPERTY_TYPES, RENOVATION_TYPES, REPORT_KINDS, ROLES, ROUTES, STAGES,
                    URBAN_WORK_KINDS)

# The version of the schema below, recorded in store_meta when a store is built. Raise it with every
# change to the tables; code refuses a store of a version it does not know instead of "fixing" it
# (retrofit/store.py). Stores built before versioning carry none and count as version 0.
# 2: cities (province stores), payment voucher numbers (fund_disbursement.code), summary tables,
# accounts and the audit trail
SCHEMA_VERSION = 2
# The store_meta key that marks a store as built by this application (its schema version).
SCHEMA_VERSION_KEY = "schema_version"

# Constraint names are prefixed with their table, so a violation message says where it happened.
metadata = MetaData(naming_convention={"ck": "ck_%(table_name)s_%(constraint_name)s"})


def _one_of(column: str, values) -> CheckConstraint:
    listed = ", ".join("'" + v + "'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_allowed")


def _non_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"{c}_nonneg") for c in columns]


def _in_order(columns: list[str]) -> list[CheckConstraint]:
    """A later step may only carry a date if the step before it has one, on or before it."""
    return [CheckConstraint(f"{later} IS NULL OR ({earlier} IS NOT NULL AND {earlier} <= {later})",
                            name=f"{later}_after_{earlier}")
            for earlier, later in zip(columns, columns[1:])]


store_meta = Table(
    "store_meta", metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

# The cities (地级市) of a province store; a city store holds its own one. store_meta says which
# kind of store it is (`scale`: city / province) and names the province.
city = Table(
    "city", metadata,
    Column("adcode", String(6), primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("seq", Integer, nullable=False),  # the department's customary listing order
)

county = Table(
    "county", metadata,
    Column("adcode", String(6), primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("kind", String(6), nullable=False),
    Column("seq", Integer, nullable=False),  # the bureau's customary listing order
    # Empty in a city store set up from a boundary file alone: the store is then its one city.
    Column("city_adcode", String(6), ForeignKey("city.adcode")),
    _one_of("kind", COUNTY_KINDS),
)

report = Table(
    "report", metadata,
    Column("report_on", Date, primary_key=True),
    Column("kind", String(6), nullable=False),
    _one_of("kind", REPORT_KINDS),
)

# ---- plan nodes (节点目标) ------------------------------------------------------------------

# The annual implementation plan's node requirements per step, e.g. "3月底前开工30%、6月底前全部开工":
# by the end of `due_on`, `required_share` of the step's task must be done. A county row overrides
# the city-wide nodes (county_adcode NULL) for that county and step. A node with share 0 marks the
# day before which the step is not judged at all (no one finishes a community in February).
plan_node = Table(
    "plan_node", metadata,
    Column("id", Integer, primary_key=True),
    Column("program", String(12), nullable=False),
    Column("plan_year", Integer, nullable=False),
    Column("step", String(12), nullable=False),
    Column("county_adcode", String(6), ForeignKey("county.adcode")),
    Column("due_on", Date, nullable=False),
    Column("required_share", Float, nullable=False),
    _one_of("program", PROGRAMS),
    _one_of("step", NODE_STEPS),
    CheckConstraint("required_share >= 0 AND required_share <= 1", name="required_share_range"),
    Index("ix_plan_node_program_year", "program", "plan_year"),
)

# ---- old residential community renovation -------------------------------------------------

renovation_batch = Table(
    "renovation_batch", metadata,
    Column("year", Integer, primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("start_deadline", Date, nullable=False),    # every community under way (开工) by
    Column("finish_deadline", Date, nullable=False),   # construction finished (完工) by
    Column("accept_deadline", Date, nullable=False),   # accepted (竣工验收) by, usually next year
)

_stage_dates = [f"{s.key}_actual" for s in STAGES]
renovation_project = Table(
    "renovation_project", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("county_adcode", String(6), ForeignKey("county.adcode"), nullable=False),
    Column("batch_year", Integer, ForeignKey("renovation_batch.year"), nullable=False),
    Column("street", String(40), nullable=False),
    Column("name", String(60), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("year_built", Integer, nullable=False),
    Column("buildings", Integer, nullable=False),
    Column("households", Integer, nullable=False),
    Column("floor_area_m2", Integer, nullable=False),
    Column("property_type", String(10), nullable=False),
    Column("renovation_type", String(10), nullable=False),
    # Content items per class, joined with "、" as county ledgers write them.
    Column("content_basic", Text, nullable=False, default=""),
    Column("content_improve", Text, nullable=False, default=""),
    Column("content_upgrade", Text, nullable=False, default=""),
    Column("is_demonstration", Boolean, nullable=False, default=False),
    Column("consultation_done", Boolean, nullable=False, default=False),
    Column("pipelines_coordinated", Boolean, nullable=False, default=False),
    Column("elevators_added", Integer, nullable=False, default=0),
    Column("planned_investment_yuan", BigInteger, nullable=False),
    *[Column(f"{s.key}_{kind}", Date) for s in STAGES for kind in ("planned", "actual")],
    *_non_negative("buildings", "households", "floor_area_m2", "elevators_added",
                   "planned_investment_yuan"),
    _one_of("renovation_type", RENOVATION_TYPES),
    _one_of("property_type", PROPERTY_TYPES),
    *_in_order(_stage_dates),
    Index("ix_project_batch_county", "batch_year", "county_adcode"),
)

investment_booking = Table(
    "investment_booking", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("renovation_project.id"), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("amount_yuan", BigInteger, nullable=False),  # investment completed in the period
    *_non_negative("amount_yuan"),
    Index("ix_booking_project_date", "project_id", "booked_on"),
)

# ---- funds (both programs) -----------------------------------------------------------------

fund_allocation = Table(
    "fund_allocation", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("program", String(12), nullable=False),
    Column("county_adcode", String(6), ForeignKey("county.adcode"), nullable=False),
    Column("plan_year", Integer, nullable=False),
    Column("source", String(12), nullable=False),
    Column("amount_yuan", BigInteger, nullable=False),
    Column("allocated_on", Date, nullable=False),   # 下达 to the county
    *_non_negative("amount_yuan"),
    _one_of("program", PROGRAMS),
    _one_of("source", FUND_SOURCES),
    Index("ix_allocation_program_year_county", "program", "plan_year", "county_adcode"),
)

fund_disbursement = Table(
    "fund_disbursement", metadata,
    Column("id", Integer, primary_key=True),
    # The payment voucher's number (支付凭证号): the natural key a county's 拨付 sheet updates by.
    Column("code", String(40), nullable=False, unique=True),
    Column("allocation_id", Integer, ForeignKey("fund_allocation.id"), nullable=False),
    # The project paid; empty for heating subsidies paid to households in bulk.
    Column("project_id", Integer, ForeignKey("renovation_project.id")),
    Column("amount_yuan", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),        # 拨付 to the project
    *_non_negative("amount_yuan"),
    Index("ix_disbursement_allocation_date", "allocation_id", "paid_on"),
)

# ---- winter clean heating ------------------------------------------------------------------

heating_year = Table(
    "heating_year", metadata,
    Column("year", Integer, primary_key=True),
    Column("period_start", Date, nullable=False),
    *[Column(f"{m.key}_deadline", Date, nullable=False) for m in MILESTONES],
)

heating_plan = Table(
    "heating_plan", metadata,
    Column("county_adcode", String(6), ForeignKey("county.adcode"), primary_key=True),
    Column("year", Integer, ForeignKey("heating_year.year"), primary_key=True),
    # Rural households to convert this year, including those carried over from last year.
    Column("target_households", Integer, nullable=False),
    Column("carryover_households", Integer, nullable=False, default=0),
    Column("target_urban_m2", Integer, nullable=False, default=0),
    *[Column(f"{p.key}_on", Date) for p in PROCUREMENT_STEPS],
    *_non_negative("target_households", "carryover_households", "target_urban_m2"),
    CheckConstraint("carryover_households <= target_households", name="carryover_within_target"),
    *_in_order([f"{p.key}_on" for p in PROCUREMENT_STEPS]),
)

township = Table(
    "township", metadata,
    Column("code", String(12), primary_key=True),
    Column("county_adcode", String(6), ForeignKey("county.adcode"), nullable=False),
    Column("name", String(20), nullable=False),
)

village = Table(
    "village", metadata,
    Column("code", String(15), primary_key=True),
    Column("township_code", String(12), ForeignKey("township.code"), nullable=False),
    Column("name", String(20), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
)

_milestone_dates = [f"{m.key}_on" for m in MILESTONES]
heating_household = Table(
    "heating_household", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(24), nullable=False, unique=True),
    # The county is also reachable through the village; kept here so counting a county's
    # households needs no join. An invariant test checks the two agree.
    Column("county_adcode", String(6), ForeignKey("county.adcode"), nullable=False),
    Column("village_code", String(15), ForeignKey("village.code"), nullable=False),
    Column("plan_year", Integer, nullable=False),
    # Personal data: only the head's name (masked on screen) and an already-masked phone.
    # ID numbers are never stored.
    Column("head_name", String(20), nullable=False),
    Column("phone_masked", String(11), nullable=False, default=""),
    Column("route", String(12), nullable=False),
    Column("equipment_cost_yuan", Integer, nullable=False),
    Column("subsidy_yuan", Integer, nullable=False),
    Column("running_cost_yuan", Integer, nullable=False),  # expected, per heating season
    Column("coal_cost_yuan", Integer, nullable=False),     # the coal it replaces, per season
    Column("status", String(6), nullable=False, default="正常使用"),
    Column("status_on", Date),  # since when idle or cancelled
    *[Column(c, Date) for c in _milestone_dates],
    *_non_negative("equipment_cost_yuan", "subsidy_yuan", "running_cost_yuan", "coal_cost_yuan"),
    CheckConstraint("subsidy_yuan <= equipment_cost_yuan", name="subsidy_within_cost"),
    # A full phone number never enters the store: empty, or 11 characters with the middle four
    # masked (138****5678; see mask_phone). length/substr behave alike on SQLite and PostgreSQL.
    CheckConstraint("phone_masked = '' OR (length(phone_masked) = 11 AND substr(phone_masked, 4, 4) = '****')",
                    name="phone_masked"),
    _one_of("route", ROUTES),
    _one_of("status", HOUSEHOLD_STATUSES),
    *_in_order(_milestone_dates),
    Index("ix_household_year_county", "plan_year", "county_adcode"),
    # By village and plan year: a village's households, and whether it has any of a year's plan
    # (one index seek per village for the village list, queries.load_village_codes).
    Index("ix_household_village", "village_code", "plan_year"),
    # A county's households without a full scan: the summary's per-county refresh after an import.
    Index("ix_household_county", "county_adcode"),
)

urban_heating_work = Table(
    "urban_heating_work", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("county_adcode", String(6), ForeignKey("county.adcode"), nullable=False),
    Column("plan_year", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("name", String(60), nullable=False),
    Column("area_m2", Integer, nullable=False),
    Column("completed_on", Date),
    *_non_negative("area_m2"),
    _one_of("kind", URBAN_WORK_KINDS),
)

# ---- supervision (督办) --------------------------------------------------------------------

supervision_item = Table(
    "supervision_item", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(24), nullable=False, unique=True),
    Column("county_adcode", String(6), ForeignKey("county.adcode"), nullable=False),
    Column("program", String(12), nullable=False),
    Column("text", Text, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("closed_on", Date),   # 销号
    _one_of("program", PROGRAMS),
    CheckConstraint("deadline >= opened_on", name="deadline_after_open"),
    CheckConstraint("closed_on IS NULL OR closed_on >= opened_on",
                    name="closed_after_open"),
)


# ---- published reports (发布的通报) ---------------------------------------------------------------

# A published 通报 is a document of record: its figures, notice and files are frozen here and never
# edited; withdrawing it (撤回) sets status, time, person and reason, and it stays listed. At most one
# report per date is in force (a partial unique index, on both SQLite and PostgreSQL).
PUBLISHED, WITHDRAWN = "已发布", "已撤回"
published_report = Table(
    "published_report", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_on", Date, nullable=False),          # the as-of date the report covers
    Column("plan_year", Integer, nullable=False),
    Column("previous_on", Date),                        # what 较上期 compared with
    Column("published_at", DateTime, nullable=False),
    Column("published_by", String(40), nullable=False),
    Column("revision", String(80), nullable=False),     # the store's data revision it was built from
    Column("import_ids", Text, nullable=False, default="[]"),  # JSON list of the imports in force
    Column("notice_text", Text, nullable=False),
    Column("status", String(6), nullable=False, default=PUBLISHED),
    Column("withdrawn_at", DateTime),
    Column("withdrawn_by", String(40)),
    Column("withdraw_reason", Text),
    _one_of("status", (PUBLISHED, WITHDRAWN)),
    CheckConstraint("status = '已发布' OR (withdrawn_at IS NOT NULL AND withdraw_reason IS NOT NULL)",
                    name="withdrawn_with_reason"),
    Index("uq_published_report_in_force", "report_on", unique=True,
          sqlite_where=text("status = '已发布'"), postgresql_where=text("status = '已发布'")),
)

published_figure = Table(
    "published_figure", metadata,
    Column("report_id", Integer, ForeignKey("published_report.id"), primary_key=True),
    Column("program", String(12), primary_key=True),
    Column("measure", String(30), primary_key=True),
    Column("adcode", String(6), primary_key=True),      # '' for the city-wide row
    Column("county", String(20), nullable=False),
    Column("numerator", BigInteger, nullable=False),
    Column("denominator", BigInteger, nullable=False),
    Column("target", Float),
    Column("line", String(10), nullable=False, default=""),
    Column("basis", Text, nullable=False, default=""),
    Column("gap_pp", Float),
    Column("flag", String(6), nullable=False),
    Column("rank", Integer),
    Column("previous_rank", Integer),
)

published_file = Table(
    "published_file", metadata,
    Column("report_id", Integer, ForeignKey("published_report.id"), primary_key=True),
    Column("name", String(120), primary_key=True),
    Column("mime", String(120), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)


# SQLite's auxiliary sorting threads (it uses them only for sorts too big for its page cache).
SQLITE_SORT_THREADS = min(os.cpu_count() or 1, 4)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys switched on (off by default there),
    transactional DDL and a busy timeout; PostgreSQL gets connect, statement and lock timeouts
    (settings.py). WAL mode is switched on by retrofit.store once the store is known to be ours:
    doing it here would rewrite the header of any file the URL happens to name."""
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    elif url.startswith("postgresql"):
        # jit=off: the pages' aggregates cost enough to trigger JIT compilation, which adds
        # 0.2-0.3 s to each query of a page view and saves nothing on queries this short.
        connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S,
                        "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_S * 1000} "
                                   f"-c lock_timeout={PG_LOCK_TIMEOUT_S * 1000} -c jit=off"}
    else:
        connect_args = {}
    engine = create_engine(url, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        # pysqlite would run DDL outside the transaction (so a failed rebuild could leave the
        # tables dropped); emitting BEGIN ourselves makes DDL and inserts one atomic unit.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def _configure_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN above govern transactions
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
    # Worker threads for large sorts: the summary's GROUP BYs over millions of households
    # spill sorted runs, and with a second core those are sorted in parallel (-35 % each).
    dbapi_connection.execute(f"PRAGMA threads={SQLITE_SORT_THREADS}")


def is_ready(engine: Engine) -> bool:
    """True when the schema exists and holds at least one county."""
    if not inspect(engine).has_table("county"):
        return False
    with engine.connect() as conn:
        return conn.execute(select(county.c.adcode).limit(1)).first() is not None


def sync_id_sequence(conn: Connection, table: Table) -> None:
    """On PostgreSQL, move `table`'s serial id sequence past its highest id: rows written with
    explicit ids (the demo generator's) leave it behind, and the next new row would clash."""
    if conn.dialect.name == "postgresql" and "id" in table.c:
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                             f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)")


# Tables whose indexes a store built by earlier code may hold under the same name on other columns.
INDEXED_TABLES = (heating_household,)


def _found_indexes(conn: Connection, table: Table) -> dict[str, tuple[tuple[str, ...], bool]]:
    return {i["name"]: (tuple(i["column_names"]), bool(i.get("unique"))) for i in inspect(conn).get_indexes(table.name)}


def load_stale_indexes(conn: Connection) -> list[Index]:
    """The model's indexes on INDEXED_TABLES that the store lacks or holds on other columns (a
    store built before ix_household_village covered plan_year keeps the one-column index of
    that name: same answers, but the village list reads every household of each village)."""
    stale = []
    for table in INDEXED_TABLES:
        found = _found_indexes(conn, table)
        stale += [index for index in table.indexes
                  if found.get(index.name) != (tuple(c.name for c in index.columns), bool(index.unique))]
    return stale


def ensure_indexes(conn: Connection) -> list[str]:
    """Make the store's indexes on INDEXED_TABLES the model's, in the caller's transaction: a
    missing one is created, one on other columns dropped and built again. Returns their names."""
    stale = load_stale_indexes(conn)
    for index in stale:
        if index.name in _found_indexes(conn, index.table):
            index.drop(conn)
        index.create(conn)
    return [index.name for index in stale]


def read_meta(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(select(store_meta.c.key, store_meta.c.value)).all())


def write_meta(conn: Connection, **values) -> None:
    """Upsert metadata keys in the caller's transaction (delete + insert is portable)."""
    conn.execute(store_meta.delete().where(store_meta.c.key.in_(list(values))))
    conn.execute(store_meta.insert(), [{"key": k, "value": str(v)} for k, v in values.items()])


def bump_revision(conn: Connection, facts_unchanged: bool = False) -> int:
    """Mark the data as changed, so cached results keyed on the revision are recomputed. A change
    that leaves every fact the summary counts as it was (`facts_unchanged`: publishing, boundaries)
    keeps a current summary current; any other change must refresh it (summary.refresh_summary)."""
    meta = read_meta(conn)
    revision = int(meta.get("revision", "0")) + 1
    write_meta(conn, revision=revision)
    if facts_unchanged and meta.get(SUMMARY_REVISION_KEY) == meta.get("revision", "0"):
        write_meta(conn, **{SUMMARY_REVISION_KEY: revision})
    return revision


def new_store_id() -> str:
    """A random id written whenever a store is (re)built: with the revision it makes every
    state of the data unique, even when a rebuild starts its counter afresh elsewhere."""
    return uuid.uuid4().hex


def load_revision(engine: Engine) -> str:
    """'store id:revision', different after any import or rebuild (the cache key of the app)."""
    with engine.connect() as conn:
        meta = dict(conn.execute(select(store_meta.c.key, store_meta.c.value).where(
            store_meta.c.key.in_(("store_id", "revision")))).all())
    return f"{meta.get('store_id', '')}:{meta.get('revision', '0')}"


MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}")


def mask_phone(phone: str | None) -> str:
    """A phone number as the store keeps it: the middle four digits masked (13812345678 ->
    138****5678), an already masked one as it is, none as ''. Import code calls this before
    writing; the phone_masked CHECK refuses anything else. ValueError (Chinese) otherwise."""
    text = re.sub(r"[\s-]", "", phone or "")
    if not text or MASKED_PHONE.fullmatch(text):
        return text
    if re.fullmatch(r"1\d{10}", text):
        return f"{text[:3]}****{text[7:]}"
    raise ValueError(f"电话“{phone}”不是 11 位手机号码,无法脱敏存储")


def load_data_date(engine: Engine) -> date:
    """The store's latest data date (数据截至日期), the app's default as-of date."""
    with engine.connect() as conn:
        value = conn.execute(select(store_meta.c.value).where(store_meta.c.key == "data_date")
                             ).scalar_one()
    return date.fromisoformat(value)


def load_is_demo(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(store_meta.c.value).where(store_meta.c.key == "is_demo")
                            ).scalar_one_or_none() == "1"


# ---- intake (issue 10): import log, the values each import replaced, city boundaries --------
# Appended at the end so concurrent schema work elsewhere in this module merges cleanly.

import_log = Table(
    "import_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("imported_at", String(19), nullable=False),   # UTC, ISO 8601 to the second
    Column("who", String(40), nullable=False),           # free text until accounts exist
    Column("county_adcode", String(6)),                  # empty for a city-wide file
    Column("program", String(12), nullable=False),
    Column("sheets", String(80), nullable=False),        # the sheets imported, "、"-joined
    Column("file_name", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data_date", Date, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("status", String(6), nullable=False),         # 已导入 / 无变化 / 已撤销
    Column("undone_at", String(19)),
    Column("undone_by", String(40)),
)

import_change = Table(
    "import_change", metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("import_log.id"), nullable=False),
    Column("table_name", String(40), nullable=False),
    Column("row_key", String(60), nullable=False),       # the natural key (code) of the row
    Column("action", String(6), nullable=False),         # insert / update
    Column("before_json", Text),                         # the replaced values, for undo
    Index("ix_change_import", "import_id"),
    Index("ix_change_row", "table_name", "row_key"),
)

county_boundary = Table(
    "county_boundary", metadata,
    Column("adcode", String(6), ForeignKey("county.adcode"), primary_key=True),
    Column("geojson", Text, nullable=False),             # WGS84 geometry, simplified as a coverage
)


# ---- summary (issue 13): per county and day, what the facts add up to -----------------------
# Derived from the fact tables above in the same transaction as every data change
# (retrofit/summary.py), so pages read one row per county instead of every household. Each row
# holds the running totals as of `day`; a figure as of D is the row of the latest day on or before
# D. Every group starts with a row on SUMMARY_STATIC_DAY carrying what does not move with the date
# (a task's households, a batch's plan), so that row always exists. A
# store built before these tables existed simply lacks them: reads then count the facts directly
# (summary.is_fresh) until the next import or rebuild creates and fills them. Stored in key order
# (SQLite WITHOUT ROWID), day last: "the latest day on or before D" is one seek per group.

SUMMARY_STATIC_DAY = date(1900, 1, 1)
SUMMARY_REVISION_KEY = "summary_revision"   # store_meta: the revision the summary was built for

heating_summary = Table(
    "heating_summary", metadata,
    Column("task_year", Integer, primary_key=True),  # the year whose task the households are in
    Column("county_adcode", String(6), primary_key=True),
    Column("route", String(12), primary_key=True),
    Column("day", Date, primary_key=True),
    *[Column(name, BigInteger, nullable=False, default=0) for name in (
        "task_households", "carried_households", "idle_households", "cancelled_households",
        *[f"{m.key}_households" for m in MILESTONES],
        "equipment_cost_yuan", "subsidy_yuan", "running_cost_yuan", "coal_cost_yuan")],
    Index("ix_heating_summary_day", "day", "task_year"),
    sqlite_with_rowid=False,
)

subsidy_summary = Table(
    "subsidy_summary", metadata,
    Column("plan_year", Integer, primary_key=True),  # the household's own plan year
    Column("county_adcode", String(6), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("subsidy_yuan", BigInteger, nullable=False, default=0),
    Column("due_subsidy_yuan", BigInteger, nullable=False, default=0),
    Index("ix_subsidy_summary_day", "day", "plan_year"),
    sqlite_with_rowid=False,
)

renovation_summary = Table(
    "renovation_summary", metadata,
    Column("batch_year", Integer, primary_key=True),
    Column("county_adcode", String(6), primary_key=True),
    Column("day", Date, primary_key=True),
    *[Column(name, BigInteger, nullable=False, default=0) for name in (
        "communities", "households", "floor_area_m2", "planned_investment_yuan", "demonstration_communities",
        "elevators_added", *[f"{s.key}_{what}" for s in STAGES for what in ("communities", "households")],
        "completed_investment_yuan")],
    Index("ix_renovation_summary_day", "day", "batch_year"),
    sqlite_with_rowid=False,
)

# Derived tables: never data of record (left out of the store checksum), and a store without them
# is complete (they are created and filled at the next data change).
DERIVED_TABLES = (heating_summary, subsidy_summary, renovation_summary)

# ---- accounts and audit trail (issue 12) -----------------------------------------------------

account = Table(
    "account", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(40), nullable=False, unique=True),
    Column("display_name", String(40), nullable=False),
    Column("role", String(10), nullable=False),
    Column("county_adcode", String(6), ForeignKey("county.adcode")),  # a clerk's county, else NULL
    Column("password_hash", String(200), nullable=False),              # argon2id, never the password
    Column("must_change", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    _one_of("role", ROLES),
    CheckConstraint("(role = 'clerk') = (county_adcode IS NOT NULL)", name="clerk_has_county"),
)

account_session = Table(
    "account_session", metadata,
    Column("token_sha256", String(64), primary_key=True),  # the cookie's token itself is never stored
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

# The wall's read-only link (/screen?display=…): sees only the big screen; revoked, it stops at once.
display_token = Table(
    "display_token", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", String(40), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("revoked_at", DateTime),
)

# Append-only: retrofit.audit only ever inserts (a test greps the package for UPDATE/DELETE on it).
audit_event = Table(
    "audit_event", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),            # UTC
    Column("who", String(60), nullable=False),         # login, 命令行:<os user>, or 大屏链接:<label>
    Column("source", String(60), nullable=False),      # client address, or 命令行
    Column("action", String(20), nullable=False),
    Column("what", Text, nullable=False),
    Index("ix_audit_at", "at"),
)
