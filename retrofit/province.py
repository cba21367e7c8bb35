"""The province demo: 陕西省's 107 real counties in 10 cities, generated in bulk from a seed.

Sized like a provincial department's five years (issue 13): ~30 thousand renovated communities
and ~3 million rural heating households at full size (`ProvinceSize`; tests pass a tiny one).
Rows are generated per county with numpy and written with executemany in chunks (COPY on
PostgreSQL), never one Python dict per household: the full store builds in minutes on two cores.
Everything is invented (演示数据) except the boundaries, and follows the city demo's rules
(demo.py: stage and milestone order, plan nodes, report dates, funds by source), with the same
deliberate late counties so the rankings, the notice and the wall have reds to show.
"""
import json
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import ForeignKeyConstraint, Table, inspect
from sqlalchemy.schema import AddConstraint
from sqlalchemy.engine import Connection, Engine

from . import accounts, audit, db, store
from .demo import (DEMO_DATA_DATE, DEMO_SOURCE, HEATING_SOURCES, IDLE_SHARE, ROUTE_ECONOMICS, ROUTE_MIX,
                   SOURCE_ALLOCATED, SOURCE_SHARES, build_calendar_rows)
from .intake.city import store_shipped_boundaries
from .settings import PROVINCE_BOUNDARIES_FILE
from .vocab import (CONTENT_ITEMS, FUND_SOURCES, HEATING, MILESTONES, PROCUREMENT_STEPS, PROPERTY_TYPES, RENOVATION,
                    RENOVATION_TYPES, STAGES)

PROVINCE, PROVINCE_ADCODE = "陕西省", "610000"
BATCH_YEARS = tuple(range(2021, 2027))
HEATING_YEARS = tuple(range(2022, 2027))
# Cities in the hills (陕南, 陕北): mountain route mix, more biomass; the rest the 关中 plain.
MOUNTAIN_CITIES = {"610600", "610700", "610800", "610900", "611000"}
# The deliberate problems, by position in the province's county list (adcode order), so that any
# size of the demo has them: every 9th county late on renovation, every 11th (from the 5th) late
# on heating, in several cities; one county whose 2026 heating plan was never issued.
RENOVATION_LATE_EVERY, HEATING_LATE_EVERY = 9, 11
RENOVATION_DELAY_DAYS, HEATING_DELAY_DAYS = 70, 35
PLAN_NOT_ISSUED_INDEX = 50
DATA_DAY = np.datetime64(DEMO_DATA_DATE, "D")
INSERT_CHUNK = 20_000
BUILD_CACHE_KIB = 512 * 1024  # SQLite page cache while building (KiB)
BUILD_PG_WORK_MEM = "256MB"    # PostgreSQL sort and hash memory while building
BULK_TABLES = (db.heating_household, db.investment_booking, db.fund_disbursement)

STREETS = ("城关街道", "东关街道", "西关街道", "南关街道", "北关街道", "新区街道")
ROADS = ("人民路", "解放路", "建设路", "东大街", "西大街", "文化路", "新华路", "迎宾路", "北街", "南街")
ESTATES = ("新华", "和平", "幸福", "光明", "团结", "民主", "胜利", "东风", "红光", "长青", "友谊", "建设")
PLACE_HEADS = tuple("龙凤青白石高新平安永宁兴丰太长河川原山坪峪柳杨马金清双三五八南北东西枣槐桃杏")
PLACE_TAILS = tuple("泉池坡塬川河坪沟岭峪头口店寨关桥水阳安丰乐化堡湾营集庄")
SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林党宁雷贾薛任董田严杜")
GIVEN = tuple("建国军民华平志明永红伟刚强文林海英秀兰玉梅春生福安德俊涛斌芳娟丽霞")


@dataclass(frozen=True)
class ProvinceSize:
    """How big the generated province is: the totals over all counties and years (approximate)."""
    households: int = 3_000_000
    communities: int = 30_000
    villages_per_county: int = 110


FULL = ProvinceSize()


@dataclass(frozen=True)
class County:
    adcode: str
    name: str
    kind: str
    city_adcode: str
    geometry: object
    renovation_delay: int
    heating_delay: int


def load_province_counties() -> tuple[list[dict], list[County]]:
    """The cities (adcode, name, seq) and counties of the shipped province file, with each
    county's deliberate delays."""
    features = json.loads(PROVINCE_BOUNDARIES_FILE.read_text(encoding="utf-8"))["features"]
    cities: dict[str, str] = {}
    counties = []
    for i, feature in enumerate(features):
        p = feature["properties"]
        cities.setdefault(p["city_adcode"], p["city"])
        geom = shape(feature["geometry"])
        shapely.prepare(geom)
        counties.append(County(p["adcode"], p["name"], p["kind"], p["city_adcode"], geom,
                               RENOVATION_DELAY_DAYS if i % RENOVATION_LATE_EVERY == RENOVATION_LATE_EVERY - 1 else 0,
                               HEATING_DELAY_DAYS if i % HEATING_LATE_EVERY == 4 else 0))
    city_rows = [dict(adcode=a, name=n, seq=s) for s, (a, n) in enumerate(sorted(cities.items()), 1)]
    return city_rows, counties


# ---- vectorized helpers -----------------------------------------------------------------------

def _day(y: int, m: int, d: int) -> np.datetime64:
    return np.datetime64(date(y, m, d), "D")


def _known(days: np.ndarray) -> np.ndarray:
    """Dates after the data date have not happened yet (NaT)."""
    return np.where(days <= DATA_DAY, days, np.datetime64("NaT"))


# Every day the demo can date, as its ISO string: _texts looks dates up here rather than
# formatting some 15 million of them one by one.
TEXT_DAYS_FROM = np.datetime64("2015-01-01", "D")
DAY_TEXTS = np.datetime_as_string(TEXT_DAYS_FROM + np.arange(20 * 366), unit="D").astype(object)


def _texts(days: np.ndarray) -> list:
    """Dates as ISO strings, NaT as None: what both drivers take for a DATE column."""
    days = np.asarray(days, dtype="datetime64[D]")
    missing = np.isnat(days)
    offsets = np.where(missing, 0, (days - TEXT_DAYS_FROM).astype(np.int64))
    if offsets.size and (offsets.min() < 0 or offsets.max() >= len(DAY_TEXTS)):
        out = np.datetime_as_string(days, unit="D").astype(object)
    else:
        out = DAY_TEXTS[offsets]
    out[missing] = None
    return out.tolist()


def _points(rng: np.random.Generator, geom, n: int, centre=None, radius: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """n random points inside `geom` (near `centre` within `radius` degrees when given), rounded
    to 1e-6 degrees."""
    min_x, min_y, max_x, max_y = geom.bounds
    if centre is not None:
        min_x, min_y = max(min_x, centre[0] - radius), max(min_y, centre[1] - radius)
        max_x, max_y = min(max_x, centre[0] + radius), min(max_y, centre[1] + radius)
    xs, ys = np.empty(0), np.empty(0)
    for _ in range(200):
        cx = np.round(rng.uniform(min_x, max_x, max(4 * n, 16)), 6)
        cy = np.round(rng.uniform(min_y, max_y, max(4 * n, 16)), 6)
        inside = shapely.contains_xy(geom, cx, cy)
        xs, ys = np.concatenate([xs, cx[inside]]), np.concatenate([ys, cy[inside]])
        if len(xs) >= n:
            return xs[:n], ys[:n]
    raise ValueError("no point of the county found near its centre")


def _pick(rng: np.random.Generator, values: tuple, n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def _join(*parts) -> list[str]:
    return ["".join(map(str, p)) for p in zip(*parts)]


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """1, 2, 3… within each run of equal keys, in the order given (a per-village sequence)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    seq = np.empty(len(keys), dtype=np.int64)
    seq[order] = np.arange(len(keys)) - run_start + 1
    return seq


# ---- bulk writing ----------------------------------------------------------------------------

def write_rows(conn: Connection, table: Table, columns: dict[str, list]) -> int:
    """Insert column lists into `table` in the caller's transaction: COPY on PostgreSQL,
    executemany in chunks elsewhere. Returns the row count."""
    names = list(columns)
    rows = list(zip(*columns.values()))
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(names, r)) for r in rows])
        return len(rows)
    cursor = conn.connection.driver_connection.cursor()
    for start in range(0, len(rows), INSERT_CHUNK):
        cursor.executemany(sql, rows[start:start + INSERT_CHUNK])
    return len(rows)


# ---- the generator ---------------------------------------------------------------------------

class _Province:
    def __init__(self, conn: Connection, seed: int, size: ProvinceSize, counties: list[County]):
        self.conn, self.seed, self.size, self.counties = conn, seed, size, counties
        self.counts: dict[str, int] = {}
        self.next_id = {"project": 1, "allocation": 1, "household": 1}
        # Bigger counties (县) carry more rural households and fewer communities than districts (区).
        weights = np.array([0.5 if c.kind == "区" else 1.0 for c in counties])
        self.households_per_year = size.households / len(HEATING_YEARS) * weights / weights.sum()
        community_weights = np.array([1.6 if c.kind == "区" else 1.0 for c in counties])
        self.communities_per_batch = size.communities / len(BATCH_YEARS) * community_weights / community_weights.sum()

    def write(self, table: Table, columns: dict[str, list]) -> None:
        self.counts[table.name] = self.counts.get(table.name, 0) + write_rows(self.conn, table, columns)

    def ids(self, kind: str, n: int) -> np.ndarray:
        first = self.next_id[kind]
        self.next_id[kind] += n
        return np.arange(first, first + n)

    def build(self) -> None:
        for index, county in enumerate(self.counties):
            rng = np.random.default_rng([self.seed, index])
            centre = county.geometry.representative_point()
            seat = (centre.x, centre.y)
            self.build_renovation(rng, county, seat)
            villages = self.build_places(rng, county)
            self.build_heating(rng, county, index, villages)

    def delay(self, days: int, year: int) -> float:
        return days if year == DEMO_DATA_DATE.year else days / 3

    # ---- renovation -------------------------------------------------------------------

    def build_renovation(self, rng: np.random.Generator, county: County, seat) -> None:
        for year in BATCH_YEARS:
            n = max(1, int(round(self.communities_per_batch[self.counties.index(county)] * rng.uniform(0.8, 1.25))))
            ids = self.ids("project", n)
            households = rng.integers(48, 421, n)
            investment = households * rng.integers(20, 35, n) * 1_000 // 10_000 * 10_000
            delay = self.delay(county.renovation_delay, year) * rng.uniform(0.3, 3.0, n)
            reserve = _day(year - 1, 5, 1) + rng.integers(0, 214, n)
            prep = _day(year, 1, 5) + rng.integers(0, 65, n) + np.round(delay * 0.3).astype(int)
            tender = prep + rng.integers(18, 46, n)
            start = tender + rng.integers(10, 41, n) + np.round(delay).astype(int)
            finish = start + rng.integers(120, 191, n) + np.round(delay * 0.3).astype(int)
            accept = finish + rng.integers(45, 171, n)
            if year == DEMO_DATA_DATE.year - 1 and county.renovation_delay:
                # Late counties leave every other of last year's communities unaccepted.
                late = np.arange(n) % 2 == 1
                accept = np.where(late, np.maximum(accept, _day(year + 1, 12, 1)), accept)
            actual = [reserve, prep, tender, start, finish, accept]
            planned = [_day(year - 1, 9, 30), _day(year, 2, 28), _day(year, 3, 31), _day(year, 5, 31),
                       _day(year, 11, 30), _day(year + 1, 5, 31)]
            lon, lat = _points(rng, county.geometry, n, seat, 0.06)
            kinds = rng.choice(len(RENOVATION_TYPES), n, p=[0.4, 0.2, 0.25, 0.15])
            pick = rng.random(n)
            names = np.where(pick < 0.5, _join(_pick(rng, ROADS, n), rng.integers(1, 161, n), ["号院"] * n),
                             _join(_pick(rng, ESTATES, n), ["小区"] * n, _pick(rng, ("", "一区", "二区", "北区"), n)))
            basic = "、".join(CONTENT_ITEMS["基础类"][:5])
            self.write(db.renovation_project, dict(
                id=ids.tolist(), code=[f"{county.adcode}-{year}-{s:03d}" for s in range(1, n + 1)],
                county_adcode=[county.adcode] * n, batch_year=[year] * n,
                street=_pick(rng, STREETS, n).tolist(), name=names.tolist(), lon=lon.tolist(), lat=lat.tolist(),
                year_built=rng.integers(1978, 2000, n).tolist(),
                buildings=np.maximum(1, households // rng.integers(24, 49, n)).tolist(),
                households=households.tolist(), floor_area_m2=(households * rng.integers(58, 87, n)).tolist(),
                property_type=_pick(rng, PROPERTY_TYPES, n).tolist(),
                renovation_type=[RENOVATION_TYPES[k] for k in kinds],
                content_basic=[basic] * n,
                content_improve=["" if k == 0 else "、".join(CONTENT_ITEMS["完善类"][:2]) for k in kinds],
                content_upgrade=["、".join(CONTENT_ITEMS["提升类"][:2]) if k == 3 else "" for k in kinds],
                is_demonstration=((np.arange(n) == 0) & (year >= 2024)).tolist(),
                consultation_done=(rng.random(n) < 0.93).tolist(),
                pipelines_coordinated=(rng.random(n) < 0.85).tolist(),
                elevators_added=np.where(kinds >= 2, rng.integers(0, 7, n), 0).tolist(),
                planned_investment_yuan=investment.tolist(),
                **{f"{s.key}_planned": _texts(np.full(n, d)) for s, d in zip(STAGES, planned)},
                **{f"{s.key}_actual": _texts(_known(d)) for s, d in zip(STAGES, actual)}))
            self.add_bookings(rng, ids, investment, start, finish, accept)
            self.add_renovation_funds(rng, county, year, ids, investment)

    def add_bookings(self, rng, ids, investment, start, finish, accept) -> None:
        """Investment booked a month after start, midway, at finish (90–100% by then) and the rest
        at acceptance: four bookings per community."""
        at_finish = np.round(investment * rng.uniform(0.9, 1.0, len(ids))).astype(np.int64)
        first, second = at_finish * 35 // 100, at_finish * 35 // 100
        parts = [first, second, at_finish - first - second, investment - at_finish]
        days = [start + 30, start + (finish - start) // 2, finish, accept]
        project, booked, amount = [], [], []
        for part, day in zip(parts, days):
            keep = (day <= DATA_DAY) & (part > 0)
            project.append(ids[keep]), booked.append(day[keep]), amount.append(part[keep])
        self.write(db.investment_booking, dict(
            project_id=np.concatenate(project).tolist(), booked_on=_texts(np.concatenate(booked)),
            amount_yuan=np.concatenate(amount).tolist()))

    def add_allocations(self, rng, program: str, county: County, year: int,
                        plans: list[tuple[str, int, np.datetime64, np.ndarray, np.ndarray, np.ndarray | None]]) -> None:
        """Allocations (source, amount, allocated_on) with their payments (day, amount, project
        ids or None), paid in date order up to the data date; the late counties' central funds of
        the year before last stay 40% unpaid (资金留置)."""
        plans = [p for p in plans if p[2] <= DATA_DAY]
        ids = self.ids("allocation", len(plans))
        self.write(db.fund_allocation, dict(
            id=ids.tolist(), code=[f"{program[:3].upper()}-{county.adcode}-{year}-{p[0]}" for p in plans],
            program=[program] * len(plans), county_adcode=[county.adcode] * len(plans),
            plan_year=[year] * len(plans), source=[p[0] for p in plans], amount_yuan=[p[1] for p in plans],
            allocated_on=_texts(np.array([p[2] for p in plans], dtype="datetime64[D]"))))
        late = county.renovation_delay if program == RENOVATION else county.heating_delay
        columns = {"allocation_id": [], "project_id": [], "amount_yuan": [], "paid_on": []}
        for allocation_id, (source, amount, _, days, parts, projects) in zip(ids, plans):
            cap = amount * (0.6 if late and year == DEMO_DATA_DATE.year - 1 and source == "中央财政补助" else 1.0)
            order = np.argsort(days, kind="stable")
            days, parts = days[order], parts[order]
            keep = (days <= DATA_DAY) & (np.cumsum(parts) <= cap) & (parts > 0)
            columns["allocation_id"] += [int(allocation_id)] * int(keep.sum())
            columns["project_id"] += (projects[order][keep].tolist() if projects is not None
                                      else [None] * int(keep.sum()))
            columns["amount_yuan"] += parts[keep].tolist()
            columns["paid_on"] += _texts(days[keep])
        first = self.counts.get(db.fund_disbursement.name, 0) + 1   # voucher numbers, unique in the store
        columns["code"] = [f"ZF-{county.adcode}-{n:07d}" for n in range(first, first + len(columns["amount_yuan"]))]
        self.write(db.fund_disbursement, columns)

    def add_renovation_funds(self, rng, county: County, year: int, ids: np.ndarray, investment: np.ndarray) -> None:
        total_wan = int(investment.sum()) // 10_000
        shares = dict(SOURCE_SHARES, 居民出资=rng.uniform(0.04, 0.16))
        shares["政策性银行贷款"] = 1 - sum(shares.values())
        weights = investment / investment.sum()
        lag = self.delay(county.renovation_delay, year) * 0.3
        plans = []
        for source in FUND_SOURCES:
            amount = int(round(total_wan * shares[source])) * 10_000
            month, day = SOURCE_ALLOCATED[source]
            allocated_on = _day(year, month, day) + int(rng.integers(-10, 26))
            parts = np.floor(amount * weights).astype(np.int64)
            parts[-1] += amount - parts.sum()
            days = allocated_on + rng.integers(7, 27, len(ids)) + int(round(lag))
            plans.append((source, amount, allocated_on, days, parts, ids))
        self.add_allocations(rng, RENOVATION, county, year, plans)

    # ---- places and heating -----------------------------------------------------------

    def build_places(self, rng: np.random.Generator, county: County) -> np.ndarray:
        """Townships of ~11 villages each; returns the village codes."""
        n_villages = max(2, int(round(self.size.villages_per_county * rng.uniform(0.8, 1.2))))
        n_townships = max(1, n_villages // 11)
        township_codes = [f"{county.adcode}{100 + t:03d}" for t in range(1, n_townships + 1)]
        self.write(db.township, dict(
            code=township_codes, county_adcode=[county.adcode] * n_townships,
            name=_join(_pick(rng, PLACE_HEADS, n_townships), _pick(rng, PLACE_TAILS, n_townships),
                       _pick(rng, ("镇", "镇", "乡"), n_townships))))
        of_township = np.arange(n_villages) % n_townships
        seq = _cumcount(of_township)
        codes = np.array([f"{township_codes[t]}{200 + s:03d}" for t, s in zip(of_township, seq)], dtype=object)
        lon, lat = _points(rng, county.geometry, n_villages)
        self.write(db.village, dict(
            code=codes.tolist(), township_code=[township_codes[t] for t in of_township],
            name=_join(_pick(rng, PLACE_HEADS, n_villages), _pick(rng, PLACE_TAILS, n_villages), ["村"] * n_villages),
            lon=lon.tolist(), lat=lat.tolist()))
        return codes

    def build_heating(self, rng: np.random.Generator, county: County, index: int, villages: np.ndarray) -> None:
        terrain = ("urban" if county.kind == "区" else
                   "mountain" if county.city_adcode in MOUNTAIN_CITIES else "plain")
        routes = list(ROUTE_MIX[terrain])
        weights = np.array(list(ROUTE_MIX[terrain].values()), dtype=float)
        previous = None
        for year in HEATING_YEARS:
            procurement = self.procurement_dates(rng, county, index, year)
            new = max(1, int(round(self.households_per_year[index] * rng.uniform(0.85, 1.15))))
            carried = self.carried_over(previous, year)
            urban_target = self.add_urban_works(rng, county, year)
            self.write(db.heating_plan, dict(
                county_adcode=[county.adcode], year=[year], target_households=[new + carried],
                carryover_households=[carried], target_urban_m2=[urban_target],
                **{f"{p.key}_on": _texts(_known(np.array([d], dtype="datetime64[D]")))
                   for p, d in zip(PROCUREMENT_STEPS, procurement)}))
            previous = self.add_households(rng, county, year, new, procurement, villages, routes, weights)

    def procurement_dates(self, rng, county: County, index: int, year: int) -> list:
        if index == PLAN_NOT_ISSUED_INDEX and year == DEMO_DATA_DATE.year:
            return [np.datetime64("NaT")] * len(PROCUREMENT_STEPS)
        delay = self.delay(county.heating_delay, year)
        issued = _day(year, 1, 20) + int(rng.integers(0, 37)) + int(round(delay * 0.6))
        registration = issued + int(rng.integers(12, 26))
        selected = registration + int(rng.integers(25, 46)) + int(round(delay * 0.4))
        delivering = selected + int(rng.integers(15, 36))
        return [issued, registration, selected, delivering]

    @staticmethod
    def carried_over(previous: dict | None, year: int) -> int:
        """Last year's households not connected by last year's deadline, nor cancelled by then."""
        if previous is None:
            return 0
        deadline = _day(year - 1, 11, 15)
        connected = ~np.isnat(previous["connected"]) & (previous["connected"] <= deadline)
        cancelled = (previous["status"] == "取消") & (previous["status_on"] <= deadline)
        return int((~connected & ~cancelled).sum())

    def add_households(self, rng, county: County, year: int, n: int, procurement: list, villages: np.ndarray,
                       routes: list[str], weights: np.ndarray) -> dict:
        route_ix = rng.choice(len(routes), n, p=weights / weights.sum())
        route = np.array(routes, dtype=object)[route_ix]
        cost_lo = np.array([ROUTE_ECONOMICS[r][0][0] for r in routes])[route_ix]
        cost_hi = np.array([ROUTE_ECONOMICS[r][0][1] for r in routes])[route_ix]
        run_lo = np.array([ROUTE_ECONOMICS[r][1][0] for r in routes])[route_ix]
        run_hi = np.array([ROUTE_ECONOMICS[r][1][1] for r in routes])[route_ix]
        cost = (rng.integers(cost_lo, cost_hi + 1) // 100 * 100).astype(np.int64)
        subsidy = np.minimum(np.round(cost * rng.uniform(0.6, 0.75, n), -2).astype(np.int64), 12_000)
        delay = self.delay(county.heating_delay, year) * rng.uniform(0.3, 2.2, n)
        confirmed = _day(year, 1, 8) + rng.integers(0, 72, n) + np.round(delay * 0.3).astype(int)
        _, _, selected, delivering = procurement
        nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        if np.isnat(selected):
            tendered, installed, connected = nat, nat, nat
        else:
            tendered = np.maximum(confirmed, selected) + rng.integers(0, 11, n)
            installed = (np.maximum(tendered, delivering) + rng.integers(20, 151, n) + np.round(delay).astype(int)
                         + np.where(rng.random(n) < 0.03, rng.integers(150, 211, n), 0))
            connected = installed + rng.integers(3, 29, n)
        dates = [_known(d) for d in (confirmed, tendered, installed, connected)]
        status = np.full(n, "正常使用", dtype=object)
        status_on = nat.copy()
        idle_share = np.array([IDLE_SHARE.get(r, 0.02) for r in routes])[route_ix]
        idle = ~np.isnat(dates[3]) & (rng.random(n) < idle_share)
        idle_on = dates[3] + rng.integers(20, 201, n)
        idle &= idle_on <= DATA_DAY
        status[idle], status_on[idle] = "闲置", idle_on[idle]
        cancel_on = dates[0] + rng.integers(20, 91, n)
        cancel = (~np.isnat(dates[0]) & np.isnat(dates[3]) & (rng.random(n) < 0.03) & ~idle
                  & (cancel_on <= DATA_DAY))
        status[cancel], status_on[cancel] = "取消", cancel_on[cancel]
        dates = [np.where(cancel & (d > cancel_on), np.datetime64("NaT"), d) for d in dates]
        village = villages[rng.integers(0, len(villages), n)]
        seq = _cumcount(village)
        ids = self.ids("household", n)
        self.write(db.heating_household, dict(
            id=ids.tolist(), code=[f"{v}-{year}-{s:04d}" for v, s in zip(village, seq)],
            county_adcode=[county.adcode] * n, village_code=village.tolist(), plan_year=[year] * n,
            head_name=_join(_pick(rng, SURNAMES, n), _pick(rng, GIVEN, n),
                            np.where(rng.random(n) < 0.66, _pick(rng, GIVEN, n), "")),
            phone_masked=[f"1{a}{b}****{c:04d}" for a, b, c in zip(
                _pick(rng, tuple("3578"), n), rng.integers(0, 10, n), rng.integers(0, 10_000, n))],
            route=route.tolist(), equipment_cost_yuan=cost.tolist(), subsidy_yuan=subsidy.tolist(),
            running_cost_yuan=(rng.integers(run_lo, run_hi + 1) // 10 * 10).tolist(),
            coal_cost_yuan=(rng.integers(1_500, 2_301, n) // 10 * 10).tolist(),
            status=status.tolist(), status_on=_texts(status_on),
            **{f"{m.key}_on": _texts(d) for m, d in zip(MILESTONES, dates)}))
        self.add_heating_funds(rng, county, year, subsidy, dates[3])
        return {"connected": dates[3], "status": status, "status_on": status_on}

    def add_heating_funds(self, rng, county: County, year: int, subsidy: np.ndarray, connected: np.ndarray) -> None:
        """Subsidies per source, paid twice a month (10th, 25th) for the households connected and
        checked (a week) before."""
        checked = connected + 7
        months = checked.astype("datetime64[M]")
        day_of_month = (checked - months.astype("datetime64[D]")).astype(int) + 1
        pay_day = np.where(day_of_month <= 10, months.astype("datetime64[D]") + 9,
                           np.where(day_of_month <= 25, months.astype("datetime64[D]") + 24,
                                    (months + 1).astype("datetime64[D]") + 9))
        plans = []
        for source, ((month, day), share) in HEATING_SOURCES.items():
            allocated_on = _day(year, month, day) + int(rng.integers(-7, 21))
            amount = int(round(int(subsidy.sum()) * share, -4))
            parts = np.floor(amount * subsidy / max(1, subsidy.sum())).astype(np.int64)
            paid = ~np.isnat(connected)
            days, inverse = np.unique(np.maximum(pay_day[paid], allocated_on), return_inverse=True)
            sums = np.bincount(inverse, weights=parts[paid], minlength=len(days)).astype(np.int64)
            plans.append((source, amount, allocated_on, days, sums, None))
        self.add_allocations(rng, HEATING, county, year, plans)

    def add_urban_works(self, rng, county: County, year: int) -> int:
        n = int(rng.integers(1, 3))
        kinds = ("燃煤锅炉替代", "集中供热管网")[:n]
        area = rng.integers(3, 23, n) * 10_000
        done = (_day(year, 6, 1) + rng.integers(0, 193, n)
                + np.round(self.delay(county.heating_delay, year) * rng.uniform(0.5, 1.5, n)).astype(int))
        titles = {"燃煤锅炉替代": "城区燃煤锅炉房清洁能源替代工程", "集中供热管网": "城区集中供热管网延伸工程"}
        self.write(db.urban_heating_work, dict(
            code=[f"UH-{county.adcode}-{year}-{i}" for i in range(1, n + 1)], county_adcode=[county.adcode] * n,
            plan_year=[year] * n, kind=list(kinds), name=[f"{year}年{titles[k]}" for k in kinds],
            area_m2=area.tolist(), completed_on=_texts(_known(done))))
        return int(area.sum())

    def build_supervision(self) -> None:
        """Open items for each late county, one of them overdue."""
        rows = []
        for county in self.counties:
            if county.renovation_delay:
                rows.append((county.adcode, RENOVATION, "2026年度老旧小区改造项目未按6月底前全部开工",
                             date(2026, 7, 3), date(2026, 8, 31)))
            if county.heating_delay:
                rows.append((county.adcode, HEATING, "户内改造进度滞后,供暖季前通气通电存在风险",
                             date(2026, 9, 11), date(2026, 12, 15)))
        self.write(db.supervision_item, dict(
            code=[f"DB-2026-{n:03d}" for n in range(1, len(rows) + 1)], county_adcode=[r[0] for r in rows],
            program=[r[1] for r in rows], text=[r[2] for r in rows], opened_on=[r[3].isoformat() for r in rows],
            deadline=[r[4].isoformat() for r in rows], closed_on=[None] * len(rows)))


def _drop_foreign_keys(conn: Connection, tables) -> list[ForeignKeyConstraint]:
    """Drop the foreign keys of `tables` (in the caller's transaction); returns the model's, to be
    added back (and so checked) once the rows are in."""
    for table in tables:
        for key in inspect(conn).get_foreign_keys(table.name):
            conn.exec_driver_sql(f'ALTER TABLE {table.name} DROP CONSTRAINT "{key["name"]}"')
    return [key for table in tables for key in table.foreign_key_constraints]


def build_province_demo(engine: Engine, seed: int, force: bool = False, size: ProvinceSize = FULL,
                        by: accounts.Access | None = None) -> dict:
    """Fill the store at `engine` with the province demo in one transaction, under the same rules
    as the city demo (store.replacing_store: into an empty or demo store; over another store of ours
    only with `force`; by an admin; the same demo accounts, the rebuild the trail's first row).
    Returns row counts per table and `seconds`, the build time."""
    by = by or accounts.Access(who="系统", role=accounts.ADMIN, source="首次启动")
    by.check_admin("重建演示库")
    started = time.perf_counter()
    city_rows, counties = load_province_counties()
    with store.replacing_store(engine, force, by=by, record=(audit.DEMO_REBUILD, f"重建全省演示库(种子 {seed})"),
                               bulk_load=True) as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # The household code index takes 3 million inserts in random order: with SQLite's
            # default 2 MB page cache nearly each one reads and writes a page of the file.
            default_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{BUILD_CACHE_KIB}")
        elif conn.dialect.name == "postgresql":
            # The summary's GROUP BYs over 3 million households and the index builds after the
            # load sort in memory, not through temp files (defaults 4 MB / 64 MB); this
            # transaction only.
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{BUILD_PG_WORK_MEM}'")
            conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_PG_WORK_MEM}'")
        # Secondary indexes are built once after loading (a sort), not row by row; PostgreSQL's
        # foreign keys likewise checked by one join each after the load, not a trigger per row.
        deferred = [i for t in BULK_TABLES for i in t.indexes]
        for index in deferred:
            index.drop(conn)
        deferred_keys = _drop_foreign_keys(conn, BULK_TABLES) if not sqlite else []
        calendar = build_calendar_rows()
        for table in (db.renovation_batch, db.heating_year, db.plan_node, db.report):
            conn.execute(table.insert(), calendar[table])
        conn.execute(db.city.insert(), city_rows)
        conn.execute(db.county.insert(), [dict(adcode=c.adcode, name=c.name, kind=c.kind, seq=i,
                                               city_adcode=c.city_adcode) for i, c in enumerate(counties, 1)])
        province = _Province(conn, seed, size, counties)
        province.build()
        province.build_supervision()
        if sqlite:
            # The generated rows went in unchecked (bulk_load: the generator keeps the constraints
            # by construction, tests load its rows into a checking store, and PostgreSQL's COPY
            # checks them); what follows is checked again.
            conn.exec_driver_sql("PRAGMA ignore_check_constraints=OFF")
        for index in deferred:
            index.create(conn)
        if sqlite:
            # Back to the default for the summary's sorts (and the pooled connection's next user):
            # with a small cache SQLite sorts in runs that its worker threads sort in parallel;
            # with this one it sorts in one thread, nearly twice as long.
            conn.exec_driver_sql(f"PRAGMA cache_size={default_cache}")
        for key in deferred_keys:
            conn.execute(AddConstraint(key))
        for table in db.metadata.sorted_tables:
            db.sync_id_sequence(conn, table)
        db.write_meta(conn, is_demo=1, data_date=DEMO_DATA_DATE.isoformat(), seed=seed, source=DEMO_SOURCE,
                      scale="province", province=PROVINCE, province_adcode=PROVINCE_ADCODE, city=PROVINCE)
        store_shipped_boundaries(conn, PROVINCE_BOUNDARIES_FILE)
        conn.execute(db.account.insert(), accounts.build_demo_account_rows())
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # ANALYZE is transactional: uncommitted, its statistics are lost
            conn.exec_driver_sql("ANALYZE")
    counts = dict(province.counts, city=len(city_rows), county=len(counties))
    return dict(counts, seconds=round(time.perf_counter() - started, 1))
