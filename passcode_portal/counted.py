"""Rows the officials' figures count in roll-ups: each carries ``counted``, false until a roll-up
task has added it to its totals, and set true in the same transaction as that addition, so that
every row is counted once, including a row whose transaction commits late (it is still false
when it becomes visible, whatever its id). The figures add the rows not counted yet to the
roll-ups' totals, so they are exact between runs as well.

Only the roll-up task writes the flag. An ORM ``save()`` of a row loaded before the task counted
it would write the stale ``False`` back and have it counted twice, so ``save()`` without
``update_fields`` names every field but this one.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

UNCOUNTED = Q(counted=False)


class Counted(models.Model):
    counted = models.BooleanField(_("counted in the figures"), default=False, db_default=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is None and not self._state.adding:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "counted"
            ]
        super().save(*args, **kwargs)


def uncounted_index(name: str) -> models.Index:
    """The rows a roll-up has still to count, by id: few at any time, so the index is small."""
    return models.Index(fields=["id"], name=name, condition=UNCOUNTED)
