"""The scan page's offline verdict of one scan (static/js/scan-offline.js, ``judge``): on a
bundle in the API's format it answers each kind of pass as the server's decide does
(checkpoints/verification.py), refuses what is not a pass of the bundle (saying when it was
issued since the sync), and counts what the tablet itself did offline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from checkpoints import verification
from checkpoints.verification import Facts
from tests.browser.offline import (
    Key,
    bundle_answer,
    keyring,
    ms,
    offline_page,
    published_keys,
    signed_by,
)
from trucks import validators

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HERE, THERE = 3, 7  # the bundle's checkpoint and another
MS = timedelta(milliseconds=1)
NOW = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
START, END = NOW - timedelta(hours=2), NOW + timedelta(hours=10)
ACTIVE, STRANGER = Key(1), Key(1)


def row(
    pass_id: int,
    colour: str = "green",
    status: str = "active",
    trip_status: str = "registered",
    *,
    start: datetime = START,
    end: datetime = END,
    multi_entry: bool = False,
    entry: int = HERE,
    priority_lane: bool = False,
) -> list[Any]:
    """A bundle row (the contract's fields, in their order)."""
    return [
        pass_id, colour, status, ms(start) // 1000, ms(end) // 1000, trip_status,
        f"豫H{pass_id:05d}", 2, multi_entry, entry, f"JZ-20261201-{pass_id:06d}", priority_lane,
    ]  # fmt: skip


ROWS = {
    "green": row(101),
    "yellow": row(102, "yellow"),
    "red": row(103, "red"),
    "revoked": row(104, status="revoked"),
    "cancelled": row(105, trip_status="cancelled"),
    "expired": row(106, status="expired", trip_status="expired", start=NOW - timedelta(hours=13),
                   end=NOW - timedelta(hours=1)),
    "not yet valid": row(107, start=NOW + timedelta(hours=1)),
    "used": row(108, status="completed", trip_status="exited"),
    "inside": row(109, trip_status="inside"),
    "elsewhere": row(110, entry=THERE),
    "whitelisted": row(111, multi_entry=True, priority_lane=True),
}  # fmt: skip

# Scans one after another on one tablet: `keep` stores the scan's localAfter in `local`.
JUDGE = """async ({answer, delta, scans, catch: caught}) => {
  let bundle = await ScanOffline.bundleFrom(answer);
  if (delta) {
    bundle = await ScanOffline.bundleFrom(delta, bundle);
  }
  const local = new Map();
  const results = [];
  for (const scan of scans) {
    let result;
    try {
      result = await ScanOffline.judge({...scan, bundle, local});
    } catch (error) {
      if (!caught) {
        throw error;
      }
      results.push(error.message);
      continue;
    }
    if (scan.keep) {
      local.set(result.passId, result.localAfter);
    }
    results.push(result);
  }
  return results;
}"""


def token_of(pass_id: int, end: datetime = END, key: Key = ACTIVE) -> str:
    return signed_by(key, pass_id=pass_id, valid_until=end)


def scan(token: str, direction: str = "in", at: datetime = NOW, **more: Any) -> dict[str, Any]:
    return {"token": token, "direction": direction, "at": ms(at), **more}


def server_decision(values: list[Any], direction: str, strict: bool) -> tuple[str, str, list[str]]:
    """What the server's decide says of the same row at NOW."""
    (_, colour, status, start, end, trip_status, plate, persons, multi, entry, *_) = values
    d = verification.decide(
        Facts(
            direction=direction, at=NOW, pass_status=status, colour=colour,
            valid_from=datetime.fromtimestamp(start, tz=UTC),
            valid_until=datetime.fromtimestamp(end, tz=UTC), trip_status=trip_status,
            multi_entry=multi, registered_plate=plate, entry_checkpoint_id=entry,
            checkpoint_id=HERE, strict_checkpoint=strict, persons_expected=persons,
        )
    )  # fmt: skip
    return str(d.verdict), str(d.reason), [str(w) for w in d.warnings]


def judged(page: Any, scans: list[dict[str, Any]], **answer: Any) -> list[Any]:
    """The scans judged one after another on one tablet, from the bundle holding ROWS (with
    ``delta`` laid over it); ``catch``: each scan's error message in place of its result."""
    delta = answer.pop("delta", None)
    catch = answer.pop("catch", False)
    with keyring(ACTIVE):
        keys = published_keys()
    body = bundle_answer(keys, list(ROWS.values()), max_pass_id=1000, **answer)
    if delta is not None:
        delta = bundle_answer(keys, delta, full=False, max_pass_id=1000)
    results: list[Any] = page.evaluate(
        JUDGE, {"answer": body, "delta": delta, "scans": scans, "catch": catch}
    )
    return results


def test_judge_answers_each_kind_of_pass_as_the_server(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = offline_page(chromium, live_server)
    expected = {
        ("green", "in"): ("admit", "ok", []),
        ("yellow", "in"): ("admit_with_test", "test_required", []),
        ("red", "in"): ("refuse", "red_code", []),
        ("revoked", "in"): ("refuse", "revoked", []),
        ("cancelled", "in"): ("refuse", "cancelled", []),
        ("expired", "in"): ("refuse", "expired", []),
        ("not yet valid", "in"): ("refuse", "not_yet_valid", []),
        ("used", "in"): ("refuse", "used", []),
        ("inside", "in"): ("refuse", "already_inside", []),
        ("elsewhere", "in"): ("admit", "ok", ["wrong_checkpoint"]),
        ("whitelisted", "in"): ("admit", "ok", []),
        ("green", "out"): ("admit", "ok", ["not_inside"]),
        ("inside", "out"): ("admit", "ok", []),
        ("expired", "out"): ("admit", "ok", ["not_inside", "late_exit"]),
        ("used", "out"): ("refuse", "used", []),
        ("revoked", "out"): ("refuse", "revoked", []),
    }
    scans = [
        scan(token_of(ROWS[kind][0], datetime.fromtimestamp(ROWS[kind][4], tz=UTC)), direction)
        for kind, direction in expected
    ]

    lax = judged(page, scans)
    strict = judged(page, scans, policy={"strict_checkpoint": True})

    by_kind = dict(zip(expected, lax, strict=True))
    assert {k: (r["verdict"], r["reason"], r["warnings"]) for k, r in by_kind.items()} == expected
    strictly = {
        k: (r["verdict"], r["reason"], r["warnings"]) for k, r in zip(expected, strict, strict=True)
    }
    assert strictly == {**expected, ("elsewhere", "in"): ("refuse", "wrong_checkpoint", [])}
    # Each answer is what the server's own decide makes of the same row.
    for (kind, direction), answer in strictly.items():
        assert answer == server_decision(ROWS[kind], direction, True), (kind, direction)
    for (kind, direction), result in by_kind.items():
        answer = (result["verdict"], result["reason"], result["warnings"])
        assert answer == server_decision(ROWS[kind], direction, False), (kind, direction)
    assert by_kind["red", "in"]["alert"] == "red_code"
    assert by_kind["inside", "in"]["alert"] == "already_inside"
    assert by_kind["whitelisted", "in"]["priorityLane"] is True
    assert {r["newer"] for r in lax + strict} == {False}
    green = by_kind["green", "in"]
    assert (green["alert"], green["priorityLane"], green["passId"]) == (None, False, 101)
    assert green["pass"] == {
        "id": 101,
        "colour": "green",
        "colour_reasons": [],
        "status": "active",
        "valid_from": "2026-12-01T19:30:00.000Z",
        "valid_until": "2026-12-02T07:30:00.000Z",
    }
    assert green["trip"] == {
        "reference": "JZ-20261201-000101",
        "status": "registered",
        "plate": "豫H00101",
        "driver": {"name": "", "id_number": ""},
        "persons_expected": 2,
        "entry_checkpoint": "ZZ01",
        "entry_checkpoint_id": HERE,
        "multi_entry": False,
    }
    assert by_kind["elsewhere", "in"]["trip"]["entry_checkpoint"] is None
    assert green["localAfter"] == {
        "tripStatus": "inside",
        "passStatus": None,
        "lastRefusalAt": None,
    }
    assert page.errors == []
    page.context.close()


def test_judge_refuses_what_is_not_a_pass_of_the_bundle(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = offline_page(chromium, live_server)
    scans = [
        scan(token_of(50)),  # well signed, no such pass below the highest id
        scan(token_of(2000)),  # issued since the sync
        scan(token_of(1000)),  # the highest id itself: it existed, it is not in the bundle
        scan(token_of(101, END + timedelta(hours=1))),  # not this pass's window
        scan(token_of(101, key=STRANGER)),  # forged under our key id
        scan(token_of(101, key=Key(9))),  # a key we never had
        scan("JZ-20261201-000101"),
        scan(token_of(101)[:-1]),
    ]

    results = judged(page, scans)

    assert [(r["reason"], r["newer"], r["tokenError"], r["alert"]) for r in results] == [
        ("unknown", False, None, None),
        ("unknown", True, None, None),
        ("unknown", False, None, None),
        ("unknown", False, None, None),
        ("invalid", False, "bad_signature", "forged"),
        ("invalid", False, "unknown_key", None),
        ("invalid", False, "malformed", None),
        ("invalid", False, "malformed", None),
    ]
    assert {r["verdict"] for r in results} == {"refuse"}
    assert {(r["pass"], r["trip"], r["localAfter"]) for r in results} == {(None, None, None)}
    assert [r["passId"] for r in results[:4]] == [50, 2000, 1000, 101]
    # A scan without its time is an error, not a verdict: no window check would hold.
    no_time = judged(page, [{**scan(token_of(101)), "at": None}], catch=True)
    assert no_time == ["judge needs the time of the scan in milliseconds"]
    page.context.close()


def test_what_this_tablet_did_offline_counts_in_its_next_verdicts(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = offline_page(chromium, live_server)
    green, red, multi = token_of(101), token_of(103), token_of(111)
    later = NOW + timedelta(minutes=10)
    scans = [
        scan(green, keep=True),  # admitted here offline...
        scan(green, at=later, keep=True),  # ...so the same code again is a copy
        scan(green, "out", at=later, keep=True),  # it leaves
        scan(green, at=later + MS),  # and its pass is used
        scan(red, keep=True),  # refused...
        scan(red, at=NOW + timedelta(minutes=30)),  # ...recalled within 30 minutes
        scan(red, at=NOW + timedelta(minutes=30) + MS),  # ...and no longer after
        scan(multi, keep=True),
        scan(multi, "out", at=later, keep=True),  # a multi-entry pass stays in force
        scan(multi, at=later + MS),
    ]

    results = judged(page, scans)

    assert [(r["verdict"], r["reason"], r["warnings"]) for r in results] == [
        ("admit", "ok", []),
        ("refuse", "already_inside", []),
        ("admit", "ok", ["refused_recently"]),
        ("refuse", "used", ["refused_recently"]),
        ("refuse", "red_code", []),
        ("refuse", "red_code", ["refused_recently"]),
        ("refuse", "red_code", []),
        ("admit", "ok", []),
        ("admit", "ok", []),
        ("admit", "ok", []),
    ]
    assert results[1]["alert"] == "already_inside"
    assert results[1]["trip"]["status"] == "inside"
    assert [r["localAfter"] for r in results[:3]] == [
        {"tripStatus": "inside", "passStatus": None, "lastRefusalAt": None},
        {"tripStatus": "inside", "passStatus": None, "lastRefusalAt": ms(later)},
        {"tripStatus": "exited", "passStatus": "completed", "lastRefusalAt": ms(later)},
    ]
    assert results[3]["pass"]["status"] == "completed"
    assert results[8]["localAfter"]["passStatus"] is None
    page.context.close()


def test_judge_reads_the_plate_and_persons_staff_enter_and_a_delta_bundle(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = offline_page(chromium, live_server)
    green, yellow = token_of(101), token_of(102)
    scans = [
        scan(green, observedPlate="豫h·00101 "),  # the registered plate, as typed
        scan(green, observedPlate="豫Ｈ００１０１"),  # full-width
        scan(green, observedPlate="豫H99999", observedPersons=2),
        scan(green, "out", observedPlate="豫H99999"),
        scan(green, observedPersons=3),
        scan(yellow),
    ]
    revoked = row(102, "yellow", status="revoked")

    results = judged(page, scans, delta=[revoked])

    assert [(r["verdict"], r["reason"], r["warnings"], r["alert"]) for r in results] == [
        ("admit", "ok", [], None),
        ("admit", "ok", [], None),
        ("refuse", "plate_mismatch", [], "plate_mismatch"),
        ("refuse", "plate_mismatch", [], "plate_mismatch"),
        ("admit", "ok", ["persons_mismatch"], None),
        ("refuse", "revoked", [], None),  # the delta's row replaced the full bundle's
    ]
    plates = [
        "豫h·00101 ",
        "豫Ｈ００１０１",
        "Ａb-c d_e.f•g",
        "豫H12345678901234567",
        "豫H\x1c00101\x85",  # white space to Python, not to JavaScript's \s
        "豫H\ufeff00101",  # the other way round
        "豫H\u300000101",
    ]
    # As the scan API keeps what staff typed.
    with_python = [validators.normalise_plate(p)[:16] for p in plates]
    assert (
        page.evaluate("(plates) => plates.map(ScanOffline.normalisePlate)", plates) == with_python
    )
    page.context.close()
