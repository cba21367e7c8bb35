"""How long checking and importing county files takes (issue 10 asks: a 100,000-row heating
household file in 10 s end to end with peak RSS under 500 MB; a 2,000-row renovation file in
2 s), on SQLite and, with --pg URL (or $RETROFIT_TEST_PG_URL), on PostgreSQL.

    python bench/bench_import.py [--households 100000] [--communities 2000] [--pg URL]

The demo city is built once per database and the files written first (not timed); each case
then runs in a fresh process: reading + validation, the preview (a rolled-back transaction with
the measures before and after), the import, and its undo (which restores the store). Peak RSS
is the child process's (imports included). Figures are printed, never asserted.
"""
import argparse
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrofit import db, demo  # noqa: E402
from retrofit.accounts import ADMIN, Access  # noqa: E402
from retrofit.demo import DEMO_DATA_DATE  # noqa: E402
from retrofit.intake import commit, validate  # noqa: E402
from retrofit.intake.sheets import HOUSEHOLD_SHEET, PROJECT_SHEET  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402
from retrofit.vocab import ROUTES  # noqa: E402

COUNTY = "610327"  # 陇县


def _places(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return conn.execute(db.select(db.township.c.name, db.village.c.name).join(
            db.village, db.village.c.township_code == db.township.c.code)
            .where(db.township.c.county_adcode == COUNTY)).all()


def household_file(engine, rows: int) -> bytes:
    """`rows` new 陇县 households of 2026 across its villages, as xlsx (xlsxwriter, dates as dates)."""
    import xlsxwriter

    places = _places(engine)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("一户一档")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [f.header for f in HOUSEHOLD_SHEET.fields])
    for n in range(rows):
        town, village = places[n % len(places)]
        confirmed = date(2026, 3, 1) + timedelta(days=n % 40)
        values = [f"BENCH-{n:07d}", "陇县", town, village, 2026, "王建国", f"139{n % 10_000_0000:08d}",
                  ROUTES[n % len(ROUTES)], 9000, 6000, 900, 1800, "正常使用", None,
                  confirmed, confirmed + timedelta(days=30), confirmed + timedelta(days=120),
                  confirmed + timedelta(days=130) if n % 3 else None]
        _write_row(sheet, n + 1, values, day)
    book.close()
    return out.getvalue()


def _write_row(sheet, row: int, values: list, day) -> None:
    """Dates as Excel dates (as a county's file has them), empty cells left out."""
    for col, value in enumerate(values):
        if isinstance(value, date):
            sheet.write_datetime(row, col, value, day)
        elif value is not None:
            sheet.write(row, col, value)


def community_file(rows: int) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("小区台账")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    headers = [f.header for f in PROJECT_SHEET.fields]
    sheet.write_row(0, 0, headers)
    for n in range(rows):
        row = {"项目编码": f"BENCH-P{n:05d}", "县(市、区)": "陇县", "计划批次": 2026, "街道": "城关镇",
               "小区名称": f"测试{n}小区", "经度": 106.865, "纬度": 34.893, "建成年份": 1995, "楼栋数(栋)": 5,
               "户数(户)": 150, "建筑面积(㎡)": 10_000, "物业类型": "无物业", "改造类型": "基础完善型",
               "计划投资(万元)": 480.5, "储备实际日期": date(2025, 10, 1), "前期手续实际日期": date(2026, 2, 1),
               "招投标实际日期": date(2026, 3, 1), "开工实际日期": date(2026, 4, 1)}
        _write_row(sheet, n + 1, [row.get(h) for h in headers], day)
    book.close()
    return out.getvalue()


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: on Linux that survives fork and
    exec, so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BENCH = Access(who="bench", role=ADMIN)


def run_case(url: str, kind: str, path: str, queue) -> None:
    """In a fresh process: check, preview, import and undo one file; times and peak RSS."""
    engine = db.make_engine(url)
    content = Path(path).read_bytes()
    start = time.perf_counter()
    result = validate.check_file(engine, content, f"{kind}.xlsx", DEMO_DATA_DATE)
    checked = time.perf_counter()
    assert result.ok, result.error_table().head().to_string()
    preview = commit.build_preview(engine, result, BENCH)
    previewed = time.perf_counter()
    log_id = commit.commit_import(engine, result, BENCH)
    imported = time.perf_counter()
    commit.undo_import(engine, log_id, BENCH)
    undone = time.perf_counter()
    rss_mb = peak_rss_mb()
    queue.put(dict(rows=len(result.sheets[0].frame), size_mb=len(content) / 1024 / 1024, check=checked - start,
                   preview=previewed - checked, commit=imported - previewed, undo=undone - imported,
                   rss_mb=rss_mb, inserted=preview.counts["inserted"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--communities", type=int, default=2_000)
    parser.add_argument("--pg", default=os.environ.get("RETROFIT_TEST_PG_URL"), help="PostgreSQL URL (emptied!)")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{folder}/bench.db"
        demo.build_demo(db.make_engine(sqlite_url), DEMO_SEED)
        files = {"heating": Path(folder) / "heating.xlsx", "renovation": Path(folder) / "renovation.xlsx"}
        files["heating"].write_bytes(household_file(db.make_engine(sqlite_url), args.households))
        files["renovation"].write_bytes(community_file(args.communities))
        backends = [("sqlite", sqlite_url)]
        if args.pg:
            demo.build_demo(db.make_engine(args.pg), DEMO_SEED)
            backends.append(("postgresql", args.pg))
        print(f"机器负载(1分钟平均):{os.getloadavg()[0]:.1f},CPU {os.cpu_count()} 核")
        print(f"{'库':<11}{'文件':<11}{'行数':>8}{'大小MB':>8}{'校验s':>8}{'预览s':>8}{'导入s':>8}{'校验+导入s':>11}"
              f"{'撤销s':>8}{'峰值RSS MB':>11}")
        for backend, url in backends:
            for kind, path in files.items():
                queue = context.Queue()
                child = context.Process(target=run_case, args=(url, kind, str(path), queue))
                child.start()
                child.join()
                if child.exitcode != 0 or queue.empty():
                    print(f"{backend:<11}{kind:<11}子进程失败(退出码 {child.exitcode})")
                    continue
                f = queue.get()
                print(f"{backend:<11}{kind:<11}{f['rows']:>8,}{f['size_mb']:>8.1f}{f['check']:>8.2f}{f['preview']:>8.2f}"
                      f"{f['commit']:>8.2f}{f['check'] + f['commit']:>11.2f}{f['undo']:>8.2f}{f['rss_mb']:>11.0f}")


if __name__ == "__main__":
    main()
