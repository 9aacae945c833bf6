"""Vectorised check of list cells: ';'-separated text (CSV) or Parquet lists of strings.

Items are split and trimmed like ``parsers.split_list``, checked with the item's fast
check, and the other items go to the item's Python parser once per distinct item. An
item that repeats after canonicalisation is dropped, the first one kept, as
``parsers.list_of`` does. A cell with a bad item is left to the cell's own parser.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.columns import WHITESPACE, Fast, FastCheck, RawColumn, mask
from longpan.resources.exchange.memo import Mask, map_unique, scatter

_SEP = "\x1f"


def list_of(item_fast: FastCheck, item_parse: p.Parser) -> FastCheck:
    def check(column: RawColumn) -> Fast | None:
        lists = _as_lists(column)
        return None if lists is None else _check_lists(lists, item_fast, item_parse)

    return check


def _as_lists(column: RawColumn) -> pa.ListArray | None:
    if column.strings is not None:
        return pc.split_pattern(column.strings, ";")
    kind = column.raw.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        return None
    if not (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)):
        return None
    return column.raw.cast(pa.list_(pa.string()))


def _check_lists(lists: pa.ListArray, item_fast: FastCheck, item_parse: p.Parser) -> Fast:
    rows = len(lists)
    items = pc.utf8_trim(lists.flatten(), WHITESPACE)
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    bad = np.zeros(rows, np.bool_)
    bad[parents[mask(items.is_null())]] = True  # str(None) is 'None': left to the parser
    keep = mask(pc.not_equal(items, ""))
    items, parents = items.filter(pa.array(keep)), parents[keep]
    values, failed = _check_items(items, item_fast, item_parse)
    bad[parents[failed]] = True
    first = _first_in_list(parents, values)
    values, parents = values.filter(pa.array(first)), parents[first]
    offsets = np.zeros(rows + 1, np.int32)
    np.cumsum(np.bincount(parents, minlength=rows), out=offsets[1:])
    return ~bad, pa.ListArray.from_arrays(pa.array(offsets), values.cast(pa.string()))


def _check_items(
    items: pa.Array, item_fast: FastCheck, item_parse: p.Parser
) -> tuple[pa.Array, Mask]:
    checked = item_fast(RawColumn(items))
    if checked is None:
        ok, values = np.zeros(len(items), np.bool_), pa.nulls(len(items), pa.string())
    else:
        ok, values = checked
    failed = np.zeros(len(items), np.bool_)
    if not ok.all():
        parsed, failed_need = map_unique(items.filter(pa.array(~ok)), item_parse, pa.string())
        values = scatter(values.cast(pa.string()), ~ok, parsed)
        failed[~ok] = failed_need
    return values, failed


def _first_in_list(parents: np.ndarray, values: pa.Array) -> Mask:
    """Items not seen before in the same list (compared canonically)."""
    keys = pc.binary_join_element_wise(
        pa.array(parents).cast(pa.string()), values.fill_null(""), _SEP
    )
    encoded = keys.dictionary_encode()
    if len(encoded.dictionary) == len(keys):
        return np.ones(len(keys), np.bool_)
    _, first = np.unique(encoded.indices.to_numpy(), return_index=True)
    result = np.zeros(len(keys), np.bool_)
    result[first] = True
    return result
