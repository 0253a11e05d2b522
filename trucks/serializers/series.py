"""Input and output serializers of the recurring trips' API (``trucks.series_apis``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from passcode_portal.fieldtext import api_messages
from trucks import selectors
from trucks.models import Colour, PassStatus, Trip, TripStatus


class SeriesInputSerializer(serializers.Serializer[Any]):
    # Bounded to what the database's integers hold; the horizon (``trip_series_create``) says
    # how many days are allowed, with the last date.
    days = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        error_messages=api_messages(_("number of days")),
        help_text="How many days after the trip's planned arrival to repeat it on, up to the "
        "policy's registration horizon.",
    )
    weekdays = serializers.ListField(
        child=serializers.IntegerField(
            min_value=1, max_value=7, error_messages=api_messages(_("weekday"))
        ),
        required=False,
        max_length=7,
        error_messages=api_messages(_("list of weekdays")),
        help_text="ISO weekdays (1 Monday to 7 Sunday) to repeat on; none or absent: every day.",
    )


class SeriesPassSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    colour = serializers.ChoiceField(choices=Colour.choices)
    status = serializers.ChoiceField(choices=PassStatus.choices)


class SeriesTripSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=TripStatus.choices)
    planned_arrival = serializers.DateTimeField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # "pass" is a Python keyword, so it cannot be declared as a class attribute.
        fields["pass"] = serializers.SerializerMethodField(
            method_name="get_pass", help_text="The current pass; null if none was issued."
        )
        return fields

    @extend_schema_field(SeriesPassSerializer(allow_null=True))
    def get_pass(self, trip: Trip) -> dict[str, Any] | None:
        pass_ = selectors.current_pass(trip)
        return SeriesPassSerializer(pass_).data if pass_ is not None else None


class SeriesOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    source_trip = serializers.IntegerField(source="source_trip_id")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), help_text="ISO weekdays chosen; empty: every day."
    )
    days = serializers.IntegerField()
    first_date = serializers.DateField(help_text="The day of the first trip repeated.")
    last_date = serializers.DateField(help_text="The day of the last trip repeated.")
    cancelled_at = serializers.DateTimeField(allow_null=True)
    trips = serializers.SerializerMethodField(
        help_text="The series' trips by planned arrival, the repeated trip among them."
    )

    @extend_schema_field(SeriesTripSerializer(many=True))
    def get_trips(self, series: Any) -> Any:
        return SeriesTripSerializer(selectors.series_trips(series), many=True).data


class SeriesCancelOutputSerializer(SeriesOutputSerializer):
    cancelled = serializers.IntegerField(help_text="How many trips this request cancelled.")
