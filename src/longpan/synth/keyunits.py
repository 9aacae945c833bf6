"""The key units' internet-facing assets and network logs (重点单位资产与网络日志) in a
synthetic province, and the STIX bundle of the indicators planted in the logs.

Made once per province, after the shards (key units are shared parties), from each key
unit's leased line: the /28 a carrier filed for it (分配且使用) inside the province's
ip2region segments. The unit's hosts take the line's first addresses (its filed website
answers from the first, like its web server asset), its log clients the last ones, so
every asset and client address geolocates to the province.

``synth/assets.py`` makes the assets and ``synth/logs.py`` the planted hits and near
misses; the background traffic (queries of well-known names, flows and requests to
their addresses over 14 days) is made here in bulk, because large and xl need millions
of rows. Background addresses come from networks no indicator is drawn from, so the
planted hits are the only hits. Random streams ``[seed, 67, n]`` are separate from the
shards', so these tables leave every other table's bytes as they were.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from longpan.store.datasets import ASSETS, DNS_LOGS, FLOW_LOGS, HTTP_LOGS
from longpan.store.lake import Dataset
from longpan.synth.assets import make_assets
from longpan.synth.logs import BENIGN, WORDS, LogsConfig, generate_logs
from longpan.synth.model import SynthConfig
from longpan.synth.network import Network
from longpan.synth.output import TableSinks

STREAM = 67  # second element of the key units' seed sequences
DAYS = 14  # days of logs
HOSTS, CLIENTS = 8, 5  # a /28: hosts from .1, clients .10-.14
UNITS_PER_CAMPAIGN = 8  # one set of planted hits for every 8 key units
CHUNK_ROWS = 500_000  # background rows generated (and written) at a time
FEED = Path("feeds") / "indicators.stix.json"
# Background answers and destinations: these first octets never hold an indicator
# (synth/logs.py draws them from 45, 46, 91, 92, 103, 104, 185 and 194).
BENIGN_FIRST_OCTETS = (36, 58, 111, 120, 180, 223)
RESOLVERS = ("114.114.114.114", "223.5.5.5", "119.29.29.29")
ADDRESSES_PER_NAME = 3
Indexes = npt.NDArray[np.int64]
Strings = npt.NDArray[np.object_]
Part = Callable[[Indexes, int], pa.Table]  # rows for the units at these indexes


@dataclass(frozen=True)
class KeyUnit:
    uscc: str
    line_start: int  # first address of the unit's leased /28

    def hosts(self) -> Iterator[str]:
        return (str(ipaddress.ip_address(self.line_start + i)) for i in range(1, HOSTS + 1))

    def clients(self) -> list[str]:
        first = self.line_start + 15 - CLIENTS
        return [str(ipaddress.ip_address(first + i)) for i in range(CLIENTS)]


@dataclass
class KeyUnitResult:
    truth: list[tuple[str, str, str]] = field(default_factory=list)
    near_misses: list[tuple[str, str, str]] = field(default_factory=list)
    indicators: int = 0
    campaigns: int = 0


def key_units(net: Network) -> list[KeyUnit]:
    """The key units with their leased lines (filed by a carrier), in the order made."""
    carriers = {c.uscc for c in net.carriers}
    lines = {
        f.user_uscc: int(f.start)
        for f in net.filings
        if f.reporter in carriers and f.allocation == "分配且使用"
    }
    return [KeyUnit(u.uscc, lines[u.uscc]) for u in net.key_units if u.uscc in lines]


def write_key_units(
    cfg: SynthConfig, units: Sequence[KeyUnit], sinks: TableSinks, folder: Path
) -> KeyUnitResult:
    """Write ``assets`` and the three log tables, and the bundle in ``folder/feeds``."""
    end = datetime.combine(cfg.as_of, time())  # logs end before the as-of day's data
    result = KeyUnitResult()
    _write_assets(cfg, units, sinks, end, result)
    bundle = _write_logs(cfg, units, sinks, end, result)
    result.indicators = len(bundle["objects"])
    if result.indicators:  # a STIX bundle lists at least one object
        path = folder / FEED
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(bundle, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return result


def exchange_schema(dataset: Dataset) -> pa.Schema:
    """The columns a delivery of ``dataset`` supplies, with their declared types."""
    return pa.schema([pa.field(c.name, c.type) for c in dataset.columns if not c.derived])


def _write_assets(
    cfg: SynthConfig,
    units: Sequence[KeyUnit],
    sinks: TableSinks,
    end: datetime,
    result: KeyUnitResult,
) -> None:
    rng = np.random.default_rng([cfg.seed, STREAM, 1])
    scanned = end - timedelta(days=3, hours=21)  # the last scan of the key units
    made = make_assets([u.uscc for u in units], {u.uscc: u.hosts() for u in units}, rng, scanned)
    sinks.write("assets", [made.table().cast(exchange_schema(ASSETS))])
    result.truth += made.truth
    result.near_misses += made.near_misses


def _write_logs(
    cfg: SynthConfig,
    units: Sequence[KeyUnit],
    sinks: TableSinks,
    end: datetime,
    result: KeyUnitResult,
) -> dict[str, Any]:
    """Background in bulk, then the planted rows; the bundle of their indicators."""
    rng = np.random.default_rng([cfg.seed, STREAM, 2])
    per_day = cfg.scale.logs_per_unit_day
    # a campaign needs three units (a province whose key units are fewer plants none)
    campaigns = (len(units) // UNITS_PER_CAMPAIGN or 1) if len(units) >= 3 else 0
    logs = generate_logs(
        [u.uscc for u in units],
        LogsConfig(cfg.seed, end, DAYS, 0, 0, 0, campaigns=campaigns),
        {u.uscc: u.clients() for u in units},
    )
    background = Background(units, end - timedelta(days=DAYS), rng)
    for dataset, make, rows, volume in (
        (DNS_LOGS, background.dns_logs, logs.dns_logs, per_day * DAYS),
        (FLOW_LOGS, background.flow_logs, logs.flow_logs, per_day * DAYS // 2),
        (HTTP_LOGS, background.http_logs, logs.http_logs, per_day * DAYS // 2),
    ):
        planted = pa.Table.from_pylist(rows, schema=exchange_schema(dataset))
        sinks.write(dataset.name, [*background.parts(make, volume), planted])
    result.truth += [(t["finding_type"], t["subject"], t["note"]) for t in logs.truth]
    result.near_misses += [(n["subject"], n["kind"], n["note"]) for n in logs.near_misses]
    result.campaigns = campaigns
    return logs.bundle


class Background:
    """Ordinary traffic of the key units: well-known names, their addresses, resolvers.

    Each unit's rows of a table have distinct timestamps (whole seconds), so no two rows
    share a key.
    """

    def __init__(self, units: Sequence[KeyUnit], start: datetime, rng: np.random.Generator) -> None:
        self.units, self.rng = list(units), rng
        self.start_us = int((start - datetime(1970, 1, 1)).total_seconds()) * 1_000_000
        self.usccs = np.array([u.uscc for u in units], dtype=object)
        self.clients = np.array([c for u in units for c in u.clients()], dtype=object)
        self.names = np.array(BENIGN, dtype=object)
        count = len(BENIGN) * ADDRESSES_PER_NAME
        self.addresses = _addresses(rng, count)  # ADDRESSES_PER_NAME for each name

    def parts(self, make: Part, per_unit: int) -> Iterator[pa.Table]:
        """``make``'s rows, ``per_unit`` for each unit, in parts of whole units."""
        step = max(1, CHUNK_ROWS // max(per_unit, 1))
        for first in range(0, len(self.units) if per_unit else 0, step):
            yield make(np.arange(first, min(first + step, len(self.units))), per_unit)

    def _common(self, indexes: Indexes, per_unit: int) -> dict[str, Any]:
        """Timestamps, units and clients of ``per_unit`` rows for each unit."""
        seconds = [
            np.sort(self.rng.choice(DAYS * 86_400, per_unit, replace=False)) for _ in indexes
        ]
        ts = np.concatenate(seconds).astype(np.int64) * 1_000_000 + self.start_us
        unit = np.repeat(indexes, per_unit)
        client = unit * CLIENTS + self.rng.integers(0, CLIENTS, len(unit))
        return {
            "ts": pa.array(ts, pa.timestamp("us")),
            "org_uscc": pa.array(self.usccs[unit], pa.string()),
            "client": pa.array(self.clients[client], pa.string()),
        }

    def _name_and_address(self, size: int) -> tuple[Indexes, Indexes]:
        name = self.rng.integers(0, len(self.names), size)
        address = name * ADDRESSES_PER_NAME + self.rng.integers(0, ADDRESSES_PER_NAME, size)
        return name, address

    def dns_logs(self, indexes: Indexes, per_unit: int) -> pa.Table:
        common = self._common(indexes, per_unit)
        name, address = self._name_and_address(len(common["ts"]))
        columns = {
            "ts": common["ts"],
            "org_uscc": common["org_uscc"],
            "client_ip": common["client"],
            "qname": pa.array(self.names[name], pa.string()),
            "answer": pa.array(self.addresses[address], pa.string()),
        }
        return pa.table(columns, schema=exchange_schema(DNS_LOGS))

    def flow_logs(self, indexes: Indexes, per_unit: int) -> pa.Table:
        common = self._common(indexes, per_unit)
        size = len(common["ts"])
        _name, address = self._name_and_address(size)
        to_resolver = self.rng.random(size) < 0.15
        resolver = np.array(RESOLVERS, dtype=object)[self.rng.integers(0, len(RESOLVERS), size)]
        web_port = np.array([443, 443, 443, 80, 8080])[self.rng.integers(0, 5, size)]
        columns = {
            "ts": common["ts"],
            "org_uscc": common["org_uscc"],
            "src": common["client"],
            "dst": pa.array(np.where(to_resolver, resolver, self.addresses[address]), pa.string()),
            "dport": pa.array(np.where(to_resolver, 53, web_port), pa.int64()),
            "bytes": pa.array(self.rng.integers(200, 2_000_000, size), pa.int64()),
        }
        return pa.table(columns, schema=exchange_schema(FLOW_LOGS))

    def http_logs(self, indexes: Indexes, per_unit: int) -> pa.Table:
        common = self._common(indexes, per_unit)
        size = len(common["ts"])
        name, _address = self._name_and_address(size)
        words = np.array(WORDS, dtype=object)[self.rng.integers(0, len(WORDS), size)]
        numbers = pc.cast(pa.array(self.rng.integers(0, 999, size)), pa.string())
        path = pc.binary_join_element_wise("", pa.array(words, pa.string()), numbers, "/")
        columns = {
            "ts": common["ts"],
            "org_uscc": common["org_uscc"],
            "host": pa.array(self.names[name], pa.string()),
            "url": path,
        }
        return pa.table(columns, schema=exchange_schema(HTTP_LOGS))


def _addresses(rng: np.random.Generator, count: int) -> Strings:
    """``count`` distinct public addresses outside every indicator's network."""
    found: dict[str, None] = {}
    while len(found) < count:
        first = int(rng.choice(BENIGN_FIRST_OCTETS))
        rest = [*rng.integers(0, 256, 2).tolist(), int(rng.integers(1, 255))]
        found.setdefault(".".join(map(str, (first, *rest))), None)
    return np.array(list(found), dtype=object)
