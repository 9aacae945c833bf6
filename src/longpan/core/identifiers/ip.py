"""IPv4/IPv6 addresses and address ranges.

``ip_key`` maps any address to 32 lowercase hex digits of a 128-bit value, with
IPv4 placed in the IPv4-mapped block ``::ffff:0:0/96``; comparing keys as
strings then compares addresses numerically, so SQL engines can do range joins
(``key BETWEEN start_key AND end_key``) on plain string columns.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Self, TypeAlias

from longpan.core.errors import IdentifierError

IPAddress: TypeAlias = IPv4Address | IPv6Address
IPNetwork: TypeAlias = IPv4Network | IPv6Network

KIND = "IP address"
RANGE_KIND = "IP range"
_MAPPED_BASE = 0xFFFF_0000_0000


def _explain(text: str) -> str:
    """The most specific reason we can give for text that ipaddress refuses."""
    if not text:
        return "the value is empty"
    if "%" in text:
        return "zone ids ('%eth0') are not allowed"
    if "/" in text:
        return "a network in CIDR notation is not a single address (use parse_range)"
    parser = IPv6Address if ":" in text else IPv4Address
    try:
        parser(text)
    except ValueError as exc:  # names the bad part, e.g. leading zeros in '01'
        return f"not a valid IPv{6 if parser is IPv6Address else 4} address: {exc}"
    return "not a single IP address"  # pragma: no cover - only for unexpected callers


def parse_ip(value: str | IPAddress) -> IPAddress:
    """Parse an IPv4 or IPv6 address (surrounding whitespace allowed)."""
    if isinstance(value, IPv4Address | IPv6Address):
        return value
    text = value.strip()
    if not text or "%" in text or "/" in text:
        raise IdentifierError(KIND, value, _explain(text))
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise IdentifierError(KIND, value, _explain(text)) from None


def format_ip(address: IPAddress) -> str:
    """Canonical text: IPv4 dotted quad; IPv6 RFC 5952 (lowercase, compressed).

    IPv4-mapped IPv6 addresses are written ``::ffff:1.2.3.4`` on every Python
    version (3.13 changed the ipaddress default).
    """
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def canonical_ip(value: str | IPAddress) -> str:
    """Canonical text form of an address; raises IdentifierError if malformed."""
    return format_ip(parse_ip(value))


def ip_key(value: str | IPAddress) -> str:
    """32 lowercase hex digits of the address as a 128-bit value (IPv4 mapped)."""
    address = parse_ip(value)
    number = int(address)
    if address.version == 4:
        number += _MAPPED_BASE
    return f"{number:032x}"


def key_ip(key: str, version: int) -> str:
    """The canonical text of the address ``ip_key`` gave ``key`` (``version`` 4 or 6
    tells an IPv4 address from the IPv4-mapped IPv6 address of the same key)."""
    number = int(key, 16)
    if version == 4:
        return format_ip(IPv4Address(number - _MAPPED_BASE))
    return format_ip(IPv6Address(number))


def _range_error(start: IPAddress, end: IPAddress) -> str | None:
    if start.version != end.version:
        return (
            f"start_ip {format_ip(start)} is IPv{start.version} but end_ip "
            f"{format_ip(end)} is IPv{end.version}"
        )
    if int(end) < int(start):
        return f"end_ip {format_ip(end)} is before start_ip {format_ip(start)}"
    return None


@dataclass(frozen=True)
class IpRange:
    """An inclusive range of addresses of one IP version."""

    start: IPAddress
    end: IPAddress

    def __post_init__(self) -> None:
        reason = _range_error(self.start, self.end)
        if reason is not None:
            raise IdentifierError(RANGE_KIND, f"{self.start}-{self.end}", reason)

    @classmethod
    def from_bounds(cls, start: str | IPAddress, end: str | IPAddress) -> Self:
        """Build from two addresses (text or objects), checking version and order."""
        return cls(_bound(start, "start_ip"), _bound(end, "end_ip"))

    def __str__(self) -> str:
        return f"{format_ip(self.start)}-{format_ip(self.end)}"

    @property
    def version(self) -> int:
        return self.start.version

    @property
    def size(self) -> int:
        """Number of addresses in the range (at least 1)."""
        return int(self.end) - int(self.start) + 1

    @property
    def start_key(self) -> str:
        return ip_key(self.start)

    @property
    def end_key(self) -> str:
        return ip_key(self.end)

    def contains(self, ip: str | IPAddress) -> bool:
        """True when ip is inside the range; an address of the other version never is."""
        address = parse_ip(ip)
        if address.version != self.version:
            return False
        return int(self.start) <= int(address) <= int(self.end)

    def overlaps(self, other: IpRange) -> bool:
        """True when the two ranges share at least one address."""
        if other.version != self.version:
            return False
        return int(self.start) <= int(other.end) and int(other.start) <= int(self.end)

    def to_cidrs(self) -> list[IPNetwork]:
        """The shortest list of CIDR blocks covering exactly this range."""
        start, end = self.start, self.end
        if isinstance(start, IPv4Address) and isinstance(end, IPv4Address):
            return list(ipaddress.summarize_address_range(start, end))
        if isinstance(start, IPv6Address) and isinstance(end, IPv6Address):
            return list(ipaddress.summarize_address_range(start, end))
        raise AssertionError("mixed IP versions")  # pragma: no cover - see __post_init__


def _bound(value: str | IPAddress, name: str) -> IPAddress:
    try:
        return parse_ip(value)
    except IdentifierError as exc:
        raise IdentifierError(RANGE_KIND, str(value), f"{name}: {exc.reason}") from None


def _parse_cidr(text: str, value: str) -> IpRange:
    if "%" in text:
        raise IdentifierError(RANGE_KIND, value, "zone ids ('%eth0') are not allowed")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise IdentifierError(RANGE_KIND, value, _cidr_reason(text, exc)) from None
    return IpRange(network.network_address, network.broadcast_address)


def _cidr_reason(text: str, exc: ValueError) -> str:
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return str(exc)
    return f"{exc} (did you mean {loose}?)"


def parse_range(value: str) -> IpRange:
    """Parse ``start-end`` (spaces allowed around '-'), a CIDR block or one address."""
    text = value.strip()
    if not text:
        raise IdentifierError(RANGE_KIND, value, "the value is empty")
    if "-" in text:
        start, _, end = text.partition("-")
        if "-" in end:
            raise IdentifierError(RANGE_KIND, value, "expected 'start-end' with a single '-'")
        try:
            return IpRange.from_bounds(start, end)
        except IdentifierError as exc:
            raise IdentifierError(RANGE_KIND, value, exc.reason) from None
    if "/" in text:
        return _parse_cidr(text, value)
    try:
        address = parse_ip(text)
    except IdentifierError as exc:
        raise IdentifierError(RANGE_KIND, value, exc.reason) from None
    return IpRange(address, address)
