"""The officials' pages of hand-over webhooks (docs/webhooks.md), in place of the admin: the
subscriptions with how their deliveries stand; each created (its signing secret shown once),
changed and removed through ``handover.subscriptions``, so the URL checks the API applies apply
here too; one subscription's delivery log, filtered and a page at a time, with "deliver again"
for one delivery or every failed one; and the history of every change, who made it and when."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from dashboards import history
from dashboards.forms import SubscriptionForm
from dashboards.views import official_only, query_without_page
from handover import subscriptions
from handover.models import WebhookEvent, WebhookRetry, WebhookSubscription
from passcode_portal.errors import DomainError, NotFound
from passcode_portal.outbox import OutboxStatus
from trucks.forms.common import apply_domain_errors

ROWS_PER_PAGE = 50
FIELDS = subscriptions.SUBSCRIPTION_FIELDS


def _official(request: HttpRequest) -> User:
    official_only(request)
    user = request.user
    assert isinstance(user, User)  # signed in (login_required) and an official
    return user


def _subscription(actor: User, pk: int) -> WebhookSubscription:
    try:
        return subscriptions.subscription_get(user=actor, subscription_id=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def _saved(form: SubscriptionForm, save: Any) -> tuple[WebhookSubscription | None, int]:
    """``save(values)`` once the form reads; the subscription, or None and the status of the
    refusal, its messages put on the form's fields. Nothing is saved on a refusal."""
    if not form.is_valid():
        return None, 400
    try:
        return save(form.values()), 200
    except DomainError as exc:
        apply_domain_errors(form, exc.fields)
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return None, exc.status


# ---------------------------------------------------------------------------------------------
# The subscriptions


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    actor = _official(request)
    form = SubscriptionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        created, status = _saved(
            form, lambda values: subscriptions.subscription_create(actor=actor, **values)
        )
        if created is not None:
            return _created(request, created)
    rows = subscriptions.subscriptions_overview(user=actor)
    return render(
        request,
        "dashboards/webhooks.html",
        {"subscriptions": rows, "form": form, "changes": _all_changes()},
        status=status,
    )


def _created(request: HttpRequest, subscription: WebhookSubscription) -> HttpResponse:
    """The one answer that shows the signing secret. It is not kept anywhere to be shown again
    (no session, no message), and the answer is not cached, so going back does not show it."""
    response = render(
        request, "dashboards/webhook_created.html", {"subscription": subscription}, status=201
    )
    add_never_cache_headers(response)
    return response


def _all_changes() -> list[history.Change]:
    """The newest changes of every subscription, those removed included; each read against the
    whole history of its subscription, so the oldest shown still has its "before"."""
    recent = WebhookSubscription.history.order_by("-history_date", "-history_id")
    ids = set(recent.values_list("id", flat=True)[: history.HISTORY_ROWS])
    records = recent.filter(id__in=ids).select_related("history_user")
    return history.changes(records, fields=FIELDS, subject=lambda r: r.name)[: history.HISTORY_ROWS]


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation first: removing a subscription removes its delivery log too."""
    actor = _official(request)
    subscription = _subscription(actor, pk)
    if request.method == "POST":
        subscriptions.subscription_delete(actor=actor, subscription=subscription)
        messages.success(
            request, _("The subscription %(name)s is removed.") % {"name": subscription.name}
        )
        return redirect("dashboards:webhooks")
    deliveries = subscription.deliveries.count()
    return render(
        request,
        "dashboards/webhook_delete.html",
        {"subscription": subscription, "deliveries": deliveries},
    )


# ---------------------------------------------------------------------------------------------
# One subscription: its settings, delivery log and history


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _official(request)
    subscription = _subscription(actor, pk)
    form = SubscriptionForm.of(subscription)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "update":
            form = SubscriptionForm(request.POST)
            saved, status = _saved(
                form,
                lambda values: subscriptions.subscription_update(
                    actor=actor, subscription=subscription, changes=values
                ),
            )
            if saved is not None:
                messages.success(request, _("The subscription is saved."))
                return redirect(request.get_full_path())
        elif action in ("retry", "retry_failed"):
            status = _retry(request, actor, subscription, action)
            if status == 200:
                return redirect(request.get_full_path())
        else:
            messages.error(request, _("Choose what to do."))
            status = 400
    return _detail_page(request, actor, subscription, form, status)


def _retry(
    request: HttpRequest, actor: User, subscription: WebhookSubscription, action: str
) -> int:
    """Deliver one delivery, or every failed one, again; the sender is asked once it commits
    (``handover.subscriptions.deliveries_retry``). The status of the answer."""
    if action == "retry_failed":
        count = subscriptions.deliveries_retry_failed(actor=actor, subscription=subscription)
        messages.success(
            request,
            ngettext(
                "%(count)d delivery queued again.", "%(count)d deliveries queued again.", count
            )
            % {"count": count},
        )
        return 200
    pk = request.POST.get("delivery", "")
    try:
        if not pk.isdigit():
            raise NotFound("not_found", _("No such delivery."))
        delivery = subscriptions.delivery_get(
            user=actor, subscription=subscription, delivery_id=int(pk)
        )
        subscriptions.delivery_retry(actor=actor, delivery=delivery)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return exc.status
    messages.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.pk})
    return 200


def _detail_page(
    request: HttpRequest,
    actor: User,
    subscription: WebhookSubscription,
    form: SubscriptionForm,
    status: int,
) -> HttpResponse:
    chosen = {
        "status": request.GET.get("status", "")
        if request.GET.get("status") in OutboxStatus.values
        else "",
        "event": request.GET.get("event", "")
        if request.GET.get("event") in WebhookEvent.values
        else "",
    }
    deliveries = subscriptions.deliveries_list(
        user=actor, subscription=subscription, status=chosen["status"], event=chosen["event"]
    )
    page = Paginator(deliveries, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    failed = subscription.deliveries.filter(status=OutboxStatus.FAILED).count()
    return render(
        request,
        "dashboards/webhook.html",
        {
            "subscription": subscription,
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "chosen": chosen,
            "statuses": OutboxStatus.choices,
            "events": WebhookEvent.choices,
            "failed": failed,
            "changes": _changes(actor, subscription),
            "here": reverse("dashboards:webhook", args=[subscription.pk]),
        },
        status=status,
    )


def _changes(actor: User, subscription: WebhookSubscription) -> list[history.Change]:
    """The subscription's changes and its deliveries sent again, newest first."""
    records = WebhookSubscription.history.filter(id=subscription.pk).select_related("history_user")
    shown = history.changes(records, fields=FIELDS, subject=lambda r: r.name)
    retries = subscriptions.retries_list(user=actor, subscription=subscription)
    shown += [_retried(retry) for retry in retries[: history.HISTORY_ROWS]]
    shown.sort(key=lambda change: change.when, reverse=True)
    return shown[: history.HISTORY_ROWS]


def _retried(retry: WebhookRetry) -> history.Change:
    delivery = retry.delivery
    trip = delivery.trip.reference if delivery.trip is not None else "—"
    return history.sent_again(
        retry,
        subject=_("Delivered again: %(event)s · %(trip)s (no. %(id)s)")
        % {"event": delivery.get_event_display(), "trip": trip, "id": delivery.pk},
    )
