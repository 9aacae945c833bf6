"""The detection runner: owns the lifecycle of a run.

For each chosen detector it builds the context, validates the output against the
contract, fills in attribution where the detector left it open, and upserts findings
by fingerprint (type + subject, + key where one subject has several): new ones are
opened, present ones refreshed, ones no longer observed marked so (never deleted).
Each detector's findings are stored in one transaction, so a failing detector leaves
the others' results and its own old findings untouched; the run record keeps the error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from longpan.core.clock import as_utc
from longpan.core.errors import ConfigError, DetectorError, LongpanError
from longpan.detect import registry
from longpan.detect.base import DetectionContext, Detector, FindingDraft, plan_recheck
from longpan.detect.store import upsert_findings
from longpan.resources.attribution import attribute
from longpan.store import statistics
from longpan.store.datasets import DATASETS
from longpan.store.db import audit, transaction
from longpan.store.engine import AnalyticsEngine
from longpan.store.models import DetectionRun
from longpan.store.workspace import Workspace

Progress = Callable[[str], None]


@dataclass
class RunResult:
    run_id: int
    status: str
    engine: str
    as_of: datetime
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def data_as_of(engine: AnalyticsEngine) -> datetime | None:
    """The data's as-of time: the latest observation in any observation dataset.

    Read from the Parquet footers' row-group statistics (milliseconds instead of a scan
    of every log, and the same on every engine); a dataset whose files lack them is
    asked of the engine.
    """
    latest: datetime | None = None
    for dataset in DATASETS.values():
        if dataset.observed_at is None:
            continue
        snap = engine.lake.check_current(dataset)
        if snap is None:
            continue
        files = engine.lake.files(dataset.name, snap.id)
        value = statistics.column_max(files, dataset.observed_at)
        if value is statistics.UNKNOWN:
            value = engine.scalar(engine.table(dataset.name)[dataset.observed_at].max())
            value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        if isinstance(value, datetime) and not _is_missing(value):
            latest = max(latest, as_utc(value)) if latest else as_utc(value)
    return latest


def _is_missing(value: Any) -> bool:
    return bool(value != value)  # NaT / NaN


def run_detection(
    ws: Workspace,
    *,
    engine: str | None = None,
    only: list[str] | None = None,
    as_of: datetime | None = None,
    subjects: list[str] | None = None,
    actor: str = "system:cli",
    progress: Progress | None = None,
    detectors: list[type[Detector]] | None = None,
    found: Mapping[str, list[FindingDraft]] | None = None,
) -> RunResult:
    """Run the registered detectors (or ``detectors``, when given) and store findings;
    with ``subjects``, re-check only those, with the detectors of their kinds.

    ``found`` gives, by detector id, drafts the caller already computed for exactly
    this run's scope (a retro-hunt's): they stand in for that detector's output and are
    checked, attributed and stored like it, instead of being computed a second time."""
    chosen, wanted = plan_recheck(
        detectors if detectors is not None else registry.select(only), subjects
    )
    _check_params(ws)
    analytics = ws.analytics(engine)
    started = ws.clock()
    effective_as_of = as_utc(as_of) if as_of else (data_as_of(analytics) or started)
    snapshots = ws.lake.current_snapshots()
    run_id = _open_run(ws, analytics.name, effective_as_of, chosen, snapshots, started)
    result = RunResult(run_id, "running", analytics.name, effective_as_of)
    # One worker stores each finished detector's findings (Python and database time that
    # would otherwise leave the cores idle) while the engine goes on: one transaction per
    # detector as before, in the order they finish; counts are reported in chosen order.
    run = _Run(ws, analytics, effective_as_of, snapshots, wanted, dict(found or {}))
    with ThreadPoolExecutor(1, thread_name_prefix="longpan-store") as storing:
        stored: dict[str, Future[dict[str, int]]] = {}
        for cls, outcome in _detect_all(run, chosen, progress):
            if isinstance(outcome, LongpanError):
                result.errors[cls.id] = str(outcome)
                continue
            detector, drafts = outcome
            stored[cls.id] = storing.submit(_store, ws, detector, drafts, wanted, run_id, started)
        _collect(chosen, stored, result)
    result.status = "failed" if result.errors else "succeeded"
    _close_run(ws, result, actor)
    return result


def _collect(
    chosen: list[type[Detector]], stored: dict[str, Future[dict[str, int]]], result: RunResult
) -> None:
    """Each stored detector's counts (or error), reported in the order chosen."""
    for detector_id in [c.id for c in chosen if c.id in stored]:
        try:
            result.counts[detector_id] = stored[detector_id].result()
        except LongpanError as exc:
            result.errors[detector_id] = str(exc)


@dataclass(frozen=True)
class _Run:
    """What every detector of one run shares (its scope, engine and inputs)."""

    ws: Workspace
    analytics: AnalyticsEngine
    as_of: datetime
    snapshots: dict[str, str]
    subjects: frozenset[str] | None
    found: dict[str, list[FindingDraft]]  # drafts computed by the caller, by detector id

    @property
    def workers(self) -> int:
        """Detectors run side by side only in a full run on DuckDB: a re-check is a few
        small queries, and Spark schedules its own parallelism."""
        if self.analytics.name != "duckdb" or self.subjects is not None:
            return 1
        return self.ws.settings.detect_workers


Outcome = tuple[Detector, list[FindingDraft]] | LongpanError


def _detect_all(
    run: _Run, chosen: list[type[Detector]], progress: Progress | None
) -> Iterator[tuple[type[Detector], Outcome]]:
    """Each detector's outcome: in the order chosen, or with several workers as each
    finishes (the costliest started first). Each worker thread has its own engine forked
    from the run's, sharing the tables kept for the run, so the engine's queries of one
    detector overlap the Python work of another, and every finished detector's findings
    can be stored at once."""
    if run.workers == 1:
        for cls in chosen:
            if progress:
                progress(cls.id)
            yield cls, _outcome(partial(_detected, run, cls, run.analytics))
        return
    engines = _Engines(run.analytics)
    costliest_first = sorted(chosen, key=lambda c: -c.cost)  # stable: ties keep their order
    try:
        with ThreadPoolExecutor(run.workers, thread_name_prefix="longpan-detect") as pool:
            running = {pool.submit(_detected_here, run, c, engines): c for c in costliest_first}
            for future in as_completed(running):
                if progress:
                    progress(running[future].id)
                yield running[future], _outcome(future.result)
    finally:
        engines.close()


def _outcome(work: Callable[[], tuple[Detector, list[FindingDraft]]]) -> Outcome:
    try:
        return work()
    except LongpanError as exc:
        return exc


class _Engines:
    """One engine per detecting thread, forked from the run's; closed after the run."""

    def __init__(self, root: AnalyticsEngine) -> None:
        self._root = root
        self._local = threading.local()
        self._forks: list[AnalyticsEngine] = []
        self._lock = threading.Lock()

    def get(self) -> AnalyticsEngine:
        engine: AnalyticsEngine | None = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = self._root.fork()
            with self._lock:
                self._forks.append(engine)
        return engine

    def close(self) -> None:
        for engine in self._forks:
            if engine is not self._root:
                engine.close()


def _detected_here(
    run: _Run, cls: type[Detector], engines: _Engines
) -> tuple[Detector, list[FindingDraft]]:
    return _detected(run, cls, engines.get())


def _detected(
    run: _Run, cls: type[Detector], analytics: AnalyticsEngine
) -> tuple[Detector, list[FindingDraft]]:
    """The detector's checked drafts, attributed, with the snapshots in evidence."""
    detector = cls(run.ws.settings.detectors.get(cls.id, {}))
    inputs = {d: run.snapshots[d] for d in cls.inputs if d in run.snapshots}
    ctx = DetectionContext(analytics, run.as_of, cls.inputs, inputs, run.subjects, cls.references)
    try:
        output = run.found[cls.id] if cls.id in run.found else detector.detect(ctx)
        drafts = _checked(detector, output, run.subjects)
    except LongpanError:
        raise
    except Exception as exc:  # a detector bug must not take the run down
        raise DetectorError(f"{cls.id} raised {type(exc).__name__}: {exc}") from exc
    return detector, [_attributed(analytics, d, inputs, lookup=not cls.attributes) for d in drafts]


def _store(
    ws: Workspace,
    detector: Detector,
    drafts: list[FindingDraft],
    subjects: frozenset[str] | None,
    run_id: int,
    now: datetime,
) -> dict[str, int]:
    with transaction(ws.sessions) as session:
        return upsert_findings(
            session, detector, drafts, run_id=run_id, now=now, subjects=subjects, clock=ws.clock
        )


def _checked(
    detector: Detector, drafts: Any, subjects: frozenset[str] | None
) -> list[FindingDraft]:
    unique: dict[tuple[str, str, str], FindingDraft] = {}
    for draft in drafts:
        detector.check_draft(draft)
        if subjects is not None and draft.subject not in subjects:
            continue
        unique.setdefault((draft.type, draft.subject, draft.key), draft)
    return list(unique.values())


def _attributed(
    engine: AnalyticsEngine, draft: FindingDraft, snaps: dict[str, str], *, lookup: bool
) -> FindingDraft:
    evidence = {**draft.evidence, "snapshots": snaps}  # made plain JSON when stored
    responsible = draft.responsible_uscc
    if responsible is None and lookup:
        found = attribute(engine, draft.subject)
        responsible = found.uscc if found else None
    return FindingDraft(
        draft.type, draft.subject, draft.severity, evidence, responsible, key=draft.key
    )


def _open_run(
    ws: Workspace,
    engine: str,
    as_of: datetime,
    chosen: list[type[Detector]],
    snapshots: dict[str, str],
    started: datetime,
) -> int:
    with transaction(ws.sessions) as session:
        run = DetectionRun(
            started_at=started,
            engine=engine,
            as_of=as_of,
            status="running",
            detectors=[c.id for c in chosen],
            counts={},
            lake_snapshots=snapshots,
        )
        session.add(run)
        session.flush()
        return run.id


def _close_run(ws: Workspace, result: RunResult, actor: str) -> None:
    with transaction(ws.sessions) as session:
        run = session.get_one(DetectionRun, result.run_id)
        run.status = result.status
        run.finished_at = ws.clock()
        run.counts = result.counts
        run.error = "\n".join(f"{k}: {v}" for k, v in result.errors.items()) or None
        audit(
            session,
            actor=actor,
            action=f"detection.{result.status}",
            clock=ws.clock,
            object_type="detection_run",
            object_id=str(result.run_id),
            details={
                "engine": result.engine,
                "as_of": result.as_of.isoformat(),
                "counts": result.counts,
                "errors": result.errors,
            },
        )


def _check_params(ws: Workspace) -> None:
    """LONGPAN_DETECTORS may only name registered detectors, with valid parameters."""
    known = registry.detectors()
    for detector_id, params in ws.settings.detectors.items():
        if detector_id not in known:
            raise ConfigError(
                f"LONGPAN_DETECTORS names unknown detector {detector_id!r}; "
                f"known: {', '.join(sorted(known))}"
            )
        known[detector_id](params)  # raises ConfigError for a bad parameter
