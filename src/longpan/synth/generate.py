"""``longpan synth``: generate a synthetic province with its ground truth.

Scales up to large are built in memory in one piece. xl is built as ``Scale.shards``
shards, one after the other: each is a province part made by the same machinery with
its own seed, appended to the one file per table and freed before the next, so memory
stays that of one shard. What must hold province-wide travels in a ``Carry``: the
first shard's organisations and address allocators (carriers, access providers, CDN,
registrars and key units are made once), the domains given out so far, the protected
domains and the CDN nodes; identifier spaces are dealt out by ``model.Shard``.

The key units' assets and network logs (``synth/keyunits.py``) are made once, after
the shards, from the key units' leased lines the first shard filed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from longpan.core.errors import InputError
from longpan.core.subjects import canonical_subject
from longpan.synth import observations as obs
from longpan.synth.inject import Province
from longpan.synth.irregular_ip import idle_reserves, ip_filings
from longpan.synth.irregular_sites import (
    dissolved_subjects,
    expired_domains,
    false_filings,
    moved_abroad,
    shell_websites,
    unfiled_websites,
)
from longpan.synth.keyunits import FEED, KeyUnit, KeyUnitResult, key_units, write_key_units
from longpan.synth.lookalikes import lookalikes, protected_domains
from longpan.synth.model import GENERATOR_VERSION, Shard, SynthConfig
from longpan.synth.near_misses import near_misses
from longpan.synth.network import Network, make_network
from longpan.synth.output import TableSinks, write_manifest, write_rows
from longpan.synth.services import DomainNames, make_services
from longpan.synth.subjects import make_subjects
from longpan.synth.universe import make_universe

Progress = Callable[[str], None]
STEPS = ("subjects", "network", "services", "observations", "irregularities", "write")
KEY_UNITS_STEP = "key units"  # assets and logs, once per province
INJECTORS = (
    near_misses,
    dissolved_subjects,
    false_filings,
    shell_websites,
    expired_domains,
    moved_abroad,
    unfiled_websites,
    lookalikes,
    ip_filings,
    idle_reserves,
)


@dataclass(frozen=True)
class SynthResult:
    folder: Path
    counts: dict[str, int]
    truth: int
    near_misses: int
    indicators: int = 0  # STIX objects in feeds/indicators.stix.json


@dataclass
class Carry:
    """What later shards need from earlier ones, and the ground truth gathered so far."""

    net: Network | None = None
    names: DomainNames = field(default_factory=DomainNames)
    protected: list[tuple[str, str]] | None = None
    cdn_addresses: list[str] = field(default_factory=list)
    key_units: list[KeyUnit] = field(default_factory=list)
    truth: set[tuple[str, str, str]] = field(default_factory=set)
    near_misses: set[tuple[str, str, str]] = field(default_factory=set)

    def keep(self, p: Province) -> None:
        """Take what later shards need from shard ``p``, which is then dropped."""
        if self.net is None:
            self.net = replace(p.net, filings=[], key_units=[])
            self.protected = protected_domains(p)
            self.cdn_addresses = list(p.cdn_addresses)
            self.key_units = key_units(p.net)
        self.names.seal()
        self.add(p.truth, p.near_misses)

    def add(
        self, truth: list[tuple[str, str, str]], near_misses: list[tuple[str, str, str]]
    ) -> None:
        self.truth.update((t, canonical_subject(s), note) for t, s, note in truth)
        self.near_misses.update((canonical_subject(s), k, note) for s, k, note in near_misses)


def step_count(cfg: SynthConfig, shards: int | None = None) -> int:
    """How many progress steps ``generate`` reports (one set per shard)."""
    count = shards or cfg.scale.shards
    return len(STEPS) * count + (1 if count > 1 else 0) + 1


def build(
    cfg: SynthConfig, progress: Progress | None = None, carry: Carry | None = None
) -> Province:
    """Generate the province (or one shard of it) in memory, all but background DNS."""
    step = progress or (lambda _name: None)
    carry = carry or Carry()
    rng = np.random.default_rng(cfg.seed_sequence)
    step("subjects")
    subjects = make_subjects(cfg, rng)
    step("network")
    net = make_network(cfg, subjects, rng, carry.net)
    step("services")
    services = make_services(cfg, subjects, net, rng, carry.names)
    step("observations")
    universe = make_universe(cfg, subjects, services, rng)
    province = Province(cfg, subjects, net, services, universe, rng)
    province.cdn_addresses = list(carry.cdn_addresses)
    province.protected = carry.protected
    step("irregularities")
    for inject in INJECTORS:
        inject(province)
    return province


def generate(
    cfg: SynthConfig, out: Path, progress: Progress | None = None, *, shards: int | None = None
) -> SynthResult:
    """Generate and write the province to ``out`` (which must be empty or new).

    ``shards`` overrides the scale's number of shards (tests build small sharded
    provinces this way).
    """
    if out.exists() and any(out.iterdir()):
        raise InputError(f"output folder {out} is not empty; choose a new one", file=str(out))
    count = shards or cfg.scale.shards
    out.mkdir(parents=True, exist_ok=True)
    carry = Carry()
    with TableSinks(out, cfg.scale.parquet, uniform=count > 1) as sinks:
        for index in range(count):
            shard_cfg = replace(cfg, shard=Shard(index, count))
            report = _shard_progress(progress, index, count)
            province = build(shard_cfg, report, carry)
            report("write")
            _write_shard(province, sinks)
            carry.keep(province)
            del province
            gc.collect()  # return the shard's memory before the next one is built
        if count > 1 and progress:
            progress("background DNS")
        sinks.write("dns_observations", obs.background_dns(cfg, sinks.rows["dns_observations"]))
        if progress:
            progress(KEY_UNITS_STEP)
        made = write_key_units(cfg, carry.key_units, sinks, out)
        carry.add(made.truth, made.near_misses)
    counts = dict(sorted(sinks.rows.items()))
    return _write_truth(cfg, out, carry, counts, count, made)


def _shard_progress(progress: Progress | None, index: int, count: int) -> Progress:
    if progress is None:
        return lambda _name: None
    if count == 1:
        return progress
    return lambda name: progress(f"shard {index + 1}/{count}: {name}")


def _write_shard(p: Province, sinks: TableSinks) -> None:
    """Write one shard's rows, one table at a time (each freed before the next)."""
    first = p.cfg.shard.index == 0
    if first:  # shared organisations and the registrar list: written once
        sinks.write("organisations", [obs.organisations(p)])
    sinks.write("entities", [obs.entities(p)])
    sinks.write("icp_subjects", [obs.icp_subjects(p)])
    sinks.write("icp_services", [obs.icp_services(p)])
    if first:
        sinks.write("registrars", [obs.registrars()])
    sinks.write("domain_registrations", [obs.domain_registrations(p)])
    sinks.write("ip_filings", [obs.ip_filings(p)])
    sinks.write("web_crawls", [obs.web_crawls(p)])
    sinks.write("dns_observations", [obs.own_dns(p)])


def _write_truth(
    cfg: SynthConfig,
    out: Path,
    carry: Carry,
    counts: dict[str, int],
    shards: int,
    made: KeyUnitResult,
) -> SynthResult:
    truth = sorted(carry.truth)
    write_rows(out / "truth.csv", ["finding_type", "subject", "note"], truth)
    near = sorted(carry.near_misses)
    write_rows(out / "near_misses.csv", ["subject", "kind", "note"], near)
    manifest = {
        "scale": cfg.scale.name,
        "seed": cfg.seed,
        "as_of": cfg.as_of.isoformat(),
        "province": cfg.province,
        "generator_version": GENERATOR_VERSION,
        "counts": counts,
        "truth": len(truth),
        "near_misses": len(near),
        "rates": cfg.rates,
        "key_units": {"units": len(carry.key_units), "ioc_campaigns": made.campaigns},
        "feeds": _feeds(made),
    }
    if shards > 1:
        manifest["shards"] = shards
    write_manifest(out / "manifest.json", manifest)
    return SynthResult(out, counts, len(truth), len(near), made.indicators)


def _feeds(made: KeyUnitResult) -> list[dict[str, object]]:
    """What to import besides the tables, for the key units' truth to hold."""
    return [
        {
            "path": FEED.as_posix() if made.indicators else None,  # none: fewer than 3 units
            "what": "STIX 2.1 bundle of the threat indicators planted in the key units' "
            "logs (威胁情报)",
            "objects": made.indicators,
            "import": f"longpan threat import-stix DIR/{FEED.as_posix()}",
            "truth": ["ioc_hit", "threat_warning"],
        },
        {
            "path": None,
            "what": "the real NVD sample and CISA KEV catalogue (漏洞库), not in DIR",
            "import": "longpan vuln import-nvd ../shared/data/nvd && longpan vuln import-kev "
            "../shared/data/kev/known_exploited_vulnerabilities.json",
            "truth": ["vulnerable_asset"],
        },
    ]
