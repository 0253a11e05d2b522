"""Roles are Django groups (docs/architecture.md, "Roles and access"). Groups are created by a data
migration."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DRIVER = "driver", _("Driver")
    DISPATCHER = "dispatcher", _("Company dispatcher")
    CONSIGNEE = "consignee", _("Consignee")
    STAFF = "staff", _("Checkpoint staff")
    OFFICIAL = "official", _("Official")
    ADMIN = "admin", _("Administrator")


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, read once per user object (the groups query is cached on it)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_roles_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        if getattr(user, "is_superuser", False):
            cached = cached | {Role.ADMIN}
        setattr(user, "_roles_cache", cached)  # noqa: B010
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_official(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, Role.OFFICIAL, Role.ADMIN)
