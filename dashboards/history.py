"""The audit shown on the management pages: each change to a record, with who made it, when, and
each field before and after, read from the record's history (django-simple-history writes one row
per save, with the user who made it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.outbox import OutboxStatus, SentAgain

HISTORY_ROWS = 50


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    when: datetime
    who: str
    kind: str  # "+" created, "~" changed, "-" deleted (simple-history's history_type)
    subject: str
    fields: tuple[FieldChange, ...]
    reason: str


def shown(record: Any, name: str, show: Callable[[Any], str] | None = None) -> str:
    """A field's value as a reader sees it: the choice's label, not its code; a time in the
    city's zone to the minute; "—" for nothing; or as ``show`` words it."""
    field = record._meta.get_field(name)
    value = getattr(record, field.attname, None)
    if value in (None, "", []):
        return "—"
    if show is not None:
        return show(value) or "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def person(user: Any) -> str:
    """Who made a change, as the history names them; "the system" for no one."""
    return (user.get_full_name() or user.get_username()) if user else _("the system")


def label_of(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


def differences(
    before: Any | None,
    after: Any,
    fields: Sequence[str],
    *,
    model: type[models.Model] | None = None,
    created: bool = False,
    wording: Mapping[str, Callable[[Any], str]] | None = None,
) -> tuple[FieldChange, ...]:
    """The ``fields`` that differ between two states of one record (two rows of its history,
    or two versions of a versioned row), each before and after in words (``wording`` words the
    values of some fields: a list of codes as their labels). A creation (``created``, with
    nothing before) lists the fields it set."""
    model = model or type(after)
    wording = wording or {}
    out: list[FieldChange] = []
    for name in fields:
        show = wording.get(name)
        after_value = shown(after, name, show)
        before_value = shown(before, name, show) if before is not None else "—"
        if before is None and created and after_value == "—":
            continue
        if before_value != after_value or (before is None and created):
            out.append(FieldChange(label_of(model, name), before_value, after_value))
    return tuple(out)


def changes(
    records: Iterable[Any],
    *,
    fields: Sequence[str],
    subject: Any = str,
    wording: Mapping[str, Callable[[Any], str]] | None = None,
) -> list[Change]:
    """The changes among ``records`` (historical rows, newest first, of one or many objects):
    each against the previous row of the same object, only the ``fields`` that differ; a
    creation lists the fields it set. ``subject`` names the object a row is about; ``wording``
    words the values of some fields."""
    rows = list(records)
    previous: dict[Any, Any] = {}
    # Oldest first, to know each row's predecessor; then shown newest first.
    for record in sorted(rows, key=lambda r: (r.history_date, r.history_id)):
        key = ("last", getattr(record, record.instance_type._meta.pk.attname))
        previous[record.history_id] = previous.get(key)
        previous[key] = record
    out: list[Change] = []
    for record in rows:
        fields_changed = differences(
            previous.get(record.history_id),
            record,
            fields,
            model=record.instance_type,
            created=record.history_type == "+",
            wording=wording,
        )
        if not fields_changed and record.history_type == "~":
            continue
        out.append(
            Change(
                when=record.history_date,
                who=person(record.history_user),
                kind=record.history_type,
                subject=str(subject(record)),
                fields=fields_changed,
                reason=record.history_change_reason or "",
            )
        )
    return out


def sent_again(row: SentAgain, *, subject: str) -> Change:
    """An outbox row an official sent again, shown among the other changes: its audit row
    (``passcode_portal.outbox.SentAgain``) says who, when, and the status and attempts it had;
    after, it is pending with none used."""
    statuses = dict(OutboxStatus.choices)
    return Change(
        when=row.at,
        who=person(row.by),
        kind="~",
        subject=subject,
        fields=(
            FieldChange(
                _("Status"), str(statuses[row.status_before]), str(statuses[OutboxStatus.PENDING])
            ),
            FieldChange(_("Attempts"), str(row.attempts_before), "0"),
        ),
        reason="",
    )
