"""A real server and a real browser: `streamlit run app.py` on a free port against a copy of the
demo store, driven by Debian's Chromium through Playwright (never `playwright install`)."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from builders import copy_sqlite_store
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from retrofit.accounts import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "shots"  # screenshots taken by the tests; git-ignored


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_store(url: str, folder: Path):
    """`streamlit run app.py` on a free port against the store at `url` (log in `folder`);
    yields the base URL."""
    port = _free_port()
    env = dict(os.environ, RETROFIT_DB_URL=url)
    log = open(folder / "streamlit.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_for_health(base, server, f"streamlit did not start; see {log.name}")
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def wait_for_health(base: str, process: subprocess.Popen, failure: str, limit_s: float = 60) -> None:
    """Until Streamlit's health endpoint answers at `base` (directly or through a proxy); kills
    `process` and raises RuntimeError(`failure`) when it exits or the limit passes first."""
    deadline = time.time() + limit_s
    while True:
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
            return
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(failure) from None
            time.sleep(0.5)


@contextmanager
def serve_app(demo_url: str, folder: Path):
    """The app against a private copy of the demo store in `folder`; yields (base URL, store URL)."""
    url = copy_sqlite_store(demo_url, folder / "e2e.db")
    with serve_store(url, folder) as base:
        yield base, url


def serve(url: str, tmp_path_factory):
    """For a fixture: the app against the store at `url`; yields the base URL."""
    with serve_store(url, tmp_path_factory.mktemp("log")) as base:
        yield base


@pytest.fixture(scope="session")
def app_served(demo_url, tmp_path_factory):
    """(base URL, store URL) of the app served from a private copy of the demo store."""
    with serve_app(demo_url, tmp_path_factory.mktemp("e2e")) as served:
        yield served


@pytest.fixture(scope="session")
def app_url(app_served):
    """Base URL of the app served from a private copy of the demo store."""
    return app_served[0]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(page, base: str, login: str = "admin", password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real login form at `base`: fill in 账号 and 密码, click 登录, wait for the
    navigation. The browser keeps the sign-in cookie, so later visits go straight to the page
    asked for. A store that cannot be read shows its fault instead of the form: nothing to do."""
    page.goto(base, wait_until="domcontentloaded")
    wait_until_settled(page)
    # The form, the navigation of a session already signed in, or a store fault: whichever comes
    # (the login page keeps a hidden navigation of its own).
    form, navigation = page.get_by_label("账号"), page.get_by_test_id("stSidebarNav")
    fault = page.locator("[data-testid='stMain'] [data-testid^='stAlert']")
    deadline = time.time() + 60
    while not (form.count() or navigation.is_visible() or fault.count()) and time.time() < deadline:
        page.wait_for_timeout(200)
    if form.count() == 0:
        return
    # A fresh session may rerun once more just after it is drawn (the browser reporting its size),
    # which clears a form filled in the meantime: fill in again until the navigation shows.
    for _ in range(3):
        page.get_by_label("账号").fill(login)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        try:
            navigation.wait_for(timeout=20_000)
            break
        except PlaywrightTimeoutError:
            wait_until_settled(page)
    else:
        screenshot(page, f"sign-in-failed-{login}")
        raise AssertionError(f"could not sign in as {login} at {base}")
    wait_until_settled(page)


def signing_in(page, login: str = "admin"):
    """`page` that signs in as the demo account `login` on its first visit to each server (the
    servers of the e2e tests serve copies of the demo store), then goes where it was sent."""
    goto, servers = page.goto, set()

    def goto_signed_in(url: str, **kwargs):
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        if base not in servers:
            servers.add(base)
            page.goto = goto  # sign_in itself navigates
            try:
                sign_in(page, base, login)
            finally:
                page.goto = goto_signed_in
        return goto(url, **kwargs)

    page.goto = goto_signed_in
    return page


@pytest.fixture
def page(browser):
    """A 1080p page signed in as the demo admin (through the login form, on its first visit)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    yield signing_in(page)
    context.close()


@pytest.fixture
def fresh_page(browser):
    """A 1080p page of a new browser with no sign-in."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    yield context.new_page()
    context.close()


def wait_until_settled(page, limit_s: float = 60) -> None:
    """Streamlit has drawn the page and its 'running' indicator has been gone for a second.
    First something drawn by the script: right after a navigation the app's shell is there before
    its websocket runs the script, and a busy machine can keep it quiet for longer than a second
    (a sign-in then found no login form, took the visit as signed in, and the test found the
    login page where it expected its page)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=limit_s * 1000)
    page.wait_for_selector("[data-testid='stMain'] [data-testid='stElementContainer']", state="attached",
                           timeout=limit_s * 1000)
    quiet_since, deadline = None, time.time() + limit_s
    while time.time() < deadline:
        if page.locator("[data-testid='stStatusWidget']").count() > 0:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 1.0:
            return
        page.wait_for_timeout(200)
    raise TimeoutError("the page kept running")


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
