"""Write a generated province as an exchange-format folder.

CSV (UTF-8, lists joined with ';') for the small scales, Parquet above. Files are
byte-identical for the same seed and generator version: rows are generated in a fixed
order (shards one after the other) and no write depends on the clock.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

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


class TableSinks:
    """One file per table, kept open while a province is written part by part.

    xl's shards append to the same files one after the other. With ``uniform``, a
    column that is empty in some part (Arrow type null) is written as strings, the
    type it has wherever it has values, so that every part fits the file's schema.
    """

    def __init__(self, folder: Path, parquet: bool, uniform: bool = False) -> None:
        self.folder, self.parquet, self.uniform = folder, parquet, uniform
        self.rows: dict[str, int] = {}
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv: dict[str, BinaryIO] = {}

    def write(self, name: str, parts: Iterable[pa.Table]) -> None:
        """Append ``parts`` (streamed) to the table's file."""
        self.rows.setdefault(name, 0)
        for part in parts:
            table = _strings_for_nulls(part) if self.uniform else part
            if self.parquet:
                self._parquet_part(name, table)
            else:
                self._csv_part(name, table)
            self.rows[name] += part.num_rows

    def _parquet_part(self, name: str, part: pa.Table) -> None:
        writer = self._parquet.get(name)
        if writer is None:
            path = self.folder / f"{name}.parquet"
            writer = self._parquet[name] = pq.ParquetWriter(path, part.schema, compression="zstd")
        elif part.schema != writer.schema:
            part = part.cast(writer.schema)
        writer.write_table(part, row_group_size=1_000_000)

    def _csv_part(self, name: str, part: pa.Table) -> None:
        out = self._csv.get(name)
        first = out is None
        if out is None:
            out = self._csv[name] = open(self.folder / f"{name}.csv", "wb")  # noqa: SIM115
        options = pacsv.WriteOptions(include_header=first, quoting_style="needed")
        pacsv.write_csv(_for_csv(part), out, write_options=options)

    def close(self) -> None:
        for writer in self._parquet.values():
            writer.close()
        for out in self._csv.values():
            out.close()
        self._parquet, self._csv = {}, {}

    def __enter__(self) -> TableSinks:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _strings_for_nulls(table: pa.Table) -> pa.Table:
    nulls = [i for i, f in enumerate(table.schema) if pa.types.is_null(f.type)]
    for i in nulls:
        table = table.set_column(i, table.field(i).name, table.column(i).cast(pa.string()))
    return table


def write_rows(path: Path, header: list[str], rows: Iterable[tuple[str, ...]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8"
    )
