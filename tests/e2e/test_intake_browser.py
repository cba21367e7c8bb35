"""数据填报 in a real Chromium: upload a filled county template, see the preview and its effect
on the county's completion rate, confirm, see the county climb the ranking; then undo it on
导入记录 and see it back in place."""
import io

import pytest
from conftest import screenshot, serve_app, wait_until_settled
from openpyxl import load_workbook

from retrofit import db
from retrofit.demo import DEMO_DATA_DATE
from retrofit.intake import templates

RANKING = "/ranking?program=heating&measure=completion_rate"


@pytest.fixture
def own_app(demo_url, tmp_path):
    """A server of its own: this test writes to its store."""
    with serve_app(demo_url, tmp_path) as served:
        yield served


def _filled_longxian(store_url: str, path) -> None:
    """陇县's template with every installed household connected on the data date."""
    book = load_workbook(io.BytesIO(templates.build_template(db.make_engine(store_url), "heating", "陇县", 2026)))
    sheet = book["一户一档"]
    headers = [c.value for c in sheet[3]]
    installed, connected = headers.index("户内改造日期") + 1, headers.index("通气通电日期") + 1
    for r in range(4, sheet.max_row + 1):
        if sheet.cell(r, installed).value and sheet.cell(r, connected).value is None:
            sheet.cell(r, connected).value = DEMO_DATA_DATE
    book.save(path)


def _ranked_counties(page) -> list[str]:
    """The counties of the ranking bar chart, best first (plotly draws bottom-up)."""
    chart = page.locator(".st-key-ranking_bars .js-plotly-plot")
    chart.wait_for(timeout=30_000)
    return list(reversed(chart.evaluate("plot => plot.data[0].y")))


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_until_settled(page)


def test_an_uploaded_ledger_is_previewed_imported_ranked_and_undone(page, own_app, tmp_path):
    base, store_url = own_app
    _open(page, base + RANKING)
    before = _ranked_counties(page)
    assert before.index("陇县") == 10

    path = tmp_path / "陇县清洁取暖.xlsx"
    _filled_longxian(store_url, path)
    _open(page, base + "/intake")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    page.get_by_text("3. 预览").wait_for(timeout=60_000)
    wait_until_settled(page)
    page.get_by_text("完成率 73.0% → 82.2%").wait_for(timeout=30_000)
    assert page.get_by_text("修改行").count() == 1
    screenshot(page, "intake-preview")

    page.get_by_label("导入人").fill("陇县住建局")
    page.get_by_label("导入人").press("Enter")
    wait_until_settled(page)
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已导入“陇县清洁取暖.xlsx”").wait_for(timeout=60_000)

    _open(page, base + RANKING)
    after = _ranked_counties(page)
    assert after.index("陇县") == 9 and after.index("麟游县") == 10

    _open(page, base + "/imports")
    page.get_by_label("撤销人").fill("市住建局")
    page.get_by_label("撤销人").press("Enter")
    wait_until_settled(page)
    page.get_by_role("button", name="撤销所选导入").click()
    page.get_by_role("button", name="确认撤销").click()
    page.get_by_text("已撤销第 1 次导入").wait_for(timeout=60_000)
    screenshot(page, "imports-undone")

    _open(page, base + RANKING)
    assert _ranked_counties(page) == before
