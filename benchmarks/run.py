"""Benchmarks of the registration side, each beside its floor, in one run.

    make bench            # or: .venv/bin/python benchmarks/run.py [--seconds 15]

What it does: creates a fresh PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/passcode_bench), migrates it, loads the regions and a
dispatcher with an API token; then, with wrk (Debian package `wrk`) against gunicorn with 2 sync
workers on the same machine and database:

1. trips registered per second through POST /api/v1/trips/ (every request a new plate), beside
   the floor: a bare Django view, no middleware, that parses the same body and does one indexed
   SELECT and one INSERT;
2. QR images per second through GET /api/v1/passes/{id}/qr.png with the QR cache off (every
   request renders), beside the floor: a bare view doing one indexed SELECT of the pass row;
3. in-process time to render one QR (PNG and SVG), beside the time to sign its token.

Figures drift with the machine's load; the ratios hold. Results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
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


def _trip_body(checkpoint: str) -> str:
    from django.utils import timezone

    now = timezone.now()
    body = {
        "vehicle_plate": "PLATE",
        "driver": {"name": "李师傅", "id_number": "11010519491231002X", "phone": "13912345678"},
        "co_riders": [],
        "origin_region": "320412",
        "travel_history": ["320400"],
        "destination_name": "焦作市物流园",
        "destination_address": "河南省焦作市解放区民主路1号",
        "entry_checkpoint": checkpoint,
        "planned_arrival": (now + timedelta(hours=6)).isoformat(),
        "planned_departure": (now + timedelta(hours=30)).isoformat(),
        "cargo_category": "daily_necessities",
        "cargo_description": "蔬菜 20 吨",
        "test_result": "negative",
        "test_sampled_at": (now - timedelta(hours=10)).isoformat(),
    }
    return json.dumps(body, ensure_ascii=False)


_REGISTER_LUA = r"""
-- Every request registers a new plate: a letter for the run and thread, and a counter
-- (豫A00001, 豫B00001, ...), so no two requests of any run name the same vehicle.
local letters = {"A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R"}
local n = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
request = function()
  n = n + 1
  local plate = "\232\177\171" .. letters[tid + RUN * 2] .. string.format("%05d", n)
  local body = string.gsub(BODY, "PLATE", plate)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""

_CYCLE_LUA = r"""
-- Requests cycle through the ids, each thread from its own offset.
local i = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
request = function()
  i = i + 1
  local id = IDS[((i + tid * 7919) % #IDS) + 1]
  return wrk.format("GET", string.gsub(PATH, "ID", id), HEADERS)
end
"""


def _render_times(n: int) -> dict[str, float]:
    from django.core.cache import cache

    from trucks import passcode, qr
    from trucks.models import Pass

    passes = list(Pass.objects.order_by("pk")[:n])
    tokens = []
    t0 = time.perf_counter()
    for p in passes:
        tokens.append(passcode.encode(pass_id=p.pk, valid_until=p.valid_until))
    sign = (time.perf_counter() - t0) / len(passes) * 1000
    timings: dict[str, list[float]] = {"png": [], "svg": []}
    for token in tokens:
        for kind, render in (("png", qr.qr_png), ("svg", qr.qr_svg)):
            cache.clear()
            t0 = time.perf_counter()
            render(token)
            timings[kind].append((time.perf_counter() - t0) * 1000)
    return {
        "sign_ms": sign,
        "png_ms": statistics.median(timings["png"]),
        "svg_ms": statistics.median(timings["svg"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passcode_bench"
    )
    _recreate_database(database_url)
    var_dir = tempfile.mkdtemp(prefix="passcode-bench-")
    env = _environment(database_url, var_dir)
    setup = _prepare(env)
    headers = {
        "Authorization": f"Token {setup['token']}",
        "Content-Type": "application/json",
    }
    body = _trip_body(setup["checkpoint"])

    results: dict[str, Any] = {"cpus": os.cpu_count(), "seconds": args.seconds}
    results["register_floor"] = _load(
        env,
        "benchmarks.floor_settings",
        _lua(_REGISTER_LUA, BODY=body, PATH="/floor/register", HEADERS=headers),
        args.seconds,
    )
    results["register_api"] = _load(
        env,
        "passcode_portal.settings",
        _lua(_REGISTER_LUA, BODY=body, PATH="/api/v1/trips/", HEADERS=headers),
        args.seconds,
    )

    from trucks.models import Pass

    ids = list(Pass.objects.order_by("pk").values_list("pk", flat=True)[:5000])
    get_headers = {"Authorization": f"Token {setup['token']}"}
    results["qr_floor"] = _load(
        env,
        "benchmarks.floor_settings",
        _lua(_CYCLE_LUA, IDS=ids, PATH="/floor/read/ID", HEADERS=get_headers),
        args.seconds,
    )
    results["qr_api"] = _load(
        env,
        "passcode_portal.settings",
        _lua(_CYCLE_LUA, IDS=ids, PATH="/api/v1/passes/ID/qr.png", HEADERS=get_headers),
        args.seconds,
        extra={"QR_CACHE_SECONDS": "0"},
    )
    results["qr_api_cached"] = _load(
        env,
        "passcode_portal.settings",
        _lua(_CYCLE_LUA, IDS=ids[:200], PATH="/api/v1/passes/ID/qr.png", HEADERS=get_headers),
        args.seconds,
    )
    results["render"] = _render_times(200)
    results["trips_created"] = Pass.objects.count()

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(_report(results))
    shutil.rmtree(var_dir, ignore_errors=True)


def _row(name: str, r: dict[str, float], floor: dict[str, float]) -> str:
    return (
        f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
        f"{floor['rps']:.0f} | {r['rps'] / floor['rps']:.2f} | {r['non_2xx']:.0f} |"
    )


def _floor_line(name: str, f: dict[str, float]) -> str:
    return (
        f"floor ({name}): {f['rps']:.0f} req/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms"
    )


def _report(r: dict[str, Any]) -> str:
    render = r["render"]
    return "\n".join(
        [
            f"wrk -t{THREADS} -c{CONNECTIONS} -d{r['seconds']}s, gunicorn {WORKERS} sync workers, "
            f"{r['cpus']} CPUs",
            "",
            "| load | req/s | p50 ms | p99 ms | floor req/s | ratio to floor | non-2xx |",
            "|---|---|---|---|---|---|---|",
            _row(
                "POST /api/v1/trips/ (register + grade + issue)",
                r["register_api"],
                r["register_floor"],
            ),
            _row("GET /api/v1/passes/{id}/qr.png, cache off", r["qr_api"], r["qr_floor"]),
            _row("GET /api/v1/passes/{id}/qr.png, cached", r["qr_api_cached"], r["qr_floor"]),
            "",
            _floor_line("register", r["register_floor"]),
            _floor_line("read", r["qr_floor"]),
            f"in process: sign a token {render['sign_ms']:.3f} ms, render PNG "
            f"{render['png_ms']:.2f} ms, render SVG {render['svg_ms']:.2f} ms (median of 200)",
            f"passes in the database after the run: {r['trips_created']}",
        ]
    )


if __name__ == "__main__":
    main()
