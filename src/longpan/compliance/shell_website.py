"""shell_website (空壳网站): an active website filing that lists no access address, or
whose domain was observed once but has neither resolved nor served content for
``days`` days.

Responsible: the filing's access provider (接入商), who must verify the access and
cancel it. See docs/detectors/shell_website.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from longpan.compliance import _sites as sites
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams

NO_ACCESS = "no_access_address"
METRICS = ("dns_last_seen", "last_crawl", "last_live_crawl")
SILENT = "not_seen"


class ShellWebsiteParams(NoParams):
    days: int = Field(
        30, ge=1, description="days without a DNS answer or a live crawl that make a shell"
    )


class ShellWebsite(Detector):
    id = "shell_website"
    version = "1.0.0"
    capability = "G2"
    description = (
        "Active website filings with no access address, or whose domains have neither "
        "resolved nor served content for N days"
    )
    inputs = ("icp_services", "icp_subjects", "dns_observations", "web_crawls")
    finding_types = ("shell_website",)
    subject_kinds = ("domain",)
    cost = 2.0  # measured on the large province (docs/benchmarks.md)
    titles = (("shell_website", "空壳网站", "Shell website"),)
    Params = ShellWebsiteParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        params = self.params
        assert isinstance(params, ShellWebsiteParams)
        rows = ctx.execute(self._shells(ctx, params.days))
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            grouped[row["registered_domain"]].append(row)
        for domain in sorted(grouped):
            yield self._draft(domain, grouped[domain], params.days)

    def _shells(self, ctx: DetectionContext, days: int) -> ir.Table:
        filed = sites.filed_websites(ctx)
        seen = self._attach(filed, self._observed(ctx, filed))
        recent = sites.since(ctx, days)
        no_access = seen.access_ips.isnull() | (seen.access_ips.length() == 0)
        observed = seen.dns_last_seen.notnull() | seen.last_crawl.notnull()
        alive = (seen.dns_last_seen >= recent).fill_null(False) | (
            seen.last_live_crawl >= recent
        ).fill_null(False)
        reason = ibis.ifelse(no_access, NO_ACCESS, SILENT)
        shells = seen.filter(no_access | (observed & ~alive)).mutate(reason=reason)
        return shells.order_by(["registered_domain", "service_licence", "domain"])

    def _observed(self, ctx: DetectionContext, filed: ir.Table) -> ir.Table:
        """(service_licence, domain, dns_last_seen, last_crawl, last_live_crawl) over the
        filed domain and the names under it: the latest DNS answer of any type, the
        latest crawl and the latest live crawl.

        A filed registered domain covers every name under it, so its figures are
        aggregated per registered domain, without reading the names (passive DNS's
        widest column); only a filed subdomain (``shop.example.com``) needs them, and
        only under its own registered domain."""
        whole = filed.filter(filed.domain == filed.registered_domain)
        per_domain = self._seen(ctx, sites.filed_registered_domains(ctx), by_name=False)
        joined = whole.join(per_domain, "registered_domain")
        parts = [joined.select("service_licence", "domain", *METRICS)]
        sub = filed.filter(filed.domain != filed.registered_domain)
        sub = sub.select("service_licence", "domain", "registered_domain")
        under = sub.select("registered_domain").distinct()
        cover = sites.covering(self._seen(ctx, under, by_name=True), sub)
        parts.append(
            cover.select(
                service_licence=cover.filed_service_licence,
                domain=cover.filed_domain,
                **{m: cover[m] for m in METRICS},
            )
        )
        every = ibis.union(*parts)
        return every.group_by("service_licence", "domain").aggregate(
            **{m: every[m].max() for m in METRICS}
        )

    @staticmethod
    def _seen(ctx: DetectionContext, mine: ir.Table, *, by_name: bool) -> ir.Table:
        """Per registered domain of ``mine`` (and per name, ``by_name``): the latest DNS
        answer (of any type) and crawl, and the latest live crawl, up to as-of."""
        keys = ["registered_domain", "fqdn"] if by_name else ["registered_domain"]
        dns = sites.only_subjects(ctx.table("dns_observations"), "registered_domain", ctx)
        dns = dns.filter(dns.first_seen <= sites.now(ctx)).semi_join(mine, "registered_domain")
        c = sites.only_subjects(ctx.table("web_crawls"), "registered_domain", ctx)
        c = c.filter(c.registered_domain.notnull() & (c.fetched_at <= sites.now(ctx)))
        c = c.semi_join(mine, "registered_domain")
        never = ibis.null().cast("timestamp")
        names = ibis.union(
            dns.select(
                *keys,
                dns_last_seen=dns.last_seen.cast("timestamp"),
                last_crawl=never,
                last_live_crawl=never,
            ),
            c.select(
                *keys,
                dns_last_seen=never,
                last_crawl=c.fetched_at.cast("timestamp"),
                last_live_crawl=ibis.ifelse(sites.is_live(c), c.fetched_at, never).cast(
                    "timestamp"
                ),
            ),
        )
        return names.group_by(keys).aggregate(**{m: names[m].max() for m in METRICS})

    @staticmethod
    def _attach(left: ir.Table, right: ir.Table) -> ir.Table:
        """``left`` with the metrics of ``right``, matched by (service_licence, domain)."""
        r = right.rename(_licence="service_licence", _domain="domain")
        joined = left.left_join(r, [left.service_licence == r._licence, left.domain == r._domain])
        return joined.drop("_licence", "_domain")

    def _draft(self, domain: str, rows: list[dict[str, Any]], days: int) -> FindingDraft:
        filings = [
            {
                **sites.filing_evidence(r),
                "approved_at": r["approved_at"],
                "reason": r["reason"],
                "dns_last_seen": r["dns_last_seen"],
                "last_crawl": r["last_crawl"],
                "last_live_crawl": r["last_live_crawl"],
            }
            for r in rows
        ]
        evidence = {
            "registered_domain": domain,
            "reasons": sorted({r["reason"] for r in rows}),
            "days": days,
            "filings": sites.capped(filings),
        }
        return FindingDraft(
            type="shell_website",
            subject=domain,
            severity="medium",
            evidence=evidence,
            responsible_uscc=sites.majority(r["access_provider_uscc"] for r in rows),
        )
