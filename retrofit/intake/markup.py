"""The county's own file returned with every bad cell filled red and commented, so the county
fixes it in Excel where it works. A CSV or .xls comes back as an .xlsx of the same cells."""
import io

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from . import readers
from .validate import CheckResult

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_ROW_FILL = PatternFill("solid", fgColor="FFE4E1")
AUTHOR = "数据填报校验"


def build_marked_file(content: bytes, result: CheckResult) -> bytes | None:
    """The file with its errors marked (an .xlsx), or None when the file itself could not be read."""
    if not result.kind:
        return None
    if result.kind == "xlsx":
        book = load_workbook(io.BytesIO(content))
    else:
        _, grids, _, _ = readers.load_grids(content, result.file_name)
        book = Workbook()
        book.remove(book.active)
        for name, grid in grids.items():
            sheet = book.create_sheet(name[:31])
            for row in grid.materialise():
                sheet.append([readers.clean_cell(c) for c in row])
    notes: dict[tuple[str, int, int], list[str]] = {}
    for error in result.errors:
        if error.sheet not in book.sheetnames or error.row is None:
            continue
        notes.setdefault((error.sheet, error.row, error.col_index if error.col_index is not None else -1),
                         []).append(error.message)
    for (sheet_name, row, col), messages in notes.items():
        sheet = book[sheet_name]
        if col < 0:   # a whole row (hidden, a repeated header): unhide and tint it
            sheet.row_dimensions[row].hidden = False
            for cell in sheet[row]:
                cell.fill = BAD_ROW_FILL
            col = 0
        cell = sheet.cell(row, col + 1)
        cell.fill = BAD_FILL
        cell.comment = Comment("\n".join(messages), AUTHOR, width=320, height=120)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
