"""A subject re-check runs only the detectors of the subjects' kinds (issue 4).

Detectors declare ``subject_kinds``; the runner skips the others, which then change
nothing: no run counts, no refreshed or not-observed findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from longpan.core.errors import DetectorError, InputError
from longpan.core.subjects import parse_subject
from longpan.detect import registry
from longpan.detect.base import (
    SUBJECT_KINDS,
    DetectionContext,
    Detector,
    FindingDraft,
    plan_recheck,
)
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.models import DetectionRun
from longpan.store.workspace import Workspace
from tests.conftest import EXAMPLE

LICENCE = "苏ICP备16078901号"  # a planted dissolved_subject of the example
DOMAIN_DETECTORS = {
    "unfiled_website",
    "false_filing",
    "shell_website",
    "expired_domain",
    "domain_moved_abroad",
    "lookalike_domain",
}


class _AnyKind(Detector):
    id = "any_kind"
    version = "1.0.0"
    capability = "G2"
    description = "declares no subject kinds"
    inputs = ("entities",)
    finding_types = ("any_kind",)

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        return []


class _Planets(_AnyKind):
    id = "planets"
    subject_kinds: ClassVar[tuple[str, ...]] = ("planet",)


def _stored(ws: Workspace) -> dict[tuple[str, str], tuple[Any, ...]]:
    with ws.sessions() as session:
        return {
            (r["type"], r["subject"]): (r["status"], r["observed"], r["last_seen"])
            for r in list_findings(session)
        }


def _runs(ws: Workspace) -> int:
    with ws.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DetectionRun)) or 0)


def test_every_declared_kind_is_a_known_subject_kind() -> None:
    for cls in registry.detectors().values():
        assert cls.subject_kinds and set(cls.subject_kinds) <= set(SUBJECT_KINDS), cls.id
    with pytest.raises(DetectorError, match="unknown subject kinds \\['planet'\\]"):
        _Planets.check_contract()
    _AnyKind.check_contract()  # empty: any kind


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("AnChuanFin.com", DOMAIN_DETECTORS),
        ("myicp.com", DOMAIN_DETECTORS),  # "ICP" inside a domain is no ICP number
        (LICENCE, {"dissolved_subject"}),
        ("221.226.10.0/24", {"ip_filing_inaccurate"}),
        ("203.0.113.5:443", {"vulnerable_asset"}),
        ("indicator:evil.example", {"ioc_hit"}),
    ],
)
def test_plan_picks_the_detectors_of_the_subject_kind(subject: str, expected: set[str]) -> None:
    chosen, wanted = plan_recheck(list(registry.detectors().values()), [subject])
    assert {cls.id for cls in chosen} == expected
    assert wanted == frozenset({parse_subject(subject).value})


def test_plan_canonicalises_and_keeps_full_runs_whole() -> None:
    every = list(registry.detectors().values())
    assert plan_recheck(every, None) == (every, None)
    assert plan_recheck(every, []) == (every, None)
    _chosen, wanted = plan_recheck(every, ["AnChuanFin.com.", "221.226.10.0/24"])
    assert wanted == frozenset({"anchuanfin.com", "221.226.10.0-221.226.10.255"})
    chosen, _ = plan_recheck([_AnyKind, *every], ["anchuanfin.com"])
    assert _AnyKind in chosen  # no declared kinds: re-checks any subject


def test_a_subject_of_no_known_kind_is_a_clear_error() -> None:
    every = list(registry.detectors().values())
    with pytest.raises(InputError, match="subject 'not a subject!' is of no kind"):
        plan_recheck(every, ["anchuanfin.com", "not a subject!"])


def test_a_subject_no_chosen_detector_checks_is_a_clear_error() -> None:
    licence_only = registry.select(["dissolved_subject"])
    with pytest.raises(InputError, match="no chosen detector re-checks subjects of kind domain"):
        plan_recheck(licence_only, ["anchuanfin.com"])


def test_domain_recheck_skips_the_licence_detector(ws: Workspace) -> None:
    ingest_folder(ws, EXAMPLE)
    full = run_detection(ws)
    assert not full.errors
    before = _stored(ws)
    assert ("dissolved_subject", LICENCE) in before
    ran: list[str] = []
    result = run_detection(ws, subjects=["DingXinMall.com"], progress=ran.append)
    assert set(result.counts) == set(ran) == DOMAIN_DETECTORS
    assert not result.errors
    assert result.counts["shell_website"]["refreshed"] == 1  # found as dingxinmall.com
    after = _stored(ws)
    licences = {k: v for k, v in before.items() if k[0] == "dissolved_subject"}
    assert {k: after[k] for k in licences} == licences  # not refreshed, not marked
    with ws.sessions() as session:
        run = session.get_one(DetectionRun, result.run_id)
        assert set(run.detectors) == DOMAIN_DETECTORS


def test_licence_recheck_runs_only_its_detector(ws: Workspace) -> None:
    ingest_folder(ws, EXAMPLE)
    run_detection(ws)
    before = _stored(ws)
    result = run_detection(ws, subjects=["苏ICP备 1607 8901号"])  # folded to canonical
    assert set(result.counts) == {"dissolved_subject"}
    assert result.counts["dissolved_subject"]["refreshed"] == 1
    after = _stored(ws)
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {("dissolved_subject", LICENCE)}  # last_seen refreshed, nothing else


def test_a_bad_subject_stores_nothing(sqlite_ws: Workspace) -> None:
    ingest_folder(sqlite_ws, EXAMPLE)
    runs = _runs(sqlite_ws)
    with pytest.raises(InputError, match="no kind a detector can re-check"):
        run_detection(sqlite_ws, subjects=["dingxinmall.com", "nothing at all"])
    assert _runs(sqlite_ws) == runs  # no run opened
