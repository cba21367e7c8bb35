"""Reading what counties actually send: .xlsx (python-calamine: fast, formula cells give their
cached values), .xls, and CSV in UTF-8 or GBK, into plain cells with their Excel row numbers.

Headers may sit below title rows and in merged cells; a header is recognised by its name or an
alias, with spaces, units in brackets and full-width characters ignored. Cells are cleaned the
same way everywhere: full-width digits made half-width, spaces trimmed, "—" or "/" read as empty.
Anything that is not a readable spreadsheet is refused with one Chinese sentence.
"""
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache

import python_calamine

from .sheets import (ID_NUMBER_HEADERS, INSTRUCTIONS_SHEET, LISTS_SHEET, META_SHEET, SHEETS, SheetSpec,
                     normalise_header)

MAX_FILE_BYTES = 30 * 1024 * 1024   # a county's ledger is a few MB; 100,000 households ≈ 8 MB
HEADER_SEARCH_ROWS = 30             # headers are looked for in the first rows only
_PLAIN_TYPES = (int, date, datetime)   # cells clean_cell would return as they are
EMPTY_MARKS = {"", "—", "——", "-", "--", "–", "/", "\\", "无", "空"}
ZIP_MAGIC, OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileRefused(Exception):
    """The file as a whole cannot be read: the message says why, in Chinese."""


@dataclass
class RawSheet:
    """One worksheet's cells below its header: `rows` are (Excel row number, cells)."""
    name: str
    spec: SheetSpec
    header_row: int                              # Excel row number of the header
    columns: dict[str, tuple[int, str]]          # field column -> (0-based column index, header as written)
    rows: list[tuple[int, list]]
    hidden_rows: set[int] = field(default_factory=set)
    repeated_headers: list[int] = field(default_factory=list)
    id_number_column: tuple[int, str] | None = None
    missing: list[str] = field(default_factory=list)   # required headers not found


@dataclass
class RawBook:
    file_name: str
    kind: str                                    # xlsx / xls / csv
    sheet_names: list[str]
    sheets: list[RawSheet]
    meta: dict[str, str]                         # from the template's hidden info sheet


def clean_cell(value):
    """A cell as a value: strings NFKC-normalised (full-width digits and brackets to half-width),
    trimmed, empty marks to None; numbers and dates untouched."""
    if value is None or value == "":
        return None
    if type(value) is str:
        return _clean_text(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


@lru_cache(maxsize=1 << 16)
def _clean_text(value: str) -> str | None:
    """Cached: a county's file repeats its villages, routes and names in every row."""
    text = unicodedata.normalize("NFKC", value).strip()
    return None if text in EMPTY_MARKS else text


def clean_row(row: list) -> list:
    """Every cell of a row cleaned; numbers and dates (most cells of a large file) pass untouched
    without a call."""
    return [c if type(c) in _PLAIN_TYPES or (type(c) is float and c == c) else clean_cell(c) for c in row]


def detect_kind(content: bytes, file_name: str) -> str:
    """xlsx / xls / csv from the bytes (not the name alone); FileRefused for anything else."""
    if not content:
        raise FileRefused("文件是空的(0 字节),请重新选择文件")
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(f"文件大小 {len(content) / 1024 / 1024:.1f} MB,超过上限 "
                          f"{MAX_FILE_BYTES // 1024 // 1024} MB;请按县区分别导入,或删除无关的工作表和图片")
    if content.startswith(OLE_MAGIC):
        if _is_encrypted(content):
            raise FileRefused("文件已加密(设有打开密码),无法读取;请在 Excel 中取消密码后另存再导入")
        return "xls"
    if content.startswith(ZIP_MAGIC):
        return "xlsx"
    if file_name.lower().endswith((".csv", ".txt")) and _decode_text(content) is not None:
        return "csv"
    raise FileRefused(f"“{file_name}”不是 Excel(.xlsx/.xls)或 CSV 文件,无法读取;请用模板填写后另存为 .xlsx")


def _is_encrypted(content: bytes) -> bool:
    import msoffcrypto

    try:
        return msoffcrypto.OfficeFile(io.BytesIO(content)).is_encrypted()
    except Exception:  # not an Office container msoffcrypto knows: leave it to the reader
        return False


def _decode_text(content: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


@dataclass
class Grid:
    """A sheet's first rows (merged header cells filled in) and an iterator over the rest, so a
    100,000-row sheet is never held twice in memory."""
    head: list[list]
    rest: object

    def rows(self):
        yield from self.head
        yield from self.rest

    def materialise(self) -> list[list]:
        self.head, self.rest = list(self.rows()), iter(())
        return self.head


def load_grids(content: bytes, file_name: str) -> tuple[str, dict[str, Grid], dict[str, set[int]], list[str]]:
    """(kind, sheet name -> cells from A1, sheet name -> hidden Excel rows, visible sheets)."""
    kind = detect_kind(content, file_name)
    if kind == "csv":
        rows = csv.reader(io.StringIO(_decode_text(content)))
        head = [row for _, row in zip(range(HEADER_SEARCH_ROWS), rows)]
        return kind, {"CSV": Grid(head, rows)}, {}, ["CSV"]
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    except Exception:
        raise FileRefused(f"“{file_name}”已损坏或不是 Excel 文件,无法打开;请在 Excel 中打开确认后另存为 .xlsx") from None
    grids, visible = {}, []
    for meta in book.sheets_metadata:
        try:
            grids[meta.name] = _sheet_grid(book.get_sheet_by_name(meta.name))
        except Exception:
            continue  # chart sheets and the like hold no cells
        if str(meta.visible).endswith("Visible") and meta.name not in (META_SHEET, LISTS_SHEET):
            visible.append(meta.name)
    hidden = _hidden_rows(content) if kind == "xlsx" else {}
    return kind, grids, hidden, visible


def _sheet_grid(sheet) -> Grid:
    # calamine's rows start at row 1 but at the first used column: pad them back to column A.
    pad = [""] * (sheet.start[1] if sheet.start else 0)
    rows = (pad + row for row in sheet.iter_rows()) if pad else iter(sheet.iter_rows())
    head = [row for _, row in zip(range(HEADER_SEARCH_ROWS), rows)]
    # A merged header cell holds its text in the top-left cell only: copy it over the range, so
    # a header merged down two rows (or a group label over several columns) is found.
    for (top, left), (bottom, right) in sheet.merged_cell_ranges or []:
        if top >= len(head):
            continue
        value = head[top][left]
        for r in range(top, min(bottom, len(head) - 1) + 1):
            for c in range(left, min(right, len(head[r]) - 1) + 1):
                head[r][c] = value
    return Grid(head, rows)


_SHEET_ENTRY = re.compile(rb'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL_ENTRY = re.compile(rb'<Relationship [^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"|'
                        rb'<Relationship [^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')
_HIDDEN_ROW = re.compile(rb'<row [^>]*?r="(\d+)"[^>]*?hidden="(?:1|true)"|<row [^>]*?hidden="(?:1|true)"[^>]*?r="(\d+)"')


def _hidden_rows(content: bytes) -> dict[str, set[int]]:
    """Sheet name -> Excel rows the user hid (calamine does not report row visibility; the
    worksheet XML does)."""
    import html

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            rels = {}
            for m in _REL_ENTRY.finditer(archive.read("xl/_rels/workbook.xml.rels")):
                rid, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                rels[rid] = target.decode().lstrip("/").removeprefix("xl/")
            found = {}
            for m in _SHEET_ENTRY.finditer(archive.read("xl/workbook.xml")):
                target = rels.get(m.group(2))
                if target is None:
                    continue
                xml = archive.read(f"xl/{target}")
                if b'hidden="' not in xml:
                    continue
                rows = {int(h.group(1) or h.group(2)) for h in _HIDDEN_ROW.finditer(xml)}
                if rows:
                    found[html.unescape(m.group(1).decode())] = rows
            return found
    except (KeyError, zipfile.BadZipFile):
        return {}


def _header_names(row: list) -> list[str]:
    return [normalise_header(c) if isinstance(c, str) else "" for c in row]


def _match(spec: SheetSpec, names: list[str]) -> dict[str, tuple[int, str]]:
    found = {}
    for f in spec.fields:
        for i, name in enumerate(names):
            if name and name in f.names and f.column not in found:
                found[f.column] = (i, name)
                break
    return found


def _repeats_header(spec: SheetSpec, row: list, cells: list, first_index: int, header_set: set) -> bool:
    """A row below the header that repeats most of it (two tables pasted one under the other).
    Only rows whose (cleaned) key cell reads like the key header are examined in full (speed): a
    code's first character is seldom a header's, so most rows stop at one set lookup."""
    first = cells[first_index] if first_index < len(cells) else None
    if not isinstance(first, str) or first.lstrip("*※ ")[:1] not in _first_characters(spec.fields[0].names):
        return False
    if normalise_header(first) not in spec.fields[0].names:
        return False
    return len(set(_match(spec, _header_names(row)).values()) & header_set) > len(header_set) // 2


@cache
def _first_characters(names: tuple[str, ...]) -> frozenset:
    return frozenset(name[:1] for name in names)


def find_header(grid: list[list], specs=SHEETS) -> tuple[SheetSpec, int, dict] | None:
    """(spec, 0-based header row, field -> (column index, header)) of the best-matching header
    row in the first rows, or None when no row names at least three of a sheet's columns."""
    best = None
    for r, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        names = _header_names(row)
        for spec in specs:
            found = _match(spec, names)
            if len(found) >= 3 and (best is None or len(found) > len(best[2])):
                best = (spec, r, found)
    return best


def read_book(content: bytes, file_name: str, specs=SHEETS) -> RawBook:
    """Every sheet of the file that one of `specs` recognises, its cells below the header."""
    kind, grids, hidden, visible = load_grids(content, file_name)
    meta = {}
    for row in grids[META_SHEET].rows() if META_SHEET in grids else []:
        if len(row) >= 2 and isinstance(row[0], str):
            meta[row[0].strip()] = str(clean_cell(row[1]) or "")
    sheets = []
    for name in visible:
        if name == INSTRUCTIONS_SHEET:
            continue
        grid = grids[name].head
        located = find_header(grid, specs)
        if located is None:
            continue
        spec, header, found = located
        raw_names = [str(clean_cell(c) or "") if isinstance(c, str) else "" for c in grid[header]]
        columns = {col: (i, raw_names[i]) for col, (i, _) in found.items()}
        id_column = next(((i, raw_names[i]) for i, n in enumerate(_header_names(grid[header]))
                          if n in ID_NUMBER_HEADERS), None)
        header_set = set(found.values())
        first_index, _ = found.get(spec.fields[0].column, (0, ""))
        rows, repeated = [], []
        for r, row in enumerate(grids[name].rows()):
            if r <= header:
                continue
            cells = clean_row(row)
            if all(c is None for c in cells):
                continue
            if _repeats_header(spec, row, cells, first_index, header_set):
                repeated.append(r + 1)
                continue
            rows.append((r + 1, cells))
        missing = [f.header for f in spec.fields if f.required and f.column not in columns]
        sheets.append(RawSheet(name, spec, header + 1, columns, rows, hidden.get(name, set()), repeated,
                               id_column, missing))
    return RawBook(file_name, kind, list(grids), sheets, meta)
