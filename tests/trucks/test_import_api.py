"""The trip import API: upload (202), follow, read the errors or download them, confirm (202;
409 before the check is done), the templates; a file uploaded again registers nothing twice;
and everyone but the company's dispatchers is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import (
    UserFactory,
    consignee_user,
    driver_user,
    staff_user,
)
from tests.factories import dispatcher as make_dispatcher
from tests.trucks.importing import csv_bytes, good_row, read_csv, read_xlsx, registered
from trucks.models import Pass, Trip, TripImport
from trucks.services import imports

pytestmark = pytest.mark.django_db
BASE = "/api/v1/trip-imports/"


def _upload(client: Any, content: bytes, name: str = "trips.csv") -> Any:
    return client.post(
        BASE,
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def client(api_client: Any, dispatcher: Any) -> Any:
    # A token, as another system would use (the page uses the session).
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=dispatcher).key}")
    return api_client


def _rows(checkpoint: Any) -> list[dict[str, Any]]:
    return [
        good_row(checkpoint.code, 101),
        good_row(checkpoint.code, 102, driver_phone="555"),
        good_row(checkpoint.code, 103),
    ]


def test_an_upload_is_checked_confirmed_and_registered(client: Any, checkpoint: Any) -> None:
    response = _upload(client, csv_bytes(_rows(checkpoint)))
    assert response.status_code == 202
    body = response.json()
    assert {k: body[k] for k in ("status", "progress", "rows", "valid", "invalid")} == {
        "status": "validating",
        "progress": 0,
        "rows": 3,
        "valid": 0,
        "invalid": 0,
    }
    assert body["errors_url"].endswith(f"{BASE}{body['id']}/errors.csv")
    assert body["file_name"] == "trips.csv"

    too_soon = client.post(f"{BASE}{body['id']}/confirm/", HTTP_ACCEPT_LANGUAGE="en")
    assert too_soon.status_code == 409
    assert too_soon.json()["code"] == "not_validated"

    imports.trip_import_validate(import_id=body["id"])
    body = client.get(f"{BASE}{body['id']}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (body["status"], body["progress"], body["valid"], body["invalid"]) == (
        "validated",
        100,
        2,
        1,
    )
    assert body["errors"] == [
        {
            "row": 3,
            "column": "driver_phone",
            "value": "555",
            "message": "Enter an 11-digit mobile number, for example 13812345678.",
        }
    ]
    page = client.get(f"{BASE}{body['id']}/errors/").json()
    assert page["count"] == 1 and page["results"][0]["row"] == 3
    csv_report = client.get(f"{BASE}{body['id']}/errors.csv", HTTP_ACCEPT_LANGUAGE="en")
    assert read_csv(csv_report.content) == [
        ["Row", "Column", "Value", "Message"],
        ["3", "driver_phone", "555", "Enter an 11-digit mobile number, for example 13812345678."],
    ]
    xlsx_report = client.get(f"{BASE}{body['id']}/errors.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert read_xlsx(xlsx_report.content)[1] == [
        3,
        "driver_phone",
        "555",
        "Enter an 11-digit mobile number, for example 13812345678.",
    ]

    confirmed = client.post(f"{BASE}{body['id']}/confirm/")
    assert (confirmed.status_code, confirmed.json()["status"]) == (202, "registering")
    again = client.post(f"{BASE}{body['id']}/confirm/")
    assert (again.status_code, again.json()["status"]) == (202, "registering")
    imports.trip_import_register(import_id=body["id"])
    imports.trip_import_register(import_id=body["id"])  # delivered twice: nothing more
    body = client.get(f"{BASE}{body['id']}/").json()
    assert (body["status"], body["registered"], body["invalid"]) == ("done", 2, 1)
    assert Trip.objects.count() == 2
    assert Pass.objects.filter(status="active").count() == 2
    assert client.post(f"{BASE}{body['id']}/confirm/").status_code == 202  # harmless


def test_the_same_file_uploaded_again_registers_nothing_and_a_fixed_row_registers_alone(
    client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    rows = _rows(checkpoint)
    first = TripImport.objects.get(pk=_upload(client, csv_bytes(rows)).json()["id"])
    imports.trip_import_validate(import_id=first.pk)
    registered(first)
    assert Trip.objects.count() == 2

    again = TripImport.objects.get(pk=_upload(client, csv_bytes(rows)).json()["id"])
    imports.trip_import_validate(import_id=again.pk)
    again.refresh_from_db()
    assert (again.valid, again.invalid, again.already_registered) == (0, 1, 2)
    again = registered(again)
    assert (again.registered, again.already_registered) == (0, 2)
    assert Trip.objects.count() == 2

    rows[1]["driver_phone"] = "13900000102"
    fixed = TripImport.objects.get(pk=_upload(client, csv_bytes(rows)).json()["id"])
    imports.trip_import_validate(import_id=fixed.pk)
    fixed = registered(fixed)
    assert (fixed.registered, fixed.already_registered, fixed.invalid) == (1, 2, 0)
    assert Trip.objects.count() == 3
    assert Trip.objects.filter(driver__phone="13900000102").count() == 1


def test_two_uploads_of_one_file_confirmed_together_register_each_row_once(
    client: Any, checkpoint: Any
) -> None:
    content = csv_bytes(_rows(checkpoint))
    both = [TripImport.objects.get(pk=_upload(client, content).json()["id"]) for _ in range(2)]
    for trip_import in both:
        imports.trip_import_validate(import_id=trip_import.pk)
        imports.trip_import_confirm(trip_import=trip_import)
    for trip_import in both:
        imports.trip_import_register(import_id=trip_import.pk)
        trip_import.refresh_from_db()
    assert [(t.registered, t.already_registered) for t in both] == [(2, 0), (0, 2)]
    assert Trip.objects.count() == 2


def test_the_database_holds_one_trip_per_import_key(dispatcher: Any, checkpoint: Any) -> None:
    from django.db import IntegrityError, transaction

    from tests.factories import make_trip

    trip = make_trip(dispatcher, checkpoint)
    Trip.objects.filter(pk=trip.pk).update(import_key="k" * 64)
    other = make_trip(dispatcher, checkpoint)
    with pytest.raises(IntegrityError), transaction.atomic():
        Trip.objects.filter(pk=other.pk).update(import_key="k" * 64)


def _urls(trip_import: TripImport) -> list[tuple[str, str]]:
    pk = trip_import.pk
    return [
        ("get", f"{BASE}{pk}/"),
        ("get", f"{BASE}{pk}/errors/"),
        ("get", f"{BASE}{pk}/errors.csv"),
        ("get", f"{BASE}{pk}/errors.xlsx"),
        ("post", f"{BASE}{pk}/confirm/"),
    ]


def test_the_error_report_never_gives_back_a_formula(client: Any, checkpoint: Any) -> None:
    # A cell typed as a formula comes back as text in both reports: opening the report must
    # not run what someone put in the file.
    formula = '=HYPERLINK("http://evil.example/","x")'
    body = _upload(client, csv_bytes([good_row(checkpoint.code, 104, driver_phone=formula)])).json()
    imports.trip_import_validate(import_id=body["id"])
    csv_report = read_csv(client.get(f"{BASE}{body['id']}/errors.csv").content)
    xlsx_report = read_xlsx(client.get(f"{BASE}{body['id']}/errors.xlsx").content)
    assert csv_report[1][2] == xlsx_report[1][2] == "'" + formula


@pytest.mark.parametrize("role", ["driver", "staff", "official", "consignee", "anonymous"])
def test_only_dispatchers_may_use_any_endpoint(
    role: str, dispatcher: Any, checkpoint: Any, company: Any
) -> None:
    trip_import = imports.trip_import_upload(
        actor=dispatcher, file_name="t.csv", content=csv_bytes(_rows(checkpoint))
    )
    users = {
        "driver": lambda: driver_user(company),
        "staff": lambda: staff_user(checkpoint),
        "official": lambda: UserFactory(role="official"),
        "consignee": lambda: consignee_user(),
    }
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(users[role]())
    expected = 401 if role == "anonymous" else 403
    calls = [
        *_urls(trip_import),
        ("get", f"{BASE}template.csv"),
        ("get", f"{BASE}template.xlsx"),
    ]
    for method, url in calls:
        assert getattr(client, method)(url).status_code == expected, url
    upload = client.post(BASE, {"file": SimpleUploadedFile("t.csv", b"x")}, format="multipart")
    assert upload.status_code == expected
    assert TripImport.objects.count() == 1


def test_another_companys_import_does_not_exist(dispatcher: Any, checkpoint: Any) -> None:
    trip_import = imports.trip_import_upload(
        actor=dispatcher, file_name="t.csv", content=csv_bytes(_rows(checkpoint))
    )
    imports.trip_import_validate(import_id=trip_import.pk)
    client = APIClient()
    client.force_authenticate(make_dispatcher())
    for method, url in _urls(trip_import):
        assert getattr(client, method)(url).status_code == 404, url
    trip_import.refresh_from_db()
    assert trip_import.status == "validated"
