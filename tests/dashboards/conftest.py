from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dashboards.exporting import Rows, make_rows


@pytest.fixture
def rows(regions: None, settings: Any, tmp_path: Path) -> Rows:
    """The export tests' rows (``tests.dashboards.exporting``), files written to a fresh
    folder."""
    settings.EXPORTS_DIR = str(tmp_path / "exports")
    return make_rows()
