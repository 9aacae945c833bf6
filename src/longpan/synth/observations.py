"""Render the generated province into exchange-format tables (Arrow).

Registry tables come from subjects, services and the network; WHOIS, passive DNS and
crawl rows from the domain universe. Background DNS — names the province's resolvers
see that have nothing to do with its filings — fills passive DNS up to the scale's
size, in chunks, so the biggest scales stay within memory. The shared organisations
(carriers, access providers, registrars, …) belong to the first shard only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.synth import reference as ref
from longpan.synth.inject import Province
from longpan.synth.model import SynthConfig
from longpan.synth.subjects import ENTITY_KIND, NATURE

DNS_CHUNK = 2_000_000


def organisations(p: Province) -> pa.Table:
    orgs = p.net.organisations
    return pa.table(
        {
            "uscc": [o.uscc for o in orgs],
            "name": [o.name for o in orgs],
            "roles": [sorted(o.roles) for o in orgs],
        }
    )


def entities(p: Province) -> pa.Table:
    s = p.subjects
    rows = np.flatnonzero(s.kind != "individual")
    shared = p.net.organisations if p.cfg.shard.index == 0 else []
    orgs = [o for o in shared if o.uscc not in set(s.uscc[rows].tolist())]
    return pa.table(
        {
            "uscc": [str(s.uscc[i]) for i in rows] + [o.uscc for o in orgs],
            "name": [str(s.name[i]) for i in rows] + [o.name for o in orgs],
            "kind": [ENTITY_KIND[str(s.kind[i])] for i in rows] + ["企业"] * len(orgs),
            "province": [p.cfg.province] * (len(rows) + len(orgs)),
            "city": [str(s.city[i]) for i in rows] + [o.city for o in orgs],
            "status": [str(s.entity_status[i]) for i in rows] + ["存续"] * len(orgs),
            "status_date": pa.array(
                [s.entity_status_date[i].astype(object) for i in rows] + [None] * len(orgs),
                pa.date32(),
            ),
        }
    )


def icp_subjects(p: Province) -> pa.Table:
    s = p.subjects
    return pa.table(
        {
            "subject_licence": s.licence.tolist(),
            "uscc": [u or None for u in s.uscc.tolist()],
            "unit_name": [str(x) for x in s.name],
            "nature": [NATURE[str(k)] for k in s.kind],
            "province": [p.cfg.province] * len(s),
            "approved_at": pa.array(s.approved.astype(object), pa.date32()),
            "status": _subject_status(p),
        }
    )


def _subject_status(p: Province) -> list[str]:
    """A subject filing is cancelled when every one of its services is."""
    active = {svc.subject for svc in p.services.rows if svc.status == "active"}
    return ["active" if i in active else "cancelled" for i in range(len(p.subjects))]


def icp_services(p: Province) -> pa.Table:
    rows = p.services.rows
    return pa.table(
        {
            "service_licence": [r.licence for r in rows],
            "subject_licence": [r.licence.rsplit("-", 1)[0] for r in rows],
            "service_type": [r.type for r in rows],
            "name": [r.name for r in rows],
            "domains": pa.array([r.domains for r in rows], pa.list_(pa.string())),
            "access_provider_uscc": [r.access_provider or None for r in rows],
            "access_ips": pa.array([r.access_ips for r in rows], pa.list_(pa.string())),
            "approved_at": pa.array([r.approved for r in rows], pa.date32()),
            "status": [r.status for r in rows],
        }
    )


def registrars() -> pa.Table:
    return pa.table(
        {
            "iana_id": [r.iana_id for r in ref.REGISTRARS],
            "name": [r.name for r in ref.REGISTRARS],
            "country": [r.country for r in ref.REGISTRARS],
            "cn_licence": [r.cn_licence for r in ref.REGISTRARS],
        }
    )


def domain_registrations(p: Province) -> pa.Table:
    rows = [(r.domain, w) for r in p.universe.records for w in r.whois]
    ts = pa.timestamp("s")
    return pa.table(
        {
            "domain": [d for d, _ in rows],
            "observed_at": pa.array([w.observed_at for _, w in rows], ts),
            "registrar_iana_id": pa.array([w.iana_id for _, w in rows], pa.int64()),
            "registrar_name": [w.registrar for _, w in rows],
            "registrant": [w.registrant for _, w in rows],
            "created_at": pa.array([w.created_at for _, w in rows], ts),
            "expires_at": pa.array([w.expires_at for _, w in rows], ts),
            "status": [w.status for _, w in rows],
        }
    )


def ip_filings(p: Province) -> pa.Table:
    f = p.net.filings
    return pa.table(
        {
            "start_ip": [x.start_ip for x in f],
            "end_ip": [x.end_ip for x in f],
            "reporter_uscc": [x.reporter for x in f],
            "source_unit": [x.source_unit for x in f],
            "allocation": [x.allocation for x in f],
            "user_name": [x.user_name or None for x in f],
            "user_uscc": [x.user_uscc or None for x in f],
            "province": [x.province for x in f],
            "city": [x.city for x in f],
            "filed_at": pa.array([x.filed_at for x in f], pa.date32()),
        }
    )


def web_crawls(p: Province) -> pa.Table:
    crawls = [c for r in p.universe.records for c in r.crawls]
    return pa.table(
        {
            "url": [f"https://{c.fqdn}/" for c in crawls],
            "fqdn": [c.fqdn for c in crawls],
            "fetched_at": pa.array([c.fetched_at for c in crawls], pa.timestamp("s")),
            "http_status": pa.array([c.http_status for c in crawls], pa.int64()),
            "title": [c.title for c in crawls],
            "content_length": pa.array([c.content_length for c in crawls], pa.int64()),
            "footer_icp": [c.footer for c in crawls],
        }
    )


def background_dns(cfg: SynthConfig, own_rows: int) -> Iterator[pa.Table]:
    """Background names, after the province's own, up to the scale's target size."""
    remaining = max(0, cfg.scale.dns_rows - own_rows)
    chunk = 0
    while remaining > 0:
        size = min(DNS_CHUNK, remaining)
        rng = np.random.default_rng([cfg.seed, 7, chunk])
        yield _background_dns(cfg, size, chunk * DNS_CHUNK, rng)
        remaining -= size
        chunk += 1


def own_dns(p: Province) -> pa.Table:
    """Passive DNS of the province's own names (of one shard)."""
    rows: list[tuple[str, str, str, datetime, datetime, int]] = []
    history_pool = _history_addresses(p)
    for record in p.universe.records:
        if record.resolves_until is None or not record.serving:
            continue
        last = datetime.combine(record.resolves_until, datetime.min.time()) + timedelta(hours=9)
        first = datetime.combine(record.first_seen or p.cfg.as_of, datetime.min.time())
        first = min(first, last - timedelta(days=1))  # a site that died young
        names = [record.domain, *record.extra_names]
        if not record.cname:
            names.append(f"www.{record.domain}")
        for name in names:
            for address in record.serving:
                rrtype = "AAAA" if ":" in address else "A"
                rows.append((name, rrtype, address, first, last, int(p.rng.integers(3, 5000))))
        if record.cname:
            rows += _cdn_rows(p, record.domain, record.cname, first, last)
        previous: set[str] = set(record.serving)
        for n, _ in enumerate(record.history):
            old = history_pool[int(p.rng.integers(0, len(history_pool)))]
            ended = first + timedelta(days=int(p.rng.integers(30, 400)) + n)
            if old not in previous and ended < last - timedelta(days=60):
                previous.add(old)
                rows.append((record.domain, "A", old, first, ended, int(p.rng.integers(1, 300))))
    return _dns_table(rows)


def _cdn_rows(
    p: Province, domain: str, cname: str, first: datetime, last: datetime
) -> list[tuple[str, str, str, datetime, datetime, int]]:
    rows = [(f"www.{domain}", "CNAME", cname, first, last, int(p.rng.integers(3, 5000)))]
    for address in p.cdn_addresses[:2] or []:
        rows.append((cname, "A", address, first, last, int(p.rng.integers(3, 5000))))
    return rows


def _history_addresses(p: Province) -> list[str]:
    pool = [a for ap in p.net.access_providers for a in ap.pool[:64]]
    return [str(ipaddress.ip_address(a)) for a in pool] or ["0.0.0.1"]


def _dns_table(rows: list[tuple[str, str, str, datetime, datetime, int]]) -> pa.Table:
    ts = pa.timestamp("s")
    return pa.table(
        {
            "fqdn": [r[0] for r in rows],
            "rrtype": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "first_seen": pa.array([r[3] for r in rows], ts),
            "last_seen": pa.array([r[4] for r in rows], ts),
            "count": pa.array([r[5] for r in rows], pa.int64()),
        }
    )


# Background names resolve to addresses outside the province (public cloud and CDN
# ranges elsewhere), so they never look like sites hosted in the province.
_BACKGROUND_BASES = (
    int(ipaddress.ip_address("104.16.0.0")),
    int(ipaddress.ip_address("151.101.0.0")),
    int(ipaddress.ip_address("13.32.0.0")),
    int(ipaddress.ip_address("23.192.0.0")),
)
_BACKGROUND_TLDS = np.array(["com", "net", "org", "io", "jp", "kr", "de", "info"])


_WORDS = pa.array(ref.NAME_PINYIN + tuple(w for _, w in ref.INDUSTRIES))
_SUBDOMAINS = pa.array(["www", "api", "cdn", "img", "m"])
_TLD_ARRAY = pa.array(_BACKGROUND_TLDS.tolist())


def _background_dns(cfg: SynthConfig, size: int, offset: int, rng: np.random.Generator) -> pa.Table:
    """``size`` background rows, strings built by Arrow kernels (xl writes 180 M of them)."""
    a = _WORDS.take(rng.integers(0, len(_WORDS), size))
    b = _WORDS.take(rng.integers(0, len(_WORDS), size))
    n = pa.array(np.arange(offset, offset + size)).cast(pa.string())  # keeps names unique
    sub = _SUBDOMAINS.take(rng.integers(0, len(_SUBDOMAINS), size))
    tld = _TLD_ARRAY.take(rng.integers(0, len(_TLD_ARRAY), size))
    fqdn = pc.binary_join_element_wise(sub, ".", a, b, n, "x.", tld, "")
    base = np.array(_BACKGROUND_BASES, dtype=np.int64)[rng.integers(0, 4, size)]
    numbers = base + rng.integers(0, 65_536, size)
    as_of = np.datetime64(cfg.as_of, "s")
    last = as_of - rng.integers(0, 400 * 86400, size).astype("timedelta64[s]")
    first = last - rng.integers(0, 800 * 86400, size).astype("timedelta64[s]")
    return pa.table(
        {
            "fqdn": fqdn,
            "rrtype": pa.array(np.full(size, "A")),
            "value": _dotted(numbers),
            "first_seen": pa.array(first, pa.timestamp("s")),
            "last_seen": pa.array(last, pa.timestamp("s")),
            "count": pa.array(rng.integers(1, 10_000, size), pa.int64()),
        }
    )


def _dotted(numbers: np.ndarray) -> pa.Array:
    octets = [pa.array((numbers >> shift) & 255).cast(pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")
