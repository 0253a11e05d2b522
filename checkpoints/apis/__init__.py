"""The checkpoint API: checkpoints, scanning and what follows a scan (confirming plate and
persons, landing tests, overrides), plate-first lookup, walk-ins, the consignee's arrival, and
the bundle a tablet scans offline with."""

from checkpoints.apis.after_scan import (
    LandingTestApi,
    LandingTestResultApi,
    OverrideApi,
    ScanConfirmApi,
)
from checkpoints.apis.bundle import BundleApi
from checkpoints.apis.desk import ArrivalApi, CheckpointListApi, LookupApi, WalkInApi
from checkpoints.apis.scanning import ScanApi

__all__ = [
    "ArrivalApi",
    "BundleApi",
    "CheckpointListApi",
    "LandingTestApi",
    "LandingTestResultApi",
    "LookupApi",
    "OverrideApi",
    "ScanApi",
    "ScanConfirmApi",
    "WalkInApi",
]
