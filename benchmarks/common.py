"""What the benchmarks share (benchmarks/run.py, benchmarks/scan.py, benchmarks/lifecycle.py): a
fresh PostgreSQL database, the environment of a production-like run, the rows every load needs,
and gunicorn under wrk, driven by Lua scripts made from templates (``_lua``)."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

WORKERS = 2
CONNECTIONS = 16
THREADS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _recreate_database(url: str) -> None:
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _environment(database_url: str, var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ENV"}}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="passcode_portal.settings",
        DEBUG="false",
        VAR_DIR=var_dir,
        CONN_MAX_AGE="600",
        SECRET_KEY=base64.b64encode(os.urandom(40)).decode(),
        PASS_SIGNING_KEY="1:" + base64.b64encode(os.urandom(32)).decode(),
        AXES_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    return env


def _prepare(env: dict[str, str]) -> dict[str, Any]:
    """Migrate and create what the load needs, in this process, against the bench database."""
    os.environ.update(env)
    import django

    django.setup()
    import io

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from places.models import Checkpoint
    from trucks.models import Company, CompanyMember
    from trucks.validators import uscc_check_character

    call_command("migrate", verbosity=0)
    call_command("load_regions", stdout=io.StringIO())
    checkpoint = Checkpoint.objects.create(
        code="JZ-G55-N", name="二广高速焦作北站", kind="highway_exit", region_id="410800"
    )
    first17 = "91410800MA0000001"
    company = Company.objects.create(
        name="焦作运输有限公司",
        uscc=first17 + uscc_check_character(first17),
        contact_name="王经理",
        contact_phone="13900000000",
    )
    user = User.objects.create_user("bench-dispatcher", password="bench-password-1")
    user.groups.add(Group.objects.get(name="dispatcher"))
    CompanyMember.objects.create(user=user, company=company)
    token = Token.objects.create(user=user).key
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_floor_row (id bigserial PRIMARY KEY, plate varchar(16), "
            "checkpoint_id bigint, payload text, created_at timestamptz DEFAULT now())"
        )
    connection.close()
    return {"token": token, "checkpoint": checkpoint.code}


def _lua(template: str, **values: Any) -> str:
    head = []
    for name, value in values.items():
        if isinstance(value, list):
            head.append(f"{name} = {{{', '.join(str(v) for v in value)}}}")
        elif isinstance(value, dict):
            items = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in value.items())
            head.append(f"{name} = {{{items}}}")
        else:
            head.append(f"{name} = [==[{value}]==]")
    return "\n".join(head) + "\n" + template


class Server:
    def __init__(self, env: dict[str, str], settings_module: str, extra: dict[str, str]) -> None:
        self.port = _free_port()
        env = dict(env, DJANGO_SETTINGS_MODULE=settings_module, **extra)
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "passcode_portal.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={WORKERS}",
                "--worker-class=sync",
                "--log-level=warning",
                "--backlog=2048",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def _wrk(port: int, script: str, seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            f.name,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(f.name)

    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


_runs = iter(range(100))


def _load(
    env: dict[str, str],
    settings_module: str,
    script: str,
    seconds: int,
    extra: dict[str, str] | None = None,
) -> dict[str, float]:
    server = Server(env, settings_module, extra or {})
    try:
        # Warm up (connections, imports, caches), then measure; each wrk run has its own RUN
        # number, which the registration script folds into its plates.
        _wrk(server.port, f"RUN = {next(_runs)}\n" + script, 2)
        return _wrk(server.port, f"RUN = {next(_runs)}\n" + script, seconds)
    finally:
        server.stop()
