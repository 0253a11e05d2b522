"""What the apps' migrations share about the layout before regions, checkpoint sites, the
notifications outbox and hand-over moved into apps of their own (places, notifications,
handover). The tables kept their names; only Django's bookkeeping moved.

A database that the previous layout migrated to its end carries on with no change to its
tables: each app's first migration ``replaces`` the whole previous history, so Django records
it as applied, and the content types of the moved models are renamed (so permissions, admin
log entries and audit history keep pointing at them). A database left part-way through the
previous history must first be migrated to its end with the previous release.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import migrations

PREVIOUS_LAYOUT = [
    ("trucks", "0001_initial"),
    ("trucks", "0002_roles_and_default_policy"),
    ("trucks", "0003_trip_history_without_travel"),
    ("trucks", "0004_trip_loop_times"),
    ("trucks", "0005_trip_indexes_without_status"),
    ("trucks", "0006_lifecycle"),
    ("trucks", "0007_policy_horizon_company_language"),
    ("checkpoints", "0001_initial"),
    ("checkpoints", "0002_initial"),
    ("checkpoints", "0003_scanning"),
    ("checkpoints", "0004_drop_scan_pass_index"),
    ("checkpoints", "0005_lifecycle"),
    ("checkpoints", "0006_scan_earlier_refusal"),
]


def content_types_moved(app_label: str, moves: Iterable[tuple[str, str]]) -> migrations.RunPython:
    """An operation that gives each ``(previous app, model)`` content type the new app label,
    unless the new one already exists (a database that never held the previous layout)."""
    moves = list(moves)

    def forward(apps: Any, schema_editor: Any) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for old_app, model in moves:
            if content_type.objects.using(db).filter(app_label=app_label, model=model).exists():
                continue
            content_type.objects.using(db).filter(app_label=old_app, model=model).update(
                app_label=app_label
            )

    def backward(apps: Any, schema_editor: Any) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for old_app, model in moves:
            content_type.objects.using(db).filter(app_label=app_label, model=model).update(
                app_label=old_app
            )

    return migrations.RunPython(forward, backward)
