"""Setting up a city from its own boundary file: GeoJSON in any CRS, a zipped Shapefile or a
GeoPackage; counties by adcode or name; what the file lacks or adds listed; boundaries and the
map view kept in the store (so PostgreSQL carries them too)."""
import io
import zipfile

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box

from retrofit import db
from retrofit.intake import city

# Two neighbouring counties of an invented city, sharing the border at lon 109.5.
WEST, EAST = box(109.0, 38.0, 109.5, 38.5), box(109.5, 38.0, 110.0, 38.5)


def _frame(crs: int = 4326, **columns) -> gpd.GeoDataFrame:
    data = {"adcode": ["610802", "610803"], "name": ["榆阳区", "横山区"], **columns}
    return gpd.GeoDataFrame(data, geometry=[WEST, EAST], crs=4326).to_crs(crs)


def _bytes(frame: gpd.GeoDataFrame, driver: str, tmp_path) -> bytes:
    suffix = {"GeoJSON": ".geojson", "GPKG": ".gpkg", "ESRI Shapefile": ".shp"}[driver]
    target = tmp_path / f"counties{suffix}"
    frame.to_file(target, driver=driver)
    if driver != "ESRI Shapefile":
        return target.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for part in tmp_path.glob("counties.*"):
            archive.write(part, part.name)
    return out.getvalue()


@pytest.mark.parametrize("driver, name", [("GeoJSON", "榆林.geojson"), ("GPKG", "榆林.gpkg"),
                                          ("ESRI Shapefile", "榆林.zip")])
def test_a_city_is_set_up_from_geojson_shapefile_or_geopackage(store, tmp_path, driver, name):
    content = _bytes(_frame(3857), driver, tmp_path)   # Web Mercator in, WGS84 stored
    counties = city.init_city(store, "榆林市", content, name, force=True)
    assert [(c.adcode, c.name) for c in counties] == [("610802", "榆阳区"), ("610803", "横山区")]
    with store.connect() as conn:
        rows = conn.execute(db.county.select().order_by(db.county.c.seq)).mappings().all()
        meta = db.read_meta(conn)
    assert [(r["name"], r["kind"], r["seq"]) for r in rows] == [("榆阳区", "区", 1), ("横山区", "区", 2)]
    assert meta["city"] == "榆林市" and meta["is_demo"] == "0"
    stored = city.load_boundaries_geojson(store)
    west = shapely.geometry.shape(stored["features"][0]["geometry"])
    assert west.bounds == pytest.approx(WEST.bounds, abs=1e-6)
    lon, lat, zoom = city.load_map_view(store)
    assert (lon, lat) == (109.5, 38.25) and 3 <= zoom <= 12


def test_simplified_neighbours_keep_a_shared_border_without_gaps(store, tmp_path):
    wiggly = shapely.segmentize(WEST, 0.0001)
    frame = gpd.GeoDataFrame({"adcode": ["610802", "610803"], "name": ["榆阳区", "横山区"]},
                             geometry=[wiggly, shapely.segmentize(EAST, 0.0001)], crs=4326)
    city.init_city(store, "榆林市", _bytes(frame, "GeoJSON", tmp_path), "榆林.geojson", force=True)
    shapes = city.load_county_shapes(store)
    assert shapes["610802"].intersection(shapes["610803"]).length == pytest.approx(0.5, abs=1e-6)
    assert shapely.get_num_coordinates(shapes["610802"]) < shapely.get_num_coordinates(wiggly)


def test_boundaries_for_existing_counties_match_by_name_and_list_what_differs(store, tmp_path):
    content = _bytes(gpd.GeoDataFrame({"name": ["北县", "西县"]}, geometry=[WEST, EAST], crs=4326), "GeoJSON",
                     tmp_path)
    with pytest.raises(city.CityError) as refused:
        city.attach_boundaries(store, content, "b.geojson")
    assert str(refused.value) == "边界文件与本市县区不一致。文件缺少:南区(610002);文件多出:西县(无代码)"
    good = _bytes(gpd.GeoDataFrame({"name": ["北县", "南区"]}, geometry=[WEST, EAST], crs=4326), "GeoJSON", tmp_path)
    city.attach_boundaries(store, good, "b.geojson")
    assert sorted(city.load_county_shapes(store)) == ["610001", "610002"]


def test_a_file_without_codes_or_names_is_refused(store, tmp_path):
    content = _bytes(gpd.GeoDataFrame({"pop": [1, 2]}, geometry=[WEST, EAST], crs=4326), "GeoJSON", tmp_path)
    with pytest.raises(city.CityError, match="边界文件缺少县区代码或名称字段"):
        city.init_city(store, "榆林市", content, "b.geojson", force=True)


def test_a_file_that_is_not_a_boundary_file_is_refused(store):
    with pytest.raises(city.CityError, match="无法读取边界文件“b.geojson”"):
        city.init_city(store, "榆林市", b"not json", "b.geojson", force=True)


def test_the_demo_city_keeps_its_boundaries_in_the_store(demo_engine):
    stored = city.load_boundaries_geojson(demo_engine)
    assert len(stored["features"]) == 12
    assert {f["properties"]["name"] for f in stored["features"]} >= {"陇县", "凤县", "渭滨区"}
