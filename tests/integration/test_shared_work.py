"""Reads shared within one data revision (report.sharing_work, opened by ui around its cached
calls): the figures are the very ones read afresh, each source is read once for every measure,
and a store never sees another store's reads."""
import threading
from datetime import date

import pandas as pd
from builders import NORTH, add_allocation, add_project, chain

from retrofit import demo, notice, report

AS_OF = demo.DEMO_DATA_DATE


def _sharing(engine):
    memo = {}
    return memo, report.sharing_work(engine, memo, threading.Lock())


def test_shared_reads_give_the_same_headline_laggards_rankings_and_notice_as_fresh_reads(demo_engine):
    scope = report.Scope(AS_OF)
    previous = report.previous_report_date(demo_engine, AS_OF)
    fresh = (report.compute_headline(demo_engine, scope), report.compute_laggards(demo_engine, scope),
             report.rank_measure(demo_engine, "heating", "completion_rate", scope, previous),
             report.rank_measure(demo_engine, "renovation", "disbursement_rate", scope, previous),
             report.compute_retained_funds(demo_engine, scope),
             report.compute_fund_totals(demo_engine, "heating", scope))
    memo, sharing = _sharing(demo_engine)
    with sharing:
        shared = (report.compute_headline(demo_engine, scope), report.compute_laggards(demo_engine, scope),
                  report.rank_measure(demo_engine, "heating", "completion_rate", scope, previous),
                  report.rank_measure(demo_engine, "renovation", "disbursement_rate", scope, previous),
                  report.compute_retained_funds(demo_engine, scope),
                  report.compute_fund_totals(demo_engine, "heating", scope))
        text = notice.build_notice(demo_engine, scope, previous).text
    for before, after in zip(fresh, shared):
        pd.testing.assert_frame_equal(before, after)
    assert text == notice.build_notice(demo_engine, scope, previous).text
    # One read per source (renovation, heating, each program's funds) and one balance of all the money.
    read = [key for key in memo if key[0] == "source" and key[3] == AS_OF]
    assert sorted(key[1] for key in read) == ["funds.heating", "funds.renovation", "heating", "renovation"]
    assert ("fund_balance", AS_OF, ()) in memo


def test_a_store_never_sees_the_reads_shared_for_another(store, demo_engine):
    add_project(store, "N1", households=100, investment=2_000_000, **chain(date(2025, 9, 1), date(2026, 2, 1)))
    add_allocation(store, NORTH, 1_000_000, date(2026, 3, 1))
    scope = report.Scope(date(2026, 7, 1))
    memo, sharing = _sharing(demo_engine)
    with sharing:
        report.compute_headline(demo_engine, scope)  # the demo city's funds, under the very same key
        own = report.compute_fund_totals(store, "renovation", scope)
    assert ("source", "funds.renovation", 2026, date(2026, 7, 1), ()) in memo
    assert own["allocated_yuan"].sum() == 1_000_000
    assert report.compute_fund_totals(store, "renovation", scope).equals(own)


def test_a_shared_figure_handed_out_can_be_changed_without_changing_the_next_one(demo_engine):
    scope = report.Scope(AS_OF)
    _, sharing = _sharing(demo_engine)
    with sharing:
        first = report.compute_fund_totals(demo_engine, "renovation", scope)
        first["allocated_yuan"] = 0
        again = report.compute_fund_totals(demo_engine, "renovation", scope)
        balance = report.compute_fund_balance(demo_engine, scope)
        balance["due_yuan"] = -1
    assert again["allocated_yuan"].sum() > 0
    assert (report.compute_fund_balance(demo_engine, scope)["due_yuan"] >= 0).all()
