"""The codes that name places: GB/T 2260 region codes and checkpoint codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

REGION_CODE_LENGTH = 6

validate_checkpoint_code = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,31}$",
    _("Use 2–32 capital letters, digits and hyphens, for example JZ-G55-N."),
)

_REGION_PATTERN = re.compile(r"^[1-9][0-9]{5}$")


def validate_region_code(value: str) -> None:
    if not _REGION_PATTERN.fullmatch(value or ""):
        raise ValidationError(
            _("Enter a six-digit administrative region code (GB/T 2260), for example 410800."),
            code="invalid_region",
        )
