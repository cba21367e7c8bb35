"""Several app servers: two `streamlit run app.py` on one store (PostgreSQL where the tests have
one, else one SQLite file) behind nginx configured from deploy/nginx.conf. A browser stays on its
server (sticky sessions), and a county file imported through the command line, a process of its
own, shows on both servers' pages without a restart: the revision check."""
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from builders import admin_as, copy_sqlite_store
from conftest import ROOT, _free_port, serve_store, sign_in, wait_for_health, wait_until_settled
from intake_files import fill_one_connection

from retrofit import db, demo
from retrofit.intake import templates
from retrofit.settings import DEMO_SEED

RANKING = "/ranking?program=heating&measure=completion_rate"
COUNTY = "麟游县"
CONNECTED_ON = date(2026, 11, 14)  # inside the 2026 task, which closes at the 11-15 connection deadline
SHIPPED_CONFIG = ROOT / "deploy" / "nginx.conf"
UPSTREAM_HEADER = "x-retrofit-upstream"


def build_nginx_config(listen: int, servers: list[str], prefix: Path) -> Path:
    """The shipped config with this test's ports: nginx on `listen`, the app on `servers`
    (host:port). Fails loudly when the shipped file no longer has the lines it rewrites."""
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    upstreams = re.findall(r"^\s*server 127\.0\.0\.1:\d+;\n", text, flags=re.M)
    assert len(upstreams) == 2 and "listen 8080;" in text, "deploy/nginx.conf changed shape: update this test"
    text = text.replace(upstreams[0], "".join(f"        server {s};\n" for s in servers)).replace(upstreams[1], "")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    if os.geteuid() == 0:  # workers as root: the default user (nobody) cannot enter pytest's private tmp
        text = "user root;\n" + text
    for folder in ("run", "logs", "tmp"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(text, encoding="utf-8")
    return config


@contextmanager
def serve_nginx(servers: list[str], prefix: Path):
    """nginx in the foreground on a free port in front of `servers`; yields its base URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is missing: apt-get install -y nginx (tools/install.sh does)")
    port = _free_port()
    config = build_nginx_config(port, servers, prefix)
    process = subprocess.Popen([nginx, "-p", f"{prefix}/", "-c", str(config), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=open(prefix / "stderr.log", "w"))
    base = f"http://127.0.0.1:{port}"
    wait_for_health(base, process, f"nginx did not start; see {prefix / 'logs' / 'error.log'}", limit_s=30)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def shared_store(demo_url, tmp_path):
    """The demo city in the store both servers share: the PostgreSQL test database when there is
    one (the engine several servers need), else a SQLite file."""
    url = os.environ.get("RETROFIT_TEST_PG_URL")
    if url:
        engine = db.make_engine(url)
        demo.build_demo(engine, DEMO_SEED, force=True)  # the test database: whatever the last test left
        engine.dispose()
        return url
    return copy_sqlite_store(demo_url, tmp_path / "shared.db")


@pytest.fixture
def two_servers_behind_nginx(shared_store, tmp_path):
    """(nginx base URL, {upstream address: server base URL}, store URL)."""
    with serve_store(shared_store, _folder(tmp_path, "server1")) as one, \
            serve_store(shared_store, _folder(tmp_path, "server2")) as two:
        servers = {base.removeprefix("http://"): base for base in (one, two)}
        with serve_nginx(list(servers), tmp_path / "nginx") as front:
            yield front, servers, shared_store


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _upstream(context, front: str) -> str:
    """The app server nginx sends this browser context to."""
    return context.request.get(f"{front}/_stcore/health").headers[UPSTREAM_HEADER]


def _context_on(browser, front: str, server: str):
    """A browser context that nginx sends to `server` (a session cookie that hashes there)."""
    for attempt in range(64):
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        host = front.removeprefix("http://").split(":")[0]
        context.add_cookies([dict(name="retrofit_node", value=f"probe-{attempt}", domain=host, path="/")])
        if _upstream(context, front) == server:
            return context
        context.close()
    raise AssertionError(f"no session cookie of 64 reached {server}: is the hash sticky at all?")


def _county_progress(page, base: str) -> str:
    """The county's bar as the ranking chart draws it: '麟游县:N户 / M户'."""
    page.goto(base + RANKING, wait_until="domcontentloaded")
    wait_until_settled(page)
    chart = page.locator(".st-key-ranking_bars .js-plotly-plot")
    chart.wait_for(timeout=30_000)
    texts = chart.evaluate("plot => plot.data[0].hovertext")
    return next(t for t in texts if t.startswith(COUNTY))


def _fill_one_connection(store_url: str, path: Path) -> None:
    """The county's template with one more household connected on CONNECTED_ON."""
    path.write_bytes(templates.build_template(db.make_engine(store_url), admin_as("测试"), "heating", COUNTY, 2026))
    fill_one_connection(path, CONNECTED_ON)


def _wait_for_change(page, base: str, before: str, since: float,
                     limit_s: float = 90) -> tuple[float | None, float]:
    """Reload until the page shows something else than `before`. Returns when (seconds after
    `since`) the last load still showing `before` and the first load showing the change began:
    the server noticed the change in between."""
    missed = None
    while True:
        began = time.time() - since
        if _county_progress(page, base) != before:
            return missed, began
        missed = began
        assert began < limit_s, f"{base} still shows {before} {limit_s} s after the import"


def test_an_import_through_the_command_line_shows_on_both_servers_behind_nginx(
        browser, two_servers_behind_nginx, tmp_path):
    front, servers, store_url = two_servers_behind_nginx
    contexts = [_context_on(browser, front, server) for server in servers]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:   # each browser signs in through nginx, on the server its cookie reaches
            sign_in(page, front)
        # Sticky: a browser's requests carry its cookie, so all of them (the page's websocket hashes
        # on the same cookie) reach one server.
        for context, server in zip(contexts, servers):
            assert {_upstream(context, front) for _ in range(5)} == {server}
        before = [_county_progress(page, front) for page in pages]
        assert before[0] == before[1]  # one store

        path = tmp_path / f"{COUNTY}清洁取暖.xlsx"
        _fill_one_connection(store_url, path)
        done = subprocess.run([sys.executable, "-m", "retrofit", "import", str(path), "--who", "麟游县住建局"],
                              cwd=ROOT, env=dict(os.environ, RETROFIT_DB_URL=store_url), capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "已导入" in done.stdout

        imported = time.time()
        for page, shown, server in zip(pages, before, servers):
            missed, seen = _wait_for_change(page, front, shown, imported)
            print(f"\n{server}: a page load begun {seen:.1f} s after the import shows it"
                  + (f", one begun {missed:.1f} s after did not" if missed is not None else ""))
        after = [_county_progress(page, front) for page in pages]
        assert after[0] == after[1] != before[0]
        done_before, done_after = (int(re.search(r":([\d,]+)户", s).group(1).replace(",", "")) for s in
                                   (before[0], after[0]))
        assert done_after == done_before + 1  # the one household connected in the file
        for context, server in zip(contexts, servers):
            assert _upstream(context, front) == server  # still on its own server
    finally:
        for context in contexts:
            context.close()
