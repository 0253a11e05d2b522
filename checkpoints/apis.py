"""The checkpoint API: checkpoints, scanning and what follows a scan (confirming plate and
persons, landing tests, overrides), plate-first lookup, walk-ins, and the consignee's arrival."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import selectors, services
from checkpoints.models import Checkpoint, Direction, Reason, ScanEvent, Verdict, WalkIn
from checkpoints.selectors import CLOSED_REASONS
from passcode_portal.api import ErrorSerializer, NamedCharField
from passcode_portal.errors import DomainError, PermissionDenied
from passcode_portal.fieldtext import api_messages
from passcode_portal.parsers import JSONParser
from passcode_portal.throttling import CounterRateThrottle
from trucks import selectors as trucks_selectors
from trucks.models import Pass, Trip
from trucks.serializers import TimeField
from trucks.services import pass_token
from trucks.validators import mask_id_number, mask_phone


class CheckpointOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Checkpoint.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    region = serializers.CharField(source="region_id", help_text="Region code (GB/T 2260).")


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


# ---------------------------------------------------------------------------------------------
# Scanning (docs/architecture.md, "Verification outcomes" and "API")


class ScanInputSerializer(serializers.Serializer[Any]):
    token = NamedCharField(
        label=gettext_lazy("pass code"),
        max_length=2000,
        help_text="The text in the QR code, as scanned or typed.",
    )
    direction = serializers.ChoiceField(
        choices=Direction.choices, error_messages=api_messages(gettext_lazy("direction"))
    )
    plate = NamedCharField(
        label=gettext_lazy("plate read on the truck"),
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="The plate staff read on the truck, if entered: it must match the pass.",
    )
    persons = serializers.IntegerField(
        min_value=0,
        max_value=60,
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("number of persons counted")),
    )
    scan_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("client scan id")),
        help_text="Client id of this scan: sending it again returns the recorded answer.",
    )
    scanned_at = TimeField(
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("scan time")),
        help_text="When the device scanned (offline sync).",
    )
    plate_mismatch_confirmed = serializers.BooleanField(
        required=False,
        default=False,
        error_messages=api_messages(gettext_lazy("confirmation that the plates differ")),
        help_text=(
            "True when staff checked again that the plate entered differs from the registered "
            "one: only then is the scan refused as plate_mismatch. Without it a differing plate "
            "is not recorded (409, code plate_mismatch_unconfirmed, with both plates)."
        ),
    )

    def to_scan_input(self) -> services.ScanInput:
        d = self.validated_data
        return services.ScanInput(
            token=d["token"],
            direction=d["direction"],
            plate=d.get("plate") or "",
            persons=d.get("persons"),
            scan_id=d.get("scan_id"),
            scanned_at=d.get("scanned_at"),
            plate_mismatch_confirmed=d.get("plate_mismatch_confirmed", False),
        )


_SCAN_KEYS = frozenset(
    (
        "token",
        "direction",
        "plate",
        "persons",
        "scan_id",
        "scanned_at",
        "plate_mismatch_confirmed",
    )
)


def scan_input_fast(data: Any) -> services.ScanInput | None:
    """The common, clean scan body checked by hand (a serializer costs a tenth of a millisecond
    on every scan). Anything unusual returns None, and ScanInputSerializer then validates the
    body and words the errors."""
    if not isinstance(data, dict) or not data.keys() <= _SCAN_KEYS:
        return None
    token, direction = data.get("token"), data.get("direction")
    if not isinstance(token, str) or len(token) > 2000 or "\x00" in token:
        return None
    token = token.strip()  # as the serializer's CharField trims
    if not token:
        return None
    if direction not in ("in", "out"):
        return None
    plate = data.get("plate") or ""
    persons = data.get("persons")
    raw_id = data.get("scan_id")
    if not isinstance(plate, str) or len(plate) > 16 or "\x00" in plate:
        return None
    plate = plate.strip()
    if persons is not None and (type(persons) is not int or not 0 <= persons <= 60):
        return None
    confirmed = data.get("plate_mismatch_confirmed", False)
    if type(confirmed) is not bool:
        return None
    if data.get("scanned_at") is not None:
        return None  # offline syncs are rare: let the serializer parse and range-check the time
    scan_id = None
    if raw_id is not None:
        if not isinstance(raw_id, str):
            return None
        try:
            scan_id = uuid.UUID(raw_id)
        except ValueError:
            return None
    try:
        token.encode("utf-8")
        plate.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return services.ScanInput(
        token=token,
        direction=direction,
        plate=plate,
        persons=persons,
        scan_id=scan_id,
        plate_mismatch_confirmed=confirmed,
    )


class ScanPassSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    colour = serializers.CharField()
    colour_reasons = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()


class ScanDriverSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="Masked.")


class ScanTripSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    plate = serializers.CharField()
    driver = ScanDriverSerializer()
    persons_expected = serializers.IntegerField()
    entry_checkpoint = serializers.CharField(
        help_text="Code of the checkpoint registered for entry."
    )
    multi_entry = serializers.BooleanField()
    cargo_category = serializers.CharField()


class ScanOverrideSerializer(serializers.Serializer[Any]):
    by = serializers.CharField(help_text="The supervisor's name.")
    at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="Why the vehicle was admitted, as written.")


class EarlierRefusalSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The earlier scan.")
    reason = serializers.ChoiceField(choices=Reason.choices)
    scanned_at = serializers.DateTimeField()


class ScanOutputSerializer(serializers.Serializer[Any]):
    """Documents the answer; the view builds it by hand (the hot path skips serializer work)."""

    id = serializers.IntegerField()
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    warnings = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField(help_text="The verdict in the user's language.")
    direction = serializers.CharField()
    scanned_at = serializers.DateTimeField()
    observed_plate = serializers.CharField(help_text="The plate staff entered, if any.")
    persons = serializers.IntegerField(allow_null=True, help_text="Persons staff counted.")
    replayed = serializers.BooleanField(help_text="True when this answers a repeated scan_id.")
    landing_test = serializers.CharField()
    overridden = serializers.BooleanField()
    override = ScanOverrideSerializer(
        allow_null=True,
        help_text=(
            "A supervisor's override of this refusal: the vehicle was admitted all the same. "
            "verdict and reason stay the scan's own."
        ),
    )
    earlier_refusal = EarlierRefusalSerializer(
        allow_null=True,
        help_text=(
            "The refusal of this pass at this checkpoint shortly before, which the "
            "refused_recently warning recalls."
        ),
    )
    confirmed = serializers.BooleanField()
    # ``pass`` is a Python keyword; the field is declared below under its API name.
    trip = ScanTripSerializer(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["pass"] = ScanPassSerializer(allow_null=True)
        return fields


def _iso(value: Any) -> str | None:
    """A time as DRF's DateTimeField writes it in the rest of the API (the trip and its pass):
    in the current time zone, so one instant reads the same in every answer."""
    if value is None:
        return None
    text: str = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def scan_body(
    scan: ScanEvent | services.ScanRecord,
    *,
    pass_: Pass | services.PassRecord | None,
    trip: Trip | services.TripRecord | None,
    persons_expected: int | None,
    replayed: bool = False,
) -> dict[str, Any]:
    """The answer to a scan, built by hand: this runs on every scan, and a few dict literals
    cost a fraction of nested serializers."""
    body: dict[str, Any] = {
        "id": scan.pk,
        "verdict": scan.verdict,
        "reason": scan.reason,
        "warnings": list(scan.warnings),
        "message": services.scan_message(scan),
        "direction": scan.direction,
        "scanned_at": _iso(scan.scanned_at),
        "observed_plate": scan.observed_plate,
        "persons": scan.persons,
        "replayed": replayed,
        "landing_test": scan.landing_test,
        "overridden": scan.overridden_by_id is not None,
        "override": None,
        "earlier_refusal": None,
        "confirmed": scan.confirmed_at is not None,
        "pass": None,
        "trip": None,
    }
    # Both are None on the hot path's records (a new scan is not overridden yet), so the
    # related rows are read only for answers from the record, which load them with the scan.
    if isinstance(scan, ScanEvent) and scan.overridden_by is not None:
        body["override"] = {
            "by": scan.overridden_by.get_full_name() or scan.overridden_by.get_username(),
            "at": _iso(scan.overridden_at),
            "reason": scan.override_reason,
        }
    if scan.earlier_refusal_id is not None:
        earlier = scan.earlier_refusal
        assert earlier is not None
        body["earlier_refusal"] = {
            "id": earlier.pk,
            "reason": earlier.reason,
            "scanned_at": _iso(earlier.scanned_at),
        }
    if pass_ is not None:
        body["pass"] = {
            "id": pass_.pk,
            "colour": pass_.colour,
            "colour_reasons": [r.get("code") for r in pass_.reasons],
            "status": pass_.status,
            "valid_from": _iso(pass_.valid_from),
            "valid_until": _iso(pass_.valid_until),
        }
    if trip is not None:
        body["trip"] = {
            "id": trip.pk,
            "reference": trip.reference,
            "status": trip.status,
            "plate": trip.vehicle.plate,
            "driver": {
                "name": trip.driver.name,
                "id_number": mask_id_number(trip.driver.id_number),
            },
            "persons_expected": persons_expected,
            "entry_checkpoint": trip.entry_checkpoint.code,
            "multi_entry": trip.multi_entry,
            "cargo_category": trip.cargo_category,
        }
    return body


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


class ScanApi(APIView):
    throttle_scope = "scan"
    throttle_classes = [CounterRateThrottle]
    # JSON in, JSON out: no content negotiation over the browsable renderer on the hot path.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

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
        outcome = services.scan_perform(
            staff=_user(request), checkpoint=checkpoint, data=scan_input
        )
        body = scan_body(
            outcome.scan,
            pass_=outcome.pass_,
            trip=outcome.trip,
            persons_expected=outcome.persons_expected,
            replayed=outcome.replayed,
        )
        return Response(body, status=200 if outcome.replayed else 201)

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


# Each field's messages name it ("Enter the number plate."), so that each reads on its own
# where the tablet shows it.
_OBSERVED_PLATE = gettext_lazy("plate read on the truck")
_PERSONS_COUNTED = gettext_lazy("number of persons counted")


class ConfirmInputSerializer(serializers.Serializer[Any]):
    plate = NamedCharField(label=_OBSERVED_PLATE, max_length=16)
    persons = serializers.IntegerField(
        min_value=0,
        max_value=60,
        required=False,
        allow_null=True,
        error_messages=api_messages(_PERSONS_COUNTED),
    )
    plate_mismatch_confirmed = serializers.BooleanField(
        required=False,
        default=False,
        error_messages=api_messages(gettext_lazy("confirmation that the plates differ")),
        help_text=(
            "True when staff checked again that the plate differs from the registered one. "
            "Without it a differing plate changes nothing (409, code "
            "plate_mismatch_unconfirmed, with both plates)."
        ),
    )


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


class LandingResultInputSerializer(serializers.Serializer[Any]):
    result = serializers.ChoiceField(choices=[("negative", "negative"), ("positive", "positive")])


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


_OVERRIDE_REASON = gettext_lazy("reason for admitting the vehicle")


class OverrideInputSerializer(serializers.Serializer[Any]):
    reason = NamedCharField(label=_OVERRIDE_REASON, max_length=500)


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


class LookupPassSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
    checkable = serializers.BooleanField(
        help_text=(
            "Whether scanning the pass would still verify anything (in the given direction, "
            "else in either): false for a pass used up, revoked, expired or of a cancelled trip."
        )
    )
    closed_reason = serializers.ChoiceField(
        choices=[(code, label) for code, label in Reason.choices if code in CLOSED_REASONS],
        allow_null=True,
        help_text="When not checkable, the reason a scan would give (used, revoked, ...).",
    )
    # ``pass`` and ``trip`` as in a scan answer.
    trip = ScanTripSerializer()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["pass"] = ScanPassSerializer()
        return fields


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


class WalkInInputSerializer(serializers.Serializer[Any]):
    plate = NamedCharField(label=gettext_lazy("number plate"), max_length=16)
    outcome = serializers.ChoiceField(
        choices=WalkIn.Outcome.choices, error_messages=api_messages(gettext_lazy("outcome"))
    )
    driver_name = NamedCharField(
        label=gettext_lazy("driver's name"), max_length=50, required=False, allow_blank=True
    )
    phone = NamedCharField(
        label=gettext_lazy("driver's phone"), max_length=20, required=False, allow_blank=True
    )
    persons = serializers.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        error_messages=api_messages(gettext_lazy("number of persons")),
    )
    note = NamedCharField(
        label=gettext_lazy("note"), max_length=500, required=False, allow_blank=True
    )
    direction = serializers.ChoiceField(
        choices=Direction.choices,
        required=False,
        error_messages=api_messages(gettext_lazy("direction")),
    )
    scan_id = serializers.UUIDField(
        required=False, allow_null=True, error_messages=api_messages(gettext_lazy("client scan id"))
    )


class WalkInOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    plate = serializers.CharField()
    driver_name = serializers.CharField()
    # Staff typed the number and the record keeps it; an answer, which a replay may also give,
    # shows what the scan answer shows of a driver's identity: a masked form.
    phone = serializers.SerializerMethodField(help_text="Masked, as 139****5678.")
    persons = serializers.IntegerField()
    note = serializers.CharField()
    outcome = serializers.CharField()
    direction = serializers.CharField()
    recorded_at = serializers.DateTimeField()

    def get_phone(self, walk_in: WalkIn) -> str:
        return mask_phone(walk_in.phone)


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
