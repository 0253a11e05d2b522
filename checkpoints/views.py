"""Checkpoint pages: the staff member's checkpoints, one checkpoint, and the scan page the tablet at
the checkpoint runs all day (docs/architecture.md, "Scanning at the checkpoint"). The scan page is a
shell: the verdicts come from the scan API (``checkpoints.apis``), called by static/js/scan.js with
the session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from checkpoints import selectors, services, verification
from checkpoints.models import Direction, LandingTest, Reason, Verdict, WalkIn, Warning
from passcode_portal.errors import NotFound
from places.models import Checkpoint
from trucks import selectors as trucks_selectors
from trucks.models import PassStatus, TripStatus

# The scan page runs no inline script or style. 'wasm-unsafe-eval' lets the QR decoder compile
# its WebAssembly (without it barcode-detector never answers: the page's decoder waits for ever,
# with no error to show); the camera stream is attached with srcObject and needs no media-src of
# its own.
SCAN_PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        # The app's service worker and manifest (checkpoints.pwa), named though default-src
        # already allows them, so narrowing default-src cannot take the offline app away.
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@login_required
def checkpoint_index(request: HttpRequest) -> HttpResponse:
    checkpoints = trucks_selectors.checkpoints_of_staff(request.user)
    return render(request, "checkpoints/index.html", {"checkpoints": checkpoints})


@login_required
def checkpoint_detail(request: HttpRequest, code: str) -> HttpResponse:
    # Another checkpoint's page is absent rather than forbidden, like another company's trip.
    checkpoint = trucks_selectors.checkpoints_of_staff(request.user).filter(code=code).first()
    if checkpoint is None:
        raise Http404
    user = request.user
    may_scan = isinstance(user, User) and services.staff_may_scan(user=user, checkpoint=checkpoint)
    return render(
        request, "checkpoints/detail.html", {"checkpoint": checkpoint, "may_scan": may_scan}
    )


def _scan_texts() -> dict[str, Any]:
    """Everything scan.js shows in words, translated here with the page: the API's codes are
    the keys, so the script never carries text of its own."""
    return {
        "verdicts": {
            Verdict.ADMIT: _("Admit"),
            Verdict.ADMIT_WITH_TEST: _("Landing test, then admit"),
            Verdict.REFUSE: _("Do not admit"),
        },
        # Short words for the list of last scans.
        "verdicts_short": {
            Verdict.ADMIT: _("Admitted"),
            Verdict.ADMIT_WITH_TEST: _("Landing test"),
            Verdict.REFUSE: _("Refused"),
        },
        "reasons": {code: str(label) for code, label in Reason.choices},
        "warnings": {code: str(label) for code, label in Warning.choices},
        "directions": {code: str(label) for code, label in Direction.choices},
        # The sentences the API words its verdicts in, so a verdict decided offline reads as
        # the same verdict online would (``verification.message``).
        "messages": {code: str(text) for code, text in verification.MESSAGES.items()},
        "warning_messages": {
            code: str(text) for code, text in verification.WARNING_MESSAGES.items()
        },
        "landing": {code: str(label) for code, label in LandingTest.choices},
        "outcomes": {code: str(label) for code, label in WalkIn.Outcome.choices},
        "colours": {
            "green": _("Green code"),
            "yellow": _("Yellow code"),
            "red": _("Red code"),
        },
        "pending": _("Checking the pass…"),
        "not_sent": _("Not sent yet"),
        "not_accepted": _("Scan not accepted"),
        "slow": _("The server is slow to answer; still waiting…"),
        "failed": _("No answer from the server. The scan is kept and will be sent again."),
        "offline": _("This tablet is offline. The scan is kept and will be sent when it is back."),
        "queued": _("Waiting to be sent"),
        "no_connection": _("No connection."),
        "sending": _("Sending…"),
        "will_sync": _("Not sent yet: %(count)s. They are sent again automatically."),
        "synced": _("Sent: %(plate)s, %(verdict)s"),
        "duplicate": _("This pass is being checked already."),
        "session": _("You are signed out. Sign in again; the scan is kept."),
        "replayed": _("This scan was already answered; showing that answer."),
        "confirmed": _("Plate and persons confirmed."),
        "landing_note": _("Landing test: %(state)s"),
        # A refusal a supervisor overrode shows the override as the outcome; the scan's own
        # verdict stays on record and is shown beneath it.
        "override": {
            "title": _("Admitted by override"),
            "short": _("Admitted (override)"),
            "by": _("Admitted by %(name)s at %(time)s."),
            "reason": _("Reason given: %(reason)s"),
            "original": _("The scan's own verdict: %(verdict)s (%(reason)s)."),
        },
        "earlier_refusal": _("Refused here at %(time)s: %(reason)s."),
        "walk_in_saved": _("Walk-in recorded: %(plate)s, %(outcome)s."),
        "no_match": _("No pass for today under %(query)s."),
        "lookup_failed": _("The search failed: %(detail)s"),
        # A pass found that a scan would check nothing of: its state, and nothing to press.
        "lookup_closed": _("Nothing to check: %(reason)s"),
        "pass_statuses": {code: str(label) for code, label in PassStatus.choices},
        "trip_statuses": {code: str(label) for code, label in TripStatus.choices},
        "valid_until": _("valid until %(time)s"),
        "valid_window": _("valid from %(start)s until %(end)s"),
        "opens_at": _("The pass opens at %(time)s."),
        "not_registered": _("Not registered"),
        "offline_mode": {
            "working": _("Working offline: verdicts are decided on this tablet."),
            "decided": _("Decided offline on this tablet."),
            "age": _("Offline data from %(time)s, %(minutes)s min ago."),
            "stale": _(
                "The offline data is %(minutes)s min old: a pass revoked or regraded since then "
                "is not known here. Call the command centre when in doubt."
            ),
            "none": _(
                "This tablet has no offline data yet: it is loaded as soon as the tablet is "
                "online, and verdicts wait for the connection until then."
            ),
            "waiting": _("Scans waiting to be sent: %(count)s."),
            "newer": _(
                "This pass is not in the tablet's offline data, updated at %(time)s: it may have "
                "been registered since. Do not admit it until it can be checked online."
            ),
            "later": _(
                "Confirming plate and persons, landing tests and overrides are possible once "
                "this scan has been sent."
            ),
            "alert_later": _(
                "Officials are alerted as soon as this scan reaches the server; call the command "
                "centre if it cannot wait."
            ),
            "short": _("offline"),
            "no_driver": _("shown once online"),
        },
        "camera": {
            "starting": _("Starting the camera…"),
            "loading": _("Loading the QR decoder…"),
            "ready": _("Hold the pass code in front of the camera."),
            "stopped": _("Camera off."),
            "insecure": _("The camera is not available: open this page over HTTPS."),
            "denied": _("The camera was not allowed. Allow it in the browser's site settings."),
            "no_camera": _("No camera found on this device."),
            "timeout": _("The camera did not start in time. Try again, or use a handheld scanner."),
            "decoder_failed": _(
                "The QR decoder did not start. Use a handheld scanner or type the code."
            ),
            "failed": _("The camera failed: %(detail)s"),
        },
    }


def scan_checkpoint(request: HttpRequest, code: str) -> tuple[Checkpoint, bool]:
    """The checkpoint whose scan page (or the app made of it, ``checkpoints.pwa``) is asked for,
    and whether the user supervises there: staff assigned to it only. The API would refuse
    everyone else's scans anyway, so they are refused the page up front."""
    try:
        checkpoint: Checkpoint = selectors.checkpoint_by_code(code)
    except NotFound:
        raise Http404 from None
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required already ensured it
        raise PermissionDenied
    access = services.checkpoint_access(user)
    if checkpoint.pk not in access:
        raise PermissionDenied(_("You are not assigned to this checkpoint."))
    return checkpoint, access[checkpoint.pk]


@login_required
def checkpoint_scan(request: HttpRequest, code: str) -> HttpResponse:
    """The scan page. It works offline once opened: ``checkpoints.pwa`` serves the worker that
    keeps it and the manifest that makes it an app."""
    checkpoint, supervisor = scan_checkpoint(request, code)
    config = {
        "checkpoint": checkpoint.code,
        "supervisor": supervisor,
        # Times are shown in the deployment's zone, whatever zone the tablet's clock is set to.
        "time_zone": str(settings.TIME_ZONE),
        "urls": {
            "scans": reverse("api-scan", args=[checkpoint.code]),
            "bundle": reverse("api-bundle", args=[checkpoint.code]),
            "lookup": reverse("api-lookup", args=[checkpoint.code]),
            "walk_ins": reverse("api-walk-in", args=[checkpoint.code]),
        },
        "texts": _scan_texts(),
    }
    response = render(
        request,
        "checkpoints/scan.html",
        {"checkpoint": checkpoint, "supervisor": supervisor, "config": config},
    )
    response["Content-Security-Policy"] = SCAN_PAGE_CSP
    return response
