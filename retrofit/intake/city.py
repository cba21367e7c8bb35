"""A city from its own boundary file: counties matched by adcode or name, geometry reprojected
to WGS84 and simplified as one coverage (no gaps or overlaps between neighbours), stored in the
store (`county_boundary`), so a PostgreSQL deployment carries its map. The map's centre and
zoom follow from the boundaries.
"""
import io
import json
import math
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from .. import audit, db
from ..accounts import Access

SIMPLIFY_TOLERANCE_DEG = 0.001   # ~100 m: shared borders stay exact (coverage_simplify)
ADCODE_COLUMNS = ("adcode", "ADCODE", "code", "CODE", "区划代码", "行政区划代码", "gb", "PAC")
NAME_COLUMNS = ("name", "NAME", "名称", "县区", "county", "COUNTY", "区县", "NAME_CHN", "县名")
KINDS_BY_SUFFIX = (("县级市", "市"), ("区", "区"), ("县", "县"))


class CityError(Exception):
    """The boundary file cannot set up the city: the message lists what to fix, in Chinese."""


@dataclass(frozen=True)
class CountyShape:
    adcode: str
    name: str
    geometry: object


def load_county_shapes(engine: Engine) -> dict:
    """adcode -> prepared polygon: the store's boundaries, else the shipped demo file for the
    store's counties (stores made before boundaries lived in the store)."""
    import shapely
    from shapely.geometry import shape

    shapes = {}
    if inspect(engine).has_table("county_boundary"):
        with engine.connect() as conn:
            for adcode, text in conn.execute(select(db.county_boundary.c.adcode, db.county_boundary.c.geojson)):
                shapes[adcode] = shape(json.loads(text))
    if not shapes:
        from ..geo import load_county_shapes as shipped

        with engine.connect() as conn:
            mine = set(conn.execute(select(db.county.c.adcode)).scalars())
        shapes = {a: g for a, g in shipped().items() if a in mine}
    for geom in shapes.values():
        shapely.prepare(geom)
    return shapes


def read_boundaries(path_or_bytes, file_name: str | None = None):
    """A GeoDataFrame in WGS84 from GeoJSON, a zipped Shapefile or a GeoPackage."""
    import geopandas as gpd

    name = file_name or str(path_or_bytes)
    content = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        suffix = Path(name).suffix.lower()
        target = Path(folder) / f"boundaries{suffix}"
        target.write_bytes(content)
        try:
            if suffix == ".zip":
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    shp = [n for n in archive.namelist() if n.lower().endswith(".shp")]
                if not shp:
                    raise CityError(f"压缩包“{name}”里没有 .shp 文件")
                frame = gpd.read_file(f"zip://{target}!{shp[0]}")
            else:
                frame = gpd.read_file(target)
        except CityError:
            raise
        except Exception as error:
            raise CityError(f"无法读取边界文件“{name}”:应为 GeoJSON、压缩的 Shapefile(.zip)或 GeoPackage(.gpkg)"
                            f"({type(error).__name__})") from None
    if frame.empty:
        raise CityError(f"边界文件“{name}”中没有图形")
    if frame.crs is None:
        frame = frame.set_crs(4326)   # Assume: GeoJSON without a CRS is WGS84, as RFC 7946 says
    return frame.to_crs(4326)


def _column(frame, candidates) -> str | None:
    return next((c for c in candidates if c in frame.columns), None)


def match_counties(frame, expected: dict[str, str] | None = None) -> list[CountyShape]:
    """One CountyShape per feature, simplified as a coverage. `expected` (adcode -> name), when
    given, must match the file exactly, by adcode or by name; CityError lists what differs."""
    import shapely

    code_col, name_col = _column(frame, ADCODE_COLUMNS), _column(frame, NAME_COLUMNS)
    if code_col is None and name_col is None:
        raise CityError(f"边界文件缺少县区代码或名称字段(应有 {ADCODE_COLUMNS[0]} 或 {NAME_COLUMNS[0]} 列;"
                        f"文件中的字段:{'、'.join(map(str, frame.columns))})")
    dissolved = frame.dissolve(by=code_col or name_col, as_index=False)
    geoms = shapely.coverage_simplify(dissolved.geometry.make_valid().to_numpy(), SIMPLIFY_TOLERANCE_DEG)
    found = []
    for (_, row), geom in zip(dissolved.iterrows(), geoms):
        code = str(row[code_col]).strip()[:6] if code_col else ""
        name = str(row[name_col]).strip() if name_col else ""
        found.append(CountyShape(code, name, geom))
    if expected:
        by_code = {c.adcode: c for c in found if c.adcode}
        by_name = {c.name: c for c in found if c.name}
        matched, lacking = [], []
        for adcode, name in expected.items():
            shape_ = by_code.get(adcode) or by_name.get(name)
            if shape_ is None:
                lacking.append(f"{name}({adcode})")
            else:
                matched.append(CountyShape(adcode, name, shape_.geometry))
        used = {id(m.geometry) for m in matched}
        extra = [f"{c.name or '?'}({c.adcode or '无代码'})" for c in found
                 if not any(c.geometry is m.geometry for m in matched) and id(c.geometry) not in used]
        if lacking or extra:
            parts = ([f"文件缺少:{'、'.join(lacking)}"] if lacking else []) + (
                [f"文件多出:{'、'.join(extra)}"] if extra else [])
            raise CityError("边界文件与本市县区不一致。" + ";".join(parts))
        return matched
    missing = [c for c in found if len(c.adcode) != 6 or not c.adcode.isdigit() or not c.name]
    if missing:
        raise CityError("每个县区须有6位区划代码和名称;以下图形缺少:"
                        + "、".join(f"{c.name or '?'}({c.adcode or '无代码'})" for c in missing))
    return found


def county_kind(name: str) -> str:
    for suffix, kind in KINDS_BY_SUFFIX:
        if name.endswith(suffix):
            return "县级市" if kind == "市" else kind
    return "县"


def compute_map_view(shapes) -> tuple[float, float, float]:
    """(centre lon, centre lat, zoom) that frames the boundaries in a ~900 px wide map."""
    import shapely

    bounds = shapely.total_bounds(list(shapes))
    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    span = max(bounds[2] - bounds[0], (bounds[3] - bounds[1]) / max(math.cos(math.radians(lat)), 0.1), 1e-3)
    zoom = max(3.0, min(12.0, math.log2(360 * 900 / 512 / span) - 1.1))  # 宝鸡市 -> 7.3, as drawn so far
    return round(lon, 4), round(lat, 4), round(zoom, 1)


def store_boundaries(conn, counties: list[CountyShape]) -> None:
    """Write the boundaries and the derived map view into the store (the caller's transaction)."""
    conn.execute(db.county_boundary.delete())
    conn.execute(db.county_boundary.insert(), [
        {"adcode": c.adcode, "geojson": json.dumps(c.geometry.__geo_interface__, ensure_ascii=False)}
        for c in counties])
    lon, lat, zoom = compute_map_view([c.geometry for c in counties])
    db.write_meta(conn, map_centre=f"{lon},{lat}", map_zoom=zoom)


def init_city(engine: Engine, name: str, boundaries, file_name: str | None = None,
              data_date=None, force: bool = False, by: Access | None = None) -> list[CountyShape]:
    """Create an empty store for city `name` from its boundary file, in one transaction. Counties
    get their adcode, name, kind and the file's order. As for the demo (store.replacing_store):
    into an empty store or over the demo; over another store of ours only with `force`; never
    over tables that are not ours."""
    from datetime import date

    from .. import store

    counties = match_counties(read_boundaries(boundaries, file_name))
    counties.sort(key=lambda c: c.adcode)
    with store.replacing_store(engine, force, action="新建城市", by=by,
                               record=(audit.NEW_CITY, f"新建城市库:{name}({len(counties)} 个县区)")) as conn:
        conn.execute(db.county.insert(), [dict(adcode=c.adcode, name=c.name, kind=county_kind(c.name), seq=i)
                                          for i, c in enumerate(counties, 1)])
        store_boundaries(conn, counties)
        db.write_meta(conn, city=name, data_date=(data_date or date.today()).isoformat(), is_demo=0, scale="city")
    return counties


def attach_boundaries(engine: Engine, boundaries, file_name: str | None = None) -> list[CountyShape]:
    """Store boundaries for the store's existing counties (matched by adcode or name; CityError
    lists the counties the file lacks or adds), replacing any stored before."""
    with engine.connect() as conn:
        expected = dict(conn.execute(select(db.county.c.adcode, db.county.c.name).order_by(db.county.c.seq)).all())
    counties = match_counties(read_boundaries(boundaries, file_name), expected)
    with engine.begin() as conn:
        store_boundaries(conn, counties)
        db.bump_revision(conn, facts_unchanged=True)
    return counties


def store_shipped_boundaries(conn, path=None) -> None:
    """A shipped boundary file (the demo city's by default) into the store, through the same
    matching path."""
    from ..settings import BOUNDARIES_FILE

    expected = dict(conn.execute(select(db.county.c.adcode, db.county.c.name)).all())
    store_boundaries(conn, match_counties(read_boundaries(path or BOUNDARIES_FILE), expected))


def load_boundaries_geojson(engine: Engine) -> dict | None:
    """The store's boundaries as a FeatureCollection (feature ids and `adcode` = adcodes, `name`),
    or None when the store holds none: what the maps can draw from instead of data/."""
    with engine.connect() as conn:
        rows = conn.execute(select(db.county_boundary.c.adcode, db.county.c.name, db.county_boundary.c.geojson)
                            .join(db.county, db.county.c.adcode == db.county_boundary.c.adcode)
                            .order_by(db.county.c.seq)).all()
    if not rows:
        return None
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": adcode, "properties": {"adcode": adcode, "name": name},
         "geometry": json.loads(text)} for adcode, name, text in rows]}


def load_map_view(engine: Engine) -> tuple[float, float, float] | None:
    """(centre lon, centre lat, zoom) stored with the boundaries, or None."""
    with engine.connect() as conn:
        meta = db.read_meta(conn)
    if "map_centre" not in meta:
        return None
    lon, lat = (float(v) for v in meta["map_centre"].split(","))
    return lon, lat, float(meta["map_zoom"])
