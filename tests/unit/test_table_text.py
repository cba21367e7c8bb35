from retrofit import tables


def test_gap_against_the_target_line_in_words():
    assert tables.describe_gap(1.86, 0.8877, "节点进度线") == "+1.9个百分点(节点进度线88.8%)"
    assert tables.describe_gap(-0.04, 1.0) == "持平(目标线100.0%)"
    assert tables.describe_gap(float("nan"), None) == ""
