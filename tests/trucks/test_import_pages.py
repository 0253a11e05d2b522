"""The dispatcher's import pages: upload (a bad file shows its message, 400), the import's
page with its errors, confirmation and the trips registered; everyone else refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import UserFactory, consignee_user, driver_user, staff_user
from tests.factories import dispatcher as make_dispatcher
from tests.trucks.importing import csv_bytes, good_row
from trucks.models import Trip, TripImport
from trucks.services import imports

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(dispatcher: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(dispatcher)
    return client


def test_a_bad_file_shows_its_message_and_keeps_the_page(page: Client) -> None:
    response = page.post("/company/imports/", {"file": SimpleUploadedFile("t.csv", b"")})
    assert response.status_code == 400
    assert "The file is empty." in response.content.decode()
    assert TripImport.objects.count() == 0
    missing = page.post("/company/imports/", {})
    assert missing.status_code == 400
    assert "Choose a CSV or Excel file." in missing.content.decode()


def test_an_upload_is_checked_shown_confirmed_and_its_trips_listed(
    page: Client, checkpoint: Any
) -> None:
    listing = page.get("/company/imports/").content.decode()
    assert "/api/v1/trip-imports/template.xlsx" in listing
    assert "/api/v1/trip-imports/template.csv" in listing
    rows = [good_row(checkpoint.code, 301), good_row(checkpoint.code, 302, origin_region="1")]
    response = page.post(
        "/company/imports/", {"file": SimpleUploadedFile("trips.csv", csv_bytes(rows))}
    )
    trip_import = TripImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/company/imports/{trip_import.pk}/"
    assert 'data-status="validating"' in page.get(response["Location"]).content.decode()

    imports.trip_import_validate(import_id=trip_import.pk)
    body = page.get(f"/company/imports/{trip_import.pk}/").content.decode()
    assert 'data-error-row="3"' in body
    assert "Choose a region from the list." in body
    assert "Register 1 trip" in body
    assert "trips.csv" in page.get("/company/imports/").content.decode()

    confirmed = page.post(f"/company/imports/{trip_import.pk}/confirm/")
    assert confirmed.status_code == 302
    imports.trip_import_register(import_id=trip_import.pk)
    body = page.get(f"/company/imports/{trip_import.pk}/").content.decode()
    trip = Trip.objects.get()
    assert f'href="/trips/{trip.pk}/"' in body
    assert trip.reference in body


def test_confirming_before_the_check_is_done_says_why(page: Client, dispatcher: Any) -> None:
    trip_import = TripImport.objects.create(
        company=dispatcher.company_membership.company,
        created_by=dispatcher,
        file_name="t.csv",
        content=b"",
        language="en",
        status="failed",
        message="The import stopped on an error; upload the file again.",
    )
    response = page.post(f"/company/imports/{trip_import.pk}/confirm/")
    assert response.status_code == 409
    assert "once its rows are checked" in response.content.decode()


@pytest.mark.parametrize("role", ["driver", "staff", "official", "consignee"])
def test_only_dispatchers_see_the_pages(
    role: str, dispatcher: Any, checkpoint: Any, company: Any
) -> None:
    trip_import = imports.trip_import_upload(
        actor=dispatcher, file_name="t.csv", content=csv_bytes([good_row(checkpoint.code)])
    )
    user = {
        "driver": lambda: driver_user(company),
        "staff": lambda: staff_user(checkpoint),
        "official": lambda: UserFactory(role="official"),
        "consignee": lambda: consignee_user(),
    }[role]()
    client = Client()
    client.force_login(user)
    assert client.get("/company/imports/").status_code == 403
    assert client.post("/company/imports/", {}).status_code == 403
    assert client.get(f"/company/imports/{trip_import.pk}/").status_code == 403
    assert client.post(f"/company/imports/{trip_import.pk}/confirm/").status_code == 403


def test_another_companys_import_is_not_found_and_anonymous_signs_in(
    dispatcher: Any, checkpoint: Any
) -> None:
    trip_import = imports.trip_import_upload(
        actor=dispatcher, file_name="t.csv", content=csv_bytes([good_row(checkpoint.code)])
    )
    other = Client()
    other.force_login(make_dispatcher())
    assert other.get(f"/company/imports/{trip_import.pk}/").status_code == 404
    assert other.post(f"/company/imports/{trip_import.pk}/confirm/").status_code == 404
    assert "t.csv" not in other.get("/company/imports/").content.decode()
    anonymous = Client()
    for url in ("/company/imports/", f"/company/imports/{trip_import.pk}/"):
        assert anonymous.get(url).status_code == 302
    trip_import.refresh_from_db()
    assert trip_import.status == "validating"


def test_the_company_pages_link_to_the_imports(page: Client) -> None:
    assert 'href="/company/imports/"' in page.get("/").content.decode()
