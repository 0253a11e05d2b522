"""The policy, the officials' page: the version in force with every setting, a form for the next
version which, previewed, shows how many active passes would change colour, and publishes it
(``services.policy_publish``: a new version, every active pass regraded by a worker); and the
versions with who published each, when, why, and the settings it changed from the one before.

A preview is made against the version in force at that moment, which the publish form carries:
should another official publish meanwhile, publishing is refused and the official previews again
against the new version, instead of overwriting settings they never saw."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dashboards.forms import POLICY_EDITABLE, PolicyForm
from dashboards.history import HISTORY_ROWS, Change, differences, label_of, person, shown
from dashboards.views import colour_moves, official_only
from passcode_portal.errors import DomainError
from trucks import lifecycle, services
from trucks.models import Policy


def _blank_next(current: Policy) -> Policy:
    """The next version as the form starts it: the settings in force, no note yet."""
    return Policy(**{name: getattr(current, name) for name in POLICY_EDITABLE})


def versions() -> list[Change]:
    """The latest versions, newest first, each with the settings it changed from the version
    before it (the first version lists none: it holds the defaults)."""
    rows = list(
        Policy.objects.select_related("created_by").order_by("-version")[: HISTORY_ROWS + 1]
    )
    out = []
    for newer, older in zip(rows, [*rows[1:], None], strict=True):
        if older is None and newer.version != 1:
            break  # the one read only to compare the oldest shown with
        out.append(
            Change(
                when=newer.created_at,
                who=person(newer.created_by),
                kind="~" if older is not None else "+",
                subject=_("Version %(version)d") % {"version": newer.version},
                fields=differences(older, newer, POLICY_EDITABLE) if older is not None else (),
                reason=newer.note,
            )
        )
    return out


def _settings(policy: Policy) -> list[dict[str, Any]]:
    """Each setting in force with its label and help text, from the model."""
    return [
        {
            "label": label_of(Policy, name),
            "value": shown(policy, name),
            "help": getattr(Policy._meta.get_field(name), "help_text", ""),
        }
        for name in POLICY_EDITABLE
    ]


@login_required
@require_http_methods(["GET", "POST"])
def policy_page(request: HttpRequest) -> HttpResponse:
    official_only(request)
    current = services.policy_current()
    if request.method == "POST":
        return _act(request, current)
    return _page(request, current, PolicyForm(instance=_blank_next(current)))


def _page(
    request: HttpRequest,
    current: Policy,
    form: PolicyForm,
    *,
    preview: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "dashboards/policy.html",
        {
            "current": current,
            "published_by": person(current.created_by),
            "settings": _settings(current),
            "form": form,
            "preview": preview,
            "changes": versions(),
        },
        status=status,
    )


def _act(request: HttpRequest, current: Policy) -> HttpResponse:
    """Preview the next version, or publish the one previewed. Bad input is the form again with
    its messages and a 400; a version published since the preview, a 409 asking to preview
    again."""
    actor = request.user
    assert isinstance(actor, User)
    form = PolicyForm(request.POST, instance=_blank_next(current))
    action = request.POST.get("action")
    if action not in ("preview", "publish"):
        messages.error(request, _("Choose to preview or to publish."))
        return _page(request, current, form, status=400)
    if not form.is_valid():
        return _page(request, current, form, status=400)
    changed = {
        name: form.cleaned_data[name]
        for name in POLICY_EDITABLE
        if form.cleaned_data[name] != getattr(current, name)
    }
    if not changed:
        form.add_error(None, _("Change at least one setting: this version would be the same."))
        return _page(request, current, form, status=400)
    based_on = request.POST.get("based_on", "")
    if action == "publish" and not based_on.isdigit():
        form.add_error(None, _("Preview the new version before publishing it."))
        return _page(request, current, form, status=400)
    if action == "publish" and based_on != str(current.version):
        return _stale(request, current, form)
    try:
        if action == "preview":
            preview = {
                "based_on": current.version,
                "fields": differences(current, form.instance, POLICY_EDITABLE),
                "result": colour_moves(lifecycle.passes_preview(policy_fields=changed)),
            }
            return _page(request, current, form, preview=preview)
        policy = services.policy_publish(
            actor=actor, based_on=current.version, note=form.cleaned_data["note"], **changed
        )
    except DomainError as exc:
        if exc.status == 409:
            return _stale(request, services.policy_current(), form, message=str(exc.message))
        for name, errors in (exc.fields or {"": [exc.message]}).items():
            for error in errors if isinstance(errors, list | tuple) else [errors]:
                form.add_error(name if name in form.fields else None, str(error))
        return _page(request, current, form, status=exc.status)
    messages.success(
        request,
        _("Version %(version)d is in force; the active passes are being regraded under it.")
        % {"version": policy.version},
    )
    return redirect("dashboards:policy")


def _stale(
    request: HttpRequest, current: Policy, form: PolicyForm, *, message: str | None = None
) -> HttpResponse:
    """Another version was published after this one was previewed: nothing is published; the
    official's settings stay in the form, to preview again against the version now in force."""
    messages.warning(
        request,
        message
        or _(
            "Version %(version)d was published after your preview. Nothing was published: "
            "check your settings against it and preview again."
        )
        % {"version": current.version},
    )
    return _page(request, current, form, status=409)
