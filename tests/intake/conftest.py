import pytest

from intake_files import add_places


@pytest.fixture
def city(store):
    """The hand-built two-county store with places, plans and 北县's boundary (SQLite and PostgreSQL)."""
    add_places(store)
    return store
