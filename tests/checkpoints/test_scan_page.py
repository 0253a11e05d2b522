"""GET /checkpoints/<code>/scan/: the tablet's scan page, for the checkpoint's own staff only, with
a Content-Security-Policy that lets the QR decoder's WebAssembly run and nothing inline."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import reverse

from places.models import StaffAssignment
from tests.factories import CheckpointFactory, UserFactory, driver_user, staff_user

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def scan_url(checkpoint: Any) -> str:
    return reverse("checkpoints:scan", args=[checkpoint.code])


def test_it_works(checkpoint: Any) -> None:
    r = client_for(staff_user(checkpoint)).get(scan_url(checkpoint))

    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="verdict"' in body and 'data-verdict=""' in body
    assert 'id="scanner-input"' in body
    config = json.loads(re.search(r'id="scan-config"[^>]*>(.*?)</script>', body, re.S)[1])
    assert config["checkpoint"] == checkpoint.code
    assert config["urls"]["scans"] == f"/api/v1/checkpoints/{checkpoint.code}/scans/"
    assert config["texts"]["reasons"]["already_inside"] == "Already inside"
    assert config["supervisor"] is False
    # The override button is for supervisors only.
    assert 'data-action="override"' not in body


def test_it_gives_the_page_the_deployments_time_zone(checkpoint: Any) -> None:
    client = client_for(staff_user(checkpoint))

    with override_settings(TIME_ZONE="Asia/Urumqi"):
        body = client.get(scan_url(checkpoint)).content.decode()

    config = json.loads(re.search(r'id="scan-config"[^>]*>(.*?)</script>', body, re.S)[1])
    assert config["time_zone"] == "Asia/Urumqi"


def test_it_sends_a_content_security_policy(checkpoint: Any) -> None:
    r = client_for(staff_user(checkpoint)).get(scan_url(checkpoint))

    policy = dict(part.partition(" ")[::2] for part in r["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert "unsafe-inline" not in r["Content-Security-Policy"]
    # Nothing inline for the policy to block: every script is a file, or data.
    body = r.content.decode()
    for tag in re.findall(r"<script[^>]*>", body):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert " style=" not in body


def test_it_shows_supervisors_the_override(checkpoint: Any) -> None:
    user = staff_user(checkpoint)
    StaffAssignment.objects.filter(user=user).update(supervisor=True)

    r = client_for(user).get(scan_url(checkpoint))

    assert 'data-action="override"' in r.content.decode()


def test_it_refuses_staff_of_another_checkpoint(checkpoint: Any) -> None:
    other = staff_user(CheckpointFactory())

    r = client_for(other).get(scan_url(checkpoint))

    assert r.status_code == 403
    assert "Content-Security-Policy" not in r


def test_it_refuses_a_driver(checkpoint: Any) -> None:
    assert client_for(driver_user()).get(scan_url(checkpoint)).status_code == 403


def test_it_refuses_an_official(checkpoint: Any) -> None:
    # Officials see every checkpoint's page, but scanning is for the staff on duty there.
    assert client_for(UserFactory(role="official")).get(scan_url(checkpoint)).status_code == 403


def test_it_sends_anonymous_users_to_sign_in(checkpoint: Any) -> None:
    r = Client().get(scan_url(checkpoint))

    assert r.status_code == 302
    assert r["Location"].startswith(reverse("login"))


def test_an_unknown_or_closed_checkpoint_is_absent(checkpoint: Any) -> None:
    closed = CheckpointFactory(active=False)
    client = client_for(staff_user(checkpoint, closed))

    assert client.get("/checkpoints/NO-SUCH/scan/").status_code == 404
    assert client.get(scan_url(closed)).status_code == 404


def test_the_checkpoint_page_links_to_scanning_for_its_staff(checkpoint: Any) -> None:
    body = client_for(staff_user(checkpoint)).get(
        reverse("checkpoints:detail", args=[checkpoint.code])
    )
    assert scan_url(checkpoint) in body.content.decode()

    official = client_for(UserFactory(role="official"))
    body = official.get(reverse("checkpoints:detail", args=[checkpoint.code]))
    assert scan_url(checkpoint) not in body.content.decode()


def test_the_decoder_and_its_wasm_come_from_our_static_files() -> None:
    """barcode-detector's JS glue only runs the zxing-wasm build it pins: the .wasm served must
    be the one whose SHA-256 the glue carries (a mismatch fails on the tablet, not here)."""
    module = finders.find("vendor/barcode-detector/ponyfill.js")
    glue = finders.find("vendor/barcode-detector/zxing-exported.js")
    wasm = finders.find("vendor/zxing-wasm/zxing_reader.wasm")
    assert module and glue and wasm
    with open(glue, encoding="utf-8") as f:
        pinned = set(re.findall(r"\b[0-9a-f]{64}\b", f.read()))
    with open(wasm, "rb") as f:
        served = hashlib.sha256(f.read()).hexdigest()
    assert served in pinned
