"""Finding subjects: the kind of an identifier and its canonical form."""

from __future__ import annotations

import pytest

from longpan.core.errors import IdentifierError
from longpan.core.subjects import parse_subject


@pytest.mark.parametrize(
    ("value", "kind", "canonical"),
    [
        ("苏ICP备 12345678 号", "icp_subject", "苏ICP备12345678号"),
        ("苏ICP备12345678号－2", "icp_service", "苏ICP备12345678号-2"),
        ("MyICP.com.", "domain", "myicp.com"),  # "ICP" in a name does not make a licence
        ("icp.gov.cn", "domain", "icp.gov.cn"),
        ("add-bed.cc", "domain", "add-bed.cc"),  # hex digits and a dash, not a range
        ("10.0.0.0/30", "ip_range", "10.0.0.0-10.0.0.3"),
        ("10.0.0.1:443", "service", "10.0.0.1:443"),
    ],
)
def test_kind_and_canonical_form(value: str, kind: str, canonical: str) -> None:
    subject = parse_subject(value)
    assert (subject.kind, subject.value) == (kind, canonical)


def test_a_broken_licence_reports_the_licence_error() -> None:
    with pytest.raises(IdentifierError) as info:
        parse_subject("苏ICP备123号")
    assert info.value.kind == "ICP number"
