"""The pages when the store is busy, rebuilt by another process, broken or foreign, and when the URL
asks for what does not exist: last committed figures, fresh figures after a rebuild, Chinese
messages with what to do, never an English traceback."""
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from signing import sign_in

from builders import copy_sqlite_store, sha256_of, write_held_open
from retrofit import db, fmt, report, ui
from retrofit import store as stores
from retrofit.cli import main
from retrofit.demo import DEMO_DATA_DATE
from retrofit.settings import SQLITE_BUSY_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"


def open_app(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    return sign_in(AppTest.from_file(str(APP), default_timeout=90))


def heating_completion_shown(engine) -> str:
    row = report.compute_headline(engine, report.Scope(DEMO_DATA_DATE)).set_index(["program", "key"]).loc[
        ("heating", "completion_rate")]
    return fmt.format_percent_of(row["numerator"], row["denominator"])


def completion_shown(at) -> str:
    """The overview's heating completion rate (its label starts with 完成率)."""
    return next(m.value for m in at.metric if m.label.startswith("完成率"))


@pytest.fixture
def store_copy(demo_url, tmp_path) -> str:
    """A private copy of the demo city, free to be written, rebuilt or locked."""
    return copy_sqlite_store(demo_url, tmp_path / "store.db")


def test_pages_answer_from_the_last_commit_while_a_writer_holds_its_transaction(store_copy, monkeypatch, capsys):
    engine = db.make_engine(store_copy)
    committed = heating_completion_shown(engine)
    at = open_app(monkeypatch, store_copy).run()  # signing in writes (session, audit): before the writer
    # Undo every connection of the year, uncommitted: the completion rate would drop to 0%.
    with write_held_open(store_copy, "UPDATE heating_household SET connected_on = NULL"):
        start = time.monotonic()
        at.run()
        assert not at.exception and not at.error
        assert completion_shown(at) == committed
        assert main(["measures", "--format", "json"]) == 0
        # Past the busy timeout a waiting reader would have given up; a WAL reader never waits.
        time.sleep(max(0.0, SQLITE_BUSY_TIMEOUT_S + 2 - (time.monotonic() - start)))
        assert heating_completion_shown(engine) == committed
        at.run()
        assert not at.error and completion_shown(at) == committed
    assert '"key": "completion_rate"' in capsys.readouterr().out


def test_a_rebuild_in_another_process_reaches_the_running_app(store_copy, monkeypatch):
    at = open_app(monkeypatch, store_copy)
    at.run()
    engine = db.make_engine(store_copy)
    before = heating_completion_shown(engine)
    assert completion_shown(at) == before
    # Another process rebuilds the demo with another seed: the revision counter would restart
    # at 1 if it were not for the store id.
    subprocess.run([sys.executable, "-m", "retrofit", "demo", "--seed", "7"], cwd=ROOT, check=True,
                   env={**os.environ, "RETROFIT_DB_URL": store_copy}, capture_output=True)
    after = heating_completion_shown(engine)
    assert after != before
    ui._revision.clear()  # the revision is re-read every few seconds; this stands for that wait
    # A rebuild keeps the accounts and their sessions: the running session stays signed in and
    # shows the rebuilt store's figures, as does a new one.
    at.run()
    assert not any(t.key == "login_name" for t in at.text_input)
    assert completion_shown(at) == after
    at = open_app(monkeypatch, store_copy).run()
    assert completion_shown(at) == after


def error_text(at) -> str:
    return "\n".join(e.value for e in at.error)


def test_a_foreign_store_stops_the_page_with_a_chinese_message(tmp_path, monkeypatch):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, title TEXT)")
    before = sha256_of(path)
    at = open_app(monkeypatch, f"sqlite:///{path}")
    at.run()
    assert not at.exception
    assert "不是本系统建立的" in error_text(at) and "RETROFIT\\_DB\\_URL" in error_text(at)
    assert sha256_of(path) == before


def test_a_corrupt_store_stops_the_page_with_a_chinese_message(tmp_path, monkeypatch):
    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    at = open_app(monkeypatch, f"sqlite:///{path}")
    at.run()
    assert not at.exception
    assert "已损坏或不是数据库文件" in error_text(at)


def test_a_store_emptied_of_counties_stops_the_page_instead_of_refilling_it(store_copy, monkeypatch):
    path = store_copy.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM county")
        households = conn.execute("SELECT count(*) FROM heating_household").fetchone()[0]
    at = open_app(monkeypatch, store_copy)
    at.run()
    assert not at.exception
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM heating_household").fetchone()[0] == households
    assert "没有县区数据" in error_text(at)


def test_errors_show_no_english_details_or_outside_links():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'showErrorDetails = "none"' in config and "showErrorLinks = false" in config


def test_desk_page_names_the_url_values_it_could_not_use(demo_url, monkeypatch):
    at = open_app(monkeypatch, demo_url)
    at.query_params["county"] = "不存在县"
    at.query_params["as_of"] = "9999-99-99"
    at.run()
    assert not at.exception
    note = "\n".join(c.value for c in at.caption)
    assert "未找到县区“不存在县”" in note and "as\\_of\\=9999\\-99\\-99不是日期" in note
    assert "范围:**全市**" in "\n".join(m.value for m in at.markdown)


def test_desk_page_without_bad_url_values_has_no_note(demo_url, monkeypatch):
    at = open_app(monkeypatch, demo_url)
    at.query_params["county"] = "陇县"
    at.run()
    assert not any("地址栏参数有误" in c.value for c in at.caption)


HOSTILE = {"county": "**粗体**县", "community": "=1+1", "street": "![](http://host/b.png)",
           "village": "[点我](http://host/x)"}


@pytest.fixture
def hostile_store(store_copy) -> str:
    """The demo city where a county, a community, its street and a village carry markup."""
    engine = db.make_engine(store_copy)
    with engine.begin() as conn:
        conn.execute(text("UPDATE county SET name = :n WHERE adcode = '610327'"), {"n": HOSTILE["county"]})
        conn.execute(text("UPDATE renovation_project SET name = :n, street = :s WHERE id = "
                          "(SELECT min(id) FROM renovation_project WHERE batch_year = 2026)"),
                     {"n": HOSTILE["community"], "s": HOSTILE["street"]})
        conn.execute(text("UPDATE village SET name = :n WHERE code = (SELECT min(code) FROM village)"),
                     {"n": HOSTILE["village"]})
        db.bump_revision(conn)
    engine.dispose()
    return store_copy


def markdown_texts(at) -> list[str]:
    return [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
            for e in getattr(at, kind)]


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/renovation.py", "pages/heating.py"])
def test_stored_names_never_render_as_markdown(hostile_store, monkeypatch, page):
    at = open_app(monkeypatch, hostile_store)
    at.query_params["county"] = HOSTILE["county"]
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    texts = markdown_texts(at)
    assert any(fmt.escape_markdown(HOSTILE["county"]) in t for t in texts)  # shown, as written
    for raw in HOSTILE.values():
        assert not any(raw in t for t in texts), raw


def test_markdown_escape_keeps_text_and_disarms_markup():
    assert fmt.escape_markdown("陇县") == "陇县"
    assert fmt.escape_markdown("**粗体**") == r"\*\*粗体\*\*"
    assert fmt.escape_markdown("![](http://host/b.png)") == "\\!\\[\\]\\(http\u200b\\:\\/\\/host\\/b\\.png\\)"
    assert fmt.escape_markdown("www.host.cn a@host.cn") == "www\u200b\\.host\\.cn a\\@\u200bhost\\.cn"
    assert fmt.escape_markdown(":red[警告] $x$") == r"\:red\[警告\] \$x\$"


def test_no_page_shows_a_full_phone_number(demo_url, monkeypatch):
    at = open_app(monkeypatch, demo_url)
    at.run()
    phone = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")  # a mobile number standing alone
    for page in ("pages/overview.py", "pages/renovation.py", "pages/heating.py", "pages/ranking.py",
                 "pages/map.py", "pages/briefing.py", "pages/screen.py"):
        at.switch_page(page).run()
        shown = markdown_texts(at) + [m.value for m in at.metric] + [
            d.value.to_csv() for d in at.dataframe] + [c.value for c in at.code] + [
            h.proto.body for h in at.get("html")]
        assert shown and not any(phone.search(str(t)) for t in shown), page


def test_an_old_demo_store_is_rebuilt_and_the_user_told(store_copy, monkeypatch):
    with sqlite3.connect(store_copy.removeprefix("sqlite:///")) as conn:
        conn.execute("DELETE FROM store_meta WHERE key = 'schema_version'")  # as built before versioning
    at = open_app(monkeypatch, store_copy)
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.toast] == [stores.REBUILT_NOTE]


def test_a_postgresql_host_that_never_answers_is_reported_on_the_page(monkeypatch):
    with socket.socket() as silent:  # accepts connections, never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        at = open_app(monkeypatch, f"postgresql+psycopg://retrofit:secret@127.0.0.1:{silent.getsockname()[1]}/x")
        at.run()
    assert not at.exception
    assert "无法连接" in error_text(at) and "secret" not in error_text(at)
