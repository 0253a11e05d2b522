"""Writing the import's small files, the template and the error report, as CSV or Excel.

CSV starts with a UTF-8 byte-order mark, without which Excel reads it in the machine's code
page and garbles every Chinese character. A cell typed by the dispatcher comes back in the error
report as written, guarded against running as a formula (``passcode_portal.cells``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from passcode_portal.cells import formula_safe

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_bytes(
    format: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]
) -> bytes:
    if format == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
        sheet.append(list(headers))
        for row in rows:
            sheet.append(
                [
                    ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                    for v in map(formula_safe, row)
                ]
            )
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([formula_safe(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
