"""The web's queries on both database backends (SQLite and PostgreSQL): filters, sorts,
counts, dashboard grouping, audit search, exports, sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from longpan.accounts.users import create_user
from longpan.detect.store import fingerprint
from longpan.store.models import Finding, Organisation
from longpan.web.app import create_app
from tests.conftest import make_workspace
from tests.web.conftest import PASSWORD, login

ORG_A, ORG_B = "91320100MA1AAAAA0A", "91320100MA1BBBBB0B"


def _seed(ws: object) -> None:
    from longpan.store.workspace import Workspace

    assert isinstance(ws, Workspace)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with ws.sessions() as session, session.begin():
        for uscc, name in ((ORG_A, "甲公司"), (ORG_B, "乙公司")):
            session.add(Organisation(uscc=uscc, name=name, created_at=now, updated_at=now))
        for n, (kind, severity, org) in enumerate(
            [
                ("shell_website", "high", ORG_A),
                ("shell_website", "low", ORG_B),
                ("false_filing", "critical", ORG_A),
                ("expired_domain", "medium", None),
            ]
        ):
            subject = f"site{n}.example.cn"
            seen = datetime(2024, 3 + n, 10, tzinfo=UTC)
            session.add(
                Finding(
                    fingerprint=fingerprint(kind, subject),
                    type=kind,
                    severity=severity,
                    subject=subject,
                    evidence={"n": n},
                    detector=kind,
                    detector_version="1",
                    status="open" if n < 3 else "closed",
                    observed=True,
                    responsible_uscc=org,
                    first_seen=seen,
                    last_seen=seen,
                )
            )
        for name, role in (("analyst1", "analyst"), ("auditor1", "auditor")):
            create_user(session, username=name, role=role, password=PASSWORD, actor="test")
        create_user(
            session,
            username="ent_a",
            role="enterprise",
            password=PASSWORD,
            actor="test",
            org_uscc=ORG_A,
        )


def test_queries_on_each_backend(tmp_path: Path, database_url: str) -> None:
    ws = make_workspace(tmp_path / "home", database_url)
    try:
        _seed(ws)
        with TestClient(create_app(workspace=ws)) as client:
            login(client, "analyst1")
            found = client.get(
                "/api/findings", params={"type": "shell_website", "sort": "-severity"}
            ).json()
            assert found["total"] == 2
            assert [i["severity"] for i in found["items"]] == ["high", "low"]
            assert found["items"][0]["responsible_name"] == "甲公司"
            text = client.get("/api/findings", params={"q": "SITE3", "status": "closed"}).json()
            assert [i["subject"] for i in text["items"]] == ["site3.example.cn"]
            by_org = client.get("/api/findings", params={"org": ORG_A, "sort": "first_seen"})
            assert [i["subject"] for i in by_org.json()["items"]] == [
                "site0.example.cn",
                "site2.example.cn",
            ]
            figures = client.get("/api/dashboard").json()
            assert figures["status"] == {"open": 3, "closed": 1, "dismissed": 0, "not_observed": 0}
            assert figures["over_time"]["months"] == ["2024-03", "2024-04", "2024-05", "2024-06"]
            csv_text = client.get("/findings/export.csv").content.decode("utf-8-sig")
            assert csv_text.count("example.cn") == 4
        with TestClient(create_app(workspace=ws)) as enterprise:
            login(enterprise, "ent_a")
            own = enterprise.get("/api/findings").json()
            assert own["total"] == 2 and {i["responsible_uscc"] for i in own["items"]} == {ORG_A}
        with TestClient(create_app(workspace=ws)) as auditor:
            login(auditor, "auditor1")
            audit = auditor.get("/api/audit", params={"action": "user.", "since": "2020-01-01"})
            actions = sorted(i["action"] for i in audit.json()["items"])
            # three created; analyst1, ent_a and auditor1 signed in
            assert actions == ["user.created"] * 3 + ["user.signed_in"] * 3
    finally:
        ws.close()
