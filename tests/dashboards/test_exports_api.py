"""The exports API (``POST /api/v1/exports/``, ``GET /api/v1/exports/{id}/`` and its download):
always queued (202), read back with its status and progress, downloaded once built; only by the
official who asked and by administrators (another official finds nothing: 404); every other
role 403, anonymous 401; bad bodies 400 with field messages, queueing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from dashboards.exports import files, services
from dashboards.models import Export
from tests.dashboards.exporting import DAY, SCAN_HEADERS, Rows, other_role, read_csv, scan_rows
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/exports/"


def client_of(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def body(**fields: Any) -> dict[str, Any]:
    return {"kind": "scans", "format": "csv", "from": DAY, "to": DAY, **fields}


def test_an_export_is_queued_read_back_and_downloaded(rows: Rows) -> None:
    official = client_of(UserFactory(role="official"))
    answer = official.post(URL, body(checkpoint="CP-A"), format="json")
    assert answer.status_code == 202
    queued = answer.json()
    assert {key: queued[key] for key in ("status", "progress", "download", "rows")} == {
        "status": "queued",
        "progress": 0.0,
        "download": None,
        "rows": 2,
    }
    assert (queued["from"], queued["to"], queued["checkpoint"]) == (DAY, DAY, "CP-A")
    services.export_build(export_id=queued["id"])
    done = official.get(f"{URL}{queued['id']}/").json()
    assert (done["status"], done["progress"], done["rows_done"]) == ("done", 1.0, 2)
    assert done["download"] == f"http://testserver{URL}{queued['id']}/download/"
    got = official.get(done["download"])
    assert got.status_code == 200
    assert got["Content-Disposition"] == f'attachment; filename="scans-{DAY}-{DAY}-CP-A.csv"'
    assert read_csv(b"".join(got.streaming_content)) == [SCAN_HEADERS, *scan_rows(rows)[:2]]


def test_a_download_before_the_file_is_built_is_a_409(rows: Rows) -> None:
    official = client_of(UserFactory(role="official"))
    queued = official.post(URL, body(format="xlsx"), format="json").json()
    early = official.get(f"{URL}{queued['id']}/download/")
    assert early.status_code == 409 and early.json()["code"] == "not_ready"


def test_only_the_official_who_asked_and_admins_see_it(rows: Rows) -> None:
    owner = UserFactory(role="official")
    export = client_of(owner).post(URL, body(), format="json").json()
    services.export_build(export_id=export["id"])
    detail, download = f"{URL}{export['id']}/", f"{URL}{export['id']}/download/"
    other = client_of(UserFactory(role="official"))
    assert other.get(detail).status_code == 404
    assert other.get(download).status_code == 404
    admin = client_of(UserFactory(role="admin"))
    assert admin.get(detail).json()["status"] == "done"
    assert admin.get(download).status_code == 200


@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "staff"])
def test_every_other_role_is_refused(rows: Rows, role: str) -> None:
    export = client_of(UserFactory(role="official")).post(URL, body(), format="json").json()
    user = other_role(role, rows)
    client = client_of(user)
    assert client.post(URL, body(), format="json").status_code == 403
    assert client.get(f"{URL}{export['id']}/").status_code == 403
    assert client.get(f"{URL}{export['id']}/download/").status_code == 403
    anonymous = APIClient()
    assert anonymous.post(URL, body(), format="json").status_code == 401
    assert anonymous.get(f"{URL}{export['id']}/").status_code == 401
    assert anonymous.get(f"{URL}{export['id']}/download/").status_code == 401
    assert Export.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "people"}, "kind", "not a valid choice"),
        ({"format": "pdf"}, "format", "not a valid choice"),
        ({"from": "20/11/2026"}, "from", "YYYY-MM-DD"),
        ({"to": None}, "to", "may not be null"),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "to", "end date is before the start"),
        ({"checkpoint": "NOWHERE"}, "checkpoint", "No such checkpoint."),
        ({"from": "2025-01-01", "to": "2026-11-20"}, "to", "at most 366 days"),
    ],
)
def test_bad_bodies_are_refused_with_field_messages(
    rows: Rows, fields: dict[str, Any], field: str, words: str
) -> None:
    official = client_of(UserFactory(role="official"))
    answer = official.post(URL, body(**fields), format="json")
    assert answer.status_code == 400
    assert words in " ".join(answer.json()["fields"][field])
    assert Export.objects.count() == 0


def test_excel_beyond_its_last_row_is_refused_in_the_users_language(
    rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "XLSX_MAX_ROWS", 3)
    user = UserFactory(role="official")
    answer = client_of(user).post(URL, body(format="xlsx"), format="json")
    assert answer.status_code == 400
    refusal = answer.json()
    assert refusal["code"] == "too_many_rows" and refusal["rows"] == 3
    assert "Choose CSV" in refusal["fields"]["format"][0]
    chinese = APIClient()
    chinese.force_authenticate(user)
    words = chinese.post(URL, body(format="xlsx"), format="json").json()["detail"]
    assert words.startswith("本次导出共 3 行，超过 Excel 工作表的上限") and "改用 CSV" in words
    assert Export.objects.count() == 0
