"""Shared helpers of the vulnerability tests: real feeds from ../shared, assets by ingest."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from longpan.resources.ingest import ingest_folder
from longpan.store.datasets import ASSETS
from longpan.store.workspace import Workspace
from tests.conftest import SHARED

NVD = SHARED / "data" / "nvd"
KEV = SHARED / "data" / "kev" / "known_exploited_vulnerabilities.json"
ORG = "91320100134756233B"  # a made-up key unit (valid check character)
COLUMNS = ASSETS.exchange_columns

needs_shared = pytest.mark.skipif(
    not (NVD.is_dir() and KEV.is_file()),
    reason="../shared/data/nvd and ../shared/data/kev (real NVD/KEV samples) are absent",
)


def asset(ip: str, port: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: "" for c in COLUMNS}
    row.update(org_uscc=ORG, ip=ip, port=port, protocol="tcp", observed_at="2025-01-01T00:00:00Z")
    row.update(fields)
    return row


def write_assets(folder: Path, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "assets.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def ingest_assets(ws: Workspace, folder: Path, rows: list[dict[str, Any]]) -> None:
    ingest_folder(ws, write_assets(folder, rows))
