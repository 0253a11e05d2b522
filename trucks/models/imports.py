"""Trips imported from a spreadsheet (docs/architecture.md, "Bulk import"): the file as
uploaded, kept in the database so a worker on any machine reads it, and a row per line of it
with what it says, what is wrong with it and the trip it became."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trucks.models.companies import Company
from trucks.models.trips import Trip


class TripImport(models.Model):
    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        VALIDATED = "validated", _("Checked")
        REGISTERING = "registering", _("Registering")
        DONE = "done", pgettext_lazy("import status", "Done")
        FAILED = "failed", _("Failed")

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    file_name = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(_("content"))
    # The header as written in the file for each column's field: messages name it.
    headers = models.JSONField(_("headers"), default=dict)
    # The uploader's language: the worker writes its messages in it.
    language = models.CharField(_("language"), max_length=16)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALIDATING
    )
    # 0-100 through the current step (checking, then registering), written every chunk.
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    valid = models.PositiveIntegerField(_("valid"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    registered = models.PositiveIntegerField(_("registered"), default=0)
    already_registered = models.PositiveIntegerField(_("already registered"), default=0)
    # Why it failed, in the uploader's language.
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Written with each chunk a worker finishes: the sweep takes an import in flight whose
    # worker has written nothing for a while as lost.
    touched_at = models.DateTimeField(_("last progress"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("trip import")
        verbose_name_plural = _("trip imports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="tripimport_company_idx"),
            models.Index(fields=["status", "touched_at"], name="tripimport_sweep_idx"),
        ]

    def __str__(self) -> str:
        return self.file_name


class TripImportRow(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Not checked yet")
        VALID = "valid", _("Valid")
        INVALID = "invalid", _("Has errors")
        ALREADY = "already", _("Already registered")
        REGISTERED = "registered", _("Registered")

    trip_import = models.ForeignKey(
        TripImport, verbose_name=_("import"), on_delete=models.CASCADE, related_name="lines"
    )
    # The spreadsheet's row number (the header is row 1).
    number = models.PositiveIntegerField(_("row"))
    # The cells as read (API field name -> text), and the API-shaped trip built from them.
    cells = models.JSONField(_("cells"), default=dict)
    data = models.JSONField(_("data"), default=dict)
    key = models.CharField(_("key"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # [[field, message], ...]: the field names the column ("" for none).
    errors = models.JSONField(_("errors"), default=list)
    trip = models.ForeignKey(
        Trip,
        verbose_name=_("trip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        ordering = ["trip_import", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["trip_import", "number"], name="tripimportrow_unique_number"
            )
        ]
        indexes = [
            models.Index(fields=["trip_import", "status", "number"], name="tripimportrow_idx")
        ]

    def __str__(self) -> str:
        return f"{self.trip_import_id}:{self.number}"
