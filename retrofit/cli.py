"""Command line: `python -m retrofit demo | rank | measures | notice | export pack`, a thin layer
over `report`, `notice` and `pack`.

Messages are in Chinese, like the app; a wrong measure, county or date, any store fault (missing,
locked, corrupt, foreign, unreachable, of another schema version) and an output path that cannot
be written exit with status 2 and one line saying what to do, never a traceback.
"""
import argparse
import json
import re
import sys
import time
import unicodedata
from datetime import date
from pathlib import Path

import pandas as pd

from . import accounts, audit, db, demo, files, fmt, history, notice, province, report, store, tables
from .intake import cli as intake_cli
from .measures import find_measure, measure_keys
from .settings import DEMO_SEED, database_url
from .vocab import HEATING, PROGRAMS, RENOVATION, ROLES


class UsageError(Exception):
    """A user mistake: printed as one Chinese line, exit status 2."""


# argparse's own words, in the language of the rest of the tool.
HELP_WORDS = (("usage: ", "用法:"), ("options:", "选项:"), ("positional arguments:", "子命令:"),
              ("show this help message and exit", "显示本帮助并退出"))
ERROR_PATTERNS = (
    (r"the following arguments are required: (.*)", r"缺少必需参数:\1"),
    (r"argument (\S+): invalid choice: (\S+) \(choose from (.*)\)", r"参数 \1 的取值 \2 无效,可选:\3"),
    (r"argument (\S+): invalid int value: (\S+)", r"参数 \1 应为整数,收到 \2"),
    (r"argument (\S+): expected one argument", r"参数 \1 缺少取值"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数:\1"),
    (r"argument (\S+): (.*)", r"参数 \1:\2"),
)


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse with its help headings and error messages in Chinese."""

    def format_help(self) -> str:
        return _replace_words(super().format_help())

    def format_usage(self) -> str:
        return _replace_words(super().format_usage())

    def error(self, message: str):
        for pattern, chinese in ERROR_PATTERNS:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, chinese, message)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"错误:{message}\n")


def _replace_words(text: str) -> str:
    for english, chinese in HELP_WORDS:
        text = text.replace(english, chinese)
    return text


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式不正确,应为 YYYY-MM-DD,例如 2026-11-20") from None


def _measure_help(program: str) -> str:
    return "、".join(f"{m}({find_measure(program, m).label})" for m in measure_keys(program))


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="python -m retrofit", description="老旧小区改造与清洁取暖调度:演示库、排名、指标、通报与会议材料",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="可用指标(rank --measure):\n  renovation: " + _measure_help(RENOVATION) + "\n  heating: "
               + _measure_help(HEATING) + "\n\n各子命令的参数:python -m retrofit <子命令> --help")
    commands = parser.add_subparsers(dest="command", required=True)

    demo_cmd = commands.add_parser("demo", help="(重新)生成演示数据库", description=(
        "在 $RETROFIT_DB_URL(默认 data/retrofit.db)重建宝鸡市演示数据(演示数据,非真实统计);"
        "--scale province 生成陕西省全省演示数据(107 个县区、约 3 万个小区、约 300 万户,需数分钟)。"
        "只写入不存在、完全为空的库或原有的演示库;不会删除不属于本系统的表。"))
    demo_cmd.add_argument("--seed", type=int, default=DEMO_SEED, help=f"随机种子(默认 {DEMO_SEED})")
    demo_cmd.add_argument("--force", action="store_true",
                          help="替换本系统建立的非演示库(其中数据将被演示数据取代)")
    commands.add_parser("migrate", help="升级数据库表结构(先备份)", description=(
        "把本系统旧版本(表结构版本 1)建立的库升级到当前版本:只增加表和列(市、县区所属市),不改动已有数据。"))
    demo_cmd.add_argument("--scale", choices=("city", "province"), default="city",
                          help="city:宝鸡市(默认);province:陕西省全省")
    demo_cmd.add_argument("--households", type=int, default=province.FULL.households,
                          help=f"全省演示的清洁取暖户数(约数,默认 {province.FULL.households:,})")
    demo_cmd.add_argument("--communities", type=int, default=province.FULL.communities,
                          help=f"全省演示的改造小区数(约数,默认 {province.FULL.communities:,})")

    def add_scope(cmd):
        cmd.add_argument("--as-of", type=parse_date, help="数据截至日期(默认:库中最新数据日期)")
        cmd.add_argument("--year", type=int, help="年度计划/批次(默认:截至日期所在年份)")
        cmd.add_argument("--format", choices=("json", "csv", "table"), default="table")
        cmd.add_argument("--as-reported", action="store_true",
                         help="按截至日期当天已报送的数据(撤回此后记录的导入与更正);默认按现有数据")
        add_level(cmd)

    def add_level(cmd):
        cmd.add_argument("--level", choices=(report.COUNTY_LEVEL, report.CITY_LEVEL), default=report.COUNTY_LEVEL,
                         help="排名对象:county 县区(默认),city 各市(全省库)")
        cmd.add_argument("--city", help="市名称,如 西安市:只排该市所辖县区(全省库)")

    rank_cmd = commands.add_parser(
        "rank", help="县区排名", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="按指标对县区排名(并列同名次,如 1、2、2、4),并与上期比较名次变化。",
        epilog="可用指标:\n  renovation: " + _measure_help(RENOVATION) + "\n  heating: " + _measure_help(HEATING))
    rank_cmd.add_argument("--program", choices=tuple(PROGRAMS), required=True)
    rank_cmd.add_argument("--measure", required=True, help="指标名称,见下方列表")
    rank_cmd.add_argument("--previous", type=parse_date, help="上期日期(默认:截至日期前最近一次调度)")
    add_scope(rank_cmd)

    measures_cmd = commands.add_parser(
        "measures", help="全市或单个县区的主要指标", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="全市(或 --county 指定县区)两项工作的主要指标。",
        epilog="可用指标:\n  renovation: " + _measure_help(RENOVATION) + "\n  heating: " + _measure_help(HEATING))
    measures_cmd.add_argument("--county", action="append", help="县区名称,如 陇县;可重复以合计多个县区")
    add_scope(measures_cmd)

    def add_report(cmd):
        cmd.add_argument("--as-of", type=parse_date, help="数据截至日期(默认:库中最新数据日期)")
        cmd.add_argument("--year", type=int, help="年度计划/批次(默认:截至日期所在年份)")
        cmd.add_argument("--previous", type=parse_date, help="上期日期,用于名次变化(默认:截至日期前最近一次调度)")
        cmd.add_argument("--as-reported", action="store_true",
                         help="按截至日期当天已报送的数据(撤回此后记录的导入与更正);默认按现有数据")
        add_level(cmd)

    notice_cmd = commands.add_parser("notice", help="进度通报文字", description=(
        "按数据生成进度通报(全市计划与完成、落后县区、资金留置、前期手续与实施方案、时间进度、名次变化、督办事项)。"))
    add_report(notice_cmd)
    notice_cmd.add_argument("--program", choices=tuple(PROGRAMS), help="只通报一项工作(默认:两项)")

    export_cmd = commands.add_parser("export", help="导出会议材料")
    exports_ = export_cmd.add_subparsers(dest="export", required=True)
    pack_cmd = exports_.add_parser("pack", help="会议材料(PPTX 幻灯片 / DOCX 公文 / PDF)", description=(
        "一次生成会议材料:--out 以 .pptx 结尾为幻灯片(可编辑图表、地图、通报),以 .docx 或 .pdf 结尾为通报公文(附排名表)。"))
    add_report(pack_cmd)
    pack_cmd.add_argument("--out", required=True, help="输出文件,以 .pptx、.docx 或 .pdf 结尾")

    publish_cmd = commands.add_parser("publish", help="发布通报(冻结数字、通报与会议材料)", description=(
        "发布截至某日的全市通报:各项指标的县区数字与名次、通报全文和会议材料(PPTX/DOCX/PDF/XLSX)存入库中,"
        "此后不再改动;下一期的“较上期”默认与已发布的通报比较。同一日期只能有一份在用的通报,重新发布须先撤回。"))
    publish_cmd.add_argument("--as-of", type=parse_date, help="数据截至日期(默认:库中最新数据日期)")
    publish_cmd.add_argument("--previous", type=parse_date, help="上期日期(默认:此前最近一次发布或调度)")
    publish_cmd.add_argument("--by", required=True, help="发布人")
    publish_cmd.add_argument("--no-files", action="store_true", help="只冻结数字与通报文字,不生成会议材料文件")
    withdraw_cmd = commands.add_parser("withdraw", help="撤回已发布的通报(注明理由,记录保留)")
    withdraw_cmd.add_argument("--as-of", type=parse_date, required=True, help="通报的数据截至日期")
    withdraw_cmd.add_argument("--by", required=True, help="撤回人")
    withdraw_cmd.add_argument("--reason", required=True, help="撤回理由")
    commands.add_parser("published", help="列出发布记录(含已撤回的通报)")
    intake_cli.add_commands(commands, parse_date)
    add_user_commands(commands)
    return parser


def add_user_commands(commands) -> None:
    """`user add|disable|enable|reset|list`: shell access to the server is server administration,
    so these need no sign-in; each change is audited as 命令行:<os user>."""
    user = commands.add_parser("user", help="账号管理(新建、停用、重置密码、列出)")
    users = user.add_subparsers(dest="user_command", required=True)
    add = users.add_parser("add", help="新建账号(打印一次性密码,首次登录须修改)")
    add.add_argument("login", help="账号名,如 linyou")
    add.add_argument("--name", help="姓名或单位(默认同账号名)")
    add.add_argument("--role", required=True, choices=tuple(ROLES),
                     help="；".join(f"{k}={v}" for k, v in ROLES.items()))
    add.add_argument("--county", help="县区填报员所属县区,如 麟游县")
    for name, text in (("disable", "停用账号(立即退出登录)"), ("enable", "重新启用账号"),
                       ("reset", "重置密码(打印新的一次性密码,并解除锁定)")):
        users.add_parser(name, help=text).add_argument("login", help="账号名")
    users.add_parser("list", help="列出账号")


def run_user(engine, args) -> str:
    by = accounts.cli_access()
    try:
        if args.user_command == "add":
            password = accounts.add_account(engine, by, args.login, args.name, args.role, args.county)
            return f"已新建账号 {args.login}({ROLES[args.role]}),一次性密码:{password}\n首次登录须修改密码。"
        if args.user_command in ("disable", "enable"):
            accounts.set_disabled(engine, by, args.login, args.user_command == "disable")
            return f"已{'停用' if args.user_command == 'disable' else '启用'}账号 {args.login}"
        if args.user_command == "reset":
            password = accounts.reset_password(engine, by, args.login)
            return f"已重置账号 {args.login} 的密码并解除锁定,一次性密码:{password}\n下次登录须修改密码。"
    except accounts.AccessRefused as refused:
        raise UsageError(str(refused)) from None
    return render_text_table(accounts.load_accounts(engine))


def open_store():
    """The engine at $RETROFIT_DB_URL, filled with the demo city first if it is empty (or an old
    demo store); StoreFault for a store that cannot be read as it is."""
    engine = db.make_engine(database_url())
    note = demo.ensure_store(engine)
    if note:
        print(f"提示:{note}({store.describe_store(database_url())})", file=sys.stderr)
    return engine


def resolve_scope(engine, args, county_names: list[str] | None = None,
                  programs: tuple[str, ...] = tuple(PROGRAMS)) -> report.Scope:
    """The scope the arguments ask for; UsageError (exit 2) for a date after the data, a year
    without a plan for any of `programs`, or an unknown county."""
    data_date = db.load_data_date(engine)
    as_of = args.as_of or data_date
    if as_of > data_date:
        raise UsageError(f"截至日期 {as_of} 晚于库中最新数据日期 {data_date},无法统计")
    year = args.year or as_of.year
    planned = {p: report.queries.load_years(engine, p) for p in programs}
    if not any(year in years for years in planned.values()):
        choices = ";".join(f"{PROGRAMS[p]} {years[0]}–{years[-1]}" for p, years in planned.items() if years)
        raise UsageError(f"{year}年度没有{'或'.join(PROGRAMS[p] for p in programs)}计划。可选年度:{choices}")
    known = report.queries.load_counties(engine)
    unknown = [name for name in county_names or [] if name not in set(known["county"])]
    if unknown:
        raise UsageError(f"未找到县区“{'、'.join(unknown)}”。可选:{'、'.join(known['county'])}")
    counties = tuple(known.loc[known["county"].isin(county_names or []), "adcode"])
    level, city = getattr(args, "level", report.COUNTY_LEVEL), getattr(args, "city", None) or ""
    cities = report.queries.load_cities(engine)
    if city:
        if city not in set(cities["city"]):
            raise UsageError(f"未找到市“{city}”。可选:{'、'.join(cities['city']) or '(本库未设市)'}")
        city = cities.loc[cities["city"] == city, "adcode"].iloc[0]
    if level == report.CITY_LEVEL and len(cities) < 2:
        raise UsageError("本库只有一个市,无法按市排名;请去掉 --level city")
    return report.build_scope(engine, as_of, args.year, counties, city, level)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_text_table(frame: pd.DataFrame) -> str:
    """A plain table that lines up in a terminal even with Chinese (double-width) text."""
    cells = [list(map(str, frame.columns))] + [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(_display_width(row[i]) for row in cells) for i in range(len(frame.columns))]
    lines = ["  ".join(c + " " * (w - _display_width(c)) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines[:1] + ["  ".join("-" * w for w in widths)] + lines[1:])


def _plain(value):
    """JSON-safe: pandas NA/NaN -> None, numpy scalars -> Python."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _read(engine, args, scope: report.Scope, function, *rest):
    """`function(engine, *rest)` as of the date, or as reported on it with --as-reported."""
    if getattr(args, "as_reported", False):
        return history.compute_as_reported(engine, scope.as_of, function, *rest)
    return function(engine, *rest)


def run_rank(engine, args) -> str:
    try:
        measure = find_measure(args.program, args.measure)
    except KeyError:
        raise UsageError(f"未知指标“{args.measure}”({PROGRAMS[args.program]})。可选:"
                         f"{_measure_help(args.program)}") from None
    scope = resolve_scope(engine, args, programs=(args.program,))
    previous = resolve_previous(engine, args, scope)
    table = _read(engine, args, scope, report.rank_measure, args.program, args.measure, scope, previous)
    columns = ["rank", "county", "adcode", "value", "numerator", "denominator", "target", "gap_pp",
               "flag", "previous_rank", "rank_change"]
    if args.format == "json":
        return json.dumps([{c: _plain(row[c]) for c in columns} for _, row in table.iterrows()],
                          ensure_ascii=False, indent=1)
    if args.format == "csv":
        return build_csv_text(table[columns])
    shown = tables.build_ranking_table(table, measure.label, measure.unit, measure.done_label, measure.base_label)
    title = (f"{PROGRAMS[args.program]} · {measure.label}({measure.description})  "
             f"截至 {fmt.format_date(scope.as_of)},上期 {fmt.format_date(previous)}")
    return title + "\n" + render_text_table(shown)


def resolve_previous(engine, args, scope: report.Scope):
    previous = args.previous or report.previous_report_date(engine, scope.as_of)
    if previous is not None and previous >= scope.as_of:
        raise UsageError(f"上期日期 {previous} 应早于截至日期 {scope.as_of}")
    return previous


def run_notice(engine, args) -> str:
    programs = (args.program,) if args.program else tuple(PROGRAMS)
    scope = resolve_scope(engine, args, programs=programs)
    return _read(engine, args, scope, notice.build_notice, scope, resolve_previous(engine, args, scope), programs).text


def build_csv_text(frame: pd.DataFrame) -> str:
    """CSV for a spreadsheet: stored text that would start a formula is quoted (exports)."""
    from . import exports

    return exports.build_csv_text(frame)


def check_pack_path(path: str) -> str:
    """The pack's format from the file name; a UsageError (exit 2) for any other suffix, a
    folder that does not exist or cannot be written, a path that is a folder (checked before
    minutes of work, not after)."""
    from . import pack  # imported here: python-pptx, python-docx and kaleido load only for exports

    try:
        kind = pack.pack_kind(path)
        files.check_output_path(path)
    except (pack.PackError, files.OutputPathError) as error:
        raise UsageError(str(error)) from None
    return kind


def run_export_pack(engine, args) -> str:
    from . import exports, pack

    kind = check_pack_path(args.out)
    scope = resolve_scope(engine, args)
    previous = resolve_previous(engine, args, scope)
    start = time.perf_counter()
    try:
        content = _read(engine, args, scope, pack.build_pack, scope, previous, kind)
    except exports.ExportUnavailable as error:
        raise UsageError(str(error)) from None
    try:
        files.write_atomically(args.out, content)
    except OSError as error:
        raise UsageError(f"写入“{args.out}”失败({error.strerror or error}),原有文件未改动;"
                         f"请检查磁盘空间与写权限后重试") from None
    audit.record(engine, accounts.cli_access().who, accounts.CLI_SOURCE, audit.EXPORT,
                 f"会议材料 {Path(args.out).name}(数据截至 {scope.as_of.isoformat()})")
    return (f"会议材料已生成:{args.out}({kind.upper()},{len(content) / 1024:,.0f} KB,"
            f"用时 {time.perf_counter() - start:.1f} 秒;数据截至 {fmt.format_date(scope.as_of)})")


def run_publish(engine, args) -> str:
    from . import publish

    as_of = args.as_of or db.load_data_date(engine)
    previous = args.previous or report.previous_report_date(engine, as_of)
    start = time.perf_counter()
    try:
        report_id = publish.publish_report(engine, as_of, previous, accounts.cli_access(args.by),
                                           with_files=not args.no_files)
    except publish.PublishError as error:
        raise UsageError(str(error)) from None
    files = report.queries.load_published_files(engine, report_id)
    return (f"已发布 {fmt.format_date(as_of)} 的通报(编号 {report_id},发布人 {args.by},对比上期 "
            f"{fmt.format_date(previous)},用时 {time.perf_counter() - start:.1f} 秒):"
            + ("、".join(files["name"]) if len(files) else "未生成文件"))


def run_withdraw(engine, args) -> str:
    from . import publish

    try:
        report_id = publish.withdraw_report(engine, args.as_of, accounts.cli_access(args.by), args.reason)
    except publish.PublishError as error:
        raise UsageError(str(error)) from None
    return f"已撤回 {fmt.format_date(args.as_of)} 的通报(编号 {report_id}),理由:{args.reason}"


def run_published(engine, args) -> str:
    listed = report.queries.load_published_reports(engine)
    if listed.empty:
        return "尚无发布记录"
    return render_text_table(tables.build_published_table(listed))


def run_measures(engine, args) -> str:
    scope = resolve_scope(engine, args, args.county)
    place = "、".join(args.county) if args.county else report.CITY
    headline = _read(engine, args, scope, report.compute_headline, scope)
    if args.format == "json":
        return json.dumps({"as_of": scope.as_of.isoformat(), "year": scope.plan_year,
                           "county": place, "is_demo": db.load_is_demo(engine),
                           "measures": [{k: _plain(v) for k, v in row.items()} for _, row in headline.iterrows()]},
                          ensure_ascii=False, indent=1)
    if args.format == "csv":
        return build_csv_text(headline)
    shown = tables.build_headline_table(headline)
    demo_mark = "(演示数据)" if db.load_is_demo(engine) else ""
    title = f"{place} {scope.plan_year}年度 截至 {fmt.format_date(scope.as_of)}{demo_mark}"
    return title + "\n" + render_text_table(shown)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            engine = db.make_engine(database_url())
            if args.scale == "province":
                size = province.ProvinceSize(households=args.households, communities=args.communities)
                counts = province.build_province_demo(engine, args.seed, force=args.force, size=size,
                                                      by=accounts.cli_access())
                seconds = counts.pop("seconds")
                print(f"全省演示数据已生成({store.describe_store(database_url())},种子 {args.seed},"
                      f"用时 {seconds:.1f} 秒):" + ",".join(f"{k} {v:,}" for k, v in counts.items()))
                return 0
            counts = demo.build_demo(engine, args.seed, force=args.force, by=accounts.cli_access())
            print(f"演示数据已生成({store.describe_store(database_url())},种子 {args.seed}):" +
                  ",".join(f"{k} {v:,}" for k, v in counts.items()))
            return 0
        if args.command == "migrate":
            found = store.migrate(db.make_engine(database_url()))
            print(f"表结构版本 {found} → {db.SCHEMA_VERSION}({store.describe_store(database_url())})"
                  if found != db.SCHEMA_VERSION else f"已是当前版本 {db.SCHEMA_VERSION},无需升级")
            return 0
        if args.command in intake_cli.INTAKE_COMMANDS:
            status, output = intake_cli.run(args, UsageError, render_text_table)
            sys.stdout.write(output + "\n")
            return status
        if args.command == "export":
            check_pack_path(args.out)  # before the store is opened (or the demo built)
        engine = open_store()
        run = {"rank": run_rank, "measures": run_measures, "notice": run_notice, "export": run_export_pack,
               "publish": run_publish, "withdraw": run_withdraw, "published": run_published,
               "user": run_user}
        output = run[args.command](engine, args)
    except UsageError as error:
        print(f"错误:{error}", file=sys.stderr)
        return 2
    except store.STORE_ERRORS as error:
        print(f"错误:{store.describe_error(error, database_url())}", file=sys.stderr)
        return 2
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return 0
