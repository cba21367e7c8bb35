"""A real store built by the previous version (schema 1, before cities) is refused with the way
out named, and `python -m retrofit migrate` upgrades it in place without touching its rows."""
import os
from datetime import date

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from retrofit import db, queries, store, summary
from retrofit.cli import main

PG_URL = os.environ.get("RETROFIT_TEST_PG_URL")


# Tables version 2 added.
NEW_IN_2 = ("city", "heating_summary", "subsidy_summary", "renovation_summary", "account", "account_session",
            "display_token", "audit_event")


def make_v1_store(url: str):
    """Our tables as schema version 1 had them: no city table, no county.city_adcode, no payment
    voucher numbers. Holds one county and one payment."""
    engine = db.make_engine(url)
    db.metadata.drop_all(engine)
    v1 = MetaData(naming_convention=db.metadata.naming_convention)
    Table("county", v1, Column("adcode", String(6), primary_key=True),
          Column("name", String(20), nullable=False, unique=True), Column("kind", String(6), nullable=False),
          Column("seq", Integer, nullable=False))
    for table in db.metadata.sorted_tables:
        if table.name == "fund_disbursement":
            Table(table.name, v1, *[c._copy() for c in table.columns if c.name != "code"])
        elif table.name not in (*NEW_IN_2, "county"):
            table.to_metadata(v1)
    v1.drop_all(engine)
    v1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(v1.tables["county"].insert(), [dict(adcode="610001", name="北县", kind="县", seq=1)])
        conn.execute(v1.tables["fund_allocation"].insert().values(
            id=1, code="北财〔2026〕1号", program="heating", county_adcode="610001", plan_year=2026, source="省级补助",
            amount_yuan=1_000_000, allocated_on=date(2026, 3, 1)))
        conn.execute(v1.tables["fund_disbursement"].insert().values(id=7, allocation_id=1, amount_yuan=400_000,
                                                                    paid_on=date(2026, 4, 1)))
        db.write_meta(conn, data_date=date(2026, 7, 2).isoformat(), is_demo=0, revision=3, store_id="x",
                      **{db.SCHEMA_VERSION_KEY: 1})
    return engine


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def v1_url(request, tmp_path):
    url = PG_URL if request.param == "postgresql" else f"sqlite:///{tmp_path / 'v1.db'}"
    engine = make_v1_store(url)
    yield url
    engine.dispose()


def test_a_version_1_store_is_refused_with_the_migration_named(v1_url, monkeypatch, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", v1_url)
    assert main(["rank", "--program", "heating", "--measure", "completion_rate"]) == 2
    assert "python -m retrofit migrate" in capsys.readouterr().err


def test_migrate_adds_the_cities_and_keeps_every_row(v1_url, monkeypatch, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", v1_url)
    assert main(["migrate"]) == 0
    assert "表结构版本 1 → 2" in capsys.readouterr().out
    engine = db.make_engine(v1_url)
    state = store.inspect_store(engine)
    assert state.kind == store.READY and state.version == db.SCHEMA_VERSION and state.revision == 4
    assert summary.is_fresh(engine)
    counties = queries.load_counties(engine)
    assert list(counties["county"]) == ["北县"] and counties["city_adcode"].isna().all()
    assert queries.load_cities(engine).empty
    with engine.connect() as conn:
        assert conn.execute(select(db.fund_disbursement.c.code, db.fund_disbursement.c.amount_yuan)).all() == [
            ("ZF-7", 400_000)]
    assert main(["migrate"]) == 0
    assert "无需升级" in capsys.readouterr().out
