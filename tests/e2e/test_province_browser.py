"""The province overview and wall at 1920×1080 with all 107 counties of 陕西省, in a real
Chromium. The store is the province demo at a small size (107 counties, ~20k households, built
in seconds): the full 3-million-household store takes minutes to build, and what is checked here
(the levels, the layout, the map's labels) depends on the counties, not on the households."""
import pytest
from conftest import screenshot, serve_store, wait_until_settled

from retrofit import db, province, queries

pytestmark = pytest.mark.e2e

SMALL = province.ProvinceSize(households=20_000, communities=3_000, villages_per_county=12)
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


@pytest.fixture(scope="module")
def province_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("province")
    url = f"sqlite:///{folder / 'province.db'}"
    province.build_province_demo(db.make_engine(url), 7, size=SMALL)
    with serve_store(url, folder) as base:
        yield base, db.make_engine(url)


def open_page(page, url: str) -> str:
    """Open a desk page, wait until it has settled, check it shows no error; its main text."""
    page.goto(url, wait_until="domcontentloaded")
    wait_until_settled(page, 120)
    assert page.locator(ERRORS).count() == 0
    return page.inner_text("[data-testid='stMain']")


def test_the_province_overview_ranks_the_ten_cities_and_maps_107_counties(page, province_app):
    base, engine = province_app
    assert len(queries.load_counties(engine)) == 107
    main = open_page(page, f"{base}/overview")
    assert page.get_by_role("heading", name="全省调度总览").count() == 1
    assert page.get_by_role("heading", name="市排名").count() == 1
    assert "范围:全省" in main
    # The navigation follows the level: at the province's default level the ranking ranks cities.
    nav = page.inner_text("[data-testid='stSidebarNav']")
    assert "各市排名" in nav and "县区排名" not in nav
    screenshot(page, "province-overview-1080p")


def test_a_city_chosen_in_the_sidebar_ranks_its_counties(page, province_app):
    base, _ = province_app
    # The URL carries the level as the sidebar shows it (县区 / 各市), like ?city= the city's name.
    main = open_page(page, f"{base}/ranking?city=铜川市&level=县区")
    assert page.get_by_role("heading", name="县区排名").count() == 1
    assert "范围:铜川市" in main
    assert "县区排名" in page.inner_text("[data-testid='stSidebarNav']")
    screenshot(page, "province-ranking-tongchuan-1080p")


def test_the_wall_of_one_city_names_that_city(page, province_app):
    base, _ = province_app
    page.goto(f"{base}/screen?city=铜川市", wait_until="domcontentloaded")
    page.wait_for_selector(".scr-header", timeout=120_000)
    wait_until_settled(page, 120)
    assert page.locator(ERRORS).count() == 0
    header = page.inner_text(".scr-header")
    assert "铜川市" in header and "全省" not in header
    screenshot(page, "province-wall-tongchuan-1080p")


def test_the_province_wall_shows_the_city_ranking_and_the_red_counties_without_scrolling(page, province_app):
    base, _ = province_app
    page.goto(f"{base}/screen", wait_until="domcontentloaded")
    page.wait_for_selector(".scr-header", timeout=120_000)
    wait_until_settled(page, 120)
    page.wait_for_selector(".st-key-screen-ranking svg.main-svg", timeout=60_000)
    wait_until_settled(page, 120)
    assert page.locator(ERRORS).count() == 0
    assert "全省" in page.inner_text(".scr-header")
    ranking = page.inner_text(".st-key-screen-ranking")
    assert "各市" in ranking and "西安市" in ranking and "新城区" not in ranking
    assert "落后县区" in page.inner_text(".st-key-screen-lists")
    sizes = page.evaluate("""() => {
        const d = document.documentElement, m = document.querySelector('[data-testid=stMain]');
        return [d.scrollWidth, d.scrollHeight, m.scrollHeight, m.clientHeight]; }""")
    assert sizes[0] <= 1920 and sizes[1] <= 1080 and sizes[2] <= sizes[3], sizes
    # 107 counties: the map names only the red ones, so its labels do not pile up.
    labels = page.locator(".st-key-screen-map .annotation-text").count()
    assert 0 < labels < 40
    screenshot(page, "province-wall-1080p")
