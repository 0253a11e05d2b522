"""A database the previous layout made (regions, checkpoint sites, the outbox and hand-over
inside trucks and checkpoints) migrates forward to the apps by purpose with nothing lost, and
ends with the same schema as a database made afresh. Each phase runs in a process of its own,
on a scratch database of the suite's kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Any]:
    """Makes empty databases of the test run's kind (SQLite, or PostgreSQL when the suite runs
    on it) and drops them afterwards; yields a function that returns a new one's URL."""
    made: list[str] = []

    def make() -> str:
        if connection.vendor == "postgresql":
            name = f"scratch_{uuid.uuid4().hex[:12]}"
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
            made.append(name)
            params = connection.settings_dict
            auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
            return (
                f"postgres://{auth}@{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}/{name}"
            )
        return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.sqlite3'}"

    yield make
    with connection.cursor() as cursor:
        for name in made:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run(phase: str, url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "passcode_portal.settings.test",
    }
    done = subprocess.run(  # noqa: S603 (the command is fixed)
        [sys.executable, "-m", "tests.migrating.previous_layout", phase],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout.strip().splitlines()
    return json.loads(out[-1]) if out else {}


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_previous_layout_migrates_forward_with_nothing_lost(scratch: Any) -> None:
    old = scratch()
    run("before", old)
    read = run("after", old)

    assert read["regions"] == [["410000", "low"], ["410800", "medium"]]
    assert read["region_history"] == [["410800", "medium"]]
    assert read["checkpoint"] == ["JZ-G55-N", "410800"]
    assert read["staff"] == [["staff1", "JZ-G55-N", True]]
    assert read["trip"] == ["JZ-G55-N", "410800", ["410000"]]
    assert read["scan"] == [["JZ-G55-N", "JZ-1"]]
    assert read["notification"] == [["JZ-1", "pass_issued"]]
    assert read["subscription"] == [["落地城市", "410000"]]
    assert read["delivery"] == ["落地城市", "JZ-1"]
    assert read["cursor"] == [["scan_events", 41]]
    # The content types moved with their models (so permissions and audit rows follow them),
    # and none is left under the app that no longer holds the model.
    content_types = {tuple(ct) for ct in read["content_types"]}
    assert {
        ("places", "region"),
        ("places", "checkpoint"),
        ("places", "staffassignment"),
        ("notifications", "notification"),
        ("handover", "webhooksubscription"),
        ("handover", "webhookdelivery"),
        ("handover", "sweepcursor"),
    } <= content_types
    assert (
        not {
            ("trucks", "region"),
            ("checkpoints", "checkpoint"),
            ("trucks", "notification"),
            ("trucks", "webhookdelivery"),
        }
        & content_types
    )
    assert "places.change_region" in read["official_permissions"]

    # And the migrated database ends with the schema of one made afresh.
    fresh = run("fresh", scratch())["schema"]
    assert sorted(read["schema"]) == sorted(fresh)
    for table in fresh:
        assert read["schema"][table] == fresh[table], table
