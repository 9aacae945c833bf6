"""Synthetic network logs of key units, with planted indicator hits and near misses.

``generate_logs`` gives the three log tables (``dns_logs``, ``flow_logs``,
``http_logs``) of the given units over ``days`` days, a STIX 2.1 bundle of the
indicators, the truth (``ioc_hit`` and ``threat_warning`` subjects that detection must
find) and the near misses (look-alikes that must not be found):

* planted: an indicator domain queried exactly and through a subdomain, an address
  contacted in flows and answered in DNS, an address inside an indicator's CIDR block,
  an indicator URL fetched (spelled differently: case, default port, escapes);
* near misses: ``notevil`` and ``evil….com`` look-alikes of a domain, a hit before its
  indicator's ``valid_from``, the domain of a revoked indicator, an address just outside
  a block, the same URL with another path.

Each campaign plants all of these on three units (``LogsConfig.campaigns``, rotating
through the units); indicator values never repeat across campaigns. ``longpan synth``
calls it for the key units with no background of its own (``synth/keyunits.py`` adds
the background in bulk). Same seed, same output.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

NAMESPACE = uuid.UUID("6b1d0c52-3f4e-4a51-9d0e-6c6f6e677061")
BENIGN = (
    "www.baidu.com", "weixin.qq.com", "www.taobao.com", "api.weibo.cn", "www.jd.com",
    "mail.163.com", "www.gov.cn", "update.microsoft.com", "www.apple.com", "cdn.jsdelivr.net",
    "www.bilibili.com", "pan.baidu.com", "www.ccb.com", "www.icbc.com.cn", "ntp.aliyun.com",
)  # fmt: skip
WORDS = ("update", "sync", "cloud", "msn", "office", "secure", "cdn", "login", "mail", "dns")
TLDS = ("com", "net", "org", "info", "top", "xyz")
# near-miss kinds (near_misses.csv): hits the detector must not report
LOOKALIKE, BEFORE_VALID, REVOKED = "ioc_lookalike", "ioc_before_valid_from", "ioc_revoked"
OUTSIDE_BLOCK, OTHER_PATH = "ioc_outside_block", "ioc_other_url_path"
NEAR_MISS_KINDS = (LOOKALIKE, BEFORE_VALID, REVOKED, OUTSIDE_BLOCK, OTHER_PATH)


@dataclass(frozen=True)
class LogsConfig:
    seed: int = 1
    as_of: datetime = datetime(2024, 12, 31, 12, 0, 0)
    days: int = 14
    dns_per_unit: int = 120
    flow_per_unit: int = 60
    http_per_unit: int = 60
    campaigns: int = 1  # sets of planted hits and near misses, each on three units


@dataclass
class SynthLogs:
    dns_logs: list[dict[str, Any]] = field(default_factory=list)
    flow_logs: list[dict[str, Any]] = field(default_factory=list)
    http_logs: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)  # STIX objects
    truth: list[dict[str, str]] = field(default_factory=list)
    near_misses: list[dict[str, str]] = field(default_factory=list)

    @property
    def bundle(self) -> dict[str, Any]:
        ident = uuid.uuid5(NAMESPACE, json.dumps([o["id"] for o in self.indicators]))
        return {"type": "bundle", "id": f"bundle--{ident}", "objects": self.indicators}


class _Generator:
    def __init__(self, units: Sequence[str], clients: Mapping[str, Sequence[str]], cfg: LogsConfig):
        self.rng = random.Random(cfg.seed)
        self.cfg = cfg
        self.units = list(units)
        self.clients = {u: list(clients.get(u) or self._addresses(u)) for u in units}
        self.out = SynthLogs()
        self.start = cfg.as_of - timedelta(days=cfg.days)
        self.taken: set[str] = set()  # indicator values and /24s used by earlier campaigns

    def _addresses(self, unit: str) -> list[str]:
        second = self.units.index(unit) % 250 + 1
        return [f"10.{second}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"
                for _ in range(4)]  # fmt: skip

    def moment(self, after: datetime | None = None) -> datetime:
        lo = after or self.start
        span = int((self.cfg.as_of - lo).total_seconds())
        return lo + timedelta(seconds=self.rng.randrange(max(span, 1)))

    def name(self) -> str:
        word, tld = self.rng.choice(WORDS), self.rng.choice(TLDS)
        return f"{word}-{self.rng.randrange(10**5):05d}{self.rng.choice('abcdefgh')}.{tld}"

    def public_ip(self) -> str:
        first = self.rng.choice((45, 91, 103, 185, 194))
        rest = (self.rng.randrange(256), self.rng.randrange(256), self.rng.randrange(1, 255))
        return ".".join(map(str, (first, *rest)))

    def fresh(self, draw: Callable[[], str]) -> str:
        """A value from ``draw`` that no earlier campaign planted."""
        value = draw()
        while value in self.taken:
            value = draw()
        self.taken.add(value)
        return value

    def block_net(self) -> str:
        """The first three octets of a new indicator /24 whose next /24 is free too (the
        near miss "just outside" lands there)."""
        while True:
            net = f"{self.rng.choice((46, 92, 104))}.{self.rng.randrange(256)}"
            net += f".{self.rng.randrange(256)}"
            head, _, third = net.rpartition(".")
            outside = f"{head}.{(int(third) + 1) % 256}"
            if not {net, outside} & self.taken:
                self.taken.update((net, outside))
                return net

    def indicator(self, pattern: str, *, valid_from: datetime, revoked: bool = False,
                  confidence: int = 80, modified: datetime | None = None) -> str:  # fmt: skip
        ident = f"indicator--{uuid.uuid5(NAMESPACE, pattern)}"
        created = valid_from - timedelta(days=1)
        obj = {
            "type": "indicator", "spec_version": "2.1", "id": ident,
            "created": _stix_time(created), "modified": _stix_time(modified or created),
            "name": f"APT C2 {pattern.split(chr(39))[1]}",
            "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "valid_from": _stix_time(valid_from),
            "confidence": confidence,
            "kill_chain_phases": [
                {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
            ],
        }  # fmt: skip
        if revoked:
            obj["revoked"] = True
        self.out.indicators.append(obj)
        return ident

    def dns(self, unit: str, ts: datetime, qname: str, answer: str | None) -> None:
        client = self.rng.choice(self.clients[unit])
        row = {"ts": ts, "org_uscc": unit, "client_ip": client, "qname": qname, "answer": answer}
        self.out.dns_logs.append(row)

    def flow(self, unit: str, ts: datetime, dst: str, port: int = 443) -> None:
        src = self.rng.choice(self.clients[unit])
        size = self.rng.randrange(200, 2_000_000)
        row = {"ts": ts, "org_uscc": unit, "src": src, "dst": dst, "dport": port, "bytes": size}
        self.out.flow_logs.append(row)

    def http(self, unit: str, ts: datetime, host: str, url: str) -> None:
        self.out.http_logs.append({"ts": ts, "org_uscc": unit, "host": host, "url": url})

    def truth(self, finding_type: str, subject: str, note: str) -> None:
        self.out.truth.append({"finding_type": finding_type, "subject": subject, "note": note})

    def near_miss(self, unit: str, value: str, kind: str, note: str) -> None:
        self.out.near_misses.append({"subject": f"{unit}:{value}", "kind": kind, "note": note})


def generate_logs(
    units: Sequence[str],
    cfg: LogsConfig | None = None,
    clients: Mapping[str, Sequence[str]] | None = None,
) -> SynthLogs:
    """Logs of ``units`` (统一社会信用代码; at least 3 unless ``cfg.campaigns`` is 0) with
    planted hits and near misses."""
    if len(units) < 3 and (cfg is None or cfg.campaigns > 0):
        raise ValueError("at least three units are needed to plant hits and near misses")
    gen = _Generator(units, clients or {}, cfg or LogsConfig())
    _background(gen)
    for campaign in range(gen.cfg.campaigns):
        trio = [gen.units[(3 * campaign + i) % len(gen.units)] for i in range(3)]
        _plant_domains(gen, trio)
        _plant_addresses(gen, trio)
        _plant_url(gen, trio)
    for rows in (gen.out.dns_logs, gen.out.flow_logs, gen.out.http_logs):
        rows.sort(key=lambda r: (r["ts"], r["org_uscc"], json.dumps(r, default=str)))
    return gen.out


def _background(gen: _Generator) -> None:
    cfg = gen.cfg
    for unit in gen.units:
        for _ in range(cfg.dns_per_unit):
            gen.dns(unit, gen.moment(), gen.rng.choice(BENIGN), gen.public_ip())
        for _ in range(cfg.flow_per_unit):
            gen.flow(unit, gen.moment(), gen.public_ip(), gen.rng.choice((53, 80, 443, 8080)))
        for _ in range(cfg.http_per_unit):
            host = gen.rng.choice(BENIGN)
            gen.http(unit, gen.moment(), host, f"/{gen.rng.choice(WORDS)}/{gen.rng.randrange(999)}")


def _plant_domains(gen: _Generator, trio: Sequence[str]) -> None:
    first, second, third = trio
    valid = gen.cfg.as_of - timedelta(days=60)
    evil = gen.fresh(gen.name)
    gen.indicator(f"[domain-name:value = '{evil}']", valid_from=valid, confidence=90)
    gen.dns(first, gen.moment(), evil, gen.fresh(gen.public_ip))  # never another C2
    gen.dns(first, gen.moment(), evil, gen.fresh(gen.public_ip))
    gen.dns(second, gen.moment(), f"a.b.{evil}", None)  # a subdomain: the parent matches
    gen.http(third, gen.moment(), f"cdn.{evil}", "/jquery.min.js")
    for unit in (first, second, third):
        gen.truth("ioc_hit", f"{unit}:{evil}", "indicator domain queried (itself or a subdomain)")
    gen.truth("threat_warning", f"indicator:{evil}", "one warning listing the three units")
    gen.dns(third, gen.moment(), f"not{evil}", None)
    gen.near_miss(third, f"not{evil}", LOOKALIKE, f"look-alike of {evil} (prefix), not under it")
    gen.dns(third, gen.moment(), f"{evil}.com", None)
    gen.near_miss(
        third, f"{evil}.com", LOOKALIKE, f"{evil} followed by .com: another registered domain"
    )
    late = gen.fresh(gen.name)
    recent = gen.cfg.as_of - timedelta(days=2)
    gen.indicator(f"[domain-name:value = '{late}']", valid_from=recent, confidence=60)
    gen.dns(first, recent - timedelta(days=3), late, None)
    gen.near_miss(first, late, BEFORE_VALID, "queried before the indicator's valid_from")
    gone = gen.fresh(gen.name)
    created = gen.cfg.as_of - timedelta(days=30)
    gen.indicator(f"[domain-name:value = '{gone}']", valid_from=created)
    gen.indicator(f"[domain-name:value = '{gone}']", valid_from=created, revoked=True,
                  modified=created + timedelta(days=5))  # fmt: skip
    gen.dns(second, gen.moment(), gone, None)
    gen.near_miss(second, gone, REVOKED, "the indicator was revoked (a newer version says so)")


def _plant_addresses(gen: _Generator, trio: Sequence[str]) -> None:
    first, second, third = trio
    valid = gen.cfg.as_of - timedelta(days=90)
    c2 = gen.fresh(gen.public_ip)
    gen.indicator(f"[ipv4-addr:value = '{c2}']", valid_from=valid, confidence=70)
    gen.flow(second, gen.moment(), c2, 8443)
    gen.dns(third, gen.moment(), gen.fresh(gen.name), c2)  # some name resolving to the C2
    gen.truth("ioc_hit", f"{second}:{c2}", "flow to the indicator address")
    gen.truth("ioc_hit", f"{third}:{c2}", "DNS answer is the indicator address")
    gen.truth("threat_warning", f"indicator:{c2}", "two units")
    net = gen.block_net()
    block = f"{net}.0/24"
    gen.indicator(f"[ipv4-addr:value = '{block}']", valid_from=valid, confidence=40)
    gen.flow(first, gen.moment(), f"{net}.{gen.rng.randrange(1, 255)}", 443)
    gen.truth("ioc_hit", f"{first}:{block}", "flow to an address inside the indicator's block")
    gen.truth("threat_warning", f"indicator:{block}", "one unit")
    head, _, third_octet = net.rpartition(".")
    outside = f"{head}.{(int(third_octet) + 1) % 256}.7"
    gen.flow(third, gen.moment(), outside, 443)
    gen.near_miss(third, block, OUTSIDE_BLOCK, f"{outside} is just outside {block}")


def _plant_url(gen: _Generator, trio: Sequence[str]) -> None:
    first, _, third = trio
    host = gen.fresh(gen.name)
    url = f"http://{host}/payload/stage2.bin"
    gen.indicator(f"[url:value = '{url}']", valid_from=gen.cfg.as_of - timedelta(days=20))
    spelled = f"HTTP://{host.upper()}:80/payload/%73tage2.bin"  # same URL, other spelling
    gen.http(first, gen.moment(), host, spelled)
    gen.truth("ioc_hit", f"{first}:{url}", "indicator URL fetched (spelled differently)")
    gen.truth("threat_warning", f"indicator:{url}", "one unit")
    gen.http(third, gen.moment(), host, "/payload/readme.txt")
    gen.near_miss(third, f"http://{host}/payload/readme.txt", OTHER_PATH, "same host, other path")


def _stix_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_logs(logs: SynthLogs, folder: Path) -> dict[str, int]:
    """dns_logs.csv, flow_logs.csv, http_logs.csv, indicators.json (the STIX bundle),
    threat_truth.csv and threat_near_misses.csv in ``folder``; rows per file."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in ("dns_logs", "flow_logs", "http_logs"):
        rows = getattr(logs, name)
        table = pa.Table.from_pylist(rows)
        pacsv.write_csv(table, folder / f"{name}.csv")
        counts[name] = len(rows)
    (folder / "indicators.json").write_text(json.dumps(logs.bundle, indent=1), "utf-8")
    for name, rows in (("threat_truth", logs.truth), ("threat_near_misses", logs.near_misses)):
        pacsv.write_csv(pa.Table.from_pylist(rows), folder / f"{name}.csv")
        counts[name] = len(rows)
    return counts
