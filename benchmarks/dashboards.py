"""The officials' figures at a province's scale: ``make bench-dashboards``.

Fills a fresh PostgreSQL database with a tenth of the data, measures, then with all of it
(1,000,000 trips with their passes and 5,000,000 scans over 180 days at 50 checkpoints, plus
walk-ins), and measures again in the same run: the dashboard page (today), the stats overview
(today, and the last 30 days), the hourly figures, and the queries each costs. Rows are made by
``INSERT … SELECT generate_series`` in the database itself, so a fill takes minutes, not hours.

The figures go to ``benchmarks/results/dashboards.json`` and, as a table, to standard output.
Each stands beside the floor measured in the same run: a bare view reading one row by its key
through the same database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, _environment, _recreate_database

TRIPS = 1_000_000
SCANS = 5_000_000
WALK_INS = 250_000
DAYS = 180
CHECKPOINTS = 50
REPEAT = 15

# Each row is made from its number ``n`` (1…count) and random() under a fixed seed; times spread
# over the last DAYS days up to a few hours ahead, in the deployment's zone.
_FILL = """
SELECT setseed(0.42);
INSERT INTO trucks_company (name, uscc, contact_name, contact_phone, contact_email, address,
    is_consignee, language, created_at)
SELECT '运输公司' || n, '91' || lpad(n::text, 16, '0'), '联系人' || n,
    '139' || lpad(n::text, 8, '0'), '', '', n %% 10 = 0, 'zh-hans',
    now() - interval '200 days'
FROM generate_series(1, 500) AS n;
INSERT INTO trucks_driver (name, id_number, phone, email, language, created_at, company_id)
SELECT '司机' || n, '4108' || lpad(n::text, 14, '0'), '138' || lpad(n::text, 8, '0'), '',
    'zh-hans', now() - interval '200 days', (SELECT min(id) FROM trucks_company) + n %% 500
FROM generate_series(1, 20000) AS n;
INSERT INTO trucks_vehicle (plate, description, created_at, company_id)
SELECT '豫H' || lpad(n::text, 5, '0'), '', now() - interval '200 days',
    (SELECT min(id) FROM trucks_company) + n %% 500
FROM generate_series(1, 20000) AS n;
CREATE TEMP TABLE bench_origins AS
SELECT row_number() OVER (ORDER BY code) AS i, code FROM trucks_region
WHERE level = 'county' ORDER BY code LIMIT 300;
CREATE TEMP TABLE bench_checkpoints AS
SELECT row_number() OVER (ORDER BY id) AS i, id FROM checkpoints_checkpoint;
INSERT INTO trucks_trip (id, reference, destination_name, destination_address, planned_arrival,
    planned_departure, cargo_category, cargo_description, test_result, test_sampled_at,
    multi_entry, status, created_at, updated_at, company_id, driver_id, entry_checkpoint_id,
    origin_region_id, vehicle_id, counted)
SELECT n, 'T' || n, '仓库', '焦作市', a, a + interval '8 hours', 'general', '百货',
    'negative', a - interval '20 hours', false,
    CASE WHEN a > now() THEN 'registered' WHEN a > now() - interval '6 hours' THEN 'inside'
         ELSE 'exited' END,
    c, a,
    (SELECT min(id) FROM trucks_company) + n %% 500,
    (SELECT min(id) FROM trucks_driver) + n %% 20000,
    (SELECT id FROM bench_checkpoints WHERE i = 1 + n %% %(checkpoints)s),
    (SELECT code FROM bench_origins WHERE i = 1 + n %% 300),
    (SELECT min(id) FROM trucks_vehicle) + n %% 20000, c < %(cutoff)s
FROM (SELECT n, a, a - interval '1 day' * random() * 3 AS c
      FROM (SELECT n, now() + interval '6 hours'
              - interval '1 second' * ((%(days)s * 86400) * (n - 1)::float / %(trips)s) AS a
            FROM generate_series(1, %(trips)s) AS n) AS arrivals) AS t;
SELECT setval(pg_get_serial_sequence('trucks_trip', 'id'), %(trips)s);
INSERT INTO trucks_pass (id, colour, reasons, policy_version, status, valid_from, valid_until,
    key_id, issued_at, graded_at, revoked_reason, trip_id, counted)
SELECT id, CASE WHEN id %% 50 = 0 THEN 'red' WHEN id %% 7 = 0 THEN 'yellow' ELSE 'green' END,
    '[]', 1, CASE WHEN planned_departure > now() THEN 'active' ELSE 'expired' END,
    planned_arrival - interval '2 hours', planned_departure + interval '2 hours', 1,
    created_at, created_at, '', id, counted
FROM trucks_trip;
SELECT setval(pg_get_serial_sequence('trucks_pass', 'id'), %(trips)s);
INSERT INTO checkpoints_scanevent (direction, verdict, reason, warnings, token_digest,
    observed_plate, scanned_at, received_at, landing_test, override_reason, checkpoint_id,
    trip_id, trip_pass_id, counted)
SELECT CASE WHEN n %% 2 = 0 THEN 'in' ELSE 'out' END,
    CASE WHEN r < 0.85 THEN 'admit' WHEN r < 0.93 THEN 'admit_with_test' ELSE 'refuse' END,
    CASE WHEN r < 0.85 THEN 'ok' WHEN r < 0.93 THEN 'test_required'
         WHEN r < 0.96 THEN 'red_code' WHEN r < 0.98 THEN 'expired' ELSE 'not_yet_valid' END,
    '[]', '', '', s, s, '', '',
    (SELECT id FROM bench_checkpoints WHERE i = 1 + n %% %(checkpoints)s),
    1 + n %% %(trips)s, 1 + n %% %(trips)s, s < %(cutoff)s
FROM (SELECT n, random() AS r, now()
        - interval '1 second' * ((%(days)s * 86400) * (n - 1)::float / %(scans)s) AS s
      FROM generate_series(1, %(scans)s) AS n) AS t;
INSERT INTO checkpoints_walkin (direction, plate, driver_name, phone, persons, note, outcome,
    recorded_at, checkpoint_id, counted)
SELECT 'in', '豫H' || lpad((n %% 99999)::text, 5, '0'), '', '', 1, '',
    CASE WHEN n %% 3 = 0 THEN 'sent_to_register' ELSE 'turned_back' END,
    w, (SELECT id FROM bench_checkpoints WHERE i = 1 + n %% %(checkpoints)s), w < %(cutoff)s
FROM (SELECT n, now()
        - interval '1 second' * ((%(days)s * 86400) * (n - 1)::float / %(walk_ins)s) AS w
      FROM generate_series(1, %(walk_ins)s) AS n) AS t;
-- The roll-ups of the rows made counted above, as the roll-up task would have built them day by
-- day; the last day's rows are left for the task itself (``count_new``), which is timed.
INSERT INTO dashboards_scanday (day, checkpoint_id, direction, verdict, reason, overridden,
    with_pass, n)
SELECT (scanned_at AT TIME ZONE %(zone)s)::date, checkpoint_id, direction, verdict, reason,
    overridden_by_id IS NOT NULL, trip_pass_id IS NOT NULL, count(*)
FROM checkpoints_scanevent WHERE counted GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO dashboards_scanhour (hour, checkpoint_id, direction, admitted, n)
SELECT date_trunc('hour', scanned_at AT TIME ZONE %(zone)s) AT TIME ZONE %(zone)s,
    checkpoint_id, direction,
    verdict IN ('admit', 'admit_with_test') OR overridden_by_id IS NOT NULL, count(*)
FROM checkpoints_scanevent WHERE counted GROUP BY 1, 2, 3, 4;
INSERT INTO dashboards_walkinday (day, checkpoint_id, n)
SELECT (recorded_at AT TIME ZONE %(zone)s)::date, checkpoint_id, count(*)
FROM checkpoints_walkin WHERE counted GROUP BY 1, 2;
INSERT INTO dashboards_tripday (day, checkpoint_id, n)
SELECT (created_at AT TIME ZONE %(zone)s)::date, entry_checkpoint_id, count(*)
FROM trucks_trip WHERE counted GROUP BY 1, 2;
INSERT INTO dashboards_originday (day, checkpoint_id, origin_id, n)
SELECT (created_at AT TIME ZONE %(zone)s)::date, entry_checkpoint_id, origin_region_id, count(*)
FROM trucks_trip WHERE counted GROUP BY 1, 2, 3;
INSERT INTO dashboards_passday (day, checkpoint_id, colour, n)
SELECT (p.issued_at AT TIME ZONE %(zone)s)::date, t.entry_checkpoint_id, p.colour, count(*)
FROM trucks_pass AS p JOIN trucks_trip AS t ON t.id = p.trip_id
WHERE p.counted GROUP BY 1, 2, 3;
ANALYZE;
"""


def _fill(scale: float) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from places.models import Checkpoint

    Checkpoint.objects.bulk_create(
        Checkpoint(
            code=f"CP-{i:02d}",
            name=f"检查站{i:02d}",
            kind="highway_exit",
            region_id="410800",
            latitude=35.0 + i / 100,
            longitude=113.0 + i / 100,
        )
        for i in range(1, CHECKPOINTS + 1)
    )
    counts = {
        "trips": int(TRIPS * scale),
        "scans": int(SCANS * scale),
        "walk_ins": int(WALK_INS * scale),
        "days": DAYS,
        "checkpoints": CHECKPOINTS,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            _FILL
            % {
                **counts,
                "zone": f"'{settings.TIME_ZONE}'",
                "cutoff": "now() - interval '1 day'",
            }
        )
    with connection.cursor() as cursor:
        # What autovacuum does in a database that filled over time: the visibility map set and
        # the BRIN index on the scan time summarised (a day's export finds its pages by it).
        cursor.execute("VACUUM ANALYZE")
    counts["fill_seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _use(name: str) -> None:
    """Point the default connection at the database ``name`` (a new connection)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def _fill_database(name: str, scale: float) -> dict[str, Any]:
    from django.core.management import call_command

    from dashboards import rollups

    _use(name)
    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    counts = _fill(scale)
    started = time.perf_counter()
    counts["counted"] = rollups.count_new()
    counts["count_seconds"] = round(time.perf_counter() - started, 1)
    _check_exact()
    return counts


def _client() -> Any:
    """A signed-in official's client on the database in use."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    official, _created = User.objects.get_or_create(username="bench-official")
    official.groups.add(Group.objects.get(name="official"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(official)
    return client


def _measure(names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each request REPEAT times on each database in turn (tenth, full, tenth, …), so that the
    machine's load drifts alike over both: the median of each, its queries, and the floor."""
    from django.db import connection
    from django.utils import timezone

    from passcode_portal.rows import named_row

    clients = {}
    for size, name in names.items():
        _use(name)
        clients[size] = _client()
    today = timezone.localdate()
    month = f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"
    urls = {
        "dashboard page (today)": "/dashboard/",
        "stats overview (today)": "/api/v1/stats/overview/",
        "stats overview (30 days)": f"/api/v1/stats/overview/?{month}",
        "dashboard page (30 days)": f"/dashboard/?{month}",
        "stats hourly (today)": "/api/v1/stats/hourly/",
        "charts (today)": "/dashboard/charts/",
    }

    def floor(client: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, valid_until FROM trucks_pass WHERE id = %s", [1])
            named_row(cursor)

    def getter(url: str) -> Any:
        def get(client: Any) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    yesterday = (today - timedelta(days=1)).isoformat()
    export = {"kind": "scans", "format": "csv", "from": yesterday, "to": yesterday}

    def export_first_rows(client: Any) -> None:
        response = client.post("/dashboard/exports/", export)
        assert response.status_code == 200 and response.streaming, response.status_code
        chunks = iter(response.streaming_content)
        next(chunks)  # the header, sent before any row is read
        assert b"\n" in next(chunks)  # the first rows
        response.close()

    def export_whole_day(client: Any) -> None:
        response = client.post("/dashboard/exports/", export)
        assert response.status_code == 200 and response.streaming, response.status_code
        assert sum(chunk.count(b"\n") for chunk in response.streaming_content) > 1

    calls = {label: getter(url) for label, url in urls.items()}
    calls["scan export of a day (CSV): first rows"] = export_first_rows
    calls["scan export of a day (CSV): whole day"] = export_whole_day
    calls["floor: one row by key"] = floor
    out: dict[str, dict[str, Any]] = {size: {} for size in names}
    for label, call in calls.items():
        times: dict[str, list[float]] = {size: [] for size in names}
        queries: dict[str, int] = {}
        for size, name in names.items():
            _use(name)
            call(clients[size])  # warm: the session read, plans cached, pages read
            seen: list[str] = []

            def counting(run: Any, sql: str, *rest: Any, seen: list[str] = seen) -> Any:
                seen.append(sql)
                return run(sql, *rest)

            with connection.execute_wrapper(counting):
                call(clients[size])
            queries[size] = len(seen)
        for _round in range(REPEAT):
            for size, name in names.items():
                _use(name)
                connection.ensure_connection()
                started = time.perf_counter()
                call(clients[size])
                times[size].append((time.perf_counter() - started) * 1000)
        for size in names:
            out[size][label] = {
                "ms": round(statistics.median(times[size]), 1),
                "queries": queries[size],
            }
    return out


def _check_exact() -> None:
    """The figures of the last 30 days, read through the roll-ups, equal the raw counts."""
    from django.db import connection
    from django.utils import timezone

    from dashboards import selectors
    from dashboards.periods import Period
    from passcode_portal.rows import named_row

    today = timezone.localdate()
    period = Period(today - timedelta(days=29), today)
    figures = selectors.overview(period)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE direction = 'in' AND verdict <> 'refuse') AS entries, "
            "count(*) FILTER (WHERE direction = 'out' AND verdict <> 'refuse') AS exits, "
            "count(*) FILTER (WHERE verdict = 'refuse') AS refusals "
            "FROM checkpoints_scanevent WHERE scanned_at >= %s AND scanned_at < %s",
            [period.start, period.end],
        )
        scans = named_row(cursor)
        cursor.execute(
            "SELECT count(*) AS n FROM trucks_trip WHERE created_at >= %s AND created_at < %s",
            [period.start, period.end],
        )
        trips = named_row(cursor)
    got = (
        figures["entries"],
        figures["exits"],
        sum(figures["refusals"].values()),
        figures["registrations"],
    )
    raw = (scans.entries, scans.exits, scans.refusals, trips.n)
    assert got == raw, (got, raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", type=float, default=1.0, help="the full size as a share of the province's"
    )
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passcode_bench_dashboards"
    )
    env = _environment(database_url, tempfile.mkdtemp(prefix="bench-dash-"))
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    env["SECURE_SSL_REDIRECT"] = "false"
    os.environ.update(env)
    base = database_url.rsplit("/", 1)[1]
    import django

    django.setup()
    names = {"tenth": f"{base}_tenth", "full": f"{base}_full"}
    rows = {}
    for size, share in (("tenth", 0.1 * args.size), ("full", args.size)):
        _recreate_database(f"{database_url.rsplit('/', 1)[0]}/{names[size]}")
        rows[size] = _fill_database(names[size], share)
    times = _measure(names)
    results = {size: {"rows": rows[size], "times": times[size]} for size in names}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dashboards.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(_report(results))


def _report(results: dict[str, Any]) -> str:
    tenth, full = results["tenth"]["times"], results["full"]["times"]
    lines = [
        "| request | tenth ms | full ms | full / tenth | queries (tenth, full) |",
        "|---|---|---|---|---|",
    ]
    for label in full:
        ratio = full[label]["ms"] / tenth[label]["ms"] if tenth[label]["ms"] else 0
        lines.append(
            f"| {label} | {tenth[label]['ms']} | {full[label]['ms']} | {ratio:.2f} "
            f"| {tenth[label]['queries']}, {full[label]['queries']} |"
        )
    for size in ("tenth", "full"):
        rows = results[size]["rows"]
        lines.append(
            f"- {size}: {rows['trips']:,} trips and passes, {rows['scans']:,} scans, "
            f"{rows['walk_ins']:,} walk-ins, filled in {rows['fill_seconds']} s; "
            f"{rows['counted']:,} rows counted into the roll-ups in {rows['count_seconds']} s"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
