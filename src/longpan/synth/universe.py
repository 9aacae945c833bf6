"""The registered domains the province's observations are about, one record each.

Every record says what WHOIS, passive DNS and the crawler will have seen of it; the
irregularity injectors change records, and observations.py renders them into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from longpan.synth import reference as ref
from longpan.synth.model import SynthConfig
from longpan.synth.services import Services
from longpan.synth.subjects import Subjects

DOMESTIC_WEIGHTS = (0.45, 0.12, 0.15, 0.08, 0.08, 0.06, 0.06)


@dataclass
class Whois:
    observed_at: datetime
    iana_id: int | None
    registrar: str | None
    registrant: str | None
    created_at: datetime | None
    expires_at: datetime | None
    status: str


@dataclass
class Crawl:
    fqdn: str
    fetched_at: datetime
    http_status: int | None
    title: str | None
    content_length: int | None
    footer: str | None


@dataclass
class DomainRecord:
    domain: str
    service: int = -1  # index into Services.rows, -1 when not filed
    serving: list[str] = field(default_factory=list)  # addresses it resolves to now
    resolves_until: date | None = None  # last_seen of its DNS answers; None: never resolves
    first_seen: date | None = None
    whois: list[Whois] = field(default_factory=list)
    crawls: list[Crawl] = field(default_factory=list)
    cname: str | None = None  # www CNAME target (CDN)
    extra_names: list[str] = field(default_factory=list)  # subdomains seen in DNS
    history: list[str] = field(default_factory=list)  # addresses it resolved to before
    tag: str = "filed"  # filed | unfiled | lookalike | noise | near-miss kinds


@dataclass
class Universe:
    records: list[DomainRecord]
    by_domain: dict[str, int]

    def add(self, record: DomainRecord) -> DomainRecord:
        self.by_domain[record.domain] = len(self.records)
        self.records.append(record)
        return record

    def get(self, domain: str) -> DomainRecord:
        return self.records[self.by_domain[domain]]


def at(day: date, rng: np.random.Generator) -> datetime:
    """A time of day on ``day`` (seconds resolution)."""
    return datetime(day.year, day.month, day.day) + timedelta(seconds=int(rng.integers(0, 86400)))


def footer_text(unit: str, licence: str, year: int, style: int) -> str:
    """A site footer showing ``licence``, sometimes written the way real sites do."""
    shown = licence
    if style == 1:  # full-width digits and hyphen
        shown = licence.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    elif style == 2:  # stray spaces
        shown = licence.replace("ICP备", "ICP备 ").replace("号", " 号")
    return f"Copyright © {year} {unit} 版权所有 {shown}"


def make_universe(
    cfg: SynthConfig, subjects: Subjects, services: Services, rng: np.random.Generator
) -> Universe:
    universe = Universe([], {})
    websites = services.websites()
    draws = _bulk(len(websites), rng)
    for n, index in enumerate(websites):
        service = services.rows[index]
        for domain in service.domains:
            universe.add(_filed_record(cfg, subjects, services, index, domain, draws, n, rng))
    return universe


@dataclass
class _BulkDraws:
    registrar: np.ndarray
    observations: np.ndarray
    cdn: np.ndarray
    footer: np.ndarray
    style: np.ndarray
    subdomains: np.ndarray
    history: np.ndarray


def _bulk(n: int, rng: np.random.Generator) -> _BulkDraws:
    return _BulkDraws(
        registrar=rng.choice(len(ref.DOMESTIC_REGISTRARS), n, p=DOMESTIC_WEIGHTS),
        observations=rng.integers(1, 4, n),
        cdn=rng.random(n) < 0.04,
        footer=rng.choice(3, n, p=(0.7, 0.25, 0.05)),  # service licence | subject | none
        style=rng.choice(3, n, p=(0.94, 0.03, 0.03)),
        subdomains=rng.integers(0, 4, n),
        history=rng.integers(0, 4, n),
    )


def _filed_record(
    cfg: SynthConfig,
    subjects: Subjects,
    services: Services,
    index: int,
    domain: str,
    d: _BulkDraws,
    n: int,
    rng: np.random.Generator,
) -> DomainRecord:
    service = services.rows[index]
    unit = str(subjects.name[service.subject])
    created = service.approved - timedelta(days=int(rng.integers(10, 700)))
    record = DomainRecord(
        domain,
        index,
        list(service.access_ips),
        cfg.as_of - timedelta(days=int(rng.integers(0, 7))),
        created,
    )
    registrar = ref.DOMESTIC_REGISTRARS[int(d.registrar[n])]
    record.whois = registrations(cfg, created, int(d.observations[n]), registrar, unit, rng)
    licence = {0: service.licence, 1: service.licence.rsplit("-", 1)[0], 2: None}[int(d.footer[n])]
    record.crawls = [
        site_crawl(
            cfg,
            domain,
            str(subjects.short[service.subject]),
            str(subjects.industry[service.subject]),
            unit,
            licence,
            int(d.style[n]),
            rng,
        )
    ]
    record.extra_names = [
        f"{ref.SUBDOMAINS[1 + i]}.{domain}"
        for i in rng.choice(len(ref.SUBDOMAINS) - 1, int(d.subdomains[n]), replace=False)
    ]
    record.history = ["" for _ in range(int(d.history[n]))]  # filled by observations
    if d.cdn[n]:
        record.cname = f"{domain}.{ref.CDN_NAMES[n % len(ref.CDN_NAMES)]}.jscdn-cache.com"
    return record


def registrations(
    cfg: SynthConfig,
    created: date,
    count: int,
    registrar: ref.Registrar,
    registrant: str | None,
    rng: np.random.Generator,
    span_days: int = 330,
) -> list[Whois]:
    """WHOIS observations over the last year; the registration is renewed well ahead."""
    span = max(3, min(span_days, (cfg.as_of - created).days))
    days = sorted(
        {int(x) for x in rng.integers(1, span, count)} | {int(rng.integers(1, min(40, span)))}
    )
    years = max(1, (cfg.as_of - created).days // 365 + 1 + int(rng.integers(0, 3)))
    expires = created + timedelta(days=365 * years + 1)
    return [
        Whois(
            at(cfg.as_of - timedelta(days=ago), rng),
            registrar.iana_id,
            registrar.name,
            registrant,
            at(created, rng),
            datetime(expires.year, expires.month, expires.day),
            "clientTransferProhibited",
        )
        for ago in sorted(days, reverse=True)
    ]


def site_crawl(
    cfg: SynthConfig,
    domain: str,
    short: str,
    industry: str,
    unit: str,
    licence: str | None,
    style: int,
    rng: np.random.Generator,
) -> Crawl:
    template = ref.TITLE_TEMPLATES[int(rng.integers(0, len(ref.TITLE_TEMPLATES)))]
    title = template.format(name=short, industry=industry or "互联网")
    footer = footer_text(unit, licence, cfg.as_of.year, style) if licence else None
    fetched = at(cfg.as_of - timedelta(days=int(rng.integers(0, 20))), rng)
    return Crawl(f"www.{domain}", fetched, 200, title, int(rng.integers(8_000, 400_000)), footer)
