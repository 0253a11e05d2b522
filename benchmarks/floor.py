"""The floor: bare Django views, no middleware, no DRF, raw SQL on the same database.

Each benchmark figure stands beside the same load against one of these views in the same run, so
the ratio says what the product's own work costs over what Django and the database cost at all.
"""

from __future__ import annotations

import base64
import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from passcode_portal.rows import named_row


@csrf_exempt
def register_floor(request: HttpRequest) -> HttpResponse:
    """Parse the same JSON body a registration sends, one indexed SELECT, one INSERT."""
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM checkpoints_checkpoint WHERE code = %s", [body["entry_checkpoint"]]
        )
        row = named_row(cursor)
        cursor.execute(
            "INSERT INTO bench_floor_row (plate, checkpoint_id, payload) VALUES (%s, %s, %s)"
            " RETURNING id",
            [body["vehicle_plate"], row.id if row else None, request.body.decode()],
        )
        new_id = named_row(cursor).id
    return JsonResponse({"id": new_id}, status=201)


def read_floor(request: HttpRequest, pk: int) -> HttpResponse:
    """One indexed SELECT and a small body: what any GET of one row costs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, valid_until FROM trucks_pass WHERE id = %s", [pk])
        row = named_row(cursor)
    return HttpResponse(repr(row and tuple(row)).encode(), content_type="text/plain")


@csrf_exempt
def scan_floor(request: HttpRequest) -> HttpResponse:
    """The scan endpoint's floor (the checkpoint issue): parse the same body, read the pass id
    out of the token (no signature check), one indexed SELECT of the pass, one INSERT."""
    body = json.loads(request.body)
    header = base64.b32decode(body["token"][:16])
    pass_id = int.from_bytes(header[1:5], "big")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, status FROM trucks_pass WHERE id = %s", [pass_id])
        row = named_row(cursor)
        cursor.execute(
            "INSERT INTO bench_floor_row (plate, checkpoint_id, payload) VALUES (%s, %s, %s)"
            " RETURNING id",
            [row.status if row else "", row.id if row else None, body.get("direction", "")],
        )
        new_id = named_row(cursor).id
    return JsonResponse({"id": new_id, "verdict": "admit"}, status=201)


urlpatterns = [
    path("floor/scan", scan_floor),
    path("floor/register", register_floor),
    path("floor/read/<int:pk>", read_floor),
]
