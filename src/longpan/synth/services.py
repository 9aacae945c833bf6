"""Service filings (网站/APP/小程序/快应用备案), their domains and access addresses."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from longpan.core.identifiers import canonical_domain, to_unicode
from longpan.synth import reference as ref
from longpan.synth.model import SynthConfig
from longpan.synth.network import AccessProvider, IpFiling, Network, take_addresses
from longpan.synth.subjects import Subjects

SERVICE_COUNTS = (1, 2, 3, 4, 5)
SERVICE_COUNT_WEIGHTS = (0.58, 0.22, 0.1, 0.06, 0.04)  # mean ≈ 1.72 services a subject
EXTRA_WORDS = ("shop", "mall", "bbs", "edu", "job", "news", "cloud", "online", "tech", "club")
INSTITUTION_TLDS = {w: tld for _i, w, tld in ref.INSTITUTIONS}
KEY_UNIT_TLDS = {w: tld for _p, w, tld in ref.KEY_UNITS}
SITES_PER_POOL_ADDRESS = 12


@dataclass
class Service:
    licence: str
    subject: int
    type: str
    name: str
    access_provider: str  # uscc ('' when none)
    access_ips: list[str]
    domains: list[str]
    approved: date
    status: str = "active"


@dataclass
class _Draws:
    """Random choices drawn in bulk up front (drawing one at a time is far slower)."""

    tld: np.ndarray
    types: np.ndarray  # (subjects, 5) service types
    word: np.ndarray
    twin: np.ndarray
    idn: np.ndarray
    delay: np.ndarray

    @classmethod
    def make(cls, n: int, rng: np.random.Generator) -> _Draws:
        return cls(
            tld=rng.choice(np.array(ref.TLDS), n, p=ref.TLD_WEIGHTS),
            types=rng.choice(
                np.array(ref.SERVICE_TYPES), (n, len(SERVICE_COUNTS)), p=ref.SERVICE_TYPE_WEIGHTS
            ),
            word=rng.integers(0, len(EXTRA_WORDS), n),
            twin=rng.random(n) < 0.12,
            idn=rng.random(n) < 0.015,
            delay=rng.integers(0, 200, n),
        )


class DomainNames:
    """The registered domains already given out, province-wide.

    The current shard's names are kept as strings; those of earlier shards only as
    sorted 64-bit hashes (8 bytes instead of about 100 for a string in a set), which
    keeps five million names in 40 MB. A hash collision only makes a free name look
    taken, so it gets a number suffix: the outcome stays deterministic and unique.
    """

    def __init__(self) -> None:
        self._current: set[str] = set()
        self._earlier = np.empty(0, dtype=np.uint64)

    def __contains__(self, name: str) -> bool:
        if name in self._current:
            return True
        if not len(self._earlier):
            return False
        key = _name_hash(name)
        at = int(np.searchsorted(self._earlier, key))
        return at < len(self._earlier) and self._earlier[at] == key

    def add(self, name: str) -> None:
        self._current.add(name)

    def seal(self) -> None:
        """Fold the current shard's names into the compact part."""
        fresh = np.array([_name_hash(n) for n in sorted(self._current)], dtype=np.uint64)
        self._earlier = np.sort(np.concatenate([self._earlier, fresh]))
        self._current = set()


def _name_hash(name: str) -> np.uint64:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


@dataclass
class Services:
    rows: list[Service] = field(default_factory=list)
    taken_domains: DomainNames = field(default_factory=DomainNames)

    def websites(self) -> list[int]:
        return [i for i, s in enumerate(self.rows) if s.type == "website" and s.domains]


def make_services(
    cfg: SynthConfig,
    subjects: Subjects,
    net: Network,
    rng: np.random.Generator,
    taken: DomainNames | None = None,
) -> Services:
    """The subjects' services; ``taken``: domains already given out by earlier shards."""
    out = Services(taken_domains=taken if taken is not None else DomainNames())
    counts = rng.choice(SERVICE_COUNTS, len(subjects), p=SERVICE_COUNT_WEIGHTS)
    providers = rng.choice(
        len(net.access_providers), len(subjects), p=_zipf(len(net.access_providers))
    )
    dedicated = (rng.random(len(subjects)) < 0.15) & (subjects.kind != "individual")
    key_lines = _key_unit_lines(net)
    pools: dict[int, list[int]] = {}
    draws = _Draws.make(len(subjects), rng)
    approved = subjects.approved.astype(object)  # datetime.date, converted once
    for row in range(len(subjects)):
        access = _subject_access(
            cfg,
            subjects,
            row,
            net,
            int(providers[row]),
            bool(dedicated[row]),
            key_lines,
            pools,
            rng,
        )
        for number in range(1, int(counts[row]) + 1):
            out.rows.append(_service(cfg, subjects, row, number, access, out, draws, approved[row]))
    return out


def _zipf(n: int) -> np.ndarray:
    """Market shares: a few big access providers and a long tail."""
    weights: np.ndarray = 1.0 / np.arange(1, n + 1) ** 0.9
    return weights / weights.sum()  # type: ignore[no-any-return]


def _key_unit_lines(net: Network) -> dict[str, IpFiling]:
    units = {u.uscc for u in net.key_units}
    return {f.user_uscc: f for f in net.filings if f.user_uscc in units}


@dataclass
class _Access:
    provider: str
    addresses: list[str]


def _subject_access(
    cfg: SynthConfig,
    subjects: Subjects,
    row: int,
    net: Network,
    ap_index: int,
    dedicated: bool,
    key_lines: dict[str, IpFiling],
    pools: dict[int, list[int]],
    rng: np.random.Generator,
) -> _Access:
    """Where the subject's services are hosted: a leased line, a dedicated range or a pool."""
    uscc = str(subjects.uscc[row])
    if uscc in key_lines:
        line = key_lines[uscc]
        return _Access(line.reporter, [str(ipaddress.ip_address(int(line.start) + 1))])
    ap = net.access_providers[ap_index]
    if dedicated:
        start, end, city = take_addresses(cfg, net, ap, 4, rng)
        net.filings.append(
            IpFiling(
                start,
                end,
                ap.org.uscc,
                _source(net, ap),
                "分配且使用",
                str(subjects.name[row]),
                uscc,
                cfg.province,
                city,
                _after(subjects.approved[row], rng),
            )
        )
        return _Access(ap.org.uscc, [str(ipaddress.ip_address(start + 1))])
    return _Access(
        ap.org.uscc, [str(ipaddress.ip_address(_pool_address(cfg, net, ap_index, pools, rng)))]
    )


def _source(net: Network, ap: AccessProvider) -> str:
    carrier = next(c for c in net.carriers if c.uscc == ap.blocks[0].reporter)
    return carrier.name


def _after(day: np.datetime64, rng: np.random.Generator) -> date:
    return day.astype(object) + timedelta(days=int(rng.integers(0, 20)))  # type: ignore[no-any-return]


def _pool_address(
    cfg: SynthConfig,
    net: Network,
    ap_index: int,
    pools: dict[int, list[int]],
    rng: np.random.Generator,
) -> int:
    """A shared-hosting address; pools grow by /27 (filed 自用) as they fill up."""
    pool = pools.setdefault(ap_index, [])
    ap = net.access_providers[ap_index]
    if not pool or rng.random() < 1 / SITES_PER_POOL_ADDRESS:
        start, end, city = take_addresses(cfg, net, ap, 32, rng)
        net.filings.append(
            IpFiling(
                start,
                end,
                ap.org.uscc,
                _source(net, ap),
                "自用",
                ap.org.name,
                ap.org.uscc,
                cfg.province,
                city,
                cfg.as_of - timedelta(days=int(rng.integers(60, 2000))),
            )
        )
        pool.extend(range(start + 1, end))
        ap.pool.extend(range(start + 1, end))
    return pool[int(rng.integers(0, len(pool)))]


def _service(
    cfg: SynthConfig,
    subjects: Subjects,
    row: int,
    number: int,
    access: _Access,
    out: Services,
    draws: _Draws,
    subject_approved: date,
) -> Service:
    kind = str(subjects.kind[row])
    service_type = (
        "website" if number == 1 or kind != "company" else str(draws.types[row, number - 1])
    )
    delay = timedelta(days=int(draws.delay[row]) * (number - 1) + number)
    approved = min(subject_approved + delay, cfg.as_of - timedelta(days=1))
    short = str(subjects.short[row])
    domains = _domains(subjects, row, number, out, draws) if service_type == "website" else []
    name = {
        "website": short,
        "app": f"{short}APP",
        "miniprogram": f"{short}小程序",
        "quickapp": f"{short}快应用",
    }[service_type]
    return Service(
        f"{subjects.licence[row]}-{number}",
        row,
        service_type,
        name,
        access.provider,
        list(access.addresses),
        domains,
        approved,
    )


def _domains(subjects: Subjects, row: int, number: int, out: Services, draws: _Draws) -> list[str]:
    label = str(subjects.label[row])
    if number > 1:
        label += EXTRA_WORDS[(int(draws.word[row]) + number) % len(EXTRA_WORDS)]
    if subjects.kind[row] == "company" and draws.idn[row] and number == 1:
        suffix = ("中国", "cn", "com")[row % 3]
        return [_unique(out, canonical_domain(f"{subjects.short[row]}.{suffix}"))]
    tld = _tld(subjects, row, draws)
    domains = [_unique(out, f"{label}.{tld}")]
    if draws.twin[row] and tld in ("com", "cn", "com.cn"):
        other = {"com": "cn", "cn": "com", "com.cn": "com"}[tld]
        domains.append(_unique(out, f"{label}.{other}"))
    return domains


def _tld(subjects: Subjects, row: int, draws: _Draws) -> str:
    kind, label = str(subjects.kind[row]), str(subjects.label[row])
    if kind == "government":
        return "gov.cn"
    if kind == "association":
        return "org.cn"
    if kind == "institution":
        return next((t for w, t in INSTITUTION_TLDS.items() if w in label), "cn")
    if subjects.industry[row] == "key_unit":
        return next((t for w, t in KEY_UNIT_TLDS.items() if label.endswith(w)), "com")
    return str(draws.tld[row])


def _unique(out: Services, domain: str) -> str:
    """``domain`` (canonical: lowercase ASCII or A-labels) made unique with a number."""
    n = 2
    candidate = domain
    while candidate in out.taken_domains:
        if n == 2:  # decoded only when needed: most domains are free at once
            label, _, suffix = to_unicode(domain).partition(".")
        candidate = canonical_domain(f"{label}{n}.{suffix}")  # valid IDN after the edit
        n += 1
    out.taken_domains.add(candidate)
    return candidate
