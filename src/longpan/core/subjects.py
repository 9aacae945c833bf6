"""Finding subjects: recognise what kind of identifier a string is, in canonical form.

Kinds: ``icp_subject`` (苏ICP备12345678号), ``icp_service`` (…号-1), ``ip_range``
(start-end), ``ip``, ``uscc`` (统一社会信用代码) and ``domain``; for threat warnings,
``ioc`` (``<uscc>:<indicator value>``, one unit's indicator hit) and ``indicator``
(``indicator:<value>``, a warning about one indicator across all units); for
vulnerability alerts, ``service`` (a network service, ``203.0.113.5:443``; IPv6 in
brackets, ``[2001:db8::5]:22``; ``/udp`` after the port for UDP; the CVE of a
vulnerable service is the finding's key, not part of its subject).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError

SubjectKind = Literal[
    "icp_subject",
    "icp_service",
    "ip_range",
    "ip",
    "uscc",
    "domain",
    "ioc",
    "indicator",
    "service",
]
_IOC = re.compile(r"([0-9A-Za-z]{18})\s*:\s*(\S.*)")
INDICATOR_PREFIX = "indicator:"
_SERVICE = re.compile(
    r"(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<v4>[0-9.]+)):(?P<port>\d{1,5})(?P<udp>/udp)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    value: str  # canonical

    def __str__(self) -> str:
        return self.value


def parse_subject(value: str) -> Subject:
    """The kind and canonical form of ``value``; IdentifierError when it is none of them."""
    text = value.strip()
    if _SERVICE.fullmatch(text):
        try:
            return Subject("service", canonical_service(text))
        except IdentifierError:
            pass  # e.g. "1:2", which is no service; try the other kinds
    threat = _threat_subject(text)
    if threat is not None:
        return threat
    first_error: IdentifierError | None = None  # reported if no other kind fits either
    if "ICP" in text.upper():
        try:
            icp = ids.parse_icp(text)
            return Subject("icp_service" if icp.is_service else "icp_subject", str(icp))
        except IdentifierError as exc:
            first_error = exc  # may still be a domain such as myicp.com
    if re.fullmatch(r"[0-9a-fA-F:.]+\s*-\s*[0-9a-fA-F:.]+|[0-9a-fA-F:.]+/\d+", text):
        try:
            return Subject("ip_range", str(ids.parse_range(text)))
        except IdentifierError as exc:
            first_error = first_error or exc  # may still be a domain such as add-bed.cc
    for kind, parse in (("ip", ids.canonical_ip), ("uscc", ids.parse_uscc)):
        try:
            return Subject(kind, parse(text))  # type: ignore[arg-type]
        except IdentifierError:
            continue
    try:
        return Subject("domain", ids.canonical_domain(text))
    except IdentifierError:
        if first_error is not None:
            raise first_error from None
        raise IdentifierError(
            "subject",
            value,
            "not an ICP number, IP address or range, 统一社会信用代码 or domain",
        ) from None


def _threat_subject(text: str) -> Subject | None:
    """``indicator:<value>`` or ``<uscc>:<value>`` (the value a domain, address, CIDR
    block, URL or ``ALGO:hex`` digest), with the uscc and a name or address canonical."""
    if text.lower().startswith(INDICATOR_PREFIX):
        return Subject(
            "indicator", INDICATOR_PREFIX + _indicator_value(text[len(INDICATOR_PREFIX) :])
        )
    found = _IOC.fullmatch(text)
    if found is None:
        return None
    try:
        uscc = ids.parse_uscc(found.group(1))
    except IdentifierError:
        return None
    return Subject("ioc", f"{uscc}:{_indicator_value(found.group(2))}")


def _indicator_value(value: str) -> str:
    text = value.strip()
    for parse in (ids.canonical_ip, _cidr, ids.canonical_domain):
        try:
            return parse(text)
        except IdentifierError:
            continue
    return text  # a URL or a file digest, canonical when the indicator was stored


def _cidr(text: str) -> str:
    if "/" not in text:
        raise IdentifierError("ip_range", text, "not a CIDR block")
    ip_range = ids.parse_range(text)
    return f"{ids.format_ip(ip_range.start)}/{text.rsplit('/', 1)[1].strip()}"


def service_subject(ip: str, port: int, protocol: str = "tcp") -> str:
    """``ip:port`` of a service, canonical: IPv6 in brackets, ``/udp`` for UDP."""
    address = ids.canonical_ip(ip)
    host = f"[{address}]" if ":" in address else address
    return f"{host}:{port}" + ("/udp" if protocol.lower() == "udp" else "")


def split_service(value: str) -> tuple[str, int, str]:
    """(canonical ip, port, protocol) of an ``ip:port`` subject; IdentifierError if not one."""
    found = _SERVICE.fullmatch(value.strip())
    port = int(found["port"]) if found else 0
    if not found or not 1 <= port <= 65535:
        raise IdentifierError("subject", value, "not ip:port (IPv6 in brackets, port 1-65535)")
    ip = ids.canonical_ip(found["v6"] or found["v4"])
    return ip, port, "udp" if found["udp"] else "tcp"


def canonical_service(value: str) -> str:
    """The canonical ``ip:port`` subject of ``value``; IdentifierError when malformed."""
    return service_subject(*split_service(value))


def canonical_subject(value: str) -> str:
    """``value`` in canonical form, or unchanged when it is no known identifier kind."""
    try:
        return parse_subject(value).value
    except IdentifierError:
        return value.strip()
