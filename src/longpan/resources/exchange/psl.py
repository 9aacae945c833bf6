"""Registered domains (eTLD+1) of a whole column of canonical names at once.

The same answer as ``core.identifiers.registered_domain`` (tldextract's walk down the
ICANN section of the bundled public suffix list, wildcards and exceptions included),
computed with set look-ups over the last k labels of every name. tldextract decodes
punycode labels and matches them against the Unicode rules; here the rules are turned
into A-labels instead, which matches the same names (punycode is one-to-one, and a
canonical name's labels are valid IDNA).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import idna
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.core.identifiers.domain import _get_extractor  # the very list core uses
from longpan.resources.exchange.columns import Fast, RawColumn, domain_ok, mask
from longpan.resources.exchange.memo import scatter


@dataclass(frozen=True)
class _Rules:
    nodes: pa.Array  # every suffix of every rule ('co.uk' gives 'uk' and 'co.uk')
    ends: pa.Array  # the rules themselves
    wild_parents: pa.Array  # 'ck' for the rule '*.ck'
    exceptions: pa.Array  # '!www.ck'
    depth: int
    root_wild: bool


def _ascii_rule(rule: str) -> str | None:
    """A rule with its Unicode labels as A-labels (None if one is not valid IDNA)."""
    labels = []
    for label in rule.split("."):
        bang = "!" if label.startswith("!") else ""
        name = label.removeprefix("!")
        try:
            labels.append(bang + (name if name.isascii() else idna.alabel(name).decode("ascii")))
        except idna.IDNAError:
            return None
    return ".".join(labels)


@cache
def _rules() -> _Rules:
    rules = [r for r in map(_ascii_rule, _get_extractor().tlds) if r is not None]
    nodes = {".".join(r.split(".")[i:]) for r in rules for i in range(r.count(".") + 1)}
    wild = {r[2:] for r in rules if r.startswith("*.")}
    return _Rules(
        nodes=pa.array(sorted(nodes), pa.string()),
        ends=pa.array(sorted(rules), pa.string()),
        wild_parents=pa.array(sorted(wild), pa.string()),
        exceptions=pa.array(sorted(r for r in rules if r.startswith("!")), pa.string()),
        depth=max(r.count(".") + 1 for r in rules),
        root_wild="*" in rules,
    )


def registered_domain_check(column: RawColumn) -> Fast | None:
    """Fast check of a registered-domain column: canonical names that are their own eTLD+1."""
    if column.text is None:
        return None
    ok = domain_ok(column.text)
    if ok.any():
        names = column.text.filter(pa.array(ok))
        ok[ok] = mask(pc.equal(registered_domains(names), names))
    return ok, column.text


def optional_registered_domain(fqdn: str) -> str | None:
    """The registered domain of a name, or None (no known suffix, or a bare suffix)."""
    try:
        return ids.registered_domain(fqdn)
    except IdentifierError:
        return None


def registered_domains(names: pa.Array) -> pa.Array:
    """Registered domain of every canonical name (null where there is none)."""
    encoded = names.dictionary_encode()
    if not len(encoded.dictionary) or len(encoded.dictionary) > len(names) // 2:
        return _registered_domains(names)
    return _registered_domains(encoded.dictionary).take(encoded.indices)


def _registered_domains(names: pa.Array) -> pa.Array:
    walk = _Walk(_rules(), names)
    labels = np.asarray(pc.count_substring(names, ".").to_numpy(), dtype=np.int64) + 1
    wanted = (walk.suffix > 0) & (labels > walk.suffix)
    ready = wanted & (walk.kept == walk.suffix + 1)
    result = pc.if_else(pa.array(ready), walk.candidates, pa.nulls(len(names), pa.string()))
    missing = wanted & ~ready
    for k in np.unique(walk.suffix[missing]):
        picked = missing & (walk.suffix == k)
        result = scatter(result, picked, _tail(names.filter(pa.array(picked)), int(k) + 1))
    return result


def _tail(names: pa.Array, k: int) -> pa.Array:
    """The last k labels of every name ('' where a name has fewer)."""
    return pc.extract_regex(names, rf"(?P<t>[^.]+(?:\.[^.]+){{{k - 1}}})$").field("t")


class _Walk:
    """How many labels of each name are its public suffix (0: none), as tldextract walks.

    Step k looks at the last k labels of the names still walking: a known node goes on
    (and is the suffix so far if it is a rule); an unknown one stops, unless its parent
    has a wildcard rule, which makes it (or, for an exception, its parent) the suffix.
    On the way it keeps, per name, the last k labels when the suffix so far has k - 1
    (the registered domain, if the suffix stays that long).
    """

    def __init__(self, rules: _Rules, names: pa.Array) -> None:
        size = len(names)
        self.suffix = np.zeros(size, np.int64)
        self.kept = np.zeros(size, np.int64)  # how many labels ``candidates`` holds
        self.candidates = pa.nulls(size, pa.string())
        rows, parents = np.arange(size), None
        for k in range(1, rules.depth + 1):
            tails = _tail(names, k)
            present = np.asarray(pc.binary_length(tails).to_numpy(), dtype=np.int64) > 0
            self._keep(rows, tails, present & (self.suffix[rows] == k - 1) & (k > 1), k)
            found = present & mask(pc.is_in(tails, value_set=rules.nodes))
            self.suffix[rows[found & mask(pc.is_in(tails, value_set=rules.ends))]] = k
            missed = present & ~found
            if missed.any():
                wild = _wildcards(rules, k, tails, parents, missed)
                self.suffix[rows] = np.where(wild == 0, self.suffix[rows], wild)
                self._keep(rows, tails, missed & (wild == k - 1) & (k > 1), k)
            keep = pa.array(found)
            rows, names, parents = rows[found], names.filter(keep), tails.filter(keep)
            if not len(rows):
                break

    def _keep(self, rows: np.ndarray, tails: pa.Array, picked: np.ndarray, k: int) -> None:
        if not picked.any():
            return
        where = np.zeros(len(self.suffix), np.bool_)
        where[rows[picked]] = True
        self.candidates = scatter(self.candidates, where, tails.filter(pa.array(picked)))
        self.kept[where] = k


def _wildcards(
    rules: _Rules, k: int, tails: pa.Array, parents: pa.Array | None, missed: np.ndarray
) -> np.ndarray:
    """The suffix length a wildcard gives the names that missed at step k (else 0)."""
    picked = pa.array(missed)
    if parents is None:
        wild = np.full(int(missed.sum()), rules.root_wild)
    else:
        wild = mask(pc.is_in(parents.filter(picked), value_set=rules.wild_parents))
    bang = pc.binary_join_element_wise("!", tails.filter(picked), "")
    exception = mask(pc.is_in(bang, value_set=rules.exceptions))
    result = np.zeros(len(tails), np.int64)
    result[missed] = np.where(wild, np.where(exception, k - 1, k), 0)
    return result
