"""The pass token carried by the QR code: compact, Ed25519-signed, checkable offline.

Layout (73 bytes, RFC 4648 base32 without padding: 117 characters of A–Z and 2–7, which QR
codes store in their dense alphanumeric mode, so the code fits version 5 at error correction M):

    key id (1 byte) | pass id (4 bytes, big-endian) | valid until (4 bytes, minutes since the
    Unix epoch, big-endian) | Ed25519 signature (64 bytes) over b"TP1" + the first 9 bytes

The colour is not in the token: it is looked up at scan time, so regrading needs no new code.
The signature is checked before any database work; a token that fails is refused outright.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from passcode_portal.env import generated_secret

_DOMAIN = b"TP1"  # separates pass signatures from anything else the key might ever sign
_HEADER = struct.Struct(">BII")
_SIG_LEN = 64
TOKEN_BYTES = _HEADER.size + _SIG_LEN
TOKEN_LENGTH = 117
# 117 characters carry 585 bits for 584 bits of token: the last character's lowest bit is spare,
# and b32decode ignores it, so two texts would decode alike. Only the canonical one, that bit
# zero, is ours: the last character is one of the even letters of the base32 alphabet.
_TOKEN_RE = re.compile(r"[A-Z2-7]{116}[ACEGIKMOQSUWY246]")


class TokenError(Exception):
    """Why a token was refused: ``malformed`` (not one of ours), ``unknown_key`` (a key id we
    never issued or have retired), ``bad_signature`` (altered or forged)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Claims:
    key_id: int
    pass_id: int
    valid_until: datetime


@dataclass(frozen=True)
class Keyring:
    signing_key_id: int
    signing_key: Ed25519PrivateKey
    public_keys: dict[int, Ed25519PublicKey]


def _parse_key_id(text: str) -> int:
    kid = int(text)
    if not 0 <= kid <= 255:
        raise ImproperlyConfigured("Pass key ids are whole numbers from 0 to 255.")
    return kid


def _load_development_key(path: Path) -> str:
    """Read, or create on first use, the development signing key (never committed)."""
    return generated_secret(path, lambda: "1:" + base64.b64encode(os.urandom(32)).decode())


@cache
def keyring() -> Keyring:
    value = settings.PASS_SIGNING_KEY or _load_development_key(Path(settings.PASS_DEV_KEY_PATH))
    try:
        kid_text, seed_text = value.split(":", 1)
        kid = _parse_key_id(kid_text)
        private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_text))
    except (ValueError, binascii.Error) as exc:
        raise ImproperlyConfigured(
            "PASS_SIGNING_KEY must be '<key id>:<base64 of a 32-byte Ed25519 seed>'."
        ) from exc
    active_public = private.public_key()
    public = {kid: active_public}
    for item in settings.PASS_VERIFY_KEYS:
        try:
            old_kid_text, public_text = item.split(":", 1)
            old_kid = _parse_key_id(old_kid_text)
            old_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_text))
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured(
                "PASS_VERIFY_KEYS items must be '<key id>:<base64 of a 32-byte public key>'."
            ) from exc
        # Another key under the active key id would make every newly issued token fail to
        # verify; listing the active public key itself (as a published key set does) is fine.
        if old_kid == kid and _raw(old_key) != _raw(active_public):
            raise ImproperlyConfigured(
                f"PASS_VERIFY_KEYS gives key id {kid}, the id of PASS_SIGNING_KEY, another key."
            )
        public[old_kid] = old_key
    return Keyring(signing_key_id=kid, signing_key=private, public_keys=public)


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@receiver(setting_changed)
def _reset_keyring(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("PASS_"):
        keyring.cache_clear()


def current_key_id() -> int:
    return keyring().signing_key_id


def _minutes(when: datetime) -> int:
    return int(when.timestamp()) // 60


def encode(*, pass_id: int, valid_until: datetime) -> str:
    """Sign with the active key. After a rotation a pass shows a token under the new key; the
    token it showed before keeps verifying for as long as the old key is in PASS_VERIFY_KEYS."""
    ring = keyring()
    header = _HEADER.pack(ring.signing_key_id, pass_id, _minutes(valid_until))
    signature = ring.signing_key.sign(_DOMAIN + header)
    return base64.b32encode(header + signature).decode("ascii").rstrip("=")


def normalise(token: str) -> str:
    """Scanners and people add white space and lower-case letters; neither changes the token."""
    return "".join(token.split()).upper()


def decode(token: str) -> Claims:
    """Check a token's form and signature; raise TokenError, never anything else."""
    text = normalise(token) if isinstance(token, str) else ""
    if not _TOKEN_RE.fullmatch(text):
        raise TokenError("malformed")
    raw = base64.b32decode(text + "===")
    header, signature = raw[: _HEADER.size], raw[_HEADER.size : TOKEN_BYTES]
    kid, pass_id, minutes = _HEADER.unpack(header)
    key = keyring().public_keys.get(kid)
    if key is None:
        raise TokenError("unknown_key")
    try:
        key.verify(signature, _DOMAIN + header)
    except InvalidSignature:
        raise TokenError("bad_signature") from None
    return Claims(
        key_id=kid, pass_id=pass_id, valid_until=datetime.fromtimestamp(minutes * 60, tz=UTC)
    )


def looks_like_token(text: str) -> bool:
    """Tell a scanned token from a typed plate or reference without checking the signature."""
    return len(normalise(text)) >= 100


def public_jwks() -> dict[str, Any]:
    """The verification keys as a JSON Web Key Set (RFC 8037, OKP/Ed25519)."""
    ring = keyring()
    keys = []
    for kid, key in sorted(ring.public_keys.items()):
        raw = _raw(key)
        keys.append(
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": "EdDSA",
                "kid": str(kid),
                "x": base64.urlsafe_b64encode(raw).decode().rstrip("="),
                "active": kid == ring.signing_key_id,
            }
        )
    return {"keys": keys}


def window_minute(when: datetime) -> datetime:
    """Validity ends are kept to the whole minute the token can carry (rounded up)."""
    ts = int(when.timestamp())
    return datetime.fromtimestamp(-(-ts // 60) * 60, tz=UTC)
