"""Near misses: cases that look irregular but are not, each listed for evaluation."""

from __future__ import annotations

import ipaddress
from array import array
from datetime import datetime, timedelta
from functools import lru_cache

from longpan.resources.geo import Segment, province_segments
from longpan.synth import reference as ref
from longpan.synth.inject import Province
from longpan.synth.irregular_sites import expire, live_unfiled, transfer
from longpan.synth.lookalikes import old_similar
from longpan.synth.model import NEAR_MISS_RATE
from longpan.synth.universe import Crawl, Whois, at


def near_misses(p: Province) -> None:
    count = max(1, round(NEAR_MISS_RATE * len(p.services.websites())))
    for kind in (
        _subdomain_of_filed,
        _domestic_transfer,
        _expired_after_cancellation,
        _renewal_after_expiry,
    ):
        kind(p, count)
    _sister_sites(p, count)
    for _ in range(count):
        _outside_province(p)
        _site_404(p)
    _cdn_shared_address(p)
    old_similar(p)


def _subdomain_of_filed(p: Province, count: int) -> None:
    for record in p.take_records(count):
        fqdn = f"blog.{record.domain}"
        record.extra_names.append(fqdn)
        record.crawls.append(Crawl(fqdn, at(p.days_ago(0, 10), p.rng), 200, "博客", 42_000, None))
        p.near(fqdn, "subdomain_of_filed", f"covered by the filing of {record.domain}")


def _sister_sites(p: Province, count: int) -> None:
    """A subject's second site answers from the address filed for its first site."""
    by_subject: dict[int, list[int]] = {}
    for i in p.eligible_records():
        by_subject.setdefault(p.services.rows[p.universe.records[i].service].subject, []).append(i)
    pairs = [rows[:2] for rows in by_subject.values() if len(rows) >= 2]
    for pick in p.rng.permutation(len(pairs))[:count]:
        first, second = pairs[int(pick)]
        p.used_records.update((first, second))
        a, b = p.universe.records[first], p.universe.records[second]
        p.used_subjects.add(p.services.rows[a.service].subject)
        service = p.services.rows[b.service]
        address, ap = p.pool_address(only_ap=service.access_provider)
        if ap.org.uscc != service.access_provider:
            continue  # a leased line (key unit): no second address to file
        service.access_ips = [address]  # filed separately, in its provider's space …
        b.serving = list(a.serving)  # … but served from the sister site's address
        p.near(b.domain, "sister_site_on_filed_ip", f"served from {a.domain}'s filed address")


def _domestic_transfer(p: Province, count: int) -> None:
    for record in p.take_records(count):
        current = record.whois[0].iana_id
        options = [r for r in ref.DOMESTIC_REGISTRARS if r.iana_id != current]
        target = options[int(p.rng.integers(0, len(options)))]
        source = transfer(p, record, target)
        p.near(record.domain, "domestic_transfer", f"{source} → {target.name}, both licensed")


def _expired_after_cancellation(p: Province, count: int) -> None:
    for record in p.take_records(count):
        service = p.services.rows[record.service]
        service.status = "cancelled"
        expire(p, record, lapsed=False)
        record.resolves_until = p.days_ago(100, 300)
        for crawl in record.crawls:
            crawl.http_status, crawl.content_length, crawl.footer = None, None, None
        p.near(record.domain, "expired_after_cancellation", f"{service.licence} was cancelled")


def _renewal_after_expiry(p: Province, count: int) -> None:
    for record in p.take_records(count):
        old = record.whois[0]
        lapse = p.days_ago(20, 90)
        end = datetime(lapse.year, lapse.month, lapse.day)
        renewed = end.replace(year=end.year + 1)
        record.whois = [
            Whois(
                at(lapse - timedelta(days=60), p.rng),
                old.iana_id,
                old.registrar,
                old.registrant,
                old.created_at,
                end,
                "clientTransferProhibited",
            ),
            Whois(
                at(min(p.cfg.as_of, lapse + timedelta(days=10)), p.rng),
                old.iana_id,
                old.registrar,
                old.registrant,
                old.created_at,
                renewed,
                "clientTransferProhibited",
            ),
        ]
        p.near(
            record.domain, "renewal_after_expiry", f"lapsed {lapse}, renewed to {renewed:%Y-%m-%d}"
        )


@lru_cache(maxsize=8)
def _segments(province: str) -> list[Segment]:
    return province_segments(province)


def _outside_province(p: Province) -> None:
    province = ref.OUTSIDE_PROVINCES[int(p.rng.integers(0, len(ref.OUTSIDE_PROVINCES)))]
    segments = _segments(province)
    segment = segments[int(p.rng.integers(0, len(segments)))]
    address = str(ipaddress.ip_address(int(ipaddress.ip_address(segment.start)) + 1))
    record = live_unfiled(p, address, "unfiled_outside_province")
    p.near(record.domain, "unfiled_outside_province", f"hosted at {address} in {province}")


def _site_404(p: Province) -> None:
    address, _ap = p.pool_address()
    record = live_unfiled(p, address, "site_404", status=404)
    p.near(record.domain, "site_404", f"{address} answers 404")


def _cdn_shared_address(p: Province) -> None:
    """CDN addresses (filed 自用 by the CDN) answer for many filed sites."""
    if p.cdn_addresses:
        return  # a later shard: the CDN nodes were filed (and listed) by the first one
    cdn = p.net.cdn
    filing = p.new_filing(cdn, 16, "自用", cdn.org.name, cdn.org.uscc)
    cdn.pool = array("Q", range(int(filing.start) + 1, int(filing.end)))
    p.cdn_addresses = [str(ipaddress.ip_address(a)) for a in cdn.pool[:4]]
    sites = sum(1 for r in p.universe.records if r.cname)
    for address in p.cdn_addresses:
        p.near(address, "cdn_shared_address", f"CDN node answering for {sites} filed sites")
