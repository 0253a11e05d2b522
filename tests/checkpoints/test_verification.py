"""checkpoints.verification.decide: every reason code and warning of docs/architecture.md,
"Verification outcomes", the state changes a scan asks for, and which reason wins when several
apply."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import translation

from checkpoints import verification
from checkpoints.models import Reason, Warning
from checkpoints.verification import Decision, Facts, decide

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
HERE, ELSEWHERE = 1, 2


def facts(**changes: Any) -> Facts:
    """A green, active, registered pass for this checkpoint, scanned on entry inside its
    window, with the plate and persons as registered unless a test says otherwise."""
    base = Facts(
        direction="in",
        at=NOW,
        pass_status="active",
        colour="green",
        valid_from=NOW - timedelta(hours=2),
        valid_until=NOW + timedelta(hours=30),
        trip_status="registered",
        multi_entry=False,
        registered_plate="豫H12345",
        entry_checkpoint_id=HERE,
        checkpoint_id=HERE,
        strict_checkpoint=False,
        persons_expected=2,
    )
    return replace(base, **changes)


def exit_facts(**changes: Any) -> Facts:
    """The same pass on its way out, the truck inside unless a test says otherwise."""
    return facts(**{"direction": "out", "trip_status": "inside", **changes})


def outcome(d: Decision) -> tuple[str, str, tuple[str, ...]]:
    return (d.verdict, d.reason, tuple(d.warnings))


# ---------------------------------------------------------------------------------------------
# Entry: each reason


def test_a_green_pass_is_admitted_and_the_trip_goes_inside() -> None:
    d = decide(facts())

    assert outcome(d) == ("admit", "ok", ())
    assert d.trip_status == "inside"
    assert d.pass_status is None
    assert d.alert is None


def test_a_yellow_pass_is_admitted_with_a_landing_test() -> None:
    d = decide(facts(colour="yellow"))

    assert outcome(d) == ("admit_with_test", "test_required", ())
    assert d.trip_status == "inside"
    assert d.alert is None


def test_a_red_pass_is_refused_and_raises_an_alert() -> None:
    d = decide(facts(colour="red"))

    assert outcome(d) == ("refuse", "red_code", ())
    assert d.alert == "red_code"
    assert d.trip_status is None
    assert d.pass_status is None


def test_a_revoked_pass_is_refused() -> None:
    d = decide(facts(pass_status="revoked"))

    assert outcome(d) == ("refuse", "revoked", ())
    assert (d.trip_status, d.pass_status, d.alert) == (None, None, None)


def test_a_cancelled_trip_is_refused() -> None:
    d = decide(facts(trip_status="cancelled", pass_status="revoked"))

    assert outcome(d) == ("refuse", "cancelled", ())
    assert (d.trip_status, d.pass_status, d.alert) == (None, None, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"at": NOW + timedelta(hours=30)},  # the end of the window is outside it
        {"at": NOW + timedelta(days=3)},
        {"pass_status": "expired"},  # the lifecycle task expired it
        {"trip_status": "expired"},
    ],
    ids=["at-the-end", "after-the-end", "pass-expired", "trip-expired"],
)
def test_an_expired_pass_is_refused(changes: dict[str, Any]) -> None:
    d = decide(facts(**changes))

    assert outcome(d) == ("refuse", "expired", ())
    assert d.trip_status is None


def test_a_pass_is_valid_from_the_first_instant_of_its_window() -> None:
    f = facts()

    assert decide(replace(f, at=f.valid_from)).reason == "ok"
    assert decide(replace(f, at=f.valid_until - timedelta(microseconds=1))).reason == "ok"


def test_a_pass_before_its_window_is_refused() -> None:
    f = facts()

    d = decide(replace(f, at=f.valid_from - timedelta(microseconds=1)))

    assert outcome(d) == ("refuse", "not_yet_valid", ())
    assert d.trip_status is None


@pytest.mark.parametrize("status", ["inside", "arrived"])
def test_an_entry_for_a_truck_already_inside_is_refused_with_an_alert(status: str) -> None:
    d = decide(facts(trip_status=status))

    assert outcome(d) == ("refuse", "already_inside", ())
    assert d.alert == "already_inside"
    assert d.trip_status is None


def test_another_plate_is_refused_with_an_alert() -> None:
    d = decide(facts(observed_plate="豫H99999"))

    assert outcome(d) == ("refuse", "plate_mismatch", ())
    assert d.alert == "plate_mismatch"
    assert d.trip_status is None


def test_the_registered_plate_or_no_plate_is_no_mismatch() -> None:
    assert decide(facts(observed_plate="豫H12345")).reason == "ok"
    assert decide(facts(observed_plate="")).reason == "ok"


def test_another_checkpoint_is_a_warning_by_default() -> None:
    d = decide(facts(checkpoint_id=ELSEWHERE))

    assert outcome(d) == ("admit", "ok", ("wrong_checkpoint",))
    assert d.trip_status == "inside"


def test_another_checkpoint_is_refused_when_the_policy_is_strict() -> None:
    d = decide(facts(checkpoint_id=ELSEWHERE, strict_checkpoint=True))

    assert outcome(d) == ("refuse", "wrong_checkpoint", ())
    assert d.trip_status is None
    assert d.alert is None


def test_a_strict_policy_changes_nothing_at_the_registered_checkpoint() -> None:
    assert outcome(decide(facts(strict_checkpoint=True))) == ("admit", "ok", ())


@pytest.mark.parametrize(
    "changes",
    [{"pass_status": "completed", "trip_status": "exited"}, {"trip_status": "exited"}],
    ids=["pass-completed", "trip-exited"],
)
def test_a_standard_pass_that_entered_and_left_is_used(changes: dict[str, Any]) -> None:
    d = decide(facts(**changes))

    assert outcome(d) == ("refuse", "used", ())
    assert d.trip_status is None


def test_a_completed_multi_entry_pass_is_used() -> None:
    d = decide(facts(multi_entry=True, pass_status="completed", trip_status="exited"))

    assert outcome(d) == ("refuse", "used", ())


def test_a_multi_entry_pass_enters_again_after_leaving() -> None:
    d = decide(facts(multi_entry=True, trip_status="exited"))

    assert outcome(d) == ("admit", "ok", ())
    assert d.trip_status == "inside"


def test_persons_counted_differently_is_a_warning() -> None:
    d = decide(facts(observed_persons=3))

    assert outcome(d) == ("admit", "ok", ("persons_mismatch",))
    assert d.trip_status == "inside"


def test_persons_as_registered_or_not_counted_is_no_warning() -> None:
    assert decide(facts(observed_persons=2)).warnings == ()
    assert decide(facts(observed_persons=None)).warnings == ()
    assert decide(facts(observed_persons=0)).warnings == ("persons_mismatch",)


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(minutes=1), timedelta(minutes=30)])
@pytest.mark.parametrize("make", [facts, exit_facts])
def test_a_refusal_here_shortly_before_is_a_warning(ago: timedelta, make: Any) -> None:
    d = decide(make(earlier_refusal_at=NOW - ago))

    assert d.verdict == "admit"
    assert d.warnings[0] == Warning.REFUSED_RECENTLY


@pytest.mark.parametrize(
    "earlier",
    [None, NOW - timedelta(minutes=30, seconds=1), NOW - timedelta(days=2), NOW + timedelta(1)],
)
def test_an_older_refusal_or_a_later_one_is_no_warning(earlier: datetime | None) -> None:
    # A refusal scanned after this scan (an offline scan synced late) is not an earlier one.
    assert decide(facts(earlier_refusal_at=earlier)).warnings == ()


def test_a_refusal_shortly_before_is_recalled_on_a_refusal_too() -> None:
    d = decide(facts(colour="red", earlier_refusal_at=NOW - timedelta(minutes=5)))

    assert outcome(d) == ("refuse", Reason.RED_CODE, (Warning.REFUSED_RECENTLY,))


def test_only_a_plate_other_than_the_registered_one_differs() -> None:
    assert verification.plate_differs("豫H99999", "豫H12345")
    assert not verification.plate_differs("豫H12345", "豫H12345")
    assert not verification.plate_differs("", "豫H12345")


def test_warnings_are_kept_on_a_refusal() -> None:
    d = decide(facts(colour="red", observed_persons=5, checkpoint_id=ELSEWHERE))

    assert outcome(d) == ("refuse", "red_code", ("persons_mismatch", "wrong_checkpoint"))


# ---------------------------------------------------------------------------------------------
# Exit


@pytest.mark.parametrize("status", ["inside", "arrived"])
def test_an_exit_closes_the_trip_and_completes_the_pass(status: str) -> None:
    d = decide(exit_facts(trip_status=status))

    assert outcome(d) == ("admit", "ok", ())
    assert d.trip_status == "exited"
    assert d.pass_status == "completed"
    assert d.alert is None


@pytest.mark.parametrize("colour", ["yellow", "red"])
def test_an_exit_lets_any_colour_out(colour: str) -> None:
    d = decide(exit_facts(colour=colour))

    assert outcome(d) == ("admit", "ok", ())
    assert d.trip_status == "exited"


def test_an_exit_without_an_entry_is_admitted_with_a_warning() -> None:
    d = decide(exit_facts(trip_status="registered"))

    assert outcome(d) == ("admit", "ok", ("not_inside",))
    assert d.trip_status == "exited"
    assert d.pass_status == "completed"


def test_an_exit_after_the_window_is_admitted_late() -> None:
    f = exit_facts()

    d = decide(replace(f, at=f.valid_until + timedelta(hours=5)))

    assert outcome(d) == ("admit", "ok", ("late_exit",))
    assert d.pass_status == "completed"


def test_an_exit_with_a_pass_the_lifecycle_expired_is_late() -> None:
    d = decide(exit_facts(pass_status="expired"))

    assert outcome(d) == ("admit", "ok", ("late_exit",))
    assert d.trip_status == "exited"
    assert d.pass_status == "completed"


def test_an_exit_of_a_trip_that_never_entered_and_expired_has_both_warnings() -> None:
    f = exit_facts(trip_status="expired", pass_status="expired")

    d = decide(f)

    assert outcome(d) == ("admit", "ok", ("not_inside", "late_exit"))


@pytest.mark.parametrize(
    "changes",
    [{"trip_status": "exited", "pass_status": "completed"}, {"trip_status": "exited"}],
    ids=["pass-completed", "trip-exited"],
)
def test_a_second_exit_is_refused_as_used(changes: dict[str, Any]) -> None:
    d = decide(exit_facts(**changes))

    assert outcome(d) == ("refuse", "used", ())
    assert (d.trip_status, d.pass_status) == (None, None)


def test_an_exit_on_a_revoked_pass_is_refused() -> None:
    assert outcome(decide(exit_facts(pass_status="revoked"))) == ("refuse", "revoked", ())


def test_an_exit_on_a_cancelled_trip_is_refused() -> None:
    d = decide(exit_facts(trip_status="cancelled", pass_status="revoked"))

    assert outcome(d) == ("refuse", "cancelled", ())


def test_an_exit_with_another_plate_is_refused_with_an_alert() -> None:
    d = decide(exit_facts(observed_plate="豫H99999"))

    assert outcome(d) == ("refuse", "plate_mismatch", ())
    assert d.alert == "plate_mismatch"
    assert d.trip_status is None


def test_an_exit_with_persons_counted_differently_has_a_warning() -> None:
    assert decide(exit_facts(observed_persons=1)).warnings == ("persons_mismatch",)


def test_an_exit_ignores_the_checkpoint() -> None:
    d = decide(exit_facts(checkpoint_id=ELSEWHERE, strict_checkpoint=True))

    assert outcome(d) == ("admit", "ok", ())


def test_a_multi_entry_exit_keeps_the_pass_for_the_next_entry() -> None:
    d = decide(exit_facts(multi_entry=True))

    assert outcome(d) == ("admit", "ok", ())
    assert d.trip_status == "exited"
    assert d.pass_status is None  # stays active
    again = decide(facts(multi_entry=True, trip_status=d.trip_status))
    assert outcome(again) == ("admit", "ok", ())


def test_a_multi_entry_exit_after_the_window_completes_the_pass() -> None:
    f = exit_facts(multi_entry=True)

    d = decide(replace(f, at=f.valid_until))

    assert outcome(d) == ("admit", "ok", ("late_exit",))
    assert d.pass_status == "completed"


# ---------------------------------------------------------------------------------------------
# Precedence


@pytest.mark.parametrize(
    "changes",
    [
        {"trip_status": "cancelled", "pass_status": "revoked"},
        {"pass_status": "revoked"},
        {"trip_status": "inside"},
        {"trip_status": "exited", "pass_status": "completed"},
        {"at": NOW + timedelta(days=5)},
        {"at": NOW - timedelta(days=1)},
        {"checkpoint_id": ELSEWHERE, "strict_checkpoint": True},
        {"colour": "red"},
    ],
)
def test_a_plate_mismatch_comes_before_everything(changes: dict[str, Any]) -> None:
    d = decide(facts(observed_plate="豫H99999", **changes))

    assert d.reason == "plate_mismatch"
    assert d.alert == "plate_mismatch"


def test_cancelled_comes_before_revoked() -> None:
    assert decide(facts(trip_status="cancelled", pass_status="revoked")).reason == "cancelled"


def test_revoked_comes_before_already_inside() -> None:
    assert decide(facts(trip_status="inside", pass_status="revoked")).reason == "revoked"


def test_already_inside_comes_before_expired() -> None:
    # A copied code shown after the window closed still tells officials it was shared.
    d = decide(facts(trip_status="inside", at=NOW + timedelta(days=3)))

    assert d.reason == "already_inside"
    assert d.alert == "already_inside"


def test_used_comes_before_expired() -> None:
    d = decide(facts(trip_status="exited", pass_status="completed", at=NOW + timedelta(days=3)))

    assert d.reason == "used"


def test_expired_comes_before_wrong_checkpoint_and_red() -> None:
    d = decide(
        facts(
            colour="red",
            checkpoint_id=ELSEWHERE,
            strict_checkpoint=True,
            at=NOW + timedelta(days=3),
        )
    )

    assert d.reason == "expired"
    assert d.alert is None


def test_not_yet_valid_comes_before_red() -> None:
    d = decide(facts(colour="red", at=NOW - timedelta(days=1)))

    assert d.reason == "not_yet_valid"
    assert d.alert is None


def test_a_strict_wrong_checkpoint_comes_before_red() -> None:
    d = decide(facts(colour="red", checkpoint_id=ELSEWHERE, strict_checkpoint=True))

    assert d.reason == "wrong_checkpoint"


def test_exit_used_comes_before_late_and_not_inside() -> None:
    d = decide(exit_facts(trip_status="exited", at=NOW + timedelta(days=3)))

    assert outcome(d) == ("refuse", "used", ())


# ---------------------------------------------------------------------------------------------
# Messages


@pytest.mark.parametrize("reason", [r for r in Reason.values if r != "ok"])
def test_every_reason_has_its_own_message(reason: str) -> None:
    with translation.override("en"):
        text = verification.message("in", "refuse", reason, [])
        ok = verification.message("in", "admit", "ok", [])

    assert text
    assert text != ok


def test_an_admitted_exit_says_the_exit_is_recorded_with_its_warnings() -> None:
    with translation.override("en"):
        text = verification.message("out", "admit", "ok", ["not_inside", "late_exit"])

    assert text == (
        "Exit recorded. No entry was recorded for this truck. "
        "The pass expired before the truck left."
    )


def test_every_warning_has_a_message() -> None:
    with translation.override("en"):
        texts = [verification.message("in", "admit", "ok", [w]) for w in Warning.values]

    assert len(set(texts)) == len(Warning.values)
