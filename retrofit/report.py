"""The report as of a date: measure tables per county, rankings against a previous report,
headline figures. The one API that pages, the CLI, exports and the notice all call.
"""
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from . import db, fmt, measures, queries
from .accounts import Access
from .measures import (MEASURES, Measure, TargetLine, compute_due_shares, compute_flag, compute_gap_pp,
                       compute_rate, compute_target_line, find_measure, read_city_line)
from .settings import SUBSIDY_DUE_DAYS
from .rankings import compute_rank_change, rank_values
from .vocab import HEATING, RENOVATION, RESIDENT_SOURCE

CITY = "全市"
PROVINCE = "全省"
SCOPE_TOTAL = "所选县区合计"

# Ranking levels: counties (across the store, or within `Scope.city`), or the province's cities.
COUNTY_LEVEL, CITY_LEVEL = "county", "city"
LEVEL_UNITS = {COUNTY_LEVEL: "县区", CITY_LEVEL: "市"}


@dataclass(frozen=True)
class Scope:
    """What a report covers: the state on `as_of`, for the batch / plan `year` (default: the
    as-of year), in `counties` (adcodes; empty = the whole store). `city` (an adcode) names the city
    the counties were chosen by: county rankings are then among that city's counties. `level` says
    what rankings rank: counties, or (CITY_LEVEL) the cities of a province store."""
    as_of: date
    year: int | None = None
    counties: tuple[str, ...] = field(default_factory=tuple)
    city: str = ""
    level: str = COUNTY_LEVEL

    @property
    def plan_year(self) -> int:
        return self.year or self.as_of.year

    def at(self, as_of: date) -> "Scope":
        """The same scope on another date (the previous report), same plan year."""
        return replace(self, as_of=as_of, year=self.plan_year)

    @property
    def unit(self) -> str:
        """What the rankings rank, in words: 县区 or 市."""
        return LEVEL_UNITS[self.level]


def name_ranking_page(level: str | None) -> str:
    """The ranking page's name in a province store's navigation: 各市排名 at the city level (the
    default when none is chosen), else 县区排名."""
    return "县区排名" if level == COUNTY_LEVEL else "各市排名"


def load_is_province(engine: Engine) -> bool:
    """Whether the store is a province's (store_meta scale), not a single city's."""
    def load() -> bool:
        with engine.connect() as conn:
            return db.read_meta(conn).get("scale") == "province"
    return _shared(engine, ("is_province",), load)


def describe_whole(engine: Engine) -> str:
    """How the whole store is named in a sentence: 全省 or 全市."""
    return PROVINCE if load_is_province(engine) else CITY


def describe_source(engine: Engine) -> str:
    """Whose dispatch data the figures are, for chart footers: the department's or the bureau's."""
    return "省住建厅调度数据" if load_is_province(engine) else "市住建局调度数据"


def build_scope(engine: Engine, as_of: date, year: int | None = None, counties: tuple[str, ...] = (),
                city: str = "", level: str = COUNTY_LEVEL) -> Scope:
    """The scope for a city filter too: with `city` and no counties chosen, the city's counties."""
    if city and not counties:
        listed = load_counties(engine)
        counties = tuple(listed.loc[listed["city_adcode"] == city, "adcode"])
    return Scope(as_of, year, tuple(counties), city, level)


def describe_place(engine: Engine, scope: Scope) -> str:
    """The scope in words: 全省 / 全市, the city's name when it is the whole of one city, else the
    counties' names."""
    if not scope.counties:
        return describe_whole(engine)
    names = load_counties(engine, scope.counties)
    if scope.city and set(names["adcode"]) == set(build_scope(engine, scope.as_of, city=scope.city).counties):
        cities = load_cities(engine)
        return cities.loc[cities["adcode"] == scope.city, "city"].iloc[0]
    return "、".join(names["county"])


# ---- work shared within one data revision ------------------------------------------------------
# A page view asks for the headline, the laggards, two rankings and the notice: each needs the same
# per-county sources (one read of the summary per program) and plan reads. Whoever caches results
# per data revision (ui) opens `sharing_work` with a memo kept for that revision, and these reads
# are done once for all of them. The memo serves only the engine it was opened for, so an "as
# reported" view (history) or another store never sees these figures; without it (CLI, tests) every
# call reads afresh. Shared frames are never changed after they are read.
_SHARED: ContextVar[tuple[object, dict, threading.Lock] | None] = ContextVar("report_shared_work", default=None)
SHARED_WORK_MAX = 256  # entries per revision (each a per-county frame or a plan read: a few KB)


@contextmanager
def sharing_work(engine: Engine, memo: dict, lock: threading.Lock) -> Iterator[None]:
    """Within this block, report reads on `engine` are kept in `memo` (one data revision's) and reused."""
    token = _SHARED.set((engine, memo, lock))
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(engine: Engine, key: tuple, build: Callable):
    shared = _SHARED.get()
    if shared is None or shared[0] is not engine:
        return build()
    memo, lock = shared[1], shared[2]
    with lock:
        if key in memo:
            return memo[key]
    value = build()  # outside the lock: two sessions may both read once, neither waits on the other
    with lock:
        while len(memo) >= SHARED_WORK_MAX:
            memo.pop(next(iter(memo)))
        memo[key] = value
    return value


def load_counties(engine: Engine, counties: tuple[str, ...] = ()) -> pd.DataFrame:
    """queries.load_counties, read once per data revision where work is shared."""
    return _shared(engine, ("counties", counties), lambda: queries.load_counties(engine, counties))


def load_cities(engine: Engine) -> pd.DataFrame:
    """queries.load_cities, read once per data revision where work is shared."""
    return _shared(engine, ("cities",), lambda: queries.load_cities(engine))


def _load_published_report(engine: Engine, as_of: date) -> dict | None:
    # Publishing and withdrawing bump the revision, so a shared read never outlives either.
    return _shared(engine, ("published", as_of), lambda: queries.load_published_report(engine, as_of))


def load_source(engine: Engine, measure: Measure, scope: Scope) -> pd.DataFrame:
    """The per-county counts a measure is computed from."""
    source = measure.source if measure.source != "funds" else f"funds.{measure.program}"
    return _load_source(engine, source, scope)


def _load_source(engine: Engine, source: str, scope: Scope) -> pd.DataFrame:
    def load():
        args = (scope.plan_year, scope.as_of, scope.counties)
        if source == "renovation":
            return queries.load_renovation_progress(engine, *args)
        if source == "heating":
            return queries.load_heating_progress(engine, *args)
        return _compute_fund_totals(engine, source.split(".", 1)[1], scope)
    return _shared(engine, ("source", source, scope.plan_year, scope.as_of, scope.counties), load)


def _load_plan(engine: Engine, program: str, year: int) -> tuple[dict[str, date], pd.DataFrame]:
    """The plan year's deadlines and node requirements of `program`: one read for all its measures."""
    return _shared(engine, ("plan", program, year), lambda: (
        queries.load_deadlines(engine, program, year), queries.load_plan_nodes(engine, program, year)))


def compute_target_lines(engine: Engine, measure: Measure, scope: Scope) -> dict[str | None, TargetLine]:
    """The measure's target line on the as-of date: city-wide under key None, and for each county
    whose plan sets its own nodes for the step, under its adcode."""
    deadlines, nodes = _load_plan(engine, measure.program, scope.plan_year)
    mine = nodes[nodes["step"] == measure.step] if measure.step else pd.DataFrame(columns=["county_adcode"])

    def line(rows: pd.DataFrame) -> TargetLine:
        points = list(zip(rows["due_on"], rows["required_share"])) if len(rows) else []
        return compute_target_line(measure, deadlines, points, scope.plan_year, scope.as_of)

    lines = {None: line(mine[mine["county_adcode"].isna()])}
    for adcode, rows in mine[mine["county_adcode"].notna()].groupby("county_adcode"):
        lines[adcode] = line(rows)
    return lines


def compute_measure_frame(source: pd.DataFrame, measure: Measure, lines: dict[str | None, TargetLine]
                          ) -> pd.DataFrame:
    """county, adcode, numerator, denominator, value, target, line (its name), basis (the plan's
    words), override (county's own nodes), gap_pp, flag from a source frame (pure: no database).
    Gaps and flags compare the published one-decimal figures."""
    adcodes = source["adcode"].tolist()
    counts = {"adcode": adcodes, "county": source["county"].tolist(),
              "numerator": source[measure.numerator].to_numpy("int64"),
              "denominator": source[measure.denominator].to_numpy("int64")}
    return _build_measure_table(counts, [lines.get(a, lines[None]) for a in adcodes],
                                [a in lines for a in adcodes], measure, source.index)


def _build_measure_table(counts: dict, own: list[TargetLine], override: list[bool], measure: Measure,
                         index: pd.Index | None = None, **more) -> pd.DataFrame:
    """The measure table from `counts` (adcode, county, numerator, denominator and any more count
    columns), each row held to its line in `own`; `more` columns last. Built in one go: a page view
    builds some fifty of these, and setting columns one by one cost more than computing them."""
    pairs = list(zip(counts["numerator"].tolist(), counts["denominator"].tolist()))
    gaps = [compute_gap_pp(n, d, t.share, measure.higher_is_better) for (n, d), t in zip(pairs, own)]
    return pd.DataFrame({
        **counts,
        "value": pd.array([compute_rate(n, d) for n, d in pairs], dtype="float64"),
        "target": pd.array([t.share for t in own], dtype="float64"),
        "line": [t.name for t in own], "basis": [t.basis for t in own],
        "override": pd.array(override, dtype="bool"),
        "gap_pp": pd.array(gaps, dtype="float64"), "flag": [compute_flag(g) for g in gaps], **more}, index=index)


def compute_measure_table(engine: Engine, program: str, key: str, scope: Scope) -> pd.DataFrame:
    """One row per county in scope: numerator, denominator, value (share), target, gap, flag."""
    measure = find_measure(program, key)
    return compute_measure_frame(load_source(engine, measure, scope), measure,
                                 compute_target_lines(engine, measure, scope))


def compute_city_row(table: pd.DataFrame, measure: Measure, label: str = CITY) -> dict:
    """The city-wide (or scope-wide, `label` 所选县区) figure: sums of numerators and denominators,
    held to the city-wide line."""
    numerator, denominator = int(table["numerator"].sum()), int(table["denominator"].sum())
    line = read_city_line(table)
    gap = compute_gap_pp(numerator, denominator, line.share, measure.higher_is_better)
    return dict(county=label, adcode="", numerator=numerator, denominator=denominator,
                value=compute_rate(numerator, denominator), target=line.share, line=line.name, basis=line.basis,
                override=False, gap_pp=gap, flag=compute_flag(gap))


def rank_measure(engine: Engine, program: str, key: str, scope: Scope,
                 previous: date | None = None, as_published: bool = True) -> pd.DataFrame:
    """The measure table ranked best first, with `rank` (ties share, 1 2 2 4), `previous_rank`
    and `rank_change` (+ moved up) against the `previous` report date: the ranks published for
    that date when a report is in force for it, else recomputed. Ranks compare the published
    figures (percentages to one decimal, as read out at meetings): two counties that both show
    97.1% share a rank. Ranks are among all the store's counties, or among the counties of
    `scope.city`; a county scope only keeps its rows. At CITY_LEVEL the rows are the province's
    cities (rank_cities).

    When a report published for the as-of date is in force (and `as_published`), the table is
    that report's frozen figures: a published 通报 is never recomputed silently. `corrected` marks
    the rows whose figure differs today, and current_numerator / current_denominator say how."""
    if scope.level == CITY_LEVEL:
        return rank_cities(engine, program, key, scope, previous, as_published)
    measure = find_measure(program, key)
    table = _rank_all_counties(engine, measure, Scope(scope.as_of, scope.year), previous, as_published)
    if scope.city:
        # Within one city: the competition ranks of the province-wide ranks among its counties
        # (the same order, ties kept, places counted among the city's counties only).
        table = table[table["adcode"].isin(build_scope(engine, scope.as_of, city=scope.city).counties)].copy()
        table["rank"] = rank_values(table["rank"].astype("float64"), higher_is_better=False)
        table["previous_rank"] = rank_values(table["previous_rank"].astype("float64"), higher_is_better=False)
        table["rank_change"] = compute_rank_change(table["rank"], table["previous_rank"])
    if scope.counties:
        table = table[table["adcode"].isin(scope.counties)]
    return _in_rank_order(table)


def _in_rank_order(table: pd.DataFrame) -> pd.DataFrame:
    order = table["rank"].astype("float64").fillna(float("inf"))
    return table.assign(_order=order).sort_values(["_order", "adcode"], kind="stable").drop(
        columns="_order").reset_index(drop=True)


def _rank_all_counties(engine: Engine, measure: Measure, scope: Scope, previous: date | None,
                       as_published: bool) -> pd.DataFrame:
    """Every county of the store ranked (in store order): rank_measure's columns."""
    table = compute_measure_table(engine, measure.program, measure.key, scope)
    table["rank"] = rank_values(compute_published_values(table), measure.higher_is_better)
    table["previous_rank"] = _previous_ranks(engine, measure, scope, previous).reindex(table["adcode"]).to_numpy()
    frozen = _load_frozen_table(engine, measure, scope) if as_published else None
    table = _with_current(frozen, table) if frozen is not None else table.assign(
        corrected=False, current_numerator=table["numerator"], current_denominator=table["denominator"])
    table["rank_change"] = compute_rank_change(table["rank"], table["previous_rank"])
    return table


def compute_city_frame(counties: pd.DataFrame, membership: pd.DataFrame, cities: pd.DataFrame,
                       measure: Measure) -> pd.DataFrame:
    """Per city, from a county measure table (with current_numerator / current_denominator when
    ranked): the sums of its counties' numerators and denominators — never an average of their
    percentages — held to the province-wide line, flagged and ranked among the cities. The city's
    name and adcode stand in the `county` and `adcode` columns, so every table, chart and sentence
    built for counties reads cities alike. `membership` maps adcode -> city_adcode; `cities` has
    adcode, city, seq. Pure: no database."""
    line = read_city_line(counties)
    sums = ["numerator", "denominator"] + [c for c in ("current_numerator", "current_denominator")
                                           if c in counties]
    # Plain Python over a hundred rows: a pandas merge and two groupbys cost ten times as much.
    city_of = dict(zip(membership["adcode"].tolist(), membership["city_adcode"].tolist()))
    corrected = counties["corrected"].tolist() if "corrected" in counties else [False] * len(counties)
    totals: dict[str, list[int]] = {}
    changed: dict[str, bool] = {}
    for adcode, late, *values in zip(counties["adcode"].tolist(), corrected, *[counties[c].tolist() for c in sums]):
        city = city_of.get(adcode)
        if city is None or pd.isna(city):
            continue
        total = totals.setdefault(city, [0] * len(sums))
        for i, value in enumerate(values):
            total[i] += 0 if pd.isna(value) else int(value)
        changed[city] = changed.get(city, False) or bool(late)
    listed = cities[cities["adcode"].isin(list(totals))]
    adcodes = listed["adcode"].tolist()
    counts = {"adcode": adcodes, "county": listed["city"].tolist(),
              **{c: np.array([totals[a][i] for a in adcodes], dtype="int64") for i, c in enumerate(sums)}}
    frame = _build_measure_table(counts, [line] * len(adcodes), [False] * len(adcodes), measure,
                                 corrected=np.array([changed[a] for a in adcodes], dtype=bool))
    frame["rank"] = rank_values(compute_published_values(frame), measure.higher_is_better)
    return frame


def rank_cities(engine: Engine, program: str, key: str, scope: Scope, previous: date | None = None,
                as_published: bool = True) -> pd.DataFrame:
    """The province's cities ranked on the measure (compute_city_frame over every county, frozen
    figures where a report is in force), with previous_rank and rank_change like rank_measure.
    Every city is listed whatever county or city the scope names."""
    measure = find_measure(program, key)
    whole = Scope(scope.as_of, scope.year)
    membership, cities = load_counties(engine), load_cities(engine)
    table = compute_city_frame(_rank_all_counties(engine, measure, whole, None, as_published),
                               membership, cities, measure)
    if previous is not None:
        before = _load_frozen_table(engine, measure, whole.at(previous))
        if before is None:
            before = compute_measure_table(engine, program, key, whole.at(previous))
        ranks = compute_city_frame(before, membership, cities, measure)
        table["previous_rank"] = ranks.set_index("adcode")["rank"].reindex(table["adcode"]).astype("Int64").to_numpy()
    else:
        table["previous_rank"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    table["rank_change"] = compute_rank_change(table["rank"], table["previous_rank"])
    return _in_rank_order(table)


def _previous_ranks(engine: Engine, measure: Measure, scope: Scope, previous: date | None) -> pd.Series:
    """Each county's rank on the previous report (by adcode, Int64): as published, else recomputed."""
    if previous is None:
        return pd.Series(dtype="Int64")
    frozen = _load_frozen_table(engine, measure, scope.at(previous))
    if frozen is not None:
        return frozen["rank"].set_axis(frozen["adcode"]).astype("Int64")
    before = compute_measure_table(engine, measure.program, measure.key, scope.at(previous))
    return rank_values(compute_published_values(before), measure.higher_is_better).set_axis(before["adcode"])


def _load_frozen_table(engine: Engine, measure: Measure, scope: Scope) -> pd.DataFrame | None:
    """The measure's per-county figures as published for the scope's date, in the measure table's
    columns (with rank and previous_rank); None when no report for that date and plan year is in force."""
    published = _load_published_report(engine, scope.as_of)
    if published is None or published["plan_year"] != scope.plan_year:
        return None
    figures = queries.load_published_figures(engine, published["id"], measure.program, measure.key)
    figures = figures[figures["adcode"] != ""].reset_index(drop=True)
    frame = figures[["adcode", "county", "numerator", "denominator"]].copy()
    frame["value"] = [compute_rate(n, d) for n, d in zip(frame["numerator"], frame["denominator"])]
    frame["target"] = figures["target"].astype("float64")
    frame["line"], frame["basis"], frame["override"] = figures["line"], figures["basis"], False
    frame["gap_pp"], frame["flag"] = figures["gap_pp"].astype("float64"), figures["flag"]
    frame["rank"] = figures["rank"].astype("Int64")
    frame["previous_rank"] = figures["previous_rank"].astype("Int64")
    return frame


def _with_current(frozen: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The frozen rows with today's numerator and denominator beside them and `corrected` where
    they differ."""
    now = current.set_index("adcode").reindex(frozen["adcode"])
    frozen = frozen.assign(current_numerator=now["numerator"].to_numpy(),
                           current_denominator=now["denominator"].to_numpy())
    frozen["corrected"] = ((frozen["current_numerator"] != frozen["numerator"])
                           | (frozen["current_denominator"] != frozen["denominator"]))
    return frozen


def compute_published_values(table: pd.DataFrame) -> pd.Series:
    """Each county's value as published: the percentage rounded half up to one decimal."""
    return pd.Series([fmt.percent_value(n, d) for n, d in zip(table["numerator"], table["denominator"])],
                     index=table.index, dtype="float64")


def list_measures(program: str | None = None) -> list[Measure]:
    return [m for m in MEASURES if program is None or m.program == program]


def previous_report_date(engine: Engine, as_of: date) -> date | None:
    """The default comparison for `as_of`: the latest report published before it (the document
    counties were held to), else the latest report date before it."""
    published = queries.load_published_reports(engine)
    earlier = [d for d, s in zip(published["report_on"], published["status"]) if d < as_of and s == db.PUBLISHED]
    if earlier:
        return max(earlier)
    earlier = [d for d in queries.load_report_dates(engine) if d < as_of]
    return earlier[-1] if earlier else None


def load_sources(engine: Engine, scope: Scope) -> dict[tuple[str, str], pd.DataFrame]:
    """Every source frame the measures need, once each: (program, source) -> per-county counts."""
    sources = {}
    for measure in MEASURES:
        if (measure.program, measure.source) not in sources:
            sources[measure.program, measure.source] = load_source(engine, measure, scope)
    return sources


def compute_headline(engine: Engine, scope: Scope, as_published: bool = True) -> pd.DataFrame:
    """Every measure over the whole scope, one row each: program, key, label, unit, numerator,
    denominator, value, target, line, basis, gap_pp, flag, corrected. For the whole city on a
    date with a report in force (and `as_published`), the figures are the published ones and
    `corrected` marks those that differ today."""
    sources = load_sources(engine, scope)
    rows = []
    for measure in MEASURES:
        table = compute_measure_frame(sources[measure.program, measure.source], measure,
                                      compute_target_lines(engine, measure, scope))
        row = compute_city_row(table, measure)
        rows.append(dict(program=measure.program, key=measure.key, label=measure.label, unit=measure.unit,
                         **{k: v for k, v in row.items() if k not in ("county", "adcode", "override")}))
    headline = pd.DataFrame(rows).assign(corrected=False)
    published = _load_published_report(engine, scope.as_of) if as_published and not scope.counties else None
    if published is None or published["plan_year"] != scope.plan_year:
        return headline
    city = queries.load_published_figures(engine, published["id"])
    city = city[city["adcode"] == ""].set_index(["program", "measure"])
    frozen = city.reindex(list(zip(headline["program"], headline["key"])))
    changed = ((frozen["numerator"].to_numpy() != headline["numerator"].to_numpy())
               | (frozen["denominator"].to_numpy() != headline["denominator"].to_numpy()))
    for column in ("numerator", "denominator", "target", "line", "basis", "gap_pp", "flag"):
        headline[column] = frozen[column].to_numpy()
    headline["value"] = [compute_rate(n, d) for n, d in zip(headline["numerator"], headline["denominator"])]
    headline["corrected"] = changed
    return headline


def compute_totals(engine: Engine, scope: Scope) -> dict[str, int]:
    """Scope-wide sums of every source column, keyed '<program>.<column>' (e.g.
    'heating.target_households', 'renovation.planned_investment_yuan')."""
    totals = {}
    for (program, _), frame in load_sources(engine, scope).items():
        sums = frame.drop(columns=["adcode", "county"]).sum(numeric_only=True)
        totals.update({f"{program}.{column}": int(value) for column, value in sums.items()})
    return totals


def compute_fund_balance(engine: Engine, scope: Scope, program: str | None = None,
                         this_year_only: bool = True) -> pd.DataFrame:
    """The allocations made by the as-of date (of the plan year, or of every year up to it) with
    what is disbursed, undisbursed, due and retained (资金留置) on that date
    (measures.compute_fund_balance)."""
    # Every allocation's balance depends on its own row, its county-year's subsidies and the date
    # only, so one balance of every program and year serves each selection of it.
    balance = _shared(engine, ("fund_balance", scope.as_of, scope.counties),
                      lambda: _compute_all_fund_balances(engine, scope.as_of, scope.counties))
    keep = (balance["plan_year"] == scope.plan_year) if this_year_only else (balance["plan_year"] <= scope.plan_year)
    if program:
        keep &= balance["program"] == program
    return balance[keep].reset_index(drop=True)


def _compute_all_fund_balances(engine: Engine, as_of: date, counties: tuple[str, ...]) -> pd.DataFrame:
    allocations = queries.load_allocations(engine, as_of, None, counties)
    subsidy = queries.load_subsidy_due(engine, as_of, SUBSIDY_DUE_DAYS, counties)
    # A county-year without subsidies has nothing due (not a division by zero), nor one without a row.
    shares = (subsidy["due_subsidy_yuan"].astype("float64")
              / subsidy["subsidy_yuan"].astype("float64").where(subsidy["subsidy_yuan"] != 0)).fillna(0.0)
    shares = pd.Series(shares.to_numpy(), index=pd.MultiIndex.from_arrays(
        [subsidy["adcode"].astype("object"), subsidy["plan_year"].astype("int64")]))
    keys = pd.MultiIndex.from_arrays([allocations["adcode"].astype("object"), allocations["plan_year"].astype("int64")])
    allocations["due_share"] = compute_due_shares(allocations["program"],
                                                  measures.compute_age_days(allocations["allocated_on"], as_of),
                                                  pd.Series(shares.reindex(keys).to_numpy(), index=allocations.index))
    return measures.compute_fund_balance(allocations, as_of)


FUND_COLUMNS = ["allocated_yuan", "disbursed_yuan", "due_yuan", "disbursed_due_yuan", "resident_yuan"]


def compute_fund_totals(engine: Engine, program: str, scope: Scope) -> pd.DataFrame:
    """Per county, the plan year's funds of `program` allocated (已下达), disbursed, due (应拨付) and
    paid toward what is due by the as-of date, residents' contributions among them, and (for
    renovation) the batch's planned investment (yuan)."""
    return _load_source(engine, f"funds.{program}", scope).copy()


def _compute_fund_totals(engine: Engine, program: str, scope: Scope) -> pd.DataFrame:
    balance = compute_fund_balance(engine, scope, program)
    balance["resident_yuan"] = balance["allocated_yuan"].where(balance["source"] == RESIDENT_SOURCE, 0)
    sums = balance.groupby("adcode")[FUND_COLUMNS].sum().reset_index()
    frame = load_counties(engine, scope.counties)[["adcode", "county"]].merge(sums, on="adcode", how="left")
    frame[FUND_COLUMNS] = frame[FUND_COLUMNS].fillna(0).astype("int64")
    planned = (_load_source(engine, "renovation", scope)[["adcode", "planned_investment_yuan"]]
               if program == RENOVATION else frame[["adcode"]].assign(planned_investment_yuan=0))
    return frame.merge(planned, on="adcode", how="left")


def compute_retained_funds(engine: Engine, scope: Scope, program: str | None = None,
                           flagged_only: bool = False) -> pd.DataFrame:
    """Allocations (any plan year up to the scope's) with money not yet disbursed on the as-of
    date, oldest first, with age and the retained part (资金留置); only those with money retained
    when `flagged_only`."""
    balance = compute_fund_balance(engine, scope, program, this_year_only=False)
    retained = balance[balance["flagged"] if flagged_only else balance["undisbursed_yuan"] > 0]
    return retained.sort_values(["allocated_on", "county"], kind="stable").reset_index(drop=True)


def compute_target_share(engine: Engine, program: str, key: str, scope: Scope) -> float | None:
    """The share a measure should have reached city-wide on the as-of date (its line or target)."""
    return compute_target_lines(engine, find_measure(program, key), scope)[None].share


def compute_supervision(engine: Engine, scope: Scope, open_only: bool = False) -> pd.DataFrame:
    """Supervision items known on the as-of date with their status (办理中 / 逾期未销号 / 已销号)
    and days overdue; open items first, most overdue on top; without closed ones when
    `open_only`."""
    items = queries.load_supervision(engine, scope.as_of, scope.counties)
    items["status"] = [measures.compute_supervision_status(d, c, scope.as_of)
                       for d, c in zip(items["deadline"], items["closed_on"])]
    items["days_overdue"] = [(scope.as_of - d).days if s == measures.OVERDUE else 0
                             for d, s in zip(items["deadline"], items["status"])]
    if open_only:
        items = items[items["status"] != measures.CLOSED]
    order = items["status"].map({measures.OVERDUE: 0, measures.OPEN: 1, measures.CLOSED: 2})
    return (items.assign(_order=order).sort_values(["_order", "days_overdue"], ascending=[True, False],
                                                   kind="stable").drop(columns="_order").reset_index(drop=True))


# Measures whose red flags are listed as laggards (the progress ones a leader asks about).
LAGGARD_MEASURES = {RENOVATION: ("start_rate", "finish_rate", "investment_rate", "disbursement_rate"),
                    HEATING: ("completion_rate", "installed_rate", "tendered_rate", "disbursement_rate")}


def compute_laggards(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Red-flagged counties on the progress measures, furthest behind first, with the reason in
    words: county, adcode, program, key, label, numerator, denominator, value, target, gap_pp,
    reason."""
    rows = []
    sources = load_sources(engine, scope)  # each program's summary read once for all its measures
    for program, keys in LAGGARD_MEASURES.items():
        for key in keys:
            measure = find_measure(program, key)
            table = compute_measure_frame(sources[measure.program, measure.source], measure,
                                          compute_target_lines(engine, measure, scope))
            for _, row in table[table["flag"] == measures.RED].iterrows():
                reason = fmt.format_lag_reason(measure.label, row["numerator"], row["denominator"], row["target"],
                                               row["gap_pp"], row["line"])
                rows.append(dict(row.drop("flag"), program=program, key=key, label=measure.label, reason=reason))
    columns = ["county", "adcode", "program", "key", "label", "numerator", "denominator", "value", "target",
               "gap_pp", "reason"]
    return pd.DataFrame(rows, columns=columns).sort_values("gap_pp", kind="stable").reset_index(drop=True)


def compute_communities(engine: Engine, access: Access, scope: Scope, stages: tuple[str, ...] = ()) -> pd.DataFrame:
    """The batch's communities as on the as-of date (stage reached, late stage, days late),
    optionally only those currently at one of `stages` (labels), within what `access` may list."""
    frame = measures.compute_community_status(queries.load_communities(engine, access, scope.plan_year, scope.counties),
                                              scope.as_of)
    return frame[frame["stage"].isin(stages)].reset_index(drop=True) if stages else frame


def compute_trend(engine: Engine, program: str, key: str, scope: Scope, dates: list[date]) -> pd.DataFrame:
    """The measure on each report date (same plan year): date, county, numerator, denominator,
    value, target, flag, with a 全市 (or 所选县区合计) row per date."""
    measure = find_measure(program, key)
    frames = []
    by_city = scope.level == CITY_LEVEL
    if by_city:  # each day's cities, from all the counties: the cities ranked are the whole province's
        membership, cities = load_counties(engine), load_cities(engine)
        scope = Scope(scope.as_of, scope.year, level=CITY_LEVEL)
    whole = describe_whole(engine)
    for day in dates:
        table = compute_measure_table(engine, program, key, scope.at(day))
        total = compute_city_row(table, measure, SCOPE_TOTAL if scope.counties else whole)
        if by_city:
            table = compute_city_frame(table, membership, cities, measure)
        table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
        frames.append(table.assign(date=day))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compute_target_curve(engine: Engine, program: str, key: str, scope: Scope, first: date, last: date
                         ) -> pd.DataFrame:
    """The city-wide target line from `first` to `last` as the points that draw it exactly: both
    ends and every plan node (or the deadline) between them: date, target, line."""
    measure = find_measure(program, key)
    nodes = queries.load_plan_nodes(engine, program, scope.plan_year) if measure.step else pd.DataFrame()
    corners = set(nodes.loc[nodes["step"] == measure.step, "due_on"]) if len(nodes) else set()
    deadline = queries.load_deadlines(engine, program, scope.plan_year).get(measure.deadline or f"{measure.step}_deadline")
    corners |= {deadline} if deadline else set()
    days = sorted({first, last} | {d for d in corners if first <= d <= last})
    lines = [compute_target_lines(engine, measure, scope.at(day))[None] for day in days]
    return pd.DataFrame({"date": days, "target": [t.share for t in lines], "line": [t.name for t in lines]})


def compute_community_page(engine: Engine, access: Access, scope: Scope, stages: tuple[str, ...] = (),
                           query: str = "", offset: int = 0, limit: int = 100) -> pd.DataFrame:
    """Rows `offset`… of compute_communities (searched by `query` as tables.build_community_table
    does): the page is cut in SQL, and only its communities get their stage status worked out."""
    page = queries.load_community_page(engine, access, scope.plan_year, scope.as_of, scope.counties, stages, query,
                                       offset, limit)
    return measures.compute_community_status(page, scope.as_of)


def compute_community_sample(engine: Engine, access: Access, scope: Scope, stages: tuple[str, ...] = (),
                             most: int = 1000) -> tuple[pd.DataFrame, int]:
    """At most `most` of compute_communities's rows, evenly spread (every k-th), and how many
    there are: the detailed map's community points at province size (the stage status of each
    drawn community only)."""
    communities = queries.load_communities(engine, access, scope.plan_year, scope.counties)
    every = -(-len(communities) // most) if len(communities) else 1
    sample = measures.compute_community_status(communities.iloc[::every].reset_index(drop=True), scope.as_of)
    if stages:
        sample = sample[sample["stage"].isin(stages)].reset_index(drop=True)
    return sample, len(communities)
