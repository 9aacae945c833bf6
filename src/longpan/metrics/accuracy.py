"""ICP-filing accuracy (备案准确率) and IP-filing accuracy, by census and by sampling.

A record is accurate when its subject and access information are both correct, i.e.
when no open finding of the types below touches it:

- ICP service filing (网站/APP备案): `dissolved_subject` on its subject licence,
  `false_filing` or `shell_website` on one of its domains, `ip_filing_inaccurate` on one
  of its access addresses (check 1063);
- IP filing: `ip_filing_inaccurate` on its range.

Per access provider: the service filing's access provider, the IP filing's reporter.
Expired or transferred domains are not counted against a filing's accuracy: they are
about the domain's registration, not the filing's subject or access information.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from longpan.metrics.sampling import Stratum, draw, stratified, wilson
from longpan.store.engine import AnalyticsEngine

ICP_TYPES = ("dissolved_subject", "false_filing", "shell_website", "ip_filing_inaccurate")
IP_TYPES = ("ip_filing_inaccurate",)
NO_PROVIDER = "(none)"


@dataclass(frozen=True)
class Record:
    id: str
    provider: str
    keys: tuple[str, ...]  # the finding subjects that would make it inaccurate


def icp_records(engine: AnalyticsEngine) -> list[Record]:
    svc = engine.table("icp_services")
    active = svc.filter(svc.status == "active").select(
        "service_licence",
        "subject_licence",
        "access_provider_uscc",
        "registered_domains",
        "access_ips",
    )
    records = []
    for row in engine.rows(active.order_by("service_licence")):
        keys = (
            row["subject_licence"],
            *row["registered_domains"],
            *(f"{ip}-{ip}" for ip in row["access_ips"]),
        )
        records.append(
            Record(row["service_licence"], row["access_provider_uscc"] or NO_PROVIDER, keys)
        )
    return records


def ip_records(engine: AnalyticsEngine) -> list[Record]:
    f = engine.table("ip_filings")
    ordered = f.order_by(["start_key", "end_key", "reporter_uscc", "user_name"]).select(
        "start_ip", "end_ip", "reporter_uscc"
    )
    records = []
    for n, row in enumerate(engine.rows(ordered)):
        subject = f"{row['start_ip']}-{row['end_ip']}"
        records.append(Record(f"{subject}#{n}", row["reporter_uscc"], (subject,)))
    return records


def accuracy(
    records: Iterable[Record], flagged: set[str], names: dict[str, str], seed: int = 0
) -> dict[str, Any]:
    """Census and sampled accuracy, overall and per provider."""
    by_provider: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_provider[record.provider].append(record)
    rows: list[dict[str, Any]] = []
    strata: list[Stratum] = []
    for provider in sorted(by_provider):
        group = by_provider[provider]
        ok = {r.id for r in group if not flagged.intersection(r.keys)}
        sample = draw([r.id for r in group], seed, provider)
        sample_ok = sum(1 for r in sample if r in ok)
        strata.append(Stratum(len(group), len(sample), sample_ok))
        low, high = wilson(sample_ok, len(sample), len(group))
        rows.append(
            {
                "uscc": provider,
                "name": names.get(provider),
                "records": len(group),
                "accurate": len(ok),
                "rate": _rate(len(ok), len(group)),
                "sampled": len(sample),
                "sample_accurate": sample_ok,
                "sample_rate": _rate(sample_ok, len(sample)),
                "ci95": [low, high],
            }
        )
    total = sum(int(r["records"]) for r in rows)
    accurate = sum(int(r["accurate"]) for r in rows)
    estimate, low, high = stratified(strata)
    return {
        "census": {"records": total, "accurate": accurate, "rate": _rate(accurate, total)},
        "sampled": {
            "sampled": sum(s.sampled for s in strata),
            "accurate": sum(s.accurate for s in strata),
            "estimate": estimate,
            "ci95": [low, high],
            "seed": seed,
        },
        "by_provider": rows,
    }


def _rate(good: int, total: int) -> float:
    return good / total if total else 1.0
