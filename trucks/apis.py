"""The registration API (docs/architecture.md, "API"): trips, pass QR images, regions, consignees,
keys.

Each view translates HTTP into one selector or service call and its result back; the rules live
in ``trucks.services`` and the scoping in ``trucks.selectors``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passcode_portal.api import ErrorSerializer
from passcode_portal.errors import PermissionDenied
from trucks import access, passcode, qr, selectors, services
from trucks.models import Pass, Trip
from trucks.roles import is_official
from trucks.serializers import (
    ConsigneeOutputSerializer,
    DriverChangeInputSerializer,
    KeysOutputSerializer,
    PlateInputSerializer,
    RegionFilterSerializer,
    RegionOutputSerializer,
    RegionRiskInputSerializer,
    TestResultInputSerializer,
    TripFilterSerializer,
    TripInputSerializer,
    TripOutputSerializer,
    trip_context,
)

SIGNED_CODE_LAYOUT = (
    "RFC 4648 base32 without padding, 117 characters, of 73 bytes: key id (1 byte), pass id "
    "(4 bytes, big-endian), valid until (4 bytes, minutes since the Unix epoch, big-endian), "
    "Ed25519 signature (64 bytes) over the ASCII bytes 'TP1' followed by the first 9 bytes. "
    "Verify with the key whose kid equals the key id."
)
# A pass's QR never changes while its token does not; the ETag (from the token) tells a client
# when it may keep its copy. Private: the image is a personal pass.
QR_CACHE_CONTROL = "private, max-age=3600"

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Absent, or not visible to you.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Your role may not do this.")
INVALID = OpenApiResponse(ErrorSerializer, description="Invalid input; see `fields`.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="Not possible in the trip's state.")
# What a change of a trip answers: the trip as it is now, or why not.
_CHANGE_RESPONSES: dict[int, Any] = {
    200: TripOutputSerializer,
    400: INVALID,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: CONFLICT,
}


def actor(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


# ---------------------------------------------------------------------------------------------
# Trips


class TripPagination(LimitOffsetPagination):
    max_limit = 200


def _trip_response(request: Request, trip: Trip, code: int = status.HTTP_200_OK) -> Response:
    data = TripOutputSerializer(trip, context=trip_context(request, [trip])).data
    return Response(data, status=code)


def trip_for_change(request: Request, pk: int) -> Trip:
    """A trip the user sees (else 404) and may change (else 403): its driver or a dispatcher of
    its company. Consignees and officials read trips here but do not change them."""
    trip = selectors.trip_get(user=request.user, trip_id=pk)
    if not access.trip_changeable_by(user=request.user, trip=trip):
        raise PermissionDenied("not_allowed", _("You may see this trip but not change it."))
    return trip


class TripListCreateApi(APIView):
    pagination_class = TripPagination

    @extend_schema(
        operation_id="trips_list",
        parameters=[TripFilterSerializer],
        responses={200: TripOutputSerializer(many=True), 400: INVALID},
    )
    def get(self, request: Request) -> Response:
        filters = TripFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        trips = selectors.trip_list(user=request.user, **filters.validated_data)
        paginator = self.pagination_class()
        page = list(paginator.paginate_queryset(trips, request, view=self) or [])
        data = TripOutputSerializer(page, many=True, context=trip_context(request, page)).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="trips_create",
        request=TripInputSerializer,
        responses={201: TripOutputSerializer, 400: INVALID, 403: FORBIDDEN, 409: CONFLICT},
    )
    def post(self, request: Request) -> Response:
        data = TripInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_register(actor=actor(request), data=data.to_trip_data())
        trip = selectors.trip_get(user=request.user, trip_id=trip.pk)
        return _trip_response(request, trip, status.HTTP_201_CREATED)


class TripDetailApi(APIView):
    @extend_schema(
        operation_id="trips_retrieve",
        responses={200: TripOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _trip_response(request, selectors.trip_get(user=request.user, trip_id=pk))


class TripCancelApi(APIView):
    @extend_schema(
        operation_id="trips_cancel",
        request=None,
        responses={200: TripOutputSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trip_for_change(request, pk)
        services.trip_cancel(actor=actor(request), trip=trip)
        return _trip_response(request, selectors.trip_get(user=request.user, trip_id=pk))


class TripTestResultApi(APIView):
    @extend_schema(
        operation_id="trips_test_result",
        request=TestResultInputSerializer,
        responses=_CHANGE_RESPONSES,
        description="Record a new test result; the pass is regraded at once.",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trip_for_change(request, pk)
        data = TestResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.trip_set_test_result(
            actor=actor(request),
            trip=trip,
            result=data.validated_data["test_result"],
            sampled_at=data.validated_data.get("test_sampled_at"),
        )
        return _trip_response(request, selectors.trip_get(user=request.user, trip_id=pk))


class TripPlateApi(APIView):
    @extend_schema(
        operation_id="trips_plate",
        request=PlateInputSerializer,
        responses=_CHANGE_RESPONSES,
        description="Correct the number plate, until the pass window opens.",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trip_for_change(request, pk)
        data = PlateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.trip_correct_plate(
            actor=actor(request), trip=trip, plate=data.validated_data["vehicle_plate"]
        )
        return _trip_response(request, selectors.trip_get(user=request.user, trip_id=pk))


class TripDriverApi(APIView):
    @extend_schema(
        operation_id="trips_driver",
        request=DriverChangeInputSerializer,
        responses=_CHANGE_RESPONSES,
        description="A dispatcher gives the trip another driver, until the pass window opens: "
        "a new pass is issued, graded for the new driver's test, and the old one revoked.",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip = trip_for_change(request, pk)
        data = DriverChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.trip_change_driver(
            actor=actor(request),
            trip=trip,
            driver_id=data.validated_data.get("driver_id"),
            person=data.person(),
            test_result=data.validated_data["test_result"],
            test_sampled_at=data.validated_data.get("test_sampled_at"),
        )
        return _trip_response(request, selectors.trip_get(user=request.user, trip_id=pk))


# ---------------------------------------------------------------------------------------------
# Pass QR images


class _ImageNegotiation(BaseContentNegotiation):
    """The QR views answer an image whatever the Accept header names (an <img> asks for
    image/*, a client may ask for image/png alone), and their errors in JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class _PassQrApi(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _ImageNegotiation
    kind = ""
    content_type = ""

    def render(self, token: str) -> bytes:
        raise NotImplementedError

    def get(self, request: Request, pk: int) -> HttpResponseBase:
        pass_: Pass = selectors.pass_get(user=request.user, pass_id=pk)
        token = services.pass_token(pass_)
        etag = quote_etag(hashlib.sha256(f"{self.kind}:{token}".encode()).hexdigest()[:32])
        response = HttpResponse(self.render(token), content_type=self.content_type)
        response["Cache-Control"] = QR_CACHE_CONTROL
        response["ETag"] = etag
        # A client that holds this very image gets 304 and no body.
        return get_conditional_response(request._request, etag=etag, response=response) or response


class PassQrPngApi(_PassQrApi):
    kind = "png"
    content_type = "image/png"

    def render(self, token: str) -> bytes:
        return qr.qr_png(token)

    @extend_schema(
        operation_id="passes_qr_png",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="QR image."),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        return super().get(request, pk)


class PassQrSvgApi(_PassQrApi):
    kind = "svg"
    content_type = "image/svg+xml"

    def render(self, token: str) -> bytes:
        return qr.qr_svg(token)

    @extend_schema(
        operation_id="passes_qr_svg",
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY, description="QR image."),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        return super().get(request, pk)


# ---------------------------------------------------------------------------------------------
# Regions, consignees, keys


class RegionPagination(LimitOffsetPagination):
    # The registration form loads all cities of a province, or all counties of a city, at once.
    max_limit = 1000


class RegionListApi(APIView):
    pagination_class = RegionPagination

    @extend_schema(
        operation_id="regions_list",
        parameters=[RegionFilterSerializer],
        responses={200: RegionOutputSerializer(many=True), 400: INVALID},
    )
    def get(self, request: Request) -> Response:
        filters = RegionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        regions = selectors.regions_list(
            parent=filters.validated_data.get("parent"),
            level=filters.validated_data.get("level"),
            risk_level=filters.validated_data.get("risk_level"),
            search=filters.validated_data.get("q"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(regions, request, view=self)
        return paginator.get_paginated_response(RegionOutputSerializer(page, many=True).data)


class RegionDetailApi(APIView):
    @extend_schema(
        operation_id="regions_retrieve",
        responses={200: RegionOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(RegionOutputSerializer(selectors.region_get(code=code)).data)

    @extend_schema(
        operation_id="regions_set_risk",
        request=RegionRiskInputSerializer,
        responses={200: RegionOutputSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Officials set a region's risk level; affected passes are regraded.",
    )
    def patch(self, request: Request, code: str) -> Response:
        if not is_official(request.user):
            raise PermissionDenied("not_allowed", _("Only officials change risk levels."))
        region = selectors.region_get(code=code)
        data = RegionRiskInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = services.region_set_risk(
            actor=actor(request), region=region, risk_level=data.validated_data["risk_level"]
        )
        return Response(RegionOutputSerializer(region).data)


class ConsigneePagination(LimitOffsetPagination):
    max_limit = 1000


class ConsigneeListApi(APIView):
    pagination_class = ConsigneePagination

    @extend_schema(
        operation_id="consignees_list",
        responses={200: ConsigneeOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.consignees_list(), request, view=self)
        return paginator.get_paginated_response(ConsigneeOutputSerializer(page, many=True).data)


class KeysApi(APIView):
    """Public keys for checking pass tokens offline (docs/architecture.md, "The pass code")."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="keys_retrieve", responses={200: KeysOutputSerializer}, auth=[])
    def get(self, request: Request) -> Response:
        return Response({**passcode.public_jwks(), "token_format": SIGNED_CODE_LAYOUT})
