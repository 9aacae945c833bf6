"""Retro-hunt (回溯): a newly arrived indicator is matched against every unit's stored
logs at once (一点发现、全网联动).

``retro_hunt`` takes the indicator ids an import added or changed and hunts only their
values, over the window of the ``ioc_hit`` detector (its ``window_days`` parameter,
``LONGPAN_DETECTORS``). It stores through the detection runner, so the findings, the
run record and the audit trail are those of an ordinary ``longpan detect``:

1. the hunt finds the units hit (``IocHit.hunt`` narrowed to the new values);
2. ``run_detection`` re-checks exactly those subjects — each unit's ``ioc_hit`` and the
   value's ``threat_warning`` (which lists every unit hit) — so every other finding is
   left as it is (a full run would mark the findings of other indicators not observed).

The runner takes the first step's drafts as the detector's output (``found``): the
hunt runs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from longpan.detect.base import DetectionContext
from longpan.detect.runner import RunResult, data_as_of, run_detection
from longpan.store.workspace import Workspace
from longpan.threat.ioc_hit import IocHit
from longpan.threat.matching import MATCHED_KINDS


@dataclass
class RetroHuntResult:
    values: list[str] = field(default_factory=list)  # indicator values hunted
    warnings: list[dict[str, Any]] = field(default_factory=list)  # value, severity, units
    run: RunResult | None = None


def retro_hunt(
    ws: Workspace,
    indicator_ids: Sequence[str],
    *,
    engine: str | None = None,
    as_of: datetime | None = None,
    actor: str = "system:cli",
) -> RetroHuntResult:
    """Hunt the values of ``indicator_ids`` in every unit's logs and store the findings."""
    result = RetroHuntResult()
    if not indicator_ids:
        return result
    detector = IocHit(ws.settings.detectors.get(IocHit.id, {}))
    analytics = ws.analytics(engine)
    moment = as_of or data_as_of(analytics) or ws.clock()
    ctx = DetectionContext(analytics, moment, IocHit.inputs, ws.lake.current_snapshots())
    result.values = _values(ctx, indicator_ids)
    if not result.values:
        return result
    drafts = detector.hunt(ctx, detector.scope(ctx, values=frozenset(result.values)))
    if not drafts:
        return result
    subjects = sorted(d.subject for d in drafts)
    result.run = run_detection(
        ws,
        engine=engine,
        as_of=moment,
        subjects=subjects,
        actor=actor,
        detectors=[IocHit],
        found={IocHit.id: drafts},
    )
    result.warnings = [_warning(d.subject, d.severity, d.evidence) for d in drafts
                       if d.type == "threat_warning"]  # fmt: skip
    return result


def _values(ctx: DetectionContext, indicator_ids: Sequence[str]) -> list[str]:
    t = ctx.table("indicators")
    chosen = t.filter(
        t.indicator_id.isin(sorted(set(indicator_ids))),
        ~t.revoked,
        t.kind.isin(MATCHED_KINDS),
    )
    return sorted({r["value"] for r in ctx.execute(chosen.select("value").distinct())})


def _warning(subject: str, severity: str, evidence: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject": subject,
        "severity": severity,
        "unit_count": evidence["unit_count"],
        "units": [u["org_uscc"] for u in evidence["units"]],
    }
