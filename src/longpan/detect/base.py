"""The detector contract.

A detector is one class in one module that declares what it is (id, version,
capability), what it reads (lake datasets), what it produces (finding types) and its
typed parameters; it only returns findings or raises. The runner owns everything else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, get_args

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, ValidationError

from longpan.core.errors import ConfigError, DetectorError, IdentifierError, InputError
from longpan.core.subjects import Subject, SubjectKind, parse_subject
from longpan.resources.reference import REFERENCES, reference_table
from longpan.store.engine import AnalyticsEngine
from longpan.store.models import SEVERITIES

SUBJECT_KINDS: tuple[str, ...] = get_args(SubjectKind)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class FindingDraft:
    """What a detector returns; the runner turns it into a stored Finding."""

    type: str
    subject: str
    severity: str
    evidence: dict[str, Any]
    responsible_uscc: str | None = None
    # Tells apart several findings of one type about one subject (e.g. the CVE of a
    # vulnerable service, whose subject is ``ip:port``); part of the fingerprint.
    key: str = ""


@dataclass
class DetectionContext:
    """What a detector may use: its declared datasets on one engine, and the as-of time."""

    engine: AnalyticsEngine
    as_of: datetime
    inputs: tuple[str, ...]
    snapshots: dict[str, str] = field(default_factory=dict)
    subjects: frozenset[str] | None = None  # when set, re-check only these subjects
    references: tuple[str, ...] = ()

    def table(self, dataset: str) -> ir.Table:
        if dataset not in self.inputs:
            raise DetectorError(
                f"dataset {dataset!r} is not among the detector's declared inputs {self.inputs}"
            )
        return self.engine.table(dataset)

    def reference(self, name: str) -> ir.Table:
        """A declared reference table (resources/reference.py) on this engine."""
        if name not in self.references:
            raise DetectorError(
                f"reference {name!r} is not among the detector's declared references "
                f"{self.references}"
            )
        return self.engine.memtable(f"reference:{name}", lambda: reference_table(name))

    def execute(self, expr: ir.Expr) -> list[dict[str, Any]]:
        return self.engine.rows(expr)


class Detector(ABC):
    id: ClassVar[str]
    version: ClassVar[str]
    capability: ClassVar[str]  # MISSION.md capability id, e.g. "G2"
    description: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]]
    finding_types: ClassVar[tuple[str, ...]]
    references: ClassVar[tuple[str, ...]] = ()  # reference tables it reads, if any
    # Kinds of subject its findings are about (core/subjects.py, e.g. "domain"): a re-check
    # of subjects of none of these kinds skips the detector. Empty: any kind.
    subject_kinds: ClassVar[tuple[str, ...]] = ()
    # Display names per finding type for notices and the web: (type, 中文, English) each.
    # Types without one are shown by their id.
    titles: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    Params: ClassVar[type[BaseModel]] = NoParams
    # True when detect() sets responsible_uscc wherever the lake can name someone (by its
    # own rule or the general one); the runner then leaves an empty one empty instead of
    # looking each such subject up again.
    attributes: ClassVar[bool] = False
    # Rough share of a full run's time (1 = typical): when detectors run side by side the
    # runner starts the costliest first, so that no long one is left running alone at
    # the end. Only the order changes, never the findings.
    cost: ClassVar[float] = 1.0

    def __init__(self, params: BaseModel | Mapping[str, Any] | None = None) -> None:
        if isinstance(params, self.Params):
            self.params: BaseModel = params
            return
        try:
            self.params = self.Params.model_validate(dict(params or {}))
        except ValidationError as exc:
            raise ConfigError(f"detector {self.id}: invalid parameters: {exc}") from None

    @abstractmethod
    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        """Return the findings present in the lake (only for ctx.subjects when given)."""

    @classmethod
    def check_contract(cls) -> None:
        """Raise DetectorError if the class does not declare its contract properly."""
        from longpan.store.datasets import DATASETS

        for attr in ("id", "version", "capability", "description", "inputs", "finding_types"):
            if not getattr(cls, attr, None):
                raise DetectorError(f"{cls.__name__} does not declare {attr!r}")
        unknown = [d for d in cls.inputs if d not in DATASETS]
        if unknown:
            raise DetectorError(f"{cls.id}: unknown input datasets {unknown}")
        unknown = [r for r in cls.references if r not in REFERENCES]
        if unknown:
            raise DetectorError(f"{cls.id}: unknown reference tables {unknown}")
        if not issubclass(cls.Params, BaseModel):
            raise DetectorError(f"{cls.id}: Params must be a pydantic model")
        stray = [t for t, _zh, _en in cls.titles if t not in cls.finding_types]
        if stray:
            raise DetectorError(f"{cls.id}: titles for undeclared finding types {stray}")
        unknown = [k for k in cls.subject_kinds if k not in SUBJECT_KINDS]
        if unknown:
            raise DetectorError(
                f"{cls.id}: unknown subject kinds {unknown}; known: {', '.join(SUBJECT_KINDS)}"
            )

    @classmethod
    def checks_any(cls, kinds: frozenset[str]) -> bool:
        """Whether a re-check of subjects of these kinds concerns this detector."""
        return not cls.subject_kinds or not kinds.isdisjoint(cls.subject_kinds)

    def check_draft(self, draft: FindingDraft) -> None:
        """Raise DetectorError for output that breaks the declared contract."""
        if draft.type not in self.finding_types:
            raise DetectorError(f"{self.id} returned undeclared finding type {draft.type!r}")
        if draft.severity not in SEVERITIES:
            raise DetectorError(f"{self.id} returned unknown severity {draft.severity!r}")
        if not draft.subject:
            raise DetectorError(f"{self.id} returned a finding without a subject")


def plan_recheck(
    chosen: Sequence[type[Detector]], subjects: Iterable[str] | None
) -> tuple[list[type[Detector]], frozenset[str] | None]:
    """The detectors a re-check of ``subjects`` concerns, and those subjects in canonical
    form; all of ``chosen`` and None when no subjects are given (a full run).

    A detector none of whose declared subject kinds is among the subjects' kinds is left
    out, so it changes nothing. InputError for a subject of no known kind, and when no
    chosen detector re-checks any of the subjects' kinds.
    """
    wanted = [_recheck_subject(value, chosen) for value in subjects or ()]
    if not wanted:
        return list(chosen), None
    kinds = frozenset(s.kind for s in wanted)
    applicable = [cls for cls in chosen if cls.checks_any(kinds)]
    if chosen and not applicable:
        declared = "; ".join(f"{c.id}: {', '.join(c.subject_kinds)}" for c in chosen)
        raise InputError(
            f"no chosen detector re-checks subjects of kind {', '.join(sorted(kinds))} "
            f"(declared kinds: {declared})"
        )
    return applicable, frozenset(s.value for s in wanted)


def _recheck_subject(value: str, chosen: Sequence[type[Detector]]) -> Subject:
    try:
        return parse_subject(value)
    except IdentifierError as exc:
        kinds = sorted({k for cls in chosen for k in cls.subject_kinds} or SUBJECT_KINDS)
        raise InputError(
            f"subject {value!r} is of no kind a detector can re-check ({', '.join(kinds)}): "
            f"{exc.reason}"
        ) from None
