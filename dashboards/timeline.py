"""A trip's timeline for officials: the registration in full, then every event in order —
grading and each regrading with its reasons and rule version, a driver changed or a plate
corrected (before and after, by whom), scans with checkpoint, staff and verdict, landing tests
and their results, overrides, arrival, exit, cancellation, the notifications sent and the
webhook deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from checkpoints.models import LandingTest, ScanEvent
from dashboards.views import official_only
from handover.models import WebhookDelivery
from notifications.messages import template_label
from notifications.models import Notification
from trucks.models import Colour, Pass, Trip, TripChange


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "—"


def _pass_events(trip: Trip) -> list[Event]:
    """Each pass as graded, and every later change of its colour, reasons, rule version or
    status (the pass's audit history)."""
    events: list[Event] = []
    colours = dict(Colour.choices)
    last: dict[int, Any] = {}
    for record in Pass.history.filter(trip_id=trip.pk).order_by("history_date", "history_id"):
        before = last.get(record.id)
        last[record.id] = record
        reasons = [str(r.get("text") or r.get("code")) for r in (record.reasons or [])]
        lines = [
            _("Colour: %(colour)s") % {"colour": colours.get(record.colour, record.colour)},
            _("Rule version %(version)s") % {"version": record.policy_version},
            *reasons,
        ]
        if before is None:
            events.append(Event(record.history_date, "graded", _("Pass issued and graded"), lines))
        elif (before.colour, before.reasons, before.policy_version) != (
            record.colour,
            record.reasons,
            record.policy_version,
        ):
            events.append(Event(record.history_date, "regraded", _("Regraded"), lines))
        elif before.status != record.status:
            status = record.get_status_display()
            events.append(
                Event(record.history_date, "pass_status", _("Pass %(status)s") % {"status": status})
            )
    return events


def _change_events(trip: Trip) -> list[Event]:
    """A driver changed or a plate corrected: before and after (a driver by name and masked ID
    number, as the audit keeps them) and who did it."""
    events: list[Event] = []
    for change in TripChange.objects.filter(trip=trip).select_related("actor"):
        lines = [
            _("Before: %(value)s") % {"value": change.before_text or "—"},
            _("After: %(value)s") % {"value": change.after_text or "—"},
            _("By %(name)s") % {"name": _name(change.actor)},
        ]
        events.append(Event(change.at, f"changed_{change.kind}", change.get_kind_display(), lines))
    return events


def _scan_events(trip: Trip) -> list[Event]:
    events: list[Event] = []
    scans = ScanEvent.objects.filter(trip=trip).select_related(
        "checkpoint", "staff", "overridden_by"
    )
    for scan in scans.order_by("scanned_at", "pk"):
        lines = [
            scan.checkpoint.name,
            _("Staff: %(name)s") % {"name": _name(scan.staff)},
            scan.get_reason_display(),
        ]
        if scan.offline:
            # Decided by the tablet with no network, and known here only since it synced.
            received = date_format(timezone.localtime(scan.received_at), "Y-m-d H:i:s")
            lines.append(_("Scanned offline, received %(at)s") % {"at": received})
        events.append(
            Event(
                scan.scanned_at,
                "scan",
                f"{scan.get_direction_display()} · {scan.get_verdict_display()}",
                lines,
            )
        )
        if scan.landing_test_sampled_at is not None:
            events.append(
                Event(
                    scan.landing_test_sampled_at,
                    "landing_test",
                    _("Landing test sampled"),
                    [scan.checkpoint.name],
                )
            )
        if scan.landing_test_result_at is not None and scan.landing_test != LandingTest.SAMPLED:
            events.append(
                Event(
                    scan.landing_test_result_at,
                    "landing_result",
                    _("Landing test result: %(result)s")
                    % {"result": scan.get_landing_test_display()},
                )
            )
        if scan.overridden_at is not None:
            events.append(
                Event(
                    scan.overridden_at,
                    "override",
                    _("Overridden by %(name)s") % {"name": _name(scan.overridden_by)},
                    [scan.override_reason],
                )
            )
    return events


def timeline(trip: Trip) -> list[Event]:
    company = trip.company.name if trip.company is not None else "—"
    events = [Event(trip.created_at, "registered", _("Registered"), [company])]
    events += _pass_events(trip)
    events += _change_events(trip)
    events += _scan_events(trip)
    if trip.arrived_at is not None:
        events.append(Event(trip.arrived_at, "arrived", _("Arrival confirmed by the consignee")))
    if trip.cancelled_at is not None:
        events.append(Event(trip.cancelled_at, "cancelled", _("Cancelled")))
    for n in Notification.objects.filter(trip=trip):
        events.append(
            Event(
                n.sent_at or n.created_at,
                "notification",
                _("Notification: %(what)s") % {"what": template_label(n.template)},
                [f"{n.get_channel_display()} · {n.recipient} · {n.get_status_display()}"],
            )
        )
    for d in WebhookDelivery.objects.filter(trip=trip).select_related("subscription"):
        events.append(
            Event(
                d.delivered_at or d.created_at,
                "webhook",
                _("Hand-over: %(event)s") % {"event": d.get_event_display()},
                [f"{d.subscription} · {d.get_status_display()}"],
            )
        )
    return sorted(events, key=lambda e: e.at)


@login_required
def trip_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    official_only(request)
    trip = get_object_or_404(
        Trip.objects.select_related(
            "company", "consignee", "vehicle", "driver", "entry_checkpoint", "origin_region"
        ).prefetch_related("co_riders", "travel_history"),
        pk=pk,
    )
    return render(request, "dashboards/timeline.html", {"trip": trip, "events": timeline(trip)})
