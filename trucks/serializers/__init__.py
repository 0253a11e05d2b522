"""Serializers of the registration API (``trucks.apis``): the trip's input and output
(``trips``), the reference reads (``places``) and the field helpers they share (``fields``)."""

from trucks.serializers.fields import TimeField
from trucks.serializers.places import (
    ConsigneeOutputSerializer,
    JwksKeySerializer,
    KeysOutputSerializer,
    RegionFilterSerializer,
    RegionOutputSerializer,
    RegionRiskInputSerializer,
)
from trucks.serializers.trips import (
    DriverChangeInputSerializer,
    PassOutputSerializer,
    PersonInputSerializer,
    PersonOutputSerializer,
    PlateInputSerializer,
    ReasonSerializer,
    TestResultInputSerializer,
    TripFilterSerializer,
    TripInputSerializer,
    TripOutputSerializer,
    trip_context,
)

__all__ = [
    "ConsigneeOutputSerializer",
    "DriverChangeInputSerializer",
    "JwksKeySerializer",
    "KeysOutputSerializer",
    "PassOutputSerializer",
    "PersonInputSerializer",
    "PersonOutputSerializer",
    "PlateInputSerializer",
    "ReasonSerializer",
    "RegionFilterSerializer",
    "RegionOutputSerializer",
    "RegionRiskInputSerializer",
    "TestResultInputSerializer",
    "TimeField",
    "TripFilterSerializer",
    "TripInputSerializer",
    "TripOutputSerializer",
    "trip_context",
]
