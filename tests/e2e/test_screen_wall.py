"""The big screen (大屏) on a 1920×1080 and a 3840×2160 wall, in a real Chromium: it fills the
screen without scrolling or clipping, shows the measures to the digit, refreshes in place,
rotates through the red-flagged counties and takes the other pages' link as it is."""
import re
from datetime import date

import pytest
from conftest import screenshot, signing_in, wait_until_settled

from retrofit import db, fmt, report
from retrofit.screen import HEADLINE_TILES

pytestmark = pytest.mark.e2e

WALLS = {"1080p": (1920, 1080), "4k": (3840, 2160)}
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
# Text that must never be cut: titles, big numbers, list rows.
TEXT = (".scr-header .title, .scr-header .meta span, .scr-tiles .program, .scr-tiles .label, .scr-tiles .line, "
        ".scr-tiles .value, .scr-tiles .ratio, .scr-tiles .chip, .scr-list .name, .scr-list .sum, .scr-list .who, "
        ".scr-list .tag, .scr-list .text, .scr-list .note, .scr-footer span")
SLOTS = (".st-key-screen-header, .st-key-screen-tiles, .st-key-screen-ranking, .st-key-screen-map, "
         ".st-key-screen-lists, .st-key-screen-footer")


@pytest.fixture(params=list(WALLS))
def wall(request, browser):
    """A page in a browser window the size of the wall."""
    width, height = WALLS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = signing_in(context.new_page())
    page.wall = request.param
    yield page
    context.close()


def open_screen(page, url: str) -> None:
    """Open the screen and wait until both charts are drawn for this window's size."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".scr-header", timeout=60_000)
    wait_until_settled(page)
    page.wait_for_selector(".st-key-screen-ranking svg.main-svg", timeout=30_000)
    page.wait_for_selector(".st-key-screen-map canvas", timeout=30_000)
    # The first run draws for 1920×1080; the browser then reports its size and the charts are
    # drawn again for it: wait until they fill their slots.
    page.wait_for_function("""() => ['ranking', 'map'].every(name => {
        const slot = document.querySelector('.st-key-screen-' + name);
        const chart = slot && slot.querySelector('.js-plotly-plot');
        return chart && chart.getBoundingClientRect().height >= slot.getBoundingClientRect().height - 2; })""",
                           timeout=30_000)
    wait_until_settled(page)
    page.wait_for_timeout(1000)  # the charts fade in


def spotlight(page) -> str:
    return page.get_attribute(".scr-header", "data-county")


def refreshed_at(page) -> str:
    return re.search(r"刷新 (\d\d:\d\d:\d\d)", page.inner_text(".scr-header")).group(1)


def expected_tiles(engine, scope) -> dict[str, tuple[str, str]]:
    """'program.key' -> (big number, 'done / planned') as the retrofit measures give them."""
    headline = report.compute_headline(engine, scope).set_index(["program", "key"])
    expected = {}
    for program, keys in HEADLINE_TILES.items():
        for key in keys:
            row = headline.loc[(program, key)]
            done, planned = (fmt.format_count(row[c], row["unit"]) for c in ("numerator", "denominator"))
            expected[f"{program}.{key}"] = (fmt.format_percent_of(row["numerator"], row["denominator"]),
                                            f"{done} / {planned}")
    return expected


def shown_tiles(page) -> dict[str, tuple[str, str]]:
    return {tile.get_attribute("data-key"): (tile.locator(".value").inner_text(),
                                             tile.locator(".ratio").inner_text())
            for tile in page.locator(".scr-tiles .tile").all()}


def boxes(page, selector: str) -> list[dict]:
    return page.evaluate(f"Array.from(document.querySelectorAll({selector!r}))"
                         ".map(e => e.getBoundingClientRect().toJSON())")


def font_px(page, selector: str) -> list[float]:
    return page.evaluate(f"Array.from(document.querySelectorAll({selector!r}))"
                         ".map(e => parseFloat(getComputedStyle(e).fontSize))")


def test_the_wall_is_filled_without_scrolling_or_clipping_at_1080p_and_4k(wall, app_url):
    open_screen(wall, f"{app_url}/screen")
    width, height = WALLS[wall.wall]
    sizes = wall.evaluate("""() => {
        const d = document.documentElement, m = document.querySelector('[data-testid=stMain]');
        return [d.scrollWidth, d.scrollHeight, m.scrollWidth, m.scrollHeight, m.clientWidth, m.clientHeight]; }""")
    assert sizes[0] <= width and sizes[1] <= height, sizes
    assert sizes[2] <= sizes[4] and sizes[3] <= sizes[5], sizes
    assert wall.locator(ERRORS).count() == 0
    assert wall.locator("[data-testid='stSidebar']:visible, header[data-testid='stHeader']:visible").count() == 0
    for box in boxes(wall, SLOTS):
        assert 0 <= box["left"] and box["right"] <= width and 0 <= box["top"] and box["bottom"] <= height, box
    # Cut text: wider than its box, or its box reaching out of the tile / row / bar holding it.
    clipped = wall.evaluate(f"""Array.from(document.querySelectorAll({TEXT!r})).filter(e => {{
        const r = e.getBoundingClientRect(), c = e.closest(BOXES).getBoundingClientRect();
        return e.scrollWidth > e.clientWidth + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1
            || r.left < c.left - 1 || r.right > c.right + 1; }}).map(e => e.className + ': ' + e.textContent)"""
                            .replace("BOXES", repr(".tile, li, .head, .scr-header, .scr-footer, .scr-tiles .group")))
    assert clipped == []
    screenshot(wall, f"screen-city-{wall.wall}")


def test_the_charts_are_drawn_for_the_wall_they_are_on(wall, app_url):
    open_screen(wall, f"{app_url}/screen")
    height = WALLS[wall.wall][1]
    # The county labels on the map scale with the wall: twice the pixels at 4K.
    assert font_px(wall, ".st-key-screen-map .annotation-text")[0] == pytest.approx(19 * height / 1080, abs=1)
    canvas, slot = boxes(wall, ".st-key-screen-map canvas")[0], boxes(wall, ".st-key-screen-map")[0]
    assert canvas["bottom"] <= slot["bottom"] + 1 and canvas["right"] <= slot["right"] + 1


def test_the_big_numbers_are_the_measures_to_the_digit_and_readable_from_five_metres(page, app_url, demo_engine):
    open_screen(page, f"{app_url}/screen")
    scope = report.Scope(db.load_data_date(demo_engine))
    assert shown_tiles(page) == expected_tiles(demo_engine, scope)
    sizes = font_px(page, ".scr-tiles .value")
    assert len(sizes) == 6 and min(sizes) >= 48
    header = page.inner_text(".scr-header")
    assert "数据截至 2026年11月20日" in header and "2026年度" in header and "演示数据" in header
    assert re.search(r"刷新 \d\d:\d\d:\d\d", header)


def test_a_rotation_step_spotlights_the_next_red_county(page, app_url, demo_engine):
    scope = report.Scope(db.load_data_date(demo_engine))
    red = list(dict.fromkeys(report.compute_laggards(demo_engine, scope)["county"]))
    assert len(red) >= 2
    open_screen(page, f"{app_url}/screen?rotate=3")
    # Each value is read in the same check that sees it change: the wall moves on every 3 s, so a
    # second read could already see the next panel (or the city view).
    first = page.wait_for_function("document.querySelector('.scr-header').dataset.county || false",
                                   timeout=30_000).json_value()
    assert first in red
    second = page.wait_for_function(
        f"(c => !['', {first!r}].includes(c) && c)(document.querySelector('.scr-header').dataset.county)",
        timeout=30_000).json_value()
    assert second == red[(red.index(first) + 1) % len(red)]
    page.wait_for_timeout(1200)  # the step's charts fade in
    assert page.locator(ERRORS).count() == 0
    adcode = report.compute_laggards(demo_engine, scope).set_index("county")["adcode"].loc[[second]].iloc[0]
    if spotlight(page) == second:  # still on it: its own figures are shown
        assert shown_tiles(page) == expected_tiles(demo_engine, report.Scope(scope.as_of, counties=(adcode,)))
        assert f"聚焦 {second}" in page.inner_text(".scr-header")
        screenshot(page, "screen-spotlight-1080p")


def test_a_refresh_redraws_in_place_without_flicker_or_layout_jumps(page, app_url):
    open_screen(page, f"{app_url}/screen?refresh=3")
    page.evaluate("window.__charts = Array.from(document.querySelectorAll('.js-plotly-plot'))")
    slots = boxes(page, SLOTS)
    before = refreshed_at(page)
    page.wait_for_function(f"!document.querySelector('.scr-header').innerText.includes({before!r})", timeout=15_000)
    page.wait_for_timeout(500)
    # Same data, same figures: the very same chart elements stay on the page, nothing moved.
    assert page.evaluate("window.__charts.length === 2 && window.__charts.every(c => c.isConnected)")
    assert boxes(page, SLOTS) == slots
    assert page.locator(ERRORS).count() == 0


def test_invalid_parameters_fall_back_to_the_defaults_and_say_so_discreetly(page, app_url):
    open_screen(page, f"{app_url}/screen?refresh=abc&rotate=1&program=water&county=不存在县"
                      "&as_of=2099-01-01")
    assert page.locator(ERRORS).count() == 0
    notes = page.inner_text(".scr-header .notes")
    for text in ("refresh=abc无效", "rotate=1无效", "program=water无效", "未找到县区“不存在县”", "晚于数据截至日期"):
        assert text in notes
    assert "全市" in page.inner_text(".scr-header .title")
    assert "数据截至 2026年11月20日" in page.inner_text(".scr-header")
    assert page.locator(".scr-tiles .tile").count() == 6


def test_the_screen_link_on_the_overview_opens_the_wall_with_its_filters(page, app_url, demo_engine):
    page.goto(f"{app_url}/overview?county=陇县&as_of=2026-10-30", wait_until="domcontentloaded")
    wait_until_settled(page)
    with page.context.expect_page() as opened:  # the wall opens in a new tab
        page.get_by_role("link", name="投屏").click()
    page = opened.value
    page.wait_for_url(re.compile(r"/screen\?"), timeout=30_000)
    page.wait_for_selector(".scr-header", timeout=60_000)
    wait_until_settled(page)
    assert "数据截至 2026年10月30日" in page.inner_text(".scr-header")
    assert "陇县" in page.inner_text(".scr-header .title")
    scope = report.Scope(date(2026, 10, 30), 2026, ("610327",))  # 陇县
    assert shown_tiles(page) == expected_tiles(demo_engine, scope)
    assert page.locator(".scr-tiles .program").first.inner_text() == "陇县老旧小区改造"
