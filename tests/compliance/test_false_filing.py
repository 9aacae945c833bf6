"""false_filing: footers showing a number that is not the site's filing, and
registrants that are neither the filing subject nor named in the filing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from longpan.compliance.false_filing import FalseFiling
from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.detect.store import jsonable
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import make_workspace

TYPE = "false_filing"
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
COLUMNS = {
    "icp_subjects": "subject_licence,uscc,unit_name,nature,province,approved_at,status,"
    "authorised_registrants",
    "icp_services": "service_licence,subject_licence,service_type,name,domains,"
    "access_provider_uscc,access_ips,approved_at,status,authorised_registrants",
    "ip_filings": "start_ip,end_ip,reporter_uscc,source_unit,allocation,user_name,user_uscc,"
    "province,city,filed_at",
    "dns_observations": "fqdn,rrtype,value,first_seen,last_seen,count",
    "web_crawls": "url,fqdn,fetched_at,http_status,title,content_length,footer_icp",
    "domain_registrations": "domain,observed_at,registrar_iana_id,registrar_name,registrant,"
    "created_at,expires_at,status",
}
TELECOM = "913200001347562336"
YUNQING, XINGQIAO = "91320115MA1N4Q7K0N", "91320505MA1MT2H35C"  # access providers
DINGXIN, YOUPIN = "南京鼎新电子商务有限公司", "常州优品网络科技有限公司"


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


def crawl(fqdn: str, footer: str, days: float = 3, status: int = 200) -> tuple[Any, ...]:
    return (f"https://{fqdn}/", fqdn, ago(days), status, "首页", 20_000, footer)


def whois(domain: str, registrant: str, days: float = 30) -> tuple[Any, ...]:
    return (domain, ago(days), "", "万网", registrant, "2015-01-01", "2030-01-01", "ok")


def province() -> dict[str, list[tuple[Any, ...]]]:
    subjects = [
        ("苏ICP备16078901号", "91320104MA1M8C0L7D", DINGXIN, "企业", "active", ""),
        ("苏ICP备2019034567号", "91320412MA1X3KQ993", YOUPIN, "企业", "active", ""),
        (
            "苏ICP备14001122号",
            "11320102014103721A",
            "南京市玄武区文化和旅游局",
            "政府机关",
            "active",
            "",
        ),
        ("苏ICP备2021012345号", "", "张伟", "个人", "active", ""),
        (
            "苏ICP备2022067890号",
            "91320602MA25GJ4W1W",
            "南通江海文旅发展有限公司",
            "企业",
            "active",
            "南通江海文旅集团有限公司; 南通文旅投资有限公司",
        ),
        (
            "苏ICP备17056789号",
            "91321002MA1N0R6T9Q",
            "扬州悦读文化传媒有限公司",
            "企业",
            "cancelled",
            "",
        ),
        (
            "苏ICP备2020045678号",
            "91320311MA1Y7P2B93",
            "徐州Yunfan软件有限公司",
            "企业",
            "active",
            "",
        ),
    ]
    services = [
        ("苏ICP备16078901号-1", "dingxinmall.com", YUNQING, "active", ""),
        ("苏ICP备16078901号-2", "dingxin-digital.cn", YUNQING, "active", ""),
        ("苏ICP备16078901号-3", "dingxin-news.com", YUNQING, "active", ""),
        ("苏ICP备16078901号-4", "shared-site.com", YUNQING, "active", ""),
        ("苏ICP备2019034567号-1", "youpinlife.com.cn", XINGQIAO, "active", ""),
        ("苏ICP备2019034567号-2", "youpin-cz.com", XINGQIAO, "active", ""),
        ("苏ICP备2019034567号-3", "youpin-mall.com", XINGQIAO, "active", ""),
        ("苏ICP备2019034567号-4", "shared-site.com", XINGQIAO, "active", ""),
        ("苏ICP备2019034567号-5", "youpin-licence.com", XINGQIAO, "active", ""),
        ("苏ICP备2019034567号-6", "youpin-old.com", XINGQIAO, "cancelled", ""),
        ("苏ICP备14001122号-1", "njxwwl.gov.cn", YUNQING, "active", ""),
        ("苏ICP备2021012345号-1", "zhangweiblog.net", YUNQING, "active", ""),
        ("苏ICP备2022067890号-1", "江海文旅.中国", XINGQIAO, "active", ""),
        ("苏ICP备2022067890号-2", "jhwenlv.cn", XINGQIAO, "active", "江海文旅(南通)有限公司"),
        ("苏ICP备17056789号-1", "yuedu.com.cn", YUNQING, "active", ""),  # subject cancelled
        ("苏ICP备2020045678号-1", "yunfan.com", YUNQING, "active", ""),
        ("苏ICP备2020045678号-2", "yunfan-private.com", YUNQING, "active", ""),
        ("苏ICP备2020045678号-3", "www.sub-filed.com", YUNQING, "active", ""),
        ("苏ICP备2020045678号-4", "yunfan-changed.com", YUNQING, "active", ""),
        ("苏ICP备2020045678号-5", "yunfan-bj.com", YUNQING, "active", ""),
    ]
    return {
        "icp_subjects": [
            (lic, uscc, name, nature, "江苏", "2016-08-10", status, named)
            for lic, uscc, name, nature, status, named in subjects
        ],
        "icp_services": [
            (
                lic,
                lic.split("-")[0],
                "website",
                "站点",
                dom,
                ap,
                "221.226.30.5",
                "2016-08-10",
                st,
                n,
            )
            for lic, dom, ap, st, n in services
        ],
        "ip_filings": [
            ("221.226.0.0", "221.226.255.255", TELECOM, "", "再次分配", "云擎", YUNQING),
            ("221.226.30.0", "221.226.30.255", YUNQING, "", "自用", "云擎", YUNQING),
        ],
        "dns_observations": [
            ("anchor.example.org", "A", "8.8.4.4", ago(400), ago(0), 1),  # the as-of time
            ("www.unfiled-copy.com", "A", "221.226.30.7", ago(400), ago(1), 10),
        ],
        "web_crawls": [
            crawl("www.dingxinmall.com", "© 鼎新商城 苏ICP备１６０７８９０１号－１"),  # full width
            crawl("blog.dingxinmall.com", "苏ICP备16078901号-1"),  # subdomain of a filed domain
            crawl("dingxin-digital.cn", "南京鼎新 苏ICP备16078901号"),  # the subject licence
            crawl("dingxin-news.com", "苏ICP备16078901号-9"),  # another -N of the subject
            crawl("www.youpinlife.com.cn", "苏ICP备16078901号-1"),  # another subject's
            crawl("youpin-cz.com", "苏ICP备 99999999 号-1"),  # exists nowhere
            crawl("youpin-licence.com", "京ICP证030173号"),  # a licence: not judged
            crawl("youpin-old.com", "苏ICP备2019034567号-6"),  # its filing was cancelled
            crawl("www.njxwwl.gov.cn", "苏ICP备14001122号-1"),
            crawl("www.江海文旅.中国", "苏ICP备2022067890号-1"),
            crawl("yuedu.com.cn", "苏ICP备17056789号-1"),  # subject filing cancelled
            crawl("www.unfiled-copy.com", "苏ICP备2019034567号-1"),  # unfiled, copied number
            crawl("www.stale.com", "苏ICP备88888888号-1", days=45),  # too old
            crawl("www.gone.com", "苏ICP备88888888号-1", status=404),  # not live
            crawl("www.nofooter.com", ""),
            crawl("www.beijing-site.com", "京ICP备12345678号-1"),  # filed elsewhere: not judged
            crawl("www.yunfan-bj.com", "京ICP备12345678号-1"),  # filed here, shows another
        ],
        "domain_registrations": [
            whois("dingxinmall.com", "张三", days=200),  # older: only the latest counts
            whois("dingxinmall.com", "REDACTED FOR PRIVACY"),
            whois("dingxin-digital.cn", DINGXIN),
            whois("dingxin-news.com", DINGXIN),
            whois("shared-site.com", DINGXIN),  # listed by 鼎新 and by 优品
            whois("youpinlife.com.cn", YOUPIN),
            whois("youpin-cz.com", YOUPIN),
            whois("youpin-mall.com", "苏州某某贸易有限公司"),
            whois("njxwwl.gov.cn", "南京市玄武区人民政府", days=300),
            whois("njxwwl.gov.cn", "南京市玄武区文化和旅游局"),
            whois("zhangweiblog.net", "张 伟"),
            whois("xn--7dv6es6r95a.xn--fiqs8s", "南通江海文旅集团有限公司"),  # named by the subject
            whois("jhwenlv.cn", "江海文旅（南通）有限公司"),  # named by the service
            whois("yuedu.com.cn", "某人"),
            whois("yunfan.com", "徐州YUNFAN软件　有限公司"),  # case and a full-width space
            whois("yunfan-private.com", "隐私保护服务"),
            whois("sub-filed.com", "别人的公司"),
            whois("yunfan-changed.com", "徐州Yunfan软件有限公司", days=200),
            whois("yunfan-changed.com", "另一家公司"),
        ],
    }


FLAGGED = {
    "youpinlife.com.cn": (XINGQIAO, ["footer_not_its_filing"]),
    "youpin-cz.com": (XINGQIAO, ["footer_number_unknown"]),
    "youpin-old.com": (YUNQING, ["footer_not_its_filing"]),  # not filed: by its address
    "youpin-mall.com": (XINGQIAO, ["registrant_not_subject"]),
    "shared-site.com": (XINGQIAO, ["registrant_not_subject"]),  # tie: the smaller code
    "yuedu.com.cn": (YUNQING, ["footer_not_its_filing"]),
    "unfiled-copy.com": (YUNQING, ["footer_not_its_filing"]),
    "sub-filed.com": (YUNQING, ["registrant_not_subject"]),
    "yunfan-changed.com": (YUNQING, ["registrant_not_subject"]),
    "yunfan-bj.com": (YUNQING, ["footer_number_unknown"]),
}


def _ip_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(*r, "江苏", "南京", "2018-05-10") for r in rows]


@pytest.fixture
def fixture_ws(tmp_path: Path) -> Iterator[Workspace]:
    tables = province()
    tables["ip_filings"] = _ip_rows(tables["ip_filings"])
    # the cancelled site and the cancelled subject's site still resolve to the pool
    tables["dns_observations"] += [
        ("youpin-old.com", "A", "221.226.30.9", ago(400), ago(1), 5),
        ("yuedu.com.cn", "A", "221.226.30.10", ago(400), ago(1), 5),
    ]
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", tables))
    yield ws
    ws.close()


def _findings(ws: Workspace) -> dict[str, dict[str, Any]]:
    with ws.sessions() as session:
        return {f["subject"]: f for f in list_findings(session) if f["type"] == TYPE}


def test_flags_false_numbers_and_registrants(fixture_ws: Workspace, engine_name: str) -> None:
    result = run_detection(fixture_ws, only=[TYPE], engine=engine_name)
    assert result.status == "succeeded", result.errors
    found = _findings(fixture_ws)
    # re-checking one subject on this engine finds it and leaves the others alone
    one = run_detection(fixture_ws, only=[TYPE], engine=engine_name, subjects=["youpinlife.com.cn"])
    assert (one.counts[TYPE]["found"], one.counts[TYPE]["not_observed"]) == (1, 0)
    assert set(found) == set(FLAGGED)
    assert {
        s: (f["responsible_uscc"], f["evidence"]["reasons"]) for s, f in found.items()
    } == FLAGGED
    assert all(f["severity"] == "high" for f in found.values())
    cz = found["youpin-cz.com"]["evidence"]["footers"][0]
    assert (cz["footer_icp"], cz["footer_holder"]) == ("苏ICP备99999999号-1", None)
    life = found["youpinlife.com.cn"]["evidence"]["footers"][0]
    assert life["footer_holder"] == {"unit_name": DINGXIN, "status": "active"}
    mall = found["youpin-mall.com"]["evidence"]["registrant"]
    assert mall["registrant"] == "苏州某某贸易有限公司"
    assert mall["filing_subjects"][0]["unit_name"] == YOUPIN
    shared = found["shared-site.com"]["evidence"]["registrant"]["filing_subjects"]
    assert [s["service_licence"] for s in shared] == ["苏ICP备2019034567号-4"]
    copy = found["unfiled-copy.com"]["evidence"]
    assert copy["filings"] == [] and copy["serving"][0]["address"] == "221.226.30.7"


def test_privacy_markers_are_a_param(fixture_ws: Workspace) -> None:
    engine = fixture_ws.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF, FalseFiling.inputs)
    strict = {d.subject for d in FalseFiling({"privacy_markers": []}).detect(ctx)}
    assert strict - set(FLAGGED) == {"dingxinmall.com", "yunfan-private.com"}
    recent = {d.subject for d in FalseFiling({"live_days": 60}).detect(ctx)}
    assert recent - set(FLAGGED) == {"stale.com"}


def test_recheck_one_subject_touches_only_it(fixture_ws: Workspace) -> None:
    run_detection(fixture_ws, only=[TYPE])
    full = _findings(fixture_ws)
    again = run_detection(fixture_ws, only=[TYPE], subjects=["youpinlife.com.cn"])
    assert again.counts[TYPE]["found"] == 1 and again.counts[TYPE]["not_observed"] == 0
    assert all(f["status"] == "open" for f in _findings(fixture_ws).values())
    engine = fixture_ws.analytics("duckdb")
    for subject in ("youpin-cz.com", "shared-site.com", "unfiled-copy.com", "dingxinmall.com"):
        ctx = DetectionContext(engine, AS_OF, FalseFiling.inputs, subjects=frozenset({subject}))
        drafts = list(FalseFiling().detect(ctx))
        assert [d.subject for d in drafts] == ([subject] if subject in FLAGGED else [])
        for draft in drafts:  # the same finding as in the full run
            stored = dict(full[subject]["evidence"])
            stored.pop("snapshots")
            assert jsonable(draft.evidence) == stored
            assert draft.responsible_uscc == full[subject]["responsible_uscc"]
