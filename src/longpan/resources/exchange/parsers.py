"""Cell parsers for the exchange format: raw value in, canonical value out.

Each parser gets a non-empty value (a CSV string or a Parquet-native object) and either
returns the canonical value or raises ValueError / IdentifierError with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from longpan.core import identifiers as ids
from longpan.core.regions import canonical_province

Parser = Callable[[Any], Any]


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


def text(value: Any) -> str:
    return str(value).strip()


def one_of(*allowed: str) -> Parser:
    def parse(value: Any) -> str:
        result = str(value).strip()
        if result not in allowed:
            raise ValueError(f"{result!r} is not one of: {' | '.join(allowed)}")
        return result

    return parse


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)  # pandas writes integer columns with gaps as float64
    else:
        raw = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise ValueError(f"{raw!r} is not an integer")
        result = int(raw)
    if not INT64_MIN <= result <= INT64_MAX:
        raise ValueError(f"{result} is too large for a 64-bit integer")
    return result


def positive_int(value: Any) -> int:
    result = integer(value)
    if result <= 0:
        raise ValueError(f"{result} must be a positive integer")
    return result


def non_negative_int(value: Any) -> int:
    result = integer(value)
    if result < 0:
        raise ValueError(f"{result} must not be negative")
    return result


def iso_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def iso_timestamp(value: Any) -> datetime:
    """ISO 8601 date or date-time; offsets converted to UTC, naive values taken as UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        raw = str(value).strip()
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(
                f"{raw!r} is not an ISO 8601 timestamp (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[+08:00])"
            ) from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            shown = str(value).strip()
            raise ValueError(f"{shown!r} is out of range once converted to UTC") from None
    return parsed


def country(value: Any) -> str:
    raw = str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", raw):
        raise ValueError(f"{raw!r} is not an ISO 3166 alpha-2 country code (e.g. CN, US)")
    return raw


def split_list(value: Any) -> list[str]:
    """A ';'-separated CSV cell or a Parquet list, as stripped non-empty strings."""
    items: Iterable[Any] = value if isinstance(value, list | tuple) else str(value).split(";")
    return [str(item).strip() for item in items if str(item).strip()]


def list_of(parse: Parser) -> Parser:
    def parse_list(value: Any) -> list[Any]:
        result: list[Any] = []
        for item in split_list(value):
            parsed = parse(item)
            if parsed not in result:
                result.append(parsed)
        return result

    return parse_list


def roles(allowed: tuple[str, ...]) -> Parser:
    parse_one = one_of(*allowed)

    def parse(value: Any) -> list[str]:
        result = list_of(parse_one)(value)
        if not result:
            raise ValueError(f"at least one role is needed: {' ; '.join(allowed)}")
        return sorted(result)

    return parse


def registered_domain(value: Any) -> str:
    """A canonical domain that must itself be a registered domain (not a subdomain)."""
    domain = ids.canonical_domain(str(value))
    registered = ids.registered_domain(domain)
    if registered != domain:
        raise ValueError(f"{domain!r} is not a registered domain (that would be {registered!r})")
    return domain


def footer_icp(value: Any) -> str | None:
    """The first ICP number in a footer text, canonical; None when there is none."""
    found = ids.find_icp_numbers(str(value))
    return str(found[0]) if found else None


uscc = ids.parse_uscc
subject_licence = ids.parse_subject_licence
service_licence = ids.parse_service_licence
domain = ids.canonical_domain
ip = ids.canonical_ip
province = canonical_province
