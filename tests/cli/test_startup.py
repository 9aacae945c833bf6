"""``longpan`` starts fast: a command imports only what it runs (issue 4).

Measured by what a fresh interpreter has imported, not by the clock: ``longpan --help``
must not load the database, the lake engines, WeasyPrint, the synthetic generator's
dictionaries or the feeds' libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Third-party packages (top-level names) and Longpan layers only commands that use them load.
HEAVY = (
    "weasyprint",
    "openpyxl",
    "duckdb",
    "ibis",
    "pandas",
    "pyarrow",
    "sqlalchemy",
    "alembic",
    "argon2",
    "stix2",
    "taxii2client",
    "pyspark",
    "pypinyin",
    "uvicorn",
    "fastapi",
    "httpx",
)
HEAVY_LONGPAN = (
    "longpan.store",
    "longpan.resources",
    "longpan.detect",
    "longpan.compliance",
    "longpan.vuln",
    "longpan.threat",
    "longpan.cases",
    "longpan.metrics",
    "longpan.accounts",
    "longpan.synth",
)
CLI_MODULES = ("common", "cases", "data", "detection", "report", "serve", "threat", "users", "vuln")

PROBE = """
import json, sys
out = sys.argv[1]
{body}
json.dump(sorted(sys.modules), open(out, "w"))
"""


def _loaded(tmp_path: Path, body: str) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after running ``body``."""
    out = tmp_path / "modules.json"
    probe = PROBE.format(body=body)
    subprocess.run([sys.executable, "-c", probe, str(out)], check=True, capture_output=True)
    modules = json.loads(out.read_text())
    return [
        m
        for m in modules
        if m.split(".")[0] in HEAVY or any(m == p or m.startswith(p + ".") for p in HEAVY_LONGPAN)
    ]


def test_command_modules_import_only_the_cli(tmp_path: Path) -> None:
    body = "\n".join(f"import longpan.cli.{name}" for name in CLI_MODULES)
    assert _loaded(tmp_path, body) == []


def _help(*args: str) -> str:
    return f"""
from longpan.cli.app import main
sys.argv = ["longpan", *{list(args)!r}]
try:
    main()
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""


@pytest.mark.parametrize("args", [("--help",), ("detect", "--help"), ("batch", "--help")])
def test_help_imports_no_heavy_module(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert _loaded(tmp_path, _help(*args)) == []


def test_help_never_loads_weasyprint(tmp_path: Path) -> None:
    """WeasyPrint (≈ 1.3 s to import) only when a notice PDF is rendered."""
    body = _help("--help") + "\nimport longpan.cases.batches, longpan.cli.demo_loop"
    assert "weasyprint" not in _loaded(tmp_path, body)


def test_synth_help_names_every_scale() -> None:
    """The scales are named in ``longpan synth --help`` without importing the generator."""
    from typer.testing import CliRunner

    from longpan.cli.app import app
    from longpan.synth.model import SCALES

    result = CliRunner().invoke(app, ["synth", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    for name in SCALES:
        assert name in result.stdout
