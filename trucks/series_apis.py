"""The recurring trips' API (docs/architecture.md, "Recurring trips"): repeat a trip, read a
series, cancel it. Thin, as ``trucks.apis``: the rules live in ``trucks.services.series`` and
the scoping in ``trucks.selectors``."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passcode_portal.errors import PermissionDenied
from trucks import access, selectors, services
from trucks.apis import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, actor, trip_for_change
from trucks.models import TripSeries
from trucks.serializers.series import (
    SeriesCancelOutputSerializer,
    SeriesInputSerializer,
    SeriesOutputSerializer,
)


def _series_data(series: TripSeries) -> dict[str, object]:
    return dict(SeriesOutputSerializer(series).data)


class TripRepeatApi(APIView):
    @extend_schema(
        operation_id="trips_repeat",
        request=SeriesInputSerializer,
        responses={
            201: SeriesOutputSerializer,
            400: INVALID,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        description="Repeat the trip on the days after its planned arrival (every day, or the "
        "weekdays chosen), each repeat a trip of its own with its own pass; all or nothing. "
        "A day that cannot be registered refuses the whole series, its date and messages in "
        "`fields.dates`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trip_for_change(request, pk)
        data = SeriesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        series = services.trip_series_create(
            actor=actor(request),
            trip=trip,
            days=data.validated_data["days"],
            weekdays=data.validated_data.get("weekdays", []),
        )
        return Response(_series_data(series), status=status.HTTP_201_CREATED)


def _series_for_change(request: Request, pk: int) -> TripSeries:
    """A series the user sees (else 404) and may change (else 403), as a trip is."""
    series = selectors.series_get(user=request.user, series_id=pk)
    if not access.trip_changeable_by(user=request.user, trip=series.source_trip):
        raise PermissionDenied("not_allowed", _("You may see this series but not change it."))
    return series


class TripSeriesDetailApi(APIView):
    @extend_schema(
        operation_id="trip_series_retrieve",
        responses={200: SeriesOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_series_data(selectors.series_get(user=request.user, series_id=pk)))


class TripSeriesCancelApi(APIView):
    @extend_schema(
        operation_id="trip_series_cancel",
        request=None,
        responses={200: SeriesCancelOutputSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Cancel every trip of the series that has not entered yet (their passes "
        "revoked); trips inside or closed stay. Cancelling again cancels nothing more.",
    )
    def post(self, request: Request, pk: int) -> Response:
        series = _series_for_change(request, pk)
        result = services.trip_series_cancel(actor=actor(request), series=series)
        return Response({**_series_data(result.series), "cancelled": result.cancelled})
