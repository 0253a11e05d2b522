"""No module of the project's code is over 400 lines (migrations and tests aside): one that grows
past it becomes a package of the same name, a module by subject (docs/architecture.md, "Apps and
the direction of imports")."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

LIMIT = 400


def test_no_module_is_over_400_lines() -> None:
    root = Path(settings.BASE_DIR)
    folders = [path.parent for path in root.glob("*/apps.py")] + [root / "benchmarks"]
    long = {
        str(path.relative_to(root)): lines
        for folder in folders
        for path in folder.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert long == {}
