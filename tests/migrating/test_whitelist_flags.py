"""The companies' whitelist flags become whitelist entries (``trucks`` 0004) before the flags'
columns go (0005): each whitelisted company one entry of every plate and cargo, valid from the
company's creation until its old end date (or with none), without the priority lane the flag
never had, its history begun by the system; a company not whitelisted gets none. Going back
gives the flags back. Each phase runs in a process of its own, on a scratch database of the
suite's kind (SQLite, or PostgreSQL when the suite runs on it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.migrating.test_previous_layout import ROOT, scratch  # noqa: F401 (the fixture)

CHANGE_REASON = "Migrated from the company's whitelist flag"


def run(phase: str, url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "passcode_portal.settings.test",
    }
    done = subprocess.run(  # noqa: S603 (the command is fixed)
        [sys.executable, "-m", "tests.migrating.whitelist_flags", phase],
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
def test_each_whitelisted_company_becomes_one_entry_of_the_same_reach(scratch: Any) -> None:  # noqa: F811
    url = scratch()
    run("before", url)

    read = run("after", url)

    assert read["flag_columns"] == []
    entries = read["entries"]
    assert [e["company"] for e in entries] == ["保供无期限", "保供有期限"]
    open_ended, dated = entries
    assert dated["valid_from"].startswith("2026-03-01T08:00:00")
    assert dated["valid_until"].startswith("2027-01-31T16:00:00")
    assert dated["reason"] == "保供企业（第3批）"
    assert open_ended["valid_until"] is None and open_ended["reason"] == ""
    for entry in entries:
        assert (entry["plates"], entry["cargo_categories"]) == ([], [])
        assert (entry["priority_lane"], entry["revoked"]) == (False, False)
        assert entry["history"] == [["+", None, CHANGE_REASON]]

    flags = run("back", url)["flags"]
    assert [f[:2] for f in flags] == [["保供无期限", True], ["保供有期限", True], ["未列入", False]]
    assert flags[1][2].startswith("2027-01-31T16:00:00")
