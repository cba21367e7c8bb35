"""As reported on a date (当日已报送): the store as the bureau knew it at the end of that day.

Reports normally read "as of D": facts dated on or before D, as known now, corrections included.
Every county import keeps the values it replaced (intake: import_log, import_change), so the
state known at the end of D is today's store with every import recorded after that day reverted.
That revert runs inside a transaction that is always rolled back, and the report functions read
through the same connection: nothing is written, other sessions see nothing. The summary
(retrofit/summary.py) is refreshed inside that transaction too, for the counties of the reverted
imports, so the report functions read the summary of the reverted store, not today's.

Limitation: an import that was in force on D but undone later is not put back (undo keeps the
replaced values, not the imported ones); "as reported" then omits it.
"""
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from . import db, summary
from .settings import LOCAL_TIMEZONE


class ConnectionEngine:
    """Just enough of an Engine for the read queries (`connect()`, `dialect`), bound to one open
    connection, so report functions read inside an uncommitted transaction."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self.dialect = conn.dialect
        self.url = conn.engine.url

    def connect(self):
        return nullcontext(self._conn)


def end_of_day_utc(day: date) -> str:
    """The end of `day` on the bureau's clock, in UTC as import_log.imported_at writes it."""
    local_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(LOCAL_TIMEZONE))
    return local_end.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S")


def list_imports_after(conn: Connection, day: date) -> list[int]:
    """Imports in force now that were recorded after the end of `day`, latest first."""
    log = db.import_log
    return list(conn.execute(select(log.c.id).where(log.c.imported_at >= end_of_day_utc(day),
                                                    log.c.status != "已撤销").order_by(log.c.id.desc())).scalars())


@contextmanager
def reported_on(engine: Engine, day: date) -> Iterator[ConnectionEngine]:
    """An engine-like reading the store as it stood at the end of `day` (see the module doc)."""
    from .intake.commit import revert_changes

    change, log = db.import_change, db.import_log
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            reverted = list_imports_after(conn, day)
            for import_id in reverted:
                revert_changes(conn, conn.execute(select(change).where(change.c.import_id == import_id)
                                                  .order_by(change.c.id.desc())).all())
            if reverted:
                counties = set(conn.execute(select(log.c.county_adcode).where(log.c.id.in_(reverted))).scalars())
                summary.refresh_summary(conn, None if None in counties else tuple(sorted(counties)))
            yield ConnectionEngine(conn)
        finally:
            transaction.rollback()


def compute_as_reported(engine: Engine, day: date, function: Callable, *args, **kwargs):
    """`function(engine, *args, **kwargs)` on the store as reported at the end of `day`."""
    with reported_on(engine, day) as reported:
        return function(reported, *args, **kwargs)
