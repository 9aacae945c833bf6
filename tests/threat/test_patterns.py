"""STIX patterns: what is matched, what is reported unsupported, never over-matched."""

from __future__ import annotations

import pytest

from longpan.threat.patterns import Observable, parse_pattern


def kinds(pattern: str) -> list[tuple[str, str]]:
    return [(o.kind, o.value) for o in parse_pattern(pattern).observables]


def test_simple_comparisons_are_canonical() -> None:
    assert kinds("[domain-name:value = 'Evil.Example.']") == [("domain", "evil.example")]
    assert kinds("[ipv4-addr:value = '203.0.113.7']") == [("ip", "203.0.113.7")]
    assert kinds("[ipv4-addr:value = '223.166.0.0/15']") == [("ip", "223.166.0.0/15")]
    assert kinds("[ipv6-addr:value = '2001:DB8::/32']") == [("ip", "2001:db8::/32")]
    assert kinds("[url:value = 'HTTP://Evil.Example:80/a%7eb']") == [
        ("url", "http://evil.example/a~b")
    ]
    digest = "AB" * 32
    assert kinds(f"[file:hashes.'SHA-256' = '{digest}']") == [("file", f"SHA-256:{digest.lower()}")]
    assert kinds("[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']") == [
        ("file", "MD5:001dd76872d80801692ff942308c64e6")
    ]


def test_or_and_in_keep_every_operand() -> None:
    pattern = (
        "[domain-name:value = 'a.example' OR ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]"
        " OR [url:value = 'http://b.example/x']"
    )
    assert kinds(pattern) == [
        ("domain", "a.example"),
        ("ip", "192.0.2.1"),
        ("ip", "192.0.2.2"),
        ("url", "http://b.example/x"),
    ]
    assert kinds("[ipv4-addr:value ISSUBSET '198.51.100.0/24']") == [("ip", "198.51.100.0/24")]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '1.2.3.4']",
         "AND"),
        ("[domain-name:value = 'a.example'] AND [url:value = 'http://a.example/']", "AND"),
        ("[domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'http://b.example/']",
         "FOLLOWEDBY"),
        ("[domain-name:value = 'a.example'] REPEATS 5 TIMES", "qualifier"),
        ("[domain-name:value = 'a.example'] WITHIN 60 SECONDS", "qualifier"),
        ("[domain-name:value != 'a.example']", "negated"),
        ("[domain-name:value NOT = 'a.example']", "negated"),
        ("[domain-name:value LIKE '%.example']", "LIKE"),
        ("[url:value MATCHES '^http://a']", "MATCHES"),
        ("[file:name = 'dropper.exe']", "not present"),
        ("[file:hashes.'SHA-256' = 'abc']", "not a SHA-256 digest"),
        ("[domain-name:value = 'com.cn']", "public suffix"),
        ("[domain-name:value = 'domain autuo.xicp.net']", "whitespace"),
        ("[ipv4-addr:value = '2001:db8::1']", "not an IPv4 address"),
        ("[ipv4-addr:value = '10.0.0.1/8']", "10.0.0.0/8"),
    ],
)  # fmt: skip
def test_unsupported_parts_are_reported_and_never_matched(pattern: str, reason: str) -> None:
    parsed = parse_pattern(pattern)
    assert parsed.observables == []
    assert any(reason in why for why in parsed.unsupported), parsed.unsupported


def test_or_keeps_the_matchable_half_of_a_mixed_pattern() -> None:
    parsed = parse_pattern("[domain-name:value = 'a.example' OR file:name = 'x.exe']")
    assert parsed.observables == [Observable("domain", "a.example")]
    assert len(parsed.unsupported) == 1


def test_an_invalid_pattern_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"not a valid STIX 2\.1 pattern"):
        parse_pattern("[domain-name:value = ")
