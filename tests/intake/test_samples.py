"""The sample files in data/samples/ (tools/make_samples.py) are what their names say against
the demo city: the good ones import, the bad ones are refused with their errors."""
from pathlib import Path

import pytest

from builders import admin_as
from retrofit.intake import commit, validate

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.mark.parametrize("path", sorted(SAMPLES.iterdir()), ids=lambda p: p.name)
def test_each_sample_is_accepted_or_refused_as_its_name_says(demo_engine, path):
    result = validate.check_file(demo_engine, path.read_bytes(), path.name)
    if "错误" in path.name:
        assert not result.ok and len(result.errors) >= 2
    else:
        assert result.ok, result.error_table().head().to_dict("records")
        assert sum(commit.build_preview(demo_engine, result, admin_as("测试")).counts.values()) == sum(
            len(s.frame) for s in result.sheets)


def test_the_bad_heating_sample_lists_every_mistake_once(demo_engine):
    path = SAMPLES / "麟游县_清洁取暖一户一档_2026_有错误.xlsx"
    errors = validate.check_file(demo_engine, path.read_bytes(), path.name).error_table()
    assert errors["行号"].tolist() == [4, 5, 6, 7, 8, 10, 11, 12]
