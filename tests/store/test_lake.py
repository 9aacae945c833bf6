"""The lake: declared schemas, snapshots, log merges, all-or-nothing commits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from longpan.core.errors import InputError
from longpan.store.datasets import DNS_OBSERVATIONS, ENTITIES
from longpan.store.lake import Column, Lake, PendingWrite, conform


def _entities(*rows: tuple[str, str]) -> pa.Table:
    return pa.table(
        {
            "uscc": [r[0] for r in rows],
            "name": ["n"] * len(rows),
            "kind": ["企业"] * len(rows),
            "province": ["江苏"] * len(rows),
            "city": [None] * len(rows),
            "status": [r[1] for r in rows],
            "status_date": pa.array([None] * len(rows), pa.date32()),
        }
    )


def _dns(*rows: tuple[str, str, int]) -> pa.Table:
    ts = datetime(2024, 1, 1)
    return pa.table(
        {
            "fqdn": [r[0] for r in rows],
            "rrtype": ["A"] * len(rows),
            "value": [r[1] for r in rows],
            "first_seen": [ts] * len(rows),
            "last_seen": [ts] * len(rows),
            "count": [r[2] for r in rows],
            "registered_domain": [r[0] for r in rows],
            "value_key": pa.array([None] * len(rows), pa.string()),
        }
    )


def test_state_snapshots_replace_and_keep_history(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.commit([PendingWrite(ENTITIES, _entities(("A", "存续"), ("B", "注销")), "h1", ["a.csv"])])
    lake.commit([PendingWrite(ENTITIES, _entities(("A", "吊销")), "h2", ["a.csv"])])
    assert [s.rows for s in lake.snapshots("entities")] == [2, 1]
    assert lake.read(ENTITIES).column("status").to_pylist() == ["吊销"]
    assert lake.has_source(ENTITIES, "h2") and not lake.has_source(ENTITIES, "h1")


def test_log_snapshots_accumulate_newer_rows_win(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.commit(
        [
            PendingWrite(
                DNS_OBSERVATIONS, _dns(("a.cn", "1.1.1.1", 1), ("b.cn", "2.2.2.2", 1)), "h1", []
            )
        ]
    )
    lake.commit([PendingWrite(DNS_OBSERVATIONS, _dns(("a.cn", "1.1.1.1", 5)), "h2", [])])
    rows = {(r["fqdn"], r["count"]) for r in lake.read(DNS_OBSERVATIONS).to_pylist()}
    assert rows == {("a.cn", 5), ("b.cn", 1)}
    assert lake.has_source(DNS_OBSERVATIONS, "h1")  # any earlier delivery counts for logs


def test_a_failing_commit_leaves_the_lake_as_it_was(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.commit([PendingWrite(ENTITIES, _entities(("A", "存续")), "h1", [])])
    before = (tmp_path / "_catalog.json").read_bytes()
    bad = _entities(("B", "存续")).drop_columns(["status"])
    with pytest.raises(InputError, match="missing columns status"):
        lake.commit(
            [
                PendingWrite(DNS_OBSERVATIONS, _dns(("x.cn", "1.1.1.1", 1)), "h2", []),
                PendingWrite(ENTITIES, bad, "h3", []),
            ]
        )
    assert (tmp_path / "_catalog.json").read_bytes() == before
    assert not (tmp_path / "dns_observations").exists() or not any(
        (tmp_path / "dns_observations").iterdir()
    )


def test_uncommit_takes_snapshots_back(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    first = lake.commit([PendingWrite(ENTITIES, _entities(("A", "存续")), "h1", [])])
    second = lake.commit([PendingWrite(ENTITIES, _entities(("B", "存续")), "h2", [])])
    lake.uncommit(second)
    assert lake.current("entities") == first["entities"]
    assert not lake.snapshot_dir("entities", second["entities"].id).exists()


def test_conform_checks_types_nulls_and_keys() -> None:
    with pytest.raises(InputError, match="duplicate key"):
        conform(ENTITIES, _entities(("A", "存续"), ("A", "注销")))
    with pytest.raises(InputError, match="column uscc has empty values"):
        conform(ENTITIES, _entities((None, "存续")))  # type: ignore[arg-type]
    extra = _entities(("A", "存续")).append_column("remark", pa.array([7]))
    conformed = conform(ENTITIES, extra)
    assert conformed.schema.field("remark").type == pa.string()  # extra columns kept
    assert conformed.column("remark").to_pylist() == ["7"]


def test_snapshots_of_an_older_schema_are_refused_and_rebuilt(tmp_path: Path) -> None:
    import dataclasses

    from longpan.core.errors import ConfigError
    from longpan.store.engine import connect

    lake = Lake(tmp_path)
    lake.commit([PendingWrite(ENTITIES, _entities(("A", "存续")), "h1", ["entities.csv"])])
    assert lake.has_source(ENTITIES, "h1")
    grown = dataclasses.replace(ENTITIES, columns=(*ENTITIES.columns, Column("extra", pa.string())))
    assert grown.fingerprint != ENTITIES.fingerprint
    assert not lake.has_source(grown, "h1")  # the same file may be ingested again
    with pytest.raises(ConfigError, match="older version"):
        lake.check_current(grown)
    engine = connect("duckdb", lake)
    assert engine.table("entities").count().execute() == 1  # current schema: fine
