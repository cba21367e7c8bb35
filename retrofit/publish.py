"""Published reports (发布): a weekly 通报 frozen as a document of record, and what has changed since.

Publishing keeps, in the store (so PostgreSQL deployments carry it), every measure's per-county
figures and ranks and the city-wide row, the notice text, the meeting files (PPTX, DOCX, PDF,
the ranking workbook, the notice as text), the data revision and imports it was built from, and
who published it when. A published report is never edited: it can only be withdrawn (撤回) with
a reason, and stays listed. `report.rank_measure` reads it back as the figures of that date and
as the reference for the next report's 较上期.
"""
import hashlib
import json
from datetime import date, datetime

import pandas as pd
from sqlalchemy import update
from sqlalchemy.engine import Engine

from . import audit, db, fmt, notice, queries, report
from .accounts import Access
from .measures import MEASURES, find_measure
from .vocab import PROGRAMS

TEXT_MIME = "text/plain; charset=utf-8"
LOCAL = datetime.now().astimezone().tzinfo  # the server's clock, which published_at is written in


class PublishError(Exception):
    """A publication or withdrawal that cannot be made as asked: a Chinese message for the user."""


def _file(name: str, mime: str, content: bytes) -> dict:
    return dict(name=name, mime=mime, sha256=hashlib.sha256(content).hexdigest(), content=content)


def build_report_files(engine: Engine, scope: report.Scope, previous: date | None, text: notice.Notice) -> list[dict]:
    """The meeting files of the report: notice text, ranking workbook, PPTX and DOCX, and the PDF
    where a browser can print it."""
    from . import exports, pack  # imported here: the office libraries load only when publishing

    stem = scope.as_of.isoformat()
    content = pack.load_pack_content(engine, scope, previous)  # computed once for the files
    files = [_file(f"进度通报_{stem}.txt", TEXT_MIME, text.text.encode("utf-8-sig")),
             _file(f"县区排名_{stem}.xlsx", exports.XLSX_MIME, exports.build_ranking_xlsx(
                 engine, scope, previous, content.meta))]
    builders = {"pptx": pack.build_pptx, "docx": pack.build_docx, "pdf": pack.build_pdf}
    for kind, build in builders.items():
        if kind == "pdf" and exports.find_chromium() is None:
            continue
        files.append(_file(pack.pack_filename(scope, kind, content.place), pack.PACK_MIME[kind], build(content)))
    return files


def build_figure_rows(engine: Engine, scope: report.Scope, previous: date | None) -> list[dict]:
    """Every measure's per-county figures and ranks, and its city-wide row (adcode '')."""
    rows = []
    for measure in MEASURES:
        table = report.rank_measure(engine, measure.program, measure.key, scope, previous, as_published=False)
        city = report.compute_city_row(table, measure)
        for row in [*table.to_dict("records"), city]:
            rows.append(dict(program=measure.program, measure=measure.key, adcode=row["adcode"], county=row["county"],
                             numerator=int(row["numerator"]), denominator=int(row["denominator"]),
                             target=_float(row["target"]), line=row["line"] or "", basis=row["basis"] or "",
                             gap_pp=_float(row["gap_pp"]), flag=row["flag"], rank=_int(row.get("rank")),
                             previous_rank=_int(row.get("previous_rank"))))
    return rows


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def publish_report(engine: Engine, as_of: date, previous: date | None, by: Access, with_files: bool = True) -> int:
    """Freeze the city-wide report for `as_of` (ranks compared with `previous`) and return its id.
    Refused (PublishError) when a report for that date is already in force, when the date is past
    the data date or `previous` is not before it; AccessRefused unless `by` is a city admin."""
    by.check_admin("发布通报")
    data_date = db.load_data_date(engine)
    if as_of > data_date:
        raise PublishError(f"截至日期 {fmt.format_date(as_of)} 晚于库中最新数据日期 {fmt.format_date(data_date)},不能发布")
    if previous is not None and previous >= as_of:
        raise PublishError(f"上期日期 {fmt.format_date(previous)} 应早于截至日期 {fmt.format_date(as_of)}")
    in_force = queries.load_published_report(engine, as_of)
    if in_force is not None:
        raise PublishError(f"{fmt.format_date(as_of)}的通报已于{in_force['published_at']:%Y-%m-%d %H:%M}由"
                           f"{in_force['published_by']}发布;如需重新发布,请先撤回并注明理由")
    scope = report.Scope(as_of)
    text = notice.build_notice(engine, scope, previous)
    figures = build_figure_rows(engine, scope, previous)
    files = build_report_files(engine, scope, previous, text) if with_files else []
    with engine.begin() as conn:
        report_id = conn.execute(db.published_report.insert().values(
            report_on=as_of, plan_year=scope.plan_year, previous_on=previous, published_at=datetime.now(),
            published_by=by.who[:40], revision=db.load_revision(engine), import_ids=json.dumps(_import_ids(engine)),
            notice_text=text.text, status=db.PUBLISHED)).inserted_primary_key[0]
        conn.execute(db.published_figure.insert(), [dict(r, report_id=report_id) for r in figures])
        if files:
            conn.execute(db.published_file.insert(), [dict(f, report_id=report_id) for f in files])
        db.bump_revision(conn, facts_unchanged=True)  # pages now show the published figures: every cache must follow
        audit.record_in(conn, by.who, by.source, audit.PUBLISH, f"发布{fmt.format_date(as_of)}通报(编号 {report_id})")
    return report_id


def _import_ids(engine: Engine) -> list[int]:
    """The imports in force when publishing (none until county imports exist in the store)."""
    log = getattr(db, "import_log", None)
    if log is None:
        return []
    with engine.connect() as conn:
        return [int(i) for i in conn.execute(log.select().with_only_columns(log.c.id).order_by(log.c.id)).scalars()]


def withdraw_report(engine: Engine, as_of: date, by: Access, reason: str) -> int:
    """Withdraw (撤回) the report in force for `as_of`, with who and why; it stays listed. Returns
    its id. City admins only (AccessRefused)."""
    by.check_admin("撤回通报")
    reason = (reason or "").strip()
    if not reason:
        raise PublishError("撤回须注明撤回理由")
    in_force = queries.load_published_report(engine, as_of)
    if in_force is None:
        raise PublishError(f"{fmt.format_date(as_of)}没有在用的已发布通报,无需撤回")
    r = db.published_report
    with engine.begin() as conn:
        conn.execute(update(r).where(r.c.id == in_force["id"], r.c.status == db.PUBLISHED).values(
            status=db.WITHDRAWN, withdrawn_at=datetime.now(), withdrawn_by=by.who[:40], withdraw_reason=reason))
        db.bump_revision(conn, facts_unchanged=True)
        audit.record_in(conn, by.who, by.source, audit.WITHDRAW,
                        f"撤回{fmt.format_date(as_of)}通报(编号 {in_force['id']}):{reason}")
    return in_force["id"]


def load_report_file(engine: Engine, report_id: int, name: str) -> bytes:
    """One frozen file of a published report, byte for byte as published."""
    files = queries.load_published_files(engine, report_id, with_content=True)
    match = files[files["name"] == name]
    if match.empty:
        raise PublishError(f"发布记录中没有文件“{name}”")
    return bytes(match["content"].iloc[0])


def compute_corrections(engine: Engine, first: date | None = None, last: date | None = None) -> pd.DataFrame:
    """更正记录: for each report in force published for a date in [first, last], every county and
    city figure that reads differently today than as published: report_on, program, measure
    (label), county, published (the figure then), current (now), published_value and
    current_value (percent, one decimal)."""
    reports = queries.load_published_reports(engine)
    imports = queries.load_import_log(engine)
    reports = reports[(reports["status"] == db.PUBLISHED)
                      & reports["report_on"].map(lambda d: (first is None or d >= first) and (last is None or d <= last))]
    rows = []
    for published in reports.itertuples():
        scope = report.Scope(published.report_on, published.plan_year)
        frozen = queries.load_published_figures(engine, published.id)
        for (program, key), figures in frozen.groupby(["program", "measure"], sort=False):
            measure = find_measure(program, key)
            current = report.compute_measure_table(engine, program, key, scope)
            city = report.compute_city_row(current, measure)
            now = {**{a: (n, d) for a, n, d in zip(current["adcode"], current["numerator"], current["denominator"])},
                   "": (city["numerator"], city["denominator"])}
            for f in figures.itertuples():
                numerator, denominator = now.get(f.adcode, (0, 0))
                if (numerator, denominator) == (f.numerator, f.denominator):
                    continue
                rows.append(dict(report_on=published.report_on, program=PROGRAMS[program], measure=measure.label,
                                 county=f.county, published=_exact(f.numerator, f.denominator, measure.unit),
                                 current=_exact(numerator, denominator, measure.unit),
                                 published_value=fmt.percent_value(f.numerator, f.denominator),
                                 current_value=fmt.percent_value(numerator, denominator),
                                 source=describe_sources(imports, published.published_at, f.adcode)))
    columns = ["report_on", "program", "measure", "county", "published", "current", "published_value", "current_value",
               "source"]
    return pd.DataFrame(rows, columns=columns)


def describe_sources(imports: pd.DataFrame, published_at: datetime, adcode: str) -> str:
    """The imports in force recorded after publication that could have changed a county's figure
    (its own files and city-wide ones; any county's for the city row): '第3次导入(11-22 张三)'."""
    # imported_at is UTC text; published_at this server's local time (datetime.now()).
    recorded = pd.to_datetime(imports["imported_at"]).dt.tz_localize("UTC").dt.tz_convert(LOCAL).dt.tz_localize(None)
    after = imports[(recorded >= pd.Timestamp(published_at).floor("s")) & (imports["status"] != "已撤销")]
    if adcode:
        after = after[after["county_adcode"].isna() | (after["county_adcode"] == adcode)]
    return "、".join(f"第{i}次导入({t[5:10]} {w})" for i, t, w in zip(after["id"], after["imported_at"], after["who"]))


def _exact(numerator: int, denominator: int, unit: str) -> str:
    """'769 / 1,322户': exact counts, so a change of one household shows."""
    return f"{int(numerator):,} / {int(denominator):,}{unit}"


def describe_corrections(corrections: pd.DataFrame, limit: int = 5) -> str:
    """'发布后修正:陇县完成率 73.0% → 74.2%;…' for a page note; '' when nothing changed."""
    if corrections.empty:
        return ""
    items = [(f"{r.county}{r.measure} {fmt.format_percent(_share(r.published_value))} → "
              f"{fmt.format_percent(_share(r.current_value))}" if r.published_value != r.current_value
              else f"{r.county}{r.measure} {r.published} → {r.current}") + (f",{r.source}" if r.source else "")
             for r in corrections.head(limit).itertuples()]
    more = f"等{len(corrections)}项" if len(corrections) > limit else ""
    return "发布后修正:" + ";".join(items) + more


def _share(percent) -> float | None:
    return None if percent is None or pd.isna(percent) else percent / 100


def describe_publication(engine: Engine, as_of: date) -> str:
    """For a page header: '本期通报已于2026-11-14 09:30由张科长发布,页面显示发布时的数字;发布后修正:…';
    '' when no report for the date is in force."""
    published = queries.load_published_report(engine, as_of)
    if published is None:
        return ""
    text = (f"本期通报已于{published['published_at']:%Y-%m-%d %H:%M}由{published['published_by']}发布,"
            "排名与主要指标显示发布时的数字")
    corrections = describe_corrections(compute_corrections(engine, as_of, as_of))
    return text + (f";{corrections}" if corrections else "。")
