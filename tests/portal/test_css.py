"""The style sheets parse: every block opened is closed, so a rule meant for all screens never
ends up inside a phone-only media query (as a merge once left the scan page's priority lane)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

SHEETS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_block_is_closed_where_it_was_opened(sheet: Path) -> None:
    text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{sheet.name}: a block closed twice by line {number}"
    assert depth == 0, f"{sheet.name}: {depth} block(s) never closed"


def test_each_section_starts_outside_any_block() -> None:
    """A section comment at the start of a line opens a new part of the sheet: no block may
    still be open there."""
    for sheet in SHEETS:
        depth = 0
        for number, line in enumerate(sheet.read_text().splitlines(), 1):
            if line.startswith("/* ") and depth:
                pytest.fail(f"{sheet.name}:{number}: a section starts inside a block")
            stripped = re.sub(r"/\*.*?\*/", "", line)
            depth += stripped.count("{") - stripped.count("}")
