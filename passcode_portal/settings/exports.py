"""Settings of the officials' exports (``dashboards.exports``), beside the base settings rather
than in them: where the files are written, how long they are kept, and from how many rows an
export is built by a worker instead of downloaded at once."""

from __future__ import annotations

from passcode_portal.env import envint, envstr
from passcode_portal.settings.base import CELERY_BEAT_SCHEDULE, SPECTACULAR_SETTINGS, VAR_DIR

# A folder of its own, never under a served URL: a file is handed out only by the download view,
# to the official who asked for it and to administrators.
EXPORTS_DIR = envstr("EXPORTS_DIR", str(VAR_DIR / "exports"))
# Hours a built file is kept before the periodic task deletes it.
EXPORTS_KEEP_HOURS = envint("EXPORTS_KEEP_HOURS", 24)
# Above this many rows the page queues the export for a worker instead of streaming it (the API
# always queues): about 1 s of CSV but 15 s of Excel here, a request's patience.
EXPORTS_IMMEDIATE_MAX_ROWS = envint("EXPORTS_IMMEDIATE_MAX_ROWS", 100_000)

# Every 10 min: built files past their time are deleted, exports a lost task left queued are
# queued again, and ones whose worker died while building are marked failed.
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "sweep-exports": {
        "task": "dashboards.tasks.sweep_exports",
        "schedule": 600.0,
        "options": {"expires": 600.0},
    },
}

# The exports API's "kind" (trips or scans) is not the kind of a checkpoint or an alert: its own
# name in the OpenAPI schema. A trip's and a pass's status are answered by the trips and by the
# series of recurring trips: named once each, by the names they had before the series.
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "ENUM_NAME_OVERRIDES": {
        "ExportKindEnum": "dashboards.models.Export.Kind",
        "TripOutputStatusEnum": "trucks.models.TripStatus",
        "PassOutputStatusEnum": "trucks.models.PassStatus",
    },
}
