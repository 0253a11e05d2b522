"""Single files of npm packages are served as static files, and nothing else of the package
(``passcode_portal.staticfinders``): ECharts' one built file, not its 51 MB ``dist``."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

from passcode_portal.staticfinders import NpmFileFinder


def test_the_charts_library_is_served_from_the_npm_package() -> None:
    found = finders.find("vendor/echarts/echarts.min.js")
    expected = Path(settings.BASE_DIR) / "node_modules" / "echarts" / "dist" / "echarts.min.js"
    assert found == str(expected)
    assert Path(found).read_text(encoding="utf-8")[:2000].find("echarts") >= 0


def test_nothing_else_of_the_package_is_served_or_collected() -> None:
    assert finders.find("vendor/echarts/echarts.js") is None
    assert finders.find("vendor/echarts/echarts.min.js", find_all=True) != []
    listed = [
        f"{storage.prefix}/{path}"  # type: ignore[attr-defined]
        for path, storage in NpmFileFinder().list([])
    ]
    assert listed == list(settings.NPM_STATIC_FILES)


def test_a_missing_file_fails_the_system_check(settings: object, tmp_path: Path) -> None:
    settings.NPM_STATIC_FILES = {"vendor/x/x.js": tmp_path / "x.js"}  # type: ignore[attr-defined]
    errors = NpmFileFinder().check()
    assert [e.id for e in errors] == ["passcode_portal.E001"]


def test_the_scan_pages_ed25519_fallback_is_served_from_the_npm_package() -> None:
    """@noble/ed25519, one ES module with no imports of its own (static/js/scan-offline.js loads
    it where the browser has no Ed25519)."""
    found = finders.find("vendor/noble-ed25519/index.js")
    expected = Path(settings.BASE_DIR) / "node_modules" / "@noble" / "ed25519" / "index.js"
    assert found == str(expected)
    code = re.sub(r"/\*.*?\*/", "", Path(found).read_text(encoding="utf-8"), flags=re.S)
    assert "verifyAsync" in code
    assert re.findall(r"^\s*import\b.*", code, flags=re.M) == []  # nothing else to serve
