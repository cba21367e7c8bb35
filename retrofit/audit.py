"""The audit trail (操作日志): one append-only row per sign-in, import, undo, publication,
withdrawal, export, account change, demo rebuild and refused attempt, with who, when, from where
and what. This module only ever inserts into audit_event and reads it; nothing in the package
updates or deletes its rows (tests/integration/test_accounts.py checks the source)."""
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import select, true
from sqlalchemy.engine import Connection, Engine

from . import db

LOGIN, LOGIN_FAILED, PASSWORD = "登录", "登录失败", "修改密码"
IMPORT, UNDO = "导入", "撤销导入"
PUBLISH, WITHDRAW = "发布通报", "撤回通报"
EXPORT = "导出下载"
ACCOUNT = "账号变更"
DEMO_REBUILD = "重建演示库"
NEW_CITY = "新建城市库"
REFUSED = "越权拒绝"
ACTIONS = (LOGIN, LOGIN_FAILED, PASSWORD, IMPORT, UNDO, PUBLISH, WITHDRAW, EXPORT, ACCOUNT, DEMO_REBUILD, NEW_CITY,
           REFUSED)


def utc_now() -> datetime:
    """Now in UTC without a zone: DateTime columns are naive on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def record_in(conn: Connection, who: str, source: str, action: str, what: str) -> None:
    """One audit row in the caller's transaction (so the row and the change commit together)."""
    conn.execute(db.audit_event.insert().values(at=utc_now(), who=(who or "未知")[:60],
                                                source=(source or "未知")[:60], action=action, what=what))


def record(engine: Engine, who: str, source: str, action: str, what: str) -> None:
    """One audit row in a transaction of its own."""
    with engine.begin() as conn:
        record_in(conn, who, source, action, what)


def audited_build(engine: Engine, who: str, source: str, what: str, build):
    """A download's data callable: builds the file, then writes one EXPORT row. Streamlit calls it
    once per actual download (never on reruns), so each download is one row."""
    def build_and_record():
        content = build()
        record(engine, who, source, EXPORT, what)
        return content

    return build_and_record


def load_audit(engine: Engine, since: date | None = None, until: date | None = None, who: str = "",
               actions: tuple[str, ...] = ()) -> pd.DataFrame:
    """Audit rows, newest first, with Chinese column names: `since`/`until` are whole UTC days,
    `who` matches part of the actor, `actions` any of those listed (empty: all)."""
    a = db.audit_event
    statement = (select(a.c.id, a.c.at, a.c.who, a.c.source, a.c.action, a.c.what)
                 .where(a.c.at >= datetime.combine(since, time()) if since else true(),
                        a.c.at < datetime.combine(until + timedelta(days=1), time()) if until else true(),
                        a.c.who.contains(who.strip(), autoescape=True) if who.strip() else true(),
                        a.c.action.in_(actions) if actions else true())
                 .order_by(a.c.id.desc()))
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    frame = pd.DataFrame(rows, columns=["id", "at", "who", "source", "action", "what"])
    return pd.DataFrame({"编号": frame["id"].astype("int64"),
                         "时间(UTC)": frame["at"].map(lambda t: f"{t:%Y-%m-%d %H:%M:%S}"),
                         "操作人": frame["who"], "来源": frame["source"], "操作": frame["action"],
                         "内容": frame["what"]})
