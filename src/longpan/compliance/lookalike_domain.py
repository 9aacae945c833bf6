"""lookalike_domain (仿冒域名): a domain registered in the last N days that imitates a
protected domain — a key unit's filed domain or a well-known brand's.

The protected domains' permutations (dnstwist's typo and homoglyph fuzzers, Cyrillic
look-alikes, TLD swaps, combo-squats with keywords, the owner's name in pinyin) are built
in Python once per set of protected domains, then joined with the new registrations: a
lookup, never a comparison of every pair of domains. Responsible: the imitated key unit,
which the regulator warns (brands: left to the runner's general attribution). See
docs/detectors/lookalike_domain.md.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, field_validator

from longpan.compliance import _lookalike_permutations as perm
from longpan.compliance._responsible import domain_owners
from longpan.core.errors import IdentifierError
from longpan.core.identifiers import canonical_domain, registered_domain, to_unicode
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams

# Well-known Chinese brands and banks (their real registered domains) and the Chinese
# names whose pinyin a squatter may register.
BRANDS: dict[str, str] = {
    "icbc.com.cn": "中国工商银行",
    "ccb.com": "中国建设银行",
    "boc.cn": "中国银行",
    "abchina.com": "中国农业银行",
    "bankcomm.com": "交通银行",
    "cmbchina.com": "招商银行",
    "psbc.com": "中国邮政储蓄银行",
    "alipay.com": "支付宝",
    "taobao.com": "淘宝",
    "tmall.com": "天猫",
    "jd.com": "京东",
    "qq.com": "腾讯",
    "baidu.com": "百度",
    "10086.cn": "中国移动",
    "chinamobile.com": "中国移动",
    "189.cn": "中国电信",
    "chinaunicom.com.cn": "中国联通",
    "12306.cn": "中国铁路",
    "chinatax.gov.cn": "国家税务总局",
}
KEYWORDS = (
    "login",
    "secure",
    "vip",
    "app",
    "kefu",
    "service",
    "pay",
    "online",
    "web",
    "wap",
    "help",
    "support",
    "verify",
    "account",
    "mobile",
    "denglu",
    "zhifu",
)
TLDS = (
    "com",
    "cn",
    "com.cn",
    "net",
    "net.cn",
    "org",
    "org.cn",
    "top",
    "xyz",
    "cc",
    "vip",
    "shop",
    "site",
    "online",
    "info",
    "中国",
)


def _registered(value: str) -> str:
    try:
        domain = canonical_domain(value)
        if registered_domain(domain) != domain:
            raise ValueError(f"{value!r} is not a registered domain (eTLD+1)")
    except IdentifierError as exc:
        raise ValueError(str(exc)) from None
    return domain


class LookalikeParams(NoParams):
    days: int = Field(default=30, ge=1, description="registered at most this many days ago")
    brands: tuple[str, ...] = Field(default=tuple(BRANDS), description="protected brands")
    brand_names: dict[str, str] = Field(
        default_factory=lambda: dict(BRANDS), description="brand domain → Chinese name"
    )
    keywords: tuple[str, ...] = Field(default=KEYWORDS, description="combo-squat words")
    tlds: tuple[str, ...] = Field(default=TLDS, description="suffixes for TLD swaps, pinyin")
    high_similarity: float = Field(default=0.8, ge=0, le=1, description="severity high from")

    @field_validator("brands")
    @classmethod
    def _brands(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_registered(v) for v in value))

    @field_validator("brand_names")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        return {_registered(k): v.strip() for k, v in value.items() if v.strip()}

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        words = tuple(dict.fromkeys(v.strip().lower() for v in value))
        bad = [w for w in words if not perm.is_ascii_label(w)]
        if bad:
            raise ValueError(f"keywords must be letters, digits and inner hyphens: {bad}")
        return words

    @field_validator("tlds")
    @classmethod
    def _tlds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        found = []
        for tld in value:
            name = _registered(f"example.{tld.strip().strip('.')}")
            found.append(name.removeprefix("example."))
        return tuple(dict.fromkeys(found))


class LookalikeDomain(Detector):
    id = "lookalike_domain"
    version = "1.0.0"
    capability = "G2"
    description = (
        "Domains registered in the last N days imitating a key unit's filed domain or a brand"
    )
    inputs = (
        "organisations",
        "icp_subjects",
        "icp_services",
        "domain_registrations",
        "registrars",
        "dns_observations",  # the general attribution of brand look-alikes
        "ip_filings",
    )
    finding_types = ("lookalike_domain",)
    subject_kinds = ("domain",)
    attributes = True  # brand look-alikes get the general domain rule here, in bulk
    titles = (("lookalike_domain", "仿冒域名", "Look-alike domain"),)
    Params = LookalikeParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        params = self.params
        assert isinstance(params, LookalikeParams)
        protected = self._protected(ctx, params)
        chosen = (
            protected if ctx.subjects is None else perm.relevant(sorted(ctx.subjects), protected)
        )
        if not chosen:
            return []
        settings = perm.Settings(params.keywords, params.tlds)
        exclude = frozenset(p.domain for p in protected)
        key = hashlib.sha256(repr((chosen, settings, sorted(exclude))).encode()).hexdigest()
        table = ctx.engine.memtable(
            f"lookalike_domain:{key}", lambda: perm.permutation_table(chosen, settings, exclude)
        )
        rows = ctx.execute(self._hits(ctx, table, params.days))
        owners = {p.domain: p for p in protected}
        by_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_domain[row["domain"]].append(row)
        drafts = [
            self._draft(ctx, params, domain, matches, owners)
            for domain, matches in sorted(by_domain.items())
        ]
        unowned = [d.subject for d in drafts if d.responsible_uscc is None]
        found = domain_owners(ctx, unowned)
        return [
            replace(d, responsible_uscc=found.get(d.subject, d.responsible_uscc)) for d in drafts
        ]

    def _protected(
        self, ctx: DetectionContext, params: LookalikeParams
    ) -> tuple[perm.Protected, ...]:
        """Key units' filed registered domains (with the unit's name), then the brands."""
        orgs = ctx.table("organisations")
        units = orgs.filter(orgs.roles.contains("key_unit")).select(unit_uscc=orgs.uscc)
        subjects = ctx.table("icp_subjects")
        subjects = subjects.filter(subjects.status == "active")
        services = ctx.table("icp_services")
        services = services.filter(services.status == "active")
        joined = services.join(subjects, services.subject_licence == subjects.subject_licence).join(
            units, subjects.uscc == units.unit_uscc
        )
        filed = joined.select(
            uscc=joined.unit_uscc,
            unit_name=joined.unit_name,
            domain=joined.registered_domains.unnest(),
        )
        filed = filed.filter(filed.domain.notnull()).distinct().order_by(["domain", "uscc"])
        found: dict[str, perm.Protected] = {}
        for row in ctx.execute(filed):
            found.setdefault(
                row["domain"],
                perm.Protected(row["domain"], row["uscc"], row["unit_name"], "key_unit"),
            )
        for brand in params.brands:
            found.setdefault(brand, perm.Protected(brand, None, params.brand_names.get(brand)))
        return tuple(found.values())

    def _hits(self, ctx: DetectionContext, table: ir.Table, days: int) -> ir.Table:
        """New registrations (latest observation per domain) joined with the permutations."""
        as_of = ctx.as_of.replace(tzinfo=None)
        regs = ctx.table("domain_registrations")
        seen = regs.filter(regs.observed_at <= ibis.literal(as_of))
        if ctx.subjects is not None:
            seen = seen.filter(seen.domain.isin(sorted(ctx.subjects)))
        latest = seen.group_by("domain").aggregate(last_observed=seen.observed_at.max())
        current = seen.join(
            latest,
            [seen.domain == latest.domain, seen.observed_at == latest.last_observed],
        ).select(*seen.columns)
        new = current.filter(
            current.created_at.notnull()
            & (current.created_at > ibis.literal(as_of - timedelta(days=days)))
            & (current.created_at <= ibis.literal(as_of))
            & (current.status.isnull() | (current.status != "unregistered"))
        )
        hits = new.join(table, new.domain == table.candidate)
        registrars = ctx.table("registrars")
        hits = hits.left_join(registrars, hits.registrar_iana_id == registrars.iana_id)
        return hits.select(
            domain=hits.domain,
            imitates=hits.imitates,
            method=hits.method,
            owner_uscc=hits.owner_uscc,
            created_at=hits.created_at,
            observed_at=hits.observed_at,
            expires_at=hits.expires_at,
            registrant=hits.registrant,
            status=hits.status,
            registrar_iana_id=hits.registrar_iana_id,
            registrar_name=hits.registrar_name,
            registrar_listed_name=hits.name,
            registrar_country=hits.country,
        ).order_by(["domain", "imitates"])

    def _draft(
        self,
        ctx: DetectionContext,
        params: LookalikeParams,
        domain: str,
        rows: list[dict[str, Any]],
        owners: dict[str, perm.Protected],
    ) -> FindingDraft:
        ranked = sorted(
            ((perm.similarity(domain, owners[r["imitates"]], r["method"]), r) for r in rows),
            key=lambda m: (-m[0], m[1]["owner_uscc"] is None, m[1]["imitates"], m[1]["method"]),
        )
        score, best = ranked[0]
        owner = owners[best["imitates"]]
        created: datetime = best["created_at"]
        evidence = {
            "domain": domain,
            "domain_unicode": to_unicode(domain),
            "imitates": owner.domain,
            "imitates_unicode": to_unicode(owner.domain),
            "method": best["method"],
            "similarity": score,
            "protected_as": owner.kind,
            "owner": {"uscc": owner.owner_uscc, "name": owner.owner_name},
            "registered_at": created,
            "days_before_as_of": (ctx.as_of.replace(tzinfo=None) - created).days,
            "window_days": params.days,
            "registration": {
                "observed_at": best["observed_at"],
                "expires_at": best["expires_at"],
                "registrant": best["registrant"],
                "status": best["status"],
            },
            "registrar": {
                "name": best["registrar_name"] or best["registrar_listed_name"],
                "iana_id": best["registrar_iana_id"],
                "country": best["registrar_country"],
            },
            "matches": [
                {
                    "imitates": r["imitates"],
                    "method": r["method"],
                    "similarity": s,
                    "owner_uscc": r["owner_uscc"],
                }
                for s, r in ranked
            ],
        }
        return FindingDraft(
            type="lookalike_domain",
            subject=domain,
            severity="high" if score >= params.high_similarity else "medium",
            evidence=evidence,
            responsible_uscc=owner.owner_uscc,
        )
