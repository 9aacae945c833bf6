"""Duplicate keys across a whole file, in memory that does not hold the keys.

The per-row path compares the joined key string of every good row (``lake.key_strings``)
with those seen before. Here each key string gets a seeded 64-bit tabulation hash
(computed with numpy over the Arrow buffers), and an index of sorted runs keeps, per
hash, the line of its first row: 12 bytes per distinct key. A row whose hash was seen
before is a *suspect*, reported as a duplicate of that line and left out of the output.
When the file is done the suspects are verified: the first rows are read back from the
output and a second, independent 64-bit hash of their key must equal the suspect's. A
mismatch means two different keys share a 64-bit hash (about once in 10^5 files of 20
million rows); the caller then checks the file again with another seed, so a reported
duplicate is a true one (up to a coincidence of both 64-bit hashes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from longpan.store.lake import Dataset, key_strings

Hashes = npt.NDArray[np.uint64]
Lines = npt.NDArray[np.int64]
_SPAN = 64  # positions with their own table row; longer strings add a row per block
MAX_RUN = 1 << 22


class _Tabulation:
    """Tabulation hashing of byte strings: a random word per (position, byte), summed."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._near = rng.integers(0, 2**64, size=_SPAN * 256, dtype=np.uint64)
        self._far = rng.integers(0, 2**64, size=_SPAN * 256, dtype=np.uint64)

    def __call__(self, keys: pa.Array) -> Hashes:
        width = np.int64 if pa.types.is_large_string(keys.type) else np.int32
        offsets = np.frombuffer(keys.buffers()[1], width)[keys.offset :][: len(keys) + 1]
        data = np.frombuffer(keys.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
        starts, sizes = offsets[:-1] - offsets[0], np.diff(offsets)
        words = self._words(data, starts, sizes)
        sums = np.zeros(len(keys), np.uint64)
        filled = sizes > 0
        if filled.any():
            sums[filled] = np.add.reduceat(words, starts[filled])
        return _mix(sums ^ (sizes.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))

    def _words(self, data: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> Hashes:
        """The table word of every byte, by its position within its string."""
        begins = starts[sizes > 0]
        step = np.ones(len(data), np.int32)
        if len(data):
            step[0] = 0
            step[begins[1:]] = 1 - np.diff(begins)  # back to 0 at each string's start
        position = np.cumsum(step, dtype=np.int32)
        words: Hashes = np.take(self._near, _index(position & (_SPAN - 1), data))
        if len(data) and position.max() >= _SPAN:
            far = (position >> _SPAN.bit_length() - 1) & (_SPAN - 1)
            words = words + np.take(self._far, _index(far, data))
        return words


def _index(row: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Table index of (row < 256, byte) pairs."""
    index = row.astype(np.uint16)
    index <<= 8
    index |= data
    return index


def _mix(x: Hashes) -> Hashes:
    """splitmix64's finaliser: spreads every input bit over the whole word."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class KeyHasher:
    """Seeded 64-bit hashes of key strings (two independent ones: ``first`` and ``second``)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([0x10A6, seed])
        self.first = _Tabulation(rng)
        self.second = _Tabulation(rng)


class KeyIndex:
    """Hash → line of its first row, as sorted runs merged like a binary counter.

    Runs stop merging at ``MAX_RUN`` entries, which bounds the memory a merge needs.
    """

    def __init__(self) -> None:
        self._runs: list[tuple[Hashes, npt.NDArray[np.uint32]]] = []

    def first_lines(self, hashes: Hashes) -> Lines:
        """The first line of each (distinct) hash seen before, 0 for a new one."""
        found = np.zeros(len(hashes), np.int64)
        for known, lines in self._runs:
            at = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
            hit = (known[at] == hashes) & (found == 0)
            found[hit] = lines[at[hit]]
        return found

    def add(self, hashes: Hashes, lines: Lines) -> None:
        """Record new distinct hashes with the lines of their first rows."""
        if not len(hashes):
            return
        order = np.argsort(hashes)
        self._runs.append((hashes[order], lines[order].astype(np.uint32)))
        while len(self._runs) > 1 and self._mergeable(*(len(r[0]) for r in self._runs[-2:])):
            (h1, l1), (h2, l2) = self._runs.pop(), self._runs.pop()
            merged = np.concatenate([h2, h1])
            order = np.argsort(merged, kind="stable")
            self._runs.append((merged[order], np.concatenate([l2, l1])[order]))

    @staticmethod
    def _mergeable(older: int, newer: int) -> bool:
        return older <= 2 * newer and older + newer <= MAX_RUN

    def check(self, hashes: Hashes, lines: Lines) -> tuple[npt.NDArray[np.bool_], Lines]:
        """For one batch of good rows in file order: (suspects, line of each key's first row)."""
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        earlier = self.first_lines(distinct)
        first_line = np.where(earlier > 0, earlier, lines[first])[inverse]
        suspects = (earlier[inverse] > 0) | (first[inverse] != np.arange(len(hashes)))
        new = earlier == 0
        self.add(distinct[new], lines[first[new]])
        return suspects, first_line


def verify(
    dataset: Dataset,
    output: Path,
    suspects: Iterable[tuple[Hashes, Hashes]],
    hasher: KeyHasher,
) -> bool:
    """Is every suspect's key really its first row's key (by the second hash)?"""
    pairs = [pair for pair in suspects if len(pair[0])]
    if not pairs:
        return True
    first_h = np.concatenate([h for h, _ in pairs])
    second_h = np.concatenate([h for _, h in pairs])
    targets = np.unique(first_h)
    seen = np.zeros(len(targets), np.uint64)
    found = np.zeros(len(targets), np.bool_)
    columns = list(dataset.key)
    for batch in pq.ParquetFile(output).iter_batches(columns=columns):
        keys = key_strings(dataset, pa.Table.from_batches([batch]))
        hashes = hasher.first(keys)
        hit = np.isin(hashes, targets)
        if hit.any():
            at = np.searchsorted(targets, hashes[hit])
            seen[at] = hasher.second(keys.filter(pa.array(hit)))
            found[at] = True
    at = np.searchsorted(targets, first_h)
    return bool(np.all(found[at] & (seen[at] == second_h)))
