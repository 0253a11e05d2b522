"""The scan: ``ScanApi``, the busiest route of the product (docs/architecture.md, "Scanning at the
checkpoint")."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import selectors, services
from checkpoints.apis.access import ERRORS, request_user, staff_checkpoint
from checkpoints.scan_bodies import scan_body, scan_input_fast
from checkpoints.serializers import (
    ScanInputSerializer,
    ScanOutputSerializer,
)
from passcode_portal.api import domain_error_body
from passcode_portal.auth import CachedSessionAuthentication, forget_session, session_on_trust
from passcode_portal.errors import DomainError
from passcode_portal.parsers import JSONParser
from passcode_portal.sessions import SessionCheck
from passcode_portal.throttling import CounterRateThrottle
from places.models import Checkpoint
from trucks import services as trucks_services


def _scan_answer_body(outcome: services.ScanOutcome) -> dict[str, Any]:
    return scan_body(
        outcome.scan,
        pass_=outcome.pass_,
        trip=outcome.trip,
        persons_expected=outcome.persons_expected,
        replayed=outcome.replayed,
        priority_lane=outcome.priority_lane,
        conflicts=outcome.conflicts,
    )


def _scan_recorded(
    request: Request, checkpoint: Checkpoint, scan_input: services.ScanInput
) -> tuple[dict[str, Any], int]:
    """Record a scan by the request's user at the checkpoint: the answer and its status."""
    outcome = services.scan_perform(
        staff=request_user(request), checkpoint=checkpoint, data=scan_input
    )
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
        checkpoint = None
        if trusted is not None:
            try:
                checkpoint = staff_checkpoint(drf_request, code)
            except DomainError:
                # Refused before the session could be read again: the full path reads it
                # first, so that a session signed out elsewhere is answered as one (401).
                return None
        try:
            checkpoint = checkpoint or staff_checkpoint(drf_request, code)
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
        responses={200: ScanOutputSerializer, 201: ScanOutputSerializer, **ERRORS},
        description=(
            "Verify a scanned pass and record the scan. Every scan is recorded, refused or "
            "not; the same scan_id sent again by the same account at the same checkpoint is "
            "recorded once and answered the same (200). A scan_id recorded by another account "
            "or at another checkpoint is refused (409, code scan_id_conflict)."
        ),
    )
    def post(self, request: Request, code: str) -> Response:
        checkpoint = staff_checkpoint(request, code)
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
        checkpoint = staff_checkpoint(request, code)
        scans = list(selectors.scans_recent(checkpoint=checkpoint, staff=request_user(request)))
        lanes = trucks_services.priority_lanes()
        conflicts = services.offline_conflicts([s.pk for s in scans if s.offline])
        return Response(
            [
                scan_body(
                    s,
                    pass_=s.trip_pass,
                    trip=s.trip,
                    persons_expected=1 + len(s.trip.co_riders.all()) if s.trip else None,
                    priority_lane=services.scan_priority_lane(s, lanes),
                    conflicts=conflicts.get(s.pk, ()),
                )
                for s in scans
            ]
        )
