"""Finding subjects: recognise what kind of identifier a string is, in canonical form.

Kinds: ``icp_subject`` (苏ICP备12345678号), ``icp_service`` (…号-1), ``ip_range``
(start-end), ``ip``, ``uscc`` (统一社会信用代码) and ``domain``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError

SubjectKind = Literal["icp_subject", "icp_service", "ip_range", "ip", "uscc", "domain"]


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    value: str  # canonical

    def __str__(self) -> str:
        return self.value


def parse_subject(value: str) -> Subject:
    """The kind and canonical form of ``value``; IdentifierError when it is none of them."""
    text = value.strip()
    if "ICP" in text.upper():
        icp = ids.parse_icp(text)
        return Subject("icp_service" if icp.is_service else "icp_subject", str(icp))
    range_error: IdentifierError | None = None
    if re.fullmatch(r"[0-9a-fA-F:.]+\s*-\s*[0-9a-fA-F:.]+|[0-9a-fA-F:.]+/\d+", text):
        try:
            return Subject("ip_range", str(ids.parse_range(text)))
        except IdentifierError as exc:
            range_error = exc  # may still be a domain such as add-bed.cc
    for kind, parse in (("ip", ids.canonical_ip), ("uscc", ids.parse_uscc)):
        try:
            return Subject(kind, parse(text))  # type: ignore[arg-type]
        except IdentifierError:
            continue
    try:
        return Subject("domain", ids.canonical_domain(text))
    except IdentifierError:
        if range_error is not None:
            raise range_error from None
        raise IdentifierError(
            "subject",
            value,
            "not an ICP number, IP address or range, 统一社会信用代码 or domain",
        ) from None


def canonical_subject(value: str) -> str:
    """``value`` in canonical form, or unchanged when it is no known identifier kind."""
    try:
        return parse_subject(value).value
    except IdentifierError:
        return value.strip()
