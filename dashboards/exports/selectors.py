"""The exports a user may see: an official's own, and every one to an administrator. Another
official's export is absent (404), not forbidden, so its id tells nothing."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dashboards.models import Export
from passcode_portal.errors import NotFound
from trucks.roles import Role, has_role


def exports_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Export]:
    exports = Export.objects.select_related("checkpoint", "requester")
    if has_role(user, Role.ADMIN):
        return exports
    return exports.filter(requester_id=user.pk)


def export_of(user: AbstractBaseUser | AnonymousUser, pk: int) -> Export:
    export = exports_of(user).filter(pk=pk).first()
    if export is None:
        raise NotFound("not_found", _("No such export."))
    return export
