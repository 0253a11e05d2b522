"""The checkpoint API: checkpoints, scanning and what follows a scan (confirming plate and
persons, landing tests, overrides), plate-first lookup, walk-ins, and the consignee's arrival."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import selectors, services
from checkpoints.models import Direction, ScanEvent
from checkpoints.scan_bodies import scan_body, scan_input_fast
from checkpoints.serializers import (
    CheckpointOutputSerializer,
    ConfirmInputSerializer,
    LandingResultInputSerializer,
    LookupPassSerializer,
    OverrideInputSerializer,
    ScanInputSerializer,
    ScanOutputSerializer,
    ScanTripSerializer,
    WalkInInputSerializer,
    WalkInOutputSerializer,
)
from passcode_portal.api import ErrorSerializer, domain_error_body
from passcode_portal.auth import CachedSessionAuthentication, forget_session, session_on_trust
from passcode_portal.errors import DomainError, PermissionDenied
from passcode_portal.parsers import JSONParser
from passcode_portal.sessions import SessionCheck
from passcode_portal.throttling import CounterRateThrottle
from places.models import Checkpoint
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


def _user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not_assigned", _("You are not assigned to this checkpoint."))
    return user


def _staff_checkpoint(request: Request, code: str) -> Checkpoint:
    """The checkpoint, if the user is assigned to it: absent (404) if there is none, refused
    (403) for anyone else, drivers and other checkpoints' staff alike."""
    checkpoint = selectors.checkpoint_by_code(code)
    user = request.user
    if not isinstance(user, User) or not services.staff_may_scan(user=user, checkpoint=checkpoint):
        raise PermissionDenied("not_assigned", _("You are not assigned to this checkpoint."))
    return checkpoint


_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; see `fields`."),
    403: OpenApiResponse(ErrorSerializer, description="Not staff of this checkpoint."),
    404: OpenApiResponse(ErrorSerializer, description="No such checkpoint or scan."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in this state."),
}


def _scan_answer_body(outcome: services.ScanOutcome) -> dict[str, Any]:
    return scan_body(
        outcome.scan,
        pass_=outcome.pass_,
        trip=outcome.trip,
        persons_expected=outcome.persons_expected,
        replayed=outcome.replayed,
    )


def _scan_recorded(
    request: Request, checkpoint: Checkpoint, scan_input: services.ScanInput
) -> tuple[dict[str, Any], int]:
    """Record a scan by the request's user at the checkpoint: the answer and its status."""
    outcome = services.scan_perform(staff=_user(request), checkpoint=checkpoint, data=scan_input)
    return _scan_answer_body(outcome), 200 if outcome.replayed else 201


def _session_on_trust(request: Request) -> tuple[User, SessionCheck] | None:
    """The tablet's session taken on trust (``passcode_portal.auth.session_on_trust``), with the
    CSRF check DRF's SessionAuthentication makes; None for a request that carries an API token
    (DRF's authenticators try the token first), fails the check, or whose session this process
    has not found lately, and where no scan could confirm it (``sessions_confirmable``)."""
    if request.META.get("HTTP_AUTHORIZATION") or not services.sessions_confirmable():
        return None
    trusted = session_on_trust(request._request)
    if trusted is None:
        return None
    try:
        CachedSessionAuthentication().enforce_csrf(request)
    except APIException:
        return None
    return trusted


# Accept headers that DRF's content negotiation answers with JSON, this view's one renderer.
_PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


class ScanApi(APIView):
    throttle_scope = "scan"
    throttle_classes = [CounterRateThrottle]
    # JSON in, JSON out: no content negotiation over the browsable renderer on the hot path.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            answer = self.plain_scan(request, kwargs["code"])
            if answer is not None:
                return answer
        return super().dispatch(request, *args, **kwargs)

    def plain_scan(self, request: HttpRequest, code: str) -> HttpResponse | None:
        """The scan as the tablet page and API clients send it, answered without the rest of
        DRF's request cycle (its content negotiation, exception handling and template
        response cost more than a scan's own Python; docs/performance.md). Django's middleware
        has run, as for every request; the request is authenticated, parsed, permitted and
        throttled by DRF's own classes, as in ``post``, and the answer is DRF's JSON, headers
        included. Anything else (another Accept, a refused login or CSRF token, a body that is
        not the plain scan, a throttled request) returns None before anything is recorded:
        DRF then answers it in full, as ``post``, and words every refusal. (A throttled
        request is so counted twice; it is refused either way.)"""
        if request.GET or request.META.get("HTTP_ACCEPT", "") not in _PLAIN_ACCEPT:
            return None
        try:
            request.body  # noqa: B018 (read now, so that DRF can read it again if this declines)
        except RequestDataTooBig:
            return None
        drf_request = self.initialize_request(request, code=code)
        trusted = _session_on_trust(drf_request)
        try:
            if trusted is not None:
                # Taken from the session as this process last found it; the scan's own lock
                # reads the session again and records nothing unless it still holds.
                drf_request.user, drf_request.auth = trusted[0], None
            self.check_permissions(drf_request)
            scan_input = scan_input_fast(drf_request.data)
            if scan_input is None:
                return None
            self.check_throttles(drf_request)
        except APIException:
            return None
        try:
            checkpoint = _staff_checkpoint(drf_request, code)
            if trusted is None:
                body, status = _scan_recorded(drf_request, checkpoint, scan_input)
            else:
                outcome = services.scan_if_session_holds(
                    staff=trusted[0], checkpoint=checkpoint, data=scan_input, session=trusted[1]
                )
                if outcome is None:
                    forget_session(trusted[1].key)
                    return None
                body, status = _scan_answer_body(outcome), 201
        except DomainError as exc:
            body, status = domain_error_body(exc), exc.status
        if trusted is not None:
            # The session was read, with the lock: SessionMiddleware marks the answer so
            # (Vary: Cookie), as for every request that reads it.
            request.session.accessed = True
        return HttpResponse(
            JSONRenderer().render(body),
            status=status,
            content_type=JSONRenderer.media_type,
            headers=self.default_response_headers,
        )

    @extend_schema(
        operation_id="checkpoints_scan",
        request=ScanInputSerializer,
        responses={200: ScanOutputSerializer, 201: ScanOutputSerializer, **_ERRORS},
        description=(
            "Verify a scanned pass and record the scan. Every scan is recorded, refused or "
            "not; the same scan_id sent again by the same account at the same checkpoint is "
            "recorded once and answered the same (200). A scan_id recorded by another account "
            "or at another checkpoint is refused (409, code scan_id_conflict)."
        ),
    )
    def post(self, request: Request, code: str) -> Response:
        checkpoint = _staff_checkpoint(request, code)
        scan_input = scan_input_fast(request.data)
        if scan_input is None:
            # Something is off: the serializer says precisely what, in the user's language.
            data = ScanInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            scan_input = data.to_scan_input()
        body, status = _scan_recorded(request, checkpoint, scan_input)
        return Response(body, status=status)

    @extend_schema(
        operation_id="checkpoints_scans_list", responses={200: ScanOutputSerializer(many=True)}
    )
    def get(self, request: Request, code: str) -> Response:
        """This staff member's latest scans at the checkpoint, newest first."""
        checkpoint = _staff_checkpoint(request, code)
        scans = selectors.scans_recent(checkpoint=checkpoint, staff=_user(request))
        return Response(
            [
                scan_body(
                    s,
                    pass_=s.trip_pass,
                    trip=s.trip,
                    persons_expected=1 + len(s.trip.co_riders.all()) if s.trip else None,
                )
                for s in scans
            ]
        )


def _scan_answer(scan: ScanEvent) -> Response:
    scan = ScanEvent.objects.select_related(*selectors.SCAN_ANSWER_RELATED).get(pk=scan.pk)
    persons = 1 + scan.trip.co_riders.count() if scan.trip is not None else None
    return Response(scan_body(scan, pass_=scan.trip_pass, trip=scan.trip, persons_expected=persons))


class ScanConfirmApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_confirm",
        request=ConfirmInputSerializer,
        responses={200: ScanOutputSerializer, **_ERRORS},
        description=(
            "Confirm the plate read on the truck and the persons counted. A plate other than "
            "the registered one is first answered 409 (plate_mismatch_unconfirmed, with both "
            "plates) for a second look; confirmed with plate_mismatch_confirmed, it turns the "
            "scan into a plate_mismatch refusal with its alert, and an admitted entry or exit "
            "is undone (the registered truck did not pass)."
        ),
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = _staff_checkpoint(request, code)
        data = ConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = services.scan_confirm(
            staff=_user(request),
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
        responses={200: ScanOutputSerializer, **_ERRORS},
        description="Mark that a landing test (落地核酸) was sampled for the scanned truck.",
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = _staff_checkpoint(request, code)
        scan = services.landing_test_sample(
            staff=_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
        )
        return _scan_answer(scan)


class LandingTestResultApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_landing_test_result",
        request=LandingResultInputSerializer,
        responses={200: ScanOutputSerializer, **_ERRORS},
        description="Enter the landing test's result; it regrades the trip's pass at once.",
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = _staff_checkpoint(request, code)
        data = LandingResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = services.landing_test_result(
            staff=_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
            result=data.validated_data["result"],
        )
        return _scan_answer(scan)


class OverrideApi(APIView):
    @extend_schema(
        operation_id="checkpoints_scan_override",
        request=OverrideInputSerializer,
        responses={200: ScanOutputSerializer, **_ERRORS},
        description="A supervisor admits a refused vehicle with a written reason (audited).",
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        checkpoint = _staff_checkpoint(request, code)
        data = OverrideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = services.scan_override(
            supervisor=_user(request),
            checkpoint=checkpoint,
            scan_pk=pk,
            reason=data.validated_data["reason"],
        )
        return _scan_answer(scan)


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
        responses={200: LookupPassSerializer(many=True), **_ERRORS},
        description=(
            "Today's passes for a plate, or the pass of a printed trip reference, with the token "
            "to scan: for a driver without a phone."
        ),
    )
    def get(self, request: Request, code: str) -> Response:
        checkpoint = _staff_checkpoint(request, code)
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
        responses={201: WalkInOutputSerializer, **_ERRORS},
        description=(
            "Record an unregistered vehicle (turned back or sent to register). The same scan_id "
            "sent again by the same account at the same checkpoint returns the record; from "
            "anyone or anywhere else it is refused (409, code scan_id_conflict)."
        ),
    )
    def post(self, request: Request, code: str) -> Response:
        checkpoint = _staff_checkpoint(request, code)
        data = WalkInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        walk_in = services.walk_in_record(
            staff=_user(request),
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
        responses={200: ScanTripSerializer, **_ERRORS},
        description="The consignee confirms the truck arrived (inside → arrived).",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trucks_selectors.trip_get(user=request.user, trip_id=pk)
        trip = services.trip_confirm_arrival(actor=_user(request), trip=trip)
        trip = trucks_selectors.trip_get(user=request.user, trip_id=pk)
        body = scan_body(
            ScanEvent(direction=Direction.IN, verdict="", reason="ok", warnings=[]),
            pass_=None,
            trip=trip,
            persons_expected=1 + len(trip.co_riders.all()),
        )
        return Response(body["trip"])
