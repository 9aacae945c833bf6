"""Vectorised cell checks: which cells of a batch are already valid, and their value.

Each check takes a batch column and returns ``(ok, values)``: ``ok`` marks the cells
whose canonical value is certainly ``values[i]``; the other cells go to the exact
Python parser of their field (``parsers.py``), once per distinct value. A check may
return None when the column's type is not one it knows (every cell then goes to the
parser). Checks are conservative: when in doubt a cell is not ok, never wrongly ok.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core.identifiers import icp
from longpan.resources.exchange.memo import Mask
from longpan.resources.exchange.timestamps import parse_dates, parse_timestamps

Fast = tuple[Mask, pa.Array]
FastCheck = Callable[["RawColumn"], "Fast | None"]

# Lowercase ASCII LDH labels ('_' allowed), at least two; no punycode (checked slowly).
_DOMAIN = r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$"
_NOT_DOMAIN = r"(?:^|\.)-|-(?:\.|$)|[^.]{64}|\.[0-9]+$|(?:^|\.)xn--"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
_INT = r"^-?[0-9]{1,18}$"
_ICP_HEAD = (
    rf"^[{''.join(sorted(icp.PROVINCES))}]ICP"
    r"(?:备(?:[0-9]{8}|(?:200[4-9]|20[1-9][0-9])[0-9]{6})|证[0-9]{6})号"
)
MAX_DOMAIN = 253


# Every character ``str.strip()`` removes, so that trimming matches Python (a test checks
# this against ``str.isspace`` over all of Unicode).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass
class RawColumn:
    """One column of a batch as read, with its trimmed text when it holds strings."""

    raw: pa.Array

    @cached_property
    def strings(self) -> pa.Array | None:
        column = self.raw
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        return column if pa.types.is_string(column.type) else None

    @cached_property
    def text(self) -> pa.Array | None:
        """Strings with surrounding whitespace removed, as ``str.strip()`` does."""
        return None if self.strings is None else pc.utf8_trim(self.strings, WHITESPACE)


def mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    """A boolean Arrow array as numpy, nulls counting as False."""
    filled = pc.fill_null(values, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.bool_)


def lengths(values: pa.Array) -> np.ndarray:
    """Byte lengths of strings, or lengths of lists, as int64 (0 for nulls)."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        found = pc.binary_length(values)
    else:
        found = pc.list_value_length(values)
    return np.asarray(found.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


def matches(strings: pa.Array, pattern: str) -> Mask:
    return mask(pc.match_substring_regex(strings, pattern))


def text(column: RawColumn) -> Fast | None:
    if column.text is None:
        return None
    return mask(column.text.is_valid()), column.text


def upper_text(column: RawColumn) -> Fast | None:
    """Uppercased text; only ASCII is done here (``str.upper`` may change lengths)."""
    if column.text is None:
        return None
    return mask(pc.string_is_ascii(column.text)), pc.ascii_upper(column.text)


def one_of(*allowed: str) -> FastCheck:
    value_set = pa.array(allowed, pa.string())

    def check(column: RawColumn) -> Fast | None:
        if column.text is None:
            return None
        return mask(pc.is_in(column.text, value_set=value_set)), column.text

    return check


def country(column: RawColumn) -> Fast | None:
    if column.text is None:
        return None
    return matches(column.text, r"^[A-Za-z]{2}$"), pc.ascii_upper(column.text)


def _integers(column: RawColumn) -> Fast | None:
    kind = column.raw.type
    if pa.types.is_integer(kind) and kind != pa.uint64():
        return mask(column.raw.is_valid()), column.raw.cast(pa.int64())
    if column.text is None:
        return None
    ok = matches(column.text, _INT)
    digits = pc.if_else(pa.array(ok), column.text, "0")
    return ok, digits.cast(pa.int64())


def _bounded(minimum: int | None) -> FastCheck:
    def check(column: RawColumn) -> Fast | None:
        found = _integers(column)
        if found is None or minimum is None:
            return found
        ok, values = found
        return ok & mask(pc.greater_equal(values, minimum)), values

    return check


integer = _bounded(None)
positive_int = _bounded(1)
non_negative_int = _bounded(0)


def iso_date(column: RawColumn) -> Fast | None:
    kind = column.raw.type
    if pa.types.is_date32(kind) or pa.types.is_date64(kind):
        return mask(column.raw.is_valid()), column.raw.cast(pa.date32())
    return None if column.text is None else parse_dates(column.text)


def iso_timestamp(column: RawColumn) -> Fast | None:
    kind = column.raw.type
    if pa.types.is_timestamp(kind) and kind.unit != "ns":
        return mask(column.raw.is_valid()), _naive_utc(column.raw)
    if pa.types.is_date32(kind):
        return mask(column.raw.is_valid()), column.raw.cast(pa.timestamp("us"))
    return None if column.text is None else parse_timestamps(column.text)


def _naive_utc(timestamps: pa.Array) -> pa.Array:
    """Any s/ms/us timestamp (with or without a zone) as naive UTC microseconds."""
    kind = timestamps.type
    if kind.tz is not None:
        timestamps = timestamps.cast(pa.timestamp(kind.unit))  # keeps the UTC instant
    return timestamps.cast(pa.timestamp("us"))


def per_distinct(strings: pa.Array, check: Callable[[pa.Array], Mask]) -> Mask:
    """``check`` run on the distinct values only (names repeat a lot in observations)."""
    encoded = strings.dictionary_encode()
    if not len(encoded.dictionary) or len(encoded.dictionary) > len(strings) // 2:
        return check(strings)
    found = check(encoded.dictionary)
    return np.asarray(found[encoded.indices.fill_null(0).to_numpy()] & mask(strings.is_valid()))


def _canonical_names(strings: pa.Array) -> Mask:
    ok = matches(strings, _DOMAIN) & ~matches(strings, _NOT_DOMAIN)
    return ok & (lengths(strings) <= MAX_DOMAIN)


def domain_ok(strings: pa.Array) -> Mask:
    """Names already canonical: lowercase ASCII LDH labels, no punycode, <= 253 octets."""
    return per_distinct(strings, _canonical_names)


def ipv4_ok(strings: pa.Array) -> Mask:
    """Canonical dotted quads (no leading zeros)."""
    return matches(strings, _IPV4)


def domain(column: RawColumn) -> Fast | None:
    return None if column.text is None else (domain_ok(column.text), column.text)


def ip(column: RawColumn) -> Fast | None:
    return None if column.text is None else (ipv4_ok(column.text), column.text)


def icp_subject(column: RawColumn) -> Fast | None:
    """Subject numbers already canonical ('苏ICP备12345678号'), as ``parse_icp`` writes them."""
    if column.text is None:
        return None
    return matches(column.text, _ICP_HEAD + "$"), column.text


def icp_service(column: RawColumn) -> Fast | None:
    """Service numbers already canonical ('苏ICP备12345678号-3')."""
    if column.text is None:
        return None
    return matches(column.text, _ICP_HEAD + "-[1-9][0-9]*$"), column.text
