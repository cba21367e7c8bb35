"""The command line as a user types it: clear Chinese errors and a non-zero exit."""
import json

import pytest

from retrofit import report
from retrofit.cli import main
from retrofit.demo import DEMO_DATA_DATE


@pytest.fixture(autouse=True)
def _demo_store(demo_url, monkeypatch):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)


def test_wrong_measure_name_lists_the_valid_ones(capsys):
    assert main(["rank", "--program", "heating", "--measure", "speed"]) == 2
    assert "未知指标“speed”" in capsys.readouterr().err


def test_wrong_county_name_lists_the_counties(capsys):
    assert main(["measures", "--county", "宝鸡县"]) == 2
    err = capsys.readouterr().err
    assert "未找到县区“宝鸡县”" in err and "陇县" in err


def test_malformed_date_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["measures", "--as-of", "2026-11-31"])
    assert exit_.value.code == 2
    assert "格式不正确" in capsys.readouterr().err


def test_previous_report_after_the_as_of_date_is_refused(capsys):
    assert main(["rank", "--program", "renovation", "--measure", "finish_rate", "--as-of", "2026-10-01",
                 "--previous", "2026-10-09"]) == 2
    assert "应早于截至日期" in capsys.readouterr().err


def test_as_of_after_the_data_date_is_refused(capsys):
    assert main(["measures", "--as-of", "2027-01-01"]) == 2
    assert "晚于库中最新数据日期" in capsys.readouterr().err


def test_measures_for_one_county_as_json(capsys):
    assert main(["measures", "--county", "陇县", "--format", "json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["county"] == "陇县" and figures["is_demo"] is True
    completion = next(m for m in figures["measures"] if m["program"] == "heating" and m["key"] == "completion_rate")
    assert completion["flag"] == "red"


def test_rank_table_is_titled_with_the_data_date_and_previous_report(capsys):
    assert main(["rank", "--program", "renovation", "--measure", "finish_rate"]) == 0
    out = capsys.readouterr().out
    assert "截至 2026年11月20日" in out and "上期 2026年11月13日" in out and "凤翔区" in out


def test_rank_csv_has_one_row_per_county(capsys):
    assert main(["rank", "--program", "heating", "--measure", "idle_rate", "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 13


def test_a_year_without_a_heating_plan_is_refused_with_the_years_there_are(capsys):
    assert main(["rank", "--program", "heating", "--measure", "completion_rate", "--year", "2021"]) == 2
    assert "2021年度没有清洁取暖计划" in capsys.readouterr().err


def test_missing_arguments_are_named_in_chinese(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["rank"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "用法:" in err and "缺少必需参数:--program, --measure" in err


def test_pack_into_a_missing_folder_is_refused_before_any_work(capsys, tmp_path):
    assert main(["export", "pack", "--out", str(tmp_path / "no" / "such" / "pack.pptx")]) == 2
    assert "不存在" in capsys.readouterr().err


def test_measures_for_several_counties_add_them_up(capsys, demo_engine):
    assert main(["measures", "--county", "陇县", "--county", "麟游县", "--format", "json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    completion = next(m for m in figures["measures"] if m["key"] == "completion_rate")
    both = report.compute_measure_table(demo_engine, "heating", "completion_rate",
                                        report.Scope(DEMO_DATA_DATE, counties=("610327", "610329")))
    assert (completion["numerator"], completion["denominator"]) == (both["numerator"].sum(), both["denominator"].sum())
    assert figures["county"] == "陇县、麟游县"
