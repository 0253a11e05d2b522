"""Serializers of the trip import API (``trucks.import_apis``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from passcode_portal.fieldtext import api_messages
from trucks.models import TripImport

# Errors shown with the import; the rest are paged (GET .../errors/) or downloaded.
FIRST_ERRORS = 50


class TripImportUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        allow_empty_file=True,
        error_messages=api_messages(_("file")),
        help_text="CSV (UTF-8, or GBK as Chinese Excel saves it) or Excel (xlsx), at most "
        "10,000 rows and 10 MB; the headers of GET /api/v1/trip-imports/template.csv.",
    )


class ImportErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="The spreadsheet's row number; the header is row 1.")
    column = serializers.CharField(help_text="The column's header as written; empty for none.")
    value = serializers.CharField(help_text="The cell as read.")
    message = serializers.CharField(help_text="What is wrong, in the user's language.")


def error_dicts(lines: list[tuple[int, str, str, str]]) -> list[dict[str, Any]]:
    return [{"row": r, "column": c, "value": v, "message": m} for r, c, v, m in lines]


class TripImportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=TripImport.Status.choices)
    progress = serializers.IntegerField(
        min_value=0, max_value=100, help_text="Percent through the current step."
    )
    file_name = serializers.CharField()
    rows = serializers.IntegerField()
    valid = serializers.IntegerField(help_text="Rows that will be registered on confirmation.")
    invalid = serializers.IntegerField()
    registered = serializers.IntegerField()
    already_registered = serializers.IntegerField(
        help_text="Rows an earlier upload registered: not registered again."
    )
    message = serializers.CharField(help_text="Why it failed, in the uploader's language.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    errors_url = serializers.SerializerMethodField()
    errors_xlsx_url = serializers.SerializerMethodField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # "errors" is the serializer's own attribute, so it cannot be declared as the others.
        fields["errors"] = serializers.SerializerMethodField(method_name="get_first_errors")
        return fields

    def _absolute(self, name: str, trip_import: TripImport) -> str:
        path = reverse(name, args=[trip_import.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.URLField())
    def get_errors_url(self, trip_import: TripImport) -> str:
        """The error report as CSV (row, column, value, message)."""
        return self._absolute("api-trip-import-errors-csv", trip_import)

    @extend_schema_field(serializers.URLField())
    def get_errors_xlsx_url(self, trip_import: TripImport) -> str:
        return self._absolute("api-trip-import-errors-xlsx", trip_import)

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_first_errors(self, trip_import: TripImport) -> list[dict[str, Any]]:
        """The first errors by row; all of them at GET .../errors/ or in the report."""
        return error_dicts(self.context.get("errors", [])[:FIRST_ERRORS])
