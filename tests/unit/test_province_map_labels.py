"""A province's desk map names its red counties without piling names on each other: where red
districts crowd (a capital's), only the furthest behind is named, the rest are left to the hover."""
import json

import pandas as pd

from retrofit import geo, maps
from retrofit.measures import RED, YELLOW, find_measure
from retrofit.settings import PROVINCE_BOUNDARIES_FILE
from retrofit.vocab import HEATING

COMPLETION = find_measure(HEATING, "completion_rate")
PROVINCE = json.loads(PROVINCE_BOUNDARIES_FILE.read_text(encoding="utf-8"))
XIAN_CENTRE = ("610102", "610103", "610104")  # 新城区, 碑林区, 莲湖区: a few kilometres across
FUGU = "610822"                                # 府谷县, at the province's northern tip


def _province_ranking(red: list[str]) -> pd.DataFrame:
    """Every county of the province, best first: the yellow ones, then `red` in the order given
    (its last one furthest behind)."""
    names = {f["properties"]["adcode"]: f["properties"]["name"] for f in PROVINCE["features"]}
    order = [a for a in names if a not in red] + red
    return pd.DataFrame([dict(county=names[a], adcode=a, numerator=95 - i * 0.1, denominator=100,
                              flag=RED if a in red else YELLOW) for i, a in enumerate(order)])


def _labels(deck) -> list[str]:
    layer = next(layer for layer in deck.layers if layer.id == "county-labels")
    return [row["county"] for row in layer.data]


def test_crowded_red_districts_keep_only_the_furthest_behind_label_and_distant_ones_keep_theirs():
    table = _province_ranking([FUGU, *XIAN_CENTRE])
    deck = maps.build_county_deck(table, COMPLETION, PROVINCE, geo.compute_boundaries_view(PROVINCE),
                                  zoom_step=maps.HALF_WIDTH_ZOOM_STEP)
    names = dict(zip(table["adcode"], table["county"]))
    assert sorted(_labels(deck)) == sorted([names["610104"], names[FUGU]])


def test_a_city_map_names_every_county_even_where_names_touch():
    city = geo.load_shipped_boundaries()
    table = pd.DataFrame([dict(county=f["properties"]["name"], adcode=f["properties"]["adcode"], numerator=50,
                               denominator=100, flag=RED) for f in city["features"]])
    deck = maps.build_county_deck(table, COMPLETION, city, geo.compute_boundaries_view(city))
    assert sorted(_labels(deck)) == sorted(table["county"])
