"""Words read from the numbers: the reason a county is flagged, and the progress notice (通报).

Every figure is formatted by `fmt` from the same report rows the tables and the CLI show
(`report.rank_measure`, `report.compute_headline`, ...), so the notice reads the very digits a
ranking shows. The `describe_*` functions are pure (frames in, sentences out); `build_notice`
gathers their inputs from the store.
"""
import html
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from . import db, fmt, queries, report
from .measures import CLOSED, NODE_LINE, OPEN, OVERDUE, RED, find_measure, read_city_line
from .settings import FLAG_THRESHOLDS, RENOVATION_FUNDS_DUE_DAYS, RETENTION_AGE_DAYS, SUBSIDY_DUE_DAYS
from .vocab import HEATING, PROGRAMS, RENOVATION

# Chinese ordinal headings of a 公文: 一、二、三、…
ORDINALS = "一二三四五六七八九十"
ISSUER = "市住房和城乡建设局"
SALUTATION = "各县(市、区)住房和城乡建设局:"
# A province store's notice is the department's, to the cities' bureaus.
PROVINCE_ISSUER = "省住房和城乡建设厅"
PROVINCE_SALUTATION = "各市住房和城乡建设局:"
# How many laggards the "其中…仅为…" sentence names at most.
LOWEST_NAMED = 3


# ---- the notice as a structure ---------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    """One numbered part of the notice: '一、老旧小区改造' and its paragraphs."""
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Notice:
    """The progress notice (进度通报), in the parts a 公文 has, so the text, the Word document,
    the PDF and the slides lay out the same words."""
    title: str
    as_of: date
    is_demo: bool
    opening: str
    sections: tuple[Section, ...]
    closing: str
    salutation: str = SALUTATION
    issuer: str = ISSUER

    @property
    def subtitle(self) -> str:
        demo = "·演示数据,非真实统计" if self.is_demo else ""
        return f"(数据截至{fmt.format_date(self.as_of)}{demo})"

    @property
    def paragraphs(self) -> list[str]:
        """Every body paragraph in reading order (headings included), without title and sign-off."""
        body = [self.salutation, self.opening]
        for section in self.sections:
            body += [section.heading, *section.paragraphs]
        return body + [self.closing]

    @property
    def text(self) -> str:
        """Plain text to copy into a message or a document: one paragraph a line."""
        lines = [self.title, self.subtitle, "", *self.paragraphs, "", self.issuer, fmt.format_date(self.as_of)]
        return "\n".join(lines)


def parse_notice_text(text: str, as_of: date) -> Notice:
    """The Notice whose `.text` is `text` (a published notice kept as text), so the document of
    record lays out like a fresh one."""
    lines = text.split("\n")
    title, subtitle, body = lines[0], lines[1], lines[3:-3]
    sections: list[Section] = []
    for line in body[2:-1]:
        if line[:1] in ORDINALS and line[1:2] == "、":
            sections.append(Section(line, ()))
        else:
            sections[-1] = Section(sections[-1].heading, (*sections[-1].paragraphs, line))
    return Notice(title=title, as_of=as_of, is_demo="演示数据" in subtitle, opening=body[1], sections=tuple(sections),
                  closing=body[-1], salutation=body[0], issuer=lines[-2])


def split_label(paragraph: str) -> tuple[str, str]:
    """'(一)总体进展。…' -> ('(一)总体进展。', '…'): the run-in label 公文 set apart; ('', paragraph)
    when there is none."""
    if paragraph.startswith("(") and "。" in paragraph[:16]:
        cut = paragraph.index("。") + 1
        return paragraph[:cut], paragraph[cut:]
    return "", paragraph


def render_notice_html(text: Notice) -> str:
    """The notice as HTML paragraphs (title, subtitle, salutation, numbered parts, sign-off), with
    class names a stylesheet can set in 公文 fashion: h1, .subtitle, .flush, .heading, .label,
    .sign. Every text is escaped."""
    e = html.escape
    body = [f"<h1>{e(text.title)}</h1>", f'<p class="subtitle flush">{e(text.subtitle)}</p>',
            f'<p class="flush">{e(text.salutation)}</p>', f"<p>{e(text.opening)}</p>"]
    for part in text.sections:
        body.append(f'<p class="heading">{e(part.heading)}</p>')
        for paragraph in part.paragraphs:
            label, rest = split_label(paragraph)
            body.append(f'<p><span class="label">{e(label)}</span>{e(rest)}</p>' if label else f"<p>{e(rest)}</p>")
    body += [f"<p>{e(text.closing)}</p>", f'<p class="sign">{e(text.issuer)}</p>',
             f'<p class="sign">{e(fmt.format_date(text.as_of))}</p>']
    return "".join(body)


# How the notice reads on a page (the briefing panel); the PDF has its own 公文 sheet.
SCREEN_CSS = """<style>
.notice h1 { font-size: 1.5rem; text-align: center; margin: 0.2rem 0; }
.notice p { margin: 0 0 0.35rem 0; text-indent: 2em; line-height: 1.8; font-size: 1.05rem; }
.notice p.flush, .notice p.sign { text-indent: 0; }
.notice p.subtitle { text-align: center; color: #5f6b7a; margin-bottom: 0.8rem; }
.notice p.heading { font-weight: 700; margin-top: 0.6rem; }
.notice span.label { font-weight: 600; }
.notice p.sign { text-align: right; }
.notice p:not(.sign) + p.sign { margin-top: 1rem; }
</style>"""


# ---- sentences (pure) ------------------------------------------------------------------------

def _rate(numerator, denominator) -> str:
    return fmt.format_percent_of(int(numerator), int(denominator))


def _line_words(table: pd.DataFrame) -> str:
    """'节点进度线(88.8%,按“9月底前完工50%、11月底前全部完工”节点要求)', '时间进度线(49.6%)',
    '目标(20.0%)': the line a measure table's counties are held to, and where it comes from."""
    line = read_city_line(table)
    basis = f",按“{line.basis}”节点要求" if line.name == NODE_LINE and line.basis else ""
    return f"{line.name}({fmt.format_percent(line.share)}{basis})"


def _join(names) -> str:
    return "、".join(names)


def describe_lowest(label: str, table: pd.DataFrame, limit: int = LOWEST_NAMED) -> str:
    """',其中太白县完成率仅为1.1%,陇县、麟游县分别为73.0%、76.9%' naming the red-flagged counties
    (lowest first, at most `limit`), or the lowest county when it is behind its line but none is
    red; '' when every county is on its line or there is only one county. `table` is a ranked
    measure table (report.rank_measure)."""
    rated = table[table["value"].notna()]
    if len(rated) < 2:
        return ""
    lowest = rated.sort_values(["value", "adcode"], kind="stable")
    red = lowest[lowest["flag"] == RED]
    if 0 < len(red) < len(rated):
        named = red.head(limit)
    else:
        # No red county, or all of them red: name the lowest alone, if it is behind its line
        # and really the lowest (not tied with the next one).
        named = lowest.head(1)
        behind = named["gap_pp"].notna().all() and (named["gap_pp"] < 0).all()
        if not behind or lowest["value"].iloc[0] == lowest["value"].iloc[1]:
            return ""
    rates = [_rate(n, d) for n, d in zip(named["numerator"], named["denominator"])]
    first = f",其中{named['county'].iloc[0]}{label}仅为{rates[0]}"
    if len(named) == 1:
        return first
    rest, values = named["county"].iloc[1:].tolist(), rates[1:]
    if len(rest) == 1:
        return f"{first},{rest[0]}为{values[0]}"
    return f"{first},{_join(rest)}分别为{_join(values)}"


def describe_behind_line(label: str, table: pd.DataFrame, red_gap_pp: float | None = None,
                         unit: str = "县区") -> str:
    """The counties (or cities: `unit` 市) whose measure is below its line: '完工率低于时间进度线(88.8%)
    的县区有2个:凤翔区(16.7%)、扶风县(80.0%),其中凤翔区落后超过15个百分点,列为红色预警。' Lowest first."""
    if not read_city_line(table).share or table["value"].notna().sum() == 0:
        return ""  # nothing required yet (before the step's first node): nobody is behind
    line = _line_words(table)
    behind = table[table["gap_pp"].notna() & (table["gap_pp"] < 0)].sort_values(["value", "adcode"], kind="stable")
    if len(table) == 1:  # one county's notice speaks of that county
        row = table.iloc[0]
        stated = f"{row['county']}{label}{_rate(row['numerator'], row['denominator'])}"
        if behind.empty:
            return f"{stated},已达到{line}。"
        sentence = f"{stated},低于{line},落后{fmt.format_pp(abs(row['gap_pp'])).lstrip('+')}"
        if red_gap_pp is not None and row["flag"] == RED:
            sentence += ",列为红色预警"
        return sentence + "。"
    if behind.empty:
        return f"各{unit}{label}均已达到{line}。"
    red = behind[behind["flag"] == RED] if red_gap_pp is not None else behind.iloc[:0]
    warning = f"落后超过{red_gap_pp:g}个百分点,列为红色预警" if red_gap_pp is not None else ""
    if len(behind) == table["value"].notna().sum() and len(behind) > 1:
        # Every county is behind (typical once a deadline has passed): name only the red ones.
        if red_gap_pp is not None and len(red) == len(behind):
            return f"各{unit}{label}均低于{line}且落后超过{red_gap_pp:g}个百分点,全部列为红色预警。"
        if red.empty:
            return f"各{unit}{label}均低于{line},最低的是{_listed(behind.head(1))}。"
        return f"各{unit}{label}均低于{line},其中{_listed(red)}{warning}。"
    sentence = f"{label}低于{line}的{unit}有{len(behind)}个:{_listed(behind)}"
    if not red.empty:
        sentence += f",其中{_join(red['county'])}{warning}"
    return sentence + "。"


def _listed(frame: pd.DataFrame) -> str:
    """'凤翔区(16.7%)、扶风县(80.0%)' from measure rows."""
    return _join(f"{c}({_rate(n, d)})" for c, n, d in zip(frame["county"], frame["numerator"], frame["denominator"]))


def describe_stage_shortfall(progress: pd.DataFrame, place: str) -> str:
    """Communities of the batch not yet through preliminary procedures (前期手续) or tender
    (招投标), by county. `progress` is queries.load_renovation_progress."""
    total = int(progress["communities"].sum())
    parts, done = [], []
    for key, label in (("prep", "前期手续"), ("tender", "招投标")):
        missing = progress["communities"] - progress[f"{key}_communities"]
        short = progress[missing > 0]
        if short.empty:
            done.append(label)
            continue
        count = int(missing.sum())
        finished = progress[(missing == 0) & (progress["communities"] > 0)]
        if len(short) > len(progress) / 2 and not finished.empty:
            parts.append(f"除{_join(finished['county'])}外,其他县区均有小区未完成{label}(共{count}个)")
        else:
            listed = _join(f"{c}({int(m)}个)" for c, m in zip(short["county"], missing[missing > 0]))
            parts.append(f"尚有{count}个小区未完成{label},涉及{listed}")
    if not parts:
        return f"{place}{total}个改造小区均已完成前期手续和招投标。"
    lead = f"{_join(done)}已全部完成;" if done else ""
    return lead + ";".join(parts) + "。"


def describe_procurement(procurement: pd.DataFrame, year: int, who: str = "各县区", tender_due: bool = True) -> str:
    """Counties whose heating implementation plan (实施方案) is not issued, or whose equipment
    suppliers are not selected yet (招标入库), which is only a shortfall once the plan's tender
    node requires some (`tender_due`). `procurement` is queries.load_procurement."""
    if procurement.empty:
        return ""
    no_task = procurement[procurement["target_households"] == 0]
    procurement = procurement[procurement["target_households"] > 0]
    not_issued = procurement[procurement["plan_issued_on"].isna()]
    not_selected = procurement[procurement["plan_issued_on"].notna() & procurement["selected_on"].isna()]
    parts = [f"{_join(no_task['county'])}未安排{year}年度任务"] if not no_task.empty else []
    if not not_issued.empty:
        parts.append(f"{_join(not_issued['county'])}尚未下发{year}年度实施方案,设备招标无法启动")
    if not not_selected.empty:
        parts.append(f"{_join(not_selected['county'])}已下发实施方案,但尚未完成设备招标入库" if tender_due else
                     f"{_join(not_selected['county'])}已下发实施方案,设备招标入库尚未到节点要求时间")
    if not_issued.empty and not_selected.empty and not procurement.empty:
        subject = ("各县区均" if no_task.empty else "其他县区均") if who == "各县区" else who
        parts.append(f"{subject}已下发{year}年度实施方案,并完成设备招标入库")
    return ";".join(parts) + "。" if parts else ""


def describe_retained(retained: pd.DataFrame, as_of: date, program_names: dict[str, str],
                      retention_days: int, who: str = "各县区") -> str:
    """Funds held back (资金留置): each flagged allocation's undisbursed money summed by county,
    program and plan year. `retained` is report.compute_retained_funds."""
    flagged = retained[retained["flagged"]] if not retained.empty else retained
    if flagged.empty:
        return f"截至{fmt.format_date(as_of)},未发现资金留置。"
    groups = (flagged.groupby(["county", "program", "plan_year"], sort=False)["retained_yuan"].sum()
              .reset_index().sort_values("retained_yuan", ascending=False, kind="stable"))
    items = _join(f"{c}{y}年度{program_names[p]}资金{fmt.format_yuan(v)}"
                  for c, p, y, v in zip(groups["county"], groups["program"], groups["plan_year"],
                                        groups["retained_yuan"]))
    total = fmt.format_yuan(int(flagged["retained_yuan"].sum()))
    due = {"renovation": f"{program_names['renovation']}资金下达满{RENOVATION_FUNDS_DUE_DAYS}天即应拨付到项目",
           "heating": f"{program_names['heating']}补助在农户通气通电满{SUBSIDY_DUE_DAYS}天后应拨付"}
    rules = ",".join(due[p] for p in due if p in set(flagged["program"]))
    return (f"截至{fmt.format_date(as_of)},已下达{who}的资金中有{total}已到拨付时限仍未拨付,形成资金留置"
            f"(下达超过{retention_days}天或属往年度的资金中应拨未拨的部分;{rules}):"
            f"{items}。请相关县区尽快拨付到项目,严禁截留挪用。")


def describe_rank_movement(label: str, table: pd.DataFrame, previous: date | None, unit: str = "县区",
                           whole: str = "全市") -> str:
    """'与上期(2026年11月13日)相比,完成率排名上升的有陈仓区(由第6位升至第5位);下降的有扶风县
    (由第5位降至第6位);其余县区排名不变。' '' without a previous report. `unit` names what is
    ranked (县区 or 市), `whole` where a single one is placed (全市, 全省)."""
    if previous is None:
        return ""
    if len(table) == 1:  # one county: its place among all the city's counties
        row = table.iloc[0]
        if pd.isna(row["rank"]):
            return ""
        change = row["rank_change"]
        moved = ("与上期持平" if change == 0 else f"较上期上升{int(change)}位" if change > 0
                 else f"较上期下降{int(-change)}位") if not pd.isna(change) else ""
        return (f"与上期({fmt.format_date(previous)})相比,{row['county']}{label}在{whole}排第{int(row['rank'])}位"
                f"{',' + moved if moved else ''}。")
    known = table[table["rank_change"].notna()]
    up = known[known["rank_change"] > 0].sort_values(["rank", "adcode"], kind="stable")
    down = known[known["rank_change"] < 0].sort_values(["rank", "adcode"], kind="stable")
    head = f"与上期({fmt.format_date(previous)})相比,"
    if up.empty and down.empty:
        return f"{head}各{unit}{label}排名均未变化。"

    def moves(frame, verb):
        return _join(f"{c}(由第{int(p)}位{verb}至第{int(r)}位)"
                     for c, p, r in zip(frame["county"], frame["previous_rank"], frame["rank"]))

    parts = []
    if not up.empty:
        parts.append(f"{label}排名上升的有{moves(up, '升')}")
    if not down.empty:
        parts.append(f"{'' if parts else label + '排名'}下降的有{moves(down, '降')}")
    rest = "" if len(up) + len(down) == len(table) else f";其余{unit}排名不变"
    return head + ";".join(parts) + rest + "。"


def describe_supervision(items: pd.DataFrame, as_of: date, place: str, overdue: str, open_: str,
                         closed: str) -> str:
    """Supervision items (督办事项) known on `as_of`: how many, how many closed (销号), open and
    overdue, and each overdue one with its county, text and days overdue. `items` is
    report.compute_supervision; `overdue`, `open_`, `closed` are its status labels."""
    if items.empty:
        return f"截至{fmt.format_date(as_of)},{place}无督办事项。"
    count = items["status"].value_counts()
    late = items[items["status"] == overdue]
    sentence = (f"截至{fmt.format_date(as_of)},{place}督办事项共{len(items)}项,已销号{int(count.get(closed, 0))}项,"
                f"办理中{int(count.get(open_, 0))}项,逾期未销号{len(late)}项")
    if late.empty:
        return sentence + "。"
    listed = ";".join(f"{c}“{t}”(逾期{int(d)}天)" for c, t, d in zip(late["county"], late["text"],
                                                                    late["days_overdue"]))
    return f"{sentence}:{listed}。"


def heading(index: int, text: str) -> str:
    """'一、老旧小区改造' for index 0."""
    return f"{ORDINALS[index]}、{text}"


# ---- the notice from the store -------------------------------------------------------------

# The measures whose counties behind the line are named, per program, in this order; the first
# one is the program's headline measure (its laggards are named and its rank movement reported).
STEP_TOPICS = {RENOVATION: "前期手续和招投标", HEATING: "实施方案和设备招标"}
NOTICE_MEASURES = {RENOVATION: ("finish_rate", "start_rate", "investment_rate"),
                   HEATING: ("completion_rate", "installed_rate", "disbursement_rate")}


def build_notice(engine: Engine, scope, previous: date | None = None,
                 programs: tuple[str, ...] = (RENOVATION, HEATING)) -> Notice:
    """The progress notice for `scope` (report.Scope), comparing ranks with the `previous`
    report date (none: no rank movement), for the given programs (renovation, heating)."""
    programs = tuple(p for p in (RENOVATION, HEATING) if p in programs)
    if not programs:
        raise ValueError("programs must name renovation and/or heating")
    names = report.load_counties(engine, scope.counties)["county"].tolist()
    place = report.describe_place(engine, scope)
    who = names[0] if len(names) == 1 else "各县区"  # whom the sentences address
    unit = scope.unit  # what the rankings rank: 县区, or 市 at the province's city level
    province = report.load_is_province(engine)
    headline = {(r.program, r.key): r for r in report.compute_headline(engine, scope).itertuples()}
    totals = report.compute_totals(engine, scope)
    year, red = scope.plan_year, FLAG_THRESHOLDS.red_gap_pp

    def ranked(program: str, key: str) -> pd.DataFrame:
        return report.rank_measure(engine, program, key, scope, previous)

    def behind_paragraph(program: str, tables: dict[str, pd.DataFrame]) -> str:
        sentences = []
        for key, table in tables.items():
            measure = find_measure(program, key)
            sentences.append(describe_behind_line(measure.label, table, red, unit))
        return "".join(s for s in sentences if s)

    sections: list[Section] = []
    laggards: list[str] = []
    for program in programs:
        tables = {key: ranked(program, key) for key in NOTICE_MEASURES[program]}
        main_key = NOTICE_MEASURES[program][0]
        main = find_measure(program, main_key)
        for table in tables.values():
            laggards += [c for c in table.loc[table["flag"] == RED, "county"] if c not in laggards]
        if program == RENOVATION:
            overall = _renovation_overall(headline, totals, place, year, scope.as_of,
                                          describe_lowest(main.label, tables[main_key]))
            if overall is None:
                sections.append(Section(f"{PROGRAMS[program]}", (f"{year}年{place}未安排老旧小区改造计划。",)))
                continue
            steps = describe_stage_shortfall(
                queries.load_renovation_progress(engine, year, scope.as_of, scope.counties), place)
        else:
            overall = _heating_overall(headline, totals, place, year, scope.as_of,
                                       describe_lowest(main.label, tables[main_key]),
                                       queries.compute_counted_until(engine, year, scope.as_of))
            if overall is None:
                sections.append(Section(f"{PROGRAMS[program]}", (f"{year}年{place}未安排清洁取暖改造计划。",)))
                continue
            steps = describe_procurement(queries.load_procurement(engine, year, scope.as_of, scope.counties), year,
                                         who, bool(report.compute_target_share(engine, HEATING, "tendered_rate", scope)))
        labelled = [("总体进展", overall), (STEP_TOPICS[program], steps),
                    ("时间进度", behind_paragraph(program, tables)),
                    ("排名变化", describe_rank_movement(main.label, tables[main_key], previous, unit,
                                                    report.describe_whole(engine) if not scope.city else place))]
        labelled = [(topic, text) for topic, text in labelled if text]
        sections.append(Section(PROGRAMS[program], tuple(
            f"({ORDINALS[i]}){topic}。{text}" for i, (topic, text) in enumerate(labelled))))
    sections = [Section(heading(i, s.heading), s.paragraphs) for i, s in enumerate(sections)]

    retained = report.compute_retained_funds(engine, scope)
    retained = retained[retained["program"].isin(programs)]
    sections.append(Section(heading(len(sections), "资金留置情况"), (
        describe_retained(retained, scope.as_of, PROGRAMS, RETENTION_AGE_DAYS, who),)))
    items = report.compute_supervision(engine, scope)
    items = items[items["program"].isin(programs)]
    sections.append(Section(heading(len(sections), "督办事项办理情况"), (
        describe_supervision(items, scope.as_of, place, OVERDUE, OPEN, CLOSED),)))
    has_overdue = bool((items["status"] == OVERDUE).any())
    has_retained = bool(retained["flagged"].any()) if not retained.empty else False
    sections.append(Section(heading(len(sections), "下一步工作要求"), (
        _requirements(laggards, names if scope.level != report.CITY_LEVEL else report.load_cities(engine)["city"].tolist(),
                      has_overdue, has_retained, unit, province),)))

    work = "和".join(PROGRAMS[p] for p in programs)
    return Notice(
        title=f"关于{place}{work}工作进展情况的通报",
        as_of=scope.as_of, is_demo=db.load_is_demo(engine),
        opening=f"现将截至{fmt.format_date(scope.as_of)}{place}{work}工作进展情况通报如下:",
        sections=tuple(sections),
        closing="特此通报。",
        **(dict(salutation=PROVINCE_SALUTATION, issuer=PROVINCE_ISSUER) if province else {}))


def _renovation_overall(headline: dict, totals: dict, place: str, year: int, as_of: date, lowest: str) -> str | None:
    start, finish = headline["renovation", "start_rate"], headline["renovation", "finish_rate"]
    accept, invest = headline["renovation", "accept_rate"], headline["renovation", "investment_rate"]
    funds, resident = headline["renovation", "disbursement_rate"], headline["renovation", "resident_share"]
    communities = int(start.denominator)
    if communities == 0:
        return None
    text = (f"{year}年{place}计划改造城镇老旧小区{communities}个、涉及居民"
            f"{fmt.format_households(totals['renovation.households'])},计划投资{fmt.format_yuan(invest.denominator)}。"
            f"截至{fmt.format_date(as_of)},已开工{int(start.numerator)}个,开工率{_rate(start.numerator, communities)};"
            f"已完工{int(finish.numerator)}个,完工率{_rate(finish.numerator, communities)}{lowest};"
            f"已竣工验收{int(accept.numerator)}个,竣工验收率{_rate(accept.numerator, communities)}。")
    if invest.denominator:
        text += (f"完成投资{fmt.format_yuan(invest.numerator)},"
                 f"投资完成率{_rate(invest.numerator, invest.denominator)}。")
    if totals["renovation.allocated_yuan"]:
        text += (f"已下达资金{fmt.format_yuan(totals['renovation.allocated_yuan'])},已拨付"
                 f"{fmt.format_yuan(totals['renovation.disbursed_yuan'])}")
        if funds.denominator:
            text += (f";已到拨付时限的资金{fmt.format_yuan(funds.denominator)},已拨付"
                     f"{fmt.format_yuan(funds.numerator)},资金拨付率{_rate(funds.numerator, funds.denominator)}")
        text += "。"
    else:
        return text + f"{year}年度资金尚未下达。"
    text += f"居民出资{fmt.format_yuan(resident.numerator)},占计划投资的{_rate(resident.numerator, resident.denominator)}"
    if resident.gap_pp is not None and not pd.isna(resident.gap_pp) and resident.gap_pp < 0:
        text += f",低于{fmt.format_percent(resident.target)}的目标"
    return text + "。"


def _heating_overall(headline: dict, totals: dict, place: str, year: int, as_of: date, lowest: str,
                     counted_until: date) -> str | None:
    done = headline["heating", "completion_rate"]
    planned = totals["heating.target_households"]
    if planned == 0:
        return None
    carried, cancelled = totals["heating.carryover_households"], totals["heating.cancelled_households"]
    carry = f"(含上年结转{fmt.format_households(carried)})" if carried else ""
    cut = f",经批准核减(销户){fmt.format_households(cancelled)}、核减后任务{fmt.format_households(done.denominator)}" \
        if cancelled else ""
    closed = (f"(年度任务按{fmt.format_date(counted_until)}全部通气通电节点统计,此后完成的计入下年度结转任务)"
              if counted_until < as_of else "")
    text = (f"{year}年{place}计划完成农村清洁取暖改造{fmt.format_households(planned)}{carry}{cut},"
            f"截至{fmt.format_date(as_of)}实际完成(通气通电){fmt.format_households(done.numerator)}{closed},"
            f"完成率{_rate(done.numerator, done.denominator)}{lowest}。")
    steps = [headline["heating", k] for k in ("confirmed_rate", "tendered_rate", "installed_rate")]
    text += ("确村到户、设备招标、户内改造分别完成"
             f"{_join(fmt.format_households(s.numerator) for s in steps)},"
             f"占计划的{_join(_rate(s.numerator, s.denominator) for s in steps)}。")
    urban = headline["heating", "urban_area_rate"]
    if urban.denominator:
        text += (f"城区清洁取暖计划{fmt.format_area(urban.denominator)},已完成{fmt.format_area(urban.numerator)},"
                 f"完成率{_rate(urban.numerator, urban.denominator)}。")
    funds = headline["heating", "disbursement_rate"]
    if totals["heating.allocated_yuan"]:
        text += (f"已下达补助资金{fmt.format_yuan(totals['heating.allocated_yuan'])},已拨付"
                 f"{fmt.format_yuan(totals['heating.disbursed_yuan'])}")
        if funds.denominator:
            text += (f";通气通电满{SUBSIDY_DUE_DAYS}天应拨付的补助{fmt.format_yuan(funds.denominator)},已拨付"
                     f"{fmt.format_yuan(funds.numerator)},资金拨付率{_rate(funds.numerator, funds.denominator)}")
        text += "。"
    idle = headline["heating", "idle_rate"]
    if idle.denominator:
        text += (f"已通气通电农户中设备闲置{fmt.format_households(idle.numerator)},"
                 f"闲置率{_rate(idle.numerator, idle.denominator)}")
        if idle.gap_pp is not None and not pd.isna(idle.gap_pp) and idle.gap_pp < 0:
            text += f",高于{fmt.format_percent(idle.target)}的控制目标"
        text += "。"
    return text


def _requirements(laggards: list[str], counties: list[str], has_overdue: bool = True,
                  has_retained: bool = True, unit: str = "县区", province: bool = False) -> str:
    """The closing demands, addressed to the laggards (counties or cities, `unit`) or the one
    county, asking only for what applies: overdue supervision items and retained funds when there
    are any. A province store's notice is the department's (省住建厅)."""
    if len(counties) == 1:
        named = counties[0]
    else:
        named = f"{_join(laggards)}等进度滞后{unit}" if laggards and len(laggards) < len(counties) else f"各{unit}"
    asks = [ask for ask, applies in (("对逾期未销号的督办事项限期整改销号", has_overdue),
                                     ("对留置资金尽快拨付到项目", has_retained)) if applies]
    return (f"请{named}认真分析原因,制定整改措施,倒排工期、挂图作战,确保按期完成年度目标任务"
            + (";" + ",".join(asks) if asks else "") + f"。{'省住建厅' if province else '市住建局'}将持续跟踪调度,按周通报进展情况。")
