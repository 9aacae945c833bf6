"""Attribution (溯源核查): which organisation is responsible for a subject.

The general rules, by subject kind:
- ICP service filing → the access provider (接入商) that filed it;
- ICP subject filing → the access provider of most of its active services;
- domain → the access provider of the active filing that covers it; if it is unfiled,
  the unit that reported the IP filing covering an address it serves from;
- IP address or range → the reporter (报备单位) of the narrowest IP filing covering it;
- 统一社会信用代码 → that organisation itself;
- ``<uscc>:<indicator>`` (a unit's threat-indicator hit) → that unit; ``indicator:<value>``
  (a warning to the regulator about every unit hit) → nobody.
Detectors with a more specific rule set ``responsible_uscc`` themselves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.core.subjects import Subject, parse_subject
from longpan.resources import lookups as q
from longpan.store.engine import AnalyticsEngine


@dataclass(frozen=True)
class Attribution:
    uscc: str
    reason: str


def attribute(engine: AnalyticsEngine, subject: str | Subject) -> Attribution | None:
    """The responsible organisation for ``subject``, or None when the lake cannot say."""
    try:
        parsed = subject if isinstance(subject, Subject) else parse_subject(subject)
    except IdentifierError:
        return None
    rule = _RULES[parsed.kind]
    return rule(engine, parsed.value)


def _service(engine: AnalyticsEngine, licence: str) -> Attribution | None:
    row = q.one(engine, "icp_services", "service_licence", licence)
    if row is None or not row["access_provider_uscc"]:
        return None
    return Attribution(row["access_provider_uscc"], f"access provider of {licence}")


def _subject(engine: AnalyticsEngine, licence: str) -> Attribution | None:
    services = q.services_where(engine, "subject_licence", licence)
    active = [s for s in services if s["status"] == "active"] or services
    return majority_access_provider(active, f"access provider of {licence}'s services")


def majority_access_provider(services: list[q.Row], reason: str) -> Attribution | None:
    """The access provider filing most of ``services`` (ties: the smallest code)."""
    counts = Counter(s["access_provider_uscc"] for s in services if s["access_provider_uscc"])
    if not counts:
        return None
    uscc = min(counts, key=lambda u: (-counts[u], u))
    return Attribution(uscc, reason)


def _domain(engine: AnalyticsEngine, fqdn: str) -> Attribution | None:
    services = [s for s in q.services_for_domain(engine, fqdn) if s["status"] == "active"]
    found = majority_access_provider(services, f"access provider of the filing covering {fqdn}")
    if found:
        return found
    for ip in q.serving_ips(engine, fqdn):
        by_ip = _ip(engine, ip)
        if by_ip:
            return Attribution(by_ip.uscc, f"{fqdn} is served from {ip}: {by_ip.reason}")
    return None


def _ip(engine: AnalyticsEngine, ip: str) -> Attribution | None:
    return _range(engine, str(ids.IpRange.from_bounds(ip, ip)))


def _range(engine: AnalyticsEngine, text: str) -> Attribution | None:
    ip_range = ids.parse_range(text)
    covering = q.filings_covering(engine, ip_range)
    if not covering:
        return None
    best = covering[0]
    return Attribution(
        best["reporter_uscc"],
        f"reporter of the IP filing {best['start_ip']}-{best['end_ip']}",
    )


def _uscc(engine: AnalyticsEngine, uscc: str) -> Attribution | None:
    return Attribution(uscc, "the organisation itself")


def _ioc(engine: AnalyticsEngine, subject: str) -> Attribution | None:
    return Attribution(subject.partition(":")[0], "the unit whose logs hold the hit")


def _nobody(engine: AnalyticsEngine, subject: str) -> Attribution | None:
    return None


_RULES = {
    "icp_service": _service,
    "icp_subject": _subject,
    "domain": _domain,
    "ip": _ip,
    "ip_range": _range,
    "uscc": _uscc,
    "ioc": _ioc,
    "indicator": _nobody,
    # A vulnerable service's owner is in the asset row; the detector sets it itself.
    "service": _nobody,
}
