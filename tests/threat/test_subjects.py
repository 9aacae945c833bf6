"""Subject kinds of threat findings: ``<uscc>:<indicator>`` and ``indicator:<value>``."""

from __future__ import annotations

from longpan.core import identifiers as ids
from longpan.core.subjects import canonical_subject, parse_subject

UNIT = ids.make_uscc("9", "1", "320100", "MA1XXX01")


def test_ioc_subjects_are_recognised_and_canonical() -> None:
    assert parse_subject(f"{UNIT}:Evil.Example").kind == "ioc"
    assert canonical_subject(f" {UNIT.lower()}:Evil.Example ") == f"{UNIT}:evil.example"
    assert canonical_subject(f"{UNIT}:10.1.0.0/16") == f"{UNIT}:10.1.0.0/16"
    url = f"{UNIT}:http://evil.example/ICP/x"  # 'ICP' in a URL is not an ICP number
    assert parse_subject(url).value == url


def test_indicator_subjects_are_recognised() -> None:
    found = parse_subject("indicator:Evil.Example")
    assert (found.kind, found.value) == ("indicator", "indicator:evil.example")
    assert canonical_subject("INDICATOR:2001:DB8::1") == "indicator:2001:db8::1"


def test_other_kinds_are_unchanged() -> None:
    assert parse_subject(UNIT).kind == "uscc"
    assert parse_subject("evil.example").kind == "domain"
    assert parse_subject("192.0.2.1").kind == "ip"
    # 18 characters that are not a valid 统一社会信用代码 are no ioc subject
    assert canonical_subject("913201001234567890:evil.example") == (
        "913201001234567890:evil.example"
    )
