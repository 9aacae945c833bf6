"""ICP filing numbers (ICP备) and ICP licence numbers (ICP证).

Canonical forms::

    苏ICP备12345678号          filing (8 digits, the older form)
    苏ICP备2023012345号-3      filing (10 digits, year first) for service (site) no. 3
    京ICP证030173号            ICP licence (6 digits)

The part before ``-N`` identifies the subject (主体备案号); with ``-N`` it identifies
one service or website of that subject (网站备案号).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from longpan.core.errors import IdentifierError

KIND = "ICP number"

#: The 31 one-character abbreviations of the mainland province-level divisions.
PROVINCES = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
FILING = "备"
LICENCE = "证"
MIN_YEAR, MAX_YEAR = 2004, 2099

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_HYPHENS = str.maketrans(dict.fromkeys("‐‑‒–—―−﹘﹣－", "-"))
_VARIANTS = str.maketrans({"號": "号", "備": FILING, "證": LICENCE})
_SPACE_RE = re.compile(r"\s+")
_ICP_RE = re.compile("icp", re.IGNORECASE)
_PROVINCE_CLASS = "".join(sorted(PROVINCES))
_FIND_RE = re.compile(
    rf"(?P<prov>[{_PROVINCE_CLASS}])\s*ICP\s*(?P<kind>[{FILING}{LICENCE}])\s*"
    r"(?P<num>[0-9](?:[0-9]|\s(?=[0-9]))*)\s*(?P<hao>号)?"
    r"(?P<svc>\s*-[0-9]+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IcpNumber:
    """One parsed ICP filing or licence number."""

    province: str
    kind: str
    number: str
    service: int | None = None

    def __str__(self) -> str:
        suffix = "" if self.service is None else f"-{self.service}"
        return f"{self.subject_licence}{suffix}"

    @property
    def subject_licence(self) -> str:
        """The subject's number, without any ``-N`` service suffix."""
        return f"{self.province}ICP{self.kind}{self.number}号"

    @property
    def is_service(self) -> bool:
        """True when the number names one service (has a ``-N`` suffix)."""
        return self.service is not None

    @property
    def is_licence(self) -> bool:
        """True for an ICP licence (ICP证), False for a filing (ICP备)."""
        return self.kind == LICENCE


def _fail(value: str, reason: str) -> IdentifierError:
    return IdentifierError(KIND, value, reason)


def _fold(text: str) -> str:
    """NFKC, drop zero-width characters, unify hyphens and traditional variants."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return text.translate(_HYPHENS).translate(_VARIANTS)


def normalise_icp(value: str) -> str:
    """Fold a raw ICP number for parsing: no whitespace, 'ICP' uppercase, '号' simplified."""
    text = _SPACE_RE.sub("", _fold(value))
    return _ICP_RE.sub("ICP", text)


def _check_number(kind: str, digits: str, value: str) -> None:
    if kind == LICENCE:
        if len(digits) != 6:
            raise _fail(value, f"ICP licence numbers (ICP证) have 6 digits, got {len(digits)}")
        return
    if len(digits) == 8:
        return
    if len(digits) != 10:
        raise _fail(
            value,
            "ICP filing numbers (ICP备) have 8 digits, or 10 digits starting "
            f"with the year, got {len(digits)}",
        )
    year = int(digits[:4])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _fail(
            value,
            f"a 10-digit filing number starts with a year {MIN_YEAR}-{MAX_YEAR}, "
            f"got {digits[:4]!r}",
        )


def _parse_service(text: str, value: str) -> int:
    if not text:
        raise _fail(value, "expected a service number after '-'")
    if not text.isascii() or not text.isdigit():
        raise _fail(value, f"the service number after '-' must be digits, got {text!r}")
    if text.startswith("0"):
        raise _fail(
            value,
            "the service number after '-' must be a positive integer without "
            f"leading zeros, got {text!r}",
        )
    return int(text)


def _split_head(text: str, value: str) -> tuple[str, str, str]:
    """Check '<province>ICP<kind>' and return (province, kind, rest)."""
    if not text:
        raise _fail(value, "the value is empty")
    if text.startswith("ICP"):
        raise _fail(value, "missing the province abbreviation before 'ICP'")
    province = text[0]
    if province not in PROVINCES:
        raise _fail(
            value, f"{province!r} is not one of the 31 province abbreviations ({_PROVINCE_CLASS})"
        )
    if text[1:4] != "ICP":
        raise _fail(value, f"expected 'ICP' after {province!r}, got {text[1:4]!r}")
    kind = text[4:5]
    if kind not in (FILING, LICENCE):
        got = repr(kind) if kind else "nothing"
        raise _fail(
            value, f"expected '{FILING}' (filing) or '{LICENCE}' (licence) after 'ICP', got {got}"
        )
    return province, kind, text[5:]


def parse_icp(value: str) -> IcpNumber:
    """Parse one ICP filing or licence number, with or without a ``-N`` service suffix.

    Tolerates full-width characters, whitespace, lowercase 'icp', '號', hyphen
    variants and a missing '号'. Raises IdentifierError with a specific reason.
    """
    province, kind, rest = _split_head(normalise_icp(value), value)
    match = re.match(r"[0-9]*", rest)
    digits = match.group(0) if match else ""
    if not digits:
        raise _fail(
            value,
            f"expected digits after 'ICP{kind}', got {rest[:1]!r}"
            if rest
            else f"expected digits after 'ICP{kind}'",
        )
    rest = rest[len(digits) :].removeprefix("号")
    service: int | None = None
    if rest.startswith("-"):
        service = _parse_service(rest[1:], value)
    elif rest:
        raise _fail(value, f"unexpected text {rest!r} after the number")
    _check_number(kind, digits, value)
    return IcpNumber(province, kind, digits, service)


def parse_subject_licence(value: str) -> str:
    """Canonical subject number; refuses a ``-N`` service suffix."""
    icp = parse_icp(value)
    if icp.is_service:
        raise _fail(
            value,
            f"expected a subject number without a service suffix, got "
            f"'-{icp.service}' (the subject number is {icp.subject_licence!r})",
        )
    return str(icp)


def parse_service_licence(value: str) -> str:
    """Canonical service (website) number; requires the ``-N`` suffix."""
    icp = parse_icp(value)
    if not icp.is_service:
        raise _fail(
            value,
            "expected a service number ending in '-N' (e.g. "
            f"'{icp.subject_licence}-1'), but there is no suffix",
        )
    return str(icp)


def _candidates(match: re.Match[str]) -> list[str]:
    """The matched text, then fall-backs: without the suffix, then the first digit run."""
    whole = match.group(0)
    head = f"{match.group('prov')}ICP{match.group('kind')}"
    subject = whole[: match.end("hao" if match.group("hao") else "num") - match.start()]
    first_run = match.group("num").split()[0]
    return [whole, subject, head + first_run]


def _parse_match(match: re.Match[str]) -> IcpNumber | None:
    """Parse one regex candidate, trying the fall-backs when the full text is invalid."""
    for candidate in _candidates(match):
        try:
            return parse_icp(candidate)
        except IdentifierError:
            continue
    return None


def find_icp_numbers(text: str) -> list[IcpNumber]:
    """Every distinct, valid ICP number in free text, in order of first appearance.

    Made for web-page footers: tolerant of full-width characters and of spaces
    inside the number. Public-security filings (公网安备) are not ICP numbers and
    are never returned; candidates that fail validation are skipped.
    """
    found: list[IcpNumber] = []
    for match in _FIND_RE.finditer(_fold(text)):
        icp = _parse_match(match)
        if icp is not None and icp not in found:
            found.append(icp)
    return found
