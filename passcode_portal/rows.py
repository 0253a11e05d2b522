"""Rows of raw SQL read by name, never by position: each row is a named tuple whose fields are the
statement's column names, so a column added to or moved in a SELECT cannot shift what the code
reads. Every column needs a name that is a Python identifier (an ``AS`` alias for an expression);
a statement without one fails here, at once, rather than read the wrong value.

A tuple type is made once per set of column names and kept, and a named tuple is read as fast as
a plain one, so reading by name costs even the scan's hot path nothing worth measuring."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

Row = TypeVar("Row")


@lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names)


def _names(cursor: Any) -> tuple[str, ...]:
    return tuple(column[0] for column in cursor.description)


def named_rows(cursor: Any) -> list[Any]:
    """The rows the cursor's last statement returned, each read by its column names."""
    row = _row_type(_names(cursor))
    return [row._make(values) for values in cursor.fetchall()]


def named_row(cursor: Any) -> Any | None:
    """The next row of the cursor's last statement, read by its column names; None when none."""
    values = cursor.fetchone()
    return None if values is None else _row_type(_names(cursor))._make(values)


def row_as(cursor: Any, kind: Callable[..., Row]) -> Row | None:
    """The next row as ``kind``, a NamedTuple: each column goes to the field of its name, so a
    column that names no field, or a field no column names (and has no default), is refused
    with a TypeError rather than read into the wrong field. None when no row is left."""
    values = cursor.fetchone()
    if values is None:
        return None
    return kind(**dict(zip(_names(cursor), values, strict=True)))
