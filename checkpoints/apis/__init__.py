"""The checkpoint API: checkpoints, scanning and what follows a scan (confirming plate and
persons, landing tests, overrides), plate-first lookup, walk-ins, and the consignee's arrival."""

from checkpoints.apis.after_scan import (
    LandingTestApi,
    LandingTestResultApi,
    OverrideApi,
    ScanConfirmApi,
)
from checkpoints.apis.desk import ArrivalApi, CheckpointListApi, LookupApi, WalkInApi
from checkpoints.apis.scanning import ScanApi

__all__ = [
    "ArrivalApi",
    "CheckpointListApi",
    "LandingTestApi",
    "LandingTestResultApi",
    "LookupApi",
    "OverrideApi",
    "ScanApi",
    "ScanConfirmApi",
    "WalkInApi",
]
