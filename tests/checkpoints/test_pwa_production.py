"""Under the production settings (files collected as the image collects them, hashed names from
the manifest storage, served by WhiteNoise), the service worker keeps the very URLs the scan page
asks for: the page's files, the manifest's icons and what the decoder's module imports, each
served. Run in a fresh interpreter, as tests/portal/test_deploy.py runs the production settings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from checkpoints import pwa
from tests.checkpoints.test_pwa import RELATIVE_IMPORT, page_assets, worker_app
from tests.portal.test_deploy import production_env, run

HOST = "passcode.example.org"

SCRIPT = r"""
import json, sys
import django
django.setup()
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from places.models import Checkpoint, Region, StaffAssignment

HOST, STATIC_ROOT = sys.argv[1:3]
settings.STATIC_ROOT = STATIC_ROOT
call_command("collectstatic", interactive=False, verbosity=0)
call_command("migrate", verbosity=0)
Region.objects.create(code="410800", name="焦作市", full_name="河南省焦作市", level="city")
Checkpoint.objects.create(code="JZ-G55-N", name="二广高速焦作北站", kind="highway_exit",
                          region_id="410800")
staff = User.objects.create_user("staff", password="a staff password 1")
staff.groups.add(Group.objects.get(name="staff"))
StaffAssignment.objects.create(user=staff, checkpoint=Checkpoint.objects.get())
client = Client(headers={"host": HOST})
client.force_login(staff)

def get(path):
    r = client.get(path, secure=True)
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return {"status": r.status_code, "type": r.get("Content-Type", ""), "length": len(body),
            "text": body.decode("utf-8") if path.endswith((".js", "/", ".webmanifest")) else ""}

answers = {"worker": get("/checkpoints/sw.js"), "page": get("/checkpoints/JZ-G55-N/scan/"),
           "manifest": get("/checkpoints/JZ-G55-N/manifest.webmanifest")}
# The files the worker keeps, as its install asks for them.
app = json.loads(answers["worker"]["text"].split("self.SCAN_APP = ", 1)[1].split(";\n\n", 1)[0])
answers["files"] = {url: get(url) for url in app["precache"]}
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path: Path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path, ALLOWED_HOSTS=HOST, DATABASE_URL=f"sqlite:///{tmp_path}/db")
    result = run(["-c", SCRIPT, HOST, str(tmp_path / "static")], env)
    assert result.returncode == 0, result.stderr[-3000:]
    answers: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "answers": answers,
        "app": worker_app(answers["worker"]["text"]),
        "files": answers["files"],
    }


def test_the_worker_keeps_the_hashed_names(production: dict[str, Any]) -> None:
    urls = production["app"]["precache"]
    hashed = urls[: len(pwa.PRECACHE)]
    for name, url in zip(pwa.PRECACHE, hashed, strict=True):
        stem, _dot, extension = name.rpartition(".")
        assert re.fullmatch(rf"/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{extension}", url), url
    # What a module imports by a relative path is asked for under its own name.
    assert urls[len(pwa.PRECACHE) :] == ["/static/vendor/barcode-detector/zxing-exported.js"]


def test_every_file_kept_is_served(production: dict[str, Any]) -> None:
    for url, answer in production["files"].items():
        assert answer["status"] == 200, url
        assert answer["length"] > 0, url
    wasm = next(url for url in production["files"] if url.endswith(".wasm"))
    assert production["files"][wasm]["type"] == "application/wasm"


def test_the_page_asks_for_nothing_the_worker_does_not_keep(production: dict[str, Any]) -> None:
    page = production["answers"]["page"]
    assert page["status"] == 200
    assets = page_assets(page["text"])
    assert len(assets) >= 8
    assert assets - set(production["app"]["precache"]) == set()

    manifest = json.loads(production["answers"]["manifest"]["text"])
    icons = {icon["src"] for icon in manifest["icons"]}
    assert icons - set(production["app"]["precache"]) == set()


def test_the_decoders_imports_resolve_to_kept_files(production: dict[str, Any]) -> None:
    kept = production["app"]["precache"]
    modules = [url for url in kept if "/vendor/barcode-detector/ponyfill." in url]
    assert len(modules) == 1
    source = production["files"][modules[0]]["text"]
    imports = {urljoin(modules[0], relative) for relative in RELATIVE_IMPORT.findall(source)}
    assert imports and imports <= set(kept)
