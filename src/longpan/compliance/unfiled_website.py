"""unfiled_website (未备案网站): a registered domain whose site serves live content from
IP space filed in the province while no active website filing covers the crawled name.

Regulators send 未备案网站 lists to the access providers, so the responsible
organisation is the reporter of the narrowest IP filing covering the serving address.
See docs/detectors/unfiled_website.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import ibis.expr.types as ir
from pydantic import Field

from longpan.compliance import _sites as sites
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams


class UnfiledWebsiteParams(NoParams):
    live_days: int = Field(30, ge=1, description="a live crawl must be this recent (days)")
    dns_days: int = Field(30, ge=1, description="a DNS answer must be this recent (days)")


class UnfiledWebsite(Detector):
    id = "unfiled_website"
    version = "1.0.0"
    capability = "G2"
    description = (
        "Registered domains serving live content from the province's filed IP space "
        "with no active website filing covering them"
    )
    inputs = ("web_crawls", "dns_observations", "ip_filings", "icp_services", "icp_subjects")
    finding_types = ("unfiled_website",)
    subject_kinds = ("domain",)
    titles = (("unfiled_website", "未备案网站", "Unfiled website"),)
    Params = UnfiledWebsiteParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        params = self.params
        assert isinstance(params, UnfiledWebsiteParams)
        uncovered = self._uncovered(ctx, params.live_days)
        crawls: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in ctx.execute(uncovered.order_by(["registered_domain", "fqdn", "url"])):
            crawls[row["registered_domain"]].append(row)
        if not crawls:
            return
        addresses = sites.serving_filings(ctx, sites.names_table(crawls), params.dns_days)
        for domain in sorted(addresses):
            yield self._draft(domain, crawls[domain], addresses[domain])

    def _uncovered(self, ctx: DetectionContext, live_days: int) -> ir.Table:
        """Live crawls of names no active website filing covers."""
        return sites.not_covered(sites.live_crawls(ctx, live_days), sites.filed_websites(ctx))

    def _draft(
        self, domain: str, crawls: list[dict[str, Any]], serving: list[dict[str, Any]]
    ) -> FindingDraft:
        best = serving[0]  # the most recently seen address (then the smallest)
        evidence = {
            "registered_domain": domain,
            "live_crawls": len(crawls),
            "crawls": sites.capped(
                [{**sites.crawl_evidence(c), "footer_icp": c["footer_icp"]} for c in crawls]
            ),
            "serving": sites.capped([sites.serving_evidence(s) for s in serving]),
            "covering_filing": sites.serving_evidence(best)["ip_filing"],
            "responsible_reason": (
                f"reporter of the IP filing {best['start_ip']}-{best['end_ip']} covering "
                f"{best['address']}, which {best['fqdn']} resolved to"
            ),
        }
        return FindingDraft(
            type="unfiled_website",
            subject=domain,
            severity="high",
            evidence=evidence,
            responsible_uscc=best["reporter_uscc"],
        )
