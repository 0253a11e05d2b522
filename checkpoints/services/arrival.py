"""Closing the loop: the consignee confirms that the truck arrived."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from checkpoints import signals
from passcode_portal.errors import DomainError, PermissionDenied
from trucks.models import Trip, TripStatus


@transaction.atomic
def trip_confirm_arrival(*, actor: User, trip: Trip) -> Trip:
    """The consignee confirms the truck arrived (docs/architecture.md, "Closing the loop"): inside →
    arrived."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    membership = getattr(actor, "company_membership", None)
    if membership is None or trip.consignee_id != membership.company_id:
        raise PermissionDenied(
            "not_consignee", _("Only the trip's consignee confirms its arrival.")
        )
    if trip.status == TripStatus.ARRIVED:
        return trip
    if trip.status != TripStatus.INSIDE:
        raise DomainError(
            "not_inside",
            _("Only a truck that entered the city can be confirmed as arrived."),
            status=409,
        )
    trip.status = TripStatus.ARRIVED
    trip.arrived_at = timezone.now()
    trip.save(update_fields=["status", "arrived_at", "updated_at"])
    # Hand-over (接力棒) hears of it in this transaction.
    signals.trip_arrived.send(sender=Trip, trip=trip)
    return trip
