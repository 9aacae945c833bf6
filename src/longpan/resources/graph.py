"""The resource graph: a subject's neighbourhood across registries and observations.

entity (工商) ↔ ICP subject ↔ ICP service ↔ domain ↔ registration / DNS / crawl
↔ IP address ↔ IP filing ↔ reporting unit / access provider. ``neighbourhood`` gathers
what the lake knows around one subject, with the responsible organisation.
"""

from __future__ import annotations

from typing import Any

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.core.subjects import parse_subject
from longpan.resources import lookups as q
from longpan.resources.attribution import attribute
from longpan.store.engine import AnalyticsEngine

Graph = dict[str, Any]


def neighbourhood(engine: AnalyticsEngine, value: str) -> Graph:
    """Everything the lake links to ``value`` (any subject kind), JSON-ready."""
    subject = parse_subject(value)
    graph: Graph = {"subject": subject.value, "kind": subject.kind}
    graph.update(_BUILDERS[subject.kind](engine, subject.value))
    found = attribute(engine, subject)
    graph["responsible"] = _responsible(engine, found.uscc, found.reason) if found else None
    return graph


def _responsible(engine: AnalyticsEngine, uscc: str, reason: str) -> dict[str, Any]:
    org = q.one(engine, "organisations", "uscc", uscc)
    return {
        "uscc": uscc,
        "name": org["name"] if org else None,
        "roles": org["roles"] if org else [],
        "reason": reason,
    }


def _subject_side(engine: AnalyticsEngine, licence: str) -> Graph:
    """An ICP subject filing with its registry entity and its services."""
    subject = q.one(engine, "icp_subjects", "subject_licence", licence)
    entity = (
        q.one(engine, "entities", "uscc", subject["uscc"]) if subject and subject["uscc"] else None
    )
    return {
        "icp_subject": subject,
        "entity": entity,
        "icp_services": q.services_where(engine, "subject_licence", licence),
    }


def _for_icp_subject(engine: AnalyticsEngine, licence: str) -> Graph:
    return _subject_side(engine, licence)


def _for_icp_service(engine: AnalyticsEngine, licence: str) -> Graph:
    service = q.one(engine, "icp_services", "service_licence", licence)
    graph = _subject_side(engine, ids.parse_icp(licence).subject_licence)
    graph["icp_service"] = service
    graph["access_provider"] = (
        q.one(engine, "organisations", "uscc", service["access_provider_uscc"])
        if service and service["access_provider_uscc"]
        else None
    )
    return graph


def _for_domain(engine: AnalyticsEngine, fqdn: str) -> Graph:
    try:
        registered = ids.registered_domain(fqdn)
    except IdentifierError:
        registered = fqdn
    services = q.services_for_domain(engine, fqdn)
    subjects = sorted({s["subject_licence"] for s in services})
    serving = q.serving_ips(engine, fqdn)
    return {
        "registered_domain": registered,
        "icp_services": services,
        "icp_subjects": [_subject_side(engine, s)["icp_subject"] for s in subjects],
        "registrations": _registrations(engine, registered),
        "dns": q.many(engine, "dns_observations", "registered_domain", registered, "fqdn"),
        "web_crawls": q.many(engine, "web_crawls", "registered_domain", registered, "fetched_at"),
        "serving_ips": serving,
        "ip_filings": {
            ip: q.filings_covering(engine, ids.IpRange.from_bounds(ip, ip)) for ip in serving[:20]
        },
    }


def _registrations(engine: AnalyticsEngine, domain: str) -> list[dict[str, Any]]:
    """WHOIS/RDAP observations over time, with the registrar's country and licence."""
    regs = q.many(engine, "domain_registrations", "domain", domain, "observed_at")
    for reg in regs:
        registrar = (
            q.one(engine, "registrars", "iana_id", reg["registrar_iana_id"])
            if reg["registrar_iana_id"] is not None
            else None
        )
        reg["registrar_country"] = registrar["country"] if registrar else None
        reg["registrar_cn_licence"] = registrar["cn_licence"] if registrar else None
    return regs


def _for_ip(engine: AnalyticsEngine, ip: str) -> Graph:
    d = engine.table("dns_observations")
    names = q.rows(engine, d.filter(d.value == ip).order_by("fqdn").limit(200))
    return {
        "ip_filings": q.filings_covering(engine, ids.IpRange.from_bounds(ip, ip)),
        "dns": names,
        "icp_services": q.services_with_ip(engine, ip),
    }


def _for_ip_range(engine: AnalyticsEngine, text: str) -> Graph:
    ip_range = ids.parse_range(text)
    return {
        "ip_filings": q.filings_overlapping(engine, ip_range),
        "covering_filings": q.filings_covering(engine, ip_range),
    }


def _for_uscc(engine: AnalyticsEngine, uscc: str) -> Graph:
    return {
        "organisation": q.one(engine, "organisations", "uscc", uscc),
        "entity": q.one(engine, "entities", "uscc", uscc),
        "icp_subjects": q.many(engine, "icp_subjects", "uscc", uscc, "subject_licence"),
        "services_accessed": q.many(
            engine, "icp_services", "access_provider_uscc", uscc, "service_licence"
        ),
        "ip_filings_reported": q.many(engine, "ip_filings", "reporter_uscc", uscc, "start_key"),
        "ip_filings_used": q.many(engine, "ip_filings", "user_uscc", uscc, "start_key"),
    }


_BUILDERS = {
    "icp_subject": _for_icp_subject,
    "icp_service": _for_icp_service,
    "domain": _for_domain,
    "ip": _for_ip,
    "ip_range": _for_ip_range,
    "uscc": _for_uscc,
}
