"""How long the briefing pack takes for the demo city (the issue asks for under 30 seconds).

    python bench/bench_pack.py [--repeat N]

Builds the demo city in a temporary SQLite file, then each pack format N times, and prints the
seconds (first run includes starting the shared Chromium for the map pictures). Figures are
printed, never asserted.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrofit import db, demo, exports, pack, report  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        demo.build_demo(engine, DEMO_SEED)
        scope = report.Scope(demo.DEMO_DATA_DATE)
        previous = report.previous_report_date(engine, scope.as_of)
        print(f"demo city, data date {scope.as_of}, previous report {previous}, Chromium {exports.find_chromium()}")
        for kind in pack.PACK_FORMATS:
            seconds, size = [], 0
            for _ in range(args.repeat):
                start = time.perf_counter()
                size = len(pack.build_pack(engine, scope, previous, kind))
                seconds.append(time.perf_counter() - start)
            print(f"{kind:5} {size / 1024:8,.0f} KB  first {seconds[0]:5.1f} s  "
                  f"median {statistics.median(seconds):5.1f} s  ({args.repeat} runs)")
        start = time.perf_counter()
        content = pack.load_pack_content(engine, scope, previous)
        print(f"notice and rankings alone: {time.perf_counter() - start:.1f} s "
              f"({len(content.notice.text):,} characters of notice)")


if __name__ == "__main__":
    main()
