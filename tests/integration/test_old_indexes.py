"""Stores built by earlier code keep their indexes under the same names: ix_household_village was
on village_code alone before the village list needed plan_year in it. Opening, refreshing or
migrating such a store gives it the model's index; a store already right is left alone. On
SQLite and PostgreSQL (the `store` fixture)."""
from builders import add_household, add_village
from sqlalchemy import inspect, select

from retrofit import db, demo, store as stores, summary


def index_columns(engine, name: str) -> tuple[str, ...] | None:
    with engine.connect() as conn:
        found = {i["name"]: tuple(i["column_names"]) for i in inspect(conn).get_indexes("heating_household")}
    return found.get(name)


def keep_the_old_village_index(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_household_village")
        conn.exec_driver_sql("CREATE INDEX ix_household_village ON heating_household (village_code)")


def test_a_store_with_the_one_column_village_index_gets_the_models_at_its_next_refresh(store):
    keep_the_old_village_index(store)
    assert index_columns(store, "ix_household_village") == ("village_code",)
    with store.begin() as conn:
        db.bump_revision(conn)
        summary.refresh_summary(conn)
    assert index_columns(store, "ix_household_village") == ("village_code", "plan_year")


def test_opening_a_store_with_the_one_column_village_index_rebuilds_it_and_keeps_every_household(store):
    village = add_village(store)
    add_household(store, "H1", village, 2026)
    add_household(store, "H2", village, 2025)
    keep_the_old_village_index(store)
    demo.ensure_store(store)
    assert index_columns(store, "ix_household_village") == ("village_code", "plan_year")
    with store.connect() as conn:
        kept = set(conn.execute(select(db.heating_household.c.code)).scalars())
    assert kept == {"H1", "H2"}
    assert stores.ensure_indexes(store) == []


def test_a_store_missing_the_county_index_gets_it_when_opened(store):
    with store.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_household_county")
    assert index_columns(store, "ix_household_county") is None
    assert stores.ensure_indexes(store) == ["ix_household_county"]
    assert index_columns(store, "ix_household_county") == ("county_adcode",)


def test_a_store_whose_indexes_are_the_models_is_left_as_it_is(store):
    with store.connect() as conn:
        assert db.load_stale_indexes(conn) == []
    assert stores.ensure_indexes(store) == []
