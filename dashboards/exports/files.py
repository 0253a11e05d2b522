"""Writing an export's rows as CSV or Excel, a row at a time, in constant memory.

CSV starts with a UTF-8 byte-order mark: without it Excel reads the file in the machine's code
page and garbles every Chinese character. Excel goes through openpyxl's write-only workbook,
which streams rows to a temporary file rather than holding the sheet (30 MB where a built sheet
takes 450 MB at 100,000 rows), and holds at most 1,048,576 rows, the header's included.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dashboards.exports.columns import Value

XLSX_MAX_ROWS = 1_048_576
BOM = "\ufeff"
# Bytes gathered before a CSV chunk is sent or written.
_CHUNK_BYTES = 64 * 1024

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def fits_in_excel(rows: int) -> bool:
    return rows + 1 <= XLSX_MAX_ROWS


def _csv_cell(value: Value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Value]]) -> Iterator[bytes]:
    """The CSV file in pieces of about 64 KB, the first one at once (a download starts before
    the last row is read)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers)
    yield buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
        if buffer.tell() >= _CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(value: Value) -> Value:
    # Control characters (a pasted form feed in a note) are not allowed in the file's XML.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def write_xlsx(
    target: Path | io.BufferedIOBase,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Value]],
) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
    sheet.append(list(headers))
    try:
        for row in rows:
            sheet.append([_xlsx_cell(value) for value in row])
    finally:
        # Saved even when the rows fail: that moves the sheet's temporary file in and deletes
        # it; the caller deletes a file left half written.
        book.save(target)


def write_file(
    path: Path, format: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Value]]
) -> None:
    """The file at ``path``, written beside it first and moved in place when whole, so a
    download never finds half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    if format == "xlsx":
        write_xlsx(partial, title, headers, rows)
    else:
        with partial.open("wb") as out:
            for chunk in csv_chunks(headers, rows):
                out.write(chunk)
    os.replace(partial, path)
