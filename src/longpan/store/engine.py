"""Analytics engines: one Ibis connection over the lake, on DuckDB or on Spark.

Detectors write Ibis expressions once; ``AnalyticsEngine.table`` gives them the newest
snapshot of a dataset on whichever backend was chosen, and ``execute`` returns Arrow.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.expr.types.relations import CachedTable

from longpan.core.errors import ConfigError, UpstreamError
from longpan.core.extras import require
from longpan.store.datasets import get_dataset
from longpan.store.lake import Lake

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


class _Kept:
    """The tables an engine and its forks share (memtables, kept intermediates), each
    built once: a thread asking for one that another thread is building waits for it."""

    def __init__(self) -> None:
        self.tables: dict[str, ir.Table] = {}
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    def get(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        if key in self.tables:
            return self.tables[key]
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            if key not in self.tables:
                self.tables[key] = build()
        return self.tables[key]


class AnalyticsEngine:
    """An Ibis backend bound to one lake; tables are registered lazily, once each."""

    def __init__(
        self, name: EngineName, backend: Any, lake: Lake, kept: _Kept | None = None
    ) -> None:
        self.name = name
        self.backend = backend
        self.lake = lake
        self._tables: dict[tuple[str, str | None], ir.Table] = {}
        self._kept = kept or _Kept()
        self._forked = kept is not None

    def fork(self) -> AnalyticsEngine:
        """An engine for another thread, sharing this one's kept tables: on DuckDB a
        second connection to the same database (a DuckDB connection must not run two
        queries at once); on Spark this engine (Spark schedules its own parallelism)."""
        if self.name != "duckdb":
            return self
        backend = ibis.duckdb.from_connection(self.backend.con.cursor())
        return AnalyticsEngine(self.name, backend, self.lake, self._kept)

    def table(self, dataset_name: str) -> ir.Table:
        """The newest snapshot of ``dataset_name`` (an empty table if none yet)."""
        dataset = get_dataset(dataset_name)
        snap = self.lake.check_current(dataset)
        key = (dataset.name, snap.id if snap else None)
        if key not in self._tables:
            if snap is None:
                table = ibis.memtable(dataset.schema.empty_table())
            else:
                table = self.backend.read_parquet(self._source(dataset.name, snap.id))
            self._tables[key] = table
        return self._tables[key]

    def memtable(self, key: str, factory: Callable[[], pa.Table]) -> ir.Table:
        """An in-memory table built once per engine (reference data, lookup lists)."""
        return self._kept.get(key, lambda: ibis.memtable(factory()))

    def kept(self, key: str, expr: ir.Table) -> ir.Table:
        """``expr`` computed once per engine and kept for later queries: on DuckDB as an
        in-memory Arrow table; on Spark as a cached DataFrame, so that the rows stay in
        the executors instead of travelling to the driver and back."""

        def build() -> ir.Table:
            if self.name == "spark":
                return expr.cache()
            return self.materialised(expr)[0]

        return self._kept.get(key, build)

    def materialised(self, expr: ir.Table) -> tuple[ir.Table, pa.Table]:
        """``expr`` run now: an in-memory table of its rows (typed as ``expr``, so later
        queries plan as before), and the rows."""
        rows = self.execute(expr).cast(expr.schema().to_pyarrow())
        return ibis.memtable(rows), rows

    def execute(self, expr: ir.Expr) -> pa.Table:
        """Run ``expr`` on this engine; any backend failure becomes an UpstreamError."""
        try:
            result = self.backend.to_pyarrow(expr)
        except Exception as exc:  # the backends raise many unrelated types
            raise UpstreamError(f"{self.name} engine failed: {exc}") from exc
        return result if isinstance(result, pa.Table) else pa.table({"value": [result]})

    def rows(self, expr: ir.Expr) -> list[dict[str, Any]]:
        """Run ``expr`` and return its rows as dicts."""
        result: list[dict[str, Any]] = self.execute(expr).to_pylist()
        return result

    def scalar(self, expr: ir.Scalar) -> Any:
        try:
            return self.backend.execute(expr)
        except Exception as exc:
            raise UpstreamError(f"{self.name} engine failed: {exc}") from exc

    def _source(self, name: str, snapshot_id: str) -> str | list[str]:
        """What the backend reads for a snapshot: its file, or all its files — a list for
        DuckDB, the snapshot's folder for Spark (whose reader takes one path or glob and
        would read a list's text as a pattern)."""
        paths = [str(p) for p in self.lake.files(name, snapshot_id)]
        if len(paths) == 1:
            return paths[0]
        if self.name == "spark":
            return str(self.lake.snapshot_dir(name, snapshot_id))
        return paths

    def close(self) -> None:
        """Release this engine; the engine it was forked from keeps the shared tables."""
        self._tables.clear()
        if self.name == "duckdb":
            self.backend.disconnect()
        if self._forked:
            return
        for kept in self._kept.tables.values():
            if isinstance(kept, CachedTable):  # Spark keeps it until released
                kept.release()
        self._kept.tables.clear()


def connect(
    name: str,
    lake: Lake,
    *,
    spark_master: str = "local[2]",
    spark_conf: Mapping[str, str] | None = None,
) -> AnalyticsEngine:
    """An engine by name: ``duckdb`` (embedded, default) or ``spark``."""
    if name == "duckdb":
        backend = ibis.duckdb.connect()
        backend.raw_sql("SET enable_progress_bar = false")  # no bars on stdout mid-JSON
        return AnalyticsEngine("duckdb", backend, lake)
    if name == "spark":
        session = spark_session(spark_master, spark_conf or {})
        return AnalyticsEngine("spark", ibis.pyspark.connect(session), lake)
    raise ConfigError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")


_spark_sessions: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
# Small-lake defaults; LONGPAN_SPARK_CONF overrides them (e.g. more shuffle partitions and
# driver memory for a province of hundreds of millions of rows).
SPARK_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(master: str, conf: Mapping[str, str] | None = None) -> Any:
    """A Spark session configured to stay local and quiet (one per process, master and
    extra properties ``conf``, which override SPARK_DEFAULTS)."""
    key = (master, tuple(sorted((conf or {}).items())))
    if key in _spark_sessions:
        return _spark_sessions[key]
    require("spark", "pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    from pyspark.sql import SparkSession

    warehouse = tempfile.mkdtemp(prefix="longpan-spark-")
    builder = SparkSession.builder.master(master).appName("longpan")
    properties = {**SPARK_DEFAULTS, "spark.sql.warehouse.dir": warehouse, **(conf or {})}
    for name, value in properties.items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    _spark_sessions[key] = session
    return session
