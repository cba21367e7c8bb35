"""The demo city: 宝鸡市 and its 12 counties, generated deterministically from a seed.

Everything here is invented (演示数据) but sized and shaped like a real prefecture-level city
(../shared/DOMAIN.md): six renovation batches 2021–2026 with the 2026 batch in progress, about
60 thousand rural heating households 2022–2026, and a few deliberate problems for the
dashboard to find: 凤翔区 and 扶风县 late on renovation, 陇县 and 麟游县 late on heating,
太白县 whose 2026 implementation plan was never issued, funds retained in 金台区 (a 2025
allocation), 岐山县 and 麟游县, and open supervision items past their deadline.

The data date is fixed (DEMO_DATA_DATE), never the clock: the same seed gives the same figures
on any day. No actual date lies after it.
"""
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import Engine

from . import accounts, audit, db, store
from .geo import load_shipped_boundaries, load_county_shapes, sample_point
from .intake.city import store_shipped_boundaries
from .settings import DEMO_SEED
from .vocab import (CONTENT_ITEMS, FUND_SOURCES, HEATING, MILESTONES, PROCUREMENT_STEPS,
                    RENOVATION, RENOVATION_TYPES, STAGES)

DEMO_DATA_DATE = date(2026, 11, 20)
DEMO_SOURCE = "演示数据:程序随机生成,仅供演示,不代表真实统计"
BATCH_YEARS = tuple(range(2021, 2027))
HEATING_YEARS = tuple(range(2022, 2027))
REPORTS_FROM = date(2025, 1, 3)  # the first weekly report (a Friday) kept in the demo
# The demo city's implementation plan nodes (节点要求), the same every year: program -> step ->
# (years after the plan year, month, day, required share). A share of 0 marks the day from which
# a step is judged; e.g. renovation start reads "3月底前开工30%、6月底前全部开工".
PLAN_NODES = {
    RENOVATION: {"start": ((0, 3, 31, 0.3), (0, 6, 30, 1.0)),
                 "finish": ((0, 7, 31, 0.0), (0, 9, 30, 0.5), (0, 11, 30, 1.0)),
                 "accept": ((0, 12, 31, 0.0), (1, 3, 31, 0.5), (1, 6, 30, 1.0))},
    HEATING: {"confirmed": ((0, 3, 31, 1.0),),
              "tendered": ((0, 4, 15, 0.0), (0, 5, 31, 1.0)),
              "installed": ((0, 5, 31, 0.0), (0, 8, 31, 0.6), (0, 10, 15, 1.0)),
              "connected": ((0, 6, 15, 0.0), (0, 9, 30, 0.7), (0, 11, 15, 1.0)),
              "urban": ((0, 11, 14, 0.0), (0, 11, 15, 1.0))},
}


@dataclass(frozen=True)
class CountyProfile:
    """How the demo treats one county: size, terrain and how late it runs.

    Delays are in days and apply in full to the current year, a third to earlier years.
    """
    adcode: str
    seat: tuple[float, float]        # lon, lat of the county seat
    streets: tuple[str, ...]         # streets (街道/镇) of the seat, where communities are
    communities_per_batch: int
    households_per_year: int
    terrain: str                     # urban | plain | mountain: decides the route mix
    townships: int
    renovation_delay: int = 0
    heating_delay: int = 0


PROFILES = (
    CountyProfile("610302", (107.150, 34.360), ("经二路街道", "清姜街道", "姜谭路街道", "桥南街道", "金陵街道"),
                  13, 600, "urban", 5),
    CountyProfile("610303", (107.140, 34.385), ("中山东路街道", "西关街道", "中山路街道", "群众路街道", "东风路街道", "十里铺街道"),
                  12, 500, "urban", 4),
    CountyProfile("610304", (107.385, 34.356), ("虢镇街道", "东关街道", "千渭街道"), 8, 1900, "plain", 13),
    CountyProfile("610305", (107.395, 34.522), ("城关街道", "虢王镇"), 6, 1600, "plain", 11, renovation_delay=75),
    CountyProfile("610323", (107.622, 34.444), ("凤鸣镇", "蔡家坡镇"), 5, 1500, "plain", 9),
    CountyProfile("610324", (107.900, 34.376), ("城关街道", "绛帐镇"), 5, 1400, "plain", 8, renovation_delay=20),
    CountyProfile("610326", (107.750, 34.275), ("首善街道", "横渠镇"), 4, 1200, "plain", 8),
    CountyProfile("610327", (106.865, 34.893), ("城关镇", "东风镇"), 4, 1300, "mountain", 10, heating_delay=33),
    CountyProfile("610328", (107.132, 34.642), ("城关镇", "崔家头镇"), 3, 700, "mountain", 7),
    CountyProfile("610329", (107.795, 34.678), ("九成宫镇",), 2, 800, "mountain", 7, heating_delay=36),
    CountyProfile("610330", (106.524, 33.911), ("双石铺镇",), 3, 600, "mountain", 8),
    CountyProfile("610331", (107.318, 34.060), ("嘴头镇",), 2, 400, "mountain", 6),
)
# (county, plan year) whose heating implementation plan was never issued: no tender follows.
PLAN_NOT_ISSUED = {("610331", 2026)}
# (program, county, plan year, source) -> the share of that allocation ever paid out.
RETAINED = {
    (RENOVATION, "610303", 2025, "中央财政补助"): 0.35,
    (RENOVATION, "610323", 2026, "省级补助"): 0.0,
    (HEATING, "610329", 2025, "中央财政补助"): 0.6,
}

ROUTE_MIX = {  # route -> weight, by terrain
    "urban": {"燃气壁挂炉": 50, "空气源热泵": 30, "电蓄热": 12, "光伏+": 8},
    "plain": {"燃气壁挂炉": 36, "空气源热泵": 24, "电蓄热": 14, "太阳能+电辅助": 12, "光伏+": 8, "生物质": 6},
    "mountain": {"生物质": 34, "电蓄热": 24, "空气源热泵": 14, "太阳能+电辅助": 14,
                 "液化石油气壁挂炉": 8, "光伏+": 6},
}
# route -> (equipment cost range, running cost per season range), yuan per household.
ROUTE_ECONOMICS = {
    "生物质": ((4_200, 6_500), (800, 1_250)),
    "电蓄热": ((9_000, 14_000), (1_800, 2_600)),
    "太阳能+电辅助": ((15_000, 22_000), (600, 1_050)),
    "燃气壁挂炉": ((6_000, 9_500), (1_900, 2_900)),
    "液化石油气壁挂炉": ((5_000, 7_500), (2_700, 3_700)),
    "空气源热泵": ((12_000, 19_000), (1_150, 1_800)),
    "光伏+": ((24_000, 34_000), (250, 650)),
}
IDLE_SHARE = {"电蓄热": 0.08, "液化石油气壁挂炉": 0.10, "燃气壁挂炉": 0.03}  # others: 0.02

# Renovation funds by source, as shares of a batch's planned investment (residents vary).
SOURCE_SHARES = {"中央预算内投资": 0.12, "中央财政补助": 0.22, "省级补助": 0.08, "市县配套": 0.18,
                 "社会资本": 0.05, "专营单位": 0.10}
RESIDENT_SHARE = {"610302": (0.20, 0.23), "610326": (0.17, 0.21)}  # others: (0.04, 0.16)
SOURCE_ALLOCATED = {  # (month, day) a source is usually allocated to the county
    "中央预算内投资": (4, 10), "中央财政补助": (3, 20), "省级补助": (5, 15), "市县配套": (4, 30),
    "居民出资": (6, 30), "社会资本": (6, 15), "专营单位": (5, 31), "政策性银行贷款": (7, 15)}
HEATING_SOURCES = {"中央财政补助": ((3, 15), 0.5), "省级补助": ((4, 20), 0.2), "市县配套": ((5, 20), 0.3)}

UNITS = ("宝鸡机床厂", "秦川机床厂", "宝鸡石油机械厂", "宝成仪表厂", "长岭机器厂", "宝鸡桥梁厂", "渭河工模具厂",
         "宝鸡卷烟厂", "市供电局", "市自来水公司", "市第一建筑公司", "市粮食局", "市人民医院", "市二中",
         "县粮站", "县医院", "县供销社", "县农机公司", "县水泥厂", "县二中", "县运输公司", "县电力局")
ROADS = ("经二路", "红旗路", "清姜路", "宝光路", "东风路", "中山东路", "公园路", "大庆路", "人民路",
         "解放路", "建设路", "东大街", "西大街", "文化路", "新华路", "迎宾路", "南街", "北街")
ESTATES = ("新华", "和平", "幸福", "光明", "团结", "民主", "胜利", "东风", "红光", "长青", "友谊", "建设",
           "福乐", "金苑", "安居", "育才", "向阳", "园丁")
PLACE_HEADS = "龙凤青白石高新平安永宁兴丰太长河川原山坪峪柳杨马金清双三五八南北东西枣槐桃杏"
PLACE_TAILS = "泉池坡塬川河坪沟岭峪头口店寨关桥水阳安丰乐化堡湾营集庄"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林党宁雷贾薛任董田严杜"
GIVEN = "建国军民华平志明永红伟刚强文林海英秀兰玉梅春生福安德俊涛斌芳娟丽霞"


def _days(n: float) -> timedelta:
    return timedelta(days=round(n))


def _between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _known(dates: list[date | None]) -> list[date | None]:
    """Keep the dates up to the data date; the rest has not happened yet."""
    return [d if d is not None and d <= DEMO_DATA_DATE else None for d in dates]


def _next_pay_day(day: date) -> date:
    """Subsidies are paid out twice a month, on the 10th and the 25th: the first on or after `day`."""
    if day.day <= 10:
        return day.replace(day=10)
    if day.day <= 25:
        return day.replace(day=25)
    return date(day.year + day.month // 12, day.month % 12 + 1, 10)


def _split(total: int, weights: list[float]) -> list[int]:
    """Integers in proportion to `weights` that add up to `total` exactly (largest remainder)."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[:total - sum(parts)]:
        parts[i] += 1
    return parts


def build_calendar_rows() -> dict:
    """The rows every demo shares (table -> list of dicts): batches, heating years, the plan
    nodes and the weekly report dates up to the data date."""
    rows = {db.renovation_batch: [], db.heating_year: [], db.plan_node: [], db.report: []}
    for year in BATCH_YEARS:
        rows[db.renovation_batch].append(dict(
            year=year, period_start=date(year, 1, 1), start_deadline=date(year, 6, 30),
            finish_deadline=date(year, 11, 30), accept_deadline=date(year + 1, 6, 30)))
    for year in HEATING_YEARS:
        rows[db.heating_year].append(dict(
            year=year, period_start=date(year, 1, 1), confirmed_deadline=date(year, 3, 31),
            tendered_deadline=date(year, 5, 31), installed_deadline=date(year, 10, 15),
            connected_deadline=date(year, 11, 15)))
    for program, years in ((RENOVATION, BATCH_YEARS), (HEATING, HEATING_YEARS)):
        for year in years:
            for step, nodes in PLAN_NODES[program].items():
                for offset, month, day, share in nodes:
                    rows[db.plan_node].append(dict(program=program, plan_year=year, step=step,
                                                   due_on=date(year + offset, month, day), required_share=share))
    day = REPORTS_FROM
    while day <= DEMO_DATA_DATE:
        last_friday = (day + timedelta(days=7)).month != day.month
        rows[db.report].append(dict(report_on=day, kind="月通报" if last_friday else "周调度"))
        day += timedelta(days=7)
    return rows


class _DemoCity:
    """Accumulates the demo rows table by table; `rows` maps table -> list of dicts."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.shapes = load_county_shapes()
        self.rows: dict = {t: [] for t in db.metadata.sorted_tables}
        self.villages: dict[str, list[dict]] = {}     # adcode -> village rows
        self.projects: dict[tuple, list[dict]] = {}   # (adcode, year) -> project rows

    def add(self, table, **row) -> dict:
        self.rows[table].append(row)
        return row

    def delay(self, profile: CountyProfile, year: int, which: str) -> float:
        days = getattr(profile, which)
        return days if year == DEMO_DATA_DATE.year else days / 3

    # ---- reference tables -------------------------------------------------------------

    def build_reference(self, seed: int) -> None:
        self.add(db.city, adcode="610300", name="宝鸡市", seq=1)
        for seq, feature in enumerate(load_shipped_boundaries()["features"], start=1):
            props = feature["properties"]
            self.add(db.county, adcode=props["adcode"], name=props["name"], kind=props["kind"], seq=seq,
                     city_adcode="610300")
        for table, rows in build_calendar_rows().items():
            self.rows[table].extend(rows)
        self.meta = dict(is_demo=1, data_date=DEMO_DATA_DATE.isoformat(), seed=seed,
                         source=DEMO_SOURCE, city="宝鸡市", city_adcode="610300",
                         scale="city")

    # ---- renovation -------------------------------------------------------------------

    def build_renovation(self) -> None:
        for profile in PROFILES:
            names_used: set[str] = set()
            for year in BATCH_YEARS:
                count = max(1, round(profile.communities_per_batch * self.rng.uniform(0.8, 1.25)))
                self.projects[profile.adcode, year] = [
                    self.add_project(profile, year, seq, names_used) for seq in range(1, count + 1)]
                self.add_funds_renovation(profile, year)

    def community_name(self, profile: CountyProfile, used: set[str]) -> str:
        rng = self.rng
        for _ in range(100):
            pick = rng.random()
            if pick < 0.4:
                units = UNITS[:14] if profile.terrain == "urban" else UNITS[14:]
                name = rng.choice(units) + "家属院"
            elif pick < 0.7:
                name = f"{rng.choice(ROADS)}{rng.randint(1, 160)}号院"
            else:
                name = rng.choice(ESTATES) + "小区" + rng.choice(("", "", "一区", "二区", "北区"))
            if name not in used:
                used.add(name)
                return name
        raise RuntimeError("ran out of community names")

    def add_project(self, profile: CountyProfile, year: int, seq: int, names_used: set[str]) -> dict:
        rng = self.rng
        households = rng.randint(48, 420)
        renovation_type = rng.choices(RENOVATION_TYPES, weights=(40, 20, 25, 15))[0]
        lon, lat = sample_point(self.shapes[profile.adcode], rng, profile.seat, 0.035)
        delay = self.delay(profile, year, "renovation_delay") * rng.uniform(0.3, 3.0)
        planned, actual = self.stage_dates(year, delay)
        if year == DEMO_DATA_DATE.year - 1 and profile.renovation_delay and seq % 2 == 0:
            # Late counties leave every other of last year's communities unaccepted past the
            # deadline (decided without the random stream, so the rest of the city is unchanged).
            actual[5] = max(actual[5], date(year + 1, 12, 1)) + _days(7 * seq)
        investment = households * rng.randint(20, 34) * 1_000 // 10_000 * 10_000
        row = self.add(
            db.renovation_project, id=len(self.rows[db.renovation_project]) + 1,
            code=f"{profile.adcode}-{year}-{seq:03d}", county_adcode=profile.adcode, batch_year=year,
            street=rng.choice(profile.streets), name=self.community_name(profile, names_used),
            lon=lon, lat=lat, year_built=rng.randint(1978, 1999), buildings=max(1, households // rng.randint(24, 48)),
            households=households, floor_area_m2=households * rng.randint(58, 86),
            property_type=rng.choices(("单位自管", "物业管理", "社区代管", "无物业"), weights=(30, 15, 25, 30))[0],
            renovation_type=renovation_type, **self.contents(renovation_type),
            is_demonstration=seq == 1 and year >= 2024, consultation_done=rng.random() < 0.93,
            pipelines_coordinated=rng.random() < 0.85,
            elevators_added=rng.randint(0, 6) if renovation_type in ("功能提升型", "整合提升型") else 0,
            planned_investment_yuan=investment,
            **{f"{s.key}_planned": d for s, d in zip(STAGES, planned)},
            **{f"{s.key}_actual": d for s, d in zip(STAGES, _known(actual))})
        self.add_bookings(row, actual)
        return row

    def stage_dates(self, year: int, delay: float) -> tuple[list[date], list[date]]:
        """Planned and would-be actual dates of the six stages (not yet cut at the data date)."""
        rng = self.rng
        planned = [date(year - 1, 9, 30), date(year, 2, 28), date(year, 3, 31), date(year, 5, 31),
                   date(year, 11, 30), date(year + 1, 5, 31)]
        reserve = _between(rng, date(year - 1, 5, 1), date(year - 1, 11, 30))
        prep = _between(rng, date(year, 1, 5), date(year, 3, 10)) + _days(delay * 0.3)
        tender = prep + _days(rng.randint(18, 45))
        start = tender + _days(rng.randint(10, 40) + delay)
        finish = start + _days(rng.randint(120, 190) + delay * 0.3)
        accept = finish + _days(rng.randint(45, 170))
        return planned, [reserve, prep, tender, start, finish, accept]

    def contents(self, renovation_type: str) -> dict:
        rng = self.rng
        basic = rng.sample(CONTENT_ITEMS["基础类"], rng.randint(3, 7))
        improve = [] if renovation_type == "基础完善型" else rng.sample(CONTENT_ITEMS["完善类"], rng.randint(1, 4))
        upgrade = rng.sample(CONTENT_ITEMS["提升类"], rng.randint(1, 3)) if renovation_type == "整合提升型" else []
        ordered = lambda items, cls: "、".join(i for i in CONTENT_ITEMS[cls] if i in items)  # noqa: E731
        return dict(content_basic=ordered(basic, "基础类"), content_improve=ordered(improve, "完善类"),
                    content_upgrade=ordered(upgrade, "提升类"))

    def add_bookings(self, project: dict, actual: list[date]) -> None:
        """Monthly investment bookings (on the 25th) from start to finish, the rest at acceptance."""
        start, finish, accept = actual[3], actual[4], actual[5]
        planned = project["planned_investment_yuan"]
        share_at_finish = self.rng.uniform(0.9, 1.0)
        months, day = [], date(start.year, start.month, 25)
        while day <= finish:
            months.append(day)
            day = date(day.year + day.month // 12, day.month % 12 + 1, 25)
        months.append(finish)
        amounts = _split(round(planned * share_at_finish), [1] * len(months)) + [0]
        amounts[-1] = planned - sum(amounts)
        for booked_on, amount in zip(months + [accept], amounts):
            if booked_on <= DEMO_DATA_DATE and amount > 0:
                self.add(db.investment_booking, project_id=project["id"], booked_on=booked_on,
                         amount_yuan=amount)

    def add_funds_renovation(self, profile: CountyProfile, year: int) -> None:
        projects = self.projects[profile.adcode, year]
        total = sum(p["planned_investment_yuan"] for p in projects)
        shares = dict(SOURCE_SHARES, 居民出资=self.rng.uniform(*RESIDENT_SHARE.get(profile.adcode, (0.04, 0.16))))
        shares["政策性银行贷款"] = 1 - sum(shares.values())
        amounts = _split(total // 10_000, [shares[s] for s in FUND_SOURCES])
        for source, amount_wan in zip(FUND_SOURCES, amounts):
            month, day = SOURCE_ALLOCATED[source]
            allocated_on = date(year, month, day) + _days(self.rng.randint(-10, 25))
            if allocated_on > DEMO_DATA_DATE:
                continue
            weights = [p["planned_investment_yuan"] for p in projects]
            # Broken down to the projects within the month after allocation (the 30-day rule for
            # central funds); late counties take longer.
            lag = self.delay(profile, year, "renovation_delay") * 0.3
            payments = [(allocated_on + _days(self.rng.randint(7, 26) + lag), part, project["id"])
                        for project, part in zip(projects, _split(amount_wan * 10_000, weights))]
            self.add_allocation(RENOVATION, profile.adcode, year, source, amount_wan * 10_000,
                                allocated_on, payments)

    def add_allocation(self, program: str, adcode: str, year: int, source: str, amount: int,
                       allocated_on: date, payments: list[tuple]) -> None:
        """An allocation and the payments made from it up to the data date, in date order,
        stopping at the share RETAINED says was ever paid."""
        allocation_id = len(self.rows[db.fund_allocation]) + 1
        self.add(db.fund_allocation, id=allocation_id, code=f"{program[:3].upper()}-{adcode}-{year}-{source}",
                 program=program, county_adcode=adcode, plan_year=year, source=source,
                 amount_yuan=amount, allocated_on=allocated_on)
        cap = round(amount * RETAINED.get((program, adcode, year, source), 1.0))
        paid = 0
        for paid_on, value, project_id in sorted(payments, key=lambda p: (p[0], p[2] or 0)):
            if paid_on > DEMO_DATA_DATE or paid + value > cap or value <= 0:
                continue
            paid += value
            voucher = f"ZF-{adcode}-{len(self.rows[db.fund_disbursement]) + 1:06d}"
            self.add(db.fund_disbursement, code=voucher, allocation_id=allocation_id, project_id=project_id,
                     amount_yuan=value, paid_on=paid_on)

    # ---- clean heating ----------------------------------------------------------------

    def place_name(self, used: set[str], suffixes: tuple[str, ...]) -> str:
        rng = self.rng
        for _ in range(500):
            if rng.random() < 0.35:
                name = rng.choice(SURNAMES) + "家" + rng.choice(PLACE_TAILS) + rng.choice(suffixes)
            else:
                name = rng.choice(PLACE_HEADS) + rng.choice(PLACE_TAILS) + rng.choice(suffixes)
            if name not in used:
                used.add(name)
                return name
        raise RuntimeError("ran out of place names")

    def build_places(self) -> None:
        for profile in PROFILES:
            shape_ = self.shapes[profile.adcode]
            township_names: set[str] = set()
            self.villages[profile.adcode] = []
            for t in range(1, profile.townships + 1):
                code = f"{profile.adcode}{100 + t:03d}"
                self.add(db.township, code=code, county_adcode=profile.adcode,
                         name=self.place_name(township_names, ("镇", "镇", "镇", "乡")))
                centre = sample_point(shape_, self.rng)
                village_names: set[str] = set()
                for v in range(1, self.rng.randint(8, 18) + 1):
                    lon, lat = sample_point(shape_, self.rng, centre, 0.05)
                    self.villages[profile.adcode].append(self.add(
                        db.village, code=f"{code}{200 + v:03d}", township_code=code,
                        name=self.place_name(village_names, ("村",)), lon=lon, lat=lat))

    def build_heating(self) -> None:
        for year in HEATING_YEARS:
            for profile in PROFILES:
                procurement = self.procurement_dates(profile, year)
                new = round(profile.households_per_year * self.rng.uniform(0.85, 1.15))
                carried = self.carried_over(profile.adcode, year)
                self.add(db.heating_plan, county_adcode=profile.adcode, year=year,
                         target_households=new + carried, carryover_households=carried,
                         target_urban_m2=self.add_urban_works(profile, year),
                         **{f"{p.key}_on": d for p, d in zip(PROCUREMENT_STEPS, _known(procurement))})
                households = self.add_households(profile, year, new, procurement)
                self.add_funds_heating(profile, year, households)

    def carried_over(self, adcode: str, year: int) -> int:
        """Last year's households not connected by last year's deadline, nor cancelled by then."""
        deadline = date(year - 1, 11, 15)
        return sum(1 for h in self.rows[db.heating_household]
                   if h["county_adcode"] == adcode and h["plan_year"] == year - 1
                   and not (h["connected_on"] and h["connected_on"] <= deadline)
                   and not (h["status"] == "取消" and h["status_on"] <= deadline))

    def procurement_dates(self, profile: CountyProfile, year: int) -> list[date | None]:
        if (profile.adcode, year) in PLAN_NOT_ISSUED:
            return [None] * len(PROCUREMENT_STEPS)
        delay = self.delay(profile, year, "heating_delay")
        issued = _between(self.rng, date(year, 1, 20), date(year, 2, 25)) + _days(delay * 0.6)
        registration = issued + _days(self.rng.randint(12, 25))
        selected = registration + _days(self.rng.randint(25, 45) + delay * 0.4)
        delivering = selected + _days(self.rng.randint(15, 35))
        return [issued, registration, selected, delivering]

    def add_households(self, profile: CountyProfile, year: int, count: int,
                       procurement: list[date | None]) -> list[dict]:
        rng = self.rng
        mix = ROUTE_MIX[profile.terrain]
        villages = rng.sample(self.villages[profile.adcode], len(self.villages[profile.adcode]))
        added, seq = [], 0
        for village in villages:
            take = min(count - len(added), rng.randint(30, 120))
            for _ in range(take):
                seq += 1
                route = rng.choices(list(mix), weights=list(mix.values()))[0]
                added.append(self.add_household(profile, year, village, seq, route, procurement))
            if len(added) >= count:
                break
        return added

    def add_household(self, profile: CountyProfile, year: int, village: dict, seq: int, route: str,
                      procurement: list[date | None]) -> dict:
        rng = self.rng
        (cost_lo, cost_hi), (run_lo, run_hi) = ROUTE_ECONOMICS[route]
        cost = rng.randint(cost_lo, cost_hi) // 100 * 100
        dates = _known(self.milestone_dates(profile, year, procurement))
        status, status_on = "正常使用", None
        if dates[3] and rng.random() < IDLE_SHARE.get(route, 0.02):
            status_on = dates[3] + _days(rng.randint(20, 200))
            status = "闲置" if status_on <= DEMO_DATA_DATE else "正常使用"
        elif dates[0] and not dates[3] and rng.random() < 0.03:
            status, status_on = "取消", dates[0] + _days(rng.randint(20, 90))
            if status_on > DEMO_DATA_DATE:
                status, status_on = "正常使用", None
            else:
                dates = [d if d and d <= status_on else None for d in dates]
        return self.add(
            db.heating_household, code=f"{village['code']}-{year}-{seq:04d}", county_adcode=profile.adcode,
            village_code=village["code"], plan_year=year,
            head_name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2)))),
            phone_masked=f"1{rng.choice('3578')}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}",
            route=route, equipment_cost_yuan=cost,
            subsidy_yuan=min(int(round(cost * rng.uniform(0.6, 0.75), -2)), 12_000),
            running_cost_yuan=rng.randint(run_lo, run_hi) // 10 * 10,
            coal_cost_yuan=rng.randint(1_500, 2_300) // 10 * 10,
            status=status, status_on=status_on if status != "正常使用" else None,
            **{f"{m.key}_on": d for m, d in zip(MILESTONES, dates)})

    def milestone_dates(self, profile: CountyProfile, year: int,
                        procurement: list[date | None]) -> list[date | None]:
        """Would-be milestone dates of one household. About 3% straggle past the deadline and
        connect the next spring (they become next year's carry-over)."""
        rng = self.rng
        delay = self.delay(profile, year, "heating_delay") * rng.uniform(0.3, 2.2)
        confirmed = _between(rng, date(year, 1, 8), date(year, 3, 20)) + _days(delay * 0.3)
        _, _, selected, delivering = procurement
        if selected is None:
            return [confirmed, None, None, None]
        tendered = max(confirmed, selected) + _days(rng.randint(0, 10))
        installed = max(tendered, delivering) + _days(rng.randint(20, 150) + delay)
        if rng.random() < 0.03:
            installed += _days(rng.randint(150, 210))
        connected = installed + _days(rng.randint(3, 28))
        return [confirmed, tendered, installed, connected]

    def add_urban_works(self, profile: CountyProfile, year: int) -> int:
        """The county's urban works this year (m²); returns the target area."""
        target = 0
        for n, kind in enumerate(self.rng.sample(("燃煤锅炉替代", "集中供热管网"), self.rng.randint(1, 2)), 1):
            area = self.rng.randint(3, 22) * 10_000
            done = _between(self.rng, date(year, 6, 1), date(year, 12, 10)) + _days(
                self.delay(profile, year, "heating_delay") * self.rng.uniform(0.5, 1.5))
            name = ("城区燃煤锅炉房清洁能源替代工程" if kind == "燃煤锅炉替代" else "城区集中供热管网延伸工程")
            self.add(db.urban_heating_work, code=f"UH-{profile.adcode}-{year}-{n}", county_adcode=profile.adcode,
                     plan_year=year, kind=kind, name=f"{year}年{name}", area_m2=area,
                     completed_on=_known([done])[0])
            target += area
        return target

    def add_funds_heating(self, profile: CountyProfile, year: int, households: list[dict]) -> None:
        """Subsidy funds per source; paid out monthly for the households connected the month before."""
        total = sum(h["subsidy_yuan"] for h in households)
        for source, ((month, day), share) in HEATING_SOURCES.items():
            allocated_on = date(year, month, day) + _days(self.rng.randint(-7, 20))
            amount = int(round(total * share, -4))
            by_day: dict[date, int] = {}
            for h, part in zip(households, _split(amount, [h["subsidy_yuan"] for h in households])):
                if h["connected_on"]:
                    pay_day = _next_pay_day(h["connected_on"] + _days(7))  # checked, then paid
                    by_day[pay_day] = by_day.get(pay_day, 0) + part
            payments = [(max(d, allocated_on), v, None) for d, v in by_day.items()]
            self.add_allocation(HEATING, profile.adcode, year, source, amount, allocated_on, payments)

    # ---- supervision ------------------------------------------------------------------

    def build_supervision(self) -> None:
        for n, (adcode, program, text, opened, deadline, closed) in enumerate(SUPERVISION, 1):
            self.add(db.supervision_item, code=f"DB-{opened.year}-{n:03d}", county_adcode=adcode,
                     program=program, text=text, opened_on=opened, deadline=deadline, closed_on=closed)


SUPERVISION = (  # county, program, matter, opened, deadline, closed (销号)
    ("610303", RENOVATION, "示范样板小区建设进度滞后", date(2025, 8, 15), date(2025, 10, 31), date(2025, 10, 20)),
    ("610323", HEATING, "2025年度清洁取暖实施方案下发滞后", date(2025, 3, 14), date(2025, 4, 30), date(2025, 4, 25)),
    ("610330", HEATING, "2025年度结转户未完成通气通电", date(2026, 1, 9), date(2026, 5, 31), date(2026, 5, 15)),
    ("610304", HEATING, "2025年度部分农户取暖设备闲置,需逐户回访", date(2026, 1, 16), date(2026, 3, 31), date(2026, 3, 20)),
    ("610326", HEATING, "空气源热泵抽检不合格批次未更换", date(2026, 2, 20), date(2026, 4, 30), date(2026, 4, 22)),
    ("610303", RENOVATION, "2025年度中央财政补助资金留置,未按进度拨付到项目", date(2026, 3, 6), date(2026, 6, 30), None),
    ("610331", HEATING, "2026年度清洁取暖实施方案未印发,设备招标无法启动", date(2026, 4, 10), date(2026, 5, 31), None),
    ("610302", RENOVATION, "经二路街道小区管线改造未与道路施工同步", date(2026, 5, 8), date(2026, 6, 30), date(2026, 6, 19)),
    ("610328", RENOVATION, "居民出资比例偏低,征求意见不充分", date(2026, 6, 5), date(2026, 9, 30), date(2026, 9, 18)),
    ("610305", RENOVATION, "2026年度老旧小区改造项目未按6月底前全部开工", date(2026, 7, 3), date(2026, 8, 31), None),
    ("610327", HEATING, "户内改造进度滞后,供暖季前通气通电存在风险", date(2026, 9, 11), date(2026, 11, 15), None),
    ("610324", RENOVATION, "部分小区完工进度落后于时间节点", date(2026, 10, 9), date(2026, 11, 30), None),
    ("610329", HEATING, "清洁取暖设备供货安装进度缓慢", date(2026, 10, 16), date(2026, 12, 15), None),
    ("610323", RENOVATION, "2026年度省级补助资金下达后未拨付", date(2026, 10, 23), date(2026, 12, 31), None),
)


def build_demo_rows(seed: int) -> tuple[dict, dict]:
    """All demo rows (table -> list of dicts) and the metadata, without touching a database."""
    city = _DemoCity(seed)
    city.build_reference(seed)
    city.build_renovation()
    city.build_places()
    city.build_heating()
    city.build_supervision()
    return city.rows, city.meta


def build_demo(engine: Engine, seed: int, force: bool = False, by: "accounts.Access | None" = None) -> dict:
    """Fill the store at `engine` with the demo city, in one transaction (a failure leaves the
    store as it was). Only into a store that is empty or a demo store of ours, or with `force`
    over another store of ours (store.check_buildable); only our own tables are dropped. The
    revision counter goes on from the old store's, and a new store id marks the rebuild, so
    every process's cache follows. Returns row counts per table; StoreFault when refused."""
    by = by or accounts.Access(who="系统", role=accounts.ADMIN, source="首次启动")
    by.check_admin("重建演示库")
    rows, meta = build_demo_rows(seed)
    rows[db.account] = accounts.build_demo_account_rows()
    with store.replacing_store(engine, force, by=by, record=(audit.DEMO_REBUILD, f"重建演示库(种子 {seed})")) as conn:
        for table in db.metadata.sorted_tables:
            if rows[table]:
                conn.execute(table.insert(), rows[table])
                db.sync_id_sequence(conn, table)
        db.write_meta(conn, **meta)
        store_shipped_boundaries(conn)  # boundaries live in the store, as for any city (intake.city)
    return {table.name: len(rows[table]) for table in db.metadata.sorted_tables}


def ensure_store(engine: Engine, seed: int = DEMO_SEED) -> str | None:
    """Make the store at `engine` readable: an empty or missing store gets the demo city (the
    first start needs no manual step), a demo store of an older schema is rebuilt; any other
    store that cannot be read raises StoreFault (never overwritten). Returns a note for the
    user when it built or rebuilt, else None."""
    url = engine.url.render_as_string(hide_password=False)
    state = store.inspect_store(engine)
    if state.kind in (store.EMPTY, store.OLD_DEMO):
        with store.building_alone(engine):
            state = store.inspect_store(engine)  # another server may have built it meanwhile
            if state.kind in (store.EMPTY, store.OLD_DEMO):
                build_demo(engine, seed)
                return store.BUILT_NOTE if state.kind == store.EMPTY else store.REBUILT_NOTE
    store.check_readable(state, url)
    store.use_wal(engine)
    store.ensure_indexes(engine)
    if not state.is_demo and (message := accounts.ensure_first_admin(engine)):
        # The console of whoever started it (server or CLI), as Jupyter prints its token; never a page.
        print(message, file=sys.stderr, flush=True)
    return None
