"""NVD CVE API 2.0 JSON: single ``cve`` records, API response pages, folders of either.

A record's configurations are kept whole: each configuration (operator AND/OR, negate)
holds nodes (operator, negate) of cpeMatch entries (criteria, vulnerable,
versionStart/End Including/Excluding). Scores: CVSS v3.1, v4.0, v3.0 and v2 base
scores, vectors and severities, the NVD's own (``Primary``) metric preferred.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from longpan.core.errors import InputError
from longpan.vuln.cpe import parse_cpe

CVSS_KEYS = {
    "cvss31": "cvssMetricV31",
    "cvss40": "cvssMetricV40",
    "cvss30": "cvssMetricV30",
    "cvss2": "cvssMetricV2",
}
BOUNDS = (
    "versionStartIncluding",
    "versionStartExcluding",
    "versionEndIncluding",
    "versionEndExcluding",
)


@dataclass(frozen=True)
class CpeMatch:
    criteria: str
    vulnerable: bool
    bounds: dict[str, str] = field(default_factory=dict)  # NVD bound name → version
    match_criteria_id: str | None = None


@dataclass(frozen=True)
class Node:
    operator: str
    negate: bool
    matches: tuple[CpeMatch, ...]


@dataclass(frozen=True)
class Configuration:
    operator: str | None
    negate: bool
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Score:
    score: float
    vector: str
    severity: str | None


@dataclass(frozen=True)
class CveRecord:
    cve_id: str
    published: datetime
    last_modified: datetime
    status: str | None
    description: str | None
    scores: dict[str, Score]  # cvss31, cvss40, cvss30, cvss2
    cwes: tuple[str, ...]
    configurations: tuple[Configuration, ...]
    source: str


def iter_records(paths: list[Path]) -> Iterator[CveRecord]:
    """Every CVE record in ``paths`` (files or folders of *.json, searched recursively)."""
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not files:
                raise InputError(f"no .json files in folder {path}", file=str(path))
            for file in files:
                yield from read_file(file)
        elif path.is_file():
            yield from read_file(path)
        else:
            raise InputError(f"no such file or folder: {path}", file=str(path))


def read_file(path: Path) -> Iterator[CveRecord]:
    """The records of one file: a bare ``cve`` object, or a page with ``vulnerabilities``."""
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"not valid JSON: {exc}", file=str(path), line=line) from None
    if isinstance(data, dict) and isinstance(data.get("vulnerabilities"), list):
        for index, item in enumerate(data["vulnerabilities"]):
            where = f"vulnerabilities[{index}].cve"
            if not isinstance(item, dict) or not isinstance(item.get("cve"), dict):
                raise InputError(
                    "expected an object with a 'cve' member", file=str(path), column=where
                )
            yield parse_record(item["cve"], str(path), where)
    elif _is_cve(data):
        yield parse_record(data, str(path), "cve")
    else:
        raise InputError(
            "neither an NVD CVE record (with 'id') nor an API 2.0 page (with 'vulnerabilities')",
            file=str(path),
        )


def _is_cve(data: Any) -> bool:
    return isinstance(data, dict) and str(data.get("id", "")).startswith("CVE-")


def parse_record(data: dict[str, Any], source: str, where: str = "cve") -> CveRecord:
    """One ``cve`` object; InputError naming the file and the JSON field when malformed."""
    cve_id = _required(data, "id", source, where)
    if not cve_id.startswith("CVE-"):
        raise InputError(f"id {cve_id!r} is not a CVE id", file=source, column=f"{where}.id")
    configs = tuple(
        _configuration(c, source, f"{where}.configurations[{i}]")
        for i, c in enumerate(data.get("configurations") or [])
    )
    return CveRecord(
        cve_id=cve_id,
        published=_timestamp(data, "published", source, where),
        last_modified=_timestamp(data, "lastModified", source, where),
        status=data.get("vulnStatus"),
        description=_english(data.get("descriptions") or []),
        scores=_scores(data.get("metrics") or {}),
        cwes=_cwes(data.get("weaknesses") or []),
        configurations=configs,
        source=source,
    )


def _required(data: dict[str, Any], key: str, source: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"missing or empty {key!r}", file=source, column=f"{where}.{key}")
    return value


def _timestamp(data: dict[str, Any], key: str, source: str, where: str) -> datetime:
    text = _required(data, key, source, where)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{text!r} is not an ISO timestamp", file=source, column=f"{where}.{key}"
        ) from None
    return value.replace(tzinfo=None)  # NVD times are UTC


def _configuration(data: dict[str, Any], source: str, where: str) -> Configuration:
    nodes = tuple(
        _node(n, source, f"{where}.nodes[{i}]") for i, n in enumerate(data.get("nodes") or [])
    )
    if not nodes:
        raise InputError("configuration without nodes", file=source, column=where)
    return Configuration(data.get("operator"), bool(data.get("negate", False)), nodes)


def _node(data: dict[str, Any], source: str, where: str) -> Node:
    operator = data.get("operator", "OR")
    if operator not in ("AND", "OR"):
        raise InputError(f"operator {operator!r} is not AND or OR", file=source, column=where)
    matches = tuple(
        _match(m, source, f"{where}.cpeMatch[{i}]")
        for i, m in enumerate(data.get("cpeMatch") or [])
    )
    return Node(operator, bool(data.get("negate", False)), matches)


def _match(data: dict[str, Any], source: str, where: str) -> CpeMatch:
    criteria = _required(data, "criteria", source, where)
    try:
        parse_cpe(criteria)
    except InputError as exc:
        raise InputError(str(exc), file=source, column=f"{where}.criteria") from None
    bounds = {b: str(data[b]) for b in BOUNDS if data.get(b) not in (None, "")}
    return CpeMatch(
        criteria.lower(), bool(data.get("vulnerable", False)), bounds, data.get("matchCriteriaId")
    )


def _english(descriptions: list[dict[str, Any]]) -> str | None:
    for item in descriptions:
        if item.get("lang") == "en":
            return str(item.get("value"))
    return str(descriptions[0].get("value")) if descriptions else None


def _scores(metrics: dict[str, Any]) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for name, key in CVSS_KEYS.items():
        entries = metrics.get(key) or []
        if not entries:
            continue
        chosen = next((e for e in entries if e.get("type") == "Primary"), entries[0])
        data = chosen.get("cvssData") or {}
        if "baseScore" not in data:
            continue
        severity = data.get("baseSeverity") or chosen.get("baseSeverity")
        scores[name] = Score(float(data["baseScore"]), str(data.get("vectorString", "")), severity)
    return scores


def _cwes(weaknesses: list[dict[str, Any]]) -> tuple[str, ...]:
    found = {
        str(d.get("value"))
        for w in weaknesses
        for d in w.get("description") or []
        if str(d.get("value", "")).startswith("CWE-")
    }
    return tuple(sorted(found))
