"""A province's worth of counties (110) in the store: the ranking chart stays one screen tall and
still names every county a meeting must talk about."""
import os
from datetime import date

import pytest
from builders import PROVINCE_COUNTIES, make_store_with_many_counties

from retrofit import charts, report
from retrofit.charts import ChartMeta
from retrofit.measures import find_measure

PG_URL = os.environ.get("RETROFIT_TEST_PG_URL")  # as the `store` fixture: PostgreSQL too where there is one


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def province(request, tmp_path):
    url = PG_URL if request.param == "postgresql" else f"sqlite:///{tmp_path / 'province.db'}"
    engine = make_store_with_many_counties(url)
    yield engine
    engine.dispose()


def test_a_110_county_ranking_is_one_screen_tall_and_names_every_red_county(province):
    scope = report.Scope(date(2026, 11, 20))
    table = report.rank_measure(province, "heating", "completion_rate", scope)
    assert len(table) == PROVINCE_COUNTIES
    reds = set(table.loc[table["flag"] == "red", "county"])
    assert len(reds) > 20  # enough that a chart of the worst ten alone would leave some out
    fig = charts.build_ranking_figure(table, find_measure("heating", "completion_rate"), ChartMeta(scope.as_of, False))
    assert fig.layout.height <= 900
    assert reds <= set(fig.data[0].y)
    assert set(table["county"][:3]) <= set(fig.data[0].y)  # the best open the chart
