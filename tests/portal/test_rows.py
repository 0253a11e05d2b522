"""Rows of raw SQL are read by their column names (``passcode_portal.rows``)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest
from django.conf import settings
from django.db import connection

from passcode_portal.rows import named_row, named_rows, row_as

pytestmark = pytest.mark.django_db


def test_rows_are_read_by_their_column_names() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS one, 'two' AS two UNION ALL SELECT 3, 'four' ORDER BY one")
        rows = named_rows(cursor)
    assert [(r.one, r.two) for r in rows] == [(1, "two"), (3, "four")]


def test_one_row_or_none() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 7 AS seven")
        row = named_row(cursor)
        assert row is not None and row.seven == 7
        cursor.execute("SELECT 7 AS seven WHERE 1 = 0")
        assert named_row(cursor) is None


def test_a_column_without_a_name_is_refused() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 + 1")
        with pytest.raises(ValueError, match=r"identifier|name"):
            named_row(cursor)


class _Pair(NamedTuple):
    first: int
    second: str
    third: int | None = None


def test_a_row_is_read_into_a_named_tuple_by_column_name_not_position() -> None:
    with connection.cursor() as cursor:
        # The columns in the other order than the fields: each still lands in its own field.
        cursor.execute("SELECT 'b' AS second, 1 AS first")
        assert row_as(cursor, _Pair) == _Pair(first=1, second="b")
        cursor.execute("SELECT 1 AS first WHERE 1 = 0")
        assert row_as(cursor, _Pair) is None


def test_a_column_that_names_no_field_or_a_field_no_column_names_is_refused() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS first, 'b' AS second, 3 AS fourth")
        with pytest.raises(TypeError, match="fourth"):
            row_as(cursor, _Pair)
        cursor.execute("SELECT 1 AS first")
        with pytest.raises(TypeError, match="second"):
            row_as(cursor, _Pair)


# Where a raw row may be fetched: the readers above, and nowhere else in the project's code.
_FETCHES = {"fetchone", "fetchall", "fetchmany"}
_READERS = Path(settings.BASE_DIR) / "passcode_portal" / "rows.py"


def _code() -> list[Path]:
    root = Path(settings.BASE_DIR)
    apps = [path.parent for path in root.glob("*/apps.py")]
    files = [p for folder in [*apps, root / "benchmarks"] for p in folder.rglob("*.py")]
    return sorted(p for p in files if "migrations" not in p.parts)


def _fetch_lines(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _FETCHES
    ]


def test_no_code_reads_a_raw_row_by_position() -> None:
    """Every raw row goes through ``passcode_portal.rows``, so every column is read by name: a
    call of fetchone(), fetchall() or fetchmany() anywhere else is listed."""
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{line}"
        for path in _code()
        if path != _READERS
        for line in _fetch_lines(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_check_finds_each_kind_of_fetch() -> None:
    source = (
        "def read(cursor):\n"
        "    first = cursor.fetchone()[0]\n"
        "    rest = [row[1] for row in cursor.fetchall()]\n"
        "    return first, rest, cursor.fetchmany(5)\n"
    )
    assert sorted(_fetch_lines(source)) == [2, 3, 4]
