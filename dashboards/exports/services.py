"""Exports for officials: what may be exported (``export_spec``, the same checks for the page and
the API), a small export streamed at once (``export_stream``), a large one queued for a worker
(``export_queue``) which builds its file with its progress (``export_build``), and the sweep
that deletes files past their time and mends work a lost task or worker left behind
(``exports_sweep``)."""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from checkpoints.selectors import checkpoint_by_code
from dashboards import signals
from dashboards.exports import files
from dashboards.exports.columns import TABLES, Table, Value
from dashboards.models import Export
from dashboards.periods import MAX_DAYS, Period, period_of
from passcode_portal.errors import DomainError, NotFound
from places.models import Checkpoint

logger = logging.getLogger(__name__)

# A queued export no worker has taken after this long lost its task (the broker was down).
LOST_AFTER = timedelta(minutes=10)
# Seconds a build may take: a year of scans as CSV, or a full Excel sheet (about 160 s per
# million rows here), with room to spare. A build still running well past it lost its worker.
BUILD_TIME_LIMIT = 3600


@dataclass(frozen=True)
class ExportSpec:
    kind: str
    format: str
    period: Period
    checkpoint: Checkpoint | None
    rows: int

    @property
    def table(self) -> Table:
        return TABLES[self.kind]

    def file_name(self) -> str:
        return download_name(
            self.kind, self.format, self.period.first, self.period.last, self.checkpoint
        )


def download_name(
    kind: str, format: str, first: date, last: date, checkpoint: Checkpoint | None
) -> str:
    """The name the official's browser saves the file as: what, when, where."""
    site = f"-{checkpoint.code}" if checkpoint is not None else ""
    return f"{kind}-{first}-{last}{site}.{format}"


def _refuse(field: str, message: str, code: str = "invalid", **extra: Any) -> DomainError:
    return DomainError(code, message, status=400, fields={field: [message]}, extra=extra)


def export_spec(
    *, kind: str, format: str, first: str | None, last: str | None, checkpoint: str | None
) -> ExportSpec:
    """What was asked, checked, with the number of rows it holds now; a ``DomainError`` (400)
    naming the field at fault otherwise."""
    if kind not in Export.Kind.values:
        raise _refuse("kind", _("Choose trips or scans."))
    if format not in Export.Format.values:
        raise _refuse("format", _("Choose CSV or Excel."))
    for field, value in (("from", first), ("to", last)):
        if not value:
            raise _refuse(field, _("Give the date as YYYY-MM-DD."))
    period = period_of(
        first,
        last,
        too_long=_("An export covers at most %(days)d days: export a longer period in parts.")
        % {"days": MAX_DAYS},
    )
    site = None
    if checkpoint:
        try:
            site = checkpoint_by_code(checkpoint)
        except NotFound:
            raise _refuse("checkpoint", _("No such checkpoint.")) from None
    rows = TABLES[kind].count(period, site)
    if format == Export.Format.XLSX and not files.fits_in_excel(rows):
        message = _(
            "This export has %(rows)s rows, more than an Excel sheet holds (1,048,576 with the "
            "header). Choose CSV, or a shorter period."
        ) % {"rows": f"{rows:,}"}
        raise _refuse("format", message, code="too_many_rows", rows=rows)
    return ExportSpec(kind, format, period, site, rows)


def is_immediate(spec: ExportSpec) -> bool:
    return spec.rows <= settings.EXPORTS_IMMEDIATE_MAX_ROWS


def _title(kind: str) -> str:
    return str(Export.Kind(kind).label)


def export_stream(*, actor: User, spec: ExportSpec) -> tuple[Iterable[bytes], IO[bytes] | None]:
    """A small export as it is read: CSV in chunks, the first at once; Excel built in a
    temporary file (a zip cannot be sent before it is whole), which the caller sends and
    closes. Nothing is kept; the log says who took what."""
    logger.info(
        "Export of %d %s (%s, %s to %s) downloaded by %s.",
        spec.rows,
        spec.kind,
        spec.format,
        spec.period.first,
        spec.period.last,
        actor.get_username(),
    )
    language = translation.get_language()
    if spec.format == Export.Format.XLSX:
        out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
        rows = spec.table.rows(spec.period, spec.checkpoint)
        files.write_xlsx(out, _title(spec.kind), spec.table.headers(), rows)
        out.seek(0)
        return out, out

    def chunks() -> Iterator[bytes]:
        # The response is read after the view returns: the requester's language is set again.
        with translation.override(language):
            rows = spec.table.rows(spec.period, spec.checkpoint)
            yield from files.csv_chunks(spec.table.headers(), rows)

    return chunks(), None


def export_queue(*, actor: User, spec: ExportSpec) -> Export:
    """An export for a worker to build, queued once the row commits
    (``dashboards.receivers``)."""
    export = Export(
        requester=actor,
        kind=spec.kind,
        format=spec.format,
        first_day=spec.period.first,
        last_day=spec.period.last,
        checkpoint=spec.checkpoint,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        rows_total=spec.rows,
    )
    export._history_user = actor  # type: ignore[attr-defined]
    with transaction.atomic():
        export.save()
        signals.export_queued.send(sender=Export, export=export)
    return export


def export_path(export: Export) -> Path:
    return Path(settings.EXPORTS_DIR) / export.file_name


def _progressing(rows: Iterable[list[Value]], export: Export) -> Iterator[list[Value]]:
    """The rows, the count written saved every chunk so the page and the API show it."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % 2000 == 0:
            Export.objects.filter(pk=export.pk).update(rows_done=done)
    export.rows_done = done


def _within_excel(rows: Iterable[list[Value]]) -> Iterator[list[Value]]:
    """Rows recorded since the export was asked for may take it past Excel's sheet."""
    for n, row in enumerate(rows, start=1):
        if not files.fits_in_excel(n):
            raise DomainError("too_many_rows", _("More rows than an Excel sheet holds: use CSV."))
        yield row


def export_build(*, export_id: int) -> Export | None:
    """Build the queued export's file. The export is claimed first (queued → running, a
    compare-and-set): a task delivered twice builds it once, and one that finds it built,
    being built or gone does nothing."""
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING, started_at=now, rows_done=0
    )
    if not claimed:
        return None
    export = Export.objects.select_related("checkpoint").get(pk=export_id)
    period = Period(export.first_day, export.last_day)
    table = TABLES[export.kind]
    export.file_name = f"{export.pk}-{uuid.uuid4().hex}.{export.format}"
    path = export_path(export)
    try:
        with translation.override(export.language):
            total = table.count(period, export.checkpoint)
            Export.objects.filter(pk=export.pk).update(rows_total=total, file_name=export.file_name)
            source = table.rows(period, export.checkpoint)
            rows: Iterable[list[Value]] = _progressing(source, export)
            if export.format == Export.Format.XLSX:
                rows = _within_excel(rows)
            try:
                files.write_file(path, export.format, _title(export.kind), table.headers(), rows)
            finally:
                source.close()  # the database cursor, at once, however the writing ended
    except OperationalError:
        # The database went away: queued again for the task's retry, the partial file gone.
        _remove(path)
        Export.objects.filter(pk=export.pk).update(status=Export.Status.QUEUED)
        raise
    except Exception as exc:
        _remove(path)
        if isinstance(exc, DomainError):
            logger.warning("Export %s refused: %s", export.pk, exc)
        else:
            logger.exception("Export %s failed.", export.pk)
        with translation.override(export.language):
            message = exc.message if isinstance(exc, DomainError) else _("The export failed.")
        return _finish(export, Export.Status.FAILED, error=str(message)[:500])
    return _finish(export, Export.Status.DONE)


def _finish(export: Export, status: str, *, error: str = "") -> Export:
    now = timezone.now()
    export.status = status
    export.finished_at = now
    export.error = error
    if status == Export.Status.DONE:
        export.rows_total = export.rows_done
        export.expires_at = now + timedelta(hours=settings.EXPORTS_KEEP_HOURS)
    else:
        export.file_name = ""
    export.save()
    return export


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".part")):
        candidate.unlink(missing_ok=True)


@dataclass(frozen=True)
class Swept:
    expired: int
    lost: list[int]
    failed: int


def exports_sweep(*, now: datetime | None = None) -> Swept:
    """Built files past their time are deleted and their exports marked expired; exports
    queued long ago that no worker took are named for queueing again (their task was lost);
    exports still building long after a task's time limit are marked failed (their worker
    died). A second run finds nothing left to do."""
    now = now or timezone.now()
    expired = list(Export.objects.filter(status=Export.Status.DONE, expires_at__lte=now))
    for export in expired:
        _remove(export_path(export))
        export.status = Export.Status.EXPIRED
        export.file_name = ""
    bulk_update_with_history(expired, Export, ["status", "file_name"], batch_size=500)
    lost = list(
        Export.objects.filter(
            status=Export.Status.QUEUED, created_at__lt=now - LOST_AFTER
        ).values_list("pk", flat=True)
    )
    limit = timedelta(seconds=BUILD_TIME_LIMIT) + LOST_AFTER
    stuck = list(Export.objects.filter(status=Export.Status.RUNNING, started_at__lt=now - limit))
    for export in stuck:
        if export.file_name:
            _remove(export_path(export))
        export.status = Export.Status.FAILED
        export.finished_at = now
        export.error = _("The worker stopped while building the export.")
    bulk_update_with_history(stuck, Export, ["status", "finished_at", "error"], batch_size=500)
    return Swept(expired=len(expired), lost=lost, failed=len(stuck))
