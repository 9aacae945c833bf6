"""lookalike_domain: new registrations imitating key units' filed domains and brands."""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from longpan.compliance import _lookalike_permutations as perm
from longpan.compliance.lookalike_domain import LookalikeDomain, LookalikeParams
from longpan.core.errors import ConfigError
from longpan.core.identifiers import canonical_domain
from longpan.detect import runner
from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.attribution import attribute
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import make_workspace

TYPE = "lookalike_domain"
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
BANK = "91320100134881026X"  # 江苏润泽农村商业银行股份有限公司, key unit
WATER = "913211001412167374"  # 江苏滨江水务集团有限公司, key unit
AP = "91320115MA1N4Q7K0N"  # 南京云擎数据科技有限公司, access provider (not protected)
COLUMNS = {
    "organisations": "uscc,name,roles",
    "icp_subjects": "subject_licence,uscc,unit_name,nature,province,approved_at,status",
    "icp_services": "service_licence,subject_licence,service_type,name,domains,"
    "access_provider_uscc,access_ips,approved_at,status",
    "registrars": "iana_id,name,country,cn_licence",
    "domain_registrations": "domain,observed_at,registrar_iana_id,registrar_name,registrant,"
    "created_at,expires_at,status",
    "dns_observations": "fqdn,rrtype,value,first_seen,last_seen,count",
    "ip_filings": "start_ip,end_ip,reporter_uscc,source_unit,allocation,user_name,user_uscc,"
    "province,city,filed_at",
}
NAMECHEAP = (1068, "NameCheap, Inc.")
XINNET = (120, "Xin Net Technology Corporation")


def write_tables(folder: Path, tables: dict[str, list[tuple[Any, ...]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS[name].split(","))
            writer.writerows(rows)
    return folder


def whois(
    domain: str,
    created: str,
    observed: str = "2024-12-30T00:00:00Z",
    status: str = "ok",
    registrar: tuple[int | str, str] = NAMECHEAP,
) -> tuple[Any, ...]:
    iana, name = registrar
    return (domain, observed, iana, name, "REDACTED", created, "2025-12-01T00:00:00Z", status)


def province() -> dict[str, list[tuple[Any, ...]]]:
    """Two key units, one access provider; WHOIS as of 2024-12-31."""
    services = [  # licence, domains, status
        ("苏ICP备10023456号-1", "www.runzebank.com.cn;RunZeBank.cn.", "active"),
        ("苏ICP备10023456号-2", "润泽银行.中国", "active"),
        ("苏ICP备10023456号-3", "runzebank.net", "active"),  # newly registered, filed: own
        ("苏ICP备10023456号-4", "runzeoldsite.com", "cancelled"),  # not protected
        ("苏ICP备13045678号-1", "binjiangwater.com.cn;xw.bjwater.edu.cn", "active"),
        ("苏ICP备2018012345号-1", "yunqingdata.com", "active"),  # not a key unit
    ]
    registrations = [
        # look-alikes, registered in the last 30 days
        whois("runzebamk.com.cn", "2024-12-20T08:00:00Z"),
        whois(
            "runzebank.top", "2024-12-10T00:00:00Z", registrar=("", "阿里云计算有限公司（万网）")
        ),
        whois("runz\u0435bank.com.cn", "2024-12-29T00:00:00Z", registrar=XINNET),  # Cyrillic U+0435
        whois("RUNZEBANK-LOGIN.COM.", "2024-12-25T00:00:00Z"),
        whois("jsrzncsyyh.cn", "2024-12-05T00:00:00Z"),
        whois("润泽银银行.中国", "2024-12-15T00:00:00Z"),
        whois("润泽银行.cn", "2024-12-15T00:00:00Z"),
        whois("1cbc.com.cn", "2024-12-26T00:00:00Z"),
        whois("chinatax.com.cn", "2024-12-27T00:00:00Z"),
        whois("bjwater.cn", "2024-12-28T00:00:00Z"),
        whois("binjiangshuiwu.com", "2024-12-28T00:00:00Z"),
        # near misses
        whois("runzebnak.com.cn", "2015-03-01T00:00:00Z"),  # similar, but old
        whois("dingxinmall.com", "2024-12-20T00:00:00Z"),  # new, not similar
        whois("runzebank.net", "2024-12-22T00:00:00Z"),  # new, the bank's own filing
        whois("runzebank.xyz", "2024-12-01T00:00:00Z", "2024-12-05T00:00:00Z"),
        ("runzebank.xyz", "2024-12-30T00:00:00Z", "", "", "", "", "", "unregistered"),
        whois("runzebank.vip", "2024-11-21T00:00:00Z"),  # 40 days before as-of
        whois("yunqingdata.cn", "2024-12-20T00:00:00Z"),  # imitates an unprotected domain
        whois("runzeoldsite.cn", "2024-12-20T00:00:00Z"),  # ... a cancelled filing's
        whois("runzebamk.cc", "2025-01-05T00:00:00Z", "2025-01-06T00:00:00Z"),  # after as-of
    ]
    return {
        "organisations": [
            (BANK, "江苏润泽农村商业银行股份有限公司", "key_unit"),
            (WATER, "江苏滨江水务集团有限公司", "key_unit"),
            (AP, "南京云擎数据科技有限公司", "access_provider"),
        ],
        "icp_subjects": [
            (
                "苏ICP备10023456号",
                BANK,
                "江苏润泽农村商业银行股份有限公司",
                "企业",
                "江苏",
                "2010-06-08",
                "active",
            ),
            (
                "苏ICP备13045678号",
                WATER,
                "江苏滨江水务集团有限公司",
                "企业",
                "江苏",
                "2013-09-17",
                "active",
            ),
            (
                "苏ICP备2018012345号",
                AP,
                "南京云擎数据科技有限公司",
                "企业",
                "江苏",
                "2018-03-22",
                "active",
            ),
        ],
        "icp_services": [
            (lic, lic.split("-")[0], "website", "站点", domains, AP, "", "2018-06-12", status)
            for lic, domains, status in services
        ],
        "registrars": [
            (1068, "NameCheap, Inc.", "US", ""),
            (120, "Xin Net Technology Corporation", "CN", "工信部域名注册服务机构许可（示例）"),
        ],
        "domain_registrations": registrations,
    }


IDN_TYPO = canonical_domain("润泽银银行.中国")
IDN_SWAP = canonical_domain("润泽银行.cn")
CYRILLIC = canonical_domain("runz\u0435bank.com.cn")
EXPECTED = {  # subject: (imitates, method, responsible, severity)
    "runzebamk.com.cn": ("runzebank.com.cn", "homoglyph", BANK, "high"),
    "runzebank.top": ("runzebank.cn", "tld-swap", BANK, "high"),
    CYRILLIC: ("runzebank.com.cn", "cyrillic", BANK, "high"),
    "runzebank-login.com": ("runzebank.cn", "combo", BANK, "medium"),  # ties: by name
    "jsrzncsyyh.cn": ("runzebank.cn", "pinyin-initials", BANK, "high"),
    IDN_TYPO: (canonical_domain("润泽银行.中国"), "repetition", BANK, "high"),
    IDN_SWAP: (canonical_domain("润泽银行.中国"), "tld-swap", BANK, "high"),
    "1cbc.com.cn": ("icbc.com.cn", "homoglyph", None, "high"),
    "chinatax.com.cn": ("chinatax.gov.cn", "tld-swap", None, "high"),
    "bjwater.cn": ("bjwater.edu.cn", "tld-swap", WATER, "high"),
    "binjiangshuiwu.com": ("binjiangwater.com.cn", "pinyin", WATER, "high"),
}
NEAR_MISSES = (
    "runzebnak.com.cn",
    "dingxinmall.com",
    "runzebank.net",
    "runzebank.xyz",
    "runzebank.vip",
    "yunqingdata.cn",
    "runzeoldsite.cn",
    "runzebamk.cc",
)


@pytest.fixture
def lake(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", province()))
    return ws


def findings(ws: Workspace) -> dict[str, dict[str, Any]]:
    with ws.sessions() as session:
        return {f["subject"]: f for f in list_findings(session, types=[TYPE])}


def test_flags_new_lookalikes(lake: Workspace, engine_name: str) -> None:
    result = run_detection(lake, only=[TYPE], engine=engine_name, as_of=AS_OF)
    assert result.status == "succeeded", result.errors
    found = findings(lake)
    got = {
        s: (
            f["evidence"]["imitates"],
            f["evidence"]["method"],
            f["responsible_uscc"],
            f["severity"],
        )
        for s, f in found.items()
    }
    assert got == EXPECTED

    typo = found["runzebamk.com.cn"]["evidence"]
    assert typo["similarity"] == pytest.approx(0.889)
    assert typo["protected_as"] == "key_unit"
    assert typo["owner"] == {"uscc": BANK, "name": "江苏润泽农村商业银行股份有限公司"}
    assert typo["registered_at"] == "2024-12-20T08:00:00"
    assert typo["days_before_as_of"] == 10 and typo["window_days"] == 30
    assert typo["registrar"] == {"name": "NameCheap, Inc.", "iana_id": 1068, "country": "US"}
    # inputs read only to attribute brand look-alikes are absent from this lake
    assert set(typo["snapshots"]) == set(LookalikeDomain.inputs) - {
        "dns_observations",
        "ip_filings",
    }

    cyr = found[CYRILLIC]["evidence"]
    assert cyr["domain_unicode"] == "runz\u0435bank.com.cn" and cyr["similarity"] == 1.0
    assert cyr["registrar"]["country"] == "CN"
    swap = found["runzebank.top"]["evidence"]  # the same label under three protected suffixes
    assert [m["imitates"] for m in swap["matches"]] == [
        "runzebank.cn",
        "runzebank.com.cn",
        "runzebank.net",
    ]
    assert swap["similarity"] == 0.9
    assert swap["registrar"] == {
        "name": "阿里云计算有限公司（万网）",
        "iana_id": None,
        "country": None,
    }
    pinyin = found["jsrzncsyyh.cn"]["evidence"]  # the same owner's four domains, ranked
    assert [m["similarity"] for m in pinyin["matches"]] == [1.0, 0.9, 0.9, 0.9]
    brand = found["1cbc.com.cn"]["evidence"]
    assert brand["protected_as"] == "brand"
    assert brand["owner"] == {"uscc": None, "name": "中国工商银行"}
    assert found[IDN_TYPO]["evidence"]["imitates_unicode"] == "润泽银行.中国"


def test_brand_lookalikes_get_the_general_domain_attribution(
    tmp_path: Path, engine_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = province()
    tables["icp_services"].append(  # an ordinary subject filed the look-alike itself
        (
            "苏ICP备2018012345号-2",
            "苏ICP备2018012345号",
            "website",
            "站点",
            "1cbc.com.cn",
            BANK,
            "",
            "2024-12-28",
            "active",
        )
    )
    seen = "2024-12-01T00:00:00Z"
    tables["dns_observations"] = [  # chinatax.com.cn serves from filed space
        ("www.chinatax.com.cn", "A", "203.0.113.7", seen, "2024-12-30T00:00:00Z", 3),
        ("chinatax.com.cn", "A", "198.51.100.9", seen, "2024-12-20T00:00:00Z", 1),
    ]
    filing = ("分配且使用", "某用户", "", "江苏", "南京", "2020-01-01")
    tables["ip_filings"] = [
        ("203.0.113.0", "203.0.113.255", WATER, "", *filing),
        ("203.0.113.0", "203.0.113.15", AP, "", *filing),  # the narrowest wins
        ("198.51.100.0", "198.51.100.255", BANK, "", *filing),  # an older answer
    ]
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, write_tables(tmp_path / "in", tables))
    with monkeypatch.context() as patch:  # in bulk: no lookup per subject by the runner
        patch.setattr(runner, "attribute", _no_lookup)
        run_detection(ws, only=[TYPE], engine=engine_name, as_of=AS_OF)
    found = findings(ws)
    assert found["1cbc.com.cn"]["responsible_uscc"] == BANK  # the filing's access provider
    assert found["chinatax.com.cn"]["responsible_uscc"] == AP
    for subject, finding in found.items():  # the same answer as the one-by-one rule
        general = attribute(ws.analytics(engine_name), subject)
        owner = finding["evidence"]["owner"]["uscc"]
        assert finding["responsible_uscc"] == (owner or (general.uscc if general else None))


def _no_lookup(*_: object) -> None:
    raise AssertionError("the runner looked a subject up")


def test_near_misses_are_not_flagged(lake: Workspace) -> None:
    run_detection(lake, only=[TYPE], as_of=AS_OF)
    found = findings(lake)
    assert not set(NEAR_MISSES) & set(found)


def test_params(tmp_path: Path) -> None:
    ws = make_workspace(
        tmp_path / "home",
        detectors={TYPE: {"days": 45, "brands": ["ICBC.com.cn."], "tlds": ["vip", "xyz"]}},
    )
    ingest_folder(ws, write_tables(tmp_path / "in", province()))
    run_detection(ws, only=[TYPE], as_of=AS_OF)
    found = findings(ws)
    assert "runzebank.vip" in found  # 40 days old, and .vip is a listed TLD
    assert "runzebank.top" not in found  # .top is no longer listed
    assert "chinatax.com.cn" not in found and "1cbc.com.cn" in found
    ws.close()


@pytest.mark.parametrize(
    "params",
    [
        {"days": 0},
        {"brands": ["www.icbc.com.cn"]},
        {"brands": ["not a domain"]},
        {"keywords": ["登录"]},
        {"tlds": ["example.com"]},
        {"unknown": 1},
    ],
)
def test_bad_params_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        LookalikeDomain(params)


def test_params_are_canonical() -> None:
    params = LookalikeParams(tlds=("中国", ".COM"), keywords=("Login",), brands=("JD.com",))
    assert params.tlds == ("xn--fiqs8s", "com")
    assert params.keywords == ("login",) and params.brands == ("jd.com",)


def test_recheck_one_subject_touches_only_it(lake: Workspace) -> None:
    run_detection(lake, only=[TYPE], as_of=AS_OF)
    before = findings(lake)
    result = run_detection(lake, only=[TYPE], as_of=AS_OF, subjects=["runzebamk.com.cn"])
    assert result.counts[TYPE]["found"] == 1 and result.counts[TYPE]["refreshed"] == 1
    after = findings(lake)
    assert after["runzebamk.com.cn"]["last_seen"] > before["runzebamk.com.cn"]["last_seen"]
    for subject in set(before) - {"runzebamk.com.cn"}:
        assert after[subject]["last_seen"] == before[subject]["last_seen"]


def test_context_subjects_limit_the_output(lake: Workspace) -> None:
    engine = lake.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF, LookalikeDomain.inputs, lake.lake.current_snapshots())
    full = {d.subject: d for d in LookalikeDomain().detect(ctx)}
    for subject in EXPECTED:
        ctx.subjects = frozenset({subject, "dingxinmall.com", "苏ICP备10023456号"})
        (draft,) = LookalikeDomain().detect(ctx)
        assert draft == full[subject]
    ctx.subjects = frozenset({"runzebnak.com.cn", "苏ICP备10023456号"})
    assert list(LookalikeDomain().detect(ctx)) == []


# -- the permutation generator -----------------------------------------------------------

BANK_DOMAINS = (
    perm.Protected("runzebank.com.cn", BANK, "江苏润泽农村商业银行股份有限公司", "key_unit"),
    perm.Protected(canonical_domain("润泽银行.中国"), BANK, "江苏润泽农村商业银行股份有限公司"),
    perm.Protected("taobao.com", None, "淘宝"),
    perm.Protected("jd.com"),
    perm.Protected("chinatax.gov.cn"),
)
SETTINGS = perm.Settings(("login", "kefu"), ("com", "cn", "com.cn", "top", "xn--fiqs8s"))


@pytest.mark.parametrize(
    ("domain", "owner", "expected"),
    [
        ("wxbank.com.cn", "", {"wxb4nk.com.cn", "wxbannk.com.cn", "wxbak.com.cn", "wxbank.top"}),
        (
            "taobao.com",
            "",
            {
                "taob\u0430o.com",
                "t\u0430ob\u0430o.com",
                "taobao.top",
                "taobao.中国",
                "taobao-kefu.com",
            },
        ),
        (
            "czrcb.com",
            "常州农村商业银行股份有限公司",
            {"czncsyyh.com", "changzhounongcunshangyeyinhang.cn"},
        ),
        ("jd.com", "", {"jd.cn", "jdkefu.com", "login-jd.cn", "kefujd.com"}),
        ("icbc.com.cn", "", {"icbccom.cn", "1cbc.com.cn", "icbc.cn"}),
    ],
)
def test_permutations_cover_the_squatters_tricks(
    domain: str, owner: str, expected: set[str]
) -> None:
    found = dict(perm.permutations_of(domain, owner, SETTINGS))
    wanted = {canonical_domain(e) for e in expected}
    assert wanted <= set(found), wanted - set(found)
    assert domain not in found


def test_short_labels_get_no_keyboard_edits() -> None:
    methods = {m for _c, m in perm.permutations_of("jd.com", None, SETTINGS)}
    assert not methods & set(perm.EDIT_FUZZERS)
    assert "j.com" not in dict(perm.permutations_of("jd.com", None, SETTINGS))


def test_prefilter_admits_every_permutation() -> None:
    """The re-check generates only for protected domains that pass could_imitate: it must
    pass for every permutation of every protected domain."""
    for protected in BANK_DOMAINS:
        for candidate, method in perm.permutations_of(
            protected.domain, protected.owner_name, SETTINGS
        ):
            assert perm.could_imitate(candidate, protected), (candidate, method)
    assert not perm.could_imitate("dingxinmall.com", BANK_DOMAINS[0])
    assert perm.relevant(["runzebamk.cn", "苏ICP备10023456号"], BANK_DOMAINS) == BANK_DOMAINS[:1]


def test_similarity() -> None:
    bank = BANK_DOMAINS[0]
    assert perm.similarity(canonical_domain("runz\u0435bank.com.cn"), bank, "cyrillic") == 1.0
    assert perm.similarity("runzebank.com.cn", bank, "tld-swap") == 1.0
    assert perm.similarity("runzebank.top", bank, "tld-swap") == 0.9
    assert perm.similarity("runzebnak.com.cn", bank, "transposition") == pytest.approx(0.889)
    assert perm.similarity("rnzebank.com.cn", bank, "omission") == pytest.approx(0.889)
    assert perm.similarity("runzebank-login.com.cn", bank, "combo") == pytest.approx(0.6)
    assert perm.similarity("rzncsyyh.com.cn", bank, "pinyin-initials") == 1.0
    assert perm.distance("ab", "ba") == 1 and perm.distance("abc", "xyz", limit=1) == 2


def test_permutation_table_excludes_protected_and_is_fast() -> None:
    started = time.perf_counter()
    table = perm.permutation_table(BANK_DOMAINS, SETTINGS, frozenset({"runzebank.cn"}))
    assert time.perf_counter() - started < 5
    rows = table.to_pylist()
    assert "runzebank.cn" not in {r["candidate"] for r in rows}
    pairs = [(r["candidate"], r["imitates"]) for r in rows]
    assert len(pairs) == len(set(pairs))
    assert {r["owner_uscc"] for r in rows} == {BANK, None}
