"""What a lake file's Parquet footer tells without reading its rows: row-group statistics.

Reading the footers of a snapshot takes milliseconds where a scan of a province's logs
takes seconds; the answers are the same on every engine.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

UNKNOWN = object()  # a column_max the statistics cannot tell


def column_max(paths: list[Path], column: str) -> datetime | object | None:
    """The largest value of a top-level timestamp ``column`` by the row-group statistics
    of ``paths``; None when it has no value, UNKNOWN when a row group with values has
    no statistics."""
    latest: datetime | None = None
    for path in paths:
        meta = pq.read_metadata(path)
        names = [meta.schema.column(i).path for i in range(meta.num_columns)]
        if column not in names:
            return UNKNOWN
        for group in (meta.row_group(i) for i in range(meta.num_row_groups)):
            stats = group.column(names.index(column)).statistics
            if stats is not None and stats.null_count == group.num_rows:
                continue  # no value in this group (or no rows)
            if stats is None or not stats.has_min_max or not isinstance(stats.max, datetime):
                return UNKNOWN
            latest = max(latest, stats.max) if latest else stats.max
    return latest
