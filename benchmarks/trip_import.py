"""Benchmark of a file of trips imported (docs/architecture.md, "Bulk import"), beside the
single-trip API in the same run (the import issue).

    make bench-import   # or: .venv/bin/python benchmarks/trip_import.py [--rows 10000]

On a fresh PostgreSQL database (BENCH_DATABASE_URL, as benchmarks/run.py), in this process:

1. the floor: ``--floor`` trips registered one by one through ``POST /api/v1/trips/`` (Django's
   test client, token authentication, the same database): time per trip;
2. a CSV of ``--rows`` valid trips, each of its own vehicle and driver, uploaded, checked
   (``trucks.services.imports.trip_import_validate``, what the worker runs) and, once
   confirmed, registered (``trip_import_register``): time per row of each step and of both.

Every trip of both gets its pass; the import's path is ``trip_register``'s, so the ratio is what
the import saves (the facts read once per file, a serializer built once) or costs (the row's
bookkeeping) per trip.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, _environment, _prepare, _recreate_database  # noqa: E402
from benchmarks.run import _trip_body  # noqa: E402

HEADERS = (
    *("vehicle_plate", "driver_name", "driver_id_number", "driver_phone", "origin_region"),
    *("travel_history", "destination_name", "destination_address", "entry_checkpoint"),
    *("planned_arrival", "planned_departure", "cargo_category", "cargo_description"),
    *("test_result", "test_sampled_at"),
)


def _person(n: int) -> tuple[str, str]:
    from trucks.validators import id_number_check_character

    first17 = f"410802{1950 + n // 1000:04d}0612{n % 1000:03d}"
    return first17 + id_number_check_character(first17), f"139{n:08d}"


def _times(offset_hours: float) -> tuple[str, str, str]:
    from django.utils import timezone

    now = timezone.localtime()
    at = now + timedelta(hours=8 + offset_hours)
    return (
        at.strftime("%Y-%m-%d %H:%M"),
        (at + timedelta(hours=20)).strftime("%Y-%m-%d %H:%M"),
        (now - timedelta(hours=10)).strftime("%Y-%m-%d %H:%M"),
    )


def _csv(rows: int, checkpoint: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    arrival, departure, sampled = _times(0)
    for n in range(rows):
        id_number, phone = _person(n)
        writer.writerow(
            [
                *(f"豫H{n:05d}", "李师傅", id_number, phone, "320412", "320400 410802"),
                *("焦作市某物流园", "河南省焦作市解放区民主路1号", checkpoint, arrival, departure),
                *("daily_necessities", "蔬菜 20 吨", "negative", sampled),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def bench_floor(count: int, token: str, checkpoint: str) -> dict[str, float]:
    """The registration benchmark's own trip (``benchmarks/run.py``), each of its own vehicle
    and driver, as each row of the import is."""
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = json.loads(_trip_body(checkpoint))
    start = time.perf_counter()
    for n in range(count):
        id_number, phone = _person(50_000 + n)
        body["vehicle_plate"] = f"豫J{n:05d}"
        body["driver"] = {"name": "李师傅", "id_number": id_number, "phone": phone}
        answer = client.post("/api/v1/trips/", body, format="json", secure=True)
        assert answer.status_code == 201, answer.content
    seconds = time.perf_counter() - start
    return {"trips": count, "seconds": seconds, "ms_per_trip": seconds / count * 1000}


def bench_import(rows: int, checkpoint: str) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from trucks.models import Pass, PassStatus, Trip
    from trucks.services import imports

    actor = User.objects.get(username="bench-dispatcher")
    content = _csv(rows, checkpoint)
    start = time.perf_counter()
    trip_import = imports.trip_import_upload(actor=actor, file_name="bench.csv", content=content)
    uploaded = time.perf_counter()
    imports.trip_import_validate(import_id=trip_import.pk)
    checked = time.perf_counter()
    trip_import.refresh_from_db()
    assert (trip_import.valid, trip_import.invalid) == (rows, 0), trip_import.message
    imports.trip_import_confirm(trip_import=trip_import)
    imports.trip_import_register(import_id=trip_import.pk)
    done = time.perf_counter()
    trip_import.refresh_from_db()
    assert trip_import.registered == rows
    passes = Pass.objects.filter(trip__import_key__gt="", status=PassStatus.ACTIVE).count()
    assert passes == rows == Trip.objects.filter(import_key__gt="").count()
    return {
        "rows": rows,
        "upload_s": uploaded - start,
        "check_s": checked - uploaded,
        "register_s": done - checked,
        "ms_per_row_check": (checked - uploaded) / rows * 1000,
        "ms_per_row_register": (done - checked) / rows * 1000,
        "ms_per_row": (done - start) / rows * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--floor", type=int, default=500)
    args = parser.parse_args()
    import os

    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passcode_bench"
    )
    _recreate_database(database_url)
    var_dir = tempfile.mkdtemp(prefix="passcode-bench-")
    env = _environment(database_url, var_dir)
    setup = _prepare(env)
    results = {
        "floor": bench_floor(args.floor, setup["token"], setup["checkpoint"]),
        "import": bench_import(args.rows, setup["checkpoint"]),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "trip_import.json").write_text(json.dumps(results, indent=2))
    print(_report(results))
    shutil.rmtree(var_dir, ignore_errors=True)


def _report(r: dict[str, Any]) -> str:
    f, i = r["floor"], r["import"]
    return "\n".join(
        [
            f"{i['rows']:,} rows imported; floor: {f['trips']:,} trips through POST /api/v1/trips/",
            "",
            "| work | seconds | ms per trip | floor ms per trip | import / floor |",
            "|---|---|---|---|---|",
            f"| check (worker) | {i['check_s']:.1f} | {i['ms_per_row_check']:.2f} | | |",
            f"| register (worker) | {i['register_s']:.1f} | {i['ms_per_row_register']:.2f} | "
            f"{f['ms_per_trip']:.2f} | {i['ms_per_row_register'] / f['ms_per_trip']:.2f} |",
            f"| upload + check + register | {i['upload_s'] + i['check_s'] + i['register_s']:.1f} "
            f"| {i['ms_per_row']:.2f} | {f['ms_per_trip']:.2f} | "
            f"{i['ms_per_row'] / f['ms_per_trip']:.2f} |",
        ]
    )


if __name__ == "__main__":
    main()
