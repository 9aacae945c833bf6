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
    order_by=("domain", "observed_at"),  # lookups by domain skip row groups
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
    order_by=("registered_domain", "fqdn", "rrtype", "value"),  # lookups by domain skip
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
    order_by=("registered_domain", "url", "fetched_at"),  # lookups by domain skip
)

# -- threat warning (S3): units' network logs and threat indicators ----------------------
DNS_LOGS = Dataset(
    "dns_logs",
    (
        _c("ts", TS, "when the query was answered"),
        _c("org_uscc", STR, "统一社会信用代码 of the unit whose resolver logged it"),
        _c("client_ip", STR, "canonical address of the client that asked"),
        _c("qname", STR, "canonical name queried"),
        _c("answer", STR, "canonical address or name answered, else as given", nullable=True),
        _derived("base_domain", STR, "registered domain of qname (else its last two labels)"),
        _derived("base_hash", INT, "64-bit hash of base_domain (a cheap join key)"),
        _derived("level1_hash", INT, "64-bit hash of qname cut to 1 label below base_domain"),
        _derived("level2_hash", INT, "64-bit hash of qname cut to 2 labels below base_domain"),
        _derived("client_key", STR, "32 hex digits of client_ip (see ip_filings)"),
        _derived("answer_key", STR, "32 hex digits of an address answer"),
    ),
    key=("ts", "org_uscc", "client_ip", "qname", "answer"),
    mode="log",
    observed_at="ts",
    doc="DNS query logs of the units (DNS日志).",
    order_by=("base_hash", "ts"),  # a hunt reads the strings of the few bases it hits
    # small groups: the hunt's exact pass decodes the strings of every group holding a
    # hit, so 200 hit bases read ~0.5 M rows instead of ~14 M (docs/benchmarks.md)
    row_group=1 << 14,
)

FLOW_LOGS = Dataset(
    "flow_logs",
    (
        _c("ts", TS, "flow start"),
        _c("org_uscc", STR, "统一社会信用代码 of the unit that logged it"),
        _c("src", STR, "canonical source address"),
        _c("dst", STR, "canonical destination address"),
        _c("dport", INT, "destination port", nullable=True),
        _c("bytes", INT, "bytes transferred", nullable=True),
        _derived("src_key", STR, "32 hex digits of src"),
        _derived("dst_key", STR, "32 hex digits of dst"),
    ),
    key=("ts", "org_uscc", "src", "dst", "dport"),
    mode="log",
    observed_at="ts",
    doc="Network flow logs of the units (流量日志).",
)

HTTP_LOGS = Dataset(
    "http_logs",
    (
        _c("ts", TS, "when the request was made"),
        _c("org_uscc", STR, "统一社会信用代码 of the unit that logged it"),
        _c("host", STR, "canonical host (domain or address)"),
        _c("url", STR, "the URL as logged (absolute, or a path on host)"),
        _derived("url_norm", STR, "canonical absolute URL (see docs/threat.md)"),
        _derived("host_base_domain", STR, "base domain of a named host (see dns_logs)"),
        _derived("host_base_hash", INT, "64-bit hash of host_base_domain"),
        _derived("host_key", STR, "32 hex digits of an address host"),
    ),
    key=("ts", "org_uscc", "host", "url"),
    mode="log",
    observed_at="ts",
    doc="HTTP proxy / web-gateway logs of the units (HTTP日志).",
)

INDICATORS = Dataset(
    "indicators",
    (
        _c("indicator_id", STR, "STIX id (indicator--uuid)"),
        _c("modified", TS, "STIX modified of the version kept (the newest seen)"),
        _c("kind", STR, "domain | ip | url | file | none (nothing matchable)"),
        _c("value", STR, "canonical value: domain, address or CIDR, URL, ALGO:hex; '' for none"),
        _c("base_domain", STR, "base domain of a domain value (see dns_logs)", nullable=True),
        _c("base_hash", INT, "64-bit hash of base_domain (see dns_logs)", nullable=True),
        _c("start_key", STR, "32 hex digits of the first address of an ip value", nullable=True),
        _c("end_key", STR, "32 hex digits of the last address of an ip value", nullable=True),
        _c("revoked", pa.bool_(), "the newest version is revoked: never matched"),
        _c("valid_from", TS, "STIX valid_from"),
        _c("valid_until", TS, "STIX valid_until", nullable=True),
        _c("name", STR, "STIX name", nullable=True),
        _c("pattern", STR, "the STIX pattern as given"),
        _c("unsupported", STR_LIST, "parts of the pattern that are not matched, and why"),
        _c("labels", STR_LIST, "STIX labels and indicator_types"),
        _c("confidence", INT, "STIX confidence 0-100", nullable=True),
        _c("kill_chain", STR_LIST, "kill_chain_name:phase_name"),
        _c("source", STR, "file or TAXII collection it came from"),
        _c("added_at", TS, "when this version entered the lake"),
    ),
    key=("indicator_id", "kind", "value"),
    mode="state",
    doc="Threat indicators (威胁情报/失陷指标) from STIX 2.1 bundles and TAXII collections.",
)

# -- vulnerability alerts (S2): key units' assets, CVE feeds, KEV ---------------------------
FLOAT = pa.float64()
BOOL = pa.bool_()

ASSETS = Dataset(
    "assets",
    (
        _c("org_uscc", STR, "统一社会信用代码 of the key unit that owns the asset"),
        _c("ip", STR, "canonical address"),
        _c("port", INT, "port, 1-65535"),
        _c("protocol", STR, "tcp | udp"),
        _c("product", STR, "product as found (banner name, e.g. Apache httpd)", nullable=True),
        _c("vendor", STR, "vendor as found", nullable=True),
        _c("version", STR, "version as found (8.9p1, 13.0-92.19…)", nullable=True),
        _c("cpe", STR, "CPE 2.3 name of the service; may be empty", nullable=True),
        _c("os_cpe", STR, "CPE 2.3 name of the operating system / firmware", nullable=True),
        _c("hw_cpe", STR, "CPE 2.3 name of the hardware", nullable=True),
        _c("hostname", STR, "host name, if known", nullable=True),
        _c("observed_at", TS, "when the asset was seen"),
    ),
    key=("ip", "port", "protocol"),
    mode="log",
    observed_at="observed_at",
    doc="Internet-facing assets of key units (重点单位互联网资产).",
)

CVES = Dataset(
    "cves",
    (
        _c("cve_id", STR, "CVE id"),
        _c("published", TS, "NVD published"),
        _c("last_modified", TS, "NVD lastModified of the version kept"),
        _c("status", STR, "NVD vulnStatus", nullable=True),
        _c("description", STR, "English description", nullable=True),
        _c("cvss31_score", FLOAT, "CVSS v3.1 base score", nullable=True),
        _c("cvss31_vector", STR, "CVSS v3.1 vector", nullable=True),
        _c("cvss31_severity", STR, "CVSS v3.1 severity", nullable=True),
        _c("cvss40_score", FLOAT, "CVSS v4.0 base score", nullable=True),
        _c("cvss40_vector", STR, "CVSS v4.0 vector", nullable=True),
        _c("cvss40_severity", STR, "CVSS v4.0 severity", nullable=True),
        _c("cvss30_score", FLOAT, "CVSS v3.0 base score", nullable=True),
        _c("cvss30_vector", STR, "CVSS v3.0 vector", nullable=True),
        _c("cvss2_score", FLOAT, "CVSS v2 base score", nullable=True),
        _c("cvss2_vector", STR, "CVSS v2 vector", nullable=True),
        _c("cwes", STR_LIST, "CWE ids"),
        _c("source", STR, "file it came from"),
    ),
    key=("cve_id",),
    mode="state",
    doc="CVE records from NVD CVE API 2.0 feeds (漏洞库), newest lastModified kept.",
)

CVE_CPE_MATCHES = Dataset(
    "cve_cpe_matches",
    (
        _c("cve_id", STR, "CVE id"),
        _c("config", INT, "configuration index in the record"),
        _c("config_operator", STR, "AND | OR (empty: one node)", nullable=True),
        _c("config_negate", BOOL, "configuration negated"),
        _c("node", INT, "node index in the configuration"),
        _c("node_operator", STR, "AND | OR"),
        _c("node_negate", BOOL, "node negated"),
        _c("match", INT, "cpeMatch index in the node"),
        _c("vulnerable", BOOL, "the cpeMatch names a vulnerable product (else a platform)"),
        _c("criteria", STR, "CPE 2.3 criteria, lowercase"),
        _c("match_criteria_id", STR, "NVD matchCriteriaId", nullable=True),
        _c("version_start_including", STR, "versionStartIncluding", nullable=True),
        _c("version_start_excluding", STR, "versionStartExcluding", nullable=True),
        _c("version_end_including", STR, "versionEndIncluding", nullable=True),
        _c("version_end_excluding", STR, "versionEndExcluding", nullable=True),
        _derived("part", STR, "criteria part"),
        _derived("vendor", STR, "criteria vendor"),
        _derived("product", STR, "criteria product"),
        _derived("version", STR, "criteria version (* with ranges)"),
        _derived("update", STR, "criteria update"),
        _derived("edition", STR, "criteria edition"),
        _derived("language", STR, "criteria language"),
        _derived("sw_edition", STR, "criteria sw_edition"),
        _derived("target_sw", STR, "criteria target_sw"),
        _derived("target_hw", STR, "criteria target_hw"),
        _derived("other", STR, "criteria other"),
        _derived("version_key", STR, "exact key of a specific criteria version (vuln/versions.py)"),
        _derived("start_key", STR, "range key of the start bound"),
        _derived("end_key", STR, "range key of the end bound"),
        _derived("range_scheme", STR, "version scheme of the bounds (d | c); x when unparseable"),
    ),
    key=("cve_id", "config", "node", "match"),
    mode="state",
    doc="Every cpeMatch of every CVE configuration, flattened for matching (漏洞适用配置).",
)

KEV = Dataset(
    "kev",
    (
        _c("cve_id", STR, "CVE id"),
        _c("vendor_project", STR, "vendorProject"),
        _c("product", STR, "product"),
        _c("vulnerability_name", STR, "vulnerabilityName", nullable=True),
        _c("date_added", DATE, "dateAdded"),
        _c("due_date", DATE, "dueDate (federal remediation deadline)"),
        _c("known_ransomware_use", STR, "knownRansomwareCampaignUse", nullable=True),
        _c("required_action", STR, "requiredAction", nullable=True),
        _c("catalog_version", STR, "catalogVersion of the catalogue it came from"),
    ),
    key=("cve_id",),
    mode="state",
    doc="CISA Known Exploited Vulnerabilities catalogue (已知被利用漏洞).",
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
        DNS_LOGS,
        FLOW_LOGS,
        HTTP_LOGS,
        INDICATORS,
        ASSETS,
        CVES,
        CVE_CPE_MATCHES,
        KEV,
    )
}


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise NotFoundError(f"unknown dataset {name!r}; known: {known}") from None
