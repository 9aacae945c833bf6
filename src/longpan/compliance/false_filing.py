"""false_filing (虚假备案): a registered domain whose site shows an ICP number that is not
the filing of the site (or exists nowhere), or whose registrant is neither the filing
subject nor a registrant the filing names (工信部信管〔2017〕264号).

Responsible: the access provider of the filings covering the domain; for a domain no
active filing covers, the reporter of the narrowest IP filing covering an address it is
served from. See docs/detectors/false_filing.md.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from longpan.compliance import _sites as sites
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams

AUTHORISED = "authorised_registrants"  # optional extra column: `;`-separated names
PRIVACY_MARKERS = ("redacted", "privacy", "隐私", "proxy", "withheld", "not disclosed")
LICENCE_MARK = "ICP证"  # ICP licences (经营许可证) are not filing numbers: not judged
Rows = list[dict[str, Any]]


class FalseFilingParams(NoParams):
    live_days: int = Field(30, ge=1, description="a live crawl must be this recent (days)")
    dns_days: int = Field(
        30, ge=1, description="for an unfiled domain, DNS answers naming the responsible (days)"
    )
    privacy_markers: tuple[str, ...] = Field(
        PRIVACY_MARKERS,
        description="a registrant containing one of these (any case) is privacy-redacted",
    )


def name_key(name: str) -> str:
    """A unit name compared loosely: NFKC (full-width brackets, letters, digits and
    spaces become half-width), no whitespace at all, case folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _held_provinces(ctx: DetectionContext) -> set[str]:
    """The provinces (first character of the licence) whose subject filings the lake
    holds."""
    subjects = ctx.table("icp_subjects")
    first = subjects.select(province=subjects.subject_licence.substr(0, 1)).distinct()
    return {r["province"] for r in ctx.execute(first)}


class FalseFiling(Detector):
    id = "false_filing"
    version = "1.0.0"
    capability = "G2"
    description = (
        "Sites showing an ICP number that is not their filing, and filed domains whose "
        "registrant is not the filing subject"
    )
    inputs = (
        "web_crawls",
        "icp_services",
        "icp_subjects",
        "domain_registrations",
        "dns_observations",
        "ip_filings",
    )
    finding_types = ("false_filing",)
    subject_kinds = ("domain",)
    cost = 2.0  # measured on the large province (docs/benchmarks.md)
    titles = (("false_filing", "虚假备案", "False filing"),)
    Params = FalseFilingParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        params = self.params
        assert isinstance(params, FalseFilingParams)
        filed = sites.pinned(ctx, sites.filed_websites(ctx))  # a re-check reads it once
        footers = self._group(ctx.execute(self._false_footers(ctx, filed, params.live_days)))
        candidates = ctx.execute(self._registrant_differs(ctx, filed))
        registrants = self._group(
            [r for r in candidates if not self._named(r, params.privacy_markers)]
        )
        if not footers and not registrants:
            return
        wanted = ibis.memtable(
            {"registered_domain": sorted(set(footers) | set(registrants))},
            schema={"registered_domain": "string"},
        )
        filings = self._group(
            ctx.execute(
                filed.semi_join(wanted, "registered_domain").order_by(
                    ["registered_domain", "service_licence", "domain"]
                )
            )
        )
        footers = self._verifiable(ctx, footers, filings)
        flagged = sorted(set(footers) | set(registrants))
        serving = self._serving(ctx, footers, filings, params.dns_days)
        for domain in flagged:
            yield self._draft(
                domain,
                footers.get(domain, []),
                registrants.get(domain, []),
                filings.get(domain, []),
                serving.get(domain, []),
            )

    @staticmethod
    def _group(rows: Rows) -> dict[str, Rows]:
        grouped: dict[str, Rows] = defaultdict(list)
        for row in rows:
            grouped[row["registered_domain"]].append(row)
        return grouped

    # -- (a) the footer shows a number that is not the site's filing ------------------
    def _false_footers(self, ctx: DetectionContext, filed: ir.Table, days: int) -> ir.Table:
        live = sites.live_crawls(ctx, days)
        shown = live.filter(live.footer_icp.notnull() & ~live.footer_icp.contains(LICENCE_MARK))
        shown = shown.mutate(footer_subject=shown.footer_icp.re_replace(r"-[0-9]+$", ""))
        false = sites.not_covered(shown, filed, same_subject="footer_subject")
        holders = ctx.table("icp_subjects").select(
            holder_licence="subject_licence", holder_name="unit_name", holder_status="status"
        )
        named = false.left_join(holders, false.footer_subject == holders.holder_licence)
        return named.drop("holder_licence").order_by(["registered_domain", "fqdn", "url"])

    @staticmethod
    def _verifiable(
        ctx: DetectionContext, footers: dict[str, Rows], filings: dict[str, Rows]
    ) -> dict[str, Rows]:
        """The false footers that can be judged: on a name some active filing covers
        (any other number is false), or showing a number of a province whose filings
        the lake holds (a site filed elsewhere shows its own province's number, which
        this lake cannot check)."""
        held: set[str] | None = None  # read only when a footer needs it
        kept: dict[str, Rows] = {}
        for domain, rows in footers.items():
            filed = [f["domain"] for f in filings.get(domain, [])]
            judged = []
            for row in rows:
                if not any(sites.name_covered(row["fqdn"], d) for d in filed):
                    held = _held_provinces(ctx) if held is None else held
                    if row["footer_icp"][:1] not in held:
                        continue
                judged.append(row)
            if judged:
                kept[domain] = judged
        return kept

    # -- (b) the registrant is neither the filing subject nor named in the filing -----
    def _registrant_differs(self, ctx: DetectionContext, filed: ir.Table) -> ir.Table:
        """Each active website filing with the latest WHOIS registrant of its registered
        domain, where the two names differ literally, with the names the filing
        authorises (``authorised`` and ``subject_authorised``, `;`-separated, when the
        optional column is there). The few rows come back to Python, which compares the
        names loosely (see ``name_key``)."""
        whois = self._latest_whois(ctx)
        pairs = filed.select(
            "service_licence", "subject_licence", "unit_name", "registered_domain"
        ).distinct()
        joined = pairs.join(whois, pairs.registered_domain == whois.domain)
        differ = joined.filter(joined.registrant != joined.unit_name).drop("domain")
        differ = self._with_authorised(ctx, differ)
        return differ.order_by(["registered_domain", "service_licence"])

    def _latest_whois(self, ctx: DetectionContext) -> ir.Table:
        """The latest WHOIS observation of each domain, when it names a registrant."""
        w = sites.only_subjects(ctx.table("domain_registrations"), "domain", ctx)
        w = w.filter(w.observed_at <= sites.now(ctx))
        latest = sites.latest(w, "domain", "observed_at")
        latest = latest.filter(latest.registrant.notnull())
        return latest.select(
            "domain",
            "registrant",
            whois_observed_at="observed_at",
            registrar_name="registrar_name",
        )

    @staticmethod
    def _with_authorised(ctx: DetectionContext, rows: ir.Table) -> ir.Table:
        """``rows`` with the optional authorised_registrants of the service filing
        (``authorised``) and of the subject filing (``subject_authorised``)."""
        none = ibis.null().cast("string")
        for dataset, key, column in (
            ("icp_services", "service_licence", "authorised"),
            ("icp_subjects", "subject_licence", "subject_authorised"),
        ):
            table = ctx.table(dataset)
            if AUTHORISED not in table.columns:
                rows = rows.mutate(**{column: none})
                continue
            named = table.select(_key=table[key], **{column: table[AUTHORISED].cast("string")})
            rows = rows.left_join(named, rows[key] == named._key).drop("_key")
        return rows

    @staticmethod
    def _named(row: dict[str, Any], markers: tuple[str, ...]) -> bool:
        """The registrant is fine: redacted for privacy, empty, the subject or a unit the
        filing names, all compared by ``name_key``."""
        registrant = row["registrant"]
        lowered = registrant.casefold()
        if any(m.casefold() in lowered for m in markers):
            return True
        key = name_key(registrant)
        named = [row["unit_name"]]
        for listed in (row["authorised"], row["subject_authorised"]):
            named += (listed or "").split(";")
        return not key or key in {name_key(n) for n in named}

    # -- responsible for domains no active filing covers ------------------------------
    def _serving(
        self, ctx: DetectionContext, footers: dict[str, Rows], filings: dict[str, Rows], days: int
    ) -> dict[str, Rows]:
        unfiled = sorted(d for d in footers if not filings.get(d))
        if not unfiled:
            return {}
        names = sites.names_table({d: footers[d] for d in unfiled})
        return sites.serving_filings(ctx, names, days)

    # -- the finding -------------------------------------------------------------------
    def _draft(
        self, domain: str, footers: Rows, registrants: Rows, filings: Rows, serving: Rows
    ) -> FindingDraft:
        reasons = []
        if any(r["holder_name"] is None for r in footers):
            reasons.append("footer_number_unknown")
        if any(r["holder_name"] is not None for r in footers):
            reasons.append("footer_not_its_filing")
        if registrants:
            reasons.append("registrant_not_subject")
        evidence: dict[str, Any] = {
            "registered_domain": domain,
            "reasons": reasons,
            "footers": sites.capped([self._footer(r) for r in footers]),
            "registrant": self._registrant(registrants),
            "filings": sites.capped([sites.filing_evidence(f) for f in filings]),
        }
        responsible = self._access_provider(footers, registrants, filings)
        if responsible:
            evidence["responsible_reason"] = "access provider of the filing covering the domain"
        elif serving:
            best = serving[0]
            responsible = best["reporter_uscc"]
            evidence["serving"] = sites.capped([sites.serving_evidence(s) for s in serving])
            evidence["responsible_reason"] = (
                f"not filed; reporter of the IP filing {best['start_ip']}-{best['end_ip']} "
                f"covering {best['address']}, which {best['fqdn']} resolved to"
            )
        return FindingDraft(
            type="false_filing",
            subject=domain,
            severity="high",
            evidence=evidence,
            responsible_uscc=responsible,
        )

    @staticmethod
    def _access_provider(footers: Rows, registrants: Rows, filings: Rows) -> str | None:
        """The access provider of the filings at fault: those whose registrant differs
        and those covering a name with a false footer; else of any filing of the domain."""
        at_fault = {r["service_licence"] for r in registrants}
        for footer in footers:
            name = footer["fqdn"]
            at_fault |= {
                f["service_licence"] for f in filings if sites.name_covered(name, f["domain"])
            }
        chosen = [f for f in filings if f["service_licence"] in at_fault] or filings
        unique = {f["service_licence"]: f["access_provider_uscc"] for f in chosen}
        return sites.majority(unique.values())

    @staticmethod
    def _footer(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **sites.crawl_evidence(row),
            "footer_icp": row["footer_icp"],
            "footer_text": row["footer_icp_raw"],
            "footer_subject_licence": row["footer_subject"],
            "footer_holder": (
                {"unit_name": row["holder_name"], "status": row["holder_status"]}
                if row["holder_name"] is not None
                else None
            ),
        }

    @staticmethod
    def _registrant(rows: Rows) -> dict[str, Any] | None:
        if not rows:
            return None
        first = rows[0]
        return {
            "registrant": first["registrant"],
            "observed_at": first["whois_observed_at"],
            "registrar_name": first["registrar_name"],
            "filing_subjects": [
                {
                    "service_licence": r["service_licence"],
                    "subject_licence": r["subject_licence"],
                    "unit_name": r["unit_name"],
                }
                for r in rows
            ],
        }
