"""From a checked file to the store: the preview (what is new, what changes field by field,
what the county's measures become), the import itself (one transaction, upsert on the natural
key, the values it replaces kept), the import log, and undo.

The preview runs the very same writes inside a transaction that is rolled back, and reads the
measures through that transaction: what it shows is what a commit would do.
"""
import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, UTC

import pandas as pd
from sqlalchemy import Boolean, Date, bindparam, select, true, tuple_
from sqlalchemy.engine import Connection, Engine

from .. import audit, db, fmt, report, summary
from ..accounts import Access, AccessRefused
from ..history import ConnectionEngine
from .sheets import PROGRAM_LABELS, SheetSpec
from .validate import CheckedSheet, CheckResult

IMPORTED, NO_CHANGE, UNDONE = "已导入", "无变化", "已撤销"
KEY_CHUNK = 500
INSERT_CHUNK = 10_000
# Tables a checksum leaves out: the log of imports and the audit trail are about the data,
# accounts and sign-ins are who may touch it, and the summary is derived from it: none is the data.
NOT_DATA = ("import_log", "import_change", "audit_event", "account", "account_session", "display_token",
            *(t.name for t in db.DERIVED_TABLES))


class ImportRefused(Exception):
    """An import or undo that cannot go ahead: the message says why, in Chinese."""


@dataclass
class SheetPlan:
    """What importing one sheet does: rows to insert, rows to update (with their old values)."""
    spec: SheetSpec
    name: str
    inserts: list[dict] = field(default_factory=list)
    updates: list[tuple[dict, dict]] = field(default_factory=list)    # (new row, old row)
    unchanged: int = 0


@dataclass
class Preview:
    counts: dict[str, int]       # inserted, updated, unchanged
    changes: pd.DataFrame        # 工作表, 编码, 行号, 字段, 原值, 新值 for changed rows
    new_rows: pd.DataFrame       # 工作表, 行号, 编码 and the row's fields, for new rows
    effect: pd.DataFrame         # 指标, 导入前, 导入后, 变化

    @property
    def changes_nothing(self) -> bool:
        return self.counts["inserted"] + self.counts["updated"] == 0


def _key(spec: SheetSpec, row: dict) -> tuple:
    return tuple(row[k] for k in spec.keys)


def _key_text(key: tuple) -> str:
    return "|".join("" if k is None else str(k) for k in key)


def _nullable_key(spec: SheetSpec) -> bool:
    """A natural key with a column that may be empty (a city-wide plan node has no county):
    SQL's `=` never matches NULL, so such rows are matched in Python and written one by one."""
    return any(spec.table.c[k].nullable for k in spec.keys)


def _where_key(spec: SheetSpec, key) -> list:
    return [spec.table.c[k] == v for k, v in zip(spec.keys, key)]   # == None compiles to IS NULL


def load_existing(conn_or_engine, spec: SheetSpec, keys: list[tuple], columns: list[str],
                  counties: set[str] | None = None) -> dict[tuple, dict]:
    """Stored rows by natural key, for `keys` only: read in chunks of bound parameters, or, for a
    large file of known counties, those counties' rows at once (fewer round trips)."""
    table = spec.table
    key_cols = [table.c[k] for k in spec.keys]
    found = {}
    cols = list(dict.fromkeys([*spec.keys, *columns]))
    context = conn_or_engine.connect() if isinstance(conn_or_engine, Engine) else nullcontext(conn_or_engine)
    with context as conn:
        if _nullable_key(spec):
            wanted = set(keys)
            for row in conn.execute(select(*[table.c[c] for c in cols])).mappings():
                key = tuple(row[k] for k in spec.keys)
                if key in wanted:
                    found[key] = dict(row)
            return found
        if counties and len(keys) > 5 * KEY_CHUNK and "county_adcode" in table.c:
            wanted = set(keys)
            rows = conn.execute(select(*[table.c[c] for c in cols]).where(table.c.county_adcode.in_(sorted(counties))))
            for row in rows.mappings():
                key = tuple(row[k] for k in spec.keys)
                if key in wanted:
                    found[key] = dict(row)
            return found
        for start in range(0, len(keys), KEY_CHUNK):
            chunk = keys[start:start + KEY_CHUNK]
            where = (key_cols[0].in_([k[0] for k in chunk]) if len(key_cols) == 1
                     else tuple_(*key_cols).in_(chunk))
            for row in conn.execute(select(*[table.c[c] for c in cols]).where(where)).mappings():
                found[tuple(row[k] for k in spec.keys)] = dict(row)
    return found


def _plain(value):
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


_PYTHON_TYPES = frozenset({type(None), str, int, bool, date})


def _column_values(series: pd.Series) -> list:
    """A column as plain Python values, None for empty. The checked frame's columns mostly hold
    Python objects already: those pass in one scan instead of a call per cell."""
    values = series.tolist()
    if all(type(v) in _PYTHON_TYPES for v in values):
        return values
    return [_plain(v) for v in values]


def _rows(sheet: CheckedSheet) -> list[dict]:
    columns = sheet.spec.stored_columns
    frame = sheet.frame
    values = zip(*(_column_values(frame[c]) for c in columns))
    return [dict(zip(columns, cells), _row=row) for row, cells in zip(frame.index, values)]


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    return a == b


def _resolve_references(conn, sheet: CheckedSheet) -> None:
    """Codes naming other rows (文号, 项目编码) become those rows' ids, read through `conn` so that
    rows written earlier in the same import are found."""
    for ref in sheet.spec.references:
        codes = sorted({c for c in sheet.frame[ref.field] if c is not None})
        ids = dict(conn.execute(select(ref.table.c.code, ref.table.c.id).where(ref.table.c.code.in_(codes))).all())
        sheet.frame[ref.column] = pd.Series([ids.get(c) for c in sheet.frame[ref.field]], index=sheet.frame.index,
                                            dtype=object)


def plan_sheet(conn, sheet: CheckedSheet) -> SheetPlan:
    spec = sheet.spec
    _resolve_references(conn, sheet)
    rows = _rows(sheet)
    columns = spec.stored_columns
    counties = {r["county_adcode"] for r in rows if r.get("county_adcode")}
    existing = load_existing(conn, spec, [_key(spec, r) for r in rows], columns, counties)
    plan = SheetPlan(spec, sheet.name)
    for row in rows:
        old = existing.get(_key(spec, row))
        if old is None:
            plan.inserts.append(row)
        elif all(_same(row[c], old[c]) for c in columns):
            plan.unchanged += 1
        else:
            plan.updates.append((row, old))
    return plan


def _plan_independent(conn, result: CheckResult) -> list[SheetPlan]:
    """Plans for the sheets that name no other rows by code: all can be planned before writing."""
    return [plan_sheet(conn, s) for s in result.sheets if not s.spec.references]


def _write(conn: Connection, result: CheckResult, plans: list[SheetPlan], import_id: int | None,
           by: Access) -> list[SheetPlan]:
    """Write `plans`, then plan and write the sheets that name rows by code (a payment its
    allocation's 文号), which may be rows just written. Returns every sheet's plan."""
    _check_rows_owned(conn, by, result.county_adcode, plans)
    apply_plans(conn, plans, import_id)
    referring = [plan_sheet(conn, s) for s in result.sheets if s.spec.references]
    _check_rows_owned(conn, by, result.county_adcode, referring)
    apply_plans(conn, referring, import_id)
    return plans + referring


def _check_rows_owned(conn: Connection, by: Access, county: str | None, plans: list[SheetPlan]) -> None:
    """A row a file would change must belong to a county `by` may import: through a code already
    stored under another county, a clerk's own-county file would otherwise take that county's row
    over (and its preview would show the stored values)."""
    for plan in plans:
        for row, old in plan.updates:
            before = old.get("county_adcode")
            if before and before != county:
                try:
                    by.check_import(before)
                except AccessRefused:
                    key = "、".join(str(row[k]) for k in plan.spec.keys)
                    raise AccessRefused(f"“{plan.name}”中编码“{key}”的记录在库中属于{_place(conn, before)},"
                                        f"县区填报员不能修改其他县区的数据;请核对编码后重新上传。") from None


def _to_json(row: dict, columns: list[str]) -> str:
    return json.dumps({c: (row[c].isoformat() if isinstance(row[c], date) else row[c]) for c in columns},
                      ensure_ascii=False)


def _from_json(spec_table, text: str) -> dict:
    values = json.loads(text)
    for column, value in values.items():
        if value is not None and isinstance(spec_table.c[column].type, Date):
            values[column] = date.fromisoformat(value)
        elif value is not None and isinstance(spec_table.c[column].type, Boolean):
            values[column] = bool(value)
    return values


def apply_plans(conn: Connection, plans: list[SheetPlan], import_id: int | None) -> None:
    """The writes themselves, in the caller's transaction; change rows when `import_id` is given."""
    changes = []
    for plan in plans:
        table, columns = plan.spec.table, plan.spec.stored_columns
        if plan.inserts:
            insert_rows(conn, table, columns, plan.inserts)
            changes += [dict(table_name=table.name, row_key=_key_text(_key(plan.spec, r)), action="insert",
                             before_json=None) for r in plan.inserts]
        settable = [c for c in columns if c not in plan.spec.keys]
        if plan.updates and _nullable_key(plan.spec):
            for new, _ in plan.updates:
                conn.execute(table.update().where(*_where_key(plan.spec, _key(plan.spec, new)))
                             .values({c: new[c] for c in settable}))
        elif plan.updates:
            where = [table.c[k] == bindparam(f"_k_{k}") for k in plan.spec.keys]
            statement = table.update().where(*where).values({c: bindparam(c) for c in settable})
            conn.execute(statement, [{**{c: new[c] for c in settable}, **{f"_k_{k}": new[k] for k in plan.spec.keys}}
                                     for new, _ in plan.updates])
        changes += [dict(table_name=table.name, row_key=_key_text(_key(plan.spec, new)), action="update",
                         before_json=_to_json(old, columns)) for new, old in plan.updates]
    if import_id is not None and changes:
        insert_rows(conn, db.import_change, ["import_id", "table_name", "row_key", "action", "before_json"],
                    [dict(c, import_id=import_id) for c in changes])


def insert_rows(conn: Connection, table, columns: list[str], rows: list[dict]) -> None:
    """Many rows at once. On SQLite straight through the driver's executemany (SQLAlchemy's
    per-row parameter processing doubles the time of a 100,000-row import); dates are written as
    SQLAlchemy writes them there (ISO text) and booleans as 0/1. Elsewhere SQLAlchemy's own
    batched insert."""
    if conn.dialect.name != "sqlite":
        if "id" not in columns:
            db.sync_id_sequence(conn, table)  # stores built before the demo synced its sequences
        names = ", ".join(f'"{c}"' for c in columns)
        driver = conn.connection.driver_connection
        if conn.dialect.driver == "psycopg" and hasattr(driver, "cursor"):
            # COPY through the same connection (so the same transaction): several times faster
            # than batched INSERTs for a 100,000-row file.
            with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            return
        conn.execute(table.insert(), [{c: r[c] for c in columns} for r in rows])
        return
    convert = [(lambda v: None if v is None else v.isoformat()) if isinstance(table.c[c].type, Date)
               else (lambda v: None if v is None else int(v)) if isinstance(table.c[c].type, Boolean) else None
               for c in columns]
    converted = [(i, f) for i, f in enumerate(convert) if f is not None]
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    for start in range(0, len(rows), INSERT_CHUNK):   # chunks: the tuples are never all in memory
        values = []
        for row in rows[start:start + INSERT_CHUNK]:
            record = [row[c] for c in columns]
            for i, f in converted:
                record[i] = f(record[i])
            values.append(tuple(record))
        conn.exec_driver_sql(statement, values)


def _measure_scope(result: CheckResult, plans: list[SheetPlan]) -> tuple[str | None, int | None]:
    """The program and plan year whose measures the file moves (the year most rows name)."""
    for plan in plans:
        year_col = {"heating_household": "plan_year", "renovation_project": "batch_year"}.get(plan.spec.key)
        if year_col:
            years = pd.Series([r[year_col] for r in plan.inserts] + [n[year_col] for n, _ in plan.updates] or
                              [r[year_col] for r in _rows(next(s for s in result.sheets if s.spec is plan.spec))])
            if len(years.dropna()):
                return plan.spec.program, int(years.mode().iloc[0])
    return None, None


def compute_effect(engine_like, result: CheckResult, program: str | None, year: int | None) -> pd.DataFrame:
    """The county's measures of `program` (or the city's for a city-wide file) as figures."""
    if program is None:
        return pd.DataFrame(columns=["key", "label", "value", "numerator", "denominator"])
    counties = (result.county_adcode,) if result.county_adcode else ()
    headline = report.compute_headline(engine_like, report.Scope(result.data_date, year, counties))
    return headline[headline["program"] == program][["key", "label", "value", "numerator", "denominator", "unit"]]


def build_preview(engine: Engine, result: CheckResult, by: Access) -> Preview:
    """What importing `result` would do, computed in a transaction that is rolled back. The
    preview shows stored values, so it is refused (AccessRefused) exactly as the import would be."""
    if not result.ok:
        raise ImportRefused("文件有错误,不能预览导入;请先按错误表修改")
    by.check_import(result.county_adcode)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            plans = _plan_independent(conn, result)
            program, year = _measure_scope(result, plans)
            before = compute_effect(ConnectionEngine(conn), result, program, year)
            plans = _write(conn, result, plans, None, by)
            _advance_data_date(conn, result.data_date)
            summary.refresh_summary(conn, _counties_touched(result.county_adcode, plans))
            after = compute_effect(ConnectionEngine(conn), result, program, year)
        finally:
            transaction.rollback()
    counts = dict(inserted=sum(len(p.inserts) for p in plans), updated=sum(len(p.updates) for p in plans),
                  unchanged=sum(p.unchanged for p in plans))
    # Only the tables are kept (a session may hold the preview of a 100,000-row file for a while).
    return Preview(counts, _change_table(plans), _new_table(plans), _effect_table(before, after))


def _header_of(spec: SheetSpec, column: str) -> str:
    names = {f.column: f.header for f in spec.fields}
    names.update({r.column: names[r.field] for r in spec.references})
    return names.get(column, {"county_adcode": "县(市、区)", "village_code": "村"}.get(column, column))


def _shown(value) -> str:
    if value is None:
        return "(空)"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _change_table(plans: list[SheetPlan]) -> pd.DataFrame:
    rows = []
    for plan in plans:
        for new, old in plan.updates:
            for column in plan.spec.stored_columns:
                if not _same(new[column], old[column]):
                    rows.append((plan.name, _key_text(_key(plan.spec, new)), new["_row"],
                                 _header_of(plan.spec, column), _shown(old[column]), _shown(new[column])))
    return pd.DataFrame(rows, columns=["工作表", "编码", "行号", "字段", "原值", "新值"])


def _new_table(plans: list[SheetPlan]) -> pd.DataFrame:
    rows = [(p.name, r["_row"], _key_text(_key(p.spec, r))) for p in plans for r in p.inserts]
    return pd.DataFrame(rows, columns=["工作表", "行号", "编码"])


def _effect_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (_, b), (_, a) in zip(before.iterrows(), after.iterrows()):
        shown_b = fmt.format_percent_of(b["numerator"], b["denominator"])
        shown_a = fmt.format_percent_of(a["numerator"], a["denominator"])
        rows.append((b["label"], f"{shown_b}({int(b['numerator']):,}/{int(b['denominator']):,})",
                     f"{shown_a}({int(a['numerator']):,}/{int(a['denominator']):,})",
                     "不变" if shown_a == shown_b else f"{shown_b} → {shown_a}"))
    return pd.DataFrame(rows, columns=["指标", "导入前", "导入后", "变化"])


def describe_effect(effect: pd.DataFrame) -> str:
    """The measures that move, in one line ("完成率 73.0% → 82.2%;…"), or that none does."""
    moved = [f"{label} {change}" for label, change in zip(effect["指标"], effect["变化"]) if change != "不变"]
    return ";".join(moved) if moved else "各项指标不变"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _advance_data_date(conn: Connection, data_date: date) -> str | None:
    """Move the store's data date forward to the file's; the previous value (for undo), or None."""
    current = db.read_meta(conn).get("data_date")
    if current is None or date.fromisoformat(current) < data_date:
        db.write_meta(conn, data_date=data_date.isoformat())
        return current
    return None


def commit_import(engine: Engine, result: CheckResult, by: Access) -> int:
    """Import a checked file in one transaction, with its audit row: all rows or none. Returns the
    import log id. A second import of the same content changes nothing (logged as 无变化).
    Refused (AccessRefused) unless `by` may import the file's county (a city-wide file: admins)."""
    if not result.ok:
        raise ImportRefused("文件有错误,未导入任何数据;请先按错误表修改")
    by.check_import(result.county_adcode)
    who = by.who
    with engine.begin() as conn:
        log_id = conn.execute(db.import_log.insert().values(
            imported_at=_now(), who=who[:40], county_adcode=result.county_adcode, program=result.program,
            sheets="、".join(s.name for s in result.sheets)[:80], file_name=result.file_name[:200],
            sha256=result.sha256, data_date=result.data_date, inserted=0, updated=0, unchanged=0, status=NO_CHANGE,
        )).inserted_primary_key[0]
        plans = _write(conn, result, _plan_independent(conn, result), log_id, by)
        inserted = sum(len(p.inserts) for p in plans)
        updated = sum(len(p.updates) for p in plans)
        conn.execute(db.import_log.update().where(db.import_log.c.id == log_id).values(
            inserted=inserted, updated=updated, unchanged=sum(p.unchanged for p in plans),
            status=IMPORTED if inserted + updated else NO_CHANGE))
        previous_date = _advance_data_date(conn, result.data_date) if inserted + updated else None
        if previous_date is not None:
            conn.execute(db.import_change.insert().values(
                import_id=log_id, table_name="store_meta", row_key="data_date", action="update",
                before_json=json.dumps({"value": previous_date})))
        if inserted + updated:
            db.bump_revision(conn)
            summary.refresh_summary(conn, _counties_touched(result.county_adcode, plans))
        audit.record_in(conn, by.who, by.source, audit.IMPORT,
                        f"第 {log_id} 次导入:{result.file_name}({_place(conn, result.county_adcode)},"
                        f"新增 {inserted} 行,修改 {updated} 行)")
    return log_id


def _place(conn: Connection, adcode: str | None) -> str:
    if adcode is None:
        return "全市"
    return conn.execute(select(db.county.c.name).where(db.county.c.adcode == adcode)).scalar_one_or_none() or adcode


def _counties_touched(county: str | None, plans: list[SheetPlan]) -> tuple[str, ...] | None:
    """The counties whose summary an import changes: the file's and any county a changed row
    belonged to before (a community moved by a county's file); None (all) for a city-wide file."""
    if not county:
        return None
    before = {old.get("county_adcode") for plan in plans for _, old in plan.updates}
    return tuple(sorted({county} | before - {None}))


def load_imports(engine: Engine, access: Access) -> pd.DataFrame:
    """The import log `access` may read, latest first, with Chinese column names and county names:
    a clerk's own county's imports only (other counties' file names, counts and uploaders are
    theirs, and city-wide files are the admins'); leaders and admins, all."""
    log, county = db.import_log, db.county
    own = access.import_log_county()
    mine = log.c.county_adcode == own if own else true()
    with engine.connect() as conn:
        rows = conn.execute(select(log, county.c.name.label("county")).select_from(
            log.outerjoin(county, county.c.adcode == log.c.county_adcode)).where(mine)
            .order_by(log.c.id.desc())).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in log.columns] + ["county"])
    return pd.DataFrame({
        "编号": frame["id"], "导入时间(UTC)": frame["imported_at"].str.replace("T", " "), "导入人": frame["who"],
        "县区": frame["county"].fillna("全市"), "类别": frame["program"].map(lambda p: PROGRAM_LABELS.get(p, p)),
        "工作表": frame["sheets"], "文件": frame["file_name"], "数据截至": frame["data_date"],
        "新增": frame["inserted"], "修改": frame["updated"], "未变": frame["unchanged"], "状态": frame["status"],
        "撤销时间(UTC)": frame["undone_at"].fillna("").str.replace("T", " "), "撤销人": frame["undone_by"].fillna(""),
        "SHA-256": frame["sha256"].str[:12]})


def undo_import(engine: Engine, import_id: int, by: Access) -> dict[str, int]:
    """Undo one import in one transaction, with its audit row: replaced values come back,
    inserted rows go. Refused when a later import (not undone) changed the same rows, or the
    import is already undone, or `by` may not import that county. Returns counts restored / deleted."""
    from ..db import import_change as change, import_log as log

    with engine.begin() as conn:
        entry = conn.execute(select(log).where(log.c.id == import_id)).mappings().first()
        if entry is None:
            raise ImportRefused(f"没有编号为 {import_id} 的导入记录")
        by.check_import(entry["county_adcode"])
        if entry["status"] == UNDONE:
            raise ImportRefused(f"第 {import_id} 次导入已于 {entry['undone_at'].replace('T', ' ')} 撤销")
        mine = conn.execute(select(change).where(change.c.import_id == import_id).order_by(change.c.id.desc())).all()
        later = conn.execute(
            select(change.c.import_id, change.c.table_name, change.c.row_key).join(log, log.c.id == change.c.import_id)
            .where(change.c.import_id > import_id, log.c.status != UNDONE)).all()
        mine_keys = {(c.table_name, c.row_key) for c in mine}
        clash = sorted({i for i, t, k in later if (t, k) in mine_keys})
        if clash:
            raise ImportRefused(f"第 {'、'.join(map(str, clash))} 次导入修改了相同的记录:请先撤销较晚的导入,再撤销本次")
        restored, deleted = revert_changes(conn, mine)
        conn.execute(log.update().where(log.c.id == import_id).values(
            status=UNDONE, undone_at=_now(), undone_by=by.who[:40]))
        if mine:
            db.bump_revision(conn)
            restored_from = {json.loads(c.before_json).get("county_adcode") for c in mine if c.before_json}
            summary.refresh_summary(conn, None if not entry["county_adcode"] else
                                    tuple(sorted({entry["county_adcode"]} | restored_from - {None})))
        audit.record_in(conn, by.who, by.source, audit.UNDO,
                        f"撤销第 {import_id} 次导入:{entry['file_name']}({_place(conn, entry['county_adcode'])},"
                        f"恢复 {restored} 行,删除 {deleted} 行)")
    return dict(restored=restored, deleted=deleted)


def revert_changes(conn: Connection, mine: list) -> tuple[int, int]:
    """Put back what the import_change rows `mine` (one import's, latest first) changed, in the
    caller's transaction: replaced values restored, inserted rows deleted. Returns (restored,
    deleted). Undo commits it; history.reported_on runs it in a transaction it rolls back."""
    from .sheets import SHEETS

    tables = {s.table.name: s for s in SHEETS}
    restored = deleted = 0
    # Later sheets refer to earlier ones (households to villages): undo them first.
    order = {s.table.name: n for n, s in enumerate(SHEETS)}
    for name in sorted({c.table_name for c in mine}, key=lambda t: -order.get(t, -1)):
        changes = [c for c in mine if c.table_name == name]
        if name == "store_meta":
            for c in changes:
                db.write_meta(conn, **{c.row_key: json.loads(c.before_json)["value"]})
            continue
        spec = tables[name]
        keys = [[_typed_key(spec.table.c[k], v) for k, v in zip(spec.keys, c.row_key.split("|"))]
                for c in changes if c.action == "insert"]
        deleted += _delete_keys(conn, spec, keys)
        olds = [_from_json(spec.table, c.before_json) for c in changes if c.action == "update"]
        if olds and _nullable_key(spec):
            for old in olds:
                conn.execute(spec.table.update().where(*_where_key(spec, [old[k] for k in spec.keys]))
                             .values({k: v for k, v in old.items() if k not in spec.keys}))
            restored += len(olds)
        elif olds:
            settable = [k for k in olds[0] if k not in spec.keys]
            statement = spec.table.update().where(
                *[spec.table.c[k] == bindparam(f"_k_{k}") for k in spec.keys]).values(
                {k: bindparam(k) for k in settable})
            conn.execute(statement, [{**{k: old[k] for k in settable}, **{f"_k_{k}": old[k] for k in spec.keys}}
                                     for old in olds])
            restored += len(olds)
    return restored, deleted


def _delete_keys(conn: Connection, spec: SheetSpec, keys: list[list]) -> int:
    """Delete the rows with these natural keys, a chunk of bound parameters at a time."""
    columns = [spec.table.c[k] for k in spec.keys]
    if _nullable_key(spec):
        for key in keys:
            conn.execute(spec.table.delete().where(*_where_key(spec, key)))
        return len(keys)
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start:start + KEY_CHUNK]
        where = (columns[0].in_([k[0] for k in chunk]) if len(columns) == 1
                 else tuple_(*columns).in_([tuple(k) for k in chunk]))
        conn.execute(spec.table.delete().where(where))
    return len(keys)


def _typed_key(column, text: str):
    """A natural key's part back from the change log's text."""
    if text == "" and column.nullable:
        return None
    if isinstance(column.type, Date):
        return date.fromisoformat(text)
    return int(text) if column.type.python_type is int else text


def compute_store_checksum(engine: Engine) -> str:
    """SHA-256 over every data table's rows in key order, and the metadata but the revisions:
    equal checksums mean equal data. The import log is not data and is left out."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            statement = select(table).order_by(*order)
            if table is db.store_meta:
                statement = statement.where(table.c.key.not_in(("revision", db.SUMMARY_REVISION_KEY)))
            digest.update(table.name.encode())
            for row in conn.execute(statement):
                digest.update(repr(tuple(_canonical(v) for v in row)).encode())
    return digest.hexdigest()


def _canonical(value):
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, bool):
        return int(value)
    return value


def ensure_intake_tables(engine: Engine) -> None:
    """Stores made before intake existed get its tables (create_all adds only missing ones)."""
    db.metadata.create_all(engine, tables=[db.import_log, db.import_change, db.county_boundary])
