"""The scan page decides a scan offline as the server does (static/js/scan-offline.js beside
checkpoints/verification.py): ``decide`` on thousands of facts, a product of every dimension the
decision reads, gives in the browser what it gives in Python, field by field."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from checkpoints import verification
from checkpoints.models import Alert, Reason, Warning
from checkpoints.verification import Facts
from tests.browser.offline import ms, offline_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENS = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(hours=12)
MS = timedelta(milliseconds=1)
# Where the scan falls in the pass's window, its edges to the millisecond.
MOMENTS = [
    OPENS - MS,
    OPENS,
    OPENS + timedelta(hours=3),
    CLOSES - MS,
    CLOSES,
    CLOSES + timedelta(days=1),
]
PLATE = "豫H12345"
HERE, THERE = 3, 7
PASS_STATUSES = ["active", "revoked", "expired", "completed"]
TRIP_STATUSES = ["registered", "inside", "arrived", "exited", "cancelled", "expired"]
# (entry checkpoint, strict checkpoint policy)
CHECKPOINTS = [(HERE, False), (HERE, True), (THERE, False), (THERE, True)]
PERSONS = [None, 2, 3, 0]  # 2 expected
PLATES = ["", PLATE, "豫H54321"]
# An earlier refusal here, before the scan by this much (None: never; negative: after it).
REFUSALS = [
    None,
    timedelta(0),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(minutes=30) + MS,
    -MS,
]


def facts_of(
    direction: str,
    pass_status: str,
    trip_status: str,
    colour: str,
    at: datetime,
    multi_entry: bool,
    entry: tuple[int, bool] = (HERE, False),
    persons: int | None = None,
    plate: str = "",
    refused: timedelta | None = None,
) -> Facts:
    return Facts(
        direction=direction,
        at=at,
        pass_status=pass_status,
        colour=colour,
        valid_from=OPENS,
        valid_until=CLOSES,
        trip_status=trip_status,
        multi_entry=multi_entry,
        registered_plate=PLATE,
        entry_checkpoint_id=entry[0],
        checkpoint_id=HERE,
        strict_checkpoint=entry[1],
        persons_expected=2,
        observed_plate=plate,
        observed_persons=persons,
        earlier_refusal_at=None if refused is None else at - refused,
    )


def cases() -> list[Facts]:
    """Every state, colour, moment and checkpoint in every direction (6,912 facts), each with
    one of the 72 mixes of persons, plate and earlier refusal in turn; then every mix in full
    beside a few states that reach each warning (576 more)."""
    mixes = list(itertools.product(PERSONS, PLATES, REFUSALS))
    core = itertools.product(
        ["in", "out"], PASS_STATUSES, TRIP_STATUSES, ["green", "yellow", "red"], MOMENTS,
        [False, True], CHECKPOINTS,
    )  # fmt: skip
    table = [
        facts_of(*dims, *mixes[(i * 29) % len(mixes)])  # 29, prime to 72: every mix comes round
        for i, dims in enumerate(core)
    ]
    states = [
        ("active", "registered", "green", MOMENTS[2], False, (HERE, False)),
        ("active", "registered", "yellow", MOMENTS[2], True, (THERE, False)),
        ("active", "inside", "red", MOMENTS[5], True, (HERE, True)),
        ("expired", "arrived", "green", MOMENTS[4], False, (THERE, True)),
    ]
    for direction, state, mix in itertools.product(["in", "out"], states, mixes):
        table.append(facts_of(direction, *state, *mix))
    return table


def as_js(f: Facts) -> dict[str, Any]:
    """Facts in the script's terms: camelCase, times in milliseconds."""
    words = {
        key.split("_")[0] + "".join(w.title() for w in key.split("_")[1:]): value
        for key, value in asdict(f).items()
    }
    return {
        **words,
        **{k: ms(v) for k, v in words.items() if isinstance(v, datetime)},
    }


def python_decision(f: Facts) -> dict[str, Any]:
    d = verification.decide(f)
    return {
        "verdict": str(d.verdict),
        "reason": str(d.reason),
        "warnings": [str(w) for w in d.warnings],
        "tripStatus": d.trip_status,
        "passStatus": d.pass_status,
        "alert": None if d.alert is None else str(d.alert),
    }


def test_decide_gives_the_servers_decision_on_every_case(
    chromium: Any, live_server: Any, regions: None
) -> None:
    table = cases()
    expected = [python_decision(f) for f in table]
    # The table reaches every branch: each reason decide gives, each warning, each alert, each
    # change of state.
    assert {d["reason"] for d in expected} == set(Reason) - {Reason.INVALID, Reason.UNKNOWN}
    assert {w for d in expected for w in d["warnings"]} == set(Warning)
    assert {d["alert"] for d in expected} == {
        None, Alert.Kind.RED_CODE, Alert.Kind.ALREADY_INSIDE, Alert.Kind.PLATE_MISMATCH
    }  # fmt: skip
    assert {(d["tripStatus"], d["passStatus"]) for d in expected} == {
        (None, None), ("inside", None), ("exited", None), ("exited", "completed")
    }  # fmt: skip
    assert len(table) == 7488
    page = offline_page(chromium, live_server)

    browser = page.evaluate("(table) => table.map(ScanOffline.decide)", [as_js(f) for f in table])

    differ = [(f, e, b) for f, e, b in zip(table, expected, browser, strict=True) if e != b]
    assert differ[:5] == [] and len(browser) == len(table)
    page.context.close()


def test_the_facts_keep_their_names_in_the_script() -> None:
    """as_js spells Facts' fields as the contract names them (camelCase, ms)."""
    f = facts_of("in", "active", "registered", "green", MOMENTS[2], False, refused=MS)
    assert as_js(f) == {
        "direction": "in",
        "at": ms(MOMENTS[2]),
        "passStatus": "active",
        "colour": "green",
        "validFrom": ms(OPENS),
        "validUntil": ms(CLOSES),
        "tripStatus": "registered",
        "multiEntry": False,
        "registeredPlate": PLATE,
        "entryCheckpointId": HERE,
        "checkpointId": HERE,
        "strictCheckpoint": False,
        "personsExpected": 2,
        "observedPlate": "",
        "observedPersons": None,
        "earlierRefusalAt": ms(MOMENTS[2]) - 1,
    }
