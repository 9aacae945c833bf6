"""The runner's lifecycle: open, refresh, not observed, re-observed; never deleted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select, update

from longpan.detect.findings import count_summary, list_findings, summary
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.models import AuditEntry, DetectionRun, Finding
from longpan.store.workspace import Workspace
from tests.conftest import EXAMPLE


def _truth(folder: Path) -> set[str]:
    with open(folder / "truth.csv", encoding="utf-8") as f:
        return {r["subject"] for r in csv.DictReader(f) if r["finding_type"] == "dissolved_subject"}


def _set_entity_status(folder: Path, uscc: str, status: str) -> None:
    path = folder / "entities.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["uscc"] == uscc:
            row["status"] = status
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _by_subject(ws: Workspace) -> dict[str, dict[str, object]]:
    with ws.sessions() as session:
        return {r["subject"]: r for r in list_findings(session, types=["dissolved_subject"])}


def test_detect_finds_the_planted_dissolved_subjects(ws: Workspace) -> None:
    ingest_folder(ws, EXAMPLE)
    result = run_detection(ws, only=["dissolved_subject"])
    assert result.status == "succeeded"
    found = _by_subject(ws)
    assert set(found) == _truth(EXAMPLE)
    for record in found.values():
        assert record["status"] == "open" and record["responsible_uscc"]
        evidence = record["evidence"]
        assert isinstance(evidence, dict)
        assert evidence["registry"]["status"] in ("注销", "吊销")
        assert set(evidence["snapshots"]) == {"icp_subjects", "entities", "icp_services"}


def test_lifecycle_refresh_not_observed_reobserved(ws: Workspace, example_copy: Path) -> None:
    ingest_folder(ws, example_copy)
    run_detection(ws, only=["dissolved_subject"])
    first = _by_subject(ws)
    again = run_detection(ws, only=["dissolved_subject"])
    assert again.counts["dissolved_subject"]["new"] == 0
    assert again.counts["dissolved_subject"]["refreshed"] == len(first)
    refreshed = _by_subject(ws)
    assert {s: r["first_seen"] for s, r in refreshed.items()} == {
        s: r["first_seen"] for s, r in first.items()
    }
    assert all(refreshed[s]["last_seen"] > first[s]["last_seen"] for s in first)

    subject = sorted(first)[0]
    uscc = str(first[subject]["evidence"]["uscc"])  # type: ignore[index]
    _set_entity_status(example_copy, uscc, "存续")  # the registry is corrected
    ingest_folder(ws, example_copy)
    result = run_detection(ws, only=["dissolved_subject"])
    assert result.counts["dissolved_subject"]["not_observed"] == 1
    after = _by_subject(ws)
    assert set(after) == set(first)  # nothing deleted
    assert (after[subject]["status"], after[subject]["observed"]) == ("not_observed", False)
    assert all(after[s]["status"] == "open" for s in first if s != subject)

    _set_entity_status(example_copy, uscc, "注销")
    ingest_folder(ws, example_copy)
    result = run_detection(ws, only=["dissolved_subject"])
    assert result.counts["dissolved_subject"]["reobserved"] == 1
    assert _by_subject(ws)[subject]["status"] == "open"


def test_every_transition_is_audited_and_case_statuses_kept(
    ws: Workspace, example_copy: Path
) -> None:
    ingest_folder(ws, example_copy)
    run_detection(ws, only=["dissolved_subject"])
    first = _by_subject(ws)
    moved, plain = sorted(first)[:2]
    with ws.sessions() as session, session.begin():  # a case has moved one finding on
        session.execute(update(Finding).where(Finding.subject == moved).values(status="notified"))
    for subject in (moved, plain):  # both registry records are corrected
        _set_entity_status(example_copy, str(first[subject]["evidence"]["uscc"]), "存续")  # type: ignore[index]
    ingest_folder(ws, example_copy)
    assert (
        run_detection(ws, only=["dissolved_subject"]).counts["dissolved_subject"]["not_observed"]
        == 2
    )
    after = _by_subject(ws)
    assert (after[moved]["status"], after[moved]["observed"]) == ("notified", False)
    assert (after[plain]["status"], after[plain]["observed"]) == ("not_observed", False)
    for subject in (moved, plain):
        _set_entity_status(example_copy, str(first[subject]["evidence"]["uscc"]), "注销")  # type: ignore[index]
    ingest_folder(ws, example_copy)
    assert (
        run_detection(ws, only=["dissolved_subject"]).counts["dissolved_subject"]["reobserved"] == 2
    )
    again = _by_subject(ws)
    assert (again[moved]["status"], again[plain]["status"]) == ("notified", "open")
    with ws.sessions() as session:
        logged = session.execute(
            select(AuditEntry.action, AuditEntry.object_id).where(
                AuditEntry.action.like("finding.%")
            )
        ).all()
        counted = count_summary(session, ["dissolved_subject"])
        assert counted == summary(list_findings(session, types=["dissolved_subject"]))
    ids = {f"dissolved_subject:{s}" for s in (moved, plain)}
    assert sorted(logged).count(("finding.opened", f"dissolved_subject:{moved}")) == 1
    assert {i for a, i in logged if a == "finding.not_observed"} == ids
    assert {i for a, i in logged if a == "finding.reobserved"} == ids
    assert sum(a == "finding.opened" for a, _ in logged) == len(first)


def test_runs_and_transitions_are_recorded(sqlite_ws: Workspace) -> None:
    ingest_folder(sqlite_ws, EXAMPLE)
    result = run_detection(sqlite_ws, only=["dissolved_subject"])
    with sqlite_ws.sessions() as session:
        run = session.get_one(DetectionRun, result.run_id)
        actions = session.scalars(select(AuditEntry.action)).all()
        findings = session.scalars(select(Finding)).all()
    assert run.status == "succeeded" and run.finished_at is not None
    assert run.detectors == ["dissolved_subject"]
    assert run.lake_snapshots.keys() >= {"entities", "icp_subjects"}
    assert actions.count("finding.opened") == len(findings)
    assert "detection.succeeded" in actions
    assert all(f.first_run_id == result.run_id for f in findings)


def test_as_of_defaults_to_the_latest_observation(sqlite_ws: Workspace) -> None:
    ingest_folder(sqlite_ws, EXAMPLE)
    latest = max(
        r["fetched_at"]
        for r in sqlite_ws.lake.read(
            __import__("longpan.store.datasets", fromlist=["WEB_CRAWLS"]).WEB_CRAWLS
        ).to_pylist()
    )
    result = run_detection(sqlite_ws)
    assert result.as_of.replace(tzinfo=None) >= latest


def test_subject_recheck_touches_only_that_subject(sqlite_ws: Workspace) -> None:
    ingest_folder(sqlite_ws, EXAMPLE)
    run_detection(sqlite_ws, only=["dissolved_subject"])
    subject = sorted(_truth(EXAMPLE))[0]
    result = run_detection(sqlite_ws, only=["dissolved_subject"], subjects=[subject])
    assert result.counts["dissolved_subject"] == {
        "found": 1,
        "new": 0,
        "refreshed": 1,
        "reobserved": 0,
        "not_observed": 0,
    }
    assert all(r["status"] == "open" for r in _by_subject(sqlite_ws).values())


def test_unknown_type_is_a_user_error(sqlite_ws: Workspace) -> None:
    from longpan.core.errors import InputError

    with pytest.raises(InputError, match="unknown finding type"):
        run_detection(sqlite_ws, only=["no_such_type"])
