"""Publishing in a real Chromium: publish the 13 Nov 通报 on 会议材料, a county then corrects its
ledger with households connected on 10 Nov, and the ranking of 13 Nov keeps the published figure
with the correction marked beside it."""
import time
from datetime import date

import pytest
from conftest import screenshot, serve_app, wait_until_settled
from test_intake_browser import filled_linyou

from retrofit import db, fmt, queries
from retrofit.intake import commit, validate
from builders import admin_as

PUBLISHED_ON = date(2026, 11, 13)
RANKING = f"/ranking?program=heating&measure=completion_rate&as_of={PUBLISHED_ON.isoformat()}"


@pytest.fixture
def own_app(demo_url, tmp_path):
    """A server of its own: this test writes to its store."""
    with serve_app(demo_url, tmp_path) as served:
        yield served


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_until_settled(page)


def test_publish_then_a_correction_is_marked_not_taken_in(page, own_app, tmp_path):
    base, store_url = own_app
    engine = db.make_engine(store_url)
    _open(page, f"{base}/briefing?as_of={PUBLISHED_ON.isoformat()}")
    page.get_by_role("button", name="发布").click()
    page.get_by_text("的通报已于").wait_for(timeout=300_000)  # the meeting files are built first
    published = queries.load_published_report(engine, PUBLISHED_ON)
    assert published["published_by"] == "admin"  # the signed-in demo admin
    screenshot(page, "briefing-published")

    path = tmp_path / "麟游县更正.xlsx"
    filled_linyou(store_url, path, connected_on=date(2026, 11, 10))
    commit.commit_import(engine, validate.check_file(engine, path.read_bytes(), path.name), admin_as("麟游县住建局"))

    deadline = time.time() + 90  # the server follows the store's revision within seconds
    while True:
        _open(page, base + RANKING)
        banner = page.get_by_text("本期通报已于")
        banner.wait_for(timeout=30_000)
        if "发布后修正" in banner.inner_text() or time.time() > deadline:
            break
        page.wait_for_timeout(2_000)
    assert page.get_by_role("columnheader", name="发布后修正").count() or page.get_by_text("现为").count()
    figures = queries.load_published_figures(engine, published["id"], "heating", "completion_rate")
    linyou = figures.set_index("county").loc["麟游县"]
    was = fmt.format_percent_of(linyou["numerator"], linyou["denominator"])
    header = page.get_by_text("本期通报已于").inner_text()
    assert f"麟游县完成率 {was} → " in header, header  # published → today, in the header
    screenshot(page, "ranking-corrected")
    assert queries.load_published_report(engine, PUBLISHED_ON)["notice_text"] == published["notice_text"]
