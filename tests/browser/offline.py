"""The scan page's offline verdicts (static/js/scan-offline.js) beside the server's own: a signed
in staff member's scan page, where the script runs under the page's Content-Security-Policy, and
the Python answers the script must give.

Pass tokens are signed here with ``trucks.passcode`` under keys of the test's own
(``override_settings``), so the vectors are the server's and the page is given the published key
set, as the checkpoint bundle gives it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings

from tests.browser.conftest import TABLET, open_page
from tests.browser.scanpage import open_scan_page, sign_in
from tests.factories import CheckpointFactory, staff_user
from trucks import passcode

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOBLE_PATH = "/vendor/noble-ed25519/index.js"


def ms(when: datetime) -> int:
    """A time as the script takes it: whole milliseconds since the epoch, exactly."""
    return (when - EPOCH) // timedelta(milliseconds=1)


class Key:
    """An Ed25519 key under a key id, as PASS_SIGNING_KEY and PASS_VERIFY_KEYS spell it."""

    def __init__(self, kid: int, seed: bytes | None = None) -> None:
        self.kid = kid
        self.seed = seed or os.urandom(32)

    @property
    def signing(self) -> str:
        return f"{self.kid}:{base64.b64encode(self.seed).decode()}"

    @property
    def verifying(self) -> str:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"{self.kid}:{base64.b64encode(raw).decode()}"


@contextmanager
def keyring(active: Key, *retired: Key) -> Iterator[None]:
    """The server signing with ``active`` and still accepting the ``retired`` keys."""
    with override_settings(
        PASS_SIGNING_KEY=active.signing, PASS_VERIFY_KEYS=[k.verifying for k in retired]
    ):
        yield


def published_keys() -> list[dict[str, Any]]:
    """The key set as the bundle carries it (kid, x, active)."""
    keys: list[dict[str, Any]] = passcode.public_jwks()["keys"]
    return keys


def signed_by(key: Key, *, pass_id: int, valid_until: datetime) -> str:
    """A token as the server would issue it under ``key``."""
    with keyring(key):
        return passcode.encode(pass_id=pass_id, valid_until=valid_until)


def python_answer(text: Any) -> dict[str, Any]:
    """``passcode.decode`` in the script's terms (ScanOffline.verifyToken)."""
    try:
        claims = passcode.decode(text)
    except passcode.TokenError as exc:
        return {"ok": False, "code": exc.code}
    return {
        "ok": True,
        "keyId": claims.key_id,
        "passId": claims.pass_id,
        "validUntil": ms(claims.valid_until),
    }


def offline_page(chromium: Any, live_server: Any, *, init_script: str | None = None) -> Any:
    """The scan page of a checkpoint, its staff member signed in, with ``window.ScanOffline``
    defined. ``page.requested`` lists every URL the page asked for; ``init_script`` runs in the
    page before its own scripts (to take a browser feature away)."""
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    page = open_page(chromium, live_server, TABLET)
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    if init_script is not None:
        page.add_init_script(init_script)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    assert page.evaluate("typeof window.ScanOffline.judge") == "function"
    page.checkpoint = checkpoint
    return page


def noble_requested(page: Any) -> bool:
    return any(url.split("?")[0].endswith(NOBLE_PATH) for url in page.requested)


# Every vector through verifyToken, with the key set given: the answers in order.
VERIFY_ALL = """async ({texts, keys}) => {
  const ring = await ScanOffline.importKeys(keys);
  const answers = [];
  for (const text of texts) {
    answers.push(await ScanOffline.verifyToken(text, ring));
  }
  return {answers, engine: ScanOffline.engine(ring)};
}"""


def bundle_answer(keys: list[dict[str, Any]], rows: list[list[Any]], **extra: Any) -> Any:
    """The bundle API's answer (contract format 1) holding ``rows``, checkpoint 3 (ZZ01)."""
    answer = {
        "format": 1,
        "full": True,
        "cursor": "c1",
        "generated_at": "2026-12-01T21:30:00.123Z",
        "server_time_ms": 1796160600123,
        "checkpoint": {"id": 3, "code": "ZZ01"},
        "policy": {"strict_checkpoint": False, "offline_max_age_minutes": 15},
        "keys": keys,
        "max_pass_id": 12345,
        "fields": [
            "id", "colour", "status", "valid_from", "valid_until", "trip_status", "plate",
            "persons", "multi_entry", "entry_checkpoint", "reference", "priority_lane",
        ],
        "passes": rows,
    }  # fmt: skip
    answer.update(extra)
    return answer
