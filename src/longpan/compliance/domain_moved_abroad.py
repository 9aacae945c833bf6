"""domain_moved_abroad (域名转出境外): a registered domain of an active website filing
whose latest WHOIS/RDAP observation shows it at an overseas registrar — one without the
MIIT 域名注册服务机构 licence — usually after a transfer away from a licensed domestic one.

Domains of filed sites are to be registered with licensed registrars (境内注册); a domain
held abroad escapes domestic suspension and real-name checks. Responsible: the access
provider (接入商) of most of the active services listing the domain.
See docs/detectors/domain_moved_abroad.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import ibis.expr.types as ir

from longpan.compliance import _registrations as reg
from longpan.core.identifiers import to_unicode
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams

NO_DOMESTIC = "no domestic registrar observed"
_HISTORY = ("observed_at", "registrar_iana_id", "registrar_name", "status")


class DomainMovedAbroadParams(NoParams):
    service_types: tuple[str, ...] = ("website",)
    """Service filings whose domains are checked."""
    not_registered_statuses: tuple[str, ...] = reg.NOT_REGISTERED_STATUSES
    """Status texts meaning the name is not registered: such a domain is not "moved"."""


class DomainMovedAbroad(Detector):
    id = "domain_moved_abroad"
    version = "1.0.0"
    capability = "G2"
    description = (
        "Registered domains of active website filings now held by an overseas (unlicensed) "
        "registrar, with the transfer from the last licensed domestic one"
    )
    inputs = ("icp_services", "icp_subjects", "domain_registrations", "registrars")
    finding_types = ("domain_moved_abroad",)
    subject_kinds = ("domain",)
    titles = (("domain_moved_abroad", "域名转移境外", "Domain moved to an overseas registrar"),)
    Params = DomainMovedAbroadParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        p: DomainMovedAbroadParams = self.params  # type: ignore[assignment]
        history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in ctx.execute(self._history(ctx).order_by(["domain", "observed_at"])):
            history[row["domain"]].append(row)
        services = reg.services_for(ctx, p.service_types, sorted(history))
        for domain in sorted(history):
            if domain in services:
                yield self._draft(domain, history[domain], services[domain])

    def _history(self, ctx: DetectionContext) -> ir.Table:
        """Every observation (registrar resolved) of the domains now abroad."""
        obs = reg.observations(ctx)
        resolved = reg.with_registrar(ctx, obs)
        return resolved.semi_join(self._abroad(obs, resolved).select("domain"), "domain")

    def _abroad(self, obs: ir.Table, resolved: ir.Table) -> ir.Table:
        """The latest observation of each domain, where it is at an overseas registrar
        known to the registrars table and the name is still registered (filed or not:
        the unfiled ones are dropped once the filings are looked up)."""
        p: DomainMovedAbroadParams = self.params  # type: ignore[assignment]
        candidates = resolved.filter(
            resolved.reg_known
            & resolved.reg_overseas
            & ~reg.status_in(resolved.status, p.not_registered_statuses)
        )
        return reg.latest_matching(obs, candidates)

    def _draft(
        self, domain: str, history: list[dict[str, Any]], services: list[dict[str, Any]]
    ) -> FindingDraft:
        current = history[-1]
        domestic = _last_domestic(history[:-1])
        first_abroad = _first_abroad_after(history, domestic)
        evidence = {
            "domain": domain,
            "domain_unicode": to_unicode(domain),
            "current_registrar": _registrar(current),
            "previous_domestic_registrar": _registrar(domestic) if domestic else None,
            "note": None if domestic else NO_DOMESTIC,
            "transfer_window": _window(domestic, first_abroad),
            "observations": [
                {**{k: _value(row[k]) for k in _HISTORY}, "overseas": _overseas(row)}
                for row in history[-20:]
            ],
            **reg.filing_evidence(services),
        }
        return FindingDraft(
            type="domain_moved_abroad",
            subject=domain,
            severity="medium",
            evidence=evidence,
            responsible_uscc=reg.responsible(domain, services),
        )


def _value(value: Any) -> Any:
    return reg.utc(value) if isinstance(value, datetime) else value


def _overseas(row: dict[str, Any]) -> bool | None:
    """True/False for a registrar found in the registrars table, None when unknown."""
    return bool(row["reg_overseas"]) if row["reg_known"] else None


def _last_domestic(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    domestic = [r for r in history if _overseas(r) is False]
    return domestic[-1] if domestic else None


def _first_abroad_after(
    history: list[dict[str, Any]], domestic: dict[str, Any] | None
) -> dict[str, Any]:
    """The first observation at an overseas registrar after the last domestic one."""
    after = [
        r
        for r in history
        if _overseas(r) and (domestic is None or r["observed_at"] > domestic["observed_at"])
    ]
    return after[0] if after else history[-1]


def _registrar(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["reg_name"],
        "iana_id": row["reg_iana_id"],
        "country": row["reg_country"],
        "cn_licence": row["reg_licence"],
        "name_in_record": row["registrar_name"],
        "matched_by": row["reg_matched_by"],
        "observed_at": reg.utc(row["observed_at"]),
    }


def _window(domestic: dict[str, Any] | None, abroad: dict[str, Any]) -> dict[str, Any] | None:
    """Between the last sighting at home and the first abroad: when the transfer happened."""
    if domestic is None:
        return None
    start: datetime = reg.utc(domestic["observed_at"])
    end: datetime = reg.utc(abroad["observed_at"])
    return {"after": start, "by": end, "days": (end - start).days}
