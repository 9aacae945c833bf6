"""STIX 2.1 patterns → the observables Longpan can match in logs.

A pattern is parsed by the STIX pattern grammar (``stix2.pattern_visitor``, ANTLR);
the common one-comparison form ``[domain-name:value = 'x']`` takes a regex short cut
that accepts exactly what the grammar would. What can be matched without ever
matching more than the indicator says:

* ``=`` / ``IN`` on ``domain-name:value``, ``ipv4-addr:value``, ``ipv6-addr:value``
  (an address or a CIDR block), ``url:value`` and ``file:hashes.<MD5|SHA-1|SHA-256|
  SHA-512>``; ``ISSUBSET`` on an address (a CIDR block);
* joined by ``OR`` inside one observation, or observations joined by ``OR``: each
  operand alone is enough, so keeping the matchable ones can miss, never over-match.

Everything else is *unsupported* and reported, never approximated: ``AND`` and
``FOLLOWEDBY`` (one part alone would over-match), qualifiers (``WITHIN``, ``REPEATS``,
``START … STOP``), ``NOT``, ``!=``, ``LIKE``, ``MATCHES``, ordering comparisons, other
object types and properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.core.extras import require
from longpan.resources.exchange.netlogs import canonical_url

Kind = Literal["domain", "ip", "url", "file", "none"]
HASHES = {"md5": "MD5", "sha-1": "SHA-1", "sha1": "SHA-1", "sha-256": "SHA-256"}
HASHES |= {"sha256": "SHA-256", "sha-512": "SHA-512", "sha512": "SHA-512"}
HASH_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128}

_SIMPLE = re.compile(
    r"\[\s*(domain-name|ipv4-addr|ipv6-addr|url):value\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]"
)


@dataclass(frozen=True)
class Observable:
    """One matchable value: kind and canonical value (IP ranges as ``start-end``)."""

    kind: Kind
    value: str


@dataclass
class Parsed:
    observables: list[Observable] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # why parts are not matched


def parse_pattern(pattern: str) -> Parsed:
    """The matchable observables of a STIX pattern and the reasons for the rest.

    Raises ValueError with the grammar's message when the pattern is not valid STIX.
    """
    simple = _SIMPLE.fullmatch(pattern.strip())
    if simple:
        result = Parsed()
        _add(result, simple.group(1), ["value"], _unescape(simple.group(2)))
        return result
    return _parse_with_grammar(pattern)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _parse_with_grammar(pattern: str) -> Parsed:
    visitor = require("threat", "stix2.pattern_visitor")
    try:
        tree = visitor.create_pattern_object(pattern, version="2.1")
    except Exception as exc:  # the ANTLR parser and stix2 raise several types
        raise ValueError(f"not a valid STIX 2.1 pattern: {exc}") from None
    result = Parsed()
    _walk(tree, result)
    return result


def _walk(node: Any, result: Parsed) -> None:
    name = type(node).__name__
    if name in ("OrObservationExpression", "OrBooleanExpression"):
        for operand in node.operands:
            _walk(operand, result)
    elif name == "ObservationExpression":
        _walk(node.operand, result)
    elif name == "ParentheticalExpression":
        _walk(node.expression, result)
    elif name in ("EqualityComparisonExpression", "InComparisonExpression"):
        _comparison(node, result)
    elif name == "IsSubsetComparisonExpression" and not node.negated:
        _subset(node, result)
    else:
        result.unsupported.append(_why(node))


def _why(node: Any) -> str:
    name = type(node).__name__
    if name.startswith("And"):
        return "AND: matching one part alone would over-match"
    if name.startswith("FollowedBy"):
        return "FOLLOWEDBY: event order is not checked"
    if name == "QualifiedObservationExpression":
        return f"qualifier {type(node.qualifier).__name__}: not checked"
    if getattr(node, "negated", False):
        return "negated comparison (NOT / !=)"
    return f"{getattr(node, 'operator', name)} comparison is not matched"


def _comparison(node: Any, result: Parsed) -> None:
    if node.negated:
        result.unsupported.append("negated comparison (NOT / !=)")
        return
    path = [c.property_name for c in node.lhs.property_path]
    rhs = node.rhs
    values = [c.value for c in rhs.value] if type(rhs).__name__ == "ListConstant" else [rhs.value]
    for value in values:
        _add(result, node.lhs.object_type_name, path, str(value))


def _subset(node: Any, result: Parsed) -> None:
    path = [c.property_name for c in node.lhs.property_path]
    kind = node.lhs.object_type_name
    if kind in ("ipv4-addr", "ipv6-addr") and path == ["value"]:
        _add(result, kind, path, str(node.rhs.value))
    else:
        result.unsupported.append(f"ISSUBSET on {kind}:{'.'.join(path)}")


def _add(result: Parsed, object_type: str, path: list[str], value: str) -> None:
    """Append the observable for ``object_type:path = value``, or the reason it is none."""
    where = f"{object_type}:{'.'.join(path)}"
    try:
        observable = observable_for(object_type, path, value)
    except (IdentifierError, ValueError) as exc:
        result.unsupported.append(f"{where} = {value!r}: {exc}")
        return
    if observable is None:
        result.unsupported.append(f"{where}: not present in the logs Longpan matches")
    elif observable not in result.observables:
        result.observables.append(observable)


def observable_for(object_type: str, path: list[str], value: str) -> Observable | None:
    """The canonical observable, None for a path Longpan does not match; raises on bad values."""
    if path == ["value"] and object_type == "domain-name":
        return Observable("domain", indicator_domain(value))
    if path == ["value"] and object_type in ("ipv4-addr", "ipv6-addr"):
        return Observable("ip", indicator_ip(value, 4 if object_type == "ipv4-addr" else 6))
    if path == ["value"] and object_type == "url":
        return Observable("url", canonical_url(value))
    if object_type == "file" and len(path) == 2 and path[0] == "hashes":
        return Observable("file", file_hash(path[1], value))
    return None


def indicator_domain(value: str) -> str:
    """A canonical domain that is not a bare public suffix (that would flag everything)."""
    name = ids.canonical_domain(value)
    try:
        ids.registered_domain(name)
    except IdentifierError as exc:
        if "public suffix, not" in exc.reason:
            raise
    return name


def indicator_ip(value: str, version: int) -> str:
    """A canonical address, or a CIDR block in canonical form (host bits must be zero)."""
    text = value.strip()
    if "/" in text:
        ip_range = ids.parse_range(text)
        cidrs = ip_range.to_cidrs()
        canonical = f"{ids.format_ip(ip_range.start)}/{cidrs[0].prefixlen}"
    else:
        ip_range = ids.parse_range(text)
        canonical = ids.format_ip(ip_range.start)
    if ip_range.version != version:
        raise ValueError(f"not an IPv{version} address")
    return canonical


def ip_bounds(value: str) -> tuple[str, str]:
    """(start_key, end_key) of an indicator address or CIDR block (see ``ip_key``)."""
    ip_range = ids.parse_range(value)
    return ip_range.start_key, ip_range.end_key


def file_hash(algorithm: str, value: str) -> str:
    name = HASHES.get(algorithm.lower())
    if name is None:
        raise ValueError(f"hash algorithm {algorithm!r} is not supported")
    digest = value.strip().lower()
    if len(digest) != HASH_LENGTHS[name] or not re.fullmatch(r"[0-9a-f]+", digest):
        raise ValueError(f"not a {name} digest")
    return f"{name}:{digest}"
