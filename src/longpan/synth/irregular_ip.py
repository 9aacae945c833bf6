"""Inaccurate IP filings (IP地址备案不准确), the four kinds the regulator checks:
overlapping filings with different users, a declared province that geolocation
contradicts, an ICP access address outside the access provider's filed space (MIIT
check 1063), and addresses serving filed websites while filed as 预留 (reserved)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import replace

from longpan.synth.inject import Province
from longpan.synth.network import IpFiling

OTHER_PROVINCES = ("浙江", "上海", "安徽", "山东")


def _range(f: IpFiling) -> str:
    return f"{f.start_ip}-{f.end_ip}"


def ip_filings(p: Province) -> None:
    total = p.cfg.count("ip_filing_inaccurate", len(p.net.filings))
    kinds = (_overlap, _province_mismatch, _outside_provider_space, _reserved_but_serving)
    for n in range(max(total, len(kinds))):
        kinds[n % len(kinds)](p)


def _pick_customer(p: Province) -> IpFiling | None:
    """A random unused customer filing (random probes; listing them all each time is slow)."""
    aps = {ap.org.uscc for ap in p.net.access_providers}
    for _ in range(5000):
        index = int(p.rng.integers(0, len(p.net.filings)))
        f = p.net.filings[index]
        if f.allocation == "分配且使用" and f.reporter in aps and index not in p.used_filings:
            p.used_filings.add(index)
            return f
    return None


def _overlap(p: Province) -> None:
    filing = _pick_customer(p)
    if filing is None:
        return
    other = int(p.rng.integers(0, len(p.subjects)))
    twin = replace(
        filing,
        user_name=str(p.subjects.name[other]) + "（重复备案）",
        user_uscc=str(p.subjects.uscc[other]),
        filed_at=p.days_ago(10, 300),
    )
    p.net.filings.append(twin)
    p.used_filings.add(len(p.net.filings) - 1)
    p.flag(
        "ip_filing_inaccurate",
        _range(filing),
        f"filed twice: to {filing.user_name} and to {twin.user_name}",
    )


def _province_mismatch(p: Province) -> None:
    filing = _pick_customer(p)
    if filing is None:
        return
    declared = OTHER_PROVINCES[int(p.rng.integers(0, len(OTHER_PROVINCES)))]
    filing.province = declared
    p.flag(
        "ip_filing_inaccurate",
        _range(filing),
        f"declared {declared}, geolocates to {p.cfg.province}",
    )


def _random_records(p: Province, tries: int = 2000) -> Iterator[int]:
    """Random record indexes (probing beats shuffling half a million records each time)."""
    total = len(p.universe.records)
    for _ in range(tries if total else 0):
        yield int(p.rng.integers(0, total))


def _outside_provider_space(p: Province) -> None:
    """A website's filed access address belongs to another access provider."""
    providers = {ap.org.uscc for ap in p.net.access_providers}
    for index in _random_records(p):
        record = p.universe.records[int(index)]
        if record.tag != "filed" or int(index) in p.used_records:
            continue
        service = p.services.rows[record.service]
        if len(service.domains) != 1 or not service.access_ips or service.status != "active":
            continue
        if service.access_provider not in providers:
            continue
        address, ap = p.pool_address(exclude_ap=service.access_provider)
        p.used_records.add(int(index))
        service.access_ips = [address]
        record.serving = [address]
        p.flag(
            "ip_filing_inaccurate",
            f"{address}-{address}",
            f"access address of {service.licence} is in {ap.org.name}'s space, "
            f"not its access provider's",
        )
        return


def _reserved_but_serving(p: Province) -> None:
    """A 预留 block that in fact serves a filed website."""
    for index in _random_records(p):
        record = p.universe.records[int(index)]
        if record.tag != "filed" or int(index) in p.used_records:
            continue
        service = p.services.rows[record.service]
        ap = next(
            (a for a in p.net.access_providers if a.org.uscc == service.access_provider), None
        )
        if ap is None or len(service.domains) != 1 or service.status != "active":
            continue
        reserved = p.new_filing(ap, 8, "预留")
        p.used_filings.add(len(p.net.filings) - 1)
        address = str(ipaddress.ip_address(int(reserved.start) + 2))
        p.used_records.add(int(index))
        service.access_ips = [address]
        record.serving = [address]
        p.flag(
            "ip_filing_inaccurate", _range(reserved), f"filed as 预留 but serves {record.domain}"
        )
        return


def idle_reserves(p: Province) -> None:
    """Ordinary 预留 blocks that serve nothing (must not be flagged): one per access
    provider, filed in the first shard."""
    if p.cfg.shard.index > 0:
        return
    for ap in p.net.access_providers:
        p.new_filing(ap, 16, "预留")
