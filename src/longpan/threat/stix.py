"""Reading STIX 2.1 content: bundles (files, folders, TAXII envelopes) → indicator versions.

Only ``indicator`` objects are kept; every other object (malware, relationships,
ATT&CK techniques…) is counted and skipped. Each indicator version is checked at the
edge (id, modified, valid_from, pattern) with a message naming the file, the line of
the object's id and the field; its pattern is reduced to matchable observables by
``patterns.parse_pattern``. Patterns of another language (``pattern_type`` snort, yara,
sigma…) are kept as unsupported, never guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from longpan.core.errors import InputError
from longpan.threat.patterns import Observable, parse_pattern


@dataclass(frozen=True)
class IndicatorVersion:
    """One version (id + modified) of a STIX indicator, reduced to what Longpan matches."""

    id: str
    modified: datetime
    revoked: bool
    valid_from: datetime
    valid_until: datetime | None
    name: str | None
    pattern: str
    observables: tuple[Observable, ...]
    unsupported: tuple[str, ...]
    labels: tuple[str, ...] = ()
    confidence: int | None = None
    kill_chain: tuple[str, ...] = ()
    source: str = ""

    def is_valid_at(self, moment: datetime) -> bool:
        until = self.valid_until
        return self.valid_from <= moment and (until is None or moment < until)


@dataclass
class Content:
    """What a set of files held: indicator versions and how many other objects."""

    indicators: list[IndicatorVersion] = field(default_factory=list)
    other_objects: int = 0
    files: list[str] = field(default_factory=list)


def read_paths(paths: Iterable[Path]) -> Content:
    """Every STIX JSON file given (folders: their ``*.json`` files, recursively)."""
    content = Content()
    for path in _files(paths):
        text = _read_text(path)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno, column=str(exc.colno)
            ) from None
        read_objects(objects_of(document, str(path)), content, str(path), text)
        content.files.append(str(path))
    return content


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise InputError(f"no such file or folder: {path}", file=str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 at byte {exc.start}", file=str(path)) from None


def objects_of(document: Any, source: str) -> list[Any]:
    """The objects of a bundle, a TAXII envelope, a list, or one object."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("objects"), list):
        return list(document["objects"])
    if isinstance(document, dict) and "type" in document:
        return [document]
    raise InputError(
        "expected a STIX bundle, a TAXII envelope or a STIX object", file=source, line=1
    )


def read_objects(
    objects: Iterable[Any], content: Content, source: str, text: str | None = None
) -> None:
    """Add the indicators of ``objects`` to ``content`` (``text`` locates errors)."""
    for index, obj in enumerate(objects, start=1):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise InputError(f"object {index} is not a STIX object (no 'type')", file=source)
        if obj["type"] != "indicator":
            content.other_objects += 1
            continue
        content.indicators.append(indicator_version(obj, source, _line_of(text, obj)))


def _line_of(text: str | None, obj: Mapping[str, Any]) -> int | None:
    where = text.find(f'"{obj.get("id")}"') if text else -1
    return text.count("\n", 0, where) + 1 if text and where >= 0 else None


def indicator_version(obj: Mapping[str, Any], source: str, line: int | None) -> IndicatorVersion:
    """Check one indicator object; InputError naming the file, line and field."""

    def fail(column: str, reason: str) -> InputError:
        shown = obj.get("id", "indicator")
        return InputError(f"{shown}: {reason}", file=source, line=line, column=column)

    ident = obj.get("id")
    if not isinstance(ident, str) or not ident.startswith("indicator--"):
        raise fail("id", "an indicator id looks like indicator--<uuid>")
    pattern = obj.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise fail("pattern", "a pattern is required")
    modified = _timestamp(obj, "modified", fail, default=obj.get("created"))
    valid_from = _timestamp(obj, "valid_from", fail, default=obj.get("created"))
    valid_until = _timestamp(obj, "valid_until", fail, required=False)
    if valid_until is not None and valid_until <= valid_from:
        raise fail("valid_until", "valid_until must be later than valid_from")
    observables, unsupported = _observables(obj, pattern, fail)
    return IndicatorVersion(
        id=ident,
        modified=modified,
        revoked=obj.get("revoked") is True,
        valid_from=valid_from,
        valid_until=valid_until,
        name=obj.get("name") if isinstance(obj.get("name"), str) else None,
        pattern=pattern,
        observables=tuple(observables),
        unsupported=tuple(unsupported),
        labels=_strings(obj.get("labels")) + _strings(obj.get("indicator_types")),
        confidence=_confidence(obj, fail),
        kill_chain=_kill_chain(obj.get("kill_chain_phases")),
        source=source,
    )


def _observables(obj: Mapping[str, Any], pattern: str, fail: Any) -> tuple[list[Any], list[str]]:
    pattern_type = obj.get("pattern_type", "stix")  # STIX 2.0 had only STIX patterns
    if pattern_type != "stix":
        return [], [f"pattern_type {pattern_type!r}: only STIX patterns are matched"]
    try:
        parsed = parse_pattern(pattern)
    except ValueError as exc:
        raise fail("pattern", str(exc)) from None
    return parsed.observables, parsed.unsupported


def _timestamp(
    obj: Mapping[str, Any], name: str, fail: Any, *, default: Any = None, required: bool = True
) -> Any:
    raw = obj.get(name, default)
    if raw is None:
        if required:
            raise fail(name, f"{name} is required")
        return None
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise fail(name, f"{raw!r} is not a STIX timestamp (e.g. 2024-05-01T00:00:00Z)") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _confidence(obj: Mapping[str, Any], fail: Any) -> int | None:
    value = obj.get("confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise fail("confidence", "confidence is an integer from 0 to 100")
    return value


def _kill_chain(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        f"{p.get('kill_chain_name')}:{p.get('phase_name')}" for p in value if isinstance(p, dict)
    )
