"""Rankings at every level of a province store (issue 13): counties within a city, counties
across the province, and cities across the province, a city's figure always the sum of its
counties'. On a hand-built store of three cities, on SQLite and PostgreSQL."""
import io
from datetime import date

import openpyxl
import pytest

from builders import (CITY_A, CITY_B, EAST, MIDDLE, NORTH, SOUTH, WEST, make_province)
from retrofit import notice, publish, report
from retrofit.measures import RED, find_measure
from retrofit.vocab import RENOVATION

AS_OF, PREVIOUS = date(2026, 7, 2), date(2026, 6, 10)


@pytest.fixture
def province(store):
    make_province(store)
    return store


def _by_name(table) -> dict:
    return {row["county"]: row for _, row in table.iterrows()}


def test_a_citys_figure_is_the_sum_of_its_counties_never_an_average_of_their_rates(province):
    cities = _by_name(report.rank_measure(province, RENOVATION, "start_rate", report.Scope(AS_OF, level="city")))
    assert (cities["甲市"]["numerator"], cities["甲市"]["denominator"]) == (4, 5)  # 3/4 and 1/1
    assert cities["甲市"]["value"] == pytest.approx(0.8)                         # not (75% + 100%) / 2
    assert (cities["乙市"]["numerator"], cities["乙市"]["denominator"]) == (3, 5)
    assert cities["甲市"]["adcode"] == CITY_A and cities["乙市"]["adcode"] == CITY_B


def test_a_city_is_flagged_on_its_summed_figure_against_the_provinces_line(province):
    cities = _by_name(report.rank_measure(province, RENOVATION, "start_rate", report.Scope(AS_OF, level="city")))
    # 80% against 100%: 20 points behind is red (the average 87.5% would only have been yellow).
    assert cities["甲市"]["target"] == pytest.approx(1.0)
    assert cities["甲市"]["gap_pp"] == pytest.approx(-20.0) and cities["甲市"]["flag"] == RED


def test_cities_with_the_same_published_figure_share_a_rank(province):
    table = report.rank_measure(province, RENOVATION, "start_rate", report.Scope(AS_OF, level="city"))
    assert list(zip(table["county"], table["rank"])) == [("甲市", 1), ("丙市", 1), ("乙市", 3)]


def test_counties_within_a_city_are_ranked_among_that_citys_counties_only(province):
    scope = report.build_scope(province, AS_OF, city=CITY_B)
    table = report.rank_measure(province, RENOVATION, "start_rate", scope)
    assert scope.counties == (EAST, WEST)
    assert list(zip(table["county"], table["rank"])) == [("东县", 1), ("西县", 2)]
    assert report.describe_place(province, scope) == "乙市"


def test_counties_across_the_province_are_ranked_together(province):
    table = report.rank_measure(province, RENOVATION, "start_rate", report.Scope(AS_OF))
    assert list(zip(table["adcode"], table["rank"])) == [(SOUTH, 1), (EAST, 1), (MIDDLE, 3), (NORTH, 4), (WEST, 5)]
    assert report.describe_place(province, report.Scope(AS_OF)) == "全省"


def test_city_ranks_move_against_the_previous_report(store):
    # Each county's last start came on 6-20, after the previous report (6-10).
    make_province(store, started_on=date(2026, 6, 20))
    table = _by_name(report.rank_measure(store, RENOVATION, "start_rate", report.Scope(AS_OF, level="city"),
                                         previous=PREVIOUS))
    # On 6-10: 甲市 2/5, 乙市 1/5, 丙市 3/5; now 甲市 and 丙市 4/5, 乙市 3/5.
    assert (table["丙市"]["previous_rank"], table["丙市"]["rank"], table["丙市"]["rank_change"]) == (1, 1, 0)
    assert (table["甲市"]["previous_rank"], table["甲市"]["rank"], table["甲市"]["rank_change"]) == (2, 1, 1)
    assert (table["乙市"]["previous_rank"], table["乙市"]["rank"], table["乙市"]["rank_change"]) == (3, 3, 0)


def test_within_a_city_previous_ranks_are_counted_among_its_counties(province):
    scope = report.build_scope(province, AS_OF, city=CITY_B)
    table = _by_name(report.rank_measure(province, RENOVATION, "start_rate", scope, previous=PREVIOUS))
    assert table["东县"]["previous_rank"] == 1 and table["西县"]["previous_rank"] == 2


def test_the_notice_at_city_level_speaks_of_the_cities_and_comes_from_the_department(province):
    text = notice.build_notice(province, report.Scope(AS_OF, level="city"), PREVIOUS, (RENOVATION,)).text
    # Every city is 20 points or more behind on the start node: the sentence speaks of 各市.
    assert "各市开工率均低于节点进度线" in text and "各县区开工率" not in text
    assert "请各市认真分析原因" in text
    assert "省住房和城乡建设厅" in text and "各市住房和城乡建设局" in text
    assert "全省" in text


def test_the_notice_at_county_level_of_one_city_speaks_of_its_counties(province):
    scope = report.build_scope(province, AS_OF, city=CITY_B)
    text = notice.build_notice(province, scope, PREVIOUS, (RENOVATION,)).text
    assert "关于乙市老旧小区改造工作进展情况的通报" in text
    assert "西县(33.3%)" in text and "甲市" not in text


def test_city_frame_keeps_the_measure_table_columns_every_output_reads(province):
    measure = find_measure(RENOVATION, "start_rate")
    table = report.rank_measure(province, RENOVATION, "start_rate", report.Scope(AS_OF, level="city"))
    counties = report.rank_measure(province, RENOVATION, "start_rate", report.Scope(AS_OF))
    assert set(counties.columns) <= set(table.columns)
    assert measure.key == "start_rate"


def test_a_provinces_published_files_name_the_province_and_the_department_as_source(province):
    scope = report.Scope(AS_OF)
    files = publish.build_report_files(province, scope, None, notice.build_notice(province, scope, None))
    names = [f["name"] for f in files]
    assert "会议材料_全省_2026-07-02.pptx" in names and not any("全市" in n for n in names)
    workbook = openpyxl.load_workbook(io.BytesIO(next(f["content"] for f in files if f["name"].endswith(".xlsx"))))
    cells = [str(c.value) for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row if c.value]
    assert any("来源:省住建厅调度数据" in c for c in cells) and not any("市住建局" in c for c in cells)
