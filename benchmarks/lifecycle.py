"""Benchmarks of the lifecycle workers' bulk work, each beside the same work done as raw SQL or a
bare loop, in one run (the lifecycle issue).

    make bench-lifecycle   # or: .venv/bin/python benchmarks/lifecycle.py [--passes 100000]

On a fresh PostgreSQL database (BENCH_DATABASE_URL, as benchmarks/run.py) with N registered green
passes made in bulk, it times, in this process:

1. expire N passes whose window has ended: trucks.lifecycle.passes_expire, beside two raw UPDATE
   statements that do the same to the same rows (state restored in between);
2. regrade N passes after their origin region turns high-risk: trucks.lifecycle.
   passes_regrade_region (chunks, per-pass history, a notification to each driver), beside a
   bare loop: one raw SELECT of the same facts, trucks.grading.grade for each pass in Python,
   and one UPDATE per chunk of the new colours (no history, no notifications);
3. send N notifications through the console SMS backend:
   notifications.sending.notifications_send_due, beside a bare loop that renders the same text
   and calls the same backend, then marks the rows sent with one UPDATE.
"""

from __future__ import annotations

import argparse
import json
import logging
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
from benchmarks.scan import _make_passes  # noqa: E402
from passcode_portal.rows import named_rows  # noqa: E402


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_expiry(n: int) -> dict[str, float]:
    from django.db import connection
    from django.utils import timezone

    from trucks import lifecycle
    from trucks.models import Pass, Trip

    def back_to_active() -> None:
        past = timezone.now() - timedelta(hours=1)
        Pass.objects.update(status="active", valid_until=past)
        Trip.objects.update(status="registered")

    back_to_active()
    product = _timed(lambda: lifecycle.passes_expire(now=timezone.now()))
    assert Pass.objects.filter(status="expired").count() == n
    back_to_active()

    def raw() -> None:
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE trucks_pass SET status = 'expired' "
                "WHERE status = 'active' AND valid_until <= %s",
                [now],
            )
            cursor.execute(
                "UPDATE trucks_trip SET status = 'expired' WHERE status = 'registered' "
                "AND id IN (SELECT trip_id FROM trucks_pass WHERE status = 'expired')"
            )

    floor = _timed(raw)
    assert Pass.objects.filter(status="expired").count() == n
    # Leave the passes valid for the next benchmarks.
    future = timezone.now() + timedelta(hours=12)
    Pass.objects.update(status="active", valid_until=future)
    Trip.objects.update(status="registered")
    return {"product_s": product, "floor_s": floor}


def bench_regrade(n: int) -> dict[str, float]:
    from django.db import connection

    from notifications.models import Notification
    from places.models import Region
    from trucks import grading, lifecycle, services
    from trucks.models import Pass

    Region.objects.filter(code="410800").update(risk_level="high")
    product = _timed(lambda: lifecycle.passes_regrade_region(code="410800"))
    assert Pass.objects.filter(colour="red").count() == n
    notified = Notification.objects.filter(template="pass_regraded").count()

    # The floor does the same grading to the same rows, from green again.
    Pass.objects.update(colour="green", reasons=[])
    policy = services.policy_current()

    def bare() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, t.origin_region_id, t.test_result, t.test_sampled_at, "
                "t.planned_arrival FROM trucks_pass p JOIN trucks_trip t ON t.id = p.trip_id "
                "WHERE p.status = 'active' ORDER BY p.id"
            )
            rows = named_rows(cursor)
            risk = dict(Region.objects.exclude(risk_level="low").values_list("code", "risk_level"))
            for start in range(0, len(rows), 500):
                updates = []
                for row in rows[start : start + 500]:
                    grade = grading.grade(
                        rules=policy,
                        origin=row.origin_region_id,
                        travel_history=[],
                        risk_by_code=risk,
                        test_result=row.test_result,
                        test_sampled_at=row.test_sampled_at,
                        planned_arrival=row.planned_arrival,
                    )
                    updates.append((grade.colour, json.dumps(grade.reasons_json), row.id))
                cursor.executemany(
                    "UPDATE trucks_pass SET colour = %s, reasons = %s::jsonb WHERE id = %s",
                    updates,
                )

    floor = _timed(bare)
    assert Pass.objects.filter(colour="red").count() == n
    return {"product_s": product, "floor_s": floor, "drivers_notified": notified}


def bench_send(n: int) -> dict[str, float]:
    from django.db import connection

    from notifications import messages, sms
    from notifications import sending as notify
    from notifications.models import Notification

    Notification.objects.all().delete()
    rows = [
        Notification(
            channel="sms",
            recipient="13912345678",
            template="pass_issued",
            language="zh-hans",
            context={
                "reference": f"BENCH-{i:06d}",
                "plate": "豫A00001",
                "colour": "green",
                "link": "http://127.0.0.1:8000/p/x/",
            },
            dedupe_key=f"bench:{i}",
        )
        for i in range(n)
    ]
    Notification.objects.bulk_create(rows, batch_size=5000)
    product = _timed(lambda: notify.notifications_send_due(batch=500))
    assert Notification.objects.filter(status="sent").count() == n

    Notification.objects.update(status="pending", sent_at=None)
    backend = sms.get_backend()

    def bare() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, recipient, context FROM trucks_notification WHERE status = 'pending'"
            )
            for row in named_rows(cursor):
                context = row.context
                data = context if isinstance(context, dict) else json.loads(context)
                backend.send(row.recipient, messages.render("pass_issued", data, "zh-hans").sms)
            cursor.execute(
                "UPDATE trucks_notification SET status = 'sent' WHERE status = 'pending'"
            )

    floor = _timed(bare)
    return {"product_s": product, "floor_s": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=100_000)
    args = parser.parse_args()
    import os

    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passcode_bench"
    )
    _recreate_database(database_url)
    var_dir = tempfile.mkdtemp(prefix="passcode-bench-")
    env = _environment(database_url, var_dir)
    env["SMS_BACKEND"] = "notifications.sms.ConsoleBackend"
    setup = _prepare(env)
    # The console SMS backend logs each message; the benchmark measures the work, not a terminal.
    logging.getLogger("notifications.sms").setLevel(logging.WARNING)
    _make_passes(setup["checkpoint"], count=args.passes)

    results: dict[str, Any] = {"passes": args.passes}
    results["expire"] = bench_expiry(args.passes)
    results["regrade"] = bench_regrade(args.passes)
    results["send"] = bench_send(args.passes)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lifecycle.json").write_text(json.dumps(results, indent=2))
    print(_report(results))
    shutil.rmtree(var_dir, ignore_errors=True)


def _report(r: dict[str, Any]) -> str:
    n = r["passes"]
    lines = [
        f"{n:,} passes",
        "",
        "| work | product s | per second | floor s | floor per second | product / floor time |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("expire", "expire passes (bulk UPDATE)"),
        ("regrade", "regrade after a risk change"),
        ("send", "send notifications (console SMS)"),
    ):
        p, f = r[name]["product_s"], r[name]["floor_s"]
        lines.append(f"| {label} | {p:.2f} | {n / p:,.0f} | {f:.2f} | {n / f:,.0f} | {p / f:.1f} |")
    lines.append("")
    lines.append(f"drivers told of the new colour: {r['regrade']['drivers_notified']:,}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
