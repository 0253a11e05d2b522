"""The audit the management pages show (``dashboards.history.changes``): each change with who
and when, only the fields that differ, before and after in words."""

from __future__ import annotations

import pytest
from django.utils import translation

from dashboards.history import changes
from places.models import Region
from tests.factories import UserFactory
from trucks import services

pytestmark = pytest.mark.django_db


def test_each_change_shows_who_when_and_the_field_before_and_after(regions: None) -> None:
    official = UserFactory(role="official", username="duty", first_name="值班员")
    region = Region.objects.get(code="410800")
    services.region_set_risk(actor=official, region=region, risk_level="high")
    services.region_set_risk(actor=official, region=region, risk_level="medium")

    with translation.override("en"):
        shown = changes(
            Region.history.filter(code="410800").order_by("-history_date", "-history_id"),
            fields=["risk_level"],
            subject=lambda record: record.code,
        )

    # Regions are loaded in bulk with no history row: the first change records the level
    # before it as the region's first row (a creation by the system), so it shows a "before".
    assert [(c.who, c.subject, c.kind) for c in shown] == [
        ("值班员", "410800", "~"),
        ("值班员", "410800", "~"),
        ("the system", "410800", "+"),
    ]
    newest, oldest, baseline = shown
    assert [(f.label, f.before, f.after) for f in newest.fields] == [
        ("risk level", "High risk", "Medium risk")
    ]
    assert [(f.before, f.after) for f in oldest.fields] == [("Low risk", "High risk")]
    assert [(f.before, f.after) for f in baseline.fields] == [("—", "Low risk")]
    assert newest.when >= oldest.when >= baseline.when


def test_a_save_that_changes_none_of_the_fields_is_left_out(regions: None) -> None:
    official = UserFactory(role="official")
    region = Region.objects.get(code="410800")
    services.region_set_risk(actor=official, region=region, risk_level="high")
    region.refresh_from_db()
    region.save()  # a history row, with the same risk level

    shown = changes(Region.history.filter(code="410800"), fields=["risk_level"])

    assert [c.kind for c in shown] == ["~", "+"]  # the change, and the level before it
