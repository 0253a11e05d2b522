"""The company's own vehicles and drivers, for dispatchers to register trips from
(docs/architecture.md, "Registration"): ``GET /api/v1/vehicles/`` and ``GET /api/v1/drivers/``,
searched by ``?q=``. A trip then names them by id (``vehicle_id``, ``driver_id`` on
``POST /api/v1/trips/``), so their details are never typed again. ID numbers and phones are
masked here as on the company's pages: the trip is registered from the record, not from what a
client shows."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passcode_portal.api import ErrorSerializer
from passcode_portal.errors import PermissionDenied
from trucks import selectors
from trucks.models import Company, Driver, Vehicle
from trucks.validators import mask_id_number, mask_phone, normalise_plate

_FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only a company's dispatchers.")


class FleetSearchSerializer(serializers.Serializer[Any]):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50,
        label=gettext_lazy("search"),
        help_text="Part of the plate (vehicles); of the name, or the last digits of the ID "
        "number or phone (drivers).",
    )


class VehicleOutputSerializer(serializers.ModelSerializer[Vehicle]):
    class Meta:
        model = Vehicle
        fields = ["id", "plate", "description"]


class DriverOutputSerializer(serializers.ModelSerializer[Driver]):
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Driver
        fields = ["id", "name", "id_number", "phone"]

    def get_id_number(self, driver: Driver) -> str:
        return mask_id_number(driver.id_number)

    def get_phone(self, driver: Driver) -> str:
        return mask_phone(driver.phone)


class FleetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


def _company(request: Request) -> Company:
    company = selectors.company_of(request.user)
    if company is None:
        raise PermissionDenied(
            "not_a_dispatcher", _("Only a company's dispatchers see its vehicles and drivers.")
        )
    return company


def _search(request: Request) -> str:
    search = FleetSearchSerializer(data=request.query_params)
    search.is_valid(raise_exception=True)
    return str(search.validated_data.get("q", "")).strip()


def _page(view: Any, request: Request, rows: QuerySet[Any], output: Any) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


class VehicleListApi(APIView):
    pagination_class = FleetPagination

    @extend_schema(
        operation_id="vehicles_list",
        parameters=[FleetSearchSerializer],
        responses={200: VehicleOutputSerializer(many=True), 403: _FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        vehicles = selectors.company_vehicles(company=_company(request))
        q = normalise_plate(_search(request))
        if q:
            vehicles = vehicles.filter(plate__contains=q)
        return _page(self, request, vehicles, VehicleOutputSerializer)


class DriverListApi(APIView):
    pagination_class = FleetPagination

    @extend_schema(
        operation_id="drivers_list",
        parameters=[FleetSearchSerializer],
        responses={200: DriverOutputSerializer(many=True), 403: _FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        drivers = selectors.company_drivers(company=_company(request))
        q = _search(request)
        if q:
            drivers = drivers.filter(
                Q(name__contains=q) | Q(id_number__endswith=q.upper()) | Q(phone__endswith=q)
            )
        return _page(self, request, drivers, DriverOutputSerializer)
