"""Province scale: page times, the summary's recompute, a county change with refresh, peak memory,
and the same counts by DuckDB and by pandas load-all. Figures are printed, never asserted.

    pip install -r bench/requirements.txt   # DuckDB, for this benchmark only
    python bench/bench_scale.py [--store PATH | --url URL] [--rebuild] [--repeat N]

The store (SQLite, default /tmp/retrofit_province.db; or the database at --url, e.g. an empty
PostgreSQL database) is built once and reused (rebuilt when the app would not open it, e.g. after
a schema change), by `python -m retrofit demo --scale province` (陕西省: 107 counties, ~30k
communities, ~3M households) in a separate process.

Pages run through Streamlit's AppTest in this process (the server's work per page view), signed in
as the demo admin through the login form: first after a data change (the revision moves, every
cache misses), then warm; each the median of --repeat views, a first view after its own change.
On PostgreSQL the store is vacuumed and analysed after the recompute (settle), as autovacuum
would be by the time anyone reads it. Peak RSS is read after the pages, before DuckDB and pandas load everything.
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

from sqlalchemy import func, make_url, select, update  # noqa: E402

from retrofit import accounts, db, queries, report, store, summary  # noqa: E402

PAGES = ["overview", "renovation", "heating", "ranking", "map", "briefing", "screen"]
DEFAULT_STORE = "/tmp/retrofit_province.db"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# ---- the store ---------------------------------------------------------------------------------

def ensure_province_store(url: str, rebuild: bool) -> str:
    path = make_url(url).database if url.startswith("sqlite") else None
    exists = Path(path).exists() if path else True
    if exists and not rebuild:
        engine = db.make_engine(url)
        state = store.inspect_store(engine)
        engine.dispose()
        if state.kind != store.READY:  # e.g. empty, or built by an older schema: the app would refuse it
            print(f"the store at {url} is not one this program opens ({state.kind}): building it")
            rebuild = True
    if rebuild or not exists:
        if path:
            Path(path).unlink(missing_ok=True)
        started = time.perf_counter()
        # A separate process, so its memory does not count as the server's below.
        command = [sys.executable, "-m", "retrofit", "demo", "--scale", "province", "--force"]
        env = dict(os.environ, RETROFIT_DB_URL=url)
        print("building the province demo (python -m retrofit demo --scale province)", flush=True)
        subprocess.run(command, env=env, cwd=ROOT, check=True)
        print(f"store built in {time.perf_counter() - started:.0f} s")
    return url


def describe_store(engine) -> None:
    with engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in (
            db.county, db.renovation_project, db.heating_household, db.heating_summary, db.subsidy_summary,
            db.renovation_summary)}
    if engine.dialect.name == "sqlite":
        size = Path(engine.url.database).stat().st_size / 1e6
    else:
        with engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() / 1e6
    print(f"store ({engine.dialect.name}): " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
          + f"; {size:.0f} MB")


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


def bench_summary(engine) -> dict[str, float]:
    """The whole summary rebuilt from the facts (every county, every plan year), and each of its
    three statements alone; the transaction is rolled back."""
    figures = {}
    with engine.connect() as conn:
        cpu = time.process_time()
        figures["whole"] = timed(lambda: summary.refresh_summary(conn))
        cpu = time.process_time() - cpu   # SQLite works in this process: its CPU time, whatever the load
        for build in (summary._heating_rows, summary._subsidy_rows, summary._renovation_rows):
            table, statement = build(None, conn.dialect.name)
            conn.execute(table.delete())
            figures[table.name] = timed(lambda table=table, statement=statement: conn.execute(
                table.insert().from_select(list(statement.selected_columns.keys()), statement)))
        conn.rollback()
    print(f"per-revision recompute (whole summary, every plan year): {figures['whole']:.2f} s  ("
          + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items() if k != "whole") + ")"
          + (f"; CPU of this process {cpu:.2f} s" if engine.dialect.name == "sqlite" else ""))
    return figures


def settle(engine) -> None:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum does within a minute or two of a large change.
    A fresh build leaves three million households for it to visit, and the recompute just rolled
    back leaves a million dead summary rows; pages timed while autovacuum works through them, or
    before it has, measure the timing's bad luck rather than the pages."""
    if engine.dialect.name != "postgresql":
        return
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE (PostgreSQL) after the build and the recompute: {time.perf_counter() - started:.1f} s")


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


COLD_START = """
import sys, time
started = float(sys.argv[1])
from streamlit.testing.v1 import AppTest
app = AppTest.from_file(sys.argv[2], default_timeout=600)
app.run()
app.text_input(key="login_name").input("admin")
app.text_input(key="login_password").input(sys.argv[3])
next(b for b in app.button if b.label == "登录").click().run()
print(time.time() - started, len(app.metric), len(app.exception))
"""


def bench_cold_start(url: str) -> float:
    """A fresh Python process from its start to the overview drawn (AppTest: imports, engine,
    sign-in, overview; the Streamlit server's own start, ~1.5 s, and the browser not included)."""
    env = dict(os.environ, RETROFIT_DB_URL=url)
    out = subprocess.run([sys.executable, "-c", COLD_START, str(time.time()), str(ROOT / "app.py"),
                          accounts.DEMO_PASSWORD], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, metrics, exceptions = out.stdout.split()[-3:]
    print(f"cold start to first page, fresh process (imports, engine, sign-in, overview): {float(seconds):.2f} s"
          + ("" if int(metrics) and not int(exceptions) else "  (the overview did not run)"))
    return float(seconds)


def bench_pages(engine, url: str, repeat: int) -> dict[str, tuple[float, float]]:
    from streamlit.testing.v1 import AppTest

    os.environ["RETROFIT_DB_URL"] = url
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    def first_page():
        app.run()   # the login page (imports, engine); signing in then runs the overview
        sign_in_as_leader(engine, app)

    print(f"first page in this process (modules already imported): {timed(first_page):.2f} s")
    if app.exception or not app.metric:
        print(f"  the overview did not run: {[e.message[:80] for e in app.exception]}")
    adcode = queries.load_counties(engine)["adcode"].iloc[0]
    times = {}
    from retrofit import ui
    def first_view(page: str) -> float:
        change_one_county(engine, adcode, db.load_data_date(engine))
        ui.refresh_store()  # as an import through this server does: the page sees the change at once
        return timed(lambda: app.switch_page(f"pages/{page}.py").run())

    for page in PAGES:
        # The median of `repeat` first views, each after its own change: one is the timing's luck.
        cold = statistics.median(first_view(page) for _ in range(repeat))
        warm = statistics.median(timed(app.run) for _ in range(repeat))
        failed = f"   ({len(app.exception)} exception(s): {app.exception[0].message[:80]})" if app.exception else ""
        print(f"  {page:<12} after a data change {cold:6.2f} s   warm {warm * 1000:7.0f} ms{failed}")
        times[page] = (cold, warm)
    return times


# ---- the same counts elsewhere -----------------------------------------------------------------

HOUSEHOLD_COLUMNS = ["county_adcode", "route", "plan_year", "status", "status_on", "confirmed_on", "tendered_on",
                     "installed_on", "connected_on", "equipment_cost_yuan", "subsidy_yuan", "running_cost_yuan",
                     "coal_cost_yuan"]
MILESTONE_KEYS = ("confirmed", "tendered", "installed", "connected")
COSTS = ("equipment_cost_yuan", "subsidy_yuan", "running_cost_yuan", "coal_cost_yuan")


def duckdb_heating_summary_sql() -> str:
    """The heating summary's counts in DuckDB, by the summary's rules (summary.py): task members
    (own plan year, and carried into the next while neither connected nor cancelled by a year's
    deadline), events per county, route and day, running totals in day order."""
    zeros = {c: "0" for c in ("task", "carried", "idle", "cancelled", *MILESTONE_KEYS, *COSTS)}

    def grouped(day: str, values: dict, where: str = "true") -> str:
        cols = ", ".join(f"{values.get(c, v)} AS {c}" for c, v in zeros.items())
        return f"SELECT task_year, county_adcode, route, {day} AS day, {cols} FROM t WHERE {where} GROUP BY ALL"

    cancelled = "status = '取消'"
    events = [grouped("DATE '1900-01-01'", {"task": "COUNT(*)", "carried": "SUM(CASE WHEN plan_year < task_year "
                                                                              "THEN 1 ELSE 0 END)",
                                          **{c: f"SUM({c})" for c in COSTS}}),
              grouped("status_on", {"idle": "SUM(CASE WHEN status = '闲置' THEN 1 ELSE 0 END)",
                                  "cancelled": f"SUM(CASE WHEN {cancelled} THEN 1 ELSE 0 END)",
                                  **{m: f"-SUM(CASE WHEN {cancelled} AND {m}_on < status_on THEN 1 ELSE 0 END)"
                                     for m in MILESTONE_KEYS}},
                    "status_on IS NOT NULL AND status IN ('闲置', '取消')")]
    events += [grouped(f"{m}_on", {m: "COUNT(*)"},
                     f"{m}_on IS NOT NULL AND (NOT {cancelled} OR status_on IS NULL OR {m}_on < status_on)")
               for m in MILESTONE_KEYS]
    sums = ", ".join(f"SUM({c}) AS {c}" for c in zeros)
    running = ", ".join(f"SUM({c}) OVER (PARTITION BY task_year, county_adcode, route ORDER BY day) AS {c}"
                        for c in zeros)
    return f"""
        WITH t AS (
            SELECT *, plan_year AS task_year FROM heating_household
            UNION ALL
            SELECT h.*, y.year + 1 AS task_year FROM heating_household h JOIN heating_year y ON h.plan_year <= y.year
            WHERE NOT COALESCE(h.connected_on <= y.connected_deadline
                               OR (h.status = '取消' AND h.status_on <= y.connected_deadline), false)),
        increments AS (SELECT task_year, county_adcode, route, day, {sums}
                       FROM ({" UNION ALL ".join(events)}) GROUP BY ALL)
        SELECT task_year, county_adcode, route, day, {running} FROM increments"""


def compare_heating_summaries(engine, duck_rows) -> tuple[int, int, int]:
    """DuckDB's heating summary against the store's, read now (the store's row count printed at
    the start is from before this run's county changes, which carry households into later
    years and so add rows): (DuckDB's rows, the store's rows, rows in one and not the other or
    with other figures)."""
    import pandas as pd

    with engine.connect() as conn:
        ours = pd.read_sql(select(db.heating_summary), conn)
    names = {k: f"{k}_households" for k in ("task", "carried", "idle", "cancelled", *MILESTONE_KEYS)}
    theirs = duck_rows.rename(columns=names)
    for frame in (ours, theirs):
        frame["day"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d")
    keys = ["task_year", "county_adcode", "route", "day"]
    both = theirs.merge(ours, on=keys, how="outer", suffixes=("_duckdb", "_store"), indicator=True)
    figures = [c for c in ours.columns if c not in keys]
    same = (both["_merge"] == "both") & (both[[f"{c}_duckdb" for c in figures]].to_numpy(dtype="float64")
                                         == both[[f"{c}_store" for c in figures]].to_numpy(dtype="float64")).all(axis=1)
    return len(theirs), len(ours), int((~same).sum())


def bench_pandas_and_duckdb(engine, scope, ours: dict[str, float], recompute: dict[str, float],
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
    y = db.heating_year
    with engine.connect() as conn:
        years = pd.read_sql(select(y.c.year, y.c.connected_deadline), conn, parse_dates=["connected_deadline"])
    duck.register("years_frame", years)
    duck.execute("CREATE TABLE heating_year AS SELECT year, CAST(connected_deadline AS DATE) AS connected_deadline "
                 "FROM years_frame")
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
    heating_sql = duckdb_heating_summary_sql()
    rows, stored, differing = compare_heating_summaries(engine, duck.execute(heating_sql).df())
    duck_heating = statistics.median(timed(lambda: duck.execute(heating_sql).fetchall()) for _ in range(3))
    print(f"DuckDB (in memory, after the pandas load): per-county counts {duck_counts * 1000:.0f} ms, "
          f"per-day milestone increments {duck_summary * 1000:.0f} ms, "
          f"the heating summary by the summary's rules ({rows:,} rows) {duck_heating * 1000:.0f} ms")
    print(f"  the store's heating summary for the same data (after this run's county changes): {stored:,} rows, "
          f"{differing:,} rows differing from DuckDB's")
    summary_read = ours["heating progress, one date (summary)"]
    facts_read = ours["heating progress, one date (from facts)"]
    print("ratios:")
    print(f"  per-county counts, from facts / DuckDB:       {facts_read / duck_counts:6.1f}x")
    print(f"  per-county counts, summary / DuckDB:          {summary_read / duck_counts:6.2f}x")
    print(f"  heating summary recompute / DuckDB, same counts: {recompute['heating_summary'] / duck_heating:6.1f}x")
    print(f"  whole-summary recompute / DuckDB increments:  {recompute['whole'] / duck_summary:6.1f}x")
    pandas_view = load + pandas_compute
    slowest_warm = max(w for _, w in pages.values()) if pages else float("nan")
    slowest_cold = max(c for c, _ in pages.values()) if pages else float("nan")
    print(f"  pandas load-all ({pandas_view:.1f} s) / slowest warm page view: {pandas_view / slowest_warm:6.0f}x")
    print(f"  pandas load-all / slowest first view after a change:     {pandas_view / slowest_cold:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE, help="SQLite file of the province store")
    parser.add_argument("--url", help="database URL of the province store instead (e.g. PostgreSQL)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = ensure_province_store(args.url or f"sqlite:///{args.store}", args.rebuild)
    engine = db.make_engine(url)
    recompute = bench_summary(engine)
    settle(engine)
    describe_store(engine)
    adcode = queries.load_counties(engine)["adcode"].iloc[-1]
    changed, seconds = change_one_county(engine, adcode, db.load_data_date(engine))
    print(f"one county's change ({changed} households) with its summary refresh, committed: {seconds:.2f} s")
    scope = report.Scope(db.load_data_date(engine))
    print("queries:")
    ours = bench_queries(engine, scope)
    if not args.skip_pages:
        bench_cold_start(url)
    pages = {} if args.skip_pages else bench_pages(engine, url, args.repeat)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (the server's work: queries and pages): {peak_mb:.0f} MB")
    bench_pandas_and_duckdb(engine, scope, ours, recompute, pages)
    engine.dispose()


if __name__ == "__main__":
    main()
