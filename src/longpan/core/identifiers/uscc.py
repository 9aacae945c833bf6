"""统一社会信用代码 (Unified Social Credit Code, USCC) per GB 32100-2015.

Layout of the 18 characters (positions are 1-based, as in the standard):

    1       registration-authority code (登记管理部门代码)
    2       organisation type code (机构类别代码), valid values depend on position 1
    3-8     division code of the registering office (登记管理机关行政区划码, GB/T 2260)
    9-17    organisation code (主体标识码, GB 11714): 8 characters + its own check digit
    18      check character over positions 1-17 (GB/T 17710 style, modulus 31)
"""

from __future__ import annotations

import unicodedata

from longpan.core.errors import IdentifierError

KIND = "统一社会信用代码 (USCC)"
LENGTH = 18

#: The 31-character alphabet; a character's index is its value in the final check.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
CHECK_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_NEVER_USED = "IOZSV"

#: Registration authority -> (name, {type code: type name}), GB 32100-2015 table A.1
#: including the later additions A (中央军委改革和编制办公室) and N (农业).
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}

#: First two digits of GB/T 2260 province-level codes.
PROVINCE_PREFIXES = frozenset(
    [f"{n}" for n in range(11, 16)]
    + [f"{n}" for n in range(21, 24)]
    + [f"{n}" for n in range(31, 38)]
    + [f"{n}" for n in range(41, 47)]
    + [f"{n}" for n in range(50, 55)]
    + [f"{n}" for n in range(61, 66)]
    + ["71", "81", "82"]
)
#: Offices at national level (e.g. 中央编办, 民政部, 国家市场监管总局) register with 100000.
CENTRAL_DIVISION = "100000"


def _fail(value: str, reason: str) -> IdentifierError:
    return IdentifierError(KIND, value, reason)


def normalise_uscc(value: str) -> str:
    """Strip, fold full-width characters to ASCII (NFKC) and uppercase."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def _org_char_value(ch: str) -> int:
    """GB 11714 character value: digits are themselves, A=10 ... Z=35."""
    if "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    raise ValueError(f"character {ch!r} is not a digit or an uppercase letter A-Z")


def org_code_check_digit(first8: str) -> str:
    """GB 11714 check digit for the 8-character organisation-code body ('0'-'9' or 'X')."""
    if len(first8) != 8:
        raise ValueError(f"organisation-code body must have 8 characters, got {len(first8)}")
    total = sum(_org_char_value(ch) * w for ch, w in zip(first8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character (position 18) for the first 17 characters."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, CHECK_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from None
    return ALPHABET[(31 - total % 31) % 31]


def _check_charset(code: str, value: str) -> None:
    for pos, ch in enumerate(code, start=1):
        if ch in _VALUE:
            continue
        if ch in _NEVER_USED:
            reason = (
                f"character {ch!r} at position {pos} is not allowed "
                f"(the letters I, O, Z, S, V are never used)"
            )
        else:
            reason = (
                f"character {ch!r} at position {pos} is not allowed "
                f"(expected 0-9 or A-Z except I, O, Z, S, V)"
            )
        raise _fail(value, reason)


def _check_authority_and_type(code: str, value: str) -> None:
    authority, type_code = code[0], code[1]
    if authority not in AUTHORITIES:
        known = ", ".join(AUTHORITIES)
        raise _fail(
            value,
            f"registration-authority code (position 1) {authority!r} is "
            f"unknown; expected one of {known}",
        )
    name, types = AUTHORITIES[authority]
    if type_code not in types:
        raise _fail(
            value,
            f"type code (position 2) {type_code!r} is not valid for "
            f"registration authority {authority!r} ({name}); "
            f"expected one of {', '.join(types)}",
        )


def _check_division(code: str, value: str) -> None:
    division = code[2:8]
    if not division.isdigit():
        raise _fail(value, f"division code (positions 3-8) must be six digits, got {division!r}")
    if division == CENTRAL_DIVISION or division[:2] in PROVINCE_PREFIXES:
        return
    if division[:2] == "10":
        reason = (
            f"division code (positions 3-8) {division!r} is not valid; "
            f"national-level offices use exactly {CENTRAL_DIVISION!r}"
        )
    else:
        reason = (
            f"division code (positions 3-8) {division!r} does not start with a "
            f"province-level code (got {division[:2]!r})"
        )
    raise _fail(value, reason)


def _check_org_code(code: str, value: str) -> None:
    expected = org_code_check_digit(code[8:16])
    if code[16] != expected:
        raise _fail(
            value,
            f"organisation-code check digit (position 17) should be {expected!r}, got {code[16]!r}",
        )


def _check_final(code: str, value: str) -> None:
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise _fail(
            value, f"check character (position 18) should be {expected!r}, got {code[17]!r}"
        )


def parse_uscc(value: str) -> str:
    """Validate a USCC and return its canonical 18-character uppercase form.

    Raises IdentifierError naming the first problem found.
    """
    code = normalise_uscc(value)
    if not code:
        raise _fail(value, "the value is empty")
    if len(code) != LENGTH:
        raise _fail(value, f"expected {LENGTH} characters, got {len(code)}")
    _check_charset(code, value)
    _check_authority_and_type(code, value)
    _check_division(code, value)
    _check_org_code(code, value)
    _check_final(code, value)
    return code


def is_uscc(value: object) -> bool:
    """True when value is a string that parse_uscc accepts."""
    if not isinstance(value, str):
        return False
    try:
        parse_uscc(value)
    except IdentifierError:
        return False
    return True


_MAKE_PARTS = (("authority", 1), ("type_code", 1), ("division", 6), ("org8", 8))


def make_uscc(authority: str, type_code: str, division: str, org8: str) -> str:
    """Build a valid USCC, computing both check characters.

    Raises IdentifierError when a part is malformed (the message shows the
    assembled code with '?' for the check characters).
    """
    parts = [normalise_uscc(p) for p in (authority, type_code, division, org8)]
    body = "".join(parts)
    shown = f"{body}??"
    for part, (name, size) in zip(parts, _MAKE_PARTS, strict=True):
        if len(part) != size:
            raise _fail(shown, f"{name} must have {size} character(s), got {part!r}")
    _check_charset(body, shown)
    first17 = body + org_code_check_digit(body[8:16])
    return parse_uscc(first17 + uscc_check_char(first17))
