"""Signed, expiring links that open a pass without an account (for drivers who never sign up).

The link carries the pass id and its own expiry (the end of the pass window plus a day, so a
driver can still show an expired pass when asked), signed with Django's signing framework under
the project's SECRET_KEY.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from trucks.models import Pass

_SALT = "trucks.pass-link"
GRACE = timedelta(days=1)


def pass_link_token(pass_: Pass) -> str:
    expires = int((pass_.valid_until + GRACE).timestamp())
    return signing.dumps([pass_.pk, expires], salt=_SALT, compress=True)


def pass_link_path(pass_: Pass) -> str:
    return reverse("trucks:pass-link", kwargs={"token": pass_link_token(pass_)})


def pass_link_url(pass_: Pass) -> str:
    return settings.SITE_URL + pass_link_path(pass_)


def pass_id_from_link(token: str) -> int | None:
    """The pass id a link names, or None if the link is forged, altered or expired."""
    try:
        pass_id, expires = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    # Checked by exact type: JSON's true is a Python bool, which isinstance() counts as the int
    # 1, so [true, ...] would name pass 1. Ids are positive and fit the database's bigint.
    if type(pass_id) is not int or type(expires) is not int or not 0 < pass_id < 2**63:
        return None
    if timezone.now().timestamp() > expires:
        return None
    return pass_id
