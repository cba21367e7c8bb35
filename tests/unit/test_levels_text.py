"""What changes in words and on the map when a province ranks its cities (issue 13)."""
import pandas as pd
from test_notice import ranked

from retrofit import notice
from retrofit.geo import MAP_ALL_LABELS_UP_TO, list_labelled_counties


def test_cities_behind_the_line_are_counted_as_cities():
    table = ranked([("甲市", 9, 10, "green", 1, 1), ("乙市", 45, 100, "yellow", 2, 2), ("丙市", 1, 10, "red", 3, 3)])
    assert notice.describe_behind_line("完成率", table, 15, unit="市") == (
        "完成率低于时间进度线(50.0%)的市有2个:丙市(10.0%)、乙市(45.0%),其中丙市落后超过15个百分点,列为红色预警。")


def test_unchanged_city_ranks_are_said_of_every_city():
    table = ranked([("甲市", 9, 10, "green", 1, 1), ("乙市", 4, 10, "yellow", 2, 2)])
    sentence = notice.describe_rank_movement("完成率", table, pd.Timestamp("2026-11-13").date(), unit="市")
    assert sentence.endswith("各市完成率排名均未变化。")


def test_a_province_notice_asks_the_lagging_cities_and_is_the_departments():
    text = notice._requirements(["乙市"], ["甲市", "乙市", "丙市"], unit="市", province=True)
    assert text.startswith("请乙市等进度滞后市认真分析原因") and "省住建厅将持续跟踪调度" in text


def test_a_city_map_names_every_county_a_province_map_only_the_red_ones():
    city = pd.DataFrame({"county": [f"县{i}" for i in range(12)], "flag": ["red", "green"] * 6})
    province = pd.DataFrame({"county": [f"县{i}" for i in range(107)], "flag": ["red"] + ["yellow"] * 106})
    assert len(list_labelled_counties(city)) == 12
    assert list(list_labelled_counties(province)["county"]) == ["县0"]
    assert MAP_ALL_LABELS_UP_TO < 107
