"""Who may see a trip and who may change one (docs/architecture.md, "Roles and access"), each rule
written once.

A rule gives the trips it lets a user reach as conditions, each a field path of the trip and the
value it must hold (``("company_id", 7)``): a trip is reached when any of them holds, or every trip
is. The queryset filter and the check of one loaded trip are both derived from those conditions,
so a list and a page cannot disagree about a trip.

- Seeing: officials and administrators see every trip; a dispatcher the company's; a consignee
  those bound for it; a driver their own.
- Changing (a new test result, the plate, cancelling): a dispatcher of the trip's company or the
  trip's own driver. Consignees and officials see trips but do not change them, and neither does
  a member of the company without the dispatcher role.
- Changing the driver: a dispatcher of the trip's company only. A driver registering their own
  trip does not hand it to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from trucks.models import Trip
from trucks.roles import Role, roles_of

AnyUser = AbstractBaseUser | AnonymousUser
# A field path of the trip, as a queryset filter names it, and the value it must hold.
Condition = tuple[str, Any]


@dataclass(frozen=True)
class Reach:
    """The trips a rule lets a user reach: every trip, or those on which any condition holds."""

    every_trip: bool = False
    conditions: tuple[Condition, ...] = ()

    def q(self, through: str = "") -> Q:
        """The filter of the trips reached; ``through`` ("source_trip__") filters rows that
        point to a trip by the trip they point to."""
        if self.every_trip:
            return Q()
        reach = Q(**{f"{through}pk__in": []})
        for path, value in self.conditions:
            reach |= Q(**{through + path: value})
        return reach

    def holds_for(self, trip: Trip) -> bool:
        """The same conditions on one loaded trip. A path through a relation reads the related
        row, so a caller that checks many trips loads it with them (``select_related``)."""
        return self.every_trip or any(
            _value_at(trip, path) == value for path, value in self.conditions
        )


def _value_at(trip: Trip, path: str) -> Any:
    value: Any = trip
    for name in path.split("__"):
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _company_id(user: AnyUser) -> int | None:
    """The company the user's account acts for, whatever the role (cached on the user)."""
    membership = getattr(user, "company_membership", None)
    return membership.company_id if membership is not None else None


def _company_trips(user: AnyUser, roles: frozenset[str]) -> list[Condition]:
    """The trips of the company the user dispatches for."""
    if Role.DISPATCHER in roles and (company_id := _company_id(user)) is not None:
        return [("company_id", company_id)]
    return []


def _own_trips(user: AnyUser, roles: frozenset[str]) -> list[Condition]:
    """The trips that are the user's own: the company's for its dispatcher, a driver's own."""
    conditions = _company_trips(user, roles)
    if Role.DRIVER in roles and user.pk is not None:
        conditions.append(("driver__user_id", user.pk))
    return conditions


def seeing(user: AnyUser) -> Reach:
    """The trips the user may see."""
    roles = roles_of(user)
    if roles & {Role.OFFICIAL, Role.ADMIN}:
        return Reach(every_trip=True)
    conditions = _own_trips(user, roles)
    if Role.CONSIGNEE in roles and (company_id := _company_id(user)) is not None:
        conditions.append(("consignee_id", company_id))
    return Reach(conditions=tuple(conditions))


def changing(user: AnyUser) -> Reach:
    """The trips the user may change: only their own, whoever else sees them."""
    return Reach(conditions=tuple(_own_trips(user, roles_of(user))))


def dispatching(user: AnyUser) -> Reach:
    """The trips whose driver the user may change: the company's, for its dispatcher."""
    return Reach(conditions=tuple(_company_trips(user, roles_of(user))))


def trips_visible_to(user: AnyUser) -> QuerySet[Trip]:
    return Trip.objects.filter(seeing(user).q())


def trip_visible_to(*, user: AnyUser, trip: Trip) -> bool:
    return seeing(user).holds_for(trip)


def trips_changeable_by(user: AnyUser) -> QuerySet[Trip]:
    return Trip.objects.filter(changing(user).q())


def trip_changeable_by(*, user: AnyUser, trip: Trip) -> bool:
    return changing(user).holds_for(trip)


def trip_driver_changeable_by(*, user: AnyUser, trip: Trip) -> bool:
    return dispatching(user).holds_for(trip)
