"""The officials' webhook API (docs/architecture.md, "Hand-over"): subscriptions of receiving
systems and their delivery log. Each view translates HTTP into one call of
``handover.subscriptions``; only officials and administrators get past the first line (everyone
else: 403).

The signing secret is generated on creation and shown in that response only; there is no way
to read it back (a lost secret means a new subscription, or an administrator sets one).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from handover import subscriptions
from handover.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from passcode_portal.api import ErrorSerializer
from passcode_portal.errors import PermissionDenied
from passcode_portal.outbox import OutboxStatus
from trucks.roles import is_official

_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such subscription or delivery.")
_FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only officials manage webhooks.")
_INVALID = OpenApiResponse(ErrorSerializer, description="Invalid input; see `fields`.")
_CONFLICT = OpenApiResponse(ErrorSerializer, description="The delivery is being sent right now.")


def _official(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    if not is_official(user):
        raise PermissionDenied("not_allowed", _("Only officials manage webhooks."))
    return user


def _events_help() -> str:
    return "Any of: " + ", ".join(WebhookEvent.values) + "."


# ---------------------------------------------------------------------------------------------
# Serializers: input checks types and sizes only; the rules (https, known events and regions)
# live in ``handover.subscriptions`` and are reported per field.


class WebhookSubscriptionInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, allow_blank=True)
    url = serializers.CharField(
        max_length=500,
        allow_blank=True,
        help_text="Where deliveries are POSTed; https:// (plain http only for this machine).",
    )
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=32), max_length=20, help_text=_events_help()
    )
    region = serializers.CharField(
        max_length=12,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Only trips from or entering through this region (a GB/T 2260 code of a "
        "province, city or county, and the regions in it); null for all.",
    )
    active = serializers.BooleanField(required=False, default=True)


class WebhookSubscriptionOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    region = serializers.CharField(source="region_id", allow_null=True)
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionOutputSerializer):
    secret = serializers.CharField(
        help_text="The signing secret. Shown in this response only: store it now. Receivers "
        "check X-Passcode-Signature with it (see docs/webhooks.md)."
    )


class WebhookDeliveryFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=OutboxStatus.choices, required=False)


class WebhookDeliveryOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    event = serializers.CharField()
    trip_reference = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=OutboxStatus.choices)
    attempts = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)

    def get_trip_reference(self, delivery: WebhookDelivery) -> str | None:
        return delivery.trip.reference if delivery.trip is not None else None


# ---------------------------------------------------------------------------------------------
# Views


class WebhookPagination(LimitOffsetPagination):
    # Uncapped, a ?limit= past the database's integer range fails the query (a 500).
    max_limit = 1000


class SubscriptionListCreateApi(APIView):
    pagination_class = WebhookPagination

    @extend_schema(
        operation_id="webhooks_list",
        responses={200: WebhookSubscriptionOutputSerializer(many=True), 403: _FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        _official(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            subscriptions.subscriptions_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(
            WebhookSubscriptionOutputSerializer(page, many=True).data
        )

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookSubscriptionInputSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer, 400: _INVALID, 403: _FORBIDDEN},
        description="Register a receiving system. The response carries the signing secret, "
        "which is never shown again.",
    )
    def post(self, request: Request) -> Response:
        actor = _official(request)
        data = WebhookSubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscriptions.subscription_create(actor=actor, **data.validated_data)
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class SubscriptionDetailApi(APIView):
    @extend_schema(
        operation_id="webhooks_retrieve",
        responses={200: WebhookSubscriptionOutputSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        _official(request)
        subscription = subscriptions.subscription_get(user=request.user, subscription_id=pk)
        return Response(WebhookSubscriptionOutputSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_update",
        request=WebhookSubscriptionInputSerializer(partial=True),
        responses={
            200: WebhookSubscriptionOutputSerializer,
            400: _INVALID,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
        description="Change some fields; the ones left out stay as they are.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = _official(request)
        subscription = subscriptions.subscription_get(user=actor, subscription_id=pk)
        data = WebhookSubscriptionInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        subscription = subscriptions.subscription_update(
            actor=actor, subscription=subscription, changes=data.validated_data
        )
        return Response(WebhookSubscriptionOutputSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND},
        description="Remove the subscription and its delivery log.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        actor = _official(request)
        subscription = subscriptions.subscription_get(user=actor, subscription_id=pk)
        subscriptions.subscription_delete(actor=actor, subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(APIView):
    pagination_class = WebhookPagination

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=[WebhookDeliveryFilterSerializer],
        responses={
            200: WebhookDeliveryOutputSerializer(many=True),
            400: _INVALID,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
        description="The subscription's delivery log, newest first; `?status=failed` for the "
        "ones that gave up.",
    )
    def get(self, request: Request, pk: int) -> Response:
        _official(request)
        subscription = subscriptions.subscription_get(user=request.user, subscription_id=pk)
        filters = WebhookDeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deliveries = subscriptions.deliveries_list(
            user=request.user,
            subscription=subscription,
            status=filters.validated_data.get("status"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(
            WebhookDeliveryOutputSerializer(page, many=True).data
        )


class DeliveryRetryApi(APIView):
    @extend_schema(
        operation_id="webhooks_deliveries_retry",
        request=None,
        responses={
            200: WebhookDeliveryOutputSerializer,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
            409: _CONFLICT,
        },
        description="Deliver again, now, with a fresh set of attempts (a delivered one is sent "
        "again with the same id).",
    )
    def post(self, request: Request, pk: int, delivery_id: int) -> Response:
        actor = _official(request)
        subscription: WebhookSubscription = subscriptions.subscription_get(
            user=actor, subscription_id=pk
        )
        delivery = subscriptions.delivery_get(
            user=actor, subscription=subscription, delivery_id=delivery_id
        )
        delivery = subscriptions.delivery_retry(actor=actor, delivery=delivery)
        return Response(WebhookDeliveryOutputSerializer(delivery).data)
