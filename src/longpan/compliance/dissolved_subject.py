"""dissolved_subject (主体失效): an active ICP subject filing whose holder's business
registration is 注销 (deregistered) or 吊销 (licence revoked).

The filing outlives the unit that holds it, so whoever uses the sites now is not the
filed subject. Responsible: the access provider (接入商) of most of the subject's active
services, who must verify and cancel access. See docs/detectors/dissolved_subject.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import ibis.expr.types as ir

from longpan.detect.base import DetectionContext, Detector, FindingDraft
from longpan.resources.attribution import majority_access_provider

DISSOLVED_STATUSES = ("注销", "吊销")


class DissolvedSubject(Detector):
    id = "dissolved_subject"
    version = "1.0.0"
    capability = "G2"
    description = "Active ICP subject filings whose holder is 注销 or 吊销 in the business registry"
    inputs = ("icp_subjects", "entities", "icp_services")
    finding_types = ("dissolved_subject",)
    subject_kinds = ("icp_subject",)
    titles = (("dissolved_subject", "主体失效", "Filing subject dissolved"),)

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        subjects = ctx.execute(self._dissolved(ctx).order_by("subject_licence"))
        services = self._services_by_subject(ctx, [s["subject_licence"] for s in subjects])
        for row in subjects:
            yield self._draft(row, services.get(row["subject_licence"], []))

    def _dissolved(self, ctx: DetectionContext) -> ir.Table:
        filings = ctx.table("icp_subjects")
        registry = ctx.table("entities")
        active = filings.filter((filings.status == "active") & filings.uscc.notnull())
        if ctx.subjects is not None:
            active = active.filter(active.subject_licence.isin(sorted(ctx.subjects)))
        gone = registry.filter(registry.status.isin(DISSOLVED_STATUSES))
        joined = active.join(gone, active.uscc == gone.uscc)
        return joined.select(
            subject_licence=active.subject_licence,
            uscc=active.uscc,
            unit_name=active.unit_name,
            nature=active.nature,
            approved_at=active.approved_at,
            registry_name=gone.name,
            registry_status=gone.status,
            registry_status_date=gone.status_date,
        )

    def _services_by_subject(
        self, ctx: DetectionContext, licences: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        if not licences:
            return {}
        svc = ctx.table("icp_services")
        chosen = svc.filter(svc.subject_licence.isin(licences) & (svc.status == "active"))
        rows = ctx.execute(
            chosen.select(
                "subject_licence", "service_licence", "service_type", "access_provider_uscc"
            ).order_by("service_licence")
        )
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            grouped[row["subject_licence"]].append(row)
        return grouped

    def _draft(self, row: dict[str, Any], services: list[dict[str, Any]]) -> FindingDraft:
        responsible = majority_access_provider(services, "access provider of the subject")
        evidence = {
            "subject_licence": row["subject_licence"],
            "unit_name": row["unit_name"],
            "uscc": row["uscc"],
            "nature": row["nature"],
            "filing_approved_at": row["approved_at"],
            "registry": {
                "name": row["registry_name"],
                "status": row["registry_status"],
                "status_date": row["registry_status_date"],
            },
            "active_services": [s["service_licence"] for s in services],
            "access_providers": sorted(
                {s["access_provider_uscc"] for s in services if s["access_provider_uscc"]}
            ),
        }
        return FindingDraft(
            type="dissolved_subject",
            subject=row["subject_licence"],
            severity="medium",
            evidence=evidence,
            responsible_uscc=responsible.uscc if responsible else None,
        )
