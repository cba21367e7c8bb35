"""The detailed map (`build_*_deck -> pdk.Deck`): counties coloured by flag, villages and
communities as points with tooltips, all offline. Every pickable object carries `county`, so a
click can filter the app to it, on a county's area or on a village or community dot inside it.
Counties the boundaries lack are left off the map (geo.build_boundary_note names them)."""
import json
import math
import urllib.parse
import weakref

import pandas as pd
import pydeck as pdk
from pydeck.bindings import json_tools

from . import fmt
from .geo import MAP_ALL_LABELS_UP_TO, MapView, compute_county_centres, list_labelled_counties, overlaps
from .measures import Measure, compute_flag, compute_gap_pp
from .settings import FLAG_COLOURS, PRIMARY

# A style with nothing but a background: pydeck/Streamlit would otherwise ask a CDN for a
# basemap, which this network cannot reach (see STACK.md). Passed as a data URL on purpose:
# a dict style is refused unless the provider is mapbox.
BLANK_STYLE = "data:application/json," + urllib.parse.quote(json.dumps(
    {"version": 8, "sources": {}, "layers": [{"id": "bg", "type": "background",
                                              "paint": {"background-color": "#f4f1ea"}}]}))
COUNTY_LAYER, VILLAGE_LAYER, COMMUNITY_LAYER = "counties", "villages", "communities"
# The deck is wider than the ~900 px the stored view frames: a full-width map (宝鸡: 7.3 -> 8.1)
# and the overview's half-page one (7.3 -> 7.6) zoom in by these steps.
FULL_WIDTH_ZOOM_STEP, HALF_WIDTH_ZOOM_STEP = 0.8, 0.3


def _literal(text: str) -> str:
    """A string pydeck passes through as a string (an unquoted one becomes an expression)."""
    return f'"{text}"'


def _rgba(hex_colour: str, alpha: int = 255) -> list[int]:
    hex_colour = hex_colour.lstrip("#")
    return [int(hex_colour[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


_DECK_JSON: "weakref.WeakKeyDictionary[pdk.Deck, str]" = weakref.WeakKeyDictionary()


class BuiltDeck(pdk.Deck):
    """A deck that is not changed once built, so its JSON (about a megabyte for a province's
    outlines, most of a map page's server time) is made once and reused on every rerun of a page
    that keeps the deck (ui.view). Kept beside the deck, not on it: pydeck writes every attribute
    of the deck into that JSON."""

    def to_json(self) -> str:
        if self not in _DECK_JSON:
            # pydeck's own serialize, less its two-space indent: a third smaller, made faster.
            _DECK_JSON[self] = json.dumps(self, sort_keys=True, default=json_tools.default_serialize)
        return _DECK_JSON[self]


POLYGON_COLUMNS = ["county", "name", "info", "polygon", "fill", "label", "detail"]


def _county_polygons(table: pd.DataFrame, measure: Measure, boundaries: dict) -> pd.DataFrame:
    """One row per ring of each county's outline, with the measure's value and flag colour
    (counties of the table only: an outline of a county not in the store is not drawn)."""
    by_adcode = {row["adcode"]: row for row in table.to_dict("records")}
    rows = []
    for feature in boundaries["features"]:
        row = by_adcode.get(feature["properties"]["adcode"])
        if row is None:
            continue
        for ring in _outer_rings(feature["geometry"]):
            rows.append(dict(county=row["county"], name="", info="", polygon=[list(c) for c in ring],
                             fill=_rgba(FLAG_COLOURS[row["flag"]], 150),
                             label=f"{measure.label} {fmt.format_percent_of(row['numerator'], row['denominator'])}",
                             detail=f"{fmt.format_count(row['numerator'], measure.unit)} / "
                                    f"{fmt.format_count(row['denominator'], measure.unit)}"))
    return pd.DataFrame(rows, columns=POLYGON_COLUMNS)


def _outer_rings(geometry: dict) -> list:
    """The outer ring of each part of a GeoJSON (Multi)Polygon, read as stored: building shapely
    polygons only to read their rings back took most of a province map's build."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [polygon[0] for polygon in geometry["coordinates"]]


LABEL_PX = 15  # the county labels' font size on the deck, in pixels


def _county_labels(table: pd.DataFrame, boundaries: dict, zoom: float) -> pd.DataFrame:
    """A label per county that has an outline (the others are named in the boundary note). On a
    province's map (geo.list_labelled_counties: its red counties) a label that would cover one
    already placed at the opening `zoom` is left to the hover, the furthest behind placed first:
    red counties crowd around a capital and their piled-up names could not be read."""
    labelled = list_labelled_counties(table)
    centres = compute_county_centres(boundaries, labelled["adcode"])
    crowded = len(table) > MAP_ALL_LABELS_UP_TO
    rows, placed = [], []
    for r in (labelled.iloc[::-1] if crowded else labelled).itertuples():  # rank order: furthest behind last
        if r.adcode not in centres:
            continue
        lon, lat = centres[r.adcode].x, centres[r.adcode].y
        text = f"{r.county}\n{fmt.format_percent_of(r.numerator, r.denominator)}"
        box = compute_label_box_px(text, lon, lat, zoom)
        if crowded and any(overlaps(box, other) for other in placed):
            continue
        placed.append(box)
        rows.append(dict(county=r.county, position=[lon, lat], text=text))
    return pd.DataFrame(rows, columns=["county", "position", "text"])


def compute_label_box_px(text: str, lon: float, lat: float, zoom: float) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom; Web Mercator pixels at `zoom`, deck.gl's 512-pixel
    world) that a centred label of `text` (lines split by newlines) covers: Chinese characters
    one em wide, digits and signs about 0.6."""
    lines = text.split("\n")
    width = max(sum(1.0 if ord(c) > 0x2E7F else 0.6 for c in line) for line in lines) * LABEL_PX
    height = len(lines) * LABEL_PX * 1.2
    world = 512 * 2 ** zoom
    x = (lon + 180) / 360 * world
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * world
    return x - width / 2, y - height / 2, x + width / 2, y + height / 2


def build_village_points(villages: pd.DataFrame, target: float | None) -> pd.DataFrame:
    """Villages as points: radius by households, colour by the completion flag against `target`."""
    frame = villages.copy()
    net = frame["task_households"] - frame["cancelled_households"]  # cancellations leave the task
    frame["flag_colour"] = [_rgba(FLAG_COLOURS[compute_flag(compute_gap_pp(c, t, target))], 220)
                            for c, t in zip(frame["connected_households"], net)]
    frame["rate"] = [fmt.format_percent_of(c, t) for c, t in zip(frame["connected_households"], net)]
    frame["name"] = frame["township"] + frame["village"]
    frame["info"] = [f"任务{t}户,已通气通电{c}户,完成率{r}" for t, c, r in
                     zip(frame["task_households"], frame["connected_households"], frame["rate"])]
    return frame.assign(label="", detail="")[["county", "name", "lon", "lat", "task_households", "flag_colour",
                                               "info", "label", "detail"]]


def build_community_points(communities: pd.DataFrame) -> pd.DataFrame:
    """Communities as points: red when a stage is overdue, blue otherwise."""
    frame = communities.copy()
    frame["flag_colour"] = [_rgba(FLAG_COLOURS["red"] if late else PRIMARY, 230) for late in frame["days_late"]]
    frame["info"] = [f"{street} · {stage}" + (f" · {late}逾期{days}天" if days else "")
                     for street, stage, late, days in zip(frame["street"], frame["stage"], frame["late_stage"],
                                                          frame["days_late"])]
    return frame.assign(label="", detail="")[["county", "name", "lon", "lat", "households", "flag_colour", "info",
                                               "label", "detail"]]


def build_county_deck(table: pd.DataFrame, measure: Measure, boundaries: dict, view: MapView,
                      villages: pd.DataFrame | None = None, communities: pd.DataFrame | None = None,
                      zoom_step: float = FULL_WIDTH_ZOOM_STEP) -> pdk.Deck:
    """Counties (`boundaries`, geo.load_store_boundaries) coloured by flag with labels, optional
    village and community points, centred on `view`. `zoom_step` above the view's zoom (made
    for ~900 px) frames the whole city in a full-width map; HALF_WIDTH_ZOOM_STEP in half the page."""
    labels = _county_labels(table, boundaries, view.zoom + zoom_step)
    layers = [
        pdk.Layer("PolygonLayer", _county_polygons(table, measure, boundaries), id=COUNTY_LAYER, get_polygon="polygon",
                  get_fill_color="fill", get_line_color=[255, 255, 255], line_width_min_pixels=1.5,
                  pickable=True, auto_highlight=True, stroked=True),
    ]
    if villages is not None and len(villages):
        layers.append(pdk.Layer("ScatterplotLayer", villages, id=VILLAGE_LAYER, get_position=["lon", "lat"],
                                get_radius="task_households", radius_scale=8, radius_min_pixels=3,
                                radius_max_pixels=14, get_fill_color="flag_colour", get_line_color=[255, 255, 255],
                                stroked=True, line_width_min_pixels=0.5, pickable=True))
    if communities is not None and len(communities):
        layers.append(pdk.Layer("ScatterplotLayer", communities, id=COMMUNITY_LAYER, get_position=["lon", "lat"],
                                get_radius="households", radius_scale=4, radius_min_pixels=4, radius_max_pixels=12,
                                get_fill_color="flag_colour", get_line_color=[20, 20, 20], stroked=True,
                                line_width_min_pixels=1, pickable=True))
    # Labels last, so points never cover them. The font atlas is drawn in the browser from the
    # characters listed, Chinese included.
    layers.append(pdk.Layer("TextLayer", labels, id="county-labels", get_position="position", get_text="text",
                            get_size=LABEL_PX, get_color=[16, 22, 31],
                            character_set=_literal("".join(sorted(set("".join(labels["text"]))))),
                            font_family=_literal("Noto Sans CJK SC"), font_weight=600,
                            get_text_anchor='"middle"', get_alignment_baseline='"center"',
                            outline_width=2, outline_color=[255, 255, 255, 200]))
    tooltip = {"html": "<b>{county}</b> {name}<br/>{label}{info}<br/>{detail}",
               "style": {"fontFamily": "Noto Sans CJK SC, Microsoft YaHei, sans-serif", "fontSize": "14px"}}
    start = pdk.ViewState(longitude=view.lon, latitude=view.lat, zoom=view.zoom + zoom_step, pitch=0)
    # Without a depth test the layers stack in the order listed, so labels stay on top of points.
    return BuiltDeck(layers=layers, initial_view_state=start, map_style=BLANK_STYLE, tooltip=tooltip,
                    parameters={"depthTest": False})
