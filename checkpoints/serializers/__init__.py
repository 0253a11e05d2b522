"""Input and output serializers of the checkpoint API (``checkpoints.apis``), by subject: the
scan (``scans``), what staff do besides (``desk``), the offline bundle (``bundle``), and the
fields they share (``fields``). Each input field's messages name it ("Enter the number plate."),
so that each reads on its own where the tablet shows it. The scan's own body and answer, on the
hot path, are handled by hand instead (``checkpoints.scan_bodies``); the serializers here
document them and word their errors."""

from checkpoints.serializers.bundle import (
    BundleCheckpointSerializer,
    BundleKeySerializer,
    BundleOutputSerializer,
    BundlePolicySerializer,
)
from checkpoints.serializers.desk import (
    CheckpointOutputSerializer,
    ConfirmInputSerializer,
    LandingResultInputSerializer,
    LookupPassSerializer,
    OverrideInputSerializer,
    WalkInInputSerializer,
    WalkInOutputSerializer,
)
from checkpoints.serializers.scans import (
    MAX_CLOCK_OFFSET_MS,
    EarlierRefusalSerializer,
    OfflineInputSerializer,
    ScanDriverSerializer,
    ScanInputSerializer,
    ScanOutputSerializer,
    ScanOverrideSerializer,
    ScanPassSerializer,
    ScanTripSerializer,
)

__all__ = [
    "MAX_CLOCK_OFFSET_MS",
    "BundleCheckpointSerializer",
    "BundleKeySerializer",
    "BundleOutputSerializer",
    "BundlePolicySerializer",
    "CheckpointOutputSerializer",
    "ConfirmInputSerializer",
    "EarlierRefusalSerializer",
    "LandingResultInputSerializer",
    "LookupPassSerializer",
    "OfflineInputSerializer",
    "OverrideInputSerializer",
    "ScanDriverSerializer",
    "ScanInputSerializer",
    "ScanOutputSerializer",
    "ScanOverrideSerializer",
    "ScanPassSerializer",
    "ScanTripSerializer",
    "WalkInInputSerializer",
    "WalkInOutputSerializer",
]
