"""Server time of every page on the demo city, and the cost of building the demo and of the
main queries. Figures are printed, never asserted.

    python bench/bench_pages.py [--repeat N] [--url postgresql+psycopg://…]

Page times are one script run through Streamlit's AppTest (the work the server does per page
view: queries, figures, tables), first cold (empty caches) then warm (cached results).
"""
import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrofit import db, demo, queries, report  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402

PAGES = ["overview", "renovation", "heating", "ranking", "map", "briefing", "screen"]


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench_store(url: str) -> None:
    engine = db.make_engine(url)
    print(f"demo city built in {timed(lambda: demo.build_demo(engine, DEMO_SEED)):.1f} s")
    scope = report.Scope(demo.DEMO_DATA_DATE)
    cases = {
        "heating progress (GROUP BY over all households)": lambda: queries.load_heating_progress(
            engine, scope.plan_year, scope.as_of),
        "village progress": lambda: queries.load_village_progress(engine, scope.plan_year, scope.as_of),
        "headline (all measures)": lambda: report.compute_headline(engine, scope),
        "ranking with previous report": lambda: report.rank_measure(engine, "heating", "completion_rate", scope,
                                                                     report.previous_report_date(engine, scope.as_of)),
        "laggards": lambda: report.compute_laggards(engine, scope),
    }
    for name, action in cases.items():
        runs = [timed(action) for _ in range(3)]
        print(f"  {name:<50} {statistics.median(runs) * 1000:7.1f} ms")


def bench_pages(url: str, repeat: int) -> None:
    from streamlit.testing.v1 import AppTest
    os.environ["RETROFIT_DB_URL"] = url
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    first = timed(app.run)
    print(f"first run (imports, engine, overview, cold caches): {first:.2f} s")
    for page in PAGES:
        cold = timed(lambda page=page: app.switch_page(f"pages/{page}.py").run())
        warm = statistics.median(timed(app.run) for _ in range(repeat))
        print(f"  {page:<12} cold {cold:5.2f} s   warm {warm:5.2f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="a store to (re)build the demo in, e.g. an empty PostgreSQL database; "
                        "default a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        bench_store(url)
        bench_pages(url, args.repeat)


if __name__ == "__main__":
    main()
