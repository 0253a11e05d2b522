"""Benchmark of the scan endpoint beside its floor, in one run (the checkpoint issue).

    make bench-scan        # or: .venv/bin/python benchmarks/scan.py [--seconds 20]

A fresh PostgreSQL database (BENCH_DATABASE_URL, as benchmarks/run.py) gets 80,000 registered,
green passes made in bulk; wrk then drives POST /api/v1/checkpoints/{code}/scans/ with 16
connections for 20 seconds against gunicorn with 2 sync workers, every request the entry scan
of a different pass (with a scan_id, as tablets send), authenticated with an API token. The
floor is a bare Django view with no middleware that parses the same body, does one indexed
SELECT of the pass and one INSERT; it is measured before and after the endpoint and the ratio
is taken to the mean of the two. The per-user scan rate limit is raised for the run
(THROTTLE_SCAN), since one token drives all 16 connections.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import (  # noqa: E402
    CONNECTIONS,
    RESULTS,
    THREADS,
    WORKERS,
    _environment,
    _load,
    _lua,
    _prepare,
    _recreate_database,
)

PASSES = 80_000
CHUNK = 20_000

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
    string.format("%08x-0000-4000-8000-%012x", RUN * 16 + tid, n) .. '"}'
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


def _make_passes(checkpoint_code: str, count: int = PASSES) -> tuple[str, list[str]]:
    """Bulk-create the passes (the registration path would take minutes) and a staff token."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from places.models import Checkpoint, StaffAssignment
    from trucks import passcode
    from trucks.models import Company, Driver, Pass, Trip, Vehicle

    checkpoint = Checkpoint.objects.get(code=checkpoint_code)
    staff = User.objects.create_user("bench-staff", password="bench-password-1")
    staff.groups.add(Group.objects.get(name="staff"))
    StaffAssignment.objects.create(user=staff, checkpoint=checkpoint)
    company = Company.objects.get()
    driver = Driver.objects.create(
        company=company, name="李师傅", id_number="11010519491231002X", phone="13912345678"
    )
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    now = timezone.now()
    valid_until = passcode.window_minute(now + timedelta(hours=12))
    vehicles = Vehicle.objects.bulk_create(
        [
            Vehicle(plate=f"豫{letters[i // 100_000]}{i % 100_000:05d}", company=company)
            for i in range(count)
        ],
        batch_size=5000,
    )
    trips = Trip.objects.bulk_create(
        [
            Trip(
                reference=f"BENCH-{i:06d}",
                company=company,
                vehicle=v,
                driver=driver,
                origin_region_id="410800",
                destination_name="焦作市物流园",
                destination_address="河南省焦作市解放区民主路1号",
                entry_checkpoint=checkpoint,
                planned_arrival=now + timedelta(hours=1),
                planned_departure=now + timedelta(hours=10),
                cargo_category="daily_necessities",
                cargo_description="蔬菜",
                test_result="negative",
                test_sampled_at=now - timedelta(hours=2),
            )
            for i, v in enumerate(vehicles)
        ],
        batch_size=5000,
    )
    passes = Pass.objects.bulk_create(
        [
            Pass(
                trip=t,
                colour="green",
                reasons=[],
                policy_version=1,
                valid_from=now - timedelta(hours=1),
                valid_until=valid_until,
                key_id=passcode.current_key_id(),
            )
            for t in trips
        ],
        batch_size=5000,
    )
    tokens = [passcode.encode(pass_id=p.pk, valid_until=valid_until) for p in passes]
    return Token.objects.create(user=staff).key, tokens


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
    staff_token, tokens = _make_passes(setup["checkpoint"])
    chunks = [tokens[i : i + CHUNK] for i in range(0, len(tokens), CHUNK)]
    headers = {"Authorization": f"Token {staff_token}", "Content-Type": "application/json"}
    path = f"/api/v1/checkpoints/{setup['checkpoint']}/scans/"

    def script(first_chunk: int) -> str:
        # Two threads, two chunks per wrk run; warm-up and measurement use different chunks.
        table = (
            "{"
            + ", ".join(
                "{" + ", ".join(json.dumps(t) for t in chunks[first_chunk + k]) + "}"
                for k in range(THREADS)
            )
            + "}"
        )
        return f"TOKENS = {table}\n" + _lua(_SCAN_LUA, PATH=path, HEADERS=headers)

    floor_script = _lua(_SCAN_LUA, PATH="/floor/scan", HEADERS=headers)
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
    results["scan"] = _load_scan(env, script, args.seconds)
    results["floor_after"] = _load(env, "benchmarks.floor_settings", floor_script, args.seconds)

    from checkpoints.models import ScanEvent

    results["scans_recorded"] = ScanEvent.objects.count()
    results["admitted"] = ScanEvent.objects.filter(verdict="admit").count()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scan.json").write_text(json.dumps(results, indent=2))
    print(_report(results))
    shutil.rmtree(var_dir, ignore_errors=True)


def _load_scan(env: dict[str, str], script: Any, seconds: int) -> dict[str, float]:
    """Like run._load, but the warm-up and the measurement get different passes."""
    from benchmarks.run import Server, _wrk

    server = Server(env, "passcode_portal.settings", {})
    try:
        _wrk(server.port, "RUN = 0\n" + script(0), 2)
        return _wrk(server.port, "RUN = 1\n" + script(2), seconds)
    finally:
        server.stop()


def _report(r: dict[str, Any]) -> str:
    floor = (r["floor_before"]["rps"] + r["floor_after"]["rps"]) / 2
    s = r["scan"]
    return "\n".join(
        [
            f"wrk -t{THREADS} -c{CONNECTIONS} -d{r['seconds']}s, gunicorn {WORKERS} sync workers",
            "",
            "| load | req/s | p50 ms | p99 ms | non-2xx |",
            "|---|---|---|---|---|",
            f"| floor (before) | {r['floor_before']['rps']:.0f} | "
            f"{r['floor_before']['p50_ms']:.1f} | {r['floor_before']['p99_ms']:.1f} | "
            f"{r['floor_before']['non_2xx']:.0f} |",
            f"| POST /api/v1/checkpoints/{{code}}/scans/ | {s['rps']:.0f} | {s['p50_ms']:.1f} | "
            f"{s['p99_ms']:.1f} | {s['non_2xx']:.0f} |",
            f"| floor (after) | {r['floor_after']['rps']:.0f} | "
            f"{r['floor_after']['p50_ms']:.1f} | {r['floor_after']['p99_ms']:.1f} | "
            f"{r['floor_after']['non_2xx']:.0f} |",
            "",
            f"scan throughput / floor (mean of before and after): {s['rps'] / floor:.2f}",
            f"scans recorded: {r['scans_recorded']}, admitted: {r['admitted']}",
        ]
    )


if __name__ == "__main__":
    main()
