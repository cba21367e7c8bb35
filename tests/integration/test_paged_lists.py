"""Community and village lists filtered, sorted and paged in SQL (issue 13): the pages put
together are the whole list the page showed before, searched and filtered the same way."""
from datetime import date

import pandas as pd
import pytest
from builders import LEADER, NORTH, SOUTH, add_household, add_project, add_village, all_milestones, chain

from retrofit import queries, report, tables
from retrofit.accounts import Access, AccessRefused
from retrofit.demo import DEMO_DATA_DATE

D = date
SCOPE = report.Scope(DEMO_DATA_DATE)
PAGE = 3  # small and odd, so pages end mid-county and the last page is short


def _community_pages(engine, stages=(), query="") -> pd.DataFrame:
    total = queries.count_communities(engine, LEADER, SCOPE.plan_year, SCOPE.as_of, (), stages, query)
    pages = [report.compute_community_page(engine, LEADER, SCOPE, stages, query, offset, PAGE)
             for offset in range(0, total, PAGE)]
    assert all(len(page) == PAGE for page in pages[:-1])
    return tables.build_community_table(pd.concat(pages, ignore_index=True)) if pages else pd.DataFrame()


@pytest.mark.parametrize("stages, query", [((), ""), (("在建",), ""), ((), "区"), (("已完工", "未入库"), "路")])
def test_community_pages_put_together_are_the_whole_searched_list(demo_engine, stages, query):
    whole = tables.build_community_table(report.compute_communities(demo_engine, LEADER, SCOPE, stages), query)
    paged = _community_pages(demo_engine, stages, query)
    assert len(whole) > PAGE
    pd.testing.assert_frame_equal(paged, whole)


@pytest.mark.parametrize("routes, query", [((), ""), (("空气源热泵",), ""), ((), "镇")])
def test_village_pages_put_together_are_the_whole_searched_list(demo_engine, routes, query):
    whole = queries.load_village_progress(demo_engine, LEADER, SCOPE.plan_year, SCOPE.as_of, (), routes)
    codes = queries.load_village_codes(demo_engine, LEADER, SCOPE.plan_year, (), routes, query)
    expected = tables.build_village_table(whole, 0.5, query)
    assert list(codes) == expected["村编码"].tolist() and len(codes) > PAGE
    pages = [queries.load_village_progress(demo_engine, LEADER, SCOPE.plan_year, SCOPE.as_of, (), routes,
                                           villages=codes[offset:offset + PAGE])
             for offset in range(0, len(codes), PAGE)]
    pd.testing.assert_frame_equal(tables.build_village_table(pd.concat(pages, ignore_index=True), 0.5), expected)


def test_a_clerk_pages_through_their_own_county_only(demo_engine):
    counties = queries.load_counties(demo_engine)
    own, other = counties.iloc[0], counties.iloc[1]
    clerk = Access(who="填报员", role="clerk", county_adcode=own["adcode"], county_name=own["county"])
    shown = report.compute_community_page(demo_engine, clerk, SCOPE, limit=1000)
    assert set(shown["county"]) == {own["county"]}
    assert queries.count_communities(demo_engine, clerk, SCOPE.plan_year, SCOPE.as_of) == len(shown)
    with pytest.raises(AccessRefused):
        queries.load_village_codes(demo_engine, clerk, SCOPE.plan_year, (other["adcode"],))


def test_the_search_box_matches_the_text_as_typed_on_either_database(store):
    """Case counts, % and _ are plain characters, and the words may run across columns, as in the
    search of a loaded list (tables.build_community_table)."""
    add_project(store, "AB-1", **chain(D(2025, 9, 1)))
    add_project(store, "ab-2", county=SOUTH, **chain(D(2025, 9, 1)))
    add_project(store, "A%B", **chain(D(2025, 9, 1)))
    scope = report.Scope(D(2026, 7, 1))
    whole = report.compute_communities(store, LEADER, scope)
    for query, expected in (("AB", ["AB-1"]), ("ab", ["ab-2"]), ("%", ["A%B"]), ("_", []),
                            ("小区 城关街道 南区", ["ab-2"])):
        assert tables.build_community_table(whole, query)["编号"].tolist() == expected
        assert report.compute_community_page(store, LEADER, scope, query=query)["code"].tolist() == expected


def test_a_village_page_counts_only_its_own_villages_households(store):
    north, south = add_village(store), add_village(store, SOUTH)
    add_household(store, "N1", north, 2026, **all_milestones(D(2026, 6, 1)))
    add_household(store, "S1", south, 2026, county=SOUTH)
    codes = queries.load_village_codes(store, LEADER, 2026)
    assert codes == (north, south)
    page = queries.load_village_progress(store, LEADER, 2026, D(2026, 7, 1), villages=codes[1:])
    assert page[["village_code", "task_households", "connected_households"]].values.tolist() == [[south, 1, 0]]


def test_the_map_draws_an_even_sample_of_villages_and_says_how_many_there_are(demo_engine):
    every = queries.load_village_codes(demo_engine, LEADER, SCOPE.plan_year)
    sample, found = queries.load_village_sample(demo_engine, LEADER, SCOPE.plan_year, most=10)
    assert 0 < len(sample) <= 10 and found == len(every) and set(sample) <= set(every)
    assert queries.load_village_sample(demo_engine, LEADER, SCOPE.plan_year, most=found) == (every, found)
    communities, total = report.compute_community_sample(demo_engine, LEADER, SCOPE, (), 10)
    assert 0 < len(communities) <= 10 and total == queries.count_communities(
        demo_engine, LEADER, SCOPE.plan_year, SCOPE.as_of)


def test_a_village_with_only_carried_over_households_is_listed_and_a_settled_one_is_not(store):
    carried, settled = add_village(store, code=f"{NORTH}101202"), add_village(store, code=f"{NORTH}101203")
    add_household(store, "C", carried, 2025, confirmed=D(2025, 3, 1))  # never connected: carried into 2026
    add_household(store, "S", settled, 2025, **all_milestones(D(2025, 10, 1)))  # done within 2025
    assert queries.load_village_codes(store, LEADER, 2026) == (carried,)
    assert queries.load_village_codes(store, LEADER, 2025) == (carried, settled)
    assert queries.load_village_progress(store, LEADER, 2026, D(2026, 7, 1))["village_code"].tolist() == [carried]
