"""The outbox that notifications and hand-over deliveries share: rows are written first, in the
same transaction as the change they report, and sent by workers afterwards. A row is sent once:
a worker claims it (pending -> sending) before sending, and its dedupe key makes the same
message impossible to queue twice. Rows stuck in "sending" after a crash are reclaimed by a
periodic sweep."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
