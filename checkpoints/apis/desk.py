"""The checkpoint list, plate-first lookup, walk-ins, and the consignee's arrival."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import selectors, services
from checkpoints.apis.access import ERRORS, request_user, staff_checkpoint
from checkpoints.models import Direction, ScanEvent
from checkpoints.scan_bodies import scan_body
from checkpoints.serializers import (
    CheckpointOutputSerializer,
    LookupPassSerializer,
    ScanTripSerializer,
    WalkInInputSerializer,
    WalkInOutputSerializer,
)
from passcode_portal.errors import DomainError
from trucks import selectors as trucks_selectors
from trucks.services import pass_token


class CheckpointPagination(LimitOffsetPagination):
    max_limit = 1000


class CheckpointListApi(APIView):
    pagination_class = CheckpointPagination

    @extend_schema(
        operation_id="checkpoints_list",
        responses={200: CheckpointOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.checkpoints_active(), request, view=self)
        return paginator.get_paginated_response(CheckpointOutputSerializer(page, many=True).data)


class LookupApi(APIView):
    @extend_schema(
        operation_id="checkpoints_lookup",
        parameters=[
            OpenApiParameter("plate", str, description="Number plate, as read on the truck."),
            OpenApiParameter("reference", str, description="Trip reference on a paper pass."),
            OpenApiParameter(
                "direction",
                str,
                enum=Direction.values,
                description="The direction staff are checking; without it, either.",
            ),
        ],
        responses={200: LookupPassSerializer(many=True), **ERRORS},
        description=(
            "Today's passes for a plate, or the pass of a printed trip reference, with the token "
            "to scan: for a driver without a phone."
        ),
    )
    def get(self, request: Request, code: str) -> Response:
        checkpoint = staff_checkpoint(request, code)
        plate = request.query_params.get("plate", "")[:32]
        reference = request.query_params.get("reference", "")[:40]
        direction = request.query_params.get("direction") or None
        if not plate.strip() and not reference.strip():
            raise DomainError(
                "validation_error",
                _("Some fields are not valid."),
                fields={"plate": [_("Enter a plate or a trip reference.")]},
            )
        if direction is not None and direction not in Direction.values:
            raise DomainError(
                "validation_error",
                _("Some fields are not valid."),
                fields={"direction": [_("Choose entry (in) or exit (out) as the direction.")]},
            )
        found = selectors.passes_for_lookup(checkpoint=checkpoint, plate=plate, reference=reference)
        answer = []
        for pass_ in found:
            body = scan_body(
                ScanEvent(direction=Direction.IN, verdict="", reason="ok", warnings=[]),
                pass_=pass_,
                trip=pass_.trip,
                persons_expected=1 + pass_.trip.co_riders.count(),
            )
            closed = selectors.pass_closed_reason(pass_, checkpoint=checkpoint, direction=direction)
            answer.append(
                {
                    "token": pass_token(pass_),
                    "checkable": closed is None,
                    "closed_reason": closed,
                    "pass": body["pass"],
                    "trip": body["trip"],
                }
            )
        return Response(answer)


class WalkInApi(APIView):
    @extend_schema(
        operation_id="checkpoints_walk_in",
        request=WalkInInputSerializer,
        responses={201: WalkInOutputSerializer, **ERRORS},
        description=(
            "Record an unregistered vehicle (turned back or sent to register). The same scan_id "
            "sent again by the same account at the same checkpoint returns the record; from "
            "anyone or anywhere else it is refused (409, code scan_id_conflict)."
        ),
    )
    def post(self, request: Request, code: str) -> Response:
        checkpoint = staff_checkpoint(request, code)
        data = WalkInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        walk_in = services.walk_in_record(
            staff=request_user(request),
            checkpoint=checkpoint,
            data=services.WalkInInput(
                plate=d["plate"],
                outcome=d["outcome"],
                driver_name=d.get("driver_name", ""),
                phone=d.get("phone", ""),
                persons=d.get("persons", 1),
                note=d.get("note", ""),
                direction=d.get("direction", Direction.IN),
                scan_id=d.get("scan_id"),
            ),
        )
        return Response(WalkInOutputSerializer(walk_in).data, status=201)


class ArrivalApi(APIView):
    @extend_schema(
        operation_id="trips_arrival",
        request=None,
        responses={200: ScanTripSerializer, **ERRORS},
        description="The consignee confirms the truck arrived (inside → arrived).",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trucks_selectors.trip_get(user=request.user, trip_id=pk)
        trip = services.trip_confirm_arrival(actor=request_user(request), trip=trip)
        trip = trucks_selectors.trip_get(user=request.user, trip_id=pk)
        body = scan_body(
            ScanEvent(direction=Direction.IN, verdict="", reason="ok", warnings=[]),
            pass_=None,
            trip=trip,
            persons_expected=1 + len(trip.co_riders.all()),
        )
        return Response(body["trip"])
