"""Enterprise users see only their own organisation's findings, through every door."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from longpan.store.models import Finding
from longpan.store.workspace import Workspace
from tests.web.conftest import login


def _ids(ws: Workspace, uscc: str) -> list[int]:
    with ws.sessions() as session:
        return list(session.scalars(select(Finding.id).where(Finding.responsible_uscc == uscc)))


def _subject(ws: Workspace, finding_id: int) -> str:
    with ws.sessions() as session:
        finding = session.get(Finding, finding_id)
        assert finding is not None
        return finding.subject


@pytest.fixture
def as_a(client: TestClient, make_user: Callable[..., str], orgs: tuple[str, str]) -> TestClient:
    login(client, make_user("enterprise", orgs[0]))
    return client


def test_list_and_api_show_only_the_own_organisation(
    as_a: TestClient, web_ws: Workspace, orgs: tuple[str, str]
) -> None:
    own = _ids(web_ws, orgs[0])
    body = as_a.get("/api/findings", params={"size": 200}).json()
    assert body["total"] == len(own) > 0
    assert {item["id"] for item in body["items"]} == set(own)
    assert {item["responsible_uscc"] for item in body["items"]} == {orgs[0]}
    page = as_a.get("/findings", params={"size": 200}).text
    assert f"共 {len(own)} 条线索" in page


def test_other_organisations_findings_are_not_found(
    as_a: TestClient, web_ws: Workspace, orgs: tuple[str, str]
) -> None:
    theirs = _ids(web_ws, orgs[1])
    for finding_id in theirs[:3]:
        assert as_a.get(f"/findings/{finding_id}").status_code == 404
        assert as_a.get(f"/api/findings/{finding_id}").status_code == 404
        subject = _subject(web_ws, finding_id)
        if not any(_subject(web_ws, i) == subject for i in _ids(web_ws, orgs[0])):
            assert as_a.get(f"/subjects/{subject}").status_code == 404
            assert as_a.get(f"/api/subjects/{subject}").status_code == 404
    # asking for B's findings by filter yields nothing rather than B's data
    body = as_a.get("/api/findings", params={"org": orgs[1]}).json()
    assert body["total"] == 0


def test_exports_are_scoped(as_a: TestClient, web_ws: Workspace, orgs: tuple[str, str]) -> None:
    own = set(_ids(web_ws, orgs[0]))
    text = as_a.get("/findings/export.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {int(r["编号"]) for r in rows} == own
    workbook = load_workbook(io.BytesIO(as_a.get("/findings/export.xlsx").content), read_only=True)
    ids = {row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)}
    assert ids == own


def test_own_subject_page_shows_findings_but_no_graph(
    as_a: TestClient, web_ws: Workspace, orgs: tuple[str, str]
) -> None:
    subject = _subject(web_ws, _ids(web_ws, orgs[0])[0])
    body = as_a.get(f"/api/subjects/{subject}").json()
    assert body["graph"] is None
    assert body["findings"] and {f["responsible_uscc"] for f in body["findings"]} == {orgs[0]}
    assert as_a.get(f"/subjects/{subject}").status_code == 200


def test_enterprise_dashboard_counts_only_its_findings(
    as_a: TestClient, web_ws: Workspace, orgs: tuple[str, str]
) -> None:
    figures = as_a.get("/api/dashboard").json()
    assert sum(figures["status"].values()) == len(_ids(web_ws, orgs[0]))
    assert sum(s for series in figures["over_time"]["series"] for s in series["data"]) == len(
        _ids(web_ws, orgs[0])
    )
