"""IP addresses, sortable keys and ranges."""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from longpan.core.errors import IdentifierError
from longpan.core.identifiers import (
    IpRange,
    canonical_ip,
    ip_key,
    key_ip,
    parse_ip,
    parse_range,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        ("  10.0.0.1\n", "10.0.0.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:0db8::0001", "2001:db8::1"),
        ("::", "::"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::FFFF:0102:0304", "::ffff:1.2.3.4"),
        ("fe80::1", "fe80::1"),
    ],
)
def test_canonical_ip(value: str, expected: str) -> None:
    assert canonical_ip(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "empty"),
        ("fe80::1%eth0", "zone ids"),
        ("10.0.0.0/8", "CIDR"),
        ("01.2.3.4", "Leading zeros are not permitted"),
        ("1.2.3", "Expected 4 octets"),
        ("1.2.3.256", "Octet 256"),
        ("2001:db8::g", "Only hex digits"),
        ("example.com", "not a valid IPv4 address"),
    ],
)
def test_canonical_ip_errors(value: str, expected: str) -> None:
    with pytest.raises(IdentifierError, match=expected) as info:
        canonical_ip(value)
    assert info.value.kind == "IP address"


def test_parse_ip_returns_objects() -> None:
    assert parse_ip("1.2.3.4") == IPv4Address("1.2.3.4")
    assert parse_ip(" ::1 ") == IPv6Address("::1")
    assert parse_ip(IPv4Address("1.2.3.4")) == IPv4Address("1.2.3.4")


def test_ip_key() -> None:
    assert ip_key("1.2.3.4") == "00000000000000000000ffff01020304"
    assert ip_key("::1") == "00000000000000000000000000000001"
    assert ip_key("2001:db8::1") == "20010db8000000000000000000000001"
    assert ip_key("::ffff:1.2.3.4") == ip_key("1.2.3.4")
    assert ip_key("1.2.3.4") != ip_key("::102:304")  # IPv4-compatible, not mapped
    assert len(ip_key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) == 32


_ipv4 = st.integers(0, 2**32 - 1).map(IPv4Address)
_ipv6 = st.integers(0, 2**128 - 1).map(IPv6Address)
_ip = _ipv4 | _ipv6


def _numeric(address: IPv4Address | IPv6Address) -> int:
    return int(address) + (0xFFFF_0000_0000 if address.version == 4 else 0)


@given(_ip, _ip)
def test_ip_key_order_is_numeric_order(
    a: IPv4Address | IPv6Address, b: IPv4Address | IPv6Address
) -> None:
    assert (ip_key(a) < ip_key(b)) == (_numeric(a) < _numeric(b))
    assert ip_key(a) == ip_key(a).lower() and len(ip_key(a)) == 32


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("1.2.3.0-1.2.3.255", "1.2.3.0", "1.2.3.255"),
        (" 1.2.3.0 - 1.2.3.255 ", "1.2.3.0", "1.2.3.255"),
        ("10.0.0.0/8", "10.0.0.0", "10.255.255.255"),
        ("1.2.3.4", "1.2.3.4", "1.2.3.4"),
        ("1.2.3.4/32", "1.2.3.4", "1.2.3.4"),
        ("0.0.0.0/0", "0.0.0.0", "255.255.255.255"),
        ("2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("2001:DB8::1 - 2001:db8::ff", "2001:db8::1", "2001:db8::ff"),
        ("::1", "::1", "::1"),
    ],
)
def test_parse_range(value: str, start: str, end: str) -> None:
    ip_range = parse_range(value)
    assert ip_range == IpRange(ipaddress.ip_address(start), ipaddress.ip_address(end))
    assert str(ip_range) == f"{start}-{end}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "empty"),
        ("1.2.3.255-1.2.3.0", "end_ip 1.2.3.0 is before start_ip 1.2.3.255"),
        ("2001:db8::ff - 2001:db8::1", "end_ip 2001:db8::1 is before start_ip 2001:db8::ff"),
        ("1.2.3.4-::1", "start_ip 1.2.3.4 is IPv4 but end_ip ::1 is IPv6"),
        ("1.2.3.4-1.2.3.5-1.2.3.6", "single '-'"),
        ("1.2.3.4-", "end_ip: the value is empty"),
        ("-1.2.3.4", "start_ip: the value is empty"),
        ("1.2.3.x-1.2.3.5", "start_ip: not a valid IPv4 address"),
        ("10.0.0.1/8", r"has host bits set \(did you mean 10.0.0.0/8\?\)"),
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("fe80::%eth0/64", "zone ids"),
        ("1.2.3", "Expected 4 octets"),
    ],
)
def test_parse_range_errors(value: str, expected: str) -> None:
    with pytest.raises(IdentifierError, match=expected) as info:
        parse_range(value)
    assert info.value.kind == "IP range"
    assert info.value.value == value


def test_from_bounds() -> None:
    ip_range = IpRange.from_bounds("9.255.255.0", " 11.0.0.10 ")
    assert str(ip_range) == "9.255.255.0-11.0.0.10"
    before = re.escape("end_ip 1.2.3.0 is before start_ip 1.2.3.255")
    with pytest.raises(IdentifierError, match=before):
        IpRange.from_bounds("1.2.3.255", "1.2.3.0")
    with pytest.raises(IdentifierError, match="is IPv6 but end_ip"):
        IpRange.from_bounds("::1", "1.2.3.4")
    with pytest.raises(IdentifierError, match="start_ip"):
        IpRange.from_bounds("nope", "1.2.3.4")


def test_direct_construction_is_checked() -> None:
    with pytest.raises(IdentifierError, match="before"):
        IpRange(IPv4Address("1.2.3.5"), IPv4Address("1.2.3.4"))


def test_range_spanning_a_slash_8() -> None:
    ip_range = parse_range("9.255.255.0-11.0.0.10")
    assert ip_range.version == 4
    assert ip_range.size == 256 + 2**24 + 11
    assert ip_range.contains("10.1.2.3") and ip_range.contains(" 9.255.255.0")
    assert not ip_range.contains("11.0.0.11") and not ip_range.contains("::ffff:10.1.2.3")
    assert ip_range.to_cidrs() == [
        IPv4Network("9.255.255.0/24"),
        IPv4Network("10.0.0.0/8"),
        IPv4Network("11.0.0.0/29"),
        IPv4Network("11.0.0.8/31"),
        IPv4Network("11.0.0.10/32"),
    ]


def test_ipv6_range() -> None:
    ip_range = parse_range("2001:db8::/126")
    assert ip_range.version == 6
    assert ip_range.size == 4
    assert str(ip_range) == "2001:db8::-2001:db8::3"
    assert ip_range.to_cidrs() == [IPv6Network("2001:db8::/126")]
    assert ip_range.contains("2001:DB8::2")
    assert not ip_range.contains("1.2.3.4")
    assert parse_range("::/0").size == 2**128


def test_single_address_range() -> None:
    ip_range = parse_range("1.2.3.4")
    assert str(ip_range) == "1.2.3.4-1.2.3.4"
    assert ip_range.size == 1
    assert ip_range.to_cidrs() == [IPv4Network("1.2.3.4/32")]


def test_overlaps() -> None:
    a = parse_range("10.0.0.0/8")
    assert a.overlaps(parse_range("10.255.255.255-11.0.0.0"))
    assert a.overlaps(parse_range("10.1.0.0/16"))
    assert parse_range("10.1.0.0/16").overlaps(a)
    assert not a.overlaps(parse_range("11.0.0.0-11.0.0.5"))
    assert not a.overlaps(parse_range("9.0.0.0-9.255.255.255"))
    assert not a.overlaps(parse_range("::/0"))


def test_keys_of_range_bounds() -> None:
    ip_range = parse_range("1.2.3.0/24")
    assert ip_range.start_key == ip_key("1.2.3.0")
    assert ip_range.start_key <= ip_key("1.2.3.77") <= ip_range.end_key


@st.composite
def _ranges(draw: st.DrawFn) -> IpRange:
    bits = draw(st.sampled_from([32, 128]))
    a = draw(st.integers(0, 2**bits - 1))
    b = draw(st.integers(a, 2**bits - 1))
    make = IPv4Address if bits == 32 else IPv6Address
    return IpRange(make(a), make(b))


@given(_ranges())
def test_range_str_round_trips(ip_range: IpRange) -> None:
    assert parse_range(str(ip_range)) == ip_range
    assert parse_range(str(ip_range).replace("-", " - ")) == ip_range


@given(_ranges())
def test_cidrs_cover_the_range_exactly(ip_range: IpRange) -> None:
    cidrs = ip_range.to_cidrs()
    assert cidrs[0].network_address == ip_range.start
    assert cidrs[-1].broadcast_address == ip_range.end
    assert sum(c.num_addresses for c in cidrs) == ip_range.size
    for cidr in cidrs:
        assert parse_range(str(cidr)).overlaps(ip_range)


@given(_ip)
def test_key_ip_gives_back_the_canonical_text(address: IPv4Address | IPv6Address) -> None:
    assert key_ip(ip_key(address), address.version) == canonical_ip(address)


def test_key_ip_tells_ipv4_from_its_mapped_ipv6_by_version() -> None:
    key = ip_key("1.2.3.4")
    assert (key_ip(key, 4), key_ip(key, 6)) == ("1.2.3.4", "::ffff:1.2.3.4")
