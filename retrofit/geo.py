"""County boundaries (the store's, else the shipped GeoJSON in data/), the map view that frames
them, which counties have one, and point-in-county geometry."""
import json
import random
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from .intake.city import compute_map_view, load_boundaries_geojson, load_map_view
from .measures import RED
from .settings import BOUNDARIES_FILE


class MapView(NamedTuple):
    """Where a ~900 px wide map looks: centre (degrees) and zoom that frame the city."""
    lon: float
    lat: float
    zoom: float


@lru_cache(maxsize=1)
def load_shipped_boundaries() -> dict:
    """The demo city's (宝鸡) counties as shipped in data/, a GeoJSON FeatureCollection; feature
    ids are adcodes. Maps draw the store's boundaries (load_store_boundaries), not this file."""
    return json.loads(BOUNDARIES_FILE.read_text(encoding="utf-8"))


def load_store_boundaries(engine: Engine) -> dict:
    """The boundaries every map draws: the store's (`county_boundary`, any city), or the shipped
    demo file for a store made before boundaries lived in the store."""
    stored = load_boundaries_geojson(engine) if inspect(engine).has_table("county_boundary") else None
    return stored or load_shipped_boundaries()


def load_store_map_view(engine: Engine) -> MapView:
    """The view stored with the boundaries, or the one that frames the boundaries drawn."""
    stored = load_map_view(engine) if inspect(engine).has_table("county_boundary") else None
    return MapView(*stored) if stored else compute_boundaries_view(load_store_boundaries(engine))


def compute_boundaries_view(geojson: dict) -> MapView:
    """The view that frames every outline of a FeatureCollection (as stored by intake.city)."""
    return MapView(*(float(v) for v in compute_map_view([shape(f["geometry"]) for f in geojson["features"]])))


@lru_cache(maxsize=1)
def load_county_shapes() -> dict[str, BaseGeometry]:
    """adcode -> prepared county polygon (prepared: fast repeated containment tests)."""
    shapes = {}
    for feature in load_shipped_boundaries()["features"]:
        geom = shape(feature["geometry"])
        shapely.prepare(geom)
        shapes[feature["properties"]["adcode"]] = geom
    return shapes


NO_BOUNDARY_NOTE = "无边界数据,未在地图上显示:"
# Up to this many counties without an outline the note names them all; beyond, it counts them
# and names the first few (a list of 100 names would push the map off the screen).
NOTE_NAMES_UP_TO, NOTE_EXAMPLES = 8, 3
# Up to this many counties a map names every county with its value; a province's map (100+
# counties, labels piled on each other) names only the red-flagged ones, the rest on hover.
MAP_ALL_LABELS_UP_TO = 30


def list_labelled_counties(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a measure table whose county a map labels: all of them in a city, only the
    red-flagged ones beyond MAP_ALL_LABELS_UP_TO counties."""
    return table if len(table) <= MAP_ALL_LABELS_UP_TO else table[table["flag"] == RED]


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two boxes (left, low, right, high, in one system of coordinates) share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def compute_county_centres(geojson: dict, adcodes) -> dict[str, Point]:
    """adcode -> a point inside the county's outline where its label goes (shapely's
    representative point), for `adcodes` only: a province's map labels a few of its counties."""
    wanted = set(adcodes)
    return {f["properties"]["adcode"]: shape(f["geometry"]).representative_point()
            for f in geojson["features"] if f["properties"]["adcode"] in wanted}


def list_boundary_adcodes(geojson: dict) -> set[str]:
    """The adcodes the FeatureCollection draws."""
    return {f["properties"]["adcode"] for f in geojson["features"]}


def build_plot_boundaries(geojson: dict, adcodes=None) -> dict:
    """The FeatureCollection for a plotly map trace: only the features of `adcodes` (all when
    None), each ring a numpy array. Plotly deep-copies a trace's GeoJSON whenever a figure is
    built or sent and walks every list of it to write JSON: a province's 22,000 points as lists
    cost about 0.3 s per trace on each rerun, as arrays a few milliseconds. The JSON the browser
    gets is the same (plotly never packs arrays under `geojson` into base64)."""
    wanted = None if adcodes is None else set(adcodes)
    return {"type": "FeatureCollection",
            "features": [{**feature, "geometry": _geometry_as_arrays(feature["geometry"])}
                         for feature in geojson["features"]
                         if wanted is None or feature["properties"]["adcode"] in wanted]}


def _geometry_as_arrays(geometry: dict) -> dict:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        coordinates = [np.asarray(ring, dtype=float) for ring in coordinates]
    elif geometry["type"] == "MultiPolygon":
        coordinates = [[np.asarray(ring, dtype=float) for ring in polygon] for polygon in coordinates]
    return {**geometry, "coordinates": coordinates}


def list_counties_without_boundary(table: pd.DataFrame, geojson: dict) -> list[str]:
    """The counties of `table` (columns adcode, county), in its order, that the boundaries
    `geojson` lack: a county added to the store before its outline."""
    drawn = list_boundary_adcodes(geojson)
    return list(dict.fromkeys(n for a, n in zip(table["adcode"], table["county"], strict=True) if a not in drawn))


def build_boundary_note(table: pd.DataFrame, geojson: dict) -> str:
    """'无边界数据,未在地图上显示:北县、南区' for the counties of `table` a map cannot draw, ''
    when it draws them all. Every map (desk, wall, exports, pack) shows this same sentence, so a
    county missing from the map is not mistaken for one without work."""
    missing = list_counties_without_boundary(table, geojson)
    if len(missing) > NOTE_NAMES_UP_TO:  # a province without outlines: a count, not 100 names
        return f"{len(missing)} 个县区无边界数据,未在地图上显示(如{'、'.join(missing[:NOTE_EXAMPLES])}等)"
    return NO_BOUNDARY_NOTE + "、".join(missing) if missing else ""


def county_of_point(lon: float, lat: float) -> str | None:
    """The adcode of the county containing the point, or None outside the city."""
    point = Point(lon, lat)
    for adcode, geom in load_county_shapes().items():
        if geom.contains(point):
            return adcode
    return None


def sample_point(geom: BaseGeometry, rng: random.Random, centre: tuple[float, float] | None = None,
                 radius_deg: float = 0.0) -> tuple[float, float]:
    """A random point strictly inside `geom`: near `centre` (within `radius_deg`) when given,
    anywhere in the polygon otherwise. Coordinates rounded to 1e-6 degrees (~0.1 m)."""
    min_x, min_y, max_x, max_y = geom.bounds
    if centre is not None:
        min_x, min_y = max(min_x, centre[0] - radius_deg), max(min_y, centre[1] - radius_deg)
        max_x, max_y = min(max_x, centre[0] + radius_deg), min(max_y, centre[1] + radius_deg)
    for _ in range(10_000):
        lon, lat = round(rng.uniform(min_x, max_x), 6), round(rng.uniform(min_y, max_y), 6)
        if geom.contains(Point(lon, lat)):
            return lon, lat
    raise ValueError(f"no point of the polygon found near {centre}")
