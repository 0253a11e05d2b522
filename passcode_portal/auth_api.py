"""API token sign-in (``POST /api/v1/auth/token/``) and the error shape every API answer shares.

Sign-in goes through ``django.contrib.auth.authenticate`` with the underlying HttpRequest, so
django-axes counts failures per username and address exactly as for the sign-in page, and its
middleware answers a locked-out attempt (429, see ``passcode_portal.lockout``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passcode_portal.api import ErrorSerializer
from passcode_portal.errors import DomainError
from passcode_portal.throttling import ScopedRateThrottle


class TokenInputSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class TokenObtainApi(APIView):
    # No authentication: a stale or foreign token header must not stop a fresh sign-in, and
    # session authentication would demand a CSRF token from API clients.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenInputSerializer,
        responses={
            200: TokenOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Wrong username or password."),
            429: OpenApiResponse(ErrorSerializer, description="Too many failed attempts."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise DomainError("invalid_credentials", _("The username or password is not correct."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)
