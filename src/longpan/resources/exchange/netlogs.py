"""Network logs of the units (dns_logs, flow_logs, http_logs): cell parsers and the
derived columns that make indicator matching a plain equi- or range join.

* a name's ``base_domain`` (its registered domain) and ``base_hash`` (64 bits of
  BLAKE2b of it): an indicator domain can only match names with the same base, so
  matching is an integer equi-join that skips almost every row, then an exact test
  (``name = indicator`` or ``name`` ends with ``'.' + indicator``) on what is left —
  never a look-alike such as ``notevil.example`` or ``evil.example.com``;
* ``level1_hash`` and ``level2_hash`` (dns_logs): the hash of the name cut to one and
  two labels below its base (``a.evil.example`` and ``b.a.evil.example`` of
  ``c.b.a.evil.example``), null when the name is not that deep. An indicator one or two
  labels below its registered domain then matches by integer equality too, so a hunt
  scans integers only and reads the strings of the few rows that hit (then compared
  exactly: a 64-bit hash can collide);
* ``*_key``: 32 hex digits of an address (``ids.ip_key``), so an indicator's CIDR block
  is a ``BETWEEN start_key AND end_key`` that every engine compares the same way;
* ``url_norm``: the URL in one canonical spelling (``canonical_url``), shared with the
  indicators so a URL match is an equality.

Derivations run once per distinct value (names and addresses repeat a lot in logs).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.memo import map_unique
from longpan.resources.exchange.psl import optional_registered_domain
from longpan.resources.exchange.rules import Columns, Row

DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
MAX_PORT = 65535
_UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")


# -- cell parsers ------------------------------------------------------------------------
def host(value: Any) -> str:
    """A canonical domain or IP address (IPv6 without brackets)."""
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ids.canonical_ip(text)
    except IdentifierError:
        return ids.canonical_domain(text)


def answer(value: Any) -> str:
    """A DNS answer: a canonical address, a canonical name, or the text as given."""
    text = str(value).strip()
    try:
        return host(text)
    except IdentifierError:
        return text


def port(value: Any) -> int:
    number = p.integer(value)
    if not 0 <= number <= MAX_PORT:
        raise ValueError(f"{number} is not a port number (0-{MAX_PORT})")
    return number


def canonical_url(value: str, default_host: str | None = None) -> str:
    """One spelling per URL: lowercase scheme and host, no default port, no fragment,
    no user info, '%xx' escapes of unreserved characters decoded and the rest in
    uppercase, '/' for an empty path. A URL without a scheme is taken as http; an
    origin-form one ('/path?q') needs ``default_host``. ValueError when it is not a URL.
    """
    text = str(value).strip()
    if text.startswith("/") and default_host:
        text = f"http://{default_host}{text}"
    elif "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise ValueError(f"{value!r} is not a URL (no host)")
    name = host(parts.hostname)
    try:
        given_port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port") from None
    netloc = f"[{name}]" if ":" in name else name
    if given_port is not None and given_port != DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{given_port}"
    path = _escapes(parts.path) or "/"
    query = f"?{_escapes(parts.query)}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def _escapes(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        if char.isascii() and (char.isalnum() or char in "-._~"):
            return char
        return f"%{match.group(1).upper()}"

    return _UNRESERVED.sub(fix, text)


def base_domain(name: str) -> str:
    """The registered domain of a canonical name; its last two labels when it has none
    (a name under a suffix the public suffix list does not know, such as ``.example``
    or an internal ``.corp``, or a bare public suffix)."""
    return optional_registered_domain(name) or ".".join(name.split(".")[-2:])


def name_hash(name: str) -> int:
    """64 bits of BLAKE2b of a name, as a signed integer (the same on every engine,
    because it is computed here, never by an engine)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def base_hash(name: str) -> int:
    return name_hash(base_domain(name))


LEVELS = (1, 2)  # labels below the base domain that get their own hash column
_NAME_LEVELS = pa.struct(
    [("base_domain", pa.string()), ("base_hash", pa.int64())]
    + [(f"level{k}_hash", pa.int64()) for k in LEVELS]
)


def level_name(name: str, base: str, level: int) -> str | None:
    """``name`` cut to ``level`` labels below its base domain ``base`` (None when it is
    not that deep): level 1 of ``c.b.a.evil.example`` under ``evil.example`` is
    ``a.evil.example``."""
    extra = name.count(".") - base.count(".")
    if level < 1 or extra < level:
        return None
    return name.split(".", extra - level)[-1]


def name_levels(name: str) -> dict[str, Any]:
    """The derived domain columns of one canonical name (computed together: one public
    suffix lookup per name)."""
    base = base_domain(name)
    levels = {f"level{k}_hash": level_name(name, base, k) for k in LEVELS}
    return {
        "base_domain": base,
        "base_hash": name_hash(base),
        **{column: None if level is None else name_hash(level) for column, level in levels.items()},
    }


def _ip_key_or_none(value: str) -> str | None:
    try:
        return ids.ip_key(value)
    except IdentifierError:
        return None


def _is_ip(value: str) -> bool:
    return _ip_key_or_none(value) is not None


# -- dns_logs ----------------------------------------------------------------------------
def dns_log_derive(row: Row) -> Row:
    given = row["answer"]
    return {
        **name_levels(row["qname"]),
        "client_key": ids.ip_key(row["client_ip"]),
        "answer_key": _ip_key_or_none(given) if given else None,
    }


def dns_log_derive_batch(cols: Columns) -> Columns:
    levels = _each(cols["qname"], name_levels, _NAME_LEVELS).flatten()
    return {
        **{field.name: column for field, column in zip(_NAME_LEVELS, levels, strict=True)},
        "client_key": _each(cols["client_ip"], ids.ip_key, pa.string()),
        "answer_key": _each(cols["answer"], _ip_key_or_none, pa.string()),
    }


# -- flow_logs ---------------------------------------------------------------------------
def flow_log_derive(row: Row) -> Row:
    return {"src_key": ids.ip_key(row["src"]), "dst_key": ids.ip_key(row["dst"])}


def flow_log_derive_batch(cols: Columns) -> Columns:
    return {
        "src_key": _each(cols["src"], ids.ip_key, pa.string()),
        "dst_key": _each(cols["dst"], ids.ip_key, pa.string()),
    }


# -- http_logs ---------------------------------------------------------------------------
def url_is_valid(row: Row) -> tuple[str, str] | None:
    try:
        canonical_url(row["url"], row["host"])
    except (ValueError, IdentifierError) as exc:
        return "url", str(exc)
    return None


def _host_name(value: str) -> str | None:
    return None if _is_ip(value) else value


def _host_hash(value: str) -> int | None:
    return None if _is_ip(value) else base_hash(value)


def _host_base(value: str) -> str | None:
    return None if _is_ip(value) else base_domain(value)


def _url_pair(pair: str) -> str:
    given_host, _, url = pair.partition("\x1f")
    return canonical_url(url, given_host)


def http_log_derive(row: Row) -> Row:
    given = row["host"]
    return {
        "url_norm": canonical_url(row["url"], given),
        "host_base_domain": _host_base(given),
        "host_base_hash": _host_hash(given),
        "host_key": _ip_key_or_none(given),
    }


def http_log_derive_batch(cols: Columns) -> Columns:
    given = cols["host"]
    pairs = pc.binary_join_element_wise(given, cols["url"], "\x1f")
    return {
        "url_norm": _each(pairs, _url_pair, pa.string()),
        "host_base_domain": _each(given, _host_base, pa.string()),
        "host_base_hash": _each(given, _host_hash, pa.int64()),
        "host_key": _each(given, _ip_key_or_none, pa.string()),
    }


def _each(column: pa.Array, fn: Any, out_type: pa.DataType) -> pa.Array:
    """``fn`` of every non-null cell, once per distinct value (null stays null)."""
    valid = column.is_valid()
    if not len(column) or valid.false_count == len(column):
        return pa.nulls(len(column), out_type)
    if valid.false_count:
        present = column.filter(valid)
        values, _ = map_unique(present, fn, out_type)
        index = np.cumsum(np.asarray(valid.to_numpy(zero_copy_only=False))) - 1
        taken = values.take(pa.array(np.maximum(index, 0)))
        return pc.if_else(valid, taken, pa.nulls(len(column), out_type))
    values, _ = map_unique(column, fn, out_type)
    return values
