"""The closed loop in a real browser (the issue's acceptance scenario):

an analyst builds a batch from the findings page, a supervisor approves it, the analyst
issues it; the enterprise user of 南京云擎 signs in, sees only its own notice, downloads
the PDF, answers both findings as rectified — one whose registry record was fixed by a
new delivery (closed by verification) and one that was not (reopened, both results
shown); the dashboard's closed-loop figures change accordingly. Screenshots of the main
pages go to docs/screenshots/.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from longpan.resources.ingest import ingest_folder
from tests.e2e.conftest import ORG_A, PASSWORD, SCREENSHOTS, VIEWPORT, Site

# 苏ICP备16078901号's subject (南京鼎新) is 注销 in the registry: fixed by a new delivery.
FIXED, NOT_FIXED = "苏ICP备16078901号", "zhangweiblog.net"
DISSOLVED_ENTITY = "91320104MA1M8C0L7D"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _page(browser: Any, site: Site, username: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT, base_url=site.url, accept_downloads=True)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    return page


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _fix_registry(folder: Path) -> None:
    """The registry's new delivery: the dissolved subject is in business again (存续)."""
    path = folder / "entities.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["uscc"] == DISSOLVED_ENTITY:
            row["status"] = "存续"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _closure_figures(page: Any) -> tuple[str, str]:
    page.goto("/")
    return (
        page.inner_text("[data-testid=figure-closed]").strip(),
        page.inner_text("[data-testid=figure-closure-rate]").strip(),
    )


def _build_batch(analyst: Any) -> str:
    analyst.goto(f"/findings?org={ORG_A}&status=open")
    _shot(analyst, "findings")
    for subject, type_title in ((FIXED, "主体失效"), (NOT_FIXED, "域名转移境外")):
        row = analyst.locator("table.data tbody tr", has_text=subject).filter(has_text=type_title)
        row.locator("input.row-select").check()
    analyst.click("#bulk-batch")
    analyst.wait_for_url(re.compile(r"/batches/new\?"))
    assert "2" in analyst.inner_text("[data-testid=preview-summary]")
    _shot(analyst, "batch-new")
    analyst.fill("#b-title", "2024年第5批网络安全通报")
    analyst.fill("#b-number", "苏通信安〔2024〕5号")
    analyst.fill("#b-days", "10")
    analyst.click("#create-batch button[type=submit]")
    analyst.wait_for_url(re.compile(r"/batches/\d+\?done=created"))
    assert analyst.inner_text("[data-testid=batch-status]") == "草稿"
    return str(analyst.url).split("?")[0]


def _answer_rectified(page: Any, subject: str, text: str, evidence: Path | None) -> str:
    item = page.locator("article[data-testid=item]", has=page.locator(f"text={subject}"))
    form = item.locator("form[data-testid^=answer-form]")
    form.locator("input[value=rectified]").check()
    form.locator("textarea[name=text]").fill(text)
    if evidence:
        form.locator("input[type=file]").set_input_files(str(evidence))
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"done="))
    return str(page.url)


def test_the_closed_loop_in_the_browser(browser: Any, site: Site, tmp_path: Path) -> None:
    supervisor = _page(browser, site, "supervisor")
    assert _closure_figures(supervisor) == ("0", "—")

    analyst = _page(browser, site, "analyst")
    batch_url = _build_batch(analyst)
    analyst.goto(f"/subjects/{NOT_FIXED}")
    _shot(analyst, "subject")

    supervisor.goto(batch_url)
    supervisor.click("#approve")
    supervisor.wait_for_url(re.compile(r"done=approved"))
    analyst.goto(batch_url)
    analyst.click("#issue")
    analyst.wait_for_url(re.compile(r"done=issued"))
    assert analyst.inner_text("[data-testid=batch-status]") == "已下发"
    _shot(analyst, "batch")
    before = _closure_figures(supervisor)
    assert before == ("0", "0%")

    enterprise = _page(browser, site, "ent_a")
    enterprise.goto("/inbox")
    notices = enterprise.locator("table.data tbody tr")
    assert notices.count() == 1 and "南京云擎" in notices.first.inner_text()
    _shot(enterprise, "inbox")
    notices.first.locator("a").first.click()
    assert "南京云擎" in enterprise.inner_text("[data-testid=notice-org]")
    with enterprise.expect_download() as download:
        enterprise.click("[data-testid=attachment-notice_pdf]")
    pdf = tmp_path / "notice.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    _shot(enterprise, "notice")

    _fix_registry(site.province)
    ingest_folder(site.ws, site.province)  # the new delivery only fixes FIXED's record
    evidence = tmp_path / "证明.png"
    evidence.write_bytes(PNG)
    closed = _answer_rectified(enterprise, FIXED, "主体已恢复存续，见营业执照", evidence)
    assert "done=gone" in closed
    reopened = _answer_rectified(enterprise, NOT_FIXED, "网站已迁回境内", None)
    assert "done=still_present" in reopened
    items = {
        a.get_attribute("data-subject"): a.get_attribute("data-status")
        for a in enterprise.locator("article[data-testid=item]").all()
    }
    assert items == {FIXED: "closed", NOT_FIXED: "reopened"}
    shown = enterprise.locator("[data-testid=verification-still_present]")
    assert shown.locator(".side-by-side section").count() == 2  # before | after
    enterprise.locator(f"#item-{_item_id(enterprise, NOT_FIXED)}").scroll_into_view_if_needed()
    _shot(enterprise, "verification")

    assert _closure_figures(supervisor) == ("1", "50%")
    _shot(supervisor, "dashboard")
    admin = _page(browser, site, "admin")
    for path, name in (("/audit", "audit-log"), ("/users", "users")):
        admin.goto(path)
        _shot(admin, name)
    admin.goto("/audit")
    assert "verification.finished" in admin.content()


def _item_id(page: Any, subject: str) -> str:
    article = page.locator(f"article[data-subject='{subject}']")
    return str(article.get_attribute("id")).removeprefix("item-")


def test_another_organisation_sees_none_of_it(browser: Any, site: Site) -> None:
    """Runs after the scenario: 苏州星桥's user has no notice and cannot open A's."""
    other = _page(browser, site, "ent_b")
    other.goto("/inbox")
    assert "南京云擎" not in other.content()
    response = other.goto("/notices/1")
    assert response is not None and response.status == 404
    assert "页面不存在" in other.content()
