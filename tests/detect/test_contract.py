"""The contract test: every registered detector, on both engines, against the example."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from longpan.core.subjects import canonical_subject, parse_subject
from longpan.detect.base import DetectionContext, Detector
from longpan.detect.registry import detectors
from longpan.resources.ingest import ingest_folder
from longpan.store.datasets import DATASETS
from longpan.store.models import SEVERITIES
from tests.conftest import EXAMPLE, make_workspace

DOCS = Path(__file__).resolve().parents[2] / "docs" / "detectors"


def test_builtin_detectors_are_registered() -> None:
    assert "dissolved_subject" in detectors()


@pytest.mark.parametrize("cls", detectors().values(), ids=lambda c: c.id)
def test_declared_contract(cls: type[Detector]) -> None:
    cls.check_contract()
    assert cls.capability and cls.version.count(".") == 2
    assert set(cls.inputs) <= set(DATASETS)
    assert cls.subject_kinds, "a built-in detector declares the kinds of its subjects"
    for finding_type in cls.finding_types:
        assert (DOCS / f"{finding_type}.md").is_file(), f"docs/detectors/{finding_type}.md missing"


@pytest.mark.parametrize("cls", detectors().values(), ids=lambda c: c.id)
def test_output_honours_the_contract(cls: type[Detector], engine_name: str, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ingest_folder(ws, EXAMPLE)
    ctx = DetectionContext(
        ws.analytics(engine_name),
        datetime(2024, 12, 31, tzinfo=UTC),
        cls.inputs,
        ws.lake.current_snapshots(),
        references=cls.references,
    )
    detector = cls()
    drafts = list(detector.detect(ctx))
    for draft in drafts:
        detector.check_draft(draft)
        assert draft.severity in SEVERITIES
        assert canonical_subject(draft.subject) == draft.subject
        assert parse_subject(draft.subject).kind in cls.subject_kinds
        json.dumps(draft.evidence, default=str)
    # re-checking one subject returns that subject's finding and nothing else
    if drafts:
        one = drafts[0].subject
        ctx.subjects = frozenset({one})
        assert {d.subject for d in detector.detect(ctx)} == {one}
    ws.close()
