"""统一社会信用代码 (GB 32100-2015) parsing, check characters and generation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from longpan.core.errors import IdentifierError, InputError
from longpan.core.identifiers import (
    is_uscc,
    make_uscc,
    org_code_check_digit,
    parse_uscc,
    uscc_check_char,
)
from longpan.core.identifiers.uscc import ALPHABET, AUTHORITIES, PROVINCE_PREFIXES

# Published codes of well-known companies (from their business licences).
REAL_CODES = [
    "9144030071526726XG",  # 腾讯科技（深圳）有限公司: org-code check digit is 'X'
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "914403001922038216",  # 华为技术有限公司
    "91110000802100433B",  # 百度在线网络技术（北京）有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
]
BAIDU = "91110000802100433B"


def reason_of(value: str) -> str:
    with pytest.raises(IdentifierError) as info:
        parse_uscc(value)
    assert info.value.kind == "统一社会信用代码 (USCC)"
    assert info.value.value == value
    return info.value.reason


def with_char(code: str, position: int, ch: str) -> str:
    """Replace the character at 1-based position."""
    return code[: position - 1] + ch + code[position:]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert parse_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]
    assert org_code_check_digit(code[8:16]) == code[16]
    assert is_uscc(code)


def test_full_width_lowercase_and_whitespace_are_normalised() -> None:
    assert parse_uscc("９１１１００００８０２１００４３３Ｂ") == BAIDU
    assert parse_uscc("  91110000802100433b\n") == BAIDU
    assert parse_uscc("9144030071526726xg") == "9144030071526726XG"
    assert parse_uscc("\u3000９１４４０３００７１５２６７２６ｘｇ\u3000") == "9144030071526726XG"


def test_identifier_error_is_an_input_error() -> None:
    with pytest.raises(InputError, match="invalid 统一社会信用代码"):
        parse_uscc("nonsense")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("9111000080210043", "expected 18 characters, got 16"),
        ("91110000802100433BB", "expected 18 characters, got 19"),
    ],
)
def test_length(value: str, expected: str) -> None:
    assert expected in reason_of(value)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_never_used(letter: str) -> None:
    reason = reason_of(with_char(BAIDU, 12, letter))
    assert f"character '{letter}' at position 12" in reason
    assert "I, O, Z, S, V" in reason


def test_punctuation_is_rejected_with_position() -> None:
    reason = reason_of(with_char(BAIDU, 9, "-"))
    assert "character '-' at position 9" in reason


def test_unknown_registration_authority() -> None:
    reason = reason_of(with_char(BAIDU, 1, "B"))
    assert "registration-authority code (position 1) 'B' is unknown" in reason
    assert "1, 2, 3, 4, 5, 6, 7, 8, 9, A, N, Y" in reason


@pytest.mark.parametrize(
    ("authority", "bad_type", "valid"),
    [
        ("9", "4", "1, 2, 3"),
        ("9", "9", "1, 2, 3"),
        ("1", "4", "1, 2, 3, 9"),
        ("5", "5", "1, 2, 3, 9"),
        ("Y", "2", "1"),
        ("2", "2", "1, 9"),
    ],
)
def test_type_not_valid_for_authority(authority: str, bad_type: str, valid: str) -> None:
    code = authority + bad_type + BAIDU[2:]
    reason = reason_of(code)
    assert f"type code (position 2) '{bad_type}' is not valid" in reason
    assert f"authority '{authority}'" in reason
    assert f"expected one of {valid}" in reason


def test_type_table_matches_the_standard() -> None:
    expected = {
        "1": "1239",
        "2": "19",
        "3": "123459",
        "4": "19",
        "5": "1239",
        "6": "129",
        "7": "129",
        "8": "19",
        "9": "123",
        "A": "19",
        "N": "1239",
        "Y": "1",
    }
    assert {k: "".join(types) for k, (_, types) in AUTHORITIES.items()} == expected


@pytest.mark.parametrize("division", ["990000", "160000", "200000", "720000", "000000"])
def test_division_must_start_with_province(division: str) -> None:
    reason = reason_of("91" + division + BAIDU[8:])
    assert f"division code (positions 3-8) '{division}' does not start with" in reason


def test_division_must_be_digits() -> None:
    assert "must be six digits, got '11A000'" in reason_of("9111A000802100433B")


def test_only_the_exact_central_division_starting_with_10() -> None:
    assert "national-level offices use exactly '100000'" in reason_of("91101000802100433B")
    central = make_uscc("5", "1", "100000", "50000000")  # a 民政部-registered 社会团体
    assert central.startswith("51100000") and parse_uscc(central) == central


@pytest.mark.parametrize("prefix", sorted(PROVINCE_PREFIXES))
def test_every_province_prefix_is_accepted(prefix: str) -> None:
    code = make_uscc("9", "1", prefix + "0100", "12345678")
    assert parse_uscc(code) == code


def test_bad_org_code_check_digit() -> None:
    # Baidu's organisation code is 80210043-3; '4' breaks GB 11714 only.
    reason = reason_of(with_char(BAIDU, 17, "4"))
    assert reason == "organisation-code check digit (position 17) should be '3', got '4'"


def test_org_code_check_digit_x_and_zero() -> None:
    assert org_code_check_digit("71526726") == "X"  # Tencent: 71526726-X
    assert "should be 'X', got '3'" in reason_of(with_char("9144030071526726XG", 17, "3"))
    zero = next(b for b in (f"{n:08d}" for n in range(1000)) if org_code_check_digit(b) == "0")
    assert parse_uscc(make_uscc("9", "1", "110000", zero))[16] == "0"


def test_bad_final_check_character() -> None:
    reason = reason_of(with_char(BAIDU, 18, "C"))
    assert reason == "check character (position 18) should be 'B', got 'C'"


def test_org_code_with_letters() -> None:
    # Codes issued after 2015 often have organisation codes starting with 'MA'.
    code = make_uscc("9", "1", "110108", "MA01ABCD")
    assert code[:16] == "91110108MA01ABCD"
    assert parse_uscc(code) == code
    assert org_code_check_digit("MA01ABCD") == code[16]


def test_check_helpers_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_char("123")
    with pytest.raises(ValueError, match="USCC alphabet"):
        uscc_check_char("9111000080210043I")
    with pytest.raises(ValueError, match="8 characters"):
        org_code_check_digit("1234567")
    with pytest.raises(ValueError, match="not a digit"):
        org_code_check_digit("1234567-")


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("9", "4", "110108", "12345678"), "type code (position 2) '4'"),
        (("B", "1", "110108", "12345678"), "registration-authority code"),
        (("9", "1", "990000", "12345678"), "does not start with a province-level code"),
        (("9", "1", "11010", "12345678"), "division must have 6 character(s)"),
        (("9", "1", "110108", "1234567"), "org8 must have 8 character(s)"),
        (("9", "1", "110108", "1234567I"), "character 'I' at position 16"),
    ],
)
def test_make_uscc_rejects_bad_parts(parts: tuple[str, str, str, str], expected: str) -> None:
    with pytest.raises(IdentifierError, match=re.escape(expected)):
        make_uscc(*parts)


def test_is_uscc() -> None:
    assert is_uscc(BAIDU.lower())
    assert not is_uscc(with_char(BAIDU, 18, "C"))
    assert not is_uscc(None)
    assert not is_uscc(91110000802100433)


_authority_and_type = st.sampled_from(
    [(a, t) for a, (_, types) in AUTHORITIES.items() for t in types]
)
_division = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
) | st.just("100000")
_org8 = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


@given(_authority_and_type, _division, _org8)
def test_make_then_parse_round_trips(
    authority_and_type: tuple[str, str], division: str, org8: str
) -> None:
    authority, type_code = authority_and_type
    code = make_uscc(authority, type_code, division, org8)
    assert len(code) == 18
    assert code[:16] == authority + type_code + division + org8
    assert parse_uscc(code) == code
    assert parse_uscc(code.lower()) == code


@given(_authority_and_type, _division, _org8, st.sampled_from(ALPHABET))
def test_any_other_final_character_is_rejected(
    authority_and_type: tuple[str, str], division: str, org8: str, other: str
) -> None:
    code = make_uscc(*authority_and_type, division, org8)
    if other != code[17]:
        assert not is_uscc(code[:17] + other)
