"""Synthetic internet-facing assets of key units (重点单位互联网资产), with ground truth.

Each key unit gets a few hosts — web servers, VPN gateways, mail, databases,
middleware — running products and versions as found on real networks, some outdated.
An outdated build is vulnerable to CVEs of the real NVD sample (../shared/data/nvd),
and its truth rows say which (``vulnerable_asset``, subject ``ip:port``, the CVE in the
note). Near misses are planted too: the build that fixed a CVE, OpenSSH 9.8p1 and
7.4p1 next to 8.9p1, Citrix firmware without its hardware, Redis on Debian (NVD's ``redis:-``).

``make_assets`` takes the units and their addresses; ``longpan synth`` gives each key
unit's hosts addresses of its own leased line (``synth/keyunits.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa

from longpan.store.datasets import ASSETS

CITRIX_FW = "cpe:2.3:o:citrix:application_delivery_controller_firmware:{v}:*:*:*:*:*:*:*"
CITRIX_HW = "cpe:2.3:h:citrix:application_delivery_controller:-:*:*:*:*:*:*:*"
EXCHANGE = "cpe:2.3:a:microsoft:exchange_server:2016:cumulative_update_{cu}:*:*:*:*:*:*"
UBUNTU = "cpe:2.3:o:canonical:ubuntu_linux:22.04:*:*:*:lts:*:*:*"
DEBIAN = "cpe:2.3:o:debian:debian_linux:11.0:*:*:*:*:*:*:*"


@dataclass(frozen=True)
class Build:
    """One product build: how a scanner reports it, and the CVEs it truly has."""

    product: str
    version: str | None
    cves: tuple[str, ...] = ()
    cpe: str | None = None
    os_cpe: str | None = None
    hw_cpe: str | None = None


@dataclass(frozen=True)
class Service:
    kind: str
    port: int
    outdated: tuple[Build, ...]
    current: tuple[Build, ...]


def _b(product: str, version: str | None, *cves: str, **cpes: str) -> Build:
    return Build(product, version, tuple(cves), **cpes)


CATALOGUE: tuple[Service, ...] = (
    Service(
        "web",
        443,
        (
            _b("Apache httpd", "2.4.49", "CVE-2021-41773"),
            _b("nginx", "1.4.0", "CVE-2013-2028"),
        ),
        (_b("Apache httpd", "2.4.51"), _b("nginx", "1.18.0"), _b("nginx", "1.24.0")),
    ),
    Service(
        "ssh",
        22,
        (_b("OpenSSH", "8.9p1", "CVE-2024-6387", os_cpe=UBUNTU),),
        (_b("OpenSSH", "9.8p1"), _b("OpenSSH", "7.4p1")),
    ),
    Service(
        "vpn",
        443,
        (
            _b(
                "Citrix ADC",
                None,
                "CVE-2019-19781",
                cpe=CITRIX_FW.format(v="12.0"),
                hw_cpe=CITRIX_HW,
            ),
            _b("Citrix ADC", "13.0-92.18", "CVE-2023-4966"),
            _b("FortiGate SSL VPN", "6.0.4", "CVE-2018-13379", "CVE-2024-21762"),
            _b("Ivanti Connect Secure", "9.1R11.3", "CVE-2023-46805"),
        ),
        (
            _b("Citrix ADC", None, cpe=CITRIX_FW.format(v="12.0")),  # no hardware known
            _b("Citrix ADC", "13.0-92.19"),
            _b("FortiGate SSL VPN", "7.4.3"),
        ),
    ),
    Service(
        "mail",
        443,
        (_b("Microsoft Exchange", None, "CVE-2021-26855", cpe=EXCHANGE.format(cu="12")),),
        (_b("Postfix smtpd", "3.6.4"),),
    ),
    Service(
        "database",
        9200,
        (_b("Elasticsearch", "1.4.2", "CVE-2015-1427"),),
        (_b("Elasticsearch", "7.17.18"), _b("Redis", "6.0.16", os_cpe=DEBIAN)),
    ),
    Service(
        "middleware",
        8080,
        (
            _b("Apache Tomcat", "9.0.98", "CVE-2025-24813"),
            _b("Oracle WebLogic Server", "12.2.1.3.0", "CVE-2020-14882"),
            _b("Apache Struts", "2.5.10", "CVE-2017-5638"),
            _b("Jenkins", "2.441", "CVE-2024-23897"),
            _b("GitLab Community Edition", "13.8.7", "CVE-2021-22205"),
            _b("Atlassian Confluence", "7.13.6", "CVE-2022-26134"),
            _b("Spring Cloud Function", "3.2.2", "CVE-2022-22963"),
        ),
        (
            _b("Apache Tomcat", "9.0.99"),
            _b("Jenkins", "2.442"),
            _b("GitLab Community Edition", "13.8.8"),
            _b("Apache Struts", "2.5.10.1"),
        ),
    ),
)
COLUMNS = ASSETS.exchange_columns
NEAR_MISS_KIND = "unaffected_build"  # looks vulnerable (same product, other build): is not


@dataclass
class SynthAssets:
    rows: list[dict[str, object]] = field(default_factory=list)
    truth: list[tuple[str, str, str]] = field(default_factory=list)  # type, subject, note
    near_misses: list[tuple[str, str, str]] = field(default_factory=list)  # subject, kind, note

    def table(self) -> pa.Table:
        """The rows as an ``assets`` table in the exchange format's columns."""
        columns = {c: [r[c] for r in self.rows] for c in COLUMNS}
        return pa.table(columns)


def make_assets(
    units: Sequence[str],
    addresses: Iterator[str] | Mapping[str, Iterator[str]],
    rng: np.random.Generator,
    observed_at: datetime,
    *,
    outdated_share: float = 0.3,
    services_per_unit: tuple[int, int] = (2, 5),
) -> SynthAssets:
    """Hosts for each unit (one address each, from ``addresses``, or from the unit's own
    iterator when it is a mapping), their truth.

    The first unit's first host is outdated and its second current, so that any
    province has at least one vulnerable asset and one near miss (as every rate does).
    """
    out = SynthAssets()
    for index, uscc in enumerate(units):
        hosts = addresses[uscc] if isinstance(addresses, Mapping) else addresses
        count = int(rng.integers(services_per_unit[0], services_per_unit[1] + 1))
        picks = rng.choice(len(CATALOGUE), size=min(count, len(CATALOGUE)), replace=False)
        for n, pick in enumerate(sorted(int(p) for p in picks)):
            service = CATALOGUE[pick]
            outdated = bool(rng.random() < outdated_share)
            if index == 0 and n < 2:
                outdated = n == 0
            builds = service.outdated if outdated else service.current
            build = builds[int(rng.integers(len(builds)))]
            _add(out, uscc, next(hosts), service, build, observed_at)
    return out


def _add(
    out: SynthAssets,
    uscc: str,
    ip: str,
    service: Service,
    build: Build,
    observed_at: datetime,
) -> None:
    out.rows.append(
        {
            "org_uscc": uscc,
            "ip": ip,
            "port": service.port,
            "protocol": "tcp",
            "product": build.product,
            "vendor": None,
            "version": build.version,
            "cpe": build.cpe,
            "os_cpe": build.os_cpe,
            "hw_cpe": build.hw_cpe,
            "hostname": None,
            "observed_at": observed_at,
        }
    )
    host = f"[{ip}]" if ":" in ip else ip
    subject = f"{host}:{service.port}"
    for cve in build.cves:
        out.truth.append(("vulnerable_asset", subject, f"{build.product} {cve}"))
    if not build.cves:
        label = build.version or (build.cpe or "")
        out.near_misses.append((subject, NEAR_MISS_KIND, f"{build.product} {label}"))
