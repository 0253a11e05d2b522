"""Importing a file of trips (docs/architecture.md, "Bulk import"): upload, check each row as
``POST /api/v1/trips/`` would (its input serializer, then ``trip_validate``), report faults
within the file, and on confirmation register the valid rows, each through ``trip_register``
in a savepoint of its own.

Both steps run in workers (``trucks.tasks``), enqueued once the step's status commits
(``signals.trip_import_queued``). A step is taken by a compare-and-set on the import's status
and goes through the rows in chunks, each chunk's rows taken FOR UPDATE SKIP LOCKED and left in
their new state when it commits: a task delivered twice, or requeued by the sweep while a slow
worker still runs, resumes with the rows left and never does one twice. A row's key (``rows
.row_key``) is written on its trip, and the database holds one trip per key and company.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from trucks import signals
from trucks.importing import reading
from trucks.importing.rows import api_data, row_key, text
from trucks.models import Company, Trip, TripImport, TripImportRow
from trucks.selectors import AnyUser, company_of, consignees_list
from trucks.serializers.trips import TripInputSerializer
from trucks.services.facts import TripFacts
from trucks.services.import_checks import (
    mark_within_file,
    row_faults,
    row_faults_of_error,
    rows_saved,
    trip_data_of,
)
from trucks.services.registration import trip_register

logger = logging.getLogger(__name__)

Status = TripImport.Status
RowStatus = TripImportRow.Status
# Rows per transaction: progress is written, and visible, once per chunk.
CHECK_CHUNK = 500
REGISTER_CHUNK = 200
# A step in flight whose worker wrote nothing for this long lost its task or worker.
STUCK_AFTER = timedelta(minutes=10)


def importing_company(actor: AnyUser) -> Company:
    """The company whose trips ``actor`` imports: only a company's dispatchers import (the API,
    the pages and the upload ask here)."""
    company = company_of(actor)
    if company is None:
        raise PermissionDenied("not_a_dispatcher", _("Only company dispatchers import trips."))
    return company


def trip_import_upload(*, actor: User, file_name: str, content: bytes) -> TripImport:
    """Read the file (refused with a 400 on ``file`` if it is no file of trips) and queue it
    to be checked."""
    company = importing_company(actor)
    sheet = reading.sheet_read(content)
    trip_import = TripImport(
        company=company,
        created_by=actor,
        file_name=file_name[:200],
        content=content,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        rows=len(sheet.rows),
        headers=sheet.header_of,
    )
    with transaction.atomic():
        trip_import.save()
        signals.trip_import_queued.send(sender=TripImport, trip_import=trip_import)
    return trip_import


def trip_import_confirm(*, trip_import: TripImport) -> TripImport:
    """Register the valid rows. Confirming again while they are registered, or after, changes
    nothing; before the check is done, or after it failed, 409."""
    with transaction.atomic():
        taken = TripImport.objects.filter(pk=trip_import.pk, status=Status.VALIDATED).update(
            status=Status.REGISTERING, progress=0, touched_at=timezone.now()
        )
        trip_import.refresh_from_db()
        if taken:
            signals.trip_import_queued.send(sender=TripImport, trip_import=trip_import)
    if trip_import.status not in (Status.REGISTERING, Status.DONE):
        raise DomainError(
            "not_validated",
            _("This import can be confirmed once its rows are checked, and not if it failed."),
            status=409,
        )
    return trip_import


def _claimed(import_id: int, status: str) -> TripImport | None:
    """The import if it is at ``status`` (a compare-and-set that also stamps it as alive)."""
    if not TripImport.objects.filter(pk=import_id, status=status).update(touched_at=timezone.now()):
        return None
    return TripImport.objects.select_related("created_by", "company").get(pk=import_id)


def _chunks(trip_import: TripImport, status: str, size: int) -> Iterator[list[TripImportRow]]:
    """The rows at ``status``, a chunk per transaction, each row locked for it (and skipped by
    another worker on the same import)."""
    while True:
        with transaction.atomic():
            rows = list(
                TripImportRow.objects.select_for_update(skip_locked=True)
                .filter(trip_import=trip_import, status=status)
                .order_by("number")[:size]
            )
            if not rows:
                return
            yield rows


def _failed(trip_import: TripImport, exc: Exception) -> TripImport:
    logger.exception("Trip import %s failed.", trip_import.pk)
    message = _("The import stopped on an error; upload the file again.")
    if isinstance(exc, DomainError):
        message = str(exc.message)
    TripImport.objects.filter(pk=trip_import.pk).update(
        status=Status.FAILED, message=message[:500], finished_at=timezone.now()
    )
    trip_import.refresh_from_db()
    return trip_import


def _step(import_id: int, status: str, work: Callable[[TripImport], None]) -> TripImport | None:
    """Do a step of an import at ``status``, in its uploader's language; an error the user
    cannot act on fails the import with a message, a database away is retried by the task."""
    trip_import = _claimed(import_id, status)
    if trip_import is None:
        return None
    with translation.override(trip_import.language):
        try:
            work(trip_import)
        except OperationalError:
            raise  # the task's retry goes on where this stopped
        except Exception as exc:
            return _failed(trip_import, exc)
    trip_import.refresh_from_db()
    return trip_import


def trip_import_validate(*, import_id: int) -> TripImport | None:
    return _step(import_id, Status.VALIDATING, _check)


def _check(trip_import: TripImport) -> None:
    if not TripImportRow.objects.filter(trip_import=trip_import).exists():
        _rows_written(trip_import)
    actor = trip_import.created_by
    plates = TripImportRow.objects.filter(trip_import=trip_import).values_list(
        "data__vehicle_plate", flat=True
    )
    facts = TripFacts.for_file(plates=[str(p or "") for p in plates])
    keys = TripImportRow.objects.filter(trip_import=trip_import).values_list("key", flat=True)
    # A row an earlier upload registered is not checked again: its vehicle is booked by it.
    done_before = set(
        Trip.objects.filter(company_id=trip_import.company_id, import_key__in=keys).values_list(
            "import_key", flat=True
        )
    )
    serializer = TripInputSerializer()
    for rows in _chunks(trip_import, RowStatus.PENDING, CHECK_CHUNK):
        for row in rows:
            if row.key in done_before:
                row.status = RowStatus.ALREADY
                continue
            row.errors = [list(e) for e in row.errors] + row_faults(actor, row, facts, serializer)
            row.status = RowStatus.INVALID if row.errors else RowStatus.VALID
        rows_saved(rows)
        done = TripImportRow.objects.filter(trip_import=trip_import).exclude(
            status=RowStatus.PENDING
        )
        _progress(trip_import, done.count(), trip_import.rows)
    with transaction.atomic():
        mark_within_file(trip_import)
        _finish(trip_import, Status.VALIDATING, Status.VALIDATED)


@transaction.atomic
def _rows_written(trip_import: TripImport) -> None:
    """The file's rows, as the API's input with their keys, and what reading found wrong: all
    of them or none, since their presence tells a second delivery to go on from them."""
    sheet = reading.sheet_read(bytes(trip_import.content))
    consignees = {c.name: c.pk for c in consignees_list()}
    rows = []
    for number, cells in sheet.rows:
        data, faults = api_data(cells, consignees)
        shown = {field: text(value) for field, value in cells.items() if text(value)}
        rows.append(
            TripImportRow(
                trip_import=trip_import,
                number=number,
                cells=shown,
                data=data,
                key=row_key(trip_import.company_id, data),
                errors=[list(f) for f in faults],
            )
        )
    TripImportRow.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    TripImport.objects.filter(pk=trip_import.pk).update(rows=len(rows), headers=sheet.header_of)


def _progress(trip_import: TripImport, done: int, total: int) -> None:
    percent = 100 if total <= 0 else min(99, done * 100 // total)
    TripImport.objects.filter(pk=trip_import.pk).update(progress=percent, touched_at=timezone.now())


def _counts() -> dict[str, Any]:
    return {
        name: Count("pk", filter=Q(status=status))
        for name, status in (
            ("valid", RowStatus.VALID),
            ("invalid", RowStatus.INVALID),
            ("registered", RowStatus.REGISTERED),
            ("already_registered", RowStatus.ALREADY),
        )
    }


def _finish(trip_import: TripImport, was: str, now_status: str) -> None:
    counts = TripImportRow.objects.filter(trip_import=trip_import).aggregate(**_counts())
    if now_status == Status.DONE:
        del counts["valid"]  # what the check found valid stays said; those rows are trips now
    TripImport.objects.filter(pk=trip_import.pk, status=was).update(
        status=now_status,
        progress=100,
        touched_at=timezone.now(),
        finished_at=timezone.now() if now_status == Status.DONE else None,
        **counts,
    )


def trip_import_register(*, import_id: int) -> TripImport | None:
    return _step(import_id, Status.REGISTERING, _register)


def _register(trip_import: TripImport) -> None:
    actor = trip_import.created_by
    rows = TripImportRow.objects.filter(trip_import=trip_import)
    plates = rows.filter(status=RowStatus.VALID).values_list("data__vehicle_plate", flat=True)
    facts = TripFacts.for_file(plates=[str(p or "") for p in plates])
    total = max(trip_import.valid, 1)
    serializer = TripInputSerializer()
    for chunk in _chunks(trip_import, RowStatus.VALID, REGISTER_CHUNK):
        for row in chunk:
            _register_row(actor, trip_import, row, facts, serializer)
        rows_saved(chunk)
        left = rows.filter(status=RowStatus.VALID).count()
        _progress(trip_import, total - left, total)
    _finish(trip_import, Status.REGISTERING, Status.DONE)


def _register_row(
    actor: User,
    trip_import: TripImport,
    row: TripImportRow,
    facts: TripFacts,
    serializer: TripInputSerializer,
) -> None:
    """One row, in a savepoint (``trip_register``'s atomic block, within the chunk's
    transaction): a row refused now (the vehicle booked meanwhile) is reported like a fault
    found in the check, and the others go on."""
    try:
        data = trip_data_of(row.data, serializer)
        row.trip = trip_register(actor=actor, data=data, facts=facts, import_key=row.key)
        row.status = RowStatus.REGISTERED
        return
    except IntegrityError:
        pass  # another import of the same row registered it first (the key's constraint)
    except DomainError as exc:
        if not _key_registered(trip_import, row.key):
            row.status = RowStatus.INVALID
            row.errors = row_faults_of_error(exc, row)
            return
    row.status = RowStatus.ALREADY


def _key_registered(trip_import: TripImport, key: str) -> bool:
    return Trip.objects.filter(company_id=trip_import.company_id, import_key=key).exists()


def trip_imports_sweep(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Imports in flight whose worker has written nothing for ``STUCK_AFTER``, as (id, status),
    stamped so the next sweep leaves them alone for as long: their task is queued again, and
    goes on with the rows left."""
    now = now or timezone.now()
    stuck = list(
        TripImport.objects.filter(
            status__in=[Status.VALIDATING, Status.REGISTERING], touched_at__lt=now - STUCK_AFTER
        ).values_list("pk", "status")
    )
    TripImport.objects.filter(pk__in=[pk for pk, _status in stuck]).update(touched_at=now)
    return stuck
