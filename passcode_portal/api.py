"""The one place that turns errors into API answers.

Every error body has the same shape, so tablets and other systems can rely on it:
``{"code": <stable code>, "detail": <message in the user's language>, "fields": {...}}`` where
``fields`` (present for validation errors) maps each bad input field to its messages, nested as
the input is. A domain error may add facts of its own beside them (``DomainError.extra``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import exception_handler as drf_exception_handler

from passcode_portal.errors import DomainError
from passcode_portal.fieldtext import api_messages

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _django_validation_fields(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


class ErrorSerializer(serializers.Serializer[Any]):
    """The one error shape, for the OpenAPI schema."""

    code = serializers.CharField(help_text="Stable error code, e.g. validation_error.")
    detail = serializers.CharField(help_text="Message in the user's language.")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # Declared here because ``fields`` is the serializer's own attribute.
        fields["fields"] = serializers.DictField(
            required=False,
            help_text="For validation errors: messages per input field, nested as the input is.",
        )
        return fields


def plain_fields(value: Any) -> Any:
    """Field messages as JSON, nested as the input is: {"driver": {"id_number": ["..."]}}."""
    if isinstance(value, Mapping):
        return {str(key): plain_fields(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(message) for message in value]
    return [str(value)]


def domain_error_body(exc: DomainError) -> dict[str, Any]:
    # The error's own facts first, so none of them can stand in for the shape's three keys.
    body: dict[str, Any] = {**exc.extra, "code": exc.code, "detail": str(exc.message)}
    if exc.fields:
        body["fields"] = plain_fields(exc.fields)
    return body


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, Mapping):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


class RequestTooLarge(exceptions.APIException):
    """A body past DATA_UPLOAD_MAX_MEMORY_SIZE (Django's RequestDataTooBig)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = gettext_lazy("The request is too large.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(domain_error_body(exc), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {
                "code": "validation_error",
                "detail": _("Some fields are not valid."),
                "fields": _django_validation_fields(exc),
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        # Django raises these while reading a request (a body past DATA_UPLOAD_MAX_MEMORY_SIZE,
        # too many form fields, a forged Host) and would answer its HTML 400 page: logged where
        # Django logs them, answered in the one error shape.
        logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
        if isinstance(exc, RequestDataTooBig):
            exc = RequestTooLarge()
        else:
            exc = exceptions.ParseError(_("The request is not valid."))

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = {
            "code": "validation_error",
            "detail": _("Some fields are not valid."),
            # DRF's messages may quote the input; input may hold lone surrogates, which no
            # encoder writes: quote them replaced.
            "fields": _printable(fields),
        }
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.detail,
        }
    return response


class NamedCharField(serializers.CharField):
    """A CharField whose every message names it, built from its label
    (``fieldtext.api_messages``). Lone surrogates too: DRF's own check for them answers
    "Surrogate characters are not allowed: U+D800." of any field, so it is replaced here."""

    def __init__(self, *, label: StrOrPromise, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", api_messages(label))
        super().__init__(label=label, **kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitSurrogateCharactersValidator)
        ]
        self.validators.append(self._reject_surrogates)

    def _reject_surrogates(self, value: str) -> None:
        # JSON may carry lone UTF-16 surrogates ("\ud800"); no database can store them, so
        # they are refused as bad input (a 400) rather than failing on the way in (a 500).
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError(
                format_lazy(
                    gettext_lazy("Remove the invalid characters from the {field}."),
                    field=self.label,
                )
            ) from None


def record_id_field(label: StrOrPromise, help_text: str) -> serializers.IntegerField:
    """An optional id of a row the client picked from a list (a consignee, a vehicle), whose
    messages name it; bounded to the ids the database can hold."""
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        error_messages=api_messages(label),
        help_text=help_text,
    )
