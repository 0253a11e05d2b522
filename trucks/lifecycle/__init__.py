"""Lifecycle work on the registration side (docs/architecture.md, "Lifecycle"), done by Celery
workers (``trucks.tasks``), a module by subject: passes expire at the end of their window
(``expiry``), passes are regraded when a region's risk level or the policy changes
(``regrading``; what such a change would do is shown before it is made, ``preview``), and the
personal data of closed trips is anonymised after the policy's retention period (``retention``).
Reminders are the notifications' side (``notifications.reminders``), and overdue trucks the
checkpoints' (``checkpoints.lifecycle``): they need scans and alerts.

Every function here is idempotent and safe to run twice at once. Each works in bulk statements
whose WHERE clause selects only the rows still to do, so a second run finds nothing, and each
message it queues carries a dedupe key, so a second run queues nothing. Times and lead times
come from the policy in force. Everything public is named here, so callers write
``lifecycle.passes_expire``.
"""

from trucks.lifecycle.expiry import Expired, passes_expire
from trucks.lifecycle.preview import Preview, passes_preview
from trucks.lifecycle.regrading import (
    Regraded,
    passes_regrade,
    passes_regrade_all,
    passes_regrade_region,
    passes_regrade_stale,
)
from trucks.lifecycle.retention import Anonymised, personal_data_anonymise

__all__ = [
    "Anonymised",
    "Expired",
    "Preview",
    "Regraded",
    "passes_expire",
    "passes_preview",
    "passes_regrade",
    "passes_regrade_all",
    "passes_regrade_region",
    "passes_regrade_stale",
    "personal_data_anonymise",
]
