"""The stats API for officials and admins: the overview of a period and a day by the hour, the
figures of the dashboard page (``dashboards.selectors``). Anyone else is refused: 401 without
credentials, 403 for every other role."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints.selectors import checkpoint_by_code
from dashboards import selectors
from dashboards.periods import one_day, period_of
from passcode_portal.api import ErrorSerializer
from places.models import Checkpoint
from trucks.roles import is_official


class IsOfficial(BasePermission):
    message = _("Only officials and administrators see the figures.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and is_official(request.user))


def _checkpoint(request: Request) -> Checkpoint | None:
    code = request.query_params.get("checkpoint") or ""
    return checkpoint_by_code(code) if code else None


class _Passes(serializers.Serializer):  # type: ignore[type-arg]
    green = serializers.IntegerField()
    yellow = serializers.IntegerField()
    red = serializers.IntegerField()


class _CheckpointFigures(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    name = serializers.CharField()
    entries = serializers.IntegerField()
    exits = serializers.IntegerField()
    refusals = serializers.IntegerField()
    walk_ins = serializers.IntegerField()


class OverviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    to = serializers.DateField()
    checkpoint = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()
    registrations = serializers.IntegerField()
    passes = _Passes()
    entries = serializers.IntegerField()
    exits = serializers.IntegerField()
    inside = serializers.IntegerField(help_text="As of now.")
    overdue = serializers.IntegerField(help_text="As of now.")
    refusals = serializers.DictField(child=serializers.IntegerField(), help_text="By reason code.")
    walk_ins = serializers.IntegerField()
    landing_tests_pending = serializers.IntegerField(help_text="As of now.")
    overrides = serializers.IntegerField()
    compliance_rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    checkpoints = _CheckpointFigures(many=True)

    def get_fields(self) -> dict[str, Any]:
        # "from" is a Python keyword, so it cannot be declared as the others are.
        return {"from": serializers.DateField(), **super().get_fields()}


class _Hour(serializers.Serializer):  # type: ignore[type-arg]
    hour = serializers.IntegerField(min_value=0, max_value=23)
    entries = serializers.IntegerField()
    exits = serializers.IntegerField()


class HourlySerializer(serializers.Serializer):  # type: ignore[type-arg]
    date = serializers.DateField()
    checkpoint = serializers.CharField(allow_null=True)
    hours = _Hour(many=True)


_CHECKPOINT = OpenApiParameter(
    "checkpoint", str, description="A checkpoint's code; all checkpoints without it."
)
_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class StatsOverviewApi(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="stats_overview",
        parameters=[
            OpenApiParameter("from", str, description="First day, YYYY-MM-DD; today without it."),
            OpenApiParameter("to", str, description="Last day, YYYY-MM-DD, included."),
            _CHECKPOINT,
        ],
        responses={200: OverviewSerializer, **_ERRORS},
        description=(
            "The figures of a period (whole days in the deployment's time zone, both ends "
            "included) at one checkpoint or all. inside, overdue and landing_tests_pending are "
            "as of now; compliance_rate is null with nothing recorded."
        ),
    )
    def get(self, request: Request) -> Response:
        period = period_of(request.query_params.get("from"), request.query_params.get("to"))
        return Response(OverviewSerializer(selectors.overview(period, _checkpoint(request))).data)


class StatsHourlyApi(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="stats_hourly",
        parameters=[
            OpenApiParameter("date", str, description="The day, YYYY-MM-DD; today without it."),
            _CHECKPOINT,
        ],
        responses={200: HourlySerializer, **_ERRORS},
        description="Entries and exits of a day in each of its 24 hours.",
    )
    def get(self, request: Request) -> Response:
        day = one_day(request.query_params.get("date"))
        body = selectors.hourly(day, _checkpoint(request))
        return Response(HourlySerializer(body).data)
