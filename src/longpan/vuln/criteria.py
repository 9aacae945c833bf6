"""Does one NVD cpeMatch cover one software identity, and why: the reference rules.

The bulk matcher (``matching.py``) pre-selects candidates with the same rules as Ibis
expressions; every candidate is then judged here, which also writes the reason that
goes into the evidence. Version rules:

* ``*`` without bounds: every version (even an unknown one);
* ``-`` (NA): only an identity whose version is NA;
* a specific version: equal release numbers (``2.4.49`` = ``2.4.49-ubuntu``; the update
  attribute, ``p1`` or ``milestone10``, is matched separately);
* versionStart/End Including/Excluding: the identity's version must parse, be of the
  bounds' scheme, and lie in the range (pre-releases sort before the release,
  post-release updates such as ``p1`` rank as the release).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from longpan.vuln.cpe import (
    ANY,
    ATTRIBUTES,
    NA,
    PLAIN_ATTRIBUTES,
    attribute_matches,
    has_wildcards,
    parse_cpe,
)
from longpan.vuln.identities import Identity
from longpan.vuln.versions import parse_version

NVD_BOUND_NAMES = (
    ("version_start_including", "versionStartIncluding"),
    ("version_start_excluding", "versionStartExcluding"),
    ("version_end_including", "versionEndIncluding"),
    ("version_end_excluding", "versionEndExcluding"),
)
BOUND_SIGNS = {
    "version_start_including": "≥",
    "version_start_excluding": ">",
    "version_end_including": "≤",
    "version_end_excluding": "<",
}


def judge(row: Mapping[str, Any], ident: Identity) -> str | None:
    """The reason ``row`` (a cve_cpe_matches row) covers ``ident``, or None if it does not."""
    cpe = ident.cpe
    if (row["part"], row["vendor"], row["product"]) != (cpe.part, cpe.vendor, cpe.product):
        return None
    for name in PLAIN_ATTRIBUTES:
        if not attribute_matches(row[name], getattr(cpe, name)):
            return None
    reason = _version_reason(row, ident)
    if reason is None or row["update"] in (ANY, NA) or "update" in reason:
        return reason
    return f"{reason}, update {cpe.update}"


def _version_reason(row: Mapping[str, Any], ident: Identity) -> str | None:
    bounds = {k: row[k] for k in BOUND_SIGNS if row.get(k)}
    criteria_version = row["version"]
    if bounds:
        return _range_reason(criteria_version, bounds, ident) if criteria_version == ANY else None
    if criteria_version == ANY:
        return "all versions are affected"
    if criteria_version == NA:
        return "version not applicable (-) on both sides" if ident.cpe.version == NA else None
    return _exact_reason(criteria_version, ident)


def _exact_reason(criteria_version: str, ident: Identity) -> str | None:
    wanted = parse_version(criteria_version)
    if wanted is not None and ident.version is not None:
        if wanted.exact_key == ident.version.exact_key:
            return f"version {ident.cpe.version} = {criteria_version}"
        return None
    if has_wildcards(criteria_version):
        if attribute_matches(criteria_version, ident.cpe.version):
            return f"version {ident.cpe.version} matches {criteria_version}"
        return None
    if criteria_version == ident.cpe.version:
        return f"version {ident.cpe.version} = {criteria_version}"
    return None


def _range_reason(criteria_version: str, bounds: dict[str, str], ident: Identity) -> str | None:
    if ident.version is None:
        return None
    parts = []
    for name, text in bounds.items():
        bound = parse_version(text)
        if bound is None or bound.scheme != ident.version.scheme:
            return None
        mine, theirs = ident.version.range_key, bound.range_key
        ok = {
            "version_start_including": mine >= theirs,
            "version_start_excluding": mine > theirs,
            "version_end_including": mine <= theirs,
            "version_end_excluding": mine < theirs,
        }[name]
        if not ok:
            return None
        parts.append(f"{BOUND_SIGNS[name]} {text}")
    return f"version {_shown(ident)} is {' and '.join(parts)}"


def _shown(ident: Identity) -> str:
    cpe = ident.cpe
    return cpe.version if cpe.update in (ANY, NA) else f"{cpe.version} (update {cpe.update})"


def row_range(row: Mapping[str, Any]) -> dict[str, str]:
    """The bounds of a cpeMatch row in NVD's names, for evidence."""
    return {nvd: row[name] for name, nvd in NVD_BOUND_NAMES if row[name]}


_LONE_ANY = re.compile(r":\*(?=:|$)")


def needs_judgement(criteria: str) -> bool:
    """Whether a criteria has embedded wildcards, which only ``judge`` decides exactly
    (the engine's rules let every such candidate through)."""
    rest = _LONE_ANY.sub(":", criteria[8:])
    return "*" in rest or "?" in rest


def accepted_reason(row: Mapping[str, Any], ident: Identity) -> str:
    """The reason for a candidate the engine's rules accepted (no embedded wildcards):
    the text ``judge`` gives, without judging again."""
    bounds = {k: row[k] for k in BOUND_SIGNS if row.get(k)}
    if bounds:
        parts = " and ".join(f"{BOUND_SIGNS[k]} {v}" for k, v in bounds.items())
        reason = f"version {_shown(ident)} is {parts}"
    elif row["version"] == ANY:
        reason = "all versions are affected"
    elif row["version"] == NA:
        reason = "version not applicable (-) on both sides"
    else:
        reason = f"version {ident.cpe.version} = {row['version']}"
    if row["update"] in (ANY, NA) or "update" in reason:
        return reason
    return f"{reason}, update {ident.cpe.update}"


def full_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A candidate row with its criteria's attributes, as ``judge`` reads them."""
    cpe = parse_cpe(row["criteria"])
    return {**row, **{name: getattr(cpe, name) for name in ATTRIBUTES}}
