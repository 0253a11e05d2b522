"""Translations: Simplified Chinese is complete, compiled and current; English is on request.

The project's messages live in locale/<lang>/LC_MESSAGES/django.po; the compiled .mo files next
to them are committed, so ``make run`` needs no extra step. These tests fail when a new string is
not in the catalogue (run ``make messages``), not translated, marked fuzzy, or not compiled.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(settings.BASE_DIR)
ZH_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")
EN_PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"

# What makemessages reads: the project's Python, templates and scripts, not tools or tests.
# Every app of the project (a folder with an apps.py), the templates, the scripts and manage.py.
SOURCES = (
    *sorted(p.parent.name for p in ROOT.glob("*/apps.py")),
    "templates",
    "static",
    "manage.py",
)
IGNORED = ("__pycache__", "*.pyc", "migrations", "node_modules", ".venv", "staticfiles")


# ---------------------------------------------------------------------------------------------
# A small .po reader: entries with context, id, plural id, translations and flags.


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def label(self) -> str:
        return f"{self.msgctxt}|{self.msgid}" if self.msgctxt else self.msgid


def _string(line: str) -> str:
    """The value of one quoted .po string, escapes resolved as Python resolves them."""
    value = ast.literal_eval(line.strip())
    assert isinstance(value, str)
    return value


def read_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        flags: set[str] = set()
        parts: dict[str, str] = {}
        current = ""
        obsolete = False
        for raw in block.splitlines():
            line = raw
            if line.startswith("#~"):
                obsolete = True
                line = line[2:].strip()
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith('"'):
                parts[current] += _string(line)
                continue
            keyword, _, rest = line.partition(" ")
            current = keyword
            parts[current] = _string(rest)
        if "msgid" not in parts:
            continue
        if "msgstr" in parts:
            msgstr = {0: parts["msgstr"]}
        else:
            msgstr = {
                int(key[7:-1]): value for key, value in parts.items() if key.startswith("msgstr[")
            }
        entries.append(
            Entry(
                msgid=parts["msgid"],
                msgctxt=parts.get("msgctxt"),
                msgid_plural=parts.get("msgid_plural"),
                msgstr=msgstr,
                flags=flags,
                obsolete=obsolete,
            )
        )
    return entries


def messages(path: Path) -> list[Entry]:
    """The live entries of a catalogue: no header, nothing obsolete."""
    return [e for e in read_po(path) if e.msgid and not e.obsolete]


# ---------------------------------------------------------------------------------------------
# The catalogue


def test_the_chinese_catalogue_is_there() -> None:
    assert len(messages(ZH_PO)) > 100


def test_every_message_is_translated_into_chinese() -> None:
    untranslated = [e.label for e in messages(ZH_PO) if not e.msgstr or not all(e.msgstr.values())]
    assert untranslated == []


def test_no_translation_is_fuzzy() -> None:
    """Fuzzy entries are skipped when compiling: the page would show English."""
    header = read_po(ZH_PO)[0]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert [e.label for e in messages(ZH_PO) if "fuzzy" in e.flags] == []


def test_chinese_has_one_plural_form() -> None:
    header = read_po(ZH_PO)[0].msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    plurals = [e for e in messages(ZH_PO) if e.msgid_plural is not None]
    assert plurals
    assert all(set(e.msgstr) == {0} for e in plurals)


def test_translations_keep_the_placeholders() -> None:
    """%(name)s, {name} and HTML tags of the English id are all in the translation."""

    def placeholders(text: str) -> list[str]:
        return sorted(re.findall(r"%\(\w+\)[sd]|\{\w*\}|</?\w+[^>]*>", text))

    broken = []
    for e in messages(ZH_PO):
        source = placeholders(e.msgid_plural if e.msgid_plural is not None else e.msgid)
        for msgstr in e.msgstr.values():
            stray_percent = "python-format" in e.flags and re.search(r"%(?![(%])", msgstr)
            if placeholders(msgstr) != source or stray_percent:
                broken.append(e.label)
    assert broken == []


def test_the_english_catalogue_lists_the_same_messages() -> None:
    """English shows the English ids: its translations stay empty."""
    english = messages(EN_PO)
    assert {e.key for e in english} == {e.key for e in messages(ZH_PO)}
    assert [e.label for e in english if any(e.msgstr.values())] == []


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    """The .mo is committed: every translation in the .po must be in it, as it is there."""
    with ZH_MO.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for e in messages(ZH_PO):
        if e.msgid_plural is not None:
            got = (
                compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)
                if e.msgctxt
                else compiled.ngettext(e.msgid, e.msgid_plural, 1)
            )
        else:
            got = compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt else compiled.gettext(e.msgid)
        if got != e.msgstr[0]:
            stale.append(e.label)
    assert stale == [], "run: python manage.py compilemessages --ignore=.venv"


def test_the_catalogue_holds_every_message_of_the_source(tmp_path: Path) -> None:
    """makemessages on a copy of the source finds nothing the committed catalogue lacks."""
    assert shutil.which("xgettext"), "makemessages needs GNU gettext: apt-get install gettext"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns(*IGNORED))
        else:
            shutil.copy2(source, tmp_path / name)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    fresh = messages(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    committed = {e.key: e for e in messages(ZH_PO)}
    assert len(fresh) > 100
    missing = [e.label for e in fresh if e.key not in committed]
    assert missing == [], "run: make messages, then translate the new strings"
    changed_plural = [e.label for e in fresh if e.msgid_plural != committed[e.key].msgid_plural]
    assert changed_plural == []


# ---------------------------------------------------------------------------------------------
# Pages and API in use


def test_pages_speak_chinese_by_default() -> None:
    response = Client().get("/accounts/login/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    assert "<h1>登录</h1>" in body
    assert "Sign in" not in body


def test_pages_speak_english_on_request() -> None:
    response = Client(headers={"accept-language": "en"}).get("/accounts/login/")
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "<h1>Sign in</h1>" in body
    assert "登录" not in body


@pytest.mark.django_db
def test_the_language_switch_remembers_english() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "<h1>Sign in</h1>" in client.get("/accounts/login/").content.decode()


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "请输入有效的车牌号，例如 豫H12345 或 豫H12345D。"),
        (
            {"HTTP_ACCEPT_LANGUAGE": "en"},
            "Enter a valid Chinese number plate, for example 豫H12345 or 豫H12345D.",
        ),
    ],
    ids=["default-chinese", "english"],
)
def test_api_field_messages_follow_the_language(
    api_client: Any, dispatcher: Any, trip_payload: Any, headers: dict[str, str], message: str
) -> None:
    api_client.force_authenticate(dispatcher)
    body = trip_payload(vehicle_plate="XYZ")

    response = api_client.post("/api/v1/trips/", body, format="json", **headers)

    assert response.status_code == 400, response.json()
    assert response.json()["fields"]["vehicle_plate"] == [message]
