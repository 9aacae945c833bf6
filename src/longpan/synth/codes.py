"""Vectorised identifier generation: 统一社会信用代码 and ICP numbers for many rows at once.

The check characters are computed with numpy over whole arrays, with the same weights as
``longpan.core.identifiers.uscc`` (whose validator the tests run on every code).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from longpan.core.identifiers.uscc import ALPHABET, CHECK_WEIGHTS, ORG_WEIGHTS
from longpan.synth.model import Shard

Strings = npt.NDArray[np.str_]
Ints = npt.NDArray[np.int64]

_DIGITS = "0123456789"
# GB 11714 values: digits 0-9, letters A=10 … Z=35.
_ORG_VALUE = np.zeros(128, dtype=np.int64)
for _i, _ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _ORG_VALUE[ord(_ch)] = _i
_USCC_VALUE = np.zeros(128, dtype=np.int64)
for _i, _ch in enumerate(ALPHABET):
    _USCC_VALUE[ord(_ch)] = _i


def _codes(strings: Strings, width: int) -> npt.NDArray[np.int64]:
    """An (n, width) matrix of the ASCII codes of fixed-width strings."""
    raw = np.asarray(strings, dtype=f"<U{width}").view(np.uint32).reshape(-1, width)
    return raw.astype(np.int64)


def encode(numbers: Ints, alphabet: str, width: int) -> Strings:
    """Fixed-width strings of ``numbers`` written in the digits of ``alphabet``."""
    base = len(alphabet)
    chars = np.array(list(alphabet))
    digits = np.empty((len(numbers), width), dtype="<U1")
    rest = numbers.copy()
    for position in range(width - 1, -1, -1):
        digits[:, position] = chars[rest % base]
        rest //= base
    return digits.view(f"<U{width}").reshape(-1)


def org_codes(ids: Ints, modern: npt.NDArray[np.bool_]) -> Strings:
    """Nine-character organisation codes (8 + GB 11714 check digit) from unique ids.

    Codes issued since the 2015 reform mostly start with ``MA``; older ones are digits.
    """
    body = np.where(modern, np.char.add("MA", encode(ids, ALPHABET, 6)), encode(ids, _DIGITS, 8))
    values = _ORG_VALUE[_codes(body, 8)]
    check = 11 - (values @ np.array(ORG_WEIGHTS)) % 11
    check_char = np.where(check == 10, "X", np.where(check == 11, "0", check.astype(str)))
    return np.char.add(body, check_char.astype("<U1"))


def usccs(prefix: Strings, division: Strings, org9: Strings) -> Strings:
    """Full 统一社会信用代码: authority+type (2) + division (6) + org code (9) + check."""
    first17 = np.char.add(np.char.add(prefix, division), org9)
    values = _USCC_VALUE[_codes(first17, 17)]
    check = (31 - (values @ np.array(CHECK_WEIGHTS)) % 31) % 31
    return np.char.add(first17, np.array(list(ALPHABET))[check])


def icp_subject_numbers(
    province_abbr: str, years: Ints, rng: np.random.Generator, shard: Shard
) -> Strings:
    """Unique subject licences: 8-digit before 2017, year-prefixed 10-digit after (the
    numbers of ``shard`` only, so that shards never share one)."""
    n = len(years)
    old = years < 2017
    numbers = np.empty(n, dtype="<U10")
    old_ids = shard.choose(rng, 90_000_000, int(old.sum())) + 10_000_000
    numbers[old] = old_ids.astype(str)
    for year in np.unique(years[~old]):
        mask = years == year
        seq = shard.choose(rng, 1_000_000, int(mask.sum()))
        numbers[mask] = np.char.add(str(year), np.char.zfill(seq.astype(str), 6))
    return np.char.add(np.char.add(f"{province_abbr}ICP备", numbers), "号")
