"""ip_filing_inaccurate (IP地址备案不准确): an IP filing range that contradicts other
filings, geolocation, ICP access data or what the addresses actually serve.

Four checks, one finding per range (``start-end``) listing every check that applies:

- ``overlap``: two end-use filings (分配且使用 / 自用) overlap and name different users;
- ``province_mismatch``: an IPv4 filing's declared province differs from where its
  first or last address geolocates (bundled ip2region data);
- ``access_outside_provider`` (MIIT check 1063): an active ICP service's access address
  is in no filing reported by, or allocated to, its access provider — subject the
  single address ``ip-ip``;
- ``reserved_but_serving``: a 预留 (reserved) filing whose range holds an address that
  serves a filed service (an ICP access address or a recent DNS answer).

Responsible: the filing's reporter (报备单位); for check 1063 the access provider. The
range joins and the checks themselves live in ``_ipfilings``. See
docs/detectors/ip_filing_inaccurate.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import Field

from longpan.compliance import _ipfilings as q
from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams

CHECKS = ("overlap", "province_mismatch", "access_outside_provider", "reserved_but_serving")
# The first of these that applies names the responsible organisation.
RESPONSIBILITY = ("access_outside_provider", "reserved_but_serving", "overlap", "province_mismatch")
MEDIUM = {"access_outside_provider", "reserved_but_serving"}
MAX_LISTED = 50  # serving addresses listed in the evidence of one reserved range


class Params(NoParams):
    dns_days: int = Field(30, ge=1, description="a DNS answer counts as serving for this long")
    confirm_access_by_dns: bool = Field(
        False,
        description="check 1063 flags a website's access address only when its own "
        "domains were seen resolving to it within dns_days",
    )


@dataclass
class _Found:
    """Everything gathered about one subject range."""

    subject: str
    filings: dict[tuple[Any, ...], q.Row] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    responsible: dict[str, str | None] = field(default_factory=dict)

    def add_filing(self, filing: q.Row) -> None:
        self.filings.setdefault(_filing_key(filing), filing)

    def checks(self) -> list[str]:
        return [c for c in CHECKS if c in self.evidence]


@dataclass(frozen=True)
class _Scope:
    """What to re-check: None for everything, else the subject ranges' key bounds."""

    bounds: list[tuple[str, str]] | None
    addresses: list[str] | None  # keys of single-address subjects (check 1063)

    @classmethod
    def of(cls, subjects: frozenset[str] | None) -> _Scope:
        if subjects is None:
            return cls(None, None)
        ranges = []
        for text in sorted(subjects):
            try:
                ranges.append(ids.parse_range(text))
            except IdentifierError:
                continue
        bounds = [(r.start_key, r.end_key) for r in ranges]
        return cls(bounds, [lo for lo, hi in bounds if lo == hi])

    def filed(
        self, survey: q.Survey, allocations: tuple[str, ...] | None, ipv4: bool = False
    ) -> list[tuple[str, str]] | None:
        """The subject ranges filed exactly so (with one of ``allocations``, in IPv4)."""
        if self.bounds is None:
            return None
        return [
            b
            for b in self.bounds
            if b in survey.exact
            and (allocations is None or survey.exact[b] & set(allocations))
            and (not ipv4 or b[0].startswith(q.IPV4_PREFIX))
        ]


class IpFilingInaccurate(Detector):
    id = "ip_filing_inaccurate"
    version = "1.0.0"
    capability = "G2"
    description = (
        "IP filings that overlap with different users, contradict geolocation, miss an "
        "access provider's ICP access address (check 1063) or are 预留 but serve sites"
    )
    inputs = ("ip_filings", "icp_services", "icp_subjects", "dns_observations")
    references = (q.REGIONS,)
    finding_types = ("ip_filing_inaccurate",)
    subject_kinds = ("ip_range",)
    cost = 4.0  # measured on the large province (docs/benchmarks.md)
    titles = (("ip_filing_inaccurate", "IP地址备案不准确", "Inaccurate IP filing"),)
    Params = Params

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        params = self.params
        assert isinstance(params, Params)
        scope = _Scope.of(ctx.subjects)
        if scope.bounds == []:
            return []
        since = ctx.as_of - timedelta(days=params.dns_days)
        survey = q.survey(ctx, scope.bounds)
        found: dict[str, _Found] = {}

        def at(subject: str) -> _Found:
            return found.setdefault(subject, _Found(subject))

        levels = survey.levels
        bounds = scope.filed(survey, q.END_USE)
        if bounds != []:
            _overlaps(at, q.overlaps(ctx, bounds, levels["end_use"]))
        bounds = scope.filed(survey, None, ipv4=True)
        if bounds != []:
            _provinces(at, q.province_mismatches(ctx, bounds))
        if scope.addresses != []:
            rows = q.outside_provider_space(
                ctx, scope.addresses, since, params.confirm_access_by_dns, levels["all"]
            )
            keys = sorted({r["key"] for r in rows})
            _outside(at, rows, q.address_holders(ctx, keys, levels["all"]))
        bounds = scope.filed(survey, (q.RESERVED,))
        if bounds != []:
            _reserved(at, q.reserved_serving(ctx, bounds, since, levels["reserved"]))
        wanted = ctx.subjects
        return [_draft(found[s]) for s in sorted(found) if wanted is None or s in wanted]


def _range(row: q.Row, prefix: str = "") -> str:
    return f"{row[f'{prefix}start_ip']}-{row[f'{prefix}end_ip']}"


def _ordered(rows: list[q.Row]) -> list[q.Row]:
    """Engine rows in a fixed order (the engines return them in any order)."""
    return sorted(rows, key=lambda r: tuple(str(v) if v is not None else "" for v in r.values()))


def _filing_key(filing: q.Row) -> tuple[str, ...]:
    return tuple(str(filing[c]) for c in q.FILING_COLUMNS)


def _overlaps(at: Callable[[str], _Found], pairs: list[q.Row]) -> None:
    done: set[tuple[str, frozenset[tuple[str, ...]]]] = set()
    for row in _ordered(pairs):
        for own, other in (("a_", "b_"), ("b_", "a_")):
            mine, theirs = q.filing_dict(row, own), q.filing_dict(row, other)
            item = at(_range(row, own))
            item.add_filing(mine)
            pair = (item.subject, frozenset((_filing_key(mine), _filing_key(theirs))))
            if pair not in done:
                done.add(pair)
                item.evidence.setdefault("overlap", []).append({"filing": mine, "other": theirs})


def _provinces(at: Callable[[str], _Found], rows: list[q.Row]) -> None:
    for row in sorted(_ordered(rows), key=lambda r: r["position"] != "start"):
        item = at(_range(row))
        item.add_filing(q.filing_dict(row))
        item.evidence.setdefault("province_mismatch", []).append(
            {
                "reporter_uscc": row["reporter_uscc"],
                "declared_province": row["province"],
                "position": row["position"],
                "address": row["start_ip"] if row["position"] == "start" else row["end_ip"],
                "geolocated": {
                    "province": row["geo_province"],
                    "city": row["geo_city"],
                    "isp": row["geo_isp"],
                },
            }
        )


def _outside(at: Callable[[str], _Found], rows: list[q.Row], holders: list[q.Row]) -> None:
    by_key: dict[str, list[q.Row]] = {}
    for h in _ordered(holders):
        by_key.setdefault(h["key"], []).append(q.filing_dict(h))
    for row in _ordered(rows):
        item = at(f"{row['ip']}-{row['ip']}")
        ev = item.evidence.setdefault(
            "access_outside_provider",
            {"address": row["ip"], "services": [], "filed_by": by_key.get(row["key"], [])},
        )
        seen = {"fqdn": row["seen_fqdn"], "last_seen": row["seen_last"]}
        ev["services"].append(
            {
                "service_licence": row["service_licence"],
                "service_type": row["service_type"],
                "access_provider_uscc": row["ap"],
                "registered_domains": list(row["registered_domains"] or []),
                "dns_answer": seen if row["seen_fqdn"] else None,
            }
        )
        counts = Counter(s["access_provider_uscc"] for s in ev["services"])
        item.responsible["access_outside_provider"] = min(counts, key=lambda u: (-counts[u], u))


def _reserved(at: Callable[[str], _Found], rows: list[q.Row]) -> None:
    for row in _ordered(rows):
        item = at(_range(row))
        item.add_filing(q.filing_dict(row))
        ev = item.evidence.setdefault("reserved_but_serving", {"serving": [], "serving_count": 0})
        ev["serving_count"] += 1
        if len(ev["serving"]) < MAX_LISTED:
            what = "service_licence" if row["source"] == "icp_service" else "fqdn"
            entry = {"address": row["ip"], "source": row["source"], what: row["ref"]}
            if row["last_seen"] is not None:
                entry["last_seen"] = row["last_seen"]
            ev["serving"].append(entry)


def _reporter(item: _Found) -> str | None:
    """The reporter of the subject's own filing; the latest filed when there are several."""
    own = [f for f in item.filings.values() if f"{f['start_ip']}-{f['end_ip']}" == item.subject]
    if not own:
        return None
    latest = max(own, key=lambda f: (f["filed_at"], f["reporter_uscc"]))
    return str(latest["reporter_uscc"])


def _draft(item: _Found) -> FindingDraft:
    checks = item.checks()
    responsible = None
    for check in [c for c in RESPONSIBILITY if c in checks]:
        responsible = item.responsible.get(check) or _reporter(item)
        if responsible:
            break
    filings = sorted(item.filings.values(), key=lambda f: (str(f["filed_at"]), f["reporter_uscc"]))
    evidence = {"range": item.subject, "checks": checks, "filings": filings}
    evidence.update({c: item.evidence[c] for c in checks})
    return FindingDraft(
        type="ip_filing_inaccurate",
        subject=item.subject,
        severity="medium" if MEDIUM & set(checks) else "low",
        evidence=evidence,
        responsible_uscc=responsible,
    )
