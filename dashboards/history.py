"""The audit shown on the management pages: each change to a record, with who made it, when, and
each field before and after, read from the record's history (django-simple-history writes one row
per save, with the user who made it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

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


def shown(record: Any, name: str) -> str:
    """A field's value as a reader sees it: the choice's label, not its code; "—" for nothing."""
    field = record._meta.get_field(name)
    value = getattr(record, field.attname, None)
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def label_of(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


def person(user: Any) -> str:
    """Who made a change, as the history names them; "the system" for no one."""
    return (user.get_full_name() or user.get_username()) if user else _("the system")


def differences(
    before: Any | None,
    after: Any,
    fields: Sequence[str],
    *,
    model: type[models.Model] | None = None,
    created: bool = False,
) -> tuple[FieldChange, ...]:
    """The ``fields`` that differ between two states of one record (two rows of its history,
    or two versions of a versioned row), each before and after in words. A creation
    (``created``, with nothing before) lists the fields it set."""
    model = model or type(after)
    out: list[FieldChange] = []
    for name in fields:
        after_value = shown(after, name)
        before_value = shown(before, name) if before is not None else "—"
        if before is None and created and after_value == "—":
            continue
        if before_value != after_value or (before is None and created):
            out.append(FieldChange(label_of(model, name), before_value, after_value))
    return tuple(out)


def changes(records: Iterable[Any], *, fields: Sequence[str], subject: Any = str) -> list[Change]:
    """The changes among ``records`` (historical rows, newest first, of one or many objects):
    each against the previous row of the same object, only the ``fields`` that differ; a
    creation lists the fields it set. ``subject`` names the object a row is about."""
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
