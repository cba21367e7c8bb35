"""Province scale: page times, the summary's recompute, a county change with refresh, peak memory,
and the same counts by DuckDB and by pandas load-all. Figures are printed, never asserted.

    pip install -r bench/requirements.txt   # DuckDB, for this benchmark only
    python bench/bench_scale.py [--store PATH] [--rebuild] [--repeat N]

The store (SQLite, default /tmp/retrofit_province.db) is built once and reused (rebuilt when the
app would not open it, e.g. after a schema change). It comes from
`python -m retrofit demo --scale province` (陕西省, issue 13) where that exists; else from the city
demo scaled here: its counties cloned 9 times (108 counties) and every household 5 times, every
community 8 times (~2.8M households, ~29.5k communities).

Pages run through Streamlit's AppTest in this process (the server's work per page view): first
after a data change (the revision moves, every cache misses), then warm. Peak RSS is read after
the pages, before DuckDB and pandas load everything.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, update  # noqa: E402

from retrofit import db, demo, queries, report, store, summary  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402

PAGES = ["overview", "renovation", "heating", "ranking", "map", "briefing", "screen"]
COUNTY_CLONES, HOUSEHOLD_COPIES, COMMUNITY_COPIES = 9, 5, 8
DEFAULT_STORE = "/tmp/retrofit_province.db"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# ---- the store ---------------------------------------------------------------------------------

def _clone_text(value: str, clone: int) -> str:
    """A code of the demo city moved to clone `clone` (its adcode prefix 6103 becomes 7x03)."""
    return value.replace("6103", f"{70 + clone}03", 1) if clone else value


def _scaled_rows(rows: dict, clone: int) -> dict:
    """The demo's per-county rows for one clone, households and communities copied."""
    out = {}
    id_step = 1000  # demo ids stay below this
    for table, table_rows in rows.items():
        name = table.name
        if name in ("heating_year", "renovation_batch", "report", "store_meta"):
            out[table] = table_rows if clone == 0 else []
            continue
        if name == "plan_node":
            out[table] = [dict(r, county_adcode=_clone_text(r["county_adcode"], clone)) if r.get("county_adcode")
                          else r for r in table_rows if r.get("county_adcode") or clone == 0]
            continue
        copies = HOUSEHOLD_COPIES if name == "heating_household" else (
            COMMUNITY_COPIES if name in ("renovation_project", "investment_booking") else 1)
        scaled = []
        for n in range(copies):
            for r in table_rows:
                r = dict(r)
                for key in ("adcode", "county_adcode", "township_code", "village_code"):
                    if r.get(key):
                        r[key] = _clone_text(r[key], clone)
                if "code" in r:
                    r["code"] = _clone_text(r["code"], clone) + (f"-{n}" if n else "")
                    if name == "supervision_item" and clone:
                        r["code"] += f"-{clone}"
                if name == "county" and clone:
                    r["name"], r["seq"] = f"{r['name']}{clone}", r["seq"] + 100 * clone
                copy_no = clone * COMMUNITY_COPIES + n
                if name == "renovation_project":
                    r["id"] += copy_no * id_step
                elif name == "investment_booking":
                    r["project_id"] += copy_no * id_step
                elif name == "fund_allocation":
                    r["id"] += clone * COMMUNITY_COPIES * id_step
                elif name == "fund_disbursement":
                    r["allocation_id"] += clone * COMMUNITY_COPIES * id_step
                    r["project_id"] = r["project_id"] and r["project_id"] + clone * COMMUNITY_COPIES * id_step
                elif name == "heating_household":
                    r.pop("id", None)
                scaled.append(r)
        out[table] = scaled
    return out


def build_scaled_store(url: str) -> None:
    """The city demo scaled to a province, written in one transaction, summary refreshed."""
    engine = db.make_engine(url)
    # Generated data, rebuilt on demand: no need to survive a power cut while it is written.
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA synchronous=OFF"))
    rows, meta = demo.build_demo_rows(DEMO_SEED)
    with store.replacing_store(engine, force=True) as conn:
        for clone in range(COUNTY_CLONES):
            scaled = _scaled_rows(rows, clone)
            for table in db.metadata.sorted_tables:
                if scaled.get(table):
                    for start in range(0, len(scaled[table]), 50_000):
                        conn.execute(table.insert(), scaled[table][start:start + 50_000])
            print(f"  clone {clone + 1}/{COUNTY_CLONES} written", flush=True)
        db.write_meta(conn, **dict(meta, city="演示省(城市演示数据放大)"))
        from retrofit.intake.city import match_counties, read_boundaries, store_boundaries
        from retrofit.settings import BOUNDARIES_FILE
        originals = {r["adcode"]: r["name"] for r in rows[db.county]}
        store_boundaries(conn, match_counties(read_boundaries(BOUNDARIES_FILE), originals))
        shapes = dict(conn.execute(select(db.county_boundary.c.adcode, db.county_boundary.c.geojson)).all())
        conn.execute(db.county_boundary.insert(), [
            dict(adcode=_clone_text(a, clone), geojson=g) for clone in range(1, COUNTY_CLONES) for a, g in shapes.items()])
    engine.dispose()


def ensure_province_store(path: str, rebuild: bool) -> str:
    url = f"sqlite:///{path}"
    if Path(path).exists() and not rebuild:
        engine = db.make_engine(url)
        state = store.inspect_store(engine)
        engine.dispose()
        if state.kind != store.READY:  # e.g. built by an older schema: the app would refuse it
            print(f"the store at {path} is not one this program opens ({state.kind}): rebuilding it")
            rebuild = True
    if rebuild or not Path(path).exists():
        Path(path).unlink(missing_ok=True)
        started = time.perf_counter()
        # A separate process, so its memory does not count as the server's below.
        command = [sys.executable, "-m", "retrofit", "demo", "--scale", "province"]
        env = dict(os.environ, RETROFIT_DB_URL=url)
        usage = subprocess.run(command[:4] + ["--help"], env=env, cwd=ROOT, capture_output=True, text=True).stdout
        if "--scale" in usage:
            print("building the province demo (python -m retrofit demo --scale province)")
            subprocess.run(command, env=env, cwd=ROOT, check=True)
        else:
            print("building the city demo scaled to a province (no province builder here yet)")
            subprocess.run([sys.executable, __file__, "--build-only", "--store", path], check=True)
        print(f"store built in {time.perf_counter() - started:.0f} s")
    return url


def describe_store(engine) -> None:
    with engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in (
            db.county, db.renovation_project, db.heating_household, db.heating_summary, db.subsidy_summary,
            db.renovation_summary)}
    size = Path(engine.url.database).stat().st_size / 1e6 if engine.url.database else 0
    print("store: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f"; {size:.0f} MB")


# ---- the summary -------------------------------------------------------------------------------

def change_one_county(engine, adcode: str, day: date) -> tuple[int, float]:
    """A county's data change as an import makes it: 1,000 of its households connected on `day`
    (or back to not connected), the revision bumped and the county's summary refreshed, in one
    transaction. Returns (households changed, seconds)."""
    h = db.heating_household
    started = time.perf_counter()
    with engine.begin() as conn:
        ids = list(conn.execute(select(h.c.id).where(h.c.county_adcode == adcode, h.c.installed_on.is_not(None),
                                                     h.c.installed_on <= day, h.c.status != "取消")
                                .order_by(h.c.id).limit(1000)).scalars())
        connected = conn.execute(select(func.count()).where(h.c.id.in_(ids), h.c.connected_on.is_(None))).scalar()
        conn.execute(update(h).where(h.c.id.in_(ids)).values(connected_on=day if connected else None))
        db.bump_revision(conn)
        summary.refresh_summary(conn, (adcode,))
    return len(ids), time.perf_counter() - started


def bench_summary(engine) -> float:
    with engine.begin() as conn:
        recompute = timed(lambda: summary.refresh_summary(conn))
        db.bump_revision(conn)
        summary.refresh_summary(conn, ())  # marks it current for the new revision, nothing to redo
    print(f"per-revision recompute (whole summary, every plan year): {recompute:.2f} s")
    return recompute


def bench_queries(engine, scope) -> dict[str, float]:
    figures = {}
    cases = {
        "heating progress, one date (summary)": lambda: queries.load_heating_progress(
            engine, scope.plan_year, scope.as_of, from_facts=False),
        "heating progress, one date (from facts)": lambda: queries.load_heating_progress(
            engine, scope.plan_year, scope.as_of, from_facts=True),
        "headline (all measures)": lambda: report.compute_headline(engine, scope),
        "trend over 12 report dates": lambda: report.compute_trend(
            engine, "heating", "completion_rate", scope, queries.load_report_dates(engine)[-12:]),
        "laggards": lambda: report.compute_laggards(engine, scope),
    }
    for name, action in cases.items():
        figures[name] = statistics.median(timed(action) for _ in range(3))
        print(f"  {name:<45} {figures[name] * 1000:8.1f} ms")
    return figures


# ---- pages -------------------------------------------------------------------------------------

def sign_in_as_leader(engine, app) -> None:
    """Sign the AppTest session in (else every page is the login page): the demo's leader where
    the store has the demo accounts, else a bench account made for it."""
    if not any(t.key == "login_name" for t in app.text_input):
        return
    from retrofit import accounts
    from retrofit.accounts import ADMIN, LEADER, Access
    login, password = "leader", accounts.DEMO_PASSWORD
    with engine.connect() as conn:
        known = conn.execute(select(db.account.c.login).where(db.account.c.login == login)).first()
    if known is None:
        login, password = "bench_leader", "bench-leader-password"
        with engine.connect() as conn:
            made = conn.execute(select(db.account.c.login).where(db.account.c.login == login)).first()
        if made is None:
            accounts.add_account(engine, Access(who="bench", role=ADMIN, source="bench"), login, "基准测试", LEADER,
                                 password=password, must_change=False)
    app.text_input(key="login_name").input(login)
    app.text_input(key="login_password").input(password)
    next(b for b in app.button if b.label == "登录").click().run()
    if any(t.key == "login_name" for t in app.text_input):
        raise SystemExit(f"could not sign in as {login}: the page times would be the login page's")


def bench_pages(engine, url: str, repeat: int) -> dict[str, tuple[float, float]]:
    from streamlit.testing.v1 import AppTest

    os.environ["RETROFIT_DB_URL"] = url
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    print(f"cold start to first page (imports, engine, overview): {timed(app.run):.2f} s")
    sign_in_as_leader(engine, app)
    adcode = queries.load_counties(engine)["adcode"].iloc[0]
    times = {}
    from retrofit import ui
    for page in PAGES:
        change_one_county(engine, adcode, db.load_data_date(engine))
        ui.refresh_store()  # as an import through this server does: the page sees the change at once
        cold = timed(lambda page=page: app.switch_page(f"pages/{page}.py").run())
        warm = statistics.median(timed(app.run) for _ in range(repeat))
        failed = f"   ({len(app.exception)} exception(s): {app.exception[0].message[:80]})" if app.exception else ""
        print(f"  {page:<12} after a data change {cold:6.2f} s   warm {warm * 1000:7.0f} ms{failed}")
        times[page] = (cold, warm)
    return times


# ---- the same counts elsewhere -----------------------------------------------------------------

HOUSEHOLD_COLUMNS = ["county_adcode", "route", "plan_year", "status", "status_on", "confirmed_on", "tendered_on",
                     "installed_on", "connected_on", "subsidy_yuan"]


def bench_pandas_and_duckdb(engine, scope, ours: dict[str, float], recompute: float,
                            pages: dict[str, tuple[float, float]]) -> None:
    import duckdb
    import pandas as pd

    year, until = scope.plan_year, queries.compute_counted_until(engine, scope.plan_year, scope.as_of)
    previous = queries.load_deadlines(engine, "heating", year - 1).get("connected_deadline")
    h = db.heating_household
    started = time.perf_counter()
    with engine.connect() as conn:
        frame = pd.read_sql(select(*[h.c[c] for c in HOUSEHOLD_COLUMNS]), conn,
                            parse_dates=[c for c in HOUSEHOLD_COLUMNS if c.endswith("_on")])
    load = time.perf_counter() - started

    def pandas_counts():
        settled = (frame["connected_on"] <= pd.Timestamp(previous)) | (
            (frame["status"] == "取消") & (frame["status_on"] <= pd.Timestamp(previous)))
        task = frame[(frame["plan_year"] == year) | ((frame["plan_year"] < year) & ~settled)]
        cancelled = (task["status"] == "取消") & (task["status_on"] <= pd.Timestamp(until))
        live = task[~cancelled]
        return pd.DataFrame({
            "task_households": task.groupby("county_adcode").size(),
            "cancelled_households": cancelled.groupby(task["county_adcode"]).sum(),
            **{f"{m}_households": (live[f"{m}_on"] <= pd.Timestamp(until)).groupby(live["county_adcode"]).sum()
               for m in ("confirmed", "tendered", "installed", "connected")}})

    pandas_compute = statistics.median(timed(pandas_counts) for _ in range(3))
    print(f"pandas: load every household {load:.2f} s, then the per-county counts {pandas_compute * 1000:.0f} ms")

    duck = duckdb.connect()
    duck.register("households_frame", frame)
    duck.execute("CREATE TABLE heating_household AS SELECT * FROM households_frame")
    milestone_sums = ", ".join(
        f"SUM(CASE WHEN {m}_on <= DATE '{until}' AND NOT COALESCE(status = '取消' AND status_on <= DATE '{until}', "
        f"false) THEN 1 ELSE 0 END) AS {m}_households" for m in ("confirmed", "tendered", "installed", "connected"))
    counts_sql = (f"SELECT county_adcode, COUNT(*) AS task_households, {milestone_sums} FROM heating_household "
                  f"WHERE plan_year = {year} OR (plan_year < {year} AND NOT COALESCE(connected_on <= DATE '{previous}' "
                  f"OR (status = '取消' AND status_on <= DATE '{previous}'), false)) GROUP BY county_adcode")
    duck_counts = statistics.median(timed(lambda: duck.execute(counts_sql).fetchall()) for _ in range(3))
    # The summary's work in DuckDB: per county, route and day, every milestone's increments.
    events = " UNION ALL ".join(
        f"SELECT county_adcode, route, {m}_on AS day, COUNT(*) AS n FROM heating_household "
        f"WHERE {m}_on IS NOT NULL GROUP BY ALL" for m in ("confirmed", "tendered", "installed", "connected"))
    duck_summary = statistics.median(timed(lambda: duck.execute(
        f"SELECT county_adcode, route, day, SUM(n) FROM ({events}) GROUP BY ALL").fetchall()) for _ in range(3))
    print(f"DuckDB (in memory, after the pandas load): per-county counts {duck_counts * 1000:.0f} ms, "
          f"per-day milestone increments {duck_summary * 1000:.0f} ms")
    summary_read = ours["heating progress, one date (summary)"]
    facts_read = ours["heating progress, one date (from facts)"]
    print("ratios:")
    print(f"  per-county counts, from facts / DuckDB:       {facts_read / duck_counts:6.1f}x")
    print(f"  per-county counts, summary / DuckDB:          {summary_read / duck_counts:6.2f}x")
    print(f"  whole-summary recompute / DuckDB increments:  {recompute / duck_summary:6.1f}x")
    pandas_view = load + pandas_compute
    slowest_warm = max(w for _, w in pages.values()) if pages else float("nan")
    slowest_cold = max(c for c, _ in pages.values()) if pages else float("nan")
    print(f"  pandas load-all ({pandas_view:.1f} s) / slowest warm page view: {pandas_view / slowest_warm:6.0f}x")
    print(f"  pandas load-all / slowest first view after a change:     {pandas_view / slowest_cold:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE, help="SQLite file of the province store")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.build_only:
        build_scaled_store(f"sqlite:///{args.store}")
        return
    url = ensure_province_store(args.store, args.rebuild)
    engine = db.make_engine(url)
    recompute = bench_summary(engine)
    describe_store(engine)
    adcode = queries.load_counties(engine)["adcode"].iloc[-1]
    changed, seconds = change_one_county(engine, adcode, db.load_data_date(engine))
    print(f"one county's change ({changed} households) with its summary refresh, committed: {seconds:.2f} s")
    scope = report.Scope(db.load_data_date(engine))
    print("queries:")
    ours = bench_queries(engine, scope)
    pages = {} if args.skip_pages else bench_pages(engine, url, args.repeat)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (the server's work: queries and pages): {peak_mb:.0f} MB")
    bench_pandas_and_duckdb(engine, scope, ours, recompute, pages)
    engine.dispose()


if __name__ == "__main__":
    main()
