"""Write the sample county files in data/samples/ from the demo city (run by hand after the
demo or the templates change): one good file per sheet, and a few bad ones as counties really
send them. Every file is checked against the demo store here, so a sample never lies.

    python tools/make_samples.py
"""
import csv
import io
import sys
import tempfile
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from retrofit import db, demo  # noqa: E402
from retrofit.accounts import ADMIN as ADMIN_ROLE, Access  # noqa: E402
from retrofit.demo import DEMO_DATA_DATE  # noqa: E402
from retrofit.intake import templates, validate  # noqa: E402
from retrofit.settings import DEMO_SEED  # noqa: E402

# Connections inside the 2026 task, which closes at the 11-15 connection deadline.
CONNECTED_ON = date(2026, 11, 14)
OUT = Path(__file__).resolve().parent.parent / "data" / "samples"


def _book(content: bytes):
    return load_workbook(io.BytesIO(content))


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _columns(sheet, header_row: int = 3) -> dict[str, int]:
    return {str(c.value).rstrip("*"): c.column for c in sheet[header_row] if c.value}


def heating_good(engine) -> bytes:
    """麟游县's ledger: every household installed by 11-14 connected that day, two new households."""
    book = _book(templates.build_template(engine, ADMIN, "heating", "麟游县", 2026))
    sheet = book["一户一档"]
    col = _columns(sheet)
    last = max(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, 1).value)
    for r in range(4, last + 1):
        installed = sheet.cell(r, col["户内改造日期"]).value
        if installed and installed.date() <= CONNECTED_ON and sheet.cell(r, col["通气通电日期"]).value is None:
            sheet.cell(r, col["通气通电日期"]).value = CONNECTED_ON
    template_row = [sheet.cell(4, c).value for c in range(1, sheet.max_column + 1)]
    for n, phone in enumerate(("13891234567", "15909171234"), 1):
        row = list(template_row)
        row[col["户编码"] - 1] = f"{template_row[col['户编码'] - 1].rsplit('-', 1)[0]}-{9000 + n}"
        row[col["户主姓名"] - 1], row[col["联系电话"] - 1] = ("赵新民", "钱秀英")[n - 1], phone
        row[col["确村到户日期"] - 1], row[col["设备招标日期"] - 1] = date(2026, 10, 8), date(2026, 10, 20)
        row[col["户内改造日期"] - 1] = row[col["通气通电日期"] - 1] = None
        row[col["使用状态"] - 1], row[col["状态变更日期"] - 1] = "正常使用", None
        sheet.append(row)
    return _save(book)


def heating_bad(engine) -> bytes:
    """麟游县's first rows with the mistakes counties make: an unknown village, a subsidy above the
    cost, a connection before installation, a date after the data date, a text amount, a
    duplicate code, a row of 凤县, an unknown route."""
    book = _book(templates.build_template(engine, ADMIN, "heating", "麟游县", 2026))
    sheet = book["一户一档"]
    sheet.delete_rows(24, sheet.max_row)
    col = _columns(sheet)
    sheet.cell(4, col["村"]).value = "幸福村"
    sheet.cell(5, col["补贴金额(元)"]).value = 99_000
    sheet.cell(6, col["通气通电日期"]).value = date(2026, 1, 10)
    sheet.cell(7, col["户内改造日期"]).value = "2026年12月1日"
    sheet.cell(8, col["设备费用(元)"]).value = "八千元"
    sheet.cell(9, col["户编码"]).value = sheet.cell(10, col["户编码"]).value
    sheet.cell(11, col["县(市、区)"]).value = "凤县"
    sheet.cell(12, col["技术路线"]).value = "煤改电"
    return _save(book)


def heating_csv_gbk(engine) -> bytes:
    """A county's own CSV (saved by Excel in GBK): aliases, dates written 2026.3.5, "—" for empty."""
    book = _book(templates.build_template(engine, ADMIN, "heating", "凤县", 2026))
    sheet = book["一户一档"]
    aliases = {"户主姓名": "户主", "通气通电日期": "通气(电)日期", "技术路线": "改造方式"}
    headers = [aliases.get(str(c.value).rstrip("*"), str(c.value).rstrip("*")) for c in sheet[3]]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in sheet.iter_rows(min_row=4, max_row=33, values_only=True):
        writer.writerow(["—" if v is None else f"{v.year}.{v.month}.{v.day}" if isinstance(v, date) else v
                         for v in row])
    return out.getvalue().encode("gbk")


def renovation_good(engine) -> bytes:
    """凤翔区's communities: the ones started get their finish date."""
    book = _book(templates.build_template(engine, ADMIN, "renovation", "凤翔区", 2026))
    sheet = book["小区台账"]
    col = _columns(sheet)
    for r in range(4, sheet.max_row + 1):
        if sheet.cell(r, col["开工实际日期"]).value and not sheet.cell(r, col["完工实际日期"]).value:
            sheet.cell(r, col["完工实际日期"]).value = DEMO_DATA_DATE
    return _save(book)


def renovation_bad(engine) -> bytes:
    """凤翔区's communities with coordinates swapped (latitude first) and a finish before the start."""
    book = _book(templates.build_template(engine, ADMIN, "renovation", "凤翔区", 2026))
    sheet = book["小区台账"]
    col = _columns(sheet)
    lon, lat = sheet.cell(4, col["经度"]).value, sheet.cell(4, col["纬度"]).value
    sheet.cell(4, col["经度"]).value, sheet.cell(4, col["纬度"]).value = lat, lon
    sheet.cell(5, col["完工实际日期"]).value = date(2026, 1, 5)
    return _save(book)


def funds_good(engine) -> bytes:
    """The city's 2026 allocations and payments, with one more allocation for 陇县's heating
    subsidies and a first payment from it."""
    book = _book(templates.build_template(engine, ADMIN, "funds", None, 2026))
    book["资金下达"].append(["宝财农〔2026〕88号", "清洁取暖", "陇县", 2026, "省级补助", 150, date(2026, 11, 18)])
    book["资金拨付"].append(["ZF-610327-LX0088", "宝财农〔2026〕88号", "陇县", None, 60, date(2026, 11, 19)])
    return _save(book)


def funds_bad(engine) -> bytes:
    """凤翔区's payments with one paid before its money arrived and one more than was allocated."""
    book = _book(templates.build_template(engine, ADMIN, "funds", "凤翔区", 2026))
    sheet = book["资金拨付"]
    col = _columns(sheet)
    first = sheet.cell(4, col["下达文号"]).value
    sheet.cell(4, col["拨付日期"]).value = date(2026, 1, 2)
    sheet.append(["ZF-610305-FX9001", first, "凤翔区", sheet.cell(5, col["项目编码"]).value, 99_999, date(2026, 11, 19)])
    return _save(book)


def plans_good(engine) -> bytes:
    """Batches, heating years and the 2026 per-county targets as the store has them."""
    return templates.build_template(engine, ADMIN, "plans", None, 2026)


# Samples are written by the city admin (a clerk may fetch only their own county's template).
ADMIN = Access(who="示例文件", role=ADMIN_ROLE)

SAMPLES = {  # file -> (builder, should be accepted)
    "麟游县_清洁取暖一户一档_2026_正确.xlsx": (heating_good, True),
    "麟游县_清洁取暖一户一档_2026_有错误.xlsx": (heating_bad, False),
    "凤县_清洁取暖_2026_GBK编码.csv": (heating_csv_gbk, True),
    "凤翔区_老旧小区改造小区台账_2026_正确.xlsx": (renovation_good, True),
    "凤翔区_老旧小区改造小区台账_2026_坐标错误.xlsx": (renovation_bad, False),
    "全市_资金下达与拨付_2026_正确.xlsx": (funds_good, True),
    "凤翔区_资金拨付_2026_有错误.xlsx": (funds_bad, False),
    "全市_计划与任务_2026_正确.xlsx": (plans_good, True),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/demo.db")
        demo.build_demo(engine, DEMO_SEED)
        for name, (build, good) in SAMPLES.items():
            content = build(engine)
            result = validate.check_file(engine, content, name)
            assert result.ok == good, (name, result.error_table().head(10).to_string())
            (OUT / name).write_bytes(content)
            print(f"{name}: {len(content) / 1024:.0f} KB, {'可导入' if good else f'{len(result.errors)} 处错误'}")


if __name__ == "__main__":
    main()
