"""Security findings through the loop's pages, as people would click through them: a
batch of the S2/S3 finding types built and approved by two supervisors, the key unit's
inbox, notice and documents, answers verified at once against a new scan, and the
dashboard's figures by finding type (Chinese titles, English on request).

The findings come from the real detectors on real feeds (tests/cases/security_lake.py).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from longpan.accounts.users import create_user
from longpan.store.workspace import Workspace
from longpan.web.app import create_app
from tests.cases.security_lake import (
    APACHE,
    APACHE_CVE,
    BANK,
    BROKER,
    C2_DOMAIN,
    FORTIGATE,
    FORTIGATE_CVES,
    FORTIOS_FIXED,
    SECURITY_TYPES,
    TITLES,
    build_security_lake,
    deliver_rescan,
    needs_real_feeds,
)
from tests.conftest import make_workspace
from tests.web.conftest import PASSWORD, csrf, login

pytestmark = needs_real_feeds
USERS = (
    ("sup", "supervisor", None),
    ("sup2", "supervisor", None),
    ("bank_it", "enterprise", BANK[0]),
    ("broker_it", "enterprise", BROKER[0]),
)
ITEM = re.compile(r'id="item-(\d+)" data-testid="item" data-subject="([^"]+)" data-type="([^"]+)"')
EN_TITLES = {
    "vulnerable_asset": "Vulnerable asset",
    "ioc_hit": "Threat indicator hit",
    "threat_warning": "APT threat warning",
}


@pytest.fixture
def sec_ws(tmp_path: Path, database_url: str) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path / "home", database_url)
    build_security_lake(ws, tmp_path / "delivery")
    with ws.sessions() as session, session.begin():
        for username, role, org in USERS:
            create_user(session, username=username, role=role, password=PASSWORD,
                        actor="test", org_uscc=org, clock=ws.clock)  # fmt: skip
    yield ws
    ws.close()


@pytest.fixture
def client(sec_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace=sec_ws), base_url="http://testserver") as test_client:
        yield test_client


def _post(client: TestClient, page: str, action: str, data: dict[str, Any], **kw: Any) -> Any:
    token = csrf(client, page)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False, **kw)


def _switch(client: TestClient, username: str) -> None:
    client.cookies.clear()
    login(client, username)


def test_security_batch_inbox_answers_and_dashboard(
    client: TestClient, sec_ws: Workspace, tmp_path: Path
) -> None:
    batch_url = _build_approve_issue(client)
    _switch(client, "bank_it")
    notice_url, items = _read_notice_and_documents(client)
    deliver_rescan(sec_ws, tmp_path / "rescan", FORTIOS_FIXED)  # the bank upgraded FortiOS
    _answer_and_verify(client, notice_url, items)
    _switch(client, "broker_it")
    assert client.get(notice_url).status_code == 404  # another unit's notice: not found
    assert client.get("/inbox").text.count('href="/notices/') == 1
    _switch(client, "sup")
    assert 'data-testid="batch-status">已下发' in client.get(batch_url).text
    _dashboard_by_type(client)
    _switch(client, "bank_it")
    _enterprise_dashboard(client)


def _build_approve_issue(client: TestClient) -> str:
    """sup builds the batch from the type filter; sup2 approves (four-eyes); sup issues."""
    query = "&".join(f"type={t}" for t in SECURITY_TYPES)
    login(client, "sup")
    page = client.get(f"/batches/new?{query}")
    assert "共 6 条线索，涉及 2 家单位；2 条无法通报；0 条已在通报中" in page.text
    assert "无责任单位" in page.text and f"indicator:{C2_DOMAIN}" in page.text
    form = {
        "title": "2025年第1批网络安全威胁通报",
        "document_number": "苏通信安〔2025〕1号",
        "deadline_days": "10",
        "issuing_office": "江苏省通信管理局",
        "type": list(SECURITY_TYPES),
    }
    created = _post(client, f"/batches/new?{query}", "/batches", form)
    assert created.status_code == 303, created.text
    batch_url = created.headers["location"].split("?")[0]
    assert _post(client, batch_url, f"{batch_url}/approve", {}).status_code == 403
    _switch(client, "sup2")
    assert _post(client, batch_url, f"{batch_url}/approve", {}).status_code == 303
    _switch(client, "sup")
    assert _post(client, batch_url, f"{batch_url}/issue", {}).status_code == 303
    return str(batch_url)


def _read_notice_and_documents(client: TestClient) -> tuple[str, dict[tuple[str, str], int]]:
    """The bank's one notice from its inbox: five items, both CVEs of one service."""
    inbox = client.get("/inbox").text
    [notice_url] = re.findall(r'href="(/notices/\d+)"', inbox)
    page = client.get(notice_url).text
    found = ITEM.findall(page)
    assert len(found) == 5 and [s for _i, s, _t in found].count(FORTIGATE) == 2
    for needle in (TITLES["vulnerable_asset"], TITLES["ioc_hit"], APACHE_CVE, *FORTIGATE_CVES):
        assert needle in page, needle
    pdf = re.search(r'href="(/attachments/\d+)" download data-testid="attachment-notice_pdf"', page)
    xlsx = re.search(r'href="(/attachments/\d+)" download data-testid="attachment-findings_x', page)
    assert pdf and xlsx
    assert client.get(pdf.group(1)).content.startswith(b"%PDF-")
    sheet = load_workbook(io.BytesIO(client.get(xlsx.group(1)).content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert sorted(r[4] for r in rows) == sorted(s for _i, s, _t in found)
    vulns = {(s, _cve_on_page(page, i)): int(i) for i, s, t in found if t == "vulnerable_asset"}
    return notice_url, vulns


def _cve_on_page(page: str, item_id: str) -> str:
    """The CVE an item of the notice page is about (its evidence summary names it)."""
    start = page.index(f'id="item-{item_id}"')
    found = re.search(r"CVE-\d{4}-\d+", page[start:])
    assert found
    return found.group(0)


def _answer_and_verify(
    client: TestClient, notice_url: str, items: dict[tuple[str, str], int]
) -> None:
    """Rectified with an evidence file → verified gone; Apache unchanged → reopened."""
    fixed = _post(
        client,
        notice_url,
        f"/items/{items[(FORTIGATE, FORTIGATE_CVES[0])]}/answers",
        {"kind": "rectified", "text": f"已升级至 FortiOS {FORTIOS_FIXED}"},
        files={"files": ("升级记录.txt", f"FortiOS → {FORTIOS_FIXED}\n".encode(), "text/plain")},
    )
    assert fixed.status_code == 303 and "done=gone" in fixed.headers["location"]
    unchanged = _post(
        client,
        notice_url,
        f"/items/{items[(APACHE, APACHE_CVE)]}/answers",
        {"kind": "rectified", "text": "已加固配置"},
    )
    assert "done=still_present" in unchanged.headers["location"]
    page = client.get(notice_url).text
    assert 'data-testid="verification-gone"' in page
    assert 'data-testid="verification-still_present"' in page
    assert "升级记录.txt" in page  # the evidence file is listed under the answer


def _series(data: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {s["type"]: (s["name"], sum(s["data"])) for s in data["over_time"]["series"]}


def _dashboard_by_type(client: TestClient) -> None:
    data = client.get("/api/dashboard").json()
    assert _series(data) == {
        "vulnerable_asset": (TITLES["vulnerable_asset"], 3),
        "ioc_hit": (TITLES["ioc_hit"], 3),
        "threat_warning": (TITLES["threat_warning"], 2),
    }
    assert (data["status"]["open"], data["status"]["closed"]) == (7, 1)
    loop = {r["type"]: r for r in data["loop"]["by_type"]}
    assert (loop["vulnerable_asset"]["title"], loop["vulnerable_asset"]["closed"]) == (
        TITLES["vulnerable_asset"],
        1,
    )
    assert (loop["ioc_hit"]["findings_notified"], loop["ioc_hit"]["closed"]) == (3, 0)
    page = client.get("/").text
    assert TITLES["vulnerable_asset"] in page and TITLES["ioc_hit"] in page  # loop table
    embedded = re.search(r'id="dashboard-data">(.*?)</script>', page, re.S)
    assert embedded and _series(json.loads(embedded.group(1))) == _series(data)
    client.cookies.set("longpan_lang", "en")
    english = _series(client.get("/api/dashboard").json())
    assert {t: name for t, (name, _n) in english.items()} == EN_TITLES
    client.cookies.delete("longpan_lang")


def _enterprise_dashboard(client: TestClient) -> None:
    """The bank sees its own findings and loop row only (no regulator-wide warning)."""
    data = client.get("/api/dashboard").json()
    assert _series(data) == {
        "vulnerable_asset": (TITLES["vulnerable_asset"], 3),
        "ioc_hit": (TITLES["ioc_hit"], 2),
    }
    overall = data["loop"]["overall"]
    assert (overall["uscc"], overall["findings_notified"], overall["closed"]) == (BANK[0], 5, 1)
