"""Rows of raw SQL read by name, never by position: each row is a named tuple whose fields are the
statement's column names, so a column added to or moved in a SELECT cannot shift what the code
reads. Every column needs a name that is a Python identifier (an ``AS`` alias for an expression);
a statement without one fails here, at once, rather than read the wrong value.

The tuple type is made once per statement, and a named tuple is read as fast as a plain one, so
reading by name costs a hot loop nothing worth measuring."""

from __future__ import annotations

from collections import namedtuple
from typing import Any


def _row_type(cursor: Any) -> Any:
    return namedtuple("Row", [column[0] for column in cursor.description])


def named_rows(cursor: Any) -> list[Any]:
    """The rows the cursor's last statement returned, each read by its column names."""
    row = _row_type(cursor)
    return [row._make(values) for values in cursor.fetchall()]


def named_row(cursor: Any) -> Any | None:
    """The next row of the cursor's last statement, read by its column names; None when none."""
    values = cursor.fetchone()
    return None if values is None else _row_type(cursor)._make(values)
