"""Domain names: canonical form, registered domain, containment, display."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from longpan.core.errors import IdentifierError
from longpan.core.identifiers import canonical_domain, is_within, registered_domain, to_unicode


def reason_of(value: str) -> str:
    with pytest.raises(IdentifierError) as info:
        canonical_domain(value)
    assert info.value.kind == "domain"
    return info.value.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", "example.com"),
        ("  WWW.Example.COM.  ", "www.example.com"),
        ("例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
        ("XN--FSQU00A.XN--FIQS8S.", "xn--fsqu00a.xn--fiqs8s"),
        ("例子。中国", "xn--fsqu00a.xn--fiqs8s"),  # ideographic full stop
        ("例子．中国", "xn--fsqu00a.xn--fiqs8s"),  # full-width full stop
        ("例子｡中国｡", "xn--fsqu00a.xn--fiqs8s"),  # half-width ideographic stop, trailing
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),  # full-width letters
        ("_dmarc.example.com", "_dmarc.example.com"),
        ("_sip._tcp.Example.com", "_sip._tcp.example.com"),
        ("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
        ("1password.com", "1password.com"),
        ("www.例子.公司.hk", "www.xn--fsqu00a.xn--55qx5d.hk"),
        ("faß.de", "xn--fa-hia.de"),  # IDNA2008, non-transitional
    ],
)
def test_canonical_domain(value: str, expected: str) -> None:
    assert canonical_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "no labels"),
        ("a..b", "label 2 is empty"),
        (".example.com", "label 1 is empty"),
        ("example.com..", "label 3 is empty"),
        ("com", "single label"),
        ("localhost.", "single label"),
        ("-abc.com", "starts or ends with a hyphen"),
        ("abc-.com", "starts or ends with a hyphen"),
        ("a" * 64 + ".com", "64 octets long (at most 63)"),
        (".".join(["a" * 63] * 4), "255 octets long (at most 253)"),
        ("http://example.com", "looks like a URL"),
        ("example.com/path", "cannot contain '/'"),
        ("example.com:8080", "cannot contain ':'"),
        ("user@example.com", "cannot contain '@'"),
        ("exa mple.com", "whitespace"),
        ("example.com?q=1", "cannot contain '?'"),
        ("1.2.3.4", "IP address"),
        ("2001:db8::1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("1.2.3", "top-level label '3' is all digits"),
        ("exa!mple.com", "contains '!'"),
        ("xn--zz.com", "'xn--zz' is not valid punycode"),
        ("xn--abc.com", "not valid punycode"),
        ("😀.com", "cannot be converted to IDNA"),
        ("例子／中国.com", "cannot contain '/'"),  # full-width solidus
    ],
)
def test_canonical_domain_errors(value: str, expected: str) -> None:
    assert expected in reason_of(value)


def test_longest_valid_name() -> None:
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(name) == 253
    assert canonical_domain(name + ".") == name


def test_label_length_counts_the_a_label() -> None:
    # 20 CJK characters fit in 63 Unicode characters but not in 63 octets as an A-label.
    with pytest.raises(IdentifierError, match="octets long"):
        canonical_domain("中" * 60 + ".com")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a.b.www.example.com.cn", "example.com.cn"),
        ("WWW.EXAMPLE.COM.CN.", "example.com.cn"),
        ("www.beijing.gov.cn", "beijing.gov.cn"),
        ("news.tsinghua.edu.cn", "tsinghua.edu.cn"),
        ("www.example.org.cn", "example.org.cn"),
        ("www.example.cn", "example.cn"),
        ("www.example.net", "example.net"),
        ("例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("www.例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("WWW.XN--FSQU00A.XN--FIQS8S.", "xn--fsqu00a.xn--fiqs8s"),
        ("邮件.例子.公司", "xn--fsqu00a.xn--55qx5d"),
        ("a.例子.公司.hk", "xn--fsqu00a.xn--55qx5d.hk"),  # punycode second-level suffix
        ("mail.bücher.de", "xn--bcher-kva.de"),
        ("_dmarc.example.com", "example.com"),
        ("foo.blogspot.com", "blogspot.com"),  # private suffixes are ignored
        ("bucket.s3.amazonaws.com", "amazonaws.com"),
        ("a.b.example.co.uk", "example.co.uk"),
    ],
)
def test_registered_domain(value: str, expected: str) -> None:
    assert registered_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("com.cn", "'com.cn' is itself a public suffix"),
        ("gov.cn.", "itself a public suffix"),
        ("xn--55qx5d.hk", "itself a public suffix"),
        ("co.uk", "itself a public suffix"),
        ("foo.notarealtld", "does not end in a known public suffix"),
        ("example.local", "does not end in a known public suffix"),
        ("http://example.com", "URL"),
    ],
)
def test_registered_domain_errors(value: str, expected: str) -> None:
    with pytest.raises(IdentifierError, match=expected):
        registered_domain(value)


@pytest.mark.parametrize(
    ("fqdn", "domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.c.example.com.", "EXAMPLE.COM", True),
        ("badexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("example.com.evil.net", "example.com", False),
        ("www.例子.中国", "xn--fsqu00a.xn--fiqs8s", True),
        ("www.example.cn", "cn", True),
        ("www.example.cn", "中国", False),
        ("a.xn--fsqu00a.xn--fiqs8s", "中国", True),
    ],
)
def test_is_within(fqdn: str, domain: str, expected: bool) -> None:
    assert is_within(fqdn, domain) is expected


def test_is_within_rejects_bad_names() -> None:
    with pytest.raises(IdentifierError):
        is_within("a..b", "b")
    with pytest.raises(IdentifierError):
        is_within("com", "com")


def test_to_unicode() -> None:
    assert to_unicode("xn--fsqu00a.xn--fiqs8s") == "例子.中国"
    assert to_unicode("WWW.xn--bcher-kva.example.") == "www.bücher.example"
    assert to_unicode("_dmarc.example.com") == "_dmarc.example.com"


_ascii_label = st.from_regex(r"[a-z0-9_]([a-z0-9_-]{0,20}[a-z0-9_])?", fullmatch=True)
_unicode_label = st.text(alphabet="例子中国测试网络公司ü", min_size=1, max_size=8)
_label = _ascii_label | _unicode_label
_tld = st.sampled_from(["com", "cn", "中国", "xn--fiqs8s", "公司", "com.cn", "gov.cn"])


@given(st.lists(_label, min_size=1, max_size=4), _tld, st.booleans(), st.booleans())
def test_canonical_domain_is_idempotent(
    labels: list[str], tld: str, upper: bool, trailing_dot: bool
) -> None:
    raw = ".".join([*labels, tld])
    raw = raw.upper() if upper else raw
    raw = raw + "." if trailing_dot else raw
    name = canonical_domain(raw)
    assert name.isascii() and name == name.lower()
    assert canonical_domain(name) == name
    assert canonical_domain(to_unicode(name)) == name
    assert is_within(name, registered_domain(name))


_messy = st.lists(
    st.sampled_from([*"aZ9-_.。．｡/:@ 例ü%", "xn--", ".com", ".cn", "\u200b", "1.2.3.4", "::"]),
    max_size=12,
).map("".join) | st.text(max_size=20)


@given(_messy)
def test_only_identifier_errors_escape(value: str) -> None:
    try:
        name = canonical_domain(value)
    except IdentifierError:
        return
    assert canonical_domain(name) == name
    assert canonical_domain(to_unicode(name)) == name
