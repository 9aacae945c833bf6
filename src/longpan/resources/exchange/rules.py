"""Row rules and derived columns of the exchange tables, each with its batch variant.

The row versions (``Row`` in, problem or derived values out) are the reference, used by
the per-row path and for the rows a batch version leaves to them. A batch rule returns
the rows that surely pass every rule of its table (the others get the row rules); a
batch derive returns the derived columns of every row. Both work on canonical columns
of the rows whose cells are all valid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError
from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.columns import domain_ok, ipv4_ok, lengths, mask
from longpan.resources.exchange.footers import footer_numbers
from longpan.resources.exchange.memo import Mask, map_unique, scatter
from longpan.resources.exchange.psl import optional_registered_domain, registered_domains

Row = dict[str, Any]
Columns = dict[str, pa.Array]
# A row rule returns (column, reason) for the first problem it sees, or None.
RowRule = Callable[[Row], tuple[str, str] | None]
RulesBatch = Callable[[Columns], Mask]
DeriveBatch = Callable[[Columns], Columns]

_SEP = "\x1f"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MAPPED_PREFIX = np.frombuffer(b"00000000000000000000ffff", dtype=np.uint8)


# -- icp_subjects ----------------------------------------------------------------------
def subject_uscc_unless_individual(row: Row) -> tuple[str, str] | None:
    if row["uscc"] is None and row["nature"] != "个人":
        return "uscc", "a value is required unless nature is 个人"
    return None


def icp_subject_rules(cols: Columns) -> Mask:
    return ~(mask(cols["uscc"].is_null()) & ~mask(pc.equal(cols["nature"], "个人")))


# -- icp_services ----------------------------------------------------------------------
def service_belongs_to_subject(row: Row) -> tuple[str, str] | None:
    subject = ids.parse_icp(row["service_licence"]).subject_licence
    if subject != row["subject_licence"]:
        return "subject_licence", (
            f"service {row['service_licence']} belongs to subject {subject}, "
            f"not {row['subject_licence']}"
        )
    return None


def website_has_domain(row: Row) -> tuple[str, str] | None:
    if row["service_type"] == "website" and not row["domains"]:
        return "domains", "a website filing needs at least one domain"
    return None


def icp_service_rules(cols: Columns) -> Mask:
    """Canonical service numbers are their subject's number plus '-N'."""
    subject = pc.replace_substring_regex(cols["service_licence"], r"-[0-9]+$", "")
    belongs = mask(pc.equal(subject, cols["subject_licence"]))
    website = mask(pc.equal(cols["service_type"], "website"))
    no_domain: Mask = lengths(cols["domains"]) == 0
    return belongs & ~(website & no_domain)


# -- ip_filings ------------------------------------------------------------------------
def range_in_order(row: Row) -> tuple[str, str] | None:
    try:
        ids.IpRange.from_bounds(row["start_ip"], row["end_ip"])
    except IdentifierError as exc:
        return "end_ip", exc.reason
    return None


def ip_filing_keys(row: Row) -> Row:
    start = ids.parse_ip(row["start_ip"])
    return {
        "ip_version": start.version,
        "start_key": ids.ip_key(row["start_ip"]),
        "end_key": ids.ip_key(row["end_ip"]),
    }


def ip_filing_rules(cols: Columns) -> Mask:
    """Same IP version and end >= start (keys of one version sort like the addresses)."""
    start, end = cols["start_ip"], cols["end_ip"]
    same: Mask = _is_v6(start) == _is_v6(end)
    return same & mask(pc.greater_equal(ip_keys(end), ip_keys(start)))


def ip_filing_derive(cols: Columns) -> Columns:
    start = cols["start_ip"]
    version = np.where(_is_v6(start), 6, 4).astype(np.int64)
    return {
        "ip_version": pa.array(version),
        "start_key": ip_keys(start),
        "end_key": ip_keys(cols["end_ip"]),
    }


def _is_v6(addresses: pa.Array) -> Mask:
    """Canonical IPv6 text always has a ':', canonical IPv4 never."""
    return mask(pc.match_substring(addresses, ":"))


def ip_keys(addresses: pa.Array) -> pa.Array:
    """``ids.ip_key`` of canonical addresses: IPv4 in numpy, IPv6 once per address."""
    v6 = _is_v6(addresses)
    keys = _ipv4_keys(addresses.filter(pa.array(~v6)))
    if not v6.any():
        return keys
    slow, _ = map_unique(addresses.filter(pa.array(v6)), ids.ip_key, pa.string())
    result = pa.nulls(len(addresses), pa.string())
    result = scatter(result, ~v6, keys)
    return scatter(result, v6, slow)


def _ipv4_keys(addresses: pa.Array) -> pa.Array:
    """32 hex digits of each dotted quad mapped into ::ffff:0:0/96."""
    count = len(addresses)
    octets = pc.split_pattern(addresses, ".").flatten().cast(pa.int64()).to_numpy()
    octets = np.asarray(octets, dtype=np.int64).reshape(count, 4)
    number = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    shifts = np.arange(28, -1, -4, dtype=np.int64)
    digits = _HEX[(number[:, None] >> shifts[None, :]) & 0xF]
    text = np.hstack([np.broadcast_to(_MAPPED_PREFIX, (count, 24)), digits])
    offsets = np.arange(0, 32 * (count + 1), 32, dtype=np.int32)
    return pa.StringArray.from_buffers(
        count, pa.py_buffer(offsets.tobytes()), pa.py_buffer(text.tobytes())
    )


# -- dns_observations ------------------------------------------------------------------
def seen_in_order(row: Row) -> tuple[str, str] | None:
    if row["last_seen"] < row["first_seen"]:
        return "last_seen", f"last_seen {row['last_seen']} is before first_seen {row['first_seen']}"
    return None


def dns_value_matches_type(row: Row) -> tuple[str, str] | None:
    """A/AAAA answers are IPs of their version; CNAME/NS answers are domain names."""
    rrtype = row["rrtype"]
    try:
        if rrtype in ("A", "AAAA"):
            version = ids.parse_ip(row["value"]).version
            if version != (4 if rrtype == "A" else 6):
                return "value", f"an {rrtype} record cannot hold an IPv{version} address"
        elif rrtype in ("CNAME", "NS"):
            ids.canonical_domain(row["value"])
    except IdentifierError as exc:
        return "value", f"not valid for an {rrtype} record: {exc.reason}"
    return None


def dns_value(rrtype: str, value: str) -> str:
    """The canonical answer: an IP for A/AAAA, a name for CNAME/NS, else as given."""
    if rrtype in ("A", "AAAA"):
        return ids.canonical_ip(value)
    if rrtype in ("CNAME", "NS"):
        return ids.canonical_domain(value)
    return value


def dns_canonical_value(row: Row) -> Row:
    value = dns_value(row["rrtype"], row["value"])
    return {
        "value": value,
        "registered_domain": optional_registered_domain(row["fqdn"]),
        "value_key": ids.ip_key(value) if row["rrtype"] in ("A", "AAAA") else None,
    }


def dns_rules(cols: Columns) -> Mask:
    in_order = mask(pc.greater_equal(cols["last_seen"], cols["first_seen"]))
    typed, fast = _dns_fast_values(cols["rrtype"], cols["value"])
    slow = typed & ~fast
    ok = ~typed | fast
    if slow.any():
        pairs = _pairs(cols["rrtype"], cols["value"], slow)
        good, failed = map_unique(pairs, _pair_matches_type, pa.bool_())
        ok[slow] = mask(good) & ~failed
    return in_order & ok


def dns_derive(cols: Columns) -> Columns:
    value = cols["value"]
    typed, fast = _dns_fast_values(cols["rrtype"], value)
    slow = typed & ~fast
    if slow.any():
        canonical, _ = map_unique(_pairs(cols["rrtype"], value, slow), _pair_value, pa.string())
        value = scatter(value, slow, canonical)
    return {
        "value": value,
        "registered_domain": registered_domains(cols["fqdn"]),
        "value_key": _address_keys(cols["rrtype"], value),
    }


def _address_keys(rrtype: pa.Array, value: pa.Array) -> pa.Array:
    """``ip_key`` of A/AAAA answers (null for other record types)."""
    addresses = mask(pc.is_in(rrtype, value_set=pa.array(["A", "AAAA"])))
    keys = pa.nulls(len(value), pa.string())
    if addresses.any():
        keys = scatter(keys, addresses, ip_keys(value.filter(pa.array(addresses))))
    return keys


def _dns_fast_values(rrtype: pa.Array, value: pa.Array) -> tuple[Mask, Mask]:
    """(answers of a checked type, those already canonical)."""
    a = mask(pc.equal(rrtype, "A"))
    named = mask(pc.is_in(rrtype, value_set=pa.array(["CNAME", "NS"])))
    typed = a | named | mask(pc.equal(rrtype, "AAAA"))
    fast = np.zeros(len(value), np.bool_)
    fast[a] = ipv4_ok(value.filter(pa.array(a)))
    fast[named] = domain_ok(value.filter(pa.array(named)))
    return typed, fast


def _pairs(rrtype: pa.Array, value: pa.Array, picked: Mask) -> pa.Array:
    """'rrtype<US>value' of the picked rows (their rrtype is A, AAAA, CNAME or NS)."""
    chosen = pa.array(picked)
    return pc.binary_join_element_wise(rrtype.filter(chosen), value.filter(chosen), _SEP)


def _pair_matches_type(pair: str) -> bool:
    rrtype, value = pair.split(_SEP, 1)
    return dns_value_matches_type({"rrtype": rrtype, "value": value}) is None


def _pair_value(pair: str) -> str:
    rrtype, value = pair.split(_SEP, 1)
    return dns_value(rrtype, value)


# -- web_crawls ------------------------------------------------------------------------
def web_crawl_derive(row: Row) -> Row:
    return {
        "footer_icp_raw": row["footer_icp"],
        "footer_icp": p.footer_icp(row["footer_icp"]) if row["footer_icp"] else None,
        "registered_domain": optional_registered_domain(row["fqdn"]),
    }


def web_crawl_derive_batch(cols: Columns) -> Columns:
    footer = cols["footer_icp"]
    given = mask(footer.is_valid())
    found = pa.nulls(len(footer), pa.string())
    if given.any():
        found = scatter(found, given, footer_numbers(footer.filter(pa.array(given))))
    return {
        "footer_icp_raw": footer,
        "footer_icp": found,
        "registered_domain": registered_domains(cols["fqdn"]),
    }


# -- icp_services: derived registered domains ------------------------------------------
def service_registered_domains(row: Row) -> Row:
    """The registered domain of each filed domain (a filed domain may be a subdomain),
    and the ``ip_key`` of each access address."""
    found = [optional_registered_domain(d) for d in row["domains"] or []]
    return {
        "registered_domains": [d for d in found if d is not None],
        "access_ip_keys": [ids.ip_key(a) for a in row["access_ips"] or []],
    }


def service_derive_batch(cols: Columns) -> Columns:
    domains = cols["domains"]
    flat = pc.list_flatten(domains)
    registered = registered_domains(flat) if len(flat) else pa.array([], pa.string())
    offsets = pc.list_value_length(domains).fill_null(0).to_numpy(zero_copy_only=False)
    bounds = np.concatenate([[0], np.cumsum(offsets)]).astype(np.int32)
    rebuilt = pa.ListArray.from_arrays(pa.array(bounds, pa.int32()), registered)
    ips = cols["access_ips"]
    flat_ips = pc.list_flatten(ips)
    keys = ip_keys(flat_ips) if len(flat_ips) else pa.array([], pa.string())
    ip_bounds = np.concatenate(
        [[0], np.cumsum(pc.list_value_length(ips).fill_null(0).to_numpy(zero_copy_only=False))]
    ).astype(np.int32)
    return {
        "registered_domains": _drop_null_items(rebuilt),
        "access_ip_keys": pa.ListArray.from_arrays(pa.array(ip_bounds, pa.int32()), keys),
    }


def _drop_null_items(lists: pa.ListArray) -> pa.Array:
    """Lists without their null items (names the public suffix list has no entry for)."""
    flat = lists.flatten()
    if not flat.null_count:
        return lists
    return pa.array(
        [[x for x in items if x is not None] for items in lists.to_pylist()], pa.list_(pa.string())
    )
