"""Organisations and the province's IP space.

Address blocks come from the real ip2region segments of the province, by carrier
(电信/联通/移动): carriers re-allocate blocks to access providers (再次分配), who
allocate small ranges to hosting customers (分配且使用) and keep shared hosting pools
(自用) and reserves (预留). Every IPv4 block therefore geolocates to the province.
"""

from __future__ import annotations

import ipaddress
from array import array
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from longpan.resources.geo import province_segments
from longpan.synth import reference as ref
from longpan.synth.codes import org_codes, usccs
from longpan.synth.model import Shard, SynthConfig
from longpan.synth.subjects import Subjects


@dataclass
class Org:
    uscc: str
    name: str
    roles: list[str]
    city: str


@dataclass
class IpFiling:
    start: int | ipaddress.IPv6Address
    end: int | ipaddress.IPv6Address
    reporter: str  # uscc
    source_unit: str
    allocation: str
    user_name: str
    user_uscc: str
    province: str
    city: str
    filed_at: date

    @property
    def start_ip(self) -> str:
        return str(ipaddress.ip_address(self.start))

    @property
    def end_ip(self) -> str:
        return str(ipaddress.ip_address(self.end))


@dataclass
class AccessProvider:
    org: Org
    # shared hosting addresses (自用), 8 bytes each: the pools outlive xl's shards
    pool: array[int] = field(default_factory=lambda: array("Q"))
    reserve: list[IpFiling] = field(default_factory=list)  # 预留 blocks
    blocks: list[IpFiling] = field(default_factory=list)  # what carriers gave it
    cursor: int = 0  # next free address inside its blocks
    block_index: int = 0


@dataclass
class Network:
    carriers: list[Org]
    access_providers: list[AccessProvider]
    cdn: AccessProvider
    key_units: list[Org]
    registrars: list[Org]
    filings: list[IpFiling]
    allocators: dict[str, Allocator] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # carrier uscc → group name

    @property
    def organisations(self) -> list[Org]:
        aps = [ap.org for ap in self.access_providers] + [self.cdn.org]
        return self.carriers + aps + self.key_units + self.registrars


class Allocator:
    """Hands out aligned blocks from a carrier's province segments, in a shuffled order."""

    def __init__(self, segments: list[tuple[int, int, str]], rng: np.random.Generator) -> None:
        order = rng.permutation(len(segments))
        self.segments = [segments[i] for i in order]
        self.index = 0
        self.next = self.segments[0][0] if segments else 0

    def take(self, size: int) -> tuple[int, int, str]:
        """The next aligned block of ``size`` addresses (SpaceExhausted when none is left)."""
        while self.index < len(self.segments):
            start, end, city = self.segments[self.index]
            aligned = -(-max(self.next, start) // size) * size
            if aligned + size - 1 <= end:
                self.next = aligned + size
                return aligned, aligned + size - 1, city
            self.index += 1
            if self.index < len(self.segments):
                self.next = self.segments[self.index][0]
        raise SpaceExhausted("the carrier's address space in the province is exhausted")


class SpaceExhausted(RuntimeError):
    """A carrier has no aligned block of the requested size left in the province."""


def _segments_by_isp(province: str) -> dict[str, list[tuple[int, int, str]]]:
    found: dict[str, list[tuple[int, int, str]]] = {}
    for seg in province_segments(province):
        city = (seg.city or "").removesuffix("市")
        if seg.isp and city in ref.CITIES:
            found.setdefault(seg.isp, []).append(
                (int(ipaddress.ip_address(seg.start)), int(ipaddress.ip_address(seg.end)), city)
            )
    return found


def _org_uscc(rng: np.random.Generator, division: str, shard: Shard, taken: set[str]) -> str:
    """A new organisation's code, from the shard's share and not yet ``taken``."""
    while True:
        number = shard.integer(rng, 10_000_000, 99_999_999)
        org = org_codes(np.array([number]), np.array([False]))
        code = str(usccs(np.array(["91"]), np.array([division]), org)[0])
        if code not in taken:
            taken.add(code)
            return code


def make_network(
    cfg: SynthConfig, subjects: Subjects, rng: np.random.Generator, shared: Network | None = None
) -> Network:
    """The organisations and the IP space; later shards get ``shared``, the first
    shard's organisations and address allocators, and continue where it stopped."""
    if shared is not None:
        return replace(shared, key_units=[], filings=[])
    taken = set(subjects.uscc.tolist())
    segments = _segments_by_isp(cfg.province)
    carriers = [
        Org(
            _org_uscc(rng, "320000", cfg.shard, taken),
            name.format(province=cfg.province),
            ["access_provider", "carrier"],
            "南京",
        )
        for name, _isp, _group in ref.CARRIERS
    ]
    allocators = {isp: Allocator(segments[isp], rng) for _n, isp, _g in ref.CARRIERS}
    groups = {c.uscc: group for c, (_n, _i, group) in zip(carriers, ref.CARRIERS, strict=True)}
    net = Network(carriers, [], AccessProvider(Org("", "", [], "")), [], [], [], allocators, groups)
    net.access_providers = [
        _access_provider(cfg, i, rng, taken) for i in range(cfg.scale.access_providers)
    ]
    net.cdn = _access_provider(cfg, -1, rng, taken, cdn=True)
    for ap in [*net.access_providers, net.cdn]:
        carrier_index = int(rng.integers(0, 3))
        ap.blocks.append(
            _reallocate(
                cfg,
                carriers[carrier_index],
                groups,
                ap.org,
                allocators[ref.CARRIERS[carrier_index][1]],
                256,
                rng,
            )
        )
    net.filings += [b for ap in [*net.access_providers, net.cdn] for b in ap.blocks]
    net.filings += _carrier_own_blocks(cfg, carriers, groups, allocators, rng)
    net.key_units = _key_units(cfg, subjects, rng)
    net.filings += _key_unit_lines(cfg, net.key_units, carriers, groups, allocators, rng)
    net.filings += _ipv6_blocks(cfg, carriers, groups, net.access_providers, rng)
    net.registrars = [
        Org(_org_uscc(rng, "110108", cfg.shard, taken), r.name, ["registrar"], "北京")
        for r in ref.DOMESTIC_REGISTRARS
    ]
    return net


def _access_provider(
    cfg: SynthConfig, index: int, rng: np.random.Generator, taken: set[str], cdn: bool = False
) -> AccessProvider:
    city = str(rng.choice(np.array(list(ref.CITIES)), p=ref.CITY_WEIGHTS))
    chars = ref.NAME_CHARS
    core = chars[(index * 7 + 3) % len(chars)] + chars[(index * 13 + 5) % len(chars)]
    if cdn:
        name = f"{cfg.province}云加速网络科技有限公司"
    else:
        pattern = ref.ACCESS_PROVIDER_PATTERNS[index % len(ref.ACCESS_PROVIDER_PATTERNS)]
        name = pattern.format(city=city, core=core, province=cfg.province)
        if index >= len(chars):
            name = name.replace("有限公司", f"{index}号数据中心有限公司")
    division = ref.CITIES[city][2][0][0]
    code = _org_uscc(rng, division, cfg.shard, taken)
    return AccessProvider(Org(code, name, ["access_provider"], city))


def _filed_at(cfg: SynthConfig, rng: np.random.Generator, years: float = 8) -> date:
    return cfg.as_of - timedelta(days=int(rng.integers(30, int(365 * years))))


def _reallocate(
    cfg: SynthConfig,
    carrier: Org,
    groups: dict[str, str],
    user: Org,
    allocator: Allocator,
    size: int,
    rng: np.random.Generator,
) -> IpFiling:
    start, end, city = allocator.take(size)
    return IpFiling(
        start,
        end,
        carrier.uscc,
        groups[carrier.uscc],
        "再次分配",
        user.name,
        user.uscc,
        cfg.province,
        city,
        _filed_at(cfg, rng),
    )


def grow_access_provider(
    cfg: SynthConfig, net: Network, ap: AccessProvider, rng: np.random.Generator
) -> None:
    """Give an access provider one more /24 from a carrier (when its space runs out).

    A carrier whose province space is used up passes the request to the next one (only
    xl gets there: China Telecom holds most of Jiangsu's addresses).
    """
    drawn = int(rng.integers(0, 3))
    for carrier_index in (drawn, (drawn + 1) % 3, (drawn + 2) % 3):
        allocator = net.allocators[ref.CARRIERS[carrier_index][1]]
        try:
            block = _reallocate(
                cfg, net.carriers[carrier_index], net.groups, ap.org, allocator, 256, rng
            )
        except SpaceExhausted:
            continue
        ap.blocks.append(block)
        net.filings.append(block)
        return
    raise SpaceExhausted(f"the address space of {cfg.province} is exhausted")


def take_addresses(
    cfg: SynthConfig, net: Network, ap: AccessProvider, size: int, rng: np.random.Generator
) -> tuple[int, int, str]:
    """The next free aligned range of ``size`` addresses inside the provider's blocks."""
    while True:
        if ap.block_index >= len(ap.blocks):
            grow_access_provider(cfg, net, ap, rng)
        block = ap.blocks[ap.block_index]
        base = int(block.start)
        aligned = base + -(-max(ap.cursor, 0) // size) * size
        if aligned + size - 1 <= int(block.end):
            ap.cursor = aligned - base + size
            return aligned, aligned + size - 1, block.city
        ap.block_index += 1
        ap.cursor = 0


def _carrier_own_blocks(
    cfg: SynthConfig,
    carriers: list[Org],
    groups: dict[str, str],
    allocators: dict[str, Allocator],
    rng: np.random.Generator,
) -> list[IpFiling]:
    """Each carrier's own infrastructure (自用) and reserves (预留)."""
    filings = []
    for carrier, (_n, isp, _g) in zip(carriers, ref.CARRIERS, strict=True):
        for allocation in ("自用", "预留"):
            start, end, city = allocators[isp].take(1024)
            user = carrier.name if allocation == "自用" else ""
            filings.append(
                IpFiling(
                    start,
                    end,
                    carrier.uscc,
                    groups[carrier.uscc],
                    allocation,
                    user,
                    carrier.uscc if user else "",
                    cfg.province,
                    city,
                    _filed_at(cfg, rng),
                )
            )
    return filings


def _key_units(cfg: SynthConfig, subjects: Subjects, rng: np.random.Generator) -> list[Org]:
    """Turn some company subjects into key units (banks, utilities, hospitals, transport)."""
    combos = [(city, unit) for unit in ref.KEY_UNITS for city in ref.CITIES]
    wanted = min(len(combos), max(4, cfg.scale.services // 2000))
    units = []
    taken: set[int] = set()
    for pick in rng.permutation(len(combos))[:wanted]:
        city, (pattern, word, _tld) = combos[pick]
        candidates = np.flatnonzero((subjects.kind == "company") & (subjects.city == city))
        free = [int(r) for r in candidates if int(r) not in taken]
        if not free:
            continue
        row = free[int(rng.integers(0, len(free)))]
        taken.add(row)
        abbr = ref.CITIES[city][0]
        subjects.name[row] = pattern.format(city=city)
        subjects.short[row] = (
            subjects.name[row].removesuffix("股份有限公司").removesuffix("有限公司")
        )
        subjects.label[row] = f"{abbr}{word}"
        subjects.industry[row] = "key_unit"
        units.append(Org(str(subjects.uscc[row]), str(subjects.name[row]), ["key_unit"], city))
    return units


def _key_unit_lines(
    cfg: SynthConfig,
    key_units: list[Org],
    carriers: list[Org],
    groups: dict[str, str],
    allocators: dict[str, Allocator],
    rng: np.random.Generator,
) -> list[IpFiling]:
    """Leased lines: carriers allocate small blocks straight to key units (分配且使用)."""
    filings = []
    for unit in key_units:
        index = int(rng.integers(0, 3))
        start, end, city = allocators[ref.CARRIERS[index][1]].take(16)
        filings.append(
            IpFiling(
                start,
                end,
                carriers[index].uscc,
                groups[carriers[index].uscc],
                "分配且使用",
                unit.name,
                unit.uscc,
                cfg.province,
                city,
                _filed_at(cfg, rng),
            )
        )
    return filings


# Real carrier IPv6 prefixes (China Telecom 240e::/20, Unicom 2408:8000::/20,
# Mobile 2409:8000::/20); the province's sub-prefixes are chosen inside them.
_IPV6_BASES = ("240e:300::", "2408:8200::", "2409:8a00::")


def _ipv6_blocks(
    cfg: SynthConfig,
    carriers: list[Org],
    groups: dict[str, str],
    aps: list[AccessProvider],
    rng: np.random.Generator,
) -> list[IpFiling]:
    filings = []
    for index, ap in enumerate(aps[: max(1, len(aps) // 4)]):
        carrier = carriers[index % 3]
        base = int(ipaddress.IPv6Address(_IPV6_BASES[index % 3])) + (index << 80)
        start = ipaddress.IPv6Address(base)
        end = ipaddress.IPv6Address(base + (1 << 80) - 1)  # a /48
        filings.append(
            IpFiling(
                start,
                end,
                carrier.uscc,
                groups[carrier.uscc],
                "再次分配",
                ap.org.name,
                ap.org.uscc,
                cfg.province,
                ap.org.city,
                _filed_at(cfg, rng),
            )
        )
    return filings
