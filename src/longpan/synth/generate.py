"""``longpan synth``: generate a synthetic province with its ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from longpan.synth.lookalikes import lookalikes
from longpan.synth.model import GENERATOR_VERSION, SynthConfig
from longpan.synth.near_misses import near_misses
from longpan.synth.network import make_network
from longpan.synth.output import write_manifest, write_rows, write_table
from longpan.synth.services import make_services
from longpan.synth.subjects import make_subjects
from longpan.synth.universe import make_universe

Progress = Callable[[str], None]
STEPS = ("subjects", "network", "services", "observations", "irregularities", "write")


@dataclass(frozen=True)
class SynthResult:
    folder: Path
    counts: dict[str, int]
    truth: int
    near_misses: int


def build(cfg: SynthConfig, progress: Progress | None = None) -> Province:
    """Generate the province in memory (everything but background DNS)."""
    step = progress or (lambda _name: None)
    rng = np.random.default_rng(cfg.seed)
    step("subjects")
    subjects = make_subjects(cfg, rng)
    step("network")
    net = make_network(cfg, subjects, rng)
    step("services")
    services = make_services(cfg, subjects, net, rng)
    step("observations")
    province = Province(
        cfg, subjects, net, services, make_universe(cfg, subjects, services, rng), rng
    )
    step("irregularities")
    for inject in (
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
    ):
        inject(province)
    return province


def generate(cfg: SynthConfig, out: Path, progress: Progress | None = None) -> SynthResult:
    """Generate and write the province to ``out`` (which must be empty or new)."""
    if out.exists() and any(out.iterdir()):
        raise InputError(f"output folder {out} is not empty; choose a new one", file=str(out))
    province = build(cfg, progress)
    if progress:
        progress("write")
    out.mkdir(parents=True, exist_ok=True)
    counts = _write_tables(province, out)
    truth = sorted({(t, canonical_subject(s), note) for t, s, note in province.truth})
    write_rows(out / "truth.csv", ["finding_type", "subject", "note"], truth)
    near = sorted(province.near_misses)
    write_rows(out / "near_misses.csv", ["subject", "kind", "note"], near)
    write_manifest(
        out / "manifest.json",
        {
            "scale": cfg.scale.name,
            "seed": cfg.seed,
            "as_of": cfg.as_of.isoformat(),
            "province": cfg.province,
            "generator_version": GENERATOR_VERSION,
            "counts": counts,
            "truth": len(truth),
            "near_misses": len(near),
            "rates": cfg.rates,
        },
    )
    return SynthResult(out, counts, len(truth), len(near))


def _write_tables(p: Province, out: Path) -> dict[str, int]:
    parquet = p.cfg.scale.parquet
    tables = {
        "organisations": [obs.organisations(p)],
        "entities": [obs.entities(p)],
        "icp_subjects": [obs.icp_subjects(p)],
        "icp_services": [obs.icp_services(p)],
        "registrars": [obs.registrars()],
        "domain_registrations": [obs.domain_registrations(p)],
        "ip_filings": [obs.ip_filings(p)],
        "web_crawls": [obs.web_crawls(p)],
    }
    counts = {name: write_table(out, name, parts, parquet) for name, parts in tables.items()}
    counts["dns_observations"] = write_table(
        out, "dns_observations", obs.dns_observations(p), parquet
    )
    return dict(sorted(counts.items()))
