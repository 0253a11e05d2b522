"""The checkpoint's offline bundle, ``GET /api/v1/checkpoints/{code}/bundle/``
(docs/architecture.md, "Offline"), read by ``checkpoints.bundle``."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkpoints import bundle
from checkpoints.apis.access import ERRORS, staff_checkpoint
from checkpoints.serializers import BundleOutputSerializer
from passcode_portal.errors import DomainError


# Some 20,000 rows of plain values compress to a fifth: gzip when the tablet accepts it (this
# view only: the scan's small answers are not worth the time).
@method_decorator(gzip_page, name="dispatch")
class BundleApi(APIView):
    # JSON only: the browsable renderer would lay a province's passes out as HTML.
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="checkpoints_bundle",
        parameters=[
            OpenApiParameter(
                "since",
                str,
                description=(
                    "The cursor of an earlier bundle: only the rows changed since (full is "
                    "false). A cursor older than a day, or of another key set, gives a full "
                    "bundle."
                ),
            )
        ],
        responses={200: BundleOutputSerializer, **{s: ERRORS[s] for s in (400, 403, 404)}},
        description=(
            "The passes a checkpoint tablet needs to give verdicts without a network: every "
            "pass whose window ended less than a day ago, whatever its status, and those of "
            "trucks in the city, as rows of the values named in fields; no personal data beyond "
            "plates. With the public keys to check signatures, the policy the verdicts follow, "
            "and the server's clock. Staff of the checkpoint only; gzip when accepted."
        ),
    )
    def get(self, request: Request, code: str) -> Response:
        checkpoint = staff_checkpoint(request, code)
        text = request.query_params.get("since", "").strip()
        since = bundle.cursor_parse(text) if text else None
        if text and since is None:
            raise DomainError(
                "validation_error",
                _("Some fields are not valid."),
                fields={
                    "since": [
                        _(
                            "This is not a cursor this server gave. Send the cursor of the "
                            "last bundle, or none for a full bundle."
                        )
                    ]
                },
            )
        return Response(bundle.bundle_build(checkpoint=checkpoint, since=since))
