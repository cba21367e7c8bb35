"""The tables users see, built from the demo city."""
import re

from retrofit import queries, report, tables
from retrofit.demo import DEMO_DATA_DATE
from builders import ADMIN, LEADER

SCOPE = report.Scope(DEMO_DATA_DATE)


def test_household_table_never_shows_a_full_name_or_phone_outside_the_county(demo_engine):
    village = queries.load_village_progress(demo_engine, LEADER, 2026, DEMO_DATA_DATE).iloc[0]
    stored = queries.load_village_households(demo_engine, ADMIN, village["village_code"], 2026, DEMO_DATA_DATE)
    shown = tables.build_household_table(
        queries.load_village_households(demo_engine, LEADER, village["village_code"], 2026, DEMO_DATA_DATE))
    assert len(shown) == village["task_households"]
    assert all(re.fullmatch(r".\*+.?", name) for name in shown["户主"])
    assert not set(shown["户主"]) & set(stored["head_name"])
    assert all(re.fullmatch(r"1\d{2}\*{4}\d{4}", phone) for phone in shown["联系电话"])
    assert not [c for c in shown.columns if "身份证" in c]


def test_community_facts_describe_the_picked_community(demo_engine):
    communities = report.compute_communities(demo_engine, LEADER, SCOPE)
    facts = dict(tables.build_community_facts(communities.iloc[0]).values.tolist())
    assert facts["编号"] == communities.iloc[0]["code"]
    assert facts["当前阶段"] == communities.iloc[0]["stage"]


def test_community_search_matches_name_street_or_county(demo_engine):
    communities = report.compute_communities(demo_engine, LEADER, SCOPE)
    found = tables.build_community_table(communities, "凤翔区")
    assert len(found) and set(found["县区"]) == {"凤翔区"}
    assert tables.build_community_table(communities, "没有这个小区").empty


def test_stage_filter_keeps_communities_standing_there(demo_engine):
    building = report.compute_communities(demo_engine, LEADER, SCOPE, ("在建",))
    assert len(building) and set(building["stage"]) == {"在建"}


def test_late_communities_name_the_overdue_stage(demo_engine):
    communities = report.compute_communities(demo_engine, LEADER, SCOPE)
    late = communities[communities["days_late"] > 0]
    assert len(late) and set(late["county"]) == {"凤翔区"}
    assert set(late["late_stage"]) == {"开工"}
