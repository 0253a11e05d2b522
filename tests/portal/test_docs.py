"""The project documents itself: every document a comment, docstring, template or script points
to is one the repository holds, and every section of docs/architecture.md they name by its
title is there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SOURCES = (".py", ".js", ".html", ".css", ".toml", ".yml", ".txt")
# A document named in the text: a path ending in .md, not part of a URL.
CITED = re.compile(r"(?<![\w/.:-])((?:[\w-]+/)*[\w-]+\.md)\b")
# A section named after the architecture page: docs/architecture.md, "Title" (or "A" and "B").
SECTIONS = re.compile(r'docs/architecture\.md,\s+((?:"[^"]+"(?:\s*(?:,|and)\s*)?)+)')


def tracked() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / p
        for p in listed
        if p.endswith(SOURCES) and not p.startswith("tests/") and (ROOT / p).exists()
    ]


def test_every_cited_document_is_in_the_repository() -> None:
    missing = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in tracked()
        for name in CITED.findall(path.read_text(encoding="utf-8"))
        if not (ROOT / name).exists() and not (path.parent / name).exists()
    )
    assert missing == []


def test_every_cited_section_of_the_architecture_page_exists() -> None:
    headings = {
        line.lstrip("#").strip()
        for line in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    cited = {
        (path.relative_to(ROOT), title)
        for path in tracked()
        for group in SECTIONS.findall(_as_one_line(path.read_text(encoding="utf-8")))
        for title in re.findall(r'"([^"]+)"', group)
    }
    assert cited, "the code names sections of the architecture page"
    assert sorted(f"{p}: {t}" for p, t in cited if t not in headings) == []


def _as_one_line(text: str) -> str:
    """Comments run on over lines: join them, dropping the comment marks."""
    return re.sub(r"\s*\n\s*(?:#|//|\*)?\s*", " ", text)


def test_the_check_finds_a_missing_document() -> None:
    # The names are put together here, so this file cites no document itself.
    plan, missing, url = ("PLAN", "md"), ("docs/absent", "md"), ("https://x.org/page", "md")
    text = f"see {'.'.join(plan)} and {'.'.join(missing)}, not {'.'.join(url)}"
    assert CITED.findall(text) == [".".join(plan), ".".join(missing)]
