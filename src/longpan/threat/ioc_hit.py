"""ioc_hit (失陷指标命中) and threat_warning (APT威胁预警): threat indicators seen in the
units' DNS, flow and HTTP logs.

One ``ioc_hit`` per (unit, indicator value), subject ``<org_uscc>:<value>``, addressed
to that unit; and one ``threat_warning`` per indicator value hit anywhere, subject
``indicator:<value>``, listing every unit hit (一点发现、全网联动) for the regulator. The
matching rules are in ``threat/matching.py``; see docs/detectors/ioc_hit.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import ibis
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from longpan.detect.base import DetectionContext, Detector, FindingDraft
from longpan.threat import matching as m

LOGS = ("dns_logs", "flow_logs", "http_logs")
WARNING_PREFIX = "indicator:"
SAMPLES = 5


class IocHitParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    window_days: int = Field(30, ge=1, le=3660, description="days of logs searched")


def ioc_subject(org_uscc: str, value: str) -> str:
    return f"{org_uscc}:{value}"


def warning_subject(value: str) -> str:
    return f"{WARNING_PREFIX}{value}"


def severity(confidences: Iterable[int | None]) -> str:
    """critical from confidence 85, medium below 50, high otherwise (or when unknown)."""
    known = [c for c in confidences if c is not None]
    best = max(known) if known else None
    if best is None:
        return "high"
    return "critical" if best >= 85 else "high" if best >= 50 else "medium"


class IocHit(Detector):
    id = "ioc_hit"
    version = "1.0.0"
    capability = "S3"
    description = "Threat indicators (domains, addresses, URLs) seen in units' DNS/flow/HTTP logs"
    inputs = ("indicators", *LOGS)
    finding_types = ("ioc_hit", "threat_warning")
    subject_kinds = ("ioc", "indicator")
    titles = (
        ("ioc_hit", "失陷指标命中", "Threat indicator hit"),
        ("threat_warning", "APT威胁预警", "APT threat warning"),
    )
    Params = IocHitParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        drafts = self.hunt(ctx, self.scope(ctx))
        if ctx.subjects is None:
            return drafts
        return [d for d in drafts if d.subject in ctx.subjects]

    def scope(self, ctx: DetectionContext, **narrow: Any) -> m.Scope:
        """The window from the parameters, narrowed to ``ctx.subjects`` when given."""
        window = int(getattr(self.params, "window_days", 30))
        scope = m.Scope(ctx.as_of, window, **narrow)
        if ctx.subjects is None:
            return scope
        values, orgs, every_org = set(), set(), False
        for subject in ctx.subjects:
            head, _, value = subject.partition(":")
            values.add(value)
            every_org |= head == WARNING_PREFIX[:-1]
            orgs.add(head)
        org_filter = None if every_org else frozenset(orgs)
        return m.Scope(ctx.as_of, window, frozenset(values), org_filter, scope.indicator_ids)

    def hunt(self, ctx: DetectionContext, scope: m.Scope) -> list[FindingDraft]:
        """Every ioc_hit and threat_warning draft in ``scope``."""
        live = m.live_indicators(ctx.table("indicators"), scope)
        kinds = m.present_kinds(ctx.execute(m.kinds_query(live)))
        logs = {name: ctx.table(name) for name in LOGS}
        query = m.all_hits(logs, live, scope, kinds, ctx.engine.execute)
        if query is None:
            return []
        hits = ctx.engine.execute(query)
        summary = m.summarise(hits).to_pylist()
        if not summary:
            return []
        shown = m.samples(hits, SAMPLES).to_pylist()
        described = self._indicators(ctx, sorted({r["value"] for r in summary}))
        return self._drafts(summary, shown, described, scope)

    def _indicators(self, ctx: DetectionContext, values: list[str]) -> dict[str, list[Any]]:
        t = ctx.table("indicators")
        wanted = ibis.memtable(pa.table({"_value": pa.array(values, pa.string())}))
        chosen = t.filter(~t.revoked).semi_join(wanted, t.value == wanted._value)
        rows = ctx.execute(
            chosen.select(
                "value", "indicator_id", "name", "pattern", "labels", "confidence",
                "kill_chain", "valid_from", "valid_until", "source",
            ).order_by("value", "indicator_id")
        )  # fmt: skip
        found: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            found[row.pop("value")].append(row)
        return found

    def _drafts(
        self,
        summary: list[dict[str, Any]],
        shown: list[dict[str, Any]],
        described: dict[str, list[Any]],
        scope: m.Scope,
    ) -> list[FindingDraft]:
        by_subject: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for row in shown:
            by_subject[(row["org_uscc"], row["value"])].append(_sample(row))
        drafts = [self._hit(r, by_subject, described, scope) for r in summary]
        by_value: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in summary:
            by_value[row["value"]].append(row)
        drafts += [self._warning(v, rows, described, scope) for v, rows in by_value.items()]
        return drafts

    def _hit(
        self,
        row: dict[str, Any],
        samples: dict[tuple[str, str], list[Any]],
        described: dict[str, list[Any]],
        scope: m.Scope,
    ) -> FindingDraft:
        indicators = described.get(row["value"], [])
        evidence = {
            "org_uscc": row["org_uscc"],
            "indicator": {"value": row["value"], "kind": row["kind"]},
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "count": row["count"],
            "samples": samples.get((row["org_uscc"], row["value"]), []),
            "indicators": indicators,
            "window_days": scope.window_days,
        }
        return FindingDraft(
            type="ioc_hit",
            subject=ioc_subject(row["org_uscc"], row["value"]),
            severity=severity(i["confidence"] for i in indicators),
            evidence=evidence,
            responsible_uscc=row["org_uscc"],
        )

    def _warning(
        self,
        value: str,
        rows: list[dict[str, Any]],
        described: dict[str, list[Any]],
        scope: m.Scope,
    ) -> FindingDraft:
        indicators = described.get(value, [])
        units = [
            {k: r[k] for k in ("org_uscc", "first_seen", "last_seen", "count")}
            for r in sorted(rows, key=lambda r: r["org_uscc"])
        ]
        evidence = {
            "indicator": {"value": value, "kind": rows[0]["kind"]},
            "unit_count": len(units),
            "units": units,
            "first_seen": min(r["first_seen"] for r in rows),
            "last_seen": max(r["last_seen"] for r in rows),
            "count": sum(r["count"] for r in rows),
            "indicators": indicators,
            "window_days": scope.window_days,
        }
        return FindingDraft(
            type="threat_warning",
            subject=warning_subject(value),
            severity=severity(i["confidence"] for i in indicators),
            evidence=evidence,
            responsible_uscc=None,
        )


def _sample(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("dataset", "ts", "field", "observed", "detail")}
