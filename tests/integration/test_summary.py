"""The summary (retrofit/summary.py) gives every figure the facts give, on any date: the direct
queries (from_facts=True) are the oracle. Random households and random dates (hypothesis), on
SQLite and PostgreSQL (the `store` fixture), and the demo city on a few hundred dates."""
from datetime import date, timedelta

import pandas as pd
from builders import NORTH, SOUTH, add_household, add_project, add_village, chain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from retrofit import db, queries, summary
from retrofit.settings import SUBSIDY_DUE_DAYS

FIRST_DAY, LAST_DAY = date(2024, 10, 1), date(2027, 12, 31)
days = st.dates(FIRST_DAY, LAST_DAY)


def refresh(engine, counties=None) -> None:
    with engine.begin() as conn:
        db.bump_revision(conn)
        summary.refresh_summary(conn, counties)


def sorted_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def assert_summary_gives_the_facts(engine, year: int, as_of: date) -> None:
    assert summary.is_fresh(engine)
    pd.testing.assert_frame_equal(queries.load_heating_progress(engine, year, as_of),
                                  queries.load_heating_progress(engine, year, as_of, from_facts=True))
    pd.testing.assert_frame_equal(queries.load_route_mix(engine, year, as_of),
                                  queries.load_route_mix(engine, year, as_of, from_facts=True))
    pd.testing.assert_frame_equal(queries.load_renovation_progress(engine, year, as_of),
                                  queries.load_renovation_progress(engine, year, as_of, from_facts=True))
    keys = ["adcode", "plan_year"]
    pd.testing.assert_frame_equal(
        sorted_frame(queries.load_subsidy_due(engine, as_of, SUBSIDY_DUE_DAYS), keys),
        sorted_frame(queries.load_subsidy_due(engine, as_of, SUBSIDY_DUE_DAYS, from_facts=True), keys))


@st.composite
def households(draw):
    """A household of plan year 2025 or 2026: the first k milestones reached in order, and
    normal, idle (闲置) or cancelled (取消, 核减) since some date."""
    reached = draw(st.integers(0, 4))
    day = draw(days)
    milestones = {}
    for key in ("confirmed", "tendered", "installed", "connected")[:reached]:
        milestones[key] = day
        day = min(LAST_DAY, day + timedelta(days=draw(st.integers(0, 120))))
    status = draw(st.sampled_from(["正常使用", "正常使用", "闲置", "取消"]))
    return dict(year=draw(st.sampled_from([2025, 2026])), county=draw(st.sampled_from([NORTH, SOUTH])),
                route=draw(st.sampled_from(["生物质", "空气源热泵"])), status=status,
                status_on=None if status == "正常使用" else draw(days), **milestones)


@st.composite
def projects(draw):
    reached = draw(st.integers(0, 6))
    day, stages = draw(days), []
    for _ in range(reached):
        stages.append(day)
        day = min(LAST_DAY, day + timedelta(days=draw(st.integers(0, 90))))
    return dict(county=draw(st.sampled_from([NORTH, SOUTH])), households=draw(st.integers(1, 300)), stages=stages)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=st.lists(households(), max_size=25), communities=st.lists(projects(), max_size=6),
       dates=st.lists(days, min_size=1, max_size=4), year=st.sampled_from([2025, 2026]))
def test_the_summary_counts_what_the_facts_count_on_any_date(store, facts, communities, dates, year):
    with store.begin() as conn:
        for table in (db.investment_booking, db.renovation_project, db.heating_household):
            conn.execute(delete(table))
        known = set(conn.execute(select(db.village.c.code)).scalars())
    villages = {county: f"{county}101201" for county in (NORTH, SOUTH)}
    for county, code in villages.items():
        if code not in known:
            add_village(store, county, code)
    for n, fact in enumerate(facts):
        fact = dict(fact)
        county, year_planned = fact.pop("county"), fact.pop("year")
        add_household(store, f"H{n}", villages[county], year_planned, county=county, **fact)
    for n, community in enumerate(communities):
        project_id = add_project(store, f"P{n}", community["county"], community["households"],
                                 **chain(*community["stages"]))
        if community["stages"]:
            with store.begin() as conn:
                conn.execute(db.investment_booking.insert().values(
                    project_id=project_id, booked_on=community["stages"][0], amount_yuan=1000 * (n + 1)))
    refresh(store)
    for as_of in dates:
        assert_summary_gives_the_facts(store, year, as_of)


def test_a_household_connected_after_the_deadline_counts_in_the_year_that_carried_it(store):
    village = add_village(store)
    add_household(store, "LATE", village, 2025, confirmed=date(2025, 3, 1), tendered=date(2025, 4, 1),
                  installed=date(2025, 10, 1), connected=date(2026, 2, 1))
    refresh(store)
    late_2025 = queries.load_heating_progress(store, 2025, date(2026, 7, 1)).set_index("adcode")
    late_2026 = queries.load_heating_progress(store, 2026, date(2026, 7, 1)).set_index("adcode")
    assert late_2025.loc[NORTH, "connected_households"] == 0  # the 2025 task closed on 15 Nov 2025
    assert late_2026.loc[NORTH, ["carried_households", "connected_households"]].tolist() == [1, 1]
    assert_summary_gives_the_facts(store, 2025, date(2026, 7, 1))


def test_an_approved_cancellation_leaves_the_counts_from_its_approval_date(store):
    village = add_village(store)
    add_household(store, "GONE", village, 2026, status="取消", status_on=date(2026, 6, 1),
                  confirmed=date(2026, 3, 1), tendered=date(2026, 4, 1))
    refresh(store)
    before = queries.load_heating_progress(store, 2026, date(2026, 5, 31)).set_index("adcode").loc[NORTH]
    after = queries.load_heating_progress(store, 2026, date(2026, 6, 1)).set_index("adcode").loc[NORTH]
    assert (before["tendered_households"], before["cancelled_households"]) == (1, 0)
    assert (after["tendered_households"], after["cancelled_households"]) == (0, 1)


def test_a_county_refresh_rebuilds_only_that_county_and_matches_the_facts(store):
    village = add_village(store)
    add_household(store, "N1", village, 2026, confirmed=date(2026, 3, 1))
    refresh(store)
    with store.begin() as conn:
        conn.execute(update(db.heating_household).values(tendered_on=date(2026, 4, 2)))
        db.bump_revision(conn)
        summary.refresh_summary(conn, (NORTH,))
    assert queries.load_heating_progress(store, 2026, date(2026, 7, 1)).set_index("adcode").loc[
        NORTH, "tendered_households"] == 1
    assert_summary_gives_the_facts(store, 2026, date(2026, 7, 1))


def test_a_store_whose_summary_is_behind_its_revision_is_counted_from_the_facts(store):
    village = add_village(store)
    refresh(store)
    add_household(store, "NEW", village, 2026, confirmed=date(2026, 3, 1))
    with store.begin() as conn:
        db.bump_revision(conn)  # a change that did not refresh the summary
    assert not summary.is_fresh(store)
    assert queries.load_heating_progress(store, 2026, date(2026, 7, 1)).set_index("adcode").loc[
        NORTH, "confirmed_households"] == 1


def test_publishing_keeps_a_current_summary_current(store):
    refresh(store)
    with store.begin() as conn:
        db.bump_revision(conn, facts_unchanged=True)
    assert summary.is_fresh(store)


def test_the_demo_city_summary_matches_its_facts_on_many_dates(demo_engine):
    day = date(2025, 1, 1)
    while day <= date(2026, 11, 20):
        assert_summary_gives_the_facts(demo_engine, day.year, day)
        day += timedelta(days=97)
