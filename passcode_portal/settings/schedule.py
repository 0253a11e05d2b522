"""The periodic tasks Celery beat runs (``CELERY_BEAT_SCHEDULE``), each with why it runs as often
as it does."""

from __future__ import annotations

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# The outbox sender runs every 30 s whatever was enqueued: a notification whose task was lost
# (the broker was down when the trip was registered) goes out at the latest then.
CELERY_BEAT_SCHEDULE["send-notifications"] = {
    "task": "notifications.tasks.send_notifications",
    "schedule": 30.0,
}
CELERY_BEAT_SCHEDULE["reclaim-notifications"] = {
    "task": "notifications.tasks.reclaim_notifications",
    "schedule": 300.0,
}
# Hand-over webhooks: admitted scans become events every 10 s (handover.scan_events), deliveries go
# out every 15 s whatever was enqueued, and ones stuck in "sending" are reclaimed every 5 min. A
# periodic run that waited longer than its period is dropped: the next one does the same work.
CELERY_BEAT_SCHEDULE["emit-scan-events"] = {
    "task": "handover.tasks.emit_scan_events",
    "schedule": 10.0,
    "options": {"expires": 10.0},
}
CELERY_BEAT_SCHEDULE["deliver-webhooks"] = {
    "task": "handover.tasks.deliver_webhooks",
    "schedule": 15.0,
    "options": {"expires": 15.0},
}
CELERY_BEAT_SCHEDULE["reclaim-webhooks"] = {
    "task": "handover.tasks.reclaim_webhooks",
    "schedule": 300.0,
}

# Lifecycle (trucks.lifecycle, checkpoints.lifecycle): passes expire every minute; reminders and
# overdue alerts every 5 min; a sweep every 10 min regrades passes a lost regrade task left
# behind; personal data past the policy's retention period goes nightly, off peak. Each is
# idempotent, so a run that waited longer than its period is dropped (expires): the next one
# does the same work.
CELERY_BEAT_SCHEDULE["expire-passes"] = {
    "task": "trucks.tasks.expire_passes",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}
CELERY_BEAT_SCHEDULE["send-reminders"] = {
    "task": "notifications.tasks.send_reminders",
    "schedule": 300.0,
    "options": {"expires": 300.0},
}
CELERY_BEAT_SCHEDULE["flag-overdue-trips"] = {
    "task": "checkpoints.tasks.flag_overdue_trips",
    "schedule": 300.0,
    "options": {"expires": 300.0},
}
CELERY_BEAT_SCHEDULE["regrade-stale-passes"] = {
    "task": "trucks.tasks.regrade_stale",
    "schedule": 600.0,
    "options": {"expires": 600.0},
}
CELERY_BEAT_SCHEDULE["anonymise-personal-data"] = {
    "task": "trucks.tasks.anonymise_personal_data",
    "schedule": crontab(hour=3, minute=30),
    "options": {"expires": 3600.0},
}
CELERY_BEAT_SCHEDULE["anonymise-walk-ins"] = {
    "task": "checkpoints.tasks.anonymise_walk_ins",
    "schedule": crontab(hour=3, minute=40),
    "options": {"expires": 3600.0},
}
# The officials' figures: rows not counted yet are added to the roll-ups every 30 s (the
# figures add the rest themselves, so they are exact between runs).
CELERY_BEAT_SCHEDULE["count-figures"] = {
    "task": "dashboards.tasks.count_figures",
    "schedule": 30.0,
    "options": {"expires": 30.0},
}
# Imports of trips (trucks.services.imports): one whose worker has written no progress for ten
# minutes lost it, and is queued again to go on with the rows left.
CELERY_BEAT_SCHEDULE["sweep-trip-imports"] = {
    "task": "trucks.tasks.sweep_trip_imports",
    "schedule": 300.0,
    "options": {"expires": 300.0},
}
