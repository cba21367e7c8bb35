"""The notice against the report: every number in its text is one the rankings and measures
show (parsed back out of the words), on the demo city and on a store where the answer is known."""
import re
from datetime import date

import pytest
from builders import NORTH, SOUTH, add_allocation, add_household, add_plan, add_project, add_village, all_milestones, chain

from retrofit import fmt, notice, queries, report
from retrofit.cli import main
from retrofit.measures import MEASURES, find_measure
from retrofit.settings import FLAG_THRESHOLDS, RENOVATION_FUNDS_DUE_DAYS, RETENTION_AGE_DAYS, SUBSIDY_DUE_DAYS

AS_OF, PREVIOUS = date(2026, 11, 20), date(2026, 11, 13)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> list[str]:
    """The numbers of a text, leaving out quoted supervision items (their wording is data)."""
    return NUMBER.findall(re.sub(r"“[^”]*”", "", text))


@pytest.fixture(scope="module")
def demo_notice(demo_engine):
    return notice.build_notice(demo_engine, report.Scope(AS_OF), PREVIOUS)


def paragraph(text: notice.Notice, start: str, program_heading: str | None = None) -> str:
    sections = [s for s in text.sections if program_heading is None or s.heading.endswith(program_heading)]
    return next(p for s in sections for p in s.paragraphs if start in p)


def rank(engine, program, key, scope=None):
    return report.rank_measure(engine, program, key, scope or report.Scope(AS_OF), PREVIOUS)


def test_every_number_in_the_notice_is_a_figure_the_report_shows(demo_engine, demo_notice):
    scope = report.Scope(AS_OF)
    shown = []
    for measure in MEASURES:
        table = rank(demo_engine, measure.program, measure.key)
        rows = list(table.itertuples()) + [report.compute_city_row(table, measure)]
        for row in rows:
            row = row if isinstance(row, dict) else row._asdict()
            shown += [fmt.format_percent_of(row["numerator"], row["denominator"]), fmt.format_percent(row["target"]),
                      fmt.format_count(row["numerator"], measure.unit), fmt.format_count(row["denominator"], measure.unit)]
            shown += [str(row.get("rank")), str(row.get("previous_rank")), row["basis"]]
    shown += [fmt.format_households(v) for v in report.compute_totals(demo_engine, scope).values()]
    retained = report.compute_retained_funds(demo_engine, scope)
    flagged = retained[retained["flagged"]]
    shown += [fmt.format_yuan(v) for v in flagged.groupby(["county", "program", "plan_year"])["retained_yuan"].sum()]
    shown += [fmt.format_yuan(flagged["retained_yuan"].sum()), str(RETENTION_AGE_DAYS), f"{FLAG_THRESHOLDS.red_gap_pp:g}"]
    items = report.compute_supervision(demo_engine, scope)
    shown += [str(len(items))] + [str(n) for n in items["status"].value_counts()] + [str(d) for d in items["days_overdue"]]
    shown += [fmt.format_date(AS_OF), fmt.format_date(PREVIOUS), str(scope.plan_year), str(scope.plan_year - 1),
              fmt.format_date(queries.compute_counted_until(demo_engine, scope.plan_year, AS_OF)),
              str(RENOVATION_FUNDS_DUE_DAYS), str(SUBSIDY_DUE_DAYS)]
    allowed = {n for text in shown for n in numbers(text)}
    found = numbers(demo_notice.text)
    assert len(found) > 100
    assert set(found) <= allowed, set(found) - allowed


def test_city_wide_heating_sentence_matches_the_measures_output(demo_engine, demo_notice):
    headline = report.compute_headline(demo_engine, report.Scope(AS_OF)).set_index(["program", "key"])
    done = headline.loc[("heating", "completion_rate")]
    totals = report.compute_totals(demo_engine, report.Scope(AS_OF))
    text = paragraph(demo_notice, "计划完成农村清洁取暖改造")
    match = re.search(r"计划完成农村清洁取暖改造(\S+?户)\(含上年结转(\S+?户)\),经批准核减\(销户\)(\S+?户)、核减后任务"
                      r"(\S+?户),截至\S+?实际完成\(通气通电\)(\S+?户)\([^)]*\),完成率(\d+\.\d%)", text)
    assert match.groups() == (fmt.format_households(totals["heating.target_households"]),
                              fmt.format_households(totals["heating.carryover_households"]),
                              fmt.format_households(totals["heating.cancelled_households"]),
                              fmt.format_households(done["denominator"]), fmt.format_households(done["numerator"]),
                              fmt.format_percent_of(done["numerator"], done["denominator"]))


def test_notice_names_the_county_with_the_lowest_completion_rate(demo_engine, demo_notice):
    table = rank(demo_engine, "heating", "completion_rate")
    lowest = table.sort_values("value").iloc[0]
    match = re.search(r"其中(\S+?)完成率仅为(\d+\.\d%)", paragraph(demo_notice, "农村清洁取暖改造"))
    assert match.groups() == (lowest["county"], fmt.format_percent_of(lowest["numerator"], lowest["denominator"]))


def test_renovation_sentence_carries_investment_and_the_lowest_finish_rate(demo_engine, demo_notice):
    headline = report.compute_headline(demo_engine, report.Scope(AS_OF)).set_index(["program", "key"])
    invest = headline.loc[("renovation", "investment_rate")]
    text = paragraph(demo_notice, "计划改造城镇老旧小区")
    assert (f"计划投资{fmt.format_yuan(invest['denominator'])}" in text
            and f"完成投资{fmt.format_yuan(invest['numerator'])},投资完成率"
                f"{fmt.format_percent_of(invest['numerator'], invest['denominator'])}" in text)
    lowest = rank(demo_engine, "renovation", "finish_rate").sort_values("value").iloc[0]
    assert f"其中{lowest['county']}完工率仅为{fmt.format_percent_of(lowest['numerator'], lowest['denominator'])}" in text


def test_counties_behind_the_line_carry_the_rates_of_the_ranking(demo_engine, demo_notice):
    for program, heading in (("renovation", "老旧小区改造"), ("heating", "清洁取暖")):
        text = paragraph(demo_notice, "时间进度。", heading)
        for key in notice.NOTICE_MEASURES[program]:
            measure, table = find_measure(program, key), rank(demo_engine, program, key)
            rates = {r.county: fmt.format_percent_of(r.numerator, r.denominator) for r in table.itertuples()}
            sentence = next(s for s in text.split("。") if s.lstrip("(一二三四)时间进度").startswith(
                (f"{measure.label}低于", f"各县区{measure.label}")))
            named = re.findall(r"([^,:、()]+?)\((\d+\.\d%)\)", sentence.split("的县区有")[-1].split("均低于")[-1])
            named = [(c, v) for c, v in named if c in rates]
            assert (named or "均已达到" in sentence) and all(rates[c] == v for c, v in named), (sentence, named)
            red = set(table.loc[table["flag"] == "red", "county"])
            assert red <= set(re.findall("|".join(rates), sentence.split("其中")[-1])) or not red


def test_rank_movement_since_the_previous_report_matches_the_ranking(demo_engine, demo_notice):
    table = rank(demo_engine, "heating", "completion_rate").set_index("county")
    moves = re.findall(r"([^,;、有]+?)\(由第(\d+)位(升|降)至第(\d+)位\)", paragraph(demo_notice, "排名变化", "清洁取暖"))
    assert moves
    for county, before, verb, now in moves:
        assert (table.loc[county, "previous_rank"], table.loc[county, "rank"]) == (int(before), int(now))
        assert (verb == "升") == (table.loc[county, "rank_change"] > 0)
    assert {c for c, *_ in moves} == set(table.index[table["rank_change"].fillna(0) != 0])


def test_retained_funds_are_those_of_the_report_by_county(demo_engine, demo_notice):
    retained = report.compute_retained_funds(demo_engine, report.Scope(AS_OF))
    flagged = retained[retained["flagged"]]
    expected = {(c, y, "清洁取暖" if p == "heating" else "老旧小区改造"): fmt.format_yuan(v)
                for (c, p, y), v in flagged.groupby(["county", "program", "plan_year"])["retained_yuan"].sum().items()}
    text = paragraph(demo_notice, "形成资金留置")
    items = re.findall(r"([^:、]+?)(\d{4})年度(老旧小区改造|清洁取暖)资金([\d,.]+(?:亿元|万元|元))", text.split("):")[1])
    found = {(c, int(y), p): v for c, y, p, v in items}
    assert found == expected
    assert f"有{fmt.format_yuan(flagged['retained_yuan'].sum())}已到拨付时限仍未拨付" in text
    assert "金台区2025年度老旧小区改造资金" in text


def test_overdue_supervision_items_are_counted_and_dated_as_the_report_has_them(demo_engine, demo_notice):
    items = report.compute_supervision(demo_engine, report.Scope(AS_OF))
    overdue = items[items["status"] == "逾期未销号"]
    text = paragraph(demo_notice, "督办事项共")
    assert f"督办事项共{len(items)}项" in text and f"逾期未销号{len(overdue)}项" in text
    for row in overdue.itertuples():
        assert f"{row.county}“{row.text}”(逾期{row.days_overdue}天)" in text


def test_the_county_that_never_issued_its_implementation_plan_is_named(demo_engine, demo_notice):
    procurement = queries.load_procurement(demo_engine, 2026, AS_OF)
    missing = procurement.loc[procurement["plan_issued_on"].isna(), "county"].tolist()
    assert missing == ["太白县"]
    assert "太白县尚未下发2026年度实施方案" in paragraph(demo_notice, "实施方案和设备招标")


def test_one_program_only_leaves_the_other_out(demo_engine):
    text = notice.build_notice(demo_engine, report.Scope(AS_OF), PREVIOUS, programs=("heating",)).text
    assert "清洁取暖" in text and "老旧小区" not in text and "一、清洁取暖" in text


def test_a_county_scope_speaks_of_that_county(demo_engine):
    scope = report.Scope(AS_OF, counties=("610327",))
    text = notice.build_notice(demo_engine, scope, PREVIOUS).text
    assert "关于陇县" in text and "陇县计划完成农村清洁取暖改造1,338户" in text and "全市计划" not in text


# ---- a store where every figure is known --------------------------------------------------

@pytest.fixture
def known(store):
    """北县: two communities (one finished, one through preliminary procedures only), 4 heating
    households of which 3 connected; 南区: one community in reserve, 2 households only confirmed,
    and 2025 money of which 6万元 never reached a project."""
    day = date(2026, 3, 1)
    add_project(store, "P1", NORTH, households=120, investment=2_000_000, **chain(day, day, day, day, day))
    add_project(store, "P2", NORTH, households=80, investment=1_000_000, **chain(day, day))
    add_project(store, "P3", SOUTH, households=100, investment=1_500_000, **chain(day))
    add_plan(store, NORTH, 2026, 4)
    add_plan(store, SOUTH, 2026, 2)
    north, south = add_village(store, NORTH), add_village(store, SOUTH)
    for i in range(3):
        add_household(store, f"N{i}", north, 2026, NORTH, **all_milestones(date(2026, 6, 1)))
    add_household(store, "N3", north, 2026, NORTH)
    for i in range(2):
        add_household(store, f"S{i}", south, 2026, SOUTH, confirmed=date(2026, 3, 1))
    add_allocation(store, SOUTH, 100_000, date(2025, 3, 1), year=2025, payments=[(40_000, date(2025, 5, 1))])
    return store


def test_known_store_renovation_paragraph_reads_exactly(known):
    text = notice.build_notice(known, report.Scope(date(2026, 7, 2)))
    assert paragraph(text, "总体进展", "老旧小区改造") == (
        "(一)总体进展。2026年全市计划改造城镇老旧小区3个、涉及居民300户,计划投资450.00万元。"
        "截至2026年7月2日,已开工1个,开工率33.3%;已完工1个,完工率33.3%,其中南区完工率仅为0.0%;"
        "已竣工验收0个,竣工验收率0.0%。完成投资0元,投资完成率0.0%。2026年度资金尚未下达。")
    assert paragraph(text, "前期手续和招投标。") == (
        "(二)前期手续和招投标。尚有1个小区未完成前期手续,涉及南区(1个);"
        "尚有2个小区未完成招投标,涉及北县(1个)、南区(1个)。")


def test_known_store_heating_paragraph_and_procurement_read_exactly(known):
    text = notice.build_notice(known, report.Scope(date(2026, 7, 2)))
    overall = paragraph(text, "总体进展", "清洁取暖")
    assert overall.startswith("(一)总体进展。2026年全市计划完成农村清洁取暖改造6户,截至2026年7月2日"
                              "实际完成(通气通电)3户,完成率50.0%,其中南区完成率仅为0.0%。")
    assert "确村到户、设备招标、户内改造分别完成5户、3户、3户,占计划的83.3%、50.0%、50.0%。" in overall
    assert paragraph(text, "实施方案和设备招标") == (
        "(二)实施方案和设备招标。北县、南区尚未下发2026年度实施方案,设备招标无法启动。")


def test_known_store_retained_funds_and_no_supervision(known):
    text = notice.build_notice(known, report.Scope(date(2026, 7, 2))).text
    assert "有6.00万元已到拨付时限仍未拨付" in text and "南区2025年度老旧小区改造资金6.00万元" in text
    assert "截至2026年7月2日,全市无督办事项。" in text
    assert "排名变化" not in text  # no previous report to compare with


def test_cli_notice_prints_the_same_text(demo_url, monkeypatch, capsys, demo_notice):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    assert main(["notice", "--as-of", "2026-11-20", "--previous", "2026-11-13"]) == 0
    assert capsys.readouterr().out.strip() == demo_notice.text.strip()


def test_cli_notice_for_one_program(demo_url, monkeypatch, capsys):
    monkeypatch.setenv("RETROFIT_DB_URL", demo_url)
    assert main(["notice", "--program", "renovation"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("关于全市老旧小区改造工作进展情况的通报") and "与上期(2026年11月13日)相比" in out


def test_one_countys_notice_speaks_of_that_county_and_its_citywide_place(demo_engine):
    scope = report.Scope(AS_OF, counties=("610327",))  # 陇县
    text = notice.build_notice(demo_engine, scope, PREVIOUS).text
    assert "各县区" not in text.replace("各县(市、区)", "")
    place = report.rank_measure(demo_engine, "heating", "completion_rate", scope, PREVIOUS).iloc[0]
    assert f"陇县完成率在全市排第{int(place['rank'])}位" in text
    assert "对留置资金尽快拨付" not in text  # 陇县 has none


def test_a_published_notice_kept_as_text_lays_out_as_it_was(demo_notice):
    again = notice.parse_notice_text(demo_notice.text, demo_notice.as_of)
    assert again == demo_notice
