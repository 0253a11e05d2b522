"""What every checkpoint API view shares: the request's user as staff of the checkpoint, and the
error answers the schema lists."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework.request import Request

from checkpoints import selectors, services
from passcode_portal.api import ErrorSerializer
from passcode_portal.errors import PermissionDenied
from places.models import Checkpoint


def request_user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not_assigned", _("You are not assigned to this checkpoint."))
    return user


def staff_checkpoint(request: Request, code: str) -> Checkpoint:
    """The checkpoint, if the user is assigned to it: absent (404) if there is none, refused
    (403) for anyone else, drivers and other checkpoints' staff alike."""
    checkpoint = selectors.checkpoint_by_code(code)
    user = request.user
    if not isinstance(user, User) or not services.staff_may_scan(user=user, checkpoint=checkpoint):
        raise PermissionDenied("not_assigned", _("You are not assigned to this checkpoint."))
    return checkpoint


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; see `fields`."),
    403: OpenApiResponse(ErrorSerializer, description="Not staff of this checkpoint."),
    404: OpenApiResponse(ErrorSerializer, description="No such checkpoint or scan."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in this state."),
}
