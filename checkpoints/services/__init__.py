"""Operations that write at the checkpoint: scans (``scan``, with the decision under the trip's
lock in ``locked`` and its SQL in ``sql``; scans a tablet decided offline in ``offline``), what
staff do after a scan (``after_scan``), the consignee's arrival (``arrival``), alerts
(``alerts``) and who may act where (``access``). Callers use the names below, from
``checkpoints.services``."""

from checkpoints.services.access import checkpoint_access, staff_may_scan
from checkpoints.services.after_scan import (
    WalkInInput,
    landing_test_result,
    landing_test_sample,
    scan_confirm,
    scan_override,
    walk_in_record,
)
from checkpoints.services.alerts import alerts_acknowledge, alerts_resolve
from checkpoints.services.arrival import trip_confirm_arrival
from checkpoints.services.locked import offline_conflicts, scan_priority_lane
from checkpoints.services.offline import OFFLINE_LIMIT
from checkpoints.services.records import (
    OfflineVerdict,
    PassRecord,
    ScanInput,
    ScanOutcome,
    ScanRecord,
    TripRecord,
)
from checkpoints.services.scan import (
    plate_recheck_error,
    scan_id_check,
    scan_if_session_holds,
    scan_message,
    scan_perform,
    sessions_confirmable,
)

__all__ = [
    "OFFLINE_LIMIT",
    "OfflineVerdict",
    "PassRecord",
    "ScanInput",
    "ScanOutcome",
    "ScanRecord",
    "TripRecord",
    "WalkInInput",
    "alerts_acknowledge",
    "alerts_resolve",
    "checkpoint_access",
    "landing_test_result",
    "landing_test_sample",
    "offline_conflicts",
    "plate_recheck_error",
    "scan_confirm",
    "scan_id_check",
    "scan_if_session_holds",
    "scan_message",
    "scan_override",
    "scan_perform",
    "scan_priority_lane",
    "sessions_confirmable",
    "staff_may_scan",
    "trip_confirm_arrival",
    "walk_in_record",
]
