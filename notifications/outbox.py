"""Queueing notifications (the outbox). Rows are written in the caller's transaction; the
sender (``notifications.sending``) claims and sends them afterwards, once each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from notifications import signals
from notifications.models import Notification
from trucks.models import Driver, Trip


def notification(
    *,
    channel: str,
    recipient: str,
    template: str,
    dedupe_key: str,
    context: Mapping[str, Any] | None = None,
    language: str = "zh-hans",
    trip: Trip | None = None,
) -> Notification:
    """An unsaved outbox row; pass it (with others) to ``queue``."""
    return Notification(
        channel=channel,
        recipient=recipient,
        template=template,
        language=language,
        context=dict(context or {}),
        dedupe_key=dedupe_key[:200],
        trip=trip,
    )


def queue(rows: Iterable[Notification]) -> int:
    """Insert the rows in one statement; a row whose dedupe key is already queued is skipped
    by the database (so a message is queued once however often its cause is seen). Returns how
    many rows were offered."""
    rows = [r for r in rows if r.recipient]
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    if rows:
        signals.notifications_queued.send(sender=Notification, count=len(rows))
    return len(rows)


def for_driver(
    trip: Trip,
    *,
    template: str,
    key: str,
    context: Mapping[str, Any] | None = None,
    driver: Driver | None = None,
) -> list[Notification]:
    """The rows telling a trip's driver (or ``driver``, one who drove it before) something: an
    SMS to their phone, and an e-mail when they gave an address. ``key`` names the cause (e.g.
    "remind_window:<pass id>")."""
    driver = driver or trip.driver
    rows = [
        notification(
            channel=Notification.Channel.SMS,
            recipient=driver.phone,
            template=template,
            dedupe_key=f"{key}:sms",
            context=context,
            language=driver.language,
            trip=trip,
        )
    ]
    if driver.email:
        rows.append(
            notification(
                channel=Notification.Channel.EMAIL,
                recipient=driver.email,
                template=template,
                dedupe_key=f"{key}:email",
                context=context,
                language=driver.language,
                trip=trip,
            )
        )
    return rows


def for_company(
    trip: Trip,
    company_attr: str,
    *,
    template: str,
    key: str,
    context: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """The rows telling the trip's company (``company_attr="company"``) or its consignee
    (``"consignee"``) something, through its contact phone and e-mail."""
    company = getattr(trip, company_attr)
    if company is None:
        return []
    rows = [
        notification(
            channel=Notification.Channel.SMS,
            recipient=company.contact_phone,
            template=template,
            dedupe_key=f"{key}:{company_attr}:sms",
            context=context,
            language=company.language,
            trip=trip,
        )
    ]
    if company.contact_email:
        rows.append(
            notification(
                channel=Notification.Channel.EMAIL,
                recipient=company.contact_email,
                template=template,
                dedupe_key=f"{key}:{company_attr}:email",
                context=context,
                language=company.language,
                trip=trip,
            )
        )
    return rows
