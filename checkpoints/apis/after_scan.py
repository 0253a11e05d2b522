"""What staff do after a scan: confirm plate and persons, landing tests, a supervisor's override."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import selectors, services
from checkpoints.apis.access import ERRORS, request_user, staff_checkpoint
from checkpoints.models import ScanEvent
from checkpoints.scan_bodies import scan_body
from checkpoints.serializers import (
    ConfirmInputSerializer,
    LandingResultInputSerializer,
    OverrideInputSerializer,
    ScanOutputSerializer,
)
from trucks import services as trucks_services


def _scan_answer(scan: ScanEvent) -> Response:
    scan = ScanEvent.objects.select_related(*selectors.SCAN_ANSWER_RELATED).get(pk=scan.pk)
    persons = 1 + scan.trip.co_riders.count() if scan.trip is not None else None
    return Response(
        scan_body(
            scan,
            pass_=scan.trip_pass,
            trip=scan.trip,
            persons_expected=persons,
            priority_lane=services.scan_priority_lane(scan, trucks_services.priority_lanes()),
        )
    )


class ScanConfirmApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_confirm",
        request=ConfirmInputSerializer,
        responses={200: ScanOutputSerializer, **ERRORS},
        description=(
            "Confirm the plate read on the truck and the persons counted. A plate other than "
            "the registered one is first answered 409 (plate_mismatch_unconfirmed, with both "
            "plates) for a second look; confirmed with plate_mismatch_confirmed, it turns the "
            "scan into a plate_mismatch refusal with its alert, and an admitted entry or exit "
            "is undone (the registered truck did not pass)."
        ),
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = staff_checkpoint(request, code)
        data = ConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = services.scan_confirm(
            staff=request_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
            plate=data.validated_data["plate"],
            persons=data.validated_data.get("persons"),
            plate_mismatch_confirmed=data.validated_data["plate_mismatch_confirmed"],
        )
        return _scan_answer(scan)


class LandingTestApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_landing_test",
        request=None,
        responses={200: ScanOutputSerializer, **ERRORS},
        description="Mark that a landing test (落地核酸) was sampled for the scanned truck.",
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = staff_checkpoint(request, code)
        scan = services.landing_test_sample(
            staff=request_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
        )
        return _scan_answer(scan)


class LandingTestResultApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_landing_test_result",
        request=LandingResultInputSerializer,
        responses={200: ScanOutputSerializer, **ERRORS},
        description="Enter the landing test's result; it regrades the trip's pass at once.",
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = staff_checkpoint(request, code)
        data = LandingResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = services.landing_test_result(
            staff=request_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
            result=data.validated_data["result"],
        )
        return _scan_answer(scan)


class OverrideApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_override",
        request=OverrideInputSerializer,
        responses={200: ScanOutputSerializer, **ERRORS},
        description="A supervisor admits a refused vehicle with a written reason (audited).",
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = staff_checkpoint(request, code)
        data = OverrideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = services.scan_override(
            supervisor=request_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
            reason=data.validated_data["reason"],
        )
        return _scan_answer(scan)
