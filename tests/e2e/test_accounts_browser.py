"""Accounts in a real Chromium: each demo role signs in through the login form and sees its own
pages; 陇县's clerk is refused 麟游县's villages and the admin pages, in Chinese; the wall runs on
its display link alone, and stops when the link is revoked."""
import pytest
from conftest import screenshot, sign_in, wait_until_settled

from retrofit import accounts, audit, db

pytestmark = pytest.mark.e2e

DESK = {"总览", "老旧小区改造", "清洁取暖", "县区排名", "地图", "会议材料", "发布记录", "大屏"}
PAGES = {"leader": DESK, "admin": DESK | {"数据填报", "导入记录", "账号管理", "操作日志"},
         "longxian": DESK | {"数据填报", "导入记录"}}
REFUSAL = "[data-testid='stAlertContentError']"
NOTICE = "[data-testid='stAlertContentWarning']"


@pytest.fixture
def new_page(browser):
    """Pages of new browsers (no cookie, no sign-in); closed at the end."""
    contexts = []

    def open_page():
        contexts.append(browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN"))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def _nav_titles(page) -> set[str]:
    return set(page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts())


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_until_settled(page)


@pytest.mark.parametrize("login", list(PAGES))
def test_each_demo_role_signs_in_through_the_form_and_sees_its_pages(new_page, app_url, login):
    page = new_page()
    _open(page, app_url)
    assert page.get_by_text("演示账号").count() >= 1  # the login page lists the demo accounts
    if login == "leader":
        screenshot(page, "login")
    sign_in(page, app_url, login)
    assert _nav_titles(page) == PAGES[login]
    _open(page, f"{app_url}/heating")  # the cookie keeps the sign-in for a new page load
    assert page.get_by_role("heading", name="冬季清洁取暖").count() == 1


def test_the_longxian_clerk_cannot_reach_linyou_villages_nor_admin_pages(new_page, app_served):
    base, store_url = app_served
    page = new_page()
    sign_in(page, base, "longxian")
    _open(page, f"{base}/heating?county=麟游县")
    page.get_by_role("tab", name="村户清单").click()
    page.locator(NOTICE).get_by_text("已改为显示陇县").wait_for(timeout=30_000)
    screenshot(page, "clerk-narrowed-to-longxian")
    for path, title in (("accounts", "账号管理"), ("audit", "操作日志")):
        _open(page, f"{base}/{path}")
        assert page.locator(REFUSAL).get_by_text(f"县区填报员无权打开“{title}”页面").count() == 1
    refused = audit.load_audit(db.make_engine(store_url), who="longxian", actions=(audit.REFUSED,))
    assert len(refused) >= 3


def test_the_admin_pages_show_the_accounts_and_the_audit_trail(page, app_url):
    _open(page, f"{app_url}/accounts")
    assert page.get_by_role("tab", name="大屏链接").count() == 1 and page.locator(REFUSAL).count() == 0
    page.locator(".st-key-accounts_table canvas, [data-testid='stDataFrame']").first.wait_for(timeout=30_000)
    screenshot(page, "accounts-admin")
    _open(page, f"{app_url}/audit")
    page.get_by_text("记录只增不改").wait_for(timeout=30_000)
    assert page.locator(REFUSAL).count() == 0
    screenshot(page, "audit-log")


def test_the_wall_runs_on_its_display_link_alone_and_stops_when_it_is_revoked(new_page, app_served):
    base, store_url = app_served
    engine = db.make_engine(store_url)
    admin = accounts.Access("测试管理员", "admin")
    token = accounts.create_display_token(engine, admin, "三楼会议室")
    wall = new_page()
    wall.goto(f"{base}/screen?display={token}", wait_until="domcontentloaded")
    wall.wait_for_selector(".scr-header", timeout=60_000)
    _open(wall, f"{base}/overview?display={token}")
    assert wall.locator(REFUSAL).get_by_text("大屏链接无权打开“总览”页面").count() == 1
    token_id = int(accounts.load_display_tokens(engine).set_index("名称").loc["三楼会议室", "编号"])
    accounts.revoke_display_token(engine, admin, token_id)
    _open(wall, f"{base}/screen?display={token}")
    assert wall.get_by_text("大屏链接无效或已被吊销").count() == 1
