"""Input and output serializers of the trip API (``trucks.apis``).

Input serializers check types only (strings, numbers, times, lists) and the sizes the database
holds; every rule of the domain lives in ``trucks.services``, which reports all faults of a
registration at once, nested as the input is.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from passcode_portal.api import record_id_field
from passcode_portal.fieldtext import api_messages
from trucks import links, selectors, services, validators
from trucks.models import (
    CargoCategory,
    Colour,
    CoRider,
    Driver,
    Pass,
    PassStatus,
    TestResult,
    Trip,
    TripStatus,
)
from trucks.serializers.fields import (
    MAX_CODES,
    MAX_PEOPLE,
    choices_help,
    text_field,
    time_field,
)
from trucks.validators import mask_id_number, mask_phone


class PersonInputSerializer(serializers.Serializer[Any]):
    name = text_field(pgettext_lazy("person", "name"), validators.NAME_MAX_LENGTH, allow_blank=True)
    id_number = text_field(_("ID number"), validators.ID_NUMBER_MAX_LENGTH, allow_blank=True)
    phone = text_field(_("mobile number"), validators.PHONE_INPUT_MAX_LENGTH, allow_blank=True)


class TripInputSerializer(serializers.Serializer[Any]):
    vehicle_plate = text_field(
        _("number plate"), validators.PLATE_INPUT_MAX_LENGTH, allow_blank=True
    )
    vehicle_id = record_id_field(
        _("vehicle"), "Instead of the plate: id from GET /api/v1/vehicles/."
    )
    driver = PersonInputSerializer(
        required=False,
        allow_null=True,
        help_text="Required for dispatchers; a driver's own account may leave it out.",
    )
    driver_id = record_id_field(_("driver"), "Instead of the driver: id from GET /api/v1/drivers/.")
    co_riders = serializers.ListField(
        child=PersonInputSerializer(),
        required=False,
        max_length=MAX_PEOPLE,
        error_messages=api_messages(_("list of co-riders")),
    )
    origin_region = text_field(
        _("origin"),
        validators.REGION_CODE_LENGTH,
        allow_blank=True,
        help_text="A region code (GB/T 2260).",
    )
    travel_history = serializers.ListField(
        child=text_field(_("region code"), validators.REGION_CODE_LENGTH, allow_blank=True),
        required=False,
        max_length=MAX_CODES,
        error_messages=api_messages(_("travel history")),
        help_text="Region codes visited in the last 14 days.",
    )
    destination_name = text_field(
        _("destination"), validators.DESTINATION_MAX_LENGTH, allow_blank=True
    )
    destination_address = text_field(
        _("destination address"), validators.ADDRESS_MAX_LENGTH, allow_blank=True
    )
    consignee = record_id_field(_("consignee"), "Company id from GET /api/v1/consignees/.")
    entry_checkpoint = text_field(
        _("entry checkpoint"),
        32,
        allow_blank=True,
        help_text="Checkpoint code from GET /api/v1/checkpoints/.",
    )
    planned_arrival = time_field(_("planned arrival"))
    planned_departure = time_field(_("planned departure"))
    cargo_category = text_field(
        _("cargo category"),
        32,
        allow_blank=True,
        help_text=choices_help(CargoCategory.choices),
    )
    cargo_description = text_field(
        _("cargo description"), validators.CARGO_DESCRIPTION_MAX_LENGTH, allow_blank=True
    )
    test_result = text_field(
        _("test result"), 16, allow_blank=True, help_text=choices_help(TestResult.choices)
    )
    test_sampled_at = time_field(_("sample time"), required=False, allow_null=True)
    multi_entry = serializers.BooleanField(
        required=False, default=False, error_messages=api_messages(_("multi-entry choice"))
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data = getattr(self, "initial_data", None)
        if isinstance(data, dict) and data.get("vehicle_id") is not None:
            self.fields["vehicle_plate"].required = False  # the vehicle chosen names it

    def to_trip_data(self) -> services.TripData:
        return self.trip_data_from(self.validated_data)

    def trip_data_of(self, data: Any) -> services.TripData:
        """Many inputs through one serializer (an import's rows): its fields are built once
        rather than per input. DRF's ``ValidationError`` with the same messages as
        ``is_valid``'s. Not for an input naming a vehicle by id (``__init__``'s case)."""
        return self.trip_data_from(self.run_validation(data))

    @staticmethod
    def trip_data_from(data: Any) -> services.TripData:
        driver = data.get("driver")
        return services.TripData(
            vehicle_plate=data.get("vehicle_plate", ""),
            driver=services.PersonData(**driver) if driver is not None else None,
            co_riders=tuple(services.PersonData(**p) for p in data.get("co_riders", ())),
            origin_region=data["origin_region"],
            travel_history=tuple(data.get("travel_history", ())),
            destination_name=data["destination_name"],
            destination_address=data["destination_address"],
            consignee=data.get("consignee"),
            entry_checkpoint=data["entry_checkpoint"],
            planned_arrival=data["planned_arrival"],
            planned_departure=data["planned_departure"],
            cargo_category=data["cargo_category"],
            cargo_description=data["cargo_description"],
            test_result=data["test_result"],
            test_sampled_at=data.get("test_sampled_at"),
            multi_entry=data.get("multi_entry", False),
            vehicle_id=data.get("vehicle_id"),
            driver_id=data.get("driver_id"),
        )


class TripFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=TripStatus.choices, required=False, allow_blank=True)
    date_from = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="Planned arrival on or after."
    )
    date_to = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="Planned arrival on or before."
    )


class TestResultInputSerializer(serializers.Serializer[Any]):
    test_result = text_field(
        _("test result"), 16, allow_blank=True, help_text=choices_help(TestResult.choices)
    )
    test_sampled_at = time_field(_("sample time"), required=False, allow_null=True)


class PlateInputSerializer(serializers.Serializer[Any]):
    vehicle_plate = text_field(
        _("number plate"), validators.PLATE_INPUT_MAX_LENGTH, allow_blank=True
    )


class DriverChangeInputSerializer(TestResultInputSerializer):
    """The trip's new driver, one of the company's or typed, with their own test result."""

    driver_id = record_id_field(_("driver"), "One of the company's: id from GET /api/v1/drivers/.")
    driver = PersonInputSerializer(
        required=False, allow_null=True, help_text="Instead of driver_id: a driver typed."
    )

    def person(self) -> services.PersonData | None:
        driver = self.validated_data.get("driver")
        return services.PersonData(**driver) if driver is not None else None


# ---------------------------------------------------------------------------------------------
# Output


class PersonOutputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    id_number = serializers.SerializerMethodField(
        help_text="Masked (4 first and 4 last characters) except for officials."
    )
    phone = serializers.SerializerMethodField(
        help_text="Masked (3 first and 4 last digits) for consignees."
    )

    def get_id_number(self, person: Driver | CoRider) -> str:
        if self.context.get("full_id_numbers"):
            return person.id_number
        return mask_id_number(person.id_number)

    def get_phone(self, person: Driver | CoRider) -> str:
        if self.context.get("full_phones"):
            return person.phone
        return mask_phone(person.phone)


class ReasonSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable reason code, e.g. no_test, test_stale.")
    text = serializers.CharField(help_text="The reason, in the user's language.")
    action = serializers.CharField(help_text="What to do about it, in the user's language.")


class PassOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    token = serializers.SerializerMethodField(
        help_text="The signed token the QR code holds; null for consignees, who need the trip "
        "but not the code that lets the truck through (so are qr_png, qr_svg and link)."
    )
    colour = serializers.ChoiceField(choices=Colour.choices)
    reasons = serializers.SerializerMethodField()
    policy_version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PassStatus.choices)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    qr_png = serializers.SerializerMethodField()
    qr_svg = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField(
        help_text="Signed, expiring link that opens the pass without an account."
    )

    def _in_full(self, pass_: Pass) -> bool:
        return pass_.trip_id in self.context.get("in_full", ())

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_token(self, pass_: Pass) -> str | None:
        return services.pass_token(pass_) if self._in_full(pass_) else None

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, pass_: Pass) -> list[dict[str, str]]:
        explanations: dict[int, list[dict[str, str]]] = self.context.get("explanations", {})
        if pass_.pk in explanations:
            return explanations[pass_.pk]
        return selectors.pass_explanations(pass_)

    def _absolute(self, name: str, pass_: Pass) -> str:
        path = reverse(name, kwargs={"pk": pass_.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_qr_png(self, pass_: Pass) -> str | None:
        return self._absolute("api-pass-qr-png", pass_) if self._in_full(pass_) else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_qr_svg(self, pass_: Pass) -> str | None:
        return self._absolute("api-pass-qr-svg", pass_) if self._in_full(pass_) else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_link(self, pass_: Pass) -> str | None:
        return links.pass_link_url(pass_) if self._in_full(pass_) else None


class TripOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=TripStatus.choices)
    vehicle_plate = serializers.CharField(source="vehicle.plate")
    driver = serializers.SerializerMethodField()
    co_riders = serializers.SerializerMethodField()
    origin_region = serializers.CharField(source="origin_region_id")
    travel_history = serializers.SerializerMethodField()
    destination_name = serializers.CharField()
    destination_address = serializers.CharField()
    consignee = serializers.IntegerField(source="consignee_id", allow_null=True)
    entry_checkpoint = serializers.CharField(source="entry_checkpoint.code")
    planned_arrival = serializers.DateTimeField()
    planned_departure = serializers.DateTimeField()
    cargo_category = serializers.ChoiceField(choices=CargoCategory.choices)
    cargo_description = serializers.CharField()
    test_result = serializers.ChoiceField(choices=TestResult.choices)
    test_sampled_at = serializers.DateTimeField(allow_null=True)
    multi_entry = serializers.BooleanField()
    series = serializers.IntegerField(
        source="series_id", allow_null=True, help_text="The series of recurring trips it is in."
    )
    created_at = serializers.DateTimeField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # "pass" is a Python keyword, so it cannot be declared as a class attribute.
        fields["pass"] = serializers.SerializerMethodField(
            method_name="get_pass", help_text="The current pass; null if none was issued."
        )
        return fields

    def _people_context(self, trip: Trip) -> dict[str, Any]:
        return {**self.context, "full_phones": trip.pk in self.context.get("in_full", ())}

    @extend_schema_field(PersonOutputSerializer)
    def get_driver(self, trip: Trip) -> dict[str, Any]:
        return PersonOutputSerializer(trip.driver, context=self._people_context(trip)).data

    @extend_schema_field(PersonOutputSerializer(many=True))
    def get_co_riders(self, trip: Trip) -> Any:
        people = trip.co_riders.all()
        return PersonOutputSerializer(people, many=True, context=self._people_context(trip)).data

    def get_travel_history(self, trip: Trip) -> list[str]:
        return [region.code for region in trip.travel_history.all()]

    @extend_schema_field(PassOutputSerializer(allow_null=True))
    def get_pass(self, trip: Trip) -> dict[str, Any] | None:
        pass_ = selectors.current_pass(trip)
        if pass_ is None:
            return None
        return PassOutputSerializer(pass_, context=self.context).data


def trip_context(request: Any, trips: list[Trip]) -> dict[str, Any]:
    """What TripOutputSerializer needs beyond the trips: the request (absolute URLs), whether to
    show full ID numbers, the trips whose pass code and phone numbers the user may have
    (``selectors.trip_in_full_to``), and the pass explanations of the whole page, read at once."""
    passes = [p for p in (selectors.current_pass(t) for t in trips) if p is not None]
    return {
        "request": request,
        "full_id_numbers": selectors.can_see_full_id_numbers(request.user),
        "in_full": {t.pk for t in trips if selectors.trip_in_full_to(user=request.user, trip=t)},
        "explanations": selectors.passes_explanations(passes),
    }
