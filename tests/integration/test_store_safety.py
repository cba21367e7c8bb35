"""Stores this code did not build, or cannot read, are refused with a Chinese message and left
byte for byte as they were; the demo goes only into an empty store or over a demo store."""
import os
import socket
import sqlite3
from datetime import date

import pytest
from sqlalchemy import text

from builders import NORTH, copy_sqlite_store, make_store, sha256_of, write_held_open
from retrofit import db, demo, report
from retrofit import store as stores
from retrofit.cli import main

PG_URL = os.environ.get("RETROFIT_TEST_PG_URL")
on_postgresql = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL here: set RETROFIT_TEST_PG_URL (.ci/run does)")


def foreign_sqlite_store(path) -> str:
    """Another application's SQLite file, with a table that happens to be named like ours."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, title TEXT)")
        conn.execute("INSERT INTO report (title) VALUES ('季度财务报告'), ('年度审计')")
    return f"sqlite:///{path}"


def run_cli(monkeypatch, url: str, *argv: str) -> int:
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    return main(list(argv))


def test_a_read_only_command_leaves_another_applications_store_untouched(tmp_path, monkeypatch, capsys):
    url = foreign_sqlite_store(tmp_path / "other.db")
    before = sha256_of(tmp_path / "other.db")
    assert run_cli(monkeypatch, url, "rank", "--program", "heating", "--measure", "completion_rate") == 2
    err = capsys.readouterr().err
    assert "other.db" in err and "不是本系统建立的" in err and "report" in err
    assert sha256_of(tmp_path / "other.db") == before
    assert sorted(os.listdir(tmp_path)) == ["other.db"]  # no WAL or journal files left either


def test_demo_never_drops_a_foreign_table_even_when_forced(tmp_path, monkeypatch, capsys):
    url = foreign_sqlite_store(tmp_path / "other.db")
    before = sha256_of(tmp_path / "other.db")
    assert run_cli(monkeypatch, url, "demo") == 2
    assert run_cli(monkeypatch, url, "demo", "--force") == 2
    assert "不会删除不属于本系统的表" in capsys.readouterr().err
    assert sha256_of(tmp_path / "other.db") == before


def test_a_store_whose_counties_were_deleted_is_refused_not_refilled(demo_url, tmp_path, monkeypatch, capsys):
    url = copy_sqlite_store(demo_url, tmp_path / "store.db")
    with sqlite3.connect(tmp_path / "store.db") as conn:  # as the sqlite3 shell does: foreign keys off
        conn.execute("DELETE FROM county")
        households = conn.execute("SELECT count(*) FROM heating_household").fetchone()[0]
    before = sha256_of(tmp_path / "store.db")
    assert run_cli(monkeypatch, url, "measures") == 2
    assert "没有县区数据" in capsys.readouterr().err
    assert sha256_of(tmp_path / "store.db") == before
    with sqlite3.connect(tmp_path / "store.db") as conn:
        assert conn.execute("SELECT count(*) FROM heating_household").fetchone()[0] == households > 0


def test_a_real_store_is_replaced_by_the_demo_only_with_force(store_url_with_real_data, monkeypatch, capsys):
    url, engine = store_url_with_real_data
    assert run_cli(monkeypatch, url, "demo") == 2
    assert "--force" in capsys.readouterr().err
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM county")).scalar() == 2  # the hand-built store, untouched
    assert run_cli(monkeypatch, url, "demo", "--force", "--seed", "7") == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM county")).scalar() == 12
        # A table of someone else's beside ours survives the replacement.
        assert conn.execute(text("SELECT note FROM their_notes")).scalar() == "保留"


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def store_url_with_real_data(request, tmp_path):
    url = PG_URL if request.param == "postgresql" else f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_store(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS their_notes"))
        conn.execute(text("CREATE TABLE their_notes (note VARCHAR(10))"))
        conn.execute(text("INSERT INTO their_notes VALUES ('保留')"))
    yield url, engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS their_notes"))
    engine.dispose()


def test_an_old_demo_store_is_rebuilt_with_a_note(demo_url, tmp_path):
    engine = db.make_engine(copy_sqlite_store(demo_url, tmp_path / "store.db"))
    with engine.begin() as conn:
        conn.execute(db.store_meta.delete().where(db.store_meta.c.key == db.SCHEMA_VERSION_KEY))
    old_revision = db.load_revision(engine)
    assert demo.ensure_store(engine) == stores.REBUILT_NOTE
    assert stores.inspect_store(engine).kind == stores.READY
    assert db.load_revision(engine) != old_revision


@pytest.mark.parametrize("version, is_demo, refused", [
    (None, "0", "没有记录表结构版本"),
    ("0", "0", "需要版本"),
    (str(db.SCHEMA_VERSION + 1), "1", "只认识"),
    (str(db.SCHEMA_VERSION + 1), "0", "只认识"),
])
def test_a_store_of_a_schema_this_code_does_not_understand_is_refused_untouched(
        demo_url, tmp_path, monkeypatch, capsys, version, is_demo, refused):
    url = copy_sqlite_store(demo_url, tmp_path / "store.db")
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("DELETE FROM store_meta WHERE key IN ('schema_version', 'is_demo')")
        conn.execute("INSERT INTO store_meta VALUES ('is_demo', ?)", (is_demo,))
        if version is not None:
            conn.execute("INSERT INTO store_meta VALUES ('schema_version', ?)", (version,))
    before = sha256_of(tmp_path / "store.db")
    assert run_cli(monkeypatch, url, "measures") == 2
    assert refused in capsys.readouterr().err
    assert sha256_of(tmp_path / "store.db") == before


def test_a_missing_sqlite_store_gets_the_demo_city(tmp_path, monkeypatch, capsys):
    assert run_cli(monkeypatch, f"sqlite:///{tmp_path / 'new.db'}", "measures", "--format", "json") == 0
    assert "数据库为空,已生成演示数据" in capsys.readouterr().err


def test_a_corrupt_store_is_named_and_left_alone(tmp_path, monkeypatch, capsys):
    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))
    before = sha256_of(path)
    assert run_cli(monkeypatch, f"sqlite:///{path}", "notice") == 2
    err = capsys.readouterr().err
    assert "broken.db" in err and "已损坏或不是数据库文件" in err and "Traceback" not in err
    assert sha256_of(path) == before


def test_a_store_in_a_missing_folder_is_named(tmp_path, monkeypatch, capsys):
    assert run_cli(monkeypatch, f"sqlite:///{tmp_path / 'no' / 'store.db'}", "measures") == 2
    assert "无法打开" in capsys.readouterr().err


def test_sqlite_store_runs_in_wal_mode_once_it_is_ours(demo_engine):
    with demo_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@on_postgresql
def test_foreign_postgresql_table_survives_a_command(monkeypatch, capsys):
    engine = make_store(PG_URL)
    with engine.begin() as conn:
        db.metadata.drop_all(conn)
        conn.execute(text("CREATE TABLE report (id INTEGER PRIMARY KEY, title TEXT)"))
        conn.execute(text("INSERT INTO report VALUES (1, '季度财务报告')"))
    try:
        assert run_cli(monkeypatch, PG_URL, "rank", "--program", "heating", "--measure", "completion_rate") == 2
        assert run_cli(monkeypatch, PG_URL, "demo", "--force") == 2
        assert "不是本系统建立的" in capsys.readouterr().err
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM report")).scalars().all() == ["季度财务报告"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE report"))
        engine.dispose()


@on_postgresql
def test_a_postgresql_database_that_does_not_exist_is_named(monkeypatch, capsys):
    url = PG_URL.rsplit("/", 1)[0] + "/retrofit_no_such_db"
    assert run_cli(monkeypatch, url, "measures") == 2
    err = capsys.readouterr().err
    assert "retrofit_no_such_db" in err and "不存在" in err and "retrofit:***@" in err  # password hidden


def test_a_postgresql_host_that_never_answers_is_given_up_with_a_chinese_message(monkeypatch, capsys):
    # A socket that accepts connections (the kernel completes the handshake) but never speaks.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        url = f"postgresql+psycopg://retrofit:secret@127.0.0.1:{port}/retrofit"
        assert run_cli(monkeypatch, url, "measures") == 2
    err = capsys.readouterr().err
    assert "无法连接" in err and "secret" not in err


def test_readers_answer_from_the_last_commit_while_a_writer_holds_its_transaction(store):
    from retrofit import queries

    url = store.url.render_as_string(hide_password=False)
    stores.use_wal(store)  # the hand-built store is ours: SQLite in WAL mode, as the app sets it
    with write_held_open(url, db.county.update().where(db.county.c.adcode == NORTH).values(name="改名中")):
        reader = db.make_engine(url)
        assert queries.load_counties(reader)["county"].tolist() == ["北县", "南区"]
        assert not report.compute_headline(reader, report.Scope(date(2026, 7, 2))).empty
        reader.dispose()


def test_demo_never_rebuilds_a_store_of_a_newer_schema_even_when_forced(demo_url, tmp_path, monkeypatch, capsys):
    url = copy_sqlite_store(demo_url, tmp_path / "store.db")
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("UPDATE store_meta SET value = ? WHERE key = 'schema_version'", (str(db.SCHEMA_VERSION + 1),))
    before = sha256_of(tmp_path / "store.db")
    assert run_cli(monkeypatch, url, "demo", "--force") == 2
    assert "请升级本程序" in capsys.readouterr().err
    assert sha256_of(tmp_path / "store.db") == before


def test_every_rebuild_gets_a_new_store_id_and_a_higher_revision(demo_url, tmp_path):
    engine = db.make_engine(copy_sqlite_store(demo_url, tmp_path / "store.db"))
    keys = [db.load_revision(engine)]
    for seed in (7, 8):
        demo.build_demo(engine, seed)
        keys.append(db.load_revision(engine))
    store_ids = [key.split(":")[0] for key in keys]
    revisions = [int(key.split(":")[1]) for key in keys]
    assert len(set(store_ids)) == 3 and all(store_ids)
    assert revisions == sorted(revisions) and len(set(revisions)) == 3  # never back to 1


# PostgreSQL only where there is one (RETROFIT_TEST_PG_URL; .ci/run sets it), as in every other store test.
@pytest.mark.parametrize("backend", ["sqlite"] + (["postgresql"] if PG_URL else []))
def test_servers_starting_together_on_an_empty_store_build_the_demo_once(backend, tmp_path):
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'new.db'}"
    if backend == "postgresql":
        from sqlalchemy import MetaData
        engine = db.make_engine(url)
        everything = MetaData()
        everything.reflect(engine)
        everything.drop_all(engine)  # the test database, emptied: whatever the last test left
        engine.dispose()
    import threading
    start, notes, errors = threading.Barrier(2), [], []

    def start_server():  # what ui._open_store does in each app server's process
        engine = db.make_engine(url)
        start.wait()
        try:
            notes.append(demo.ensure_store(engine))
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)
        finally:
            engine.dispose()

    servers = [threading.Thread(target=start_server) for _ in range(2)]
    for server in servers:
        server.start()
    for server in servers:
        server.join()
    assert errors == []
    assert sorted(notes, key=str) == [None, stores.BUILT_NOTE]  # one built, the other found it built
    engine = db.make_engine(url)
    assert stores.inspect_store(engine).kind == stores.READY
    assert stores.inspect_store(engine).revision == 1  # built once, not built and then rebuilt
    engine.dispose()
