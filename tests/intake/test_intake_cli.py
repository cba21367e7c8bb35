"""`python -m retrofit template | import [--dry-run] | imports | undo | city init`, in Chinese,
against a private copy of the demo store."""
import re
import shutil
from datetime import date

import pytest
from intake_files import fill_one_connection
from openpyxl import load_workbook

from retrofit import cli, db, report
from retrofit.demo import DEMO_DATA_DATE
from retrofit.intake import commit, validate

CONNECTED_ON = date(2026, 11, 14)  # inside the 2026 task, which closes at the 11-15 connection deadline


@pytest.fixture
def store_url(demo_url, tmp_path, monkeypatch):
    target = tmp_path / "demo.db"
    shutil.copy(demo_url.removeprefix("sqlite:///"), target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    return url


def test_template_dry_run_import_and_undo_from_the_command_line(store_url, tmp_path, capsys):
    out = tmp_path / "陇县.xlsx"
    assert cli.main(["template", "--program", "heating", "--county", "陇县", "--year", "2026", "--out", str(out)]) == 0
    assert "模板已生成" in capsys.readouterr().out
    fill_one_connection(out, CONNECTED_ON)
    engine = db.make_engine(store_url)
    before = commit.compute_store_checksum(engine)
    rows = len(validate.check_file(engine, out.read_bytes(), out.name).sheets[0].frame)
    done = report.compute_headline(engine, report.Scope(DEMO_DATA_DATE, 2026, ("610327",))).set_index("key").loc[
        "completion_rate"]
    assert cli.main(["import", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert f"新增 0 行,修改 1 行,未变 {rows - 1:,} 行" in printed and "通气通电日期" in printed
    assert "(预览,未写入)" in printed
    was, will = (f"({n:,}/{int(done['denominator']):,})" for n in (int(done["numerator"]), int(done["numerator"]) + 1))
    assert re.search(r"\n完成率 +[\d.]+%" + re.escape(was) + r" +[\d.]+%" + re.escape(will), printed), printed
    assert commit.compute_store_checksum(engine) == before
    assert cli.main(["import", str(out), "--who", "陇县住建局"]) == 0
    assert "已导入,导入记录编号 1" in capsys.readouterr().out
    assert cli.main(["imports"]) == 0
    assert "陇县住建局" in capsys.readouterr().out
    assert cli.main(["undo", "1"]) == 0
    assert "已撤销第 1 次导入:恢复 1 行,删除 0 行" in capsys.readouterr().out
    assert commit.compute_store_checksum(engine) == before


def test_a_refused_file_prints_every_error_writes_the_marked_file_and_exits_1(store_url, tmp_path, capsys):
    out = tmp_path / "陇县.xlsx"
    cli.main(["template", "--program", "heating", "--county", "陇县", "--year", "2026", "--out", str(out)])
    book = load_workbook(out)
    sheet = book["一户一档"]
    headers = [c.value for c in sheet[3]]
    sheet.cell(4, headers.index("技术路线*") + 1).value = "煤改电"
    book.save(out)
    marked = tmp_path / "marked.xlsx"
    capsys.readouterr()
    assert cli.main(["import", str(out), "--marked", str(marked)]) == 1
    printed = capsys.readouterr().out
    assert "“陇县.xlsx”有 1 处错误,未导入任何数据" in printed and "技术路线应为下列之一" in printed
    cell = load_workbook(marked)["一户一档"].cell(4, headers.index("技术路线*") + 1)
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "技术路线应为下列之一" in cell.comment.text


def test_an_unknown_county_template_is_a_usage_error(store_url, tmp_path, capsys):
    assert cli.main(["template", "--program", "heating", "--county", "东县", "--year", "2026",
                     "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "错误:未知县区“东县”" in capsys.readouterr().err
