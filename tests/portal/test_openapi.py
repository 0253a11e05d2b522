"""The OpenAPI schema at /api/schema/ documents every endpoint, validates without warnings, and
the docs UI answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/keys/": {"get"},
    "/api/v1/trips/": {"get", "post"},
    "/api/v1/trips/{id}/": {"get"},
    "/api/v1/trips/{id}/cancel/": {"post"},
    "/api/v1/trips/{id}/test-result/": {"post"},
    "/api/v1/trips/{id}/plate/": {"post"},
    "/api/v1/passes/{id}/qr.png": {"get"},
    "/api/v1/passes/{id}/qr.svg": {"get"},
    "/api/v1/regions/": {"get"},
    "/api/v1/regions/{code}/": {"get", "patch"},
    "/api/v1/checkpoints/": {"get"},
    "/api/v1/consignees/": {"get"},
}


def test_the_schema_documents_every_endpoint(api_client: Any) -> None:
    r = api_client.get("/api/schema/")

    assert r.status_code == 200
    schema = yaml.safe_load(r.content)
    for path, methods in ENDPOINTS.items():
        assert methods <= set(schema["paths"][path]), path
    trip = schema["components"]["schemas"]["TripOutput"]["properties"]
    assert {"id", "reference", "status", "pass"} <= set(trip)
    qr = schema["paths"]["/api/v1/passes/{id}/qr.png"]["get"]["responses"]["200"]
    assert "image/png" in qr["content"]


def test_the_schema_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/trips/" in yaml.safe_load(out.read_text())["paths"]


def test_the_docs_ui_answers(api_client: Any) -> None:
    r = api_client.get("/api/docs/")

    assert r.status_code == 200
    assert b"swagger" in r.content.lower()
    # Its assets come from our own static files, never from a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in r.content
    assert b"cdn" not in r.content.lower()
