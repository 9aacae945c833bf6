"""Browser tests: the real app under uvicorn on 127.0.0.1 (an ephemeral port, in a
thread of the test process), driven by Python Playwright with Debian's Chromium.

The example province is copied, ingested and detected into a temporary home; the loop's
people are created with real passwords. The server's clock starts on 2025-03-03 (a
Monday; chinese_calendar covers it) and runs at real speed, so deadlines are the same on
every run. Never `playwright install`: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from longpan.accounts.users import create_user
from longpan.core.settings import load_settings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import EXAMPLE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "e2e-Password-2025"
ORG_A = "91320115MA1N4Q7K0N"  # 南京云擎: two real findings in the example province
ORG_B = "91320505MA1MT2H35C"  # 苏州星桥: one
# The committed screenshots are rewritten only on request (UPDATE_SCREENSHOTS=1 make test),
# so a test run leaves the tree clean; otherwise they go to a temporary folder.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "longpan-e2e-screenshots"
)
VIEWPORT = {"width": 1280, "height": 800}
USERS = {
    "admin": ("admin", None),
    "analyst": ("analyst", None),
    "supervisor": ("supervisor", None),
    "auditor": ("auditor", None),
    "ent_a": ("enterprise", ORG_A),
    "ent_b": ("enterprise", ORG_B),
}


class ShiftedClock:
    """Real time, shifted to start on a fixed day (deterministic deadlines)."""

    def __init__(self, start: datetime = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)) -> None:
        self.offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Site:
    url: str
    ws: Workspace
    province: Path  # the writable copy of the example province


def _prepare(home: Path, province: Path) -> Workspace:
    shutil.copytree(EXAMPLE, province)
    ws = Workspace(load_settings(home=home), clock=ShiftedClock())
    ws.init()
    ingest_folder(ws, province)
    result = run_detection(ws)
    assert result.status == "succeeded", result.errors
    with ws.sessions() as session, session.begin():
        for username, (role, org) in USERS.items():
            create_user(
                session,
                username=username,
                role=role,
                password=PASSWORD,
                actor="e2e",
                org_uscc=org,
                clock=ws.clock,
            )
    return ws


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from longpan.web.app import create_app

    root = tmp_path_factory.mktemp("e2e")
    ws = _prepare(root / "home", root / "province")
    config = uvicorn.Config(create_app(workspace=ws), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Site(f"http://127.0.0.1:{port}", ws, root / "province")
    server.should_exit = True
    thread.join(timeout=10)
    ws.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed; run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
