from datetime import date

import pandas as pd
import pytest

from retrofit.measures import (CLOSED, GREEN, NO_FLAG, OPEN, OVERDUE, RED, YELLOW, compute_age_band,
                               compute_elapsed_share, compute_flag, compute_gap_pp, compute_rate,
                               compute_retained_funds, compute_supervision_status, compute_target,
                               find_measure, measure_keys)
from retrofit.settings import FlagThresholds

YEAR = dict(period_start=date(2026, 1, 1), finish_deadline=date(2026, 12, 31), start_deadline=date(2026, 6, 30),
            accept_deadline=date(2027, 6, 30))


def test_rate_is_done_over_planned():
    assert compute_rate(3, 4) == 0.75


def test_rate_without_a_plan_is_missing_not_zero():
    assert compute_rate(0, 0) is None


def test_half_of_a_365_day_year_has_elapsed_at_the_end_of_2_july():
    # 1 Jan .. 2 Jul is 183 days of 365, counting both ends.
    assert compute_elapsed_share(date(2026, 1, 1), date(2026, 12, 31), date(2026, 7, 2)) == 183 / 365


def test_elapsed_share_is_clamped_before_and_after_the_period():
    assert compute_elapsed_share(date(2026, 1, 1), date(2026, 6, 30), date(2025, 12, 31)) == 0.0
    assert compute_elapsed_share(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30)) == 1.0
    assert compute_elapsed_share(date(2026, 1, 1), date(2026, 6, 30), date(2026, 11, 20)) == 1.0


def test_start_rate_target_is_the_time_line_to_the_start_deadline():
    # 1 Jan .. 31 Mar = 90 of 181 days to 30 June.
    assert compute_target(find_measure("renovation", "start_rate"), YEAR, date(2026, 3, 31)) == 90 / 181


def test_acceptance_is_not_expected_before_the_finish_deadline():
    accept = find_measure("renovation", "accept_rate")
    assert compute_target(accept, YEAR, date(2026, 11, 20)) == 0.0
    # 31 Dec 2026 .. 30 Mar 2027 is 90 of the 182 days to 30 Jun 2027, counting both ends.
    assert compute_target(accept, YEAR, date(2027, 3, 30)) == 90 / 182


def test_resident_share_target_is_a_fifth_whatever_the_date():
    assert compute_target(find_measure("renovation", "resident_share"), YEAR, date(2026, 2, 1)) == 0.20


def test_target_is_unknown_when_the_year_has_no_deadlines():
    assert compute_target(find_measure("renovation", "finish_rate"), {}, date(2026, 2, 1)) is None


def test_gap_is_in_percentage_points_and_flips_when_lower_is_better():
    assert compute_gap_pp(0.40, 0.50) == pytest.approx(-10.0)
    assert compute_gap_pp(0.08, 0.05, higher_is_better=False) == pytest.approx(-3.0)


def test_county_behind_half_time_line_by_more_than_red_gap_is_flagged_red():
    gap = compute_gap_pp(0.30, 183 / 365)  # 30% done with 50.1% of the year gone
    assert compute_flag(gap, FlagThresholds(yellow_gap_pp=0, red_gap_pp=15)) == RED


def test_county_slightly_behind_the_line_is_yellow_and_on_the_line_is_green():
    thresholds = FlagThresholds(yellow_gap_pp=0, red_gap_pp=15)
    assert compute_flag(-14.9, thresholds) == YELLOW
    assert compute_flag(0.0, thresholds) == GREEN
    assert compute_flag(-15.0, thresholds) == YELLOW  # exactly on the red threshold is not beyond it


def test_thresholds_are_configurable():
    assert compute_flag(-4.0, FlagThresholds(yellow_gap_pp=5, red_gap_pp=10)) == GREEN
    assert compute_flag(-6.0, FlagThresholds(yellow_gap_pp=5, red_gap_pp=10)) == YELLOW
    assert compute_flag(-10.5, FlagThresholds(yellow_gap_pp=5, red_gap_pp=10)) == RED


def test_no_flag_without_a_value():
    assert compute_flag(None) == NO_FLAG


def test_every_measure_has_a_target_and_distinct_names_within_its_program():
    for program in ("renovation", "heating"):
        keys = measure_keys(program)
        assert len(keys) == len(set(keys))
        for key in keys:
            measure = find_measure(program, key)
            assert (measure.deadline is None) != (measure.target is None)


def test_unknown_measure_names_the_valid_ones():
    with pytest.raises(KeyError, match="completion_rate"):
        find_measure("heating", "speed")


def _allocations(**overrides):
    row = dict(county="北县", plan_year=2026, source="省级补助", allocated_on=date(2026, 5, 1),
               allocated_yuan=1_000_000, disbursed_yuan=400_000)
    return pd.DataFrame([{**row, **overrides}])


def test_retained_funds_counts_only_undisbursed_amounts():
    retained = compute_retained_funds(_allocations(), date(2026, 6, 1))
    assert retained["retained_yuan"].tolist() == [600_000]
    assert retained["age_days"].tolist() == [31]


def test_fully_disbursed_allocation_is_not_retained():
    assert compute_retained_funds(_allocations(disbursed_yuan=1_000_000), date(2026, 6, 1)).empty


def test_last_years_money_still_unpaid_is_flagged():
    retained = compute_retained_funds(_allocations(plan_year=2025, allocated_on=date(2025, 9, 1)), date(2026, 3, 1))
    assert retained["flagged"].tolist() == [True]
    assert retained["age_band"].tolist() == ["6至12个月"]


def test_this_years_money_untouched_past_the_threshold_is_flagged_but_partly_paid_is_not():
    as_of = date(2026, 9, 1)  # 123 days after allocation
    assert compute_retained_funds(_allocations(disbursed_yuan=0), as_of, 90)["flagged"].tolist() == [True]
    assert compute_retained_funds(_allocations(), as_of, 90)["flagged"].tolist() == [False]
    assert compute_retained_funds(_allocations(disbursed_yuan=0), as_of, 180)["flagged"].tolist() == [False]


def test_age_bands_have_inclusive_upper_limits():
    assert [compute_age_band(d) for d in (90, 91, 180, 365, 366)] == [
        "3个月以内", "3至6个月", "3至6个月", "6至12个月", "1年以上"]


def test_supervision_item_is_overdue_only_after_its_deadline_and_until_closed():
    deadline = date(2026, 5, 31)
    assert compute_supervision_status(deadline, None, date(2026, 5, 31)) == OPEN
    assert compute_supervision_status(deadline, None, date(2026, 6, 1)) == OVERDUE
    assert compute_supervision_status(deadline, date(2026, 6, 10), date(2026, 6, 10)) == CLOSED
    assert compute_supervision_status(deadline, date(2026, 6, 10), date(2026, 6, 9)) == OVERDUE


def test_step_buckets_turn_reached_counts_into_where_each_one_stands():
    from retrofit.measures import compute_step_buckets
    reached = pd.DataFrame({"total": [10], "a": [8], "b": [5], "c": [1]})
    buckets = compute_step_buckets(reached, ["a", "b", "c"], ["A", "B", "C"], "total", "none")
    assert buckets.iloc[0].to_dict() == {"none": 2, "A": 3, "B": 4, "C": 1}


def test_community_status_reports_the_first_overdue_stage():
    from retrofit.measures import compute_community_status
    row = {f"{s}_{k}": None for s in ("reserve", "prep", "tender", "start", "finish", "accept")
           for k in ("planned", "actual")}
    row.update(reserve_actual=date(2025, 9, 1), prep_actual=date(2026, 2, 1), tender_actual=date(2026, 3, 1),
               start_planned=date(2026, 5, 31), finish_planned=date(2026, 11, 30),
               start_actual=date(2026, 8, 1))  # starts after the as-of date below
    status = compute_community_status(pd.DataFrame([row]), date(2026, 7, 1)).iloc[0]
    assert (status["stage"], status["late_stage"], status["days_late"]) == ("招投标", "开工", 31)
    assert status["start_actual"] is None  # not known yet on 1 July


def test_a_started_community_stands_under_construction_until_finished():
    from retrofit.measures import compute_community_status
    row = {f"{s}_{k}": None for s in ("reserve", "prep", "tender", "start", "finish", "accept")
           for k in ("planned", "actual")}
    row.update(reserve_actual=date(2025, 9, 1), prep_actual=date(2026, 2, 1), tender_actual=date(2026, 3, 1),
               start_actual=date(2026, 4, 1), finish_actual=date(2026, 9, 1))
    frame = pd.DataFrame([row])
    assert compute_community_status(frame, date(2026, 7, 1))["stage"].tolist() == ["在建"]
    assert compute_community_status(frame, date(2026, 9, 1))["stage"].tolist() == ["已完工"]


def test_route_economics_averages_per_household_across_counties():
    from retrofit.measures import compute_route_economics
    mix = pd.DataFrame([
        dict(route="生物质", task_households=2, equipment_cost_yuan=10_000, subsidy_yuan=7_000,
             running_cost_yuan=2_000, coal_cost_yuan=3_600),
        dict(route="生物质", task_households=3, equipment_cost_yuan=15_000, subsidy_yuan=9_000,
             running_cost_yuan=3_000, coal_cost_yuan=5_400)])
    row = compute_route_economics(mix).iloc[0]
    assert (row["households"], row["equipment_cost"], row["subsidy"], row["own_share"]) == (5, 5_000, 3_200, 1_800)
    assert (row["running_cost"], row["coal_cost"], row["saving"]) == (1_000, 1_800, 800)


def test_fund_balance_keeps_fully_paid_allocations_and_splits_retained_from_merely_undisbursed():
    from retrofit.measures import compute_fund_balance
    allocations = pd.concat([_allocations(), _allocations(disbursed_yuan=1_000_000),
                             _allocations(plan_year=2025, allocated_on=date(2025, 5, 1))], ignore_index=True)
    balance = compute_fund_balance(allocations, date(2026, 6, 1))
    assert balance["retained_yuan"].tolist() == [600_000, 0, 600_000]
    assert balance["flagged_yuan"].tolist() == [0, 0, 600_000]


def test_supervision_counts_and_retained_total():
    from retrofit.measures import compute_retained_total, count_supervision
    items = pd.DataFrame({"status": [OVERDUE, OVERDUE, OPEN, CLOSED]})
    assert count_supervision(items) == {OPEN: 1, OVERDUE: 2, CLOSED: 1}
    assert compute_retained_total(pd.DataFrame({"retained_yuan": [100, 250]})) == 350
