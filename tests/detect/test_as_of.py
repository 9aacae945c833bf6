"""The data's as-of time comes from the Parquet footers, or from the engine without them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from longpan.core.clock import as_utc
from longpan.detect.runner import data_as_of
from longpan.resources.ingest import ingest_folder
from longpan.store.datasets import DATASETS
from longpan.store.engine import AnalyticsEngine
from longpan.store.statistics import UNKNOWN, column_max
from tests.conftest import EXAMPLE, make_workspace


def _scanned(engine: AnalyticsEngine) -> dict[str, datetime]:
    """Each observation dataset's latest observation, by a query on the engine."""
    latest = {}
    for d in DATASETS.values():
        if d.observed_at and engine.lake.current(d.name) is not None:
            value = engine.scalar(engine.table(d.name)[d.observed_at].max())
            if value is not None and value == value:  # not NaT
                value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
                latest[d.name] = as_utc(value)
    return latest


def _write(path: Path, values: list[datetime | None], *, statistics: bool = True) -> Path:
    table = pa.table({"observed_at": pa.array(values, pa.timestamp("us", tz="UTC"))})
    pq.write_table(table, path, row_group_size=2, write_statistics=statistics)
    return path


def test_column_max_reads_the_row_group_statistics(tmp_path: Path) -> None:
    early, late = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 12, 31, 8, tzinfo=UTC)
    files = [
        _write(tmp_path / "a.parquet", [early, None, late, early]),
        _write(tmp_path / "b.parquet", [None, None, early]),
    ]
    assert as_utc(column_max(files, "observed_at")) == late  # type: ignore[arg-type]
    assert column_max([_write(tmp_path / "n.parquet", [None, None])], "observed_at") is None
    assert column_max([], "observed_at") is None
    bare = _write(tmp_path / "bare.parquet", [early, late], statistics=False)
    assert column_max([*files, bare], "observed_at") is UNKNOWN
    assert column_max(files, "seen_at") is UNKNOWN  # no such column: ask the engine


def test_as_of_is_the_latest_observation_on_every_engine(engine_name: str, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, EXAMPLE)
    engine = ws.analytics(engine_name)
    scanned = _scanned(engine)
    assert len(scanned) >= 3  # the example's crawls, WHOIS, passive DNS and logs
    assert data_as_of(engine) == max(scanned.values())
    ws.close()


def test_files_without_statistics_are_asked_of_the_engine(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, EXAMPLE)
    engine = ws.analytics("duckdb")
    scanned = _scanned(engine)
    newest = max(scanned, key=lambda name: scanned[name])
    for path in ws.lake.files(newest):  # rewrite the newest dataset without statistics
        pq.write_table(pq.read_table(path), path, write_statistics=False)
    assert column_max(ws.lake.files(newest), DATASETS[newest].observed_at or "") is UNKNOWN
    assert data_as_of(engine) == scanned[newest]
    ws.close()
