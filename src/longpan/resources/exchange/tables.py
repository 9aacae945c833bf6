"""The exchange-format tables: which columns each needs and how each is parsed.

Every table maps to the lake dataset of the same name (store/datasets.py). Columns a
user does not supply but the lake carries (``derived``) are computed in ``derive``.

Each column has its Python parser (``parsers.py``, the reference) and, where it pays,
a vectorised check (``columns.py``) that accepts the cells already in canonical form;
each table's row rules and derived columns have batch variants (``rules.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from longpan.resources.exchange import assets as a
from longpan.resources.exchange import columns as c
from longpan.resources.exchange import lists, netlogs, psl
from longpan.resources.exchange import parsers as p
from longpan.resources.exchange import rules as r
from longpan.resources.exchange.rules import DeriveBatch, Row, RowRule, RulesBatch
from longpan.store.datasets import DATASETS
from longpan.store.lake import Dataset
from longpan.store.models import ORG_ROLES

__all__ = ["SPECS", "Field", "Row", "RowRule", "TableSpec"]


@dataclass(frozen=True)
class Field:
    name: str
    parse: p.Parser
    required: bool = True  # a value must be present (the column always must)
    fast: c.FastCheck | None = None  # vectorised check of cells already canonical


@dataclass(frozen=True)
class TableSpec:
    dataset: Dataset
    fields: tuple[Field, ...]
    rules: tuple[RowRule, ...] = ()
    rules_batch: RulesBatch | None = None  # rows surely passing every rule
    derive: Callable[[Row], Row] | None = None
    derive_batch: DeriveBatch | None = None

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields]


def _req(name: str, parse: p.Parser, fast: c.FastCheck | None = None) -> Field:
    return Field(name, parse, required=True, fast=fast)


def _opt(name: str, parse: p.Parser, fast: c.FastCheck | None = None) -> Field:
    return Field(name, parse, required=False, fast=fast)


def _upper_text(value: object) -> str:
    return p.text(value).upper()


REGISTRY_STATUSES = ("存续", "在业", "注销", "吊销", "迁出")
FILING_STATUSES = ("active", "cancelled")
SERVICE_TYPES = ("website", "app", "miniprogram", "quickapp")
ALLOCATIONS = ("分配且使用", "再次分配", "自用", "预留")

SPECS: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            DATASETS["organisations"],
            (
                _req("uscc", p.uscc),
                _req("name", p.text, c.text),
                _req("roles", p.roles(ORG_ROLES)),
            ),
        ),
        TableSpec(
            DATASETS["entities"],
            (
                _req("uscc", p.uscc),
                _req("name", p.text, c.text),
                _req("kind", p.text, c.text),
                _req("province", p.province),
                _opt("city", p.text, c.text),
                _req("status", p.one_of(*REGISTRY_STATUSES), c.one_of(*REGISTRY_STATUSES)),
                _opt("status_date", p.iso_date, c.iso_date),
            ),
        ),
        TableSpec(
            DATASETS["icp_subjects"],
            (
                _req("subject_licence", p.subject_licence, c.icp_subject),
                _opt("uscc", p.uscc),
                _req("unit_name", p.text, c.text),
                _req("nature", p.text, c.text),
                _req("province", p.province),
                _req("approved_at", p.iso_date, c.iso_date),
                _req("status", p.one_of(*FILING_STATUSES), c.one_of(*FILING_STATUSES)),
            ),
            rules=(r.subject_uscc_unless_individual,),
            rules_batch=r.icp_subject_rules,
        ),
        TableSpec(
            DATASETS["icp_services"],
            (
                _req("service_licence", p.service_licence, c.icp_service),
                _req("subject_licence", p.subject_licence, c.icp_subject),
                _req("service_type", p.one_of(*SERVICE_TYPES), c.one_of(*SERVICE_TYPES)),
                _req("name", p.text, c.text),
                _opt("domains", p.list_of(p.domain), lists.list_of(c.domain, p.domain)),
                _opt("access_provider_uscc", p.uscc),
                _opt("access_ips", p.list_of(p.ip), lists.list_of(c.ip, p.ip)),
                _req("approved_at", p.iso_date, c.iso_date),
                _req("status", p.one_of(*FILING_STATUSES), c.one_of(*FILING_STATUSES)),
            ),
            rules=(r.service_belongs_to_subject, r.website_has_domain),
            rules_batch=r.icp_service_rules,
            derive=r.service_registered_domains,
            derive_batch=r.service_derive_batch,
        ),
        TableSpec(
            DATASETS["registrars"],
            (
                _req("iana_id", p.positive_int, c.positive_int),
                _req("name", p.text, c.text),
                _req("country", p.country, c.country),
                _opt("cn_licence", p.text, c.text),
            ),
        ),
        TableSpec(
            DATASETS["domain_registrations"],
            (
                _req("domain", p.registered_domain, psl.registered_domain_check),
                _req("observed_at", p.iso_timestamp, c.iso_timestamp),
                _opt("registrar_iana_id", p.positive_int, c.positive_int),
                _opt("registrar_name", p.text, c.text),
                _opt("registrant", p.text, c.text),
                _opt("created_at", p.iso_timestamp, c.iso_timestamp),
                _opt("expires_at", p.iso_timestamp, c.iso_timestamp),
                _opt("status", p.text, c.text),
            ),
        ),
        TableSpec(
            DATASETS["ip_filings"],
            (
                _req("start_ip", p.ip, c.ip),
                _req("end_ip", p.ip, c.ip),
                _req("reporter_uscc", p.uscc),
                _opt("source_unit", p.text, c.text),
                _req("allocation", p.one_of(*ALLOCATIONS), c.one_of(*ALLOCATIONS)),
                _opt("user_name", p.text, c.text),
                _opt("user_uscc", p.uscc),
                _req("province", p.province),
                _opt("city", p.text, c.text),
                _req("filed_at", p.iso_date, c.iso_date),
            ),
            rules=(r.range_in_order,),
            rules_batch=r.ip_filing_rules,
            derive=r.ip_filing_keys,
            derive_batch=r.ip_filing_derive,
        ),
        TableSpec(
            DATASETS["dns_observations"],
            (
                _req("fqdn", p.domain, c.domain),
                _req("rrtype", _upper_text, c.upper_text),
                _req("value", p.text, c.text),
                _req("first_seen", p.iso_timestamp, c.iso_timestamp),
                _req("last_seen", p.iso_timestamp, c.iso_timestamp),
                _req("count", p.non_negative_int, c.non_negative_int),
            ),
            rules=(r.seen_in_order, r.dns_value_matches_type),
            rules_batch=r.dns_rules,
            derive=r.dns_canonical_value,
            derive_batch=r.dns_derive,
        ),
        TableSpec(
            DATASETS["web_crawls"],
            (
                _req("url", p.text, c.text),
                _req("fqdn", p.domain, c.domain),
                _req("fetched_at", p.iso_timestamp, c.iso_timestamp),
                _opt("http_status", p.positive_int, c.positive_int),
                _opt("title", p.text, c.text),
                _opt("content_length", p.non_negative_int, c.non_negative_int),
                _opt("footer_icp", p.text, c.text),
            ),
            derive=r.web_crawl_derive,
            derive_batch=r.web_crawl_derive_batch,
        ),
        TableSpec(
            DATASETS["dns_logs"],
            (
                _req("ts", p.iso_timestamp, c.iso_timestamp),
                _req("org_uscc", p.uscc),
                _req("client_ip", p.ip, c.ip),
                _req("qname", p.domain, c.domain),
                _opt("answer", netlogs.answer),
            ),
            derive=netlogs.dns_log_derive,
            derive_batch=netlogs.dns_log_derive_batch,
        ),
        TableSpec(
            DATASETS["flow_logs"],
            (
                _req("ts", p.iso_timestamp, c.iso_timestamp),
                _req("org_uscc", p.uscc),
                _req("src", p.ip, c.ip),
                _req("dst", p.ip, c.ip),
                _opt("dport", netlogs.port),
                _opt("bytes", p.non_negative_int, c.non_negative_int),
            ),
            derive=netlogs.flow_log_derive,
            derive_batch=netlogs.flow_log_derive_batch,
        ),
        TableSpec(
            DATASETS["http_logs"],
            (
                _req("ts", p.iso_timestamp, c.iso_timestamp),
                _req("org_uscc", p.uscc),
                _req("host", netlogs.host),
                _req("url", p.text, c.text),
            ),
            rules=(netlogs.url_is_valid,),
            derive=netlogs.http_log_derive,
            derive_batch=netlogs.http_log_derive_batch,
        ),
        TableSpec(
            DATASETS["assets"],
            (
                _req("org_uscc", p.uscc),
                _req("ip", p.ip, c.ip),
                _req("port", a.port),
                _req("protocol", a.protocol),
                _opt("product", p.text, c.text),
                _opt("vendor", p.text, c.text),
                _opt("version", p.text, c.text),
                _opt("cpe", a.cpe23),
                _opt("os_cpe", a.cpe23),
                _opt("hw_cpe", a.cpe23),
                _opt("hostname", p.text, c.text),
                _req("observed_at", p.iso_timestamp, c.iso_timestamp),
            ),
            rules=(a.cpe_or_product_version,),
        ),
    )
}
