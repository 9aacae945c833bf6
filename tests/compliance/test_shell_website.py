"""shell_website: active website filings with no access address, or gone silent."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from longpan.compliance.shell_website import ShellWebsite
from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.detect.store import jsonable
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import make_workspace

TYPE = "shell_website"
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
COLUMNS = {
    "icp_subjects": "subject_licence,uscc,unit_name,nature,province,approved_at,status",
    "icp_services": "service_licence,subject_licence,service_type,name,domains,"
    "access_provider_uscc,access_ips,approved_at,status",
    "dns_observations": "fqdn,rrtype,value,first_seen,last_seen,count",
    "web_crawls": "url,fqdn,fetched_at,http_status,title,content_length,footer_icp",
}
YUNQING, XINGQIAO = "91320115MA1N4Q7K0N", "91320505MA1MT2H35C"  # access providers
S1, S2, S3 = "苏ICP备16078901号", "苏ICP备2019034567号", "苏ICP备17056789号"


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


def dns(fqdn: str, days: float, rrtype: str = "A", value: str = "221.226.30.5") -> tuple[Any, ...]:
    return (fqdn, rrtype, value, ago(700), ago(days), 10)


def crawl(fqdn: str, days: float, status: int | None = 200) -> tuple[Any, ...]:
    length = 20_000 if status else None
    return (f"https://{fqdn}/", fqdn, ago(days), status, "首页" if status else "", length, "")


def service(
    licence: str,
    domains: str,
    ips: str = "221.226.30.5",
    status: str = "active",
    kind: str = "website",
    ap: str = YUNQING,
) -> tuple[Any, ...]:
    return (licence, licence.split("-")[0], kind, "站点", domains, ap, ips, "2016-08-10", status)


def province() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "icp_subjects": [
            (
                S1,
                "91320104MA1M8C0L7D",
                "南京鼎新电子商务有限公司",
                "企业",
                "江苏",
                "2016-08-10",
                "active",
            ),
            (
                S2,
                "91320412MA1X3KQ993",
                "常州优品网络科技有限公司",
                "企业",
                "江苏",
                "2019-05-20",
                "active",
            ),
            (
                S3,
                "91321002MA1N0R6T9Q",
                "扬州悦读文化传媒有限公司",
                "企业",
                "江苏",
                "2017-03-15",
                "cancelled",
            ),
        ],
        "icp_services": [
            service(f"{S1}-1", "alive.com"),
            service(f"{S1}-2", "noaccess.com", ips=""),
            service(f"{S1}-3", "silent.com"),
            service(f"{S1}-4", "crawl-only.cn"),
            service(f"{S1}-5", "crawl-dead.cn"),
            service(f"{S1}-6", "never-seen.com.cn"),
            service(f"{S1}-7", "sub-alive.com"),
            service(f"{S1}-8", "www.deepfiled.net"),
            service(f"{S1}-9", "Upper-Case.COM."),
            service(f"{S2}-1", "mx-only.org.cn", ap=XINGQIAO),
            service(f"{S2}-2", "expired.com", status="cancelled", ap=XINGQIAO),
            service(f"{S2}-3", "", ips="", kind="app", ap=XINGQIAO),
            service(f"{S2}-4", "江海文旅.中国", ap=XINGQIAO),
            service(f"{S2}-5", "jyj.nanjing.gov.cn", ap=XINGQIAO),
            service(f"{S2}-6", "twin.com;twin.cn", ap=XINGQIAO),
            service(f"{S3}-1", "oldsubject.com"),  # its subject filing is cancelled
        ],
        "dns_observations": [
            dns("anchor.example.org", 0, value="8.8.4.4"),  # makes the as-of time
            dns("alive.com", 1),
            dns("www.noaccess.com", 1),
            dns("silent.com", 60),
            dns("www.silent.com", 61, "CNAME", "silent.com"),
            dns("api.sub-alive.com", 2),
            dns("deepfiled.net", 1),  # the filing lists www.deepfiled.net only
            dns("www.deepfiled.net", 60),
            dns("upper-case.com", 3),
            dns("mx-only.org.cn", 5, "MX", "10 mail.mx-only.org.cn"),
            dns("expired.com", 120),
            dns("oldsubject.com", 120),
            dns("www.xn--7dv6es6r95a.xn--fiqs8s", 90),
            dns("jyj.nanjing.gov.cn", 50),
            dns("twin.com", 1),
            dns("twin.cn", 70),
        ],
        "web_crawls": [
            crawl("www.silent.com", 5, None),  # the crawler still tries: it fails
            crawl("crawl-only.cn", 5),
            crawl("crawl-dead.cn", 90),
            ("https://crawl-dead.cn/about", "crawl-dead.cn", ago(4), 503, "", 0, ""),
        ],
    }


FLAGGED = {
    "noaccess.com": (YUNQING, ["no_access_address"]),
    "silent.com": (YUNQING, ["not_seen"]),
    "crawl-dead.cn": (YUNQING, ["not_seen"]),
    "deepfiled.net": (YUNQING, ["not_seen"]),
    "xn--7dv6es6r95a.xn--fiqs8s": (XINGQIAO, ["not_seen"]),
    "nanjing.gov.cn": (XINGQIAO, ["not_seen"]),
    "twin.cn": (XINGQIAO, ["not_seen"]),
}


@pytest.fixture
def fixture_ws(tmp_path: Path) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", province()))
    yield ws
    ws.close()


def _findings(ws: Workspace) -> dict[str, dict[str, Any]]:
    with ws.sessions() as session:
        return {f["subject"]: f for f in list_findings(session) if f["type"] == TYPE}


def test_flags_shells_and_spares_live_and_cancelled(
    fixture_ws: Workspace, engine_name: str
) -> None:
    result = run_detection(fixture_ws, only=[TYPE], engine=engine_name)
    assert result.status == "succeeded", result.errors
    found = _findings(fixture_ws)
    # re-checking one subject on this engine finds it and leaves the others alone
    one = run_detection(fixture_ws, only=[TYPE], engine=engine_name, subjects=["nanjing.gov.cn"])
    assert (one.counts[TYPE]["found"], one.counts[TYPE]["not_observed"]) == (1, 0)
    assert set(found) == set(FLAGGED)
    assert {
        s: (f["responsible_uscc"], f["evidence"]["reasons"]) for s, f in found.items()
    } == FLAGGED
    assert all(f["severity"] == "medium" for f in found.values())
    silent = found["silent.com"]["evidence"]["filings"][0]
    assert silent["service_licence"] == f"{S1}-3"
    assert silent["dns_last_seen"] == ago(60).removesuffix("+00:00")
    assert silent["last_crawl"] == ago(5).removesuffix("+00:00")
    assert silent["last_live_crawl"] is None
    gov = found["nanjing.gov.cn"]["evidence"]["filings"][0]
    assert gov["filed_domain"] == "jyj.nanjing.gov.cn"


def test_days_is_a_param(fixture_ws: Workspace) -> None:
    engine = fixture_ws.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF, ShellWebsite.inputs)
    lenient = {d.subject for d in ShellWebsite({"days": 95}).detect(ctx)}
    assert lenient == {"noaccess.com"}
    strict = {d.subject for d in ShellWebsite({"days": 4}).detect(ctx)}
    assert strict - set(FLAGGED) == {"mx-only.org.cn", "crawl-only.cn"}


def test_recheck_one_subject_touches_only_it(fixture_ws: Workspace) -> None:
    run_detection(fixture_ws, only=[TYPE])
    full = _findings(fixture_ws)
    again = run_detection(fixture_ws, only=[TYPE], subjects=["silent.com"])
    assert again.counts[TYPE]["found"] == 1 and again.counts[TYPE]["not_observed"] == 0
    assert all(f["status"] == "open" for f in _findings(fixture_ws).values())
    engine = fixture_ws.analytics("duckdb")
    for subject in ("nanjing.gov.cn", "twin.cn", "twin.com", "oldsubject.com", "noaccess.com"):
        ctx = DetectionContext(engine, AS_OF, ShellWebsite.inputs, subjects=frozenset({subject}))
        drafts = list(ShellWebsite().detect(ctx))
        assert [d.subject for d in drafts] == ([subject] if subject in FLAGGED else [])
        for draft in drafts:  # the same finding as in the full run
            stored = dict(full[subject]["evidence"])
            stored.pop("snapshots")
            assert jsonable(draft.evidence) == stored
            assert draft.responsible_uscc == full[subject]["responsible_uscc"]
