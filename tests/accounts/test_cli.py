"""`longpan user add|list` and `longpan serve` (a real uvicorn on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from longpan.cli.app import app
from longpan.core.settings import load_settings
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.conftest import EXAMPLE

runner = CliRunner()
USCC = "91320115MA1N4Q7K0N"  # 南京云擎数据科技有限公司 in the example organisations


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("LONGPAN_HOME", str(folder))
    return folder


def run(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=stdin)


def test_user_add_reads_the_password_from_stdin_and_lists(home: Path) -> None:
    ws = Workspace(load_settings(home=home))
    ws.init()
    ingest_folder(ws, EXAMPLE)  # organisations for the enterprise user
    ws.close()
    added = run(
        "user", "add", "--username", "auditor1", "--role", "auditor", stdin="auditor-password-1\n"
    )
    assert added.exit_code == 0, added.output
    ent = run(
        "user",
        "add",
        "--username",
        "ent1",
        "--role",
        "enterprise",
        "--org",
        USCC,
        "--email",
        "ops@example.cn",
        stdin="enterprise-pass-1\n",
    )
    assert ent.exit_code == 0, ent.output
    listed = json.loads(run("user", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["organisation_uscc"]) for u in listed] == [
        ("auditor1", "auditor", None),
        ("ent1", "enterprise", USCC),
    ]
    assert listed[1]["email"] == "ops@example.cn"
    table = run("user", "list").stdout
    assert "auditor1" in table and "ent1" in table


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--username", "x1user", "--role", "enterprise"], "long-password-1\n", "--org"),
        (
            ["--username", "x2user", "--role", "enterprise", "--org", "91320100MA1NOPE00"],
            "long-password-1\n",
            "不存在",
        ),
        (["--username", "x3user", "--role", "king"], "long-password-1\n", "未知角色"),
        (["--username", "x4user", "--role", "analyst"], "short\n", "至少 10"),
        (["--username", "x5user", "--role", "analyst"], "", "no password"),
    ],
)
def test_user_add_refuses_with_a_clear_message(
    home: Path, args: list[str], stdin: str, message: str
) -> None:
    result = run("user", "add", *args, stdin=stdin)
    assert result.exit_code == 2
    assert message in result.output
    assert json.loads(run("user", "list", "--json").stdout) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_migrates_and_serves_the_login_page(home: Path) -> None:
    port = _free_port()
    env = {**os.environ, "LONGPAN_HOME": str(home)}
    command = [sys.executable, "-m", "longpan.cli.app", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/login", server)
        assert response.status_code == 200 and "登录" in response.text
        assert response.headers["x-frame-options"] == "DENY"
        assert (home / "longpan.db").exists()  # migrated before serving
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            _out, err = server.communicate()
            pytest.fail(f"longpan serve exited: {err.decode(errors='replace')}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    pytest.fail("longpan serve did not answer within 60 s")
