"""The scan page checks pass tokens offline exactly as the server does (static/js/scan-offline.js
beside trucks/passcode.py): every vector signed or spoilt here gets from the browser the answer
``passcode.decode`` gives, with the browser's own Ed25519 and with @noble/ed25519, the fallback
loaded from our static files under the page's Content-Security-Policy."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.offline import (
    VERIFY_ALL,
    Key,
    bundle_answer,
    keyring,
    ms,
    noble_requested,
    offline_page,
    published_keys,
    python_answer,
    signed_by,
)
from trucks import passcode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
UNTIL = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
ACTIVE, RETIRED, STRANGER = Key(1), Key(2), Key(1)


def altered(token: str, index: int) -> str:
    """The token with one bit of byte ``index`` flipped, in canonical base32 again."""
    raw = bytearray(base64.b32decode(token + "==="))
    raw[index] ^= 0x01
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


def with_letters(find: str, replace: str) -> str:
    """A lower-case token holding ``find`` (signed for a pass id found by trying), with it
    written as ``replace``: a letter whose upper case is ASCII (ı → I, ſ → S, ﬀ → FF)."""
    for pass_id in range(1, 5000):
        token = passcode.encode(pass_id=pass_id, valid_until=UNTIL)
        if find in token:
            return token.lower().replace(find.lower(), replace)
    raise AssertionError(f"no token with {find}")


def vectors() -> list[Any]:
    """Tokens good and bad, made under the keyring (ACTIVE signing, RETIRED still accepted)."""
    token = passcode.encode(pass_id=101, valid_until=UNTIL)
    last = ALPHABET.index(token[-1])
    spaced = " ".join(token[i : i + 4] for i in range(0, len(token), 4)).lower()
    return [
        token,
        passcode.encode(pass_id=0, valid_until=datetime(1970, 1, 1, tzinfo=UTC)),
        # The largest pass id and the latest minute: both read as unsigned 32-bit numbers.
        passcode.encode(pass_id=2**32 - 1, valid_until=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        signed_by(RETIRED, pass_id=102, valid_until=UNTIL),  # a retired key still verifies
        *(altered(token, i) for i in (0, 1, 4, 5, 8, 9, 40, 72)),  # byte 0: another key id
        signed_by(STRANGER, pass_id=101, valid_until=UNTIL),  # another key under a known id
        signed_by(Key(9), pass_id=101, valid_until=UNTIL),  # a key id never issued
        signed_by(Key(255), pass_id=101, valid_until=UNTIL),
        token[:-1],  # short
        token + "A",  # long
        token[:-1] + ALPHABET[last + 1],  # the spare bit set: not the canonical form
        token[:50] + "1" + token[51:],  # outside the alphabet
        token[:50] + "8" + token[51:],
        token[:50] + "-" + token[51:],
        token + "=",
        token + "===",
        "",
        "hello",
        "豫H12345",
        None,
        123,
        spaced,  # lower case and spaces: the same token
        token.lower(),
        "\n" + token[:60] + "\t" + token[60:] + "\r\n",
        token[:30] + "\u3000" + token[30:60] + "\xa0" + token[60:],  # ideographic, no-break
        token[:30] + "\x1c" + token[30:],  # white space to Python, not to JavaScript's \s
        token[:30] + "\x85" + token[30:],
        token[:30] + "\ufeff" + token[30:],  # white space to JavaScript's \s, not to Python
        token[:30] + "\u200b" + token[30:],  # zero width: not white space to either
        with_letters("I", "ı"),
        with_letters("S", "ſ"),
        with_letters("FF", "ﬀ"),
        "Ａ" + token[1:],  # full-width: upper-cased still not ASCII
    ]


def signed_vectors() -> tuple[list[Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The vectors, the server's answer to each, and the key set the page is given."""
    with keyring(ACTIVE, RETIRED):
        texts = vectors()
        return texts, [python_answer(t) for t in texts], published_keys()


def one_token() -> tuple[str, list[dict[str, Any]]]:
    """A good token of pass 101 and the one key it is signed with."""
    with keyring(ACTIVE):
        return passcode.encode(pass_id=101, valid_until=UNTIL), published_keys()


LOOKS = [
    "A" * 99,
    "A" * 100,
    "a b" * 34,
    "豫H12345",
    "😀" * 60,  # 60 code points, 120 UTF-16 units
    "😀" * 100,
    " " * 200,
    "JZ-20261201-000001",
]


def test_every_vector_gets_the_servers_answer_with_webcrypto_then_noble(
    chromium: Any, live_server: Any, regions: None
) -> None:
    texts, expected, keys = signed_vectors()
    codes = {a["code"] if not a["ok"] else "ok" for a in expected}
    assert codes == {"ok", "malformed", "unknown_key", "bad_signature"}
    assert sum(a["ok"] for a in expected) >= 12, expected
    page = offline_page(chromium, live_server)

    browser = page.evaluate(VERIFY_ALL, {"texts": texts, "keys": keys})
    assert browser["engine"] == "webcrypto"
    assert list(zip(texts, browser["answers"], strict=True)) == list(
        zip(texts, expected, strict=True)
    )
    # The browser's own Ed25519 answered: the fallback was never fetched.
    assert not noble_requested(page)

    page.evaluate("ScanOffline.useNoble(true)")
    browser = page.evaluate(VERIFY_ALL, {"texts": texts, "keys": keys})
    assert browser["engine"] == "noble"
    assert list(zip(texts, browser["answers"], strict=True)) == list(
        zip(texts, expected, strict=True)
    )
    assert noble_requested(page)

    looks = page.evaluate("(texts) => texts.map(ScanOffline.looksLikeToken)", LOOKS)
    assert looks == [passcode.looks_like_token(t) for t in LOOKS]
    assert page.errors == []
    assert page.outside_requests == []
    page.context.close()


# Chromium before 137 has no Ed25519 in WebCrypto: importKey throws NotSupportedError.
NO_WEBCRYPTO_ED25519 = """(() => {
  const importKey = SubtleCrypto.prototype.importKey;
  SubtleCrypto.prototype.importKey = function (format, key, algorithm, ...rest) {
    const name = typeof algorithm === "string" ? algorithm : algorithm && algorithm.name;
    if (name === "Ed25519") {
      return Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
    }
    return importKey.call(this, format, key, algorithm, ...rest);
  };
})();"""


def test_a_browser_without_ed25519_checks_with_noble_on_its_own(
    chromium: Any, live_server: Any, regions: None
) -> None:
    texts, expected, keys = signed_vectors()
    page = offline_page(chromium, live_server, init_script=NO_WEBCRYPTO_ED25519)
    assert not noble_requested(page)  # loaded on first need, not with the page

    browser = page.evaluate(VERIFY_ALL, {"texts": texts, "keys": keys})

    assert browser["engine"] == "noble"
    assert browser["answers"] == expected
    assert noble_requested(page)
    assert page.errors == []
    page.context.close()


def test_a_fallback_that_cannot_load_says_so_and_is_tried_again(
    chromium: Any, live_server: Any, regions: None
) -> None:
    """No verdict when no Ed25519 can run: a genuine pass is not called forged."""
    token, keys = one_token()
    page = offline_page(chromium, live_server)
    check = """async ({token, keys, url}) => {
      ScanOffline.useNoble(true);
      ScanOffline.configure({nobleUrl: url});
      const ring = await ScanOffline.importKeys(keys);
      try {
        return await ScanOffline.verifyToken(token, ring);
      } catch (error) {
        return {thrown: error.code, unavailable: error instanceof ScanOffline.VerifierUnavailable};
      }
    }"""

    missing = page.evaluate(check, {"token": token, "keys": keys, "url": "/static/no-such.js"})
    served = page.evaluate("document.querySelector('#scan-app').dataset.nobleUrl")
    found = page.evaluate(check, {"token": token, "keys": keys, "url": served})

    assert missing == {"thrown": "verifier_unavailable", "unavailable": True}
    assert found == {"ok": True, "keyId": 1, "passId": 101, "validUntil": ms(UNTIL)}
    assert served.endswith("/vendor/noble-ed25519/index.js")
    page.context.close()


def test_keys_that_do_not_read_are_left_out_and_their_tokens_refused(
    chromium: Any, live_server: Any, regions: None
) -> None:
    token, (good,) = one_token()
    bad = [
        {"kid": "1", "x": good["x"][:-2]},  # 31 bytes
        {"kid": "1", "x": "not base64!"},
        {"kid": "256", "x": good["x"]},
        {"kid": "-1", "x": good["x"]},
        {"kid": "one", "x": good["x"]},
        None,
    ]
    page = offline_page(chromium, live_server)
    answer = """async ({token, keys}) =>
      ScanOffline.verifyToken(token, await ScanOffline.importKeys(keys))"""

    refused = page.evaluate(answer, {"token": token, "keys": bad})
    size = page.evaluate("async (keys) => (await ScanOffline.importKeys(keys)).size", bad)
    admitted = page.evaluate(answer, {"token": token, "keys": [*bad, good]})

    assert refused == {"ok": False, "code": "unknown_key"}
    assert size == 0
    assert admitted["ok"] is True
    page.context.close()


# 200 scans judged one after another, each timed; the bundle holds 5,000 passes.
TIME_JUDGE = """async ({answer, tokens, at}) => {
  const bundle = await ScanOffline.bundleFrom(answer);
  const verdicts = [];
  const took = [];
  for (const token of tokens.slice(0, 20)) {  // warm up: the fallback's import, the JIT
    await ScanOffline.judge({token, direction: "in", at, bundle, local: new Map()});
  }
  const begin = performance.now();
  for (const token of tokens) {
    const start = performance.now();
    const result = await ScanOffline.judge({token, direction: "in", at, bundle, local: new Map()});
    took.push(performance.now() - start);
    verdicts.push(result.verdict);
  }
  const mean = (performance.now() - begin) / tokens.length;  // finer than one call's clock
  took.sort((a, b) => a - b);
  const median = took[took.length >> 1];
  return {verdicts, mean, median, p95: took[Math.floor(took.length * 0.95)]};
}"""


def test_judging_two_hundred_scans_on_each_engine(
    chromium: Any, live_server: Any, regions: None
) -> None:
    """Every scan of the run is admitted on both engines. The times are printed (pytest -s) for
    the benchmark notes, not asserted: they are this machine's."""
    now = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
    start, end = now - timedelta(hours=2), now + timedelta(hours=10)
    with keyring(ACTIVE):
        tokens = [passcode.encode(pass_id=i, valid_until=end) for i in range(1, 201)]
        keys = published_keys()
    rows = [
        [i, "green", "active", ms(start) // 1000, ms(end) // 1000, "registered",
         f"豫H{i:05d}", 2, False, 3, f"JZ-20261201-{i:06d}", False]
        for i in range(1, 5001)
    ]  # fmt: skip
    answer = bundle_answer(keys, rows, max_pass_id=5000)
    page = offline_page(chromium, live_server)

    figures: dict[str, Any] = {}
    for engine in ("webcrypto", "noble"):
        page.evaluate(f"ScanOffline.useNoble({'true' if engine == 'noble' else 'false'})")
        run = page.evaluate(TIME_JUDGE, {"answer": answer, "tokens": tokens, "at": ms(now)})
        assert run["verdicts"] == ["admit"] * 200
        figures[engine] = run
    print()  # the figures are this test's report
    for engine, run in figures.items():
        print(
            f"judge() with {engine}: median {run['median']:.1f} ms, p95 {run['p95']:.1f} ms, "
            f"mean {run['mean']:.3f} ms (performance.now() counts in 0.1 ms steps here)"
        )
    page.context.close()
