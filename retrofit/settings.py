"""Configuration: the one home for the database URL, flag thresholds, colours and targets."""
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
BOUNDARIES_FILE = DATA_DIR / "baoji_counties.geojson"
PROVINCE_BOUNDARIES_FILE = DATA_DIR / "shaanxi_counties.geojson"  # the province demo (陕西省)
DEFAULT_DB_FILE = DATA_DIR / "retrofit.db"
DB_URL_ENV = "RETROFIT_DB_URL"

DEMO_SEED = 20261120
# The bureau's clock: "as reported on a date" means up to the end of that day here.
LOCAL_TIMEZONE = "Asia/Shanghai"

# Waiting on the store, in seconds. SQLite readers never wait in WAL mode; the busy timeout is for
# a writer behind another writer. PostgreSQL: a host that never answers is given up after the
# connect timeout, a query after the statement timeout, and a reader behind a rebuild's table
# locks after the lock timeout, so a page says what is wrong within seconds instead of hanging.
SQLITE_BUSY_TIMEOUT_S = 10
# How often each app server re-reads the store's revision (one row of store_meta): an import
# through another server, or the command line, shows on this one's next rerun after at most this
# many seconds. Every cached result is keyed by the revision, so nothing else needs telling.
REVISION_CHECK_S = 2
PG_CONNECT_TIMEOUT_S = 5
PG_STATEMENT_TIMEOUT_S = 120
PG_LOCK_TIMEOUT_S = 5


def database_url() -> str:
    """The store's SQLAlchemy URL: $RETROFIT_DB_URL, else a SQLite file under data/."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{DEFAULT_DB_FILE}"


@dataclass(frozen=True)
class FlagThresholds:
    """How far behind its target line a county may fall, in percentage points, before a flag.

    A county at or above the line minus `yellow_gap_pp` is green; more than `red_gap_pp`
    behind is red; in between is yellow.
    """
    yellow_gap_pp: float = 0.0
    red_gap_pp: float = 15.0


FLAG_THRESHOLDS = FlagThresholds()

# Resident contributions are expected to reach at least a fifth of a batch's funds (the seed
# complains the share stays below 20%).
RESIDENT_SHARE_TARGET = 0.20
# Residents' contributions are raised before works start and must be in by the end of July of the
# batch year; before then the share is shown but not judged (a policy choice: change it here).
RESIDENT_SHARE_DUE = (7, 31)
# The widely cited target for rural heating (DOMAIN.md): about 10,000 yuan initial investment and
# about 1,000 yuan running cost per household and heating season.
INVEST_REFERENCE_YUAN = 10_000
RUNNING_REFERENCE_YUAN = 1_000
# Allocated funds still not disbursed after this many days count as retained (资金留置).
RETENTION_AGE_DAYS = 90
# When money falls due (资金拨付率 is paid ÷ due, 资金留置 only ever counts due money):
# renovation funds are due in full this many days after allocation (central funds must be broken
# down to projects within 30 days of receipt); a heating subsidy this many days after its
# household is connected (paid after connection and checking, usually within a month).
RENOVATION_FUNDS_DUE_DAYS = 30
SUBSIDY_DUE_DAYS = 30
# A heating allocation's due part is its share of the subsidies due, and counties split each
# allocation over households to the yuan: balances below this are that rounding, not retention.
RETENTION_TOLERANCE_YUAN = 100

# Charts at 100+ counties: a ranking draws the best and the worst this many counties (and every
# red one), the rest stay in the table beside it; no per-county chart grows taller than a 1080-line
# screen leaves for it (browser and page chrome take the rest), bars shrink to at least MIN_ROW_PX.
RANKING_CHART_EDGE = 10
MAX_CHART_HEIGHT_PX = 900
MIN_ROW_PX = 16
# Points on the detailed map: above this many villages (or communities) in scope an even sample of
# about this many is drawn, and the map says so (a province has ~12k villages and ~30k communities;
# counting every village's households takes seconds, and the browser would draw a blur of dots).
MAP_POINTS_MAX = 1000

# One meaning per colour, everywhere: flags, charts, tables, exports, the big screen.
FLAG_COLOURS = {"red": "#d0312d", "yellow": "#e8a317", "green": "#2e8b57", "none": "#9aa0a6"}
PRIMARY = "#1f4e79"
# Series colours (routes, sources, counties): no red, yellow or green, which only flags may use.
PALETTE = ["#1f4e79", "#4a90c2", "#8fbce6", "#7b5ea7", "#3aa39a", "#8c564b", "#7f7f7f", "#c77cb4"]

# Accounts (retrofit/accounts.py). A login is locked for LOCKOUT_MINUTES after this many failed
# passwords in a row; a sign-in lasts SESSION_HOURS (a working day), then the login page again.
MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
SESSION_HOURS = 8
MIN_PASSWORD_LENGTH = 10
# The browser cookie holding the sign-in token (the store keeps only its hash).
SESSION_COOKIE = "retrofit_session"
