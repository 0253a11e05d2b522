"""Operations that write on the registration side, by subject. Views, API views, commands and
tasks call these; they hold the rules and the transactions. Everything public is named here, so
callers write ``services.trip_register``."""

from trucks.services.changes import (
    trip_cancel,
    trip_change_driver,
    trip_correct_plate,
    trip_record_landing_test,
    trip_set_test_result,
)
from trucks.services.fleet import driver_add, vehicle_add
from trucks.services.inputs import PersonData, TripData
from trucks.services.lanes import PriorityLanes, priority_lane_at, priority_lanes
from trucks.services.passes import pass_issue, pass_regrade, pass_token, trip_grade
from trucks.services.policy import (
    POLICY_FIELDS,
    pass_window,
    policy_current,
    policy_current_cached,
    policy_draft,
    policy_publish,
)
from trucks.services.regions import RiskSet, region_set_risk, regions_chosen, regions_set_risk
from trucks.services.registration import (
    MAX_CO_RIDERS,
    MAX_TRAVEL_HISTORY,
    trip_reference,
    trip_register,
)
from trucks.services.series import (
    MAX_SERIES_DAYS,
    SeriesCancelled,
    trip_series_cancel,
    trip_series_create,
)
from trucks.services.whitelist import (
    WHITELIST_REASON_MAX_LENGTH,
    WhitelistData,
    WhitelistMatch,
    whitelist_entry_create,
    whitelist_entry_for,
    whitelist_entry_revoke,
    whitelist_entry_update,
    whitelist_match,
    whitelist_open,
)

__all__ = [
    "MAX_CO_RIDERS",
    "MAX_SERIES_DAYS",
    "MAX_TRAVEL_HISTORY",
    "POLICY_FIELDS",
    "WHITELIST_REASON_MAX_LENGTH",
    "PersonData",
    "PriorityLanes",
    "RiskSet",
    "SeriesCancelled",
    "TripData",
    "WhitelistData",
    "WhitelistMatch",
    "driver_add",
    "pass_issue",
    "pass_regrade",
    "pass_token",
    "pass_window",
    "policy_current",
    "policy_current_cached",
    "policy_draft",
    "policy_publish",
    "priority_lane_at",
    "priority_lanes",
    "region_set_risk",
    "regions_chosen",
    "regions_set_risk",
    "trip_cancel",
    "trip_change_driver",
    "trip_correct_plate",
    "trip_grade",
    "trip_record_landing_test",
    "trip_reference",
    "trip_register",
    "trip_series_cancel",
    "trip_series_create",
    "trip_set_test_result",
    "vehicle_add",
    "whitelist_entry_create",
    "whitelist_entry_for",
    "whitelist_entry_revoke",
    "whitelist_entry_update",
    "whitelist_match",
    "whitelist_open",
]
