"""The notice's sentences from hand-made frames: which counties are named, with which figures."""
from datetime import date

import pandas as pd

from retrofit import fmt, notice


def ranked(rows, target=0.5, line="时间进度线", basis="") -> pd.DataFrame:
    """A ranked measure table from (county, numerator, denominator, flag, rank, previous_rank)."""
    frame = pd.DataFrame(rows, columns=["county", "numerator", "denominator", "flag", "rank", "previous_rank"])
    frame["adcode"] = [f"61000{i}" for i in range(len(frame))]
    frame["value"] = frame["numerator"] / frame["denominator"]
    frame["target"] = target
    frame["line"], frame["basis"], frame["override"] = line, basis, False
    frame["gap_pp"] = (frame["value"] - target) * 100
    frame["rank"] = frame["rank"].astype("Int64")
    frame["previous_rank"] = frame["previous_rank"].astype("Int64")
    frame["rank_change"] = (frame["previous_rank"] - frame["rank"]).astype("Int64")
    return frame


def test_the_reason_a_county_is_flagged_reads_as_the_bureau_writes_it():
    assert fmt.format_lag_reason("完成率", 73, 100, 1.0, -27.0) == "完成率73.0%,低于时间进度线100.0%,落后27.0个百分点"
    assert fmt.format_lag_reason("居民出资占比", 1, 10, 0.2, -10.0, "目标").endswith(
        "低于目标20.0%,落后10.0个百分点")


def test_notice_names_the_red_counties_lowest_first_with_their_rates():
    table = ranked([("甲县", 9, 10, "green", 1, 1), ("乙县", 1, 10, "red", 3, 3), ("丙县", 2, 10, "red", 2, 2)])
    assert notice.describe_lowest("完成率", table) == ",其中乙县完成率仅为10.0%,丙县为20.0%"


def test_notice_names_only_the_lowest_county_when_none_is_red_but_it_is_behind():
    table = ranked([("甲县", 9, 10, "green", 1, 1), ("乙县", 4, 10, "yellow", 2, 2)])
    assert notice.describe_lowest("完工率", table) == ",其中乙县完工率仅为40.0%"


def test_notice_names_nobody_when_every_county_is_on_its_line():
    table = ranked([("甲县", 9, 10, "green", 1, 1), ("乙县", 6, 10, "green", 2, 2)])
    assert notice.describe_lowest("完工率", table) == ""


def test_counties_behind_the_time_line_are_listed_with_rates_and_red_ones_warned():
    table = ranked([("甲县", 9, 10, "green", 1, 1), ("乙县", 45, 100, "yellow", 2, 2), ("丙县", 1, 10, "red", 3, 3)])
    sentence = notice.describe_behind_line("完成率", table, 15)
    assert sentence == ("完成率低于时间进度线(50.0%)的县区有2个:丙县(10.0%)、乙县(45.0%),"
                        "其中丙县落后超过15个百分点,列为红色预警。")


def test_when_every_county_is_behind_only_the_red_ones_are_named():
    table = ranked([("甲县", 45, 100, "yellow", 1, 1), ("乙县", 1, 10, "red", 2, 2)])
    assert notice.describe_behind_line("完成率", table, 15) == (
        "各县区完成率均低于时间进度线(50.0%),其中乙县(10.0%)落后超过15个百分点,列为红色预警。")


def test_counties_all_on_the_line_are_praised_together():
    table = ranked([("甲县", 6, 10, "green", 1, 1), ("乙县", 5, 10, "green", 2, 2)])
    assert notice.describe_behind_line("开工率", table) == "各县区开工率均已达到时间进度线(50.0%)。"


def test_fixed_targets_are_called_targets_not_time_lines():
    table = ranked([("甲县", 1, 10, "yellow", 1, 1), ("乙县", 3, 10, "green", 2, 2)], target=0.2, line="目标")
    assert notice.describe_behind_line("居民出资占比", table).startswith("居民出资占比低于目标(20.0%)")


def test_node_lines_quote_the_plans_nodes():
    table = ranked([("甲县", 1, 10, "red", 2, 2), ("乙县", 9, 10, "green", 1, 1)], target=0.3, line="节点进度线",
                   basis="3月底前开工30%、6月底前全部开工")
    assert notice.describe_behind_line("开工率", table, 15).startswith(
        "开工率低于节点进度线(30.0%,按“3月底前开工30%、6月底前全部开工”节点要求)的县区有1个:甲县(10.0%)")


def test_nobody_is_behind_a_step_the_plan_does_not_require_yet():
    table = ranked([("甲县", 0, 10, "green", 1, 1), ("乙县", 0, 10, "green", 1, 1)], target=0.0, line="节点进度线")
    assert notice.describe_behind_line("完工率", table, 15) == ""


def test_rank_movement_names_who_moved_up_and_down_with_both_places():
    table = ranked([("甲县", 9, 10, "green", 1, 2), ("乙县", 8, 10, "green", 2, 1), ("丙县", 1, 10, "red", 3, 3)])
    assert notice.describe_rank_movement("完成率", table, date(2026, 11, 13)) == (
        "与上期(2026年11月13日)相比,完成率排名上升的有甲县(由第2位升至第1位);"
        "下降的有乙县(由第1位降至第2位);其余县区排名不变。")


def test_no_rank_movement_without_a_previous_report():
    table = ranked([("甲县", 9, 10, "green", 1, 1)])
    assert notice.describe_rank_movement("完成率", table, None) == ""


def test_communities_short_of_preliminary_procedures_are_counted_by_county():
    progress = pd.DataFrame({"county": ["甲县", "乙县", "丙县", "丁县"], "communities": [4, 3, 2, 1],
                             "prep_communities": [4, 1, 2, 1], "tender_communities": [3, 1, 2, 1]})
    assert notice.describe_stage_shortfall(progress, "全市") == (
        "尚有2个小区未完成前期手续,涉及乙县(2个);尚有3个小区未完成招投标,涉及甲县(1个)、乙县(2个)。")


def test_seed_phrase_except_one_county_when_most_counties_are_short():
    progress = pd.DataFrame({"county": ["甲县", "乙县", "丙县"], "communities": [4, 3, 2],
                             "prep_communities": [4, 1, 0], "tender_communities": [4, 3, 2]})
    assert notice.describe_stage_shortfall(progress, "全市") == (
        "招投标已全部完成;除甲县外,其他县区均有小区未完成前期手续(共4个)。")


def test_implementation_plan_not_issued_is_told_apart_from_tender_not_done():
    procurement = pd.DataFrame({"county": ["甲县", "乙县", "丙县", "丁县"],
                                "plan_issued_on": [date(2026, 2, 1), None, date(2026, 2, 1), None],
                                "selected_on": [date(2026, 4, 1), None, None, None],
                                "target_households": [100, 100, 100, 0]})
    assert notice.describe_procurement(procurement, 2026) == (
        "丁县未安排2026年度任务;乙县尚未下发2026年度实施方案,设备招标无法启动;丙县已下发实施方案,但尚未完成设备招标入库。")


def test_tender_not_done_before_its_node_is_not_a_shortfall():
    procurement = pd.DataFrame({"county": ["甲县"], "plan_issued_on": [date(2026, 2, 1)], "selected_on": [None],
                                "target_households": [100]})
    assert notice.describe_procurement(procurement, 2026, tender_due=False) == (
        "甲县已下发实施方案,设备招标入库尚未到节点要求时间。")


def test_retained_funds_are_summed_by_county_program_and_year_largest_first():
    retained = pd.DataFrame({"county": ["甲县", "甲县", "乙县", "丙县"],
                             "program": ["renovation", "renovation", "heating", "heating"],
                             "plan_year": [2025, 2025, 2025, 2026],
                             "retained_yuan": [1_000_000, 500_000, 2_345_600, 999],
                             "flagged": [True, True, True, False]})
    sentence = notice.describe_retained(retained, date(2026, 11, 20), {"renovation": "老旧小区改造",
                                                                        "heating": "清洁取暖"}, 90)
    assert "有384.56万元已到拨付时限仍未拨付,形成资金留置" in sentence
    assert sentence.index("乙县2025年度清洁取暖资金234.56万元") < sentence.index("甲县2025年度老旧小区改造资金150.00万元")
    assert "丙县" not in sentence


def test_overdue_supervision_items_are_quoted_with_days_overdue():
    items = pd.DataFrame({"county": ["甲县", "乙县", "丙县"], "text": ["方案未印发", "资金留置", "已整改"],
                          "status": ["逾期未销号", "办理中", "已销号"], "days_overdue": [12, 0, 0]})
    assert notice.describe_supervision(items, date(2026, 11, 20), "全市", "逾期未销号", "办理中", "已销号") == (
        "截至2026年11月20日,全市督办事项共3项,已销号1项,办理中1项,逾期未销号1项:甲县“方案未印发”(逾期12天)。")
