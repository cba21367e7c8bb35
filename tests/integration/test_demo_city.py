"""The demo city built from nothing: invariants a real city's data would satisfy, and the
problems it is meant to show."""
import json
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from retrofit import db, demo, queries, report
from retrofit.geo import county_of_point
from retrofit.vocab import MILESTONES, STAGES

AS_OF = demo.DEMO_DATA_DATE


def _table(engine, table) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(select(table))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _flags(engine, program, key) -> dict[str, str]:
    table = report.compute_measure_table(engine, program, key, report.Scope(AS_OF))
    return dict(zip(table["county"], table["flag"]))


def test_demo_city_is_baoji_with_its_twelve_counties(demo_engine):
    counties = queries.load_counties(demo_engine)
    assert len(counties) == 12
    assert {"渭滨区", "金台区", "陈仓区", "凤翔区", "陇县", "太白县"} <= set(counties["county"])
    assert db.load_data_date(demo_engine) == date(2026, 11, 20)
    assert db.load_is_demo(demo_engine)


def test_demo_is_sized_like_a_real_city(demo_engine):
    projects, households = _table(demo_engine, db.renovation_project), _table(demo_engine, db.heating_household)
    assert 200 <= len(projects) <= 600
    assert sorted(projects["batch_year"].unique()) == list(range(2021, 2027))
    assert 40_000 <= len(households) <= 80_000
    assert projects["year_built"].max() < 2000


def test_every_household_is_in_a_village_of_its_own_county(demo_engine):
    households = _table(demo_engine, db.heating_household)
    villages = _table(demo_engine, db.village).merge(_table(demo_engine, db.township), left_on="township_code",
                                                     right_on="code", suffixes=("", "_township"))
    merged = households.merge(villages[["code", "county_adcode"]], left_on="village_code", right_on="code",
                              suffixes=("", "_village"), how="left")
    assert merged["county_adcode_village"].notna().all()
    assert (merged["county_adcode"] == merged["county_adcode_village"]).all()


def test_every_community_and_village_lies_inside_its_county(demo_engine):
    projects = _table(demo_engine, db.renovation_project)
    assert [county_of_point(x, y) for x, y in zip(projects["lon"], projects["lat"])] == projects["county_adcode"].tolist()
    villages = _table(demo_engine, db.village)
    assert [county_of_point(x, y) for x, y in zip(villages["lon"], villages["lat"])] == [
        code[:6] for code in villages["township_code"]]


def test_no_stage_or_milestone_is_dated_before_the_previous_one_or_after_the_data_date(demo_engine):
    for table, columns in ((db.renovation_project, [f"{s.key}_actual" for s in STAGES]),
                           (db.heating_household, [f"{m.key}_on" for m in MILESTONES])):
        frame = _table(demo_engine, table)[columns]
        for earlier, later in zip(columns, columns[1:]):
            has_later = frame[later].notna()
            assert frame.loc[has_later, earlier].notna().all()
            assert (frame.loc[has_later, earlier] <= frame.loc[has_later, later]).all()
        assert (frame.stack().dropna() <= AS_OF).all()


def test_disbursements_never_exceed_their_allocation_nor_precede_it(demo_engine):
    allocations = queries.load_allocations(demo_engine, AS_OF)
    assert (allocations["disbursed_yuan"] <= allocations["allocated_yuan"]).all()
    paid = _table(demo_engine, db.fund_disbursement).merge(
        _table(demo_engine, db.fund_allocation), left_on="allocation_id", right_on="id")
    assert (paid["paid_on"] >= paid["allocated_on"]).all()


def test_plan_carryover_matches_the_households_carried_by_the_dates(demo_engine):
    for year in (2025, 2026):
        progress = queries.load_heating_progress(demo_engine, year, AS_OF)
        assert (progress["carryover_households"] == progress["carried_households"]).all()
        assert (progress["target_households"] == progress["task_households"]).all()


def test_demo_shows_laggards_on_both_programs(demo_engine):
    heating = _flags(demo_engine, "heating", "completion_rate")
    assert {heating["陇县"], heating["麟游县"], heating["太白县"]} == {"red"}
    renovation = _flags(demo_engine, "renovation", "finish_rate")
    assert renovation["凤翔区"] == "red"
    assert sum(flag == "red" for flag in heating.values()) <= 4  # most counties are not red


def test_one_county_never_issued_its_implementation_plan(demo_engine):
    plans = _table(demo_engine, db.heating_plan)
    never = plans[(plans["year"] == 2026) & plans["plan_issued_on"].isna()]
    assert never["county_adcode"].tolist() == ["610331"]


def test_funds_are_retained_in_at_least_two_counties_one_from_an_earlier_year(demo_engine):
    retained = report.compute_retained_funds(demo_engine, report.Scope(AS_OF))
    flagged = retained[retained["flagged"]]
    assert flagged["county"].nunique() >= 2
    assert (flagged["plan_year"] < 2026).any()


def test_some_supervision_items_are_open_and_overdue(demo_engine):
    items = report.compute_supervision(demo_engine, report.Scope(AS_OF))
    assert (items["status"] == "逾期未销号").sum() >= 2
    assert (items["status"] == "办理中").sum() >= 1


def test_same_seed_gives_the_same_city(tmp_path):
    first, _ = demo.build_demo_rows(7)
    second, _ = demo.build_demo_rows(7)
    assert {t.name: rows for t, rows in first.items()} == {t.name: rows for t, rows in second.items()}


def test_rebuilding_is_atomic_a_failure_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'atomic.db'}")
    demo.build_demo(engine, 1)
    before = _table(engine, db.heating_household)["code"].tolist()

    build_rows = demo.build_demo_rows

    def broken(seed):
        rows, meta = build_rows(seed)
        rows[db.heating_household][-1]["route"] = "烧煤"  # violates the route CHECK at the very end
        return rows, meta

    monkeypatch.setattr(demo, "build_demo_rows", broken)
    with pytest.raises(Exception, match="CHECK"):
        demo.build_demo(engine, 2)
    assert _table(engine, db.heating_household)["code"].tolist() == before


def test_cli_rank_json_recomputes_by_hand_in_sql(demo_url, tmp_path):
    env = {"RETROFIT_DB_URL": demo_url, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "retrofit", "rank", "--program", "heating", "--measure",
                          "completion_rate", "--format", "json"], capture_output=True, text=True, env=env,
                         check=True).stdout
    ranking = json.loads(out)
    assert {"county", "adcode", "value", "numerator", "denominator", "rank", "rank_change", "flag"} <= set(ranking[0])
    engine = db.make_engine(demo_url)
    with engine.connect() as conn:
        for row in ranking:
            # Households of the 2026 task: the 2026 plan, plus earlier plans' not connected by 15 Nov 2025
            # nor cancelled by then; counted up to the task's close on 15 Nov 2026 (later ones carry over).
            task = ("county_adcode = ? AND (plan_year = 2026 OR (plan_year < 2026 AND (connected_on IS NULL OR"
                    " connected_on > '2025-11-15') AND NOT (status = '取消' AND status_on <= '2025-11-15')))")
            cancelled_by_close = "status = '取消' AND status_on <= '2026-11-15'"
            connected = conn.exec_driver_sql(
                f"SELECT COUNT(*) FROM heating_household WHERE {task} AND connected_on <= '2026-11-15'"
                f" AND NOT ({cancelled_by_close})", (row["adcode"],)).scalar()
            cancelled = conn.exec_driver_sql(
                f"SELECT COUNT(*) FROM heating_household WHERE {task} AND {cancelled_by_close}", (row["adcode"],)
            ).scalar()
            target = conn.exec_driver_sql("SELECT target_households FROM heating_plan WHERE county_adcode = ?"
                                          " AND year = 2026", (row["adcode"],)).scalar()
            assert (row["numerator"], row["denominator"]) == (connected, target - cancelled)
            assert row["value"] == connected / (target - cancelled)
    assert [r["rank"] for r in ranking] == sorted(r["rank"] for r in ranking)
