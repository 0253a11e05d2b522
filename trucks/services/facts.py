"""What a registration's checks read from the database: the policy in force, the regions (and
their raised risk levels, for the grade), the open checkpoints, the consignees, and the
vehicle of a plate with whether it may be booked.

A single registration reads each as it needs it (``TripFacts()``, a query each). A file of
thousands of trips reads them once for the file (``TripFacts.for_file``): the same checks, fed
from memory, so a row costs no query for them. Either way the rules are those of
``trucks.services.registration``; this only says where their facts come from.
"""

from __future__ import annotations

from collections.abc import Iterable

from places.models import Checkpoint, Region
from trucks import validators
from trucks.models import Company, Pass, PassStatus, Policy, Vehicle
from trucks.selectors import consignees_list
from trucks.services.policy import policy_current


class TripFacts:
    """Read as asked (the default), or from what ``for_file`` read once."""

    def __init__(self) -> None:
        self._policy: Policy | None = None
        self._regions: set[str] | None = None
        self._checkpoints: dict[str, Checkpoint] | None = None
        self._consignees: dict[int, Company] | None = None
        self._vehicles: dict[str, Vehicle] | None = None
        self._booked: set[int] | None = None
        self._raised: dict[str, str] | None = None

    @classmethod
    def for_file(cls, *, plates: Iterable[str]) -> TripFacts:
        """Everything the checks of a file's rows read, in a few queries: every region code
        (a few thousand), the open checkpoints, the consignees, the policy, the vehicles of the
        file's plates and which of them hold an active pass (only those can be booked)."""
        facts = cls()
        facts._policy = policy_current()
        facts._regions = set(Region.objects.values_list("code", flat=True))
        facts._raised = dict(
            Region.objects.exclude(risk_level="low").values_list("code", "risk_level")
        )
        facts._checkpoints = {c.code: c for c in Checkpoint.objects.filter(active=True)}
        facts._consignees = {c.pk: c for c in consignees_list()}
        wanted = {validators.normalise_plate(p) for p in plates}
        facts._vehicles = {v.plate: v for v in Vehicle.objects.filter(plate__in=wanted)}
        facts._booked = set(
            Pass.objects.filter(
                status=PassStatus.ACTIVE, trip__vehicle__in=list(facts._vehicles.values())
            ).values_list("trip__vehicle_id", flat=True)
        )
        return facts

    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = policy_current()
        return self._policy

    def known_regions(self, codes: set[str]) -> set[str]:
        if self._regions is not None:
            return codes & self._regions
        return set(Region.objects.filter(code__in=codes).values_list("code", flat=True))

    def raised_risks(self) -> dict[str, str] | None:
        """Every region whose risk level is not low, when read for a file; None otherwise (the
        grading reads those of the trip's regions)."""
        return self._raised

    def open_checkpoint(self, code: str) -> Checkpoint | None:
        if self._checkpoints is not None:
            return self._checkpoints.get(code)
        return Checkpoint.objects.filter(code=code, active=True).first()

    def consignee(self, pk: int) -> Company | None:
        if self._consignees is not None:
            return self._consignees.get(pk)
        return Company.objects.filter(pk=pk, is_consignee=True).first()

    def vehicle(self, plate: str) -> Vehicle | None:
        if self._vehicles is not None:
            return self._vehicles.get(plate)
        return Vehicle.objects.filter(plate=plate).first()

    def may_be_booked(self, vehicle: Vehicle) -> bool:
        """False only when it is known the vehicle holds no active pass (so no trip of it can
        overlap); the overlap itself is checked by ``fleet.check_vehicle_free``."""
        return self._booked is None or vehicle.pk in self._booked
