"""The checkpoint's scan page in the browser, online and offline: ``make bench-scanpage``.

    make bench-scanpage    # or: .venv/bin/python benchmarks/scanpage.py [--repeat 9]

A fresh PostgreSQL database (BENCH_DATABASE_URL with ``_page`` added to its name) gets 20,000
active green passes, made in bulk an hour ago (so a delta holds only what changed since), and
gunicorn serves the product with two sync workers. Then, each beside a floor measured in the
same run:

- the checkpoint bundle over HTTP, gzip as the tablet asks for it: its size and the time of a
  whole one, against the database reading the same rows and Python writing them as JSON with no
  Django at all; and the delta after 100 passes are revoked, its size and rows;
- Debian's Chromium through Playwright, a fake camera playing one pass's QR code. For each of
  ``--repeat`` runs, a fresh browser context (nothing cached: no service worker, no IndexedDB)
  opens the scan page signed in; once the page has made the camera and the decoder ready, the
  camera button is pressed, and the page's own timeline marks (static/js/scan.js,
  static/js/scan-camera.js) give the time from the press to the verdict painted, and from the
  code decoded to the verdict. The same page is then cut off from the network and reloaded
  (the service worker opens it, the bundle comes from IndexedDB), and the camera pressed again:
  the offline verdict. The same runs with the camera not opened ahead (a tablet that has not
  allowed it yet) show what opening it at the press costs. The first sync's time in the
  browser is the page's own marks around it.
- Floors in the same browser: the camera alone (opened, to its first frame), a fetch round trip
  to a bare view of one SELECT and one INSERT on the same server, and one Ed25519 check with a
  repaint.

The figures go to ``benchmarks/results/scanpage.json`` and, as a table, to standard output.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, Server, _environment, _prepare, _recreate_database
from passcode_portal.rows import named_rows

PASSES = 20_000
CHANGES = 100
TABLET = {"width": 1280, "height": 800}

MARKS = """() => Object.fromEntries(
  performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]))"""
HAS_MARK = "(name) => performance.getEntriesByName(name).length > 0"

# The floors, run in the page: the camera alone; a bare round trip; a signature check repainted.
CAMERA_FLOOR = """async () => {
  const started = performance.now();
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: false});
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  document.body.appendChild(video);
  await video.play();
  await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  const took = performance.now() - started;
  stream.getTracks().forEach((track) => track.stop());
  video.remove();
  return took;
}"""
FETCH_FLOOR = """async (token) => {
  const started = performance.now();
  const response = await fetch('/floor/scan', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({token: token, direction: 'in'})});
  await response.json();
  return performance.now() - started;
}"""
VERIFY_FLOOR = """async () => {
  const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify']);
  const data = new Uint8Array(12);
  const signature = await crypto.subtle.sign({name: 'Ed25519'}, pair.privateKey, data);
  const node = document.createElement('p');
  document.body.appendChild(node);
  const started = performance.now();
  const ok = await crypto.subtle.verify({name: 'Ed25519'}, pair.publicKey, signature, data);
  node.textContent = String(ok);
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const took = performance.now() - started;
  node.remove();
  return took;
}"""


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else float("nan")


# ---------------------------------------------------------------------------------------------
# The data


def _make_data(code: str) -> tuple[Any, str, list[int], str]:
    """The passes, made in bulk and dated an hour back; the staff member: (staff, API token,
    pass ids, the first pass's token)."""
    from django.db import connection

    from benchmarks.scan import _make_passes
    from trucks.models import Pass

    staff, api_token, tokens = _make_passes(code, count=PASSES)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE trucks_trip SET updated_at = now() - interval '1 hour'")
        cursor.execute(
            "UPDATE trucks_pass SET issued_at = now() - interval '1 hour', "
            "graded_at = now() - interval '1 hour'"
        )
        cursor.execute("VACUUM ANALYZE")
    ids = list(Pass.objects.order_by("pk").values_list("pk", flat=True))
    return staff, api_token, ids, tokens[0]


def _reset(pass_id: int) -> None:
    """The pass the camera shows, back to registered and unscanned, between runs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM checkpoints_alert WHERE trip_id IN "
            "(SELECT trip_id FROM trucks_pass WHERE id = %s)",
            [pass_id],
        )
        cursor.execute("DELETE FROM checkpoints_scanevent WHERE trip_pass_id = %s", [pass_id])
        cursor.execute(
            "UPDATE trucks_trip SET status = 'registered', entered_at = NULL WHERE id = "
            "(SELECT trip_id FROM trucks_pass WHERE id = %s)",
            [pass_id],
        )
        cursor.execute("UPDATE trucks_pass SET status = 'active' WHERE id = %s", [pass_id])


# ---------------------------------------------------------------------------------------------
# The bundle over HTTP


def _get(url: str, api_token: str) -> tuple[float, int, dict[str, Any]]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Token {api_token}", "Accept-Encoding": "gzip"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        zipped = response.headers.get("Content-Encoding") == "gzip"
    took = (time.perf_counter() - started) * 1000
    body = json.loads(gzip.decompress(raw) if zipped else raw)
    return took, len(raw), body


def _rows_floor() -> float:
    """The bundle's rows read by the database and written as JSON by Python, no Django."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.colour, p.status, extract(epoch FROM p.valid_from)::bigint AS vf, "
            "extract(epoch FROM p.valid_until)::bigint AS vu, t.status AS trip_status, v.plate, "
            "1 AS persons, t.multi_entry, t.entry_checkpoint_id, t.reference, false AS lane "
            "FROM trucks_pass p "
            "JOIN trucks_trip t ON t.id = p.trip_id JOIN trucks_vehicle v ON v.id = t.vehicle_id "
            "WHERE p.valid_until > now() - interval '24 hours'"
        )
        rows = named_rows(cursor)
    gzip.compress(json.dumps({"passes": rows}, ensure_ascii=False).encode())
    return (time.perf_counter() - started) * 1000


def _bundle(port: int, code: str, api_token: str, ids: list[int], repeat: int) -> dict[str, Any]:
    from django.utils import timezone

    from trucks.models import Pass

    url = f"http://127.0.0.1:{port}/api/v1/checkpoints/{code}/bundle/"
    _get(url, api_token)  # warm up: imports, connections, caches
    runs = [_get(url, api_token) for _ in range(repeat)]
    floors = [_rows_floor() for _ in range(repeat)]
    _, size, body = runs[-1]
    raw = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    changed = ids[1 : 1 + CHANGES]
    Pass.objects.filter(pk__in=changed).update(status="revoked", revoked_at=timezone.now())
    delta_took, delta_size, delta = _get(f"{url}?since={body['cursor']}", api_token)
    return {
        "passes": len(body["passes"]),
        "full_ms": _median([r[0] for r in runs]),
        "full_floor_ms": _median(floors),
        "full_gzip_bytes": size,
        "full_json_bytes": raw,
        "delta_after": CHANGES,
        "delta_rows": len(delta["passes"]),
        "delta_full": delta["full"],
        "delta_gzip_bytes": delta_size,
        "delta_ms": round(delta_took, 1),
    }


# ---------------------------------------------------------------------------------------------
# The page in the browser


def _wait_mark(page: Any, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(HAS_MARK, name):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the page never marked {name}")
        page.wait_for_timeout(20)


def _context(browser: Any, base: str, session: str, csrf: str, *, warm: bool) -> Any:
    context = browser.new_context(
        viewport=TABLET, locale="zh-CN", timezone_id="Asia/Shanghai", permissions=["camera"]
    )
    from django.conf import settings

    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base},
            {"name": settings.CSRF_COOKIE_NAME, "value": csrf, "url": base},
        ]
    )
    if not warm:
        # A tablet that has not allowed the camera yet: the page cannot open it ahead.
        context.add_init_script(
            "navigator.permissions.query = () => Promise.reject(new Error('not asked'));"
        )
    return context


def _press(page: Any, verdict_mark: str) -> dict[str, float]:
    page.click("#camera-toggle")
    _wait_mark(page, verdict_mark)
    page.wait_for_timeout(50)
    marks: dict[str, float] = page.evaluate(MARKS)
    return marks


def _run(
    browser: Any, base: str, code: str, session: str, csrf: str, token: str, *, warm: bool
) -> dict[str, float]:
    context = _context(browser, base, session, csrf, warm=warm)
    outside: list[str] = []

    def only_ours(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    page = context.new_page()
    page.goto(f"{base}/checkpoints/{code}/scan/")
    _wait_mark(page, "bundle:full-ready")
    if warm:
        _wait_mark(page, "camera:warm")
    else:
        page.wait_for_timeout(300)  # the decoder made ready, as on a warm page
    online = _press(page, "scan:verdict")
    result = {
        "press_to_verdict": online["scan:verdict"] - online["scan:camera-pressed"],
        "decoded_to_verdict": online["scan:verdict"] - online["scan:decoded"],
        "first_sync": online["bundle:full-ready"] - online["bundle:full-start"],
    }
    if warm:
        result["camera_floor"] = page.evaluate(CAMERA_FLOOR)
        result["fetch_floor"] = statistics.median(
            page.evaluate(FETCH_FLOOR, token) for _ in range(5)
        )
        result["verify_floor"] = page.evaluate(VERIFY_FLOOR)
        # Cut off, reloaded: the service worker opens the page, IndexedDB holds the bundle.
        context.set_offline(True)
        context.route("**/*", lambda route: route.abort("internetdisconnected"))
        page.reload()
        _wait_mark(page, "bundle:restored")
        _wait_mark(page, "camera:warm")
        offline = _press(page, "scan:verdict-offline")
        result["offline_press_to_verdict"] = (
            offline["scan:verdict-offline"] - offline["scan:camera-pressed"]
        )
        result["offline_decoded_to_verdict"] = (
            offline["scan:verdict-offline"] - offline["scan:decoded"]
        )
    if outside:
        raise RuntimeError(f"the page asked other hosts: {outside}")
    context.close()
    return result


def _browser(
    port: int, code: str, staff: Any, token: str, pass_id: int, repeat: int
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from benchmarks.scan import _tablet_session
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, FAKE_CAMERA_ARGS, qr_video
    from trucks import qr

    session, csrf = _tablet_session(staff, code)
    # Playwright's sync API runs an event loop in this thread; the resets between runs are
    # plain synchronous queries made while the browser waits (as in tests/browser/conftest.py).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    base = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="passcode-bench-page-"))
    video = qr_video(qr.qr_png(token), folder)
    runs: dict[str, list[dict[str, float]]] = {"warm": [], "cold_camera": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, *FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"],
        )
        _reset(pass_id)
        _run(browser, base, code, session, csrf, token, warm=True)  # warm-up run, not counted
        for _ in range(repeat):
            for kind in ("warm", "cold_camera"):
                _reset(pass_id)
                runs[kind].append(
                    _run(browser, base, code, session, csrf, token, warm=kind == "warm")
                )
        browser.close()
    return {
        kind: {name: _median([r[name] for r in results]) for name in results[0]}
        for kind, results in runs.items()
    }


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passcode_bench")
    database_url = base + "_page"
    _recreate_database(database_url)
    var_dir = tempfile.mkdtemp(prefix="passcode-bench-")
    env = _environment(database_url, var_dir)
    env["THROTTLE_SCAN"] = "100000000/min"
    setup = _prepare(env)
    code = setup["checkpoint"]
    staff, api_token, ids, token = _make_data(code)
    server = Server(env, "benchmarks.page_settings", {})
    try:
        results = {
            "repeat": args.repeat,
            "bundle": _bundle(server.port, code, api_token, ids, args.repeat),
            "page": _browser(server.port, code, staff, token, ids[0], args.repeat),
        }
    finally:
        server.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scanpage.json").write_text(json.dumps(results, indent=2))
    print(_report(results))


def _report(r: dict[str, Any]) -> str:
    b, warm, cold = r["bundle"], r["page"]["warm"], r["page"]["cold_camera"]
    lines = [
        f"scan page, median of {r['repeat']} runs each (ms)",
        f"  cold page, camera opened ahead: press → verdict {warm['press_to_verdict']}"
        f"  (camera alone, open → first frame: {warm['camera_floor']})",
        f"  cold page, camera opened at the press: press → verdict {cold['press_to_verdict']}",
        f"  online: decoded → verdict {warm['decoded_to_verdict']}"
        f"  (bare round trip: {warm['fetch_floor']})",
        f"  offline, reloaded: press → verdict {warm['offline_press_to_verdict']}, decoded → "
        f"verdict {warm['offline_decoded_to_verdict']}  (one Ed25519 check and a repaint: "
        f"{warm['verify_floor']})",
        f"  first sync in the page ({b['passes']} passes): {warm['first_sync']}",
        f"bundle over HTTP: {b['full_gzip_bytes']:,} bytes gzip ({b['full_json_bytes']:,} JSON), "
        f"{b['full_ms']} ms  (rows read and written as JSON, no Django: {b['full_floor_ms']} ms)",
        f"delta after {b['delta_after']} revocations: {b['delta_rows']} rows, "
        f"{b['delta_gzip_bytes']:,} bytes, {b['delta_ms']} ms",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
