"""Write a generated province as an exchange-format folder.

CSV (UTF-8, lists joined with ';') for the small scales, Parquet above. Files are
byte-identical for the same seed and generator version: rows are generated in a fixed
order and no write depends on the clock.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def _for_csv(table: pa.Table) -> pa.Table:
    """Lists as ';'-joined strings, timestamps and dates in ISO 8601."""
    columns = []
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_list(col.type):
            col = pc.binary_join(col, ";")
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S")
        elif pa.types.is_date(col.type):
            col = pc.strftime(col, format="%Y-%m-%d")
        columns.append(col)
    return pa.table(dict(zip(table.column_names, columns, strict=True)))


def write_table(folder: Path, name: str, parts: Iterable[pa.Table], parquet: bool) -> int:
    """Write one table from one or more parts (streamed); returns the number of rows."""
    path = folder / f"{name}.{'parquet' if parquet else 'csv'}"
    return _write_parquet(path, parts) if parquet else _write_csv(path, parts)


def _write_parquet(path: Path, parts: Iterable[pa.Table]) -> int:
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for part in parts:
            writer = writer or pq.ParquetWriter(path, part.schema, compression="zstd")
            writer.write_table(part, row_group_size=1_000_000)
            rows += part.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def _write_csv(path: Path, parts: Iterable[pa.Table]) -> int:
    rows = 0
    with open(path, "wb") as out:
        for part in parts:
            options = pacsv.WriteOptions(include_header=rows == 0, quoting_style="needed")
            pacsv.write_csv(_for_csv(part), out, write_options=options)
            rows += part.num_rows
    return rows


def write_rows(path: Path, header: list[str], rows: Iterable[tuple[str, ...]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8"
    )
