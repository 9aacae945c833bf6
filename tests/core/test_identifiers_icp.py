"""ICP filing (ICP备) and licence (ICP证) numbers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from longpan.core.errors import IdentifierError
from longpan.core.identifiers import (
    IcpNumber,
    find_icp_numbers,
    parse_icp,
    parse_service_licence,
    parse_subject_licence,
)
from longpan.core.identifiers.icp import PROVINCES


def reason_of(value: str) -> str:
    with pytest.raises(IdentifierError) as info:
        parse_icp(value)
    assert info.value.kind == "ICP number"
    return info.value.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("苏ICP备12345678号", IcpNumber("苏", "备", "12345678", None)),
        ("苏ICP备2023012345号-3", IcpNumber("苏", "备", "2023012345", 3)),
        ("京ICP证030173号", IcpNumber("京", "证", "030173", None)),
        ("京ICP证030173号-1", IcpNumber("京", "证", "030173", 1)),
        ("粤ICP备2004000001号-120", IcpNumber("粤", "备", "2004000001", 120)),
    ],
)
def test_canonical_forms(value: str, expected: IcpNumber) -> None:
    assert parse_icp(value) == expected
    assert str(parse_icp(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        "苏ICP备１２３４５６７８号－１",  # full-width digits and hyphen
        "苏ＩＣＰ备12345678号-1",  # full-width letters
        "苏icp备12345678号-1",
        "苏Icp备12345678號-1",  # traditional 號
        " 苏 ICP 备 1234 5678 号 - 1 ",
        "苏ICP备\u300012345678\u3000号-1",  # ideographic spaces
        "苏ICP\u200b备1234\u200b5678号\ufeff-1",  # zero-width characters
        "苏ICP备12345678号–1",  # en dash
        "苏ICP备12345678号—1",  # em dash
        "苏ICP备12345678号‑1",  # non-breaking hyphen
        "苏ICP备12345678号−1",  # minus sign
        "苏ICP备12345678-1",  # missing 号
    ],
)
def test_tolerant_normalisation(value: str) -> None:
    assert str(parse_icp(value)) == "苏ICP备12345678号-1"


def test_traditional_variants_of_kind() -> None:
    assert str(parse_icp("京ICP證030173號")) == "京ICP证030173号"
    assert str(parse_icp("京ICP備12345678號")) == "京ICP备12345678号"


def test_properties() -> None:
    icp = parse_icp("苏ICP备2023012345号-3")
    assert icp.subject_licence == "苏ICP备2023012345号"
    assert icp.is_service and not icp.is_licence
    subject = parse_icp("京ICP证030173号")
    assert subject.subject_licence == str(subject)
    assert not subject.is_service and subject.is_licence
    with pytest.raises(dataclasses.FrozenInstanceError):
        icp.service = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "empty"),
        ("港ICP备12345678号", "'港' is not one of the 31 province abbreviations"),
        ("台ICP备12345678号", "'台' is not one of the 31 province abbreviations"),
        ("ICP备12345678号", "missing the province abbreviation"),
        ("京ICB备12345678号", "expected 'ICP' after '京', got 'ICB'"),
        ("京ICP许12345678号", "expected '备' (filing) or '证' (licence) after 'ICP', got '许'"),
        ("京ICP", "got nothing"),
        ("京ICP备号", "expected digits after 'ICP备'"),
        ("京ICP备", "expected digits after 'ICP备'"),
        ("京ICP备1234567号", "have 8 digits, or 10 digits starting with the year, got 7"),
        ("京ICP备123456789号", "got 9"),
        ("京ICP备20230123456号", "got 11"),
        ("京ICP备2003012345号", "starts with a year 2004-2099, got '2003'"),
        ("京ICP备1999012345号", "got '1999'"),
        ("京ICP证12345678号", "ICP licence numbers (ICP证) have 6 digits, got 8"),
        ("京ICP证03017号", "have 6 digits, got 5"),
        ("京ICP备12345678号-0", "positive integer without leading zeros, got '0'"),
        ("京ICP备12345678号-01", "without leading zeros, got '01'"),
        ("京ICP备12345678号-", "expected a service number after '-'"),
        ("京ICP备12345678号-a", "must be digits, got 'a'"),
        ("京ICP备12345678号x", "unexpected text 'x' after the number"),
        ("京ICP备12345678号号", "unexpected text '号'"),
        ("京公网安备11000002000001号", "expected 'ICP' after '京', got '公网安'"),
    ],
)
def test_errors(value: str, expected: str) -> None:
    assert expected in reason_of(value)


def test_subject_and_service_licences() -> None:
    assert parse_subject_licence("苏ICP备 12345678 号") == "苏ICP备12345678号"
    assert parse_service_licence("苏ICP备12345678号－2") == "苏ICP备12345678号-2"
    with pytest.raises(IdentifierError, match="without a service suffix, got '-2'"):
        parse_subject_licence("苏ICP备12345678号-2")
    with pytest.raises(IdentifierError, match="ending in '-N'"):
        parse_service_licence("苏ICP备12345678号")


def test_find_in_footer() -> None:
    footer = "Copyright © 2024 某某公司 苏ICP备１２３４５６７８号－１ 苏公网安备 32010202000001号"
    assert find_icp_numbers(footer) == [IcpNumber("苏", "备", "12345678", 1)]


def test_find_several_and_deduplicate() -> None:
    text = (
        "京ICP证030173号 京ICP备2023012345号-3 | 京公网安备11000002000001号\n"
        "增值电信业务经营许可证：京B2-20090059 苏ICP备 1234 5678 号 京ICP证030173号"
    )
    assert [str(x) for x in find_icp_numbers(text)] == [
        "京ICP证030173号",
        "京ICP备2023012345号-3",
        "苏ICP备12345678号",
    ]


def test_find_never_returns_public_security_filings() -> None:
    text = "苏公网安备 32010202000001号 京公网安备11000002000001号 沪公网安备31011502000001号"
    assert find_icp_numbers(text) == []


def test_find_tolerates_messy_text() -> None:
    text = "©2024  浙icp备2021000001号-2版权所有 粤ＩＣＰ备１２３４５６７８号"
    assert [str(x) for x in find_icp_numbers(text)] == [
        "浙ICP备2021000001号-2",
        "粤ICP备12345678号",
    ]


def test_find_without_hao_stops_before_following_numbers() -> None:
    assert [str(x) for x in find_icp_numbers("京ICP备12345678 2024 年")] == ["京ICP备12345678号"]


def test_find_keeps_subject_when_suffix_is_malformed() -> None:
    assert [str(x) for x in find_icp_numbers("京ICP备12345678号-01")] == ["京ICP备12345678号"]


def test_find_skips_invalid_candidates() -> None:
    assert find_icp_numbers("京ICP备1234567号 港ICP备12345678号 京ICP证1234号") == []


def test_find_in_empty_text() -> None:
    assert find_icp_numbers("") == []


_icp_numbers = st.builds(
    IcpNumber,
    province=st.sampled_from(sorted(PROVINCES)),
    kind=st.just("备"),
    number=st.from_regex(r"[0-9]{8}|20(0[4-9]|[1-9][0-9])[0-9]{6}", fullmatch=True),
    service=st.none() | st.integers(min_value=1, max_value=9999),
) | st.builds(
    IcpNumber,
    province=st.sampled_from(sorted(PROVINCES)),
    kind=st.just("证"),
    number=st.from_regex(r"[0-9]{6}", fullmatch=True),
    service=st.none() | st.integers(min_value=1, max_value=9999),
)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(_icp_numbers)
def test_str_then_parse_round_trips(icp: IcpNumber) -> None:
    assert parse_icp(str(icp)) == icp
    assert parse_icp(_full_width(str(icp))) == icp
    assert find_icp_numbers(f"页脚 {_full_width(str(icp))} 版权所有") == [icp]


_messy = st.lists(
    st.sampled_from([*"京苏港ICPicp备证號号-－ 0123456789０１２\u3000\u200b", "公网安备"]),
    max_size=25,
).map("".join)


@given(_messy)
def test_parse_and_find_never_crash(text: str) -> None:
    for icp in find_icp_numbers(text):
        assert parse_icp(str(icp)) == icp
    try:
        icp = parse_icp(text)
    except IdentifierError:
        return
    assert parse_icp(str(icp)) == icp
