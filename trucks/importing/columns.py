"""The columns of an import file, by the trip API's field names, with their headers.

A header is accepted in English, in Simplified Chinese, or as the API field name; case and
surrounding spaces do not matter. The headers come from the gettext labels, so they are
whatever the translations say, computed under each language.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The cab's co-rider columns. Registration allows fewer (``MAX_CO_RIDERS``): a file may still
# fill the last slot and get the services' own message for it.
CO_RIDER_SLOTS = 5
HEADER_LANGUAGES = ("en", "zh-hans")


@dataclass(frozen=True)
class Column:
    field: str
    label: Promise
    required: bool


def _co_rider(n: int, what: Promise) -> Promise:
    return format_lazy(_("Co-rider {n} {what}"), n=n, what=what)


COLUMNS: tuple[Column, ...] = (
    Column("vehicle_plate", _("Number plate"), True),
    Column("driver_name", _("Driver's name"), True),
    Column("driver_id_number", _("Driver's ID number"), True),
    Column("driver_phone", _("Driver's mobile number"), True),
    Column("origin_region", _("Origin region code"), True),
    Column("travel_history", _("14-day travel history (region codes)"), False),
    Column("destination_name", _("Destination"), True),
    Column("destination_address", _("Destination address"), True),
    Column("consignee", _("Consignee (id or name)"), False),
    Column("entry_checkpoint", _("Entry checkpoint code"), True),
    Column("planned_arrival", _("Planned arrival"), True),
    Column("planned_departure", _("Planned departure"), True),
    Column("cargo_category", _("Cargo category"), True),
    Column("cargo_description", _("Cargo description"), True),
    Column("test_result", _("Test result"), True),
    Column("test_sampled_at", _("Test sampled at"), False),
    *(
        Column(f"co_rider_{n}_{part}", _co_rider(n, label), False)
        for n in range(1, CO_RIDER_SLOTS + 1)
        for part, label in (
            ("name", pgettext_lazy("person", "name")),
            ("id_number", _("ID number")),
            ("phone", _("mobile number")),
        )
    ),
)
FIELDS = tuple(c.field for c in COLUMNS)
REQUIRED = tuple(c.field for c in COLUMNS if c.required)


def normalised(header: object) -> str:
    return " ".join(str(header or "").split()).casefold()


def headers() -> list[str]:
    """The headers in the active language, in the template's order."""
    return [str(c.label) for c in COLUMNS]


def label(field: str) -> str:
    return next(str(c.label) for c in COLUMNS if c.field == field)


def known_headers() -> dict[str, str]:
    """Every accepted header, normalised, to its field."""
    known: dict[str, str] = {}
    for language in HEADER_LANGUAGES:
        with translation.override(language):
            known.update({normalised(c.label): c.field for c in COLUMNS})
    known.update({normalised(field): field for field in FIELDS})
    return known
