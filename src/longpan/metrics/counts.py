"""Counts of open findings by type, city, access provider and registrar, and filing
statistics by service type (备案统计)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import ibis

from longpan.core.errors import IdentifierError
from longpan.core.subjects import parse_subject
from longpan.detect.registry import finding_type_title
from longpan.store.engine import AnalyticsEngine

UNKNOWN = "未知"


def filing_statistics(engine: AnalyticsEngine) -> dict[str, Any]:
    svc = engine.table("icp_services")
    by_type = svc.group_by(["service_type", "status"]).agg(count=svc.count())
    subjects = engine.table("icp_subjects")
    by_nature = subjects.group_by(["nature", "status"]).agg(count=subjects.count())
    active = svc.filter(svc.status == "active")
    domains = active.select(d=active.registered_domains.unnest()).distinct()
    return {
        "services": sorted(engine.rows(by_type), key=lambda r: (r["service_type"], r["status"])),
        "subjects": sorted(engine.rows(by_nature), key=lambda r: (r["nature"], r["status"])),
        "filed_domains": int(engine.scalar(domains.count())),
    }


def finding_counts(
    engine: AnalyticsEngine, findings: list[dict[str, Any]], names: dict[str, str]
) -> dict[str, Any]:
    cities = subject_cities(engine, {f["subject"] for f in findings})
    registrars = domain_registrars(engine, {f["subject"] for f in findings})
    providers = Counter((f["responsible_uscc"] or "", f["type"]) for f in findings)
    return {
        "by_type": [  # with the Chinese title: notices and reports name types that way
            {**row, "title": finding_type_title(row["type"], "zh")}
            for row in _counted(Counter(f["type"] for f in findings), "type")
        ],
        "by_city": _counted(Counter(cities.get(f["subject"], UNKNOWN) for f in findings), "city"),
        "by_provider": [
            {"uscc": uscc or None, "name": names.get(uscc), "type": t, "count": n}
            for (uscc, t), n in sorted(providers.items())
        ],
        "by_registrar": _counted(
            Counter(registrars[f["subject"]] for f in findings if f["subject"] in registrars),
            "registrar",
        ),
    }


def _counted(counter: Counter[str], key: str) -> list[dict[str, Any]]:
    return [
        {key: k, "count": n} for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def subject_cities(engine: AnalyticsEngine, subjects: set[str]) -> dict[str, str]:
    """City of each subject: the filing subject's registry city, else the IP filing's."""
    kinds: dict[str, set[str]] = {}
    for subject in subjects:
        try:
            kinds.setdefault(parse_subject(subject).kind, set()).add(subject)
        except IdentifierError:
            continue  # not an identifier kind (e.g. ip:port of later capabilities)
    found: dict[str, str] = {}
    found.update(_licence_cities(engine, kinds.get("icp_subject", set())))
    found.update(_domain_cities(engine, kinds.get("domain", set())))
    found.update(_range_cities(engine, kinds.get("ip_range", set())))
    return found


def _licence_cities(engine: AnalyticsEngine, licences: set[str]) -> dict[str, str]:
    if not licences:
        return {}
    s, e = engine.table("icp_subjects"), engine.table("entities")
    chosen = s.filter(s.subject_licence.isin(sorted(licences)))
    joined = chosen.join(e, chosen.uscc == e.uscc).select(chosen.subject_licence, e.city)
    return {r["subject_licence"]: r["city"] or UNKNOWN for r in engine.rows(joined)}


def _domain_cities(engine: AnalyticsEngine, domains: set[str]) -> dict[str, str]:
    if not domains:
        return {}
    svc, s, e = (engine.table(n) for n in ("icp_services", "icp_subjects", "entities"))
    flat = svc.select("subject_licence", d=svc.registered_domains.unnest())
    flat = flat.filter(flat.d.isin(sorted(domains)))
    subjects = flat.join(s, flat.subject_licence == s.subject_licence).select(flat.d, s.uscc)
    joined = subjects.join(e, subjects.uscc == e.uscc).select(subjects.d, e.city)
    found = {r["d"]: r["city"] for r in engine.rows(joined) if r["city"]}
    return found | _served_cities(engine, domains - set(found))


def _served_cities(engine: AnalyticsEngine, domains: set[str]) -> dict[str, str]:
    """City of the IP filing covering an address the domain resolves to."""
    if not domains:
        return {}
    dns, f = engine.table("dns_observations"), engine.table("ip_filings")
    answers = dns.filter(dns.registered_domain.isin(sorted(domains)) & dns.value_key.notnull())
    joined = answers.join(f, (answers.value_key >= f.start_key) & (answers.value_key <= f.end_key))
    picked = joined.select(answers.registered_domain, f.city, f.start_key)
    best: dict[str, tuple[str, str]] = {}
    for row in engine.rows(picked):
        current = best.get(row["registered_domain"])
        if row["city"] and (current is None or row["start_key"] > current[0]):
            best[row["registered_domain"]] = (row["start_key"], row["city"])
    return {d: city for d, (_key, city) in best.items()}


def _range_cities(engine: AnalyticsEngine, ranges: set[str]) -> dict[str, str]:
    if not ranges:
        return {}
    f = engine.table("ip_filings")
    labelled = f.mutate(subject=f.start_ip.concat(ibis.literal("-"), f.end_ip))
    rows = engine.rows(
        labelled.filter(labelled.subject.isin(sorted(ranges))).select("subject", "city")
    )
    return {r["subject"]: r["city"] or UNKNOWN for r in rows}


def domain_registrars(engine: AnalyticsEngine, subjects: set[str]) -> dict[str, str]:
    """The registrar of each domain subject's latest WHOIS observation."""
    regs = engine.table("domain_registrations")
    chosen = regs.filter(regs.domain.isin(sorted(subjects)))
    latest = chosen.group_by("domain").agg(observed_at=chosen.observed_at.max())
    joined = chosen.join(
        latest, (chosen.domain == latest.domain) & (chosen.observed_at == latest.observed_at)
    )
    rows = engine.rows(joined.select(chosen.domain, chosen.registrar_name))
    return {r["domain"]: r["registrar_name"] or UNKNOWN for r in rows}
