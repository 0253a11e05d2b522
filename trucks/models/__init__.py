"""Registration side: companies, drivers, vehicles, trips, passes and the grading policy, a
module by subject. Every model is named here, so callers write ``from trucks.models import Trip``.

Single-row rules live here; operations that write live in ``trucks.services``.
"""

from trucks.models.changes import TripChange
from trucks.models.companies import Company, CompanyMember, Language
from trucks.models.fleet import Driver, Vehicle
from trucks.models.imports import TripImport, TripImportRow
from trucks.models.passes import Colour, Pass, PassStatus
from trucks.models.policy import Policy
from trucks.models.series import TripSeries
from trucks.models.trips import CargoCategory, CoRider, TestResult, Trip, TripStatus
from trucks.models.whitelist import WhitelistEntry

__all__ = [
    "CargoCategory",
    "CoRider",
    "Colour",
    "Company",
    "CompanyMember",
    "Driver",
    "Language",
    "Pass",
    "PassStatus",
    "Policy",
    "TestResult",
    "Trip",
    "TripChange",
    "TripImport",
    "TripImportRow",
    "TripSeries",
    "TripStatus",
    "Vehicle",
    "WhitelistEntry",
]
