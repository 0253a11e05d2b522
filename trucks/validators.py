"""Validators for the identifiers a trip names: number plates, resident ID numbers, unified
social credit codes, mobile numbers and GB/T 2260 region codes.

Each ``normalise_*`` returns the canonical form stored in the database; each ``validate_*`` raises
Django's ValidationError with a translated message and a stable code.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# How long each typed value may be, one limit per field for the pages' forms and the API alike.
# Stored values are normalised (separators and the +86 prefix dropped), so a plate or a phone
# number may be typed longer than it is stored; names and addresses are stored as typed.
NAME_MAX_LENGTH = 50
ID_NUMBER_MAX_LENGTH = 18
PHONE_INPUT_MAX_LENGTH = 20
PLATE_INPUT_MAX_LENGTH = 16
REGION_CODE_LENGTH = 6
DESTINATION_MAX_LENGTH = 200
ADDRESS_MAX_LENGTH = 300
CARGO_DESCRIPTION_MAX_LENGTH = 300

PROVINCE_PREFIXES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Plate letters never use I or O (they read as 1 and 0), per GA 36.
_L = "A-HJ-NP-Z"
_PLATE_PATTERNS = (
    # Ordinary plate: 豫H12345, 豫HA123B; trailer 豫H1234挂; coach 豫H1234学.
    re.compile(rf"^[{PROVINCE_PREFIXES}][{_L}][{_L}0-9]{{4}}[{_L}0-9挂学警]$"),
    # Small new-energy plate: 豫HD12345 (D battery electric, F other new energy).
    re.compile(rf"^[{PROVINCE_PREFIXES}][{_L}][DF][{_L}0-9][0-9]{{4}}$"),
    # Large new-energy plate (trucks, buses): 豫H12345D.
    re.compile(rf"^[{PROVINCE_PREFIXES}][{_L}][0-9]{{5}}[DF]$"),
    # Cross-border vehicles of Hong Kong and Macau (粤Z…港, 粤Z…澳), seen at land ports.
    re.compile(rf"^粤Z[{_L}0-9]{{4}}[港澳]$"),
)
_PLATE_SEPARATORS = re.compile(r"[\s·•.\-_]")


def _nfkc(value: str) -> str:
    """Chinese keyboards in full-width mode type Ｈ１２３ for H123; NFKC folds them back."""
    return unicodedata.normalize("NFKC", value or "")


def normalise_plate(value: str) -> str:
    """Upper-case and strip the separators people type or print (豫H·12345, 豫h 12345)."""
    return _PLATE_SEPARATORS.sub("", _nfkc(value)).upper()


def validate_plate(value: str) -> None:
    plate = normalise_plate(value)
    if not any(p.match(plate) for p in _PLATE_PATTERNS):
        raise ValidationError(
            _("Enter a valid Chinese number plate, for example 豫H12345 or 豫H12345D."),
            code="invalid_plate",
        )


def is_new_energy_plate(plate: str) -> bool:
    return len(normalise_plate(plate)) == 8


# Resident identity card (GB 11643-1999): 17 digits, then an ISO 7064 MOD 11-2 check character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^[1-9][0-9]{16}[0-9X]$")


def normalise_id_number(value: str) -> str:
    return _nfkc(value).strip().upper()


def id_number_check_character(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str) -> None:
    number = normalise_id_number(value)
    if not _ID_PATTERN.match(number):
        raise ValidationError(
            _("Enter an 18-character resident ID number."), code="invalid_id_number"
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in this ID number does not exist."), code="invalid_id_number"
        ) from None
    if born > date.today() or born.year < 1900:
        raise ValidationError(
            _("The date of birth in this ID number is not possible."), code="invalid_id_number"
        )
    if id_number_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("This ID number's check digit is wrong; please check the number."),
            code="invalid_id_number",
        )


def mask_id_number(value: str) -> str:
    """Show the first four and last four characters only (4108**********1234): enough for a
    person to recognise their own number, too little to reuse it."""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


# Unified social credit code (GB 32100-2015): 18 characters from a 31-symbol alphabet (no I, O,
# S, V, Z), the last a MOD 31 check character.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def normalise_uscc(value: str) -> str:
    return _nfkc(value).strip().upper()


def uscc_check_character(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    code = normalise_uscc(value)
    if not _USCC_PATTERN.match(code) or uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("Enter a valid 18-character unified social credit code."), code="invalid_uscc"
        )


# Mainland mobile numbers: 11 digits starting 13–19; a +86 or 86 prefix is accepted and dropped.
_PHONE_PATTERN = re.compile(r"^1[3-9][0-9]{9}$")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s\-()]", "", _nfkc(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def validate_phone(value: str) -> None:
    if not _PHONE_PATTERN.match(normalise_phone(value)):
        raise ValidationError(
            _("Enter an 11-digit mobile number, for example 13812345678."), code="invalid_phone"
        )


def mask_phone(value: str) -> str:
    if len(value) == 11:
        return f"{value[:3]}****{value[-4:]}"
    return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)
