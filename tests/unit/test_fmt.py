from datetime import date

from retrofit import fmt


def test_percent_of_rounds_half_up_from_exact_integers():
    assert fmt.format_percent_of(1, 8) == "12.5%"
    assert fmt.format_percent_of(1, 16) == "6.3%"      # 6.25 -> 6.3, not banker's 6.2
    assert fmt.format_percent_of(2, 3) == "66.7%"
    assert fmt.format_percent_of(5, 0) == "—"


def test_percent_of_a_share():
    assert fmt.format_percent(0.8876712328767123) == "88.8%"
    assert fmt.format_percent(None) == "—"


def test_households_switch_to_wan_hu_from_ten_thousand():
    assert fmt.format_households(9_876) == "9,876户"
    assert fmt.format_households(13_404) == "1.34万户"
    assert fmt.format_households(12_345) == "1.23万户"
    assert fmt.format_households(12_355) == "1.24万户"   # 1.2355 -> 1.24 half up


def test_money_in_yi_yuan_and_wan_yuan():
    assert fmt.format_yuan(419_870_000) == "4.20亿元"
    assert fmt.format_yuan(27_830_000) == "2,783.00万元"
    assert fmt.format_yuan(3_500) == "3,500元"
    assert fmt.format_wan(9_311_734) == "931.17"


def test_area_in_wan_square_metres():
    assert fmt.format_area(180_000) == "18.00万平方米"
    assert fmt.format_area(8_500) == "8,500平方米"


def test_gap_carries_its_sign_and_unit():
    assert fmt.format_pp(11.2329) == "+11.2个百分点"
    assert fmt.format_pp(-27.04) == "-27.0个百分点"


def test_rank_change_arrows():
    assert [fmt.format_rank_change(c) for c in (2, -1, 0, None)] == ["↑2", "↓1", "—", ""]


def test_dates_in_chinese():
    assert fmt.format_date(date(2026, 11, 20)) == "2026年11月20日"


def test_numbers_for_sortable_columns_round_half_up_too():
    assert fmt.percent_value(1, 16) == 6.3
    assert fmt.percent_value(1, 0) is None
    assert fmt.wan_value(9_311_750) == 931.18
    assert fmt.round_half_up(2.5) == 3.0


def test_household_head_names_are_masked():
    assert [fmt.mask_name(n) for n in ("王建国", "李伟", "欧阳明华", "")] == ["王*国", "李*", "欧**华", ""]


def test_a_gap_that_rounds_to_zero_has_no_sign():
    assert fmt.format_pp(-0.04) == "0.0个百分点"


def test_done_of_planned_writes_a_shared_unit_once():
    assert fmt.format_progress(12_142, 13_404, "户") == "1.21 / 1.34万户"
    assert fmt.format_progress(62, 64, "个") == "62 / 64个"
    assert fmt.format_progress(89_462_100, 101_200_000, "元") == "8,946.21万元 / 1.01亿元"
