"""unfiled_website: live, unfiled sites served from the province's filed IP space."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from longpan.compliance.unfiled_website import UnfiledWebsite
from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.detect.store import jsonable
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import make_workspace

TYPE = "unfiled_website"
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
COLUMNS = {
    "icp_subjects": "subject_licence,uscc,unit_name,nature,province,approved_at,status",
    "icp_services": "service_licence,subject_licence,service_type,name,domains,"
    "access_provider_uscc,access_ips,approved_at,status",
    "ip_filings": "start_ip,end_ip,reporter_uscc,source_unit,allocation,user_name,user_uscc,"
    "province,city,filed_at",
    "dns_observations": "fqdn,rrtype,value,first_seen,last_seen,count",
    "web_crawls": "url,fqdn,fetched_at,http_status,title,content_length,footer_icp",
}
TELECOM, MOBILE, UNICOM = "913200001347562336", "913200001347884627", "913200001347182965"
YUNQING, XINGQIAO = "91320115MA1N4Q7K0N", "91320505MA1MT2H35C"  # access providers


def ago(days: float) -> str:
    return (AS_OF - timedelta(days=days)).isoformat()


def write_tables(folder: Path, tables: dict[str, list[tuple[Any, ...]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS[name].split(","))
            writer.writerows(rows)
    return folder


def crawl(fqdn: str, days: float, status: int | None = 200, footer: str = "") -> tuple[Any, ...]:
    length = 20_000 if status and status < 400 else 0
    return (f"https://{fqdn}/", fqdn, ago(days), status, "首页", length, footer)


def a_record(fqdn: str, address: str, days: float = 1, rrtype: str = "A") -> tuple[Any, ...]:
    return (fqdn, rrtype, address, ago(400), ago(days), 100)


def province() -> dict[str, list[tuple[Any, ...]]]:
    """Filed sites, unfiled sites and near misses, each named after what it shows."""
    subjects = [
        ("苏ICP备16078901号", "91320104MA1M8C0L7D", "南京鼎新电子商务有限公司", "企业"),
        ("苏ICP备14001122号", "11320102014103721A", "南京市玄武区文化和旅游局", "政府机关"),
        ("苏ICP备2022067890号", "91320602MA25GJ4W1W", "南通江海文旅发展有限公司", "企业"),
        ("苏ICP备2020045678号", "91320311MA1Y7P2B93", "徐州云帆软件有限公司", "企业"),
    ]
    services = [
        ("苏ICP备16078901号-1", "dingxinmall.com", "221.226.30.5", "active"),
        ("苏ICP备16078901号-2", "dingxin-digital.cn", "221.226.30.6", "active"),
        ("苏ICP备14001122号-1", "njxwwl.gov.cn", "221.226.30.8", "active"),
        ("苏ICP备2022067890号-1", "江海文旅.中国", "112.4.9.130", "active"),
        ("苏ICP备2020045678号-1", "WWW.Partial.CN.", "221.226.30.9", "active"),  # www only
        ("苏ICP备2020045678号-2", "yunfan-old.com.cn", "221.226.30.10", "cancelled"),
        ("苏ICP备2020045678号-3", "blog.sublevel.com", "221.226.30.11", "active"),
    ]
    return {
        "icp_subjects": [(*s, "江苏", "2016-08-10", "active") for s in subjects],
        "icp_services": [
            (lic, lic.split("-")[0], "website", "站点", dom, YUNQING, ip, "2016-08-10", status)
            for lic, dom, ip, status in services
        ],
        "ip_filings": [
            ("221.226.0.0", "221.226.255.255", TELECOM, "", "再次分配", "云擎", YUNQING),
            ("221.226.30.0", "221.226.30.255", YUNQING, "", "自用", "云擎", YUNQING),
            ("112.4.0.0", "112.4.255.255", MOBILE, "", "再次分配", "星桥", XINGQIAO),
            ("112.4.9.0", "112.4.9.255", XINGQIAO, "", "分配且使用", "江海", ""),
            ("59.255.255.0", "60.0.0.255", UNICOM, "", "自用", "", ""),  # spans a /8
            ("240e:100::", "240e:100:ffff:ffff:ffff:ffff:ffff:ffff", XINGQIAO, "", "自用", "", ""),
        ],
        "dns_observations": [
            a_record("anchor.example.org", "8.8.4.4", 0),  # makes the as-of time
            # filed sites, a sister site on its sibling's address, a CDN address
            a_record("dingxinmall.com", "221.226.30.5"),
            a_record("www.dingxinmall.com", "221.226.30.200"),  # CDN node, 自用 pool
            a_record("blog.dingxinmall.com", "221.226.30.5"),
            a_record("dingxin-digital.cn", "221.226.30.5"),  # sister site
            a_record("www.njxwwl.gov.cn", "221.226.30.8"),
            a_record("www.xn--7dv6es6r95a.xn--fiqs8s", "112.4.9.130"),
            a_record("www.partial.cn", "221.226.30.9"),
            a_record("partial.cn", "221.226.30.9"),
            a_record("a.blog.sublevel.com", "221.226.30.11"),
            a_record("sublevel.com", "221.226.30.11"),
            a_record("yunfan-old.com.cn", "221.226.30.10"),
            # unfiled sites
            a_record("www.unfiled-shop.com", "221.226.30.7"),
            a_record("xn--5tzm5g.xn--fiqs8s", "221.226.30.12"),  # 网站.中国
            a_record("unfiled.com.cn", "112.4.9.20"),
            a_record("span8.cn", "60.0.0.10"),
            a_record("fakeschool.edu.cn", "221.226.30.13"),
            a_record("www.v6site.net", "240e:100::10", rrtype="AAAA"),
            # near misses
            a_record("www.outside-site.top", "8.8.8.8"),
            a_record("www.notfound.xyz", "221.226.30.14"),
            a_record("www.oldcrawl.com", "221.226.30.15"),
            a_record("www.olddns.com", "221.226.30.16", days=60),
            a_record("www.takendown.com", "221.226.30.17"),
        ],
        "web_crawls": [
            crawl("www.dingxinmall.com", 3),
            crawl("blog.dingxinmall.com", 3),
            crawl("deep.shop.dingxinmall.com", 3),
            crawl("dingxin-digital.cn", 3),
            crawl("www.njxwwl.gov.cn", 3),
            crawl("www.江海文旅.中国", 3),
            crawl("www.partial.cn", 3),
            crawl("partial.cn", 3),  # the filing lists www.partial.cn only
            crawl("a.blog.sublevel.com", 3),
            crawl("yunfan-old.com.cn", 3),  # its filing was cancelled
            ("https://WWW.Unfiled-Shop.COM/", "WWW.UNFILED-SHOP.COM.", ago(2), 200, "商城", 50, ""),
            crawl("网站.中国", 4),
            crawl("deep.sub.unfiled.com.cn", 5),
            crawl("span8.cn", 5),
            crawl("www.fakeschool.edu.cn", 5),
            crawl("www.v6site.net", 5, 301),
            crawl("www.outside-site.top", 2),
            crawl("www.notfound.xyz", 2, 404),
            crawl("www.oldcrawl.com", 45),
            crawl("www.olddns.com", 2),
            crawl("www.takendown.com", 20),
            crawl("www.takendown.com", 5, 503),
        ],
    }


FLAGGED = {
    "unfiled-shop.com": YUNQING,
    "xn--5tzm5g.xn--fiqs8s": YUNQING,
    "unfiled.com.cn": XINGQIAO,
    "span8.cn": UNICOM,
    "fakeschool.edu.cn": YUNQING,
    "v6site.net": XINGQIAO,
    "partial.cn": YUNQING,
    "yunfan-old.com.cn": YUNQING,
}


def _ip_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(*r, "江苏", "南京", "2018-05-10") for r in rows]


@pytest.fixture
def fixture_ws(tmp_path: Path) -> Iterator[Workspace]:
    tables = province()
    tables["ip_filings"] = _ip_rows(tables["ip_filings"])
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", tables))
    yield ws
    ws.close()


def _findings(ws: Workspace) -> dict[str, dict[str, Any]]:
    with ws.sessions() as session:
        return {f["subject"]: f for f in list_findings(session) if f["type"] == TYPE}


def test_flags_unfiled_sites_and_spares_the_near_misses(
    fixture_ws: Workspace, engine_name: str
) -> None:
    result = run_detection(fixture_ws, only=[TYPE], engine=engine_name)
    assert result.status == "succeeded", result.errors
    found = _findings(fixture_ws)
    # re-checking one subject on this engine finds it and leaves the others alone
    one = run_detection(fixture_ws, only=[TYPE], engine=engine_name, subjects=["v6site.net"])
    assert (one.counts[TYPE]["found"], one.counts[TYPE]["not_observed"]) == (1, 0)
    assert set(found) == set(FLAGGED)
    assert {s: f["responsible_uscc"] for s, f in found.items()} == FLAGGED
    shop = found["unfiled-shop.com"]
    assert shop["severity"] == "high"
    evidence = shop["evidence"]
    assert evidence["crawls"][0]["fqdn"] == "www.unfiled-shop.com"
    assert evidence["serving"][0]["address"] == "221.226.30.7"
    assert evidence["covering_filing"]["range"] == "221.226.30.0-221.226.30.255"
    v6 = found["v6site.net"]["evidence"]["covering_filing"]
    assert v6["range"] == "240e:100::-240e:100:ffff:ffff:ffff:ffff:ffff:ffff"
    # the narrowest filing: the access provider's customer range, not the carrier's block
    assert found["unfiled.com.cn"]["evidence"]["covering_filing"]["range"] == (
        "112.4.9.0-112.4.9.255"
    )


def test_thresholds_are_params(fixture_ws: Workspace) -> None:
    engine = fixture_ws.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF, UnfiledWebsite.inputs)
    wide = {d.subject for d in UnfiledWebsite({"live_days": 60}).detect(ctx)}
    assert "oldcrawl.com" in wide
    dns = {d.subject for d in UnfiledWebsite({"dns_days": 90}).detect(ctx)}
    assert "olddns.com" in dns
    narrow = {d.subject for d in UnfiledWebsite({"live_days": 3}).detect(ctx)}
    assert narrow == {"unfiled-shop.com", "partial.cn", "yunfan-old.com.cn"}


def test_recheck_one_subject_touches_only_it(fixture_ws: Workspace) -> None:
    run_detection(fixture_ws, only=[TYPE])
    full = _findings(fixture_ws)
    again = run_detection(fixture_ws, only=[TYPE], subjects=["span8.cn"])
    assert again.counts[TYPE] == {
        "found": 1,
        "new": 0,
        "refreshed": 1,
        "reobserved": 0,
        "not_observed": 0,
    }
    after = _findings(fixture_ws)
    assert all(f["status"] == "open" for f in after.values())
    engine = fixture_ws.analytics("duckdb")
    for subject in ("span8.cn", "v6site.net", "dingxinmall.com", "outside-site.top"):
        ctx = DetectionContext(engine, AS_OF, UnfiledWebsite.inputs, subjects=frozenset({subject}))
        drafts = list(UnfiledWebsite().detect(ctx))
        assert [d.subject for d in drafts] == ([subject] if subject in FLAGGED else [])
        for draft in drafts:  # the same finding as in the full run
            stored = dict(full[subject]["evidence"])
            stored.pop("snapshots")
            assert jsonable(draft.evidence) == stored
            assert draft.responsible_uscc == full[subject]["responsible_uscc"]


def test_a_new_passive_dns_delivery_is_read_by_the_next_run(
    fixture_ws: Workspace, tmp_path: Path
) -> None:
    # a full run keeps the recent DNS answers in memory for the engine's later runs;
    # a new delivery (a new snapshot) must not be answered from the old ones
    run_detection(fixture_ws, only=[TYPE])
    assert "olddns.com" not in _findings(fixture_ws)
    fresh = {"dns_observations": [a_record("www.olddns.com", "221.226.30.16", days=1)]}
    ingest_folder(fixture_ws, write_tables(tmp_path / "fresh", fresh))
    run_detection(fixture_ws, only=[TYPE])
    assert _findings(fixture_ws)["olddns.com"]["responsible_uscc"] == YUNQING
