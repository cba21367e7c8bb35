"""The intake subcommands of `python -m retrofit`: template, import, undo, imports, city init.
Output and errors in Chinese; a refused file exits with status 1 and changes nothing."""
from pathlib import Path

from .. import db
from ..accounts import cli_access
from ..settings import database_url
from .sheets import PROGRAM_LABELS, PROGRAM_SHEETS

PREVIEW_LINES = 30


def add_commands(commands, parse_date) -> None:
    template = commands.add_parser("template", help="下载数据填报模板(XLSX)", description=(
        "生成某县区某年度的填报模板:预填库中现有数据,表头冻结并带单位,可选值有下拉列表。"))
    template.add_argument("--program", choices=tuple(PROGRAM_SHEETS), required=True,
                          help="；".join(f"{k}={v}" for k, v in PROGRAM_LABELS.items()))
    template.add_argument("--county", help="县区名称,如 陇县(资金、计划类可省略,表示全市)")
    template.add_argument("--year", type=int, required=True, help="年度计划/批次")
    template.add_argument("--out", required=True, help="输出文件(.xlsx)")

    imp = commands.add_parser("import", help="导入县区填报文件(先校验,可只预览)", description=(
        "校验并导入 .xlsx/.xls/.csv 文件:有错误时列出每个错误(工作表、行、列、填写值、问题)且不导入;"
        "无错误时显示新增/修改的行和对指标的影响,然后在一个事务中导入。"))
    imp.add_argument("file", help="要导入的文件")
    imp.add_argument("--dry-run", action="store_true", help="只校验和预览,不写入")
    imp.add_argument("--county", help="文件所属县区(默认:模板中的县区,或表中多数行的县区)")
    imp.add_argument("--data-date", type=parse_date, help="数据截至日期(默认:库中最新数据日期)")
    imp.add_argument("--who", help="导入人姓名(与操作系统用户一起记入导入记录和操作日志)")
    imp.add_argument("--marked", help="有错误时,把标红批注后的文件写到这里(.xlsx)")

    commands.add_parser("imports", help="导入记录", description="列出所有导入(最新在前)。")
    undo = commands.add_parser("undo", help="撤销一次导入", description="恢复该次导入替换的值,删除它新增的行。")
    undo.add_argument("import_id", type=int, help="导入记录编号(见 imports)")
    undo.add_argument("--who", help="撤销人姓名(与操作系统用户一起记入操作日志)")

    city = commands.add_parser("city", help="设立城市")
    cities = city.add_subparsers(dest="city_command", required=True)
    init = cities.add_parser("init", help="从边界文件建立一个空的城市库(只写入空库或演示库;替换已有真实数据须加 --force)", description=(
        "读取县区边界(GeoJSON、压缩的 Shapefile 或 GeoPackage),转换为 WGS84 并无缝简化,"
        "按6位区划代码和名称建立县区;边界存入库中,地图中心和缩放由边界得出。"))
    init.add_argument("--name", required=True, help="城市名称,如 榆林市")
    init.add_argument("--boundaries", required=True, help="边界文件")
    init.add_argument("--data-date", type=parse_date, help="数据截至日期(默认:今天)")
    init.add_argument("--force", action="store_true", help="替换本系统已有的非演示库(其中数据将清空;账号与操作日志保留)")
    bounds = cities.add_parser("boundaries", help="为现有县区换上边界文件(按区划代码或名称匹配)", description=(
        "不清空数据,只替换库中的县区边界;文件缺少或多出的县区会逐一列出。"))
    bounds.add_argument("file", help="边界文件")


INTAKE_COMMANDS = ("template", "import", "imports", "undo", "city")


def run(args, usage_error, render_table) -> tuple[int, str]:
    """(exit status, output) for an intake subcommand."""
    from ..demo import ensure_store
    from . import city, commit, markup, templates, validate

    engine = db.make_engine(database_url())
    if args.command == "city":
        path = Path(args.boundaries if args.city_command == "init" else args.file)
        if not path.is_file():
            raise usage_error(f"边界文件“{path}”不存在")
        try:
            if args.city_command == "boundaries":
                ensure_store(engine)
                commit.ensure_intake_tables(engine)
                counties = city.attach_boundaries(engine, path.read_bytes(), path.name)
                return 0, f"已更新 {len(counties)} 个县区的边界({database_url()})"
            counties = city.init_city(engine, args.name, path.read_bytes(), path.name, args.data_date, args.force,
                                      by=cli_access())
        except city.CityError as error:
            raise usage_error(str(error)) from None
        return 0, (f"已建立{args.name}({database_url()}):{len(counties)} 个县区 "
                   + "、".join(f"{c.name}({c.adcode})" for c in counties)
                   + "\n下一步:python -m retrofit template --program plans --year 年度 --out 计划.xlsx")
    ensure_store(engine)
    commit.ensure_intake_tables(engine)
    if args.command == "template":
        if not Path(args.out).resolve().parent.is_dir():
            raise usage_error(f"输出文件夹“{Path(args.out).parent}”不存在")
        try:
            content = templates.build_template(engine, cli_access(), args.program, args.county, args.year)
        except templates.TemplateError as error:
            raise usage_error(str(error)) from None
        Path(args.out).write_bytes(content)
        return 0, f"模板已生成:{args.out}({PROGRAM_LABELS[args.program]},{args.county or '全市'} {args.year}年度)"
    if args.command == "imports":
        return 0, render_table(commit.load_imports(engine, cli_access()))
    if args.command == "undo":
        try:
            counts = commit.undo_import(engine, args.import_id, cli_access(args.who))
        except commit.ImportRefused as error:
            raise usage_error(str(error)) from None
        return 0, f"已撤销第 {args.import_id} 次导入:恢复 {counts['restored']} 行,删除 {counts['deleted']} 行"
    path = Path(args.file)
    if not path.is_file():
        raise usage_error(f"文件“{path}”不存在")
    content = path.read_bytes()
    result = validate.check_file(engine, content, path.name, args.data_date, args.county)
    if not result.ok:
        lines = [f"“{path.name}”有 {len(result.errors)} 处错误,未导入任何数据:",
                 render_table(result.error_table().astype(object).fillna(""))]
        if args.marked:
            marked = markup.build_marked_file(content, result)
            if marked is not None:
                Path(args.marked).write_bytes(marked)
                lines.append(f"标红批注后的文件:{args.marked}")
        return 1, "\n".join(lines)
    preview = commit.build_preview(engine, result, cli_access(args.who))
    text = render_preview(preview, render_table)
    if args.dry_run:
        return 0, text + "\n(预览,未写入)"
    log_id = commit.commit_import(engine, result, cli_access(args.who))
    return 0, text + f"\n已导入,导入记录编号 {log_id}(撤销:python -m retrofit undo {log_id})"


def render_preview(preview, render_table) -> str:
    counts = preview.counts
    lines = [f"新增 {counts['inserted']:,} 行,修改 {counts['updated']:,} 行,未变 {counts['unchanged']:,} 行"]
    if len(preview.changes):
        lines += ["修改的字段:", render_table(preview.changes.head(PREVIEW_LINES))]
        if len(preview.changes) > PREVIEW_LINES:
            lines.append(f"……共 {len(preview.changes):,} 处修改")
    if len(preview.new_rows):
        lines += ["新增的行:", render_table(preview.new_rows.head(PREVIEW_LINES))]
    if len(preview.effect):
        lines += ["对指标的影响:", render_table(preview.effect)]
    return "\n".join(lines)
