"""expired_domain (域名过期): a registered domain of an active website filing whose
latest WHOIS/RDAP observation shows the registration expired, or the name no longer
registered.

A filed site whose domain has lapsed can be re-registered by anyone, who then serves
under someone else's filing. Responsible: the access provider (接入商) of most of the
active services listing the domain, who must have the filing updated or access
withdrawn. See docs/detectors/expired_domain.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from longpan.compliance import _registrations as reg
from longpan.core.identifiers import to_unicode
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams


class ExpiredDomainParams(NoParams):
    service_types: tuple[str, ...] = ("website",)
    """Service filings whose domains are checked."""
    not_registered_statuses: tuple[str, ...] = reg.NOT_REGISTERED_STATUSES
    """Status texts meaning the name is not registered (case, spaces, ``_``, ``-`` ignored)."""
    lapsed_statuses: tuple[str, ...] = reg.LAPSED_STATUSES
    """EPP/RDAP statuses of a registration already deleted by the registrar."""
    grace_days: int = Field(default=0, ge=0)
    """Days after the expiry date before an expired registration is flagged."""


class ExpiredDomain(Detector):
    id = "expired_domain"
    version = "1.0.0"
    capability = "G2"
    description = (
        "Registered domains of active website filings whose latest WHOIS shows the "
        "registration expired or the name no longer registered"
    )
    inputs = ("icp_services", "icp_subjects", "domain_registrations")
    finding_types = ("expired_domain",)
    subject_kinds = ("domain",)
    titles = (("expired_domain", "域名过期", "Expired domain"),)
    Params = ExpiredDomainParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        p: ExpiredDomainParams = self.params  # type: ignore[assignment]
        lapsed = ctx.execute(self._lapsed(ctx).order_by("domain"))
        services = reg.services_for(ctx, p.service_types, [r["domain"] for r in lapsed])
        for row in lapsed:
            if row["domain"] in services:
                yield self._draft(ctx.as_of, row, services[row["domain"]])

    def _lapsed(self, ctx: DetectionContext) -> ir.Table:
        """The latest observation of each domain where it shows a lapse, with the newest
        expiry date seen (``known_expires_at``, read at ``known_at``). Filed or not: the
        few unfiled domains are dropped once the filings are looked up."""
        p: ExpiredDomainParams = self.params  # type: ignore[assignment]
        obs = reg.observations(ctx)
        cutoff = ibis.literal(reg.naive(ctx.as_of) - timedelta(days=p.grace_days))
        marked = obs.mutate(
            is_expired=obs.expires_at.notnull() & (obs.expires_at < cutoff),
            is_unregistered=reg.status_in(obs.status, p.not_registered_statuses),
            is_lapsed=reg.status_in(obs.status, p.lapsed_statuses),
        )
        candidates = marked.filter(marked.is_expired | marked.is_unregistered | marked.is_lapsed)
        lapsed = reg.latest_matching(obs, candidates)
        dated = obs.filter(obs.expires_at.notnull()).semi_join(lapsed.select("domain"), "domain")
        newest = reg.latest_matching(dated, dated)
        known = newest.select(
            k_domain=newest.domain, known_expires_at=newest.expires_at, known_at=newest.observed_at
        )
        out = lapsed.left_join(known, lapsed.domain == known.k_domain)
        return out.select(*[out[c] for c in lapsed.columns], "known_expires_at", "known_at")

    def _draft(
        self, as_of: datetime, row: dict[str, Any], services: list[dict[str, Any]]
    ) -> FindingDraft:
        domain = row["domain"]
        expiry: datetime | None = row["known_expires_at"] and reg.utc(row["known_expires_at"])
        expiry_seen: datetime | None = row["known_at"] and reg.utc(row["known_at"])
        since = _days_since(as_of, expiry)
        observed = reg.utc(row["observed_at"])
        evidence = {
            "domain": domain,
            "domain_unicode": to_unicode(domain),
            "reason": _reason(row),
            "latest_observation": reg.observation_evidence(row),
            "expires_at": expiry,
            "expiry_observed_at": expiry_seen,
            "days_since_expiry": since,
            "observed_after_expiry": observed > expiry if expiry is not None else None,
            "as_of": reg.naive(as_of),
            **reg.filing_evidence(services),
        }
        return FindingDraft(
            type="expired_domain",
            subject=domain,
            severity="medium",
            evidence=evidence,
            responsible_uscc=reg.responsible(domain, services),
        )


def _reason(row: dict[str, Any]) -> str:
    if row["is_unregistered"]:
        return "not_registered"
    if row["is_expired"]:
        return "expired"
    return "registration_deleted"


def _days_since(as_of: datetime, expiry: datetime | None) -> int | None:
    """Whole days from the expiry to the as-of time; None when not expired (yet)."""
    if expiry is None:
        return None
    delta = reg.naive(as_of) - expiry
    return delta.days if delta.total_seconds() > 0 else None
