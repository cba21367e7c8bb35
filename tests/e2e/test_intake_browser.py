"""数据填报 in a real Chromium: upload a filled county template, see the preview and its effect
on the county's completion rate, confirm, see the county climb the ranking; then undo it on
导入记录 and see it back in place."""
import io
from datetime import date

import pytest
from conftest import screenshot, serve_app, wait_until_settled
from openpyxl import load_workbook

from retrofit import db, report
from retrofit.intake import commit, templates, validate
from builders import admin_as

RANKING = "/ranking?program=heating&measure=completion_rate"
CONNECTED_ON = date(2026, 11, 14)  # inside the 2026 task, which closes at the 11-15 connection deadline


@pytest.fixture
def own_app(demo_url, tmp_path):
    """A server of its own: this test writes to its store."""
    with serve_app(demo_url, tmp_path) as served:
        yield served


def filled_linyou(store_url: str, path, connected_on: date = CONNECTED_ON) -> None:
    """麟游县's template with every tendered household installed and connected by `connected_on`
    (a county catching up its ledger after weeks without reporting)."""
    book = load_workbook(io.BytesIO(templates.build_template(db.make_engine(store_url), admin_as("测试"), "heating", "麟游县", 2026)))
    sheet = book["一户一档"]
    headers = [c.value for c in sheet[3]]
    tendered, installed, connected = (headers.index(h) + 1 for h in ("设备招标日期", "户内改造日期", "通气通电日期"))
    for r in range(4, sheet.max_row + 1):
        tender_day, install_day = sheet.cell(r, tendered).value, sheet.cell(r, installed).value
        if tender_day is None or sheet.cell(r, connected).value is not None or tender_day.date() > connected_on:
            continue
        if install_day is None:
            sheet.cell(r, installed).value = connected_on
        elif install_day.date() > connected_on:
            continue
        sheet.cell(r, connected).value = connected_on
    book.save(path)


def _ranked_counties(page) -> list[str]:
    """The counties of the ranking bar chart, best first (plotly draws bottom-up)."""
    chart = page.locator(".st-key-ranking_bars .js-plotly-plot")
    chart.wait_for(timeout=30_000)
    return list(reversed(chart.evaluate("plot => plot.data[0].y")))


def _store_ranking(engine) -> list[str]:
    table = report.rank_measure(engine, "heating", "completion_rate", report.Scope(db.load_data_date(engine)))
    return list(table["county"])


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_until_settled(page)


def test_an_uploaded_ledger_is_previewed_imported_ranked_and_undone(page, own_app, tmp_path):
    base, store_url = own_app
    engine = db.make_engine(store_url)
    _open(page, base + RANKING)
    before = _ranked_counties(page)
    assert before == _store_ranking(engine)

    path = tmp_path / "麟游县清洁取暖.xlsx"
    filled_linyou(store_url, path)
    effect = commit.build_preview(engine, validate.check_file(engine, path.read_bytes(), path.name), admin_as("测试")).effect
    change = effect.set_index("指标").loc["完成率", "变化"]
    assert change != "不变"
    _open(page, base + "/intake")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    page.get_by_text("3. 预览").wait_for(timeout=60_000)
    wait_until_settled(page)
    page.get_by_text(f"完成率 {change}").wait_for(timeout=30_000)
    assert page.get_by_text("修改行").count() == 1
    screenshot(page, "intake-preview")

    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已导入“麟游县清洁取暖.xlsx”").wait_for(timeout=60_000)

    _open(page, base + RANKING)
    after = _ranked_counties(page)
    assert after == _store_ranking(engine) and after.index("麟游县") < before.index("麟游县")

    _open(page, base + "/imports")
    page.get_by_role("button", name="撤销所选导入").click()
    page.get_by_role("button", name="确认撤销").click()
    page.get_by_text("已撤销第 1 次导入").wait_for(timeout=60_000)
    screenshot(page, "imports-undone")

    _open(page, base + RANKING)
    assert _ranked_counties(page) == before
