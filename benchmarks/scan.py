"""Benchmark of the scan endpoint beside its floor, in one run (the checkpoint issue).

    make bench-scan        # or: .venv/bin/python benchmarks/scan.py [--seconds 20]

A fresh PostgreSQL database (BENCH_DATABASE_URL, as benchmarks/run.py) gets 120,000 registered,
green passes made in bulk, beside the checkpoint's history: 20,000 trips of the day before, each
entered and exited, 40,000 scans (``_make_history``). A checkpoint's scan table is never empty
in service, and an empty one misleads: the plan PostgreSQL caches for each connection's prepared
lock statement was made while the table was empty, looked up the client's scan id by reading the
whole table, and kept doing so as the load grew it, until autovacuum analysed the table. The
database is vacuumed and analysed after the load, as autovacuum keeps a working one. wrk then
drives POST /api/v1/checkpoints/{code}/scans/ with 16
connections for 20 seconds against gunicorn with 2 sync workers, every request the entry scan
of a different pass, twice over:

- as an API client sends it: authenticated with an API token, with a scan_id;
- as the tablet's scan page sends it (static/js/scan.js): the staff member's session cookie,
  the CSRF token in X-CSRFToken beside its cookie, the page's Origin, and a body with a scan_id
  and the time the device scanned (scanned_at).

The floor is a bare Django view with no middleware that parses the same body, does one indexed
SELECT of the pass and one INSERT; it is measured before and after the endpoint and each ratio
is taken to the mean of the two. The per-user scan rate limit is raised for the run
(THROTTLE_SCAN), since one account drives all 16 connections.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    CONNECTIONS,
    RESULTS,
    THREADS,
    WORKERS,
    Server,
    _environment,
    _load,
    _lua,
    _prepare,
    _recreate_database,
    _wrk,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PASSES = 120_000
HISTORY = 20_000
CHUNK = 15_000

_SCAN_LUA = r"""
-- Each run and thread scans its own slice of the passes, so every scan is a different pass.
local n = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
request = function()
  n = n + 1
  local tokens = TOKENS[tid + 1]
  local token = tokens[((n - 1) % #tokens) + 1]
  local body = '{"direction": "in", "token": "' .. token .. '", "scan_id": "' ..
    string.format("%08x-0000-4000-8000-%012x", RUN * 16 + tid, n) .. '"'
  if SCANNED_AT == "yes" then
    -- As the page sends it: new Date().toISOString().
    body = body .. ', "scanned_at": "' .. os.date("!%Y-%m-%dT%H:%M:%S.000Z") .. '"'
  end
  return wrk.format("POST", PATH, HEADERS, body .. "}")
end
"""


def _make_trips(
    prefix: str, count: int, checkpoint: Any, arrival: datetime, **trip: Any
) -> list[Any]:
    """``count`` trips in bulk, each with a vehicle of its own, from one driver of the company."""
    from trucks.models import Company, Driver, Trip, Vehicle

    company = Company.objects.get()
    driver, _ = Driver.objects.get_or_create(
        company=company,
        id_number="11010519491231002X",
        defaults={"name": "李师傅", "phone": "13912345678"},
    )
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    vehicles = Vehicle.objects.bulk_create(
        [
            Vehicle(plate=f"{prefix}{letters[i // 100_000]}{i % 100_000:05d}", company=company)
            for i in range(count)
        ],
        batch_size=5000,
    )
    return Trip.objects.bulk_create(
        [
            Trip(
                reference=f"BENCH-{prefix}-{i:06d}",
                company=company,
                vehicle=v,
                driver=driver,
                origin_region_id="410800",
                destination_name="焦作市物流园",
                destination_address="河南省焦作市解放区民主路1号",
                entry_checkpoint=checkpoint,
                planned_arrival=arrival,
                planned_departure=arrival + timedelta(hours=9),
                cargo_category="daily_necessities",
                cargo_description="蔬菜",
                test_result="negative",
                test_sampled_at=arrival - timedelta(hours=3),
                **trip,
            )
            for i, v in enumerate(vehicles)
        ],
        batch_size=5000,
    )


def _make_green_passes(
    trips: list[Any], valid_from: datetime, valid_until: datetime, **pass_: Any
) -> list[Any]:
    from trucks import passcode
    from trucks.models import Pass

    return Pass.objects.bulk_create(
        [
            Pass(
                trip=t,
                colour="green",
                reasons=[],
                policy_version=1,
                valid_from=valid_from,
                valid_until=valid_until,
                key_id=passcode.current_key_id(),
                **pass_,
            )
            for t in trips
        ],
        batch_size=5000,
    )


def _make_history(checkpoint_code: str, staff: User, count: int = HISTORY) -> None:
    """The day before at the checkpoint: ``count`` trips entered and exited, their passes used,
    two scans each."""
    from django.utils import timezone

    from checkpoints.models import ScanEvent
    from places.models import Checkpoint

    checkpoint = Checkpoint.objects.get(code=checkpoint_code)
    yesterday = timezone.now() - timedelta(days=1)
    trips = _make_trips(
        "晋",
        count,
        checkpoint,
        yesterday,
        status="exited",
        entered_at=yesterday,
        exited_at=yesterday + timedelta(hours=8),
    )
    passes = _make_green_passes(
        trips, yesterday - timedelta(hours=1), yesterday + timedelta(hours=12), status="used"
    )
    ScanEvent.objects.bulk_create(
        [
            ScanEvent(
                checkpoint=checkpoint,
                staff=staff,
                trip_pass=p,
                trip=p.trip,
                direction=direction,
                verdict="admit",
                reason="ok",
                scan_id=uuid.uuid4(),
                scanned_at=at,
                received_at=at,
            )
            for p in passes
            for direction, at in (
                ("in", p.trip.entered_at),
                ("out", p.trip.exited_at),
            )
        ],
        batch_size=5000,
    )


def _make_passes(checkpoint_code: str, count: int = PASSES) -> tuple[User, str, list[str]]:
    """Bulk-create the passes (the registration path would take minutes), a staff member and
    their API token."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from places.models import Checkpoint, StaffAssignment
    from trucks import passcode

    checkpoint = Checkpoint.objects.get(code=checkpoint_code)
    staff = User.objects.create_user("bench-staff", password="bench-password-1")
    staff.groups.add(Group.objects.get(name="staff"))
    StaffAssignment.objects.create(user=staff, checkpoint=checkpoint)
    now = timezone.now()
    valid_until = passcode.window_minute(now + timedelta(hours=12))
    trips = _make_trips("豫", count, checkpoint, now + timedelta(hours=1))
    passes = _make_green_passes(trips, now - timedelta(hours=1), valid_until)
    tokens = [passcode.encode(pass_id=p.pk, valid_until=valid_until) for p in passes]
    return staff, Token.objects.create(user=staff).key, tokens


def _settle() -> None:
    """Vacuum, analyse and checkpoint after the bulk load, so that the first load measured does
    not share the machine with the server's aftermath of it (autovacuum, dirty pages)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def _tablet_session(staff: User, checkpoint_code: str) -> tuple[str, str]:
    """The staff member signed in, and the scan page opened once, as on the tablet: the session
    cookie and the CSRF cookie the page's script sends back (static/js/scan.js)."""
    from django.conf import settings
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    page = client.get(f"/checkpoints/{checkpoint_code}/scan/")
    assert page.status_code == 200, page.status_code
    return (
        client.cookies[settings.SESSION_COOKIE_NAME].value,
        client.cookies[settings.CSRF_COOKIE_NAME].value,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    import os

    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passcode_bench"
    )
    _recreate_database(database_url)
    var_dir = tempfile.mkdtemp(prefix="passcode-bench-")
    env = _environment(database_url, var_dir)
    env["THROTTLE_SCAN"] = "100000000/min"
    setup = _prepare(env)
    staff, staff_token, tokens = _make_passes(setup["checkpoint"])
    _make_history(setup["checkpoint"], staff)
    _settle()
    session, csrf = _tablet_session(staff, setup["checkpoint"])
    chunks = [tokens[i : i + CHUNK] for i in range(0, len(tokens), CHUNK)]
    token_headers = {"Authorization": f"Token {staff_token}", "Content-Type": "application/json"}
    path = f"/api/v1/checkpoints/{setup['checkpoint']}/scans/"

    def tablet_headers(port: int) -> dict[str, str]:
        # What the page's fetch() sends (static/js/scan.js), from the page's own origin.
        return {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-CSRFToken": csrf,
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "Origin": f"http://127.0.0.1:{port}",
            "Referer": f"http://127.0.0.1:{port}/checkpoints/{setup['checkpoint']}/scan/",
        }

    def scan_script(*, tablet: bool) -> Callable[[int, int], str]:
        def script(first_chunk: int, port: int) -> str:
            # Two threads, two chunks per wrk run; every run uses chunks of its own.
            table = (
                "{"
                + ", ".join(
                    "{" + ", ".join(json.dumps(t) for t in chunks[first_chunk + k]) + "}"
                    for k in range(THREADS)
                )
                + "}"
            )
            headers = tablet_headers(port) if tablet else token_headers
            return f"TOKENS = {table}\n" + _lua(
                _SCAN_LUA, PATH=path, HEADERS=headers, SCANNED_AT="yes" if tablet else "no"
            )

        return script

    floor_script = _lua(_SCAN_LUA, PATH="/floor/scan", HEADERS=token_headers, SCANNED_AT="no")
    floor_script = (
        "TOKENS = "
        + (
            "{"
            + ", ".join("{" + ", ".join(json.dumps(t) for t in c[:2000]) + "}" for c in chunks[:2])
            + "}\n"
        )
        + floor_script
    )

    results: dict[str, Any] = {"seconds": args.seconds, "passes": PASSES}
    results["floor_before"] = _load(env, "benchmarks.floor_settings", floor_script, args.seconds)
    results["scan"] = _load_scan(env, scan_script(tablet=False), args.seconds, runs=(0, 1))
    results["scan_tablet"] = _load_scan(env, scan_script(tablet=True), args.seconds, runs=(2, 3))
    results["floor_after"] = _load(env, "benchmarks.floor_settings", floor_script, args.seconds)

    from checkpoints.models import ScanEvent

    # The scans of the loads, not the history's (its passes are used).
    loaded = ScanEvent.objects.exclude(trip_pass__status="used")
    results["scans_recorded"] = loaded.count()
    results["admitted"] = loaded.filter(verdict="admit").count()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scan.json").write_text(json.dumps(results, indent=2))
    print(_report(results))
    shutil.rmtree(var_dir, ignore_errors=True)


def _load_scan(
    env: dict[str, str], script: Callable[[int, int], str], seconds: int, runs: tuple[int, int]
) -> dict[str, float]:
    """Like common._load, but the warm-up and the measurement get passes of their own: run ``n``
    scans the passes of chunks 2n and 2n + 1. The warm-up is longer than the floor's: each
    worker imports the project's URLs on its first request, which on a busy machine took the
    measured seconds' share otherwise."""
    server = Server(env, "passcode_portal.settings", {})
    try:
        warm_up, measured = runs
        _wrk(server.port, f"RUN = {warm_up}\n" + script(2 * warm_up, server.port), 5)
        return _wrk(server.port, f"RUN = {measured}\n" + script(2 * measured, server.port), seconds)
    finally:
        server.stop()


def _row(name: str, r: dict[str, float], floor: float | None = None) -> str:
    ratio = f" {r['rps'] / floor:.2f} |" if floor else " |"
    return (
        f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
        f"{r['non_2xx']:.0f} |{ratio}"
    )


def _report(r: dict[str, Any]) -> str:
    floor = (r["floor_before"]["rps"] + r["floor_after"]["rps"]) / 2
    return "\n".join(
        [
            f"wrk -t{THREADS} -c{CONNECTIONS} -d{r['seconds']}s, gunicorn {WORKERS} sync workers",
            "",
            "| load | req/s | p50 ms | p99 ms | non-2xx | ratio to floor |",
            "|---|---|---|---|---|---|",
            _row("floor (before)", r["floor_before"]),
            _row("POST …/scans/, API token", r["scan"], floor),
            _row("POST …/scans/, tablet (session + CSRF)", r["scan_tablet"], floor),
            _row("floor (after)", r["floor_after"]),
            "",
            f"floor (mean of before and after): {floor:.0f} req/s",
            f"API token scan / floor: {r['scan']['rps'] / floor:.2f}",
            f"tablet scan / floor: {r['scan_tablet']['rps'] / floor:.2f}",
            f"scans recorded: {r['scans_recorded']}, admitted: {r['admitted']}",
        ]
    )


if __name__ == "__main__":
    main()
