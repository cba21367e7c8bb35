"""What a store at a URL holds, and whether this code may read it or build the demo into it.

Nothing here writes data: the rules say which store may be built into (one that does not exist
or holds no table at all, or one of ours under `--force`), which may be read (ours, of this
schema version, with its reference rows), and turn every store fault — missing, locked, corrupt,
foreign, unreachable, of another version — into one Chinese message that names the store and
says what to do. A table is ours only when store_meta marks the store as built by this code: a
foreign table that merely shares a name (say `report`) is never dropped.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from . import db, summary
from .settings import DB_URL_ENV

# What a store is, as far as the rules care.
EMPTY = "empty"            # no table at all (or a SQLite file not there yet): the demo may go in
READY = "ready"            # ours, this schema version, reference rows present
OLD_DEMO = "old_demo"      # a demo store of an older schema: generated data, rebuilt on the spot
FOREIGN = "foreign"        # tables not made by this code
UNVERSIONED = "unversioned"  # our tables without a schema version (built before versioning)
NEWER = "newer"            # a schema version this code does not know
OLDER = "older"            # a real (non-demo) store of an older schema: needs a migration
INCOMPLETE = "incomplete"  # ours, but tables or the county rows are missing

REBUILT_NOTE = "演示数据库是旧版本的表结构,已按当前版本重新生成(演示数据,无真实数据丢失)"
BUILT_NOTE = "数据库为空,已生成演示数据"


class StoreFault(Exception):
    """A store this code cannot use as it is. str() is the Chinese message shown to the user."""

    def __init__(self, kind: str, store: str, reason: str, advice: str):
        self.kind, self.store, self.reason, self.advice = kind, store, reason, advice
        super().__init__(f"数据库 {store} {reason}。{advice}")


@dataclass(frozen=True)
class StoreState:
    """What `inspect_store` found. `owned` tables are the schema's tables in a store that
    store_meta marks as ours; only those may ever be dropped."""
    kind: str
    tables: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()      # tables (and views) not in our schema
    owned: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()      # schema tables absent from a store of ours
    is_demo: bool = False
    version: int | None = None
    revision: int = 0


def describe_store(url: str) -> str:
    """The store as named to a user: the URL without its password, quoted."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ValueError, SQLAlchemyError):
        shown = url
    return f"“{shown}”"


def _read_marks(conn, table_names: set[str]) -> dict[str, str] | None:
    """store_meta's keys when it is ours (has the columns we write), else None."""
    if "store_meta" not in table_names:
        return None
    columns = {c["name"] for c in inspect(conn).get_columns("store_meta")}
    if not {"key", "value"} <= columns:
        return None
    return db.read_meta(conn)


def inspect_store(engine: Engine) -> StoreState:
    """What the store holds: its tables, whether store_meta marks it as ours, the schema version,
    the demo mark, and whether the reference rows are there. Reads only."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        names = set(inspector.get_table_names()) | set(inspector.get_view_names())
        if not names:
            return StoreState(EMPTY)
        schema = {t.name for t in db.metadata.sorted_tables}
        tables = tuple(sorted(names))
        foreign = tuple(sorted(names - schema))
        marks = _read_marks(conn, names)
        # Ours: our schema version is recorded, or (before versioning) the keys we always wrote.
        if marks is None or not (db.SCHEMA_VERSION_KEY in marks or {"data_date", "revision"} <= set(marks)):
            return StoreState(FOREIGN, tables, foreign)
        owned = tuple(sorted(names & schema))
        missing = tuple(t.name for t in db.metadata.sorted_tables
                        if t.name not in names and t not in db.DERIVED_TABLES)
        is_demo = marks.get("is_demo") == "1"
        raw_revision = marks.get("revision", "0")
        revision = int(raw_revision) if raw_revision.isdigit() else 0
        raw_version = marks.get(db.SCHEMA_VERSION_KEY)
        common = dict(tables=tables, foreign=foreign, owned=owned, missing=missing, is_demo=is_demo,
                      revision=revision)
        if raw_version is None:
            return StoreState(OLD_DEMO if is_demo else UNVERSIONED, version=0, **common)
        version = int(raw_version) if raw_version.isdigit() else -1
        if version > db.SCHEMA_VERSION or version < 0:
            return StoreState(NEWER, version=version, **common)
        if version < db.SCHEMA_VERSION or (missing and is_demo):
            # A demo store whose tables differ from the schema is generated data from other code.
            return StoreState(OLD_DEMO if is_demo else OLDER, version=version, **common)
        if missing or conn.execute(select(db.county.c.adcode).limit(1)).first() is None:
            return StoreState(INCOMPLETE, version=version, **common)
        return StoreState(READY, version=version, **common)


def explain(state: StoreState, url: str) -> StoreFault:
    """The Chinese message for a store that cannot be read as it is."""
    store = describe_store(url)
    demo_hint = "或运行 python -m retrofit demo 重新生成演示数据"
    other_store = f"请在环境变量 {DB_URL_ENV} 中指定本系统的数据库(或一个空库)"
    if state.kind == FOREIGN:
        shown = "、".join(state.tables[:8]) + ("等" if len(state.tables) > 8 else "")
        return StoreFault(FOREIGN, store, f"中的表({shown})不是本系统建立的,程序不会读取或改动它们", other_store)
    if state.kind == UNVERSIONED:
        return StoreFault(UNVERSIONED, store, "没有记录表结构版本(旧版程序建立),无法确认能否正确读取",
                          "请用建立它的程序版本导出数据后重新导入;确认不再需要其中数据时,可用 "
                          "python -m retrofit demo --force 替换为演示数据")
    if state.kind == NEWER:
        return StoreFault(NEWER, store, f"的表结构版本为 {state.version},本程序只认识 {db.SCHEMA_VERSION} 及以前的版本",
                          "请升级本程序后再打开,切勿用旧程序改写它")
    if state.kind == OLDER:
        return StoreFault(OLDER, store, f"的表结构版本为 {state.version},本程序需要版本 {db.SCHEMA_VERSION}",
                          "请先由管理员备份后运行 python -m retrofit migrate 升级表结构;程序不会自行改动真实数据")
    if state.kind == INCOMPLETE:
        what = f"缺少表 {'、'.join(state.missing)}" if state.missing else "中没有县区数据(county 表为空,数据可能被删除)"
        advice = ("请从备份恢复" + (f",{demo_hint}" if state.is_demo else ";程序不会用演示数据覆盖它"))
        return StoreFault(INCOMPLETE, store, what, advice)
    return StoreFault(state.kind, store, "无法读取", other_store)


def check_readable(state: StoreState, url: str) -> None:
    """Nothing for a store the app can read; the StoreFault saying why not otherwise."""
    if state.kind != READY:
        raise explain(state, url)


def check_buildable(state: StoreState, url: str, force: bool, action: str = "演示数据") -> None:
    """May the demo (or a new city, `action` naming it) be built into this store? Into an empty
    one always; over a demo store of ours always (it holds generated data only); over any other
    store of ours only with `force`; never where that would drop or shadow a table that is not
    ours, nor over a store of a newer schema version (a newer program's data)."""
    store = describe_store(url)
    if state.kind == NEWER:  # a later program's store, demo or not, is not ours to judge
        raise explain(state, url)
    if state.kind == EMPTY or (state.kind != FOREIGN and state.is_demo):
        return
    if state.kind == FOREIGN:
        schema = {t.name for t in db.metadata.sorted_tables}
        clashing = [t for t in state.tables if t in schema]
        if clashing or not force:
            raise StoreFault(FOREIGN, store, f"中已有不是本系统建立的表({'、'.join(state.tables[:8])})",
                             f"{action}只写入不存在或完全为空的数据库;程序不会删除不属于本系统的表,请换一个空库"
                             if clashing else f"{action}只写入不存在或完全为空的数据库;确需与这些表并存,请加 --force")
        return
    if not force:
        raise StoreFault(state.kind, store, "中是真实数据(不是演示库)",
                         f"{action}不会覆盖它;确认不再需要其中数据时,请加 --force 替换")


@contextmanager
def _transaction(engine: Engine, bulk_load: bool) -> Iterator[Connection]:
    """engine.begin(); for a SQLite bulk load, with neither foreign keys nor CHECK constraints
    checked row by row (they are four fifths of a generated row's insert; SQLite switches foreign
    keys only outside a transaction), both back on for the connection's next user whatever
    happens."""
    if not (bulk_load and engine.dialect.name == "sqlite"):
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("PRAGMA ignore_check_constraints=ON")
        try:
            with conn.begin():
                yield conn
        finally:
            raw.execute("PRAGMA ignore_check_constraints=OFF")
            raw.execute("PRAGMA foreign_keys=ON")


@contextmanager
def replacing_store(engine: Engine, force: bool = False, action: str = "演示数据", *, record: tuple[str, str],
                    by=None, bulk_load: bool = False) -> Iterator[Connection]:
    """A transaction in which the store is rebuilt from scratch for the demo or a new city: refused
    (StoreFault) where check_buildable says no; only our own tables are dropped; the schema
    version, a new store id and a revision that goes on from the old store's are written, so
    every process's cache follows. The caller fills the tables and its metadata (`bulk_load`:
    generated rows that keep the constraints by construction: SQLite checks none). Accounts,
    sessions, display links and the audit trail are carried over (accounts.restore_carried_rows),
    and the rebuild's own audit row, `record` (action, what) by `by` (an accounts.Access; default
    the system at first start), is written after them."""
    from . import accounts

    url = engine.url.render_as_string(hide_password=False)
    state = inspect_store(engine)
    check_buildable(state, url, force, action)
    by = by or accounts.Access(who="系统", role=accounts.ADMIN, source="首次启动")
    with _transaction(engine, bulk_load) as conn:
        carried = accounts.load_carried_rows(conn, state.owned)
        db.metadata.drop_all(conn, tables=[t for t in db.metadata.sorted_tables if t.name in state.owned])
        db.metadata.create_all(conn)
        yield conn
        accounts.restore_carried_rows(conn, carried, by, *record)
        db.write_meta(conn, revision=state.revision, store_id=db.new_store_id(),
                      **{db.SCHEMA_VERSION_KEY: db.SCHEMA_VERSION})
        db.bump_revision(conn)
        if conn.dialect.name == "postgresql":
            # Planner statistics for the tables just filled, now rather than when autovacuum gets
            # to them: without them the summary's build and the first county import pick
            # nested-loop plans (an import 7x slower right after a demo build).
            conn.exec_driver_sql("ANALYZE")
        summary.refresh_summary(conn)
    use_wal(engine)


# PostgreSQL advisory lock key ("retr") held while one process builds the store.
BUILD_LOCK_KEY = 0x72657472
# How long a server starting beside another waits for that one's build, in seconds.
BUILD_WAIT_S = 120


@contextmanager
def building_alone(engine: Engine) -> Iterator[None]:
    """Held while this process builds the store: app servers started together on an empty store
    (several behind nginx) build the demo once; the others wait, then find it built. PostgreSQL:
    a transaction-level advisory lock; SQLite: an exclusive flock on a file beside the store
    (never on the store itself: closing another descriptor of it would drop SQLite's own locks)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f"SET LOCAL lock_timeout = {BUILD_WAIT_S * 1000}"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BUILD_LOCK_KEY})
            yield
        return
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or not Path(path).parent.is_dir():
        yield
        return
    import fcntl
    with open(f"{path}-buildlock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_indexes(engine: Engine) -> list[str]:
    """On opening a readable store: indexes that earlier code built on other columns (or not at
    all) are rebuilt as the model has them (db.ensure_indexes), once, by one server at a time.
    A store already right costs one look at the catalogue. Returns the names rebuilt."""
    with engine.connect() as conn:
        if not db.load_stale_indexes(conn):
            return []
    with building_alone(engine), engine.begin() as conn:
        return db.ensure_indexes(conn)


def migrate(engine: Engine) -> int:
    """Upgrade a store of ours from schema version 1 to 2 in one transaction: the `city` table and
    county.city_adcode (empty: the store stays the one city it was), payments' voucher numbers.
    Additive only: no row is changed but for the voucher number each payment is given;
    StoreFault for a store that is not ours or of another version. Returns the version found."""
    url = engine.url.render_as_string(hide_password=False)
    state = inspect_store(engine)
    if state.kind == READY:
        return state.version
    if state.kind != OLDER or state.version != 1:
        raise explain(state, url)
    with engine.begin() as conn:
        db.metadata.create_all(conn, checkfirst=True)   # the tables version 2 adds, city among them
        conn.exec_driver_sql("ALTER TABLE county ADD COLUMN city_adcode VARCHAR(6) REFERENCES city (adcode)")
        _add_voucher_numbers(conn)
        db.write_meta(conn, **{db.SCHEMA_VERSION_KEY: db.SCHEMA_VERSION})
        db.bump_revision(conn)
        summary.refresh_summary(conn)
    return 1


def _add_voucher_numbers(conn: Connection) -> None:
    """fund_disbursement.code: payments recorded before voucher numbers get one made from their
    row id (ZF-17), unique like any other, so a county's 拨付 sheet can correct them."""
    conn.exec_driver_sql("ALTER TABLE fund_disbursement ADD COLUMN code VARCHAR(40)")
    conn.exec_driver_sql("UPDATE fund_disbursement SET code = 'ZF-' || CAST(id AS VARCHAR(20))")
    conn.exec_driver_sql("CREATE UNIQUE INDEX uq_fund_disbursement_code ON fund_disbursement (code)")
    if conn.dialect.name == "postgresql":   # SQLite cannot add NOT NULL to an existing column
        conn.exec_driver_sql("ALTER TABLE fund_disbursement ALTER COLUMN code SET NOT NULL")


def use_wal(engine: Engine) -> None:
    """SQLite: switch a store of ours to write-ahead logging, so readers answer from the last
    committed state while a writer holds its transaction (the default journal makes them wait and
    fail). The mode stays with the file; setting it again is a no-op. Outside a transaction, as
    SQLite requires."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        connection.driver_connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def describe_error(error: BaseException, url: str) -> StoreFault:
    """Any store fault raised while reading or writing, as a StoreFault with a Chinese message."""
    if isinstance(error, StoreFault):
        return error
    store = describe_store(url)
    original = getattr(error, "orig", None) or error
    text = f"{type(original).__name__}: {original}".lower()
    if isinstance(error, NoSuchModuleError | ImportError) or "could not parse" in text:
        return StoreFault("url", store, "的地址无法识别或缺少驱动",
                          f"请检查环境变量 {DB_URL_ENV}(SQLAlchemy 地址,例如 sqlite:///data/retrofit.db)")
    if any(w in text for w in ("database is locked", "database table is locked", "lock timeout",
                               "lock_timeout", "locknotavailable", "statement timeout", "querycanceled")):
        return StoreFault("locked", store, "正被其他程序写入而暂时锁定(或查询超时)",
                          "请稍候刷新页面或重试;若持续出现,请检查是否有导入或重建长时间未结束")
    if any(w in text for w in ("not a database", "malformed", "disk image", "file is encrypted")):
        return StoreFault("corrupt", store, "已损坏或不是数据库文件", f"请从备份恢复,或在 {DB_URL_ENV} 中指定正确的数据库")
    if "unable to open database file" in text:
        return StoreFault("missing", store, "无法打开(文件夹不存在或没有读写权限)",
                          f"请检查 {DB_URL_ENV} 中的路径和文件夹权限")
    if "database" in text and "does not exist" in text:
        return StoreFault("missing", store, "不存在", "请先创建该数据库(PostgreSQL:createdb),或检查地址中的库名")
    if any(w in text for w in (
            "connection", "could not connect", "timeout expired", "connect", "server closed",
            "password authentication", "name or service not known")):
        return StoreFault("unreachable", store, "无法连接(服务未运行、网络不通、超时或认证失败)",
                          "请检查数据库服务与网络,以及地址中的主机、端口、用户和密码;恢复后刷新页面")
    if any(w in text for w in ("no such table", "no such column", "undefinedtable", "undefinedcolumn",
                               "does not exist")):
        return StoreFault("incomplete", store, "的表结构与本程序不符", "请从备份恢复,或检查是否连到了别的数据库")
    if any(w in text for w in ("readonly", "read-only", "disk is full", "no space")):
        return StoreFault("write", store, "无法写入(只读或磁盘已满)", "请检查磁盘空间与文件权限")
    return StoreFault("other", store, f"读写出错({type(original).__name__})",
                      "请稍后重试;若持续出现,请把页面截图与服务器日志交给管理员")


STORE_ERRORS = (StoreFault, DBAPIError, NoSuchModuleError)
