import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # builders.py

from builders import make_store  # noqa: E402
from retrofit import db, demo  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402


# Where RETROFIT_TEST_PG_URL names a PostgreSQL database (.ci/run starts one), every test on a
# hand-built store runs on both databases: the queries must not depend on SQLite.
PG_URL = os.environ.get("RETROFIT_TEST_PG_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """A fresh hand-built store: a temporary SQLite file, or the (emptied) PostgreSQL test database."""
    url = PG_URL if request.param == "postgresql" else f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_store(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> str:
    """The demo city, built once per test session into a temporary SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    demo.build_demo(db.make_engine(url), DEMO_SEED)
    return url


@pytest.fixture(scope="session")
def demo_engine(demo_url):
    return db.make_engine(demo_url)


# Hypothesis's per-example deadline is a timed assertion: on a busy 2-core machine one slow
# example fails a correct rule. Speed is measured in bench/, never asserted in tests.
hypothesis_settings.register_profile("retrofit", deadline=None)
hypothesis_settings.load_profile("retrofit")
