"""Software identities: what an asset runs, as the CPE names NVD would use for it.

An asset row gives a ``cpe`` (from a scanner) or only ``product``/``vendor``/
``version`` (from a banner); both become one or more identities through the alias
table (nginx is both ``f5:nginx`` and ``nginx:nginx``). Assets are grouped by their
(product, vendor, version, cpe), so a province of 100k assets running a few thousand
distinct builds is matched a few thousand times, not 100k.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from longpan.core.errors import InputError
from longpan.vuln.aliases import resolve, siblings
from longpan.vuln.cpe import ANY, NA, Cpe, parse_cpe
from longpan.vuln.versions import Version, parse_version, split_banner_version, with_update

RawKey = tuple[str | None, str | None, str | None, str | None]  # product, vendor, version, cpe


@dataclass(frozen=True)
class Identity:
    cpe: Cpe
    version: Version | None  # None: ANY, NA or unparseable
    problem: str | None = None  # why the version cannot be compared, if so

    @property
    def scheme(self) -> str | None:
        return self.version.scheme if self.version else None


@lru_cache(maxsize=65536)
def identities(
    product: str | None, vendor: str | None, version: str | None, cpe: str | None
) -> tuple[Identity, ...]:
    """The identities of one asset description; () when the product is unknown."""
    if cpe:
        try:
            named = parse_cpe(cpe)
        except InputError:
            return ()
        if named.version == ANY and version:
            base, update, _ = split_banner_version(version)
            named = named.replace(version=base, update=update or named.update)
        elif named.version != NA and named.update == ANY:  # cpe:/a:openbsd:openssh:8.9p1
            base, update, _ = split_banner_version(named.version)
            named = named.replace(version=base, update=update) if update else named
        return tuple(_identity(c) for c in _with_siblings(named))
    targets = resolve(product, vendor)
    if not targets:
        return ()
    base, update, _ = split_banner_version(version) if version else (ANY, None, None)
    return tuple(_identity(t.cpe(base or ANY, update or ANY)) for t in targets)


def _identity(cpe: Cpe) -> Identity:
    if cpe.version == NA:
        return Identity(cpe, None)
    if cpe.version == ANY:
        return Identity(cpe, None, "version unknown")
    parsed = parse_version(cpe.version)
    if parsed is None:
        return Identity(cpe, None, f"version {cpe.version!r} cannot be compared")
    return Identity(cpe, with_update(parsed, cpe.update))


def _with_siblings(cpe: Cpe) -> list[Cpe]:
    """``cpe`` and the other CPE products its alias group lists (f5:nginx → nginx:nginx)."""
    found = [cpe]
    for part, vendor, product in sorted(siblings(cpe.part, cpe.vendor, cpe.product)):
        sibling = cpe.replace(part=part, vendor=vendor, product=product)
        if sibling not in found:
            found.append(sibling)
    return found


@lru_cache(maxsize=65536)
def platform_cpes(os_cpe: str | None, hw_cpe: str | None) -> tuple[Identity, ...]:
    """The asset's operating system / firmware and hardware, for AND configurations."""
    found = []
    for text in (os_cpe, hw_cpe):
        if not text:
            continue
        try:
            found.append(_identity(parse_cpe(text)))
        except InputError:
            continue
    return tuple(found)
