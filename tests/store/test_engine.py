"""The analytics engines' configuration."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest

from longpan.core.errors import ConfigError
from longpan.core.settings import load_settings
from longpan.resources.ingest import ingest_folder
from longpan.store.engine import SPARK_DEFAULTS
from tests.conftest import EXAMPLE, make_workspace, spark_available


def test_spark_conf_is_read_as_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGPAN_SPARK_CONF", '{"spark.sql.shuffle.partitions": "64"}')
    assert load_settings().spark_conf == {"spark.sql.shuffle.partitions": "64"}
    monkeypatch.setenv("LONGPAN_SPARK_CONF", "shuffle=64")
    with pytest.raises(ConfigError, match="LONGPAN_SPARK_CONF"):
        load_settings()


@pytest.mark.spark
def test_spark_conf_overrides_the_engine_defaults(tmp_path: Path) -> None:
    if not spark_available():
        pytest.skip("pyspark not installed: pip install 'longpan[spark]'")
    ws = make_workspace(tmp_path, spark_conf={"spark.sql.shuffle.partitions": "7"})
    try:
        session = ws.analytics("spark").backend._session
        assert session.conf.get("spark.sql.shuffle.partitions") == "7"
        assert session.conf.get("spark.sql.session.timeZone") == "UTC"  # defaults kept
    finally:  # one JVM per process: give later tests the default back
        session.conf.set(
            "spark.sql.shuffle.partitions", SPARK_DEFAULTS["spark.sql.shuffle.partitions"]
        )
        ws.close()


def test_a_snapshot_of_several_files_is_read_whole(tmp_path: Path, engine_name: str) -> None:
    """A log snapshot after a second delivery (and a big delivery sorted in runs) has
    several files; every engine reads them all."""
    ws = make_workspace(tmp_path / "home")
    try:
        for n, rows in enumerate(((0, 40), (30, 60))):
            folder = tmp_path / f"delivery{n}"
            folder.mkdir()
            lines = [
                f"www.s{i}.com,A,10.0.0.{i % 250},2024-01-0{n + 1}T00:00:00Z,"
                f"2024-02-01T00:00:00Z,{n + 1}"
                for i in range(*rows)
            ]
            header = "fqdn,rrtype,value,first_seen,last_seen,count"
            (folder / "dns_observations.csv").write_text(
                "\n".join([header, *lines]) + "\n", "utf-8"
            )
            ingest_folder(ws, folder)
        assert len(ws.lake.files("dns_observations")) == 2
        table = ws.analytics(engine_name).table("dns_observations")
        counts = ws.analytics(engine_name).rows(table.group_by("count").agg(n=table.count()))
        assert sorted((r["count"], r["n"]) for r in counts) == [(1, 30), (2, 30)]
    finally:
        ws.close()


def test_forks_share_kept_tables_built_once(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ingest_folder(ws, EXAMPLE)
    root = ws.analytics("duckdb")
    services = root.table("icp_services")
    built: list[str] = []
    ready = threading.Barrier(4)

    def keep(_: int) -> int:
        fork = root.fork()
        ready.wait()  # four threads ask at once
        table = fork.memtable("slow", lambda: built.append("x") or _slow_table())
        own = fork.table("icp_services")  # a fork reads the lake on its own connection
        kept = fork.kept("active", own.filter(own.status == "active"))
        rows = fork.execute(kept.count()).column(0)[0].as_py() + fork.execute(table).num_rows
        fork.close()
        return int(rows)

    with ThreadPoolExecutor(4) as pool:
        counts = set(pool.map(keep, range(4)))
    active = root.execute(services.filter(services.status == "active").count()).column(0)[0]
    assert counts == {active.as_py() + 3} and built == ["x"]
    assert root.execute(root.kept("active", services).count()).column(0)[0] == active
    ws.close()


def _slow_table() -> pa.Table:
    time.sleep(0.2)  # long enough for the other threads to arrive while it is built
    return pa.table({"n": [1, 2, 3]})
