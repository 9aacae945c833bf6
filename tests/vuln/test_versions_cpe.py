"""Version parsing and CPE attribute rules, on the shapes real products use."""

from __future__ import annotations

import pytest

from longpan.core.errors import InputError
from longpan.vuln.cpe import attribute_matches, parse_cpe, unquote
from longpan.vuln.versions import compare, parse_version, split_banner_version


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("2.4.49", "2.4.50"),
        ("13.0", "13.0-92.19"),  # Citrix: 13.0 build 92.19
        ("13.0-92.18", "13.0-92.19"),
        ("13.0-92.19", "13.1"),
        ("2.5.10", "2.5.10.1"),  # four parts
        ("12.2.1.2.0", "12.2.1.3.0"),  # five parts
        ("9.0.0.M10", "9.0.0"),  # milestone before the release
        ("2.0.0-alpha1", "2.0.0-beta1"),
        ("2.0.0-beta1", "2.0.0-rc1"),
        ("2.0.0-rc1", "2.0.0"),
        ("1.0.2j", "1.0.2k"),  # OpenSSL letters
        ("2.426.3", "2.442"),
        ("9.8", "9.9p1"),
    ],
)
def test_order(lower: str, higher: str) -> None:
    a, b = parse_version(lower), parse_version(higher)
    assert a is not None and b is not None
    assert compare(a, b) == -1 and compare(b, a) == 1


def test_post_release_updates_rank_as_the_release() -> None:
    # NVD ranges are on the version field: 9.8p1 is not < 9.8, 9.7p1 is <= 9.7
    assert compare(parse_version("9.8p1"), parse_version("9.8")) == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("banner", "version", "update"),
    [
        ("8.9p1", "8.9", "p1"),
        ("8.9p1 Ubuntu 3ubuntu0.6", "8.9", "p1"),
        ("9.0.0.M10", "9.0.0", "milestone10"),
        ("2.0.0-RC1", "2.0.0", "rc1"),
        ("9.1R11.3", "9.1", "r11.3"),
        ("13.0-92.19", "13.0-92.19", None),
        ("2.4.49-ubuntu", "2.4.49-ubuntu", None),
    ],
)
def test_banner_versions_split_as_nvd_writes_them(
    banner: str, version: str, update: str | None
) -> None:
    assert split_banner_version(banner)[:2] == (version, update)


@pytest.mark.parametrize("text", ["unknown", "", "latest", "-", "*", "v", "1.2.3.4.5.6.7.8.9"])
def test_unparseable_versions(text: str) -> None:
    assert parse_version(text) is None


def test_distribution_suffix_is_kept_but_not_compared() -> None:
    v = parse_version("2.4.41-4ubuntu3.14")
    assert v is not None and v.local == "4ubuntu3.14"
    assert v.exact_key == parse_version("2.4.41").exact_key  # type: ignore[union-attr]


def test_schemes_are_not_compared() -> None:
    assert compare(parse_version("2016"), parse_version("15.1.2375")) is None  # type: ignore[arg-type]


def test_cpe_parsing_keeps_quoting_and_checks_shape() -> None:
    cpe = parse_cpe(r"cpe:2.3:a:nodejs:node\.js:14.0.0:*:*:*:*:*:*:*")
    assert cpe.product == r"node\.js" and unquote(cpe.product) == "node.js"
    with pytest.raises(InputError, match="components"):
        parse_cpe("cpe:2.3:a:apache:http_server")
    with pytest.raises(InputError, match="part"):
        parse_cpe("cpe:2.3:x:apache:http_server:*:*:*:*:*:*:*:*")


@pytest.mark.parametrize(
    ("criteria", "asset", "expected"),
    [
        ("*", "lts", True),  # ANY covers everything
        ("-", "-", True),
        ("-", "*", True),  # an inventory silent on the edition runs the plain one
        ("-", "fips", False),
        ("fips", "*", False),  # no claim without evidence
        ("lts", "lts", True),
        ("9.0_*", "9.0_aarch64", True),  # embedded wildcard
        ("9.0_*", "9.4_aarch64", False),
    ],
)
def test_attribute_rules(criteria: str, asset: str, expected: bool) -> None:
    assert attribute_matches(criteria, asset) is expected
