"""Rows of raw SQL are read by their column names (``passcode_portal.rows``)."""

from __future__ import annotations

import pytest
from django.db import connection

from passcode_portal.rows import named_row, named_rows

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
