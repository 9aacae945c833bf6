"""One column of a batch through its field: canonical values and the cells that are bad.

Three tiers, all giving what ``validate.check_row`` gives cell by cell: empty cells
(null, blank text, empty list) are 'no value'; the field's vectorised check accepts the
cells already canonical; the rest go to the field's Python parser once per distinct
value (``memo.map_unique``), which either canonicalises them or refuses them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.resources.exchange.columns import RawColumn, lengths, mask
from longpan.resources.exchange.memo import Mask, map_unique, scatter
from longpan.resources.exchange.tables import Field


def empty_cells(column: RawColumn) -> Mask:
    """Cells that hold no value, as ``parsers.is_empty`` decides."""
    empty = mask(column.raw.is_null())
    if column.text is not None:
        return empty | mask(pc.equal(column.text, ""))
    kind = column.raw.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        no_items: Mask = lengths(column.raw) == 0
        return empty | no_items
    return empty


def parse_field(field: Field, column: RawColumn, target: pa.DataType) -> tuple[pa.Array, Mask]:
    """(canonical values of every good cell, cells that are bad) of one field."""
    size = len(column.raw)
    empty = empty_cells(column)
    checked = field.fast(column) if field.fast is not None else None
    if checked is None:
        ok, values = np.zeros(size, np.bool_), pa.nulls(size, target)
    else:
        ok, values = checked[0], checked[1].cast(target)
    need = ~empty & ~ok
    bad = empty if field.required else np.zeros(size, np.bool_)
    if need.any():
        parsed, failed = map_unique(column.raw.filter(pa.array(need)), field.parse, target)
        values = scatter(values, need, parsed)
        bad = bad.copy()
        bad[need] = failed
    if empty.any() and not field.required:
        values = scatter(values, empty, _no_values(int(empty.sum()), target))
    return values, bad


def _no_values(count: int, target: pa.DataType) -> pa.Array:
    """What an empty optional cell becomes: an empty list for list columns, else null."""
    if pa.types.is_list(target):
        return pa.array([[]] * count, target)
    return pa.nulls(count, target)


def extra_values(column: RawColumn) -> pa.Array:
    """An extra column as the lake keeps it: the value as text, null when empty."""
    empty = empty_cells(column)
    if column.strings is not None:
        return pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), column.strings)
    result = pa.nulls(len(column.raw), pa.string())
    if empty.all():
        return result
    given = column.raw.filter(pa.array(~empty))
    if pa.types.is_integer(given.type):
        text = given.cast(pa.string())  # the same digits as str(int)
    else:
        text, _ = map_unique(given, str, pa.string())
    return scatter(result, ~empty, text)
