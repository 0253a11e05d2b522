"""Reading an uploaded file of trips: CSV (UTF-8 with or without a byte-order mark, or
GB18030, a superset of GBK, which Chinese Excel writes) or Excel (xlsx, read in openpyxl's
read-only mode, which streams the sheet instead of building it).

Limits: ``MAX_BYTES`` and ``MAX_ROWS``, both said in the refusal. Every refusal is a
``DomainError`` (400) on the field ``file``, in the uploader's language.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from passcode_portal.errors import DomainError
from trucks.importing import columns

# A day's trips for a large fleet; a worker checks them in seconds and registers them in minutes.
MAX_ROWS = 10_000
# 10,000 rows of 31 columns take about 3 MB as CSV and 1.5 MB as Excel: room for long texts.
MAX_BYTES = 10 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
# A sheet's blank lines are skipped but still read: past this many lines, blank or not, the file
# is refused as too long, so a sheet of a million formatted but empty rows (a few kilobytes
# zipped) cannot keep a request reading. Columns past the template's are never read.
_MAX_LINES = 2 * MAX_ROWS
_MAX_COLUMNS = 100


@dataclass(frozen=True)
class Sheet:
    format: str  # "csv" or "xlsx"
    # The header as written for each field found, so a message names the column as the
    # dispatcher wrote it.
    header_of: dict[str, str]
    # (spreadsheet row number, header = 1; field -> cell) of every row not wholly blank.
    rows: list[tuple[int, dict[str, Any]]]


def refused(message: str, code: str = "invalid_file") -> DomainError:
    return DomainError(code, message, status=400, fields={"file": [message]})


def check_size(size: int) -> None:
    """Refuse a file over the limit before reading it."""
    if size > MAX_BYTES:
        raise refused(
            _("The file is larger than %(mb)d MB: split it into smaller files.")
            % {"mb": MAX_BYTES // (1024 * 1024)},
            "file_too_large",
        )


def sheet_read(content: bytes) -> Sheet:
    check_size(len(content))
    if not content.strip():
        raise refused(_("The file is empty."), "empty_file")
    if content.startswith(_ZIP_MAGIC):
        format, lines = "xlsx", _xlsx_lines(content)
    else:
        format, lines = "csv", _csv_lines(content)
    header = next(lines, None)
    if header is None or all(_blank(c) for c in header):
        raise refused(_("The file is empty."), "empty_file")
    fields_at = _fields_at(header)
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=2):
        if number > _MAX_LINES:
            raise _too_many_rows()
        if all(_blank(c) for c in line):
            continue
        if len(rows) == MAX_ROWS:
            raise _too_many_rows()
        cells = {field: line[i] for i, field in fields_at.items() if i < len(line)}
        rows.append((number, cells))
    if not rows:
        raise refused(_("The file has a header but no rows."), "empty_file")
    header_of = {field: str(header[i]).strip() for i, field in fields_at.items()}
    return Sheet(format=format, header_of=header_of, rows=rows)


def _too_many_rows() -> DomainError:
    return refused(
        _("The file has more than %(n)s rows: import at most %(n)s at a time.")
        % {"n": f"{MAX_ROWS:,}"},
        "too_many_rows",
    )


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _fields_at(header: Sequence[Any]) -> dict[int, str]:
    known = columns.known_headers()
    fields_at: dict[int, str] = {}
    for i, cell in enumerate(header):
        field = known.get(columns.normalised(cell))
        if field is not None and field not in fields_at.values():
            fields_at[i] = field
    if not fields_at:
        raise refused(
            _(
                "The first row names no column we know: start from the template, whose first "
                "row has the headers."
            ),
            "unknown_columns",
        )
    missing = [columns.label(f) for f in columns.REQUIRED if f not in fields_at.values()]
    if missing:
        raise refused(
            _("These columns are missing: %(columns)s.") % {"columns": ", ".join(missing)},
            "missing_columns",
        )
    return fields_at


def _csv_lines(content: bytes) -> Iterator[list[Any]]:
    if b"\x00" in content:  # no text file holds NUL bytes: a binary file of another kind
        raise refused(_("This is neither a CSV nor an Excel (xlsx) file."), "unknown_format")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise refused(
                _("This is neither a CSV nor an Excel (xlsx) file."), "unknown_format"
            ) from None

    def lines() -> Iterator[list[Any]]:
        try:
            yield from csv.reader(io.StringIO(text, newline=""))
        except csv.Error:  # a quote left open, swallowing the rest into one huge cell
            raise refused(
                _("This CSV file cannot be read: check that each quote is closed."),
                "unknown_format",
            ) from None

    return lines()


def _xlsx_lines(content: bytes) -> Iterator[list[Any]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise refused(
            _("This is neither a CSV nor an Excel (xlsx) file."), "unknown_format"
        ) from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise refused(_("The file is empty."), "empty_file")

    def lines() -> Iterator[list[Any]]:
        try:
            for values in sheet.iter_rows(values_only=True, max_col=_MAX_COLUMNS):
                yield list(values)
        finally:
            book.close()

    return lines()
