"""Load the demo: checkpoints, companies, drivers, trips with passes of every colour and status,
and one user per role with the published password (see ``demo.contents``).

It refuses to run when DEBUG is off unless ``--force`` is given: accounts with a password printed
in the README must never appear on a production server by accident. Running it again changes
nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import registrations as demo
from demo.contents import PASSWORD
from trucks.links import pass_link_url


class Command(BaseCommand):
    help = "Load demo data and demo users (password passcode-demo). Development only."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (creates users with a published password).",
        )

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like production: load_demo creates users whose "
                f"password ({PASSWORD}) is published. Use --force if you really mean it."
            )
        missing = demo.missing_regions()
        if missing:
            raise CommandError(
                f"Regions {', '.join(missing)} are not loaded: run `manage.py load_regions` first."
            )
        result = demo.demo_load()
        write = self.stdout.write

        if result.trips_created:
            write(self.style.SUCCESS(f"Demo data loaded: {result.trips_created} trips created."))
        else:
            write("Demo data already loaded; no trips created.")

        write("")
        write(f"Demo users (password for all: {PASSWORD})")
        write(f"  {'username':<12} {'role':<11} acts for")
        for user in result.users:
            write(f"  {user.username:<12} {user.role:<11} {user.acts_for}")

        write("")
        write("Demo checkpoints")
        for cp in result.checkpoints:
            write(f"  {cp.code:<13} {cp.kind:<16} {cp.name} ({cp.region})")

        write("")
        write("Demo passes (open without signing in)")
        for item in demo.active_passes(result.passes):
            pass_ = item.pass_
            write(f"  {item.label} — {pass_.trip.reference}, {pass_.trip.vehicle.plate}")
            write(f"    {pass_link_url(pass_)}")

        write("")
        write(f"Sign in at {settings.SITE_URL}/accounts/login/ and {settings.SITE_URL}/admin/")
