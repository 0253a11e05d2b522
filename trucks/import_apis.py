"""The trip import API for dispatchers (docs/architecture.md, "Bulk import"): upload a file of
trips (checked by a worker: 202), follow the check, read the errors or download them, confirm to
register the valid rows, and download the template. Another company's import does not exist
here (404); anyone but a company's dispatcher is refused (403)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passcode_portal.api import ErrorSerializer
from trucks import selectors
from trucks.importing import columns, files, reading
from trucks.models import TripImport
from trucks.serializers.imports import (
    ImportErrorSerializer,
    TripImportSerializer,
    TripImportUploadSerializer,
    error_dicts,
)
from trucks.services import import_checks, imports

_FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only a company's dispatchers.")
_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such import of your company.")
_ERRORS: dict[int | tuple[int, str], Any] = {401: ErrorSerializer, 403: _FORBIDDEN}


def _dispatcher(request: Request) -> User:
    user = request.user
    imports.importing_company(user)
    assert isinstance(user, User)  # a company's dispatcher is signed in
    return user


def _import(request: Request, pk: int) -> TripImport:
    return selectors.trip_import_get(user=_dispatcher(request), import_id=pk)


def _answer(request: Request, trip_import: TripImport, status: int = 200) -> Response:
    context = {"request": request, "errors": import_checks.error_lines(trip_import)}
    return Response(TripImportSerializer(trip_import, context=context).data, status=status)


def _file(format: str, name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=files.CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="{name}.{format}"'
    return response


def _file_responses(what: str) -> dict[int | tuple[int, str], Any]:
    return {
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=f"{what}, CSV."),
        (200, files.CONTENT_TYPES["xlsx"]): OpenApiResponse(
            OpenApiTypes.BINARY, description=f"{what}, Excel."
        ),
    }


class TripImportsApi(APIView):
    @extend_schema(
        operation_id="trip_imports_create",
        request={"multipart/form-data": TripImportUploadSerializer},
        responses={202: TripImportSerializer, 400: ErrorSerializer, **_ERRORS},
        description=(
            "Upload a file of trips; a worker checks every row as POST /api/v1/trips/ would. "
            "Poll GET /api/v1/trip-imports/{id}/ until status is validated, read the errors, "
            "then confirm. A file that is empty, of another kind, over 10,000 rows or 10 MB, "
            "or without the required columns is refused: 400 on `file`."
        ),
    )
    def post(self, request: Request) -> Response:
        actor = _dispatcher(request)
        body = TripImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        reading.check_size(upload.size or 0)
        trip_import = imports.trip_import_upload(
            actor=actor, file_name=upload.name or "", content=upload.read()
        )
        return _answer(request, trip_import, status=202)


class TripImportApi(APIView):
    @extend_schema(
        operation_id="trip_imports_retrieve",
        responses={200: TripImportSerializer, 404: _NOT_FOUND, **_ERRORS},
        description="How far the import has come, its counts and its first errors.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return _answer(request, _import(request, pk))


class ImportErrorPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class TripImportErrorsApi(APIView):
    pagination_class = ImportErrorPagination

    @extend_schema(
        operation_id="trip_imports_errors_list",
        responses={200: ImportErrorSerializer(many=True), 404: _NOT_FOUND, **_ERRORS},
        description="Every error of the import, by row and column.",
    )
    def get(self, request: Request, pk: int) -> Response:
        lines = import_checks.error_lines(_import(request, pk))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(error_dicts(lines), request, view=self)
        return paginator.get_paginated_response(ImportErrorSerializer(page, many=True).data)


class TripImportConfirmApi(APIView):
    @extend_schema(
        operation_id="trip_imports_confirm",
        request=None,
        responses={
            202: TripImportSerializer,
            404: _NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Not checked yet, or failed."),
            **_ERRORS,
        },
        description="Register the valid rows (a worker does). Confirming again is harmless.",
    )
    def post(self, request: Request, pk: int) -> Response:
        trip_import = imports.trip_import_confirm(trip_import=_import(request, pk))
        return _answer(request, trip_import, status=202)


def _report(request: Request, pk: int, format: str) -> HttpResponse:
    trip_import = _import(request, pk)
    headers = [_("Row"), _("Column"), _("Value"), _("Message")]
    content = files.table_bytes(
        format, _("Errors"), headers, import_checks.error_lines(trip_import)
    )
    return _file(format, f"import-{trip_import.pk}-errors", content)


class TripImportErrorsCsvApi(APIView):
    @extend_schema(
        operation_id="trip_imports_errors_csv",
        responses={**_file_responses("The errors"), 404: _NOT_FOUND, **_ERRORS},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return _report(request, pk, "csv")


class TripImportErrorsXlsxApi(APIView):
    @extend_schema(
        operation_id="trip_imports_errors_xlsx",
        responses={**_file_responses("The errors"), 404: _NOT_FOUND, **_ERRORS},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return _report(request, pk, "xlsx")


def template(format: str) -> HttpResponse:
    """The headers in the user's language and a row valid on this deployment."""
    example = import_checks.template_example()
    rows = [[example.get(field, "") for field in columns.FIELDS]]
    content = files.table_bytes(format, _("Trips"), columns.headers(), rows)
    return _file(format, f"trips-{timezone.localdate()}", content)


class TemplateCsvApi(APIView):
    @extend_schema(
        operation_id="trip_imports_template_csv",
        responses={**_file_responses("The template"), **_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        _dispatcher(request)
        return template("csv")


class TemplateXlsxApi(APIView):
    @extend_schema(
        operation_id="trip_imports_template_xlsx",
        responses={**_file_responses("The template"), **_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        _dispatcher(request)
        return template("xlsx")
