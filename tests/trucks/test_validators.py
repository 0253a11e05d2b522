"""Plates, resident ID numbers, unified social credit codes, mobile numbers and region codes.

The check characters are computed here by independent implementations of ISO 7064 MOD 11-2
(GB 11643-1999) and GB 32100-2015, written from the standards rather than from the module, so a
broken helper in trucks.validators cannot agree with itself and pass.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from places.validators import validate_region_code
from trucks.validators import (
    id_number_check_character,
    is_new_energy_plate,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
    normalise_plate,
    normalise_uscc,
    uscc_check_character,
    validate_id_number,
    validate_phone,
    validate_plate,
    validate_uscc,
)

Validator = Callable[[str], None]


def assert_refused(validator: Validator, value: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    assert excinfo.value.code == code


# --- Independent check-character implementations -------------------------------------------


def iso7064_mod11_2(first17: str) -> str:
    """ISO 7064 MOD 11-2 as GB 11643-1999 states it: the digit at position i (1-based from the
    right, the check character being position 1) weighs 2^(i-1) mod 11, and the check value is
    the one that makes the weighted sum of all 18 characters ≡ 1 (mod 11); 10 is written X."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


# GB 32100-2015 code characters: digits and capital letters without I, O, S, V and Z, which read
# like 1, 0, 5, U and 2.
USCC_CHARS = "".join(c for c in string.digits + string.ascii_uppercase if c not in "IOSVZ")


def gb32100_check(first17: str) -> str:
    """GB 32100-2015: the i-th character (0-based) weighs 3^i mod 31; the check character is the
    one whose value makes the weighted sum ≡ 0 (mod 31)."""
    total = sum(USCC_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_CHARS[-total % 31]


def test_the_independent_implementations_reproduce_published_examples() -> None:
    # The sample printed in GB 11643-1999 and the code in GB 32100-2015's own example.
    assert iso7064_mod11_2("11010519491231002") == "X"
    assert gb32100_check("91350100M000100Y4") == "3"
    assert len(USCC_CHARS) == 31


# --- Number plates ---------------------------------------------------------------------------

# The 31 mainland province-level abbreviations that head a plate (GA 36-2018).
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


@pytest.mark.parametrize(
    "plate",
    [
        "豫H12345",  # ordinary, all digits
        "豫HA1234",  # letters in the serial
        "豫H1234B",
        "豫HA123B",
        "豫HAB123",
        "京AF0236",
        "粤B8W7Y6",
        "沪A00000",
        "豫H1234挂",  # trailer
        "豫H1234学",  # driving-school coach
        "豫H1234警",  # police
        "豫HD12345",  # small new-energy: D (battery electric) first, then a letter or digit
        "豫HF12345",  # F (other new energy)
        "豫HDA1234",
        "豫HFB1234",
        "京AD00001",
        "豫H12345D",  # large new-energy (trucks, buses): five digits, then D or F
        "豫H12345F",
        "苏E00001F",
    ],
)
def test_valid_plates_are_accepted(plate: str) -> None:
    validate_plate(plate)


@pytest.mark.parametrize("province", PROVINCES)
def test_every_province_abbreviation_heads_a_valid_plate(province: str) -> None:
    validate_plate(f"{province}A12345")
    validate_plate(f"{province}AD12345")
    validate_plate(f"{province}A12345D")


@pytest.mark.parametrize(
    "plate",
    [
        # I and O are never used: they read as 1 and 0.
        "豫I12345",
        "豫O12345",
        "豫HI2345",
        "豫H1O345",
        "豫H1234I",
        "豫H1234O",
        "豫HDI1234",
        "豫HDO1234",
        # Not a province abbreviation, or none at all.
        "港H12345",
        "澳H12345",
        "台H12345",
        "中H12345",
        "AH12345",
        "H12345",
        "HA12345",
        # The issuing authority is a letter, never a digit.
        "豫112345",
        "豫1D12345",
        # Too short or too long.
        "豫H1234",
        "豫H123",
        "豫H123456",
        "豫H1234567",
        "豫HD123456",
        "豫H12345学",
        "",
        # Small new-energy: D or F first, and the last four are digits (GA 36-2018).
        "豫HA12345",
        "豫HD1A234",
        "豫HF1A234",
        "豫HD12A45",
        "豫HD1234A",
        # Large new-energy: five digits then D or F.
        "豫H1234AD",
        "豫H12345A",
        "豫HA2345D",
        # Suffix characters only at the end, and not just any Chinese character.
        "豫H12挂45",
        "豫H1234港",
        "豫H1234豫",
        # Other junk.
        "豫H12 34?",
        "豫H1234!",
    ],
)
def test_invalid_plates_are_refused(plate: str) -> None:
    assert_refused(validate_plate, plate, "invalid_plate")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("豫h·12345", "豫H12345"),
        ("豫H·12345", "豫H12345"),
        ("豫H•12345", "豫H12345"),
        ("豫h 12345", "豫H12345"),
        ("  豫H12345  ", "豫H12345"),
        ("豫H\t12345\n", "豫H12345"),
        ("豫H-12345", "豫H12345"),
        ("豫H.12345", "豫H12345"),
        ("豫H_12345", "豫H12345"),
        ("豫h·d12345", "豫HD12345"),
        ("豫h 12345d", "豫H12345D"),
        ("豫h·a123b", "豫HA123B"),
        ("豫H·1234挂", "豫H1234挂"),
        ("豫H12345", "豫H12345"),
        ("", ""),
    ],
)
def test_normalise_plate_upper_cases_and_drops_separators(typed: str, stored: str) -> None:
    assert normalise_plate(typed) == stored


@pytest.mark.parametrize(
    "typed", ["豫h·12345", "豫H 12345", "豫h-a123b", "豫h·d12345", "豫h12345f"]
)
def test_plates_are_validated_after_normalising(typed: str) -> None:
    validate_plate(typed)


@pytest.mark.parametrize("typed", ["豫h·i2345", "豫h 1o345", "豫h·d1a234"])
def test_lower_case_i_and_o_are_refused_too(typed: str) -> None:
    assert_refused(validate_plate, typed, "invalid_plate")


@pytest.mark.parametrize(
    ("plate", "new_energy"),
    [
        ("豫HD12345", True),
        ("豫HF12345", True),
        ("豫H12345D", True),
        ("豫h·d12345", True),
        ("豫H12345", False),
        ("豫H1234挂", False),
        ("豫H·12345", False),
    ],
)
def test_is_new_energy_plate(plate: str, new_energy: bool) -> None:
    assert is_new_energy_plate(plate) is new_energy


# --- Resident ID numbers (GB 11643-1999) -----------------------------------------------------


def make_id_number(region: str, born: str, sequence: str) -> str:
    first17 = f"{region}{born}{sequence}"
    assert len(first17) == 17
    return first17 + iso7064_mod11_2(first17)


VALID_ID_NUMBERS = [
    "11010519491231002X",  # the standard's own sample
    make_id_number("410802", "19850615", "123"),
    make_id_number("410811", "20000229", "004"),  # 29 February of a leap year
    make_id_number("320412", "19700101", "513"),
    make_id_number("140427", "19991231", "771"),
    make_id_number("152501", "19621001", "088"),
    make_id_number("440305", "20050731", "246"),
    make_id_number("650102", "19781124", "359"),
]


def test_the_valid_examples_cover_digit_and_x_check_characters() -> None:
    checks = {number[-1] for number in VALID_ID_NUMBERS}
    assert "X" in checks
    assert checks - {"X"}


@pytest.mark.parametrize("number", VALID_ID_NUMBERS)
def test_valid_id_numbers_are_accepted(number: str) -> None:
    validate_id_number(number)


def test_a_lower_case_x_and_surrounding_spaces_are_accepted() -> None:
    assert normalise_id_number(" 11010519491231002x ") == "11010519491231002X"
    validate_id_number(" 11010519491231002x ")


def test_id_numbers_with_each_check_character_are_accepted() -> None:
    """Search sequence numbers until every one of the eleven check characters has appeared."""
    seen: dict[str, str] = {}
    for sequence in range(1000):
        number = make_id_number("410802", "19851103", f"{sequence:03d}")
        seen.setdefault(number[-1], number)
        if len(seen) == 11:
            break
    assert sorted(seen) == sorted("0123456789X")
    for number in seen.values():
        validate_id_number(number)


def test_many_random_id_numbers_agree_with_the_independent_checksum() -> None:
    rng = random.Random(20221123)
    start = date(1940, 1, 1)
    for _ in range(500):
        born = (start + timedelta(days=rng.randrange(365 * 80))).strftime("%Y%m%d")
        first17 = f"{rng.randrange(110000, 660000)}{born}{rng.randrange(1000):03d}"
        assert id_number_check_character(first17) == iso7064_mod11_2(first17)
        validate_id_number(first17 + iso7064_mod11_2(first17))


@pytest.mark.parametrize("number", VALID_ID_NUMBERS)
def test_every_wrong_check_character_is_refused(number: str) -> None:
    for wrong in sorted(set("0123456789X") - {number[-1]}):
        assert_refused(validate_id_number, number[:17] + wrong, "invalid_id_number")


@pytest.mark.parametrize("position", range(17))
def test_a_single_mistyped_digit_is_refused(position: int) -> None:
    # MOD 11-2 catches every single-digit substitution.
    number = "11010519491231002X"
    digit = int(number[position])
    for replacement in range(10):
        if replacement == digit or (position == 0 and replacement == 0):
            continue
        typo = f"{number[:position]}{replacement}{number[position + 1 :]}"
        with pytest.raises(ValidationError):
            validate_id_number(typo)


def test_swapped_neighbouring_digits_are_refused() -> None:
    number = "11010519491231002X"
    for i in range(16):
        if number[i] == number[i + 1] or (i == 0 and number[1] == "0"):
            continue
        swapped = f"{number[:i]}{number[i + 1]}{number[i]}{number[i + 2 :]}"
        with pytest.raises(ValidationError):
            validate_id_number(swapped)


@pytest.mark.parametrize(
    "born",
    [
        "19990230",  # 30 February
        "19990229",  # 29 February of a common year
        "19000229",  # 1900 was not a leap year
        "19851301",  # month 13
        "19850001",  # month 0
        "19850100",  # day 0
        "19850132",  # day 32
        "19850431",  # 31 April
        "00001231",  # year 0
    ],
)
def test_an_impossible_birth_date_is_refused(born: str) -> None:
    # The check character is right, so only the date check can refuse these.
    number = make_id_number("410802", born, "123")
    assert_refused(validate_id_number, number, "invalid_id_number")


@pytest.mark.parametrize(
    "number",
    [
        "110105491231002",  # 15-digit number of the first generation (before 1999)
        "410802850615123",
        "11010519491231002",  # 17 characters, check character missing
        "11010519491231002X0",  # 19
        "",
        "1101051949123100XX",  # X only as the check character
        "X10105194912310021",
        "A1010519491231002X",
        "1101051949123100AX",
        "11010519491231002Y",
        "110105 19491231 002X",  # spaces inside are not stripped
        "110105-19491231-002X",
    ],
)
def test_malformed_id_numbers_are_refused(number: str) -> None:
    assert_refused(validate_id_number, number, "invalid_id_number")


def test_a_region_code_may_not_start_with_zero() -> None:
    first17 = "01010519491231002"
    assert_refused(validate_id_number, first17 + iso7064_mod11_2(first17), "invalid_id_number")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "1101**********002X"),
        ("410802198506151234", "4108**********1234"),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


@pytest.mark.parametrize("number", VALID_ID_NUMBERS)
def test_a_masked_id_number_hides_the_birth_date_and_keeps_its_length(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert set(masked[6:14]) == {"*"}
    assert masked.endswith(number[-4:])
    visible = masked.replace("*", "")
    assert number.startswith(masked[: masked.index("*")])
    assert len(visible) <= 10


@pytest.mark.parametrize("short", ["", "1", "1234567", "12345678"])
def test_a_short_value_is_masked_entirely(short: str) -> None:
    assert mask_id_number(short) == "*" * len(short)


# --- Unified social credit codes (GB 32100-2015) ---------------------------------------------


def make_uscc(first17: str) -> str:
    assert len(first17) == 17
    return first17 + gb32100_check(first17)


VALID_USCC = [
    "91350100M000100Y43",  # GB 32100-2015's example
    make_uscc("91410800MA3X4B5C1"),
    make_uscc("92410802MA44A0R3X"),  # individually owned business
    make_uscc("12100000400000624"),  # public institution
    make_uscc("51110000500000123"),  # social organisation
    make_uscc("Y1320412MA1MXY9H2"),
    make_uscc("93140427MA0HNQ0K8"),
    make_uscc("91152501000000000"),
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_unified_social_credit_codes_are_accepted(code: str) -> None:
    validate_uscc(code)


def test_uscc_is_normalised_to_upper_case_without_surrounding_spaces() -> None:
    assert normalise_uscc(" 91350100m000100y43\n") == "91350100M000100Y43"
    validate_uscc(" 91350100m000100y43 ")


def test_many_random_uscc_agree_with_the_independent_checksum() -> None:
    rng = random.Random(32100)
    for _ in range(500):
        first17 = (
            "".join(rng.choice(USCC_CHARS) for _ in range(2))
            + "".join(rng.choice(string.digits) for _ in range(6))
            + "".join(rng.choice(USCC_CHARS) for _ in range(9))
        )
        assert uscc_check_character(first17) == gb32100_check(first17)
        validate_uscc(make_uscc(first17))


def test_uscc_with_each_check_character_are_accepted() -> None:
    seen: dict[str, str] = {}
    for a in USCC_CHARS:
        for b in USCC_CHARS:
            code = make_uscc(f"91410800MA3X4B{a}{b}1")
            seen.setdefault(code[-1], code)
    assert sorted(seen) == sorted(USCC_CHARS)
    for code in seen.values():
        validate_uscc(code)


@pytest.mark.parametrize("code", VALID_USCC)
def test_every_wrong_uscc_check_character_is_refused(code: str) -> None:
    for wrong in USCC_CHARS:
        if wrong != code[-1]:
            assert_refused(validate_uscc, code[:17] + wrong, "invalid_uscc")


@pytest.mark.parametrize("letter", "IOSVZ")
@pytest.mark.parametrize("position", [0, 1, 8, 12, 16, 17])
def test_the_letters_i_o_s_v_z_are_refused(letter: str, position: int) -> None:
    code = "91350100M000100Y43"
    assert_refused(
        validate_uscc, f"{code[:position]}{letter}{code[position + 1 :]}", "invalid_uscc"
    )


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y4",  # 17
        "91350100M000100Y433",  # 19
        "",
        "9135010AM000100Y43",  # the region part (characters 3–8) is digits only
        "91350100M00010-Y43",
        "91350100M000100Y4 3",
        "913501OOMOOO1OOY43",  # O typed for 0
        "91350100М000100Y43",  # Cyrillic М
    ],
)
def test_malformed_uscc_are_refused(code: str) -> None:
    assert_refused(validate_uscc, code, "invalid_uscc")


@pytest.mark.parametrize("position", range(17))
def test_a_single_mistyped_uscc_character_is_refused(position: int) -> None:
    # MOD 31 with weights prime to 31 catches every single-character substitution.
    code = "91350100M000100Y43"
    alphabet = string.digits if 2 <= position < 8 else USCC_CHARS
    for replacement in alphabet:
        if replacement != code[position]:
            typo = f"{code[:position]}{replacement}{code[position + 1 :]}"
            assert_refused(validate_uscc, typo, "invalid_uscc")


# --- Mobile numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("(+86) 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("86 138 1234 5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        (" 13812345678\n", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("", ""),
    ],
)
def test_normalise_phone(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "14712345678",
        "15012345678",
        "16612345678",
        "17712345678",
        "18612345678",
        "19912345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "8618612345678",
        "139-0000-0000",
    ],
)
def test_valid_mobile_numbers_are_accepted(phone: str) -> None:
    validate_phone(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "12345678901",  # no mobile range starts 12
        "10012345678",
        "11012345678",
        "23812345678",
        "03812345678",
        "1381234567",  # 10 digits
        "+861381234567",
        "138123456789",  # 12 digits
        "+86138123456789",
        "+85213812345678",  # Hong Kong prefix
        "008613812345678",
        "+8612345678901",
        "1381234567a",
        "138.1234.5678",
        "",
        "+86",
    ],
)
def test_invalid_mobile_numbers_are_refused(phone: str) -> None:
    assert_refused(validate_phone, phone, "invalid_phone")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("19900001111", "199****1111")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("value", "masked"), [("+8613812345678", "**********5678"), ("123", "***")]
)
def test_mask_phone_never_shows_an_odd_value_whole(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("typed", "validate"),
    [
        ("豫Ｈ１２３４５", validate_plate),
        ("１１０１０５１９４９１２３１００２X", validate_id_number),
        ("１３８１２３４５６７８", validate_phone),
    ],
)
def test_full_width_input_from_chinese_keyboards_is_accepted(typed: str, validate: Any) -> None:
    validate(typed)


@pytest.mark.parametrize("plate", ["粤Z1234港", "粤ZA123澳"])
def test_cross_border_plates_are_accepted(plate: str) -> None:
    validate_plate(plate)


def test_an_id_number_born_in_the_future_is_refused() -> None:
    first17 = "41080220990101123"
    assert_refused(validate_id_number, first17 + iso7064_mod11_2(first17), "invalid_id_number")


# --- Region codes (GB/T 2260) ----------------------------------------------------------------


@pytest.mark.parametrize("code", ["110000", "410000", "410800", "410802", "152501", "659004"])
def test_valid_region_codes_are_accepted(code: str) -> None:
    validate_region_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "010000",  # no province code starts with 0
        "41080",
        "4108000",
        "41",
        "4108",
        "41080A",
        "410 800",
        "410-800",
        " 410800",
        "410800 ",
        "410800\n",
        "４１０８００",  # full-width digits
        "",
    ],
)
def test_invalid_region_codes_are_refused(code: str) -> None:
    assert_refused(validate_region_code, code, "invalid_region")
