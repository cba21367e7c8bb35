"""A bureau that is not 宝鸡市, from the README alone: set up the city from its boundary file,
import its plans and its townships and villages, download a county's heating template, fill it,
see the errors, fix them, import, see the measures, undo."""
import io
from datetime import date

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from shapely.geometry import box

from retrofit import report
from retrofit.intake import city, commit, templates, validate
from builders import admin_as

DATA_DATE = date(2026, 11, 20)


def _geojson(tmp_path) -> bytes:
    frame = gpd.GeoDataFrame({"adcode": ["610802", "610803"], "name": ["榆阳区", "横山区"]},
                             geometry=[box(109.0, 38.0, 109.5, 38.5), box(109.5, 38.0, 110.0, 38.5)], crs=4326)
    frame.to_file(tmp_path / "yulin.geojson", driver="GeoJSON")
    return (tmp_path / "yulin.geojson").read_bytes()


def _filled(content: bytes, sheet_name: str, rows: list[list], header_row: int = 3) -> bytes:
    book = load_workbook(io.BytesIO(content))
    sheet = book[sheet_name]
    for r, row in enumerate(rows, header_row + 1):
        for c, value in enumerate(row, 1):
            sheet.cell(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(engine, content: bytes, name: str) -> int:
    result = validate.check_file(engine, content, name, DATA_DATE)
    assert result.ok, result.error_table().to_dict("records")
    return commit.commit_import(engine, result, admin_as("榆林市住建局"))


def test_a_new_city_from_boundaries_to_an_imported_heating_ledger(store, tmp_path):
    city.init_city(store, "榆林市", _geojson(tmp_path), "yulin.geojson", DATA_DATE, force=True)

    plans = templates.build_template(store, admin_as("测试"), "plans", None, 2026)
    book = load_workbook(io.BytesIO(plans))
    book["取暖年度"].append([2026, date(2026, 1, 1), date(2026, 3, 31), date(2026, 5, 31), date(2026, 10, 15),
                          date(2026, 11, 15)])
    book["取暖任务"].append(["榆阳区", 2026, 4, 0, 0])
    book["取暖任务"].append(["横山区", 2026, 2, 0, 0])
    out = io.BytesIO()
    book.save(out)
    _import(store, out.getvalue(), "计划.xlsx")

    places = templates.build_template(store, admin_as("测试"), "places", None, 2026)
    places = _filled(places, "乡镇", [["610802101", "榆阳区", "鱼河镇"]])
    places = _filled(places, "村", [["610802101201", "610802101", "上河村", 109.2, 38.2],
                                   ["610802101202", "610802101", "下河村", 109.3, 38.3]])
    _import(store, places, "乡镇村.xlsx")

    ledger = templates.build_template(store, admin_as("测试"), "heating", "榆阳区", 2026)
    row = ["YY-0001", "榆阳区", "鱼河镇", "上河村", 2026, "张三", "13800001111", "空气源热泵", 12000, 8000, 1200, 2000,
           "正常使用", None, date(2026, 3, 1), date(2026, 4, 1), date(2026, 9, 1), date(2026, 9, 20)]
    wrong = _filled(ledger, "一户一档", [row, ["YY-0002", *row[1:3], "中河村", *row[4:]]])
    refused = validate.check_file(store, wrong, "榆阳区.xlsx", DATA_DATE)
    assert refused.error_table()["问题"].tolist() == ["鱼河镇没有村“中河村”(请从下拉列表选择)"]

    fixed = _filled(ledger, "一户一档", [row, ["YY-0002", *row[1:3], "下河村", *row[4:14], date(2026, 3, 1), None,
                                            None, None]])
    before = commit.compute_store_checksum(store)
    log_id = _import(store, fixed, "榆阳区.xlsx")
    headline = report.compute_headline(store, report.Scope(DATA_DATE, 2026, ("610802",))).set_index("key")
    assert (headline.loc["completion_rate", "numerator"], headline.loc["completion_rate", "denominator"]) == (1, 4)
    commit.undo_import(store, log_id, admin_as("榆林市住建局"))
    assert commit.compute_store_checksum(store) == before


def test_a_village_of_an_unknown_township_or_outside_its_county_is_refused(store, tmp_path):
    city.init_city(store, "榆林市", _geojson(tmp_path), "yulin.geojson", DATA_DATE, force=True)
    places = templates.build_template(store, admin_as("测试"), "places", None, 2026)
    places = _filled(places, "乡镇", [["610802101", "榆阳区", "鱼河镇"]])
    places = _filled(places, "村", [["610802101201", "610802109", "上河村", 109.2, 38.2],
                                   ["610802101202", "610802101", "下河村", 109.8, 38.3]])
    result = validate.check_file(store, places, "乡镇村.xlsx", DATA_DATE)
    assert [(e.sheet, e.row, e.column, e.message) for e in result.errors] == [
        ("村", 4, "所属乡镇代码*", "乡镇代码“610802109”不存在:请先在“乡镇”表中填写该乡镇"),
        ("村", 5, "经度*", "坐标(109.8, 38.3)不在榆阳区境内:请核对经纬度(经度在前)")]


def test_a_new_citys_store_is_one_the_app_opens(store, tmp_path):
    from retrofit import store as stores
    city.init_city(store, "榆林市", _geojson(tmp_path), "yulin.geojson", DATA_DATE, force=True)
    assert stores.inspect_store(store).kind == stores.READY
    assert set(queries_counties(store)) == {"榆阳区", "横山区"}


def test_city_init_never_replaces_a_store_with_real_data_unless_forced(store, tmp_path):
    from retrofit import store as stores
    with pytest.raises(stores.StoreFault, match="新建城市不会覆盖它"):
        city.init_city(store, "榆林市", _geojson(tmp_path), "yulin.geojson", DATA_DATE)


def queries_counties(engine) -> list[str]:
    from retrofit import queries
    return queries.load_counties(engine)["county"].tolist()
