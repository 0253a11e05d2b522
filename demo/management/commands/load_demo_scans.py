"""Load the demo's checkpoint records after ``load_demo``: scans of the trips that are inside,
arrived or exited, a consignee's confirmation, two alerts and a walk-in (see
``demo.scans``). A separate command because the trucks app's ``load_demo`` may not import
the checkpoint app (imports flow checkpoints → trucks). Running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from checkpoints.models import Alert
from demo import scans as demo
from places.models import StaffAssignment


class Command(BaseCommand):
    help = "Load the demo's scans, alerts and walk-ins (after load_demo). Development only."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (writes demo scans into this database).",
        )

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like production: load_demo_scans records made-up "
                "scans and alerts. Use --force if you really mean it."
            )
        missing = demo.missing()
        if missing:
            raise CommandError(
                f"The demo is not loaded ({', '.join(missing)} missing): run "
                "`manage.py load_demo` first."
            )
        result = demo.demo_scans_load()
        write = self.stdout.write
        if result.scans_created or result.walk_ins_created:
            write(
                self.style.SUCCESS(
                    f"Demo scans loaded: {result.scans_created} scans, "
                    f"{result.alerts_created} alerts, {result.walk_ins_created} walk-ins, "
                    f"{result.arrivals_confirmed} arrivals confirmed."
                )
            )
        else:
            write("Demo scans already loaded; nothing recorded.")
        for note in result.skipped:
            write(self.style.WARNING(f"Skipped {note}."))

        write("")
        write("Open alerts")
        for alert in Alert.objects.filter(resolved_at__isnull=True).select_related("checkpoint"):
            where = alert.checkpoint.code if alert.checkpoint is not None else "-"
            write(f"  {alert.kind:<16} {where:<13} {alert.key}")
        supervised = StaffAssignment.objects.filter(
            user__username="staff", supervisor=True
        ).values_list("checkpoint__code", flat=True)
        write("")
        write(f"User staff supervises {', '.join(supervised) or 'no checkpoint'}.")
        write(f"Consignees confirm arrivals at {settings.SITE_URL}/checkpoints/arrivals/")
