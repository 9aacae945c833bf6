"""Run a Python parser once per distinct value of a batch column, not once per row.

Identifier columns repeat a lot (统一社会信用代码, ICP numbers, provinces, footers), so
the exact Python parsers stay affordable when they run per distinct value. Results are
kept in a bounded cache shared by the batches of a run: it is cleared when it grows past
``LIMIT`` entries, so memory stays bounded whatever the number of distinct values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core.errors import IdentifierError

Mask = npt.NDArray[np.bool_]
LIMIT = 1 << 17


class _Fail:
    """The marker of a value the parser refused (IdentifierError or ValueError)."""


FAIL = _Fail()
_cache: dict[tuple[Callable[[Any], Any], Any], Any] = {}


def freeze(value: Any) -> Any:
    """A hashable key that tells apart values a parser may treat differently.

    Strings are their own key. Other values are keyed by type and ``repr``, so that
    ``1`` and ``True``, ``Decimal('1.0')`` and ``Decimal('1.00')``, or one instant in two
    time zones never share a cache entry. Parquet lists come as Python lists.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return (type(value).__name__, *map(freeze, value))
    return (type(value).__name__, repr(value))


def memo(fn: Callable[[Any], Any], value: Any) -> Any:
    """``fn(value)``, or FAIL if it raised IdentifierError / ValueError (other errors pass)."""
    key = (fn, freeze(value))
    found = _cache.get(key, _cache)
    if found is not _cache:
        return found
    try:
        result = fn(value)
    except (IdentifierError, ValueError):
        result = FAIL
    if len(_cache) >= LIMIT:
        _cache.clear()
    _cache[key] = result
    return result


def map_unique(
    column: pa.Array, fn: Callable[[Any], Any], out_type: pa.DataType
) -> tuple[pa.Array, Mask]:
    """``fn`` over every cell via its distinct values: (results, cells that failed).

    ``column`` must hold no nulls. Failed cells get a null result.
    """
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    try:
        encoded = column.dictionary_encode()
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return _map_each(column.to_pylist(), fn, out_type)
    results = [memo(fn, value) for value in encoded.dictionary.to_pylist()]
    failed = np.fromiter((r is FAIL for r in results), dtype=np.bool_, count=len(results))
    values = pa.array([None if r is FAIL else r for r in results], type=out_type)
    indices = encoded.indices
    return values.take(indices), failed[indices.to_numpy(zero_copy_only=False)]


def scatter(values: pa.Array, where: Mask, replacements: pa.Array) -> pa.Array:
    """``values`` with the cells at ``where`` replaced by ``replacements``, in order.

    Like ``pyarrow.compute.replace_with_mask``, for every type (lists included).
    """
    if not where.any():
        return values
    index = np.where(where, np.cumsum(where) - 1, 0)
    return pc.if_else(pa.array(where), replacements.take(pa.array(index)), values)


def _map_each(
    cells: list[Any], fn: Callable[[Any], Any], out_type: pa.DataType
) -> tuple[pa.Array, Mask]:
    results = [memo(fn, value) for value in cells]
    failed = np.fromiter((r is FAIL for r in results), dtype=np.bool_, count=len(results))
    return pa.array([None if r is FAIL else r for r in results], type=out_type), failed
