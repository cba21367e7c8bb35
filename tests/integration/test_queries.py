"""Queries and measures on a hand-built SQLite file: every expected value is worked out here."""
from datetime import date

import pandas as pd
import pytest
from builders import (NORTH, SOUTH, add_allocation, add_household, add_plan, add_project, add_village,
                      all_milestones, chain)
from sqlalchemy.exc import IntegrityError

from retrofit import queries, report
from builders import LEADER

D = date


@pytest.fixture
def batch(store):
    """North: 3 communities (2 started by 1 Jul, one of them finished); South: 1, not started."""
    add_project(store, "N1", households=100, investment=2_000_000,
                **chain(D(2025, 9, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1), D(2026, 6, 15)))
    add_project(store, "N2", households=200, investment=3_000_000,
                **chain(D(2025, 9, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 5, 20)))
    add_project(store, "N3", households=50, investment=1_000_000,
                **chain(D(2025, 9, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 7, 10)))  # starts after 1 Jul
    add_project(store, "S1", county=SOUTH, households=80, investment=1_000_000, **chain(D(2025, 10, 1)))
    return store


def test_stage_counts_follow_actual_dates_up_to_the_as_of_date(batch):
    progress = queries.load_renovation_progress(batch, 2026, D(2026, 7, 1)).set_index("county")
    assert progress.loc["北县", ["communities", "start_communities", "finish_communities"]].tolist() == [3, 2, 1]
    assert progress.loc["北县", "start_households"] == 300
    assert progress.loc["南区", ["communities", "reserve_communities", "start_communities"]].tolist() == [1, 1, 0]


def test_state_on_an_earlier_date_is_reconstructed(batch):
    progress = queries.load_renovation_progress(batch, 2026, D(2026, 4, 30)).set_index("county")
    assert progress.loc["北县", ["start_communities", "finish_communities"]].tolist() == [1, 0]


def test_start_rate_ranking_with_the_half_time_line(batch):
    table = report.rank_measure(batch, "renovation", "start_rate", report.Scope(D(2026, 7, 1)))
    north = table.set_index("county").loc["北县"]
    assert (north["numerator"], north["denominator"], north["rank"]) == (2, 3, 1)
    assert north["target"] == 1.0  # past the 30 June start deadline
    assert north["flag"] == "red"  # 66.7% is 33.3 points behind
    south = table.set_index("county").loc["南区"]
    assert (south["value"], south["rank"]) == (0.0, 2)


def test_county_filter_keeps_the_countys_citywide_rank(batch):
    table = report.rank_measure(batch, "renovation", "start_rate", report.Scope(D(2026, 7, 1), counties=(SOUTH,)))
    assert table["county"].tolist() == ["南区"]
    assert table["rank"].tolist() == [2]


def test_rank_change_against_the_previous_report(batch):
    # 31 Mar: nobody started (tie at 0%, both rank 1). 1 Jul: North 2/3 leads, South 0/1 second.
    table = report.rank_measure(batch, "renovation", "start_rate", report.Scope(D(2026, 7, 1)), D(2026, 3, 31))
    by_county = table.set_index("county")
    assert by_county.loc["北县", ["previous_rank", "rank", "rank_change"]].tolist() == [1, 1, 0]
    assert by_county.loc["南区", ["previous_rank", "rank", "rank_change"]].tolist() == [1, 2, -1]


def test_investment_completion_sums_bookings_up_to_the_date(batch):
    from retrofit import db
    with batch.begin() as conn:
        conn.execute(db.investment_booking.insert(), [
            dict(project_id=1, booked_on=D(2026, 4, 25), amount_yuan=500_000),
            dict(project_id=1, booked_on=D(2026, 5, 25), amount_yuan=700_000),
            dict(project_id=2, booked_on=D(2026, 7, 25), amount_yuan=900_000)])
    table = report.compute_measure_table(batch, "renovation", "investment_rate", report.Scope(D(2026, 7, 1)))
    north = table.set_index("county").loc["北县"]
    assert (north["numerator"], north["denominator"]) == (1_200_000, 6_000_000)


def test_disbursement_rate_is_paid_over_money_due_and_resident_share_over_planned_investment(store):
    add_project(store, "P1", NORTH, investment=1_250_000)
    add_allocation(store, NORTH, 1_000_000, D(2026, 3, 1), payments=[(300_000, D(2026, 4, 1)), (200_000, D(2026, 8, 1))])
    add_allocation(store, NORTH, 250_000, D(2026, 6, 1), source="居民出资", payments=[(250_000, D(2026, 6, 20))])
    add_allocation(store, NORTH, 400_000, D(2026, 6, 15), source="市县配套")  # 16 days old on 1 Jul: not due yet
    add_allocation(store, NORTH, 999_000, D(2026, 9, 1), source="省级补助")  # not yet allocated on 1 Jul
    scope = report.Scope(D(2026, 7, 1))
    paid = report.compute_measure_table(store, "renovation", "disbursement_rate", scope).set_index("county")
    assert paid.loc["北县", ["numerator", "denominator"]].tolist() == [550_000, 1_250_000]
    share = report.compute_measure_table(store, "renovation", "resident_share", scope).set_index("county")
    assert share.loc["北县", ["numerator", "denominator"]].tolist() == [250_000, 1_250_000]
    assert share.loc["北县", "flag"] == "none"  # residents' money is due by the end of July
    later = report.compute_measure_table(store, "renovation", "resident_share", report.Scope(D(2026, 8, 1)))
    assert later.set_index("county").loc["北县", "flag"] == "green"  # exactly 20%, whenever money arrived


def test_retained_funds_lists_last_years_unpaid_money(store):
    add_allocation(store, SOUTH, 800_000, D(2025, 4, 1), year=2025, payments=[(300_000, D(2025, 6, 1))])
    add_allocation(store, NORTH, 100_000, D(2026, 4, 1), payments=[(100_000, D(2026, 5, 1))])
    retained = report.compute_retained_funds(store, report.Scope(D(2026, 7, 1)))
    assert retained[["county", "plan_year", "retained_yuan", "flagged"]].values.tolist() == [
        ["南区", 2025, 500_000, True]]


@pytest.fixture
def heating(store):
    """2025: North plans 3 households, one connects late (Dec 2025) and one never: both carry over.
    2026: North plans 2 new + 2 carried; one 2026 household is cancelled in May."""
    village = add_village(store)
    add_plan(store, NORTH, 2025, 3)
    add_plan(store, NORTH, 2026, 4, carryover=2, urban_m2=100_000)
    add_household(store, "A", village, 2025, **all_milestones(D(2025, 10, 1)))
    add_household(store, "B", village, 2025, confirmed=D(2025, 3, 1), tendered=D(2025, 5, 1),
                  installed=D(2025, 11, 1), connected=D(2025, 12, 5))
    add_household(store, "C", village, 2025, confirmed=D(2025, 3, 1), tendered=D(2025, 5, 1))
    add_household(store, "D", village, 2026, **all_milestones(D(2026, 6, 1)))
    add_household(store, "E", village, 2026, confirmed=D(2026, 3, 1), status="取消", status_on=D(2026, 5, 1))
    return store


def test_households_unfinished_last_year_join_this_years_task(heating):
    progress = queries.load_heating_progress(heating, 2026, D(2026, 7, 1)).set_index("county")
    north = progress.loc["北县"]
    assert (north["task_households"], north["carried_households"]) == (4, 2)  # B, C carried; D, E new
    # Connected for the 2026 task: B (Dec 2025, after last year's deadline) and D.
    assert north["connected_households"] == 2
    # Confirmed: B, C, D; E is cancelled and no longer counts.
    assert (north["confirmed_households"], north["cancelled_households"]) == (3, 1)


def test_last_years_completion_counts_only_what_was_connected_by_its_deadline(heating):
    # B connected on 5 Dec 2025, after the 15 Nov deadline: it counts for 2026, which carried it.
    progress = queries.load_heating_progress(heating, 2025, D(2025, 12, 31)).set_index("county")
    assert progress.loc["北县", ["target_households", "task_households", "connected_households"]].tolist() == [3, 3, 1]


def test_heating_completion_rate_is_against_the_plan_target(heating):
    table = report.compute_measure_table(heating, "heating", "completion_rate", report.Scope(D(2026, 7, 1)))
    north = table.set_index("county").loc["北县"]
    assert (north["numerator"], north["denominator"]) == (2, 3)  # E's cancellation leaves the target of 4
    # 1 Jan .. 1 Jul is 182 of the 319 days to 15 Nov.
    assert north["target"] == pytest.approx(182 / 319)


def test_county_without_a_plan_is_unranked(heating):
    table = report.rank_measure(heating, "heating", "completion_rate", report.Scope(D(2026, 7, 1)))
    south = table.set_index("county").loc["南区"]
    assert pd.isna(south["rank"]) and south["flag"] == "none"
    assert table["county"].tolist() == ["北县", "南区"]  # unranked last


def test_supervision_closed_after_the_as_of_date_reads_as_open(store):
    from retrofit import db
    with store.begin() as conn:
        conn.execute(db.supervision_item.insert().values(
            code="DB-1", county_adcode=NORTH, program="heating", text="方案未下发", opened_on=D(2026, 3, 1),
            deadline=D(2026, 4, 30), closed_on=D(2026, 6, 15)))
    assert report.compute_supervision(store, report.Scope(D(2026, 5, 10)))["status"].tolist() == ["逾期未销号"]
    assert report.compute_supervision(store, report.Scope(D(2026, 7, 1)))["status"].tolist() == ["已销号"]
    assert report.compute_supervision(store, report.Scope(D(2026, 2, 1))).empty


def test_store_refuses_a_negative_household_count(store):
    with pytest.raises(IntegrityError):
        add_project(store, "BAD", households=-5)


def test_store_refuses_a_stage_dated_before_the_previous_stage(store):
    with pytest.raises(IntegrityError):
        add_project(store, "BAD", **chain(D(2025, 9, 1), D(2026, 3, 1), D(2026, 2, 1)))


def test_store_refuses_a_later_stage_without_the_earlier_one(store):
    with pytest.raises(IntegrityError):
        add_project(store, "BAD", reserve=D(2025, 9, 1), start=D(2026, 4, 1))


def test_a_villages_households_show_only_what_was_known_on_the_as_of_date(heating):
    on_may = queries.load_village_households(heating, LEADER, "610001101201", 2026, D(2026, 5, 15)).set_index("code")
    assert on_may.loc["D", "connected_on"] is None  # connects on 1 June
    assert on_may.loc["E", "status"] == "取消"       # cancelled on 1 May
    early = queries.load_village_households(heating, LEADER, "610001101201", 2026, D(2026, 4, 1)).set_index("code")
    assert early.loc["E", "status"] == "正常使用" and early.loc["E", "status_on"] is None


def test_route_filter_keeps_only_that_routes_households(heating):
    assert queries.load_village_households(heating, LEADER, "610001101201", 2026, D(2026, 7, 1), ("电蓄热",)).empty
    mix = queries.load_route_mix(heating, 2026, D(2026, 7, 1), routes=("生物质",))
    assert set(mix["route"]) == {"生物质"}


def test_counties_showing_the_same_published_rate_share_a_rank(store):
    # Disbursed: North 200,000 of 300,000 yuan due (66.666…%), South 667,000 of 1,000,000
    # (66.7%). Both publish 66.7%, so both rank first.
    add_allocation(store, NORTH, 300_000, D(2026, 3, 1), payments=[(200_000, D(2026, 4, 1))])
    add_allocation(store, SOUTH, 1_000_000, D(2026, 3, 1), payments=[(667_000, D(2026, 4, 1))])
    table = report.rank_measure(store, "renovation", "disbursement_rate", report.Scope(D(2026, 7, 1)))
    assert table["value"].nunique() == 2
    assert table["rank"].tolist() == [1, 1]
