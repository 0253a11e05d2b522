"""Spreadsheet cells the portal writes are disarmed when they start like a formula."""

from __future__ import annotations

import pytest

from passcode_portal.cells import formula_safe


@pytest.mark.parametrize("value", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx"], ids=repr)
def test_cells_that_start_like_a_formula_are_disarmed(value: str) -> None:
    assert formula_safe(value) == "'" + value
    assert formula_safe("豫H12345") == "豫H12345"
    assert formula_safe(-2) == -2  # numbers are numbers
