"""The three log tables: canonical values, derived join columns, bad rows refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.core.errors import InputError
from longpan.resources.exchange.netlogs import base_domain, base_hash, canonical_url, name_hash
from longpan.resources.ingest import IngestErrors, ingest_folder
from longpan.store.datasets import DNS_LOGS, FLOW_LOGS, HTTP_LOGS
from longpan.store.workspace import Workspace
from tests.threat.conftest import UNITS

A = UNITS[0]


@pytest.mark.parametrize(
    ("given", "host", "expected"),
    [
        ("HTTP://Evil.Example:80/a/%7euser/%2F?q=%41#frag", None,
         "http://evil.example/a/~user/%2F?q=A"),
        ("https://evil.example:443", None, "https://evil.example/"),
        ("https://evil.example:8443/x", None, "https://evil.example:8443/x"),
        ("evil.example/x", None, "http://evil.example/x"),
        ("/x?y=1", "Dl.Example.NET", "http://dl.example.net/x?y=1"),
        ("http://user:pw@[2001:DB8::1]/", None, "http://[2001:db8::1]/"),
        ("http://例子.中国/路径", None, "http://xn--fsqu00a.xn--fiqs8s/路径"),
    ],
)  # fmt: skip
def test_canonical_url(given: str, host: str | None, expected: str) -> None:
    assert canonical_url(given, host) == expected


def test_canonical_url_refuses_non_urls() -> None:
    with pytest.raises(ValueError, match="no host"):
        canonical_url("http:///path")


def test_base_domain_and_its_hash() -> None:
    assert base_domain("a.b.evil.example.com.cn") == "example.com.cn"
    assert base_domain("x.evil.example") == "evil.example"  # a suffix the list does not know
    assert base_domain("com.cn") == "com.cn"
    assert base_hash("a.b.evil.example") == base_hash("evil.example") == name_hash("evil.example")
    assert base_hash("notevil.example") != base_hash("evil.example")
    assert name_hash("evil.example") == -1045077736996907317  # fixed: stored in the lake


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text(text, "utf-8")


def test_logs_ingest_with_derived_columns(sqlite_ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write(
        folder,
        "dns_logs",
        "ts,org_uscc,client_ip,qname,answer\n"
        f"2024-12-30T08:00:00+08:00,{A.lower()},10.0.0.5,A.B.Evil.Example.,198.51.100.9\n"
        f"2024-12-30T09:00:00,{A},10.0.0.5,www.example.com.cn,cdn.example.net.\n",
    )
    write(
        folder,
        "flow_logs",
        f"ts,org_uscc,src,dst,dport,bytes\n2024-12-30T08:00:00,{A},10.0.0.5,2001:DB8::1,443,100\n",
    )
    write(folder, "http_logs", "ts,org_uscc,host,url\n"
          f"2024-12-30T08:00:00,{A},198.51.100.9,/index.html\n")  # fmt: skip
    ingest_folder(sqlite_ws, folder)
    dns = sqlite_ws.lake.read(DNS_LOGS).to_pylist()
    assert dns[0]["org_uscc"] == A and str(dns[0]["ts"]) == "2024-12-30 00:00:00"
    assert dns[0]["qname"] == "a.b.evil.example" and dns[0]["base_domain"] == "evil.example"
    assert dns[0]["base_hash"] == name_hash("evil.example")
    assert dns[0]["answer_key"] == "00000000000000000000ffffc6336409"
    assert (dns[1]["base_domain"], dns[1]["answer"], dns[1]["answer_key"]) == (
        "example.com.cn", "cdn.example.net", None,
    )  # fmt: skip
    flow = sqlite_ws.lake.read(FLOW_LOGS).to_pylist()[0]
    assert flow["dst"] == "2001:db8::1" and flow["dst_key"] == "20010db8000000000000000000000001"
    http = sqlite_ws.lake.read(HTTP_LOGS).to_pylist()[0]
    assert http["url_norm"] == "http://198.51.100.9/index.html"
    assert http["host_key"] and http["host_base_hash"] is None and http["host_base_domain"] is None


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("dns_logs", "ts,org_uscc,client_ip,qname,answer\n2024-12-30,{A},10.0.0.999,a.example,\n",
         "client_ip"),
        ("flow_logs", "ts,org_uscc,src,dst,dport,bytes\n2024-12-30,{A},10.0.0.1,10.0.0.2,70000,1\n",
         "dport"),
        ("http_logs", "ts,org_uscc,host,url\n2024-12-30,{A},a.example,http://:80/\n", "url"),
        ("dns_logs", "ts,org_uscc,client_ip,qname,answer\nyesterday,{A},10.0.0.1,a.example,\n",
         "ts"),
    ],
)  # fmt: skip
def test_bad_log_rows_are_refused_and_nothing_is_written(
    sqlite_ws: Workspace, tmp_path: Path, name: str, text: str, column: str
) -> None:
    folder = tmp_path / "bad"
    write(folder, name, text.replace("{A}", A))
    with pytest.raises(IngestErrors) as caught:
        ingest_folder(sqlite_ws, folder)
    err: InputError = caught.value
    assert err.line == 2 and column in str(err.column)
    assert sqlite_ws.lake.current(name) is None
