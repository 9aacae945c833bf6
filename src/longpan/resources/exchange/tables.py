"""The exchange-format tables: which columns each needs and how each is parsed.

Every table maps to the lake dataset of the same name (store/datasets.py). Columns a
user does not supply but the lake carries (``derived``) are computed in ``derive``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.resources.exchange import parsers as p
from longpan.store.datasets import DATASETS
from longpan.store.lake import Dataset
from longpan.store.models import ORG_ROLES

Row = dict[str, Any]
# A row rule returns (column, reason) for the first problem it sees, or None.
RowRule = Callable[[Row], tuple[str, str] | None]


@dataclass(frozen=True)
class Field:
    name: str
    parse: p.Parser
    required: bool = True  # a value must be present (the column always must)


@dataclass(frozen=True)
class TableSpec:
    dataset: Dataset
    fields: tuple[Field, ...]
    rules: tuple[RowRule, ...] = ()
    derive: Callable[[Row], Row] = field(default=lambda row: {})

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields]


def _subject_uscc_unless_individual(row: Row) -> tuple[str, str] | None:
    if row["uscc"] is None and row["nature"] != "个人":
        return "uscc", "a value is required unless nature is 个人"
    return None


def _service_belongs_to_subject(row: Row) -> tuple[str, str] | None:
    subject = ids.parse_icp(row["service_licence"]).subject_licence
    if subject != row["subject_licence"]:
        return "subject_licence", (
            f"service {row['service_licence']} belongs to subject {subject}, "
            f"not {row['subject_licence']}"
        )
    return None


def _website_has_domain(row: Row) -> tuple[str, str] | None:
    if row["service_type"] == "website" and not row["domains"]:
        return "domains", "a website filing needs at least one domain"
    return None


def _range_in_order(row: Row) -> tuple[str, str] | None:
    try:
        ids.IpRange.from_bounds(row["start_ip"], row["end_ip"])
    except IdentifierError as exc:
        return "end_ip", exc.reason
    return None


def _seen_in_order(row: Row) -> tuple[str, str] | None:
    if row["last_seen"] < row["first_seen"]:
        return "last_seen", f"last_seen {row['last_seen']} is before first_seen {row['first_seen']}"
    return None


def _dns_value_matches_type(row: Row) -> tuple[str, str] | None:
    """A/AAAA answers are IPs of their version; CNAME/NS answers are domain names."""
    rrtype = row["rrtype"]
    try:
        if rrtype in ("A", "AAAA"):
            version = ids.parse_ip(row["value"]).version
            if version != (4 if rrtype == "A" else 6):
                return "value", f"an {rrtype} record cannot hold an IPv{version} address"
        elif rrtype in ("CNAME", "NS"):
            ids.canonical_domain(row["value"])
    except IdentifierError as exc:
        return "value", f"not valid for an {rrtype} record: {exc.reason}"
    return None


def _dns_canonical_value(row: Row) -> Row:
    rrtype = row["rrtype"]
    value = row["value"]
    if rrtype in ("A", "AAAA"):
        value = ids.canonical_ip(value)
    elif rrtype in ("CNAME", "NS"):
        value = ids.canonical_domain(value)
    return {"value": value, "registered_domain": _optional_registered_domain(row["fqdn"])}


def _optional_registered_domain(fqdn: str) -> str | None:
    try:
        return ids.registered_domain(fqdn)
    except IdentifierError:
        return None  # e.g. a name under a suffix the public suffix list does not know


def _ip_filing_keys(row: Row) -> Row:
    start = ids.parse_ip(row["start_ip"])
    return {
        "ip_version": start.version,
        "start_key": ids.ip_key(row["start_ip"]),
        "end_key": ids.ip_key(row["end_ip"]),
    }


def _req(name: str, parse: p.Parser) -> Field:
    return Field(name, parse, required=True)


def _opt(name: str, parse: p.Parser) -> Field:
    return Field(name, parse, required=False)


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
                _req("name", p.text),
                _req("roles", p.roles(ORG_ROLES)),
            ),
        ),
        TableSpec(
            DATASETS["entities"],
            (
                _req("uscc", p.uscc),
                _req("name", p.text),
                _req("kind", p.text),
                _req("province", p.province),
                _opt("city", p.text),
                _req("status", p.one_of(*REGISTRY_STATUSES)),
                _opt("status_date", p.iso_date),
            ),
        ),
        TableSpec(
            DATASETS["icp_subjects"],
            (
                _req("subject_licence", p.subject_licence),
                _opt("uscc", p.uscc),
                _req("unit_name", p.text),
                _req("nature", p.text),
                _req("province", p.province),
                _req("approved_at", p.iso_date),
                _req("status", p.one_of(*FILING_STATUSES)),
            ),
            rules=(_subject_uscc_unless_individual,),
        ),
        TableSpec(
            DATASETS["icp_services"],
            (
                _req("service_licence", p.service_licence),
                _req("subject_licence", p.subject_licence),
                _req("service_type", p.one_of(*SERVICE_TYPES)),
                _req("name", p.text),
                _opt("domains", p.list_of(p.domain)),
                _opt("access_provider_uscc", p.uscc),
                _opt("access_ips", p.list_of(p.ip)),
                _req("approved_at", p.iso_date),
                _req("status", p.one_of(*FILING_STATUSES)),
            ),
            rules=(_service_belongs_to_subject, _website_has_domain),
        ),
        TableSpec(
            DATASETS["registrars"],
            (
                _req("iana_id", p.positive_int),
                _req("name", p.text),
                _req("country", p.country),
                _opt("cn_licence", p.text),
            ),
        ),
        TableSpec(
            DATASETS["domain_registrations"],
            (
                _req("domain", p.registered_domain),
                _req("observed_at", p.iso_timestamp),
                _opt("registrar_iana_id", p.positive_int),
                _opt("registrar_name", p.text),
                _opt("registrant", p.text),
                _opt("created_at", p.iso_timestamp),
                _opt("expires_at", p.iso_timestamp),
                _opt("status", p.text),
            ),
        ),
        TableSpec(
            DATASETS["ip_filings"],
            (
                _req("start_ip", p.ip),
                _req("end_ip", p.ip),
                _req("reporter_uscc", p.uscc),
                _opt("source_unit", p.text),
                _req("allocation", p.one_of(*ALLOCATIONS)),
                _opt("user_name", p.text),
                _opt("user_uscc", p.uscc),
                _req("province", p.province),
                _opt("city", p.text),
                _req("filed_at", p.iso_date),
            ),
            rules=(_range_in_order,),
            derive=_ip_filing_keys,
        ),
        TableSpec(
            DATASETS["dns_observations"],
            (
                _req("fqdn", p.domain),
                _req("rrtype", lambda v: p.text(v).upper()),
                _req("value", p.text),
                _req("first_seen", p.iso_timestamp),
                _req("last_seen", p.iso_timestamp),
                _req("count", p.non_negative_int),
            ),
            rules=(_seen_in_order, _dns_value_matches_type),
            derive=_dns_canonical_value,
        ),
        TableSpec(
            DATASETS["web_crawls"],
            (
                _req("url", p.text),
                _req("fqdn", p.domain),
                _req("fetched_at", p.iso_timestamp),
                _opt("http_status", p.positive_int),
                _opt("title", p.text),
                _opt("content_length", p.non_negative_int),
                _opt("footer_icp", p.text),
            ),
            derive=lambda row: {
                "footer_icp_raw": row["footer_icp"],
                "footer_icp": p.footer_icp(row["footer_icp"]) if row["footer_icp"] else None,
                "registered_domain": _optional_registered_domain(row["fqdn"]),
            },
        ),
    )
}
