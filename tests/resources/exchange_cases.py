"""Generated exchange-format tables for the batch-vs-row equivalence tests.

Every table mixes canonical cells, cells that need canonicalising (uppercase and
Unicode domains, trailing dots, full-width ICP numbers and USCCs, non-canonical IPv6,
timestamps with offsets, padded text) and bad cells, drawn from small pools so that
keys repeat (duplicates) now and then.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from longpan.core import identifiers as ids

Row = dict[str, Any]

DOMAINS = [
    "example.com",
    "www.example.com",
    "WWW.Example.COM.",
    "api.runzebank.com.cn",
    "例子.中国",
    "www.例子.中国",
    "xn--fsqu00a.xn--fiqs8s",
    "ｗｗｗ．example。com",
    "_dmarc.example.com",
    " padded.example.org ",
    "ab--cd.example.net",
    "foo.kawasaki.jp",
    "city.kawasaki.jp",
    "a.b.c.nanjing.gov.cn",
    "x.blogspot.com",
    "com.cn",
    "www.ck",
    "shop.unknown-tld-zz",
    "a..b.cn",
    "1.2.3.4",
    "bad name.com",
    "https://example.com/",
    "-bad.example.com",
    "xn--zz.com",
    "XN--FSQU00A.XN--FIQS8S",
    "tld.123",
    "x" * 64 + ".com",
    "single",
]
IPV4 = ["10.0.0.1", "221.226.10.10", "0.0.0.0", "255.255.255.255", "010.0.0.1", "256.1.1.1"]
IPV6 = ["2001:da8:1000::80", "2001:0DA8:1000:0000::0080", "::ffff:1.2.3.4", "fe80::1%eth0", "::1"]
TEXT = ["v=spf1 -all", " padded text ", "含中文", "", "   ", "x\u3000", "a\x1fb"]
TIMESTAMPS = [
    "2024-01-03T00:00:00Z",
    "2024-01-03T00:00:00",
    "2024-01-03 08:00:00+08:00",
    "2024-01-03",
    "2024-01-03T10:02:11.5",
    "2024-01-03T10:02:11.123456-05:30",
    "2024-01-03T10:02:11.12+00:00",
    "2024-02-29T23:59:59Z",
    "2023-02-29T00:00:00",
    "2024-01-03T24:00:00",
    "2024-01-03T10:02",
    "20240103",
    "2024-01-03T10:02:11.1234567",
    "2024-01-03T10:02:11+0800",
    "2024-01-03x10:02:11",
    "0999-01-01T00:00:00",
    "9999-12-31T23:00:00-05:00",
    "2024-13-01",
    "not a date",
    " 2024-05-06T07:08:09Z ",
    "",
]
DATES = [
    "2024-03-08",
    "2024-02-29",
    "2023-02-29",
    "2024-W10-5",
    "20240308",
    "08/03/2024",
    " 2024-03-08 ",
    "",
]
INTS = ["5", "0", "-1", "+5", "007", "1.0", "１２", "99999999999999999999", "x", " 42 ", ""]
PROVINCES = ["江苏", "江苏省", "浙江", "北京市", "苏", "Jiangsu", " 江苏 ", ""]


def usccs(rng: random.Random) -> list[str]:
    valid = [
        ids.make_uscc("9", "1", "320115", f"MA{rng.randrange(10**5, 10**6)}") for _ in range(3)
    ]
    first = valid[0]
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in first.lower())
    return [*valid, "91320115MA1N4Q7K0N", first.lower(), full_width, first[:-1] + "0", "913201", ""]


def icp_numbers(rng: random.Random) -> list[tuple[str, str]]:
    """(service number as written, subject number as written) pairs, some inconsistent."""
    pairs = []
    for _ in range(4):
        digits = str(rng.randrange(10**7, 10**8))
        service = rng.randrange(1, 4)
        pairs.append((f"苏ICP备{digits}号-{service}", f"苏ICP备{digits}号"))
    digits = str(rng.randrange(10**7, 10**8))
    wide = "".join(chr(ord(c) + 0xFEE0) for c in digits)
    pairs += [
        (f"苏icp备{wide}号－２", f"苏ICP備{digits}號"),
        (f"苏ICP备2021{digits[:6]}号-1", f"苏ICP备2021{digits[:6]}"),
        (f"苏ICP备{digits}号-01", f"苏ICP备{digits}号"),
        (f"苏ICP备{digits}号", f"苏ICP备{digits}号"),
        (f"苏ICP备{digits}号-1", f"浙ICP备{digits}号"),
        ("ICP备12345678号-1", "苏ICP备123号"),
    ]
    return pairs


def _pick(rng: random.Random, pool: list[Any]) -> Any:
    return pool[rng.randrange(len(pool))]


def dns_row(rng: random.Random, _: dict[str, Any]) -> Row:
    rrtype = _pick(
        rng, ["A", "A", "A", "a", " A ", "AAAA", "CNAME", "cname", "NS", "MX", "TXT", "", "ß"]
    )
    upper = rrtype.strip().upper()
    if upper == "A":
        value = _pick(rng, IPV4 + IPV4 + IPV6[:1])
    elif upper == "AAAA":
        value = _pick(rng, IPV6 + IPV4[:1])
    elif upper in ("CNAME", "NS"):
        value = _pick(rng, DOMAINS)
    else:
        value = _pick(rng, TEXT + DOMAINS[:3])
    return {
        "fqdn": _pick(rng, DOMAINS),
        "rrtype": rrtype,
        "value": value,
        "first_seen": _pick(rng, TIMESTAMPS),
        "last_seen": _pick(rng, TIMESTAMPS),
        "count": _pick(rng, INTS),
    }


def web_crawl_row(rng: random.Random, pools: dict[str, Any]) -> Row:
    service, _ = _pick(rng, pools["icp"])
    footer = _pick(
        rng, [f"© 2024 某公司 {service} 苏公网安备32010202010001号", service, "", "无备案", "  "]
    )
    return {
        "url": _pick(rng, ["https://www.example.com/", "https://a.cn/x", " https://b.cn ", ""]),
        "fqdn": _pick(rng, DOMAINS),
        "fetched_at": _pick(rng, TIMESTAMPS),
        "http_status": _pick(rng, ["200", "404", "0", "", "2xx", "500"]),
        "title": _pick(rng, TEXT),
        "content_length": _pick(rng, INTS),
        "footer_icp": footer,
    }


def ip_filing_row(rng: random.Random, pools: dict[str, Any]) -> Row:
    start = _pick(rng, ["221.226.0.0", "10.0.0.0", "2001:DA8::", "010.1.1.1", "58.240.0.0"])
    end = _pick(rng, ["221.226.255.255", "10.0.0.0", "2001:da8::ffff", "9.255.255.255", "bad"])
    return {
        "start_ip": start,
        "end_ip": end,
        "reporter_uscc": _pick(rng, pools["uscc"]),
        "source_unit": _pick(rng, TEXT),
        "allocation": _pick(rng, ["再次分配", "自用", "预留", "分配且使用", "other", ""]),
        "user_name": _pick(rng, ["南京云擎", "", " 苏州星桥 "]),
        "user_uscc": _pick(rng, pools["uscc"]),
        "province": _pick(rng, PROVINCES),
        "city": _pick(rng, ["南京", "", "苏州"]),
        "filed_at": _pick(rng, DATES),
    }


def icp_service_row(rng: random.Random, pools: dict[str, Any]) -> Row:
    service, subject = _pick(rng, pools["icp"])
    domains = ";".join(rng.sample(DOMAINS[:16], rng.randrange(0, 4)))
    return {
        "service_licence": service,
        "subject_licence": subject,
        "service_type": _pick(rng, ["website", "website", "app", "miniprogram", "web", ""]),
        "name": _pick(rng, ["润泽", " 鼎新 ", ""]),
        "domains": _pick(rng, [domains, domains, "a.cn;;A.CN;", ";", "bad name.cn;x.cn", ""]),
        "access_provider_uscc": _pick(rng, pools["uscc"]),
        "access_ips": _pick(
            rng, ["221.226.10.10;2001:0DA8::80", "", "010.1.1.1", "10.0.0.1;10.0.0.1"]
        ),
        "approved_at": _pick(rng, DATES),
        "status": _pick(rng, ["active", "cancelled", "Active", ""]),
    }


def icp_subject_row(rng: random.Random, pools: dict[str, Any]) -> Row:
    _, subject = _pick(rng, pools["icp"])
    return {
        "subject_licence": subject,
        "uscc": _pick(rng, pools["uscc"]),
        "unit_name": _pick(rng, ["某公司", " 某单位 ", ""]),
        "nature": _pick(rng, ["企业", "个人", "事业单位"]),
        "province": _pick(rng, PROVINCES),
        "approved_at": _pick(rng, DATES),
        "status": _pick(rng, ["active", "cancelled", "gone"]),
    }


def organisation_row(rng: random.Random, pools: dict[str, Any]) -> Row:
    roles = ";".join(rng.sample(["carrier", "access_provider", "key_unit", "Carrier", "x"], 2))
    return {
        "uscc": _pick(rng, pools["uscc"]),
        "name": _pick(rng, ["中国电信", " 南京云擎 ", ""]),
        "roles": _pick(rng, [roles, "carrier", ";", "", "key_unit;key_unit"]),
    }


def entity_row(rng: random.Random, pools: dict[str, Any]) -> Row:
    return {
        "uscc": _pick(rng, pools["uscc"]),
        "name": _pick(rng, ["某公司", ""]),
        "kind": _pick(rng, ["企业", "个体工商户"]),
        "province": _pick(rng, PROVINCES),
        "city": _pick(rng, ["南京", ""]),
        "status": _pick(rng, ["存续", "注销", "吊销", "dead", ""]),
        "status_date": _pick(rng, DATES),
    }


def registrar_row(rng: random.Random, _: dict[str, Any]) -> Row:
    return {
        "iana_id": _pick(rng, INTS),
        "name": _pick(rng, ["Alibaba Cloud Computing (Beijing) Co., Ltd.", '"Quoted" Inc', ""]),
        "country": _pick(rng, ["CN", "cn", "USA", "ß", " us ", ""]),
        "cn_licence": _pick(rng, ["许可", ""]),
    }


def domain_registration_row(rng: random.Random, _: dict[str, Any]) -> Row:
    return {
        "domain": _pick(rng, DOMAINS),
        "observed_at": _pick(rng, TIMESTAMPS),
        "registrar_iana_id": _pick(rng, INTS),
        "registrar_name": _pick(rng, TEXT),
        "registrant": _pick(rng, TEXT),
        "created_at": _pick(rng, TIMESTAMPS),
        "expires_at": _pick(rng, TIMESTAMPS),
        "status": _pick(rng, ["ok", "", "clientTransferProhibited"]),
    }


ROWS: dict[str, Callable[[random.Random, dict[str, Any]], Row]] = {
    "dns_observations": dns_row,
    "web_crawls": web_crawl_row,
    "ip_filings": ip_filing_row,
    "icp_services": icp_service_row,
    "icp_subjects": icp_subject_row,
    "organisations": organisation_row,
    "entities": entity_row,
    "registrars": registrar_row,
    "domain_registrations": domain_registration_row,
}


def generate(table: str, seed: int, count: int) -> list[Row]:
    rng = random.Random(f"{table}:{seed}")
    pools = {"uscc": usccs(rng), "icp": icp_numbers(rng)}
    rows = [ROWS[table](rng, pools) for _ in range(count)]
    for row in rows:
        if rng.random() < 0.1:
            row["remark"] = _pick(rng, ["备注", "", " x "])
        else:
            row["remark"] = "r"
    return rows


def write_csv(path: Path, rows: list[Row], rng: random.Random) -> None:
    """CSV with random quoting, blank rows, and CRLF or LF line ends."""
    header = list(rows[0])
    rng.shuffle(header)
    out = io.StringIO(newline="")
    quoting = _pick(rng, [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
    writer = csv.writer(out, quoting=quoting, lineterminator=_pick(rng, ["\n", "\r\n"]))
    writer.writerow(header)
    for row in rows:
        if rng.random() < 0.03:
            writer.writerow([""] * len(header) if rng.random() < 0.5 else [])
        writer.writerow([row[h] for h in header])
    path.write_text(out.getvalue(), "utf-8", newline="")


def write_parquet_strings(path: Path, rows: list[Row], row_group: int = 7) -> None:
    """Every column a string column; some empty cells as nulls."""
    header = list(rows[0])
    columns = {
        h: [None if r[h] == "" and i % 2 else r[h] for i, r in enumerate(rows)] for h in header
    }
    pq.write_table(pa.table(columns), path, row_group_size=row_group)


def native_value(column: str, value: Any, rng: random.Random) -> Any:
    """A Parquet-native form of a generated cell, where one exists."""
    if column in ("first_seen", "last_seen", "fetched_at", "observed_at", "created_at"):
        try:
            parsed = datetime.fromisoformat(str(value).strip())
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(timezone(timedelta(hours=rng.choice([8, -5]))))
        except (ValueError, OverflowError):
            return None
    if column in ("approved_at", "filed_at", "status_date"):
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            return None
    return value


def write_parquet_native(path: Path, rows: list[Row], rng: random.Random) -> None:
    """Timestamps (zoned), dates, integers and lists in native Parquet types."""
    header = list(rows[0])
    columns: dict[str, pa.Array] = {}
    for h in header:
        values = [native_value(h, r[h], rng) for r in rows]
        if h in ("count", "http_status", "content_length", "iana_id", "registrar_iana_id"):
            ints = [
                int(v) if str(v).strip().lstrip("-").isdigit() and len(str(v)) < 12 else None
                for v in values
            ]
            columns[h] = pa.array(ints, pa.int64())
        elif h in ("domains", "access_ips", "roles"):
            columns[h] = pa.array([_items(str(v), rng) for v in values], pa.list_(pa.string()))
        elif values and isinstance(next((v for v in values if v is not None), ""), datetime):
            zone = rng.choice(["Asia/Shanghai", "UTC", None])
            columns[h] = pa.array(
                values, pa.timestamp(rng.choice(["us", "ms"]) if zone else "us", tz=zone)
            )
        elif values and isinstance(next((v for v in values if v is not None), ""), date):
            columns[h] = pa.array(values, pa.date32())
        else:
            columns[h] = pa.array([None if v is None else str(v) for v in values], pa.string())
    pq.write_table(pa.table(columns), path, row_group_size=5)


def _items(value: str, rng: random.Random) -> list[str | None] | None:
    """A list cell: the ';' items, sometimes with a null item, sometimes null or empty."""
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.1:
        return []
    items: list[str | None] = list(value.split(";"))
    if roll < 0.15:
        items.append(None)
    return items
