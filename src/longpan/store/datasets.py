"""The declared schemas of the lake's datasets (the exchange-format tables and more).

A capability that adds a dataset declares it here, next to the others, so that ingest,
engines and docs all see one list.
"""

from __future__ import annotations

import pyarrow as pa

from longpan.core.errors import NotFoundError
from longpan.store.lake import Column, Dataset

STR = pa.string()
STR_LIST = pa.list_(pa.string())
DATE = pa.date32()
TS = pa.timestamp("us")  # naive, meaning UTC
INT = pa.int64()


def _c(name: str, type_: pa.DataType, doc: str, nullable: bool = False) -> Column:
    return Column(name, type_, nullable=nullable, doc=doc)


def _derived(name: str, type_: pa.DataType, doc: str) -> Column:
    return Column(name, type_, nullable=True, derived=True, doc=doc)


ORGANISATIONS = Dataset(
    "organisations",
    (
        _c("uscc", STR, "统一社会信用代码"),
        _c("name", STR, "organisation name"),
        _c("roles", STR_LIST, "access_provider, carrier, key_unit, app_operator, registrar"),
    ),
    key=("uscc",),
    mode="state",
    doc="Organisations (企业/单位) the regulator supervises.",
)

ENTITIES = Dataset(
    "entities",
    (
        _c("uscc", STR, "统一社会信用代码"),
        _c("name", STR, "registered name"),
        _c("kind", STR, "企业, 个体工商户, 事业单位, 社会组织, 机关…"),
        _c("province", STR, "province of registration"),
        _c("city", STR, "city of registration", nullable=True),
        _c("status", STR, "存续 | 在业 | 注销 | 吊销 | 迁出"),
        _c("status_date", DATE, "date the status took effect", nullable=True),
    ),
    key=("uscc",),
    mode="state",
    doc="The business-registry view of filing subjects (工商登记).",
)

ICP_SUBJECTS = Dataset(
    "icp_subjects",
    (
        _c("subject_licence", STR, "主体备案号, canonical"),
        _c("uscc", STR, "subject's 统一社会信用代码 (empty for 个人)", nullable=True),
        _c("unit_name", STR, "主办单位名称"),
        _c("nature", STR, "主办单位性质: 企业, 个人, 政府机关, 事业单位, 社会团体…"),
        _c("province", STR, "province of the filing"),
        _c("approved_at", DATE, "审核通过日期"),
        _c("status", STR, "active | cancelled"),
    ),
    key=("subject_licence",),
    mode="state",
    doc="ICP subject filings (主体备案).",
)

ICP_SERVICES = Dataset(
    "icp_services",
    (
        _c("service_licence", STR, "服务备案号 (subject licence + -N), canonical"),
        _c("subject_licence", STR, "the subject filing it belongs to"),
        _c("service_type", STR, "website | app | miniprogram | quickapp"),
        _c("name", STR, "site / app name"),
        _c("domains", STR_LIST, "canonical domains (A-labels)"),
        _c("access_provider_uscc", STR, "接入商 统一社会信用代码", nullable=True),
        _c("access_ips", STR_LIST, "canonical access IPs; may be empty"),
        _c("approved_at", DATE, "审核通过日期"),
        _c("status", STR, "active | cancelled"),
        _derived("registered_domains", STR_LIST, "registered domain of each filed domain"),
        _derived("access_ip_keys", STR_LIST, "32 hex digits of each access IP (see ip_filings)"),
    ),
    key=("service_licence",),
    mode="state",
    doc="ICP service filings (网站/APP/小程序/快应用备案).",
)

REGISTRARS = Dataset(
    "registrars",
    (
        _c("iana_id", INT, "IANA registrar id"),
        _c("name", STR, "registrar name"),
        _c("country", STR, "ISO 3166 alpha-2"),
        _c("cn_licence", STR, "MIIT 域名注册服务机构 licence, if held", nullable=True),
    ),
    key=("iana_id",),
    mode="state",
    doc="Domain registrars (域名注册服务机构), domestic and overseas.",
)

DOMAIN_REGISTRATIONS = Dataset(
    "domain_registrations",
    (
        _c("domain", STR, "canonical registered domain"),
        _c("observed_at", TS, "when the WHOIS/RDAP record was read"),
        _c("registrar_iana_id", INT, "registrar's IANA id", nullable=True),
        _c("registrar_name", STR, "registrar as shown in the record", nullable=True),
        _c("registrant", STR, "registrant name", nullable=True),
        _c("created_at", TS, "registration date", nullable=True),
        _c("expires_at", TS, "expiry date", nullable=True),
        _c("status", STR, "EPP status codes, or 'unregistered'", nullable=True),
    ),
    key=("domain", "observed_at"),
    mode="log",
    observed_at="observed_at",
    doc="WHOIS/RDAP observations of domain registrations, over time.",
)

IP_FILINGS = Dataset(
    "ip_filings",
    (
        _c("start_ip", STR, "first address, canonical"),
        _c("end_ip", STR, "last address, canonical"),
        _c("reporter_uscc", STR, "报备单位 统一社会信用代码"),
        _c("source_unit", STR, "来源单位 (who allocated it to the reporter)", nullable=True),
        _c("allocation", STR, "分配且使用 | 再次分配 | 自用 | 预留"),
        _c("user_name", STR, "使用单位名称", nullable=True),
        _c("user_uscc", STR, "使用单位 统一社会信用代码", nullable=True),
        _c("province", STR, "province of use"),
        _c("city", STR, "city of use", nullable=True),
        _c("filed_at", DATE, "备案日期"),
        _derived("ip_version", INT, "4 or 6"),
        _derived("start_key", STR, "32 hex digits of start_ip; string order = address order"),
        _derived("end_key", STR, "32 hex digits of end_ip"),
    ),
    key=("start_ip", "end_ip", "reporter_uscc", "user_name"),
    mode="state",
    doc="IP address filings (IP地址备案).",
)

DNS_OBSERVATIONS = Dataset(
    "dns_observations",
    (
        _c("fqdn", STR, "canonical name queried"),
        _c("rrtype", STR, "A, AAAA, CNAME, NS, MX, TXT…"),
        _c("value", STR, "answer (canonical IP for A/AAAA, canonical name for CNAME/NS)"),
        _c("first_seen", TS, "first seen"),
        _c("last_seen", TS, "last seen"),
        _c("count", INT, "times seen"),
        _derived("registered_domain", STR, "registered domain of fqdn"),
        _derived("value_key", STR, "32 hex digits of an A/AAAA answer (see ip_filings)"),
    ),
    key=("fqdn", "rrtype", "value"),
    mode="log",
    observed_at="last_seen",
    doc="Passive DNS (被动DNS) observations.",
)

WEB_CRAWLS = Dataset(
    "web_crawls",
    (
        _c("url", STR, "URL fetched"),
        _c("fqdn", STR, "canonical host of the URL"),
        _c("fetched_at", TS, "when"),
        _c("http_status", INT, "HTTP status, empty when unreachable", nullable=True),
        _c("title", STR, "page title", nullable=True),
        _c("content_length", INT, "bytes of content", nullable=True),
        _c("footer_icp", STR, "ICP number shown in the footer, canonical", nullable=True),
        _derived("footer_icp_raw", STR, "the footer text as supplied"),
        _derived("registered_domain", STR, "registered domain of fqdn"),
    ),
    key=("url", "fetched_at"),
    mode="log",
    observed_at="fetched_at",
    doc="Web crawl results (网站巡查).",
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        ORGANISATIONS,
        ENTITIES,
        ICP_SUBJECTS,
        ICP_SERVICES,
        REGISTRARS,
        DOMAIN_REGISTRATIONS,
        IP_FILINGS,
        DNS_OBSERVATIONS,
        WEB_CRAWLS,
    )
}


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise NotFoundError(f"unknown dataset {name!r}; known: {known}") from None
