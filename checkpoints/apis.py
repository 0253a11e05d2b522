"""The checkpoint API: the list of checkpoints a trip may name (scanning comes with its issue)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import selectors
from checkpoints.models import Checkpoint


class CheckpointOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Checkpoint.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    region = serializers.CharField(source="region_id", help_text="Region code (GB/T 2260).")


class CheckpointPagination(LimitOffsetPagination):
    max_limit = 1000


class CheckpointListApi(APIView):
    pagination_class = CheckpointPagination

    @extend_schema(
        operation_id="checkpoints_list",
        responses={200: CheckpointOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.checkpoints_active(), request, view=self)
        return paginator.get_paginated_response(CheckpointOutputSerializer(page, many=True).data)
