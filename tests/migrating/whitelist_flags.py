"""Run as a script against a scratch database (DATABASE_URL), one phase per process, for
``test_whitelist_flags``:

- ``before``: migrate to the last migration that still holds the companies' whitelist flags
  (``trucks`` 0004) and write companies with and without the flag, through the historical models;
- ``after``: migrate to the end and print the whitelist entries made, and whether the flags' columns
  are gone, as JSON;
- ``back``: migrate back to ``trucks`` 0004 and print the flags the entries gave back.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passcode_portal.settings.test")
django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

WITH_FLAGS = ("trucks", "0004_whitelist_entries")
CREATED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
UNTIL = datetime(2027, 1, 31, 16, 0, tzinfo=UTC)


def _migrate(targets: list[tuple[str, str]] | None = None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(targets or leaves)
    executor.loader.build_graph()
    return executor


def before() -> None:
    executor = MigrationExecutor(connection)
    leaves = [n for n in executor.loader.graph.leaf_nodes() if n[0] != "trucks"]
    executor.migrate([*leaves, WITH_FLAGS])
    apps = executor.loader.project_state([WITH_FLAGS]).apps
    company = apps.get_model("trucks", "Company")
    rows = [
        ("保供有期限", "91410800MA00000011", True, UNTIL, "保供企业（第3批）"),
        ("保供无期限", "91410800MA00000022", True, None, ""),
        ("未列入", "91410800MA00000033", False, UNTIL, "旧的理由"),
    ]
    for name, uscc, whitelisted, until, reason in rows:
        made = company.objects.create(
            name=name,
            uscc=uscc,
            contact_name="王经理",
            contact_phone="13903910001",
            whitelisted=whitelisted,
            whitelist_until=until,
            whitelist_reason=reason,
        )
        company.objects.filter(pk=made.pk).update(created_at=CREATED)


def after() -> None:
    _migrate()
    from trucks.models import Company, WhitelistEntry

    entries = [
        {
            "company": e.company.name,
            "plates": e.plates,
            "cargo_categories": e.cargo_categories,
            "valid_from": e.valid_from.isoformat(),
            "valid_until": e.valid_until.isoformat() if e.valid_until else None,
            "priority_lane": e.priority_lane,
            "reason": e.reason,
            "revoked": e.revoked_at is not None,
            "history": [
                [h.history_type, h.history_user_id, h.history_change_reason]
                for h in e.history.all()
            ],
        }
        for e in WhitelistEntry.objects.select_related("company").order_by("company__name")
    ]
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), Company._meta.db_table
        )
    }
    print(
        json.dumps(
            {
                "entries": entries,
                "flag_columns": sorted(columns & {"whitelisted", "whitelist_until"}),
            },
            ensure_ascii=False,
        )
    )


def back() -> None:
    executor = _migrate([WITH_FLAGS])
    apps = executor.loader.project_state([WITH_FLAGS]).apps
    company = apps.get_model("trucks", "Company")
    flags = [
        [c.name, c.whitelisted, c.whitelist_until.isoformat() if c.whitelist_until else None]
        for c in company.objects.order_by("name")
    ]
    print(json.dumps({"flags": flags}, ensure_ascii=False))


if __name__ == "__main__":
    {"before": before, "after": after, "back": back}[sys.argv[1]]()
