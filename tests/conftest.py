import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # builders.py

from builders import make_store  # noqa: E402
from retrofit import db, demo  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402


@pytest.fixture
def store(tmp_path):
    """A fresh hand-built store in a temporary SQLite file."""
    return make_store(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> str:
    """The demo city, built once per test session into a temporary SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    demo.build_demo(db.make_engine(url), DEMO_SEED)
    return url


@pytest.fixture(scope="session")
def demo_engine(demo_url):
    return db.make_engine(demo_url)
