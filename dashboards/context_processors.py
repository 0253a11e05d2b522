"""What every page's header needs from this app: whether to show the officials' links."""

from __future__ import annotations

from django.http import HttpRequest

from trucks.roles import is_official


def officials(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    return {"show_officials_nav": bool(user is not None and is_official(user))}
