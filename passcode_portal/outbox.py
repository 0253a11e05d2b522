"""The outbox that notifications and hand-over deliveries share: rows are written first, in the
same transaction as the change they report, and sent by workers afterwards. A row is sent once:
a worker claims it (pending -> sending) before sending, and its dedupe key makes the same
message impossible to queue twice. Rows stuck in "sending" after a crash are reclaimed by a
periodic sweep.

``Outbox`` is the mechanism, one for both tables (``notifications.sending`` and
``handover.delivery`` are its users; each says what it sends and how):

- the claim: one statement that turns up to ``batch`` due rows (pending, next attempt now or
  earlier) into "sending", stamped with the claim time, their attempt counted;
- the compare-and-set: every later change to a claimed row (sent, failed, back to pending)
  applies only while the row is still "sending" under the same ``claimed_at``, so a worker
  presumed dead, whose rows were reclaimed, cannot overwrite what the new claimant recorded;
- backoff: the wait after a failed attempt doubles from ``backoff_first`` up to ``backoff_max``;
  after the table's maximum attempts (a setting) the row is failed for good;
- release: claimed rows not tried go back at once, their attempt not counted;
- reclaim: rows stuck in "sending" longer than ``reclaim_after`` (their worker died) go back to
  pending, or fail if they have used all their attempts.

- sending again: an official puts rows back in the queue with a fresh set of attempts, each
  audited (``SentAgain``).

Both tables have the columns this needs under the same names (status, attempts, last_error,
next_attempt_at, claimed_at); the time a row was sent is the one that differs (``done_field``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from passcode_portal.rows import named_rows

logger = logging.getLogger(__name__)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class SentAgain(models.Model):
    """A person's "send again" of one outbox row, and the state it was taken from. Outbox rows
    are written in bulk and moved by compare-and-set updates, so they keep no history of their
    own: this is the audit of what someone did to one. Each table has its own, whose foreign
    key to the row is named by ``row_field``. It holds no recipient and no payload, so the
    retention of personal data has nothing to clear here."""

    row_field: ClassVar[str]

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent again by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("sent again at"), default=timezone.now)
    status_before = models.CharField(_("status"), max_length=8, choices=OutboxStatus.choices)
    attempts_before = models.PositiveSmallIntegerField(_("attempts"))

    class Meta:
        abstract = True


# Far beyond the time one batch takes (an outbound request is bounded by its timeout, a task's
# hard limit is 5 minutes), so a row is only reclaimed from a worker that is gone.
RECLAIM_AFTER = timedelta(minutes=10)
STOPPED_WHILE_SENDING = "the sender stopped while sending, on every attempt"


class _Claimed(Protocol):
    """What the mechanism reads on a row it claimed."""

    pk: Any
    attempts: int
    claimed_at: datetime | None


Row = TypeVar("Row", bound=models.Model)


@dataclass(frozen=True)
class Outbox(Generic[Row]):
    """One outbox table and how it is retried. Settings are named, not read here, so a changed
    setting (a test, a fixed configuration) is seen at the next call."""

    model: type[Row]
    # The column stamped when the row was sent ("sent_at", "delivered_at").
    done_field: str
    # Settings: attempts before a row fails for good, and rows claimed per statement.
    max_attempts_setting: str
    batch_setting: str
    backoff_first: timedelta
    backoff_max: timedelta
    reclaim_after: timedelta = RECLAIM_AFTER
    # Relations read with the claimed rows (a delivery's subscription).
    select_related: Sequence[str] = ()
    # What the rows are, for the log ("notifications", "webhook deliveries").
    label: str = "rows"

    @property
    def max_attempts(self) -> int:
        return int(getattr(settings, self.max_attempts_setting))

    @property
    def error_length(self) -> int:
        field = self.model._meta.get_field("last_error")
        return getattr(field, "max_length", None) or 500

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: ``backoff_first``, doubling, up to
        ``backoff_max``."""
        return min(self.backoff_first * 2 ** max(attempts - 1, 0), self.backoff_max)

    # -----------------------------------------------------------------------------------------
    # The claim

    def claim_sql(self, vendor: str) -> str:
        """The claim as one statement, with named parameters pending, sending, now, batch."""
        qn = connection.ops.quote_name
        meta = self.model._meta

        def column(field: object) -> str:
            assert isinstance(field, models.Field) and field.column
            return qn(field.column)

        table = qn(meta.db_table)
        row_id = column(meta.pk)
        status, attempts = column(meta.get_field("status")), column(meta.get_field("attempts"))
        due_at = column(meta.get_field("next_attempt_at"))
        claimed_at = column(meta.get_field("claimed_at"))
        due = (
            f"SELECT {row_id} FROM {table} "  # noqa: S608 -- names from the model; values are parameters
            f"WHERE {status} = %(pending)s AND {due_at} <= %(now)s "
            f"ORDER BY {due_at} LIMIT %(batch)s"
        )
        claim = (
            f"UPDATE {table} SET {status} = %(sending)s, {claimed_at} = %(now)s, "  # noqa: S608 -- as above
            f"{attempts} = {attempts} + 1"
        )
        if vendor == "postgresql":
            # Rows another worker is claiming right now are skipped, not waited for, so workers
            # racing for the same rows each take different ones. The due rows are chosen once,
            # in a materialised CTE: written as "id IN (subquery ... LIMIT n FOR UPDATE SKIP
            # LOCKED)", the planner may put the subquery on the inner side of a nested loop
            # (it does when the table's statistics say few rows are pending, as after a quiet
            # spell) and run it again for each row; every run skips the rows this statement
            # has already claimed and locks up to another n, so one claim takes far more than
            # its batch. A CTE scan is read from its one run, however often it is rescanned.
            return (
                f"WITH due AS MATERIALIZED ({due} FOR UPDATE SKIP LOCKED) "
                f"{claim} FROM due WHERE {table}.{row_id} = due.{row_id} "
                f"AND {table}.{status} = %(pending)s RETURNING {table}.{row_id} AS claimed_id"
            )
        # SQLite has no row locks: one statement runs under the database's write lock, so it is
        # exclusive by itself, and an uncorrelated IN (subquery) is evaluated once.
        return f"{claim} WHERE {row_id} IN ({due}) RETURNING {row_id} AS claimed_id"

    def claim(self, batch: int | None = None) -> list[Row]:
        """Claim up to ``batch`` (default: the batch setting) due rows for this worker, in one
        statement, then read them in one query (through the ORM, which converts JSON and times
        the same way on every database), oldest due first."""
        batch = batch or int(getattr(settings, self.batch_setting))
        now = timezone.now()
        params = {
            "pending": OutboxStatus.PENDING.value,
            "sending": OutboxStatus.SENDING.value,
            # A raw statement gets no field adaptation: adapt the time as the ORM stores it (on
            # SQLite, text in UTC without an offset, which is compared as text).
            "now": connection.ops.adapt_datetimefield_value(now),
            "batch": batch,
        }
        # One transaction for the claim and the read: if the read fails (a lock time-out, a lost
        # connection), the claim is undone rather than left "sending" until the sweep.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute(self.claim_sql(connection.vendor), params)
            ids = [row.claimed_id for row in named_rows(cursor)]
            if not ids:
                return []
            # Only this claim's rows: a row reclaimed and claimed by another worker in between
            # (it would take minutes) carries another claim time.
            rows = self.model._default_manager.filter(
                pk__in=ids, status=OutboxStatus.SENDING, claimed_at=now
            )
            if self.select_related:
                rows = rows.select_related(*self.select_related)
            return list(rows.order_by("next_attempt_at", "pk"))

    # -----------------------------------------------------------------------------------------
    # After the attempt: compare-and-set on the claim

    def claim_of(self, row: Row) -> Q:
        """The row as this worker claimed it: still "sending" under the same claim."""
        claimed = cast(_Claimed, row)
        return Q(pk=claimed.pk, status=OutboxStatus.SENDING, claimed_at=claimed.claimed_at)

    def _set(self, row: Row, changes: dict[str, Any]) -> bool:
        return bool(self.model._default_manager.filter(self.claim_of(row)).update(**changes))

    def record_sent(self, row: Row, **changes: Any) -> bool:
        """Mark a claimed row sent (and ``changes``), if the claim is still ours."""
        return self._set(
            row, {"status": OutboxStatus.SENT, self.done_field: timezone.now(), **changes}
        )

    def record_failure(self, row: Row, error: str, *, final: bool = False, **changes: Any) -> bool:
        """Record a failed attempt on a claimed row, if the claim is still ours: back to pending
        after ``backoff``, or failed for good when ``final`` or when the row has used all its
        attempts. ``error`` is cut to fit ``last_error``."""
        attempts = cast(_Claimed, row).attempts
        changes["last_error"] = error[: self.error_length]
        if final or attempts >= self.max_attempts:
            changes["status"] = OutboxStatus.FAILED
        else:
            changes["status"] = OutboxStatus.PENDING
            changes["next_attempt_at"] = timezone.now() + self.backoff(attempts)
        return self._set(row, changes)

    def release(self, rows: Iterable[Row]) -> int:
        """Give claimed rows that were not tried back to the queue at once, their attempt not
        counted (a task stopped in the middle of a batch)."""
        claimed = [cast(_Claimed, row) for row in rows]
        if not claimed:
            return 0
        return self.model._default_manager.filter(
            pk__in=[r.pk for r in claimed],
            status=OutboxStatus.SENDING,
            claimed_at__in={r.claimed_at for r in claimed},
        ).update(status=OutboxStatus.PENDING, attempts=F("attempts") - 1, claimed_at=None)

    def send_again(
        self,
        ids: Iterable[int],
        *,
        statuses: Sequence[str],
        audit: type[SentAgain],
        actor: Any = None,
        **changes: Any,
    ) -> int:
        """Put the rows among ``ids`` whose status is one of ``statuses`` back in the queue, due
        now, with a fresh set of attempts (and ``changes``); each is audited as an ``audit`` row
        naming ``actor`` and the status and attempts it had. Returns how many were queued.

        The rows are locked first, so the status audited is the one replaced: the claim skips
        locked rows, and a row it claimed first is "sending" by then, which callers leave out
        of ``statuses``."""
        manager = self.model._default_manager
        with transaction.atomic():
            before = list(
                manager.select_for_update()
                .filter(pk__in=list(ids), status__in=statuses)
                .order_by("pk")
                .values_list("pk", "status", "attempts")
            )
            if not before:
                return 0
            queued = manager.filter(
                pk__in=[pk for pk, _status, _attempts in before], status__in=statuses
            ).update(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), **changes
            )
            audit._default_manager.bulk_create(
                [
                    audit(
                        **{f"{audit.row_field}_id": pk},
                        by=actor,
                        status_before=status,
                        attempts_before=attempts,
                    )
                    for pk, status, attempts in before
                ],
                batch_size=1000,
            )
        return queued

    # -----------------------------------------------------------------------------------------
    # The loop and the sweep

    def send_due(
        self,
        send: Callable[[Row], bool],
        *,
        batch: int | None = None,
        deadline: datetime | None = None,
    ) -> int:
        """Claim and ``send`` due rows, batch after batch, until none is due or ``deadline``
        passes; the rows of a batch not tried by the deadline go back at once. ``send`` records
        the outcome on the row and returns whether it was sent. Returns how many were sent."""
        sent = 0
        while deadline is None or timezone.now() < deadline:
            rows = self.claim(batch)
            if not rows:
                break
            for i, row in enumerate(rows):
                if deadline is not None and timezone.now() >= deadline:
                    self.release(rows[i:])
                    return sent
                try:
                    sent += send(row)
                except BaseException:
                    # Stopped mid-batch (time limit, shutdown, database gone): the rows not yet
                    # tried go back now instead of waiting for the sweep; the row being sent
                    # stays claimed (it may have gone out) until the sweep reclaims it.
                    try:
                        self.release(rows[i + 1 :])
                    except Exception:
                        logger.warning("Could not release claimed %s", self.label, exc_info=True)
                    raise
        return sent

    def reclaim(self, older_than: timedelta | None = None) -> int:
        """Put rows stuck in "sending" (their worker died) back to pending, due now; a row that
        has used all its attempts fails instead, so a row that kills its worker is not retried
        forever. Two statements, whatever the count. Returns how many were put back."""
        now = timezone.now()
        stuck = self.model._default_manager.filter(
            status=OutboxStatus.SENDING,
            claimed_at__lt=now - (self.reclaim_after if older_than is None else older_than),
        )
        stuck.filter(attempts__gte=self.max_attempts).update(
            status=OutboxStatus.FAILED, last_error=STOPPED_WHILE_SENDING
        )
        return stuck.update(status=OutboxStatus.PENDING, next_attempt_at=now, claimed_at=None)
