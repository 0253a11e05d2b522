"""Factories for test data. Trips are made through the real service (``make_trip``) so tests
exercise the same path users do."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from places.models import Checkpoint, StaffAssignment
from trucks import services
from trucks.models import Company, CompanyMember, Driver, Trip, WhitelistEntry
from trucks.validators import id_number_check_character, uscc_check_character

PASSWORD = "passcode-demo"
_seq = itertools.count(1)


def valid_id_number(n: int | None = None, birth: str = "19850612") -> str:
    n = next(_seq) if n is None else n
    first17 = f"410802{birth}{n % 1000:03d}"
    return first17 + id_number_check_character(first17)


def valid_uscc(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    first17 = f"91410800MA{n % 10_000_000:07d}"
    return first17 + uscc_check_character(first17)


def valid_phone(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"139{n % 100_000_000:08d}"


def valid_plate(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"豫H{n % 100_000:05d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            group, _ = Group.objects.get_or_create(name=extracted)
            self.groups.add(group)
        self.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"焦作运输有限公司{n}")
    uscc = factory.LazyFunction(valid_uscc)
    contact_name = "王经理"
    contact_phone = factory.LazyFunction(valid_phone)


def whitelisted_company(
    company: Company | None = None,
    *,
    until: datetime | None = None,
    reason: str = "保供企业",
    **scope: Any,
) -> Company:
    """A company with a whitelist entry in force since yesterday (or ended, for an ``until``
    already past), of every plate and cargo unless ``scope`` names some (``plates``,
    ``cargo_categories``, ``priority_lane``, ``valid_from``)."""
    company = company or CompanyFactory()
    now = timezone.now()
    start = scope.pop("valid_from", None) or now - timedelta(days=1)
    if until is not None and until <= start:
        start = until - timedelta(hours=1)
    WhitelistEntry.objects.create(
        company=company, valid_from=start, valid_until=until, reason=reason, created_at=now, **scope
    )
    return company


class CheckpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Checkpoint

    code = factory.Sequence(lambda n: f"JZ-TEST-{n}")
    name = factory.Sequence(lambda n: f"焦作测试卡口{n}")
    kind = Checkpoint.Kind.HIGHWAY_EXIT
    region_id = "410800"


def dispatcher(company: Company | None = None, **kwargs: Any) -> User:
    user = UserFactory(role="dispatcher", **kwargs)
    CompanyMember.objects.create(user=user, company=company or CompanyFactory())
    return user


def consignee_user(company: Company | None = None, **kwargs: Any) -> User:
    user = UserFactory(role="consignee", **kwargs)
    CompanyMember.objects.create(user=user, company=company or CompanyFactory(is_consignee=True))
    return user


def driver_user(company: Company | None = None, **kwargs: Any) -> User:
    user = UserFactory(role="driver", **kwargs)
    Driver.objects.create(
        user=user,
        company=company,
        name="张师傅",
        id_number=valid_id_number(),
        phone=valid_phone(),
    )
    return user


def staff_user(*checkpoints: Checkpoint, **kwargs: Any) -> User:
    user = UserFactory(role="staff", **kwargs)
    for checkpoint in checkpoints:
        StaffAssignment.objects.create(user=user, checkpoint=checkpoint)
    return user


def trip_data(checkpoint: Checkpoint, **overrides: Any) -> services.TripData:
    now = timezone.now()
    values: dict[str, Any] = {
        "vehicle_plate": valid_plate(),
        "driver": services.PersonData("李师傅", valid_id_number(), valid_phone()),
        "origin_region": "320412",
        "travel_history": ["320400"],
        "destination_name": "焦作市某物流园",
        "destination_address": "河南省焦作市解放区民主路1号",
        "entry_checkpoint": checkpoint.code,
        "planned_arrival": now + timedelta(hours=6),
        "planned_departure": now + timedelta(hours=30),
        "cargo_category": "daily_necessities",
        "cargo_description": "蔬菜 20 吨",
        "test_result": "negative",
        "test_sampled_at": now - timedelta(hours=10),
    }
    values.update(overrides)
    return services.TripData(**values)


def make_trip(actor: User, checkpoint: Checkpoint, **overrides: Any) -> Trip:
    return services.trip_register(actor=actor, data=trip_data(checkpoint, **overrides))


def at(hours: float) -> datetime:
    return timezone.now() + timedelta(hours=hours)
