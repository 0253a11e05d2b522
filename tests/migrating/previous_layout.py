"""Run as a script against a scratch database (DATABASE_URL), one phase per process:

- ``before``: migrate with the previous layout's migrations (``tests/migrations_before``: regions
  in trucks, checkpoint sites in checkpoints, the outbox and hand-over in trucks) and write one of
  everything through the historical models, with content types and a group permission as Django
  would have made them;
- ``after``: migrate with the project's migrations, read it all back through today's models and
  print what was read, and the database's schema, as JSON;
- ``fresh``: migrate an empty database with the project's migrations and print its schema.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passcode_portal.settings.test")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

PREVIOUS = {
    "trucks": "tests.migrations_before.trucks",
    "checkpoints": "tests.migrations_before.checkpoints",
    "places": None,
    "notifications": None,
    "handover": None,
    "demo": None,
    # The previous layout had no dashboards tables.
    "dashboards": None,
}
# (app then, model) of every model whose home moved.
MOVED = [
    ("trucks", "region"),
    ("checkpoints", "checkpoint"),
    ("checkpoints", "staffassignment"),
    ("trucks", "notification"),
    ("trucks", "webhooksubscription"),
    ("trucks", "webhookdelivery"),
    ("trucks", "sweepcursor"),
]


def before() -> None:
    with override_settings(MIGRATION_MODULES=PREVIOUS):
        executor = MigrationExecutor(connection)
        leaves = executor.loader.graph.leaf_nodes()
        assert ("trucks", "0007_policy_horizon_company_language") in leaves
        executor.migrate(leaves)
        apps = executor.loader.project_state(leaves).apps

    def model(label: str) -> Any:
        return apps.get_model(*label.split("."))

    now = timezone.now()
    content_types = {
        (app, name): model("contenttypes.ContentType").objects.create(app_label=app, model=name)
        for app, name in [*MOVED, ("trucks", "historicalregion"), ("trucks", "trip")]
    }
    permission = model("auth.Permission").objects.create(
        codename="change_region",
        name="Can change region",
        content_type=content_types[("trucks", "region")],
    )
    official = model("auth.Group").objects.get(name="official")
    official.permissions.add(permission)
    user = model("auth.User").objects.create(username="staff1")

    region_model = model("trucks.Region")
    province = region_model.objects.create(
        code="410000", name="河南省", full_name="河南省", level="province"
    )
    region = region_model.objects.create(
        code="410800",
        name="焦作市",
        full_name="河南省焦作市",
        level="city",
        parent=province,
        risk_level="medium",
        risk_changed_at=now,
    )
    model("trucks.HistoricalRegion").objects.create(
        code=region.code, risk_level="medium", history_date=now, history_type="~"
    )
    checkpoint = model("checkpoints.Checkpoint").objects.create(
        code="JZ-G55-N", name="焦作北", kind="highway_exit", region=region
    )
    model("checkpoints.StaffAssignment").objects.create(
        user=user, checkpoint=checkpoint, supervisor=True
    )
    company = model("trucks.Company").objects.create(
        name="焦作运输",
        uscc="91410800MA44X0Q0XP",
        contact_name="张三",
        contact_phone="13812345678",
    )
    vehicle = model("trucks.Vehicle").objects.create(plate="豫H12345", company=company)
    driver = model("trucks.Driver").objects.create(
        name="李四", id_number="410802199001011234", phone="13912345678", company=company
    )
    trip = model("trucks.Trip").objects.create(
        reference="JZ-1",
        company=company,
        vehicle=vehicle,
        driver=driver,
        origin_region=region,
        destination_name="仓库",
        destination_address="焦作市解放区",
        entry_checkpoint=checkpoint,
        planned_arrival=now + timedelta(hours=12),
        planned_departure=now + timedelta(hours=20),
        cargo_category="general",
        cargo_description="日用品",
    )
    trip.travel_history.add(province)
    pass_ = model("trucks.Pass").objects.create(
        trip=trip,
        colour="green",
        valid_from=now,
        valid_until=now + timedelta(days=1),
        key_id=1,
        issued_at=now,
        graded_at=now,
        policy_version=1,
    )
    model("checkpoints.ScanEvent").objects.create(
        checkpoint=checkpoint,
        staff=user,
        trip_pass=pass_,
        trip=trip,
        direction="in",
        verdict="admit",
        reason="ok",
        scanned_at=now,
        received_at=now,
        token_digest="d" * 16,
    )
    model("trucks.Notification").objects.create(
        channel="sms",
        recipient="13912345678",
        template="pass_issued",
        dedupe_key="pass:1",
        trip=trip,
        context={"reference": "JZ-1"},
    )
    subscription = model("trucks.WebhookSubscription").objects.create(
        name="落地城市",
        url="https://hub.example.cn/hook",
        secret="s3cret",
        event_types=["trip.entered"],
        region=province,
    )
    model("trucks.WebhookDelivery").objects.create(
        subscription=subscription,
        event="trip.entered",
        payload={"trip": {"id": trip.pk}},
        dedupe_key="entered:1",
        trip=trip,
    )
    model("trucks.SweepCursor").objects.create(name="scan_events", last_id=41)


def after() -> None:
    call_command("migrate", verbosity=0, interactive=False)

    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from checkpoints.models import ScanEvent
    from handover.models import SweepCursor, WebhookDelivery, WebhookSubscription
    from notifications.models import Notification
    from places.models import Checkpoint, Region, StaffAssignment
    from trucks.models import Trip

    trip = Trip.objects.get(reference="JZ-1")
    checkpoint = Checkpoint.objects.get(code="JZ-G55-N")
    delivery = WebhookDelivery.objects.get()
    read = {
        "regions": sorted(Region.objects.values_list("code", "risk_level")),
        "region_history": list(Region.history.values_list("code", "risk_level")),
        "checkpoint": [checkpoint.code, checkpoint.region.code],
        "staff": [
            (a.user.username, a.checkpoint.code, a.supervisor)
            for a in StaffAssignment.objects.all()
        ],
        "trip": [
            trip.entry_checkpoint.code,
            trip.origin_region.code,
            sorted(trip.travel_history.values_list("code", flat=True)),
        ],
        "scan": list(ScanEvent.objects.values_list("checkpoint__code", "trip__reference")),
        "notification": list(Notification.objects.values_list("trip__reference", "template")),
        "subscription": list(WebhookSubscription.objects.values_list("name", "region__code")),
        "delivery": [
            delivery.subscription.name,
            delivery.trip.reference if delivery.trip else None,
        ],
        "cursor": list(SweepCursor.objects.values_list("name", "last_id")),
        "content_types": sorted(ContentType.objects.values_list("app_label", "model")),
        "official_permissions": sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name="official").permissions.all()
        ),
        "schema": schema(),
    }
    print(json.dumps(read, ensure_ascii=False))


def fresh() -> None:
    """Migrate an empty database with the project's migrations and print its schema."""
    call_command("migrate", verbosity=0, interactive=False)
    print(json.dumps({"schema": schema()}))


def schema() -> dict[str, Any]:
    """Tables with their columns and named constraints, as Django's introspection sees them."""
    introspection = connection.introspection
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for table in sorted(introspection.table_names(cursor)):
            if table == "django_migrations":
                continue
            columns = sorted(
                (
                    c.name,
                    c.type_code if isinstance(c.type_code, int | str) else str(c.type_code),
                    bool(c.null_ok),
                )
                for c in introspection.get_table_description(cursor, table)
            )
            constraints = introspection.get_constraints(cursor, table)
            # SQLite names foreign keys and unnamed constraints by their position in the table,
            # which differs where a column was added later; those are compared by content.
            named = sorted(
                (
                    _name(name, c),
                    sorted(c["columns"]),
                    bool(c["unique"]),
                    bool(c["primary_key"]),
                    bool(c["index"]),
                    c["foreign_key"] and list(c["foreign_key"]),
                )
                for name, c in constraints.items()
            )
            out[table] = {"columns": columns, "constraints": named}
    return json.loads(json.dumps(out, default=str))


def _name(name: str, constraint: dict[str, Any]) -> str:
    positional = name.startswith("__") or (
        connection.vendor == "sqlite" and constraint["foreign_key"]
    )
    return "" if positional else name


if __name__ == "__main__":
    {"before": before, "after": after, "fresh": fresh}[sys.argv[1]]()
