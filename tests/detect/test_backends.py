"""The same findings on SQLite and PostgreSQL, and on the DuckDB and Spark engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from tests.conftest import EXAMPLE, make_workspace

VOLATILE = ("first_seen", "last_seen")


def _stable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in records]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Findings on the default stack (SQLite + DuckDB)."""
    ws = make_workspace(tmp_path_factory.mktemp("reference"))
    ingest_folder(ws, EXAMPLE)
    run_detection(ws, engine="duckdb")
    with ws.sessions() as session:
        records = _stable(list_findings(session))
    ws.close()
    assert records, "the example province must produce findings"
    return records


def test_identical_findings_on_every_backend_and_engine(
    tmp_path: Path, database_url: str, engine_name: str, reference: list[dict[str, Any]]
) -> None:
    ws = make_workspace(tmp_path / "home", database_url)
    ingest_folder(ws, EXAMPLE)
    result = run_detection(ws, engine=engine_name)
    assert result.status == "succeeded", result.errors
    assert result.engine == engine_name
    with ws.sessions() as session:
        assert _stable(list_findings(session)) == reference
    ws.close()


@pytest.mark.parametrize("workers", [1, 3])
def test_detectors_side_by_side_find_what_they_find_one_by_one(
    tmp_path: Path, workers: int, reference: list[dict[str, Any]]
) -> None:
    ws = make_workspace(tmp_path / "home", detect_workers=workers)  # the reference used 2
    ingest_folder(ws, EXAMPLE)
    result = run_detection(ws, engine="duckdb")
    assert result.status == "succeeded", result.errors
    assert list(result.counts) == sorted(result.counts)  # reported in the detectors' order
    with ws.sessions() as session:
        assert _stable(list_findings(session)) == reference
    ws.close()
