"""Cells of the spreadsheets the portal writes (exports, import templates and error reports).

A cell a spreadsheet would read as a formula (=, +, -, @, or a tab or carriage return that
some programs strip first) gets a leading apostrophe, so a plate or a name typed by anyone
cannot run in the spreadsheet of whoever opens the file (CSV or formula injection)."""

from __future__ import annotations

from typing import TypeVar

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

T = TypeVar("T")


def formula_safe(value: T) -> T | str:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
