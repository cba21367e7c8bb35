from datetime import date

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrofit.measures import (CLOSED, GREEN, NO_FLAG, NODE_LINE, OPEN, OVERDUE, RED, TIME_LINE, YELLOW,
                               compute_age_band, compute_due_share, compute_flag, compute_fund_balance, compute_gap_pp,
                               compute_rate, compute_retained_funds, compute_supervision_status, compute_target_line,
                               find_measure, measure_keys)
from retrofit.settings import FlagThresholds

YEAR = dict(period_start=date(2026, 1, 1), finish_deadline=date(2026, 12, 31), start_deadline=date(2026, 6, 30),
            accept_deadline=date(2027, 6, 30))


def test_rate_is_done_over_planned():
    assert compute_rate(3, 4) == 0.75


def test_rate_without_a_plan_is_missing_not_zero():
    assert compute_rate(0, 0) is None


def _line(program: str, key: str, as_of: date, nodes=(), deadlines=YEAR):
    return compute_target_line(find_measure(program, key), deadlines, list(nodes), 2026, as_of)


START_NODES = [(date(2026, 3, 31), 0.3), (date(2026, 6, 30), 1.0)]            # 3月底前开工30%、6月底前全部开工
FINISH_NODES = [(date(2026, 7, 31), 0.0), (date(2026, 9, 30), 0.5), (date(2026, 11, 30), 1.0)]


def test_without_nodes_half_of_a_365_day_year_has_elapsed_at_the_end_of_2_july():
    # 1 Jan .. 2 Jul is 183 days of 365, counting both ends: the fallback time line.
    deadlines = dict(YEAR, finish_deadline=date(2026, 12, 31))
    line = _line("renovation", "finish_rate", date(2026, 7, 2), deadlines=deadlines)
    assert line.share == pytest.approx(183 / 365)
    assert line.name == TIME_LINE


def test_fallback_time_line_is_zero_before_the_period_and_full_from_the_deadline():
    assert _line("renovation", "start_rate", date(2025, 12, 31)).share == 0.0
    assert _line("renovation", "start_rate", date(2026, 6, 30)).share == 1.0
    assert _line("renovation", "start_rate", date(2026, 11, 20)).share == 1.0


def test_node_line_passes_through_each_node_on_its_date():
    assert _line("renovation", "start_rate", date(2026, 3, 31), START_NODES).share == pytest.approx(0.3)
    assert _line("renovation", "start_rate", date(2026, 6, 30), START_NODES).share == 1.0
    # Halfway from 31 Mar to 30 Jun (91 days): 30% + 70% x 45/91.
    assert _line("renovation", "start_rate", date(2026, 5, 15), START_NODES).share == pytest.approx(0.3 + 0.7 * 45 / 91)


def test_node_line_rises_from_the_start_of_the_period_up_to_the_first_node():
    # 1 Jan .. 15 Feb is 46 of the 90 days to 31 Mar.
    assert _line("renovation", "start_rate", date(2026, 2, 15), START_NODES).share == pytest.approx(0.3 * 46 / 90)


def test_no_one_is_required_to_finish_before_the_plans_zero_node():
    assert _line("renovation", "finish_rate", date(2026, 2, 28), FINISH_NODES).share == 0.0
    assert _line("renovation", "finish_rate", date(2026, 7, 31), FINISH_NODES).share == 0.0
    assert _line("renovation", "finish_rate", date(2026, 9, 30), FINISH_NODES).share == 0.5


def test_node_line_says_which_plan_nodes_it_follows():
    line = _line("renovation", "start_rate", date(2026, 4, 1), START_NODES)
    assert (line.name, line.basis) == (NODE_LINE, "3月底前开工30%、6月底前全部开工")
    heating = _line("heating", "installed_rate", date(2026, 9, 1), [(date(2026, 10, 15), 1.0)])
    assert heating.basis == "10月15日前全部完成户内改造"


def test_acceptance_is_not_expected_before_the_finish_deadline_without_nodes():
    assert _line("renovation", "accept_rate", date(2026, 11, 20)).share == 0.0
    # 31 Dec 2026 .. 30 Mar 2027 is 89 of the 181 days to 30 Jun 2027.
    assert _line("renovation", "accept_rate", date(2027, 3, 30)).share == pytest.approx(89 / 181)


def test_resident_share_is_judged_against_a_fifth_once_contributions_are_due():
    assert _line("renovation", "resident_share", date(2026, 2, 1)).share is None
    assert _line("renovation", "resident_share", date(2026, 8, 1)).share == 0.20


def test_target_is_unknown_when_the_year_has_no_deadlines_nor_nodes():
    assert _line("renovation", "finish_rate", date(2026, 2, 1), deadlines={}).share is None


def test_gap_compares_the_published_one_decimal_figures_and_flips_when_lower_is_better():
    assert compute_gap_pp(40, 100, 0.50) == pytest.approx(-10.0)
    assert compute_gap_pp(8, 100, 0.05, higher_is_better=False) == pytest.approx(-3.0)


def test_a_county_publishing_exactly_the_line_is_green_not_yellow():
    # 7,999 of 10,000 is 79.99%, published 80.0%; the line 80.0% too: on the line, gap 0.
    gap = compute_gap_pp(7_999, 10_000, 0.8)
    assert gap == 0.0
    assert compute_flag(gap) == GREEN


def test_county_behind_half_time_line_by_more_than_red_gap_is_flagged_red():
    gap = compute_gap_pp(30, 100, 183 / 365)  # 30% done with 50.1% of the year gone
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
            assert (measure.step is None) != (measure.target is None)


def test_unknown_measure_names_the_valid_ones():
    with pytest.raises(KeyError, match="completion_rate"):
        find_measure("heating", "speed")


def _allocations(**overrides):
    row = dict(county="北县", program="renovation", plan_year=2026, source="省级补助", allocated_on=date(2026, 5, 1),
               allocated_yuan=1_000_000, disbursed_yuan=400_000, due_share=1.0)
    return pd.DataFrame([{**row, **overrides}])


def test_renovation_money_falls_due_in_full_thirty_days_after_allocation():
    assert compute_due_share("renovation", 29) == 0.0
    assert compute_due_share("renovation", 30) == 1.0


def test_heating_money_falls_due_with_the_subsidies_of_connected_households():
    assert compute_due_share("heating", 200, subsidy_due_share=0.25) == 0.25


def test_undisbursed_money_is_what_was_allocated_and_not_paid():
    retained = compute_retained_funds(_allocations(), date(2026, 6, 1))
    assert retained["undisbursed_yuan"].tolist() == [600_000]
    assert retained["age_days"].tolist() == [31]


def test_fully_disbursed_allocation_is_not_retained():
    assert compute_retained_funds(_allocations(disbursed_yuan=1_000_000), date(2026, 6, 1)).empty


def test_last_years_money_due_and_unpaid_is_retained():
    retained = compute_retained_funds(_allocations(plan_year=2025, allocated_on=date(2025, 9, 1)), date(2026, 3, 1))
    assert retained["retained_yuan"].tolist() == [600_000]
    assert retained["age_band"].tolist() == ["6至12个月"]


def test_a_token_payment_never_hides_the_unpaid_rest_of_an_old_allocation():
    as_of = date(2026, 9, 1)  # 123 days after allocation
    token = compute_retained_funds(_allocations(allocated_yuan=5_000_000, disbursed_yuan=100), as_of, 90)
    assert token["retained_yuan"].tolist() == [4_999_900]
    assert compute_retained_funds(_allocations(disbursed_yuan=0), as_of, 180)["flagged"].tolist() == [False]


def test_money_not_yet_due_is_never_retained():
    # A heating allocation 150 days old whose households are a quarter connected: only that
    # quarter is due; it was paid, so nothing is retained although 75% is undisbursed.
    balance = compute_fund_balance(_allocations(program="heating", allocated_on=date(2026, 3, 1),
                                                disbursed_yuan=250_000, due_share=0.25), date(2026, 7, 29))
    assert balance[["undisbursed_yuan", "due_yuan", "retained_yuan"]].iloc[0].tolist() == [750_000, 250_000, 0]


def test_payments_beyond_what_is_due_do_not_count_toward_the_due_part():
    balance = compute_fund_balance(_allocations(due_share=0.5, disbursed_yuan=900_000), date(2026, 6, 1))
    assert balance["disbursed_due_yuan"].tolist() == [500_000]


def test_a_rounding_balance_of_a_few_yuan_is_not_retention():
    balance = compute_fund_balance(_allocations(disbursed_yuan=999_996, plan_year=2025), date(2026, 6, 1))
    assert balance["retained_yuan"].tolist() == [0]


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
    allocations = pd.concat([_allocations(), _allocations(disbursed_yuan=1_000_000),
                             _allocations(plan_year=2025, allocated_on=date(2025, 5, 1))], ignore_index=True)
    balance = compute_fund_balance(allocations, date(2026, 6, 1))
    assert balance["undisbursed_yuan"].tolist() == [600_000, 0, 600_000]
    assert balance["retained_yuan"].tolist() == [0, 0, 600_000]


def test_supervision_counts_and_retained_total():
    from retrofit.measures import compute_retained_total, count_supervision
    items = pd.DataFrame({"status": [OVERDUE, OVERDUE, OPEN, CLOSED]})
    assert count_supervision(items) == {OPEN: 1, OVERDUE: 2, CLOSED: 1}
    assert compute_retained_total(pd.DataFrame({"retained_yuan": [100, 250]})) == 350


@given(allocated=st.integers(min_value=2, max_value=10**9), paid_share=st.floats(min_value=0, max_value=0.999),
       age=st.integers(min_value=91, max_value=2_000))
def test_property_a_partial_payment_never_hides_the_unpaid_rest_of_money_due(allocated, paid_share, age):
    paid = int(allocated * paid_share)
    frame = _allocations(allocated_yuan=allocated, disbursed_yuan=paid,
                         allocated_on=date(2026, 6, 1) - pd.Timedelta(days=age).to_pytimedelta())
    retained = compute_fund_balance(frame, date(2026, 6, 1))["retained_yuan"].iloc[0]
    unpaid = allocated - paid
    assert retained == (unpaid if unpaid >= 100 else 0)


@given(allocated=st.integers(min_value=1, max_value=10**9), due_share=st.floats(min_value=0, max_value=1),
       age=st.integers(min_value=0, max_value=2_000))
def test_property_retained_money_never_exceeds_what_is_due_and_unpaid(allocated, due_share, age):
    frame = _allocations(program="heating", allocated_yuan=allocated, disbursed_yuan=0, due_share=due_share,
                         allocated_on=date(2026, 6, 1) - pd.Timedelta(days=age).to_pytimedelta())
    row = compute_fund_balance(frame, date(2026, 6, 1)).iloc[0]
    assert 0 <= row["retained_yuan"] <= row["due_yuan"] <= allocated
