"""The exports API for officials and admins: ask for an export (always built by a worker: 202),
read how far it has come, and download the file once built. Only the official who asked, and
administrators, see an export; to anyone else it does not exist (404)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.apis import IsOfficial
from dashboards.exports import files, selectors, services
from dashboards.models import Export
from passcode_portal.api import ErrorSerializer
from passcode_portal.errors import DomainError


class ExportInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    format = serializers.ChoiceField(choices=Export.Format.choices)
    to = serializers.DateField(help_text="Last day, YYYY-MM-DD, included.")
    checkpoint = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="A checkpoint's code."
    )

    def get_fields(self) -> dict[str, Any]:
        # "from" is a Python keyword, so it cannot be declared as the others are.
        first = serializers.DateField(help_text="First day, YYYY-MM-DD.")
        return {"from": first, **super().get_fields()}


class ExportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Export.Status.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)
    download = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    format = serializers.ChoiceField(choices=Export.Format.choices)
    to = serializers.DateField(source="last_day")
    checkpoint = serializers.SerializerMethodField()
    rows = serializers.IntegerField(source="rows_total", allow_null=True)
    rows_done = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(help_text="Why it failed, in the requester's language.")

    def get_fields(self) -> dict[str, Any]:
        return {"from": serializers.DateField(source="first_day"), **super().get_fields()}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_checkpoint(self, export: Export) -> str | None:
        """The checkpoint's code; null for all checkpoints."""
        return export.checkpoint.code if export.checkpoint is not None else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download(self, export: Export) -> str | None:
        """The file's address once built, null before and after."""
        if export.status != Export.Status.DONE:
            return None
        url = reverse("api-export-download", args=[export.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer}


def _answer(request: Request, export: Export, status: int = 200) -> Response:
    return Response(ExportSerializer(export, context={"request": request}).data, status=status)


class ExportsApi(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="exports_create",
        request=ExportInputSerializer,
        responses={202: ExportSerializer, 400: ErrorSerializer, **_ERRORS},
        description=(
            "Trips registered, or scans made, in a period (whole days in the deployment's time "
            "zone, both ends included), at one checkpoint or all, as CSV or Excel. Always built "
            "by a worker: poll GET /api/v1/exports/{id}/ until status is done, then fetch "
            "download. An Excel sheet holds 1,048,576 rows: beyond that, 400 too_many_rows."
        ),
    )
    def post(self, request: Request) -> Response:
        body = ExportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spec = services.export_spec(
            kind=data["kind"],
            format=data["format"],
            first=data["from"].isoformat(),
            last=data["to"].isoformat(),
            checkpoint=data.get("checkpoint"),
        )
        actor = request.user
        assert isinstance(actor, User)
        return _answer(request, services.export_queue(actor=actor, spec=spec), status=202)


class ExportApi(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="exports_retrieve",
        responses={200: ExportSerializer, 404: ErrorSerializer, **_ERRORS},
        description="How far the export has come; download is set once it is done.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return _answer(request, selectors.export_of(request.user, pk))


class ExportDownloadApi(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="exports_download",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file."),
            (200, files.CONTENT_TYPES["xlsx"]): OpenApiResponse(
                OpenApiTypes.BINARY, description="Excel file."
            ),
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Not built yet, or failed."),
            410: OpenApiResponse(ErrorSerializer, description="Expired: the file is deleted."),
            **_ERRORS,
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        export = selectors.export_of(request.user, pk)
        return download(export)


def download(export: Export) -> FileResponse:
    """The built file, sent from disk as it is read; 410 once deleted, 409 before it is built."""
    if export.status == Export.Status.EXPIRED:
        raise DomainError(
            "expired",
            _("This export has expired and its file was deleted. Ask for it again."),
            status=410,
        )
    if export.status != Export.Status.DONE:
        raise DomainError("not_ready", _("This export is not ready to download."), status=409)
    path = services.export_path(export)
    if not path.is_file():
        raise DomainError("expired", _("This export's file is gone. Ask for it again."), status=410)
    name = services.download_name(
        export.kind, export.format, export.first_day, export.last_day, export.checkpoint
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=files.CONTENT_TYPES[export.format],
    )
