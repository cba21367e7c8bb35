"""Files out and data in: exports appear whole or not at all, the output path is checked before
any work, stored text never becomes a formula, a full phone number never enters the store."""
import io
import os
import re
import resource
import threading
from datetime import date

import openpyxl
import pandas as pd
import pytest
from builders import LEADER, NORTH, add_village
from sqlalchemy.exc import DataError, IntegrityError

from retrofit import charts, db, exports, files, pack, queries, report, tables
from retrofit.cli import main
from retrofit.demo import DEMO_DATA_DATE

META = charts.ChartMeta(DEMO_DATA_DATE, is_demo=True)
FULL_PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")


# ---- atomic files -------------------------------------------------------------------------------

def test_a_reader_sees_the_old_file_or_the_new_one_never_a_partial_one(tmp_path):
    target = tmp_path / "汇报材料.docx"
    versions = [os.urandom(3_000_000), os.urandom(2_000_000)]
    files.write_atomically(target, versions[0])
    done, seen = threading.Event(), []

    def reader():
        while not done.is_set():
            seen.append(target.read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    for n in range(40):
        files.write_atomically(target, versions[n % 2])
    done.set()
    thread.join()
    assert len(seen) > 10
    assert all(content in versions for content in seen)  # never empty, never cut short
    assert os.listdir(tmp_path) == ["汇报材料.docx"]  # no temporary file left


def test_a_failed_write_leaves_the_previous_good_file(tmp_path):
    target = tmp_path / "汇报材料.docx"
    good = os.urandom(40_000)
    files.write_atomically(target, good)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, hard))  # as a full disk (`ulimit -f 16`)
    try:
        with pytest.raises(OSError):
            files.write_atomically(target, os.urandom(100_000))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert target.read_bytes() == good
    assert os.listdir(tmp_path) == ["汇报材料.docx"]


def test_an_export_keeps_the_files_permissions(tmp_path):
    target = tmp_path / "表.xlsx"
    target.write_bytes(b"old")
    target.chmod(0o640)
    files.write_atomically(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640


# ---- the CLI's output path ----------------------------------------------------------------------

@pytest.fixture
def no_pack_building(monkeypatch, demo_url):
    """Building a pack fails the test: a bad path must be refused before any work."""
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)

    def refuse(*_args, **_kwargs):
        raise AssertionError("the pack was built before the output path was checked")

    monkeypatch.setattr(pack, "build_pack", refuse)


@pytest.mark.parametrize("where, says", [
    ("/proc/x.docx", "无法在文件夹“/proc”中写入"),
    ("{tmp}", "是一个文件夹"),
    ("{tmp}/missing/x.pptx", "不存在"),
    ("/sys/x.pptx", "无法在文件夹“/sys”中写入"),
    ("/dev/null", "类型不支持"),
])
def test_an_output_path_that_cannot_be_written_is_refused_before_building(no_pack_building, tmp_path, capsys,
                                                                           where, says):
    path = where.format(tmp=tmp_path)
    if path == str(tmp_path):
        path = str(tmp_path / "pack.docx")
        os.mkdir(path)
    assert main(["export", "pack", "--out", path]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_a_failed_pack_write_exits_2_and_keeps_the_old_pack(monkeypatch, demo_url, tmp_path, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    target = tmp_path / "汇报材料.docx"
    target.write_bytes(b"the good pack")
    monkeypatch.setattr(pack, "build_pack", lambda *_a, **_k: os.urandom(100_000))

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    assert main(["export", "pack", "--out", str(target)]) == 2
    assert "原有文件未改动" in capsys.readouterr().err
    assert target.read_bytes() == b"the good pack"
    assert os.listdir(tmp_path) == ["汇报材料.docx"]


# ---- formulas in spreadsheets -------------------------------------------------------------------

HOSTILE = pd.DataFrame({"小区": ["=1+1", "+SUM(A1)", "-HYPERLINK(\"http://host\")", "@cmd", "\t=1", "\r=1",
                                 "平安小区"],
                        "差距": ["-3.2", "+12%", "—", "0", "1", "2", "3"], "户数": [1, 2, 3, 4, 5, 6, -7]})


def test_formula_text_is_quoted_in_csv_and_numbers_are_left_alone():
    back = pd.read_csv(io.BytesIO(exports.build_table_csv(HOSTILE)), encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert back["小区"].tolist()[:4] == ["'=1+1", "'+SUM(A1)", "'-HYPERLINK(\"http://host\")", "'@cmd"]
    assert back["小区"].tolist()[6] == "平安小区"
    assert back["差距"].tolist()[:2] == ["-3.2", "+12%"]
    assert back["户数"].tolist()[-1] == "-7"


def test_formula_text_is_a_text_cell_in_xlsx():
    workbook = openpyxl.load_workbook(io.BytesIO(exports.build_table_xlsx({"小区": HOSTILE}, "=标题", META)))
    ws = workbook.active
    cells = [ws.cell(exports.HEADER_ROW + 1 + i, 1) for i in range(len(HOSTILE))]
    assert [c.value for c in cells] == HOSTILE["小区"].tolist()
    assert all(c.data_type == "s" for c in cells)  # not "f": nothing is evaluated
    assert ws["A1"].data_type == "s"


def test_the_rank_command_csv_quotes_a_formula_county_name(demo_url, tmp_path, monkeypatch, capsys):
    from builders import copy_sqlite_store

    url = copy_sqlite_store(demo_url, tmp_path / "store.db")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(db.county.update().where(db.county.c.adcode == "610327").values(name="=1+1"))
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    assert main(["rank", "--program", "heating", "--measure", "completion_rate", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(",'=1+1," in line for line in lines) and not any(",=1+1," in line for line in lines)


# ---- masked phones ------------------------------------------------------------------------------

def household_row(code: str, village: str, phone: str) -> dict:
    return dict(code=code, county_adcode=NORTH, village_code=village, plan_year=2026, head_name="王建国",
                phone_masked=phone, route="生物质", equipment_cost_yuan=5000, subsidy_yuan=3500,
                running_cost_yuan=900, coal_cost_yuan=1800)


@pytest.mark.parametrize("phone", ["13812345678", "138-1234-5678", "1381234", "1381234****"])
def test_the_store_refuses_an_unmasked_phone(store, phone):
    village = add_village(store)
    # SQLite names the CHECK; PostgreSQL may refuse a long one for its length first.
    with pytest.raises((IntegrityError, DataError)), store.begin() as conn:
        conn.execute(db.heating_household.insert(), [household_row("H1", village, phone)])


def test_the_store_takes_a_masked_phone_or_none(store):
    village = add_village(store)
    with store.begin() as conn:
        conn.execute(db.heating_household.insert(), [household_row("H1", village, db.mask_phone("13812345678")),
                                                     household_row("H2", village, db.mask_phone(""))])
        assert conn.execute(db.heating_household.select().order_by("code")).mappings().all()[0][
            "phone_masked"] == "138****5678"


def test_mask_phone_masks_the_middle_four_digits_and_refuses_what_is_not_a_phone():
    assert db.mask_phone("138 1234 5678") == "138****5678"
    assert db.mask_phone("138****5678") == "138****5678"
    assert db.mask_phone(None) == ""
    with pytest.raises(ValueError, match="不是 11 位手机号码"):
        db.mask_phone("0917-1234567")


def test_no_export_holds_a_full_phone_number(demo_engine):
    scope = report.Scope(DEMO_DATA_DATE)
    villages = queries.load_village_progress(demo_engine, LEADER, 2026, DEMO_DATA_DATE, ())
    households = pd.concat([queries.load_village_households(demo_engine, LEADER, code, 2026, DEMO_DATA_DATE, ())
                            for code in villages["village_code"].head(40)])
    table = tables.build_household_table(households)
    assert len(table) > 100 and table.astype(str).apply(lambda c: c.str.contains(r"\*\*\*\*")).any().any()
    outputs = [exports.build_table_csv(table).decode("utf-8-sig"),
               exports.build_table_xlsx({"农户": table}, "农户明细", META),
               exports.build_ranking_xlsx(demo_engine, scope, date(2026, 11, 13), META)]
    texts = [outputs[0]] + [" ".join(str(c) for ws in openpyxl.load_workbook(io.BytesIO(x)).worksheets
                                     for row in ws.iter_rows(values_only=True) for c in row) for x in outputs[1:]]
    assert not any(FULL_PHONE.search(t) for t in texts)


def test_a_formula_county_name_stays_text_in_the_slides_chart_workbook():
    from pptx import Presentation
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    data = pack.TextCategoryChartData(number_format="0.0%")
    data.categories = ["=1+1", "陇县"]
    data.add_series("完成率", [0.5, 0.7])
    deck = Presentation()
    chart = deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_chart(
        XL_CHART_TYPE.BAR_CLUSTERED, 0, 0, Inches(4), Inches(3), data).chart
    workbook = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob))
    cell = workbook.active["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
