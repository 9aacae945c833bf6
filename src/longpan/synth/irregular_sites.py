"""Site- and domain-level irregularities, each written to the ground truth.

unfiled_website, false_filing, shell_website, dissolved_subject, expired_domain,
domain_moved_abroad. (Look-alikes are in lookalikes.py, IP filings in irregular_ip.py.)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from longpan.synth import reference as ref
from longpan.synth.inject import Province
from longpan.synth.universe import Crawl, DomainRecord, Whois, at, footer_text, registrations


def dissolved_subjects(p: Province) -> None:
    """Companies deregistered (注销) or whose licence was revoked (吊销), filing still active."""
    companies = [
        int(i)
        for i in np.flatnonzero(p.subjects.kind == "company")
        if p.subjects.industry[i] != "key_unit" and int(i) not in p.used_subjects
    ]
    count = p.cfg.count("dissolved_subject", len(companies))
    for row in sorted(int(x) for x in p.rng.choice(companies, count, replace=False)):
        p.used_subjects.add(row)
        status = "注销" if p.rng.random() < 0.7 else "吊销"
        p.subjects.entity_status[row] = status
        approved = p.subjects.approved[row].astype(object)
        span = max(1, (p.cfg.as_of - approved).days)
        p.subjects.entity_status_date[row] = np.datetime64(
            approved + timedelta(days=int(p.rng.integers(0, span))), "D"
        )
        p.flag("dissolved_subject", str(p.subjects.licence[row]), f"registry status {status}")


def false_filings(p: Province) -> None:
    records = p.take_records(p.cfg.count("false_filing", len(p.universe.records)))
    licences = [s.licence for s in p.services.rows]
    existing = {str(x) for x in p.subjects.licence}
    for record in records:
        service = p.services.rows[record.service]
        unit = str(p.subjects.name[service.subject])
        roll = p.rng.random()
        if roll < 0.6:
            other = licences[int(p.rng.integers(0, len(licences)))]
            while other.rsplit("-", 1)[0] == service.licence.rsplit("-", 1)[0]:
                other = licences[int(p.rng.integers(0, len(licences)))]
            _show_footer(p, record, unit, other)
            note = f"footer shows {other}, another subject's number"
        elif roll < 0.8:
            fake = _unused_licence(p, existing)
            _show_footer(p, record, unit, f"{fake}-1")
            note = f"footer shows {fake}-1, which does not exist"
        else:
            other_name = str(p.subjects.name[int(p.rng.integers(0, len(p.subjects)))])
            for whois in record.whois:
                whois.registrant = other_name if other_name != unit else other_name + "（代持）"
            note = f"registrant {record.whois[-1].registrant} is not the filing subject {unit}"
        p.flag("false_filing", record.domain, note)


def _unused_licence(p: Province, existing: set[str]) -> str:
    """An 8-digit subject licence nobody holds: from this shard's share of the numbers
    (other shards cannot hold it) and not one of this shard's own."""
    while True:
        fake = f"苏ICP备{p.cfg.shard.integer(p.rng, 10_000_000, 99_999_999)}号"
        if fake not in existing:
            return fake


def _show_footer(p: Province, record: DomainRecord, unit: str, licence: str) -> None:
    for crawl in record.crawls:
        crawl.footer = footer_text(unit, licence, p.cfg.as_of.year, int(p.rng.integers(0, 3)))


def shell_websites(p: Province) -> None:
    """Filings with no access information, or whose sites are gone for weeks."""
    records = p.take_records(p.cfg.count("shell_website", len(p.services.websites())))
    for record in records:
        service = p.services.rows[record.service]
        if p.rng.random() < 0.5:
            service.access_ips = []
            note = "filing lists no access address"
        else:
            record.resolves_until = p.days_ago(45, 200)
            for crawl in record.crawls:
                crawl.http_status, crawl.title, crawl.content_length, crawl.footer = (
                    None,
                    None,
                    None,
                    None,
                )
            note = f"no DNS answer since {record.resolves_until}, crawls fail"
        p.flag("shell_website", record.domain, note)


def expired_domains(p: Province) -> None:
    records = p.take_records(p.cfg.count("expired_domain", len(p.universe.records)))
    for record in records:
        lapsed = p.rng.random() < 0.2
        note = expire(p, record, lapsed)
        p.flag("expired_domain", record.domain, note)


def expire(p: Province, record: DomainRecord, lapsed: bool) -> str:
    """Rewrite the record's WHOIS so the registration ends before the as-of date.

    A registration runs at least a year: one younger than that cannot have expired, so
    it is deleted instead (no longer registered).
    """
    first = record.whois[0]
    expiry = p.days_ago(5, 200)
    created = first.created_at.date() if first.created_at else None
    if created is not None and expiry < created + timedelta(days=365):
        expiry, lapsed = created + timedelta(days=365), True
    end = datetime(expiry.year, expiry.month, expiry.day)
    read = p.days_ago(5, 200) if expiry > p.cfg.as_of else expiry
    before = at(_not_before(first, read - timedelta(days=int(p.rng.integers(30, 300)))), p.rng)
    after = _later(
        before, at(min(p.cfg.as_of, read + timedelta(days=int(p.rng.integers(1, 40)))), p.rng)
    )
    record.whois = [
        Whois(
            before,
            first.iana_id,
            first.registrar,
            first.registrant,
            first.created_at,
            end,
            "clientTransferProhibited",
        )
    ]
    if lapsed:
        record.whois.append(Whois(after, None, None, None, None, None, "unregistered"))
        return f"registration ending {expiry} deleted: no longer registered"
    record.whois.append(
        Whois(
            after,
            first.iana_id,
            first.registrar,
            first.registrant,
            first.created_at,
            end,
            "redemptionPeriod",
        )
    )
    return f"expired {expiry}"


def moved_abroad(p: Province) -> None:
    records = p.take_records(p.cfg.count("domain_moved_abroad", len(p.universe.records)))
    for record in records:
        target = ref.OVERSEAS_REGISTRARS[int(p.rng.integers(0, len(ref.OVERSEAS_REGISTRARS)))]
        source = transfer(p, record, target)
        p.flag("domain_moved_abroad", record.domain, f"{source} → {target.name} ({target.country})")


def transfer(p: Province, record: DomainRecord, target: ref.Registrar) -> str:
    """At least one observation at the old registrar, then the latest at ``target``."""
    old = record.whois[0]
    moved = p.days_ago(5, 120)
    before = at(_not_before(old, moved - timedelta(days=int(p.rng.integers(20, 200)))), p.rng)
    after = _later(
        before, at(min(p.cfg.as_of - timedelta(days=1), moved + timedelta(days=3)), p.rng)
    )
    record.whois = [
        Whois(
            before,
            old.iana_id,
            old.registrar,
            old.registrant,
            old.created_at,
            old.expires_at,
            old.status,
        ),
        Whois(
            after,
            target.iana_id,
            target.name,
            old.registrant,
            old.created_at,
            old.expires_at,
            "clientTransferProhibited",
        ),
    ]
    return str(old.registrar)


def unfiled_websites(p: Province) -> None:
    """Sites served from the province's filed address space with no filing at all."""
    count = p.cfg.count("unfiled_website", len(p.services.websites()))
    for _ in range(count):
        address, ap = p.pool_address()
        record = live_unfiled(p, address, "unfiled")
        p.flag("unfiled_website", record.domain, f"served from {address} ({ap.org.name})")


def live_unfiled(p: Province, address: str, tag: str, status: int = 200) -> DomainRecord:
    """A new, unfiled site with live content at ``address``."""
    chars = ref.NAME_PINYIN
    label = "".join(chars[int(i)] for i in p.rng.integers(0, len(chars), 2))
    label += ("game", "bet", "vip", "shop", "video", "loan", "tech")[int(p.rng.integers(0, 7))]
    domain = p.fresh_domain(label, ("com", "top", "xyz", "cn", "net")[int(p.rng.integers(0, 5))])
    created = p.days_ago(60, 900)
    registrar = ref.REGISTRARS[int(p.rng.integers(0, len(ref.REGISTRARS)))]
    record = DomainRecord(domain, -1, [address], p.days_ago(0, 5), created, tag=tag)
    record.whois = registrations(p.cfg, created, 1, registrar, None, p.rng)
    title = ("在线娱乐", "高清影视", "快速贷款", "精品商城", "游戏中心")[int(p.rng.integers(0, 5))]
    length = int(p.rng.integers(5_000, 200_000)) if status < 400 else 512
    record.crawls = [
        Crawl(
            f"www.{domain}",
            at(p.days_ago(0, 15), p.rng),
            status,
            title if status < 400 else "404 Not Found",
            length,
            None,
        )
    ]
    p.universe.add(record)
    return record


def _not_before(whois: Whois, day: date) -> date:
    """``day``, or the day after the registration was created if that is later."""
    if whois.created_at is None:
        return day
    return max(day, whois.created_at.date() + timedelta(days=1))


def _later(first: datetime, second: datetime) -> datetime:
    """``second``, moved after ``first`` when a young registration pushed ``first`` late."""
    return second if second > first else first + timedelta(hours=12)
