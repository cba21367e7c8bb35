"""The rules a bureau signs, on hand-built stores whose right answers are known by construction:
targets from the plan's nodes, each household counted once, money judged when it is due, flags on
the published figure. The notice read through the year names only the county that is behind."""
from datetime import date as D
from datetime import timedelta

import pytest
from builders import (NORTH, SOUTH, add_allocation, add_household, add_nodes, add_plan, add_project, add_village,
                      all_milestones, chain, make_store)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrofit import db, notice, queries, report

START_NODES = [(D(2026, 3, 31), 0.3), (D(2026, 6, 30), 1.0)]                      # 3月底前开工30%、6月底前全部开工
FINISH_NODES = [(D(2026, 7, 31), 0.0), (D(2026, 9, 30), 0.5), (D(2026, 11, 30), 1.0)]
CONNECTED_NODES = [(D(2026, 6, 15), 0.0), (D(2026, 9, 30), 0.7), (D(2026, 11, 15), 1.0)]


@pytest.fixture
def year_store(store):
    """A plan with nodes for every step. 北县 keeps to every node; 南区 starts late, finishes
    nothing, and connects few households."""
    add_nodes(store, "renovation", "start", START_NODES)
    add_nodes(store, "renovation", "finish", FINISH_NODES)
    add_nodes(store, "heating", "confirmed", [(D(2026, 3, 31), 1.0)])
    add_nodes(store, "heating", "tendered", [(D(2026, 4, 15), 0.0), (D(2026, 5, 31), 1.0)])
    add_nodes(store, "heating", "installed", [(D(2026, 5, 31), 0.0), (D(2026, 8, 31), 0.6), (D(2026, 10, 15), 1.0)])
    add_nodes(store, "heating", "connected", CONNECTED_NODES)
    for i in range(10):
        start = D(2026, 3, 20) if i < 4 else D(2026, 5, 20)
        finish = D(2026, 9, 15) if i < 5 else D(2026, 11, 10)
        project = add_project(store, f"N{i}", NORTH, **chain(D(2026, 1, 10), D(2026, 2, 1), D(2026, 3, 1), start, finish))
        with store.begin() as conn:
            conn.execute(db.investment_booking.insert().values(project_id=project, booked_on=finish,
                                                               amount_yuan=1_000_000))
        late = chain(D(2026, 1, 10), D(2026, 2, 1), D(2026, 3, 1), D(2026, 6, 25)) if i < 2 else {}
        add_project(store, f"S{i}", SOUTH, **late)
    add_plan(store, NORTH, 2026, 10)
    add_plan(store, SOUTH, 2026, 10)
    north, south = add_village(store, NORTH), add_village(store, SOUTH)
    ready = dict(confirmed=D(2026, 3, 1), tendered=D(2026, 5, 1))
    for i in range(10):
        installed, connected = (D(2026, 6, 20), D(2026, 8, 15)) if i < 7 else (D(2026, 10, 5), D(2026, 10, 20))
        add_household(store, f"NH{i}", north, 2026, NORTH, **ready, installed=installed, connected=connected)
        add_household(store, f"SH{i}", south, 2026, SOUTH, **(all_milestones(D(2026, 11, 10)) if i < 2 else ready))
    return store


def red_counties(engine, as_of: D) -> set[str]:
    return set(report.compute_laggards(engine, report.Scope(as_of))["county"])


@pytest.mark.parametrize("as_of", [D(2026, 3, 31), D(2026, 6, 30), D(2026, 11, 20), D(2026, 12, 31)])
def test_the_notice_through_the_year_names_only_the_county_behind_its_nodes(year_store, as_of):
    assert red_counties(year_store, as_of) == {"南区"}
    text = notice.build_notice(year_store, report.Scope(as_of)).text
    assert "请南区等进度滞后县区" in text
    warned = [s for s in text.split("。") if "红色预警" in s]
    assert warned and all("北县" not in s.split("其中")[-1] for s in warned), warned


def test_on_31_march_only_the_start_is_judged_and_finishing_is_not_yet_required(year_store):
    table = report.compute_measure_table(year_store, "renovation", "finish_rate", report.Scope(D(2026, 3, 31)))
    assert table["target"].tolist() == [0.0, 0.0]
    assert set(table["flag"]) == {"green"}
    start = report.compute_measure_table(year_store, "renovation", "start_rate", report.Scope(D(2026, 3, 31)))
    assert start.set_index("county")["flag"].to_dict() == {"北县": "green", "南区": "red"}


def test_the_notice_says_which_nodes_a_line_follows(year_store):
    text = notice.build_notice(year_store, report.Scope(D(2026, 6, 30))).text
    assert "开工率低于节点进度线(100.0%,按“3月底前开工30%、6月底前全部开工”节点要求)" in text


def test_a_county_with_nodes_of_its_own_is_held_to_them(year_store):
    add_nodes(year_store, "renovation", "start", [(D(2026, 8, 31), 1.0)], county=SOUTH)
    table = report.compute_measure_table(year_store, "renovation", "start_rate", report.Scope(D(2026, 3, 31)))
    south = table.set_index("county").loc["南区"]
    assert south["override"] and south["target"] == pytest.approx(90 / 243)  # linear from 1 Jan to 31 Aug


def test_without_nodes_the_line_is_the_time_line_and_says_so(store):
    add_project(store, "P1", NORTH, **chain(D(2026, 1, 10), D(2026, 2, 1), D(2026, 3, 1), D(2026, 3, 5)))
    table = report.compute_measure_table(store, "renovation", "start_rate", report.Scope(D(2026, 3, 31)))
    assert table["line"].tolist() == ["时间进度线", "时间进度线"]
    assert table["target"].iloc[0] == pytest.approx(90 / 181)


def test_a_county_publishing_exactly_the_line_is_not_called_behind_it(store):
    add_nodes(store, "heating", "connected", [(D(2026, 9, 30), 0.8), (D(2026, 11, 15), 1.0)])
    add_plan(store, NORTH, 2026, 10)
    add_plan(store, SOUTH, 2026, 10)
    north, south = add_village(store, NORTH), add_village(store, SOUTH)
    for i in range(10):
        add_household(store, f"N{i}", north, 2026, NORTH, **(all_milestones(D(2026, 9, 1)) if i < 8 else {}))
        add_household(store, f"S{i}", south, 2026, SOUTH, **(all_milestones(D(2026, 9, 1)) if i < 5 else {}))
    table = report.rank_measure(store, "heating", "completion_rate", report.Scope(D(2026, 9, 30)))
    assert table.set_index("county")["flag"].to_dict() == {"北县": "green", "南区": "red"}
    sentence = notice.describe_behind_line("完成率", table, 15)
    assert sentence.startswith("完成率低于节点进度线(80.0%") and "的县区有1个:南区(50.0%)" in sentence


# ---- money when it is due ----------------------------------------------------------------------

def test_heating_subsidies_are_not_due_before_households_are_connected(store):
    add_plan(store, NORTH, 2026, 4)
    village = add_village(store, NORTH)
    for i in range(4):  # one connected on 1 May, three not yet
        add_household(store, f"H{i}", village, 2026, NORTH, **(all_milestones(D(2026, 5, 1)) if i == 0 else {}))
    add_allocation(store, NORTH, 14_000, D(2026, 3, 1), program="heating", payments=[(3_500, D(2026, 5, 20))])
    scope = report.Scope(D(2026, 6, 30))
    rate = report.compute_measure_table(store, "heating", "disbursement_rate", scope).set_index("county")
    assert rate.loc["北县", ["numerator", "denominator", "flag"]].tolist() == [3_500, 3_500, "green"]
    assert report.compute_retained_funds(store, scope, flagged_only=True).empty  # 10,500 yuan not yet due


def test_each_allocation_of_a_county_year_is_due_by_that_years_subsidies_and_a_year_without_any_owes_nothing(store):
    # 北县 2026: 4 households planned, 1 connected on 1 May: a quarter of its subsidies is due, for each of
    # its three heating allocations alike. 北县 2025 planned no households: nothing of it falls due. 南区
    # 2026 connected none: nothing due. A renovation allocation beside them falls due in full.
    add_plan(store, NORTH, 2026, 4)
    add_plan(store, SOUTH, 2026, 2)
    north, south = add_village(store, NORTH), add_village(store, SOUTH)
    for i in range(4):
        add_household(store, f"NH{i}", north, 2026, NORTH, **(all_milestones(D(2026, 5, 1)) if i == 0 else {}))
    for i in range(2):
        add_household(store, f"SH{i}", south, 2026, SOUTH)
    add_allocation(store, NORTH, 14_000, D(2026, 3, 1), program="heating", payments=[(3_500, D(2026, 5, 20))])
    add_allocation(store, NORTH, 7_000, D(2026, 3, 2), source="省级补助", program="heating")
    add_allocation(store, NORTH, 10_002, D(2026, 3, 3), source="市县配套", program="heating")  # a quarter: 2,500.5
    add_allocation(store, NORTH, 8_000, D(2026, 3, 1), program="heating", year=2025)
    add_allocation(store, NORTH, 50_000, D(2026, 4, 1))
    add_allocation(store, SOUTH, 7_000, D(2026, 3, 1), program="heating")
    balance = report.compute_fund_balance(store, report.Scope(D(2026, 6, 30)), this_year_only=False)
    due = {(a, p, y, s): d for a, p, y, s, d in zip(balance["adcode"], balance["program"], balance["plan_year"],
                                                   balance["source"], balance["due_yuan"])}
    assert due == {(NORTH, "heating", 2026, "中央财政补助"): 3_500, (NORTH, "heating", 2026, "省级补助"): 1_750,
                   (NORTH, "heating", 2026, "市县配套"): 2_500,  # half to even, to the yuan
                   (NORTH, "heating", 2025, "中央财政补助"): 0, (NORTH, "renovation", 2026, "中央财政补助"): 50_000,
                   (SOUTH, "heating", 2026, "中央财政补助"): 0}
    retained = balance.loc[balance["flagged"], ["source", "plan_year", "retained_yuan"]].values.tolist()
    assert retained == [["省级补助", 2026, 1_750], ["市县配套", 2026, 2_500]]  # the 2025 one is old, but owes nothing
    totals = report.compute_fund_totals(store, "heating", report.Scope(D(2026, 6, 30))).set_index("adcode")
    assert totals.loc[NORTH, ["allocated_yuan", "due_yuan", "disbursed_due_yuan"]].tolist() == [31_002, 7_750, 3_500]
    assert totals.loc[SOUTH, ["allocated_yuan", "due_yuan"]].tolist() == [7_000, 0]


def test_a_token_payment_never_hides_the_unpaid_rest(store):
    add_allocation(store, NORTH, 5_000_000, D(2026, 2, 1), payments=[(100, D(2026, 2, 10))])
    retained = report.compute_retained_funds(store, report.Scope(D(2026, 6, 1)), flagged_only=True)
    assert retained[["county", "retained_yuan"]].values.tolist() == [["北县", 4_999_900]]
    assert "有499.99万元已到拨付时限仍未拨付" in notice.build_notice(store, report.Scope(D(2026, 6, 1))).text


# ---- each household once -----------------------------------------------------------------------

def test_a_household_connected_after_its_deadline_counts_once_in_the_year_that_carried_it(store):
    add_plan(store, NORTH, 2025, 1)
    add_plan(store, NORTH, 2026, 1, carryover=1)
    village = add_village(store, NORTH)
    add_household(store, "LATE", village, 2025, NORTH, **all_milestones(D(2025, 12, 5)))
    counts = [queries.load_heating_progress(store, y, D(2026, 12, 31))["connected_households"].sum()
              for y in (2025, 2026)]
    assert counts == [0, 1]


def test_cancelled_households_leave_the_target_from_their_approval(store):
    add_plan(store, NORTH, 2026, 4)
    village = add_village(store, NORTH)
    for i in range(3):
        add_household(store, f"H{i}", village, 2026, NORTH, **all_milestones(D(2026, 8, 1)))
    add_household(store, "GONE", village, 2026, NORTH, status="取消", status_on=D(2026, 9, 1), confirmed=D(2026, 3, 1))
    before = report.compute_measure_table(store, "heating", "completion_rate", report.Scope(D(2026, 8, 31)))
    after = report.compute_measure_table(store, "heating", "completion_rate", report.Scope(D(2026, 11, 20)))
    assert before.set_index("county").loc["北县", ["numerator", "denominator"]].tolist() == [3, 4]
    assert after.set_index("county").loc["北县", ["numerator", "denominator"]].tolist() == [3, 3]


DAYS = st.integers(min_value=0, max_value=(D(2027, 6, 30) - D(2025, 2, 1)).days)
HOUSEHOLD = st.tuples(st.sampled_from([2025, 2026]), st.one_of(st.none(), DAYS), st.one_of(st.none(), DAYS))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(households=st.lists(HOUSEHOLD, min_size=1, max_size=12))
def test_summed_over_plan_years_connected_households_equal_the_stores(tmp_path, households):
    """Whatever the plan years, connection and cancellation dates, each connected household is
    counted in exactly one year's task (the year after the last plan takes what is carried)."""
    engine = make_store(f"sqlite:///{tmp_path / 'once.db'}")
    add_plan(engine, NORTH, 2025, 20)
    add_plan(engine, NORTH, 2026, 20)
    village = add_village(engine, NORTH)
    connected = 0
    for i, (year, connect_day, cancel_day) in enumerate(households):
        first = D(year, 1, 1) + timedelta(days=connect_day or 0)
        if connect_day is not None and cancel_day is None:
            add_household(engine, f"H{i}", village, year, NORTH, **all_milestones(first))
            connected += 1
        elif cancel_day is not None:
            add_household(engine, f"H{i}", village, year, NORTH, status="取消",
                          status_on=D(year, 1, 2) + timedelta(days=cancel_day), confirmed=D(year, 1, 1))
        else:
            add_household(engine, f"H{i}", village, year, NORTH)
    far = D(2029, 1, 1)
    counted = sum(int(queries.load_heating_progress(engine, y, far)["connected_households"].sum())
                  for y in (2025, 2026, 2027))
    engine.dispose()
    assert counted == connected


def test_the_target_curve_is_drawn_through_every_node_between_two_dates(year_store):
    curve = report.compute_target_curve(year_store, "renovation", "finish_rate", report.Scope(D(2026, 11, 20)),
                                        D(2026, 6, 1), D(2026, 11, 20))
    assert curve["date"].tolist() == [D(2026, 6, 1), D(2026, 7, 31), D(2026, 9, 30), D(2026, 11, 20)]
    assert curve["target"].tolist()[:3] == [0.0, 0.0, 0.5]
