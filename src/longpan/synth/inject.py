"""Shared state for injecting irregularities and near misses, with their ground truth."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from longpan.synth.model import SynthConfig
from longpan.synth.network import AccessProvider, IpFiling, Network, take_addresses
from longpan.synth.services import Services
from longpan.synth.subjects import Subjects
from longpan.synth.universe import DomainRecord, Universe


@dataclass
class Province:
    """Everything generated so far; injectors change it in place."""

    cfg: SynthConfig
    subjects: Subjects
    net: Network
    services: Services
    universe: Universe
    rng: np.random.Generator
    truth: list[tuple[str, str, str]] = field(default_factory=list)
    near_misses: list[tuple[str, str, str]] = field(default_factory=list)
    used_records: set[int] = field(default_factory=set)
    used_subjects: set[int] = field(default_factory=set)
    used_filings: set[int] = field(default_factory=set)
    cdn_addresses: list[str] = field(default_factory=list)
    # (domain, owner) protected against look-alikes, province-wide; None: find them here
    protected: list[tuple[str, str]] | None = None

    def flag(self, finding_type: str, subject: str, note: str) -> None:
        self.truth.append((finding_type, subject, note))

    def near(self, subject: str, kind: str, note: str) -> None:
        self.near_misses.append((subject, kind, note))

    def days_ago(self, low: int, high: int) -> date:
        return self.cfg.as_of - timedelta(days=int(self.rng.integers(low, high)))

    def is_eligible(self, i: int) -> bool:
        """A filed, active, single-domain website record of an ordinary subject, unused."""
        record = self.universe.records[i]
        if record.tag != "filed" or i in self.used_records:
            return False
        service = self.services.rows[record.service]
        return (
            service.status == "active"
            and len(service.domains) == 1
            and service.subject not in self.used_subjects
            and self.subjects.industry[service.subject] != "key_unit"
            and self.subjects.status[service.subject] == "active"
        )

    def eligible_records(self) -> list[int]:
        return [i for i in range(len(self.universe.records)) if self.is_eligible(i)]

    def take_records(self, count: int) -> list[DomainRecord]:
        """``count`` random eligible records, marked used (their subjects too)."""
        records: list[DomainRecord] = []
        total = len(self.universe.records)
        for _attempt in range(count * 50):
            if len(records) == count or total == 0:
                break
            i = int(self.rng.integers(0, total))
            if not self.is_eligible(i):
                continue
            self.used_records.add(i)
            record = self.universe.records[i]
            self.used_subjects.add(self.services.rows[record.service].subject)
            records.append(record)
        return records

    def pool_address(
        self, exclude_ap: str | None = None, only_ap: str | None = None
    ) -> tuple[str, AccessProvider]:
        """A shared-hosting address of some access provider (not ``exclude_ap``; or of
        ``only_ap`` when given and it has a pool)."""
        aps = [ap for ap in self.net.access_providers if ap.pool and ap.org.uscc != exclude_ap]
        if only_ap is not None:
            aps = [ap for ap in aps if ap.org.uscc == only_ap] or aps
        ap = aps[int(self.rng.integers(0, len(aps)))]
        return str(ipaddress.ip_address(ap.pool[int(self.rng.integers(0, len(ap.pool)))])), ap

    def new_filing(
        self, ap: AccessProvider, size: int, allocation: str, user: str = "", user_uscc: str = ""
    ) -> IpFiling:
        start, end, city = take_addresses(self.cfg, self.net, ap, size, self.rng)
        carrier = next(c for c in self.net.carriers if c.uscc == ap.blocks[0].reporter)
        filing = IpFiling(
            start,
            end,
            ap.org.uscc,
            carrier.name,
            allocation,
            user,
            user_uscc,
            self.cfg.province,
            city,
            self.days_ago(30, 900),
        )
        self.net.filings.append(filing)
        return filing

    def fresh_domain(self, label: str, tld: str) -> str:
        """A domain not yet in the universe or in any filing."""
        domain, n = f"{label}.{tld}", 2
        while domain in self.universe.by_domain or domain in self.services.taken_domains:
            domain, n = f"{label}{n}.{tld}", n + 1
        self.services.taken_domains.add(domain)
        return domain
