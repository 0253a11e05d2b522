"""The signed pass token (docs/architecture.md, "The pass code"): compact, Ed25519, key id inside,
keys rotatable."""

from __future__ import annotations

import base64
import multiprocessing
import os
import re
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from trucks import passcode
from trucks.passcode import TokenError

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
UNTIL = datetime(2026, 11, 24, 18, 30, tzinfo=UTC)


def new_seed() -> bytes:
    return os.urandom(32)


def signing_key(kid: int, seed: bytes) -> str:
    return f"{kid}:{base64.b64encode(seed).decode()}"


def public_raw(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def verify_key(kid: int, seed: bytes) -> str:
    return f"{kid}:{base64.b64encode(public_raw(seed)).decode()}"


@pytest.fixture
def token() -> str:
    return passcode.encode(pass_id=123_456, valid_until=UNTIL)


def error_code(text: Any) -> str:
    with pytest.raises(TokenError) as exc:
        passcode.decode(text)
    return exc.value.code


# --- round trip and form --------------------------------------------------------------------


def test_it_round_trips_pass_id_validity_and_key_id(token: str) -> None:
    claims = passcode.decode(token)
    assert claims == passcode.Claims(
        key_id=passcode.current_key_id(), pass_id=123_456, valid_until=UNTIL
    )


@pytest.mark.parametrize(
    ("pass_id", "until"),
    [
        (1, datetime(2026, 1, 1, tzinfo=UTC)),
        (2**32 - 1, datetime(2100, 12, 31, 23, 59, tzinfo=UTC)),
        (987_654, datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
    ],
)
def test_it_round_trips_the_extremes(pass_id: int, until: datetime) -> None:
    claims = passcode.decode(passcode.encode(pass_id=pass_id, valid_until=until))
    assert (claims.pass_id, claims.valid_until) == (pass_id, until)


def test_it_keeps_validity_to_the_minute_so_window_ends_are_rounded_up() -> None:
    ragged = datetime(2026, 11, 24, 18, 30, 20, 5, tzinfo=UTC)
    end = passcode.window_minute(ragged)
    assert end == datetime(2026, 11, 24, 18, 31, tzinfo=UTC)
    assert passcode.window_minute(end) == end
    assert passcode.decode(passcode.encode(pass_id=1, valid_until=end)).valid_until == end


def test_it_fits_in_120_characters_of_qr_alphanumeric_text(token: str) -> None:
    biggest = passcode.encode(pass_id=2**32 - 1, valid_until=datetime(2200, 1, 1, tzinfo=UTC))
    for text in (token, biggest):
        assert len(text) == passcode.TOKEN_LENGTH <= 120
        assert re.fullmatch(r"[A-Z2-7]+", text)


def test_it_signs_different_passes_and_windows_differently(token: str) -> None:
    assert passcode.encode(pass_id=123_457, valid_until=UNTIL) != token
    later = passcode.encode(pass_id=123_456, valid_until=UNTIL + timedelta(minutes=1))
    assert later != token


def test_it_accepts_lower_case_and_white_space(token: str) -> None:
    spaced = " ".join(token[i : i + 4] for i in range(0, len(token), 4))
    assert passcode.decode(token.lower()).pass_id == 123_456
    assert passcode.decode(f"  {spaced}\n").pass_id == 123_456
    assert passcode.decode(f"\t{token.lower()}\r\n").pass_id == 123_456


def test_it_tells_tokens_from_plates_and_references(token: str) -> None:
    assert passcode.looks_like_token(token)
    assert passcode.looks_like_token(token.lower())
    assert not passcode.looks_like_token("豫H12345")
    assert not passcode.looks_like_token("JZ-20261123-000123")


# --- refusals -------------------------------------------------------------------------------


def test_any_single_character_changed_is_refused(token: str) -> None:
    for i, original in enumerate(token):
        for replacement in ALPHABET.replace(original, "") + "018=":
            altered = token[:i] + replacement + token[i + 1 :]
            # Altering the first two characters changes the key id byte.
            assert error_code(altered) in {"bad_signature", "malformed", "unknown_key"}, (
                i,
                replacement,
            )


def test_the_spare_bit_of_the_last_character_is_not_a_second_spelling(token: str) -> None:
    # 117 base32 characters hold one bit more than the 73 bytes; a decoder that ignores it
    # would accept two texts for one token.
    last = ALPHABET.index(token[-1])
    twin = token[:-1] + ALPHABET[last ^ 1]
    assert error_code(twin) == "malformed"


def test_a_changed_signature_is_a_bad_signature(token: str) -> None:
    # Character 60 lies inside the signature (bytes 9 onwards start at character 15).
    swapped = "B" if token[60] != "B" else "C"
    assert error_code(token[:60] + swapped + token[61:]) == "bad_signature"


def test_a_changed_pass_id_is_a_bad_signature(token: str) -> None:
    # Characters 2..7 carry the pass id; the key id byte is untouched.
    swapped = "A" if token[5] != "A" else "B"
    assert error_code(token[:5] + swapped + token[6:]) == "bad_signature"


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t[:-1],
        lambda t: t[:100],
        lambda t: t + "A",
        lambda t: t + t,
        lambda t: "",
        lambda t: "   ",
        lambda t: t[:-3] + "===",
        lambda t: t[:50] + "-" + t[51:],
        lambda t: "豫H12345",
    ],
)
def test_truncated_extended_or_foreign_text_is_malformed(token: str, make: Any) -> None:
    assert error_code(make(token)) == "malformed"


@pytest.mark.parametrize("value", [None, 123, b"AAAA", ["A"] * 117])
def test_anything_but_text_is_malformed(value: Any) -> None:
    assert error_code(value) == "malformed"


def test_a_token_signed_by_another_key_is_a_bad_signature() -> None:
    with override_settings(PASS_SIGNING_KEY=signing_key(passcode.current_key_id(), new_seed())):
        forged = passcode.encode(pass_id=123_456, valid_until=UNTIL)
    assert error_code(forged) == "bad_signature"


def test_a_token_under_an_unknown_key_id_is_refused() -> None:
    with override_settings(PASS_SIGNING_KEY=signing_key(200, new_seed())):
        stranger = passcode.encode(pass_id=1, valid_until=UNTIL)
    assert error_code(stranger) == "unknown_key"


@given(st.text(max_size=300))
def test_arbitrary_text_only_ever_raises_token_error(text: str) -> None:
    with pytest.raises(TokenError) as exc:
        passcode.decode(text)
    assert exc.value.code in {"malformed", "unknown_key", "bad_signature"}


@given(st.text(alphabet=ALPHABET + ALPHABET.lower() + " \n", min_size=110, max_size=130))
def test_arbitrary_token_shaped_text_is_refused(text: str) -> None:
    with pytest.raises(TokenError):
        passcode.decode(text)


# --- rotation and the published keys -------------------------------------------------------


def test_it_rotates_keys_and_keeps_old_tokens_verifying() -> None:
    seed1, seed2 = new_seed(), new_seed()
    with override_settings(PASS_SIGNING_KEY=signing_key(1, seed1), PASS_VERIFY_KEYS=[]):
        old = passcode.encode(pass_id=42, valid_until=UNTIL)
        assert passcode.decode(old).key_id == 1

    with override_settings(
        PASS_SIGNING_KEY=signing_key(2, seed2), PASS_VERIFY_KEYS=[verify_key(1, seed1)]
    ):
        assert passcode.current_key_id() == 2
        assert passcode.decode(old) == passcode.Claims(key_id=1, pass_id=42, valid_until=UNTIL)
        new = passcode.encode(pass_id=42, valid_until=UNTIL)
        assert new != old
        assert passcode.decode(new).key_id == 2
        jwks = passcode.public_jwks()

    def b64url(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    assert jwks == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": "EdDSA",
                "kid": "1",
                "x": b64url(public_raw(seed1)),
                "active": False,
            },
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": "EdDSA",
                "kid": "2",
                "x": b64url(public_raw(seed2)),
                "active": True,
            },
        ]
    }

    # Once the old key is retired its tokens are refused.
    with override_settings(PASS_SIGNING_KEY=signing_key(2, seed2), PASS_VERIFY_KEYS=[]):
        assert error_code(old) == "unknown_key"
        assert passcode.decode(new).key_id == 2


def test_the_published_key_checks_a_token_offline(token: str) -> None:
    (key,) = passcode.public_jwks()["keys"]
    x = base64.urlsafe_b64decode(key["x"] + "=")
    raw = base64.b32decode(token + "===")
    # What a device does with the published key alone: the layout documented in passcode.py.
    Ed25519PublicKey.from_public_bytes(x).verify(raw[9:], b"TP1" + raw[:9])
    assert raw[0] == int(key["kid"])
    assert int.from_bytes(raw[1:5], "big") == 123_456


def test_listing_the_active_public_key_among_verify_keys_is_harmless() -> None:
    seed = new_seed()
    with override_settings(
        PASS_SIGNING_KEY=signing_key(3, seed), PASS_VERIFY_KEYS=[verify_key(3, seed)]
    ):
        assert passcode.decode(passcode.encode(pass_id=9, valid_until=UNTIL)).pass_id == 9
        assert [k["kid"] for k in passcode.public_jwks()["keys"]] == ["3"]


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signing", "verify"),
    [
        ("no-colon-here", []),
        ("x:" + base64.b64encode(bytes(32)).decode(), []),
        ("256:" + base64.b64encode(bytes(32)).decode(), []),
        ("-1:" + base64.b64encode(bytes(32)).decode(), []),
        ("1:" + base64.b64encode(bytes(16)).decode(), []),  # too short a seed
        ("1:%%%%", []),
        ("1:种子", []),
        (signing_key(1, bytes(32)), ["garbage"]),
        (signing_key(1, bytes(32)), ["2:" + base64.b64encode(bytes(5)).decode()]),
        (signing_key(1, bytes(32)), ["999:" + base64.b64encode(public_raw(bytes(32))).decode()]),
        # Another key under the active key id would break every new token.
        (signing_key(1, bytes(32)), [verify_key(1, b"\x01" * 32)]),
    ],
)
def test_bad_key_configuration_is_refused_clearly(signing: str, verify: list[str]) -> None:
    with override_settings(PASS_SIGNING_KEY=signing, PASS_VERIFY_KEYS=verify):
        with pytest.raises(ImproperlyConfigured):
            passcode.encode(pass_id=1, valid_until=UNTIL)
        with pytest.raises(ImproperlyConfigured):
            passcode.public_jwks()


# --- the development key --------------------------------------------------------------------


@pytest.fixture
def dev_key_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "var" / "keys" / "pass-signing.key"
    with override_settings(PASS_SIGNING_KEY="", PASS_DEV_KEY_PATH=path):
        yield path


def test_it_creates_a_private_development_key_on_first_use(dev_key_path: Path) -> None:
    assert not dev_key_path.exists()
    token = passcode.encode(pass_id=5, valid_until=UNTIL)

    assert stat.S_IMODE(dev_key_path.stat().st_mode) == 0o600
    content = dev_key_path.read_text()
    kid, seed = content.strip().split(":")
    assert kid == "1" and len(base64.b64decode(seed)) == 32
    assert passcode.decode(token).pass_id == 5
    # Only the key itself is left in the directory.
    assert list(dev_key_path.parent.iterdir()) == [dev_key_path]


def test_it_reuses_the_development_key(dev_key_path: Path) -> None:
    token = passcode.encode(pass_id=5, valid_until=UNTIL)
    first = dev_key_path.read_text()
    passcode.keyring.cache_clear()  # as a restarted process would
    assert passcode._load_development_key(dev_key_path) == first.strip()
    assert passcode.decode(token).pass_id == 5
    assert dev_key_path.read_text() == first


def test_concurrent_threads_agree_on_one_development_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "dev.key"
    start = threading.Barrier(12)
    results: list[str] = []

    def load() -> None:
        start.wait()
        results.append(passcode._load_development_key(path))

    threads = [threading.Thread(target=load) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert set(results) == {path.read_text().strip()}
    assert results[0].startswith("1:")


def test_concurrent_processes_agree_on_one_development_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "dev.key"
    # spawn, not fork: a forked pytest worker with threads is not a clean process.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(passcode._load_development_key, [path] * 8)
    assert set(results) == {path.read_text().strip()}
    assert results[0].startswith("1:")
