"""CPE 2.3 formatted strings and the name matching NVD configurations need (NIST IR 7695,
7696).

A formatted string is ``cpe:2.3:part:vendor:product:version:update:edition:language:
sw_edition:target_sw:target_hw:other``. ``*`` is ANY, ``-`` is NA (not applicable); a
backslash quotes a special character (``node\\.js``). Values are kept in their
formatted (quoted, lowercase) form, which is how NVD writes criteria, so two names
compare by plain string equality.

Attribute matching (criteria = the NVD source name, asset = the target):

* criteria ANY matches everything;
* criteria NA matches an asset value NA, and an asset value ANY: an inventory that says
  nothing about the edition or update of a product is taken to run the plain one (a
  departure from IR 7696, where that relation is SUBSET and would never match);
* criteria with embedded unquoted ``*``/``?`` matches by wildcard;
* otherwise the values must be equal. An asset ANY never matches a specific criteria
  value (``fips``, ``lts``, ``cumulative_update_21``): no claim without evidence.

The version attribute is compared by ``criteria.py`` (ranges, schemes), not here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from longpan.core.errors import InputError

ANY = "*"
NA = "-"
PARTS = ("a", "o", "h")
ATTRIBUTES = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
# Attributes compared by the ANY/NA/equality rules (version has its own rules).
PLAIN_ATTRIBUTES = ATTRIBUTES[4:]
_SPLIT = re.compile(r"(?<!\\):")
_VALUE_RE = r"(?:\*|-|[?*]*(?:\\.|[a-z0-9._\-])+[?*]*)"
_VALUE = re.compile(f"^{_VALUE_RE}$")
_NAME = re.compile(f"{_VALUE_RE}(?::{_VALUE_RE}){{10}}")


@dataclass(frozen=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def __str__(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The formatted string (computed once: evidence names it for every hit)."""
        return "cpe:2.3:" + ":".join(getattr(self, a) for a in ATTRIBUTES)

    def replace(self, **values: str) -> Cpe:
        return dataclasses.replace(self, **values)


def parse_cpe(text: str, *, where: str = "cpe") -> Cpe:
    """Parse a CPE 2.3 formatted string; InputError naming ``where`` when malformed."""
    return _parse_cached(text.strip(), where)


@lru_cache(maxsize=65536)
def _parse_cached(text: str, where: str) -> Cpe:
    if not text.lower().startswith("cpe:2.3:"):
        raise InputError(f"{where}: {text!r} is not a CPE 2.3 name (must start cpe:2.3:)")
    values = _SPLIT.split(text[8:])
    if len(values) != len(ATTRIBUTES):
        raise InputError(
            f"{where}: {text!r} has {len(values)} components after cpe:2.3:, "
            f"expected {len(ATTRIBUTES)}"
        )
    values = [v.lower() for v in values]
    if not _NAME.fullmatch(":".join(values)):  # one regex for the common, valid case
        for name, value in zip(ATTRIBUTES, values, strict=True):
            if not value or not _VALUE.match(value):
                raise InputError(f"{where}: {text!r} has a malformed {name} value {value!r}")
    if values[0] not in (*PARTS, ANY):
        raise InputError(f"{where}: {text!r} part must be a, o or h, not {values[0]!r}")
    return Cpe(*values)


def unquote(value: str) -> str:
    """A formatted value without its backslash quoting (for display)."""
    return re.sub(r"\\(.)", r"\1", value)


def quote(text: str) -> str:
    """Free text (a product name, a version) as a formatted CPE value."""
    cleaned = text.strip().lower().replace(" ", "_")
    return re.sub(r"([^a-z0-9_.\-])", r"\\\1", cleaned) if cleaned else ANY


def has_wildcards(value: str) -> bool:
    return value not in (ANY, NA) and bool(re.search(r"(?<!\\)[*?]", value))


def attribute_matches(criteria: str, asset: str) -> bool:
    """Whether an asset's attribute value is within the criteria's (rules above)."""
    if criteria in (ANY, asset):
        return True
    if criteria == NA:
        return asset == ANY
    if asset in (ANY, NA):
        return False
    if has_wildcards(criteria):
        return _wildcard(criteria).fullmatch(asset) is not None
    return False


@lru_cache(maxsize=4096)
def _wildcard(criteria: str) -> re.Pattern[str]:
    out = []
    for token in re.findall(r"\\.|.", criteria):
        out.append({"*": ".*", "?": "."}.get(token, re.escape(token)))
    return re.compile("".join(out))


def plain_attributes_match(criteria: Cpe, asset: Cpe) -> bool:
    """Part, vendor, product equal; every attribute but version matching."""
    if (criteria.part, criteria.vendor, criteria.product) != (
        asset.part,
        asset.vendor,
        asset.product,
    ):
        return False
    return all(attribute_matches(getattr(criteria, a), getattr(asset, a)) for a in PLAIN_ATTRIBUTES)
